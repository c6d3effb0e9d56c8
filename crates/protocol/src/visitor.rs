//! The visitor API under `/chat/v1`: what the web-chat widget and a business's own app
//! (in-app chat) speak to the hub. A visitor holds a token for one inbox; with it they
//! write, read their thread across visits, leave an email, and receive replies live.

use crate::model::Attachment;
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// `POST /chat/v1/sessions`: start a visit, or resume one with the token kept from before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartVisit {
    /// The inbox's address (the widget's `data-inbox`).
    pub inbox: String,
    /// The token from an earlier visit; an unknown or revoked one starts a new visitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// A user the business's own app has signed in (required by inboxes that set an
    /// `identity_secret`): the same user gets one thread on every device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<VerifiedUser>,
}

/// A signed-in user of the business's app. `hash` is the lowercase hex HMAC-SHA256 of `id`
/// keyed with the inbox's identity secret, computed by the business's server. `email` is
/// taken as the user's only with `email_hash`, the HMAC-SHA256 of the email as sent under
/// the same secret; without it the email is kept as an unverified claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifiedUser {
    pub id: String,
    pub hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_hash: Option<String>,
}

/// The answer to [`StartVisit`]: the token to keep and the thread so far (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Visit {
    /// Send as `Authorization: Bearer <token>`, or `?token=` on the socket.
    pub token: String,
    /// Whether this visit resumed an earlier visitor's thread.
    pub resumed: bool,
    pub inbox_name: String,
    /// The email the visitor left, if any (vouched for by the app, or else as typed).
    pub email: Option<String>,
    pub name: Option<String>,
    pub messages: Vec<VisitorMessage>,
    /// More, older messages exist (`GET /chat/v1/messages?before=`).
    pub has_more: bool,
    /// Replies the visitor has not seen in time go to the email they leave: the chat may
    /// promise it.
    #[serde(default)]
    pub email_fallback: bool,
}

/// Who wrote a line, as a visitor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Visitor,
    Agent,
    /// The inbox's bot; `agent_name` is the bot's name.
    Bot,
}

/// One line of the visitor's thread. Notes and system lines are never shown to visitors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorMessage {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub author: Author,
    /// The agent's display name, for agents' replies; the bot's, for the bot's.
    pub agent_name: Option<String>,
    /// Plain text, never HTML.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// The visitor's own id for a message they wrote.
    pub client_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub at: Timestamp,
    /// A satisfaction survey: the widget offers buttons from 1 to 5
    /// (`POST /chat/v1/rating`).
    #[serde(default)]
    pub survey: bool,
    /// Choices offered with an agent's line: answer with `choice` in `POST /chat/v1/messages`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<crate::model::Choices>,
    /// The visitor's answer to choices, on their own line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<crate::model::Chosen>,
}

/// `POST /chat/v1/rating`: the visitor's answer to a survey line of their thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitorRating {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub message_id: Id,
    /// 1 (poor) to 5 (great).
    pub score: u8,
}

/// `POST /chat/v1/messages`. `client_id` makes the send idempotent: repeating it returns
/// the message already stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitorSend {
    pub client_id: String,
    /// May be empty when `files` names at least one file.
    pub text: String,
    /// Files uploaded first (`POST /chat/v1/files`), by the `url` each upload answered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The visitor tapped one of the choices an agent's line offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<VisitorChoice>,
}

/// A choice tapped: which line offered it, and which option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitorChoice {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub message_id: Id,
    pub id: String,
}

/// `GET /chat/v1/messages?before=ID&limit=N`: older lines, newest last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorHistory {
    pub messages: Vec<VisitorMessage>,
    pub has_more: bool,
}

/// `POST /chat/v1/profile`: the visitor leaves their email (and name). The hub joins
/// them to the customer with that email, so agents see one history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitorProfile {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `POST /chat/v1/read`: the visitor has seen the thread up to `message_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitorRead {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub message_id: Id,
}

/// What `GET /chat/v1/socket?token=` pushes, one JSON text frame each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorFrame {
    /// A new line in the thread (an agent's reply, or the visitor's own message sent from
    /// another tab or device). Apply by `id`: a line may arrive twice.
    Message { message: VisitorMessage },
    /// Sent while idle so that proxies keep the socket open.
    Heartbeat {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        at: Timestamp,
    },
}

/// `GET /chat/v1/articles?q=`: published articles matching what the visitor is typing,
/// best first (at most 5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VisitorArticles {
    pub articles: Vec<crate::articles::ArticleHit>,
}

/// `POST /chat/v1/deflections`: the article answered the visitor's question, so they did
/// not start a conversation. Counted once per visitor and article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VisitorDeflection {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub article_id: Id,
}
