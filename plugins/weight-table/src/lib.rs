//! Shipping priced by destination zone and parcel weight: each zone offers
//! one or more services, each with a table of weight brackets.

use std::collections::BTreeSet;

use mercato_sdk::shipping::{RateOption, Shipping, ShippingInput, ShippingOutput};
use mercato_sdk::{Money, Plugin, PluginError};
use serde::Deserialize;

/// The merchant's zones, checked as they are parsed. Amounts are minor units
/// of the cart currency. A zone lists either `brackets` (one service named
/// "standard") or `services`, or both.
///
/// ```json
/// {"zones": [
///   {"name": "domestic", "countries": ["DE"],
///    "brackets": [{"max_grams": 1000, "amount": 490}, {"max_grams": 5000, "amount": 690}]},
///   {"name": "eu", "countries": ["FR", "NL"],
///    "services": [{"name": "express", "carrier": "DHL", "min_days": 1, "max_days": 2,
///                  "brackets": [{"max_grams": 2000, "amount": 1990}]}]}]}
/// ```
#[derive(Debug, Deserialize)]
#[serde(try_from = "Settings")]
pub struct Config(Settings);

/// The configuration document as written, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    zones: Vec<Zone>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Zone {
    name: String,
    /// ISO 3166-1 codes.
    countries: Vec<String>,
    /// Shorthand for a single service named "standard"; moved into `services` once checked.
    #[serde(default)]
    brackets: Vec<Bracket>,
    #[serde(default)]
    services: Vec<Service>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Service {
    name: String,
    #[serde(default)]
    carrier: String,
    min_days: Option<u32>,
    max_days: Option<u32>,
    /// Sorted by weight, lightest first.
    brackets: Vec<Bracket>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Bracket {
    /// Heaviest parcel (inclusive) this price applies to.
    max_grams: u64,
    amount: i64,
}

impl TryFrom<Settings> for Config {
    type Error = String;

    fn try_from(mut settings: Settings) -> Result<Config, String> {
        if settings.zones.is_empty() {
            return Err("zones must list at least one zone".into());
        }
        let mut countries = BTreeSet::new();
        let mut codes = BTreeSet::new();
        for zone in &mut settings.zones {
            let name = &zone.name;
            if name.is_empty() {
                return Err("every zone needs a name".into());
            }
            if zone.countries.is_empty() {
                return Err(format!("zone {name:?} lists no countries"));
            }
            for country in &zone.countries {
                if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase())) {
                    return Err(format!("zone {name:?}: {country:?} is not a two-letter country code"));
                }
                // Overlapping zones would make the price depend on their order.
                if !countries.insert(country.clone()) {
                    return Err(format!("zone {name:?}: {country} is already in another zone"));
                }
            }
            if !zone.brackets.is_empty() {
                let standard = Service {
                    name: "standard".into(),
                    carrier: String::new(),
                    min_days: None,
                    max_days: None,
                    brackets: std::mem::take(&mut zone.brackets),
                };
                zone.services.insert(0, standard);
            }
            if zone.services.is_empty() {
                return Err(format!("zone {name:?} has neither brackets nor services"));
            }
            for service in &zone.services {
                let code = option_code(zone, service);
                check_service(service).map_err(|e| format!("service {code}: {e}"))?;
                if !codes.insert(code.clone()) {
                    return Err(format!("option code {code} is used twice; rename a zone or service"));
                }
            }
        }
        Ok(Config(settings))
    }
}

fn check_service(service: &Service) -> Result<(), String> {
    if service.name.is_empty() {
        return Err("every service needs a name".into());
    }
    if service.brackets.is_empty() {
        return Err("no weight brackets".into());
    }
    // "The first bracket that fits" is only the cheapest fit when sorted.
    if let Some(pair) = service.brackets.windows(2).find(|p| p[0].max_grams >= p[1].max_grams) {
        return Err(format!(
            "brackets must go up in weight, but {} g comes before {} g",
            pair[0].max_grams, pair[1].max_grams
        ));
    }
    if let Some(bracket) = service.brackets.iter().find(|b| b.amount < 0) {
        return Err(format!("amount must not be negative, got {}", bracket.amount));
    }
    if let (Some(min), Some(max)) = (service.min_days, service.max_days)
        && min > max
    {
        return Err(format!("min_days ({min}) is more than max_days ({max})"));
    }
    Ok(())
}

fn option_code(zone: &Zone, service: &Service) -> String {
    format!("{}-{}", zone.name, service.name)
}

/// The plugin.
pub struct WeightTable;

