//! Payment plugins as the checkout, the reconciler and provider callbacks
//! use them: find the merchant's provider, call it off the async threads
//! (a provider may take a network round trip), and read its answer as an
//! [`Outcome`] the database can record.

use std::sync::Arc;

use mercato_sdk::ExtensionPoint;
use mercato_sdk::Money;
use mercato_sdk::payment::{
    PaymentCall, PaymentReply, PaymentRequest, PaymentResult, PaymentStatus, Webhook,
};

use crate::commerce::orders::NextAction;
use crate::commerce::plugins::Binding;
use crate::commerce::{Error, Result, Shop};
use crate::db::checkout::Outcome;
use crate::runtime::{Call, CallError, CircuitBreaker, FailureKind, InstalledPlugin};

/// A merchant's payment binding, owned so it can move to the blocking pool.
#[derive(Clone)]
pub struct Provider {
    /// The bound payment plugin.
    pub plugin: Arc<InstalledPlugin>,
    /// The merchant's configuration, as the JSON the plugin is given.
    pub config: String,
    /// The binding's breaker; every call passes through it.
    pub breaker: Arc<CircuitBreaker>,
}

impl Provider {
    /// The provider name buyers and storefronts use: the plugin's name.
    pub fn name(&self) -> &str {
        &self.plugin.metadata.name
    }
}

/// The merchant's bound payment provider called `name` (a plugin name, or
/// a plugin id).
pub async fn provider(shop: &Shop, merchant_id: &str, name: &str) -> Result<Option<Provider>> {
    find(shop, merchant_id, |b| b.plugin.metadata.name == name || b.plugin.id == name).await
}

/// A way a cart can be paid, as the storefront lists it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentOption {
    /// What `complete` takes as `payment.provider`.
    pub provider: String,
    /// `plugin`: a payment plugin the merchant bound.
    pub kind: String,
    /// What the provider says it is.
    pub description: String,
    /// False while the provider's circuit is open after repeated failures:
    /// a checkout with it is refused until its trial call.
    pub available: bool,
}

/// The cart's payment options: the merchant's bound payment providers, in
/// binding order. 404 for a cart that is not the merchant's.
pub async fn options(shop: &Shop, merchant_id: &str, cart_id: &str) -> Result<Vec<PaymentOption>> {
    crate::db::carts::get(&shop.db, merchant_id, cart_id).await?.ok_or(super::Error::NotFound("cart"))?;
    let list =
        shop.bindings.bindings_for(&shop.db, &shop.runtime, merchant_id, ExtensionPoint::Payment).await?;
    let mut out: Vec<PaymentOption> = Vec::new();
    for b in list.iter() {
        let name = &b.plugin.metadata.name;
        if out.iter().any(|o| &o.provider == name) {
            continue;
        }
        out.push(PaymentOption {
            provider: name.clone(),
            kind: "plugin".into(),
            description: b.plugin.metadata.description.clone(),
            available: b.breaker.state() != crate::runtime::CircuitState::Open,
        });
    }
    Ok(out)
}

/// The merchant's bound provider backed by plugin `plugin_id`.
pub async fn provider_by_plugin(shop: &Shop, merchant_id: &str, plugin_id: &str) -> Result<Option<Provider>> {
    find(shop, merchant_id, |b| b.plugin.id == plugin_id).await
}

async fn find(shop: &Shop, merchant_id: &str, which: impl Fn(&Binding) -> bool) -> Result<Option<Provider>> {
    let list =
        shop.bindings.bindings_for(&shop.db, &shop.runtime, merchant_id, ExtensionPoint::Payment).await?;
    Ok(list.iter().find(|b| which(b)).map(|b| Provider {
        plugin: b.plugin.clone(),
        config: b.config.clone(),
        breaker: b.breaker.clone(),
    }))
}

/// The idempotency key of voiding a payment attempt: the same wherever the
/// void comes from (a cancellation, an expired hold).
pub fn void_key(attempt_id: &str) -> String {
    format!("{attempt_id}_void")
}

/// Calls the provider on the blocking pool.
pub async fn call(
    shop: &Shop,
    merchant_id: &str,
    provider: &Provider,
    request: PaymentCall,
) -> std::result::Result<PaymentReply, CallError> {
    let (runtime, provider, merchant) = (shop.runtime.clone(), provider.clone(), merchant_id.to_owned());
    let joined = tokio::task::spawn_blocking(move || {
        let call = Call {
            plugin: &provider.plugin,
            config: &provider.config,
            merchant: &merchant,
            breaker: Some(&provider.breaker),
        };
        runtime.payment(call, &request).map(|o| o.output)
    })
    .await;
    joined.unwrap_or_else(|e| {
        Err(CallError {
            plugin: String::new(),
            plugin_id: String::new(),
            point: ExtensionPoint::Payment,
            call: "create-payment",
            kind: FailureKind::Host(format!("the call did not finish: {e}")),
        })
    })
}

