//! The commerce core: merchants, catalog, inventory, customers, discount
//! codes, plugin bindings, carts, checkout and orders. Plain Rust: no HTTP types here, no SQL (that
//! is `db`), business rules only.

pub mod cache;
pub mod callbacks;
pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod customers;
pub mod discounts;
pub mod emails;
pub mod error;
pub mod events;
pub mod idempotency;
pub use crate::model::ids;
pub mod inventory;
pub mod jobs;
pub mod merchants;
pub mod notices;
pub mod orders;
pub mod parse;
pub mod payments;
pub mod plugins;
pub mod recommendations;
pub mod reports;
pub mod secrets;
pub mod stripe;
pub mod webhooks;
pub use crate::model::time;

pub use error::{Check, Error, FieldErrors, Result};

use std::sync::Arc;

use crate::db::Db;
use crate::runtime::Runtime;

/// What commerce operations that run plugins need: the database, the
/// runtime, the merchants' bindings and the memo of plugin answers. Cheap
/// to clone (handles only).
#[derive(Clone)]
pub struct Shop {
    /// The database.
    pub db: Db,
    /// Runs the plugins.
    pub runtime: Arc<Runtime>,
    /// Each merchant's plugin bindings, cached.
    pub bindings: plugins::Bindings,
    /// Plugin answers remembered for carts priced again unchanged.
    pub memo: Arc<cart::Memo>,
    /// Candidates run beside live bindings on samples of their calls.
    pub shadows: plugins::ShadowRuns,
    /// Seals and opens merchants' provider secrets.
    pub secrets: Arc<secrets::SecretBox>,
    /// Where Stripe is reached, and its clients.
    pub stripe: Arc<stripe::Api>,
    /// Checkouts completed on this host, by outcome.
    pub checkouts: Arc<checkout::Outcomes>,
    /// How many checkouts price, place and record at once on this host.
    pub placing: Arc<checkout::Placing>,
    /// How webhooks are delivered, and what came of them on this host.
    pub webhooks: webhooks::Shared,
    /// How e-mail is sent, and what came of it on this host.
    pub mailer: Arc<emails::Mailer>,
}

impl Shop {
    /// A shop over `db` and `runtime`, with empty caches and a secret key
    /// of its own (see [`Shop::with_secret_key`]).
    pub fn new(db: Db, runtime: Arc<Runtime>) -> Shop {
        let secrets = Arc::new(secrets::SecretBox::ephemeral());
        let placing = Arc::new(checkout::Placing::default_for(db.backend()));
        Shop {
            shadows: plugins::ShadowRuns::new(db.clone(), runtime.clone()),
            db,
            runtime,
            bindings: Default::default(),
            memo: Default::default(),
            secrets,
            stripe: Default::default(),
            checkouts: Default::default(),
            placing,
            webhooks: Default::default(),
            mailer: Default::default(),
        }
    }

    /// E-mail sent with `mailer`.
    pub fn with_mailer(self, mailer: emails::Mailer) -> Shop {
        Shop { mailer: Arc::new(mailer), ..self }
    }

    /// At most `slots` checkouts in each limited step at once (see
    /// [`checkout::Placing`]; [`checkout::Placing::default_for`] unless told).
    pub fn with_checkouts_at_once(self, slots: usize) -> Shop {
        Shop { placing: Arc::new(checkout::Placing::new(slots)), ..self }
    }

    /// Webhooks delivered with these settings.
    pub fn with_webhooks(self, settings: webhooks::Settings) -> Shop {
        Shop { webhooks: Arc::new(webhooks::Webhooks::new(settings)), ..self }
    }

    /// The deployment's secret key, which every host over this database
    /// must share: merchants' secrets stored by one host open on another.
    pub fn with_secret_key(self, key: &[u8; 32]) -> Shop {
        Shop { secrets: Arc::new(secrets::SecretBox::new(key)), ..self }
    }

    /// Stripe reached at `base` instead of its API (a test double, a proxy).
    pub fn with_stripe_api(self, base: &str) -> Shop {
        self.with_stripe(base, stripe::DEFAULT_JS_URL)
    }

    /// Stripe's API at `base`, and Stripe.js for storefronts at `js_url`.
    pub fn with_stripe(self, base: &str, js_url: &str) -> Shop {
        Shop { stripe: Arc::new(stripe::Api::new(base).with_js_url(js_url)), ..self }
    }
}

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

/// A page request: an opaque cursor from the previous page and a size.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Id to continue after (decoded from the opaque cursor).
    pub after: Option<String>,
    /// 1 to 100.
    pub limit: u32,
}

/// Most items on one page.
pub const MAX_PAGE: u32 = 100;
/// Items on a page when the client does not say.
pub const DEFAULT_PAGE: u32 = 20;

impl Page {
    /// Parses `cursor` and `limit` query parameters.
    pub fn parse(cursor: Option<&str>, limit: Option<u32>) -> Result<Page> {
        let mut check = Check::default();
        let limit = check.field(
            "limit",
            match limit {
                None => Ok(DEFAULT_PAGE),
                Some(l) if (1..=MAX_PAGE).contains(&l) => Ok(l),
                Some(_) => Err(format!("must be between 1 and {MAX_PAGE}")),
            },
        );
        let after = match cursor {
            None | Some("") => None,
            Some(c) => check.field(
                "cursor",
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| "is not a cursor from this API".to_owned()),
            ),
        };
        check.finish()?;
        Ok(Page { after, limit: limit.unwrap_or(DEFAULT_PAGE) })
    }
}

/// One page of results.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    /// The items.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Whether there is a next page.
    pub has_more: bool,
}

impl<T> Paged<T> {
    /// Builds a page from up to `limit + 1` rows fetched in id order: the
    /// extra row only tells that there is a next page.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, id: impl Fn(&T) -> &str) -> Paged<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|r| URL_SAFE_NO_PAD.encode(id(r))) } else { None };
        let has_more = next_cursor.is_some();
        Paged { data: rows, next_cursor, has_more }
    }
}
