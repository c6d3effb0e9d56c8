//! The change feed: bootstrap snapshot, pages of changes, stream frames and cursors.
//!
//! A cursor is opaque to clients: they store the last one they applied and hand it back.

use crate::articles::Article;
use crate::error::ApiError;
use crate::model::{Agent, CannedResponse, Contact, Conversation, Inbox, Message, ReadMarker, Team};
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// A position in the change feed. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Cursor(pub String);

impl Cursor {
    /// The cursor that stands just after change `seq`.
    pub fn at(seq: i64) -> Self {
        Cursor(seq.to_string())
    }

    /// The change sequence number this cursor stands after, if it is well formed.
    pub fn seq(&self) -> Option<i64> {
        let s = self.0.as_str();
        if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    }
}

/// Why a conversation left an agent's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RemovalReason {
    /// It moved to a team the agent is not in.
    LeftScope,
}

/// One change to something the agent may see. Applying changes in feed order, upserting
/// only versions newer than the cached one, reproduces the hub's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    Conversation(Conversation),
    Message(Message),
    Contact(Contact),
    ReadMarker(ReadMarker),
    Agent(Agent),
    Team(Team),
    Inbox(Inbox),
    /// Drop the conversation and its messages from the cache.
    ConversationRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        id: Id,
        reason: RemovalReason,
    },
    /// The contact was merged into another; its conversations now belong to `merged_into`.
    ContactRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        id: Id,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
        merged_into: Option<Id>,
    },
    /// A canned response the agent has, new or changed.
    Canned(CannedResponse),
    /// The canned response was deleted, or is no longer the agent's to use.
    CannedRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        id: Id,
    },
    /// A knowledge-base article, new or changed.
    Article(Article),
    /// The article was deleted.
    ArticleRemoved {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        id: Id,
    },
    /// The agent's own notification preferences, changed on one of their consoles.
    Preferences(crate::preferences::NotificationPreferences),
    /// The agent's own teams or role changed: bootstrap again to see what is now in scope.
    ScopeChanged,
    /// A kind of change this client does not know (a newer hub's): skipped.
    #[serde(other)]
    Unknown,
}

/// A change and its place in the feed. `C` is [`Change`] for clients; the hub fills it
/// with the change's stored JSON so it never decodes what it only forwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeFrame<C = Change> {
    pub seq: i64,
    pub change: C,
}

/// `GET /api/v1/sync/changes` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangesPage<C = Change> {
    pub changes: Vec<ChangeFrame<C>>,
    /// Store this once the page is applied; ask again from it.
    pub next: Cursor,
    /// More changes are already waiting after `next`.
    pub has_more: bool,
}

/// `GET /api/v1/sync/bootstrap` answer: everything the agent may see, consistent with `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bootstrap {
    pub cursor: Cursor,
    pub me: Agent,
    pub agents: Vec<Agent>,
    pub teams: Vec<Team>,
    pub inboxes: Vec<Inbox>,
    pub contacts: Vec<Contact>,
    pub conversations: Vec<Conversation>,
    /// The latest messages of each conversation, oldest first; older ones come from
    /// `GET /api/v1/conversations/{id}/messages`.
    pub messages: Vec<Message>,
    pub read_markers: Vec<ReadMarker>,
    /// The shared canned responses and the agent's own.
    #[serde(default)]
    pub canned: Vec<CannedResponse>,
    /// The knowledge base, drafts included (agents see them marked; customers never do).
    #[serde(default)]
    pub articles: Vec<Article>,
    /// The hub's public address, under which customers read articles
    /// (`{public_url}/help/articles/{key}`); `None` when the hub has none configured, and the
    /// console uses the address it reaches the hub at.
    #[serde(default)]
    pub public_url: Option<String>,
    /// The agent's own notification preferences.
    #[serde(default)]
    pub preferences: crate::preferences::NotificationPreferences,
}

/// `GET /api/v1/conversations/{id}/messages` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagesPage {
    /// Oldest first.
    pub messages: Vec<Message>,
    /// Pass as `before` to get the page before this one; `None` at the start of the thread.
    pub before: Option<String>,
}

/// A frame on `GET /api/v1/stream` (WebSocket, JSON text frames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamFrame<C = Change> {
    /// Changes after the previous frame's cursor; apply, then store `cursor`.
    Changes { changes: Vec<ChangeFrame<C>>, cursor: Cursor },
    /// Nothing new; the connection is alive and the feed is at `cursor`.
    Heartbeat {
        cursor: Cursor,
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        at: Timestamp,
    },
    /// The stream cannot go on (for example `cursor_expired`); the socket closes after it.
    Error { error: ApiError },
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn a_change_this_client_does_not_know_is_read_as_unknown() {
        let newer: Change = serde_json::from_str(r#"{"type":"macro_added","id":3,"name":"x"}"#).unwrap();
        assert_eq!(newer, Change::Unknown);
        let known: Change = serde_json::from_str(r#"{"type":"canned_removed","id":3}"#).unwrap();
        assert_eq!(known, Change::CannedRemoved { id: 3 });
    }
}
