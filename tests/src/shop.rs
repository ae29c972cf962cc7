//! A ready-to-sell shop over the real API: a merchant, installed and bound
//! plugins, a location, products with stock; and the storefront steps of a
//! purchase.

use serde_json::{Value, json};

use crate::app::{Reply, TestApp, TestMerchant};
use crate::component;

/// A plugin to install and bind.
pub struct Bind {
    pub point: &'static str,
    pub plugin: &'static str,
    pub config: Value,
    pub on_error: &'static str,
}

impl Bind {
    pub fn new(point: &'static str, plugin: &'static str, config: Value) -> Bind {
        Bind { point, plugin, config, on_error: "fail" }
    }
}

/// The US shop's plugins: volume discount, flat-rate shipping, CA/NY/TX
/// sales tax and the test gateway.
pub fn us_plugins() -> Vec<Bind> {
    vec![
        Bind::new(
            "pricing",
            "volume-discount",
            json!({"rules": [{"tag": "bulk", "label": "Bulk price", "breaks": [{"min_quantity": 3, "percent": "10"}]}]}),
        ),
        Bind::new(
            "shipping",
            "flat-rate",
            json!({"amount": 499, "free_over": 100000, "label": "Standard", "carrier": "Post",
                   "min_days": 3, "max_days": 5, "countries": ["US"]}),
        ),
        Bind::new(
            "tax",
            "us-sales-tax",
            json!({"nexus": ["CA", "NY"], "states": {"CA": {"rate": "0.0725", "tax_shipping": false},
                   "NY": {"rate": "0.04", "tax_shipping": true}}}),
        ),
        Bind::new("payment", "test-gateway", json!({"webhook_secret": GATEWAY_SECRET})),
    ]
}

/// The test gateway's webhook secret in [`us_plugins`].
pub const GATEWAY_SECRET: &str = "whsec_test";

