//! Refunds: by amount or by lines, never more than captured, and a refusal
//! by the provider gives the claim back exactly.

use super::*;

on_both_databases!(refunds_by_amount_and_by_lines_never_exceed_what_was_captured, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    // 2 × 19.99 + 2.90 tax + 4.99 shipping.
    assert_eq!(order["captured"]["amount"], 4787);
    let tee_line = line_id(&order, "TEE");

    let by_amount = json!({"amount": usd(500), "reason": "scratched"});
    let refunded = act(&app, &shop, &order, "refunds", by_amount).await.expect(201);
    assert_eq!(refunded["payment_status"], "partially_refunded");
    assert_eq!(refunded["status"], "partially_refunded");
    assert_eq!(refunded["refunded"]["amount"], 500);

    // One of two tees: half of 39.98 + 2.90 tax.
    let by_lines = json!({"lines": [{"line_id": tee_line, "quantity": 1}], "reason": "wrong size"});
    let key = "refund-tee-1";
    let send = || {
        let req = app
            .request(
                reqwest::Method::POST,
                &format!("/v1/admin/orders/{}/refunds", order["id"].as_str().unwrap()),
                Some(shop.sk()),
            )
            .header("idempotency-key", key)
            .json(&by_lines);
        app.send(req)
    };
    let refunded = send().await.expect(201);
    assert_eq!(refunded["refunded"]["amount"], 500 + 2144);
    assert_eq!(refunded["lines"][0]["refunded_quantity"], 1);
    assert_eq!(send().await.expect(201), refunded, "the same key refunds once");

    let before = history(&app, &shop, &order).await;
    let too_much = json!({"amount": usd(4787 - 2644 + 1), "reason": "oops"});
    act(&app, &shop, &order, "refunds", too_much).await.problem(422, "refund_exceeds_captured");
    for bad in [
        json!({"amount": usd(100), "lines": [{"line_id": tee_line, "quantity": 1}], "reason": "both"}),
        json!({"reason": "neither"}),
        json!({"amount": usd(100)}),
        json!({"amount": usd(0), "reason": "zero"}),
        json!({"lines": [{"line_id": tee_line, "quantity": 2}], "reason": "only one left"}),
    ] {
        act(&app, &shop, &order, "refunds", bad).await.problem(422, "validation_failed");
    }
    assert_eq!(history(&app, &shop, &order).await, before, "refused refunds change nothing");
    let id = order["id"].as_str().unwrap();
    let unchanged = app.get(&format!("/v1/admin/orders/{id}"), shop.sk()).await.expect(200);
    assert_eq!(unchanged["refunded"]["amount"], 2644);

    let rest = act(&app, &shop, &order, "refunds", json!({"amount": usd(4787 - 2644), "reason": "goodwill"}))
        .await
        .expect(201);
    assert_eq!(rest["payment_status"], "refunded");
    assert_eq!(rest["status"], "refunded");
    act(&app, &shop, &order, "refunds", json!({"amount": usd(1), "reason": "more"}))
        .await
        .problem(409, "invalid_transition");
    let kinds = history(&app, &shop, &order).await;
    let refunds: Vec<_> = kinds.iter().filter(|k| k.starts_with("refund")).map(String::as_str).collect();
    assert_eq!(
        refunds,
        ["refund_pending", "refunded", "refund_pending", "refunded", "refund_pending", "refunded"]
    );
});

on_both_databases!(concurrent_refunds_never_exceed_what_was_captured, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let (app, shop, order) = (Arc::new(app), Arc::new(shop), Arc::new(order));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (app, shop, order) = (app.clone(), shop.clone(), order.clone());
        tasks.spawn(async move {
            act(&app, &shop, &order, "refunds", json!({"amount": usd(2000), "reason": "race"})).await
        });
    }
    let mut statuses = Vec::new();
    while let Some(reply) = tasks.join_next().await {
        statuses.push(reply.unwrap().status.as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, [201, 201, 422, 422, 422, 422]);
    let detail =
        app.get(&format!("/v1/admin/orders/{}", order["id"].as_str().unwrap()), shop.sk()).await.expect(200);
    assert_eq!(detail["refunded"]["amount"], 4000);
    assert_eq!(count(&app, "select count(*) from refund where status = 'succeeded'").await, 2);
});

