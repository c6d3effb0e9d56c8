//! How failed logins are counted and when they lock: pure rules over a counter
//! (failures, the time of the last), table-tested; and the hub's rate limits: the token
//! bucket ([`Rate`]) and buckets per key ([`RateLimiter`], bounded: password checks per
//! second, visitor chats and messages per client and per visitor), and the same rate as
//! fixed windows ([`Window`]) that every hub on a database counts in together. The
//! counters themselves live in the database ([`crate::store`]'s `login_failures` and
//! `rate_windows`), so every hub on it sees the same ones.
//!
//! A login is counted three ways: the account from this client (locks early: a person
//! mistyping), the client across every account (password spraying from one address), and
//! the account from every client (guessing spread over many addresses, with a far higher
//! bar, so a stranger cannot easily lock an agent out). An attempt is counted as a failure
//! *before* its password is checked and forgiven if it was right, so parallel guesses
//! cannot all slip in before the lock lands. Counters are forgotten after a quiet spell.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When one kind of counter locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Failures allowed before any lock.
    pub free: u32,
    /// The longest lock, in milliseconds; locks double from one second up to it.
    pub max_lock_ms: i64,
    /// A counter with no failure for this long starts again from zero.
    pub forget_ms: i64,
}

const MINUTE: i64 = 60_000;

/// One account from one client.
pub const ACCOUNT_FROM_CLIENT: Rule = Rule { free: 5, max_lock_ms: 15 * MINUTE, forget_ms: 60 * MINUTE };
/// One client across every account.
pub const CLIENT: Rule = Rule { free: 30, max_lock_ms: 15 * MINUTE, forget_ms: 60 * MINUTE };
/// One account across every client.
pub const ACCOUNT: Rule = Rule { free: 100, max_lock_ms: 15 * MINUTE, forget_ms: 60 * MINUTE };

/// The longest any counter is kept after its last failure.
pub const KEEP_MS: i64 = 60 * MINUTE;

/// A stored counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counter {
    pub failures: u32,
    pub last_at_ms: i64,
}

impl Rule {
    /// The failures that still count at `now`.
    pub fn live(&self, c: Counter, now_ms: i64) -> u32 {
        if now_ms - c.last_at_ms >= self.forget_ms {
            0
        } else {
            c.failures
        }
    }

    /// How long a counter of `failures` locks after its last failure.
    pub fn lock_ms(&self, failures: u32) -> i64 {
        if failures < self.free {
            return 0;
        }
        let doublings = (failures - self.free).min(20);
        (1_000_i64 << doublings).min(self.max_lock_ms)
    }

    /// How long, in milliseconds, before another attempt may be made; `None` when one may
    /// be made now.
    pub fn wait(&self, c: Counter, now_ms: i64) -> Option<i64> {
        let failures = self.live(c, now_ms);
        let until = c.last_at_ms + self.lock_ms(failures);
        (failures > 0 && until > now_ms).then(|| until - now_ms)
    }

    /// The counter after reserving one attempt at `now` (counted as failed until forgiven).
    pub fn reserve(&self, c: Counter, now_ms: i64) -> Counter {
        Counter { failures: self.live(c, now_ms).saturating_add(1), last_at_ms: now_ms }
    }
}

/// A rate: `burst` at once, refilled at `per_sec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: f64,
    pub per_sec: f64,
}

impl Rate {
    /// The same rate as fixed windows: `burst` hits in the time an empty bucket takes to
    /// fill (at least a second, at most a day).
    pub fn window(&self) -> Window {
        let secs = self.burst / self.per_sec.max(f64::MIN_POSITIVE);
        let len_ms = (secs * 1000.0).round().clamp(1000.0, 86_400_000.0) as i64;
        Window { len_ms, max: self.burst.floor().max(1.0) as i64 }
    }
}

/// At most `max` hits in each window of `len_ms` (windows start at multiples of `len_ms`
/// since the epoch, on every hub alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub len_ms: i64,
    pub max: i64,
}

impl Window {
    /// The start of the window holding `now`.
    pub fn start(&self, now: i64) -> i64 {
        now - now.rem_euclid(self.len_ms.max(1))
    }

    /// Whether the `hits`-th hit of the window holding `now` is allowed; if not, the whole
    /// seconds until the window ends (at least one).
    pub fn verdict(&self, hits: i64, now: i64) -> Result<(), u64> {
        if hits <= self.max {
            return Ok(());
        }
        let left_ms = self.start(now) + self.len_ms - now;
        Err(u64::try_from((left_ms + 999) / 1000).unwrap_or(1).max(1))
    }
}

/// A token bucket: what is left, as of when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub tokens: f64,
    pub at: Instant,
}

