//! `GET /api/v1/openapi.json`: the OpenAPI document of the API.
//!
//! SKELETON: being written.

use axum::Json;
use serde_json::{json, Value};

pub async fn document() -> Json<Value> {
    Json(json!({ "openapi": "3.1.0" }))
}
