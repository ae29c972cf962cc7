//! Takes payments through a small REST payment API over HTTP.
//!
//! The plugin reaches the API with `wasi:http`, so the operator must allow
//! the host of `base_url` for the plugin; until then every call fails with
//! `network_denied`. Configuration:
//! `{"base_url": "https://psp.example", "api_key": "sk_live_…"}`.
//!
//! # The REST payment API
//!
//! Every request is a `POST` with these headers:
//!
//! ```text
//! Authorization: Bearer {api_key}
//! Idempotency-Key: {the idempotency key the host gave for the call}
//! Content-Type: application/json
//! ```
//!
//! The same key must give the same answer and move money at most once.
//! Amounts are integers in minor units (`1999` is 19.99 USD).
//!
//! | call           | request                                          | body                                                                                           | answer         |
//! |----------------|--------------------------------------------------|------------------------------------------------------------------------------------------------|----------------|
//! | create-payment | `POST {base_url}/v1/payments`                    | `{"amount": 1999, "currency": "USD", "reference": "1001", "token": "tok_…", "capture": true, "email": "a@b.example"}` (`token`, `email`: string or `null`) | payment object |
//! | capture        | `POST {base_url}/v1/payments/{id}/capture`       | `{"amount": 1999, "currency": "USD"}`                                                          | payment object |
//! | refund         | `POST {base_url}/v1/payments/{id}/refunds`       | `{"amount": 500, "currency": "USD", "reason": "damaged"}` (`reason`: string or `null`)         | refund object  |
//! | void           | `POST {base_url}/v1/payments/{id}/void`          | `{}`                                                                                           | payment object |
//!
//! A successful answer is `200` (any 2xx) with a JSON object; fields not
//! listed here are ignored:
//!
//! - payment object: `{"id": "pi_…", "status": "succeeded" | "pending" |
//!   "requires_action" | "failed", "failure_reason": string | null,
//!   "redirect_url": string | null, "client_secret": string | null}`.
//!   `requires_action` needs a `client_secret` or a `redirect_url` (or both).
//!   For capture and void the status is the outcome of the operation.
//! - refund object: `{"id": "re_…", "status": "succeeded" | "failed",
//!   "failure_reason": string | null}`.
//!
//! Any other status is a refusal, with the body
//! `{"error": {"code": "card_declined", "message": "Your card was declined."}}`.
//!
//! # What the plugin answers
//!
//! | API answer                                   | plugin answer                                                        |
//! |----------------------------------------------|----------------------------------------------------------------------|
//! | payment `succeeded`                          | `succeeded`, reference `id`                                          |
//! | payment `pending` (authorized, not captured) | `pending`, reference `id`                                            |
//! | payment `requires_action`                    | `requires_action` with the `client_secret` and `redirect_url`        |
//! | payment or refund `failed`                   | `failed(failure_reason)` (`"The payment failed."` without a reason)  |
//! | refund `succeeded`                           | `succeeded`, reference the refund's `id`                             |
//! | create-payment: `402` with an error body     | a decline: `failed(message)`, reference the idempotency key (a declined payment has no id) |
//! | `5xx`, or a `2xx` the plugin cannot use      | error `outcome_unknown`: the API may have acted (the host asks again with the same key) |
//! | any other non-2xx (3xx included: redirects are not followed) | error `provider_error`: the API did nothing       |
//! | the host refused the destination             | error `network_denied`, naming the host                              |
//! | timeout, connection failure, too large       | error `outcome_unknown`                                              |
//!
//! Checked before any request: `invalid_input` (an empty idempotency key or
//! one with spaces or control characters), `invalid_amount` (not positive),
//! `invalid_reference` (a payment id that is not letters, digits, `_` and `-`:
//! it goes into the URL path). Webhooks are not supported.

use std::fmt;

