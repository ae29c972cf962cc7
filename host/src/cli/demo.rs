//! `mercato demo`: every first-party plugin, compiled and sandboxed, run on
//! its first fixture through the real runtime.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use mercato_sdk::testing::Fixture;

use super::plugin;
use crate::plugins::{Call, LimitOverrides, Runtime, RuntimeConfig};

/// Calls per plugin; the median is shown.
const CALLS: usize = 101;

pub fn run(plugin_dir: &Path, source_dir: &Path) -> anyhow::Result<ExitCode> {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(crate::config::component_cache_dir()),
        ..Default::default()
    })?;
    let mut sources: Vec<_> = std::fs::read_dir(source_dir)
        .with_context(|| format!("cannot read {}", source_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("fixtures").is_dir())
        .collect();
    sources.sort();
    println!(
        "Mercato plugin platform demo: each first-party plugin runs its first fixture in the sandbox,\n\
         {CALLS} times; the median is shown. This is a debug build: `cargo xtask bench plugins`\n\
         measures an optimized one (tens of microseconds a call).\n"
    );
    for src in sources {
        let name = src.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let component = plugin_dir.join(format!("{name}.wasm"));
        let installed = plugin::install(&runtime, &component, &LimitOverrides::default())?;
        let Some(fixture) = Fixture::load_all(&src).into_iter().find(|f| f.expected_error().is_none()) else {
            continue;
        };
        let config = fixture.config.to_string();
        let outcome = runtime.call_json(Call::new(&installed, &config), &fixture.input)?;
        // The first call pays for lazy set-up; show a typical one.
        let mut durations: Vec<_> = (0..CALLS)
            .map(|_| runtime.call_json(Call::new(&installed, &config), &fixture.input).map(|o| o.duration))
            .collect::<Result<_, _>>()?;
        durations.sort();
        let median = durations[durations.len() / 2];
        println!(
            "{:<27} {:<16} {:>7} µs {:>9} fuel  {}",
            installed.label(),
            installed.extension_point().as_str(),
            median.as_micros(),
            outcome.fuel_used,
            fixture.name
        );
        let out = serde_json::to_string(&outcome.output)?;
        let shown: String = out.chars().take(160).collect();
        println!("    -> {shown}{}", if out.len() > 160 { " …" } else { "" });
    }
    println!(
        "\nTry one yourself:\n  cargo run -p mercato -- plugin run target/plugins/us-sales-tax.wasm --input plugins/us-sales-tax/fixtures/<case>.input.json --config plugins/us-sales-tax/fixtures/<case>.config.json"
    );
    Ok(ExitCode::SUCCESS)
}
