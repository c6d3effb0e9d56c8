//! Wall-clock time as the hub stores it: milliseconds since the Unix epoch. The one place in
//! the hub that reads the system clock (clippy.toml disallows `SystemTime::now` elsewhere).

use std::time::{SystemTime, UNIX_EPOCH};

pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// The system clock now.
#[allow(clippy::disallowed_methods, reason = "the clock module is where the hub reads the system clock")]
pub fn now() -> SystemTime {
    SystemTime::now()
}

pub fn now_ms() -> i64 {
    now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)).unwrap_or(0)
}
