//! Plugins over HTTP: the operator installs components and watches them
//! (`/v1/platform/plugins`); a merchant binds them per extension point
//! (`/v1/admin/plugin-bindings`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request, State};
use axum::http::{StatusCode, header};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Admin, Platform};
use super::error::{ApiError, Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery};
use crate::commerce::cart::{self, BindingsPreview, Cart};
use crate::commerce::plugins::{
    self, BindError, BindingUpgrade, BindingsByPoint, NetworkRequest, NewBindings, Plugin, PluginChange,
    PluginHistory, PluginSummary, PointBindings, ShadowPromotion, ShadowReport,
};
use crate::commerce::{Page, Paged};
use crate::runtime::LimitOverrides;

/// How far an upload may exceed the runtime's cap on component size
/// (`MERCATO_MAX_COMPONENT_MB`): up to it the runtime answers a clear 422,
/// beyond it the body is not read (413).
const UPLOAD_SLACK: usize = 1 << 20;

pub fn platform_router() -> OpenApiRouter<AppState> {
    // The upload reads its body up to the runtime's cap itself.
    let upload = OpenApiRouter::new().routes(routes!(install_plugin)).layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(get_plugin, change_plugin, uninstall_plugin))
        .routes(routes!(set_plugin_limits))
        .routes(routes!(set_plugin_network))
        .routes(routes!(plugin_logs))
        .routes(routes!(plugin_history))
        .merge(upload)
}

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bindings))
        .routes(routes!(replace_bindings))
        .routes(routes!(preview_bindings))
        .routes(routes!(upgrade_binding))
        .routes(routes!(promote_shadow))
        .routes(routes!(shadow_report))
        .routes(routes!(available_plugins))
        .routes(routes!(config_schema))
}

/// A component upload by the operator, sent as `Content-Type:
/// application/wasm`. A refused upload is still read (its first MiB)
/// before the answer: a server that closes on unread bytes resets the
/// connection, and the client would never see its 401, 403 or 415.
struct Upload(Bytes);

impl FromRequest<AppState> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = req.into_parts();
        let wasm = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/wasm"));
        let refused = match Platform::from_request_parts(&mut parts, state).await {
            Err(e) => Some(e),
            Ok(Platform) if !wasm => Some(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the component bytes with Content-Type: application/wasm",
            )),
            Ok(Platform) => None,
        };
        if let Some(e) = refused {
            // Read a little of it, so the client sees this answer; never the whole cap.
            let _ = axum::body::to_bytes(body, UPLOAD_SLACK).await;
            return Err(e);
        }
        let cap = usize::try_from(state.shop.runtime.max_component_bytes()).unwrap_or(usize::MAX);
        let limit = cap.saturating_add(UPLOAD_SLACK);
        let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
            let too_large =
                std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("a component upload is at most {limit} bytes (the operator's cap is {cap})"),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.to_string())
            }
        })?;
        Ok(Upload(bytes))
    }
}

/// Installs a WebAssembly component. Its name, version and extension point
/// come from the component itself; it is checked (a component, a known
/// world and contract version, only the imports that world allows) and
/// compiled before it is stored. The same bytes again answer 200 with the
/// plugin already installed.
#[utoipa::path(post, path = "/plugins", tag = "platform", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The component bytes"),
    responses(
        (status = 201, body = Plugin, description = "Installed"),
        (status = 200, body = Plugin, description = "These bytes were already installed"),
        (status = 409, body = Problem, description = "`version_exists`: same name and version, other bytes"),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "Refused: `not_a_component`, `unknown_world`, \
            `unsupported_version`, `forbidden_import`, `invalid_metadata`, `component_too_large`, \
            `invalid_component`")))]
async fn install_plugin(
    State(state): State<AppState>,
    Upload(bytes): Upload,
) -> Result<(StatusCode, Json<Plugin>)> {
    let (plugin, created) =
        plugins::install(&state.shop.db, &state.shop.runtime, &state.shop.bindings, bytes).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(plugin)))
}

/// Which plugins to list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PluginQuery {
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Only plugins of this extension point.
    extension_point: Option<String>,
}

/// Installed plugins in id order, with their call statistics and circuit
/// state on this host.
#[utoipa::path(get, path = "/plugins", tag = "platform", security(("bearer" = [])), params(PluginQuery),
    responses((status = 200, body = inline(Paged<Plugin>)), (status = 422, body = Problem)))]
