//! Listing and full-text search, the one place the backends differ: SQLite
//! matches the FTS5 rows `fts` keeps in step with `search_text`, PostgreSQL
//! a GIN expression index over `search_text` itself.

use super::products::{PRODUCT_COLUMNS, complete, product};
use super::{Arg, Sql};
use crate::db::Result;
use crate::db::{Backend, Db};
use crate::model::catalog::{CategoryFacet, OptionFacet, Product, ProductCursor, ProductFilter, ProductSort};
use sqlx::Row;

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

/// How a search ranks its matches.
enum Rank {
    /// SQLite: FTS5's `rank` of the joined matches.
    Fts,
    /// PostgreSQL: `ts_rank` against the query of these words and prefix.
    Ts(String, Option<String>),
}

impl Rank {
    /// Appends the rank, better matches lower.
    fn push(&self, sql: &mut Sql) {
        match self {
            Rank::Fts => {
                sql.push("f.fts_rank");
            }
            Rank::Ts(words, prefix) => {
                sql.push("-ts_rank(to_tsvector('simple', product.search_text), ");
                push_tsquery(sql, words, prefix.as_deref());
                sql.push(")");
            }
        }
    }
}

/// Appends the PostgreSQL query of `words` and a `prefix` term.
fn push_tsquery(sql: &mut Sql, words: &str, prefix: Option<&str>) {
    sql.push("(plainto_tsquery('simple', ").bind(Arg::Text(words.to_owned())).push(")");
    if let Some(p) = prefix {
        sql.push(" && to_tsquery('simple', ").bind(Arg::Text(p.to_owned())).push(")");
    }
    sql.push(")");
}

