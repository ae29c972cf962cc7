//! The tax adapter: one wire conversion per contract version (`v0_1`,
//! `v0_2`), the same checks on every answer.

mod v0_1;
mod v0_2;
pub(crate) mod wire;

use mercato_sdk::Rate;
use mercato_sdk::tax::{TaxInput, TaxOutput, TaxRate};

use super::{check_output_size, check_text};
use crate::runtime::error::{CallError, FailureKind};
use crate::runtime::registry::{Call, Outcome, Runtime, Sizing, WorldPre};
use crate::runtime::size::WireSize;

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

/// The answer's table of distinct taxes, each checked once; entries are
/// `(jurisdiction, rate, label)` as the plugin sent them.
fn rate_table(
    raw: impl ExactSizeIterator<Item = (String, String, String)>,
) -> Result<Vec<TaxRate>, FailureKind> {
    let count = raw.len();
    if count > MAX_RATES {
        return Err(FailureKind::InvalidOutput(format!("{count} distinct taxes (at most {MAX_RATES})")));
    }
    raw.enumerate()
        .map(|(i, (jurisdiction, rate_text, label))| {
            let rate = Rate::parse(&rate_text).ok_or_else(|| {
                FailureKind::InvalidOutput(format!("rates[{i}]: {rate_text:?} is not a decimal"))
            })?;
            if !rate.is_fraction() {
                return Err(FailureKind::InvalidOutput(format!("rates[{i}]: {rate_text} is outside 0..1")));
            }
            check_text("jurisdiction", &jurisdiction, true, 64)?;
            check_text("label", &label, false, 200)?;
            Ok(TaxRate { jurisdiction, rate, label })
        })
        .collect()
}

/// The taxes on one line or on shipping, as `(rate, amount)` pairs: at most
/// [`MAX_TAXES_PER_TARGET`], each at a rate of the table and at most once,
/// none negative or more than the `base` it taxes.
fn check_taxes(list: &[(u32, i64)], base: i64, on: On<'_>, rates: &[TaxRate]) -> Result<(), FailureKind> {
    if list.len() > MAX_TAXES_PER_TARGET {
        return Err(FailureKind::InvalidOutput(format!("{} taxes on {on}", list.len())));
    }
    for (k, &(rate, amount)) in list.iter().enumerate() {
        if rates.get(rate as usize).is_none() {
            return Err(FailureKind::InvalidOutput(format!("tax on {on}: no rate {rate}")));
        }
        if amount < 0 {
            return Err(FailureKind::InvalidOutput(format!("tax on {on}: negative tax {amount}")));
        }
        if amount > base.max(0) {
            return Err(FailureKind::InvalidOutput(format!(
                "tax on {on}: tax {amount} is more than the amount taxed ({base})"
            )));
        }
        if list[..k].iter().any(|(r, _)| *r == rate) {
            return Err(FailureKind::InvalidOutput(format!("{on} taxed twice at rates[{rate}]")));
        }
    }
    Ok(())
}

/// Checks an answer against its input: line taxes name lines of the input
/// in line order, and every tax passes [`check_taxes`].
fn checked(input: &TaxInput<'_>, output: TaxOutput) -> Result<TaxOutput, FailureKind> {
    let mut rest = output.lines.as_slice();
    let mut previous = None;
    let mut pairs = Vec::new();
    while let Some(first) = rest.first() {
        let run = rest.iter().take_while(|t| t.line == first.line).count();
        let (mine, after) = rest.split_at(run);
        rest = after;
        let count = input.lines.len();
        let Some(line) = input.lines.get(first.line as usize) else {
            return Err(FailureKind::InvalidOutput(format!(
                "tax for unknown line {} (the input has {count} lines)",
                first.line
            )));
        };
        if previous.is_some_and(|p| p > first.line) {
            return Err(FailureKind::InvalidOutput(format!(
                "line taxes out of line order (line {} comes after a later line)",
                first.line
            )));
        }
        previous = Some(first.line);
        pairs.clear();
        pairs.extend(mine.iter().map(|t| (t.rate, t.amount)));
        check_taxes(&pairs, line.amount, On::Line(&line.id), &output.rates)?;
    }
    pairs.clear();
    pairs.extend(output.shipping.iter().map(|t| (t.rate, t.amount)));
    check_taxes(&pairs, input.shipping_amount, On::Shipping, &output.rates)?;
    Ok(output)
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
    pub fn tax(&self, call: Call<'_>, input: &TaxInput<'_>) -> Result<Outcome<TaxOutput>, CallError> {
        match &call.plugin.pre {
            WorldPre::TaxV2(..) => calculate!(self, call, input, v0_2),
            _ => calculate!(self, call, input, v0_1),
        }
    }
}
