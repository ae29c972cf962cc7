//! Project tasks: `cargo xtask <task>`.
//!
//! - `build-plugins`   build every plugin under `plugins/` and `tests/components/`
//!   to a WebAssembly component in `target/plugins/<name>.wasm`: Rust crates
//!   with cargo, JavaScript (`package.json`) with componentize-js and Python
//!   (`pyproject.toml`) with componentize-py (those also in `tests/foreign/`),
//!   their toolchains installed into `target/toolchains/` from the lock files
//!   in `sdk/js/` and `sdk/py/`
//! - `test`            build the plugins, then run the whole test suite, the
//!   API checks from outside (`api-check`) and the browser tests (`browser-check`)
//! - `api-check`       validate the OpenAPI document, fuzz every operation, buy
//!   through a generated client (Python tools pinned in `tests/api-tools/`)
//! - `browser-check`   the storefront and console driven in Debian's Chromium
//!   (`tests/browser/`, playwright-core pinned), screenshots in `target/screenshots/`
//! - `bench plugins`   build the plugins, then run the plugin runtime benchmark
//! - `bench events`    webhook delivery (1,000 events) and the 90-day sales
//!   report over 100,000 orders (criterion), on SQLite and on PostgreSQL when
//!   `MERCATO_BENCH_POSTGRES_URL` is set
//! - `bench api`       build the plugins, `mercato` and `mercato-loadgen` (release),
//!   then load the HTTP API of a real `mercato serve` on SQLite (and on
//!   PostgreSQL when `MERCATO_BENCH_POSTGRES_URL` or `MERCATO_TEST_POSTGRES_URL` is set)
//! - `demo`            build the plugins and the release host (the build `bench api`
//!   uses), then run the demo

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const TARGET: &str = "wasm32-wasip2";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["build-plugins"] => build_plugins().map(|_| ()),
        ["test", rest @ ..] => test(rest),
        ["bench", "plugins", rest @ ..] => bench_plugins(rest),
        ["bench", "api", rest @ ..] => bench_api(rest),
        ["bench", "events", rest @ ..] => bench_events(rest),
        ["demo"] => demo(),
        ["api-check"] => build_plugins().and_then(|_| api_check(true)),
        ["browser-check"] => build_plugins().and_then(|_| browser_check(true)),
        _ => {
            eprintln!(
                "usage: cargo xtask <task>\n\n  build-plugins    build every plugin to target/plugins/<name>.wasm\n  test [args]      build the plugins, then cargo test --workspace [args]\n                   (and, unfiltered, the API checks)\n  api-check        validate, fuzz and drive the HTTP API from outside\n  browser-check    the storefront and console in a real Chromium\n  bench plugins    plugin runtime benchmark (criterion), ends with a JSON line\n  bench events     webhook delivery and sales report benchmark (criterion)\n  bench api [args] HTTP load test of a release host (SQLite; PostgreSQL when\n                   MERCATO_BENCH_POSTGRES_URL is set), ends with a JSON line;\n                   args: --clients N --duration S --scenarios a,b (see --help)\n  demo             build everything and run the demo"
            );
            bail!("unknown task {:?}", args);
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn run(mut cmd: Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("failed to start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// rustup installs the target on a fresh toolchain from rust-toolchain.toml,
/// but not onto a toolchain that was installed before the file existed.
fn ensure_wasm_target() -> Result<()> {
    let sysroot = Command::new("rustc").arg("--print").arg("sysroot").current_dir(root()).output()?;
    let sysroot = PathBuf::from(String::from_utf8(sysroot.stdout)?.trim());
    if sysroot.join("lib/rustlib").join(TARGET).exists() {
        return Ok(());
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", TARGET]).current_dir(root());
    run(cmd).context("the wasm32-wasip2 target is missing and rustup could not add it")
}

/// Every plugin crate: first-party plugins and the test-only hostile ones.
fn plugin_crates() -> Result<Vec<(String, PathBuf)>> {
    let mut crates = Vec::new();
    for dir in ["plugins", "tests/components"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else { continue };
        for entry in entries {
            let path = entry?.path();
            let manifest = path.join("Cargo.toml");
            if !manifest.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&manifest)?;
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("name = \""))
                .and_then(|l| l.strip_suffix('"'))
                .with_context(|| format!("no package name in {}", manifest.display()))?;
            crates.push((name.to_owned(), path));
        }
    }
    crates.sort();
    Ok(crates)
}

/// A plugin written in another language: its directory and language.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Js,
    Py,
}

/// Every JavaScript (`package.json`) and Python (`pyproject.toml`) plugin:
/// first-party ones in `plugins/`, test-only ones in `tests/foreign/` (out
/// of the way of the workspace's `tests/components/*` crates).
fn foreign_plugins() -> Result<Vec<(Lang, PathBuf)>> {
    let mut found = Vec::new();
    for dir in ["plugins", "tests/foreign"] {
        let Ok(entries) = std::fs::read_dir(root().join(dir)) else { continue };
        for entry in entries {
            let path = entry?.path();
            if path.join("Cargo.toml").exists() {
                continue;
            }
            if path.join("package.json").exists() {
                found.push((Lang::Js, path));
            } else if path.join("pyproject.toml").exists() {
                found.push((Lang::Py, path));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

/// The newest modification time of the files under `dir`.
fn newest(dir: &Path) -> std::time::SystemTime {
    let mut latest = std::time::UNIX_EPOCH;
    let Ok(entries) = std::fs::read_dir(dir) else { return latest };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "node_modules" || name == "__pycache__" {
            continue;
        }
        let time = if path.is_dir() {
            newest(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH)
        };
        latest = latest.max(time);
    }
    latest
}

/// Installs a toolchain from its lock file into `target/toolchains/<name>`
/// unless the same lock file was installed there already.
fn toolchain(name: &str, lock: &Path, install: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    let dir = target_dir().join("toolchains").join(name);
    let locked = std::fs::read_to_string(lock).with_context(|| format!("cannot read {}", lock.display()))?;
    let stamp = dir.join(".installed-lock");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(locked.as_str()) {
        eprintln!("installing the {name} plugin toolchain from {}…", lock.display());
        std::fs::create_dir_all(&dir)?;
        install(&dir)?;
        std::fs::write(&stamp, &locked)?;
    }
    Ok(dir)
}

/// componentize-js and jco, pinned in `sdk/js/package-lock.json`.
fn js_toolchain() -> Result<PathBuf> {
    ensure_debian(&[("node", &["nodejs", "npm"])])?;
    let sdk = root().join("sdk/js");
    toolchain("js", &sdk.join("package-lock.json"), |dir| {
        std::fs::copy(sdk.join("package.json"), dir.join("package.json"))?;
        std::fs::copy(sdk.join("package-lock.json"), dir.join("package-lock.json"))?;
        let mut cmd = Command::new("npm");
        cmd.args(["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"]).arg(dir);
        run(cmd)
    })
}

/// componentize-py, pinned with hashes in `sdk/py/requirements.lock`.
fn py_toolchain() -> Result<PathBuf> {
    let lock = root().join("sdk/py/requirements.lock");
    toolchain("py", &lock, |dir| {
        let mut venv = Command::new("python3");
        venv.args(["-m", "venv", "--clear"]).arg(dir);
        run(venv).context("python3 -m venv (the Python plugins need CPython 3.11 or later)")?;
        let mut pip = Command::new(dir.join("bin/pip"));
        pip.args(["install", "--quiet", "--require-hashes", "--no-deps", "-r"]).arg(&lock);
        run(pip)
    })
}

/// Builds the JavaScript and Python plugins whose sources (or SDK, or
/// toolchain) changed since their component was built.
fn build_foreign_plugins(out_dir: &Path) -> Result<Vec<PathBuf>> {
    let plugins = foreign_plugins()?;
    let mut built = Vec::new();
    let (mut js, mut py) = (None, None);
    for (lang, dir) in plugins {
        let name = dir.file_name().and_then(|n| n.to_str()).context("plugin folder name")?.to_owned();
        let dest = out_dir.join(format!("{name}.wasm"));
        let (sdk, tool) = match lang {
            Lang::Js => (
                "sdk/js",
                match &js {
                    Some(t) => t,
                    None => js.insert(js_toolchain()?),
                },
            ),
            Lang::Py => (
                "sdk/py",
                match &py {
                    Some(t) => t,
                    None => py.insert(py_toolchain()?),
                },
            ),
        };
        let inputs = newest(&dir).max(newest(&root().join(sdk))).max(newest(&root().join("wit")));
        let stamp = tool.join(".installed-lock").metadata().and_then(|m| m.modified()).ok();
        let fresh = dest
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|built| built > inputs && stamp.is_none_or(|s| built > s));
        if !fresh {
            let mut cmd = match lang {
                Lang::Js => {
                    let mut cmd = Command::new("node");
                    cmd.arg(root().join("sdk/js/build.mjs")).arg(&dir).arg("--toolchain").arg(tool);
                    cmd
                }
                Lang::Py => {
                    let mut cmd = Command::new("python3");
                    cmd.arg(root().join("sdk/py/build.py"))
                        .arg(&dir)
                        .arg("--componentize-py")
                        .arg(tool.join("bin/componentize-py"));
                    cmd
                }
            };
            cmd.arg("-o").arg(&dest).current_dir(root());
            run(cmd).with_context(|| format!("failed to build plugin {name}"))?;
        }
        let size = std::fs::metadata(&dest)?.len();
        println!("built {:<28} {:>8} bytes  {}", name, size, dest.display());
        built.push(dest);
    }
    Ok(built)
}

/// The JavaScript and Python SDKs' own tests, and every plugin's fixtures
/// run natively (the Rust tests run them through the components).
fn sdk_check() -> Result<()> {
    let plugins = foreign_plugins()?;
    let dirs = |lang: Lang| plugins.iter().filter(move |(l, _)| *l == lang).map(|(_, d)| d.clone());
    let mut cmd = Command::new("node");
    cmd.args(["--test"]).arg(root().join("sdk/js/test")).current_dir(root());
    run(cmd)?;
    let mut cmd = Command::new("node");
    cmd.arg(root().join("sdk/js/fixtures.mjs")).args(dirs(Lang::Js)).current_dir(root());
    run(cmd)?;
    let componentize_py = py_toolchain()?.join("bin/componentize-py");
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "unittest", "discover", "-s"]).arg(root().join("sdk/py/tests")).current_dir(root());
    cmd.env("MERCATO_COMPONENTIZE_PY", &componentize_py);
    run(cmd)?;
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("sdk/py/fixtures.py")).args(dirs(Lang::Py)).current_dir(root());
    cmd.env("MERCATO_COMPONENTIZE_PY", &componentize_py);
    run(cmd)
}

