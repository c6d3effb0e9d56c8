//! What each customer agreed to be sent, per address and purpose: the records agents see
//! in the profile and edit with a reason, the keywords and unsubscribe links that write
//! them, and the purposes proactive messages are sent for.

use crate::model::ChannelKind;
use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a proactive message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConsentPurpose {
    /// About something the customer has with the business: an order, a payment, a visit.
    /// Withdrawing it (STOP) opts the address out of everything.
    Service,
    /// Offers and news: campaigns sent for marketing.
    Marketing,
}

impl ConsentPurpose {
    pub const ALL: [ConsentPurpose; 2] = [ConsentPurpose::Service, ConsentPurpose::Marketing];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPurpose::Service => "service",
            ConsentPurpose::Marketing => "marketing",
        }
    }
}

impl fmt::Display for ConsentPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConsentPurpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConsentPurpose::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown consent purpose `{s}` (service or marketing)"))
    }
}

/// Where a consent record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    /// The customer wrote an opt-out or opt-in keyword (STOP, START, BAJA…).
    Keyword,
    /// An agent recorded it, with a reason.
    Agent,
    /// A business system recorded it through the API.
    Api,
    /// A campaign's audience file said so.
    Import,
    /// The customer used an email's unsubscribe link.
    Unsubscribe,
}

impl ConsentSource {
    pub const ALL: [ConsentSource; 5] = [
        ConsentSource::Keyword,
        ConsentSource::Agent,
        ConsentSource::Api,
        ConsentSource::Import,
        ConsentSource::Unsubscribe,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsentSource::Keyword => "keyword",
            ConsentSource::Agent => "agent",
            ConsentSource::Api => "api",
            ConsentSource::Import => "import",
            ConsentSource::Unsubscribe => "unsubscribe",
        }
    }
}

impl FromStr for ConsentSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ConsentSource::ALL.into_iter().find(|p| p.as_str() == s).ok_or_else(|| format!("unknown consent source `{s}`"))
    }
}

/// The latest record of one address's consent to one purpose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Consent {
    pub channel: ChannelKind,
    pub address: String,
    pub purpose: ConsentPurpose,
    /// Granted, or withdrawn.
    pub granted: bool,
    pub source: ConsentSource,
    /// What shows it: the customer's words, the link used, the file and row, the agent's note.
    pub evidence: String,
    /// Why an agent recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_agent_id: Option<Id>,
    pub at: Timestamp,
}

impl Consent {
    /// The longest reason or evidence kept.
    pub const MAX_TEXT: usize = 1_000;
}
