//! Mutations: what agents ask the hub to change, and what happened to each request.
//!
//! A batch carries mutations in the order the agent made them. Each `mutation_id` is a
//! number that grows with every mutation a client makes; the hub remembers the last one
//! applied per client, so a retried mutation is applied once and answered `duplicate`.

pub use crate::articles::{DeleteArticle, SaveArticle};
use crate::consent::ConsentPurpose;
use crate::error::ApiError;
use crate::model::{Attachment, ChannelKind, ConversationStatus, Presence, Priority, RoutingPolicy, SlaPolicy};
use crate::sync::Change;
use crate::{Id, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};

/// `POST /api/v1/mutations` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationBatch {
    /// A stable id for one installation of a client; owned by the agent who first used it.
    pub client_id: String,
    pub mutations: Vec<MutationEnvelope>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationEnvelope {
    /// Increases with every mutation this client makes.
    pub mutation_id: u64,
    #[serde(flatten)]
    pub mutation: Mutation,
    /// Apply only if the target (conversation, or the contact merged into) still has this
    /// version; otherwise the answer is `conflict` with the current state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<i64>,
}

/// Every mutation, as `{"name": ..., "args": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "name", content = "args", rename_all = "snake_case")]
pub enum Mutation {
    SendReply(SendReply),
    AddNote(AddNote),
    Assign(Assign),
    SetStatus(SetStatus),
    MarkRead(MarkRead),
    MergeContacts(MergeContacts),
    SplitContact(SplitContact),
    SendTemplate(SendTemplate),
    RefreshCrm(RefreshCrm),
    SaveCanned(SaveCanned),
    DeleteCanned(DeleteCanned),
    BlockVisitor(BlockVisitor),
    SetPresence(SetPresence),
    SetPreferences(SetPreferences),
    SetPriority(SetPriority),
    SetRouting(SetRouting),
    SetAgentRouting(SetAgentRouting),
    SetSla(SetSla),
    StartConversation(StartConversation),
    SetConsent(SetConsent),
    SaveArticle(SaveArticle),
    DeleteArticle(DeleteArticle),
}

impl Mutation {
    /// Drops the control characters [`crate::text::keeps`] drops from every text it carries
    /// (bodies, names, template values, canned fields, typed addresses), as the hub does
    /// before applying it.
    pub fn clean_text(&mut self) {
        use crate::text::clean_in_place as clean;
        match self {
            Mutation::SendReply(r) => {
                clean(&mut r.body);
                for a in &mut r.attachments {
                    clean(&mut a.name);
                }
            }
            Mutation::AddNote(n) => clean(&mut n.body),
            Mutation::SendTemplate(t) => t.params.iter_mut().for_each(clean),
            Mutation::SplitContact(s) => {
                if let Some(name) = &mut s.name {
                    clean(name);
                }
                for i in &mut s.identities {
                    clean(&mut i.address);
                }
            }
            Mutation::RefreshCrm(r) => {
                if let Some(by) = &mut r.by {
                    clean(by);
                }
            }
            Mutation::SaveArticle(a) => {
                clean(&mut a.title);
                clean(&mut a.body);
                clean(&mut a.collection);
                a.tags.iter_mut().for_each(clean);
            }
            Mutation::SaveCanned(c) => {
                clean(&mut c.shortcut);
                clean(&mut c.title);
                clean(&mut c.body);
            }
            Mutation::Assign(_)
            | Mutation::SetStatus(_)
            | Mutation::MarkRead(_)
            | Mutation::MergeContacts(_)
            | Mutation::DeleteCanned(_)
            | Mutation::DeleteArticle(_)
            | Mutation::BlockVisitor(_)
            | Mutation::SetPresence(_)
            | Mutation::SetPreferences(_)
            | Mutation::SetPriority(_) => {}
            Mutation::SetRouting(r) => {
                if let Some(p) = &mut r.policy {
                    p.skills.iter_mut().for_each(clean);
                    if let Some(f) = &mut p.contact_skill_field {
                        clean(f);
                    }
                }
            }
            Mutation::SetAgentRouting(a) => {
                if let Some(skills) = &mut a.skills {
                    skills.iter_mut().for_each(clean);
                }
            }
            Mutation::StartConversation(s) => s.clean_text(),
            Mutation::SetConsent(c) => {
                clean(&mut c.address);
                clean(&mut c.reason);
            }
            Mutation::SetSla(s) => {
                if let Some(c) = s.policy.as_mut().and_then(|p| p.calendar.as_mut()) {
                    clean(&mut c.time_zone);
                    c.holidays.iter_mut().for_each(clean);
                    c.hours = std::mem::take(&mut c.hours)
                        .into_iter()
                        .map(|(mut k, mut v)| {
                            clean(&mut k);
                            clean(&mut v);
                            (k, v)
                        })
                        .collect();
                }
            }
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            Mutation::SendReply(_) => "send_reply",
            Mutation::AddNote(_) => "add_note",
            Mutation::Assign(_) => "assign",
            Mutation::SetStatus(_) => "set_status",
            Mutation::MarkRead(_) => "mark_read",
            Mutation::MergeContacts(_) => "merge_contacts",
            Mutation::SplitContact(_) => "split_contact",
            Mutation::SendTemplate(_) => "send_template",
            Mutation::RefreshCrm(_) => "refresh_crm",
            Mutation::SaveCanned(_) => "save_canned",
            Mutation::DeleteCanned(_) => "delete_canned",
            Mutation::BlockVisitor(_) => "block_visitor",
            Mutation::SetPresence(_) => "set_presence",
            Mutation::SetPreferences(_) => "set_preferences",
            Mutation::SetPriority(_) => "set_priority",
            Mutation::SetRouting(_) => "set_routing",
            Mutation::SetAgentRouting(_) => "set_agent_routing",
            Mutation::SetSla(_) => "set_sla",
            Mutation::StartConversation(_) => "start_conversation",
            Mutation::SetConsent(_) => "set_consent",
            Mutation::SaveArticle(_) => "save_article",
            Mutation::DeleteArticle(_) => "delete_article",
        }
    }
}

