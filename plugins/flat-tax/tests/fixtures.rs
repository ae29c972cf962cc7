use flat_tax::FlatTax;

#[test]
fn fixtures() {
    mercato_sdk::testing::check_fixtures(env!("CARGO_MANIFEST_DIR"), mercato_sdk::testing::tax::<FlatTax>);
}
