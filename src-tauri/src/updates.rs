//! Console updates: the release server is asked shortly after start and every few hours; a
//! newer release is downloaded and its signature verified in the background, then kept until
//! the agent chooses to restart. A package whose signature does not verify against the
//! release key built into the app is refused and dropped, never installed.
//!
//! Where to ask and which key to trust come from the build's `plugins.updater` settings
//! (`tauri.conf.json`, filled in by the release workflow); a build without a release server
//! never asks.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;
use switchboard_protocol::console::{ShellEvent, UpdateReady};
use switchboard_protocol::{ApiError, ErrorCode};
use tauri::{AppHandle, Manager};
use tauri_plugin_updater::{Update, Updater, UpdaterExt};

/// How long after start the first check waits, so start-up has the machine to itself.
pub const FIRST_CHECK_AFTER: Duration = Duration::from_secs(60);
/// How often a running console asks again.
pub const CHECK_EVERY: Duration = Duration::from_secs(6 * 3600);
/// The longest one request to the release server may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Why an update did not arrive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("the release server could not be asked: {0}")]
    Check(String),
    #[error("the update could not be downloaded: {0}")]
    Download(String),
    /// The package is not the one the release key signed (tampered, truncated, or signed
    /// for another version): it is dropped.
    #[error("the update was refused: its signature does not verify ({0})")]
    Refused(String),
    #[error("the update could not be installed: {0}")]
    Install(String),
}

impl From<UpdateError> for ApiError {
    fn from(e: UpdateError) -> ApiError {
        ApiError::new(ErrorCode::Unavailable, e.to_string())
    }
}

/// Whether a download failed on its signature rather than on the way.
fn refused(e: &tauri_plugin_updater::Error) -> bool {
    use tauri_plugin_updater::Error as E;
    matches!(
        e,
        E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) | E::SignedVersionMismatch { .. } | E::MissingSignedVersion
    )
}

/// A verified package waiting for the agent to restart.
pub struct Ready {
    update: Update,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ready").field("version", &self.update.version).field("bytes", &self.bytes.len()).finish()
    }
}

impl Ready {
    /// What the window is told about it.
    pub fn announce(&self) -> UpdateReady {
        UpdateReady {
            version: self.update.version.clone(),
            current_version: self.update.current_version.clone(),
            notes: self.update.body.clone().filter(|n| !n.trim().is_empty()),
        }
    }

    /// The verified package.
    pub fn package(&self) -> &[u8] {
        &self.bytes
    }
}

/// Asks the release server once: `None` when nothing newer is published; a newer release
/// downloaded and verified otherwise.
pub async fn fetch(updater: &Updater) -> Result<Option<Ready>, UpdateError> {
    let Some(update) = updater.check().await.map_err(|e| UpdateError::Check(e.to_string()))? else {
        return Ok(None);
    };
    match update.download(|_, _| {}, || {}).await {
        Ok(bytes) => Ok(Some(Ready { update, bytes })),
        Err(e) if refused(&e) => Err(UpdateError::Refused(e.to_string())),
        Err(e) => Err(UpdateError::Download(e.to_string())),
    }
}

/// The release downloaded and waiting, if any.
#[derive(Debug, Default)]
pub struct Updates {
    ready: Mutex<Option<Ready>>,
}

impl Updates {
    /// What waits for a restart, for a window that opened after it was announced.
    pub fn pending(&self) -> Option<UpdateReady> {
        self.ready.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(Ready::announce)
    }

    fn keep(&self, ready: Ready) -> UpdateReady {
        let announced = ready.announce();
        *self.ready.lock().unwrap_or_else(PoisonError::into_inner) = Some(ready);
        announced
    }

    fn take(&self) -> Option<Ready> {
        self.ready.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// Starts asking the release server in the background, when the build names one.
pub fn start(app: &AppHandle) {
    let updater = match app.updater_builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(u) => u,
        Err(tauri_plugin_updater::Error::EmptyEndpoints) => {
            tracing::info!("this build names no release server: updates are not checked");
            return;
        }
        Err(e) => {
            tracing::warn!("updates are not checked: {e}");
            return;
        }
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(FIRST_CHECK_AFTER).await;
        loop {
            match fetch(&updater).await {
                Ok(Some(ready)) => {
                    tracing::info!("version {} is downloaded and verified", ready.update.version);
                    let announced = app.state::<Updates>().keep(ready);
                    crate::desktop::shell_event(&app, &ShellEvent::UpdateReady(announced));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("{e}"),
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
}

/// Installs the waiting release and restarts into it: the agent chose to. Nothing waiting
/// is an error the window shows; so is a failed install, after which the running version
/// carries on.
pub fn restart_into_update(app: &AppHandle) -> Result<(), ApiError> {
    let updates = app.state::<Updates>();
    let Some(ready) = updates.take() else {
        return Err(ApiError::new(ErrorCode::NotFound, "no update is waiting"));
    };
    if let Err(e) = ready.update.install(&ready.bytes) {
        let why = if refused(&e) { UpdateError::Refused(e.to_string()) } else { UpdateError::Install(e.to_string()) };
        return Err(why.into());
    }
    app.restart()
}