/// Installs Debian packages for the commands missing: (command, packages).
fn ensure_debian(needed: &[(&str, &[&str])]) -> Result<()> {
    let mut missing: Vec<&str> = Vec::new();
    for (command, packages) in needed {
        let found = if command.starts_with('/') {
            Path::new(command).exists()
        } else {
            Command::new(command).arg("--version").output().is_ok()
        };
        if !found {
            missing.extend(*packages);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("installing {} from Debian's packages…", missing.join(", "));
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run(update).context("apt-get update (installing build and test tools; run as root)")?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "-qq", "--no-install-recommends"]).args(&missing);
    install.env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

/// Builds each plugin on its own: a workspace build would unify the SDK's
/// per-extension-point features, and a component exports exactly one world.
fn build_plugins() -> Result<Vec<PathBuf>> {
    ensure_wasm_target()?;
    let out_dir = target_dir().join("plugins");
    std::fs::create_dir_all(&out_dir)?;
    let mut built = Vec::new();
    for (name, _) in plugin_crates()? {
        let mut cmd = cargo();
        cmd.args(["build", "--quiet", "--package", &name, "--target", TARGET, "--profile", "plugin"]);
        run(cmd).with_context(|| format!("failed to build plugin {name}"))?;
        // A library's artifact has underscores; a binary's keeps its name.
        let out = target_dir().join(TARGET).join("plugin");
        let lib = out.join(format!("{}.wasm", name.replace('-', "_")));
        let artifact = if lib.exists() { lib } else { out.join(format!("{name}.wasm")) };
        let dest = out_dir.join(format!("{name}.wasm"));
        std::fs::copy(&artifact, &dest)
            .with_context(|| format!("plugin {name} produced no component at {}", artifact.display()))?;
        let size = std::fs::metadata(&dest)?.len();
        println!("built {:<28} {:>8} bytes  {}", name, size, dest.display());
        built.push(dest);
    }
    built.extend(build_foreign_plugins(&out_dir)?);
    Ok(built)
}

fn test(extra: &[&str]) -> Result<()> {
    build_plugins()?;
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--exclude", "xtask"]).args(extra);
    run(cmd)?;
    if extra.is_empty() {
        sdk_check()?;
    }
    // A filtered run (`cargo xtask test name`) is a developer's quick loop.
    // It uses the debug host `cargo test` just built for its own tests.
    if extra.is_empty() {
        api_check(false)?;
        browser_check(false)
    } else {
        Ok(())
    }
}

/// The storefront and console in a real browser (`tests/browser/`):
/// Debian's Chromium driven by playwright-core (pinned in
/// `tests/browser/package-lock.json`, which never downloads a browser),
/// against a real `mercato demo`. Chromium and Node.js are installed from
/// Debian's packages when missing (as root); the npm packages when the
/// lock file changes. Screenshots and timings go to `target/screenshots/`.
fn browser_check(build_host: bool) -> Result<()> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    ensure_debian(&[(chromium.as_str(), &["chromium"]), ("node", &["nodejs", "npm"])])?;
    let dir = root().join("tests/browser");
    let lock = std::fs::read_to_string(dir.join("package-lock.json"))?;
    let stamp = dir.join("node_modules/.installed-lock.json");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(lock.as_str()) {
        eprintln!("installing the browser test driver (npm ci)…");
        let mut cmd = Command::new("npm");
        cmd.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir);
        run(cmd)?;
        std::fs::write(&stamp, &lock)?;
    }
    if build_host {
        let mut build = cargo();
        build.args(["build", "--package", "mercato"]);
        run(build)?;
    }
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-concurrency=1"])
        .current_dir(&dir)
        .env("CHROMIUM", &chromium)
        .env(
            "MERCATO_BIN",
            target_dir().join("debug").join(format!("mercato{}", std::env::consts::EXE_SUFFIX)),
        )
        .env("MERCATO_PLUGIN_DIR", target_dir().join("plugins"));
    run(cmd)
}

