//! Customers, their login sessions and wishlists.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;
use crate::model::customers::{Customer, SessionRef, WishlistItem};

const COLUMNS: &str = "customer_id, email, first_name, last_name, created_at";

fn customer(row: &AnyRow) -> Result<Customer> {
    Ok(Customer {
        id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Writes a new customer with its password hash, and `customer.created`.
pub async fn insert(db: &Db, merchant_id: &str, c: &Customer, password_hash: &str) -> Result<()> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "insert into customer \
         (customer_id, merchant_id, email, password_hash, first_name, last_name, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(&c.id)
    .bind(merchant_id)
    .bind(&c.email)
    .bind(password_hash)
    .bind(&c.first_name)
    .bind(&c.last_name)
    .bind(c.created_at)
    .execute(&mut *tx)
    .await?;
    let payload = serde_json::json!({"customer_id": c.id, "email": c.email, "first_name": c.first_name,
        "last_name": c.last_name});
    super::events::record(&mut tx, merchant_id, "customer.created", &c.id, &payload, c.created_at).await?;
    tx.commit().await
}

/// One of the merchant's customers, if it exists.
pub async fn get(db: &Db, merchant_id: &str, id: &str) -> Result<Option<Customer>> {
    let sql = format!("select {COLUMNS} from customer where merchant_id = $1 and customer_id = $2");
    sqlx::query(&sql)
        .bind(merchant_id)
        .bind(id)
        .fetch_optional(db.reads())
        .await?
        .as_ref()
        .map(customer)
        .transpose()
}

/// A customer and its password hash, for login.
pub async fn find_by_email(db: &Db, merchant_id: &str, email: &str) -> Result<Option<(Customer, String)>> {
    let sql = format!("select {COLUMNS}, password_hash from customer where merchant_id = $1 and email = $2");
    let row = sqlx::query(&sql).bind(merchant_id).bind(email).fetch_optional(db.reads()).await?;
    row.map(|r| Ok((customer(&r)?, r.try_get("password_hash")?))).transpose()
}

/// Customers in id order after `after`, those whose email starts with
/// `email_prefix` when given.
pub async fn list(
    db: &Db,
    merchant_id: &str,
    email_prefix: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Customer>> {
    // substr/length rather than LIKE: no wildcard escaping, and the same
    // meaning under any collation on both backends.
    let filter = if email_prefix.is_some() { "and substr(email, 1, length($4)) = $4" } else { "" };
    let sql = format!(
        "select {COLUMNS} from customer where merchant_id = $1 and customer_id > $2 {filter} \
         order by customer_id limit $3"
    );
    let mut query = sqlx::query(&sql).bind(merchant_id).bind(after.unwrap_or("")).bind(i64::from(limit));
    if let Some(prefix) = email_prefix {
        query = query.bind(prefix);
    }
    query.fetch_all(db.reads()).await?.iter().map(customer).collect()
}

/// Writes a new session; only the token's hash is stored.
pub async fn insert_session(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    session_id: &str,
    token_hash: &str,
    expires_at: i64,
    now: i64,
) -> Result<()> {
    db.write(
        sqlx::query(
            "insert into customer_token \
             (customer_token_id, merchant_id, customer_id, token_hash, expires_at, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(session_id)
        .bind(merchant_id)
        .bind(customer_id)
        .bind(token_hash)
        .bind(expires_at)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// The session of a token hash at this merchant, if unrevoked and unexpired at `now`.
pub async fn find_session(
    db: &Db,
    merchant_id: &str,
    token_hash: &str,
    now: i64,
) -> Result<Option<SessionRef>> {
    let row = sqlx::query(
        "select customer_token_id, customer_id from customer_token \
         where token_hash = $1 and merchant_id = $2 and revoked_at is null and expires_at > $3",
    )
    .bind(token_hash)
    .bind(merchant_id)
    .bind(now)
    .fetch_optional(db.reads())
    .await?;
    row.map(|r| {
        Ok(SessionRef { session_id: r.try_get("customer_token_id")?, customer_id: r.try_get("customer_id")? })
    })
    .transpose()
}

/// Ends a session: its token stops working.
pub async fn revoke_session(db: &Db, merchant_id: &str, session_id: &str, now: i64) -> Result<()> {
    db.write(
        sqlx::query(
            "update customer_token set revoked_at = $1, updated_at = $1 \
             where merchant_id = $2 and customer_token_id = $3 and revoked_at is null",
        )
        .bind(now)
        .bind(merchant_id)
        .bind(session_id),
    )
    .await?;
    Ok(())
}

/// Moves the expiry of the session with this token hash (operations, and
/// tests of expiry).
pub async fn set_session_expiry(db: &Db, token_hash: &str, expires_at: i64) -> Result<bool> {
    let done = db
        .write(
            sqlx::query("update customer_token set expires_at = $1, updated_at = $2 where token_hash = $3")
                .bind(expires_at)
                .bind(super::now_ms())
                .bind(token_hash),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a product can be wished for: this merchant's, active, not deleted.
pub async fn product_is_active(db: &Db, merchant_id: &str, product_id: &str) -> Result<bool> {
    let row = sqlx::query(
        "select product_id from product \
         where merchant_id = $1 and product_id = $2 and status = 'active' and deleted_at is null",
    )
    .bind(merchant_id)
    .bind(product_id)
    .fetch_optional(db.reads())
    .await?;
    Ok(row.is_some())
}

/// Adds an item unless it is there already; `true` when added.
pub async fn insert_wishlist_item(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    product_id: &str,
    now: i64,
) -> Result<bool> {
    let done = db
        .write(
            sqlx::query(
                "insert into wishlist_item (merchant_id, customer_id, product_id, created_at, updated_at) \
         values ($1, $2, $3, $4, $4) on conflict (merchant_id, customer_id, product_id) do nothing",
            )
            .bind(merchant_id)
            .bind(customer_id)
            .bind(product_id)
            .bind(now),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// When the product went on the customer's wishlist; `None` if it is not there.
pub async fn wishlist_item_added_at(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    product_id: &str,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "select created_at from wishlist_item where merchant_id = $1 and customer_id = $2 and product_id = $3",
    )
    .bind(merchant_id)
    .bind(customer_id)
    .bind(product_id)
    .fetch_optional(db.reads())
    .await?;
    Ok(row.map(|r| r.try_get("created_at")).transpose()?)
}

/// Items whose product is still active, newest first, after the
/// `(added_at, product_id)` of the previous page.
pub async fn list_wishlist(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    after: Option<(i64, &str)>,
    limit: u32,
) -> Result<Vec<WishlistItem>> {
    let after_filter = if after.is_some() {
        "and (w.created_at < $4 or (w.created_at = $4 and w.product_id < $5))"
    } else {
        ""
    };
    let sql = format!(
        "select w.product_id, w.created_at from wishlist_item w \
         join product p on p.merchant_id = w.merchant_id and p.product_id = w.product_id \
         where w.merchant_id = $1 and w.customer_id = $2 and p.status = 'active' and p.deleted_at is null \
         {after_filter} order by w.created_at desc, w.product_id desc limit $3"
    );
    let mut query = sqlx::query(&sql).bind(merchant_id).bind(customer_id).bind(i64::from(limit));
    if let Some((at, product_id)) = after {
        query = query.bind(at).bind(product_id);
    }
    let rows = query.fetch_all(db.reads()).await?;
    rows.iter()
        .map(|r| {
            Ok(WishlistItem { product_id: r.try_get("product_id")?, added_at: r.try_get("created_at")? })
        })
        .collect()
}

/// Removes an item; `true` when it was there.
pub async fn delete_wishlist_item(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    product_id: &str,
) -> Result<bool> {
    let done = db
        .write(
            sqlx::query(
                "delete from wishlist_item where merchant_id = $1 and customer_id = $2 and product_id = $3",
            )
            .bind(merchant_id)
            .bind(customer_id)
            .bind(product_id),
        )
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A password reset asked for: the token's hash (valid until `expires_at`),
/// `customer.password_reset_requested` and the e-mail carrying the token
/// (sealed), in one transaction.
pub async fn request_reset(
    db: &Db,
    merchant_id: &str,
    customer: &serde_json::Value,
    (token_hash, token_sealed): (&str, &str),
    (now, expires_at): (i64, i64),
) -> Result<()> {
    let customer_id = customer["customer_id"].as_str().unwrap_or_default();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "insert into password_reset (token_hash, merchant_id, customer_id, expires_at, created_at) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(merchant_id)
    .bind(customer_id)
    .bind(expires_at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let kind = "customer.password_reset_requested";
    let event = super::events::record(&mut tx, merchant_id, kind, customer_id, customer, now).await?;
    let mail = super::emails::Queued {
        merchant_id: merchant_id.to_owned(),
        dedupe_key: format!("password_reset:{event}"),
        event_id: event,
        kind: "password_reset",
        secret_sealed: Some(token_sealed.to_owned()),
    };
    super::emails::queue(&mut tx, &[mail], None, now).await?;
    tx.commit().await
}

/// Uses a reset token (once, before it expires) to set the customer's
/// password hash, ending their sessions; the customer, or `None`.
pub async fn use_reset(
    db: &Db,
    merchant_id: &str,
    token_hash: &str,
    password_hash: &str,
    now: i64,
) -> Result<Option<String>> {
    let mut tx = db.begin_write().await?;
    let customer: Option<String> = sqlx::query_scalar(
        "update password_reset set used_at = $3 where merchant_id = $1 and token_hash = $2 and used_at is null \
         and expires_at > $3 returning customer_id",
    )
    .bind(merchant_id)
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(customer) = customer else {
        tx.rollback().await?;
        return Ok(None);
    };
    sqlx::query(
        "update customer set password_hash = $3, updated_at = $4 where merchant_id = $1 and customer_id = $2",
    )
    .bind(merchant_id)
    .bind(&customer)
    .bind(password_hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "update customer_token set revoked_at = $3, updated_at = $3 \
         where merchant_id = $1 and customer_id = $2 and revoked_at is null",
    )
    .bind(merchant_id)
    .bind(&customer)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(customer))
}
