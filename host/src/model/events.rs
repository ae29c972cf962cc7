//! Events: what changed in a merchant's shop, as written to the outbox in
//! the same transaction as the change.

use serde::Serialize;

/// Every event type, as `resource.what`. Orders: one per change in their
/// history; the rest are about their resource.
pub const TYPES: &[&str] = &[
    "order.placed",
    "order.payment_succeeded",
    "order.payment_authorized",
    "order.payment_pending",
    "order.payment_requires_action",
    "order.payment_failed",
    "order.payment_unknown",
    "order.payment_mismatch",
    "order.payment_returned",
    "order.provider_event",
    "order.dispute_opened",
    "order.plugin_skipped",
    "order.fulfilled",
    "order.cancel_requested",
    "order.cancel_failed",
    "order.cancelled",
    "order.refund_pending",
    "order.refund_unknown",
    "order.refund_failed",
    "order.refunded",
    "order.returned",
    "customer.created",
    "plugin_bindings.changed",
    "customer.password_reset_requested",
    "cart.abandoned",
    "inventory.low_stock",
    "inventory.out_of_stock",
    "plugin.circuit_opened",
];

/// Whether `kind` is an event type Mercato writes.
pub fn is_type(kind: &str) -> bool {
    TYPES.contains(&kind)
}

impl Event {
    /// An event of type `kind` (`resource.what`) about `resource_id`.
    pub fn new(
        id: String,
        kind: String,
        resource_id: String,
        data: serde_json::Value,
        created_at: i64,
    ) -> Event {
        let resource = kind.split('.').next().unwrap_or_default().to_owned();
        Event { id, kind, resource, resource_id, version: 1, data, created_at }
    }
}

/// One event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    /// `obx_…`: stable, and the same in every delivery of the event.
    pub id: String,
    /// `resource.what`: one of [`TYPES`], e.g. `order.placed`,
    /// `order.payment_succeeded`, `inventory.low_stock`, `customer.created`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What the event is about: `order`, `customer`, `inventory` (a
    /// variant's stock), `plugin` or `cart`.
    pub resource: String,
    /// Its id, e.g. `ord_…`, `cus_…`, `var_…`, `plg_…`, `cart_…`.
    pub resource_id: String,
    /// The version of `data`'s shape: 1.
    pub version: u32,
    /// For an order: `order_id`, `number`, `seq` (its place in the order's
    /// history), `kind`, `data` (as in the order's events) and `created_at`.
    /// For a customer: `customer_id`, `email`, `first_name`, `last_name`.
    /// For stock: `variant_id`, `product_id`, `sku`, `available`,
    /// `low_stock_threshold`. For a plugin: `plugin_id`, `plugin`,
    /// `version`, `extension_point`, `consecutive_failures`, `last_failure`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}
