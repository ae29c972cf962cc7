//! Stock locations, stock levels and the adjustments that moved them.

use serde::Serialize;

/// A place that holds stock: a warehouse, a store, a 3PL.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Location {
    /// `loc_…`.
    pub id: String,
    /// What the merchant calls it, e.g. "Main warehouse".
    pub name: String,
    /// ISO 3166-1 alpha-2, when known.
    pub country: Option<String>,
    /// When it was created, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// Stock of one variant at one location.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Level {
    /// The variant stocked (`var_…`).
    pub variant_id: String,
    /// Where (`loc_…`).
    pub location_id: String,
    /// Units on the shelf.
    pub on_hand: i64,
    /// Units held for checkouts whose payment is not settled.
    pub reserved: i64,
    /// `on_hand - reserved`; negative only for a backordered variant.
    pub available: i64,
    /// When the level last changed, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
}

/// One change to a level, as recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Adjustment {
    /// `adj_…`.
    pub id: String,
    /// The variant whose stock moved (`var_…`).
    pub variant_id: String,
    /// Where it moved (`loc_…`).
    pub location_id: String,
    /// Units added (positive) or removed (negative).
    pub delta: i64,
    /// The level's `on_hand` once the change was applied.
    pub on_hand_after: i64,
    /// Why; "set" for a `PUT` without a reason.
    pub reason: String,
    /// When it was recorded, in unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}
