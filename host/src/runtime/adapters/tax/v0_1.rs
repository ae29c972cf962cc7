//! `mercato:plugin@0.1.0`: every line's strings cross on their own and
//! answers name lines by id.

use std::collections::HashMap;

use mercato_sdk::tax::{LineTax, ShippingTax, TaxInput, TaxOutput};

use super::{checked, rate_table};
use crate::runtime::adapters::{address_to_wit, customer_to_wit};
use crate::runtime::error::FailureKind;
use crate::runtime::registry::WorldPre;
use crate::runtime::size::record_size;
use crate::runtime::store::HostState;
use crate::runtime::wit;
use crate::runtime::wit::tax::exports::mercato::plugin::tax as w;

record_size! {
    w::TaxableLine { id, product_id, sku, quantity, amount, tax_code }
    w::TaxInput { currency, lines, shipping_amount, ship_from, ship_to, customer, prices_include_tax }
    w::TaxRate { jurisdiction, rate, label }
    w::TaxAmount { rate, amount }
    w::LineTax { line_id, taxes }
    w::TaxOutput { rates, lines, shipping }
}

/// Instantiates and calls `calculate` through the generated bindings.
pub(super) fn call(
    pre: &WorldPre,
    store: &mut wasmtime::Store<HostState>,
    config: &str,
    wire: &w::TaxInput,
) -> Option<wasmtime::Result<Result<w::TaxOutput, wit::PluginError>>> {
    let WorldPre::Tax(pre) = pre else { return None };
    Some(
        pre.instantiate(&mut *store)
            .and_then(|i| i.mercato_plugin_tax().call_calculate(&mut *store, config, wire)),
    )
}

pub(super) fn input_to_wit(input: &TaxInput<'_>) -> w::TaxInput {
    w::TaxInput {
        currency: input.currency.code().to_owned(),
        lines: input
            .lines
            .iter()
            .map(|l| w::TaxableLine {
                id: l.id.to_string(),
                product_id: l.product_id.to_string(),
                sku: l.sku.to_string(),
                quantity: l.quantity,
                amount: l.amount,
                tax_code: l.tax_code.as_deref().map(str::to_owned),
            })
            .collect(),
        shipping_amount: input.shipping_amount,
        ship_from: input.ship_from.as_ref().map(address_to_wit),
        ship_to: address_to_wit(&input.ship_to),
        customer: input.customer.as_ref().map(customer_to_wit),
        prices_include_tax: input.prices_include_tax,
    }
}

/// The answer, whose lines are named by id, as the SDK's table of line
/// positions, checked against the input.
pub(super) fn output_from_wit(input: &TaxInput<'_>, raw: w::TaxOutput) -> Result<TaxOutput, FailureKind> {
    // Answers usually follow the input's order; an index is built only for
    // an answer that does not.
    let mut index: Option<HashMap<&str, usize>> = None;
    let mut seen = vec![false; input.lines.len()];
    let rates = rate_table(raw.rates.into_iter().map(|t| (t.jurisdiction, t.rate, t.label)))?;
    let mut lines = Vec::with_capacity(raw.lines.len());
    for (n, l) in raw.lines.iter().enumerate() {
        let i = match input.lines.get(n) {
            Some(line) if line.id == l.line_id => n,
            _ => *index
                .get_or_insert_with(|| input.lines.iter().enumerate().map(|(i, l)| (&*l.id, i)).collect())
                .get(l.line_id.as_str())
                .ok_or_else(|| {
                    FailureKind::InvalidOutput(format!("tax for unknown line id {:?}", l.line_id))
                })?,
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(FailureKind::InvalidOutput(format!("line {:?} taxed twice", l.line_id)));
        }
        // Positions come from the input, whose size is capped far below u32.
        lines.extend(l.taxes.iter().map(|t| LineTax { line: i as u32, rate: t.rate, amount: t.amount }));
    }
    // 0.1.0 answers may list lines in any order.
    lines.sort_by_key(|t| t.line);
    let shipping = raw.shipping.iter().map(|t| ShippingTax { rate: t.rate, amount: t.amount }).collect();
    checked(input, TaxOutput { rates, lines, shipping })
}
