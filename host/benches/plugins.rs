//! Plugin runtime benchmark: instantiate + call for tax, pricing and
//! shipping over 20-, 200- and 1,000-line carts, beside the bare instantiate
//! of the smallest plugin and a flat tax over the 0.1.0 tax world; and the
//! same flat tax written in Rust, JavaScript and Python (install, first
//! call, steady calls at 20 and 200 lines). Run with `cargo xtask bench
//! plugins`; it ends with one JSON line of medians in microseconds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use mercato::runtime::{Call, InstalledPlugin, LimitOverrides, Runtime, RuntimeConfig};
use mercato_sdk::pricing::PricingInput;
use mercato_sdk::shipping::{ShipItem, ShippingInput};
use mercato_sdk::tax::{TaxInput, TaxableLine};
use mercato_sdk::{Address, CartLine, Currency, Money};

// The same allocator as the `mercato` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SIZES: [usize; 3] = [20, 200, 1000];

const TAX_CONFIG: &str = r#"{"nexus":["CA","NY","TX"],"states":{"CA":{"rate":"0.0725"},"NY":{"rate":"0.04","tax_shipping":true},"TX":{"rate":"0.0625"}}}"#;
const FLAT_CONFIG: &str = r#"{"rate":"0.0725"}"#;
const PRICING_CONFIG: &str = r#"{"rules":[{"tag":"bulk","breaks":[{"min_quantity":2,"percent":"5"},{"min_quantity":3,"percent":"10"}]},{"product_id":"prod-7","breaks":[{"min_quantity":1,"percent":"20"}]}]}"#;
const SHIPPING_CONFIG: &str = r#"{"zones":[{"name":"domestic","countries":["US"],"services":[{"name":"ground","carrier":"UPS","brackets":[{"max_grams":1000,"amount":599},{"max_grams":20000,"amount":1299},{"max_grams":1000000,"amount":4999}]},{"name":"express","carrier":"UPS","min_days":1,"max_days":2,"brackets":[{"max_grams":50000,"amount":2999}]}]}]}"#;

fn address() -> Address {
    Address {
        name: "Ada Lovelace".into(),
        line1: "1 Market St".into(),
        line2: None,
        city: "San Francisco".into(),
        region: "CA".into(),
        postal_code: "94105".into(),
        country: "US".into(),
    }
}

fn cart_lines(n: usize) -> Vec<CartLine> {
    (0..n)
        .map(|i| CartLine {
            id: format!("line-{i}"),
            product_id: format!("prod-{i}"),
            variant_id: format!("var-{i}"),
            sku: format!("SKU-{i:05}"),
            quantity: 1 + (i % 3) as u32,
            unit_price: Money::new(1999, Currency::USD),
            tags: if i % 2 == 0 { vec!["bulk".into()] } else { vec![] },
            collections: vec![format!("cat-{}", i % 5)],
            tax_code: None,
            weight_grams: Some(250),
        })
        .collect()
}

fn tax_input(n: usize) -> TaxInput<'static> {
    TaxInput {
        currency: Currency::USD,
        lines: cart_lines(n)
            .into_iter()
            .map(|l| TaxableLine {
                amount: l.subtotal().amount,
                id: l.id.into(),
                product_id: l.product_id.into(),
                sku: l.sku.into(),
                quantity: l.quantity,
                tax_code: l.tax_code.map(Into::into),
            })
            .collect(),
        shipping_amount: 799,
        ship_from: None,
        ship_to: address(),
        customer: None,
        prices_include_tax: false,
    }
}

fn pricing_input(n: usize) -> PricingInput {
    PricingInput {
        currency: Currency::USD,
        lines: cart_lines(n),
        customer: None,
        discount_codes: vec![],
        shipping: None,
        previous: vec![],
    }
}

