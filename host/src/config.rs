//! Typed configuration from the environment, with defaults that run out of the box.

use std::path::PathBuf;

/// Where the host keeps its files (`MERCATO_DATA_DIR`, default `./data`).
pub fn data_dir() -> PathBuf {
    std::env::var_os("MERCATO_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("data"))
}

/// Compiled plugins cached across restarts.
pub fn component_cache_dir() -> PathBuf {
    data_dir().join("component-cache")
}
