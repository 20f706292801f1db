//! Rate limits: per user LLM requests and tokens per minute, per client IP register and login
//! attempts and share link lookups per minute.
//!
//! A *key* is what a limit counts by: a user id for the two LLM limits, a client address for
//! sign-in attempts and share link lookups (an IPv6 address counts by its /64 prefix, since one host usually owns a
//! whole /64, and an IPv4-mapped IPv6 address counts as its IPv4 address). A key's *allowance*
//! is what it may still spend now; it refills continuously at the configured rate per minute,
//! up to one minute's worth. A key is *full* when its allowance is back to that maximum: a full
//! key needs no state, so it is forgotten. The only state kept per key and limit is its
//! *full-at* time, the moment its allowance will be full again.
//!
//! Requests, sign-in attempts and share link lookups use governor's keyed GCRA, whose full-at time is its
//! "theoretical arrival time", over a state store of our own (`GcraStore`) that holds at most
//! `max_keys` keys. LLM tokens use a hand-written bucket (`TokenLimit`) because a token
//! charge must be corrected after the call (refunded, or extended into debt), which governor
//! cannot do. A call passes both LLM limits or is charged by neither.
//!
//! A limit configured as 0 is off. Time comes from a [`LimitClock`], which tests drive by hand.

use crate::config::Config;
use axum::http::{HeaderMap, HeaderValue};
use governor::{
    clock::{Clock, FakeRelativeClock},
    middleware::StateInformationMiddleware,
    nanos::Nanos,
    state::{keyed::ShrinkableKeyedStateStore, StateStore},
    Quota,
};
use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, RandomState},
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};
use uuid::Uuid;

/// One minute in nanoseconds, the period of every limit.
const MINUTE_NS: u128 = 60_000_000_000;

/// Shards per key map: enough that concurrent calls of different users rarely wait for the
/// same lock, few enough that an empty limiter costs little.
const SHARDS: usize = 32;

/// The configured limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub requests_per_minute: u32,
    pub tokens_per_minute: u64,
    pub auth_attempts_per_minute: u32,
    /// Share link pages (and downloads) opened per client address.
    pub share_lookups_per_minute: u32,
    /// Most keys (users, IP addresses) kept per limiter.
    pub max_keys: usize,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            requests_per_minute: config.llm_requests_per_minute,
            tokens_per_minute: config.llm_tokens_per_minute,
            auth_attempts_per_minute: config.auth_attempts_per_minute,
            share_lookups_per_minute: config.share_lookups_per_minute,
            max_keys: config.rate_limit_max_keys,
        }
    }
}

/// Which limit refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    Requests,
    Tokens,
    AuthAttempts,
    ShareLookups,
}

/// A refusal: which limit, its size per minute, when to try again, and the state of the limit
/// that refused, for the `x-ratelimit-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    pub kind: LimitKind,
    pub limit: u64,
    /// How long until the refused request would pass.
    pub retry_after: Duration,
    /// What the key may still spend now (tokens may remain, just not enough).
    pub remaining: u64,
    /// How long until the key's allowance is full again.
    pub reset: Duration,
}

/// An allowed LLM call: what it was charged and the state of both limits after it, for the
/// `x-ratelimit-*` headers. A limit that is off shows as a limit of 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LlmGrant {
    pub charged: u64,
    pub limit_requests: u32,
    pub remaining_requests: u32,
    pub reset_requests: Duration,
    pub limit_tokens: u64,
    pub remaining_tokens: u64,
    pub reset_tokens: Duration,
}

impl LlmGrant {
    /// Writes the `x-ratelimit-*` headers (OpenAI's names), for the limits that are on.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        if self.limit_requests > 0 {
            write_limit_headers(
                headers,
                REQUEST_HEADERS,
                u64::from(self.limit_requests),
                u64::from(self.remaining_requests),
                self.reset_requests,
            );
        }
        if self.limit_tokens > 0 {
            write_limit_headers(
                headers,
                TOKEN_HEADERS,
                self.limit_tokens,
                self.remaining_tokens,
                self.reset_tokens,
            );
        }
    }
}

impl Limited {
    /// Writes the `x-ratelimit-*` headers of the limit that refused (`Retry-After` is written
    /// by the error envelope). Sign-in attempts use the `-requests` names: each attempt is one
    /// request to the register or login endpoint, and so is each share link lookup.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let names = match self.kind {
            LimitKind::Requests | LimitKind::AuthAttempts | LimitKind::ShareLookups => {
                REQUEST_HEADERS
            }
            LimitKind::Tokens => TOKEN_HEADERS,
        };
        write_limit_headers(headers, names, self.limit, self.remaining, self.reset);
    }
}

const REQUEST_HEADERS: [&str; 3] = [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
];

const TOKEN_HEADERS: [&str; 3] = [
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
    "x-ratelimit-reset-tokens",
];

