//! Products, variants and categories. Full-text search is the one place the
//! backends differ: an FTS5 table kept in step on SQLite, a GIN expression
//! index over `search_text` on PostgreSQL.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{Backend, Db, now_ms};
use crate::commerce::catalog::{
    Category, InventoryPolicy, Price, Product, ProductFilter, ProductOption, Status, Variant,
};

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

const PRODUCT_COLUMNS: &str =
    "product_id, title, handle, description, status, tags, options, created_at, updated_at";

fn product(row: &AnyRow) -> Result<Product, sqlx::Error> {
    let tags: String = row.try_get("tags")?;
    let options: String = row.try_get("options")?;
    let status: String = row.try_get("status")?;
    Ok(Product {
        id: row.try_get("product_id")?,
        title: row.try_get("title")?,
        handle: row.try_get("handle")?,
        description: row.try_get("description")?,
        status: Status::from_db(&status),
        tags: serde_json::from_str(&tags).map_err(json_err)?,
        category_ids: Vec::new(),
        options: serde_json::from_str::<Vec<ProductOption>>(&options).map_err(json_err)?,
        variants: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn variant(row: &AnyRow) -> Result<Variant, sqlx::Error> {
    let options: String = row.try_get("options")?;
    let policy: String = row.try_get("inventory_policy")?;
    Ok(Variant {
        id: row.try_get("variant_id")?,
        sku: row.try_get("sku")?,
        title: row.try_get("title")?,
        options: serde_json::from_str(&options).map_err(json_err)?,
        price: Price { amount: row.try_get("price_amount")?, currency: row.try_get("currency")? },
        weight_grams: row.try_get("weight_grams")?,
        tax_code: row.try_get("tax_code")?,
        inventory_policy: InventoryPolicy::from_db(&policy),
    })
}

/// Fills in the variants and categories of `products`.
async fn complete(
    db: &Db,
    merchant_id: &str,
    mut products: Vec<Product>,
) -> Result<Vec<Product>, sqlx::Error> {
    if products.is_empty() {
        return Ok(products);
    }
    let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
    let mut sql = Sql::default();
    sql.push(
        "select variant_id, product_id, sku, title, options, price_amount, currency, weight_grams, tax_code, \
         inventory_policy from variant where merchant_id = ",
    )
    .bind(Arg::Text(merchant_id.to_owned()))
    .push(" and deleted_at is null and product_id in (")
    .list(&ids)
    .push(") order by product_id, position");
    let mut variants: HashMap<String, Vec<Variant>> = HashMap::new();
    for row in sql.fetch_all(db.pool()).await? {
        variants.entry(row.try_get("product_id")?).or_default().push(variant(&row)?);
    }
    let mut sql = Sql::default();
    sql.push("select product_id, category_id from product_category where merchant_id = ")
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and product_id in (")
        .list(&ids)
        .push(") order by product_id, category_id");
    let mut categories: HashMap<String, Vec<String>> = HashMap::new();
    for row in sql.fetch_all(db.pool()).await? {
        categories.entry(row.try_get("product_id")?).or_default().push(row.try_get("category_id")?);
    }
    for p in &mut products {
        p.variants = variants.remove(&p.id).unwrap_or_default();
        p.category_ids = categories.remove(&p.id).unwrap_or_default();
    }
    Ok(products)
}

fn min_price(p: &Product) -> Option<i64> {
    p.variants.iter().map(|v| v.price.amount).min()
}

async fn insert_variant(
    tx: &mut Transaction<'_, Any>,
    merchant_id: &str,
    product_id: &str,
    position: i64,
    v: &Variant,
    now: i64,
) -> Result<(), sqlx::Error> {
    let options = serde_json::to_string(&v.options).map_err(json_err)?;
    sqlx::query(
        "insert into variant (variant_id, merchant_id, product_id, position, sku, title, options, price_amount, \
         currency, weight_grams, tax_code, inventory_policy, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&v.id)
    .bind(merchant_id)
    .bind(product_id)
    .bind(position)
    .bind(&v.sku)
    .bind(&v.title)
    .bind(options)
    .bind(v.price.amount)
    .bind(&v.price.currency)
    .bind(v.weight_grams)
    .bind(v.tax_code.as_deref())
    .bind(v.inventory_policy.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_categories(
    tx: &mut Transaction<'_, Any>,
    merchant_id: &str,
    product_id: &str,
    ids: &[String],
) -> Result<(), sqlx::Error> {
    for c in ids {
        sqlx::query(
            "insert into product_category (merchant_id, product_id, category_id) values ($1, $2, $3)",
        )
        .bind(merchant_id)
        .bind(product_id)
        .bind(c)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Inserts a product with its variants, categories and search row, in one
/// transaction.
pub async fn insert_product(
    db: &Db,
    merchant_id: &str,
    p: &Product,
    search_text: &str,
) -> Result<(), sqlx::Error> {
    let tags = serde_json::to_string(&p.tags).map_err(json_err)?;
    let options = serde_json::to_string(&p.options).map_err(json_err)?;
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "insert into product (product_id, merchant_id, title, handle, description, status, tags, options, \
         min_price, search_text, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&p.id)
    .bind(merchant_id)
    .bind(&p.title)
    .bind(&p.handle)
    .bind(&p.description)
    .bind(p.status.as_str())
    .bind(tags)
    .bind(options)
    .bind(min_price(p))
    .bind(search_text)
    .bind(p.created_at)
    .bind(p.updated_at)
    .execute(&mut *tx)
    .await?;
    insert_categories(&mut tx, merchant_id, &p.id, &p.category_ids).await?;
    for (i, v) in p.variants.iter().enumerate() {
        insert_variant(&mut tx, merchant_id, &p.id, i as i64, v, p.created_at).await?;
    }
    if db.backend() == Backend::Sqlite {
        sqlx::query("insert into product_fts (product_id, merchant_id, search_text) values ($1, $2, $3)")
            .bind(&p.id)
            .bind(merchant_id)
            .bind(search_text)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// What a product update writes.
pub struct ProductUpdate<'a> {
    /// The product as it will be.
    pub product: &'a Product,
    /// The `updated_at` it was read with: the write is skipped if it changed.
    pub previous_updated_at: i64,
    /// When the searchable text changed.
    pub search_text: Option<&'a str>,
    /// When the categories are replaced.
    pub category_ids: Option<&'a [String]>,
    /// The variants that changed.
    pub variants: &'a [&'a Variant],
    /// New variants, last in `product.variants`.
    pub added: &'a [&'a Variant],
}

/// Writes a product's new state in one transaction; false (and nothing
/// written) if it was changed or deleted since it was read.
pub async fn update_product(db: &Db, merchant_id: &str, u: ProductUpdate<'_>) -> Result<bool, sqlx::Error> {
    let p = u.product;
    let tags = serde_json::to_string(&p.tags).map_err(json_err)?;
    let options = serde_json::to_string(&p.options).map_err(json_err)?;
    let mut tx = db.pool().begin().await?;
    let updated = sqlx::query(
        "update product set title = $1, handle = $2, description = $3, status = $4, tags = $5, options = $6, \
         updated_at = $7 where merchant_id = $8 and product_id = $9 and updated_at = $10 and deleted_at is null",
    )
    .bind(&p.title)
    .bind(&p.handle)
    .bind(&p.description)
    .bind(p.status.as_str())
    .bind(tags)
    .bind(options)
    .bind(p.updated_at)
    .bind(merchant_id)
    .bind(&p.id)
    .bind(u.previous_updated_at)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    for v in u.variants {
        sqlx::query(
            "update variant set sku = $1, title = $2, price_amount = $3, weight_grams = $4, tax_code = $5, \
             inventory_policy = $6, updated_at = $7 where merchant_id = $8 and variant_id = $9",
        )
        .bind(&v.sku)
        .bind(&v.title)
        .bind(v.price.amount)
        .bind(v.weight_grams)
        .bind(v.tax_code.as_deref())
        .bind(v.inventory_policy.as_str())
        .bind(p.updated_at)
        .bind(merchant_id)
        .bind(&v.id)
        .execute(&mut *tx)
        .await?;
    }
    for v in u.added {
        // Positions only order a product's variants: after the highest ever given.
        let position: i64 = sqlx::query_scalar(
            "select cast(coalesce(max(position), -1) + 1 as bigint) from variant \
             where merchant_id = $1 and product_id = $2",
        )
        .bind(merchant_id)
        .bind(&p.id)
        .fetch_one(&mut *tx)
        .await?;
        insert_variant(&mut tx, merchant_id, &p.id, position, v, p.updated_at).await?;
    }
    if !u.variants.is_empty() || !u.added.is_empty() {
        sqlx::query(
            "update product set min_price = (select min(price_amount) from variant \
             where merchant_id = $1 and product_id = $2 and deleted_at is null) \
             where merchant_id = $1 and product_id = $2",
        )
        .bind(merchant_id)
        .bind(&p.id)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(ids) = u.category_ids {
        sqlx::query("delete from product_category where merchant_id = $1 and product_id = $2")
            .bind(merchant_id)
            .bind(&p.id)
            .execute(&mut *tx)
            .await?;
        insert_categories(&mut tx, merchant_id, &p.id, ids).await?;
    }
    if let Some(text) = u.search_text {
        sqlx::query("update product set search_text = $1 where merchant_id = $2 and product_id = $3")
            .bind(text)
            .bind(merchant_id)
            .bind(&p.id)
            .execute(&mut *tx)
            .await?;
        if db.backend() == Backend::Sqlite {
            sqlx::query("update product_fts set search_text = $1 where product_id = $2")
                .bind(text)
                .bind(&p.id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Soft-deletes a product and its variants, freeing their handle and skus
/// (suffixed with `~<id>`, which no valid handle has); false if there was
/// no such live product.
pub async fn delete_product(db: &Db, merchant_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    let done = sqlx::query(
        "update product set deleted_at = $1, updated_at = $1, handle = handle || '~' || product_id \
         where merchant_id = $2 and product_id = $3 and deleted_at is null",
    )
    .bind(now)
    .bind(merchant_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "update variant set deleted_at = $1, updated_at = $1, sku = sku || '~' || variant_id \
         where merchant_id = $2 and product_id = $3 and deleted_at is null",
    )
    .bind(now)
    .bind(merchant_id)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if db.backend() == Backend::Sqlite {
        sqlx::query("delete from product_fts where product_id = $1").bind(id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// A live product by id (or, for `active_only`, by id or handle).
pub async fn get_product(
    db: &Db,
    merchant_id: &str,
    key: &str,
    active_only: bool,
) -> Result<Option<Product>, sqlx::Error> {
    let sql = if active_only {
        format!(
            "select {PRODUCT_COLUMNS} from product where merchant_id = $1 and (product_id = $2 or handle = $2) \
             and deleted_at is null and status = 'active'"
        )
    } else {
        format!(
            "select {PRODUCT_COLUMNS} from product where merchant_id = $1 and product_id = $2 and deleted_at is null"
        )
    };
    let row = sqlx::query(&sql).bind(merchant_id).bind(key).fetch_optional(db.pool()).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(complete(db, merchant_id, vec![product(&row)?]).await?.pop())
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
) -> Result<Vec<Product>, sqlx::Error> {
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

/// Which of `ids` are this merchant's categories.
pub async fn existing_categories(
    db: &Db,
    merchant_id: &str,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.push("select category_id from category where merchant_id = ")
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and category_id in (")
        .list(ids)
        .push(")");
    sql.fetch_all(db.pool()).await?.iter().map(|r| r.try_get("category_id")).collect()
}

/// Which of `skus` this merchant's live variants use: (sku, variant id).
pub async fn existing_skus(
    db: &Db,
    merchant_id: &str,
    skus: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.push("select sku, variant_id from variant where merchant_id = ")
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and sku in (")
        .list(skus)
        .push(")");
    sql.fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("variant_id")?)))
        .collect()
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

const CATEGORY_COLUMNS: &str = "category_id, name, handle, created_at, updated_at";

fn category(row: &AnyRow) -> Result<Category, sqlx::Error> {
    Ok(Category {
        id: row.try_get("category_id")?,
        name: row.try_get("name")?,
        handle: row.try_get("handle")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub async fn insert_category(db: &Db, merchant_id: &str, c: &Category) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into category (category_id, merchant_id, name, handle, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&c.id)
    .bind(merchant_id)
    .bind(&c.name)
    .bind(&c.handle)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn get_category(db: &Db, merchant_id: &str, id: &str) -> Result<Option<Category>, sqlx::Error> {
    let sql = format!("select {CATEGORY_COLUMNS} from category where merchant_id = $1 and category_id = $2");
    sqlx::query(&sql)
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(category)
        .transpose()
}

pub async fn list_categories(
    db: &Db,
    merchant_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Category>, sqlx::Error> {
    let sql = format!(
        "select {CATEGORY_COLUMNS} from category where merchant_id = $1 and category_id > $2 \
         order by category_id limit $3"
    );
    let rows = sqlx::query(&sql)
        .bind(merchant_id)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(category).collect()
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