/// One payment attempt as the provider is asked to make it.
pub struct Charge<'a> {
    /// The order's total, in its currency.
    pub amount: Money,
    /// The order's id: the reference the provider keeps (an order is
    /// numbered only once its payment confirms it).
    pub order_reference: &'a str,
    /// The payment method token the buyer sent, if any.
    pub token: Option<String>,
    /// The idempotency key: the same attempt never charges twice.
    pub attempt_id: &'a str,
    /// The buyer's email address, for the provider's receipt.
    pub email: &'a str,
}

/// Asks the provider to take a payment (capture at once) and reads its
/// answer; the checkout and the reconciler ask the same way.
pub async fn create_payment(
    shop: &Shop,
    merchant_id: &str,
    provider: &Provider,
    charge: Charge<'_>,
) -> (Outcome, Option<CallError>) {
    let request = PaymentCall::CreatePayment(PaymentRequest {
        amount: charge.amount,
        order_reference: charge.order_reference.to_owned(),
        payment_method_token: charge.token,
        idempotency_key: charge.attempt_id.to_owned(),
        capture: true,
        email: Some(charge.email.to_owned()),
    });
    let reply = call(shop, merchant_id, provider, request).await;
    if let Err(e) = &reply {
        tracing::warn!(merchant = merchant_id, attempt = charge.attempt_id, error = %e, "payment call failed");
    }
    (outcome(&reply), reply.err())
}

/// What a create-payment (or a parsed webhook) means for the attempt.
/// A plugin that reports an error on purpose took nothing: the attempt
/// failed (so did one that reported failing after the host refused one of
/// its requests). Any other failure (trap, limit, network, or the plugin's
/// own `outcome_unknown`) leaves the outcome unknown, for the reconciler to
/// ask again with the same idempotency key.
pub fn outcome(reply: &std::result::Result<PaymentReply, CallError>) -> Outcome {
    let status = |r: &PaymentResult| (r.status.clone(), r.provider_reference.clone(), r.message.clone());
    let (status, reference, message) = match reply {
        Ok(PaymentReply::Result(r)) => status(r),
        Ok(PaymentReply::Event(e)) => (e.status.clone(), e.provider_reference.clone(), None),
        Err(e) => {
            return match &e.kind {
                // The plugin cannot tell whether the provider acted.
                FailureKind::Reported { code, .. } if code == mercato_sdk::OUTCOME_UNKNOWN => {
                    Outcome::Unknown { error: e.to_string() }
                }
                FailureKind::Reported { code, message } => {
                    Outcome::Failed { reason: format!("{code}: {message}"), provider_reference: None }
                }
                FailureKind::NetworkRefused { .. } => {
                    Outcome::Failed { reason: e.to_string(), provider_reference: None }
                }
                _ => Outcome::Unknown { error: e.to_string() },
            };
        }
    };
    match status {
        PaymentStatus::Succeeded => Outcome::Paid { provider_reference: reference },
        PaymentStatus::Pending => Outcome::Pending { provider_reference: reference, message },
        PaymentStatus::Failed(reason) => Outcome::Failed { reason, provider_reference: Some(reference) },
        PaymentStatus::RequiresAction(a) => Outcome::RequiresAction {
            provider_reference: reference,
            next_action: serde_json::to_string(&NextAction {
                client_secret: a.client_secret,
                redirect_url: a.redirect_url,
            })
            .expect("serializes"),
        },
    }
}

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
pub async fn webhook(
    shop: &Shop,
    merchant_id: &str,
    plugin_id: &str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> Result<WebhookReceipt> {
    let provider =
        provider_by_plugin(shop, merchant_id, plugin_id).await?.ok_or(Error::NotFound("payment provider"))?;
    let reply =
        call(shop, merchant_id, &provider, PaymentCall::ParseWebhook(Webhook { headers, body })).await;
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
    // A callback that names the payment but not its amount and currency
    // must not settle it: a 6,391 order is not paid by an event for 1.
    if let Some(reported) = event.amount
        && (reported.amount != attempt.amount || reported.currency.code() != attempt.currency)
    {
        let data = serde_json::json!({
            "attempt_id": attempt.attempt_id,
            "provider_reference": event.provider_reference,
            "expected": {"amount": attempt.amount, "currency": attempt.currency},
            "reported": {"amount": reported.amount, "currency": reported.currency.code()},
            "status": format!("{:?}", event.status),
        });
        tracing::warn!(merchant = merchant_id, attempt = %attempt.attempt_id, %data, "payment event does not match its attempt");
        crate::db::orders::add_event(&shop.db, merchant_id, &attempt.order_id, "payment_mismatch", data)
            .await?;
        return Ok(WebhookReceipt {
            received: true,
            matched: true,
            order_id: Some(attempt.order_id),
            applied: false,
            mismatch: true,
        });
    }
    let outcome = outcome(&reply);
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
