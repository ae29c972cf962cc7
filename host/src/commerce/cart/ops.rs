//! What a storefront can do to a cart. Each change is checked, written in
//! one transaction (see `db::carts`), and answered with the cart priced.

use serde::Deserialize;

use super::pricing::{self, Pass, Priced};
use super::view::{Cart, CartLine, ShippingOptions, Warning};
use super::{
    AddressInput, CartRecord, CartStatus, LineRecord, MAX_CODES, MAX_LINE_QUANTITY, MAX_LINES, quantity,
};
use crate::commerce::catalog::Price;
use crate::commerce::discounts::{self, DiscountCode};
use crate::commerce::ids::{new_id, new_secret};
use crate::commerce::plugins::{self, BindError, NewBinding, NewBindings};
use crate::commerce::{Check, Error, Result, Shop, merchants, parse};
use crate::db::carts::{self as store, Change, Changed, Loaded};
use crate::db::now_ms;
use mercato_sdk::ExtensionPoint;

/// A new cart.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCart {
    /// ISO 4217; the merchant's currency when left out (the only one accepted).
    pub currency: Option<String>,
    /// The buyer's email address, checked.
    pub email: Option<String>,
    /// First lines, so a storefront creates a cart with its first line in one request.
    #[serde(default)]
    pub lines: Vec<NewLine>,
}

/// A line to add.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLine {
    /// The variant to add (`var_…`): live, on an active product, in the cart's currency.
    pub variant_id: Option<String>,
    /// 1 to 10,000.
    pub quantity: Option<i64>,
}

/// A new quantity for a line; 0 removes it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineUpdate {
    /// 1 to 10,000, or 0 to remove the line.
    pub quantity: Option<i64>,
}

/// Contact and addresses; fields left out stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartUpdate {
    /// The buyer's email address, checked.
    pub email: Option<String>,
    /// Replaces the shipping address.
    pub shipping_address: Option<AddressInput>,
    /// Replaces the billing address.
    pub billing_address: Option<AddressInput>,
}

/// A discount code to enter.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    /// One of the shop's discount codes, in any case.
    pub code: Option<String>,
}

/// The shipping option to select.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShippingChoice {
    /// The `code` of one of the options the cart is offered.
    pub code: Option<String>,
}

