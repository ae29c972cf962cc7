//! The records of `mercato:plugin@0.2.0`'s tax call as the host lowers
//! them itself, and its `calculate` export found once at install. Kept
//! apart from the call path so the registry can hold a [`Calculate`]
//! without reaching into the adapter that calls it.

use std::mem::MaybeUninit;

use wasmtime::component::__internal::{InterfaceType, LowerContext};
use wasmtime::component::{Component, ComponentExportIndex, ComponentType, Lower};

use crate::runtime::install;
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
    pub(super) currency: &'a str,
    pub(super) text: String,
    pub(super) lines: Vec<Line>,
    #[component(name = "shipping-amount")]
    pub(super) shipping_amount: i64,
    #[component(name = "ship-from")]
    pub(super) ship_from: Option<AddressRef<'a>>,
    #[component(name = "ship-to")]
    pub(super) ship_to: AddressRef<'a>,
    pub(super) customer: Option<wit::Customer>,
    #[component(name = "prices-include-tax")]
    pub(super) prices_include_tax: bool,
}

/// `address`, lowered straight from the input's address instead of a copy.
#[derive(ComponentType, Lower)]
#[component(record)]
pub(super) struct AddressRef<'a> {
    pub(super) name: &'a str,
    pub(super) line1: &'a str,
    pub(super) line2: Option<&'a str>,
    pub(super) city: &'a str,
    pub(super) region: &'a str,
    #[component(name = "postal-code")]
    pub(super) postal_code: &'a str,
    pub(super) country: &'a str,
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
    pub(super) id: w::Span,
    #[component(name = "product-id")]
    pub(super) product_id: w::Span,
    pub(super) sku: w::Span,
    pub(super) quantity: u32,
    pub(super) amount: i64,
    #[component(name = "tax-code")]
    pub(super) tax_code: Option<w::Span>,
}

/// Canonical ABI layout of `taxable-line`: three spans of two u32 at 0, 8
/// and 16, the quantity at 24, the s64 amount at 32 (8-aligned), then
/// `option<span>` as a one-byte case at 40 and its span at 44; 56 bytes in
/// all, 8-aligned. The tests check it against the derived ABI.
pub(super) const LINE_SIZE: usize = 56;

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

/// `calculate`'s results, as the host lifts them.
pub(super) type Results = (Result<w::TaxOutput, wit::PluginError>,);

/// The `calculate` function of a component's 0.2.0 tax export: found and
/// type-checked against the host's own records once, at install, so that a
/// call does neither.
pub(crate) struct Calculate(pub(super) ComponentExportIndex);

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