on_both_databases!(money_the_provider_refuses_to_pay_back_is_claimed_back_exactly, |app| async move {
    use mercato::db::now_ms;
    use mercato::db::order_actions::{
        self as store, Cancel, CancelPayment, LineQty, RefundClaim, RefundLine,
    };
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let (merchant_id, order_id) = (shop.merchant.id.as_str(), order["id"].as_str().unwrap());
    let path = format!("/v1/admin/orders/{order_id}");
    let get = || app.get(&path, shop.sk());

    // A refund claimed, then refused by the provider.
    let lines =
        [RefundLine { line: LineQty { line_id: line_id(&order, "TEE"), quantity: 1 }, refunded_before: 0 }];
    let claim = RefundClaim {
        merchant_id,
        order_id,
        refund_id: "ref_refused",
        amount: 2144,
        lines: &lines,
        currency: "USD",
        reason: "test",
        now: now_ms(),
    };
    assert_eq!(store::claim_refund(&app.db, &claim).await.unwrap(), store::Written::Done);
    let rest = json!({"amount": usd(4787 - 2144 + 1), "reason": "while claimed"});
    act(&app, &shop, &order, "refunds", rest).await.problem(422, "refund_exceeds_captured");
    assert!(
        store::settle_refund(&app.db, (merchant_id, "USD"), "ref_refused", Err("declined"), now_ms())
            .await
            .unwrap()
    );
    assert!(
        !store::settle_refund(&app.db, (merchant_id, "USD"), "ref_refused", Ok("tg_x"), now_ms())
            .await
            .unwrap()
    );
    let after = get().await.expect(200);
    assert_eq!(
        (after["refunded"]["amount"].as_i64(), after["payment_status"].as_str()),
        (Some(0), Some("paid"))
    );
    assert_eq!(after["lines"][0]["refunded_quantity"], 0);

    // A cancellation claimed, then refused: the order is as it was.
    let c = Cancel {
        merchant_id,
        order_id,
        reason: None,
        payment_status: "paid",
        payment: CancelPayment::Refund { refund_id: "ref_cancel", amount: 4787 },
        currency: "USD",
        now: now_ms(),
    };
    assert!(store::claim_cancel(&app.db, &c).await.unwrap());
    assert_eq!(get().await.expect(200)["status"], "cancelled");
    assert!(store::settle_cancel(&app.db, &c, Err("declined"), now_ms()).await.unwrap());
    let after = get().await.expect(200);
    assert_eq!((after["status"].as_str(), after["refunded"]["amount"].as_i64()), (Some("paid"), Some(0)));
    assert!(after["cancelled_at"].is_null());
    assert_eq!(available(&app, &shop, &tee).await, 8);
    let kinds = history(&app, &shop, &order).await;
    let expected = [
        "placed",
        "payment_succeeded",
        "refund_pending",
        "refund_failed",
        "cancel_requested",
        "cancel_failed",
    ];
    assert_eq!(kinds, expected);
    assert_eq!(count(&app, "select count(*) from refund where status = 'failed'").await, 2);
});

