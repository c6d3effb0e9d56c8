//! What the HTTP edge tells an operator: every request's id, span, count and time by
//! route ([`track`]), Prometheus's scrape (`/metrics`), and whether this hub should be sent
//! work (`/readyz`: the database answers and the hub is not draining). `/healthz` only says
//! the process serves.

use super::{AppState, Failure};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};
use switchboard_protocol::{ApiError, ErrorCode};
use tracing::Instrument;

/// The header a request's id comes in (from a load balancer or a caller) and is echoed in.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long `/readyz` waits for the database.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// Gives the request its id ([`crate::trace::request_id`]), runs it inside a `request`
/// span and as part of that request (so database work it queues carries the id), echoes
/// the id, and counts and times the answer under the matched route.
pub async fn track(req: Request, next: axum::middleware::Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = req.method().as_str().to_owned();
    let id = crate::trace::request_id(req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()));
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut resp = crate::trace::within(id.clone(), next.run(req)).instrument(span).await;
    crate::metrics::request(&route, &method, resp.status().as_u16(), started.elapsed());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    resp
}

/// `GET /metrics`: the Prometheus text exposition, with the queues read from the database
/// first (a database that does not answer in time leaves the last reading).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "metrics",
    summary = "Prometheus metrics",
    description = "The hub's metrics in the Prometheus text exposition format (version 0.0.4): requests by route, \
        ingests and deliveries by channel, feed lag, open streams and sockets, database waits and refusals, queue \
        depths, CRM errors, draining. No token: serve it to the hubs' own network only, never through the public proxy.",
    responses((status = 200, description = "The metrics", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(s): State<AppState>) -> Response {
    match tokio::time::timeout(READY_WITHIN, s.store.queue_depths()).await {
        Ok(Ok(depths)) => {
            for (queue, depth) in depths {
                crate::metrics::queue_depth(queue, depth);
            }
        }
        Ok(Err(e)) => tracing::warn!("queue depths cannot be read for /metrics: {e}"),
        Err(_) => tracing::warn!("queue depths took too long to read for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], crate::metrics::render()).into_response()
}

/// `GET /readyz`: `200` while this hub should be sent work; `503 unavailable` while it
/// drains before stopping, or when its database has answered none of the hub's work in the
/// last two seconds and does not answer a ping within two more.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    operation_id = "readyz",
    summary = "Readiness check",
    description = "For load balancers: `200` with `{\"ready\": true}` while this hub should be sent work; `503 \
        unavailable` (with `Retry-After: 1`) while it drains before stopping, or when its database has answered none \
        of the hub's work in the last two seconds and does not answer a ping within two more.",
    responses(
        (status = 200, description = "Send this hub work", body = Object),
        (status = 503, description = "Draining, or the database does not answer", body = ApiError)
    )
)]
pub async fn ready(State(s): State<AppState>) -> Result<Response, Failure> {
    let unavailable = |why: &str| {
        let mut e = ApiError::new(ErrorCode::Unavailable, why);
        e.retry_after = Some(1);
        Failure(e)
    };
    if *s.draining.borrow() {
        return Err(unavailable("this hub is draining before it stops"));
    }
    // A database that answered the hub's own work a moment ago answers: asking again would
    // wait behind that work when the hub is busy.
    if s.store.answered_within(READY_WITHIN) {
        return Ok(axum::Json(serde_json::json!({ "ready": true })).into_response());
    }
    match tokio::time::timeout(READY_WITHIN, s.store.ping()).await {
        Ok(Ok(())) => Ok(axum::Json(serde_json::json!({ "ready": true })).into_response()),
        Ok(Err(e)) => {
            tracing::warn!("not ready: the database does not answer: {e}");
            Err(unavailable("the database does not answer"))
        }
        Err(_) => Err(unavailable("the database does not answer in time")),
    }
}
