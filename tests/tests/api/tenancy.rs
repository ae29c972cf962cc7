//! Tenant isolation, probed on every admin and store route the API
//! documents: merchant B's keys on merchant A's ids answer 404 (or 401/403),
//! and no response to B ever carries A's data.

use mercato_tests::app::{TestApp, TestMerchant};
use mercato_tests::{component, on_both_databases};
use reqwest::Method;
use serde_json::{Value, json};

/// What merchant A owns, created through the API.
struct Owned {
    values: Vec<(&'static str, String)>,
    secrets: Vec<String>,
}

impl Owned {
    fn get(&self, name: &str) -> &str {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).unwrap_or("unknown")
    }
}

async fn populate(app: &TestApp, a: &TestMerchant) -> Owned {
    let sk = &a.secret_key;
    let category = app.post("/v1/admin/categories", sk, &json!({"name": "Secret Tents"})).await.expect(201);
    let product = app
        .post(
            "/v1/admin/products",
            sk,
            &json!({"title": "Secret Tent", "handle": "secret-tent", "status": "active",
                    "category_ids": [category["id"]], "options": [],
                    "variants": [{"sku": "SECRET-1", "price": {"amount": 19900, "currency": "USD"}}]}),
        )
        .await
        .expect(201);
    let location =
        app.post("/v1/admin/locations", sk, &json!({"name": "Secret Warehouse"})).await.expect(201);
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    app.put(
        &format!("/v1/admin/inventory/{variant}"),
        sk,
        &json!({"location_id": location["id"], "on_hand": 7}),
    )
    .await
    .expect(200);
    let code = app.post("/v1/admin/discount-codes", sk, &json!({"code": "SECRET50"})).await.expect(201);
    let customer = app
        .post(
            "/v1/store/customers",
            &a.publishable_key,
            &json!({"email": "secret@a.example", "password": "correct horse", "first_name": "Sec", "last_name": "Ret"}),
        )
        .await
        .expect(201);
    let plugin = app
        .send(
            app.request(Method::POST, "/v1/platform/plugins", Some(&app.operator_key))
                .header("content-type", "application/wasm")
                .body(component("flat-tax")),
        )
        .await
        .expect(201);
    app.put(
        "/v1/admin/plugin-bindings/tax",
        sk,
        &json!({"bindings": [{"plugin_id": plugin["id"], "config": {"rate": "0.31337"}}]}),
    )
    .await
    .expect(200);
    let gateway = app
        .send(
            app.request(Method::POST, "/v1/platform/plugins", Some(&app.operator_key))
                .header("content-type", "application/wasm")
                .body(component("test-gateway")),
        )
        .await
        .expect(201);
    app.put(
        "/v1/admin/plugin-bindings/payment",
        sk,
        &json!({"bindings": [{"plugin_id": gateway["id"], "config": {}}]}),
    )
    .await
    .expect(200);
    let pk = &a.publishable_key;
    let address = json!({"name": "Secret Buyer", "line1": "1 Hidden Way", "city": "Nowhere", "region": "CA",
                         "postal_code": "90000", "country": "US"});
    let new_cart =
        json!({"email": "secret-buyer@a.example", "lines": [{"variant_id": variant, "quantity": 1}]});
    let bought = app.post("/v1/store/carts", pk, &new_cart).await.expect(201);
    let bought_id = bought["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/store/carts/{bought_id}"), pk, &json!({"shipping_address": address}))
        .await
        .expect(200);
    let order = app
        .post(
            &format!("/v1/store/carts/{bought_id}/complete"),
            pk,
            &json!({"payment": {"provider": "test-gateway", "token": "tok_visa"}}),
        )
        .await
        .expect(201);
    let cart = app.post("/v1/store/carts", pk, &new_cart).await.expect(201);
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    Owned {
        values: vec![
            ("product", s(&product["id"])),
            ("variant", variant),
            ("category", s(&category["id"])),
            ("location", s(&location["id"])),
            ("discount_code", s(&code["id"])),
            ("customer", s(&customer["id"])),
            ("cart", s(&cart["id"])),
            ("cart_line", s(&cart["lines"][0]["id"])),
            ("order", s(&order["id"])),
            ("order_line", s(&order["lines"][0]["id"])),
        ],
        secrets: vec![
            "Secret Tent".into(),
            "secret-tent".into(),
            "SECRET-1".into(),
            "Secret Warehouse".into(),
            "SECRET50".into(),
            "secret@a.example".into(),
            "0.31337".into(),
            "secret-buyer@a.example".into(),
            "1 Hidden Way".into(),
            a.id.clone(),
        ],
    }
}

