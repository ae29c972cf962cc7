use std::collections::HashMap;

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
    w::TaxRate { jurisdiction, rate, label }
    w::TaxAmount { rate, amount }
    w::LineTax { line_id, taxes }
    w::TaxOutput { rates, lines, shipping }
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

/// Where a tax applies, named only when something is wrong with it.
#[derive(Clone, Copy)]
enum On<'a> {
    Line(&'a str),
    Shipping,
}

impl std::fmt::Display for On<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            On::Line(id) => write!(f, "line {id:?}"),
            On::Shipping => f.write_str("shipping"),
        }
    }
}

/// Most distinct taxes in one answer.
const MAX_RATES: usize = 256;

/// The answer's table of distinct taxes, each checked once.
fn rate_table(raw: Vec<w::TaxRate>) -> Result<Vec<(String, Rate, String)>, FailureKind> {
    if raw.len() > MAX_RATES {
        return Err(FailureKind::InvalidOutput(format!(
            "{} distinct taxes (at most {MAX_RATES})",
            raw.len()
        )));
    }
    raw.into_iter()
        .enumerate()
        .map(|(i, t)| {
            let rate = Rate::parse(&t.rate).ok_or_else(|| {
                FailureKind::InvalidOutput(format!("rates[{i}]: {:?} is not a decimal", t.rate))
            })?;
            if rate.0 < Decimal::ZERO || rate.0 > Decimal::ONE {
                return Err(FailureKind::InvalidOutput(format!("rates[{i}]: {} is outside 0..1", t.rate)));
            }
            check_text("jurisdiction", &t.jurisdiction, true, 64)?;
            check_text("label", &t.label, false, 200)?;
            Ok((t.jurisdiction, rate, t.label))
        })
        .collect()
}

/// The taxes on one line or on shipping, each checked against the amount it taxes.
fn taxes(
    list: Vec<w::TaxAmount>,
    base: i64,
    on: On<'_>,
    rates: &[(String, Rate, String)],
) -> Result<Vec<TaxLine>, FailureKind> {
    if list.len() > MAX_TAXES_PER_TARGET {
        return Err(FailureKind::InvalidOutput(format!("{} taxes on {on}", list.len())));
    }
    list.into_iter()
        .map(|t| {
            let Some((jurisdiction, rate, label)) = rates.get(t.rate as usize) else {
                return Err(FailureKind::InvalidOutput(format!("tax on {on}: no rate {}", t.rate)));
            };
            if t.amount < 0 {
                return Err(FailureKind::InvalidOutput(format!("tax on {on}: negative tax {}", t.amount)));
            }
            if t.amount > base.max(0) {
                return Err(FailureKind::InvalidOutput(format!(
                    "tax on {on}: tax {} is more than the amount taxed ({base})",
                    t.amount
                )));
            }
            Ok(TaxLine {
                jurisdiction: jurisdiction.clone(),
                rate: *rate,
                amount: t.amount,
                label: label.clone(),
            })
        })
        .collect()
}

fn output_from_wit(input: &TaxInput, raw: w::TaxOutput) -> Result<TaxOutput, FailureKind> {
    // Answers usually follow the input's order; an index is built only for
    // an answer that does not.
    let mut index: Option<HashMap<&str, usize>> = None;
    let mut seen = vec![false; input.lines.len()];
    let rates = rate_table(raw.rates)?;
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
        let taxes = taxes(l.taxes, input.lines[i].amount, On::Line(&l.line_id), &rates)?;
        lines.push(LineTax { taxes, line_id: l.line_id });
    }
    let shipping = taxes(raw.shipping, input.shipping_amount, On::Shipping, &rates)?;
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