/// Appends ` from product … where …`: the merchant's live products that
/// match `filter`. On SQLite a search joins the FTS5 matches (as `f`, with
/// their `fts_rank`). Returns how a search ranks, or `None` when `q` has no
/// word, so nothing matches.
fn matching(db: &Db, sql: &mut Sql, merchant_id: &str, filter: &ProductFilter) -> Option<Option<Rank>> {
    let q = filter.q.as_deref().filter(|q| !q.trim().is_empty());
    let mut rank = None;
    sql.push(" from product");
    if let Some(q) = q
        && db.backend() == Backend::Sqlite
    {
        sql.push(
            " join (select product_id as fts_id, rank as fts_rank from product_fts where product_fts match ",
        )
        .bind(Arg::Text(fts5_query(q)?))
        .push(") f on f.fts_id = product.product_id");
        rank = Some(Rank::Fts);
    }
    sql.push(" where product.merchant_id = ")
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and product.deleted_at is null");
    if let Some(status) = filter.status {
        sql.push(" and product.status = ").bind(Arg::Text(status.as_str().to_owned()));
    }
    if let Some(min) = filter.min_price {
        sql.push(" and product.min_price >= ").bind(Arg::Int(min));
    }
    if let Some(max) = filter.max_price {
        sql.push(" and product.min_price <= ").bind(Arg::Int(max));
    }
    if let Some(c) = filter.category.as_deref().filter(|c| !c.is_empty()) {
        sql.push(
            " and product.product_id in (select pc.product_id from product_category pc join category c \
             on c.category_id = pc.category_id and c.merchant_id = pc.merchant_id where pc.merchant_id = ",
        )
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and (c.category_id = ")
        .bind(Arg::Text(c.to_owned()))
        .push(" or c.handle = ")
        .bind(Arg::Text(c.to_owned()))
        .push("))");
    }
    if let Some(q) = q
        && db.backend() == Backend::Postgres
    {
        let (words, prefix) = pg_query(q);
        if !words.chars().any(char::is_alphanumeric) && prefix.is_none() {
            return None;
        }
        sql.push(" and to_tsvector('simple', product.search_text) @@ ");
        push_tsquery(sql, &words, prefix.as_deref());
        rank = Some(Rank::Ts(words, prefix));
    }
    Some(rank)
}

/// The key of the price orders: a product's cheapest live variant (0 with none).
const PRICE_KEY: &str = "coalesce(product.min_price, 0)";

/// Live products matching `filter` in its order, from `cursor` (one of
/// that order); `Relevance` needs a `q`.
pub async fn list_products(
    db: &Db,
    merchant_id: &str,
    filter: &ProductFilter,
    cursor: &ProductCursor,
    limit: u32,
) -> Result<Vec<Product>> {
    let mut sql = Sql::default();
    sql.push(&format!("select {}", crate::db::qualified(PRODUCT_COLUMNS, "product", "")));
    let Some(rank) = matching(db, &mut sql, merchant_id, filter) else { return Ok(Vec::new()) };
    let sort = filter.sort;
    let mut offset = 0;
    match (cursor, sort) {
        (ProductCursor::Start, _) => {}
        (ProductCursor::After(id), ProductSort::Oldest) => {
            sql.push(" and product.product_id > ").bind(Arg::Text(id.clone()));
        }
        (ProductCursor::Offset(n), ProductSort::Relevance) => offset = *n,
        (
            ProductCursor::Keyed(key, id),
            ProductSort::PriceAsc | ProductSort::PriceDesc | ProductSort::Newest,
        ) => {
            let (column, beyond, tie) = match sort {
                ProductSort::PriceAsc => (PRICE_KEY, ">", ">"),
                ProductSort::PriceDesc => (PRICE_KEY, "<", ">"),
                _ => ("product.created_at", "<", "<"),
            };
            sql.push(&format!(" and ({column} {beyond} "))
                .bind(Arg::Int(*key))
                .push(&format!(" or ({column} = "))
                .bind(Arg::Int(*key))
                .push(&format!(" and product.product_id {tie} "))
                .bind(Arg::Text(id.clone()))
                .push("))");
        }
        // A cursor of another order: the caller checked that it never is.
        _ => return Ok(Vec::new()),
    }
    sql.push(" order by ");
    match (sort, &rank) {
        (ProductSort::Relevance, Some(rank)) => {
            rank.push(&mut sql);
            sql.push(", product.product_id")
        }
        (ProductSort::PriceAsc, _) => sql.push(&format!("{PRICE_KEY}, product.product_id")),
        (ProductSort::PriceDesc, _) => sql.push(&format!("{PRICE_KEY} desc, product.product_id")),
        (ProductSort::Newest, _) => sql.push("product.created_at desc, product.product_id desc"),
        _ => sql.push("product.product_id"),
    };
    sql.push(" limit ").bind(Arg::Int(i64::from(limit)));
    if offset > 0 {
        sql.push(" offset ").bind(Arg::Int(i64::try_from(offset).unwrap_or(i64::MAX)));
    }
    let rows = sql.fetch_all(db.reads()).await?;
    let products = rows.iter().map(product).collect::<Result<Vec<_>, _>>()?;
    complete(db, merchant_id, products).await
}

/// Facet counts over every product `filter` matches, as [`product_facets`] finds them.
#[derive(Debug, Default)]
pub struct FacetCounts {
    /// Products per category, most first.
    pub categories: Vec<CategoryFacet>,
    /// Products per price band `i` (band `i` is below `bounds[i]` and at or above the bound before it).
    pub bands: Vec<(usize, i64)>,
    /// Products per option value.
    pub options: Vec<OptionFacet>,
}

/// Most entries in one facet list.
const FACET_ENTRIES: i64 = 100;

/// Counts the products `filter` matches by category, by price band (split
/// at `bounds`, ascending), and by option value.
pub async fn product_facets(
    db: &Db,
    merchant_id: &str,
    filter: &ProductFilter,
    bounds: &[i64],
) -> Result<FacetCounts> {
    let matched = |sql: &mut Sql| -> bool {
        sql.push("select product.product_id");
        matching(db, sql, merchant_id, filter).is_some()
    };
    let mut sql = Sql::default();
    sql.push(
        "select c.category_id, c.handle, c.name, count(*) as n from product_category pc join category c \
         on c.category_id = pc.category_id and c.merchant_id = pc.merchant_id where pc.merchant_id = ",
    )
    .bind(Arg::Text(merchant_id.to_owned()))
    .push(" and pc.product_id in (");
    if !matched(&mut sql) {
        return Ok(FacetCounts::default());
    }
    sql.push(") group by c.category_id, c.handle, c.name order by n desc, c.name limit ")
        .bind(Arg::Int(FACET_ENTRIES));
    let mut out = FacetCounts::default();
    for row in sql.fetch_all(db.reads()).await? {
        out.categories.push(CategoryFacet {
            id: row.try_get("category_id")?,
            handle: row.try_get("handle")?,
            name: row.try_get("name")?,
            count: row.try_get("n")?,
        });
    }

    let mut band = String::from("case");
    for (i, b) in bounds.iter().enumerate() {
        band.push_str(&format!(" when {PRICE_KEY} < {b} then {i}"));
    }
    band.push_str(&format!(" else {} end", bounds.len()));
    let mut sql = Sql::default();
    sql.push(&format!("select cast({band} as bigint) as band, count(*) as n"));
    matching(db, &mut sql, merchant_id, filter);
    sql.push(" group by 1 order by 1");
    for row in sql.fetch_all(db.reads()).await? {
        let band: i64 = row.try_get("band")?;
        out.bands.push((usize::try_from(band).unwrap_or(0), row.try_get("n")?));
    }

    let values = match db.backend() {
        Backend::Sqlite => "variant v, json_each(v.options) j",
        Backend::Postgres => "variant v cross join lateral jsonb_each_text(cast(v.options as jsonb)) j",
    };
    let mut sql = Sql::default();
    sql.push(&format!(
        "select j.key as name, j.value as value, count(distinct v.product_id) as n from {values} \
         where v.merchant_id = "
    ))
    .bind(Arg::Text(merchant_id.to_owned()))
    .push(" and v.deleted_at is null and v.product_id in (");
    matched(&mut sql);
    sql.push(") group by j.key, j.value order by j.key, n desc, j.value limit ")
        .bind(Arg::Int(FACET_ENTRIES));
    for row in sql.fetch_all(db.reads()).await? {
        out.options.push(OptionFacet {
            name: row.try_get("name")?,
            value: row.try_get("value")?,
            count: row.try_get("n")?,
        });
    }
    Ok(out)
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
