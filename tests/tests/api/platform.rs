use mercato::db::Backend;
use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use reqwest::Method;
use serde_json::json;

on_both_databases!(operator_onboards_a_merchant_and_sees_it, |app: TestApp| async move {
    let body = json!({"name": "Acme", "slug": "acme", "default_currency": "USD", "country": "US"});
    let created = app.post("/v1/platform/merchants", &app.operator_key, &body).await.expect(201);
    assert!(created["id"].as_str().unwrap().starts_with("mer_"));
    assert!(created["secret_key"].as_str().unwrap().starts_with("sk_"));
    assert!(created["publishable_key"].as_str().unwrap().starts_with("pk_"));
    let id = created["id"].as_str().unwrap();
    let got = app.get(&format!("/v1/platform/merchants/{id}"), &app.operator_key).await.expect(200);
    assert_eq!(got["slug"], "acme");
    assert!(got.get("secret_key").is_none(), "keys are shown once");
    let list = app.get("/v1/platform/merchants", &app.operator_key).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    // The same slug again is a conflict, and nothing is written.
    app.post("/v1/platform/merchants", &app.operator_key, &body).await.problem(409, "slug_taken");
    let list = app.get("/v1/platform/merchants", &app.operator_key).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
});

on_both_databases!(bad_merchant_input_is_a_clear_4xx, |app: TestApp| async move {
    let key = app.operator_key.clone();
    let bad = json!({"name": "", "slug": "Not A Slug", "default_currency": "XYZ", "country": "usa"});
    let p = app.post("/v1/platform/merchants", &key, &bad).await.problem(422, "validation_failed");
    for field in ["name", "slug", "default_currency", "country"] {
        assert!(p["errors"][field].is_string(), "{field} named in {p:#}");
    }
    let wrong_type = json!({"name": 5, "slug": "a", "default_currency": "USD", "country": "US"});
    let p = app.post("/v1/platform/merchants", &key, &wrong_type).await.problem(422, "validation_failed");
    assert!(p["errors"]["name"].is_string(), "{p:#}");
    let missing = json!({"name": "A"});
    app.post("/v1/platform/merchants", &key, &missing).await.problem(422, "validation_failed");
    let raw = app
        .request(Method::POST, "/v1/platform/merchants", Some(&key))
        .header("content-type", "application/json")
        .body("{not json");
    app.send(raw).await.problem(400, "invalid_json");
    let text = app.request(Method::POST, "/v1/platform/merchants", Some(&key)).body("name=a");
    app.send(text).await.problem(415, "unsupported_media_type");
    // Just over the 1 MiB cap: small enough that loopback buffers take it all
    // before the server answers, so the client always reads the 413.
    let huge = json!({"name": "x".repeat((1 << 20) + 1024), "slug": "a", "default_currency": "USD", "country": "US"});
    app.post("/v1/platform/merchants", &key, &huge).await.problem(413, "payload_too_large");
    let list = app.get("/v1/platform/merchants", &key).await.expect(200);
    assert!(list["data"].as_array().unwrap().is_empty(), "nothing was written");
});

on_both_databases!(keys_are_checked_by_audience, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    app.send(app.request(Method::GET, "/v1/platform/merchants", None)).await.problem(401, "unauthorized");
    app.get("/v1/platform/merchants", "sk_unknown").await.problem(401, "unauthorized");
    app.get("/v1/platform/merchants", &m.secret_key).await.problem(403, "forbidden");
    app.get("/v1/platform/merchants", &m.publishable_key).await.problem(403, "forbidden");
    // Rotation revokes the old keys at once.
    let keys = app
        .post(&format!("/v1/platform/merchants/{}/rotate-keys", m.id), &app.operator_key, &json!({}))
        .await
        .expect(200);
    assert_ne!(keys["secret_key"], m.secret_key.as_str());
    app.get("/v1/platform/merchants", &m.secret_key).await.problem(401, "unauthorized");
    app.get("/v1/platform/merchants/mer_nope", &app.operator_key).await.problem(404, "not_found");
});

