//! `FakePsp`: the small REST payment API that `plugins/http-gateway` speaks
//! (documented at the top of its `src/lib.rs`), served on 127.0.0.1 for the
//! end-to-end tests, plus three endpoints for the host's outbound HTTP rules.
//!
//! | request                                   | answer                                                        |
//! |-------------------------------------------|---------------------------------------------------------------|
//! | `POST /v1/payments`                       | token `tok_decline`: 402 `card_declined`; `tok_3ds`: `requires_action` with client secret `pi_N_secret`; `tok_charge_then_fail`: charged, but the first answer is a 500; otherwise `succeeded` when capturing, `pending` when only authorizing |
//! | `POST /v1/payments/{id}/capture`          | `succeeded`; at most the authorized amount, once              |
//! | `POST /v1/payments/{id}/refunds`          | a refund `re_N`; refunds never exceed the captured amount (400) |
//! | `POST /v1/payments/{id}/void`             | `succeeded`, unless already captured (400)                    |
//! | `GET /redirect?to=<url>`                  | 302 to `<url>`                                                |
//! | `GET /big?bytes=N`                        | 200 with N bytes of `a`                                       |
//! | `GET /slow?ms=N`                          | 200 `slow` after N milliseconds                               |
//!
//! `/v1/` needs `Authorization: Bearer test_key` (401 otherwise) and an
//! `Idempotency-Key` (400 otherwise): a key seen before on the same path gets
//! the stored answer again and changes nothing. Errors are
//! `{"error": {"code", "message"}}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use mercato_fake_stripe::Loopback;
use serde_json::{Value, json};

/// The only API key the fake accepts.
pub const API_KEY: &str = "test_key";

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Without the query.
    pub path: String,
    pub query: Option<String>,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as JSON; `null` when empty, a string when it is not JSON.
    pub body: Value,
}

impl Recorded {
    /// The first value of a header, its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A running fake payment API; it stops when dropped.
pub struct FakePsp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    pub port: u16,
    state: Arc<Mutex<Ledger>>,
    /// Dropping it stops the server.
    _server: Loopback,
}

type Answer = (StatusCode, Value);

#[derive(Default)]
struct Ledger {
    base_url: String,
    requests: Vec<Recorded>,
    payments: HashMap<String, Payment>,
    /// Answers by (path, idempotency key).
    answers: HashMap<(String, String), Answer>,
    /// Whether `tok_charge_then_fail` has lost its first answer yet.
    failed_once: bool,
    refunds: u64,
}

struct Payment {
    id: String,
    amount: i64,
    currency: String,
    /// As last answered.
    status: &'static str,
    captured: i64,
    refunded: i64,
    voided: bool,
    client_secret: Option<String>,
    redirect_url: Option<String>,
}

impl Payment {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "status": self.status, "failure_reason": null,
            "redirect_url": self.redirect_url, "client_secret": self.client_secret,
            "amount": self.amount, "currency": self.currency,
            "amount_captured": self.captured, "amount_refunded": self.refunded, "voided": self.voided,
        })
    }
}

impl FakePsp {
    /// Binds 127.0.0.1 on a free port and serves until dropped (see
    /// [`Loopback`]).
    pub async fn start() -> FakePsp {
        let mut ledger = None;
        let server = Loopback::serve(|port| {
            let base_url = format!("http://127.0.0.1:{port}");
            let state = Arc::new(Mutex::new(Ledger { base_url, ..Ledger::default() }));
            ledger = Some(state.clone());
            Router::new().fallback(handle).with_state(state)
        });
        let state = ledger.expect("the app was built");
        FakePsp {
            base_url: format!("http://127.0.0.1:{}", server.port),
            port: server.port,
            state,
            _server: server,
        }
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// Distinct payments created (a repeated idempotency key creates none).
    pub fn payments_created(&self) -> usize {
        lock(&self.state).payments.len()
    }

    /// A payment as the API would answer it now, with its captured and
    /// refunded amounts.
    pub fn payment(&self, id: &str) -> Option<Value> {
        lock(&self.state).payments.get(id).map(Payment::json)
    }
}

fn lock(state: &Mutex<Ledger>) -> MutexGuard<'_, Ledger> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Answer {
    (status, json!({"error": {"code": code, "message": message.into()}}))
}

async fn handle(
    State(state): State<Arc<Mutex<Ledger>>>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = match serde_json::from_slice(&body) {
        Ok(json) => json,
        Err(_) if body.is_empty() => Value::Null,
        Err(_) => Value::String(String::from_utf8_lossy(&body).into_owned()),
    };
    lock(&state).requests.push(Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body: body.clone(),
    });
    let number = |name: &str| query.get(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    let segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let (status, json) = match (method.as_str(), segments.as_slice()) {
        ("GET", ["redirect"]) => match query.get("to") {
            Some(to) => return (StatusCode::FOUND, [(header::LOCATION, to.clone())]).into_response(),
            None => error(StatusCode::BAD_REQUEST, "invalid_request", "?to=<url> is required"),
        },
        ("GET", ["big"]) => return vec![b'a'; number("bytes") as usize].into_response(),
        ("GET", ["slow"]) => {
            tokio::time::sleep(Duration::from_millis(number("ms"))).await;
            return "slow".into_response();
        }
        ("POST", ["v1", "payments", rest @ ..]) => api(&mut lock(&state), &headers, uri.path(), rest, &body),
        _ => error(StatusCode::NOT_FOUND, "not_found", format!("no route for {method} {}", uri.path())),
    };
    (status, axum::Json(json)).into_response()
}

