//! The entities of a workspace as agents see them on the wire.
//!
//! Provider credentials, password hashes and other server-side secrets never appear here.

use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What an agent may do; enforced by the hub on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Answers, claims and resolves conversations of their teams.
    Agent,
    /// An agent who may also reassign any conversation of their teams and merge contacts.
    Lead,
    /// Sees everything and manages agents, teams and inboxes.
    Admin,
}

/// Whether an agent is at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Online,
    Away,
    Offline,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Online => "online",
            Presence::Away => "away",
            Presence::Offline => "offline",
        }
    }
}

impl FromStr for Presence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "online" => Ok(Presence::Online),
            "away" => Ok(Presence::Away),
            "offline" => Ok(Presence::Offline),
            _ => Err(format!("unknown presence `{s}`")),
        }
    }
}

/// How urgent a conversation is. The queue serves higher priorities first, then the
/// longest waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    High,
    #[default]
    Normal,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::Urgent, Priority::High, Priority::Normal, Priority::Low];

    /// As stored and sorted: 0 urgent … 3 low, so a queue sorts by the number.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Urgent => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }

    /// The priority of a stored rank; anything unknown is normal.
    pub fn from_rank(rank: i64) -> Priority {
        match rank {
            0 => Priority::Urgent,
            1 => Priority::High,
            3 => Priority::Low,
            _ => Priority::Normal,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Urgent => "urgent",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| format!("unknown priority `{s}`"))
    }
}

/// How a team, or one of its inboxes, hands out conversations that open or reopen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// Conversations wait in Unassigned until someone claims them.
    #[default]
    Manual,
    /// Each to the online agent with a free slot who was given one longest ago.
    RoundRobin,
    /// Each to the online agent with the fewest open conversations.
    LeastLoaded,
}

/// A team's or an inbox's routing: who may be given its conversations, and when they go
/// back to the queue. Agents are never given more open conversations than their capacity,
/// and only while they are online and not paused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoutingPolicy {
    #[serde(default)]
    pub mode: RoutingMode,
    /// Prefer the agent who last served the contact, when they are online with a free slot.
    #[serde(default)]
    pub sticky: bool,
    /// Skills an agent must have to be given these conversations (e.g. `language:es`,
    /// `product:billing`).
    #[serde(default)]
    pub skills: Vec<String>,
    /// A contact profile field naming a skill to prefer: with `language`, a contact whose
    /// `language` is `es` goes first to agents with the skill `language:es`, and to the
    /// others only when none of those can take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_skill_field: Option<String>,
    /// A conversation whose customer has waited this long on its agent goes back to the
    /// queue and on to someone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassign_after_mins: Option<u32>,
}

impl RoutingPolicy {
    /// The most skills a policy or an agent lists, and the longest skill.
    pub const MAX_SKILLS: usize = 32;
    pub const MAX_SKILL_CHARS: usize = 64;

    /// Whether conversations are handed out at all.
    pub fn routes(&self) -> bool {
        self.mode != RoutingMode::Manual
    }

    /// Says what is wrong with the policy, if anything.
    pub fn refuse(&self) -> Option<String> {
        if let Some(why) = refuse_skills(&self.skills) {
            return Some(why);
        }
        if let Some(f) = &self.contact_skill_field {
            if f.trim().is_empty() || f.chars().count() > Self::MAX_SKILL_CHARS {
                return Some(format!("the contact field must be 1 to {} characters", Self::MAX_SKILL_CHARS));
            }
        }
        if self.reassign_after_mins.is_some_and(|m| m == 0 || m > 7 * 24 * 60) {
            return Some("reassign_after_mins must be 1 minute to 7 days".into());
        }
        None
    }
}

/// Opening hours on a real calendar: weekly hours in an IANA time zone (daylight saving
/// included) and the dates the business is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BusinessCalendar {
    /// e.g. `Europe/Lisbon`, `America/New_York`.
    pub time_zone: String,
    /// `mon`…`sun` to ranges such as `"09:00-17:30"` or `"09:00-12:00, 13:00-18:00"`; a day
    /// that is absent is closed.
    pub hours: BTreeMap<String, String>,
    /// Closed dates, `YYYY-MM-DD` in the calendar's zone.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Response-time targets, counted in business time on the policy's calendar (around the
