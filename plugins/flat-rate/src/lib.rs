//! One shipping price for every parcel, free above a cart subtotal.

use mercato_sdk::shipping::{RateOption, Shipping, ShippingInput, ShippingOutput};
use mercato_sdk::{Money, Plugin, PluginError};
use serde::Deserialize;

/// The merchant's flat rate, checked as it is parsed. Amounts are minor
/// units of the cart currency.
///
/// ```json
/// {"amount": 499, "free_over": 5000, "label": "Standard", "carrier": "Post",
///  "min_days": 3, "max_days": 5, "countries": ["US"]}
/// ```
#[derive(Debug, Deserialize)]
#[serde(try_from = "Settings")]
pub struct Config(Settings);

/// The configuration document as written, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    amount: i64,
    /// Shipping is free when the subtotal reaches this.
    free_over: Option<i64>,
    #[serde(default = "default_code")]
    code: String,
    #[serde(default = "default_label")]
    label: String,
    #[serde(default = "default_carrier")]
    carrier: String,
    min_days: Option<u32>,
    max_days: Option<u32>,
    /// ISO 3166-1 codes shipped to; everywhere when absent.
    countries: Option<Vec<String>>,
}

fn default_code() -> String {
    "flat".into()
}

fn default_label() -> String {
    "Standard".into()
}

fn default_carrier() -> String {
    "Flat rate".into()
}

impl TryFrom<Settings> for Config {
    type Error = String;

    fn try_from(settings: Settings) -> Result<Config, String> {
        if settings.amount < 0 {
            return Err(format!("amount must not be negative, got {}", settings.amount));
        }
        if let Some(free_over) = settings.free_over.filter(|f| *f < 0) {
            return Err(format!("free_over must not be negative, got {free_over}"));
        }
        if settings.code.is_empty() {
            return Err("code must not be empty".into());
        }
        if let (Some(min), Some(max)) = (settings.min_days, settings.max_days)
            && min > max
        {
            return Err(format!("min_days ({min}) is more than max_days ({max})"));
        }
        if let Some(countries) = &settings.countries {
            // An empty list would silently ship nowhere.
            if countries.is_empty() {
                return Err("countries must not be empty (omit it to ship everywhere)".into());
            }
            if let Some(bad) =
                countries.iter().find(|c| !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())))
            {
                return Err(format!("{bad:?} is not a two-letter country code such as \"US\""));
            }
        }
        Ok(Config(settings))
    }
}

/// The plugin.
pub struct FlatRate;

impl Plugin for FlatRate {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Flat rate shipping",
  "type": "object",
  "required": ["amount"],
  "additionalProperties": false,
  "properties": {
    "amount": {"description": "Price in minor units of the cart currency (499 = 4.99 USD).", "type": "integer", "minimum": 0},
    "free_over": {"description": "Free when the cart subtotal is at least this, in minor units.", "type": "integer", "minimum": 0},
    "code": {"description": "Option code.", "type": "string", "minLength": 1, "default": "flat"},
    "label": {"description": "Service name shown to the buyer.", "type": "string", "default": "Standard"},
    "carrier": {"type": "string", "default": "Flat rate"},
    "min_days": {"description": "Earliest delivery, in days.", "type": "integer", "minimum": 0},
    "max_days": {"description": "Latest delivery, in days; not less than min_days.", "type": "integer", "minimum": 0},
    "countries": {
      "description": "ISO 3166-1 codes shipped to; everywhere when absent.",
      "type": "array",
      "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
      "minItems": 1
    }
  }
}"#;
}

impl Shipping for FlatRate {
    fn rates(Config(config): &Config, input: &ShippingInput) -> Result<ShippingOutput, PluginError> {
        let destination = input.destination.country.trim();
        let ships_there = config
            .countries
            .as_ref()
            .is_none_or(|countries| countries.iter().any(|c| c.eq_ignore_ascii_case(destination)));
        if !ships_there {
            return Ok(ShippingOutput::default());
        }
        let free = config.free_over.is_some_and(|threshold| input.subtotal.amount >= threshold);
        let option = RateOption {
            code: config.code.clone(),
            carrier: config.carrier.clone(),
            service: config.label.clone(),
            amount: Money::new(if free { 0 } else { config.amount }, input.currency),
            min_days: config.min_days,
            max_days: config.max_days,
        };
        Ok(ShippingOutput { options: vec![option] })
    }
}

mercato_sdk::export_shipping!(FlatRate);

#[cfg(test)]
mod tests {
    use mercato_sdk::shipping::ShipItem;
    use mercato_sdk::{Address, Currency, parse_config};

    use super::*;

