//! Orders, their lines, payment attempts and history; the outbox.

use crate::db::Result;
use std::collections::HashMap;

use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Arg, Batch, Db, Sql};
use crate::model::catalog::Price;
use crate::model::ids::new_id;
use crate::model::orders::{Fulfillment, NextAction, Order, OrderEvent, OrderLine, OrderStatus, Payment};

pub(crate) use super::{json, to_json};

const ORDER_COLUMNS: &str = "order_id, number, cart_id, customer_id, email, currency, payment_status, \
     fulfillment_status, subtotal, discount_total, shipping_total, tax_total, total, captured_amount, \
     refunded_amount, shipping_address, billing_address, shipping_option, adjustments, shipping_tax_lines, \
     discount_codes, prices_include_tax, cancelled_at, disputed_at, created_at, updated_at";

fn order(row: &AnyRow) -> Result<Order> {
    let currency: String = row.try_get("currency")?;
    let money = |column: &str| -> Result<Price> {
        Ok(Price { amount: row.try_get(column)?, currency: currency.clone() })
    };
    let payment_status: String = row.try_get("payment_status")?;
    let fulfillment_status: String = row.try_get("fulfillment_status")?;
    let cancelled_at: Option<i64> = row.try_get("cancelled_at")?;
    let codes: Vec<Value> = json(row, "discount_codes")?;
    Ok(Order {
        id: row.try_get("order_id")?,
        number: row.try_get("number")?,
        status: OrderStatus::derive(cancelled_at.is_some(), &payment_status, &fulfillment_status),
        payment_status,
        fulfillment_status,
        lines: Vec::new(),
        subtotal: money("subtotal")?,
        discount_total: money("discount_total")?,
        shipping_total: money("shipping_total")?,
        tax_total: money("tax_total")?,
        total: money("total")?,
        captured: money("captured_amount")?,
        refunded: money("refunded_amount")?,
        prices_include_tax: row.try_get::<i64, _>("prices_include_tax")? != 0,
        adjustments: json(row, "adjustments")?,
        shipping_tax_lines: json(row, "shipping_tax_lines")?,
        discount_codes: codes.iter().filter_map(|c| c["code"].as_str().map(str::to_owned)).collect(),
        shipping_option: json(row, "shipping_option")?,
        email: row.try_get("email")?,
        customer_id: row.try_get("customer_id")?,
        shipping_address: json(row, "shipping_address")?,
        billing_address: json(row, "billing_address")?,
        payment: None,
        cart_id: row.try_get("cart_id")?,
        cancelled_at,
        disputed_at: row.try_get("disputed_at")?,
        currency,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn order_line(row: &AnyRow, currency: &str) -> Result<OrderLine> {
    let money = |column: &str| -> Result<Price> {
        Ok(Price { amount: row.try_get(column)?, currency: currency.to_owned() })
    };
    Ok(OrderLine {
        id: row.try_get("order_line_id")?,
        variant_id: row.try_get("variant_id")?,
        product_id: row.try_get("product_id")?,
        sku: row.try_get("sku")?,
        title: row.try_get("title")?,
        quantity: row.try_get("quantity")?,
        unit_price: money("unit_price")?,
        subtotal: money("subtotal")?,
        discount_total: money("discount_total")?,
        tax_total: money("tax_total")?,
        total: money("total")?,
        adjustments: json(row, "adjustments")?,
        tax_lines: json(row, "tax_lines")?,
        fulfilled_quantity: row.try_get("fulfilled_quantity")?,
        returned_quantity: row.try_get("returned_quantity")?,
        refunded_quantity: row.try_get("refunded_quantity")?,
    })
}

const ATTEMPT_COLUMNS: &str = "payment_attempt_id, provider, plugin_id, status, amount, currency, \
     provider_reference, next_action, message, failure_reason, created_at, updated_at";

/// A payment attempt from `row`, its columns named with `prefix` before
/// them; `None` when the row has none (an outer join that found none).
fn attempt(row: &AnyRow, prefix: &str) -> Result<Option<Payment>> {
    let get = |c: &str| format!("{prefix}{c}");
    let Some(id) = row.try_get::<Option<String>, _>(get("payment_attempt_id").as_str())? else {
        return Ok(None);
    };
    let next_action: Option<String> = row.try_get(get("next_action").as_str())?;
    Ok(Some(Payment {
        id,
        provider: row.try_get(get("provider").as_str())?,
        plugin_id: row.try_get(get("plugin_id").as_str())?,
        status: row.try_get(get("status").as_str())?,
        amount: Price {
            amount: row.try_get(get("amount").as_str())?,
            currency: row.try_get(get("currency").as_str())?,
        },
        provider_reference: row.try_get(get("provider_reference").as_str())?,
        next_action: next_action.and_then(|n| serde_json::from_str::<NextAction>(&n).ok()),
        message: row.try_get(get("message").as_str())?,
        failure_reason: row.try_get(get("failure_reason").as_str())?,
        created_at: row.try_get(get("created_at").as_str())?,
        updated_at: row.try_get(get("updated_at").as_str())?,
    }))
}

/// One order with its lines and latest payment attempt, numbered or not:
/// the order with its attempt in one query, its lines in another. On
/// SQLite, read on the writer when its turn is idle (see
/// [`Db::idle_turn`]): an order just placed or paid is in its cache.
pub async fn get(db: &Db, merchant_id: &str, order_id: &str) -> Result<Option<Order>> {
    let lines = |most: usize| {
        sqlx::query(LINES).bind(merchant_id).bind(order_id).bind(i64::try_from(most).unwrap_or(i64::MAX))
    };
    if let Some(mut turn) = db.idle_turn() {
        let order = sqlx::query(get_sql()).bind(merchant_id).bind(order_id);
        let Some(row) = order.fetch_optional(&mut *turn).await? else { return Ok(None) };
        // One more than the bound tells a longer order, left to a reader.
        let rows = lines(super::WARM_ROWS + 1).fetch_all(&mut *turn).await?;
        drop(turn);
        if rows.len() <= super::WARM_ROWS {
            return Ok(Some(with_lines(&row, &rows)?));
        }
    }
    let order = sqlx::query(get_sql()).bind(merchant_id).bind(order_id);
    let Some(row) = order.fetch_optional(db.reads()).await? else { return Ok(None) };
    let rows = lines(usize::MAX).fetch_all(db.reads()).await?;
    Ok(Some(with_lines(&row, &rows)?))
}

/// An order's first `$3` lines, in order.
const LINES: &str =
    "select * from order_line where merchant_id = $1 and order_id = $2 order by position limit $3";

/// The order with its latest payment attempt, in one row.
fn get_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "select {}, {} from sales_order o left join payment_attempt a \
             on a.merchant_id = o.merchant_id and a.payment_attempt_id = (select payment_attempt_id \
                 from payment_attempt where merchant_id = o.merchant_id and order_id = o.order_id \
                 order by created_at desc, payment_attempt_id desc limit 1) \
             where o.merchant_id = $1 and o.order_id = $2",
            super::qualified(ORDER_COLUMNS, "o", ""),
            super::qualified(ATTEMPT_COLUMNS, "a", "a_"),
        )
    });
    SQL.as_str()
}

