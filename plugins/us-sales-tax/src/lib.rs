//! US sales tax: one rate per state, charged only in states where the
//! merchant has nexus (an obligation to collect).

use std::collections::BTreeMap;

use mercato_sdk::tax::{LineTax, Tax, TaxInput, TaxLine, TaxOutput};
use mercato_sdk::{Decimal, Plugin, PluginError, Rate};
use serde::Deserialize;

/// The merchant's sales tax settings, checked as they are parsed.
///
/// ```json
/// {"nexus": ["CA", "NY"],
///  "states": {"CA": {"rate": "0.0725"}, "NY": {"rate": "0.04", "tax_shipping": true}},
///  "exempt_tax_codes": ["groceries"]}
/// ```
#[derive(Debug, Deserialize)]
#[serde(try_from = "Settings")]
pub struct Config(Settings);

/// The configuration document as written, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    nexus: Vec<String>,
    states: BTreeMap<String, State>,
    #[serde(default)]
    exempt_tax_codes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    rate: Rate,
    #[serde(default)]
    tax_shipping: bool,
}

impl TryFrom<Settings> for Config {
    type Error = String;

    fn try_from(mut settings: Settings) -> Result<Config, String> {
        for code in settings.nexus.iter().chain(settings.states.keys()) {
            if !(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())) {
                return Err(format!("{code:?} is not a two-letter state code such as \"CA\""));
            }
        }
        if let Some(code) = settings.nexus.iter().find(|c| !settings.states.contains_key(*c)) {
            return Err(format!("nexus state {code} has no rate in \"states\""));
        }
        for (code, state) in &mut settings.states {
            if !(Decimal::ZERO..=Decimal::ONE).contains(&state.rate.0) {
                return Err(format!("rate of {code} must be between 0 and 1, got {}", state.rate));
            }
            // The component sends rates normalized ("0.2" for "0.20"); doing the
            // same here keeps native test output identical to the component's.
            state.rate = Rate(state.rate.0.normalize());
        }
        Ok(Config(settings))
    }
}

/// The plugin.
pub struct UsSalesTax;

impl Plugin for UsSalesTax {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "US sales tax",
  "type": "object",
  "required": ["nexus", "states"],
  "additionalProperties": false,
  "properties": {
    "nexus": {
      "description": "States where the merchant collects sales tax; each needs an entry in states.",
      "type": "array",
      "items": {"type": "string", "pattern": "^[A-Z]{2}$"},
      "uniqueItems": true
    },
    "states": {
      "description": "Rate per two-letter state code.",
      "type": "object",
      "propertyNames": {"pattern": "^[A-Z]{2}$"},
      "additionalProperties": {
        "type": "object",
        "required": ["rate"],
        "additionalProperties": false,
        "properties": {
          "rate": {"description": "Decimal fraction, e.g. \"0.0725\".", "type": "string", "pattern": "^(0(\\.[0-9]+)?|1(\\.0+)?)$"},
          "tax_shipping": {"description": "Whether shipping is taxed in this state.", "type": "boolean", "default": false}
        }
      }
    },
    "exempt_tax_codes": {
      "description": "Lines with one of these tax codes are never taxed.",
      "type": "array",
      "items": {"type": "string"},
      "default": []
    }
  }
}"#;
}

