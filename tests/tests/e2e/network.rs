//! Payment plugins reach only the hosts the operator allowed, through the
//! real runtime and a real HTTP peer on loopback.

use std::sync::Arc;

use mercato::runtime::{Call, CallError, FailureKind, HostPort, InstalledPlugin, MAX_BODY_BYTES, Runtime};
use mercato_sdk::payment::{PaymentCall, PaymentReply, PaymentRequest};
use mercato_sdk::{Currency, Money};
use mercato_tests::psp::FakePsp;
use mercato_tests::{component, runtime};

/// Asks the probe to GET `url`; the call runs on the blocking pool, as the
/// host runs payment calls.
async fn probe(rt: &Arc<Runtime>, plugin: &Arc<InstalledPlugin>, url: &str) -> Result<String, CallError> {
    let (rt, plugin, url) = (rt.clone(), plugin.clone(), url.to_owned());
    tokio::task::spawn_blocking(move || {
        let call = PaymentCall::CreatePayment(PaymentRequest {
            amount: Money::new(1000, Currency::USD),
            order_reference: "ord_1".into(),
            payment_method_token: Some(url),
            idempotency_key: "pay_1".into(),
            capture: true,
            email: None,
        });
        rt.payment(Call::new(&plugin, "null"), &call).map(|o| match o.output {
            PaymentReply::Result(r) => r.message.unwrap_or_default(),
            PaymentReply::Event(e) => panic!("an event from create-payment: {e:?}"),
        })
    })
    .await
    .expect("the call finishes")
}

fn allow(rt: &Runtime, plugin: &InstalledPlugin, hosts: &[&str]) {
    let hosts = hosts.iter().map(|h| HostPort::parse(h).expect("a host:port")).collect();
    rt.set_allowed_hosts(&plugin.id, hosts).expect("the plugin is installed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_plugin_reaches_only_the_hosts_it_was_allowed() {
    let rt = Arc::new(runtime());
    let plugin = rt.install(&component("net-probe")).expect("net-probe installs");
    let psp = FakePsp::start().await;
    let elsewhere = FakePsp::start().await;
    let url = |path: &str| format!("{}{path}", psp.base_url);

    // Nothing is allowed until the operator says so.
    let e = probe(&rt, &plugin, &url("/big?bytes=10")).await.expect_err("refused");
    assert!(
        matches!(&e.kind, FailureKind::NetworkRefused { destination } if destination.starts_with(&format!("127.0.0.1:{} ", psp.port))),
        "{e}"
    );
    assert!(e.to_string().contains("net-probe@0.1.0"), "the error names the plugin: {e}");

    allow(&rt, &plugin, &[&format!("127.0.0.1:{}", psp.port)]);
    let answer = probe(&rt, &plugin, &url("/big?bytes=10")).await.expect("allowed");
    assert!(answer.starts_with("status=200 bytes=10 "), "{answer}");
    let stats = plugin.network.snapshot();
    assert_eq!((stats.requests, stats.refused, stats.bytes_received), (1, 1, 10));

    // Another port of the same address is another host.
    let other = format!("{}/big?bytes=10", elsewhere.base_url);
    let e = probe(&rt, &plugin, &other).await.expect_err("refused");
    assert_eq!(e.kind.code(), "network_refused", "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{}", elsewhere.port)), "names the host: {e}");

    // A redirect goes back to the plugin; the host follows nothing.
    let redirect = url(&format!("/redirect?to={}/steal", elsewhere.base_url));
    let answer = probe(&rt, &plugin, &redirect).await.expect("the redirect itself is an answer");
    assert!(answer.starts_with("status=302 bytes=0 location=http://127.0.0.1:"), "{answer}");
    assert!(elsewhere.requests().is_empty(), "the refused host heard nothing: {:?}", elsewhere.requests());

    // A response over the cap fails the call; the host stopped reading at the cap.
    let e = probe(&rt, &plugin, &url(&format!("/big?bytes={}", 2 * MAX_BODY_BYTES)))
        .await
        .expect_err("too large");
    assert!(e.to_string().to_lowercase().contains("size") || e.to_string().contains("TooLarge"), "{e}");
    assert!(plugin.network.snapshot().bytes_received <= 10 + MAX_BODY_BYTES + 64 * 1024);

    // A request body over the cap is never sent.
    let before = psp.requests().len();
    let big_post = format!("post:{}:{}", MAX_BODY_BYTES + 1, url("/upload"));
    let e = probe(&rt, &plugin, &big_post).await.expect_err("too large to send");
    assert_eq!(e.kind.code(), "plugin_error", "{e}");
    assert_eq!(psp.requests().len(), before, "the peer heard nothing");
    let small_post = format!("post:100:{}", url("/upload"));
    let answer = probe(&rt, &plugin, &small_post).await.expect("a small body is sent");
    assert!(answer.starts_with("status=404"), "the fake has no /upload: {answer}");
    assert_eq!(plugin.network.snapshot().bytes_sent, 100);

    // A name is checked for where it leads: localhost is loopback, refused
    // even when listed by name; the address itself had to be listed.
    allow(&rt, &plugin, &[&format!("localhost:{}", psp.port)]);
    let e = probe(&rt, &plugin, &format!("http://localhost:{}/big?bytes=1", psp.port))
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("not public"), "{e}");
    let paths: Vec<String> = psp.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/big", "/redirect", "/big", "/upload"], "only the allowed requests reached the peer");
}
