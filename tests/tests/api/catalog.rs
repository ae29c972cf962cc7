use mercato::db::Backend;
use mercato_tests::app::{TestApp, TestMerchant};
use mercato_tests::on_both_databases;
use reqwest::Method;
use serde_json::{Value, json};

/// A t-shirt in sizes S and M, priced in `currency`.
fn tee(title: &str, sku: &str, currency: &str) -> Value {
    json!({
        "title": title,
        "description": "Organic cotton, relaxed fit",
        "status": "active",
        "tags": ["summer", "cotton"],
        "options": [{"name": "size", "values": ["S", "M"]}],
        "variants": [
            {"sku": format!("{sku}-S"), "options": {"size": "S"}, "price": {"amount": 1999, "currency": currency}, "weight_grams": 180},
            {"sku": format!("{sku}-M"), "options": {"size": "M"}, "price": {"amount": 2199, "currency": currency}, "tax_code": "apparel"}
        ]
    })
}

/// A one-variant product.
fn simple(title: &str, sku: &str, amount: i64) -> Value {
    json!({"title": title, "status": "active", "variants": [{"sku": sku, "price": {"amount": amount, "currency": "USD"}}]})
}

/// Rows in `table`, read straight from the database.
async fn rows(app: &TestApp, table: &str) -> i64 {
    let sql = format!("select count(*) as n from {table}");
    sqlx::Row::get(&sqlx::query(&sql).fetch_one(app.db.pool()).await.expect("count"), "n")
}

/// Asserts how many products and variants exist, and (on SQLite) that the
/// search table has one row per live product.
async fn assert_rows(app: &TestApp, products: i64, variants: i64) {
    assert_eq!(rows(app, "product").await, products, "product rows");
    assert_eq!(rows(app, "variant").await, variants, "variant rows");
    if app.backend == Backend::Sqlite {
        let live = rows(app, "product where deleted_at is null").await;
        assert_eq!(rows(app, "product_fts").await, live, "one search row per live product");
    }
}

#[track_caller]
fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v:#}")).to_owned()
}

async fn create(app: &TestApp, m: &TestMerchant, body: &Value) -> Value {
    app.post("/v1/admin/products", &m.secret_key, body).await.expect(201)
}

async fn list(app: &TestApp, key: &str, path: &str) -> Vec<Value> {
    app.get(path, key).await.expect(200)["data"].as_array().expect("data").clone()
}

/// The titles a listing shows.
async fn titles(app: &TestApp, key: &str, path: &str) -> Vec<String> {
    let mut t: Vec<String> =
        list(app, key, path).await.iter().map(|p| p["title"].as_str().unwrap().to_owned()).collect();
    t.sort();
    t
}

on_both_databases!(admin_creates_reads_updates_and_deletes_a_product, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let p = create(&app, &m, &tee("Classic Tee", "TEE", "USD")).await;
    let pid = id(&p);
    assert!(pid.starts_with("prod_"), "{p:#}");
    assert_eq!(p["handle"], "classic-tee");
    assert_eq!(p["status"], "active");
    assert_eq!(p["tags"], json!(["summer", "cotton"]));
    assert_eq!(p["options"], json!([{"name": "size", "values": ["S", "M"]}]));
    let v = &p["variants"][0];
    assert!(v["id"].as_str().unwrap().starts_with("var_"));
    assert_eq!(v["sku"], "TEE-S");
    assert_eq!(v["title"], "S");
    assert_eq!(v["options"], json!({"size": "S"}));
    assert_eq!(v["price"], json!({"amount": 1999, "currency": "USD"}));
    assert_eq!(v["weight_grams"], 180);
    assert_eq!(v["inventory_policy"], "deny");
    assert_eq!(p["variants"][1]["tax_code"], "apparel");
    let got = app.get(&format!("/v1/admin/products/{pid}"), &m.secret_key).await.expect(200);
    assert_eq!(got, p, "what was created is what is read");
    assert_eq!(list(&app, &m.secret_key, "/v1/admin/products").await, vec![p.clone()]);

    // A product without status is a draft.
    let draft = create(
        &app,
        &m,
        &json!({"title": "Mug", "variants": [{"sku": "MUG", "price": {"amount": 900, "currency": "USD"}}]}),
    )
    .await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["variants"][0]["title"], "Mug");

    let vid = p["variants"][1]["id"].as_str().unwrap();
    let patch = json!({
        "title": "Classic Tee 2", "description": "Now heavier", "status": "archived", "tags": ["winter"],
        "variants": [{"id": vid, "price": {"amount": 2500, "currency": "USD"}, "weight_grams": 200, "tax_code": null, "sku": "TEE-M2"}]
    });
    let patched = app.patch(&format!("/v1/admin/products/{pid}"), &m.secret_key, &patch).await.expect(200);
    assert_eq!(patched["title"], "Classic Tee 2");
    assert_eq!(patched["handle"], "classic-tee", "a new title keeps the handle");
    assert_eq!(patched["status"], "archived");
    assert_eq!(patched["tags"], json!(["winter"]));
    assert_eq!(patched["variants"][1]["price"]["amount"], 2500);
    assert_eq!(patched["variants"][1]["sku"], "TEE-M2");
    assert_eq!(patched["variants"][1]["weight_grams"], 200);
    assert_eq!(patched["variants"][1]["tax_code"], Value::Null);
    assert_eq!(patched["variants"][0], p["variants"][0], "an untouched variant stays as it was");
    assert!(patched["updated_at"].as_str() > p["updated_at"].as_str(), "RFC 3339 times sort as text");
    let got = app.get(&format!("/v1/admin/products/{pid}"), &m.secret_key).await.expect(200);
    assert_eq!(got, patched);
    assert_eq!(titles(&app, &m.secret_key, "/v1/admin/products?q=heavier").await, ["Classic Tee 2"]);
    assert_eq!(titles(&app, &m.secret_key, "/v1/admin/products?q=TEE-M2").await, ["Classic Tee 2"]);
    assert!(
        list(&app, &m.secret_key, "/v1/admin/products?q=organic").await.is_empty(),
        "old words are forgotten"
    );

    app.delete(&format!("/v1/admin/products/{pid}"), &m.secret_key).await.expect(204);
    app.get(&format!("/v1/admin/products/{pid}"), &m.secret_key).await.problem(404, "not_found");
    app.patch(&format!("/v1/admin/products/{pid}"), &m.secret_key, &json!({"title": "x"}))
        .await
        .problem(404, "not_found");
    app.delete(&format!("/v1/admin/products/{pid}"), &m.secret_key).await.problem(404, "not_found");
    assert_eq!(titles(&app, &m.secret_key, "/v1/admin/products").await, ["Mug"]);
    assert!(list(&app, &m.secret_key, "/v1/admin/products?q=heavier").await.is_empty());
    // Its handle and skus are free again.
    let again = create(&app, &m, &tee("Classic Tee", "TEE", "USD")).await;
    assert_eq!(again["handle"], "classic-tee");
    assert_rows(&app, 3, 5).await;
});

