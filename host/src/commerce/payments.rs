//! Payment providers as the checkout, the reconciler, order actions and
//! provider callbacks use them: find the merchant's provider (a bound
//! payment plugin, or Stripe spoken natively, see [`super::stripe`]), ask it
//! (plugins off the async threads: a provider may take a network round
//! trip), and read its answer as an [`Outcome`] the database can record.

use std::sync::Arc;

use mercato_sdk::ExtensionPoint;
use mercato_sdk::Money;
use mercato_sdk::payment::{PaymentCall, PaymentReply, PaymentRequest, PaymentResult, PaymentStatus};

use super::orders::NextAction;
use super::plugins::Binding;
use super::stripe::{self, StripeCredentials};
use super::{Result, Shop};
use crate::db::checkout::Outcome;
use crate::db::payments::AttemptRef;
pub use crate::model::providers::Charge;
use crate::runtime::{Call, CallError, CircuitBreaker, FailureKind, InstalledPlugin};

/// A merchant's payment provider.
#[derive(Clone)]
pub enum Provider {
    /// A bound payment plugin.
    Plugin(PluginProvider),
    /// Stripe, spoken natively with the merchant's keys.
    Stripe(Arc<StripeCredentials>),
}

/// A merchant's payment binding, owned so it can move to the blocking pool.
#[derive(Clone)]
pub struct PluginProvider {
    /// The bound payment plugin.
    pub plugin: Arc<InstalledPlugin>,
    /// The merchant's configuration, as the JSON the plugin is given.
    pub config: String,
    /// The binding's breaker; every call passes through it.
    pub breaker: Arc<CircuitBreaker>,
}

impl Provider {
    /// The provider name buyers and storefronts use: `stripe`, or the
    /// plugin's name.
    pub fn name(&self) -> &str {
        match self {
            Provider::Plugin(p) => &p.plugin.metadata.name,
            Provider::Stripe(_) => stripe::PROVIDER,
        }
    }

    /// What a payment attempt records to find its provider again: the
    /// plugin's id (`plg_…`), or `stripe`.
    pub fn id(&self) -> &str {
        match self {
            Provider::Plugin(p) => &p.plugin.id,
            Provider::Stripe(_) => stripe::PROVIDER,
        }
    }
}

/// The merchant's payment provider called `name`: `stripe` when the
/// merchant connected Stripe, else a bound plugin's name or id.
pub async fn provider(shop: &Shop, merchant_id: &str, name: &str) -> Result<Option<Provider>> {
    if name == stripe::PROVIDER
        && let Some(credentials) = stripe::credentials(shop, merchant_id).await?
    {
        return Ok(Some(Provider::Stripe(Arc::new(credentials))));
    }
    find(shop, merchant_id, |b| b.plugin.metadata.name == name || b.plugin.id == name).await
}

/// A way a cart can be paid, as the storefront lists it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct PaymentOption {
    /// What `complete` takes as `payment.provider`.
    pub provider: String,
    /// `stripe`: Stripe, natively (pay with a `pm_…` payment method from
    /// Stripe.js and `publishable_key`); `plugin`: a payment plugin the
    /// merchant bound.
    pub kind: String,
    /// What the provider says it is.
    pub description: String,
    /// For Stripe: the merchant's publishable key, for Stripe.js.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishable_key: Option<String>,
    /// False while the provider's circuit is open after repeated failures:
    /// a checkout with it is refused until its trial call.
    pub available: bool,
}

/// The cart's payment options: Stripe first when the merchant connected
/// it, then the merchant's bound payment plugins, in binding order. 404 for
/// a cart that is not the merchant's.
pub async fn options(shop: &Shop, merchant_id: &str, cart_id: &str) -> Result<Vec<PaymentOption>> {
    crate::db::carts::get(&shop.db, merchant_id, cart_id).await?.ok_or(super::Error::NotFound("cart"))?;
    let list =
        shop.bindings.bindings_for(&shop.db, &shop.runtime, merchant_id, ExtensionPoint::Payment).await?;
    let mut out: Vec<PaymentOption> = Vec::new();
    if let Some(account) = stripe::credentials(shop, merchant_id).await? {
        out.push(PaymentOption {
            provider: stripe::PROVIDER.into(),
            kind: "stripe".into(),
            description: "Cards through Stripe".into(),
            publishable_key: Some(account.publishable_key),
            available: true,
        });
    }
    for b in list.iter() {
        let name = &b.plugin.metadata.name;
        if out.iter().any(|o| &o.provider == name) {
            continue;
        }
        out.push(PaymentOption {
            provider: name.clone(),
            kind: "plugin".into(),
            description: b.plugin.metadata.description.clone(),
            publishable_key: None,
            // A disabled plugin, or one whose breaker is open, would refuse.
            available: !b.plugin.is_disabled() && b.breaker.state() != crate::runtime::CircuitState::Open,
        });
    }
    Ok(out)
}

