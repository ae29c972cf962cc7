use std::sync::Arc;

use mercato::runtime::{Call, CallError, FailureKind, InstalledPlugin, LimitOverrides, Runtime};
use mercato_sdk::payment::{PaymentCall, PaymentRequest};
use mercato_sdk::{Currency, Money};
use mercato_tests::{component, install, runtime, tax_input};

fn hostile(runtime: &Runtime, overrides: LimitOverrides) -> Arc<InstalledPlugin> {
    runtime.install_with(&component("hostile-tax"), &overrides).expect("hostile-tax installs")
}

#[track_caller]
fn fails(runtime: &Runtime, plugin: &InstalledPlugin, mode: &str, lines: usize) -> CallError {
    let config = format!(r#"{{"mode":"{mode}"}}"#);
    match runtime.tax(Call::new(plugin, &config), &tax_input(lines)) {
        Ok(out) => panic!("mode {mode} succeeded: {:?}", out.output),
        Err(e) => {
            assert_eq!(e.plugin, "hostile-tax@0.1.0", "the error names the plugin");
            assert_eq!(e.call, "calculate", "the error names the call");
            assert!(e.to_string().contains("hostile-tax@0.1.0"), "{e}");
            e
        }
    }
}

#[track_caller]
fn still_serves(runtime: &Runtime, plugin: &InstalledPlugin) {
    let out = runtime.tax(Call::new(plugin, r#"{"mode":"ok"}"#), &tax_input(3)).expect("good call works");
    assert_eq!(out.output.lines.len(), 3);
}

#[test]
fn endless_loop_runs_out_of_fuel() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let e = fails(&rt, &p, "loop", 5);
    assert_eq!(e.kind, FailureKind::OutOfFuel { limit: 11_000_000 });
    assert!(e.to_string().contains("ran out of fuel (limit 11000000 instructions)"), "{e}");
    still_serves(&rt, &p);
}

#[test]
fn fuel_grows_with_the_cart_above_200_lines() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let e = fails(&rt, &p, "loop", 1000);
    assert_eq!(e.kind, FailureKind::OutOfFuel { limit: 55_000_000 });
}

#[test]
fn endless_loop_with_ample_fuel_hits_the_deadline() {
    let rt = runtime();
    let overrides = LimitOverrides {
        fuel_per_200_lines: Some(u64::MAX / 4),
        deadline_ms: Some(20),
        ..Default::default()
    };
    let p = hostile(&rt, overrides);
    let e = fails(&rt, &p, "loop", 5);
    assert_eq!(e.kind, FailureKind::Deadline { limit_ms: 20 });
    assert!(e.to_string().contains("exceeded its deadline of 20 ms"), "{e}");
    still_serves(&rt, &p);
}

#[test]
fn unbounded_allocation_hits_the_memory_cap() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let e = fails(&rt, &p, "alloc", 5);
    assert_eq!(e.kind, FailureKind::Memory { limit_bytes: 16 << 20 });
    assert!(e.to_string().contains("memory limit of 16777216 bytes"), "{e}");
    still_serves(&rt, &p);
}

#[test]
fn a_panic_is_a_trap() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let e = fails(&rt, &p, "trap", 5);
    assert!(matches!(e.kind, FailureKind::Trap(_)), "{e}");
    assert_eq!(e.kind.code(), "trap");
    still_serves(&rt, &p);
}

#[test]
fn a_ten_megabyte_output_is_refused() {
    let rt = runtime();
    // Building 10 MB takes a debug build on a busy machine past the
    // production deadline; this test is about the output cap.
    let p = hostile(&rt, LimitOverrides { deadline_ms: Some(5_000), ..Default::default() });
    let e = fails(&rt, &p, "big-output", 1);
    match e.kind {
        FailureKind::OutputTooLarge { size, limit } => {
            assert!(size > 10 << 20, "{size}");
            assert_eq!(limit, 1 << 20);
        }
        other => panic!("expected output_too_large, got {other}"),
    }
    still_serves(&rt, &p);
}

#[test]
fn invalid_outputs_are_plugin_failures() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    for (mode, needle) in [
        ("negative-tax", "negative tax -1"),
        ("unknown-line", "tax for unknown line 2 (the input has 2 lines)"),
        ("same-tax-twice", "taxed twice at rates[0]"),
        ("too-much-tax", "more than the amount taxed"),
    ] {
        let e = fails(&rt, &p, mode, 2);
        match &e.kind {
            FailureKind::InvalidOutput(msg) => assert!(msg.contains(needle), "{mode}: {msg}"),
            other => panic!("{mode}: expected invalid output, got {other}"),
        }
    }
    still_serves(&rt, &p);
}

#[test]
fn an_error_the_plugin_reports_is_passed_on() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let e = fails(&rt, &p, "refuse", 2);
    assert_eq!(
        e.kind,
        FailureKind::Reported {
            code: "unsupported_region".into(),
            message: "no tax tables for this region".into()
        }
    );
    let e = fails(&rt, &p, "no-such-mode", 2);
    assert!(matches!(&e.kind, FailureKind::Reported { code, .. } if code == "invalid_config"), "{e}");
}

