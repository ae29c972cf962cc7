//! Discount codes and their usage counts.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;
use crate::model::discounts::DiscountCode;

const COLUMNS: &str = "discount_code_id, code, usage_limit, usage_count, starts_at, ends_at, created_at";

fn discount_code(row: &AnyRow) -> Result<DiscountCode> {
    Ok(DiscountCode {
        id: row.try_get("discount_code_id")?,
        code: row.try_get("code")?,
        usage_limit: row.try_get("usage_limit")?,
        usage_count: row.try_get("usage_count")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Fails on the `(merchant_id, code_key)` unique constraint for a taken code.
pub async fn insert(db: &Db, merchant_id: &str, dc: &DiscountCode, code_key: &str) -> Result<()> {
    db.write(sqlx::query(
        "insert into discount_code (discount_code_id, merchant_id, code, code_key, usage_limit, usage_count, \
         starts_at, ends_at, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&dc.id)
    .bind(merchant_id)
    .bind(&dc.code)
    .bind(code_key)
    .bind(dc.usage_limit)
    .bind(dc.usage_count)
    .bind(dc.starts_at)
    .bind(dc.ends_at)
    .bind(dc.created_at)
    )
    .await?;
    Ok(())
}

/// One of the merchant's discount codes, if it exists.
pub async fn get(db: &Db, merchant_id: &str, id: &str) -> Result<Option<DiscountCode>> {
    let sql = format!("select {COLUMNS} from discount_code where merchant_id = $1 and discount_code_id = $2");
    let row = sqlx::query(&sql).bind(merchant_id).bind(id).fetch_optional(db.reads()).await?;
    row.as_ref().map(discount_code).transpose()
}

/// The merchant's code with this case-insensitive key, if any.
pub async fn find_by_key(db: &Db, merchant_id: &str, code_key: &str) -> Result<Option<DiscountCode>> {
    let sql = format!("select {COLUMNS} from discount_code where merchant_id = $1 and code_key = $2");
    let row = sqlx::query(&sql).bind(merchant_id).bind(code_key).fetch_optional(db.reads()).await?;
    row.as_ref().map(discount_code).transpose()
}

/// The merchant's discount codes in id order (oldest first), after `after`.
pub async fn list(db: &Db, merchant_id: &str, after: Option<&str>, limit: u32) -> Result<Vec<DiscountCode>> {
    let select = format!("select {COLUMNS} from discount_code");
    super::merchant_page(db, &select, "discount_code_id", merchant_id, after, limit, discount_code).await
}

/// Whether the code existed.
pub async fn delete(db: &Db, merchant_id: &str, id: &str) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("delete from discount_code where merchant_id = $1 and discount_code_id = $2")
                .bind(merchant_id)
                .bind(id),
        )
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Claims one use of a code, if it is inside its window at `now_ms` and has
/// uses left: one conditional statement, so concurrent claims never exceed
/// the limit. Runs on the caller's connection or transaction (`&mut *tx`),
/// so a checkout that fails later rolls the claim back with everything else.
/// On SQLite, call it before any read in that transaction (or begin it
/// immediate) so the write lock is taken up front.
pub async fn increment_usage(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    discount_code_id: &str,
    now_ms: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "update discount_code set usage_count = usage_count + 1, updated_at = $3 \
         where merchant_id = $1 and discount_code_id = $2 \
         and (usage_limit is null or usage_count < usage_limit) \
         and (starts_at is null or starts_at <= $3) and (ends_at is null or ends_at > $3)",
    )
    .bind(merchant_id)
    .bind(discount_code_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives back one use of a code (a claimed order that did not go through).
pub async fn decrement_usage(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    discount_code_id: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "update discount_code set usage_count = usage_count - 1, updated_at = $3 \
         where merchant_id = $1 and discount_code_id = $2 and usage_count > 0",
    )
    .bind(merchant_id)
    .bind(discount_code_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}
