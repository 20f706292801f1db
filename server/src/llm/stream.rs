//! Shaping a provider's streamed answer on its way to the client.
//!
//! A [`Shaper`] sees every chunk of an upstream body in order and returns the bytes to send
//! on: the OpenAI pass-through returns its input unchanged (and reads usage on the way); the
//! Anthropic translation returns OpenAI-style SSE events. Both report how a stream went wrong
//! as a [`StreamFault`], which the forwarder turns into a final in-band error event.

use app::wire::Usage;
use bytes::Bytes;

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
}
