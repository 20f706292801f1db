//! Exports of one draft, generated in the browser (they work offline): pick a format, read the
//! preview, download the file. What the chosen format cannot express is listed above the
//! preview, each warning with its table and column, as `dm convert` prints them. The exporters
//! run in the tools module, loaded the first time an export is shown (`browser::tools`).

use crate::browser::tools;
use leptos::prelude::*;
use model::{warning_summary, ExportFormat, ExportWarning, Model, SqlDialect, WarningKind};

/// Every export the draft page offers: the format, its label and the file name suffix.
pub const FORMATS: [(ExportFormat, &str, &str); 9] = [
    (ExportFormat::Markdown, "Data dictionary (Markdown)", "md"),
    (ExportFormat::PlantUml, "PlantUML diagram", "puml"),
    (ExportFormat::Mermaid, "Mermaid ER diagram", "mmd"),
    (
        ExportFormat::Sql(SqlDialect::Postgres),
        "SQL DDL · PostgreSQL",
        "postgres.sql",
    ),
    (
        ExportFormat::Sql(SqlDialect::Mysql),
        "SQL DDL · MySQL / MariaDB",
        "mysql.sql",
    ),
    (
        ExportFormat::Sql(SqlDialect::Sqlite),
        "SQL DDL · SQLite",
        "sqlite.sql",
    ),
    (ExportFormat::Dbml, "DBML", "dbml"),
    (
        ExportFormat::JsonSchema,
        "JSON Schema (2020-12)",
        "schema.json",
    ),
    (ExportFormat::Json, "Model (JSON)", "model.json"),
];

/// A link that downloads `text` as `file`, with no server round trip.
#[component]
pub fn DownloadLink(
    text: String,
    file: String,
    label: &'static str,
    /// Told the file's size when the user downloads it.
    #[prop(optional)]
    on_download: Option<Callback<usize>>,
) -> impl IntoView {
    let bytes = text.len();
    let href = format!(
        "data:text/plain;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(&text))
    );
    view! {
        <a class="button" href=href download=file data-testid="download"
            on:click=move |_| { if let Some(f) = on_download { f.run(bytes) } }>{label}</a>
    }
}

/// What an export panel reports when a file is downloaded: the format's name, the file's
/// name and its size in bytes.
pub type ExportMade = (String, String, usize);

/// The warnings of one export, lost ones first, or nothing when there are none.
fn warning_list(warnings: &[ExportWarning]) -> Option<impl IntoView> {
    let summary = warning_summary(warnings)?;
    let mut sorted: Vec<&ExportWarning> = warnings.iter().collect();
    sorted.sort_by_key(|w| w.kind != WarningKind::Lost);
    let items = sorted
        .into_iter()
        .map(|w| {
            let (class, kind) = match w.kind {
                WarningKind::Lost => ("chip chip-removed", "lost"),
                WarningKind::Changed => ("chip chip-changed", "changed"),
            };
            view! {
                <li><span class=class>{kind}</span>" "<code>{w.place()}</code>": "{w.message.clone()}</li>
            }
        })
        .collect_view();
    Some(view! {
        <details class="export-warnings" data-testid="export-warnings">
            <summary>{summary}</summary>
            <ul class="skipped">{items}</ul>
        </details>
    })
}

#[component]
pub fn Exports(
    model: Model,
    stem: String,
    /// Told of every download, to keep a record of it.
    #[prop(optional)]
    on_export: Option<Callback<ExportMade>>,
) -> impl IntoView {
    let chosen = RwSignal::new(0usize);
    let model = StoredValue::new(model);
    let output = LocalResource::new(move || {
        let (format, _, ext) = FORMATS[chosen.get()];
        let model = model.get_value();
        async move {
            tools::export(model, format)
                .await
                .map(|(text, warnings)| (text, warnings, ext))
        }
    });
    view! {
        <section class="exports" data-testid="exports">
            <div class="row">
                <select name="export-format" on:change=move |ev| {
                    if let Ok(i) = event_target_value(&ev).parse::<usize>() { chosen.set(i.min(FORMATS.len() - 1)) }
                }>
                    {FORMATS.iter().enumerate().map(|(i, (_, label, _))| view! {
                        <option value=i.to_string()>{*label}</option>
                    }).collect_view()}
                </select>
                {move || output.get().and_then(Result::ok).map(|(text, _, ext)| {
                    let file = format!("{stem}.{ext}");
                    let label = FORMATS[chosen.get_untracked()].1.to_string();
                    let made = file.clone();
                    let record = Callback::new(move |bytes: usize| {
                        if let Some(f) = on_export { f.run((label.clone(), made.clone(), bytes)) }
                    });
                    view! { <DownloadLink text file label="Download" on_download=record/> }
                })}
            </div>
            {move || match output.get() {
                None => view! { <p class="muted" data-testid="export-loading">"Preparing the export…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" data-testid="export-error">{e.to_string()}</p> }.into_any(),
                Some(Ok((text, warnings, _))) => view! {
                    {warning_list(&warnings)}
                    <pre class="export-preview" data-testid="export-preview">{text}</pre>
                }.into_any(),
            }}
        </section>
    }
}
