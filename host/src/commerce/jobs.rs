//! Background work that makes a crash between checkout steps lose nothing:
//!
//! - **reconciliation**: attempts left `started` (the host stopped between
//!   placing the order and hearing from the provider) or `unknown` (the
//!   provider could not be asked) are asked again with the same idempotency
//!   key, so a payment that went through is found and one that did not is
//!   made or declined — never charged twice; Stripe is also asked about
//!   payments still `pending` (processing), whose webhook may be lost;
//! - **refund reconciliation**: refunds whose provider call ended without
//!   an answer (`unknown`) or never ended (`pending`: the host stopped), their
//!   amount still claimed, are asked again with the refund id as the
//!   idempotency key, so money is paid back once;
//! - **reservation expiry**: stock held for an order whose payment never
//!   completed (abandoned 3-D Secure, a decline nobody recorded) goes back
//!   on sale once the hold expires; an open authorization is voided first
//!   (Stripe is asked first, and must confirm the void: a payment the buyer
//!   finished meanwhile makes its order instead).
//!
//! - **abandoned carts**: open carts with an e-mail and lines, idle past
//!   their shop's delay, are found abandoned once (see
//!   [`super::cart::recovery`]).
//! - **idempotency keys** past their 24 hours are forgotten, with their
//!   stored responses (see [`super::idempotency`]).
//!
//! Each runs in small batches; several hosts sharing one database claim
//! attempts with a conditional update, so they never work on the same one.

use std::time::Duration;

use mercato_sdk::payment::{PaymentCall, VoidRequest};

use super::payments;
use super::{Result, Shop};
use crate::db::checkout::{self as store, Outcome, Settled};
use crate::db::now_ms;
use crate::db::order_actions as refunds;
use crate::db::payments::{self as attempts, AttemptRef};

/// How long an attempt must sit unsettled before the reconciler asks again
/// (a checkout in flight is not a crashed one).
pub const RECONCILE_AFTER_MS: i64 = 30_000;
/// How often `mercato serve` runs the jobs.
pub const EVERY: Duration = Duration::from_secs(5);
/// Attempts or holds handled per run.
const BATCH: u32 = 100;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Attempts asked again and settled.
    pub reconciled: usize,
    /// Orders whose stock hold expired and was released.
    pub expired: usize,
    /// Unsettled refunds asked again and settled.
    pub refunds: usize,
    /// Idle carts found abandoned (each gets its recovery e-mail).
    pub abandoned: usize,
    /// Idempotency keys forgotten, past their 24 hours.
    pub keys_forgotten: usize,
}

/// One pass of every job, as of `now`.
pub async fn run_once(shop: &Shop, now: i64) -> Result<Report> {
    let mut report = Report::default();
    super::plugins::sample_history(&shop.runtime, now);
    for a in attempts::unsettled(&shop.db, now - RECONCILE_AFTER_MS, BATCH, super::stripe::PROVIDER).await? {
        if !attempts::claim(&shop.db, &a, now).await? {
            continue;
        }
        // One item that fails must not hold up the others or the jobs
        // after it; it is tried again on a later run.
        match reconcile(shop, &a).await {
            Ok(Settled::Applied) => report.reconciled += 1,
            Ok(Settled::Already) => {}
            Err(e) => tracing::warn!(attempt = %a.attempt_id, error = %e, "payment could not be reconciled"),
        }
    }
    for r in refunds::unsettled_refunds(&shop.db, now - RECONCILE_AFTER_MS, BATCH).await? {
        if !refunds::claim_unsettled_refund(&shop.db, &r, now).await? {
            continue;
        }
        match super::orders::actions::reconcile_refund(shop, &r).await {
            Ok(true) => report.refunds += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(refund = %r.refund_id, error = %e, "refund could not be reconciled"),
        }
    }
    for a in attempts::expired_holds(&shop.db, now, BATCH).await? {
        // Unsettled attempts are the reconciler's: money may have moved.
        if matches!(a.status.as_str(), "started" | "unknown" | "succeeded" | "pending" | "authorized") {
            continue;
        }
        if !attempts::claim(&shop.db, &a, now).await? {
            continue;
        }
        if a.status == "requires_action" {
            // The buyer may have finished and its callback been lost: a
            // provider that can be asked (Stripe) is, and a payment taken
            // makes the order paid instead of expiring it.
            if let Some(settled) = ask_before_expiry(shop, &a).await? {
                report.reconciled += usize::from(settled == Settled::Applied);
                continue;
            }
            if !void(shop, &a).await {
                // Stripe would not release it (the buyer paid meanwhile?):
                // asked again on the next run.
                continue;
            }
        }
        let outcome = Outcome::Failed {
            reason: "the payment was not completed before the stock hold expired".into(),
            provider_reference: a.provider_reference.clone(),
        };
        if store::settle(&shop.db, &a.merchant_id, &a.attempt_id, &outcome, now).await? == Settled::Applied {
            report.expired += 1;
        }
    }
    report.abandoned = super::cart::recovery::find_abandoned(shop, now).await?;
    report.keys_forgotten = super::idempotency::purge_expired(&shop.db, now).await?;
    Ok(report)
}

