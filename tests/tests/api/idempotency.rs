//! `Idempotency-Key` belongs to who is asking: shoppers who share a shop's
//! publishable key never get each other's stored answers; hosts on one
//! database agree on replays whatever their operator keys; a key held by a
//! request whose host died is taken over by its retry, which gets the real
//! outcome.

use std::time::Duration;

use mercato::commerce::idempotency::{Claim, Keys, Request};
use mercato_tests::app::{Reply, TestApp, TestMerchant};
use mercato_tests::on_both_databases;
use mercato_tests::shop::*;
use reqwest::Method;
use serde_json::{Value, json};

async fn signed_in(app: &TestApp, m: &TestMerchant, email: &str) -> String {
    let body =
        json!({"email": email, "password": "correct horse battery", "first_name": "T", "last_name": "C"});
    app.post("/v1/store/customers", &m.publishable_key, &body).await.expect(201);
    let login = json!({"email": email, "password": "correct horse battery"});
    let session = app.post("/v1/store/customers/login", &m.publishable_key, &login).await.expect(200);
    session["token"].as_str().unwrap().to_owned()
}

/// A keyed POST as a shopper (with a customer token or as a guest).
async fn keyed(
    app: &TestApp,
    m: &TestMerchant,
    path: &str,
    key: &str,
    token: Option<&str>,
    body: &Value,
) -> Reply {
    let mut req = app.request(Method::POST, path, Some(&m.publishable_key)).header("idempotency-key", key);
    if let Some(token) = token {
        req = req.header("x-customer-token", token);
    }
    app.send(req.json(body)).await
}

on_both_databases!(
    shoppers_sharing_a_publishable_key_never_get_each_others_answers,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let product = app
            .post(
                "/v1/admin/products",
                &m.secret_key,
                &json!({"title": "Tee", "status": "active",
            "variants": [{"sku": "TEE", "price": {"amount": 1000, "currency": "USD"}}]}),
            )
            .await
            .expect(201);
        let product_id = product["id"].as_str().unwrap();
        let ada = signed_in(&app, &m, "ada@example.com").await;
        let bob = signed_in(&app, &m, "bob@example.com").await;
        let body = json!({"currency": "USD"});

        let a = keyed(&app, &m, "/v1/store/carts", "k-1", Some(&ada), &body).await.expect(201);
        let again = keyed(&app, &m, "/v1/store/carts", "k-1", Some(&ada), &body).await;
        assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
        assert_eq!(again.expect(201)["id"], a["id"], "Ada's own retry replays her cart");

        let b = keyed(&app, &m, "/v1/store/carts", "k-1", Some(&bob), &body).await;
        assert!(b.headers.get("idempotent-replayed").is_none(), "Bob is not handed Ada's answer");
        let b = b.expect(201);
        assert_ne!(b["id"], a["id"]);
        assert_ne!(b["customer_id"], a["customer_id"]);
        let guest = keyed(&app, &m, "/v1/store/carts", "k-1", None, &body).await.expect(201);
        assert_ne!(guest["id"], a["id"]);
        assert!(guest["customer_id"].is_null(), "{guest:#}");

        // The same key on another path is another request, not a replay (nor a mismatch).
        let wish = json!({"product_id": product_id});
        keyed(&app, &m, "/v1/store/customers/me/wishlist", "k-1", Some(&ada), &wish).await.expect(201);
        keyed(&app, &m, "/v1/store/customers/me/wishlist", "k-1", Some(&bob), &wish).await.expect(201);
        for token in [&ada, &bob] {
            let list = app
                .send(
                    app.request(Method::GET, "/v1/store/customers/me/wishlist", Some(&m.publishable_key))
                        .header("x-customer-token", token),
                )
                .await
                .expect(200);
            assert_eq!(list["data"].as_array().unwrap().len(), 1, "each write was made: {list:#}");
        }
    }
);

on_both_databases!(hosts_with_different_operator_keys_agree_on_replays, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let other = app.serve_another("op_another_operator_key").await;
    let send = |base: String| {
        app.client
            .post(format!("{base}/v1/store/carts"))
            .bearer_auth(&m.publishable_key)
            .header("idempotency-key", "k-1")
            .json(&json!({"currency": "USD"}))
    };
    let first = app.send(send(app.base.clone())).await.expect(201);
    let replay = app.send(send(other)).await;
    assert_eq!(replay.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(replay.expect(201)["id"], first["id"]);
    let secrets: (i64,) =
        sqlx::query_as("select count(*) from host_secret").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(secrets.0, 1, "one fingerprint secret per deployment");
});

