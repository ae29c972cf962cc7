//! Merchant secrets at rest (a payment provider's API key, its webhook
//! signing secret): sealed with XChaCha20-Poly1305 under the deployment's
//! secret key (`MERCATO_SECRET_KEY`), each bound to its merchant and field,
//! so a sealed value copied to another row or another merchant does not open.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::model::secret::Secret;

/// The format tag of a sealed value, so the scheme can change later.
const VERSION: &str = "v1";

/// Seals and opens secrets with one key, and signs what the host hands
/// out to verify it later (links in e-mails).
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// Derived from the key, for signatures only.
    signing: [u8; 32],
}

impl SecretBox {
    /// A box with this 32-byte key.
    pub fn new(key: &[u8; 32]) -> SecretBox {
        use sha2::Digest;
        let signing =
            sha2::Sha256::new().chain_update(b"mercato signing key\0").chain_update(key).finalize().into();
        SecretBox { cipher: XChaCha20Poly1305::new(key.into()), signing }
    }

    fn mac(&self, message: &str) -> hmac::Hmac<sha2::Sha256> {
        use hmac::Mac;
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.signing).expect("HMAC takes any key");
        mac.update(message.as_bytes());
        mac
    }

    /// A signature of `message` (HMAC-SHA256, base64url), that only hosts
    /// with this key make.
    pub fn sign(&self, message: &str) -> String {
        use hmac::Mac;
        URL_SAFE_NO_PAD.encode(self.mac(message).finalize().into_bytes())
    }

    /// Whether `signature` is this key's of `message` (compared in constant time).
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        use hmac::Mac;
        URL_SAFE_NO_PAD.decode(signature).is_ok_and(|sig| self.mac(message).verify_slice(&sig).is_ok())
    }

    /// A box with a key of its own, for a host that never stores secrets
    /// others must read (tests, tools).
    pub fn ephemeral() -> SecretBox {
        SecretBox::new(&rand::random())
    }

    /// `v1.<base64url(nonce ‖ ciphertext)>` of `plain`, bound to `context`
    /// (e.g. `mer_…/stripe/secret_key`).
    pub fn seal(&self, plain: &str, context: &str) -> String {
        let nonce: [u8; 24] = rand::random();
        let payload = Payload { msg: plain.as_bytes(), aad: context.as_bytes() };
        let sealed =
            self.cipher.encrypt(XNonce::from_slice(&nonce), payload).expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// The secret sealed for `context`; an error when it was sealed under
    /// another key or context, or changed since.
    pub fn open(&self, sealed: &str, context: &str) -> anyhow::Result<Secret> {
        let body = sealed
            .strip_prefix(VERSION)
            .and_then(|s| s.strip_prefix('.'))
            .ok_or_else(|| anyhow::anyhow!("not a sealed secret of this version"))?;
        let bytes = URL_SAFE_NO_PAD.decode(body)?;
        anyhow::ensure!(bytes.len() > 24, "a sealed secret too short to hold anything");
        let (nonce, ciphertext) = bytes.split_at(24);
        let payload = Payload { msg: ciphertext, aad: context.as_bytes() };
        let plain = self.cipher.decrypt(XNonce::from_slice(nonce), payload).map_err(|_| {
            anyhow::anyhow!(
                "a stored secret does not open with this host's secret key (was MERCATO_SECRET_KEY changed?)"
            )
        })?;
        Ok(Secret::new(String::from_utf8(plain)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_for_their_message_and_key() {
        let b = SecretBox::new(&[7; 32]);
        let sig = b.sign("cart:1");
        assert!(b.verify("cart:1", &sig));
        assert!(!b.verify("cart:2", &sig));
        assert!(!SecretBox::new(&[8; 32]).verify("cart:1", &sig));
        assert!(!b.verify("cart:1", "not base64!"));
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let b = SecretBox::new(&[7; 32]);
        let sealed = b.seal("sk_test_abc", "mer_1/stripe/secret_key");
        assert!(!sealed.contains("sk_test_abc"));
        assert_ne!(sealed, b.seal("sk_test_abc", "mer_1/stripe/secret_key"), "a fresh nonce each time");
        assert_eq!(b.open(&sealed, "mer_1/stripe/secret_key").unwrap().expose(), "sk_test_abc");
        assert!(b.open(&sealed, "mer_2/stripe/secret_key").is_err(), "another merchant's row");
        assert!(b.open(&sealed, "mer_1/stripe/webhook_secret").is_err(), "another field");
        assert!(SecretBox::new(&[8; 32]).open(&sealed, "mer_1/stripe/secret_key").is_err(), "another key");
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(b.open(&tampered, "mer_1/stripe/secret_key").is_err());
        assert!(b.open("v0.xyz", "mer_1/stripe/secret_key").is_err());
    }
}
