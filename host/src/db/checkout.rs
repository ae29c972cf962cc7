//! The two transactions of a checkout, around the payment call:
//!
//! - [`place`] takes the cart (open, unchanged since it was priced), reserves
//!   stock with one conditional update per line, claims discount uses and
//!   writes the order in `pending_payment` (with a placeholder number below
//!   zero) with its payment attempt, history and outbox row — all or nothing;
//! - [`settle`] records what the provider said, numbering the order when it
//!   is confirmed (paid, pending or waiting for the buyer): paid (reservations become
//!   decrements), pending (the same, payment awaited), requires action,
//!   failed (reservations and discount uses released, the cart reopened) or
//!   unknown (left for reconciliation). It only moves an attempt forward, so
//!   settling twice (a retry, a webhook, the reconciler) changes nothing.
//!
//! On SQLite the first statement of each transaction writes, so it takes
//! the database write lock at once and never fails to upgrade later.

use crate::db::Result;
use serde_json::{Value, json};
use sqlx::Row;

use super::orders::{EventAt, event_statements, to_json};
use super::{Arg, Batch, Db, Sql};
use crate::model::ids::new_id;

/// A line of a new order.
pub struct NewOrderLine {
    /// `ol_…`, made at checkout.
    pub id: String,
    /// The cart line it was priced from (`cl_…`), named in an out-of-stock answer.
    pub cart_line_id: String,
    /// The variant bought (`var_…`).
    pub variant_id: String,
    /// The variant's product (`prod_…`).
    pub product_id: String,
    /// The variant's SKU at checkout.
    pub sku: String,
    /// Product title, and the variant's when it differs.
    pub title: String,
    /// Units bought.
    pub quantity: i64,
    /// The variant's price, in minor units.
    pub unit_price: i64,
    /// Unit price × quantity.
    pub subtotal: i64,
    /// Discounts on the line, including its share of order discounts.
    pub discount_total: i64,
    /// Tax on the line after discounts.
    pub tax_total: i64,
    /// Subtotal minus discounts.
    pub total: i64,
    /// JSON.
    pub adjustments: String,
    /// JSON.
    pub tax_lines: String,
    /// Sold beyond stock allowed.
    pub backorder: bool,
}

/// Everything [`place`] writes.
pub struct NewOrder {
    /// `ord_…`.
    pub id: String,
    /// The shop the order belongs to (`mer_…`).
    pub merchant_id: String,
    /// The cart being ordered (`cart_…`), taken only if still open at `cart_version`.
    pub cart_id: String,
    /// The cart version that was priced.
    pub cart_version: i64,
    /// The signed-in buyer (`cus_…`); `None` for a guest.
    pub customer_id: Option<String>,
    /// The buyer's email address.
    pub email: String,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Sum of the lines' subtotals, before discounts.
    pub subtotal: i64,
    /// Line, order and shipping discounts together.
    pub discount_total: i64,
    /// The selected shipping option's price, before any shipping discount.
    pub shipping_total: i64,
    /// Tax on lines and shipping.
    pub tax_total: i64,
    /// What the buyer pays, and what the payment attempt asks for.
    pub total: i64,
    /// JSON of the addresses, the shipping option, order adjustments and shipping taxes.
    pub shipping_address: String,
    /// JSON, or `None` when the buyer gave no billing address.
    pub billing_address: Option<String>,
    /// JSON; `null` when the shop ships nothing.
    pub shipping_option: String,
    /// JSON of the order and shipping adjustments.
    pub adjustments: String,
    /// JSON of the taxes on shipping.
    pub shipping_tax_lines: String,
    /// `(discount_code_id, code)` to claim one use of each.
    pub codes: Vec<(String, String)>,
    /// The merchant's setting when the cart was priced.
    pub prices_include_tax: bool,
    /// The trail of plugin calls that priced it (JSON).
    pub explain: String,
    /// SHA-256 of the token that lets a guest see the order.
    pub access_token_hash: String,
    /// What is bought, in cart order.
    pub lines: Vec<NewOrderLine>,
    /// `pay_…`: the payment attempt written with the order.
    pub attempt_id: String,
    /// The payment plugin to charge (`plg_…`).
    pub plugin_id: String,
    /// The payment plugin's name, as the buyer chose it.
    pub provider: String,
    /// A payment method token from the provider's client library, if the buyer sent one.
    pub token: Option<String>,
    /// When held stock is released if the payment is not settled, in unix milliseconds.
    pub reservation_expires_at: i64,
    /// One `plugin_skipped` event each: plugin calls left out of the totals.
    pub skipped: Vec<serde_json::Value>,
    /// When the order is placed, in unix milliseconds.
    pub now: i64,
}

