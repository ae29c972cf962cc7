//! Test-only. Each `mode` breaks the contract or a limit in one way, so the
//! runtime tests can show each is contained with the right error.

use mercato_sdk::tax::{LineTax, Tax, TaxInput, TaxOutput, TaxRate};
use mercato_sdk::{Plugin, PluginError, Rate};

#[derive(serde::Deserialize)]
pub struct Config {
    mode: String,
}

pub struct HostileTax;

impl Plugin for HostileTax {
    type Config = Config;
}

/// One zero-rated tax labelled `label`, on every line, each taxed `amount(line amount)`.
fn each_line(input: &TaxInput, label: impl Into<String>, amount: impl Fn(i64) -> i64) -> TaxOutput {
    let rates = vec![TaxRate { jurisdiction: "XX".into(), rate: Rate::ZERO, label: label.into() }];
    let lines =
        (0u32..).zip(&input.lines).map(|(line, l)| LineTax { line, rate: 0, amount: amount(l.amount) });
    TaxOutput { rates, lines: lines.collect(), shipping: vec![] }
}

impl Tax for HostileTax {
    fn calculate(config: &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        match config.mode.as_str() {
            "ok" => Ok(each_line(input, "none", |_| 0)),
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    // Reserve without touching, so memory, not fuel, runs out first.
                    hoard.push(Vec::<u8>::with_capacity(1 << 20));
                    std::hint::black_box(&hoard);
                }
            }
            "trap" => panic!("hostile plugin panicked on purpose"),
            "recurse" => {
                // Not a tail call: every level keeps a frame on the wasm stack.
                fn deeper(n: u64) -> u64 {
                    if n == 0 { 0 } else { deeper(core::hint::black_box(n) - 1).wrapping_add(n) }
                }
                let depth = deeper(core::hint::black_box(u64::MAX));
                Ok(each_line(input, format!("{depth}"), |_| 0))
            }
            "print" => {
                println!("to stdout from the plugin");
                eprintln!("to stderr from the plugin");
                Ok(each_line(input, "none", |_| 0))
            }
            "big-output" => Ok(each_line(input, "x".repeat(10 << 20), |_| 0)),
            "negative-tax" => Ok(each_line(input, "negative", |_| -1)),
            "unknown-line" => {
                let mut out = each_line(input, "none", |_| 0);
                out.lines = vec![LineTax { line: input.lines.len() as u32, rate: 0, amount: 0 }];
                Ok(out)
            }
            "same-tax-twice" => {
                let mut out = each_line(input, "dup", |_| 0);
                out.lines = out.lines.iter().flat_map(|t| [*t, *t]).collect();
                Ok(out)
            }
            "too-much-tax" => Ok(each_line(input, "greedy", |amount| amount + 1)),
            "log-spam" => {
                for i in 0..1000 {
                    mercato_sdk::log::info(&format!("line {i} {}", "y".repeat(4000)));
                }
                Ok(each_line(input, "logged", |_| 0))
            }
            "refuse" => Err(PluginError::new("unsupported_region", "no tax tables for this region")),
            other => Err(PluginError::invalid_config(format!("unknown mode {other:?}"))),
        }
    }
}

mercato_sdk::export_tax!(HostileTax);
