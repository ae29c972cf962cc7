//! Events and reports benchmark, on SQLite (and on PostgreSQL when
//! `MERCATO_BENCH_POSTGRES_URL` is set):
//!
//! - `deliver_1000`: 1,000 events (two each about 500 orders) written to the
//!   outbox, then the time until a webhook receiver on loopback has them
//!   all — fan-out, signing, HTTP, recording each attempt;
//! - `sales_90_days`: the 90-day sales report by day, in a shop's time zone,
//!   over 100,000 orders (and 5,000 refunds) spread over those 90 days.
//!
//! Run with `cargo xtask bench events`; it ends with one JSON line of medians
//! in milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use mercato::commerce::events;
use mercato::commerce::merchants::{self, NewMerchant};
use mercato::commerce::reports::{self, Interval, RangeQuery};
use mercato::commerce::webhooks::{self, NewEndpoint, Settings};
use mercato::commerce::{Shop, emails};
use mercato::db::{Backend, Db};
use mercato::runtime::{Runtime, RuntimeConfig};
use serde_json::json;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVENTS: usize = 1000;
const ORDERS: usize = 100_000;
const DAY_MS: i64 = 86_400_000;

async fn database(backend: Backend, dir: &std::path::Path) -> Option<Db> {
    sqlx::any::install_default_drivers();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.join("bench.db").display()),
        Backend::Postgres => {
            let url = std::env::var("MERCATO_BENCH_POSTGRES_URL").ok()?;
            let schema = format!("bench_events_{}", std::process::id());
            let admin = sqlx::AnyPool::connect(&url).await.expect("PostgreSQL");
            sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(&admin).await.unwrap();
            sqlx::query(&format!("create schema {schema}")).execute(&admin).await.unwrap();
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-c%20search_path%3D{schema}")
        }
    };
    let db = Db::connect(&url).await.expect("database");
    db.migrate().await.expect("migrations");
    Some(db)
}

async fn merchant(db: &Db, slug: &str) -> String {
    let req = NewMerchant {
        name: slug.into(),
        slug: slug.into(),
        default_currency: "USD".into(),
        country: "US".into(),
        prices_include_tax: false,
        time_zone: Some("America/New_York".into()),
    };
    merchants::create(db, req).await.expect("merchant").0.id
}

