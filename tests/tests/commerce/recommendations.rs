//! Recommendations: real orders feed the recommenders, the host keeps out
//! what cannot be bought, and a failing recommender never fails the page.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::*;
use serde_json::{Value, json};

fn recommending(binds: Vec<Bind>) -> Vec<Bind> {
    let mut all = us_plugins();
    all.extend(binds);
    all
}

/// bought-together ranking pairs seen in one order too.
fn bought_together() -> Bind {
    Bind::new("recommendations", "bought-together", json!({"min_count": 1}))
}

/// A shop where A was bought with B in two orders and with C in one; D was
/// never bought. Returns the shop and (product id, variant id) of A..D.
async fn shop_with_sales(app: &TestApp, slug: &str, binds: Vec<Bind>) -> (Shop, Vec<(String, String)>) {
    let shop = open_shop(app, slug, "USD", "US", &recommending(binds)).await;
    let mut products = Vec::new();
    for sku in ["A", "B", "C", "D"] {
        products.push(catalog_product(app, &shop, sku, 1000, &[], 10).await);
    }
    let v = |i: usize| products[i].1.clone();
    buy(app, &shop, &[(&v(0), 1), (&v(1), 1)], "ab-1").await;
    buy(app, &shop, &[(&v(1), 2), (&v(0), 1)], "ab-2").await;
    buy(app, &shop, &[(&v(0), 1), (&v(2), 1)], "ac-1").await;
    (shop, products)
}

fn ids(products: &[(String, String)], which: &[usize]) -> Vec<String> {
    which.iter().map(|&i| products[i].0.clone()).collect()
}

on_both_databases!(products_bought_together_more_often_rank_first, |app| async move {
    let (shop, p) = shop_with_sales(&app, "acme", vec![bought_together()]).await;
    let body = recommendations(&app, &shop, &p[0].0, "").await.expect(200);
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 2, "{body:#}");
    assert_eq!(data[0]["product"]["id"], p[1].0.as_str());
    assert_eq!(data[1]["product"]["id"], p[2].0.as_str());
    for r in data {
        assert_eq!(r["reason"], "Often bought together");
        assert!(r["plugin"].as_str().unwrap().starts_with("bought-together@"), "{r:#}");
    }
    // The product as the storefront shows it.
    let shown = app.get(&format!("/v1/store/products/{}", p[1].0), shop.pk()).await.expect(200);
    assert_eq!(data[0]["product"], shown);

    assert_eq!(recommended_ids(recommendations(&app, &shop, &p[0].0, "?limit=1").await), ids(&p, &[1]));
    // Pairs work both ways; D was never bought.
    assert_eq!(recommended_ids(recommendations(&app, &shop, &p[2].0, "").await), ids(&p, &[0]));
    assert!(recommended_ids(recommendations(&app, &shop, &p[3].0, "").await).is_empty());
});

on_both_databases!(products_that_cannot_be_bought_are_not_recommended, |app| async move {
    let (shop, p) = shop_with_sales(&app, "acme", vec![bought_together()]).await;
    set_stock(&app, &shop, &p[2].1, 0).await;
    assert_eq!(recommended_ids(recommendations(&app, &shop, &p[0].0, "").await), ids(&p, &[1]));
    set_stock(&app, &shop, &p[2].1, 3).await;
    assert_eq!(recommended_ids(recommendations(&app, &shop, &p[0].0, "").await), ids(&p, &[1, 2]));

    app.patch(&format!("/v1/admin/products/{}", p[1].0), shop.sk(), &json!({"status": "archived"}))
        .await
        .expect(200);
    assert_eq!(recommended_ids(recommendations(&app, &shop, &p[0].0, "").await), ids(&p, &[2]));
    recommendations(&app, &shop, &p[1].0, "").await.problem(404, "not_found");
});

on_both_databases!(products_already_in_the_cart_are_not_recommended, |app| async move {
    let (shop, p) = shop_with_sales(&app, "acme", vec![bought_together()]).await;
    let lines = json!([{"variant_id": p[1].1, "quantity": 1}]);
    let cart = app.post("/v1/store/carts", shop.pk(), &json!({"lines": lines})).await.expect(201);
    let query = format!("?cart_id={}", cart["id"].as_str().unwrap());
    assert_eq!(recommended_ids(recommendations(&app, &shop, &p[0].0, &query).await), ids(&p, &[2]));
    recommendations(&app, &shop, &p[0].0, "?cart_id=cart_nope").await.problem(404, "not_found");
});

