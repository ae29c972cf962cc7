//! Merchants and their API keys: a secret key for the back office and a
//! publishable key for the storefront, stored hashed and shown once.

pub use crate::model::merchants::{KeyKind, Merchant};

use serde::Serialize;

use super::ids::{hash_secret, new_id, new_secret};
use super::{Check, Error, Page, Paged, Result, parse};
use crate::db::{self, Db};

/// A new merchant's request, raw.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMerchant {
    /// The shop's name, 1 to 200 characters.
    pub name: String,
    /// URL-safe name, unique across the platform.
    pub slug: String,
    /// ISO 4217 code: the one currency the shop will sell in.
    pub default_currency: String,
    /// Where the shop is, ISO 3166-1 alpha-2, e.g. "US".
    pub country: String,
    /// Default false.
    #[serde(default)]
    pub prices_include_tax: bool,
}

/// Keys as shown once, at creation or rotation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Keys {
    /// `sk_…`: the back office's key.
    pub secret_key: String,
    /// `pk_…`: the storefront's key.
    pub publishable_key: String,
}

fn new_keys() -> Keys {
    Keys { secret_key: new_secret("sk"), publishable_key: new_secret("pk") }
}

/// Creates a merchant and its first keys.
pub async fn create(db: &Db, req: NewMerchant) -> Result<(Merchant, Keys)> {
    let mut check = Check::default();
    let name = check.field("name", parse::text(&req.name, 200));
    let slug = check.field("slug", parse::slug(&req.slug));
    let currency = check.field("default_currency", parse::currency(&req.default_currency));
    let country = check.field("country", parse::country(&req.country));
    check.finish()?;
    let (Some(name), Some(slug), Some(currency), Some(country)) = (name, slug, currency, country) else {
        unreachable!("checked above");
    };
    let merchant = Merchant {
        id: new_id("mer"),
        name,
        slug,
        default_currency: currency.code().to_owned(),
        country,
        prices_include_tax: req.prices_include_tax,
        created_at: db::now_ms(),
    };
    let keys = new_keys();
    let hashed = [
        (KeyKind::Secret, hash_secret(&keys.secret_key), last4(&keys.secret_key)),
        (KeyKind::Publishable, hash_secret(&keys.publishable_key), last4(&keys.publishable_key)),
    ];
    db::merchants::insert(db, &merchant, &hashed).await.map_err(|e| match db::unique_violation(&e) {
        Some(c) if c.contains("slug") => {
            Error::Conflict { code: "slug_taken", message: format!("slug {:?} is taken", merchant.slug) }
        }
        _ => e.into(),
    })?;
    Ok((merchant, keys))
}

fn last4(key: &str) -> String {
    key[key.len() - 4..].to_owned()
}

/// One merchant.
pub async fn get(db: &Db, id: &str) -> Result<Merchant> {
    db::merchants::get(db, id).await?.ok_or(Error::NotFound("merchant"))
}

/// Merchants, oldest first.
pub async fn list(db: &Db, page: &Page) -> Result<Paged<Merchant>> {
    let rows = db::merchants::list(db, page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |m| &m.id))
}

/// Revokes a merchant's keys and issues new ones.
pub async fn rotate_keys(db: &Db, id: &str) -> Result<Keys> {
    get(db, id).await?;
    let keys = new_keys();
    let hashed = [
        (KeyKind::Secret, hash_secret(&keys.secret_key), last4(&keys.secret_key)),
        (KeyKind::Publishable, hash_secret(&keys.publishable_key), last4(&keys.publishable_key)),
    ];
    db::merchants::replace_keys(db, id, &hashed).await?;
    key_cache().retain(|_, (merchant, _, _)| merchant != id);
    Ok(keys)
}

/// How long a verified key is trusted without asking the database: a key
/// revoked on another host sharing the database stops working within this
/// delay (on this host, at once).
const KEY_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// Most keys remembered.
const KEY_CACHE_MAX: usize = 10_000;

type KeyCache = std::collections::HashMap<String, (String, KeyKind, std::time::Instant)>;

/// Verified keys by hash: every API request authenticates, and a cart read
/// should not pay a query for it.
fn key_cache() -> std::sync::MutexGuard<'static, KeyCache> {
    static CACHE: std::sync::LazyLock<std::sync::Mutex<KeyCache>> =
        std::sync::LazyLock::new(Default::default);
    CACHE.lock().unwrap_or_else(|p| p.into_inner())
}

/// The merchant and audience of a live API key.
pub async fn authenticate(db: &Db, key: &str) -> Result<Option<(String, KeyKind)>> {
    let kind = match key.get(..3) {
        Some("sk_") => KeyKind::Secret,
        Some("pk_") => KeyKind::Publishable,
        _ => return Ok(None),
    };
    let hash = hash_secret(key);
    if let Some((merchant, k, at)) = key_cache().get(&hash)
        && at.elapsed() < KEY_TTL
    {
        return Ok(Some((merchant.clone(), *k)));
    }
    let found = db::merchants::find_key(db, &hash, kind).await?;
    if let Some(m) = &found {
        let mut cache = key_cache();
        if cache.len() >= KEY_CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (m.clone(), kind, std::time::Instant::now()));
    }
    Ok(found.map(|m| (m, kind)))
}
