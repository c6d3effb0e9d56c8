//! The lead's reports: what a report is asked for (a period of days and a team) and what
//! the hub answers (response and resolution times, volume, each agent's work, response-time
//! targets met and customers' satisfaction), and how the console hands a cached one to its
//! front end.

use crate::model::ChannelKind;
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// A report's period, whole days in the hub's report time zone, and its team (`None`: every
/// team the caller leads, or every team for an admin).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportQuery {
    /// The first day, `YYYY-MM-DD`.
    pub from: String,
    /// The last day, `YYYY-MM-DD`, included.
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub team_id: Option<Id>,
}

impl ReportQuery {
    /// The longest period one report covers, in days.
    pub const MAX_DAYS: u32 = 366;
}

/// How long something took: how many there were, the median and the 90th percentile, in
/// milliseconds. Percentiles are within 2% of the exact value (exact under a minute).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Durations {
    pub count: u64,
    pub median_ms: Option<u64>,
    pub p90_ms: Option<u64>,
}

/// New conversations on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelVolume {
    pub channel: ChannelKind,
    pub conversations: u64,
}

/// One day of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayVolume {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Conversations that started that day.
    pub conversations: u64,
    /// Resolutions that day.
    pub resolved: u64,
}

/// One agent's work over the period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentReport {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub agent_id: Id,
    pub name: String,
    /// Conversations resolved while the agent held them.
    pub handled: u64,
    /// Time the agent was online.
    pub online_ms: u64,
    /// Time summed over every conversation the agent held unresolved.
    pub held_ms: u64,
    /// How many conversations the agent held at once on average while online.
    pub average_concurrency: f64,
    /// The most the agent held at once.
    pub peak_concurrency: u32,
}

/// Which response-time target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaTarget {
    FirstResponse,
    NextResponse,
    Resolution,
}

impl SlaTarget {
    pub const ALL: [SlaTarget; 3] = [SlaTarget::FirstResponse, SlaTarget::NextResponse, SlaTarget::Resolution];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaTarget::FirstResponse => "first_response",
            SlaTarget::NextResponse => "next_response",
            SlaTarget::Resolution => "resolution",
        }
    }
}

impl std::str::FromStr for SlaTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SlaTarget::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| format!("unknown target {s:?}"))
    }
}

/// Targets of one kind that fell due in the period: how many were met and how many missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaAttainment {
    pub target: SlaTarget,
    pub met: u64,
    pub missed: u64,
}

/// Customers' answers to the satisfaction survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CsatSummary {
    pub responses: u64,
    /// How many answered 1, 2, 3, 4 and 5.
    pub scores: Vec<u64>,
    pub average: Option<f64>,
    /// The share answering 4 or 5, from 0 to 1.
    pub satisfied: Option<f64>,
}

/// A lead's report over a period and team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub query: ReportQuery,
    /// The IANA time zone days and hours are counted in.
    pub time_zone: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub generated_at: Timestamp,
    /// Conversations that started in the period.
    pub conversations: u64,
    /// Resolutions in the period.
    pub resolved: u64,
    /// From a conversation's start to its first answer, for first answers in the period.
    pub first_response: Durations,
    /// From a conversation's start to its resolution, for resolutions in the period.
    pub resolution: Durations,
    pub by_channel: Vec<ChannelVolume>,
    /// New conversations by hour of the day, 0 to 23.
    pub by_hour: Vec<u64>,
    pub by_day: Vec<DayVolume>,
    pub agents: Vec<AgentReport>,
    pub sla: Vec<SlaAttainment>,
    pub csat: CsatSummary,
    /// Conversations bots answered first.
    #[serde(default)]
    pub bot: BotSummary,
    /// The articles read, offered or inserted in the period, most read first (at most 20).
    #[serde(default)]
    pub articles: Vec<ArticleUse>,
    /// Questions the widget's articles answered before a conversation started.
    #[serde(default)]
    pub deflections: u64,
}

/// What bots did with the conversations that started with them in the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotSummary {
    /// Conversations a bot answered first.
    pub conversations: u64,
    /// Resolved by the bot, without a person.
    pub contained: u64,
    /// Given to people.
    pub handed_off: u64,
    /// Why, most frequent first.
    pub reasons: Vec<HandoffCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffCount {
    pub reason: crate::bot::HandoffReason,
    pub count: u64,
}

/// One article's use in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ArticleUse {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub article_id: Id,
    pub title: String,
    /// Reads in the help centre.
    pub views: u64,
    /// Readers and customers who said it helped, and who said it did not.
    pub helpful: u64,
    pub not_helpful: u64,
    /// Times the bot answered with it.
    pub offered: u64,
    /// Times the widget's visitors said it answered their question.
    pub deflected: u64,
}

/// A report as the console shows it: from the hub, or from the cache when the hub cannot
/// be reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportView {
    pub report: Report,
    /// When the console received it.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub fetched_at: Timestamp,
    /// Answered from the cache because the hub could not be reached.
    pub offline: bool,
}
