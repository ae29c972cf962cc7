//! Payment providers.
//!
//! Every request carries an idempotency key: the host may send the same
//! request again after a crash, and a provider must not charge twice for one key.

use serde::{Deserialize, Serialize};

use crate::Plugin;
use crate::money::Money;
use crate::types::PluginError;

/// A payment provider.
pub trait Payment: Plugin {
    /// Authorizes (and, when asked, captures) a payment.
    fn create_payment(config: &Self::Config, request: &PaymentRequest) -> Result<PaymentResult, PluginError>;
    /// Captures an authorized payment.
    fn capture(config: &Self::Config, request: &CaptureRequest) -> Result<PaymentResult, PluginError>;
    /// Refunds all or part of a captured payment.
    fn refund(config: &Self::Config, request: &RefundRequest) -> Result<PaymentResult, PluginError>;
    /// Cancels an authorization that was not captured.
    fn void(config: &Self::Config, request: &VoidRequest) -> Result<PaymentResult, PluginError>;
    /// Turns a provider callback into an event.
    fn parse_webhook(config: &Self::Config, hook: &Webhook) -> Result<PaymentEvent, PluginError> {
        let _ = (config, hook);
        Err(PluginError::unsupported("this provider sends no webhooks"))
    }
}

/// A request to take a payment.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// How much.
    pub amount: Money,
    /// The order the payment is for.
    pub order_reference: String,
    /// A token from the provider's client-side library.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_token: Option<String>,
    /// Same key, same payment.
    pub idempotency_key: String,
    /// Capture at once (true) or only authorize.
    #[serde(default = "yes")]
    pub capture: bool,
    /// The buyer's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

fn yes() -> bool {
    true
}

/// What the buyer must do next.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct NextAction {
    /// For the provider's client-side library.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Where to send the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

/// Where a payment stands.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Authorized or captured, as requested.
    Succeeded,
    /// The buyer must act (3-D Secure, redirect).
    RequiresAction(NextAction),
    /// Waiting for the provider or the merchant.
    Pending,
    /// Declined, with the reason to show.
    Failed(String),
}

/// A provider's answer.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PaymentResult {
    /// Where it stands.
    pub status: PaymentStatus,
    /// The provider's id for the payment; stable across retries.
    pub provider_reference: String,
    /// Instructions to show the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Capture an authorized payment.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CaptureRequest {
    /// From [`PaymentResult::provider_reference`].
    pub provider_reference: String,
    /// How much to capture.
    pub amount: Money,
    /// Same key, same capture.
    pub idempotency_key: String,
}

/// Refund a captured payment.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct RefundRequest {
    /// From [`PaymentResult::provider_reference`].
    pub provider_reference: String,
    /// How much to refund.
    pub amount: Money,
    /// Same key, same refund.
    pub idempotency_key: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Cancel an uncaptured authorization.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct VoidRequest {
    /// From [`PaymentResult::provider_reference`].
    pub provider_reference: String,
    /// Same key, same void.
    pub idempotency_key: String,
}

/// A provider callback as received.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct Webhook {
    /// Header names and values.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The raw body.
    #[serde(default)]
    pub body: Vec<u8>,
}

/// What a callback says about a payment.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PaymentEvent {
    /// Which payment.
    pub provider_reference: String,
    /// Its new status.
    pub status: PaymentStatus,
    /// The amount concerned, if the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
}

/// One call to a payment plugin, as fixtures and `mercato plugin run` spell it:
/// `{"create_payment": {...}}`, `{"capture": {...}}`, …
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentCall {
    /// [`Payment::create_payment`].
    CreatePayment(PaymentRequest),
    /// [`Payment::capture`].
    Capture(CaptureRequest),
    /// [`Payment::refund`].
    Refund(RefundRequest),
    /// [`Payment::void`].
    Void(VoidRequest),
    /// [`Payment::parse_webhook`].
    ParseWebhook(Webhook),
}

impl PaymentCall {
    /// The WIT function name, for error messages.
    pub fn name(&self) -> &'static str {
        match self {
            PaymentCall::CreatePayment(_) => "create-payment",
            PaymentCall::Capture(_) => "capture",
            PaymentCall::Refund(_) => "refund",
            PaymentCall::Void(_) => "void",
            PaymentCall::ParseWebhook(_) => "parse-webhook",
        }
    }
}

/// The answer to a [`PaymentCall`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PaymentReply {
    /// From create, capture, refund or void.
    Result(PaymentResult),
    /// From parse-webhook.
    Event(PaymentEvent),
}

/// `wasi:http` client bindings (`types`, `outgoing_handler`) for payment
/// plugins that call their provider. The host lets requests through only to
/// hosts the operator allowed for the binding and refuses every other one.
#[cfg(all(target_arch = "wasm32", feature = "payment"))]
pub use crate::__private::payment::wasi::http;
