//! Webhooks end to end: a receiver on loopback that fails, times out and
//! recovers; signatures, order per resource, retries with the same event
//! id, 4xx that stops, redelivery, ping, redirects and private addresses
//! refused, and bad endpoint settings answered 422 with nothing stored.

use std::collections::HashMap;
use std::time::Duration;

use mercato::commerce::events;
use mercato::commerce::webhooks::Settings;
use mercato::db::Backend;
use mercato_tests::app::{TestApp, spawn_app, spawn_app_with};
use mercato_tests::receiver::{Answer, Receiver, verify};
use mercato_tests::shop::{Shop, buy, open_shop, product, us_plugins};
use serde_json::{Value, json};

/// Deliveries as a test can wait for them: private addresses allowed (the
/// receiver is on loopback), quick retries and a short timeout.
fn quick() -> Settings {
    Settings {
        allow_private: true,
        first_retry: Duration::from_millis(50),
        max_retry: Duration::from_millis(200),
        timeout: Duration::from_millis(400),
        lease: Duration::from_secs(2),
        idle: Duration::from_millis(20),
        ..Settings::default()
    }
}

macro_rules! both {
    ($name:ident, $settings:expr, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = spawn_app_with(Backend::Sqlite, |s| s.with_webhooks($settings)).await.unwrap();
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match spawn_app_with(Backend::Postgres, |s| s.with_webhooks($settings)).await {
                    Some(app) => ($body)(app).await,
                    None => eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL"),
                }
            }
        }
    };
}

async fn shop(app: &TestApp) -> (Shop, String) {
    let shop = open_shop(app, "acme", "USD", "US", &us_plugins()).await;
    let variant = product(app, &shop, "MUG", 2500, 50).await;
    (shop, variant)
}

/// Adds an endpoint at `url` for `types`; (id, secret).
async fn endpoint(app: &TestApp, shop: &Shop, url: &str, types: &[&str]) -> (String, String) {
    let e =
        app.post("/v1/admin/webhook-endpoints", shop.sk(), &json!({"url": url, "event_types": types})).await;
    let e = e.expect(201);
    (e["id"].as_str().unwrap().to_owned(), e["secret"].as_str().unwrap().to_owned())
}

/// The shop's events, oldest first: (id, type, resource id).
/// The shop's order events (not its binding changes): id, type, resource.
async fn events(app: &TestApp, shop: &Shop) -> Vec<(String, String, String)> {
    let page = app.get("/v1/admin/events?limit=100", shop.sk()).await.expect(200);
    let s = |e: &Value, k: &str| e[k].as_str().unwrap().to_owned();
    let orders = page["data"].as_array().unwrap().iter().filter(|e| s(e, "type").starts_with("order."));
    orders.map(|e| (s(e, "id"), s(e, "type"), s(e, "resource_id"))).collect()
}

async fn deliveries(app: &TestApp, shop: &Shop, endpoint: &str) -> Vec<Value> {
    let path = format!("/v1/admin/webhook-endpoints/{endpoint}/deliveries?limit=100");
    app.get(&path, shop.sk()).await.expect(200)["data"].as_array().unwrap().clone()
}

fn answered(hits: &[mercato_tests::receiver::Hit], id: &str) -> bool {
    hits.iter().any(|h| h.event_id == id && (200..300).contains(&h.answered))
}