#[test]
fn logging_is_bounded() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let out = rt.tax(Call::new(&p, r#"{"mode":"log-spam"}"#), &tax_input(1)).expect("logging is allowed");
    assert_eq!(out.logs.len(), 32);
    assert!(out.logs.iter().all(|l| l.message.len() <= 1024 && l.level == "info"));
}

#[test]
fn a_stack_overflow_is_named_as_such() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let e = fails(&rt, &p, "recurse", 1);
    assert_eq!(e.kind, FailureKind::StackOverflow, "{e}");
    assert!(e.to_string().contains("overflowed its stack"), "{e}");
    assert!(rt.tax(Call::new(&p, r#"{"mode":"ok"}"#), &tax_input(1)).is_ok(), "the next call is fine");
}

#[test]
fn the_journal_keeps_what_a_plugin_printed_and_its_last_errors_by_merchant() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides::default());
    let call = |mode: &str, merchant: &'static str| {
        let config = format!(r#"{{"mode":"{mode}"}}"#);
        rt.tax(
            mercato::runtime::Call {
                plugin: &p,
                config: &config,
                merchant,
                breaker: None,
                background: false,
            },
            &tax_input(1),
        )
    };
    call("print", "mer_a").expect("printing is allowed");
    call("log-spam", "mer_a").expect("logging is allowed");
    call("trap", "mer_b").unwrap_err();
    let (lines, errors) = p.journal.view(Some("mer_a"));
    let printed: Vec<&str> =
        lines.iter().filter(|l| l.level == "printed").map(|l| l.message.as_str()).collect();
    assert_eq!(printed, ["to stdout from the plugin", "to stderr from the plugin"]);
    assert!(lines.iter().any(|l| l.level == "info"), "log lines too");
    assert!(lines.iter().all(|l| l.merchant_id == "mer_a"), "only merchant a's calls");
    assert!(errors.is_empty(), "merchant a's calls did not fail");
    let (lines, errors) = p.journal.view(Some("mer_b"));
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].kind.as_str(), errors[0].call.as_str()), ("trap", "calculate"));
    assert!(errors[0].message.contains("hostile plugin panicked on purpose"), "{:?}", errors[0]);
    assert!(lines.iter().any(|l| l.message.contains("panicked at")), "the panic as printed: {lines:?}");
}

#[test]
fn input_over_the_cap_is_refused_before_the_call() {
    let rt = runtime();
    let p = hostile(&rt, LimitOverrides { max_input_bytes: Some(1000), ..Default::default() });
    let e = fails(&rt, &p, "ok", 50);
    assert!(matches!(e.kind, FailureKind::InputTooLarge { limit: 1000, .. }), "{e}");
    assert_eq!(p.stats.snapshot().failures, 1);
}

#[test]
fn outbound_http_is_refused() {
    let rt = runtime();
    let p = install(&rt, "hostile-payment");
    let call = PaymentCall::CreatePayment(PaymentRequest {
        amount: Money::new(1000, Currency::USD),
        order_reference: "1001".into(),
        payment_method_token: None,
        idempotency_key: "k1".into(),
        capture: true,
        email: None,
    });
    let e = rt.payment(Call::new(&p, "null"), &call).expect_err("the plugin reports the refusal");
    // The plugin saw `HTTP-request-denied`; the call's failure names the host it asked for.
    match &e.kind {
        FailureKind::NetworkRefused { destination } => {
            assert!(destination.starts_with("127.0.0.1:9 "), "{destination}");
        }
        other => panic!("expected a refusal naming the host, got {other}"),
    }
    assert_eq!(e.kind.code(), "network_refused");
    assert!(e.to_string().contains("hostile-payment@"), "the error names the plugin: {e}");
    assert_eq!(p.network.snapshot().requests, 0, "nothing was sent");
}

/// After every kind of hostile call, in any order, on several threads, the
/// same runtime keeps answering good calls correctly.
#[test]
fn the_host_keeps_serving_good_calls_among_hostile_ones() {
    let rt = Arc::new(runtime());
    let bad = hostile(&rt, LimitOverrides { deadline_ms: Some(200), ..Default::default() });
    let good = install(&rt, "flat-tax");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (rt, bad, good) = (rt.clone(), bad.clone(), good.clone());
            std::thread::spawn(move || {
                let modes = ["loop", "alloc", "trap", "big-output", "negative-tax", "refuse"];
                for (i, mode) in modes.iter().cycle().skip(t).take(12).enumerate() {
                    let config = format!(r#"{{"mode":"{mode}"}}"#);
                    assert!(rt.tax(Call::new(&bad, &config), &tax_input(3)).is_err());
                    let out =
                        rt.tax(Call::new(&good, r#"{"rate":"0.1"}"#), &tax_input(3)).expect("good call");
                    assert_eq!(out.output.lines[0].amount, 200, "iteration {i}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread panicked");
    }
    let bad_stats = bad.stats.snapshot();
    assert_eq!((bad_stats.calls, bad_stats.failures), (48, 48));
    let good_stats = good.stats.snapshot();
    assert_eq!((good_stats.calls, good_stats.failures), (48, 0));
    assert!(good_stats.p50_us > 0.0);
}
