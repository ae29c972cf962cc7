//! Shadow runs: a candidate bound in shadow mode beside a live binding runs
//! on real calls off the request path, its answers compared and reported,
//! never changing the live answer; promoting it makes it live in one step.

use std::time::{Duration, Instant};

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::{Bind, Shop, address, install, open_shop, product, ready_cart};
use serde_json::{Value, json};

const REPORT: &str = "/v1/admin/plugin-bindings/tax/shadow-report";

fn tax_labels(cart: &Value) -> Vec<String> {
    let lines = cart["lines"].as_array().unwrap();
    let taxes = lines.iter().flat_map(|l| l["tax_lines"].as_array().unwrap().iter());
    taxes.map(|t| t["label"].as_str().unwrap().to_owned()).collect()
}

/// The report once `shadow`'s comparison has recorded at least `calls`.
async fn report_with(app: &TestApp, shop: &Shop, shadow: &str, calls: u64) -> Value {
    let started = Instant::now();
    loop {
        let report = app.get(&format!("{REPORT}?examples=2"), shop.sk()).await.expect(200);
        let summary = report["shadows"].as_array().unwrap().iter().find(|s| s["shadow_plugin_id"] == shadow);
        if let Some(s) = summary
            && s["calls_compared"].as_u64().unwrap() >= calls
        {
            return s.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no {calls} shadow calls recorded: {report:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Prices `n` new carts (each a new input, so each a real call), checking
/// the live answer of each.
async fn carts(app: &TestApp, shop: &Shop, variant: &str, n: i64, label: &str) {
    for quantity in 1..=n {
        let cart = ready_cart(app, shop, &[(variant, quantity)], address("US", "CA")).await;
        assert_eq!(tax_labels(&cart), [label], "the live binding answers");
        assert_eq!(cart["tax_total"]["amount"], 200 * quantity, "10 % of 20.00 × {quantity}");
    }
}

on_both_databases!(a_shadow_candidate_is_compared_and_promoted, |app: TestApp| async move {
    let shop =
        open_shop(&app, "acme", "USD", "US", &[Bind::new("tax", "flat-tax", json!({"rate": "0.1"}))]).await;
    let live = shop.plugin_id("flat-tax").to_owned();
    let next = install(&app, "flat-tax-next").await;
    let tee = product(&app, &shop, "TEE", 2000, 50).await;

    // The candidate labels its taxes "Tax v2": every call differs there, and only there.
    let bind = json!({"bindings": [
        {"plugin_id": live, "config": {"rate": "0.1"}},
        {"plugin_id": next, "config": {"rate": "0.1"}, "mode": "shadow"},
    ]});
    let bound = app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &bind).await.expect(200);
    let shadow = &bound["bindings"][1];
    assert_eq!(
        (shadow["mode"].as_str(), shadow["shadows"].as_str(), shadow["sample_rate"].as_f64()),
        (Some("shadow"), Some(live.as_str()), Some(1.0))
    );
    assert_eq!(bound["bindings"][0]["mode"], "live");
    carts(&app, &shop, &tee, 4, "Tax").await;

    let s = report_with(&app, &shop, &next, 4).await;
    assert_eq!(
        (s["live_plugin"].as_str(), s["shadow_plugin"].as_str()),
        (Some("flat-tax@0.1.0"), Some("flat-tax@0.2.0"))
    );
    assert_eq!(s["calls_compared"], s["differing"], "{s:#}");
    assert_eq!((s["identical"].as_u64(), s["failed"].as_u64()), (Some(0), Some(0)), "{s:#}");
    assert!(
        s["live"]["p50_us"].as_u64().unwrap() > 0 && s["shadow"]["p99_us"].as_u64().unwrap() > 0,
        "{s:#}"
    );
    let examples = s["differences"].as_array().unwrap();
    assert_eq!(examples.len(), 2, "as many as asked: {s:#}");
    let first = &examples[0];
    // It also names another jurisdiction and leaves shipping untaxed.
    let paths: Vec<&str> = first["paths"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert!(paths.contains(&".rates[0].label") && paths.contains(&".rates[0].jurisdiction"), "{paths:?}");
    assert!(paths.iter().all(|p| p.starts_with(".rates[0].") || p.starts_with(".shipping")), "{paths:?}");
    assert_eq!(first["live_output"]["rates"][0]["label"], "Tax");
    assert_eq!(first["shadow_output"]["rates"][0]["label"], "Tax v2");
    assert_eq!(first["input_hash"].as_str().unwrap().len(), 64);

    // The same version with the same configuration answers identically.
    let same = json!({"bindings": [
        {"plugin_id": live, "config": {"rate": "0.1"}},
        {"plugin_id": live, "config": {"label": "Tax", "rate": "0.1"}, "mode": "shadow", "shadows": live},
    ]});
    app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &same).await.expect(200);
    carts(&app, &shop, &tee, 2, "Tax").await;
    let s = report_with(&app, &shop, &live, 2).await;
    assert_eq!(
        (s["identical"].as_u64(), s["differing"].as_u64()),
        (s["calls_compared"].as_u64(), Some(0)),
        "{s:#}"
    );

    // A failing candidate is reported as failing, and the shop is priced as before.
    let hostile = install(&app, "hostile-tax").await;
    let failing = json!({"bindings": [
        {"plugin_id": live, "config": {"rate": "0.1"}},
        {"plugin_id": hostile, "config": {"mode": "trap"}, "mode": "shadow", "sample_rate": 1},
    ]});
    app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &failing).await.expect(200);
    carts(&app, &shop, &tee, 2, "Tax").await;
    let s = report_with(&app, &shop, &hostile, 2).await;
    assert_eq!(s["failed"], s["calls_compared"], "{s:#}");
    let error = s["failures"][0]["error"].as_str().unwrap();
    assert!(error.starts_with("trap:") && error.contains("panicked on purpose"), "{error}");

    // A shadow binding keeps its plugin installed.
    app.delete(&format!("/v1/platform/plugins/{hostile}"), &app.operator_key)
        .await
        .problem(409, "plugin_bound");

    // Promoted: the candidate is live in one step, in the live binding's place.
    app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &bind).await.expect(200);
    let promote = "/v1/admin/plugin-bindings/tax/promote";
    app.post(promote, shop.sk(), &json!({"plugin_id": live})).await.problem(422, "not_shadowing");
    let promoted = app.post(promote, shop.sk(), &json!({"plugin_id": next})).await.expect(200);
    let bindings = promoted["bindings"].as_array().unwrap();
    assert_eq!(bindings.len(), 1, "{promoted:#}");
    assert_eq!(
        (bindings[0]["plugin_id"].as_str(), bindings[0]["mode"].as_str()),
        (Some(next.as_str()), Some("live"))
    );
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    assert_eq!(tax_labels(&cart), ["Tax v2"]);
    let report = app.get(REPORT, shop.sk()).await.expect(200);
    assert_eq!(report["shadows"], json!([]), "no shadow is left");
    let events = app.get("/v1/admin/events?type=plugin_bindings.changed", shop.sk()).await.expect(200);
    let last = events["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["data"]["before"][1]["mode"], "shadow");
    assert_eq!(last["data"]["after"][0]["plugin"], "flat-tax@0.2.0");

    // Another merchant sees none of it.
    let theirs = open_shop(&app, "other", "USD", "US", &[]).await;
    assert_eq!(app.get(REPORT, theirs.sk()).await.expect(200)["shadows"], json!([]));
    let theirs_promote = app.post(promote, theirs.sk(), &json!({"plugin_id": next})).await;
    theirs_promote.problem(422, "not_shadowing");
});

on_both_databases!(shadow_bindings_are_refused_with_the_rule_they_break, |app: TestApp| async move {
    let shop =
        open_shop(&app, "acme", "USD", "US", &[Bind::new("tax", "flat-tax", json!({"rate": "0.1"}))]).await;
    let live = shop.plugin_id("flat-tax").to_owned();
    let next = install(&app, "flat-tax-next").await;
    let shipping = install(&app, "flat-rate").await;
    let put = async |point: &str, bindings: Value| {
        app.put(&format!("/v1/admin/plugin-bindings/{point}"), shop.sk(), &json!({"bindings": bindings}))
            .await
    };
    let live_tax = json!({"plugin_id": live, "config": {"rate": "0.1"}});
    let shadow = |extra: Value| {
        let mut b = json!({"plugin_id": next, "config": {"rate": "0.1"}, "mode": "shadow"});
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };

    // No live binding to run beside.
    let refused = put("tax", json!([shadow(json!({}))])).await.problem(422, "no_live_binding");
    assert!(refused["errors"]["bindings[0].mode"].as_str().is_some(), "{refused:#}");
    put("shipping", json!([{"plugin_id": shipping, "config": {"amount": 500}}])).await.expect(200);
    let elsewhere = json!([{"plugin_id": shipping, "config": {"amount": 500}}, shadow(json!({}))]);
    let refused = put("shipping", elsewhere).await.problem(422, "wrong_extension_point");
    assert!(
        refused["errors"]["bindings[1].plugin_id"].as_str().unwrap().contains("tax plugin"),
        "{refused:#}"
    );
    let unknown = json!([live_tax, shadow(json!({"shadows": "plg_nope"}))]);
    put("tax", unknown).await.problem(422, "no_live_binding");
    let twice = json!([live_tax, shadow(json!({})), shadow(json!({}))]);
    put("tax", twice).await.problem(422, "duplicate_shadow");
    // Sample rates and fields that belong to shadows only.
    for rate in [json!(0), json!(1.5), json!(-0.1)] {
        let bad = json!([live_tax, shadow(json!({"sample_rate": rate}))]);
        let refused = put("tax", bad).await.problem(422, "validation_failed");
        assert!(refused["errors"]["bindings[1].sample_rate"].is_string(), "{refused:#}");
    }
    let live_with_rate = json!([{"plugin_id": live, "config": {"rate": "0.1"}, "sample_rate": 0.5}]);
    put("tax", live_with_rate).await.problem(422, "validation_failed");
    put("tax", json!([live_tax, shadow(json!({"mode": "sometimes"}))]))
        .await
        .problem(422, "validation_failed");
    // Payments are never run twice.
    let gateway = install(&app, "test-gateway").await;
    let pay = json!([{"plugin_id": gateway}, {"plugin_id": gateway, "mode": "shadow"}]);
    put("payment", pay).await.problem(422, "shadow_unavailable");
    app.get(&format!("{REPORT}?examples=51"), shop.sk()).await.problem(422, "validation_failed");
    app.get("/v1/admin/plugin-bindings/nope/shadow-report", shop.sk()).await.expect(404);

    // Nothing changed.
    let bindings = app.get("/v1/admin/plugin-bindings", shop.sk()).await.expect(200);
    assert_eq!(bindings["tax"].as_array().unwrap().len(), 1, "{bindings:#}");
    assert_eq!(bindings["tax"][0]["plugin_id"], live.as_str());
    assert_eq!(bindings["payment"], json!([]));

    // A sampled shadow: a share of the calls, stated back.
    let sampled = put("tax", json!([live_tax, shadow(json!({"sample_rate": 0.25}))])).await.expect(200);
    assert_eq!(sampled["bindings"][1]["sample_rate"], 0.25);
    // Upgrading the live binding keeps its shadow beside it.
    let up = json!({"plugin_id": live, "to_plugin_id": next});
    let upgraded = app.post("/v1/admin/plugin-bindings/tax/upgrade", shop.sk(), &up).await.expect(200);
    assert_eq!(upgraded["bindings"][1]["shadows"], next.as_str(), "{upgraded:#}");
});
