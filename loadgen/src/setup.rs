//! Talking to the host, and setting a merchant up over the platform and
//! admin APIs: plugins installed and bound, a location, a catalog with stock.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, anyhow};
use reqwest::Method;
use serde_json::{Value, json};

/// One client for everything: keep-alive connections, no TLS, no proxy lookups.
pub fn client() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().tcp_nodelay(true).no_proxy().build()?)
}

/// A host at `base`.
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: Arc<str>,
}

/// A request that did not succeed: its status (none for a transport error) and what came back.
#[derive(Debug)]
pub struct Failure {
    pub status: Option<u16>,
    pub text: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(f, "{status} {}", self.text),
            None => write!(f, "{}", self.text),
        }
    }
}

impl std::error::Error for Failure {}

impl Api {
    /// Sends a request and reads the whole body; a non-2xx is a `Failure`
    /// naming the request. The body is parsed only when `parse`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
        parse: bool,
    ) -> Result<(u16, Value), Failure> {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(key);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let failed = |status, what: String| {
            let mut text = format!("{method} {path}: {what}");
            text.truncate(400);
            Failure { status, text }
        };
        let res = req.send().await.map_err(|e| failed(None, e.to_string()))?;
        let status = res.status().as_u16();
        let bytes = res.bytes().await.map_err(|e| failed(Some(status), e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(failed(Some(status), String::from_utf8_lossy(&bytes).into_owned()));
        }
        if !parse || bytes.is_empty() {
            return Ok((status, Value::Null));
        }
        let value = serde_json::from_slice(&bytes).map_err(|e| failed(Some(status), e.to_string()))?;
        Ok((status, value))
    }

    pub async fn get(&self, path: &str, key: &str) -> Result<Value, Failure> {
        Ok(self.call(Method::GET, path, key, None, &[], true).await?.1)
    }

    pub async fn send(&self, method: Method, path: &str, key: &str, body: &Value) -> Result<Value, Failure> {
        Ok(self.call(method, path, key, Some(body), &[], true).await?.1)
    }
}

/// A string field of a JSON answer.
pub fn field(value: &Value, name: &str) -> Result<String> {
    value[name].as_str().map(str::to_owned).ok_or_else(|| anyhow!("no {name:?} in {value}"))
}

/// What the scenarios need: the store key and the variants on sale.
pub struct Shop {
    pub publishable_key: String,
    /// The back office's key (webhook endpoints).
    pub secret_key: String,
    pub variants: Vec<String>,
}

/// The plugins bound, with the fixture configuration each gets.
const PLUGINS: [(&str, &str, &str); 4] = [
    (
        "volume-discount",
        "pricing",
        include_str!("../../plugins/volume-discount/fixtures/best-rule-wins.config.json"),
    ),
    (
        "us-sales-tax",
        "tax",
        include_str!("../../plugins/us-sales-tax/fixtures/ca_rounds_half_even.config.json"),
    ),
    ("flat-rate", "shipping", include_str!("../../plugins/flat-rate/fixtures/below_free_over.config.json")),
    (
        "test-gateway",
        "payment",
        include_str!("../../plugins/test-gateway/fixtures/webhook-signed.config.json"),
    ),
];

/// Onboards a merchant (USD, US), installs and binds the plugins, and
/// creates `products` products of one variant each with plenty of stock.
pub async fn shop(api: &Api, operator_key: &str, plugin_dir: &Path, products: usize) -> Result<Shop> {
    let merchant = api
        .send(
            Method::POST,
            "/v1/platform/merchants",
            operator_key,
            &json!({"name": "Bench shop", "slug": "bench", "default_currency": "USD", "country": "US"}),
        )
        .await?;
    let sk = field(&merchant, "secret_key")?;
    let pk = field(&merchant, "publishable_key")?;

    for (name, point, config) in PLUGINS {
        let path = plugin_dir.join(format!("{name}.wasm"));
        let bytes = std::fs::read(&path)
            .with_context(|| format!("no component at {} (cargo xtask build-plugins)", path.display()))?;
        let res = api
            .client
            .post(format!("{}/v1/platform/plugins", api.base))
            .bearer_auth(operator_key)
            .header("content-type", "application/wasm")
            .body(bytes)
            .send()
            .await?;
        let status = res.status();
        let plugin: Value = res.json().await?;
        anyhow::ensure!(status.is_success(), "installing {name}: {status} {plugin}");
        let config: Value = serde_json::from_str(config)?;
        let body =
            json!({"bindings": [{"plugin_id": field(&plugin, "id")?, "config": config, "on_error": "fail"}]});
        api.send(Method::PUT, &format!("/v1/admin/plugin-bindings/{point}"), &sk, &body).await?;
    }

    // Stripe too, reached at the bench's loopback Stripe.
    let stripe = json!({"secret_key": mercato_fake_stripe::SECRET_KEY,
        "publishable_key": mercato_fake_stripe::PUBLISHABLE_KEY, "webhook_secret": mercato_fake_stripe::WEBHOOK_SECRET});
    api.send(Method::PUT, "/v1/admin/payment-providers/stripe", &sk, &stripe).await?;

    let location = api
        .send(Method::POST, "/v1/admin/locations", &sk, &json!({"name": "Warehouse", "country": "US"}))
        .await?;
    let location = field(&location, "id")?;
    let variants = catalog(api, &sk, &location, products).await?;
    Ok(Shop { publishable_key: pk, secret_key: sk, variants })
}