impl Rate {
    /// Takes one token from `bucket` (a new key starts full) at `now`: the bucket after, or
    /// how long until a token is there.
    pub fn take(&self, bucket: Option<Bucket>, now: Instant) -> Result<Bucket, Duration> {
        let tokens = match bucket {
            None => self.burst,
            Some(b) => (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.per_sec).min(self.burst),
        };
        if tokens >= 1.0 {
            Ok(Bucket { tokens: tokens - 1.0, at: now })
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.per_sec.max(f64::MIN_POSITIVE)))
        }
    }

    /// Whether a bucket last touched at `at` is full again by `now` (and may be forgotten).
    pub fn refilled(&self, b: &Bucket, now: Instant) -> bool {
        b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * self.per_sec >= self.burst
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

/// What a client is counted as: an IPv4 address, or an IPv6 address's /64 (one host
/// usually holds a whole /64, so counting single IPv6 addresses would count nothing).
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The three counters one login attempt for `email` from `client` is kept under, with
/// their rules. The first is forgiven entirely by a right password, the others by one.
pub fn keys(email: &str, client: &str) -> [(String, Rule); 3] {
    [
        (format!("account-client:{email}|{client}"), ACCOUNT_FROM_CLIENT),
        (format!("client:{client}"), CLIENT),
        (format!("account:{email}"), ACCOUNT),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_as_fixed_windows() {
        for (rate, want) in [
            (Rate { burst: 20.0, per_sec: 1.0 / 3.0 }, Window { len_ms: 60_000, max: 20 }),
            (Rate { burst: 200.0, per_sec: 50.0 }, Window { len_ms: 4_000, max: 200 }),
            (Rate { burst: 120.0, per_sec: 4.0 }, Window { len_ms: 30_000, max: 120 }),
            (Rate { burst: 0.5, per_sec: 100.0 }, Window { len_ms: 1_000, max: 1 }),
            (Rate { burst: 10.0, per_sec: 0.0 }, Window { len_ms: 86_400_000, max: 10 }),
        ] {
            assert_eq!(rate.window(), want, "{rate:?}");
        }
        let w = Window { len_ms: 10_000, max: 3 };
        for (hits, now, want) in
            [(1, 20_000, Ok(())), (3, 29_999, Ok(())), (4, 20_000, Err(10)), (4, 25_500, Err(5)), (9, 29_999, Err(1))]
        {
            assert_eq!(w.verdict(hits, now), want, "{hits} at {now}");
        }
        assert_eq!((w.start(29_999), w.start(30_000), w.start(0)), (20_000, 30_000, 0));
    }

    #[test]
    fn buckets_allow_a_burst_then_the_rate() {
        let rate = Rate { burst: 3.0, per_sec: 2.0 };
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let mut b = None;
        for _ in 0..3 {
            b = Some(rate.take(b, t0).unwrap());
        }
        assert_eq!(rate.take(b, t0).unwrap_err(), Duration::from_millis(500));
        assert_eq!(rate.take(b, ms(250)).unwrap_err(), Duration::from_millis(250));
        let after = rate.take(b, ms(500)).unwrap();
        assert!(after.tokens.abs() < 1e-9);
        // A long pause refills to the burst, no more.
        let full = rate.take(Some(after), ms(60_000)).unwrap();
        assert!((full.tokens - 2.0).abs() < 1e-9);
    }

    #[test]
    fn locks_double_from_a_second_to_the_rules_maximum() {
        let r = ACCOUNT_FROM_CLIENT;
        for (failures, ms) in
            [(0, 0), (4, 0), (5, 1_000), (6, 2_000), (8, 8_000), (14, 512_000), (15, 900_000), (40, 900_000)]
        {
            assert_eq!(r.lock_ms(failures), ms, "{failures} failures");
        }
        assert_eq!(CLIENT.lock_ms(29), 0);
        assert_eq!(CLIENT.lock_ms(30), 1_000);
        assert_eq!(ACCOUNT.lock_ms(99), 0);
        assert_eq!(ACCOUNT.lock_ms(u32::MAX), 900_000);
    }

    #[test]
    fn waits_expire_and_counters_are_forgotten() {
        let r = ACCOUNT_FROM_CLIENT;
        let at = 1_000_000;
        let c = |failures| Counter { failures, last_at_ms: at };
        for (counter, now, want) in [
            (c(0), at, None),
            (c(4), at, None),
            (c(5), at, Some(1_000)),
            (c(5), at + 400, Some(600)),
            (c(5), at + 1_000, None),
            (c(15), at + 60_000, Some(840_000)),
            (c(15), at + 900_000, None),
            // Locks end at their maximum, and a quiet hour forgets the counter.
            (c(1_000), at + 899_999, Some(1)),
            (c(1_000), at + 3_600_000, None),
        ] {
            assert_eq!(r.wait(counter, now), want, "{counter:?} at +{}", now - at);
        }
    }

    #[test]
    fn reserving_counts_the_attempt_and_restarts_a_forgotten_counter() {
        let r = CLIENT;
        let c = Counter { failures: 7, last_at_ms: 0 };
        assert_eq!(r.reserve(c, 10), Counter { failures: 8, last_at_ms: 10 });
        assert_eq!(r.reserve(c, r.forget_ms), Counter { failures: 1, last_at_ms: r.forget_ms });
        let full = Counter { failures: u32::MAX, last_at_ms: 0 };
        assert_eq!(r.reserve(full, 1).failures, u32::MAX);
    }

    #[test]
    fn parallel_guesses_lock_after_the_free_ones() {
        // Twenty-one attempts land at once: each reserves before its password is checked.
        let r = ACCOUNT_FROM_CLIENT;
        let mut c = Counter::default();
        let mut checked = 0;
        for _ in 0..21 {
            if r.wait(c, 5).is_none() {
                c = r.reserve(c, 5);
                checked += 1;
            }
        }
        assert_eq!(checked, r.free);
    }

    #[test]
    fn clients_are_counted_by_address_or_ipv6_prefix() {
        for (ip, key) in [
            ("203.0.113.9", "203.0.113.9"),
            ("::ffff:203.0.113.9", "203.0.113.9"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
            ("::1", "0:0:0:0::/64"),
        ] {
            assert_eq!(client_key(ip.parse().unwrap()), key, "{ip}");
        }
    }

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
}
