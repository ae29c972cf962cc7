//! Buy X get Y: for every `buy_quantity` units bought from one set of
//! products, `get_quantity` units of another set are discounted.
//!
//! ```json
//! {"offers": [
//!   {"buy": {"product_id": "socks"}, "buy_quantity": 2, "get": {"product_id": "socks"}, "get_quantity": 1},
//!   {"buy": {"tag": "shoes"}, "buy_quantity": 1, "get": {"tag": "laces"}, "get_quantity": 1,
//!    "percent_off": "50", "label": "Half-price laces"}
//! ]}
//! ```
//!
//! - `percent_off` defaults to `"100"` (free).
//! - The offer discounts as many units as the cart allows, and of those the
//!   cheapest eligible ones; a last incomplete group still earns its share
//!   (buy 2 get 2, with 2 bought and 1 to get: 1 discounted).
//! - When the sets overlap, a unit is either bought or discounted, never both:
//!   buy 2 get 1 on 3 units of one product discounts 1.
//! - Offers apply in order, and a unit bought or discounted for one offer
//!   does not count for the next.
//! - The discount is a fixed amount on each line holding discounted units:
//!   units × unit price × percent, half-even, capped at what earlier pricing
//!   plugins left of the line.
//!
//! Product ids and tags match exactly (case-sensitive).

use std::str::FromStr;

use mercato_sdk::pricing::{Adjustment, Ledger, Pricing, PricingInput, PricingOutput};
use mercato_sdk::{CartLine, Decimal, Plugin, PluginError};
use serde::{Deserialize, Deserializer};

/// The merchant configuration, validated: the offers, in order.
#[derive(Debug)]
pub struct Config {
    offers: Vec<Offer>,
}

