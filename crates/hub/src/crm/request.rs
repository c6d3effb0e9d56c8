//! One request to a CRM: sent at the connector's pace, waited out and tried again after a
//! short 429, and its answer's status or transport failure mapped to a [`CrmError`].

use super::limiter::{self, Limiter};
use super::CrmError;
use std::time::Duration;

/// Maps an HTTP answer's status to an error, or `None` for success.
pub(crate) fn status_error(
    provider: &'static str,
    status: reqwest::StatusCode,
    retry_after: Option<&str>,
    body: &str,
) -> Option<CrmError> {
    let short: String = body.chars().take(300).collect();
    match status.as_u16() {
        200..=299 => None,
        401 | 403 if !short.contains("REQUEST_LIMIT_EXCEEDED") => {
            Some(CrmError::Unauthorized(provider, format!("{status}: {short}")))
        }
        // Salesforce's spent API allowance: no Retry-After, and it lasts; pause for minutes.
        403 => Some(CrmError::RateLimited(provider, retry_after.map_or(300, |v| limiter::retry_after_secs(Some(v))))),
        429 => Some(CrmError::RateLimited(provider, limiter::retry_after_secs(retry_after))),
        500..=599 => Some(CrmError::Unavailable(provider, status.to_string())),
        _ => Some(CrmError::Refused(provider, format!("{status}: {short}"))),
    }
}

/// Maps a transport failure to an error.
pub(crate) fn transport_error(provider: &'static str, e: &reqwest::Error, timeout_ms: u64) -> CrmError {
    if e.is_timeout() {
        CrmError::Timeout(provider, timeout_ms)
    } else {
        // The URL may carry an address; the message names the failure, not the request.
        let what = if e.is_connect() { "cannot connect" } else { "the connection failed" };
        CrmError::Unavailable(provider, what.to_owned())
    }
}

/// Sends a request at the limiter's pace and reads the JSON answer. A 429 makes the limiter
/// hold every request for what Retry-After asks, then this one is tried again (three times
/// at most).
pub(crate) async fn send_json(
    provider: &'static str,
    pace: &Limiter,
    timeout_ms: u64,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<serde_json::Value, CrmError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        pace.acquire().await;
        let resp = build().send().await.map_err(|e| transport_error(provider, &e, timeout_ms))?;
        let status = resp.status();
        let retry_after =
            resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = resp.text().await.map_err(|e| transport_error(provider, &e, timeout_ms))?;
        match status_error(provider, status, retry_after.as_deref(), &text) {
            None => {
                if text.trim().is_empty() {
                    return Ok(serde_json::Value::Null);
                }
                return serde_json::from_str(&text).map_err(|e| CrmError::BadAnswer(provider, e.to_string()));
            }
            Some(err) => {
                if let Some(wait) = err.retry_after() {
                    pace.hold_for(wait).await;
                    // Short pauses are waited out here; a longer one ends this call, and the
                    // lookup or transcript is tried again once it has passed.
                    if attempt < 3 && wait <= Duration::from_secs(10) {
                        tracing::info!("{provider} asked to wait {} s", wait.as_secs());
                        continue;
                    }
                }
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_errors() {
        use reqwest::StatusCode as S;
        assert_eq!(status_error("HubSpot", S::OK, None, ""), None);
        assert!(matches!(status_error("HubSpot", S::UNAUTHORIZED, None, "{}"), Some(CrmError::Unauthorized(..))));
        assert_eq!(
            status_error("HubSpot", S::TOO_MANY_REQUESTS, Some("7"), ""),
            Some(CrmError::RateLimited("HubSpot", 7))
        );
        assert!(matches!(
            status_error("Salesforce", S::FORBIDDEN, None, r#"[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#),
            Some(CrmError::RateLimited(..))
        ));
        assert!(matches!(status_error("HubSpot", S::BAD_GATEWAY, None, ""), Some(CrmError::Unavailable(..))));
        assert!(matches!(status_error("HubSpot", S::BAD_REQUEST, None, "bad"), Some(CrmError::Refused(..))));
    }
}