/// The test gateway's signature of a webhook body.
pub fn gateway_signature(body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(GATEWAY_SECRET.as_bytes()).expect("any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A merchant with plugins, one location and products.
pub struct Shop {
    pub merchant: TestMerchant,
    pub currency: String,
    pub location_id: String,
    /// Plugin name -> installed plugin id.
    pub plugins: Vec<(String, String)>,
}

impl Shop {
    pub fn sk(&self) -> &str {
        &self.merchant.secret_key
    }

    pub fn pk(&self) -> &str {
        &self.merchant.publishable_key
    }

    pub fn plugin_id(&self, name: &str) -> &str {
        &self.plugins.iter().find(|(n, _)| n == name).expect("installed").1
    }
}

/// The wall-clock deadline test shops give their plugins. Tests share two
/// cores with each other (and a debug build is slower): the default 50 ms
/// is a production figure, not something a test should time. Fuel still
/// bounds every call exactly.
pub const TEST_DEADLINE_MS: u64 = 5_000;

/// Installs a built component with [`TEST_DEADLINE_MS`]; the same bytes
/// twice give the same plugin.
pub async fn install(app: &TestApp, name: &str) -> String {
    let req = app
        .request(reqwest::Method::POST, "/v1/platform/plugins", Some(&app.operator_key))
        .header("content-type", "application/wasm")
        .body(component(name));
    let reply = app.send(req).await;
    assert!(reply.status.is_success(), "installing {name}: {} {:#}", reply.status, reply.body);
    let id = reply.body["id"].as_str().expect("plugin id").to_owned();
    let limits = json!({"deadline_ms": TEST_DEADLINE_MS});
    app.patch(&format!("/v1/platform/plugins/{id}/limits"), &app.operator_key, &limits).await.expect(200);
    id
}

/// Binds plugins (grouped by extension point, in the given order).
pub async fn bind(app: &TestApp, sk: &str, binds: &[Bind], ids: &[(String, String)]) {
    let mut points: Vec<&str> = Vec::new();
    for b in binds {
        if !points.contains(&b.point) {
            points.push(b.point);
        }
    }
    for point in points {
        let bindings: Vec<Value> = binds
            .iter()
            .filter(|b| b.point == point)
            .map(|b| {
                let id = &ids.iter().find(|(n, _)| n == b.plugin).expect("installed").1;
                json!({"plugin_id": id, "config": b.config, "on_error": b.on_error})
            })
            .collect();
        app.put(&format!("/v1/admin/plugin-bindings/{point}"), sk, &json!({"bindings": bindings}))
            .await
            .expect(200);
    }
}

/// A shop selling in `currency` with `binds` bound and one location.
pub async fn open_shop(app: &TestApp, slug: &str, currency: &str, country: &str, binds: &[Bind]) -> Shop {
    let merchant = app.merchant(slug, currency, country).await;
    let mut plugins: Vec<(String, String)> = Vec::new();
    for b in binds {
        if !plugins.iter().any(|(n, _)| n == b.plugin) {
            plugins.push((b.plugin.to_owned(), install(app, b.plugin).await));
        }
    }
    bind(app, &merchant.secret_key, binds, &plugins).await;
    let location = app
        .post("/v1/admin/locations", &merchant.secret_key, &json!({"name": "Main", "country": country}))
        .await
        .expect(201);
    Shop {
        merchant,
        currency: currency.to_owned(),
        location_id: location["id"].as_str().unwrap().to_owned(),
        plugins,
    }
}

/// A product with one variant at `price` and `stock` units; returns the variant id.
pub async fn product(app: &TestApp, shop: &Shop, sku: &str, price: i64, stock: i64) -> String {
    let variant =
        json!({"sku": sku, "price": {"amount": price, "currency": shop.currency}, "weight_grams": 500});
    product_with(app, shop, variant, &[], stock).await
}

/// A product with one variant described by `variant`, `tags`, and stock.
pub async fn product_with(app: &TestApp, shop: &Shop, variant: Value, tags: &[&str], stock: i64) -> String {
    let sku = variant["sku"].as_str().unwrap_or("SKU").to_owned();
    let body =
        json!({"title": format!("Product {sku}"), "status": "active", "tags": tags, "variants": [variant]});
    let p = app.post("/v1/admin/products", shop.sk(), &body).await.expect(201);
    let variant_id = p["variants"][0]["id"].as_str().unwrap().to_owned();
    set_stock(app, shop, &variant_id, stock).await;
    variant_id
}

pub async fn set_stock(app: &TestApp, shop: &Shop, variant_id: &str, on_hand: i64) {
    app.put(
        &format!("/v1/admin/inventory/{variant_id}"),
        shop.sk(),
        &json!({"location_id": shop.location_id, "on_hand": on_hand}),
    )
    .await
    .expect(200);
}

/// Available units of a variant over all locations.
pub async fn available(app: &TestApp, shop: &Shop, variant_id: &str) -> i64 {
    let s = app.get(&format!("/v1/admin/inventory?variant_id={variant_id}"), shop.sk()).await.expect(200);
    s["available"].as_i64().expect("available")
}

/// A US address in `region`.
pub fn address(country: &str, region: &str) -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Main St", "city": "Springfield", "region": region,
           "postal_code": "12345", "country": country})
}

/// A cart with `lines` (variant id, quantity), email and address, and the
/// first shipping option selected (when any is offered). Returns the cart.
pub async fn ready_cart(app: &TestApp, shop: &Shop, lines: &[(&str, i64)], address: Value) -> Value {
    let lines: Vec<Value> = lines.iter().map(|(v, q)| json!({"variant_id": v, "quantity": q})).collect();
    let cart = app
        .post("/v1/store/carts", shop.pk(), &json!({"email": "ada@example.com", "lines": lines}))
        .await
        .expect(201);
    let id = cart["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/store/carts/{id}"), shop.pk(), &json!({"shipping_address": address}))
        .await
        .expect(200);
    let options = app.get(&format!("/v1/store/carts/{id}/shipping-options"), shop.pk()).await.expect(200);
    match options["options"][0]["code"].as_str() {
        Some(code) => app
            .put(&format!("/v1/store/carts/{id}/shipping-option"), shop.pk(), &json!({"code": code}))
            .await
            .expect(200),
        None => app.get(&format!("/v1/store/carts/{id}"), shop.pk()).await.expect(200),
    }
}

/// `POST …/complete` with an idempotency key and a payment.
pub async fn complete(app: &TestApp, shop: &Shop, cart_id: &str, key: &str, payment: Value) -> Reply {
    let req = app
        .request(reqwest::Method::POST, &format!("/v1/store/carts/{cart_id}/complete"), Some(shop.pk()))
        .header("idempotency-key", key)
        .json(&json!({"payment": payment}));
    app.send(req).await
}

