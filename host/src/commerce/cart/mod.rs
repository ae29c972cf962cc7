//! Carts: persistent, one currency, addressed by an unguessable id. Every
//! read prices the cart through the merchant's plugins (see [`pricing`]);
//! every change is checked here and written by `db::carts` in one
//! transaction that only succeeds on an open cart.

pub use crate::model::cart::{Address, CartRecord, CartStatus, LineRecord, VariantInfo};

mod memo;
mod ops;
pub mod pricing;
pub mod recovery;
mod view;

pub use memo::Memo;
pub use ops::{
    BindingsPreview, CartUpdate, CodeInput, LineUpdate, NewCart, NewLine, ShippingChoice, add_discount_code,
    add_line, claim, create, explain, get, load_priced, preview, remove_discount_code, remove_line,
    select_shipping, shipping_options, update_details, update_line, view,
};
pub use pricing::Pass;
pub use view::{
    AdjustmentView, Cart, CartLine, ShippingOption, ShippingOptions, TaxLineView, TrailStep, Warning,
};

use serde::Deserialize;

use crate::commerce::{Check, parse};

/// Most lines in one cart.
pub const MAX_LINES: usize = 1000;
/// Most units of one line.
pub const MAX_LINE_QUANTITY: i64 = 10_000;
/// Most discount codes entered on one cart.
pub const MAX_CODES: usize = 5;

/// An address as a storefront sends it; every field is checked.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    /// Who receives the parcel; required.
    pub name: Option<String>,
    /// Street and number; required.
    pub line1: Option<String>,
    /// Apartment, suite or floor; blank means none.
    pub line2: Option<String>,
    /// City or town; required.
    pub city: Option<String>,
    /// State, province or county; may be left out.
    pub region: Option<String>,
    /// Postal or ZIP code; required.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. "US"; required.
    pub country: Option<String>,
}

impl AddressInput {
    /// The checked address; errors go under `field.<name>`.
    pub fn parse(&self, field: &str, check: &mut Check) -> Option<Address> {
        let required = |v: &Option<String>, max: usize| match v {
            None => Err("is required".to_owned()),
            Some(s) => parse::text(s, max),
        };
        let name = check.field(format!("{field}.name"), required(&self.name, 200));
        let line1 = check.field(format!("{field}.line1"), required(&self.line1, 200));
        let line2 = match self.line2.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(s) => check.field(format!("{field}.line2"), parse::text(s, 200).map(Some)),
        };
        let city = check.field(format!("{field}.city"), required(&self.city, 100));
        let region = match self.region.as_deref().map(str::trim) {
            None | Some("") => Some(String::new()),
            Some(s) => check.field(format!("{field}.region"), parse::text(s, 100)),
        };
        let postal_code = check.field(format!("{field}.postal_code"), required(&self.postal_code, 20));
        let country = check.field(
            format!("{field}.country"),
            self.country.as_deref().ok_or_else(|| "is required".to_owned()).and_then(parse::country),
        );
        Some(Address {
            name: name?,
            line1: line1?,
            line2: line2?,
            city: city?,
            region: region?,
            postal_code: postal_code?,
            country: country?,
        })
    }
}

impl From<&Address> for mercato_sdk::Address {
    fn from(a: &Address) -> mercato_sdk::Address {
        mercato_sdk::Address {
            name: a.name.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }
    }
}

/// Checks a line quantity.
fn quantity(q: Option<i64>, allow_zero: bool) -> std::result::Result<i64, String> {
    let min = if allow_zero { 0 } else { 1 };
    match q {
        None => Err("is required".into()),
        Some(q) if (min..=MAX_LINE_QUANTITY).contains(&q) => Ok(q),
        Some(_) => Err(format!("must be between {min} and {MAX_LINE_QUANTITY}")),
    }
}