fn api(ledger: &mut Ledger, headers: &HeaderMap, path: &str, rest: &[&str], body: &Value) -> Answer {
    let header = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if header(header::AUTHORIZATION) != Some(&format!("Bearer {API_KEY}")) {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "Invalid API key.");
    }
    let Some(key) = header(header::HeaderName::from_static("idempotency-key")).filter(|k| !k.is_empty())
    else {
        return error(StatusCode::BAD_REQUEST, "idempotency_key_missing", "Send an Idempotency-Key header.");
    };
    let slot = (path.to_owned(), key.to_owned());
    if let Some(answer) = ledger.answers.get(&slot) {
        return answer.clone();
    }
    let answer = match rest {
        [] => ledger.create(body),
        [id, "capture"] => ledger.capture(id, body),
        [id, "refunds"] => ledger.refund(id, body),
        [id, "void"] => ledger.void(id),
        _ => return error(StatusCode::NOT_FOUND, "not_found", format!("no route for POST {path}")),
    };
    ledger.answers.insert(slot, answer.clone());
    // `tok_charge_then_fail`: the payment is made, but the first answer is
    // lost to a server error (the stored answer serves the retry).
    if rest.is_empty() && body["token"].as_str() == Some("tok_charge_then_fail") && !ledger.failed_once {
        ledger.failed_once = true;
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong after the charge.",
        );
    }
    answer
}

/// `{"amount": positive integer, "currency": "USD"}` from a body.
fn money(body: &Value) -> Result<(i64, String), Answer> {
    let amount = body["amount"].as_i64().filter(|a| *a > 0);
    let currency = body["currency"].as_str().filter(|c| c.len() == 3);
    match (amount, currency) {
        (Some(amount), Some(currency)) => Ok((amount, currency.to_owned())),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "amount (a positive integer) and currency (ISO 4217) are required",
        )),
    }
}

impl Ledger {
    fn create(&mut self, body: &Value) -> Answer {
        let (amount, currency) = match money(body) {
            Ok(money) => money,
            Err(answer) => return answer,
        };
        let token = body["token"].as_str();
        if token == Some("tok_decline") {
            return error(StatusCode::PAYMENT_REQUIRED, "card_declined", "Your card was declined.");
        }
        let id = format!("pi_{}", self.payments.len() + 1);
        let mut payment = Payment {
            id: id.clone(),
            amount,
            currency,
            status: "succeeded",
            captured: 0,
            refunded: 0,
            voided: false,
            client_secret: None,
            redirect_url: None,
        };
        if token == Some("tok_3ds") {
            payment.status = "requires_action";
            payment.client_secret = Some(format!("{id}_secret"));
            payment.redirect_url = Some(format!("{}/3ds/{id}", self.base_url));
        } else if body["capture"].as_bool().unwrap_or(true) {
            payment.captured = amount;
        } else {
            payment.status = "pending";
        }
        let answer = (StatusCode::OK, payment.json());
        self.payments.insert(id, payment);
        answer
    }

    /// The payment `id` and the money in `body`, in the payment's currency.
    fn target(&mut self, id: &str, body: &Value) -> Result<(&mut Payment, i64), Answer> {
        let (amount, currency) = money(body)?;
        let payment = self
            .payments
            .get_mut(id)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "payment_not_found", format!("No payment {id}.")))?;
        if payment.currency != currency {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "currency_mismatch",
                "The payment is in another currency.",
            ));
        }
        Ok((payment, amount))
    }

    fn capture(&mut self, id: &str, body: &Value) -> Answer {
        let (payment, amount) = match self.target(id, body) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        let refusal = if payment.voided {
            Some(("payment_voided", "The payment was voided."))
        } else if payment.status == "requires_action" {
            Some(("payment_requires_action", "The buyer has not completed the payment."))
        } else if payment.captured > 0 {
            Some(("already_captured", "The payment is already captured."))
        } else if amount > payment.amount {
            Some(("amount_too_large", "The capture exceeds the authorized amount."))
        } else {
            None
        };
        if let Some((code, message)) = refusal {
            return error(StatusCode::BAD_REQUEST, code, message);
        }
        payment.captured = amount;
        payment.status = "succeeded";
        (StatusCode::OK, payment.json())
    }

    fn refund(&mut self, id: &str, body: &Value) -> Answer {
        let (payment, amount) = match self.target(id, body) {
            Ok(found) => found,
            Err(answer) => return answer,
        };
        if payment.refunded + amount > payment.captured {
            let message = format!(
                "Refunds would exceed the captured amount (captured {}, refunded {}).",
                payment.captured, payment.refunded
            );
            return error(StatusCode::BAD_REQUEST, "amount_too_large", message);
        }
        payment.refunded += amount;
        let (payment_id, currency) = (payment.id.clone(), payment.currency.clone());
        self.refunds += 1;
        let refund = json!({
            "id": format!("re_{}", self.refunds), "status": "succeeded", "failure_reason": null,
            "amount": amount, "currency": currency, "payment": payment_id,
        });
        (StatusCode::OK, refund)
    }

    fn void(&mut self, id: &str) -> Answer {
        let Some(payment) = self.payments.get_mut(id) else {
            return error(StatusCode::NOT_FOUND, "payment_not_found", format!("No payment {id}."));
        };
        if payment.captured > 0 {
            return error(
                StatusCode::BAD_REQUEST,
                "already_captured",
                "A captured payment is refunded, not voided.",
            );
        }
        payment.voided = true;
        payment.status = "succeeded";
        (StatusCode::OK, payment.json())
    }
}
