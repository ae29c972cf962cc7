//! Actions that move money through the order's payment provider: refunds,
//! cancellation (which pays back or calls off the payment) and capture of
//! a manual payment. The provider is called outside any transaction, with
//! the refund id (or the attempt id) in its idempotency key: a first
//! transaction claims the money, a second records the answer or gives the
//! claim back, so nothing is paid back twice and nothing is lost.

use mercato_sdk::Money;
use mercato_sdk::payment::{CaptureRequest, PaymentCall, RefundRequest, VoidRequest};
use serde::Deserialize;

use super::{LineInput, invalid, parse_lines, refused, to_store};
use crate::commerce::catalog::{PriceInput, same_currency};
use crate::commerce::orders::{Order, OrderLine, Payment, get};
use crate::commerce::payments::{self, Provider};
use crate::commerce::{Check, Error, Result, Shop, ids::new_id, parse};
use crate::db::checkout::{Outcome, Settled, settle};
use crate::db::now_ms;
use crate::db::order_actions::{self as store, Cancel, CancelPayment, RefundClaim, RefundLine, Written};

/// `POST /orders/{id}/cancel`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why, up to 500 characters; sent to the provider with any refund.
    pub reason: Option<String>,
}

/// `POST /orders/{id}/refunds`: an `amount`, or `lines` refunded at what
/// they were charged (discounts taken off, tax included).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    /// In the order's currency, e.g. `{"amount": 500, "currency": "USD"}`.
    pub amount: Option<PriceInput>,
    /// Units of lines to refund, each at most what is left to refund.
    pub lines: Option<Vec<LineInput>>,
    /// Why, up to 500 characters; sent to the provider.
    #[schema(required = true)]
    pub reason: Option<String>,
}

/// Why the provider did not do what was asked.
enum Refused {
    /// It said no, on purpose.
    Declined(String),
    /// It could not be asked (trap, limit, network).
    Failed(String),
}

impl Refused {
    fn reason(&self) -> &str {
        match self {
            Refused::Declined(r) | Refused::Failed(r) => r,
        }
    }

    fn into_error(self, what: &str) -> Error {
        match self {
            Refused::Declined(r) => {
                Error::PaymentDeclined { message: format!("the payment provider refused the {what}: {r}") }
            }
            Refused::Failed(e) => {
                Error::PluginFailed { message: format!("the {what} could not be made, nothing changed: {e}") }
            }
        }
    }
}

/// Asks the provider; `Ok(its reference)` when it did it.
async fn ask(
    shop: &Shop,
    merchant_id: &str,
    provider: &Provider,
    request: PaymentCall,
) -> std::result::Result<String, Refused> {
    match payments::ask(shop, merchant_id, provider, request).await.0 {
        Outcome::Paid { provider_reference }
        | Outcome::Pending { provider_reference, .. }
        | Outcome::Authorized { provider_reference } => Ok(provider_reference),
        Outcome::Failed { reason, .. } => Err(Refused::Declined(reason)),
        Outcome::RequiresAction { .. } => {
            Err(Refused::Declined("the provider asked for the buyer to act".into()))
        }
        Outcome::Unknown { error } => Err(Refused::Failed(error)),
    }
}

/// The bound provider of a payment attempt and the attempt's reference.
async fn provider_of(shop: &Shop, merchant_id: &str, attempt: &Payment) -> Result<(Provider, String)> {
    let provider =
        payments::provider_by_id(shop, merchant_id, &attempt.plugin_id).await?.ok_or_else(|| {
            Error::Unprocessable {
                code: "payment_provider_unavailable",
                message: format!(
                    "the payment provider {} is no longer set up for this shop",
                    attempt.provider
                ),
            }
        })?;
    let reference = attempt.provider_reference.clone().ok_or_else(|| {
        invalid(format!("payment {} has no provider reference yet; try again once it is settled", attempt.id))
    })?;
    Ok((provider, reference))
}

/// The order's payment, which must have been captured (an order has one
/// payment attempt).
fn captured(order: &Order) -> Result<&Payment> {
    match &order.payment {
        Some(p) if p.status == "succeeded" => Ok(p),
        _ => Err(invalid(format!("order #{} has no captured payment", order.number))),
    }
}

fn money(order: &Order, amount: i64) -> Result<Money> {
    let currency = parse::currency(&order.currency).map_err(|e| anyhow::anyhow!("order currency: {e}"))?;
    Ok(Money::new(amount, currency))
}

