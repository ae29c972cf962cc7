//! `mercato serve` as an operator runs it: first start on an empty data
//! directory, a request, SIGTERM, a restart that keeps the operator key.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

/// Where a host's logs (stderr, at debug level) go, appended run after run.
fn log(data_dir: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("serve.log")).unwrap()
}

/// Starts `mercato serve` on port 0 and returns it with its address and the
/// lines it printed before "listening on". The caller waits for it in `stop`.
#[allow(clippy::zombie_processes)]
fn start(data_dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mercato"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .env("MERCATO_DATA_DIR", data_dir)
        .env_remove("MERCATO_OPERATOR_KEY")
        .env_remove("MERCATO_SECRET_KEY")
        .env_remove("MERCATO_DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(log(data_dir))
        .spawn()
        .expect("mercato starts");
    let mut lines = Vec::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("serve exited early ({status:?}); printed {lines:?}");
        }
        if let Some(addr) = line.trim().strip_prefix("listening on http://") {
            return (child, addr.to_owned(), lines);
        }
        lines.push(line.trim().to_owned());
    }
}

/// One HTTP/1.1 request; returns the status and the body.
fn http(addr: &str, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = key.map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

fn stop(mut child: Child) {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[test]
fn serve_creates_its_database_prints_the_operator_key_once_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr, printed) = start(dir.path(), &[]);
    let key = printed.iter().find(|l| l.starts_with("op_")).cloned().expect("the generated key is printed");
    let sealing =
        printed.iter().find_map(|l| l.split("MERCATO_SECRET_KEY=").nth(1)).expect("the secret key too");
    let sealing = sealing.trim().to_owned();
    assert_eq!(std::fs::read_to_string(dir.path().join("secret-key")).unwrap(), sealing, "and kept");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("secret-key")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by the host's user only");
    }
    assert!(dir.path().join("mercato.db").exists(), "SQLite file created on first start");
    assert_eq!(http(&addr, "GET", "/readyz", None, "").0, 200);
    let merchant = r#"{"name":"Acme","slug":"acme","default_currency":"USD","country":"US"}"#;
    let (status, body) = http(&addr, "POST", "/v1/platform/merchants", Some(&key), merchant);
    assert_eq!(status, 201, "{body}");

    // A merchant's Stripe secrets go in and never come out, in answers or in logs.
    let sk = body.split("\"secret_key\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_owned();
    let (secret, hook) = ("sk_test_51HneverLOGGEDsecret0001", "whsec_neverLOGGEDsigning0001");
    let stripe = format!(
        r#"{{"secret_key":"{secret}","publishable_key":"pk_test_51Hpublic0001","webhook_secret":"{hook}"}}"#
    );
    let (status, answer) = http(&addr, "PUT", "/v1/admin/payment-providers/stripe", Some(&sk), &stripe);
    assert_eq!(status, 200, "{answer}");
    let wrong = stripe.replace("pk_test_", "pk_live_");
    let (status, refusal) = http(&addr, "PUT", "/v1/admin/payment-providers/stripe", Some(&sk), &wrong);
    assert_eq!(status, 422, "{refusal}");
    stop(child);

    // Restart: no new key, the old one still works, the data is still there.
    let (child, addr, printed) = start(dir.path(), &[]);
    assert!(!printed.iter().any(|l| l.starts_with("op_")), "the key is printed once: {printed:?}");
    assert!(!printed.iter().any(|l| l.contains("MERCATO_SECRET_KEY")), "so is the secret key: {printed:?}");
    let (status, body) = http(&addr, "GET", "/v1/platform/merchants", Some(&key), "");
    assert_eq!(status, 200);
    assert!(body.contains("\"acme\""), "{body}");
    assert_eq!(http(&addr, "GET", "/v1/platform/merchants", Some("op_wrong"), "").0, 401);
    let (status, shown) = http(&addr, "GET", "/v1/admin/payment-providers/stripe", Some(&sk), "");
    assert_eq!(status, 200, "{shown}");
    stop(child);

    let logs = std::fs::read_to_string(dir.path().join("serve.log")).unwrap();
    assert!(logs.contains("/v1/admin/payment-providers/stripe"), "the requests were logged: {logs}");
    for text in [&answer, &refusal, &shown, &logs] {
        assert!(!text.contains("neverLOGGED"), "a Stripe secret leaked: {text}");
    }
    assert!(!logs.contains(&sealing), "the secret key is never logged");
}

#[test]
fn serve_places_as_many_checkouts_at_once_as_told_and_refuses_a_bad_number() {
    let dir = tempfile::tempdir().unwrap();
    for bad in [["--checkouts-at-once", "0"], ["--checkouts-at-once", "many"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_mercato"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(bad)
            .env("MERCATO_DATA_DIR", dir.path())
            .env_remove("MERCATO_CHECKOUTS_AT_ONCE")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "a usage error: {stderr}");
        assert!(stderr.contains("--checkouts-at-once"), "names the flag: {stderr}");
    }
    assert!(!dir.path().join("mercato.db").exists(), "refused before anything was made");

    let (child, addr, _) = start(dir.path(), &[("MERCATO_CHECKOUTS_AT_ONCE", "3")]);
    let (status, metrics) = http(&addr, "GET", "/metrics", None, "");
    assert_eq!(status, 200);
    for step in ["place", "record"] {
        assert!(metrics.contains(&format!("mercato_checkout_slots{{step=\"{step}\"}} 3\n")), "{metrics}");
        assert!(
            metrics.contains(&format!("mercato_checkout_steps_total{{step=\"{step}\"}} 0\n")),
            "{metrics}"
        );
    }
    stop(child);
}
