//! Changing products: patches and new variants, each written only over the
//! state it was checked against.

use super::categories::check_categories;
use super::products::{get_product, merchant_currency, search_text};
use super::unique::{check_skus, insert_conflict};
use super::validate::{
    MAX_VARIANTS, category_ids, description, images, new_variant, options, price, same_currency, sku, tags,
    tax_code, weight,
};
use super::{NewVariant, Product, ProductOption, ProductPatch, Variant};
use crate::commerce::{Check, Error, Result, parse};
use crate::db::{self, Db};

/// Read-change-write attempts before giving up on a busy product: each
/// writes only over the state it read.
const ATTEMPTS: usize = 5;

fn busy() -> Error {
    let message = "the product is being changed by another request; try again".to_owned();
    Error::Conflict { code: "concurrent_update", message }
}

/// Applies a patch.
pub async fn update_product(db: &Db, merchant_id: &str, id: &str, patch: ProductPatch) -> Result<Product> {
    for _ in 0..ATTEMPTS {
        let current = get_product(db, merchant_id, id).await?;
        if let Some(p) = try_update(db, merchant_id, current, patch.clone()).await? {
            return Ok(p);
        }
    }
    Err(busy())
}

/// Adds a variant to a product; it picks one value of each product option.
pub async fn add_variant(db: &Db, merchant_id: &str, product_id: &str, req: NewVariant) -> Result<Variant> {
    let currency = merchant_currency(db, merchant_id).await?;
    for _ in 0..ATTEMPTS {
        let current = get_product(db, merchant_id, product_id).await?;
        if let Some(v) = try_add_variant(db, merchant_id, current, req.clone(), &currency).await? {
            return Ok(v);
        }
    }
    Err(busy())
}

async fn try_add_variant(
    db: &Db,
    merchant_id: &str,
    current: Product,
    req: NewVariant,
    currency: &str,
) -> Result<Option<Variant>> {
    if current.variants.len() >= MAX_VARIANTS {
        return Err(Error::field("variants", format!("a product has at most {MAX_VARIANTS} variants")));
    }
    let mut check = Check::default();
    let mut mismatch = None;
    let v = new_variant(&mut check, "", req, &current.options, currency, &current.title, &mut mismatch);
    if let Some(other) = current.variants.iter().find(|w| w.options == v.options) {
        check.field("options", Err::<(), _>(format!("same options as variant {}", other.id)));
    }
    check.finish()?;
    same_currency(mismatch)?;
    check_skus(db, merchant_id, &[(v.sku.clone(), "sku".to_owned(), None)]).await?;
    let mut p = current.clone();
    p.variants.push(v.clone());
    p.updated_at = db::now_ms().max(current.updated_at + 1);
    let text = search_text(&p);
    let write = db::catalog::ProductUpdate {
        product: &p,
        previous_updated_at: current.updated_at,
        search_text: Some(&text),
        category_ids: None,
        variants: &[],
        added: &[&v],
    };
    let done = db::catalog::update_product(db, merchant_id, write)
        .await
        .map_err(|e| insert_conflict(e, &p.handle))?;
    Ok(done.then_some(v))
}

async fn try_update(
    db: &Db,
    merchant_id: &str,
    current: Product,
    patch: ProductPatch,
) -> Result<Option<Product>> {
    let mut p = current.clone();
    let mut check = Check::default();
    if let Some(t) = patch.title {
        p.title = check.field("title", parse::text(&t, 255)).unwrap_or_default();
    }
    if let Some(h) = patch.handle {
        p.handle = check.field("handle", parse::slug(&h)).unwrap_or_default();
    }
    if patch.description.is_some() {
        p.description = description(&mut check, patch.description);
    }
    p.status = patch.status.unwrap_or(p.status);
    if let Some(t) = patch.tags {
        p.tags = tags(&mut check, t);
    }
    if let Some(raw) = patch.options {
        p.options = options(&mut check, raw);
        let names = |o: &[ProductOption]| o.iter().map(|o| o.name.clone()).collect::<Vec<_>>();
        if names(&p.options) != names(&current.options) {
            let message =
                format!("must keep the option names [{}] in order", names(&current.options).join(", "));
            check.field("options", Err::<(), _>(message));
        }
        for (i, o) in p.options.iter().enumerate() {
            let used = current.variants.iter().filter_map(|v| v.options.get(&o.name));
            if let Some(v) = used.into_iter().find(|v| !o.values.contains(v)) {
                check.field(
                    format!("options[{i}].values"),
                    Err::<(), _>(format!("{v:?} is used by a variant")),
                );
            }
        }
    }
    let mut mismatch = None;
    // (index in the product, index in the request)
    let mut changed: Vec<(usize, usize)> = Vec::new();
    for (i, vp) in patch.variants.into_iter().enumerate() {
        let f = format!("variants[{i}]");
        let Some(k) = p.variants.iter().position(|v| v.id == vp.id) else {
            check.field(format!("{f}.id"), Err::<(), _>("is not a variant of this product".into()));
            continue;
        };
        let v = &mut p.variants[k];
        if let Some(s) = vp.sku {
            v.sku = check.field(format!("{f}.sku"), sku(&s)).unwrap_or_default();
        }
        if let Some(t) = vp.title {
            v.title = check.field(format!("{f}.title"), parse::text(&t, 255)).unwrap_or_default();
        }
        if let Some(raw) = vp.price {
            v.price.amount = price(&mut check, &format!("{f}.price"), raw, &v.price.currency, &mut mismatch);
        }
        if let Some(w) = vp.weight_grams {
            v.weight_grams = weight(&mut check, format!("{f}.weight_grams"), w);
        }
        if let Some(t) = vp.tax_code {
            v.tax_code = tax_code(&mut check, format!("{f}.tax_code"), t);
        }
        v.inventory_policy = vp.inventory_policy.unwrap_or(v.inventory_policy);
        if !changed.iter().any(|c| c.0 == k) {
            changed.push((k, i));
        }
    }
    if let Some(raw) = patch.images {
        p.images = images(&mut check, raw, &p.variants);
    }
    check.finish()?;
    same_currency(mismatch)?;
    let skus: Vec<_> = changed
        .iter()
        .map(|&(k, i)| {
            (p.variants[k].sku.clone(), format!("variants[{i}].sku"), Some(p.variants[k].id.clone()))
        })
        .collect();
    check_skus(db, merchant_id, &skus).await?;
    let categories = match patch.category_ids {
        Some(ids) => {
            let ids = category_ids(ids);
            check_categories(db, merchant_id, &ids).await?;
            p.category_ids = ids.clone();
            Some(ids)
        }
        None => None,
    };
    p.updated_at = db::now_ms().max(current.updated_at + 1);
    let text = search_text(&p);
    let search = (text != search_text(&current)).then_some(text.as_str());
    let variants: Vec<&Variant> = changed.iter().map(|&(k, _)| &p.variants[k]).collect();
    let write = db::catalog::ProductUpdate {
        product: &p,
        previous_updated_at: current.updated_at,
        search_text: search,
        category_ids: categories.as_deref(),
        variants: &variants,
        added: &[],
    };
    let done = db::catalog::update_product(db, merchant_id, write)
        .await
        .map_err(|e| insert_conflict(e, &p.handle))?;
    Ok(done.then_some(p))
}
