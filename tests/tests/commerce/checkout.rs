//! Checkout: the whole purchase, stock under contention, idempotency,
//! discount limits, failing plugins, declines, 3-D Secure, expiry and
//! reconciliation after a crash.

use std::sync::Arc;

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::*;
use serde_json::{Value, json};

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row: (i64,) = sqlx::query_as(sql).fetch_one(app.db.pool()).await.expect("count");
    row.0
}

async fn stock_row(app: &TestApp, shop: &Shop, variant: &str) -> (i64, i64) {
    let s = app.get(&format!("/v1/admin/inventory?variant_id={variant}"), shop.sk()).await.expect(200);
    (s["on_hand"].as_i64().unwrap(), s["reserved"].as_i64().unwrap())
}

on_both_databases!(a_us_purchase_is_priced_taxed_paid_and_decrements_stock, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 2)], address("US", "CA")).await;
    assert_totals_re_add(&cart);
    assert_eq!(cart["subtotal"]["amount"], 3998);
    assert_eq!(cart["shipping_total"]["amount"], 499);
    // 7.25 % of 39.98 = 2.89855 -> 290 (half-even at the line).
    assert_eq!(cart["tax_total"]["amount"], 290, "{cart:#}");
    assert_eq!(cart["total"]["amount"], 3998 + 499 + 290);
    assert_eq!(cart["lines"][0]["tax_lines"][0]["amount"], usd(290), "tax lines are money");
    let id = cart["id"].as_str().unwrap();
    let order = complete(&app, &shop, id, "k1", visa()).await.expect(201);
    assert_eq!((order["status"].as_str(), order["payment_status"].as_str()), (Some("paid"), Some("paid")));
    assert_eq!(order["total"], cart["total"]);
    assert_eq!(
        order["lines"][0]["tax_lines"], cart["lines"][0]["tax_lines"],
        "the order keeps what was charged"
    );
    assert_totals_re_add(&order);
    assert_eq!(stock_row(&app, &shop, &tee).await, (8, 0));
    let again = complete(&app, &shop, id, "k1", visa()).await.expect(201);
    assert_eq!(again["id"], order["id"], "the same key replays the same order");
    complete(&app, &shop, id, "k2", visa()).await.problem(409, "cart_not_open");
    let detail =
        app.get(&format!("/v1/admin/orders/{}", order["id"].as_str().unwrap()), shop.sk()).await.expect(200);
    let kinds: Vec<_> = detail["events"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
    assert_eq!(kinds, [json!("placed"), json!("payment_succeeded")]);
    assert_eq!(
        count(&app, "select count(*) from outbox where topic like 'order.%'").await,
        2,
        "every state change is in the outbox"
    );
    // The guest sees the order with its access token, and only with it.
    let path = format!("/v1/store/orders/{}", order["id"].as_str().unwrap());
    let guest = app.request(reqwest::Method::GET, &path, Some(shop.pk()));
    let token = order["access_token"].as_str().unwrap();
    assert_eq!(app.send(guest.header("x-order-token", token)).await.expect(200)["id"], order["id"]);
    app.get(&path, shop.pk()).await.problem(404, "not_found");
});

on_both_databases!(concurrent_checkouts_never_oversell, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tent = product(&app, &shop, "TENT", 9900, 10).await;
    let mut carts = Vec::new();
    for _ in 0..50 {
        let cart = ready_cart(&app, &shop, &[(&tent, 1)], address("US", "NY")).await;
        carts.push(cart["id"].as_str().unwrap().to_owned());
    }
    let app = Arc::new(app);
    let shop = Arc::new(shop);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, cart) in carts.into_iter().enumerate() {
        let (app, shop) = (app.clone(), shop.clone());
        tasks.spawn(async move { complete(&app, &shop, &cart, &format!("race-{i}"), visa()).await });
    }
    let (mut placed, mut refused) = (0, 0);
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status.as_u16() {
            201 => placed += 1,
            409 => {
                let body = reply.problem(409, "out_of_stock");
                assert!(body["detail"].as_str().unwrap().contains("TENT"), "names the line: {body:#}");
                assert_eq!(body["errors"].as_object().unwrap().len(), 1, "{body:#}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {:#}", reply.body),
        }
    }
    assert_eq!((placed, refused), (10, 40));
    assert_eq!(stock_row(&app, &shop, &tent).await, (0, 0));
    assert_eq!(count(&app, "select count(*) from sales_order").await, 10);
    assert_eq!(
        count(&app, "select count(*) from inventory_level where on_hand < 0 or reserved < 0").await,
        0
    );
});

