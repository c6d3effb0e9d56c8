//! Agents, teams, inboxes and sessions: who works in the workspace and where customers
//! reach it. Secrets (password and token hashes, provider settings) stay in here.

use super::change_kind::ChangeKind;
use super::db::{placeholders, Connection, Row, Value};
use super::entities::{self, emit_private, emit_public, role_str};
use super::{Result, Store, StoreError};
use crate::params;
use crate::policy::Viewer;
use switchboard_protocol::admin::{CreateInbox, UpdateAgent, UpdateInbox};
use switchboard_protocol::model::{Agent, Inbox, Role, Team};
use switchboard_protocol::sync::Change;

pub fn load_viewer(c: &mut dyn Connection, agent_id: i64) -> Result<Viewer> {
    let agent = entities::load_agent(c, agent_id)?;
    Ok(Viewer { agent_id, role: agent.role, teams: agent.teams })
}

/// A new agent; `password_hash` is already an argon2 PHC string.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub teams: Vec<i64>,
    pub capacity: u32,
}

/// What login needs to check a password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub agent_id: i64,
    pub password_hash: String,
    pub disabled: bool,
}

/// Sessions read or written in one statement.
const SESSIONS_AT_ONCE: usize = 500;

/// A session's columns as [`session_record`] reads them, and where they come from.
const SESSION_COLUMNS: &str = "s.agent_id, s.secret_hash, s.revoked_at, a.disabled_at, s.created_at, s.last_seen_at";
const SESSION_FROM: &str = "FROM sessions s JOIN agents a ON a.id = s.agent_id";

fn session_record(r: &Row) -> Result<SessionRecord> {
    Ok(SessionRecord {
        agent_id: r.int(0)?,
        secret_hash: r.text(1)?.to_owned(),
        revoked: r.opt_int(2)?.is_some(),
        disabled: r.opt_int(3)?.is_some(),
        created_at: r.int(4)?,
        last_seen_at: r.int(5)?,
    })
}

/// A session as the token check needs it.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub agent_id: i64,
    pub secret_hash: String,
    pub revoked: bool,
    /// The agent has been disabled since.
    pub disabled: bool,
    pub created_at: i64,
    /// The last time a request used it (kept to within a minute).
    pub last_seen_at: i64,
}

fn check_name(what: &str, s: &str) -> Result<String> {
    let cleaned = switchboard_protocol::text::clean(s);
    let t = cleaned.trim();
    if t.is_empty() || t.len() > 200 {
        return Err(StoreError::BadRequest(format!("{what} must be 1 to 200 characters")));
    }
    Ok(t.to_owned())
}

/// Refuses inbox settings whose opt-out and opt-in keywords or required consents cannot be used.
fn check_settings(settings: &serde_json::Value) -> Result<()> {
    keywords_of(settings).map_err(StoreError::BadRequest)?;
    crate::consent::required_of(settings).map_err(StoreError::BadRequest)?;
    crate::fallback::of_settings(settings).map_err(StoreError::BadRequest)?;
    crate::bot::of_settings(settings).map_err(StoreError::BadRequest)?;
    Ok(())
}

/// An inbox's own opt-out and opt-in keywords (none when it sets none).
pub fn keywords_of(settings: &serde_json::Value) -> std::result::Result<crate::rules::Keywords, String> {
    let Some(v) = settings.get("keywords").filter(|v| !v.is_null()) else { return Ok(Default::default()) };
    let k: crate::rules::Keywords = serde_json::from_value(v.clone())
        .map_err(|e| format!("`keywords` must be {{\"opt_out\": [...], \"opt_in\": [...]}}: {e}"))?;
    match k.refuse() {
        Some(why) => Err(why),
        None => Ok(k),
    }
}

fn set_teams(tx: &mut super::pool::WriteTx<'_>, agent_id: i64, teams: &[i64]) -> Result<()> {
    tx.conn.execute("DELETE FROM team_members WHERE agent_id = ?", params![agent_id])?;
    for &t in teams {
        if tx.conn.query_opt("SELECT id FROM teams WHERE id = ?", params![t])?.is_none() {
            return Err(StoreError::BadRequest(format!("team {t} does not exist")));
        }
        tx.conn.execute(
            "INSERT INTO team_members (team_id, agent_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            params![t, agent_id],
        )?;
    }
    Ok(())
}

