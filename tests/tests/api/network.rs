//! The operator allows a payment plugin its provider's host; a checkout then
//! pays through it over HTTP, and nowhere else.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::psp::FakePsp;
use mercato_tests::shop::*;
use serde_json::json;

on_both_databases!(the_operator_allows_payment_plugins_exact_hosts, |app: TestApp| async move {
    let gateway = install(&app, "http-gateway").await;
    let tax = install(&app, "flat-tax").await;
    let path = |id: &str| format!("/v1/platform/plugins/{id}/network");
    let op = app.operator_key.clone();

    let set =
        json!({"allowed_hosts": ["PSP.example:443", "127.0.0.1:8080", "[::1]:9000", "psp.example:443"]});
    let plugin = app.put(&path(&gateway), &op, &set).await.expect(200);
    assert_eq!(plugin["allowed_hosts"], json!(["psp.example:443", "127.0.0.1:8080", "[::1]:9000"]));
    let shown = app.get(&format!("/v1/platform/plugins/{gateway}"), &op).await.expect(200);
    assert_eq!(shown["allowed_hosts"], plugin["allowed_hosts"]);
    assert_eq!(shown["stats"]["http_requests"], 0);

    for (bad, field) in [
        (json!({"allowed_hosts": ["psp.example"]}), "allowed_hosts[0]"),
        (json!({"allowed_hosts": ["ok.example:443", "psp.example:0"]}), "allowed_hosts[1]"),
        (json!({"allowed_hosts": ["https://psp.example:443"]}), "allowed_hosts[0]"),
        (json!({"allowed_hosts": ["bad host:443"]}), "allowed_hosts[0]"),
        (json!({}), "allowed_hosts"),
        (
            json!({"allowed_hosts": (0..21).map(|i| format!("h{i}.example:443")).collect::<Vec<_>>()}),
            "allowed_hosts",
        ),
    ] {
        let body = app.put(&path(&gateway), &op, &bad).await.problem(422, "validation_failed");
        assert!(body["errors"][field].is_string(), "{field}: {body:#}");
    }
    let unchanged = app.get(&format!("/v1/platform/plugins/{gateway}"), &op).await.expect(200);
    assert_eq!(unchanged["allowed_hosts"], plugin["allowed_hosts"], "refused changes change nothing");

    let only_payment = json!({"allowed_hosts": ["tax.example:443"]});
    app.put(&path(&tax), &op, &only_payment).await.problem(422, "network_not_supported");
    app.put(&path(&tax), &op, &json!({"allowed_hosts": []})).await.expect(200);
    app.put(&path("plg_000000000000000000000000"), &op, &set).await.problem(404, "not_found");
    let merchant = app.merchant("acme", "USD", "US").await;
    assert_eq!(app.put(&path(&gateway), &merchant.secret_key, &set).await.status.as_u16(), 403);
});

