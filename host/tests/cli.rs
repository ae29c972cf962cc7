//! The `mercato` binary end to end: each test runs the real executable on
//! the real components that `cargo xtask build-plugins` put in
//! target/plugins, with its own `MERCATO_DATA_DIR` so compiled-component
//! caches never collide.
//!
//! Exit codes: 0 success, 1 the plugin ran and failed (out of fuel, trap,
//! plugin error), 2 the call could not be made (bad arguments, unreadable or
//! invalid files, input that does not fit the extension point, a component
//! that cannot be installed).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use tempfile::TempDir;

const POINTS: [&str; 5] = ["pricing", "tax", "shipping", "payment", "recommendations"];

/// What `mercato plugin new` writes.
const FILES: [&str; 5] = [
    "Cargo.toml",
    "src/lib.rs",
    "fixtures/example.input.json",
    "fixtures/example.config.json",
    "fixtures/example.expected.json",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ is in the repo").to_path_buf()
}

/// Where `cargo xtask build-plugins` puts components.
fn components_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
        .join("plugins")
}

/// The path of a built component.
#[track_caller]
fn component(name: &str) -> PathBuf {
    let path = components_dir().join(format!("{name}.wasm"));
    assert!(path.is_file(), "{} is missing: run cargo xtask build-plugins", path.display());
    path
}

/// `plugins/<plugin>/fixtures/<case>.<kind>.json`.
#[track_caller]
fn fixture(plugin: &str, case: &str, kind: &str) -> PathBuf {
    let path = repo_root().join("plugins").join(plugin).join("fixtures").join(format!("{case}.{kind}.json"));
    assert!(path.is_file(), "fixture {} is missing", path.display());
    path
}

#[track_caller]
fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

