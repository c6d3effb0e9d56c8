//! Failed-login counters, kept where every hub sees them: an attempt is reserved (counted
//! as failed) before its password is checked, and forgiven when it was right. The rules
//! are [`crate::throttle`]'s.

use super::{Result, Store};
use crate::params;
use crate::throttle::{self, Counter, Rule};

/// Whether an attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted; check the password, then [`Store::forgive_login`] if it was right.
    Granted,
    /// A counter is locked: try again after this many milliseconds.
    Locked { retry_after_ms: i64 },
}

impl Store {
    /// Reserves one login attempt under each of `keys`, or none if any is locked. Each
    /// counter row is locked while it is read and written, so attempts racing on several
    /// hubs are counted one after another.
    pub async fn reserve_login(&self, keys: Vec<(String, Rule)>) -> Result<Reservation> {
        self.pool()
            .write(move |tx| {
                let mut counters = Vec::with_capacity(keys.len());
                let mut wait = 0;
                for (key, rule) in &keys {
                    // Creates the row or locks it (an update that waits for any other hub's),
                    // and reads it as committed.
                    let row = tx.conn.query_one(
                        "INSERT INTO login_failures (key, failures, last_at) VALUES (?, 0, 0) \
                         ON CONFLICT (key) DO UPDATE SET failures = login_failures.failures \
                         RETURNING failures, last_at",
                        params![key],
                    )?;
                    let counter =
                        Counter { failures: u32::try_from(row.int(0)?).unwrap_or(u32::MAX), last_at_ms: row.int(1)? };
                    wait = wait.max(rule.wait(counter, tx.now).unwrap_or(0));
                    counters.push(rule.reserve(counter, tx.now));
                }
                if wait > 0 {
                    return Ok(Reservation::Locked { retry_after_ms: wait });
                }
                for ((key, _), c) in keys.iter().zip(&counters) {
                    tx.conn.execute(
                        "UPDATE login_failures SET failures = ?, last_at = ? WHERE key = ?",
                        params![c.failures, c.last_at_ms, key],
                    )?;
                }
                Ok(Reservation::Granted)
            })
            .await
    }

    /// Forgives a reserved attempt whose password was right: the counters in `clear` start
    /// again, and those in `refund` give back the one attempt.
    pub async fn forgive_login(&self, clear: Vec<String>, refund: Vec<String>) -> Result<()> {
        self.pool()
            .write(move |tx| {
                for key in &clear {
                    tx.conn.execute("DELETE FROM login_failures WHERE key = ?", params![key])?;
                }
                for key in &refund {
                    tx.conn.execute(
                        "UPDATE login_failures SET failures = failures - 1 WHERE key = ? AND failures > 0",
                        params![key],
                    )?;
                }
                Ok(())
            })
            .await
    }

    /// Drops counters nobody failed under for [`throttle::KEEP_MS`], at most `limit` rows
    /// at a time; returns how many went.
    pub async fn prune_login_failures(&self, limit: i64) -> Result<u64> {
        self.pool()
            .write(move |tx| {
                let cutoff = tx.now - throttle::KEEP_MS;
                Ok(tx.conn.execute(
                    "DELETE FROM login_failures WHERE key IN \
                     (SELECT key FROM login_failures WHERE last_at < ? ORDER BY last_at LIMIT ?)",
                    params![cutoff, limit],
                )?)
            })
            .await
    }
}
