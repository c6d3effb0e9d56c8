//! The queue in the store: conversations joining and leaving it, agents' presence and
//! routing settings, who held each conversation when, and the routing pass. Passes take
//! turns through one locked row (`routing_head`), so several hubs on one PostgreSQL
//! database never give an agent more than their capacity nor a conversation twice; what
//! to give whom is decided by [`crate::routing::plan`].

use super::change_kind::ChangeKind;
use super::db::{placeholders, Connection, Engine, Value};
use super::directory::TeamPolicy;
use super::entities::{self, emit_conversation, emit_public};
use super::pool::WriteTx;
use super::{Result, Store, StoreError};
use crate::params;
use crate::policy::{self, Viewer};
use crate::routing::{self, Candidate, Placement, Queued, ReturnReason};
use std::collections::{BTreeMap, BTreeSet};
use switchboard_protocol::model::{Presence, Priority, RoutingPolicy};
use switchboard_protocol::mutation::{SetAgentRouting, SetPriority, SetRouting};
use switchboard_protocol::sync::Change;

/// The most queued conversations one pass looks at.
const PASS_LIMIT: i64 = 2_000;
/// The most conversations one sweep returns to the queue.
const SWEEP_LIMIT: i64 = 1_000;
/// The most open conversations an agent may be given at once.
pub const MAX_CAPACITY: u32 = 100;

/// The policy a conversation of `team_id` in `inbox_id` is routed by: the inbox's own, or
/// its team's.
fn policy_for(c: &mut dyn Connection, team_id: i64, inbox_id: i64) -> Result<RoutingPolicy> {
    Ok(super::directory::policies(c, team_id, inbox_id)?.routing)
}

/// Puts a conversation in its team's queue, or takes it out, as
/// [`routing::belongs_in_queue`] says. Returns whether it changed; the caller emits the
/// conversation afterwards.
pub(super) fn sync_queue(tx: &mut WriteTx<'_>, conversation_id: i64) -> Result<bool> {
    let r = tx.conn.query_one(
        "SELECT status, assignee_id, team_id, inbox_id, queued_at FROM conversations WHERE id = ?",
        params![conversation_id],
    )?;
    let status = r.parse(0)?;
    let (assignee, team_id, inbox_id, queued_at) = (r.opt_int(1)?, r.int(2)?, r.int(3)?, r.opt_int(4)?);
    let routes = policy_for(tx.conn, team_id, inbox_id)?.routes();
    let belongs = routing::belongs_in_queue(status, assignee, routes);
    match (belongs, queued_at) {
        (true, None) => tx.conn.execute(
            "UPDATE conversations SET queued_at = ?, version = version + 1 WHERE id = ?",
            params![tx.now, conversation_id],
        )?,
        (false, Some(_)) => tx.conn.execute(
            "UPDATE conversations SET queued_at = NULL, returned_from = NULL, version = version + 1 WHERE id = ?",
            params![conversation_id],
        )?,
        _ => return Ok(false),
    };
    Ok(true)
}

/// Records that a conversation is now held by `agent` (or by nobody), ending the previous
/// holder's time with `reason`.
pub(super) fn record_holder(
    tx: &mut WriteTx<'_>,
    conversation_id: i64,
    team_id: i64,
    agent: Option<i64>,
    by: Option<i64>,
    reason: &str,
) -> Result<()> {
    tx.conn.execute(
        "UPDATE assignments SET ended_at = ?, end_reason = ? WHERE conversation_id = ? AND ended_at IS NULL",
        params![tx.now, reason, conversation_id],
    )?;
    if let Some(agent) = agent {
        tx.conn.execute(
            "INSERT INTO assignments (conversation_id, agent_id, team_id, by_agent_id, started_at) VALUES (?, ?, ?, ?, ?)",
            params![conversation_id, agent, team_id, by, tx.now],
        )?;
    }
    Ok(())
}

