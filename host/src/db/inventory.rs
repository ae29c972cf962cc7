//! Locations, inventory levels and their adjustment history.

use crate::db::Result;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::Db;
use crate::model::catalog::InventoryPolicy;
use crate::model::inventory::{Adjustment, Level, Location};

fn location(row: &AnyRow) -> Result<Location> {
    Ok(Location {
        id: row.try_get("location_id")?,
        name: row.try_get("name")?,
        country: row.try_get("country")?,
        created_at: row.try_get("created_at")?,
    })
}

const LOCATION_COLUMNS: &str = "location_id, name, country, created_at";

/// Writes a new location.
pub async fn insert_location(db: &Db, merchant_id: &str, l: &Location) -> Result<()> {
    db.write(
        sqlx::query(
            "insert into location (location_id, merchant_id, name, country, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&l.id)
        .bind(merchant_id)
        .bind(&l.name)
        .bind(l.country.as_deref())
        .bind(l.created_at),
    )
    .await?;
    Ok(())
}

/// One of the merchant's locations, if it exists.
pub async fn get_location(db: &Db, merchant_id: &str, id: &str) -> Result<Option<Location>> {
    let sql = format!("select {LOCATION_COLUMNS} from location where merchant_id = $1 and location_id = $2");
    let row = sqlx::query(&sql).bind(merchant_id).bind(id).fetch_optional(db.reads()).await?;
    row.as_ref().map(location).transpose()
}

/// The merchant's locations in id order (oldest first), after `after`.
pub async fn list_locations(
    db: &Db,
    merchant_id: &str,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Location>> {
    let select = format!("select {LOCATION_COLUMNS} from location");
    super::merchant_page(db, &select, "location_id", merchant_id, after, limit, location).await
}

/// A live variant's inventory policy and low-stock threshold; `None` if
/// the merchant has no such variant.
pub async fn variant_policy(
    db: &Db,
    merchant_id: &str,
    variant_id: &str,
) -> Result<Option<(InventoryPolicy, Option<i64>)>> {
    let row = sqlx::query(
        "select inventory_policy, low_stock_threshold from variant \
         where merchant_id = $1 and variant_id = $2 and deleted_at is null",
    )
    .bind(merchant_id)
    .bind(variant_id)
    .fetch_optional(db.reads())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let policy = InventoryPolicy::from_db(&r.try_get::<String, _>("inventory_policy")?);
    Ok(Some((policy, r.try_get("low_stock_threshold")?)))
}

/// Sets what is given of a variant's policy and low-stock threshold (`Some(None)`
/// clears it), and writes an alert if the stock is now low; whether the
/// variant was found.
pub async fn set_variant_policy(
    db: &Db,
    merchant_id: &str,
    variant_id: &str,
    (policy, threshold): (Option<InventoryPolicy>, Option<Option<i64>>),
    now: i64,
) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "update variant set inventory_policy = coalesce($3, inventory_policy), \
         low_stock_threshold = case when $4 = 1 then $5 else low_stock_threshold end, updated_at = $6 \
         where merchant_id = $1 and variant_id = $2 and deleted_at is null",
    )
    .bind(merchant_id)
    .bind(variant_id)
    .bind(policy.map(|p| p.as_str()))
    .bind(i64::from(threshold.is_some()))
    .bind(threshold.flatten())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    alert_crossings(&mut tx, merchant_id, &[variant_id.to_owned()], now).await?;
    tx.commit().await?;
    Ok(true)
}

