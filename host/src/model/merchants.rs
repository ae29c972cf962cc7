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
