//! Test-only: exports `mercato:plugin/tax@9.0.0`, a version this host does
//! not speak; the install check must refuse it by version.

// The generated export glue is unsafe by nature.
#![allow(unsafe_code)]

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({
        inline: r#"
            package mercato:plugin@9.0.0;
            interface plugin { describe: func() -> string; }
            interface tax { calculate: func(config: string, input: string) -> string; }
            world tax-plugin { export plugin; export tax; }
        "#,
    });

    struct Future;

    impl exports::mercato::plugin::plugin::Guest for Future {
        fn describe() -> String {
            "from the future".into()
        }
    }

    impl exports::mercato::plugin::tax::Guest for Future {
        fn calculate(_config: String, input: String) -> String {
            input
        }
    }

    export!(Future);
}