/// What `q` more units of a line are worth back: its charge (after
/// discounts, with tax) prorated half-even over its quantity, cumulatively,
/// so a line refunded piece by piece adds up to exactly what it was charged.
fn line_refund(prices_include_tax: bool, line: &OrderLine, q: i64) -> Result<i64> {
    let charged = line.total.amount + if prices_include_tax { 0 } else { line.tax_total.amount };
    // The currency does not matter to the arithmetic.
    let charged = Money::new(charged, mercato_sdk::Currency::USD);
    let upto = |units: i64| {
        charged.mul_ratio(units, line.quantity).map(|m| m.amount).map_err(|e| anyhow::anyhow!("refund: {e}"))
    };
    Ok(upto(line.refunded_quantity + q)? - upto(line.refunded_quantity)?)
}

/// Pays money back through the provider: see the module documentation.
/// A decline is `402 payment_declined` and gives the claim back. A provider
/// that could not be asked is `502 plugin_failed`: the refund stays claimed
/// as `unknown` until [`reconcile_refund`] hears from the provider.
pub async fn refund(shop: &Shop, merchant_id: &str, order_id: &str, req: NewRefund) -> Result<Order> {
    let db = &shop.db;
    let order = get(db, merchant_id, order_id).await?;
    let n = order.number;
    if order.cancelled_at.is_some() || !matches!(order.payment_status.as_str(), "paid" | "partially_refunded")
    {
        let why = if order.cancelled_at.is_some() {
            "is cancelled".to_owned()
        } else {
            format!("payment is {}", order.payment_status)
        };
        return Err(invalid(format!("order #{n} cannot be refunded: its {why}")));
    }
    let mut check = Check::default();
    let reason = check
        .field("reason", req.reason.as_deref().map_or(Err("is required".into()), |r| parse::text(r, 500)));
    let mut mismatch = None;
    let (amount, lines) = match (req.amount, req.lines.as_deref()) {
        (Some(_), Some(_)) | (None, None) => {
            check.field::<()>("amount", Err("send either an amount or lines".into()));
            (0, Vec::new())
        }
        (Some(a), None) => (a.amount_in(&mut check, "amount", &order.currency, 1, &mut mismatch), Vec::new()),
        (None, Some(lines)) => {
            let left = |l: &OrderLine| l.quantity - l.refunded_quantity;
            let parsed = parse_lines(&mut check, &order, Some(lines), left, "refund");
            let amount = parsed
                .iter()
                .map(|(p, q)| line_refund(order.prices_include_tax, &order.lines[*p], *q))
                .sum::<Result<i64>>()?;
            (amount, parsed)
        }
    };
    check.finish()?;
    same_currency(mismatch)?;
    let reason = reason.unwrap_or_default();
    if amount <= 0 {
        return Err(Error::Unprocessable {
            code: "nothing_to_refund",
            message: "these lines were charged nothing".into(),
        });
    }
    let left = order.captured.amount - order.refunded.amount;
    if amount > left {
        return Err(Error::Unprocessable {
            code: "refund_exceeds_captured",
            message: format!("a refund of {amount} is more than the {left} captured and not yet refunded"),
        });
    }
    let attempt = captured(&order)?;
    let (provider, reference) = provider_of(shop, merchant_id, attempt).await?;

    let refund_id = new_id("ref");
    let claim_lines: Vec<RefundLine> = to_store(&order, &lines)
        .into_iter()
        .zip(&lines)
        .map(|(line, (p, _))| RefundLine { line, refunded_before: order.lines[*p].refunded_quantity })
        .collect();
    let claim = RefundClaim {
        merchant_id,
        order_id,
        refund_id: &refund_id,
        amount,
        currency: &order.currency,
        lines: &claim_lines,
        reason: &reason,
        now: now_ms(),
    };
    match store::claim_refund(db, &claim).await? {
        Written::Done => {}
        other => return Err(refused(other, &order, "refund")),
    }
    let request = PaymentCall::Refund(RefundRequest {
        provider_reference: reference,
        amount: money(&order, amount)?,
        idempotency_key: refund_id.clone(),
        reason: Some(reason.clone()),
    });
    match ask(shop, merchant_id, &provider, request).await {
        Err(Refused::Failed(error)) => {
            // The provider may have paid it back: the amount stays claimed
            // and the reconciler asks again with the same idempotency key.
            store::mark_refund_unknown(db, (merchant_id, &order.currency), &refund_id, &error, now_ms())
                .await?;
            Err(Error::PluginFailed {
                message: format!(
                    "{error}; refund {refund_id} stays held (its amount counts as refunded) until the \
                     payment provider confirms it or declines it"
                ),
            })
        }
        answer => {
            let settled = answer.as_deref().map_err(Refused::reason);
            store::settle_refund(db, (merchant_id, &order.currency), &refund_id, settled, now_ms()).await?;
            answer.map_err(|r| r.into_error("refund"))?;
            get(db, merchant_id, order_id).await
        }
    }
}

