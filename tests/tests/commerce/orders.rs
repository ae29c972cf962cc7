//! After checkout: fulfillments, cancellation, refunds, returns and manual
//! payments, each recorded in the order's history.

mod refunds;

use std::sync::Arc;

use mercato_tests::app::{Reply, TestApp};
use mercato_tests::on_both_databases;
use mercato_tests::shop::*;
use serde_json::{Value, json};

/// A paid order of `lines`, shipped to California (7.25 % on goods, none on shipping).
async fn paid_order(app: &TestApp, shop: &Shop, lines: &[(&str, i64)]) -> Value {
    let cart = ready_cart(app, shop, lines, address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();
    let order = complete(app, shop, id, &format!("pay-{id}"), visa()).await.expect(201);
    assert_eq!(order["status"], "paid");
    order
}

/// `POST /v1/admin/orders/{id}/{action}`.
async fn act(app: &TestApp, shop: &Shop, order: &Value, action: &str, body: Value) -> Reply {
    let id = order["id"].as_str().unwrap();
    app.post(&format!("/v1/admin/orders/{id}/{action}"), shop.sk(), &body).await
}

/// The order's line of `sku`.
fn line<'a>(order: &'a Value, sku: &str) -> &'a Value {
    let lines = order["lines"].as_array().unwrap();
    lines.iter().find(|l| l["sku"] == sku).unwrap_or_else(|| panic!("no {sku} line in {order:#}"))
}

fn line_id(order: &Value, sku: &str) -> String {
    line(order, sku)["id"].as_str().unwrap().to_owned()
}

/// The order's history as event kinds, checking the sequence numbers run 1, 2, 3…
async fn history(app: &TestApp, shop: &Shop, order: &Value) -> Vec<String> {
    let id = order["id"].as_str().unwrap();
    let detail = app.get(&format!("/v1/admin/orders/{id}"), shop.sk()).await.expect(200);
    let events = detail["events"].as_array().unwrap();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"], i as i64 + 1, "events in order: {events:#?}");
    }
    events.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    let row: (i64,) = sqlx::query_as(sql).fetch_one(app.db.pool()).await.expect("count");
    row.0
}

on_both_databases!(an_order_ships_in_parts_and_never_more_than_ordered, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let mug = product(&app, &shop, "MUG", 1200, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 3), (&mug, 1)]).await;
    let (tee_line, mug_line) = (line_id(&order, "TEE"), line_id(&order, "MUG"));

    let body = json!({"lines": [{"line_id": tee_line, "quantity": 2}], "carrier": "UPS", "tracking_number": "1Z999"});
    let shipped = act(&app, &shop, &order, "fulfillments", body).await.expect(201);
    assert_eq!(shipped["fulfillment_status"], "partially_fulfilled");
    assert_eq!(shipped["status"], "partially_fulfilled");
    assert_eq!(line(&shipped, "TEE")["fulfilled_quantity"], 2);

    let over = json!({"lines": [{"line_id": tee_line, "quantity": 2}]});
    let problem = act(&app, &shop, &order, "fulfillments", over).await.problem(422, "validation_failed");
    assert!(
        problem["errors"]["lines[0].quantity"].as_str().unwrap().contains("between 1 and 1"),
        "{problem:#}"
    );
    for bad in [
        json!({"lines": [{"line_id": "ol_nope", "quantity": 1}]}),
        json!({"lines": [{"line_id": mug_line, "quantity": 0}]}),
        json!({"lines": []}),
        json!({"lines": [{"line_id": mug_line, "quantity": 1}, {"line_id": mug_line, "quantity": 1}]}),
    ] {
        act(&app, &shop, &order, "fulfillments", bad).await.problem(422, "validation_failed");
    }

    let rest = json!({"lines": [{"line_id": tee_line, "quantity": 1}, {"line_id": mug_line, "quantity": 1}]});
    let done = act(&app, &shop, &order, "fulfillments", rest).await.expect(201);
    assert_eq!(done["fulfillment_status"], "fulfilled");
    assert_eq!(done["status"], "fulfilled");
    // The buyer sees the shipments with carrier and tracking; the merchant too.
    let path = format!("/v1/store/orders/{}", order["id"].as_str().unwrap());
    let token = order["access_token"].as_str().unwrap();
    let seen =
        app.send(app.request(reqwest::Method::GET, &path, Some(shop.pk())).header("x-order-token", token));
    let seen = seen.await.expect(200);
    let shipments = seen["fulfillments"].as_array().unwrap();
    assert_eq!(shipments.len(), 2, "{seen:#}");
    assert_eq!(
        (shipments[0]["carrier"].as_str(), shipments[0]["tracking_number"].as_str()),
        (Some("UPS"), Some("1Z999"))
    );
    assert_eq!(shipments[0]["lines"], json!([{"line_id": tee_line, "quantity": 2}]));
    assert!(seen.get("events").is_none(), "the merchant's history is not the buyer's");
    let detail =
        app.get(&format!("/v1/admin/orders/{}", order["id"].as_str().unwrap()), shop.sk()).await.expect(200);
    assert_eq!(detail["fulfillments"].as_array().unwrap().len(), 2);
    let more = json!({"lines": [{"line_id": mug_line, "quantity": 1}]});
    let problem = act(&app, &shop, &order, "fulfillments", more).await.problem(422, "validation_failed");
    assert!(
        problem["errors"]["lines[0].quantity"].as_str().unwrap().contains("nothing is left"),
        "{problem:#}"
    );

    act(&app, &shop, &order, "cancel", json!({"reason": "too late"}))
        .await
        .problem(409, "invalid_transition");
    assert_eq!(history(&app, &shop, &order).await, ["placed", "payment_succeeded", "fulfilled", "fulfilled"]);
    assert_eq!(count(&app, "select count(*) from fulfillment").await, 2);
});

