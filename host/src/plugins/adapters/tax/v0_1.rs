//! `mercato:plugin@0.1.0`: every line's strings cross on their own and
//! answers name lines by id.

use std::collections::HashMap;

use mercato_sdk::tax::{LineTax, TaxInput, TaxOutput};

use super::{On, rate_table, taxes};
use crate::plugins::adapters::{address_to_wit, customer_to_wit};
use crate::plugins::bindings::tax::exports::mercato::plugin::tax as w;
use crate::plugins::bindings::wit;
use crate::plugins::error::FailureKind;
use crate::plugins::runtime::WorldPre;
use crate::plugins::size::record_size;
use crate::plugins::store::HostState;

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

pub(super) fn input_to_wit(input: &TaxInput) -> w::TaxInput {
    w::TaxInput {
        currency: input.currency.code().to_owned(),
        lines: input
            .lines
            .iter()
            .map(|l| w::TaxableLine {
                id: l.id.clone(),
                product_id: l.product_id.clone(),
                sku: l.sku.clone(),
                quantity: l.quantity,
                amount: l.amount,
                tax_code: l.tax_code.clone(),
            })
            .collect(),
        shipping_amount: input.shipping_amount,
        ship_from: input.ship_from.as_ref().map(address_to_wit),
        ship_to: address_to_wit(&input.ship_to),
        customer: input.customer.as_ref().map(customer_to_wit),
        prices_include_tax: input.prices_include_tax,
    }
}

pub(super) fn output_from_wit(input: &TaxInput, raw: w::TaxOutput) -> Result<TaxOutput, FailureKind> {
    // Answers usually follow the input's order; an index is built only for
    // an answer that does not.
    let mut index: Option<HashMap<&str, usize>> = None;
    let mut seen = vec![false; input.lines.len()];
    let rates = rate_table(raw.rates.into_iter().map(|t| (t.jurisdiction, t.rate, t.label)))?;
    let mut lines = Vec::with_capacity(raw.lines.len());
    for (n, l) in raw.lines.into_iter().enumerate() {
        let i = match input.lines.get(n) {
            Some(line) if line.id == l.line_id => n,
            _ => *index
                .get_or_insert_with(|| {
                    input.lines.iter().enumerate().map(|(i, l)| (l.id.as_str(), i)).collect()
                })
                .get(l.line_id.as_str())
                .ok_or_else(|| {
                    FailureKind::InvalidOutput(format!("tax for unknown line id {:?}", l.line_id))
                })?,
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(FailureKind::InvalidOutput(format!("line {:?} taxed twice", l.line_id)));
        }
        let list = l.taxes.iter().map(|t| (t.rate, t.amount));
        let taxes = taxes(list, input.lines[i].amount, On::Line(&l.line_id), &rates)?;
        lines.push(LineTax { taxes, line_id: l.line_id });
    }
    let list = raw.shipping.iter().map(|t| (t.rate, t.amount));
    let shipping = taxes(list, input.shipping_amount, On::Shipping, &rates)?;
    Ok(TaxOutput { lines, shipping })
}