on_both_databases!(
    handles_and_skus_are_unique_per_merchant_and_a_failed_create_writes_nothing,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let first = create(&app, &m, &tee("Classic Tee", "TEE", "USD")).await;
        // The same title gets the next free handle; an explicit taken handle is a conflict.
        let second = create(&app, &m, &tee("Classic Tee", "TEE2", "USD")).await;
        assert_eq!(second["handle"], "classic-tee-2");
        let mut taken = tee("Other", "OTHER", "USD");
        taken["handle"] = json!("classic-tee");
        let p = app.post("/v1/admin/products", &m.secret_key, &taken).await.problem(409, "handle_taken");
        assert!(p["errors"]["handle"].is_string(), "{p:#}");
        // A sku another product has: 409, naming the variant.
        let mut dup = tee("Fresh", "FRESH", "USD");
        dup["variants"][1]["sku"] = json!("TEE-M");
        let p = app.post("/v1/admin/products", &m.secret_key, &dup).await.problem(409, "duplicate_sku");
        assert!(p["errors"]["variants[1].sku"].is_string(), "{p:#}");
        // Two variants of one request with one sku.
        let mut twice = tee("Fresh", "FRESH", "USD");
        twice["variants"][1]["sku"] = json!("FRESH-S");
        let p = app.post("/v1/admin/products", &m.secret_key, &twice).await.problem(409, "duplicate_sku");
        assert!(p["errors"]["variants[1].sku"].is_string(), "{p:#}");
        // Nothing of the failed requests was written: the handle and skus are free.
        let all = list(&app, &m.secret_key, "/v1/admin/products").await;
        assert_eq!(all.len(), 2);
        assert_rows(&app, 2, 4).await;
        assert!(list(&app, &m.secret_key, "/v1/admin/products?q=fresh").await.is_empty());
        let fresh = create(&app, &m, &tee("Fresh", "FRESH", "USD")).await;
        assert_eq!(fresh["handle"], "fresh");
        let other = create(&app, &m, &tee("Other", "OTHER", "USD")).await;
        assert_eq!(other["handle"], "other");
        // A patch may not take another product's handle or sku either.
        let path = format!("/v1/admin/products/{}", id(&second));
        app.patch(&path, &m.secret_key, &json!({"handle": "classic-tee"})).await.problem(409, "handle_taken");
        let vid = second["variants"][0]["id"].as_str().unwrap();
        let p = app
            .patch(&path, &m.secret_key, &json!({"variants": [{"id": vid, "sku": "TEE-S"}]}))
            .await
            .problem(409, "duplicate_sku");
        assert!(p["errors"]["variants[0].sku"].is_string(), "{p:#}");
        let got = app.get(&path, &m.secret_key).await.expect(200);
        assert_eq!(got, second, "a failed patch changes nothing");
        // Another merchant has handles and skus of its own.
        let other_merchant = app.merchant("globex", "USD", "US").await;
        let theirs = create(&app, &other_merchant, &tee("Classic Tee", "TEE", "USD")).await;
        assert_eq!(theirs["handle"], first["handle"]);
    }
);

