//! Storefront customers: registration, login sessions, wishlists, and the
//! admin customer list, each scoped to one merchant.

use mercato::commerce::ids::hash_secret;
use mercato_tests::app::{Reply, TestApp, TestMerchant};
use mercato_tests::on_both_databases;
use reqwest::Method;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

fn ada() -> Value {
    json!({"email": "Ada@Example.com", "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"})
}

async fn register(app: &TestApp, m: &TestMerchant, body: &Value) -> Reply {
    app.post("/v1/store/customers", &m.publishable_key, body).await
}

async fn login(app: &TestApp, m: &TestMerchant, email: &str, password: &str) -> Reply {
    app.post("/v1/store/customers/login", &m.publishable_key, &json!({"email": email, "password": password}))
        .await
}

/// Registers and logs in; returns the customer and a token.
async fn signed_in(app: &TestApp, m: &TestMerchant, email: &str) -> (Value, String) {
    let body = json!({"email": email, "password": PASSWORD, "first_name": "Test", "last_name": "Customer"});
    let customer = register(app, m, &body).await.expect(201);
    let session = login(app, m, email, PASSWORD).await.expect(200);
    (customer, session["token"].as_str().unwrap().to_owned())
}

/// A store request carrying a customer token.
async fn as_customer(
    app: &TestApp,
    method: Method,
    path: &str,
    m: &TestMerchant,
    token: &str,
    body: Option<Value>,
) -> Reply {
    let mut req = app.request(method, path, Some(&m.publishable_key)).header("X-Customer-Token", token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    app.send(req).await
}

async fn me(app: &TestApp, m: &TestMerchant, token: &str) -> Reply {
    as_customer(app, Method::GET, "/v1/store/customers/me", m, token, None).await
}

async fn wish(app: &TestApp, m: &TestMerchant, token: &str, product_id: &str) -> Reply {
    let body = json!({"product_id": product_id});
    as_customer(app, Method::POST, "/v1/store/customers/me/wishlist", m, token, Some(body)).await
}

async fn wishlist(app: &TestApp, m: &TestMerchant, token: &str, query: &str) -> Value {
    let path = format!("/v1/store/customers/me/wishlist{query}");
    as_customer(app, Method::GET, &path, m, token, None).await.expect(200)
}

async fn product(app: &TestApp, m: &TestMerchant, sku: &str, status: &str) -> String {
    let body = json!({"title": format!("Product {sku}"), "status": status, "options": [],
                      "variants": [{"sku": sku, "price": {"amount": 1000, "currency": "USD"}}]});
    let p = app.post("/v1/admin/products", &m.secret_key, &body).await.expect(201);
    p["id"].as_str().unwrap().to_owned()
}

fn product_ids(page: &Value) -> Vec<&str> {
    page["data"].as_array().unwrap().iter().map(|i| i["product_id"].as_str().unwrap()).collect()
}

on_both_databases!(a_customer_registers_logs_in_and_sees_themself, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let created = register(&app, &m, &ada()).await.expect(201);
    assert!(created["id"].as_str().unwrap().starts_with("cus_"), "{created:#}");
    assert_eq!(created["email"], "ada@example.com", "emails are normalized");
    assert_eq!(created["first_name"], "Ada");
    assert_eq!(created["last_name"], "Lovelace");
    assert!(mercato::model::time::parse(created["created_at"].as_str().unwrap()).is_ok(), "RFC 3339");
    let text = created.to_string();
    assert!(!text.contains("password") && !text.contains("argon2"), "no hash in {text}");

    let session = login(&app, &m, "  ADA@example.COM ", PASSWORD).await.expect(200);
    let token = session["token"].as_str().unwrap();
    assert!(token.starts_with("ct_"));
    assert_eq!(session["customer"], created);
    let expires_at = mercato::model::time::parse(session["expires_at"].as_str().unwrap()).unwrap();
    let now = mercato::model::time::parse(created["created_at"].as_str().unwrap()).unwrap();
    let days = (expires_at - now) as f64 / 86_400_000.0;
    assert!((29.9..30.1).contains(&days), "sessions last 30 days, not {days}");

    assert_eq!(me(&app, &m, token).await.expect(200), created);
});

