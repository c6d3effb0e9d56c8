//! The HTTP client the hub calls providers and CRMs with, so every outside call has the
//! same bounds: a connection within five seconds (or the whole timeout, if shorter) and
//! an answer within the timeout.

use std::time::Duration;

/// A client whose calls give up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().connect_timeout(timeout.min(Duration::from_secs(5))).timeout(timeout).build()
}
