use std::collections::HashSet;

use mercato_sdk::shipping::{RateOption, ShippingInput, ShippingOutput};

use super::{address_to_wit, check_output_size, check_text, money_from_wit, money_to_wit};
use crate::runtime::error::{CallError, FailureKind};
use crate::runtime::registry::{Call, Outcome, Runtime, Sizing, WorldPre};
use crate::runtime::size::{WireSize, record_size};
use crate::runtime::wit::shipping::exports::mercato::plugin::shipping as w;

record_size! {
    w::ShipItem { line_id, sku, quantity, weight_grams, length_mm, width_mm, height_mm }
    w::ShippingInput { currency, destination, items, subtotal }
    w::RateOption { code, carrier, service, amount, min_days, max_days }
    w::ShippingOutput { options }
}

/// Most options one plugin may offer.
pub const MAX_OPTIONS: usize = 50;
/// No parcel costs more than this many minor units (10 million in major units).
const MAX_RATE_MINOR_UNITS: i64 = 1_000_000_000;

fn input_to_wit(input: &ShippingInput) -> w::ShippingInput {
    w::ShippingInput {
        currency: input.currency.code().to_owned(),
        destination: address_to_wit(&input.destination),
        items: input
            .items
            .iter()
            .map(|i| w::ShipItem {
                line_id: i.line_id.clone(),
                sku: i.sku.clone(),
                quantity: i.quantity,
                weight_grams: i.weight_grams,
                length_mm: i.length_mm,
                width_mm: i.width_mm,
                height_mm: i.height_mm,
            })
            .collect(),
        subtotal: money_to_wit(&input.subtotal),
    }
}

fn output_from_wit(input: &ShippingInput, raw: w::ShippingOutput) -> Result<ShippingOutput, FailureKind> {
    if raw.options.len() > MAX_OPTIONS {
        return Err(FailureKind::InvalidOutput(format!(
            "{} options (at most {MAX_OPTIONS})",
            raw.options.len()
        )));
    }
    let mut codes = HashSet::with_capacity(raw.options.len());
    let mut options = Vec::with_capacity(raw.options.len());
    for o in raw.options {
        check_text("option code", &o.code, true, 64)?;
        check_text("carrier", &o.carrier, false, 100)?;
        check_text("service", &o.service, false, 100)?;
        if !codes.insert(o.code.clone()) {
            return Err(FailureKind::InvalidOutput(format!("duplicate option code {:?}", o.code)));
        }
        let amount = money_from_wit(o.amount, Some(input.currency), &format!("option {:?}", o.code))?;
        if !(0..=MAX_RATE_MINOR_UNITS).contains(&amount.amount) {
            return Err(FailureKind::InvalidOutput(format!("option {:?} costs {}", o.code, amount.amount)));
        }
        match (o.min_days, o.max_days) {
            (_, Some(max)) if max > 365 => {
                return Err(FailureKind::InvalidOutput(format!("option {:?} takes {max} days", o.code)));
            }
            (Some(min), Some(max)) if min > max => {
                return Err(FailureKind::InvalidOutput(format!(
                    "option {:?}: min_days {min} > max_days {max}",
                    o.code
                )));
            }
            _ => {}
        }
        options.push(RateOption {
            code: o.code,
            carrier: o.carrier,
            service: o.service,
            amount,
            min_days: o.min_days,
            max_days: o.max_days,
        });
    }
    Ok(ShippingOutput { options })
}

impl Runtime {
    /// Calls a shipping plugin and checks its rate options.
    pub fn shipping(
        &self,
        call: Call<'_>,
        input: &ShippingInput,
    ) -> Result<Outcome<ShippingOutput>, CallError> {
        let wire = input_to_wit(input);
        let sizing = Sizing { lines: input.items.len(), input_bytes: wire.wire_size() };
        self.invoke(
            call,
            "rates",
            sizing,
            None,
            |pre, store| match pre {
                WorldPre::Shipping(p) => {
                    Some(p.instantiate(&mut *store).and_then(|i| {
                        i.mercato_plugin_shipping().call_rates(&mut *store, call.config, &wire)
                    }))
                }
                _ => None,
            },
            |raw, limits| {
                check_output_size(raw.wire_size(), limits.max_output_bytes)?;
                output_from_wit(input, raw)
            },
        )
    }
}
