//! The tax adapter: one wire conversion per contract version (`v0_1`,
//! `v0_2`), the same checks on every answer.

mod v0_1;
mod v0_2;

pub(crate) use v0_2::calculate_export;

use mercato_sdk::Rate;
use mercato_sdk::tax::{TaxInput, TaxLine, TaxOutput};
use rust_decimal::Decimal;

use super::{check_output_size, check_text};
use crate::plugins::error::{CallError, FailureKind};
use crate::plugins::runtime::{Call, Outcome, Runtime, Sizing, WorldPre};
use crate::plugins::size::WireSize;

/// Most taxes on one line or on shipping (country, state, county, city…).
const MAX_TAXES_PER_TARGET: usize = 16;

/// Most distinct taxes in one answer.
const MAX_RATES: usize = 256;

/// Where a tax applies, named only when something is wrong with it.
#[derive(Clone, Copy)]
enum On<'a> {
    Line(&'a str),
    Shipping,
}

impl std::fmt::Display for On<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            On::Line(id) => write!(f, "line {id:?}"),
            On::Shipping => f.write_str("shipping"),
        }
    }
}

/// A distinct tax of an answer, checked once: jurisdiction, rate, label.
type RateEntry = (String, Rate, String);

/// The answer's table of distinct taxes, each checked once; entries are
/// `(jurisdiction, rate, label)` as the plugin sent them.
fn rate_table(
    raw: impl ExactSizeIterator<Item = (String, String, String)>,
) -> Result<Vec<RateEntry>, FailureKind> {
    let count = raw.len();
    if count > MAX_RATES {
        return Err(FailureKind::InvalidOutput(format!("{count} distinct taxes (at most {MAX_RATES})")));
    }
    raw.enumerate()
        .map(|(i, (jurisdiction, rate_text, label))| {
            let rate = Rate::parse(&rate_text).ok_or_else(|| {
                FailureKind::InvalidOutput(format!("rates[{i}]: {rate_text:?} is not a decimal"))
            })?;
            if rate.0 < Decimal::ZERO || rate.0 > Decimal::ONE {
                return Err(FailureKind::InvalidOutput(format!("rates[{i}]: {rate_text} is outside 0..1")));
            }
            check_text("jurisdiction", &jurisdiction, true, 64)?;
            check_text("label", &label, false, 200)?;
            Ok((jurisdiction, rate, label))
        })
        .collect()
}

/// One tax at table entry `rate`, checked against the `base` it taxes.
fn tax_line(
    rate: u32,
    amount: i64,
    base: i64,
    on: On<'_>,
    rates: &[RateEntry],
) -> Result<TaxLine, FailureKind> {
    let Some((jurisdiction, rate, label)) = rates.get(rate as usize) else {
        return Err(FailureKind::InvalidOutput(format!("tax on {on}: no rate {rate}")));
    };
    if amount < 0 {
        return Err(FailureKind::InvalidOutput(format!("tax on {on}: negative tax {amount}")));
    }
    if amount > base.max(0) {
        return Err(FailureKind::InvalidOutput(format!(
            "tax on {on}: tax {amount} is more than the amount taxed ({base})"
        )));
    }
    Ok(TaxLine { jurisdiction: jurisdiction.clone(), rate: *rate, amount, label: label.clone() })
}

/// The taxes on one line or on shipping, as `(rate, amount)` pairs.
fn taxes(
    list: impl ExactSizeIterator<Item = (u32, i64)>,
    base: i64,
    on: On<'_>,
    rates: &[RateEntry],
) -> Result<Vec<TaxLine>, FailureKind> {
    if list.len() > MAX_TAXES_PER_TARGET {
        return Err(FailureKind::InvalidOutput(format!("{} taxes on {on}", list.len())));
    }
    list.map(|(rate, amount)| tax_line(rate, amount, base, on, rates)).collect()
}

/// One call through the tax world of a contract version: the wire module's
/// input conversion, its call, its checks.
macro_rules! calculate {
    ($runtime:expr, $call:expr, $input:expr, $wire:ident) => {{
        let (call, input) = ($call, $input);
        let wire = $wire::input_to_wit(input);
        let sizing = Sizing { lines: input.lines.len(), input_bytes: wire.wire_size() };
        $runtime.invoke(
            call,
            "calculate",
            sizing,
            None,
            |pre, store| $wire::call(pre, store, call.config, &wire),
            |raw, limits| {
                check_output_size(raw.wire_size(), limits.max_output_bytes)?;
                $wire::output_from_wit(input, raw)
            },
        )
    }};
}

impl Runtime {
    /// Calls a tax plugin, at whichever contract version it speaks, and
    /// checks its tax lines.
    pub fn tax(&self, call: Call<'_>, input: &TaxInput) -> Result<Outcome<TaxOutput>, CallError> {
        match &call.plugin.pre {
            WorldPre::TaxV2(..) => calculate!(self, call, input, v0_2),
            _ => calculate!(self, call, input, v0_1),
        }
    }
}
