//! Test-only. Each `mode` breaks the contract or a limit in one way, so the
//! runtime tests can show each is contained with the right error.

use mercato_sdk::tax::{LineTax, Tax, TaxInput, TaxLine, TaxOutput};
use mercato_sdk::{Plugin, PluginError, Rate};

#[derive(serde::Deserialize)]
pub struct Config {
    mode: String,
}

pub struct HostileTax;

impl Plugin for HostileTax {
    type Config = Config;
}

fn tax_line(amount: i64, label: String) -> TaxLine {
    TaxLine { jurisdiction: "XX".into(), rate: Rate::ZERO, amount, label }
}

fn each_line(input: &TaxInput, f: impl Fn(i64) -> TaxLine) -> TaxOutput {
    let lines =
        input.lines.iter().map(|l| LineTax { line_id: l.id.clone(), taxes: vec![f(l.amount)] }).collect();
    TaxOutput { lines, shipping: vec![] }
}

impl Tax for HostileTax {
    fn calculate(config: &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        match config.mode.as_str() {
            "ok" => Ok(each_line(input, |_| tax_line(0, "none".into()))),
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
            "big-output" => Ok(each_line(input, |_| tax_line(0, "x".repeat(10 << 20)))),
            "negative-tax" => Ok(each_line(input, |_| tax_line(-1, "negative".into()))),
            "unknown-line" => Ok(TaxOutput {
                lines: vec![LineTax { line_id: "no-such-line".into(), taxes: vec![] }],
                shipping: vec![],
            }),
            "same-tax-twice" => {
                let twice = || vec![tax_line(0, "dup".into()); 2];
                let lines = input.lines.iter().map(|l| LineTax { line_id: l.id.clone(), taxes: twice() });
                Ok(TaxOutput { lines: lines.collect(), shipping: vec![] })
            }
            "too-much-tax" => Ok(each_line(input, |amount| tax_line(amount + 1, "greedy".into()))),
            "log-spam" => {
                for i in 0..1000 {
                    mercato_sdk::log::info(&format!("line {i} {}", "y".repeat(4000)));
                }
                Ok(each_line(input, |_| tax_line(0, "logged".into())))
            }
            "refuse" => Err(PluginError::new("unsupported_region", "no tax tables for this region")),
            other => Err(PluginError::invalid_config(format!("unknown mode {other:?}"))),
        }
    }
}

mercato_sdk::export_tax!(HostileTax);
