//! What a customer may agree to be sent (the purposes proactive messages are sent for)
//! and where each record of it came from. The records themselves, as contacts carry them,
//! are [`crate::model::Consent`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a proactive message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
