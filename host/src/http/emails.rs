//! `/v1/admin/email-templates` and `/v1/admin/emails`: what the shop's
//! e-mails say, and what became of each one sent.

use axum::Json;
use axum::extract::State;

use super::AppState;
use super::auth::Admin;
use super::error::{Problem, Result};
use super::json::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::commerce::Paged;
use crate::commerce::emails::{self, EmailMessage, EmailTemplate, Rendered, TemplateChange};

pub fn admin_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template, reset_template))
        .routes(routes!(preview))
        .routes(routes!(list_messages))
}

/// Every e-mail the shop sends, with the template in use (the shop's own or Mercato's).
#[utoipa::path(get, path = "/email-templates", tag = "emails", security(("bearer" = [])),
    responses((status = 200, body = Vec<EmailTemplate>)))]
async fn list_templates(admin: Admin, State(state): State<AppState>) -> Result<Json<Vec<EmailTemplate>>> {
    Ok(Json(emails::list_templates(&state.shop, &admin.merchant_id).await?))
}

/// One kind's template.
#[utoipa::path(get, path = "/email-templates/{kind}", tag = "emails", security(("bearer" = [])),
    responses((status = 200, body = EmailTemplate), (status = 404, body = Problem)))]
async fn get_template(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(kind): ApiPath<String>,
) -> Result<Json<EmailTemplate>> {
    Ok(Json(emails::template(&state.shop, &admin.merchant_id, &kind).await?))
}

/// Replaces a kind's template (minijinja; `money` formats amounts). It must
/// render its sample (see the preview): 422 names the part that does not.
#[utoipa::path(put, path = "/email-templates/{kind}", tag = "emails", security(("bearer" = [])),
    request_body = TemplateChange,
    responses((status = 200, body = EmailTemplate), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn put_template(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(kind): ApiPath<String>,
    ApiJson(req): ApiJson<TemplateChange>,
) -> Result<Json<EmailTemplate>> {
    Ok(Json(emails::put_template(&state.shop, &admin.merchant_id, &kind, req).await?))
}

/// Goes back to Mercato's template of this kind.
#[utoipa::path(delete, path = "/email-templates/{kind}", tag = "emails", security(("bearer" = [])),
    responses((status = 200, body = EmailTemplate), (status = 404, body = Problem)))]
async fn reset_template(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(kind): ApiPath<String>,
) -> Result<Json<EmailTemplate>> {
    Ok(Json(emails::reset_template(&state.shop, &admin.merchant_id, &kind).await?))
}

/// Renders the kind's template, or the draft given, with sample data.
#[utoipa::path(post, path = "/email-templates/{kind}/preview", tag = "emails", security(("bearer" = [])),
    request_body = TemplateChange,
    responses((status = 200, body = Rendered), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn preview(
    admin: Admin,
    State(state): State<AppState>,
    ApiPath(kind): ApiPath<String>,
    ApiJson(req): ApiJson<TemplateChange>,
) -> Result<Json<Rendered>> {
    Ok(Json(emails::preview(&state.shop, &admin.merchant_id, &kind, req).await?))
}

/// Every e-mail queued for the shop, oldest first: sent, pending, failed or
/// not sent (with why).
#[utoipa::path(get, path = "/emails", tag = "emails", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = inline(Paged<EmailMessage>))))]
async fn list_messages(
    admin: Admin,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<Paged<EmailMessage>>> {
    Ok(Json(emails::messages(&state.shop, &admin.merchant_id, &q.page()?).await?))
}
