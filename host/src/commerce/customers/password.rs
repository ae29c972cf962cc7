//! Customer passwords: the newtype that never prints, the registration
//! rule, and argon2 hashing and verification.
//!
//! Argon2 takes tens of milliseconds of CPU and ~19 MiB per hash by design:
//! it runs on the blocking pool, at most one per core at a time, so a burst
//! of logins queues instead of exhausting memory.

use std::fmt;
use std::sync::{Arc, LazyLock};

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use serde::Deserialize;
use tokio::sync::Semaphore;

use crate::commerce::ids::new_secret;
use crate::commerce::{Error, Result};

/// Shortest password accepted at registration, in characters.
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest password accepted at registration, in characters.
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A password as received: never printed, never serialized.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Password(pub(super) String);

impl Password {
    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Password {
    fn from(s: &str) -> Password {
        Password(s.to_owned())
    }
}

pub(super) fn password_rule(p: &Password) -> Result<(), String> {
    let n = p.0.chars().count();
    if n == 0 {
        Err("is required".into())
    } else if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
        Err(format!("must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"))
    } else {
        Ok(())
    }
}

static HASHING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    Arc::new(Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)))
});

/// A hash of a random password with the same parameters as real ones, to
/// verify against when the email is unknown.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    argon2_hash(&Password(new_secret("dummy"))).expect("argon2 hashes with default parameters")
});

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let permit = HASHING.clone().acquire_owned().await.context("password hashing is shut down")?;
    let out = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await
    .context("password hashing task failed")?;
    Ok(out)
}

fn argon2_hash(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

pub(super) async fn hash_password(password: Password) -> Result<String> {
    blocking(move || argon2_hash(&password))
        .await?
        .map_err(|e| Error::Internal(anyhow::anyhow!("failed to hash a password: {e}")))
}

/// Whether `password` matches `hash`; against the dummy hash (always
/// false) when there is none, so both cases cost one verification.
pub(super) async fn verify_password(hash: Option<String>, password: Password) -> Result<bool> {
    blocking(move || {
        let real = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = match PasswordHash::new(&hash) {
            Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
            Err(e) => {
                tracing::error!(error = %e, "a stored password hash does not parse");
                false
            }
        };
        real && ok
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_never_matches() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(hash.clone()), "correct horse".into()).await.unwrap());
        assert!(!verify_password(Some(hash), "wrong horse!".into()).await.unwrap());
        assert!(!verify_password(None, "correct horse".into()).await.unwrap());
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(password_rule(&"1234567".into()).is_err());
        assert!(password_rule(&"12345678".into()).is_ok());
        assert!(password_rule(&"é".repeat(128).as_str().into()).is_ok());
        assert!(password_rule(&"x".repeat(129).as_str().into()).is_err());
    }
}