on_both_databases!(
    search_finds_words_of_title_description_and_sku_within_category_and_price,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let key = m.secret_key.clone();
        let shirts = app.post("/v1/admin/categories", &key, &json!({"name": "Shirts"})).await.expect(201);
        assert_eq!(shirts["handle"], "shirts");
        let mugs = app
            .post("/v1/admin/categories", &key, &json!({"name": "Mugs", "handle": "cups"}))
            .await
            .expect(201);
        let mut linen = simple("Linen Shirt", "LIN-001", 4500);
        linen["description"] = json!("Breathable flax weave");
        linen["category_ids"] = json!([id(&shirts)]);
        create(&app, &m, &linen).await;
        let mut oxford = simple("Oxford Shirt", "OXF-002", 6000);
        oxford["category_ids"] = json!([id(&shirts)]);
        create(&app, &m, &oxford).await;
        let mut mug = simple("Enamel Mug", "MUG-003", 1500);
        mug["description"] = json!("Holds a shirt's worth of coffee");
        mug["category_ids"] = json!([id(&mugs)]);
        create(&app, &m, &mug).await;

        let q = |query: &str| format!("/v1/admin/products?{query}");
        assert_eq!(titles(&app, &key, &q("q=oxford")).await, ["Oxford Shirt"], "a word of the title");
        assert_eq!(titles(&app, &key, &q("q=FLAX")).await, ["Linen Shirt"], "a word of the description");
        assert_eq!(titles(&app, &key, &q("q=MUG-003")).await, ["Enamel Mug"], "a sku");
        assert_eq!(titles(&app, &key, &q("q=shirt")).await, ["Enamel Mug", "Linen Shirt", "Oxford Shirt"]);
        assert_eq!(titles(&app, &key, &q("q=shirt%20linen")).await, ["Linen Shirt"], "every word must match");
        assert_eq!(titles(&app, &key, &q("q=breath*")).await, ["Linen Shirt"], "a prefix");
        assert!(titles(&app, &key, &q("q=breath")).await.is_empty(), "no prefix without *");
        // Search syntax is taken literally, never as syntax (nor as an error).
        for hostile in
            ["%22", "shirt%20OR%20mug", "NEAR(shirt", "*", "-shirt", "a:b", "%27%3B--", "shirt)%20(", "!!"]
        {
            let r = app.get(&q(&format!("q={hostile}")), &key).await;
            assert_eq!(r.status, 200, "q={hostile}: {:#}", r.body);
        }
        // Category by id or handle, with search and price.
        assert_eq!(
            titles(&app, &key, &q(&format!("category={}", id(&shirts)))).await,
            ["Linen Shirt", "Oxford Shirt"]
        );
        assert_eq!(titles(&app, &key, &q("category=cups")).await, ["Enamel Mug"]);
        assert_eq!(titles(&app, &key, &q("category=shirts&q=shirt")).await, ["Linen Shirt", "Oxford Shirt"]);
        assert!(titles(&app, &key, &q("category=nope")).await.is_empty());
        assert_eq!(titles(&app, &key, &q("min_price=4500")).await, ["Linen Shirt", "Oxford Shirt"]);
        assert_eq!(titles(&app, &key, &q("max_price=4500")).await, ["Enamel Mug", "Linen Shirt"]);
        assert_eq!(titles(&app, &key, &q("min_price=2000&max_price=5000&q=shirt")).await, ["Linen Shirt"]);
        app.get(&q("min_price=-1"), &key).await.problem(422, "validation_failed");
        app.get(&q("min_price=cheap"), &key).await.problem(422, "validation_failed");
        // A price change moves the product in price filters.
        let oxford = &list(&app, &key, &q("q=oxford")).await[0];
        let vid = oxford["variants"][0]["id"].as_str().unwrap();
        let body = json!({"variants": [{"id": vid, "price": {"amount": 3000, "currency": "USD"}}]});
        app.patch(&format!("/v1/admin/products/{}", id(oxford)), &key, &body).await.expect(200);
        assert_eq!(titles(&app, &key, &q("max_price=3000")).await, ["Enamel Mug", "Oxford Shirt"]);
        // The storefront searches the same way.
        assert_eq!(
            titles(&app, &m.publishable_key, "/v1/store/products?q=flax&category=shirts").await,
            ["Linen Shirt"]
        );
        // The category filter follows a patch of the categories.
        let body = json!({"category_ids": [id(&mugs), id(&shirts)]});
        let patched = app.patch(&format!("/v1/admin/products/{}", id(oxford)), &key, &body).await.expect(200);
        assert_eq!(patched["category_ids"].as_array().unwrap().len(), 2);
        assert_eq!(titles(&app, &key, &q("category=cups")).await, ["Enamel Mug", "Oxford Shirt"]);
    }
);

