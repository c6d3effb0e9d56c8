//! Requests admins use to manage agents, teams and inboxes.

use crate::model::{ChannelKind, Role};
use crate::Id;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/admin/agents` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAgent {
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub teams: Vec<Id>,
    #[serde(default = "default_capacity")]
    pub capacity: u32,
}

fn default_capacity() -> u32 {
    10
}

/// `PATCH /api/v1/admin/agents/{id}` body; absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAgent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<i64>>))]
    pub teams: Option<Vec<Id>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Disabling an agent ends all their sessions at once; they cannot log in until enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// One line of the audit log: what an admin (or an agent, for their own sessions) did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: Id,
    /// Milliseconds since the epoch.
    pub at: i64,
    /// Who did it; `None` for the hub's own command line.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub actor_id: Option<Id>,
    /// What was done, e.g. `agent.update`, `inbox.create`, `crm.update`, `sessions.revoke`.
    pub action: String,
    /// What it was done to, e.g. `agent:7`.
    pub target: String,
    /// The request, secrets left out.
    pub detail: serde_json::Value,
    /// The client address it came from.
    pub client: Option<String>,
}

/// `GET /api/v1/admin/audit?before=ID&limit=N`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; `None` at the start of the log.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub next_before: Option<Id>,
}

/// `POST /api/v1/admin/teams` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTeam {
    pub name: String,
}

/// `POST /api/v1/admin/inboxes` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateInbox {
    pub kind: ChannelKind,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub team_id: Id,
    /// The business's address on the channel: number, page id, mailbox, widget key.
    pub address: String,
    /// Provider credentials and options; kept in the hub, never sent to consoles.
    #[serde(default)]
    pub settings: serde_json::Value,
}

/// `PATCH /api/v1/admin/inboxes/{id}` body; absent fields are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateInbox {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub team_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

/// `PUT /api/v1/admin/crm` body: the CRM the hub looks customers up in, which of its fields
/// agents see, and how fresh they are kept. `GET` answers the same with secrets masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CrmSettings {
    pub connector: CrmConnector,
    /// The fields agents see, in this order. What `key` names depends on the connector: a
    /// HubSpot property (or `owner`, `companies`, `open_deals`), a Salesforce field path
    /// (`Title`, `Account.Name`), a JSON pointer (`/plan`), or a column name.
    #[serde(default)]
    pub fields: Vec<CrmFieldSetting>,
    /// Cached fields older than this are fetched again when a conversation is opened.
    #[serde(default = "default_ttl_secs")]
    pub ttl_secs: u64,
    /// How long one request to the CRM may take.
    #[serde(default = "default_crm_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default)]
    pub transcripts: TranscriptSettings,
}

fn default_ttl_secs() -> u64 {
    3_600
}

fn default_crm_timeout_ms() -> u64 {
    10_000
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CrmFieldSetting {
    pub key: String,
    pub label: String,
}

/// Logging a resolved conversation's transcript on the CRM contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TranscriptSettings {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Internal notes are left out unless this is set.
    #[serde(default)]
    pub include_notes: bool,
}

impl Default for TranscriptSettings {
    fn default() -> Self {
        TranscriptSettings { enabled: true, include_notes: false }
    }
}

fn yes() -> bool {
    true
}

/// Where the hub looks customers up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrmConnector {
    /// HubSpot CRM v3 with a private app's access token.
    Hubspot {
        #[serde(default = "hubspot_api")]
        base_url: String,
        token: String,
        /// The HubSpot account (portal) id, for links to records.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        portal_id: Option<String>,
        #[serde(default = "hubspot_app")]
        app_url: String,
        /// Search requests per second; HubSpot allows 5 per account.
        #[serde(default = "hubspot_search_rate")]
        searches_per_second: f64,
    },
    /// Salesforce REST with an OAuth access token.
    Salesforce {
        /// The org's instance URL, e.g. `https://acme.my.salesforce.com`.
        instance_url: String,
        token: String,
        #[serde(default = "salesforce_version")]
        api_version: String,
        #[serde(default = "salesforce_rate")]
        requests_per_second: f64,
    },
    /// An in-house HTTP API answering JSON.
    Http {
        /// With `{email}` or `{phone}` where the (URL-encoded) address goes.
        url: String,
        /// Sent with every request, e.g. `{"Authorization": "Bearer ..."}`.
        #[serde(default)]
        headers: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        records: RecordMapping,
        #[serde(default = "http_rate")]
        requests_per_second: f64,
    },
    /// A CSV file of customers with a header row.
    Csv {
        path: String,
        #[serde(default)]
        records: RecordMapping,
    },
    /// Read-only queries against the business's own PostgreSQL; each takes the address as
    /// `$1` and answers one row per customer.
    Sql {
        url: String,
        by_email: String,
        by_phone: String,
        #[serde(default)]
        records: RecordMapping,
    },
}

fn hubspot_api() -> String {
    "https://api.hubapi.com".into()
}

fn hubspot_app() -> String {
    "https://app.hubspot.com".into()
}

fn hubspot_search_rate() -> f64 {
    4.0
}

fn salesforce_version() -> String {
    "v62.0".into()
}

fn salesforce_rate() -> f64 {
    10.0
}

fn http_rate() -> f64 {
    10.0
}

/// Where a record's parts are in a JSON answer or a row: JSON pointers (a bare name means
/// that top-level key or column).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RecordMapping {
    /// Where the list of records is in an answer; absent: the answer is one record or a list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list: Option<String>,
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    /// The record's page, with `{id}` for the record's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Default for RecordMapping {
    fn default() -> Self {
        RecordMapping {
            list: None,
            id: "id".into(),
            name: "name".into(),
            email: "email".into(),
            phone: "phone".into(),
            link: None,
        }
    }
}