impl Plugin for WeightTable {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Weight table shipping",
  "type": "object",
  "required": ["zones"],
  "additionalProperties": false,
  "$defs": {
    "brackets": {
      "description": "Lightest first; a parcel takes the first bracket whose max_grams it does not exceed.",
      "type": "array",
      "minItems": 1,
      "items": {
        "type": "object",
        "required": ["max_grams", "amount"],
        "additionalProperties": false,
        "properties": {
          "max_grams": {"type": "integer", "minimum": 0},
          "amount": {"description": "Price in minor units of the cart currency.", "type": "integer", "minimum": 0}
        }
      }
    }
  },
  "properties": {
    "zones": {
      "type": "array",
      "minItems": 1,
      "items": {
        "type": "object",
        "required": ["name", "countries"],
        "additionalProperties": false,
        "anyOf": [{"required": ["brackets"]}, {"required": ["services"]}],
        "properties": {
          "name": {"type": "string", "minLength": 1},
          "countries": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
          "brackets": {"$ref": "#/$defs/brackets", "description": "Shorthand for one service named \"standard\"."},
          "services": {
            "type": "array",
            "items": {
              "type": "object",
              "required": ["name", "brackets"],
              "additionalProperties": false,
              "properties": {
                "name": {"type": "string", "minLength": 1},
                "carrier": {"type": "string", "default": ""},
                "min_days": {"type": "integer", "minimum": 0},
                "max_days": {"type": "integer", "minimum": 0},
                "brackets": {"$ref": "#/$defs/brackets"}
              }
            }
          }
        }
      }
    }
  }
}"##;
}

impl Shipping for WeightTable {
    fn rates(Config(config): &Config, input: &ShippingInput) -> Result<ShippingOutput, PluginError> {
        let destination = input.destination.country.trim().to_ascii_uppercase();
        let Some(zone) = config.zones.iter().find(|z| z.countries.contains(&destination)) else {
            return Ok(ShippingOutput::default());
        };
        let weight = input.total_weight_grams();
        let options = zone.services.iter().filter_map(|service| {
            // Heavier than the last bracket: this service does not take the parcel.
            let bracket = service.brackets.iter().find(|b| b.max_grams >= weight)?;
            Some(RateOption {
                code: option_code(zone, service),
                carrier: service.carrier.clone(),
                service: service.name.clone(),
                amount: Money::new(bracket.amount, input.currency),
                min_days: service.min_days,
                max_days: service.max_days,
            })
        });
        Ok(ShippingOutput { options: options.collect() })
    }
}

mercato_sdk::export_shipping!(WeightTable);

#[cfg(test)]
mod tests {
    use mercato_sdk::shipping::ShipItem;
    use mercato_sdk::{Address, Currency, parse_config};

    use super::*;