/// clock without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<BusinessCalendar>,
    /// From a conversation's opening to the first agent reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response_mins: Option<u32>,
    /// From a customer's message to the next reply, once the first reply was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_response_mins: Option<u32>,
    /// From a conversation's opening (or reopening) to its resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_mins: Option<u32>,
    /// How long before a target the conversation is at risk (its agent is warned).
    #[serde(default = "SlaPolicy::default_warn")]
    pub warn_before_mins: u32,
}

impl SlaPolicy {
    /// The longest target, in minutes: a year.
    pub const MAX_MINS: u32 = 366 * 24 * 60;

    fn default_warn() -> u32 {
        10
    }
}

/// Where a conversation stands against its response-time targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// No target is due soon (or none applies).
    #[default]
    Ok,
    /// A target is due within the policy's warning time.
    AtRisk,
    /// A target was missed.
    Breached,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::Ok => "ok",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
        }
    }
}

impl FromStr for SlaState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ok" => Ok(SlaState::Ok),
            "at_risk" => Ok(SlaState::AtRisk),
            "breached" => Ok(SlaState::Breached),
            _ => Err(format!("unknown SLA state `{s}`")),
        }
    }
}

/// Says what is wrong with a list of skills, if anything.
pub fn refuse_skills(skills: &[String]) -> Option<String> {
    if skills.len() > RoutingPolicy::MAX_SKILLS {
        return Some(format!("at most {} skills", RoutingPolicy::MAX_SKILLS));
    }
    skills
        .iter()
        .find(|s| s.trim().is_empty() || s.chars().count() > RoutingPolicy::MAX_SKILL_CHARS || s.trim() != s.as_str())
        .map(|s| {
            format!("skill `{s}` must be 1 to {} characters without spaces around", RoutingPolicy::MAX_SKILL_CHARS)
        })
}

/// The channel a customer writes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Sms,
    Whatsapp,
    Messenger,
    Instagram,
    Webchat,
    InApp,
    Email,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 7] = [
        ChannelKind::Sms,
        ChannelKind::Whatsapp,
        ChannelKind::Messenger,
        ChannelKind::Instagram,
        ChannelKind::Webchat,
        ChannelKind::InApp,
        ChannelKind::Email,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Sms => "sms",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Instagram => "instagram",
            ChannelKind::Webchat => "webchat",
            ChannelKind::InApp => "in_app",
            ChannelKind::Email => "email",
        }
    }

    /// The channel's name as people say it mid-sentence ("WhatsApp", "web chat", "email").
    pub fn label(self) -> &'static str {
        match self {
            ChannelKind::Sms => "SMS",
            ChannelKind::Whatsapp => "WhatsApp",
            ChannelKind::Messenger => "Messenger",
            ChannelKind::Instagram => "Instagram",
            ChannelKind::Webchat => "web chat",
            ChannelKind::InApp => "in-app chat",
            ChannelKind::Email => "email",
        }
    }

    /// What kind of address identifies a customer on this channel. Two channels with the
    /// same address kind share identities: the same phone number on SMS and WhatsApp is
    /// one customer.
    pub fn address_kind(self) -> AddressKind {
        match self {
            ChannelKind::Sms | ChannelKind::Whatsapp => AddressKind::Phone,
            ChannelKind::Email => AddressKind::Email,
            ChannelKind::Messenger => AddressKind::MessengerPsid,
            ChannelKind::Instagram => AddressKind::InstagramId,
            ChannelKind::Webchat | ChannelKind::InApp => AddressKind::Visitor,
        }
    }

    /// Channels whose providers allow free-text replies only within 24 hours of the
    /// customer's last message.
    pub fn has_reply_window(self) -> bool {
        matches!(self, ChannelKind::Whatsapp | ChannelKind::Messenger | ChannelKind::Instagram)
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChannelKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| format!("unknown channel `{s}`"))
    }
}

/// The kind of address an identity holds; see [`ChannelKind::address_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// E.164, e.g. `+14155550100`.
    Phone,
    /// Lower-cased email address.
    Email,
    MessengerPsid,
    InstagramId,
    /// A web-chat or in-app visitor id.
    Visitor,
}

