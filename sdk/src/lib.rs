//! Write Mercato plugins in plain Rust.
//!
//! A plugin is a struct, an implementation of [`Plugin`] plus one extension
//! point trait ([`pricing::Pricing`], [`tax::Tax`], [`shipping::Shipping`],
//! [`payment::Payment`] or [`recommendations::Recommendations`]) and one export
//! macro call. Enable the crate feature named after the extension point
//! (`features = ["tax"]`) so the macro and the WebAssembly bindings exist.
//!
//! ```ignore
//! use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
//! use mercato_sdk::{Plugin, PluginError, Rate};
//!
//! /// `{"rate": "0.1", "label": "Sales tax"}`; the label defaults to "Tax".
//! #[derive(serde::Deserialize)]
//! pub struct Config {
//!     rate: Rate,
//!     label: Option<String>,
//! }
//!
//! pub struct FlatTax;
//!
//! impl Plugin for FlatTax {
//!     type Config = Config;
//!     const CONFIG_SCHEMA: &'static str = r#"{"type":"object","required":["rate"],
//!         "properties":{"rate":{"type":"string"},"label":{"type":"string"}}}"#;
//! }
//!
//! impl Tax for FlatTax {
//!     fn calculate(config: &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
//!         let mut out = TaxOutput::default();
//!         let label = config.label.as_deref().unwrap_or("Tax");
//!         let tax = out.rate(&input.ship_to.country, config.rate, label);
//!         out.tax_every_line(input, tax)?;
//!         out.tax_shipping(input, tax, input.shipping_amount)?;
//!         Ok(out)
//!     }
//! }
//!
//! mercato_sdk::export_tax!(FlatTax);
//! ```
//!
//! Plugins run sandboxed: no clock, randomness, files or network (payment
//! plugins may reach hosts the operator allowed). Every call gets the
//! merchant's configuration as JSON, parsed into [`Plugin::Config`].
#![deny(missing_docs)]

extern crate self as mercato_sdk;

#[cfg(all(target_arch = "wasm32", feature = "payment"))]
pub mod http_client;
pub mod log;
mod money;
pub mod payment;
pub mod pricing;
pub mod recommendations;
pub mod shipping;
pub mod tax;
pub mod testing;
mod types;

#[doc(hidden)]
pub mod __private;

pub use money::{Currency, Money, MoneyError, Rate, UnknownCurrency};
pub use rust_decimal::Decimal;
pub use types::{Address, CartLine, Customer, ExtensionPoint, Metadata, OUTCOME_UNKNOWN, PluginError};

/// What every plugin declares besides its extension point trait.
pub trait Plugin {
    /// The merchant configuration, parsed from JSON on every call.
    /// Use `serde_json::Value` to take it raw, `()` for none.
    type Config: serde::de::DeserializeOwned;

    /// JSON Schema of [`Plugin::Config`], shown to operators at install.
    const CONFIG_SCHEMA: &'static str = r#"{"type":"object"}"#;

    /// The plugin's name; the crate name when unset.
    const NAME: Option<&'static str> = None;

    /// The plugin's version; the crate version when unset.
    const VERSION: Option<&'static str> = None;
}

/// Parses a configuration document the way the runtime does (an empty
/// string counts as `{}`), with an `invalid_config` error on failure.
pub fn parse_config<C: serde::de::DeserializeOwned>(json: &str) -> Result<C, PluginError> {
    let json = json.trim_ascii();
    let json = if json.is_empty() { "{}" } else { json };
    serde_json::from_str(json)
        // A plugin without configuration (`type Config = ()`) accepts `{}` too.
        .or_else(|e| if json == "{}" { serde_json::from_str("null").map_err(|_| e) } else { Err(e) })
        .map_err(|e| PluginError::invalid_config(e.to_string()))
}

