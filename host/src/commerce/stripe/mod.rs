//! Stripe, spoken natively (`async-stripe`'s requests, sent over a pooled
//! client, see [`client`]):
//!
//! - **the connection**: a merchant's keys are checked for their shape and
//!   mode, the secrets sealed at rest (see [`super::secrets`]) and never
//!   shown again, only their last four characters;
//! - **payments**: one PaymentIntent per payment attempt, created and
//!   confirmed with the attempt id as Stripe's idempotency key and the
//!   order, cart and attempt ids in its metadata; captured, refunded and
//!   cancelled with keys derived from the attempt or refund id, so a retry
//!   never moves money twice. Stripe's answers become the same [`Outcome`]s
//!   payment plugins' answers do (see [`super::payments`]);
//! - **webhooks**: verified here ([`verified_event`]), applied to their
//!   payment by [`super::callbacks::stripe_webhook`].

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use mercato_sdk::payment::{CaptureRequest, PaymentCall, RefundRequest, VoidRequest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stripe_client_core::{IdempotencyKey, RequestStrategy, StripeRequest};
use stripe_core::payment_intent::{
    CancelPaymentIntent, CapturePaymentIntent, CreatePaymentIntent,
    CreatePaymentIntentAutomaticPaymentMethods, CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects,
    RetrievePaymentIntent,
};
use stripe_core::refund::{CreateRefund, CreateRefundReason};
use stripe_core::{PaymentIntent, PaymentIntentCaptureMethod, PaymentIntentStatus};

mod client;

use client::{Client, StripeError};

use super::cache::{self, Stale, TtlCache};
use super::orders::NextAction;
use super::{Check, Error, Result, Shop};
use crate::db;
use crate::db::checkout::Outcome;
use crate::model::providers::Charge;
use crate::model::providers::StoredConnection;
use crate::model::secret::Secret;

/// The provider's name, as `complete` takes it and attempts record it.
pub const PROVIDER: &str = "stripe";
/// Stripe's API, unless the operator points the host elsewhere.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com/";

/// Stripe.js, which a storefront loads to collect card details (Stripe
/// Elements) for merchants who connected Stripe.
pub const DEFAULT_JS_URL: &str = "https://js.stripe.com/v3/";
/// How long one request to Stripe may take before its outcome counts as
/// unknown (and the reconciler asks again with the same idempotency key).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// `PUT /payment-providers/stripe`: the account's keys, all three each time.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    /// The secret (`sk_test_…`, `sk_live_…`) or restricted (`rk_…`) API key.
    #[schema(required = true)]
    pub secret_key: Option<String>,
    /// The publishable key (`pk_test_…`, `pk_live_…`), in the same mode.
    #[schema(required = true)]
    pub publishable_key: Option<String>,
    /// The signing secret of the webhook endpoint (`whsec_…`).
    #[schema(required = true)]
    pub webhook_secret: Option<String>,
    /// `automatic` (default): charge at checkout; `manual`: authorize at
    /// checkout, capture with `POST /orders/{id}/capture`; `on_fulfillment`:
    /// authorize at checkout, capture when the first items ship.
    pub capture: Option<String>,
}

/// The connection as the merchant sees it: no secret, only its end.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StripeConnection {
    /// `stripe`.
    pub provider: String,
    /// `test` or `live`, from the keys.
    pub mode: String,
    /// The publishable key, which the storefront uses.
    pub publishable_key: String,
    /// The last four characters of the secret key.
    pub secret_key_last4: String,
    /// The last four characters of the webhook signing secret.
    pub webhook_secret_last4: String,
    /// `automatic`, `manual` or `on_fulfillment`.
    pub capture: String,
    /// When it was first connected.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    /// When it last changed.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// What the host needs to call Stripe for a merchant, secrets opened.