use mercato_sdk::payment::{
    CaptureRequest, NextAction, Payment, PaymentRequest, PaymentResult, PaymentStatus, RefundRequest,
    VoidRequest,
};
use mercato_sdk::{Money, Plugin, PluginError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The reason of a `failed` payment or refund that gave none.
pub const DEFAULT_FAILURE: &str = "The payment failed.";

/// Merchant configuration.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct Config {
    /// `http://` or `https://` host, optional port and path prefix; kept
    /// without a trailing slash.
    pub base_url: String,
    /// Sent as `Authorization: Bearer {api_key}`.
    pub api_key: String,
}

/// The configuration as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    base_url: String,
    api_key: String,
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Config, String> {
        let url = raw.base_url.as_str();
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            ("https://", rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http://", rest)
        } else {
            return Err(format!("base_url must start with http:// or https://, got {url:?}"));
        };
        let rest = rest.trim_end_matches('/');
        if rest.split('/').next().unwrap_or_default().is_empty() {
            return Err(format!("base_url names no host: {url:?}"));
        }
        if rest.contains(['?', '#', '@']) || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "base_url must be scheme://host[:port][/path], without a query, fragment, credentials or \
                 spaces: {url:?}"
            ));
        }
        if raw.api_key.is_empty() {
            return Err("api_key must not be empty".into());
        }
        if raw.api_key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("api_key must not contain spaces or control characters".into());
        }
        Ok(Config { base_url: format!("{scheme}{rest}"), api_key: raw.api_key })
    }
}

/// The key stays out of logs and panic messages.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config").field("base_url", &self.base_url).field("api_key", &"<redacted>").finish()
    }
}

impl Config {
    /// The request for `path` (which starts with `/`).
    fn post(&self, path: &str, idempotency_key: &str, body: Value) -> Post {
        Post {
            url: format!("{}{path}", self.base_url),
            headers: vec![
                ("Authorization".into(), format!("Bearer {}", self.api_key)),
                ("Idempotency-Key".into(), idempotency_key.into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            body,
        }
    }
}

/// One request to the API, as the plugin builds it.
#[derive(Clone, PartialEq, Debug)]
pub struct Post {
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
}

/// The API's answer, whatever its status.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The raw body.
    pub body: Vec<u8>,
}

/// The plugin.
pub struct HttpGateway;

impl Plugin for HttpGateway {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "HTTP gateway",
  "type": "object",
  "required": ["base_url", "api_key"],
  "additionalProperties": false,
  "properties": {
    "base_url": {
      "type": "string",
      "pattern": "^https?://[^\\s/?#@]+(/[^\\s?#@]*)?$",
      "description": "Where the payment API is, e.g. https://psp.example; the operator must allow its host for this plugin"
    },
    "api_key": {
      "type": "string",
      "minLength": 1,
      "pattern": "^\\S+$",
      "description": "Sent as Authorization: Bearer <api_key>"
    }
  }
}"#;
}

impl Payment for HttpGateway {
    fn create_payment(config: &Config, request: &PaymentRequest) -> Result<PaymentResult, PluginError> {
        create_payment(config, request, send)
    }

    fn capture(config: &Config, request: &CaptureRequest) -> Result<PaymentResult, PluginError> {
        capture(config, request, send)
    }

    fn refund(config: &Config, request: &RefundRequest) -> Result<PaymentResult, PluginError> {
        refund(config, request, send)
    }

    fn void(config: &Config, request: &VoidRequest) -> Result<PaymentResult, PluginError> {
        void(config, request, send)
    }
}

/// Sends a request through the host (`wasi:http`).
#[cfg(target_arch = "wasm32")]
fn send(post: Post) -> Result<Answer, PluginError> {
    use mercato_sdk::http_client::{self, Method, Request};
    let request = Request {
        method: Method::Post,
        url: post.url,
        headers: post.headers,
        body: post.body.to_string().into(),
    };
    let response = http_client::send(&request).map_err(|e| {
        let e = PluginError::from(e);
        PluginError::new(e.code, format!("POST {}: {}", request.url, e.message))
    })?;
    Ok(Answer { status: response.status, body: response.body })
}