/// Exports a plugin as a WebAssembly component (enable the `pricing` feature).
/// Natively it only checks the plugin implements the trait, so plugin tests
/// run with plain `cargo test`.
#[cfg(not(target_arch = "wasm32"))]
#[macro_export]
macro_rules! export_pricing {
    ($plugin:ty) => {
        const _: fn() = || {
            fn implements<T: $crate::pricing::Pricing>() {}
            implements::<$plugin>();
        };
    };
}

/// Exports a plugin; needs the `pricing` feature of mercato-sdk.
#[cfg(all(target_arch = "wasm32", not(feature = "pricing")))]
#[macro_export]
macro_rules! export_pricing {
    ($plugin:ty) => {
        compile_error!("enable the `pricing` feature of mercato-sdk to use export_pricing!");
    };
}

/// Exports a plugin as a WebAssembly component (enable the `tax` feature).
/// Natively it only checks the plugin implements the trait, so plugin tests
/// run with plain `cargo test`.
#[cfg(not(target_arch = "wasm32"))]
#[macro_export]
macro_rules! export_tax {
    ($plugin:ty) => {
        const _: fn() = || {
            fn implements<T: $crate::tax::Tax>() {}
            implements::<$plugin>();
        };
    };
}

/// Exports a plugin; needs the `tax` feature of mercato-sdk.
#[cfg(all(target_arch = "wasm32", not(feature = "tax")))]
#[macro_export]
macro_rules! export_tax {
    ($plugin:ty) => {
        compile_error!("enable the `tax` feature of mercato-sdk to use export_tax!");
    };
}

/// Exports a plugin as a WebAssembly component (enable the `shipping` feature).
/// Natively it only checks the plugin implements the trait, so plugin tests
/// run with plain `cargo test`.
#[cfg(not(target_arch = "wasm32"))]
#[macro_export]
macro_rules! export_shipping {
    ($plugin:ty) => {
        const _: fn() = || {
            fn implements<T: $crate::shipping::Shipping>() {}
            implements::<$plugin>();
        };
    };
}

/// Exports a plugin; needs the `shipping` feature of mercato-sdk.
#[cfg(all(target_arch = "wasm32", not(feature = "shipping")))]
#[macro_export]
macro_rules! export_shipping {
    ($plugin:ty) => {
        compile_error!("enable the `shipping` feature of mercato-sdk to use export_shipping!");
    };
}

/// Exports a plugin as a WebAssembly component (enable the `payment` feature).
/// Natively it only checks the plugin implements the trait, so plugin tests
/// run with plain `cargo test`.
#[cfg(not(target_arch = "wasm32"))]
#[macro_export]
macro_rules! export_payment {
    ($plugin:ty) => {
        const _: fn() = || {
            fn implements<T: $crate::payment::Payment>() {}
            implements::<$plugin>();
        };
    };
}

/// Exports a plugin; needs the `payment` feature of mercato-sdk.
#[cfg(all(target_arch = "wasm32", not(feature = "payment")))]
#[macro_export]
macro_rules! export_payment {
    ($plugin:ty) => {
        compile_error!("enable the `payment` feature of mercato-sdk to use export_payment!");
    };
}

/// Exports a plugin as a WebAssembly component (enable the `recommendations` feature).
/// Natively it only checks the plugin implements the trait, so plugin tests
/// run with plain `cargo test`.
#[cfg(not(target_arch = "wasm32"))]
#[macro_export]
macro_rules! export_recommendations {
    ($plugin:ty) => {
        const _: fn() = || {
            fn implements<T: $crate::recommendations::Recommendations>() {}
            implements::<$plugin>();
        };
    };
}

/// Exports a plugin; needs the `recommendations` feature of mercato-sdk.
#[cfg(all(target_arch = "wasm32", not(feature = "recommendations")))]
#[macro_export]
macro_rules! export_recommendations {
    ($plugin:ty) => {
        compile_error!("enable the `recommendations` feature of mercato-sdk to use export_recommendations!");
    };
}
