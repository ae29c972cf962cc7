//! Test-only: "flat-tax" 0.2.0, which labels its tax lines "Tax v2".

use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
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
    const CONFIG_SCHEMA: &'static str = r#"{"type":"object","required":["rate"],"additionalProperties":false,
        "properties":{"rate":{"type":"string","title":"Rate","pattern":"^0(\\.[0-9]{1,6})?$",
        "description":"The share of each line taken as tax, a decimal between 0 and 1, e.g. \"0.1\""}}}"#;
}

impl Tax for FlatTaxNext {
    fn calculate(config: &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        let mut out = TaxOutput::default();
        let tax = out.rate("XX", config.rate, "Tax v2");
        out.tax_every_line(input, tax)?;
        Ok(out)
    }
}

mercato_sdk::export_tax!(FlatTaxNext);
