//! Merchants and API keys.

use crate::db::Result;
use sqlx::Row;

use super::{Db, now_ms};
use crate::model::ids::new_id;
use crate::model::merchants::{KeyKind, Merchant, Settings};

const COLUMNS: &str =
    "merchant_id, name, slug, default_currency, country, prices_include_tax, time_zone, created_at";

fn merchant(row: &sqlx::any::AnyRow) -> Result<Merchant> {
    Ok(Merchant {
        id: row.try_get("merchant_id")?,
        name: row.try_get("name")?,
        slug: row.try_get("slug")?,
        default_currency: row.try_get("default_currency")?,
        country: row.try_get("country")?,
        prices_include_tax: row.try_get::<i64, _>("prices_include_tax")? != 0,
        time_zone: row.try_get("time_zone")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A key as stored: its hash, last 4 characters, and, for a publishable
/// key only (public by design), the key itself.
pub struct StoredKey {
    /// Secret or publishable.
    pub kind: KeyKind,
    /// sha256 hex of the key.
    pub hash: String,
    /// Shown in listings.
    pub last4: String,
    /// The key, kept readable only when it is publishable.
    pub public_value: Option<String>,
}

async fn insert_keys(
    tx: &mut crate::db::Conn,
    merchant_id: &str,
    keys: &[StoredKey],
    now: i64,
) -> Result<()> {
    for key in keys {
        sqlx::query(
            "insert into api_key (api_key_id, merchant_id, kind, key_hash, last4, public_value, created_at) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id("key"))
        .bind(merchant_id)
        .bind(key.kind.as_str())
        .bind(&key.hash)
        .bind(&key.last4)
        .bind(key.public_value.as_deref())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Writes a new merchant and its keys, in one transaction.
pub async fn insert(db: &Db, m: &Merchant, keys: &[StoredKey]) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "insert into merchant (merchant_id, name, slug, default_currency, country, prices_include_tax, \
         time_zone, created_at, updated_at) values ($1, $2, $3, $4, $5, $7, $8, $6, $6)",
    )
    .bind(&m.id)
    .bind(&m.name)
    .bind(&m.slug)
    .bind(&m.default_currency)
    .bind(&m.country)
    .bind(m.created_at)
    .bind(i64::from(m.prices_include_tax))
    .bind(&m.time_zone)
    .execute(&mut *tx)
    .await?;
    insert_keys(&mut tx, &m.id, keys, m.created_at).await?;
    tx.commit().await
}

/// One merchant, if it exists.
pub async fn get(db: &Db, id: &str) -> Result<Option<Merchant>> {
    let sql = format!("select {COLUMNS} from merchant where merchant_id = $1");
    sqlx::query(&sql).bind(id).fetch_optional(db.reads()).await?.as_ref().map(merchant).transpose()
}

/// Merchants in id order (oldest first), after `after`.
pub async fn list(db: &Db, after: Option<&str>, limit: u32) -> Result<Vec<Merchant>> {
    let sql = format!("select {COLUMNS} from merchant where merchant_id > $1 order by merchant_id limit $2");
    let rows =
        sqlx::query(&sql).bind(after.unwrap_or("")).bind(i64::from(limit)).fetch_all(db.reads()).await?;
    rows.iter().map(merchant).collect()
}

/// Revokes a merchant's live keys and writes new ones, in one transaction.
pub async fn replace_keys(db: &Db, merchant_id: &str, keys: &[StoredKey]) -> Result<()> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query("update api_key set revoked_at = $1 where merchant_id = $2 and revoked_at is null")
        .bind(now)
        .bind(merchant_id)
        .execute(&mut *tx)
        .await?;
    insert_keys(&mut tx, merchant_id, keys, now).await?;
    tx.commit().await
}

/// The merchant whose slug is `slug`, with its live publishable key when
/// the host keeps it readable (keys issued since the storefront pages).
pub async fn by_slug_with_publishable_key(db: &Db, slug: &str) -> Result<Option<(Merchant, Option<String>)>> {
    let columns = super::qualified(COLUMNS, "m", "");
    let sql = format!(
        "select {columns}, k.public_value from merchant m left join api_key k on k.merchant_id = m.merchant_id \
         and k.kind = 'publishable' and k.revoked_at is null where m.slug = $1 \
         order by k.created_at desc limit 1"
    );
    let Some(row) = sqlx::query(&sql).bind(slug).fetch_optional(db.reads()).await? else { return Ok(None) };
    Ok(Some((merchant(&row)?, row.try_get("public_value")?)))
}

/// The merchant a live (unrevoked) key of `kind` belongs to, by the key's hash.
pub async fn find_key(db: &Db, key_hash: &str, kind: KeyKind) -> Result<Option<String>> {
    let row = sqlx::query(
        "select merchant_id from api_key where key_hash = $1 and kind = $2 and revoked_at is null",
    )
    .bind(key_hash)
    .bind(kind.as_str())
    .fetch_optional(db.reads())
    .await?;
    Ok(row.map(|r| r.try_get("merchant_id")).transpose()?)
}

/// The origins a merchant's storefront may call the store API from (JSON
/// array text); `None` for an unknown merchant.
pub async fn allowed_origins(db: &Db, merchant_id: &str) -> Result<Option<String>> {
    let row = sqlx::query("select allowed_origins from merchant where merchant_id = $1")
        .bind(merchant_id)
        .fetch_optional(db.reads())
        .await?;
    Ok(row.map(|r| r.try_get("allowed_origins")).transpose()?)
}

/// Replaces a merchant's allowed origins (JSON array text).
pub async fn set_allowed_origins(db: &Db, merchant_id: &str, origins: &str) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("update merchant set allowed_origins = $2, updated_at = $3 where merchant_id = $1")
                .bind(merchant_id)
                .bind(origins)
                .bind(now_ms()),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether any merchant allows `origin` (as it appears quoted in the JSON).
pub async fn origin_allowed_by_any(db: &Db, origin: &str) -> Result<bool> {
    let quoted = serde_json::to_string(origin).unwrap_or_default();
    let escaped = quoted.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let row =
        sqlx::query("select 1 as found from merchant where allowed_origins like $1 escape '\\' limit 1")
            .bind(format!("%{escaped}%"))
            .fetch_optional(db.reads())
            .await?;
    Ok(row.is_some())
}

/// A merchant's settings; `None` if there is no such merchant.
pub async fn settings(db: &Db, merchant_id: &str) -> Result<Option<Settings>> {
    let row = sqlx::query(
        "select name, slug, default_currency, time_zone, abandoned_cart_after_ms, email_from, \
         notification_email, storefront_url from merchant where merchant_id = $1",
    )
    .bind(merchant_id)
    .fetch_optional(db.reads())
    .await?;
    row.map(|r| {
        Ok(Settings {
            name: r.try_get("name")?,
            slug: r.try_get("slug")?,
            default_currency: r.try_get("default_currency")?,
            time_zone: r.try_get("time_zone")?,
            abandoned_cart_after_minutes: r.try_get::<i64, _>("abandoned_cart_after_ms")? / 60_000,
            email_from: r.try_get("email_from")?,
            notification_email: r.try_get("notification_email")?,
            storefront_url: r.try_get("storefront_url")?,
        })
    })
    .transpose()
}

/// Writes a merchant's settings (not the operator's name, slug and
/// currency); false if there is no such merchant.
pub async fn set_settings(db: &Db, merchant_id: &str, s: &Settings) -> Result<bool> {
    let done = db
        .write(
            sqlx::query(
                "update merchant set time_zone = $2, abandoned_cart_after_ms = $3, email_from = $4, \
         notification_email = $5, storefront_url = $6, updated_at = $7 where merchant_id = $1",
            )
            .bind(merchant_id)
            .bind(&s.time_zone)
            .bind(s.abandoned_cart_after_minutes * 60_000)
            .bind(&s.email_from)
            .bind(&s.notification_email)
            .bind(&s.storefront_url)
            .bind(now_ms()),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}
