//! The hub's delivery outbox: outbound messages waiting to go to their provider.
//!
//! A row is written in the same transaction as its message. The delivery worker claims due
//! rows by marking them `sending` and committing *before* it calls the provider, so a
//! message is handed to a provider at most once: a row found `sending` after a restart was
//! interrupted mid-call and is marked failed for an agent to check, never sent again.

use super::entities::{self, emit_message};
use super::{Result, Store, StoreError};
use crate::params;
use crate::rules;
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::model::{Attachment, ChannelKind, Delivery, Direction, Message};
use switchboard_protocol::Timestamp;

use super::pool::WriteTx;

/// A template send as stored on its message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TemplateSend {
    pub name: String,
    pub language: String,
    pub params: Vec<String>,
}

/// One message to hand to its provider.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message_id: i64,
    pub conversation_id: i64,
    pub inbox_id: i64,
    pub channel: ChannelKind,
    /// The inbox's own address (number, page id, mailbox).
    pub from: String,
    /// The inbox's provider settings.
    pub settings: serde_json::Value,
    /// The customer's address.
    pub to: String,
    pub contact_name: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub template: Option<TemplateSend>,
    /// Delivery attempts made before this one.
    pub attempts: i64,
    /// Email threading: the subject and Message-IDs of the conversation so far.
    pub subject: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// The hub's own name for this send, given to providers that echo it in their
    /// status reports (campaign sends), so an interrupted send can be confirmed.
    pub reference: Option<String>,
    /// An email that starts a thread: the token of its one-click unsubscribe link.
    pub unsubscribe: Option<String>,
    /// Choices the customer answers with a tap.
    pub choices: Option<switchboard_protocol::choices::Choices>,
    /// The request the reply was sent in ([`crate::trace`]), for the delivery's log.
    pub request_id: Option<String>,
}

/// Records an outbound message for delivery, with the request it was sent in (so its
/// delivery is logged under that request's id); call in the message's own transaction.
pub fn enqueue(tx: &mut WriteTx<'_>, message_id: i64, inbox_id: i64) -> Result<()> {
    tx.conn.execute(
        "INSERT INTO outbox (message_id, inbox_id, state, attempts, next_attempt_at, created_at, request_id) VALUES (?, ?, 'pending', 0, ?, ?, ?)",
        params![message_id, inbox_id, tx.now, tx.now, tx.request_id.clone()],
    )?;
    Ok(())
}

pub(super) fn set_delivery(
    tx: &mut WriteTx<'_>,
    msg: &Message,
    to: Delivery,
    error: Option<&str>,
    provider_id: Option<&str>,
) -> Result<bool> {
    let advances = rules::delivery_advances(msg.delivery, to);
    if !advances && provider_id.is_none() {
        return Ok(false);
    }
    let delivery = if advances { to } else { msg.delivery.unwrap_or(to) };
    let error = if advances { error } else { msg.delivery_error.as_deref() };
    tx.conn.execute(
        "UPDATE messages SET delivery = ?, delivery_error = ?, provider_id = COALESCE(?, provider_id), version = version + 1 WHERE id = ?",
        params![delivery.as_str(), error, provider_id, msg.id],
    )?;
    let msg = entities::load_message(tx.conn, msg.id)?;
    let team = tx.conn.query_int("SELECT team_id FROM conversations WHERE id = ?", params![msg.conversation_id])?;
    emit_message(tx, &msg, team);
    Ok(advances)
}

