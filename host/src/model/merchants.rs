//! Merchants and the kinds of their API keys.

use serde::Serialize;

/// A merchant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Merchant {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub default_currency: String,
    pub country: String,
    /// Whether catalog prices include tax (typical in the EU); tax plugins
    /// are told, and cart totals do not add tax on top.
    pub prices_include_tax: bool,
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