on_both_databases!(one_idempotency_key_gives_one_order_and_one_payment, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let mug = product(&app, &shop, "MUG", 1200, 5).await;
    let cart = ready_cart(&app, &shop, &[(&mug, 1)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap().to_owned();
    let (app, shop) = (Arc::new(app), Arc::new(shop));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (app, shop, id) = (app.clone(), shop.clone(), id.clone());
        tasks.spawn(async move { complete(&app, &shop, &id, "same-key", visa()).await });
    }
    let mut order_ids = Vec::new();
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status.as_u16() {
            201 => order_ids.push(reply.body["id"].clone()),
            // Still running under this key: the client retries later.
            409 => assert_eq!(reply.body["code"], "idempotency_key_in_use", "{:#}", reply.body),
            other => panic!("unexpected {other}: {:#}", reply.body),
        }
    }
    let replay = complete(&app, &shop, &id, "same-key", visa()).await.expect(201);
    order_ids.push(replay["id"].clone());
    order_ids.dedup();
    assert_eq!(order_ids.len(), 1, "{order_ids:?}");
    assert_eq!(count(&app, "select count(*) from sales_order").await, 1);
    assert_eq!(count(&app, "select count(*) from payment_attempt").await, 1, "one payment");
    assert_eq!(stock_row(&app, &shop, &mug).await, (4, 0));
});

on_both_databases!(a_discount_code_limit_holds_under_concurrent_checkouts, |app| async move {
    let binds = vec![
        Bind::new("pricing", "coupon", json!({"codes": [{"code": "LIMIT5", "percent": "10"}]})),
        Bind::new("shipping", "flat-rate", json!({"amount": 499, "label": "Standard", "countries": ["US"]})),
        Bind::new("payment", "test-gateway", json!({})),
    ];
    let shop = open_shop(&app, "acme", "USD", "US", &binds).await;
    let code =
        app.post("/v1/admin/discount-codes", shop.sk(), &json!({"code": "LIMIT5", "usage_limit": 5})).await;
    let code_id = code.expect(201)["id"].as_str().unwrap().to_owned();
    let cap = product(&app, &shop, "CAP", 2500, 100).await;
    let mut carts = Vec::new();
    for _ in 0..20 {
        let cart = ready_cart(&app, &shop, &[(&cap, 1)], address("US", "CA")).await;
        let id = cart["id"].as_str().unwrap().to_owned();
        let path = format!("/v1/store/carts/{id}/discount-codes");
        let cart = app.post(&path, shop.pk(), &json!({"code": "limit5"})).await.expect(200);
        assert_eq!(cart["discount_total"]["amount"], 250, "{cart:#}");
        let adjustments = cart["lines"][0]["adjustments"]
            .as_array()
            .unwrap()
            .iter()
            .chain(cart["adjustments"].as_array().unwrap());
        assert_eq!(
            adjustments.map(|a| a["amount"].clone()).collect::<Vec<_>>(),
            [usd(250)],
            "adjustments are money"
        );
        assert_totals_re_add(&cart);
        carts.push(id);
    }
    let (app, shop) = (Arc::new(app), Arc::new(shop));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, cart) in carts.into_iter().enumerate() {
        let (app, shop) = (app.clone(), shop.clone());
        tasks.spawn(async move { complete(&app, &shop, &cart, &format!("code-{i}"), visa()).await });
    }
    let (mut placed, mut refused) = (0, 0);
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status.as_u16() {
            201 => {
                assert_eq!(reply.body["discount_codes"], json!(["LIMIT5"]));
                placed += 1;
            }
            _ => {
                reply.problem(422, "invalid_discount_code");
                refused += 1;
            }
        }
    }
    assert_eq!((placed, refused), (5, 15));
    let code = app.get(&format!("/v1/admin/discount-codes/{code_id}"), shop.sk()).await.expect(200);
    assert_eq!(code["usage_count"], 5);
    assert_eq!(stock_row(&app, &shop, &cap).await, (95, 0), "refused checkouts hold no stock");
});