/// Sets an agent's presence, logs it, and returns their waiting conversations to the
/// queue when they leave `online`. Returns whether it changed.
pub(super) fn set_presence(tx: &mut WriteTx<'_>, agent_id: i64, presence: Presence, automatic: bool) -> Result<bool> {
    let before: Presence =
        tx.conn.query_one("SELECT presence FROM agents WHERE id = ?", params![agent_id])?.parse(0)?;
    if presence == Presence::Online {
        // Choosing to be online counts as being seen, so the sweep does not take it back
        // before the console's stream is up.
        tx.conn.execute("UPDATE agents SET last_seen_at = ? WHERE id = ?", params![tx.now, agent_id])?;
    }
    if before == presence {
        return Ok(false);
    }
    tx.conn.execute(
        "UPDATE agents SET presence = ?, version = version + 1 WHERE id = ?",
        params![presence.as_str(), agent_id],
    )?;
    tx.conn.execute(
        "UPDATE presence_log SET ended_at = ? WHERE agent_id = ? AND ended_at IS NULL",
        params![tx.now, agent_id],
    )?;
    tx.conn.execute(
        "INSERT INTO presence_log (agent_id, presence, automatic, started_at) VALUES (?, ?, ?, ?)",
        params![agent_id, presence.as_str(), i64::from(automatic), tx.now],
    )?;
    let agent = entities::load_agent(tx.conn, agent_id)?;
    emit_public(tx, ChangeKind::Agent, agent_id, &Change::Agent(agent.clone()));
    let reason = match presence {
        Presence::Online => return Ok(true),
        Presence::Away => ReturnReason::Away,
        Presence::Offline => ReturnReason::Offline,
    };
    let waiting = tx.conn.query(
        "SELECT id FROM conversations WHERE assignee_id = ? AND status = 'open' AND waiting_since IS NOT NULL ORDER BY id",
        params![agent_id],
    )?;
    for r in &waiting {
        return_to_queue(tx, r.int(0)?, &agent.name, reason)?;
    }
    Ok(true)
}

/// Takes a conversation back from its agent into the queue, if its policy routes, with a
/// line saying why. A conversation taken back for silence passes that agent over next.
fn return_to_queue(tx: &mut WriteTx<'_>, conversation_id: i64, agent_name: &str, why: ReturnReason) -> Result<bool> {
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    let Some(agent) = conv.assignee_id else { return Ok(false) };
    if !policy_for(tx.conn, conv.team_id, conv.inbox_id)?.routes() {
        return Ok(false);
    }
    let passed_over = matches!(why, ReturnReason::Silent { .. }).then_some(agent);
    let queued_at = conv.waiting_since.unwrap_or(tx.now).min(tx.now);
    tx.conn.execute(
        "UPDATE conversations SET assignee_id = NULL, queued_at = ?, returned_from = ?, updated_by = NULL, \
         version = version + 1 WHERE id = ?",
        params![queued_at, passed_over, conv.id],
    )?;
    record_holder(tx, conv.id, conv.team_id, None, None, why.as_str())?;
    entities::add_system_line(tx, &conv, &routing::return_line(agent_name, why), tx.now)?;
    let after = entities::load_conversation(tx.conn, conv.id)?;
    emit_conversation(tx, &after, None);
    Ok(true)
}

/// Takes the routing lock (the `routing_head` row) until the transaction ends: passes and
/// sweeps of every hub take turns, and each reads what the one before it committed.
fn take_turn(tx: &mut WriteTx<'_>) -> Result<()> {
    tx.conn.execute("UPDATE routing_head SET passes = passes + 1 WHERE id = 1", &[])?;
    Ok(())
}