#[derive(Debug)]
struct Offer {
    buy: Selector,
    buy_quantity: u64,
    get: Selector,
    get_quantity: u64,
    ppm: u32,
    label: String,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    offers: Vec<RawOffer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffer {
    buy: RawSelector,
    buy_quantity: u32,
    get: RawSelector,
    get_quantity: u32,
    percent_off: Option<String>,
    label: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelector {
    product_id: Option<String>,
    tag: Option<String>,
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Validating here means a bad configuration fails as `invalid_config`
        // before any cart is priced, with the offer it concerns in the message.
        let raw = RawConfig::deserialize(d)?;
        let offers =
            raw.offers.into_iter().enumerate().map(|(i, o)| {
                o.validate().map_err(|e| serde::de::Error::custom(format!("offers[{i}]: {e}")))
            });
        Ok(Config { offers: offers.collect::<Result<_, _>>()? })
    }
}

impl RawSelector {
    fn validate(self, field: &str) -> Result<Selector, String> {
        match (self.product_id, self.tag) {
            (Some(id), None) if !id.is_empty() => Ok(Selector::Product(id)),
            (None, Some(tag)) if !tag.is_empty() => Ok(Selector::Tag(tag)),
            (Some(_), None) | (None, Some(_)) => Err(format!("{field}: product_id or tag is empty")),
            _ => Err(format!("{field}: set exactly one of product_id or tag")),
        }
    }
}

impl RawOffer {
    fn validate(self) -> Result<Offer, String> {
        if self.buy_quantity == 0 || self.get_quantity == 0 {
            return Err("buy_quantity and get_quantity must be at least 1".into());
        }
        let (ppm, percent) = percent_ppm(self.percent_off.as_deref().unwrap_or("100"))?;
        let label = match self.label {
            // The host refuses these; refusing them here points at the configuration.
            Some(l) if l.trim().is_empty() || l.len() > 200 => {
                return Err("label must be 1 to 200 bytes and not blank".into());
            }
            Some(l) => l,
            None if ppm == 1_000_000 => format!("Buy {} get {} free", self.buy_quantity, self.get_quantity),
            None => format!("Buy {} get {} {percent} % off", self.buy_quantity, self.get_quantity),
        };
        Ok(Offer {
            buy: self.buy.validate("buy")?,
            buy_quantity: u64::from(self.buy_quantity),
            get: self.get.validate("get")?,
            get_quantity: u64::from(self.get_quantity),
            ppm,
            label,
        })
    }
}

/// Converts a percentage string ("12.5" = 12.5 %) to parts per million, with
/// its normalized text. Four decimals of a percent are exactly whole ppm, so
/// more are refused rather than rounded.
fn percent_ppm(text: &str) -> Result<(u32, String), String> {
    let d = Decimal::from_str(text.trim())
        .map_err(|_| format!("percent_off {text:?} is not a decimal number"))?;
    if d.scale() > 4 {
        return Err(format!("percent_off {text:?} has more than 4 decimals"));
    }
    if d <= Decimal::ZERO || d > Decimal::ONE_HUNDRED {
        return Err(format!("percent_off {text:?} must be more than 0 and at most 100"));
    }
    let ppm = u32::try_from(d * Decimal::from(10_000))
        .map_err(|_| format!("percent_off {text:?} is out of range"))?;
    Ok((ppm, d.normalize().to_string()))
}

impl Offer {
    /// Picks the units this offer discounts, as (line index, units), and marks
    /// them and the units bought for them as used in `available`.
    fn take(&self, lines: &[CartLine], available: &mut [u64]) -> Vec<(usize, u64)> {
        let (bq, gq) = (self.buy_quantity, self.get_quantity);
        let (is_buy, is_get) = (|l: &CartLine| self.buy.matches(l), |l: &CartLine| self.get.matches(l));
        // Units only in the buy set, only in the get set, and in both.
        let (mut buy_only, mut get_only, mut both) = (0u64, 0u64, 0u64);
        for (line, &n) in lines.iter().zip(available.iter()) {
            match (is_buy(line), is_get(line)) {
                (true, false) => buy_only += n,
                (false, true) => get_only += n,
                (true, true) => both += n,
                (false, false) => {}
            }
        }
        // `free` units can be discounted when, taking them from the get-only
        // units first, enough buy units stay paid for: every started group of
        // `gq` discounted units needs `bq` bought ones.
        let fits = |free: u64| {
            let from_both = free.saturating_sub(get_only);
            from_both <= both && free.div_ceil(gq).saturating_mul(bq) <= buy_only + both - from_both
        };
        // `fits` holds for 0 and stops holding past the answer: search it.
        let (mut lo, mut hi) = (0, get_only + both);
        while lo < hi {
            let mid = hi - (hi - lo) / 2;
            if fits(mid) { lo = mid } else { hi = mid - 1 }
        }
        let free = lo;
        if free == 0 {
            return Vec::new();
        }
        let bought = free.div_ceil(gq) * bq;
        // Units in both sets may be discounted only while enough stay to be bought.
        let mut both_cap = buy_only + both - bought;

        // Cheapest first, skipping overlap units past the cap: with only that
        // one limit, greedy gives the cheapest set of `free` units (the brute
        // force test checks it).
        let mut order: Vec<usize> = (0..lines.len()).collect();
        order.sort_by_key(|&i| lines[i].unit_price.amount);
        let mut taken = Vec::new();
        let mut left = free;
        for &i in order.iter().filter(|&&i| is_get(&lines[i])) {
            let cap = if is_buy(&lines[i]) { both_cap } else { u64::MAX };
            let n = available[i].min(left).min(cap);
            if n == 0 {
                continue;
            }
            available[i] -= n;
            left -= n;
            if is_buy(&lines[i]) {
                both_cap -= n;
            }
            taken.push((i, n));
        }
        // Which units count as bought only matters to later offers; using the
        // dearest keeps the cheap ones, the likelier to be discounted, for them.
        let mut to_buy = bought;
        for &i in order.iter().rev().filter(|&&i| is_buy(&lines[i])) {
            let n = available[i].min(to_buy);
            available[i] -= n;
            to_buy -= n;
        }
        taken.sort_unstable();
        taken
    }
}

/// The buy X get Y plugin.
pub struct Bogo;

impl Plugin for Bogo {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r##"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Buy X get Y",
  "type": "object",
  "required": ["offers"],
  "additionalProperties": false,
  "$defs": {
    "products": {
      "type": "object",
      "oneOf": [{"required": ["product_id"]}, {"required": ["tag"]}],
      "additionalProperties": false,
      "properties": {
        "product_id": {"type": "string", "minLength": 1},
        "tag": {"type": "string", "minLength": 1, "description": "Exact match."}
      }
    }
  },
  "properties": {
    "offers": {
      "type": "array",
      "description": "Applied in order; a unit bought or discounted for one offer does not count for the next.",
      "items": {
        "type": "object",
        "required": ["buy", "buy_quantity", "get", "get_quantity"],
        "additionalProperties": false,
        "properties": {
          "buy": {"$ref": "#/$defs/products"},
          "buy_quantity": {"type": "integer", "minimum": 1, "maximum": 4294967295},
          "get": {"$ref": "#/$defs/products", "description": "May overlap with buy: a unit is then either bought or discounted."},
          "get_quantity": {"type": "integer", "minimum": 1, "maximum": 4294967295},
          "percent_off": {"type": "string", "pattern": "^\\s*[0-9]+(\\.[0-9]{1,4})?\\s*$", "default": "100", "description": "Percentage off the cheapest eligible units; more than 0, at most 100, up to 4 decimals."},
          "label": {"type": "string", "minLength": 1, "maxLength": 200, "description": "Shown to the buyer; default \"Buy 2 get 1 free\"."}
        }
      }
    }
  }
}"##;
}

