//! Settings: the LLM providers the user drafts with (OpenAI, OpenRouter, Anthropic or any
//! OpenAI-compatible server), API tokens for programs, the signed-in sessions, the account
//! itself (change the password, delete the account), the shared links to drafts, and this
//! browser's copy of the work (sign out and remove it, on a shared computer).
//!
//! Provider keys go to the server's vault once and come back only masked. An API token's
//! secret is shown once, right after it is created.

use crate::browser::{self, api, storage, UiError};
use crate::components::share::{LinkFilter, SharedLinks};
use crate::components::{
    human_bytes, reload_when_reachable, server_read_failed, utc_time, ConfirmAction, ErrorBanner,
    NeedsServer,
};
use crate::pages::SignedIn;
use crate::state::{ProviderList, Workspace};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use model::wire::{
    PasswordChange, PasswordConfirmation, ProviderInfo, ProviderInput, ProviderKind, ProviderTest,
    SessionInfo, TokenInfo, TokenInput,
};
use std::collections::HashMap;
use uuid::Uuid;

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings"/>
        <SignedIn>
            <Providers/>
            <div class="columns">
                <Tokens/>
                <Sessions/>
            </div>
            <section class="card" data-testid="settings-shares">
                <h2>"Shared links"</h2>
                <p class="muted">"Read-only links to your drafts and reviews, made from a draft's Share button. A link opens without an account until it expires or you revoke it; revoking is immediate."</p>
                <SharedLinks filter=LinkFilter::All/>
            </section>
            <Account/>
            <ThisBrowser/>
        </SignedIn>
    }
}

/// What to show in the model field for a kind.
fn model_placeholder(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::OpenAi => "gpt-4o-mini",
        ProviderKind::OpenRouter => "openai/gpt-4o-mini",
        ProviderKind::Anthropic => "claude-sonnet-4-5",
        ProviderKind::Compatible => "llama3.1",
    }
}

