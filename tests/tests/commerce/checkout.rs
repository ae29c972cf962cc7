//! Checkout: the whole purchase, stock, idempotency, discount limits and
//! failing plugins.

use mercato_tests::on_both_databases;
use mercato_tests::shop::*;
use serde_json::json;

on_both_databases!(a_us_purchase_is_priced_taxed_paid_and_decrements_stock, |app| async move {
    let shop = open_shop(&app, "acme", "USD", "US", &us_plugins()).await;
    let tee = product(&app, &shop, "TEE", 1999, 10).await;
    let cart = ready_cart(&app, &shop, &[(&tee, 2)], address("US", "CA")).await;
    assert_totals_re_add(&cart);
    assert_eq!(cart["subtotal"]["amount"], 3998);
    assert_eq!(cart["shipping_total"]["amount"], 499);
    // 7.25 % of 39.98 = 2.89855 -> 290 (half-even at the line).
    assert_eq!(cart["tax_total"]["amount"], 290, "{cart:#}");
    assert_eq!(cart["total"]["amount"], 3998 + 499 + 290);
    let id = cart["id"].as_str().unwrap();
    let order = complete(&app, &shop, id, "k1", visa()).await.expect(201);
    assert_eq!(order["status"], "paid");
    assert_eq!(order["total"]["amount"], 3998 + 499 + 290);
    assert_totals_re_add(&order);
    assert_eq!(available(&app, &shop, &tee).await, 8);
    let again = complete(&app, &shop, id, "k1", visa()).await.expect(201);
    assert_eq!(again["id"], order["id"], "the same key replays the same order");
    let _ = json!({});
});
