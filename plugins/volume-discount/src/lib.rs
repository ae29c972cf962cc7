//! Volume discounts: a percentage off a cart line once its quantity reaches a break.
//!
//! ```json
//! {"rules": [
//!   {"product_id": "p1", "breaks": [{"min_quantity": 5, "percent": "10"}, {"min_quantity": 10, "percent": "15"}]},
//!   {"tag": "bulk", "breaks": [{"min_quantity": 20, "percent": "5"}], "label": "Bulk price"}
//! ]}
//! ```
//!
//! Breaks count the units of one line (two lines of the same product are not
//! added up). A line gets at most one volume adjustment: the largest
//! percentage any matching rule offers at its quantity; on a tie the earlier
//! rule wins. Product ids and tags match exactly (case-sensitive).

use std::str::FromStr;

use mercato_sdk::pricing::{Adjustment, Pricing, PricingInput, PricingOutput};
use mercato_sdk::{CartLine, Decimal, Plugin, PluginError};
use serde::{Deserialize, Deserializer};

/// The merchant configuration, validated: rules of quantity breaks.
#[derive(Debug)]
pub struct Config {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    selector: Selector,
    /// Sorted by `min_quantity`, so that between equal percentages the lowest
    /// break (the one the label should name) wins.
    breaks: Vec<Break>,
    label: Option<String>,
}

#[derive(Debug)]
enum Selector {
    Product(String),
    Tag(String),
}

impl Selector {
    fn matches(&self, line: &CartLine) -> bool {
        match self {
            Selector::Product(id) => line.product_id == *id,
            Selector::Tag(tag) => line.tags.iter().any(|t| t == tag),
        }
    }
}

#[derive(Debug)]
struct Break {
    min_quantity: u32,
    ppm: u32,
    /// The percentage as the merchant wrote it, normalized, for labels.
    percent: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    product_id: Option<String>,
    tag: Option<String>,
    breaks: Vec<RawBreak>,
    label: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBreak {
    min_quantity: u32,
    percent: String,
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Validating here means a bad configuration fails as `invalid_config`
        // before any cart is priced, with the rule it concerns in the message.
        let raw = RawConfig::deserialize(d)?;
        let rules = raw
            .rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| r.validate().map_err(|e| serde::de::Error::custom(format!("rules[{i}]: {e}"))));
        Ok(Config { rules: rules.collect::<Result<_, _>>()? })
    }
}

impl RawRule {
    fn validate(self) -> Result<Rule, String> {
        let selector = match (self.product_id, self.tag) {
            (Some(id), None) if !id.is_empty() => Selector::Product(id),
            (None, Some(tag)) if !tag.is_empty() => Selector::Tag(tag),
            (Some(_), None) | (None, Some(_)) => return Err("product_id or tag is empty".into()),
            _ => return Err("set exactly one of product_id or tag".into()),
        };
        if self.breaks.is_empty() {
            return Err("breaks is empty".into());
        }
        let mut breaks = self
            .breaks
            .into_iter()
            .map(|b| {
                if b.min_quantity == 0 {
                    return Err("min_quantity must be at least 1".to_owned());
                }
                let (ppm, percent) = percent_ppm(&b.percent)?;
                Ok(Break { min_quantity: b.min_quantity, ppm, percent })
            })
            .collect::<Result<Vec<_>, _>>()?;
        breaks.sort_by_key(|b| b.min_quantity);
        if let Some(w) = breaks.windows(2).find(|w| w[0].min_quantity == w[1].min_quantity) {
            return Err(format!("two breaks at min_quantity {}", w[0].min_quantity));
        }
        Ok(Rule { selector, breaks, label: check_label(self.label)? })
    }
}

/// Converts a percentage string ("12.5" = 12.5 %) to parts per million, with
/// its normalized text. Four decimals of a percent are exactly whole ppm, so
/// more are refused rather than rounded.
fn percent_ppm(text: &str) -> Result<(u32, String), String> {
    let d =
        Decimal::from_str(text.trim()).map_err(|_| format!("percent {text:?} is not a decimal number"))?;
    if d.scale() > 4 {
        return Err(format!("percent {text:?} has more than 4 decimals"));
    }
    if d <= Decimal::ZERO || d > Decimal::ONE_HUNDRED {
        return Err(format!("percent {text:?} must be more than 0 and at most 100"));
    }
    let ppm =
        u32::try_from(d * Decimal::from(10_000)).map_err(|_| format!("percent {text:?} is out of range"))?;
    Ok((ppm, d.normalize().to_string()))
}

/// The host refuses blank labels and labels over 200 bytes; refusing them
/// here points the merchant at the configuration instead of at a failed cart.
fn check_label(label: Option<String>) -> Result<Option<String>, String> {
    match label {
        Some(l) if l.trim().is_empty() || l.len() > 200 => {
            Err("label must be 1 to 200 bytes and not blank".into())
        }
        label => Ok(label),
    }
}

