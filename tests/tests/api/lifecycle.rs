//! A plugin's life on the platform: disabled and enabled by the operator,
//! uninstalled once nothing binds it, a binding moved to another version
//! of its plugin in place, and every binding change kept as an event.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::{
    Bind, address, complete, install, open_shop, product, ready_cart, us_plugins, visa,
};
use serde_json::{Value, json};

fn tax_labels(cart: &Value) -> Vec<String> {
    let lines = cart["lines"].as_array().unwrap();
    lines
        .iter()
        .flat_map(|l| {
            l["tax_lines"].as_array().unwrap().iter().map(|t| t["label"].as_str().unwrap().to_owned())
        })
        .collect()
}

on_both_databases!(a_disabled_plugin_answers_as_its_bindings_say_until_enabled, |app: TestApp| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tax = shop.plugin_id("us-sales-tax").to_owned();
    let tee = product(&app, &shop, "TEE", 2000, 5).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    assert_eq!(cart["tax_total"]["amount"], 145);
    let plugin = format!("/v1/platform/plugins/{tax}");

    let off = app.patch(&plugin, &app.operator_key, &json!({"enabled": false})).await.expect(200);
    assert_eq!(off["enabled"], false);
    // Bound with on_error "fail": the cart says so, naming the plugin and why, and checkout is refused.
    let failing = app.get(&path, shop.pk()).await.expect(200);
    let warning = &failing["warnings"][0];
    assert_eq!(
        (warning["code"].as_str(), warning["reason"].as_str()),
        (Some("plugin_failed"), Some("plugin_disabled"))
    );
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("us-sales-tax@") && message.contains("disabled by the platform operator"),
        "{message}"
    );
    let id = cart["id"].as_str().unwrap();
    let refused = complete(&app, &shop, id, "while-disabled", visa()).await.problem(502, "plugin_failed");
    assert!(refused["detail"].as_str().unwrap().contains("disabled by the platform operator"), "{refused:#}");
    // Bound with on_error "skip": priced without it, with a warning that says so.
    let skip = json!({"bindings": [{"plugin_id": tax, "config": us_plugins()[2].config.clone(), "on_error": "skip"}]});
    app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &skip).await.expect(200);
    let skipped = app.get(&path, shop.pk()).await.expect(200);
    assert_eq!(skipped["tax_total"]["amount"], 0);
    let warning = &skipped["warnings"][0];
    assert_eq!(
        (warning["code"].as_str(), warning["reason"].as_str()),
        (Some("plugin_skipped"), Some("plugin_disabled"))
    );
    // The breaker counts nothing: the operator's choice is no failure of the plugin.
    let seen = app.get(&plugin, &app.operator_key).await.expect(200);
    assert_eq!((seen["enabled"].as_bool(), seen["stats"]["failures"].as_u64()), (Some(false), Some(0)));
    assert_eq!(seen["circuit"]["state"], "closed");

    let on = app.patch(&plugin, &app.operator_key, &json!({"enabled": true})).await.expect(200);
    assert_eq!(on["enabled"], true);
    assert_eq!(app.get(&path, shop.pk()).await.expect(200)["tax_total"]["amount"], 145);

    // Bad input changes nothing.
    app.patch(&plugin, &app.operator_key, &json!({})).await.problem(422, "validation_failed");
    app.patch(&plugin, &app.operator_key, &json!({"enabled": "no"})).await.expect(422);
    app.patch("/v1/platform/plugins/plg_nope", &app.operator_key, &json!({"enabled": false}))
        .await
        .expect(404);
    app.patch(&plugin, shop.sk(), &json!({"enabled": false})).await.expect(403);
    assert_eq!(app.get(&plugin, &app.operator_key).await.expect(200)["enabled"], true);
});

on_both_databases!(a_plugin_is_uninstalled_only_once_nothing_binds_it, |app: TestApp| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let flat = install(&app, "flat-tax").await;
    let bind = json!({"bindings": [{"plugin_id": flat, "config": {"rate": "0.1"}}]});
    app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &bind).await.expect(200);
    let path = format!("/v1/platform/plugins/{flat}");

    let refused = app.delete(&path, &app.operator_key).await.problem(409, "plugin_bound");
    let detail = refused["detail"].as_str().unwrap();
    assert!(detail.contains(&shop.merchant.id) && detail.contains("(tax)"), "names the binding: {detail}");
    app.get(&path, &app.operator_key).await.expect(200);

    app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &json!({"bindings": []})).await.expect(200);
    assert_eq!(app.delete(&path, &app.operator_key).await.status, 204);
    app.get(&path, &app.operator_key).await.problem(404, "not_found");
    app.delete(&path, &app.operator_key).await.problem(404, "not_found");
    let gone = app.put("/v1/admin/plugin-bindings/tax", shop.sk(), &bind).await;
    gone.problem(422, "unknown_plugin");
    // The same bytes install again.
    assert_eq!(install(&app, "flat-tax").await, flat);

    // A payment plugin that took payments stays (its orders refund through it).
    let tee = product(&app, &shop, "TEE", 2000, 5).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    complete(&app, &shop, cart["id"].as_str().unwrap(), "pay-1", visa()).await.expect(201);
    app.put("/v1/admin/plugin-bindings/payment", shop.sk(), &json!({"bindings": []})).await.expect(200);
    let gateway = format!("/v1/platform/plugins/{}", shop.plugin_id("test-gateway"));
    app.delete(&gateway, &app.operator_key).await.problem(409, "plugin_has_payments");
    app.delete(&gateway, shop.sk()).await.expect(403);
});

