//! What the merchant does with an order after checkout: ship it
//! (fulfillments), take goods back (returns), and — in [`money`] — pay
//! money back (refunds), cancel it, or mark a manual payment received.
//!
//! Each action checks the order first, so a request that cannot succeed
//! gets a clear answer and changes nothing; the transaction then re-checks
//! the state it depends on (see `db::order_actions`), so concurrent
//! requests never over-fulfil, over-return, over-refund or cancel a shipped
//! order.

mod money;

pub(crate) use money::reconcile_refund;
pub use money::{CancelRequest, NewRefund, cancel, capture, refund};

use serde::Deserialize;

use super::{Order, OrderLine, get};
use crate::commerce::ids::new_id;
use crate::commerce::payments::{Provider, provider_by_id};
use crate::commerce::stripe::Capture;
use crate::commerce::{Check, Error, FieldErrors, Result, Shop, parse};
use crate::db::order_actions::{self as store, LineQty, Written};
use crate::db::{self, Db, now_ms};

/// Some units of one order line.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// The order line (`ol_…`).
    #[schema(required = true)]
    pub line_id: Option<String>,
    /// Units of it, 1 or more.
    #[schema(required = true)]
    pub quantity: Option<i64>,
}

/// `POST /orders/{id}/fulfillments`: a shipment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFulfillment {
    /// The units shipped, at most what is left to ship of each line.
    #[schema(required = true)]
    pub lines: Option<Vec<LineInput>>,
    /// Who carries the parcel, up to 100 characters.
    pub carrier: Option<String>,
    /// The carrier's tracking number, up to 200 characters.
    pub tracking_number: Option<String>,
}

/// `POST /orders/{id}/returns`: shipped goods coming back. A return pays
/// nothing back by itself: refund separately.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReturn {
    /// The units returned, at most what was shipped and not yet returned.
    #[schema(required = true)]
    pub lines: Option<Vec<LineInput>>,
    /// Why the goods came back, up to 500 characters.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// Put the units back in stock; default true.
    pub restock: Option<bool>,
    /// Where to restock; by default where the stock was taken from, else
    /// the shop's first location.
    pub location_id: Option<String>,
}

/// The `409 invalid_transition` answer.
pub(super) fn invalid(message: impl Into<String>) -> Error {
    Error::Conflict { code: "invalid_transition", message: message.into() }
}

/// Parses the requested lines against the order: lines of this order, each
/// once, 1 to `left(line)` units. Returns `(index in order.lines, units)`.
fn parse_lines(
    check: &mut Check,
    order: &Order,
    lines: Option<&[LineInput]>,
    left: impl Fn(&OrderLine) -> i64,
    verb: &str,
) -> Vec<(usize, i64)> {
    let Some(lines) = lines.filter(|l| !l.is_empty()) else {
        check.field::<()>("lines", Err("name at least one line".into()));
        return Vec::new();
    };
    let mut parsed: Vec<(usize, i64)> = Vec::new();
    for (i, input) in lines.iter().enumerate() {
        let Some(id) = &input.line_id else {
            check.field::<()>(format!("lines[{i}].line_id"), Err("is required".into()));
            continue;
        };
        let Some(pos) = order.lines.iter().position(|l| &l.id == id) else {
            check.field::<()>(format!("lines[{i}].line_id"), Err("is not a line of this order".into()));
            continue;
        };
        if parsed.iter().any(|(p, _)| *p == pos) {
            check.field::<()>(format!("lines[{i}].line_id"), Err("appears more than once".into()));
            continue;
        }
        let left = left(&order.lines[pos]);
        let quantity = match input.quantity {
            None => Err("is required".to_owned()),
            Some(_) if left <= 0 => Err(format!("nothing is left to {verb} on this line")),
            Some(q) if !(1..=left).contains(&q) => {
                Err(format!("must be between 1 and {left} (left to {verb})"))
            }
            Some(q) => Ok(q),
        };
        if let Some(q) = check.field(format!("lines[{i}].quantity"), quantity) {
            parsed.push((pos, q));
        }
    }
    parsed
}

fn to_store(order: &Order, lines: &[(usize, i64)]) -> Vec<LineQty> {
    lines.iter().map(|(pos, q)| LineQty { line_id: order.lines[*pos].id.clone(), quantity: *q }).collect()
}

/// Optional trimmed text; blank means absent.
fn optional_text(check: &mut Check, field: &str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    check.field(field, parse::text(value, max))
}

