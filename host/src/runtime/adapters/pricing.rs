use mercato_sdk::pricing::{Adjustment, AdjustmentKind, Ledger, PricingInput, PricingOutput, Target};

use super::{cart_line_to_wit, check_output_size, customer_to_wit, money_to_wit};
use crate::runtime::error::{CallError, FailureKind};
use crate::runtime::registry::{Call, Outcome, Runtime, Sizing, WorldPre};
use crate::runtime::size::{WireSize, record_size};
use crate::runtime::wit::pricing::exports::mercato::plugin::pricing as w;

record_size! {
    w::PricingInput { currency, lines, customer, discount_codes, shipping, previous }
    w::Adjustment { target, kind, label, code }
    w::AppliedAdjustment { adjustment, amount }
    w::PricingOutput { adjustments }
}

impl WireSize for w::Target {
    fn wire_size(&self) -> u64 {
        match self {
            w::Target::Line(id) => 8 + id.wire_size(),
            _ => 8,
        }
    }
}

impl WireSize for w::Kind {
    fn wire_size(&self) -> u64 {
        16
    }
}

/// Most adjustments one plugin may propose: a few per line.
const MAX_ADJUSTMENTS_PER_LINE: usize = 4;

fn adjustment_to_wit(a: &Adjustment) -> w::Adjustment {
    w::Adjustment {
        target: match &a.target {
            Target::Line(id) => w::Target::Line(id.clone()),
            Target::Order => w::Target::Order,
            Target::Shipping => w::Target::Shipping,
        },
        kind: match a.kind {
            AdjustmentKind::Percent(v) => w::Kind::Percent(v),
            AdjustmentKind::FixedAmount(v) => w::Kind::FixedAmount(v),
            AdjustmentKind::FixedUnitPrice(v) => w::Kind::FixedUnitPrice(v),
        },
        label: a.label.clone(),
        code: a.code.clone(),
    }
}

fn adjustment_from_wit(a: w::Adjustment) -> Adjustment {
    Adjustment {
        target: match a.target {
            w::Target::Line(id) => Target::Line(id),
            w::Target::Order => Target::Order,
            w::Target::Shipping => Target::Shipping,
        },
        kind: match a.kind {
            w::Kind::Percent(v) => AdjustmentKind::Percent(v),
            w::Kind::FixedAmount(v) => AdjustmentKind::FixedAmount(v),
            w::Kind::FixedUnitPrice(v) => AdjustmentKind::FixedUnitPrice(v),
        },
        label: a.label,
        code: a.code,
    }
}

fn input_to_wit(input: &PricingInput) -> w::PricingInput {
    w::PricingInput {
        currency: input.currency.code().to_owned(),
        lines: input.lines.iter().map(cart_line_to_wit).collect(),
        customer: input.customer.as_ref().map(customer_to_wit),
        discount_codes: input.discount_codes.clone(),
        shipping: input.shipping.as_ref().map(money_to_wit),
        previous: input
            .previous
            .iter()
            .map(|a| w::AppliedAdjustment {
                adjustment: adjustment_to_wit(&a.adjustment),
                amount: money_to_wit(&a.amount),
            })
            .collect(),
    }
}

/// Checks a pricing answer by applying it, after what earlier plugins
/// applied, to a ledger of the input: every adjustment must be possible.
fn validate(input: &PricingInput, output: &PricingOutput) -> Result<(), FailureKind> {
    let max = MAX_ADJUSTMENTS_PER_LINE * input.lines.len().max(1) + 16;
    if output.adjustments.len() > max {
        return Err(FailureKind::InvalidOutput(format!(
            "{} adjustments for {} lines (at most {max})",
            output.adjustments.len(),
            input.lines.len()
        )));
    }
    Ledger::from_input(input)
        .apply_all(&output.adjustments, &input.discount_codes)
        .map_err(FailureKind::InvalidOutput)
}

impl Runtime {
    /// Calls a pricing plugin and checks its adjustments.
    pub fn pricing(&self, call: Call<'_>, input: &PricingInput) -> Result<Outcome<PricingOutput>, CallError> {
        let wire = input_to_wit(input);
        let sizing = Sizing { lines: input.lines.len(), input_bytes: wire.wire_size() };
        self.invoke(
            call,
            "run",
            sizing,
            None,
            |pre, store| match pre {
                WorldPre::Pricing(p) => Some(
                    p.instantiate(&mut *store)
                        .and_then(|i| i.mercato_plugin_pricing().call_run(&mut *store, call.config, &wire)),
                ),
                _ => None,
            },
            |raw, limits| {
                check_output_size(raw.wire_size(), limits.max_output_bytes)?;
                let output = PricingOutput {
                    adjustments: raw.adjustments.into_iter().map(adjustment_from_wit).collect(),
                };
                validate(input, &output)?;
                Ok(output)
            },
        )
    }
}
