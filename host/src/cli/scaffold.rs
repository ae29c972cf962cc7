//! `mercato plugin new <extension-point> <name>`: a plugin crate that builds
//! and passes its own test, with one fixture to start from.

use std::path::Path;

use anyhow::{Context, bail};
use mercato_sdk::ExtensionPoint;

struct Template {
    lib: &'static str,
    input: &'static str,
    config: &'static str,
    expected: &'static str,
    description: &'static str,
}

fn template(point: ExtensionPoint) -> Template {
    macro_rules! t {
        ($p:literal, $d:literal) => {
            Template {
                lib: include_str!(concat!("templates/", $p, ".rs.txt")),
                input: include_str!(concat!("templates/", $p, ".input.json")),
                config: include_str!(concat!("templates/", $p, ".config.json")),
                expected: include_str!(concat!("templates/", $p, ".expected.json")),
                description: $d,
            }
        };
    }
    match point {
        ExtensionPoint::Pricing => t!("pricing", "A percentage off every line"),
        ExtensionPoint::Tax => t!("tax", "One tax rate on every line and on shipping"),
        ExtensionPoint::Shipping => t!("shipping", "One standard shipping rate"),
        ExtensionPoint::Payment => t!("payment", "A payment provider that accepts every payment"),
        ExtensionPoint::Recommendations => t!("recommendations", "Store-wide bestsellers"),
    }
}

/// `my-tax` -> `MyTax`.
fn struct_name(name: &str) -> String {
    name.split(['-', '_'])
        .map(|part| {
            let mut c = part.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn valid_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
}

/// Writes `<dir>/<name>/` for `point`.
pub fn new_plugin(point: &str, name: &str, dir: &Path) -> anyhow::Result<()> {
    let Some(point) = ExtensionPoint::parse(point) else {
        bail!("unknown extension point {point:?}: use pricing, tax, shipping, payment or recommendations");
    };
    if !valid_name(name) {
        bail!("plugin name {name:?} must be 2-64 lowercase letters, digits and '-', starting with a letter");
    }
    let root = dir.join(name);
    if root.exists() {
        bail!("{} already exists", root.display());
    }
    let t = template(point);
    // The plugin's type must not clash with a name the template uses
    // (`tax` would make `struct Tax` next to the `Tax` trait).
    let mut ty = struct_name(name);
    if t.lib.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|word| word == ty) {
        ty.push_str("Plugin");
    }
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{struct}}", &ty)
            .replace("{{point}}", point.as_str())
            .replace("{{description}}", t.description)
    };
    let files = [
        ("Cargo.toml", fill(include_str!("templates/Cargo.toml.txt"))),
        ("src/lib.rs", fill(t.lib)),
        ("fixtures/example.input.json", t.input.to_owned()),
        ("fixtures/example.config.json", t.config.to_owned()),
        ("fixtures/example.expected.json", t.expected.to_owned()),
    ];
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("files are in folders"))?;
        std::fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "created {point} plugin {name} in {}\n  test it:   cargo test -p {name}\n  build it:  cargo xtask build-plugins\n  run it:    mercato plugin run target/plugins/{name}.wasm --input {}/fixtures/example.input.json --config {}/fixtures/example.config.json",
        root.display(),
        root.display(),
        root.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(struct_name("my-tax"), "MyTax");
        assert!(valid_name("my-tax2"));
        assert!(!valid_name("My-Tax"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("x"));
    }
}