on_both_databases!(a_failing_tax_plugin_blocks_checkout_and_charges_nothing, |app| async move {
    let mut binds = us_plugins();
    binds.retain(|b| b.point != "tax");
    binds.push(Bind::new("tax", "hostile-tax", json!({"mode": "trap"})));
    let shop = open_shop(&app, "acme", "USD", "US", &binds).await;
    let tee = product(&app, &shop, "TEE", 1999, 3).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let warning = cart["warnings"].as_array().unwrap().iter().find(|w| w["code"] == "plugin_failed").cloned();
    let warning = warning.unwrap_or_else(|| panic!("the cart warns: {cart:#}"));
    assert!(warning["message"].as_str().unwrap().contains("hostile-tax"), "{warning:#}");
    let body = complete(&app, &shop, cart["id"].as_str().unwrap(), "tax-1", visa())
        .await
        .problem(502, "plugin_failed");
    assert!(body["detail"].as_str().unwrap().contains("hostile-tax"), "names the plugin: {body:#}");
    assert_eq!(count(&app, "select count(*) from payment_attempt").await, 0, "nothing charged");
    assert_eq!(count(&app, "select count(*) from sales_order").await, 0);
    assert_eq!(stock_row(&app, &shop, &tee).await, (3, 0), "no stock held");
});

/// The cart warning of one plugin's failure, by code.
fn plugin_warning(cart: &Value, code: &str) -> Value {
    let found = cart["warnings"].as_array().unwrap().iter().find(|w| w["code"] == code).cloned();
    found.unwrap_or_else(|| panic!("a {code} warning: {cart:#}"))
}

on_both_databases!(a_skipped_tax_plugin_is_never_silent, |app| async move {
    let mut binds = us_plugins();
    binds.retain(|b| b.point != "tax");
    binds.push(Bind { on_error: "skip", ..Bind::new("tax", "hostile-tax", json!({"mode": "trap"})) });
    let shop = open_shop(&app, "acme", "USD", "US", &binds).await;
    let tee = product(&app, &shop, "TEE", 1999, 3).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    assert_eq!(cart["tax_total"]["amount"], 0);
    let warning = plugin_warning(&cart, "plugin_skipped");
    assert!(warning["plugin"].as_str().unwrap().starts_with("hostile-tax"), "{warning:#}");
    assert_eq!((warning["call"].as_str(), warning["reason"].as_str()), (Some("tax.calculate"), Some("trap")));
    assert!(
        warning["message"].as_str().unwrap().contains("panicked on purpose"),
        "the panic's message: {warning:#}"
    );
    let order = complete(&app, &shop, cart["id"].as_str().unwrap(), "skip-1", visa()).await.expect(201);
    let detail = app.get(&format!("/v1/admin/orders/{}", order["id"].as_str().unwrap()), shop.sk()).await;
    let detail = detail.expect(200);
    let event = detail["events"].as_array().unwrap().iter().find(|e| e["kind"] == "plugin_skipped").cloned();
    let event = event.unwrap_or_else(|| panic!("the order records the skip: {detail:#}"));
    assert_eq!(event["data"]["call"], "tax.calculate", "{event:#}");
    assert_eq!(event["data"]["reason"], "trap");
    // The operator reads the failure in the plugin's journal on this host,
    // one merchant's calls at a time.
    let plugin = shop.plugin_id("hostile-tax");
    let path = format!("/v1/platform/plugins/{plugin}/logs?merchant_id={}", shop.merchant.id);
    let logs = app.get(&path, &app.operator_key).await.expect(200);
    let trap = logs["errors"].as_array().unwrap().iter().find(|e| e["kind"] == "trap").cloned();
    let trap = trap.unwrap_or_else(|| panic!("the last trap is kept: {logs:#}"));
    assert!(trap["message"].as_str().unwrap().contains("panicked on purpose"), "{trap:#}");
    assert!(trap["count"].as_u64().unwrap() >= 2, "the cart and the checkout both called it: {trap:#}");
    assert!(logs["lines"].as_array().unwrap().iter().all(|l| l["merchant_id"] == shop.merchant.id.as_str()));
    let path = format!("/v1/platform/plugins/{plugin}/logs?merchant_id=mer_other");
    let other = app.get(&path, &app.operator_key).await.expect(200);
    assert_eq!((other["lines"].as_array().unwrap().len(), other["errors"].as_array().unwrap().len()), (0, 0));
    app.get(&format!("/v1/platform/plugins/{plugin}/logs"), shop.sk()).await.problem(403, "forbidden");
    app.get("/v1/platform/plugins/plg_nope/logs", &app.operator_key).await.problem(404, "not_found");
});