on_both_databases!(recommenders_are_merged_in_binding_order_without_duplicates, |app| async move {
    let binds = vec![bought_together(), Bind::new("recommendations", "category-bestsellers", json!({}))];
    let shop = open_shop(&app, "acme", "USD", "US", &recommending(binds)).await;
    let shoes = app.post("/v1/admin/categories", shop.sk(), &json!({"name": "Shoes"})).await.expect(201);
    let shoes = shoes["id"].as_str().unwrap();
    let mut p = Vec::new();
    for (sku, categories) in
        [("A", vec![shoes]), ("B", vec![]), ("C", vec![]), ("D", vec![shoes]), ("E", vec![])]
    {
        p.push(catalog_product(&app, &shop, sku, 1000, &categories, 20).await);
    }
    let v = |i: usize| p[i].1.clone();
    buy(&app, &shop, &[(&v(0), 1), (&v(1), 1)], "ab-1").await;
    buy(&app, &shop, &[(&v(0), 1), (&v(1), 1)], "ab-2").await;
    buy(&app, &shop, &[(&v(0), 1), (&v(2), 1)], "ac-1").await;
    buy(&app, &shop, &[(&v(3), 3), (&v(4), 1)], "de-1").await;

    // Units: A 3, D 3, B 2, C 1, E 1. Bought together with A: B, C.
    let body = recommendations(&app, &shop, &p[0].0, "").await.expect(200);
    let got: Vec<(&str, &str)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["product"]["id"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    let in_shoes = format!("Bestseller in {shoes}");
    let want = vec![
        (p[1].0.as_str(), "Often bought together"),
        (p[2].0.as_str(), "Often bought together"),
        (p[3].0.as_str(), in_shoes.as_str()),
        (p[4].0.as_str(), "Bestseller"),
    ];
    assert_eq!(got, want, "{body:#}");
    let plugin = |i: usize| body["data"][i]["plugin"].as_str().unwrap().to_owned();
    assert!(plugin(3).starts_with("category-bestsellers@"), "{body:#}");
    assert_eq!(recommended_ids(recommendations(&app, &shop, &p[0].0, "?limit=3").await), ids(&p, &[1, 2, 3]));
});

on_both_databases!(a_failing_recommender_is_skipped, |app| async move {
    let (shop, p) = shop_with_sales(&app, "acme", vec![bought_together()]).await;
    // A configuration its schema forbids is refused when bound.
    let bad =
        json!({"bindings": [{"plugin_id": shop.plugin_id("bought-together"), "config": {"min_count": -1}}]});
    let refused = app.put("/v1/admin/plugin-bindings/recommendations", shop.sk(), &bad).await;
    assert!(refused.problem(422, "invalid_config")["errors"]["bindings[0].config.min_count"].is_string());
    // One that fails every call: out of fuel.
    let limits = json!({"fuel_per_200_lines": 1});
    let path = format!("/v1/platform/plugins/{}/limits", shop.plugin_id("bought-together"));
    app.patch(&path, &app.operator_key, &limits).await.expect(200);
    let body = recommendations(&app, &shop, &p[0].0, "").await.expect(200);
    assert_eq!(body, json!({"data": []}));

    // The next recommender still answers.
    let binds = [
        Bind::new("recommendations", "bought-together", json!({})),
        Bind::new("recommendations", "category-bestsellers", json!({})),
    ];
    let installed = install(&app, "category-bestsellers").await;
    let mut plugins = shop.plugins.clone();
    plugins.push(("category-bestsellers".to_owned(), installed));
    bind(&app, shop.sk(), &binds, &plugins).await;
    // Units: A 3, B 3, C 1.
    let reasons: Vec<Value> = recommendations(&app, &shop, &p[0].0, "").await.expect(200)["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!([r["product"]["id"], r["reason"]]))
        .collect();
    assert_eq!(reasons, vec![json!([p[1].0, "Bestseller"]), json!([p[2].0, "Bestseller"])]);
});

on_both_databases!(only_the_merchants_active_products_have_recommendations, |app| async move {
    let (shop, p) = shop_with_sales(&app, "acme", vec![bought_together()]).await;
    let other = open_shop(&app, "globex", "USD", "US", &recommending(vec![bought_together()])).await;
    let (theirs, _) = catalog_product(&app, &other, "X", 1000, &[], 5).await;

    recommendations(&app, &shop, &theirs, "").await.problem(404, "not_found");
    recommendations(&app, &other, &p[0].0, "").await.problem(404, "not_found");
    recommendations(&app, &shop, "prod_nope", "").await.problem(404, "not_found");
    // Their cart is not ours either.
    let cart = app.post("/v1/store/carts", other.pk(), &json!({})).await.expect(201);
    let query = format!("?cart_id={}", cart["id"].as_str().unwrap());
    recommendations(&app, &shop, &p[0].0, &query).await.problem(404, "not_found");
    // Nor are their sales: they see nothing bought with their product.
    assert!(recommended_ids(recommendations(&app, &other, &theirs, "").await).is_empty());

    let draft = json!({"title": "Draft", "variants": [{"sku": "DRAFT", "price": {"amount": 100, "currency": "USD"}}]});
    let draft = app.post("/v1/admin/products", shop.sk(), &draft).await.expect(201);
    recommendations(&app, &shop, draft["id"].as_str().unwrap(), "").await.problem(404, "not_found");
});

on_both_databases!(the_limit_is_between_1_and_50, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &recommending(vec![bought_together()])).await;
    let (a, _) = catalog_product(&app, &shop, "A", 1000, &[], 5).await;
    for bad in ["?limit=0", "?limit=51"] {
        let problem = recommendations(&app, &shop, &a, bad).await.problem(422, "validation_failed");
        assert!(problem["errors"]["limit"].is_string(), "{bad}: {problem:#}");
    }
    recommendations(&app, &shop, &a, "?limit=lots").await.problem(422, "validation_failed");
    assert!(recommended_ids(recommendations(&app, &shop, &a, "?limit=50").await).is_empty());
});