on_both_databases!(pagination_is_stable_under_inserts, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let mut originals = Vec::new();
    for i in 0..7 {
        originals
            .push(id(&create(&app, &m, &simple(&format!("Item {i}"), &format!("SKU-{i}"), 100 + i)).await));
    }
    // Ids sort by creation time (and at random within one millisecond).
    originals.sort();
    let page = app.get("/v1/admin/products?limit=3", &m.secret_key).await.expect(200);
    let mut seen: Vec<String> = page["data"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(seen, originals[..3]);
    for i in 0..3 {
        create(&app, &m, &simple(&format!("New {i}"), &format!("NEW-{i}"), 50)).await;
    }
    let mut cursor = page["next_cursor"].as_str().expect("a next page").to_owned();
    loop {
        let page =
            app.get(&format!("/v1/admin/products?limit=3&cursor={cursor}"), &m.secret_key).await.expect(200);
        seen.extend(page["data"].as_array().unwrap().iter().map(id));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert_eq!(seen.len(), 10);
    assert_eq!(seen[..7], originals[..], "no gaps, in order");
    app.get("/v1/admin/products?limit=0", &m.secret_key).await.problem(422, "validation_failed");
    app.get("/v1/admin/products?cursor=%25%25", &m.secret_key).await.problem(422, "validation_failed");
    // Categories page the same way.
    for name in ["A", "B", "C"] {
        app.post("/v1/admin/categories", &m.secret_key, &json!({"name": name})).await.expect(201);
    }
    let first = app.get("/v1/admin/categories?limit=2", &m.secret_key).await.expect(200);
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest =
        app.get(&format!("/v1/admin/categories?limit=2&cursor={cursor}"), &m.secret_key).await.expect(200);
    assert_eq!(rest["data"][0]["name"], "C");
    assert!(rest["next_cursor"].is_null());
});

on_both_databases!(store_shows_only_active_products_and_finds_them_by_handle, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let pk = m.publishable_key.clone();
    let active = create(&app, &m, &tee("Classic Tee", "TEE", "USD")).await;
    let mut draft = simple("Secret Draft", "DRAFT", 100);
    draft["status"] = json!("draft");
    let draft = create(&app, &m, &draft).await;
    let mut archived = simple("Old Thing", "OLD", 100);
    archived["status"] = json!("archived");
    let archived = create(&app, &m, &archived).await;
    let deleted = create(&app, &m, &simple("Gone", "GONE", 100)).await;
    app.delete(&format!("/v1/admin/products/{}", id(&deleted)), &m.secret_key).await.expect(204);

    assert_eq!(titles(&app, &pk, "/v1/store/products").await, ["Classic Tee"]);
    assert_eq!(
        titles(&app, &pk, "/v1/store/products?status=draft").await,
        ["Classic Tee"],
        "status is not the store's to choose"
    );
    assert_eq!(
        titles(&app, &m.secret_key, "/v1/admin/products").await,
        ["Classic Tee", "Old Thing", "Secret Draft"]
    );
    assert_eq!(titles(&app, &m.secret_key, "/v1/admin/products?status=draft").await, ["Secret Draft"]);
    let by_handle = app.get("/v1/store/products/classic-tee", &pk).await.expect(200);
    assert_eq!(by_handle, active);
    let by_id = app.get(&format!("/v1/store/products/{}", id(&active)), &pk).await.expect(200);
    assert_eq!(by_id, active);
    for hidden in [&draft, &archived, &deleted] {
        app.get(&format!("/v1/store/products/{}", id(hidden)), &pk).await.problem(404, "not_found");
    }
    app.get("/v1/store/products/secret-draft", &pk).await.problem(404, "not_found");
    // Publishing makes it visible.
    app.patch(&format!("/v1/admin/products/{}", id(&draft)), &m.secret_key, &json!({"status": "active"}))
        .await
        .expect(200);
    app.get("/v1/store/products/secret-draft", &pk).await.expect(200);
    // Keys of the wrong audience.
    app.get("/v1/store/products", &m.secret_key).await.problem(403, "forbidden");
    app.get("/v1/admin/products", &pk).await.problem(403, "forbidden");
    app.post("/v1/admin/products", &pk, &simple("X", "X", 1)).await.problem(403, "forbidden");
});

