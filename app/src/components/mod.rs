//! Reusable view pieces: navigation, error banners, the data dictionary and the diff view.

pub mod diagram;
pub mod dictionary;
pub mod diff_view;
pub mod edit;
pub mod exports;
pub mod import;
pub mod narrative;
pub mod nav;
pub mod notes;
pub mod proposal;
pub mod share;

use crate::browser::UiError;
use leptos::prelude::*;

/// Shows an error with its code, or nothing.
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<UiError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            view! {
                <div class="error" role="alert">
                    <span class="error-message">{e.message}</span>
                    <code class="error-code">{e.code}</code>
                </div>
            }
        })
    }
}

/// `text` with its backticked names (`` `loan.due_at` ``, as the core's descriptions write
/// them) set as code, and nothing else interpreted: every piece is a text node.
pub fn code_spans(text: &str) -> impl IntoView {
    let pieces: Vec<(bool, String)> = text
        .split('`')
        .enumerate()
        .filter(|(_, piece)| !piece.is_empty())
        .map(|(i, piece)| (i % 2 == 1, piece.to_string()))
        .collect();
    pieces
        .into_iter()
        .map(|(code, piece)| {
            if code {
                view! { <code>{piece}</code> }.into_any()
            } else {
                piece.into_any()
            }
        })
        .collect_view()
}

/// The problems of a model, after a sentence that says what they hold up.
#[component]
pub fn ProblemList(
    problems: Vec<model::Problem>,
    lead: String,
    #[prop(optional)] test_id: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="error" data-testid=test_id>
            <p>{lead}</p>
            <ul>{problems.into_iter().map(|p| view! { <li><code>{p.path}</code>": "{p.reason}</li> }).collect_view()}</ul>
        </div>
    }
}

/// A link-styled button that asks before it acts: `label` opens the question, whose danger
/// button (`yes`) runs `on_confirm` and whose "Keep" closes it. `asking` is the caller's, so it
/// can close the question once the action is done. Test ids: `{id}`, `confirm-{id}`, `{id}-yes`.
#[component]
pub fn ConfirmAction(
    id: &'static str,
    label: &'static str,
    question: &'static str,
    yes: &'static str,
    asking: RwSignal<bool>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    move || {
        if asking.get() {
            view! {
                <span class="confirm" data-testid=format!("confirm-{id}")>
                    {question}" "
                    <button type="button" class="danger" data-testid=format!("{id}-yes") on:click=move |_| on_confirm.run(())>{yes}</button>
                    <button type="button" on:click=move |_| asking.set(false)>"Keep"</button>
                </span>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="link" data-testid=id on:click=move |_| asking.set(true)>{label}</button>
            }
            .into_any()
        }
    }
}

/// Says that a new version of the app is ready and reloads into it when asked. The start-up
/// script (`app::Scripts`) fires `dm-update` when a new service worker waits, and
/// `dmApplyUpdate()` lets it take over; the page then reloads with the new version.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let ready = RwSignal::new(false);
    Effect::new(move |_| {
        // The banner lives as long as the page, and so does its listener.
        let _ = window_event_listener_untyped("dm-update", move |_| ready.set(true));
        // The event may have come before the app started listening.
        if crate::browser::call_global("dmUpdateWaiting").and_then(|v| v.as_bool()) == Some(true) {
            ready.set(true);
        }
    });
    move || {
        ready.get().then(|| {
            view! {
                <div class="update-banner" role="status" data-testid="update-banner">
                    <span>"A new version of Data Modeller is ready. Your work is saved in this browser."</span>
                    <button type="button" class="primary" data-testid="apply-update"
                        on:click=move |_| { let _ = crate::browser::call_global("dmApplyUpdate"); }>
                        "Reload now"
                    </button>
                    <button type="button" class="link" on:click=move |_| ready.set(false)>"Later"</button>
                </div>
            }
        })
    }
}

/// Says that a list only the server keeps (providers, tokens, sessions, shared links) is not
/// shown because the server cannot be reached: offline, that is not an error to act on.
#[component]
pub fn NeedsServer(when: RwSignal<bool>, #[prop(into)] text: String) -> impl IntoView {
    move || {
        when.get()
            .then(|| view! { <p class="muted needs-server" data-testid="needs-server">{text.clone()}</p> })
    }
}

/// Sorts a failed read of a list the server keeps: no server (`CLIENT_NETWORK`) sets
/// `unreachable`, anything else is an error to show.
pub fn server_read_failed(
    failure: UiError,
    unreachable: RwSignal<bool>,
    error: RwSignal<Option<UiError>>,
) {
    if failure.code == "CLIENT_NETWORK" {
        unreachable.try_set(true);
    } else {
        error.try_set(Some(failure));
    }
}

/// Runs `reload` again when a sync round reaches the server after a read that found none: a
/// list opened offline fills in when the server is back, without asking the server at every
/// round otherwise.
pub fn reload_when_reachable(unreachable: RwSignal<bool>, reload: impl Fn() + 'static) {
    let workspace = crate::state::Workspace::expect();
    let rounds = Memo::new(move |_| workspace.sync.with(|s| s.rounds));
    Effect::new(move |first: Option<()>| {
        let _round = rounds.get();
        if first.is_some() && unreachable.get_untracked() {
            reload();
        }
    });
}

/// A size for people: `0 B`, `12.3 KB`, `4.5 MB`, `1.2 GB` (powers of 1,000).
pub fn human_bytes(bytes: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0.0);
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A time (milliseconds since the Unix epoch) as `YYYY-MM-DD HH:MM UTC`, the same on the
/// server's render and in the browser.
pub fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_as_people_write_them() {
        for (bytes, text) in [
            (0.0, "0 B"),
            (999.0, "999 B"),
            (1_000.0, "1.0 KB"),
            (1_234_567.0, "1.2 MB"),
            (9.9e9, "9.9 GB"),
            (3.0e15, "3000.0 TB"),
        ] {
            assert_eq!(human_bytes(bytes), text);
        }
    }

    #[test]
    fn utc_times() {
        assert_eq!(super::utc_time(0), "1970-01-01 00:00 UTC");
        // 2026-11-22 07:45:30 UTC
        assert_eq!(super::utc_time(1_795_333_530_000), "2026-11-22 07:45 UTC");
        assert_eq!(super::utc_time(951_782_400_000), "2000-02-29 00:00 UTC");
    }
}
