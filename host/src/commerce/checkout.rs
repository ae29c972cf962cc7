//! Checkout completion, in three steps (see `db::checkout`):
//!
//! 1. price the final cart (answers the memo holds for the same plugin,
//!    configuration and input are used: a plugin call is a pure function
//!    of them), check it can be ordered, then one transaction reserves
//!    stock, claims discount uses and writes the order in
//!    `pending_payment` with a payment attempt;
//! 2. call the payment provider outside any transaction, with the attempt
//!    id as its idempotency key;
//! 3. one transaction records the outcome: paid (stock decremented), or
//!    declined (stock and discount uses released, the cart reopened).
//!
//! A crash between the steps loses nothing: reservations expire and
//! attempts left `started` or `unknown` are asked again by the reconciler
//! (see `jobs`), with the same idempotency key, so nothing is charged twice.

use mercato_sdk::Money;
use serde::{Deserialize, Serialize};

use super::cart::{self, pricing::Priced};
use super::ids::{hash_secret, new_id, new_secret};
use super::orders::{self, NextAction, Order};
use super::payments;
use super::{Check, Error, FieldErrors, Result, Shop};
use crate::db::checkout::{self as store, NewOrder, NewOrderLine, Outcome, Placed as StoreOutcome};
use crate::db::now_ms;
use crate::db::orders::to_json;
use crate::runtime::FailureKind;

/// Checkouts whose payment was asked, by what it gave, since the host
/// started (for `/metrics`).
#[derive(Debug, Default)]
pub struct Outcomes {
    counts: [std::sync::atomic::AtomicU64; OUTCOMES.len()],
}

/// The outcomes [`Outcomes`] counts: paid, pending (a transfer), authorized
/// (to capture), waiting for the buyer, declined, refused by the provider
/// (nothing charged), not known (left to the reconciler).
pub const OUTCOMES: [&str; 7] =
    ["paid", "pending", "authorized", "requires_action", "declined", "rejected", "unknown"];

impl Outcomes {
    fn count(&self, outcome: &Outcome) {
        let which = match outcome {
            Outcome::Paid { .. } => 0,
            Outcome::Pending { .. } => 1,
            Outcome::Authorized { .. } => 2,
            Outcome::RequiresAction { .. } => 3,
            Outcome::Failed { provider_reference: Some(_), .. } => 4,
            Outcome::Failed { provider_reference: None, .. } => 5,
            Outcome::Unknown { .. } => 6,
        };
        self.counts[which].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// `(outcome, checkouts)` for each of [`OUTCOMES`].
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        OUTCOMES
            .iter()
            .zip(&self.counts)
            .map(|(name, n)| (*name, n.load(std::sync::atomic::Ordering::Relaxed)))
            .collect()
    }
}

/// How many checkouts do their work at once on this host; the rest wait
/// here, in arrival order. Two steps are limited, each with slots of its
/// own (see [`Placing::default_for`]): pricing the cart and placing the order
/// (step 1), and recording the provider's answer and reading the order
/// back (step 3). The payment call between them (step 2) runs outside any
/// slot, so a slow provider never holds other checkouts back, and a
/// checkout that has paid never waits behind new ones.
///
/// A checkout is the heaviest request there is: the final pricing and
/// the longest write transactions (on SQLite the one writer's longest
/// turns). Let every checkout in at once and each cart edit queues behind
/// them for the CPU and the write turn (measured at 32 clients on SQLite:
/// edits at p99 20–65 ms with a checkout's p50 at 23 ms; with one
/// checkout in each step on 2 cores, edits at p99 8–12 ms and a
/// checkout's p50 at 50 ms, for about the same purchases per second; with
/// one slot per core in each step, edits still at p99 17–20 ms, as too
/// many checkouts run between the two steps; see BENCHMARKS.md).
/// The wait comes before each step's first read: a waiting checkout holds
/// no connection, and before step 1 no stock.
///
/// The slots are there for the other requests: while nothing but
/// checkouts is in flight on this host (a rush of checkouts and nobody
/// browsing), a checkout goes ahead without a slot, as it would with no
/// limit (measured: with the slots always taken, 32 clients completing
/// and nothing else placed 19 % fewer orders).
#[derive(Debug)]
pub struct Placing {
    steps: [Slots; 2],
    /// HTTP requests in flight on this host (see [`Placing::request`]).
    requests: std::sync::atomic::AtomicU64,
    /// Of them, checkouts (see [`Placing::checkout`]).
    checkouts: std::sync::atomic::AtomicU64,
}

