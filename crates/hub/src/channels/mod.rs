//! Channels as they are on the wire: each provider's webhook payloads, signatures and send
//! API, and the delivery worker that hands replies out. Parsers are pure functions from the
//! provider's documented wire format to [`Event`]s; the routes in [`crate::api`] verify,
//! parse, and hand events to the store.
//!
//! # Layout
//! - [`settings`]: an inbox's provider settings (credentials, base URLs).
//! - [`signature`]: the providers' signature algorithms, compared in constant time.
//! - [`twilio`]: SMS/MMS webhooks, status callbacks, the Messages API.
//! - [`meta`]: WhatsApp Cloud API, Messenger and Instagram webhooks and send APIs.
//! - [`email`]: inbound RFC 5322 and SMTP replies.
//! - [`deliver`]: the worker that hands queued replies to providers, with retries.
//! - [`bulk`]: the campaign sender: one hub per inbox, at the provider's rate.
//! - [`media`]: customers' media fetched from their provider for agents, with the inbox's
//!   credentials and never the agent's.
//! - [`webchat`]: web chat and in-app chat: chat settings, visitor tokens, verified users,
//!   and who a visit starts as.
//!
//! The HTTP routes that receive webhooks and serve visitors are [`crate::api`]'s.

pub mod bot_hook;
pub mod bulk;
pub mod deliver;
pub mod email;
pub mod email_fallback;
pub mod keep_media;
pub mod links;
pub mod media;
pub mod meta;
pub mod settings;
pub mod signature;
pub mod twilio;
pub mod webchat;

use crate::store::ingest::Inbound;
use switchboard_protocol::model::Delivery;
use switchboard_protocol::Timestamp;

/// What a webhook told us.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A customer's message (`inbox_id` is filled in by the handler).
    Message(Inbound),
    /// A delivery report for a message we sent, by the provider's id for it, and the
    /// reference the hub gave the send when the provider echoes it back.
    Status { provider_id: String, delivery: Delivery, error: Option<String>, reference: Option<String> },
    /// Everything sent to `customer` up to `watermark` was read (Messenger).
    ReadUpTo { customer: String, watermark: Timestamp },
    /// Delivered up to `watermark` (Messenger delivery events without message ids).
    DeliveredUpTo { customer: String, watermark: Timestamp },
}

/// Why a provider's webhook payload is not what the provider documents. The text is the
/// message of the `400 bad_request` the provider gets back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A part the provider always sends is absent: `what` lacks `part`.
    #[error("{what} has no {part}")]
    Missing { what: &'static str, part: &'static str },
    #[error("{0} is not a list")]
    NotAList(&'static str),
    #[error("NumMedia `{0}` is not a number")]
    MediaCountNotANumber(String),
    #[error("NumMedia {0} is more than Twilio sends")]
    TooManyMedia(usize),
    #[error("MediaUrl{0} is missing")]
    MissingMediaUrl(usize),
    #[error("not a WhatsApp Business Account webhook")]
    NotWhatsapp,
    /// A Meta webhook for another product than the inbox's (`page`, `instagram`).
    #[error("not a `{0}` webhook")]
    WrongObject(&'static str),
    #[error("a read event names neither a watermark nor a message")]
    ReadWithoutTarget,
    #[error("the message is not RFC 5322")]
    NotRfc5322,
}

/// `what` has no `part`.
const fn missing(what: &'static str, part: &'static str) -> ParseError {
    ParseError::Missing { what, part }
}

/// Why a provider call failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The provider did not take the message (unreachable, 429): try again later.
    Retry(String),
    /// The provider may have taken it: the call timed out or broke once sent, or the
    /// provider answered 5xx. Replies are tried again; a campaign send waits for the
    /// provider's report of it first, so nobody gets it twice.
    Unsure(String),
    /// The provider refused it for good; the reason is shown to agents.
    Final(String),
}

impl SendError {
    /// A transport failure: the request never left (a connection refused) or it may have
    /// reached the provider (a timeout, a connection broken mid-way).
    pub fn transport(e: &reqwest::Error, reason: String) -> SendError {
        if e.is_connect() {
            SendError::Retry(reason)
        } else {
            SendError::Unsure(reason)
        }
    }

    /// What the provider said, whatever the kind.
    pub fn reason(&self) -> &str {
        match self {
            SendError::Retry(r) | SendError::Unsure(r) | SendError::Final(r) => r,
        }
    }

    /// Classifies an HTTP answer that was not a success.
    pub fn from_status(status: u16, reason: String) -> SendError {
        if status == 429 {
            SendError::Retry(reason)
        } else if status >= 500 {
            SendError::Unsure(reason)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Providers (and their logs) have always read these texts.
    #[test]
    fn parse_errors_read_as_before() {
        let cases = [
            (missing("the webhook", "From"), "the webhook has no From"),
            (missing("a message", "`id`"), "a message has no `id`"),
            (ParseError::NotAList("contacts"), "contacts is not a list"),
            (ParseError::MediaCountNotANumber("x".into()), "NumMedia `x` is not a number"),
            (ParseError::TooManyMedia(99), "NumMedia 99 is more than Twilio sends"),
            (ParseError::MissingMediaUrl(0), "MediaUrl0 is missing"),
            (ParseError::NotWhatsapp, "not a WhatsApp Business Account webhook"),
            (ParseError::WrongObject("page"), "not a `page` webhook"),
            (ParseError::ReadWithoutTarget, "a read event names neither a watermark nor a message"),
            (ParseError::NotRfc5322, "the message is not RFC 5322"),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }
}