on_both_databases!(idempotency_keys_replay_or_refuse, |app: TestApp| async move {
    let body = json!({"name": "Acme", "slug": "acme", "default_currency": "USD", "country": "US"});
    let send = |body: serde_json::Value| {
        app.request(Method::POST, "/v1/platform/merchants", Some(&app.operator_key))
            .header("Idempotency-Key", "k-1")
            .json(&body)
    };
    let first = app.send(send(body.clone())).await;
    assert_eq!(first.status, 201);
    let again = app.send(send(body.clone())).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["id"], first.body["id"], "the stored response");
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    // Keys are shown once: the stored copy does not hold them.
    assert_eq!(again.body["secret_key"], "(shown once)");
    let stored: Vec<(Vec<u8>,)> =
        sqlx::query_as("select response_body from idempotency_key").fetch_all(app.db.pool()).await.unwrap();
    let stored = String::from_utf8_lossy(&stored[0].0).into_owned();
    assert!(!stored.contains(first.body["secret_key"].as_str().unwrap()), "no key in {stored}");
    let other = json!({"name": "Other", "slug": "other", "default_currency": "USD", "country": "US"});
    app.send(send(other)).await.problem(422, "idempotency_key_reused");
    let list = app.get("/v1/platform/merchants", &app.operator_key).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "one merchant for one key");
});

on_both_databases!(health_readiness_and_openapi_are_served, |app: TestApp| async move {
    let health = app.send(app.request(Method::GET, "/healthz", None)).await.expect(200);
    assert_eq!(health["status"], "ok");
    app.send(app.request(Method::GET, "/readyz", None)).await.expect(200);
    let res = app.send(app.request(Method::GET, "/healthz", None)).await;
    assert!(res.headers.get("x-request-id").is_some(), "every response carries a request id");
    let doc = app.send(app.request(Method::GET, "/openapi.json", None)).await.expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/v1/platform/merchants"]["post"].is_object());
    app.send(app.request(Method::GET, "/v1/no-such-thing", None)).await.problem(404, "not_found");
    app.send(app.request(Method::DELETE, "/healthz", None)).await.problem(405, "method_not_allowed");
});

on_both_databases!(bad_paths_and_oversized_raw_bodies_are_problems, |app: TestApp| async move {
    // %FF decodes to a byte that is not UTF-8.
    let bad = app.get("/v1/platform/merchants/%FF", &app.operator_key).await.problem(400, "invalid_path");
    assert!(bad["detail"].as_str().unwrap().contains("UTF-8"), "{bad}");
    let huge = vec![b'x'; mercato::http::MAX_BODY_BYTES + 1];
    let hook = app.request(Method::POST, "/v1/hooks/payments/mer_x/plg_x", None).body(huge);
    app.send(hook).await.problem(413, "payload_too_large");
    // Nothing was created on the way.
    let list = app.get("/v1/platform/merchants", &app.operator_key).await.expect(200);
    assert!(list["data"].as_array().unwrap().is_empty());
});

/// The idempotency layer applies to every POST but the customer login, and
/// the OpenAPI document says so on each of them.
#[tokio::test]
async fn openapi_documents_the_idempotency_key_on_every_post() {
    let app = mercato_tests::app::spawn_app(mercato::db::Backend::Sqlite).await.unwrap();
    let doc = app.send(app.request(Method::GET, "/openapi.json", None)).await.expect(200);
    let mut posts = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(post) = item.get("post") else { continue };
        let keyed = post["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "idempotency-key" && p["in"] == "header"));
        assert_eq!(keyed, !path.ends_with("/customers/login"), "{path}");
        posts += 1;
    }
    assert!(posts > 20, "{posts} POST routes");
}

