//! The catalog: products with options and priced variants, and categories.
//! A product's variants each pick one value of every product option; prices
//! are in the merchant's currency; handles and skus are unique per merchant.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Deserializer, Serialize};

use super::ids::new_id;
use super::{Check, Error, FieldErrors, Page, Paged, Result, parse};
use crate::db::{self, Db};

/// Whether a product is sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being prepared: admin only.
    Draft,
    /// On sale in the storefront.
    Active,
    /// No longer sold: admin only.
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Archived => "archived",
        }
    }

    pub fn from_db(s: &str) -> Status {
        match s {
            "active" => Status::Active,
            "archived" => Status::Archived,
            _ => Status::Draft,
        }
    }
}

/// Whether a variant can be sold beyond its stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InventoryPolicy {
    /// Out of stock means not for sale.
    #[default]
    Deny,
    /// Sold below zero, shipped later.
    AllowBackorder,
}

impl InventoryPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryPolicy::Deny => "deny",
            InventoryPolicy::AllowBackorder => "allow_backorder",
        }
    }

    pub fn from_db(s: &str) -> InventoryPolicy {
        if s == "allow_backorder" { InventoryPolicy::AllowBackorder } else { InventoryPolicy::Deny }
    }
}

/// An amount in integer minor units of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Price {
    pub amount: i64,
    pub currency: String,
}

/// A product option and the values its variants choose from, e.g. size: S, M, L.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

/// A sellable variant of a product.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Variant {
    pub id: String,
    pub sku: String,
    pub title: String,
    /// Option name -> the value this variant has.
    pub options: BTreeMap<String, String>,
    pub price: Price,
    pub weight_grams: Option<i64>,
    pub tax_code: Option<String>,
    pub inventory_policy: InventoryPolicy,
}

/// A product with its variants.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: String,
    pub title: String,
    pub handle: String,
    pub description: String,
    pub status: Status,
    pub tags: Vec<String>,
    /// Sorted, oldest category first.
    pub category_ids: Vec<String>,
    pub options: Vec<ProductOption>,
    pub variants: Vec<Variant>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A category products can be filed under.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub handle: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A price as sent: integer minor units and a currency code.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    #[schema(required = true)]
    pub amount: Option<i64>,
    #[schema(required = true)]
    pub currency: Option<String>,
}

/// A new product's request, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    #[schema(required = true)]
    pub title: Option<String>,
    /// Defaults to the title as a slug ("-2", "-3"… appended if taken).
    pub handle: Option<String>,
    pub description: Option<String>,
    /// Default draft.
    pub status: Option<Status>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub category_ids: Vec<String>,
    #[serde(default)]
    pub options: Vec<ProductOption>,
    /// At least one.
    #[schema(required = true)]
    pub variants: Option<Vec<NewVariant>>,
}

/// A new variant, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    #[schema(required = true)]
    pub sku: Option<String>,
    /// Defaults to the option values ("M / Red"), or the product title.
    pub title: Option<String>,
    /// Every product option by name, with one of its values.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    #[schema(required = true)]
    pub price: Option<PriceInput>,
    pub weight_grams: Option<i64>,
    pub tax_code: Option<String>,
    /// Default deny.
    pub inventory_policy: Option<InventoryPolicy>,
}

/// Changes to a product; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub status: Option<Status>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Replaces the categories.
    pub category_ids: Option<Vec<String>>,
    /// The same option names in the same order; values may be added and
    /// reordered, and removed when no variant has them.
    pub options: Option<Vec<ProductOption>>,
    /// Changes to existing variants, by id.
    #[serde(default)]
    pub variants: Vec<VariantPatch>,
}

/// Changes to one variant; `null` clears `weight_grams` and `tax_code`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    pub id: String,
    pub sku: Option<String>,
    pub title: Option<String>,
    pub price: Option<PriceInput>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub weight_grams: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub tax_code: Option<Option<String>>,
    pub inventory_policy: Option<InventoryPolicy>,
}

/// Present-and-null as `Some(None)`, absent (via `default`) as `None`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A new category's request, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    #[schema(required = true)]
    pub name: Option<String>,
    /// Defaults to the name as a slug ("-2", "-3"… appended if taken).
    pub handle: Option<String>,
}

/// Which products a listing shows. Deleted products never show.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// Full text over title, description, skus and tags; a trailing `*`
    /// on the last word matches prefixes.
    pub q: Option<String>,
    pub status: Option<Status>,
    /// A category id or handle.
    pub category: Option<String>,
    /// Products whose lowest variant price is at least this.
    pub min_price: Option<i64>,
    /// Products with a variant at this price or less.
    pub max_price: Option<i64>,
}

const MAX_AMOUNT: i64 = 1_000_000_000_000;
const MAX_VARIANTS: usize = 100;
const MAX_OPTIONS: usize = 3;
/// Inserts tried when concurrent creates race for handles made from one title.
const HANDLE_ATTEMPTS: usize = 10;

fn required<T>(v: Option<T>) -> Result<T, String> {
    v.ok_or_else(|| "is required".to_owned())
}