async fn list_plugins(
    _: Platform,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PluginQuery>,
) -> Result<Json<Paged<Plugin>>> {
    let (point, page) = q.parts()?;
    Ok(Json(plugins::list(&state.shop.db, &state.shop.runtime, &state.shop.bindings, point, &page).await?))
}

impl PluginQuery {
    fn parts(&self) -> Result<(Option<mercato_sdk::ExtensionPoint>, Page)> {
        let page = Page::parse(self.cursor.as_deref(), self.limit)?;
        let point = match self.extension_point.as_deref() {
            None | Some("") => None,
            Some(p) => Some(plugins::extension_point(p).map_err(|_| {
                ApiError::field(
                    "extension_point",
                    "must be pricing, tax, shipping, payment or recommendations",
                )
            })?),
        };
        Ok((point, page))
    }
}

/// Installed plugins the merchant can bind, with each one's description and
/// configuration schema (for a configuration form).
#[utoipa::path(get, path = "/plugins", tag = "admin", security(("bearer" = [])), params(PluginQuery),
    responses((status = 200, body = inline(Paged<PluginSummary>)), (status = 422, body = Problem)))]
async fn available_plugins(
    _: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PluginQuery>,
) -> Result<Json<Paged<PluginSummary>>> {
    let (point, page) = q.parts()?;
    let shop = &state.shop;
    Ok(Json(plugins::available(&shop.db, &shop.runtime, &shop.bindings, point, &page).await?))
}

/// The JSON Schema of an installed plugin's configuration (`{}` when it
/// declares none: any object).
#[utoipa::path(get, path = "/plugins/{id}/config-schema", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`")),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn config_schema(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>> {
    let plugin = plugins::get(&state.shop.db, &state.shop.runtime, &state.shop.bindings, &id).await?;
    Ok(Json(plugin.config_schema))
}

/// One installed plugin: metadata, limits, call counts, failures, latency
/// percentiles and circuit state.
#[utoipa::path(get, path = "/plugins/{id}", tag = "platform", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`")),
    responses((status = 200, body = Plugin), (status = 404, body = Problem)))]
async fn get_plugin(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Plugin>> {
    Ok(Json(plugins::get(&state.shop.db, &state.shop.runtime, &state.shop.bindings, &id).await?))
}

/// A plugin's calls over the last hour on this host, in windows of about
/// ten seconds: calls, failures and latency percentiles of each (what the
/// console plots). In memory, per host; a restart starts it again.
#[utoipa::path(get, path = "/plugins/{id}/history", tag = "platform", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`")),
    responses((status = 200, body = PluginHistory), (status = 404, body = Problem)))]
