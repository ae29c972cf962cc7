//! A fake card gateway for development and tests.
//!
//! The outcome of a payment is decided by its `payment_method_token`:
//!
//! | token                | result                                                   |
//! |----------------------|----------------------------------------------------------|
//! | `tok_visa`           | `succeeded` (authorized or captured, as requested)       |
//! | `tok_chargeDeclined` | `failed("card_declined: Your card was declined.")`       |
//! | `tok_threeDSecure`   | `requires_action` with client secret `tg_<key>_secret`,  |
//! |                      | and the `challenge_url` page when one is configured      |
//! | missing or other     | error `invalid_token`                                    |
//!
//! An unknown token is an integration mistake rather than a decline, so it is
//! an error for the developer, not a `failed` status shown to the buyer.
//!
//! Plugins have no clock, randomness or storage, so the gateway keeps no
//! state: the provider reference is `tg_` + the idempotency key, and capture,
//! refund and void accept any `tg_…` reference with a positive amount.
//!
//! Error codes: `invalid_token`, `invalid_amount`, `invalid_reference`,
//! `invalid_input` (empty idempotency key), `invalid_signature`,
//! `invalid_webhook`, `invalid_config`.

use hmac::{Hmac, Mac};
use mercato_sdk::payment::{
    CaptureRequest, NextAction, Payment, PaymentEvent, PaymentRequest, PaymentResult, PaymentStatus,
    RefundRequest, VoidRequest, Webhook,
};
use mercato_sdk::{Money, Plugin, PluginError};
use serde::Deserialize;
use sha2::Sha256;

/// The token that always succeeds.
pub const TOKEN_VISA: &str = "tok_visa";
/// The token that is always declined.
pub const TOKEN_DECLINED: &str = "tok_chargeDeclined";
/// The token that always asks for 3-D Secure.
pub const TOKEN_THREE_D_SECURE: &str = "tok_threeDSecure";
/// The reason a declined payment fails with.
pub const DECLINE_REASON: &str = "card_declined: Your card was declined.";
/// The webhook header that carries the signature: lowercase hex of
/// HMAC-SHA256 over the body, keyed by the configured `webhook_secret`.
pub const SIGNATURE_HEADER: &str = "x-test-signature";

/// Every provider reference starts with this.
const PREFIX: &str = "tg_";

/// Merchant configuration; `{}` is valid (and refuses every webhook).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Webhooks must be signed with it (see [`SIGNATURE_HEADER`]).
    pub webhook_secret: Option<String>,
    /// Accepts webhooks without a signature when no secret is set: for
    /// local development only, and only when said explicitly.
    pub accept_unsigned_webhooks: bool,
    /// A 3-D Secure challenge page (a stand-in card issuer) the buyer is
    /// sent to, with `reference`, `amount` and `currency` added to its
    /// query; the page answers by a signed webhook.
    pub challenge_url: Option<String>,
}

/// The test gateway plugin.
pub struct TestGateway;

impl Plugin for TestGateway {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Test gateway",
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "webhook_secret": {
      "type": "string",
      "minLength": 1,
      "description": "Webhooks must carry hex(HMAC-SHA256(webhook_secret, body)) in the x-test-signature header"
    },
    "accept_unsigned_webhooks": {
      "type": "boolean",
      "default": false,
      "description": "Without a webhook_secret, accept unsigned webhooks (development only); otherwise they are refused"
    },
    "challenge_url": {
      "type": "string",
      "pattern": "^https?://",
      "description": "A 3-D Secure challenge page the buyer is sent to (reference, amount and currency added to its query)"
    }
  }
}"#;
}