/// Counts one request, checkout or waiter until dropped.
#[derive(Debug)]
pub struct InFlight<'a>(&'a std::sync::atomic::AtomicU64);

impl InFlight<'_> {
    fn of(count: &std::sync::atomic::AtomicU64) -> InFlight<'_> {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        InFlight(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The steps of a checkout [`Placing`] limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Pricing the cart and placing the order.
    Place,
    /// Recording the provider's answer and reading the order back.
    Record,
}

impl Step {
    /// Both, in order.
    pub const ALL: [Step; 2] = [Step::Place, Step::Record];

    /// As `/metrics` names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Place => "place",
            Step::Record => "record",
        }
    }
}

#[derive(Debug)]
struct Slots {
    permits: tokio::sync::Semaphore,
    size: usize,
    waiting: std::sync::atomic::AtomicU64,
    entered: std::sync::atomic::AtomicU64,
    waited_us: std::sync::atomic::AtomicU64,
}

/// What [`Placing::snapshot`] reads of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Checkouts that may be in the step at once.
    pub slots: usize,
    /// Checkouts waiting for a slot now.
    pub waiting: u64,
    /// Checkouts let in since the host started.
    pub entered: u64,
    /// Seconds those checkouts waited, together.
    pub waited_seconds: f64,
}

impl Placing {
    /// At most `slots` (at least one) checkouts in each step at once.
    pub fn new(slots: usize) -> Placing {
        let size = slots.max(1);
        let slots = || Slots {
            permits: tokio::sync::Semaphore::new(size),
            size,
            waiting: Default::default(),
            entered: Default::default(),
            waited_us: Default::default(),
        };
        Placing { steps: [slots(), slots()], requests: Default::default(), checkouts: Default::default() }
    }

    /// Counts an HTTP request in flight on this host, until it is dropped
    /// (the HTTP layer holds one for every request it serves).
    pub fn request(&self) -> InFlight<'_> {
        InFlight::of(&self.requests)
    }

    /// Counts a checkout in flight, until it is dropped.
    fn checkout(&self) -> InFlight<'_> {
        InFlight::of(&self.checkouts)
    }

    /// Whether any request other than a checkout is in flight.
    fn others_in_flight(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.requests.load(Relaxed) > self.checkouts.load(Relaxed)
    }

    /// Waits for a slot in `step`, unless nothing but checkouts is in
    /// flight (`None`: no slot taken); a slot is free again when the pass
    /// is dropped.
    pub async fn enter(&self, step: Step) -> Option<tokio::sync::SemaphorePermit<'_>> {
        use std::sync::atomic::Ordering::Relaxed;
        let slots = &self.steps[step as usize];
        if !self.others_in_flight() {
            slots.entered.fetch_add(1, Relaxed);
            return None;
        }
        let since = std::time::Instant::now();
        // Counted until let in, or until it gives up (its request dropped).
        let waiting = InFlight::of(&slots.waiting);
        let pass = slots.permits.acquire().await;
        drop(waiting);
        slots.entered.fetch_add(1, Relaxed);
        slots.waited_us.fetch_add(since.elapsed().as_micros() as u64, Relaxed);
        Some(pass.expect("the slots are never closed"))
    }

    /// Each step's slots and what waited for them (for `/metrics`).
    pub fn snapshot(&self, step: Step) -> StepStats {
        use std::sync::atomic::Ordering::Relaxed;
        let slots = &self.steps[step as usize];
        StepStats {
            slots: slots.size,
            waiting: slots.waiting.load(Relaxed),
            entered: slots.entered.load(Relaxed),
            waited_seconds: slots.waited_us.load(Relaxed) as f64 / 1e6,
        }
    }
}

