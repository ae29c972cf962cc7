//! Totals that explain themselves: a cart read with `?explain=1` and an
//! order's `…/explain` give every plugin call that made their totals, and
//! what each call changed adds up to those totals exactly.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::{
    address, assert_totals_re_add, complete, install, open_shop, product, product_with, ready_cart,
    us_plugins, visa,
};
use serde_json::{Value, json};

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or_else(|| panic!("an amount in {v}"))
}

/// Asserts that the trail's discounts, taxes and chosen shipping add up
/// to `doc`'s totals, and that every step names its plugin and input.
#[track_caller]
fn assert_trail_adds_up(doc: &Value, trail: &Value) {
    let steps = trail.as_array().expect("a trail");
    for s in steps {
        assert!(s["plugin"].as_str().unwrap().contains('@'), "{s}");
        assert!(s["plugin_id"].as_str().unwrap().starts_with("plg_"), "{s}");
        let hash = s["input_hash"].as_str().unwrap();
        assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{s}");
        assert_eq!(s["outcome"], "ok", "{s}");
    }
    let of = |point: &'static str| steps.iter().filter(move |s| s["extension_point"] == point);
    let discounts: i64 = of("pricing")
        .flat_map(|s| s["adjustments"].as_array().cloned().unwrap_or_default())
        .map(|a| amount(&a["amount"]))
        .sum();
    assert_eq!(discounts, amount(&doc["discount_total"]), "discounts in {trail:#}");
    let taxes: i64 = of("tax")
        .flat_map(|s| s["taxes"].as_array().cloned().unwrap_or_default())
        .map(|t| amount(&t["amount"]))
        .sum();
    assert_eq!(taxes, amount(&doc["tax_total"]), "taxes in {trail:#}");
    let chosen: Vec<&Value> = of("shipping").filter(|s| s.get("option_chosen").is_some()).collect();
    assert_eq!(chosen.len(), 1, "one plugin offered the chosen option: {trail:#}");
    let code = chosen[0]["option_chosen"].as_str().unwrap();
    assert!(chosen[0]["options_offered"].as_array().unwrap().iter().any(|c| c == code));
}

on_both_databases!(a_cart_explains_its_totals_call_by_call, |app: TestApp| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let bulk = json!({"sku": "BULK", "price": {"amount": 1000, "currency": "USD"}, "weight_grams": 200});
    let bulk = product_with(&app, &shop, bulk, &["bulk"], 10).await;
    let tee = product(&app, &shop, "TEE", 2000, 5).await;
    let cart = ready_cart(&app, &shop, &[(&bulk, 3), (&tee, 1)], address("US", "CA")).await;
    assert!(amount(&cart["discount_total"]) > 0 && amount(&cart["tax_total"]) > 0, "{cart:#}");
    assert!(cart.get("explain").is_none(), "only when asked");
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());

    let explained = app.get(&format!("{path}?explain=1"), shop.pk()).await.expect(200);
    assert_eq!(explained["total"], cart["total"]);
    assert_totals_re_add(&explained);
    let trail = &explained["explain"];
    assert_trail_adds_up(&explained, trail);
    let points: Vec<&str> =
        trail.as_array().unwrap().iter().map(|s| s["extension_point"].as_str().unwrap()).collect();
    assert_eq!(points, ["pricing", "shipping", "tax"]);
    assert_eq!(trail[0]["plugin"], "volume-discount@0.1.0");
    let line = &trail[0]["adjustments"][0];
    assert_eq!(
        (line["target"].as_str(), line["line_id"].as_str()),
        (Some("line"), explained["lines"][0]["id"].as_str())
    );
    assert_eq!(trail[1]["option_chosen"], explained["shipping_option"]["code"]);
    assert_eq!(trail[2]["plugin_id"], shop.plugin_id("us-sales-tax"));
    // The same cart again is answered from the memo: no call, no fuel, same inputs.
    let again = app.get(&format!("{path}?explain=true"), shop.pk()).await.expect(200);
    for (a, b) in again["explain"].as_array().unwrap().iter().zip(trail.as_array().unwrap()) {
        assert_eq!((a["memo"].as_bool(), a["fuel"].as_u64()), (Some(true), Some(0)), "{a}");
        assert_eq!(a["input_hash"], b["input_hash"]);
    }
    app.get(&format!("{path}?explain=maybe"), shop.pk()).await.problem(422, "validation_failed");
});