/// Every route of the contract (shared/API.md, all but carts, checkout and
/// orders) is described in the generated OpenAPI document.
#[tokio::test]
async fn openapi_describes_every_route_of_the_contract() {
    let app = mercato_tests::app::spawn_app(mercato::db::Backend::Sqlite).await.unwrap();
    let doc = app.send(app.request(Method::GET, "/openapi.json", None)).await.expect(200);
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("post", "/v1/platform/merchants"),
        ("get", "/v1/platform/merchants"),
        ("get", "/v1/platform/merchants/{id}"),
        ("post", "/v1/platform/plugins"),
        ("get", "/v1/platform/plugins"),
        ("get", "/v1/platform/plugins/{id}"),
        ("put", "/v1/admin/plugin-bindings/{extension_point}"),
        ("get", "/v1/admin/plugin-bindings"),
        ("post", "/v1/admin/products"),
        ("get", "/v1/admin/products"),
        ("get", "/v1/admin/products/{id}"),
        ("patch", "/v1/admin/products/{id}"),
        ("delete", "/v1/admin/products/{id}"),
        ("post", "/v1/admin/categories"),
        ("get", "/v1/admin/categories"),
        ("post", "/v1/admin/locations"),
        ("get", "/v1/admin/locations"),
        ("put", "/v1/admin/inventory/{variant_id}"),
        ("get", "/v1/admin/inventory"),
        ("post", "/v1/admin/discount-codes"),
        ("get", "/v1/admin/discount-codes"),
        ("get", "/v1/admin/customers"),
        ("get", "/v1/store/products"),
        ("post", "/v1/store/customers"),
        ("post", "/v1/store/customers/login"),
        ("get", "/v1/store/customers/me"),
        ("get", "/v1/store/customers/me/wishlist"),
        ("post", "/v1/store/customers/me/wishlist"),
    ];
    let mut missing = Vec::new();
    for (method, path) in expected {
        if paths.get(path).and_then(|p| p.get(method)).is_none() {
            missing.push(format!("{method} {path}"));
        }
    }
    // Parameter names are the implementer's; the path shape is the contract.
    let shape = |p: &str| {
        p.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/")
    };
    missing.retain(|m| {
        let (method, path) = m.split_once(' ').unwrap();
        !paths.iter().any(|(p, item)| shape(p) == shape(path) && item.get(method).is_some())
    });
    for shape_only in ["/v1/store/products/{}", "/v1/store/customers/me/wishlist/{}"] {
        assert!(paths.keys().any(|p| shape(p) == shape_only), "{shape_only} is not documented");
    }
    assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
        }
    }
}

