//! E-mail end to end, against an SMTP server on loopback: each message of
//! an order's life, a customer's welcome and password reset, a low-stock
//! alert, sent exactly once with the right content (one refused for a while
//! first); without SMTP, recorded as not sent; abandoned carts found once,
//! e-mailed once, restored by their link and counted as recovered;
//! templates checked, previewed and used.

use std::time::Duration;

use mercato::commerce::emails::Mailer;
use mercato::commerce::events;
use mercato::commerce::webhooks::Settings;
use mercato::db::Backend;
use mercato_tests::app::{TestApp, spawn_app_with};
use mercato_tests::shop::{
    Shop, address, buy, complete, open_shop, product, ready_cart, us_plugins, usd, visa,
};
use mercato_tests::smtp::{Mail, SmtpSink};
use serde_json::{Value, json};

fn quick() -> Settings {
    Settings { allow_private: true, idle: Duration::from_millis(20), ..Settings::default() }
}

/// A host sending through `sink` (refusing its first `refuse` messages), or
/// with no SMTP server.
async fn host(backend: Backend, sink: Option<&SmtpSink>) -> Option<TestApp> {
    let mailer = match sink {
        Some(s) => Mailer::new(Some(&s.url), "Mercato <no-reply@mercato.example>").unwrap(),
        None => Mailer::default(),
    }
    .with_first_retry(Duration::from_millis(50));
    spawn_app_with(backend, move |s| s.with_webhooks(quick()).with_mailer(mailer)).await
}

macro_rules! both {
    ($name:ident, $refuse:expr, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let sink = $refuse.map(|n: usize| n);
                let sink = match sink {
                    Some(n) => Some(SmtpSink::start(n).await),
                    None => None,
                };
                let app = host(Backend::Sqlite, sink.as_ref()).await.unwrap();
                ($body)(app, sink).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let sink = match $refuse.map(|n: usize| n) {
                    Some(n) => Some(SmtpSink::start(n).await),
                    None => None,
                };
                match host(Backend::Postgres, sink.as_ref()).await {
                    Some(app) => ($body)(app, sink).await,
                    None => eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL"),
                }
            }
        }
    };
}

async fn shop_with_settings(app: &TestApp) -> Shop {
    let shop = open_shop(app, "acme", "USD", "US", &us_plugins()).await;
    let settings = json!({"email_from": "Acme Store <orders@acme.example>", "notification_email": "stock@acme.example",
        "storefront_url": "https://shop.acme.example/"});
    let s = app.patch("/v1/admin/settings", shop.sk(), &settings).await.expect(200);
    assert_eq!(s["storefront_url"], "https://shop.acme.example");
    shop
}

fn by_subject<'a>(mails: &'a [Mail], start: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.header("Subject").is_some_and(|s| s.starts_with(start))).collect()
}

