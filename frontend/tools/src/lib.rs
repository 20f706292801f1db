//! The tools module: the model core's SQL import, exporters and migrations, compiled to a wasm
//! module of its own that the app loads the first time it needs one of them
//! (`app::browser::tools`), so the page's first load does not carry them.
//!
//! One function, JSON in and JSON out: the requests and answers are `model::tools`'.

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs one `model::tools::ToolRequest` given as JSON and returns its `ToolAnswer` as JSON.
#[wasm_bindgen]
pub fn call(request: &str) -> String {
    model::tools::run_json(request)
}
