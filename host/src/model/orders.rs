//! Orders, their lines, payment attempts and history.

use super::cart::{Address, AdjustmentView, ShippingOption, TaxLineView};
use super::catalog::Price;
use serde::{Deserialize, Serialize};

/// An order's overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// The payment has not succeeded yet (started, awaiting the buyer, or pending).
    PendingPayment,
    /// Paid, nothing shipped yet.
    Paid,
    /// Paid, some units shipped.
    PartiallyFulfilled,
    /// Paid, every unit shipped.
    Fulfilled,
    /// Cancelled by the merchant, or its payment failed.
    Cancelled,
    /// Part of what was captured has been paid back.
    PartiallyRefunded,
    /// Everything captured has been paid back.
    Refunded,
}

impl OrderStatus {
    /// The snake_case name, as stored and serialized.
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

    /// The status with this snake_case name; `None` for any other text.
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
    /// `ord_…`; also the order reference the payment provider is given.
    pub id: String,
    /// Per merchant, from 1001, given when the payment confirms the order;
    /// below zero until then (such a checkout is not listed as an order).
    pub number: i64,
    /// Derived from cancellation and the payment and fulfillment statuses.
    pub status: OrderStatus,
    /// `pending`, `requires_action`, `authorized` (to capture), `paid`,
    /// `failed`, `voided`, `partially_refunded`, `refunded`.
    pub payment_status: String,
    /// `unfulfilled`, `partially_fulfilled`, `fulfilled`.
    pub fulfillment_status: String,
    /// ISO 4217 code of every amount in the order.
    pub currency: String,
    /// What was bought, in the cart's line order.
    pub lines: Vec<OrderLine>,
    /// Unit price × quantity over all lines, before discounts.
    pub subtotal: Price,
    /// Taken off by pricing plugins: line discounts, order discounts and any shipping discount.
    pub discount_total: Price,
    /// The selected shipping option's price, before any shipping discount.
    pub shipping_total: Price,
    /// Tax on the discounted lines and shipping, as the tax plugin worked it out.
    pub tax_total: Price,
    /// What the buyer pays: subtotal − discounts + shipping + tax (tax not
    /// added again when prices include it).
    pub total: Price,
    /// What the payment provider captured.
    pub captured: Price,
    /// Paid back so far, counting refunds claimed but not yet confirmed by the provider.
    pub refunded: Price,
    /// Whether the merchant's prices included tax when the order was placed.
    pub prices_include_tax: bool,
    /// Order and shipping adjustments, as charged.
    pub adjustments: Vec<AdjustmentView>,
    /// Taxes on shipping, as charged.
    pub shipping_tax_lines: Vec<TaxLineView>,
    /// The discount codes the order claimed a use of.
    pub discount_codes: Vec<String>,
    /// `None` when the shop ships nothing (no shipping plugin bound).
    pub shipping_option: Option<ShippingOption>,
    /// The buyer's email address, from the cart.
    pub email: String,
    /// The signed-in customer who placed it (`cus_…`); `None` for a guest.
    pub customer_id: Option<String>,
    /// Where the order ships to.
    pub shipping_address: Address,
    /// `None` when the buyer gave none.
    pub billing_address: Option<Address>,
    /// The latest payment attempt.
    pub payment: Option<Payment>,
    /// The cart it was placed from (`cart_…`).
    pub cart_id: String,
    /// When it was cancelled or its payment failed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cancelled_at: Option<i64>,
    /// When the buyer's bank opened a dispute (a chargeback) on its
    /// payment, if it did; the order's events say more.
    #[serde(serialize_with = "crate::model::time::serialize_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub disputed_at: Option<i64>,
    /// When it was placed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// A line as charged.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderLine {
    /// `ol_…`; what fulfillments, returns and refunds name.
    pub id: String,
    /// The variant bought (`var_…`).
    pub variant_id: String,
    /// The variant's product (`prod_…`).
    pub product_id: String,
    /// The variant's SKU at checkout.
    pub sku: String,
    /// Product title, and the variant's when it differs, at checkout.
    pub title: String,
    /// Units bought.
    pub quantity: i64,
    /// The variant's price at checkout, before discounts.
    pub unit_price: Price,
    /// Unit price × quantity.
    pub subtotal: Price,
    /// Discounts on this line, including its share of order discounts.
    pub discount_total: Price,
    /// Tax on the line after discounts.
    pub tax_total: Price,
    /// Subtotal minus discounts.
    pub total: Price,
    /// Discounts aimed at this line; order discounts are listed on the order.
    pub adjustments: Vec<AdjustmentView>,
    /// The taxes that make up `tax_total`.
    pub tax_lines: Vec<TaxLineView>,
    /// Units shipped so far.
    pub fulfilled_quantity: i64,
    /// Units that came back, at most those shipped.
    pub returned_quantity: i64,
    /// Units refunded by line, counting refunds not yet settled.
    pub refunded_quantity: i64,
}

/// A payment attempt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    /// `pay_…`; also the idempotency key the provider is called with.
    pub id: String,
    /// The payment plugin's name.
    pub provider: String,
    /// The installed payment plugin that took it (`plg_…`).
    pub plugin_id: String,
    /// `started`, `succeeded`, `requires_action`, `pending`, `failed`, `unknown`, `voided`.
    pub status: String,
    /// What was asked for: the order's total.
    pub amount: Price,
    /// The provider's id for the payment, once it has answered.
    pub provider_reference: Option<String>,
    /// What the buyer must do, while `status` is `requires_action`.
    pub next_action: Option<NextAction>,
    /// Instructions from the provider (e.g. bank transfer details).
    pub message: Option<String>,
    /// Why it failed, or why the provider could not be asked.
    pub failure_reason: Option<String>,
    /// When the attempt started, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// What the buyer must do to finish paying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NextAction {
    /// For the provider's client-side library (e.g. to confirm 3-D Secure).
    pub client_secret: Option<String>,
    /// Where to send the buyer to finish paying.
    pub redirect_url: Option<String>,
}

/// One entry of an order's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderEvent {
    /// Position in the order's history, from 1.
    pub seq: i64,
    /// e.g. `placed`, `payment_succeeded`, `fulfilled`, `refunded`.
    pub kind: String,
    /// Details of the change, by kind (amounts, lines, references).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// When it happened, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// Units of one order line, in a fulfillment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FulfilledLine {
    /// The order line (`ol_…`).
    pub line_id: String,
    /// Units shipped in this fulfillment.
    pub quantity: i64,
}

/// A shipment of some of an order's units.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Fulfillment {
    /// `ful_…`.
    pub id: String,
    /// What was shipped.
    pub lines: Vec<FulfilledLine>,
    /// Who carries it, as the merchant wrote it.
    pub carrier: Option<String>,
    /// The carrier's tracking number.
    pub tracking_number: Option<String>,
    /// When it was recorded (unix milliseconds).
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}
