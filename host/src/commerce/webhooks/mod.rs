//! Webhooks: a merchant's endpoints, and sending each event of the outbox
//! to the endpoints that want it (driven by [`super::events::run_once`]).
//!
//! Delivery is at least once and in order per resource: an event is fanned
//! out into one delivery per endpoint in the transaction that marks it
//! fanned out; a delivery is claimed (with a lease) before it is sent and
//! settled after, so a host that dies mid-send leaves a lease that runs out
//! and the delivery is sent again — with the same event id, which the
//! receiver dedupes by. A resource's next event waits until its previous
//! one at that endpoint has succeeded or failed for good. Timeouts, failed
//! connections, 408, 429 and 5xx are retried with exponential backoff and
//! jitter until 72 hours after the event; any other answer ends it.

mod send;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use rand::RngExt as _;

use super::error::Check;
use super::{Error, Page, Paged, Result, Shop};
use crate::db::webhooks::{self as store, AttemptResult, Claimed};
use crate::db::{self, now_ms};
use crate::model::events::{self, Event};
pub use crate::model::webhooks::{
    CreatedEndpoint, Delivery, EndpointPatch, NewEndpoint, StoredEndpoint, WebhookEndpoint,
};
use send::check_destination;

/// How deliveries are made; the defaults are production's.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Whether endpoints may be in private, loopback or link-local ranges
    /// (`MERCATO_WEBHOOK_ALLOW_PRIVATE`; off by default).
    pub allow_private: bool,
    /// The wait before the first retry; each retry waits twice the last.
    pub first_retry: Duration,
    /// The longest wait between retries.
    pub max_retry: Duration,
    /// Retries end this long after the event.
    pub give_up_after: Duration,
    /// Each request's time (connecting, sending, reading the answer).
    pub timeout: Duration,
    /// How long a worker's claim on a delivery lasts.
    pub lease: Duration,
    /// The event worker's pause when nothing is due.
    pub idle: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            allow_private: false,
            first_retry: Duration::from_secs(30),
            max_retry: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(72 * 3600),
            timeout: Duration::from_secs(5),
            lease: Duration::from_secs(15),
            idle: Duration::from_millis(200),
        }
    }
}

/// Deliveries settled on this host, by outcome.
#[derive(Debug, Default)]
pub struct Counts {
    /// Answered 2xx.
    pub succeeded: AtomicU64,
    /// Failed, to be tried again.
    pub retried: AtomicU64,
    /// Failed for good (an answer that ends it, or retries ran out).
    pub failed: AtomicU64,
}

/// The host's webhook machinery: settings, client, counts.
pub struct Webhooks {
    /// How deliveries are made.
    pub settings: Settings,
    sender: send::Sender,
    /// Deliveries settled on this host.
    pub counts: Counts,
}

impl Webhooks {
    /// Webhooks delivered with `settings`.
    pub fn new(settings: Settings) -> Webhooks {
        let sender = send::Sender::new(settings.allow_private, settings.timeout);
        Webhooks { settings, sender, counts: Counts::default() }
    }
}

impl Default for Webhooks {
    fn default() -> Webhooks {
        Webhooks::new(Settings::default())
    }
}

/// Most endpoints a merchant may have.
pub const MAX_ENDPOINTS: usize = 20;
/// Deliveries fanned out or claimed per pass.
pub(super) const BATCH: u32 = 200;

fn not_found() -> Error {
    Error::NotFound("webhook endpoint")
}

fn context(merchant_id: &str, endpoint_id: &str) -> String {
    format!("webhook:{merchant_id}:{endpoint_id}")
}

fn event_types(types: Vec<String>) -> std::result::Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for t in types {
        let t = t.trim().to_owned();
        if t != "*" && !events::is_type(&t) {
            return Err(format!("{t:?} is not an event type (see GET /v1/admin/events for them)"));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err("must name at least one event type, or \"*\"".into());
    }
    Ok(out)
}

