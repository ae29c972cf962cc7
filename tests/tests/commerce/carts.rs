//! Carts: lines, details, warnings, bad input, memoized pricing.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::*;
use serde_json::{Value, json};

async fn calls(app: &TestApp, plugin_id: &str) -> u64 {
    let p = app.get(&format!("/v1/platform/plugins/{plugin_id}"), &app.operator_key).await.expect(200);
    p["stats"]["calls"].as_u64().unwrap_or_else(|| panic!("calls in {p:#}"))
}

fn warning_codes(cart: &Value) -> Vec<String> {
    cart["warnings"].as_array().unwrap().iter().map(|w| w["code"].as_str().unwrap().to_owned()).collect()
}

on_both_databases!(lines_merge_change_and_go, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let (tee, mug) =
        (product(&app, &shop, "TEE", 1999, 50).await, product(&app, &shop, "MUG", 1200, 50).await);
    let lines = json!({"lines": [{"variant_id": tee, "quantity": 1}, {"variant_id": tee, "quantity": 2}]});
    let cart = app.post("/v1/store/carts", shop.pk(), &lines).await.expect(201);
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1, "one line per variant");
    assert_eq!(cart["lines"][0]["quantity"], 3);
    assert_eq!(cart["currency"], "USD");
    let id = cart["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("cart_") && id.len() > 30, "unguessable: {id}");
    let path = format!("/v1/store/carts/{id}");
    let cart =
        app.post(&format!("{path}/lines"), shop.pk(), &json!({"variant_id": mug, "quantity": 1})).await;
    let cart = cart.expect(200);
    // 3 tees tagged nothing: no bulk price; 2 lines.
    assert_eq!(cart["lines"].as_array().unwrap().len(), 2);
    assert_eq!(cart["subtotal"]["amount"], 3 * 1999 + 1200);
    let mug_line = cart["lines"][1]["id"].as_str().unwrap().to_owned();
    let cart =
        app.patch(&format!("{path}/lines/{mug_line}"), shop.pk(), &json!({"quantity": 4})).await.expect(200);
    assert_eq!(cart["lines"][1]["quantity"], 4);
    let cart =
        app.patch(&format!("{path}/lines/{mug_line}"), shop.pk(), &json!({"quantity": 0})).await.expect(200);
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1, "quantity 0 removes");
    let tee_line = cart["lines"][0]["id"].as_str().unwrap().to_owned();
    let cart = app.delete(&format!("{path}/lines/{tee_line}"), shop.pk()).await.expect(200);
    assert_eq!(cart["total"]["amount"], 0);
    app.delete(&format!("{path}/lines/{tee_line}"), shop.pk()).await.problem(404, "not_found");
});

