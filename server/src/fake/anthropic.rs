//! The fake provider's Anthropic side: `POST /v1/messages` (streamed and not) and
//! `GET /v1/models` in Anthropic's shapes.
//!
//! SKELETON: being written.

use super::Fake;
use axum::{routing::post, Router};
use std::sync::Arc;

/// Routes to merge into the fake's router.
pub fn routes() -> Router<Arc<Fake>> {
    Router::new().route("/v1/messages", post(|| async { "not yet" }))
}
