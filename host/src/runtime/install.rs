//! The install check: a component is refused before it is stored unless it
//! is a component, exports exactly one known world at a contract version
//! this host serves it at, and imports only what that world allows.

use mercato_sdk::ExtensionPoint;
use wasmtime::Engine;
use wasmtime::component::Component;

use super::error::InstallError;

/// The first contract version: every world.
pub const V0_1: &str = "0.1.0";
/// The second: the tax world only, its lines' text in one string.
pub const V0_2: &str = "0.2.0";

/// The versions of `mercato:plugin` this host speaks and the worlds it serves
/// at each, oldest first. 0.2.0 changed the tax world only.
pub const CONTRACT_VERSIONS: &[(&str, &[ExtensionPoint])] = &[
    (
        V0_1,
        &[
            ExtensionPoint::Pricing,
            ExtensionPoint::Tax,
            ExtensionPoint::Shipping,
            ExtensionPoint::Payment,
            ExtensionPoint::Recommendations,
        ],
    ),
    (V0_2, &[ExtensionPoint::Tax]),
];

/// The supported versions as `mercato:plugin@0.1.0 (pricing, tax, …),
/// mercato:plugin@0.2.0 (tax)`, for errors.
fn supported() -> String {
    let each = CONTRACT_VERSIONS.iter().map(|(v, points)| {
        let points: Vec<String> = points.iter().map(|p| p.to_string()).collect();
        format!("mercato:plugin@{v} ({})", points.join(", "))
    });
    each.collect::<Vec<_>>().join(", ")
}

/// Default cap on component size (`MERCATO_MAX_COMPONENT_MB` sets another):
/// room for a JavaScript (about 12 MB, its engine included) or Python
/// (about 18 MB, CPython included) plugin; a Rust one is under 1 MB.
pub const DEFAULT_MAX_COMPONENT_BYTES: u64 = 32 << 20;

/// What every plugin may import: the shared types, bounded logging, and the
/// WASI interfaces the Rust standard library links even when unused (served
/// by a context that grants nothing).
const COMMON_IMPORTS: &[&str] = &[
    "mercato:plugin/types",
    "mercato:plugin/log",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
];

/// Imports one extension point adds to the common set.
fn extra_imports(point: ExtensionPoint) -> &'static [&'static str] {
    match point {
        ExtensionPoint::Payment => &["wasi:http/types", "wasi:http/outgoing-handler"],
        ExtensionPoint::Recommendations => &["mercato:plugin/catalog"],
        _ => &[],
    }
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `1.2.3`).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((n, v)) => (n, Some(v)),
        None => (name, None),
    }
}

/// Whether a component of `point` at contract version `contract` may import `import`.
fn import_allowed(point: ExtensionPoint, contract: &str, import: &str) -> bool {
    let (name, version) = split_version(import);
    let listed = COMMON_IMPORTS.contains(&name) || extra_imports(point).contains(&name);
    let version_ok = match version {
        Some(v) if name.starts_with("mercato:") => v == contract,
        Some(v) => v.starts_with("0.2."),
        None => false,
    };
    listed && version_ok
}

/// Refuses what is not a component before compiling anything.
pub fn check_bytes(bytes: &[u8], max_bytes: u64) -> Result<(), InstallError> {
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(InstallError::TooLarge { size, limit: max_bytes });
    }
    if wasmparser::Parser::is_component(bytes) {
        return Ok(());
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(InstallError::NotAComponent(
            "this is a core WebAssembly module; build the plugin for wasm32-wasip2 with the Mercato SDK"
                .into(),
        ));
    }
    Err(InstallError::NotAComponent("the bytes are not WebAssembly".into()))
}

