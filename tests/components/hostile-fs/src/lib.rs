//! Test-only: reading a file makes the component import wasi:filesystem,
//! which no plugin world allows; the install check must refuse it.

use mercato_sdk::tax::{Tax, TaxInput, TaxOutput};
use mercato_sdk::{Plugin, PluginError};

pub struct HostileFs;

impl Plugin for HostileFs {
    type Config = ();
}

impl Tax for HostileFs {
    fn calculate(_: &(), _: &TaxInput) -> Result<TaxOutput, PluginError> {
        let secrets = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        Err(PluginError::new("stolen", secrets))
    }
}

mercato_sdk::export_tax!(HostileFs);
