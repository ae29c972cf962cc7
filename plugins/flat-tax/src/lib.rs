use mercato_sdk::tax::{LineTax, Tax, TaxInput, TaxLine, TaxOutput};
use mercato_sdk::{Plugin, PluginError, Rate};

#[derive(serde::Deserialize)]
pub struct Config {
    rate: Rate,
    #[serde(default = "default_label")]
    label: String,
}

fn default_label() -> String {
    "Tax".into()
}

pub struct FlatTax;

impl Plugin for FlatTax {
    type Config = Config;
    const CONFIG_SCHEMA: &'static str = r#"{"type":"object","required":["rate"],"properties":{"rate":{"type":"string"},"label":{"type":"string"}}}"#;
}

impl Tax for FlatTax {
    fn calculate(config: &Config, input: &TaxInput) -> Result<TaxOutput, PluginError> {
        let tax = |base| TaxLine::compute(input, base, &input.ship_to.country, config.rate, &config.label);
        let lines =
            input.lines.iter().map(|l| Ok(LineTax { line_id: l.id.clone(), taxes: vec![tax(l.amount)?] }));
        Ok(TaxOutput {
            lines: lines.collect::<Result<_, PluginError>>()?,
            shipping: vec![tax(input.shipping_amount)?],
        })
    }
}

mercato_sdk::export_tax!(FlatTax);
