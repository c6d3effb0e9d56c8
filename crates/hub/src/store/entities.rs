//! Rows to wire types, the loaders every module shares, and the feed changes each kind
//! of write emits (with the team that may see them).

use super::change_kind::ChangeKind;
use super::db::{placeholders, Connection, DbError, Row, Value};
use super::pool::{NewChange, WriteTx};
use super::{Result, StoreError};
use crate::params;
use std::collections::BTreeMap;
use switchboard_protocol::model::Consent;
use switchboard_protocol::model::{
    Agent, ChannelKind, Contact, Conversation, Identity, Inbox, Message, Priority, ReadMarker, Role, RoutingPolicy,
    Team,
};
use switchboard_protocol::sync::Change;

pub const CONVERSATION_COLUMNS: &str = "c.id, c.contact_id, c.inbox_id, c.channel, c.status, c.snoozed_until, \
    c.assignee_id, c.team_id, c.waiting_since, c.last_activity_at, c.reply_window_expires_at, c.preview, \
    c.updated_by, c.created_at, c.version, c.customer_address, c.priority, c.queued_at, c.first_response_due_at, \
    c.next_response_due_at, c.resolution_due_at, c.sla_state, c.csat_score";

pub const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.channel, m.direction, m.author_agent_id, m.body, \
    m.attachments, m.provider_id, m.client_msg_id, m.delivery, m.delivery_error, m.created_at, m.version, m.subject, \
    m.choices, m.chosen, m.bot";

pub const CONTACT_COLUMNS: &str = "k.id, k.name, k.profile, k.crm, k.created_at, k.updated_at, k.version";

pub const AGENT_COLUMNS: &str =
    "a.id, a.name, a.email, a.role, a.capacity, a.presence, a.version, a.disabled_at, a.skills, a.routing_paused";

pub fn conversation(r: &Row) -> Result<Conversation, DbError> {
    Ok(Conversation {
        id: r.int(0)?,
        contact_id: r.int(1)?,
        inbox_id: r.int(2)?,
        channel: r.parse(3)?,
        status: r.parse(4)?,
        snoozed_until: r.opt_int(5)?,
        assignee_id: r.opt_int(6)?,
        team_id: r.int(7)?,
        waiting_since: r.opt_int(8)?,
        last_activity_at: r.int(9)?,
        reply_window_expires_at: r.opt_int(10)?,
        preview: r.text(11)?.to_owned(),
        updated_by: r.opt_int(12)?,
        created_at: r.int(13)?,
        version: r.int(14)?,
        customer_address: r.text(15)?.to_owned(),
        priority: Priority::from_rank(r.int(16)?),
        queued_at: r.opt_int(17)?,
        first_response_due_at: r.opt_int(18)?,
        next_response_due_at: r.opt_int(19)?,
        resolution_due_at: r.opt_int(20)?,
        sla_state: r.parse(21)?,
        csat_score: r.opt_int(22)?.and_then(|s| u8::try_from(s).ok()),
    })
}

pub fn message(r: &Row) -> Result<Message, DbError> {
    Ok(Message {
        id: r.int(0)?,
        conversation_id: r.int(1)?,
        channel: r.parse(2)?,
        direction: r.parse(3)?,
        author_agent_id: r.opt_int(4)?,
        body: r.text(5)?.to_owned(),
        attachments: r.json(6)?,
        provider_id: r.opt_text(7)?.map(str::to_owned),
        client_msg_id: r.opt_text(8)?.map(str::to_owned),
        delivery: r.opt_text(9)?.map(str::parse).transpose().map_err(DbError::Decode)?,
        delivery_error: r.opt_text(10)?.map(str::to_owned),
        created_at: r.int(11)?,
        version: r.int(12)?,
        subject: r.opt_text(13)?.map(str::to_owned),
        choices: r.opt_text(14)?.map(serde_json::from_str).transpose().map_err(|e| DbError::Decode(e.to_string()))?,
        chosen: r.opt_text(15)?.map(serde_json::from_str).transpose().map_err(|e| DbError::Decode(e.to_string()))?,
        bot: r.opt_text(16)?.map(str::to_owned),
    })
}

fn parse_role(s: &str) -> Result<Role, DbError> {
    match s {
        "agent" => Ok(Role::Agent),
        "lead" => Ok(Role::Lead),
        "admin" => Ok(Role::Admin),
        other => Err(DbError::Decode(format!("unknown role `{other}`"))),
    }
}

pub fn role_str(r: Role) -> &'static str {
    match r {
        Role::Agent => "agent",
        Role::Lead => "lead",
        Role::Admin => "admin",
    }
}

