//! Abandoned carts: an open cart with an e-mail and lines, idle past its
//! shop's delay (default 4 hours), is found abandoned once — it writes
//! `cart.abandoned` and gets one recovery e-mail with a signed link that
//! restores it (`GET /v1/store/carts/recover?token=`). One that becomes an
//! order afterwards counts as recovered.
//!
//! The token is `<cart id>.<expiry>.<signature>`: signed with the host's
//! secret key over the shop, the cart and the expiry, so it cannot be made
//! for another cart or another shop, nor made to last longer.

use super::Cart;
use crate::commerce::{Error, Result, Shop};
use crate::db::{self, now_ms};

/// How long a recovery link works.
pub const LINK_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// Carts looked at per run.
const BATCH: u32 = 100;

fn signed(merchant_id: &str, cart_id: &str, expires: i64) -> String {
    format!("cart-recovery:{merchant_id}:{cart_id}:{expires}")
}

/// The recovery link's token for a cart, valid until `expires`.
pub fn token(shop: &Shop, merchant_id: &str, cart_id: &str, expires: i64) -> String {
    format!("{cart_id}.{expires}.{}", shop.secrets.sign(&signed(merchant_id, cart_id, expires)))
}

/// Finds idle carts abandoned, each once; how many were.
pub async fn find_abandoned(shop: &Shop, now: i64) -> Result<usize> {
    let mut found = 0;
    for (merchant_id, cart_id, seen) in db::carts::idle(&shop.db, now, BATCH).await? {
        let token = token(shop, &merchant_id, &cart_id, now + LINK_TTL_MS);
        let sealed = crate::commerce::emails::seal_token(shop, &merchant_id, &token);
        if db::carts::mark_abandoned(&shop.db, (&merchant_id, &cart_id, seen), &sealed, now).await? {
            found += 1;
        }
    }
    Ok(found)
}

/// The cart a recovery link names, priced, if the link is this shop's,
/// unexpired and the cart still open.
pub async fn recover(shop: &Shop, merchant_id: &str, token: &str) -> Result<Cart> {
    let invalid =
        || Error::field("token", "is not a valid recovery link (altered, expired or another shop's)");
    let mut parts = token.trim().splitn(3, '.');
    let (Some(cart_id), Some(expires), Some(signature)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let expires: i64 = expires.parse().map_err(|_| invalid())?;
    if !shop.secrets.verify(&signed(merchant_id, cart_id, expires), signature) || expires <= now_ms() {
        return Err(invalid());
    }
    match db::carts::get(&shop.db, merchant_id, cart_id).await? {
        Some(cart) if cart.status == super::CartStatus::Open => super::get(shop, merchant_id, cart_id).await,
        Some(_) => Err(Error::Conflict {
            code: "cart_not_open",
            message: "this cart became an order already".into(),
        }),
        None => Err(Error::NotFound("cart")),
    }
}