/// The policies a conversation follows.
#[derive(Debug, Clone)]
pub(super) struct Policies {
    pub routing: switchboard_protocol::model::RoutingPolicy,
    pub sla: Option<switchboard_protocol::model::SlaPolicy>,
}

/// The policies of a conversation of `team_id` in `inbox_id`: the inbox's own where it
/// has them, its team's otherwise, read in one query.
pub(super) fn policies(c: &mut dyn Connection, team_id: i64, inbox_id: i64) -> Result<Policies> {
    let r = c.query_one(
        "SELECT i.settings, t.routing, t.sla FROM inboxes i, teams t WHERE i.id = ? AND t.id = ?",
        params![inbox_id, team_id],
    )?;
    policies_in(&r, 0)
}

/// The policies of each (team, inbox) pair in `keys`, read in one query for them all;
/// a pair whose team or inbox is gone is left out.
pub(super) fn policies_of(
    c: &mut dyn Connection,
    keys: &std::collections::BTreeSet<(i64, i64)>,
) -> Result<std::collections::HashMap<(i64, i64), Policies>> {
    let keys: Vec<(i64, i64)> = keys.iter().copied().collect();
    let mut out = std::collections::HashMap::new();
    for chunk in keys.chunks(100) {
        let sql = format!(
            "SELECT t.id, i.id, i.settings, t.routing, t.sla FROM (VALUES {}) AS k \
             JOIN teams t ON t.id = k.column1 JOIN inboxes i ON i.id = k.column2",
            vec!["(CAST(? AS BIGINT), CAST(? AS BIGINT))"; chunk.len()].join(", ")
        );
        let params: Vec<Value> = chunk.iter().flat_map(|&(t, i)| [t.into(), i.into()]).collect();
        for r in c.query(&sql, &params)? {
            out.insert((r.int(0)?, r.int(1)?), policies_in(&r, 2)?);
        }
    }
    Ok(out)
}

/// Reads policies from a row holding an inbox's settings, then its team's routing and SLA
/// columns, from column `at`.
fn policies_in(r: &Row, at: usize) -> Result<Policies> {
    let settings = r.json::<serde_json::Value>(at)?;
    let own = |key: &str| settings.get(key).filter(|v| !v.is_null());
    let routing = match own(TeamPolicy::Routing.key()) {
        Some(p) => entities::routing_policy(p),
        None => entities::routing_policy(&r.json::<serde_json::Value>(at + 1)?),
    };
    let sla = match own(TeamPolicy::Sla.key()) {
        Some(p) => serde_json::from_value(p.clone()).ok(),
        None => r.opt_text(at + 2)?.and_then(|t| serde_json::from_str(t).ok()),
    };
    Ok(Policies { routing, sla })
}

/// A policy a team keeps, and each of its inboxes may keep its own of: the team's column,
/// and the key in the inbox's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TeamPolicy {
    Routing,
    Sla,
}

impl TeamPolicy {
    fn key(self) -> &'static str {
        match self {
            TeamPolicy::Routing => "routing",
            TeamPolicy::Sla => "sla",
        }
    }
}

