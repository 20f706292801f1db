//! Per-user rate limit of LLM calls: a keyed GCRA limiter (governor) of N requests per minute.
//!
//! Memory stays bounded: [`LlmLimiter::prune`] drops users whose state is back to full
//! capacity, and the server calls it every minute.

use governor::{
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
    Quota, RateLimiter,
};
use std::{num::NonZeroU32, time::Duration};
use uuid::Uuid;

type Keyed =
    RateLimiter<Uuid, DefaultKeyedStateStore<Uuid>, DefaultClock, StateInformationMiddleware>;

pub struct LlmLimiter {
    per_minute: u32,
    limiter: Keyed,
    clock: DefaultClock,
}

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed { limit: u32, remaining: u32 },
    Limited { limit: u32, retry_after: Duration },
}

impl LlmLimiter {
    pub fn per_minute(per_minute: u32) -> Self {
        let per_minute = per_minute.max(1);
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        LlmLimiter {
            per_minute,
            limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one request from `user`'s allowance.
    pub fn check(&self, user: Uuid) -> Decision {
        match self.limiter.check_key(&user) {
            Ok(snapshot) => Decision::Allowed {
                limit: self.per_minute,
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Decision::Limited {
                limit: self.per_minute,
                retry_after: not_until.wait_time_from(self.clock.now()),
            },
        }
    }

    /// Forgets users whose allowance is full again.
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Number of users with state.
    pub fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_exactly_the_quota_then_limits() {
        let limiter = LlmLimiter::per_minute(3);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        for expected in [2, 1, 0] {
            assert_eq!(
                limiter.check(a),
                Decision::Allowed {
                    limit: 3,
                    remaining: expected
                }
            );
        }
        match limiter.check(a) {
            Decision::Limited {
                limit: 3,
                retry_after,
            } => {
                assert!(
                    retry_after > Duration::from_secs(10) && retry_after <= Duration::from_secs(20),
                    "{retry_after:?}"
                )
            }
            other => panic!("expected a limit, got {other:?}"),
        }
        // Users are limited separately.
        assert!(matches!(limiter.check(b), Decision::Allowed { .. }));
        assert_eq!(limiter.tracked(), 2);
    }
}
