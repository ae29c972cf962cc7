//! Calls with JSON in and out, dispatched on the plugin's extension point:
//! what `mercato plugin run` and the fixture tests use. The JSON forms are
//! the SDK types' serde forms, the same the SDK's native harness reads.

use std::sync::Arc;

use mercato_sdk::ExtensionPoint;
use mercato_sdk::payment::PaymentCall;
use mercato_sdk::pricing::PricingInput;
use mercato_sdk::recommendations::RecommendationsInput;
use mercato_sdk::shipping::ShippingInput;
use mercato_sdk::tax::TaxInput;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::CallError;
use super::registry::{Call, Outcome, Runtime};

/// A JSON call that did not produce output.
#[derive(Debug, thiserror::Error)]
pub enum JsonCallError {
    /// The input does not fit the plugin's extension point.
    #[error("input is not a valid {point} input: {message}")]
    BadInput {
        /// The plugin's extension point.
        point: ExtensionPoint,
        /// Why the input does not parse as that point's input.
        message: String,
    },
    /// The call failed.
    #[error(transparent)]
    Call(#[from] CallError),
}

fn parse<'a, T: Deserialize<'a>>(point: ExtensionPoint, input: &'a Value) -> Result<T, JsonCallError> {
    T::deserialize(input).map_err(|e| JsonCallError::BadInput { point, message: e.to_string() })
}

fn to_json<T: Serialize>(o: Outcome<T>) -> Outcome<Value> {
    Outcome {
        output: serde_json::to_value(&o.output).expect("SDK outputs serialize"),
        fuel_used: o.fuel_used,
        memory_peak_bytes: o.memory_peak_bytes,
        duration: o.duration,
        logs: o.logs,
    }
}

impl Runtime {
    /// Calls the plugin with a JSON input of its extension point.
    pub fn call_json(&self, call: Call<'_>, input: &Value) -> Result<Outcome<Value>, JsonCallError> {
        let point = call.plugin.extension_point();
        Ok(match point {
            ExtensionPoint::Pricing => to_json(self.pricing(call, &parse::<PricingInput>(point, input)?)?),
            ExtensionPoint::Tax => to_json(self.tax(call, &parse::<TaxInput>(point, input)?)?),
            ExtensionPoint::Shipping => to_json(self.shipping(call, &parse::<ShippingInput>(point, input)?)?),
            ExtensionPoint::Payment => to_json(self.payment(call, &parse::<PaymentCall>(point, input)?)?),
            ExtensionPoint::Recommendations => {
                let input: RecommendationsInput = parse(point, input)?;
                to_json(self.recommendations(call, &input.context, Arc::new(input.catalog))?)
            }
        })
    }
}
