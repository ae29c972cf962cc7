//! `mercato plugin run` and `mercato plugin inspect`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use crate::runtime::{Call, InstalledPlugin, JsonCallError, LimitOverrides, Runtime, RuntimeConfig};

fn runtime() -> anyhow::Result<Runtime> {
    Runtime::new(RuntimeConfig {
        cache_dir: Some(crate::config::component_cache_dir()),
        ..Default::default()
    })
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// Installs a component file, or says why it cannot be installed.
pub fn install(
    runtime: &Runtime,
    component: &Path,
    overrides: &LimitOverrides,
) -> anyhow::Result<std::sync::Arc<InstalledPlugin>> {
    let bytes = std::fs::read(component).with_context(|| format!("cannot read {}", component.display()))?;
    runtime
        .install_with(&bytes, overrides)
        .map_err(|e| anyhow::anyhow!("{} cannot be installed: {e} [{}]", component.display(), e.code()))
}

pub fn run(
    component: &Path,
    input: &Path,
    config: Option<&Path>,
    overrides: &LimitOverrides,
    repeat: u32,
) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    let started = std::time::Instant::now();
    let plugin = install(&runtime, component, overrides)?;
    let install_ms = started.elapsed().as_secs_f64() * 1000.0;
    let input = read_json(input)?;
    let config = match config {
        Some(path) => read_json(path)?.to_string(),
        None => "{}".to_owned(),
    };
    match runtime.call_json(Call::new(&plugin, &config), &input) {
        Ok(out) => {
            let mut report = json!({
                "output": out.output,
                "fuel_used": out.fuel_used,
                "memory_peak_bytes": out.memory_peak_bytes,
                "duration_us": out.duration.as_micros() as u64,
                "install_ms": (install_ms * 10.0).round() / 10.0,
                "logs": out.logs,
            });
            if repeat > 1 {
                let mut us = Vec::with_capacity(repeat as usize - 1);
                for _ in 1..repeat {
                    let again = runtime.call_json(Call::new(&plugin, &config), &input);
                    let again = again.map_err(|e| anyhow::anyhow!("a repeated call failed: {e}"))?;
                    us.push(again.duration.as_micros() as u64);
                }
                us.sort_unstable();
                let at = |q: f64| us[((us.len() as f64 * q).ceil() as usize).saturating_sub(1)];
                report["repeated"] = json!({"calls": us.len(), "median_us": at(0.5), "p99_us": at(0.99)});
            }
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ JsonCallError::BadInput { .. }) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
        Err(JsonCallError::Call(e)) => {
            // What the plugin logged and printed before it failed is what
            // its author needs most.
            let (lines, _) = plugin.journal.view(None);
            let logs: Vec<_> =
                lines.iter().map(|l| json!({"level": l.level, "message": l.message})).collect();
            println!("{}", json!({"error": {"code": e.kind.code(), "message": e.to_string()}, "logs": logs}));
            eprintln!("error: {e} [{}]", e.kind.code());
            Ok(ExitCode::from(1))
        }
    }
}

pub fn inspect(component: &Path) -> anyhow::Result<ExitCode> {
    let runtime = runtime()?;
    let plugin = install(&runtime, component, &LimitOverrides::default())?;
    let m = &plugin.metadata;
    let report = json!({
        "id": plugin.id,
        "name": m.name,
        "version": m.version,
        "extension_point": m.extension_point,
        "world": format!("mercato:plugin/{}-plugin@{}", m.extension_point, plugin.contract),
        "description": m.description,
        "config_schema": serde_json::from_str::<Value>(&m.config_schema).unwrap_or(Value::Null),
        "imports": plugin.imports,
        "size_bytes": plugin.size_bytes,
        "sha256": plugin.sha256,
        "limits": plugin.limits(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