impl AddressKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AddressKind::Phone => "phone",
            AddressKind::Email => "email",
            AddressKind::MessengerPsid => "messenger_psid",
            AddressKind::InstagramId => "instagram_id",
            AddressKind::Visitor => "visitor",
        }
    }
}

/// An agent as other agents see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agent {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    pub email: String,
    pub role: Role,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub teams: Vec<Id>,
    /// How many open conversations the agent is expected to carry at once.
    pub capacity: u32,
    pub presence: Presence,
    /// A disabled agent cannot log in and has no sessions; their history stays.
    #[serde(default)]
    pub disabled: bool,
    /// What routing matches against policies' skills (e.g. `language:es`).
    #[serde(default)]
    pub skills: Vec<String>,
    /// A lead paused routing for this agent: they keep what they have and get nothing new.
    #[serde(default)]
    pub routing_paused: bool,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    /// How the team's conversations are handed out (inboxes may have their own).
    #[serde(default)]
    pub routing: RoutingPolicy,
    /// The team's response-time targets (inboxes may have their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaPolicy>,
    pub version: i64,
}

/// A business address on one channel (a phone number, a page, a mailbox, a widget).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inbox {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub kind: ChannelKind,
    pub name: String,
    /// The team whose agents see this inbox's conversations by default.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub team_id: Id,
    /// The business's own address on the channel (number, page id, mailbox).
    pub address: String,
    /// Approved message templates agents may send once a reply window has closed.
    #[serde(default)]
    pub templates: Vec<Template>,
    /// The inbox's own routing; the team's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingPolicy>,
    /// The inbox's own response-time targets; the team's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla: Option<SlaPolicy>,
    pub version: i64,
}

/// An approved message template (WhatsApp) with `{{1}}`, `{{2}}`… placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Template {
    pub name: String,
    /// The provider's language code, e.g. `en_US`.
    pub language: String,
    /// The approved text, placeholders included.
    pub body: String,
}

impl Template {
    /// The most placeholders a template may have.
    pub const MAX_PARAMS: usize = 20;

    /// How many values the template takes: its placeholders `{{1}}`, `{{2}}`… as an unbroken
    /// run from 1, written exactly so (providers do not read `{{ 1 }}`).
    pub fn params(&self) -> usize {
        (1..=Self::MAX_PARAMS).take_while(|i| self.body.contains(&format!("{{{{{i}}}}}"))).count()
    }

    /// The longest value one placeholder takes, in characters: WhatsApp's limit for a
    /// template's whole body.
    pub const MAX_VALUE_CHARS: usize = 1024;
    /// The longest a filled template may be, in characters: WhatsApp's longest text message.
    pub const MAX_FILLED_CHARS: usize = 4096;

