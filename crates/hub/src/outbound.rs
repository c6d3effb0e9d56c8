//! Calls the hub makes to providers and CRMs: the HTTP client they share, so every outside
//! call has the same bounds (a connection within five seconds, or the whole timeout if
//! shorter, and an answer within the timeout), and the pause before trying a failed call
//! again.

use std::time::Duration;

/// A client whose calls give up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().connect_timeout(timeout.min(Duration::from_secs(5))).timeout(timeout).build()
}

/// A client like [`client`] that follows no redirect itself, for calls that decide at each
/// hop whether credentials may go along.
pub fn client_without_redirects(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// The pause, in milliseconds, before retry `attempt` (0-based) of an outside call:
/// `base_ms` doubling each time, at most an hour.
pub fn backoff(attempt: u32, base_ms: u64) -> i64 {
    let ms = base_ms.saturating_mul(1u64 << attempt.min(20)).min(3_600_000);
    i64::try_from(ms).unwrap_or(3_600_000)
}

/// The scheme, host and port of an `http(s)` URL, lower-cased.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}
