//! Stripe, natively, against a fake Stripe on loopback: checkout (success,
//! decline, 3-D Secure), manual capture and refunds, a charge whose answer
//! was lost, and webhooks (forged, stale, repeated, concurrent, late).

use std::time::Duration;

use mercato::db::Backend;
use mercato_tests::app::{TestApp, spawn_app_with};
use mercato_tests::shop::{Shop, address, complete, open_shop, product, ready_cart, us_plugins, usd};
use mercato_tests::stripe::{self, FakeStripe};
use serde_json::{Value, json};

/// Runs `body` with a host whose Stripe is a fresh fake, on both databases.
macro_rules! with_stripe {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let fake = FakeStripe::start().await;
                let app =
                    spawn_app_with(Backend::Sqlite, |s| s.with_stripe_api(&fake.base_url)).await.unwrap();
                ($body)(app, fake).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let fake = FakeStripe::start().await;
                match spawn_app_with(Backend::Postgres, |s| s.with_stripe_api(&fake.base_url)).await {
                    Some(app) => ($body)(app, fake).await,
                    None => eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL"),
                }
            }
        }
    };
}

/// A US shop (with the test gateway bound too) that connected the fake
/// Stripe with `capture`, and a product of 25.00 with 10 in stock.
async fn stripe_shop(app: &TestApp, capture: &str) -> (Shop, String) {
    let shop = open_shop(app, "acme", "USD", "US", &us_plugins()).await;
    let settings = json!({"secret_key": stripe::SECRET_KEY, "publishable_key": stripe::PUBLISHABLE_KEY,
        "webhook_secret": stripe::WEBHOOK_SECRET, "capture": capture});
    app.put("/v1/admin/payment-providers/stripe", shop.sk(), &settings).await.expect(200);
    let variant = product(app, &shop, "MUG", 2500, 10).await;
    (shop, variant)
}

fn card(pm: &str) -> Value {
    json!({"provider": "stripe", "payment_method": pm})
}

