//! Provider callbacks: a payment plugin's webhook (the plugin parses and
//! verifies it) and Stripe's (verified here against the merchant's signing
//! secret). Either names a payment, whose attempt and order are settled as
//! a checkout would settle them; repeats, late and mismatched callbacks
//! change nothing and are recorded on the order.

use mercato_sdk::payment::{PaymentCall, PaymentReply, RefundRequest, VoidRequest, Webhook};
use serde::Serialize;

use super::payments::{self, Provider};
use super::stripe;
use super::{Error, Result, Shop};
use crate::db;
use crate::db::checkout::Outcome;
use crate::db::payments::AttemptRef;
use crate::runtime::FailureKind;

/// What a provider callback did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookReceipt {
    /// Always true: the callback was read.
    pub received: bool,
    /// Whether it named a payment of this merchant.
    pub matched: bool,
    /// The order it settled, if any.
    pub order_id: Option<String>,
    /// Whether it changed the order (false for a repeat).
    pub applied: bool,
    /// Whether its amount or currency differed from the payment's: then it
    /// changed nothing, and the order carries a `payment_mismatch` event
    /// for the merchant.
    pub mismatch: bool,
}

/// A provider callback: the bound plugin parses (and verifies) it; the
/// payment it names is settled like a checkout would. Repeats change nothing.
pub async fn plugin_webhook(
    shop: &Shop,
    merchant_id: &str,
    plugin_id: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<WebhookReceipt> {
    let Some(Provider::Plugin(provider)) = payments::provider_by_id(shop, merchant_id, plugin_id).await?
    else {
        return Err(Error::NotFound("payment provider"));
    };
    let reply =
        payments::call(shop, merchant_id, &provider, PaymentCall::ParseWebhook(Webhook { headers, body }))
            .await;
    let event = match &reply {
        Ok(PaymentReply::Event(e)) => e.clone(),
        Ok(PaymentReply::Result(_)) => {
            return Err(Error::Internal(anyhow::anyhow!("parse-webhook answered with a payment result")));
        }
        Err(e) => {
            return Err(match &e.kind {
                FailureKind::Reported { .. } => {
                    Error::Unprocessable { code: "invalid_webhook", message: e.to_string() }
                }
                _ => Error::PluginFailed { message: e.to_string() },
            });
        }
    };
    let Some(attempt) =
        crate::db::payments::by_reference(&shop.db, merchant_id, plugin_id, &event.provider_reference)
            .await?
    else {
        // Acknowledged, so the provider stops retrying a payment we never made.
        return Ok(WebhookReceipt {
            received: true,
            matched: false,
            order_id: None,
            applied: false,
            mismatch: false,
        });
    };
    let reported = event.amount.as_ref().map(|m| (m.amount, m.currency.code()));
    let status = format!("{:?}", event.status);
    if mismatch(shop, &attempt, &event.provider_reference, reported, &status).await? {
        return Ok(WebhookReceipt {
            received: true,
            matched: true,
            order_id: Some(attempt.order_id),
            applied: false,
            mismatch: true,
        });
    }
    let outcome = payments::outcome(&reply);
    let settled = crate::db::checkout::settle(
        &shop.db,
        merchant_id,
        &attempt.attempt_id,
        &outcome,
        crate::db::now_ms(),
    )
    .await?;
    Ok(WebhookReceipt {
        received: true,
        matched: true,
        order_id: Some(attempt.order_id),
        applied: settled == crate::db::checkout::Settled::Applied,
        mismatch: false,
    })
}

/// Whether a provider's event about `attempt` reports another amount or
/// currency than the attempt's; then it is recorded on the order as a
/// `payment_mismatch` for the merchant, and must settle nothing: a 6,391
/// order is not paid by an event for 1.
pub async fn mismatch(
    shop: &Shop,
    attempt: &AttemptRef,
    reference: &str,
    reported: Option<(i64, &str)>,
    status: &str,
) -> Result<bool> {
    let Some((amount, currency)) = reported else { return Ok(false) };
    if amount == attempt.amount && currency.eq_ignore_ascii_case(&attempt.currency) {
        return Ok(false);
    }
    let data = serde_json::json!({
        "attempt_id": attempt.attempt_id,
        "provider_reference": reference,
        "expected": {"amount": attempt.amount, "currency": attempt.currency},
        "reported": {"amount": amount, "currency": currency.to_ascii_uppercase()},
        "status": status,
    });
    tracing::warn!(merchant = %attempt.merchant_id, attempt = %attempt.attempt_id, %data, "payment event does not match its attempt");
    crate::db::orders::add_event(&shop.db, &attempt.merchant_id, &attempt.order_id, "payment_mismatch", data)
        .await?;
    Ok(true)
}

/// What a Stripe webhook delivery did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StripeReceipt {
    /// Always true: the delivery was verified and read.
    pub received: bool,
    /// Stripe's event id (`evt_…`).
    pub event_id: String,
    /// Stripe's event type, e.g. `payment_intent.succeeded`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// True for a repeated delivery of an event already processed: nothing
    /// was done again.
    pub duplicate: bool,
    /// The order it is about, if it names a payment of this merchant.
    pub order_id: Option<String>,
    /// Whether it changed the order (false for one that came late, out of
    /// order, or changes nothing: it is recorded on the order all the same).
    pub applied: bool,
    /// Whether its amount or currency differed from the payment's: then it
    /// changed nothing and the order carries a `payment_mismatch` event.
    pub mismatch: bool,
}