/// An optional note: absent when empty.
fn description(d: Option<String>) -> std::result::Result<Option<String>, String> {
    d.filter(|d| !d.trim().is_empty()).map(|d| super::parse::text(&d, 500)).transpose()
}

/// Adds an endpoint; its signing secret is in the answer and never again.
pub async fn create(shop: &Shop, merchant_id: &str, req: NewEndpoint) -> Result<CreatedEndpoint> {
    let allow = shop.webhooks.sender.allows_private();
    let mut check = Check::default();
    let url = check.field(
        "url",
        req.url.ok_or_else(|| "is required".to_owned()).and_then(|u| check_destination(u.trim(), allow)),
    );
    let types = check
        .field("event_types", req.event_types.ok_or_else(|| "is required".to_owned()).and_then(event_types));
    let description = check.field("description", description(req.description));
    let ((url, event_types), description) = check.finish_with(url.zip(types).zip(description))?;
    let existing = store::list_endpoints(&shop.db, merchant_id, None, MAX_ENDPOINTS as u32).await?;
    if existing.len() >= MAX_ENDPOINTS {
        return Err(Error::Conflict {
            code: "too_many_webhook_endpoints",
            message: format!("a shop has at most {MAX_ENDPOINTS} webhook endpoints"),
        });
    }
    let now = now_ms();
    let id = crate::model::ids::new_id("whe");
    let secret = crate::model::ids::new_secret("whsec");
    let endpoint = WebhookEndpoint {
        id: id.clone(),
        url: url.to_string(),
        event_types,
        enabled: req.enabled.unwrap_or(true),
        description,
        created_at: now,
        updated_at: now,
    };
    let stored = StoredEndpoint {
        endpoint: endpoint.clone(),
        merchant_id: merchant_id.to_owned(),
        secret_sealed: shop.secrets.seal(&secret, &context(merchant_id, &id)),
    };
    store::insert_endpoint(&shop.db, &stored).await?;
    Ok(CreatedEndpoint { endpoint, secret })
}

/// The merchant's endpoint `id`.
pub async fn get(shop: &Shop, merchant_id: &str, id: &str) -> Result<WebhookEndpoint> {
    Ok(store::get_endpoint(&shop.db, merchant_id, id).await?.ok_or_else(not_found)?.endpoint)
}

/// A page of the merchant's endpoints.
pub async fn list(shop: &Shop, merchant_id: &str, page: &Page) -> Result<Paged<WebhookEndpoint>> {
    let rows = store::list_endpoints(&shop.db, merchant_id, page.after.as_deref(), page.limit + 1).await?;
    let rows = rows.into_iter().map(|e| e.endpoint).collect();
    Ok(Paged::from_rows(rows, page.limit, |e| &e.id))
}

/// Changes what is given of an endpoint.
pub async fn update(shop: &Shop, merchant_id: &str, id: &str, req: EndpointPatch) -> Result<WebhookEndpoint> {
    let mut endpoint = get(shop, merchant_id, id).await?;
    let allow = shop.webhooks.sender.allows_private();
    let mut check = Check::default();
    if let Some(url) = req.url
        && let Some(url) = check.field("url", check_destination(url.trim(), allow))
    {
        endpoint.url = url.to_string();
    }
    if let Some(types) = req.event_types
        && let Some(types) = check.field("event_types", event_types(types))
    {
        endpoint.event_types = types;
    }
    if req.description.is_some()
        && let Some(d) = check.field("description", description(req.description))
    {
        endpoint.description = d;
    }
    check.finish()?;
    if let Some(enabled) = req.enabled {
        endpoint.enabled = enabled;
    }
    endpoint.updated_at = now_ms();
    if !store::update_endpoint(&shop.db, merchant_id, &endpoint).await? {
        return Err(not_found());
    }
    Ok(endpoint)
}

/// Removes an endpoint and its delivery log.
pub async fn delete(shop: &Shop, merchant_id: &str, id: &str) -> Result<()> {
    if store::delete_endpoint(&shop.db, merchant_id, id).await? { Ok(()) } else { Err(not_found()) }
}

