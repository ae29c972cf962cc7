use mercato::db::discounts::increment_usage;
use mercato_tests::app::{TestApp, TestMerchant};
use mercato_tests::on_both_databases;
use serde_json::{Value, json};

async fn create(app: &TestApp, m: &TestMerchant, body: &Value) -> Value {
    app.post("/v1/admin/discount-codes", &m.secret_key, body).await.expect(201)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v:#}")).to_owned()
}

on_both_databases!(discount_codes_are_created_listed_fetched_and_deleted, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let bf = create(
        &app,
        &m,
        &json!({"code": "BlackFriday", "usage_limit": 100,
                "starts_at": "2025-11-28T00:00:00-05:00", "ends_at": "2025-12-01T23:59:59.5+01:00"}),
    )
    .await;
    assert!(id(&bf).starts_with("dc_"), "{bf:#}");
    assert_eq!(bf["code"], "BlackFriday", "kept as written");
    assert_eq!(bf["usage_limit"], 100);
    assert_eq!(bf["usage_count"], 0);
    assert_eq!(bf["starts_at"], "2025-11-28T05:00:00.000Z", "normalised to UTC, with milliseconds");
    assert_eq!(bf["ends_at"], "2025-12-01T22:59:59.500Z");
    assert!(mercato::model::time::parse(bf["created_at"].as_str().unwrap()).unwrap() > 0);
    let open = create(&app, &m, &json!({"code": "WELCOME"})).await;
    assert_eq!(
        (&open["usage_limit"], &open["starts_at"], &open["ends_at"]),
        (&Value::Null, &Value::Null, &Value::Null)
    );

    assert_eq!(app.get(&format!("/v1/admin/discount-codes/{}", id(&bf)), sk).await.expect(200), bf);
    let first = app.get("/v1/admin/discount-codes?limit=1", sk).await.expect(200);
    assert_eq!(first["data"], json!([bf]), "oldest first");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = app.get(&format!("/v1/admin/discount-codes?limit=1&cursor={cursor}"), sk).await.expect(200);
    assert_eq!(second["data"], json!([open]));
    assert_eq!(second["next_cursor"], Value::Null);

    assert_eq!(
        app.delete(&format!("/v1/admin/discount-codes/{}", id(&open)), sk).await.expect(204),
        Value::Null
    );
    app.get(&format!("/v1/admin/discount-codes/{}", id(&open)), sk).await.problem(404, "not_found");
    app.delete(&format!("/v1/admin/discount-codes/{}", id(&open)), sk).await.problem(404, "not_found");
    let all = app.get("/v1/admin/discount-codes", sk).await.expect(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
});

on_both_databases!(a_code_taken_in_another_case_is_409_code_taken, |app: TestApp| async move {
    let a = app.merchant("alpha", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    create(&app, &a, &json!({"code": "SAVE10"})).await;
    let p = app
        .post("/v1/admin/discount-codes", &a.secret_key, &json!({"code": "save10"}))
        .await
        .problem(409, "code_taken");
    assert!(p["detail"].as_str().unwrap().contains("save10"), "{p:#}");
    let list = app.get("/v1/admin/discount-codes", &a.secret_key).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "nothing written");
    // Codes are unique per merchant, not across merchants.
    create(&app, &b, &json!({"code": "save10"})).await;
});

on_both_databases!(bad_discount_codes_are_422_naming_the_field, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let post = |body: Value| {
        let (app, sk) = (&app, m.secret_key.clone());
        async move { app.post("/v1/admin/discount-codes", &sk, &body).await.problem(422, "validation_failed") }
    };
    let cases = [
        (
            json!({"code": "SAVE", "starts_at": "2025-02-01T00:00:00Z", "ends_at": "2025-01-01T00:00:00Z"}),
            "ends_at",
        ),
        (
            json!({"code": "SAVE", "starts_at": "2025-01-01T00:00:00Z", "ends_at": "2025-01-01T01:00:00+01:00"}),
            "ends_at",
        ),
        (json!({"code": "SAVE", "usage_limit": 0}), "usage_limit"),
        (json!({"code": "SAVE", "usage_limit": -5}), "usage_limit"),
        (json!({"code": "SAVE", "usage_limit": "ten"}), "usage_limit"),
        (json!({"code": "SAVE 10"}), "code"),
        (json!({"code": ""}), "code"),
        (json!({"code": "X".repeat(65)}), "code"),
        (json!({"usage_limit": 5}), "code"),
        (json!({"code": "SAVE", "starts_at": "tomorrow"}), "starts_at"),
        (json!({"code": "SAVE", "ends_at": "2025-02-30T00:00:00Z"}), "ends_at"),
        (json!({"code": "SAVE", "starts_at": 1735689600000_i64}), "starts_at"),
    ];
    for (body, field) in cases {
        let p = post(body.clone()).await;
        assert!(p["errors"][field].is_string(), "{field} named for {body}: {p:#}");
    }
    let list = app.get("/v1/admin/discount-codes", &m.secret_key).await.expect(200);
    assert!(list["data"].as_array().unwrap().is_empty(), "nothing written");
});

on_both_databases!(another_merchants_discount_code_is_404, |app: TestApp| async move {
    let a = app.merchant("alpha", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    let code = create(&app, &a, &json!({"code": "ALPHA"})).await;
    let path = format!("/v1/admin/discount-codes/{}", id(&code));
    app.get(&path, &b.secret_key).await.problem(404, "not_found");
    app.delete(&path, &b.secret_key).await.problem(404, "not_found");
    let theirs = app.get("/v1/admin/discount-codes", &b.secret_key).await.expect(200);
    assert_eq!(theirs["data"], json!([]));
    app.get(&path, &a.secret_key).await.expect(200);
});

on_both_databases!(concurrent_claims_never_exceed_the_usage_limit, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let code = create(&app, &m, &json!({"code": "FIRST5", "usage_limit": 5})).await;
    let now = mercato::db::now_ms();
    // Each claim in its own transaction, as a checkout would make it.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (db, merchant, code) = (app.db.clone(), m.id.clone(), id(&code));
            tokio::spawn(async move {
                let mut tx = db.begin_write().await.unwrap();
                let claimed = increment_usage(&mut tx, &merchant, &code, now).await.unwrap();
                tx.commit().await.unwrap();
                claimed
            })
        })
        .collect();
    let mut claimed = 0;
    for task in tasks {
        claimed += usize::from(task.await.unwrap());
    }
    assert_eq!(claimed, 5);
    let got = app.get(&format!("/v1/admin/discount-codes/{}", id(&code)), &m.secret_key).await.expect(200);
    assert_eq!(got["usage_count"], 5);

    // Outside its window a code cannot be claimed either.
    let expired = create(&app, &m, &json!({"code": "GONE", "ends_at": "2020-01-01T00:00:00Z"})).await;
    let mut conn = app.db.write_turn().await.unwrap();
    assert!(!increment_usage(&mut conn, &m.id, &id(&expired), now).await.unwrap());
    drop(conn);
    // A claim rolled back with its transaction is not counted.
    let open = create(&app, &m, &json!({"code": "OPEN"})).await;
    let mut tx = app.db.begin_write().await.unwrap();
    assert!(increment_usage(&mut tx, &m.id, &id(&open), now).await.unwrap());
    tx.rollback().await.unwrap();
    let got = app.get(&format!("/v1/admin/discount-codes/{}", id(&open)), &m.secret_key).await.expect(200);
    assert_eq!(got["usage_count"], 0);
});
