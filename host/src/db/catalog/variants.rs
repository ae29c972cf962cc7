//! Variant rows and the skus they hold.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Arg, Sql, json_err};
use crate::db::Db;
use crate::model::catalog::{InventoryPolicy, Price, StockStatus, Variant};

pub(super) fn variant(row: &AnyRow) -> Result<Variant> {
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
        stock_status: StockStatus::of(row.try_get("available")?, InventoryPolicy::from_db(&policy)),
    })
}

pub(super) async fn insert_variant(
    tx: &mut crate::db::Conn,
    merchant_id: &str,
    product_id: &str,
    position: i64,
    v: &Variant,
    now: i64,
) -> Result<()> {
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
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Which of `skus` this merchant's live variants use: (sku, variant id).
pub async fn existing_skus(db: &Db, merchant_id: &str, skus: &[String]) -> Result<Vec<(String, String)>> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::default();
    sql.push("select sku, variant_id from variant where merchant_id = ")
        .bind(Arg::Text(merchant_id.to_owned()))
        .push(" and sku in (")
        .list(skus)
        .push(")");
    sql.fetch_all(db.reads())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("variant_id")?)))
        .collect()
}