impl Store {
    /// Claims up to `limit` messages due by `now` and marks them `sending`.
    pub async fn claim_due(&self, now: Timestamp, limit: usize) -> Result<Vec<Outgoing>> {
        self.pool()
            .write(move |tx| {
                let due = tx.conn.query(
                    "SELECT o.message_id, o.attempts, o.request_id FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= ? ORDER BY o.message_id LIMIT ?",
                    params![now, i64::try_from(limit).unwrap_or(100)],
                )?;
                let mut out = Vec::with_capacity(due.len());
                for r in &due {
                    let (message_id, attempts) = (r.int(0)?, r.int(1)?);
                    // Another hub on the same database may have claimed it first.
                    let claimed = tx.conn.execute(
                        "UPDATE outbox SET state = 'sending', next_attempt_at = ? WHERE message_id = ? AND state = 'pending'",
                        params![now, message_id],
                    )?;
                    if claimed == 1 {
                        match outgoing(tx, message_id, attempts) {
                            Ok(o) => out.push(Outgoing { request_id: r.opt_text(2)?.map(str::to_owned), ..o }),
                            // A row that cannot be read back fails alone: it must not hold
                            // up every reply queued after it.
                            Err(e) => unreadable(tx, message_id, &e)?,
                        }
                    }
                }
                Ok(out)
            })
            .await
    }

    /// The provider accepted the message.
    pub async fn mark_sent(&self, message_id: i64, provider_id: Option<String>) -> Result<()> {
        self.pool()
            .write(move |tx| {
                tx.conn.execute("UPDATE outbox SET state = 'done' WHERE message_id = ?", params![message_id])?;
                let msg = entities::load_message(tx.conn, message_id)?;
                set_delivery(tx, &msg, Delivery::Sent, None, provider_id.as_deref())?;
                Ok(())
            })
            .await
    }

    /// The provider refused or could not be reached. With `retry_at` the message is tried
    /// again then; without, it is `failed` with `reason` for the agents to see.
    pub async fn mark_send_failed(&self, message_id: i64, reason: String, retry_at: Option<Timestamp>) -> Result<()> {
        self.pool()
            .write(move |tx| {
                match retry_at {
                    Some(at) => {
                        tx.conn.execute(
                            "UPDATE outbox SET state = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE message_id = ?",
                            params![at, &reason, message_id],
                        )?;
                    }
                    None => {
                        tx.conn.execute(
                            "UPDATE outbox SET state = 'done', attempts = attempts + 1, last_error = ? WHERE message_id = ?",
                            params![&reason, message_id],
                        )?;
                        let msg = entities::load_message(tx.conn, message_id)?;
                        set_delivery(tx, &msg, Delivery::Failed, Some(&reason), None)?;
                    }
                }
                Ok(())
            })
            .await
    }

    /// Marks messages claimed before `claimed_before` and still `sending` as failed: the hub
    /// that claimed them stopped mid-call, so they may or may not have reached the customer,
    /// and sending them again could send them twice. A hub still sending has finished (or
    /// timed out) well within the grace the caller leaves.
    pub async fn recover_interrupted(&self, claimed_before: Timestamp) -> Result<usize> {
        self.pool()
            .write(move |tx| {
                let rows = tx.conn.query(
                    "SELECT message_id FROM outbox WHERE state = 'sending' AND next_attempt_at < ? ORDER BY message_id",
                    params![claimed_before],
                )?;
                let mut n = 0;
                for r in &rows {
                    let id = r.int(0)?;
                    // Another hub may have recovered it (or its send finished) since.
                    let changed = tx.conn.execute(
                        "UPDATE outbox SET state = 'done', last_error = 'interrupted' \
                         WHERE message_id = ? AND state = 'sending' AND next_attempt_at < ?",
                        params![id, claimed_before],
                    )?;
                    if changed != 1 {
                        continue;
                    }
                    n += 1;
                    let msg = entities::load_message(tx.conn, id)?;
                    let reason = "the hub stopped while sending this; it may not have reached the customer";
                    set_delivery(tx, &msg, Delivery::Failed, Some(reason), None)?;
                }
                Ok(n)
            })
            .await
    }