/// The API checked from outside (`tests/api-tools/check.py`): the OpenAPI
/// document validated, every operation fuzzed per audience, a generated
/// client buying. The tools are pinned in `tests/api-tools/requirements.txt`
/// and installed into `target/api-tools` (a virtual environment) when the
/// pins change.
fn api_check(build_host: bool) -> Result<()> {
    let venv = target_dir().join("api-tools");
    let requirements = root().join("tests/api-tools/requirements.txt");
    let pins = std::fs::read_to_string(&requirements)?;
    let stamp = venv.join("installed-requirements.txt");
    let python = venv.join("bin/python");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(pins.as_str()) || !python.exists() {
        eprintln!("installing the API check tools into {}…", venv.display());
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "venv", "--clear"]).arg(&venv);
        run(cmd)?;
        let mut cmd = Command::new(&python);
        cmd.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&requirements);
        run(cmd)?;
        std::fs::write(&stamp, &pins)?;
    }
    if build_host {
        let mut build = cargo();
        build.args(["build", "--package", "mercato"]);
        run(build)?;
    }
    let mut cmd = Command::new(&python);
    cmd.arg(root().join("tests/api-tools/check.py"))
        .arg(target_dir().join("debug").join(format!("mercato{}", std::env::consts::EXE_SUFFIX)))
        .arg(target_dir().join("plugins"));
    run(cmd)
}

