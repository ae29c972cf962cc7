//! Plugins over HTTP: the operator installs and watches components, each
//! merchant binds them per extension point, and both survive a restart.

use std::sync::Arc;

use mercato::commerce::plugins::{self, Bindings};
use mercato::http::AppState;
use mercato::runtime::Call;
use mercato_sdk::ExtensionPoint;
use mercato_tests::app::{Reply, TestApp};
use mercato_tests::{component, on_both_databases, tax_input};
use reqwest::Method;
use serde_json::{Value, json};

/// Uploads bytes as a component.
async fn upload(app: &TestApp, key: &str, bytes: Vec<u8>) -> Reply {
    let req = app
        .request(Method::POST, "/v1/platform/plugins", Some(key))
        .header("content-type", "application/wasm");
    app.send(req.body(bytes)).await
}

/// Installs a built component, returning the plugin's id.
async fn install(app: &TestApp, name: &str) -> String {
    let p = upload(app, &app.operator_key, component(name)).await.expect(201);
    p["id"].as_str().unwrap().to_owned()
}

async fn plugin_count(app: &TestApp) -> usize {
    let list = app.get("/v1/platform/plugins", &app.operator_key).await.expect(200);
    list["data"].as_array().unwrap().len()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|b| b["plugin_id"].as_str().unwrap()).collect()
}

/// Another host over the same database, started like `serve` starts one:
/// a fresh runtime, every stored plugin loaded back. Its state is returned
/// so a test can reach its runtime and bindings.
async fn second_host(app: &TestApp) -> (String, AppState) {
    let runtime = Arc::new(mercato_tests::runtime());
    plugins::load_installed(&app.db, &runtime).await.expect("plugins load");
    let state = AppState::new(mercato::commerce::Shop::new(app.db.clone(), runtime), &app.operator_key);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let serving = state.clone();
    tokio::spawn(async move { mercato::http::serve(listener, serving).await });
    (base, state)
}

