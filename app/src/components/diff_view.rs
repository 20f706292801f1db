//! The review of two drafts: every change of the semantic diff with its impact (breaking, risky,
//! safe; the reason; what else it touches), the narrative's line diff, and the migration SQL and
//! Markdown changelog between them, all computed in the browser by the model core.

use crate::components::code_spans;
use crate::components::exports::DownloadLink;
use leptos::prelude::*;
use model::impact::{analyze, LineTag};
use model::{changelog::changelog_of, Model, Severity, SqlDialect};

/// CSS class and label of a severity.
pub fn severity_badge(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Breaking => ("sev sev-breaking", "breaking"),
        Severity::Risky => ("sev sev-risky", "risky"),
        Severity::Safe => ("sev sev-safe", "safe"),
    }
}

#[component]
pub fn DiffView(
    old: Model,
    new: Model,
    #[prop(optional)] tools: bool,
    /// The entity picked in the review's diagram: picking a change sets it, and the changes of
    /// the picked entity are marked.
    #[prop(optional)]
    focus: Option<RwSignal<Option<String>>>,
) -> impl IntoView {
    let report = analyze(&old, &new);
    let empty = report.changes.is_empty();
    let narrative = report.narrative.clone();
    let dialect = RwSignal::new(SqlDialect::Postgres);
    // The migration runs in the tools module (loaded on first use), and only once the user
    // opens its panel.
    let migration_open = RwSignal::new(false);
    let pair = StoredValue::new((old, new));
    let migration = LocalResource::new(move || {
        let (open, dialect) = (migration_open.get(), dialect.get());
        let pair = open.then(|| pair.get_value());
        async move {
            let (old, new) = pair?;
            Some(crate::browser::tools::migration(old, new, dialect).await)
        }
    });
    // The changelog of the review just made, only where the tools are shown.
    let log = if tools {
        changelog_of(&report)
    } else {
        String::new()
    };
    view! {
        <div class="diff" data-testid="diff">
            <p class="diff-counts">
                <span class="chip chip-removed">{format!("{} breaking", report.breaking)}</span>
                <span class="chip chip-changed">{format!("{} risky", report.risky)}</span>
                <span class="chip chip-added">{format!("{} safe", report.safe)}</span>
            </p>
            {empty.then(|| view! { <p class="muted">"The two drafts describe the same model."</p> })}
            <ul class="changes">
                {report.changes.into_iter().map(|c| {
                    let (class, label) = severity_badge(c.impact.severity);
                    let affected = c.impact.affected.clone();
                    let entity = c.change.entity().map(str::to_string);
                    let picked = {
                        let entity = entity.clone();
                        move || {
                            focus.zip(entity.as_ref()).is_some_and(|(f, e)| {
                                f.with(|f| f.as_deref().is_some_and(|f| f.eq_ignore_ascii_case(e)))
                            })
                        }
                    };
                    let pick = move |_| {
                        if let (Some(f), Some(e)) = (focus, entity.clone()) {
                            f.set(Some(e));
                        }
                    };
                    view! {
                        <li class=format!("change change-{label}") class:picked=picked class:pickable=focus.is_some()
                            on:click=pick>
                            <span class=class>{label}</span>
                            <span class="change-text">{code_spans(&c.change.describe())}</span>
                            <span class="change-reason">{code_spans(&c.impact.reason)}</span>
                            {(!affected.is_empty()).then(|| view! {
                                <span class="change-affected">{format!("affects {}", affected.join("; "))}</span>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!narrative.is_empty()).then(|| view! {
                <details class="narrative-diff">
                    <summary>"Narrative changes"</summary>
                    <pre>{narrative.into_iter().map(|l| {
                        let (class, sign) = match l.tag {
                            LineTag::Equal => ("line", "  "),
                            LineTag::Delete => ("line line-del", "- "),
                            LineTag::Insert => ("line line-ins", "+ "),
                        };
                        view! { <span class=class>{format!("{sign}{}\n", l.text)}</span> }
                    }).collect_view()}</pre>
                </details>
            })}
            {tools.then(|| view! {
                <div class="review-tools">
                    <details data-testid="migration" on:toggle=move |ev| {
                        let open = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                        if open { migration_open.set(true) }
                    }>
                        <summary>"Migration SQL"</summary>
                        <div class="row">
                            <select name="migration-dialect"
                                on:change=move |ev| {
                                    if let Ok(d) = event_target_value(&ev).parse() { dialect.set(d) }
                                }>
                                {SqlDialect::ALL.into_iter().map(|d| view! {
                                    <option value=d.id() selected=move || dialect.get() == d>{d.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        {move || match migration.get().flatten() {
                            None => view! { <p class="muted">"Writing the migration…"</p> }.into_any(),
                            Some(Ok(sql)) => view! {
                                <DownloadLink text=sql.clone() file=format!("migration.{}.sql", dialect.get().id()) label="Download"/>
                                <pre class="export-preview">{sql}</pre>
                            }.into_any(),
                            Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                        }}
                    </details>
                    <details>
                        <summary>"Changelog"</summary>
                        <DownloadLink text=log.clone() file="CHANGELOG.md".to_string() label="Download"/>
                        <pre class="export-preview">{log}</pre>
                    </details>
                </div>
            })}
        </div>
    }
}
