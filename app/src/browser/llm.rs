//! The streamed LLM call from the browser, through the server's gateway.
//!
//! The request goes to `/api/v1/llm/{provider}/chat/completions` with `stream: true`. The
//! response body is read chunk by chunk (wasm-streams over the fetch `ReadableStream`), split
//! into server-sent events (eventsource-stream), and each event's text is handed to a callback
//! as it arrives, so the page shows progress. A stream that ends without `[DONE]` was cut short
//! and is reported as such; an abort signal cancels the call. After `[DONE]` the answer is
//! complete and returned at once, and the body is still read to its end, so the request ends
//! as a success, not an abort.

use super::{api, UiError};
use eventsource_stream::Eventsource;
use futures::StreamExt;
use gloo_net::http::Request;
use model::wire::{parse_stream_event, ChatRequest, StreamEvent, Usage};
use uuid::Uuid;

/// The complete answer of a streamed call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    pub text: String,
    pub usage: Option<Usage>,
}

/// Streams a chat completion; `on_delta` sees the text so far after every event.
pub async fn stream_chat(
    provider: Uuid,
    request: &ChatRequest,
    abort: Option<&web_sys::AbortSignal>,
    mut on_delta: impl FnMut(&str),
) -> Result<Completion, UiError> {
    let response = Request::post(&format!("/api/v1/llm/{provider}/chat/completions"))
        .header(api::CSRF_HEADER.0, api::CSRF_HEADER.1)
        .abort_signal(abort)
        .json(request)
        .map_err(|e| {
            UiError::new(
                "CLIENT_ENCODE",
                format!("could not encode the request: {e}"),
            )
        })?
        .send()
        .await
        .map_err(|e| aborted_or(abort, e))?;
    if !response.ok() {
        return Err(api::error_from(response).await);
    }
    let body = response.body().ok_or_else(|| {
        UiError::new(
            "AI_EMPTY_RESPONSE",
            "the provider sent an empty answer: try again",
        )
    })?;
    let chunks = wasm_streams::ReadableStream::from_raw(body)
        .into_stream()
        .map(|chunk| chunk.map(|value| js_sys::Uint8Array::new(&value).to_vec()));
    let mut events = chunks.eventsource();
    let mut completion = Completion::default();
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| match abort {
            Some(signal) if signal.aborted() => cancelled(),
            _ => {
                log::warn!("answer stream broke: {e:?}");
                UiError::new(
                    "AI_STREAM_BROKEN",
                    "the answer stream broke off: nothing was saved, generate again",
                )
            }
        })?;
        match parse_stream_event(&event.data).map_err(|m| UiError::new("AI_STREAM_INVALID", m))? {
            StreamEvent::Done => {
                // Read the rest of the body (nothing but the connection's end) in the
                // background: dropping it now would abort the fetch, which the browser logs as
                // a failed request.
                leptos::task::spawn_local(async move { while events.next().await.is_some() {} });
                return Ok(completion);
            }
            StreamEvent::Delta { content, usage } => {
                completion.text.push_str(&content);
                if usage.is_some() {
                    completion.usage = usage;
                }
                on_delta(&completion.text);
            }
        }
    }
    Err(UiError::new(
        "AI_STREAM_TRUNCATED",
        "the answer stream ended before it was complete: nothing was saved, generate again",
    ))
}

fn cancelled() -> UiError {
    UiError::new(
        "CLIENT_CANCELLED",
        "generation cancelled: nothing was saved",
    )
}

fn aborted_or(abort: Option<&web_sys::AbortSignal>, e: gloo_net::Error) -> UiError {
    match abort {
        Some(signal) if signal.aborted() => cancelled(),
        _ => {
            log::warn!("request failed: {e}");
            UiError::new(
                "CLIENT_NETWORK",
                "the server could not be reached: check your connection and try again",
            )
        }
    }
}