/// What a refused write means for the caller.
fn refused(written: Written, order: &Order, verb: &str) -> Error {
    let n = order.number;
    match written {
        Written::Done => unreachable!("not a refusal"),
        Written::WrongState => invalid(format!("order #{n} changed meanwhile and can no longer be {verb}ed")),
        Written::Short(indexes) => {
            let errors: FieldErrors = indexes
                .iter()
                .map(|i| {
                    (
                        format!("lines[{i}].quantity"),
                        format!("is more than is left to {verb} (the order changed meanwhile)"),
                    )
                })
                .collect();
            let message = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
            Error::Validation { message, errors }
        }
        Written::ExceedsCaptured => Error::Unprocessable {
            code: "refund_exceeds_captured",
            message: format!("order #{n} changed meanwhile: the refund is more than is left to refund"),
        },
        Written::NoLocation => Error::Unprocessable {
            code: "no_location",
            message: "the shop has no location to restock into; create one or send restock: false".into(),
        },
    }
}

/// Whether the order's payment is Stripe's with capture on fulfilment.
async fn captures_on_fulfillment(shop: &Shop, merchant_id: &str, order: &Order) -> Result<bool> {
    let Some(payment) = &order.payment else { return Ok(false) };
    Ok(matches!(
        provider_by_id(shop, merchant_id, &payment.plugin_id).await?,
        Some(Provider::Stripe(account)) if account.capture == Capture::OnFulfillment
    ))
}

/// Ships units of an order's lines. A Stripe payment the merchant chose to
/// capture on fulfilment is captured first; if it cannot be, nothing ships.
pub async fn fulfill(shop: &Shop, merchant_id: &str, order_id: &str, req: NewFulfillment) -> Result<Order> {
    let db = &shop.db;
    let order = get(db, merchant_id, order_id).await?;
    let n = order.number;
    if order.cancelled_at.is_some() {
        return Err(invalid(format!("order #{n} is cancelled")));
    }
    // Pending (bank transfer) or authorized (captured later) may ship.
    let to_capture = matches!(order.payment_status.as_str(), "pending" | "authorized")
        && order.payment.as_ref().is_some_and(|p| p.status == order.payment_status);
    if !matches!(order.payment_status.as_str(), "paid" | "partially_refunded") && !to_capture {
        return Err(invalid(format!(
            "order #{n} cannot be fulfilled while its payment is {}",
            order.payment_status
        )));
    }
    let mut check = Check::default();
    let lines = parse_lines(
        &mut check,
        &order,
        req.lines.as_deref(),
        |l| l.quantity - l.fulfilled_quantity,
        "fulfill",
    );
    let carrier = optional_text(&mut check, "carrier", req.carrier.as_deref(), 100);
    let tracking_number = optional_text(&mut check, "tracking_number", req.tracking_number.as_deref(), 200);
    check.finish()?;
    if order.payment_status == "authorized" && captures_on_fulfillment(shop, merchant_id, &order).await? {
        // A capture that fails ships nothing.
        capture(shop, merchant_id, order_id).await?;
    }
    let lines = to_store(&order, &lines);
    let f = store::NewFulfillment {
        merchant_id,
        order_id,
        fulfillment_id: &new_id("ful"),
        lines: &lines,
        carrier: carrier.as_deref(),
        tracking_number: tracking_number.as_deref(),
        now: now_ms(),
    };
    match store::fulfill(db, &f).await? {
        Written::Done => get(db, merchant_id, order_id).await,
        other => Err(refused(other, &order, "fulfill")),
    }
}

/// Records shipped goods coming back, restocking them unless told not to.
pub async fn return_items(db: &Db, merchant_id: &str, order_id: &str, req: NewReturn) -> Result<Order> {
    let order = get(db, merchant_id, order_id).await?;
    if order.cancelled_at.is_some() {
        return Err(invalid(format!("order #{} is cancelled", order.number)));
    }
    let mut check = Check::default();
    let left = |l: &OrderLine| l.fulfilled_quantity - l.returned_quantity;
    let lines = parse_lines(&mut check, &order, req.lines.as_deref(), left, "return");
    let reason = check
        .field("reason", req.reason.as_deref().map_or(Err("is required".into()), |r| parse::text(r, 500)));
    let restock = req.restock.unwrap_or(true);
    let location_id = match req.location_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) if !restock => {
            check.field::<()>("location_id", Err(format!("{l:?} is not used when restock is false")));
            None
        }
        Some(l) => match db::inventory::get_location(db, merchant_id, l).await? {
            Some(found) => Some(found.id),
            None => check.field("location_id", Err("is not a location of this shop".into())),
        },
    };
    check.finish()?;
    let lines = to_store(&order, &lines);
    let r = store::NewReturn {
        merchant_id,
        order_id,
        return_id: &new_id("ret"),
        lines: &lines,
        reason: reason.as_deref().unwrap_or_default(),
        restock,
        location_id: location_id.as_deref(),
        now: now_ms(),
    };
    match store::record_return(db, &r).await? {
        Written::Done => get(db, merchant_id, order_id).await,
        other => Err(refused(other, &order, "return")),
    }
}