/// Writes a team's policy (`inbox_id` none) or one of its inboxes' own (`value` none: the
/// inbox follows the team's again), and tells every console. The caller checked who may.
pub(super) fn set_team_policy(
    tx: &mut super::pool::WriteTx<'_>,
    which: TeamPolicy,
    team_id: i64,
    inbox_id: Option<i64>,
    value: Option<serde_json::Value>,
) -> Result<()> {
    if tx.conn.query_opt("SELECT id FROM teams WHERE id = ?", params![team_id])?.is_none() {
        return Err(StoreError::NotFound("team"));
    }
    match inbox_id {
        Some(inbox_id) => {
            let inbox = entities::load_inbox(tx.conn, inbox_id)?;
            if inbox.team_id != team_id {
                return Err(StoreError::BadRequest(format!("inbox {inbox_id} is not team {team_id}'s")));
            }
            let mut settings = tx
                .conn
                .query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox_id])?
                .json::<serde_json::Value>(0)?;
            if !settings.is_object() {
                settings = serde_json::json!({});
            }
            settings[which.key()] = value.unwrap_or(serde_json::Value::Null);
            tx.conn.execute(
                "UPDATE inboxes SET settings = ?, version = version + 1 WHERE id = ?",
                params![settings.to_string(), inbox_id],
            )?;
            let inbox = entities::load_inbox(tx.conn, inbox_id)?;
            emit_public(tx, ChangeKind::Inbox, inbox_id, &Change::Inbox(inbox));
        }
        None => {
            let sql = match which {
                TeamPolicy::Routing => "UPDATE teams SET routing = ?, version = version + 1 WHERE id = ?",
                TeamPolicy::Sla => "UPDATE teams SET sla = ?, version = version + 1 WHERE id = ?",
            };
            let value = match (which, value) {
                (_, Some(v)) => Some(v.to_string()),
                (TeamPolicy::Routing, None) => {
                    return Err(StoreError::BadRequest("a team's routing needs a policy".into()));
                }
                (TeamPolicy::Sla, None) => None,
            };
            tx.conn.execute(sql, params![value, team_id])?;
            let team = entities::load_teams(tx.conn)?
                .into_iter()
                .find(|t| t.id == team_id)
                .ok_or(StoreError::NotFound("team"))?;
            emit_public(tx, ChangeKind::Team, team_id, &Change::Team(team));
        }
    }
    Ok(())
}

impl Store {
    pub async fn create_team(&self, name: &str) -> Result<Team> {
        let name = check_name("a team name", name)?;
        self.pool()
            .write(move |tx| {
                if tx.conn.query_opt("SELECT id FROM teams WHERE name = ?", params![&name])?.is_some() {
                    return Err(StoreError::BadRequest(format!("a team named `{name}` already exists")));
                }
                let id = tx.conn.query_int(
                    "INSERT INTO teams (name, created_at) VALUES (?, ?) RETURNING id",
                    params![&name, tx.now],
                )?;
                let team = Team { id, name: name.clone(), routing: Default::default(), sla: None, version: 1 };
                emit_public(tx, ChangeKind::Team, id, &Change::Team(team.clone()));
                Ok(team)
            })
            .await
    }

    pub async fn create_agent(&self, new: NewAgent) -> Result<Agent> {
        let name = check_name("a name", &new.name)?;
        let email = crate::address::normalize(switchboard_protocol::model::ChannelKind::Email, &new.email, "US")?;
        self.pool()
            .write(move |tx| {
                if tx.conn.query_opt("SELECT id FROM agents WHERE email = ?", params![&email])?.is_some() {
                    return Err(StoreError::BadRequest(format!("an agent with email {email} already exists")));
                }
                let id = tx.conn.query_int(
                    "INSERT INTO agents (name, email, role, password_hash, capacity, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    params![&name, &email, role_str(new.role), &new.password_hash, new.capacity, tx.now],
                )?;
                set_teams(tx, id, &new.teams)?;
                let agent = entities::load_agent(tx.conn, id)?;
                emit_public(tx, ChangeKind::Agent, id, &Change::Agent(agent.clone()));
                Ok(agent)
            })
            .await
    }

