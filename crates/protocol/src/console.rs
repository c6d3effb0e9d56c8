//! What the console's core hands its front end: rows of the inbox views, thread lines with
//! their outbox state, a customer's unified history, search hits, sync progress, the
//! connection state and notifications. All of it is answered from the local cache.

use crate::error::ApiError;
use crate::model::{
    Agent, Attachment, CannedResponse, ChannelKind, Contact, ConversationStatus, Delivery, Direction, Inbox, Presence,
    Priority, Role, SlaState, Team, Template,
};
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// The inbox views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Unresolved conversations of mine or my teams whose response-time target is near or
    /// missed, the soonest due first.
    AtRisk,
    /// Conversations a bot is answering in my teams' inboxes (all of them for leads and
    /// admins), latest first: to watch, or to take over by replying or assigning.
    Bot,
}

impl View {
    pub const ALL: [View; 8] =
        [View::Mine, View::Unassigned, View::MyTeams, View::All, View::Waiting, View::AtRisk, View::Bot, View::Closed];
}

/// How many conversations a view holds, and how many of those have unread lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ViewCount {
    pub view: View,
    pub total: u64,
    pub unread: u64,
}

/// One row of an inbox view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationRow {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub contact_id: Id,
    pub contact_name: String,
    pub channel: ChannelKind,
    /// The customer's address replies go to on this channel.
    pub customer_address: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub inbox_id: Id,
    pub status: ConversationStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub assignee_id: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub team_id: Id,
    pub preview: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub waiting_since: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub last_activity_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub snoozed_until: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub reply_window_expires_at: Option<Timestamp>,
    pub unread: bool,
    #[serde(default)]
    pub priority: Priority,
    /// Its place in its team's queue (1 is next), while routing has not given it to anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
    /// Where it stands against its response-time targets.
    #[serde(default)]
    pub sla_state: SlaState,
    /// When its earliest running target is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub sla_due_at: Option<Timestamp>,
    /// The customer's satisfaction score (1 to 5) for its latest resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_score: Option<u8>,
    pub version: i64,
}

/// Where an outbox item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxItem {
    /// The local id, for retry and discard.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub conversation_id: Option<Id>,
    pub client_msg_id: Option<String>,
    pub state: OutboxState,
    pub attempts: u32,
    /// Why it is stuck (the hub's `{code, message}`, or the network's reason).
    pub error: Option<ApiError>,
    /// For a conflict: the agent whose change won, and what it is now.
    pub conflict: Option<ConflictInfo>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
}

/// Who won a conflicting change, for the agent who lost, and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConflictInfo {
    /// A conversation changed first: its owner and status now.
    Conversation {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        conversation_id: Id,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
        changed_by: Option<Id>,
        changed_by_name: Option<String>,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
        assignee_id: Option<Id>,
        assignee_name: Option<String>,
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        team_id: Id,
        status: ConversationStatus,
    },
    /// A canned response changed since its editor opened it: its shortcut and title now.
    Canned {
        key: String,
        shortcut: String,
        title: String,
        #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
        changed_by: Option<Id>,
        changed_by_name: Option<String>,
    },
}

/// One line of a thread or of a customer's history, stored or still in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThreadLine {
    /// The hub's id; `None` while the line is only in the outbox.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub id: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub channel: ChannelKind,
    pub direction: Direction,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub author_agent_id: Option<Id>,
    pub author_name: Option<String>,
    pub body: String,
    pub subject: Option<String>,
    pub attachments: Vec<Attachment>,
    pub client_msg_id: Option<String>,
    pub delivery: Option<Delivery>,
    pub delivery_error: Option<String>,
    /// Choices offered with an agent's line.
    pub choices: Option<crate::model::Choices>,
    /// The customer's answer to choices offered.
    pub chosen: Option<crate::model::Chosen>,
    /// The bot that wrote the line, by the name customers see.
    pub bot: Option<String>,
    /// Set for lines still in the outbox.
    pub outbox: Option<OutboxLine>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
}

/// What became of an attachment the agent asked to open: saved, then opened with the
/// system's viewer when it is an inert kind (`warning` is `None`), or else shown in its
/// folder, not opened, with `warning` saying why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenedAttachment {
    /// The name it was saved under.
    pub file_name: String,
    pub warning: Option<String>,
}

/// The outbox side of a line not yet stored by the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutboxLine {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub state: OutboxState,
    pub error: Option<String>,
}

/// A page of a conversation's thread, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thread {
    pub conversation: ConversationRow,
    pub lines: Vec<ThreadLine>,
    /// Older lines exist in the cache or on the hub (`load_older`).
    pub has_older: bool,
}

/// Every line of every conversation of one customer, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct History {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub contact_id: Id,
    pub lines: Vec<ThreadLine>,
    pub has_older: bool,
}

/// The customer beside a thread: identities, profile, CRM fields with when they were
/// fetched, and their conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub contact: Contact,
    pub conversations: Vec<ConversationRow>,
}

