//! Abuse limits: a request rate per API key and login throttling per
//! account and per address, answered 429 problem+json with Retry-After.

use mercato::http::limits::LimitConfig;
use mercato_tests::app::{Reply, TestApp};
use mercato_tests::on_both_databases;
use serde_json::json;

#[track_caller]
fn rate_limited(reply: Reply) {
    let retry: u64 =
        reply.headers.get("retry-after").expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "{retry}");
    reply.problem(429, "rate_limited");
}

on_both_databases!(a_key_over_its_request_rate_is_told_to_slow_down, |app: TestApp| async move {
    let a = app.merchant("acme", "USD", "US").await;
    let b = app.merchant("globex", "USD", "US").await;
    let config = LimitConfig { requests_per_second: 2, ..LimitConfig::default() };
    let host = app.serve_another_with(&app.operator_key, |s| s.with_limits(config)).await;
    let get = |key: &str| app.client.get(format!("{host}/v1/store/products")).bearer_auth(key.to_owned());
    // A burst of twice the rate goes through, the next one does not.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.send(get(&a.publishable_key)).await.status.as_u16());
    }
    assert!(statuses.iter().take(4).all(|s| *s == 200), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    rate_limited(app.send(get(&a.publishable_key)).await);
    // Another key is not held back by the first; writes made nothing meanwhile.
    assert_eq!(app.send(get(&b.publishable_key)).await.status, 200);
    let cart =
        app.client.post(format!("{host}/v1/store/carts")).bearer_auth(&a.publishable_key).json(&json!({}));
    rate_limited(app.send(cart).await);
    let carts: (i64,) = sqlx::query_as("select count(*) from cart").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(carts.0, 0);
});

on_both_databases!(failed_logins_are_throttled_per_account_and_per_address, |app: TestApp| async move {
    let m = app.merchant("acme", "USD", "US").await;
    let config = LimitConfig {
        login_failures_per_account: 3,
        login_failures_per_address: 5,
        ..LimitConfig::default()
    };
    let host = app.serve_another_with(&app.operator_key, |s| s.with_limits(config)).await;
    let pk = m.publishable_key.clone();
    let register = |email: &str| {
        let body =
            json!({"email": email, "password": "correct horse battery", "first_name": "A", "last_name": "B"});
        app.client.post(format!("{host}/v1/store/customers")).bearer_auth(&pk).json(&body)
    };
    let login = |email: &str, password: &str| {
        let body = json!({"email": email, "password": password});
        app.client.post(format!("{host}/v1/store/customers/login")).bearer_auth(&pk).json(&body)
    };
    for email in ["ada@example.com", "bob@example.com"] {
        app.send(register(email)).await.expect(201);
    }
    for _ in 0..3 {
        app.send(login("ada@example.com", "wrong")).await.problem(401, "invalid_credentials");
    }
    // The account is locked for a while, even with the right password…
    rate_limited(app.send(login("ADA@example.com", "correct horse battery")).await);
    // …but not the other account, whose success clears nothing of Ada's.
    app.send(login("bob@example.com", "correct horse battery")).await.expect(200);
    rate_limited(app.send(login("ada@example.com", "correct horse battery")).await);
    // Two more failures from this address on other accounts reach its limit of 5.
    for email in ["carol@example.com", "dave@example.com"] {
        app.send(login(email, "guess")).await.problem(401, "invalid_credentials");
    }
    rate_limited(app.send(login("bob@example.com", "correct horse battery")).await);
    // The host the throttle is not on still serves the account (limits are per host).
    let direct = json!({"email": "bob@example.com", "password": "correct horse battery"});
    app.post("/v1/store/customers/login", &pk, &direct).await.expect(200);
});

on_both_databases!(
    password_reset_emails_are_throttled_per_account_and_per_address,
    |app: TestApp| async move {
        let m = app.merchant("acme", "USD", "US").await;
        let config = LimitConfig {
            login_failures_per_account: 2,
            login_failures_per_address: 3,
            ..LimitConfig::default()
        };
        let host = app.serve_another_with(&app.operator_key, |s| s.with_limits(config)).await;
        let pk = m.publishable_key.clone();
        let reset = |email: &str| {
            let body = json!({"email": email});
            app.client.post(format!("{host}/v1/store/customers/password-reset")).bearer_auth(&pk).json(&body)
        };
        // Registered or not, the same answers: nobody learns who has an account.
        for _ in 0..2 {
            app.send(reset("nobody@example.com")).await.expect(202);
        }
        rate_limited(app.send(reset("NOBODY@example.com")).await);
        // Another account from this address: one more, then the address's limit of 3.
        app.send(reset("other@example.com")).await.expect(202);
        rate_limited(app.send(reset("third@example.com")).await);
    }
);
