//! A hub process at work: the HTTP edge ([`crate::api`]) on a listener and the background
//! [`crate::workers`], started together and stopped together when `shutdown` completes
//! (open streams close first, so the graceful shutdown ends).

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
    let result = api::serve(listener, state, shutdown).await;
    workers.stop().await;
    result
}
