//! `Idempotency-Key`, with Stripe's semantics: the same key and request get
//! the stored response again (for 24 hours); the same key with another body
//! is refused; a key whose first request is still running is busy.
//!
//! A key belongs to **who is asking**: the credentials of the request (the
//! API key, and the customer's or the order's token where one is sent) and
//! the method and path it was sent to. Every shopper of a shop shares the
//! publishable key, so the key alone would hand one shopper's stored answer
//! (a cart, a customer id) to another who guessed or saw their key.
//!
//! Request bodies are fingerprinted with an HMAC keyed by a secret of the
//! deployment, kept in the database and made once, so every host on one
//! database agrees (a body may hold a password: it is never stored).
//!
//! A running request holds its key by a lease it renews; a host that dies
//! mid-request (kill -9, power loss) stops renewing, and once the lease
//! runs out the next retry of the same request takes the key over
//! ([`Claim::TakenOver`]) and must find out what the dead one did.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

pub use crate::db::idempotency::Claim;
use crate::db::{Db, idempotency as store};

use super::Result;

/// How long a stored response is replayed.
pub const TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// Keys forgotten per write by [`purge_expired`]: each write holds the
/// write turn for a few milliseconds at most.
const PURGE_BATCH: u32 = 200;
/// Writes per [`purge_expired`] call: 10,000 keys, more than a busy host
/// makes in the 5 s between runs of the jobs.
const PURGE_WRITES: usize = 50;

/// How long a running request's claim lasts without renewal, unless the
/// operator says otherwise (`MERCATO_IDEMPOTENCY_LEASE_MS`).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);
/// The name of the fingerprint secret in the database.
const SECRET: &str = "idempotency_fingerprint";

/// Claims keys for requests; one per host, cheap to clone.
#[derive(Clone)]
pub struct Keys {
    db: Db,
    secret: Arc<OnceCell<String>>,
    lease: Duration,
}

/// A request that may carry a key.
pub struct Request<'a> {
    /// Every credential the request carries (API key, customer token,
    /// order token), `None` where absent; they are hashed, never stored.
    pub credentials: &'a [Option<&'a [u8]>],
    /// The HTTP method, part of the key's scope.
    pub method: &'a str,
    /// The request path, part of the key's scope.
    pub path: &'a str,
    /// The `Idempotency-Key` header's value.
    pub key: &'a str,
    /// The request body, fingerprinted to tell a repeat from another request.
    pub body: &'a [u8],
}

/// Forgets the keys whose stored responses are past [`TTL_MS`] as of
/// `now` (each may then be used again, as a new request), in small
/// writes, up to 10,000 a call; how many.
pub async fn purge_expired(db: &Db, now: i64) -> Result<usize> {
    let mut forgotten = 0;
    for _ in 0..PURGE_WRITES {
        let n = store::purge(db, now - TTL_MS, now, PURGE_BATCH).await?;
        forgotten += n as usize;
        if n < u64::from(PURGE_BATCH) {
            break;
        }
    }
    Ok(forgotten)
}

/// Marks a request that took over the key of a dead one: it may find its
/// work half done (an order placed, a payment asked) and must answer with
/// what really happened.
#[derive(Debug, Clone, Copy)]
pub struct Retried;

/// A key this host holds for a running request.
pub struct Held {
    scope: String,
    key: String,
}

impl Keys {
    /// Keys in the shop's database, with running requests leased for `lease`.
    pub fn new(shop: &super::Shop, lease: Duration) -> Keys {
        Keys { db: shop.db.clone(), secret: Arc::default(), lease }
    }

    /// How often a running request renews its lease.
    pub fn renew_every(&self) -> Duration {
        self.lease / 3
    }

    /// Claims the request's key, or says why not.
    pub async fn claim(&self, req: &Request<'_>) -> Result<(Held, Claim)> {
        let mut scope = Sha256::new();
        for c in req.credentials {
            // Length-prefixed, so no two lists of credentials hash alike.
            let c = c.unwrap_or_default();
            scope.update((c.len() as u64).to_be_bytes());
            scope.update(c);
        }
        scope.update(req.method.as_bytes());
        scope.update(b" ");
        scope.update(req.path.as_bytes());
        let held = Held { scope: hex::encode(scope.finalize()), key: req.key.to_owned() };

        let secret = self
            .secret
            .get_or_try_init(|| store::host_secret(&self.db, SECRET, || super::ids::new_secret("ifs")))
            .await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(req.method.as_bytes());
        mac.update(b" ");
        mac.update(req.path.as_bytes());
        mac.update(b"\n");
        mac.update(req.body);
        let fingerprint = hex::encode(mac.finalize().into_bytes());

        let claim =
            store::claim(&self.db, (&held.scope, &held.key), &fingerprint, TTL_MS, self.lease_ms()).await?;
        Ok((held, claim))
    }

    /// Extends the lease of a running request.
    pub async fn renew(&self, held: &Held) -> Result<()> {
        Ok(store::renew(&self.db, (&held.scope, &held.key), self.lease_ms()).await?)
    }

    /// Stores the response to replay.
    pub async fn complete(
        &self,
        held: &Held,
        status: u16,
        body: &[u8],
        content_type: Option<&str>,
    ) -> Result<()> {
        Ok(store::complete(&self.db, (&held.scope, &held.key), status, body, content_type).await?)
    }

    /// Frees the key of a request that did not complete.
    pub async fn release(&self, held: &Held) -> Result<()> {
        Ok(store::release(&self.db, (&held.scope, &held.key)).await?)
    }

    fn lease_ms(&self) -> i64 {
        i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX)
    }
}
