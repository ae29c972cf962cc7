//! US sales tax: one rate per state, charged only in states where the
//! merchant has nexus (an obligation to collect).

use std::collections::BTreeMap;

use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
use mercato_sdk::{Plugin, PluginError, Rate};
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

    fn try_from(settings: Settings) -> Result<Config, String> {
        for code in settings.nexus.iter().chain(settings.states.keys()) {
            if !(code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())) {
                return Err(format!("{code:?} is not a two-letter state code such as \"CA\""));
            }
        }
        if let Some(code) = settings.nexus.iter().find(|c| !settings.states.contains_key(*c)) {
            return Err(format!("nexus state {code} has no rate in \"states\""));
        }
        if let Some((code, state)) = settings.states.iter().find(|(_, s)| !s.rate.is_fraction()) {
            return Err(format!("rate of {code} must be between 0 and 1, got {}", state.rate));
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
        let mut out = TaxOutput::default();
        let state = input.ship_to.region.trim().to_ascii_uppercase();
        let exempt_customer = input.customer.as_ref().is_some_and(|c| c.tax_exempt);
        let collects = input.ship_to.country.trim().eq_ignore_ascii_case("US")
            && !exempt_customer
            && config.nexus.contains(&state);
        // Checked at parse time: every nexus state has a rate.
        let Some(rule) = config.states.get(&state).filter(|_| collects) else {
            return Ok(out);
        };
        let tax = out.rate(&["US-", &state].concat(), rule.rate, &[&state, " sales tax"].concat());
        let exempt = |code: &str| config.exempt_tax_codes.iter().any(|c| c == code);
        for (i, line) in input.lines.iter().enumerate() {
            if !line.tax_code.as_deref().is_some_and(exempt) {
                out.tax_line(input, i, tax, line.amount)?;
            }
        }
        if rule.tax_shipping {
            out.tax_shipping(input, tax, input.shipping_amount)?;
        }
        Ok(out)
    }
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

    fn line(id: &str, amount: i64, tax_code: Option<&str>) -> TaxableLine<'static> {
        TaxableLine {
            id: id.to_owned().into(),
            product_id: format!("p{id}").into(),
            sku: format!("SKU-{id}").into(),
            quantity: 1,
            amount,
            tax_code: tax_code.map(|c| c.to_owned().into()),
        }
    }

    fn input(
        country: &str,
        region: &str,
        lines: Vec<TaxableLine<'static>>,
        shipping: i64,
    ) -> TaxInput<'static> {
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

    /// Tax amounts per line of `cart`, in input order.
    fn amounts(cart: &TaxInput, out: &TaxOutput) -> Vec<Vec<i64>> {
        (0..cart.lines.len()).map(|i| out.line_taxes(i).map(|(_, amount)| amount).collect()).collect()
    }

    /// The rate of the first tax on line 0.
    fn first_rate(out: &TaxOutput) -> &mercato_sdk::tax::TaxRate {
        out.line_taxes(0).next().expect("line 0 is taxed").0
    }

    #[test]
    fn rounds_half_even() {
        // 1000 × 0.0725 = 72.5 -> 72; 1400 × 0.0725 = 101.5 -> 102.
        let cart = input("US", "CA", vec![line("1", 1000, None), line("2", 1400, None)], 0);
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        assert_eq!(amounts(&cart, &out), vec![vec![72], vec![102]]);
        assert_eq!(out.rates.len(), 1, "one rate, declared once");
        let tax = first_rate(&out);
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
    fn exempt_tax_codes_get_no_tax() {
        let lines = vec![line("1", 1000, Some("groceries")), line("2", 1000, Some("books"))];
        let cart = input("US", "TX", lines, 0);
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        assert_eq!(out.lines[0].line, 1);
        assert_eq!(amounts(&cart, &out), vec![vec![], vec![62]]); // 62.5 -> 62
    }

    #[test]
    fn tax_exempt_customers_pay_nothing() {
        let mut cart = input("US", "NY", vec![line("1", 5000, None)], 500);
        cart.customer = Some(Customer { tax_exempt: true, ..Customer::default() });
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        assert_eq!(amounts(&cart, &out), vec![Vec::<i64>::new()]);
        assert!(out.shipping.is_empty());
    }

    #[test]
    fn no_tax_outside_nexus_or_outside_the_us() {
        for (country, region) in [("US", "OR"), ("US", "WA"), ("CA", "CA"), ("US", "")] {
            let cart = input(country, region, vec![line("1", 1000, None)], 500);
            let out = UsSalesTax::calculate(&config(), &cart).unwrap();
            assert_eq!(amounts(&cart, &out), vec![Vec::<i64>::new()], "{country}/{region}");
            assert_eq!(out.total(), 0);
        }
    }

    #[test]
    fn lowercase_address_codes_still_match() {
        let out =
            UsSalesTax::calculate(&config(), &input("us", " ca ", vec![line("1", 1000, None)], 0)).unwrap();
        assert_eq!(first_rate(&out).jurisdiction, "US-CA");
    }

    #[test]
    fn inclusive_prices_extract_the_tax() {
        let lines = vec![line("1", 1040, None), line("2", 13, None), line("3", 39, None)];
        let mut cart = input("US", "NY", lines, 520);
        cart.prices_include_tax = true;
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        // Net = gross / 1.04, half-even: 1000; 12.5 -> 12 (tax 1); 37.5 -> 38 (tax 1).
        assert_eq!(amounts(&cart, &out), vec![vec![40], vec![1], vec![1]]);
        assert_eq!(out.shipping[0].amount, 20);
    }

    #[test]
    fn negative_lines_are_not_taxed_below_zero() {
        let cart = input("US", "CA", vec![line("1", -500, None)], 0);
        let out = UsSalesTax::calculate(&config(), &cart).unwrap();
        assert_eq!(amounts(&cart, &out), vec![vec![0]]);
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
        assert_eq!(first_rate(&out).rate, Rate::parse("0.04").unwrap());
        assert_eq!(format!("{:?}", first_rate(&out).rate.0), "0.04");
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
