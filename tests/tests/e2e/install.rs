use mercato::runtime::{Call, InstallError, LimitOverrides, Runtime, RuntimeConfig};
use mercato_sdk::ExtensionPoint;
use mercato_tests::{component, install, runtime, tax_input};

#[test]
fn a_core_module_or_garbage_is_not_a_component() {
    let rt = runtime();
    let core = b"\0asm\x01\0\0\0";
    let e = rt.install(core).err().expect("refused");
    assert_eq!(e.code(), "not_a_component");
    assert!(e.to_string().contains("core WebAssembly module"), "{e}");
    let e = rt.install(b"{\"not\": \"wasm\"}").err().expect("refused");
    assert_eq!(e.code(), "not_a_component");
    assert!(rt.list().is_empty(), "nothing was stored");
}

#[test]
fn an_oversized_component_is_refused() {
    let rt = Runtime::new(RuntimeConfig { max_component_bytes: 64 * 1024, ..Default::default() }).unwrap();
    let e = rt.install(&component("flat-tax")).err().expect("refused");
    assert!(matches!(e, InstallError::TooLarge { limit: 65536, .. }), "{e}");
}

#[test]
fn a_component_without_a_mercato_world_is_refused() {
    let e = runtime().install(&component("hostile-command")).err().expect("refused");
    assert_eq!(e.code(), "unknown_world");
    assert!(e.to_string().contains("wasi:cli/run"), "{e}");
}

#[test]
fn another_contract_version_is_refused() {
    let e = runtime().install(&component("hostile-wrong-version")).err().expect("refused");
    assert_eq!(e.code(), "unsupported_version");
    assert!(e.to_string().contains("9.0.0") && e.to_string().contains("0.1.0"), "{e}");
}

#[test]
fn a_world_at_a_version_that_does_not_serve_it_is_refused() {
    let e = runtime().install(&component("hostile-pricing-v0-2")).err().expect("refused");
    assert_eq!(e.code(), "unsupported_version");
    let msg = e.to_string();
    assert!(msg.contains("pricing world at mercato:plugin@0.2.0"), "{msg}");
    assert!(msg.contains("mercato:plugin@0.2.0 (tax)"), "names what 0.2.0 serves: {msg}");
}

#[test]
fn sdk_tax_plugins_speak_0_2_0_and_other_worlds_0_1_0() {
    let rt = runtime();
    assert_eq!(install(&rt, "flat-tax").contract, "0.2.0");
    assert_eq!(install(&rt, "us-sales-tax").contract, "0.2.0");
    assert_eq!(install(&rt, "flat-rate").contract, "0.1.0");
    assert_eq!(install(&rt, "coupon").contract, "0.1.0");
}

#[test]
fn a_0_1_0_tax_plugin_still_installs_and_answers_by_line_id() {
    let rt = runtime();
    let old = install(&rt, "flat-tax-v0-1");
    assert_eq!((old.contract, old.extension_point()), ("0.1.0", ExtensionPoint::Tax));
    let input = tax_input(3);
    let out = rt.tax(Call::new(&old, "{}"), &input).expect("0.1.0 call works").output;
    // Its answer named lines by id; the host turned them into positions.
    let positions: Vec<u32> = out.lines.iter().map(|l| l.line).collect();
    assert_eq!(positions, [0, 1, 2]);
    // The same answer as flat-tax at 10 % over 0.2.0, line by line.
    let new = install(&rt, "flat-tax");
    let same = rt.tax(Call::new(&new, r#"{"rate":"0.1"}"#), &input).unwrap().output;
    assert_eq!(out.lines, same.lines);
    assert_eq!(out.shipping, same.shipping);
    assert_eq!(out.rates[0].rate.to_wire(), "0.1");
}

#[test]
fn a_forbidden_import_is_refused() {
    let e = runtime().install(&component("hostile-fs")).err().expect("refused");
    match &e {
        InstallError::ForbiddenImport { import, point, .. } => {
            assert!(import.starts_with("wasi:filesystem/"), "{import}");
            assert_eq!(*point, ExtensionPoint::Tax);
        }
        other => panic!("expected forbidden import, got {other}"),
    }
}

#[test]
fn installing_the_same_bytes_twice_is_one_plugin() {
    let rt = runtime();
    let a = install(&rt, "flat-tax");
    let b = install(&rt, "flat-tax");
    assert_eq!(a.id, b.id);
    assert!(a.id.starts_with("plg_"));
    assert_eq!(rt.list().len(), 1);
}

#[test]
fn two_versions_run_side_by_side() {
    let rt = runtime();
    let v1 = install(&rt, "flat-tax");
    let v2 = install(&rt, "flat-tax-next");
    assert_eq!((v1.metadata.name.as_str(), v2.metadata.name.as_str()), ("flat-tax", "flat-tax"));
    assert_eq!((v1.metadata.version.as_str(), v2.metadata.version.as_str()), ("0.1.0", "0.2.0"));
    assert_ne!(v1.id, v2.id);
    let config = r#"{"rate":"0.1"}"#;
    let one = rt.tax(Call::new(&v1, config), &tax_input(1)).unwrap();
    let two = rt.tax(Call::new(&v2, config), &tax_input(1)).unwrap();
    assert_eq!(one.output.rates[0].label, "Tax");
    assert_eq!(two.output.rates[0].label, "Tax v2");
    assert_eq!(rt.get(&v1.id).unwrap().metadata.version, "0.1.0", "look up by id");
}

#[test]
fn compiled_components_are_cached_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = RuntimeConfig { cache_dir: Some(dir.path().to_path_buf()), ..Default::default() };
    let first = Runtime::new(config.clone()).unwrap();
    assert!(!install(&first, "us-sales-tax").loaded_from_cache);
    drop(first);
    let second = Runtime::new(config.clone()).unwrap();
    assert!(install(&second, "us-sales-tax").loaded_from_cache, "a restart loads the compiled artifact");
    drop(second);
    // A damaged artifact is discarded and the component compiled again.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let third = Runtime::new(config).unwrap();
    let p = install(&third, "us-sales-tax");
    assert!(!p.loaded_from_cache);
    let out =
        third.tax(Call::new(&p, r#"{"nexus":["CA"],"states":{"CA":{"rate":"0.0725"}}}"#), &tax_input(2));
    assert!(out.is_ok(), "{:?}", out.err());
}

#[test]
fn limits_can_be_changed_without_reinstalling() {
    let rt = runtime();
    let p = rt.install_with(&component("hostile-tax"), &LimitOverrides::default()).unwrap();
    let overrides = LimitOverrides { fuel_per_200_lines: Some(1_000_000), ..Default::default() };
    rt.set_limits(&p.id, &overrides).unwrap();
    let e = rt.tax(Call::new(&p, r#"{"mode":"loop"}"#), &tax_input(1)).unwrap_err();
    assert_eq!(e.kind.to_string(), "ran out of fuel (limit 1000000 instructions)");
    let bad = LimitOverrides { deadline_ms: Some(0), ..Default::default() };
    assert!(rt.set_limits(&p.id, &bad).is_err());
}

#[test]
fn calling_a_plugin_through_the_wrong_extension_point_fails_cleanly() {
    let rt = runtime();
    let p = install(&rt, "flat-rate");
    let e = rt.tax(Call::new(&p, "{}"), &tax_input(1)).unwrap_err();
    assert_eq!(e.kind.code(), "host_error");
}
