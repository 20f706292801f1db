//! Wall-clock time as the server stores and compares it: milliseconds since the Unix epoch
//! (`created_at`, `expires_at`, `updated_at`). Functions that decide by the time take it as an
//! argument; only the edges (handlers, the pruner) read the clock.

/// Milliseconds since the Unix epoch (0 for a clock set before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
