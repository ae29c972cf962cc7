//! Orders: what was bought and charged (prices, adjustments and tax lines
//! as they were at completion), a state machine over payment and
//! fulfillment, and an append-only history.
//!
//! `status` is derived from the two sub-statuses and cancellation:
//! `pending_payment` until the payment succeeds, then `paid`,
//! `partially_fulfilled`, `fulfilled`; `partially_refunded` / `refunded`
//! once money went back; `cancelled` at the end.

pub use crate::model::orders::{
    FulfilledLine, Fulfillment, NextAction, Order, OrderEvent, OrderLine, OrderStatus, Payment,
};

pub mod actions;

use serde::Serialize;

use crate::commerce::ids::{hash_secret, same_hash};
use crate::commerce::{Error, Page, Paged, Result};
use crate::db::{self, Db};

/// An order with its history, for the back office.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderDetail {
    /// The order as placed and since changed.
    #[serde(flatten)]
    pub order: Order,
    /// Its shipments, oldest first.
    pub fulfillments: Vec<Fulfillment>,
    /// Its history, oldest first.
    pub events: Vec<OrderEvent>,
}

/// An order as its buyer sees it: with its shipments (carrier and
/// tracking), without the merchant's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BuyerOrder {
    /// The order as placed and since changed.
    #[serde(flatten)]
    pub order: Order,
    /// Its shipments, oldest first.
    pub fulfillments: Vec<Fulfillment>,
}

/// A merchant's order. A checkout whose payment has not confirmed it (it
/// has no number yet: declined, or still being paid) is not an order.
pub async fn get(db: &Db, merchant_id: &str, order_id: &str) -> Result<Order> {
    get_any(db, merchant_id, order_id)
        .await
        .and_then(|o| if o.number > 0 { Ok(o) } else { Err(Error::NotFound("order")) })
}

/// An order as placed by a checkout, numbered or not (for the checkout
/// itself).
pub async fn get_any(db: &Db, merchant_id: &str, order_id: &str) -> Result<Order> {
    db::orders::get(db, merchant_id, order_id).await?.ok_or(Error::NotFound("order"))
}

/// An order's totals and the trail of plugin calls that made them, as
/// kept with the order when it was placed: it still explains itself after
/// the plugins are upgraded or uninstalled.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderExplanation {
    /// `ord_…`.
    pub order_id: String,
    /// ISO 4217.
    pub currency: String,
    /// Sum of the lines' subtotals.
    pub subtotal: crate::model::catalog::Price,
    /// The sum of the trail's adjustments.
    pub discount_total: crate::model::catalog::Price,
    /// The chosen option's amount.
    pub shipping_total: crate::model::catalog::Price,
    /// The sum of the trail's taxes.
    pub tax_total: crate::model::catalog::Price,
    /// What the buyer was charged.
    pub total: crate::model::catalog::Price,
    /// False for an order placed before orders kept their trail (then it is empty).
    pub recorded: bool,
    /// Every plugin call that priced it, in the order they ran.
    pub trail: Vec<crate::model::cart::TrailStep>,
}

/// How a merchant's order was priced, call by call.
pub async fn explain(db: &Db, merchant_id: &str, order_id: &str) -> Result<OrderExplanation> {
    let order = get(db, merchant_id, order_id).await?;
    let stored = db::orders::explain(db, merchant_id, order_id).await?;
    let trail = match stored.as_deref() {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| Error::Internal(anyhow::anyhow!("order {order_id}'s trail is unreadable: {e}")))?,
        None => Vec::new(),
    };
    Ok(OrderExplanation {
        order_id: order.id,
        currency: order.currency,
        subtotal: order.subtotal,
        discount_total: order.discount_total,
        shipping_total: order.shipping_total,
        tax_total: order.tax_total,
        total: order.total,
        recorded: stored.is_some(),
        trail,
    })
}

/// A merchant's order with its history.
pub async fn detail(db: &Db, merchant_id: &str, order_id: &str) -> Result<OrderDetail> {
    let order = get(db, merchant_id, order_id).await?;
    let events = db::orders::events(db, merchant_id, order_id).await?;
    let fulfillments = db::orders::fulfillments(db, merchant_id, order_id).await?;
    Ok(OrderDetail { order, fulfillments, events })
}

/// A merchant's orders, newest last (id order), optionally of one status.
pub async fn list(db: &Db, merchant_id: &str, status: Option<&str>, page: &Page) -> Result<Paged<Order>> {
    let status = match status {
        None | Some("") => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
            Error::field("status", "must be one of pending_payment, paid, partially_fulfilled, fulfilled, cancelled, partially_refunded, refunded")
        })?),
    };
    let rows = db::orders::list(db, merchant_id, None, status, page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |o| &o.id))
}

/// A customer's orders.
pub async fn for_customer(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    page: &Page,
) -> Result<Paged<Order>> {
    let rows =
        db::orders::list(db, merchant_id, Some(customer_id), None, page.after.as_deref(), page.limit + 1)
            .await?;
    Ok(Paged::from_rows(rows, page.limit, |o| &o.id))
}

/// An order seen by its buyer: the customer who placed it, or anyone with
/// the order's access token (guests). Anything else is "not found".
pub async fn for_buyer(
    db: &Db,
    merchant_id: &str,
    order_id: &str,
    customer_id: Option<&str>,
    access_token: Option<&str>,
) -> Result<BuyerOrder> {
    let order = get(db, merchant_id, order_id).await?;
    let by_customer = customer_id.is_some() && order.customer_id.as_deref() == customer_id;
    let by_token = match access_token {
        Some(t) if !by_customer => {
            let stored = db::orders::access_token_hash(db, merchant_id, order_id).await?;
            stored.is_some_and(|h| same_hash(h.as_bytes(), hash_secret(t).as_bytes()))
        }
        _ => false,
    };
    if !(by_customer || by_token) {
        return Err(Error::NotFound("order"));
    }
    let fulfillments = db::orders::fulfillments(db, merchant_id, order_id).await?;
    Ok(BuyerOrder { order, fulfillments })
}