impl Placing {
    /// The default over `backend`. On SQLite a checkout's work is all on
    /// this host's cores (its statements too), and the two steps share
    /// them: one slot per two cores in each. On PostgreSQL a checkout
    /// holding a slot spends much of it waiting on round trips: one per
    /// core in each (measured: 215–218 purchases/s against 203–205/s with
    /// one per two cores and 205–207/s with no limit; edits at p99 5–11 ms
    /// against 15–37 ms with no limit).
    pub fn default_for(backend: crate::db::Backend) -> Placing {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Placing::new(match backend {
            crate::db::Backend::Sqlite => cores.div_ceil(2),
            crate::db::Backend::Postgres => cores,
        })
    }
}

/// How long stock is held for an order whose payment is not settled.
pub const RESERVATION_TTL_MS: i64 = 15 * 60 * 1000;

/// `POST …/complete`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// How the buyer pays; `provider` is required.
    pub payment: Option<PaymentInput>,
}

/// How the buyer pays.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// `stripe`, or a bound payment plugin's name, e.g. "test-gateway"
    /// (see `GET /carts/{id}/payment-providers`).
    pub provider: Option<String>,
    /// For a payment plugin: a payment method token from its client library.
    pub token: Option<String>,
    /// For Stripe: the PaymentMethod (`pm_…`) Stripe.js made.
    pub payment_method: Option<String>,
}

/// A Stripe PaymentMethod id: `pm_` and 1 to 252 letters, digits or `_`.
fn stripe_payment_method(raw: &str) -> std::result::Result<String, String> {
    match raw.strip_prefix("pm_") {
        Some(rest)
            if (1..=252).contains(&rest.len())
                && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
        {
            Ok(raw.to_owned())
        }
        _ => Err("is not a Stripe PaymentMethod id (pm_…)".into()),
    }
}

/// A placed order, with the token that lets a guest see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlacedOrder {
    /// The order as placed.
    #[serde(flatten)]
    pub order: Order,
    /// Send as `X-Order-Token` to `GET /v1/store/orders/{id}`; shown here only.
    pub access_token: String,
}

/// The payment needs the buyer: the order waits in `pending_payment` with
/// its stock held until the provider confirms (or the hold expires).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionRequired {
    /// Always `requires_action`.
    pub status: String,
    /// `ord_…`.
    pub order_id: String,
    /// The order's number, per merchant, from 1001.
    pub order_number: i64,
    /// What the buyer must do to finish paying.
    pub next_action: NextAction,
    /// Send as `X-Order-Token` to `GET /v1/store/orders/{id}`; shown here only.
    pub access_token: String,
}

/// What completing a cart gave.
pub enum Completion {
    /// The order is placed: paid, or payment pending (bank transfer, invoice).
    Placed(Box<PlacedOrder>),
    /// The payment needs the buyer (3-D Secure); the order waits.
    RequiresAction(ActionRequired),
}

/// Completes a cart: see the module documentation. `retried` says the
/// request took over the idempotency key of one whose host died (see
/// [`super::idempotency`]): what that one did is found and answered.
pub async fn complete(
    shop: &Shop,
    merchant_id: &str,
    cart_id: &str,
    req: CompleteRequest,
    retried: bool,
) -> Result<Completion> {
    let _checkout = shop.placing.checkout();
    if retried && let Some(done) = resume(shop, merchant_id, cart_id, true).await? {
        return done;
    }
    let slot = shop.placing.enter(Step::Place).await;
    let placed = place(shop, merchant_id, cart_id, req).await;
    drop(slot);
    let placed = match placed {
        // Completed again after 3-D Secure: the payment is read again.
        Err(e @ Error::Conflict { code: "cart_not_open", .. }) => {
            return resume(shop, merchant_id, cart_id, false).await?.unwrap_or(Err(e));
        }
        placed => placed?,
    };
    crate::faults::point("checkout.placed").await;
    pay(shop, merchant_id, placed).await
}

