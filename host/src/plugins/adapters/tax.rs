use std::collections::HashSet;

use mercato_sdk::Rate;
use mercato_sdk::tax::{LineTax, TaxInput, TaxLine, TaxOutput};
use rust_decimal::Decimal;

use super::{address_to_wit, check_output_size, check_text, customer_to_wit};
use crate::plugins::bindings::tax::exports::mercato::plugin::tax as w;
use crate::plugins::error::{CallError, FailureKind};
use crate::plugins::runtime::{Call, Outcome, Runtime, Sizing, WorldPre};
use crate::plugins::size::{WireSize, record_size};

record_size! {
    w::TaxableLine { id, product_id, sku, quantity, amount, tax_code }
    w::TaxInput { currency, lines, shipping_amount, ship_from, ship_to, customer, prices_include_tax }
    w::TaxLine { jurisdiction, rate, amount, label }
    w::LineTax { line_id, taxes }
    w::TaxOutput { lines, shipping }
}

/// Most taxes on one line or on shipping (country, state, county, city…).
const MAX_TAXES_PER_TARGET: usize = 16;

fn input_to_wit(input: &TaxInput) -> w::TaxInput {
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

/// One tax line, checked against the amount it taxes.
fn tax_line(t: w::TaxLine, base: i64, target: &str) -> Result<TaxLine, FailureKind> {
    let invalid = |msg: String| FailureKind::InvalidOutput(format!("tax on {target}: {msg}"));
    let rate = Rate::parse(&t.rate).ok_or_else(|| invalid(format!("rate {:?} is not a decimal", t.rate)))?;
    if rate.0 < Decimal::ZERO || rate.0 > Decimal::ONE {
        return Err(invalid(format!("rate {} is outside 0..1", t.rate)));
    }
    if t.amount < 0 {
        return Err(invalid(format!("negative tax {}", t.amount)));
    }
    if t.amount > base.max(0) {
        return Err(invalid(format!("tax {} is more than the amount taxed ({base})", t.amount)));
    }
    check_text("jurisdiction", &t.jurisdiction, true, 64)?;
    check_text("label", &t.label, false, 200)?;
    Ok(TaxLine { jurisdiction: t.jurisdiction, rate, amount: t.amount, label: t.label })
}

fn taxes(list: Vec<w::TaxLine>, base: i64, target: &str) -> Result<Vec<TaxLine>, FailureKind> {
    if list.len() > MAX_TAXES_PER_TARGET {
        return Err(FailureKind::InvalidOutput(format!("{} taxes on {target}", list.len())));
    }
    list.into_iter().map(|t| tax_line(t, base, target)).collect()
}

fn output_from_wit(input: &TaxInput, raw: w::TaxOutput) -> Result<TaxOutput, FailureKind> {
    let mut seen = HashSet::with_capacity(raw.lines.len());
    let mut lines = Vec::with_capacity(raw.lines.len());
    for l in raw.lines {
        let Some(line) = input.lines.iter().find(|x| x.id == l.line_id) else {
            return Err(FailureKind::InvalidOutput(format!("tax for unknown line id {:?}", l.line_id)));
        };
        if !seen.insert(l.line_id.clone()) {
            return Err(FailureKind::InvalidOutput(format!("line {:?} taxed twice", l.line_id)));
        }
        let target = format!("line {:?}", l.line_id);
        lines.push(LineTax { taxes: taxes(l.taxes, line.amount, &target)?, line_id: l.line_id });
    }
    let shipping = taxes(raw.shipping, input.shipping_amount, "shipping")?;
    Ok(TaxOutput { lines, shipping })
}

impl Runtime {
    /// Calls a tax plugin and checks its tax lines.
    pub fn tax(&self, call: Call<'_>, input: &TaxInput) -> Result<Outcome<TaxOutput>, CallError> {
        let wire = input_to_wit(input);
        let sizing = Sizing { lines: input.lines.len(), input_bytes: wire.wire_size() };
        self.invoke(
            call,
            "calculate",
            sizing,
            None,
            |pre, store| match pre {
                WorldPre::Tax(p) => Some(
                    p.instantiate(&mut *store)
                        .and_then(|i| i.mercato_plugin_tax().call_calculate(&mut *store, call.config, &wire)),
                ),
                _ => None,
            },
            |raw, limits| {
                check_output_size(raw.wire_size(), limits.max_output_bytes)?;
                output_from_wit(input, raw)
            },
        )
    }
}
