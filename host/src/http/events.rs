//! The merchant's event feed.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::ApiQuery;
use crate::commerce::events::{self, Event};
use crate::commerce::{Page, Paged};

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// Event feed filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct EventQuery {
    /// From the previous page's `next_cursor`.
    cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// Only events of this type, e.g. `order.placed`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    kind: Option<String>,
}

/// What changed in the shop, oldest first: every change to an order, new
/// customers, stock crossing its low-stock threshold or running out, plugin
/// circuits opening — each written in the same transaction as the change
/// itself (a circuit, which lives in memory, just after).
#[utoipa::path(get, path = "/events", tag = "events", security(("bearer" = [])), params(EventQuery),
    responses((status = 200, body = inline(Paged<Event>)), (status = 422, body = Problem)))]
async fn list_events(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Json<Paged<Event>>> {
    let page = Page::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(events::list(&state.shop.db, &admin.merchant_id, q.kind.as_deref(), &page).await?))
}
