//! Rate limits: per user LLM requests and tokens per minute, per client IP register and login
//! attempts per minute.
//!
//! SKELETON: the public API below is the contract the routes use; the implementation is being
//! written (see the module's final docs).

use crate::config::Config;
use axum::http::{HeaderMap, HeaderValue};
use std::{net::IpAddr, time::Duration};
use uuid::Uuid;

/// The configured limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub requests_per_minute: u32,
    pub tokens_per_minute: u64,
    pub auth_attempts_per_minute: u32,
    /// Most keys (users, IP addresses) kept per limiter.
    pub max_keys: usize,
}

impl Limits {
    pub fn from_config(config: &Config) -> Self {
        Limits {
            requests_per_minute: config.llm_requests_per_minute,
            tokens_per_minute: config.llm_tokens_per_minute,
            auth_attempts_per_minute: config.auth_attempts_per_minute,
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
}

/// A refusal: which limit, its size per minute, and when to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limited {
    pub kind: LimitKind,
    pub limit: u64,
    pub retry_after: Duration,
}

/// An allowed LLM call: what it was charged and the state of both limits after it, for the
/// `x-ratelimit-*` headers.
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
    /// Writes the `x-ratelimit-*` headers (OpenAI's names).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert(
            "x-ratelimit-limit-requests",
            HeaderValue::from(self.limit_requests),
        );
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from(self.remaining_requests),
        );
        headers.insert(
            "x-ratelimit-limit-tokens",
            HeaderValue::from(self.limit_tokens),
        );
        headers.insert(
            "x-ratelimit-remaining-tokens",
            HeaderValue::from(self.remaining_tokens),
        );
    }
}

impl Limited {
    /// Writes the `x-ratelimit-*` headers of a refused request (`Retry-After` is written by
    /// the error envelope).
    pub fn write_headers(&self, _headers: &mut HeaderMap) {}
}

pub struct RateLimiter {
    limits: Limits,
}

impl RateLimiter {
    pub fn new(limits: Limits) -> Self {
        RateLimiter { limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Takes one request and `estimated_tokens` from `user`'s allowances, or refuses.
    pub fn check_llm(&self, _user: Uuid, estimated_tokens: u64) -> Result<LlmGrant, Limited> {
        Ok(LlmGrant {
            charged: estimated_tokens,
            limit_requests: self.limits.requests_per_minute,
            remaining_requests: self.limits.requests_per_minute,
            reset_requests: Duration::ZERO,
            limit_tokens: self.limits.tokens_per_minute,
            remaining_tokens: self.limits.tokens_per_minute,
            reset_tokens: Duration::ZERO,
        })
    }

    /// Corrects a call's charge from the estimate to what the provider reported.
    pub fn settle(&self, _user: Uuid, _charged: u64, _actual: u64) {}

    /// Takes one register/login attempt from `ip`'s allowance, or refuses.
    pub fn check_auth(&self, _ip: IpAddr) -> Result<(), Limited> {
        Ok(())
    }

    /// Forgets keys whose allowances are full again.
    pub fn prune(&self) {}

    /// Keys with state, over all limiters.
    pub fn tracked(&self) -> usize {
        0
    }
}