/// Asks the provider again about a refund left unsettled, with the same
/// idempotency key, and records its answer (for a cancellation's refund,
/// the cancellation is finished or undone); true when it was settled (an
/// answer still unknown leaves it for the next run).
pub(crate) async fn reconcile_refund(shop: &Shop, r: &store::UnsettledRefund) -> Result<bool> {
    let db = &shop.db;
    let order = get(db, &r.merchant_id, &r.order_id).await?;
    let Ok(attempt) = captured(&order) else {
        tracing::warn!(refund = %r.refund_id, order = %r.order_id, "refund of an order with no captured payment");
        return Ok(false);
    };
    let Some(provider) = payments::provider_by_id(shop, &r.merchant_id, &attempt.plugin_id).await? else {
        tracing::warn!(refund = %r.refund_id, provider = %attempt.plugin_id, "payment provider no longer set up; cannot reconcile");
        return Ok(false);
    };
    let reference = attempt.provider_reference.clone().unwrap_or_default();
    let currency = parse::currency(&attempt.amount.currency).map_err(anyhow::Error::msg)?;
    let request = PaymentCall::Refund(RefundRequest {
        provider_reference: reference,
        amount: Money::new(r.amount, currency),
        idempotency_key: r.refund_id.clone(),
        reason: Some(r.reason.clone()),
    });
    let answer = match ask(shop, &r.merchant_id, &provider, request).await {
        Err(Refused::Failed(_)) => return Ok(false),
        answer => answer,
    };
    tracing::info!(refund = %r.refund_id, order = %r.order_id, ok = answer.is_ok(), "refund reconciled");
    let settled = answer.as_deref().map_err(Refused::reason);
    let Some(cancelled_at) = r.cancelled_at else {
        return Ok(store::settle_refund(
            db,
            (&r.merchant_id, &order.currency),
            &r.refund_id,
            settled,
            now_ms(),
        )
        .await?);
    };
    let c = Cancel {
        merchant_id: &r.merchant_id,
        order_id: &r.order_id,
        reason: Some(&r.reason),
        payment_status: &r.payment_status,
        payment: CancelPayment::Refund { refund_id: &r.refund_id, amount: r.amount },
        currency: &order.currency,
        now: cancelled_at,
    };
    Ok(store::settle_cancel(db, &c, settled, now_ms()).await?)
}

/// Cancels an order that shipped nothing: its stock goes back, a captured
/// payment is refunded in full and an uncaptured one voided. A refund the
/// provider did not answer leaves the order cancelled with the refund held
/// (502) until the reconciler hears back; a void it did not answer changes
/// nothing (no money moved while the payment was uncaptured).
pub async fn cancel(shop: &Shop, merchant_id: &str, order_id: &str, req: CancelRequest) -> Result<Order> {
    let db = &shop.db;
    let mut check = Check::default();
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .and_then(|r| check.field("reason", parse::text(r, 500)));
    check.finish()?;
    let order = get(db, merchant_id, order_id).await?;
    let n = order.number;
    if order.cancelled_at.is_some() {
        return Err(invalid(format!("order #{n} is already cancelled")));
    }
    if order.lines.iter().any(|l| l.fulfilled_quantity > 0) {
        return Err(invalid(format!("order #{n} has shipped items: return and refund them instead")));
    }
    if order.payment_status == "refunded" {
        return Err(invalid(format!("order #{n} was refunded in full")));
    }
    let refund_id = new_id("ref");
    let left = order.captured.amount - order.refunded.amount;
    let (payment, call) = match order.payment_status.as_str() {
        "paid" | "partially_refunded" if left > 0 => {
            let attempt = captured(&order)?;
            let (provider, reference) = provider_of(shop, merchant_id, attempt).await?;
            let request = PaymentCall::Refund(RefundRequest {
                provider_reference: reference,
                amount: money(&order, left)?,
                idempotency_key: refund_id.clone(),
                reason: Some(reason.clone().unwrap_or_else(|| "order cancelled".into())),
            });
            (CancelPayment::Refund { refund_id: &refund_id, amount: left }, Some((provider, request)))
        }
        "pending" | "requires_action" | "authorized" => match &order.payment {
            Some(a) if matches!(a.status.as_str(), "pending" | "requires_action" | "authorized") => {
                let (provider, reference) = provider_of(shop, merchant_id, a).await?;
                let request = PaymentCall::Void(VoidRequest {
                    provider_reference: reference,
                    idempotency_key: payments::void_key(&a.id),
                });
                (CancelPayment::Void { attempt_id: &a.id, from_status: &a.status }, Some((provider, request)))
            }
            _ => {
                return Err(invalid(format!(
                    "the payment of order #{n} is still being settled with the provider; try again shortly"
                )));
            }
        },
        _ => (CancelPayment::Nothing, None),
    };
    let c = Cancel {
        merchant_id,
        order_id,
        reason: reason.as_deref(),
        payment_status: &order.payment_status,
        payment,
        currency: &order.currency,
        now: now_ms(),
    };
    if !store::claim_cancel(db, &c).await? {
        return Err(invalid(format!(
            "order #{n} changed while it was being cancelled; reload it and try again"
        )));
    }
    if let Some((provider, request)) = call {
        let answer = ask(shop, merchant_id, &provider, request).await;
        if let (Err(Refused::Failed(error)), CancelPayment::Refund { refund_id, .. }) = (&answer, c.payment) {
            // As with a refund: the money may have gone back, so the
            // cancellation stays claimed until the provider answers.
            store::mark_refund_unknown(db, (merchant_id, &order.currency), refund_id, error, now_ms())
                .await?;
            return Err(Error::PluginFailed {
                message: format!(
                    "{error}; order #{n} stays cancelled with refund {refund_id} held until the payment \
                     provider confirms it (then its stock goes back) or declines it (then the order is \
                     restored)"
                ),
            });
        }
        store::settle_cancel(db, &c, answer.as_deref().map_err(Refused::reason), now_ms()).await?;
        answer.map_err(|r| r.into_error("cancellation"))?;
    }
    get(db, merchant_id, order_id).await
}

