//! `mercato demo`: the host on a fresh SQLite database with two merchants
//! seeded through the commerce layer, their keys and a copy-paste
//! walkthrough printed, serving until Ctrl-C.

mod issuer;
pub mod seed;
mod shops;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use mercato_sdk::ExtensionPoint;

use self::seed::{DE_WALKTHROUGH_SKU, DemoMerchant, DemoSeed, US_WALKTHROUGH_SKU};
use super::serve;
use crate::commerce::plugins::{self, NewBinding, NewBindings, OnError};
use crate::http::{self, AppState};

/// The demo's database file in the data directory, deleted on every start.
const DATABASE: &str = "demo.db";

/// Seeds the demo database, prints the keys and walkthrough, and serves until Ctrl-C.
pub fn run(listen: SocketAddr, plugin_dir: &Path, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let database = data_dir.join(DATABASE);
    // A fresh key on every start: the demo database is thrown away anyway.
    let operator_key = crate::commerce::ids::new_secret("op");
    serve::tokio()?.block_on(async {
        // Listening first: a demo already running on this address keeps its database.
        let listener = serve::bind(listen).await?;
        wipe(&database)?;
        let (db, runtime) = serve::open(&format!("sqlite://{}", database.display()), data_dir).await?;
        // Stripe is a stand-in on loopback: no account or network needed.
        let stripe = mercato_fake_stripe::FakeStripe::start().await;
        // Webhooks may go to a receiver on this machine: the demo runs on one.
        let webhooks = crate::commerce::webhooks::Settings { allow_private: true, ..Default::default() };
        let shop = crate::commerce::Shop::new(db, runtime)
            .with_stripe(&stripe.base_url, &stripe.js_url())
            .with_webhooks(webhooks);
        let state = AppState::new(shop, &operator_key);
        let base = format!("http://{}", listener.local_addr()?);
        let seeded =
            seed::seed(&state.shop.db, &state.shop.runtime, &state.shop.bindings, plugin_dir).await?;
        // 3-D Secure on the test gateway: a stand-in issuer's page on its own port.
        let issuer = serve::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let issuer_base = format!("http://{}", issuer.local_addr()?);
        let gateway_secret = crate::commerce::ids::new_secret("whsec");
        issuer::spawn(issuer, state.shop.clone(), base.clone(), gateway_secret.clone());
        for m in [&seeded.us, &seeded.de].into_iter().filter(|m| m.payment_provider == "test-gateway") {
            let challenge = format!("{issuer_base}/challenge/{}/{}", m.id, m.payment_plugin_id);
            let config = serde_json::json!({"webhook_secret": gateway_secret, "challenge_url": challenge});
            let binding = NewBinding::live(m.payment_plugin_id.clone(), config, OnError::Fail);
            let shop = &state.shop;
            let req = NewBindings { bindings: vec![binding] };
            plugins::replace_bindings(
                &shop.db,
                &shop.runtime,
                &shop.bindings,
                &m.id,
                ExtensionPoint::Payment,
                req,
                "mercato demo",
            )
            .await
            .context("binding the test gateway to the demo's card issuer")?;
        }
        let settings = crate::commerce::stripe::StripeSettings {
            secret_key: Some(mercato_fake_stripe::SECRET_KEY.into()),
            publishable_key: Some(mercato_fake_stripe::PUBLISHABLE_KEY.into()),
            webhook_secret: Some(mercato_fake_stripe::WEBHOOK_SECRET.into()),
            capture: None,
        };
        crate::commerce::stripe::connect(&state.shop, &seeded.us.id, settings).await?;
        print!("{}", banner(&base, &operator_key, &database, &seeded));
        println!("listening on {base} (Ctrl-C to stop)");
        crate::commerce::jobs::spawn(state.shop.clone(), crate::commerce::jobs::EVERY);
        crate::commerce::events::spawn(state.shop.clone());
        state.shop.db.spawn_checkpointer(crate::db::CHECKPOINT_EVERY);
        http::serve(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Deletes the SQLite database and its journal files, creating the directory.
fn wipe(database: &Path) -> anyhow::Result<()> {
    let dir = database.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = database.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                let file = Path::new(&file).display().to_string();
                return Err(e).with_context(|| format!("cannot delete the old demo database {file}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Keys, then the walkthrough.
fn banner(base: &str, operator_key: &str, database: &Path, seed: &DemoSeed) -> String {
    let mut out = vec![
        String::new(),
        format!("Mercato demo: two merchants on {} (recreated on every start)", database.display()),
        String::new(),
        format!("  API           {base}   (OpenAPI at {base}/openapi.json)"),
        format!("  operator key  {operator_key}   (demo only: new on every start)"),
        format!(
            "  console       {base}/console   (sign in with the operator key or a merchant's secret key)"
        ),
        String::new(),
    ];
    for (m, plugins) in [
        (
            &seed.us,
            "us-sales-tax, flat-rate, volume-discount (10 % off 2+ apparel), coupon, test-gateway (3-D Secure \
             through a stand-in card issuer); Stripe connected (a stand-in Stripe on loopback)",
        ),
        (&seed.de, "eu-vat (7 % on books), weight-table, coupon, manual (bank transfer)"),
    ] {
        out.push(format!("{} ({}, {}): {plugins}", m.name, m.slug, m.currency));
        out.push(format!("  storefront       {base}/shop/{}", m.slug));
        out.push(format!("  merchant id      {}", m.id));
        out.push(format!("  secret key       {}", m.secret_key));
        out.push(format!("  publishable key  {}", m.publishable_key));
        if let Some(code) = &m.discount_code {
            out.push(format!("  discount code    {code}"));
        }
        out.push(String::new());
    }
    out.push("Walkthrough: buy from each shop (paste into a shell; needs curl and jq).".into());
    out.push(String::new());
    out.push(format!("B={base}"));
    out.push(
        r#"store() { curl -s -H "Authorization: Bearer $PK" -H 'Content-Type: application/json' "$@"; }"#
            .into(),
    );
    out.push(String::new());
    let us = Checkout {
        what: "2 Trail Tees (M) to California, paid by card",
        sku: US_WALKTHROUGH_SKU,
        email: "ada@example.com",
        address: r#"{"name":"Ada Lovelace","line1":"1 Market St","city":"San Francisco","region":"CA","postal_code":"94105","country":"US"}"#,
        token: Some("tok_visa"),
        stripe: false,
    };
    let stripe = Checkout {
        what: "2 Trail Tees (M) to California, paid by card through Stripe (the demo's stand-in Stripe)",
        sku: US_WALKTHROUGH_SKU,
        email: "grace@example.com",
        address: r#"{"name":"Grace Hopper","line1":"2 Market St","city":"San Francisco","region":"CA","postal_code":"94105","country":"US"}"#,
        token: None,
        stripe: true,
    };
    let de = Checkout {
        what: "2 x Der Zauberberg to Berlin with a discount code, paid by bank transfer",
        sku: DE_WALKTHROUGH_SKU,
        email: "erika@example.de",
        address: r#"{"name":"Erika Mustermann","line1":"Lindenstrasse 12","city":"Berlin","region":"BE","postal_code":"10117","country":"DE"}"#,
        token: None,
        stripe: false,
    };
    out.extend(us.commands(&seed.us));
    out.extend(stripe.commands(&seed.us));
    out.extend(de.commands(&seed.de));
    out.join("\n") + "\n"
}

/// One line of an order for the walkthrough (jq).
const SUMMARY: &str = r#""order #\(.number): \(.status), payment \(.payment_status), \(.fulfillment_status); total \(.total.amount) \(.total.currency), captured \(.captured.amount), refunded \(.refunded.amount)""#;

/// What a walkthrough buys and where it ships.
struct Checkout {
    what: &'static str,
    sku: &'static str,
    email: &'static str,
    /// The shipping address as JSON.
    address: &'static str,
    /// The payment token, for a card gateway.
    token: Option<&'static str>,
    /// Paid through Stripe with a card (`pm_card_visa`).
    stripe: bool,
}

impl Checkout {
    /// Shell commands: a cart with a line, email and address, the first
    /// shipping option, the discount code (if any), the totals, complete,
    /// and the order as the merchant sees it.
    fn commands(&self, m: &DemoMerchant) -> Vec<String> {
        let variant = m.variant_id(self.sku).unwrap_or_default();
        let token = self.token.map(|t| format!(r#","token":"{t}""#)).unwrap_or_default();
        let payment = if self.stripe {
            r#"{"payment":{"provider":"stripe","payment_method":"pm_card_visa"}}"#.to_owned()
        } else {
            format!(r#"{{"payment":{{"provider":"{}"{token}}}}}"#, m.payment_provider)
        };
        let cart = "$B/v1/store/carts/$CART";
        let mut out = vec![
            format!("# {}: {}", m.name, self.what),
            format!("PK={} SK={}", m.publishable_key, m.secret_key),
            format!(
                r#"CART=$(store -X POST $B/v1/store/carts -d '{{"lines":[{{"variant_id":"{variant}","quantity":2}}]}}' | jq -r .id)"#
            ),
            format!(
                r#"store -X PATCH {cart} -d '{{"email":"{}","shipping_address":{}}}' > /dev/null"#,
                self.email, self.address
            ),
            format!("SHIP=$(store {cart}/shipping-options | jq -r '.options[0].code')"),
            format!(r#"store -X PUT {cart}/shipping-option -d "{{\"code\":\"$SHIP\"}}" > /dev/null"#),
        ];
        if let Some(code) = &m.discount_code {
            out.push(format!(r#"store -X POST {cart}/discount-codes -d '{{"code":"{code}"}}' > /dev/null"#));
        }
        out.push(format!(
            "store {cart} | jq -c '{{subtotal, discount_total, shipping_total, tax_total, total}}'"
        ));
        out.push(format!(
            r#"ORDER=$(store -X POST {cart}/complete -H "Idempotency-Key: demo-$CART" -d '{payment}' | jq -r .id)"#
        ));
        out.push(
            r#"admin() { curl -s -H "Authorization: Bearer $SK" -H 'Content-Type: application/json' "$@"; }"#
                .into(),
        );
        out.push(format!(r#"admin $B/v1/admin/orders/$ORDER | jq -r '{SUMMARY}'"#));
        if self.stripe {
            // The PaymentIntent it made, as the stand-in Stripe keeps it.
            out.push(
                r#"admin $B/v1/admin/orders/$ORDER | jq -c '.payment | {provider, provider_reference, status}'"#.into(),
            );
        }
        out.push(String::new());
        out.extend(self.next_steps(m));
        out.push(String::new());
        out
    }

    /// What the merchant does next with the order, one line each.
    fn next_steps(&self, m: &DemoMerchant) -> Vec<String> {
        let mut out = vec![format!(
            "# Next, as {} (the order's full history: admin $B/v1/admin/orders/$ORDER | jq):",
            m.name
        )];
        if self.token.is_none() && !self.stripe {
            out.push(format!(
                r#"admin -X POST $B/v1/admin/orders/$ORDER/capture -d '{{}}' | jq -r '{SUMMARY}'   # the transfer arrived"#
            ));
        }
        out.push(format!(
            r#"LINE=$(admin $B/v1/admin/orders/$ORDER | jq -r '.lines[0].id'); admin -X POST $B/v1/admin/orders/$ORDER/fulfillments -d "{{\"lines\":[{{\"line_id\":\"$LINE\",\"quantity\":2}}],\"carrier\":\"DHL\",\"tracking_number\":\"00340434161234567890\"}}" | jq -r '{SUMMARY}'"#
        ));
        out.push(format!(
            r#"admin -X POST $B/v1/admin/orders/$ORDER/refunds -d '{{"amount":{{"amount":500,"currency":"{}"}},"reason":"goodwill"}}' | jq -r '{SUMMARY}'"#,
            m.currency
        ));
        out
    }
}
