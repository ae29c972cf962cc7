//! The faces over HTTP: the storefront and console pages and their files
//! (headers, the shop a page is for), and the API pieces they need beyond
//! a script's: the store's categories, the plugins a merchant can bind with
//! their schemas, and a binding tried on a cart before it is saved.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::{Bind, address, install, open_shop, product, ready_cart, us_plugins};
use reqwest::Method;
use serde_json::json;

/// The `content` of the page's `mercato-config` meta tag, unescaped.
fn page_config(html: &str) -> serde_json::Value {
    let mark = r#"<meta name="mercato-config" content=""#;
    let start = html.find(mark).expect("config meta") + mark.len();
    let end = start + html[start..].find('"').unwrap();
    let json = html[start..end].replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<");
    serde_json::from_str(&json.replace("&gt;", ">").replace("&amp;", "&")).expect("config JSON")
}

on_both_databases!(a_storefront_page_names_its_shop_and_a_key_that_works, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let page = app.send(app.request(Method::GET, "/shop/acme", None)).await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let html = page.body.as_str().expect("HTML");
    assert!(html.contains("<title>acme shop</title>"), "{html}");
    let config = page_config(html);
    assert_eq!(config["slug"], "acme");
    assert_eq!(config["currency"], "USD");
    assert_eq!(config["publishable_key"], m.publishable_key.as_str());
    assert!(!html.contains(&m.secret_key), "never the secret key");
    // Rotated keys: the page follows, and the old key is refused.
    let rotated = app
        .post(&format!("/v1/platform/merchants/{}/rotate-keys", m.id), &app.operator_key, &json!({}))
        .await;
    let rotated = rotated.expect(200);
    let page = app.send(app.request(Method::GET, "/shop/acme", None)).await;
    let config = page_config(page.body.as_str().unwrap());
    assert_eq!(config["publishable_key"], rotated["publishable_key"]);
    app.get("/v1/store/products", &m.publishable_key).await.expect(401);
    app.get("/v1/store/products", config["publishable_key"].as_str().unwrap()).await.expect(200);
    // No shop there: an HTML 404 with the same headers.
    let missing = app.send(app.request(Method::GET, "/shop/nobody", None)).await;
    assert_eq!(missing.status, 404);
    assert!(missing.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(missing.headers.contains_key("content-security-policy"));
});

