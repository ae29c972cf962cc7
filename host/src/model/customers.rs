//! Storefront customers, their sessions and wishlists.

use serde::Serialize;

/// A customer of one merchant. The password hash never leaves `db`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
    /// Trimmed and lowercased.
    pub email: String,
    /// Given name, 1 to 100 characters.
    pub first_name: String,
    /// Family name, 1 to 100 characters.
    pub last_name: String,
    /// Unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// A live session, as found from its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    /// The `customer_token` row, to revoke it.
    pub session_id: String,
    /// The signed-in customer (`cus_…`).
    pub customer_id: String,
}

/// A product on a customer's wishlist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WishlistItem {
    /// The product saved (`prod_…`).
    pub product_id: String,
    /// Unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub added_at: i64,
}