/// What [`place`] did.
#[derive(Debug)]
pub enum Placed {
    /// Written.
    Placed,
    /// The cart is not open any more.
    CartNotOpen,
    /// The cart changed after it was priced.
    CartChanged,
    /// These cart lines cannot be had: `(cart line id, available)`.
    OutOfStock(Vec<(String, i64)>),
    /// This code has no uses left (or left its window).
    CodeExhausted(String),
}

/// Places an order: see the module documentation.
pub async fn place(db: &Db, o: &NewOrder) -> Result<Placed> {
    let mut tx = db.begin_write().await?;
    let taken = sqlx::query(
        "update cart set status = 'completing', order_id = $3, updated_at = $5 \
         where merchant_id = $1 and cart_id = $2 and status = 'open' and version = $4",
    )
    .bind(&o.merchant_id)
    .bind(&o.cart_id)
    .bind(&o.id)
    .bind(o.cart_version)
    .bind(o.now)
    .execute(&mut *tx)
    .await?;
    if taken.rows_affected() == 0 {
        let status: Option<String> =
            sqlx::query("select status from cart where merchant_id = $1 and cart_id = $2")
                .bind(&o.merchant_id)
                .bind(&o.cart_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("status"))
                .transpose()?;
        tx.rollback().await?;
        return Ok(if status.as_deref() == Some("open") { Placed::CartChanged } else { Placed::CartNotOpen });
    }

    // One conditional update per line: the level with the most available
    // stock that can cover the whole line, re-checked on the row itself.
    // Sent together; each says which line it held (a cart has one line
    // per variant).
    let mut reserve = Batch::default();
    for l in &o.lines {
        reserve.add(Sql::with(
            "update inventory_level set reserved = reserved + $3, updated_at = $5 \
             where merchant_id = $1 and variant_id = $2 and ($4 = 1 or on_hand - reserved >= $3) \
             and location_id = (select location_id from inventory_level \
                 where merchant_id = $1 and variant_id = $2 and ($4 = 1 or on_hand - reserved >= $3) \
                 order by on_hand - reserved desc, location_id limit 1) \
             returning variant_id, location_id",
            [
                (&o.merchant_id).into(),
                (&l.variant_id).into(),
                l.quantity.into(),
                i64::from(l.backorder).into(),
                o.now.into(),
            ],
        ));
    }
    let mut held = std::collections::HashMap::new();
    for row in reserve.run(&mut tx).await? {
        held.insert(row.try_get::<String, _>("variant_id")?, row.try_get::<String, _>("location_id")?);
    }
    let mut reserved: Vec<(usize, String)> = Vec::new();
    let mut short = Vec::new();
    for (i, l) in o.lines.iter().enumerate() {
        match held.remove(&l.variant_id) {
            Some(location_id) => reserved.push((i, location_id)),
            // Sold beyond stock and nowhere stocked: nothing to hold.
            None if l.backorder => {}
            None => short.push(i),
        }
    }
    if !short.is_empty() {
        let mut lines = Vec::new();
        for i in short {
            let l = &o.lines[i];
            let available: i64 = sqlx::query(
                "select cast(coalesce(sum(on_hand - reserved), 0) as bigint) as available from inventory_level \
                 where merchant_id = $1 and variant_id = $2",
            )
            .bind(&o.merchant_id)
            .bind(&l.variant_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("available")?;
            lines.push((l.cart_line_id.clone(), available.max(0)));
        }
        tx.rollback().await?;
        return Ok(Placed::OutOfStock(lines));
    }

    let held: Vec<String> = reserved.iter().map(|(i, _)| o.lines[*i].variant_id.clone()).collect();
    super::inventory::alert_crossings(&mut tx, &o.merchant_id, &held, o.now).await?;

    for (id, code) in &o.codes {
        if !super::discounts::increment_usage(&mut tx, &o.merchant_id, id, o.now).await? {
            tx.rollback().await?;
            return Ok(Placed::CodeExhausted(code.clone()));
        }
    }

    // A placeholder below zero until the payment confirms the order (see
    // `settle`): a declined checkout takes no order number. It is random
    // (62 bits; unique per merchant by the table's constraint), so placing
    // an order takes no lock on the merchant's row: only a confirmed order
    // counts on it, once, in `settle`.
    let number = placeholder_number();
    let codes = json!(o.codes.iter().map(|(id, code)| json!({"id": id, "code": code})).collect::<Vec<_>>());
    // Everything checked: the rest only writes, in one batch.
    let mut writes = Batch::default();
    // Its events: `placed` (1), then one per plugin call left out (2, 3, …).
    let events = 1 + o.skipped.len() as i64;
    writes.add(Sql::with(
        "insert into sales_order (order_id, merchant_id, number, cart_id, customer_id, email, currency, status, \
         payment_status, fulfillment_status, subtotal, discount_total, shipping_total, tax_total, total, \
         shipping_address, billing_address, shipping_option, adjustments, shipping_tax_lines, discount_codes, \
         prices_include_tax, access_token_hash, event_seq, created_at, updated_at, item_count, explain) \
         values ($1, $2, $3, $4, $5, $6, $7, 'pending_payment', 'pending', 'unfulfilled', $8, $9, $10, $11, $12, \
         $13, $14, $15, $16, $17, $18, $19, $20, $24, $21, $21, $22, $23)",
        [
            (&o.id).into(),
            (&o.merchant_id).into(),
            number.into(),
            (&o.cart_id).into(),
            o.customer_id.as_deref().into(),
            (&o.email).into(),
            (&o.currency).into(),
            o.subtotal.into(),
            o.discount_total.into(),
            o.shipping_total.into(),
            o.tax_total.into(),
            o.total.into(),
            (&o.shipping_address).into(),
            o.billing_address.as_deref().into(),
            (&o.shipping_option).into(),
            (&o.adjustments).into(),
            (&o.shipping_tax_lines).into(),
            to_json(&codes).into(),
            i64::from(o.prices_include_tax).into(),
            (&o.access_token_hash).into(),
            o.now.into(),
            o.lines.iter().map(|l| l.quantity).sum::<i64>().into(),
            (&o.explain).into(),
            events.into(),
        ],
    ));
    let positioned: Vec<_> = o.lines.iter().enumerate().collect();
    for chunk in positioned.chunks(super::ROWS_PER_INSERT) {
        let sql = format!(
            "insert into order_line (merchant_id, order_id, created_at, updated_at, order_line_id, position, \
             variant_id, product_id, sku, title, quantity, unit_price, subtotal, discount_total, tax_total, total, \
             adjustments, tax_lines) values {}",
            super::row_values(chunk.len(), "$1, $2, $3, $3", 14, 4)
        );
        let mut args: Vec<Arg> = vec![(&o.merchant_id).into(), (&o.id).into(), o.now.into()];
        for (position, l) in chunk {
            args.extend([
                (&l.id).into(),
                (*position as i64).into(),
                (&l.variant_id).into(),
                (&l.product_id).into(),
                (&l.sku).into(),
                (&l.title).into(),
                l.quantity.into(),
                l.unit_price.into(),
                l.subtotal.into(),
                l.discount_total.into(),
                l.tax_total.into(),
                l.total.into(),
                (&l.adjustments).into(),
                (&l.tax_lines).into(),
            ]);
        }
        writes.add(Sql::with(&sql, args));
    }
    for chunk in reserved.chunks(super::ROWS_PER_INSERT) {
        let sql = format!(
            "insert into reservation (merchant_id, order_id, status, expires_at, created_at, updated_at, \
             reservation_id, order_line_id, variant_id, location_id, quantity) values {}",
            super::row_values(chunk.len(), "$1, $2, 'active', $3, $4, $4", 5, 5)
        );
        let mut args: Vec<Arg> =
            vec![(&o.merchant_id).into(), (&o.id).into(), o.reservation_expires_at.into(), o.now.into()];
        for (i, location_id) in chunk {
            let l = &o.lines[*i];
            args.extend([
                new_id("rsv").into(),
                (&l.id).into(),
                (&l.variant_id).into(),
                location_id.into(),
                l.quantity.into(),
            ]);
        }
        writes.add(Sql::with(&sql, args));
    }
    writes.add(Sql::with(
        "insert into payment_attempt (payment_attempt_id, merchant_id, order_id, plugin_id, provider, amount, \
         currency, token, status, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, 'started', $9, $9)",
        [
            (&o.attempt_id).into(),
            (&o.merchant_id).into(),
            (&o.id).into(),
            (&o.plugin_id).into(),
            (&o.provider).into(),
            o.total.into(),
            (&o.currency).into(),
            o.token.as_deref().into(),
            o.now.into(),
        ],
    ));
    let data =
        json!({"total": o.total, "currency": o.currency, "lines": o.lines.len(), "cart_id": o.cart_id});
    event_statements(&mut writes, &o.merchant_id, &o.id, EventAt { number, seq: 1 }, "placed", data, o.now);
    for (seq, skipped) in (2..).zip(&o.skipped) {
        let at = EventAt { number, seq };
        event_statements(&mut writes, &o.merchant_id, &o.id, at, "plugin_skipped", skipped.clone(), o.now);
    }
    writes.run_independent(&mut tx).await?;
    tx.commit().await?;
    Ok(Placed::Placed)
}

/// What the provider said of a payment attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Captured.
    Paid {
        /// The provider's id for the payment.
        provider_reference: String,
    },
    /// Awaiting the buyer or the merchant (bank transfer, invoice).
    Pending {
        /// The provider's id for the payment.
        provider_reference: String,
        /// Instructions for the buyer, e.g. bank transfer details.
        message: Option<String>,
    },
    /// Authorized, to be captured later (by the merchant, or on fulfilment):
    /// the order is placed and its stock committed, the money held.
    Authorized {
        /// The provider's id for the payment.
        provider_reference: String,
    },
    /// The buyer must act (3-D Secure); JSON of the next action.
    RequiresAction {
        /// The provider's id for the payment.
        provider_reference: String,
        /// JSON of the [`NextAction`](crate::model::orders::NextAction).
        next_action: String,
    },
    /// Declined, refused, or abandoned: nothing was taken.
    Failed {
        /// Why, as the provider (or the host) put it.
        reason: String,
        /// The provider's id, when it got as far as making one.
        provider_reference: Option<String>,
    },
    /// The provider could not be asked; the reconciler will ask again.
    Unknown {
        /// What went wrong calling the provider.
        error: String,
    },
}