on_both_databases!(operator_installs_a_component_and_sees_its_metadata, |app: TestApp| async move {
    let bytes = component("flat-tax");
    let p = upload(&app, &app.operator_key, bytes.clone()).await.expect(201);
    assert_eq!((p["name"].as_str(), p["version"].as_str()), (Some("flat-tax"), Some("0.1.0")));
    assert_eq!(p["extension_point"], "tax");
    assert_eq!(p["contract"], "0.2.0", "the contract version the component speaks");
    assert_eq!(p["size_bytes"], bytes.len());
    let sha = p["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert_eq!(p["id"], format!("plg_{}", &sha[..24]), "the id comes from the content hash");
    assert_eq!(p["config_schema"]["required"], json!(["rate"]), "the schema is JSON, not a string");
    assert!(!p["description"].as_str().unwrap().is_empty());
    assert!(
        p["imports"].as_array().unwrap().iter().any(|i| i.as_str().unwrap().starts_with("mercato:plugin/"))
    );
    assert_eq!(p["limits"]["deadline_ms"], 50);
    assert_eq!(p["limit_overrides"], json!({}));
    assert_eq!(p["stats"]["calls"], 0);
    assert_eq!(p["circuit"], json!({"state": "closed", "open_bindings": 0}));

    // The same bytes again: the same plugin, 200 rather than 201.
    let again = upload(&app, &app.operator_key, bytes).await.expect(200);
    assert_eq!(again["id"], p["id"]);
    assert_eq!(plugin_count(&app).await, 1);

    let id = p["id"].as_str().unwrap();
    let got = app.get(&format!("/v1/platform/plugins/{id}"), &app.operator_key).await.expect(200);
    assert_eq!(got["sha256"], p["sha256"]);
    for stat in ["calls", "failures", "p50_us", "p95_us", "p99_us", "mean_fuel"] {
        assert!(got["stats"][stat].is_number(), "{stat} in {got:#}");
    }
    app.get("/v1/platform/plugins/plg_nope", &app.operator_key).await.problem(404, "not_found");

    // The list filters by extension point.
    install(&app, "flat-rate").await;
    let tax = app.get("/v1/platform/plugins?extension_point=tax", &app.operator_key).await.expect(200);
    assert_eq!(tax["data"].as_array().unwrap().len(), 1);
    assert_eq!(tax["data"][0]["id"], p["id"]);
    assert_eq!(plugin_count(&app).await, 2);
    app.get("/v1/platform/plugins?extension_point=taxes", &app.operator_key)
        .await
        .problem(422, "validation_failed");

    let doc = app.send(app.request(Method::GET, "/openapi.json", None)).await.expect(200);
    let upload_doc = &doc["paths"]["/v1/platform/plugins"]["post"];
    assert!(upload_doc["requestBody"]["content"]["application/wasm"].is_object(), "{upload_doc:#}");
    assert!(doc["paths"]["/v1/admin/plugin-bindings/{extension_point}"]["put"].is_object());
});

on_both_databases!(
    invalid_components_are_refused_with_the_reason_and_nothing_is_stored,
    |app: TestApp| async move {
        let key = app.operator_key.clone();
        let p = upload(&app, &key, b"\0asm\x01\0\0\0".to_vec()).await.problem(422, "not_a_component");
        assert!(p["detail"].as_str().unwrap().contains("core WebAssembly module"), "{p:#}");
        upload(&app, &key, b"definitely not wasm".to_vec()).await.problem(422, "not_a_component");
        let p = upload(&app, &key, component("hostile-fs")).await.problem(422, "forbidden_import");
        assert!(p["detail"].as_str().unwrap().contains("wasi:filesystem/"), "{p:#}");
        let p =
            upload(&app, &key, component("hostile-wrong-version")).await.problem(422, "unsupported_version");
        assert!(p["detail"].as_str().unwrap().contains("9.0.0"), "{p:#}");
        upload(&app, &key, component("hostile-command")).await.problem(422, "unknown_world");
        assert_eq!(plugin_count(&app).await, 0, "nothing was stored");
    }
);

on_both_databases!(the_same_name_and_version_with_other_bytes_is_a_conflict, |app: TestApp| async move {
    let first = install(&app, "flat-tax").await;
    // The same component plus a custom section: other bytes, same metadata.
    let mut other = component("flat-tax");
    other.extend_from_slice(&[0, 3, 1, b'x', b'y']);
    let p = upload(&app, &app.operator_key, other).await.problem(409, "version_exists");
    assert!(p["detail"].as_str().unwrap().contains("flat-tax@0.1.0"), "{p:#}");
    let list = app.get("/v1/platform/plugins", &app.operator_key).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], first.as_str());
    // A new version is a new plugin.
    let next = upload(&app, &app.operator_key, component("flat-tax-next")).await.expect(201);
    assert_eq!(next["version"], "0.2.0");
});

on_both_databases!(uploads_must_be_wasm_and_within_the_size_cap, |app: TestApp| async move {
    let key = app.operator_key.clone();
    let text =
        app.request(Method::POST, "/v1/platform/plugins", Some(&key)).header("content-type", "text/plain");
    app.send(text.body(component("flat-tax"))).await.problem(415, "unsupported_media_type");
    let none = app.request(Method::POST, "/v1/platform/plugins", Some(&key));
    app.send(none.body(component("flat-tax"))).await.problem(415, "unsupported_media_type");
    // Over the runtime's cap (32 MiB by default) but within a MiB of it:
    // refused with the reason; further over: 413 before anything is checked.
    let cap = mercato::runtime::DEFAULT_MAX_COMPONENT_BYTES as usize;
    let p = upload(&app, &key, vec![0; cap + 1024]).await.problem(422, "component_too_large");
    assert!(p["detail"].as_str().unwrap().contains(&cap.to_string()), "{p:#}");
    upload(&app, &key, vec![0; cap + (1 << 20) + 1024]).await.problem(413, "payload_too_large");
    assert_eq!(plugin_count(&app).await, 0);
});

