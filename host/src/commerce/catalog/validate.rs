//! Request checks: raw product, variant and listing input parsed into the
//! catalog's types, every field error reported at once.

use std::collections::BTreeMap;

use super::{
    ImageInput, NewVariant, Price, PriceInput, ProductFilter, ProductImage, ProductOption, StockStatus,
    Variant,
};
use crate::commerce::ids::new_id;
use crate::commerce::{Check, Result, parse};

const MAX_AMOUNT: i64 = 1_000_000_000_000;
pub(super) const MAX_VARIANTS: usize = 100;
const MAX_OPTIONS: usize = 3;
const MAX_IMAGES: usize = 50;

/// A product's pictures, in the order sent; a variant named by id or SKU
/// must be one of `variants` (the product's, after the request).
pub(super) fn images(check: &mut Check, raw: Vec<ImageInput>, variants: &[Variant]) -> Vec<ProductImage> {
    if raw.len() > MAX_IMAGES {
        check.field("images", Err::<(), _>(format!("must have at most {MAX_IMAGES} images")));
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, img) in raw.into_iter().enumerate() {
        let f = format!("images[{i}]");
        let url = check.field(format!("{f}.url"), required(img.url).and_then(|u| image_url(&u)));
        let alt = match img.alt {
            Some(a) if a.chars().count() > 500 => {
                check.field(format!("{f}.alt"), Err::<(), _>("must be at most 500 characters".into()));
                String::new()
            }
            Some(a) => a.trim().to_owned(),
            None => String::new(),
        };
        let variant = match (img.variant_id, img.sku) {
            (Some(_), Some(_)) => {
                check.field(format!("{f}.sku"), Err::<(), _>("send either variant_id or sku".into()));
                None
            }
            (Some(id), None) => check.field(
                format!("{f}.variant_id"),
                variants
                    .iter()
                    .find(|v| v.id == id)
                    .map(|v| v.id.clone())
                    .ok_or_else(|| "is not a variant of this product".to_owned()),
            ),
            (None, Some(sku)) => check.field(
                format!("{f}.sku"),
                variants
                    .iter()
                    .find(|v| v.sku == sku.trim())
                    .map(|v| v.id.clone())
                    .ok_or_else(|| "is not the SKU of a variant of this product".to_owned()),
            ),
            (None, None) => None,
        };
        if let Some(url) = url {
            out.push(ProductImage { url, alt, variant_id: variant });
        }
    }
    out
}

/// An absolute `http(s)` URL with a host, at most 2,048 characters.
fn image_url(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    match url::Url::parse(s) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(u.to_string()),
        _ => Err("must be an absolute https or http URL".into()),
    }
}

pub(super) fn required<T>(v: Option<T>) -> Result<T, String> {
    v.ok_or_else(|| "is required".to_owned())
}

pub(super) fn sku(s: &str) -> Result<String, String> {
    let t = parse::text(s, 100)?;
    if t.chars().any(char::is_control) { Err("must not contain control characters".into()) } else { Ok(t) }
}

pub(super) fn tags(check: &mut Check, raw: Vec<String>) -> Vec<String> {
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

pub(super) fn description(check: &mut Check, raw: Option<String>) -> String {
    let d = raw.unwrap_or_default();
    let limit = 20_000;
    if d.chars().count() > limit {
        check.field("description", Err::<(), _>(format!("must be at most {limit} characters")));
    }
    d.trim().to_owned()
}

impl PriceInput {
    /// The amount in minor units of `currency`, checked as
    /// `{field}.amount` (at least `min`, at most 10^12) and
    /// `{field}.currency` (any case). Another currency is noted in
    /// `mismatch`: a `currency_mismatch`, reported after every field error.
    pub(crate) fn amount_in(
        self,
        check: &mut Check,
        field: &str,
        currency: &str,
        min: i64,
        mismatch: &mut Option<String>,
    ) -> i64 {
        let amount = check.field(
            format!("{field}.amount"),
            required(self.amount).and_then(|a| match a {
                a if a < min && min == 1 => Err("must be positive".to_owned()),
                a if a < min => Err("must not be negative".to_owned()),
                a if a > MAX_AMOUNT => Err(format!("must be at most {MAX_AMOUNT}")),
                a => Ok(a),
            }),
        );
        let code = check
            .field(format!("{field}.currency"), required(self.currency).and_then(|c| parse::currency(&c)));
        if let Some(code) = code
            && code.code() != currency
            && mismatch.is_none()
        {
            *mismatch =
                Some(format!("{field}.currency: {} is not the currency here ({currency})", code.code()));
        }
        amount.unwrap_or(0)
    }
}

/// `422 currency_mismatch` when [`PriceInput::amount_in`] noted another currency.
pub(crate) fn same_currency(mismatch: Option<String>) -> Result<()> {
    match mismatch {
        Some(message) => Err(crate::commerce::Error::Unprocessable { code: "currency_mismatch", message }),
        None => Ok(()),
    }
}

/// Checks a variant's price as sent: see [`PriceInput::amount_in`].
pub(super) fn price(
    check: &mut Check,
    field: &str,
    raw: PriceInput,
    currency: &str,
    mismatch: &mut Option<String>,
) -> i64 {
    raw.amount_in(check, field, currency, 0, mismatch)
}

pub(super) fn weight(check: &mut Check, field: String, w: Option<i64>) -> Option<i64> {
    match w {
        Some(g) if !(0..=100_000_000).contains(&g) => {
            check.field(field, Err("must be 0 to 100000000 grams".into()))
        }
        w => w,
    }
}

pub(super) fn tax_code(check: &mut Check, field: String, t: Option<String>) -> Option<String> {
    t.and_then(|t| check.field(field, parse::text(&t, 64)))
}

pub(super) fn options(check: &mut Check, raw: Vec<ProductOption>) -> Vec<ProductOption> {
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
pub(super) fn new_variant(
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
        // Stocked nowhere yet.
        stock_status: StockStatus::of(None, v.inventory_policy.unwrap_or_default()),
    }
}

pub(super) fn category_ids(raw: Vec<String>) -> Vec<String> {
    let mut ids = raw;
    ids.sort();
    ids.dedup();
    ids
}

pub(super) fn check_filter(filter: &ProductFilter) -> Result<()> {
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