impl Pricing for Bogo {
    fn run(config: &Config, input: &PricingInput) -> Result<PricingOutput, PluginError> {
        // Replaying earlier plugins is the only way to know what is left of
        // each line: order discounts reach the lines in shares the input
        // does not list.
        let mut ledger = Ledger::new(input.currency, &input.lines, input.shipping);
        for p in &input.previous {
            ledger.apply(&p.adjustment, &input.discount_codes).map_err(|e| {
                PluginError::new("invalid_input", format!("cannot replay an earlier adjustment: {e}"))
            })?;
        }
        let mut available: Vec<u64> = input.lines.iter().map(|l| u64::from(l.quantity)).collect();
        let mut adjustments = Vec::new();
        for offer in &config.offers {
            for (i, units) in offer.take(&input.lines, &mut available) {
                let line = &input.lines[i];
                let units =
                    i64::try_from(units).map_err(|_| PluginError::unsupported("quantity out of range"))?;
                let worth = line
                    .unit_price
                    .checked_mul(units)
                    .and_then(|m| m.mul_ppm(offer.ppm))
                    .map_err(|e| PluginError::unsupported(e.to_string()))?;
                let amount = worth.amount.min(ledger.line_totals()[i]);
                if amount <= 0 {
                    continue;
                }
                let adjustment = Adjustment::line_amount(&line.id, amount, &offer.label);
                // Keeps the ledger current so a later offer's cap on the same
                // line counts this one.
                ledger.apply(&adjustment, &input.discount_codes).map_err(|e| {
                    PluginError::new("internal", format!("proposed an adjustment the host refuses: {e}"))
                })?;
                adjustments.push(adjustment);
            }
        }
        Ok(PricingOutput { adjustments })
    }
}

