use std::sync::Arc;

use mercato_tests::app::{TestApp, TestMerchant};
use mercato_tests::on_both_databases;
use reqwest::Method;
use serde_json::{Value, json};

/// A one-variant product through the catalog API; its variant's id.
async fn variant(app: &TestApp, m: &TestMerchant, sku: &str) -> String {
    let body = json!({"title": format!("Product {sku}"), "status": "active", "options": [],
                      "variants": [{"sku": sku, "price": {"amount": 1000, "currency": "USD"}}]});
    let p = app.post("/v1/admin/products", &m.secret_key, &body).await.expect(201);
    p["variants"][0]["id"].as_str().unwrap_or_else(|| panic!("no variant in {p:#}")).to_owned()
}

async fn location(app: &TestApp, m: &TestMerchant, name: &str) -> String {
    let l = app.post("/v1/admin/locations", &m.secret_key, &json!({"name": name})).await.expect(201);
    l["id"].as_str().unwrap().to_owned()
}

async fn stock(app: &TestApp, m: &TestMerchant, variant: &str) -> Value {
    app.get(&format!("/v1/admin/inventory?variant_id={variant}"), &m.secret_key).await.expect(200)
}

async fn history(app: &TestApp, m: &TestMerchant, variant: &str) -> Vec<Value> {
    let page = app.get(&format!("/v1/admin/inventory/{variant}/adjustments?limit=100"), &m.secret_key).await;
    page.expect(200)["data"].as_array().unwrap().clone()
}

fn set(location: &str, on_hand: i64) -> Value {
    json!({"location_id": location, "on_hand": on_hand})
}

fn delta(location: &str, delta: i64, reason: &str) -> Value {
    json!({"location_id": location, "delta": delta, "reason": reason})
}

on_both_databases!(locations_are_created_and_listed_a_page_at_a_time, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let main = app
        .post("/v1/admin/locations", sk, &json!({"name": "Main warehouse", "country": "US"}))
        .await
        .expect(201);
    assert!(main["id"].as_str().unwrap().starts_with("loc_"), "{main:#}");
    assert_eq!(main["name"], "Main warehouse");
    assert_eq!(main["country"], "US");
    let store = app.post("/v1/admin/locations", sk, &json!({"name": "  Store  "})).await.expect(201);
    assert_eq!(store["name"], "Store");
    assert_eq!(store["country"], Value::Null);
    location(&app, &m, "Returns").await;

    let first = app.get("/v1/admin/locations?limit=2", sk).await.expect(200);
    let names: Vec<_> = first["data"].as_array().unwrap().iter().map(|l| l["name"].clone()).collect();
    assert_eq!(names, [json!("Main warehouse"), json!("Store")], "oldest first");
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let rest = app.get(&format!("/v1/admin/locations?limit=2&cursor={cursor}"), sk).await.expect(200);
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert_eq!(rest["data"][0]["name"], "Returns");
    assert_eq!(rest["next_cursor"], Value::Null);
    let one = app.get(&format!("/v1/admin/locations/{}", main["id"].as_str().unwrap()), sk).await.expect(200);
    assert_eq!(one, main);
    app.get("/v1/admin/locations/loc_nope", sk).await.problem(404, "not_found");

    let p = app
        .post("/v1/admin/locations", sk, &json!({"name": "", "country": "usa"}))
        .await
        .problem(422, "validation_failed");
    assert!(p["errors"]["name"].is_string() && p["errors"]["country"].is_string(), "{p:#}");
    let p = app
        .post("/v1/admin/locations", sk, &json!({"country": "US"}))
        .await
        .problem(422, "validation_failed");
    assert!(p["errors"]["name"].is_string(), "{p:#}");
    let all = app.get("/v1/admin/locations", sk).await.expect(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 3, "refused locations are not written");
});