/// Creates a cart (for a logged-in customer when `customer_id` is given).
pub async fn create(shop: &Shop, merchant_id: &str, customer_id: Option<&str>, req: NewCart) -> Result<Cart> {
    let merchant = merchants::get(&shop.db, merchant_id).await?;
    let mut check = Check::default();
    let currency = match req.currency.as_deref() {
        None => Some(merchant.default_currency.clone()),
        Some(c) => check.field(
            "currency",
            parse::currency(c).and_then(|c| {
                if c.code() == merchant.default_currency {
                    Ok(c.code().to_owned())
                } else {
                    Err(format!("this shop sells in {} only", merchant.default_currency))
                }
            }),
        ),
    };
    let email = req.email.as_deref().and_then(|e| check.field("email", parse::email(e)));
    if req.lines.len() > MAX_LINES {
        check.field("lines", Err::<(), _>(format!("at most {MAX_LINES} lines")));
    }
    let mut lines: Vec<(String, String, i64)> = Vec::new();
    for (i, l) in req.lines.iter().enumerate() {
        let q = check.field(format!("lines[{i}].quantity"), quantity(l.quantity, false));
        let v = check.field(
            format!("lines[{i}].variant_id"),
            l.variant_id.clone().ok_or_else(|| "is required".to_owned()),
        );
        if let (Some(v), Some(q)) = (v, q) {
            match lines.iter_mut().find(|(_, id, _)| *id == v) {
                Some(line) => line.2 = (line.2 + q).min(super::MAX_LINE_QUANTITY),
                None => lines.push((new_id("cl"), v, q)),
            }
        }
    }
    let currency = check.finish_with(currency)?;
    // One query per distinct variant: a cart is created with a handful of lines.
    let mut check = Check::default();
    for (i, (_, variant_id, _)) in lines.iter().enumerate() {
        let for_sale = store::sellable_variant(&shop.db, merchant_id, variant_id).await?;
        check.field(format!("lines[{i}].variant_id"), sellable(for_sale, &currency));
    }
    check.finish()?;
    // A logged-in customer's cart takes the customer's e-mail unless the
    // storefront sends another.
    let email = match (email, customer_id) {
        (None, Some(customer)) => {
            Some(crate::commerce::customers::get(&shop.db, merchant_id, customer).await?.email)
        }
        (email, _) => email,
    };
    let now = now_ms();
    let record = CartRecord {
        id: new_secret("cart"),
        currency,
        customer_id: customer_id.map(str::to_owned),
        email,
        shipping_address: None,
        billing_address: None,
        shipping_option: None,
        status: CartStatus::Open,
        order_id: None,
        version: 0,
        prices_include_tax: merchant.prices_include_tax,
        discount_codes: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    let loaded = store::insert(&shop.db, merchant_id, &record, &lines).await?;
    answer(shop, merchant_id, loaded).await
}

/// Whether a variant for sale in `variant_currency` (`None`: not for sale)
/// can go in a cart of `currency`.
fn sellable(variant_currency: Option<String>, currency: &str) -> std::result::Result<(), String> {
    match variant_currency {
        None => Err("no such variant is for sale".into()),
        Some(c) if c != currency => Err(format!("is priced in {c}, the cart is in {currency}")),
        Some(_) => Ok(()),
    }
}

/// The cart, priced.
pub async fn get(shop: &Shop, merchant_id: &str, cart_id: &str) -> Result<Cart> {
    let (record, priced) = load_priced(shop, merchant_id, cart_id, Pass::Read, None).await?;
    Ok(view(record, priced))
}

/// A cart just written, priced: the answer to a change.
async fn answer(shop: &Shop, merchant_id: &str, loaded: Loaded) -> Result<Cart> {
    let (record, priced) = price_loaded(shop, merchant_id, loaded, Pass::Read, None).await?;
    Ok(view(record, priced))
}

/// The cart, priced, with the trail of plugin calls that made its totals.
pub async fn explain(shop: &Shop, merchant_id: &str, cart_id: &str) -> Result<Cart> {
    let (record, priced) = load_priced(shop, merchant_id, cart_id, Pass::Explained, None).await?;
    let trail = priced.trail.clone();
    Ok(Cart { explain: Some(trail), ..view(record, priced) })
}

/// A cart priced with other bindings of one extension point than the
/// merchant's (every plugin runs): a preview of a binding change. The
/// bindings are checked like a replacement; nothing is saved.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingsPreview {
    /// The cart to price (`cart_…`), one of the merchant's.
    pub cart_id: String,
    /// The bindings to try, as `PUT /v1/admin/plugin-bindings/{point}` takes them.
    pub bindings: Vec<NewBinding>,
}

/// The cart priced with `req.bindings` in place of the merchant's `point`
/// bindings (pricing, shipping or tax).
pub async fn preview(
    shop: &Shop,
    merchant_id: &str,
    point: ExtensionPoint,
    req: BindingsPreview,
) -> std::result::Result<Cart, BindError> {
    if !matches!(point, ExtensionPoint::Pricing | ExtensionPoint::Shipping | ExtensionPoint::Tax) {
        let message =
            format!("a cart shows pricing, shipping and tax; {point} bindings cannot be tried on one");
        return Err(Error::Unprocessable { code: "preview_unavailable", message }.into());
    }
    let new = NewBindings { bindings: req.bindings };
    let bindings = plugins::trial_bindings(&shop.db, &shop.runtime, point, &new).await?;
    let trial = pricing::Trial { point, bindings };
    let (record, priced) = load_priced(shop, merchant_id, &req.cart_id, Pass::Fresh, Some(&trial)).await?;
    Ok(view(record, priced))
}

