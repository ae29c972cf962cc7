//! Data flows one way: `http -> commerce -> (db, runtime)`, with the
//! records `commerce` and `db` share in `model`. This test reads every
//! source file and fails when a module reaches a module it must not: `db`
//! or `runtime` into `commerce` or `http`, `http` into `db`, `model` into
//! anything of the host.

use std::path::{Path, PathBuf};

/// Each module, and the modules of the crate its files must not name.
const RULES: &[(&str, &[&str])] = &[
    ("http", &["db"]),
    ("commerce", &["http", "cli"]),
    ("db", &["commerce", "http", "cli", "runtime"]),
    ("runtime", &["commerce", "http", "cli", "db"]),
    ("model", &["commerce", "http", "cli", "db", "runtime"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `code` names `crate::<module>` as a path.
fn names(code: &str, module: &str) -> bool {
    let needle = format!("crate::{module}");
    code.match_indices(&needle).any(|(i, _)| {
        let after = code[i + needle.len()..].chars().next();
        !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (module, forbidden) in RULES {
        let mut files = Vec::new();
        let dir = src.join(module);
        rust_files(&dir, &mut files);
        assert!(!files.is_empty(), "no files under {}", dir.display());
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for target in *forbidden {
                    if names(code, target) {
                        broken.push(format!(
                            "{}:{}: {module} -> {target}: {}",
                            file.display(),
                            n + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "imports against the flow:\n{}", broken.join("\n"));
}

#[test]
fn the_check_sees_a_forbidden_import() {
    assert!(names("use crate::commerce::cart::Cart;", "commerce"));
    assert!(names("let x = crate::db::now_ms();", "db"));
    assert!(!names("use crate::dbx::Thing;", "db"));
    assert!(!names("use crate::model::cart::Cart;", "db"));
}
