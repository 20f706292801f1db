//! Shaping a provider's streamed answer on its way to the client.
//!
//! A [`Shaper`] sees every chunk of an upstream body in order and returns the bytes to send
//! on: the OpenAI pass-through returns its input unchanged (and reads usage on the way); the
//! Anthropic translation returns OpenAI-style SSE events. Both report how a stream went wrong
//! as a [`StreamFault`], which the forwarder turns into a final in-band error event.

use bytes::Bytes;
use model::wire::Usage;

/// How an upstream stream went wrong after its first byte.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StreamFault {
    /// An event whose data is not the JSON it should be.
    #[error("the provider sent an unreadable stream event: {0}")]
    Malformed(String),
    /// The body ended before the stream's end marker (`[DONE]`, `message_stop`).
    #[error("the provider's stream ended before it was complete")]
    Incomplete,
    /// The provider reported an error inside the stream.
    #[error("the provider reported an error mid-stream: {0}")]
    Provider(String),
}

/// Turns upstream chunks into client chunks.
pub trait Shaper: Send + 'static {
    /// The next upstream chunk; returns what to send now (possibly empty).
    fn feed(&mut self, chunk: &[u8]) -> Result<Bytes, StreamFault>;
    /// The upstream body ended; returns the last bytes to send, or why the stream is
    /// incomplete.
    fn finish(&mut self) -> Result<Bytes, StreamFault>;
    /// The usage reported so far.
    fn usage(&self) -> Option<Usage>;
    /// Whether the stream's end marker has gone out to the client: the answer is complete,
    /// whatever happens to the connection afterwards.
    fn complete(&self) -> bool;
}

/// The largest event the pass-through holds while waiting for its end; a provider that sends
/// more without a blank line is not speaking SSE.
const MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;

/// The OpenAI-compatible pass-through: forwards the provider's SSE bytes unchanged, checking
/// each event on the way.
///
/// An *event* is the lines up to a blank line; its *data* is the `data:` lines joined. The
/// shaper forwards whole events only, holding an event that a chunk boundary cut in two until
/// its end arrives. Providers send whole events per chunk, so in practice nothing waits; the
/// point is that when a stream fails the client never holds half an event, and the final
/// in-band error event that the forwarder appends can be read as such.
///
/// Every data payload must be JSON or `[DONE]`; an `error` object is a provider error; a
/// `usage` object is kept for token accounting. When the client did not ask for usage (the
/// forwarder asked the provider for it anyway), the usage-only chunk is left out.
pub struct PassThrough {
    client_wants_usage: bool,
    /// Bytes of the event being received, from its first byte.
    pending: Vec<u8>,
    /// Where the next line starts in `pending`.
    line_start: usize,
    /// The data lines of the event being received, joined by `\n`.
    data: Option<String>,
    usage: Option<Usage>,
    done: bool,
}

/// What the pass-through reads of an event's data; unknown fields are skipped, but the whole
/// payload must still be JSON for this to parse.
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(default)]
    choices: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

impl PassThrough {
    /// `client_wants_usage` is what the client asked for with `stream_options.include_usage`.
    pub fn new(client_wants_usage: bool) -> Self {
        PassThrough {
            client_wants_usage,
            pending: Vec::new(),
            line_start: 0,
            data: None,
            usage: None,
            done: false,
        }
    }

