//! Writing to a customer first: a new conversation, pending, with one outbound message
//! queued for delivery, to a known customer at one of their addresses or to a new phone
//! number or email address; written by an agent (the conversation is theirs) or by a
//! business system through an API key (it is nobody's until the customer answers). Which channels allow it is
//! [`crate::rules::may_start`]'s to say; opt-outs and reply windows are
//! [`crate::rules::may_send`]'s, consent [`crate::consent::may_reach`]'s.

use super::entities::{self, emit_contact, sees_contact};
use super::ingest::resolve_contact;
use super::pool::WriteTx;
use super::sending::{
    check_text, fill_template, finish_message, insert_agent_message, may_send_to, stored_line, AgentMessage,
};
use super::{Result, StoreError};
use crate::params;
use crate::policy::{self, Scope, Viewer};
use crate::rules::{self, Start};
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::model::{ChannelKind, Conversation, ConversationStatus, Direction};
use switchboard_protocol::mutation::{Outcome, StartConversation};

/// Where the message goes: the customer (none yet for a new address), their address, and
/// whether they have written from it on this inbox's channel.
struct Recipient {
    contact_id: Option<i64>,
    address: String,
    known: bool,
}

/// The customer `s` names, at the address it names (normalised as the channel keeps it).
/// Writes nothing.
fn recipient(
    tx: &mut WriteTx<'_>,
    v: Option<&Viewer>,
    s: &StartConversation,
    channel: ChannelKind,
) -> Result<Recipient> {
    // A business system's key reaches any customer of its inboxes; an agent, those they see.
    let hidden = |tx: &mut WriteTx<'_>, id: i64| -> Result<bool> {
        Ok(match v {
            Some(v) => !sees_contact(tx, v, id)?,
            None => false,
        })
    };
    let typed = s.address.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let address = typed.map(|a| crate::address::normalize(channel, a, "US")).transpose()?;
    let Some(contact_id) = s.contact_id else {
        let address = address.ok_or_else(|| {
            StoreError::BadRequest("name the customer (`contact_id`) or the address to write to".into())
        })?;
        let existing = tx
            .conn
            .query_opt(
                "SELECT contact_id FROM identities WHERE channel = ? AND address = ?",
                params![channel.as_str(), &address],
            )?
            .map(|r| r.int(0))
            .transpose()?;
        if let Some(id) = existing {
            if hidden(tx, id)? {
                return Err(StoreError::NotFound("contact"));
            }
        }
        return Ok(Recipient { contact_id: existing, known: existing.is_some(), address });
    };
    if hidden(tx, contact_id)? {
        return Err(StoreError::NotFound("contact"));
    }
    let contact = entities::load_contact(tx.conn, contact_id)?;
    let theirs: Vec<&str> =
        contact.identities.iter().filter(|i| i.channel == channel).map(|i| i.address.as_str()).collect();
    let address = match address {
        Some(a) if theirs.contains(&a.as_str()) => a,
        Some(a) => {
            return Err(StoreError::BadRequest(format!("{a} is not one of {}'s addresses on {channel}", contact.name)))
        }
        None => theirs
            .first()
            .map(|a| (*a).to_owned())
            .ok_or_else(|| StoreError::BadRequest(format!("{} has no address on {channel}", contact.name)))?,
    };
    Ok(Recipient { contact_id: Some(contact_id), address, known: true })
}

/// Who writes first.
#[derive(Debug, Clone, Copy)]
pub(super) enum Author<'a> {
    Agent(&'a Viewer),
    /// A business system, by its API key and the inboxes it may send from.
    Key {
        id: i64,
        inboxes: &'a [i64],
    },
}

/// What a first message made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Begun {
    pub conversation_id: i64,
    pub message_id: i64,
    /// Its `client_msg_id` was stored before: nothing was made now.
    pub duplicate: bool,
}

/// Applies a `start_conversation`.
pub(super) fn start(tx: &mut WriteTx<'_>, v: &Viewer, s: &StartConversation) -> Result<Outcome> {
    let begun = begin(tx, Author::Agent(v), ConsentPurpose::Service, s)?;
    Ok(if begun.duplicate { Outcome::Duplicate } else { Outcome::Applied })
}

