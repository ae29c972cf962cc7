//! Host bindings for the `mercato:plugin@0.1.0` worlds and the tax world of
//! `mercato:plugin@0.2.0`. The shared `types`, `log` and `plugin` interfaces
//! are generated once per version and reused by every world of it; 0.2.0
//! reuses the Rust types of 0.1.0's `types`, which are the same records.

#![allow(missing_docs, clippy::all)]

pub mod pricing {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "pricing-plugin",
    });
}

pub mod tax {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "tax-plugin",
        with: {
            "mercato:plugin/types": super::pricing::mercato::plugin::types,
            "mercato:plugin/log": super::pricing::mercato::plugin::log,
            "mercato:plugin/plugin": super::pricing::exports::mercato::plugin::plugin,
        },
    });
}

pub mod shipping {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "shipping-plugin",
        with: {
            "mercato:plugin/types": super::pricing::mercato::plugin::types,
            "mercato:plugin/log": super::pricing::mercato::plugin::log,
            "mercato:plugin/plugin": super::pricing::exports::mercato::plugin::plugin,
        },
    });
}

pub mod payment {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "payment-plugin",
        with: {
            "mercato:plugin/types": super::pricing::mercato::plugin::types,
            "mercato:plugin/log": super::pricing::mercato::plugin::log,
            "mercato:plugin/plugin": super::pricing::exports::mercato::plugin::plugin,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
            "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        },
    });
}

pub mod recommendations {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "recommendations-plugin",
        with: {
            "mercato:plugin/types": super::pricing::mercato::plugin::types,
            "mercato:plugin/log": super::pricing::mercato::plugin::log,
            "mercato:plugin/plugin": super::pricing::exports::mercato::plugin::plugin,
        },
    });
}

/// `mercato:plugin@0.2.0`: the tax world.
pub mod tax_v2 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.2.0",
        world: "tax-plugin",
        with: {
            "mercato:plugin/types": super::pricing::mercato::plugin::types,
        },
    });
}

pub use pricing::mercato::plugin::types::*;
