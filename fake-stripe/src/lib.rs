//! `FakeStripe`: the parts of Stripe's REST API that the host's native Stripe
//! provider calls, served on 127.0.0.1 for the end-to-end tests. Requests are
//! forms (`metadata[order_id]=ord_1`); answers are complete Stripe objects.
//!
//! | request                                   | answer                                                        |
//! |-------------------------------------------|---------------------------------------------------------------|
//! | `POST /v1/payment_intents`                | a PaymentIntent `pi_3FakeNNNN`; with `confirm=true` its payment method decides (below) |
//! | `GET /v1/payment_intents/{id}`            | the PaymentIntent as it is now                                |
//! | `POST /v1/payment_intents/{id}/confirm`   | confirms again from `requires_payment_method` or `requires_confirmation`; `requires_action` comes back unchanged |
//! | `POST /v1/payment_intents/{id}/capture`   | `requires_capture` → `succeeded`, at most `amount_capturable` |
//! | `POST /v1/payment_intents/{id}/cancel`    | → `canceled`, unless `succeeded` or `canceled` already        |
//! | `POST /v1/refunds`                        | a refund `re_3FakeNNNN` of a `succeeded` intent, never more than is left |
//! | `GET /3ds/{id}`                           | a plain page: where `requires_action` sends the buyer         |
//! | `GET /v3/`                                | a stand-in for Stripe.js (`src/stripe.js`): card element, `createPaymentMethod` |
//!
//! | `payment_method`                          | on confirmation                                               |
//! |-------------------------------------------|---------------------------------------------------------------|
//! | `pm_card_chargeDeclined`                  | 402 `card_declined`, decline code `generic_decline`           |
//! | `pm_card_chargeDeclinedInsufficientFunds` | 402 `card_declined`, decline code `insufficient_funds`        |
//! | `pm_card_chargeDeclinedExpiredCard`       | 402 `expired_card`                                            |
//! | `pm_card_threeDSecure2Required`           | `requires_action`, redirecting to `/3ds/{id}` until [`FakeStripe::finish_3ds`] |
//! | any other                                 | `succeeded` (automatic capture) or `requires_capture` (manual), charge `ch_3FakeNNNN` |
//!
//! A decline leaves the intent in `requires_payment_method` with its payment
//! method detached and the error in `last_payment_error`.
//!
//! `/v1/` needs `Authorization: Bearer` [`SECRET_KEY`] (401 otherwise). A POST
//! whose `Idempotency-Key` was seen before gets the stored answer again, with
//! `Idempotent-Replayed: true`, and changes nothing; the same key on another
//! path or with other parameters is a 400 `idempotency_error`. Errors are
//! `{"error": {"type", "code", "decline_code"?, "message", "param"?, "payment_intent"?}}`.
//! Webhook events are not sent: [`FakeStripe::event`] builds and signs one for
//! the test to deliver.

use std::collections::HashMap;

/// The stand-in Stripe.js served at `/v3/`.
const STRIPE_JS: &str = include_str!("stripe.js");
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

/// The only secret key the fake accepts.
pub const SECRET_KEY: &str = "sk_test_51FakeStripeSecretKey0000";
/// A publishable key to connect with [`SECRET_KEY`]; the fake never sees it.
pub const PUBLISHABLE_KEY: &str = "pk_test_51FakeStripePublishableKey00";
/// The secret [`FakeStripe::event`] signs webhook events with.
pub const WEBHOOK_SECRET: &str = "whsec_fakeStripeWebhookSigningSecret";
/// The API version events claim.
const API_VERSION: &str = "2025-09-30.clover";

/// PaymentIntent fields the fake always answers `null`, and those that start so.
const NULL_FIELDS: &str = "amount_details application application_fee_amount automatic_payment_methods \
    canceled_at cancellation_reason customer last_payment_error latest_charge next_action on_behalf_of \
    payment_method_options processing review setup_future_usage shipping source statement_descriptor \
    statement_descriptor_suffix transfer_data transfer_group";

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Without the query.
    pub path: String,
    pub query: Option<String>,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The form body, decoded, in order; `metadata[order_id]` stays one name.
    pub form: Vec<(String, String)>,
}