/// Writes first for `author`, for `purpose`, by every rule; a refusal stores nothing.
pub(super) fn begin(
    tx: &mut WriteTx<'_>,
    author: Author<'_>,
    purpose: ConsentPurpose,
    s: &StartConversation,
) -> Result<Begun> {
    check_text(&s.client_msg_id, if s.template.is_some() { "template" } else { &s.body }, 0)?;
    let inbox = entities::load_inbox(tx.conn, s.inbox_id)?;
    let agent = match author {
        Author::Agent(v) => {
            policy::may_work_on(v, Scope { team_id: inbox.team_id, assignee_id: None })
                .map_err(|d| StoreError::denied(d, "inbox"))?;
            Some(v)
        }
        Author::Key { inboxes, .. } if inboxes.contains(&inbox.id) => None,
        Author::Key { .. } => {
            return Err(StoreError::Forbidden(format!("this key may not send from inbox {}", inbox.id)))
        }
    };
    if let Some((conversation_id, message_id)) = stored_line(tx, &s.client_msg_id)? {
        return Ok(Begun { conversation_id, message_id, duplicate: true });
    }
    let subject = s.subject.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if subject.is_some_and(|t| t.len() > StartConversation::MAX_SUBJECT || t.contains(['\r', '\n'])) {
        return Err(StoreError::BadRequest(format!(
            "a subject is one line of at most {} bytes",
            StartConversation::MAX_SUBJECT
        )));
    }
    let channel = inbox.kind;
    let sender_is_phone = crate::address::normalize(ChannelKind::Sms, &inbox.address, "US").is_ok();
    let may_start = |known| {
        rules::may_start(Start { channel, known, sender_is_phone, has_subject: subject.is_some() })
            .map_err(|b| StoreError::BadRequest(b.message(channel)))
    };
    // Whether this inbox may write first at all, then whether to this address.
    may_start(true)?;
    let r = recipient(tx, agent, s, channel)?;
    may_start(r.known)?;
    let name = s.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > 200) {
        return Err(StoreError::BadRequest("a customer's name must be at most 200 characters".into()));
    }
    // The customer's own reply window, from their last message on this inbox.
    let window = tx
        .conn
        .query_opt(
            "SELECT max(reply_window_expires_at) FROM conversations WHERE inbox_id = ? AND customer_address = ?",
            params![inbox.id, &r.address],
        )?
        .map(|row| row.opt_int(0))
        .transpose()?
        .flatten();
    may_send_to(tx, channel, &r.address, window, s.template.is_some())?;
    super::consent::may_reach(tx, inbox.id, channel, &r.address, purpose)?;
    let (body, template) = match &s.template {
        Some(name) => {
            let (text, stored) = fill_template(&inbox, name, &s.params)?;
            (text, Some(stored))
        }
        None => (s.body.clone(), None),
    };
    // A new customer, or a new address of theirs, once every rule has passed.
    let (contact_id, contact_changed) = match r.contact_id {
        Some(id) => (id, false),
        None => resolve_contact(tx, channel, &r.address, name)?,
    };
    let preview = rules::preview(&body, 0);
    let agent_id = agent.map(|v| v.agent_id);
    let key_id = match author {
        Author::Key { id, .. } => Some(id),
        Author::Agent(_) => None,
    };
    let id = tx.conn.query_int(
        "INSERT INTO conversations (contact_id, inbox_id, channel, customer_address, team_id, assignee_id, status, \
         last_activity_at, reply_window_expires_at, preview, updated_by, started_by, started_by_key, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params![
            contact_id,
            inbox.id,
            channel.as_str(),
            &r.address,
            inbox.team_id,
            agent_id,
            ConversationStatus::Pending.as_str(),
            tx.now,
            window,
            &preview,
            agent_id,
            agent_id,
            key_id,
            tx.now
        ],
    )?;
    if let Some(agent) = agent_id {
        super::routing::record_holder(tx, id, inbox.team_id, Some(agent), Some(agent), "started")?;
    }
    let conv: Conversation = entities::load_conversation(tx.conn, id)?;
    let message = insert_agent_message(
        tx,
        agent_id,
        &conv,
        AgentMessage {
            direction: Direction::Outbound,
            client_msg_id: &s.client_msg_id,
            body: &body,
            attachments: &[],
            template,
            subject: subject.filter(|_| channel == ChannelKind::Email),
            choices: None,
        },
    )?;
    if contact_changed {
        let contact = entities::load_contact(tx.conn, contact_id)?;
        emit_contact(tx, &contact)?;
    }
    finish_message(tx, id, message)?;
    Ok(Begun { conversation_id: id, message_id: message, duplicate: false })
}