on_both_databases!(bad_input_is_refused_and_changes_nothing, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 5).await;
    let pk = shop.pk();
    let bad = [
        json!({"currency": "EUR"}),
        json!({"currency": "XXX"}),
        json!({"email": "not-an-email"}),
        json!({"lines": [{"variant_id": tee, "quantity": 0}]}),
        json!({"lines": [{"variant_id": tee, "quantity": 10001}]}),
        json!({"lines": [{"variant_id": "var_nope", "quantity": 1}]}),
        json!({"lines": [{"quantity": 1}]}),
        json!({"colour": "red"}),
    ];
    for body in bad {
        app.post("/v1/store/carts", pk, &body).await.problem(422, "validation_failed");
    }
    // No body: an empty cart in the shop's currency.
    let empty = app.send(app.request(reqwest::Method::POST, "/v1/store/carts", Some(pk))).await.expect(201);
    assert_eq!((empty["currency"].as_str(), empty["lines"].as_array().map(Vec::len)), (Some("USD"), Some(0)));
    let cart = app.post("/v1/store/carts", pk, &json!({"lines": [{"variant_id": tee, "quantity": 1}]})).await;
    let cart = cart.expect(201);
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    let bad_address = json!({"shipping_address": {"name": "A", "line1": "1 St", "city": "X", "postal_code": "1", "country": "usa"}});
    let body = app.patch(&path, pk, &bad_address).await.problem(422, "validation_failed");
    assert!(body["errors"]["shipping_address.country"].is_string(), "{body:#}");
    app.post(&format!("{path}/lines"), pk, &json!({"variant_id": tee, "quantity": -1}))
        .await
        .problem(422, "validation_failed");
    let body =
        app.post(&format!("{path}/lines"), pk, &json!({"variant_id": "var_nope", "quantity": 1})).await;
    let body = body.problem(422, "validation_failed");
    assert_eq!(body["errors"]["variant_id"], "no such variant is for sale", "{body:#}");
    app.post("/v1/store/carts/cart_does_not_exist/lines", pk, &json!({"variant_id": tee, "quantity": 1}))
        .await
        .problem(404, "not_found");
    // The line holds 1; adding 10,000 more would pass its most units.
    let body = app.post(&format!("{path}/lines"), pk, &json!({"variant_id": tee, "quantity": 10000})).await;
    let body = body.problem(422, "validation_failed");
    assert!(body["errors"]["quantity"].as_str().unwrap().contains("10000"), "{body:#}");
    app.post(&format!("{path}/discount-codes"), pk, &json!({"code": "NOPE"}))
        .await
        .problem(422, "invalid_discount_code");
    app.put(&format!("{path}/shipping-option"), pk, &json!({"code": "standard"}))
        .await
        .problem(422, "shipping_address_required");
    app.get("/v1/store/carts/cart_does_not_exist", pk).await.problem(404, "not_found");
    app.get(&path, shop.sk()).await.problem(403, "forbidden");
    let unchanged = app.get(&path, pk).await.expect(200);
    assert_eq!(unchanged["lines"], cart["lines"]);
    assert_eq!(unchanged["shipping_address"], Value::Null);
    assert_eq!(unchanged["discount_codes"], json!([]));
    app.patch(&path, pk, &json!({"shipping_address": address("US", "CA")})).await.expect(200);
    app.put(&format!("{path}/shipping-option"), pk, &json!({"code": "overnight"}))
        .await
        .problem(422, "unknown_shipping_option");
});

on_both_databases!(stock_and_catalog_changes_show_as_warnings, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let (tee, mug) = (product(&app, &shop, "TEE", 1999, 2).await, product(&app, &shop, "MUG", 1200, 9).await);
    let lines = json!({"lines": [{"variant_id": tee, "quantity": 3}, {"variant_id": mug, "quantity": 1}]});
    let cart = app.post("/v1/store/carts", shop.pk(), &lines).await.expect(201);
    assert_eq!(warning_codes(&cart), ["insufficient_stock"]);
    assert_eq!(cart["warnings"][0]["line_id"], cart["lines"][0]["id"]);
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    let products = app.get("/v1/admin/products?q=MUG", shop.sk()).await.expect(200);
    let mug_product =
        products["data"].as_array().unwrap().iter().find(|p| p["variants"][0]["id"] == mug.as_str());
    let mug_product = mug_product.expect("the mug product")["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/admin/products/{mug_product}"), shop.sk(), &json!({"status": "archived"}))
        .await
        .expect(200);
    let cart = app.get(&path, shop.pk()).await.expect(200);
    assert_eq!(warning_codes(&cart), ["insufficient_stock", "line_removed"]);
    assert_eq!(cart["lines"].as_array().unwrap().len(), 1, "the archived line is dropped");
    assert_eq!(cart["subtotal"]["amount"], 3 * 1999);
    let cart = app.get(&path, shop.pk()).await.expect(200);
    assert_eq!(warning_codes(&cart), ["insufficient_stock"], "dropped once");
});