/// One routing pass: under the routing lock, gives queued conversations to online agents
/// with free slots as [`routing::plan`] says.
fn route_pass(tx: &mut WriteTx<'_>) -> Result<Vec<Placement>> {
    if tx.conn.query_opt("SELECT id FROM conversations WHERE queued_at IS NOT NULL LIMIT 1", &[])?.is_none() {
        return Ok(Vec::new());
    }
    take_turn(tx)?;
    let agents = candidates(tx.conn)?;
    let free: i64 = agents.iter().map(|a| i64::from(a.capacity.saturating_sub(a.load))).sum();
    if free == 0 {
        return Ok(Vec::new());
    }
    let rows = tx.conn.query(
        "SELECT c.id, c.team_id, c.inbox_id, c.contact_id, c.priority, c.queued_at, c.returned_from \
         FROM conversations c WHERE c.queued_at IS NOT NULL ORDER BY c.priority, c.queued_at, c.id LIMIT ?",
        params![PASS_LIMIT.min(free * 8 + 64)],
    )?;
    let pairs: BTreeSet<(i64, i64)> = rows.iter().map(|r| Ok((r.int(1)?, r.int(2)?))).collect::<Result<_>>()?;
    let policies = super::directory::policies_of(tx.conn, &pairs)?;
    // Each queued conversation with its policy; one whose team or inbox is gone stays where
    // it is.
    let mut waiting = Vec::with_capacity(rows.len());
    for r in &rows {
        if let Some(p) = policies.get(&(r.int(1)?, r.int(2)?)) {
            waiting.push((r, &p.routing));
        }
    }
    // What sticky and skill-matched policies match on, read for all their contacts at once.
    let contacts_where = |wanted: fn(&RoutingPolicy) -> bool| -> Result<BTreeSet<i64>> {
        waiting.iter().filter(|(_, p)| wanted(p)).map(|(r, _)| Ok(r.int(3)?)).collect()
    };
    let last_agents = last_agents(tx.conn, &contacts_where(|p| p.sticky)?)?;
    let skilled: Vec<i64> = contacts_where(|p| p.contact_skill_field.is_some())?.into_iter().collect();
    let profiles: BTreeMap<i64, BTreeMap<String, String>> =
        entities::load_contacts(tx.conn, &skilled)?.into_iter().map(|k| (k.id, k.profile)).collect();
    let mut queue = Vec::with_capacity(waiting.len());
    for (r, policy) in waiting {
        let contact_id = r.int(3)?;
        let wanted_skill =
            policy.contact_skill_field.as_deref().and_then(|field| contact_skill(profiles.get(&contact_id)?, field));
        queue.push(Queued {
            id: r.int(0)?,
            team_id: r.int(1)?,
            priority: Priority::from_rank(r.int(4)?),
            queued_at: r.int(5)?,
            policy: policy.clone(),
            last_agent: if policy.sticky { last_agents.get(&contact_id).copied() } else { None },
            wanted_skill,
            passed_over: r.opt_int(6)?,
        });
    }
    let placements = routing::plan(&queue, &agents);
    let mut made = Vec::with_capacity(placements.len());
    for chunk in placements.chunks(PLACE_AT_ONCE) {
        made.extend(place(tx, chunk)?);
    }
    // Round robin reads who was given one longest ago: each agent's last placement, in
    // the order the plan made them.
    let mut last: BTreeMap<i64, i64> = BTreeMap::new();
    for (i, p) in made.iter().enumerate() {
        last.insert(p.agent_id, tx.now + i64::try_from(i).unwrap_or(0));
    }
    note_routed(tx, &last)?;
    Ok(made)
}

/// Records when each agent of `last` was last given a conversation: one statement for all.
fn note_routed(tx: &mut WriteTx<'_>, last: &BTreeMap<i64, i64>) -> Result<()> {
    let entries: Vec<(i64, i64)> = last.iter().map(|(agent, at)| (*agent, *at)).collect();
    for chunk in entries.chunks(PLACE_AT_ONCE) {
        let (sql, args) = set_by_id("agents", "last_routed_at", chunk, "", "");
        tx.conn.execute(&sql, &args)?;
    }
    Ok(())
}

/// `UPDATE table SET column = CASE id WHEN … END{also} WHERE id IN (…){condition}` and its
/// arguments: each (id, value) of `pairs` sets that row's `column` to its own value, in
/// one statement. `also` sets further columns (`, name = …`); `condition` narrows the
/// rows (` AND …`) and may end with `RETURNING`.
fn set_by_id(table: &str, column: &str, pairs: &[(i64, i64)], also: &str, condition: &str) -> (String, Vec<Value>) {
    let mut sql = format!("UPDATE {table} SET {column} = CASE id");
    let mut args = Vec::with_capacity(pairs.len() * 3);
    for (id, value) in pairs {
        sql.push_str(" WHEN ? THEN CAST(? AS BIGINT)");
        args.extend([Value::Int(*id), Value::Int(*value)]);
    }
    sql.push_str(&format!(" END{also} WHERE id IN ({}){condition}", placeholders(pairs.len())));
    args.extend(pairs.iter().map(|(id, _)| Value::Int(*id)));
    (sql, args)
}

