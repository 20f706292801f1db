//! Import: a new draft from SQL DDL (PostgreSQL, MySQL, SQLite) or the JSON model format,
//! read in the browser by the model core's importers.
//!
//! What the importer left out (views, triggers, data...) is listed with the reason, and a model
//! that does not validate is shown with its problems and not saved, as for an LLM answer.

use crate::browser::tools;
use crate::browser::UiError;
use crate::state::workbench::ImportedDraft;
use leptos::prelude::*;
use leptos::task::spawn_local;
use model::{validate, Conventions, Imported};
use wasm_bindgen::JsCast;

/// The formats the import form offers: id, label.
const FORMATS: [(&str, &str); 4] = [
    ("postgres", "SQL DDL · PostgreSQL"),
    ("mysql", "SQL DDL · MySQL / MariaDB"),
    ("sqlite", "SQL DDL · SQLite"),
    ("json", "Model (JSON)"),
];

/// Reads the first file of a file input as text.
async fn read_file(input: web_sys::HtmlInputElement) -> Option<(String, String)> {
    let file = input.files()?.get(0)?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?;
    Some((file.name(), text.as_string()?))
}

#[component]
pub fn ImportPanel(on_import: Callback<ImportedDraft>) -> impl IntoView {
    let format = RwSignal::new("postgres".to_string());
    let text = RwSignal::new(String::new());
    let file_name = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<Result<Imported, UiError>>);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        spawn_local(async move {
            if let Some((name, content)) = read_file(input).await {
                if name.ends_with(".json") {
                    format.try_set("json".into());
                }
                file_name.try_set(Some(name));
                text.try_set(content);
                result.try_set(None);
            }
        });
    };
    // Reading runs in the tools module, loaded on first use; `reading` disables the button
    // meanwhile, and a change of text or format while it runs discards its answer.
    let reading = RwSignal::new(false);
    let read = move |_| {
        let (fmt, input) = (format.get_untracked(), text.get_untracked());
        reading.set(true);
        result.set(None);
        spawn_local(async move {
            let answer = tools::import(&fmt, input.clone()).await;
            if format.get_untracked() == fmt && text.with_untracked(|t| *t == input) {
                result.try_set(Some(answer));
            }
            reading.try_set(false);
        });
    };
    let problems = move || {
        result.with(|r| match r {
            Some(Ok(i)) => validate(&i.model, &Conventions::default()),
            _ => vec![],
        })
    };
    let save = move |_| {
        let Some(Ok(imported)) = result.get_untracked() else {
            return;
        };
        let label = FORMATS
            .iter()
            .find(|(id, _)| *id == format.get_untracked())
            .map_or("import", |(_, l)| l);
        let source = match file_name.get_untracked() {
            Some(name) => format!("imported from {name} ({label})"),
            None => format!("imported ({label})"),
        };
        on_import.run(ImportedDraft {
            model: imported.model,
            source,
        });
        result.set(None);
        text.set(String::new());
        file_name.set(None);
    };
    view! {
        <section class="import" data-testid="import">
            <h3>"Import SQL or JSON"</h3>
            <p class="muted">"The import becomes the next draft of this domain."</p>
            <div class="form">
                <label>"Format"
                    <select name="import-format" prop:value=move || format.get()
                        on:change=move |ev| { format.set(event_target_value(&ev)); result.set(None); }>
                        {FORMATS.iter().map(|(id, label)| view! { <option value=*id>{*label}</option> }).collect_view()}
                    </select>
                </label>
                <label>"File"<input type="file" name="import-file" accept=".sql,.json,.txt" on:change=on_file/></label>
                <label>"or paste"
                    <textarea name="import-text" rows="5" bind:value=text
                        placeholder="CREATE TABLE … or a model in JSON"></textarea>
                </label>
                <div class="row">
                    <button type="button" on:click=read disabled=move || reading.get() || text.with(String::is_empty)>
                        {move || if reading.get() { "Reading…" } else { "Read" }}
                    </button>
                </div>
            </div>
            {move || result.get().map(|r| match r {
                Err(e) => view! {
                    <div class="error" data-testid="import-error">
                        <span class="error-message">{e.message}</span>
                        <code class="error-code">{e.code}</code>
                    </div>
                }.into_any(),
                Ok(imported) => {
                    let problems = problems();
                    let ok = problems.is_empty();
                    view! {
                        <div data-testid="import-result">
                            <p>{format!(
                                "{} entities, {} attributes, {} relationships read.",
                                imported.model.entities.len(),
                                imported.model.attribute_count(),
                                imported.model.relationships.len()
                            )}</p>
                            {(!imported.skipped.is_empty()).then(|| view! {
                                <details><summary>{match imported.skipped.len() {
                                    1 => "1 statement left out".to_string(),
                                    n => format!("{n} statements left out"),
                                }}</summary>
                                    <ul class="skipped">{imported.skipped.into_iter().map(|s| view! {
                                        <li><code>{format!("line {}", s.line)}</code>" "{s.what}": "<span class="muted">{s.reason}</span></li>
                                    }).collect_view()}</ul>
                                </details>
                            })}
                            {(!ok).then(|| view! {
                                <div class="error">
                                    <p>{format!("The model has {} problems; it cannot be saved as a draft.", problems.len())}</p>
                                    <ul>{problems.into_iter().map(|p| view! { <li><code>{p.path}</code>": "{p.reason}</li> }).collect_view()}</ul>
                                </div>
                            })}
                            <button type="button" class="primary" disabled=!ok on:click=save>"Save as the next draft"</button>
                        </div>
                    }.into_any()
                }
            })}
        </section>
    }
}
