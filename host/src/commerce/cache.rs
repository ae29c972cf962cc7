//! Values read from the database and trusted for a while without asking
//! again, and how hosts sharing one database keep them true: the host that
//! changes a value forgets its old copy at once and announces the change
//! ([`announce`]); every other host hears it (see [`super::notices`],
//! PostgreSQL `LISTEN/NOTIFY`) and forgets its copy too. A notice that is lost (a
//! host killed between its commit and its notice, a listener reconnecting)
//! is made good by the periodic reload: no value is trusted longer than
//! [`reload_after`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use mercato_sdk::ExtensionPoint;

use crate::db::{self, Db};

/// Most entries one cache remembers (it starts over when full).
const CACHE_MAX: usize = 10_000;

/// The periodic reload, in milliseconds (see [`set_reload_after`]).
static RELOAD_AFTER_MS: AtomicU64 = AtomicU64::new(5_000);

/// How long a cached value is trusted without asking the database: the
/// longest a change can take to reach a host that missed its notice.
pub fn reload_after() -> Duration {
    Duration::from_millis(RELOAD_AFTER_MS.load(Ordering::Relaxed))
}

/// Sets [`reload_after`] for this process (`mercato serve
/// --cache-reload-ms`; 5 s by default).
pub fn set_reload_after(every: Duration) {
    RELOAD_AFTER_MS.store(every.as_millis().clamp(1, u64::MAX as u128) as u64, Ordering::Relaxed);
}

/// Values trusted for [`reload_after`] without asking the database.
pub struct TtlCache<V> {
    entries: Mutex<HashMap<String, (V, Instant)>>,
}

impl<V: Clone> Default for TtlCache<V> {
    fn default() -> TtlCache<V> {
        TtlCache { entries: Mutex::default() }
    }
}

impl<V: Clone> TtlCache<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (V, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The value under `key`, while it is fresh.
    pub fn get(&self, key: &str) -> Option<V> {
        let ttl = reload_after();
        self.lock().get(key).filter(|(_, at)| at.elapsed() < ttl).map(|(v, _)| v.clone())
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

    /// Forgets everything.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// What a change made on one host makes stale on the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// A merchant's API keys (rotated).
    Keys(String),
    /// The browser origins a merchant allows.
    Origins(String),
    /// A merchant's Stripe connection.
    Stripe(String),
    /// A merchant's bindings of one extension point.
    Bindings(String, ExtensionPoint),
    /// A plugin's platform policy (limits, allowed hosts, enabled), or the
    /// plugin itself (uninstalled).
    Plugin(String),
}

/// This process, in its notices: it does not act on its own.
static HOST: LazyLock<String> = LazyLock::new(|| super::ids::new_id("host"));

impl Stale {
    /// `<host> <kind> <id>[ <point>]`.
    fn encode(&self) -> String {
        let host = &*HOST;
        match self {
            Stale::Keys(m) => format!("{host} keys {m}"),
            Stale::Origins(m) => format!("{host} origins {m}"),
            Stale::Stripe(m) => format!("{host} stripe {m}"),
            Stale::Bindings(m, point) => format!("{host} bindings {m} {point}"),
            Stale::Plugin(id) => format!("{host} plugin {id}"),
        }
    }

    /// A notice another host sent; `None` for this host's own or one not understood.
    pub(crate) fn decode(notice: &str) -> Option<Stale> {
        let mut words = notice.split(' ');
        let (host, kind, id) = (words.next()?, words.next()?, words.next()?.to_owned());
        if host == HOST.as_str() {
            return None;
        }
        Some(match kind {
            "keys" => Stale::Keys(id),
            "origins" => Stale::Origins(id),
            "stripe" => Stale::Stripe(id),
            "bindings" => Stale::Bindings(id, ExtensionPoint::parse(words.next()?)?),
            "plugin" => Stale::Plugin(id),
            _ => return None,
        })
    }
}

/// Tells the other hosts over this database that `stale` changed (call it
/// after the change commits; this host has already forgotten its copy).
/// A notice that cannot be sent is logged, not failed: the change is made,
/// and the others reload within [`reload_after`].
pub async fn announce(db: &Db, stale: Stale) {
    if let Err(e) = db::changes::announce(db, &stale.encode()).await {
        tracing::warn!(error = %e, ?stale, "could not tell the other hosts of a change");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_read_back_except_this_hosts_own() {
        for stale in [
            Stale::Keys("m_1".into()),
            Stale::Origins("m_1".into()),
            Stale::Stripe("m_1".into()),
            Stale::Bindings("m_1".into(), ExtensionPoint::Tax),
            Stale::Plugin("plg_1".into()),
        ] {
            let own = stale.encode();
            assert_eq!(Stale::decode(&own), None, "a host ignores its own notices");
            let other = own.replacen(HOST.as_str(), "host_other", 1);
            assert_eq!(Stale::decode(&other), Some(stale));
        }
        assert_eq!(Stale::decode("host_other bindings m_1 nonsense"), None);
        assert_eq!(Stale::decode("host_other"), None);
    }
}
