//! Discount codes: a percentage or a fixed amount off the order or off
//! shipping, optionally only from a minimum subtotal.
//!
//! ```json
//! {"codes": [
//!   {"code": "SAVE10", "percent": "10"},
//!   {"code": "FIVEOFF", "amount": 500, "min_subtotal": 2000},
//!   {"code": "FREESHIP", "percent": "100", "target": "shipping", "label": "Free shipping"}
//! ]}
//! ```
//!
//! A code applies when the buyer entered it (any case) and the order, after
//! what earlier pricing plugins took, reaches `min_subtotal`. Amounts are in
//! minor units of the cart currency. Codes apply in configuration order; a
//! fixed amount is capped at what is left of its target, including what this
//! plugin's earlier codes took. Codes this plugin does not know are ignored:
//! the host has already checked that they exist.

use std::str::FromStr;

use mercato_sdk::pricing::{Adjustment, AdjustmentKind, Pricing, PricingInput, PricingOutput, Target};
use mercato_sdk::{Decimal, Money, Plugin, PluginError};
use serde::{Deserialize, Deserializer};

/// The merchant configuration, validated: the codes this plugin redeems.
#[derive(Debug)]
pub struct Config {
    codes: Vec<Code>,
}

#[derive(Debug)]
struct Code {
    code: String,
    discount: Discount,
    min_subtotal: i64,
    target: CodeTarget,
    label: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Discount {
    /// Parts per million.
    Percent(u32),
    /// Minor units of the cart currency.
    Amount(i64),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CodeTarget {
    #[default]
    Order,
    Shipping,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    codes: Vec<RawCode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCode {
    code: String,
    percent: Option<String>,
    amount: Option<i64>,
    #[serde(default)]
    min_subtotal: i64,
    #[serde(default)]
    target: CodeTarget,
    label: Option<String>,
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Validating here means a bad configuration fails as `invalid_config`
        // before any cart is priced, with the code it concerns in the message.
        let raw = RawConfig::deserialize(d)?;
        let mut codes: Vec<Code> = Vec::with_capacity(raw.codes.len());
        for (i, c) in raw.codes.into_iter().enumerate() {
            let code = c.validate().map_err(|e| serde::de::Error::custom(format!("codes[{i}]: {e}")))?;
            // Codes match case-insensitively, so "save10" would shadow "SAVE10".
            if let Some(dup) = codes.iter().find(|o| o.code.eq_ignore_ascii_case(&code.code)) {
                return Err(serde::de::Error::custom(format!(
                    "codes[{i}]: code {:?} is listed twice",
                    dup.code
                )));
            }
            codes.push(code);
        }
        Ok(Config { codes })
    }
}

impl RawCode {
    fn validate(self) -> Result<Code, String> {
        if self.code.trim().is_empty() {
            return Err("code is empty".into());
        }
        let discount = match (self.percent, self.amount) {
            (Some(p), None) => Discount::Percent(percent_ppm(&p)?),
            (None, Some(a)) if a > 0 => Discount::Amount(a),
            (None, Some(a)) => return Err(format!("amount {a} must be more than 0 (minor units)")),
            _ => return Err(format!("code {:?}: set exactly one of percent or amount", self.code)),
        };
        if self.min_subtotal < 0 {
            return Err(format!("min_subtotal {} must not be negative", self.min_subtotal));
        }
        let label = match self.label {
            // The host refuses these; refusing them here points at the configuration.
            Some(l) if l.trim().is_empty() || l.len() > 200 => {
                return Err("label must be 1 to 200 bytes and not blank".into());
            }
            label => label,
        };
        Ok(Code { code: self.code, discount, min_subtotal: self.min_subtotal, target: self.target, label })
    }
}

/// Converts a percentage string ("12.5" = 12.5 %) to parts per million. Four
/// decimals of a percent are exactly whole ppm, so more are refused rather
/// than rounded.
fn percent_ppm(text: &str) -> Result<u32, String> {
    let d =
        Decimal::from_str(text.trim()).map_err(|_| format!("percent {text:?} is not a decimal number"))?;
    if d.scale() > 4 {
        return Err(format!("percent {text:?} has more than 4 decimals"));
    }
    if d <= Decimal::ZERO || d > Decimal::ONE_HUNDRED {
        return Err(format!("percent {text:?} must be more than 0 and at most 100"));
    }
    u32::try_from(d * Decimal::from(10_000)).map_err(|_| format!("percent {text:?} is out of range"))
}

impl Code {
    fn label(&self, input: &PricingInput) -> String {
        if let Some(label) = &self.label {
            return label.clone();
        }
        let off = match self.discount {
            // ppm / 10 000 is the percentage, exactly.
            Discount::Percent(ppm) => format!("{} %", Decimal::new(i64::from(ppm), 4).normalize()),
            Discount::Amount(a) => Money::new(a, input.currency).to_string(),
        };
        match self.target {
            CodeTarget::Order => format!("{}: {off} off", self.code),
            CodeTarget::Shipping => format!("{}: {off} off shipping", self.code),
        }
    }
}

/// The coupon plugin.
pub struct Coupon;

impl Plugin for Coupon {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Coupon codes",
  "type": "object",
  "required": ["codes"],
  "additionalProperties": false,
  "properties": {
    "codes": {
      "type": "array",
      "description": "Codes this plugin redeems, applied in this order; codes match case-insensitively.",
      "items": {
        "type": "object",
        "required": ["code"],
        "oneOf": [{"required": ["percent"]}, {"required": ["amount"]}],
        "additionalProperties": false,
        "properties": {
          "code": {"type": "string", "minLength": 1},
          "percent": {"type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]{1,4})?\\s*$", "description": "Percentage off, e.g. \"12.5\"; more than 0, at most 100, up to 4 decimals."},
          "amount": {"type": "integer", "minimum": 1, "description": "Fixed amount off in minor units of the cart currency (500 = 5.00 USD); capped at what is left of the target."},
          "min_subtotal": {"type": "integer", "minimum": 0, "default": 0, "description": "Minor units; compared with the lines total after earlier pricing plugins."},
          "target": {"enum": ["order", "shipping"], "default": "order"},
          "label": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Shown to the buyer; default \"SAVE10: 10 % off\"."}
        }
      }
    }
  }
}"##;
}