/// The extension point a compiled component implements and the contract
/// version it speaks, after checking its exports and imports.
pub fn classify(
    engine: &Engine,
    component: &Component,
) -> Result<(ExtensionPoint, &'static str), InstallError> {
    let ty = component.component_type();
    let exports: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let mut points = Vec::new();
    let mut has_plugin = false;
    let mut contract: Option<&'static str> = None;
    for export in &exports {
        let (name, version) = split_version(export);
        let Some(iface) = name.strip_prefix("mercato:plugin/") else { continue };
        let known = CONTRACT_VERSIONS.iter().map(|(v, _)| *v).find(|v| Some(*v) == version);
        let Some(v) = known else {
            return Err(InstallError::UnsupportedVersion(format!(
                "exports {export}, this host supports {}",
                supported()
            )));
        };
        if let Some(c) = contract
            && c != v
        {
            return Err(InstallError::UnsupportedVersion(format!(
                "exports interfaces of mercato:plugin@{c} and @{v}; a plugin speaks one version"
            )));
        }
        contract = Some(v);
        if iface == "plugin" {
            has_plugin = true;
        } else if let Some(point) = ExtensionPoint::parse(iface) {
            points.push(point);
        }
    }
    let point = match points.as_slice() {
        [p] => *p,
        [] => {
            return Err(InstallError::UnknownWorld(format!(
                "exports [{}], none of mercato:plugin/{{pricing,tax,shipping,payment,recommendations}} at {}",
                exports.join(", "),
                supported()
            )));
        }
        many => {
            return Err(InstallError::UnknownWorld(format!(
                "exports several extension points ({many:?}); a plugin implements exactly one"
            )));
        }
    };
    let contract = contract.unwrap_or_default();
    let served = CONTRACT_VERSIONS.iter().any(|(v, points)| *v == contract && points.contains(&point));
    if !served {
        return Err(InstallError::UnsupportedVersion(format!(
            "exports the {point} world at mercato:plugin@{contract}, this host supports {}",
            supported()
        )));
    }
    if !has_plugin {
        return Err(InstallError::UnknownWorld(format!(
            "does not export mercato:plugin/plugin@{contract} (its metadata)"
        )));
    }
    for (import, _) in ty.imports(engine) {
        if !import_allowed(point, contract, import) {
            let allowed: Vec<&str> = COMMON_IMPORTS.iter().chain(extra_imports(point)).copied().collect();
            return Err(InstallError::ForbiddenImport {
                import: import.to_owned(),
                point,
                allowed: format!("{} (mercato:plugin at @{contract})", allowed.join(", ")),
            });
        }
    }
    Ok((point, contract))
}

/// Every import of a component, for `mercato plugin inspect`.
pub fn imports(engine: &Engine, component: &Component) -> Vec<String> {
    component.component_type().imports(engine).map(|(n, _)| n.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_allowed_per_world() {
        use ExtensionPoint::{Payment, Recommendations, Tax};
        assert!(import_allowed(Tax, "0.1.0", "wasi:io/streams@0.2.6"));
        assert!(import_allowed(Tax, "0.1.0", "mercato:plugin/log@0.1.0"));
        assert!(!import_allowed(Tax, "0.1.0", "mercato:plugin/log@0.2.0"), "one contract version");
        assert!(import_allowed(Tax, "0.2.0", "mercato:plugin/log@0.2.0"));
        assert!(!import_allowed(Tax, "0.2.0", "mercato:plugin/types@0.1.0"), "one contract version");
        assert!(!import_allowed(Tax, "0.1.0", "wasi:filesystem/preopens@0.2.0"));
        assert!(!import_allowed(Tax, "0.1.0", "wasi:sockets/tcp@0.2.0"));
        assert!(!import_allowed(Tax, "0.1.0", "wasi:http/outgoing-handler@0.2.0"));
        assert!(import_allowed(Payment, "0.1.0", "wasi:http/outgoing-handler@0.2.3"));
        assert!(!import_allowed(Tax, "0.1.0", "mercato:plugin/catalog@0.1.0"));
        assert!(import_allowed(Recommendations, "0.1.0", "mercato:plugin/catalog@0.1.0"));
    }

    #[test]
    fn core_modules_and_garbage_are_not_components() {
        let core = b"\0asm\x01\0\0\0";
        assert!(matches!(check_bytes(core, 1 << 20), Err(InstallError::NotAComponent(_))));
        assert!(matches!(check_bytes(b"hello", 1 << 20), Err(InstallError::NotAComponent(_))));
        assert!(matches!(check_bytes(&[0; 100], 10), Err(InstallError::TooLarge { .. })));
    }
}