/// A checkout whose host died after placing the order: its request claimed
/// `key` with a `lease_ms` lease nobody renews, and placed the order of a
/// one-tee cart; the provider was never asked. Returns (shop, cart id,
/// order id).
async fn dead_checkout(app: &TestApp, key: &str, lease_ms: u64) -> (Shop, String, String) {
    let shop = open_shop(app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(app, &shop, "TEE", 1999, 3).await;
    let cart = ready_cart(app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let cart_id = cart["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/store/carts/{cart_id}/complete");
    let body = json!({"payment": visa()});
    let dead = Keys::new(&app.shop(), Duration::from_millis(lease_ms));
    let auth = format!("Bearer {}", shop.pk());
    let body_bytes = serde_json::to_vec(&body).unwrap();
    let credentials = [Some(auth.as_bytes()), None, None];
    let request = Request { credentials: &credentials, method: "POST", path: &path, key, body: &body_bytes };
    assert!(matches!(dead.claim(&request).await.unwrap().1, Claim::New));
    let req = serde_json::from_value(body).unwrap();
    let placed =
        mercato::commerce::checkout::place(&app.shop(), &shop.merchant.id, &cart_id, req).await.unwrap();
    let order_id = placed.order_id().to_owned();
    (shop, cart_id, order_id)
}

on_both_databases!(a_key_held_by_a_dead_request_is_taken_over_by_its_retry, |app: TestApp| async move {
    let (shop, cart_id, order_id) = dead_checkout(&app, "k-dead", 300).await;
    let cart_id = cart_id.as_str();

    // While the lease lives the key is busy, and says when to come back.
    let busy = complete(&app, &shop, cart_id, "k-dead", visa()).await;
    assert!(busy.headers.get("retry-after").is_some());
    busy.problem(409, "idempotency_key_in_use");

    // The reconciler pays the order meanwhile.
    let later = mercato::db::now_ms() + mercato::commerce::jobs::RECONCILE_AFTER_MS + 1;
    let report = mercato::commerce::jobs::run_once(&app.shop(), later).await.unwrap();
    assert_eq!(report.reconciled, 1);

    tokio::time::sleep(Duration::from_millis(400)).await;
    let order = complete(&app, &shop, cart_id, "k-dead", visa()).await.expect(201);
    assert_eq!(order["id"], order_id.as_str(), "the real outcome: the order the dead request placed");
    assert_eq!(order["status"], "paid");
    let token = order["access_token"].as_str().unwrap();
    let view = app.request(Method::GET, &format!("/v1/store/orders/{order_id}"), Some(shop.pk()));
    assert_eq!(app.send(view.header("x-order-token", token)).await.expect(200)["id"], order["id"]);
    // The answer is stored now: the next retry replays it.
    let replay = complete(&app, &shop, cart_id, "k-dead", visa()).await;
    assert_eq!(replay.headers.get("idempotent-replayed").unwrap(), "true");
    let payments: (i64,) =
        sqlx::query_as("select count(*) from payment_attempt").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(payments.0, 1, "never a second payment");
});

on_both_databases!(a_retry_that_takes_over_asks_the_provider_itself, |app: TestApp| async move {
    let (shop, cart_id, _) = dead_checkout(&app, "k", 100).await;
    let cart_id = cart_id.as_str();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Nobody has heard from the provider: the retry asks it, with the same attempt.
    let order = complete(&app, &shop, cart_id, "k", visa()).await.expect(201);
    assert_eq!(order["payment_status"], "paid");
    let tee = order["lines"][0]["variant_id"].as_str().unwrap();
    let on_hand = app.get(&format!("/v1/admin/inventory?variant_id={tee}"), shop.sk()).await.expect(200);
    assert_eq!((on_hand["on_hand"].as_i64(), on_hand["reserved"].as_i64()), (Some(2), Some(0)));
    let payments: (i64,) =
        sqlx::query_as("select count(*) from payment_attempt").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(payments.0, 1);
});

on_both_databases!(a_key_is_forgotten_a_day_after_its_first_use, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let body = json!({"currency": "USD"});
    let first = keyed(&app, &m, "/v1/store/carts", "k-day", None, &body).await.expect(201);
    let stored = || async {
        let (n,): (i64,) =
            sqlx::query_as("select count(*) from idempotency_key where idempotency_key = 'k-day'")
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        n
    };
    let run = |at: i64| {
        let shop = app.shop();
        async move { mercato::commerce::jobs::run_once(&shop, at).await.unwrap() }
    };

    // Within its day the key is kept, and its answer replayed.
    let now = mercato::db::now_ms();
    assert_eq!(run(now).await.keys_forgotten, 0);
    assert_eq!(stored().await, 1);
    let replay = keyed(&app, &m, "/v1/store/carts", "k-day", None, &body).await;
    assert_eq!(replay.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(replay.expect(201)["id"], first["id"]);

    // A day later the jobs forget it, and the same key is a new request.
    let later = now + mercato::commerce::idempotency::TTL_MS + 1_000;
    assert!(run(later).await.keys_forgotten >= 1);
    assert_eq!(stored().await, 0);
    let again = keyed(&app, &m, "/v1/store/carts", "k-day", None, &json!({"currency": "USD"})).await;
    assert!(again.headers.get("idempotent-replayed").is_none());
    assert_ne!(again.expect(201)["id"], first["id"]);
});