async fn plugin_history(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PluginHistory>> {
    Ok(Json(plugins::history(&state.shop.db, &state.shop.runtime, &id).await?))
}

/// Disables a plugin platform-wide (`{"enabled": false}`: every merchant's
/// bindings of it answer as their `on_error` says, without running it) or
/// enables it again.
#[utoipa::path(patch, path = "/plugins/{id}", tag = "platform", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`")), request_body = PluginChange,
    responses((status = 200, body = Plugin), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn change_plugin(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<PluginChange>,
) -> Result<Json<Plugin>> {
    Ok(Json(plugins::change(&state.shop.db, &state.shop.runtime, &state.shop.bindings, &id, req).await?))
}

/// Uninstalls a plugin nothing binds. 409 `plugin_bound` names the
/// bindings that hold it; 409 `plugin_has_payments` for a payment plugin
/// that took payments (disable it instead).
#[utoipa::path(delete, path = "/plugins/{id}", tag = "platform", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`")),
    responses((status = 204, description = "Uninstalled"), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn uninstall_plugin(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    plugins::uninstall(&state.shop.db, &state.shop.runtime, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whose calls to show.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LogsQuery {
    /// Only the calls made for this merchant.
    merchant_id: Option<String>,
}

/// What this host remembers of a plugin's calls: recent log lines (what it
/// logged and what it printed, a panic's message included) and the last
/// failure of each kind, each naming the merchant whose call it was.
/// In memory, per host.
#[utoipa::path(get, path = "/plugins/{id}/logs", tag = "platform", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`"), LogsQuery),
    responses((status = 200, body = plugins::PluginLogs), (status = 404, body = Problem)))]
async fn plugin_logs(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> Result<Json<plugins::PluginLogs>> {
    Ok(Json(plugins::logs(&state.shop.db, &state.shop.runtime, &id, q.merchant_id.as_deref()).await?))
}

/// Replaces a plugin's limit overrides (`{}` restores every default): fuel
/// per 200 lines, deadline, memory, input and output caps. Calls after this
/// run under them, and they survive restarts.
#[utoipa::path(patch, path = "/plugins/{id}/limits", tag = "platform", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`")),
    request_body(content = Object, description = "Any of fuel_per_200_lines, deadline_ms, memory_bytes, \
        max_input_bytes, max_output_bytes"),
    responses((status = 200, body = Plugin), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "`invalid_limits` or `validation_failed`")))]
async fn set_plugin_limits(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(overrides): ApiJson<LimitOverrides>,
) -> Result<Json<Plugin>> {
    Ok(Json(
        plugins::set_limits(&state.shop.db, &state.shop.runtime, &state.shop.bindings, &id, overrides)
            .await?,
    ))
}

/// Replaces the hosts a payment plugin may reach over HTTP (`[]` allows
/// none): exact `host:port` each, private and loopback addresses only when
/// listed as addresses. Requests elsewhere are refused, and the call's
/// failure names the host.
#[utoipa::path(put, path = "/plugins/{id}/network", tag = "platform", security(("bearer" = [])),
    params(("id" = String, Path, description = "Plugin id, `plg_…`")), request_body = NetworkRequest,
    responses((status = 200, body = Plugin), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "`network_not_supported` or `validation_failed`")))]
async fn set_plugin_network(
    _: Platform,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NetworkRequest>,
) -> Result<Json<Plugin>> {
    let shop = &state.shop;
    Ok(Json(plugins::set_allowed_hosts(&shop.db, &shop.runtime, &shop.bindings, &id, req).await?))
}

impl From<BindError> for ApiError {
    fn from(e: BindError) -> ApiError {
        match e {
            BindError::Rejected { code, errors } => {
                let detail = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
                ApiError {
                    errors: Some(errors),
                    ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
                }
            }
            BindError::Core(e) => e.into(),
        }
    }
}

/// One of the merchant's carts priced with these bindings in place of its
/// own for one extension point (pricing, shipping or tax): try a plugin or
/// a configuration before binding it. The bindings are checked like a
/// replacement (same 422s); nothing is saved, and the cart is not changed.
#[utoipa::path(post, path = "/plugin-bindings/{extension_point}/preview", tag = "admin", security(("bearer" = [])),
    params(("extension_point" = String, Path, description = "pricing, tax or shipping")),
    request_body = BindingsPreview,
    responses((status = 200, body = Cart),
        (status = 404, body = Problem, description = "Unknown extension point or cart"),
        (status = 422, body = Problem, description = "`unknown_plugin`, `wrong_extension_point`, `invalid_config` or `preview_unavailable`")))]
async fn preview_bindings(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(point): ApiPath<String>,
    ApiJson(req): ApiJson<BindingsPreview>,
) -> Result<Json<Cart>> {
    let point = plugins::extension_point(&point)?;
    Ok(Json(cart::preview(&state.shop, &admin.merchant_id, point, req).await?))
}

/// Moves one binding to another version of the same plugin, in place (its
/// position and `on_error` kept), with a new configuration or its current
/// one, in one transaction: an upgrade (or a rollback) without a moment
/// unbound. Checked like a replacement, the new version's schema included.
#[utoipa::path(post, path = "/plugin-bindings/{extension_point}/upgrade", tag = "admin", security(("bearer" = [])),
    params(("extension_point" = String, Path, description = "pricing, tax, shipping, payment or recommendations")),
    request_body = BindingUpgrade,
    responses((status = 200, body = PointBindings),
        (status = 404, body = Problem, description = "Unknown extension point"),
        (status = 422, body = Problem, description = "`not_bound`, `unknown_plugin`, `not_the_same_plugin` or `invalid_config`")))]
async fn upgrade_binding(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(point): ApiPath<String>,
    ApiJson(req): ApiJson<BindingUpgrade>,
) -> Result<Json<PointBindings>> {
    let point = plugins::extension_point(&point)?;
    let shop = &state.shop;
    let upgraded = plugins::upgrade_binding(
        &shop.db,
        &shop.runtime,
        &shop.bindings,
        &admin.merchant_id,
        point,
        req,
        BY_MERCHANT,
    )
    .await?;
    Ok(Json(upgraded))
}

