wit_bindgen::generate!({
    path: "../wit/v0.1.0",
    world: "pricing-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_pricing_world",
    default_bindings_module: "mercato_sdk::__private::pricing",
    runtime_path: "mercato_sdk::__private::wit_bindgen::rt",
});

super::shared_glue!(Pricing);
super::money_glue!();

use self::exports::mercato::plugin::pricing as p;
use crate::pricing as sdk;

fn adjustment_in(a: p::Adjustment) -> sdk::Adjustment {
    sdk::Adjustment {
        target: match a.target {
            p::Target::Line(id) => sdk::Target::Line(id),
            p::Target::Order => sdk::Target::Order,
            p::Target::Shipping => sdk::Target::Shipping,
        },
        kind: match a.kind {
            p::Kind::Percent(v) => sdk::AdjustmentKind::Percent(v),
            p::Kind::FixedAmount(v) => sdk::AdjustmentKind::FixedAmount(v),
            p::Kind::FixedUnitPrice(v) => sdk::AdjustmentKind::FixedUnitPrice(v),
        },
        label: a.label,
        code: a.code,
    }
}

fn adjustment_out(a: sdk::Adjustment) -> p::Adjustment {
    p::Adjustment {
        target: match a.target {
            sdk::Target::Line(id) => p::Target::Line(id),
            sdk::Target::Order => p::Target::Order,
            sdk::Target::Shipping => p::Target::Shipping,
        },
        kind: match a.kind {
            sdk::AdjustmentKind::Percent(v) => p::Kind::Percent(v),
            sdk::AdjustmentKind::FixedAmount(v) => p::Kind::FixedAmount(v),
            sdk::AdjustmentKind::FixedUnitPrice(v) => p::Kind::FixedUnitPrice(v),
        },
        label: a.label,
        code: a.code,
    }
}

/// The `run` export.
pub fn run<T: sdk::Pricing>(
    config: String,
    input: p::PricingInput,
) -> Result<p::PricingOutput, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let input = sdk::PricingInput {
        currency: currency_in(&input.currency)?,
        lines: input.lines.into_iter().map(cart_line_in).collect::<Result<_, _>>()?,
        customer: input.customer.map(customer_in),
        discount_codes: input.discount_codes,
        shipping: input.shipping.map(money_in).transpose()?,
        previous: input
            .previous
            .into_iter()
            .map(|a| {
                Ok(sdk::AppliedAdjustment {
                    adjustment: adjustment_in(a.adjustment),
                    amount: money_in(a.amount)?,
                })
            })
            .collect::<Result<_, wit::PluginError>>()?,
    };
    let output = T::run(&config, &input).map_err(err_out)?;
    Ok(p::PricingOutput { adjustments: output.adjustments.into_iter().map(adjustment_out).collect() })
}

/// Exports a [`crate::pricing::Pricing`] implementation as the component's pricing world.
#[macro_export]
macro_rules! export_pricing {
    ($plugin:ty) => {
        const _: () = {
            struct __MercatoPlugin;
            $crate::__mercato_describe!(pricing, $plugin);
            impl $crate::__private::pricing::exports::mercato::plugin::pricing::Guest for __MercatoPlugin {
                fn run(
                    config: ::std::string::String,
                    input: $crate::__private::pricing::exports::mercato::plugin::pricing::PricingInput,
                ) -> ::std::result::Result<
                    $crate::__private::pricing::exports::mercato::plugin::pricing::PricingOutput,
                    $crate::__private::pricing::wit::PluginError,
                > {
                    $crate::__private::pricing::run::<$plugin>(config, input)
                }
            }
            $crate::__private::pricing::__export_pricing_world!(__MercatoPlugin with_types_in $crate::__private::pricing);
        };
    };
}
