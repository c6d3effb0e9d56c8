//! Reading the cache's rows back into the protocol's types, and the getters every view
//! shares: enum columns, message columns, the signed-in agent, a customer, rows of wire
//! JSON, and an outbox row's state. Writing rows is [`super::apply`]'s job.

use super::meta;
use crate::error::{CoreError, Result};
use rusqlite::{Connection, OptionalExtension, Row};
use switchboard_protocol::console::OutboxState;
use switchboard_protocol::model::{Agent, Contact, Message};
use switchboard_protocol::Id;

/// The columns [`message`] reads, from `messages m`.
pub const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.channel, m.direction, m.author_agent_id, m.body, \
    m.subject, m.attachments, m.provider_id, m.client_msg_id, m.delivery, m.delivery_error, m.created_at, m.version, \
    m.choices, m.chosen, m.bot";

/// Reads a text column holding an enum's wire name.
pub fn text_enum<T: std::str::FromStr<Err = String>>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    s.parse().map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
}

/// A cached message from a row of [`MESSAGE_COLUMNS`].
pub fn message(r: &Row<'_>) -> rusqlite::Result<Message> {
    let attachments: String = r.get(7)?;
    let delivery: Option<String> = r.get(10)?;
    Ok(Message {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        channel: text_enum(r, 2)?,
        direction: text_enum(r, 3)?,
        author_agent_id: r.get(4)?,
        body: r.get(5)?,
        subject: r.get(6)?,
        attachments: serde_json::from_str(&attachments)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, Box::new(e)))?,
        provider_id: r.get(8)?,
        client_msg_id: r.get(9)?,
        delivery: delivery.and_then(|d| d.parse().ok()),
        delivery_error: r.get(11)?,
        created_at: r.get(12)?,
        version: r.get(13)?,
        choices: r.get::<_, Option<String>>(14)?.and_then(|j| serde_json::from_str(&j).ok()),
        chosen: r.get::<_, Option<String>>(15)?.and_then(|j| serde_json::from_str(&j).ok()),
        bot: r.get(16)?,
    })
}

/// The entities a query selecting one `json` column returns, decoded from their wire JSON.
pub fn json_rows<T: serde::de::DeserializeOwned>(
    c: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<T>> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map(args, |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for j in rows {
        out.push(serde_json::from_str(&j?)?);
    }
    Ok(out)
}

/// The signed-in agent, as the last sync left them.
pub fn me(c: &Connection) -> Result<Agent> {
    let json = meta(c, "me")?.ok_or(CoreError::SignedOut)?;
    Ok(serde_json::from_str(&json)?)
}

/// The agent's notification preferences: the defaults until the hub sends theirs.
pub fn preferences(c: &Connection) -> Result<switchboard_protocol::preferences::NotificationPreferences> {
    Ok(match meta(c, super::PREFERENCES)? {
        Some(json) => serde_json::from_str(&json)?,
        None => Default::default(),
    })
}

/// The signed-in agent's id, once a bootstrap has said who it is.
pub fn me_id(c: &Connection) -> Result<Option<Id>> {
    Ok(meta(c, "me_id")?.and_then(|v| v.parse().ok()))
}

/// A cached customer.
pub fn contact(c: &Connection, contact_id: Id) -> Result<Contact> {
    let json: String = c
        .prepare_cached("SELECT json FROM contacts WHERE id = ?1")?
        .query_row([contact_id], |r| r.get(0))
        .optional()?
        .ok_or(CoreError::NotFound("contact"))?;
    Ok(serde_json::from_str(&json)?)
}

/// A cached agent's name.
pub fn agent_name(c: &Connection, id: Option<Id>) -> Option<String> {
    let id = id?;
    c.prepare_cached("SELECT name FROM agents WHERE id = ?1").ok()?.query_row([id], |r| r.get(0)).optional().ok()?
}

/// An outbox row's `state` column.
pub fn outbox_state(s: &str) -> OutboxState {
    match s {
        "acknowledged" => OutboxState::Acknowledged,
        "stuck" => OutboxState::Stuck,
        "conflict" => OutboxState::Conflict,
        _ => OutboxState::Pending,
    }
}

/// What [`outbox_state`] reads.
pub fn outbox_state_str(s: OutboxState) -> &'static str {
    match s {
        OutboxState::Pending => "pending",
        OutboxState::Acknowledged => "acknowledged",
        OutboxState::Stuck => "stuck",
        OutboxState::Conflict => "conflict",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_states_read_back_as_written() {
        for s in [OutboxState::Pending, OutboxState::Acknowledged, OutboxState::Stuck, OutboxState::Conflict] {
            assert_eq!(outbox_state(outbox_state_str(s)), s);
        }
        assert_eq!(outbox_state("anything else"), OutboxState::Pending);
    }
}
