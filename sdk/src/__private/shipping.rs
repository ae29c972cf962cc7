wit_bindgen::generate!({
    path: "../wit/v0.1.0",
    world: "shipping-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_shipping_world",
    default_bindings_module: "mercato_sdk::__private::shipping",
    runtime_path: "mercato_sdk::__private::wit_bindgen::rt",
});

super::shared_glue!(Shipping);
super::money_glue!();

use self::exports::mercato::plugin::shipping as s;
use crate::shipping as sdk;

/// The `rates` export.
pub fn rates<T: sdk::Shipping>(
    config: String,
    input: s::ShippingInput,
) -> Result<s::ShippingOutput, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let input = sdk::ShippingInput {
        currency: currency_in(&input.currency)?,
        destination: address_in(input.destination),
        items: input
            .items
            .into_iter()
            .map(|i| sdk::ShipItem {
                line_id: i.line_id,
                sku: i.sku,
                quantity: i.quantity,
                weight_grams: i.weight_grams,
                length_mm: i.length_mm,
                width_mm: i.width_mm,
                height_mm: i.height_mm,
            })
            .collect(),
        subtotal: money_in(input.subtotal)?,
    };
    let output = T::rates(&config, &input).map_err(err_out)?;
    Ok(s::ShippingOutput {
        options: output
            .options
            .into_iter()
            .map(|o| s::RateOption {
                code: o.code,
                carrier: o.carrier,
                service: o.service,
                amount: money_out(o.amount),
                min_days: o.min_days,
                max_days: o.max_days,
            })
            .collect(),
    })
}

/// Exports a [`crate::shipping::Shipping`] implementation as the component's shipping world.
#[macro_export]
macro_rules! export_shipping {
    ($plugin:ty) => {
        const _: () = {
            struct __MercatoPlugin;
            $crate::__mercato_describe!(shipping, $plugin);
            impl $crate::__private::shipping::exports::mercato::plugin::shipping::Guest for __MercatoPlugin {
                fn rates(
                    config: ::std::string::String,
                    input: $crate::__private::shipping::exports::mercato::plugin::shipping::ShippingInput,
                ) -> ::std::result::Result<
                    $crate::__private::shipping::exports::mercato::plugin::shipping::ShippingOutput,
                    $crate::__private::shipping::wit::PluginError,
                > {
                    $crate::__private::shipping::rates::<$plugin>(config, input)
                }
            }
            $crate::__private::shipping::__export_shipping_world!(__MercatoPlugin with_types_in $crate::__private::shipping);
        };
    };
}
