//! Reports against totals computed from the orders the test made, to the
//! cent: sales by day, week and month in the shop's time zone (with a
//! refund), CSV, best sellers, the cart funnel, plugin use; bad ranges and
//! settings answered 422.

use mercato::db::Backend;
use mercato_tests::app::{TestApp, spawn_app};
use mercato_tests::shop::{Shop, address, buy, open_shop, product, ready_cart, us_plugins, usd};
use serde_json::{Value, json};

macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(spawn_app(Backend::Sqlite).await.unwrap()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match spawn_app(Backend::Postgres).await {
                    Some(app) => ($body)(app).await,
                    None => eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL"),
                }
            }
        }
    };
}

fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or_else(|| panic!("an amount: {v}"))
}

both!(sales_match_the_orders_to_the_cent, |app: TestApp| async move {
    let shop: Shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let settings =
        app.patch("/v1/admin/settings", shop.sk(), &json!({"time_zone": "America/New_York"})).await;
    assert_eq!(settings.expect(200)["time_zone"], "America/New_York");
    let mug = product(&app, &shop, "MUG", 1250, 100).await;
    let tee = product(&app, &shop, "TEE", 1999, 100).await;
    let mut orders = Vec::new();
    for (n, lines) in [vec![(&mug, 1)], vec![(&mug, 2), (&tee, 1)], vec![(&tee, 3)]].into_iter().enumerate() {
        let lines: Vec<(&str, i64)> = lines.iter().map(|(v, q)| (v.as_str(), *q)).collect();
        orders.push(buy(&app, &shop, &lines, &format!("buy-{n}")).await);
    }
    let id = orders[1]["id"].as_str().unwrap();
    let refund = json!({"amount": usd(777), "reason": "scratched"});
    app.post(&format!("/v1/admin/orders/{id}/refunds"), shop.sk(), &refund).await.expect(201);
    // A cart that never checks out: in the funnel, not in sales.
    ready_cart(&app, &shop, &[(&mug, 1)], address("US", "CA")).await;

    let sum = |field: &str| orders.iter().map(|o| amount(&o[field])).sum::<i64>();
    let units: i64 = orders
        .iter()
        .flat_map(|o| o["lines"].as_array().unwrap().iter())
        .map(|l| l["quantity"].as_i64().unwrap())
        .sum();
    let total = sum("total");
    assert_eq!(total, sum("subtotal") - sum("discount_total") + sum("shipping_total") + sum("tax_total"));
    let expected = json!({
        "orders": 3, "units": units, "gross_sales": sum("subtotal"), "discounts": sum("discount_total"),
        "shipping": sum("shipping_total"), "tax": sum("tax_total"), "total": total, "refunds": 777,
        "net": total - 777, "average_order_value": (total as f64 / 3.0).round() as i64,
    });

    for interval in ["day", "week", "month"] {
        let report =
            app.get(&format!("/v1/admin/reports/sales?interval={interval}"), shop.sk()).await.expect(200);
        assert_eq!(report["time_zone"], "America/New_York");
        let usd = &report["currencies"][0];
        assert_eq!(usd["currency"], "USD");
        assert_eq!(usd["total"], expected, "{interval}: {report:#}");
        let intervals = usd["intervals"].as_array().unwrap();
        let last = intervals.last().unwrap();
        assert_eq!(last["orders"], 3, "today's {interval} holds every order: {report:#}");
        if interval == "day" {
            assert_eq!(intervals.len(), 30, "the last 30 days by default");
            assert_eq!(last["date"], report["to"]);
            // New York's midnight, in UTC: 04:00 or 05:00.
            let start = last["start"].as_str().unwrap();
            assert!(start.ends_with("T04:00:00.000Z") || start.ends_with("T05:00:00.000Z"), "{start}");
        }
    }
    let csv = app
        .send(app.request(reqwest::Method::GET, "/v1/admin/reports/sales?format=csv", Some(shop.sk())))
        .await;
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.body.as_str().unwrap().to_owned();
    let mut rows = text.lines();
    assert_eq!(
        rows.next().unwrap(),
        "currency,date,start,end,orders,units,gross_sales,discounts,shipping,tax,total,refunds,net,average_order_value"
    );
    let today = rows.last().unwrap();
    let major = |minor: i64| format!("{}.{:02}", minor / 100, minor % 100);
    assert!(today.contains(&format!(",3,{units},{},", major(sum("subtotal")))), "{today}");
    assert!(
        today.ends_with(&format!(
            ",{},{},{}",
            major(777),
            major(total - 777),
            major(expected["average_order_value"].as_i64().unwrap())
        )),
        "{today}"
    );

    // Best sellers: the tee (4 units) before the mug (3).
    let top = app.get("/v1/admin/reports/top-products?limit=5", shop.sk()).await.expect(200);
    let variants = top["variants"].as_array().unwrap();
    assert_eq!(
        (variants[0]["sku"].as_str(), variants[0]["units"].as_i64()),
        (Some("TEE"), Some(4)),
        "{top:#}"
    );
    assert_eq!(
        (variants[1]["sku"].as_str(), variants[1]["units"].as_i64(), variants[1]["orders"].as_i64()),
        (Some("MUG"), Some(3), Some(2))
    );
    let line_total = |sku: &str| {
        orders
            .iter()
            .flat_map(|o| o["lines"].as_array().unwrap().iter())
            .filter(|l| l["sku"] == sku)
            .map(|l| amount(&l["total"]))
            .sum::<i64>()
    };
    assert_eq!(variants[0]["revenue"], line_total("TEE"));
    assert_eq!(top["products"].as_array().unwrap().len(), 2);

    let funnel = app.get("/v1/admin/reports/funnel", shop.sk()).await.expect(200);
    assert_eq!(
        [
            &funnel["carts_created"],
            &funnel["carts_with_email"],
            &funnel["checkouts_attempted"],
            &funnel["orders_paid"]
        ],
        [&json!(4), &json!(4), &json!(3), &json!(3)],
        "{funnel:#}"
    );

    let plugins = app.get("/v1/admin/reports/plugins", shop.sk()).await.expect(200);
    let tax = plugins["plugins"].as_array().unwrap().iter().find(|p| p["extension_point"] == "tax").unwrap();
    assert!(tax["calls"].as_u64().unwrap() >= 3 && tax["failures"] == 0, "{plugins:#}");
    assert_eq!(tax["circuit_state"], "closed");

    // Another shop's report is its own: empty.
    let other = open_shop(&app, "other", "USD", "US", &[]).await;
    let theirs = app.get("/v1/admin/reports/sales", other.sk()).await.expect(200);
    assert_eq!(theirs["currencies"][0]["total"]["orders"], 0);
});