fn level(variant_id: &str, location_id: String, row: &AnyRow) -> Result<Level> {
    let on_hand: i64 = row.try_get("on_hand")?;
    let reserved: i64 = row.try_get("reserved")?;
    Ok(Level {
        variant_id: variant_id.to_owned(),
        location_id,
        on_hand,
        reserved,
        available: on_hand - reserved,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Compares the available stock of `variants` with their low-stock
/// threshold and writes an event when one crossed downwards since last
/// seen (`inventory.low_stock` at or below the threshold,
/// `inventory.out_of_stock` at zero or below), on the caller's transaction.
/// A variant whose stock went back up is armed again, silently.
pub(crate) async fn alert_crossings(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    variants: &[String],
    now: i64,
) -> Result<()> {
    if variants.is_empty() {
        return Ok(());
    }
    let mut sql = super::Sql::default();
    sql.push(
        "select v.variant_id, v.product_id, v.sku, v.low_stock_threshold, v.stock_alert, \
         cast(coalesce((select sum(l.on_hand - l.reserved) from inventory_level l \
           where l.merchant_id = v.merchant_id and l.variant_id = v.variant_id), 0) as bigint) as available \
         from variant v where v.merchant_id = ",
    )
    .bind(super::Arg::Text(merchant_id.to_owned()))
    .push(" and v.variant_id in (")
    .list(variants)
    .push(")");
    let rank = |s: &str| match s {
        "out" => 2,
        "low" => 1,
        _ => 0,
    };
    for row in sql.fetch_all(&mut *conn).await? {
        let available: i64 = row.try_get("available")?;
        let threshold: Option<i64> = row.try_get("low_stock_threshold")?;
        let was: String = row.try_get("stock_alert")?;
        let now_state = if available <= 0 {
            "out"
        } else if threshold.is_some_and(|t| available <= t) {
            "low"
        } else {
            "ok"
        };
        if now_state == was {
            continue;
        }
        let variant_id: String = row.try_get("variant_id")?;
        sqlx::query("update variant set stock_alert = $3 where merchant_id = $1 and variant_id = $2")
            .bind(merchant_id)
            .bind(&variant_id)
            .bind(now_state)
            .execute(&mut *conn)
            .await?;
        if rank(now_state) > rank(&was) {
            let kind = if now_state == "out" { "inventory.out_of_stock" } else { "inventory.low_stock" };
            let payload = serde_json::json!({
                "variant_id": variant_id, "product_id": row.try_get::<String, _>("product_id")?,
                "sku": row.try_get::<String, _>("sku")?, "available": available, "low_stock_threshold": threshold,
            });
            super::events::record(conn, merchant_id, kind, &variant_id, &payload, now).await?;
        }
    }
    Ok(())
}

/// Takes `quantity` units that a reservation held at a level out of stock
/// for good (on hand and reserved both down), with the level's history
/// row: statements for `writes`, returning no rows. The level is there: a
/// reservation is only made on a level, and levels are never deleted.
pub(crate) fn add_consumption(
    writes: &mut super::Batch,
    merchant_id: &str,
    (variant_id, location_id): (&str, &str),
    quantity: i64,
    reason: &str,
    now: i64,
) {
    writes.add(super::Sql::with(
        "update inventory_level set on_hand = on_hand - $4, reserved = reserved - $4, \
         adjustment_seq = adjustment_seq + 1, updated_at = $5 \
         where merchant_id = $1 and variant_id = $2 and location_id = $3",
        [merchant_id.into(), variant_id.into(), location_id.into(), quantity.into(), now.into()],
    ));
    writes.add(super::Sql::with(
        "insert into inventory_adjustment (inventory_adjustment_id, merchant_id, variant_id, location_id, \
         delta, on_hand_after, reason, seq, created_at, updated_at) \
         select $4, merchant_id, variant_id, location_id, $5, on_hand, $6, adjustment_seq, $7, $7 \
         from inventory_level where merchant_id = $1 and variant_id = $2 and location_id = $3",
        [
            merchant_id.into(),
            variant_id.into(),
            location_id.into(),
            crate::model::ids::new_id("adj").into(),
            (-quantity).into(),
            reason.into(),
            now.into(),
        ],
    ));
}

/// A variant's level at every location that holds it, by location id.
pub async fn levels(db: &Db, merchant_id: &str, variant_id: &str) -> Result<Vec<Level>> {
    let rows = sqlx::query(
        "select location_id, on_hand, reserved, updated_at from inventory_level \
         where merchant_id = $1 and variant_id = $2 order by location_id",
    )
    .bind(merchant_id)
    .bind(variant_id)
    .fetch_all(db.reads())
    .await?;
    rows.iter().map(|r| level(variant_id, r.try_get("location_id")?, r)).collect()
}

/// What a change does to `on_hand`.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// Set it to this (a stock count).
    Set(i64),
    /// Add this (negative to remove).
    Adjust(i64),
}

/// One change to one level, with the id and reason of its history row.
pub struct StockChange<'a> {
    /// The shop whose stock it is (`mer_…`).
    pub merchant_id: &'a str,
    /// The variant whose stock moves (`var_…`).
    pub variant_id: &'a str,
    /// Where the stock moves (`loc_…`); the level is created on first use.
    pub location_id: &'a str,
    /// What happens to `on_hand`.
    pub change: Change,
    /// Why, kept in the history row.
    pub reason: &'a str,
    /// `adj_…`, the id of the history row.
    pub adjustment_id: &'a str,
    /// When, in unix milliseconds.
    pub now: i64,
}

/// The outcome of [`apply`].
pub enum Applied {
    /// Written, with its history row.
    Done(Adjustment, Level),
    /// Refused: it would take a `deny` variant below its reservations.
    /// Nothing was written.
    Refused {
        /// The level's `on_hand` as it stands.
        on_hand: i64,
        /// The level's reservations as they stand.
        reserved: i64,
    },
}

/// The refusal rule, inside the one conditional update: a change may always
/// add stock; otherwise it must leave `on_hand >= reserved` (hence >= 0)
/// unless the variant allows backorders.
const ALLOWED_WHEN_BACKORDER: &str = "exists (select 1 from variant v \
     where v.merchant_id = inventory_level.merchant_id and v.variant_id = inventory_level.variant_id \
     and v.inventory_policy = 'allow_backorder')";

/// Applies a change and records it, in one transaction. The update of the
/// level is a single conditional statement, so concurrent changes are
/// serialised by the database (a row lock on PostgreSQL, the write lock on
/// SQLite) and re-checked against the latest row: they can never go below.
pub async fn apply(db: &Db, c: &StockChange<'_>) -> Result<Applied> {
    let mut tx = db.begin_write().await?;
    // The first statement writes, so on SQLite the transaction takes the
    // write lock (waiting on busy_timeout) rather than failing to upgrade a
    // read snapshot later. It creates the level on first use; on PostgreSQL
    // the upsert of a set also locks the row, so the `before` it returns
    // stays true until commit.
    let ensure = ENSURE_LEVEL;
    let (before, update, amount) = match c.change {
        Change::Set(n) => {
            let sql =
                format!("{ensure} do update set updated_at = inventory_level.updated_at returning on_hand");
            let row = sqlx::query(&sql)
                .bind(c.merchant_id)
                .bind(c.variant_id)
                .bind(c.location_id)
                .bind(c.now)
                .fetch_one(&mut *tx)
                .await?;
            let before: i64 = row.try_get("on_hand")?;
            let update = format!(
                "update inventory_level set on_hand = $4, adjustment_seq = adjustment_seq + 1, updated_at = $5 \
                 where merchant_id = $1 and variant_id = $2 and location_id = $3 \
                 and ($4 >= reserved or $4 >= on_hand or {ALLOWED_WHEN_BACKORDER}) \
                 returning on_hand, reserved, adjustment_seq, updated_at"
            );
            (Some(before), update, n)
        }
        Change::Adjust(delta) => {
            sqlx::query(&format!("{ensure} do nothing"))
                .bind(c.merchant_id)
                .bind(c.variant_id)
                .bind(c.location_id)
                .bind(c.now)
                .execute(&mut *tx)
                .await?;
            let update = format!(
                "update inventory_level set on_hand = on_hand + $4, adjustment_seq = adjustment_seq + 1, \
                 updated_at = $5 \
                 where merchant_id = $1 and variant_id = $2 and location_id = $3 \
                 and (on_hand + $4 >= reserved or $4 > 0 or {ALLOWED_WHEN_BACKORDER}) \
                 returning on_hand, reserved, adjustment_seq, updated_at"
            );
            (None, update, delta)
        }
    };
    let updated = sqlx::query(&update)
        .bind(c.merchant_id)
        .bind(c.variant_id)
        .bind(c.location_id)
        .bind(amount)
        .bind(c.now)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = updated else {
        let row = sqlx::query(
            "select on_hand, reserved from inventory_level \
             where merchant_id = $1 and variant_id = $2 and location_id = $3",
        )
        .bind(c.merchant_id)
        .bind(c.variant_id)
        .bind(c.location_id)
        .fetch_one(&mut *tx)
        .await?;
        let refused =
            Applied::Refused { on_hand: row.try_get("on_hand")?, reserved: row.try_get("reserved")? };
        tx.rollback().await?;
        return Ok(refused);
    };
    let level = level(c.variant_id, c.location_id.to_owned(), &row)?;
    let seq: i64 = row.try_get("adjustment_seq")?;
    let delta = match before {
        Some(before) => level.on_hand - before,
        None => amount,
    };
    let history = History { id: c.adjustment_id, delta, on_hand_after: level.on_hand, seq, reason: c.reason };
    insert_adjustment(&mut tx, c.merchant_id, (c.variant_id, c.location_id), &history, c.now).await?;
    alert_crossings(&mut tx, c.merchant_id, &[c.variant_id.to_owned()], c.now).await?;
    tx.commit().await?;
    let adjustment = Adjustment {
        id: c.adjustment_id.to_owned(),
        variant_id: c.variant_id.to_owned(),
        location_id: c.location_id.to_owned(),
        delta,
        on_hand_after: level.on_hand,
        reason: c.reason.to_owned(),
        created_at: c.now,
    };
    Ok(Applied::Done(adjustment, level))
}

/// Moves `delta` units in or out of the `on_hand` of a (variant, location) level with its history
/// row, on the caller's transaction (orders: sold, cancelled, returned).
/// With `from_reserved`, the units sold leave `reserved` too. The level is
/// created if missing (a return to a location that never held the variant).
pub(crate) async fn move_on_hand(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    (variant_id, location_id): (&str, &str),
    delta: i64,
    from_reserved: bool,
    reason: &str,
    now: i64,
) -> Result<()> {
    let update = || {
        sqlx::query(
            "update inventory_level set on_hand = on_hand + $4, reserved = reserved + $6, \
             adjustment_seq = adjustment_seq + 1, updated_at = $5 \
             where merchant_id = $1 and variant_id = $2 and location_id = $3 returning on_hand, adjustment_seq",
        )
        .bind(merchant_id)
        .bind(variant_id)
        .bind(location_id)
        .bind(delta)
        .bind(now)
        .bind(if from_reserved { delta } else { 0 })
    };
    // The level usually exists; the first movement at a location creates it.
    let level = match update().fetch_optional(&mut *conn).await? {
        Some(level) => level,
        None => {
            sqlx::query(&format!("{ENSURE_LEVEL} do nothing"))
                .bind(merchant_id)
                .bind(variant_id)
                .bind(location_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            update().fetch_one(&mut *conn).await?
        }
    };
    let id = crate::model::ids::new_id("adj");
    let history = History {
        id: &id,
        delta,
        on_hand_after: level.try_get("on_hand")?,
        seq: level.try_get("adjustment_seq")?,
        reason,
    };
    insert_adjustment(conn, merchant_id, (variant_id, location_id), &history, now).await?;
    if !from_reserved {
        // Units back on sale (a cancellation, a return) or gone.
        alert_crossings(conn, merchant_id, &[variant_id.to_owned()], now).await?;
    }
    Ok(())
}

/// Creates a level at zero if it is missing; callers add `do nothing` or
/// `do update …`. Binds: merchant, variant, location, now.
const ENSURE_LEVEL: &str = "insert into inventory_level \
     (merchant_id, variant_id, location_id, on_hand, reserved, adjustment_seq, created_at, updated_at) \
     values ($1, $2, $3, 0, 0, 0, $4, $4) on conflict (merchant_id, variant_id, location_id)";

/// One row of a level's history.
struct History<'a> {
    id: &'a str,
    delta: i64,
    on_hand_after: i64,
    seq: i64,
    reason: &'a str,
}

async fn insert_adjustment(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    (variant_id, location_id): (&str, &str),
    h: &History<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "insert into inventory_adjustment (inventory_adjustment_id, merchant_id, variant_id, location_id, \
         delta, on_hand_after, reason, seq, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(h.id)
    .bind(merchant_id)
    .bind(variant_id)
    .bind(location_id)
    .bind(h.delta)
    .bind(h.on_hand_after)
    .bind(h.reason)
    .bind(h.seq)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adjustments of a variant, newest first; `after` is the id of the last
/// row of the previous page.
pub async fn history(
    db: &Db,
    merchant_id: &str,
    variant_id: &str,
    location_id: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Adjustment>> {
    // Newest first by time, then by the level's own sequence: two changes
    // of one level in the same millisecond still come out in order.
    const KEY: &str = "created_at, seq, inventory_adjustment_id";
    let mut sql = String::from(
        "select inventory_adjustment_id, variant_id, location_id, delta, on_hand_after, reason, created_at \
         from inventory_adjustment where merchant_id = $1 and variant_id = $2",
    );
    let mut next = 3;
    if location_id.is_some() {
        sql.push_str(&format!(" and location_id = ${next}"));
        next += 1;
    }
    if after.is_some() {
        sql.push_str(&format!(
            " and ({KEY}) < (select {KEY} from inventory_adjustment \
             where merchant_id = $1 and inventory_adjustment_id = ${next})"
        ));
        next += 1;
    }
    sql.push_str(&format!(" order by created_at desc, seq desc, inventory_adjustment_id desc limit ${next}"));
    let mut query = sqlx::query(&sql).bind(merchant_id).bind(variant_id);
    if let Some(l) = location_id {
        query = query.bind(l);
    }
    if let Some(a) = after {
        query = query.bind(a);
    }
    let rows = query.bind(i64::from(limit)).fetch_all(db.reads()).await?;
    rows.iter()
        .map(|r| {
            Ok(Adjustment {
                id: r.try_get("inventory_adjustment_id")?,
                variant_id: r.try_get("variant_id")?,
                location_id: r.try_get("location_id")?,
                delta: r.try_get("delta")?,
                on_hand_after: r.try_get("on_hand_after")?,
                reason: r.try_get("reason")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