both!(every_event_arrives_signed_in_order_with_retries, quick(), |app: TestApp| async move {
    let _worker = events::spawn(app.shop());
    let (shop, variant) = shop(&app).await;
    // Each event: 500, then 429, then no answer in time, then 204.
    let receiver = Receiver::start(|_, nth| match nth {
        1 => Answer::Status(500),
        2 => Answer::Status(429),
        3 => Answer::Hang,
        _ => Answer::Status(204),
    })
    .await;
    let (id, secret) =
        endpoint(&app, &shop, &receiver.url, &["order.placed", "order.payment_succeeded"]).await;
    for n in 0..3 {
        buy(&app, &shop, &[(&variant, 1)], &format!("buy-{n}")).await;
    }
    let feed = events(&app, &shop).await;
    assert_eq!(feed.len(), 6, "placed and paid, three times: {feed:?}");
    let hits = receiver
        .wait_until(Duration::from_secs(60), |hits| feed.iter().all(|(id, ..)| answered(hits, id)))
        .await;

    for hit in &hits {
        assert!(verify(&secret, &hit.signature, &hit.body), "a signature that verifies: {}", hit.signature);
        let body = hit.json();
        assert_eq!(
            (body["id"].as_str(), body["type"].as_str()),
            (Some(&*hit.event_id), Some(&*hit.event_type))
        );
        assert_eq!(body["version"], 1);
    }
    for (event, kind, _) in &feed {
        let tries: Vec<_> = hits.iter().filter(|h| &h.event_id == event).collect();
        let attempts: Vec<u32> = tries.iter().map(|h| h.attempt).collect();
        assert_eq!(attempts, [1, 2, 3, 4], "{event} ({kind}) tried four times, the same id each time");
        assert!(tries.iter().all(|h| h.body == tries[0].body), "the same body every time");
    }
    // In order per resource: an order's event is first sent only after its
    // previous event was answered 2xx.
    let mut by_resource: HashMap<&str, Vec<&str>> = HashMap::new();
    for (event, _, resource) in &feed {
        by_resource.entry(resource).or_default().push(event);
    }
    for events in by_resource.values() {
        for pair in events.windows(2) {
            let done = hits.iter().position(|h| h.event_id == pair[0] && h.answered == 204).unwrap();
            let first = hits.iter().position(|h| h.event_id == pair[1]).unwrap();
            assert!(done < first, "{} was sent before {} was delivered", pair[1], pair[0]);
        }
    }

    // The log: every delivery succeeded on its fourth attempt.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = deliveries(&app, &shop, &id).await;
        if log.iter().all(|d| d["status"] == "succeeded") || std::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log.len(), 6);
    for d in &log {
        assert_eq!((d["status"].as_str(), d["attempts"].as_i64()), (Some("succeeded"), Some(4)), "{d:#}");
    }
    let one = app
        .get(
            &format!("/v1/admin/webhook-endpoints/{id}/deliveries/{}", log[0]["id"].as_str().unwrap()),
            shop.sk(),
        )
        .await
        .expect(200);
    let statuses: Vec<Value> =
        one["log"].as_array().unwrap().iter().map(|a| a["status_code"].clone()).collect();
    assert_eq!(statuses, [json!(500), json!(429), Value::Null, json!(204)], "{one:#}");
    assert_eq!(one["log"][0]["response_snippet"], "answered 500");
    assert!(one["log"][2]["error"].as_str().unwrap().contains("no answer within"), "{one:#}");
    assert!(one["log"][3]["error"].is_null());
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    for line in [
        "mercato_webhook_deliveries_total{outcome=\"succeeded\"} 6",
        "mercato_webhook_deliveries_total{outcome=\"retried\"} 18",
        "mercato_webhook_deliveries_total{outcome=\"failed\"} 0",
        "mercato_webhook_deliveries_pending 0",
        "mercato_outbox_backlog_events 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }

    // A 4xx other than 408 and 429 ends a delivery at once.
    receiver.set_plan(|_, _| Answer::Status(410));
    let order = buy(&app, &shop, &[(&variant, 1)], "buy-gone").await;
    let ours = |d: &&Value| d["resource_id"] == order["id"];
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let gone = loop {
        let log = deliveries(&app, &shop, &id).await;
        let gone: Vec<Value> = log.iter().filter(ours).cloned().collect();
        if gone.len() == 2 && gone.iter().all(|d| d["status"] == "failed") {
            break gone;
        }
        assert!(std::time::Instant::now() < deadline, "the 410s never ended the deliveries: {log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for d in &gone {
        assert_eq!((d["attempts"].as_i64(), d["last_status_code"].as_i64()), (Some(1), Some(410)), "{d:#}");
        let sent = receiver.hits().iter().filter(|h| h.event_id == d["event_id"].as_str().unwrap()).count();
        assert_eq!(sent, 1, "a 410 is not retried");
    }

    // Redelivery sends the same event again, with its id.
    receiver.set_plan(|_, _| Answer::Status(200));
    let path =
        format!("/v1/admin/webhook-endpoints/{id}/deliveries/{}/redeliver", gone[0]["id"].as_str().unwrap());
    let again = app.post(&path, shop.sk(), &json!({})).await.expect(202);
    assert_eq!(again["status"], "pending");
    let event = gone[0]["event_id"].as_str().unwrap().to_owned();
    receiver.wait_until(Duration::from_secs(30), |hits| answered(hits, &event)).await;
    let again = app.post(&path, shop.sk(), &json!({})).await;
    // Pending still, or succeeded and sent again: either is an answer.
    assert!(matches!(again.status.as_u16(), 202 | 409), "{:?}", again.body);
});

both!(pings_and_redirects, quick(), |app: TestApp| async move {
    let (shop, variant) = shop(&app).await;
    let receiver = Receiver::start(|hit, _| {
        if hit.event_type == "webhook.ping" {
            Answer::Status(200)
        } else {
            Answer::Redirect("http://169.254.169.254/latest/meta-data/".into())
        }
    })
    .await;
    let (id, secret) = endpoint(&app, &shop, &receiver.url, &["order.placed"]).await;

    let ping =
        app.post(&format!("/v1/admin/webhook-endpoints/{id}/ping"), shop.sk(), &json!({})).await.expect(200);
    assert_eq!(
        (ping["event_type"].as_str(), ping["status"].as_str()),
        (Some("webhook.ping"), Some("succeeded"))
    );
    assert_eq!(ping["log"][0]["status_code"], 200);
    let hit = &receiver.hits()[0];
    assert!(verify(&secret, &hit.signature, &hit.body));
    assert_eq!(hit.json()["data"]["endpoint_id"], id.as_str());
    let redo =
        format!("/v1/admin/webhook-endpoints/{id}/deliveries/{}/redeliver", ping["id"].as_str().unwrap());
    app.post(&redo, shop.sk(), &json!({})).await.problem(409, "delivery_pending");

    // Only order.placed is sent; the redirect is not followed and not retried.
    buy(&app, &shop, &[(&variant, 1)], "buy-1").await;
    for _ in 0..100 {
        events::run_once(&app.shop()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let placed: Vec<_> = receiver.hits().into_iter().filter(|h| h.event_type != "webhook.ping").collect();
    assert_eq!(placed.len(), 1, "one request, not followed, not retried");
    assert_eq!(placed[0].event_type, "order.placed");
    let log = deliveries(&app, &shop, &id).await;
    let sent: Vec<&Value> = log.iter().filter(|d| d["event_type"] == "order.placed").collect();
    assert_eq!((sent.len(), sent[0]["status"].as_str()), (1, Some("failed")), "{log:?}");
    assert_eq!(sent[0]["last_status_code"], 302);
    assert!(sent[0]["last_error"].as_str().unwrap().contains("redirects are not followed"));
});

both!(a_host_that_refuses_private_addresses_sends_nothing_there, quick(), |app: TestApp| async move {
    // Saved by a host that allows private addresses; sent by one that does not.
    let (shop, variant) = shop(&app).await;
    let receiver = Receiver::start(|_, _| Answer::Status(200)).await;
    let (id, _) = endpoint(&app, &shop, &receiver.url, &["*"]).await;
    buy(&app, &shop, &[(&variant, 1)], "buy-1").await;
    let strict = app.shop().with_webhooks(Settings { allow_private: false, ..quick() });
    for _ in 0..5 {
        events::run_once(&strict).await.unwrap();
    }
    assert!(receiver.hits().is_empty(), "nothing reached the private address");
    let log = deliveries(&app, &shop, &id).await;
    let first = log.iter().find(|d| d["event_type"] == "order.placed").unwrap();
    assert_eq!(first["status"], "failed", "{log:?}");
    assert!(first["last_error"].as_str().unwrap().contains("private"), "{first:#}");
});

/// The shop's stock alerts, oldest first: (type, available).
async fn alerts(app: &TestApp, shop: &Shop) -> Vec<(String, i64)> {
    let page = app.get("/v1/admin/events?limit=100", shop.sk()).await.expect(200);
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"] == "inventory")
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["data"]["available"].as_i64().unwrap()))
        .collect()
}

both!(stock_crossings_and_new_customers_are_events, quick(), |app: TestApp| async move {
    let (shop, variant) = shop(&app).await;
    let path = format!("/v1/admin/variants/{variant}/inventory-policy");
    let bad = app.patch(&path, shop.sk(), &json!({"low_stock_threshold": -1})).await;
    assert!(bad.problem(422, "validation_failed")["errors"]["low_stock_threshold"].is_string());
    let set = app.patch(&path, shop.sk(), &json!({"low_stock_threshold": 45})).await.expect(200);
    assert_eq!(
        (set["low_stock_threshold"].as_i64(), set["inventory_policy"].as_str()),
        (Some(45), Some("deny"))
    );
    // 50 in stock: 46 is above the threshold, 45 crosses it, 44 is still low.
    buy(&app, &shop, &[(&variant, 4)], "b1").await;
    assert_eq!(alerts(&app, &shop).await, []);
    buy(&app, &shop, &[(&variant, 1)], "b2").await;
    buy(&app, &shop, &[(&variant, 1)], "b3").await;
    assert_eq!(alerts(&app, &shop).await, [("inventory.low_stock".to_owned(), 45)], "once per crossing");
    buy(&app, &shop, &[(&variant, 44)], "b4").await;
    let seen = alerts(&app, &shop).await;
    assert_eq!(seen[1], ("inventory.out_of_stock".to_owned(), 0));
    // Restocked, it is armed again.
    mercato_tests::shop::set_stock(&app, &shop, &variant, 47).await;
    buy(&app, &shop, &[(&variant, 2)], "b5").await;
    let seen = alerts(&app, &shop).await;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[2], ("inventory.low_stock".to_owned(), 45));

    let who = json!({"email": "ada@example.com", "password": "correct horse battery", "first_name": "Ada",
        "last_name": "Lovelace"});
    let customer = app.post("/v1/store/customers", shop.pk(), &who).await.expect(201);
    let feed = app.get("/v1/admin/events?type=customer.created", shop.sk()).await.expect(200);
    assert_eq!(feed["data"].as_array().unwrap().len(), 1, "{feed:#}");
    let created = &feed["data"][0];
    assert_eq!(
        (created["resource_id"].clone(), created["data"]["email"].as_str()),
        (customer["id"].clone(), Some("ada@example.com"))
    );
});