impl Recorded {
    /// The first value of a header, its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of a form parameter, e.g. `metadata[order_id]`.
    pub fn param(&self, name: &str) -> Option<&str> {
        param(&self.form, name)
    }
}

/// A running fake Stripe; it stops when dropped.
pub struct FakeStripe {
    /// `http://127.0.0.1:<port>/`, with the trailing slash a client's API base wants.
    pub base_url: String,
    pub port: u16,
    state: Arc<Mutex<Ledger>>,
    /// Dropping it stops the server.
    _server: Loopback,
}

/// An HTTP server on 127.0.0.1, on a free port, on a tokio runtime of its
/// own (two worker threads, so that on a busy machine an answer does not
/// wait for one thread's turn): it keeps answering while the caller blocks
/// its own thread (a test in a synchronous plugin call). It stops when
/// dropped.
pub struct Loopback {
    /// The port it listens on.
    pub port: u16,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Loopback {
    /// Serves the app `build` makes for the port it is given.
    pub fn serve(build: impl FnOnce(u16) -> Router) -> Loopback {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let port = listener.local_addr().expect("bound").port();
        let app = build(port);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let stopped = async {
                    let _ = stopped.await;
                };
                axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
                    .expect("a loopback server serves");
            });
        });
        Loopback { port, _stop: stop }
    }
}

type Answer = (StatusCode, Value);
type Form = [(String, String)];

#[derive(Default)]
struct Ledger {
    base_url: String,
    requests: Vec<Recorded>,
    /// In creation order.
    intents: Vec<Intent>,
    /// POST answers by idempotency key.
    answers: HashMap<String, Stored>,
    latency: Duration,
    stall_next_create: Option<Duration>,
    refunds: u64,
    events: u64,
}

/// A POST's answer, kept for its idempotency key.
struct Stored {
    path: String,
    /// Sorted.
    form: Vec<(String, String)>,
    answer: Answer,
}

struct Intent {
    /// The object as the API answers it.
    json: Value,
    /// Where 3-D Secure sends the buyer back (not part of the object).
    return_url: Option<String>,
    captures: usize,
    refunded: i64,
}

impl FakeStripe {
    /// Binds 127.0.0.1 on a free port and serves until dropped (see
    /// [`Loopback`]).
    pub async fn start() -> FakeStripe {
        let mut ledger = None;
        let server = Loopback::serve(|port| {
            let base_url = format!("http://127.0.0.1:{port}/");
            let state = Arc::new(Mutex::new(Ledger { base_url, ..Ledger::default() }));
            ledger = Some(state.clone());
            Router::new().fallback(handle).with_state(state)
        });
        let state = ledger.expect("the app was built");
        FakeStripe {
            base_url: format!("http://127.0.0.1:{}/", server.port),
            port: server.port,
            state,
            _server: server,
        }
    }

