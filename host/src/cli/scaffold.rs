//! `mercato plugin new <extension-point> <name> [--lang rust|js|py]`: a
//! plugin (a crate, or a JavaScript or Python package) that builds and
//! passes its own test, with one fixture to start from.

use std::path::Path;

use anyhow::{Context, bail};
use mercato_sdk::ExtensionPoint;

struct Template {
    lib: &'static str,
    js: &'static str,
    py: &'static str,
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
                js: include_str!(concat!("templates/js/", $p, ".js.txt")),
                py: include_str!(concat!("templates/py/", $p, ".py.txt")),
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

/// Writes `<dir>/<name>/` for `point`, in `lang` (`rust`, `js` or `py`).
pub fn new_plugin(point: &str, name: &str, lang: &str, dir: &Path) -> anyhow::Result<()> {
    if !["rust", "js", "py"].contains(&lang) {
        bail!("unknown language {lang:?}: use rust, js or py");
    }
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
    let (manifest, source) = match lang {
        "js" => (("package.json", include_str!("templates/js/package.json.txt")), ("index.js", t.js)),
        "py" => (("pyproject.toml", include_str!("templates/py/pyproject.toml.txt")), ("plugin.py", t.py)),
        _ => (("Cargo.toml", include_str!("templates/Cargo.toml.txt")), ("src/lib.rs", t.lib)),
    };
    let files = [
        (manifest.0, fill(manifest.1)),
        (source.0, fill(source.1)),
        ("fixtures/example.input.json", t.input.to_owned()),
        ("fixtures/example.config.json", t.config.to_owned()),
        ("fixtures/example.expected.json", t.expected.to_owned()),
    ];
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("files are in folders"))?;
        std::fs::write(&path, content).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let test = match lang {
        "js" => format!("node sdk/js/fixtures.mjs {}", root.display()),
        "py" => format!("python3 sdk/py/fixtures.py {}", root.display()),
        _ => format!("cargo test -p {name}"),
    };
    println!(
        "created {point} plugin {name} in {}\n  test it:   {test}\n  build it:  cargo xtask build-plugins\n  run it:    mercato plugin run target/plugins/{name}.wasm --input {}/fixtures/example.input.json --config {}/fixtures/example.config.json",
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