on_both_databases!(
    only_the_operator_manages_plugins_and_only_merchants_bind_them,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        upload(&app, &m.secret_key, component("flat-tax")).await.problem(403, "forbidden");
        upload(&app, &m.publishable_key, component("flat-tax")).await.problem(403, "forbidden");
        app.send(app.request(Method::GET, "/v1/platform/plugins", None)).await.problem(401, "unauthorized");
        app.get("/v1/platform/plugins", &m.secret_key).await.problem(403, "forbidden");
        let limits = format!("/v1/platform/plugins/{}/limits", "plg_x");
        app.patch(&limits, &m.secret_key, &json!({})).await.problem(403, "forbidden");
        assert_eq!(plugin_count(&app).await, 0);
        app.get("/v1/admin/plugin-bindings", &app.operator_key).await.problem(403, "forbidden");
        app.get("/v1/admin/plugin-bindings", &m.publishable_key).await.problem(403, "forbidden");
        app.put("/v1/admin/plugin-bindings/tax", &m.publishable_key, &json!({"bindings": []}))
            .await
            .problem(403, "forbidden");
    }
);

on_both_databases!(a_restarted_host_loads_every_stored_plugin_with_its_limits, |app: TestApp| async move {
    let tax = install(&app, "flat-tax").await;
    let shipping = install(&app, "flat-rate").await;
    let path = format!("/v1/platform/plugins/{tax}/limits");
    app.patch(&path, &app.operator_key, &json!({"deadline_ms": 20})).await.expect(200);

    let runtime = Arc::new(mercato_tests::runtime());
    assert!(runtime.list().is_empty());
    assert_eq!(plugins::load_installed(&app.db, &runtime).await.unwrap(), 2);
    let loaded = runtime.get(&tax).expect("the tax plugin is back");
    assert_eq!(loaded.metadata.name, "flat-tax");
    assert_eq!(loaded.limits().deadline_ms, 20, "limit overrides survive a restart");
    assert_eq!(runtime.get(&shipping).unwrap().limits().deadline_ms, 50);
    // It runs: the stored bytes are the component.
    let out = runtime.tax(Call::new(&loaded, r#"{"rate":"0.1"}"#), &tax_input(1)).unwrap();
    assert_eq!(out.output.lines.len(), 1);
});

on_both_databases!(limit_overrides_apply_at_once_and_bad_ones_are_refused, |app: TestApp| async move {
    let id = install(&app, "flat-tax").await;
    let path = format!("/v1/platform/plugins/{id}/limits");
    let key = app.operator_key.clone();
    let p =
        app.patch(&path, &key, &json!({"deadline_ms": 20, "fuel_per_200_lines": 1000000})).await.expect(200);
    assert_eq!(p["limits"]["deadline_ms"], 20);
    assert_eq!(p["limits"]["fuel_per_200_lines"], 1_000_000);
    assert_eq!(p["limit_overrides"], json!({"deadline_ms": 20, "fuel_per_200_lines": 1000000}));
    app.patch(&path, &key, &json!({"deadline_ms": 0})).await.problem(422, "invalid_limits");
    let bad = app.patch(&path, &key, &json!({"deadline": 5})).await.problem(422, "validation_failed");
    assert!(bad["detail"].as_str().unwrap().contains("deadline"), "{bad:#}");
    app.patch(&path, &key, &json!({"memory_bytes": "lots"})).await.problem(422, "validation_failed");
    let got = app.get(&format!("/v1/platform/plugins/{id}"), &key).await.expect(200);
    assert_eq!(got["limits"]["deadline_ms"], 20, "refused overrides change nothing");
    // `{}` restores the defaults.
    let p = app.patch(&path, &key, &json!({})).await.expect(200);
    assert_eq!(p["limits"]["deadline_ms"], 50);
    assert_eq!(p["limit_overrides"], json!({}));
    app.patch("/v1/platform/plugins/plg_nope/limits", &key, &json!({})).await.problem(404, "not_found");
});

on_both_databases!(failing_calls_show_in_stats_and_open_the_binding_circuit, |app: TestApp| async move {
    let id = install(&app, "flat-tax").await;
    let m = app.merchant("acme", "USD", "US").await;
    let (base, host) = second_host(&app).await;
    let send = |method: Method, path: &str, key: &str| {
        app.client.request(method, format!("{base}{path}")).bearer_auth(key)
    };
    let bind = |config: Value| {
        send(Method::PUT, "/v1/admin/plugin-bindings/tax", &m.secret_key)
            .json(&json!({"bindings": [{"plugin_id": id, "config": config}]}))
    };
    // A rate its schema lets through but the plugin cannot read: every
    // call fails, and the fifth failure opens the breaker.
    app.send(bind(json!({"rate": "abc"}))).await.expect(200);
    let bound = host
        .shop
        .bindings
        .bindings_for(&host.shop.db, &host.shop.runtime, &m.id, ExtensionPoint::Tax)
        .await
        .unwrap();
    let b = &bound[0];
    for _ in 0..5 {
        let call = Call {
            plugin: &b.plugin,
            config: &b.config,
            merchant: &m.id,
            breaker: Some(&b.breaker),
            background: false,
        };
        assert!(host.shop.runtime.tax(call, &tax_input(2)).is_err());
    }
    let p = app
        .send(send(Method::GET, &format!("/v1/platform/plugins/{id}"), &app.operator_key))
        .await
        .expect(200);
    assert_eq!((p["stats"]["calls"].as_u64(), p["stats"]["failures"].as_u64()), (Some(5), Some(5)), "{p:#}");
    assert_eq!(p["circuit"], json!({"state": "open", "open_bindings": 1}));
    // The opening is an event of the merchant's, written once.
    let told = mercato::commerce::plugins::record_opened_circuits(&host.shop.db, &host.shop.bindings).await;
    assert_eq!(told.unwrap(), 1);
    let told = mercato::commerce::plugins::record_opened_circuits(&host.shop.db, &host.shop.bindings).await;
    assert_eq!(told.unwrap(), 0, "each opening once");
    let feed = app.get("/v1/admin/events?type=plugin.circuit_opened", &m.secret_key).await.expect(200);
    let opened = feed["data"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{feed:#}");
    assert_eq!(
        (opened[0]["resource_id"].as_str(), opened[0]["data"]["extension_point"].as_str()),
        (Some(&*id), Some("tax"))
    );
    assert_eq!(opened[0]["data"]["consecutive_failures"], 5);
    let metrics = app.client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let open = metrics.lines().find(|l| l.starts_with("mercato_plugin_open_circuits{")).unwrap_or_default();
    assert!(open.contains(&format!("id=\"{id}\"")) && open.ends_with("} 1"), "{metrics}");
    let listed = app.send(send(Method::GET, "/v1/platform/plugins", &app.operator_key)).await.expect(200);
    assert_eq!(listed["data"][0]["circuit"]["state"], "open");
    let mine = app.send(send(Method::GET, "/v1/admin/plugin-bindings", &m.secret_key)).await.expect(200);
    assert_eq!(mine["tax"][0]["circuit_state"], "open");
    // Saving the same binding again keeps its breaker: failures stay visible.
    let again = app.send(bind(json!({"rate": "abc"}))).await.expect(200);
    assert_eq!(again["bindings"][0]["circuit_state"], "open");
    // A fixed configuration is a new binding, with a closed breaker; it runs.
    let fixed = app.send(bind(json!({"rate": "0.1"}))).await.expect(200);
    assert_eq!(fixed["bindings"][0]["circuit_state"], "closed");
    let bound = host
        .shop
        .bindings
        .bindings_for(&host.shop.db, &host.shop.runtime, &m.id, ExtensionPoint::Tax)
        .await
        .unwrap();
    let b = &bound[0];
    let call = Call {
        plugin: &b.plugin,
        config: &b.config,
        merchant: &m.id,
        breaker: Some(&b.breaker),
        background: false,
    };
    host.shop.runtime.tax(call, &tax_input(2)).expect("the fixed binding runs");
    let p = app
        .send(send(Method::GET, &format!("/v1/platform/plugins/{id}"), &app.operator_key))
        .await
        .expect(200);
    assert_eq!(p["stats"]["calls"], 6);
    assert!(
        p["stats"]["p50_us"].as_f64().unwrap() > 0.0 && p["stats"]["mean_fuel"].as_u64().unwrap() > 0,
        "{p:#}"
    );
    assert_eq!(p["circuit"]["state"], "closed");
    // Statistics are per host: the first host made no calls.
    let here = app.get(&format!("/v1/platform/plugins/{id}"), &app.operator_key).await.expect(200);
    assert_eq!(here["stats"]["calls"], 0);
});

on_both_databases!(bindings_round_trip_in_order, |app: TestApp| async move {
    let flat = install(&app, "flat-tax").await;
    let next = install(&app, "flat-tax-next").await;
    let us = install(&app, "empty-tax").await;
    let m = app.merchant("acme", "USD", "US").await;
    let body = json!({"bindings": [
        {"plugin_id": next, "config": {"rate": "0.2"}, "on_error": "skip"},
        {"plugin_id": flat, "config": {"rate": "0.1", "label": "VAT"}},
        {"plugin_id": us},
    ]});
    let put = app.put("/v1/admin/plugin-bindings/tax", &m.secret_key, &body).await.expect(200);
    assert_eq!(put["extension_point"], "tax");
    assert_eq!(ids(&put["bindings"]), [next.as_str(), flat.as_str(), us.as_str()]);

    let all = app.get("/v1/admin/plugin-bindings", &m.secret_key).await.expect(200);
    assert_eq!(ids(&all["tax"]), [next.as_str(), flat.as_str(), us.as_str()], "order is kept");
    assert_eq!(all["tax"][0]["plugin_name"], "flat-tax");
    assert_eq!(all["tax"][0]["plugin_version"], "0.2.0");
    assert_eq!(all["tax"][0]["on_error"], "skip");
    assert_eq!(all["tax"][1]["on_error"], "fail", "fail closed by default");
    assert_eq!(all["tax"][1]["config"], json!({"rate": "0.1", "label": "VAT"}));
    assert_eq!(all["tax"][2]["config"], json!({}), "config defaults to {{}}");
    assert_eq!(all["tax"][2]["circuit_state"], "closed");
    for point in ["pricing", "shipping", "payment", "recommendations"] {
        assert_eq!(all[point], json!([]), "{point}");
    }
});

on_both_databases!(
    a_plugin_of_another_extension_point_or_an_unknown_one_is_refused,
    |app: TestApp| async move {
        let tax = install(&app, "flat-tax").await;
        let shipping = install(&app, "flat-rate").await;
        let m = app.merchant("acme", "USD", "US").await;
        let sk = &m.secret_key;
        let put = |point: &'static str, ids: Vec<&str>| {
            let config = if point == "shipping" { json!({"amount": 499}) } else { json!({"rate": "0.1"}) };
            let bindings: Vec<Value> =
                ids.iter().map(|id| json!({"plugin_id": id, "config": config})).collect();
            let (app, path) = (&app, format!("/v1/admin/plugin-bindings/{point}"));
            async move { app.put(&path, sk, &json!({ "bindings": bindings })).await }
        };
        put("tax", vec![&tax]).await.expect(200);
        let p = put("tax", vec![&tax, &shipping]).await.problem(422, "wrong_extension_point");
        assert!(p["errors"]["bindings[1].plugin_id"].as_str().unwrap().contains("shipping"), "{p:#}");
        let p = put("tax", vec!["plg_nope", &tax]).await.problem(422, "unknown_plugin");
        assert!(p["errors"]["bindings[0].plugin_id"].is_string(), "{p:#}");
        put("taxes", vec![&tax]).await.problem(404, "not_found");
        let all = app.get("/v1/admin/plugin-bindings", sk).await.expect(200);
        assert_eq!(ids(&all["tax"]), [tax.as_str()], "a refused list changes nothing");
        put("shipping", vec![&shipping]).await.expect(200);
    }
);

on_both_databases!(a_put_replaces_the_whole_list_and_takes_effect_at_once, |app: TestApp| async move {
    let flat = install(&app, "flat-tax").await;
    let next = install(&app, "flat-tax-next").await;
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let rate = json!({"rate": "0.1"});
    let both =
        json!({"bindings": [{"plugin_id": flat, "config": rate}, {"plugin_id": next, "config": rate}]});
    app.put("/v1/admin/plugin-bindings/tax", sk, &both).await.expect(200);
    let before = app.get("/v1/admin/plugin-bindings", sk).await.expect(200);
    assert_eq!(ids(&before["tax"]), [flat.as_str(), next.as_str()]);
    // Rolling back to one version is a rebind, seen by the next request.
    let one = json!({"bindings": [{"plugin_id": next, "config": {"rate": "0.05"}}]});
    app.put("/v1/admin/plugin-bindings/tax", sk, &one).await.expect(200);
    let after = app.get("/v1/admin/plugin-bindings", sk).await.expect(200);
    assert_eq!(ids(&after["tax"]), [next.as_str()]);

    // What a checkout on any host would call, read back from the database.
    let runtime = Arc::new(mercato_tests::runtime());
    plugins::load_installed(&app.db, &runtime).await.unwrap();
    let fresh = Bindings::default();
    let bound = fresh.bindings_for(&app.db, &runtime, &m.id, ExtensionPoint::Tax).await.unwrap();
    assert_eq!(bound.len(), 1);
    assert_eq!(bound[0].plugin.id, next);
    assert_eq!(bound[0].config, r#"{"rate":"0.05"}"#);
    assert!(fresh.bindings_for(&app.db, &runtime, &m.id, ExtensionPoint::Pricing).await.unwrap().is_empty());

    app.put("/v1/admin/plugin-bindings/tax", sk, &json!({"bindings": []})).await.expect(200);
    let cleared = app.get("/v1/admin/plugin-bindings", sk).await.expect(200);
    assert_eq!(cleared["tax"], json!([]));
});

on_both_databases!(merchants_see_only_their_own_bindings, |app: TestApp| async move {
    let flat = install(&app, "flat-tax").await;
    let next = install(&app, "flat-tax-next").await;
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("bolt", "USD", "US").await;
    let secret = json!({"bindings": [{"plugin_id": flat, "config": {"rate": "0.31337"}}]});
    app.put("/v1/admin/plugin-bindings/tax", &a.secret_key, &secret).await.expect(200);
    let theirs = app.get("/v1/admin/plugin-bindings", &b.secret_key).await.expect(200);
    assert_eq!(theirs["tax"], json!([]));
    assert!(!theirs.to_string().contains("0.31337"));
    let theirs = json!({"bindings": [{"plugin_id": next, "config": {"rate": "0.2"}}]});
    app.put("/v1/admin/plugin-bindings/tax", &b.secret_key, &theirs).await.expect(200);
    let mine = app.get("/v1/admin/plugin-bindings", &a.secret_key).await.expect(200);
    assert_eq!(ids(&mine["tax"]), [flat.as_str()], "B's change leaves A's bindings alone");
    assert_eq!(mine["tax"][0]["config"]["rate"], "0.31337");
});

on_both_databases!(bad_binding_input_is_a_4xx_and_writes_nothing, |app: TestApp| async move {
    let flat = install(&app, "flat-tax").await;
    let m = app.merchant("acme", "USD", "US").await;
    let sk = &m.secret_key;
    let path = "/v1/admin/plugin-bindings/tax";
    let config = json!({"rate": "0.1"});
    app.put(path, sk, &json!({"bindings": [{"plugin_id": flat, "config": config}]})).await.expect(200);

    let p = app
        .put(path, sk, &json!({"bindings": [{"plugin_id": flat, "config": "rate=0.1"}]}))
        .await
        .problem(422, "validation_failed");
    assert!(p["errors"]["bindings[0].config"].is_string(), "{p:#}");
    let p = app
        .put(path, sk, &json!({"bindings": [{"plugin_id": flat, "config": [1]}]}))
        .await
        .problem(422, "validation_failed");
    assert!(p["errors"]["bindings[0].config"].is_string(), "{p:#}");
    let p = app
        .put(path, sk, &json!({"bindings": [{"plugin_id": flat, "on_error": "retry"}]}))
        .await
        .problem(422, "validation_failed");
    assert!(p["errors"]["bindings[0].on_error"].is_string(), "{p:#}");
    let p =
        app.put(path, sk, &json!({"bindings": [{"plugin_id": 5}]})).await.problem(422, "validation_failed");
    assert!(p["errors"]["bindings[0].plugin_id"].is_string(), "{p:#}");
    app.put(path, sk, &json!({"bindings": [{"plugin_id": flat, "priority": 1}]}))
        .await
        .problem(422, "validation_failed");
    app.put(path, sk, &json!({"plugins": []})).await.problem(422, "validation_failed");
    app.put(path, sk, &json!({"bindings": {"plugin_id": flat}})).await.problem(422, "validation_failed");
    let eleven: Vec<Value> = (0..11).map(|_| json!({"plugin_id": flat})).collect();
    let p = app.put(path, sk, &json!({ "bindings": eleven })).await.problem(422, "validation_failed");
    assert!(p["errors"]["bindings"].is_string(), "{p:#}");
    let raw =
        app.request(Method::PUT, path, Some(sk)).header("content-type", "application/json").body("{not json");
    app.send(raw).await.problem(400, "invalid_json");

    let all = app.get("/v1/admin/plugin-bindings", sk).await.expect(200);
    assert_eq!(ids(&all["tax"]), [flat.as_str()], "nothing was written");
    assert_eq!(all["tax"][0]["config"], config);
});

on_both_databases!(
    a_configuration_the_plugin_schema_forbids_is_refused_at_bind_time,
    |app: TestApp| async move {
        let flat = install(&app, "flat-tax").await;
        let m = app.merchant("acme", "USD", "US").await;
        let path = "/v1/admin/plugin-bindings/tax";
        let bind = |config: Value| json!({"bindings": [{"plugin_id": flat, "config": config}]});
        let p = app.put(path, &m.secret_key, &bind(json!({"rate": 0.1, "label": ["VAT"]}))).await;
        let p = p.problem(422, "invalid_config");
        for field in ["bindings[0].config.rate", "bindings[0].config.label"] {
            assert!(p["errors"][field].is_string(), "{field} is named: {p:#}");
        }
        let p = app.put(path, &m.secret_key, &bind(json!({}))).await.problem(422, "invalid_config");
        assert!(p["errors"]["bindings[0].config"].as_str().unwrap().contains("rate"), "{p:#}");
        let all = app.get("/v1/admin/plugin-bindings", &m.secret_key).await.expect(200);
        assert_eq!(all["tax"], json!([]), "nothing was bound");
        app.put(path, &m.secret_key, &bind(json!({"rate": "0.1"}))).await.expect(200);
    }
);

on_both_databases!(limit_overrides_set_on_one_host_reach_the_others, |app: TestApp| async move {
    let id = install(&app, "flat-tax").await;
    let m = app.merchant("acme", "USD", "US").await;
    let bind = json!({"bindings": [{"plugin_id": id, "config": {"rate": "0.1"}}]});
    app.put("/v1/admin/plugin-bindings/tax", &m.secret_key, &bind).await.expect(200);
    let (_, other) = second_host(&app).await;
    let call_on_other = || async {
        let bound = other
            .shop
            .bindings
            .bindings_for(&other.shop.db, &other.shop.runtime, &m.id, ExtensionPoint::Tax)
            .await
            .unwrap();
        let b = &bound[0];
        let call =
            Call { plugin: &b.plugin, config: &b.config, merchant: &m.id, breaker: None, background: false };
        other.shop.runtime.tax(call, &tax_input(2)).map(|_| ())
    };
    call_on_other().await.expect("the other host calls it under the default limits");
    let limits = json!({"fuel_per_200_lines": 1});
    app.patch(&format!("/v1/platform/plugins/{id}/limits"), &app.operator_key, &limits).await.expect(200);
    // Within the documented delay (bindings and limits are re-read every
    // 5 s), the other host calls it under the new limits.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match call_on_other().await {
            Err(e) if e.kind.code() == "out_of_fuel" => break,
            other => assert!(std::time::Instant::now() < deadline, "the override never arrived: {other:?}"),
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    // And back to the defaults the same way.
    app.patch(&format!("/v1/platform/plugins/{id}/limits"), &app.operator_key, &json!({})).await.expect(200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while call_on_other().await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the defaults never came back");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
});

on_both_databases!(allowed_hosts_set_on_one_host_reach_the_others, |app: TestApp| async move {
    let id = install(&app, "http-gateway").await;
    let m = app.merchant("acme", "USD", "US").await;
    let config = json!({"base_url": "https://psp.example", "api_key": "k"});
    let bind = json!({"bindings": [{"plugin_id": id, "config": config}]});
    app.put("/v1/admin/plugin-bindings/payment", &m.secret_key, &bind).await.expect(200);
    let network = |hosts: Value| {
        let (app, id) = (&app, &id);
        async move {
            let body = json!({"allowed_hosts": hosts});
            app.put(&format!("/v1/platform/plugins/{id}/network"), &app.operator_key, &body)
                .await
                .expect(200);
        }
    };
    network(json!(["psp.example:443"])).await;
    // A host that starts later loads the list with the plugin.
    let (_, other) = second_host(&app).await;
    let hosts_on_other = || async {
        let bound = other
            .shop
            .bindings
            .bindings_for(&other.shop.db, &other.shop.runtime, &m.id, ExtensionPoint::Payment)
            .await
            .unwrap();
        bound[0].plugin.allowed_hosts().iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    assert_eq!(hosts_on_other().await, ["psp.example:443"]);
    // A running host picks a change up with the bindings (re-read every 5 s).
    network(json!(["psp.example:443", "backup.psp.example:443"])).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while hosts_on_other().await.len() != 2 {
        assert!(std::time::Instant::now() < deadline, "the list never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    network(json!([])).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !hosts_on_other().await.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the refusal never arrived");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
});

on_both_databases!(a_plugins_call_history_is_kept_in_windows, |app: TestApp| async move {
    use mercato_tests::shop::{address, open_shop, product, ready_cart, us_plugins};
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tax = shop.plugin_id("us-sales-tax").to_owned();
    let path = format!("/v1/platform/plugins/{tax}/history");
    let runtime = &app.state.shop.runtime;
    plugins::sample_history(runtime, 1_000);
    let tee = product(&app, &shop, "TEE", 2000, 5).await;
    ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    plugins::sample_history(runtime, 1_000 + mercato::runtime::WINDOW_MS);
    let history = app.get(&path, &app.operator_key).await.expect(200);
    assert_eq!(history["window_seconds"], 10);
    let windows = history["windows"].as_array().unwrap();
    assert_eq!(windows.len(), 1, "{history:#}");
    assert!(windows[0]["calls"].as_u64().unwrap() >= 1, "the cart's tax calls: {history:#}");
    assert_eq!(windows[0]["failures"], 0);
    assert!(windows[0]["p99_us"].as_f64().unwrap() > 0.0);
    let m = app.merchant("other", "USD", "US").await;
    app.get(&path, &m.secret_key).await.expect(403);
    app.get("/v1/platform/plugins/plg_nope/history", &app.operator_key).await.problem(404, "not_found");
});

on_both_databases!(a_schema_that_is_not_json_schema_is_refused_at_install, |app: TestApp| async move {
    let refused =
        upload(&app, &app.operator_key, component("bad-schema")).await.problem(422, "invalid_metadata");
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains("config_schema is not a valid JSON Schema"), "{detail}");
    assert_eq!(plugin_count(&app).await, 0, "nothing installed");
});