fn parse_presence(s: &str) -> switchboard_protocol::model::Presence {
    use switchboard_protocol::model::Presence;
    match s {
        "online" => Presence::Online,
        "away" => Presence::Away,
        _ => Presence::Offline,
    }
}

pub fn load_conversation(c: &mut dyn Connection, id: i64) -> Result<Conversation> {
    let sql = format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE c.id = ?");
    let row = c.query_opt(&sql, params![id])?.ok_or(StoreError::NotFound("conversation"))?;
    Ok(conversation(&row)?)
}

pub fn load_message(c: &mut dyn Connection, id: i64) -> Result<Message> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?");
    let row = c.query_opt(&sql, params![id])?.ok_or(StoreError::NotFound("message"))?;
    Ok(message(&row)?)
}

/// Loads contacts with their identities. Missing ids are left out.
pub fn load_contacts(c: &mut dyn Connection, ids: &[i64]) -> Result<Vec<Contact>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let list = placeholders(chunk.len());
        let params: Vec<Value> = chunk.iter().map(|&i| Value::Int(i)).collect();
        let rows = c.query(
            &format!("SELECT {CONTACT_COLUMNS} FROM contacts k WHERE k.id IN ({list}) ORDER BY k.id"),
            &params,
        )?;
        let ids_rows = c.query(
            &format!(
                "SELECT i.contact_id, i.channel, i.address, o.at FROM identities i \
                 LEFT JOIN opt_outs o ON o.channel = i.channel AND o.address = i.address \
                 WHERE i.contact_id IN ({list}) ORDER BY i.id"
            ),
            &params,
        )?;
        let mut opted_out: BTreeMap<i64, Vec<Identity>> = BTreeMap::new();
        for r in &ids_rows {
            if r.opt_int(3)?.is_some() {
                opted_out
                    .entry(r.int(0)?)
                    .or_default()
                    .push(Identity { channel: r.parse(1)?, address: r.text(2)?.to_owned() });
            }
        }
        let consent_rows = c.query(
            &format!(
                "SELECT i.contact_id, k.channel, k.address, k.purpose, k.granted, k.source, k.evidence, k.reason, k.agent_id, k.at \
                 FROM identities i JOIN consents k ON k.channel = i.channel AND k.address = i.address \
                 WHERE i.contact_id IN ({list}) AND k.id = (SELECT max(l.id) FROM consents l \
                 WHERE l.channel = k.channel AND l.address = k.address AND l.purpose = k.purpose) ORDER BY k.id"
            ),
            &params,
        )?;
        let mut consents: BTreeMap<i64, Vec<Consent>> = BTreeMap::new();
        for r in &consent_rows {
            consents.entry(r.int(0)?).or_default().push(Consent {
                channel: r.parse(1)?,
                address: r.text(2)?.to_owned(),
                purpose: r.parse(3)?,
                granted: r.int(4)? != 0,
                source: r.parse(5)?,
                evidence: r.text(6)?.to_owned(),
                reason: r.opt_text(7)?.map(str::to_owned),
                by_agent_id: r.opt_int(8)?,
                at: r.int(9)?,
            });
        }
        let mut identities: BTreeMap<i64, Vec<Identity>> = BTreeMap::new();
        for r in &ids_rows {
            identities
                .entry(r.int(0)?)
                .or_default()
                .push(Identity { channel: r.parse(1)?, address: r.text(2)?.to_owned() });
        }
        for r in &rows {
            let id = r.int(0)?;
            out.push(Contact {
                id,
                name: r.text(1)?.to_owned(),
                identities: identities.remove(&id).unwrap_or_default(),
                opted_out: opted_out.remove(&id).unwrap_or_default(),
                consents: consents.remove(&id).unwrap_or_default(),
                profile: r.json(2)?,
                crm: r
                    .opt_text(3)?
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| DbError::Decode(e.to_string()))?,
                created_at: r.int(4)?,
                updated_at: r.int(5)?,
                version: r.int(6)?,
            });
        }
    }
    Ok(out)
}

pub fn load_contact(c: &mut dyn Connection, id: i64) -> Result<Contact> {
    load_contacts(c, &[id])?.pop().ok_or(StoreError::NotFound("contact"))
}