impl Config {
    /// The best break any matching rule gives `line`, with its rule.
    fn best_for(&self, line: &CartLine) -> Option<(&Rule, &Break)> {
        let mut best: Option<(&Rule, &Break)> = None;
        for rule in self.rules.iter().filter(|r| r.selector.matches(line)) {
            for brk in rule.breaks.iter().filter(|b| b.min_quantity <= line.quantity) {
                // Strictly greater keeps the earlier rule and the lower break on ties.
                if best.is_none_or(|(_, b)| brk.ppm > b.ppm) {
                    best = Some((rule, brk));
                }
            }
        }
        best
    }
}

/// The volume discount plugin.
pub struct VolumeDiscount;

impl Plugin for VolumeDiscount {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Volume discount",
  "type": "object",
  "required": ["rules"],
  "additionalProperties": false,
  "properties": {
    "rules": {
      "type": "array",
      "description": "Each line gets the largest percentage any matching rule offers at its quantity.",
      "items": {
        "type": "object",
        "required": ["breaks"],
        "oneOf": [{"required": ["product_id"]}, {"required": ["tag"]}],
        "additionalProperties": false,
        "properties": {
          "product_id": {"type": "string", "minLength": 1, "description": "Lines of this product."},
          "tag": {"type": "string", "minLength": 1, "description": "Lines of products with this tag (exact match)."},
          "breaks": {
            "type": "array",
            "minItems": 1,
            "items": {
              "type": "object",
              "required": ["min_quantity", "percent"],
              "additionalProperties": false,
              "properties": {
                "min_quantity": {"type": "integer", "minimum": 1, "maximum": 4294967295, "description": "Units on the line needed for this break."},
                "percent": {"type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]{1,4})?\\s*$", "description": "Percentage off the line, e.g. \"12.5\"; more than 0, at most 100, up to 4 decimals."}
              }
            }
          },
          "label": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Shown to the buyer; default \"10 % off 5 or more\"."}
        }
      }
    }
  }
}"##;
}

impl Pricing for VolumeDiscount {
    fn run(config: &Config, input: &PricingInput) -> Result<PricingOutput, PluginError> {
        let adjustments = input
            .lines
            .iter()
            .filter_map(|line| {
                let (rule, brk) = config.best_for(line)?;
                let label = rule
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("{} % off {} or more", brk.percent, brk.min_quantity));
                Some(Adjustment::line_percent(&line.id, brk.ppm, label))
            })
            .collect();
        Ok(PricingOutput { adjustments })
    }
}

mercato_sdk::export_pricing!(VolumeDiscount);

#[cfg(test)]
mod tests {
    use mercato_sdk::pricing::{AdjustmentKind, AppliedAdjustment, Target};
    use mercato_sdk::testing::host_accepts;
    use mercato_sdk::{Currency, Money, parse_config};

    use super::*;

    fn line(id: &str, product: &str, quantity: u32, price: i64, tags: &[&str]) -> CartLine {
        CartLine::new(id, product, quantity, Money::new(price, Currency::USD)).with_tags(tags)
    }

    fn cart(lines: Vec<CartLine>) -> PricingInput {
        PricingInput::new(Currency::USD, lines)
    }

    /// Runs the plugin and checks the host would accept its answer.
    fn run(config: &str, input: &PricingInput) -> Vec<Adjustment> {
        let config: Config = parse_config(config).unwrap();
        let output = VolumeDiscount::run(&config, input).unwrap();
        host_accepts(input, &output);
        output.adjustments
    }

    /// Applies `output` the way the host does, after what earlier plugins applied.
    fn invalid(config: &str) -> String {
        let e = parse_config::<Config>(config).unwrap_err();
        assert_eq!(e.code, "invalid_config");
        e.message
    }