/// A reply to the customer on the conversation's channel; stored as `queued`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendReply {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    /// Unique per reply; the feed's echo carries it back so the console can reconcile.
    pub client_msg_id: String,
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Choices the customer answers with a tap (where the channel has them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<crate::model::Choices>,
}

/// Writes to a customer first: a new conversation on `inbox_id`, pending and the author's,
/// with one outbound message. The customer is `contact_id` (at `address`, one of theirs on
/// the inbox's channel, or their first there), or a new one at `address` (a phone number
/// or an email address). Outside a reply window the message must be one of the inbox's
/// approved templates (`template` and `params`); on email it needs a `subject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartConversation {
    /// Unique per message; the feed's echo carries it back.
    pub client_msg_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub inbox_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub contact_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A new customer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The text; with a template, ignored (the template's text is sent).
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Values for the template's `{{1}}`, `{{2}}`… in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<String>,
}

impl StartConversation {
    /// The longest subject line.
    pub const MAX_SUBJECT: usize = 998;

    /// Drops the control characters [`crate::text::keeps`] drops from every text it carries.
    pub fn clean_text(&mut self) {
        use crate::text::clean_in_place as clean;
        clean(&mut self.body);
        self.params.iter_mut().for_each(clean);
        for text in [&mut self.address, &mut self.subject, &mut self.name].into_iter().flatten() {
            clean(text);
        }
    }
}

/// Records a customer's consent to one purpose at one of their addresses, granted or
/// withdrawn, with the agent's reason (what the customer said, and where). Withdrawing
/// `service` opts the address out of everything, as STOP does; granting it opts them back in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetConsent {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub contact_id: Id,
    pub channel: ChannelKind,
    pub address: String,
    pub purpose: ConsentPurpose,
    pub granted: bool,
    /// 1 to 1,000 characters.
    pub reason: String,
}

/// Blocks (or unblocks) the web-chat or in-app visitor of a conversation: their chat
/// closes, their messages are refused, and the addresses they came from start no new chat
/// on the inbox for a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockVisitor {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    /// `false` lets them back.
    #[serde(default = "yes")]
    pub blocked: bool,
}

fn yes() -> bool {
    true
}

