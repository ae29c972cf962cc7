//! A merchant connects Stripe: keys checked for kind and mode, secrets
//! sealed at rest and never answered back.

use mercato_tests::app::TestApp;
use mercato_tests::on_both_databases;
use serde_json::{Value, json};

const PATH: &str = "/v1/admin/payment-providers/stripe";
const SECRET: &str = "sk_test_51HsecretVALUE0123456789wxyz";
const WEBHOOK: &str = "whsec_SIGNINGsecret0123456789abcd";

fn settings() -> Value {
    json!({"secret_key": SECRET, "publishable_key": "pk_test_51Hpublic0123456789", "webhook_secret": WEBHOOK})
}

/// Every text column of the merchant's stored connection, joined.
async fn stored_row(app: &TestApp) -> String {
    let row = sqlx::query(
        "select publishable_key, secret_key_sealed, secret_key_last4, webhook_secret_sealed, \
         webhook_secret_last4, capture from payment_provider",
    )
    .fetch_one(app.db.pool())
    .await
    .expect("a stored connection");
    (0..6).map(|i| sqlx::Row::get::<String, _>(&row, i)).collect::<Vec<_>>().join(" ")
}

on_both_databases!(a_merchant_connects_stripe_and_its_secrets_never_come_back, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    app.get(PATH, &m.secret_key).await.problem(404, "not_found");

    let connected = app.put(PATH, &m.secret_key, &settings()).await.expect(200);
    assert_eq!(connected["provider"], "stripe");
    assert_eq!(connected["mode"], "test");
    assert_eq!(connected["capture"], "automatic");
    assert_eq!(connected["publishable_key"], "pk_test_51Hpublic0123456789");
    assert_eq!(
        (connected["secret_key_last4"].as_str(), connected["webhook_secret_last4"].as_str()),
        (Some("wxyz"), Some("abcd"))
    );
    let shown = app.get(PATH, &m.secret_key).await.expect(200);
    assert_eq!(shown, connected);
    for body in [&connected, &shown] {
        let text = body.to_string();
        assert!(!text.contains(SECRET) && !text.contains(WEBHOOK), "no secret in an answer: {text}");
    }
    let stored = stored_row(&app).await;
    assert!(!stored.contains(SECRET) && !stored.contains("SIGNINGsecret"), "sealed at rest: {stored}");

    // The host that sealed them opens them; another key does not.
    let creds = mercato::commerce::stripe::credentials(&app.shop(), &m.id).await.unwrap().expect("connected");
    assert_eq!((creds.secret_key.expose(), creds.webhook_secret.expose()), (SECRET, WEBHOOK));
    assert_eq!(creds.capture, mercato::commerce::stripe::Capture::Automatic);
    assert_eq!(format!("{creds:?}").matches("***").count(), 2, "debug output hides both secrets");
    let stranger = mercato::commerce::Shop::new(app.db.clone(), app.shop().runtime).with_secret_key(&[1; 32]);
    let e = mercato::commerce::stripe::credentials(&stranger, &m.id).await.expect_err("another key");
    assert!(e.to_string().contains("MERCATO_SECRET_KEY"), "{e}");

    // Another merchant sees nothing; reconnecting replaces the keys.
    let other = app.merchant("other", "USD", "US").await;
    app.get(PATH, &other.secret_key).await.problem(404, "not_found");
    let mut manual = settings();
    manual["capture"] = json!("manual");
    manual["secret_key"] = json!("rk_test_51HrestrictedKEY00001234");
    let again = app.put(PATH, &m.secret_key, &manual).await.expect(200);
    assert_eq!(
        (again["capture"].as_str(), again["secret_key_last4"].as_str()),
        (Some("manual"), Some("1234"))
    );
    assert_eq!(again["created_at"], connected["created_at"], "still the first connection");
    let creds = mercato::commerce::stripe::credentials(&app.shop(), &m.id).await.unwrap().unwrap();
    assert_eq!(creds.capture, mercato::commerce::stripe::Capture::Manual);

    assert_eq!(app.delete(PATH, &m.secret_key).await.status.as_u16(), 204);
    app.get(PATH, &m.secret_key).await.problem(404, "not_found");
    app.delete(PATH, &m.secret_key).await.problem(404, "not_found");
    assert_eq!(app.put(PATH, &m.publishable_key, &settings()).await.status.as_u16(), 403);
});

on_both_databases!(
    bad_stripe_keys_are_refused_naming_the_field_and_change_nothing,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let connected = app.put(PATH, &m.secret_key, &settings()).await.expect(200);
        let with = |field: &str, value: Value| {
            let mut s = settings();
            s[field] = value;
            s
        };
        let cases = [
            (with("secret_key", json!("pk_test_51Hpublic0123456789")), "secret_key"),
            (with("secret_key", json!("sk_prod_51Hsecret0123456789")), "secret_key"),
            (with("secret_key", json!("sk_test_short")), "secret_key"),
            (with("secret_key", json!(null)), "secret_key"),
            (with("publishable_key", json!("pk_live_51Hpublic0123456789")), "publishable_key"),
            (with("publishable_key", json!("sk_test_51Hsecret0123456789")), "publishable_key"),
            (with("webhook_secret", json!("secret")), "webhook_secret"),
            (with("capture", json!("sometimes")), "capture"),
        ];
        for (body, field) in cases {
            let problem = app.put(PATH, &m.secret_key, &body).await.problem(422, "validation_failed");
            assert!(problem["errors"][field].is_string(), "{field}: {problem:#}");
            assert!(!problem.to_string().contains("51Hsecret"), "a refusal does not echo a key: {problem}");
        }
        let unknown = json!({"secret_key": SECRET, "publishable_key": "pk_test_51Hpublic0123456789",
                         "webhook_secret": WEBHOOK, "account": "acct_1"});
        assert_eq!(app.put(PATH, &m.secret_key, &unknown).await.status.as_u16(), 422);
        assert_eq!(
            app.get(PATH, &m.secret_key).await.expect(200),
            connected,
            "refused changes change nothing"
        );
    }
);
