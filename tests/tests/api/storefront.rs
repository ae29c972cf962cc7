//! What a storefront builds its pages from: product pictures in order,
//! listings sorted as the shopper asks, and facet counts to narrow them.

use mercato_tests::app::{TestApp, TestMerchant};
use mercato_tests::on_both_databases;
use serde_json::{Value, json};

async fn create(app: &TestApp, m: &TestMerchant, body: &Value) -> Value {
    app.post("/v1/admin/products", &m.secret_key, body).await.expect(201)
}

/// An active product with one variant per `(sku, size, price)`.
fn product(title: &str, description: &str, variants: &[(&str, &str, i64)], categories: &[&str]) -> Value {
    let sizes: Vec<&str> = variants.iter().map(|v| v.1).collect();
    json!({
        "title": title,
        "description": description,
        "status": "active",
        "category_ids": categories,
        "options": [{"name": "size", "values": sizes}],
        "variants": variants.iter().map(|(sku, size, price)| json!({
            "sku": sku, "options": {"size": size}, "price": {"amount": price, "currency": "USD"}
        })).collect::<Vec<_>>(),
    })
}

/// Every page of `path` (which has no `cursor`), as product titles.
async fn all_pages(app: &TestApp, key: &str, path: &str) -> Vec<String> {
    let mut titles = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let page = app.get(&url, key).await.expect(200);
        titles
            .extend(page["data"].as_array().unwrap().iter().map(|p| p["title"].as_str().unwrap().to_owned()));
        assert_eq!(page["has_more"], page["next_cursor"].is_string(), "{page:#}");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return titles,
        }
        assert!(titles.len() < 100, "pages end");
    }
}

on_both_databases!(products_carry_ordered_images, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let mut body = product("Tee", "Cotton", &[("TEE-S", "S", 1999), ("TEE-M", "M", 2199)], &[]);
    body["images"] = json!([
        {"url": "https://cdn.example.com/tee-front.jpg", "alt": "The tee from the front"},
        {"url": "https://cdn.example.com/tee-m.jpg", "alt": "Size M", "sku": "TEE-M"},
        {"url": "http://cdn.example.com/tee-back.jpg"}
    ]);
    let tee = create(&app, &m, &body).await;
    let m_id = tee["variants"][1]["id"].as_str().unwrap().to_owned();
    let s_id = tee["variants"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        tee["images"],
        json!([
            {"url": "https://cdn.example.com/tee-front.jpg", "alt": "The tee from the front", "variant_id": null},
            {"url": "https://cdn.example.com/tee-m.jpg", "alt": "Size M", "variant_id": m_id},
            {"url": "http://cdn.example.com/tee-back.jpg", "alt": "", "variant_id": null}
        ])
    );
    let id = tee["id"].as_str().unwrap();
    let shown = app.get(&format!("/v1/store/products/{id}"), &m.publishable_key).await.expect(200);
    assert_eq!(shown["images"], tee["images"], "the storefront sees them in order");

    // A patch replaces them, in its order; one without images keeps them.
    let images = json!([
        {"url": "https://cdn.example.com/tee-s.jpg", "alt": "Size S", "variant_id": s_id},
        {"url": "https://cdn.example.com/tee-front.jpg", "alt": "Front"}
    ]);
    let patched = app
        .patch(&format!("/v1/admin/products/{id}"), &m.secret_key, &json!({"images": images}))
        .await
        .expect(200);
    assert_eq!(patched["images"][0]["variant_id"], s_id.as_str());
    assert_eq!(patched["images"][1]["alt"], "Front");
    let retitled = app
        .patch(&format!("/v1/admin/products/{id}"), &m.secret_key, &json!({"title": "Tee 2"}))
        .await
        .expect(200);
    assert_eq!(retitled["images"], patched["images"]);

    let other = create(&app, &m, &product("Cap", "", &[("CAP", "One", 900)], &[])).await;
    let other_variant = other["variants"][0]["id"].as_str().unwrap();
    let long_alt = "x".repeat(501);
    let too_many: Vec<Value> =
        (0..51).map(|i| json!({"url": format!("https://cdn.example.com/{i}.jpg")})).collect();
    for (bad, field) in [
        (json!([{"url": "ftp://cdn.example.com/a.jpg"}]), "images[0].url"),
        (json!([{"url": "/tee.jpg"}]), "images[0].url"),
        (json!([{"url": "javascript:alert(1)"}]), "images[0].url"),
        (json!([{"alt": "no url"}]), "images[0].url"),
        (json!([{"url": "https://cdn.example.com/a.jpg", "alt": long_alt}]), "images[0].alt"),
        (json!([{"url": "https://cdn.example.com/a.jpg", "sku": "NOPE"}]), "images[0].sku"),
        (
            json!([{"url": "https://cdn.example.com/a.jpg", "variant_id": other_variant}]),
            "images[0].variant_id",
        ),
        (
            json!([{"url": "https://cdn.example.com/a.jpg", "variant_id": s_id, "sku": "TEE-S"}]),
            "images[0].sku",
        ),
        (json!(too_many), "images"),
    ] {
        let reply =
            app.patch(&format!("/v1/admin/products/{id}"), &m.secret_key, &json!({"images": bad})).await;
        let body = reply.problem(422, "validation_failed");
        assert!(body["errors"][field].is_string(), "{field}: {body:#}");
    }
    let after = app.get(&format!("/v1/admin/products/{id}"), &m.secret_key).await.expect(200);
    assert_eq!(after["images"], patched["images"], "refused patches change nothing");
});

