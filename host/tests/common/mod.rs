//! What the tests that run `mercato serve` as a process share: starting
//! it, plain HTTP/1.1 to it, the built plugins, a PostgreSQL schema.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

pub const OPERATOR: &str = "op_crash_test_operator_key";

/// A built plugin component (`cargo xtask build-plugins`).
pub fn plugin_wasm(name: &str) -> Vec<u8> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("plugins").join(format!("{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): run `cargo xtask build-plugins`", path.display()))
}

/// A host that is killed when the test ends, even when it fails.
pub struct Host(pub Child);

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `mercato serve` on `url` with `env` set and waits for its
/// address. The child is waited for by `Host`'s drop (or right here if it
/// exits early).
#[allow(clippy::zombie_processes)]
pub fn start(data_dir: &Path, url: &str, env: &[(&str, &str)]) -> (Host, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mercato"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("MERCATO_DATA_DIR", data_dir)
        .env("MERCATO_DATABASE_URL", url)
        .env("MERCATO_OPERATOR_KEY", OPERATOR)
        .env("MERCATO_WEBHOOK_ALLOW_PRIVATE", "1")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("mercato starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("serve exited early: {:?}", child.wait());
        }
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            return (Host(child), addr.to_owned());
        }
    }
}

/// One HTTP/1.1 request: status and JSON body (status 0 and `Value::Null`
/// when there was no answer: refused, or the connection ended).
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
    let Ok(mut stream) = TcpStream::connect(addr) else { return (0, Value::Null) };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).is_err() {
        return (0, Value::Null);
    }
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response);
    let Some(status) = response.split(' ').nth(1).and_then(|s| s.parse().ok()) else {
        return (0, Value::Null);
    };
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A JSON request with a bearer key: its status and body.
pub fn call(addr: &str, method: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    let body = if body.is_null() { String::new() } else { body.to_string() };
    http(addr, method, path, &headers, body.as_bytes())
}

/// [`call`], asserting a 2xx; the body.
pub fn json_call(addr: &str, method: &str, path: &str, key: &str, body: Value) -> Value {
    let (status, reply) = call(addr, method, path, key, &body);
    assert!((200..300).contains(&status), "{method} {path}: {status} {reply:#}");
    reply
}

/// A merchant ("acme", USD) with the test gateway installed and bound and
/// one stock location: (the merchant as created, with its keys; the
/// gateway's plugin id; the location's id).
pub fn gateway_merchant(addr: &str) -> (Value, String, String) {
    let m = json_call(
        addr,
        "POST",
        "/v1/platform/merchants",
        OPERATOR,
        serde_json::json!({"name": "Acme", "slug": "acme", "default_currency": "USD", "country": "US"}),
    );
    let sk = m["secret_key"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {OPERATOR}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/wasm")];
    let (status, plugin) = http(addr, "POST", "/v1/platform/plugins", &headers, &plugin_wasm("test-gateway"));
    assert_eq!(status, 201, "{plugin:#}");
    let gateway = plugin["id"].as_str().unwrap().to_owned();
    let bind = serde_json::json!({"bindings": [{"plugin_id": gateway, "config": {}}]});
    json_call(addr, "PUT", "/v1/admin/plugin-bindings/payment", &sk, bind);
    let location = serde_json::json!({"name": "Main", "country": "US"});
    let location = json_call(addr, "POST", "/v1/admin/locations", &sk, location);
    (m, gateway, location["id"].as_str().unwrap().to_owned())
}

/// Runs `test` on a fresh PostgreSQL schema, when MERCATO_TEST_POSTGRES_URL is set.
pub fn on_postgres(prefix: &str, test: fn(&str)) {
    let Ok(url) = std::env::var("MERCATO_TEST_POSTGRES_URL") else {
        eprintln!("MERCATO_TEST_POSTGRES_URL is not set: skipped on PostgreSQL");
        return;
    };
    let schema = format!("{prefix}_{}", std::process::id());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(&admin).await.unwrap();
        sqlx::query(&format!("create schema {schema}")).execute(&admin).await.unwrap();
    });
    let sep = if url.contains('?') { '&' } else { '?' };
    test(&format!("{url}{sep}options=-c%20search_path%3D{schema}"));
    runtime.block_on(async {
        let admin = sqlx::AnyPool::connect(&url).await.unwrap();
        let _ = sqlx::query(&format!("drop schema if exists {schema} cascade")).execute(&admin).await;
    });
}