on_both_databases!(metrics_show_each_installed_plugin, |app: TestApp| async move {
    let req = app
        .request(Method::POST, "/v1/platform/plugins", Some(&app.operator_key))
        .header("content-type", "application/wasm")
        .body(mercato_tests::component("flat-tax"));
    app.send(req).await.expect(201);
    let res = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = res.text().await.unwrap();
    assert!(text.contains("mercato_plugins_installed 1"), "{text}");
    assert!(
        text.contains(
            "mercato_plugin_calls_total{plugin=\"flat-tax\",version=\"0.1.0\",extension_point=\"tax\""
        ),
        "{text}"
    );
    assert!(text.contains("# TYPE mercato_plugin_call_duration_seconds summary"), "{text}");

    // Requests count under their route template, never the ids in the path.
    let m = app.merchant("acme", "USD", "US").await;
    app.get("/v1/admin/products/prod_nothing_here", &m.secret_key).await.problem(404, "not_found");
    app.get("/v1/no/such/route", &m.secret_key).await.problem(404, "not_found");
    let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    let product = "method=\"GET\",route=\"/v1/admin/products/{id}\"";
    assert!(text.contains(&format!("mercato_http_requests_total{{{product},status=\"404\"}} 1")), "{text}");
    assert!(text.contains(&format!("mercato_http_request_duration_seconds_count{{{product}}} 1")), "{text}");
    assert!(text.contains(
        "mercato_http_requests_total{method=\"POST\",route=\"/v1/platform/plugins\",status=\"201\"} 1"
    ));
    assert!(text.contains("route=\"unmatched\",status=\"404\"} 1"), "{text}");
    assert!(text.contains("mercato_db_pool_connections{state=\"idle\"}"), "{text}");
    // SQLite's one writer: the turns taken so far (installing a plugin and
    // making a merchant wrote), and the time they were held.
    let turns =
        text.lines().find_map(|l| l.strip_prefix("mercato_db_write_turns_total ")).map(|n| n.parse::<u64>());
    let held = text
        .lines()
        .find_map(|l| l.strip_prefix("mercato_db_write_turn_seconds_total{phase=\"holding\"} "))
        .map(|s| s.parse::<f64>());
    match app.backend {
        Backend::Sqlite => {
            assert!(turns.expect("turns on SQLite").unwrap() > 0, "{text}");
            assert!(held.expect("held time on SQLite").unwrap() > 0.0, "{text}");
        }
        Backend::Postgres => assert!(turns.is_none() && held.is_none(), "no single writer: {text}"),
    }
    assert!(text.contains("mercato_checkouts_total{outcome=\"paid\"} 0"), "{text}");
    // Unless the operator says otherwise, a slot per core in each step on
    // PostgreSQL, per two cores on SQLite (where the statements run on the host's cores too).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let slots = if app.backend == Backend::Sqlite { cores.div_ceil(2) } else { cores };
    for step in ["place", "record"] {
        assert!(text.contains(&format!("mercato_checkout_slots{{step=\"{step}\"}} {slots}\n")), "{text}");
        assert!(text.contains(&format!("mercato_checkouts_waiting{{step=\"{step}\"}} 0\n")), "{text}");
    }
    for family in [
        "mercato_outbox_backlog_events",
        "mercato_webhook_deliveries_total",
        "mercato_plugin_fuel_consumed_total",
    ] {
        assert!(text.contains(&format!("# TYPE {family} ")), "{family} in {text}");
    }
    assert!(!text.contains("prod_nothing_here") && !text.contains("/v1/no/such/route"), "{text}");
});

/// Every operation declares exactly the path parameters of its template,
/// sends its errors as problem+json, lists the answers any route can give,
/// and a body the handler can do without is not required.
#[test]
fn openapi_operations_match_what_the_routes_do() {
    let doc = serde_json::to_value(mercato::http::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let template = mercato::http::openapi::template_names(path);
        for (method, op) in item.as_object().unwrap() {
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut in_path: Vec<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            in_path.sort();
            let mut expected = template.clone();
            expected.sort();
            assert_eq!(in_path, expected, "{method} {path}: path parameters");
            for p in params.iter().filter(|p| p["in"] == "path") {
                assert_eq!(p["required"], true, "{method} {path}: {p}");
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                let content = response["content"].as_object().cloned().unwrap_or_default();
                for (media, body) in &content {
                    let problem = body["schema"]["$ref"].as_str().is_some_and(|r| r.ends_with("/Problem"));
                    assert_eq!(
                        problem,
                        media == "application/problem+json",
                        "{method} {path} {status}: {media}"
                    );
                }
            }
            let responses = op["responses"].as_object().unwrap();
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(responses.contains_key("401") && responses.contains_key("403"), "{method} {path}");
            }
            if op["requestBody"].is_object() {
                assert!(responses.contains_key("415") && responses.contains_key("400"), "{method} {path}");
            }
            assert!(responses.contains_key("429"), "{method} {path}");
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked} operations");
    let create_cart = &doc["paths"]["/v1/store/carts"]["post"]["requestBody"];
    assert_ne!(create_cart["required"], true, "a cart can be created without a body: {create_cart}");
    let limit = doc["paths"]["/v1/store/products"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .cloned()
        .unwrap();
    assert_eq!((limit["in"].as_str(), limit["required"].as_bool()), (Some("query"), Some(false)), "{limit}");
    assert_eq!(
        (limit["schema"]["minimum"].as_i64(), limit["schema"]["maximum"].as_i64()),
        (Some(1), Some(100))
    );
}
