//! Manual payment: invoice or bank transfer.
//!
//! The buyer pays outside the shop, so a new payment is `pending` with the
//! merchant's instructions as the message. The merchant then marks it paid
//! (capture), pays money back by hand (refund) or cancels it (void); each of
//! these only records what the merchant did, so it always succeeds.
//!
//! The provider reference is `manual_` + the order reference: there is no
//! provider to ask for an id, and one order has one manual payment, so a
//! retried request gets the same reference.

use mercato_sdk::payment::{
    CaptureRequest, Payment, PaymentRequest, PaymentResult, PaymentStatus, RefundRequest, VoidRequest,
};
use mercato_sdk::{Money, Plugin, PluginError};
use serde::{Deserialize, Deserializer};

/// Every provider reference starts with this.
const PREFIX: &str = "manual_";

/// How the buyer pays.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The buyer transfers the money before the order ships.
    #[default]
    BankTransfer,
    /// The order ships with an invoice that the buyer pays later.
    Invoice,
}

/// Merchant configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// How the buyer pays; `bank_transfer` when left out.
    #[serde(default)]
    pub method: Method,
    /// Shown to the buyer; `{order}` becomes the order reference and
    /// `{amount}` the amount due (`19.99 EUR`).
    #[serde(deserialize_with = "not_blank")]
    pub instructions: String,
}

/// A blank message would leave the buyer with no way to pay, so it is a
/// configuration error rather than something to discover per order.
fn not_blank<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.trim().is_empty() {
        return Err(serde::de::Error::custom(
            "instructions must not be empty: they tell the buyer how to pay",
        ));
    }
    Ok(s)
}

/// The manual payment plugin.
pub struct Manual;

impl Plugin for Manual {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Manual payment",
  "type": "object",
  "additionalProperties": false,
  "required": ["instructions"],
  "properties": {
    "method": {
      "enum": ["bank_transfer", "invoice"],
      "default": "bank_transfer",
      "description": "How the buyer pays"
    },
    "instructions": {
      "type": "string",
      "minLength": 1,
      "pattern": "\\S",
      "description": "Shown to the buyer; {order} becomes the order reference, {amount} the amount due",
      "examples": ["Pay {amount} to IBAN DE89 3704 0044 0532 0130 00 within 14 days, reference {order}"]
    }
  }
}"#;
}

impl Payment for Manual {
    fn create_payment(config: &Config, request: &PaymentRequest) -> Result<PaymentResult, PluginError> {
        require_positive(request.amount)?;
        let order = request.order_reference.as_str();
        if order.is_empty() {
            return Err(PluginError::new(
                "invalid_input",
                "order_reference must not be empty: the buyer quotes it with the payment",
            ));
        }
        let message =
            config.instructions.replace("{order}", order).replace("{amount}", &request.amount.to_string());
        Ok(PaymentResult {
            status: PaymentStatus::Pending,
            provider_reference: format!("{PREFIX}{order}"),
            message: Some(message),
        })
    }

    fn capture(_config: &Config, request: &CaptureRequest) -> Result<PaymentResult, PluginError> {
        require_reference(&request.provider_reference)?;
        require_positive(request.amount)?;
        Ok(succeeded(&request.provider_reference, None))
    }

    fn refund(config: &Config, request: &RefundRequest) -> Result<PaymentResult, PluginError> {
        require_reference(&request.provider_reference)?;
        require_positive(request.amount)?;
        let amount = request.amount;
        let message = match config.method {
            Method::BankTransfer => format!("{amount} will be paid back to you by bank transfer."),
            Method::Invoice => {
                format!("{amount} will be credited against your invoice or paid back to you.")
            }
        };
        Ok(succeeded(&request.provider_reference, Some(message)))
    }

    fn void(_config: &Config, request: &VoidRequest) -> Result<PaymentResult, PluginError> {
        require_reference(&request.provider_reference)?;
        Ok(succeeded(&request.provider_reference, None))
    }
}

fn require_reference(reference: &str) -> Result<(), PluginError> {
    if reference.len() > PREFIX.len() && reference.starts_with(PREFIX) {
        Ok(())
    } else {
        Err(PluginError::new(
            "invalid_reference",
            format!("{reference:?} is not a manual payment reference (they start with {PREFIX:?})"),
        ))
    }
}

fn require_positive(amount: Money) -> Result<(), PluginError> {
    if amount.amount > 0 {
        Ok(())
    } else {
        Err(PluginError::new("invalid_amount", format!("the amount must be positive, got {amount}")))
    }
}

fn succeeded(reference: &str, message: Option<String>) -> PaymentResult {
    PaymentResult { status: PaymentStatus::Succeeded, provider_reference: reference.to_owned(), message }
}

mercato_sdk::export_payment!(Manual);

#[cfg(test)]
mod tests {
    use mercato_sdk::Currency;
    use mercato_sdk::payment::Webhook;

    use super::*;

    const IBAN: &str = "Pay to IBAN DE89 3704 0044 0532 0130 00 within 14 days, reference {order}";