#[derive(Debug, Clone)]
pub struct StripeCredentials {
    /// The API key.
    pub secret_key: Secret,
    /// The webhook signing secret.
    pub webhook_secret: Secret,
    /// The publishable key.
    pub publishable_key: String,
    /// When the payment is captured.
    pub capture: Capture,
}

/// When a Stripe payment is captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// At checkout.
    Automatic,
    /// When the merchant says (`POST /orders/{id}/capture`).
    Manual,
    /// When the first items ship (or when the merchant says, before).
    OnFulfillment,
}

impl Capture {
    fn parse(s: &str) -> Option<Capture> {
        match s {
            "automatic" => Some(Capture::Automatic),
            "manual" => Some(Capture::Manual),
            "on_fulfillment" => Some(Capture::OnFulfillment),
            _ => None,
        }
    }
}

/// `prefix` + `test_`/`live_` + 8 to 247 letters and digits; the mode.
fn key(raw: &str, prefixes: &[&str], example: &str) -> std::result::Result<(String, &'static str), String> {
    let raw = raw.trim();
    let rest = prefixes.iter().find_map(|p| raw.strip_prefix(p));
    let (mode, body) = match rest.map(|r| (r.strip_prefix("test_"), r.strip_prefix("live_"))) {
        Some((Some(body), _)) => ("test", body),
        Some((_, Some(body))) => ("live", body),
        _ => return Err(format!("is not a Stripe key of this kind (e.g. {example}…)")),
    };
    if !(8..=247).contains(&body.len()) || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("is not a Stripe key of this kind (e.g. {example}…)"));
    }
    Ok((raw.to_owned(), mode))
}

fn webhook_secret(raw: &str) -> std::result::Result<String, String> {
    let raw = raw.trim();
    let body = raw.strip_prefix("whsec_").unwrap_or_default();
    if (8..=250).contains(&body.len())
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(&b))
    {
        Ok(raw.to_owned())
    } else {
        Err("is not a Stripe webhook signing secret (whsec_…)".into())
    }
}

fn last4(s: &str) -> String {
    s.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect()
}

fn context(merchant_id: &str, field: &str) -> String {
    format!("{merchant_id}/{PROVIDER}/{field}")
}