    /// The text with `{{1}}`, `{{2}}`… replaced by `values`, in one pass over the template:
    /// a value is never read for placeholders itself, so its size is the most it adds.
    /// Placeholders without a value stay as written.
    pub fn fill(&self, values: &[String]) -> String {
        let mut out = String::with_capacity(self.body.len() + values.iter().map(String::len).sum::<usize>());
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let value = (digits > 0 && after[digits..].starts_with("}}"))
                .then(|| after[..digits].parse::<usize>().ok())
                .flatten()
                .and_then(|n| n.checked_sub(1))
                .and_then(|i| values.get(i));
            match value {
                Some(v) => {
                    out.push_str(v);
                    rest = &after[digits + 2..];
                }
                None => {
                    out.push('{');
                    rest = &rest[start + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Why `values` may not fill this template, if they may not: a value longer than
    /// [`Template::MAX_VALUE_CHARS`], or a filled text longer than
    /// [`Template::MAX_FILLED_CHARS`]. Each value is measured before any is put in, so a
    /// filled text is at most the template's placeholders times the longest value.
    pub fn refuse_values(&self, values: &[String]) -> Option<String> {
        if let Some(i) = values.iter().position(|v| v.chars().count() > Self::MAX_VALUE_CHARS) {
            return Some(format!(
                "value {} of template `{}` is longer than {} characters",
                i + 1,
                self.name,
                Self::MAX_VALUE_CHARS
            ));
        }
        if self.fill(values).chars().count() > Self::MAX_FILLED_CHARS {
            return Some(format!(
                "template `{}` filled in is longer than {} characters",
                self.name,
                Self::MAX_FILLED_CHARS
            ));
        }
        None
    }
}

/// A saved reply agents insert by typing `/` and its shortcut. Shared with everyone when
/// `owner_id` is `None` (leads keep those), otherwise one agent's own. Its body may hold
/// `{{customer.name}}`, `{{customer.first_name}}`, `{{agent.name}}` and `{{agent.first_name}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CannedResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    /// Chosen by the console that created it, and named by every save and delete, so a
    /// response made offline can be changed again before the hub has seen it.
    pub key: String,
    pub shortcut: String,
    pub title: String,
    pub body: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub owner_id: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub updated_by: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub updated_at: Timestamp,
    pub version: i64,
}

impl CannedResponse {
    /// Whether agent `agent_id` (with `role`) may change or delete a response owned by
    /// `owner` (`None`: shared): their own always, the shared ones as a lead or admin.
    pub fn editable_by(owner: Option<Id>, agent_id: Id, role: Role) -> bool {
        match owner {
            Some(o) => o == agent_id,
            None => matches!(role, Role::Lead | Role::Admin),
        }
    }
}

/// How a customer is reached on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Identity {
    pub channel: ChannelKind,
    /// Normalised: E.164 for phones, lower case for email.
    pub address: String,
}

/// CRM fields cached on a contact, with when they were fetched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmSnapshot {
    /// Which connector the fields came from (`hubspot`, `salesforce`, `http`, `csv`, `sql`).
    pub source: String,
    pub fields: Vec<CrmField>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub fetched_at: Timestamp,
    /// The record's page in the CRM, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Set when the last fetch failed; `fields` then holds the last good values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The record's id in the CRM; absent when nothing matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_id: Option<String>,
    /// The addresses the last lookup searched by (an email, a phone number).
    #[serde(default)]
    pub searched: Vec<String>,
    /// Other records that matched too, less closely than the one shown.
    #[serde(default)]
    pub others: Vec<CrmCandidate>,
}

/// A record that also matched a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmCandidate {
    pub record_id: String,
    pub name: String,
    /// What tells it apart: its email or phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrmField {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// The latest record of one address's consent to one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub channel: ChannelKind,
    pub address: String,
    pub purpose: crate::consent::ConsentPurpose,
    /// Granted, or withdrawn.
    pub granted: bool,
    pub source: crate::consent::ConsentSource,
    /// What shows it: the customer's words, the link used, the file and row, the agent's note.
    pub evidence: String,
    /// Why an agent recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub by_agent_id: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub at: Timestamp,
}

impl Consent {
    /// The longest reason or evidence kept.
    pub const MAX_TEXT: usize = 1_000;
}

/// A customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    pub identities: Vec<Identity>,
    /// Free-form profile fields (company, city, plan...).
    pub profile: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<CrmSnapshot>,
    /// Addresses the customer opted out on: nothing may be sent to them there.
    #[serde(default)]
    pub opted_out: Vec<Identity>,
    /// The latest consent record per address and purpose.
    #[serde(default)]
    pub consents: Vec<Consent>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// A bot is answering; it is nobody's to work on until the bot hands it over.
    Bot,
    Open,
    Pending,
    Snoozed,
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Bot => "bot",
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
            ConversationStatus::Resolved => "resolved",
        }
    }
}

impl FromStr for ConversationStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bot" => Ok(ConversationStatus::Bot),
            "open" => Ok(ConversationStatus::Open),
            "pending" => Ok(ConversationStatus::Pending),
            "snoozed" => Ok(ConversationStatus::Snoozed),
            "resolved" => Ok(ConversationStatus::Resolved),
            _ => Err(format!("unknown status `{s}`")),
        }
    }
}