on_both_databases!(a_refund_the_provider_did_not_answer_stays_claimed_until_reconciled, |app| async move {
    use mercato::commerce::jobs::{RECONCILE_AFTER_MS, run_once};
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let path = format!("/v1/admin/orders/{}", order["id"].as_str().unwrap());
    let limits = format!("/v1/platform/plugins/{}/limits", shop.plugin_id("test-gateway"));
    let fuel = |n: u64| json!({ "fuel_per_200_lines": n });

    // The gateway runs out of fuel: no answer, so the refund may or may not
    // have gone through. Its amount stays claimed.
    app.patch(&limits, &app.operator_key, &fuel(1)).await.expect(200);
    let refund = json!({"amount": usd(1000), "reason": "dented"});
    let failed = act(&app, &shop, &order, "refunds", refund).await.problem(502, "plugin_failed");
    assert!(failed["detail"].as_str().unwrap().contains("stays held"), "{failed}");
    let held = app.get(&path, shop.sk()).await.expect(200);
    assert_eq!(
        (held["refunded"]["amount"].as_i64(), held["payment_status"].as_str()),
        (Some(1000), Some("paid"))
    );
    let rest = json!({"amount": usd(4787 - 1000 + 1), "reason": "more than is left"});
    act(&app, &shop, &order, "refunds", rest).await.problem(422, "refund_exceeds_captured");
    act(&app, &shop, &order, "cancel", json!({})).await.problem(409, "invalid_transition");
    assert_eq!(count(&app, "select count(*) from refund where status = 'unknown'").await, 1);

    // The reconciler asks again once it is old enough; still no answer.
    let state = app.shop();
    let now = mercato::db::now_ms();
    assert_eq!(run_once(&state, now).await.unwrap().refunds, 0, "too recent");
    let later = now + RECONCILE_AFTER_MS + 1;
    assert_eq!(run_once(&state, later).await.unwrap().refunds, 0, "still no answer");
    assert_eq!(count(&app, "select count(*) from refund where status = 'unknown'").await, 1);

    // The gateway answers: settled with the same key, once.
    app.patch(&limits, &app.operator_key, &fuel(11_000_000)).await.expect(200);
    let later = later + RECONCILE_AFTER_MS + 1;
    assert_eq!(run_once(&state, later).await.unwrap().refunds, 1);
    assert_eq!(run_once(&state, later + RECONCILE_AFTER_MS + 1).await.unwrap().refunds, 0, "once");
    let after = app.get(&path, shop.sk()).await.expect(200);
    assert_eq!(
        (after["refunded"]["amount"].as_i64(), after["payment_status"].as_str()),
        (Some(1000), Some("partially_refunded"))
    );
    assert_eq!(count(&app, "select count(*) from refund where status = 'succeeded'").await, 1);
    let kinds = history(&app, &shop, &order).await;
    assert_eq!(kinds[kinds.len() - 3..], ["refund_pending", "refund_unknown", "refunded"]);
});

on_both_databases!(a_cancellation_whose_refund_was_not_answered_finishes_when_reconciled, |app| async move {
    use mercato::commerce::jobs::{RECONCILE_AFTER_MS, run_once};
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let path = format!("/v1/admin/orders/{}", order["id"].as_str().unwrap());
    let limits = format!("/v1/platform/plugins/{}/limits", shop.plugin_id("test-gateway"));
    let fuel = |n: u64| json!({ "fuel_per_200_lines": n });

    app.patch(&limits, &app.operator_key, &fuel(1)).await.expect(200);
    let failed = act(&app, &shop, &order, "cancel", json!({})).await.problem(502, "plugin_failed");
    assert!(failed["detail"].as_str().unwrap().contains("stays cancelled"), "{failed}");
    let held = app.get(&path, shop.sk()).await.expect(200);
    assert_eq!(
        (held["status"].as_str(), held["refunded"]["amount"].as_i64()),
        (Some("cancelled"), Some(4787))
    );
    assert_eq!(available(&app, &shop, &tee).await, 8, "stock goes back once the refund is confirmed");
    act(&app, &shop, &order, "refunds", json!({"amount": usd(1), "reason": "again"}))
        .await
        .problem(409, "invalid_transition");

    let state = app.shop();
    app.patch(&limits, &app.operator_key, &fuel(11_000_000)).await.expect(200);
    let later = mercato::db::now_ms() + RECONCILE_AFTER_MS + 1;
    assert_eq!(run_once(&state, later).await.unwrap().refunds, 1);
    assert_eq!(run_once(&state, later + RECONCILE_AFTER_MS + 1).await.unwrap().refunds, 0, "once");
    let after = app.get(&path, shop.sk()).await.expect(200);
    assert_eq!(
        (after["status"].as_str(), after["payment_status"].as_str(), after["refunded"]["amount"].as_i64()),
        (Some("cancelled"), Some("refunded"), Some(4787))
    );
    assert_eq!(available(&app, &shop, &tee).await, 10);
    assert_eq!(count(&app, "select count(*) from refund where status = 'succeeded'").await, 1);
    let kinds = history(&app, &shop, &order).await;
    assert_eq!(kinds[kinds.len() - 3..], ["cancel_requested", "refund_unknown", "cancelled"]);
});

