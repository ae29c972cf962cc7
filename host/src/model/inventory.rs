//! Stock locations, stock levels and the adjustments that moved them.

use serde::Serialize;

/// A place that holds stock: a warehouse, a store, a 3PL.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Location {
    pub id: String,
    pub name: String,
    /// ISO 3166-1 alpha-2, when known.
    pub country: Option<String>,
    pub created_at: i64,
}

/// Stock of one variant at one location.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Level {
    pub variant_id: String,
    pub location_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    /// `on_hand - reserved`; negative only for a backordered variant.
    pub available: i64,
    pub updated_at: i64,
}

/// One change to a level, as recorded.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Adjustment {
    pub id: String,
    pub variant_id: String,
    pub location_id: String,
    pub delta: i64,
    pub on_hand_after: i64,
    /// Why; "set" for a `PUT` without a reason.
    pub reason: String,
    pub created_at: i64,
}