/// Search filters; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SearchQuery {
    pub text: String,
    pub channel: Option<ChannelKind>,
    pub status: Option<ConversationStatus>,
    /// Whose conversations to look in; any when absent.
    pub assignee: Option<AssigneeFilter>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub after: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub before: Option<Timestamp>,
    pub limit: Option<u32>,
}

/// Whose conversations a search looks in: `{"kind": "unassigned"}` or
/// `{"kind": "agent", "id": 5}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssigneeFilter {
    /// Conversations nobody is assigned to.
    Unassigned,
    /// One agent's conversations.
    Agent {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        id: Id,
    },
}

/// A message that matched: a snippet of its text (plain, `…` where it was cut) and the
/// byte ranges of the matching words within the snippet, for highlighting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub message_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub contact_id: Id,
    pub contact_name: String,
    pub channel: ChannelKind,
    pub direction: Direction,
    pub snippet: String,
    pub highlights: Vec<(u32, u32)>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
}

/// The link to the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Connection {
    Online,
    Connecting {
        attempt: u32,
    },
    Offline {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        since: Timestamp,
        reason: String,
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        retry_at: Timestamp,
    },
    /// The hub refused the session: sign in again.
    SignedOut {
        reason: String,
    },
    /// The hub requires a newer console: nothing syncs until this one is updated (the
    /// cache stays readable, replies stay queued).
    UpdateRequired {
        reason: String,
    },
}

/// Progress of a first sync (or a re-sync after the feed expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SyncProgress {
    pub done: u64,
    pub total: u64,
    pub finished: bool,
}

/// A desktop notification the core decided to raise; the shell only shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// A waiting customer replied.
    Reply {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        conversation_id: Id,
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        message_id: Id,
        contact_name: String,
        channel: ChannelKind,
        text: String,
    },
    /// Several customers replied, or conversations were given to the agent, while the
    /// console was away: one notification, not a flood. Its words are the front end's, in
    /// the agent's language.
    Summary {
        customers: u32,
        messages: u32,
        #[serde(default)]
        assigned: u32,
        /// Response-time targets of the agent's (or, for a lead, their teams') missed.
        #[serde(default)]
        missed: u32,
    },
    /// A conversation was given to the agent: by routing (`by` absent) or by a lead.
    Assigned {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        conversation_id: Id,
        contact_name: String,
        channel: ChannelKind,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// A conversation of the agent's snoozed until now is back.
    Woke {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        conversation_id: Id,
        contact_name: String,
        channel: ChannelKind,
        text: String,
    },
    /// A response-time target is about to be missed (`breached: false`, to its agent) or
    /// was missed (to its agent and the team's leads).
    Sla {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        conversation_id: Id,
        contact_name: String,
        channel: ChannelKind,
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        due_at: Timestamp,
        breached: bool,
    },
}

/// What the core tells its front end, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
        conversations: Vec<Id>,
        /// Conversations whose read state alone changed (the agent read them here or on
        /// another device): their rows and the views' unread counts, never their threads.
        /// A conversation named in `conversations` is not named here.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
        read: Vec<Id>,
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
        contacts: Vec<Id>,
        directory: bool,
        /// The canned responses changed (on the hub, or an edit of the agent's own).
        canned: bool,
        /// The knowledge base changed (on the hub, or a lead's own edit).
        #[serde(default)]
        articles: bool,
        everything: bool,
    },
    /// A notification for the desktop, as the agent's preferences shape it (with or
    /// without sound; its text left out where they keep it private).
    Notify {
        notification: Notification,
        sound: bool,
    },
    /// An outbox item needs the agent: it is stuck, or lost a conflict.
    Outbox {
        item: OutboxItem,
    },
}

/// What the signed-in agent's role lets the console offer. The hub enforces the same rules
/// on every call; these only decide which controls are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Permissions {
    /// Reassign threads to other agents and teams, one or many at once.
    pub reassign: bool,
    /// The `all` view and the team load panel.
    pub oversee: bool,
    /// Merge two customers into one.
    pub merge_contacts: bool,
    /// Add, change and delete the canned responses shared with everyone.
    pub share_canned: bool,
    /// Write, change, publish and delete knowledge-base articles.
    #[serde(default)]
    pub edit_articles: bool,
}

/// The signed-in agent and the people and teams they can assign to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Directory {
    pub me: Agent,
    pub permissions: Permissions,
    pub agents: Vec<Agent>,
    pub teams: Vec<Team>,
    /// The inboxes of the agent's teams (every inbox for an admin), by name.
    pub inboxes: Vec<Inbox>,
}

/// A first message to a customer, as the agent writes it: to `contact_id` (at `address`,
/// one of theirs on the inbox's channel, or their first there) or to a new `address` (a
/// phone number or an email address, with an optional `name`); a `subject` on email; the
/// text, or an approved template with its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewConversation {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub inbox_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub contact_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub subject: Option<String>,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub template: Option<String>,
    #[serde(default)]
    pub params: Vec<String>,
}

