//! The whole flow for both demo merchants, seeded exactly as `cargo xtask
//! demo` seeds them: a US shop paying by card and a German bookshop (prices
//! include VAT) paying by bank transfer with a discount code.

use mercato::cli::demo::seed::{self, DE_WALKTHROUGH_SKU, DemoMerchant, US_WALKTHROUGH_SKU};
use mercato_tests::app::TestApp;
use mercato_tests::shop::assert_totals_re_add;
use mercato_tests::{components_dir, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

/// Cart, email, address, first shipping option, optional code; returns the cart.
async fn fill_cart(app: &TestApp, m: &DemoMerchant, sku: &str, address: Value) -> Value {
    let pk = &m.publishable_key;
    let variant = m.variant_id(sku).expect("seeded sku");
    let lines = json!({"lines": [{"variant_id": variant, "quantity": 2}]});
    let cart = app.post("/v1/store/carts", pk, &lines).await.expect(201);
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    app.patch(&path, pk, &json!({"email": "buyer@example.com", "shipping_address": address}))
        .await
        .expect(200);
    let options = app.get(&format!("{path}/shipping-options"), pk).await.expect(200);
    let code = options["options"][0]["code"].as_str().expect("a shipping option").to_owned();
    let mut cart = app.put(&format!("{path}/shipping-option"), pk, &json!({"code": code})).await.expect(200);
    if let Some(code) = &m.discount_code {
        cart = app.post(&format!("{path}/discount-codes"), pk, &json!({"code": code})).await.expect(200);
        assert!(cart["discount_total"]["amount"].as_i64().unwrap() > 0, "the code gives something: {cart:#}");
    }
    assert!(cart["warnings"].as_array().unwrap().is_empty(), "{cart:#}");
    assert_totals_re_add(&cart);
    cart
}

async fn buy(app: &TestApp, m: &DemoMerchant, cart: &Value, payment: Value) -> Value {
    let path = format!("/v1/store/carts/{}/complete", cart["id"].as_str().unwrap());
    let req = app
        .request(Method::POST, &path, Some(&m.publishable_key))
        .header("idempotency-key", format!("demo-{}", m.slug))
        .json(&json!({"payment": payment}));
    let order = app.send(req).await.expect(201);
    assert_eq!(order["total"], cart["total"]);
    assert_totals_re_add(&order);
    let seen = app.get(&format!("/v1/admin/orders/{}", order["id"].as_str().unwrap()), &m.secret_key).await;
    assert_eq!(seen.expect(200)["number"], order["number"]);
    order
}

on_both_databases!(both_demo_merchants_sell_end_to_end, |app: TestApp| async move {
    let state = &app.state;
    let seeded = seed::seed(&app.db, &state.shop.runtime, &state.shop.bindings, &components_dir())
        .await
        .expect("seeded");

    let us = &seeded.us;
    let ca = json!({"name": "Ada", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
                    "postal_code": "94105", "country": "US"});
    let cart = fill_cart(&app, us, US_WALKTHROUGH_SKU, ca).await;
    assert!(cart["tax_total"]["amount"].as_i64().unwrap() > 0, "California sales tax: {cart:#}");
    assert_eq!(cart["prices_include_tax"], false);
    let order = buy(&app, us, &cart, json!({"provider": "test-gateway", "token": "tok_visa"})).await;
    assert_eq!((order["status"].as_str(), order["payment_status"].as_str()), (Some("paid"), Some("paid")));

    let de = &seeded.de;
    let berlin = json!({"name": "Erika", "line1": "Lindenstrasse 12", "city": "Berlin", "postal_code": "10117",
                        "country": "DE"});
    let cart = fill_cart(&app, de, DE_WALKTHROUGH_SKU, berlin).await;
    assert_eq!(cart["prices_include_tax"], true);
    let vat = &cart["lines"][0]["tax_lines"][0];
    assert_eq!(vat["rate"], "0.07", "books at the reduced rate: {cart:#}");
    let order = buy(&app, de, &cart, json!({"provider": "manual"})).await;
    assert_eq!(
        (order["status"].as_str(), order["payment_status"].as_str()),
        (Some("pending_payment"), Some("pending"))
    );
    // The transfer reference is the order's id: an order is numbered when its payment confirms it.
    let reference = order["id"].as_str().unwrap();
    assert!(order["payment"]["message"].as_str().unwrap().contains(reference), "{order:#}");
    assert!(order["number"].as_i64().unwrap() > 1000, "a pending transfer confirms the order: {order:#}");
});