mercato_sdk::export_pricing!(Bogo);

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

    /// Runs the plugin, checks the host would accept its answer and returns
    /// (line id, amount) per adjustment.
    fn run(config: &str, input: &PricingInput) -> Vec<(String, i64)> {
        let config: Config = parse_config(config).unwrap();
        let output = Bogo::run(&config, input).unwrap();
        host_accepts(input, &output);
        output
            .adjustments
            .into_iter()
            .map(|a| match (a.target, a.kind) {
                (Target::Line(id), AdjustmentKind::FixedAmount(amount)) => (id, amount),
                other => panic!("expected a fixed amount on a line, got {other:?}"),
            })
            .collect()
    }

    fn ids(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs.iter().map(|(id, a)| (id.to_string(), *a)).collect()
    }

    /// Applies `output` the way the host does, after what earlier plugins applied.
    fn invalid(config: &str) -> String {
        let e = parse_config::<Config>(config).unwrap_err();
        assert_eq!(e.code, "invalid_config");
        e.message
    }

    const SAME: &str = r#"{"offers":[{"buy":{"product_id":"p"},"buy_quantity":2,"get":{"product_id":"p"},"get_quantity":1}]}"#;

    #[test]
    fn overlap_a_unit_is_bought_or_free() {
        let free_units =
            |qty| run(SAME, &cart(vec![line("l", "p", qty, 100, &[])])).first().map_or(0, |a| a.1 / 100);
        assert_eq!(free_units(2), 0);
        assert_eq!(free_units(3), 1);
        assert_eq!(free_units(5), 1);
        assert_eq!(free_units(6), 2);
        assert_eq!(free_units(7), 2);
        assert_eq!(free_units(9), 3);
    }

    #[test]
    fn cheapest_units_are_discounted_first() {
        let input = cart(vec![
            line("a", "p", 1, 3000, &[]),
            line("b", "p", 2, 1000, &[]),
            line("c", "p", 2, 500, &[]),
            line("d", "p", 1, 2000, &[]),
        ]);
        // 6 units: 2 free, both from the cheapest line.
        assert_eq!(run(SAME, &input), ids(&[("c", 1000)]));
        let mut input = input;
        input.lines[2].quantity = 1;
        // 5 units: 1 free.
        assert_eq!(run(SAME, &input), ids(&[("c", 500)]));
        input.lines.push(line("e", "p", 1, 700, &[]));
        // 6 units again: the 5.00 and the 7.00 one, on two lines, in line order.
        assert_eq!(run(SAME, &input), ids(&[("c", 500), ("e", 700)]));
    }

    #[test]
    fn separate_sets_and_partial_groups() {
        let config = r#"{"offers":[{"buy":{"tag":"shoes"},"buy_quantity":1,"get":{"tag":"laces"},"get_quantity":2,"percent_off":"50"}]}"#;
        let shoes = line("s", "boot", 1, 9000, &["shoes"]);
        // Two laces earned, one in the cart: it still gets its discount.
        let a = run(config, &cart(vec![shoes.clone(), line("l", "lace", 1, 301, &["laces"])]));
        assert_eq!(a, ids(&[("l", 150)]), "150.5 rounds half-even to 150");
        // Five laces: two discounted, the cheapest.
        let a = run(
            config,
            &cart(vec![
                shoes.clone(),
                line("l1", "lace", 3, 400, &["laces"]),
                line("l2", "lace2", 2, 300, &["laces"]),
            ]),
        );
        assert_eq!(a, ids(&[("l2", 300)]));
        // Laces alone earn nothing.
        assert!(run(config, &cart(vec![line("l", "lace", 4, 300, &["laces"])])).is_empty());
        let label = Bogo::run(
            &parse_config(config).unwrap(),
            &cart(vec![shoes, line("l", "lace", 1, 300, &["laces"])]),
        )
        .unwrap()
        .adjustments[0]
            .label
            .clone();
        assert_eq!(label, "Buy 1 get 2 50 % off");
    }

    #[test]
    fn partial_overlap_prefers_more_discounted_units() {
        // A is both a shirt and on sale; buying A and D (shirts) earns two
        // sale items: C and E, rather than only the cheaper A.
        let config =
            r#"{"offers":[{"buy":{"tag":"shirt"},"buy_quantity":1,"get":{"tag":"sale"},"get_quantity":1}]}"#;
        let input = cart(vec![
            line("a", "a", 1, 100, &["shirt", "sale"]),
            line("c", "c", 1, 200, &["sale"]),
            line("d", "d", 1, 10000, &["shirt"]),
            line("e", "e", 1, 300, &["sale"]),
        ]);
        assert_eq!(run(config, &input), ids(&[("c", 200), ("e", 300)]));
        // Without D, A must be bought, so only C is free.
        let input = cart(vec![line("a", "a", 1, 100, &["shirt", "sale"]), line("c", "c", 1, 200, &["sale"])]);
        assert_eq!(run(config, &input), ids(&[("c", 200)]));
    }

    #[test]
    fn offers_do_not_reuse_units() {
        let config = r#"{"offers":[
            {"buy":{"product_id":"p"},"buy_quantity":2,"get":{"product_id":"p"},"get_quantity":1,"label":"3 for 2"},
            {"buy":{"tag":"summer"},"buy_quantity":1,"get":{"tag":"summer"},"get_quantity":1,"percent_off":"50"}]}"#;
        // 3 units of p go to the first offer; the second only has the 2 hats.
        let input = cart(vec![line("p", "p", 3, 1000, &["summer"]), line("h", "hat", 2, 400, &["summer"])]);
        let output = Bogo::run(&parse_config(config).unwrap(), &input).unwrap();
        assert_eq!(output.adjustments[0], Adjustment::line_amount("p", 1000, "3 for 2"));
        assert_eq!(output.adjustments[1], Adjustment::line_amount("h", 200, "Buy 1 get 1 50 % off"));
        assert_eq!(run(config, &input).len(), 2);
    }

    #[test]
    fn capped_at_what_earlier_plugins_left() {
        let mut input = cart(vec![line("a", "p", 2, 1000, &[]), line("b", "p", 1, 600, &[])]);
        input.discount_codes = vec!["HALF".into()];
        input.previous = vec![AppliedAdjustment {
            adjustment: Adjustment {
                target: Target::Order,
                kind: AdjustmentKind::Percent(500_000),
                label: "Half off".into(),
                code: Some("HALF".into()),
            },
            amount: Money::new(1300, Currency::USD),
        }];
        // Line b has 300 left of its 600.
        assert_eq!(run(SAME, &input), ids(&[("b", 300)]));
    }

    #[test]
    fn huge_quantities_are_fine() {
        let a = run(SAME, &cart(vec![line("l", "p", u32::MAX, 1, &[])]));
        assert_eq!(a, ids(&[("l", i64::from(u32::MAX / 3))]));
    }

    #[test]
    fn zero_priced_units_give_nothing() {
        let input = cart(vec![line("gift", "p", 1, 0, &[]), line("l", "p", 2, 500, &[])]);
        assert!(run(SAME, &input).is_empty(), "the cheapest unit is the free gift");
    }

    /// The offer read literally: try every split of each get line into
    /// discounted and other units; keep the most units discounted, then the
    /// cheapest, among splits that leave enough buy units paid for.
    fn brute_force(offer: &Offer, lines: &[CartLine]) -> (u64, i64) {
        let mut best = (0, 0);
        let mut free = vec![0u32; lines.len()];
        loop {
            let count: u64 = free.iter().map(|&f| u64::from(f)).sum();
            let cost: i64 = lines.iter().zip(&free).map(|(l, &f)| l.unit_price.amount * i64::from(f)).sum();
            let paid: u64 = lines
                .iter()
                .zip(&free)
                .filter(|(l, _)| offer.buy.matches(l))
                .map(|(l, &f)| u64::from(l.quantity - f))
                .sum();
            if count.div_ceil(offer.get_quantity) * offer.buy_quantity <= paid
                && (count > best.0 || (count == best.0 && cost < best.1))
            {
                best = (count, cost);
            }
            // Next split, odometer style.
            let mut i = 0;
            loop {
                if i == lines.len() {
                    return best;
                }
                if offer.get.matches(&lines[i]) && free[i] < lines[i].quantity {
                    free[i] += 1;
                    break;
                }
                free[i] = 0;
                i += 1;
            }
        }
    }

    #[test]
    fn agrees_with_brute_force_on_small_carts() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for _ in 0..5000 {
            let lines: Vec<CartLine> = (0..1 + next(4))
                .map(|i| {
                    // Lines in the buy set (x), the get set (y), both or neither.
                    let tags: Vec<&str> = ["x", "y"].into_iter().filter(|_| next(3) > 0).collect();
                    line(&format!("l{i}"), "p", next(4) as u32, 100 * (1 + next(4) as i64), &tags)
                })
                .collect();
            let offer = Offer {
                buy: Selector::Tag("x".into()),
                buy_quantity: 1 + next(3),
                get: Selector::Tag(if next(4) == 0 { "x" } else { "y" }.into()),
                get_quantity: 1 + next(3),
                ppm: 1_000_000,
                label: "t".into(),
            };
            let mut available: Vec<u64> = lines.iter().map(|l| u64::from(l.quantity)).collect();
            let taken = offer.take(&lines, &mut available);
            let count: u64 = taken.iter().map(|t| t.1).sum();
            let cost: i64 = taken.iter().map(|&(i, n)| lines[i].unit_price.amount * n as i64).sum();
            assert_eq!((count, cost), brute_force(&offer, &lines), "{offer:?} on {lines:?}");
            let used: u64 = lines.iter().zip(&available).map(|(l, a)| u64::from(l.quantity) - a).sum();
            assert_eq!(
                used,
                count + count.div_ceil(offer.get_quantity) * offer.buy_quantity,
                "units marked used"
            );
        }
    }

    #[test]
    fn invalid_configs() {
        assert!(invalid("{}").contains("offers"));
        let offer = |body: &str| format!(r#"{{"offers":[{{{body}}}]}}"#);
        let ok = r#""buy":{"tag":"t"},"buy_quantity":1,"get":{"tag":"t"},"get_quantity":1"#;
        parse_config::<Config>(&offer(ok)).unwrap();
        assert!(invalid(&offer(&format!(r#"{ok},"percent_off":"0""#))).contains("more than 0"));
        assert!(invalid(&offer(&format!(r#"{ok},"percent_off":"100.01""#))).contains("at most 100"));
        assert!(invalid(&offer(&format!(r#"{ok},"percent_off":"0.00001""#))).contains("4 decimals"));
        assert!(invalid(&offer(&format!(r#"{ok},"percent_off":100"#))).contains("string"));
        assert!(invalid(&offer(&format!(r#"{ok},"label":"""#))).contains("label"));
        assert!(invalid(&offer(&format!(r#"{ok},"free":true"#))).contains("free"));
        assert!(
            invalid(&offer(r#""buy":{"tag":"t"},"buy_quantity":0,"get":{"tag":"t"},"get_quantity":1"#))
                .contains("at least 1")
        );
        assert!(
            invalid(&offer(r#""buy":{"tag":"t"},"buy_quantity":1,"get":{"tag":"t"},"get_quantity":0"#))
                .contains("at least 1")
        );
        assert!(
            invalid(&offer(r#""buy":{},"buy_quantity":1,"get":{"tag":"t"},"get_quantity":1"#))
                .contains("buy: set exactly one")
        );
        assert!(
            invalid(&offer(
                r#""buy":{"tag":"t"},"buy_quantity":1,"get":{"tag":"t","product_id":"p"},"get_quantity":1"#
            ))
            .contains("get: set exactly one")
        );
        assert!(
            invalid(&offer(r#""buy":{"tag":"t"},"buy_quantity":1,"get":{"tag":""},"get_quantity":1"#))
                .contains("empty")
        );
        assert!(
            invalid(&offer(r#""buy":{"tag":"t"},"get":{"tag":"t"},"get_quantity":1"#))
                .contains("buy_quantity")
        );
    }

    #[test]
    fn schema_is_json() {
        parse_config::<serde::de::IgnoredAny>(Bogo::CONFIG_SCHEMA).unwrap();
    }

    #[test]
    fn fixtures() {
        mercato_sdk::testing::check_fixtures(
            env!("CARGO_MANIFEST_DIR"),
            mercato_sdk::testing::pricing::<Bogo>,
        );
    }
}
