//! The console's clock and its random ids: the one place that reads the system time (the
//! workspace's `clippy.toml` forbids it elsewhere) or makes an id.

/// Milliseconds since the Unix epoch.
#[allow(clippy::disallowed_methods)] // the one reading of the system clock
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The console's local time of week now, in the system's time zone (quiet hours are kept
/// in it).
pub fn local_time() -> crate::notify::LocalTime {
    local_time_at(now_ms(), &jiff::tz::TimeZone::system())
}

/// The local time of week at `ms` in `tz`.
pub fn local_time_at(ms: i64, tz: &jiff::tz::TimeZone) -> crate::notify::LocalTime {
    let Ok(at) = jiff::Timestamp::from_millisecond(ms) else {
        return crate::notify::LocalTime { weekday: 0, minute: 0 };
    };
    let local = at.to_zoned(tz.clone());
    crate::notify::LocalTime {
        weekday: u8::try_from(local.weekday().to_monday_zero_offset()).unwrap_or(0),
        minute: u16::try_from(i32::from(local.hour()) * 60 + i32::from(local.minute())).unwrap_or(0),
    }
}

/// 128 random bits as hex: ids for replies and for this console, unique across consoles.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    hex::encode(bytes)
}

/// A fresh id for a reply or note.
pub fn new_client_msg_id() -> String {
    random_id()
}

/// The pause before retry `attempt` (1-based) of a reconnect or a send: 0.5 s doubling to
/// 30 s, with ±50 % jitter so that many consoles do not return at once.
pub fn backoff(attempt: u32, jitter: f64) -> std::time::Duration {
    let base = 500u64.saturating_mul(1 << attempt.saturating_sub(1).min(6)).min(30_000);
    // `jitter` in [0, 1) scales the pause between half and one and a half times.
    let scaled = (base as f64) * (0.5 + jitter.clamp(0.0, 0.999));
    std::time::Duration::from_millis(scaled as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn local_time_follows_the_zone_and_its_daylight_saving() {
        use crate::notify::LocalTime;
        let paris = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
        // 2026-03-29 00:30 UTC: Sunday 01:30 in Paris (winter time, UTC+1).
        let before = 1_774_744_200_000;
        assert_eq!(local_time_at(before, &paris), LocalTime { weekday: 6, minute: 90 });
        // Two hours later the clocks had gone forward at 02:00: 04:30, not 03:30.
        assert_eq!(local_time_at(before + 2 * 3_600_000, &paris), LocalTime { weekday: 6, minute: 270 });
        // Monday 00:10 UTC is still Sunday in New York.
        let ny = jiff::tz::TimeZone::get("America/New_York").unwrap();
        assert_eq!(local_time_at(1_774_829_400_000, &ny), LocalTime { weekday: 6, minute: 20 * 60 + 10 });
    }

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        assert_eq!(backoff(1, 0.5), Duration::from_millis(500));
        assert_eq!(backoff(2, 0.5), Duration::from_millis(1_000));
        assert_eq!(backoff(3, 0.5), Duration::from_millis(2_000));
        assert_eq!(backoff(20, 0.5), Duration::from_millis(30_000));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(250));
        assert!(backoff(1, 0.999_9) <= Duration::from_millis(750));
        assert_eq!(backoff(0, 0.5), Duration::from_millis(500));
    }
}