/// Makes a shadow binding live in one step: it takes the place and the
/// `on_error` of the binding it shadows, with its own configuration, and
/// that binding is unbound, in one transaction (a `plugin_bindings.changed`
/// event records it).
#[utoipa::path(post, path = "/plugin-bindings/{extension_point}/promote", tag = "admin", security(("bearer" = [])),
    params(("extension_point" = String, Path, description = "pricing, tax or shipping")),
    request_body = ShadowPromotion,
    responses((status = 200, body = PointBindings),
        (status = 404, body = Problem, description = "Unknown extension point"),
        (status = 422, body = Problem, description = "`not_shadowing`")))]
async fn promote_shadow(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(point): ApiPath<String>,
    ApiJson(req): ApiJson<ShadowPromotion>,
) -> Result<Json<PointBindings>> {
    let point = plugins::extension_point(&point)?;
    let shop = &state.shop;
    let promoted = plugins::promote_shadow(
        &shop.db,
        &shop.runtime,
        &shop.bindings,
        &admin.merchant_id,
        point,
        req,
        BY_MERCHANT,
    )
    .await?;
    Ok(Json(promoted))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ShadowReportQuery {
    /// Differences and failures shown per shadow binding, 0 to 50; default 5.
    #[param(minimum = 0, maximum = 50)]
    examples: Option<usize>,
}

/// How each shadow binding of this extension point compares with the live
/// binding it runs beside: calls compared, identical, differing (with the
/// first examples: input hash, both answers and the paths where they
/// differ), failed, and the p50/p99 call time of each side.
#[utoipa::path(get, path = "/plugin-bindings/{extension_point}/shadow-report", tag = "admin", security(("bearer" = [])),
    params(("extension_point" = String, Path, description = "pricing, tax, shipping, payment or recommendations"), ShadowReportQuery),
    responses((status = 200, body = ShadowReport),
        (status = 404, body = Problem, description = "Unknown extension point"),
        (status = 422, body = Problem, description = "`validation_failed`")))]
async fn shadow_report(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(point): ApiPath<String>,
    ApiQuery(q): ApiQuery<ShadowReportQuery>,
) -> Result<Json<ShadowReport>> {
    let point = plugins::extension_point(&point)?;
    let examples = q.examples.unwrap_or(5);
    Ok(Json(plugins::shadow_report(&state.shop, &admin.merchant_id, point, examples).await?))
}

/// Who a binding change through the admin API is recorded as made by.
const BY_MERCHANT: &str = "merchant (secret key)";

/// The merchant's plugin bindings of every extension point, in call order,
/// with each binding's circuit state.
#[utoipa::path(get, path = "/plugin-bindings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = BindingsByPoint)))]
async fn list_bindings(admin: Admin, State(state): State<AppState>) -> Result<Json<BindingsByPoint>> {
    Ok(Json(
        plugins::list_bindings(&state.shop.db, &state.shop.runtime, &state.shop.bindings, &admin.merchant_id)
            .await?,
    ))
}

/// Replaces the merchant's bindings of one extension point with this ordered
/// list (at most 10; `[]` unbinds all). Takes effect at once, no restart.
#[utoipa::path(put, path = "/plugin-bindings/{extension_point}", tag = "admin", security(("bearer" = [])),
    params(("extension_point" = String, Path, description = "pricing, tax, shipping, payment or recommendations")),
    request_body = NewBindings,
    responses((status = 200, body = PointBindings),
        (status = 404, body = Problem, description = "Unknown extension point"),
        (status = 422, body = Problem, description = "`unknown_plugin`, `wrong_extension_point` or `validation_failed`")))]
async fn replace_bindings(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(point): ApiPath<String>,
    ApiJson(req): ApiJson<NewBindings>,
) -> Result<Json<PointBindings>> {
    let point = plugins::extension_point(&point)?;
    let replaced = plugins::replace_bindings(
        &state.shop.db,
        &state.shop.runtime,
        &state.shop.bindings,
        &admin.merchant_id,
        point,
        req,
        BY_MERCHANT,
    )
    .await?;
    Ok(Json(replaced))
}
