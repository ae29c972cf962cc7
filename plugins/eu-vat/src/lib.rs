//! EU VAT: the destination country's rate (reduced for some tax codes),
//! zero-rated reverse charge for cross-border B2B sales, nothing on exports.

use std::collections::BTreeMap;

use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
use mercato_sdk::{Plugin, PluginError, Rate};
use serde::Deserialize;

/// ISO 3166-1 codes of the 27 EU member states.
pub const MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
    "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

const REVERSE_CHARGE: &str = "VAT reverse charge";

/// The merchant's VAT settings, checked as they are parsed.
///
/// ```json
/// {"origin_country": "DE",
///  "rates": {"DE": {"standard": "0.19", "reduced": {"books": "0.07"}},
///            "FR": {"standard": "0.20", "reduced": {"books": "0.055"}}}}
/// ```
#[derive(Debug, Deserialize)]
#[serde(try_from = "Settings")]
pub struct Config(Settings);

/// The configuration document as written, before it is checked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    origin_country: String,
    rates: BTreeMap<String, CountryRates>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CountryRates {
    standard: Rate,
    /// Tax code -> rate.
    #[serde(default)]
    reduced: BTreeMap<String, Rate>,
}

impl TryFrom<Settings> for Config {
    type Error = String;

    fn try_from(settings: Settings) -> Result<Config, String> {
        let origin = &settings.origin_country;
        if !(origin.len() == 2 && origin.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(format!("origin_country {origin:?} is not a two-letter country code such as \"DE\""));
        }
        for (country, rates) in &settings.rates {
            if !is_member_state(country) {
                return Err(format!(
                    "rates: {country:?} is not an EU member state (use ISO codes, e.g. \"GR\" for Greece)"
                ));
            }
            check_rate(&rates.standard, &format!("{country} standard"))?;
            for (code, rate) in &rates.reduced {
                check_rate(rate, &format!("{country} reduced {code:?}"))?;
            }
        }
        Ok(Config(settings))
    }
}

/// Refuses a rate outside 0..=1 and normalizes it: the component sends rates
/// normalized ("0.2" for "0.20"), so native test output then matches it.
fn check_rate(rate: &Rate, what: &str) -> Result<(), String> {
    if !rate.is_fraction() {
        return Err(format!("rate {what} must be between 0 and 1, got {rate}"));
    }
    Ok(())
}

/// The plugin.
pub struct EuVat;

impl Plugin for EuVat {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "EU VAT",
  "type": "object",
  "required": ["origin_country", "rates"],
  "additionalProperties": false,
  "$defs": {
    "rate": {"type": "string", "pattern": "^(0(\\.[0-9]+)?|1(\\.0+)?)$", "description": "Decimal fraction, e.g. \"0.19\"."}
  },
  "properties": {
    "origin_country": {
      "description": "ISO 3166-1 code of the country the merchant sells from.",
      "type": "string",
      "pattern": "^[A-Z]{2}$"
    },
    "rates": {
      "description": "Rates per EU destination country (ISO code; Greece is GR).",
      "type": "object",
      "propertyNames": {"enum": ["AT","BE","BG","CY","CZ","DE","DK","EE","ES","FI","FR","GR","HR","HU","IE","IT","LT","LU","LV","MT","NL","PL","PT","RO","SE","SI","SK"]},
      "additionalProperties": {
        "type": "object",
        "required": ["standard"],
        "additionalProperties": false,
        "properties": {
          "standard": {"$ref": "#/$defs/rate"},
          "reduced": {
            "description": "Reduced rate per tax code, e.g. {\"books\": \"0.07\"}.",
            "type": "object",
            "additionalProperties": {"$ref": "#/$defs/rate"}
          }
        }
      }
    }
  }
}"##;
}

impl Tax for EuVat {
    fn calculate(Config(config): &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        let mut out = TaxOutput::default();
        let destination = input.ship_to.country.trim().to_ascii_uppercase();
        if !is_member_state(&destination) {
            return Ok(out);
        }
        let rates = config.rates.get(&destination).ok_or_else(|| {
            PluginError::invalid_config(format!("no VAT rates configured for {destination}"))
        })?;
        if is_reverse_charge(input, &config.origin_country, &destination) {
            let zero = out.rate(&destination, Rate::ZERO, REVERSE_CHARGE);
            out.tax_every_line(input, zero)?;
            out.tax_shipping(input, zero, input.shipping_amount)?;
            return Ok(out);
        }
        let label = format!("{destination} VAT");
        for (i, line) in input.lines.iter().enumerate() {
            let reduced = line.tax_code.as_deref().and_then(|code| rates.reduced.get(code));
            let rate = out.rate(&destination, *reduced.unwrap_or(&rates.standard), &label);
            out.tax_line(input, i, rate, line.amount)?;
        }
        let standard = out.rate(&destination, rates.standard, &label);
        out.tax_shipping(input, standard, input.shipping_amount)?;
        Ok(out)
    }
}