both!(
    each_email_is_sent_once_with_its_content,
    Some(1usize),
    |app: TestApp, sink: Option<SmtpSink>| async move {
        let sink = sink.unwrap();
        let _worker = events::spawn(app.shop());
        let shop = shop_with_settings(&app).await;
        let mug = product(&app, &shop, "MUG", 1250, 12).await;
        let path = format!("/v1/admin/variants/{mug}/inventory-policy");
        app.patch(&path, shop.sk(), &json!({"low_stock_threshold": 10})).await.expect(200);

        let who = json!({"email": "grace@example.com", "password": "first password", "first_name": "Grace",
        "last_name": "Hopper"});
        app.post("/v1/store/customers", shop.pk(), &who).await.expect(201);
        let order = buy(&app, &shop, &[(&mug, 3)], "buy-1").await;
        let id = order["id"].as_str().unwrap();
        let line = order["lines"][0]["id"].clone();
        let ship = json!({"lines": [{"line_id": line, "quantity": 3}], "carrier": "UPS", "tracking_number": "1Z999AA1"});
        app.post(&format!("/v1/admin/orders/{id}/fulfillments"), shop.sk(), &ship).await.expect(201);
        let refund = json!({"amount": usd(500), "reason": "scratched"});
        app.post(&format!("/v1/admin/orders/{id}/refunds"), shop.sk(), &refund).await.expect(201);
        app.post("/v1/store/customers/password-reset", shop.pk(), &json!({"email": "grace@example.com"}))
            .await
            .expect(202);
        // Nobody has this address: the same answer, and no e-mail.
        app.post("/v1/store/customers/password-reset", shop.pk(), &json!({"email": "nobody@example.com"}))
            .await
            .expect(202);

        let mails = sink.wait_until(Duration::from_secs(60), |m| m.len() >= 6).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mails = if sink.mails().len() > mails.len() { sink.mails() } else { mails };
        assert_eq!(
            mails.len(),
            6,
            "welcome, confirmation, shipped, refunded, reset, low stock: {:#?}",
            mails.iter().map(|m| m.header("Subject")).collect::<Vec<_>>()
        );
        let mut ids: Vec<String> = mails.iter().map(|m| m.header("Message-ID").unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 6, "each message once (the one refused first was sent again, once)");

        let number = order["number"].as_i64().unwrap();
        let confirmation = by_subject(&mails, &format!("Order #{number} confirmed"));
        assert_eq!(confirmation.len(), 1);
        let c = confirmation[0];
        assert_eq!(c.to, ["ada@example.com"]);
        assert_eq!(c.from, "orders@acme.example");
        assert!(c.header("From").unwrap().contains("Acme Store"));
        let text = c.text();
        let money = |v: &Value| {
            format!("{}.{:02} USD", v["amount"].as_i64().unwrap() / 100, v["amount"].as_i64().unwrap() % 100)
        };
        for expected in [
            format!(
                "3 x {} (MUG): {}",
                order["lines"][0]["title"].as_str().unwrap(),
                money(&order["lines"][0]["total"])
            ),
            format!("Shipping: {}", money(&order["shipping_total"])),
            format!("Tax: {}", money(&order["tax_total"])),
            format!("Total: {}", money(&order["total"])),
        ] {
            assert!(text.contains(&expected), "{expected:?} in {text}");
        }
        let shipped = by_subject(&mails, &format!("Order #{number} is on its way"));
        assert!(
            shipped[0].text().contains("with UPS") && shipped[0].text().contains("1Z999AA1"),
            "{}",
            shipped[0].text()
        );
        let refunded = by_subject(&mails, &format!("Refund for order #{number}"));
        assert!(refunded[0].text().contains("5.00 USD"), "{}", refunded[0].text());
        let welcome = by_subject(&mails, "Welcome to acme shop");
        assert_eq!(welcome[0].to, ["grace@example.com"]);
        let alert = by_subject(&mails, "Low stock: MUG");
        assert_eq!(alert[0].to, ["stock@acme.example"]);
        assert!(alert[0].text().contains("MUG has 9 available (threshold 10)"), "{}", alert[0].text());

        // The reset link works once.
        let reset = by_subject(&mails, "Reset your password");
        let text = reset[0].text();
        let token = text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        let confirm = json!({"token": token, "password": "second password"});
        let path = "/v1/store/customers/password-reset/confirm";
        app.post(path, shop.pk(), &confirm).await.expect(204);
        app.post(path, shop.pk(), &confirm).await.problem(422, "validation_failed");
        let login = json!({"email": "grace@example.com", "password": "second password"});
        app.post("/v1/store/customers/login", shop.pk(), &login).await.expect(200);

        let log = app.get("/v1/admin/emails?limit=100", shop.sk()).await.expect(200);
        let log = log["data"].as_array().unwrap();
        assert_eq!(log.len(), 6, "{log:#?}");
        assert!(log.iter().all(|m| m["status"] == "sent"), "{log:#?}");
        assert_eq!(
            log.iter().map(|m| m["attempts"].as_i64().unwrap()).sum::<i64>(),
            7,
            "one refused, sent again"
        );
        let metrics =
            app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("mercato_emails_total{outcome=\"sent\"} 6"), "{metrics}");
        assert!(metrics.contains("mercato_emails_total{outcome=\"retried\"} 1"), "{metrics}");
    }
);