on_both_databases!(logout_revokes_the_token_at_once, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let (_, token) = signed_in(&app, &m, "ada@example.com").await;
    let other = login(&app, &m, "ada@example.com", PASSWORD).await.expect(200);
    let other_token = other["token"].as_str().unwrap();
    let out =
        as_customer(&app, Method::POST, "/v1/store/customers/logout", &m, &token, Some(json!({}))).await;
    assert_eq!(out.status, 204, "{:#}", out.body);
    me(&app, &m, &token).await.problem(401, "unauthorized");
    as_customer(&app, Method::POST, "/v1/store/customers/logout", &m, &token, Some(json!({})))
        .await
        .problem(401, "unauthorized");
    // Other sessions of the same customer live on.
    me(&app, &m, other_token).await.expect(200);
});

on_both_databases!(wrong_password_and_unknown_email_get_the_same_401, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    register(&app, &m, &ada()).await.expect(201);
    let wrong =
        login(&app, &m, "ada@example.com", "not the password").await.problem(401, "invalid_credentials");
    let unknown = login(&app, &m, "nobody@example.com", PASSWORD).await.problem(401, "invalid_credentials");
    let malformed = login(&app, &m, "not-an-email", PASSWORD).await.problem(401, "invalid_credentials");
    assert_eq!(wrong, unknown, "nothing tells which was wrong");
    assert_eq!(wrong, malformed);
    assert!(!wrong.to_string().contains(PASSWORD));
    // A customer of another merchant cannot log in here.
    let b = app.merchant("bravo", "USD", "US").await;
    assert_eq!(login(&app, &b, "ada@example.com", PASSWORD).await.problem(401, "invalid_credentials"), wrong);
});

on_both_databases!(an_email_is_unique_per_merchant_not_across_merchants, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    let at_a = register(&app, &a, &ada()).await.expect(201);
    let mut again = ada();
    again["email"] = json!("ada@EXAMPLE.com");
    register(&app, &a, &again).await.problem(409, "email_taken");
    let at_b = register(&app, &b, &ada()).await.expect(201);
    assert_ne!(at_a["id"], at_b["id"], "two customers");
    let list = app.get("/v1/admin/customers", &a.secret_key).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "the conflict wrote nothing: {list:#}");
    // Each merchant's customer logs in with its own sessions.
    let token_b =
        login(&app, &b, "ada@example.com", PASSWORD).await.expect(200)["token"].as_str().unwrap().to_owned();
    assert_eq!(me(&app, &b, &token_b).await.expect(200)["id"], at_b["id"]);
});

on_both_databases!(an_expired_token_is_refused, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let (_, token) = signed_in(&app, &m, "ada@example.com").await;
    me(&app, &m, &token).await.expect(200);
    let past = mercato::db::now_ms() - 1;
    assert!(mercato::db::customers::set_session_expiry(&app.db, &hash_secret(&token), past).await.unwrap());
    me(&app, &m, &token).await.problem(401, "unauthorized");
});

on_both_databases!(
    store_customer_routes_need_a_live_token_and_a_publishable_key,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let (_, token) = signed_in(&app, &m, "ada@example.com").await;
        let no_token =
            app.get("/v1/store/customers/me", &m.publishable_key).await.problem(401, "unauthorized");
        assert!(no_token["detail"].as_str().unwrap().contains("X-Customer-Token"));
        me(&app, &m, "ct_not_a_real_token").await.problem(401, "unauthorized");
        me(&app, &m, "").await.problem(401, "unauthorized");
        // The secret key is the back office's, not the storefront's.
        let sk = app
            .request(Method::GET, "/v1/store/customers/me", Some(&m.secret_key))
            .header("X-Customer-Token", &token);
        app.send(sk).await.problem(403, "forbidden");
        let no_key =
            app.request(Method::GET, "/v1/store/customers/me", None).header("X-Customer-Token", &token);
        app.send(no_key).await.problem(401, "unauthorized");
    }
);