/// The signing-in agent's own presence. Going online makes them routable; leaving it (away
/// or offline) stops routing to them and returns their conversations whose customer waits
/// to the queue, in teams that route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPresence {
    pub presence: Presence,
    /// Set by the console itself (away after idle time), not by the agent's choice.
    #[serde(default)]
    pub automatic: bool,
}

/// The agent's own notification preferences, replacing what they had; synced to each of
/// their consoles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPreferences {
    pub preferences: crate::preferences::NotificationPreferences,
}

/// How urgent a conversation is; the queue serves higher priorities first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetPriority {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub priority: Priority,
}

/// A team's routing (leads of the team, admins), or an inbox's own (`inbox_id` set;
/// `policy: null` returns the inbox to its team's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRouting {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub team_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub inbox_id: Option<Id>,
    pub policy: Option<RoutingPolicy>,
}

/// An agent's routing settings, by a lead of one of their teams or an admin. Absent fields
/// stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetAgentRouting {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub agent_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
}

/// A team's response-time targets (leads of the team, admins), or an inbox's own
/// (`inbox_id` set). `policy: null` clears them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetSla {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub team_id: Id,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub inbox_id: Option<Id>,
    pub policy: Option<SlaPolicy>,
}

/// An internal note; never sent to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddNote {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub client_msg_id: String,
    pub body: String,
}

/// Give a conversation to an agent and/or a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assign {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    /// Absent: keep the assignee. `null`: unassign. A number: that agent.
    #[serde(default, deserialize_with = "present_or_null", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub agent_id: Option<Option<Id>>,
    /// Absent: keep the team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub team_id: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetStatus {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub status: ConversationStatus,
    /// Required with `snoozed`: when the conversation comes back by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub snoozed_until: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkRead {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    /// Read up to this message; absent means up to the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub message_id: Option<Id>,
}

/// Fold `from_contact_id` into `into_contact_id`: identities and conversations move over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeContacts {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub into_contact_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub from_contact_id: Id,
}

/// Undo a wrong merge: the named identities, and the conversations held on them, move to a
/// new contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SplitContact {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub contact_id: Id,
    pub identities: Vec<crate::model::Identity>,
    /// The new contact's name; the first moved address if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An approved template (see the inbox's `templates`), for when the reply window is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendTemplate {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub client_msg_id: String,
    pub template: String,
    /// Values for `{{1}}`, `{{2}}`… in order.
    #[serde(default)]
    pub params: Vec<String>,
}

/// Fetch the contact's CRM fields again. The hub looks the contact up in the background and
/// the result arrives as a contact change; the thread never waits on the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshCrm {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub contact_id: Id,
    /// Fetch even if the cached fields are younger than the hub's CRM TTL. Without it the
    /// hub refreshes only stale fields (what a console asks when a thread is opened).
    #[serde(default)]
    pub force: bool,
    /// Search by this email or phone number instead of the contact's own addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// Creates or changes the canned response with this `key`. `shared` makes it everyone's
/// (leads only); otherwise it is the saving agent's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveCanned {
    pub key: String,
    pub shortcut: String,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub shared: bool,
}

impl SaveCanned {
    pub const MAX_KEY: usize = 100;
    pub const MAX_SHORTCUT: usize = 32;
    pub const MAX_TITLE: usize = 80;

    /// The save as it is stored: the shortcut without a leading `/` and in lower case, the
    /// title trimmed, the body without trailing white space. Says what is wrong otherwise.
    pub fn normalized(&self) -> Result<SaveCanned, String> {
        let key = self.key.trim();
        if key.is_empty() || key.len() > Self::MAX_KEY {
            return Err(format!("a canned response's key must be 1 to {} characters", Self::MAX_KEY));
        }
        if !key.chars().all(crate::text::keeps) {
            return Err("a canned response's key must not hold control characters".into());
        }
        let shortcut = self.shortcut.trim().trim_start_matches('/').to_lowercase();
        if shortcut.is_empty() || shortcut.chars().count() > Self::MAX_SHORTCUT {
            return Err(format!("the shortcut must be 1 to {} characters", Self::MAX_SHORTCUT));
        }
        if let Some(c) = shortcut.chars().find(|c| !(c.is_alphanumeric() || *c == '-' || *c == '_')) {
            return Err(format!("the shortcut may hold letters, digits, - and _ only, not `{c}`"));
        }
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > Self::MAX_TITLE {
            return Err(format!("the title must be 1 to {} characters", Self::MAX_TITLE));
        }
        let body = self.body.trim_end();
        if body.trim().is_empty() {
            return Err("the response has no text".into());
        }
        if body.len() > crate::MAX_BODY {
            return Err(format!("the response is longer than {} bytes", crate::MAX_BODY));
        }
        Ok(SaveCanned {
            key: key.to_owned(),
            shortcut,
            title: title.to_owned(),
            body: body.to_owned(),
            shared: self.shared,
        })
    }
}

