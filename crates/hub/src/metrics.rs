//! What a hub reports to Prometheus at `/metrics`: every metric's name, help and labels in
//! one place, the process's recorder (installed once, on first use), and the text a scrape
//! gets. Parts of the hub call the functions here; none names a metric itself.
//!
//! Counters and histograms are per process (a hub and everything it runs); Prometheus
//! sums them over hubs. Histograms are in seconds, with buckets from a millisecond to a
//! minute.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// The process's recorder, installed on first use (a test process that starts several
/// hubs shares one).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        const BUCKETS: [f64; 16] =
            [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
            .map(PrometheusBuilder::build_recorder);
        match recorder {
            Ok(recorder) => {
                let handle = recorder.handle();
                if metrics::set_global_recorder(recorder).is_err() {
                    tracing::warn!("another metrics recorder is installed; /metrics reports nothing");
                }
                describe();
                handle
            }
            Err(e) => {
                tracing::warn!("the metrics recorder cannot be built: {e}");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Installs the recorder (idempotent): a hub calls it at start, so its first scrape
/// already lists every metric it has touched.
pub fn install() {
    handle();
}

/// The Prometheus text exposition of everything recorded in this process.
pub fn render() -> String {
    let h = handle();
    h.run_upkeep();
    h.render()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(REQUESTS, "HTTP requests answered, by route, method and status.");
    describe_histogram!(REQUEST_SECONDS, Unit::Seconds, "Time to answer an HTTP request, by route and method.");
    describe_counter!(INGESTED, "Customer messages taken in, by channel and outcome (stored, duplicate).");
    describe_counter!(DELIVERIES, "Replies handed to providers, by channel and outcome (sent, retry, failed).");
    describe_counter!(CRM_ERRORS, "CRM calls that failed, by kind of CRM.");
    describe_histogram!(FEED_LAG, Unit::Seconds, "Time from a change's commit (on any hub) to this hub's fan-out.");
    describe_gauge!(STREAMS, "Agents' change streams open on this hub.");
    describe_gauge!(SOCKETS, "Web-chat visitors' sockets open on this hub.");
    describe_histogram!(DB_WAIT, Unit::Seconds, "Time a database job waited for a connection thread, by pool.");
    describe_counter!(DB_REFUSED, "Database jobs refused because their queue was full, by pool.");
    describe_gauge!(QUEUE, "Work waiting in the database, by queue (read at the last scrape).");
    describe_gauge!(DRAINING, "1 while this hub drains before it stops.");
}

pub const REQUESTS: &str = "switchboard_http_requests_total";
pub const REQUEST_SECONDS: &str = "switchboard_http_request_duration_seconds";
pub const INGESTED: &str = "switchboard_ingested_total";
pub const DELIVERIES: &str = "switchboard_deliveries_total";
pub const CRM_ERRORS: &str = "switchboard_crm_errors_total";
pub const FEED_LAG: &str = "switchboard_feed_lag_seconds";
pub const STREAMS: &str = "switchboard_open_streams";
pub const SOCKETS: &str = "switchboard_visitor_sockets";
pub const DB_WAIT: &str = "switchboard_db_wait_seconds";
pub const DB_REFUSED: &str = "switchboard_db_refused_total";
pub const QUEUE: &str = "switchboard_queue_depth";
pub const DRAINING: &str = "switchboard_draining";

/// An HTTP request answered: `route` is the matched route's pattern
/// (`/api/v1/conversations/{id}/messages`), never the raw path, so ids make no new series.
pub fn request(route: &str, method: &str, status: u16, took: Duration) {
    let (route, method) = (route.to_owned(), method.to_owned());
    metrics::counter!(REQUESTS, "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(REQUEST_SECONDS, "route" => route, "method" => method).record(took.as_secs_f64());
}

/// A customer's message taken in on `channel`: stored, or a duplicate of one stored. (A
/// webhook refused for its signature is a `403` of its route in [`REQUESTS`].)
pub fn ingested(channel: &'static str, duplicate: bool) {
    let outcome = if duplicate { "duplicate" } else { "stored" };
    metrics::counter!(INGESTED, "channel" => channel, "outcome" => outcome).increment(1);
}

/// What became of one hand-over to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Failed, to be tried again.
    Retry,
    /// Failed for good.
    Failed,
}

pub fn delivered(channel: &'static str, outcome: Delivery) {
    let outcome = match outcome {
        Delivery::Sent => "sent",
        Delivery::Retry => "retry",
        Delivery::Failed => "failed",
    };
    metrics::counter!(DELIVERIES, "channel" => channel, "outcome" => outcome).increment(1);
}

/// A CRM call that failed (`crm`: hubspot, salesforce, sql, http).
pub fn crm_error(crm: &'static str) {
    metrics::counter!(CRM_ERRORS, "crm" => crm).increment(1);
}

/// A change read by this hub's fan-out `lag` after its commit.
pub fn feed_lag(lag: Duration) {
    metrics::histogram!(FEED_LAG).record(lag.as_secs_f64());
}

/// A gauge of things open on this hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    Streams,
    Sockets,
}

impl Open {
    fn name(self) -> &'static str {
        match self {
            Open::Streams => STREAMS,
            Open::Sockets => SOCKETS,
        }
    }
}

/// One more (`delta` 1) or one fewer (-1) open.
pub fn opened(what: Open, delta: f64) {
    metrics::gauge!(what.name()).increment(delta);
}

/// A database job waited `waited` for a connection thread of `pool` (read or write).
pub fn db_wait(pool: &'static str, waited: Duration) {
    metrics::histogram!(DB_WAIT, "pool" => pool).record(waited.as_secs_f64());
}

/// A database job refused: the queue of `pool` was full.
pub fn db_refused(pool: &'static str) {
    metrics::counter!(DB_REFUSED, "pool" => pool).increment(1);
}

/// How much work waits in `queue`.
pub fn queue_depth(queue: &'static str, depth: i64) {
    metrics::gauge!(QUEUE, "queue" => queue).set(depth as f64);
}

/// Whether this hub drains.
pub fn draining(on: bool) {
    metrics::gauge!(DRAINING).set(if on { 1.0 } else { 0.0 });
}