on_both_databases!(another_merchants_key_with_a_customer_token_is_refused, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    let (customer_a, token_a) = signed_in(&app, &a, "ada@example.com").await;
    let (customer_b, _) = signed_in(&app, &b, "bob@example.com").await;
    me(&app, &b, &token_a).await.problem(401, "unauthorized");
    as_customer(&app, Method::GET, "/v1/store/customers/me/wishlist", &b, &token_a, None)
        .await
        .problem(401, "unauthorized");
    // Admin views are scoped too: another merchant's customer is 404.
    app.get(&format!("/v1/admin/customers/{}", customer_b["id"].as_str().unwrap()), &a.secret_key)
        .await
        .problem(404, "not_found");
    let own =
        app.get(&format!("/v1/admin/customers/{}", customer_a["id"].as_str().unwrap()), &a.secret_key).await;
    assert_eq!(own.expect(200), customer_a);
});

on_both_databases!(
    admin_lists_only_its_customers_and_finds_them_by_email_prefix,
    |app: TestApp| async move {
        let a = app.merchant("acme", "USD", "US").await;
        let b = app.merchant("bravo", "USD", "US").await;
        for email in ["ada@example.com", "adam@example.com", "bob@example.com"] {
            let body = json!({"email": email, "password": PASSWORD, "first_name": "A", "last_name": "B"});
            register(&app, &a, &body).await.expect(201);
        }
        let body =
            json!({"email": "ada@other.com", "password": PASSWORD, "first_name": "B", "last_name": "B"});
        register(&app, &b, &body).await.expect(201);

        let first = app.get("/v1/admin/customers?limit=2", &a.secret_key).await.expect(200);
        let cursor = first["next_cursor"].as_str().expect("a second page");
        let second =
            app.get(&format!("/v1/admin/customers?limit=2&cursor={cursor}"), &a.secret_key).await.expect(200);
        assert!(second["next_cursor"].is_null());
        let emails: Vec<&str> = first["data"]
            .as_array()
            .unwrap()
            .iter()
            .chain(second["data"].as_array().unwrap())
            .map(|c| c["email"].as_str().unwrap())
            .collect();
        assert_eq!(
            emails,
            ["ada@example.com", "adam@example.com", "bob@example.com"],
            "oldest first, A's only"
        );

        let found = app.get("/v1/admin/customers?q=ADA", &a.secret_key).await.expect(200);
        let emails: Vec<&str> =
            found["data"].as_array().unwrap().iter().map(|c| c["email"].as_str().unwrap()).collect();
        assert_eq!(emails, ["ada@example.com", "adam@example.com"]);
        let exact = app.get("/v1/admin/customers?q=ada%40", &a.secret_key).await.expect(200);
        assert_eq!(exact["data"].as_array().unwrap().len(), 1);
        let wildcard = app.get("/v1/admin/customers?q=%25", &a.secret_key).await.expect(200);
        assert!(wildcard["data"].as_array().unwrap().is_empty(), "q is a prefix, not a pattern");

        let for_b = app.get("/v1/admin/customers", &b.secret_key).await.expect(200);
        assert_eq!(for_b["data"].as_array().unwrap().len(), 1);
        assert_eq!(for_b["data"][0]["email"], "ada@other.com");
        app.get("/v1/admin/customers", &a.publishable_key).await.problem(403, "forbidden");
        app.get("/v1/admin/customers?limit=0", &a.secret_key).await.problem(422, "validation_failed");
        app.get("/v1/admin/customers/cus_nope", &a.secret_key).await.problem(404, "not_found");
    }
);