async fn cart(app: &TestApp, shop: &Shop, variant: &str, quantity: i64) -> String {
    ready_cart(app, shop, &[(variant, quantity)], address("US", "OR")).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn order(app: &TestApp, shop: &Shop, id: &str) -> Value {
    app.get(&format!("/v1/admin/orders/{id}"), shop.sk()).await.expect(200)
}

fn kinds(order: &Value) -> Vec<String> {
    order["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

async fn available(app: &TestApp, shop: &Shop, variant: &str) -> i64 {
    mercato_tests::shop::available(app, shop, variant).await
}

/// Delivers a webhook body with a signature header.
async fn deliver(app: &TestApp, merchant_id: &str, body: &str, signature: &str) -> mercato_tests::app::Reply {
    let req = app
        .request(reqwest::Method::POST, &format!("/v1/hooks/stripe/{merchant_id}"), None)
        .header("stripe-signature", signature)
        .header("content-type", "application/json")
        .body(body.to_owned());
    app.send(req).await
}

with_stripe!(
    a_stripe_checkout_pays_with_one_intent_and_declines_say_why,
    |app: TestApp, fake: FakeStripe| async move {
        let (shop, variant) = stripe_shop(&app, "automatic").await;
        let cart_id = cart(&app, &shop, &variant, 2).await;

        // The storefront's options: Stripe first, with the publishable key.
        let options =
            app.get(&format!("/v1/store/carts/{cart_id}/payment-providers"), shop.pk()).await.expect(200);
        assert_eq!(options[0]["provider"], "stripe");
        assert_eq!(options[0]["kind"], "stripe");
        assert_eq!(options[0]["publishable_key"], stripe::PUBLISHABLE_KEY);
        assert_eq!(options[1]["provider"], "test-gateway");
        assert!(!options.to_string().contains(stripe::SECRET_KEY));

        // Bad input is refused before anything is charged.
        for (i, (payment, field)) in [
            (json!({"provider": "stripe"}), "payment.payment_method"),
            (json!({"provider": "stripe", "payment_method": "card_123"}), "payment.payment_method"),
            (json!({"provider": "stripe", "token": "tok_visa"}), "payment.token"),
            (
                json!({"provider": "stripe", "payment_method": "pm_card_visa", "token": "tok_visa"}),
                "payment.token",
            ),
            (json!({"provider": "test-gateway", "payment_method": "pm_card_visa"}), "payment.payment_method"),
        ]
        .into_iter()
        .enumerate()
        {
            let body = complete(&app, &shop, &cart_id, &format!("bad-{i}"), payment)
                .await
                .problem(422, "validation_failed");
            assert!(body["errors"][field].is_string(), "{field}: {body:#}");
        }
        complete(
            &app,
            &shop,
            &cart_id,
            "bad-provider",
            json!({"provider": "paypal", "payment_method": "pm_card_visa"}),
        )
        .await
        .problem(422, "unknown_payment_provider");
        assert_eq!(fake.intents_created(), 0);

        let placed = complete(&app, &shop, &cart_id, "pay-1", card("pm_card_visa")).await.expect(201);
        assert_eq!(placed["status"], "paid");
        assert_eq!(placed["payment"]["provider"], "stripe");
        let pi = placed["payment"]["provider_reference"].as_str().unwrap().to_owned();
        let intent = fake.intent(&pi).unwrap();
        assert_eq!(intent["amount"], placed["total"]["amount"]);
        assert_eq!(intent["currency"], "usd");
        assert_eq!(intent["metadata"]["order_id"], placed["id"]);
        assert_eq!(intent["metadata"]["cart_id"], cart_id.as_str());
        assert_eq!(intent["metadata"]["attempt_id"], placed["payment"]["id"]);
        let create = fake.requests().into_iter().find(|r| r.path == "/v1/payment_intents").unwrap();
        assert_eq!(
            create.header("idempotency-key"),
            placed["payment"]["id"].as_str(),
            "the attempt id is the key"
        );
        assert_eq!(available(&app, &shop, &variant).await, 8);

        // The same key gets the same order; the completed cart is not paid twice.
        let again = complete(&app, &shop, &cart_id, "pay-1", card("pm_card_visa")).await.expect(201);
        assert_eq!(again["id"], placed["id"]);
        complete(&app, &shop, &cart_id, "pay-2", card("pm_card_visa")).await.problem(409, "cart_not_open");
        assert_eq!(fake.intents_created(), 1);

        // A decline: 402 with Stripe's decline code, stock back, cart open.
        let declined_cart = cart(&app, &shop, &variant, 1).await;
        let body =
            complete(&app, &shop, &declined_cart, "pay-3", card("pm_card_chargeDeclinedInsufficientFunds"))
                .await
                .problem(402, "payment_declined");
        assert!(body["detail"].as_str().unwrap().contains("insufficient_funds"), "{body:#}");
        assert_eq!(available(&app, &shop, &variant).await, 8);
        let reopened = app.get(&format!("/v1/store/carts/{declined_cart}"), shop.pk()).await.expect(200);
        assert_eq!(reopened["status"], "open");
        // The buyer tries another card on the same cart.
        complete(&app, &shop, &declined_cart, "pay-4", card("pm_card_visa")).await.expect(201);
        assert_eq!(available(&app, &shop, &variant).await, 7);

        // The host counts what its checkouts gave.
        let metrics =
            app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        for line in
            ["mercato_checkouts_total{outcome=\"paid\"} 2", "mercato_checkouts_total{outcome=\"declined\"} 1"]
        {
            assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
        }
    }
);

with_stripe!(
    three_d_secure_is_finished_by_completing_again_on_the_same_intent,
    |app: TestApp, fake: FakeStripe| async move {
        let (shop, variant) = stripe_shop(&app, "automatic").await;
        let cart_id = cart(&app, &shop, &variant, 1).await;
        let action =
            complete(&app, &shop, &cart_id, "3ds", card("pm_card_threeDSecure2Required")).await.expect(200);
        assert_eq!(action["status"], "requires_action");
        let secret = action["next_action"]["client_secret"].as_str().unwrap();
        assert!(secret.contains("_secret_"), "{action:#}");
        assert!(action["next_action"]["redirect_url"].as_str().unwrap().contains("/3ds/"));
        assert_eq!(available(&app, &shop, &variant).await, 9, "held while the buyer authenticates");

        // Before the buyer finishes: still waiting, still one intent.
        let waiting =
            complete(&app, &shop, &cart_id, "3ds", card("pm_card_threeDSecure2Required")).await.expect(200);
        assert_eq!(waiting["order_id"], action["order_id"]);
        let pi = fake.intents()[0]["id"].as_str().unwrap().to_owned();
        fake.finish_3ds(&pi, false);
        let paid =
            complete(&app, &shop, &cart_id, "3ds", card("pm_card_threeDSecure2Required")).await.expect(201);
        assert_eq!(
            (paid["id"].as_str(), paid["status"].as_str()),
            (action["order_id"].as_str(), Some("paid"))
        );
        assert_eq!(fake.intents_created(), 1, "re-read, never a second PaymentIntent");
        assert_eq!(fake.count("POST", "/v1/payment_intents"), 1);
        assert_eq!(available(&app, &shop, &variant).await, 9);

        // A failed authentication declines, and the stock goes back.
        let other = cart(&app, &shop, &variant, 2).await;
        complete(&app, &shop, &other, "3ds-2", card("pm_card_threeDSecure2Required")).await.expect(200);
        let pi = fake.intents()[1]["id"].as_str().unwrap().to_owned();
        fake.finish_3ds(&pi, true);
        complete(&app, &shop, &other, "3ds-2", card("pm_card_threeDSecure2Required"))
            .await
            .problem(402, "payment_declined");
        assert_eq!(available(&app, &shop, &variant).await, 9);
    }
);

with_stripe!(
    manual_capture_then_refunds_never_exceed_what_was_captured,
    |app: TestApp, fake: FakeStripe| async move {
        let (shop, variant) = stripe_shop(&app, "manual").await;
        let cart_id = cart(&app, &shop, &variant, 2).await;
        let placed = complete(&app, &shop, &cart_id, "auth", card("pm_card_visa")).await.expect(201);
        assert_eq!(placed["payment_status"], "authorized");
        assert_eq!(placed["captured"]["amount"], 0);
        let (id, total) =
            (placed["id"].as_str().unwrap().to_owned(), placed["total"]["amount"].as_i64().unwrap());
        let pi = placed["payment"]["provider_reference"].as_str().unwrap().to_owned();
        assert_eq!(fake.intent(&pi).unwrap()["status"], "requires_capture");
        app.post(
            &format!("/v1/admin/orders/{id}/refunds"),
            shop.sk(),
            &json!({"amount": usd(100), "reason": "x"}),
        )
        .await
        .problem(409, "invalid_transition");

        let captured =
            app.post(&format!("/v1/admin/orders/{id}/capture"), shop.sk(), &json!({})).await.expect(200);
        assert_eq!(
            (captured["payment_status"].as_str(), captured["captured"]["amount"].as_i64()),
            (Some("paid"), Some(total))
        );
        app.post(&format!("/v1/admin/orders/{id}/capture"), shop.sk(), &json!({}))
            .await
            .problem(409, "invalid_transition");
        assert_eq!(fake.captures_sent(&pi), 1, "a captured intent is not captured again");

        let partial = app
            .post(
                &format!("/v1/admin/orders/{id}/refunds"),
                shop.sk(),
                &json!({"amount": usd(500), "reason": "scratch"}),
            )
            .await
            .expect(201);
        assert_eq!(partial["refunded"]["amount"], 500);
        assert_eq!(fake.refunded(&pi), 500);

        // Two refunds of the rest at once: one is made, the other refused.
        let rest = json!({"amount": usd(total - 500), "reason": "returned"});
        let path = format!("/v1/admin/orders/{id}/refunds");
        let (a, b) = tokio::join!(app.post(&path, shop.sk(), &rest), app.post(&path, shop.sk(), &rest));
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        // The other is refused: more than is left (422), or the order is
        // already refunded in full by the time it is read (409).
        assert!(statuses[0] == 201 && matches!(statuses[1], 409 | 422), "{a:?} {b:?}");
        assert_eq!(fake.refunded(&pi), total);
        let after = order(&app, &shop, &id).await;
        assert_eq!(
            (after["payment_status"].as_str(), after["refunded"]["amount"].as_i64()),
            (Some("refunded"), Some(total))
        );
        app.post(&path, shop.sk(), &json!({"amount": usd(1), "reason": "more"}))
            .await
            .problem(409, "invalid_transition");

        // Cancelling an authorized order voids the authorization.
        let other = cart(&app, &shop, &variant, 1).await;
        let placed = complete(&app, &shop, &other, "auth-2", card("pm_card_visa")).await.expect(201);
        let (id, pi) =
            (placed["id"].as_str().unwrap(), placed["payment"]["provider_reference"].as_str().unwrap());
        assert_eq!(available(&app, &shop, &variant).await, 7);
        let cancelled = app
            .post(&format!("/v1/admin/orders/{id}/cancel"), shop.sk(), &json!({"reason": "changed mind"}))
            .await
            .expect(200);
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(fake.intent(pi).unwrap()["status"], "canceled");
        assert_eq!(available(&app, &shop, &variant).await, 8);
    }
);

with_stripe!(
    capture_on_fulfillment_captures_when_the_first_items_ship,
    |app: TestApp, fake: FakeStripe| async move {
        let (shop, variant) = stripe_shop(&app, "on_fulfillment").await;
        let cart_id = cart(&app, &shop, &variant, 2).await;
        let placed = complete(&app, &shop, &cart_id, "auth", card("pm_card_visa")).await.expect(201);
        assert_eq!(placed["payment_status"], "authorized");
        let (id, pi) =
            (placed["id"].as_str().unwrap(), placed["payment"]["provider_reference"].as_str().unwrap());
        let line = placed["lines"][0]["id"].as_str().unwrap();
        let shipped = app
            .post(
                &format!("/v1/admin/orders/{id}/fulfillments"),
                shop.sk(),
                &json!({"lines": [{"line_id": line, "quantity": 1}]}),
            )
            .await
            .expect(201);
        assert_eq!(shipped["payment_status"], "paid");
        assert_eq!(fake.captures_sent(pi), 1);
        app.post(
            &format!("/v1/admin/orders/{id}/fulfillments"),
            shop.sk(),
            &json!({"lines": [{"line_id": line, "quantity": 1}]}),
        )
        .await
        .expect(201);
        assert_eq!(fake.captures_sent(pi), 1);
    }
);

with_stripe!(
    a_charge_whose_order_write_was_lost_is_found_by_the_reconciler,
    |app: TestApp, fake: FakeStripe| async move {
        use mercato::commerce::{checkout, jobs, orders, payments};
        let (shop, variant) = stripe_shop(&app, "automatic").await;
        let cart_id = cart(&app, &shop, &variant, 1).await;
        let core = app.shop();
        let m = shop.merchant.id.as_str();
        // The host places the order and Stripe charges, then the host dies
        // before writing the answer.
        let req: checkout::CompleteRequest =
            serde_json::from_value(json!({"payment": card("pm_card_visa")})).unwrap();
        let placed = checkout::place(&core, m, &cart_id, req).await.unwrap();
        let before = orders::get_any(&core.db, m, placed.order_id()).await.unwrap();
        let attempt = before.payment.clone().unwrap();
        let Some(payments::Provider::Stripe(account)) =
            payments::provider_by_id(&core, m, "stripe").await.unwrap()
        else {
            panic!("stripe is connected")
        };
        let charge = payments::Charge {
            amount: mercato_sdk::Money::new(before.total.amount, mercato_sdk::Currency::USD),
            order_reference: &before.id,
            cart_id: &cart_id,
            token: Some("pm_card_visa".into()),
            attempt_id: &attempt.id,
            email: &before.email,
        };
        let charged = mercato::commerce::stripe::create(&core, &account, &charge).await;
        assert!(matches!(charged, mercato::db::checkout::Outcome::Paid { .. }), "{charged:?}");
        assert_eq!(orders::get_any(&core.db, m, &before.id).await.unwrap().payment_status, "pending");

        let report =
            jobs::run_once(&core, mercato::db::now_ms() + jobs::RECONCILE_AFTER_MS + 1_000).await.unwrap();
        assert_eq!(report.reconciled, 1);
        let after = order(&app, &shop, &before.id).await;
        assert_eq!(after["status"], "paid");
        assert_eq!(fake.intents_created(), 1, "asked again with the same idempotency key: the same charge");
        assert_eq!(fake.count("POST", "/v1/payment_intents"), 2);
        assert_eq!(available(&app, &shop, &variant).await, 9);
    }
);

with_stripe!(
    a_timed_out_charge_is_retried_with_the_same_key_and_charged_once,
    |app: TestApp, fake: FakeStripe| async move {
        let (shop, variant) = stripe_shop(&app, "automatic").await;
        let cart_id = cart(&app, &shop, &variant, 1).await;
        fake.stall_next_create(Duration::from_secs(12));
        let body =
            complete(&app, &shop, &cart_id, "slow", card("pm_card_visa")).await.problem(502, "plugin_failed");
        assert!(body["detail"].as_str().unwrap().contains("pending_payment"), "{body:#}");
        // The client retries with the same key: the same payment is asked about.
        let retried = complete(&app, &shop, &cart_id, "slow", card("pm_card_visa")).await;
        let core = app.shop();
        if retried.status.as_u16() != 201 {
            let later = mercato::db::now_ms() + mercato::commerce::jobs::RECONCILE_AFTER_MS + 1_000;
            mercato::commerce::jobs::run_once(&core, later).await.unwrap();
        }
        let orders = app.get("/v1/admin/orders", shop.sk()).await.expect(200);
        assert_eq!(orders["data"][0]["status"], "paid", "{orders:#}");
        assert_eq!(fake.intents_created(), 1);
        assert_eq!(available(&app, &shop, &variant).await, 9);
    }
);

with_stripe!(
    webhooks_are_verified_and_each_event_settles_once,
    |app: TestApp, fake: FakeStripe| async move {
        let (shop, variant) = stripe_shop(&app, "automatic").await;
        let m = shop.merchant.id.clone();
        let cart_id = cart(&app, &shop, &variant, 1).await;
        let action =
            complete(&app, &shop, &cart_id, "3ds", card("pm_card_threeDSecure2Required")).await.expect(200);
        let id = action["order_id"].as_str().unwrap().to_owned();
        let pi = fake.intents()[0]["id"].as_str().unwrap().to_owned();
        fake.finish_3ds(&pi, false);
        let (body, signature) = fake.event("payment_intent.succeeded", &pi);

        // Forged, stale, unsigned, malformed, too large: 400s, nothing changes.
        let forged = stripe::sign(&body, "whsec_someoneElsesSecret00", stripe::now_unix());
        deliver(&app, &m, &body, &forged).await.problem(400, "invalid_signature");
        let stale = stripe::sign(&body, stripe::WEBHOOK_SECRET, stripe::now_unix() - 400);
        deliver(&app, &m, &body, &stale).await.problem(400, "invalid_signature");
        deliver(&app, &m, &body, "").await.problem(400, "invalid_signature");
        let tampered = body.replace("\"livemode\":false", "\"livemode\":true ");
        deliver(&app, &m, &tampered, &signature).await.problem(400, "invalid_signature");
        let garbage = "not json";
        let signed_garbage = stripe::sign(garbage, stripe::WEBHOOK_SECRET, stripe::now_unix());
        deliver(&app, &m, garbage, &signed_garbage).await.problem(400, "invalid_webhook");
        let huge = format!("{{\"pad\":\"{}\"}}", "a".repeat(1 << 20));
        let signed_huge = stripe::sign(&huge, stripe::WEBHOOK_SECRET, stripe::now_unix());
        assert_eq!(deliver(&app, &m, &huge, &signed_huge).await.status.as_u16(), 413);
        let other = app.merchant("other", "USD", "US").await;
        deliver(&app, &other.id, &body, &signature).await.problem(404, "not_found");
        assert_eq!(order(&app, &shop, &id).await["payment_status"], "requires_action");

        // Ten deliveries of one event at once: one settles, the rest are repeats.
        let url = format!("{}/v1/hooks/stripe/{m}", app.base);
        let deliveries: Vec<_> = (0..10)
            .map(|_| {
                let (client, url, body, signature) =
                    (app.client.clone(), url.clone(), body.clone(), signature.clone());
                tokio::spawn(async move {
                    let reply = client
                        .post(url)
                        .header("stripe-signature", signature)
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    (reply.status().as_u16(), reply.json::<Value>().await.unwrap())
                })
            })
            .collect();
        let mut replies = Vec::new();
        for d in deliveries {
            replies.push(d.await.unwrap());
        }
        let applied = replies.iter().filter(|(_, r)| r["applied"] == true).count();
        let duplicates = replies.iter().filter(|(_, r)| r["duplicate"] == true).count();
        assert!(replies.iter().all(|(status, _)| *status == 200), "{replies:?}");
        assert_eq!((applied, duplicates), (1, 9));
        let paid = order(&app, &shop, &id).await;
        assert_eq!(paid["status"], "paid");
        assert_eq!(kinds(&paid).iter().filter(|k| *k == "payment_succeeded").count(), 1);

        // Out of order: a failure after the success changes nothing, recorded.
        let (failed, signature) = fake.event("payment_intent.payment_failed", &pi);
        let receipt = deliver(&app, &m, &failed, &signature).await.expect(200);
        assert_eq!(
            (receipt["applied"].as_bool(), receipt["order_id"].as_str()),
            (Some(false), Some(id.as_str()))
        );
        let still = order(&app, &shop, &id).await;
        assert_eq!(still["status"], "paid");
        assert!(kinds(&still).contains(&"provider_event".to_owned()));

        // A dispute flags the order.
        let (dispute, signature) = fake.event("charge.dispute.created", &pi);
        deliver(&app, &m, &dispute, &signature).await.expect(200);
        let disputed = order(&app, &shop, &id).await;
        assert!(disputed["disputed_at"].is_string(), "{disputed:#}");
        assert!(kinds(&disputed).contains(&"dispute_opened".to_owned()));

        // A late event on a cancelled order: 2xx, recorded, nothing moves.
        let second = cart(&app, &shop, &variant, 1).await;
        let placed = complete(&app, &shop, &second, "late", card("pm_card_visa")).await.expect(201);
        let (id2, pi2) = (
            placed["id"].as_str().unwrap().to_owned(),
            placed["payment"]["provider_reference"].as_str().unwrap().to_owned(),
        );
        app.post(&format!("/v1/admin/orders/{id2}/cancel"), shop.sk(), &json!({})).await.expect(200);
        let (late, signature) = fake.event("payment_intent.succeeded", &pi2);
        let receipt = deliver(&app, &m, &late, &signature).await.expect(200);
        assert_eq!(receipt["applied"], false);
        let cancelled = order(&app, &shop, &id2).await;
        assert_eq!(cancelled["status"], "cancelled");
        assert!(kinds(&cancelled).contains(&"provider_event".to_owned()));
    }
);

with_stripe!(money_taken_around_a_hold_expiry_is_never_lost, |app: TestApp, fake: FakeStripe| async move {
    use mercato::commerce::jobs;
    let (shop, variant) = stripe_shop(&app, "automatic").await;
    let m = shop.merchant.id.clone();
    let core = app.shop();
    let after_hold = || mercato::db::now_ms() + mercato::commerce::checkout::RESERVATION_TTL_MS + 60_000;

    // The buyer finished 3-D Secure but its webhook was lost: when the hold
    // expires, Stripe is asked first, and the order is paid, not expired.
    let first = cart(&app, &shop, &variant, 1).await;
    let action =
        complete(&app, &shop, &first, "3ds-1", card("pm_card_threeDSecure2Required")).await.expect(200);
    let id = action["order_id"].as_str().unwrap().to_owned();
    let pi = fake.intents()[0]["id"].as_str().unwrap().to_owned();
    fake.finish_3ds(&pi, false);
    let report = jobs::run_once(&core, after_hold()).await.unwrap();
    assert_eq!((report.reconciled, report.expired), (1, 0), "{report:?}");
    assert_eq!(order(&app, &shop, &id).await["status"], "paid");
    assert_eq!(available(&app, &shop, &variant).await, 9);

    // An abandoned one is voided at Stripe when its hold expires.
    let second = cart(&app, &shop, &variant, 1).await;
    let action =
        complete(&app, &shop, &second, "3ds-2", card("pm_card_threeDSecure2Required")).await.expect(200);
    let pi2 = fake.intents()[1]["id"].as_str().unwrap().to_owned();
    let report = jobs::run_once(&core, after_hold()).await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    assert_eq!(fake.intent(&pi2).unwrap()["status"], "canceled");
    let expired = order(&app, &shop, action["order_id"].as_str().unwrap()).await;
    assert_eq!(expired["payment_status"], "failed");
    assert_eq!(available(&app, &shop, &variant).await, 9);

    // Stripe took money for an attempt that had already failed (the buyer
    // finished just after the hold expired): the webhook gives it back.
    let third = cart(&app, &shop, &variant, 1).await;
    let action =
        complete(&app, &shop, &third, "3ds-3", card("pm_card_threeDSecure2Required")).await.expect(200);
    let id3 = action["order_id"].as_str().unwrap().to_owned();
    let pi3 = fake.intents()[2]["id"].as_str().unwrap().to_owned();
    let attempt = mercato::commerce::orders::get_any(&core.db, &m, &id3).await.unwrap().payment.unwrap();
    let expired = mercato::db::checkout::Outcome::Failed {
        reason: "the hold expired".into(),
        provider_reference: None,
    };
    mercato::db::checkout::settle(&core.db, &m, &attempt.id, &expired, mercato::db::now_ms()).await.unwrap();
    fake.finish_3ds(&pi3, false);
    let (body, signature) = fake.event("payment_intent.succeeded", &pi3);
    let receipt = deliver(&app, &m, &body, &signature).await.expect(200);
    assert_eq!(receipt["applied"], false);
    assert_eq!(fake.refunded(&pi3), attempt.amount.amount, "refunded in full");
    let cancelled = order(&app, &shop, &id3).await;
    assert_eq!(cancelled["payment_status"], "failed");
    assert!(kinds(&cancelled).contains(&"payment_returned".to_owned()), "{cancelled:#}");
    // Delivered again: nothing is refunded twice.
    deliver(&app, &m, &body, &signature).await.expect(200);
    assert_eq!(fake.refunded(&pi3), attempt.amount.amount);
    assert_eq!(available(&app, &shop, &variant).await, 9);
});
