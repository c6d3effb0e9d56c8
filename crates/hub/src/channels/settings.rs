//! An inbox's provider settings: credentials and endpoints, kept in the hub only.

use super::SendError;
use serde::Deserialize;

/// Why an inbox's settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    #[error("the inbox settings are invalid: {0}")]
    Invalid(#[source] serde_json::Error),
    /// A setting the channel needs is absent or empty.
    #[error("the inbox has no `{0}` setting")]
    Missing(&'static str),
}

/// A send cannot succeed until an admin fixes the inbox: it fails for good, with the reason.
impl From<SettingsError> for SendError {
    fn from(e: SettingsError) -> Self {
        SendError::Final(e.to_string())
    }
}

/// Every key any channel uses; each channel reads the ones it needs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `"simulated"` makes the delivery worker act as the provider (the demo workspace).
    pub delivery: Option<String>,
    /// Provider API base URL, e.g. `https://api.twilio.com` or `https://graph.facebook.com/v21.0`.
    pub base_url: Option<String>,
    // Twilio
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
    /// The exact URL Twilio calls for this inbox, if it differs from the hub's `public_url`.
    pub webhook_url: Option<String>,
    /// Where Twilio should send status callbacks for replies.
    pub status_callback_url: Option<String>,
    // Meta (WhatsApp, Messenger, Instagram)
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    pub access_token: Option<String>,
    /// WhatsApp: the phone number id; Messenger/Instagram: the page or account id. The inbox
    /// address when absent.
    pub sender_id: Option<String>,
    // Email
    pub inbound_secret: Option<String>,
    /// The authserv-id of the inbox's own mail server, whose `Authentication-Results`
    /// headers say whether a sender is verified (e.g. `mx.example.com`).
    pub authserv_id: Option<String>,
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// `none`, `starttls` or `tls`.
    pub smtp_tls: Option<String>,
    pub from_name: Option<String>,
}

impl Settings {
    pub fn from_json(v: &serde_json::Value) -> Result<Settings, SettingsError> {
        serde_json::from_value(v.clone()).map_err(SettingsError::Invalid)
    }

    pub fn simulated(&self) -> bool {
        self.delivery.as_deref() == Some("simulated")
    }

    /// A required setting, or a message naming it.
    pub fn need<'a>(&self, value: &'a Option<String>, name: &'static str) -> Result<&'a str, SettingsError> {
        value.as_deref().filter(|v| !v.is_empty()).ok_or(SettingsError::Missing(name))
    }
}