/// Endpoints: created with a secret shown once, listed, changed, removed;
/// every bad setting answered 422 naming the field, nothing stored.
async fn endpoints_are_managed_and_bad_settings_refused(app: TestApp) {
    let (shop, _) = shop(&app).await;
    let other = open_shop(&app, "other", "USD", "US", &[]).await;
    let path = "/v1/admin/webhook-endpoints";
    let bad = [
        (json!({"url": "ftp://hooks.example.com/", "event_types": ["*"]}), "url"),
        (json!({"url": "not a url", "event_types": ["*"]}), "url"),
        (json!({"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]}), "url"),
        (json!({"url": "http://169.254.169.254/", "event_types": ["*"]}), "url"),
        (json!({"url": "http://localhost:8080/", "event_types": ["*"]}), "url"),
        (json!({"url": "http://[::1]/", "event_types": ["*"]}), "url"),
        (json!({"event_types": ["*"]}), "url"),
        (json!({"url": "https://hooks.example.com/", "event_types": ["order.nope"]}), "event_types"),
        (json!({"url": "https://hooks.example.com/", "event_types": []}), "event_types"),
        (json!({"url": "https://hooks.example.com/"}), "event_types"),
    ];
    for (body, field) in bad {
        let problem = app.post(path, shop.sk(), &body).await.problem(422, "validation_failed");
        assert!(problem["errors"][field].is_string(), "{body}: {problem:#}");
    }
    assert_eq!(app.get(path, shop.sk()).await.expect(200)["data"], json!([]), "nothing stored");

    let created = app
        .post(
            path,
            shop.sk(),
            &json!({"url": "https://hooks.example.com/in", "event_types": ["order.placed",
            "order.refunded"], "description": "ERP"}),
        )
        .await
        .expect(201);
    let id = created["id"].as_str().unwrap();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["enabled"], true);
    let one = app.get(&format!("{path}/{id}"), shop.sk()).await.expect(200);
    assert!(one.get("secret").is_none(), "the secret is shown once: {one:#}");
    assert_eq!(one["event_types"], json!(["order.placed", "order.refunded"]));

    let changed = app
        .patch(&format!("{path}/{id}"), shop.sk(), &json!({"enabled": false, "event_types": ["*"]}))
        .await
        .expect(200);
    assert_eq!((changed["enabled"].as_bool(), changed["event_types"].clone()), (Some(false), json!(["*"])));
    let refused = app.patch(&format!("{path}/{id}"), shop.sk(), &json!({"url": "http://10.0.0.8/"})).await;
    refused.problem(422, "validation_failed");
    let same = app.get(&format!("{path}/{id}"), shop.sk()).await.expect(200);
    assert_eq!(same["url"], "https://hooks.example.com/in", "nothing changed");

    // Another shop sees none of it.
    app.get(&format!("{path}/{id}"), other.sk()).await.problem(404, "not_found");
    app.send(app.request(reqwest::Method::DELETE, &format!("{path}/{id}"), Some(other.sk())))
        .await
        .problem(404, "not_found");
    assert_eq!(app.get(path, other.sk()).await.expect(200)["data"], json!([]));

    app.send(app.request(reqwest::Method::DELETE, &format!("{path}/{id}"), Some(shop.sk())))
        .await
        .expect(204);
    app.get(&format!("{path}/{id}"), shop.sk()).await.problem(404, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_managed_and_bad_settings_refused_on_sqlite() {
    endpoints_are_managed_and_bad_settings_refused(spawn_app(Backend::Sqlite).await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_managed_and_bad_settings_refused_on_postgres() {
    match spawn_app(Backend::Postgres).await {
        Some(app) => endpoints_are_managed_and_bad_settings_refused(app).await,
        None => eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL"),
    }
}