on_both_databases!(bad_product_input_is_a_clear_4xx_and_writes_nothing, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let key = m.secret_key.clone();
    let post = |body: Value| {
        let app = &app;
        let key = key.clone();
        async move { app.post("/v1/admin/products", &key, &body).await }
    };
    #[track_caller]
    fn names(p: &Value, fields: &[&str]) {
        for f in fields {
            assert!(p["errors"][f].is_string(), "{f} named in {p:#}");
        }
    }
    let p = post(json!({"title": 5, "variants": []})).await.problem(422, "validation_failed");
    names(&p, &["title"]);
    let p = post(json!({"description": "no title, no variants"})).await.problem(422, "validation_failed");
    names(&p, &["title", "variants"]);
    let p = post(json!({"title": "T", "variants": []})).await.problem(422, "validation_failed");
    names(&p, &["variants"]);
    let mut body = tee("T", "T", "USD");
    body["variants"][0]["price"]["amount"] = json!("19.99");
    names(&post(body).await.problem(422, "validation_failed"), &["variants[0].price.amount"]);
    let mut body = tee("T", "T", "USD");
    body["variants"][0]["price"]["amount"] = json!(19.99);
    names(&post(body).await.problem(422, "validation_failed"), &["variants[0].price.amount"]);
    let mut body = tee("T", "T", "USD");
    body["variants"][1]["price"] = json!({"amount": 100});
    names(&post(body).await.problem(422, "validation_failed"), &["variants[1].price.currency"]);
    names(
        &post(tee("T", "T", "XYZ")).await.problem(422, "validation_failed"),
        &["variants[0].price.currency"],
    );
    let mut body = tee("T", "T", "USD");
    body["variants"][1]["price"]["amount"] = json!(-1);
    names(&post(body).await.problem(422, "validation_failed"), &["variants[1].price.amount"]);
    let p = post(tee("T", "T", "EUR")).await.problem(422, "currency_mismatch");
    names(&p, &["variants[0].price.currency"]);
    let mut body = tee("T", "T", "USD");
    body["variants"][1]["options"]["size"] = json!("XL");
    let p = post(body).await.problem(422, "validation_failed");
    names(&p, &["variants[1].options.size"]);
    assert!(p["errors"]["variants[1].options.size"].as_str().unwrap().contains("XL"), "{p:#}");
    let mut body = tee("T", "T", "USD");
    body["variants"][1]["options"] = json!({"colour": "red"});
    names(
        &post(body).await.problem(422, "validation_failed"),
        &["variants[1].options.size", "variants[1].options.colour"],
    );
    let mut body = tee("T", "T", "USD");
    body["variants"][1]["options"]["size"] = json!("S");
    names(&post(body).await.problem(422, "validation_failed"), &["variants[1].options"]);
    let mut body = tee("T", "T", "USD");
    body["status"] = json!("live");
    names(&post(body).await.problem(422, "validation_failed"), &["status"]);
    let mut body = tee("T", "T", "USD");
    body["handle"] = json!("Not A Handle");
    body["tags"] = json!(["ok", ""]);
    names(&post(body).await.problem(422, "validation_failed"), &["handle", "tags[1]"]);
    let mut body = tee("T", "T", "USD");
    body["category_ids"] = json!(["cat_nope"]);
    names(&post(body).await.problem(422, "validation_failed"), &["category_ids[0]"]);
    let mut body = tee("T", "T", "USD");
    body["colour"] = json!("red");
    post(body).await.problem(422, "validation_failed");
    let mut body = tee("T", "T", "USD");
    body["variants"][0]["sku"] = json!("  ");
    names(&post(body).await.problem(422, "validation_failed"), &["variants[0].sku"]);
    let raw = app
        .request(Method::POST, "/v1/admin/products", Some(&key))
        .header("content-type", "application/json")
        .body("{\"title\":");
    app.send(raw).await.problem(400, "invalid_json");

    assert!(list(&app, &key, "/v1/admin/products").await.is_empty(), "nothing was written");
    assert_rows(&app, 0, 0).await;
    // The skus of the refused requests are all still free.
    create(&app, &m, &tee("T", "T", "USD")).await;

    // Bad patches are refused whole.
    let p = create(&app, &m, &tee("Patched", "P", "USD")).await;
    let path = format!("/v1/admin/products/{}", id(&p));
    let vid = p["variants"][0]["id"].as_str().unwrap();
    let bad = [
        (json!({"title": ""}), "title"),
        (json!({"status": "gone"}), "status"),
        (
            json!({"variants": [{"id": "var_nope", "price": {"amount": 1, "currency": "USD"}}]}),
            "variants[0].id",
        ),
        (
            json!({"title": "ok", "variants": [{"id": vid, "price": {"amount": -5, "currency": "USD"}}]}),
            "variants[0].price.amount",
        ),
        (json!({"category_ids": ["cat_nope"]}), "category_ids[0]"),
        (json!({"options": []}), "options"),
    ];
    for (body, field) in bad {
        let r = app.patch(&path, &key, &body).await.problem(422, "validation_failed");
        names(&r, &[field]);
    }
    let body = json!({"variants": [{"id": vid, "price": {"amount": 5, "currency": "EUR"}}]});
    app.patch(&path, &key, &body).await.problem(422, "currency_mismatch");
    assert_eq!(app.get(&path, &key).await.expect(200), p, "nothing was changed");
    assert_rows(&app, 2, 4).await;
});

