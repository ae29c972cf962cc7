//! Plugins written in JavaScript and Python, installed and bound like any
//! other, price a cart exactly as their Rust originals do; a component that
//! imports what its world does not allow is refused, whatever its language.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use mercato_tests::shop::{Bind, address, open_shop, product, ready_cart};
use serde_json::{Value, json};

fn binds(tax: &'static str, shipping: &'static str) -> Vec<Bind> {
    vec![
        Bind::new("tax", tax, json!({"rate": "0.0725", "label": "Sales tax"})),
        Bind::new(
            "shipping",
            shipping,
            json!({"amount": 599, "free_over": 10000, "label": "Standard", "carrier": "Post", "countries": ["US"]}),
        ),
    ]
}

/// The totals and what named them, of a cart of 3 × 19.99 and 1 × 5.25.
async fn priced(
    app: &TestApp,
    slug: &str,
    tax: &'static str,
    shipping: &'static str,
) -> (Value, Vec<String>) {
    let shop = open_shop(app, slug, "USD", "US", &binds(tax, shipping)).await;
    let tee = product(app, &shop, "TEE", 1999, 10).await;
    let cap = product(app, &shop, "CAP", 525, 10).await;
    let cart = ready_cart(app, &shop, &[(&tee, 3), (&cap, 1)], address("US", "CA")).await;
    let totals = json!({
        "subtotal": cart["subtotal"], "shipping_total": cart["shipping_total"],
        "tax_total": cart["tax_total"], "total": cart["total"],
        "taxes": cart["lines"].as_array().unwrap().iter().map(|l| l["tax_lines"].clone()).collect::<Vec<_>>(),
        "shipping": cart["shipping_option"]["code"],
    });
    let id = cart["id"].as_str().unwrap();
    let explained = app.get(&format!("/v1/store/carts/{id}?explain=1"), shop.pk()).await.expect(200);
    let plugins = explained["explain"].as_array().unwrap().iter();
    (totals, plugins.map(|s| s["plugin"].as_str().unwrap().to_owned()).collect())
}

on_both_databases!(
    javascript_and_python_plugins_price_like_their_rust_originals,
    |app: TestApp| async move {
        let (rust, by) = priced(&app, "rust", "flat-tax", "flat-rate").await;
        assert_eq!(by, ["flat-rate@0.1.0", "flat-tax@0.1.0"]);
        // 3 × 19.99 + 5.25 = 65.22; 7.25 % of 65.22 and of 5.99 shipping, half-even.
        assert_eq!(rust["subtotal"]["amount"], 6522);
        assert_eq!(rust["shipping_total"]["amount"], 599);
        assert_eq!(rust["tax_total"]["amount"], 473 + 43);

        let (js, by) = priced(&app, "js", "flat-tax-js", "flat-rate-js").await;
        assert_eq!(by, ["flat-rate-js@0.1.0", "flat-tax-js@0.1.0"]);
        let (py, by) = priced(&app, "py", "flat-tax-py", "flat-rate-py").await;
        assert_eq!(by, ["flat-rate-py@0.1.0", "flat-tax-py@0.1.0"]);
        let strip = |mut v: Value| {
            // Each tax line names the plugin behind it; the rest must be equal.
            for line in v["taxes"].as_array_mut().unwrap() {
                for t in line.as_array_mut().unwrap() {
                    t.as_object_mut().unwrap().remove("plugin");
                }
            }
            v
        };
        assert_eq!(strip(js), strip(rust.clone()), "JavaScript prices as Rust does");
        assert_eq!(strip(py), strip(rust), "Python prices as Rust does");

        // What the operator sees of them: large components, importing only their world.
        let listed = app.get("/v1/platform/plugins?limit=100", &app.operator_key).await.expect(200);
        for name in ["flat-tax-js", "flat-rate-js", "flat-tax-py", "flat-rate-py"] {
            let p = listed["data"].as_array().unwrap().iter().find(|p| p["name"] == name).expect("listed");
            assert!(
                p["size_bytes"].as_u64().unwrap() > 4 << 20,
                "{name} carries its language runtime: {p:#}"
            );
            let imports = p["imports"].as_array().unwrap();
            assert!(
                imports.iter().all(|i| i.as_str().unwrap().starts_with("mercato:plugin/")),
                "{name}: {imports:?}"
            );
        }
    }
);

on_both_databases!(
    a_component_importing_outside_its_world_is_refused_in_any_language,
    |app: TestApp| async move {
        for name in ["hostile-js-imports", "hostile-py-imports"] {
            let req = app
                .request(reqwest::Method::POST, "/v1/platform/plugins", Some(&app.operator_key))
                .header("content-type", "application/wasm")
                .body(mercato_tests::component(name));
            let refused = app.send(req).await.problem(422, "forbidden_import");
            let detail = refused["detail"].as_str().unwrap();
            assert!(detail.contains("wasi:"), "{name}: names the import: {detail}");
        }
        let listed = app.get("/v1/platform/plugins", &app.operator_key).await.expect(200);
        assert_eq!(listed["data"], json!([]), "nothing was installed");
    }
);