fn write_limit_headers(
    headers: &mut HeaderMap,
    [limit_name, remaining_name, reset_name]: [&'static str; 3],
    limit: u64,
    remaining: u64,
    reset: Duration,
) {
    headers.insert(limit_name, HeaderValue::from(limit));
    headers.insert(remaining_name, HeaderValue::from(remaining));
    if let Ok(value) = HeaderValue::try_from(openai_duration(reset)) {
        headers.insert(reset_name, value);
    }
}

/// A duration in OpenAI's (and Go's) format, rounded up to the millisecond: `0s`, `120ms`,
/// `1s`, `8.64s`, `6m0s`, `1h0m0s`.
pub fn openai_duration(duration: Duration) -> String {
    let ms = duration.as_nanos().div_ceil(1_000_000);
    if ms == 0 {
        return "0s".to_string();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (hours, minutes) = (ms / 3_600_000, ms / 60_000 % 60);
    let (seconds, fraction) = (ms / 1000 % 60, ms % 1000);
    let seconds = if fraction == 0 {
        format!("{seconds}s")
    } else {
        let fraction = format!("{fraction:03}");
        format!("{seconds}.{}s", fraction.trim_end_matches('0'))
    };
    match (hours, minutes) {
        (0, 0) => seconds,
        (0, _) => format!("{minutes}m{seconds}"),
        _ => format!("{hours}h{minutes}m{seconds}"),
    }
}

/// The time source of a [`RateLimiter`]: the monotonic clock of the machine, or a manual clock
/// that tests advance by hand. Readings are nanoseconds since the clock was made.
#[derive(Clone, Debug)]
pub struct LimitClock(ClockSource);

#[derive(Clone, Debug)]
enum ClockSource {
    Real(Instant),
    Manual(FakeRelativeClock),
}

impl LimitClock {
    pub fn real() -> Self {
        LimitClock(ClockSource::Real(Instant::now()))
    }

    /// A clock that stands still until [`LimitClock::advance`] moves it.
    pub fn manual() -> Self {
        LimitClock(ClockSource::Manual(FakeRelativeClock::default()))
    }

    /// Moves a manual clock (and its clones) forward; the real clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let ClockSource::Manual(clock) = &self.0 {
            clock.advance(by);
        }
    }
}

impl Clock for LimitClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        match &self.0 {
            ClockSource::Real(start) => Nanos::from(start.elapsed()),
            ClockSource::Manual(clock) => clock.now(),
        }
    }
}

/// A map from key to full-at time, in shards that each have their own lock and hold at most
/// `per_shard` keys, so that the whole map never holds more than the configured `max_keys`.
/// Full-at times are in the unit of the limit that owns the map; only their order and their
/// comparison with "now" in the same unit matter here.
#[derive(Debug)]
struct Shards<K> {
    hasher: RandomState,
    shards: Box<[Mutex<HashMap<K, u128>>]>,
    per_shard: usize,
}

impl<K: Hash + Eq> Shards<K> {
    fn new(max_keys: usize) -> Self {
        let count = SHARDS.min(max_keys).max(1);
        Shards {
            hasher: RandomState::new(),
            shards: (0..count).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: (max_keys / count).max(1),
        }
    }

    /// Locks the shard of `key`. No code panics while holding a shard, so a poisoned lock
    /// still guards a consistent map and is used as is.
    fn lock(&self, key: &K) -> MutexGuard<'_, HashMap<K, u128>> {
        let index = self.hasher.hash_one(key) as usize % self.shards.len();
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets `key`'s full-at time; a new key in a shard at its cap first makes room.
    fn put(&self, map: &mut HashMap<K, u128>, key: K, full_at: u128, now: u128) {
        if let Some(slot) = map.get_mut(&key) {
            *slot = full_at;
            return;
        }
        if map.len() >= self.per_shard {
            make_room(map, self.per_shard, now);
        }
        map.insert(key, full_at);
    }