/// Agents with their teams; all of them when `only` is `None`.
pub fn load_agents(c: &mut dyn Connection, only: Option<i64>) -> Result<Vec<Agent>> {
    let (filter, params) = match only {
        Some(id) => (" WHERE a.id = ?", vec![Value::Int(id)]),
        None => ("", vec![]),
    };
    let rows = c.query(&format!("SELECT {AGENT_COLUMNS} FROM agents a{filter} ORDER BY a.id"), &params)?;
    let members = c.query(
        &format!("SELECT tm.agent_id, tm.team_id FROM team_members tm JOIN agents a ON a.id = tm.agent_id{filter} ORDER BY tm.team_id"),
        &params,
    )?;
    let mut teams: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for m in &members {
        teams.entry(m.int(0)?).or_default().push(m.int(1)?);
    }
    rows.iter()
        .map(|r| {
            let id = r.int(0)?;
            Ok(Agent {
                id,
                name: r.text(1)?.to_owned(),
                email: r.text(2)?.to_owned(),
                role: parse_role(r.text(3)?)?,
                teams: teams.remove(&id).unwrap_or_default(),
                capacity: u32::try_from(r.int(4)?).unwrap_or(0),
                presence: parse_presence(r.text(5)?),
                version: r.int(6)?,
                disabled: r.opt_int(7)?.is_some(),
                skills: r.json(8)?,
                routing_paused: r.int(9)? != 0,
            })
        })
        .collect()
}

pub fn load_agent(c: &mut dyn Connection, id: i64) -> Result<Agent> {
    load_agents(c, Some(id))?.pop().ok_or(StoreError::NotFound("agent"))
}

pub fn load_teams(c: &mut dyn Connection) -> Result<Vec<Team>> {
    let rows = c.query("SELECT id, name, version, routing, sla FROM teams ORDER BY id", &[])?;
    rows.iter()
        .map(|r| {
            Ok(Team {
                id: r.int(0)?,
                name: r.text(1)?.to_owned(),
                version: r.int(2)?,
                routing: routing_policy(&r.json::<serde_json::Value>(3)?),
                sla: r.opt_text(4)?.and_then(|t| serde_json::from_str(t).ok()),
            })
        })
        .collect()
}

/// A stored routing policy; one that no longer reads (written by a newer hub) is manual.
pub fn routing_policy(v: &serde_json::Value) -> RoutingPolicy {
    serde_json::from_value(v.clone()).unwrap_or_default()
}

pub fn inbox(r: &Row) -> Result<Inbox, DbError> {
    let settings = r.json::<serde_json::Value>(6)?;
    Ok(Inbox {
        id: r.int(0)?,
        kind: r.parse(1)?,
        name: r.text(2)?.to_owned(),
        team_id: r.int(3)?,
        address: r.text(4)?.to_owned(),
        version: r.int(5)?,
        templates: templates(&settings),
        routing: settings.get("routing").filter(|v| !v.is_null()).map(routing_policy),
        sla: settings.get("sla").filter(|v| !v.is_null()).and_then(|v| serde_json::from_value(v.clone()).ok()),
    })
}

/// The approved templates listed in an inbox's settings (`templates: [{name, language, body}]`).
pub fn templates(settings: &serde_json::Value) -> Vec<switchboard_protocol::model::Template> {
    settings.get("templates").cloned().and_then(|t| serde_json::from_value(t).ok()).unwrap_or_default()
}

pub const INBOX_COLUMNS: &str = "id, kind, name, team_id, address, version, settings";

pub fn load_inboxes(c: &mut dyn Connection) -> Result<Vec<Inbox>> {
    let rows = c.query(&format!("SELECT {INBOX_COLUMNS} FROM inboxes ORDER BY id"), &[])?;
    Ok(rows.iter().map(inbox).collect::<Result<_, _>>()?)
}

pub fn load_inbox(c: &mut dyn Connection, id: i64) -> Result<Inbox> {
    Ok(load_inbox_and_settings(c, id)?.0)
}