on_both_databases!(stock_is_set_adjusted_and_read_as_available_per_location, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let v = variant(&app, &m, "TEE").await;
    let (main, store) = (location(&app, &m, "Main").await, location(&app, &m, "Store").await);

    let empty = stock(&app, &m, &v).await;
    assert_eq!(empty["levels"], json!([]), "no stock anywhere yet");
    assert_eq!(empty["inventory_policy"], "deny");
    assert_eq!(empty["available"], 0);

    let level = app.put(&format!("/v1/admin/inventory/{v}"), sk, &set(&main, 10)).await.expect(200);
    assert_eq!(
        (level["on_hand"].as_i64(), level["reserved"].as_i64(), level["available"].as_i64()),
        (Some(10), Some(0), Some(10))
    );
    assert_eq!(level["location_id"], main.as_str());
    app.put(&format!("/v1/admin/inventory/{v}"), sk, &set(&store, 4)).await.expect(200);
    let adjusted = app
        .post(&format!("/v1/admin/inventory/{v}/adjustments"), sk, &delta(&main, -3, "damaged"))
        .await
        .expect(201);
    assert!(adjusted["id"].as_str().unwrap().starts_with("adj_"), "{adjusted:#}");
    assert_eq!(adjusted["delta"], -3);
    assert_eq!(adjusted["on_hand_after"], 7);
    assert_eq!(adjusted["reason"], "damaged");
    assert_eq!(adjusted["level"]["available"], 7);

    let s = stock(&app, &m, &v).await;
    assert_eq!(s["variant_id"], v.as_str());
    assert_eq!(
        (s["on_hand"].as_i64(), s["reserved"].as_i64(), s["available"].as_i64()),
        (Some(11), Some(0), Some(11))
    );
    let mut levels: Vec<(String, i64, i64, i64)> = s["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let n = |k: &str| l[k].as_i64().unwrap();
            (l["location_id"].as_str().unwrap().to_owned(), n("on_hand"), n("reserved"), n("available"))
        })
        .collect();
    levels.sort();
    let mut expected = vec![(main.clone(), 7, 0, 7), (store.clone(), 4, 0, 4)];
    expected.sort();
    assert_eq!(levels, expected);

    // A count that matches changes nothing but is still recorded.
    app.put(&format!("/v1/admin/inventory/{v}"), sk, &set(&store, 4)).await.expect(200);
    assert_eq!(stock(&app, &m, &v).await["on_hand"], 11);
});

on_both_databases!(every_change_is_in_the_history_newest_first_with_its_reason, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let v = variant(&app, &m, "TEE").await;
    let (main, store) = (location(&app, &m, "Main").await, location(&app, &m, "Store").await);
    let inv = format!("/v1/admin/inventory/{v}");
    app.put(&inv, sk, &set(&main, 10)).await.expect(200);
    app.put(&inv, sk, &json!({"location_id": main, "on_hand": 8, "reason": "cycle count"})).await.expect(200);
    app.post(&format!("{inv}/adjustments"), sk, &delta(&main, 5, "received PO-1042")).await.expect(201);
    app.post(&format!("{inv}/adjustments"), sk, &delta(&store, 2, "transfer in")).await.expect(201);
    app.post(&format!("{inv}/adjustments"), sk, &delta(&main, -1, "damaged")).await.expect(201);

    let at_main: Vec<_> =
        app.get(&format!("{inv}/adjustments?location_id={main}"), sk).await.expect(200)["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["reason"].as_str().unwrap().to_owned(),
                    a["delta"].as_i64().unwrap(),
                    a["on_hand_after"].as_i64().unwrap(),
                )
            })
            .collect();
    let expected =
        [("damaged", -1, 12), ("received PO-1042", 5, 13), ("cycle count", -2, 8), ("set", 10, 10)];
    assert_eq!(
        at_main,
        expected.map(|(r, d, a)| (r.to_owned(), d, a)),
        "newest first; a set records its difference"
    );
    assert_eq!(history(&app, &m, &v).await.len(), 5, "both locations");

    // A page at a time, newest first.
    let first = app.get(&format!("{inv}/adjustments?limit=2"), sk).await.expect(200);
    let cursor = first["next_cursor"].as_str().expect("more pages");
    let second = app.get(&format!("{inv}/adjustments?limit=2&cursor={cursor}"), sk).await.expect(200);
    let third = app
        .get(&format!("{inv}/adjustments?limit=2&cursor={}", second["next_cursor"].as_str().unwrap()), sk)
        .await
        .expect(200);
    assert_eq!(third["next_cursor"], Value::Null);
    let paged: Vec<Value> =
        [first, second, third].iter().flat_map(|p| p["data"].as_array().unwrap().clone()).collect();
    assert_eq!(paged, history(&app, &m, &v).await);
});

on_both_databases!(removing_more_than_is_available_is_409_and_changes_nothing, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let v = variant(&app, &m, "TEE").await;
    let (main, store) = (location(&app, &m, "Main").await, location(&app, &m, "Store").await);
    let inv = format!("/v1/admin/inventory/{v}");
    app.put(&inv, sk, &set(&main, 3)).await.expect(200);
    let before = stock(&app, &m, &v).await;

    let p = app
        .post(&format!("{inv}/adjustments"), sk, &delta(&main, -4, "sold offline"))
        .await
        .problem(409, "insufficient_stock");
    assert!(p["detail"].as_str().unwrap().contains("reserved"), "{p:#}");
    // Nothing at a location that never had stock either.
    app.post(&format!("{inv}/adjustments"), sk, &delta(&store, -1, "sold offline"))
        .await
        .problem(409, "insufficient_stock");
    assert_eq!(stock(&app, &m, &v).await, before, "no level changed or created");
    assert_eq!(history(&app, &m, &v).await.len(), 1, "refusals are not recorded");

    // Down to exactly zero is fine.
    let last =
        app.post(&format!("{inv}/adjustments"), sk, &delta(&main, -3, "sold offline")).await.expect(201);
    assert_eq!(last["level"]["available"], 0);
    app.post(&format!("{inv}/adjustments"), sk, &delta(&main, -1, "sold offline"))
        .await
        .problem(409, "insufficient_stock");
});

