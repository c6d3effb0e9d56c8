//! A notification server on the test's private session bus: it owns
//! `org.freedesktop.Notifications`, as a desktop's notification daemon does, and records
//! every `Notify` call the app makes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zbus::OwnedVariant;

/// One notification as the app sent it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    pub actions: Vec<String>,
    /// The names of the hints it carried (`sound-name`, `suppress-sound`, `category`...).
    pub hints: Vec<String>,
    /// When the daemon received it.
    #[allow(dead_code)]
    pub at: Instant,
}

#[derive(Debug, Clone, Default)]
struct Daemon {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Daemon {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        hints: std::collections::HashMap<String, OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut hints: Vec<String> = hints.into_keys().collect();
        hints.sort();
        shown.push(Shown { app_name, summary, body, actions, hints, at: Instant::now() });
        u32::try_from(shown.len()).unwrap_or(u32::MAX)
    }

    fn close_notification(&self, _id: u32) {}

    fn get_capabilities(&self) -> Vec<String> {
        vec!["actions".into(), "body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("switchboard-test".into(), "switchboard".into(), "1.0".into(), "1.2".into())
    }
}

/// The server; it keeps the bus name while it lives.
pub struct Notifications {
    shown: Arc<Mutex<Vec<Shown>>>,
    _connection: zbus::Connection,
}

impl Notifications {
    /// Owns `org.freedesktop.Notifications` on the session bus (`DBUS_SESSION_BUS_ADDRESS`).
    pub async fn serve() -> Notifications {
        let daemon = Daemon::default();
        let shown = daemon.shown.clone();
        let connection = zbus::connection::Builder::session()
            .name("org.freedesktop.Notifications")
            .serve_at("/org/freedesktop/Notifications", daemon)
            .build()
            .await
            .expect("owning org.freedesktop.Notifications on the session bus");
        Notifications { shown, _connection: connection }
    }

    pub fn shown(&self) -> Vec<Shown> {
        self.shown.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Waits up to `timeout` for a notification whose summary or body contains `text`.
    pub async fn wait_for(&self, text: &str, timeout: Duration) -> Option<Shown> {
        let until = Instant::now() + timeout;
        loop {
            if let Some(n) = self.shown().into_iter().find(|n| n.summary.contains(text) || n.body.contains(text)) {
                return Some(n);
            }
            if Instant::now() > until {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
