//! A webhook receiver on loopback for `checkout_webhooks`: answers 204 at
//! once and counts the distinct events it gets.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use reqwest::Method;
use serde_json::json;

use crate::setup::{Api, field};

/// Requests received, and the distinct event ids among them.
type Seen = Arc<Mutex<(usize, HashSet<String>)>>;

/// A receiver with its endpoint registered.
pub struct Listening {
    endpoint: String,
    seen: Seen,
}

async fn hook(State(seen): State<Seen>, headers: HeaderMap) -> StatusCode {
    let id = headers.get("mercato-event-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    seen.0 += 1;
    seen.1.insert(id);
    StatusCode::NO_CONTENT
}

/// Starts the receiver and registers it for every event type.
pub async fn listen(api: &Api, secret_key: &str) -> Result<Listening> {
    let seen: Seen = Arc::new(Mutex::new((0, HashSet::new())));
    let app = axum::Router::new().route("/hooks", axum::routing::post(hook)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = json!({"url": url, "event_types": ["*"], "description": "bench receiver"});
    let endpoint = api
        .send(Method::POST, "/v1/admin/webhook-endpoints", secret_key, &body)
        .await
        .map_err(|e| anyhow::anyhow!("registering the receiver: {}", e.text))?;
    Ok(Listening { endpoint: field(&endpoint, "id")?, seen })
}

impl Listening {
    /// Waits until the host has nothing left to send (outbox and deliveries
    /// empty, per `/metrics`), disables the endpoint, and says how long the
    /// rest took and what arrived.
    pub async fn drain(self, api: &Api, secret_key: &str) -> Result<String> {
        let started = Instant::now();
        let metric = |text: &str, name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse::<f64>().ok()))
                .unwrap_or(f64::NAN)
        };
        loop {
            let text = api.client.get(format!("{}/metrics", api.base)).send().await?.text().await?;
            let waiting = metric(&text, "mercato_outbox_backlog_events ")
                + metric(&text, "mercato_webhook_deliveries_pending ");
            if waiting == 0.0 {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "deliveries never drained: {waiting} left"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let rest = started.elapsed().as_secs_f64();
        let path = format!("/v1/admin/webhook-endpoints/{}", self.endpoint);
        api.send(Method::PATCH, &path, secret_key, &json!({"enabled": false}))
            .await
            .map_err(|e| anyhow::anyhow!("disabling the receiver: {}", e.text))?;
        let (requests, events) = {
            let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            (seen.0, seen.1.len())
        };
        Ok(format!(
            "{events} events arrived ({requests} requests), the last {rest:.2} s after the last checkout"
        ))
    }
}