on_both_databases!(a_backorder_policy_lets_stock_go_negative, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let v = variant(&app, &m, "PREORDER").await;
    let main = location(&app, &m, "Main").await;
    let inv = format!("/v1/admin/inventory/{v}");
    let policy = format!("/v1/admin/variants/{v}/inventory-policy");
    app.put(&inv, sk, &set(&main, 1)).await.expect(200);

    let s = app.patch(&policy, sk, &json!({"inventory_policy": "allow_backorder"})).await.expect(200);
    assert_eq!(s["inventory_policy"], "allow_backorder");
    let back = app.post(&format!("{inv}/adjustments"), sk, &delta(&main, -3, "preorders")).await.expect(201);
    assert_eq!((back["on_hand_after"].as_i64(), back["level"]["available"].as_i64()), (Some(-2), Some(-2)));
    let s = stock(&app, &m, &v).await;
    assert_eq!(
        (s["inventory_policy"].as_str(), s["available"].as_i64()),
        (Some("allow_backorder"), Some(-2))
    );

    // Back to deny: stock can still come in, but not go out.
    app.patch(&policy, sk, &json!({"inventory_policy": "deny"})).await.expect(200);
    app.post(&format!("{inv}/adjustments"), sk, &delta(&main, -1, "sold"))
        .await
        .problem(409, "insufficient_stock");
    let restock = app.post(&format!("{inv}/adjustments"), sk, &delta(&main, 1, "received")).await.expect(201);
    assert_eq!(restock["on_hand_after"], -1);
    let p = app
        .patch(&policy, sk, &json!({"inventory_policy": "sometimes"}))
        .await
        .problem(422, "validation_failed");
    assert!(p["errors"]["inventory_policy"].is_string(), "{p:#}");
    app.patch("/v1/admin/variants/var_nope/inventory-policy", sk, &json!({"inventory_policy": "deny"}))
        .await
        .problem(404, "not_found");
});

on_both_databases!(concurrent_adjustments_never_take_stock_below_zero, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let v = variant(&app, &m, "HOT").await;
    let main = location(&app, &m, "Main").await;
    app.put(&format!("/v1/admin/inventory/{v}"), &m.secret_key, &set(&main, 10)).await.expect(200);

    let app = Arc::new(app);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (app, sk, path, body) = (
                app.clone(),
                m.secret_key.clone(),
                format!("/v1/admin/inventory/{v}/adjustments"),
                delta(&main, -1, &format!("sale {i}")),
            );
            tokio::spawn(async move { app.post(&path, &sk, &body).await })
        })
        .collect();
    let (mut done, mut refused) = (0, 0);
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status.as_u16() {
            201 => done += 1,
            _ => {
                reply.problem(409, "insufficient_stock");
                refused += 1;
            }
        }
    }
    assert_eq!((done, refused), (10, 10));
    let s = stock(&app, &m, &v).await;
    assert_eq!((s["on_hand"].as_i64(), s["available"].as_i64()), (Some(0), Some(0)));
    let h = history(&app, &m, &v).await;
    assert_eq!(h.len(), 11, "the set and ten sales");
    let mut after: Vec<i64> = h.iter().map(|a| a["on_hand_after"].as_i64().unwrap()).collect();
    after.sort();
    assert_eq!(after, (0..=10).collect::<Vec<_>>(), "each sale saw the one before it");
});