on_both_databases!(a_checkout_pays_through_an_allowed_provider_and_nowhere_else, |app: TestApp| async move {
    let psp = FakePsp::start().await;
    let config = json!({"base_url": psp.base_url, "api_key": "test_key"});
    let binds = vec![
        Bind::new("shipping", "flat-rate", json!({"amount": 499, "label": "Standard", "countries": ["US"]})),
        Bind::new("payment", "http-gateway", config),
    ];
    let shop = open_shop(&app, "acme", "USD", "US", &binds).await;
    let gateway = shop.plugin_id("http-gateway").to_owned();
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let pay = json!({"provider": "http-gateway", "token": "tok_ok"});

    // Not allowed yet: the checkout fails naming the host, and the provider hears nothing.
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();
    let refused = complete(&app, &shop, id, "k1", pay.clone()).await.problem(502, "plugin_failed");
    let detail = refused["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("127.0.0.1:{}", psp.port)) && detail.contains("http-gateway@"),
        "{detail}"
    );
    assert!(psp.requests().is_empty(), "{:?}", psp.requests());
    assert_eq!(available(&app, &shop, &tee).await, 10, "nothing sold");

    let allow = json!({"allowed_hosts": [format!("127.0.0.1:{}", psp.port)]});
    app.put(&format!("/v1/platform/plugins/{gateway}/network"), &app.operator_key, &allow).await.expect(200);
    let cart = ready_cart(&app, &shop, &[(&tee, 2)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();
    let order = complete(&app, &shop, id, "k2", pay.clone()).await.expect(201);
    assert_eq!((order["status"].as_str(), order["payment_status"].as_str()), (Some("paid"), Some("paid")));
    let again = complete(&app, &shop, id, "k2", pay.clone()).await.expect(201);
    assert_eq!(again["id"], order["id"], "the same key is the same order");
    assert_eq!(psp.payments_created(), 1, "one payment at the provider");
    let sent = psp.requests().into_iter().find(|r| r.path == "/v1/payments").expect("the payment request");
    let attempt = order["payment"]["id"].as_str().unwrap();
    let header =
        |name: &str| sent.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    assert_eq!(
        header("idempotency-key").as_deref(),
        Some(attempt),
        "the attempt id is the provider's idempotency key"
    );
    assert_eq!(sent.body["amount"], order["total"]["amount"]);
    assert_eq!(available(&app, &shop, &tee).await, 8);

    // A decline at the provider is the buyer's 402, and leaves no order.
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();
    let declined = json!({"provider": "http-gateway", "token": "tok_decline"});
    complete(&app, &shop, id, "k3", declined).await.problem(402, "payment_declined");
    assert_eq!(available(&app, &shop, &tee).await, 8);

    let stats =
        app.get(&format!("/v1/platform/plugins/{gateway}"), &app.operator_key).await.expect(200)["stats"]
            .clone();
    assert_eq!(
        (stats["http_requests"].as_i64(), stats["http_refused"].as_i64()),
        (Some(2), Some(1)),
        "{stats:#}"
    );
    assert!(
        stats["http_bytes_sent"].as_i64().unwrap() > 0 && stats["http_bytes_received"].as_i64().unwrap() > 0
    );
});

on_both_databases!(a_charge_whose_answer_was_lost_is_reconciled_not_repeated, |app: TestApp| async move {
    let psp = FakePsp::start().await;
    let config = json!({"base_url": psp.base_url, "api_key": "test_key"});
    let shop = open_shop(&app, "acme", "USD", "US", &[Bind::new("payment", "http-gateway", config)]).await;
    let gateway = shop.plugin_id("http-gateway").to_owned();
    let allow = json!({"allowed_hosts": [format!("127.0.0.1:{}", psp.port)]});
    app.put(&format!("/v1/platform/plugins/{gateway}/network"), &app.operator_key, &allow).await.expect(200);
    let tee = product(&app, &shop, "TEE", 1999, 5).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();

    // The provider charged, then answered 500: the plugin cannot tell, so
    // the order waits with its stock held; it is not failed (the money is taken).
    let pay = json!({"provider": "http-gateway", "token": "tok_charge_then_fail"});
    let reply = complete(&app, &shop, id, "k1", pay).await.problem(502, "plugin_failed");
    assert!(reply["detail"].as_str().unwrap().contains("pending_payment"), "{reply:#}");
    assert_eq!(available(&app, &shop, &tee).await, 4, "the stock stays held");
    assert_eq!(psp.payments_created(), 1);

    // The reconciler asks again with the same key and finds the payment.
    let later = mercato::db::now_ms() + mercato::commerce::jobs::RECONCILE_AFTER_MS + 1;
    let report = mercato::commerce::jobs::run_once(&app.shop(), later).await.unwrap();
    assert_eq!(report.reconciled, 1);
    let orders = app.get("/v1/admin/orders", shop.sk()).await.expect(200);
    assert_eq!(orders["data"][0]["status"], "paid", "{orders:#}");
    assert_eq!(psp.payments_created(), 1, "never a second charge");
    let keys: Vec<String> =
        psp.requests().iter().filter_map(|r| r.header("idempotency-key").map(str::to_owned)).collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the retry used the attempt's key");
    assert_eq!(available(&app, &shop, &tee).await, 4);
});

on_both_databases!(a_cart_lists_the_shops_payment_providers, |app: TestApp| async move {
    let binds = vec![
        Bind::new("payment", "http-gateway", json!({"base_url": "https://psp.example", "api_key": "k"})),
        Bind::new("payment", "test-gateway", json!({"webhook_secret": GATEWAY_SECRET})),
    ];
    let shop = open_shop(&app, "acme", "USD", "US", &binds).await;
    let tee = product(&app, &shop, "TEE", 1999, 5).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let path = format!("/v1/store/carts/{}/payment-providers", cart["id"].as_str().unwrap());
    let options = app.get(&path, shop.pk()).await.expect(200);
    let names: Vec<&str> =
        options.as_array().unwrap().iter().map(|o| o["provider"].as_str().unwrap()).collect();
    assert_eq!(names, ["http-gateway", "test-gateway"], "in binding order: {options:#}");
    assert!(options.as_array().unwrap().iter().all(|o| o["kind"] == "plugin" && o["available"] == true));
    assert!(options[0]["description"].as_str().unwrap().contains("REST"), "{options:#}");

    let other = open_shop(&app, "other", "USD", "US", &[]).await;
    app.get(&path, other.pk()).await.problem(404, "not_found");
    app.get("/v1/store/carts/cart_nope/payment-providers", shop.pk()).await.problem(404, "not_found");
});
