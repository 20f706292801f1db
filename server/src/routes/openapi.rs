//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the API.
//!
//! The document is hand-written in `server/openapi.json` and compiled into the binary. It is
//! parsed once, on the first request, and served from then on as the compact bytes of that
//! parse, so a request costs no parsing and no allocation beyond the response. The tests in
//! `server/tests/ops.rs` check that it is valid OpenAPI and that it and the router agree.

use crate::error::ApiError;
use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use std::sync::LazyLock;

/// The document as written.
pub const SOURCE: &str = include_str!("../../openapi.json");

/// The parsed document, re-serialized compactly; the parse error if the file is not JSON (a
/// unit test keeps that from ever shipping).
static DOCUMENT: LazyLock<Result<Bytes, String>> = LazyLock::new(|| {
    let value: serde_json::Value =
        serde_json::from_str(SOURCE).map_err(|e| format!("openapi.json is not JSON: {e}"))?;
    serde_json::to_vec(&value)
        .map(Bytes::from)
        .map_err(|e| e.to_string())
});

pub async fn document() -> Response {
    match &*DOCUMENT {
        Ok(bytes) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes.clone(),
        )
            .into_response(),
        Err(cause) => ApiError::internal(cause).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_json_of_openapi_3_1() {
        let bytes = DOCUMENT.as_ref().expect("openapi.json parses");
        let value: serde_json::Value = serde_json::from_slice(bytes).expect("round trips");
        assert_eq!(value["openapi"], "3.1.0");
        assert_eq!(value["servers"][0]["url"], "/api/v1");
    }
}