impl Outcome {
    fn status(&self) -> &'static str {
        match self {
            Outcome::Paid { .. } => "succeeded",
            Outcome::Pending { .. } => "pending",
            Outcome::Authorized { .. } => "authorized",
            Outcome::RequiresAction { .. } => "requires_action",
            Outcome::Failed { .. } => "failed",
            Outcome::Unknown { .. } => "unknown",
        }
    }

    /// Attempt statuses this outcome may follow.
    fn follows(&self) -> &'static str {
        match self {
            Outcome::Paid { .. } => "('started', 'unknown', 'requires_action', 'pending', 'authorized')",
            Outcome::Authorized { .. } => "('started', 'unknown', 'requires_action')",
            Outcome::Pending { .. } | Outcome::RequiresAction { .. } => "('started', 'unknown')",
            Outcome::Failed { .. } => "('started', 'unknown', 'requires_action')",
            Outcome::Unknown { .. } => "('started')",
        }
    }
}

/// Whether [`settle`] changed anything.
#[derive(Debug, PartialEq, Eq)]
pub enum Settled {
    /// The outcome was recorded, and the order, stock and cart moved with it.
    Applied,
    /// The attempt had already moved past this point: nothing changed.
    Already,
}

/// Records a payment outcome: see the module documentation.
pub async fn settle(
    db: &Db,
    merchant_id: &str,
    attempt_id: &str,
    outcome: &Outcome,
    now: i64,
) -> Result<Settled> {
    let mut tx = db.begin_write().await?;
    let (reference, next_action, message, reason) = match outcome {
        Outcome::Paid { provider_reference } | Outcome::Authorized { provider_reference } => {
            (Some(provider_reference.as_str()), None, None, None)
        }
        Outcome::Pending { provider_reference, message } => {
            (Some(provider_reference.as_str()), None, message.as_deref(), None)
        }
        Outcome::RequiresAction { provider_reference, next_action } => {
            (Some(provider_reference.as_str()), Some(next_action.as_str()), None, None)
        }
        Outcome::Failed { reason, provider_reference } => {
            (provider_reference.as_deref(), None, None, Some(reason.as_str()))
        }
        Outcome::Unknown { error } => (None, None, None, Some(error.as_str())),
    };
    let sql = format!(
        "update payment_attempt set status = $3, provider_reference = coalesce($4, provider_reference), \
         next_action = coalesce($5, next_action), message = coalesce($6, message), failure_reason = $7, \
         updated_at = $8 where merchant_id = $1 and payment_attempt_id = $2 and status in {} \
         returning order_id, status",
        outcome.follows()
    );
    let row = sqlx::query(&sql)
        .bind(merchant_id)
        .bind(attempt_id)
        .bind(outcome.status())
        .bind(reference)
        .bind(next_action)
        .bind(message)
        .bind(reason)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(Settled::Already);
    };
    let order_id: String = row.try_get("order_id")?;
    // The order's side of the outcome, with the number of its event.
    let set = match outcome {
        Outcome::Paid { .. } => "payment_status = 'paid', status = 'paid', captured_amount = total, ",
        Outcome::Pending { .. } => "payment_status = 'pending', ",
        Outcome::Authorized { .. } => "payment_status = 'authorized', ",
        Outcome::RequiresAction { .. } => "payment_status = 'requires_action', ",
        Outcome::Failed { .. } => "payment_status = 'failed', status = 'cancelled', cancelled_at = $3, ",
        Outcome::Unknown { .. } => "",
    };
    let confirms = !matches!(outcome, Outcome::Failed { .. } | Outcome::Unknown { .. });
    let order = sqlx::query(&format!(
        "update sales_order set {set}event_seq = event_seq + 1, updated_at = $3 \
         where merchant_id = $1 and order_id = $2 returning number, total, currency, cart_id, event_seq"
    ))
    .bind(merchant_id)
    .bind(&order_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let (number, total, cart_id): (i64, i64, String) =
        (order.try_get("number")?, order.try_get("total")?, order.try_get("cart_id")?);
    let currency: String = order.try_get("currency")?;
    let seq = order.try_get("event_seq")?;
    let mut writes = Batch::default();
    // Paid, or placed with the money to follow (a transfer the buyer
    // makes, or the merchant's capture): the stock is committed and the
    // cart done.
    if matches!(outcome, Outcome::Paid { .. } | Outcome::Pending { .. } | Outcome::Authorized { .. }) {
        consume_reservations(&mut tx, &mut writes, merchant_id, &order_id, now).await?;
        complete_cart(&mut writes, merchant_id, &cart_id, &order_id, now);
    }
    let event = match outcome {
        Outcome::Paid { provider_reference } => (
            "payment_succeeded",
            json!({"attempt_id": attempt_id, "amount": crate::db::orders::money(total, &currency),
                "provider_reference": provider_reference}),
        ),
        Outcome::Pending { provider_reference, .. } | Outcome::Authorized { provider_reference } => {
            let mut data = json!({"attempt_id": attempt_id, "provider_reference": provider_reference});
            if matches!(outcome, Outcome::Authorized { .. }) {
                data["amount"] = crate::db::orders::money(total, &currency);
                ("payment_authorized", data)
            } else {
                ("payment_pending", data)
            }
        }
        Outcome::RequiresAction { provider_reference, .. } => (
            "payment_requires_action",
            json!({"attempt_id": attempt_id, "provider_reference": provider_reference}),
        ),
        Outcome::Failed { reason, .. } => {
            release(&mut tx, merchant_id, &order_id, now).await?;
            // The buyer can try again with another payment method.
            writes.add(Sql::with(
                "update cart set status = 'open', order_id = null, version = version + 1, updated_at = $4 \
                 where merchant_id = $1 and cart_id = $2 and order_id = $3",
                [merchant_id.into(), (&cart_id).into(), (&order_id).into(), now.into()],
            ));
            ("payment_failed", json!({"attempt_id": attempt_id, "reason": reason}))
        }
        Outcome::Unknown { error } => ("payment_unknown", json!({"attempt_id": attempt_id, "error": error})),
    };
    // A confirmed order takes its number now (once), after its stock: like
    // `place`, settlement takes the merchant's row last and holds it only
    // until the commit, so checkouts never wait on each other in a circle
    // and hold it briefly.
    let at = |number| EventAt { number, seq };
    if confirms && number < 0 {
        take_number(&mut writes, merchant_id, &order_id, now);
        let numbered = writes.run(&mut tx).await?;
        let number = numbered.last().expect("the order is there").try_get("number")?;
        let mut events = Batch::default();
        event_statements(&mut events, merchant_id, &order_id, at(number), event.0, event.1, now);
        events.run_independent(&mut tx).await?;
    } else {
        // The events after what the outcome changed (in order: stock is
        // read back for its history).
        event_statements(&mut writes, merchant_id, &order_id, at(number), event.0, event.1, now);
        writes.run(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(Settled::Applied)
}

/// A number below zero for an order not yet confirmed, from 62 random bits.
fn placeholder_number() -> i64 {
    -1 - i64::try_from(rand::random::<u64>() >> 2).unwrap_or(0)
}

/// Gives a confirmed order the merchant's next order number: statements
/// for `writes`, the last returning the number (the only one that returns
/// rows).
fn take_number(writes: &mut Batch, merchant_id: &str, order_id: &str, now: i64) {
    writes.add(Sql::with(
        "update merchant set order_seq = order_seq + 1, updated_at = $2 where merchant_id = $1",
        [merchant_id.into(), now.into()],
    ));
    writes.add(Sql::with(
        "update sales_order set number = (select order_seq + 1000 from merchant where merchant_id = $1) \
         where merchant_id = $1 and order_id = $2 returning number",
        [merchant_id.into(), order_id.into()],
    ));
}

/// Marks the cart of a confirmed order completed (one found abandoned
/// earlier is recovered now): a statement for `writes`.
fn complete_cart(writes: &mut Batch, merchant_id: &str, cart_id: &str, order_id: &str, now: i64) {
    writes.add(Sql::with(
        "update cart set status = 'completed', updated_at = $4, recovered_at = case \
         when abandoned_at is not null and recovered_at is null then $4 else recovered_at end \
         where merchant_id = $1 and cart_id = $2 and order_id = $3",
        [merchant_id.into(), cart_id.into(), order_id.into(), now.into()],
    ));
}

/// Stock an order holds at one location.
pub(crate) struct Held {
    pub variant_id: String,
    pub location_id: String,
    pub quantity: i64,
}

/// Moves an order's reservations from status `from` to `to`, and says
/// what they held.
pub(crate) async fn set_reservations(
    conn: &mut crate::db::Conn,
    (merchant_id, order_id): (&str, &str),
    from: &str,
    to: &str,
    now: i64,
) -> Result<Vec<Held>> {
    let rows = sqlx::query(
        "update reservation set status = $4, updated_at = $5 \
         where merchant_id = $1 and order_id = $2 and status = $3 \
         returning variant_id, location_id, quantity",
    )
    .bind(merchant_id)
    .bind(order_id)
    .bind(from)
    .bind(to)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Held {
                variant_id: r.try_get("variant_id")?,
                location_id: r.try_get("location_id")?,
                quantity: r.try_get("quantity")?,
            })
        })
        .collect()
}

