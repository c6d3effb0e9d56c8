//! The notifications API for business systems: a shop or billing system holding an API key
//! sends a customer an approved template (or, on email and SMS, a text) by phone number or
//! email address, idempotent by its own key, under the same rules agents' first messages
//! follow; and the keys as admins manage them.

use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/notify` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// The caller's own key for this message: sending again with it sends nothing more and
    /// answers what the first send made. 1 to 200 characters.
    pub idempotency_key: String,
    /// The inbox to send from; one the API key may use.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub inbox_id: Id,
    /// A phone number or an email address.
    pub to: String,
    /// The customer's name, for one the hub does not know yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email: the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The text (email, SMS); ignored with a template.
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
}

impl Notify {
    pub const MAX_KEY: usize = 200;
}

/// What a notification made: the conversation it started and its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notified {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub message_id: Id,
    /// Sent before with the same `idempotency_key`; nothing was sent now.
    pub duplicate: bool,
}

/// What a key may do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyScope {
    /// Send notifications (`POST /api/v1/notify`) from its inboxes.
    #[default]
    Notify,
    /// Answer as the bot of its inboxes (`POST /api/v1/bot/conversations/{id}/reply`), only
    /// in conversations the bot holds; nothing else.
    Bot,
}

impl KeyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyScope::Notify => "notify",
            KeyScope::Bot => "bot",
        }
    }

    pub fn parse(s: &str) -> Option<KeyScope> {
        match s {
            "notify" => Some(KeyScope::Notify),
            "bot" => Some(KeyScope::Bot),
            _ => None,
        }
    }
}

/// `POST /api/v1/admin/api_keys` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// Who uses it ("Shop", "Billing system"); 1 to 200 characters.
    pub name: String,
    /// The inboxes it may send from, or answer for as their bot (at least one).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub inbox_ids: Vec<Id>,
    #[serde(default)]
    pub scope: KeyScope,
}

/// An API key as admins see it; its secret is shown once, when it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub inbox_ids: Vec<Id>,
    #[serde(default)]
    pub scope: KeyScope,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub last_used_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub revoked_at: Option<Timestamp>,
}

/// A new key, with the token to give the business system (`sbk_<id>_<secret>`), shown
/// only now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub token: String,
}
