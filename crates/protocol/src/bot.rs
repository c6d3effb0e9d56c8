//! Bots that answer first: why a conversation was handed to people, what an external bot
//! is sent (the signed webhook) and what it answers with (in the webhook's response or
//! through the bot API with its token).

use crate::model::{Attachment, ChannelKind, Choices, Chosen};
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// Why a bot handed a conversation to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for a person (in words or with the button).
    AskedForPerson,
    /// The bot had no answer it was confident of.
    NoAnswer,
    /// The bot had answered as many times as the inbox allows.
    TurnLimit,
    /// The customer wrote one of the inbox's handoff words.
    Keyword,
    /// The customer said the answer did not help.
    NotHelpful,
    /// The external bot or the model could not be reached or answered with an error.
    BotFailed,
    /// The external bot or the model did not answer in time.
    BotTimedOut,
    /// The external bot chose to hand over.
    BotDecided,
    /// An agent took the conversation from the bot.
    AgentTookOver,
}

impl HandoffReason {
    pub const ALL: [HandoffReason; 9] = [
        HandoffReason::AskedForPerson,
        HandoffReason::NoAnswer,
        HandoffReason::TurnLimit,
        HandoffReason::Keyword,
        HandoffReason::NotHelpful,
        HandoffReason::BotFailed,
        HandoffReason::BotTimedOut,
        HandoffReason::BotDecided,
        HandoffReason::AgentTookOver,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HandoffReason::AskedForPerson => "asked_for_person",
            HandoffReason::NoAnswer => "no_answer",
            HandoffReason::TurnLimit => "turn_limit",
            HandoffReason::Keyword => "keyword",
            HandoffReason::NotHelpful => "not_helpful",
            HandoffReason::BotFailed => "bot_failed",
            HandoffReason::BotTimedOut => "bot_timed_out",
            HandoffReason::BotDecided => "bot_decided",
            HandoffReason::AgentTookOver => "agent_took_over",
        }
    }

    pub fn parse(s: &str) -> Option<HandoffReason> {
        HandoffReason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The reason as the handoff line says it.
    pub fn label(self) -> &'static str {
        match self {
            HandoffReason::AskedForPerson => "the customer asked for a person",
            HandoffReason::NoAnswer => "the bot had no good answer",
            HandoffReason::TurnLimit => "the bot reached its limit of answers",
            HandoffReason::Keyword => "the customer wrote a handoff word",
            HandoffReason::NotHelpful => "the customer said the answer did not help",
            HandoffReason::BotFailed => "the bot failed",
            HandoffReason::BotTimedOut => "the bot did not answer in time",
            HandoffReason::BotDecided => "the bot handed over",
            HandoffReason::AgentTookOver => "an agent took over",
        }
    }
}

/// Choice ids the hub's own feedback buttons carry.
pub const CHOICE_HELPED: &str = "bot:helped";
pub const CHOICE_PERSON: &str = "bot:person";

/// What an external bot is sent for each customer message while a conversation is the
/// bot's: `POST` to the inbox's bot URL, signed with `X-Switchboard-Signature`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotEvent {
    /// `message_created`.
    pub event: String,
    /// Unique per delivery; a retried delivery carries the same one.
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub at: Timestamp,
    pub inbox: BotInbox,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub conversation_id: Id,
    pub contact: BotContact,
    pub message: BotMessage,
    /// The thread so far between the customer and the bot, oldest first (at most 20).
    pub history: Vec<BotLine>,
    /// How many times the bot has answered in this conversation.
    pub turns: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotInbox {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
    pub channel: ChannelKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotContact {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub name: String,
}

/// The customer's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotMessage {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    pub body: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The button the customer tapped, if they tapped one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<Chosen>,
}

/// Who wrote a line of the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BotSpeaker {
    Customer,
    Bot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotLine {
    pub from: BotSpeaker,
    pub body: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub at: Timestamp,
}

/// A bot's answer: in the response to [`BotEvent`], or `POST
/// /api/v1/bot/conversations/{id}/reply` later. Messages go to the customer in order; a
/// handoff after them gives the conversation to people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BotAnswer {
    #[serde(default)]
    pub messages: Vec<BotReply>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<BotHandoff>,
}

impl BotAnswer {
    /// The most messages one answer carries.
    pub const MAX_MESSAGES: usize = 5;
}

/// One message from the bot to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BotReply {
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Choices>,
    /// Keys of the articles the message offers, counted in the reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub articles: Vec<String>,
}

/// Give the conversation to people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BotHandoff {
    /// The bot's own words for why, shown to agents in the handoff line (at most 300
    /// characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The answer to a bot API call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BotAnswered {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub message_ids: Vec<Id>,
    pub handed_off: bool,
}