/// A Stripe webhook for one merchant: verified (see [`stripe::verify`]; forged,
/// stale or malformed is 400 and changes nothing), recorded by its event
/// id so each event is processed once however often, concurrently or late
/// it is delivered, then applied to the payment it names:
///
/// | event | the attempt and the order |
/// |---|---|
/// | `payment_intent.succeeded` | paid (from waiting for the buyer, authorized, unknown) |
/// | `payment_intent.amount_capturable_updated` | authorized |
/// | `payment_intent.processing` | pending |
/// | `payment_intent.payment_failed`, `payment_intent.canceled` | failed, stock released (unless it was paid) |
/// | `charge.refunded` | recorded (refunds the host made are already counted) |
/// | `charge.dispute.created` | the order flagged disputed, with an event |
///
/// An event that comes after the order moved on (shipped, cancelled) is
/// recorded on the order and acknowledged: Stripe stops retrying.
pub async fn stripe_webhook(
    shop: &Shop,
    merchant_id: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<StripeReceipt> {
    let account = stripe::credentials(shop, merchant_id).await?.ok_or_else(stripe::not_connected)?;
    let now = db::now_ms();
    let event = stripe::verified_event(&account, signature, body, now / 1000)?;
    let object = &event.data.object;
    let intent = match object["object"].as_str() {
        Some("payment_intent") => object["id"].as_str(),
        _ => object["payment_intent"].as_str(),
    };
    let attempt = match intent {
        Some(pi) => stripe_attempt(shop, merchant_id, pi, object["metadata"]["attempt_id"].as_str()).await?,
        None => None,
    };
    let scope = (merchant_id, stripe::PROVIDER);
    let order_id = attempt.as_ref().map(|a| a.order_id.as_str());
    let mut receipt = StripeReceipt {
        received: true,
        event_id: event.id.clone(),
        event_type: event.kind.clone(),
        duplicate: false,
        order_id: order_id.map(str::to_owned),
        applied: false,
        mismatch: false,
    };
    if !db::payment_providers::claim_event(&shop.db, scope, (&event.id, &event.kind), order_id, now).await? {
        receipt.duplicate = true;
        return Ok(receipt);
    }
    let (Some(attempt), Some(intent)) = (attempt, intent) else {
        // Not a payment of ours (or not about a payment): acknowledged.
        return Ok(receipt);
    };
    match apply_stripe_event(shop, &account, &event, &attempt, intent).await {
        Ok((applied, mismatch)) => {
            receipt.applied = applied;
            receipt.mismatch = mismatch;
            Ok(receipt)
        }
        Err(e) => {
            // Its next delivery must be processed.
            db::payment_providers::forget_event(&shop.db, scope, &event.id).await?;
            Err(e)
        }
    }
}

/// The payment attempt a PaymentIntent belongs to: by its id, or by the
/// attempt id in its metadata when the host stopped before recording it.
async fn stripe_attempt(
    shop: &Shop,
    merchant_id: &str,
    intent: &str,
    attempt_id: Option<&str>,
) -> Result<Option<db::payments::AttemptRef>> {
    if let Some(a) = db::payments::by_reference(&shop.db, merchant_id, stripe::PROVIDER, intent).await? {
        return Ok(Some(a));
    }
    let Some(attempt_id) = attempt_id else { return Ok(None) };
    Ok(db::payments::by_id(&shop.db, merchant_id, attempt_id).await?.filter(|a| {
        a.plugin_id == stripe::PROVIDER && a.provider_reference.as_deref().is_none_or(|r| r == intent)
    }))
}

/// Applies a verified, first-seen event to its attempt: (applied, mismatch).
async fn apply_stripe_event(
    shop: &Shop,
    account: &stripe::StripeCredentials,
    event: &stripe::Event,
    attempt: &db::payments::AttemptRef,
    intent: &str,
) -> Result<(bool, bool)> {
    let object = &event.data.object;
    let reference = intent.to_owned();
    let reported = |field: &str| object[field].as_i64().zip(object["currency"].as_str());
    let outcome = match event.kind.as_str() {
        "payment_intent.succeeded" => {
            Some((Outcome::Paid { provider_reference: reference }, reported("amount_received")))
        }
        "payment_intent.amount_capturable_updated" => {
            Some((Outcome::Authorized { provider_reference: reference }, reported("amount_capturable")))
        }
        "payment_intent.processing" => Some((
            Outcome::Pending {
                provider_reference: reference,
                message: Some("the payment is processing".into()),
            },
            reported("amount"),
        )),
        "payment_intent.payment_failed" => {
            let e = &object["last_payment_error"];
            let reason =
                stripe::decline(e["code"].as_str(), e["decline_code"].as_str(), e["message"].as_str());
            Some((Outcome::Failed { reason, provider_reference: Some(reference) }, None))
        }
        "payment_intent.canceled" => {
            let why = object["cancellation_reason"].as_str().map(|r| format!(" ({r})")).unwrap_or_default();
            Some((
                Outcome::Failed { reason: format!("canceled{why}"), provider_reference: Some(reference) },
                None,
            ))
        }
        _ => None,
    };
    let data = |applied: bool| {
        serde_json::json!({"provider": stripe::PROVIDER, "event_id": event.id, "type": event.kind,
            "provider_reference": intent, "applied": applied})
    };
    let (merchant_id, order_id) = (attempt.merchant_id.as_str(), attempt.order_id.as_str());
    let Some((outcome, reported)) = outcome else {
        match event.kind.as_str() {
            "charge.dispute.created" => {
                let dispute = serde_json::json!({"provider": stripe::PROVIDER, "event_id": event.id,
                    "dispute_id": object["id"], "reason": object["reason"], "status": object["status"],
                    "amount": {"amount": object["amount"], "currency": object["currency"].as_str().map(str::to_ascii_uppercase)}});
                db::orders::flag_dispute(&shop.db, merchant_id, order_id, dispute).await?;
                return Ok((true, false));
            }
            "charge.refunded" => {
                let mut data = data(false);
                data["amount_refunded"] = serde_json::json!({"amount": object["amount_refunded"],
                    "currency": object["currency"].as_str().map(str::to_ascii_uppercase)});
                db::orders::add_event(&shop.db, merchant_id, order_id, "provider_event", data).await?;
            }
            _ => {
                db::orders::add_event(&shop.db, merchant_id, order_id, "provider_event", data(false)).await?
            }
        }
        return Ok((false, false));
    };
    if mismatch(shop, attempt, intent, reported, &event.kind).await? {
        return Ok((false, true));
    }
    let settled =
        db::checkout::settle(&shop.db, merchant_id, &attempt.attempt_id, &outcome, db::now_ms()).await?;
    let applied = settled == db::checkout::Settled::Applied;
    if !applied {
        // Late or out of order (the order moved on): kept for the merchant.
        db::orders::add_event(&shop.db, merchant_id, order_id, "provider_event", data(false)).await?;
        if matches!(outcome, Outcome::Paid { .. } | Outcome::Authorized { .. }) {
            give_back(shop, account, attempt, intent, &outcome).await?;
        }
    }
    Ok((applied, false))
}

/// Money Stripe took for an attempt that had already failed (its hold
/// expired, the order was cancelled) has no order to go with: it is
/// refunded (or, only authorized, released) at once, with a key of its own
/// so a repeat does it once. If Stripe cannot be asked, the error makes
/// the event's next delivery try again.
async fn give_back(
    shop: &Shop,
    account: &stripe::StripeCredentials,
    attempt: &AttemptRef,
    intent: &str,
    outcome: &Outcome,
) -> Result<()> {
    let now = db::payments::by_id(&shop.db, &attempt.merchant_id, &attempt.attempt_id).await?;
    if !now.is_some_and(|a| matches!(a.status.as_str(), "failed" | "voided")) {
        return Ok(());
    }
    let currency = super::parse::currency(&attempt.currency).map_err(anyhow::Error::msg)?;
    let request = match outcome {
        Outcome::Authorized { .. } => PaymentCall::Void(VoidRequest {
            provider_reference: intent.to_owned(),
            idempotency_key: payments::void_key(&attempt.attempt_id),
        }),
        _ => PaymentCall::Refund(RefundRequest {
            provider_reference: intent.to_owned(),
            amount: mercato_sdk::Money::new(attempt.amount, currency),
            idempotency_key: format!("{}_unplaced", attempt.attempt_id),
            reason: Some("the order was cancelled before the payment completed".into()),
        }),
    };
    let provider = Provider::Stripe(std::sync::Arc::new(account.clone()));
    let (answer, _) = payments::ask(shop, &attempt.merchant_id, &provider, request).await;
    let reference = match answer {
        Outcome::Paid { provider_reference } => provider_reference,
        other => {
            return Err(Error::Internal(anyhow::anyhow!(
                "money taken for failed attempt {} could not be given back yet: {other:?}",
                attempt.attempt_id
            )));
        }
    };
    tracing::warn!(attempt = %attempt.attempt_id, %intent, "money taken after the order was cancelled, given back");
    let data = serde_json::json!({"provider": stripe::PROVIDER, "provider_reference": intent,
        "amount": {"amount": attempt.amount, "currency": attempt.currency},
        "given_back_as": reference, "reason": "the order was cancelled before the payment completed"});
    db::orders::add_event(&shop.db, &attempt.merchant_id, &attempt.order_id, "payment_returned", data)
        .await?;
    Ok(())
}
