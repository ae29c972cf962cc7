//! The stock rules against a real database: stock reserved for orders
//! cannot be adjusted away, and stock can always be added.

use mercato::commerce::inventory::{self, NewAdjustment, NewLocation, SetOnHand};
use mercato::commerce::merchants::{self, NewMerchant};
use mercato::commerce::{Error, Result};
use mercato::db::Db;

/// A merchant with one variant and one location, the variant inserted
/// directly: the catalog is not this module's concern.
async fn fixture(db: &Db) -> (String, String, String) {
    let req = NewMerchant {
        name: "Acme".into(),
        slug: "acme".into(),
        default_currency: "USD".into(),
        country: "US".into(),
        prices_include_tax: false,
        time_zone: None,
    };
    let (m, _) = merchants::create(db, req).await.unwrap();
    for sql in [
        "insert into product (product_id, merchant_id, title, handle, status, created_at, updated_at) \
         values ('prod_1', $1, 'Tee', 'tee', 'active', 0, 0)",
        "insert into variant (variant_id, merchant_id, product_id, position, sku, title, price_amount, \
         currency, created_at, updated_at) values ('var_1', $1, 'prod_1', 0, 'TEE', 'Tee', 1000, 'USD', 0, 0)",
    ] {
        sqlx::query(sql).bind(&m.id).execute(db.pool()).await.unwrap();
    }
    let loc = NewLocation { name: Some("Main".into()), country: None };
    let loc = inventory::create_location(db, &m.id, loc).await.unwrap();
    (m.id, "var_1".into(), loc.id)
}

async fn reserve(db: &Db, reserved: i64) {
    sqlx::query("update inventory_level set reserved = $1").bind(reserved).execute(db.pool()).await.unwrap();
}

fn refused<T: std::fmt::Debug>(r: Result<T>) {
    assert!(matches!(r, Err(Error::Conflict { code: "insufficient_stock", .. })), "{r:?}");
}

#[tokio::test]
async fn reserved_stock_cannot_be_removed_but_stock_can_always_be_added() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    db.migrate().await.unwrap();
    let (m, v, l) = fixture(&db).await;
    let set = |n: i64| SetOnHand { location_id: Some(l.clone()), on_hand: Some(n), reason: None };
    let adj =
        |d: i64| NewAdjustment { location_id: Some(l.clone()), delta: Some(d), reason: Some("test".into()) };

    inventory::set_on_hand(&db, &m, &v, set(10)).await.unwrap();
    reserve(&db, 4).await;
    refused(inventory::adjust(&db, &m, &v, adj(-7)).await);
    let (a, level) = inventory::adjust(&db, &m, &v, adj(-6)).await.unwrap();
    assert_eq!((a.delta, a.on_hand_after, level.available), (-6, 4, 0));
    refused(inventory::set_on_hand(&db, &m, &v, set(3)).await);
    assert_eq!(inventory::set_on_hand(&db, &m, &v, set(4)).await.unwrap().on_hand, 4);

    // More reserved than on hand (reservations made under another
    // policy): restocking is still allowed, removing is not.
    reserve(&db, 10).await;
    assert_eq!(inventory::adjust(&db, &m, &v, adj(1)).await.unwrap().1.on_hand, 5);
    refused(inventory::adjust(&db, &m, &v, adj(-1)).await);
    refused(inventory::set_on_hand(&db, &m, &v, set(2)).await);
    assert_eq!(inventory::set_on_hand(&db, &m, &v, set(6)).await.unwrap().available, -4);

    let stock = inventory::stock(&db, &m, Some(&v)).await.unwrap();
    assert_eq!((stock.on_hand, stock.reserved, stock.available), (6, 10, -4));
    let page = mercato::commerce::Page { after: None, limit: 100 };
    let history = inventory::history(&db, &m, &v, None, &page).await.unwrap().data;
    let deltas: Vec<_> = history.iter().map(|a| (a.delta, a.on_hand_after)).collect();
    assert_eq!(deltas, [(1, 6), (1, 5), (0, 4), (-6, 4), (10, 10)], "refusals leave no trace");
}
