//! Categories, and checking the ones a product is filed under.

use std::collections::HashSet;

use super::unique::{conflict, free_handle};
use super::validate::required;
use super::{Category, NewCategory};
use crate::commerce::ids::new_id;
use crate::commerce::{Check, Error, FieldErrors, Page, Paged, Result, parse};
use crate::db::{self, Db};

/// Fails with every category id that is not one of this merchant's.
pub(super) async fn check_categories(db: &Db, merchant_id: &str, ids: &[String]) -> Result<()> {
    let known: HashSet<String> =
        db::catalog::existing_categories(db, merchant_id, ids).await?.into_iter().collect();
    let errors: FieldErrors = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(*id))
        .map(|(i, id)| (format!("category_ids[{i}]"), format!("no category {id:?}")))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let message = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join("; ");
    Err(Error::Validation { message, errors })
}

/// Creates a category.
pub async fn create_category(db: &Db, merchant_id: &str, req: NewCategory) -> Result<Category> {
    let mut check = Check::default();
    let name = check.field("name", required(req.name).and_then(|n| parse::text(&n, 200)));
    let handle = req.handle.and_then(|h| check.field("handle", parse::slug(&h)));
    let name = check.finish_with(name)?;
    let handle = match handle {
        Some(h) => h,
        None => free_handle(db, db::catalog::HandleOf::Category, merchant_id, &parse::slugify(&name)).await?,
    };
    let now = db::now_ms();
    let category = Category { id: new_id("cat"), name, handle, created_at: now, updated_at: now };
    db::catalog::insert_category(db, merchant_id, &category).await.map_err(
        |e| match db::unique_violation(&e) {
            Some(_) => conflict("handle_taken", "handle", format!("{:?} is taken", category.handle)),
            None => e.into(),
        },
    )?;
    Ok(category)
}

/// One category.
pub async fn get_category(db: &Db, merchant_id: &str, id: &str) -> Result<Category> {
    db::catalog::get_category(db, merchant_id, id).await?.ok_or(Error::NotFound("category"))
}

/// Categories, oldest first.
pub async fn list_categories(db: &Db, merchant_id: &str, page: &Page) -> Result<Paged<Category>> {
    let rows = db::catalog::list_categories(db, merchant_id, page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |c| &c.id))
}