/// Webhook delivery and sales reports (criterion), SQLite and, when
/// `MERCATO_BENCH_POSTGRES_URL` is set, PostgreSQL.
fn bench_events(extra: &[&str]) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["bench", "--package", "mercato", "--bench", "events", "--"]).args(extra);
    run(cmd)
}

fn bench_plugins(extra: &[&str]) -> Result<()> {
    build_plugins()?;
    let mut cmd = cargo();
    cmd.args(["bench", "--package", "mercato", "--bench", "plugins", "--"]).args(extra);
    run(cmd)
}

/// Builds the release `mercato` and `mercato-loadgen` together: the bench
/// and the demo build the same packages in one invocation, so cargo unifies
/// the host's dependencies' features the same way and one never rebuilds
/// what the other built.
fn build_release_host() -> Result<PathBuf> {
    eprintln!("building mercato and mercato-loadgen (release)…");
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--package", "mercato", "--package", "mercato-loadgen"]);
    run(cmd)?;
    Ok(target_dir().join("release"))
}

fn bench_api(extra: &[&str]) -> Result<()> {
    build_plugins()?;
    let release = build_release_host()?;
    let mut cmd = Command::new(release.join(format!("mercato-loadgen{}", std::env::consts::EXE_SUFFIX)));
    cmd.current_dir(root())
        .arg("--mercato")
        .arg(release.join(format!("mercato{}", std::env::consts::EXE_SUFFIX)))
        .arg("--plugin-dir")
        .arg(target_dir().join("plugins"))
        .args(extra);
    run(cmd)
}

fn demo() -> Result<()> {
    build_plugins()?;
    let release = build_release_host()?;
    let mut cmd = Command::new(release.join(format!("mercato{}", std::env::consts::EXE_SUFFIX)));
    cmd.current_dir(root()).arg("demo").env("MERCATO_PLUGIN_DIR", target_dir().join("plugins"));
    run(cmd)
}