on_both_databases!(an_unchanged_cart_is_priced_without_running_plugins, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 50).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 2)], address("US", "NY")).await;
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    let ids: Vec<String> = ["volume-discount", "flat-rate", "us-sales-tax"]
        .iter()
        .map(|p| shop.plugin_id(p).to_owned())
        .collect();
    let mut before = Vec::new();
    for id in &ids {
        before.push(calls(&app, id).await);
    }
    for _ in 0..3 {
        assert_eq!(app.get(&path, shop.pk()).await.expect(200)["total"], cart["total"]);
    }
    for (id, before) in ids.iter().zip(before) {
        assert_eq!(calls(&app, id).await, before, "{id} was not called again");
    }
    // A change runs them again.
    app.post(&format!("{path}/lines"), shop.pk(), &json!({"variant_id": tee, "quantity": 1}))
        .await
        .expect(200);
    assert!(calls(&app, &ids[2]).await > 0);
});

on_both_databases!(yen_carts_have_no_minor_units_to_lose, |app| async move {
    let binds = vec![
        Bind::new("shipping", "flat-rate", json!({"amount": 800, "label": "Standard", "countries": ["JP"]})),
        Bind::new("tax", "flat-tax", json!({"rate": "10%", "label": "Consumption tax"})),
    ];
    let shop = open_shop(&app, "tokyo", "JPY", "JP", &binds).await;
    let tea = product(&app, &shop, "TEA", 1555, 10).await;
    let cart = ready_cart(&app, &shop, &[(&tea, 3)], address("JP", "Tokyo")).await;
    assert_eq!(cart["currency"], "JPY");
    assert_eq!(cart["subtotal"]["amount"], 4665);
    assert_totals_re_add(&cart);
});

on_both_databases!(a_completed_cart_cannot_change, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 5).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();
    complete(&app, &shop, id, "c1", visa()).await.expect(201);
    let path = format!("/v1/store/carts/{id}");
    app.post(&format!("{path}/lines"), shop.pk(), &json!({"variant_id": tee, "quantity": 1}))
        .await
        .problem(409, "cart_not_open");
    app.patch(&path, shop.pk(), &json!({"email": "x@example.com"})).await.problem(409, "cart_not_open");
    let done = app.get(&path, shop.pk()).await.expect(200);
    assert_eq!(done["status"], "completed");
    assert!(done["order_id"].is_string());
});

// Every change answers the cart as it now is, whether the writer read it
// back itself (a small cart) or a reader did once the write was done (a
// cart of more than ten lines, on SQLite): the two answers agree with a
// plain read, line for line (itself on SQLite's idle writer for a small
// cart, on a reader for a larger one).
on_both_databases!(a_change_answers_the_cart_as_changed_small_or_large, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let mut variants = Vec::new();
    for i in 0..13 {
        variants.push(product(&app, &shop, &format!("SKU{i}"), 1000 + i, 50).await);
    }
    let pk = shop.pk();
    let first = json!({"lines": [{"variant_id": variants[0], "quantity": 1}]});
    let cart = app.post("/v1/store/carts", pk, &first).await.expect(201);
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    let mut subtotal = 1000;
    for (i, v) in variants.iter().enumerate().skip(1) {
        let answer = app.post(&format!("{path}/lines"), pk, &json!({"variant_id": v, "quantity": 2})).await;
        let answer = answer.expect(200);
        subtotal += 2 * (1000 + i as i64);
        assert_eq!(answer["lines"].as_array().unwrap().len(), i + 1, "{answer:#}");
        assert_eq!(answer["subtotal"]["amount"], subtotal);
        assert_eq!(answer, app.get(&path, pk).await.expect(200), "line {i}: the answer is the cart");
    }
    let answer = app.patch(&path, pk, &json!({"email": "big@example.com"})).await.expect(200);
    assert_eq!(
        (answer["email"].as_str(), answer["lines"].as_array().map(Vec::len)),
        (Some("big@example.com"), Some(13))
    );
    assert_eq!(answer, app.get(&path, pk).await.expect(200));
    let last = answer["lines"][12]["id"].as_str().unwrap().to_owned();
    let answer = app.patch(&format!("{path}/lines/{last}"), pk, &json!({"quantity": 5})).await.expect(200);
    assert_eq!(answer["lines"][12]["quantity"], 5);
    assert_eq!(answer["subtotal"]["amount"], subtotal + 3 * 1012);
    assert_eq!(answer, app.get(&path, pk).await.expect(200));
});