on_both_databases!(refunds_a_stopped_host_left_pending_are_finished_by_the_reconciler, |app| async move {
    use mercato::commerce::jobs::{RECONCILE_AFTER_MS, run_once};
    use mercato::db::now_ms;
    use mercato::db::order_actions::{self as store, Cancel, CancelPayment, RefundClaim};
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let refunded = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let cancelled = paid_order(&app, &shop, &[(&tee, 1)]).await;
    let merchant_id = shop.merchant.id.as_str();

    // Claimed, then the host stopped before asking the provider.
    let claim = RefundClaim {
        merchant_id,
        order_id: refunded["id"].as_str().unwrap(),
        refund_id: "ref_stopped",
        amount: 700,
        lines: &[],
        currency: "USD",
        reason: "late delivery",
        now: now_ms(),
    };
    assert_eq!(store::claim_refund(&app.db, &claim).await.unwrap(), store::Written::Done);
    let total = cancelled["total"]["amount"].as_i64().unwrap();
    let c = Cancel {
        merchant_id,
        order_id: cancelled["id"].as_str().unwrap(),
        reason: None,
        payment_status: "paid",
        payment: CancelPayment::Refund { refund_id: "ref_stopped_cancel", amount: total },
        currency: "USD",
        now: now_ms(),
    };
    assert!(store::claim_cancel(&app.db, &c).await.unwrap());
    assert_eq!(available(&app, &shop, &tee).await, 7);

    let state = app.shop();
    assert_eq!(run_once(&state, now_ms()).await.unwrap().refunds, 0, "may still be in flight");
    let later = now_ms() + RECONCILE_AFTER_MS + 1;
    assert_eq!(run_once(&state, later).await.unwrap().refunds, 2);
    assert_eq!(run_once(&state, later + RECONCILE_AFTER_MS + 1).await.unwrap().refunds, 0, "once");

    let path = |o: &Value| format!("/v1/admin/orders/{}", o["id"].as_str().unwrap());
    let after = app.get(&path(&refunded), shop.sk()).await.expect(200);
    assert_eq!(
        (after["refunded"]["amount"].as_i64(), after["payment_status"].as_str()),
        (Some(700), Some("partially_refunded"))
    );
    let after = app.get(&path(&cancelled), shop.sk()).await.expect(200);
    assert_eq!(
        (after["status"].as_str(), after["payment_status"].as_str()),
        (Some("cancelled"), Some("refunded"))
    );
    assert_eq!(available(&app, &shop, &tee).await, 8, "the cancelled order's unit is back");
    assert_eq!(count(&app, "select count(*) from refund where status = 'succeeded'").await, 2);
});

