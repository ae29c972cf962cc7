//! Values read from the database and trusted for a while without asking
//! again: on this host a change is seen at once (its writer forgets the old
//! value), on another host sharing the database within the cache's time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most entries one cache remembers (it starts over when full).
const CACHE_MAX: usize = 10_000;

/// Values trusted for `ttl` without asking the database: a change made on
/// another host sharing the database arrives within that delay.
pub struct TtlCache<V> {
    entries: Mutex<HashMap<String, (V, Instant)>>,
    ttl: Duration,
}

impl<V: Clone> TtlCache<V> {
    /// A cache whose values are fresh for `ttl`.
    pub fn new(ttl: Duration) -> TtlCache<V> {
        TtlCache { entries: Mutex::default(), ttl }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value under `key`, while it is fresh.
    pub fn get(&self, key: &str) -> Option<V> {
        self.lock().get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    /// Remembers `value` under `key`, fresh from now.
    pub fn put(&self, key: String, value: V) {
        let mut entries = self.lock();
        if entries.len() >= CACHE_MAX {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }

    /// Forgets the value under `key`, at once on this host.
    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Forgets the values `keep` refuses, at once on this host.
    pub fn retain(&self, mut keep: impl FnMut(&V) -> bool) {
        self.lock().retain(|_, (v, _)| keep(v));
    }
}
