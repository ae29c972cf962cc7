//! Identifiers and secrets.
//!
//! Ids are a type prefix and 26 Crockford base32 characters: 48 bits of
//! milliseconds then 80 random bits, so they sort by creation time and
//! cursor pagination by id is stable under inserts.

use rand::Rng;
use sha2::{Digest, Sha256};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn base32(mut value: u128, chars: usize) -> String {
    let mut out = vec![b'0'; chars];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    String::from_utf8(out).expect("ascii")
}

/// A new time-ordered id, e.g. `prod_01JD7…`. Within one process ids are
/// strictly increasing: in the same millisecond the random part counts up
/// (as monotonic ULIDs do), so rows made by one request keep their order.
pub fn new_id(prefix: &str) -> String {
    static LAST: std::sync::Mutex<(u128, u128)> = std::sync::Mutex::new((0, 0));
    let ms = super::time::now_ms().max(0) as u128 & ((1 << 48) - 1);
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    let mut r: u128 = 0;
    for b in random {
        r = (r << 8) | u128::from(b);
    }
    let (ms, r) = {
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        // A clock that steps back keeps the last time: order over accuracy.
        let next = if ms <= last.0 { (last.0, (last.1 + 1) & ((1 << 80) - 1)) } else { (ms, r) };
        *last = next;
        next
    };
    format!("{prefix}_{}", base32((ms << 80) | r, 26))
}

/// A new secret with `prefix` and 160 random bits, e.g. `sk_…`.
pub fn new_secret(prefix: &str) -> String {
    let mut random = [0u8; 20];
    rand::rng().fill_bytes(&mut random);
    // 20 bytes do not fit u128: the first 16, then the last 4.
    let r = random[..16].iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    let tail = u128::from(u32::from_be_bytes([random[16], random[17], random[18], random[19]]));
    format!("{prefix}_{}{}", base32(r, 26), base32(tail, 7))
}

/// The stored form of a high-entropy secret (API keys, session tokens).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether two secret hashes are equal, compared in constant time: every
/// byte is compared whatever the first mismatch.
pub fn same_hash(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_are_unique() {
        let a = new_id("prod");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_id("prod");
        assert!(a < b, "{a} < {b}");
        assert_eq!(a.len(), "prod_".len() + 26);
        let burst: Vec<_> = (0..1000).map(|_| new_id("x")).collect();
        assert!(burst.windows(2).all(|w| w[0] < w[1]), "strictly increasing within a millisecond");
        let secrets: std::collections::HashSet<_> = (0..1000).map(|_| new_secret("sk")).collect();
        assert_eq!(secrets.len(), 1000);
        assert!(new_secret("sk").starts_with("sk_"));
    }
}