/// Weight-table with a configuration that passes its schema but that it
/// refuses on every call (one country in two zones).
fn broken_weight_table(on_error: &'static str) -> Bind {
    let zone = |name: &str| json!({"name": name, "countries": ["US"], "brackets": [{"max_grams": 1000, "amount": 100}]});
    Bind { on_error, ..Bind::new("shipping", "weight-table", json!({"zones": [zone("a"), zone("b")]})) }
}

on_both_databases!(shipping_bindings_honour_on_error, |app| async move {
    for (slug, on_error) in [("fails", "fail"), ("skips", "skip")] {
        let mut binds = us_plugins();
        binds.push(broken_weight_table(on_error));
        let shop = open_shop(&app, slug, "USD", "US", &binds).await;
        let tee = product(&app, &shop, "TEE", 1999, 3).await;
        let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
        assert!(cart["shipping_option"]["code"].is_string(), "flat-rate still offers: {cart:#}");
        let code = if on_error == "fail" { "plugin_failed" } else { "plugin_skipped" };
        let warning = plugin_warning(&cart, code);
        assert!(warning["plugin"].as_str().unwrap().starts_with("weight-table"), "{warning:#}");
        assert_eq!(warning["call"], "shipping.rates");
        let done = complete(&app, &shop, cart["id"].as_str().unwrap(), "ship-1", visa()).await;
        if on_error == "fail" {
            let body = done.problem(502, "plugin_failed");
            assert!(body["detail"].as_str().unwrap().contains("weight-table"), "{body:#}");
        } else {
            done.expect(201);
        }
    }
});

on_both_databases!(a_decline_releases_stock_and_the_buyer_can_pay_again, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 1).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();
    let declined = json!({"provider": "test-gateway", "token": "tok_chargeDeclined"});
    let body = complete(&app, &shop, id, "d1", declined).await.problem(402, "payment_declined");
    assert!(body["detail"].as_str().unwrap().contains("declined"), "{body:#}");
    assert_eq!(stock_row(&app, &shop, &tee).await, (1, 0), "released");
    complete(&app, &shop, id, "d2", json!({"provider": "nope"}))
        .await
        .problem(422, "unknown_payment_provider");
    complete(&app, &shop, id, "d3", json!({"provider": "test-gateway"}))
        .await
        .problem(422, "payment_rejected");
    // A declined or refused payment leaves no order: the cart is open, the
    // merchant lists nothing, no number is used; the attempts stay on record.
    assert_eq!(app.get(&format!("/v1/store/carts/{id}"), shop.pk()).await.expect(200)["status"], "open");
    assert_eq!(app.get("/v1/admin/orders", shop.sk()).await.expect(200)["data"], json!([]));
    assert_eq!(count(&app, "select count(*) from payment_attempt where status = 'failed'").await, 2);
    let order = complete(&app, &shop, id, "d4", visa()).await.expect(201);
    assert_eq!(order["status"], "paid");
    assert_eq!(order["number"], 1001, "the first order of the shop, whatever was declined before");
    assert_eq!(stock_row(&app, &shop, &tee).await, (0, 0));
    let listed = app.get("/v1/admin/orders", shop.sk()).await.expect(200);
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    // The declined checkouts are not orders, by id either.
    let declined: Vec<(String,)> = sqlx::query_as("select order_id from sales_order where number < 0")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(declined.len(), 2);
    for (order_id,) in declined {
        app.get(&format!("/v1/admin/orders/{order_id}"), shop.sk()).await.problem(404, "not_found");
    }
});

on_both_databases!(incomplete_carts_are_refused_with_what_is_missing, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 5).await;
    let cart =
        app.post("/v1/store/carts", shop.pk(), &json!({"lines": [{"variant_id": tee, "quantity": 1}]})).await;
    let id = cart.expect(201)["id"].as_str().unwrap().to_owned();
    let body = complete(&app, &shop, &id, "i1", visa()).await.problem(422, "validation_failed");
    for field in ["email", "shipping_address", "shipping_option"] {
        assert!(body["errors"][field].is_string(), "{field} is named: {body:#}");
    }
    complete(&app, &shop, "cart_nope", "i2", visa()).await.problem(404, "not_found");
    complete(&app, &shop, &id, "i3", json!({})).await.problem(422, "validation_failed");
    assert_eq!(count(&app, "select count(*) from sales_order").await, 0);
    assert_eq!(stock_row(&app, &shop, &tee).await, (5, 0));
});

