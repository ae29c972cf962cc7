//! `mercato:plugin@0.2.0`: the lines' text crosses as one string the lines
//! point into, and answers name lines by position, so the host makes a
//! fixed number of allocation calls into the plugin whatever the size of
//! the cart, and lifts no line ids back.

use std::mem::MaybeUninit;

use mercato_sdk::tax::{LineTax, ShippingTax, TaxInput, TaxOutput};
use wasmtime::component::__internal::{InterfaceType, LowerContext};
use wasmtime::component::{Component, ComponentExportIndex, ComponentType, Lower, TypedFunc};

use super::{checked, rate_table};
use crate::runtime::adapters::customer_to_wit;
use crate::runtime::error::FailureKind;
use crate::runtime::install;
use crate::runtime::registry::WorldPre;
use crate::runtime::size::record_size;
use crate::runtime::store::HostState;
use crate::runtime::wit::tax_v2::exports::mercato::plugin::tax as w;
use crate::runtime::wit::{self, tax_v2};

record_size! {
    w::Span { start, len }
    Line { id, product_id, sku, quantity, amount, tax_code }
    Input<'_> { currency, text, lines, shipping_amount, ship_from, ship_to, customer, prices_include_tax }
    AddressRef<'_> { name, line1, line2, city, region, postal_code, country }
    w::TaxRate { jurisdiction, rate, label }
    w::TaxAmount { rate, amount }
    w::LineTax { line, rate, amount }
    w::TaxOutput { rates, lines, shipping }
}

/// `tax-input` as the host sends it: the generated record, except that its
/// lines are [`Line`]s and its addresses are borrowed from the input.
#[derive(ComponentType, Lower)]
#[component(record)]
pub(super) struct Input<'a> {
    currency: &'a str,
    text: String,
    lines: Vec<Line>,
    #[component(name = "shipping-amount")]
    shipping_amount: i64,
    #[component(name = "ship-from")]
    ship_from: Option<AddressRef<'a>>,
    #[component(name = "ship-to")]
    ship_to: AddressRef<'a>,
    customer: Option<wit::Customer>,
    #[component(name = "prices-include-tax")]
    prices_include_tax: bool,
}

/// `address`, lowered straight from the input's address instead of a copy.
#[derive(ComponentType, Lower)]
#[component(record)]
pub(super) struct AddressRef<'a> {
    name: &'a str,
    line1: &'a str,
    line2: Option<&'a str>,
    city: &'a str,
    region: &'a str,
    #[component(name = "postal-code")]
    postal_code: &'a str,
    country: &'a str,
}

impl<'a> From<&'a mercato_sdk::Address> for AddressRef<'a> {
    fn from(a: &'a mercato_sdk::Address) -> AddressRef<'a> {
        AddressRef {
            name: &a.name,
            line1: &a.line1,
            line2: a.line2.as_deref(),
            city: &a.city,
            region: &a.region,
            postal_code: &a.postal_code,
            country: &a.country,
        }
    }
}

/// `taxable-line`. Its type is derived, so it is checked against the
/// component's own record like any generated type; its lowering is written
/// here, because the generated one writes every field of every line as a
/// separate bounds-checked store through the instance's memory (about 1,300
/// host instructions a line, the largest host cost of a 20-line call), where
/// a list of lines needs one borrow of memory and a copy per line.
#[derive(Clone, Copy, ComponentType)]
#[component(record)]
pub(super) struct Line {
    id: w::Span,
    #[component(name = "product-id")]
    product_id: w::Span,
    sku: w::Span,
    quantity: u32,
    amount: i64,
    #[component(name = "tax-code")]
    tax_code: Option<w::Span>,
}

/// Canonical ABI layout of `taxable-line`: three spans of two u32 at 0, 8
/// and 16, the quantity at 24, the s64 amount at 32 (8-aligned), then
/// `option<span>` as a one-byte case at 40 and its span at 44; 56 bytes in
/// all, 8-aligned. The tests check it against the derived ABI.
const LINE_SIZE: usize = 56;

