//! A host killed with SIGKILL in the middle of `POST …/complete` (after the
//! order is placed, before the provider answers), restarted, and the buyer
//! retrying with the same `Idempotency-Key` and body: the retry takes over
//! the dead request's key once its lease runs out and answers with the
//! real outcome, the order and a working access token, never a second
//! charge; the same after Stripe charged the card. On SQLite, and on
//! PostgreSQL when MERCATO_TEST_POSTGRES_URL is set.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const OPERATOR: &str = "op_crash_test_operator_key";

fn plugin_wasm(name: &str) -> Vec<u8> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("plugins").join(format!("{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): run `cargo xtask build-plugins`", path.display()))
}

/// A host that is killed when the test ends, even when it fails.
struct Host(Child);

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `mercato serve` on `url` and waits for its address. The child is
/// waited for by `Host`'s drop (or right here if it exits early).
#[allow(clippy::zombie_processes)]
fn start(data_dir: &Path, url: &str, faults: &str, stripe: Option<&str>) -> (Host, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mercato"));
    if let Some(base) = stripe {
        command.env("MERCATO_STRIPE_API_BASE", base);
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("MERCATO_DATA_DIR", data_dir)
        .env("MERCATO_DATABASE_URL", url)
        .env("MERCATO_OPERATOR_KEY", OPERATOR)
        .env("MERCATO_IDEMPOTENCY_LEASE_MS", "1000")
        .env("MERCATO_FAULTS", faults)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mercato starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("serve exited early: {:?}", child.wait());
        }
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            return (Host(child), addr.to_owned());
        }
    }
}

/// One HTTP/1.1 request: status and JSON body (`Value::Null` when the
/// connection ended without an answer).
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    let Some(status) = response.split(' ').nth(1).and_then(|s| s.parse().ok()) else {
        return (0, Value::Null);
    };
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn json_call(addr: &str, method: &str, path: &str, key: &str, body: Value) -> Value {
    let auth = format!("Bearer {key}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let (status, reply) = http(addr, method, path, &headers, body.to_string().as_bytes());
    assert!((200..300).contains(&status), "{method} {path}: {status} {reply:#}");
    reply
}

/// A merchant with the test gateway and one product in stock, and a cart
/// ready to complete; returns (publishable key, secret key, cart id).
fn ready(addr: &str) -> (String, String, String) {
    let m = json_call(
        addr,
        "POST",
        "/v1/platform/merchants",
        OPERATOR,
        json!({"name": "Acme", "slug": "acme", "default_currency": "USD", "country": "US"}),
    );
    let (sk, pk) =
        (m["secret_key"].as_str().unwrap().to_owned(), m["publishable_key"].as_str().unwrap().to_owned());
    let auth = format!("Bearer {OPERATOR}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/wasm")];
    let (status, plugin) = http(addr, "POST", "/v1/platform/plugins", &headers, &plugin_wasm("test-gateway"));
    assert_eq!(status, 201, "{plugin:#}");
    json_call(
        addr,
        "PUT",
        "/v1/admin/plugin-bindings/payment",
        &sk,
        json!({"bindings": [{"plugin_id": plugin["id"], "config": {}}]}),
    );
    let location =
        json_call(addr, "POST", "/v1/admin/locations", &sk, json!({"name": "Main", "country": "US"}));
    let product = json_call(
        addr,
        "POST",
        "/v1/admin/products",
        &sk,
        json!({"title": "Tee", "status": "active",
        "variants": [{"sku": "TEE", "price": {"amount": 1999, "currency": "USD"}}]}),
    );
    let variant = product["variants"][0]["id"].as_str().unwrap();
    json_call(
        addr,
        "PUT",
        &format!("/v1/admin/inventory/{variant}"),
        &sk,
        json!({"location_id": location["id"], "on_hand": 3}),
    );
    let address = json!({"name": "Ada", "line1": "1 Main St", "city": "Springfield", "region": "CA",
        "postal_code": "12345", "country": "US"});
    let cart = json_call(
        addr,
        "POST",
        "/v1/store/carts",
        &pk,
        json!({"email": "ada@example.com",
        "lines": [{"variant_id": variant, "quantity": 1}]}),
    );
    let id = cart["id"].as_str().unwrap().to_owned();
    json_call(addr, "PATCH", &format!("/v1/store/carts/{id}"), &pk, json!({"shipping_address": address}));
    (pk, sk, id)
}

fn crash_during_complete(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut host, addr) = start(dir.path(), url, "checkout.placed", None);
    let (pk, sk, cart) = ready(&addr);
    let path = format!("/v1/store/carts/{cart}/complete");
    let body = json!({"payment": {"provider": "test-gateway", "token": "tok_visa"}}).to_string();
    let auth = format!("Bearer {pk}");
    let complete = {
        let (addr, path, auth, body) = (addr.clone(), path.clone(), auth.clone(), body.clone());
        move || {
            let headers = [
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "k-1"),
            ];
            http(&addr, "POST", &path, &headers, body.as_bytes())
        }
    };
    // The buyer's request: it never gets an answer from this host.
    let first = std::thread::spawn(complete.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // The cart names its order once the order is placed.
        let seen = json_call(&addr, "GET", &format!("/v1/store/carts/{cart}"), &pk, Value::Null);
        if seen["order_id"].is_string() {
            break;
        }
        assert!(Instant::now() < deadline, "the order was never placed");
        std::thread::sleep(Duration::from_millis(50));
    }
    host.0.kill().unwrap(); // SIGKILL
    host.0.wait().unwrap();
    assert_eq!(first.join().unwrap().0, 0, "the first request got no answer");

    let (host, addr) = start(dir.path(), url, "", None);
    let headers =
        [("Authorization", auth.as_str()), ("Content-Type", "application/json"), ("Idempotency-Key", "k-1")];
    let deadline = Instant::now() + Duration::from_secs(30);
    let order = loop {
        let (status, reply) = http(&addr, "POST", &path, &headers, body.as_bytes());
        if status != 409 {
            assert_eq!(status, 201, "{reply:#}");
            break reply;
        }
        assert_eq!(reply["code"], "idempotency_key_in_use", "{reply:#}");
        assert!(Instant::now() < deadline, "the dead request's key was never taken over");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!((order["status"].as_str(), order["payment_status"].as_str()), (Some("paid"), Some("paid")));
    let token = order["access_token"].as_str().expect("the buyer gets the order's access token");
    let order_path = format!("/v1/store/orders/{}", order["id"].as_str().unwrap());
    let (status, seen) =
        http(&addr, "GET", &order_path, &[("Authorization", &auth), ("X-Order-Token", token)], b"");
    assert_eq!((status, &seen["id"]), (200, &order["id"]), "{seen:#}");
    let orders = json_call(&addr, "GET", "/v1/admin/orders", &sk, Value::Null);
    assert_eq!(orders["data"].as_array().unwrap().len(), 1, "one order");
    assert_eq!(orders["data"][0]["payment"]["id"], order["payment"]["id"], "one payment attempt");
    drop(host);
}