on_both_databases!(a_merchant_never_sees_or_changes_another_merchants_catalog, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("globex", "USD", "US").await;
    let shirts =
        app.post("/v1/admin/categories", &a.secret_key, &json!({"name": "Shirts"})).await.expect(201);
    let mut body = tee("Classic Tee", "TEE", "USD");
    body["category_ids"] = json!([id(&shirts)]);
    let p = create(&app, &a, &body).await;
    let path = format!("/v1/admin/products/{}", id(&p));
    app.get(&path, &b.secret_key).await.problem(404, "not_found");
    app.patch(&path, &b.secret_key, &json!({"title": "Mine now"})).await.problem(404, "not_found");
    app.delete(&path, &b.secret_key).await.problem(404, "not_found");
    assert!(list(&app, &b.secret_key, "/v1/admin/products").await.is_empty());
    assert!(list(&app, &b.secret_key, "/v1/admin/products?q=tee").await.is_empty());
    assert!(list(&app, &b.secret_key, "/v1/admin/categories").await.is_empty());
    app.get(&format!("/v1/admin/categories/{}", id(&shirts)), &b.secret_key).await.problem(404, "not_found");
    app.get(&format!("/v1/store/products/{}", id(&p)), &b.publishable_key).await.problem(404, "not_found");
    app.get("/v1/store/products/classic-tee", &b.publishable_key).await.problem(404, "not_found");
    assert!(list(&app, &b.publishable_key, "/v1/store/products?category=shirts").await.is_empty());
    // B cannot file its products under A's category.
    let mut theirs = tee("Their Tee", "THEIRS", "USD");
    theirs["category_ids"] = json!([id(&shirts)]);
    app.post("/v1/admin/products", &b.secret_key, &theirs).await.problem(422, "validation_failed");
    // A's product is untouched.
    assert_eq!(app.get(&path, &a.secret_key).await.expect(200), p);
    assert_eq!(app.get("/v1/store/products/classic-tee", &a.publishable_key).await.expect(200), p);
});

on_both_databases!(categories_have_unique_handles, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let c =
        app.post("/v1/admin/categories", &m.secret_key, &json!({"name": "Summer Sale"})).await.expect(201);
    assert!(id(&c).starts_with("cat_"));
    assert_eq!(c["handle"], "summer-sale");
    let again =
        app.post("/v1/admin/categories", &m.secret_key, &json!({"name": "Summer Sale"})).await.expect(201);
    assert_eq!(again["handle"], "summer-sale-2");
    let p = app
        .post("/v1/admin/categories", &m.secret_key, &json!({"name": "Other", "handle": "summer-sale"}))
        .await
        .problem(409, "handle_taken");
    assert!(p["errors"]["handle"].is_string(), "{p:#}");
    let p = app
        .post("/v1/admin/categories", &m.secret_key, &json!({"handle": "x"}))
        .await
        .problem(422, "validation_failed");
    assert!(p["errors"]["name"].is_string(), "{p:#}");
    assert_eq!(app.get(&format!("/v1/admin/categories/{}", id(&c)), &m.secret_key).await.expect(200), c);
    assert_eq!(list(&app, &m.secret_key, "/v1/admin/categories").await.len(), 2);
});

on_both_databases!(catalog_routes_are_documented_in_openapi, |app: TestApp| async move {
    let doc = app.send(app.request(Method::GET, "/openapi.json", None)).await.expect(200);
    for (path, method) in [
        ("/v1/admin/products", "post"),
        ("/v1/admin/products", "get"),
        ("/v1/admin/products/{id}", "get"),
        ("/v1/admin/products/{id}", "patch"),
        ("/v1/admin/products/{id}", "delete"),
        ("/v1/admin/categories", "post"),
        ("/v1/admin/categories", "get"),
        ("/v1/store/products", "get"),
        ("/v1/store/products/{id_or_handle}", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} is documented");
    }
    let product = &doc["components"]["schemas"]["NewProduct"];
    assert!(product["required"].as_array().unwrap().contains(&json!("variants")), "{product:#}");
});

on_both_databases!(concurrent_creates_of_one_sku_make_exactly_one_product, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..8 {
        let req = app.request(Method::POST, "/v1/admin/products", Some(&m.secret_key)).json(&simple(
            &format!("Racer {i}"),
            "RACE-1",
            1000,
        ));
        racers.spawn(async move {
            let res = req.send().await.expect("sent");
            (res.status().as_u16(), res.json::<Value>().await.expect("json"))
        });
    }
    let replies = racers.join_all().await;
    let created = replies.iter().filter(|r| r.0 == 201).count();
    let refused = replies.iter().filter(|r| r.0 == 409 && r.1["code"] == "duplicate_sku").count();
    assert_eq!((created, refused), (1, 7), "{replies:#?}");
    assert_rows(&app, 1, 1).await;
});

