//! Money re-adds exactly: random carts in USD (2 decimals), JPY (0) and KWD
//! (3), priced through a volume discount, a coupon, flat-rate shipping and
//! a flat tax, always add up — line by line, in the cart and in the order.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;

/// Prices chosen to make rounding work: tiny, odd, large.
const PRICES: [i64; 8] = [1, 3, 7, 999, 1999, 12_345, 99_999, 250_001];

fn binds() -> Vec<Bind> {
    vec![
        Bind::new(
            "pricing",
            "volume-discount",
            json!({"rules": [{"tag": "bulk", "label": "Bulk", "breaks": [{"min_quantity": 3, "percent": "12.5"}]}]}),
        ),
        Bind::new("pricing", "coupon", json!({"codes": [{"code": "SAVE", "percent": "15"}]})),
        Bind::new("shipping", "flat-rate", json!({"amount": 499, "label": "Standard", "countries": ["US"]})),
        Bind::new("tax", "flat-tax", json!({"rate": "7.75%", "label": "Tax"})),
        Bind::new("payment", "test-gateway", json!({})),
    ]
}

async fn catalog(app: &TestApp, shop: &Shop) -> Vec<String> {
    let mut variants = Vec::new();
    for (i, price) in PRICES.iter().enumerate() {
        let variant = json!({"sku": format!("P{i}"), "price": {"amount": price, "currency": shop.currency}});
        let tags: &[&str] = if i % 2 == 0 { &["bulk"] } else { &[] };
        variants.push(product_with(app, shop, variant, tags, 1_000_000).await);
    }
    variants
}

/// One random cart: priced, checked, and sometimes ordered.
async fn check(
    app: &TestApp,
    shop: &Shop,
    variants: &[String],
    lines: &[(usize, i64)],
    code: bool,
    n: usize,
) {
    let lines: Vec<(&str, i64)> = lines.iter().map(|(i, q)| (variants[*i].as_str(), *q)).collect();
    let cart = ready_cart(app, shop, &lines, address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap().to_owned();
    let cart = if code {
        app.post(&format!("/v1/store/carts/{id}/discount-codes"), shop.pk(), &json!({"code": "SAVE"}))
            .await
            .expect(200)
    } else {
        cart
    };
    assert_totals_re_add(&cart);
    for l in cart["lines"].as_array().unwrap() {
        let off: i64 = l["adjustments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["amount"]["amount"].as_i64().unwrap())
            .sum();
        assert!(off <= l["discount_total"]["amount"].as_i64().unwrap(), "{l:#}");
        assert!(l["total"]["amount"].as_i64().unwrap() >= 0, "{l:#}");
    }
    if n.is_multiple_of(4) {
        let order = complete(app, shop, &id, &format!("t{n}"), visa()).await.expect(201);
        assert_totals_re_add(&order);
        for field in ["subtotal", "discount_total", "shipping_total", "tax_total", "total"] {
            assert_eq!(order[field], cart[field], "{field}");
        }
    }
}

fn random_carts(app: &TestApp, shop: &Shop, variants: &[String]) {
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config { cases: 12, failure_persistence: None, ..Config::default() });
    let strategy = (prop::collection::vec((0..PRICES.len(), 1i64..25), 1..6), any::<bool>());
    let n = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&strategy, |(lines, code)| {
            let n = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::task::block_in_place(|| handle.block_on(check(app, shop, variants, &lines, code, n)));
            Ok(())
        })
        .unwrap();
}

async fn shop_in(app: &TestApp, currency: &str) -> (Shop, Vec<String>) {
    let shop = open_shop(app, &currency.to_lowercase(), currency, "US", &binds()).await;
    let variants = catalog(app, &shop).await;
    app.post("/v1/admin/discount-codes", shop.sk(), &json!({"code": "SAVE"})).await.expect(201);
    (shop, variants)
}

on_both_databases!(random_carts_re_add_in_usd_jpy_and_kwd, |app| async move {
    for currency in ["USD", "JPY", "KWD"] {
        let (shop, variants) = shop_in(&app, currency).await;
        random_carts(&app, &shop, &variants);
    }
});
