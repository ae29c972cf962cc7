//! Products, variants and categories. Full-text search is the one place the
//! backends differ: an FTS5 table kept in step on SQLite, a GIN expression
//! index over `search_text` on PostgreSQL.

mod categories;
mod products;
mod search;
mod variants;

use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::Db;

pub use self::categories::{existing_categories, get_category, insert_category, list_categories};
pub use self::products::{ProductUpdate, delete_product, get_product, insert_product, update_product};
pub use self::search::list_products;
pub use self::variants::existing_skus;

/// A value to bind, collected while a query is built.
enum Arg {
    Text(String),
    Int(i64),
}

/// SQL built piece by piece with `$n` placeholders.
#[derive(Default)]
struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder for `arg`.
    fn bind(&mut self, arg: Arg) -> &mut Sql {
        self.args.push(arg);
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends `$a, $b, …` for `values`.
    fn list(&mut self, values: &[String]) -> &mut Sql {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(Arg::Text(v.clone()));
        }
        self
    }

    async fn fetch_all<'e, E: sqlx::Executor<'e, Database = Any>>(
        &self,
        e: E,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q.fetch_all(e).await
    }
}

/// Which table's handles to look at.
#[derive(Debug, Clone, Copy)]
pub enum HandleOf {
    Product,
    Category,
}

fn json_err(e: serde_json::Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

/// Handles of this merchant equal to `base` or starting with `base-`.
pub async fn handles_like(
    db: &Db,
    of: HandleOf,
    merchant_id: &str,
    base: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let table = match of {
        HandleOf::Product => "product",
        HandleOf::Category => "category",
    };
    // Handles are [a-z0-9-]: nothing in `base` is a LIKE wildcard.
    let sql =
        format!("select handle from {table} where merchant_id = $1 and (handle = $2 or handle like $3)");
    let rows =
        sqlx::query(&sql).bind(merchant_id).bind(base).bind(format!("{base}-%")).fetch_all(db.pool()).await?;
    rows.iter().map(|r| r.try_get("handle")).collect()
}