/// Placements written in one statement each way.
const PLACE_AT_ONCE: usize = 200;

/// Gives each conversation of `chunk` to its agent if it is still queued (one conditional
/// update for all), records the holders, and emits the conversations. Returns those made.
fn place(tx: &mut WriteTx<'_>, chunk: &[Placement]) -> Result<Vec<Placement>> {
    let pairs: Vec<(i64, i64)> = chunk.iter().map(|p| (p.conversation_id, p.agent_id)).collect();
    let returning = format!(
        " AND assignee_id IS NULL AND queued_at IS NOT NULL AND status = 'open' RETURNING {}",
        entities::CONVERSATION_COLUMNS.replace("c.", "")
    );
    let (update, mut args) = set_by_id(
        "conversations",
        "assignee_id",
        &pairs,
        ", queued_at = NULL, returned_from = NULL, updated_by = NULL, version = version + 1",
        &returning,
    );
    let rows = match tx.conn.engine() {
        // The holders are recorded by the same statement.
        Engine::Postgres => {
            let sql = format!(
                "WITH taken AS ({update}), held AS (INSERT INTO assignments \
                 (conversation_id, agent_id, team_id, by_agent_id, started_at) \
                 SELECT id, assignee_id, team_id, NULL, CAST(? AS BIGINT) FROM taken) SELECT * FROM taken"
            );
            args.push(Value::Int(tx.now));
            tx.conn.query(&sql, &args)?
        }
        Engine::Sqlite => tx.conn.query(&update, &args)?,
    };
    let mut taken = rows.iter().map(entities::conversation).collect::<Result<Vec<_>, _>>()?;
    taken.sort_by_key(|c| c.id);
    let made: Vec<Placement> =
        chunk.iter().copied().filter(|p| taken.binary_search_by_key(&p.conversation_id, |c| c.id).is_ok()).collect();
    if made.is_empty() {
        return Ok(made);
    }
    // SQLite has no data-modifying `WITH`: the holders take a statement of their own.
    if tx.conn.engine() == Engine::Sqlite {
        let mut insert = String::from(
            "INSERT INTO assignments (conversation_id, agent_id, team_id, by_agent_id, started_at) VALUES ",
        );
        let mut values = Vec::with_capacity(made.len() * 4);
        for (i, conv) in taken.iter().enumerate() {
            insert.push_str(if i == 0 { "(?, ?, ?, NULL, ?)" } else { ", (?, ?, ?, NULL, ?)" });
            values.extend([
                Value::Int(conv.id),
                Value::Int(conv.assignee_id.unwrap_or_default()),
                Value::Int(conv.team_id),
                Value::Int(tx.now),
            ]);
        }
        tx.conn.execute(&insert, &values)?;
    }
    for conv in &taken {
        emit_conversation(tx, conv, None);
    }
    Ok(made)
}

/// Online, unpaused, enabled agents with their teams and open conversations, in one query.
fn candidates(c: &mut dyn Connection) -> Result<Vec<Candidate>> {
    let team_list = match c.engine() {
        Engine::Postgres => "string_agg(CAST(m.team_id AS TEXT), ',')",
        Engine::Sqlite => "group_concat(m.team_id, ',')",
    };
    // Each agent's load is counted on its own through the open conversations' index, so
    // no plan made while the table was small reads the whole of it.
    let rows = c.query(
        &format!(
            "SELECT a.id, a.capacity, a.skills, a.last_routed_at, \
             (SELECT count(*) FROM conversations c WHERE c.assignee_id = a.id AND c.status = 'open'), \
             (SELECT {team_list} FROM team_members m WHERE m.agent_id = a.id) FROM agents a \
             WHERE a.presence = 'online' AND a.routing_paused = 0 AND a.disabled_at IS NULL ORDER BY a.id"
        ),
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let teams = r.opt_text(5)?.unwrap_or_default().split(',').filter_map(|t| t.parse().ok()).collect();
            Ok(Candidate {
                id: r.int(0)?,
                teams,
                presence: Presence::Online,
                paused: false,
                capacity: u32::try_from(r.int(1)?).unwrap_or(0),
                load: u32::try_from(r.int(4)?).unwrap_or(u32::MAX),
                skills: r.json(2)?,
                last_routed_at: r.int(3)?,
            })
        })
        .collect()
}

