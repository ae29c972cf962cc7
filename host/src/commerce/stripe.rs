//! A merchant's Stripe account, connected natively: the keys are checked
//! for their shape and mode, the secrets sealed at rest (see
//! [`super::secrets`]) and never shown again, only their last four characters.

use serde::{Deserialize, Serialize};

use super::{Check, Error, Result, Shop};
use crate::db;
use crate::model::providers::StoredConnection;
use crate::model::secret::Secret;

const PROVIDER: &str = "stripe";

/// `PUT /payment-providers/stripe`: the account's keys, all three each time.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    /// The secret (`sk_test_…`, `sk_live_…`) or restricted (`rk_…`) API key.
    #[schema(required = true)]
    pub secret_key: Option<String>,
    /// The publishable key (`pk_test_…`, `pk_live_…`), in the same mode.
    #[schema(required = true)]
    pub publishable_key: Option<String>,
    /// The signing secret of the webhook endpoint (`whsec_…`).
    #[schema(required = true)]
    pub webhook_secret: Option<String>,
    /// `automatic` (default): charge at checkout; `manual`: authorize at
    /// checkout, capture later.
    pub capture: Option<String>,
}

/// The connection as the merchant sees it: no secret, only its end.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StripeConnection {
    /// `stripe`.
    pub provider: String,
    /// `test` or `live`, from the keys.
    pub mode: String,
    /// The publishable key, which the storefront uses.
    pub publishable_key: String,
    /// The last four characters of the secret key.
    pub secret_key_last4: String,
    /// The last four characters of the webhook signing secret.
    pub webhook_secret_last4: String,
    /// `automatic` or `manual`.
    pub capture: String,
    /// When it was first connected.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// What the host needs to call Stripe for a merchant, secrets opened.
#[derive(Debug, Clone)]
pub struct StripeCredentials {
    /// The API key.
    pub secret_key: Secret,
    /// The webhook signing secret.
    pub webhook_secret: Secret,
    /// The publishable key.
    pub publishable_key: String,
    /// Whether checkout captures at once.
    pub capture_automatically: bool,
}

/// `prefix` + `test_`/`live_` + 8 to 247 letters and digits; the mode.
fn key(raw: &str, prefixes: &[&str], example: &str) -> std::result::Result<(String, &'static str), String> {
    let raw = raw.trim();
    let rest = prefixes.iter().find_map(|p| raw.strip_prefix(p));
    let (mode, body) = match rest.map(|r| (r.strip_prefix("test_"), r.strip_prefix("live_"))) {
        Some((Some(body), _)) => ("test", body),
        Some((_, Some(body))) => ("live", body),
        _ => return Err(format!("is not a Stripe key of this kind (e.g. {example}…)")),
    };
    if !(8..=247).contains(&body.len()) || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("is not a Stripe key of this kind (e.g. {example}…)"));
    }
    Ok((raw.to_owned(), mode))
}

fn webhook_secret(raw: &str) -> std::result::Result<String, String> {
    let raw = raw.trim();
    let body = raw.strip_prefix("whsec_").unwrap_or_default();
    if (8..=250).contains(&body.len())
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b))
    {
        Ok(raw.to_owned())
    } else {
        Err("is not a Stripe webhook signing secret (whsec_…)".into())
    }
}

fn last4(s: &str) -> String {
    s.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect()
}

fn context(merchant_id: &str, field: &str) -> String {
    format!("{merchant_id}/{PROVIDER}/{field}")
}