/// Asks the provider again about one attempt (see [`payments::look_up`])
/// and records what it says.
pub(crate) async fn reconcile(shop: &Shop, a: &AttemptRef) -> Result<Settled> {
    let Some(provider) = payments::provider_by_id(shop, &a.merchant_id, &a.plugin_id).await? else {
        tracing::warn!(attempt = %a.attempt_id, provider = %a.plugin_id, "payment provider no longer set up; cannot reconcile");
        return Ok(Settled::Already);
    };
    let Some(outcome) = payments::look_up(shop, &provider, a).await? else { return Ok(Settled::Already) };
    tracing::info!(attempt = %a.attempt_id, order = %a.order_id, ?outcome, "payment reconciled");
    Ok(store::settle(&shop.db, &a.merchant_id, &a.attempt_id, &outcome, now_ms()).await?)
}

/// What the provider says of an attempt waiting for its buyer, if it can
/// be asked and the payment moved on (paid, authorized, failed): then it
/// is recorded, and the hold is not expired.
async fn ask_before_expiry(shop: &Shop, a: &AttemptRef) -> Result<Option<Settled>> {
    let Some(provider) = payments::provider_by_id(shop, &a.merchant_id, &a.plugin_id).await? else {
        return Ok(None);
    };
    match payments::look_up(shop, &provider, a).await? {
        Some(outcome @ (Outcome::Paid { .. } | Outcome::Authorized { .. } | Outcome::Failed { .. })) => {
            tracing::info!(attempt = %a.attempt_id, order = %a.order_id, ?outcome, "payment settled at hold expiry");
            Ok(Some(store::settle(&shop.db, &a.merchant_id, &a.attempt_id, &outcome, now_ms()).await?))
        }
        _ => Ok(None),
    }
}

/// A hold that expires voids the authorization the buyer never finished:
/// best effort for a plugin; Stripe must confirm it (false: it did not, and
/// the hold is not expired yet, so a payment made meanwhile is not lost).
async fn void(shop: &Shop, a: &AttemptRef) -> bool {
    let (Ok(Some(provider)), Some(reference)) =
        (payments::provider_by_id(shop, &a.merchant_id, &a.plugin_id).await, &a.provider_reference)
    else {
        return true;
    };
    let request = PaymentCall::Void(VoidRequest {
        provider_reference: reference.clone(),
        idempotency_key: payments::void_key(&a.attempt_id),
    });
    match payments::ask(shop, &a.merchant_id, &provider, request).await.0 {
        Outcome::Paid { .. } => true,
        other => {
            tracing::warn!(attempt = %a.attempt_id, outcome = ?other, "void of an expired payment failed");
            matches!(provider, payments::Provider::Plugin(_))
        }
    }
}

/// Runs both jobs every `every` until the process ends.
pub fn spawn(shop: Shop, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_once(&shop, now_ms()).await {
                Ok(r) if r != Report::default() => tracing::info!(?r, "checkout jobs ran"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "checkout jobs failed"),
            }
        }
    })
}
