//! Counted admissions held in memory per hub process ([`Gauge`]): how many streams a
//! session holds, how many sockets a visitor or a client address holds. A gauge keeps only
//! keys with something open. Rates per key that every hub shares are [`Shared`]: a token
//! bucket in this hub's memory ([`crate::throttle::RateLimiter`]) turns a flood away
//! without touching the database, and what it lets through is counted in the database's
//! fixed windows, so several hubs behind a load balancer together allow what one would.

use crate::metrics::Open;
use crate::store::{Store, StoreError};
use crate::throttle::{Rate, RateLimiter, Window};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Open things per key, each key up to a ceiling.
#[derive(Debug)]
pub struct Gauge<K: Eq + Hash + Clone> {
    open: Arc<Mutex<HashMap<K, usize>>>,
    max: usize,
    /// The metric its total is reported as, if any.
    reported: Option<Open>,
}

impl<K: Eq + Hash + Clone> Clone for Gauge<K> {
    fn clone(&self) -> Self {
        Gauge { open: self.open.clone(), max: self.max, reported: self.reported }
    }
}

/// One admission, given back when dropped.
#[derive(Debug)]
pub struct Slot<K: Eq + Hash + Clone> {
    open: Arc<Mutex<HashMap<K, usize>>>,
    key: K,
    reported: Option<Open>,
}

impl<K: Eq + Hash + Clone> Gauge<K> {
    pub fn new(max: usize) -> Gauge<K> {
        Gauge { open: Arc::default(), max, reported: None }
    }

    /// The same gauge, its total reported on `/metrics` as `what`.
    pub fn reported_as(self, what: Open) -> Gauge<K> {
        Gauge { reported: Some(what), ..self }
    }

    /// A slot under `key`, or `None` when the key already holds the most it may.
    pub fn admit(&self, key: K) -> Option<Slot<K>> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        if let Some(what) = self.reported {
            crate::metrics::opened(what, 1.0);
        }
        Some(Slot { open: self.open.clone(), key, reported: self.reported })
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
        if let Some(what) = self.reported {
            crate::metrics::opened(what, -1.0);
        }
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A rate limit per key that every hub on the database shares (see the module's notes).
#[derive(Debug)]
pub struct Shared<K: Eq + Hash> {
    /// The key's prefix in the database (`visitor-messages`, `notify`, …).
    name: &'static str,
    window: Window,
    local: RateLimiter<K>,
}

impl<K: Eq + Hash + Clone + std::fmt::Display> Shared<K> {
    /// `rate` per key, named `name` in the database; at most `max_keys` buckets in memory.
    pub fn new(name: &'static str, rate: Rate, max_keys: usize) -> Shared<K> {
        Shared { name, window: rate.window(), local: RateLimiter::new(rate, max_keys) }
    }

    /// Takes one hit for `key`: `Ok(Err(secs))` to wait when this hub's bucket or the
    /// hubs' shared window is spent.
    pub async fn check(&self, store: &Store, key: K) -> Result<Result<(), u64>, StoreError> {
        if let Err(wait) = self.local.check(key.clone()) {
            return Ok(Err(wait));
        }
        store.hit(format!("{}:{key}", self.name), self.window).await
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