/// The path with A's ids for its parameters (from the segment before each),
/// and whether any parameter named something of A's.
fn fill(path: &str, owned: &Owned) -> (String, bool) {
    let mut out = Vec::new();
    let mut has_param = false;
    let segments: Vec<&str> = path.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        if seg.starts_with('{') {
            has_param |= *seg != "{extension_point}";
            let value = match (segments[i - 1], *seg) {
                (_, "{extension_point}") => "tax",
                ("products", _) | ("wishlist", _) => owned.get("product"),
                ("inventory", _) | ("variants", _) => owned.get("variant"),
                ("categories", _) => owned.get("category"),
                ("locations", _) => owned.get("location"),
                ("discount-codes", _) => owned.get("discount_code"),
                ("customers", _) => owned.get("customer"),
                ("carts", _) => owned.get("cart"),
                ("lines", _) => owned.get("cart_line"),
                ("orders", _) => owned.get("order"),
                _ => owned.get("product"),
            };
            out.push(value.to_owned());
        } else {
            out.push((*seg).to_owned());
        }
    }
    (out.join("/"), has_param)
}

/// A body that is valid apart from the ids it names, so the answer is about
/// ownership and not about shape.
fn body_for(method: &Method, path: &str, owned: &Owned) -> Option<Value> {
    if *method == Method::GET || *method == Method::DELETE {
        return None;
    }
    Some(if path.contains("/inventory/") && path.ends_with("/adjustments") {
        json!({"location_id": owned.get("location"), "delta": 1, "reason": "probe"})
    } else if path.contains("/inventory/") {
        json!({"location_id": owned.get("location"), "on_hand": 1})
    } else if path.contains("/wishlist") {
        json!({"product_id": owned.get("product")})
    } else if path.contains("/products/") {
        json!({"title": "Probe"})
    } else if path.ends_with("/complete") {
        json!({"payment": {"provider": "test-gateway", "token": "tok_visa"}})
    } else if path.ends_with("/lines") && path.contains("/carts/") {
        json!({"variant_id": owned.get("variant"), "quantity": 1})
    } else if path.contains("/lines/") {
        json!({"quantity": 1})
    } else if path.ends_with("/discount-codes") && path.contains("/carts/") {
        json!({"code": "SECRET50"})
    } else if path.ends_with("/shipping-option") {
        json!({"code": "standard"})
    } else if path.contains("/carts/") {
        json!({"email": "probe@b.example"})
    } else if path.ends_with("/fulfillments") {
        json!({"lines": [{"line_id": owned.get("order_line"), "quantity": 1}]})
    } else if path.ends_with("/returns") {
        json!({"lines": [{"line_id": owned.get("order_line"), "quantity": 1}], "reason": "probe"})
    } else if path.ends_with("/refunds") {
        json!({"amount": {"amount": 1, "currency": "USD"}, "reason": "probe"})
    } else if path.contains("/orders/") {
        json!({"reason": "probe"})
    } else if path.contains("/inventory-policy") {
        json!({"inventory_policy": "allow_backorder"})
    } else {
        json!({})
    })
}