on_both_databases!(
    bad_registration_input_is_a_4xx_naming_the_field_and_writes_nothing,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let cases = [
            (
                json!({"email": "ada@example.com", "password": "short", "first_name": "A", "last_name": "B"}),
                "password",
            ),
            (
                json!({"email": "ada@example.com", "password": "x".repeat(129), "first_name": "A", "last_name": "B"}),
                "password",
            ),
            (
                json!({"email": "not-an-email", "password": PASSWORD, "first_name": "A", "last_name": "B"}),
                "email",
            ),
            (json!({"email": 42, "password": PASSWORD, "first_name": "A", "last_name": "B"}), "email"),
            (
                json!({"email": "ada@example.com", "password": 12345678, "first_name": "A", "last_name": "B"}),
                "password",
            ),
            (
                json!({"email": "ada@example.com", "password": PASSWORD, "first_name": "  ", "last_name": "B"}),
                "first_name",
            ),
            (json!({"email": "ada@example.com", "password": PASSWORD, "first_name": "A"}), "last_name"),
            (json!({"email": "ada@example.com", "first_name": "A", "last_name": "B"}), "password"),
        ];
        for (body, field) in cases {
            let p = register(&app, &m, &body).await.problem(422, "validation_failed");
            assert!(p["errors"][field].is_string(), "{field} named in {p:#}");
            assert!(!p.to_string().contains(PASSWORD), "the password is never echoed: {p:#}");
        }
        // Every missing field is named at once.
        let p = register(&app, &m, &json!({})).await.problem(422, "validation_failed");
        for field in ["email", "password", "first_name", "last_name"] {
            assert_eq!(p["errors"][field], "is required", "{p:#}");
        }
        let extra = json!({"email": "ada@example.com", "password": PASSWORD, "first_name": "A", "last_name": "B", "admin": true});
        register(&app, &m, &extra).await.problem(422, "validation_failed");
        let raw = app
            .request(Method::POST, "/v1/store/customers", Some(&m.publishable_key))
            .header("content-type", "application/json")
            .body("{not json");
        app.send(raw).await.problem(400, "invalid_json");
        let list = app.get("/v1/admin/customers", &m.secret_key).await.expect(200);
        assert!(list["data"].as_array().unwrap().is_empty(), "nothing was written: {list:#}");
        // Login with a body of the wrong shape is a 422, not a 401.
        let p = app
            .post(
                "/v1/store/customers/login",
                &m.publishable_key,
                &json!({"email": "ada@example.com", "password": 5}),
            )
            .await
            .problem(422, "validation_failed");
        assert!(p["errors"]["password"].is_string(), "{p:#}");
    }
);

on_both_databases!(a_customer_adds_lists_and_removes_wishlist_items, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let (_, token) = signed_in(&app, &m, "ada@example.com").await;
    let tent = product(&app, &m, "TENT-1", "active").await;
    let stove = product(&app, &m, "STOVE-1", "active").await;
    assert!(wishlist(&app, &m, &token, "").await["data"].as_array().unwrap().is_empty());

    let added = wish(&app, &m, &token, &tent).await.expect(201);
    assert_eq!(added["product_id"], tent.as_str());
    let again = wish(&app, &m, &token, &tent).await.expect(200);
    assert_eq!(again, added, "adding twice keeps the first item");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    wish(&app, &m, &token, &stove).await.expect(201);
    assert_eq!(
        product_ids(&wishlist(&app, &m, &token, "").await),
        [stove.as_str(), tent.as_str()],
        "newest first"
    );

    let first = wishlist(&app, &m, &token, "?limit=1").await;
    assert_eq!(product_ids(&first), [stove.as_str()]);
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = wishlist(&app, &m, &token, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(product_ids(&second), [tent.as_str()]);
    assert!(second["next_cursor"].is_null());

    let path = format!("/v1/store/customers/me/wishlist/{tent}");
    let removed = as_customer(&app, Method::DELETE, &path, &m, &token, None).await;
    assert_eq!(removed.status, 204, "{:#}", removed.body);
    as_customer(&app, Method::DELETE, &path, &m, &token, None).await.problem(404, "not_found");
    assert_eq!(product_ids(&wishlist(&app, &m, &token, "").await), [stove.as_str()]);
});

on_both_databases!(only_active_products_of_the_merchant_can_be_wished_for, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    let (_, token) = signed_in(&app, &a, "ada@example.com").await;
    wish(&app, &a, &token, "prod_unknown").await.problem(404, "not_found");
    let draft = product(&app, &a, "DRAFT-1", "draft").await;
    wish(&app, &a, &token, &draft).await.problem(404, "not_found");
    let bs = product(&app, &b, "B-1", "active").await;
    wish(&app, &a, &token, &bs).await.problem(404, "not_found");
    let p = as_customer(&app, Method::POST, "/v1/store/customers/me/wishlist", &a, &token, Some(json!({})))
        .await
        .problem(422, "validation_failed");
    assert!(p.to_string().contains("product_id"), "{p:#}");
    assert!(wishlist(&app, &a, &token, "").await["data"].as_array().unwrap().is_empty());
});

