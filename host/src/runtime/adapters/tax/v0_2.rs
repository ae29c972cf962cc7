//! `mercato:plugin@0.2.0`: the lines' text crosses as one string the lines
//! point into, and answers name lines by position, so the host makes a
//! fixed number of allocation calls into the plugin whatever the size of
//! the cart, and lifts no line ids back.

use mercato_sdk::tax::{LineTax, ShippingTax, TaxInput, TaxOutput};
use wasmtime::component::TypedFunc;

use super::wire::{AddressRef, Calculate, Input, Line, Results};
use super::{checked, rate_table};
use crate::runtime::adapters::customer_to_wit;
use crate::runtime::error::FailureKind;
use crate::runtime::registry::WorldPre;
use crate::runtime::store::HostState;
use crate::runtime::wit::tax_v2::exports::mercato::plugin::tax as w;
use crate::runtime::wit::{self, tax_v2};

pub(super) fn input_to_wit<'a>(input: &'a TaxInput<'_>) -> Input<'a> {
    let size = |l: &mercato_sdk::tax::TaxableLine| {
        l.id.len() + l.product_id.len() + l.sku.len() + l.tax_code.as_deref().map_or(0, str::len)
    };
    let mut text = String::with_capacity(input.lines.iter().map(size).sum());
    // Inputs are capped far below 4 GiB, so offsets fit in u32.
    let mut span = |s: &str| {
        let start = text.len() as u32;
        text.push_str(s);
        w::Span { start, len: s.len() as u32 }
    };
    let lines = input
        .lines
        .iter()
        .map(|l| Line {
            id: span(&l.id),
            product_id: span(&l.product_id),
            sku: span(&l.sku),
            quantity: l.quantity,
            amount: l.amount,
            tax_code: l.tax_code.as_deref().map(&mut span),
        })
        .collect();
    Input {
        currency: input.currency.code(),
        text,
        lines,
        shipping_amount: input.shipping_amount,
        ship_from: input.ship_from.as_ref().map(AddressRef::from),
        ship_to: AddressRef::from(&input.ship_to),
        customer: input.customer.as_ref().map(customer_to_wit),
        prices_include_tax: input.prices_include_tax,
    }
}

/// Instantiates and calls `calculate` with the host's own input record; the
/// generated bindings are used for the rest of the world.
pub(super) fn call(
    pre: &WorldPre,
    store: &mut wasmtime::Store<HostState>,
    config: &str,
    wire: &Input,
) -> Option<wasmtime::Result<Result<w::TaxOutput, wit::PluginError>>> {
    let WorldPre::TaxV2(pre, calculate) = pre else { return None };
    Some(call_in(pre, calculate, store, config, wire))
}

fn call_in(
    pre: &tax_v2::TaxPluginPre<HostState>,
    calculate: &Calculate,
    store: &mut wasmtime::Store<HostState>,
    config: &str,
    wire: &Input,
) -> wasmtime::Result<Result<w::TaxOutput, wit::PluginError>> {
    let instance = pre.instance_pre().instantiate(&mut *store)?;
    let func = instance
        .get_func(&mut *store, calculate.0)
        .ok_or_else(|| wasmtime::format_err!("the component has no calculate function"))?;
    // SAFETY: `Calculate::check` type-checked this export against exactly
    // these parameter and result types, at install, on an instance of the
    // same pre-instantiated component; every instance of a component has the
    // same export types, and this signature holds no resources.
    #[allow(unsafe_code)]
    let func = unsafe { TypedFunc::<(&str, &Input), Results>::new_unchecked(func) };
    let (result,) = func.call(&mut *store, (config, wire))?;
    Ok(result)
}

/// The answer as the SDK's table, checked against the input.
pub(super) fn output_from_wit(input: &TaxInput<'_>, raw: w::TaxOutput) -> Result<TaxOutput, FailureKind> {
    let rates = rate_table(raw.rates.into_iter().map(|t| (t.jurisdiction, t.rate, t.label)))?;
    let lines = raw.lines.iter().map(|t| LineTax { line: t.line, rate: t.rate, amount: t.amount });
    let shipping = raw.shipping.iter().map(|t| ShippingTax { rate: t.rate, amount: t.amount });
    checked(input, TaxOutput { rates, lines: lines.collect(), shipping: shipping.collect() })
}