fn view(c: StoredConnection) -> StripeConnection {
    let mode = if c.publishable_key.starts_with("pk_live_") { "live" } else { "test" };
    StripeConnection {
        provider: c.provider,
        mode: mode.into(),
        publishable_key: c.publishable_key,
        secret_key_last4: c.secret_key_last4,
        webhook_secret_last4: c.webhook_secret_last4,
        capture: c.capture,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

/// 404 for a merchant that has not connected Stripe.
pub fn not_connected() -> Error {
    Error::NotFound("Stripe connection")
}

/// Connects (or reconnects) the merchant's Stripe account.
pub async fn connect(shop: &Shop, merchant_id: &str, req: StripeSettings) -> Result<StripeConnection> {
    let mut check = Check::default();
    let required = |v: Option<String>| v.ok_or_else(|| "is required".to_owned());
    let secret = check
        .field("secret_key", required(req.secret_key).and_then(|k| key(&k, &["sk_", "rk_"], "sk_test_")));
    let public = check
        .field("publishable_key", required(req.publishable_key).and_then(|k| key(&k, &["pk_"], "pk_test_")));
    let hook = check.field("webhook_secret", required(req.webhook_secret).and_then(|s| webhook_secret(&s)));
    let capture = check.field(
        "capture",
        match req.capture.as_deref().map(str::trim) {
            None => Ok("automatic"),
            Some(c) if Capture::parse(c).is_some() => Ok(c),
            Some(_) => Err("must be automatic, manual or on_fulfillment".to_owned()),
        },
    );
    if let (Some((_, secret_mode)), Some((_, public_mode))) = (&secret, &public)
        && secret_mode != public_mode
    {
        check.field::<()>(
            "publishable_key",
            Err(format!("is a {public_mode} key, but the secret key is a {secret_mode} key")),
        );
    }
    let settings = secret.zip(public).zip(hook).zip(capture);
    let ((((secret, _), (public, _)), hook), capture) = check.finish_with(settings)?;
    let now = db::now_ms();
    let stored = StoredConnection {
        merchant_id: merchant_id.to_owned(),
        provider: PROVIDER.into(),
        publishable_key: public,
        secret_key_sealed: shop.secrets.seal(&secret, &context(merchant_id, "secret_key")),
        secret_key_last4: last4(&secret),
        webhook_secret_sealed: shop.secrets.seal(&hook, &context(merchant_id, "webhook_secret")),
        webhook_secret_last4: last4(&hook),
        capture: capture.into(),
        created_at: now,
        updated_at: now,
    };
    let stored = db::payment_providers::upsert(&shop.db, &stored).await?;
    shop.stripe.accounts.remove(merchant_id);
    cache::announce(&shop.db, Stale::Stripe(merchant_id.to_owned())).await;
    Ok(view(stored))
}

/// The merchant's Stripe connection; 404 when there is none.
pub async fn connection(shop: &Shop, merchant_id: &str) -> Result<StripeConnection> {
    let stored =
        db::payment_providers::get(&shop.db, merchant_id, PROVIDER).await?.ok_or_else(not_connected)?;
    Ok(view(stored))
}

/// Disconnects the merchant's Stripe account; 404 when there is none.
pub async fn disconnect(shop: &Shop, merchant_id: &str) -> Result<()> {
    let deleted = db::payment_providers::delete(&shop.db, merchant_id, PROVIDER).await?;
    shop.stripe.accounts.remove(merchant_id);
    cache::announce(&shop.db, Stale::Stripe(merchant_id.to_owned())).await;
    if deleted { Ok(()) } else { Err(not_connected()) }
}

/// The merchant's Stripe keys, secrets opened; `None` when not connected.
/// Read once per [`reload_after`](crate::commerce::cache::reload_after) (a
/// checkout should not pay a query and two decryptions for them): a change
/// made on this host is seen at once, one made on another host sharing the
/// database when its notice arrives, or within that time.
pub async fn credentials(shop: &Shop, merchant_id: &str) -> Result<Option<StripeCredentials>> {
    if let Some(known) = shop.stripe.accounts.get(merchant_id) {
        return Ok(known);
    }
    let opened = open_credentials(shop, merchant_id).await?;
    shop.stripe.accounts.put(merchant_id.to_owned(), opened.clone());
    Ok(opened)
}

/// Where a storefront loads Stripe.js from to take the merchant's card
/// payments, when the merchant connected Stripe.
pub async fn storefront_js(shop: &Shop, merchant_id: &str) -> Result<Option<String>> {
    Ok(credentials(shop, merchant_id).await?.map(|_| shop.stripe.js_url.clone()))
}

async fn open_credentials(shop: &Shop, merchant_id: &str) -> Result<Option<StripeCredentials>> {
    let Some(c) = db::payment_providers::get(&shop.db, merchant_id, PROVIDER).await? else { return Ok(None) };
    Ok(Some(StripeCredentials {
        secret_key: shop.secrets.open(&c.secret_key_sealed, &context(merchant_id, "secret_key"))?,
        webhook_secret: shop
            .secrets
            .open(&c.webhook_secret_sealed, &context(merchant_id, "webhook_secret"))?,
        publishable_key: c.publishable_key,
        capture: Capture::parse(&c.capture).unwrap_or(Capture::Automatic),
    }))
}

/// Where the host reaches Stripe, its clients (one per API key, kept so
/// connections are reused from one payment to the next) and merchants'
/// keys as last read.
pub struct Api {
    base: String,
    /// Stripe.js for storefronts (see [`DEFAULT_JS_URL`]).
    js_url: String,
    pool: client::Pool,
    clients: Mutex<HashMap<[u8; 32], Client>>,
    pub(crate) accounts: TtlCache<Option<StripeCredentials>>,
}

impl Api {
    /// Stripe at `base` (e.g. [`DEFAULT_API_BASE`]).
    pub fn new(base: &str) -> Api {
        let base = if base.ends_with('/') { base.to_owned() } else { format!("{base}/") };
        Api {
            base,
            js_url: DEFAULT_JS_URL.to_owned(),
            pool: client::pool(),
            clients: Mutex::default(),
            accounts: TtlCache::default(),
        }
    }

    /// The same, with storefronts loading Stripe.js from `url` (a test double's).
    pub fn with_js_url(self, url: &str) -> Api {
        Api { js_url: url.to_owned(), ..self }
    }

    fn client(&self, key: &Secret) -> std::result::Result<Client, StripeError> {
        let id: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(&id) {
            return Ok(client.clone());
        }
        if clients.len() >= 10_000 {
            clients.clear();
        }
        let client = Client::new(&self.pool, &self.base, key, REQUEST_TIMEOUT)?;
        clients.insert(id, client.clone());
        Ok(client)
    }
}

impl Default for Api {
    fn default() -> Api {
        Api::new(DEFAULT_API_BASE)
    }
}

fn once(key: &str) -> RequestStrategy {
    // Keys are attempt and refund ids with a suffix: never empty, short.
    RequestStrategy::Idempotent(IdempotencyKey::new(key).expect("an id is a valid idempotency key"))
}

/// Creates and confirms the attempt's PaymentIntent. The attempt id is the
/// idempotency key: asked again (a retry, the reconciler), Stripe answers
/// with the same PaymentIntent and charges nothing more.
pub async fn create(shop: &Shop, account: &StripeCredentials, charge: &Charge<'_>) -> Outcome {
    let Some(method) = charge.token.as_deref() else {
        return Outcome::Failed { reason: "no payment method was given".into(), provider_reference: None };
    };
    let currency = match charge.amount.currency.code().to_ascii_lowercase().parse::<stripe_types::Currency>()
    {
        Ok(c) => c,
        Err(_) => return unusable(format!("Stripe does not take {}", charge.amount.currency.code())),
    };
    let capture = match account.capture {
        Capture::Automatic => PaymentIntentCaptureMethod::Automatic,
        Capture::Manual | Capture::OnFulfillment => PaymentIntentCaptureMethod::Manual,
    };
    let metadata = HashMap::from([
        ("order_id".to_owned(), charge.order_reference.to_owned()),
        ("cart_id".to_owned(), charge.cart_id.to_owned()),
        ("attempt_id".to_owned(), charge.attempt_id.to_owned()),
    ]);
    let request = CreatePaymentIntent::new(charge.amount.amount, currency)
        .payment_method(method)
        .confirm(true)
        .capture_method(capture)
        .metadata(metadata)
        .receipt_email(charge.email)
        // Cards (3-D Secure through Stripe.js, not a redirect back to us).
        .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods {
            allow_redirects: Some(CreatePaymentIntentAutomaticPaymentMethodsAllowRedirects::Never),
            ..CreatePaymentIntentAutomaticPaymentMethods::new(true)
        })
        .customize()
        .request_strategy(once(charge.attempt_id));
    match client(shop, account) {
        Ok(client) => intent_outcome(request.send(&client).await),
        Err(e) => e,
    }
}

/// The PaymentIntent as Stripe has it now, as an outcome: how a payment
/// the buyer finished (3-D Secure) or one whose answer was lost is read.
pub async fn retrieve(shop: &Shop, account: &StripeCredentials, intent: &str) -> Outcome {
    match client(shop, account) {
        Ok(client) => intent_outcome(RetrievePaymentIntent::new(intent).send(&client).await),
        Err(e) => e,
    }
}

/// Captures, refunds or voids, as [`super::payments::ask`] asks it.
pub async fn ask(shop: &Shop, account: &StripeCredentials, request: PaymentCall) -> Outcome {
    let client = match client(shop, account) {
        Ok(client) => client,
        Err(e) => return e,
    };
    match request {
        PaymentCall::Capture(CaptureRequest { provider_reference, amount, idempotency_key }) => {
            // A capture already made (by another request, or in Stripe's
            // dashboard) is not sent again.
            let now = RetrievePaymentIntent::new(provider_reference.as_str()).send(&client).await;
            if let Ok(pi) = &now
                && pi.status != PaymentIntentStatus::RequiresCapture
            {
                return intent_outcome(now);
            }
            let request = CapturePaymentIntent::new(provider_reference.as_str())
                .amount_to_capture(amount.amount)
                .customize()
                .request_strategy(once(&idempotency_key));
            intent_outcome(request.send(&client).await)
        }
        PaymentCall::Refund(RefundRequest { provider_reference, amount, idempotency_key, reason }) => {
            let mut metadata = HashMap::from([("refund_id".to_owned(), idempotency_key.clone())]);
            metadata.extend(reason.map(|r| ("reason".to_owned(), r)));
            let request = CreateRefund::new()
                .payment_intent(provider_reference)
                .amount(amount.amount)
                .reason(CreateRefundReason::RequestedByCustomer)
                .metadata(metadata)
                .customize()
                .request_strategy(once(&idempotency_key));
            match request.send(&client).await {
                Ok(refund) => match refund.status.as_deref() {
                    Some("failed" | "canceled") => Outcome::Failed {
                        reason: refund.failure_reason.unwrap_or_else(|| "the refund failed".into()),
                        provider_reference: Some(refund.id.to_string()),
                    },
                    _ => Outcome::Paid { provider_reference: refund.id.to_string() },
                },
                Err(e) => error_outcome(e),
            }
        }
        PaymentCall::Void(VoidRequest { provider_reference, idempotency_key }) => {
            let request = CancelPaymentIntent::new(provider_reference.as_str())
                .customize()
                .request_strategy(once(&idempotency_key));
            match intent_outcome(request.send(&client).await) {
                // Cancelled is what a void asks for.
                Outcome::Failed { provider_reference: Some(reference), reason }
                    if reason.starts_with("canceled") =>
                {
                    Outcome::Paid { provider_reference: reference }
                }
                Outcome::Paid { .. } => Outcome::Failed {
                    reason: "the payment was already captured".into(),
                    provider_reference: Some(provider_reference),
                },
                other => other,
            }
        }
        PaymentCall::CreatePayment(_) | PaymentCall::ParseWebhook(_) => {
            unusable("Stripe payments are created with their cart (see `create`)".into())
        }
    }
}

fn client(shop: &Shop, account: &StripeCredentials) -> std::result::Result<Client, Outcome> {
    shop.stripe.client(&account.secret_key).map_err(|e| unusable(format!("the Stripe client: {e}")))
}

/// Nothing was sent: nothing can have been charged.
fn unusable(reason: String) -> Outcome {
    Outcome::Failed { reason, provider_reference: None }
}

/// A PaymentIntent's status as an outcome.
fn intent_outcome(answer: std::result::Result<PaymentIntent, StripeError>) -> Outcome {
    let pi = match answer {
        Ok(pi) => pi,
        Err(e) => return error_outcome(e),
    };
    let reference = pi.id.to_string();
    match &pi.status {
        PaymentIntentStatus::Succeeded => Outcome::Paid { provider_reference: reference },
        PaymentIntentStatus::RequiresCapture => Outcome::Authorized { provider_reference: reference },
        PaymentIntentStatus::Processing => Outcome::Pending {
            provider_reference: reference,
            message: Some("the payment is processing".into()),
        },
        PaymentIntentStatus::RequiresAction => {
            let next = pi.next_action.as_ref();
            let next_action = NextAction {
                client_secret: pi.client_secret.clone(),
                redirect_url: next.and_then(|n| n.redirect_to_url.as_ref()).and_then(|r| r.url.clone()),
            };
            Outcome::RequiresAction {
                provider_reference: reference,
                next_action: serde_json::to_string(&next_action).expect("serializes"),
            }
        }
        PaymentIntentStatus::Canceled => Outcome::Failed {
            reason: format!(
                "canceled{}",
                pi.cancellation_reason.as_ref().map(|r| format!(" ({})", r.as_str())).unwrap_or_default()
            ),
            provider_reference: Some(reference),
        },
        PaymentIntentStatus::RequiresPaymentMethod | PaymentIntentStatus::RequiresConfirmation => {
            Outcome::Failed {
                reason: pi.last_payment_error.as_deref().map_or_else(
                    || "the payment method was not accepted".to_owned(),
                    |e| {
                        decline(
                            e.code.as_ref().map(|c| c.as_str()),
                            e.decline_code.as_deref(),
                            e.message.as_deref(),
                        )
                    },
                ),
                provider_reference: Some(reference),
            }
        }
        other => Outcome::Unknown { error: format!("Stripe status {:?}", other.as_str()) },
    }
}

/// `card_declined (insufficient_funds): Your card has insufficient funds.`
pub fn decline(code: Option<&str>, decline_code: Option<&str>, message: Option<&str>) -> String {
    let mut out = code.unwrap_or("card_declined").to_owned();
    if let Some(d) = decline_code.filter(|d| Some(*d) != code) {
        out.push_str(&format!(" ({d})"));
    }
    if let Some(m) = message {
        out.push_str(&format!(": {m}"));
    }
    out
}

/// What an error from Stripe means for the money: a card error declined
/// it, another client error refused the request (nothing taken); a server
/// error, a timeout or an answer that cannot be read leaves it unknown.
fn error_outcome(e: StripeError) -> Outcome {
    match e {
        StripeError::Stripe(err, status) => {
            let kind = err.type_.as_str().to_owned();
            let code = err.code.as_ref().map(|c| c.as_str().to_owned());
            let reference = err.payment_intent.as_ref().map(|pi| pi.id.to_string());
            if kind == "card_error" {
                let reason = decline(code.as_deref(), err.decline_code.as_deref(), err.message.as_deref());
                return Outcome::Failed { reason, provider_reference: reference };
            }
            if matches!(status, 409 | 429) || status >= 500 {
                return Outcome::Unknown {
                    error: format!("Stripe answered {status}: {}", err.message.unwrap_or_default()),
                };
            }
            let what = code.map(|c| format!("{c}: ")).unwrap_or_default();
            Outcome::Failed {
                reason: format!(
                    "{what}{}",
                    err.message.unwrap_or_else(|| format!("Stripe answered {status}"))
                ),
                provider_reference: None,
            }
        }
        StripeError::Timeout => Outcome::Unknown { error: "Stripe did not answer in time".into() },
        other => Outcome::Unknown { error: format!("Stripe could not be asked: {other}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_for_kind_and_mode() {
        assert_eq!(key("sk_test_51Habc123XYZ", &["sk_", "rk_"], "sk_test_").unwrap().1, "test");
        assert_eq!(key("rk_live_51Habc123XYZ", &["sk_", "rk_"], "sk_test_").unwrap().1, "live");
        for bad in
            ["pk_test_51Habc123XYZ", "sk_prod_51Habc123XYZ", "sk_test_short", "sk_test_51Habc 123XYZ", ""]
        {
            assert!(key(bad, &["sk_", "rk_"], "sk_test_").is_err(), "{bad}");
        }
        assert!(webhook_secret("whsec_abcDEF123+/=").is_ok());
        assert!(webhook_secret("whsec_").is_err());
        assert!(webhook_secret("sk_test_51Habc123XYZ").is_err());
        assert_eq!(last4("sk_test_51Habc123XYZ"), "3XYZ");
    }
}

/// How far a webhook's signed time may be from ours, as Stripe's own
/// libraries allow: older deliveries may be replays.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;

/// Checks `Stripe-Signature` (`t=…,v1=…[,v1=…]`): one `v1` must be the
/// HMAC-SHA256 of `t.body` under the endpoint's secret (compared in
/// constant time; several are sent while a secret is rolled), and `t`
/// within [`SIGNATURE_TOLERANCE_SECS`] of `now`.
fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &str,
    now: i64,
) -> std::result::Result<(), &'static str> {
    use hmac::{Hmac, Mac};
    let header = header.ok_or("the Stripe-Signature header is missing")?;
    let (mut t, mut signatures) = (None, Vec::new());
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=').ok_or("the Stripe-Signature header is malformed")?;
        match k {
            "t" => t = Some(v.parse::<i64>().map_err(|_| "the Stripe-Signature timestamp is not a number")?),
            "v1" => signatures.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let t = t.ok_or("the Stripe-Signature header has no timestamp")?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    if !signatures.iter().any(|s| mac.clone().verify_slice(s).is_ok()) {
        return Err("no v1 signature matches the payload under this merchant's webhook secret");
    }
    if (now - t).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err("the signature is more than 300 seconds old (or from the future)");
    }
    Ok(())
}

/// The parts of a Stripe event the host reads.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// `evt_…`.
    pub id: String,
    /// E.g. `payment_intent.succeeded`.
    #[serde(rename = "type")]
    pub kind: String,
    /// What it is about.
    pub data: EventData,
}