on_both_databases!(refund_amounts_are_money_in_the_orders_currency, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    let before = history(&app, &shop, &order).await;
    let eur = json!({"amount": {"amount": 500, "currency": "EUR"}, "reason": "wrong currency"});
    act(&app, &shop, &order, "refunds", eur).await.problem(422, "currency_mismatch");
    for bad in [
        json!({"amount": 500, "reason": "bare minor units"}),
        json!({"amount": {"amount": 500}, "reason": "no currency"}),
        json!({"amount": {"currency": "USD"}, "reason": "no amount"}),
        json!({"amount": {"amount": 500, "currency": "XYZ"}, "reason": "unknown currency"}),
        json!({"amount": {"amount": -5, "currency": "USD"}, "reason": "negative"}),
    ] {
        let reply = act(&app, &shop, &order, "refunds", bad.clone()).await;
        assert_eq!(reply.status.as_u16(), 422, "{bad}: {:#}", reply.body);
        assert!(!reply.body.to_string().contains("i64"), "no Rust types in problems: {:#}", reply.body);
    }
    assert_eq!(history(&app, &shop, &order).await, before, "refused refunds change nothing");

    // The currency in any case; the answer and the order's events in money.
    let lower = json!({"amount": {"amount": 500, "currency": "usd"}, "reason": "scratched"});
    let refunded = act(&app, &shop, &order, "refunds", lower).await.expect(201);
    assert_eq!(refunded["refunded"], usd(500));
    let id = order["id"].as_str().unwrap();
    let detail = app.get(&format!("/v1/admin/orders/{id}"), shop.sk()).await.expect(200);
    let events = detail["events"].as_array().unwrap();
    let amounts: Vec<(&str, &Value)> = events
        .iter()
        .filter(|e| e["data"].get("amount").is_some())
        .map(|e| (e["kind"].as_str().unwrap(), &e["data"]["amount"]))
        .collect();
    let total = order["total"].clone();
    assert_eq!(
        amounts,
        [("payment_succeeded", &total), ("refund_pending", &usd(500)), ("refunded", &usd(500))],
        "{events:#?}"
    );
});

on_both_databases!(orders_stored_with_bare_amounts_are_migrated_to_money, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let order = paid_order(&app, &shop, &[(&tee, 2)]).await;
    act(&app, &shop, &order, "refunds", json!({"amount": usd(500), "reason": "scratched"})).await.expect(201);
    let id = order["id"].as_str().unwrap();
    let fresh = app.get(&format!("/v1/admin/orders/{id}"), shop.sk()).await.expect(200);

    // What an earlier version stored: bare minor units.
    let adjustment = r#"[{"target":"order","label":"Welcome","amount":150,"plugin":"coupon@1.0.0"}]"#;
    let old = [
        format!("update sales_order set adjustments = '{adjustment}'"),
        r#"update order_line set tax_lines = '[{"jurisdiction":"US-CA","rate":"0.0725","label":"CA sales tax","amount":290}]'"#.to_owned(),
        r#"update order_event set data = '{"refund_id":"ref_x","amount":500,"lines":[]}' where kind = 'refund_pending'"#.to_owned(),
        r#"update order_event set data = '{"reason":null,"refunded":500}' where kind = 'refunded'"#.to_owned(),
    ];
    for sql in old {
        sqlx::query(&sql).execute(app.db.pool()).await.expect("store the old shape");
    }
    let migration = match app.backend {
        mercato::db::Backend::Sqlite => include_str!("../../../../migrations/sqlite/0010_storefront.sql"),
        mercato::db::Backend::Postgres => include_str!("../../../../migrations/postgres/0010_storefront.sql"),
    };
    // The column the migration adds is there already; the rest is what upgrades data.
    let data_part = &migration[migration.find("-- Money on the wire").expect("the data part")..];
    sqlx::raw_sql(data_part).execute(app.db.pool()).await.expect("migrate");
    sqlx::raw_sql(data_part).execute(app.db.pool()).await.expect("a second run changes nothing");

    let migrated = app.get(&format!("/v1/admin/orders/{id}"), shop.sk()).await.expect(200);
    assert_eq!(migrated["adjustments"][0]["amount"], usd(150));
    assert_eq!(migrated["lines"][0]["tax_lines"][0]["amount"], usd(290));
    assert_eq!(migrated["lines"][0]["tax_lines"], fresh["lines"][0]["tax_lines"]);
    let data = |kind: &str| {
        migrated["events"].as_array().unwrap().iter().find(|e| e["kind"] == kind).unwrap()["data"].clone()
    };
    assert_eq!(data("refund_pending")["amount"], usd(500));
    assert_eq!(data("refunded")["refunded"], usd(500));
    assert_eq!(data("payment_succeeded")["amount"], fresh["total"], "new rows are left as they are");
});