    /// Forgets the keys whose full-at time is at or before `now`, and frees the memory.
    fn forget_full(&self, now: u128) {
        for shard in &self.shards {
            let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
            map.retain(|_, full_at| *full_at > now);
            map.shrink_to_fit();
        }
    }

    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// Makes room in a shard that holds `per_shard` keys: drops every full key, then, if that
/// frees less than an eighth of the shard, the keys that will be full soonest until an eighth
/// is free. Freeing an eighth at a time keeps the cost of a flood of new keys at a few
/// operations per key; the one allocation here happens once per eighth of a shard.
///
/// The keys dropped after the full ones are those nearest to full rather than the least
/// recently used: a GCRA key's full-at time moves forward with every allowed use, so it orders
/// keys by recent use weighted by how much they spent, and dropping the key nearest to full
/// forgives the least. A key that floods a limit holds the latest full-at time, so a churn of
/// new keys (from many addresses) cannot wash its debt away.
fn make_room<K>(map: &mut HashMap<K, u128>, per_shard: usize, now: u128) {
    map.retain(|_, full_at| *full_at > now);
    let target = per_shard - (per_shard / 8).max(1);
    if map.len() <= target {
        return;
    }
    let excess = map.len() - target;
    let mut times: Vec<u128> = map.values().copied().collect();
    let (_, &mut cut, _) = times.select_nth_unstable(excess - 1);
    // Drop everything before the cut, and as many keys exactly at it as are still needed.
    let mut at_cut = excess - times.iter().filter(|time| **time < cut).count();
    map.retain(|_, full_at| {
        if *full_at < cut {
            false
        } else if *full_at == cut && at_cut > 0 {
            at_cut -= 1;
            false
        } else {
            true
        }
    });
}

/// governor's state store for a keyed GCRA limiter, on bounded [`Shards`] (governor's own
/// keyed stores grow until pruned). The map holds the GCRA's theoretical arrival time, which
/// is the key's full-at time, in nanoseconds since the limiter started.
#[derive(Debug)]
struct GcraStore<K> {
    shards: Arc<Shards<K>>,
    /// The GCRA's emission interval in nanoseconds: a minute divided by the limit.
    interval: u64,
}

impl<K: Hash + Eq + Clone> StateStore for GcraStore<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut map = self.shards.lock(key);
        if let Some(tat) = map.get_mut(key) {
            let (outcome, next) = f(Some(Nanos::from(*tat as u64)))?;
            *tat = u128::from(next.as_u64());
            return Ok(outcome);
        }
        // A refused request never creates a key: a new key is full, so `f` allows it.
        let (outcome, next) = f(None)?;
        // For a new key, GCRA sets the arrival time to "now" plus one interval.
        let now = next.as_u64().saturating_sub(self.interval);
        self.shards.put(
            &mut map,
            key.clone(),
            u128::from(next.as_u64()),
            u128::from(now),
        );
        Ok(outcome)
    }
}

impl<K: Hash + Eq + Clone> ShrinkableKeyedStateStore<K> for GcraStore<K> {
    fn retain_recent(&self, drop_below: Nanos) {
        self.shards.forget_full(u128::from(drop_below.as_u64()));
    }

    fn len(&self) -> usize {
        self.shards.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

type Gcra<K> = governor::RateLimiter<K, GcraStore<K>, LimitClock, StateInformationMiddleware>;

/// A count per minute (LLM requests, sign-in attempts, share link lookups) per key, by governor's GCRA.
struct CountLimit<K: Hash + Eq + Clone> {
    kind: LimitKind,
    per_minute: u32,
    limiter: Gcra<K>,
    /// The same map as the limiter's store, to read a key's full-at time for the headers.
    shards: Arc<Shards<K>>,
    /// The clock reading the limiter counts its times from.
    start: Nanos,
    /// The GCRA's burst tolerance: how far past "now" a key's full-at time may be for one more
    /// request to pass.
    tolerance: Duration,
}

impl<K: Hash + Eq + Clone> CountLimit<K> {
    /// The limit, or `None` when it is off.
    fn new(kind: LimitKind, per_minute: u32, max_keys: usize, clock: &LimitClock) -> Option<Self> {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute)?);
        let interval = quota.replenish_interval();
        let shards = Arc::new(Shards::new(max_keys));
        let store = GcraStore {
            shards: shards.clone(),
            interval: interval.as_nanos() as u64,
        };
        // governor reads the clock once more in `new`: with the real clock, `start` is a few
        // nanoseconds early, which only rounds the reported reset time.
        let start = clock.now();
        Some(CountLimit {
            kind,
            per_minute,
            limiter: Gcra::new(quota, store, clock.clone()),
            shards,
            start,
            tolerance: interval * (per_minute - 1),
        })
    }

    /// Takes one from `key`'s allowance: the count left and the time until full, or a refusal.
    fn check(&self, key: &K) -> Result<(u32, Duration), Limited> {
        match self.limiter.check_key(key) {
            Ok(snapshot) => Ok((snapshot.remaining_burst_capacity(), self.until_full(key))),
            Err(not_until) => {
                let retry_after = not_until.wait_time_from(self.limiter.clock().now());
                Err(Limited {
                    kind: self.kind,
                    limit: u64::from(self.per_minute),
                    retry_after,
                    remaining: 0,
                    reset: retry_after + self.tolerance,
                })
            }
        }
    }

    fn until_full(&self, key: &K) -> Duration {
        let now = self.limiter.clock().now().saturating_sub(self.start);
        let tat = self.shards.lock(key).get(key).copied().unwrap_or(0);
        Duration::from_nanos(tat.saturating_sub(u128::from(now.as_u64())) as u64)
    }

    fn prune(&self) {
        self.limiter.retain_recent();
    }

    fn tracked(&self) -> usize {
        self.limiter.len()
    }
}

/// LLM tokens per minute per user: a token bucket that refills continuously and may go into
/// debt.
///
/// Written by hand because governor cannot do what token accounting needs: a call is charged
/// an estimate when it starts and corrected when the provider reports its usage, by a refund
/// or by an extra charge that may exceed what is left (a debt that later calls wait out), and
/// governor's cells can neither be given back nor overdrawn.
///
/// The bucket is stored as its full-at time, like a GCRA, so a key is one number and refill
/// needs no timer. Times are *scaled*: nanoseconds times `per_minute`, so that a charge of `n`
/// tokens moves the full-at time by exactly `n` minutes' worth of scaled time (`n *
/// MINUTE_NS`) with integer arithmetic and no rounding: a budget of N tokens admits exactly N.
struct TokenLimit {
    per_minute: u64,
    shards: Shards<Uuid>,
}

