//! Three `mercato serve` processes on one PostgreSQL database, as an
//! operator runs them behind a load balancer (PostgreSQL only: skipped
//! when MERCATO_TEST_POSTGRES_URL is not set).
//!
//! - A change made through one host reaches the caches of the others by
//!   their notices: the hosts' periodic reload is set to ten minutes, so
//!   nothing else could bring it within the test.
//! - 1,000 concurrent purchases spread over the three hosts, 50 SKUs with
//!   10 units each, and one host killed with SIGKILL halfway: every buyer
//!   gets an answer (a buyer whose host died retries on another with the
//!   same Idempotency-Key), exactly 500 are sold, stock is exact, and no
//!   order is paid twice.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Host, OPERATOR, call, json_call, on_postgres};
use serde_json::{Value, json};

const HOSTS: usize = 3;
const SKUS: usize = 50;
const UNITS: i64 = 10;
const BUYERS: usize = 1000;
/// The secret key every host over the database shares.
const SECRET_KEY: &str = "0101010101010101010101010101010101010101010101010101010101010101";

#[test]
fn three_hosts_share_one_postgres_database() {
    on_postgres("t_hosts", three_hosts);
}

fn three_hosts(url: &str) {
    let dirs: Vec<tempfile::TempDir> = (0..HOSTS).map(|_| tempfile::tempdir().unwrap()).collect();
    let env = [
        ("MERCATO_IDEMPOTENCY_LEASE_MS", "1000"),
        ("MERCATO_CACHE_RELOAD_MS", "600000"),
        ("MERCATO_SECRET_KEY", SECRET_KEY),
    ];
    let mut hosts: Vec<Option<Host>> = Vec::new();
    let mut addrs = Vec::new();
    for dir in &dirs {
        let (host, addr) = common::start(dir.path(), url, &env);
        hosts.push(Some(host));
        addrs.push(addr);
    }
    let shop = set_up(&addrs[0]);

    changes_reach_the_other_hosts(&addrs, &shop);
    let (sk, pk) = rotate_keys(&addrs, &shop);
    let shop = Shop { sk, pk, ..shop };

    // The purchases: buyer i starts on host i % 3 and buys one unit of SKU i % 50.
    // Answers per host the buyer started on.
    let answered: Arc<[AtomicUsize; HOSTS]> = Arc::new(Default::default());
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let alive = Arc::new(Mutex::new(vec![true; HOSTS]));
    let moved = Arc::new(AtomicUsize::new(0));
    let mut buyers = Vec::new();
    for i in 0..BUYERS {
        let (addrs, shop) = (addrs.clone(), shop.clone());
        let (answered, outcomes, alive, moved) =
            (answered.clone(), outcomes.clone(), alive.clone(), moved.clone());
        let buyer = std::thread::Builder::new().stack_size(256 << 10).spawn(move || {
            let outcome = purchase(&addrs, (&alive, &moved), &shop, i);
            outcomes.lock().unwrap().push(outcome);
            answered[i % HOSTS].fetch_add(1, Ordering::SeqCst);
        });
        buyers.push(buyer.expect("a buyer thread"));
    }
    // Halfway through its buyers, host 1 dies without a word: the other
    // half of them still have requests to send it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let host_1_buyers = (0..BUYERS).filter(|i| i % HOSTS == 1).count();
    while answered[1].load(Ordering::SeqCst) < host_1_buyers / 2 {
        assert!(Instant::now() < deadline, "half the purchases never finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut victim = hosts[1].take().unwrap();
    victim.0.kill().unwrap(); // SIGKILL
    victim.0.wait().unwrap();
    alive.lock().unwrap()[1] = false;
    let killed_at: usize = answered.iter().map(|n| n.load(Ordering::SeqCst)).sum();
    for b in buyers {
        b.join().expect("a buyer panicked");
    }
    let outcomes = outcomes.lock().unwrap();
    let mut tally: HashMap<&str, usize> = HashMap::new();
    for o in outcomes.iter() {
        *tally.entry(o.as_str()).or_default() += 1;
    }
    let moved = moved.load(Ordering::SeqCst);
    eprintln!(
        "host 1 killed after {killed_at} answers; {moved} requests sent again elsewhere; outcomes: {tally:?}"
    );
    assert!(moved > 0, "host 1's unanswered buyers went to the other hosts");
    assert_eq!(outcomes.len(), BUYERS, "every buyer got an answer");
    assert_eq!(tally.get("sold"), Some(&(SKUS * UNITS as usize)), "exactly the stock was sold: {tally:?}");
    assert_eq!(tally.get("out_of_stock"), Some(&(BUYERS - SKUS * UNITS as usize)), "{tally:?}");

    // What the database holds, read through a host that lived.
    let live = &addrs[0];
    for variant in &shop.variants {
        let path = format!("/v1/admin/inventory?variant_id={variant}");
        let stock = json_call(live, "GET", &path, &shop.sk, Value::Null);
        assert_eq!((stock["on_hand"].as_i64(), stock["reserved"].as_i64()), (Some(0), Some(0)), "{stock:#}");
    }
    let orders = all_orders(live, &shop.sk);
    let paid: Vec<&Value> = orders.iter().filter(|o| o["payment_status"] == "paid").collect();
    assert_eq!(paid.len(), SKUS * UNITS as usize, "one paid order per unit sold");
    for o in &paid {
        assert_eq!(o["captured"]["amount"], o["total"]["amount"], "{o:#}");
    }
    let charged = succeeded_attempts(url);
    assert_eq!(charged.len(), paid.len(), "one successful payment per paid order: {charged:?}");
    assert!(charged.values().all(|n| *n == 1), "no order paid twice: {charged:?}");
    drop(hosts);
}

#[derive(Clone)]
struct Shop {
    merchant: String,
    sk: String,
    pk: String,
    variants: Vec<String>,
    gateway: String,
}

/// A merchant with the test gateway bound and 50 SKUs of 10 units each.
fn set_up(addr: &str) -> Shop {
    let (m, gateway, location) = common::gateway_merchant(addr);
    let sk = m["secret_key"].as_str().unwrap().to_owned();
    let mut variants = Vec::new();
    for i in 0..SKUS {
        let product = json_call(
            addr,
            "POST",
            "/v1/admin/products",
            &sk,
            json!({"title": format!("Hot item {i}"), "status": "active",
                "variants": [{"sku": format!("HOT-{i}"), "price": {"amount": 1000 + i as i64, "currency": "USD"}}]}),
        );
        let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
        let stock = json!({"location_id": location, "on_hand": UNITS});
        json_call(addr, "PUT", &format!("/v1/admin/inventory/{variant}"), &sk, stock);
        variants.push(variant);
    }
    Shop {
        merchant: m["id"].as_str().unwrap().to_owned(),
        sk,
        pk: m["publishable_key"].as_str().unwrap().to_owned(),
        variants,
        gateway,
    }
}

/// Polls `seen` on `addr` until it holds (10 s: far below the hosts' ten-minute reload).
fn soon(what: &str, mut seen: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen() {
        assert!(Instant::now() < deadline, "{what}: never seen by the other hosts");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A binding and a plugin's switch changed through host 0 reach hosts 1
/// and 2, whose caches held the old ones.
fn changes_reach_the_other_hosts(addrs: &[String], shop: &Shop) {
    let cart_on = |addr: &str| {
        let body =
            json!({"email": "a@example.com", "lines": [{"variant_id": shop.variants[0], "quantity": 1}]});
        json_call(addr, "POST", "/v1/store/carts", &shop.pk, body)["id"].as_str().unwrap().to_owned()
    };
    let carts: Vec<(String, String)> = addrs[1..].iter().map(|a| (a.clone(), cart_on(a))).collect();
    // The test gateway as the cart's payment options show it on `addr`:
    // absent (None), or whether it is available.
    let gateway = |addr: &str, cart: &str| {
        let path = format!("/v1/store/carts/{cart}/payment-providers");
        let options = json_call(addr, "GET", &path, &shop.pk, Value::Null);
        let options = options.as_array().cloned().unwrap_or_default();
        options.iter().find(|o| o["provider"] == "test-gateway").map(|o| o["available"] == true)
    };
    for (addr, cart) in &carts {
        assert_eq!(gateway(addr, cart), Some(true));
    }
    // The operator disables the gateway on host 0: the others stop offering it.
    let path = format!("/v1/platform/plugins/{}", shop.gateway);
    json_call(&addrs[0], "PATCH", &path, OPERATOR, json!({"enabled": false}));
    for (addr, cart) in &carts {
        soon("a plugin disabled", || gateway(addr, cart) == Some(false));
    }
    json_call(&addrs[0], "PATCH", &path, OPERATOR, json!({"enabled": true}));
    for (addr, cart) in &carts {
        soon("a plugin enabled again", || gateway(addr, cart) == Some(true));
    }
    // The merchant unbinds it on host 0, then binds it again.
    json_call(&addrs[0], "PUT", "/v1/admin/plugin-bindings/payment", &shop.sk, json!({"bindings": []}));
    for (addr, cart) in &carts {
        soon("bindings replaced", || gateway(addr, cart).is_none());
    }
    let bind = json!({"bindings": [{"plugin_id": shop.gateway, "config": {}}]});
    json_call(&addrs[0], "PUT", "/v1/admin/plugin-bindings/payment", &shop.sk, bind);
    for (addr, cart) in &carts {
        soon("bindings replaced again", || gateway(addr, cart) == Some(true));
    }
}

/// Keys rotated through host 0: the old publishable key, cached as valid
/// by hosts 1 and 2, stops working there; the new one works. The new
/// (secret, publishable) keys.
fn rotate_keys(addrs: &[String], shop: &Shop) -> (String, String) {
    for addr in addrs {
        let (status, _) = call(addr, "GET", "/v1/store/products", &shop.pk, &Value::Null);
        assert_eq!(status, 200);
    }
    let path = format!("/v1/platform/merchants/{}/rotate-keys", shop.merchant);
    let keys = json_call(&addrs[0], "POST", &path, OPERATOR, Value::Null);
    let pk = keys["publishable_key"].as_str().expect("new keys").to_owned();
    let sk = keys["secret_key"].as_str().expect("new keys").to_owned();
    for addr in &addrs[1..] {
        soon("a rotated key", || call(addr, "GET", "/v1/store/products", &shop.pk, &Value::Null).0 == 401);
        assert_eq!(call(addr, "GET", "/v1/store/products", &pk, &Value::Null).0, 200);
    }
    (sk, pk)
}

/// One buyer's purchase: a cart with one unit of SKU `i % 50`, the
/// address, complete. A request that gets no answer (its host died) is
/// sent again to the next host that is alive, the same request with the
/// same Idempotency-Key for `complete`. "sold", "out_of_stock", or what
/// went wrong.
fn purchase(
    addrs: &[String],
    (alive, moved): (&Mutex<Vec<bool>>, &AtomicUsize),
    shop: &Shop,
    i: usize,
) -> String {
    let mut host = i % HOSTS;
    let deadline = Instant::now() + Duration::from_secs(180);
    // Sends until some host answers (other than "key in use": wait and retry).
    let mut send = |method: &str, path: &str, body: &Value, key: Option<&str>| -> (u16, Value) {
        loop {
            if Instant::now() > deadline {
                return (0, json!("no host answered in time"));
            }
            let addr = &addrs[host];
            let auth = format!("Bearer {}", shop.pk);
            let mut headers = vec![("Authorization", auth.as_str()), ("Content-Type", "application/json")];
            if let Some(key) = key {
                headers.push(("Idempotency-Key", key));
            }
            let (status, reply) = common::http(addr, method, path, &headers, body.to_string().as_bytes());
            match status {
                0 => {
                    // No answer: this host is gone (or going); on to the next one alive.
                    std::thread::sleep(Duration::from_millis(20));
                    moved.fetch_add(1, Ordering::SeqCst);
                    let alive = alive.lock().unwrap().clone();
                    host = (1..=HOSTS).map(|k| (host + k) % HOSTS).find(|h| alive[*h]).unwrap_or(host);
                }
                409 if reply["code"] == "idempotency_key_in_use" => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                _ => return (status, reply),
            }
        }
    };
    let line = json!({"variant_id": shop.variants[i % SKUS], "quantity": 1});
    let (status, cart) = send(
        "POST",
        "/v1/store/carts",
        &json!({"email": format!("b{i}@example.com"), "lines": [line]}),
        None,
    );
    if status != 201 {
        return format!("cart: {status} {cart}");
    }
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    let address = json!({"shipping_address": {"name": "Ada", "line1": "1 Main St", "city": "Springfield",
        "region": "CA", "postal_code": "12345", "country": "US"}});
    let (status, reply) = send("PATCH", &path, &address, None);
    if status != 200 {
        return format!("address: {status} {reply}");
    }
    let payment = json!({"payment": {"provider": "test-gateway", "token": "tok_visa"}});
    let key = format!("buy-{i}");
    match send("POST", &format!("{path}/complete"), &payment, Some(&key)) {
        (201, order) if order["payment_status"] == "paid" => "sold".into(),
        (409, reply) if reply["code"] == "out_of_stock" => "out_of_stock".into(),
        (status, reply) => format!("complete: {status} {reply}"),
    }
}

/// Every order of the merchant, page by page.
fn all_orders(addr: &str, sk: &str) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut path = "/v1/admin/orders?limit=100".to_owned();
    loop {
        let page = json_call(addr, "GET", &path, sk, Value::Null);
        orders.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/admin/orders?limit=100&cursor={cursor}"),
            None => return orders,
        }
    }
}

/// Successful payment attempts per order, read from the database itself.
fn succeeded_attempts(url: &str) -> HashMap<String, i64> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let db = sqlx::AnyPool::connect(url).await.unwrap();
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select order_id, count(*) from payment_attempt where status = 'succeeded' group by order_id",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        rows.into_iter().collect()
    })
}
