//! Types shared by every extension point.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The five things a plugin can decide.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionPoint {
    /// Discounts, promotions, price lists.
    Pricing,
    /// Tax calculation.
    Tax,
    /// Shipping rates.
    Shipping,
    /// Payment providers.
    Payment,
    /// Product recommendations.
    Recommendations,
}

impl ExtensionPoint {
    /// Every extension point, in contract order.
    pub const ALL: [ExtensionPoint; 5] = [
        ExtensionPoint::Pricing,
        ExtensionPoint::Tax,
        ExtensionPoint::Shipping,
        ExtensionPoint::Payment,
        ExtensionPoint::Recommendations,
    ];

    /// The snake_case name used in URLs and JSON (`"pricing"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ExtensionPoint::Pricing => "pricing",
            ExtensionPoint::Tax => "tax",
            ExtensionPoint::Shipping => "shipping",
            ExtensionPoint::Payment => "payment",
            ExtensionPoint::Recommendations => "recommendations",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<ExtensionPoint> {
        ExtensionPoint::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for ExtensionPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a plugin says about itself.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Metadata {
    /// Package name, e.g. `"us-sales-tax"`.
    pub name: String,
    /// Semantic version.
    pub version: String,
    /// The extension point the plugin implements.
    pub extension_point: ExtensionPoint,
    /// One sentence for the operator.
    pub description: String,
    /// JSON Schema of the configuration the plugin accepts.
    pub config_schema: String,
}

/// A postal address; `country` is ISO 3166-1 alpha-2 (`"US"`, `"DE"`).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Address {
    /// Recipient.
    #[serde(default)]
    pub name: String,
    /// Street and number.
    #[serde(default)]
    pub line1: String,
    /// Apartment, suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// City.
    #[serde(default)]
    pub city: String,
    /// State, province or region code (`"CA"`).
    #[serde(default)]
    pub region: String,
    /// Postal code.
    #[serde(default)]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

/// One cart line as the host priced it before any plugin ran.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CartLine {
    /// Line id, unique in the cart.
    pub id: String,
    /// Product id.
    pub product_id: String,
    /// Variant id.
    pub variant_id: String,
    /// Stock keeping unit.
    pub sku: String,
    /// Units.
    pub quantity: u32,
    /// Price of one unit before adjustments.
    pub unit_price: Money,
    /// Product tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Category (collection) ids of the product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<String>,
    /// Tax code of the variant, e.g. `"books"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
    /// Weight of one unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<u32>,
}

impl CartLine {
    /// A line of `quantity` × `product_id` at `unit_price`, for tests and
    /// fixtures: the variant id is `<product_id>-v`, the sku the line id in
    /// capitals, and there are no tags or collections.
    pub fn new(id: &str, product_id: &str, quantity: u32, unit_price: Money) -> CartLine {
        CartLine {
            id: id.to_owned(),
            product_id: product_id.to_owned(),
            variant_id: format!("{product_id}-v"),
            sku: id.to_uppercase(),
            quantity,
            unit_price,
            tags: Vec::new(),
            collections: Vec::new(),
            tax_code: None,
            weight_grams: None,
        }
    }

    /// The same line with these product tags.
    pub fn with_tags(mut self, tags: &[&str]) -> CartLine {
        self.tags = tags.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// `unit_price × quantity`.
    pub fn subtotal(&self) -> Money {
        Money::new(self.unit_price.amount.saturating_mul(i64::from(self.quantity)), self.unit_price.currency)
    }
}

/// Who is buying. Guests have no id.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Customer {
    /// Customer id, if logged in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Email, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Customer tags, e.g. `"wholesale"`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Exempt from sales tax.
    #[serde(default)]
    pub tax_exempt: bool,
    /// VAT identification number, e.g. `"FR40303265045"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
}

/// A failure a plugin reports on purpose.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PluginError {
    /// Stable snake_case code, e.g. `"invalid_config"`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// The code of [`PluginError::outcome_unknown`].
pub const OUTCOME_UNKNOWN: &str = "outcome_unknown";

impl PluginError {
    /// A new error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> PluginError {
        PluginError { code: code.into(), message: message.into() }
    }

    /// The configuration does not fit the plugin.
    pub fn invalid_config(message: impl Into<String>) -> PluginError {
        PluginError::new("invalid_config", message)
    }

    /// A payment provider may have acted on the request, but the plugin
    /// cannot tell (a timeout, a lost connection, a 5xx): the host keeps the
    /// attempt open and asks again later with the same idempotency key,
    /// where any other error settles it as failed, nothing taken.
    pub fn outcome_unknown(message: impl Into<String>) -> PluginError {
        PluginError::new(OUTCOME_UNKNOWN, message)
    }

    /// The input is outside what the plugin supports.
    pub fn unsupported(message: impl Into<String>) -> PluginError {
        PluginError::new("unsupported", message)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for PluginError {}

/// How important a message is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    /// Detail for the plugin author.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong but the call goes on.
    Warn,
    /// The call is failing.
    Error,
}
