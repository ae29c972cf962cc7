use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
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
        let mut out = TaxOutput::default();
        let label = config.label.as_deref().unwrap_or("Tax");
        let tax = out.rate(&input.ship_to.country, config.rate, label);
        out.tax_every_line(input, tax)?;
        out.tax_shipping(input, tax, input.shipping_amount)?;
        Ok(out)
    }
}

mercato_sdk::export_tax!(FlatTax);