/// A thread between one contact and one inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub contact_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub inbox_id: Id,
    pub channel: ChannelKind,
    /// The customer's address this conversation is with (replies go there).
    pub customer_address: String,
    pub status: ConversationStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub snoozed_until: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub assignee_id: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub team_id: Id,
    /// The oldest customer message not yet answered; `None` when the ball is with the customer.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub waiting_since: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub last_activity_at: Timestamp,
    /// When the provider stops accepting free-text replies (WhatsApp, Messenger, Instagram).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub reply_window_expires_at: Option<Timestamp>,
    /// The start of the latest message, for list rows.
    pub preview: String,
    /// The agent who made the latest change, if an agent made it.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub updated_by: Option<Id>,
    #[serde(default)]
    pub priority: Priority,
    /// Since when it has waited in its team's queue for routing to give it to an agent;
    /// `None` when it is not queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub queued_at: Option<Timestamp>,
    /// When the first agent reply is due, until it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub first_response_due_at: Option<Timestamp>,
    /// When the next reply is due, while the customer waits after the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub next_response_due_at: Option<Timestamp>,
    /// When the conversation should be resolved, until it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub resolution_due_at: Option<Timestamp>,
    #[serde(default)]
    pub sla_state: SlaState,
    /// The customer's answer to the satisfaction survey of its latest resolution, 1 to 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_score: Option<u8>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
    pub version: i64,
}

impl Conversation {
    /// The earliest target still running, if any.
    pub fn next_due(&self) -> Option<Timestamp> {
        [self.first_response_due_at, self.next_response_due_at, self.resolution_due_at].into_iter().flatten().min()
    }

    /// Where a queued conversation stands among its team's: higher priority first, then the
    /// longest queued, then the oldest. `None` when it is not queued. The hub routes in this
    /// order and the console numbers the queue with it.
    pub fn queue_key(&self) -> Option<(Priority, Timestamp, Id)> {
        self.queued_at.map(|at| (self.priority, at, self.id))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the customer.
    Inbound,
    /// An agent's reply to the customer.
    Outbound,
    /// An internal note between agents; never sent to the customer.
    Note,
    /// A line written by the hub (opt-outs, unsupported content, merges).
    System,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Note => "note",
            Direction::System => "system",
        }
    }
}

impl FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inbound" => Ok(Direction::Inbound),
            "outbound" => Ok(Direction::Outbound),
            "note" => Ok(Direction::Note),
            "system" => Ok(Direction::System),
            _ => Err(format!("unknown direction `{s}`")),
        }
    }
}

/// Where an outbound message is on its way to the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Queued,
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Queued => "queued",
            Delivery::Sent => "sent",
            Delivery::Delivered => "delivered",
            Delivery::Read => "read",
            Delivery::Failed => "failed",
        }
    }
}

impl FromStr for Delivery {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "queued" => Ok(Delivery::Queued),
            "sent" => Ok(Delivery::Sent),
            "delivered" => Ok(Delivery::Delivered),
            "read" => Ok(Delivery::Read),
            "failed" => Ok(Delivery::Failed),
            _ => Err(format!("unknown delivery state `{s}`")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub name: String,
    pub mime: String,
    /// Bytes; 0 when the provider does not say.
    pub size: u64,
    pub url: String,
}

/// How choices the customer answers with a tap are shown ([`crate::choices`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChoiceStyle {
    /// A row of buttons under the message.
    Buttons,
    /// A list the customer opens with one button (WhatsApp); elsewhere shown as buttons.
    List,
}

/// One option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choice {
    /// The answer's id, as the business reads it (`"tue-10"`); unique among the options.
    pub id: String,
    /// What the customer sees and taps.
    pub title: String,
    /// A line under the title (WhatsApp lists only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub description: Option<String>,
}

/// Choices offered with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Choices {
    pub style: ChoiceStyle,
    /// A list's button, which opens it (`"See times"`); required for a list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub button: Option<String>,
    pub options: Vec<Choice>,
}

/// A customer's answer to choices offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Chosen {
    /// The option's id.
    pub id: String,
    /// Its title, as the customer saw it.
    pub title: String,
    /// The message that offered it, when the channel says which.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub offered_in: Option<Id>,
}

