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
