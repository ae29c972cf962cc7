//! Who is calling. `Authorization: Bearer <key>`: the operator key for the
//! platform API, a merchant's `sk_…` for the admin API, its `pk_…` for the
//! storefront. A missing or unknown key is 401; a key of another audience 403.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::AppState;
use super::error::ApiError;
use crate::commerce::merchants::{self, KeyKind};

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The platform operator.
    Operator,
    /// A merchant's back office or storefront.
    Merchant {
        /// The merchant whose key it is.
        merchant_id: String,
        /// Secret (back office) or publishable (storefront).
        kind: KeyKind,
    },
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The hash of the operator key, compared in constant time.
pub fn operator_key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

fn is_operator(state: &AppState, token: &str) -> bool {
    crate::commerce::ids::same_hash(&operator_key_hash(token), state.operator_key_hash.as_slice())
}

async fn principal(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let token =
        bearer(&parts.headers).ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <key>"))?;
    if is_operator(state, token) {
        return Ok(Principal::Operator);
    }
    match merchants::authenticate(&state.shop.db, token).await? {
        Some((merchant_id, kind)) => Ok(Principal::Merchant { merchant_id, kind }),
        None => Err(ApiError::unauthorized("unknown or revoked API key")),
    }
}

/// The platform operator.
pub struct Platform;

impl FromRequestParts<AppState> for Platform {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Operator => Ok(Platform),
            _ => Err(ApiError::forbidden("the platform API takes the operator key")),
        }
    }
}

/// A merchant's back office (secret key).
pub struct Admin {
    /// The merchant whose secret key was sent.
    pub merchant_id: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Merchant { merchant_id, kind: KeyKind::Secret } => Ok(Admin { merchant_id }),
            _ => Err(ApiError::forbidden("the admin API takes a merchant secret key (sk_…)")),
        }
    }
}

/// A merchant's storefront (publishable key).
pub struct Storefront {
    /// The merchant whose publishable key was sent.
    pub merchant_id: String,
}

impl FromRequestParts<AppState> for Storefront {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match principal(parts, state).await? {
            Principal::Merchant { merchant_id, kind: KeyKind::Publishable } => Ok(Storefront { merchant_id }),
            _ => Err(ApiError::forbidden("the store API takes a merchant publishable key (pk_…)")),
        }
    }
}
