//! Merchants and their API keys: a secret key for the back office and a
//! publishable key for the storefront, stored hashed and shown once.

pub use crate::model::merchants::{KeyKind, Merchant, Settings};

use std::sync::LazyLock;

use serde::Serialize;

use super::cache::{self, Stale, TtlCache};
use super::ids::{hash_secret, new_id, new_secret};
use super::{Check, Error, Page, Paged, Result, parse};
use crate::db::merchants::StoredKey;
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
    /// IANA time zone for reports, e.g. "Europe/Paris"; default "UTC".
    #[serde(default)]
    pub time_zone: Option<String>,
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

impl Keys {
    /// Both keys as stored: hashed, and the publishable one also readable.
    fn stored(&self) -> [StoredKey; 2] {
        let key = |kind, key: &str, public_value| StoredKey {
            kind,
            hash: hash_secret(key),
            last4: key[key.len() - 4..].to_owned(),
            public_value,
        };
        [
            key(KeyKind::Secret, &self.secret_key, None),
            key(KeyKind::Publishable, &self.publishable_key, Some(self.publishable_key.clone())),
        ]
    }
}

/// Creates a merchant and its first keys.
pub async fn create(db: &Db, req: NewMerchant) -> Result<(Merchant, Keys)> {
    let mut check = Check::default();
    let name = check.field("name", parse::text(&req.name, 200));
    let slug = check.field("slug", parse::slug(&req.slug));
    let currency = check.field("default_currency", parse::currency(&req.default_currency));
    let country = check.field("country", parse::country(&req.country));
    let zone = check.field("time_zone", parse::time_zone(req.time_zone.as_deref().unwrap_or("UTC")));
    let ((((name, slug), currency), country), time_zone) =
        check.finish_with(name.zip(slug).zip(currency).zip(country).zip(zone))?;
    let merchant = Merchant {
        id: new_id("mer"),
        name,
        slug,
        default_currency: currency.code().to_owned(),
        country,
        prices_include_tax: req.prices_include_tax,
        time_zone,
        created_at: db::now_ms(),
    };
    let keys = new_keys();
    db::merchants::insert(db, &merchant, &keys.stored()).await.map_err(|e| {
        match db::unique_violation(&e) {
            Some(c) if c.contains("slug") => {
                Error::Conflict { code: "slug_taken", message: format!("slug {:?} is taken", merchant.slug) }
            }
            _ => e.into(),
        }
    })?;
    Ok((merchant, keys))
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

/// What a storefront page knows of its shop: public facts and the
/// publishable key it calls the store API with.
#[derive(Debug, Clone, Serialize)]
pub struct Storefront {
    /// `mer_…`.
    pub merchant_id: String,
    /// The shop's URL name.
    pub slug: String,
    /// Shown to buyers.
    pub name: String,
    /// The shop's currency.
    pub currency: String,
    /// Where the shop is (ISO 3166-1 alpha-2).
    pub country: String,
    /// `pk_…`: public by design.
    pub publishable_key: String,
}

/// The storefront of the shop at `slug`: `NotFound` for an unknown slug,
/// and also for a shop whose publishable key predates readable keys (its
/// keys must be rotated once).
pub async fn storefront(db: &Db, slug: &str) -> Result<Storefront> {
    match db::merchants::by_slug_with_publishable_key(db, slug).await? {
        Some((m, Some(publishable_key))) => Ok(Storefront {
            merchant_id: m.id,
            slug: m.slug,
            name: m.name,
            currency: m.default_currency,
            country: m.country,
            publishable_key,
        }),
        _ => Err(Error::NotFound("shop")),
    }
}

/// Revokes a merchant's keys and issues new ones.
pub async fn rotate_keys(db: &Db, id: &str) -> Result<Keys> {
    get(db, id).await?;
    let keys = new_keys();
    db::merchants::replace_keys(db, id, &keys.stored()).await?;
    forget_keys(Some(id));
    cache::announce(db, Stale::Keys(id.to_owned())).await;
    Ok(keys)
}

/// Verified keys by hash, with their merchant and audience: every API
/// request authenticates, and a cart read should not pay a query for it.
/// A key revoked on this host stops working at once; on another host
/// sharing the database, when its notice arrives (or at the latest after
/// [`cache::reload_after`]).
static KEYS: LazyLock<TtlCache<(String, KeyKind)>> = LazyLock::new(TtlCache::default);

/// Forgets the verified keys of `merchant_id` (of every merchant: `None`).
pub(crate) fn forget_keys(merchant_id: Option<&str>) {
    match merchant_id {
        Some(id) => KEYS.retain(|(merchant, _)| merchant != id),
        None => KEYS.clear(),
    }
}

/// Forgets the allowed origins of `merchant_id` (of every merchant: `None`).
pub(crate) fn forget_origins(merchant_id: Option<&str>) {
    match merchant_id {
        Some(id) => ORIGINS.remove(id),
        None => ORIGINS.clear(),
    }
}

/// The merchant and audience of a live API key.
pub async fn authenticate(db: &Db, key: &str) -> Result<Option<(String, KeyKind)>> {
    let kind = match key.get(..3) {
        Some("sk_") => KeyKind::Secret,
        Some("pk_") => KeyKind::Publishable,
        _ => return Ok(None),
    };
    let hash = hash_secret(key);
    if let Some(known) = KEYS.get(&hash) {
        return Ok(Some(known));
    }
    let found = db::merchants::find_key(db, &hash, kind).await?;
    if let Some(m) = &found {
        KEYS.put(hash, (m.clone(), kind));
    }
    Ok(found.map(|m| (m, kind)))
}

/// `PATCH /v1/admin/settings`: what is given changes.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// An IANA time zone, e.g. "America/New_York".
    pub time_zone: Option<String>,
    /// 15 to 43200 (30 days).
    pub abandoned_cart_after_minutes: Option<i64>,
    /// `Name <address>` or an address; `""` for the host's default.
    pub email_from: Option<String>,
    /// An address; `""` for none.
    pub notification_email: Option<String>,
    /// An http(s) URL; `""` for none.
    pub storefront_url: Option<String>,
}