impl Pricing for Coupon {
    fn run(config: &Config, input: &PricingInput) -> Result<PricingOutput, PluginError> {
        // What earlier plugins left of the lines and of shipping; the host
        // spreads order discounts over the lines, so both kinds count.
        let taken = |shipping: bool| -> i64 {
            input
                .previous
                .iter()
                .filter(|p| (p.adjustment.target == Target::Shipping) == shipping)
                .map(|p| p.amount.amount)
                .fold(0, i64::saturating_add)
        };
        let subtotal = input.subtotal().amount.saturating_sub(taken(false));
        let mut order_left = subtotal;
        let mut shipping_left = input.shipping.map_or(0, |s| s.amount).saturating_sub(taken(true));

        let mut adjustments = Vec::new();
        for code in &config.codes {
            let Some(entered) = input.has_code(&code.code) else { continue };
            // Every code is held to the same subtotal, so the order of the
            // codes in the configuration does not decide which ones qualify.
            if subtotal < code.min_subtotal {
                continue;
            }
            let (target, left) = match code.target {
                CodeTarget::Order => (Target::Order, &mut order_left),
                CodeTarget::Shipping => (Target::Shipping, &mut shipping_left),
            };
            if *left <= 0 {
                continue;
            }
            // Track what this code takes the way the host computes it, so the
            // next fixed amount is capped at what is really left.
            let (kind, off) = match code.discount {
                Discount::Percent(ppm) => {
                    let off = Money::new(*left, input.currency)
                        .mul_ppm(ppm)
                        .map_err(|e| PluginError::unsupported(e.to_string()))?;
                    (AdjustmentKind::Percent(ppm), off.amount)
                }
                Discount::Amount(a) => {
                    let off = a.min(*left);
                    (AdjustmentKind::FixedAmount(off), off)
                }
            };
            *left -= off;
            adjustments.push(Adjustment {
                target,
                kind,
                label: code.label(input),
                code: Some(entered.to_owned()),
            });
        }
        Ok(PricingOutput { adjustments })
    }
}

mercato_sdk::export_pricing!(Coupon);

#[cfg(test)]
mod tests {
    use mercato_sdk::pricing::AppliedAdjustment;
    use mercato_sdk::testing::host_accepts;
    use mercato_sdk::{CartLine, Currency, parse_config};

    use super::*;

    fn line(id: &str, quantity: u32, price: i64) -> CartLine {
        CartLine::new(id, &format!("p-{id}"), quantity, Money::new(price, Currency::USD))
    }

    fn cart(lines: Vec<CartLine>, codes: &[&str]) -> PricingInput {
        PricingInput {
            discount_codes: codes.iter().map(|c| c.to_string()).collect(),
            shipping: Some(Money::new(800, Currency::USD)),
            ..PricingInput::new(Currency::USD, lines)
        }
    }

