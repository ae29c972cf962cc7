//! Orders, their lines, payment attempts and history.

use super::cart::{Address, AdjustmentView, ShippingOption, TaxLineView};
use super::catalog::Price;
use serde::{Deserialize, Serialize};

/// An order's overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    PartiallyFulfilled,
    Fulfilled,
    Cancelled,
    PartiallyRefunded,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::PartiallyFulfilled => "partially_fulfilled",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        Some(match s {
            "pending_payment" => OrderStatus::PendingPayment,
            "paid" => OrderStatus::Paid,
            "partially_fulfilled" => OrderStatus::PartiallyFulfilled,
            "fulfilled" => OrderStatus::Fulfilled,
            "cancelled" => OrderStatus::Cancelled,
            "partially_refunded" => OrderStatus::PartiallyRefunded,
            "refunded" => OrderStatus::Refunded,
            _ => return None,
        })
    }

    /// The overall status from its parts.
    pub fn derive(cancelled: bool, payment: &str, fulfillment: &str) -> OrderStatus {
        match (cancelled, payment, fulfillment) {
            (true, _, _) => OrderStatus::Cancelled,
            (_, "refunded", _) => OrderStatus::Refunded,
            (_, "partially_refunded", _) => OrderStatus::PartiallyRefunded,
            (_, "paid", "fulfilled") => OrderStatus::Fulfilled,
            (_, "paid", "partially_fulfilled") => OrderStatus::PartiallyFulfilled,
            (_, "paid", _) => OrderStatus::Paid,
            _ => OrderStatus::PendingPayment,
        }
    }
}

/// An order as the merchant and the buyer see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Order {
    pub id: String,
    /// Per merchant, from 1001.
    pub number: i64,
    pub status: OrderStatus,
    /// `pending`, `requires_action`, `paid`, `failed`, `voided`,
    /// `partially_refunded`, `refunded`.
    pub payment_status: String,
    /// `unfulfilled`, `partially_fulfilled`, `fulfilled`.
    pub fulfillment_status: String,
    pub currency: String,
    pub lines: Vec<OrderLine>,
    pub subtotal: Price,
    pub discount_total: Price,
    pub shipping_total: Price,
    pub tax_total: Price,
    pub total: Price,
    /// What the payment provider captured.
    pub captured: Price,
    pub refunded: Price,
    pub prices_include_tax: bool,
    /// Order and shipping adjustments, as charged.
    pub adjustments: Vec<AdjustmentView>,
    pub shipping_tax_lines: Vec<TaxLineView>,
    pub discount_codes: Vec<String>,
    /// `None` when the shop ships nothing (no shipping plugin bound).
    pub shipping_option: Option<ShippingOption>,
    pub email: String,
    pub customer_id: Option<String>,
    pub shipping_address: Address,
    pub billing_address: Option<Address>,
    /// The latest payment attempt.
    pub payment: Option<Payment>,
    pub cart_id: String,
    pub cancelled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A line as charged.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub id: String,
    pub variant_id: String,
    pub product_id: String,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Price,
    pub subtotal: Price,
    pub discount_total: Price,
    pub tax_total: Price,
    /// Subtotal minus discounts.
    pub total: Price,
    pub adjustments: Vec<AdjustmentView>,
    pub tax_lines: Vec<TaxLineView>,
    pub fulfilled_quantity: i64,
    pub returned_quantity: i64,
    pub refunded_quantity: i64,
}

/// A payment attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: String,
    /// The payment plugin's name.
    pub provider: String,
    pub plugin_id: String,
    /// `started`, `succeeded`, `requires_action`, `pending`, `failed`, `unknown`, `voided`.
    pub status: String,
    pub amount: Price,
    pub provider_reference: Option<String>,
    pub next_action: Option<NextAction>,
    /// Instructions from the provider (e.g. bank transfer details).
    pub message: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the buyer must do to finish paying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NextAction {
    pub client_secret: Option<String>,
    pub redirect_url: Option<String>,
}

/// One entry of an order's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderEvent {
    pub seq: i64,
    /// e.g. `placed`, `payment_succeeded`, `fulfilled`, `refunded`.
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: i64,
}