/// A mailbox: `Name <address>` or an address.
pub fn mailbox(s: &str) -> std::result::Result<String, String> {
    let s = s.trim();
    match s.parse::<lettre::message::Mailbox>() {
        Ok(m) if s.len() <= 320 => Ok(m.to_string()),
        _ => Err("must be an e-mail address, or a name and one: Acme <orders@acme.example>".into()),
    }
}

fn storefront_url(s: &str) -> std::result::Result<String, String> {
    match url::Url::parse(s.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && s.len() <= 500 => {
            Ok(u.as_str().trim_end_matches('/').to_owned())
        }
        _ => Err("must be an http or https URL, e.g. https://shop.acme.example".into()),
    }
}

/// The shop's settings.
pub async fn settings(db: &Db, merchant_id: &str) -> Result<Settings> {
    db::merchants::settings(db, merchant_id).await?.ok_or(Error::NotFound("merchant"))
}

/// Changes the shop's settings.
pub async fn set_settings(db: &Db, merchant_id: &str, req: SettingsChange) -> Result<Settings> {
    let mut now = settings(db, merchant_id).await?;
    let mut check = Check::default();
    if let Some(zone) = req.time_zone.as_deref().and_then(|z| check.field("time_zone", parse::time_zone(z))) {
        now.time_zone = zone;
    }
    if let Some(minutes) = req.abandoned_cart_after_minutes {
        let ok = (15..=43_200)
            .contains(&minutes)
            .then_some(minutes)
            .ok_or_else(|| "must be 15 to 43200".to_owned());
        if let Some(m) = check.field("abandoned_cart_after_minutes", ok) {
            now.abandoned_cart_after_minutes = m;
        }
    }
    let optional = |check: &mut Check,
                    field: &str,
                    v: Option<String>,
                    parse: fn(&str) -> std::result::Result<String, String>,
                    into: &mut Option<String>| {
        match v.as_deref().map(str::trim) {
            None => {}
            Some("") => *into = None,
            Some(v) => {
                if let Some(v) = check.field(field, parse(v)) {
                    *into = Some(v);
                }
            }
        }
    };
    optional(&mut check, "email_from", req.email_from, mailbox, &mut now.email_from);
    optional(&mut check, "notification_email", req.notification_email, mailbox, &mut now.notification_email);
    optional(&mut check, "storefront_url", req.storefront_url, storefront_url, &mut now.storefront_url);
    check.finish()?;
    if !db::merchants::set_settings(db, merchant_id, &now).await? {
        return Err(Error::NotFound("merchant"));
    }
    Ok(now)
}

