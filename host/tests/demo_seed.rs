//! The demo's seeding, through the commerce layer, on a fresh SQLite
//! database (twice, because tests seed databases that are not empty), and
//! `mercato demo` itself: it seeds, prints the keys and serves them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use mercato::cli::demo::seed::{self, DemoMerchant};
use mercato::commerce::plugins::{self, Bindings};
use mercato::commerce::{discounts, inventory, merchants};
use mercato::db::Db;
use mercato::runtime::{Runtime, RuntimeConfig};

/// Where `cargo xtask build-plugins` puts components.
fn components_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ is in the repo");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("plugins")
}

/// The plugins bound to a merchant, by name, in extension-point and call order.
async fn bound(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    m: &DemoMerchant,
) -> Vec<(String, String)> {
    let all = plugins::list_bindings(db, runtime, bindings, &m.id).await.expect("bindings");
    [&all.pricing, &all.tax, &all.shipping, &all.payment]
        .iter()
        .flat_map(|b| b.iter())
        .map(|b| (b.plugin_name.clone(), b.plugin_id.clone()))
        .collect()
}

/// A runtime sharing the compile cache of the end-to-end tests: each
/// component compiles once per build.
fn runtime() -> Arc<Runtime> {
    let cache = Some(components_dir().join("test-cache"));
    Arc::new(Runtime::new(RuntimeConfig { cache_dir: cache, ..Default::default() }).expect("runtime"))
}

#[tokio::test]
async fn seeding_twice_on_one_sqlite_database_gives_four_merchants_and_reuses_the_plugins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("demo.db").display())).await.expect("db");
    seed_twice(db).await;
}

#[tokio::test]
async fn seeding_twice_on_one_postgres_schema_gives_four_merchants_and_reuses_the_plugins() {
    let Ok(url) = std::env::var("MERCATO_TEST_POSTGRES_URL") else {
        eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL");
        return;
    };
    // A schema of its own, named like the end-to-end tests' so that their
    // clean-up drops it if this test dies before dropping it itself.
    let schema = format!("t_{}", mercato::commerce::ids::new_id("s").to_lowercase().replace('_', ""));
    let admin = sqlx::AnyPool::connect(&url).await.expect("connect to MERCATO_TEST_POSTGRES_URL");
    sqlx::query(&format!("create schema {schema}")).execute(&admin).await.expect("create schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let db = Db::connect(&format!("{url}{sep}options=-c%20search_path%3D{schema}")).await.expect("db");
    seed_twice(db).await;
    sqlx::query(&format!("drop schema {schema} cascade")).execute(&admin).await.expect("drop schema");
}

async fn seed_twice(db: Db) {
    let plugin_dir = components_dir();
    assert!(
        plugin_dir.join("eu-vat.wasm").is_file(),
        "{} is empty: run cargo xtask build-plugins",
        plugin_dir.display()
    );
    db.migrate().await.expect("migrations");
    let runtime = runtime();
    let bindings = Bindings::default();

    let first = seed::seed(&db, &runtime, &bindings, &plugin_dir).await.expect("first seed");
    let second = seed::seed(&db, &runtime, &bindings, &plugin_dir).await.expect("second seed");

    assert_eq!((first.us.slug.as_str(), first.de.slug.as_str()), ("acme", "lindenblatt"));
    assert_eq!((second.us.slug.as_str(), second.de.slug.as_str()), ("acme-2", "lindenblatt-2"));
    assert_eq!((first.us.currency.as_str(), first.de.currency.as_str()), ("USD", "EUR"));
    assert_eq!(first.us.payment_provider, "test-gateway");
    assert_eq!(first.de.payment_provider, "manual");
    assert_eq!(first.de.discount_code.as_deref(), Some("LESEN10"));
    assert_eq!(first.us.discount_code.as_deref(), Some("TRAIL10"));

    let us = bound(&db, &runtime, &bindings, &first.us).await;
    let names: Vec<&str> = us.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["volume-discount", "coupon", "us-sales-tax", "flat-rate", "test-gateway"]);
    let de = bound(&db, &runtime, &bindings, &first.de).await;
    let names: Vec<&str> = de.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["coupon", "eu-vat", "weight-table", "manual"]);
    assert_eq!(bound(&db, &runtime, &bindings, &second.us).await, us, "the second seed reuses the plugins");
    assert_eq!(bound(&db, &runtime, &bindings, &second.de).await, de, "the second seed reuses the plugins");

    for m in [&first.us, &first.de, &second.us, &second.de] {
        assert!(m.secret_key.starts_with("sk_") && m.publishable_key.starts_with("pk_"));
        assert!(m.variant_ids.len() >= 8, "{} has {} variants", m.slug, m.variant_ids.len());
        let (merchant_id, _) =
            merchants::authenticate(&db, &m.publishable_key).await.unwrap().expect("live key");
        assert_eq!(merchant_id, m.id);
    }
    discounts::validate_code(&db, &first.us.id, "trail10", mercato::db::now_ms())
        .await
        .expect("the outfitters' code is usable");
    let walkthrough = first.us.variant_id(seed::US_WALKTHROUGH_SKU).expect("the US walkthrough's variant");
    assert!(inventory::stock(&db, &first.us.id, Some(walkthrough)).await.unwrap().available >= 2);
    let scarce = first.us.variant_id("JACKET-L").expect("the scarce jacket");
    assert_eq!(inventory::stock(&db, &first.us.id, Some(scarce)).await.unwrap().available, 3);
    assert!(first.de.variant_id(seed::DE_WALKTHROUGH_SKU).is_some());
    discounts::validate_code(&db, &first.de.id, "lesen10", mercato::db::now_ms())
        .await
        .expect("the bookshop's code is usable");
}