both!(
    without_smtp_emails_are_recorded_not_sent,
    None::<usize>,
    |app: TestApp, _sink: Option<SmtpSink>| async move {
        let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
        let mug = product(&app, &shop, "MUG", 1250, 10).await;
        buy(&app, &shop, &[(&mug, 1)], "buy-1").await;
        for _ in 0..3 {
            events::run_once(&app.shop()).await.unwrap();
        }
        let log = app.get("/v1/admin/emails", shop.sk()).await.expect(200);
        let log = log["data"].as_array().unwrap();
        assert_eq!(log.len(), 1, "the confirmation: {log:#?}");
        assert_eq!(log[0]["status"], "not_sent");
        assert!(log[0]["last_error"].as_str().unwrap().contains("MERCATO_SMTP_URL"), "{log:#?}");
    }
);

both!(
    an_abandoned_cart_is_emailed_once_and_its_link_restores_it,
    Some(0usize),
    |app: TestApp, sink: Option<SmtpSink>| async move {
        let sink = sink.unwrap();
        let shop = shop_with_settings(&app).await;
        app.patch("/v1/admin/settings", shop.sk(), &json!({"abandoned_cart_after_minutes": 30}))
            .await
            .expect(200);
        let mug = product(&app, &shop, "MUG", 1250, 10).await;
        let cart = ready_cart(&app, &shop, &[(&mug, 2)], address("US", "CA")).await;
        let cart_id = cart["id"].as_str().unwrap();
        // A cart without an e-mail is never "abandoned": nobody to write to.
        app.post("/v1/store/carts", shop.pk(), &json!({"lines": [{"variant_id": mug, "quantity": 1}]}))
            .await
            .expect(201);

        // Time passes: every cart of the shop last changed `minutes` earlier.
        let idle = |minutes: i64| {
            let sql = "update cart set updated_at = updated_at - $1";
            let db = app.db.clone();
            async move { sqlx::query(sql).bind(minutes * 60_000).execute(db.pool()).await.unwrap() }
        };
        let shop_core = app.shop();
        let find = || mercato::commerce::cart::recovery::find_abandoned(&shop_core, mercato::db::now_ms());
        idle(29).await;
        assert_eq!(find().await.unwrap(), 0, "not idle long enough");
        idle(2).await;
        assert_eq!(find().await.unwrap(), 1);
        idle(60).await;
        assert_eq!(find().await.unwrap(), 0, "once");
        let feed = app.get("/v1/admin/events?type=cart.abandoned", shop.sk()).await.expect(200);
        assert_eq!(feed["data"].as_array().unwrap().len(), 1);
        assert_eq!(feed["data"][0]["data"]["lines"][0]["quantity"], 2);

        for _ in 0..5 {
            events::run_once(&app.shop()).await.unwrap();
        }
        let mails = sink
            .wait_until(Duration::from_secs(30), |m| !by_subject(m, "You left something").is_empty())
            .await;
        let recovery = by_subject(&mails, "You left something");
        assert_eq!(recovery.len(), 1);
        assert_eq!(recovery[0].to, ["ada@example.com"]);
        let text = recovery[0].text();
        assert!(text.contains("2 x Product MUG"), "{text}");
        let link = text
            .split_whitespace()
            .find(|w| w.starts_with("https://shop.acme.example/cart/recover?token="))
            .unwrap();
        let token = link.split("token=").nth(1).unwrap();

        let restored =
            app.get(&format!("/v1/store/carts/recover?token={token}"), shop.pk()).await.expect(200);
        assert_eq!(
            (restored["id"].as_str(), restored["lines"][0]["quantity"].as_i64()),
            (Some(cart_id), Some(2))
        );
        let altered = token.replacen(cart_id, "cart_someone_else", 1);
        app.get(&format!("/v1/store/carts/recover?token={altered}"), shop.pk())
            .await
            .problem(422, "validation_failed");
        app.get("/v1/store/carts/recover?token=nonsense", shop.pk()).await.problem(422, "validation_failed");
        let other = open_shop(&app, "other", "USD", "US", &[]).await;
        app.get(&format!("/v1/store/carts/recover?token={token}"), other.pk())
            .await
            .problem(422, "validation_failed");

        // It converts: counted as recovered.
        complete(&app, &shop, cart_id, "recovered-1", visa()).await.expect(201);
        app.get(&format!("/v1/store/carts/recover?token={token}"), shop.pk())
            .await
            .problem(409, "cart_not_open");
        let funnel = app.get("/v1/admin/reports/funnel", shop.sk()).await.expect(200);
        assert_eq!(
            (funnel["carts_abandoned"].as_i64(), funnel["carts_recovered"].as_i64()),
            (Some(1), Some(1)),
            "{funnel:#}"
        );
    }
);