on_both_databases!(a_binding_moves_to_another_version_in_place, |app: TestApp| async move {
    let shop =
        open_shop(&app, "acme", "USD", "US", &[Bind::new("tax", "flat-tax", json!({"rate": "0.1"}))]).await;
    let flat = shop.plugin_id("flat-tax").to_owned();
    let next = install(&app, "flat-tax-next").await;
    let other = install(&app, "us-sales-tax").await;
    let tee = product(&app, &shop, "TEE", 2000, 5).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 1)], address("US", "CA")).await;
    let path = format!("/v1/store/carts/{}", cart["id"].as_str().unwrap());
    assert_eq!(tax_labels(&cart), ["Tax"]);
    let upgrade = "/v1/admin/plugin-bindings/tax/upgrade";

    // Refused, and nothing changes: not bound, another plugin, a config the new version refuses.
    let not_bound = json!({"plugin_id": next, "to_plugin_id": flat});
    app.post(upgrade, shop.sk(), &not_bound).await.problem(422, "not_bound");
    let another = json!({"plugin_id": flat, "to_plugin_id": other});
    let refused = app.post(upgrade, shop.sk(), &another).await.problem(422, "not_the_same_plugin");
    assert!(refused["errors"]["to_plugin_id"].as_str().is_some(), "{refused:#}");
    let bad = json!({"plugin_id": flat, "to_plugin_id": next, "config": {"rate": "lots"}});
    app.post(upgrade, shop.sk(), &bad).await.problem(422, "invalid_config");
    assert_eq!(tax_labels(&app.get(&path, shop.pk()).await.expect(200)), ["Tax"]);

    // Upgraded in place, keeping its configuration.
    let up =
        app.post(upgrade, shop.sk(), &json!({"plugin_id": flat, "to_plugin_id": next})).await.expect(200);
    assert_eq!(
        (up["bindings"][0]["plugin_id"].as_str(), up["bindings"][0]["plugin_version"].as_str()),
        (Some(next.as_str()), Some("0.2.0"))
    );
    assert_eq!(up["bindings"][0]["config"], json!({"rate": "0.1"}));
    assert_eq!(tax_labels(&app.get(&path, shop.pk()).await.expect(200)), ["Tax v2"]);
    // And back, with a new configuration.
    let back = json!({"plugin_id": next, "to_plugin_id": flat, "config": {"rate": "0.2", "label": "VAT"}});
    app.post(upgrade, shop.sk(), &back).await.expect(200);
    let cart = app.get(&path, shop.pk()).await.expect(200);
    assert_eq!(
        (tax_labels(&cart), cart["tax_total"]["amount"].as_i64()),
        (vec!["VAT".to_owned()], Some(400))
    );

    // Every change is in the shop's history: who, what before, what after.
    let events = app.get("/v1/admin/events?type=plugin_bindings.changed", shop.sk()).await.expect(200);
    let changes: Vec<&Value> = events["data"].as_array().unwrap().iter().collect();
    assert_eq!(changes.len(), 3, "the first binding and two upgrades: {events:#}");
    let last = &changes[2]["data"];
    assert_eq!(changes[2]["resource_id"], "tax");
    assert_eq!(last["changed_by"], "merchant (secret key)");
    assert_eq!(last["before"][0]["plugin"], "flat-tax@0.2.0");
    assert_eq!(last["after"][0]["plugin"], "flat-tax@0.1.0");
    // The configuration only by its hash: configurations may hold secrets, and events reach webhook receivers.
    let config = serde_json::to_string(&json!({"rate": "0.2", "label": "VAT"})).unwrap();
    let hash = mercato::commerce::ids::hash_secret(&config);
    assert_eq!(last["after"][0]["config_sha256"], hash.as_str());
    assert!(last["after"][0].get("config").is_none());
    // Another shop sees none of it.
    let theirs = open_shop(&app, "other", "USD", "US", &[]).await;
    let none = app.get("/v1/admin/events?type=plugin_bindings.changed", theirs.sk()).await.expect(200);
    assert_eq!(none["data"], json!([]));
});
