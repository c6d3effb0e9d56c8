//! The demo hub embedded in another program (the desktop app's "Try the local demo"):
//! served on a loopback port with its simulator, both stopped when it is dropped.

use super::simulator::simulate;
use super::workspace::{open_seeded, DemoError};
use crate::clock::now_ms;
use std::time::Duration;

/// A demo hub serving on loopback inside another program (the desktop app's "Try the
/// local demo"), with its customer simulator. Dropping it stops both.
#[derive(Debug)]
pub struct EmbeddedDemo {
    /// The hub's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    simulator: tokio::task::JoinHandle<()>,
}

impl EmbeddedDemo {
    /// Starts the demo hub on the SQLite file `database` (seeded on first use), on a free
    /// loopback port; a simulated customer writes every `every`.
    pub async fn start(database: &std::path::Path, every: Duration) -> Result<EmbeddedDemo, DemoError> {
        if let Some(dir) = database.parent() {
            std::fs::create_dir_all(dir).map_err(|source| DemoError::File { path: dir.to_owned(), source })?;
        }
        let config = crate::config::Config {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: format!("sqlite://{}", database.display()),
            report_time_zone: super::TIME_ZONE.into(),
            ..crate::config::Config::default()
        };
        let (store, _) = open_seeded(&config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(DemoError::Listen)?;
        let url = format!("http://{}", listener.local_addr().map_err(DemoError::Listen)?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // Its help centre is where it listens: the bot links articles there.
        let config = crate::config::Config { public_url: Some(url.clone()), ..config };
        let state = crate::api::AppState::new(store.clone(), config);
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = crate::server::run(listener, state, shutdown).await {
                tracing::error!("the embedded demo hub stopped: {e}");
            }
        });
        let simulator = tokio::spawn(simulate(store, every, now_ms().unsigned_abs()));
        Ok(EmbeddedDemo { url, stop: Some(stop), simulator })
    }
}

impl Drop for EmbeddedDemo {
    fn drop(&mut self) {
        self.simulator.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