/// Natively (in tests) there is no network.
#[cfg(not(target_arch = "wasm32"))]
fn send(post: Post) -> Result<Answer, PluginError> {
    Err(PluginError::unsupported(format!(
        "POST {}: the plugin reaches the payment API through wasi:http, only inside the sandbox",
        post.url
    )))
}

fn create_payment(
    config: &Config,
    request: &PaymentRequest,
    send: impl FnOnce(Post) -> Result<Answer, PluginError>,
) -> Result<PaymentResult, PluginError> {
    require_key(&request.idempotency_key)?;
    require_positive(request.amount)?;
    let body = json!({
        "amount": request.amount.amount,
        "currency": request.amount.currency.code(),
        "reference": request.order_reference,
        "token": request.payment_method_token,
        "capture": request.capture,
        "email": request.email,
    });
    let answer = send(config.post("/v1/payments", &request.idempotency_key, body))?;
    create_result(&answer, &request.idempotency_key)
}

fn capture(
    config: &Config,
    request: &CaptureRequest,
    send: impl FnOnce(Post) -> Result<Answer, PluginError>,
) -> Result<PaymentResult, PluginError> {
    require_reference(&request.provider_reference)?;
    require_key(&request.idempotency_key)?;
    require_positive(request.amount)?;
    let path = format!("/v1/payments/{}/capture", request.provider_reference);
    let body = json!({"amount": request.amount.amount, "currency": request.amount.currency.code()});
    payment_result(&send(config.post(&path, &request.idempotency_key, body))?)
}

fn refund(
    config: &Config,
    request: &RefundRequest,
    send: impl FnOnce(Post) -> Result<Answer, PluginError>,
) -> Result<PaymentResult, PluginError> {
    require_reference(&request.provider_reference)?;
    require_key(&request.idempotency_key)?;
    require_positive(request.amount)?;
    let path = format!("/v1/payments/{}/refunds", request.provider_reference);
    let body = json!({
        "amount": request.amount.amount,
        "currency": request.amount.currency.code(),
        "reason": request.reason,
    });
    refund_result(&send(config.post(&path, &request.idempotency_key, body))?)
}

fn void(
    config: &Config,
    request: &VoidRequest,
    send: impl FnOnce(Post) -> Result<Answer, PluginError>,
) -> Result<PaymentResult, PluginError> {
    require_reference(&request.provider_reference)?;
    require_key(&request.idempotency_key)?;
    let path = format!("/v1/payments/{}/void", request.provider_reference);
    payment_result(&send(config.post(&path, &request.idempotency_key, json!({})))?)
}