on_both_databases!(another_merchants_variants_and_locations_are_404, |app: TestApp| async move {
    let a = app.merchant("alpha", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    let (va, la) = (variant(&app, &a, "A-1").await, location(&app, &a, "A main").await);
    let (vb, lb) = (variant(&app, &b, "B-1").await, location(&app, &b, "B main").await);
    app.put(&format!("/v1/admin/inventory/{va}"), &a.secret_key, &set(&la, 5)).await.expect(200);
    let before = stock(&app, &a, &va).await;
    let sk = &b.secret_key;

    app.get(&format!("/v1/admin/inventory?variant_id={va}"), sk).await.problem(404, "not_found");
    app.put(&format!("/v1/admin/inventory/{va}"), sk, &set(&lb, 1)).await.problem(404, "not_found");
    let p = app.put(&format!("/v1/admin/inventory/{vb}"), sk, &set(&la, 1)).await.problem(404, "not_found");
    assert!(p["errors"]["location_id"].is_string(), "{p:#}");
    app.post(&format!("/v1/admin/inventory/{va}/adjustments"), sk, &delta(&lb, 1, "x"))
        .await
        .problem(404, "not_found");
    app.post(&format!("/v1/admin/inventory/{vb}/adjustments"), sk, &delta(&la, 1, "x"))
        .await
        .problem(404, "not_found");
    app.get(&format!("/v1/admin/inventory/{va}/adjustments"), sk).await.problem(404, "not_found");
    app.get(&format!("/v1/admin/locations/{la}"), sk).await.problem(404, "not_found");
    let policy = json!({"inventory_policy": "allow_backorder"});
    app.patch(&format!("/v1/admin/variants/{va}/inventory-policy"), sk, &policy)
        .await
        .problem(404, "not_found");
    let theirs = app.get("/v1/admin/locations", sk).await.expect(200);
    assert_eq!(theirs["data"].as_array().unwrap().len(), 1);
    assert_eq!(theirs["data"][0]["id"], lb.as_str());

    assert_eq!(stock(&app, &a, &va).await, before, "A's stock is untouched");
    assert_eq!(history(&app, &a, &va).await.len(), 1);
    assert_eq!(stock(&app, &b, &vb).await["levels"], json!([]), "nothing written for B either");
});

on_both_databases!(
    bad_stock_input_is_a_clear_4xx_naming_the_field_and_writes_nothing,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let sk = &m.secret_key;
        let v = variant(&app, &m, "TEE").await;
        let main = location(&app, &m, "Main").await;
        let inv = format!("/v1/admin/inventory/{v}");
        let adj = format!("{inv}/adjustments");

        let field = |p: Value, f: &str| assert!(p["errors"][f].is_string(), "{f} named in {p:#}");
        field(app.put(&inv, sk, &set(&main, -1)).await.problem(422, "validation_failed"), "on_hand");
        field(
            app.put(&inv, sk, &json!({"location_id": main, "on_hand": "ten"}))
                .await
                .problem(422, "validation_failed"),
            "on_hand",
        );
        field(
            app.put(&inv, sk, &json!({"location_id": main, "on_hand": 1.5}))
                .await
                .problem(422, "validation_failed"),
            "on_hand",
        );
        field(
            app.put(&inv, sk, &json!({"location_id": main})).await.problem(422, "validation_failed"),
            "on_hand",
        );
        field(
            app.put(&inv, sk, &json!({"on_hand": 5})).await.problem(422, "validation_failed"),
            "location_id",
        );
        field(
            app.put(&inv, sk, &json!({"location_id": 7, "on_hand": 5}))
                .await
                .problem(422, "validation_failed"),
            "location_id",
        );
        field(app.put(&inv, sk, &set("loc_nope", 5)).await.problem(404, "not_found"), "location_id");
        field(
            app.put(&inv, sk, &json!({"location_id": main, "on_hand": 5, "reason": ""}))
                .await
                .problem(422, "validation_failed"),
            "reason",
        );
        let p = app
            .put(&inv, sk, &json!({"location_id": main, "on_hand": 5, "extra": 1}))
            .await
            .problem(422, "validation_failed");
        assert!(p["detail"].as_str().unwrap().contains("extra"), "{p:#}");
        field(
            app.put(&inv, sk, &set(&main, 1_000_000_001)).await.problem(422, "validation_failed"),
            "on_hand",
        );
        field(
            app.post(&adj, sk, &delta(&main, 0, "nothing")).await.problem(422, "validation_failed"),
            "delta",
        );
        field(
            app.post(&adj, sk, &json!({"location_id": main, "delta": 3}))
                .await
                .problem(422, "validation_failed"),
            "reason",
        );
        field(
            app.post(&adj, sk, &json!({"location_id": main, "delta": "3", "reason": "x"}))
                .await
                .problem(422, "validation_failed"),
            "delta",
        );
        field(app.post(&adj, sk, &delta("loc_nope", 3, "x")).await.problem(404, "not_found"), "location_id");
        app.put("/v1/admin/inventory/var_nope", sk, &set(&main, 5)).await.problem(404, "not_found");
        field(app.get("/v1/admin/inventory", sk).await.problem(422, "validation_failed"), "variant_id");
        app.get("/v1/admin/inventory?variant_id=var_nope", sk).await.problem(404, "not_found");
        let raw = app
            .request(Method::PUT, &inv, Some(sk))
            .header("content-type", "application/json")
            .body("{\"on_hand\":");
        app.send(raw).await.problem(400, "invalid_json");

        assert_eq!(stock(&app, &m, &v).await["levels"], json!([]), "nothing written");
        assert!(history(&app, &m, &v).await.is_empty(), "nothing recorded");
    }
);