/// The agent who last held a conversation of each contact of `contacts`, in one query.
fn last_agents(c: &mut dyn Connection, contacts: &BTreeSet<i64>) -> Result<BTreeMap<i64, i64>> {
    let ids: Vec<Value> = contacts.iter().map(|&id| Value::Int(id)).collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(PLACE_AT_ONCE) {
        let sql = format!(
            "SELECT contact_id, agent_id FROM (SELECT c.contact_id, a.agent_id, row_number() OVER \
             (PARTITION BY c.contact_id ORDER BY a.started_at DESC, a.id DESC) AS latest \
             FROM assignments a JOIN conversations c ON c.id = a.conversation_id WHERE c.contact_id IN ({})) x \
             WHERE latest = 1",
            placeholders(chunk.len())
        );
        for r in c.query(&sql, chunk)? {
            out.insert(r.int(0)?, r.int(1)?);
        }
    }
    Ok(out)
}

/// The skill a contact's profile field asks for: `field:value`, in lower case.
fn contact_skill(profile: &BTreeMap<String, String>, field: &str) -> Option<String> {
    profile
        .get(field)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| format!("{}:{}", field.trim(), v).to_lowercase())
}

/// Sets a conversation's priority.
pub(super) fn set_priority(tx: &mut WriteTx<'_>, v: &Viewer, s: &SetPriority) -> Result<()> {
    let conv = entities::load_conversation(tx.conn, s.conversation_id)?;
    policy::may_work_on(v, policy::Scope { team_id: conv.team_id, assignee_id: conv.assignee_id })
        .map_err(|_| StoreError::NotFound("conversation"))?;
    if conv.priority == s.priority {
        return Ok(());
    }
    tx.conn.execute(
        "UPDATE conversations SET priority = ?, updated_by = ?, version = version + 1 WHERE id = ?",
        params![s.priority.rank(), v.agent_id, conv.id],
    )?;
    let after = entities::load_conversation(tx.conn, conv.id)?;
    emit_conversation(tx, &after, None);
    Ok(())
}

/// Sets a team's routing, or one of its inboxes' own, and queues (or unqueues) the open
/// unassigned conversations it now covers.
pub(super) fn set_routing(tx: &mut WriteTx<'_>, v: &Viewer, s: &SetRouting) -> Result<()> {
    policy::may_manage_routing(v, s.team_id).map_err(|d| StoreError::denied(d, "team"))?;
    if let Some(why) = s.policy.as_ref().and_then(RoutingPolicy::refuse) {
        return Err(StoreError::BadRequest(why));
    }
    let value = s.policy.as_ref().map(|p| serde_json::to_value(p).unwrap_or_default());
    super::directory::set_team_policy(tx, TeamPolicy::Routing, s.team_id, s.inbox_id, value)?;
    // The conversations the change covers join or leave the queue.
    let affected = tx.conn.query(
        "SELECT id FROM conversations WHERE team_id = ? AND status = 'open' AND (assignee_id IS NULL OR queued_at IS NOT NULL) \
         AND (? = 0 OR inbox_id = ?) ORDER BY id",
        params![s.team_id, s.inbox_id.unwrap_or(0), s.inbox_id.unwrap_or(0)],
    )?;
    for r in &affected {
        let id = r.int(0)?;
        if sync_queue(tx, id)? {
            let conv = entities::load_conversation(tx.conn, id)?;
            emit_conversation(tx, &conv, None);
        }
    }
    Ok(())
}