/// The merchant's provider with this [`Provider::id`] (as a payment
/// attempt records it); `None` once it is unbound or disconnected.
pub async fn provider_by_id(shop: &Shop, merchant_id: &str, id: &str) -> Result<Option<Provider>> {
    if id == stripe::PROVIDER {
        return Ok(stripe::credentials(shop, merchant_id).await?.map(|c| Provider::Stripe(Arc::new(c))));
    }
    find(shop, merchant_id, |b| b.plugin.id == id).await
}

async fn find(shop: &Shop, merchant_id: &str, which: impl Fn(&Binding) -> bool) -> Result<Option<Provider>> {
    let list =
        shop.bindings.bindings_for(&shop.db, &shop.runtime, merchant_id, ExtensionPoint::Payment).await?;
    Ok(list.iter().find(|b| which(b)).map(|b| {
        Provider::Plugin(PluginProvider {
            plugin: b.plugin.clone(),
            config: b.config.clone(),
            breaker: b.breaker.clone(),
        })
    }))
}

/// The idempotency key of voiding a payment attempt: the same wherever the
/// void comes from (a cancellation, an expired hold).
pub fn void_key(attempt_id: &str) -> String {
    format!("{attempt_id}_void")
}

/// Asks the provider to capture, refund or void (or, for a plugin, to take
/// a payment), and reads its answer; the failure of a plugin, if any, says
/// why it did not answer.
pub async fn ask(
    shop: &Shop,
    merchant_id: &str,
    provider: &Provider,
    request: PaymentCall,
) -> (Outcome, Option<CallError>) {
    match provider {
        Provider::Plugin(plugin) => {
            let reply = call(shop, merchant_id, plugin, request).await;
            if let Err(e) = &reply {
                tracing::warn!(merchant = merchant_id, error = %e, "payment provider call failed");
            }
            (outcome(&reply), reply.err())
        }
        Provider::Stripe(account) => (stripe::ask(shop, account, request).await, None),
    }
}

/// Calls a payment plugin on the blocking pool.
pub async fn call(
    shop: &Shop,
    merchant_id: &str,
    provider: &PluginProvider,
    request: PaymentCall,
) -> std::result::Result<PaymentReply, CallError> {
    let (runtime, provider, merchant) = (shop.runtime.clone(), provider.clone(), merchant_id.to_owned());
    let joined = tokio::task::spawn_blocking(move || {
        let call = Call {
            plugin: &provider.plugin,
            config: &provider.config,
            merchant: &merchant,
            breaker: Some(&provider.breaker),
            background: false,
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

/// Asks the provider to take a payment (a plugin captures at once; Stripe
/// as the merchant chose) and reads its answer; the checkout and the
/// reconciler ask the same way.
pub async fn create_payment(
    shop: &Shop,
    merchant_id: &str,
    provider: &Provider,
    charge: Charge<'_>,
) -> (Outcome, Option<CallError>) {
    if let Provider::Stripe(account) = provider {
        return (stripe::create(shop, account, &charge).await, None);
    }
    let request = PaymentCall::CreatePayment(PaymentRequest {
        amount: charge.amount,
        order_reference: charge.order_reference.to_owned(),
        payment_method_token: charge.token,
        idempotency_key: charge.attempt_id.to_owned(),
        capture: true,
        email: Some(charge.email.to_owned()),
    });
    ask(shop, merchant_id, provider, request).await
}

/// What became of an unsettled attempt, asked again: Stripe is asked for
/// the PaymentIntent (by its id, or by the attempt's idempotency key when
/// the host stopped before recording it); a plugin is asked to take the
/// payment again with the same idempotency key, which only works for an
/// attempt it never answered (`started`, `unknown`): for one it answered
/// (`requires_action`), `None`: only its callback can tell.
pub async fn look_up(shop: &Shop, provider: &Provider, attempt: &AttemptRef) -> Result<Option<Outcome>> {
    let charge = Charge {
        amount: Money::new(
            attempt.amount,
            super::parse::currency(&attempt.currency).map_err(anyhow::Error::msg)?,
        ),
        order_reference: &attempt.order_id,
        cart_id: &attempt.cart_id,
        token: attempt.token.clone(),
        attempt_id: &attempt.attempt_id,
        email: &attempt.email,
    };
    Ok(match (provider, attempt.provider_reference.as_deref()) {
        (Provider::Stripe(account), Some(intent)) => Some(stripe::retrieve(shop, account, intent).await),
        (_, None) => Some(create_payment(shop, &attempt.merchant_id, provider, charge).await.0),
        (Provider::Plugin(_), Some(_)) if matches!(attempt.status.as_str(), "started" | "unknown") => {
            Some(create_payment(shop, &attempt.merchant_id, provider, charge).await.0)
        }
        (Provider::Plugin(_), Some(_)) => None,
    })
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
