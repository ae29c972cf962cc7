//! A merchant's connection to a payment provider the host speaks natively.

/// A connection as stored: secrets sealed, their last four characters in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConnection {
    /// The merchant (`mer_…`).
    pub merchant_id: String,
    /// `stripe`.
    pub provider: String,
    /// The provider's public key, for the storefront (`pk_…`).
    pub publishable_key: String,
    /// The API secret key, sealed.
    pub secret_key_sealed: String,
    /// Its last four characters, to show.
    pub secret_key_last4: String,
    /// The webhook signing secret, sealed.
    pub webhook_secret_sealed: String,
    /// Its last four characters, to show.
    pub webhook_secret_last4: String,
    /// `automatic` or `manual`.
    pub capture: String,
    /// When it was first connected, in unix milliseconds.
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    pub updated_at: i64,
}
