//! Payment providers: a merchant's connection to one the host speaks
//! natively, and a payment as any provider is asked to take it.

use mercato_sdk::Money;

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
    /// `automatic`, `manual` or `on_fulfillment`.
    pub capture: String,
    /// When it was first connected, in unix milliseconds.
    pub created_at: i64,
    /// When it last changed, in unix milliseconds.
    pub updated_at: i64,
}

/// One payment attempt as the provider is asked to make it.
pub struct Charge<'a> {
    /// The order's total, in its currency.
    pub amount: Money,
    /// The order's id: the reference the provider keeps (an order is
    /// numbered only once its payment confirms it).
    pub order_reference: &'a str,
    /// The cart the order was placed from.
    pub cart_id: &'a str,
    /// The payment method token the buyer sent, if any.
    pub token: Option<String>,
    /// The idempotency key: the same attempt never charges twice.
    pub attempt_id: &'a str,
    /// The buyer's email address, for the provider's receipt.
    pub email: &'a str,
}
