//! Category rows.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Arg, Sql};
use crate::db::Db;
use crate::model::catalog::Category;

/// Which of `ids` are this merchant's categories.
pub async fn existing_categories(db: &Db, merchant_id: &str, ids: &[String]) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.push("select category_id from category where merchant_id = ")
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and category_id in (")
        .list(ids)
        .push(")");
    sql.fetch_all(db.reads()).await?.iter().map(|r| Ok(r.try_get("category_id")?)).collect()
}

const CATEGORY_COLUMNS: &str = "category_id, name, handle, created_at, updated_at";

fn category(row: &AnyRow) -> Result<Category> {
    Ok(Category {
        id: row.try_get("category_id")?,
        name: row.try_get("name")?,
        handle: row.try_get("handle")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Writes a new category; a taken handle fails on its unique constraint.
pub async fn insert_category(db: &Db, merchant_id: &str, c: &Category) -> Result<()> {
    db.write(
        sqlx::query(
            "insert into category (category_id, merchant_id, name, handle, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&c.id)
        .bind(merchant_id)
        .bind(&c.name)
        .bind(&c.handle)
        .bind(c.created_at)
        .bind(c.updated_at),
    )
    .await?;
    Ok(())
}

/// One of the merchant's categories, if it exists.
pub async fn get_category(db: &Db, merchant_id: &str, id: &str) -> Result<Option<Category>> {
    let sql = format!("select {CATEGORY_COLUMNS} from category where merchant_id = $1 and category_id = $2");
    sqlx::query(&sql)
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(db.reads())
        .await?
        .as_ref()
        .map(category)
        .transpose()
}

/// The merchant's categories in id order (oldest first), after `after`.
pub async fn list_categories(
    db: &Db,
    merchant_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Category>> {
    let select = format!("select {CATEGORY_COLUMNS} from category");
    crate::db::merchant_page(db, &select, "category_id", merchant_id, after, limit, category).await
}