/// An order from its row (with its latest attempt) and its lines.
fn with_lines(row: &AnyRow, lines: &[AnyRow]) -> Result<Order> {
    let mut o = order(row)?;
    o.payment = attempt(row, "a_")?;
    o.lines = lines.iter().map(|r| order_line(r, &o.currency)).collect::<Result<_, _>>()?;
    Ok(o)
}

/// The trail of plugin calls an order was priced with (JSON), if it kept one.
pub async fn explain(db: &Db, merchant_id: &str, order_id: &str) -> Result<Option<String>> {
    let row = sqlx::query("select explain from sales_order where merchant_id = $1 and order_id = $2")
        .bind(merchant_id)
        .bind(order_id)
        .fetch_optional(db.reads())
        .await?;
    Ok(row.map(|r| r.try_get::<Option<String>, _>("explain")).transpose()?.flatten())
}

/// Orders in id order after `after`; of one customer and/or status.
pub async fn list(
    db: &Db,
    merchant_id: &str,
    customer_id: Option<&str>,
    status: Option<OrderStatus>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<Order>> {
    // Checkouts not confirmed by a payment (numbered below zero) are not orders.
    let mut sql = format!(
        "select {ORDER_COLUMNS} from sales_order where merchant_id = $1 and order_id > $2 and number > 0"
    );
    if customer_id.is_some() {
        sql.push_str(" and customer_id = $4");
    }
    let status_filter = status.map(|s| match s {
        OrderStatus::Cancelled => "cancelled_at is not null",
        OrderStatus::PendingPayment => {
            "cancelled_at is null and payment_status not in ('paid', 'partially_refunded', 'refunded')"
        }
        OrderStatus::Refunded => "cancelled_at is null and payment_status = 'refunded'",
        OrderStatus::PartiallyRefunded => "cancelled_at is null and payment_status = 'partially_refunded'",
        OrderStatus::Paid => {
            "cancelled_at is null and payment_status = 'paid' and fulfillment_status = 'unfulfilled'"
        }
        OrderStatus::PartiallyFulfilled => {
            "cancelled_at is null and payment_status = 'paid' and fulfillment_status = 'partially_fulfilled'"
        }
        OrderStatus::Fulfilled => {
            "cancelled_at is null and payment_status = 'paid' and fulfillment_status = 'fulfilled'"
        }
    });
    if let Some(f) = status_filter {
        sql.push_str(" and ");
        sql.push_str(f);
    }
    sql.push_str(" order by order_id limit $3");
    let mut q = sqlx::query(&sql).bind(merchant_id).bind(after.unwrap_or("")).bind(i64::from(limit));
    if let Some(c) = customer_id {
        q = q.bind(c);
    }
    let rows = q.fetch_all(db.reads()).await?;
    let mut orders = rows.iter().map(order).collect::<Result<Vec<_>, _>>()?;
    complete_page(db, merchant_id, &mut orders).await?;
    Ok(orders)
}

/// [`complete`] for a page of orders: their lines, then their latest
/// payment attempts, in one query each.
async fn complete_page(db: &Db, merchant_id: &str, orders: &mut [Order]) -> Result<()> {
    if orders.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
    let position: HashMap<String, usize> = ids.iter().cloned().zip(0..).collect();
    let of = |row: &AnyRow| -> Result<usize> {
        let id: String = row.try_get("order_id")?;
        position.get(&id).copied().ok_or(sqlx::Error::RowNotFound.into())
    };
    let of_page = |select: &str, order_by: &str| {
        let mut sql = Sql::default();
        sql.push(select)
            .push(" where merchant_id = ")
            .bind(Arg::Text(merchant_id.to_owned()))
            .push(" and order_id in (")
            .list(&ids)
            .push(") order by order_id, ")
            .push(order_by);
        sql
    };
    let sql = of_page("select * from order_line", "position");
    for row in sql.fetch_all(db.reads()).await? {
        let o = &mut orders[of(&row)?];
        o.lines.push(order_line(&row, &o.currency)?);
    }
    let select = format!("select order_id, {ATTEMPT_COLUMNS} from payment_attempt");
    let sql = of_page(&select, "created_at desc, payment_attempt_id desc");
    for row in sql.fetch_all(db.reads()).await? {
        let o = &mut orders[of(&row)?];
        // The first attempt of each order is its latest.
        if o.payment.is_none() {
            o.payment = attempt(&row, "")?;
        }
    }
    Ok(())
}

/// An order's fulfillments, oldest first.
pub async fn fulfillments(db: &Db, merchant_id: &str, order_id: &str) -> Result<Vec<Fulfillment>> {
    let rows = sqlx::query(
        "select fulfillment_id, lines, carrier, tracking_number, created_at from fulfillment \
         where merchant_id = $1 and order_id = $2 order by created_at, fulfillment_id",
    )
    .bind(merchant_id)
    .bind(order_id)
    .fetch_all(db.reads())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Fulfillment {
                id: r.try_get("fulfillment_id")?,
                lines: json(r, "lines")?,
                carrier: r.try_get("carrier")?,
                tracking_number: r.try_get("tracking_number")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// An order's history, oldest first.
pub async fn events(db: &Db, merchant_id: &str, order_id: &str) -> Result<Vec<OrderEvent>> {
    let rows = sqlx::query(
        "select seq, kind, data, created_at from order_event where merchant_id = $1 and order_id = $2 \
         order by seq",
    )
    .bind(merchant_id)
    .bind(order_id)
    .fetch_all(db.reads())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OrderEvent {
                seq: r.try_get("seq")?,
                kind: r.try_get("kind")?,
                data: json(r, "data")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// SHA-256 of the token that lets a guest see the order; `None` if there is no such order.
pub async fn access_token_hash(db: &Db, merchant_id: &str, order_id: &str) -> Result<Option<String>> {
    let row =
        sqlx::query("select access_token_hash from sales_order where merchant_id = $1 and order_id = $2")
            .bind(merchant_id)
            .bind(order_id)
            .fetch_optional(db.reads())
            .await?;
    Ok(row.map(|r| r.try_get("access_token_hash")).transpose()?)
}

/// Replaces the hash of an order's access token (a token that was never
/// delivered is replaced by one that will be).
pub async fn set_access_token_hash(db: &Db, merchant_id: &str, order_id: &str, hash: &str) -> Result<()> {
    db.write(
        sqlx::query("update sales_order set access_token_hash = $3 where merchant_id = $1 and order_id = $2")
            .bind(merchant_id)
            .bind(order_id)
            .bind(hash),
    )
    .await?;
    Ok(())
}

/// An amount as events carry it: `{"amount": …, "currency": …}`, as on the wire.
pub(crate) fn money(amount: i64, currency: &str) -> Value {
    serde_json::json!({"amount": amount, "currency": currency})
}

/// Flags a dispute on the order (the first one's time is kept) and records
/// it as an event.
pub async fn flag_dispute(db: &Db, merchant_id: &str, order_id: &str, data: Value) -> Result<()> {
    let now = super::now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "update sales_order set disputed_at = coalesce(disputed_at, $3) where merchant_id = $1 and order_id = $2",
    )
    .bind(merchant_id)
    .bind(order_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    record_event(&mut tx, merchant_id, order_id, "dispute_opened", data, now).await?;
    tx.commit().await
}

/// Records an event on an order that changes nothing else (a flag for the
/// merchant), in a transaction of its own.
pub async fn add_event(db: &Db, merchant_id: &str, order_id: &str, kind: &str, data: Value) -> Result<()> {
    let mut tx = db.begin_write().await?;
    record_event(&mut tx, merchant_id, order_id, kind, data, super::now_ms()).await?;
    tx.commit().await
}

/// Appends an event to an order's history and the same change to the
/// outbox (topic `order.<kind>`), on the caller's transaction: every state
/// change of an order goes through here (or through [`append_event`] when
/// the caller has already taken the event's number).
pub(crate) async fn record_event(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    order_id: &str,
    kind: &str,
    data: Value,
    now: i64,
) -> Result<()> {
    let row = sqlx::query(
        "update sales_order set event_seq = event_seq + 1, updated_at = $3 \
         where merchant_id = $1 and order_id = $2 returning event_seq, number",
    )
    .bind(merchant_id)
    .bind(order_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let at = EventAt { number: row.try_get("number")?, seq: row.try_get("event_seq")? };
    append_event(conn, merchant_id, order_id, at, kind, data, now).await
}

/// Where an event goes in an order's history: the order's number and the
/// event's `seq`, taken by the caller from `sales_order.event_seq`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventAt {
    pub number: i64,
    pub seq: i64,
}

/// Writes event `at.seq` of an order and its outbox row; the caller has
/// bumped `sales_order.event_seq` to `at.seq` in the same transaction.
pub(crate) async fn append_event(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    order_id: &str,
    at: EventAt,
    kind: &str,
    data: Value,
    now: i64,
) -> Result<()> {
    let mut writes = Batch::default();
    event_statements(&mut writes, merchant_id, order_id, at, kind, data, now);
    writes.run_independent(conn).await
}

/// [`append_event`] as statements for the caller's [`Batch`].
pub(crate) fn event_statements(
    writes: &mut Batch,
    merchant_id: &str,
    order_id: &str,
    at: EventAt,
    kind: &str,
    data: Value,
    now: i64,
) {
    let EventAt { number, seq } = at;
    writes.add(Sql::with(
        "insert into order_event (order_event_id, merchant_id, order_id, seq, kind, data, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $7)",
        [new_id("oev").into(), merchant_id.into(), order_id.into(), seq.into(), kind.into(), to_json(&data).into(), now.into()],
    ));
    let payload = serde_json::json!({
        "order_id": order_id, "number": number, "seq": seq, "kind": kind, "data": data, "created_at": now,
    });
    writes.add(super::events::record_sql(merchant_id, &format!("order.{kind}"), order_id, &payload, now).1);
}