/// An order placed (step 1) whose payment is not settled yet.
pub struct Placed {
    order_id: String,
    cart_id: String,
    attempt_id: String,
    total: i64,
    currency: mercato_sdk::Currency,
    email: String,
    token: Option<String>,
    provider: payments::Provider,
    access_token: String,
}

impl Placed {
    /// The placed order's id (`ord_…`).
    pub fn order_id(&self) -> &str {
        &self.order_id
    }
}

/// Step 1: prices the final cart, checks it and places the order with its
/// stock held. What a crash right after leaves behind is what the
/// reconciler resolves.
pub async fn place(shop: &Shop, merchant_id: &str, cart_id: &str, req: CompleteRequest) -> Result<Placed> {
    let payment = req.payment.unwrap_or_default();
    let provider_name = payment.provider.ok_or_else(|| Error::field("payment.provider", "is required"))?;
    let payment_method = match payment.payment_method.as_deref().map(stripe_payment_method) {
        Some(Err(why)) => return Err(Error::field("payment.payment_method", why)),
        Some(Ok(pm)) => Some(pm),
        None => None,
    };

    let (record, priced) = cart::load_priced(shop, merchant_id, cart_id, cart::Pass::Explained, None).await?;
    if record.status != cart::CartStatus::Open {
        return Err(Error::Conflict {
            code: "cart_not_open",
            message: format!(
                "the cart is {}{}",
                record.status.as_str(),
                record.order_id.as_ref().map(|o| format!(" (order {o})")).unwrap_or_default()
            ),
        });
    }
    let mut missing = Check::default();
    let required = |present: bool, why: &str| if present { Ok(()) } else { Err(why.to_owned()) };
    missing.field("lines", required(!priced.lines.is_empty(), "the cart is empty"));
    missing.field("email", required(record.email.is_some(), "is required"));
    missing.field("shipping_address", required(record.shipping_address.is_some(), "is required"));
    let no_longer = "is no longer offered; choose another";
    let why = if record.shipping_option.is_some() { no_longer } else { "is required" };
    missing.field("shipping_option", required(!priced.ships || priced.shipping.is_some(), why));
    missing.finish()?;
    if let Some(code) =
        record.discount_codes.iter().find(|c| !priced.codes.iter().any(|v| v.code.eq_ignore_ascii_case(c)))
    {
        // The warning says why (unknown, expired, used up).
        let why = priced
            .warnings
            .iter()
            .find(|w| w.code == "discount_code_invalid" && w.message.contains(code.as_str()))
            .map_or_else(|| format!("discount code {code:?} is not valid"), |w| w.message.clone());
        return Err(Error::Unprocessable { code: "invalid_discount_code", message: why });
    }
    if !priced.failures.is_empty() {
        return Err(Error::PluginFailed { message: priced.failures.join("; ") });
    }
    let provider =
        payments::provider(shop, merchant_id, &provider_name).await?.ok_or_else(|| Error::Unprocessable {
            code: "unknown_payment_provider",
            message: format!("no payment provider {provider_name:?} is set up for this shop"),
        })?;
    // What the provider takes: Stripe a PaymentMethod, a plugin a token.
    let token = match (&provider, payment_method, payment.token) {
        (payments::Provider::Stripe(_), Some(pm), None) => Some(pm),
        (payments::Provider::Stripe(_), None, None) => {
            return Err(Error::field("payment.payment_method", "is required for Stripe"));
        }
        (payments::Provider::Stripe(_), _, Some(_)) => {
            return Err(Error::field("payment.token", "is not taken by Stripe: send payment_method (pm_…)"));
        }
        (payments::Provider::Plugin(_), Some(_), _) => {
            return Err(Error::field(
                "payment.payment_method",
                format!("is for Stripe; {} takes a token", provider.name()),
            ));
        }
        (payments::Provider::Plugin(_), None, token) => token,
    };

    let access_token = new_secret("ot");
    let now = now_ms();
    let order = new_order(merchant_id, &record, &priced, &provider, token.clone(), &access_token, now);
    match store::place(&shop.db, &order).await? {
        StoreOutcome::Placed => {}
        StoreOutcome::CartNotOpen => {
            return Err(Error::Conflict {
                code: "cart_not_open",
                message: "the cart is being completed or was completed by another request".into(),
            });
        }
        StoreOutcome::CartChanged => {
            return Err(Error::Conflict {
                code: "cart_changed",
                message: "the cart changed while it was being completed; review it and complete again".into(),
            });
        }
        StoreOutcome::OutOfStock(lines) => {
            let errors: FieldErrors = lines
                .iter()
                .map(|(line, available)| (format!("lines.{line}"), format!("only {available} available")))
                .collect();
            let names: Vec<_> = lines
                .iter()
                .filter_map(|(id, _)| priced.lines.iter().find(|l| &l.record.id == id))
                .filter_map(|l| l.record.variant.as_ref().map(|v| format!("{} ({})", v.title, v.sku)))
                .collect();
            return Err(Error::OutOfStock {
                message: format!("not enough stock for {}", names.join(", ")),
                lines: errors,
            });
        }
        StoreOutcome::CodeExhausted(code) => {
            return Err(Error::Unprocessable {
                code: "invalid_discount_code",
                message: format!("discount code {code:?} has reached its usage limit"),
            });
        }
    };

    Ok(Placed {
        order_id: order.id,
        cart_id: order.cart_id,
        attempt_id: order.attempt_id,
        total: order.total,
        currency: priced.currency,
        email: order.email,
        token,
        provider,
        access_token,
    })
}

