wit_bindgen::generate!({
    path: "../wit/v0.2.0",
    world: "tax-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_tax_world",
    default_bindings_module: "mercato_sdk::__private::tax",
    runtime_path: "mercato_sdk::__private::wit_bindgen::rt",
});

super::shared_glue!(Tax);

use std::borrow::Cow;

use self::exports::mercato::plugin::tax as t;
use crate::tax as sdk;

/// The `calculate` export: the lines are read in place from the input's
/// text, and the answer's table crosses as it is.
pub fn calculate<T: sdk::Tax>(config: String, input: t::TaxInput) -> Result<t::TaxOutput, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let t::TaxInput {
        currency,
        text,
        lines: wire,
        shipping_amount,
        ship_from,
        ship_to,
        customer,
        prices_include_tax,
    } = input;
    // `text` is valid UTF-8 (the canonical ABI checks it); `get` checks each
    // span's bounds and character boundaries.
    let span = |s: t::Span| {
        let start = s.start as usize;
        match text.get(start..start.saturating_add(s.len as usize)) {
            Some(part) => Ok(Cow::Borrowed(part)),
            None => Err(invalid_input(format!("span {}+{} is outside the line text", s.start, s.len))),
        }
    };
    let mut lines = Vec::with_capacity(wire.len());
    for l in &wire {
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
        currency: currency_in(&currency)?,
        lines,
        shipping_amount,
        ship_from: ship_from.map(address_in),
        ship_to: address_in(ship_to),
        customer: customer.map(customer_in),
        prices_include_tax,
    };
    let mut output = T::calculate(&config, &input).map_err(err_out)?;
    // The instance is discarded after this call, memory and all: dropping
    // the configuration and the input would only walk them.
    std::mem::forget((config, input, wire));
    output.sort_lines();
    let rates = output.rates.into_iter().map(|r| t::TaxRate {
        jurisdiction: r.jurisdiction,
        rate: r.rate.to_wire(),
        label: r.label,
    });
    Ok(t::TaxOutput {
        rates: rates.collect(),
        lines: output
            .lines
            .iter()
            .map(|l| t::LineTax { line: l.line, rate: l.rate, amount: l.amount })
            .collect(),
        shipping: output.shipping.iter().map(|s| t::TaxAmount { rate: s.rate, amount: s.amount }).collect(),
    })
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
