//! Channels: provider webhooks in (each verified before anything is stored) and the
//! delivery worker out. Parsers are pure functions from the provider's documented wire
//! format to [`Event`]s; handlers verify, parse, and hand events to the store.
//!
//! # Layout
//! - [`settings`]: an inbox's provider settings (credentials, base URLs).
//! - [`signature`]: the providers' signature algorithms, compared in constant time.
//! - [`twilio`]: SMS/MMS webhooks, status callbacks, the Messages API.
//! - [`meta`]: WhatsApp Cloud API, Messenger and Instagram webhooks and send APIs.
//! - [`email`]: inbound RFC 5322 and SMTP replies.
//! - [`deliver`]: the worker that hands queued replies to providers, with retries.
//! - [`webhooks`]: the HTTP routes under `/webhooks`.
//! - [`widget`]: web chat and in-app chat: the widget, the visitor API and its socket.

pub mod deliver;
pub mod email;
pub mod meta;
pub mod settings;
pub mod signature;
pub mod twilio;
pub mod webhooks;
pub mod widget;

use crate::store::ingest::Inbound;
use switchboard_protocol::model::Delivery;
use switchboard_protocol::Timestamp;

/// What a webhook told us.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A customer's message (`inbox_id` is filled in by the handler).
    Message(Inbound),
    /// A delivery report for a message we sent, by the provider's id for it.
    Status { provider_id: String, delivery: Delivery, error: Option<String> },
    /// Everything sent to `customer` up to `watermark` was read (Messenger).
    ReadUpTo { customer: String, watermark: Timestamp },
    /// Delivered up to `watermark` (Messenger delivery events without message ids).
    DeliveredUpTo { customer: String, watermark: Timestamp },
}

/// Why a provider call failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The provider did not take the message (unreachable, 429, 5xx): try again later.
    Retry(String),
    /// The provider refused it for good; the reason is shown to agents.
    Final(String),
}

impl SendError {
    /// Classifies an HTTP answer that was not a success.
    pub fn from_status(status: u16, reason: String) -> SendError {
        if status == 429 || status >= 500 {
            SendError::Retry(reason)
        } else {
            SendError::Final(reason)
        }
    }
}

/// A file name for an attachment that has none, from its type.
pub fn attachment_name(kind: &str, mime: &str, n: usize) -> String {
    let ext = mime
        .split('/')
        .nth(1)
        .map(|s| s.split(';').next().unwrap_or(s).trim())
        .filter(|s| !s.is_empty())
        .unwrap_or("bin");
    let ext = match ext {
        "jpeg" => "jpg",
        "quicktime" => "mov",
        "mpeg" => "mp3",
        "plain" => "txt",
        other => other,
    };
    format!("{kind}-{n}.{ext}")
}