#[tokio::test]
async fn a_plugin_installed_with_the_same_name_and_version_but_other_bytes_is_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("demo.db").display())).await.expect("db");
    db.migrate().await.expect("migrations");
    let (runtime, bindings) = (runtime(), Bindings::default());
    // The same component plus a custom section: other bytes, same flat-rate@version.
    let mut other = std::fs::read(components_dir().join("flat-rate.wasm")).expect("flat-rate is built");
    let name = b"demo-seed-test";
    other.extend([0, (name.len() + 2) as u8, name.len() as u8]);
    other.extend(name);
    other.push(b'x');
    let (installed, created) = plugins::install(&db, &runtime, &bindings, other).await.expect("installs");
    assert!(created);

    let seeded = seed::seed(&db, &runtime, &bindings, &components_dir()).await.expect("seed");
    let shipping = plugins::list_bindings(&db, &runtime, &bindings, &seeded.us.id).await.unwrap().shipping;
    assert_eq!(shipping[0].plugin_id, installed.id, "the installed flat-rate is bound");
}

#[test]
#[allow(clippy::zombie_processes)]
fn mercato_demo_prints_working_keys_and_a_walkthrough_then_serves_until_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Reuse the compile cache of the other tests rather than compiling every plugin again.
    #[cfg(unix)]
    {
        let cache = components_dir().join("test-cache");
        std::fs::create_dir_all(&cache).expect("cache dir");
        std::os::unix::fs::symlink(cache, dir.path().join("component-cache")).expect("symlink");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["demo", "--listen", "127.0.0.1:0", "--plugin-dir"])
        .arg(components_dir())
        .arg("--data-dir")
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mercato starts");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = Vec::new();
    let addr = loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("demo exited early ({status:?}); printed {printed:#?}");
        }
        if let Some(rest) = line.trim().strip_prefix("listening on http://") {
            break rest.split_whitespace().next().expect("an address").to_owned();
        }
        printed.push(line.trim_end().to_owned());
    };
    let text = printed.join("\n");
    let key = |label: &str| -> Vec<String> {
        let lines = printed.iter().filter_map(|l| l.trim().strip_prefix(label));
        lines.map(|k| k.split_whitespace().next().unwrap_or_default().to_owned()).collect()
    };
    let (operator, publishable) = (key("operator key"), key("publishable key"));
    assert!(operator.len() == 1 && operator[0].starts_with("op_"), "{text}");
    assert!(publishable.len() == 2 && key("secret key").len() == 2, "{text}");
    for part in [
        "/v1/store/carts",
        "shipping-option",
        "discount-codes",
        "LESEN10",
        "Idempotency-Key",
        "/v1/admin/orders/",
    ] {
        assert!(text.contains(part), "the walkthrough mentions {part}:\n{text}");
    }

    let mut stream = TcpStream::connect(&addr).expect("connects");
    let request = format!(
        "GET /v1/store/products HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        publishable[0]
    );
    stream.write_all(request.as_bytes()).expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Trail Tee"), "{response}");

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("kill").success());
    let status = child.wait().expect("exits");
    assert!(status.success(), "the demo shuts down cleanly, got {status}");
}
