//! The on-demand tools (SQL and JSON import, every export, migration SQL): the model core's
//! heaviest code, kept out of the page's first load.
//!
//! In the browser they live in a second wasm module (`frontend/tools`), which the page's
//! start-up script knows by its hashed name and loads once, the first time [`call`] asks
//! for it (`window.dmTools()`, see `crate::Scripts`); requests and answers cross as JSON
//! ([`model::tools`]). Natively (server rendering never calls them, but tests do) the same core
//! functions run in-process.

use super::UiError;
use model::diagram::{Diagram, Highlight, Positions};
use model::tools::{ToolAnswer, ToolRequest};
use model::{ExportFormat, ExportWarning, Imported, Model, SqlDialect};

/// Imports `text` (`format`: a SQL dialect's id or `json`).
pub async fn import(format: &str, text: String) -> Result<Imported, UiError> {
    let request = ToolRequest::Import {
        format: format.to_string(),
        text,
    };
    match call(&request).await? {
        ToolAnswer::Imported(imported) => Ok(imported),
        ToolAnswer::ImportFailed(e) => Err(UiError::new(e.code.clone(), e.to_string())),
        other => Err(unexpected(other)),
    }
}

/// Exports `model` in `format`: the text and what the format could not express.
pub async fn export(
    model: Model,
    format: ExportFormat,
) -> Result<(String, Vec<ExportWarning>), UiError> {
    let request = ToolRequest::Export { model, format };
    match call(&request).await? {
        ToolAnswer::Exported { text, warnings } => Ok((text, warnings)),
        other => Err(unexpected(other)),
    }
}

/// Migration SQL from `old` to `new` in `dialect`.
pub async fn migration(old: Model, new: Model, dialect: SqlDialect) -> Result<String, UiError> {
    let request = ToolRequest::Migration { old, new, dialect };
    match call(&request).await? {
        ToolAnswer::Migration(sql) => Ok(sql),
        other => Err(unexpected(other)),
    }
}

/// A narrative's Markdown as safe blocks.
pub async fn narrative(text: String) -> Result<Vec<model::narrative::Block>, UiError> {
    match call(&ToolRequest::Narrative { text }).await? {
        ToolAnswer::Narrative(blocks) => Ok(blocks),
        other => Err(unexpected(other)),
    }
}

/// The diagram of `model` around `priors`; with `compare` (the older model), the review's
/// diagram and what to highlight.
pub async fn diagram(
    model: Model,
    priors: Positions,
    compare: Option<Model>,
    parent: Option<Model>,
) -> Result<(Diagram, Option<Highlight>), UiError> {
    let request = ToolRequest::Diagram {
        model,
        priors,
        compare,
        parent,
    };
    match call(&request).await? {
        ToolAnswer::Diagram { diagram, highlight } => Ok((diagram, highlight)),
        other => Err(unexpected(other)),
    }
}

/// The same diagram as an SVG document.
pub async fn diagram_svg(
    model: Model,
    priors: Positions,
    compare: Option<Model>,
    title: Option<String>,
) -> Result<String, UiError> {
    let request = ToolRequest::DiagramSvg {
        model,
        priors,
        compare,
        title,
    };
    match call(&request).await? {
        ToolAnswer::Svg(svg) => Ok(svg),
        other => Err(unexpected(other)),
    }
}

/// An answer of the wrong kind: its own error when it is one.
fn unexpected(answer: ToolAnswer) -> UiError {
    match answer {
        ToolAnswer::Error { code, message } => UiError::new(code, message),
        _ => UiError::new(
            "TOOLS_BAD_ANSWER",
            "The tools module answered with something else than was asked. Reload the page.",
        ),
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn call(request: &ToolRequest) -> Result<ToolAnswer, UiError> {
    Ok(model::tools::run(request.clone()))
}

#[cfg(target_arch = "wasm32")]
async fn call(request: &ToolRequest) -> Result<ToolAnswer, UiError> {
    use wasm_bindgen::{JsCast, JsValue};
    let unavailable = |detail: JsValue| {
        log::warn!("tools module: {detail:?}");
        UiError::new(
            "CLIENT_TOOLS_UNAVAILABLE",
            "The import and export tools could not be loaded (is the network down?). \
             Nothing was changed; try again when the connection is back.",
        )
    };
    let json = serde_json::to_string(request)
        .map_err(|e| UiError::new("TOOLS_BAD_REQUEST", e.to_string()))?;
    let window: JsValue = web_sys::window()
        .ok_or_else(|| UiError::browser("Loading the tools", "no window"))?
        .into();
    let loader = js_sys::Reflect::get(&window, &JsValue::from_str("dmTools"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or_else(|| unavailable(JsValue::from_str("window.dmTools is missing")))?;
    let promise = loader
        .call0(&window)
        .map_err(unavailable)?
        .dyn_into::<js_sys::Promise>()
        .map_err(unavailable)?;
    let module = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(unavailable)?;
    let function = js_sys::Reflect::get(&module, &JsValue::from_str("call"))
        .map_err(unavailable)?
        .dyn_into::<js_sys::Function>()
        .map_err(unavailable)?;
    let answer = function
        .call1(&JsValue::NULL, &JsValue::from_str(&json))
        .map_err(|e| UiError::browser("The tools module", e))?
        .as_string()
        .ok_or_else(|| UiError::new("TOOLS_BAD_ANSWER", "The tools module gave no text."))?;
    serde_json::from_str(&answer).map_err(|e| UiError::new("TOOLS_BAD_ANSWER", e.to_string()))
}