fn view(c: StoredConnection) -> StripeConnection {
    let mode = if c.publishable_key.starts_with("pk_live_") { "live" } else { "test" };
    StripeConnection {
        provider: c.provider,
        mode: mode.into(),
        publishable_key: c.publishable_key,
        secret_key_last4: c.secret_key_last4,
        webhook_secret_last4: c.webhook_secret_last4,
        capture: c.capture,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

fn not_connected() -> Error {
    Error::NotFound("Stripe connection")
}

/// Connects (or reconnects) the merchant's Stripe account.
pub async fn connect(shop: &Shop, merchant_id: &str, req: StripeSettings) -> Result<StripeConnection> {
    let mut check = Check::default();
    let required = |v: Option<String>| v.ok_or_else(|| "is required".to_owned());
    let secret = check
        .field("secret_key", required(req.secret_key).and_then(|k| key(&k, &["sk_", "rk_"], "sk_test_")));
    let public = check
        .field("publishable_key", required(req.publishable_key).and_then(|k| key(&k, &["pk_"], "pk_test_")));
    let hook = check.field("webhook_secret", required(req.webhook_secret).and_then(|s| webhook_secret(&s)));
    let capture = check.field(
        "capture",
        match req.capture.as_deref().map(str::trim) {
            None | Some("automatic") => Ok("automatic"),
            Some("manual") => Ok("manual"),
            Some(_) => Err("must be automatic or manual".to_owned()),
        },
    );
    if let (Some((_, secret_mode)), Some((_, public_mode))) = (&secret, &public)
        && secret_mode != public_mode
    {
        check.field::<()>(
            "publishable_key",
            Err(format!("is a {public_mode} key, but the secret key is a {secret_mode} key")),
        );
    }
    let settings = secret.zip(public).zip(hook).zip(capture);
    let ((((secret, _), (public, _)), hook), capture) = check.finish_with(settings)?;
    let now = db::now_ms();
    let stored = StoredConnection {
        merchant_id: merchant_id.to_owned(),
        provider: PROVIDER.into(),
        publishable_key: public,
        secret_key_sealed: shop.secrets.seal(&secret, &context(merchant_id, "secret_key")),
        secret_key_last4: last4(&secret),
        webhook_secret_sealed: shop.secrets.seal(&hook, &context(merchant_id, "webhook_secret")),
        webhook_secret_last4: last4(&hook),
        capture: capture.into(),
        created_at: now,
        updated_at: now,
    };
    Ok(view(db::payment_providers::upsert(&shop.db, &stored).await?))
}

/// The merchant's Stripe connection; 404 when there is none.
pub async fn connection(shop: &Shop, merchant_id: &str) -> Result<StripeConnection> {
    let stored =
        db::payment_providers::get(&shop.db, merchant_id, PROVIDER).await?.ok_or_else(not_connected)?;
    Ok(view(stored))
}

/// Disconnects the merchant's Stripe account; 404 when there is none.
pub async fn disconnect(shop: &Shop, merchant_id: &str) -> Result<()> {
    if db::payment_providers::delete(&shop.db, merchant_id, PROVIDER).await? {
        Ok(())
    } else {
        Err(not_connected())
    }
}

/// The merchant's Stripe keys, secrets opened; `None` when not connected.
pub async fn credentials(shop: &Shop, merchant_id: &str) -> Result<Option<StripeCredentials>> {
    let Some(c) = db::payment_providers::get(&shop.db, merchant_id, PROVIDER).await? else { return Ok(None) };
    Ok(Some(StripeCredentials {
        secret_key: shop.secrets.open(&c.secret_key_sealed, &context(merchant_id, "secret_key"))?,
        webhook_secret: shop
            .secrets
            .open(&c.webhook_secret_sealed, &context(merchant_id, "webhook_secret"))?,
        publishable_key: c.publishable_key,
        capture_automatically: c.capture == "automatic",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_for_kind_and_mode() {
        assert_eq!(key("sk_test_51Habc123XYZ", &["sk_", "rk_"], "sk_test_").unwrap().1, "test");
        assert_eq!(key("rk_live_51Habc123XYZ", &["sk_", "rk_"], "sk_test_").unwrap().1, "live");
        for bad in
            ["pk_test_51Habc123XYZ", "sk_prod_51Habc123XYZ", "sk_test_short", "sk_test_51Habc 123XYZ", ""]
        {
            assert!(key(bad, &["sk_", "rk_"], "sk_test_").is_err(), "{bad}");
        }
        assert!(webhook_secret("whsec_abcDEF123+/=").is_ok());
        assert!(webhook_secret("whsec_").is_err());
        assert!(webhook_secret("sk_test_51Habc123XYZ").is_err());
        assert_eq!(last4("sk_test_51Habc123XYZ"), "3XYZ");
    }
}
