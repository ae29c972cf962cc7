//! A host killed with SIGKILL in the middle of `POST …/complete` (after the
//! order is placed, before the provider answers), restarted, and the buyer
//! retrying with the same `Idempotency-Key` and body: the retry takes over
//! the dead request's key once its lease runs out and answers with the
//! real outcome, the order and a working access token, never a second
//! charge; the same after Stripe charged the card. A host killed while
//! webhooks are in flight: after a restart every event reaches the
//! receiver (which dedupes by event id), none is lost. On SQLite, and on
//! PostgreSQL when MERCATO_TEST_POSTGRES_URL is set.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Host, http, json_call, on_postgres};
use serde_json::{Value, json};

/// A host for these tests: idempotency leases of 1 s, `faults` injected,
/// Stripe reached at `stripe`.
fn start(data_dir: &Path, url: &str, faults: &str, stripe: Option<&str>) -> (Host, String) {
    let mut env = vec![
        ("MERCATO_IDEMPOTENCY_LEASE_MS", "1000"),
        ("MERCATO_FAULTS", faults),
        ("MERCATO_WEBHOOK_FIRST_RETRY_MS", "200"),
    ];
    if let Some(base) = stripe {
        env.push(("MERCATO_STRIPE_API_BASE", base));
    }
    common::start(data_dir, url, &env)
}

/// A merchant with the test gateway and one product in stock, and a cart
/// ready to complete; returns (publishable key, secret key, cart id).
fn ready(addr: &str) -> (String, String, String) {
    let (m, _, location) = common::gateway_merchant(addr);
    let (sk, pk) =
        (m["secret_key"].as_str().unwrap().to_owned(), m["publishable_key"].as_str().unwrap().to_owned());
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
        json!({"location_id": location, "on_hand": 3}),
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

/// A webhook receiver on loopback that records the `Mercato-Event-Id` of
/// every request as it arrives and answers 200 after `delay`.
fn slow_receiver(delay: Duration) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let (mut length, mut id) = (0usize, None);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        match k.to_ascii_lowercase().as_str() {
                            "content-length" => length = v.trim().parse().unwrap_or(0),
                            "mercato-event-id" => id = Some(v.trim().to_owned()),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let Some(id) = id else { return };
                log.lock().unwrap().push(id);
                std::thread::sleep(delay);
                let _ = reader
                    .get_mut()
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            });
        }
    });
    (url, seen)
}

/// Orders are placed with a webhook endpoint subscribed to their events
/// and a receiver that takes 300 ms to answer; the host is killed with its
/// first deliveries in flight. The restarted host sends them again once
/// their lease runs out: the receiver ends up with every event id the
/// feed lists (some twice, which it dedupes by id), and every delivery
/// is recorded as succeeded.
fn crash_during_webhook_delivery(url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (mut host, addr) = start(dir.path(), url, "", None);
    let (receiver, seen) = slow_receiver(Duration::from_millis(300));
    let (pk, sk, cart) = ready(&addr);
    let endpoint = json_call(
        &addr,
        "POST",
        "/v1/admin/webhook-endpoints",
        &sk,
        json!({"url": receiver, "event_types": ["order.placed", "order.payment_succeeded"]}),
    );
    let pay = json!({"payment": {"provider": "test-gateway", "token": "tok_visa"}});
    json_call(&addr, "POST", &format!("/v1/store/carts/{cart}/complete"), &pk, pay.clone());
    // Two more orders, from new carts of the same variant.
    let variant = json_call(&addr, "GET", &format!("/v1/store/carts/{cart}"), &pk, Value::Null)["lines"][0]
        ["variant_id"]
        .clone();
    let address = json!({"name": "Ada", "line1": "1 Main St", "city": "Springfield", "region": "CA",
        "postal_code": "12345", "country": "US"});
    for _ in 0..2 {
        let lines = json!({"email": "ada@example.com", "lines": [{"variant_id": variant, "quantity": 1}]});
        let c = json_call(&addr, "POST", "/v1/store/carts", &pk, lines);
        let id = c["id"].as_str().unwrap();
        json_call(
            &addr,
            "PATCH",
            &format!("/v1/store/carts/{id}"),
            &pk,
            json!({"shipping_address": address}),
        );
        json_call(&addr, "POST", &format!("/v1/store/carts/{id}/complete"), &pk, pay.clone());
    }
    let events = json_call(&addr, "GET", "/v1/admin/events?limit=100", &sk, Value::Null);
    // The order events: the shop's binding changes came before the endpoint.
    let orders = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("order."));
    let mut expected: Vec<String> = orders.map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(expected.len(), 6, "placed and paid, three times: {events:#}");
    // Killed while the receiver holds the first deliveries (before it
    // answers, so before any is recorded as sent).
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no delivery was made");
        std::thread::sleep(Duration::from_millis(10));
    }
    host.0.kill().unwrap(); // SIGKILL
    host.0.wait().unwrap();

    let (host, addr) = start(dir.path(), url, "", None);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut unique = loop {
        let mut unique = seen.lock().unwrap().clone();
        unique.sort();
        unique.dedup();
        if unique.len() >= expected.len() {
            break unique;
        }
        assert!(Instant::now() < deadline, "only {} of {} events arrived", unique.len(), expected.len());
        std::thread::sleep(Duration::from_millis(100));
    };
    expected.sort();
    unique.sort();
    assert_eq!(unique, expected, "every event arrived, and nothing else");
    let path =
        format!("/v1/admin/webhook-endpoints/{}/deliveries?limit=100", endpoint["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let deliveries = json_call(&addr, "GET", &path, &sk, Value::Null);
        let rows = deliveries["data"].as_array().unwrap();
        let done = rows.iter().filter(|d| d["status"] == "succeeded").count();
        if done == expected.len() && rows.len() == expected.len() {
            break;
        }
        assert!(Instant::now() < deadline, "deliveries never all succeeded: {deliveries:#}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let received = seen.lock().unwrap().len();
    eprintln!("{received} requests for {} events", expected.len());
    drop(host);
}

#[test]
fn a_host_killed_mid_webhook_delivery_loses_no_event_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_during_webhook_delivery(&format!("sqlite://{}", dir.path().join("crash.db").display()));
}

#[test]
fn a_host_killed_mid_webhook_delivery_loses_no_event_on_postgres() {
    on_postgres("t_crash_webhooks", crash_during_webhook_delivery);
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