/// What a token check leaves, for the grant.
struct TokenState {
    remaining: u64,
    reset: Duration,
}

impl TokenLimit {
    fn new(per_minute: u64, max_keys: usize) -> Option<Self> {
        (per_minute > 0).then(|| TokenLimit {
            per_minute,
            shards: Shards::new(max_keys),
        })
    }

    fn scaled(&self, now: Nanos) -> u128 {
        u128::from(now.as_u64()) * u128::from(self.per_minute)
    }

    /// The whole bucket in scaled time.
    fn budget(&self) -> u128 {
        u128::from(self.per_minute) * MINUTE_NS
    }

    /// Refuses `cost` tokens unless the bucket holds them. A cost above the whole budget could
    /// never fit, so it passes when the bucket is full and leaves it in debt: the caller gets
    /// an answer (the call runs, and later calls wait) instead of a 429 that never ends.
    fn admit(&self, full_at: u128, now: u128, cost: u64) -> Result<(), Limited> {
        let need = u128::from(cost.min(self.per_minute)) * MINUTE_NS;
        let debt = full_at.saturating_sub(now);
        let over = (debt + need).saturating_sub(self.budget());
        if over == 0 {
            return Ok(());
        }
        let state = self.state(full_at, now);
        Err(Limited {
            kind: LimitKind::Tokens,
            limit: self.per_minute,
            retry_after: self.to_duration(over),
            remaining: state.remaining,
            reset: state.reset,
        })
    }

    /// Charges `cost` tokens, with no check; returns the new full-at time.
    fn charge(&self, map: &mut HashMap<Uuid, u128>, user: Uuid, now: u128, cost: u64) -> u128 {
        let full_at = map.get(&user).copied().unwrap_or(0).max(now) + u128::from(cost) * MINUTE_NS;
        self.shards.put(map, user, full_at, now);
        full_at
    }

    fn state(&self, full_at: u128, now: u128) -> TokenState {
        let debt = full_at.saturating_sub(now);
        TokenState {
            remaining: (self.budget().saturating_sub(debt) / MINUTE_NS) as u64,
            reset: self.to_duration(debt),
        }
    }

    /// A span of scaled time as a duration, rounded up to the nanosecond.
    fn to_duration(&self, scaled: u128) -> Duration {
        let nanos = scaled.div_ceil(u128::from(self.per_minute));
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }
}

