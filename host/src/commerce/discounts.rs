//! Discount codes. The host owns the code itself, its validity window, its
//! usage limit and usage count; pricing plugins decide what a code is worth.
//!
//! Times are RFC 3339 strings on the wire and unix milliseconds inside.

pub use crate::model::discounts::{DiscountCode, code_key};

use serde::Deserialize;

use super::ids::new_id;
use super::{Check, Error, Page, Paged, Result, time};
use crate::db::{self, Db};

/// A new discount code's request, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDiscountCode {
    /// 1-64 letters, digits, '_' or '-'; unique per merchant whatever the case.
    #[schema(required = true, value_type = String)]
    pub code: Option<String>,
    /// 1 or more; unlimited when absent.
    #[schema(minimum = 1)]
    pub usage_limit: Option<i64>,
    /// RFC 3339, e.g. "2025-11-28T00:00:00-05:00".
    #[schema(format = DateTime)]
    pub starts_at: Option<String>,
    /// RFC 3339, after `starts_at`.
    #[schema(format = DateTime)]
    pub ends_at: Option<String>,
}

/// A code as the merchant may write it.
fn code(s: &str) -> std::result::Result<String, String> {
    let ok =
        (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { Ok(s.to_owned()) } else { Err("must be 1-64 letters, digits, '_' or '-'".into()) }
}

/// Creates a discount code.
pub async fn create(db: &Db, merchant_id: &str, req: NewDiscountCode) -> Result<DiscountCode> {
    let mut check = Check::default();
    let code = check.field("code", req.code.ok_or_else(|| "is required".to_owned()).and_then(|c| code(&c)));
    let usage_limit = match req.usage_limit {
        Some(l) if l < 1 => check.field("usage_limit", Err::<i64, _>("must be 1 or more".into())).map(Some),
        l => Some(l),
    };
    let instant = |check: &mut Check, field: &str, v: Option<String>| match v {
        Some(s) => check.field(field, time::parse(&s)).map(Some),
        None => Some(None),
    };
    let starts_at = instant(&mut check, "starts_at", req.starts_at);
    let ends_at = instant(&mut check, "ends_at", req.ends_at);
    if let (Some(Some(s)), Some(Some(e))) = (starts_at, ends_at)
        && e <= s
    {
        check.field("ends_at", Err::<(), _>("must be after starts_at".into()));
    }
    let (((code, usage_limit), starts_at), ends_at) =
        check.finish_with(code.zip(usage_limit).zip(starts_at).zip(ends_at))?;
    let key = code_key(&code);
    let dc = DiscountCode {
        id: new_id("dc"),
        code,
        usage_limit,
        usage_count: 0,
        starts_at,
        ends_at,
        created_at: db::now_ms(),
    };
    db::discounts::insert(db, merchant_id, &dc, &key).await.map_err(|e| match db::unique_violation(&e) {
        Some(c) if c.contains("code_key") => Error::Conflict {
            code: "code_taken",
            message: format!("discount code {:?} already exists", dc.code),
        },
        _ => e.into(),
    })?;
    Ok(dc)
}

/// One of the merchant's discount codes.
pub async fn get(db: &Db, merchant_id: &str, id: &str) -> Result<DiscountCode> {
    db::discounts::get(db, merchant_id, id).await?.ok_or(Error::NotFound("discount code"))
}

/// The merchant's discount codes, oldest first.
pub async fn list(db: &Db, merchant_id: &str, page: &Page) -> Result<Paged<DiscountCode>> {
    let rows = db::discounts::list(db, merchant_id, page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |d| &d.id))
}

/// Deletes a discount code; orders that used it keep their copy of it.
pub async fn delete(db: &Db, merchant_id: &str, id: &str) -> Result<()> {
    if db::discounts::delete(db, merchant_id, id).await? {
        Ok(())
    } else {
        Err(Error::NotFound("discount code"))
    }
}

fn invalid(message: String) -> Error {
    Error::Unprocessable { code: "invalid_discount_code", message }
}

/// Whether `dc` can be used at `now_ms`: from `starts_at` (inclusive) to
/// `ends_at` (exclusive), and while uses remain.
pub fn check_usable(dc: &DiscountCode, now_ms: i64) -> Result<()> {
    if dc.starts_at.is_some_and(|s| now_ms < s) {
        return Err(invalid(format!("discount code {:?} is not active yet", dc.code)));
    }
    if dc.ends_at.is_some_and(|e| now_ms >= e) {
        return Err(invalid(format!("discount code {:?} has expired", dc.code)));
    }
    if dc.usage_limit.is_some_and(|l| dc.usage_count >= l) {
        return Err(invalid(format!("discount code {:?} has reached its usage limit", dc.code)));
    }
    Ok(())
}

