//! Test-only: exports the pricing world at `mercato:plugin@0.2.0`. The host
//! speaks 0.2.0, but only for tax, so the install check must refuse it.

// The generated export glue is unsafe by nature.
#![allow(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({
        inline: r#"
            package mercato:plugin@0.2.0;
            interface plugin { describe: func() -> string; }
            interface pricing { calculate: func(config: string, input: string) -> string; }
            world pricing-plugin { export plugin; export pricing; }
        "#,
    });

    struct Early;

    impl exports::mercato::plugin::plugin::Guest for Early {
        fn describe() -> String {
            "pricing before its time".into()
        }
    }

    impl exports::mercato::plugin::pricing::Guest for Early {
        fn calculate(_config: String, input: String) -> String {
            input
        }
    }

    export!(Early);
}