/// An event's object.
#[derive(Debug, Deserialize)]
pub struct EventData {
    /// The PaymentIntent, charge or dispute, as Stripe sent it.
    pub object: serde_json::Value,
}

/// A webhook delivery verified against the merchant's signing secret (see
/// [`verify`]) and read as an event; 400 `invalid_signature` or
/// `invalid_webhook` otherwise.
pub fn verified_event(
    account: &StripeCredentials,
    signature: Option<&str>,
    body: &[u8],
    now_secs: i64,
) -> Result<Event> {
    verify(signature, body, account.webhook_secret.expose(), now_secs)
        .map_err(|why| Error::BadRequest { code: "invalid_signature", message: why.into() })?;
    serde_json::from_slice(body).map_err(|e| Error::BadRequest {
        code: "invalid_webhook",
        message: format!("the body is not a Stripe event: {e}"),
    })
}

#[cfg(test)]
mod webhook_tests {
    use super::*;

    fn header(secret: &str, t: i64, body: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn signatures_are_checked_for_secret_time_and_shape() {
        let (secret, body, now) = ("whsec_test", r#"{"id":"evt_1"}"#, 1_700_000_000);
        let good = header(secret, now, body);
        assert_eq!(verify(Some(&good), body.as_bytes(), secret, now), Ok(()));
        assert_eq!(verify(Some(&good), body.as_bytes(), secret, now + 300), Ok(()));
        // A rolled secret: one of several v1 matches.
        let rolled = format!("{},v1={}", header("whsec_old", now, body), good.split("v1=").nth(1).unwrap());
        assert_eq!(verify(Some(&rolled), body.as_bytes(), secret, now), Ok(()));
        assert!(verify(Some(&good), body.as_bytes(), secret, now + 301).is_err(), "stale");
        assert!(verify(Some(&good), b"{\"id\":\"evt_2\"}", secret, now).is_err(), "other body");
        assert!(verify(Some(&good), body.as_bytes(), "whsec_other", now).is_err(), "other secret");
        assert!(
            verify(Some(&header(secret, now, body).replace("v1=", "v0=")), body.as_bytes(), secret, now)
                .is_err()
        );
        for malformed in ["", "t=abc,v1=00", "v1=00", "garbage"] {
            assert!(verify(Some(malformed), body.as_bytes(), secret, now).is_err(), "{malformed}");
        }
        assert!(verify(None, body.as_bytes(), secret, now).is_err());
    }
}