/// A receiver on loopback counting what it gets; its URL.
async fn receiver(count: Arc<AtomicUsize>) -> String {
    let app = axum::Router::new()
        .route(
            "/hooks",
            axum::routing::post(
                |axum::extract::State(n): axum::extract::State<Arc<AtomicUsize>>| async move {
                    n.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(count);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Writes `EVENTS` events: placed and paid for `EVENTS / 2` orders.
async fn write_events(db: &Db, merchant_id: &str, round: usize) {
    for i in 0..EVENTS / 2 {
        let order = format!("ord_bench_{round}_{i}");
        for kind in ["order.placed", "order.payment_succeeded"] {
            let payload = json!({"order_id": order, "kind": kind});
            mercato::db::events::add(db, merchant_id, kind, &order, &payload).await.unwrap();
        }
    }
}

/// 100,000 confirmed orders over the 89 days before `now` (inside the 90
/// days the report covers, whatever the time zone), and 5,000 refunds.
async fn seed_orders(db: &Db, merchant_id: &str, now: i64) {
    let mut tx = db.begin_write().await.unwrap();
    let per = 400;
    for chunk in 0..ORDERS / per {
        let mut sql = String::from(
            "insert into sales_order (order_id, merchant_id, number, cart_id, email, currency, status, \
             payment_status, fulfillment_status, subtotal, discount_total, shipping_total, tax_total, total, \
             captured_amount, shipping_address, shipping_option, access_token_hash, created_at, updated_at, \
             item_count) values ",
        );
        for k in 0..per {
            let i = chunk * per + k;
            let at = now - 89 * DAY_MS + (i as i64 * 89 * DAY_MS) / ORDERS as i64;
            let subtotal = 1000 + (i as i64 * 37) % 20_000;
            let (discount, shipping, tax) = (subtotal / 20, 599, subtotal * 725 / 10_000);
            let total = subtotal - discount + shipping + tax;
            if k > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('ord_b{i}', '{merchant_id}', {}, 'cart_b{i}', 'b@example.com', 'USD', 'paid', 'paid', \
                 'unfulfilled', {subtotal}, {discount}, {shipping}, {tax}, {total}, {total}, '{{}}', '{{}}', 'x', \
                 {at}, {at}, {})",
                i + 1,
                1 + i % 3
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    let per = 250;
    for chunk in 0..(ORDERS / 20) / per {
        let mut sql = String::from(
            "insert into refund (refund_id, merchant_id, order_id, amount, reason, status, created_at, updated_at) \
             values ",
        );
        for k in 0..per {
            let i = (chunk * per + k) * 20;
            let at = now - 89 * DAY_MS + (i as i64 * 89 * DAY_MS) / ORDERS as i64 + 3_600_000;
            if k > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('ref_b{i}', '{merchant_id}', 'ord_b{i}', 500, 'bench', 'succeeded', {at}, {at})"
            ));
        }
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut c =
        Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).configure_from_args();
    let mut medians = serde_json::Map::new();
    let dirs = tempfile::tempdir().unwrap();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let name = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        let Some(db) = rt.block_on(database(backend, dirs.path())) else { continue };
        let runtime = Arc::new(Runtime::new(RuntimeConfig::default()).expect("runtime"));
        let settings = Settings { allow_private: true, ..Settings::default() };
        let shop =
            Shop::new(db.clone(), runtime).with_webhooks(settings).with_mailer(emails::Mailer::default());
        let (hooked, reported) =
            rt.block_on(async { (merchant(&db, "hooked").await, merchant(&db, "reported").await) });

        let count = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let url = receiver(count.clone()).await;
            let req =
                NewEndpoint { url: Some(url), event_types: Some(vec!["*".into()]), ..Default::default() };
            webhooks::create(&shop, &hooked, req).await.unwrap();
        });
        let mut g = c.benchmark_group(format!("events-{name}"));
        g.sampling_mode(SamplingMode::Flat).measurement_time(Duration::from_secs(20));
        let mut round = 0;
        g.bench_function("deliver_1000", |b| {
            b.iter_custom(|iters| {
                let mut took = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    rt.block_on(write_events(&db, &hooked, round));
                    let target = count.load(Ordering::Relaxed) + EVENTS;
                    let started = Instant::now();
                    rt.block_on(async {
                        while count.load(Ordering::Relaxed) < target {
                            events::run_once(&shop).await.unwrap();
                        }
                    });
                    took += started.elapsed();
                }
                took
            })
        });
        g.finish();

        let now = mercato::db::now_ms();
        rt.block_on(seed_orders(&db, &reported, now));
        let range = rt.block_on(async {
            let to =
                jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap()).date();
            let from = to.checked_sub(jiff::Span::new().days(89)).unwrap();
            let q = RangeQuery { from: Some(from.to_string()), to: Some(to.to_string()), time_zone: None };
            reports::range(&db, &reported, &q).await.unwrap()
        });
        let report = rt.block_on(reports::sales(&shop, &reported, &range, Interval::Day)).unwrap();
        let usd = &report.currencies[0].total;
        assert_eq!(usd.orders, ORDERS as i64, "every order in the 90 days");
        assert_eq!(usd.refunds, 500 * (ORDERS / 20) as i64);
        let mut g = c.benchmark_group(format!("reports-{name}"));
        g.sampling_mode(SamplingMode::Flat);
        g.bench_function("sales_90_days", |b| {
            b.iter(|| rt.block_on(reports::sales(&shop, &reported, &range, Interval::Day)).unwrap())
        });
        g.finish();
        for id in [format!("events-{name}/deliver_1000"), format!("reports-{name}/sales_90_days")] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/criterion")
                .join(&id)
                .join("new/estimates.json");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(|t| std::path::PathBuf::from(t).join("criterion").join(&id).join("new/estimates.json"))
                .unwrap_or(path);
            let Ok(text) = std::fs::read_to_string(&target) else { continue };
            let v: serde_json::Value = serde_json::from_str(&text).expect("criterion writes JSON");
            let ns = v["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
            medians.insert(id.replace('/', "_"), json!((ns / 10_000.0).round() / 100.0));
        }
    }
    if let Ok(url) = std::env::var("MERCATO_BENCH_POSTGRES_URL") {
        rt.block_on(async {
            let admin = sqlx::AnyPool::connect(&url).await.expect("PostgreSQL");
            let schema = format!("bench_events_{}", std::process::id());
            let _ = sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(&admin).await;
        });
    }
    c.final_summary();
    println!("{}", json!({ "bench": "events", "unit": "ms", "medians": medians }));
}