/// Steps 2 and 3: asks the provider (outside any transaction; nothing to
/// charge for an order discounted to zero) and records its answer.
pub async fn pay(shop: &Shop, merchant_id: &str, order: Placed) -> Result<Completion> {
    let Placed { access_token, provider, .. } = &order;
    let access_token = access_token.clone();
    let (outcome, failure) = if order.total == 0 {
        (Outcome::Paid { provider_reference: format!("free_{}", order.attempt_id) }, None)
    } else {
        let charge = payments::Charge {
            amount: Money::new(order.total, order.currency),
            order_reference: &order.order_id,
            cart_id: &order.cart_id,
            token: order.token.clone(),
            attempt_id: &order.attempt_id,
            email: &order.email,
        };
        payments::create_payment(shop, merchant_id, provider, charge).await
    };
    crate::faults::point("checkout.charged").await;

    let slot = shop.placing.enter(Step::Record).await;
    store::settle(&shop.db, merchant_id, &order.attempt_id, &outcome, now_ms()).await?;
    shop.checkouts.count(&outcome);
    match outcome {
        Outcome::Paid { .. } | Outcome::Pending { .. } | Outcome::Authorized { .. } => {
            let order = orders::get(&shop.db, merchant_id, &order.order_id).await?;
            drop(slot);
            Ok(Completion::Placed(Box::new(PlacedOrder { order, access_token })))
        }
        Outcome::RequiresAction { next_action, .. } => Ok(Completion::RequiresAction(ActionRequired {
            status: "requires_action".into(),
            order_id: order.order_id.clone(),
            order_number: orders::get(&shop.db, merchant_id, &order.order_id).await?.number,
            next_action: serde_json::from_str(&next_action).map_err(anyhow::Error::new)?,
            access_token,
        })),
        Outcome::Failed { reason, provider_reference: Some(_) } => {
            Err(Error::PaymentDeclined { message: reason })
        }
        // The host refused the plugin a host: the operator's to fix, not the buyer's.
        Outcome::Failed { .. }
            if failure.as_ref().is_some_and(|e| matches!(e.kind, FailureKind::NetworkRefused { .. })) =>
        {
            Err(Error::PluginFailed {
                message: format!(
                    "{}; nothing was charged and the cart is open",
                    failure.map(|e| e.to_string()).unwrap_or_default()
                ),
            })
        }
        Outcome::Failed { reason, provider_reference: None } => Err(Error::Unprocessable {
            code: "payment_rejected",
            message: format!("the payment provider {} refused the request: {reason}", provider.name()),
        }),
        Outcome::Unknown { error } => Err(Error::PluginFailed {
            message: format!(
                "{error}; order {} waits in pending_payment with its stock held until the payment is reconciled",
                order.order_id
            ),
        }),
    }
}