/// A page of an endpoint's deliveries, oldest first.
pub async fn deliveries(
    shop: &Shop,
    merchant_id: &str,
    endpoint_id: &str,
    status: Option<&str>,
    page: &Page,
) -> Result<Paged<Delivery>> {
    get(shop, merchant_id, endpoint_id).await?;
    let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s @ ("pending" | "succeeded" | "failed")) => Some(s),
        Some(_) => return Err(Error::field("status", "must be pending, succeeded or failed")),
    };
    let rows = store::list_deliveries(
        &shop.db,
        merchant_id,
        endpoint_id,
        status,
        page.after.as_deref(),
        page.limit + 1,
    )
    .await?;
    Ok(Paged::from_rows(rows, page.limit, |d| &d.id))
}

/// One delivery with every attempt.
pub async fn delivery(shop: &Shop, merchant_id: &str, endpoint_id: &str, id: &str) -> Result<Delivery> {
    store::get_delivery(&shop.db, merchant_id, endpoint_id, id)
        .await?
        .ok_or(Error::NotFound("webhook delivery"))
}

/// Sends a delivery again (with a fresh 72-hour window of retries).
pub async fn redeliver(shop: &Shop, merchant_id: &str, endpoint_id: &str, id: &str) -> Result<Delivery> {
    let d = delivery(shop, merchant_id, endpoint_id, id).await?;
    let now = now_ms();
    let give_up = now + millis(shop.webhooks.settings.give_up_after);
    if !store::redeliver(&shop.db, merchant_id, endpoint_id, id, now, give_up).await? {
        let why = if d.event_type == "webhook.ping" {
            "a ping is not sent again: send another".to_owned()
        } else {
            "the delivery is pending already".to_owned()
        };
        return Err(Error::Conflict { code: "delivery_pending", message: why });
    }
    delivery(shop, merchant_id, endpoint_id, id).await
}

/// Sends a `webhook.ping` event to the endpoint at once (enabled or not)
/// and logs it as a delivery, which is never retried.
pub async fn ping(shop: &Shop, merchant_id: &str, endpoint_id: &str) -> Result<Delivery> {
    let stored = store::get_endpoint(&shop.db, merchant_id, endpoint_id).await?.ok_or_else(not_found)?;
    let now = now_ms();
    let event = Event::new(
        crate::model::ids::new_id("png"),
        "webhook.ping".into(),
        endpoint_id.into(),
        serde_json::json!({"endpoint_id": endpoint_id, "url": stored.endpoint.url}),
        now,
    );
    let claimed = Claimed {
        delivery_id: String::new(),
        merchant_id: merchant_id.into(),
        endpoint_id: endpoint_id.into(),
        url: stored.endpoint.url.clone(),
        secret_sealed: stored.secret_sealed,
        event_id: event.id.clone(),
        event_type: event.kind.clone(),
        resource_id: endpoint_id.into(),
        payload: Some(event.data.clone()),
        event_created_at: now,
        attempt: 1,
        give_up_at: now,
    };
    let mut result = attempt(shop, &claimed, now).await?;
    if result.status == "pending" {
        result.status = "failed";
    }
    let id = store::insert_ping(&shop.db, merchant_id, endpoint_id, &event.id, &result, now).await?;
    delivery(shop, merchant_id, endpoint_id, &id).await
}