/// Origins a merchant's storefront runs on: browsers there may call the
/// store API with the shop's publishable key (CORS).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// `https://shop.example.com` (scheme, host and an optional port; no
    /// path), at most 20; `[]` allows no browser origin.
    pub allowed_origins: Vec<String>,
}

/// Most origins one merchant may allow.
pub const MAX_ORIGINS: usize = 20;

/// Each merchant's allowed origins (trusted like [`KEYS`]).
static ORIGINS: LazyLock<TtlCache<Vec<String>>> = LazyLock::new(TtlCache::default);

/// An origin as browsers send it: `scheme://host[:port]`, lower-case.
fn origin(s: &str) -> std::result::Result<String, String> {
    let s = s.trim().to_ascii_lowercase();
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    let valid = rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    });
    if valid { Ok(s) } else { Err("must be an origin such as \"https://shop.example.com\" (no path)".into()) }
}

/// A merchant's CORS settings.
pub async fn cors(db: &Db, merchant_id: &str) -> Result<Cors> {
    Ok(Cors { allowed_origins: allowed_origins(db, merchant_id).await? })
}

/// Replaces a merchant's allowed origins.
pub async fn set_cors(db: &Db, merchant_id: &str, req: Cors) -> Result<Cors> {
    let mut check = Check::default();
    if req.allowed_origins.len() > MAX_ORIGINS {
        check.field("allowed_origins", Err::<(), _>(format!("at most {MAX_ORIGINS} origins")));
    }
    let mut origins: Vec<String> = Vec::new();
    for (i, o) in req.allowed_origins.iter().enumerate() {
        if let Some(o) = check.field(format!("allowed_origins[{i}]"), origin(o))
            && !origins.contains(&o)
        {
            origins.push(o);
        }
    }
    check.finish()?;
    let json = serde_json::to_string(&origins).map_err(anyhow::Error::new)?;
    if !db::merchants::set_allowed_origins(db, merchant_id, &json).await? {
        return Err(Error::NotFound("merchant"));
    }
    ORIGINS.put(merchant_id.to_owned(), origins.clone());
    cache::announce(db, Stale::Origins(merchant_id.to_owned())).await;
    Ok(Cors { allowed_origins: origins })
}

/// The origins a merchant allows (cached for a few seconds: another host's
/// change arrives within that delay).
async fn allowed_origins(db: &Db, merchant_id: &str) -> Result<Vec<String>> {
    if let Some(origins) = ORIGINS.get(merchant_id) {
        return Ok(origins);
    }
    let json = db::merchants::allowed_origins(db, merchant_id).await?.ok_or(Error::NotFound("merchant"))?;
    let origins: Vec<String> = serde_json::from_str(&json).unwrap_or_default();
    ORIGINS.put(merchant_id.to_owned(), origins.clone());
    Ok(origins)
}

/// Whether `merchant_id` allows browsers on `origin`.
pub async fn origin_allowed(db: &Db, merchant_id: &str, origin: &str) -> Result<bool> {
    let origin = origin.trim().to_ascii_lowercase();
    Ok(allowed_origins(db, merchant_id).await?.contains(&origin))
}

/// Whether some merchant allows browsers on `origin` (a preflight names
/// no merchant).
pub async fn origin_allowed_anywhere(db: &Db, origin: &str) -> Result<bool> {
    let origin = origin.trim().to_ascii_lowercase();
    if self::origin(&origin).is_err() {
        return Ok(false);
    }
    Ok(db::merchants::origin_allowed_by_any(db, &origin).await?)
}