fn sku(s: &str) -> Result<String, String> {
    let t = parse::text(s, 100)?;
    if t.chars().any(char::is_control) { Err("must not contain control characters".into()) } else { Ok(t) }
}

fn tags(check: &mut Check, raw: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if raw.len() > 100 {
        check.field("tags", Err::<(), _>("must have at most 100 tags".into()));
    }
    for (i, t) in raw.iter().enumerate() {
        if let Some(t) = check.field(format!("tags[{i}]"), parse::text(t, 100))
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

fn description(check: &mut Check, raw: Option<String>) -> String {
    let d = raw.unwrap_or_default();
    let limit = 20_000;
    if d.chars().count() > limit {
        check.field("description", Err::<(), _>(format!("must be at most {limit} characters")));
    }
    d.trim().to_owned()
}

/// Checks a price as sent; a currency other than `currency` is a
/// `currency_mismatch`, reported after every field error.
fn price(
    check: &mut Check,
    field: &str,
    raw: PriceInput,
    currency: &str,
    mismatch: &mut Option<String>,
) -> i64 {
    let amount = check.field(
        format!("{field}.amount"),
        required(raw.amount).and_then(|a| match a {
            a if a < 0 => Err("must not be negative".to_owned()),
            a if a > MAX_AMOUNT => Err(format!("must be at most {MAX_AMOUNT}")),
            a => Ok(a),
        }),
    );
    let code =
        check.field(format!("{field}.currency"), required(raw.currency).and_then(|c| parse::currency(&c)));
    if let Some(code) = code
        && code.code() != currency
        && mismatch.is_none()
    {
        *mismatch =
            Some(format!("{field}.currency: {} is not this merchant's currency ({currency})", code.code()));
    }
    amount.unwrap_or(0)
}

fn weight(check: &mut Check, field: String, w: Option<i64>) -> Option<i64> {
    match w {
        Some(g) if !(0..=100_000_000).contains(&g) => {
            check.field(field, Err("must be 0 to 100000000 grams".into()))
        }
        w => w,
    }
}

fn tax_code(check: &mut Check, field: String, t: Option<String>) -> Option<String> {
    t.and_then(|t| check.field(field, parse::text(&t, 64)))
}

fn options(check: &mut Check, raw: Vec<ProductOption>) -> Vec<ProductOption> {
    if raw.len() > MAX_OPTIONS {
        check.field("options", Err::<(), _>(format!("must have at most {MAX_OPTIONS} options")));
    }
    let mut out: Vec<ProductOption> = Vec::new();
    for (i, o) in raw.into_iter().enumerate() {
        let Some(name) = check.field(format!("options[{i}].name"), parse::text(&o.name, 100)) else {
            continue;
        };
        if out.iter().any(|p| p.name == name) {
            check.field(format!("options[{i}].name"), Err::<(), _>(format!("{name:?} is named twice")));
            continue;
        }
        if o.values.is_empty() {
            check.field(format!("options[{i}].values"), Err::<(), _>("must have at least one value".into()));
        }
        let mut values: Vec<String> = Vec::new();
        for (j, v) in o.values.iter().enumerate() {
            let field = format!("options[{i}].values[{j}]");
            match check.field(field.clone(), parse::text(v, 100)) {
                Some(v) if values.contains(&v) => {
                    check.field(field, Err::<(), _>(format!("{v:?} is listed twice")));
                }
                Some(v) => values.push(v),
                None => {}
            }
        }
        out.push(ProductOption { name, values });
    }
    out
}

/// Checks that `chosen` names each of `options` once with one of its values.
fn variant_options(
    check: &mut Check,
    field: &str,
    options: &[ProductOption],
    chosen: BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    for name in chosen.keys().filter(|k| !options.iter().any(|o| &o.name == *k)) {
        check.field(format!("{field}.{name}"), Err::<(), _>("is not an option of this product".into()));
    }
    let mut out = BTreeMap::new();
    for o in options {
        let f = format!("{field}.{}", o.name);
        match chosen.get(&o.name).map(|v| v.trim()) {
            None => {
                check.field(f, Err::<(), _>(format!("is required: one of {}", o.values.join(", "))));
            }
            Some(v) if !o.values.iter().any(|x| x == v) => {
                check.field(f, Err::<(), _>(format!("{v:?} is not one of {}", o.values.join(", "))));
            }
            Some(v) => {
                out.insert(o.name.clone(), v.to_owned());
            }
        }
    }
    out
}

fn default_variant_title(
    options: &[ProductOption],
    chosen: &BTreeMap<String, String>,
    product: &str,
) -> String {
    if options.is_empty() {
        return product.to_owned();
    }
    options.iter().filter_map(|o| chosen.get(&o.name).cloned()).collect::<Vec<_>>().join(" / ")
}

/// Checks a new variant of a product with `options`, priced in `currency`;
/// `f` is the path of its fields in the request ("" at the top).
fn new_variant(
    check: &mut Check,
    f: &str,
    v: NewVariant,
    options: &[ProductOption],
    currency: &str,
    product_title: &str,
    mismatch: &mut Option<String>,
) -> Variant {
    let at = |name: &str| if f.is_empty() { name.to_owned() } else { format!("{f}.{name}") };
    let sku = check.field(at("sku"), required(v.sku).and_then(|s| sku(&s)));
    let title = v.title.and_then(|t| check.field(at("title"), parse::text(&t, 255)));
    let chosen = variant_options(check, &at("options"), options, v.options);
    let amount = match check.field(at("price"), required(v.price)) {
        Some(p) => price(check, &at("price"), p, currency, mismatch),
        None => 0,
    };
    Variant {
        id: new_id("var"),
        sku: sku.unwrap_or_default(),
        title: title.unwrap_or_else(|| default_variant_title(options, &chosen, product_title)),
        options: chosen,
        price: Price { amount, currency: currency.to_owned() },
        weight_grams: weight(check, at("weight_grams"), v.weight_grams),
        tax_code: tax_code(check, at("tax_code"), v.tax_code),
        inventory_policy: v.inventory_policy.unwrap_or_default(),
    }
}

/// Fails with every category id that is not one of this merchant's.
async fn check_categories(db: &Db, merchant_id: &str, ids: &[String]) -> Result<()> {
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

fn category_ids(raw: Vec<String>) -> Vec<String> {
    let mut ids = raw;
    ids.sort();
    ids.dedup();
    ids
}

/// Fails with `duplicate_sku` if another variant of this merchant has one of
/// `skus` (sku, field, the variant it belongs to if it exists already).
async fn check_skus(db: &Db, merchant_id: &str, skus: &[(String, String, Option<String>)]) -> Result<()> {
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
fn conflict(code: &'static str, field: &str, message: String) -> Error {
    Error::Conflict { code, message: format!("{field}: {message}") }
}

fn insert_conflict(e: sqlx::Error, handle: &str) -> Error {
    match db::unique_violation(&e) {
        Some(c) if c.contains("handle") => conflict("handle_taken", "handle", format!("{handle:?} is taken")),
        Some(c) if c.contains("sku") => {
            conflict("duplicate_sku", "variants", "a sku is already used by another variant".into())
        }
        _ => e.into(),
    }
}

/// A free handle from `base`: itself, else `base-2`, `base-3`…
async fn free_handle(db: &Db, table: db::catalog::HandleOf, merchant_id: &str, base: &str) -> Result<String> {
    let base: String = base.chars().take(90).collect::<String>().trim_end_matches('-').to_owned();
    let taken: HashSet<String> =
        db::catalog::handles_like(db, table, merchant_id, &base).await?.into_iter().collect();
    if !taken.contains(&base) {
        return Ok(base);
    }
    let n = (2..).find(|n| !taken.contains(&format!("{base}-{n}"))).expect("a free suffix");
    Ok(format!("{base}-{n}"))
}

/// The text full-text search looks at: title, description, skus and tags.
fn search_text(p: &Product) -> String {
    let mut parts = vec![p.title.as_str(), p.description.as_str()];
    parts.extend(p.variants.iter().map(|v| v.sku.as_str()));
    parts.extend(p.tags.iter().map(String::as_str));
    parts.join(" ")
}

async fn merchant_currency(db: &Db, merchant_id: &str) -> Result<String> {
    Ok(super::merchants::get(db, merchant_id).await?.default_currency)
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
    check.finish()?;
    let title = title.expect("checked above");
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

fn check_filter(filter: &ProductFilter) -> Result<()> {
    let mut check = Check::default();
    if let Some(q) = &filter.q {
        check.field(
            "q",
            if q.chars().count() > 200 { Err("must be at most 200 characters".to_owned()) } else { Ok(()) },
        );
    }
    for (field, v) in [("min_price", filter.min_price), ("max_price", filter.max_price)] {
        check.field(
            field,
            if v.is_some_and(|v| v < 0) { Err("must not be negative".to_owned()) } else { Ok(()) },
        );
    }
    check.finish()
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
    if let Some(message) = mismatch {
        return Err(Error::Unprocessable { code: "currency_mismatch", message });
    }
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
    check.finish()?;
    if let Some(message) = mismatch {
        return Err(Error::Unprocessable { code: "currency_mismatch", message });
    }
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

/// Hides a product everywhere; its handle and skus become free again.
pub async fn delete_product(db: &Db, merchant_id: &str, id: &str) -> Result<()> {
    if db::catalog::delete_product(db, merchant_id, id).await? {
        Ok(())
    } else {
        Err(Error::NotFound("product"))
    }
}

/// Creates a category.
pub async fn create_category(db: &Db, merchant_id: &str, req: NewCategory) -> Result<Category> {
    let mut check = Check::default();
    let name = check.field("name", required(req.name).and_then(|n| parse::text(&n, 200)));
    let handle = req.handle.and_then(|h| check.field("handle", parse::slug(&h)));
    check.finish()?;
    let name = name.expect("checked above");
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