pub(super) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Sends one claimed delivery and says what comes next.
async fn attempt(shop: &Shop, c: &Claimed, now: i64) -> Result<AttemptResult> {
    let secret = shop.secrets.open(&c.secret_sealed, &context(&c.merchant_id, &c.endpoint_id))?;
    let event = Event::new(
        c.event_id.clone(),
        c.event_type.clone(),
        c.resource_id.clone(),
        c.payload.clone().unwrap_or_else(|| serde_json::json!({})),
        c.event_created_at,
    );
    let body = Bytes::from(db::to_json(&event));
    let headers = [
        ("mercato-event-id", c.event_id.clone()),
        ("mercato-event-type", c.event_type.clone()),
        ("mercato-delivery-id", c.delivery_id.clone()),
        ("mercato-delivery-attempt", c.attempt.to_string()),
    ];
    let answer = shop.webhooks.sender.post(&c.url, secret.expose(), now / 1000, &headers, body).await;
    let settings = &shop.webhooks.settings;
    let (status, next) = if answer.error.is_none() {
        ("succeeded", now)
    } else if answer.retry {
        let exponent = u32::try_from(c.attempt.clamp(1, 30) - 1).unwrap_or(0);
        let wait = settings.first_retry.saturating_mul(1 << exponent.min(20)).min(settings.max_retry);
        // Up to a quarter more, so endpoints that failed together are not
        // all tried again at once.
        let jitter = rand::rng().random_range(0.0..0.25);
        let next = now + millis(wait.mul_f64(1.0 + jitter));
        if next > c.give_up_at { ("failed", now) } else { ("pending", next) }
    } else {
        ("failed", now)
    };
    Ok(AttemptResult {
        status_code: answer.status.map(i64::from),
        latency_ms: millis(answer.latency),
        response_snippet: answer.snippet,
        error: answer.error,
        status,
        next_attempt_at: next,
    })
}

/// Sends every delivery due (at once, each to its endpoint) and settles
/// them; how many were sent.
pub(super) async fn send_due(shop: &Shop, now: i64) -> Result<usize> {
    let settings = &shop.webhooks.settings;
    let claimed = store::claim_due(&shop.db, now, millis(settings.lease), BATCH).await?;
    let sent = claimed.len();
    let mut sends = tokio::task::JoinSet::new();
    for c in claimed {
        let shop = shop.clone();
        sends.spawn(async move {
            let result = match attempt(&shop, &c, now_ms()).await {
                Ok(r) => r,
                Err(e) => AttemptResult {
                    status_code: None,
                    latency_ms: 0,
                    response_snippet: None,
                    error: Some(format!("not sent: {e}")),
                    status: "pending",
                    next_attempt_at: now_ms() + millis(shop.webhooks.settings.first_retry),
                },
            };
            (c, result)
        });
    }
    let mut results = Vec::with_capacity(sent);
    while let Some(done) = sends.join_next().await {
        if let Ok((c, result)) = done {
            let counts = &shop.webhooks.counts;
            match result.status {
                "succeeded" => &counts.succeeded,
                "pending" => &counts.retried,
                _ => &counts.failed,
            }
            .fetch_add(1, Ordering::Relaxed);
            results.push((c, result));
        }
    }
    if let Err(e) = store::record_attempts(&shop.db, &results, now_ms()).await {
        // Their leases run out and they are sent again.
        tracing::warn!(deliveries = results.len(), error = %e, "webhook attempts could not be recorded");
    }
    Ok(sent)
}

/// What waits to be sent, across every host.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backlog {
    /// Events not yet fanned out to endpoints.
    pub events: i64,
    /// The oldest of them's age, in seconds (0 when none waits).
    pub events_age_secs: f64,
    /// Deliveries pending (to send, or to send again).
    pub deliveries: i64,
    /// The oldest of them's age, in seconds.
    pub deliveries_age_secs: f64,
}

/// The backlog, for metrics.
pub async fn backlog(shop: &Shop) -> Result<Backlog> {
    let b = store::backlog(&shop.db).await?;
    let now = now_ms();
    let age = |oldest: Option<i64>| oldest.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
    Ok(Backlog {
        events: b.outbox,
        events_age_secs: age(b.outbox_oldest),
        deliveries: b.deliveries,
        deliveries_age_secs: age(b.deliveries_oldest),
    })
}

/// The shop's webhook state is shared by clones.
pub type Shared = Arc<Webhooks>;
