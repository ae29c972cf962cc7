//! The load generator end to end, briefly: bad arguments refused before
//! anything starts, and the purchase and new-cart scenarios run against a
//! real host with the real plugins, on SQLite and (when
//! `MERCATO_TEST_POSTGRES_URL` is set) PostgreSQL, without one error. Its
//! figures are not asserted: the machine is shared.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn loadgen() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mercato-loadgen"))
}

/// The host's binary, built beside this one by `cargo xtask test`
/// (`cargo test --workspace`).
fn mercato() -> PathBuf {
    let path = loadgen().with_file_name(format!("mercato{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "no {}: build the workspace (cargo xtask test) first", path.display());
    path
}

/// The plugins `cargo xtask build-plugins` built, under the target directory.
fn plugins() -> PathBuf {
    let target = loadgen().parent().and_then(|d| d.parent()).expect("a target directory").to_path_buf();
    let dir = target.join("plugins");
    assert!(
        dir.join("volume-discount.wasm").exists(),
        "no plugins in {}: run cargo xtask build-plugins",
        dir.display()
    );
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(loadgen()).args(args).output().expect("mercato-loadgen runs")
}

#[test]
fn bad_arguments_are_refused_before_anything_starts() {
    for (args, says) in [
        (&["--host-cpus", "0"][..], "--host-cpus must be from 0.1"),
        (&["--host-cpus", "NaN"][..], "--host-cpus must be from 0.1"),
        (&["--host-cpus", "100000"][..], "--host-cpus must be from 0.1"),
        (&["--scenarios", "checkout_flow,nope"][..], "unknown scenario \"nope\""),
        (&["--clients", "0"][..], "--clients and --duration must be positive"),
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed figures");
    }
}

#[test]
fn the_purchase_and_new_carts_run_without_errors_on_every_database() {
    let (mercato, plugins) = (mercato(), plugins());
    let out = Command::new(loadgen())
        .arg("--mercato")
        .arg(&mercato)
        .arg("--plugin-dir")
        .arg(&plugins)
        .args(["--scenarios", "add_to_cart_new_session,checkout_flow"])
        .args(["--duration", "1", "--warmup", "0", "--clients", "2", "--products", "50"])
        .output()
        .expect("mercato-loadgen runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().expect("a JSON line");
    let figures: Value = serde_json::from_str(line).expect("the last line is JSON");
    let mut backends = vec!["sqlite"];
    if std::env::var("MERCATO_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        backends.push("postgres");
    }
    for backend in backends {
        for scenario in ["add_to_cart_new_session", "checkout_flow"] {
            let s = &figures[backend][scenario];
            assert_eq!(s["errors"], 0, "{backend} {scenario}: {s}");
            assert!(s["requests"].as_u64().is_some_and(|n| n > 0), "{backend} {scenario}: {s}");
        }
        let flow = &figures[backend]["checkout_flow"];
        for step in ["create", "email", "address", "shipping", "read", "complete"] {
            assert!(flow[format!("{step}_p99_ms")].as_f64().is_some(), "{backend}: no {step} step in {flow}");
        }
    }
}

#[test]
fn a_non_2xx_answer_fails_the_run_loudly() {
    // A component the host refuses (422) where the bench installs its pricing plugin.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(plugins().join("bad-schema.wasm"), dir.path().join("volume-discount.wasm")).unwrap();
    let out = Command::new(loadgen())
        .arg("--mercato")
        .arg(mercato())
        .arg("--plugin-dir")
        .arg(dir.path())
        .args(["--scenarios", "checkout_flow", "--duration", "1", "--warmup", "0", "--clients", "2"])
        .arg("--sqlite-only")
        .output()
        .expect("mercato-loadgen runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("sqlite: setup failed: installing volume-discount: 422"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let figures: Value = serde_json::from_str(stdout.lines().last().expect("a JSON line")).unwrap();
    let error = figures["sqlite"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("invalid_metadata"), "{figures}");
}
