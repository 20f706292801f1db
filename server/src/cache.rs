//! Short-lived in-memory caches in front of SQLite for the gateway's hot path: who a session
//! or API token belongs to, and a user's provider rows (keys still sealed).
//!
//! Every LLM call needs both; without the caches each call costs two SQLite round trips
//! before the provider is even contacted. An entry lives at most [`AUTH_TTL`] or
//! [`PROVIDER_TTL`], and this server drops entries itself the moment a session ends, a token
//! is revoked or a provider is deleted, so a revocation takes effect at once here; another
//! server instance on the same database would see it within the TTL. Each cache holds at most
//! [`MAX_ENTRIES`]; when full, expired entries go first, then everything (a cold cache only
//! costs the queries it saves).
//!
//! A revocation (a session, a token, a whole account deactivated or deleted) bumps the
//! credential cache's *epoch* before it drops entries. A request that read a credential from
//! the database caches it only if the epoch has not moved since it started reading (checked
//! under the cache's lock), so a lookup that raced a revocation cannot put back what the
//! revocation dropped.

use crate::auth::{AuthVia, CurrentUser};
use crate::store::StoredProvider;
use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};
use uuid::Uuid;

pub const AUTH_TTL: Duration = Duration::from_secs(10);
pub const PROVIDER_TTL: Duration = Duration::from_secs(60);
pub const MAX_ENTRIES: usize = 50_000;

/// A bounded map whose entries expire.
pub struct TtlCache<K, V> {
    ttl: Duration,
    max: usize,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, max: usize) -> Self {
        TtlCache {
            ttl,
            max: max.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value, if present and younger than the TTL at `now`.
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (value, at) = entries.get(key)?;
        (now.saturating_duration_since(*at) < self.ttl).then(|| value.clone())
    }

    pub fn insert(&self, key: K, value: V, now: Instant) {
        self.insert_if(key, value, now, || true);
    }

    /// Inserts unless `keep` says no; `keep` runs under the cache's lock, so a concurrent
    /// [`TtlCache::remove_where`] comes wholly before or after it.
    pub fn insert_if(&self, key: K, value: V, now: Instant, keep: impl FnOnce() -> bool) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if !keep() {
            return;
        }
        if entries.len() >= self.max {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| now.saturating_duration_since(*at) < ttl);
            if entries.len() >= self.max {
                entries.clear();
            }
        }
        entries.insert(key, (value, now));
    }

    pub fn remove(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Drops every entry whose value matches.
    pub fn remove_where(&self, mut doomed: impl FnMut(&K, &V) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|k, (v, _)| !doomed(k, v));
        }
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The server's caches.
pub struct Caches {
    /// By the SHA-256 of a session or API token; with the credential's own expiry (ms).
    pub auth: TtlCache<Vec<u8>, (CurrentUser, Option<i64>)>,
    /// By (user, provider).
    pub providers: TtlCache<(Uuid, Uuid), StoredProvider>,
    /// Bumped by every revocation of credentials (see the module doc).
    epoch: AtomicU64,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            auth: TtlCache::new(AUTH_TTL, MAX_ENTRIES),
            providers: TtlCache::new(PROVIDER_TTL, MAX_ENTRIES),
            epoch: AtomicU64::new(0),
        }
    }
}

impl Caches {
    /// The credential epoch: read it before looking a credential up in the database, and pass
    /// it to [`Caches::remember_credential`].
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Caches a credential read from the database, unless a revocation happened since `epoch`.
    pub fn remember_credential(
        &self,
        epoch: u64,
        hash: Vec<u8>,
        value: (CurrentUser, Option<i64>),
        now: Instant,
    ) {
        self.auth.insert_if(hash, value, now, || {
            self.epoch.load(Ordering::SeqCst) == epoch
        });
    }

    /// Forgets a session or token by its row id (revocation).
    pub fn forget_credential(&self, via: AuthVia) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.auth.remove_where(|_, (user, _)| user.via == via);
    }

    /// Forgets every session, token and provider of an account (deactivated, deleted, or its
    /// password changed), after the database says so.
    pub fn forget_user(&self, id: Uuid) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.auth.remove_where(|_, (user, _)| user.id == id);
        self.providers.remove_where(|(user, _), _| *user == id);
    }

    /// Forgets a deleted provider.
    pub fn forget_provider(&self, user: Uuid, provider: Uuid) {
        self.providers.remove(&(user, provider));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let cache = TtlCache::new(Duration::from_secs(10), 3);
        let t0 = Instant::now();
        cache.insert(1, "a", t0);
        assert_eq!(cache.get(&1, t0 + Duration::from_secs(9)), Some("a"));
        assert_eq!(cache.get(&1, t0 + Duration::from_secs(10)), None);
        for k in 0..100 {
            cache.insert(k, "x", t0 + Duration::from_secs(k));
            assert!(cache.len() <= 3);
        }
        cache.remove_where(|k, _| *k == 99);
        assert_eq!(cache.get(&99, t0 + Duration::from_secs(99)), None);
        cache.insert_if(7, "y", t0, || false);
        assert_eq!(cache.get(&7, t0), None);
        cache.insert_if(7, "y", t0, || true);
        assert_eq!(cache.get(&7, t0), Some("y"));
    }

    /// A credential read before a revocation is not cached after it.
    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_cached() {
        let caches = Caches::default();
        let id = Uuid::from_u128(1);
        let user = CurrentUser {
            id,
            username: "ada".into(),
            is_admin: false,
            via: AuthVia::Session(Uuid::from_u128(2)),
        };
        let now = Instant::now();
        let before = caches.epoch();
        caches.forget_user(id);
        caches.remember_credential(before, vec![1], (user.clone(), None), now);
        assert!(caches.auth.get(&vec![1], now).is_none());
        caches.remember_credential(caches.epoch(), vec![1], (user, None), now);
        assert!(caches.auth.get(&vec![1], now).is_some());
        caches.forget_user(id);
        assert!(caches.auth.is_empty());
    }
}
