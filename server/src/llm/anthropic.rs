//! Anthropic's Messages API behind the OpenAI chat-completions shape.
//!
//! SKELETON: the public API below is the contract the forwarder uses; the implementation is
//! being written.

use super::stream::{Shaper, StreamFault};
use crate::error::ApiError;
use app::wire::{ModelInfo, Usage};
use bytes::Bytes;
use serde_json::Value;

/// The `anthropic-version` header value the translation is written against.
pub const API_VERSION: &str = "2023-06-01";

/// Translates an OpenAI chat-completions request into a Messages API request.
pub fn to_messages_request(body: &Value) -> Result<Value, ApiError> {
    Ok(body.clone())
}

/// Translates a Messages API response into an OpenAI `chat.completion` object.
pub fn to_chat_completion(body: &Value) -> Result<Value, StreamFault> {
    Ok(body.clone())
}

/// Reads Anthropic's `GET /v1/models` list.
pub fn parse_models(_body: &Value) -> Vec<ModelInfo> {
    Vec::new()
}

/// Translates a Messages API event stream into OpenAI `chat.completion.chunk` events.
pub struct StreamTranslator {
    usage: Option<Usage>,
}

impl StreamTranslator {
    /// `model` names the model in the chunks; `include_usage` adds the final usage chunk
    /// (what the client asked for with `stream_options.include_usage`).
    pub fn new(_model: String, _include_usage: bool) -> Self {
        StreamTranslator { usage: None }
    }
}

impl Shaper for StreamTranslator {
    fn feed(&mut self, chunk: &[u8]) -> Result<Bytes, StreamFault> {
        Ok(Bytes::copy_from_slice(chunk))
    }
    fn finish(&mut self) -> Result<Bytes, StreamFault> {
        Ok(Bytes::new())
    }
    fn usage(&self) -> Option<Usage> {
        self.usage
    }
}
