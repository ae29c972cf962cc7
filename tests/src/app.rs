//! `spawn_app`: a real host on 127.0.0.1:0 with a fresh database (a SQLite
//! file, or a PostgreSQL schema of its own) and the real plugin runtime.

use std::sync::Arc;

use mercato::db::{Backend, Db};
use mercato::http::AppState;
use mercato::runtime::{Runtime, RuntimeConfig};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

use crate::components_dir;

/// A running host.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub client: reqwest::Client,
    pub operator_key: String,
    pub db: Db,
    pub backend: Backend,
    /// The host's state (shares its caches), for calling the commerce core directly.
    pub state: AppState,
    _dir: tempfile::TempDir,
}

/// A merchant created through the platform API, with its keys.
#[derive(Debug, Clone)]
pub struct TestMerchant {
    pub id: String,
    pub secret_key: String,
    pub publishable_key: String,
}

/// A response: status, headers and JSON body (`null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status (printing the body otherwise) and returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {:#}", self.body);
        self.body
    }

    /// Asserts a problem+json error with this status and code.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Value {
        let ct =
            self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body = self.expect(status);
        assert_eq!(body["code"], code, "wrong code in {body:#}");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["status"], status);
        body
    }
}

/// Milliseconds encoded in a test schema name (`t_s` + a time-ordered id).
fn schema_age_ms(name: &str) -> Option<i64> {
    const CROCKFORD: &str = "0123456789abcdefghjkmnpqrstvwxyz";
    let ms = name
        .strip_prefix("t_s")?
        .get(..10)?
        .chars()
        .try_fold(0i64, |acc, c| CROCKFORD.find(c).map(|v| (acc << 5) | v as i64))?;
    Some(mercato::db::now_ms() - ms)
}

/// Drops test schemas left by runs more than an hour old.
async fn drop_stale_schemas(admin: &sqlx::AnyPool) {
    let rows: Vec<(String,)> =
        sqlx::query_as("select schema_name from information_schema.schemata where schema_name like 't\\_s%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    for (name,) in rows {
        if schema_age_ms(&name).is_some_and(|age| age > 3_600_000) {
            let _ = sqlx::query(&format!("drop schema if exists {name} cascade")).execute(admin).await;
        }
    }
}

async fn postgres_schema(url: &str) -> String {
    static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let schema = format!("t_{}", mercato::commerce::ids::new_id("s").to_lowercase().replace('_', ""));
    let admin = sqlx::AnyPool::connect(url).await.expect("connect to MERCATO_TEST_POSTGRES_URL");
    CLEANED.get_or_init(|| drop_stale_schemas(&admin)).await;
    sqlx::query(&format!("create schema {schema}")).execute(&admin).await.expect("create schema");
    admin.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Starts a host on `backend`; `None` for PostgreSQL when
/// `MERCATO_TEST_POSTGRES_URL` is not set.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |shop| shop).await
}

/// [`spawn_app`], its commerce core set up by `setup` (e.g. Stripe reached
/// at a fake).
pub async fn spawn_app_with(
    backend: Backend,
    setup: impl FnOnce(mercato::commerce::Shop) -> mercato::commerce::Shop,
) -> Option<TestApp> {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("mercato.db").display()),
        Backend::Postgres => postgres_schema(&std::env::var("MERCATO_TEST_POSTGRES_URL").ok()?).await,
    };
    let db = Db::connect(&url).await.expect("database");
    db.migrate().await.expect("migrations");
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: Some(components_dir().join("test-cache")),
        ..Default::default()
    })
    .expect("runtime");
    let operator_key = "op_test_operator_key".to_owned();
    let state =
        AppState::new(setup(mercato::commerce::Shop::new(db.clone(), Arc::new(runtime))), &operator_key);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = state.clone();
    tokio::spawn(async move { mercato::http::serve(listener, served).await });
    Some(TestApp { base, client: reqwest::Client::new(), operator_key, db, backend, state, _dir: dir })
}

impl TestApp {
    /// What commerce operations that run plugins need, sharing the host's caches.
    pub fn shop(&self) -> mercato::commerce::Shop {
        self.state.shop.clone()
    }

    /// Starts another host on this host's database, as an operator runs
    /// several behind a load balancer (with its own caches and operator
    /// key), and returns its base URL.
    pub async fn serve_another(&self, operator_key: &str) -> String {
        self.serve_another_with(operator_key, |state| state).await
    }

    /// [`TestApp::serve_another`], with its state set up by `setup` (e.g.
    /// other limits).
    pub async fn serve_another_with(
        &self,
        operator_key: &str,
        setup: impl FnOnce(AppState) -> AppState,
    ) -> String {
        let runtime = Arc::new(
            Runtime::new(RuntimeConfig {
                cache_dir: Some(components_dir().join("test-cache")),
                ..Default::default()
            })
            .expect("runtime"),
        );
        mercato::commerce::plugins::load_installed(&self.db, &runtime).await.expect("plugins load");
        let state =
            setup(AppState::new(mercato::commerce::Shop::new(self.db.clone(), runtime), operator_key));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { mercato::http::serve(listener, state).await });
        base
    }

    /// A request with a bearer key.
    pub fn request(&self, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
        let req = self.client.request(method, format!("{}{path}", self.base));
        match key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
    }

    /// Sends and collects a reply.
    pub async fn send(&self, req: RequestBuilder) -> Reply {
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.send(self.request(Method::GET, path, Some(key))).await
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.send(self.request(Method::POST, path, Some(key)).json(body)).await
    }

    pub async fn put(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.send(self.request(Method::PUT, path, Some(key)).json(body)).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.send(self.request(Method::PATCH, path, Some(key)).json(body)).await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.send(self.request(Method::DELETE, path, Some(key))).await
    }

    /// Onboards a merchant through the platform API.
    pub async fn merchant(&self, slug: &str, currency: &str, country: &str) -> TestMerchant {
        let body = json!({"name": format!("{slug} shop"), "slug": slug, "default_currency": currency, "country": country});
        let m = self.post("/v1/platform/merchants", &self.operator_key, &body).await.expect(201);
        TestMerchant {
            id: m["id"].as_str().unwrap().to_owned(),
            secret_key: m["secret_key"].as_str().unwrap().to_owned(),
            publishable_key: m["publishable_key"].as_str().unwrap().to_owned(),
        }
    }
}

/// Runs a test body on SQLite, and on PostgreSQL when configured:
/// `on_both_databases!(name, |app| async move { … });`
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::app::spawn_app(mercato::db::Backend::Sqlite).await.expect("sqlite app");
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::app::spawn_app(mercato::db::Backend::Postgres).await {
                    Some(app) => ($body)(app).await,
                    None => eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL"),
                }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_names_tell_their_age() {
        let name = format!("t_{}", mercato::commerce::ids::new_id("s").to_lowercase().replace('_', ""));
        let age = super::schema_age_ms(&name).expect("a test schema name");
        assert!((0..60_000).contains(&age), "{name}: {age} ms");
        assert_eq!(super::schema_age_ms("public"), None);
    }
}
