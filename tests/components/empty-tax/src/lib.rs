//! Test-only: taxes nothing. Instantiating it is the floor every plugin
//! call pays, which the benchmark measures beside the real calls.

use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
use mercato_sdk::{Plugin, PluginError};

pub struct EmptyTax;

impl Plugin for EmptyTax {
    type Config = ();
}

impl Tax for EmptyTax {
    fn calculate(_: &(), _: &TaxInput) -> Result<TaxOutput, PluginError> {
        Ok(TaxOutput::default())
    }
}

mercato_sdk::export_tax!(EmptyTax);