    /// Changes an agent; a new role or new teams tell that agent's console to bootstrap again.
    pub async fn update_agent(&self, id: i64, patch: UpdateAgent, password_hash: Option<String>) -> Result<Agent> {
        let name = patch.name.as_deref().map(|n| check_name("a name", n)).transpose()?;
        self.pool()
            .write(move |tx| {
                let before = entities::load_agent(tx.conn, id)?;
                if let Some(name) = &name {
                    tx.conn.execute("UPDATE agents SET name = ? WHERE id = ?", params![name, id])?;
                }
                if let Some(role) = patch.role {
                    tx.conn.execute("UPDATE agents SET role = ? WHERE id = ?", params![role_str(role), id])?;
                }
                if let Some(cap) = patch.capacity {
                    tx.conn.execute("UPDATE agents SET capacity = ? WHERE id = ?", params![cap, id])?;
                }
                if let Some(hash) = &password_hash {
                    tx.conn.execute("UPDATE agents SET password_hash = ? WHERE id = ?", params![hash, id])?;
                }
                match patch.disabled {
                    Some(true) => {
                        tx.conn.execute(
                            "UPDATE agents SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
                            params![tx.now, id],
                        )?;
                    }
                    Some(false) => {
                        tx.conn.execute("UPDATE agents SET disabled_at = NULL WHERE id = ?", params![id])?;
                    }
                    None => {}
                }
                if password_hash.is_some() || patch.disabled == Some(true) {
                    tx.conn.execute(
                        "UPDATE sessions SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL",
                        params![tx.now, id],
                    )?;
                }
                if let Some(teams) = &patch.teams {
                    set_teams(tx, id, teams)?;
                }
                tx.conn.execute("UPDATE agents SET version = version + 1 WHERE id = ?", params![id])?;
                let agent = entities::load_agent(tx.conn, id)?;
                emit_public(tx, ChangeKind::Agent, id, &Change::Agent(agent.clone()));
                if agent.teams != before.teams || agent.role != before.role {
                    emit_private(tx, ChangeKind::Scope, id, id, &Change::ScopeChanged);
                }
                Ok(agent)
            })
            .await
    }

    pub async fn create_inbox(&self, req: CreateInbox) -> Result<Inbox> {
        let name = check_name("an inbox name", &req.name)?;
        let address = check_name("an inbox address", &req.address)?;
        check_settings(&req.settings)?;
        let settings = if req.settings.is_null() { "{}".to_owned() } else { req.settings.to_string() };
        self.pool()
            .write(move |tx| {
                if tx.conn.query_opt("SELECT id FROM teams WHERE id = ?", params![req.team_id])?.is_none() {
                    return Err(StoreError::BadRequest(format!("team {} does not exist", req.team_id)));
                }
                if tx.conn.query_opt("SELECT id FROM inboxes WHERE kind = ? AND address = ?", params![req.kind.as_str(), &address])?.is_some() {
                    return Err(StoreError::BadRequest(format!("a {} inbox for {address} already exists", req.kind)));
                }
                let id = tx.conn.query_int(
                    "INSERT INTO inboxes (kind, name, team_id, address, settings, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    params![req.kind.as_str(), &name, req.team_id, &address, &settings, tx.now],
                )?;
                let inbox = entities::load_inbox(tx.conn, id)?;
                emit_public(tx, ChangeKind::Inbox, id, &Change::Inbox(inbox.clone()));
                Ok(inbox)
            })
            .await
    }

    pub async fn update_inbox(&self, id: i64, patch: UpdateInbox) -> Result<Inbox> {
        let name = patch.name.as_deref().map(|n| check_name("an inbox name", n)).transpose()?;
        if let Some(settings) = &patch.settings {
            check_settings(settings)?;
        }
        self.pool()
            .write(move |tx| {
                entities::load_inbox(tx.conn, id)?;
                if let Some(name) = &name {
                    tx.conn.execute("UPDATE inboxes SET name = ? WHERE id = ?", params![name, id])?;
                }
                if let Some(team) = patch.team_id {
                    if tx.conn.query_opt("SELECT id FROM teams WHERE id = ?", params![team])?.is_none() {
                        return Err(StoreError::BadRequest(format!("team {team} does not exist")));
                    }
                    tx.conn.execute("UPDATE inboxes SET team_id = ? WHERE id = ?", params![team, id])?;
                }
                if let Some(settings) = &patch.settings {
                    tx.conn
                        .execute("UPDATE inboxes SET settings = ? WHERE id = ?", params![settings.to_string(), id])?;
                }
                tx.conn.execute("UPDATE inboxes SET version = version + 1 WHERE id = ?", params![id])?;
                let inbox = entities::load_inbox(tx.conn, id)?;
                emit_public(tx, ChangeKind::Inbox, id, &Change::Inbox(inbox.clone()));
                Ok(inbox)
            })
            .await
    }