/// The inbox and its settings as stored, read once, for a write that consults both.
pub fn load_inbox_and_settings(c: &mut dyn Connection, id: i64) -> Result<(Inbox, serde_json::Value)> {
    let row = c
        .query_opt(&format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE id = ?"), params![id])?
        .ok_or(StoreError::NotFound("inbox"))?;
    Ok((inbox(&row)?, row.json(6)?))
}

fn json(change: &Change) -> String {
    // A `Change` holds only strings, numbers and maps with string keys: it always serialises.
    serde_json::to_string(change).unwrap_or_else(|e| {
        tracing::error!("cannot serialise a change: {e}");
        String::from("{\"type\":\"scope_changed\"}")
    })
}

/// Records a conversation change; `prev_team_id` is its team before this write.
pub fn emit_conversation(tx: &mut WriteTx<'_>, conv: &Conversation, prev_team_id: Option<i64>) {
    tx.emit(NewChange {
        kind: ChangeKind::Conversation,
        entity_id: conv.id,
        team_id: Some(conv.team_id),
        prev_team_id: prev_team_id.filter(|&t| t != conv.team_id),
        agent_id: None,
        payload: json(&Change::Conversation(conv.clone())),
    });
}

pub fn emit_message(tx: &mut WriteTx<'_>, msg: &Message, team_id: i64) {
    tx.emit(NewChange {
        kind: ChangeKind::Message,
        entity_id: msg.id,
        team_id: Some(team_id),
        prev_team_id: None,
        agent_id: None,
        payload: json(&Change::Message(msg.clone())),
    });
}

/// Records a contact change once for every team that has a conversation with them.
pub fn emit_contact(tx: &mut WriteTx<'_>, contact: &Contact) -> Result<()> {
    let teams = tx.conn.query(
        "SELECT DISTINCT team_id FROM conversations WHERE contact_id = ? ORDER BY team_id",
        params![contact.id],
    )?;
    let payload = json(&Change::Contact(contact.clone()));
    if teams.is_empty() {
        emit_contact_for(tx, contact.id, None, payload);
    } else {
        for t in &teams {
            emit_contact_for(tx, contact.id, Some(t.int(0)?), payload.clone());
        }
    }
    Ok(())
}

/// Records a new customer's contact for the one team their first conversation is in.
pub fn emit_new_contact(tx: &mut WriteTx<'_>, contact: &Contact, team_id: i64) {
    emit_contact_for(tx, contact.id, Some(team_id), json(&Change::Contact(contact.clone())));
}

pub fn emit_contact_for(tx: &mut WriteTx<'_>, id: i64, team_id: Option<i64>, payload: String) {
    tx.emit(NewChange {
        kind: ChangeKind::Contact,
        entity_id: id,
        team_id,
        prev_team_id: None,
        agent_id: None,
        payload,
    });
}

/// Changes everybody sees: agents, teams, inboxes, merged-away contacts.
pub fn emit_public(tx: &mut WriteTx<'_>, kind: ChangeKind, entity_id: i64, change: &Change) {
    tx.emit(NewChange { kind, entity_id, team_id: None, prev_team_id: None, agent_id: None, payload: json(change) });
}

/// Changes only one agent sees: their read markers, their scope.
pub fn emit_private(tx: &mut WriteTx<'_>, kind: ChangeKind, entity_id: i64, agent_id: i64, change: &Change) {
    tx.emit(NewChange {
        kind,
        entity_id,
        team_id: None,
        prev_team_id: None,
        agent_id: Some(agent_id),
        payload: json(change),
    });
}

pub fn emit_read_marker(tx: &mut WriteTx<'_>, m: &ReadMarker) {
    emit_private(tx, ChangeKind::ReadMarker, m.conversation_id, m.agent_id, &Change::ReadMarker(m.clone()));
}

/// Stores a line written by the hub in a conversation.
pub fn add_system_line(
    tx: &mut WriteTx<'_>,
    conv: &Conversation,
    body: &str,
    at: switchboard_protocol::Timestamp,
) -> Result<()> {
    let id = tx.conn.query_int(
        "INSERT INTO messages (conversation_id, inbox_id, channel, direction, body, attachments, created_at) \
         VALUES (?, ?, ?, ?, ?, '[]', ?) RETURNING id",
        params![
            conv.id,
            conv.inbox_id,
            conv.channel.as_str(),
            switchboard_protocol::model::Direction::System.as_str(),
            body,
            at
        ],
    )?;
    let msg = load_message(tx.conn, id)?;
    emit_message(tx, &msg, conv.team_id);
    Ok(())
}

/// Whether the conversation's customer opted out of its channel.
pub fn opted_out(c: &mut dyn Connection, conv: &Conversation) -> Result<bool> {
    opted_out_at(c, conv.channel, &conv.customer_address)
}

/// Whether `address` opted out of `channel`.
pub fn opted_out_at(c: &mut dyn Connection, channel: ChannelKind, address: &str) -> Result<bool> {
    let row =
        c.query_opt("SELECT at FROM opt_outs WHERE channel = ? AND address = ?", params![channel.as_str(), address])?;
    Ok(row.is_some())
}

/// Whether the viewer sees the contact: an admin always; otherwise through a conversation
/// of one of their teams (a contact with no conversation yet is visible to all).
pub(super) fn sees_contact(tx: &mut WriteTx<'_>, v: &crate::policy::Viewer, contact_id: i64) -> Result<bool> {
    if v.is_admin() {
        return Ok(true);
    }
    let teams =
        tx.conn.query("SELECT DISTINCT team_id FROM conversations WHERE contact_id = ?", params![contact_id])?;
    if teams.is_empty() {
        return Ok(true);
    }
    for t in &teams {
        if v.sees_team(t.int(0)?) {
            return Ok(true);
        }
    }
    Ok(false)
}