on_both_databases!(the_console_and_assets_are_served_cached_and_compressed, |app: TestApp| async move {
    let root = app.client.get(format!("{}/", app.base));
    let root = app.send(root).await;
    assert_eq!(root.status, 200, "/ leads to the console");
    let console = app.send(app.request(Method::GET, "/console", None)).await;
    assert_eq!(console.status, 200);
    assert!(console.headers.contains_key("content-security-policy"));
    assert!(console.body.as_str().unwrap().contains("/assets/"), "the page loads its files");

    let js = app.send(app.request(Method::GET, "/assets/common/api.js", None)).await;
    assert_eq!(js.status, 200);
    assert_eq!(js.headers["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(js.headers["x-content-type-options"], "nosniff");
    let etag = js.headers["etag"].to_str().unwrap().to_owned();
    let again = app.request(Method::GET, "/assets/common/api.js", None).header("if-none-match", &etag);
    assert_eq!(app.send(again).await.status, 304);
    let gzip = app.request(Method::GET, "/assets/common/api.js", None).header("accept-encoding", "gzip");
    let gzip = app.send(gzip).await;
    assert_eq!(gzip.headers["content-encoding"], "gzip");

    for missing in ["/assets/nothing.js", "/assets/shop/index.html", "/assets/../Cargo.toml"] {
        let reply = app.send(app.request(Method::GET, missing, None)).await;
        assert_eq!(reply.status, 404, "{missing}");
    }
});

on_both_databases!(a_storefront_lists_its_shops_categories_only, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("other", "USD", "US").await;
    app.post("/v1/admin/categories", &a.secret_key, &json!({"name": "Apparel", "handle": "apparel"}))
        .await
        .expect(201);
    app.post("/v1/admin/categories", &b.secret_key, &json!({"name": "Hidden", "handle": "hidden"}))
        .await
        .expect(201);
    let list = app.get("/v1/store/categories", &a.publishable_key).await.expect(200);
    let names: Vec<_> = list["data"].as_array().unwrap().iter().map(|c| c["name"].clone()).collect();
    assert_eq!(names, [json!("Apparel")]);
    app.get("/v1/store/categories?limit=0", &a.publishable_key).await.problem(422, "validation_failed");
});

on_both_databases!(a_merchant_sees_installed_plugins_with_their_schemas, |app: TestApp| async move {
    let next = install(&app, "flat-tax-next").await;
    let gateway = install(&app, "test-gateway").await;
    let m = app.merchant("acme", "USD", "US").await;
    let taxes = app.get("/v1/admin/plugins?extension_point=tax", &m.secret_key).await.expect(200);
    let listed = &taxes["data"][0];
    assert_eq!((listed["id"].as_str(), listed["version"].as_str()), (Some(next.as_str()), Some("0.2.0")));
    assert_eq!(listed["config_schema"]["required"], json!(["rate"]));
    assert!(listed.get("stats").is_none() && listed.get("limits").is_none(), "not the operator's view");
    assert_eq!(taxes["data"].as_array().unwrap().len(), 1);
    let schema = app.get(&format!("/v1/admin/plugins/{gateway}/config-schema"), &m.secret_key).await;
    assert_eq!(schema.expect(200)["properties"]["challenge_url"]["type"], "string");
    app.get("/v1/admin/plugins/plg_nope/config-schema", &m.secret_key).await.problem(404, "not_found");
    app.get("/v1/admin/plugins", &m.publishable_key).await.expect(403);
    app.get("/v1/admin/plugins?extension_point=nope", &m.secret_key).await.problem(422, "validation_failed");
});

on_both_databases!(a_binding_is_tried_on_a_cart_and_nothing_is_saved, |app: TestApp| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let next = install(&app, "flat-tax-next").await;
    let tee = product(&app, &shop, "TEE", 2000, 5).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 2)], address("US", "CA")).await;
    let id = cart["id"].as_str().unwrap();
    let before = app.get("/v1/admin/plugin-bindings", shop.sk()).await.expect(200);

    let try_next = |rate: serde_json::Value| json!({"cart_id": id, "bindings": [{"plugin_id": next, "config": {"rate": rate}}]});
    let tried = app.post("/v1/admin/plugin-bindings/tax/preview", shop.sk(), &try_next(json!("0.1"))).await;
    let tried = tried.expect(200);
    assert_eq!(tried["id"], cart["id"]);
    assert_eq!(tried["lines"][0]["tax_lines"][0]["label"], "Tax v2", "{tried:#}");
    assert_eq!(tried["tax_total"]["amount"], 400, "10 % of 40.00");
    assert_ne!(tried["tax_total"], cart["tax_total"]);

    // Nothing changed: the bindings, and the cart as the shopper sees it.
    assert_eq!(app.get("/v1/admin/plugin-bindings", shop.sk()).await.expect(200), before);
    let now = app.get(&format!("/v1/store/carts/{id}"), shop.pk()).await.expect(200);
    assert_eq!(now["tax_total"], cart["tax_total"]);

    // Refused like a replacement, field by field.
    let bad = app.post("/v1/admin/plugin-bindings/tax/preview", shop.sk(), &try_next(json!("abc"))).await;
    let bad = bad.problem(422, "invalid_config");
    assert!(bad["errors"]["bindings[0].config.rate"].as_str().is_some(), "{bad:#}");
    let body = json!({"cart_id": id, "bindings": []});
    let payment = app.post("/v1/admin/plugin-bindings/payment/preview", shop.sk(), &body).await;
    payment.problem(422, "preview_unavailable");
    let unknown = json!({"cart_id": "cart_nope", "bindings": []});
    app.post("/v1/admin/plugin-bindings/tax/preview", shop.sk(), &unknown).await.problem(404, "not_found");
    // Another merchant's cart is not found, and the shop's key cannot try anything.
    let other =
        open_shop(&app, "other", "USD", "US", &[Bind::new("tax", "flat-tax", json!({"rate": "0.2"}))]).await;
    let theirs = app.post("/v1/admin/plugin-bindings/tax/preview", other.sk(), &try_next(json!("0.1"))).await;
    theirs.problem(404, "not_found");
    app.post("/v1/admin/plugin-bindings/tax/preview", shop.pk(), &try_next(json!("0.1"))).await.expect(403);
});