on_both_databases!(customers_never_see_each_others_wishlists, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("bravo", "USD", "US").await;
    let (_, ada) = signed_in(&app, &a, "ada@example.com").await;
    let (_, bob) = signed_in(&app, &a, "bob@example.com").await;
    let (_, ada_at_b) = signed_in(&app, &b, "ada@example.com").await;
    let tent = product(&app, &a, "TENT-1", "active").await;
    wish(&app, &a, &ada, &tent).await.expect(201);
    assert!(wishlist(&app, &a, &bob, "").await["data"].as_array().unwrap().is_empty());
    assert!(wishlist(&app, &b, &ada_at_b, "").await["data"].as_array().unwrap().is_empty());
    let path = format!("/v1/store/customers/me/wishlist/{tent}");
    as_customer(&app, Method::DELETE, &path, &a, &bob, None).await.problem(404, "not_found");
    assert_eq!(product_ids(&wishlist(&app, &a, &ada, "").await), [tent.as_str()]);
});

on_both_databases!(customer_routes_are_documented, |app: TestApp| async move {
    let doc = app.send(app.request(Method::GET, "/openapi.json", None)).await.expect(200);
    let paths = &doc["paths"];
    for (path, method) in [
        ("/v1/store/customers", "post"),
        ("/v1/store/customers/login", "post"),
        ("/v1/store/customers/logout", "post"),
        ("/v1/store/customers/me", "get"),
        ("/v1/store/customers/me/wishlist", "get"),
        ("/v1/store/customers/me/wishlist", "post"),
        ("/v1/store/customers/me/wishlist/{product_id}", "delete"),
        ("/v1/admin/customers", "get"),
        ("/v1/admin/customers/{id}", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} documented");
        if path.contains("/me") || path.ends_with("/logout") {
            let header = &paths[path][method]["parameters"][0];
            assert_eq!(header["name"], "X-Customer-Token", "{method} {path}: {header:#}");
        }
    }
    let new_customer = &doc["components"]["schemas"]["NewCustomer"];
    let required: Vec<&str> =
        new_customer["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for field in ["email", "password", "first_name", "last_name"] {
        assert!(required.contains(&field), "{field} is required in {new_customer:#}");
    }
    assert_eq!(new_customer["properties"]["password"]["format"], "password");
});

on_both_databases!(a_customer_claims_a_guest_cart_which_takes_their_email, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let (ada, ada_token) = signed_in(&app, &m, "ada@example.com").await;
    let (_, bob_token) = signed_in(&app, &m, "bob@example.com").await;
    // A logged-in customer's new cart takes the customer's e-mail.
    let mine =
        as_customer(&app, Method::POST, "/v1/store/carts", &m, &ada_token, Some(json!({}))).await.expect(201);
    assert_eq!(mine["email"], "ada@example.com");
    assert_eq!(mine["customer_id"], ada["id"]);
    // A guest cart, in lower-case currency (answered upper-case), claimed after login.
    let guest =
        app.post("/v1/store/carts", &m.publishable_key, &json!({"currency": "usd"})).await.expect(201);
    assert_eq!(guest["currency"], "USD");
    assert!(guest["customer_id"].is_null() && guest["email"].is_null());
    let path = format!("/v1/store/carts/{}/customer", guest["id"].as_str().unwrap());
    let claimed = as_customer(&app, Method::POST, &path, &m, &ada_token, None).await.expect(200);
    assert_eq!((&claimed["customer_id"], &claimed["email"]), (&ada["id"], &json!("ada@example.com")));
    as_customer(&app, Method::POST, &path, &m, &ada_token, None).await.expect(200);
    as_customer(&app, Method::POST, &path, &m, &bob_token, None).await.problem(409, "cart_claimed");
    app.post(&path, &m.publishable_key, &json!({})).await.problem(401, "unauthorized");
    let missing = "/v1/store/carts/cart_nope/customer";
    as_customer(&app, Method::POST, missing, &m, &ada_token, None).await.problem(404, "not_found");
    // Lists say whether there is more.
    let page = app.get("/v1/admin/customers?limit=1", &m.secret_key).await.expect(200);
    assert_eq!((page["has_more"].as_bool(), page["next_cursor"].is_string()), (Some(true), true));
    let all = app.get("/v1/admin/customers", &m.secret_key).await.expect(200);
    assert_eq!(all["has_more"], false);
});
