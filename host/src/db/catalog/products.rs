//! Product rows with their variants and categories, written in one
//! transaction each.

use crate::db::Result;
use std::collections::HashMap;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::variants::{insert_variant, variant};
use super::{Arg, Sql, fts, json_err};
use crate::db::{Db, now_ms};
use crate::model::catalog::{Product, ProductOption, Status, Variant};

pub(super) const PRODUCT_COLUMNS: &str =
    "product_id, title, handle, description, status, tags, options, images, created_at, updated_at";

pub(super) fn product(row: &AnyRow) -> Result<Product> {
    let tags: String = row.try_get("tags")?;
    let options: String = row.try_get("options")?;
    let status: String = row.try_get("status")?;
    let images: String = row.try_get("images")?;
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
        images: serde_json::from_str(&images).map_err(json_err)?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Fills in the variants and categories of `products`.
pub(super) async fn complete(db: &Db, merchant_id: &str, mut products: Vec<Product>) -> Result<Vec<Product>> {
    if products.is_empty() {
        return Ok(products);
    }
    let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
    let mut sql = Sql::default();
    sql.push(
        "select variant_id, product_id, sku, title, options, price_amount, currency, weight_grams, tax_code, \
         inventory_policy, (select cast(sum(i.on_hand - i.reserved) as bigint) from inventory_level i \
             where i.merchant_id = variant.merchant_id and i.variant_id = variant.variant_id) as available \
         from variant where merchant_id = ",
    )
    .bind(Arg::Text(merchant_id.to_owned()))
    .push(" and deleted_at is null and product_id in (")
    .list(&ids)
    .push(") order by product_id, position");
    let mut variants: HashMap<String, Vec<Variant>> = HashMap::new();
    for row in sql.fetch_all(db.reads()).await? {
        variants.entry(row.try_get("product_id")?).or_default().push(variant(&row)?);
    }
    let mut sql = Sql::default();
    sql.push("select product_id, category_id from product_category where merchant_id = ")
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and product_id in (")
        .list(&ids)
        .push(") order by product_id, category_id");
    let mut categories: HashMap<String, Vec<String>> = HashMap::new();
    for row in sql.fetch_all(db.reads()).await? {
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

async fn insert_categories(
    tx: &mut crate::db::Conn,
    merchant_id: &str,
    product_id: &str,
    ids: &[String],
) -> Result<()> {
    for c in ids {
        sqlx::query(
            "insert into product_category (merchant_id, product_id, category_id) values ($1, $2, $3)",
        )
        .bind(merchant_id)
        .bind(product_id)
        .bind(c)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Inserts a product with its variants, categories and search row, in one
/// transaction.
pub async fn insert_product(db: &Db, merchant_id: &str, p: &Product, search_text: &str) -> Result<()> {
    let tags = serde_json::to_string(&p.tags).map_err(json_err)?;
    let options = serde_json::to_string(&p.options).map_err(json_err)?;
    let images = serde_json::to_string(&p.images).map_err(json_err)?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "insert into product (product_id, merchant_id, title, handle, description, status, tags, options, \
         min_price, search_text, created_at, updated_at, images) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
    .bind(images)
    .execute(&mut *tx)
    .await?;
    insert_categories(&mut tx, merchant_id, &p.id, &p.category_ids).await?;
    for (i, v) in p.variants.iter().enumerate() {
        insert_variant(&mut tx, merchant_id, &p.id, i as i64, v, p.created_at).await?;
    }
    fts::insert_row(db, &mut tx, merchant_id, &p.id, search_text).await?;
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
pub async fn update_product(db: &Db, merchant_id: &str, u: ProductUpdate<'_>) -> Result<bool> {
    let p = u.product;
    let tags = serde_json::to_string(&p.tags).map_err(json_err)?;
    let options = serde_json::to_string(&p.options).map_err(json_err)?;
    let images = serde_json::to_string(&p.images).map_err(json_err)?;
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "update product set title = $1, handle = $2, description = $3, status = $4, tags = $5, options = $6, \
         updated_at = $7, images = $11 \
         where merchant_id = $8 and product_id = $9 and updated_at = $10 and deleted_at is null",
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
    .bind(images)
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
        fts::update_row(db, &mut tx, &p.id, text).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Soft-deletes a product and its variants, freeing their handle and skus
/// (suffixed with `~<id>`, which no valid handle has); false if there was
/// no such live product.
pub async fn delete_product(db: &Db, merchant_id: &str, id: &str) -> Result<bool> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
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
    fts::delete_row(db, &mut tx, id).await?;
    tx.commit().await?;
    Ok(true)
}

/// A live product by id (or, for `active_only`, by id or handle).
pub async fn get_product(
    db: &Db,
    merchant_id: &str,
    key: &str,
    active_only: bool,
) -> Result<Option<Product>> {
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
    let row = sqlx::query(&sql).bind(merchant_id).bind(key).fetch_optional(db.reads()).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(complete(db, merchant_id, vec![product(&row)?]).await?.pop())
}