/// The webhook the test gateway would post, signed.
async fn notify(app: &TestApp, shop: &Shop, reference: &str, status: &str) -> Value {
    notify_with(app, shop, json!({"reference": reference, "status": status})).await.expect(200)
}

async fn notify_with(app: &TestApp, shop: &Shop, body: Value) -> mercato_tests::app::Reply {
    let path = format!("/v1/hooks/payments/{}/{}", shop.merchant.id, shop.plugin_id("test-gateway"));
    let body = serde_json::to_vec(&body).unwrap();
    let req = app
        .client
        .post(format!("{}{path}", app.base))
        .header("x-test-signature", gateway_signature(&body))
        .body(body);
    app.send(req).await
}

on_both_databases!(a_payment_event_for_another_amount_or_currency_settles_nothing, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 5999, 2).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let total = cart["total"]["amount"].as_i64().unwrap();
    let tds = json!({"provider": "test-gateway", "token": "tok_threeDSecure"});
    let action = complete(&app, &shop, cart["id"].as_str().unwrap(), "3ds", tds).await.expect(200);
    let reference = action["next_action"]["client_secret"].as_str().unwrap().trim_end_matches("_secret");
    let order_path = format!("/v1/admin/orders/{}", action["order_id"].as_str().unwrap());
    for amount in [json!({"amount": 1, "currency": "USD"}), json!({"amount": total, "currency": "EUR"})] {
        let body = json!({"reference": reference, "status": "succeeded", "amount": amount});
        let receipt = notify_with(&app, &shop, body).await.expect(200);
        assert_eq!((receipt["applied"].as_bool(), receipt["mismatch"].as_bool()), (Some(false), Some(true)));
        let order = app.get(&order_path, shop.sk()).await.expect(200);
        assert_eq!(
            (order["status"].as_str(), order["payment_status"].as_str()),
            (Some("pending_payment"), Some("requires_action"))
        );
        assert_eq!(order["captured"]["amount"], 0);
        let flagged =
            order["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "payment_mismatch").count();
        assert!(flagged >= 1, "the merchant sees the mismatch: {order:#}");
    }
    assert_eq!(stock_row(&app, &shop, &tee).await, (2, 1), "still held, not sold");
    // The right amount settles it.
    let body = json!({"reference": reference, "status": "succeeded", "amount": {"amount": total, "currency": "USD"}});
    assert_eq!(notify_with(&app, &shop, body).await.expect(200)["applied"], true);
    let order = app.get(&order_path, shop.sk()).await.expect(200);
    assert_eq!((order["status"].as_str(), order["captured"]["amount"].as_i64()), (Some("paid"), Some(total)));
});

on_both_databases!(unsigned_or_forged_gateway_webhooks_are_refused, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 2).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let tds = json!({"provider": "test-gateway", "token": "tok_threeDSecure"});
    let action = complete(&app, &shop, cart["id"].as_str().unwrap(), "3ds", tds).await.expect(200);
    let reference = action["next_action"]["client_secret"].as_str().unwrap().trim_end_matches("_secret");
    let path =
        format!("{}/v1/hooks/payments/{}/{}", app.base, shop.merchant.id, shop.plugin_id("test-gateway"));
    let body = json!({"reference": reference, "status": "succeeded"});
    app.send(app.client.post(&path).json(&body)).await.problem(422, "invalid_webhook");
    let forged = app.client.post(&path).header("x-test-signature", GATEWAY_SECRET).json(&body);
    app.send(forged).await.problem(422, "invalid_webhook");
    let order =
        app.get(&format!("/v1/admin/orders/{}", action["order_id"].as_str().unwrap()), shop.sk()).await;
    assert_eq!(order.expect(200)["status"], "pending_payment");
    // A gateway bound with no secret refuses every webhook.
    bind(&app, shop.sk(), &[Bind::new("payment", "test-gateway", json!({}))], &shop.plugins).await;
    let signed = app
        .client
        .post(&path)
        .header("x-test-signature", gateway_signature(&serde_json::to_vec(&body).unwrap()));
    app.send(signed.json(&body)).await.problem(422, "invalid_webhook");
});