/// Every limit of the server, each with its own bounded key map.
pub struct RateLimiter {
    limits: Limits,
    clock: LimitClock,
    requests: Option<CountLimit<Uuid>>,
    tokens: Option<TokenLimit>,
    auth: Option<CountLimit<IpAddr>>,
    shares: Option<CountLimit<IpAddr>>,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        RateLimiter::with_clock(limits, LimitClock::real())
    }

    /// A limiter that reads `clock` (tests pass a manual clock).
    pub fn with_clock(limits: Limits, clock: LimitClock) -> Self {
        RateLimiter {
            requests: CountLimit::new(
                LimitKind::Requests,
                limits.requests_per_minute,
                limits.max_keys,
                &clock,
            ),
            tokens: TokenLimit::new(limits.tokens_per_minute, limits.max_keys),
            auth: CountLimit::new(
                LimitKind::AuthAttempts,
                limits.auth_attempts_per_minute,
                limits.max_keys,
                &clock,
            ),
            shares: CountLimit::new(
                LimitKind::ShareLookups,
                limits.share_lookups_per_minute,
                limits.max_keys,
                &clock,
            ),
            limits,
            clock,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes one request and `estimated_tokens` from `user`'s allowances, or refuses. A refused
    /// call is charged nothing: the token check comes first, and the request limit is asked
    /// only once the tokens fit, while `user`'s token shard stays locked, so that no
    /// concurrent call of the same user can spend the tokens in between.
    pub fn check_llm(&self, user: Uuid, estimated_tokens: u64) -> Result<LlmGrant, Limited> {
        let grant = |(remaining_requests, reset_requests), tokens: Option<TokenState>| {
            let tokens = tokens.unwrap_or(TokenState {
                remaining: 0,
                reset: Duration::ZERO,
            });
            LlmGrant {
                charged: estimated_tokens,
                limit_requests: self.limits.requests_per_minute,
                remaining_requests,
                reset_requests,
                limit_tokens: self.limits.tokens_per_minute,
                remaining_tokens: tokens.remaining,
                reset_tokens: tokens.reset,
            }
        };
        let check_requests = || match &self.requests {
            Some(requests) => requests.check(&user),
            None => Ok((0, Duration::ZERO)),
        };
        let Some(tokens) = &self.tokens else {
            return Ok(grant(check_requests()?, None));
        };
        let now = tokens.scaled(self.clock.now());
        let mut map = tokens.shards.lock(&user);
        tokens.admit(map.get(&user).copied().unwrap_or(0), now, estimated_tokens)?;
        let requests = check_requests()?;
        let full_at = tokens.charge(&mut map, user, now, estimated_tokens);
        drop(map);
        Ok(grant(requests, Some(tokens.state(full_at, now))))
    }

    /// Corrects a call's charge from the estimate to what the provider reported: refunds the
    /// difference when the call used less, charges it (into debt if need be) when it used more.
    pub fn settle(&self, user: Uuid, charged: u64, actual: u64) {
        let Some(tokens) = &self.tokens else {
            return;
        };
        let now = tokens.scaled(self.clock.now());
        let mut map = tokens.shards.lock(&user);
        if actual > charged {
            tokens.charge(&mut map, user, now, actual - charged);
        } else if let Some(full_at) = map.get_mut(&user) {
            // A full-at time in the past means a full bucket, so the refund cannot overfill it.
            *full_at = full_at.saturating_sub(u128::from(charged - actual) * MINUTE_NS);
        }
    }

    /// Takes one register/login attempt from `ip`'s allowance, or refuses.
    pub fn check_auth(&self, ip: IpAddr) -> Result<(), Limited> {
        match &self.auth {
            Some(auth) => auth.check(&client_key(ip)).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Takes one share link lookup from `ip`'s allowance, or refuses.
    pub fn check_share(&self, ip: IpAddr) -> Result<(), Limited> {
        match &self.shares {
            Some(shares) => shares.check(&client_key(ip)).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Forgets keys whose allowances are full again.
    pub fn prune(&self) {
        if let Some(requests) = &self.requests {
            requests.prune();
        }
        if let Some(auth) = &self.auth {
            auth.prune();
        }
        if let Some(shares) = &self.shares {
            shares.prune();
        }
        if let Some(tokens) = &self.tokens {
            tokens.shards.forget_full(tokens.scaled(self.clock.now()));
        }
    }

    /// Keys with state, over all limiters.
    pub fn tracked(&self) -> usize {
        self.requests.as_ref().map_or(0, CountLimit::tracked)
            + self.auth.as_ref().map_or(0, CountLimit::tracked)
            + self.shares.as_ref().map_or(0, CountLimit::tracked)
            + self.tokens.as_ref().map_or(0, |tokens| tokens.shards.len())
    }
}

/// The key an address counts under: IPv6 by its /64 prefix, IPv4-mapped IPv6 as IPv4.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn limits(requests: u32, tokens: u64) -> Limits {
        Limits {
            requests_per_minute: requests,
            tokens_per_minute: tokens,
            auth_attempts_per_minute: 10,
            share_lookups_per_minute: 0,
            max_keys: 1000,
        }
    }

    fn manual(limits: Limits) -> (RateLimiter, LimitClock) {
        let clock = LimitClock::manual();
        (RateLimiter::with_clock(limits, clock.clone()), clock)
    }

    fn refused(result: Result<LlmGrant, Limited>) -> Limited {
        result.expect_err("expected a refusal")
    }

    #[test]
    fn requests_allow_exactly_the_limit_then_refuse_until_one_interval_passes() {
        let (limiter, clock) = manual(limits(10, 0));
        let user = Uuid::now_v7();
        for left in (0..10).rev() {
            let grant = limiter.check_llm(user, 5).unwrap();
            assert_eq!(grant.remaining_requests, left);
        }
        let limited = refused(limiter.check_llm(user, 5));
        assert_eq!(
            limited,
            Limited {
                kind: LimitKind::Requests,
                limit: 10,
                retry_after: 6 * SECOND,
                remaining: 0,
                reset: 60 * SECOND,
            }
        );
        clock.advance(6 * SECOND - Duration::from_millis(1));
        assert_eq!(
            refused(limiter.check_llm(user, 5)).retry_after,
            Duration::from_millis(1)
        );
        clock.advance(Duration::from_millis(1));
        let grant = limiter.check_llm(user, 5).unwrap();
        assert_eq!(grant.remaining_requests, 0);
        assert_eq!(grant.reset_requests, 60 * SECOND);
        assert!(limiter.check_llm(user, 5).is_err());
    }

    #[test]
    fn requests_refill_after_a_minute() {
        let (limiter, clock) = manual(limits(10, 0));
        let user = Uuid::now_v7();
        for _ in 0..10 {
            limiter.check_llm(user, 1).unwrap();
        }
        assert!(limiter.check_llm(user, 1).is_err());
        clock.advance(60 * SECOND);
        for _ in 0..10 {
            limiter.check_llm(user, 1).unwrap();
        }
        assert!(limiter.check_llm(user, 1).is_err());
    }

    #[test]
    fn users_are_limited_separately() {
        let (limiter, _clock) = manual(limits(2, 100));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        limiter.check_llm(a, 50).unwrap();
        limiter.check_llm(a, 50).unwrap();
        assert!(limiter.check_llm(a, 1).is_err());
        assert_eq!(limiter.check_llm(b, 50).unwrap().remaining_tokens, 50);
    }

    #[test]
    fn tokens_are_refused_when_the_estimate_does_not_fit() {
        let (limiter, clock) = manual(limits(100, 1000));
        let user = Uuid::now_v7();
        let grant = limiter.check_llm(user, 400).unwrap();
        assert_eq!(
            (grant.charged, grant.remaining_tokens, grant.reset_tokens),
            (400, 600, 24 * SECOND)
        );
        assert_eq!(limiter.check_llm(user, 400).unwrap().remaining_tokens, 200);
        // 200 tokens are missing: a budget of 1000 per minute refills them in 12 s.
        assert_eq!(
            refused(limiter.check_llm(user, 400)),
            Limited {
                kind: LimitKind::Tokens,
                limit: 1000,
                retry_after: 12 * SECOND,
                remaining: 200,
                reset: 48 * SECOND,
            }
        );
        clock.advance(12 * SECOND);
        assert_eq!(limiter.check_llm(user, 400).unwrap().remaining_tokens, 0);
    }

    #[test]
    fn a_budget_of_n_tokens_admits_exactly_n_even_when_a_minute_does_not_divide_by_n() {
        let (limiter, _clock) = manual(limits(0, 7));
        let user = Uuid::now_v7();
        for _ in 0..7 {
            limiter.check_llm(user, 1).unwrap();
        }
        assert_eq!(refused(limiter.check_llm(user, 1)).kind, LimitKind::Tokens);
    }

    #[test]
    fn a_refund_lets_the_next_call_pass() {
        let (limiter, _clock) = manual(limits(100, 1000));
        let user = Uuid::now_v7();
        limiter.check_llm(user, 600).unwrap();
        assert!(limiter.check_llm(user, 600).is_err());
        limiter.settle(user, 600, 100);
        let grant = limiter.check_llm(user, 600).unwrap();
        assert_eq!(grant.remaining_tokens, 300);
    }

    #[test]
    fn a_refund_never_fills_the_bucket_beyond_its_budget() {
        let (limiter, clock) = manual(limits(100, 1000));
        let user = Uuid::now_v7();
        limiter.check_llm(user, 1000).unwrap();
        clock.advance(60 * SECOND);
        limiter.settle(user, 1000, 0);
        assert_eq!(limiter.check_llm(user, 1000).unwrap().remaining_tokens, 0);
        assert!(limiter.check_llm(user, 1).is_err());
    }

    #[test]
    fn an_overrun_goes_into_debt_and_the_next_call_waits() {
        let (limiter, clock) = manual(limits(100, 1000));
        let user = Uuid::now_v7();
        limiter.check_llm(user, 100).unwrap();
        limiter.settle(user, 100, 1600);
        // 600 tokens of debt plus the 1 asked for: 601 tokens at 1000 per minute.
        let limited = refused(limiter.check_llm(user, 1));
        assert_eq!(
            (limited.kind, limited.remaining, limited.retry_after),
            (LimitKind::Tokens, 0, Duration::from_millis(36_060))
        );
        assert_eq!(limited.reset, 96 * SECOND);
        assert_eq!(refused(limiter.check_llm(user, 0)).retry_after, 36 * SECOND);
        clock.advance(Duration::from_millis(36_060));
        limiter.check_llm(user, 1).unwrap();
    }

    #[test]
    fn an_estimate_beyond_the_whole_budget_passes_on_a_full_bucket_and_leaves_a_debt() {
        let (limiter, clock) = manual(limits(100, 1000));
        let user = Uuid::now_v7();
        limiter.check_llm(user, 1).unwrap();
        // Not full: the huge call waits until the bucket is full again, not forever.
        let limited = refused(limiter.check_llm(user, 5000));
        assert_eq!(limited.retry_after, Duration::from_millis(60));
        clock.advance(Duration::from_millis(60));
        let grant = limiter.check_llm(user, 5000).unwrap();
        assert_eq!(
            (grant.remaining_tokens, grant.reset_tokens),
            (0, 300 * SECOND)
        );
        // The debt of 4000 tokens is waited out before the next call.
        assert_eq!(
            refused(limiter.check_llm(user, 1)).retry_after,
            Duration::from_millis(240_060)
        );
    }

    #[test]
    fn a_call_refused_by_tokens_takes_no_request() {
        let (limiter, _clock) = manual(limits(3, 1000));
        let user = Uuid::now_v7();
        assert_eq!(limiter.check_llm(user, 900).unwrap().remaining_requests, 2);
        for _ in 0..5 {
            assert_eq!(
                refused(limiter.check_llm(user, 900)).kind,
                LimitKind::Tokens
            );
        }
        assert_eq!(limiter.check_llm(user, 100).unwrap().remaining_requests, 1);
    }

    #[test]
    fn a_call_refused_by_requests_takes_no_tokens() {
        let (limiter, clock) = manual(limits(10, 1000));
        let user = Uuid::now_v7();
        for _ in 0..10 {
            limiter.check_llm(user, 10).unwrap();
        }
        for _ in 0..5 {
            assert_eq!(
                refused(limiter.check_llm(user, 10)).kind,
                LimitKind::Requests
            );
        }
        // One request slot comes back after 6 s, and 100 tokens with it, which fills the
        // bucket only if the refused calls were charged nothing.
        clock.advance(6 * SECOND);
        assert_eq!(limiter.check_llm(user, 10).unwrap().remaining_tokens, 990);
    }

    #[test]
    fn a_concurrent_burst_gets_exactly_the_limit() {
        let (limiter, _clock) = manual(limits(100, 100_000));
        let user = Uuid::now_v7();
        let allowed = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        if limiter.check_llm(user, 10).is_ok() {
                            allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(allowed.into_inner(), 100);
    }

    #[test]
    fn a_concurrent_burst_on_tokens_gets_exactly_the_budget() {
        let (limiter, _clock) = manual(limits(0, 1000));
        let user = Uuid::now_v7();
        let allowed = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        if limiter.check_llm(user, 10).is_ok() {
                            allowed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        assert_eq!(allowed.into_inner(), 100);
    }

    #[test]
    fn sign_in_attempts_are_limited_per_address() {
        let (limiter, clock) = manual(limits(0, 0));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..10 {
            limiter.check_auth(ip).unwrap();
        }
        assert_eq!(
            limiter.check_auth(ip),
            Err(Limited {
                kind: LimitKind::AuthAttempts,
                limit: 10,
                retry_after: 6 * SECOND,
                remaining: 0,
                reset: 60 * SECOND,
            })
        );
        limiter.check_auth("192.0.2.8".parse().unwrap()).unwrap();
        // The IPv4-mapped form is the same client.
        assert!(limiter
            .check_auth("::ffff:192.0.2.7".parse().unwrap())
            .is_err());
        clock.advance(6 * SECOND);
        limiter.check_auth(ip).unwrap();
        assert!(limiter.check_auth(ip).is_err());
    }

    #[test]
    fn share_lookups_are_limited_per_address_apart_from_sign_ins() {
        let (limiter, clock) = manual(Limits {
            share_lookups_per_minute: 3,
            ..limits(0, 0)
        });
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        for _ in 0..3 {
            limiter.check_share(ip).unwrap();
        }
        assert_eq!(
            limiter.check_share(ip),
            Err(Limited {
                kind: LimitKind::ShareLookups,
                limit: 3,
                retry_after: 20 * SECOND,
                remaining: 0,
                reset: 60 * SECOND,
            })
        );
        // Sign-in attempts have their own allowance, and other addresses theirs.
        limiter.check_auth(ip).unwrap();
        limiter.check_share("192.0.2.10".parse().unwrap()).unwrap();
        clock.advance(20 * SECOND);
        limiter.check_share(ip).unwrap();
        // Off when configured as 0.
        let (open, _clock) = manual(limits(0, 0));
        for _ in 0..1000 {
            open.check_share(ip).unwrap();
        }
    }

    #[test]
    fn ipv6_addresses_count_by_their_slash_64() {
        let (limiter, _clock) = manual(limits(0, 0));
        for host in 0..10 {
            let ip: IpAddr = format!("2001:db8:1:2::{host:x}").parse().unwrap();
            limiter.check_auth(ip).unwrap();
        }
        assert!(limiter
            .check_auth("2001:db8:1:2:ffff::1".parse().unwrap())
            .is_err());
        limiter
            .check_auth("2001:db8:1:3::1".parse().unwrap())
            .unwrap();
    }

    #[test]
    fn a_limit_of_zero_is_off() {
        let (limiter, _clock) = manual(Limits {
            requests_per_minute: 0,
            tokens_per_minute: 0,
            auth_attempts_per_minute: 0,
            share_lookups_per_minute: 0,
            max_keys: 10,
        });
        let user = Uuid::now_v7();
        for _ in 0..1000 {
            limiter.check_llm(user, 1_000_000).unwrap();
            limiter.check_auth(IpAddr::from([10, 0, 0, 1])).unwrap();
        }
        assert_eq!(limiter.tracked(), 0);
        let mut headers = HeaderMap::new();
        limiter
            .check_llm(user, 1)
            .unwrap()
            .write_headers(&mut headers);
        assert!(headers.is_empty());
    }

    #[test]
    fn memory_stays_within_the_cap_under_a_flood_of_new_keys() {
        let max_keys = 100;
        let (limiter, clock) = manual(Limits {
            max_keys,
            ..limits(10, 1000)
        });
        for i in 0..10 * max_keys {
            limiter.check_llm(Uuid::now_v7(), 10).unwrap();
            limiter
                .check_auth(IpAddr::from((i as u32).to_be_bytes()))
                .unwrap();
            if i % 7 == 0 {
                clock.advance(Duration::from_millis(10));
            }
            // Requests, tokens and attempts: one map each, each within the cap.
            assert!(limiter.tracked() <= 3 * max_keys, "{}", limiter.tracked());
        }
        assert!(limiter.tracked() > 2 * max_keys, "{}", limiter.tracked());
    }

    #[test]
    fn a_flood_of_new_keys_does_not_wash_away_a_debt() {
        let max_keys = 64;
        let (limiter, _clock) = manual(Limits {
            max_keys,
            ..limits(10, 1000)
        });
        let flooder = Uuid::now_v7();
        for _ in 0..10 {
            limiter.check_llm(flooder, 100).unwrap();
        }
        let ip = IpAddr::from([203, 0, 113, 9]);
        for _ in 0..10 {
            limiter.check_auth(ip).unwrap();
        }
        for i in 0..20 * max_keys {
            limiter.check_llm(Uuid::now_v7(), 1).unwrap();
            limiter
                .check_auth(IpAddr::from((i as u32).to_be_bytes()))
                .unwrap();
        }
        assert!(limiter.tracked() <= 3 * max_keys);
        assert!(limiter.check_llm(flooder, 0).is_err());
        assert!(limiter.check_auth(ip).is_err());
    }

    #[test]
    fn full_keys_make_room_first() {
        let mut map: HashMap<u32, u128> = (0..8).map(|k| (k, u128::from(k) * 10)).collect();
        // At "now" 35, keys 0..=3 are full: dropping them frees more than an eighth.
        make_room(&mut map, 8, 35);
        let mut left: Vec<u32> = map.keys().copied().collect();
        left.sort_unstable();
        assert_eq!(left, [4, 5, 6, 7]);
        // Nothing full: the key nearest to full goes.
        make_room(&mut map, 4, 0);
        let mut left: Vec<u32> = map.keys().copied().collect();
        left.sort_unstable();
        assert_eq!(left, [5, 6, 7]);
        // Ties at the cut: exactly as many as needed go.
        let mut map: HashMap<u32, u128> = (0..16).map(|k| (k, 5)).collect();
        make_room(&mut map, 16, 0);
        assert_eq!(map.len(), 14);
    }

    #[test]
    fn prune_forgets_keys_that_are_full_again_and_only_those() {
        let (limiter, clock) = manual(limits(10, 1000));
        for i in 0..50u8 {
            limiter.check_llm(Uuid::now_v7(), 10).unwrap();
            limiter.check_auth(IpAddr::from([10, 0, 0, i])).unwrap();
        }
        assert_eq!(limiter.tracked(), 150);
        limiter.prune();
        assert_eq!(limiter.tracked(), 150);
        let busy = Uuid::now_v7();
        clock.advance(30 * SECOND);
        for _ in 0..10 {
            limiter.check_llm(busy, 100).unwrap();
        }
        clock.advance(30 * SECOND);
        limiter.prune();
        // Only the busy user is not full yet (requests and tokens).
        assert_eq!(limiter.tracked(), 2);
        clock.advance(60 * SECOND);
        limiter.prune();
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn durations_use_openai_format() {
        let check = |ms: u64, expected: &str| {
            assert_eq!(openai_duration(Duration::from_millis(ms)), expected);
        };
        check(0, "0s");
        check(120, "120ms");
        check(999, "999ms");
        check(1000, "1s");
        check(8640, "8.64s");
        check(6500, "6.5s");
        check(360_000, "6m0s");
        check(61_001, "1m1.001s");
        check(3_600_000, "1h0m0s");
        assert_eq!(openai_duration(Duration::from_nanos(1)), "1ms");
    }

    #[test]
    fn headers_use_openai_names() {
        let grant = LlmGrant {
            charged: 10,
            limit_requests: 30,
            remaining_requests: 29,
            reset_requests: 2 * SECOND,
            limit_tokens: 1000,
            remaining_tokens: 990,
            reset_tokens: Duration::from_millis(600),
        };
        let mut headers = HeaderMap::new();
        grant.write_headers(&mut headers);
        let get = |headers: &HeaderMap, name: &str| headers[name].to_str().unwrap().to_string();
        assert_eq!(get(&headers, "x-ratelimit-limit-requests"), "30");
        assert_eq!(get(&headers, "x-ratelimit-remaining-requests"), "29");
        assert_eq!(get(&headers, "x-ratelimit-reset-requests"), "2s");
        assert_eq!(get(&headers, "x-ratelimit-limit-tokens"), "1000");
        assert_eq!(get(&headers, "x-ratelimit-remaining-tokens"), "990");
        assert_eq!(get(&headers, "x-ratelimit-reset-tokens"), "600ms");
        let mut headers = HeaderMap::new();
        Limited {
            kind: LimitKind::Tokens,
            limit: 1000,
            retry_after: 6 * SECOND,
            remaining: 12,
            reset: 60 * SECOND,
        }
        .write_headers(&mut headers);
        assert_eq!(headers.len(), 3);
        assert_eq!(get(&headers, "x-ratelimit-remaining-tokens"), "12");
        assert_eq!(get(&headers, "x-ratelimit-reset-tokens"), "1m0s");
    }
}
