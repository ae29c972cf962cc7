//! Per-call limits: defaults that fit a checkout, overridable per plugin.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Shopify Functions' budget: 11 million instructions for a 200-line cart.
pub const DEFAULT_FUEL_PER_200_LINES: u64 = 11_000_000;
/// Wall-clock deadline of one call.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(50);
/// Wall-clock deadline of a payment call, which waits on its provider's
/// round trips (each request at most `network::REQUEST_TIMEOUT`).
pub const PAYMENT_DEADLINE: Duration = Duration::from_secs(15);
/// Linear memory a plugin may grow to.
pub const DEFAULT_MEMORY_BYTES: u64 = 16 << 20;
/// Input a plugin may be given (a 1,000-line cart is about 300 KiB).
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 4 << 20;
/// Output a plugin may return.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 1 << 20;
/// The hard ceiling of any memory override: the pooling allocator reserves
/// slots of this size.
pub const MAX_MEMORY_BYTES: u64 = 256 << 20;

/// Limits of one call, after overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Instructions per 200 cart lines (at least this much for smaller carts).
    pub fuel_per_200_lines: u64,
    /// Wall-clock deadline in milliseconds.
    pub deadline_ms: u64,
    /// Linear memory cap in bytes.
    pub memory_bytes: u64,
    /// Input size cap in bytes.
    pub max_input_bytes: u64,
    /// Output size cap in bytes.
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            fuel_per_200_lines: DEFAULT_FUEL_PER_200_LINES,
            deadline_ms: DEFAULT_DEADLINE.as_millis() as u64,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            max_output_bytes: DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

/// An operator's overrides for one plugin; unset fields keep the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// See [`Limits::fuel_per_200_lines`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel_per_200_lines: Option<u64>,
    /// See [`Limits::deadline_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// See [`Limits::memory_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// See [`Limits::max_input_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_bytes: Option<u64>,
    /// See [`Limits::max_output_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_bytes: Option<u64>,
}

impl Limits {
    /// `self` with `overrides` applied, or why they are out of range.
    pub fn with(self, o: &LimitOverrides) -> Result<Limits, String> {
        let l = Limits {
            fuel_per_200_lines: o.fuel_per_200_lines.unwrap_or(self.fuel_per_200_lines),
            deadline_ms: o.deadline_ms.unwrap_or(self.deadline_ms),
            memory_bytes: o.memory_bytes.unwrap_or(self.memory_bytes),
            max_input_bytes: o.max_input_bytes.unwrap_or(self.max_input_bytes),
            max_output_bytes: o.max_output_bytes.unwrap_or(self.max_output_bytes),
        };
        if l.fuel_per_200_lines == 0 {
            return Err("fuel_per_200_lines must be positive".into());
        }
        if !(1..=60_000).contains(&l.deadline_ms) {
            return Err("deadline_ms must be between 1 and 60000".into());
        }
        if !(1 << 16..=MAX_MEMORY_BYTES).contains(&l.memory_bytes) {
            return Err(format!("memory_bytes must be between 65536 and {MAX_MEMORY_BYTES}"));
        }
        if l.max_input_bytes == 0 || l.max_output_bytes == 0 {
            return Err("size caps must be positive".into());
        }
        Ok(l)
    }

    /// Fuel for a call over `lines` cart lines: the per-200-lines budget for
    /// up to 200 lines, growing in proportion above that.
    pub fn fuel_for(&self, lines: usize) -> u64 {
        let lines = lines.max(200) as u64;
        self.fuel_per_200_lines.saturating_mul(lines) / 200
    }

    /// The deadline as a duration.
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuel_scales_with_lines_above_200() {
        let l = Limits::default();
        assert_eq!(l.fuel_for(1), 11_000_000);
        assert_eq!(l.fuel_for(200), 11_000_000);
        assert_eq!(l.fuel_for(1000), 55_000_000);
    }

    #[test]
    fn overrides_are_checked() {
        let l = Limits::default();
        let o = LimitOverrides { deadline_ms: Some(5), ..Default::default() };
        assert_eq!(l.with(&o).unwrap().deadline_ms, 5);
        let bad = LimitOverrides { memory_bytes: Some(MAX_MEMORY_BYTES + 1), ..Default::default() };
        assert!(l.with(&bad).is_err());
    }
}