/// Creates the products from 8 concurrent workers; variants in product order.
async fn catalog(api: &Api, sk: &str, location: &str, products: usize) -> Result<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (api, sk, location, next) = (api.clone(), sk.to_owned(), location.to_owned(), next.clone());
        workers.spawn(async move {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= products {
                    return Ok::<_, anyhow::Error>(made);
                }
                made.push((i, product(&api, &sk, &location, i).await?));
            }
        });
    }
    let mut variants = vec![String::new(); products];
    while let Some(done) = workers.join_next().await {
        for (i, variant) in done?? {
            variants[i] = variant;
        }
    }
    Ok(variants)
}

/// Product `i`: every other one tagged `bulk` (the volume discount's tag).
async fn product(api: &Api, sk: &str, location: &str, i: usize) -> Result<String> {
    let tags: &[&str] = if i.is_multiple_of(2) { &["bulk"] } else { &[] };
    let body = json!({
        "title": format!("Bench product {i}"),
        "handle": format!("bench-{i}"),
        "status": "active",
        "tags": tags,
        "variants": [{
            "sku": format!("BENCH-{i:05}"),
            "price": {"amount": 500 + (i * 37) % 4500, "currency": "USD"},
            "weight_grams": 100 + (i * 13) % 900,
        }],
    });
    let product = api.send(Method::POST, "/v1/admin/products", sk, &body).await?;
    let variant = product["variants"][0]["id"].as_str().ok_or_else(|| anyhow!("no variant in {product}"))?;
    let stock = json!({"location_id": location, "on_hand": 1_000_000});
    api.send(Method::PUT, &format!("/v1/admin/inventory/{variant}"), sk, &stock).await?;
    Ok(variant.to_owned())
}

/// The address every cart ships to (California: the tax plugin's nexus).
pub fn address() -> Value {
    json!({"name": "Ada Buyer", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
           "postal_code": "94105", "country": "US"})
}

/// `lines` as the cart API takes them.
pub fn lines(shop: &Shop, picks: impl IntoIterator<Item = (usize, u32)>) -> Value {
    let lines: Vec<Value> = picks
        .into_iter()
        .map(|(i, quantity)| json!({"variant_id": shop.variants[i % shop.variants.len()], "quantity": quantity}))
        .collect();
    Value::Array(lines)
}

/// Creates a cart with these lines and an email; its id.
pub async fn cart(api: &Api, shop: &Shop, lines: Value, email: &str) -> Result<String, Failure> {
    let body = json!({"currency": "USD", "email": email, "lines": lines});
    let cart = api.send(Method::POST, "/v1/store/carts", &shop.publishable_key, &body).await?;
    cart["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure { status: None, text: format!("no id in {cart}") })
}

/// Gives a cart the shipping address and selects its first shipping option.
pub async fn ready_to_ship(api: &Api, shop: &Shop, cart: &str) -> Result<(), Failure> {
    let pk = &shop.publishable_key;
    let path = format!("/v1/store/carts/{cart}");
    api.send(Method::PATCH, &path, pk, &json!({"shipping_address": address()})).await?;
    let options = api.get(&format!("{path}/shipping-options"), pk).await?;
    let code = options["options"][0]["code"].as_str().ok_or_else(|| Failure {
        status: None,
        text: format!("GET {path}/shipping-options: no option in {options}"),
    })?;
    api.send(Method::PUT, &format!("{path}/shipping-option"), pk, &json!({"code": code})).await?;
    Ok(())
}
