//! One adapter per extension point: SDK types in, bindings types across the
//! boundary, validated SDK types out.

mod payment;
mod pricing;
mod recommendations;
mod shipping;
pub(crate) mod tax;

use mercato_sdk::{Address, CartLine, Currency, Customer, Money};

use super::error::FailureKind;
use super::wit;

fn money_to_wit(m: &Money) -> wit::Money {
    wit::Money { amount: m.amount, currency: m.currency.code().to_owned() }
}

fn money_from_wit(m: wit::Money, expected: Option<Currency>, what: &str) -> Result<Money, FailureKind> {
    let currency =
        Currency::parse(&m.currency).map_err(|e| FailureKind::InvalidOutput(format!("{what}: {e}")))?;
    if let Some(expected) = expected
        && currency != expected
    {
        return Err(FailureKind::InvalidOutput(format!(
            "{what} is in {currency}, the cart is in {expected}"
        )));
    }
    Ok(Money::new(m.amount, currency))
}

fn address_to_wit(a: &Address) -> wit::Address {
    wit::Address {
        name: a.name.clone(),
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        region: a.region.clone(),
        postal_code: a.postal_code.clone(),
        country: a.country.clone(),
    }
}

fn customer_to_wit(c: &Customer) -> wit::Customer {
    wit::Customer {
        id: c.id.clone(),
        email: c.email.clone(),
        tags: c.tags.clone(),
        tax_exempt: c.tax_exempt,
        vat_id: c.vat_id.clone(),
    }
}

fn cart_line_to_wit(l: &CartLine) -> wit::CartLine {
    wit::CartLine {
        id: l.id.clone(),
        product_id: l.product_id.clone(),
        variant_id: l.variant_id.clone(),
        sku: l.sku.clone(),
        quantity: l.quantity,
        unit_price: money_to_wit(&l.unit_price),
        tags: l.tags.clone(),
        collections: l.collections.clone(),
        tax_code: l.tax_code.clone(),
        weight_grams: l.weight_grams,
    }
}

/// Refuses an output over the cap before converting it.
fn check_output_size(size: u64, limit: u64) -> Result<(), FailureKind> {
    if size > limit { Err(FailureKind::OutputTooLarge { size, limit }) } else { Ok(()) }
}

/// Refuses a text field that is empty (when required) or too long.
fn check_text(what: &str, value: &str, required: bool, max: usize) -> Result<(), FailureKind> {
    if required && value.trim().is_empty() {
        return Err(FailureKind::InvalidOutput(format!("{what} is empty")));
    }
    if value.len() > max {
        return Err(FailureKind::InvalidOutput(format!("{what} is longer than {max} bytes")));
    }
    Ok(())
}
