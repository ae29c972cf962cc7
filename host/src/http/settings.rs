//! `GET|PATCH /v1/admin/settings`: the shop's own settings.

use axum::Json;
use axum::extract::State;

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::ApiJson;
use crate::commerce::merchants::{self, Settings, SettingsChange};

pub fn admin_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(get_settings, set_settings))
}

/// The shop's time zone and abandoned-cart delay.
#[utoipa::path(get, path = "/settings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Settings)))]
async fn get_settings(admin: Admin, State(state): State<AppState>) -> Result<Json<Settings>> {
    Ok(Json(merchants::settings(&state.shop.db, &admin.merchant_id).await?))
}

/// Changes what is given of the shop's settings.
#[utoipa::path(patch, path = "/settings", tag = "admin", security(("bearer" = [])),
    request_body = SettingsChange,
    responses((status = 200, body = Settings), (status = 422, body = Problem)))]
async fn set_settings(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SettingsChange>,
) -> Result<Json<Settings>> {
    Ok(Json(merchants::set_settings(&state.shop.db, &admin.merchant_id, req).await?))
}
