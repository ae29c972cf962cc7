//! Storefront customers: accounts with argon2 password hashes, login
//! sessions as opaque bearer tokens stored hashed (like API keys), and
//! wishlists. Every customer belongs to one merchant: the same email at two
//! merchants is two customers.

pub use crate::model::customers::{Customer, SessionRef, WishlistItem};

mod password;

use std::fmt;

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

pub use self::password::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, Password};
use self::password::{hash_password, password_rule, verify_password};
use super::ids::{hash_secret, new_id, new_secret};
use super::{Check, Error, Page, Paged, Result, parse};
use crate::db::{self, Db};

/// How long a login session lasts.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Longest first or last name, in characters.
const NAME_MAX_CHARS: usize = 100;

/// A registration, raw. Fields default to empty so that a missing one is
/// reported by name with the others.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// The login: unique per merchant, stored lowercased.
    #[serde(default)]
    #[schema(required = true)]
    pub email: String,
    /// 8 to 128 characters.
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true)]
    pub password: Password,
    /// Given name, 1 to 100 characters.
    #[serde(default)]
    #[schema(required = true)]
    pub first_name: String,
    /// Family name, 1 to 100 characters.
    #[serde(default)]
    #[schema(required = true)]
    pub last_name: String,
}

/// A login attempt, raw.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The email address the customer registered with, any case.
    #[serde(default)]
    #[schema(required = true)]
    pub email: String,
    /// The customer's password.
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true)]
    pub password: Password,
}

/// A new login session; the token is shown once.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct Session {
    /// Send as `X-Customer-Token` on store requests.
    pub token: String,
    /// Unix milliseconds.
    #[serde(serialize_with = "crate::model::time::serialize")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: i64,
    /// Who is signed in.
    pub customer: Customer,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .field("customer", &self.customer)
            .finish()
    }
}

/// Registers a customer at a merchant.
pub async fn register(db: &Db, merchant_id: &str, req: NewCustomer) -> Result<Customer> {
    let mut check = Check::default();
    let email = check.field("email", required(&req.email).and_then(|()| parse::email(&req.email)));
    check.field("password", password_rule(&req.password));
    let first_name = check.field("first_name", name(&req.first_name));
    let last_name = check.field("last_name", name(&req.last_name));
    let ((email, first_name), last_name) = check.finish_with(email.zip(first_name).zip(last_name))?;
    let hash = hash_password(req.password).await?;
    let now = db::now_ms();
    let customer = Customer { id: new_id("cus"), email, first_name, last_name, created_at: now };
    db::customers::insert(db, merchant_id, &customer, &hash).await.map_err(
        |e| match db::unique_violation(&e) {
            Some(c) if c.contains("email") => Error::Conflict {
                code: "email_taken",
                message: "a customer with this email is already registered".into(),
            },
            _ => e.into(),
        },
    )?;
    Ok(customer)
}

/// `POST /v1/store/customers/password-reset`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The address the customer registered with.
    #[serde(default)]
    #[schema(required = true)]
    pub email: String,
}

/// `POST /v1/store/customers/password-reset/confirm`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmation {
    /// The token from the e-mail.
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true)]
    pub token: Password,
    /// The new password, 8 to 128 characters.
    #[serde(default)]
    #[schema(value_type = String, format = Password, required = true)]
    pub password: Password,
}

/// How long a password-reset token works.
pub const RESET_TTL_MS: i64 = 60 * 60 * 1000;

/// Sends a password-reset e-mail to the customer with this address, if
/// there is one (the answer is the same either way: nobody learns who is
/// registered). The token works once, for an hour.
pub async fn request_password_reset(shop: &super::Shop, merchant_id: &str, req: ResetRequest) -> Result<()> {
    let email = parse::email(&req.email).map_err(|e| Error::field("email", e))?;
    let Some((customer, _)) = db::customers::find_by_email(&shop.db, merchant_id, &email).await? else {
        return Ok(());
    };
    let token = new_secret("prt");
    let now = db::now_ms();
    let payload = serde_json::json!({"customer_id": customer.id, "email": customer.email,
        "first_name": customer.first_name, "last_name": customer.last_name, "expires_at": now + RESET_TTL_MS});
    let sealed = super::emails::seal_token(shop, merchant_id, &token);
    db::customers::request_reset(
        &shop.db,
        merchant_id,
        &payload,
        (&hash_secret(&token), &sealed),
        (now, now + RESET_TTL_MS),
    )
    .await?;
    Ok(())
}

/// Sets a new password with a reset token (once, within its hour), ending
/// every session of the customer.
pub async fn reset_password(db: &Db, merchant_id: &str, req: ResetConfirmation) -> Result<()> {
    let mut check = Check::default();
    check.field("token", required(&req.token.0));
    check.field("password", password_rule(&req.password));
    check.finish()?;
    let hash = hash_password(req.password).await?;
    match db::customers::use_reset(db, merchant_id, &hash_secret(req.token.0.trim()), &hash, db::now_ms())
        .await?
    {
        Some(_) => Ok(()),
        None => Err(Error::field("token", "is unknown, used or expired")),
    }
}

fn required(s: &str) -> Result<(), String> {
    if s.trim().is_empty() { Err("is required".into()) } else { Ok(()) }
}

