//! The faces of the API: the storefront at `/shop/{slug}`, the console at
//! `/console`, and their static files at `/assets/…` (built into the
//! binary from `host/assets/`). The pages are plain HTML, CSS and ES
//! modules that call the same public API a script would; the host only
//! tells a storefront which shop it is (and its publishable key, public by
//! design). Every page is sent with a strict Content-Security-Policy: the
//! page's own scripts and styles, API calls to this origin, nothing else.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tower_http::compression::CompressionLayer;

use super::AppState;
use crate::commerce::{self, merchants};

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

/// Where a page may load from and send to: itself only, and for a shop
/// that takes cards through Stripe, Stripe.js from `stripe_js` (with the
/// frames and API it uses: Stripe's documented policy for Elements).
pub fn content_security_policy(stripe_js: Option<&str>) -> String {
    let origin = stripe_js.and_then(|u| url::Url::parse(u).ok()).map(|u| u.origin().ascii_serialization());
    let (script, frame, connect) = match origin.as_deref() {
        None => (String::new(), "'none'".to_owned(), String::new()),
        Some("https://js.stripe.com") => (
            " https://js.stripe.com".to_owned(),
            "https://js.stripe.com https://hooks.stripe.com".to_owned(),
            " https://api.stripe.com".to_owned(),
        ),
        Some(other) => (format!(" {other}"), other.to_owned(), format!(" {other}")),
    };
    format!(
        "default-src 'none'; script-src 'self'{script}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'{connect}; frame-src {frame}; font-src 'self'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Replaced in the storefront's HTML by the shop it shows.
const SHOP_CONFIG_MARK: &str = "<!--mercato-config-->";

/// The pages and their files; answers are gzip-compressed when asked.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(console))
        .route("/shop/{slug}", get(storefront))
        .route("/assets/{*path}", get(asset))
        .layer(CompressionLayer::new())
}

async fn console() -> Response {
    match Assets::get("console/index.html") {
        Some(file) => page(StatusCode::OK, file.data.into_owned(), None),
        None => not_found_page("The console is not part of this build."),
    }
}

async fn storefront(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let shop = match merchants::storefront(&state.shop.db, &slug).await {
        Ok(shop) => shop,
        Err(commerce::Error::NotFound(_)) => return not_found_page("There is no shop at this address."),
        Err(e) => return super::error::ApiError::from(e).into_response(),
    };
    let Some(file) = Assets::get("shop/index.html") else {
        return not_found_page("The storefront is not part of this build.");
    };
    let stripe_js = match crate::commerce::stripe::storefront_js(&state.shop, &shop.merchant_id).await {
        Ok(js) => js,
        Err(e) => return super::error::ApiError::from(e).into_response(),
    };
    let html = String::from_utf8_lossy(&file.data);
    let mut config = serde_json::to_value(&shop).unwrap_or_default();
    config["stripe_js"] = stripe_js.clone().into();
    let meta = format!(
        r#"<meta name="mercato-config" content="{}"><title>{}</title>"#,
        escape(&config.to_string()),
        escape(&shop.name)
    );
    page(StatusCode::OK, html.replacen(SHOP_CONFIG_MARK, &meta, 1).into_bytes(), stripe_js.as_deref())
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    // HTML is served only as a page, with its headers.
    let Some(file) = Assets::get(&path).filter(|_| !path.ends_with(".html")) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        return (StatusCode::NOT_MODIFIED, cache, [(header::ETAG, etag)]).into_response();
    }
    let content_type = content_type(&path);
    (cache, [(header::ETAG, etag), (header::CONTENT_TYPE, content_type.into())], file.data.into_owned())
        .into_response()
}

/// An HTML page with the headers every page gets (Stripe.js allowed from
/// `stripe_js`, if given).
fn page(status: StatusCode, html: Vec<u8>, stripe_js: Option<&str>) -> Response {
    let policy = HeaderValue::from_str(&content_security_policy(stripe_js))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (header::CONTENT_SECURITY_POLICY, policy),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    (status, headers, html).into_response()
}

fn not_found_page(message: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Not found</title><link rel=\"stylesheet\" href=\"/assets/shop/shop.css\"></head>\
         <body><main class=\"not-found\"><h1>Not found</h1><p>{}</p></main></body></html>",
        escape(message)
    );
    page(StatusCode::NOT_FOUND, html.into_bytes(), None)
}

/// Text safe inside HTML, attribute values included.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_is_escaped_for_text_and_attributes() {
        assert_eq!(
            super::escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn only_a_stripe_shop_may_load_stripe_js() {
        let plain = super::content_security_policy(None);
        assert!(plain.contains("script-src 'self';") && plain.contains("frame-src 'none'"), "{plain}");
        let stripe = super::content_security_policy(Some("https://js.stripe.com/v3/"));
        assert!(stripe.contains("script-src 'self' https://js.stripe.com;"), "{stripe}");
        assert!(stripe.contains("connect-src 'self' https://api.stripe.com;"), "{stripe}");
        assert!(stripe.contains("frame-src https://js.stripe.com https://hooks.stripe.com;"), "{stripe}");
        let double = super::content_security_policy(Some("http://127.0.0.1:9/v3/"));
        assert!(double.contains("script-src 'self' http://127.0.0.1:9;"), "{double}");
        assert!(!double.contains("unsafe"), "{double}");
    }

    #[test]
    fn assets_have_their_content_types() {
        assert_eq!(super::content_type("shop/shop.js"), "text/javascript; charset=utf-8");
        assert_eq!(super::content_type("vendor/uplot/uPlot.min.css"), "text/css; charset=utf-8");
        assert_eq!(super::content_type("vendor/uplot/LICENSE"), "text/plain; charset=utf-8");
    }
}
