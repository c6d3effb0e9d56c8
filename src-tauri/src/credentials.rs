//! The agent's token in the OS credential store (Secret Service, Keychain, Credential
//! Manager), never in a plain file. What the console remembers in its data folder is only
//! which hub and email to restore.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const SERVICE: &str = "app.switchboard.console";
const SESSION_FILE: &str = "session.json";

/// Which session to restore at start-up (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub hub: String,
    pub email: String,
    pub demo: bool,
}

fn entry(hub: &str, email: &str) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, &format!("{email}@{hub}"))
}

/// Stores the token; says why when the platform has no credential store to keep it in.
pub fn store_token(hub: &str, email: &str, token: &str) -> keyring::Result<()> {
    entry(hub, email).and_then(|e| e.set_password(token))
}

/// The stored token, if there is one.
pub fn token(hub: &str, email: &str) -> Option<String> {
    match entry(hub, email).and_then(|e| e.get_password()) {
        Ok(t) => Some(t),
        Err(keyring::Error::NoEntry) => None,
        Err(e) => {
            tracing::warn!("the credential store cannot be read: {e}");
            None
        }
    }
}

/// Forgets the token (signing out).
pub fn forget_token(hub: &str, email: &str) {
    if let Err(e) = entry(hub, email).and_then(|e| e.delete_credential()) {
        if !matches!(e, keyring::Error::NoEntry) {
            tracing::warn!("the credential store could not forget the token: {e}");
        }
    }
}

fn session_path(data: &Path) -> PathBuf {
    data.join(SESSION_FILE)
}

pub fn remembered(data: &Path) -> Option<Remembered> {
    let text = std::fs::read_to_string(session_path(data)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn remember(data: &Path, session: &Remembered) {
    let result = serde_json::to_vec_pretty(session)
        .map_err(std::io::Error::other)
        .and_then(|bytes| std::fs::write(session_path(data), bytes));
    if let Err(e) = result {
        tracing::warn!("the session could not be remembered: {e}");
    }
}

pub fn forget(data: &Path) {
    let _ = std::fs::remove_file(session_path(data));
}