    const TIERS: &str = r#"{"rules":[{"product_id":"p1","breaks":[
        {"min_quantity":10,"percent":"15"},{"min_quantity":5,"percent":"10"}]}]}"#;

    fn ppm_for(quantity: u32) -> Option<u32> {
        let adjustments = run(TIERS, &cart(vec![line("l1", "p1", quantity, 1000, &[])]));
        assert!(adjustments.len() <= 1, "at most one adjustment per line");
        adjustments.first().map(|a| match a.kind {
            AdjustmentKind::Percent(ppm) => ppm,
            other => panic!("expected a percent, got {other:?}"),
        })
    }

    #[test]
    fn break_boundaries() {
        assert_eq!(ppm_for(4), None);
        assert_eq!(ppm_for(5), Some(100_000));
        assert_eq!(ppm_for(9), Some(100_000));
        assert_eq!(ppm_for(10), Some(150_000));
        assert_eq!(ppm_for(u32::MAX), Some(150_000));
    }

    #[test]
    fn default_and_custom_labels() {
        let a = run(TIERS, &cart(vec![line("l1", "p1", 12, 1000, &[])]));
        assert_eq!(a, vec![Adjustment::line_percent("l1", 150_000, "15 % off 10 or more")]);
        let config = r#"{"rules":[{"tag":"bulk","label":"Bulk price","breaks":[{"min_quantity":2,"percent":"12.50"}]}]}"#;
        let a = run(config, &cart(vec![line("l1", "p9", 2, 1000, &["bulk"])]));
        assert_eq!(a, vec![Adjustment::line_percent("l1", 125_000, "Bulk price")]);
    }

    #[test]
    fn best_rule_wins_and_only_once_per_line() {
        let config = r#"{"rules":[
            {"tag":"bulk","breaks":[{"min_quantity":3,"percent":"5"},{"min_quantity":6,"percent":"20"}]},
            {"product_id":"p1","breaks":[{"min_quantity":5,"percent":"10"}]},
            {"product_id":"p1","label":"later tie","breaks":[{"min_quantity":1,"percent":"10"}]}]}"#;
        let input = cart(vec![
            line("a", "p1", 5, 1000, &["bulk"]),
            line("b", "p1", 6, 1000, &["bulk"]),
            line("c", "p2", 3, 1000, &["bulk"]),
            line("d", "p2", 3, 1000, &["Bulk"]),
            line("e", "p3", 100, 1000, &[]),
        ]);
        let a = run(config, &input);
        assert_eq!(
            a,
            vec![
                Adjustment::line_percent("a", 100_000, "10 % off 5 or more"),
                Adjustment::line_percent("b", 200_000, "20 % off 6 or more"),
                Adjustment::line_percent("c", 50_000, "5 % off 3 or more"),
            ]
        );
    }

    #[test]
    fn stacks_after_earlier_plugins() {
        let mut input = cart(vec![line("l1", "p1", 5, 999, &[])]);
        input.previous = vec![AppliedAdjustment {
            adjustment: Adjustment::line_amount("l1", 4000, "earlier"),
            amount: Money::new(4000, Currency::USD),
        }];
        let a = run(TIERS, &input);
        assert_eq!(a[0].target, Target::Line("l1".into()));
    }

    #[test]
    fn percent_conversion_is_exact() {
        assert_eq!(percent_ppm("10"), Ok((100_000, "10".into())));
        assert_eq!(percent_ppm("12.3456"), Ok((123_456, "12.3456".into())));
        assert_eq!(percent_ppm("0.0001"), Ok((1, "0.0001".into())));
        assert_eq!(percent_ppm("100"), Ok((1_000_000, "100".into())));
        assert!(percent_ppm("12.34567").is_err());
        assert!(percent_ppm("0").is_err());
        assert!(percent_ppm("-5").is_err());
        assert!(percent_ppm("100.0001").is_err());
        assert!(percent_ppm("10%").is_err());
    }

    #[test]
    fn invalid_configs() {
        assert!(invalid("{}").contains("rules"));
        assert!(
            invalid(r#"{"rules":[{"breaks":[{"min_quantity":1,"percent":"5"}]}]}"#).contains("exactly one")
        );
        assert!(
            invalid(
                r#"{"rules":[{"product_id":"p","tag":"t","breaks":[{"min_quantity":1,"percent":"5"}]}]}"#
            )
            .contains("exactly one")
        );
        assert!(
            invalid(r#"{"rules":[{"tag":"","breaks":[{"min_quantity":1,"percent":"5"}]}]}"#)
                .contains("empty")
        );
        assert!(invalid(r#"{"rules":[{"tag":"t","breaks":[]}]}"#).contains("breaks is empty"));
        assert!(
            invalid(r#"{"rules":[{"tag":"t","breaks":[{"min_quantity":0,"percent":"5"}]}]}"#)
                .contains("at least 1")
        );
        assert!(
            invalid(r#"{"rules":[{"tag":"t","breaks":[{"min_quantity":1,"percent":"101"}]}]}"#)
                .contains("at most 100")
        );
        assert!(
            invalid(r#"{"rules":[{"tag":"t","breaks":[{"min_quantity":1,"percent":"1.23456"}]}]}"#)
                .contains("4 decimals")
        );
        assert!(
            invalid(r#"{"rules":[{"tag":"t","breaks":[{"min_quantity":1,"percent":5}]}]}"#)
                .contains("string")
        );
        assert!(
            invalid(r#"{"rules":[{"tag":"t","breaks":[{"min_quantity":2,"percent":"5"},{"min_quantity":2,"percent":"6"}]}]}"#)
                .contains("two breaks")
        );
        assert!(
            invalid(r#"{"rules":[{"tag":"t","label":" ","breaks":[{"min_quantity":1,"percent":"5"}]}]}"#)
                .contains("label")
        );
        assert!(
            invalid(r#"{"rules":[{"tag":"t","min_qty":3,"breaks":[{"min_quantity":1,"percent":"5"}]}]}"#)
                .contains("min_qty")
        );
        // The index tells the merchant which rule is wrong.
        assert!(invalid(r#"{"rules":[{"tag":"t","breaks":[{"min_quantity":1,"percent":"5"}]},{"tag":"u","breaks":[]}]}"#).starts_with("rules[1]"));
    }

    #[test]
    fn schema_is_json() {
        parse_config::<serde::de::IgnoredAny>(VolumeDiscount::CONFIG_SCHEMA).unwrap();
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::pricing::<VolumeDiscount>,
        );
    }
}