    /// Where the stand-in Stripe.js is served (`GET /v3/`).
    pub fn js_url(&self) -> String {
        format!("{}v3/", self.base_url)
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// Requests with this method whose path starts with `path_prefix`.
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        let ledger = lock(&self.state);
        ledger
            .requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.starts_with(path_prefix))
            .count()
    }

    /// Distinct PaymentIntents created (a replayed idempotency key creates none).
    pub fn intents_created(&self) -> usize {
        lock(&self.state).intents.len()
    }

    /// A PaymentIntent as the API would answer it now.
    pub fn intent(&self, id: &str) -> Option<Value> {
        lock(&self.state).find(id).map(|i| i.json.clone())
    }

    /// Every PaymentIntent, in creation order.
    pub fn intents(&self) -> Vec<Value> {
        lock(&self.state).intents.iter().map(|i| i.json.clone()).collect()
    }

    /// Captures executed for an intent (replays not counted).
    pub fn captures_sent(&self, id: &str) -> usize {
        lock(&self.state).find(id).map_or(0, |i| i.captures)
    }

    /// The total refunded on an intent.
    pub fn refunded(&self, id: &str) -> i64 {
        lock(&self.state).find(id).map_or(0, |i| i.refunded)
    }

    /// Every `/v1/` answer waits this long from now on (0 at first).
    pub fn set_latency(&self, d: Duration) {
        lock(&self.state).latency = d;
    }

    /// The next `POST /v1/payment_intents` (create) is executed and stored
    /// under its idempotency key, but the HTTP answer is delayed by `d` (so a
    /// client with a shorter timeout gives up); a retry with the same key then
    /// gets the stored answer.
    pub fn stall_next_create(&self, d: Duration) {
        lock(&self.state).stall_next_create = Some(d);
    }

    /// The buyer finished 3-D Secure for this intent: `requires_action` →
    /// `succeeded` (automatic capture) or `requires_capture` (manual); with
    /// `fail`, → `requires_payment_method` with `last_payment_error` code
    /// `payment_intent_authentication_failure`.
    #[track_caller]
    pub fn finish_3ds(&self, id: &str, fail: bool) {
        let mut ledger = lock(&self.state);
        let intent = ledger.find_mut(id).unwrap_or_else(|_| panic!("FakeStripe has no PaymentIntent {id}"));
        assert_eq!(intent.json["status"], "requires_action", "{id} is not waiting for 3-D Secure");
        if fail {
            let message = "The provided PaymentMethod has failed authentication. You can provide \
                           payment_method_data or a new PaymentMethod to attempt to fulfill this \
                           PaymentIntent again.";
            decline(
                &mut intent.json,
                "invalid_request_error",
                "payment_intent_authentication_failure",
                None,
                message,
            );
        } else {
            authorize(&mut intent.json);
        }
    }

    /// A signed webhook event about an intent or its charge: the Event JSON
    /// for `event_type` (`payment_intent.*`, `charge.refunded`,
    /// `charge.dispute.created`, …) built from the intent as it is now, and
    /// its `Stripe-Signature` header, signed with [`WEBHOOK_SECRET`] now.
    #[track_caller]
    pub fn event(&self, event_type: &str, intent_id: &str) -> (String, String) {
        let mut ledger = lock(&self.state);
        ledger.events += 1;
        let n = ledger.events;
        let intent =
            ledger.find(intent_id).unwrap_or_else(|| panic!("FakeStripe has no PaymentIntent {intent_id}"));
        let pi = &intent.json;
        let now = now_unix();
        let charge =
            pi["latest_charge"].as_str().map_or_else(|| intent_id.replacen("pi_", "ch_", 1), str::to_owned);
        let received = int(pi, "amount_received");
        let object = match event_type {
            t if t.starts_with("payment_intent.") => pi.clone(),
            "charge.dispute.created" => json!({
                "id": charge.replacen("ch_", "dp_", 1), "object": "dispute", "amount": pi["amount"],
                "currency": pi["currency"], "charge": charge, "payment_intent": intent_id,
                "reason": "fraudulent", "status": "needs_response", "created": now, "livemode": false,
                "metadata": {},
            }),
            t if t.starts_with("charge.") => {
                let refunded = received > 0 && intent.refunded >= received;
                json!({
                    "id": charge, "object": "charge", "amount": pi["amount"], "amount_captured": received,
                    "amount_refunded": intent.refunded, "captured": received > 0, "currency": pi["currency"],
                    "payment_intent": intent_id, "refunded": refunded, "status": "succeeded",
                    "metadata": pi["metadata"], "created": pi["created"], "livemode": false,
                })
            }
            other => panic!("FakeStripe builds no {other} events"),
        };
        let event = json!({
            "id": format!("evt_3Fake{}{n:04}", self.port), "object": "event", "api_version": API_VERSION,
            "created": now, "livemode": false, "pending_webhooks": 1,
            "request": {"id": null, "idempotency_key": null}, "type": event_type, "data": {"object": object},
        });
        let body = event.to_string();
        let signature = sign(&body, WEBHOOK_SECRET, now);
        (body, signature)
    }
}

