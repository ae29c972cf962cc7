//! SQLite's FTS5 row per product, kept in step with `search_text` in the
//! product's own transaction (PostgreSQL indexes `search_text` itself).

use crate::db::Result;
use crate::db::{Backend, Db};

/// SQLite: adds the FTS5 row of a new product.
pub(super) async fn insert_row(
    db: &Db,
    tx: &mut crate::db::Conn,
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
    tx: &mut crate::db::Conn,
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
pub(super) async fn delete_row(db: &Db, tx: &mut crate::db::Conn, id: &str) -> Result<()> {
    if db.backend() == Backend::Sqlite {
        sqlx::query("delete from product_fts where product_id = $1").bind(id).execute(&mut *tx).await?;
    }
    Ok(())
}