on_both_databases!(three_d_secure_waits_for_the_provider_then_pays, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 2).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 2)], address("US", "CA")).await;
    let tds = json!({"provider": "test-gateway", "token": "tok_threeDSecure"});
    let action = complete(&app, &shop, cart["id"].as_str().unwrap(), "3ds", tds).await.expect(200);
    assert_eq!(action["status"], "requires_action");
    let secret = action["next_action"]["client_secret"].as_str().unwrap();
    assert_eq!(stock_row(&app, &shop, &tee).await, (2, 2), "held while the buyer authenticates");
    let order_id = action["order_id"].as_str().unwrap();
    let reference = secret.trim_end_matches("_secret");
    let receipt = notify(&app, &shop, reference, "succeeded").await;
    assert_eq!((receipt["matched"].as_bool(), receipt["applied"].as_bool()), (Some(true), Some(true)));
    assert_eq!(
        notify(&app, &shop, reference, "succeeded").await["applied"],
        false,
        "a repeat changes nothing"
    );
    assert_eq!(notify(&app, &shop, "tg_unknown", "succeeded").await["matched"], false);
    let order = app.get(&format!("/v1/admin/orders/{order_id}"), shop.sk()).await.expect(200);
    assert_eq!(order["status"], "paid");
    assert_eq!(stock_row(&app, &shop, &tee).await, (0, 0));
});

on_both_databases!(an_abandoned_payment_releases_its_stock_when_the_hold_expires, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 2).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let tds = json!({"provider": "test-gateway", "token": "tok_threeDSecure"});
    let action = complete(&app, &shop, cart["id"].as_str().unwrap(), "3ds", tds).await.expect(200);
    let shop_state = app.shop();
    let now = mercato::db::now_ms();
    let report = mercato::commerce::jobs::run_once(&shop_state, now).await.unwrap();
    assert_eq!(report.expired, 0, "not yet");
    let later = now + mercato::commerce::checkout::RESERVATION_TTL_MS + 1;
    assert_eq!(mercato::commerce::jobs::run_once(&shop_state, later).await.unwrap().expired, 1);
    assert_eq!(stock_row(&app, &shop, &tee).await, (2, 0));
    let order =
        app.get(&format!("/v1/admin/orders/{}", action["order_id"].as_str().unwrap()), shop.sk()).await;
    assert_eq!(order.expect(200)["status"], "cancelled");
    assert_eq!(mercato::commerce::jobs::run_once(&shop_state, later).await.unwrap().expired, 0, "once");
});

on_both_databases!(
    a_crash_between_order_and_payment_is_reconciled_without_a_second_charge,
    |app| async move {
        let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
        let tee = product(&app, &shop, "TEE", 1999, 3).await;
        let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
        let shop_state = app.shop();
        let req = serde_json::from_value(json!({"payment": visa()})).unwrap();
        // Step 1 only: the host "stops" before calling the provider.
        let placed = mercato::commerce::checkout::place(
            &shop_state,
            &shop.merchant.id,
            cart["id"].as_str().unwrap(),
            req,
        )
        .await
        .unwrap();
        let order_id = placed.order_id().to_owned();
        assert_eq!(stock_row(&app, &shop, &tee).await, (3, 1));
        let now = mercato::db::now_ms();
        let later = now + mercato::commerce::jobs::RECONCILE_AFTER_MS + 1;
        let report = mercato::commerce::jobs::run_once(&shop_state, later).await.unwrap();
        assert_eq!(report.reconciled, 1);
        let order = app.get(&format!("/v1/admin/orders/{order_id}"), shop.sk()).await.expect(200);
        assert_eq!(order["status"], "paid");
        assert_eq!(stock_row(&app, &shop, &tee).await, (2, 0));
        assert_eq!(
            mercato::commerce::jobs::run_once(&shop_state, later + 60_000).await.unwrap().reconciled,
            0
        );
        assert_eq!(count(&app, "select count(*) from payment_attempt").await, 1);
    }
);

/// Registers and logs in a customer; returns the session token.
async fn customer_token(app: &TestApp, shop: &Shop, email: &str) -> String {
    let body = json!({"email": email, "password": "correct horse", "first_name": "Ada", "last_name": "L"});
    app.post("/v1/store/customers", shop.pk(), &body).await.expect(201);
    let login = json!({"email": email, "password": "correct horse"});
    let session = app.post("/v1/store/customers/login", shop.pk(), &login).await.expect(200);
    session["token"].as_str().unwrap().to_owned()
}