impl Line {
    fn write(&self, out: &mut [u8]) {
        let out: &mut [u8; LINE_SIZE] = out.try_into().expect("a whole line");
        let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);
        let code = self.tax_code.unwrap_or(w::Span { start: 0, len: 0 });
        for (at, s) in [(0, self.id), (8, self.product_id), (16, self.sku), (44, code)] {
            put(at, &s.start.to_le_bytes());
            put(at + 4, &s.len.to_le_bytes());
        }
        put(24, &self.quantity.to_le_bytes());
        put(28, &[0; 4]);
        put(32, &self.amount.to_le_bytes());
        put(40, &[u8::from(self.tax_code.is_some()), 0, 0, 0]);
        put(52, &[0; 4]);
    }
}

// SAFETY: `Lower` is unsafe because a lowering must write what the derived
// `ComponentType` (the layout above) says; `write` fills exactly one line's
// bytes, and memory is reached only through bounds-checked slices, so a
// wrong offset would panic, never write out of bounds.
#[allow(unsafe_code)]
unsafe impl Lower for Line {
    fn linear_lower_to_flat<T>(
        &self,
        _cx: &mut LowerContext<'_, T>,
        _ty: InterfaceType,
        _dst: &mut MaybeUninit<Self::Lower>,
    ) -> wasmtime::Result<()> {
        // A line only ever crosses inside `tax-input.lines`, in memory.
        wasmtime::bail!("a taxable line is only sent inside a list")
    }

    fn linear_lower_to_memory<T>(
        &self,
        cx: &mut LowerContext<'_, T>,
        _ty: InterfaceType,
        offset: usize,
    ) -> wasmtime::Result<()> {
        self.write(cx.get::<LINE_SIZE>(offset));
        Ok(())
    }

    fn linear_store_list_to_memory<T>(
        cx: &mut LowerContext<'_, T>,
        _ty: InterfaceType,
        offset: usize,
        items: &[Self],
    ) -> wasmtime::Result<()> {
        let memory = &mut cx.as_slice_mut()[offset..][..items.len() * LINE_SIZE];
        for (out, line) in memory.chunks_exact_mut(LINE_SIZE).zip(items) {
            line.write(out);
        }
        Ok(())
    }
}

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

/// `calculate`'s results, as the host lifts them.
type Results = (Result<w::TaxOutput, wit::PluginError>,);

/// The `calculate` function of a component's 0.2.0 tax export: found and
/// type-checked against the host's own records once, at install, so that a
/// call does neither.
pub(crate) struct Calculate(ComponentExportIndex);

impl Calculate {
    /// Finds `calculate` and checks its type on one instance of `pre`.
    pub(crate) fn check(
        component: &Component,
        pre: &tax_v2::TaxPluginPre<HostState>,
        store: &mut wasmtime::Store<HostState>,
    ) -> wasmtime::Result<Calculate> {
        let tax = component.get_export_index(None, format!("mercato:plugin/tax@{}", install::V0_2));
        let index = tax
            .and_then(|tax| component.get_export_index(Some(&tax), "calculate"))
            .ok_or_else(|| wasmtime::format_err!("the 0.2.0 tax export has no calculate function"))?;
        let instance = pre.instance_pre().instantiate(&mut *store)?;
        instance.get_typed_func::<(&str, &Input), Results>(&mut *store, &index)?;
        Ok(Calculate(index))
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
    fn the_hand_written_line_layout_is_the_canonical_one() {
        assert_eq!(<Line as ComponentType>::SIZE32, LINE_SIZE);
        assert_eq!(<Line as ComponentType>::ALIGN32, 8);
        let line = Line {
            id: w::Span { start: 1, len: 2 },
            product_id: w::Span { start: 3, len: 4 },
            sku: w::Span { start: 5, len: 6 },
            quantity: 7,
            amount: -8,
            tax_code: Some(w::Span { start: 9, len: 10 }),
        };
        let mut out = [0xffu8; LINE_SIZE];
        line.write(&mut out);
        let u32_at = |at: usize| u32::from_le_bytes(out[at..at + 4].try_into().unwrap());
        let fields: Vec<u32> = [0, 4, 8, 12, 16, 20, 24, 44, 48].into_iter().map(u32_at).collect();
        assert_eq!(fields, [1, 2, 3, 4, 5, 6, 7, 9, 10]);
        assert_eq!(i64::from_le_bytes(out[32..40].try_into().unwrap()), -8);
        assert_eq!(out[40], 1, "option case: some");
        Line { tax_code: None, ..line }.write(&mut out);
        assert_eq!(out[40], 0, "option case: none");
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