on_both_databases!(a_new_size_is_an_option_value_then_a_variant, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let p = create(&app, &m, &tee("Classic Tee", "TEE", "USD")).await;
    let path = format!("/v1/admin/products/{}", id(&p));
    let large =
        json!({"sku": "TEE-L", "options": {"size": "L"}, "price": {"amount": 1500, "currency": "USD"}});
    let e =
        app.post(&format!("{path}/variants"), &m.secret_key, &large).await.problem(422, "validation_failed");
    assert!(e["errors"]["options.size"].is_string(), "L is not a value yet: {e:#}");
    // Values can be added and reordered, not removed while a variant has them, and names stay.
    let e = app
        .patch(&path, &m.secret_key, &json!({"options": [{"name": "size", "values": ["S"]}]}))
        .await
        .problem(422, "validation_failed");
    assert!(e["errors"]["options[0].values"].as_str().unwrap().contains('M'), "{e:#}");
    let e = app
        .patch(&path, &m.secret_key, &json!({"options": [{"name": "fit", "values": ["S", "M"]}]}))
        .await
        .problem(422, "validation_failed");
    assert!(e["errors"]["options"].is_string(), "{e:#}");
    let body = json!({"options": [{"name": "size", "values": ["S", "M", "L"]}]});
    app.patch(&path, &m.secret_key, &body).await.expect(200);
    // A taken sku, the wrong currency.
    let taken = json!({"sku": "TEE-S", "options": {"size": "L"}, "price": {"amount": 1, "currency": "USD"}});
    let e = app.post(&format!("{path}/variants"), &m.secret_key, &taken).await.problem(409, "duplicate_sku");
    assert!(e["errors"]["sku"].is_string(), "{e:#}");
    let euros = json!({"sku": "TEE-X", "options": {"size": "L"}, "price": {"amount": 1, "currency": "EUR"}});
    app.post(&format!("{path}/variants"), &m.secret_key, &euros).await.problem(422, "currency_mismatch");
    let v = app.post(&format!("{path}/variants"), &m.secret_key, &large).await.expect(201);
    assert!(id(&v).starts_with("var_"));
    assert_eq!(v["title"], "L");
    // The same options again.
    let mut again = large.clone();
    again["sku"] = json!("TEE-L2");
    let e =
        app.post(&format!("{path}/variants"), &m.secret_key, &again).await.problem(422, "validation_failed");
    assert!(e["errors"]["options"].is_string(), "{e:#}");
    let other = app.merchant("globex", "USD", "US").await;
    app.post(&format!("{path}/variants"), &other.secret_key, &again).await.problem(404, "not_found");
    // The product shows it last, its sku is searchable and its price the new lowest.
    let got = app.get(&path, &m.secret_key).await.expect(200);
    assert_eq!(got["variants"].as_array().unwrap().len(), 3);
    assert_eq!(got["variants"][2], v);
    assert_eq!(got["options"][0]["values"], json!(["S", "M", "L"]));
    assert_eq!(titles(&app, &m.secret_key, "/v1/admin/products?q=TEE-L").await, ["Classic Tee"]);
    assert_eq!(titles(&app, &m.secret_key, "/v1/admin/products?max_price=1500").await, ["Classic Tee"]);
    assert_rows(&app, 1, 3).await;
});

on_both_databases!(concurrent_creates_of_one_title_get_distinct_handles, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..6 {
        let req = app.request(Method::POST, "/v1/admin/products", Some(&m.secret_key)).json(&simple(
            "Same Title",
            &format!("SAME-{i}"),
            1000,
        ));
        racers.spawn(async move { req.send().await.expect("sent").json::<Value>().await.expect("json") });
    }
    let mut handles: Vec<String> = racers
        .join_all()
        .await
        .iter()
        .map(|p| p["handle"].as_str().unwrap_or_else(|| panic!("{p:#}")).to_owned())
        .collect();
    handles.sort();
    assert_eq!(
        handles,
        ["same-title", "same-title-2", "same-title-3", "same-title-4", "same-title-5", "same-title-6"]
    );
});

on_both_databases!(control_characters_are_refused_in_every_text_input, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let (sk, pk) = (m.secret_key.as_str(), m.publishable_key.as_str());
    app.post("/v1/admin/products", sk, &simple("Linen shirt", "LIN", 4900)).await.expect(201);
    for (path, key) in [("/v1/store/products", pk), ("/v1/admin/products", sk)] {
        for q in ["a%00b", "%00", "a%07", "%7F", "%C2%85"] {
            let body = app.get(&format!("{path}?q={q}"), key).await.problem(422, "validation_failed");
            assert!(body["errors"]["q"].is_string(), "the parameter is named: {body:#}");
        }
        // Tab, line breaks and everything printable are text.
        assert_eq!(
            app.get(&format!("{path}?q=linen%09shirt%0A"), key).await.expect(200)["data"][0]["title"],
            "Linen shirt"
        );
    }
    let mut bad = simple("Mug", "MUG", 1200);
    bad["variants"][0]["sku"] = json!("MUG\u{0}");
    let body = app.post("/v1/admin/products", sk, &bad).await.problem(422, "validation_failed");
    assert!(body["errors"]["variants[0].sku"].is_string(), "{body:#}");
    let body = app.post("/v1/admin/products", sk, &simple("Mug\u{1b}[2J", "MUG", 1200)).await;
    assert!(body.problem(422, "validation_failed")["errors"]["title"].is_string());
    app.get("/v1/store/products/a%00b", pk).await.problem(400, "invalid_path");
    let cart = app.post("/v1/store/carts", pk, &json!({"email": "ada\u{0}@example.com"})).await;
    assert!(cart.problem(422, "validation_failed")["errors"]["email"].is_string());
    assert_eq!(rows(&app, "product").await, 1, "nothing was written");
    assert_eq!(rows(&app, "cart").await, 0);
});

