//! Wall-clock time as the server stores and compares it: milliseconds since the Unix epoch
//! (`created_at`, `expires_at`, `updated_at`). Functions that decide by the time take it as an
//! argument; only the edges (handlers, the pruner) read the clock.
//!
//! [`now_ms`] reads the system's clock. A [`Clock`] is a clock that can be handed to the
//! server (`Config::clock`, then `AppState::clock`): the system's, or a *manual* one that
//! stands still until a test moves it, so that a test can see a share link expire without
//! waiting. The share link handlers read `AppState::clock`; the rest reads [`now_ms`].

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};
use std::time::Duration;

/// Milliseconds since the Unix epoch (0 for a clock set before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The system's clock (the default), or a manual clock shared by its clones.
#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that reads `at` until [`Clock::advance`] moves it.
    pub fn manual(at: i64) -> Self {
        Clock(Some(Arc::new(AtomicI64::new(at))))
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            None => now_ms(),
            Some(at) => at.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock (and its clones) forward; the system's clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Some(at) = &self.0 {
            let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
            at.fetch_add(by, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_its_clones_move_with_it() {
        let clock = Clock::manual(1_000);
        let clone = clock.clone();
        assert_eq!(clock.now_ms(), 1_000);
        clone.advance(Duration::from_secs(2));
        assert_eq!(clock.now_ms(), 3_000);
        let system = Clock::system();
        system.advance(Duration::from_secs(3600));
        assert!((system.now_ms() - now_ms()).abs() < 60_000);
    }
}