/// Stripe charged the card, then the host was killed before it wrote the
/// answer: the buyer's retry (same key) finds that same PaymentIntent, by
/// the attempt's idempotency key, and the order is paid: one charge.
fn crash_after_stripe_charge(url: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stripe = runtime.block_on(mercato_fake_stripe::FakeStripe::start());
    let dir = tempfile::tempdir().unwrap();
    let (mut host, addr) = start(dir.path(), url, "checkout.charged", Some(&stripe.base_url));
    let (pk, sk, cart) = ready(&addr);
    let connect = json!({"secret_key": mercato_fake_stripe::SECRET_KEY,
        "publishable_key": mercato_fake_stripe::PUBLISHABLE_KEY, "webhook_secret": mercato_fake_stripe::WEBHOOK_SECRET});
    json_call(&addr, "PUT", "/v1/admin/payment-providers/stripe", &sk, connect);
    let path = format!("/v1/store/carts/{cart}/complete");
    let body = json!({"payment": {"provider": "stripe", "payment_method": "pm_card_visa"}}).to_string();
    let auth = format!("Bearer {pk}");
    let headers =
        [("Authorization", auth.as_str()), ("Content-Type", "application/json"), ("Idempotency-Key", "k-1")];
    let first = {
        let (addr, path, auth, body) = (addr.clone(), path.clone(), auth.clone(), body.clone());
        std::thread::spawn(move || {
            let headers = [
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
                ("Idempotency-Key", "k-1"),
            ];
            http(&addr, "POST", &path, &headers, body.as_bytes())
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while stripe.intents_created() == 0 {
        assert!(Instant::now() < deadline, "Stripe was never asked");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(stripe.intents()[0]["status"], "succeeded", "the card is charged");
    std::thread::sleep(Duration::from_millis(200));
    host.0.kill().unwrap(); // SIGKILL, before the order was written
    host.0.wait().unwrap();
    assert_eq!(first.join().unwrap().0, 0, "the first request got no answer");

    let (host, addr) = start(dir.path(), url, "", Some(&stripe.base_url));
    let order = loop {
        let (status, reply) = http(&addr, "POST", &path, &headers, body.as_bytes());
        if status != 409 {
            assert_eq!(status, 201, "{reply:#}");
            break reply;
        }
        assert_eq!(reply["code"], "idempotency_key_in_use", "{reply:#}");
        assert!(Instant::now() < deadline, "the dead request's key was never taken over");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        (order["status"].as_str(), order["payment"]["provider"].as_str()),
        (Some("paid"), Some("stripe"))
    );
    assert_eq!(order["payment"]["provider_reference"], stripe.intents()[0]["id"]);
    assert_eq!(stripe.intents_created(), 1, "asked again with the same key: one charge");
    let orders = json_call(&addr, "GET", "/v1/admin/orders", &sk, Value::Null);
    assert_eq!(orders["data"].as_array().unwrap().len(), 1, "one order");
    drop(host);
}

#[test]
fn a_host_killed_after_a_stripe_charge_makes_the_order_on_retry_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_after_stripe_charge(&format!("sqlite://{}", dir.path().join("crash.db").display()));
}

#[test]
fn a_host_killed_during_complete_leaves_a_key_its_retry_takes_over_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_during_complete(&format!("sqlite://{}", dir.path().join("crash.db").display()));
}

#[test]
fn a_host_killed_during_complete_leaves_a_key_its_retry_takes_over_on_postgres() {
    on_postgres("t_crash", crash_during_complete);
}

#[test]
fn a_host_killed_after_a_stripe_charge_makes_the_order_on_retry_on_postgres() {
    on_postgres("t_crash_stripe", crash_after_stripe_charge);
}

/// Runs `test` on a fresh PostgreSQL schema, when MERCATO_TEST_POSTGRES_URL is set.
fn on_postgres(prefix: &str, test: fn(&str)) {
    let Ok(url) = std::env::var("MERCATO_TEST_POSTGRES_URL") else {
        eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL");
        return;
    };
    let schema = format!("{prefix}_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(&admin).await.unwrap();
        sqlx::query(&format!("create schema {schema}")).execute(&admin).await.unwrap();
    });
    let sep = if url.contains('?') { '&' } else { '?' };
    test(&format!("{url}{sep}options=-c%20search_path%3D{schema}"));
    runtime.block_on(async {
        let admin = sqlx::AnyPool::connect(&url).await.unwrap();
        let _ = sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(&admin).await;
    });
}
