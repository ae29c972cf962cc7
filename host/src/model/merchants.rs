//! Merchants and the kinds of their API keys.

use serde::Serialize;

/// A merchant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Merchant {
    /// `mer_…`.
    pub id: String,
    /// The shop's name, as shown to people.
    pub name: String,
    /// URL-safe name, unique across the platform.
    pub slug: String,
    /// ISO 4217 code: the one currency the shop sells in.
    pub default_currency: String,
    /// Where the shop is, ISO 3166-1 alpha-2.
    pub country: String,
    /// Whether catalog prices include tax (typical in the EU); tax plugins
    /// are told, and cart totals do not add tax on top.
    pub prices_include_tax: bool,
    /// Its IANA time zone (reports' days, weeks and months), e.g. "Europe/Paris".
    pub time_zone: String,
    /// When it was created, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// A shop's settings (`GET|PATCH /v1/admin/settings`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Settings {
    /// The shop's name (read-only here: the operator's).
    pub name: String,
    /// The shop's URL name, e.g. its storefront at `/shop/{slug}` (read-only here).
    pub slug: String,
    /// The currency of the shop's catalog (read-only here).
    pub default_currency: String,
    /// IANA time zone: reports' days, weeks and months are the shop's.
    pub time_zone: String,
    /// Minutes a cart with an e-mail and lines may sit idle before it
    /// counts as abandoned (default 240).
    pub abandoned_cart_after_minutes: i64,
    /// The sender of the shop's e-mails, e.g. `Acme <orders@acme.example>`;
    /// absent: the host's default sender, named after the shop.
    pub email_from: Option<String>,
    /// Where the shop's own alerts (low stock) go; absent: none are sent.
    pub notification_email: Option<String>,
    /// The storefront's address, for links in e-mails (cart recovery,
    /// password reset), e.g. `https://shop.acme.example`.
    pub storefront_url: Option<String>,
}

/// Which audience a key speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `sk_…`: the merchant's back office.
    Secret,
    /// `pk_…`: the merchant's storefront.
    Publishable,
}

impl KeyKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Publishable => "publishable",
        }
    }
}
