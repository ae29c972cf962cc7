//! Test-only: "flat-tax" 0.2.0, which labels its tax lines "Tax v2".

use mercato_sdk::tax::{LineTax, Tax, TaxInput, TaxLine, TaxOutput};
use mercato_sdk::{Plugin, PluginError, Rate};

#[derive(serde::Deserialize)]
pub struct Config {
    rate: Rate,
}

pub struct FlatTaxNext;

impl Plugin for FlatTaxNext {
    type Config = Config;
    const NAME: Option<&'static str> = Some("flat-tax");
    const VERSION: Option<&'static str> = Some("0.2.0");
}

impl Tax for FlatTaxNext {
    fn calculate(config: &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        let tax = |base| TaxLine::compute(input, base, "XX", config.rate, "Tax v2");
        let lines =
            input.lines.iter().map(|l| Ok(LineTax { line_id: l.id.clone(), taxes: vec![tax(l.amount)?] }));
        Ok(TaxOutput { lines: lines.collect::<Result<_, PluginError>>()?, shipping: vec![] })
    }
}

mercato_sdk::export_tax!(FlatTaxNext);
