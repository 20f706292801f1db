//! The top bar: product name, who is signed in, sync status and sign-out.

use crate::browser::api;
use crate::components::utc_time;
use crate::state::Workspace;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

#[component]
pub fn Nav(workspace: Workspace) -> impl IntoView {
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::logout().await {
                Ok(()) => {
                    workspace.signed_out();
                    navigate("/login", Default::default());
                }
                Err(e) => workspace.sync.update(|s| s.last_error = Some(e)),
            }
        });
    };
    let sync_label = move || {
        let s = workspace.sync.get();
        match &s.last_error {
            _ if s.running => "syncing…".to_string(),
            Some(e) if e.code == "CLIENT_NETWORK" => format!("offline · {} not synced", s.pending),
            Some(e) => format!("sync failed ({}) · {} not synced", e.code, s.pending),
            None if s.pending > 0 => format!("{} not synced", s.pending),
            None if !s.refused.is_empty() => format!("{} refused by the server", s.refused.len()),
            None => "all synced".to_string(),
        }
    };
    // The badge's tooltip: what failed, and when the last round succeeded.
    let sync_title = move || {
        let s = workspace.sync.get();
        let last = s.last_synced_at.map_or_else(
            || "not synced since this page opened".to_string(),
            |at| format!("last synced {}", utc_time(at)),
        );
        // Refused changes stay on this device; the server says why.
        let refused: String = s
            .refused
            .iter()
            .map(|r| format!(" · refused: {} ({}: {})", r.what, r.code, r.message))
            .collect();
        match &s.last_error {
            Some(e) => format!(
                "{}: {} · {last}{refused} · click to sync now",
                e.code, e.message
            ),
            None => format!("{last}{refused} · click to sync now"),
        }
    };
    let sync_class = move || {
        let s = workspace.sync.get();
        if s.last_error.is_some() || s.pending > 0 || !s.refused.is_empty() {
            "sync sync-pending"
        } else {
            "sync"
        }
    };
    // LLM requests made without the server wait in this browser until their domain is open:
    // the bar says so on every page, and leads to the one domain or to the list.
    let queued = move || {
        let domains = workspace.queued.get();
        let href = match domains.as_slice() {
            [one] => format!("/domains/{one}"),
            _ => "/".to_string(),
        };
        let label = match domains.len() {
            1 => "1 request queued".to_string(),
            n => format!("{n} requests queued"),
        };
        (!domains.is_empty()).then(|| {
            view! {
                <A href=href attr:class="sync sync-pending" attr:data-testid="nav-queued"
                    attr:title="LLM requests made without the server, waiting in this browser: they are sent with their domain open">
                    {label}
                </A>
            }
        })
    };
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">"Data Modeller"</A>
            <nav class="topbar-right">
                {move || match workspace.user.get() {
                    Some(user) => view! {
                        <button class=sync_class title=sync_title data-testid="sync-status"
                            on:click=move |_| workspace.sync_now()>{sync_label}</button>
                        {queued}
                        {user.is_admin.then(|| view! { <A href="/admin">"Administration"</A> })}
                        <A href="/settings">"Settings"</A>
                        <span class="who" data-testid="who">{user.username}</span>
                        <button class="link" on:click=sign_out.clone()>"Sign out"</button>
                    }.into_any(),
                    None => view! {
                        <A href="/login">"Sign in"</A>
                        <A href="/register">"Create account"</A>
                    }.into_any(),
                }}
            </nav>
        </header>
    }
}