/// A payment object as the API sends it.
#[derive(Deserialize)]
struct ApiPayment {
    id: String,
    status: ApiPaymentStatus,
    #[serde(default)]
    failure_reason: Option<String>,
    #[serde(default)]
    redirect_url: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ApiPaymentStatus {
    Succeeded,
    Pending,
    RequiresAction,
    Failed,
}

/// A refund object as the API sends it.
#[derive(Deserialize)]
struct ApiRefund {
    id: String,
    status: ApiRefundStatus,
    #[serde(default)]
    failure_reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ApiRefundStatus {
    Succeeded,
    Failed,
}

/// The body of a refusal.
#[derive(Deserialize)]
struct ApiErrorBody {
    error: ApiError,
}

#[derive(Deserialize)]
struct ApiError {
    code: String,
    #[serde(default)]
    message: String,
}

/// The answer to create-payment: a payment, or a decline (402 with an error).
fn create_result(answer: &Answer, idempotency_key: &str) -> Result<PaymentResult, PluginError> {
    if answer.status == 402
        && let Some(error) = api_error(answer)
    {
        let reason = if error.message.trim().is_empty() { error.code } else { error.message };
        // A declined payment has no id: the key names the attempt.
        return Ok(PaymentResult {
            status: PaymentStatus::Failed(reason),
            provider_reference: idempotency_key.to_owned(),
            message: None,
        });
    }
    payment_result(answer)
}

/// The answer to create-payment, capture or void: a payment object.
fn payment_result(answer: &Answer) -> Result<PaymentResult, PluginError> {
    let payment: ApiPayment = success(answer, "a payment object")?;
    let status = match payment.status {
        ApiPaymentStatus::Succeeded => PaymentStatus::Succeeded,
        ApiPaymentStatus::Pending => PaymentStatus::Pending,
        ApiPaymentStatus::RequiresAction => {
            if payment.client_secret.is_none() && payment.redirect_url.is_none() {
                return Err(unusable(format!(
                    "payment {} requires action but has neither a client_secret nor a redirect_url",
                    payment.id
                )));
            }
            PaymentStatus::RequiresAction(NextAction {
                client_secret: payment.client_secret,
                redirect_url: payment.redirect_url,
            })
        }
        ApiPaymentStatus::Failed => PaymentStatus::Failed(failure(payment.failure_reason)),
    };
    Ok(PaymentResult { status, provider_reference: require_id(payment.id)?, message: None })
}

/// The answer to refund: a refund object.
fn refund_result(answer: &Answer) -> Result<PaymentResult, PluginError> {
    let refund: ApiRefund = success(answer, "a refund object")?;
    let status = match refund.status {
        ApiRefundStatus::Succeeded => PaymentStatus::Succeeded,
        ApiRefundStatus::Failed => PaymentStatus::Failed(failure(refund.failure_reason)),
    };
    Ok(PaymentResult { status, provider_reference: require_id(refund.id)?, message: None })
}

/// The body of a 2xx answer. A 4xx (or a 3xx) is a `provider_error`: the
/// API did nothing. A 5xx, or a 2xx whose body is not what was asked, is
/// `outcome_unknown`: the API may have acted.
fn success<T: DeserializeOwned>(answer: &Answer, what: &str) -> Result<T, PluginError> {
    let status = answer.status;
    if !(200..300).contains(&status) {
        let why = match api_error(answer) {
            Some(e) => format!("{}: {}", e.code, e.message),
            None if (300..400).contains(&status) => "a redirect, which is not followed".to_owned(),
            None => snippet(&answer.body),
        };
        let message = format!("the payment API answered {status}: {why}");
        if status >= 500 {
            return Err(PluginError::outcome_unknown(message));
        }
        return Err(provider_error(message));
    }
    serde_json::from_slice(&answer.body).map_err(|e| {
        unusable(format!(
            "the payment API answered {status} with a body that is not {what} ({e}): {}",
            snippet(&answer.body)
        ))
    })
}

fn api_error(answer: &Answer) -> Option<ApiError> {
    serde_json::from_slice::<ApiErrorBody>(&answer.body).ok().map(|b| b.error)
}

/// The start of a body, for error messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "an empty body".into();
    }
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn failure(reason: Option<String>) -> String {
    reason.filter(|r| !r.trim().is_empty()).unwrap_or_else(|| DEFAULT_FAILURE.into())
}

fn provider_error(message: String) -> PluginError {
    PluginError::new("provider_error", message)
}

/// A 2xx the plugin cannot use: the API accepted the request, so it may
/// have acted; the host asks again later with the same idempotency key.
fn unusable(message: String) -> PluginError {
    PluginError::outcome_unknown(message)
}

fn require_id(id: String) -> Result<String, PluginError> {
    if id.trim().is_empty() || id.len() > 255 {
        return Err(unusable(format!("the payment API answered an unusable id {id:?}")));
    }
    Ok(id)
}

/// A payment id goes into the URL path: nothing that could change the path.
fn require_reference(reference: &str) -> Result<(), PluginError> {
    let valid = !reference.is_empty()
        && reference.len() <= 255
        && reference.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(PluginError::new(
            "invalid_reference",
            format!("{reference:?} is not a payment id of this API (letters, digits, '_' and '-')"),
        ))
    }
}