    /// Whether `[DONE]` went by.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Reads the complete lines of `pending`, moving whole events to `out`.
    fn drain(&mut self, out: &mut Vec<u8>) -> Result<(), StreamFault> {
        while let Some(offset) = self.pending[self.line_start..]
            .iter()
            .position(|&b| b == b'\n')
        {
            let end = self.line_start + offset;
            let line = &self.pending[self.line_start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                let keep = self.dispatch()?;
                if keep {
                    out.extend_from_slice(&self.pending[..=end]);
                }
                self.pending.drain(..=end);
                self.line_start = 0;
                continue;
            }
            if let Some(value) = line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                let value = std::str::from_utf8(value)
                    .map_err(|_| StreamFault::Malformed("an event's data is not UTF-8".into()))?;
                match &mut self.data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => self.data = Some(value.to_string()),
                }
            }
            // Comments (`:`), `event:`, `id:` and `retry:` lines pass through unread.
            self.line_start = end + 1;
        }
        if self.pending.len() > MAX_EVENT_BYTES {
            return Err(StreamFault::Malformed(format!(
                "an event is longer than {} MiB",
                MAX_EVENT_BYTES >> 20
            )));
        }
        Ok(())
    }

    /// Checks the event that just ended; returns whether to forward it.
    fn dispatch(&mut self) -> Result<bool, StreamFault> {
        let Some(data) = self.data.take() else {
            return Ok(true);
        };
        if data.trim() == "[DONE]" {
            self.done = true;
            return Ok(true);
        }
        let probe: Probe = serde_json::from_str(&data).map_err(|e| {
            let start: String = data.chars().take(80).collect();
            StreamFault::Malformed(format!("{e} in `{start}`"))
        })?;
        if let Some(error) = probe.error.filter(|e| !e.is_null()) {
            let message = error
                .get("message")
                .and_then(serde_json::Value::as_str)
                .map_or_else(|| error.to_string(), str::to_string);
            return Err(StreamFault::Provider(message));
        }
        if let Some(usage) = probe.usage {
            self.usage = Some(usage);
            let usage_only = probe.choices.is_none_or(|c| c.is_empty());
            if usage_only && !self.client_wants_usage {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

impl Shaper for PassThrough {
    fn feed(&mut self, chunk: &[u8]) -> Result<Bytes, StreamFault> {
        self.pending.extend_from_slice(chunk);
        let mut out = Vec::with_capacity(chunk.len());
        self.drain(&mut out)?;
        Ok(Bytes::from(out))
    }

    fn finish(&mut self) -> Result<Bytes, StreamFault> {
        // A last event without its blank line still counts: end it as the provider meant to.
        let mut out = Vec::new();
        if !self.pending.iter().all(u8::is_ascii_whitespace) {
            if !self.pending.ends_with(b"\n") {
                self.pending.push(b'\n');
            }
            self.pending.push(b'\n');
            // An unreadable last event is one the body ended in the middle of.
            match self.drain(&mut out) {
                Err(StreamFault::Malformed(_)) => return Err(StreamFault::Incomplete),
                other => other?,
            }
        }
        if self.done {
            Ok(Bytes::from(out))
        } else {
            Err(StreamFault::Incomplete)
        }
    }

    fn usage(&self) -> Option<Usage> {
        self.usage
    }

    fn complete(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    // A test that unwraps fails with the value it did not expect, which is what it is for.
    #![allow(clippy::unwrap_used)]

    use super::*;

    const USAGE: &str =
        r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}"#;

    fn stream() -> String {
        format!(
            "data: {{\"choices\":[{{\"delta\":{{\"content\":\"Hé\"}}}}]}}\n\n: keep-alive\n\n\
             data: {{\"choices\":[{{\"delta\":{{\"content\":\"llo\"}}}}]}}\r\n\r\n\
             data: {USAGE}\n\ndata: [DONE]\n\n"
        )
    }

    /// Feeds `input` cut at every `step` bytes; returns what came out, or the fault.
    fn run(
        input: &[u8],
        step: usize,
        wants_usage: bool,
    ) -> (Vec<u8>, Result<(), StreamFault>, PassThrough) {
        let mut shaper = PassThrough::new(wants_usage);
        let mut out = Vec::new();
        for piece in input.chunks(step) {
            match shaper.feed(piece) {
                Ok(bytes) => out.extend_from_slice(&bytes),
                Err(fault) => return (out, Err(fault), shaper),
            }
        }
        let end = shaper.finish().map(|bytes| out.extend_from_slice(&bytes));
        (out, end, shaper)
    }

    #[test]
    fn passes_bytes_unchanged_across_every_chunk_boundary() {
        let input = stream();
        for step in 1..=input.len() {
            let (out, end, shaper) = run(input.as_bytes(), step, true);
            assert_eq!(end, Ok(()), "step {step}");
            assert_eq!(String::from_utf8(out).unwrap(), input, "step {step}");
            assert_eq!(shaper.usage().map(|u| u.total_tokens), Some(7));
            assert!(shaper.is_done());
        }
    }

    #[test]
    fn leaves_out_the_usage_chunk_the_client_did_not_ask_for() {
        let input = stream();
        let (out, end, shaper) = run(input.as_bytes(), 7, false);
        assert_eq!(end, Ok(()));
        let expected = input.replace(&format!("data: {USAGE}\n\n"), "");
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        assert_eq!(
            shaper.usage().map(|u| u.total_tokens),
            Some(7),
            "still counted"
        );
    }

    #[test]
    fn forwards_whole_events_only() {
        let mut shaper = PassThrough::new(true);
        assert_eq!(shaper.feed(b"data: {\"choi").unwrap(), Bytes::new());
        assert_eq!(
            shaper.feed(b"ces\":[]}\n\ndata: [DO").unwrap(),
            Bytes::from_static(b"data: {\"choices\":[]}\n\n")
        );
        assert_eq!(
            shaper.finish(),
            Err(StreamFault::Incomplete),
            "no [DONE] yet"
        );
    }

    #[test]
    fn faults() {
        let check = |input: &str, expected: StreamFault| {
            for step in [1, 5, input.len()] {
                let (_, end, _) = run(input.as_bytes(), step, true);
                assert_eq!(end, Err(expected.clone()), "{input:?} step {step}");
            }
        };
        check("data: {\"choices\":[]}\n\n", StreamFault::Incomplete);
        check(
            "data: {\"error\":{\"message\":\"overloaded\"}}\n\n",
            StreamFault::Provider("overloaded".into()),
        );
        let (_, end, _) = run(b"data: {\"choices\":[\n\ndata: [DONE]\n\n", 3, true);
        assert!(matches!(end, Err(StreamFault::Malformed(_))), "{end:?}");
        let (_, end, _) = run(b"data: 42\n\n", 3, true);
        assert!(matches!(end, Err(StreamFault::Malformed(_))), "{end:?}");
    }

    #[test]
    fn a_last_event_without_its_blank_line_still_ends_the_stream() {
        let (out, end, _) = run(b"data: {\"choices\":[]}\n\ndata: [DONE]", 4, true);
        assert_eq!(end, Ok(()));
        assert_eq!(out, b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n");
    }
}
