use mercato_sdk::tax::{Tax, TaxInput, TaxLine, TaxOutput};
use mercato_sdk::{Plugin, PluginError, Rate};

/// `{"rate": "0.1", "label": "Sales tax"}`; the label defaults to "Tax".
#[derive(serde::Deserialize)]
pub struct Config {
    rate: Rate,
    label: Option<String>,
}

pub struct FlatTax;

impl Plugin for FlatTax {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{"type":"object","required":["rate"],
        "properties":{"rate":{"type":"string"},"label":{"type":"string"}}}"#;
}

impl Tax for FlatTax {
    fn calculate(config: &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        let label = config.label.as_deref().unwrap_or("Tax");
        let tax = |base| TaxLine::compute(input, base, &input.ship_to.country, config.rate, label);
        let lines = TaxOutput::each_line(input, |line| Ok(vec![tax(line.amount)?]))?;
        Ok(TaxOutput { lines, shipping: vec![tax(input.shipping_amount)?] })
    }
}

mercato_sdk::export_tax!(FlatTax);