fn is_reverse_charge(input: &TaxInput, origin: &str, destination: &str) -> bool {
    let vat_id = input.customer.as_ref().and_then(|c| c.vat_id.as_deref());
    vat_id.and_then(vat_id_country).is_some_and(|country| country != origin && country == destination)
}

/// The member state (ISO code) a VAT number belongs to, if it is well formed:
/// an EU VAT prefix then 2 to 13 letters or digits. Spaces and dots are
/// ignored and case is not significant, as buyers type numbers both ways.
pub fn vat_id_country(vat_id: &str) -> Option<&'static str> {
    let id = vat_id.chars().filter(|c| !matches!(c, ' ' | '.')).collect::<String>().to_ascii_uppercase();
    let (prefix, number) = id.split_at_checked(2)?;
    // VAT numbers start with the ISO code, except Greece's, which use "EL".
    let iso = match prefix {
        "EL" => "GR",
        "GR" => return None,
        other => other,
    };
    let country = MEMBER_STATES.iter().find(|c| **c == iso)?;
    let well_formed = (2..=13).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some(*country)
}

fn is_member_state(country: &str) -> bool {
    MEMBER_STATES.contains(&country)
}

mercato_sdk::export_tax!(EuVat);

#[cfg(test)]
mod tests {
    use mercato_sdk::tax::{TaxRate, TaxableLine};
    use mercato_sdk::{Address, Currency, Customer, parse_config};

    use super::*;

    const CONFIG: &str = r#"{
        "origin_country": "DE",
        "rates": {
            "DE": {"standard": "0.19", "reduced": {"books": "0.07", "food": "0.07"}},
            "FR": {"standard": "0.20", "reduced": {"books": "0.055"}},
            "GR": {"standard": "0.24"},
            "NL": {"standard": "0.21"}
        }
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