/// `amount` US cents as money on the wire.
pub fn usd(amount: i64) -> Value {
    json!({"amount": amount, "currency": "USD"})
}

/// The test gateway with a card that always succeeds.
pub fn visa() -> Value {
    json!({"provider": "test-gateway", "token": "tok_visa"})
}

/// Asserts that a cart or order's totals re-add exactly.
#[track_caller]
pub fn assert_totals_re_add(doc: &Value) {
    let amount = |v: &Value| v["amount"].as_i64().unwrap_or_else(|| panic!("amount in {v}"));
    let lines = doc["lines"].as_array().expect("lines");
    let subtotal: i64 = lines.iter().map(|l| amount(&l["subtotal"])).sum();
    assert_eq!(amount(&doc["subtotal"]), subtotal, "subtotal is the sum of line subtotals: {doc:#}");
    for l in lines {
        assert_eq!(
            amount(&l["total"]),
            amount(&l["subtotal"]) - amount(&l["discount_total"]),
            "line total: {l:#}"
        );
    }
    let tax = if doc["prices_include_tax"].as_bool() == Some(true) { 0 } else { amount(&doc["tax_total"]) };
    assert_eq!(
        amount(&doc["total"]),
        amount(&doc["subtotal"]) - amount(&doc["discount_total"]) + amount(&doc["shipping_total"]) + tax,
        "total re-adds: {doc:#}"
    );
    let line_tax: i64 = lines.iter().map(|l| amount(&l["tax_total"])).sum();
    let shipping_tax: i64 =
        doc["shipping_tax_lines"].as_array().map_or(0, |t| t.iter().map(|x| amount(&x["amount"])).sum());
    assert_eq!(amount(&doc["tax_total"]), line_tax + shipping_tax, "tax re-adds: {doc:#}");
    // Every amount is money in the document's currency.
    let parts = ["adjustments", "tax_lines", "shipping_tax_lines"];
    let nested =
        lines.iter().chain([doc]).flat_map(|d| parts.iter().filter_map(|p| d[*p].as_array())).flatten();
    for x in nested {
        assert_eq!(x["amount"]["currency"], doc["currency"], "money in the document's currency: {x:#}");
    }
}

/// An active product in `categories` with one variant at `price` and
/// `stock` units; returns (product id, variant id).
pub async fn catalog_product(
    app: &TestApp,
    shop: &Shop,
    sku: &str,
    price: i64,
    categories: &[&str],
    stock: i64,
) -> (String, String) {
    let body = json!({"title": format!("Product {sku}"), "status": "active", "category_ids": categories,
                      "variants": [{"sku": sku, "price": {"amount": price, "currency": shop.currency},
                                    "weight_grams": 500}]});
    let p = app.post("/v1/admin/products", shop.sk(), &body).await.expect(201);
    let variant_id = p["variants"][0]["id"].as_str().unwrap().to_owned();
    set_stock(app, shop, &variant_id, stock).await;
    (p["id"].as_str().unwrap().to_owned(), variant_id)
}

/// Buys `lines` (variant id, quantity) in one paid order shipped to California.
pub async fn buy(app: &TestApp, shop: &Shop, lines: &[(&str, i64)], key: &str) -> Value {
    let cart = ready_cart(app, shop, lines, address("US", "CA")).await;
    complete(app, shop, cart["id"].as_str().unwrap(), key, visa()).await.expect(201)
}

/// `GET /v1/store/products/{product_id}/recommendations` with `query` (e.g. `?limit=2`).
pub async fn recommendations(app: &TestApp, shop: &Shop, product_id: &str, query: &str) -> Reply {
    app.get(&format!("/v1/store/products/{product_id}/recommendations{query}"), shop.pk()).await
}

/// The recommended product ids of a 200 recommendations reply.
#[track_caller]
pub fn recommended_ids(reply: Reply) -> Vec<String> {
    let body = reply.expect(200);
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("data in {body:#}"))
        .iter()
        .map(|r| r["product"]["id"].as_str().expect("product id").to_owned())
        .collect()
}
