//! Events: what changed in a merchant's shop, as written to the outbox in
//! the same transaction as the change.

use serde::Serialize;

/// One event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// `obx_…`: stable, and the same in every delivery of the event.
    pub id: String,
    /// `order.<what happened>`, e.g. `order.placed`, `order.payment_succeeded`,
    /// `order.fulfilled`, `order.refunded`, `order.dispute_opened`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the event is about: `order`.
    pub resource: String,
    /// Its id, e.g. `ord_…`.
    pub resource_id: String,
    /// The version of `data`'s shape: 1.
    pub version: u32,
    /// For an order: `order_id`, `number`, `seq` (its place in the order's
    /// history), `kind`, `data` (as in the order's events) and `created_at`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}
