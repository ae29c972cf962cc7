//! Stock locations and stock per variant per location.
//!
//! A level holds `on_hand` (what is on the shelf) and `reserved` (held for
//! checkouts in progress); `available = on_hand - reserved` is what can be
//! sold. Every change is one conditional statement in the database, so
//! concurrent changes can never take a `deny` variant below its
//! reservations, and every change leaves an adjustment row behind.

pub use crate::model::inventory::{Adjustment, Level, Location};

use serde::{Deserialize, Serialize};

use super::ids::new_id;
use super::{Check, Error, Page, Paged, Result, parse};
use crate::db::inventory::{Applied, Change, StockChange};
use crate::db::{self, Db};

/// Largest `on_hand` or `delta` accepted in one request: far beyond any
/// real stock, far from integer overflow in SQL.
pub const MAX_QUANTITY: i64 = 1_000_000_000;

pub use super::catalog::InventoryPolicy;

/// A new location's request, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    /// What the merchant calls it, 1 to 200 characters.
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. "US".
    pub country: Option<String>,
}

/// Stock of one variant everywhere it is stocked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Stock {
    /// The variant (`var_…`).
    pub variant_id: String,
    /// Whether it may be sold beyond its stock.
    pub inventory_policy: InventoryPolicy,
    /// Available units at or below which the stock is low (see
    /// `inventory.low_stock`); absent when none is set.
    pub low_stock_threshold: Option<i64>,
    /// Sums over `levels`.
    pub on_hand: i64,
    /// Units held for checkouts whose payment is not settled.
    pub reserved: i64,
    /// `on_hand - reserved`: what can be sold.
    pub available: i64,
    /// One per location that has ever held this variant, by location id.
    pub levels: Vec<Level>,
}

/// `PUT /inventory/{variant_id}`, raw: sets `on_hand` at a location.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetOnHand {
    /// A location of this merchant (`loc_…`).
    #[schema(required = true, value_type = String)]
    pub location_id: Option<String>,
    /// 0 or more.
    #[schema(required = true, value_type = i64, minimum = 0)]
    pub on_hand: Option<i64>,
    /// Recorded in the history; "set" when absent.
    pub reason: Option<String>,
}

/// `POST /inventory/{variant_id}/adjustments`, raw: changes `on_hand` by a delta.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAdjustment {
    /// A location of this merchant (`loc_…`).
    #[schema(required = true, value_type = String)]
    pub location_id: Option<String>,
    /// Non-zero: positive to receive stock, negative to remove it.
    #[schema(required = true, value_type = i64)]
    pub delta: Option<i64>,
    /// Recorded in the history, e.g. "received PO-1042", "damaged".
    #[schema(required = true, value_type = String)]
    pub reason: Option<String>,
}

/// `PATCH /variants/{variant_id}/inventory-policy`, raw: at least one field.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyChange {
    /// `deny` or `allow_backorder`.
    #[schema(value_type = Option<InventoryPolicy>)]
    pub inventory_policy: Option<InventoryPolicy>,
    /// Available units at or below which `inventory.low_stock` is written
    /// (once per crossing); 0 for none (`inventory.out_of_stock` is always
    /// written when the last unit goes).
    pub low_stock_threshold: Option<i64>,
}

fn required<T>(v: Option<T>) -> std::result::Result<T, String> {
    v.ok_or_else(|| "is required".to_owned())
}

fn reason(s: &str) -> std::result::Result<String, String> {
    parse::text(s, 200)
}

fn quantity(v: Option<i64>, nonzero: bool) -> std::result::Result<i64, String> {
    let v = required(v)?;
    if nonzero && v == 0 {
        Err("must not be 0".into())
    } else if !nonzero && v < 0 {
        Err("must be 0 or more".into())
    } else if v.abs() > MAX_QUANTITY {
        Err(format!("must be at most {MAX_QUANTITY} in size"))
    } else {
        Ok(v)
    }
}

/// Creates a location.
pub async fn create_location(db: &Db, merchant_id: &str, req: NewLocation) -> Result<Location> {
    let mut check = Check::default();
    let name = check.field("name", required(req.name).and_then(|n| parse::text(&n, 200)));
    let country = match req.country {
        Some(c) => check.field("country", parse::country(&c)).map(Some),
        None => Some(None),
    };
    let (name, country) = check.finish_with(name.zip(country))?;
    let location = Location { id: new_id("loc"), name, country, created_at: db::now_ms() };
    db::inventory::insert_location(db, merchant_id, &location).await?;
    Ok(location)
}

/// One of the merchant's locations.
pub async fn get_location(db: &Db, merchant_id: &str, id: &str) -> Result<Location> {
    db::inventory::get_location(db, merchant_id, id).await?.ok_or(Error::NotFound("location"))
}

/// The merchant's locations, oldest first.
pub async fn list_locations(db: &Db, merchant_id: &str, page: &Page) -> Result<Paged<Location>> {
    let rows = db::inventory::list_locations(db, merchant_id, page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |l| &l.id))
}

/// The variant's policy; 404 for a variant of another merchant or deleted.
async fn policy(db: &Db, merchant_id: &str, variant_id: &str) -> Result<(InventoryPolicy, Option<i64>)> {
    db::inventory::variant_policy(db, merchant_id, variant_id).await?.ok_or(Error::NotFound("variant"))
}

