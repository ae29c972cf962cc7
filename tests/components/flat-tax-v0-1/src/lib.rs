//! Test-only: a tax plugin written against `mercato:plugin@0.1.0` with plain
//! wit-bindgen, as a plugin built before 0.2.0 was. It taxes every line and
//! shipping at 10 %, rounded half-even, and answers lines by id, so the tests
//! can show that the host still serves the 0.1.0 tax world.

// The generated export glue is unsafe by nature.
#![allow(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({
        path: "../../../wit/v0.1.0",
        world: "tax-plugin",
    });

    use exports::mercato::plugin::plugin::Guest as Plugin;
    use exports::mercato::plugin::tax::{Guest as Tax, LineTax, TaxAmount, TaxInput, TaxOutput, TaxRate};
    use mercato::plugin::types::{ExtensionPoint, Metadata, PluginError};

    struct FlatTaxV01;

    impl Plugin for FlatTaxV01 {
        fn describe() -> Metadata {
            Metadata {
                name: "flat-tax-v0-1".into(),
                version: "0.1.0".into(),
                extension_point: ExtensionPoint::Tax,
                description: "10% on every line and on shipping (mercato:plugin@0.1.0)".into(),
                config_schema: r#"{"type":"object"}"#.into(),
            }
        }
    }

    impl Tax for FlatTaxV01 {
        fn calculate(_config: String, input: TaxInput) -> Result<TaxOutput, PluginError> {
            let tax = |base: i64| TaxAmount { rate: 0, amount: super::tenth_half_even(base.max(0)) };
            let lines = input
                .lines
                .into_iter()
                .map(|l| LineTax { taxes: vec![tax(l.amount)], line_id: l.id })
                .collect();
            let rate =
                TaxRate { jurisdiction: input.ship_to.country, rate: "0.1".into(), label: "Tax".into() };
            Ok(TaxOutput { rates: vec![rate], lines, shipping: vec![tax(input.shipping_amount)] })
        }
    }

    export!(FlatTaxV01);
}

/// A tenth of `amount`, rounded half to even.
pub fn tenth_half_even(amount: i64) -> i64 {
    let (q, r) = (amount / 10, amount % 10);
    if r > 5 || (r == 5 && q % 2 != 0) { q + 1 } else { q }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rounds_half_even() {
        assert_eq!(super::tenth_half_even(25), 2);
        assert_eq!(super::tenth_half_even(35), 4);
        assert_eq!(super::tenth_half_even(2000), 200);
        assert_eq!(super::tenth_half_even(26), 3);
    }
}