#[component]
fn Providers() -> impl IntoView {
    let providers = RwSignal::new(Vec::<ProviderInfo>::new());
    let tests = RwSignal::new(HashMap::<Uuid, Result<ProviderTest, UiError>>::new());
    let testing = RwSignal::new(None::<Uuid>);
    let error = RwSignal::new(None::<UiError>);
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(ProviderKind::OpenAi);
    let base_url = RwSignal::new(String::new());
    let model = RwSignal::new(String::new());
    let api_key = RwSignal::new(String::new());
    // Empty: the server's default (DM_UPSTREAM_RETRIES).
    let retries = RwSignal::new(String::new());
    let busy = RwSignal::new(false);

    let unreachable = RwSignal::new(false);
    let workspace = Workspace::expect();
    let reload = move || {
        let Some(user) = workspace.user.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match crate::state::providers(user.id).await {
                Ok(ProviderList::Live(list)) => {
                    unreachable.try_set(false);
                    providers.try_set(list);
                }
                // Offline, the list kept at the last visit stands in.
                Ok(ProviderList::Kept(list)) => {
                    unreachable.try_set(true);
                    providers.try_set(list);
                }
                Err(e) => server_read_failed(e, unreachable, error),
            }
        })
    };
    Effect::new(move |_| reload());
    reload_when_reachable(unreachable, reload);

    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = ProviderInput {
            name: name.get(),
            kind: kind.get(),
            base_url: base_url.get(),
            model: model.get(),
            api_key: api_key.get(),
            // Anything but a whole number is the server's to refuse, with the field named.
            retries: match retries.get().trim() {
                "" => None,
                text => Some(text.parse::<u32>().unwrap_or(u32::MAX)),
            },
        };
        busy.try_set(true);
        spawn_local(async move {
            let result = api::add_provider(&input).await;
            busy.try_set(false);
            match result {
                Ok(_) => {
                    error.try_set(None);
                    for field in [name, base_url, model, api_key, retries] {
                        field.try_set(String::new());
                    }
                    reload();
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let remove = move |id| {
        spawn_local(async move {
            match api::delete_provider(id).await {
                Ok(()) => reload(),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    let test = move |id: Uuid| {
        testing.try_set(Some(id));
        spawn_local(async move {
            let result = api::test_provider(id).await;
            testing.try_set(None);
            tests.try_update(|t| t.insert(id, result));
        })
    };
    let base_placeholder = move || {
        kind.get()
            .default_base_url()
            .map_or("http://localhost:11434/v1", |url| url)
    };

    view! {
        <div class="columns">
            <section class="card grow">
                <h1>"LLM providers"</h1>
                <p class="muted">"OpenAI, OpenRouter, Anthropic, or any OpenAI-compatible server (a local Ollama, vLLM or llama.cpp). Keys are encrypted on the server and never sent back."</p>
                <table class="grid" data-testid="providers">
                    <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Base URL"</th><th>"Model"</th><th>"Key"</th><th>"Retries"</th><th></th></tr></thead>
                    <tbody>
                        {move || providers.get().into_iter().map(|p| {
                            let id = p.id;
                            let asking = RwSignal::new(false);
                            let result = move || tests.with(|t| t.get(&id).cloned()).map(|result| match result {
                                Ok(t) if t.ok => view! {
                                    <span class=if t.model_listed == Some(false) { "chip chip-changed" } else { "chip chip-added" } data-testid="test-result">
                                        {format!("{} · {} ms", t.message, t.latency_ms)}
                                    </span>
                                }.into_any(),
                                Ok(t) => view! {
                                    <span class="chip chip-removed" data-testid="test-result">
                                        {format!("{}: {}", t.code.unwrap_or_default(), t.message)}
                                    </span>
                                }.into_any(),
                                Err(e) => view! { <span class="chip chip-removed" data-testid="test-result">{e.to_string()}</span> }.into_any(),
                            });
                            view! {
                                <tr>
                                    <td>
                                        {p.name}
                                        <span class="endpoint mono" data-testid="provider-endpoint" title="The base URL programs use for this provider, with an API token as the key">
                                            {format!("/api/v1/llm/{id}")}
                                        </span>
                                    </td>
                                    <td>{p.kind.label()}</td>
                                    <td class="mono">{p.base_url}</td>
                                    <td class="mono">{p.model}</td>
                                    <td class="mono" data-testid="key-masked">{p.key_masked}</td>
                                    <td>{p.retries.map_or_else(|| "default".to_string(), |n| n.to_string())}</td>
                                    <td class="actions">
                                        <button class="link" data-testid="test-provider" disabled=move || testing.get() == Some(id) on:click=move |_| test(id)>
                                            {move || if testing.get() == Some(id) { "Testing…" } else { "Test" }}
                                        </button>
                                        " "
                                        <ConfirmAction id="delete-provider" label="Delete"
                                            question="Delete this provider and its key?" yes="Delete"
                                            asking on_confirm=Callback::new(move |()| remove(id))/>
                                    </td>
                                </tr>
                                {move || result().map(|r| view! { <tr class="sub"><td colspan="7">{r}</td></tr> })}
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <NeedsServer when=unreachable text="The server cannot be reached: these are your providers as of your last visit. Adding, testing and deleting them need the server."/>
                {move || (providers.get().is_empty() && !unreachable.get()).then(|| view! { <p class="muted">"No provider yet: add one to generate drafts."</p> })}
            </section>
            <section class="card side">
                <h2>"Add a provider"</h2>
                <form class="form" on:submit=add>
                    <label>"Name" <input name="provider-name" placeholder="openai" required bind:value=name/></label>
                    <label>"Kind"
                        <select name="provider-kind" on:change=move |ev| {
                            if let Some(k) = ProviderKind::parse(&event_target_value(&ev)) { kind.set(k) }
                        }>
                            {ProviderKind::ALL.into_iter().map(|k| view! {
                                <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>
                        {move || if kind.get().default_base_url().is_some() { "Base URL (optional)" } else { "Base URL" }}
                        <input name="provider-base-url" type="url" placeholder=base_placeholder
                            required=move || kind.get().default_base_url().is_none() bind:value=base_url/>
                    </label>
                    <label>"Model" <input name="provider-model" placeholder=move || model_placeholder(kind.get()) required bind:value=model/></label>
                    <label>"API key" <input name="provider-api-key" type="password" autocomplete="off" bind:value=api_key/></label>
                    <label>"Retries (0 to 5; empty: the server's default)"
                        <input name="provider-retries" type="number" min="0" max="5" step="1" placeholder="default" bind:value=retries/>
                    </label>
                    <ErrorBanner error=error/>
                    <button type="submit" class="primary" disabled=move || busy.get()>"Save provider"</button>
                </form>
            </section>
        </div>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let tokens = RwSignal::new(Vec::<TokenInfo>::new());
    let error = RwSignal::new(None::<UiError>);
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let fresh = RwSignal::new(None::<String>);

    let unreachable = RwSignal::new(false);
    let reload = move || {
        spawn_local(async move {
            match api::tokens().await {
                Ok(list) => {
                    unreachable.try_set(false);
                    tokens.try_set(list);
                }
                Err(e) => server_read_failed(e, unreachable, error),
            }
        })
    };
    Effect::new(move |_| reload());
    reload_when_reachable(unreachable, reload);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let expires_in_days = days.get().trim().parse::<u32>().ok();
        let input = TokenInput {
            name: name.get(),
            expires_in_days,
        };
        spawn_local(async move {
            match api::create_token(&input).await {
                Ok(created) => {
                    error.try_set(None);
                    fresh.try_set(Some(created.token));
                    name.try_set(String::new());
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
            match api::revoke_token(id).await {
                Ok(()) => reload(),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };

    view! {
        <section class="card grow">
            <h2>"API tokens"</h2>
            <p class="muted">"For programs such as the OpenAI SDK: the base URL is the one under the provider's name above ("<code>"/api/v1/llm/"</code>" and its id, after this server's address), and the token is the API key."</p>
            {move || fresh.get().map(|token| view! {
                <p class="notice" data-testid="new-token">"Copy this token now, it is not shown again: "<code class="mono">{token}</code></p>
            })}
            <table class="grid" data-testid="tokens">
                <thead><tr><th>"Name"</th><th>"Token"</th><th>"Created"</th><th>"Last used"</th><th>"Expires"</th><th></th></tr></thead>
                <tbody>
                    {move || tokens.get().into_iter().map(|t| {
                        let id = t.id;
                        view! {
                            <tr>
                                <td>{t.name}</td>
                                <td class="mono">{format!("{}…", t.prefix)}</td>
                                <td>{utc_time(t.created_at)}</td>
                                <td>{t.last_used_at.map_or_else(|| "never".to_string(), utc_time)}</td>
                                <td>{t.expires_at.map_or_else(|| "never".to_string(), utc_time)}</td>
                                <td><button class="link danger" on:click=move |_| revoke(id)>"Revoke"</button></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <form class="inline-form" on:submit=create>
                <label>"Name" <input name="token-name" placeholder="laptop script" required bind:value=name/></label>
                <label>"Days (empty: no expiry)" <input name="token-days" type="number" min="1" max="3650" bind:value=days/></label>
                <button type="submit" class="primary">"Create token"</button>
            </form>
            <NeedsServer when=unreachable text="The server cannot be reached: your API tokens are listed when it answers."/>
            <ErrorBanner error=error/>
        </section>
    }
}

#[component]
fn Sessions() -> impl IntoView {
    let sessions = RwSignal::new(Vec::<SessionInfo>::new());
    let error = RwSignal::new(None::<UiError>);
    let unreachable = RwSignal::new(false);
    let reload = move || {
        spawn_local(async move {
            match api::sessions().await {
                Ok(list) => {
                    unreachable.try_set(false);
                    sessions.try_set(list);
                }
                Err(e) => server_read_failed(e, unreachable, error),
            }
        })
    };
    Effect::new(move |_| reload());
    reload_when_reachable(unreachable, reload);
    let revoke = move |id| {
        spawn_local(async move {
            match api::revoke_session(id).await {
                Ok(()) => reload(),
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        })
    };
    view! {
        <section class="card side">
            <h2>"Sessions"</h2>
            <ul class="sessions" data-testid="sessions">
                {move || sessions.get().into_iter().map(|s| {
                    let id = s.id;
                    let agent = s.user_agent.clone().unwrap_or_else(|| "unknown browser".into());
                    view! {
                        <li>
                            <span class="agent" title=agent.clone()>{agent.chars().take(60).collect::<String>()}</span>
                            <span class="muted">{format!("signed in {}", utc_time(s.created_at))}</span>
                            {if s.current {
                                view! { <span class="chip chip-added">"this browser"</span> }.into_any()
                            } else {
                                view! { <button class="link danger" on:click=move |_| revoke(id)>"Sign out"</button> }.into_any()
                            }}
                        </li>
                    }
                }).collect_view()}
            </ul>
            <NeedsServer when=unreachable text="The server cannot be reached: your sessions are listed when it answers."/>
            <ErrorBanner error=error/>
        </section>
    }
}

/// This browser's copy of the user's work: on a shared computer, sign out and remove it, once
/// everything is synced (or anyway, after a warning that says what would be lost).
#[component]
fn ThisBrowser() -> impl IntoView {
    let workspace = Workspace::expect();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<UiError>);
    let unsynced = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let remove = move |anyway: bool| {
        let navigate = navigate.clone();
        busy.try_set(true);
        spawn_local(async move {
            let result = workspace.sign_out_and_remove(anyway).await;
            busy.try_set(false);
            match result {
                Ok(()) => navigate("/login", Default::default()),
                Err(e) => {
                    unsynced.try_set(e.code == "CLIENT_UNSYNCED" || e.code == "CLIENT_QUEUED");
                    // Signed out already, but another tab keeps the copy open: say so on the
                    // sign-in page's way rather than here.
                    if e.code == "CLIENT_COPY_IN_USE" {
                        navigate("/login", Default::default());
                    }
                    error.try_set(Some(e));
                }
            }
        });
    };
    let remove_synced = remove.clone();
    // What the site keeps here, and whether the browser promised to keep it.
    let used = RwSignal::new(None::<browser::StorageUse>);
    Effect::new(move |_| {
        spawn_local(async move {
            browser::persist_storage().await;
            used.try_set(browser::storage_use().await);
        })
    });
    view! {
        <section class="card" data-testid="this-browser">
            <h2>"This browser"</h2>
            <p class="muted">"Your domains and drafts are kept in this browser, so you can work offline. On a shared computer, sign out and remove this copy: what is synced stays on the server for your other devices."</p>
            {move || used.get().map(|u| view! {
                <p data-testid="storage-use">
                    {format!("Data Modeller keeps {} here, of about {} this browser allows it. ",
                        human_bytes(u.usage), human_bytes(u.quota))}
                    {if u.persisted {
                        "The browser keeps it even when the disk fills up."
                    } else {
                        "The browser may clear it when the disk fills up: sync often, or install the app, which browsers keep."
                    }}
                </p>
            })}
            <p data-testid="local-pending">{move || match workspace.sync.get().pending {
                0 => "Everything here is synced.".to_string(),
                1 => "1 change here is not synced yet.".to_string(),
                n => format!("{n} changes here are not synced yet."),
            }}</p>
            <ErrorBanner error=error/>
            <div class="row">
                <button type="button" class="danger" data-testid="remove-local-copy" disabled=move || busy.get()
                    on:click=move |_| remove_synced(false)>"Sign out and remove this browser's copy"</button>
                {move || unsynced.get().then(|| {
                    let remove = remove.clone();
                    view! {
                        <button type="button" class="link danger" data-testid="remove-anyway" disabled=move || busy.get()
                            on:click=move |_| remove(true)>"Remove anyway"</button>
                    }
                })}
            </div>
        </section>
    }
}

/// The account: change the password (every other session ends), delete the account (with the
/// password again).
#[component]
fn Account() -> impl IntoView {
    let workspace = Workspace::expect();
    let navigate = use_navigate();
    let current = RwSignal::new(String::new());
    let new_password = RwSignal::new(String::new());
    let changed = RwSignal::new(false);
    let change_error = RwSignal::new(None::<UiError>);
    let confirm = RwSignal::new(String::new());
    let delete_error = RwSignal::new(None::<UiError>);
    let busy = RwSignal::new(false);

    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = PasswordChange {
            current_password: current.get(),
            new_password: new_password.get(),
        };
        busy.try_set(true);
        spawn_local(async move {
            let result = api::change_password(&body).await;
            busy.try_set(false);
            match result {
                Ok(()) => {
                    change_error.try_set(None);
                    changed.try_set(true);
                    current.try_set(String::new());
                    new_password.try_set(String::new());
                }
                Err(e) => {
                    changed.try_set(false);
                    change_error.try_set(Some(e));
                }
            }
        });
    };
    let delete = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = PasswordConfirmation {
            password: confirm.get(),
        };
        let navigate = navigate.clone();
        busy.try_set(true);
        spawn_local(async move {
            let user = workspace.user.get_untracked();
            let result = api::delete_account(&body).await;
            busy.try_set(false);
            match result {
                Ok(()) => {
                    workspace.signed_out();
                    // The account asked for everything to go: this browser's copy too. Another
                    // tab holding it open delays that until it closes, which is all right here.
                    if let Some(user) = user {
                        let _ = storage::remove_local_copy(user.id, 2_000).await;
                    }
                    navigate("/register", Default::default());
                }
                Err(e) => {
                    delete_error.try_set(Some(e));
                }
            }
        });
    };

    view! {
        <div class="columns">
            <section class="card grow">
                <h2>"Change password"</h2>
                <p class="muted">"Every other browser signed in to this account is signed out; this one stays signed in. API tokens keep working: revoke them above if needed."</p>
                <form class="form" on:submit=change data-testid="change-password">
                    <label>"Current password"
                        <input name="current-password" type="password" autocomplete="current-password" required bind:value=current/>
                    </label>
                    <label>"New password (at least 10 characters)"
                        <input name="new-password" type="password" autocomplete="new-password" required minlength="10" bind:value=new_password/>
                    </label>
                    {move || changed.get().then(|| view! { <p class="notice" data-testid="password-changed">"Password changed; your other sessions are signed out."</p> })}
                    <ErrorBanner error=change_error/>
                    <button type="submit" class="primary" disabled=move || busy.get()>"Change password"</button>
                </form>
            </section>
            <section class="card side">
                <h2>"Delete account"</h2>
                <p class="muted">"Deletes your account and everything the server keeps for it: providers and their keys, tokens, sessions, synced domains and drafts, and this browser's copy. This cannot be undone."</p>
                <form class="form" on:submit=delete data-testid="delete-account">
                    <label>"Password"
                        <input name="delete-password" type="password" autocomplete="current-password" required bind:value=confirm/>
                    </label>
                    <ErrorBanner error=delete_error/>
                    <button type="submit" class="danger" disabled=move || busy.get()>"Delete my account"</button>
                </form>
            </section>
        </div>
    }
}