on_both_databases!(listings_sort_by_price_newest_and_relevance_across_pages, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let key = m.publishable_key.clone();
    let items = [("Lamp", 4500), ("Mug", 1200), ("Rug", 9900), ("Vase", 1200), ("Bowl", 3000)];
    for (i, (title, price)) in items.iter().enumerate() {
        create(&app, &m, &product(title, "For the home", &[(&format!("SKU-{i}"), "One", *price)], &[])).await;
        // Distinct creation times for `newest`.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    let created: Vec<String> = items.iter().map(|i| i.0.to_owned()).collect();
    assert_eq!(all_pages(&app, &key, "/v1/store/products?limit=2").await, created, "oldest first by default");
    let mut newest = created.clone();
    newest.reverse();
    assert_eq!(all_pages(&app, &key, "/v1/store/products?limit=2&sort=newest").await, newest);
    let asc = all_pages(&app, &key, "/v1/store/products?limit=2&sort=price_asc").await;
    assert_eq!(asc[2..], ["Bowl", "Lamp", "Rug"]);
    let mut ties = asc[..2].to_vec();
    ties.sort();
    assert_eq!(ties, ["Mug", "Vase"], "equal prices are both shown, once each: {asc:?}");
    let desc = all_pages(&app, &key, "/v1/store/products?limit=2&sort=price_desc").await;
    assert_eq!(desc[..3], ["Rug", "Lamp", "Bowl"]);
    assert_eq!(desc.len(), 5);

    // Relevance: the product about the words comes first, whatever its age.
    create(
        &app,
        &m,
        &product("Garden chair", "A chair for the garden, and a teak table", &[("CH", "One", 100)], &[]),
    )
    .await;
    create(&app, &m, &product("Teak table", "Teak table, solid teak", &[("TB", "One", 100)], &[])).await;
    let found = all_pages(&app, &key, "/v1/store/products?limit=1&q=teak").await;
    assert_eq!(found, ["Teak table", "Garden chair"], "best match first, across pages");
    let by_age = all_pages(&app, &key, "/v1/store/products?limit=1&q=teak&sort=newest").await;
    assert_eq!(by_age, ["Teak table", "Garden chair"]);

    // A cursor continues only the order it came from; unknown orders are refused.
    let page = app.get("/v1/store/products?limit=1&sort=price_asc", &key).await.expect(200);
    let cursor = page["next_cursor"].as_str().unwrap();
    for path in [
        format!("/v1/store/products?cursor={cursor}"),
        format!("/v1/store/products?cursor={cursor}&sort=relevance&q=teak"),
        "/v1/store/products?sort=cheapest".to_owned(),
    ] {
        let body = app.get(&path, &key).await.problem(422, "validation_failed");
        assert!(!body.to_string().contains("ProductSort"), "no Rust type names: {body:#}");
    }
});

on_both_databases!(facets_count_every_product_of_the_listing, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let cat = |name: &str| {
        let app = &app;
        let m = &m;
        let name = name.to_owned();
        async move {
            let c = app.post("/v1/admin/categories", &m.secret_key, &json!({"name": name})).await.expect(201);
            c["id"].as_str().unwrap().to_owned()
        }
    };
    let (home, garden) = (cat("Home").await, cat("Garden").await);
    let sized = [("TEE-S", "S", 1999), ("TEE-M", "M", 2199)];
    create(&app, &m, &product("Cotton tee", "Soft cotton", &sized, &[&home])).await;
    create(&app, &m, &product("Cotton bag", "Cotton tote", &[("BAG", "M", 500)], &[&home, &garden])).await;
    create(&app, &m, &product("Teak bench", "Solid teak", &[("BENCH", "L", 12000)], &[&garden])).await;
    let mut draft = product("Draft", "Cotton", &[("DRAFT", "S", 500)], &[&home]);
    draft["status"] = json!("draft");
    create(&app, &m, &draft).await;

    let usd = |amount: i64| json!({"amount": amount, "currency": "USD"});
    let page = app.get("/v1/store/products?limit=1", &m.publishable_key).await.expect(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let facets = &page["facets"];
    assert_eq!(
        facets["categories"],
        json!([
            {"id": garden, "handle": "garden", "name": "Garden", "count": 2},
            {"id": home, "handle": "home", "name": "Home", "count": 2}
        ]),
        "every page counts the whole listing, drafts left out: {facets:#}"
    );
    assert_eq!(
        facets["price_bands"],
        json!([
            {"min": usd(0), "max": usd(1000), "count": 1},
            {"min": usd(1000), "max": usd(2500), "count": 1},
            {"min": usd(10000), "max": usd(25000), "count": 1}
        ])
    );
    assert_eq!(
        facets["options"],
        json!([
            {"name": "size", "value": "M", "count": 2},
            {"name": "size", "value": "L", "count": 1},
            {"name": "size", "value": "S", "count": 1}
        ])
    );

    // The counts follow the query and its filters.
    let cotton = app.get("/v1/store/products?q=cotton", &m.publishable_key).await.expect(200);
    let facets = &cotton["facets"];
    assert_eq!(facets["categories"][0], json!({"id": home, "handle": "home", "name": "Home", "count": 2}));
    assert_eq!(facets["categories"][1]["count"], 1);
    let counts: Vec<i64> =
        facets["price_bands"].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).collect();
    assert_eq!(counts, [1, 1]);
    let in_garden = app.get("/v1/store/products?category=garden", &m.publishable_key).await.expect(200);
    let values: Vec<&str> = in_garden["facets"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["L", "M"]);
    let nothing = app.get("/v1/store/products?q=%22%22", &m.publishable_key).await.expect(200);
    assert_eq!(nothing["facets"], json!({"categories": [], "price_bands": [], "options": []}));
});