fn shipping_input(n: usize) -> ShippingInput {
    let lines = cart_lines(n);
    ShippingInput {
        currency: Currency::USD,
        destination: address(),
        subtotal: Money::new(lines.iter().map(|l| l.subtotal().amount).sum(), Currency::USD),
        items: lines
            .into_iter()
            .map(|l| ShipItem {
                line_id: l.id,
                sku: l.sku,
                quantity: l.quantity,
                weight_grams: l.weight_grams,
                length_mm: None,
                width_mm: None,
                height_mm: None,
            })
            .collect(),
    }
}

fn components_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("plugins")
}

fn component(name: &str) -> Vec<u8> {
    let path = components_dir().join(format!("{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask bench plugins`", path.display()))
}

fn install(runtime: &Runtime, name: &str) -> std::sync::Arc<InstalledPlugin> {
    runtime.install(&component(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The flat tax in each language: (group, component).
const LANGUAGES: [(&str, &str); 3] =
    [("lang-rust", "flat-tax"), ("lang-js", "flat-tax-js"), ("lang-py", "flat-tax-py")];

/// JavaScript and Python carry an interpreter: a 200-line cart takes more
/// instructions and time than the defaults (set for compiled plugins) allow.
fn language_limits() -> LimitOverrides {
    LimitOverrides { fuel_per_200_lines: Some(500_000_000), deadline_ms: Some(2_000), ..Default::default() }
}

/// Per language: install (compile, in a runtime with no cache), its load
/// from the cache at a restart, and the first call (20 lines), in ms.
fn language_costs(medians: &mut serde_json::Map<String, serde_json::Value>) {
    let cache = std::env::temp_dir().join(format!("mercato-bench-cache-{}", std::process::id()));
    for (group, name) in LANGUAGES {
        let bytes = component(name);
        let _ = std::fs::remove_dir_all(&cache);
        let runtime =
            Runtime::new(RuntimeConfig { cache_dir: Some(cache.clone()), ..Default::default() }).unwrap();
        let started = Instant::now();
        let plugin = runtime.install_with(&bytes, &language_limits()).unwrap();
        let install = started.elapsed();
        let input = tax_input(20);
        let started = Instant::now();
        runtime.tax(Call::new(&plugin, FLAT_CONFIG), &input).expect("first call works");
        let first = started.elapsed();
        let restarted =
            Runtime::new(RuntimeConfig { cache_dir: Some(cache.clone()), ..Default::default() }).unwrap();
        let started = Instant::now();
        restarted.install_with(&bytes, &language_limits()).unwrap();
        let cached = started.elapsed();
        let ms = |d: Duration| serde_json::json!((d.as_secs_f64() * 100_000.0).round() / 100.0);
        medians.insert(format!("{group}_size_mb"), serde_json::json!(bytes.len() as f64 / 1e6));
        medians.insert(format!("{group}_install_ms"), ms(install));
        medians.insert(format!("{group}_cached_install_ms"), ms(cached));
        medians.insert(format!("{group}_first_call_ms"), ms(first));
    }
    let _ = std::fs::remove_dir_all(&cache);
}

fn main() {
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    let empty = install(&runtime, "empty-tax");
    let tax = install(&runtime, "us-sales-tax");
    let flat = install(&runtime, "flat-tax");
    let flat_v01 = install(&runtime, "flat-tax-v0-1");
    let pricing = install(&runtime, "volume-discount");
    let shipping = install(&runtime, "weight-table");
    let mut once = serde_json::Map::new();
    language_costs(&mut once);

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(60)
        .configure_from_args();

    let mut g = c.benchmark_group("instantiate");
    g.bench_function("empty-tax", |b| b.iter(|| runtime.instantiate(&empty).unwrap()));
    g.bench_function("us-sales-tax", |b| b.iter(|| runtime.instantiate(&tax).unwrap()));
    g.finish();

    // The same calls through the smallest tax plugin (marshalling, no work),
    // through flat-tax (one rate, the SDK's 30-line example, over the 0.2.0
    // tax world) and through a flat tax written against 0.1.0 without the
    // SDK (every line's strings cross on their own).
    let groups =
        [("tax-empty", &empty, "{}"), ("tax-flat", &flat, FLAT_CONFIG), ("tax-flat-v0.1", &flat_v01, "{}")];
    for (group, plugin, config) in groups {
        let mut g = c.benchmark_group(group);
        for n in SIZES {
            let input = tax_input(n);
            let call = Call::new(plugin, config);
            runtime.tax(call, &input).expect("tax call works");
            g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, i| {
                b.iter(|| runtime.tax(call, i).unwrap())
            });
        }
        g.finish();
    }

    // The same flat tax in each language, steady calls (the first is above).
    for (group, name) in LANGUAGES {
        let plugin = runtime.install_with(&component(name), &language_limits()).unwrap();
        let mut g = c.benchmark_group(group);
        for n in [20, 200] {
            let input = tax_input(n);
            let call = Call::new(&plugin, FLAT_CONFIG);
            assert_eq!(runtime.tax(call, &input).expect("tax call works").output.lines.len(), n);
            g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, i| {
                b.iter(|| runtime.tax(call, i).unwrap())
            });
        }
        g.finish();
    }

    let mut g = c.benchmark_group("tax");
    for n in SIZES {
        let input = tax_input(n);
        let call = Call::new(&tax, TAX_CONFIG);
        let out = runtime.tax(call, &input).expect("tax call works");
        assert_eq!(out.output.lines.len(), n);
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, i| {
            b.iter(|| runtime.tax(call, i).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("pricing");
    for n in SIZES {
        let input = pricing_input(n);
        let call = Call::new(&pricing, PRICING_CONFIG);
        let out = runtime.pricing(call, &input).expect("pricing call works");
        assert!(!out.output.adjustments.is_empty());
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, i| {
            b.iter(|| runtime.pricing(call, i).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("shipping");
    for n in SIZES {
        let input = shipping_input(n);
        let call = Call::new(&shipping, SHIPPING_CONFIG);
        let out = runtime.shipping(call, &input).expect("shipping call works");
        assert!(!out.output.options.is_empty());
        g.bench_with_input(BenchmarkId::from_parameter(n), &input, |b, i| {
            b.iter(|| runtime.shipping(call, i).unwrap())
        });
    }
    g.finish();

    c.final_summary();
    print_medians(once);
}

/// Reads criterion's estimates back and prints them as one JSON line.
fn print_medians(mut medians: serde_json::Map<String, serde_json::Value>) {
    let dir = components_dir().join("../criterion");
    let mut ids = vec!["instantiate/empty-tax".to_owned(), "instantiate/us-sales-tax".to_owned()];
    for (group, _) in LANGUAGES {
        ids.extend(["20", "200"].iter().map(|n| format!("{group}/{n}")));
    }
    for group in ["tax", "tax-flat", "tax-flat-v0.1", "tax-empty", "pricing", "shipping"] {
        ids.extend(SIZES.iter().map(|n| format!("{group}/{n}")));
    }
    for id in ids {
        let path = dir.join(&id).join("new/estimates.json");
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let v: serde_json::Value = serde_json::from_str(&text).expect("criterion writes JSON");
        let ns = v["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
        medians.insert(id.replace('/', "_"), serde_json::json!((ns / 10.0).round() / 100.0));
    }
    let floor = medians.get("instantiate_empty-tax").and_then(|v| v.as_f64());
    for key in ["tax_20", "tax-flat_20"] {
        if let (Some(t), Some(f)) = (medians.get(key).and_then(|v| v.as_f64()), floor) {
            medians.insert(
                format!("{key}_over_instantiate"),
                serde_json::json!((t / f * 100.0).round() / 100.0),
            );
        }
    }
    println!("{}", serde_json::json!({ "bench": "plugins", "unit": "us", "medians": medians }));
}
