//! Handles and skus are unique per merchant: free handles, sku checks, and
//! the conflicts reported when they clash.

use std::collections::{HashMap, HashSet};

use crate::commerce::{Error, Result};
use crate::db::{self, Db};

/// Fails with `duplicate_sku` if another variant of this merchant has one of
/// `skus` (sku, field, the variant it belongs to if it exists already).
pub(super) async fn check_skus(
    db: &Db,
    merchant_id: &str,
    skus: &[(String, String, Option<String>)],
) -> Result<()> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (sku, field, _) in skus {
        if let Some(first) = seen.insert(sku, field) {
            return Err(conflict("duplicate_sku", field, format!("sku {sku:?} is also used by {first}")));
        }
    }
    let wanted: Vec<String> = skus.iter().map(|s| s.0.clone()).collect();
    let taken = db::catalog::existing_skus(db, merchant_id, &wanted).await?;
    for (sku, field, own) in skus {
        if taken.iter().any(|(s, variant)| s == sku && own.as_deref() != Some(variant)) {
            return Err(conflict(
                "duplicate_sku",
                field,
                format!("sku {sku:?} is already used by another variant"),
            ));
        }
    }
    Ok(())
}

/// A conflict on one field: the message starts with the field path, which
/// the HTTP layer also reports in `errors`.
pub(super) fn conflict(code: &'static str, field: &str, message: String) -> Error {
    Error::Conflict { code, message: format!("{field}: {message}") }
}

pub(super) fn insert_conflict(e: crate::db::Error, handle: &str) -> Error {
    match db::unique_violation(&e) {
        Some(c) if c.contains("handle") => conflict("handle_taken", "handle", format!("{handle:?} is taken")),
        Some(c) if c.contains("sku") => {
            conflict("duplicate_sku", "variants", "a sku is already used by another variant".into())
        }
        _ => e.into(),
    }
}

/// A free handle from `base`: itself, else `base-2`, `base-3`…
pub(super) async fn free_handle(
    db: &Db,
    table: db::catalog::HandleOf,
    merchant_id: &str,
    base: &str,
) -> Result<String> {
    let base: String = base.chars().take(90).collect::<String>().trim_end_matches('-').to_owned();
    let taken: HashSet<String> =
        db::catalog::handles_like(db, table, merchant_id, &base).await?.into_iter().collect();
    if !taken.contains(&base) {
        return Ok(base);
    }
    let n = (2..).find(|n| !taken.contains(&format!("{base}-{n}"))).expect("a free suffix");
    Ok(format!("{base}-{n}"))
}