on_both_databases!(customers_see_their_own_orders_and_no_one_else_does, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 5).await;
    let ada = customer_token(&app, &shop, "ada@example.com").await;
    let bob = customer_token(&app, &shop, "bob@example.com").await;
    let with = |req: reqwest::RequestBuilder, token: &str| req.header("x-customer-token", token);
    let lines = json!({"email": "ada@example.com", "lines": [{"variant_id": tee, "quantity": 1}]});
    let create = app.request(reqwest::Method::POST, "/v1/store/carts", Some(shop.pk())).json(&lines);
    app.send(with(create, "ct_not_a_token")).await.problem(401, "unauthorized");
    let create = app.request(reqwest::Method::POST, "/v1/store/carts", Some(shop.pk())).json(&lines);
    let cart = app.send(with(create, &ada)).await.expect(201);
    assert!(cart["customer_id"].is_string(), "{cart:#}");
    let id = cart["id"].as_str().unwrap();
    app.patch(&format!("/v1/store/carts/{id}"), shop.pk(), &json!({"shipping_address": address("US", "CA")}))
        .await
        .expect(200);
    let options = app.get(&format!("/v1/store/carts/{id}/shipping-options"), shop.pk()).await.expect(200);
    let code = json!({"code": options["options"][0]["code"]});
    app.put(&format!("/v1/store/carts/{id}/shipping-option"), shop.pk(), &code).await.expect(200);
    let order = complete(&app, &shop, id, "mine", visa()).await.expect(201);
    assert_eq!(order["customer_id"], cart["customer_id"]);

    let mine = app.request(reqwest::Method::GET, "/v1/store/customers/me/orders", Some(shop.pk()));
    let mine = app.send(with(mine, &ada)).await.expect(200);
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["id"], order["id"]);
    let theirs = app.request(reqwest::Method::GET, "/v1/store/customers/me/orders", Some(shop.pk()));
    assert_eq!(app.send(with(theirs, &bob)).await.expect(200)["data"], json!([]));
    let path = format!("/v1/store/orders/{}", order["id"].as_str().unwrap());
    let as_ada = app.request(reqwest::Method::GET, &path, Some(shop.pk()));
    assert_eq!(app.send(with(as_ada, &ada)).await.expect(200)["id"], order["id"]);
    let as_bob = app.request(reqwest::Method::GET, &path, Some(shop.pk()));
    app.send(with(as_bob, &bob)).await.problem(404, "not_found");
});

on_both_databases!(bad_provider_callbacks_are_refused_and_change_nothing, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let hook = |plugin: &str| format!("{}/v1/hooks/payments/{}/{plugin}", app.base, shop.merchant.id);
    let gateway = shop.plugin_id("test-gateway").to_owned();
    let garbage = app.client.post(hook(&gateway)).body("not json");
    app.send(garbage).await.problem(422, "invalid_webhook");
    let unknown =
        app.client.post(hook("plg_unknown")).json(&json!({"reference": "tg_x", "status": "succeeded"}));
    app.send(unknown).await.problem(404, "not_found");
    assert_eq!(count(&app, "select count(*) from order_event").await, 0);
});

on_both_databases!(a_line_dropped_while_completing_does_not_fail_the_checkout, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let (tee, mug) = (product(&app, &shop, "TEE", 1999, 5).await, product(&app, &shop, "MUG", 1200, 5).await);
    let cart = ready_cart(&app, &shop, &[(&tee, 1), (&mug, 1)], address("US", "CA")).await;
    let products = app.get("/v1/admin/products?q=MUG", shop.sk()).await.expect(200);
    let mug_product = products["data"][0]["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/admin/products/{mug_product}"), shop.sk(), &json!({"status": "archived"}))
        .await
        .expect(200);
    // Completion itself is the first read to see the archived line.
    let order = complete(&app, &shop, cart["id"].as_str().unwrap(), "drop-1", visa()).await.expect(201);
    let skus: Vec<&str> =
        order["lines"].as_array().unwrap().iter().map(|l| l["sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["TEE"]);
    assert_eq!(stock_row(&app, &shop, &mug).await, (5, 0), "the dropped line took no stock");
});