/// Stock of a variant at every location that holds it.
pub async fn stock(db: &Db, merchant_id: &str, variant_id: Option<&str>) -> Result<Stock> {
    let variant_id =
        variant_id.filter(|v| !v.is_empty()).ok_or_else(|| Error::field("variant_id", "is required"))?;
    let (inventory_policy, low_stock_threshold) = policy(db, merchant_id, variant_id).await?;
    let levels = db::inventory::levels(db, merchant_id, variant_id).await?;
    Ok(Stock {
        variant_id: variant_id.to_owned(),
        inventory_policy,
        low_stock_threshold,
        on_hand: levels.iter().map(|l| l.on_hand).sum(),
        reserved: levels.iter().map(|l| l.reserved).sum(),
        available: levels.iter().map(|l| l.available).sum(),
        levels,
    })
}

/// Sets on_hand at a location, recording the difference.
pub async fn set_on_hand(db: &Db, merchant_id: &str, variant_id: &str, req: SetOnHand) -> Result<Level> {
    let mut check = Check::default();
    let location_id = check.field("location_id", required(req.location_id));
    let on_hand = check.field("on_hand", quantity(req.on_hand, false));
    let reason = match req.reason {
        Some(r) => check.field("reason", reason(&r)),
        None => Some("set".to_owned()),
    };
    let ((location_id, on_hand), reason) = check.finish_with(location_id.zip(on_hand).zip(reason))?;
    let change = Change::Set(on_hand);
    apply(db, merchant_id, variant_id, &location_id, change, &reason).await.map(|(_, level)| level)
}

/// Changes on_hand at a location by a delta. Removing more than is
/// available is refused for a `deny` variant.
pub async fn adjust(
    db: &Db,
    merchant_id: &str,
    variant_id: &str,
    req: NewAdjustment,
) -> Result<(Adjustment, Level)> {
    let mut check = Check::default();
    let location_id = check.field("location_id", required(req.location_id));
    let delta = check.field("delta", quantity(req.delta, true));
    let reason = check.field("reason", required(req.reason).and_then(|r| reason(&r)));
    let ((location_id, delta), reason) = check.finish_with(location_id.zip(delta).zip(reason))?;
    apply(db, merchant_id, variant_id, &location_id, Change::Adjust(delta), &reason).await
}

async fn apply(
    db: &Db,
    merchant_id: &str,
    variant_id: &str,
    location_id: &str,
    change: Change,
    reason: &str,
) -> Result<(Adjustment, Level)> {
    policy(db, merchant_id, variant_id).await?;
    get_location(db, merchant_id, location_id).await?;
    let adjustment_id = new_id("adj");
    let change = StockChange {
        merchant_id,
        variant_id,
        location_id,
        change,
        reason,
        adjustment_id: &adjustment_id,
        now: db::now_ms(),
    };
    match db::inventory::apply(db, &change).await? {
        Applied::Done(adjustment, level) => Ok((adjustment, level)),
        Applied::Refused { on_hand, reserved } => {
            let wanted = match change.change {
                Change::Set(n) => format!("setting on_hand to {n}"),
                Change::Adjust(d) => format!("adjusting on_hand by {d}"),
            };
            Err(Error::Conflict {
                code: "insufficient_stock",
                message: format!(
                    "{wanted} would leave less than the {reserved} reserved at location {location_id} \
                     (on_hand {on_hand}); the variant's inventory_policy is deny"
                ),
            })
        }
    }
}

/// The history of a variant's stock, newest first, optionally at one location.
pub async fn history(
    db: &Db,
    merchant_id: &str,
    variant_id: &str,
    location_id: Option<&str>,
    page: &Page,
) -> Result<Paged<Adjustment>> {
    policy(db, merchant_id, variant_id).await?;
    let location_id = location_id.filter(|l| !l.is_empty());
    let rows = db::inventory::history(
        db,
        merchant_id,
        variant_id,
        location_id,
        page.after.as_deref(),
        page.limit + 1,
    )
    .await?;
    Ok(Paged::from_rows(rows, page.limit, |a| &a.id))
}

/// Sets whether a variant may be sold beyond its available stock.
pub async fn set_policy(db: &Db, merchant_id: &str, variant_id: &str, req: PolicyChange) -> Result<Stock> {
    if req.inventory_policy.is_none() && req.low_stock_threshold.is_none() {
        return Err(Error::field("inventory_policy", "is required, unless low_stock_threshold is given"));
    }
    if let Some(t) = req.low_stock_threshold
        && !(0..=MAX_QUANTITY).contains(&t)
    {
        return Err(Error::field("low_stock_threshold", format!("must be 0 to {MAX_QUANTITY}")));
    }
    let threshold = req.low_stock_threshold.map(|t| (t > 0).then_some(t));
    let change = (req.inventory_policy, threshold);
    if !db::inventory::set_variant_policy(db, merchant_id, variant_id, change, db::now_ms()).await? {
        return Err(Error::NotFound("variant"));
    }
    stock(db, merchant_id, Some(variant_id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_are_checked() {
        assert_eq!(quantity(Some(0), false), Ok(0));
        assert!(quantity(Some(-1), false).is_err());
        assert!(quantity(None, false).is_err());
        assert!(quantity(Some(0), true).is_err());
        assert_eq!(quantity(Some(-3), true), Ok(-3));
        assert!(quantity(Some(MAX_QUANTITY + 1), false).is_err());
        assert!(quantity(Some(-MAX_QUANTITY - 1), true).is_err());
    }

    #[test]
    fn policies_round_trip() {
        for p in [InventoryPolicy::Deny, InventoryPolicy::AllowBackorder] {
            assert_eq!(InventoryPolicy::from_db(p.as_str()), p);
        }
    }
}