on_both_databases!(concurrent_fulfillments_never_over_fulfil, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 3)]).await;
    let body = json!({"lines": [{"line_id": line_id(&order, "TEE"), "quantity": 1}]});
    let (app, shop, order) = (Arc::new(app), Arc::new(shop), Arc::new(order));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, shop, order, body) = (app.clone(), shop.clone(), order.clone(), body.clone());
        tasks.spawn(async move { act(&app, &shop, &order, "fulfillments", body).await });
    }
    let mut statuses = Vec::new();
    while let Some(reply) = tasks.join_next().await {
        statuses.push(reply.unwrap().status.as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 201, 201, 422, 422, 422, 422, 422]);
    let detail =
        app.get(&format!("/v1/admin/orders/{}", order["id"].as_str().unwrap()), shop.sk()).await.expect(200);
    assert_eq!(detail["lines"][0]["fulfilled_quantity"], 3);
    assert_eq!(detail["fulfillment_status"], "fulfilled");
});

on_both_databases!(cancelling_a_paid_order_puts_its_stock_back_and_refunds_it, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    assert_eq!(available(&app, &shop, &tee).await, 8);

    let cancelled = act(&app, &shop, &order, "cancel", json!({"reason": "customer asked"})).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["payment_status"], "refunded");
    assert_eq!(cancelled["refunded"], cancelled["captured"]);
    assert!(cancelled["cancelled_at"].is_string());
    assert_eq!(available(&app, &shop, &tee).await, 10);
    let inv = app.get(&format!("/v1/admin/inventory?variant_id={tee}"), shop.sk()).await.expect(200);
    assert_eq!((inv["on_hand"].as_i64(), inv["reserved"].as_i64()), (Some(10), Some(0)), "{inv:#}");

    act(&app, &shop, &order, "cancel", json!({})).await.problem(409, "invalid_transition");
    let lines = json!({"lines": [{"line_id": line_id(&order, "TEE"), "quantity": 1}]});
    act(&app, &shop, &order, "fulfillments", lines).await.problem(409, "invalid_transition");
    act(&app, &shop, &order, "refunds", json!({"amount": usd(100), "reason": "x"}))
        .await
        .problem(409, "invalid_transition");
    assert_eq!(available(&app, &shop, &tee).await, 10, "a refused cancel changes nothing");
    assert_eq!(
        history(&app, &shop, &order).await,
        ["placed", "payment_succeeded", "cancel_requested", "cancelled"]
    );
    assert_eq!(count(&app, "select count(*) from refund where status = 'succeeded'").await, 1);
});

