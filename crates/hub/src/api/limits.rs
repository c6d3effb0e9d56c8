//! Counted admissions held in memory per hub process ([`Gauge`]): how many streams a
//! session holds, how many sockets a visitor or a client address holds. A gauge keeps only
//! keys with something open. Rates per key are [`crate::throttle::RateLimiter`]'s.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Open things per key, each key up to a ceiling.
#[derive(Debug)]
pub struct Gauge<K: Eq + Hash + Clone> {
    open: Arc<Mutex<HashMap<K, usize>>>,
    max: usize,
}

impl<K: Eq + Hash + Clone> Clone for Gauge<K> {
    fn clone(&self) -> Self {
        Gauge { open: self.open.clone(), max: self.max }
    }
}

/// One admission, given back when dropped.
#[derive(Debug)]
pub struct Slot<K: Eq + Hash + Clone> {
    open: Arc<Mutex<HashMap<K, usize>>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Gauge<K> {
    pub fn new(max: usize) -> Gauge<K> {
        Gauge { open: Arc::default(), max }
    }

    /// A slot under `key`, or `None` when the key already holds the most it may.
    pub fn admit(&self, key: K) -> Option<Slot<K>> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot { open: self.open.clone(), key })
    }

    /// How many are open under `key`.
    pub fn count(&self, key: &K) -> usize {
        self.open.lock().map(|m| m.get(key).copied().unwrap_or(0)).unwrap_or(0)
    }

    /// How many keys hold something open.
    pub fn keys(&self) -> usize {
        self.open.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl<K: Eq + Hash + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_at_most_its_ceiling_and_slots_come_back() {
        let g: Gauge<&str> = Gauge::new(2);
        let a = g.admit("a").unwrap();
        let b = g.admit("a").unwrap();
        assert!(g.admit("a").is_none());
        let other = g.admit("b").unwrap();
        assert_eq!((g.count(&"a"), g.keys()), (2, 2));
        drop(a);
        let c = g.admit("a").unwrap();
        drop((b, c, other));
        assert_eq!(g.keys(), 0, "keys with nothing open are forgotten");
    }
}
