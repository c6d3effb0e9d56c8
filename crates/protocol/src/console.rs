//! What the console's core hands its front end: rows of the inbox views, thread lines with
//! their outbox state, a customer's unified history, search hits, sync progress, the
//! connection state and notifications. All of it is answered from the local cache.

use crate::error::ApiError;
use crate::model::{Attachment, ChannelKind, Contact, ConversationStatus, Delivery, Direction};
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// The inbox views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Open conversations assigned to me.
    Mine,
    /// Open conversations nobody has, in my teams' inboxes.
    Unassigned,
    /// Open conversations of my teams, whoever has them.
    MyTeams,
    /// Every open conversation the agent can see (leads and admins).
    All,
    /// Conversations whose customer waits on us, longest first.
    Waiting,
    /// Pending, snoozed and resolved conversations of my teams, latest first.
    Closed,
}

impl View {
    pub const ALL: [View; 6] = [View::Mine, View::Unassigned, View::MyTeams, View::All, View::Waiting, View::Closed];
}

/// How many conversations a view holds, and how many of those have unread lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewCount {
    pub view: View,
    pub total: u64,
    pub unread: u64,
}

/// One row of an inbox view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationRow {
    pub id: Id,
    pub contact_id: Id,
    pub contact_name: String,
    pub channel: ChannelKind,
    /// The customer's address replies go to on this channel.
    pub customer_address: String,
    pub inbox_id: Id,
    pub status: ConversationStatus,
    pub assignee_id: Option<Id>,
    pub team_id: Id,
    pub preview: String,
    pub waiting_since: Option<Timestamp>,
    pub last_activity_at: Timestamp,
    pub snoozed_until: Option<Timestamp>,
    pub reply_window_expires_at: Option<Timestamp>,
    pub unread: bool,
    pub version: i64,
}

/// Where an outbox item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent (or being sent).
    Pending,
    /// The hub took it; the feed's echo has not arrived yet.
    Acknowledged,
    /// Failed past its retries, or refused: the agent retries or discards it.
    Stuck,
    /// Someone else changed the conversation first.
    Conflict,
}

/// A mutation the console has not finished with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// The local id, for retry and discard.
    pub id: Id,
    pub name: String,
    pub conversation_id: Option<Id>,
    pub client_msg_id: Option<String>,
    pub state: OutboxState,
    pub attempts: u32,
    /// Why it is stuck (the hub's `{code, message}`, or the network's reason).
    pub error: Option<ApiError>,
    /// For a conflict: the agent whose change won, and the conversation's current owner.
    pub conflict: Option<ConflictInfo>,
    pub created_at: Timestamp,
}

/// Who won a conflicting change, for the agent who lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictInfo {
    pub conversation_id: Id,
    pub changed_by: Option<Id>,
    pub changed_by_name: Option<String>,
    pub assignee_id: Option<Id>,
    pub assignee_name: Option<String>,
    pub team_id: Id,
    pub status: ConversationStatus,
}

/// One line of a thread or of a customer's history, stored or still in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadLine {
    /// The hub's id; `None` while the line is only in the outbox.
    pub id: Option<Id>,
    pub conversation_id: Id,
    pub channel: ChannelKind,
    pub direction: Direction,
    pub author_agent_id: Option<Id>,
    pub author_name: Option<String>,
    pub body: String,
    pub subject: Option<String>,
    pub attachments: Vec<Attachment>,
    pub client_msg_id: Option<String>,
    pub delivery: Option<Delivery>,
    pub delivery_error: Option<String>,
    /// Set for lines still in the outbox.
    pub outbox: Option<OutboxLine>,
    pub created_at: Timestamp,
}

/// The outbox side of a line not yet stored by the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxLine {
    pub id: Id,
    pub state: OutboxState,
    pub error: Option<String>,
}

/// A page of a conversation's thread, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub conversation: ConversationRow,
    pub lines: Vec<ThreadLine>,
    /// Older lines exist in the cache or on the hub (`load_older`).
    pub has_older: bool,
}

/// Every line of every conversation of one customer, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub contact_id: Id,
    pub lines: Vec<ThreadLine>,
    pub has_older: bool,
}

/// The customer beside a thread: identities, profile, CRM fields with when they were
/// fetched, and their conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub contact: Contact,
    pub conversations: Vec<ConversationRow>,
}

/// Search filters; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    pub text: String,
    pub channel: Option<ChannelKind>,
    pub status: Option<ConversationStatus>,
    /// `Some(None)` means unassigned.
    pub assignee_id: Option<Option<Id>>,
    pub after: Option<Timestamp>,
    pub before: Option<Timestamp>,
    pub limit: Option<u32>,
}

/// A message that matched: a snippet of its text (plain, `…` where it was cut) and the
/// byte ranges of the matching words within the snippet, for highlighting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub message_id: Id,
    pub conversation_id: Id,
    pub contact_id: Id,
    pub contact_name: String,
    pub channel: ChannelKind,
    pub direction: Direction,
    pub snippet: String,
    pub highlights: Vec<(u32, u32)>,
    pub created_at: Timestamp,
}

/// The link to the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    Online,
    Connecting {
        attempt: u32,
    },
    Offline {
        since: Timestamp,
        reason: String,
        retry_at: Timestamp,
    },
    /// The hub refused the session: sign in again.
    SignedOut {
        reason: String,
    },
}

/// Progress of a first sync (or a re-sync after the feed expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub done: u64,
    pub total: u64,
    pub finished: bool,
}

/// A desktop notification the core decided to raise; the shell only shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// A waiting customer replied.
    Reply { conversation_id: Id, message_id: Id, contact_name: String, channel: ChannelKind, text: String },
    /// Several customers replied while the console was away: one line, not a flood.
    Summary { customers: u32, messages: u32, text: String },
}

/// What the core tells its front end, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConsoleEvent {
    Connection {
        connection: Connection,
    },
    Progress {
        progress: SyncProgress,
    },
    /// Cached data changed: views showing these should be read again. `everything` after a
    /// bootstrap.
    Changed {
        conversations: Vec<Id>,
        contacts: Vec<Id>,
        directory: bool,
        everything: bool,
    },
    Notify {
        notification: Notification,
    },
    /// An outbox item needs the agent: it is stuck, or lost a conflict.
    Outbox {
        item: OutboxItem,
    },
}