on_both_databases!(merchant_b_cannot_reach_merchant_a_on_any_route, |app: TestApp| async move {
    let a = app.merchant("alpha", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    let owned = populate(&app, &a).await;
    let b_customer = app
        .post(
            "/v1/store/customers",
            &b.publishable_key,
            &json!({"email": "b@b.example", "password": "correct horse", "first_name": "B", "last_name": "B"}),
        )
        .await
        .expect(201);
    assert!(b_customer["id"].is_string());
    let login = app
        .post(
            "/v1/store/customers/login",
            &b.publishable_key,
            &json!({"email": "b@b.example", "password": "correct horse"}),
        )
        .await
        .expect(200);
    let b_token = login["token"].as_str().unwrap().to_owned();

    let doc = app.send(app.request(Method::GET, "/openapi.json", None)).await.expect(200);
    let mut probed = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let admin = path.starts_with("/v1/admin/");
        if !admin && !path.starts_with("/v1/store/") {
            continue;
        }
        for (method, _) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let key = if admin { &b.secret_key } else { &b.publishable_key };
            let (mut target, mut names_a) = fill(path, &owned);
            if path == "/v1/admin/inventory" {
                target = format!("{path}?variant_id={}", owned.get("variant"));
                names_a = true;
            }
            let body = body_for(&method, &target, &owned);
            let names_a =
                names_a || body.as_ref().is_some_and(|b| b.to_string().contains(owned.get("product")));
            let with = |req: reqwest::RequestBuilder| {
                let req = req.header("x-customer-token", &b_token);
                match &body {
                    Some(body) => req.json(body),
                    None => req,
                }
            };
            // No key: 401; another audience's key: 403.
            app.send(with(app.request(method.clone(), &target, None))).await.problem(401, "unauthorized");
            let wrong = if admin { &b.publishable_key } else { &b.secret_key };
            app.send(with(app.request(method.clone(), &target, Some(wrong)))).await.problem(403, "forbidden");
            app.send(with(app.request(method.clone(), &target, Some(&app.operator_key))))
                .await
                .problem(403, "forbidden");
            let reply = app.send(with(app.request(method.clone(), &target, Some(key)))).await;
            let text = reply.body.to_string();
            for secret in owned.secrets.iter().chain(owned.values.iter().map(|(_, v)| v)) {
                assert!(!text.contains(secret.as_str()), "{method} {target} leaked {secret:?}: {text}");
            }
            if names_a {
                assert!(
                    matches!(reply.status.as_u16(), 404 | 401 | 403),
                    "{method} {target} with merchant B's key answered {}: {text}",
                    reply.status
                );
            }
            probed += 1;
        }
    }
    assert!(probed >= 20, "only {probed} routes probed");
});

on_both_databases!(cors_answers_only_the_origins_a_merchant_allows, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("globex", "USD", "US").await;
    let set = json!({"allowed_origins": ["https://Shop.Acme.example", "http://localhost:5173"]});
    let cors = app.put("/v1/admin/cors", &a.secret_key, &set).await.expect(200);
    assert_eq!(cors["allowed_origins"], json!(["https://shop.acme.example", "http://localhost:5173"]));
    for bad in [json!(["ftp://x.example"]), json!(["https://x.example/path"]), json!(["*"])] {
        let body = app.put("/v1/admin/cors", &a.secret_key, &json!({"allowed_origins": bad})).await;
        assert!(body.problem(422, "validation_failed")["errors"]["allowed_origins[0]"].is_string());
    }
    assert_eq!(app.get("/v1/admin/cors", &a.secret_key).await.expect(200), cors);
    let preflight = |origin: &str| {
        app.client
            .request(Method::OPTIONS, format!("{}/v1/store/products", app.base))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
    };
    let ok = app.send(preflight("https://shop.acme.example")).await;
    assert_eq!(ok.status, 204);
    assert_eq!(ok.headers["access-control-allow-origin"], "https://shop.acme.example");
    assert!(ok.headers["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let other = app.send(preflight("https://evil.example")).await;
    assert_eq!(other.status, 204);
    assert!(other.headers.get("access-control-allow-origin").is_none());
    let get = |key: &str, origin: &str| {
        app.client
            .get(format!("{}/v1/store/products", app.base))
            .bearer_auth(key.to_owned())
            .header("origin", origin.to_owned())
    };
    let mine = app.send(get(&a.publishable_key, "https://shop.acme.example")).await;
    assert_eq!(mine.headers["access-control-allow-origin"], "https://shop.acme.example");
    // Another shop's key from this origin: the browser may not read the answer.
    let theirs = app.send(get(&b.publishable_key, "https://shop.acme.example")).await;
    assert_eq!(theirs.status, 200);
    assert!(theirs.headers.get("access-control-allow-origin").is_none());
    // The admin API is not for browsers on shop origins.
    let admin = app
        .client
        .get(format!("{}/v1/admin/orders", app.base))
        .bearer_auth(&a.secret_key)
        .header("origin", "https://shop.acme.example");
    assert!(app.send(admin).await.headers.get("access-control-allow-origin").is_none());
});
