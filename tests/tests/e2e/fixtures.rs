use mercato::runtime::{Call, FailureKind, JsonCallError, LimitOverrides};
use mercato_sdk::PluginError;
use mercato_sdk::testing::Fixture;
use mercato_tests::shop::TEST_DEADLINE_MS;
use mercato_tests::{component, repo_root, runtime};

/// Every fixture of every first-party plugin, run through the compiled
/// component in the sandbox, gives exactly what the fixture expects.
#[test]
fn every_first_party_fixture_matches_through_the_sandbox() {
    let runtime = runtime();
    let mut dirs: Vec<_> = std::fs::read_dir(repo_root().join("plugins"))
        .expect("plugins/ exists")
        .map(|e| e.expect("readable").path())
        .collect();
    dirs.sort();
    let mut checked = 0;
    for dir in dirs {
        let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
        // JavaScript and Python plugins too (`flat-tax-js`, `flat-rate-py`…):
        // the same fixtures as their Rust originals, through their components.
        // Time is not what this checks: the tests share two cores.
        let patient = LimitOverrides { deadline_ms: Some(TEST_DEADLINE_MS), ..Default::default() };
        let plugin = runtime
            .install_with(&component(&name), &patient)
            .unwrap_or_else(|e| panic!("{name} does not install: {e}"));
        assert_eq!(plugin.metadata.name, name, "metadata names the crate");
        assert_eq!(plugin.metadata.version, "0.1.0");
        assert!(!plugin.metadata.description.is_empty(), "{name} has a description");
        serde_json::from_str::<serde_json::Value>(&plugin.metadata.config_schema).expect("schema is JSON");
        for fixture in Fixture::load_all(&dir) {
            let config = fixture.config.to_string();
            let actual = match runtime.call_json(Call::new(&plugin, &config), &fixture.input) {
                Ok(out) => Ok(out.output),
                Err(JsonCallError::Call(e)) => match e.kind {
                    FailureKind::Reported { code, message } => Err(PluginError { code, message }),
                    other => panic!("{name}/{}: {other}", fixture.name),
                },
                Err(e) => panic!("{name}/{}: {e}", fixture.name),
            };
            fixture.assert_matches(actual);
            checked += 1;
        }
    }
    assert!(checked >= 80, "only {checked} fixtures ran");
}

/// The SDK's promise to plugin authors: a flat-rate tax rule, imports
/// included, fits in 30 lines.
#[test]
fn a_flat_rate_tax_plugin_fits_in_30_lines() {
    let source = std::fs::read_to_string(repo_root().join("plugins/flat-tax/src/lib.rs")).unwrap();
    assert!(source.lines().count() <= 30, "flat-tax is {} lines", source.lines().count());
}
