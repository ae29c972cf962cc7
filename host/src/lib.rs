#![deny(missing_docs)]
//! Mercato: a multi-merchant commerce host whose business rules run in
//! sandboxed WebAssembly plugins. Data flows one way:
//! `http -> commerce -> (db, runtime)`, with the records both sides share in
//! `model`.

pub mod cli;
pub mod commerce;
pub mod config;
pub mod db;
pub mod faults;
pub mod http;
pub mod model;
pub mod runtime;
