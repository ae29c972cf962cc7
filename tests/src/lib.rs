//! Helpers for the end-to-end tests: the real runtime with the real
//! compiled components that `cargo xtask build-plugins` put in target/plugins.

pub mod app;
pub mod psp;
pub mod receiver;
pub mod shop;
pub mod smtp;
/// Stripe on loopback (see the crate).
pub use mercato_fake_stripe as stripe;

use std::path::PathBuf;
use std::sync::Arc;

use mercato::runtime::{InstalledPlugin, Runtime, RuntimeConfig};
use mercato_sdk::tax::{TaxInput, TaxableLine};
use mercato_sdk::{Address, Currency};

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the repo").to_path_buf()
}

/// Where `cargo xtask build-plugins` puts components.
pub fn components_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("plugins")
}

/// The bytes of a built component.
#[track_caller]
pub fn component(name: &str) -> Vec<u8> {
    let path = components_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("{} is missing ({e}): run `cargo xtask build-plugins` (or `cargo xtask test`)", path.display())
    })
}

/// A runtime sharing one compiled-component cache with every other test, so
/// each component is compiled once per build rather than once per test.
pub fn runtime() -> Runtime {
    let cache = components_dir().join("test-cache");
    Runtime::new(RuntimeConfig { cache_dir: Some(cache), ..Default::default() }).expect("runtime starts")
}

/// Installs a built component, panicking with the install error.
#[track_caller]
pub fn install(runtime: &Runtime, name: &str) -> Arc<InstalledPlugin> {
    runtime.install(&component(name)).unwrap_or_else(|e| panic!("{name} does not install: {e}"))
}

/// A US cart of `lines` lines of 19.99 each, shipped to California.
pub fn tax_input(lines: usize) -> TaxInput<'static> {
    TaxInput {
        currency: Currency::USD,
        lines: (0..lines)
            .map(|i| TaxableLine {
                id: format!("line-{i}").into(),
                product_id: format!("prod-{i}").into(),
                sku: format!("SKU-{i:05}").into(),
                quantity: 1 + (i % 3) as u32,
                amount: 1999 * (1 + (i % 3) as i64),
                tax_code: None,
            })
            .collect(),
        shipping_amount: 799,
        ship_from: None,
        ship_to: Address {
            name: "Ada Lovelace".into(),
            line1: "1 Market St".into(),
            line2: None,
            city: "San Francisco".into(),
            region: "CA".into(),
            postal_code: "94105".into(),
            country: "US".into(),
        },
        customer: None,
        prices_include_tax: false,
    }
}
