//! Administration (`/admin`, administrators only): the accounts with what they hold, with
//! deactivate, reactivate and delete; invite codes (made, listed, revoked; a new code is shown
//! once); and the latest events of the audit log.
//!
//! The server decides who is an administrator and refuses everyone else; this page only hides
//! itself from them.

use crate::browser::{api, UiError};
use crate::components::{utc_time, ErrorBanner};
use crate::pages::SignedIn;
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use model::wire::{AdminUser, AuditEvent, InviteInfo, InviteInput};
use uuid::Uuid;

/// How many audit events the page shows.
const AUDIT_EVENTS: u32 = 100;

#[component]
pub fn AdminPage() -> impl IntoView {
    let workspace = Workspace::expect();
    view! {
        <Title text="Administration"/>
        <SignedIn>
            {move || if workspace.user.get().is_some_and(|u| u.is_admin) {
                view! {
                    <Users/>
                    <Invites/>
                    <Audit/>
                }.into_any()
            } else {
                view! { <div class="card"><p>"Only an administrator may see this page."</p></div> }.into_any()
            }}
        </SignedIn>
    }
}

#[component]
fn Users() -> impl IntoView {
    let workspace = Workspace::expect();
    let users = RwSignal::new(Vec::<AdminUser>::new());
    let error = RwSignal::new(None::<UiError>);
    let reload = move || {
        spawn_local(async move {
            match api::admin_users().await {
                Ok(list) => {
                    users.try_set(list);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    Effect::new(move |_| reload());
    let done = move |result: Result<(), UiError>| match result {
        Ok(()) => {
            error.try_set(None);
            reload();
        }
        Err(e) => {
            error.try_set(Some(e));
        }
    };
    let set_active = move |id: Uuid, action: &'static str| {
        spawn_local(async move { done(api::admin_set_active(id, action).await) })
    };
    let delete = move |id: Uuid, name: String| {
        let sure = window()
            .confirm_with_message(&format!(
                "Delete the account {name} and everything it holds? This cannot be undone."
            ))
            .unwrap_or(false);
        if sure {
            spawn_local(async move { done(api::admin_delete_user(id).await) })
        }
    };
    let me = move || workspace.user.get().map(|u| u.id);
    view! {
        <section class="card">
            <h1>"Accounts"</h1>
            <table class="grid" data-testid="admin-users">
                <thead><tr>
                    <th>"Username"</th><th>"Role"</th><th>"Created"</th><th>"Last sign-in"</th><th>"Status"</th>
                    <th>"Domains"</th><th>"Drafts"</th><th>"Providers"</th><th>"Tokens"</th><th>"Sessions"</th><th></th>
                </tr></thead>
                <tbody>
                    {move || users.get().into_iter().map(|u| {
                        let id = u.id;
                        let name = u.username.clone();
                        let active = u.deactivated_at.is_none();
                        let mine = me() == Some(id);
                        view! {
                            <tr>
                                <td>{u.username}</td>
                                <td>{if u.is_admin { "administrator" } else { "user" }}</td>
                                <td>{utc_time(u.created_at)}</td>
                                <td>{u.last_sign_in_at.map_or_else(|| "never".to_string(), utc_time)}</td>
                                <td>{u.deactivated_at.map_or_else(|| "active".to_string(), |at| format!("deactivated {}", utc_time(at)))}</td>
                                <td>{u.domains}</td><td>{u.drafts}</td><td>{u.providers}</td><td>{u.tokens}</td><td>{u.sessions}</td>
                                <td class="actions">
                                    {(!mine).then(|| view! {
                                        {if active {
                                            view! { <button class="link" on:click=move |_| set_active(id, "deactivate")>"Deactivate"</button> }.into_any()
                                        } else {
                                            view! { <button class="link" on:click=move |_| set_active(id, "reactivate")>"Reactivate"</button> }.into_any()
                                        }}
                                        " "
                                        <button class="link danger" on:click=move |_| delete(id, name.clone())>"Delete"</button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <ErrorBanner error=error/>
        </section>
    }
}

#[component]
fn Invites() -> impl IntoView {
    let invites = RwSignal::new(Vec::<InviteInfo>::new());
    let error = RwSignal::new(None::<UiError>);
    let days = RwSignal::new(String::new());
    let fresh = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match api::admin_invites().await {
                Ok(list) => {
                    invites.try_set(list);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    Effect::new(move |_| reload());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = InviteInput {
            expires_in_days: days.get().trim().parse::<u32>().ok(),
        };
        spawn_local(async move {
            match api::admin_create_invite(&input).await {
                Ok(created) => {
                    error.try_set(None);
                    fresh.try_set(Some(created.code));
                    days.try_set(String::new());
                    reload();
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let revoke = move |id| {
        spawn_local(async move {
            match api::admin_revoke_invite(id).await {
                Ok(()) => reload(),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    view! {
        <section class="card">
            <h2>"Invite codes"</h2>
            <p class="muted">"Needed to register when the server runs with DM_REGISTRATION=invite. Each code registers one account."</p>
            {move || fresh.get().map(|code| view! {
                <p class="notice" data-testid="new-invite">"Copy this code now, it is not shown again: "<code class="mono">{code}</code></p>
            })}
            <table class="grid" data-testid="invites">
                <thead><tr><th>"Made by"</th><th>"Created"</th><th>"Expires"</th><th>"Used"</th><th></th></tr></thead>
                <tbody>
                    {move || invites.get().into_iter().map(|i| {
                        let id = i.id;
                        let used = i.used_at.map(|at| format!("{} by {}", utc_time(at), i.used_by.clone().unwrap_or_else(|| "a deleted account".into())));
                        view! {
                            <tr>
                                <td>{i.created_by}</td>
                                <td>{utc_time(i.created_at)}</td>
                                <td>{i.expires_at.map_or_else(|| "never".to_string(), utc_time)}</td>
                                <td>{used.unwrap_or_else(|| "not yet".to_string())}</td>
                                <td><button class="link danger" on:click=move |_| revoke(id)>"Revoke"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <form class="inline-form" on:submit=create>
                <label>"Days (empty: no expiry)" <input name="invite-days" type="number" min="1" max="365" bind:value=days/></label>
                <button type="submit" class="primary">"Make invite code"</button>
            </form>
            <ErrorBanner error=error/>
        </section>
    }
}

#[component]
fn Audit() -> impl IntoView {
    let events = RwSignal::new(Vec::<AuditEvent>::new());
    let error = RwSignal::new(None::<UiError>);
    let reload = move || {
        spawn_local(async move {
            match api::admin_audit(AUDIT_EVENTS).await {
                Ok(page) => {
                    events.try_set(page.events);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    Effect::new(move |_| reload());
    view! {
        <section class="card">
            <h2>"Audit log"</h2>
            <p class="muted">{format!("The latest {AUDIT_EVENTS} security events, newest first.")}</p>
            <button class="link" on:click=move |_| reload()>"Refresh"</button>
            <table class="grid" data-testid="audit">
                <thead><tr><th>"When"</th><th>"Event"</th><th>"Who"</th><th>"On"</th><th>"From"</th></tr></thead>
                <tbody>
                    {move || events.get().into_iter().map(|e| view! {
                        <tr>
                            <td>{utc_time(e.at)}</td>
                            <td class="mono">{e.event}</td>
                            <td>{e.actor}</td>
                            <td>{e.target.unwrap_or_default()}</td>
                            <td class="mono">{e.ip.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <ErrorBanner error=error/>
        </section>
    }
}
