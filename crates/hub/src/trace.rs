//! Which request a piece of work serves, and how the hub writes its log. Every HTTP request
//! gets an id (the caller's `X-Request-Id` when it is a sane one, else a new one) held
//! task-locally for the length of the request; a database write made for it takes the id
//! along, so work it leaves in the database (a reply for the delivery worker) is logged
//! under the same id when it is done. Logs are plain lines, or JSON lines with
//! `SWITCHBOARD_LOG_FORMAT=json`.

use std::future::Future;

tokio::task_local! {
    static REQUEST: String;
}

/// The longest request id taken from a caller.
pub const MAX_ID: usize = 64;

/// The request id for a request that came with `given`: kept when it is 1 to [`MAX_ID`]
/// letters, digits, `-`, `_` or `.` (a load balancer's or a caller's own), else a new one
/// (16 hex digits), so a log line never carries what a client made up to break it.
pub fn request_id(given: Option<&str>) -> String {
    match given {
        Some(id)
            if !id.is_empty()
                && id.len() <= MAX_ID
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) =>
        {
            id.to_owned()
        }
        _ => {
            use rand::RngCore;
            let mut b = [0u8; 8];
            rand::rng().fill_bytes(&mut b);
            hex::encode(b)
        }
    }
}

/// Runs `work` as part of the request `id`.
pub async fn within<F: Future>(id: String, work: F) -> F::Output {
    REQUEST.scope(id, work).await
}

/// The id of the request the current task serves, if any.
pub fn current() -> Option<String> {
    REQUEST.try_with(Clone::clone).ok()
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Plain,
    Json,
}

impl LogFormat {
    /// The format `SWITCHBOARD_LOG_FORMAT` names (`json`; anything else is plain).
    pub fn from_env() -> LogFormat {
        match std::env::var("SWITCHBOARD_LOG_FORMAT").as_deref() {
            Ok("json") => LogFormat::Json,
            _ => LogFormat::Plain,
        }
    }
}

/// Sends the process's log to standard error in `format`, filtered by `RUST_LOG`
/// (`info` when unset).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    match format {
        LogFormat::Plain => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init(),
        LogFormat::Json => {
            if tracing::subscriber::set_global_default(json_subscriber(filter, std::io::stderr)).is_err() {
                eprintln!("a logger is already installed");
            }
        }
    }
}

/// JSON lines to `writer`, one object per event: its fields flattened beside `timestamp`,
/// `level` and `target`, and the fields of the spans it happened in (a request's
/// `request_id`, `method` and `route`; a delivery's `request_id` and `message`) under
/// `span` (the innermost) and `spans`.
pub fn json_subscriber<W>(filter: tracing_subscriber::EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sane_id_is_kept_and_anything_else_replaced() {
        for kept in ["abc", "7f3e-22_x.1", &"a".repeat(MAX_ID)] {
            assert_eq!(request_id(Some(kept)), kept);
        }
        for bad in ["", "has space", "new\nline", "quote\"", &"a".repeat(MAX_ID + 1), "ünï"] {
            let id = request_id(Some(bad));
            assert_ne!(id, bad);
            assert_eq!(id.len(), 16, "{id}");
        }
        let (a, b) = (request_id(None), request_id(None));
        assert!(a != b && a.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[tokio::test]
    async fn the_id_is_known_inside_the_request_only() {
        assert_eq!(current(), None);
        let seen = within("req-1".into(), async { current() }).await;
        assert_eq!(seen.as_deref(), Some("req-1"));
        assert_eq!(current(), None);
    }
}
