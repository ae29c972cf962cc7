//! A webhook receiver on loopback: records every request it gets and
//! answers as the test's plan says (a status, a redirect, or no answer).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// What the receiver answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status, with a short body.
    Status(u16),
    /// A redirect to this URL.
    Redirect(String),
    /// Nothing, for longer than any host waits.
    Hang,
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Hit {
    /// `Mercato-Event-Id`.
    pub event_id: String,
    /// `Mercato-Event-Type`.
    pub event_type: String,
    /// `Mercato-Delivery-Attempt`.
    pub attempt: u32,
    /// `Mercato-Signature`.
    pub signature: String,
    /// The body as sent.
    pub body: Vec<u8>,
    /// What the receiver answered (0: nothing).
    pub answered: u16,
}

impl Hit {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

type Plan = Box<dyn Fn(&Hit, u32) -> Answer + Send>;

struct Inner {
    hits: Mutex<Vec<Hit>>,
    plan: Mutex<Plan>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hooks`.
    pub url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    /// Starts a receiver answering by `plan`: given the request and how
    /// many times its event id has arrived (1 the first time).
    pub async fn start(plan: impl Fn(&Hit, u32) -> Answer + Send + 'static) -> Receiver {
        let inner = Arc::new(Inner { hits: Mutex::new(Vec::new()), plan: Mutex::new(Box::new(plan)) });
        let app = Router::new().route("/hooks", axum::routing::post(hook)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, inner }
    }

    /// Answers by `plan` from now on.
    pub fn set_plan(&self, plan: impl Fn(&Hit, u32) -> Answer + Send + 'static) {
        *self.inner.plan.lock().unwrap() = Box::new(plan);
    }

    /// Every request so far, in the order they arrived.
    pub fn hits(&self) -> Vec<Hit> {
        self.inner.hits.lock().unwrap().clone()
    }

    /// Waits until `done` holds for the requests so far; panics after `within`.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let deadline = Instant::now() + within;
        loop {
            let hits = self.hits();
            if done(&hits) {
                return hits;
            }
            assert!(Instant::now() < deadline, "the receiver waited in vain; it got {} requests", hits.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn hook(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut hit = Hit {
        event_id: text("mercato-event-id"),
        event_type: text("mercato-event-type"),
        attempt: text("mercato-delivery-attempt").parse().unwrap_or(0),
        signature: text("mercato-signature"),
        body: body.to_vec(),
        answered: 0,
    };
    let answer = {
        let mut hits = inner.hits.lock().unwrap();
        let nth = 1 + hits.iter().filter(|h| h.event_id == hit.event_id).count() as u32;
        let answer = (inner.plan.lock().unwrap())(&hit, nth);
        hit.answered = match &answer {
            Answer::Status(s) => *s,
            Answer::Redirect(_) => 302,
            Answer::Hang => 0,
        };
        hits.push(hit);
        answer
    };
    match answer {
        Answer::Status(s) => {
            let status = StatusCode::from_u16(s).unwrap();
            (status, format!("answered {s}")).into_response()
        }
        Answer::Redirect(to) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::OK.into_response()
        }
    }
}

/// Whether `header` (`t=…,v1=…`) signs `body` with `secret`, as a receiver
/// checks it: HMAC-SHA256 over `t.body`, compared in constant time.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v),
            Some(("v1", v)) => v1 = hex::decode(v).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}
