//! Satisfaction surveys in the store: the survey a resolved conversation is sent (once per
//! resolution), and the customer's answer, a text reply or the widget's buttons, recorded
//! once. Whether to ask and how a reply reads are [`crate::csat`]'s to say.

use super::db::Connection;
use super::entities::{self, emit_conversation, emit_message};
use super::pool::WriteTx;
use super::{Result, Store, StoreError};
use crate::csat::{self, Asking, Survey};
use crate::params;
use switchboard_protocol::model::{Conversation, Delivery, Direction};
use switchboard_protocol::Timestamp;

/// The inbox's survey, if it has one; settings that do not read send none (and say so).
fn survey_of(c: &mut dyn Connection, inbox_id: i64) -> Result<Option<Survey>> {
    let settings =
        c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox_id])?.json::<serde_json::Value>(0)?;
    let Some(v) = settings.get("csat").filter(|v| !v.is_null()) else { return Ok(None) };
    match serde_json::from_value(v.clone()) {
        Ok(s) => Ok(Some(s)),
        Err(e) => {
            tracing::warn!("inbox {inbox_id}: csat settings are invalid: {e}");
            Ok(None)
        }
    }
}

/// Counts a resolution of `conv` and sends its survey when one is due.
pub(super) fn resolved(tx: &mut WriteTx<'_>, conv: &Conversation) -> Result<()> {
    let r = tx.conn.query_one(
        "UPDATE conversations SET resolutions = resolutions + 1, resolved_at = ? WHERE id = ? \
         RETURNING resolutions, csat_asked_for",
        params![tx.now, conv.id],
    )?;
    let (resolutions, asked_for) = (r.int(0)?, r.int(1)?);
    let survey = survey_of(tx.conn, conv.inbox_id)?;
    let asking = Asking {
        channel: conv.channel,
        enabled: survey.is_some(),
        opted_out: entities::opted_out(tx.conn, conv)?,
        resolutions,
        asked_for,
        window_open: !conv.channel.has_reply_window() || conv.reply_window_expires_at.is_some_and(|w| w > tx.now),
    };
    let Some(survey) = survey.filter(|_| csat::should_ask(&asking)) else { return Ok(()) };
    let id = tx.conn.query_int(
        "INSERT INTO messages (conversation_id, inbox_id, channel, direction, body, attachments, delivery, survey, created_at) \
         VALUES (?, ?, ?, ?, ?, '[]', ?, 1, ?) RETURNING id",
        params![conv.id, conv.inbox_id, conv.channel.as_str(), Direction::Outbound.as_str(), csat::text(&survey, conv.channel), Delivery::Queued.as_str(), tx.now],
    )?;
    super::outbox::enqueue(tx, id, conv.inbox_id)?;
    tx.conn.execute(
        "UPDATE conversations SET csat_asked_for = ?, csat_asked_at = ? WHERE id = ?",
        params![resolutions, tx.now, conv.id],
    )?;
    let msg = entities::load_message(tx.conn, id)?;
    emit_message(tx, &msg, conv.team_id);
    Ok(())
}

/// The resolved conversation whose survey a text from this customer would answer: the
/// latest of theirs on the inbox at this address, asked for its last resolution within
/// [`csat::ANSWER_WITHIN_MS`] and not yet answered.
pub(super) fn awaiting_answer(
    c: &mut dyn Connection,
    contact_id: i64,
    inbox_id: i64,
    address: &str,
    at: Timestamp,
) -> Result<Option<i64>> {
    let row = c.query_opt(
        "SELECT id FROM conversations WHERE contact_id = ? AND inbox_id = ? AND customer_address = ? AND status = 'resolved' \
         AND csat_asked_for > 0 AND csat_asked_for = resolutions AND csat_score IS NULL AND csat_asked_at >= ? \
         ORDER BY id DESC LIMIT 1",
        params![contact_id, inbox_id, address, at - csat::ANSWER_WITHIN_MS],
    )?;
    Ok(row.map(|r| r.int(0)).transpose()?)
}

/// Records `score` on the conversation, once; says so in the thread for the agents.
pub(super) fn record(tx: &mut WriteTx<'_>, conversation_id: i64, score: u8, at: Timestamp) -> Result<bool> {
    let n = tx.conn.execute(
        "UPDATE conversations SET csat_score = ?, csat_at = ?, version = version + 1 WHERE id = ? AND csat_score IS NULL",
        params![i64::from(score), at, conversation_id],
    )?;
    if n == 0 {
        return Ok(false);
    }
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    entities::add_system_line(tx, &conv, &format!("The customer rated this conversation {score} out of 5."), at)?;
    emit_conversation(tx, &conv, None);
    Ok(true)
}

impl Store {
    /// A web-chat or in-app visitor's answer to the survey line `message_id` of their
    /// thread. An answer to a survey already answered, or to an earlier resolution's, is
    /// refused.
    pub async fn rate_visit(&self, inbox_id: i64, address: String, message_id: i64, score: u8) -> Result<()> {
        if !csat::SCORES.contains(&score) {
            return Err(StoreError::BadRequest("a rating is a number from 1 to 5".into()));
        }
        self.pool()
            .write(move |tx| {
                let row = tx
                    .conn
                    .query_opt(
                        "SELECT c.id, c.csat_asked_for, c.resolutions FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                         WHERE m.id = ? AND m.survey = 1 AND c.inbox_id = ? AND c.customer_address = ?",
                        params![message_id, inbox_id, &address],
                    )?
                    .ok_or(StoreError::NotFound("survey"))?;
                let latest = row.int(1)? == row.int(2)?;
                if !latest || !record(tx, row.int(0)?, score, tx.now)? {
                    return Err(StoreError::BadRequest("this survey has been answered already".into()));
                }
                Ok(())
            })
            .await
    }
}
