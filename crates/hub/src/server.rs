//! A hub process at work: the HTTP edge ([`crate::api`]) on a listener and the background
//! [`crate::workers`], started together and stopped together when `shutdown` completes:
//! the hub drains first (`/readyz` answers `503` for `drain_ms` while it still serves, so a
//! load balancer moves new work away), then open streams close (their consoles reconnect
//! through the load balancer to another hub), the HTTP edge finishes what it answers, and
//! the workers finish the sends in flight within their deadline.

use crate::api::{self, AppState};
use crate::workers::Workers;
use std::future::Future;

/// Serves `state` on `listener`, with the workers running, until `shutdown` completes.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let workers = Workers::start(&state.store, &state.config, &state.storage);
    let draining = state.draining.clone();
    let drain = std::time::Duration::from_millis(state.config.drain_ms);
    let shutdown = async move {
        shutdown.await;
        draining.send_replace(true);
        crate::metrics::draining(true);
        if !drain.is_zero() {
            tracing::info!("draining for {} ms before streams close", drain.as_millis());
            tokio::time::sleep(drain).await;
        }
    };
    let (consoles, store) = (state.consoles.clone(), state.store.clone());
    let result = api::serve(listener, state, shutdown).await;
    // The consoles that went as the hub stopped start their grace period now.
    if let Err(e) = consoles.record(&store, false).await {
        tracing::warn!("the consoles that went cannot be recorded: {e}");
    }
    workers.stop().await;
    result
}
