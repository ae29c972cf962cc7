//! Creating, reading, listing and deleting products.

use super::categories::check_categories;
use super::unique::{check_skus, free_handle, insert_conflict};
use super::validate::{
    MAX_VARIANTS, category_ids, check_filter, description, images, new_variant, options, required,
    same_currency, tags,
};
use base64::Engine;
use serde::Serialize;

use super::{
    NewProduct, Price, PriceBand, Product, ProductFacets, ProductFilter, ProductSort, Status, Variant,
};
use crate::commerce::ids::new_id;
use crate::commerce::{Check, Error, Page, Result, parse};
use crate::db::{self, Db};
use crate::model::catalog::ProductCursor;

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
    let images = images(&mut check, req.images, &variants);
    let title = check.finish_with(title)?;
    same_currency(mismatch)?;
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
        images,
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

/// A page of products, with the facets of every product the listing matches.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProductList {
    /// The products of this page.
    pub data: Vec<Product>,
    /// Pass as `cursor` (with the same query) to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Whether there is a next page.
    pub has_more: bool,
    /// Counts over all pages of the listing, to narrow it down.
    pub facets: ProductFacets,
}

/// "From" price bands, in major units of the currency: under 10, 10 to
/// 25, …, 500 and over.
const PRICE_BANDS: [i64; 6] = [10, 25, 50, 100, 250, 500];

/// Products in the listing's order (oldest first unless `sort` or `q` say
/// otherwise), with its facets.
pub async fn list_products(
    db: &Db,
    merchant_id: &str,
    filter: &ProductFilter,
    page: &Page,
) -> Result<ProductList> {
    check_filter(filter)?;
    // Relevance without words to match is the default order.
    let sort = match filter.sort {
        ProductSort::Relevance if filter.q.as_deref().is_none_or(|q| q.trim().is_empty()) => {
            ProductSort::Oldest
        }
        sort => sort,
    };
    let filter = &ProductFilter { sort, ..filter.clone() };
    let cursor = product_cursor(sort, page.after.as_deref())?;
    let mut rows = db::catalog::list_products(db, merchant_id, filter, &cursor, page.limit + 1).await?;
    let has_more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    let next = match (has_more, rows.last()) {
        (true, Some(last)) => Some(match sort {
            ProductSort::Oldest => last.id.clone(),
            ProductSort::Relevance => {
                let before = if let ProductCursor::Offset(n) = cursor { n } else { 0 };
                format!("o:{}", before + u64::from(page.limit))
            }
            ProductSort::PriceAsc | ProductSort::PriceDesc => {
                format!("k:{}:{}", last.variants.iter().map(|v| v.price.amount).min().unwrap_or(0), last.id)
            }
            ProductSort::Newest => format!("k:{}:{}", last.created_at, last.id),
        }),
        _ => None,
    };
    // Every price is in the merchant's currency: a product on the page says which.
    let currency = match rows.first().and_then(|p| p.variants.first()) {
        Some(v) => v.price.currency.clone(),
        None => merchant_currency(db, merchant_id).await?,
    };
    let currency = parse::currency(&currency).map_err(anyhow::Error::msg)?;
    let scale = 10i64.pow(currency.exponent());
    let bounds: Vec<i64> = PRICE_BANDS.iter().map(|b| b * scale).collect();
    let counts = db::catalog::product_facets(db, merchant_id, filter, &bounds).await?;
    let price = |amount: i64| Price::new(amount, currency);
    let price_bands = counts
        .bands
        .into_iter()
        .map(|(i, count)| PriceBand {
            min: price(if i == 0 { 0 } else { bounds[i - 1] }),
            max: bounds.get(i).map(|b| price(*b)),
            count,
        })
        .collect();
    Ok(ProductList {
        data: rows,
        next_cursor: next.map(|c| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c)),
        has_more,
        facets: ProductFacets { categories: counts.categories, price_bands, options: counts.options },
    })
}

/// Where a page of a listing in `sort` starts: its cursor is the product
/// id in the default order, `k:<key>:<id>` in price and newest orders,
/// `o:<offset>` in relevance order.
fn product_cursor(sort: ProductSort, after: Option<&str>) -> Result<ProductCursor> {
    let Some(after) = after else { return Ok(ProductCursor::Start) };
    let keyed = || {
        let (key, id) = after.strip_prefix("k:")?.split_once(':')?;
        Some(ProductCursor::Keyed(key.parse().ok()?, id.to_owned()))
    };
    let cursor = match sort {
        ProductSort::Oldest => (!after.contains(':')).then(|| ProductCursor::After(after.to_owned())),
        ProductSort::Relevance => {
            after.strip_prefix("o:").and_then(|n| n.parse().ok()).map(ProductCursor::Offset)
        }
        ProductSort::PriceAsc | ProductSort::PriceDesc | ProductSort::Newest => keyed(),
    };
    cursor.ok_or_else(|| Error::field("cursor", "is not a cursor of this listing's order"))
}

/// Active products as the storefront sees them.
pub async fn list_active_products(
    db: &Db,
    merchant_id: &str,
    filter: ProductFilter,
    page: &Page,
) -> Result<ProductList> {
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