/// The real outcome of a completion already under way, with a new access
/// token (the first answer may never have been delivered):
///
/// - `retried`: the host of the first request died after placing the
///   order: the payment is asked again if nobody has heard from the
///   provider (same attempt, same idempotency key: never a second charge);
/// - otherwise, only for a payment that waits for the buyer (3-D Secure):
///   the provider is asked again whether the buyer finished, about the
///   same payment, never a new one.
///
/// `None` if no order was placed for the cart (or, not `retried`, if its
/// payment is not waiting for the buyer).
async fn resume(
    shop: &Shop,
    merchant_id: &str,
    cart_id: &str,
    retried: bool,
) -> Result<Option<Result<Completion>>> {
    let Some(record) = crate::db::carts::get(&shop.db, merchant_id, cart_id).await? else { return Ok(None) };
    let Some(order_id) = record.order_id else { return Ok(None) };
    let mut order = orders::get_any(&shop.db, merchant_id, &order_id).await?;
    let status = order.payment.as_ref().map(|p| p.status.as_str());
    let ask_again = match status {
        Some("started" | "unknown") => retried,
        Some("requires_action") => true,
        _ => false,
    };
    if !retried && status != Some("requires_action") {
        return Ok(None);
    }
    if ask_again
        && let Some(p) = &order.payment
        && let Some(attempt) = crate::db::payments::by_id(&shop.db, merchant_id, &p.id).await?
        && crate::db::payments::claim(&shop.db, &attempt, now_ms()).await?
    {
        super::jobs::reconcile(shop, &attempt).await?;
        order = orders::get_any(&shop.db, merchant_id, &order_id).await?;
    }
    let access_token = new_secret("ot");
    crate::db::orders::set_access_token_hash(&shop.db, merchant_id, &order_id, &hash_secret(&access_token))
        .await?;
    let payment = order.payment.clone();
    let status = payment.as_ref().map_or("started", |p| p.status.as_str());
    Ok(Some(match status {
        "requires_action" => Ok(Completion::RequiresAction(ActionRequired {
            status: "requires_action".into(),
            order_id: order.id.clone(),
            order_number: order.number,
            next_action: payment
                .and_then(|p| p.next_action)
                .unwrap_or(NextAction { client_secret: None, redirect_url: None }),
            access_token,
        })),
        "failed" | "voided" => Err(Error::PaymentDeclined {
            message: payment.and_then(|p| p.failure_reason).unwrap_or_else(|| "the payment failed".into()),
        }),
        "started" | "unknown" => Err(Error::PluginFailed {
            message: format!(
                "the payment provider has not answered yet; order {order_id} waits in pending_payment with its \
                 stock held until the payment is reconciled"
            ),
        }),
        _ => Ok(Completion::Placed(Box::new(PlacedOrder { order, access_token }))),
    }))
}