/// The merchant's code `code` (any case, surrounding spaces ignored) if it
/// can be used at `now_ms`; `invalid_discount_code` otherwise. This only
/// reads: the checkout claims a use with
/// [`crate::db::discounts::increment_usage`] in its own transaction.
pub async fn validate_code(db: &Db, merchant_id: &str, code: &str, now_ms: i64) -> Result<DiscountCode> {
    let entered = code.trim();
    let unknown = || invalid(format!("discount code {entered:?} is not valid"));
    let key = self::code(entered).map_err(|_| unknown())?;
    let dc = db::discounts::find_by_key(db, merchant_id, &code_key(&key)).await?.ok_or_else(unknown)?;
    check_usable(&dc, now_ms)?;
    Ok(dc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dc(
        starts_at: Option<i64>,
        ends_at: Option<i64>,
        usage_limit: Option<i64>,
        usage_count: i64,
    ) -> DiscountCode {
        DiscountCode {
            id: "dc_1".into(),
            code: "SAVE10".into(),
            usage_limit,
            usage_count,
            starts_at,
            ends_at,
            created_at: 0,
        }
    }

    fn reason(r: Result<()>) -> String {
        match r {
            Err(Error::Unprocessable { code: "invalid_discount_code", message }) => message,
            other => panic!("expected invalid_discount_code, got {other:?}"),
        }
    }

    #[test]
    fn a_code_is_usable_from_its_start_until_just_before_its_end() {
        let code = dc(Some(1_000), Some(2_000), None, 0);
        assert!(reason(check_usable(&code, 999)).contains("not active yet"));
        assert!(check_usable(&code, 1_000).is_ok(), "the start is inclusive");
        assert!(check_usable(&code, 1_999).is_ok());
        assert!(reason(check_usable(&code, 2_000)).contains("expired"), "the end is exclusive");
        assert!(check_usable(&dc(None, None, None, 1_000_000), i64::MAX).is_ok(), "no window, no limit");
        assert!(check_usable(&dc(Some(5), None, None, 0), i64::MAX).is_ok(), "open-ended");
        assert!(check_usable(&dc(None, Some(5), None, 0), i64::MIN).is_ok(), "no start");
    }

    #[test]
    fn a_code_is_used_up_at_its_limit() {
        assert!(check_usable(&dc(None, None, Some(2), 1), 0).is_ok());
        assert!(reason(check_usable(&dc(None, None, Some(2), 2), 0)).contains("usage limit"));
        // Expiry is reported before exhaustion: it is the more lasting reason.
        assert!(reason(check_usable(&dc(None, Some(1), Some(1), 1), 5)).contains("expired"));
    }

    #[test]
    fn codes_are_checked_and_keyed_case_insensitively() {
        assert!(code("SAVE_10-x").is_ok());
        assert!(code(&"A".repeat(64)).is_ok());
        for bad in ["", " SAVE", "SAVE 10", "ÉTÉ", "10%", &"A".repeat(65)] {
            assert!(code(bad).is_err(), "{bad:?}");
        }
        assert_eq!(code_key("save10"), code_key("SaVe10"));
    }
}

#[cfg(test)]
mod db_tests {
    use super::*;
    use crate::commerce::merchants::{self, NewMerchant};

    async fn merchant(db: &Db, slug: &str) -> String {
        let req = NewMerchant {
            name: slug.into(),
            slug: slug.into(),
            default_currency: "USD".into(),
            country: "US".into(),
            prices_include_tax: false,
            time_zone: None,
        };
        merchants::create(db, req).await.unwrap().0.id
    }

    fn invalid(r: Result<DiscountCode>) -> String {
        match r {
            Err(Error::Unprocessable { code: "invalid_discount_code", message }) => message,
            other => panic!("expected invalid_discount_code, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn validate_code_finds_a_code_in_any_case_and_checks_its_window_and_uses() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
        db.migrate().await.unwrap();
        let (a, b) = (merchant(&db, "a").await, merchant(&db, "b").await);
        let req = NewDiscountCode {
            code: Some("Save10".into()),
            usage_limit: Some(1),
            starts_at: Some("2025-01-01T00:00:00Z".into()),
            ends_at: Some("2025-02-01T00:00:00+01:00".into()),
        };
        let created = create(&db, &a, req).await.unwrap();
        let at = |s: &str| time::parse(s).unwrap();
        let mid = at("2025-01-15T00:00:00Z");
        assert_eq!(validate_code(&db, &a, " save10 ", mid).await.unwrap().id, created.id);
        assert!(invalid(validate_code(&db, &a, "NOPE", mid).await).contains("not valid"));
        assert!(invalid(validate_code(&db, &a, "save 10", mid).await).contains("not valid"));
        assert!(invalid(validate_code(&db, &b, "SAVE10", mid).await).contains("not valid"), "tenant scoped");
        assert!(
            invalid(validate_code(&db, &a, "SAVE10", at("2024-12-31T23:59:59Z")).await)
                .contains("not active")
        );
        assert!(validate_code(&db, &a, "SAVE10", at("2025-01-31T22:59:59.999Z")).await.is_ok());
        assert!(
            invalid(validate_code(&db, &a, "SAVE10", at("2025-01-31T23:00:00Z")).await).contains("expired")
        );

        let mut conn = db.write_turn().await.unwrap();
        let late = at("2025-03-01T00:00:00Z");
        assert!(!db::discounts::increment_usage(&mut conn, &a, &created.id, late).await.unwrap(), "expired");
        assert!(
            !db::discounts::increment_usage(&mut conn, &b, &created.id, mid).await.unwrap(),
            "tenant scoped"
        );
        assert!(db::discounts::increment_usage(&mut conn, &a, &created.id, mid).await.unwrap());
        assert!(!db::discounts::increment_usage(&mut conn, &a, &created.id, mid).await.unwrap(), "limit 1");
        assert!(invalid(validate_code(&db, &a, "save10", mid).await).contains("usage limit"));
        assert_eq!(get(&db, &a, &created.id).await.unwrap().usage_count, 1);
    }
}
