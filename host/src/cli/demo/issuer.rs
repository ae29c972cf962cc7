//! The demo's stand-in card issuer: the 3-D Secure challenge page the test
//! gateway sends a buyer to (its `challenge_url`), on its own loopback port
//! like a bank's page on its own site. The buyer authenticates (or fails);
//! the issuer then tells Mercato the way a provider does, by a webhook
//! signed with the gateway's secret that the test-gateway plugin verifies,
//! and sends the buyer back to the storefront.
//!
//! Trust: nothing the browser sends is believed by Mercato. The amount in
//! the page's query goes into the signed notice as the buyer's browser
//! gave it, and Mercato compares it with the payment (a changed amount is
//! flagged and not applied); `return_to` must be a page of this host.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::commerce::{Shop, callbacks};
use crate::http::pages::escape;

/// The signature header the test gateway checks.
const SIGNATURE_HEADER: &str = "x-test-signature";

struct Issuer {
    shop: Shop,
    /// The host's own address: buyers are only ever sent back there.
    host_base: String,
    webhook_secret: String,
}

/// One challenge, as the gateway's redirect gives it.
#[derive(Deserialize)]
struct Challenge {
    reference: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    return_to: Option<String>,
}

/// The buyer's answer on the page.
#[derive(Deserialize)]
struct Answer {
    reference: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    return_to: Option<String>,
    outcome: String,
}

/// Serves the challenge page on `listener`; its pages are
/// `<address>/challenge/{merchant_id}/{plugin_id}`.
pub fn spawn(listener: tokio::net::TcpListener, shop: Shop, host_base: String, webhook_secret: String) {
    let issuer = Arc::new(Issuer { shop, host_base, webhook_secret });
    let app = Router::new()
        .route("/challenge/{merchant_id}/{plugin_id}", get(page).post(answer))
        .with_state(issuer);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the demo's card issuer stopped");
        }
    });
}

async fn page(
    State(issuer): State<Arc<Issuer>>,
    Path((merchant, plugin)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(c) = serde_urlencoded::from_str::<Challenge>(query.as_deref().unwrap_or("")) else {
        return (StatusCode::BAD_REQUEST, "this challenge link is incomplete").into_response();
    };
    let field =
        |name: &str, value: &str| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(value));
    let amount = format!("{} {}", c.amount, escape(&c.currency));
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>3-D Secure</title></head>
<body><main><h1>Demo Bank: confirm this payment</h1>
<p>A payment of <strong>{amount}</strong> (minor units) asks you to confirm it is you.</p>
<form method="post" action="/challenge/{m}/{p}">{r}{a}{cur}{ret}
<button type="submit" name="outcome" value="authenticate">Authenticate</button>
<button type="submit" name="outcome" value="fail">Fail authentication</button>
</form><p>This page stands in for a card issuer in the Mercato demo.</p></main></body></html>"#,
        m = escape(&merchant),
        p = escape(&plugin),
        r = field("reference", &c.reference),
        a = field("amount", &c.amount.to_string()),
        cur = field("currency", &c.currency),
        ret = field("return_to", c.return_to.as_deref().unwrap_or("")),
    );
    // The answer redirects back to the shop: the form may lead there too.
    let csp = format!(
        "default-src 'none'; img-src data:; form-action 'self' {}; base-uri 'none'",
        issuer.host_base
    );
    match HeaderValue::from_str(&csp) {
        Ok(csp) => ([(header::CONTENT_SECURITY_POLICY, csp)], axum::response::Html(html)).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "bad host address").into_response(),
    }
}

async fn answer(
    State(issuer): State<Arc<Issuer>>,
    Path((merchant, plugin)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Ok(a) = serde_urlencoded::from_bytes::<Answer>(&body) else {
        return (StatusCode::BAD_REQUEST, "this answer is incomplete").into_response();
    };
    let status = if a.outcome == "authenticate" { "succeeded" } else { "failed" };
    let mut notice = serde_json::json!({
        "reference": a.reference,
        "status": status,
        "amount": {"amount": a.amount, "currency": a.currency},
    });
    if status == "failed" {
        notice["reason"] = "authentication_failed: The buyer did not confirm the payment.".into();
    }
    let body = notice.to_string().into_bytes();
    let mut mac = Hmac::<Sha256>::new_from_slice(issuer.webhook_secret.as_bytes()).expect("any key length");
    mac.update(&body);
    let headers = vec![(SIGNATURE_HEADER.to_owned(), hex::encode(mac.finalize().into_bytes()))];
    if let Err(e) = callbacks::plugin_webhook(&issuer.shop, &merchant, &plugin, headers, body).await {
        return (StatusCode::BAD_GATEWAY, format!("Mercato refused the issuer's notice: {e}"))
            .into_response();
    }
    match a.return_to.filter(|to| to.starts_with(&format!("{}/shop/", issuer.host_base))) {
        Some(to) => Redirect::to(&to).into_response(),
        None => "Done: you can close this page.".into_response(),
    }
}