both!(
    templates_are_checked_previewed_and_used,
    Some(0usize),
    |app: TestApp, sink: Option<SmtpSink>| async move {
        let sink = sink.unwrap();
        let shop = shop_with_settings(&app).await;
        let path = "/v1/admin/email-templates/order_confirmation";
        let all = app.get("/v1/admin/email-templates", shop.sk()).await.expect(200);
        assert_eq!(all.as_array().unwrap().len(), 7);
        assert!(all.as_array().unwrap().iter().all(|t| t["custom"] == false));
        app.get("/v1/admin/email-templates/nope", shop.sk()).await.problem(404, "not_found");

        let broken =
            json!({"subject": "Thanks", "text": "{% for line in order.lines %}", "html": "<p>ok</p>"});
        let p = app.put(path, shop.sk(), &broken).await.problem(422, "validation_failed");
        assert!(p["errors"]["text"].as_str().unwrap().contains("does not render"), "{p:#}");
        let misspelt = json!({"subject": "{{ order.numbr }}", "text": "x", "html": "x"});
        app.put(path, shop.sk(), &misspelt).await.problem(422, "validation_failed");
        let partial = json!({"subject": "Only a subject"});
        assert!(
            app.put(path, shop.sk(), &partial).await.problem(422, "validation_failed")["errors"]["text"]
                .is_string()
        );
        assert_eq!(app.get(path, shop.sk()).await.expect(200)["custom"], false, "nothing stored");

        let mine = json!({"subject": "{{ shop.name }} got order {{ order.number }}",
        "text": "Total {{ order.total | money }}", "html": "<b>{{ order.total | money }}</b>"});
        let preview = app.post(&format!("{path}/preview"), shop.sk(), &mine).await.expect(200);
        assert_eq!(preview["subject"], "acme shop got order 1001");
        assert_eq!(preview["text"], "Total 29.29 USD");
        assert_eq!(app.put(path, shop.sk(), &mine).await.expect(200)["custom"], true);

        let mug = product(&app, &shop, "MUG", 1250, 10).await;
        let order = buy(&app, &shop, &[(&mug, 1)], "buy-1").await;
        for _ in 0..5 {
            events::run_once(&app.shop()).await.unwrap();
        }
        let mails = sink.wait_until(Duration::from_secs(30), |m| !m.is_empty()).await;
        assert_eq!(mails[0].header("Subject").unwrap(), format!("acme shop got order {}", order["number"]));

        let back = app.send(app.request(reqwest::Method::DELETE, path, Some(shop.sk()))).await.expect(200);
        assert_eq!(back["custom"], false);
        assert_eq!(back["subject"], "Order #{{ order.number }} confirmed");
    }
);