#[cfg(test)]
mod tests {
    use mercato_sdk::tax::TaxableLine;
    use mercato_sdk::{Address, Currency};

    use super::*;

    fn input() -> TaxInput<'static> {
        let line = |id: &'static str, code: Option<&'static str>| TaxableLine {
            id: id.into(),
            product_id: format!("prod-{id}").into(),
            sku: format!("SKU-{id}").into(),
            quantity: 1,
            amount: 1000,
            tax_code: code.map(Into::into),
        };
        TaxInput {
            currency: Currency::USD,
            lines: vec![line("a", None), line("bé", Some("books"))],
            shipping_amount: 500,
            ship_from: None,
            ship_to: Address { country: "US".into(), region: "CA".into(), ..Address::default() },
            customer: None,
            prices_include_tax: false,
        }
    }

    fn rate() -> w::TaxRate {
        w::TaxRate { jurisdiction: "US-CA".into(), rate: "0.0725".into(), label: "CA sales tax".into() }
    }

    /// Taxes on lines as (line, rate, amount).
    type Entries = &'static [(u32, u32, i64)];

    fn answer(lines: &[(u32, u32, i64)]) -> w::TaxOutput {
        let lines = lines.iter().map(|&(line, rate, amount)| w::LineTax { line, rate, amount }).collect();
        w::TaxOutput { rates: vec![rate()], lines, shipping: vec![w::TaxAmount { rate: 0, amount: 36 }] }
    }

    #[test]
    fn line_text_crosses_as_one_string_of_spans() {
        let input = input();
        let wire = input_to_wit(&input);
        let text = |s: w::Span| &wire.text[s.start as usize..(s.start + s.len) as usize];
        let second = &wire.lines[1];
        assert_eq!((text(second.id), text(second.product_id), text(second.sku)), ("bé", "prod-bé", "SKU-bé"));
        assert_eq!(second.tax_code.map(text), Some("books"));
        assert!(wire.lines[0].tax_code.is_none());
        assert_eq!(wire.text, "aprod-aSKU-abéprod-béSKU-bébooks");
    }

    #[test]
    fn the_answer_is_the_table_it_sent() {
        let out = output_from_wit(&input(), answer(&[(1, 0, 72)])).unwrap();
        assert_eq!(out.lines, [LineTax { line: 1, rate: 0, amount: 72 }], "a line not listed is not taxed");
        assert_eq!(
            (out.rates[0].jurisdiction.as_str(), out.rates[0].rate.to_wire()),
            ("US-CA", "0.0725".into())
        );
        assert_eq!(
            out.line_taxes(1).map(|(r, a)| (r.label.as_str(), a)).collect::<Vec<_>>(),
            [("CA sales tax", 72)]
        );
        assert_eq!(out.shipping, [ShippingTax { rate: 0, amount: 36 }]);
    }

    #[test]
    fn bad_positions_are_invalid_output() {
        let cases: [(Entries, &str); 5] = [
            (&[(2, 0, 1)], "tax for unknown line 2 (the input has 2 lines)"),
            (&[(1, 0, 1), (0, 0, 1)], "out of line order"),
            (&[(0, 0, 1), (0, 0, 2)], "line \"a\" taxed twice at rates[0]"),
            (&[(0, 1, 1)], "no rate 1"),
            (&[(0, 0, 1001)], "more than the amount taxed"),
        ];
        for (lines, needle) in cases {
            match output_from_wit(&input(), answer(lines)) {
                Err(FailureKind::InvalidOutput(msg)) => assert!(msg.contains(needle), "{lines:?}: {msg}"),
                other => panic!("{lines:?}: expected invalid output, got {other:?}"),
            }
        }
    }

    #[test]
    fn too_many_taxes_on_a_line_are_refused_before_anything_else() {
        let lines: Vec<(u32, u32, i64)> = (0..1000).map(|_| (0, 0, 1)).collect();
        match output_from_wit(&input(), answer(&lines)) {
            Err(FailureKind::InvalidOutput(msg)) => {
                assert!(msg.contains("1000 taxes on line \"a\""), "{msg}")
            }
            other => panic!("expected invalid output, got {other:?}"),
        }
    }
}