/// A `Stripe-Signature` header value: `t=<t>,v1=<hex hmac-sha256(secret, "<t>.<body>")>`.
pub fn sign(body: &str, secret: &str, t: i64) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn lock(state: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn param<'a>(form: &'a Form, name: &str) -> Option<&'a str> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The `metadata[k]=v` parameters as an object.
fn metadata(form: &Form) -> Value {
    let map: Map<String, Value> = form
        .iter()
        .filter_map(|(n, v)| {
            Some((n.strip_prefix("metadata[")?.strip_suffix(']')?.to_owned(), Value::from(v.as_str())))
        })
        .collect();
    Value::Object(map)
}

/// A positive integer parameter, if present.
fn positive(form: &Form, name: &str) -> Result<Option<i64>, Answer> {
    let Some(raw) = param(form, name) else { return Ok(None) };
    match raw.parse::<i64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => {
            Err(invalid(Some("parameter_invalid_integer"), name, format!("Invalid positive integer: {raw}")))
        }
    }
}

fn int(object: &Value, key: &str) -> i64 {
    object[key].as_i64().unwrap_or(0)
}

fn status(object: &Value) -> &str {
    object["status"].as_str().unwrap_or_default()
}

fn dollars(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

fn error(status: StatusCode, kind: &str, code: Option<&str>, message: impl Into<String>) -> Answer {
    let message: String = message.into();
    let mut body = json!({"type": kind, "message": message});
    if let Some(code) = code {
        body["code"] = code.into();
    }
    (status, json!({ "error": body }))
}

/// A 400 `invalid_request_error` about one parameter.
fn invalid(code: Option<&str>, name: &str, message: impl Into<String>) -> Answer {
    let (status, mut body) = error(StatusCode::BAD_REQUEST, "invalid_request_error", code, message);
    body["error"]["param"] = name.into();
    (status, body)
}

/// A 404 `resource_missing`.
fn missing(name: &str, id: &str) -> Answer {
    let (status, mut body) = error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("resource_missing"),
        format!("No such {name}: '{id}'"),
    );
    body["error"]["param"] = name.into();
    (status, body)
}

/// A 400 `payment_intent_unexpected_state`, with the intent.
fn unexpected(intent: &Value, message: String) -> Answer {
    let code = Some("payment_intent_unexpected_state");
    let (status, mut body) = error(StatusCode::BAD_REQUEST, "invalid_request_error", code, message);
    body["error"]["payment_intent"] = intent.clone();
    (status, body)
}

fn unrecognized(method: &Method, path: &str) -> Answer {
    let message = format!("Unrecognized request URL ({method}: {path}).");
    error(StatusCode::NOT_FOUND, "invalid_request_error", None, message)
}