    const CONFIG: &str = r#"{"zones": [
        {"name": "domestic", "countries": ["DE"],
         "brackets": [{"max_grams": 1000, "amount": 490}, {"max_grams": 5000, "amount": 690}]},
        {"name": "eu", "countries": ["FR", "NL"], "services": [
            {"name": "standard", "carrier": "DHL", "min_days": 2, "max_days": 4,
             "brackets": [{"max_grams": 2000, "amount": 990}, {"max_grams": 20000, "amount": 1990}]},
            {"name": "express", "carrier": "UPS", "min_days": 1, "max_days": 1,
             "brackets": [{"max_grams": 2000, "amount": 2490}]}
        ]}
    ]}"#;

    fn config() -> Config {
        parse_config(CONFIG).unwrap()
    }

    fn item(weight_grams: Option<u32>, quantity: u32) -> ShipItem {
        ShipItem {
            line_id: "l1".into(),
            sku: "BOX".into(),
            quantity,
            weight_grams,
            length_mm: None,
            width_mm: None,
            height_mm: None,
        }
    }

    fn input(country: &str, items: Vec<ShipItem>) -> ShippingInput {
        ShippingInput {
            currency: Currency::EUR,
            destination: Address { country: country.into(), ..Address::default() },
            items,
            subtotal: Money::new(10_000, Currency::EUR),
        }
    }

    /// (code, amount) of every option offered.
    fn offers(country: &str, items: Vec<ShipItem>) -> Vec<(String, i64)> {
        let out = WeightTable::rates(&config(), &input(country, items)).unwrap();
        out.options.into_iter().map(|o| (o.code, o.amount.amount)).collect()
    }

    fn domestic(amount: i64) -> Vec<(String, i64)> {
        vec![("domestic-standard".into(), amount)]
    }

    #[test]
    fn bracket_boundaries_are_inclusive() {
        assert_eq!(offers("DE", vec![item(Some(1000), 1)]), domestic(490));
        assert_eq!(offers("DE", vec![item(Some(1001), 1)]), domestic(690));
        assert_eq!(offers("DE", vec![item(Some(5000), 1)]), domestic(690));
        assert_eq!(offers("DE", vec![item(Some(5001), 1)]), vec![]);
    }

    #[test]
    fn weight_is_summed_over_quantities_and_unweighed_items_count_zero() {
        // 3 × 300 + 2 × 50 = 1000 g: still the first bracket; one more gram is not.
        let items = vec![item(Some(300), 3), item(Some(50), 2), item(None, 7)];
        assert_eq!(offers("DE", items), domestic(490));
        assert_eq!(offers("DE", vec![item(Some(300), 3), item(Some(101), 1)]), domestic(690));
        assert_eq!(offers("DE", vec![item(None, 1)]), domestic(490));
        assert_eq!(offers("DE", vec![]), domestic(490));
    }

    #[test]
    fn each_service_is_offered_while_the_parcel_fits() {
        let light = offers("FR", vec![item(Some(2000), 1)]);
        assert_eq!(light, vec![("eu-standard".into(), 990), ("eu-express".into(), 2490)]);
        let heavy = offers("nl", vec![item(Some(2001), 1)]);
        assert_eq!(heavy, vec![("eu-standard".into(), 1990)]);
        assert_eq!(offers("NL", vec![item(Some(20_001), 1)]), vec![]);
    }

    #[test]
    fn options_carry_the_service_details_in_the_cart_currency() {
        let mut cart = input("FR", vec![item(Some(100), 1)]);
        cart.currency = Currency::JPY;
        let out = WeightTable::rates(&config(), &cart).unwrap();
        let express = &out.options[1];
        assert_eq!(
            (express.carrier.as_str(), express.service.as_str(), express.min_days, express.max_days),
            ("UPS", "express", Some(1), Some(1))
        );
        assert_eq!(express.amount, Money::new(2490, Currency::JPY));
    }

    #[test]
    fn no_zone_no_options() {
        assert_eq!(offers("US", vec![item(Some(100), 1)]), vec![]);
        assert_eq!(offers("", vec![item(Some(100), 1)]), vec![]);
    }

    #[test]
    fn invalid_configs_are_refused_with_a_reason() {
        let b = r#"[{"max_grams":1000,"amount":490}]"#;
        let cases = [
            (r#"{"zones":[]}"#.to_string(), "at least one zone"),
            (format!(r#"{{"zones":[{{"name":"a","countries":[],"brackets":{b}}}]}}"#), "lists no countries"),
            (format!(r#"{{"zones":[{{"name":"a","countries":["de"],"brackets":{b}}}]}}"#), "two-letter"),
            (
                format!(
                    r#"{{"zones":[{{"name":"a","countries":["DE"],"brackets":{b}}},
                       {{"name":"b","countries":["FR","DE"],"brackets":{b}}}]}}"#
                ),
                "DE is already in another zone",
            ),
            (r#"{"zones":[{"name":"a","countries":["DE"]}]}"#.into(), "neither brackets nor services"),
            (
                r#"{"zones":[{"name":"a","countries":["DE"],
                    "brackets":[{"max_grams":5000,"amount":690},{"max_grams":1000,"amount":490}]}]}"#
                    .into(),
                "brackets must go up in weight",
            ),
            (
                r#"{"zones":[{"name":"a","countries":["DE"],"brackets":[{"max_grams":1,"amount":-1}]}]}"#
                    .into(),
                "amount must not be negative",
            ),
            (
                format!(
                    r#"{{"zones":[{{"name":"a","countries":["DE"],"brackets":{b},"services":[{{"name":"standard","brackets":{b}}}]}}]}}"#
                ),
                "option code a-standard is used twice",
            ),
            (
                format!(
                    r#"{{"zones":[{{"name":"a","countries":["DE"],"services":[{{"name":"x","min_days":3,"max_days":1,"brackets":{b}}}]}}]}}"#
                ),
                "service a-x: min_days (3) is more than max_days (1)",
            ),
            (
                r#"{"zones":[{"name":"a","countries":["DE"],"services":[{"name":"x","brackets":[]}]}]}"#
                    .into(),
                "service a-x: no weight brackets",
            ),
            (format!(r#"{{"zones":[{{"name":"a","country":["DE"],"brackets":{b}}}]}}"#), "unknown field"),
        ];
        for (json, reason) in cases {
            let err = parse_config::<Config>(&json).unwrap_err();
            assert_eq!(err.code, "invalid_config", "{json}");
            assert!(err.message.contains(reason), "{json}: {}", err.message);
        }
    }

    #[test]
    fn schema_is_json() {
        parse_config::<serde::de::IgnoredAny>(WeightTable::CONFIG_SCHEMA).unwrap();
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::shipping::<WeightTable>,
        );
    }
}