/// Turns an order's active reservations into decrements of `on_hand`, each
/// with its inventory history row (added to `writes`).
pub(crate) async fn consume_reservations(
    conn: &mut crate::db::Conn,
    writes: &mut Batch,
    merchant_id: &str,
    order_id: &str,
    now: i64,
) -> Result<()> {
    // By id: a first-confirmed order takes its number after its stock.
    let reason = format!("order {order_id}");
    for h in set_reservations(conn, (merchant_id, order_id), "active", "consumed", now).await? {
        let level = (h.variant_id.as_str(), h.location_id.as_str());
        super::inventory::add_consumption(writes, merchant_id, level, h.quantity, &reason, now);
    }
    Ok(())
}

/// Releases an order's active reservations and the discount uses it claimed.
pub(crate) async fn release(
    conn: &mut crate::db::Conn,
    merchant_id: &str,
    order_id: &str,
    now: i64,
) -> Result<()> {
    let released = set_reservations(conn, (merchant_id, order_id), "active", "released", now).await?;
    for h in &released {
        sqlx::query(
            "update inventory_level set reserved = reserved - $4, updated_at = $5 \
             where merchant_id = $1 and variant_id = $2 and location_id = $3",
        )
        .bind(merchant_id)
        .bind(&h.variant_id)
        .bind(&h.location_id)
        .bind(h.quantity)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    let variants: Vec<String> = released.into_iter().map(|h| h.variant_id).collect();
    super::inventory::alert_crossings(conn, merchant_id, &variants, now).await?;
    let codes: String =
        sqlx::query("select discount_codes from sales_order where merchant_id = $1 and order_id = $2")
            .bind(merchant_id)
            .bind(order_id)
            .fetch_one(&mut *conn)
            .await?
            .try_get("discount_codes")?;
    let codes: Vec<Value> = serde_json::from_str(&codes).unwrap_or_default();
    for id in codes.iter().filter_map(|c| c["id"].as_str()) {
        super::discounts::decrement_usage(conn, merchant_id, id, now).await?;
    }
    Ok(())
}
