//! Listing and full-text search, the one place the backends differ: SQLite
//! keeps an FTS5 row per product in step with `search_text`, PostgreSQL
//! matches a GIN expression index over `search_text` itself.

use super::products::{PRODUCT_COLUMNS, complete, product};
use super::{Arg, Sql};
use crate::db::Result;
use crate::db::{Backend, Db};
use crate::model::catalog::{Product, ProductFilter};

/// SQLite: adds the FTS5 row of a new product.
pub(super) async fn insert_row(
    db: &Db,
    tx: &mut sqlx::AnyConnection,
    merchant_id: &str,
    product_id: &str,
    search_text: &str,
) -> Result<()> {
    if db.backend() == Backend::Sqlite {
        sqlx::query("insert into product_fts (product_id, merchant_id, search_text) values ($1, $2, $3)")
            .bind(product_id)
            .bind(merchant_id)
            .bind(search_text)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// SQLite: replaces the FTS5 text of a product.
pub(super) async fn update_row(
    db: &Db,
    tx: &mut sqlx::AnyConnection,
    product_id: &str,
    text: &str,
) -> Result<()> {
    if db.backend() == Backend::Sqlite {
        sqlx::query("update product_fts set search_text = $1 where product_id = $2")
            .bind(text)
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// SQLite: drops the FTS5 row of a deleted product.
pub(super) async fn delete_row(db: &Db, tx: &mut sqlx::AnyConnection, id: &str) -> Result<()> {
    if db.backend() == Backend::Sqlite {
        sqlx::query("delete from product_fts where product_id = $1").bind(id).execute(&mut *tx).await?;
    }
    Ok(())
}

/// An FTS5 query matching every word of `q` (a trailing `*` on the last one
/// matches prefixes), each word quoted so nothing the user types is syntax;
/// `None` if `q` has no word at all.
fn fts5_query(q: &str) -> Option<String> {
    let words: Vec<&str> = q.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let prefix = i + 1 == words.len() && w.ends_with('*');
        let w = w.trim_end_matches('*');
        if !w.chars().any(char::is_alphanumeric) {
            continue;
        }
        out.push(format!("\"{}\"{}", w.replace('"', "\"\""), if prefix { "*" } else { "" }));
    }
    (!out.is_empty()).then(|| out.join(" "))
}

/// PostgreSQL: the words for `plainto_tsquery`, and a `to_tsquery` prefix
/// term (`word:*`, letters and digits only, so never syntax) when the last
/// word ends with `*`.
fn pg_query(q: &str) -> (String, Option<String>) {
    let q = q.trim();
    let Some(stem) = q.strip_suffix('*') else { return (q.to_owned(), None) };
    let stem = stem.trim_end_matches('*');
    let cut = stem
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric())
        .last()
        .map_or(stem.len(), |(i, _)| i);
    let (rest, last) = stem.split_at(cut);
    if last.is_empty() {
        (rest.to_owned(), None)
    } else {
        (rest.to_owned(), Some(format!("{}:*", last.to_lowercase())))
    }
}

/// Live products matching `filter`, after `after` in id order.
pub async fn list_products(
    db: &Db,
    merchant_id: &str,
    filter: &ProductFilter,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Product>> {
    let mut sql = Sql::default();
    let merchant = || Arg::Text(merchant_id.to_owned());
    sql.push(&format!("select {PRODUCT_COLUMNS} from product where merchant_id = "))
        .bind(merchant())
        .push(" and deleted_at is null and product_id > ")
        .bind(Arg::Text(after.unwrap_or("").to_owned()));
    if let Some(status) = filter.status {
        sql.push(" and status = ").bind(Arg::Text(status.as_str().to_owned()));
    }
    if let Some(min) = filter.min_price {
        sql.push(" and min_price >= ").bind(Arg::Int(min));
    }
    if let Some(max) = filter.max_price {
        sql.push(" and min_price <= ").bind(Arg::Int(max));
    }
    if let Some(c) = filter.category.as_deref().filter(|c| !c.is_empty()) {
        sql.push(
            " and product_id in (select pc.product_id from product_category pc join category c \
             on c.category_id = pc.category_id and c.merchant_id = pc.merchant_id where pc.merchant_id = ",
        )
        .bind(merchant())
        .push(" and (c.category_id = ")
        .bind(Arg::Text(c.to_owned()))
        .push(" or c.handle = ")
        .bind(Arg::Text(c.to_owned()))
        .push("))");
    }
    if let Some(q) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        match db.backend() {
            Backend::Sqlite => match fts5_query(q) {
                Some(m) => {
                    sql.push(
                        " and product_id in (select product_id from product_fts where product_fts match ",
                    )
                    .bind(Arg::Text(m))
                    .push(")");
                }
                None => return Ok(Vec::new()),
            },
            Backend::Postgres => {
                let (words, prefix) = pg_query(q);
                if !words.chars().any(char::is_alphanumeric) && prefix.is_none() {
                    return Ok(Vec::new());
                }
                sql.push(" and to_tsvector('simple', search_text) @@ (plainto_tsquery('simple', ")
                    .bind(Arg::Text(words))
                    .push(")");
                if let Some(p) = prefix {
                    sql.push(" && to_tsquery('simple', ").bind(Arg::Text(p)).push(")");
                }
                sql.push(")");
            }
        }
    }
    sql.push(" order by product_id limit ").bind(Arg::Int(i64::from(limit)));
    let rows = sql.fetch_all(db.pool()).await?;
    let products = rows.iter().map(product).collect::<Result<Vec<_>, _>>()?;
    complete(db, merchant_id, products).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_words_never_become_search_syntax() {
        assert_eq!(fts5_query("blue shirt").unwrap(), r#""blue" "shirt""#);
        assert_eq!(fts5_query(r#"say "hi" OR x*"#).unwrap(), r#""say" """hi""" "OR" "x"*"#);
        assert_eq!(fts5_query("sh* tee").unwrap(), r#""sh" "tee""#);
        assert_eq!(fts5_query("- * \"\""), None);
        assert_eq!(pg_query("blue shi*"), ("blue ".to_owned(), Some("shi:*".to_owned())));
        assert_eq!(pg_query("tee-sh*"), ("tee-".to_owned(), Some("sh:*".to_owned())));
        assert_eq!(pg_query("blue"), ("blue".to_owned(), None));
        assert_eq!(pg_query("!*"), ("!".to_owned(), None));
    }
}