    fn config(json: &str) -> Result<Config, PluginError> {
        mercato_sdk::parse_config(json)
    }

    fn bank_transfer() -> Config {
        Config { method: Method::BankTransfer, instructions: IBAN.into() }
    }

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR)
    }

    fn create(config: &Config, order: &str, amount: i64) -> Result<PaymentResult, PluginError> {
        let request = PaymentRequest {
            amount: eur(amount),
            order_reference: order.into(),
            payment_method_token: None,
            idempotency_key: "key-1".into(),
            capture: true,
            email: None,
        };
        Manual::create_payment(config, &request)
    }

    fn refund(config: &Config, reference: &str, amount: i64) -> Result<PaymentResult, PluginError> {
        let request = RefundRequest {
            provider_reference: reference.into(),
            amount: eur(amount),
            idempotency_key: "refund-1".into(),
            reason: None,
        };
        Manual::refund(config, &request)
    }

    #[test]
    fn create_is_pending_with_the_order_in_the_instructions() {
        let result = create(&bank_transfer(), "1001", 4990).unwrap();
        assert_eq!(result.status, PaymentStatus::Pending);
        assert_eq!(result.provider_reference, "manual_1001");
        assert_eq!(
            result.message.as_deref(),
            Some("Pay to IBAN DE89 3704 0044 0532 0130 00 within 14 days, reference 1001")
        );
    }

    #[test]
    fn every_placeholder_is_replaced() {
        let config = Config {
            method: Method::Invoice,
            instructions: "Invoice {order}: pay {amount} within 30 days. Quote {order}.".into(),
        };
        let result = create(&config, "A-7", 4990).unwrap();
        assert_eq!(result.message.as_deref(), Some("Invoice A-7: pay 49.90 EUR within 30 days. Quote A-7."));
    }

    #[test]
    fn retries_get_the_same_reference() {
        assert_eq!(create(&bank_transfer(), "1001", 4990), create(&bank_transfer(), "1001", 4990));
    }

    #[test]
    fn create_rejects_empty_order_and_non_positive_amount() {
        assert_eq!(create(&bank_transfer(), "", 4990).unwrap_err().code, "invalid_input");
        assert_eq!(create(&bank_transfer(), "1001", 0).unwrap_err().code, "invalid_amount");
    }

    #[test]
    fn capture_marks_the_payment_paid() {
        let request = CaptureRequest {
            provider_reference: "manual_1001".into(),
            amount: eur(4990),
            idempotency_key: "cap-1".into(),
        };
        assert_eq!(Manual::capture(&bank_transfer(), &request).unwrap(), succeeded("manual_1001", None));
        let request = CaptureRequest { provider_reference: "tg_1001".into(), ..request };
        assert_eq!(Manual::capture(&bank_transfer(), &request).unwrap_err().code, "invalid_reference");
    }

    #[test]
    fn refund_succeeds_with_a_message_for_the_method() {
        let result = refund(&bank_transfer(), "manual_1001", 1000).unwrap();
        assert_eq!(result.status, PaymentStatus::Succeeded);
        assert_eq!(result.message.as_deref(), Some("10.00 EUR will be paid back to you by bank transfer."));
        let invoice = Config { method: Method::Invoice, ..bank_transfer() };
        let result = refund(&invoice, "manual_1001", 1000).unwrap();
        assert!(result.message.unwrap().contains("invoice"));
    }

    #[test]
    fn refund_rejects_non_positive_amounts() {
        assert_eq!(refund(&bank_transfer(), "manual_1001", 0).unwrap_err().code, "invalid_amount");
        assert_eq!(refund(&bank_transfer(), "manual_1001", -1).unwrap_err().code, "invalid_amount");
    }

    #[test]
    fn void_cancels() {
        let request =
            VoidRequest { provider_reference: "manual_1001".into(), idempotency_key: "void-1".into() };
        assert_eq!(Manual::void(&bank_transfer(), &request).unwrap(), succeeded("manual_1001", None));
    }

    #[test]
    fn webhooks_are_unsupported() {
        let error = Manual::parse_webhook(&bank_transfer(), &Webhook::default()).unwrap_err();
        assert_eq!(error.code, "unsupported");
    }

    #[test]
    fn config_needs_instructions() {
        let ok = config(r#"{"method":"invoice","instructions":"Pay within 30 days"}"#).unwrap();
        assert_eq!(ok.method, Method::Invoice);
        assert_eq!(config(r#"{"instructions":"x"}"#).unwrap().method, Method::BankTransfer);
        for bad in ["{}", r#"{"instructions":"  "}"#, r#"{"method":"cash","instructions":"x"}"#] {
            assert_eq!(config(bad).unwrap_err().code, "invalid_config", "{bad}");
        }
        let missing = config(r#"{"method":"invoice"}"#).unwrap_err();
        assert!(missing.message.contains("instructions"), "{missing}");
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::payment::<Manual>,
        );
    }
}