    fn config(json: &str) -> Config {
        parse_config(json).unwrap()
    }

    fn input(country: &str, subtotal: i64, currency: Currency) -> ShippingInput {
        ShippingInput {
            currency,
            destination: Address { country: country.into(), ..Address::default() },
            items: vec![ShipItem {
                line_id: "l1".into(),
                sku: "MUG".into(),
                quantity: 1,
                weight_grams: Some(350),
                length_mm: None,
                width_mm: None,
                height_mm: None,
            }],
            subtotal: Money::new(subtotal, currency),
        }
    }

    /// The amounts offered.
    fn amounts(config: &Config, input: &ShippingInput) -> Vec<Money> {
        let out = FlatRate::rates(config, input).unwrap();
        out.options.into_iter().map(|o| o.amount).collect()
    }

    #[test]
    fn offers_one_option_with_defaults() {
        let out = FlatRate::rates(&config(r#"{"amount":499}"#), &input("FR", 1000, Currency::EUR)).unwrap();
        assert_eq!(
            out.options,
            vec![RateOption {
                code: "flat".into(),
                carrier: "Flat rate".into(),
                service: "Standard".into(),
                amount: Money::new(499, Currency::EUR),
                min_days: None,
                max_days: None,
            }]
        );
    }

    #[test]
    fn free_from_the_threshold_on() {
        let config = config(r#"{"amount":499,"free_over":5000}"#);
        let usd = |a| Money::new(a, Currency::USD);
        assert_eq!(amounts(&config, &input("US", 4999, Currency::USD)), [usd(499)]);
        assert_eq!(amounts(&config, &input("US", 5000, Currency::USD)), [usd(0)]);
        assert_eq!(amounts(&config, &input("US", 5001, Currency::USD)), [usd(0)]);
    }

    #[test]
    fn free_over_zero_is_always_free() {
        let config = config(r#"{"amount":499,"free_over":0}"#);
        assert_eq!(amounts(&config, &input("US", 0, Currency::USD)), [Money::zero(Currency::USD)]);
    }

    #[test]
    fn amounts_are_in_the_cart_currency() {
        let config = config(r#"{"amount":500}"#);
        assert_eq!(amounts(&config, &input("JP", 3000, Currency::JPY)), [Money::new(500, Currency::JPY)]);
    }

    #[test]
    fn only_listed_countries_get_an_option() {
        let config = config(r#"{"amount":499,"countries":["US","CA"]}"#);
        assert_eq!(amounts(&config, &input("CA", 0, Currency::USD)).len(), 1);
        assert_eq!(amounts(&config, &input("us", 0, Currency::USD)).len(), 1);
        assert!(amounts(&config, &input("MX", 0, Currency::USD)).is_empty());
        assert!(amounts(&config, &input("", 0, Currency::USD)).is_empty());
    }

    #[test]
    fn configured_names_and_days_are_passed_through() {
        let config = config(
            r#"{"amount":499,"code":"std","label":"Ground","carrier":"USPS","min_days":3,"max_days":5}"#,
        );
        let out = FlatRate::rates(&config, &input("US", 0, Currency::USD)).unwrap();
        let option = &out.options[0];
        assert_eq!(
            (option.code.as_str(), option.carrier.as_str(), option.service.as_str()),
            ("std", "USPS", "Ground")
        );
        assert_eq!((option.min_days, option.max_days), (Some(3), Some(5)));
    }

    #[test]
    fn invalid_configs_are_refused_with_a_reason() {
        let cases = [
            (r#"{}"#, "missing field `amount`"),
            (r#"{"amount":-1}"#, "amount must not be negative"),
            (r#"{"amount":499,"free_over":-5}"#, "free_over must not be negative"),
            (r#"{"amount":499,"min_days":5,"max_days":3}"#, "min_days (5) is more than max_days (3)"),
            (r#"{"amount":499,"countries":[]}"#, "countries must not be empty"),
            (r#"{"amount":499,"countries":["usa"]}"#, "two-letter country code"),
            (r#"{"amount":499,"code":""}"#, "code must not be empty"),
            (r#"{"amount":"4.99"}"#, "invalid type"),
            (r#"{"amount":499,"free_above":5000}"#, "unknown field"),
        ];
        for (json, reason) in cases {
            let err = parse_config::<Config>(json).unwrap_err();
            assert_eq!(err.code, "invalid_config", "{json}");
            assert!(err.message.contains(reason), "{json}: {}", err.message);
        }
    }

    #[test]
    fn schema_is_json() {
        parse_config::<serde::de::IgnoredAny>(FlatRate::CONFIG_SCHEMA).unwrap();
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::shipping::<FlatRate>,
        );
    }
}