/// Captures an authorized payment (Stripe with manual capture), or marks a
/// pending one (bank transfer, invoice) received: the provider captures it
/// and the order is paid. The capture's idempotency key is the attempt's:
/// two captures of one order move the money once.
pub async fn capture(shop: &Shop, merchant_id: &str, order_id: &str) -> Result<Order> {
    let db = &shop.db;
    let order = get(db, merchant_id, order_id).await?;
    let n = order.number;
    if order.cancelled_at.is_some() {
        return Err(invalid(format!("order #{n} is cancelled")));
    }
    let attempt = match &order.payment {
        Some(a)
            if matches!(order.payment_status.as_str(), "pending" | "authorized")
                && a.status == order.payment_status =>
        {
            a
        }
        _ => {
            return Err(invalid(format!(
                "order #{n}'s payment is {}: only an authorized or pending payment can be captured",
                order.payment_status
            )));
        }
    };
    let (provider, reference) = provider_of(shop, merchant_id, attempt).await?;
    let request = PaymentCall::Capture(CaptureRequest {
        provider_reference: reference.clone(),
        amount: money(&order, order.total.amount)?,
        idempotency_key: format!("{}_capture", attempt.id),
    });
    ask(shop, merchant_id, &provider, request).await.map_err(|r| r.into_error("capture"))?;
    let outcome = Outcome::Paid { provider_reference: reference };
    let settled = settle(db, merchant_id, &attempt.id, &outcome, now_ms()).await?;
    let order = get(db, merchant_id, order_id).await?;
    if settled == Settled::Already && order.payment_status != "paid" {
        return Err(invalid(format!("order #{n} changed while its payment was being captured")));
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(total: i64, tax: i64, quantity: i64, refunded: i64) -> OrderLine {
        let price = |amount| crate::commerce::catalog::Price { amount, currency: "USD".into() };
        OrderLine {
            id: "ol".into(),
            variant_id: "v".into(),
            product_id: "p".into(),
            sku: "S".into(),
            title: "T".into(),
            quantity,
            unit_price: price(total / quantity),
            subtotal: price(total),
            discount_total: price(0),
            tax_total: price(tax),
            total: price(total),
            adjustments: Vec::new(),
            tax_lines: Vec::new(),
            fulfilled_quantity: 0,
            returned_quantity: 0,
            refunded_quantity: refunded,
        }
    }

    #[test]
    fn a_line_refunded_piece_by_piece_adds_up_to_its_charge() {
        let parts: Vec<i64> =
            (0..3).map(|done| line_refund(false, &line(90, 10, 3, done), 1).unwrap()).collect();
        assert_eq!(parts, vec![33, 34, 33]);
        assert_eq!(parts.iter().sum::<i64>(), 100);
        assert_eq!(line_refund(false, &line(90, 10, 3, 0), 3).unwrap(), 100);
        assert_eq!(line_refund(true, &line(100, 17, 4, 0), 1).unwrap(), 25, "tax is inside the total");
    }
}
