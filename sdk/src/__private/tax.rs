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

/// Converts tax lines, formatting each distinct rate once: a cart's lines
/// mostly share one or two rates, and decimal formatting dominates otherwise.
fn tax_lines_out(lines: Vec<sdk::TaxLine>, memo: &mut Vec<(crate::Rate, String)>) -> Vec<t::TaxLine> {
    lines
        .into_iter()
        .map(|l| {
            let rate = match memo.iter().find(|(r, _)| *r == l.rate) {
                Some((_, s)) => s.clone(),
                None => {
                    let s = l.rate.to_wire();
                    memo.push((l.rate, s.clone()));
                    s
                }
            };
            t::TaxLine { jurisdiction: l.jurisdiction, rate, amount: l.amount, label: l.label }
        })
        .collect()
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
    let mut memo = Vec::new();
    Ok(t::TaxOutput {
        lines: output
            .lines
            .into_iter()
            .map(|l| t::LineTax { line_id: l.line_id, taxes: tax_lines_out(l.taxes, &mut memo) })
            .collect(),
        shipping: tax_lines_out(output.shipping, &mut memo),
    })
}

/// Exports a [`crate::tax::Tax`] implementation as the component's tax world.
#[macro_export]
macro_rules! export_tax {
    ($plugin:ty) => {
        const _: () = {
            struct __MercatoPlugin;
            impl $crate::__private::tax::exports::mercato::plugin::plugin::Guest for __MercatoPlugin {
                fn describe() -> $crate::__private::tax::wit::Metadata {
                    $crate::__private::tax::metadata::<$plugin>(
                        env!("CARGO_PKG_NAME"),
                        env!("CARGO_PKG_VERSION"),
                        env!("CARGO_PKG_DESCRIPTION"),
                    )
                }
            }
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
