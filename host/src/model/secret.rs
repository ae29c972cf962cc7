//! A value that must never reach a log.

use std::fmt;

/// A secret (a key, a password): `Debug` never prints it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret so it is never printed by `Debug`.
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
