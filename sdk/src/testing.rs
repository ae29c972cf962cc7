//! A native test harness: run a plugin's logic with plain `cargo test`, and
//! check it against the JSON fixtures in `fixtures/` that the runtime tests
//! also run through the compiled component.
//!
//! A fixture is `fixtures/<case>.input.json` + `<case>.expected.json`, with an
//! optional `<case>.config.json` (default `{}`). The expected file holds the
//! plugin's output, or `{"error": {"code": "..."}}` when the call must fail
//! with that code.
//!
//! ```ignore
//! #[test]
//! fn fixtures() {
//!     mercato_sdk::testing::check_fixtures(env!("CARGO_MANIFEST_DIR"), mercato_sdk::testing::tax::<MyTax>);
//! }
//! ```

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::payment::{Payment, PaymentCall, PaymentReply};
use crate::pricing::{Ledger, Pricing, PricingInput};
use crate::recommendations::{Recommendations, RecommendationsInput};
use crate::shipping::Shipping;
use crate::tax::{Tax, TaxInput};
use crate::{PluginError, parse_config};

/// One fixture case.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// `<case>`.
    pub name: String,
    /// The merchant configuration (`{}` when there is no config file).
    pub config: Value,
    /// The call input.
    pub input: Value,
    /// The expected output, or `{"error": {"code": ...}}`.
    pub expected: Value,
}

impl Fixture {
    /// Every fixture under `<crate_dir>/fixtures`, sorted by name.
    pub fn load_all(crate_dir: impl AsRef<Path>) -> Vec<Fixture> {
        let dir = crate_dir.as_ref().join("fixtures");
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".input.json").map(str::to_owned))
            .collect();
        names.sort();
        assert!(!names.is_empty(), "no fixtures in {}", dir.display());
        names
            .into_iter()
            .map(|name| {
                let path = |ext: &str| dir.join(format!("{name}.{ext}.json"));
                let config = path("config");
                Fixture {
                    config: if config.exists() {
                        read_json(&config)
                    } else {
                        Value::Object(Default::default())
                    },
                    input: read_json(&path("input")),
                    expected: read_json(&path("expected")),
                    name,
                }
            })
            .collect()
    }

    /// The error code this fixture expects, if it expects a failure.
    pub fn expected_error(&self) -> Option<&str> {
        self.expected.get("error")?.get("code")?.as_str()
    }

    /// Panics with a readable difference unless `actual` is what the fixture expects.
    #[track_caller]
    pub fn assert_matches(&self, actual: Result<Value, PluginError>) {
        match (self.expected_error(), actual) {
            (Some(code), Err(e)) => assert_eq!(e.code, code, "fixture {}: wrong error code ({e})", self.name),
            (Some(code), Ok(out)) => panic!("fixture {}: expected error {code}, got {out:#}", self.name),
            (None, Err(e)) => panic!("fixture {}: expected output, got error {e}", self.name),
            (None, Ok(out)) => assert!(
                out == self.expected,
                "fixture {}: output differs\n--- expected\n{:#}\n--- actual\n{:#}",
                self.name,
                self.expected,
                out
            ),
        }
    }
}

fn read_json(path: &PathBuf) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Runs every fixture of the crate at `crate_dir` natively through `run`
/// (one of [`pricing`], [`tax`], [`shipping`], [`payment`], [`recommendations`]).
#[track_caller]
pub fn check_fixtures(crate_dir: &str, run: fn(&Value, &Value) -> Result<Value, PluginError>) {
    for fixture in Fixture::load_all(crate_dir) {
        fixture.assert_matches(run(&fixture.config, &fixture.input));
    }
}

fn call<'a, I: Deserialize<'a>, C: DeserializeOwned, O: Serialize>(
    config: &Value,
    input: &'a Value,
    f: impl FnOnce(&C, &I) -> Result<O, PluginError>,
) -> Result<Value, PluginError> {
    let config: C = parse_config(&config.to_string())?;
    let input = I::deserialize(input).map_err(|e| {
        PluginError::new("invalid_input", format!("input does not fit the extension point: {e}"))
    })?;
    let output = f(&config, &input)?;
    Ok(serde_json::to_value(output).expect("outputs serialize"))
}

/// Applies `output` the way the host will, after `input.previous`, and
/// panics with the reason if the host would refuse it.
#[track_caller]
pub fn host_accepts(input: &PricingInput, output: &crate::pricing::PricingOutput) -> Ledger {
    let mut ledger = Ledger::from_input(input);
    ledger
        .apply_all(&output.adjustments, &input.discount_codes)
        .unwrap_or_else(|e| panic!("host refuses: {e}"));
    ledger
}

/// Runs a pricing plugin natively on JSON, and checks its answer the way the
/// host will (every adjustment must apply to the cart): a refused answer is
/// an `invalid_output` error.
pub fn pricing<T: Pricing>(config: &Value, input: &Value) -> Result<Value, PluginError> {
    call(config, input, |c, i: &PricingInput| {
        let out = T::run(c, i)?;
        Ledger::from_input(i).apply_all(&out.adjustments, &i.discount_codes).map_err(|e| {
            PluginError::new("invalid_output", format!("the host would refuse this answer: {e}"))
        })?;
        Ok(out)
    })
}

/// Runs a tax plugin natively on JSON; its line taxes are put in line
/// order, as the component's are.
pub fn tax<T: Tax>(config: &Value, input: &Value) -> Result<Value, PluginError> {
    call(config, input, |c, i: &TaxInput<'_>| {
        let mut out = T::calculate(c, i)?;
        out.sort_lines();
        Ok(out)
    })
}

/// Runs a shipping plugin natively on JSON.
pub fn shipping<T: Shipping>(config: &Value, input: &Value) -> Result<Value, PluginError> {
    call(config, input, T::rates)
}

/// Runs a payment plugin natively on a JSON [`PaymentCall`].
pub fn payment<T: Payment>(config: &Value, input: &Value) -> Result<Value, PluginError> {
    call(config, input, |c, call: &PaymentCall| {
        Ok(match call {
            PaymentCall::CreatePayment(r) => PaymentReply::Result(T::create_payment(c, r)?),
            PaymentCall::Capture(r) => PaymentReply::Result(T::capture(c, r)?),
            PaymentCall::Refund(r) => PaymentReply::Result(T::refund(c, r)?),
            PaymentCall::Void(r) => PaymentReply::Result(T::void(c, r)?),
            PaymentCall::ParseWebhook(h) => PaymentReply::Event(T::parse_webhook(c, h)?),
        })
    })
}

/// Runs a recommender natively on a JSON [`RecommendationsInput`].
pub fn recommendations<T: Recommendations>(config: &Value, input: &Value) -> Result<Value, PluginError> {
    call(config, input, |c, i: &RecommendationsInput| T::recommend(c, &i.context, &i.catalog))
}
