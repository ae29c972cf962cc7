//! Discount codes.

use super::time;
use serde::Serialize;

/// A discount code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DiscountCode {
    /// `dc_…`.
    pub id: String,
    /// As entered by the merchant; matched case-insensitively.
    pub code: String,
    /// How many orders may use it; unlimited when absent.
    pub usage_limit: Option<i64>,
    /// How many orders have used it.
    pub usage_count: i64,
    /// RFC 3339; usable from this instant on.
    #[serde(serialize_with = "time::serialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<i64>,
    /// RFC 3339; no longer usable from this instant on.
    #[serde(serialize_with = "time::serialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<i64>,
    /// When it was made (RFC 3339 on the wire, like every timestamp).
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// The case-insensitive key a code is unique and looked up by.
pub fn code_key(code: &str) -> String {
    code.to_ascii_uppercase()
}