    /// Messenger's delivery and read receipts: everything sent to `customer` up to
    /// `watermark` reached `to`.
    pub async fn reported_up_to(
        &self,
        inbox_id: i64,
        customer: String,
        watermark: Timestamp,
        to: Delivery,
    ) -> Result<usize> {
        let customer = switchboard_protocol::text::clean(&customer).into_owned();
        self.pool()
            .write(move |tx| {
                let rows = tx.conn.query(
                    "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                     WHERE c.inbox_id = ? AND c.customer_address = ? AND m.direction = 'outbound' \
                     AND m.delivery IN ('sent', 'delivered') AND m.created_at <= ? ORDER BY m.id",
                    params![inbox_id, &customer, watermark],
                )?;
                let mut n = 0;
                for r in &rows {
                    let msg = entities::load_message(tx.conn, r.int(0)?)?;
                    n += usize::from(set_delivery(tx, &msg, to, None, None)?);
                }
                Ok(n)
            })
            .await
    }
}

/// Marks a claimed reply that cannot be read back for sending as failed, for agents to see.
fn unreadable(tx: &mut WriteTx<'_>, message_id: i64, e: &StoreError) -> Result<()> {
    tracing::error!("reply {message_id} cannot be read back to be sent; marked failed: {e}");
    let reason = "this reply could not be prepared for sending; write it again";
    tx.conn.execute(
        "UPDATE outbox SET state = 'done', attempts = attempts + 1, last_error = ? WHERE message_id = ?",
        params![reason, message_id],
    )?;
    if let Ok(msg) = entities::load_message(tx.conn, message_id) {
        set_delivery(tx, &msg, Delivery::Failed, Some(reason), None)?;
    }
    Ok(())
}

fn outgoing(tx: &mut WriteTx<'_>, message_id: i64, attempts: i64) -> Result<Outgoing> {
    let msg = entities::load_message(tx.conn, message_id)?;
    if msg.direction != Direction::Outbound {
        return Err(StoreError::BadRequest(format!("message {message_id} is not outbound")));
    }
    let conv = entities::load_conversation(tx.conn, msg.conversation_id)?;
    let inbox = tx.conn.query_one("SELECT address, settings FROM inboxes WHERE id = ?", params![conv.inbox_id])?;
    let contact = tx.conn.query_one("SELECT name FROM contacts WHERE id = ?", params![conv.contact_id])?;
    let own = tx.conn.query_one("SELECT template, subject FROM messages WHERE id = ?", params![message_id])?;
    let template = own
        .opt_text(0)?
        .map(serde_json::from_str::<TemplateSend>)
        .transpose()
        .map_err(|e| StoreError::BadRequest(e.to_string()))?;
    let mut subject = None;
    let mut references = Vec::new();
    if conv.channel == ChannelKind::Email {
        let rows = tx.conn.query(
            "SELECT provider_id, subject FROM messages WHERE conversation_id = ? AND provider_id IS NOT NULL AND id < ? ORDER BY id",
            params![conv.id, message_id],
        )?;
        for r in &rows {
            references.push(r.text(0)?.to_owned());
            if subject.is_none() {
                subject = r.opt_text(1)?.map(str::to_owned);
            }
        }
        // The message that starts the thread carries its own subject.
        if subject.is_none() {
            subject = own.opt_text(1)?.map(str::to_owned);
        }
    }
    // Anything but a direct reply carries an unsubscribe link (RFC 8058).
    let unsubscribe = match conv.channel {
        ChannelKind::Email if references.is_empty() => {
            Some(super::consent::unsubscribe_token(tx, conv.channel, &conv.customer_address, ConsentPurpose::Service)?)
        }
        _ => None,
    };
    Ok(Outgoing {
        message_id,
        conversation_id: conv.id,
        inbox_id: conv.inbox_id,
        channel: conv.channel,
        from: inbox.text(0)?.to_owned(),
        settings: inbox.json(1)?,
        to: conv.customer_address,
        contact_name: contact.text(0)?.to_owned(),
        body: msg.body,
        attachments: msg.attachments,
        choices: msg.choices,
        template,
        attempts,
        subject,
        in_reply_to: references.last().cloned(),
        unsubscribe,
        references,
        reference: None,
        request_id: None,
    })
}