fn name(s: &str) -> Result<String, String> {
    required(s)?;
    parse::text(s, NAME_MAX_CHARS)
}

/// Checks credentials and opens a session; `None` when the email is unknown
/// or the password wrong, which take about the same time on purpose.
pub async fn login(db: &Db, merchant_id: &str, req: Credentials) -> Result<Option<Session>> {
    // A malformed email cannot belong to anyone: the same answer as unknown.
    let found = match parse::email(&req.email) {
        Ok(email) => db::customers::find_by_email(db, merchant_id, &email).await?,
        Err(_) => None,
    };
    let (customer, hash) = match found {
        Some((c, h)) => (Some(c), Some(h)),
        None => (None, None),
    };
    let matches = verify_password(hash, req.password).await?;
    let Some(customer) = customer.filter(|_| matches) else { return Ok(None) };
    let token = new_secret("ct");
    let now = db::now_ms();
    let expires_at = now + SESSION_TTL_MS;
    db::customers::insert_session(
        db,
        merchant_id,
        &customer.id,
        &new_id("ctok"),
        &hash_secret(&token),
        expires_at,
        now,
    )
    .await?;
    Ok(Some(Session { token, expires_at, customer }))
}

/// The live session of `token` at this merchant, if any: unknown, expired,
/// revoked and other merchants' tokens are all `None`.
pub async fn authenticate(db: &Db, merchant_id: &str, token: &str) -> Result<Option<SessionRef>> {
    if !token.starts_with("ct_") {
        return Ok(None);
    }
    Ok(db::customers::find_session(db, merchant_id, &hash_secret(token), db::now_ms()).await?)
}

/// Ends a session.
pub async fn logout(db: &Db, merchant_id: &str, session_id: &str) -> Result<()> {
    db::customers::revoke_session(db, merchant_id, session_id, db::now_ms()).await?;
    Ok(())
}

/// One customer of this merchant.
pub async fn get(db: &Db, merchant_id: &str, id: &str) -> Result<Customer> {
    db::customers::get(db, merchant_id, id).await?.ok_or(Error::NotFound("customer"))
}

/// This merchant's customers, oldest first, optionally those whose email
/// starts with `email_prefix` (compared lowercased).
pub async fn list(
    db: &Db,
    merchant_id: &str,
    email_prefix: Option<&str>,
    page: &Page,
) -> Result<Paged<Customer>> {
    let prefix = email_prefix.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
    if prefix.as_ref().is_some_and(|q| q.chars().count() > 254) {
        return Err(Error::field("q", "must be at most 254 characters"));
    }
    let rows = db::customers::list(db, merchant_id, prefix.as_deref(), page.after.as_deref(), page.limit + 1)
        .await?;
    Ok(Paged::from_rows(rows, page.limit, |c| &c.id))
}

/// A customer's wishlist, most recently added first. Products that are no
/// longer active are left out (and come back if reactivated).
pub async fn wishlist(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    page: &Page,
) -> Result<Paged<WishlistItem>> {
    let after = page.after.as_deref().map(decode_wishlist_cursor).transpose()?;
    let after = after.as_ref().map(|(at, id)| (*at, id.as_str()));
    let mut rows = db::customers::list_wishlist(db, merchant_id, customer_id, after, page.limit + 1).await?;
    let more = rows.len() > page.limit as usize;
    rows.truncate(page.limit as usize);
    let next_cursor = if more {
        rows.last().map(|i| URL_SAFE_NO_PAD.encode(format!("{}:{}", i.added_at, i.product_id)))
    } else {
        None
    };
    let has_more = next_cursor.is_some();
    Ok(Paged { data: rows, next_cursor, has_more })
}

fn decode_wishlist_cursor(cursor: &str) -> Result<(i64, String)> {
    cursor
        .split_once(':')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())))
        .ok_or_else(|| Error::field("cursor", "is not a cursor from this API"))
}

/// Adds an active product of this merchant to the wishlist; `true` when it
/// was not there yet. Adding twice keeps the first `added_at`.
pub async fn add_to_wishlist(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    product_id: &str,
) -> Result<(WishlistItem, bool)> {
    if !db::customers::product_is_active(db, merchant_id, product_id).await? {
        return Err(Error::NotFound("product"));
    }
    let now = db::now_ms();
    let created = db::customers::insert_wishlist_item(db, merchant_id, customer_id, product_id, now).await?;
    let added_at = if created {
        now
    } else {
        db::customers::wishlist_item_added_at(db, merchant_id, customer_id, product_id)
            .await?
            .context("wishlist item vanished while being added")?
    };
    Ok((WishlistItem { product_id: product_id.to_owned(), added_at }, created))
}

/// Removes a product from the wishlist.
pub async fn remove_from_wishlist(
    db: &Db,
    merchant_id: &str,
    customer_id: &str,
    product_id: &str,
) -> Result<()> {
    if db::customers::delete_wishlist_item(db, merchant_id, customer_id, product_id).await? {
        Ok(())
    } else {
        Err(Error::NotFound("wishlist item"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_print() {
        let req = NewCustomer {
            email: "ada@example.com".into(),
            password: "hunter2-secret".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***"));
    }
}