/// Loads a cart and prices it: lines whose variant is gone, archived or in
/// another currency are dropped (with a warning), invalid codes are left
/// out (with a warning), short stock is flagged. `pass` says whether every
/// plugin runs and whether the trail of calls is kept.
pub async fn load_priced(
    shop: &Shop,
    merchant_id: &str,
    cart_id: &str,
    pass: Pass,
    trial: Option<&pricing::Trial>,
) -> Result<(CartRecord, Priced)> {
    let loaded = store::with_lines(&shop.db, merchant_id, cart_id).await?.ok_or(Error::NotFound("cart"))?;
    price_loaded(shop, merchant_id, loaded, pass, trial).await
}

/// [`load_priced`] for a cart already read.
async fn price_loaded(
    shop: &Shop,
    merchant_id: &str,
    loaded: Loaded,
    pass: Pass,
    trial: Option<&pricing::Trial>,
) -> Result<(CartRecord, Priced)> {
    let Loaded { cart: mut record, lines } = loaded;
    let mut warnings = Vec::new();
    let mut live: Vec<LineRecord> = Vec::new();
    let mut dropped = Vec::new();
    for line in lines {
        match &line.variant {
            Some(v) if v.live && v.currency == record.currency => {
                warnings.extend(pricing::stock_warning(&line));
                live.push(line);
            }
            v => {
                let what = v
                    .as_ref()
                    .map_or_else(|| line.variant_id.clone(), |v| format!("{} ({})", v.title, v.sku));
                warnings.push(Warning::line(
                    "line_removed",
                    &line.id,
                    format!("{what} is no longer for sale and was removed from the cart"),
                ));
                dropped.push(line.id);
            }
        }
    }
    if !dropped.is_empty()
        && record.status == CartStatus::Open
        && let Changed::Done(changed) =
            store::change(&shop.db, merchant_id, &record.id, Change::RemoveLines(&dropped), now_ms()).await?
    {
        // The cart priced here is the one without those lines.
        record = changed.cart;
    }
    let now = now_ms();
    let mut codes: Vec<DiscountCode> = Vec::new();
    for code in &record.discount_codes {
        match discounts::validate_code(&shop.db, merchant_id, code, now).await {
            Ok(dc) => codes.push(dc),
            Err(Error::Unprocessable { message, .. }) => {
                warnings.push(Warning::new("discount_code_invalid", message));
            }
            Err(e) => return Err(e),
        }
    }
    let mut priced = pricing::price(shop, merchant_id, &record, live, codes, pass, trial).await?;
    warnings.append(&mut priced.warnings);
    priced.warnings = warnings;
    Ok((record, priced))
}