    fn input(country: &str, lines: Vec<TaxableLine<'static>>, vat_id: Option<&str>) -> TaxInput<'static> {
        TaxInput {
            currency: Currency::EUR,
            lines,
            shipping_amount: 500,
            ship_from: None,
            ship_to: Address { country: country.into(), ..Address::default() },
            customer: vat_id.map(|v| Customer { vat_id: Some(v.into()), ..Customer::default() }),
            prices_include_tax: false,
        }
    }

    fn calculate(input: &TaxInput) -> TaxOutput {
        EuVat::calculate(&config(), input).unwrap()
    }

    /// (rate, amount) of every line tax, then of the shipping tax.
    fn taxes(out: &TaxOutput) -> Vec<(String, i64)> {
        let lines = out.lines.iter().map(|t| (t.rate, t.amount));
        let all = lines.chain(out.shipping.iter().map(|t| (t.rate, t.amount)));
        all.map(|(rate, amount)| (out.rates[rate as usize].rate.to_wire(), amount)).collect()
    }

    /// Every line and shipping bear the one zero-rated reverse charge.
    fn is_reverse_charged(out: &TaxOutput, lines: usize) -> bool {
        let zero = |r: &TaxRate| r.label == REVERSE_CHARGE && r.rate == Rate::ZERO;
        out.rates.len() == 1
            && zero(&out.rates[0])
            && out.lines.len() == lines
            && out.shipping.len() == 1
            && out.total() == 0
    }

    #[test]
    fn standard_rate_rounds_half_even() {
        // 50 × 0.19 = 9.5 -> 10; 150 × 0.19 = 28.5 -> 28; shipping 500 × 0.19 = 95.
        let out = calculate(&input("DE", vec![line("1", 50, None), line("2", 150, None)], None));
        assert_eq!(taxes(&out), [("0.19".into(), 10), ("0.19".into(), 28), ("0.19".into(), 95)]);
        assert_eq!(out.rates.len(), 1, "one rate, declared once");
        assert_eq!((out.rates[0].jurisdiction.as_str(), out.rates[0].label.as_str()), ("DE", "DE VAT"));
    }

    #[test]
    fn reduced_rate_by_tax_code_else_standard() {
        // FR books 5.5 %: 300 -> 16.5 -> 16; food has no reduced rate in FR.
        let lines = vec![line("1", 300, Some("books")), line("2", 1000, Some("food"))];
        let out = calculate(&input("FR", lines, None));
        assert_eq!(taxes(&out), [("0.055".into(), 16), ("0.2".into(), 200), ("0.2".into(), 100)]);
    }

    #[test]
    fn inclusive_prices_extract_the_vat() {
        let mut cart = input("DE", vec![line("1", 119, None), line("2", 107, Some("books"))], None);
        cart.prices_include_tax = true;
        cart.shipping_amount = 595;
        let out = calculate(&cart);
        assert_eq!(taxes(&out), [("0.19".into(), 19), ("0.07".into(), 7), ("0.19".into(), 95)]);
    }

    #[test]
    fn cross_border_b2b_is_reverse_charged() {
        for vat_id in ["FR40303265045", "fr 40 303.265.045", "FR12"] {
            let out = calculate(&input("FR", vec![line("1", 1000, Some("books"))], Some(vat_id)));
            assert!(is_reverse_charged(&out, 1), "{vat_id}: {out:?}");
            assert_eq!(out.rates[0].jurisdiction, "FR");
        }
        // Greek VAT numbers use "EL", the country is "GR".
        let out = calculate(&input("GR", vec![line("1", 1000, None)], Some("EL094259216")));
        assert!(is_reverse_charged(&out, 1));
    }

    #[test]
    fn no_reverse_charge_without_a_qualifying_vat_id() {
        let cases = [
            ("DE", "DE123456789"),      // the seller's own country: domestic sale
            ("NL", "FR40303265045"),    // registered elsewhere than the destination
            ("FR", "FR1"),              // number too short
            ("FR", "FR12345678901234"), // number too long
            ("FR", "FR-40303265045"),   // only spaces and dots are ignored
            ("FR", "40303265045"),      // no prefix
            ("GR", "GR094259216"),      // Greece's prefix is EL
            ("FR", "GB123456789"),      // not an EU prefix
            ("FR", "XX12345"),
        ];
        for (country, vat_id) in cases {
            let out = calculate(&input(country, vec![line("1", 1000, None)], Some(vat_id)));
            assert!(!is_reverse_charged(&out, 1), "{country} {vat_id}");
            assert!(out.total() > 0, "{country} {vat_id}");
        }
    }

    #[test]
    fn greek_seller_selling_to_a_greek_business_charges_vat() {
        let config: Config =
            parse_config(r#"{"origin_country":"GR","rates":{"GR":{"standard":"0.24"}}}"#).unwrap();
        let cart = input("GR", vec![line("1", 1000, None)], Some("EL094259216"));
        let out = EuVat::calculate(&config, &cart).unwrap();
        assert_eq!(taxes(&out), [("0.24".into(), 240), ("0.24".into(), 120)]);
    }

    #[test]
    fn exports_are_not_taxed() {
        for country in ["US", "CH", "GB", ""] {
            let out = calculate(&input(country, vec![line("1", 1000, None)], None));
            assert_eq!(out, TaxOutput::default(), "{country}");
        }
    }

    #[test]
    fn eu_destination_without_rates_is_a_config_error() {
        let err = EuVat::calculate(&config(), &input("IT", vec![line("1", 1000, None)], None)).unwrap_err();
        assert_eq!(err.code, "invalid_config");
        assert!(err.message.contains("IT"), "{}", err.message);
    }

    #[test]
    fn invalid_configs_are_refused_with_a_reason() {
        let cases = [
            (r#"{"origin_country":"DE","rates":{"EL":{"standard":"0.24"}}}"#, "not an EU member"),
            (r#"{"origin_country":"DE","rates":{"CH":{"standard":"0.081"}}}"#, "not an EU member"),
            (r#"{"origin_country":"de","rates":{}}"#, "two-letter country code"),
            (r#"{"origin_country":"DE","rates":{"DE":{"standard":"19"}}}"#, "between 0 and 1"),
            (
                r#"{"origin_country":"DE","rates":{"DE":{"standard":"0.19","reduced":{"books":"-0.07"}}}}"#,
                "DE reduced \"books\"",
            ),
            (r#"{"origin_country":"DE","rates":{"DE":{"rate":"0.19"}}}"#, "unknown field"),
            (r#"{"rates":{}}"#, "missing field `origin_country`"),
        ];
        for (json, reason) in cases {
            let err = parse_config::<Config>(json).unwrap_err();
            assert_eq!(err.code, "invalid_config", "{json}");
            assert!(err.message.contains(reason), "{json}: {}", err.message);
        }
    }

    #[test]
    fn vat_ids_map_to_member_states() {
        assert_eq!(vat_id_country("DE 123.456.789"), Some("DE"));
        assert_eq!(vat_id_country("EL094259216"), Some("GR"));
        assert_eq!(vat_id_country("ATU12345678"), Some("AT"));
        assert_eq!(vat_id_country("GR094259216"), None);
        assert_eq!(vat_id_country("É1234"), None);
        assert_eq!(vat_id_country(""), None);
    }

    #[test]
    fn member_states_are_the_27() {
        let mut iso = MEMBER_STATES.to_vec();
        iso.dedup();
        assert_eq!(iso.len(), 27);
        assert!(iso.is_sorted());
        let schema_list = EuVat::CONFIG_SCHEMA.split("\"enum\": [").nth(1).unwrap();
        assert!(schema_list.starts_with(&format!("\"{}\"]", iso.join("\",\""))));
    }

    #[test]
    fn schema_is_json() {
        parse_config::<serde::de::IgnoredAny>(EuVat::CONFIG_SCHEMA).unwrap();
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(env!("CARGO_MANIFEST_DIR"), mercato_sdk::testing::tax::<EuVat>);
    }
}