#[track_caller]
fn s(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// A finished process, with what it printed.
struct Run {
    what: String,
    output: Output,
}

impl Run {
    #[track_caller]
    fn new(mut cmd: Command) -> Self {
        let what = format!("{cmd:?}");
        let output = cmd.output().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        Run { what, output }
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn describe(&self) -> String {
        format!(
            "{}\n{}\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// Asserts exit code 0; returns stdout.
    #[track_caller]
    fn success(&self) -> String {
        assert!(self.output.status.success(), "expected success:\n{}", self.describe());
        self.stdout()
    }

    /// Asserts exit 0 and that stdout is exactly one JSON object.
    #[track_caller]
    fn json(&self) -> serde_json::Map<String, Value> {
        let stdout = self.success();
        match serde_json::from_str(&stdout) {
            Ok(Value::Object(map)) => map,
            other => panic!("stdout is not one JSON object ({other:?}):\n{}", self.describe()),
        }
    }

    /// Asserts the exit code and that stderr contains every needle; returns stderr.
    #[track_caller]
    fn fails(&self, code: i32, needles: &[&str]) -> String {
        assert_eq!(self.output.status.code(), Some(code), "wrong exit code:\n{}", self.describe());
        let stderr = self.stderr();
        for needle in needles {
            assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{}", self.describe());
        }
        stderr
    }
}

/// The `mercato` binary with a data dir of its own.
struct Mercato {
    dir: TempDir,
}

impl Mercato {
    fn new() -> Self {
        Mercato { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// A scratch file for this test.
    #[track_caller]
    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write scratch file");
        path
    }

    #[track_caller]
    fn run<S: AsRef<OsStr>>(&self, args: impl IntoIterator<Item = S>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mercato"));
        cmd.args(args).env("MERCATO_DATA_DIR", self.dir.path().join("data")).env("NO_COLOR", "1");
        Run::new(cmd)
    }

    /// `mercato plugin run <component> --input <input> [extra…]`.
    #[track_caller]
    fn plugin_run(&self, component: &Path, input: &Path, extra: &[&str]) -> Run {
        self.run(["plugin", "run", s(component), "--input", s(input)].iter().chain(extra))
    }

    /// `hostile-tax` with `{"mode": mode}` on a US cart.
    #[track_caller]
    fn hostile_tax(&self, mode: &str, extra: &[&str]) -> Run {
        let config = self.file(&format!("{mode}.config.json"), format!(r#"{{"mode":"{mode}"}}"#).as_bytes());
        let input = fixture("us-sales-tax", "ny_taxes_shipping", "input");
        self.plugin_run(&component("hostile-tax"), &input, &[&["--config", s(&config)], extra].concat())
    }
}

#[test]
fn plugin_run_prints_output_fuel_memory_and_duration() {
    let m = Mercato::new();
    let case = |kind| fixture("us-sales-tax", "ny_taxes_shipping", kind);
    let input = case("input");
    let config = case("config");
    let run = m.plugin_run(&component("us-sales-tax"), &input, &["--config", s(&config)]);
    let report = run.json();
    assert_eq!(run.stdout().trim().lines().count(), 1, "one line:\n{}", run.describe());
    let mut keys: Vec<_> = report.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["duration_us", "fuel_used", "install_ms", "logs", "memory_peak_bytes", "output"]);
    assert_eq!(report["output"], read_json(&case("expected")));
    let positive = |key: &str| report[key].as_u64().is_some_and(|n| n > 0);
    assert!(positive("fuel_used"), "fuel_used: {}", report["fuel_used"]);
    assert!(positive("memory_peak_bytes"), "memory_peak_bytes: {}", report["memory_peak_bytes"]);
    assert!(report["duration_us"].is_u64(), "duration_us: {}", report["duration_us"]);
    assert!(report["logs"].is_array(), "logs: {}", report["logs"]);
    assert!(report["install_ms"].is_number(), "install_ms: {}", report["install_ms"]);

    // Repeated: the same answer, with the median and p99 of the calls after the first.
    let run = m.plugin_run(&component("us-sales-tax"), &input, &["--config", s(&config), "--repeat", "5"]);
    let report = run.json();
    assert_eq!(report["output"], read_json(&case("expected")));
    let repeated = &report["repeated"];
    assert_eq!(repeated["calls"], 4, "{}", run.describe());
    assert!(repeated["median_us"].as_u64().unwrap() <= repeated["p99_us"].as_u64().unwrap(), "{repeated}");
    let refused =
        m.plugin_run(&component("us-sales-tax"), &input, &["--config", s(&config), "--repeat", "0"]);
    refused.fails(2, &["--repeat"]);
}

#[test]
fn plugin_run_without_config_gives_the_plugin_an_empty_config() {
    let m = Mercato::new();
    let input = fixture("test-gateway", "capture", "input");
    assert!(!input.with_file_name("capture.config.json").exists(), "the case must have no config");
    let report = m.plugin_run(&component("test-gateway"), &input, &[]).json();
    assert_eq!(report["output"], read_json(&fixture("test-gateway", "capture", "expected")));
}

#[test]
fn plugin_run_stops_an_endless_loop_when_fuel_runs_out_with_exit_code_1() {
    Mercato::new()
        .hostile_tax("loop", &[])
        .fails(1, &["hostile-tax@0.1.0", "ran out of fuel", "[out_of_fuel]"]);
}

#[test]
fn plugin_run_fuel_flag_overrides_the_fuel_limit() {
    let run = Mercato::new().hostile_tax("loop", &["--fuel", "1000000"]);
    run.fails(1, &["hostile-tax@0.1.0", "ran out of fuel", "limit 1000000 instructions"]);
}

#[test]
fn plugin_run_reports_a_trapping_plugin_with_exit_code_1() {
    let run = Mercato::new().hostile_tax("trap", &[]);
    // The panic's own message, said once; what the plugin printed kept.
    let stderr = run.fails(1, &["hostile-tax@0.1.0", "[trap]", "hostile plugin panicked on purpose"]);
    assert_eq!(stderr.matches("panicked on purpose").count(), 1, "one error:\n{}", run.describe());
    let report: Value = serde_json::from_str(run.stdout().trim()).expect("a JSON report on stdout");
    assert_eq!(report["error"]["code"], "trap");
    let logs = report["logs"].as_array().unwrap();
    assert!(logs.iter().any(|l| l["message"].as_str().unwrap().contains("panicked at")), "{report:#}");
}

#[test]
fn plugin_run_names_a_stack_overflow() {
    Mercato::new().hostile_tax("recurse", &[]).fails(1, &["overflowed its stack", "[stack_overflow]"]);
}

#[test]
fn plugin_run_reports_a_plugin_error_with_exit_code_1() {
    let run = Mercato::new().hostile_tax("refuse", &[]);
    run.fails(1, &["hostile-tax@0.1.0", "unsupported_region", "no tax tables for this region"]);
}

#[test]
fn plugin_run_rejects_input_that_does_not_fit_the_extension_point_with_exit_code_2() {
    let m = Mercato::new();
    let input = m.file("foo.json", br#"{"foo":1}"#);
    let stderr = m.plugin_run(&component("us-sales-tax"), &input, &[]).fails(2, &["not a valid tax input"]);
    assert!(stderr.contains("currency"), "names the missing field: {stderr}");
}

#[test]
fn plugin_run_names_a_missing_input_file() {
    let m = Mercato::new();
    let missing = m.dir.path().join("no-such-input.json");
    m.plugin_run(&component("us-sales-tax"), &missing, &[]).fails(2, &["cannot read", s(&missing)]);
}

#[test]
fn plugin_run_rejects_input_or_config_that_is_not_json() {
    let m = Mercato::new();
    let bad = m.file("bad.json", b"{not json");
    let stderr = m.plugin_run(&component("us-sales-tax"), &bad, &[]).fails(2, &["not valid JSON"]);
    assert!(stderr.contains(s(&bad)), "names the file: {stderr}");
    let input = fixture("us-sales-tax", "ny_taxes_shipping", "input");
    let run = m.plugin_run(&component("us-sales-tax"), &input, &["--config", s(&bad)]);
    run.fails(2, &["not valid JSON", s(&bad)]);
}

#[test]
fn plugin_inspect_prints_name_version_world_imports_size_and_hash() {
    let report = Mercato::new().run(["plugin", "inspect", s(&component("eu-vat"))]).json();
    assert_eq!(report["name"], "eu-vat");
    assert_eq!(report["version"], "0.1.0");
    assert_eq!(report["extension_point"], "tax");
    assert_eq!(report["world"], "mercato:plugin/tax-plugin@0.2.0", "SDK tax plugins speak 0.2.0");
    let imports = report["imports"].as_array().expect("imports is an array");
    assert!(imports.iter().any(|i| i == "mercato:plugin/types@0.2.0"), "imports: {imports:?}");
    assert!(report["size_bytes"].as_u64().is_some_and(|n| n > 0), "size_bytes: {}", report["size_bytes"]);
    let sha = report["sha256"].as_str().expect("sha256 is a string");
    assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()), "sha256: {sha}");
    assert!(report["config_schema"].is_object(), "config_schema: {}", report["config_schema"]);
}

#[test]
fn plugin_inspect_rejects_a_component_with_a_forbidden_import() {
    let run = Mercato::new().run(["plugin", "inspect", s(&component("hostile-fs"))]);
    run.fails(2, &["forbidden import", "wasi:filesystem"]);
}

#[test]
fn plugin_inspect_rejects_bytes_that_are_not_a_component() {
    let m = Mercato::new();
    let garbage = m.file("garbage.wasm", b"\x7fELF this is not wasm at all");
    m.run(["plugin", "inspect", s(&garbage)]).fails(2, &["not a WebAssembly component", s(&garbage)]);
}

/// A workspace like the repository's, outside it, depending on this SDK.
#[track_caller]
fn scaffold_workspace() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let sdk = repo_root().join("sdk");
    let manifest = format!(
        r#"[workspace]
resolver = "2"
members = ["plugins/*"]
[workspace.package]
edition = "2024"
[workspace.dependencies]
mercato-sdk = {{ path = {sdk:?} }}
serde = {{ version = "1", features = ["derive"] }}
serde_json = "1"
[workspace.lints.rust]
unsafe_code = "deny"
[profile.plugin]
inherits = "release"
"#,
        sdk = s(&sdk)
    );
    std::fs::write(dir.path().join("Cargo.toml"), manifest).expect("write Cargo.toml");
    std::fs::copy(repo_root().join("Cargo.lock"), dir.path().join("Cargo.lock")).expect("copy Cargo.lock");
    dir
}

/// `cargo <args> --offline --manifest-path <workspace>/Cargo.toml`, building
/// into target/scaffold-check: kept across runs, and not the outer build's
/// target dir, whose lock the running `cargo test` holds. It runs from the
/// repository so rustup picks the repository's toolchain.
#[track_caller]
fn cargo(workspace: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(args)
        .arg("--offline")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .current_dir(repo_root())
        .env("CARGO_TARGET_DIR", repo_root().join("target").join("scaffold-check"));
    Run::new(cmd)
}

#[test]
fn scaffolded_plugins_of_every_extension_point_build_and_pass_their_tests() {
    let m = Mercato::new();
    let ws = scaffold_workspace();
    let plugins = ws.path().join("plugins");
    let new = |point: &str, name: &str| {
        let stdout = m.run(["plugin", "new", point, name, "--dir", s(&plugins)]).success();
        assert!(stdout.contains(&format!("created {point} plugin {name}")), "{stdout}");
        for file in FILES {
            assert!(plugins.join(name).join(file).is_file(), "{name}: {file} missing");
        }
    };
    for point in POINTS {
        new(point, &format!("my-{point}-plugin"));
        // Named after its extension point, the plugin's type must not clash
        // with the trait of the same name.
        new(point, point);
    }

    // Natively, every scaffold's own fixture test passes.
    let stdout = cargo(ws.path(), &["test", "--workspace"]).success();
    let passed = stdout.matches("test tests::fixtures ... ok").count();
    assert_eq!(passed, 2 * POINTS.len(), "each scaffold runs its fixture test:\n{stdout}");

    // Each builds to a component on its own (one SDK feature per build) that
    // gives the fixture's expected output in the sandbox.
    let out = repo_root().join("target/scaffold-check/wasm32-wasip2/plugin");
    for point in POINTS {
        let name = format!("my-{point}-plugin");
        cargo(ws.path(), &["build", "-p", &name, "--target", "wasm32-wasip2", "--profile", "plugin"])
            .success();
        let wasm = out.join(format!("{}.wasm", name.replace('-', "_")));
        let fixtures = plugins.join(&name).join("fixtures");
        let config = fixtures.join("example.config.json");
        let run = m.plugin_run(&wasm, &fixtures.join("example.input.json"), &["--config", s(&config)]);
        assert_eq!(run.json()["output"], read_json(&fixtures.join("example.expected.json")), "{name}");
        let inspect = m.run(["plugin", "inspect", s(&wasm)]).json();
        assert_eq!(inspect["name"], name.as_str());
        assert_eq!(inspect["extension_point"], point);
    }
}

#[test]
fn plugin_new_rejects_a_crate_name_that_is_not_lowercase_kebab_case() {
    let m = Mercato::new();
    let dir = m.dir.path().join("plugins");
    let run = m.run(["plugin", "new", "tax", "Bad_Name", "--dir", s(&dir)]);
    run.fails(2, &["\"Bad_Name\"", "lowercase letters, digits and '-'"]);
    assert!(!dir.join("Bad_Name").exists(), "nothing is written");
}

#[test]
fn plugin_new_rejects_an_unknown_extension_point_naming_the_five() {
    let m = Mercato::new();
    let dir = m.dir.path().join("plugins");
    let run = m.run(["plugin", "new", "teleport", "x-y", "--dir", s(&dir)]);
    let stderr = run.fails(2, &["unknown extension point \"teleport\""]);
    for point in POINTS {
        assert!(stderr.contains(point), "stderr lacks {point:?}: {stderr}");
    }
    assert!(!dir.join("x-y").exists(), "nothing is written");
}

#[test]
fn plugin_new_refuses_to_overwrite_an_existing_directory() {
    let m = Mercato::new();
    let dir = m.dir.path().join("plugins");
    std::fs::create_dir_all(dir.join("my-tax")).expect("create dir");
    let mine = m.file("plugins/my-tax/notes.txt", b"mine");
    let run = m.run(["plugin", "new", "tax", "my-tax", "--dir", s(&dir)]);
    run.fails(2, &["already exists", s(&dir.join("my-tax"))]);
    assert_eq!(std::fs::read(&mine).expect("still there"), b"mine");
    assert!(!dir.join("my-tax/Cargo.toml").exists(), "nothing is written");
}