/// The storefront's view of a priced cart.
pub fn view(record: CartRecord, p: Priced) -> Cart {
    let money = |amount: i64| Price { amount, currency: record.currency.clone() };
    Cart {
        lines: p
            .lines
            .into_iter()
            .map(|l| {
                let v = l.record.variant.expect("priced lines have a variant");
                CartLine {
                    id: l.record.id,
                    variant_id: l.record.variant_id,
                    product_id: v.product_id,
                    sku: v.sku,
                    title: v.title,
                    quantity: l.record.quantity,
                    unit_price: money(v.price),
                    subtotal: money(l.subtotal),
                    adjustments: l.adjustments,
                    discount_total: money(l.discount),
                    tax_lines: l.tax_lines,
                    tax_total: money(l.tax),
                    total: money(l.total),
                }
            })
            .collect(),
        subtotal: money(p.subtotal),
        discount_total: money(p.discount_total),
        shipping_total: money(p.shipping_total),
        tax_total: money(p.tax_total),
        total: money(p.total),
        prices_include_tax: p.prices_include_tax,
        adjustments: p.adjustments,
        shipping_tax_lines: p.shipping_tax_lines,
        discount_codes: record.discount_codes,
        shipping_option: p.shipping,
        email: record.email,
        customer_id: record.customer_id,
        shipping_address: record.shipping_address,
        billing_address: record.billing_address,
        warnings: p.warnings,
        explain: None,
        order_id: record.order_id,
        status: record.status,
        id: record.id,
        currency: record.currency,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

/// Writes a change, mapping "not open" and "missing" to clear errors, and
/// answers the cart as changed, priced.
async fn apply(
    shop: &Shop,
    merchant_id: &str,
    cart_id: &str,
    change: Change<'_>,
    missing: &'static str,
) -> Result<Cart> {
    match store::change(&shop.db, merchant_id, cart_id, change, now_ms()).await? {
        Changed::Done(loaded) => answer(shop, merchant_id, *loaded).await,
        Changed::Missing => Err(Error::NotFound(missing)),
        Changed::TooMany => {
            Err(Error::field("quantity", format!("the line would exceed {MAX_LINE_QUANTITY} units")))
        }
        Changed::NotOpen => Err(not_open(shop, merchant_id, cart_id).await?),
    }
}

/// Why a change found the cart not open: it does not exist, or it is
/// being completed or was completed.
async fn not_open(shop: &Shop, merchant_id: &str, cart_id: &str) -> Result<Error> {
    Ok(match store::get(&shop.db, merchant_id, cart_id).await? {
        None => Error::NotFound("cart"),
        Some(c) => Error::Conflict {
            code: "cart_not_open",
            message: format!(
                "the cart is {} and can no longer change{}",
                c.status.as_str(),
                c.order_id.map(|o| format!(" (order {o})")).unwrap_or_default()
            ),
        },
    })
}

/// Adds units of a variant (to its line when the cart has one).
pub async fn add_line(shop: &Shop, merchant_id: &str, cart_id: &str, req: NewLine) -> Result<Cart> {
    let mut check = Check::default();
    let q = check.field("quantity", quantity(req.quantity, false));
    let v = check.field("variant_id", req.variant_id.ok_or_else(|| "is required".to_owned()));
    let (variant_id, q) = check.finish_with(v.zip(q))?;
    let found =
        store::addable(&shop.db, merchant_id, cart_id, &variant_id).await?.ok_or(Error::NotFound("cart"))?;
    let mut check = Check::default();
    check.field("variant_id", sellable(found.variant_currency, &found.currency));
    check.finish()?;
    if found.lines >= MAX_LINES as i64 {
        return Err(Error::field("variant_id", format!("a cart holds at most {MAX_LINES} lines")));
    }
    let line_id = new_id("cl");
    let change =
        Change::AddLine { line_id: &line_id, variant_id: &variant_id, quantity: q, max: MAX_LINE_QUANTITY };
    apply(shop, merchant_id, cart_id, change, "cart").await
}

/// Sets a line's quantity; 0 removes the line.
pub async fn update_line(
    shop: &Shop,
    merchant_id: &str,
    cart_id: &str,
    line_id: &str,
    req: LineUpdate,
) -> Result<Cart> {
    let mut check = Check::default();
    let q = check.field("quantity", quantity(req.quantity, true));
    let q = check.finish_with(q)?;
    let ids = [line_id.to_owned()];
    let change =
        if q == 0 { Change::RemoveLines(&ids) } else { Change::SetQuantity { line_id, quantity: q } };
    apply(shop, merchant_id, cart_id, change, "cart line").await
}

/// Removes a line.
pub async fn remove_line(shop: &Shop, merchant_id: &str, cart_id: &str, line_id: &str) -> Result<Cart> {
    let ids = [line_id.to_owned()];
    apply(shop, merchant_id, cart_id, Change::RemoveLines(&ids), "cart line").await
}

/// Sets email and addresses.
pub async fn update_details(shop: &Shop, merchant_id: &str, cart_id: &str, req: CartUpdate) -> Result<Cart> {
    let mut check = Check::default();
    let email = req.email.as_deref().and_then(|e| check.field("email", parse::email(e)));
    let shipping = req.shipping_address.as_ref().and_then(|a| a.parse("shipping_address", &mut check));
    let billing = req.billing_address.as_ref().and_then(|a| a.parse("billing_address", &mut check));
    check.finish()?;
    let change =
        Change::Details { email: email.as_deref(), shipping: shipping.as_ref(), billing: billing.as_ref() };
    apply(shop, merchant_id, cart_id, change, "cart").await
}

/// Enters a discount code: it must exist, be in its window and have uses
/// left (`invalid_discount_code` otherwise); whether it gives anything is
/// the pricing plugins' decision.
pub async fn add_discount_code(
    shop: &Shop,
    merchant_id: &str,
    cart_id: &str,
    req: CodeInput,
) -> Result<Cart> {
    let code = req.code.ok_or_else(|| Error::field("code", "is required"))?;
    let cart = store::get(&shop.db, merchant_id, cart_id).await?.ok_or(Error::NotFound("cart"))?;
    let dc = discounts::validate_code(&shop.db, merchant_id, &code, now_ms()).await?;
    let key = discounts::code_key(&dc.code);
    let entered = cart.discount_codes.iter().any(|c| c.eq_ignore_ascii_case(&dc.code));
    if !entered && cart.discount_codes.len() >= MAX_CODES {
        return Err(Error::field("code", format!("a cart takes at most {MAX_CODES} discount codes")));
    }
    apply(shop, merchant_id, cart_id, Change::AddCode { code_key: &key, code: &dc.code }, "cart").await
}

/// Removes an entered discount code.
pub async fn remove_discount_code(shop: &Shop, merchant_id: &str, cart_id: &str, code: &str) -> Result<Cart> {
    let key = discounts::code_key(code.trim());
    apply(shop, merchant_id, cart_id, Change::RemoveCode { code_key: &key }, "discount code").await
}

/// The shipping rates the bound plugins offer for this cart.
pub async fn shipping_options(shop: &Shop, merchant_id: &str, cart_id: &str) -> Result<ShippingOptions> {
    let (_, priced) = load_priced(shop, merchant_id, cart_id, Pass::Read, None).await?;
    let warnings = priced
        .warnings
        .into_iter()
        .filter(|w| matches!(w.code.as_str(), "no_shipping_options" | "plugin_failed"))
        .collect();
    Ok(ShippingOptions { options: priced.options, warnings })
}

/// Selects one of the offered shipping options by code.
pub async fn select_shipping(
    shop: &Shop,
    merchant_id: &str,
    cart_id: &str,
    req: ShippingChoice,
) -> Result<Cart> {
    let code = req.code.ok_or_else(|| Error::field("code", "is required"))?;
    let (record, priced) = load_priced(shop, merchant_id, cart_id, Pass::Read, None).await?;
    if record.shipping_address.is_none() {
        return Err(Error::Unprocessable {
            code: "shipping_address_required",
            message: "set a shipping address first: shipping rates depend on it".into(),
        });
    }
    if !priced.options.iter().any(|o| o.code == code) {
        let offered: Vec<_> = priced.options.iter().map(|o| o.code.as_str()).collect();
        return Err(Error::Unprocessable {
            code: "unknown_shipping_option",
            message: format!("shipping option {code:?} is not offered for this cart (offered: {offered:?})"),
        });
    }
    apply(shop, merchant_id, cart_id, Change::ShippingOption(Some(&code)), "cart").await
}

/// Gives a guest cart to the customer who just logged in (a cart already
/// theirs is answered as it is); a cart of another customer is 409
/// `cart_claimed`.
pub async fn claim(shop: &Shop, merchant_id: &str, cart_id: &str, customer_id: &str) -> Result<Cart> {
    let customer = crate::commerce::customers::get(&shop.db, merchant_id, customer_id).await?;
    let change = Change::Claim { customer_id, email: &customer.email };
    match store::change(&shop.db, merchant_id, cart_id, change, now_ms()).await? {
        Changed::Missing => Err(Error::Conflict {
            code: "cart_claimed",
            message: "the cart belongs to another customer".into(),
        }),
        Changed::NotOpen => Err(not_open(shop, merchant_id, cart_id).await?),
        Changed::Done(loaded) => answer(shop, merchant_id, *loaded).await,
        Changed::TooMany => get(shop, merchant_id, cart_id).await,
    }
}