/// One line of a conversation. `body` is plain text, never HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub channel: ChannelKind,
    pub direction: Direction,
    /// The agent who wrote an outbound message or note.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub author_agent_id: Option<Id>,
    pub body: String,
    /// The subject line, for email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub attachments: Vec<Attachment>,
    /// The provider's id for the message, unique per inbox.
    pub provider_id: Option<String>,
    /// The console's id for a reply or note, unique across the workspace.
    pub client_msg_id: Option<String>,
    /// Set on outbound messages.
    pub delivery: Option<Delivery>,
    /// The provider's reason when `delivery` is `failed`.
    pub delivery_error: Option<String>,
    /// Choices offered with an outbound message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Choices>,
    /// The customer's answer to choices offered, on an inbound message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Chosen>,
    /// The bot that wrote an outbound message, by the name customers see.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
    pub version: i64,
}

/// How far one agent has read a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReadMarker {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub agent_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub last_read_message_id: Id,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub at: Timestamp,
}

#[cfg(test)]
mod template_tests {
    use super::Template;

    fn template(body: &str) -> Template {
        Template { name: "t".into(), language: "en_US".into(), body: body.into() }
    }

    #[test]
    fn a_template_takes_its_unbroken_run_of_exact_placeholders() {
        for (body, params) in [
            ("Hi {{1}}, your order {{2}} shipped", 2),
            ("Hello", 0),
            ("{{ 1 }} only", 0),
            ("{{1}} and {{3}}", 1),
            ("{{2}} before {{1}}", 2),
        ] {
            assert_eq!(template(body).params(), params, "{body}");
        }
    }

    #[test]
    fn filling_keeps_unfilled_placeholders() {
        assert_eq!(template("Hi {{1}}, order {{2}}").fill(&["Ana".into()]), "Hi Ana, order {{2}}");
    }

    /// A value holding placeholders is put in as written, never expanded again.
    #[test]
    fn send_template_values_are_never_expanded_again() {
        let v = |xs: &[&str]| xs.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        for (body, values, want) in [
            ("Hi {{1}}, order {{2}}", v(&["{{2}}", "#4521"]), "Hi {{2}}, order #4521"),
            ("{{1}}{{1}}", v(&["{{1}}"]), "{{1}}{{1}}"),
            ("{{1}} {{2}}", v(&["{{2}}{{2}}", "{{1}}"]), "{{2}}{{2}} {{1}}"),
            ("{{1}} {{10}}", v(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]), "a j"),
            ("{{ 1 }} {{x}} {{1} {{", v(&["a"]), "{{ 1 }} {{x}} {{1} {{"),
            ("{{{1}}}", v(&["a"]), "{a}"),
            ("{{0}} {{3}}", v(&["a"]), "{{0}} {{3}}"),
            ("ünï {{1}} çødé", v(&["😀"]), "ünï 😀 çødé"),
            ("{{99999999999999999999999}}", v(&["a"]), "{{99999999999999999999999}}"),
        ] {
            assert_eq!(template(body).fill(&values), want, "{body} with {values:?}");
        }
        // What used to grow without bound: a value that names its own placeholder many times.
        let bomb = "{{2}}".repeat(20_000);
        let filled = template("{{1}} {{2}}").fill(&[bomb.clone(), bomb.clone()]);
        assert_eq!(filled.len(), bomb.len() * 2 + 1);
    }

    #[test]
    fn template_values_and_the_filled_text_are_bounded() {
        let t = template("Hi {{1}}, order {{2}}");
        let long = "x".repeat(Template::MAX_VALUE_CHARS + 1);
        let most = "é".repeat(Template::MAX_VALUE_CHARS);
        assert_eq!(t.refuse_values(&["Ana".into(), "#1".into()]), None);
        assert_eq!(t.refuse_values(&[most.clone(), most.clone()]), None, "characters, not bytes");
        assert_eq!(
            t.refuse_values(&["Ana".into(), long]).as_deref(),
            Some("value 2 of template `t` is longer than 1024 characters")
        );
        let many = template(&"{{1}}".repeat(5));
        assert_eq!(
            many.refuse_values(&[most]).as_deref(),
            Some("template `t` filled in is longer than 4096 characters")
        );
        assert_eq!(many.refuse_values(&["x".repeat(800)]), None);
    }
}