on_both_databases!(an_order_keeps_its_trail_after_its_plugins_change, |app: TestApp| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let bulk = json!({"sku": "BULK", "price": {"amount": 1000, "currency": "USD"}, "weight_grams": 200});
    let bulk = product_with(&app, &shop, bulk, &["bulk"], 10).await;
    let cart = ready_cart(&app, &shop, &[(&bulk, 3)], address("US", "NY")).await;
    let cart_path = format!("/v1/store/carts/{}?explain=1", cart["id"].as_str().unwrap());
    let priced = app.get(&cart_path, shop.pk()).await.expect(200);
    let order = complete(&app, &shop, cart["id"].as_str().unwrap(), "explain-1", visa()).await.expect(201);
    let path = format!("/v1/admin/orders/{}/explain", order["id"].as_str().unwrap());

    let explained = app.get(&path, shop.sk()).await.expect(200);
    assert_eq!(explained["recorded"], true);
    for total in ["subtotal", "discount_total", "shipping_total", "tax_total", "total"] {
        assert_eq!(explained[total], order[total], "{total}");
    }
    let trail = &explained["trail"];
    assert_trail_adds_up(&explained, trail);
    // The cart was priced as it stands before checkout: each answer is the
    // memo's, for the same plugin, configuration and input, no call again.
    let before = priced["explain"].as_array().unwrap();
    assert_eq!(trail.as_array().unwrap().len(), before.len());
    for (s, b) in trail.as_array().unwrap().iter().zip(before) {
        assert_eq!((s["memo"].as_bool(), s["fuel"].as_u64()), (Some(true), Some(0)), "{s}");
        assert_eq!((&s["plugin_id"], &s["input_hash"]), (&b["plugin_id"], &b["input_hash"]));
    }
    // New York taxes shipping: the trail says so, by rate.
    let taxes = trail.as_array().unwrap().iter().find(|s| s["extension_point"] == "tax").unwrap();
    assert_eq!(taxes["taxes"][0]["jurisdiction"], "US-NY");

    // The merchant moves to another tax plugin: the order still explains itself as it was.
    let next = ready_cart(&app, &shop, &[(&bulk, 2)], address("US", "NY")).await;
    let flat = install(&app, "flat-tax").await;
    let bind = json!({"bindings": [{"plugin_id": flat, "config": {"rate": "0.2"}}]});
    app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &bind).await.expect(200);
    assert_eq!(app.get(&path, shop.sk()).await.expect(200), explained);

    // A cart priced before the change is completed with the new binding,
    // which nothing asked before: a real call, timed and metered.
    let placed = complete(&app, &shop, next["id"].as_str().unwrap(), "explain-2", visa()).await.expect(201);
    let path = format!("/v1/admin/orders/{}/explain", placed["id"].as_str().unwrap());
    let explained = app.get(&path, shop.sk()).await.expect(200);
    assert_trail_adds_up(&explained, &explained["trail"]);
    let tax = explained["trail"].as_array().unwrap().iter().find(|s| s["extension_point"] == "tax").unwrap();
    assert_eq!(
        (tax["plugin_id"].as_str(), tax["memo"].as_bool()),
        (Some(flat.as_str()), Some(false)),
        "{tax}"
    );
    assert!(tax["fuel"].as_u64().unwrap() > 0 && tax["duration_us"].as_u64().unwrap() > 0, "{tax}");
    assert_eq!(amount(&placed["tax_total"]), amount(&explained["tax_total"]));

    let other = open_shop(&app, "other", "USD", "US", &[]).await;
    app.get(&path, other.sk()).await.problem(404, "not_found");
    app.get(&path, shop.pk()).await.expect(403);
    app.get("/v1/admin/orders/ord_nope/explain", shop.sk()).await.problem(404, "not_found");
});
