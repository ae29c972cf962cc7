//! The HTTP API: routers per area, merged in [`app`]; [`serve`] binds and
//! shuts down gracefully. Handlers parse, call the commerce core and render;
//! they never touch SQL.

pub mod auth;
mod carts;
mod catalog;
mod cors;
mod customers;
mod discounts;
mod emails;
pub mod error;
mod events;
mod hooks;
pub mod idempotency;
mod inventory;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod openapi;
mod order_actions;
mod orders;
pub mod pages;
mod payment_providers;
mod platform;
mod plugins;
mod recommendations;
mod reports;
mod settings;
mod system;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, header};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::commerce::Shop;
use crate::commerce::idempotency::Keys;

/// What every handler can reach: the commerce core's handles, and what
/// the HTTP edge itself keeps (the operator key's hash, idempotency keys,
/// abuse limits).
#[derive(Clone)]
pub struct AppState(Arc<Handles>);

/// What an [`AppState`] shares with every request. Behind one `Arc`: axum
/// clones the state for every extractor and middleware of every request,
/// and a clone of these handles one by one is some thirty reference
/// counts touched and dropped (measured: 5 % of the host's CPU on a
/// purchase).
#[derive(Clone)]
pub struct Handles {
    /// The commerce core's handles (database, runtime, bindings, memo).
    pub shop: Shop,
    /// The sha256 of the operator key, compared in constant time.
    pub operator_key_hash: [u8; 32],
    /// Idempotency keys of keyed POSTs.
    pub keys: Keys,
    /// Per-key request rates and login throttling.
    pub limits: Arc<limits::Limits>,
    /// Requests counted and timed, for `/metrics`.
    pub http_metrics: Arc<metrics::HttpMetrics>,
}

impl std::ops::Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

impl AppState {
    /// State for `shop`, served with `operator_key` as the platform key.
    pub fn new(shop: Shop, operator_key: &str) -> AppState {
        AppState::with_operator_key_hash(shop, auth::operator_key_hash(operator_key))
    }

    /// State for an operator key known only by its sha256.
    pub fn with_operator_key_hash(shop: Shop, hash: [u8; 32]) -> AppState {
        AppState(Arc::new(Handles {
            keys: Keys::new(&shop, crate::commerce::idempotency::DEFAULT_LEASE),
            limits: Arc::new(limits::Limits::new(limits::LimitConfig::default())),
            operator_key_hash: hash,
            http_metrics: Arc::default(),
            shop,
        }))
    }

    /// Leases idempotency keys of running requests for `lease` (see
    /// [`crate::commerce::idempotency`]).
    pub fn with_idempotency_lease(mut self, lease: std::time::Duration) -> AppState {
        let handles = Arc::make_mut(&mut self.0);
        handles.keys = Keys::new(&handles.shop, lease);
        self
    }

    /// Sets the abuse limits (see [`limits`]).
    pub fn with_limits(mut self, config: limits::LimitConfig) -> AppState {
        Arc::make_mut(&mut self.0).limits = Arc::new(limits::Limits::new(config));
        self
    }
}

/// Largest JSON body.
pub const MAX_BODY_BYTES: usize = 1 << 20;

#[derive(OpenApi)]
#[openapi(
    info(title = "Mercato", description = "Multi-merchant commerce with sandboxed WebAssembly plugins."),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every documented route, with its OpenAPI description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/v1/platform", platform::router().merge(plugins::platform_router()))
        .nest(
            "/v1/admin",
            catalog::admin_router()
                .merge(inventory::admin_router())
                .merge(discounts::admin_router())
                .merge(customers::admin_router())
                .merge(orders::admin_router())
                .merge(events::admin_router())
                .merge(order_actions::admin_router())
                .merge(plugins::admin_router())
                .merge(cors::admin_router())
                .merge(payment_providers::admin_router())
                .merge(webhooks::admin_router())
                .merge(settings::admin_router())
                .merge(emails::admin_router())
                .merge(reports::admin_router()),
        )
        .nest("/v1/hooks", hooks::router())
        .nest(
            "/v1/store",
            catalog::store_router()
                .merge(customers::store_router())
                .merge(carts::store_router())
                .merge(orders::store_router())
                .merge(recommendations::store_router()),
        )
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_routes().1
}

/// The routes and their OpenAPI document, with what the layers add to it.
fn documented_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut api) = routes().split_for_parts();
    idempotency::document(&mut api);
    openapi::document(&mut api);
    (router, api)
}

#[derive(Clone, Default)]
struct NewRequestId;

impl MakeRequestId for NewRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        crate::commerce::ids::new_id("req").parse().ok().map(RequestId::new)
    }
}

/// The application, ready to serve or to drive in tests.
pub fn app(state: AppState) -> Router {
    let (router, api) = documented_routes();
    let request_id = HeaderName::from_static("x-request-id");
    router
        .merge(system::router(Arc::new(api)))
        .merge(pages::router())
        // Unknown paths and methods answer problem+json like everything else.
        .fallback(|| async { error::ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async {
            let detail = "this method is not allowed on this path";
            error::ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", detail)
        })
        // A bug that panics answers 500 instead of dropping the connection;
        // inside the idempotency layer, so the key is released like after
        // any other server error.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            let e = crate::commerce::Error::Internal(anyhow::anyhow!("a request handler panicked"));
            axum::response::IntoResponse::into_response(error::ApiError::from(e))
        }))
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        // Before anything reads a body or the database.
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::layer))
        // Outermost but for tracing: a preflight is answered before any limit.
        .layer(axum::middleware::from_fn_with_state(state.clone(), cors::layer))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Every answer counted and timed, refusals by the layers inside too.
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::layer))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, NewRequestId))
        // Keys and tokens never reach the logs.
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            HeaderName::from_static(customers::TOKEN_HEADER),
            HeaderName::from_static(orders::ORDER_TOKEN_HEADER),
        ]))
        .with_state(state)
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM, letting in-flight
/// requests finish.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    // The client's address, for the limits of requests without a key and of logins.
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