on_both_databases!(cancelling_an_order_awaiting_3ds_voids_it_and_releases_its_hold, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 3)], address("US", "CA")).await;
    let card = json!({"provider": "test-gateway", "token": "tok_threeDSecure"});
    let action = complete(&app, &shop, cart["id"].as_str().unwrap(), "3ds", card).await.expect(200);
    assert_eq!(available(&app, &shop, &tee).await, 7, "held while the buyer authenticates");
    let order = json!({"id": action["order_id"]});
    let cancelled = act(&app, &shop, &order, "cancel", json!({"reason": "abandoned"})).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["payment_status"], "voided");
    assert_eq!(available(&app, &shop, &tee).await, 10);
    let kinds = history(&app, &shop, &order).await;
    assert_eq!(kinds, ["placed", "payment_requires_action", "cancel_requested", "cancelled"]);
});

on_both_databases!(returns_put_shipped_goods_back_in_stock, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let tee_line = line_id(&order, "TEE");
    let one = json!({"lines": [{"line_id": tee_line, "quantity": 1}], "reason": "too small"});
    let problem = act(&app, &shop, &order, "returns", one.clone()).await.problem(422, "validation_failed");
    assert!(
        problem["errors"]["lines[0].quantity"].as_str().unwrap().contains("nothing is left"),
        "{problem:#}"
    );

    let all = json!({"lines": [{"line_id": tee_line, "quantity": 2}]});
    act(&app, &shop, &order, "fulfillments", all).await.expect(201);
    assert_eq!(available(&app, &shop, &tee).await, 8);

    let returned = act(&app, &shop, &order, "returns", one).await.expect(201);
    assert_eq!(returned["lines"][0]["returned_quantity"], 1);
    assert_eq!(returned["refunded"]["amount"], 0, "a return pays nothing back by itself");
    assert_eq!(available(&app, &shop, &tee).await, 9);

    let bad_location =
        json!({"lines": [{"line_id": tee_line, "quantity": 1}], "reason": "x", "location_id": "loc_nope"});
    act(&app, &shop, &order, "returns", bad_location).await.problem(422, "validation_failed");
    let no_reason = json!({"lines": [{"line_id": tee_line, "quantity": 1}]});
    act(&app, &shop, &order, "returns", no_reason).await.problem(422, "validation_failed");
    let two = json!({"lines": [{"line_id": tee_line, "quantity": 2}], "reason": "x"});
    act(&app, &shop, &order, "returns", two).await.problem(422, "validation_failed");

    let damaged =
        json!({"lines": [{"line_id": tee_line, "quantity": 1}], "reason": "damaged", "restock": false});
    let returned = act(&app, &shop, &order, "returns", damaged).await.expect(201);
    assert_eq!(returned["lines"][0]["returned_quantity"], 2);
    assert_eq!(available(&app, &shop, &tee).await, 9, "damaged goods are not restocked");
    assert_eq!(
        history(&app, &shop, &order).await,
        ["placed", "payment_succeeded", "fulfilled", "returned", "returned"]
    );
});

on_both_databases!(a_manual_payment_waits_until_the_merchant_captures_it, |app| async move {
    let mut binds = us_plugins();
    binds.retain(|b| b.point != "payment");
    binds.push(Bind::new("payment", "manual", json!({"instructions": "Pay {amount} ref {order}"})));
    let shop = open_shop(&app, "acme", "USD", "US", &binds).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let buy = |key: &'static str| {
        let (app, shop, tee) = (&app, &shop, tee.clone());
        async move {
            let cart = ready_cart(app, shop, &[(&tee, 1)], address("US", "CA")).await;
            complete(app, shop, cart["id"].as_str().unwrap(), key, json!({"provider": "manual"}))
                .await
                .expect(201)
        }
    };
    let order = buy("manual-1").await;
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["payment_status"], "pending");
    assert!(order["payment"]["message"].as_str().unwrap().starts_with("Pay "), "{order:#}");
    act(&app, &shop, &order, "refunds", json!({"amount": usd(100), "reason": "x"}))
        .await
        .problem(409, "invalid_transition");

    // Shipping before the money arrives is the merchant's call.
    let lines = json!({"lines": [{"line_id": line_id(&order, "TEE"), "quantity": 1}]});
    act(&app, &shop, &order, "fulfillments", lines).await.expect(201);
    let paid = act(&app, &shop, &order, "capture", Value::Null).await.expect(200);
    assert_eq!(paid["payment_status"], "paid");
    assert_eq!(paid["status"], "fulfilled");
    assert_eq!(paid["captured"], paid["total"]);
    act(&app, &shop, &order, "capture", Value::Null).await.problem(409, "invalid_transition");
    assert_eq!(
        history(&app, &shop, &order).await,
        ["placed", "payment_pending", "fulfilled", "payment_succeeded"]
    );

    // An unpaid manual order cancelled: the payment is voided, the stock back.
    let other = buy("manual-2").await;
    assert_eq!(available(&app, &shop, &tee).await, 8);
    let cancel_path = format!("/v1/admin/orders/{}/cancel", other["id"].as_str().unwrap());
    let form = app
        .request(reqwest::Method::POST, &cancel_path, Some(shop.sk()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("reason=x");
    app.send(form).await.problem(415, "unsupported_media_type");
    // No body at all is a cancellation without a reason.
    let bare = app.request(reqwest::Method::POST, &cancel_path, Some(shop.sk()));
    let cancelled = app.send(bare).await.expect(200);
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["payment_status"].as_str()),
        (Some("cancelled"), Some("voided"))
    );
    assert_eq!(cancelled["payment"]["status"], "voided");
    assert_eq!(available(&app, &shop, &tee).await, 9);
    act(&app, &shop, &other, "capture", Value::Null).await.problem(409, "invalid_transition");
});

