//! The denominator: a bare axum route that reads one row by primary key
//! the way the host reads (`Db::reads`: on SQLite the host's own
//! connections, on PostgreSQL sqlx's pool; same sizes, same set-up), in a
//! process of its own like `mercato serve`.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// Rows in the table; clients read them in turn.
pub const ROWS: usize = 16;

/// The id of row `i`.
pub fn row_id(i: usize) -> String {
    format!("mer_{:04}", i % ROWS)
}

/// Serves `GET /rows/{id}` until killed; prints `listening on http://…`.
pub fn serve(url: &str, listen: SocketAddr) -> Result<bool> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let db =
            mercato::db::Db::connect(url).await.context("baseline: failed to connect to the database")?;
        seed(db.pool()).await?;
        let app = axum::Router::new().route("/rows/{id}", get(read_row)).with_state(db);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        Ok(true)
    })
}

/// A copy of the merchant table's shape with a few rows.
async fn seed(pool: &AnyPool) -> Result<()> {
    sqlx::query(
        "create table if not exists loadgen_baseline (merchant_id text primary key, name text not null, \
         slug text not null, default_currency text not null, country text not null, created_at bigint not null)",
    )
    .execute(pool)
    .await?;
    sqlx::query("delete from loadgen_baseline").execute(pool).await?;
    for i in 0..ROWS {
        sqlx::query("insert into loadgen_baseline values ($1, $2, $3, 'USD', 'US', $4)")
            .bind(row_id(i))
            .bind(format!("Shop {i}"))
            .bind(format!("shop-{i}"))
            .bind(1_700_000_000_000i64 + i as i64)
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn read_row(
    State(db): State<mercato::db::Db>,
    Path(id): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    let row: Option<AnyRow> = sqlx::query(
        "select merchant_id, name, slug, default_currency, country, created_at \
         from loadgen_baseline where merchant_id = $1",
    )
    .bind(id)
    .fetch_optional(db.reads())
    .await
    .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let row = row.ok_or(StatusCode::NOT_FOUND)?;
    let text = |i: usize| row.try_get::<String, _>(i).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR);
    Ok(Json(json!({
        "id": text(0)?,
        "name": text(1)?,
        "slug": text(2)?,
        "default_currency": text(3)?,
        "country": text(4)?,
        "created_at": row.try_get::<i64, _>(5).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?,
    })))
}