both!(bad_ranges_and_settings_are_refused, |app: TestApp| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &[]).await;
    for (query, field) in [
        ("from=2026-03-02&to=2026-03-01", "from"),
        ("from=2020-01-01&to=2026-01-01", "to"),
        ("from=2026-02-30", "from"),
        ("to=yesterday", "to"),
        ("interval=hour", "interval"),
        ("time_zone=Mars/Olympus_Mons", "time_zone"),
        ("format=xml", "format"),
    ] {
        let problem = app
            .get(&format!("/v1/admin/reports/sales?{query}"), shop.sk())
            .await
            .problem(422, "validation_failed");
        assert!(problem["errors"][field].is_string(), "{query}: {problem:#}");
    }
    let ok = app.get("/v1/admin/reports/sales?from=2024-12-06&to=2026-12-06&interval=month", shop.sk()).await;
    assert_eq!(
        ok.expect(200)["currencies"][0]["intervals"].as_array().unwrap().len(),
        25,
        "two years, by month"
    );
    app.get("/v1/admin/reports/top-products?limit=0", shop.sk()).await.problem(422, "validation_failed");
    for bad in [
        json!({"time_zone": "Nowhere"}),
        json!({"abandoned_cart_after_minutes": 5}),
        json!({"colour": "red"}),
        json!({"email_from": "not an address"}),
        json!({"notification_email": "a@"}),
        json!({"storefront_url": "ftp://shop.example"}),
    ] {
        app.patch("/v1/admin/settings", shop.sk(), &bad).await.problem(422, "validation_failed");
    }
    let settings = app.get("/v1/admin/settings", shop.sk()).await.expect(200);
    assert_eq!(
        settings,
        json!({"name": "acme shop", "slug": "acme", "default_currency": "USD",
               "time_zone": "UTC", "abandoned_cart_after_minutes": 240, "email_from": null, "notification_email": null, "storefront_url": null}),
        "nothing changed"
    );
});