fn require_key(key: &str) -> Result<(), PluginError> {
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PluginError::new(
            "invalid_input",
            format!("the idempotency key {key:?} must be non-empty, without spaces or control characters"),
        ));
    }
    Ok(())
}

fn require_positive(amount: Money) -> Result<(), PluginError> {
    if amount.amount > 0 {
        Ok(())
    } else {
        Err(PluginError::new("invalid_amount", format!("the amount must be positive, got {amount}")))
    }
}

mercato_sdk::export_payment!(HttpGateway);

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use mercato_sdk::Currency;
    use mercato_sdk::payment::Webhook;

    use super::*;

    fn config() -> Config {
        mercato_sdk::parse_config(r#"{"base_url": "https://psp.example/", "api_key": "sk_test_1"}"#).unwrap()
    }

    fn usd(amount: i64) -> Money {
        Money::new(amount, Currency::USD)
    }

    fn answer(status: u16, body: Value) -> Answer {
        Answer { status, body: body.to_string().into_bytes() }
    }

    fn payment(status: &str) -> Value {
        json!({"id": "pi_1", "status": status, "failure_reason": null, "redirect_url": null, "client_secret": null})
    }

    fn declined() -> Value {
        json!({"error": {"code": "card_declined", "message": "Your card was declined."}})
    }

    fn create_request(token: Option<&str>) -> PaymentRequest {
        PaymentRequest {
            amount: usd(1999),
            order_reference: "1001".into(),
            payment_method_token: token.map(str::to_owned),
            idempotency_key: "att_1".into(),
            capture: true,
            email: None,
        }
    }

    /// Runs `call` with a transport that records the request and answers `reply`.
    fn exchange<T>(
        reply: Answer,
        call: impl FnOnce(&dyn Fn(Post) -> Result<Answer, PluginError>) -> T,
    ) -> (T, Post) {
        let sent = RefCell::new(None);
        let transport = |post: Post| {
            *sent.borrow_mut() = Some(post);
            Ok(reply.clone())
        };
        let out = call(&transport);
        (out, sent.into_inner().expect("a request was sent"))
    }

    fn no_network(post: Post) -> Result<Answer, PluginError> {
        panic!("no request expected, got {post:?}")
    }

    fn code<T: fmt::Debug>(result: Result<T, PluginError>) -> String {
        result.expect_err("expected an error").code
    }

    fn header<'a>(post: &'a Post, name: &str) -> &'a str {
        post.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap()
    }

    #[test]
    fn config_is_checked_and_the_trailing_slash_dropped() {
        let config = config();
        assert_eq!(config.base_url, "https://psp.example");
        assert_eq!(config.api_key, "sk_test_1");
        let config: Config =
            mercato_sdk::parse_config(r#"{"base_url": "http://127.0.0.1:8080/psp//", "api_key": "k"}"#)
                .unwrap();
        assert_eq!(config.base_url, "http://127.0.0.1:8080/psp");
    }

    #[test]
    fn bad_configs_are_invalid_config() {
        for bad in [
            "{}",
            "",
            r#"{"base_url": "https://psp.example"}"#,
            r#"{"api_key": "k"}"#,
            r#"{"base_url": "ftp://psp.example", "api_key": "k"}"#,
            r#"{"base_url": "psp.example", "api_key": "k"}"#,
            r#"{"base_url": "HTTPS://psp.example", "api_key": "k"}"#,
            r#"{"base_url": "https://", "api_key": "k"}"#,
            r#"{"base_url": "https:///v1", "api_key": "k"}"#,
            r#"{"base_url": "https://psp.example/?x=1", "api_key": "k"}"#,
            r#"{"base_url": "https://user:pw@psp.example", "api_key": "k"}"#,
            r#"{"base_url": "https://psp .example", "api_key": "k"}"#,
            r#"{"base_url": "https://psp.example", "api_key": ""}"#,
            r#"{"base_url": "https://psp.example", "api_key": "sk 1"}"#,
            r#"{"base_url": "https://psp.example", "api_key": "sk_1\n"}"#,
            r#"{"base_url": "https://psp.example", "api_key": "k", "webhook_secret": "x"}"#,
        ] {
            let result = mercato_sdk::parse_config::<Config>(bad);
            assert_eq!(code(result), "invalid_config", "{bad}");
        }
        let error = mercato_sdk::parse_config::<Config>(r#"{"base_url": "ftp://x", "api_key": "k"}"#);
        assert!(error.unwrap_err().message.contains("http:// or https://"));
    }

    #[test]
    fn the_api_key_is_not_in_debug_output() {
        let debug = format!("{:?}", config());
        assert!(debug.contains("https://psp.example") && !debug.contains("sk_test_1"), "{debug}");
    }

    #[test]
    fn config_schema_is_json_and_requires_both_fields() {
        let schema: Value = serde_json::from_str(HttpGateway::CONFIG_SCHEMA).unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["base_url", "api_key"]));
        assert_eq!(schema["additionalProperties"], false);
    }

    #[test]
    fn create_posts_the_documented_request() {
        let (result, post) = exchange(answer(200, payment("succeeded")), |send| {
            create_payment(&config(), &create_request(Some("tok_visa")), send)
        });
        assert_eq!(post.url, "https://psp.example/v1/payments");
        assert_eq!(header(&post, "authorization"), "Bearer sk_test_1");
        assert_eq!(header(&post, "idempotency-key"), "att_1");
        assert_eq!(header(&post, "content-type"), "application/json");
        assert_eq!(
            post.body,
            json!({"amount": 1999, "currency": "USD", "reference": "1001", "token": "tok_visa",
                   "capture": true, "email": null})
        );
        let result = result.unwrap();
        assert_eq!(result.status, PaymentStatus::Succeeded);
        assert_eq!(result.provider_reference, "pi_1");
        assert_eq!(result.message, None);
    }

    #[test]
    fn create_sends_null_for_a_missing_token_and_the_email_when_known() {
        let mut request = create_request(None);
        request.capture = false;
        request.email = Some("buyer@example.com".into());
        let (_, post) =
            exchange(answer(200, payment("pending")), |send| create_payment(&config(), &request, send));
        assert_eq!(post.body["token"], Value::Null);
        assert_eq!(post.body["capture"], false);
        assert_eq!(post.body["email"], "buyer@example.com");
    }

    #[test]
    fn payment_statuses_map_to_the_sdk() {
        let status = |body: Value| payment_result(&answer(200, body)).map(|r| r.status);
        assert_eq!(status(payment("succeeded")).unwrap(), PaymentStatus::Succeeded);
        assert_eq!(status(payment("pending")).unwrap(), PaymentStatus::Pending);
        let failed = json!({"id": "pi_1", "status": "failed", "failure_reason": "insufficient_funds"});
        assert_eq!(status(failed).unwrap(), PaymentStatus::Failed("insufficient_funds".into()));
        let failed = json!({"id": "pi_1", "status": "failed"});
        assert_eq!(status(failed).unwrap(), PaymentStatus::Failed(DEFAULT_FAILURE.into()));
        let action = json!({"id": "pi_1", "status": "requires_action", "client_secret": "pi_1_secret",
                            "redirect_url": "https://psp.example/3ds/pi_1", "extra": [1, 2]});
        assert_eq!(
            status(action).unwrap(),
            PaymentStatus::RequiresAction(NextAction {
                client_secret: Some("pi_1_secret".into()),
                redirect_url: Some("https://psp.example/3ds/pi_1".into()),
            })
        );
        let only_redirect = json!({"id": "pi_1", "status": "requires_action", "redirect_url": "https://x"});
        assert!(matches!(status(only_redirect).unwrap(), PaymentStatus::RequiresAction(_)));
    }

    #[test]
    fn a_402_with_an_error_is_a_decline_named_by_the_key() {
        let (result, _) = exchange(answer(402, declined()), |send| {
            create_payment(&config(), &create_request(Some("tok_decline")), send)
        });
        let result = result.unwrap();
        assert_eq!(result.status, PaymentStatus::Failed("Your card was declined.".into()));
        assert_eq!(result.provider_reference, "att_1");
        let no_message = json!({"error": {"code": "card_declined"}});
        let result = create_result(&answer(402, no_message), "att_1").unwrap();
        assert_eq!(result.status, PaymentStatus::Failed("card_declined".into()));
    }

    #[test]
    fn other_refusals_are_provider_errors_and_unusable_successes_unknown() {
        let unauthorized = json!({"error": {"code": "unauthorized", "message": "Invalid API key."}});
        let error = create_result(&answer(401, unauthorized), "att_1").unwrap_err();
        assert_eq!(error.code, "provider_error");
        assert!(error.message.contains("401") && error.message.contains("Invalid API key."), "{error}");
        let refused = [
            Answer { status: 402, body: b"payment required".to_vec() },
            Answer { status: 302, body: Vec::new() },
        ];
        for case in refused {
            let error = create_result(&case, "att_1").unwrap_err();
            assert_eq!(error.code, "provider_error", "{case:?}");
        }
        // The API accepted these, so it may have charged: the host asks again.
        let unusable = [
            Answer { status: 200, body: b"<html>".to_vec() },
            answer(200, json!({"id": "pi_1", "status": "refunded"})),
            answer(200, json!({"id": "", "status": "succeeded"})),
            answer(200, json!({"id": "pi_1", "status": "requires_action"})),
        ];
        for case in unusable {
            let error = create_result(&case, "att_1").unwrap_err();
            assert_eq!(error.code, mercato_sdk::OUTCOME_UNKNOWN, "{case:?}");
        }
        let redirect = create_result(&Answer { status: 302, body: Vec::new() }, "att_1").unwrap_err();
        assert!(redirect.message.contains("redirect"), "{redirect}");
        // Only create-payment reads a 402 as a decline.
        assert_eq!(code(payment_result(&answer(402, declined()))), "provider_error");
        assert_eq!(code(refund_result(&answer(402, declined()))), "provider_error");
    }

    #[test]
    fn a_server_error_leaves_the_outcome_unknown() {
        // The API may have charged before it failed: the host asks again with the same key.
        for status in [500, 502, 503] {
            let error =
                create_result(&Answer { status, body: b"upstream exploded".to_vec() }, "att_1").unwrap_err();
            assert_eq!(error.code, mercato_sdk::OUTCOME_UNKNOWN, "{status}");
        }
    }

    #[test]
    fn long_bodies_are_cut_in_error_messages() {
        let error = payment_result(&Answer { status: 503, body: vec![b'x'; 10_000] }).unwrap_err();
        assert!(error.message.len() < 300, "{}", error.message.len());
    }

    #[test]
    fn capture_posts_amount_and_currency_to_the_payment() {
        let request = CaptureRequest {
            provider_reference: "pi_1".into(),
            amount: usd(1500),
            idempotency_key: "cap_1".into(),
        };
        let (result, post) =
            exchange(answer(200, payment("succeeded")), |send| capture(&config(), &request, send));
        assert_eq!(post.url, "https://psp.example/v1/payments/pi_1/capture");
        assert_eq!(header(&post, "idempotency-key"), "cap_1");
        assert_eq!(post.body, json!({"amount": 1500, "currency": "USD"}));
        assert_eq!(result.unwrap().status, PaymentStatus::Succeeded);
    }

    #[test]
    fn refund_posts_the_reason_and_answers_the_refund() {
        let request = RefundRequest {
            provider_reference: "pi_1".into(),
            amount: usd(500),
            idempotency_key: "ref_1".into(),
            reason: Some("damaged".into()),
        };
        let refunded = json!({"id": "re_1", "status": "succeeded", "failure_reason": null});
        let (result, post) = exchange(answer(200, refunded), |send| refund(&config(), &request, send));
        assert_eq!(post.url, "https://psp.example/v1/payments/pi_1/refunds");
        assert_eq!(header(&post, "authorization"), "Bearer sk_test_1");
        assert_eq!(header(&post, "idempotency-key"), "ref_1");
        assert_eq!(post.body, json!({"amount": 500, "currency": "USD", "reason": "damaged"}));
        let result = result.unwrap();
        assert_eq!((result.status, result.provider_reference.as_str()), (PaymentStatus::Succeeded, "re_1"));

        let failed = json!({"id": "re_2", "status": "failed", "failure_reason": "charge_disputed"});
        let result = refund_result(&answer(200, failed)).unwrap();
        assert_eq!(result.status, PaymentStatus::Failed("charge_disputed".into()));
        let too_much =
            json!({"error": {"code": "amount_too_large", "message": "Refunds exceed the capture."}});
        assert_eq!(code(refund_result(&answer(400, too_much))), "provider_error");
    }

    #[test]
    fn void_posts_an_empty_object() {
        let request = VoidRequest { provider_reference: "pi_1".into(), idempotency_key: "void_1".into() };
        let (result, post) =
            exchange(answer(200, payment("succeeded")), |send| void(&config(), &request, send));
        assert_eq!(post.url, "https://psp.example/v1/payments/pi_1/void");
        assert_eq!(header(&post, "idempotency-key"), "void_1");
        assert_eq!(post.body, json!({}));
        assert_eq!(result.unwrap().provider_reference, "pi_1");
    }

    #[test]
    fn inputs_are_checked_before_any_request() {
        let c = config();
        let mut request = create_request(Some("tok_visa"));
        request.idempotency_key = String::new();
        assert_eq!(code(create_payment(&c, &request, no_network)), "invalid_input");
        request.idempotency_key = "att 1".into();
        assert_eq!(code(create_payment(&c, &request, no_network)), "invalid_input");
        let mut request = create_request(Some("tok_visa"));
        request.amount = usd(0);
        assert_eq!(code(create_payment(&c, &request, no_network)), "invalid_amount");

        for reference in ["", "pi_1/../../admin", "pi_1?x=1", "pi 1", "pi_1#"] {
            let request = VoidRequest { provider_reference: reference.into(), idempotency_key: "v".into() };
            assert_eq!(code(void(&c, &request, no_network)), "invalid_reference", "{reference:?}");
        }
        let request = CaptureRequest {
            provider_reference: "pi_1".into(),
            amount: usd(-1),
            idempotency_key: "c".into(),
        };
        assert_eq!(code(capture(&c, &request, no_network)), "invalid_amount");
        let request = RefundRequest {
            provider_reference: "pi_1".into(),
            amount: usd(0),
            idempotency_key: "r".into(),
            reason: None,
        };
        assert_eq!(code(refund(&c, &request, no_network)), "invalid_amount");
    }

    #[test]
    fn transport_errors_pass_through() {
        let denied = |_: Post| -> Result<Answer, PluginError> {
            Err(PluginError::new("network_denied", "the host refused the request to psp.example"))
        };
        let error = create_payment(&config(), &create_request(Some("tok_visa")), denied).unwrap_err();
        assert_eq!(error.code, "network_denied");
        assert!(error.message.contains("psp.example"));
    }

    #[test]
    fn natively_there_is_no_network() {
        let error = HttpGateway::create_payment(&config(), &create_request(Some("tok_visa"))).unwrap_err();
        assert_eq!(error.code, "unsupported");
    }

    #[test]
    fn webhooks_are_not_supported() {
        let hook = Webhook { headers: vec![], body: b"{}".to_vec() };
        assert_eq!(code(HttpGateway::parse_webhook(&config(), &hook)), "unsupported");
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::payment::<HttpGateway>,
        );
    }
}