on_both_databases!(another_merchants_orders_are_not_found, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let rival = open_shop(&app, "rival", "USD", "US", &us_plugins()).await;
    let lines = json!([{"line_id": line_id(&order, "TEE"), "quantity": 1}]);
    for (action, body) in [
        ("fulfillments", json!({"lines": lines})),
        ("cancel", json!({})),
        ("refunds", json!({"amount": usd(100), "reason": "x"})),
        ("returns", json!({"lines": lines, "reason": "x"})),
        ("capture", Value::Null),
    ] {
        act(&app, &rival, &order, action, body).await.problem(404, "not_found");
    }
    act(&app, &shop, &json!({"id": "ord_nope"}), "cancel", json!({})).await.problem(404, "not_found");
    assert_eq!(history(&app, &shop, &order).await, ["placed", "payment_succeeded"]);
});

on_both_databases!(the_order_list_pages_whole_orders_of_one_merchant, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 50).await;
    let mug = product(&app, &shop, "MUG", 1250, 50).await;
    let mut placed = Vec::new();
    for lines in
        [vec![(tee.as_str(), 1)], vec![(tee.as_str(), 2), (mug.as_str(), 1)], vec![(mug.as_str(), 3)]]
    {
        placed.push(paid_order(&app, &shop, &lines).await);
    }
    act(&app, &shop, &placed[2], "cancel", json!({})).await.expect(200);
    let rival = open_shop(&app, "rival", "USD", "US", &us_plugins()).await;
    let rival_tee = product(&app, &rival, "TEE", 999, 5).await;
    paid_order(&app, &rival, &[(&rival_tee, 1)]).await;

    // Two pages of two: every listed order is the order its detail shows,
    // lines and latest payment included.
    let first = app.get("/v1/admin/orders?limit=2", shop.sk()).await.expect(200);
    let cursor = first["next_cursor"].as_str().expect("a second page").to_owned();
    let second = app.get(&format!("/v1/admin/orders?limit=2&cursor={cursor}"), shop.sk()).await.expect(200);
    assert!(second["next_cursor"].is_null(), "{second:#}");
    let listed: Vec<Value> =
        [first, second].iter().flat_map(|p| p["data"].as_array().unwrap().clone()).collect();
    assert_eq!(listed.len(), 3, "only acme's orders: {listed:#?}");
    let mut ids: Vec<&str> = placed.iter().map(|o| o["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(listed.iter().map(|o| o["id"].as_str().unwrap()).collect::<Vec<_>>(), ids);
    for order in &listed {
        let mut detail = app
            .get(&format!("/v1/admin/orders/{}", order["id"].as_str().unwrap()), shop.sk())
            .await
            .expect(200);
        // The detail adds the history and the shipments to the listed order.
        detail.as_object_mut().unwrap().remove("events");
        assert_eq!(detail.as_object_mut().unwrap().remove("fulfillments"), Some(json!([])));
        assert_eq!(order, &detail);
        assert!(!order["lines"].as_array().unwrap().is_empty() && order["payment"].is_object(), "{order:#}");
    }
    let lines = |o: &Value| o["lines"].as_array().unwrap().len();
    let by_id = |id: &Value| listed.iter().find(|o| &o["id"] == id).unwrap();
    assert_eq!(placed.iter().map(|o| lines(by_id(&o["id"]))).collect::<Vec<_>>(), [1, 2, 1]);

    let cancelled = app.get("/v1/admin/orders?status=cancelled", shop.sk()).await.expect(200);
    let cancelled = cancelled["data"].as_array().unwrap();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["id"], placed[2]["id"]);
    app.get("/v1/admin/orders?status=lost", shop.sk()).await.problem(422, "validation_failed");
});

