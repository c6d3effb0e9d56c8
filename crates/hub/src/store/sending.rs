//! What every message an agent sends shares: checking its text, filling an approved
//! template, whether an address may be sent to now (and the refusal said for the agent),
//! storing the message with its delivery queued, and announcing it. Used by replies and
//! templates ([`super::mutations`]) and first messages ([`super::outreach`]).

use super::entities::{self, emit_conversation, emit_message};
use super::outbox::TemplateSend;
use super::pool::WriteTx;
use super::{Result, StoreError};
use crate::params;
use crate::rules;
use switchboard_protocol::model::{Attachment, ChannelKind, Conversation, Delivery, Direction, Inbox};
use switchboard_protocol::mutation::Outcome;
use switchboard_protocol::ErrorCode;
use switchboard_protocol::MAX_BODY;

pub(super) fn check_text(client_msg_id: &str, body: &str, attachments: usize) -> Result<()> {
    if client_msg_id.trim().is_empty() || client_msg_id.len() > 200 {
        return Err(StoreError::BadRequest("client_msg_id must be 1 to 200 characters".into()));
    }
    if !client_msg_id.chars().all(switchboard_protocol::text::keeps) {
        return Err(StoreError::BadRequest("client_msg_id must not hold control characters".into()));
    }
    if body.len() > MAX_BODY {
        return Err(StoreError::BadRequest(format!("the message is longer than {MAX_BODY} bytes")));
    }
    if body.trim().is_empty() && attachments == 0 {
        return Err(StoreError::BadRequest("the message is empty".into()));
    }
    Ok(())
}

/// An agent's message about to be stored.
pub(super) struct AgentMessage<'a> {
    pub direction: Direction,
    pub client_msg_id: &'a str,
    pub body: &'a str,
    pub attachments: &'a [Attachment],
    /// The template send, stored for the delivery worker.
    pub template: Option<String>,
    /// An email's subject, when the message starts the thread.
    pub subject: Option<&'a str>,
    /// Choices the customer answers with a tap.
    pub choices: Option<&'a switchboard_protocol::choices::Choices>,
}

/// Stores an agent's message (`author`: none for a business system's) and queues it for
/// delivery when it is outbound. Callers
/// answer a retry (see [`already_stored`]) first.
pub(super) fn insert_agent_message(
    tx: &mut WriteTx<'_>,
    author: Option<i64>,
    conv: &Conversation,
    m: AgentMessage<'_>,
) -> Result<i64> {
    let delivery = (m.direction == Direction::Outbound).then_some(Delivery::Queued.as_str());
    let attachments = serde_json::to_string(m.attachments).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    let choices =
        m.choices.map(serde_json::to_string).transpose().map_err(|e| StoreError::BadRequest(e.to_string()))?;
    let id = tx.conn.query_int(
        "INSERT INTO messages (conversation_id, inbox_id, channel, direction, author_agent_id, body, attachments, client_msg_id, delivery, template, subject, choices, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params![conv.id, conv.inbox_id, conv.channel.as_str(), m.direction.as_str(), author, m.body, attachments, m.client_msg_id, delivery, m.template, m.subject, choices, tx.now],
    )?;
    super::blobs::tie_to_message(tx, id, m.attachments)?;
    if m.direction == Direction::Outbound {
        super::outbox::enqueue(tx, id, conv.inbox_id)?;
    }
    Ok(id)
}

pub(super) fn finish_message(tx: &mut WriteTx<'_>, conv_id: i64, message_id: i64) -> Result<Outcome> {
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    emit_conversation(tx, &conv, None);
    let msg = entities::load_message(tx.conn, message_id)?;
    emit_message(tx, &msg, conv.team_id);
    Ok(Outcome::Applied)
}

/// Whether a message with this client_msg_id exists: a retry, answered `duplicate` before
/// any rule that may have changed since.
pub(super) fn already_stored(tx: &mut WriteTx<'_>, client_msg_id: &str) -> Result<bool> {
    Ok(stored_line(tx, client_msg_id)?.is_some())
}

/// The line stored with `client_msg_id`, if any: (conversation, message).
pub(super) fn stored_line(tx: &mut WriteTx<'_>, client_msg_id: &str) -> Result<Option<(i64, i64)>> {
    let row = tx
        .conn
        .query_opt("SELECT conversation_id, id FROM messages WHERE client_msg_id = ?", params![client_msg_id])?;
    row.map(|r| Ok((r.int(0)?, r.int(1)?))).transpose()
}

/// [`rules::may_send`] for `address` on `channel`, its refusal said for the agent.
pub(super) fn may_send_to(
    tx: &mut WriteTx<'_>,
    channel: ChannelKind,
    address: &str,
    window: Option<switchboard_protocol::Timestamp>,
    template: bool,
) -> Result<()> {
    let opted_out = entities::opted_out_at(tx.conn, channel, address)?;
    rules::may_send(channel, window, opted_out, template, tx.now).map_err(|b| match b {
        rules::SendBlock::OptedOut => StoreError::Refused(
            ErrorCode::OptedOut,
            format!("{address} opted out of {channel}; nothing can be sent there"),
        ),
        rules::SendBlock::WindowClosed => StoreError::Refused(
            ErrorCode::ReplyWindowClosed,
            format!("the {channel} reply window has closed; send an approved template instead"),
        ),
    })
}

/// One of `inbox`'s approved templates filled with `params`: the text the customer gets,
/// and the send as stored for the delivery worker.
pub(super) fn fill_template(inbox: &Inbox, name: &str, params: &[String]) -> Result<(String, String)> {
    let template = inbox
        .templates
        .iter()
        .find(|x| x.name == name)
        .ok_or_else(|| StoreError::BadRequest(format!("{} has no approved template `{name}`", inbox.name)))?;
    let wanted = template.params();
    if params.len() != wanted {
        return Err(StoreError::BadRequest(format!(
            "template `{}` takes {wanted} values, not {}",
            template.name,
            params.len()
        )));
    }
    if let Some(refused) = template.refuse_values(params) {
        return Err(StoreError::BadRequest(refused));
    }
    let send =
        TemplateSend { name: template.name.clone(), language: template.language.clone(), params: params.to_vec() };
    let stored = serde_json::to_string(&send).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    Ok((template.fill(params), stored))
}
