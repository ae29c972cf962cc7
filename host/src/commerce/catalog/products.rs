//! Creating, reading, listing and deleting products.

use super::categories::check_categories;
use super::unique::{check_skus, free_handle, insert_conflict};
use super::validate::{
    MAX_VARIANTS, category_ids, check_filter, description, new_variant, options, required, tags,
};
use super::{NewProduct, Product, ProductFilter, Status, Variant};
use crate::commerce::ids::new_id;
use crate::commerce::{Check, Error, Page, Paged, Result, parse};
use crate::db::{self, Db};

/// Inserts tried when concurrent creates race for handles made from one title.
const HANDLE_ATTEMPTS: usize = 10;

/// The text full-text search looks at: title, description, skus and tags.
pub(super) fn search_text(p: &Product) -> String {
    let mut parts = vec![p.title.as_str(), p.description.as_str()];
    parts.extend(p.variants.iter().map(|v| v.sku.as_str()));
    parts.extend(p.tags.iter().map(String::as_str));
    parts.join(" ")
}

pub(super) async fn merchant_currency(db: &Db, merchant_id: &str) -> Result<String> {
    Ok(crate::commerce::merchants::get(db, merchant_id).await?.default_currency)
}

/// Creates a product and its variants, all or nothing.
pub async fn create_product(db: &Db, merchant_id: &str, req: NewProduct) -> Result<Product> {
    let currency = merchant_currency(db, merchant_id).await?;
    let mut check = Check::default();
    let title = check.field("title", required(req.title).and_then(|t| parse::text(&t, 255)));
    let handle = req.handle.and_then(|h| check.field("handle", parse::slug(&h)));
    let description = description(&mut check, req.description);
    let tags = tags(&mut check, req.tags);
    let options = options(&mut check, req.options);
    let raw_variants = check.field(
        "variants",
        required(req.variants).and_then(|v| match v.len() {
            0 => Err("must have at least one variant".to_owned()),
            n if n > MAX_VARIANTS => Err(format!("must have at most {MAX_VARIANTS} variants")),
            _ => Ok(v),
        }),
    );
    let mut mismatch = None;
    let mut variants: Vec<Variant> = Vec::new();
    let product_title = title.clone().unwrap_or_default();
    for (i, v) in raw_variants.into_iter().flatten().enumerate() {
        let f = format!("variants[{i}]");
        let v = new_variant(&mut check, &f, v, &options, &currency, &product_title, &mut mismatch);
        // Only complete choices can clash; incomplete ones are reported already.
        if v.options.len() == options.len()
            && let Some(j) = variants.iter().position(|w| w.options == v.options)
        {
            check.field(format!("{f}.options"), Err::<(), _>(format!("same options as variants[{j}]")));
        }
        variants.push(v);
    }
    let title = check.finish_with(title)?;
    if let Some(message) = mismatch {
        return Err(Error::Unprocessable { code: "currency_mismatch", message });
    }
    let skus: Vec<_> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| (v.sku.clone(), format!("variants[{i}].sku"), None))
        .collect();
    check_skus(db, merchant_id, &skus).await?;
    let category_ids = category_ids(req.category_ids);
    check_categories(db, merchant_id, &category_ids).await?;
    let derived = handle.is_none();
    let now = db::now_ms();
    let mut product = Product {
        id: new_id("prod"),
        handle: match handle {
            Some(h) => h,
            None => {
                free_handle(db, db::catalog::HandleOf::Product, merchant_id, &parse::slugify(&title)).await?
            }
        },
        title,
        description,
        status: req.status.unwrap_or(Status::Draft),
        tags,
        category_ids,
        options,
        variants,
        created_at: now,
        updated_at: now,
    };
    let text = search_text(&product);
    let mut attempts = 0;
    loop {
        let Err(e) = db::catalog::insert_product(db, merchant_id, &product, &text).await else {
            return Ok(product);
        };
        let e = insert_conflict(e, &product.handle);
        attempts += 1;
        // A handle made from the title was taken meanwhile: take the next free one.
        if !(derived
            && attempts < HANDLE_ATTEMPTS
            && matches!(e, Error::Conflict { code: "handle_taken", .. }))
        {
            return Err(e);
        }
        let base = parse::slugify(&product.title);
        product.handle = free_handle(db, db::catalog::HandleOf::Product, merchant_id, &base).await?;
    }
}

/// One product of this merchant, whatever its status.
pub async fn get_product(db: &Db, merchant_id: &str, id: &str) -> Result<Product> {
    db::catalog::get_product(db, merchant_id, id, false).await?.ok_or(Error::NotFound("product"))
}

/// One active product, by id or handle, as the storefront sees it.
pub async fn get_active_product(db: &Db, merchant_id: &str, id_or_handle: &str) -> Result<Product> {
    db::catalog::get_product(db, merchant_id, id_or_handle, true).await?.ok_or(Error::NotFound("product"))
}

/// Products, oldest first.
pub async fn list_products(
    db: &Db,
    merchant_id: &str,
    filter: &ProductFilter,
    page: &Page,
) -> Result<Paged<Product>> {
    check_filter(filter)?;
    let rows =
        db::catalog::list_products(db, merchant_id, filter, page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |p| &p.id))
}

/// Active products as the storefront sees them, oldest first.
pub async fn list_active_products(
    db: &Db,
    merchant_id: &str,
    filter: ProductFilter,
    page: &Page,
) -> Result<Paged<Product>> {
    list_products(db, merchant_id, &ProductFilter { status: Some(Status::Active), ..filter }, page).await
}

/// Hides a product everywhere; its handle and skus become free again.
pub async fn delete_product(db: &Db, merchant_id: &str, id: &str) -> Result<()> {
    if db::catalog::delete_product(db, merchant_id, id).await? {
        Ok(())
    } else {
        Err(Error::NotFound("product"))
    }
}