/// Sets an agent's capacity, routing pause or skills.
pub(super) fn set_agent_routing(tx: &mut WriteTx<'_>, v: &Viewer, s: &SetAgentRouting) -> Result<()> {
    let agent = entities::load_agent(tx.conn, s.agent_id)?;
    policy::may_manage_agent(v, &agent.teams).map_err(|d| StoreError::denied(d, "agent"))?;
    if s.capacity.is_some_and(|c| c > MAX_CAPACITY) {
        return Err(StoreError::BadRequest(format!("capacity must be 0 to {MAX_CAPACITY}")));
    }
    if let Some(why) = s.skills.as_deref().and_then(switchboard_protocol::model::refuse_skills) {
        return Err(StoreError::BadRequest(why));
    }
    if let Some(c) = s.capacity {
        tx.conn.execute("UPDATE agents SET capacity = ? WHERE id = ?", params![c, agent.id])?;
    }
    if let Some(p) = s.paused {
        tx.conn.execute("UPDATE agents SET routing_paused = ? WHERE id = ?", params![i64::from(p), agent.id])?;
    }
    if let Some(skills) = &s.skills {
        let json = serde_json::to_string(skills).unwrap_or_else(|_| "[]".into());
        tx.conn.execute("UPDATE agents SET skills = ? WHERE id = ?", params![json, agent.id])?;
    }
    tx.conn.execute("UPDATE agents SET version = version + 1 WHERE id = ?", params![agent.id])?;
    let after = entities::load_agent(tx.conn, agent.id)?;
    emit_public(tx, ChangeKind::Agent, agent.id, &Change::Agent(after));
    Ok(())
}

impl Store {
    /// Runs one routing pass; returns what it placed.
    pub async fn route_queue(&self) -> Result<Vec<Placement>> {
        self.pool().write_apart(route_pass).await
    }

    /// Notes that consoles of `agents` were connected a moment ago, or have just gone (their
    /// grace period counts from here): presence holds while one is. The caller gives them
    /// in id order ([`super::db::stamp_last_seen`]); in a transaction of its own.
    pub async fn seen_agents(&self, agents: Vec<i64>) -> Result<()> {
        if agents.is_empty() {
            return Ok(());
        }
        self.pool().write_apart(move |tx| Ok(super::db::stamp_last_seen(tx.conn, "agents", tx.now, &agents)?)).await
    }

    /// Sets agents offline whose consoles have all been gone for `grace_ms`; returns how
    /// many.
    pub async fn sweep_presence(&self, grace_ms: i64) -> Result<usize> {
        self.pool()
            .write_apart(move |tx| {
                take_turn(tx)?;
                let rows =
                    tx.conn.query("SELECT id, presence, last_seen_at FROM agents WHERE presence <> 'offline'", &[])?;
                let mut n = 0;
                for r in &rows {
                    if routing::gone(r.parse(1)?, r.opt_int(2)?, grace_ms, tx.now) {
                        n += usize::from(set_presence(tx, r.int(0)?, Presence::Offline, true)?);
                    }
                }
                Ok(n)
            })
            .await
    }

    /// Returns to the queue the conversations whose customer has waited on their agent
    /// past their policy's `reassign_after_mins`; returns how many.
    pub async fn return_silent(&self) -> Result<usize> {
        self.pool()
            .write_apart(move |tx| {
                take_turn(tx)?;
                let rows = tx.conn.query(
                    "SELECT c.id, c.team_id, c.inbox_id, c.waiting_since, a.started_at, g.name FROM conversations c \
                     JOIN assignments a ON a.conversation_id = c.id AND a.ended_at IS NULL \
                     JOIN agents g ON g.id = c.assignee_id \
                     WHERE c.status = 'open' AND c.assignee_id IS NOT NULL AND c.waiting_since <= ? \
                     ORDER BY c.waiting_since LIMIT ?",
                    params![tx.now - 60_000, SWEEP_LIMIT],
                )?;
                let mut n = 0;
                for r in &rows {
                    let policy = policy_for(tx.conn, r.int(1)?, r.int(2)?)?;
                    let after = policy.reassign_after_mins;
                    if policy.routes() && routing::silent_too_long(r.opt_int(3)?, r.int(4)?, after, tx.now) {
                        let why = ReturnReason::Silent { mins: after.unwrap_or(0) };
                        n += usize::from(return_to_queue(tx, r.int(0)?, r.text(5)?, why)?);
                    }
                }
                Ok(n)
            })
            .await
    }
}