/// Deletes the canned response with this `key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteCanned {
    pub key: String,
}

/// `POST /api/v1/mutations` answer: one result per mutation, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResponse {
    pub results: Vec<MutationResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationResult {
    pub mutation_id: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied now; its changes follow in the feed.
    Applied,
    /// Applied earlier (a retry); nothing changed now.
    Duplicate,
    /// `expected_version` was stale. `current` is the state now, including who changed it.
    Conflict { current: Change },
    /// Refused; nothing changed.
    Rejected { error: ApiError },
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present_or_null<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assign_tells_absent_from_null() {
        let keep: Assign = serde_json::from_str(r#"{"conversation_id":1,"team_id":2}"#).unwrap();
        assert_eq!(keep.agent_id, None);
        let unassign: Assign = serde_json::from_str(r#"{"conversation_id":1,"agent_id":null}"#).unwrap();
        assert_eq!(unassign.agent_id, Some(None));
        let to: Assign = serde_json::from_str(r#"{"conversation_id":1,"agent_id":7}"#).unwrap();
        assert_eq!(to.agent_id, Some(Some(7)));
    }

    #[test]
    fn envelope_reads_name_and_args() {
        let env: MutationEnvelope = serde_json::from_str(
            r#"{"mutation_id":3,"name":"set_status","args":{"conversation_id":9,"status":"resolved"},"expected_version":4}"#,
        )
        .unwrap();
        assert_eq!(env.mutation_id, 3);
        assert_eq!(env.expected_version, Some(4));
        assert_eq!(env.mutation.name(), "set_status");
    }

    #[test]
    fn a_canned_save_is_normalised_or_refused_with_the_reason() {
        let save = |key: &str, shortcut: &str, title: &str, body: &str| SaveCanned {
            key: key.into(),
            shortcut: shortcut.into(),
            title: title.into(),
            body: body.into(),
            shared: false,
        };
        let ok =
            save(" k1 ", " /Refund_2 ", "  Refund policy ", "Hi {{customer.first_name}}\n\n ").normalized().unwrap();
        assert_eq!(
            (ok.key.as_str(), ok.shortcut.as_str(), ok.title.as_str(), ok.body.as_str()),
            ("k1", "refund_2", "Refund policy", "Hi {{customer.first_name}}")
        );
        assert_eq!(save("k", "café", "t", "b").normalized().unwrap().shortcut, "café");
        let long_body = "x".repeat(crate::MAX_BODY + 1);
        let refused = [
            (save("", "hi", "t", "b"), "key"),
            (save(&"k".repeat(101), "hi", "t", "b"), "key"),
            (save("k", " / ", "t", "b"), "shortcut must be"),
            (save("k", &"s".repeat(33), "t", "b"), "shortcut must be"),
            (save("k", "two words", "t", "b"), "not ` `"),
            (save("k", "a/b", "t", "b"), "not `/`"),
            (save("k", "hi", "  ", "b"), "title"),
            (save("k", "hi", &"t".repeat(81), "b"), "title"),
            (save("k", "hi", "t", " \n "), "no text"),
            (save("k", "hi", "t", &long_body), "longer than"),
        ];
        for (s, why) in refused {
            let err = s.normalized().unwrap_err();
            assert!(err.contains(why), "{s:?}: {err}");
        }
    }

    #[test]
    fn unknown_mutation_name_is_an_error() {
        let err = serde_json::from_str::<MutationEnvelope>(r#"{"mutation_id":1,"name":"drop_tables","args":{}}"#);
        assert!(err.is_err());
    }
}
