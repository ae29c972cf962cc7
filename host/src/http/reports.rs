//! `/v1/admin/reports/…`: sales over time, best sellers, the cart funnel
//! and plugin use. Sales and best sellers also as CSV (`format=csv`).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Admin;
use super::error::{ApiError, Problem, Result};
use super::json::ApiQuery;
use crate::commerce::reports::{self, Funnel, Interval, PluginReport, RangeQuery, SalesReport, TopProducts};

pub fn admin_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sales))
        .routes(routes!(top_products))
        .routes(routes!(funnel))
        .routes(routes!(plugins))
}

/// A report's range and shape.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// First day (`YYYY-MM-DD`, in the time zone), included; default 29 days before `to`.
    from: Option<String>,
    /// Last day, included; default today. At most 731 days after `from`.
    to: Option<String>,
    /// An IANA time zone; default the shop's (`GET /v1/admin/settings`).
    time_zone: Option<String>,
    /// `day` (default), `week` (Monday to Sunday) or `month` (sales only).
    interval: Option<String>,
    /// Best sellers listed, 1 to 100, default 10 (top products only).
    limit: Option<u32>,
    /// `json` (default) or `csv` (sales and top products).
    format: Option<String>,
}

impl ReportQuery {
    fn range(&self) -> RangeQuery {
        RangeQuery { from: self.from.clone(), to: self.to.clone(), time_zone: self.time_zone.clone() }
    }

    /// Whether CSV is asked for.
    fn csv(&self) -> Result<bool> {
        match self.format.as_deref().map(str::trim) {
            None | Some("json") => Ok(false),
            Some("csv") => Ok(true),
            Some(_) => Err(ApiError::from(crate::commerce::Error::field("format", "must be json or csv"))),
        }
    }
}

fn csv(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")),
        ],
        body,
    )
        .into_response()
}

/// Sales per day, week or month in the shop's time zone, per currency:
/// orders, units, gross sales, discounts, shipping, tax, total, refunds,
/// net and average order value, in minor units (CSV: major units).
#[utoipa::path(get, path = "/reports/sales", tag = "reports", security(("bearer" = [])), params(ReportQuery),
    responses((status = 200, content((SalesReport = "application/json"), (String = "text/csv"))),
        (status = 422, body = Problem)))]
async fn sales(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response> {
    let csv_wanted = q.csv()?;
    let interval = Interval::parse(q.interval.as_deref())?;
    let range = reports::range(&state.shop.db, &admin.merchant_id, &q.range()).await?;
    let report = reports::sales(&state.shop, &admin.merchant_id, &range, interval).await?;
    Ok(if csv_wanted { csv("sales", reports::sales_csv(&report)) } else { Json(report).into_response() })
}

/// The best-selling products and variants, by units.
#[utoipa::path(get, path = "/reports/top-products", tag = "reports", security(("bearer" = [])),
    params(ReportQuery),
    responses((status = 200, content((TopProducts = "application/json"), (String = "text/csv"))),
        (status = 422, body = Problem)))]
async fn top_products(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response> {
    let csv_wanted = q.csv()?;
    let range = reports::range(&state.shop.db, &admin.merchant_id, &q.range()).await?;
    let report = reports::top_products(&state.shop, &admin.merchant_id, &range, q.limit).await?;
    Ok(if csv_wanted {
        csv("top-products", reports::top_products_csv(&report))
    } else {
        Json(report).into_response()
    })
}

/// Carts created in the range and how far they went: e-mail given,
/// checkout attempted, order confirmed; abandoned and recovered.
#[utoipa::path(get, path = "/reports/funnel", tag = "reports", security(("bearer" = [])), params(ReportQuery),
    responses((status = 200, body = Funnel), (status = 422, body = Problem)))]
async fn funnel(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Json<Funnel>> {
    let range = reports::range(&state.shop.db, &admin.merchant_id, &q.range()).await?;
    Ok(Json(reports::funnel(&state.shop, &admin.merchant_id, &range).await?))
}

/// The shop's plugin bindings: calls made for it, failures, p99 latency
/// and circuit state (on this host, since it started).
#[utoipa::path(get, path = "/reports/plugins", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = PluginReport)))]
async fn plugins(admin: Admin, State(state): State<AppState>) -> Result<Json<PluginReport>> {
    Ok(Json(reports::plugins(&state.shop, &admin.merchant_id).await?))
}