fn new_order(
    merchant_id: &str,
    record: &cart::CartRecord,
    priced: &Priced,
    provider: &payments::Provider,
    token: Option<String>,
    access_token: &str,
    now: i64,
) -> NewOrder {
    NewOrder {
        id: new_id("ord"),
        merchant_id: merchant_id.to_owned(),
        cart_id: record.id.clone(),
        cart_version: record.version,
        customer_id: record.customer_id.clone(),
        email: record.email.clone().unwrap_or_default(),
        currency: record.currency.clone(),
        subtotal: priced.subtotal,
        discount_total: priced.discount_total,
        shipping_total: priced.shipping_total,
        tax_total: priced.tax_total,
        total: priced.total,
        shipping_address: to_json(&record.shipping_address),
        billing_address: record.billing_address.as_ref().map(to_json),
        shipping_option: to_json(&priced.shipping),
        adjustments: to_json(&priced.adjustments),
        shipping_tax_lines: to_json(&priced.shipping_tax_lines),
        codes: priced.codes.iter().map(|c| (c.id.clone(), c.code.clone())).collect(),
        prices_include_tax: priced.prices_include_tax,
        explain: to_json(&priced.trail),
        access_token_hash: hash_secret(access_token),
        lines: priced
            .lines
            .iter()
            .map(|l| {
                let v = l.record.variant.as_ref().expect("priced lines have a variant");
                NewOrderLine {
                    id: new_id("ol"),
                    cart_line_id: l.record.id.clone(),
                    variant_id: l.record.variant_id.clone(),
                    product_id: v.product_id.clone(),
                    sku: v.sku.clone(),
                    title: v.title.clone(),
                    quantity: l.record.quantity,
                    unit_price: v.price,
                    subtotal: l.subtotal,
                    discount_total: l.discount,
                    tax_total: l.tax,
                    total: l.total,
                    adjustments: to_json(&l.adjustments),
                    tax_lines: to_json(&l.tax_lines),
                    backorder: v.policy == super::catalog::InventoryPolicy::AllowBackorder,
                }
            })
            .collect(),
        attempt_id: new_id("pay"),
        plugin_id: provider.id().to_owned(),
        provider: provider.name().to_owned(),
        token,
        reservation_expires_at: now + RESERVATION_TTL_MS,
        skipped: priced
            .warnings
            .iter()
            .filter(|w| w.code == "plugin_skipped")
            .map(|w| serde_json::json!({"plugin": w.plugin, "call": w.call, "reason": w.reason, "message": w.message}))
            .collect(),
        now,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{Placing, Step};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn while_others_are_in_flight_no_more_checkouts_are_in_a_step_than_slots_and_each_waiter_gets_in() {
        let placing = Arc::new(Placing::new(2));
        // Someone browsing: checkouts take turns.
        let browsing = placing.request();
        let (inside, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (placing, inside, most) = (placing.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _slot = placing.enter(Step::Place).await;
                    // The other step's slots are its own: never waited for here.
                    drop(placing.enter(Step::Record).await);
                    most.fetch_max(inside.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2, "two slots: two at once, and no fewer while others wait");
        let placed = placing.snapshot(Step::Place);
        assert_eq!((placed.slots, placed.waiting, placed.entered), (2, 0, 12));
        // Ten of them waited for at least one 5 ms turn of others.
        assert!(placed.waited_seconds >= 0.005, "{placed:?}");
        assert_eq!(placing.snapshot(Step::Record).entered, 12);
        assert_eq!(Placing::new(0).snapshot(Step::Record).slots, 1, "never no slot at all");

        // A checkout whose request is dropped while it waits is no longer counted as waiting.
        let held = placing.enter(Step::Place).await;
        let also = placing.enter(Step::Place).await;
        let gave_up =
            tokio::time::timeout(std::time::Duration::from_millis(20), placing.enter(Step::Place)).await;
        assert!(held.is_some() && also.is_some() && gave_up.is_err(), "both slots are taken");
        assert_eq!(placing.snapshot(Step::Place).waiting, 0);

        // Nothing but checkouts in flight: one goes ahead, slots taken or not.
        drop(browsing);
        let _checkout = placing.checkout();
        let _its_request = placing.request();
        let ahead = tokio::time::timeout(std::time::Duration::from_secs(5), placing.enter(Step::Place)).await;
        assert!(matches!(ahead, Ok(None)), "no slot taken, no wait");
        drop((held, also));
        assert_eq!(placing.snapshot(Step::Place).entered, 15);
    }
}