#[tokio::test]
async fn order_actions_are_documented() {
    let app = mercato_tests::app::spawn_app(mercato::db::Backend::Sqlite).await.unwrap();
    let doc = app.send(app.request(reqwest::Method::GET, "/openapi.json", None)).await.expect(200);
    for action in ["fulfillments", "cancel", "refunds", "returns", "capture"] {
        let op = &doc["paths"][format!("/v1/admin/orders/{{id}}/{action}")]["post"];
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{action}: {op:#}");
    }
}

on_both_databases!(the_event_feed_lists_every_order_change_of_one_merchant, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    act(
        &app,
        &shop,
        &order,
        "fulfillments",
        json!({"lines": [{"line_id": line_id(&order, "TEE"), "quantity": 2}]}),
    )
    .await
    .expect(201);
    let feed = app.get("/v1/admin/events", shop.sk()).await.expect(200);
    // The shop's plugin bindings were changed first (each change is an event too).
    let events: Vec<&Value> =
        feed["data"].as_array().unwrap().iter().filter(|e| e["type"] != "plugin_bindings.changed").collect();
    let types: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["order.placed", "order.payment_succeeded", "order.fulfilled"], "{feed:#}");
    let first = &events[0];
    assert_eq!(
        (first["resource"].as_str(), first["resource_id"].as_str()),
        (Some("order"), order["id"].as_str())
    );
    assert_eq!((first["version"].as_i64(), first["data"]["seq"].as_i64()), (Some(1), Some(1)));
    assert!(first["id"].as_str().unwrap().starts_with("obx_") && first["created_at"].is_string());

    // One type; a page at a time; bad filters are refused.
    let paid = app.get("/v1/admin/events?type=order.payment_succeeded", shop.sk()).await.expect(200);
    assert_eq!(paid["data"].as_array().unwrap().len(), 1);
    assert_eq!(paid["data"][0]["data"]["number"], order["number"]);
    let bindings = feed["data"].as_array().unwrap().len() - events.len();
    let first = app.get(&format!("/v1/admin/events?limit={bindings}"), shop.sk()).await.expect(200);
    let after = first["next_cursor"].as_str().unwrap();
    let page = app.get(&format!("/v1/admin/events?limit=2&cursor={after}"), shop.sk()).await.expect(200);
    assert_eq!(page["data"][0]["type"], "order.placed");
    assert_eq!((page["data"].as_array().unwrap().len(), page["has_more"].as_bool()), (2, Some(true)));
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/admin/events?limit=2&cursor={cursor}"), shop.sk()).await.expect(200);
    assert_eq!(rest["data"][0]["type"], "order.fulfilled");
    assert_eq!(rest["has_more"], false);
    for bad in ["orders", "Order.placed", "order.placed.twice", "order.nope"] {
        let body = app
            .get(&format!("/v1/admin/events?type={bad}"), shop.sk())
            .await
            .problem(422, "validation_failed");
        assert!(body["errors"]["type"].is_string(), "{body:#}");
    }

    // Another merchant's feed is its own.
    let rival = open_shop(&app, "rival", "USD", "US", &us_plugins()).await;
    let theirs = app.get("/v1/admin/events", rival.sk()).await.expect(200);
    let theirs: Vec<&Value> = theirs["data"].as_array().unwrap().iter().collect();
    assert_eq!(theirs.len(), 4, "only its own four binding changes");
    assert!(theirs.iter().all(|e| e["type"] == "plugin_bindings.changed"));
    app.get("/v1/admin/events", shop.pk()).await.problem(403, "forbidden");
});
