//! `mercato:plugin@0.2.0`: the lines' text crosses as one string the lines
//! point into, and answers name lines by position, so the host makes a
//! fixed number of allocation calls into the plugin whatever the size of
//! the cart, and lifts no line ids back.

use mercato_sdk::tax::{LineTax, TaxInput, TaxOutput};

use super::{On, rate_table, taxes};
use crate::plugins::adapters::{address_to_wit, customer_to_wit};
use crate::plugins::bindings::tax_v2::exports::mercato::plugin::tax as w;
use crate::plugins::error::FailureKind;
use crate::plugins::size::record_size;

record_size! {
    w::Span { start, len }
    w::TaxableLine { id, product_id, sku, quantity, amount, tax_code }
    w::TaxInput { currency, text, lines, shipping_amount, ship_from, ship_to, customer, prices_include_tax }
    w::TaxRate { jurisdiction, rate, label }
    w::TaxAmount { rate, amount }
    w::LineTax { line, rate, amount }
    w::TaxOutput { rates, lines, shipping }
}

pub(super) fn input_to_wit(input: &TaxInput) -> w::TaxInput {
    let size = |l: &mercato_sdk::tax::TaxableLine| {
        l.id.len() + l.product_id.len() + l.sku.len() + l.tax_code.as_ref().map_or(0, String::len)
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
        .map(|l| w::TaxableLine {
            id: span(&l.id),
            product_id: span(&l.product_id),
            sku: span(&l.sku),
            quantity: l.quantity,
            amount: l.amount,
            tax_code: l.tax_code.as_deref().map(&mut span),
        })
        .collect();
    w::TaxInput {
        currency: input.currency.code().to_owned(),
        text,
        lines,
        shipping_amount: input.shipping_amount,
        ship_from: input.ship_from.as_ref().map(address_to_wit),
        ship_to: address_to_wit(&input.ship_to),
        customer: input.customer.as_ref().map(customer_to_wit),
        prices_include_tax: input.prices_include_tax,
    }
}

/// Every input line gets its `LineTax`, in input order; the answer's taxes
/// must come in line order, at most one per rate on a line.
pub(super) fn output_from_wit(input: &TaxInput, raw: w::TaxOutput) -> Result<TaxOutput, FailureKind> {
    let rates = rate_table(raw.rates.into_iter().map(|t| (t.jurisdiction, t.rate, t.label)))?;
    let mut entries = raw.lines.as_slice();
    let mut lines = Vec::with_capacity(input.lines.len());
    for (i, line) in input.lines.iter().enumerate() {
        let n = entries.iter().take_while(|e| e.line as usize == i).count();
        let (mine, rest) = entries.split_at(n);
        entries = rest;
        let list = mine.iter().map(|e| (e.rate, e.amount));
        let taxes = taxes(list, line.amount, On::Line(&line.id), &rates)?;
        // At most MAX_TAXES_PER_TARGET entries, checked above.
        if let Some(e) =
            mine.iter().enumerate().find_map(|(k, e)| mine[..k].iter().find(|p| p.rate == e.rate))
        {
            return Err(FailureKind::InvalidOutput(format!(
                "line {:?} taxed twice at rates[{}]",
                line.id, e.rate
            )));
        }
        lines.push(LineTax { line_id: line.id.clone(), taxes });
    }
    if let Some(e) = entries.first() {
        let count = input.lines.len();
        return Err(FailureKind::InvalidOutput(if e.line as usize >= count {
            format!("tax for unknown line {} (the input has {count} lines)", e.line)
        } else {
            format!("line taxes out of line order (line {} comes after a later line)", e.line)
        }));
    }
    let list = raw.shipping.iter().map(|t| (t.rate, t.amount));
    let shipping = taxes(list, input.shipping_amount, On::Shipping, &rates)?;
    Ok(TaxOutput { lines, shipping })
}

#[cfg(test)]
mod tests {
    use mercato_sdk::tax::TaxableLine;
    use mercato_sdk::{Address, Currency};

    use super::*;

    fn input() -> TaxInput {
        let line = |id: &str, code: Option<&str>| TaxableLine {
            id: id.into(),
            product_id: format!("prod-{id}"),
            sku: format!("SKU-{id}"),
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
        let wire = input_to_wit(&input());
        let text = |s: w::Span| &wire.text[s.start as usize..(s.start + s.len) as usize];
        let second = &wire.lines[1];
        assert_eq!((text(second.id), text(second.product_id), text(second.sku)), ("bé", "prod-bé", "SKU-bé"));
        assert_eq!(second.tax_code.map(text), Some("books"));
        assert!(wire.lines[0].tax_code.is_none());
        assert_eq!(wire.text, "aprod-aSKU-abéprod-béSKU-bébooks");
    }

    #[test]
    fn every_line_gets_its_taxes_in_input_order() {
        let out = output_from_wit(&input(), answer(&[(1, 0, 72)])).unwrap();
        let ids: Vec<&str> = out.lines.iter().map(|l| l.line_id.as_str()).collect();
        assert_eq!(ids, ["a", "bé"]);
        assert!(out.lines[0].taxes.is_empty(), "a line not listed is not taxed");
        assert_eq!(
            (out.lines[1].taxes[0].amount, out.lines[1].taxes[0].jurisdiction.as_str()),
            (72, "US-CA")
        );
        assert_eq!(out.shipping[0].amount, 36);
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
