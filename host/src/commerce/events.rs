//! Events: the merchant's feed, and the worker that takes every event of
//! the outbox where it goes — webhook deliveries and e-mails (see
//! [`crate::model::events`]).

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::{Error, Page, Paged, Result, Shop, emails, plugins, webhooks};
use crate::db::{self, Db, now_ms};
pub use crate::model::events::Event;

/// `type` as the feed filters by it: one of the event types Mercato writes
/// (an unknown one is a mistake, not an empty page).
fn kind(raw: &str) -> Result<String> {
    let raw = raw.trim();
    if crate::model::events::is_type(raw) {
        Ok(raw.to_owned())
    } else {
        Err(Error::field("type", "must be an event type such as order.placed (see the API reference)"))
    }
}

/// A page of the merchant's events, oldest first, of one type if asked.
pub async fn list(
    db: &Db,
    merchant_id: &str,
    kind_filter: Option<&str>,
    page: &Page,
) -> Result<Paged<Event>> {
    let filter = kind_filter.filter(|k| !k.is_empty()).map(kind).transpose()?;
    let rows =
        db::events::list(db, merchant_id, filter.as_deref(), page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |e| &e.id))
}

/// The worker's pause after a pass that found work: a little gathers, so
/// a busy host makes fewer, larger transactions.
const BUSY_PAUSE: Duration = Duration::from_millis(50);

/// What one pass of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Events fanned out into deliveries and e-mails.
    pub fanned_out: usize,
    /// Deliveries and e-mails sent (whatever came of them).
    pub sent: usize,
}

/// One pass: writes the circuits opened on this host as events, fans out
/// new events (webhook deliveries and e-mails), then sends the e-mails and
/// deliveries due.
pub async fn run_once(shop: &Shop) -> Result<Pass> {
    // Events noticed in memory (not in a transaction of their own) first.
    plugins::record_opened_circuits(&shop.db, &shop.bindings).await?;
    let now = now_ms();
    let mail_off = (!shop.mailer.sends()).then_some(emails::NO_SMTP);
    let give_up = webhooks::millis(shop.webhooks.settings.give_up_after);
    let fanned = db::events::fan_out(&shop.db, now, webhooks::BATCH, give_up, mail_off).await?;
    if mail_off.is_some() {
        shop.mailer.counts.not_sent.fetch_add(fanned.mails as u64, Ordering::Relaxed);
    }
    let mailed = emails::run_once(shop).await?;
    let delivered = webhooks::send_due(shop, now).await?;
    Ok(Pass { fanned_out: fanned.events, sent: mailed + delivered })
}

/// Runs the worker until the host stops: a pass, then another soon if it
/// found work, else after the idle pause.
pub fn spawn(shop: Shop) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let idle = shop.webhooks.settings.idle;
            let pause = match run_once(&shop).await {
                Ok(pass) if pass.fanned_out > 0 || pass.sent > 0 => BUSY_PAUSE.min(idle),
                Ok(_) => idle,
                Err(e) => {
                    tracing::warn!(error = %e, "event delivery pass failed");
                    idle
                }
            };
            tokio::time::sleep(pause).await;
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn types_are_resource_dot_what() {
        assert_eq!(super::kind("order.placed").unwrap(), "order.placed");
        assert_eq!(super::kind(" order.payment_succeeded ").unwrap(), "order.payment_succeeded");
        for bad in
            ["order", "Order.placed", "order.", ".placed", "order.placed.x", "order.plac ed", "order.nope"]
        {
            assert!(super::kind(bad).is_err(), "{bad}");
        }
    }
}
