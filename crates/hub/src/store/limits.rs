//! Limits every hub on the database shares: hits per key counted in fixed windows (the
//! visitor API's, the notify and bot keys', the help centre's; see
//! [`crate::throttle::Window`]), and each CRM's pace (calls spaced to its documented rate,
//! and a 429's hold), so hubs behind a load balancer together allow what one would.

use super::{Result, Store};
use crate::params;
use crate::throttle::Window;

/// The upsert that counts one hit and answers the window's count.
const HIT: &str = "INSERT INTO rate_windows (key, window_start, hits) VALUES (?, ?, 1) \
                   ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_windows.hits + 1 RETURNING hits";

impl Store {
    /// Counts one hit for `key` in the window holding now; `Ok(Err(secs))` when the window
    /// already holds its most (the hit is counted all the same: a flood stays refused).
    pub async fn hit(&self, key: String, window: Window) -> Result<std::result::Result<(), u64>> {
        self.pool()
            .write(move |tx| {
                let start = window.start(tx.now);
                let hits = tx.conn.query_int(HIT, params![&key, start])?;
                Ok(window.verdict(hits, tx.now))
            })
            .await
    }

    /// Forgets windows that started before `before`; returns how many.
    pub async fn prune_rate_windows(&self, before: i64, limit: i64) -> Result<u64> {
        self.pool()
            .write(move |tx| {
                Ok(tx.conn.execute(
                    "DELETE FROM rate_windows WHERE (key, window_start) IN \
                     (SELECT key, window_start FROM rate_windows WHERE window_start < ? LIMIT ?)",
                    params![before, limit],
                )?)
            })
            .await
    }

    /// The start of the next call to the CRM `crm`, in milliseconds since the epoch: at
    /// least `interval_ms` after the one before it (on any hub), and not before a hold ends.
    pub async fn crm_turn(&self, crm: &'static str, interval_ms: i64) -> Result<i64> {
        self.pool()
            .write(move |tx| {
                let now = tx.now;
                // start = the latest of now, the pace's next slot and its hold.
                let next = tx.conn.query_int(
                    "INSERT INTO crm_pace (crm, next_at, held_until) VALUES (?, ?, 0) \
                     ON CONFLICT (crm) DO UPDATE SET next_at = CASE \
                       WHEN crm_pace.held_until > crm_pace.next_at AND crm_pace.held_until > ? THEN crm_pace.held_until \
                       WHEN crm_pace.next_at > ? THEN crm_pace.next_at ELSE ? END + ? \
                     RETURNING next_at",
                    params![crm, now + interval_ms, now, now, now, interval_ms],
                )?;
                Ok(next - interval_ms)
            })
            .await
    }

    /// Holds every hub's calls to the CRM `crm` until `until` (a 429's Retry-After).
    pub async fn crm_hold(&self, crm: &'static str, until: i64) -> Result<()> {
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "INSERT INTO crm_pace (crm, next_at, held_until) VALUES (?, ?, ?) \
                     ON CONFLICT (crm) DO UPDATE SET \
                       held_until = CASE WHEN crm_pace.held_until > ? THEN crm_pace.held_until ELSE ? END",
                    params![crm, until, until, until, until],
                )?;
                Ok(())
            })
            .await
    }

    /// Until when calls to the CRM `crm` are held (0: never held).
    pub async fn crm_held_until(&self, crm: &'static str) -> Result<i64> {
        self.pool()
            .read(move |c| {
                Ok(c.query_opt("SELECT held_until FROM crm_pace WHERE crm = ?", params![crm])?
                    .map(|r| r.int(0))
                    .transpose()?
                    .unwrap_or(0))
            })
            .await
    }
}
