//! Requests admins use to manage agents, teams and inboxes.

use crate::model::{ChannelKind, Role};
use crate::Id;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/admin/agents` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAgent {
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub teams: Vec<Id>,
    #[serde(default = "default_capacity")]
    pub capacity: u32,
}

fn default_capacity() -> u32 {
    10
}

/// `PATCH /api/v1/admin/agents/{id}` body; absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAgent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<Id>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// `POST /api/v1/admin/teams` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTeam {
    pub name: String,
}

/// `POST /api/v1/admin/inboxes` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateInbox {
    pub kind: ChannelKind,
    pub name: String,
    pub team_id: Id,
    /// The business's address on the channel: number, page id, mailbox, widget key.
    pub address: String,
    /// Provider credentials and options; kept in the hub, never sent to consoles.
    #[serde(default)]
    pub settings: serde_json::Value,
}

/// `PATCH /api/v1/admin/inboxes/{id}` body; absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpdateInbox {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}
