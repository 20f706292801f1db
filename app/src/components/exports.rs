//! Exports of one draft, generated in the browser (they work offline): pick a format, read the
//! preview, download the file.

use leptos::prelude::*;
use model::{export, ExportFormat, Model, SqlDialect};

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
pub fn DownloadLink(text: String, file: String, label: &'static str) -> impl IntoView {
    let href = format!(
        "data:text/plain;charset=utf-8,{}",
        String::from(js_sys::encode_uri_component(&text))
    );
    view! { <a class="button" href=href download=file data-testid="download">{label}</a> }
}

#[component]
pub fn Exports(model: Model, stem: String) -> impl IntoView {
    let chosen = RwSignal::new(0usize);
    let output = Memo::new(move |_| {
        let (format, _, ext) = FORMATS[chosen.get()];
        (export(&model, format), ext)
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
                {move || {
                    let (text, ext) = output.get();
                    view! { <DownloadLink text file=format!("{stem}.{ext}") label="Download"/> }
                }}
            </div>
            <pre class="export-preview" data-testid="export-preview">{move || output.get().0}</pre>
        </section>
    }
}
