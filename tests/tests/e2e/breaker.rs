use std::time::Duration;

use mercato::runtime::{BreakerPolicy, Call, CircuitBreaker, CircuitState, FailureKind};
use mercato_tests::{install, runtime, tax_input};

#[test]
fn repeated_failures_open_the_breaker_and_a_good_trial_closes_it() {
    let rt = runtime();
    let p = install(&rt, "hostile-tax");
    let breaker =
        CircuitBreaker::new(BreakerPolicy { failure_threshold: 3, cool_down: Duration::from_millis(100) });
    let call = |mode: &str| {
        let config = format!(r#"{{"mode":"{mode}"}}"#);
        rt.tax(
            Call { plugin: &p, config: &config, merchant: "m_1", breaker: Some(&breaker), background: false },
            &tax_input(2),
        )
    };
    for _ in 0..3 {
        let e = call("trap").unwrap_err();
        assert_eq!(e.kind.code(), "trap");
        // The guest's panic message, captured from its stderr.
        assert!(
            e.to_string().contains("panicked at")
                && e.to_string().contains("hostile plugin panicked on purpose"),
            "{e}"
        );
    }
    assert_eq!(breaker.state(), CircuitState::Open);
    let calls_before = p.stats.snapshot().calls;
    let e = call("ok").unwrap_err();
    let FailureKind::CircuitOpen { failures, last_failure, retry_in_ms } = &e.kind else { panic!("{e}") };
    assert_eq!(*failures, 3);
    assert!(last_failure.contains("panicked on purpose"), "names the failure that opened it: {e}");
    assert!(*retry_in_ms <= 100, "and when it lets a call through: {e}");
    assert!(e.to_string().contains("trial call is let through in"), "{e}");
    assert_eq!(p.stats.snapshot().calls, calls_before, "an open breaker does not call the plugin");
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(breaker.state(), CircuitState::HalfOpen);
    assert!(call("trap").is_err(), "the trial fails");
    assert_eq!(breaker.state(), CircuitState::Open);
    std::thread::sleep(Duration::from_millis(120));
    assert!(call("ok").is_ok(), "the trial succeeds");
    assert_eq!(breaker.state(), CircuitState::Closed);
}