    pub async fn inbox_settings(&self, id: i64) -> Result<serde_json::Value> {
        self.pool()
            .read(move |c| {
                let row = c
                    .query_opt("SELECT settings FROM inboxes WHERE id = ?", params![id])?
                    .ok_or(StoreError::NotFound("inbox"))?;
                Ok(row.json(0)?)
            })
            .await
    }

    pub async fn agents(&self) -> Result<Vec<Agent>> {
        self.pool().read(|c| entities::load_agents(c, None)).await
    }

    pub async fn teams(&self) -> Result<Vec<Team>> {
        self.pool().read(entities::load_teams).await
    }

    pub async fn inboxes(&self) -> Result<Vec<Inbox>> {
        self.pool().read(entities::load_inboxes).await
    }

    pub async fn credentials(&self, email: &str) -> Result<Option<Credentials>> {
        let email = email.trim().to_lowercase();
        self.pool()
            .read(move |c| {
                let row =
                    c.query_opt("SELECT id, password_hash, disabled_at FROM agents WHERE email = ?", params![&email])?;
                row.map(|r| -> Result<_> {
                    Ok(Credentials {
                        agent_id: r.int(0)?,
                        password_hash: r.text(1)?.to_owned(),
                        disabled: r.opt_int(2)?.is_some(),
                    })
                })
                .transpose()
            })
            .await
    }

    /// Stores a new session begun from `client` and returns its id.
    pub async fn create_session(&self, agent_id: i64, secret_hash: String, client: String) -> Result<i64> {
        self.pool()
            .write(move |tx| {
                Ok(tx.conn.query_int(
                    "INSERT INTO sessions (agent_id, secret_hash, created_at, last_seen_at, client) \
                     VALUES (?, ?, ?, ?, ?) RETURNING id",
                    params![agent_id, &secret_hash, tx.now, tx.now, &client],
                )?)
            })
            .await
    }

    pub async fn session(&self, id: i64) -> Result<Option<SessionRecord>> {
        self.pool()
            .read(move |c| {
                let row =
                    c.query_opt(&format!("SELECT {SESSION_COLUMNS} {SESSION_FROM} WHERE s.id = ?"), params![id])?;
                row.map(|r| session_record(&r)).transpose()
            })
            .await
    }

    /// Those of the sessions `ids` that exist, with their ids: one statement per
    /// [`SESSIONS_AT_ONCE`].
    pub async fn sessions(&self, ids: Vec<i64>) -> Result<Vec<(i64, SessionRecord)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.pool()
            .read(move |c| {
                let mut found = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(SESSIONS_AT_ONCE) {
                    let values: Vec<Value> = chunk.iter().map(|&id| Value::Int(id)).collect();
                    let sql = format!(
                        "SELECT {SESSION_COLUMNS}, s.id {SESSION_FROM} WHERE s.id IN ({})",
                        placeholders(chunk.len())
                    );
                    for r in c.query(&sql, &values)? {
                        found.push((r.int(6)?, session_record(&r)?));
                    }
                }
                Ok(found)
            })
            .await
    }

    /// Notes that a session was just used (its idle expiry starts again).
    pub async fn touch_session(&self, id: i64) -> Result<()> {
        self.touch_sessions(vec![id]).await
    }

    /// Notes that the sessions `ids` were just used.
    pub async fn touch_sessions(&self, ids: Vec<i64>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.pool().write(move |tx| Ok(super::db::stamp_last_seen(tx.conn, "sessions", tx.now, &ids)?)).await
    }

    /// Ends every live session of an agent; returns how many.
    pub async fn revoke_sessions_of(&self, agent_id: i64) -> Result<u64> {
        self.pool()
            .write(move |tx| {
                Ok(tx.conn.execute(
                    "UPDATE sessions SET revoked_at = ? WHERE agent_id = ? AND revoked_at IS NULL",
                    params![tx.now, agent_id],
                )?)
            })
            .await
    }

    pub async fn revoke_session(&self, id: i64) -> Result<()> {
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    params![tx.now, id],
                )?;
                Ok(())
            })
            .await
    }
}