// Query errors name the parameter and say what was expected without Rust
// type names, with the same status and code as a body's.
on_both_databases!(query_and_body_errors_speak_alike, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let body =
        app.get("/v1/store/products?limit=lots", &m.publishable_key).await.problem(422, "validation_failed");
    let said = body["errors"]["limit"].as_str().unwrap();
    assert!(!said.contains("u32") && !said.contains("i64"), "{said}");
    let mut product = simple("Mug", "MUG", 1200);
    product["variants"][0]["price"]["amount"] = json!("cheap");
    let body =
        app.post("/v1/admin/products", &m.secret_key, &product).await.problem(422, "validation_failed");
    let said = body["errors"]["variants[0].price.amount"].as_str().unwrap();
    assert!(!said.contains("i64") && said.contains("integer"), "{said}");
    product["variants"][0]["price"] = json!([1]);
    let body =
        app.post("/v1/admin/products", &m.secret_key, &product).await.problem(422, "validation_failed");
    assert!(!body["detail"].as_str().unwrap().contains("struct"), "{body:#}");
});

// The storefront search takes whatever a shopper types: every string of
// printable characters, full-text syntax included, is a 200 on both
// backends (a deterministic fuzz: 300 strings drawn from syntax-heavy
// alphabets).
on_both_databases!(search_syntax_fuzz_never_fails_a_query, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    app.post("/v1/admin/products", &m.secret_key, &simple("Linen \"shirt\" (blue)", "LIN", 4900))
        .await
        .expect(201);
    let alphabet: Vec<char> =
        "ab zé\"'*():^-+{}[]<>!&|~\\/.,;#%_?=$@`NEARORANDNOT0123456789😀ß\t".chars().collect();
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let fixed = [
        "\"",
        "*",
        "NEAR(a b)",
        "a OR",
        "-a",
        "a:b",
        "^a",
        "a*b*",
        "\"\"\"",
        "(((",
        "a AND NOT",
        "{a b}: c",
        "linen\\",
        "' or 1=1 --",
        "%",
        "_",
        "%25_",
    ];
    let mut queries: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
    for _ in 0..300 {
        let len = next() % 12 + 1;
        queries.push((0..len).map(|_| alphabet[next() % alphabet.len()]).collect());
    }
    for q in queries {
        let mut url = reqwest::Url::parse("http://x/v1/store/products").unwrap();
        url.query_pairs_mut().append_pair("q", &q);
        let path = format!("{}?{}", url.path(), url.query().unwrap());
        let r = app.get(&path, &m.publishable_key).await;
        assert_eq!(r.status, 200, "q={q:?}: {:#}", r.body);
    }
});

on_both_databases!(variants_say_their_stock_status_without_quantities, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let sk = m.secret_key.as_str();
    let location =
        app.post("/v1/admin/locations", sk, &json!({"name": "Main", "country": "US"})).await.expect(201);
    let product = json!({"title": "Tee", "status": "active", "options": [{"name": "size", "values": ["S", "M", "L", "XL"]}],
    "variants": [
        {"sku": "S", "options": {"size": "S"}, "price": {"amount": 1000, "currency": "USD"}},
        {"sku": "M", "options": {"size": "M"}, "price": {"amount": 1000, "currency": "USD"}},
        {"sku": "L", "options": {"size": "L"}, "price": {"amount": 1000, "currency": "USD"}},
        {"sku": "XL", "options": {"size": "XL"}, "price": {"amount": 1000, "currency": "USD"}, "inventory_policy": "allow_backorder"}
    ]});
    let created = app.post("/v1/admin/products", sk, &product).await.expect(201);
    let statuses = |p: &Value| {
        p["variants"].as_array().unwrap().iter().map(|v| v["stock_status"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        statuses(&created),
        [json!("out_of_stock"), json!("out_of_stock"), json!("out_of_stock"), json!("backorder")]
    );
    for (i, on_hand) in [(0, 10), (1, 3), (2, 0)] {
        let variant = created["variants"][i]["id"].as_str().unwrap();
        let body = json!({"location_id": location["id"], "on_hand": on_hand});
        app.put(&format!("/v1/admin/inventory/{variant}"), sk, &body).await.expect(200);
    }
    let seen = app
        .get(&format!("/v1/store/products/{}", created["id"].as_str().unwrap()), &m.publishable_key)
        .await
        .expect(200);
    assert_eq!(statuses(&seen), [json!("in_stock"), json!("low"), json!("out_of_stock"), json!("backorder")]);
    let text = seen.to_string();
    assert!(!text.contains("on_hand") && !text.contains("\"available\""), "no quantities: {text}");
});
