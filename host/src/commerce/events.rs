//! The merchant's event feed: every order change, in the order written
//! (see [`crate::model::events`]).

use super::{Error, Page, Paged, Result};
use crate::db::{self, Db};
pub use crate::model::events::Event;

/// `type` as the feed filters by it: `resource.what`, lower-case words.
fn kind(raw: &str) -> Result<String> {
    let raw = raw.trim();
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    match raw.split_once('.') {
        Some((resource, what)) if raw.len() <= 100 && word(resource) && word(what) => Ok(raw.to_owned()),
        _ => Err(Error::field("type", "must be an event type such as order.placed")),
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

#[cfg(test)]
mod tests {
    #[test]
    fn types_are_resource_dot_what() {
        assert_eq!(super::kind("order.placed").unwrap(), "order.placed");
        assert_eq!(super::kind(" order.payment_succeeded ").unwrap(), "order.payment_succeeded");
        for bad in ["order", "Order.placed", "order.", ".placed", "order.placed.x", "order.plac ed"] {
            assert!(super::kind(bad).is_err(), "{bad}");
        }
    }
}
