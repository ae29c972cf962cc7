wit_bindgen::generate!({
    path: "../wit/v0.2.0",
    world: "tax-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_tax_world",
    default_bindings_module: "mercato_sdk::__private::tax",
    runtime_path: "mercato_sdk::__private::wit_bindgen::rt",
});

super::shared_glue!(Tax);

use self::exports::mercato::plugin::tax as t;
use crate::tax as sdk;

/// Builds the answer's table of distinct taxes as lines refer to them,
/// formatting each distinct rate once.
#[derive(Default)]
struct RateTable {
    rates: Vec<t::TaxRate>,
    keys: Vec<(crate::Rate, usize)>,
}

impl RateTable {
    fn amounts(&mut self, lines: Vec<sdk::TaxLine>) -> Vec<t::TaxAmount> {
        lines.into_iter().map(|l| t::TaxAmount { amount: l.amount, rate: self.index(l) }).collect()
    }

    fn index(&mut self, l: sdk::TaxLine) -> u32 {
        let found = self.keys.iter().find(|(r, i)| {
            *r == l.rate && self.rates[*i].jurisdiction == l.jurisdiction && self.rates[*i].label == l.label
        });
        let i = match found {
            Some((_, i)) => *i,
            None => {
                self.rates.push(t::TaxRate {
                    jurisdiction: l.jurisdiction,
                    rate: l.rate.to_wire(),
                    label: l.label,
                });
                self.keys.push((l.rate, self.rates.len() - 1));
                self.rates.len() - 1
            }
        };
        i as u32
    }
}

/// The `calculate` export.
pub fn calculate<T: sdk::Tax>(config: String, input: t::TaxInput) -> Result<t::TaxOutput, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let text = input.text.as_str();
    // `text` is valid UTF-8 (the canonical ABI checks it); `get` checks each
    // span's bounds and character boundaries.
    let span = |s: t::Span| {
        let start = s.start as usize;
        match text.get(start..start.saturating_add(s.len as usize)) {
            Some(part) => Ok(String::from(part)),
            None => Err(invalid_input(format!("span {}+{} is outside the line text", s.start, s.len))),
        }
    };
    let mut lines = Vec::with_capacity(input.lines.len());
    for l in &input.lines {
        lines.push(sdk::TaxableLine {
            id: span(l.id)?,
            product_id: span(l.product_id)?,
            sku: span(l.sku)?,
            quantity: l.quantity,
            amount: l.amount,
            tax_code: match l.tax_code {
                Some(code) => Some(span(code)?),
                None => None,
            },
        });
    }
    let input = sdk::TaxInput {
        currency: currency_in(&input.currency)?,
        lines,
        shipping_amount: input.shipping_amount,
        ship_from: input.ship_from.map(address_in),
        ship_to: address_in(input.ship_to),
        customer: input.customer.map(customer_in),
        prices_include_tax: input.prices_include_tax,
    };
    let output = T::calculate(&config, &input).map_err(err_out)?;
    let mut table = RateTable::default();
    let mut lines = Vec::with_capacity(output.lines.len());
    let mut sorted = true;
    let mut positions = Positions { lines: &input.lines, index: None };
    for (n, l) in output.lines.into_iter().enumerate() {
        let line = positions.of(n, &l.line_id);
        sorted &= lines.last().is_none_or(|last: &t::LineTax| last.line <= line);
        if line as usize == input.lines.len() {
            // Sent even without taxes, so the host sees the unknown line.
            lines.push(t::LineTax { line, rate: 0, amount: 0 });
            continue;
        }
        for tax in l.taxes {
            lines.push(t::LineTax { line, amount: tax.amount, rate: table.index(tax) });
        }
    }
    if !sorted {
        lines.sort_by_key(|l| l.line);
    }
    let shipping = table.amounts(output.shipping);
    Ok(t::TaxOutput { rates: table.rates, lines, shipping })
}

/// Finds the line an answer names: usually the one at the answer's own
/// position; an index is built only for an answer out of input order. An
/// id the input does not have is logged and sent as a position past the
/// end, which the host refuses as invalid output.
struct Positions<'a> {
    lines: &'a [sdk::TaxableLine],
    index: Option<std::collections::HashMap<&'a str, usize>>,
}

impl<'a> Positions<'a> {
    fn of(&mut self, n: usize, id: &str) -> u32 {
        let lines = self.lines;
        let found = match lines.get(n) {
            Some(l) if l.id == id => Some(n),
            _ => self
                .index
                .get_or_insert_with(|| lines.iter().enumerate().map(|(i, l)| (l.id.as_str(), i)).collect())
                .get(id)
                .copied(),
        };
        found.unwrap_or_else(|| {
            log(crate::log::Level::Error, &format!("tax for unknown line id {id:?}"));
            lines.len()
        }) as u32
    }
}

/// Exports a [`crate::tax::Tax`] implementation as the component's tax world.
#[macro_export]
macro_rules! export_tax {
    ($plugin:ty) => {
        const _: () = {
            struct __MercatoPlugin;
            $crate::__mercato_describe!(tax, $plugin);
            impl $crate::__private::tax::exports::mercato::plugin::tax::Guest for __MercatoPlugin {
                fn calculate(
                    config: ::std::string::String,
                    input: $crate::__private::tax::exports::mercato::plugin::tax::TaxInput,
                ) -> ::std::result::Result<
                    $crate::__private::tax::exports::mercato::plugin::tax::TaxOutput,
                    $crate::__private::tax::wit::PluginError,
                > {
                    $crate::__private::tax::calculate::<$plugin>(config, input)
                }
            }
    $crate::__private::tax::__export_tax_world!(__MercatoPlugin with_types_in $crate::__private::tax);
        };
    };
}