async fn handle(
    State(state): State<Arc<Mutex<Ledger>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let path = uri.path();
    let latency = {
        let mut ledger = lock(&state);
        ledger.requests.push(Recorded {
            method: method.to_string(),
            path: path.to_owned(),
            query: uri.query().map(str::to_owned),
            headers: headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
                .collect(),
            form: form.clone(),
        });
        ledger.latency
    };
    if path == "/v3/" && method == Method::GET {
        let js = [(axum::http::header::CONTENT_TYPE, "text/javascript; charset=utf-8")];
        return (js, STRIPE_JS).into_response();
    }
    if let Some(id) = path.strip_prefix("/3ds/").filter(|_| method == Method::GET) {
        return format!("3-D Secure for {id}").into_response();
    }
    if !path.starts_with("/v1/") {
        let (status, json) = unrecognized(&method, path);
        return (status, axum::Json(json)).into_response();
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let ((status, json), replayed, stall) = {
        let mut ledger = lock(&state);
        api(&mut ledger, &method, path, &headers, &form)
    };
    if let Some(stall) = stall {
        tokio::time::sleep(stall).await;
    }
    let mut response = (status, axum::Json(json)).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Runs one `/v1/` request: the answer, whether it is a replay, and how long
/// to hold it back.
fn api(
    ledger: &mut Ledger,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    form: &Form,
) -> (Answer, bool, Option<Duration>) {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if auth != Some(format!("Bearer {SECRET_KEY}").as_str()) {
        let answer =
            error(StatusCode::UNAUTHORIZED, "invalid_request_error", None, "Invalid API Key provided");
        return (answer, false, None);
    }
    let key = if *method == Method::POST {
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()).filter(|k| !k.is_empty())
    } else {
        None
    };
    let mut sorted = form.to_vec();
    sorted.sort();
    if let Some(stored) = key.and_then(|k| ledger.answers.get(k)) {
        if stored.path == path && stored.form == sorted {
            return (stored.answer.clone(), true, None);
        }
        let message = "Keys for idempotent requests can only be used with the same parameters they were first used with.";
        return (error(StatusCode::BAD_REQUEST, "idempotency_error", None, message), false, None);
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let answer = match (method.as_str(), segments.as_slice()) {
        ("POST", ["v1", "payment_intents"]) => ledger.create(form),
        ("GET", ["v1", "payment_intents", id]) => {
            ledger.find_mut(id).map(|i| (StatusCode::OK, i.json.clone()))
        }
        ("POST", ["v1", "payment_intents", id, "confirm"]) => ledger.confirm(id, form),
        ("POST", ["v1", "payment_intents", id, "capture"]) => ledger.capture(id, form),
        ("POST", ["v1", "payment_intents", id, "cancel"]) => ledger.cancel(id, form),
        ("POST", ["v1", "refunds"]) => ledger.refund(form),
        _ => Err(unrecognized(method, path)),
    };
    let answer = answer.unwrap_or_else(|refusal| refusal);
    let creates = *method == Method::POST && segments == ["v1", "payment_intents"];
    let stall = if creates { ledger.stall_next_create.take() } else { None };
    if let Some(key) = key {
        let stored = Stored { path: path.to_owned(), form: sorted, answer: answer.clone() };
        ledger.answers.insert(key.to_owned(), stored);
    }
    (answer, false, stall)
}

/// Confirms `intent` with its payment method, as Stripe's test cards behave.
fn confirm_card(intent: &mut Intent, base_url: &str) -> Answer {
    let id = intent.json["id"].as_str().unwrap_or_default().to_owned();
    let payment_method = intent.json["payment_method"].as_str().map(str::to_owned);
    let (code, decline_code, message) = match payment_method.as_deref() {
        None => {
            let message = "You cannot confirm this PaymentIntent because it's missing a payment method.";
            return invalid(Some("parameter_missing"), "payment_method", message);
        }
        Some("pm_card_chargeDeclined") => ("card_declined", "generic_decline", "Your card was declined."),
        Some("pm_card_chargeDeclinedInsufficientFunds") => {
            ("card_declined", "insufficient_funds", "Your card has insufficient funds.")
        }
        Some("pm_card_chargeDeclinedExpiredCard") => {
            ("expired_card", "expired_card", "Your card has expired.")
        }
        Some("pm_card_threeDSecure2Required") => {
            let redirect = json!({"url": format!("{base_url}3ds/{id}"), "return_url": intent.return_url});
            intent.json["status"] = "requires_action".into();
            intent.json["next_action"] = json!({"type": "redirect_to_url", "redirect_to_url": redirect});
            return (StatusCode::OK, intent.json.clone());
        }
        Some(_) => {
            authorize(&mut intent.json);
            return (StatusCode::OK, intent.json.clone());
        }
    };
    let mut failure = decline(&mut intent.json, "card_error", code, Some(decline_code), message);
    failure["payment_intent"] = intent.json.clone();
    (StatusCode::PAYMENT_REQUIRED, json!({ "error": failure }))
}

/// The card is charged (automatic capture) or authorized (manual).
fn authorize(intent: &mut Value) {
    let amount = intent["amount"].clone();
    let charge = intent["id"].as_str().unwrap_or_default().replacen("pi_", "ch_", 1);
    intent["latest_charge"] = charge.into();
    intent["next_action"] = Value::Null;
    intent["last_payment_error"] = Value::Null;
    if intent["capture_method"] == "manual" {
        intent["status"] = "requires_capture".into();
        intent["amount_capturable"] = amount;
    } else {
        intent["status"] = "succeeded".into();
        intent["amount_received"] = amount;
    }
}

/// The confirmation failed: back to `requires_payment_method`, the payment
/// method detached. Returns the error, also kept as `last_payment_error`.
fn decline(intent: &mut Value, kind: &str, code: &str, decline_code: Option<&str>, message: &str) -> Value {
    let mut failure = json!({"type": kind, "code": code, "message": message});
    if let Some(decline_code) = decline_code {
        failure["decline_code"] = decline_code.into();
    }
    intent["status"] = "requires_payment_method".into();
    intent["payment_method"] = Value::Null;
    intent["next_action"] = Value::Null;
    intent["last_payment_error"] = failure.clone();
    failure
}

impl Ledger {
    fn find(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.json["id"] == id)
    }

    fn find_mut(&mut self, id: &str) -> Result<&mut Intent, Answer> {
        self.intents.iter_mut().find(|i| i.json["id"] == id).ok_or_else(|| missing("payment_intent", id))
    }

    fn create(&mut self, form: &Form) -> Result<Answer, Answer> {
        let amount = positive(form, "amount")?
            .ok_or_else(|| invalid(Some("parameter_missing"), "amount", "Missing required param: amount."))?;
        let currency = match param(form, "currency") {
            Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => c.to_ascii_lowercase(),
            Some(c) => return Err(invalid(None, "currency", format!("Invalid currency: {c}."))),
            None => {
                return Err(invalid(
                    Some("parameter_missing"),
                    "currency",
                    "Missing required param: currency.",
                ));
            }
        };
        let capture_method = param(form, "capture_method").unwrap_or("automatic");
        if !["automatic", "automatic_async", "manual"].contains(&capture_method) {
            let message = "Invalid capture_method: must be one of automatic, automatic_async, or manual";
            return Err(invalid(None, "capture_method", message));
        }
        let payment_method = param(form, "payment_method");
        let confirm = param(form, "confirm") == Some("true");
        if confirm && payment_method.is_none() {
            let message = "You cannot confirm this PaymentIntent because it's missing a payment method.";
            return Err(invalid(Some("parameter_missing"), "payment_method", message));
        }
        let n = self.intents.len() + 1;
        let id = format!("pi_3Fake{n:04}");
        let status =
            if payment_method.is_some() { "requires_confirmation" } else { "requires_payment_method" };
        let mut object = json!({
            "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_received": 0, "capture_method": capture_method,
            "client_secret": format!("{id}_secret_FakeStripe{n:04}"), "confirmation_method": "automatic",
            "created": now_unix(), "currency": currency, "description": param(form, "description"),
            "livemode": false, "metadata": metadata(form), "payment_method": payment_method,
            "payment_method_types": ["card"], "receipt_email": param(form, "receipt_email"), "status": status,
        });
        for field in NULL_FIELDS.split_whitespace() {
            object[field] = Value::Null;
        }
        let return_url = param(form, "return_url").map(str::to_owned);
        let mut intent = Intent { json: object, return_url, captures: 0, refunded: 0 };
        let answer = if confirm {
            confirm_card(&mut intent, &self.base_url)
        } else {
            (StatusCode::OK, intent.json.clone())
        };
        self.intents.push(intent);
        Ok(answer)
    }

    fn confirm(&mut self, id: &str, form: &Form) -> Result<Answer, Answer> {
        let base_url = self.base_url.clone();
        let intent = self.find_mut(id)?;
        match status(&intent.json) {
            "requires_payment_method" | "requires_confirmation" => {}
            "requires_action" => return Ok((StatusCode::OK, intent.json.clone())),
            other => {
                let message =
                    format!("You cannot confirm this PaymentIntent because it has a status of {other}.");
                return Err(unexpected(&intent.json, message));
            }
        }
        if let Some(payment_method) = param(form, "payment_method") {
            intent.json["payment_method"] = payment_method.into();
        }
        if let Some(url) = param(form, "return_url") {
            intent.return_url = Some(url.to_owned());
        }
        Ok(confirm_card(intent, &base_url))
    }

    fn capture(&mut self, id: &str, form: &Form) -> Result<Answer, Answer> {
        let intent = self.find_mut(id)?;
        if status(&intent.json) != "requires_capture" {
            let message = format!(
                "This PaymentIntent could not be captured because it has a status of {}. Only a \
                 PaymentIntent with one of the following statuses may be captured: requires_capture.",
                status(&intent.json)
            );
            return Err(unexpected(&intent.json, message));
        }
        let capturable = int(&intent.json, "amount_capturable");
        let amount = positive(form, "amount_to_capture")?.unwrap_or(capturable);
        if amount > capturable {
            let message = format!(
                "The amount to capture ({amount}) is greater than the amount capturable ({capturable})."
            );
            return Err(invalid(Some("amount_too_large"), "amount_to_capture", message));
        }
        intent.json["status"] = "succeeded".into();
        intent.json["amount_received"] = amount.into();
        intent.json["amount_capturable"] = Value::from(0_i64);
        intent.captures += 1;
        Ok((StatusCode::OK, intent.json.clone()))
    }

    fn cancel(&mut self, id: &str, form: &Form) -> Result<Answer, Answer> {
        let reason = param(form, "cancellation_reason");
        if reason
            .is_some_and(|r| !["duplicate", "fraudulent", "requested_by_customer", "abandoned"].contains(&r))
        {
            let message = "Invalid cancellation_reason: must be one of duplicate, fraudulent, requested_by_customer, or abandoned";
            return Err(invalid(None, "cancellation_reason", message));
        }
        let intent = self.find_mut(id)?;
        let cancelable = [
            "requires_payment_method",
            "requires_capture",
            "requires_confirmation",
            "requires_action",
            "processing",
        ];
        if !cancelable.contains(&status(&intent.json)) {
            let message = format!(
                "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent \
                 with one of the following statuses may be canceled: {}.",
                status(&intent.json),
                cancelable.join(", ")
            );
            return Err(unexpected(&intent.json, message));
        }
        intent.json["status"] = "canceled".into();
        intent.json["canceled_at"] = now_unix().into();
        intent.json["cancellation_reason"] = reason.into();
        intent.json["amount_capturable"] = Value::from(0_i64);
        intent.json["next_action"] = Value::Null;
        Ok((StatusCode::OK, intent.json.clone()))
    }

    fn refund(&mut self, form: &Form) -> Result<Answer, Answer> {
        let reason = param(form, "reason");
        if reason.is_some_and(|r| !["duplicate", "fraudulent", "requested_by_customer"].contains(&r)) {
            let message = "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer";
            return Err(invalid(None, "reason", message));
        }
        let amount = positive(form, "amount")?;
        let n = self.refunds + 1;
        let intent = match (param(form, "payment_intent"), param(form, "charge")) {
            (Some(id), _) => self.find_mut(id)?,
            (None, Some(charge)) => self
                .intents
                .iter_mut()
                .find(|i| i.json["latest_charge"] == charge)
                .ok_or_else(|| missing("charge", charge))?,
            (None, None) => {
                let message = "One of the following params should be provided for this request: payment_intent or charge.";
                return Err(invalid(Some("parameter_missing"), "payment_intent", message));
            }
        };
        if status(&intent.json) != "succeeded" {
            let message = "This PaymentIntent does not have a successful charge to refund.".to_owned();
            return Err(unexpected(&intent.json, message));
        }
        let charge = intent.json["latest_charge"].clone();
        let left = int(&intent.json, "amount_received") - intent.refunded;
        if left <= 0 {
            let message =
                format!("Charge {} has already been refunded.", charge.as_str().unwrap_or_default());
            return Err(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                Some("charge_already_refunded"),
                message,
            ));
        }
        let amount = amount.unwrap_or(left);
        if amount > left {
            let message = format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                dollars(amount),
                dollars(left)
            );
            return Err(invalid(Some("amount_too_large"), "amount", message));
        }
        intent.refunded += amount;
        let refund = json!({
            "id": format!("re_3Fake{n:04}"), "object": "refund", "amount": amount, "balance_transaction": null,
            "charge": charge, "created": now_unix(), "currency": intent.json["currency"],
            "metadata": metadata(form), "payment_intent": intent.json["id"], "reason": reason,
            "receipt_number": null, "source_transfer_reversal": null, "status": "succeeded",
            "transfer_reversal": null,
        });
        self.refunds = n;
        Ok((StatusCode::OK, refund))
    }
}
