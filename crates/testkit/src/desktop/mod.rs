//! The desktop app as an agent uses it: [`app`] launches the real binary under
//! tauri-driver and drives its window; [`notifications`] owns the session bus's
//! notification service and records what the app shows.

pub mod app;
pub mod notifications;
