//! Carts, their lines and entered discount codes. Every change to an open
//! cart is one transaction that first bumps the cart's `version` on the
//! condition that it is still open: a completed cart cannot change, and a
//! checkout can tell that the cart it priced is the cart it orders.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Arg, Backend, Batch, Conn, Db, Sql};
use crate::model::cart::{Address, CartRecord, CartStatus, LineRecord, VariantInfo};
use crate::model::catalog::{InventoryPolicy, Status};

fn address_text(a: Option<&Address>) -> Option<String> {
    a.map(super::to_json)
}

const CART_COLUMNS: &str = "cart.cart_id, cart.currency, cart.customer_id, cart.email, cart.shipping_address, \
     cart.billing_address, cart.shipping_option, cart.status, cart.order_id, cart.version, cart.created_at, \
     cart.updated_at, \
     (select m.prices_include_tax from merchant m where m.merchant_id = cart.merchant_id) as prices_include_tax";

fn cart(row: &AnyRow) -> Result<CartRecord> {
    Ok(CartRecord {
        id: row.try_get("cart_id")?,
        currency: row.try_get("currency")?,
        customer_id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        shipping_address: super::json(row, "shipping_address")?,
        billing_address: super::json(row, "billing_address")?,
        shipping_option: row.try_get("shipping_option")?,
        status: CartStatus::from_db(&row.try_get::<String, _>("status")?),
        order_id: row.try_get("order_id")?,
        version: row.try_get("version")?,
        prices_include_tax: row.try_get::<i64, _>("prices_include_tax")? != 0,
        discount_codes: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Creates a cart with its first lines (`(line id, variant id, quantity)`),
/// and answers it as [`with_lines`] does.
pub async fn insert(
    db: &Db,
    merchant_id: &str,
    c: &CartRecord,
    lines: &[(String, String, i64)],
) -> Result<Loaded> {
    let mut writes = Batch::default();
    writes.add(Sql::with(
        "insert into cart (cart_id, merchant_id, currency, customer_id, email, status, version, \
         created_at, updated_at) values ($1, $2, $3, $4, $5, 'open', 0, $6, $6)",
        [
            (&c.id).into(),
            merchant_id.into(),
            (&c.currency).into(),
            c.customer_id.as_deref().into(),
            c.email.as_deref().into(),
            c.created_at.into(),
        ],
    ));
    for chunk in lines.chunks(super::ROWS_PER_INSERT) {
        let sql = format!(
            "insert into cart_line (merchant_id, cart_id, created_at, updated_at, cart_line_id, variant_id, \
             quantity) values {}",
            super::row_values(chunk.len(), "$1, $2, $3, $3", 3, 4)
        );
        let mut args: Vec<Arg> = vec![merchant_id.into(), (&c.id).into(), c.created_at.into()];
        for (id, variant_id, quantity) in chunk {
            args.extend([id.into(), variant_id.into(), (*quantity).into()]);
        }
        writes.add(Sql::with(&sql, args));
    }
    let mut tx = db.write_batch(writes).await?;
    let read = read_back(db, &mut tx, merchant_id, &c.id).await?;
    tx.commit().await?;
    settled(db, read, merchant_id, &c.id).await
}

/// The cart's entered discount codes, as a column `codes` of the cart's row.
fn codes_column(db: &Db) -> String {
    format!(
        "(select {} from cart_discount_code d \
         where d.merchant_id = cart.merchant_id and d.cart_id = cart.cart_id) as codes",
        db.list_agg("d.code", "d.created_at, d.code")
    )
}

/// The cart with its entered discount codes (one query).
pub async fn get(db: &Db, merchant_id: &str, cart_id: &str) -> Result<Option<CartRecord>> {
    let sql = format!(
        "select {CART_COLUMNS}, {} from cart where merchant_id = $1 and cart_id = $2",
        codes_column(db)
    );
    let Some(row) = sqlx::query(&sql).bind(merchant_id).bind(cart_id).fetch_optional(db.reads()).await?
    else {
        return Ok(None);
    };
    Ok(Some(cart_with_codes(&row)?))
}

/// A cart as it is stored: its row with its entered discount codes, and
/// its lines (see [`with_lines`]).
#[derive(Debug)]
pub struct Loaded {
    /// The cart's row.
    pub cart: CartRecord,
    /// Its lines, in the order they were added.
    pub lines: Vec<LineRecord>,
}

fn cart_with_codes(row: &AnyRow) -> Result<CartRecord> {
    let mut c = cart(row)?;
    let codes: Option<String> = row.try_get("codes")?;
    c.discount_codes = super::split_list(codes);
    Ok(c)
}

/// The cart with its entered discount codes, and its lines in the order
/// they were added with what the catalog and stock say of their variants
/// now (`variant` is `None` for a variant that no longer exists at all).
/// One query, however many lines: a row per line, each with the cart's
/// columns (one row of nulls for the lines of an empty cart). Every
/// subquery is an index lookup per line (a grouped join here lets
/// PostgreSQL's planner, misjudging a fresh cart, aggregate once per line).
///
/// On SQLite, read on the writer when its turn is idle (see
/// [`Db::idle_turn`]), whose cache holds the cart it wrote, unless the
/// cart has more than [`super::WARM_ROWS`] lines.
pub async fn with_lines(db: &Db, merchant_id: &str, cart_id: &str) -> Result<Option<Loaded>> {
    if let Some(mut turn) = db.idle_turn() {
        let read = read_back(db, &mut turn, merchant_id, cart_id).await;
        drop(turn);
        // `None`: a long cart (or none at all, which a reader says again).
        if let Some(loaded) = read? {
            return Ok(Some(loaded));
        }
    }
    load(db, db.reads(), merchant_id, cart_id).await
}

/// The cart just changed on `conn`, read on that connection before it is
/// given up: SQLite's writer has the cart's pages in its cache, where a
/// reader drops its whole cache whenever the database changed, and on
/// PostgreSQL it is one more statement on a connection already held. But
/// SQLite's writer is the write turn, which every writer waits for: a cart
/// of more than [`super::WARM_ROWS`] lines (a row per line to read) is left
/// to a reader once the turn is given up (`None`, see [`settled`]).
async fn read_back(db: &Db, conn: &mut Conn, merchant_id: &str, cart_id: &str) -> Result<Option<Loaded>> {
    if db.backend() == Backend::Sqlite {
        let lines: i64 =
            sqlx::query_scalar(LINE_COUNT).bind(merchant_id).bind(cart_id).fetch_one(&mut *conn).await?;
        if lines > super::WARM_ROWS as i64 {
            return Ok(None);
        }
    }
    load(db, conn, merchant_id, cart_id).await
}

/// The cart as changed: read back by the writer, or else now by a reader.
async fn settled(db: &Db, read: Option<Loaded>, merchant_id: &str, cart_id: &str) -> Result<Loaded> {
    match read {
        Some(loaded) => Ok(loaded),
        None => Ok(load(db, db.reads(), merchant_id, cart_id).await?.ok_or(sqlx::Error::RowNotFound)?),
    }
}

/// [`with_lines`] on a given connection (see [`read_back`]).
async fn load<'c, E>(db: &Db, on: E, merchant_id: &str, cart_id: &str) -> Result<Option<Loaded>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    // The cart's row once (materialized: its subqueries are not run again
    // for every line), then a row per line.
    let sql = format!(
        "with c as materialized (select {CART_COLUMNS}, {}, cart.merchant_id as mid from cart \
           where cart.merchant_id = $1 and cart.cart_id = $2) \
         select c.*, \
         l.cart_line_id, l.variant_id, l.quantity, v.product_id, v.sku, v.title as variant_title, \
         v.price_amount, v.currency as variant_currency, v.weight_grams, v.tax_code, v.inventory_policy, \
         v.deleted_at as variant_deleted_at, p.title as product_title, p.status as product_status, p.tags, \
         p.deleted_at as product_deleted_at, \
         (select cast(sum(i.on_hand - i.reserved) as bigint) from inventory_level i \
          where i.merchant_id = l.merchant_id and i.variant_id = l.variant_id) as available, \
         (select {} from product_category pc \
          where pc.merchant_id = l.merchant_id and pc.product_id = v.product_id) as category_ids \
         from c \
         left join cart_line l on l.merchant_id = c.mid and l.cart_id = c.cart_id \
         left join variant v on v.merchant_id = l.merchant_id and v.variant_id = l.variant_id \
         left join product p on p.merchant_id = v.merchant_id and p.product_id = v.product_id \
         order by l.cart_line_id",
        codes_column(db),
        db.list_agg("pc.category_id", "pc.category_id")
    );
    let rows = sqlx::query(&sql).bind(merchant_id).bind(cart_id).fetch_all(on).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        let Some(id) = r.try_get::<Option<String>, _>("cart_line_id")? else { continue };
        let product_id: Option<String> = r.try_get("product_id")?;
        let variant = match product_id {
            None => None,
            Some(product_id) => {
                let status: Option<String> = r.try_get("product_status")?;
                let variant_deleted: Option<i64> = r.try_get("variant_deleted_at")?;
                let product_deleted: Option<i64> = r.try_get("product_deleted_at")?;
                let product_title: Option<String> = r.try_get("product_title")?;
                let variant_title: String = r.try_get("variant_title")?;
                let product_title = product_title.unwrap_or_default();
                let title = if variant_title.is_empty() || variant_title == product_title {
                    product_title
                } else {
                    format!("{product_title} - {variant_title}")
                };
                // No level anywhere: not tracked (the sum is null).
                let available: Option<i64> = r.try_get("available")?;
                Some(VariantInfo {
                    category_ids: super::split_list(r.try_get("category_ids")?),
                    product_id,
                    sku: r.try_get("sku")?,
                    title,
                    price: r.try_get("price_amount")?,
                    currency: r.try_get("variant_currency")?,
                    weight_grams: r.try_get("weight_grams")?,
                    tax_code: r.try_get("tax_code")?,
                    policy: InventoryPolicy::from_db(&r.try_get::<String, _>("inventory_policy")?),
                    tags: super::json::<Option<Vec<String>>>(r, "tags")?.unwrap_or_default(),
                    live: variant_deleted.is_none()
                        && product_deleted.is_none()
                        && status.as_deref().map(Status::from_db) == Some(Status::Active),
                    available: available.unwrap_or(0),
                    tracked: available.is_some(),
                })
            }
        };
        lines.push(LineRecord {
            id,
            variant_id: r.try_get("variant_id")?,
            quantity: r.try_get("quantity")?,
            variant,
        });
    }
    Ok(Some(Loaded { cart: cart_with_codes(first)?, lines }))
}

/// SQL: the price currency of the variant `variant` (a placeholder) of the
/// merchant `$1` if it is for sale — live, on an active product — and no
/// row otherwise.
fn for_sale_currency(variant: &str) -> String {
    format!(
        "select v.currency from variant v join product p \
         on p.merchant_id = v.merchant_id and p.product_id = v.product_id \
         where v.merchant_id = $1 and v.variant_id = {variant} and v.deleted_at is null \
         and p.deleted_at is null and p.status = 'active'"
    )
}

/// SQL: the number of lines of the cart `$2` of the merchant `$1`.
const LINE_COUNT: &str = "select count(*) from cart_line where merchant_id = $1 and cart_id = $2";

/// A live variant of an active product: its price currency, or `None`.
pub async fn sellable_variant(db: &Db, merchant_id: &str, variant_id: &str) -> Result<Option<String>> {
    let row = sqlx::query(&for_sale_currency("$2"))
        .bind(merchant_id)
        .bind(variant_id)
        .fetch_optional(db.reads())
        .await?;
    Ok(row.map(|r| r.try_get("currency")).transpose()?)
}

/// What adding a variant to a cart needs to know, in one query.
#[derive(Debug)]
pub struct Addable {
    /// The cart's currency.
    pub currency: String,
    /// Lines the cart has.
    pub lines: i64,
    /// The variant's price currency if it is for sale (live, on an active
    /// product; see [`sellable_variant`]).
    pub variant_currency: Option<String>,
}

/// The cart (`None` if the merchant has none of that id), its number of
/// lines, and whether `variant_id` is for sale.
pub async fn addable(db: &Db, merchant_id: &str, cart_id: &str, variant_id: &str) -> Result<Option<Addable>> {
    let sql = format!(
        "select cart.currency, ({LINE_COUNT}) as line_count, ({}) as variant_currency \
         from cart where cart.merchant_id = $1 and cart.cart_id = $2",
        for_sale_currency("$3")
    );
    let row =
        sqlx::query(&sql).bind(merchant_id).bind(cart_id).bind(variant_id).fetch_optional(db.reads()).await?;
    row.map(|r| {
        Ok(Addable {
            currency: r.try_get("currency")?,
            lines: r.try_get("line_count")?,
            variant_currency: r.try_get("variant_currency")?,
        })
    })
    .transpose()
}

/// Bumps the version of an open cart; false if it is not open (or not there).
async fn bump(conn: &mut crate::db::Conn, merchant_id: &str, cart_id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "update cart set version = version + 1, updated_at = $3 \
         where merchant_id = $1 and cart_id = $2 and status = 'open'",
    )
    .bind(merchant_id)
    .bind(cart_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A change to an open cart.
pub enum Change<'a> {
    /// Adds `quantity` of a variant (to its line if it has one), as long as
    /// the line stays within `max` units.
    AddLine {
        /// `cl_…` for a new line; unused when the variant already has one.
        line_id: &'a str,
        /// The variant to add (`var_…`).
        variant_id: &'a str,
        /// Units to add.
        quantity: i64,
        /// Most units the line may hold.
        max: i64,
    },
    /// Sets a line's quantity.
    SetQuantity {
        /// The line to change (`cl_…`).
        line_id: &'a str,
        /// Its new quantity, 1 or more.
        quantity: i64,
    },
    /// Removes lines.
    RemoveLines(&'a [String]),
    /// Sets contact and addresses (each `None` leaves the value as it is).
    Details {
        /// The buyer's email address.
        email: Option<&'a str>,
        /// Where to ship.
        shipping: Option<&'a Address>,
        /// Where to bill.
        billing: Option<&'a Address>,
    },
    /// Selects a shipping option by code (`None` clears it).
    ShippingOption(Option<&'a str>),
    /// Enters a discount code.
    AddCode {
        /// The code's case-insensitive key; entering it twice changes nothing.
        code_key: &'a str,
        /// The code as the merchant wrote it.
        code: &'a str,
    },
    /// Gives a guest cart to a customer (a cart already theirs stays so);
    /// the cart keeps its e-mail if it has one. A cart of another customer
    /// is `Missing`.
    Claim {
        /// The customer who claims it (`cus_…`).
        customer_id: &'a str,
        /// The customer's e-mail, for a cart without one.
        email: &'a str,
    },
    /// Removes an entered discount code.
    RemoveCode {
        /// The code's case-insensitive key.
        code_key: &'a str,
    },
}

/// What [`change`] did.
#[derive(Debug)]
pub enum Changed {
    /// Done: the cart as changed, read on the connection that changed it.
    Done(Box<Loaded>),
    /// The cart is not open (completing or completed); nothing changed.
    NotOpen,
    /// The line (or code) to change is not in the cart; nothing changed.
    Missing,
    /// The line would go beyond its most units; nothing changed.
    TooMany,
}

/// Applies one change to an open cart, in one transaction.
pub async fn change(
    db: &Db,
    merchant_id: &str,
    cart_id: &str,
    change: Change<'_>,
    now: i64,
) -> Result<Changed> {
    // A change to the cart's own row is one statement, its own transaction.
    let row = match &change {
        Change::Details { email, shipping, billing } => Some(
            sqlx::query(
                "update cart set version = version + 1, updated_at = $3, email = coalesce($4, email), \
                 shipping_address = coalesce($5, shipping_address), \
                 billing_address = coalesce($6, billing_address) \
                 where merchant_id = $1 and cart_id = $2 and status = 'open'",
            )
            .bind(merchant_id)
            .bind(cart_id)
            .bind(now)
            .bind(*email)
            .bind(address_text(*shipping))
            .bind(address_text(*billing)),
        ),
        Change::ShippingOption(code) => Some(
            sqlx::query(
                "update cart set version = version + 1, updated_at = $3, shipping_option = $4 \
                 where merchant_id = $1 and cart_id = $2 and status = 'open'",
            )
            .bind(merchant_id)
            .bind(cart_id)
            .bind(now)
            .bind(*code),
        ),
        _ => None,
    };
    if let Some(update) = row {
        let mut turn = db.write_turn().await?;
        if update.execute(&mut *turn).await?.rows_affected() != 1 {
            turn.done().await;
            return Ok(Changed::NotOpen);
        }
        let read = read_back(db, &mut turn, merchant_id, cart_id).await?;
        turn.done().await;
        return Ok(Changed::Done(Box::new(settled(db, read, merchant_id, cart_id).await?)));
    }
    let mut tx = db.begin_write().await?;
    if !bump(&mut tx, merchant_id, cart_id, now).await? {
        tx.rollback().await?;
        return Ok(Changed::NotOpen);
    }
    let affected = match change {
        Change::AddLine { line_id, variant_id, quantity, max } => {
            let added = sqlx::query(
                "insert into cart_line (cart_line_id, merchant_id, cart_id, variant_id, quantity, created_at, \
                 updated_at) values ($1, $2, $3, $4, $5, $6, $6) on conflict (cart_id, variant_id) \
                 do update set quantity = cart_line.quantity + excluded.quantity, updated_at = excluded.updated_at \
                 where cart_line.quantity + excluded.quantity <= $7",
            )
            .bind(line_id)
            .bind(merchant_id)
            .bind(cart_id)
            .bind(variant_id)
            .bind(quantity)
            .bind(now)
            .bind(max)
            .execute(&mut *tx)
            .await?;
            if added.rows_affected() == 0 {
                tx.rollback().await?;
                return Ok(Changed::TooMany);
            }
            1
        }
        Change::SetQuantity { line_id, quantity } => sqlx::query(
            "update cart_line set quantity = $4, updated_at = $5 \
             where merchant_id = $1 and cart_id = $2 and cart_line_id = $3",
        )
        .bind(merchant_id)
        .bind(cart_id)
        .bind(line_id)
        .bind(quantity)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        Change::RemoveLines(ids) => {
            let mut n = 0;
            for chunk in ids.chunks(super::ROWS_PER_INSERT) {
                let sql = format!(
                    "delete from cart_line where merchant_id = $1 and cart_id = $2 and cart_line_id in {}",
                    super::row_values(1, "", chunk.len(), 3)
                );
                let delete =
                    chunk.iter().fold(sqlx::query(&sql).bind(merchant_id).bind(cart_id), |q, id| q.bind(id));
                n += delete.execute(&mut *tx).await?.rows_affected();
            }
            n
        }
        Change::Claim { customer_id, email } => sqlx::query(
            "update cart set customer_id = $3, email = coalesce(email, $4) where merchant_id = $1 and cart_id = $2 \
             and (customer_id is null or customer_id = $3)",
        )
        .bind(merchant_id)
        .bind(cart_id)
        .bind(customer_id)
        .bind(email)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        // Written above, in one statement.
        Change::Details { .. } | Change::ShippingOption(_) => unreachable!("a change to the cart row alone"),
        Change::AddCode { code_key, code } => sqlx::query(
            "insert into cart_discount_code (merchant_id, cart_id, code_key, code, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5) on conflict (merchant_id, cart_id, code_key) do nothing",
        )
        .bind(merchant_id)
        .bind(cart_id)
        .bind(code_key)
        .bind(code)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map(|_| 1)?,
        Change::RemoveCode { code_key } => sqlx::query(
            "delete from cart_discount_code where merchant_id = $1 and cart_id = $2 and code_key = $3",
        )
        .bind(merchant_id)
        .bind(cart_id)
        .bind(code_key)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    if affected == 0 {
        tx.rollback().await?;
        return Ok(Changed::Missing);
    }
    let read = read_back(db, &mut tx, merchant_id, cart_id).await?;
    tx.commit().await?;
    Ok(Changed::Done(Box::new(settled(db, read, merchant_id, cart_id).await?)))
}

/// Open carts with an e-mail and lines, idle past their shop's delay and
/// never found abandoned: (merchant, cart, `updated_at`), oldest first.
///
/// The shortest delay of any shop bounds the index range read, so the carts
/// still fresh (nearly all of them) are never walked.
pub async fn idle(db: &Db, now: i64, limit: u32) -> Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query(IDLE).bind(now).bind(i64::from(limit)).fetch_all(db.reads()).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("merchant_id")?, r.try_get("cart_id")?, r.try_get("updated_at")?)))
        .collect()
}

/// [`idle`]'s statement: `$1` now, `$2` limit.
pub(super) const IDLE: &str = "select c.merchant_id, c.cart_id, c.updated_at \
     from cart c join merchant m on m.merchant_id = c.merchant_id \
     where c.status = 'open' and c.abandoned_at is null and c.email is not null \
     and c.updated_at < $1 - (select min(abandoned_cart_after_ms) from merchant) \
     and c.updated_at < $1 - m.abandoned_cart_after_ms \
     and exists (select 1 from cart_line l where l.merchant_id = c.merchant_id and l.cart_id = c.cart_id) \
     order by c.updated_at limit $2";

/// Marks a cart abandoned, once and only if it did not change since
/// `seen` (its `updated_at`), with `cart.abandoned` and its recovery e-mail
/// (carrying `token_sealed`), in one transaction; false if it changed.
pub async fn mark_abandoned(
    db: &Db,
    (merchant_id, cart_id, seen): (&str, &str, i64),
    token_sealed: &str,
    now: i64,
) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "update cart set abandoned_at = $4 where merchant_id = $1 and cart_id = $2 and updated_at = $3 \
         and status = 'open' and abandoned_at is null returning email, currency",
    )
    .bind(merchant_id)
    .bind(cart_id)
    .bind(seen)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    let lines = sqlx::query(
        "select l.variant_id, l.quantity, v.sku, v.title as variant_title, p.title as product_title \
         from cart_line l join variant v on v.variant_id = l.variant_id join product p on p.product_id = v.product_id \
         where l.merchant_id = $1 and l.cart_id = $2 order by l.cart_line_id",
    )
    .bind(merchant_id)
    .bind(cart_id)
    .fetch_all(&mut *tx)
    .await?;
    let lines = lines
        .iter()
        .map(|l| {
            let (product, variant): (String, String) = (l.try_get("product_title")?, l.try_get("variant_title")?);
            let title = if variant.is_empty() || variant == product { product } else { format!("{product} ({variant})") };
            Ok(serde_json::json!({"variant_id": l.try_get::<String, _>("variant_id")?, "sku": l.try_get::<String, _>("sku")?,
                "title": title, "quantity": l.try_get::<i64, _>("quantity")?}))
        })
        .collect::<Result<Vec<_>>>()?;
    let payload = serde_json::json!({"cart_id": cart_id, "email": row.try_get::<String, _>("email")?,
        "currency": row.try_get::<String, _>("currency")?, "lines": lines, "idle_since": crate::model::time::format(seen)});
    let event = super::events::record(&mut tx, merchant_id, "cart.abandoned", cart_id, &payload, now).await?;
    let mail = super::emails::Queued {
        merchant_id: merchant_id.to_owned(),
        event_id: event,
        kind: "cart_recovery",
        dedupe_key: format!("cart_recovery:{cart_id}"),
        secret_sealed: Some(token_sealed.to_owned()),
    };
    super::emails::queue(&mut tx, &[mail], None, now).await?;
    tx.commit().await?;
    Ok(true)
}
