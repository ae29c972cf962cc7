//! Test-only: declares a configuration schema that is valid JSON but not
//! a valid JSON Schema (`"type": 12`), which the install check refuses.

use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
use mercato_sdk::{Plugin, PluginError};

pub struct BadSchema;

impl Plugin for BadSchema {
    type Config = ();
    const CONFIG_SCHEMA: &'static str = r#"{"type": 12, "properties": {"rate": {"type": "string"}}}"#;
}

impl Tax for BadSchema {
    fn calculate(_: &(), _: &TaxInput) -> Result<TaxOutput, PluginError> {
        Ok(TaxOutput::default())
    }
}

mercato_sdk::export_tax!(BadSchema);