impl Payment for TestGateway {
    fn create_payment(config: &Config, request: &PaymentRequest) -> Result<PaymentResult, PluginError> {
        require_positive(request.amount)?;
        if request.idempotency_key.is_empty() {
            return Err(PluginError::new(
                "invalid_input",
                "idempotency_key must not be empty: the payment reference is derived from it",
            ));
        }
        // Deriving the reference from the key, not from a counter, is what
        // makes a retried request land on the same payment instead of a second charge.
        let provider_reference = format!("{PREFIX}{}", request.idempotency_key);
        let status = match request.payment_method_token.as_deref() {
            Some(TOKEN_VISA) => PaymentStatus::Succeeded,
            Some(TOKEN_DECLINED) => PaymentStatus::Failed(DECLINE_REASON.into()),
            Some(TOKEN_THREE_D_SECURE) => PaymentStatus::RequiresAction(NextAction {
                client_secret: Some(format!("{provider_reference}_secret")),
                redirect_url: config
                    .challenge_url
                    .as_deref()
                    .map(|page| challenge(page, &provider_reference, request.amount)),
            }),
            other => return Err(invalid_token(other)),
        };
        Ok(PaymentResult { status, provider_reference, message: None })
    }

    fn capture(_config: &Config, request: &CaptureRequest) -> Result<PaymentResult, PluginError> {
        require_reference(&request.provider_reference)?;
        require_positive(request.amount)?;
        Ok(succeeded(&request.provider_reference))
    }

    fn refund(_config: &Config, request: &RefundRequest) -> Result<PaymentResult, PluginError> {
        require_reference(&request.provider_reference)?;
        require_positive(request.amount)?;
        Ok(succeeded(&request.provider_reference))
    }

    fn void(_config: &Config, request: &VoidRequest) -> Result<PaymentResult, PluginError> {
        require_reference(&request.provider_reference)?;
        Ok(succeeded(&request.provider_reference))
    }

    fn parse_webhook(config: &Config, hook: &Webhook) -> Result<PaymentEvent, PluginError> {
        match &config.webhook_secret {
            Some(secret) => verify_signature(secret, hook)?,
            None if config.accept_unsigned_webhooks => {}
            None => {
                return Err(PluginError::new(
                    "invalid_signature",
                    "webhooks are refused: configure a webhook_secret (or accept_unsigned_webhooks: true, \
                     for development only)",
                ));
            }
        }
        let notification: Notification = serde_json::from_slice(&hook.body).map_err(|e| {
            PluginError::new(
                "invalid_webhook",
                format!("webhook body is not a test gateway notification: {e}"),
            )
        })?;
        require_reference(&notification.reference)?;
        let status = match notification.status {
            NotificationStatus::Succeeded => PaymentStatus::Succeeded,
            NotificationStatus::Pending => PaymentStatus::Pending,
            NotificationStatus::Failed => PaymentStatus::Failed(
                notification.reason.unwrap_or_else(|| "payment_failed: The payment failed.".into()),
            ),
        };
        Ok(PaymentEvent { provider_reference: notification.reference, status, amount: notification.amount })
    }
}

/// The JSON body the test gateway posts.
#[derive(Deserialize)]
struct Notification {
    reference: String,
    status: NotificationStatus,
    #[serde(default)]
    amount: Option<Money>,
    /// Shown to the buyer when the status is `failed`.
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum NotificationStatus {
    Succeeded,
    Failed,
    Pending,
}

fn verify_signature(secret: &str, hook: &Webhook) -> Result<(), PluginError> {
    // An empty secret would accept any request that sends an empty header.
    if secret.is_empty() {
        return Err(PluginError::invalid_config(
            "webhook_secret must not be empty; leave it out to accept unsigned webhooks",
        ));
    }
    // HTTP header names are case-insensitive and proxies change their case.
    let signature = hook
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(SIGNATURE_HEADER))
        .map(|(_, value)| value.as_str());
    let Some(signature) = signature else {
        return Err(PluginError::new(
            "invalid_signature",
            format!("the {SIGNATURE_HEADER} header is missing but a webhook_secret is configured"),
        ));
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(&hook.body);
    // verify_slice compares in constant time.
    match hex::decode(signature.trim()) {
        Ok(given) if mac.verify_slice(&given).is_ok() => Ok(()),
        _ => Err(PluginError::new(
            "invalid_signature",
            format!(
                "the {SIGNATURE_HEADER} header is not the HMAC-SHA256 of the body under the webhook_secret"
            ),
        )),
    }
}

/// The signature the gateway sends with `body` (for tests and tools).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn invalid_token(token: Option<&str>) -> PluginError {
    let problem = match token {
        Some(token) => format!("unknown test token {token:?}"),
        None => "payment_method_token is missing".to_owned(),
    };
    let tokens = format!("{TOKEN_VISA}, {TOKEN_DECLINED} or {TOKEN_THREE_D_SECURE}");
    PluginError::new("invalid_token", format!("{problem}; use {tokens}"))
}

