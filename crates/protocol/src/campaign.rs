//! Campaigns: one approved template sent to an audience (an uploaded file with a value per
//! placeholder, a filter over contacts, or a saved segment) from one inbox, on a schedule,
//! at the sender's rate, in each recipient's allowed hours, never to whoever opted out or
//! withdrew consent, never over the frequency cap; its progress and each recipient's
//! result; and the saved segments.

use crate::consent::ConsentPurpose;
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a campaign is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Built, not yet scheduled.
    Draft,
    /// Waits for its time.
    Scheduled,
    Running,
    Paused,
    /// Every recipient has a result.
    Done,
    /// Stopped for good; recipients not yet sent were skipped.
    Cancelled,
}

impl CampaignState {
    pub const ALL: [CampaignState; 6] = [
        CampaignState::Draft,
        CampaignState::Scheduled,
        CampaignState::Running,
        CampaignState::Paused,
        CampaignState::Done,
        CampaignState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Scheduled => "scheduled",
            CampaignState::Running => "running",
            CampaignState::Paused => "paused",
            CampaignState::Done => "done",
            CampaignState::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for CampaignState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CampaignState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CampaignState::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| format!("unknown campaign state `{s}`"))
    }
}

/// What a lead asks of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CampaignAction {
    /// Send from `at` (now, when in the past).
    Schedule {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        at: Timestamp,
    },
    /// Back to a draft, before it starts.
    Unschedule,
    Pause,
    Resume,
    Cancel,
}

/// One condition over a contact: `field` is `name`, a profile field, or `crm.<field>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Condition {
    pub field: String,
    pub op: ConditionOp,
    /// Ignored by `present` and `absent`.
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    /// The same text, ignoring case.
    Equals,
    NotEquals,
    /// Holds the text, ignoring case.
    Contains,
    Present,
    Absent,
}

/// Contacts matching every condition who have an address on the inbox's channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactFilter {
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

impl ContactFilter {
    pub const MAX_CONDITIONS: usize = 20;
}

/// Who a campaign goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Audience {
    /// A CSV file: a header row naming `phone` or `email` (or `address`), optionally
    /// `name` and `time_zone`, and `1`, `2`… for the template's placeholders.
    Csv { csv: String },
    /// Contacts matching a filter; placeholders filled from `params` (field names).
    Filter { filter: ContactFilter, params: Vec<String> },
    /// A saved segment's filter; placeholders filled from `params` (field names).
    Segment {
        #[cfg_attr(feature = "openapi", schema(value_type = i64))]
        segment_id: Id,
        params: Vec<String>,
    },
}

impl Audience {
    /// The largest audience file, in bytes.
    pub const MAX_CSV_BYTES: usize = 16 * 1024 * 1024;
    /// The most recipients one campaign has.
    pub const MAX_RECIPIENTS: usize = 200_000;
}

/// Local hours in which recipients may be sent to, `"09:00"` to `"20:00"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllowedHours {
    pub from: String,
    pub to: String,
}

/// At most `messages` campaign messages per contact in any `days` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FrequencyCap {
    pub messages: u32,
    pub days: u32,
}

/// What a campaign sends, and how: `POST /api/v1/campaigns/check` reads one, and
/// `POST /api/v1/campaigns` makes one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignSpec {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub inbox_id: Id,
    /// One of the inbox's approved templates.
    pub template: String,
    /// Email: the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default = "marketing")]
    pub purpose: ConsentPurpose,
    pub audience: Audience,
    /// Absent: a draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub scheduled_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hours: Option<AllowedHours>,
    /// For recipients whose own is unknown; the hub's report zone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// The hub's default (2 in 7 days) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_cap: Option<FrequencyCap>,
}

fn marketing() -> ConsentPurpose {
    ConsentPurpose::Marketing
}

impl CampaignSpec {
    pub const MAX_NAME: usize = 200;
    pub const DEFAULT_CAP: FrequencyCap = FrequencyCap { messages: 2, days: 7 };
}

/// One bad row of an audience file (row 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowProblem {
    pub row: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub problem: String,
}

/// One recipient as the campaign would send to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreviewRow {
    pub row: u32,
    pub address: String,
    pub name: String,
    pub text: String,
}

/// What an audience holds, before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AudienceCheck {
    /// Rows read (file rows after the header, or contacts matched).
    pub rows: u32,
    /// Rows that would be sent to.
    pub valid: u32,
    /// Every bad row, up to [`AudienceCheck::MAX_PROBLEMS`].
    pub problems: Vec<RowProblem>,
    /// More bad rows than listed.
    pub more_problems: u32,
    /// The first rows, filled in.
    pub preview: Vec<PreviewRow>,
}

impl AudienceCheck {
    pub const MAX_PROBLEMS: usize = 1_000;
    pub const PREVIEW: usize = 5;
}

/// How many recipients stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignCounts {
    pub total: u32,
    pub queued: u32,
    pub sent: u32,
    pub delivered: u32,
    pub read: u32,
    pub replied: u32,
    pub failed: u32,
    pub skipped: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub inbox_id: Id,
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub purpose: ConsentPurpose,
    pub state: CampaignState,
    /// `csv`, `filter` or `segment`.
    pub audience: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub scheduled_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_hours: Option<AllowedHours>,
    pub time_zone: String,
    pub frequency_cap: FrequencyCap,
    /// Messages per second the inbox sends at.
    pub rate: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub created_by: Option<Id>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub started_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub finished_at: Option<Timestamp>,
    pub counts: CampaignCounts,
}

/// Where one recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecipientState {
    Queued,
    Sent,
    Delivered,
    Read,
    Replied,
    Failed,
    Skipped,
}

impl RecipientState {
    pub const ALL: [RecipientState; 7] = [
        RecipientState::Queued,
        RecipientState::Sent,
        RecipientState::Delivered,
        RecipientState::Read,
        RecipientState::Replied,
        RecipientState::Failed,
        RecipientState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecipientState::Queued => "queued",
            RecipientState::Sent => "sent",
            RecipientState::Delivered => "delivered",
            RecipientState::Read => "read",
            RecipientState::Replied => "replied",
            RecipientState::Failed => "failed",
            RecipientState::Skipped => "skipped",
        }
    }
}

impl FromStr for RecipientState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecipientState::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown recipient state `{s}`"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientResult {
    pub row: u32,
    pub address: String,
    pub name: String,
    pub state: RecipientState,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub sent_at: Option<Timestamp>,
    /// The conversation the customer's answer is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub conversation_id: Option<Id>,
}

/// `GET /api/v1/campaigns/{id}/recipients?state=&after=&limit=`: rows after row `after`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecipientPage {
    pub recipients: Vec<RecipientResult>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u32>,
}

impl RecipientPage {
    pub const MAX_LIMIT: usize = 1_000;
}

/// A saved filter over contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Segment {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    pub filter: ContactFilter,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub created_at: Timestamp,
}

/// `POST /api/v1/segments` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewSegment {
    pub name: String,
    pub filter: ContactFilter,
}
