//! Plugin answers remembered by (plugin version, configuration, input): a
//! plugin call is a pure function of these, so an unchanged cart is priced
//! again without running any plugin. Failures are never remembered.
//!
//! Bounded with two generations: entries live in `young` until it is full,
//! then `young` becomes `old` (the previous `old` is dropped); a hit in
//! `old` moves back to `young`. Hot entries stay, cold ones age out, and
//! memory stays below twice the capacity.

use std::collections::HashMap;
use std::sync::Mutex;

use mercato_sdk::pricing::PricingOutput;
use mercato_sdk::shipping::ShippingOutput;
use mercato_sdk::tax::TaxOutput;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A remembered answer.
#[derive(Clone, Debug)]
pub enum Answer {
    Pricing(PricingOutput),
    Tax(TaxOutput),
    Shipping(ShippingOutput),
}

type Key = [u8; 32];

/// The memo. Share one per host.
pub struct Memo {
    capacity: usize,
    generations: Mutex<(HashMap<Key, Answer>, HashMap<Key, Answer>)>,
}

impl Default for Memo {
    fn default() -> Memo {
        Memo::with_capacity(10_000)
    }
}

impl Memo {
    /// A memo that keeps about `capacity` answers (at most twice that).
    pub fn with_capacity(capacity: usize) -> Memo {
        Memo { capacity: capacity.max(1), generations: Mutex::default() }
    }

    /// The key of a call: what the answer depends on, and nothing else.
    pub fn key(plugin_id: &str, config: &str, input: &impl Serialize) -> Key {
        let mut h = Sha256::new();
        h.update(plugin_id.as_bytes());
        h.update([0]);
        h.update(config.as_bytes());
        h.update([0]);
        // Serializing straight into the hasher: no buffer for big carts.
        let mut writer = HashWriter(&mut h);
        serde_json::to_writer(&mut writer, input).expect("plugin inputs serialize");
        h.finalize().into()
    }

    /// The remembered answer for `key`, if any; a hit in `old` moves back to `young`.
    pub fn get(&self, key: &Key) -> Option<Answer> {
        let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = g.0.get(key) {
            return Some(a.clone());
        }
        let a = g.1.remove(key)?;
        let dropped = Self::insert_young(&mut g, self.capacity, *key, a.clone());
        drop(g);
        drop(dropped);
        Some(a)
    }

    /// Remembers an answer (successful calls only).
    pub fn put(&self, key: Key, answer: Answer) {
        let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        let dropped = Self::insert_young(&mut g, self.capacity, key, answer);
        drop(g);
        drop(dropped);
    }

    /// Inserts into `young`, turning a full `young` into `old`; gives back
    /// the generation that aged out, to be dropped after the lock is let
    /// go (freeing thousands of answers would hold every other pricing up).
    fn insert_young(
        g: &mut (HashMap<Key, Answer>, HashMap<Key, Answer>),
        capacity: usize,
        key: Key,
        answer: Answer,
    ) -> Option<HashMap<Key, Answer>> {
        let aged = (g.0.len() >= capacity).then(|| {
            let young = std::mem::replace(&mut g.0, HashMap::with_capacity(capacity));
            std::mem::replace(&mut g.1, young)
        });
        g.0.insert(key, answer);
        aged
    }

    /// Answers held.
    #[cfg(test)]
    fn len(&self) -> usize {
        let g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        g.0.len() + g.1.len()
    }
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_plugin_config_and_input() {
        let k = Memo::key("plg_1", "{}", &[1, 2]);
        assert_eq!(k, Memo::key("plg_1", "{}", &[1, 2]));
        assert_ne!(k, Memo::key("plg_2", "{}", &[1, 2]));
        assert_ne!(k, Memo::key("plg_1", "{\"a\":1}", &[1, 2]));
        assert_ne!(k, Memo::key("plg_1", "{}", &[1, 3]));
    }

    #[test]
    fn hot_entries_survive_and_memory_stays_bounded() {
        let memo = Memo::with_capacity(4);
        let answer = || Answer::Pricing(PricingOutput::default());
        let hot = Memo::key("p", "", &0);
        memo.put(hot, answer());
        for i in 1..100 {
            memo.put(Memo::key("p", "", &i), answer());
            assert!(memo.get(&hot).is_some(), "the hot entry is kept after {i} inserts");
            assert!(memo.len() <= 8);
        }
        assert!(memo.get(&Memo::key("p", "", &1)).is_none(), "a cold entry ages out");
    }
}