impl Tax for UsSalesTax {
    fn calculate(Config(config): &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        let state = input.ship_to.region.trim().to_ascii_uppercase();
        let exempt_customer = input.customer.as_ref().is_some_and(|c| c.tax_exempt);
        let collects = input.ship_to.country.trim().eq_ignore_ascii_case("US")
            && !exempt_customer
            && config.nexus.contains(&state);
        // Checked at parse time: every nexus state has a rate.
        let Some(rule) = config.states.get(&state).filter(|_| collects) else {
            return Ok(untaxed(input));
        };
        // A line discounted below zero carries no tax; the host rejects negative tax.
        let (jurisdiction, label) = (format!("US-{state}"), format!("{state} sales tax"));
        let tax = |base: i64| {
            TaxLine::compute(input, base.max(0), jurisdiction.as_str(), rule.rate, label.as_str())
        };
        let exempt_code =
            |code: &Option<String>| code.as_ref().is_some_and(|c| config.exempt_tax_codes.contains(c));
        let mut lines = Vec::with_capacity(input.lines.len());
        for line in &input.lines {
            let taxes = if exempt_code(&line.tax_code) { vec![] } else { vec![tax(line.amount)?] };
            lines.push(LineTax { line_id: line.id.clone(), taxes });
        }
        let shipping = if rule.tax_shipping { vec![tax(input.shipping_amount)?] } else { vec![] };
        Ok(TaxOutput { lines, shipping })
    }
}

/// Every line listed, none taxed: the host expects each input line back.
fn untaxed(input: &TaxInput) -> TaxOutput {
    let lines = input.lines.iter().map(|l| LineTax { line_id: l.id.clone(), taxes: vec![] });
    TaxOutput { lines: lines.collect(), shipping: vec![] }
}

mercato_sdk::export_tax!(UsSalesTax);

#[cfg(test)]
mod tests {
    use mercato_sdk::tax::TaxableLine;
    use mercato_sdk::{Address, Currency, Customer, parse_config};

    use super::*;

