//! Mercato: a multi-merchant commerce host whose business rules run in
//! sandboxed WebAssembly plugins.

pub mod cli;
pub mod config;
pub mod plugins;
