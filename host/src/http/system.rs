//! Health, readiness and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AppState;

pub fn router(api: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(move || async move { Json(api.as_ref().clone()) }))
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.shop.db.ping().await {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "database unavailable"})))
    }
}

/// Prometheus text exposition: per plugin version, calls, failures, latency
/// quantiles and mean fuel on this host, so an operator sees which plugin
/// is slow or failing; per route template, requests by status and their
/// latency (see [`super::metrics`]).
async fn metrics(State(state): State<AppState>) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    use std::fmt::Write;
    let plugins: Vec<_> = state
        .shop
        .runtime
        .list()
        .into_iter()
        .map(|p| {
            let labels = format!(
                "plugin=\"{}\",version=\"{}\",extension_point=\"{}\",id=\"{}\"",
                p.metadata.name, p.metadata.version, p.metadata.extension_point, p.id
            );
            (labels, p.stats.snapshot(), p.id.clone())
        })
        .collect();
    let mut circuits = state.shop.bindings.circuits();
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<String>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for row in rows {
            let _ = writeln!(out, "{name}{row}");
        }
    };
    family(
        "mercato_build_info",
        "gauge",
        "The running version.",
        vec![format!("{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"))],
    );
    family(
        "mercato_plugins_installed",
        "gauge",
        "Plugin versions loaded on this host.",
        vec![format!(" {}", plugins.len())],
    );
    let per = |f: &dyn Fn(&str, &crate::runtime::StatsSnapshot) -> Vec<String>| {
        plugins.iter().flat_map(|(l, s, _)| f(l, s)).collect::<Vec<_>>()
    };
    family(
        "mercato_plugin_calls_total",
        "counter",
        "Plugin calls, by outcome: ok, or failed (a limit, a trap, an error or invalid output).",
        per(&|l, s| {
            vec![
                format!("{{{l},outcome=\"ok\"}} {}", s.calls - s.failures),
                format!("{{{l},outcome=\"failed\"}} {}", s.failures),
            ]
        }),
    );
    family(
        "mercato_plugin_call_duration_seconds",
        "summary",
        "Instantiate, call and validation.",
        per(&|l, s| {
            vec![
                format!("{{{l},quantile=\"0.5\"}} {}", s.p50_us / 1e6),
                format!("{{{l},quantile=\"0.95\"}} {}", s.p95_us / 1e6),
                format!("{{{l},quantile=\"0.99\"}} {}", s.p99_us / 1e6),
                format!("_sum{{{l}}} {}", s.seconds),
                format!("_count{{{l}}} {}", s.calls),
            ]
        }),
    );
    family(
        "mercato_plugin_fuel_consumed_total",
        "counter",
        "Instructions run by the plugin's calls.",
        per(&|l, s| vec![format!("{{{l}}} {}", s.fuel)]),
    );
    family(
        "mercato_plugin_fuel_mean",
        "gauge",
        "Mean instructions per call.",
        per(&|l, s| vec![format!("{{{l}}} {}", s.mean_fuel)]),
    );
    family(
        "mercato_plugin_open_circuits",
        "gauge",
        "Merchants' bindings of the plugin whose circuit is open or half-open on this host.",
        plugins
            .iter()
            .map(|(l, _, id)| format!("{{{l}}} {}", circuits.remove(id).map_or(0, |c| c.open_bindings)))
            .collect(),
    );
    family(
        "mercato_checkouts_total",
        "counter",
        "Checkouts whose payment was asked on this host, by outcome.",
        state.shop.checkouts.snapshot().iter().map(|(o, n)| format!("{{outcome=\"{o}\"}} {n}")).collect(),
    );
    use crate::commerce::checkout::{Step, StepStats};
    let steps: Vec<_> = Step::ALL.iter().map(|&s| (s.as_str(), state.shop.placing.snapshot(s))).collect();
    type Value = fn(&StepStats) -> String;
    let checkout_families: [(&str, &str, &str, Value); 4] = [
        (
            "mercato_checkout_slots",
            "gauge",
            "Checkouts that may be in a step at once on this host: place (price the cart, place the order) and record (the payment's answer).",
            |s| s.slots.to_string(),
        ),
        ("mercato_checkouts_waiting", "gauge", "Checkouts waiting now for a slot in a step.", |s| {
            s.waiting.to_string()
        }),
        ("mercato_checkout_steps_total", "counter", "Checkouts let in to a step on this host.", |s| {
            s.entered.to_string()
        }),
        (
            "mercato_checkout_slot_wait_seconds_total",
            "counter",
            "Seconds checkouts waited for a slot in a step, together; divided by the step's checkouts, the mean wait.",
            |s| s.waited_seconds.to_string(),
        ),
    ];
    for (name, kind, help, value) in checkout_families {
        family(
            name,
            kind,
            help,
            steps.iter().map(|(step, s)| format!("{{step=\"{step}\"}} {}", value(s))).collect(),
        );
    }
    let (open, idle) = state.shop.db.reads().counts();
    family(
        "mercato_db_pool_connections",
        "gauge",
        "Open database connections that serve reads (PostgreSQL: the pool, which also writes), in use or idle.",
        vec![
            format!("{{state=\"in_use\"}} {}", open.saturating_sub(idle)),
            format!("{{state=\"idle\"}} {idle}"),
        ],
    );
    if let Some(turns) = state.shop.db.write_turns() {
        let (taken, waiting, holding) = turns.snapshot();
        family(
            "mercato_db_write_turns_total",
            "counter",
            "SQLite: write transactions and single writes, which take turns at the one writer.",
            vec![format!(" {taken}")],
        );
        family(
            "mercato_db_write_turn_seconds_total",
            "counter",
            "SQLite: seconds writers spent waiting for the write turn and holding it; holding per second near 1 means writes queue.",
            vec![format!("{{phase=\"waiting\"}} {waiting}"), format!("{{phase=\"holding\"}} {holding}")],
        );
    }
    let webhooks = &state.shop.webhooks.counts;
    family(
        "mercato_webhook_deliveries_total",
        "counter",
        "Webhook attempts settled on this host: succeeded (2xx), retried (to be sent again) or failed (for good).",
        [("succeeded", &webhooks.succeeded), ("retried", &webhooks.retried), ("failed", &webhooks.failed)]
            .iter()
            .map(|(o, n)| format!("{{outcome=\"{o}\"}} {}", n.load(std::sync::atomic::Ordering::Relaxed)))
            .collect(),
    );
    let mail = &state.shop.mailer.counts;
    family(
        "mercato_emails_total",
        "counter",
        "E-mails settled on this host: sent, retried (refused for now), failed (for good) or not_sent (no SMTP server, nobody to send to).",
        [
            ("sent", &mail.sent),
            ("retried", &mail.retried),
            ("failed", &mail.failed),
            ("not_sent", &mail.not_sent),
        ]
        .iter()
        .map(|(o, n)| format!("{{outcome=\"{o}\"}} {}", n.load(std::sync::atomic::Ordering::Relaxed)))
        .collect(),
    );
    if let Ok(pending) = crate::commerce::emails::pending(&state.shop).await {
        family(
            "mercato_emails_pending",
            "gauge",
            "E-mails waiting to be sent or sent again (all hosts).",
            vec![format!(" {pending}")],
        );
    }
    if let Ok(backlog) = crate::commerce::webhooks::backlog(&state.shop).await {
        family(
            "mercato_outbox_backlog_events",
            "gauge",
            "Events written but not yet fanned out to webhook endpoints (all hosts).",
            vec![format!(" {}", backlog.events)],
        );
        family(
            "mercato_outbox_oldest_event_age_seconds",
            "gauge",
            "Age of the oldest event not yet fanned out; 0 when none waits.",
            vec![format!(" {}", backlog.events_age_secs)],
        );
        family(
            "mercato_webhook_deliveries_pending",
            "gauge",
            "Webhook deliveries waiting to be sent or sent again (all hosts).",
            vec![format!(" {}", backlog.deliveries)],
        );
        family(
            "mercato_webhook_oldest_pending_delivery_age_seconds",
            "gauge",
            "Age of the oldest pending webhook delivery; 0 when none waits.",
            vec![format!(" {}", backlog.deliveries_age_secs)],
        );
    }
    state.http_metrics.write(&mut out);
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