    const CONFIG: &str = r#"{
        "nexus": ["CA", "NY", "TX"],
        "states": {
            "CA": {"rate": "0.0725"},
            "NY": {"rate": "0.04", "tax_shipping": true},
            "TX": {"rate": "0.0625"},
            "OR": {"rate": "0"}
        },
        "exempt_tax_codes": ["groceries"]
    }"#;

    fn config() -> Config {
        parse_config(CONFIG).unwrap()
    }

    fn line(id: &str, amount: i64, tax_code: Option<&str>) -> TaxableLine {
        TaxableLine {
            id: id.into(),
            product_id: format!("p{id}"),
            sku: format!("SKU-{id}"),
            quantity: 1,
            amount,
            tax_code: tax_code.map(Into::into),
        }
    }

    fn input(country: &str, region: &str, lines: Vec<TaxableLine>, shipping: i64) -> TaxInput {
        TaxInput {
            currency: Currency::USD,
            lines,
            shipping_amount: shipping,
            ship_from: None,
            ship_to: Address { country: country.into(), region: region.into(), ..Address::default() },
            customer: None,
            prices_include_tax: false,
        }
    }

    /// Tax amounts per line, in input order.
    fn amounts(out: &TaxOutput) -> Vec<Vec<i64>> {
        out.lines.iter().map(|l| l.taxes.iter().map(|t| t.amount).collect()).collect()
    }

    #[test]
    fn rounds_half_even() {
        // 1000 × 0.0725 = 72.5 -> 72; 1400 × 0.0725 = 101.5 -> 102.
        let cart = input("US", "CA", vec![line("1", 1000, None), line("2", 1400, None)], 0);
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        assert_eq!(amounts(&out), vec![vec![72], vec![102]]);
        let tax = &out.lines[0].taxes[0];
        assert_eq!(tax.jurisdiction, "US-CA");
        assert_eq!(tax.label, "CA sales tax");
        assert_eq!(tax.rate.to_wire(), "0.0725");
    }

    #[test]
    fn shipping_is_taxed_only_where_the_state_says_so() {
        let ca = UsSalesTax::calculate(&config(), &input("US", "CA", vec![], 1000)).unwrap();
        assert!(ca.shipping.is_empty());
        let ny = UsSalesTax::calculate(&config(), &input("US", "NY", vec![], 1000)).unwrap();
        assert_eq!(ny.shipping.iter().map(|t| t.amount).collect::<Vec<_>>(), vec![40]);
    }

    #[test]
    fn exempt_tax_codes_get_no_tax_but_stay_listed() {
        let lines = vec![line("1", 1000, Some("groceries")), line("2", 1000, Some("books"))];
        let out = UsSalesTax::calculate(&config(), &input("US", "TX", lines, 0)).unwrap();
        assert_eq!(out.lines[0].line_id, "1");
        assert_eq!(amounts(&out), vec![vec![], vec![62]]); // 62.5 -> 62
    }

    #[test]
    fn tax_exempt_customers_pay_nothing() {
        let mut cart = input("US", "NY", vec![line("1", 5000, None)], 500);
        cart.customer = Some(Customer { tax_exempt: true, ..Customer::default() });
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        assert_eq!(amounts(&out), vec![Vec::<i64>::new()]);
        assert!(out.shipping.is_empty());
    }

    #[test]
    fn no_tax_outside_nexus_or_outside_the_us() {
        for (country, region) in [("US", "OR"), ("US", "WA"), ("CA", "CA"), ("US", "")] {
            let cart = input(country, region, vec![line("1", 1000, None)], 500);
            let out = UsSalesTax::calculate(&config(), &cart).unwrap();
            assert_eq!(amounts(&out), vec![Vec::<i64>::new()], "{country}/{region}");
            assert_eq!(out.total(), 0);
        }
    }

    #[test]
    fn lowercase_address_codes_still_match() {
        let out =
            UsSalesTax::calculate(&config(), &input("us", " ca ", vec![line("1", 1000, None)], 0)).unwrap();
        assert_eq!(out.lines[0].taxes[0].jurisdiction, "US-CA");
    }

    #[test]
    fn inclusive_prices_extract_the_tax() {
        let lines = vec![line("1", 1040, None), line("2", 13, None), line("3", 39, None)];
        let mut cart = input("US", "NY", lines, 520);
        cart.prices_include_tax = true;
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        // Net = gross / 1.04, half-even: 1000; 12.5 -> 12 (tax 1); 37.5 -> 38 (tax 1).
        assert_eq!(amounts(&out), vec![vec![40], vec![1], vec![1]]);
        assert_eq!(out.shipping[0].amount, 20);
    }

    #[test]
    fn negative_lines_are_not_taxed_below_zero() {
        let out =
            UsSalesTax::calculate(&config(), &input("US", "CA", vec![line("1", -500, None)], 0)).unwrap();
        assert_eq!(amounts(&out), vec![vec![0]]);
    }

    #[test]
    fn invalid_configs_are_refused_with_a_reason() {
        let cases = [
            (r#"{"nexus":["WY"],"states":{"CA":{"rate":"0.0725"}}}"#, "nexus state WY has no rate"),
            (r#"{"nexus":["ca"],"states":{"ca":{"rate":"0.0725"}}}"#, "two-letter state code"),
            (r#"{"nexus":["CA"],"states":{"CA":{"rate":"1.5"}}}"#, "between 0 and 1"),
            (r#"{"nexus":["CA"],"states":{"CA":{"rate":"0.07","tax_shiping":true}}}"#, "unknown field"),
            (r#"{"nexus":["CA"]}"#, "missing field `states`"),
        ];
        for (json, reason) in cases {
            let err = parse_config::<Config>(json).unwrap_err();
            assert_eq!(err.code, "invalid_config", "{json}");
            assert!(err.message.contains(reason), "{json}: {}", err.message);
        }
    }

    #[test]
    fn rates_are_normalized_like_the_wire() {
        let config: Config = parse_config(r#"{"nexus":["NY"],"states":{"NY":{"rate":"0.0400"}}}"#).unwrap();
        let out = UsSalesTax::calculate(&config, &input("US", "NY", vec![line("1", 100, None)], 0)).unwrap();
        assert_eq!(out.lines[0].taxes[0].rate, Rate::parse("0.04").unwrap());
        assert_eq!(format!("{:?}", out.lines[0].taxes[0].rate.0), "0.04");
    }

    #[test]
    fn schema_is_json() {
        parse_config::<serde::de::IgnoredAny>(UsSalesTax::CONFIG_SCHEMA).unwrap();
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::tax::<UsSalesTax>,
        );
    }
}