    const CODES: &str = r#"{"codes":[
        {"code":"SAVE10","percent":"10"},
        {"code":"FIVEOFF","amount":500,"min_subtotal":2000},
        {"code":"BIGOFF","amount":100000},
        {"code":"FREESHIP","percent":"100","target":"shipping","label":"Free shipping"},
        {"code":"SHIP5","amount":500,"target":"shipping"}]}"#;

    /// Runs the plugin, checks the host would accept its answer and returns
    /// what the host would take for each adjustment.
    fn run(config: &str, input: &PricingInput) -> (Vec<Adjustment>, Vec<i64>) {
        let config: Config = parse_config(config).unwrap();
        let output = Coupon::run(&config, input).unwrap();
        let ledger = host_accepts(input, &output);
        let amounts = ledger.applied()[input.previous.len()..].iter().map(|a| a.amount.amount).collect();
        (output.adjustments, amounts)
    }

    fn previous(adjustment: Adjustment, amount: i64) -> AppliedAdjustment {
        AppliedAdjustment { adjustment, amount: Money::new(amount, Currency::USD) }
    }

    /// Applies `output` the way the host does, after what earlier plugins applied.
    fn invalid(config: &str) -> String {
        let e = parse_config::<Config>(config).unwrap_err();
        assert_eq!(e.code, "invalid_config");
        e.message
    }

    #[test]
    fn code_is_case_insensitive_and_kept_as_entered() {
        let (a, amounts) = run(CODES, &cart(vec![line("a", 1, 1000)], &["save10"]));
        assert_eq!(
            a,
            vec![Adjustment {
                target: Target::Order,
                kind: AdjustmentKind::Percent(100_000),
                label: "SAVE10: 10 % off".into(),
                code: Some("save10".into()),
            }]
        );
        assert_eq!(amounts, vec![100]);
    }

    #[test]
    fn only_entered_known_codes_apply() {
        let (a, _) = run(CODES, &cart(vec![line("a", 1, 1000)], &[]));
        assert!(a.is_empty());
        let (a, _) = run(CODES, &cart(vec![line("a", 1, 1000)], &["OTHERPLUGIN", "SAVE10"]));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].code.as_deref(), Some("SAVE10"));
    }

    #[test]
    fn min_subtotal_boundary() {
        let (a, _) = run(CODES, &cart(vec![line("a", 1, 1999)], &["FIVEOFF"]));
        assert!(a.is_empty(), "1999 is under the 2000 minimum");
        let (a, amounts) = run(CODES, &cart(vec![line("a", 2, 1000)], &["FIVEOFF"]));
        assert_eq!(a[0].kind, AdjustmentKind::FixedAmount(500));
        assert_eq!(a[0].label, "FIVEOFF: 5.00 USD off");
        assert_eq!(amounts, vec![500]);
    }

    #[test]
    fn min_subtotal_counts_earlier_plugins() {
        let mut input = cart(vec![line("a", 1, 1500), line("b", 1, 1000)], &["FIVEOFF"]);
        input.previous = vec![previous(Adjustment::line_amount("a", 300, "sale"), 300)];
        let (a, _) = run(CODES, &input);
        assert_eq!(a.len(), 1, "2500 - 300 still reaches 2000");
        input.previous.push(previous(
            Adjustment {
                target: Target::Order,
                kind: AdjustmentKind::Percent(100_000),
                label: "VIP".into(),
                code: None,
            },
            220,
        ));
        let (a, _) = run(CODES, &input);
        assert!(a.is_empty(), "2500 - 300 - 220 is under 2000");
    }

    #[test]
    fn fixed_amount_is_capped_at_what_is_left() {
        let mut input = cart(vec![line("a", 3, 1000)], &["BIGOFF"]);
        input.previous = vec![
            previous(Adjustment::line_amount("a", 700, "sale"), 700),
            // Shipping discounts do not reduce what is left of the order.
            previous(
                Adjustment {
                    target: Target::Shipping,
                    kind: AdjustmentKind::FixedAmount(300),
                    label: "ship".into(),
                    code: None,
                },
                300,
            ),
        ];
        let (a, amounts) = run(CODES, &input);
        assert_eq!(a[0].kind, AdjustmentKind::FixedAmount(2300));
        assert_eq!(amounts, vec![2300]);
    }

    #[test]
    fn codes_stack_in_configuration_order() {
        // Whatever order they were entered in: SAVE10 takes 300 of 3000,
        // FIVEOFF 500, and BIGOFF is capped at the 2200 left.
        let input = cart(vec![line("a", 3, 1000)], &["BIGOFF", "save10", "fiveoff"]);
        let (a, amounts) = run(CODES, &input);
        let kinds: Vec<_> = a.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            vec![
                AdjustmentKind::Percent(100_000),
                AdjustmentKind::FixedAmount(500),
                AdjustmentKind::FixedAmount(2200)
            ]
        );
        assert_eq!(amounts, vec![300, 500, 2200]);
        let config = r#"{"codes":[{"code":"ALL","amount":100000},{"code":"MORE","amount":100}]}"#;
        let (a, amounts) = run(config, &cart(vec![line("a", 3, 1000)], &["MORE", "ALL"]));
        assert_eq!(a.len(), 1, "nothing is left for MORE after ALL");
        assert_eq!(amounts, vec![3000]);
    }

    #[test]
    fn shipping_codes() {
        let (a, amounts) = run(CODES, &cart(vec![line("a", 1, 1000)], &["ship5", "FREESHIP"]));
        assert_eq!(a[0].label, "Free shipping");
        assert_eq!(a[0].target, Target::Shipping);
        assert_eq!(a.len(), 1, "SHIP5 finds nothing left after FREESHIP");
        assert_eq!(amounts, vec![800]);
        let (a, _) = run(CODES, &cart(vec![line("a", 1, 1000)], &["SHIP5"]));
        assert_eq!(a[0].label, "SHIP5: 5.00 USD off shipping");
        let mut input = cart(vec![line("a", 1, 1000)], &["SHIP5"]);
        input.shipping = Some(Money::new(300, Currency::USD));
        let (a, _) = run(CODES, &input);
        assert_eq!(a[0].kind, AdjustmentKind::FixedAmount(300));
        input.shipping = None;
        let (a, _) = run(CODES, &input);
        assert!(a.is_empty(), "no shipping selected yet");
    }

    #[test]
    fn labels_use_the_cart_currency() {
        let mut input = cart(vec![], &["FIVEOFF"]);
        input.currency = Currency::JPY;
        input.lines = vec![CartLine { unit_price: Money::new(3000, Currency::JPY), ..line("a", 1, 0) }];
        let (a, _) = run(CODES, &input);
        assert_eq!(a[0].label, "FIVEOFF: 500 JPY off");
        let config = r#"{"codes":[{"code":"ODD","percent":"12.345"}]}"#;
        let (a, _) = run(config, &cart(vec![line("a", 1, 1000)], &["odd"]));
        assert_eq!(a[0].label, "ODD: 12.345 % off");
        assert_eq!(a[0].kind, AdjustmentKind::Percent(123_450));
    }

    #[test]
    fn invalid_configs() {
        assert!(invalid("{}").contains("codes"));
        assert!(invalid(r#"{"codes":[{"code":"X"}]}"#).contains("exactly one"));
        assert!(invalid(r#"{"codes":[{"code":"X","percent":"5","amount":100}]}"#).contains("exactly one"));
        assert!(invalid(r#"{"codes":[{"code":" ","percent":"5"}]}"#).contains("empty"));
        assert!(invalid(r#"{"codes":[{"code":"X","amount":0}]}"#).contains("more than 0"));
        assert!(invalid(r#"{"codes":[{"code":"X","percent":"0"}]}"#).contains("more than 0"));
        assert!(invalid(r#"{"codes":[{"code":"X","percent":"100.5"}]}"#).contains("at most 100"));
        assert!(invalid(r#"{"codes":[{"code":"X","percent":"9.99999"}]}"#).contains("4 decimals"));
        assert!(invalid(r#"{"codes":[{"code":"X","percent":"ten"}]}"#).contains("not a decimal"));
        assert!(invalid(r#"{"codes":[{"code":"X","amount":100,"min_subtotal":-1}]}"#).contains("negative"));
        assert!(
            invalid(r#"{"codes":[{"code":"X","amount":100,"target":"line"}]}"#).contains("unknown variant")
        );
        assert!(invalid(r#"{"codes":[{"code":"X","amount":"5.00"}]}"#).contains("invalid type"));
        assert!(invalid(r#"{"codes":[{"code":"X","percent":"5","label":""}]}"#).contains("label"));
        assert!(invalid(r#"{"codes":[{"code":"X","percent":"5","minimum":3}]}"#).contains("minimum"));
        assert!(
            invalid(r#"{"codes":[{"code":"save","percent":"5"},{"code":"SAVE","amount":1}]}"#)
                .contains("twice")
        );
    }

    #[test]
    fn schema_is_json() {
        parse_config::<serde::de::IgnoredAny>(Coupon::CONFIG_SCHEMA).unwrap();
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::pricing::<Coupon>,
        );
    }
}
