//! Limits held in memory per hub process: counted admissions ([`Gauge`]: how many
//! streams a session holds, how many sockets a visitor or a client address holds) and
//! rates per key ([`RateLimiter`], token buckets of [`Rate`]: visitor sessions per
//! client, messages per visitor and per client). Each map is bounded: a gauge keeps only
//! keys with something open, a rate limiter only so many keys.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::Instant;

pub use crate::throttle::{Bucket, Rate};

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

/// Token buckets per key, at most `max_keys` of them.
#[derive(Debug)]
pub struct RateLimiter<K: Eq + Hash> {
    rate: Rate,
    max_keys: usize,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Eq + Hash> RateLimiter<K> {
    pub fn new(rate: Rate, max_keys: usize) -> RateLimiter<K> {
        RateLimiter { rate, max_keys, buckets: Mutex::default() }
    }

    /// Takes one token for `key`; `Err` with whole seconds to wait (at least one) when
    /// none is left. When the map is full, buckets that refilled are forgotten; if every
    /// one is still draining (addresses sprayed by the hundred thousand) the map starts
    /// again, since refusing every new key would refuse everyone.
    pub fn check(&self, key: K) -> Result<(), u64> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= self.max_keys && !buckets.contains_key(&key) {
            buckets.retain(|_, b| !self.rate.refilled(b, now));
            if buckets.len() >= self.max_keys {
                tracing::warn!("a rate limiter is full of draining keys; it starts again");
                buckets.clear();
            }
        }
        match self.rate.take(buckets.get(&key).copied(), now) {
            Ok(b) => {
                buckets.insert(key, b);
                Ok(())
            }
            Err(wait) => Err(wait.as_secs().max(1)),
        }
    }

    /// How many keys it holds.
    pub fn keys(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limiter_keeps_keys_apart_and_stays_bounded() {
        let limiter = RateLimiter::new(Rate { burst: 2.0, per_sec: 0.001 }, 100);
        assert!(limiter.check("a").is_ok() && limiter.check("a").is_ok());
        assert!(limiter.check("a").unwrap_err() >= 1);
        assert!(limiter.check("b").is_ok());
        for i in 0..1_000 {
            let _ = limiter.check(if i % 2 == 0 { "x" } else { "y" });
        }
        let many = RateLimiter::new(Rate { burst: 1.0, per_sec: 0.001 }, 100);
        for i in 0..1_000 {
            assert!(many.check(i).is_ok(), "a new key always starts with its burst");
        }
        assert!(many.keys() <= 100);
    }

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
