//! Glue between the WebAssembly bindings and the SDK's plain types. Used by
//! the export macros; not part of the public API.

#[cfg(all(target_arch = "wasm32", feature = "payment"))]
pub mod payment;
#[cfg(all(target_arch = "wasm32", feature = "pricing"))]
pub mod pricing;
#[cfg(all(target_arch = "wasm32", feature = "recommendations"))]
pub mod recommendations;
#[cfg(all(target_arch = "wasm32", feature = "shipping"))]
pub mod shipping;
#[cfg(all(target_arch = "wasm32", feature = "tax"))]
pub mod tax;

#[cfg(all(target_arch = "wasm32", feature = "guest"))]
pub use wit_bindgen;

#[cfg(all(target_arch = "wasm32", feature = "guest"))]
mod bump;

#[cfg(all(target_arch = "wasm32", feature = "guest"))]
#[global_allocator]
static ALLOCATOR: bump::Bump = bump::Bump::new();

/// The `describe` export every world has; the name, version and description
/// come from the plugin crate's Cargo.toml, where this expands.
#[doc(hidden)]
#[macro_export]
macro_rules! __mercato_describe {
    ($world:ident, $plugin:ty) => {
        impl $crate::__private::$world::exports::mercato::plugin::plugin::Guest for __MercatoPlugin {
            fn describe() -> $crate::__private::$world::wit::Metadata {
                $crate::__private::$world::metadata::<$plugin>(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    env!("CARGO_PKG_DESCRIPTION"),
                )
            }
        }
    };
}

use crate::types::Level;

/// Sends a log line to the host inside the sandbox, to standard error natively.
pub fn emit_log(level: Level, message: &str) {
    #[cfg(all(target_arch = "wasm32", feature = "pricing"))]
    return pricing::log(level, message);
    #[cfg(all(target_arch = "wasm32", not(feature = "pricing"), feature = "tax"))]
    return tax::log(level, message);
    #[cfg(all(
        target_arch = "wasm32",
        not(any(feature = "pricing", feature = "tax")),
        feature = "shipping"
    ))]
    return shipping::log(level, message);
    #[cfg(all(
        target_arch = "wasm32",
        not(any(feature = "pricing", feature = "tax", feature = "shipping")),
        feature = "payment"
    ))]
    return payment::log(level, message);
    #[cfg(all(
        target_arch = "wasm32",
        not(any(feature = "pricing", feature = "tax", feature = "shipping", feature = "payment")),
        feature = "recommendations"
    ))]
    return recommendations::log(level, message);
    #[allow(unreachable_code)]
    {
        eprintln!("[{level:?}] {message}");
    }
}

/// Conversions of the types every world shares; expanded inside each world
/// module, next to its generated bindings.
#[allow(unused_macros)]
macro_rules! shared_glue {
    ($point:ident) => {
        pub use self::mercato::plugin::types as wit;

        pub(crate) fn err_out(e: crate::PluginError) -> wit::PluginError {
            wit::PluginError { code: e.code, message: e.message }
        }

        pub(crate) fn invalid_input(message: String) -> wit::PluginError {
            wit::PluginError { code: "invalid_input".into(), message }
        }

        pub(crate) fn currency_in(code: &str) -> Result<crate::Currency, wit::PluginError> {
            crate::Currency::parse(code).map_err(|e| invalid_input(e.to_string()))
        }

        #[allow(dead_code)]
        pub(crate) fn address_in(a: wit::Address) -> crate::Address {
            crate::Address {
                name: a.name,
                line1: a.line1,
                line2: a.line2,
                city: a.city,
                region: a.region,
                postal_code: a.postal_code,
                country: a.country,
            }
        }

        #[allow(dead_code)]
        pub(crate) fn customer_in(c: wit::Customer) -> crate::Customer {
            crate::Customer {
                id: c.id,
                email: c.email,
                tags: c.tags,
                tax_exempt: c.tax_exempt,
                vat_id: c.vat_id,
            }
        }

        pub(crate) fn config<C: serde::de::DeserializeOwned>(json: &str) -> Result<C, wit::PluginError> {
            crate::parse_config(json).map_err(err_out)
        }

        /// The metadata export; name and version come from the plugin's Cargo.toml.
        pub fn metadata<T: crate::Plugin>(name: &str, version: &str, description: &str) -> wit::Metadata {
            wit::Metadata {
                name: T::NAME.unwrap_or(name).to_owned(),
                version: T::VERSION.unwrap_or(version).to_owned(),
                extension_point: wit::ExtensionPoint::$point,
                description: description.to_owned(),
                config_schema: T::CONFIG_SCHEMA.to_owned(),
            }
        }

        #[allow(dead_code)]
        pub(crate) fn log(level: crate::types::Level, message: &str) {
            use self::mercato::plugin::log as l;
            let level = match level {
                crate::types::Level::Debug => l::Level::Debug,
                crate::types::Level::Info => l::Level::Info,
                crate::types::Level::Warn => l::Level::Warn,
                crate::types::Level::Error => l::Level::Error,
            };
            l::log(level, message);
        }
    };
}

#[allow(unused_imports)]
pub(crate) use shared_glue;

/// Conversions of money and cart lines, for the worlds whose types carry
/// them (the tax world of 0.2.0 has neither).
#[allow(unused_macros)]
macro_rules! money_glue {
    () => {
        pub(crate) fn money_in(m: wit::Money) -> Result<crate::Money, wit::PluginError> {
            Ok(crate::Money::new(m.amount, currency_in(&m.currency)?))
        }

        #[allow(dead_code)]
        pub(crate) fn money_out(m: crate::Money) -> wit::Money {
            wit::Money { amount: m.amount, currency: m.currency.code().to_owned() }
        }

        #[allow(dead_code)]
        pub(crate) fn cart_line_in(l: wit::CartLine) -> Result<crate::CartLine, wit::PluginError> {
            Ok(crate::CartLine {
                id: l.id,
                product_id: l.product_id,
                variant_id: l.variant_id,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: money_in(l.unit_price)?,
                tags: l.tags,
                collections: l.collections,
                tax_code: l.tax_code,
                weight_grams: l.weight_grams,
            })
        }
    };
}

#[allow(unused_imports)]
pub(crate) use money_glue;