fn require_reference(reference: &str) -> Result<(), PluginError> {
    if reference.len() > PREFIX.len() && reference.starts_with(PREFIX) {
        Ok(())
    } else {
        Err(PluginError::new(
            "invalid_reference",
            format!("{reference:?} is not a test gateway reference (they start with {PREFIX:?})"),
        ))
    }
}

fn require_positive(amount: Money) -> Result<(), PluginError> {
    if amount.amount > 0 {
        Ok(())
    } else {
        Err(PluginError::new("invalid_amount", format!("the amount must be positive, got {amount}")))
    }
}

/// The challenge page's address for one payment.
fn challenge(page: &str, reference: &str, amount: Money) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("reference", reference)
        .append_pair("amount", &amount.amount.to_string())
        .append_pair("currency", amount.currency.code())
        .finish();
    let sep = if page.contains('?') { '&' } else { '?' };
    format!("{page}{sep}{query}")
}

fn succeeded(reference: &str) -> PaymentResult {
    PaymentResult {
        status: PaymentStatus::Succeeded,
        provider_reference: reference.to_owned(),
        message: None,
    }
}

mercato_sdk::export_payment!(TestGateway);

#[cfg(test)]
mod tests {
    use mercato_sdk::Currency;

    use super::*;

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::USD)
    }

    fn create(token: Option<&str>, key: &str, capture: bool) -> Result<PaymentResult, PluginError> {
        let request = PaymentRequest {
            amount: usd(1999),
            order_reference: "1001".into(),
            payment_method_token: token.map(str::to_owned),
            idempotency_key: key.into(),
            capture,
            email: None,
        };
        TestGateway::create_payment(&Config::default(), &request)
    }

    fn capture(reference: &str, amount: i64) -> Result<PaymentResult, PluginError> {
        let request = CaptureRequest {
            provider_reference: reference.into(),
            amount: usd(amount),
            idempotency_key: "cap-1".into(),
        };
        TestGateway::capture(&Config::default(), &request)
    }

    fn refund(reference: &str, amount: i64) -> Result<PaymentResult, PluginError> {
        let request = RefundRequest {
            provider_reference: reference.into(),
            amount: usd(amount),
            idempotency_key: "ref-1".into(),
            reason: Some("damaged".into()),
        };
        TestGateway::refund(&Config::default(), &request)
    }

    fn webhook(
        secret: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<PaymentEvent, PluginError> {
        // Without a secret, these tests accept unsigned webhooks explicitly.
        let config = Config {
            webhook_secret: secret.map(str::to_owned),
            accept_unsigned_webhooks: secret.is_none(),
            challenge_url: None,
        };
        let hook = Webhook {
            headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        };
        TestGateway::parse_webhook(&config, &hook)
    }

    fn code<T: std::fmt::Debug>(result: Result<T, PluginError>) -> String {
        result.expect_err("expected an error").code
    }

    const BODY: &str = r#"{"reference":"tg_k1","status":"succeeded"}"#;

    #[test]
    fn visa_succeeds_when_capturing_and_when_authorizing() {
        for capture in [true, false] {
            let result = create(Some(TOKEN_VISA), "k1", capture).unwrap();
            assert_eq!(result.status, PaymentStatus::Succeeded);
            assert_eq!(result.provider_reference, "tg_k1");
        }
    }

    #[test]
    fn declined_token_fails_with_the_card_message() {
        let result = create(Some(TOKEN_DECLINED), "k1", true).unwrap();
        assert_eq!(result.status, PaymentStatus::Failed(DECLINE_REASON.into()));
        assert_eq!(result.provider_reference, "tg_k1");
    }

    #[test]
    fn three_d_secure_requires_action_with_a_secret_from_the_key() {
        let result = create(Some(TOKEN_THREE_D_SECURE), "k1", true).unwrap();
        let action = NextAction { client_secret: Some("tg_k1_secret".into()), redirect_url: None };
        assert_eq!(result.status, PaymentStatus::RequiresAction(action));
    }

    #[test]
    fn three_d_secure_sends_the_buyer_to_the_configured_challenge_page() {
        let config =
            Config { challenge_url: Some("http://127.0.0.1:9/challenge/m1".into()), ..Config::default() };
        let request = PaymentRequest {
            amount: usd(1999),
            order_reference: "1001".into(),
            payment_method_token: Some(TOKEN_THREE_D_SECURE.into()),
            idempotency_key: "k 1&x".into(),
            capture: true,
            email: None,
        };
        let result = TestGateway::create_payment(&config, &request).unwrap();
        let PaymentStatus::RequiresAction(action) = result.status else { panic!("{:?}", result.status) };
        assert_eq!(
            action.redirect_url.as_deref(),
            Some("http://127.0.0.1:9/challenge/m1?reference=tg_k+1%26x&amount=1999&currency=USD")
        );
    }

    #[test]
    fn unknown_or_missing_token_is_invalid_token() {
        assert_eq!(code(create(Some("tok_mastercard"), "k1", true)), "invalid_token");
        assert_eq!(code(create(None, "k1", true)), "invalid_token");
    }

    #[test]
    fn retries_with_the_same_key_get_the_same_reference() {
        for token in [TOKEN_VISA, TOKEN_DECLINED, TOKEN_THREE_D_SECURE] {
            assert_eq!(create(Some(token), "k1", true), create(Some(token), "k1", true));
        }
        let first = create(Some(TOKEN_VISA), "k1", true).unwrap();
        let other = create(Some(TOKEN_VISA), "k2", true).unwrap();
        assert_ne!(first.provider_reference, other.provider_reference);
    }

    #[test]
    fn empty_key_and_non_positive_amount_are_rejected() {
        assert_eq!(code(create(Some(TOKEN_VISA), "", true)), "invalid_input");
        let request = PaymentRequest {
            amount: usd(0),
            order_reference: "1001".into(),
            payment_method_token: Some(TOKEN_VISA.into()),
            idempotency_key: "k1".into(),
            capture: true,
            email: None,
        };
        assert_eq!(code(TestGateway::create_payment(&Config::default(), &request)), "invalid_amount");
    }

    #[test]
    fn capture_needs_a_test_gateway_reference_and_a_positive_amount() {
        assert_eq!(capture("tg_k1", 1999).unwrap(), succeeded("tg_k1"));
        assert_eq!(code(capture("ch_123", 1999)), "invalid_reference");
        assert_eq!(code(capture("tg_", 1999)), "invalid_reference");
        assert_eq!(code(capture("tg_k1", 0)), "invalid_amount");
    }

    #[test]
    fn refund_validates_amount_and_reference() {
        assert_eq!(refund("tg_k1", 500).unwrap(), succeeded("tg_k1"));
        assert_eq!(code(refund("tg_k1", 0)), "invalid_amount");
        assert_eq!(code(refund("tg_k1", -500)), "invalid_amount");
        assert_eq!(code(refund("manual_1001", 500)), "invalid_reference");
    }

    #[test]
    fn void_needs_a_test_gateway_reference() {
        let void = |reference: &str| {
            let request =
                VoidRequest { provider_reference: reference.into(), idempotency_key: "void-1".into() };
            TestGateway::void(&Config::default(), &request)
        };
        assert_eq!(void("tg_k1").unwrap(), succeeded("tg_k1"));
        assert_eq!(code(void("")), "invalid_reference");
    }

    #[test]
    fn unsigned_webhooks_are_refused_unless_accepted_explicitly() {
        let hook = Webhook { headers: vec![], body: BODY.as_bytes().to_vec() };
        let refused = TestGateway::parse_webhook(&Config::default(), &hook);
        assert_eq!(code(refused), "invalid_signature");
        let config: Config = mercato_sdk::parse_config(r#"{"accept_unsigned_webhooks": true}"#).unwrap();
        assert!(TestGateway::parse_webhook(&config, &hook).is_ok());
    }

    #[test]
    fn webhook_accepted_unsigned_needs_no_signature() {
        let body = r#"{"reference":"tg_k1","status":"succeeded","amount":{"amount":1999,"currency":"USD"}}"#;
        let event = webhook(None, &[], body).unwrap();
        assert_eq!(
            event,
            PaymentEvent {
                provider_reference: "tg_k1".into(),
                status: PaymentStatus::Succeeded,
                amount: Some(usd(1999)),
            }
        );
    }

    #[test]
    fn webhook_maps_failed_and_pending() {
        let failed =
            webhook(None, &[], r#"{"reference":"tg_k1","status":"failed","reason":"insufficient_funds"}"#);
        assert_eq!(failed.unwrap().status, PaymentStatus::Failed("insufficient_funds".into()));
        let failed = webhook(None, &[], r#"{"reference":"tg_k1","status":"failed"}"#);
        assert!(matches!(failed.unwrap().status, PaymentStatus::Failed(_)));
        let pending = webhook(None, &[], r#"{"reference":"tg_k1","status":"pending"}"#);
        assert_eq!(pending.unwrap().status, PaymentStatus::Pending);
    }

    #[test]
    fn webhook_with_the_right_signature_is_accepted_whatever_the_header_case() {
        let signature = sign("s3cret", BODY.as_bytes());
        assert!(webhook(Some("s3cret"), &[(SIGNATURE_HEADER, &signature)], BODY).is_ok());
        assert!(webhook(Some("s3cret"), &[("X-Test-Signature", &signature)], BODY).is_ok());
    }

    #[test]
    fn webhook_with_a_wrong_or_missing_signature_is_rejected() {
        assert_eq!(code(webhook(Some("s3cret"), &[(SIGNATURE_HEADER, "guess")], BODY)), "invalid_signature");
        // The secret itself is not a signature, nor is another body's.
        assert_eq!(code(webhook(Some("s3cret"), &[(SIGNATURE_HEADER, "s3cret")], BODY)), "invalid_signature");
        let other = sign("s3cret", b"{}");
        assert_eq!(code(webhook(Some("s3cret"), &[(SIGNATURE_HEADER, &other)], BODY)), "invalid_signature");
        assert_eq!(
            code(webhook(Some("s3cret"), &[("content-type", "application/json")], BODY)),
            "invalid_signature"
        );
        assert_eq!(code(webhook(Some(""), &[(SIGNATURE_HEADER, "")], BODY)), "invalid_config");
    }

    #[test]
    fn malformed_webhooks_are_rejected() {
        assert_eq!(code(webhook(None, &[], "not json")), "invalid_webhook");
        assert_eq!(
            code(webhook(None, &[], r#"{"reference":"tg_k1","status":"refunded"}"#)),
            "invalid_webhook"
        );
        assert_eq!(
            code(webhook(None, &[], r#"{"reference":"pi_1","status":"succeeded"}"#)),
            "invalid_reference"
        );
    }

    #[test]
    fn config_is_optional_but_strict() {
        let config: Config = mercato_sdk::parse_config("{}").unwrap();
        assert_eq!(config.webhook_secret, None);
        let config: Config = mercato_sdk::parse_config("").unwrap();
        assert_eq!(config.webhook_secret, None);
        let typo = mercato_sdk::parse_config::<Config>(r#"{"webhook_secert":"x"}"#);
        assert_eq!(typo.unwrap_err().code, "invalid_config");
    }

    #[test]
    fn config_schema_is_json() {
        let schema: serde_json::Value = serde_json::from_str(TestGateway::CONFIG_SCHEMA).unwrap();
        assert_eq!(schema["type"], "object");
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::payment::<TestGateway>,
        );
    }
}
