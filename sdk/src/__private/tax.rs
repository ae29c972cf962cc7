wit_bindgen::generate!({
    path: "../wit/v0.1.0",
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
    let input = sdk::TaxInput {
        currency: currency_in(&input.currency)?,
        lines: input
            .lines
            .into_iter()
            .map(|l| sdk::TaxableLine {
                id: l.id,
                product_id: l.product_id,
                sku: l.sku,
                quantity: l.quantity,
                amount: l.amount,
                tax_code: l.tax_code,
            })
            .collect(),
        shipping_amount: input.shipping_amount,
        ship_from: input.ship_from.map(address_in),
        ship_to: address_in(input.ship_to),
        customer: input.customer.map(customer_in),
        prices_include_tax: input.prices_include_tax,
    };
    let output = T::calculate(&config, &input).map_err(err_out)?;
    let mut table = RateTable::default();
    let lines = output
        .lines
        .into_iter()
        .map(|l| t::LineTax { line_id: l.line_id, taxes: table.amounts(l.taxes) })
        .collect();
    let shipping = table.amounts(output.shipping);
    Ok(t::TaxOutput { rates: table.rates, lines, shipping })
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
