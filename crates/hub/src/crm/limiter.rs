//! One pace per connector: requests are spaced to stay within the CRM's documented rate,
//! and a 429's Retry-After holds every request to that CRM until it has passed. The pace
//! is kept in this process, or in the database ([`Limiter::shared`]) so that every hub's
//! CRM worker keeps to it together.

use crate::store::Store;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When Retry-After is absent or unreadable.
const DEFAULT_RETRY_SECS: u64 = 10;
/// The longest pause a Retry-After may impose.
const MAX_RETRY_SECS: u64 = 600;

/// The seconds a Retry-After value (delta-seconds or an HTTP date) asks for.
pub fn retry_after_secs(value: Option<&str>) -> u64 {
    let Some(v) = value.map(str::trim) else {
        return DEFAULT_RETRY_SECS;
    };
    let secs = match v.parse::<u64>() {
        Ok(s) => s,
        Err(_) => match httpdate::parse_http_date(v) {
            Ok(at) => at.duration_since(crate::clock::now()).map_or(0, |d| d.as_secs() + 1),
            Err(_) => DEFAULT_RETRY_SECS,
        },
    };
    // A zero or a date in the past would let requests hammer a CRM that asked for a pause.
    secs.clamp(1, MAX_RETRY_SECS)
}

/// The pace's state: the earliest the next request may start, and any hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub next: Instant,
    pub held_until: Option<Instant>,
}

/// When a request asked at `now` may start, and the state after it: requests are at least
/// `interval` apart and none starts during a hold.
pub fn slot(p: Pace, now: Instant, interval: Duration) -> (Instant, Pace) {
    let mut start = p.next.max(now);
    if let Some(h) = p.held_until {
        start = start.max(h);
    }
    let held_until = p.held_until.filter(|h| *h > start);
    (start, Pace { next: start + interval, held_until })
}

#[derive(Debug)]
pub struct Limiter {
    interval: Duration,
    pace: Mutex<Pace>,
    /// The database the pace is shared through, and its name there.
    shared: Option<(Store, &'static str)>,
}

/// The paces a connector may be set to, in requests per second: from one every hundred
/// seconds to a thousand a second.
pub const RATES: std::ops::RangeInclusive<f64> = 0.01..=1000.0;

impl Limiter {
    /// Spaces requests `1 / rate` seconds apart; a rate outside [`RATES`] is brought inside.
    pub fn per_second(rate: f64) -> Limiter {
        let rate = if rate.is_finite() { rate.clamp(*RATES.start(), *RATES.end()) } else { 1.0 };
        Limiter {
            interval: Duration::from_secs_f64(1.0 / rate),
            pace: Mutex::new(Pace { next: Instant::now(), held_until: None }),
            shared: None,
        }
    }

    /// The same pace, kept in `store` under `name` for every hub (in this process alone
    /// while the database does not answer).
    pub fn shared(self, store: Store, name: &'static str) -> Limiter {
        Limiter { shared: Some((store, name)), ..self }
    }

    /// Waits for this request's turn; a hold that began while it waited is waited out too.
    pub async fn acquire(&self) {
        if let Some((store, name)) = &self.shared {
            let interval = i64::try_from(self.interval.as_millis()).unwrap_or(i64::MAX).max(1);
            match store.crm_turn(name, interval).await {
                Ok(start) => loop {
                    let wait = start.max(store.crm_held_until(name).await.unwrap_or(0)) - crate::clock::now_ms();
                    if wait <= 0 {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
                },
                Err(e) => tracing::warn!("the shared pace of {name} cannot be read; pacing this hub alone: {e}"),
            }
        }
        self.acquire_here().await;
    }

    async fn acquire_here(&self) {
        let start = {
            let mut p = self.pace.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let (start, next) = slot(*p, Instant::now(), self.interval);
            *p = next;
            start
        };
        tokio::time::sleep_until(start.into()).await;
        loop {
            let held = self.pace.lock().unwrap_or_else(std::sync::PoisonError::into_inner).held_until;
            match held {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until.into()).await,
                _ => return,
            }
        }
    }

    /// Holds every request for `wait` from now (a 429's Retry-After), on every hub when the
    /// pace is shared.
    pub async fn hold_for(&self, wait: Duration) {
        if let Some((store, name)) = &self.shared {
            let until = crate::clock::now_ms().saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4));
            if let Err(e) = store.crm_hold(name, until).await {
                tracing::warn!("the hold on {name} cannot be shared: {e}");
            }
        }
        let until = Instant::now() + wait;
        let mut p = self.pace.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        p.held_until = Some(p.held_until.map_or(until, |h| h.max(until)));
        p.next = p.next.max(until);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_spaced_and_held() {
        let t0 = Instant::now();
        let gap = Duration::from_millis(250);
        let p = Pace { next: t0, held_until: None };
        let (a, p) = slot(p, t0, gap);
        let (b, p) = slot(p, t0, gap);
        let (c, p) = slot(p, t0 + Duration::from_secs(5), gap);
        assert_eq!((a, b, c), (t0, t0 + gap, t0 + Duration::from_secs(5)));
        let held = Pace { held_until: Some(t0 + Duration::from_secs(30)), ..p };
        let (d, after) = slot(held, t0 + Duration::from_secs(6), gap);
        assert_eq!(d, t0 + Duration::from_secs(30), "nothing starts during a hold");
        assert_eq!(after.held_until, None, "the hold is over once a request starts after it");
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(retry_after_secs(Some("7")), 7);
        assert_eq!(retry_after_secs(None), DEFAULT_RETRY_SECS);
        assert_eq!(retry_after_secs(Some("soon")), DEFAULT_RETRY_SECS);
        assert_eq!(retry_after_secs(Some("86400")), MAX_RETRY_SECS);
        let in_a_minute = httpdate::fmt_http_date(crate::clock::now() + Duration::from_secs(60));
        let secs = retry_after_secs(Some(&in_a_minute));
        assert!((59..=61).contains(&secs), "{secs}");
        assert_eq!(retry_after_secs(Some("Wed, 21 Oct 2015 07:28:00 GMT")), 1, "a date in the past");
        assert_eq!(retry_after_secs(Some("0")), 1);
    }

    #[tokio::test]
    async fn a_hold_delays_the_next_request() {
        for extreme in [1e-300, 0.0, -1.0, f64::NAN, f64::INFINITY, 1e300] {
            let _ = Limiter::per_second(extreme);
        }
        let l = Limiter::per_second(1000.0);
        l.acquire().await;
        l.hold_for(Duration::from_millis(300)).await;
        let t = Instant::now();
        l.acquire().await;
        assert!(t.elapsed() >= Duration::from_millis(290), "{:?}", t.elapsed());
    }
}
