//! What other hosts over the same PostgreSQL database say they changed:
//! this host listens for their notices (see [`super::cache`]) and forgets
//! its cached copies of what each names; when the listening connection was
//! lost, it forgets everything it cached.

use super::Shop;
use super::cache::Stale;
use crate::db::changes::Heard;

/// Forgets, on this host, what `stale` names.
fn forget(shop: &Shop, stale: Stale) {
    match stale {
        Stale::Keys(m) => super::merchants::forget_keys(Some(&m)),
        Stale::Origins(m) => super::merchants::forget_origins(Some(&m)),
        Stale::Stripe(m) => shop.stripe.accounts.remove(&m),
        Stale::Bindings(m, point) => shop.bindings.forget(Some((&m, point))),
        // Limits, allowed hosts and the switch live on the loaded plugin,
        // which the cached bindings share: applied there, every binding sees them.
        Stale::Plugin(id) => {
            let shop = shop.clone();
            tokio::spawn(async move {
                if let Err(e) = super::plugins::refresh(&shop.db, &shop.runtime, &id).await {
                    tracing::warn!(plugin = %id, error = %e, "could not reload a plugin another host changed");
                }
            });
        }
    }
}

/// Forgets every cached value on this host (notices may have been missed).
fn forget_all(shop: &Shop) {
    super::merchants::forget_keys(None);
    super::merchants::forget_origins(None);
    shop.stripe.accounts.clear();
    shop.bindings.forget(None);
}

/// Listens for the other hosts' notices and forgets what they name (see
/// the module); `None` on SQLite.
pub fn listen(shop: &Shop) -> Option<tokio::task::JoinHandle<()>> {
    let on = {
        let shop = shop.clone();
        move |heard: Heard<'_>| match heard {
            Heard::Notice(text) => {
                if let Some(stale) = Stale::decode(text) {
                    tracing::debug!(?stale, "another host changed this");
                    forget(&shop, stale);
                }
            }
            Heard::Missed => forget_all(&shop),
        }
    };
    crate::db::changes::listen(&shop.db, on)
}