/// A first message queued: its outbox item, and the id its line will carry, by which the
/// new conversation is found once the hub has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Started {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub outbox_id: Id,
    pub client_msg_id: String,
}

/// One line of the team lead's load panel: an agent's open conversations and their
/// longest-waiting customer. `agent_id` is `None` for the unassigned line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentLoad {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub agent_id: Option<Id>,
    pub name: String,
    pub presence: Option<Presence>,
    pub capacity: u32,
    pub open: u32,
    /// Open conversations whose customer waits on an answer.
    pub waiting: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub oldest_waiting_since: Option<Timestamp>,
}

/// A channel's reply window (WhatsApp, Messenger, Instagram: 24 hours after the
/// customer's last message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ReplyWindow {
    /// The channel has no window: replies are always allowed.
    None,
    /// Free-form replies are allowed until `expires_at`.
    Open {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        expires_at: Timestamp,
    },
    /// Only approved templates may be sent.
    Closed {
        #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
        closed_at: Option<Timestamp>,
    },
}

/// One way to reach the customer: a conversation of theirs on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReplyRoute {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub channel: ChannelKind,
    pub address: String,
    pub window: ReplyWindow,
    /// Why a reply on this route would be refused (opted out, window closed).
    pub refusal: Option<ApiError>,
}

/// An approved template as the composer offers it, with how many values it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateOption {
    #[serde(flatten)]
    pub template: Template,
    pub params: u32,
}

impl From<Template> for TemplateOption {
    fn from(template: Template) -> Self {
        let params = u32::try_from(template.params()).unwrap_or(u32::MAX);
        TemplateOption { template, params }
    }
}

/// What the composer offers for a conversation: its own route first, then the customer's
/// other channels, the inbox's approved templates and the canned responses the agent has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Composer {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub routes: Vec<ReplyRoute>,
    pub templates: Vec<TemplateOption>,
    pub canned: Vec<CannedOption>,
}

/// A canned response as the console shows it: the hub's copy with the agent's own edits
/// still in the outbox laid over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CannedOption {
    #[serde(flatten)]
    pub response: CannedResponse,
    /// An edit (or the whole response) the hub has not confirmed yet.
    pub pending: bool,
    /// The signed-in agent may change or delete it: their own, or the team's for a lead.
    pub editable: bool,
}

/// A canned response as its editor saves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CannedDraft {
    /// The response changed; `None` makes a new one.
    pub key: Option<String>,
    /// The version the editor opened. The hub refuses the save with a conflict when
    /// another console changed the response since; `None` saves over whatever is there.
    pub version: Option<i64>,
    pub shortcut: String,
    pub title: String,
    pub body: String,
    pub shared: bool,
}

/// A knowledge-base article as the console shows it: the hub's copy, or the lead's own
/// save the hub has not confirmed yet laid over it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleEntry {
    pub article: crate::articles::Article,
    /// A save (or the whole article) the hub has not confirmed yet.
    pub pending: bool,
}

/// An article as its editor saves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleDraft {
    /// The article changed; `None` makes a new one, its key made from the title.
    pub key: Option<String>,
    /// The version the editor opened: the hub refuses the save with a conflict when
    /// another console changed the article since.
    pub version: Option<i64>,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub locale: String,
    pub collection: String,
    pub status: crate::articles::ArticleStatus,
}

/// Signing in to a hub with an agent's email and password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignIn {
    pub hub: String,
    pub email: String,
    pub password: String,
}

/// The console's session: which hub, as whom, and whether it is the embedded demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub hub: String,
    pub email: String,
    pub demo: bool,
}

/// A login of the embedded demo workspace, offered on the sign-in screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoLogin {
    pub name: String,
    pub email: String,
    pub role: Role,
}

/// What the desktop shell tells the front end, beside the core's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ShellEvent {
    /// A desktop notification could not be shown; the front end shows it instead.
    NotificationFailed { reason: String, notification: Notification },
    /// The agent clicked a notification: open this conversation.
    OpenConversation {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        conversation_id: Id,
    },
    /// The app signed in or out by itself (the demo started, a session was restored).
    SessionChanged { session: Option<Session> },
    /// A `switchboard://` link was opened: `take_link` says where it goes.
    LinkOpened,
    /// A newer console is downloaded and verified; it is installed when the agent chooses
    /// to restart (`restart_into_update`).
    UpdateReady(UpdateReady),
}

/// A newer console, downloaded and its signature verified, waiting for a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateReady {
    pub version: String,
    /// The version running now.
    pub current_version: String,
    /// The release's notes, as published.
    pub notes: Option<String>,
}

/// Where to move threads: to an agent (in their current team, or in `team_id`), or to a
/// team's unassigned queue (`agent_id` empty), or back to nobody in the same team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignTo {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub agent_id: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub team_id: Option<Id>,
}
