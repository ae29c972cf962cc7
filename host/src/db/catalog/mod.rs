//! Products, variants and categories. Full-text search is the one place the
//! backends differ: an FTS5 table kept in step on SQLite, a GIN expression
//! index over `search_text` on PostgreSQL.

mod categories;
mod fts;
mod products;
mod search;
mod variants;

use crate::db::Result;
use sqlx::Row;

use super::Db;
use super::{Arg, Sql};

pub use self::categories::{existing_categories, get_category, insert_category, list_categories};
pub use self::products::{ProductUpdate, delete_product, get_product, insert_product, update_product};
pub use self::search::{FacetCounts, list_products, product_facets};
pub use self::variants::existing_skus;

/// Which table's handles to look at.
#[derive(Debug, Clone, Copy)]
pub enum HandleOf {
    /// The `product` table.
    Product,
    /// The `category` table.
    Category,
}

fn json_err(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// Handles of this merchant equal to `base` or starting with `base-`.
pub async fn handles_like(db: &Db, of: HandleOf, merchant_id: &str, base: &str) -> Result<Vec<String>> {
    let table = match of {
        HandleOf::Product => "product",
        HandleOf::Category => "category",
    };
    // Handles are [a-z0-9-]: nothing in `base` is a LIKE wildcard.
    let sql =
        format!("select handle from {table} where merchant_id = $1 and (handle = $2 or handle like $3)");
    let rows = sqlx::query(&sql)
        .bind(merchant_id)
        .bind(base)
        .bind(format!("{base}-%"))
        .fetch_all(db.reads())
        .await?;
    rows.iter().map(|r| Ok(r.try_get("handle")?)).collect()
}
