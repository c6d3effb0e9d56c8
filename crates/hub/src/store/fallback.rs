//! Web chat's replies by email, in the store: finding the chats whose visitor left an
//! email address and has not seen agents' replies in time ([`crate::fallback::due`]),
//! claiming each email once across hubs, recording what became of it (with a line in the
//! conversation for agents), and finding the chat a visitor's emailed answer belongs to
//! (the answer is stored by [`super::ingest`]).

use super::entities;
use super::pool::WriteTx;
use super::{Result, Store};
use crate::fallback::{self, Line, Reply};
use crate::params;
use switchboard_protocol::model::{ChannelKind, Delivery};

/// How far back agents' replies are looked through.
const LOOK_BACK_MS: i64 = 7 * 24 * 60 * 60 * 1000;
/// Attempts at one email before it is given up.
pub const MAX_ATTEMPTS: i64 = 5;

/// An email to send a visitor: the replies they have not seen, and how to send it.
#[derive(Debug, Clone)]
pub struct FallbackEmail {
    pub id: i64,
    pub conversation_id: i64,
    pub attempts: i64,
    /// The email inbox it goes from, and its settings (SMTP).
    pub inbox_id: i64,
    pub from: String,
    pub settings: serde_json::Value,
    pub to: String,
    pub visitor_name: String,
    pub subject: String,
    pub body: String,
    /// The Message-IDs of the emails sent before in this chat, oldest first: the thread.
    pub references: Vec<String>,
}

/// A chat to look at: its conversation, inbox and visitor.
struct Candidate {
    conversation_id: i64,
}

impl Store {
    /// Claims the emails due at `now` (at most `limit`), each once across hubs: new ones
    /// for chats whose unseen replies have waited long enough, and ones to try again. Looks
    /// with a read first; writes only when something is due.
    pub async fn claim_fallbacks(&self, now: i64, limit: i64) -> Result<Vec<FallbackEmail>> {
        let due = self
            .pool()
            .read(move |c| {
                let rows = c.query(
                    "SELECT DISTINCT m.conversation_id FROM messages m \
                     WHERE m.channel IN ('webchat', 'in_app') AND m.direction = 'outbound' \
                     AND m.created_at >= ? AND m.created_at <= ? AND m.delivery <> 'read' \
                     AND m.id > COALESCE((SELECT max(f.up_to_message_id) FROM email_fallbacks f \
                                          WHERE f.conversation_id = m.conversation_id), 0) \
                     LIMIT ?",
                    params![now - LOOK_BACK_MS, now - 60_000, limit],
                )?;
                let retry = c.query(
                    "SELECT id FROM email_fallbacks WHERE state = 'sending' AND next_at <= ? LIMIT ?",
                    params![now, limit],
                )?;
                let candidates: Vec<Candidate> =
                    rows.iter().map(|r| Ok(Candidate { conversation_id: r.int(0)? })).collect::<Result<_>>()?;
                Ok((candidates, !retry.is_empty()))
            })
            .await?;
        let (candidates, retries) = due;
        if candidates.is_empty() && !retries {
            return Ok(Vec::new());
        }
        self.pool()
            .write(move |tx| {
                for cand in &candidates {
                    open_if_due(tx, cand.conversation_id, now)?;
                }
                // What is due now: the new ones and those whose retry time has come. A claim
                // holds for two minutes: a hub that stopped mid-send leaves it to another.
                let rows = tx.conn.query(
                    "SELECT id FROM email_fallbacks WHERE state = 'sending' AND next_at <= ? ORDER BY id LIMIT ?",
                    params![now, limit],
                )?;
                let mut out = Vec::new();
                for r in &rows {
                    let id = r.int(0)?;
                    let ours = tx.conn.execute(
                        "UPDATE email_fallbacks SET next_at = ?, attempts = attempts + 1 WHERE id = ? AND next_at <= ?",
                        params![now + 120_000, id, now],
                    )?;
                    if ours == 1 {
                        if let Some(email) = email_of(tx, id)? {
                            out.push(email);
                        }
                    }
                }
                Ok(out)
            })
            .await
    }

    /// The email went: its Message-ID is kept (the visitor's answer threads on it), and
    /// agents see a line saying so.
    pub async fn fallback_sent(&self, id: i64, email_message_id: String) -> Result<()> {
        self.pool()
            .write(move |tx| {
                let row = tx.conn.query_one(
                    "SELECT conversation_id, to_address FROM email_fallbacks WHERE id = ?",
                    params![id],
                )?;
                let (conversation_id, to) = (row.int(0)?, row.text(1)?.to_owned());
                tx.conn.execute(
                    "UPDATE email_fallbacks SET state = 'sent', sent_at = ?, email_message_id = ?, error = NULL WHERE id = ?",
                    params![tx.now, &email_message_id, id],
                )?;
                let conv = entities::load_conversation(tx.conn, conversation_id)?;
                let line = format!("Emailed to {to}: the visitor had not seen these replies in the chat.");
                entities::add_system_line(tx, &conv, &line, tx.now)?;
                Ok(())
            })
            .await
    }

    /// The email could not go: tried again at `retry_at`, or given up (agents see why).
    pub async fn fallback_failed(&self, id: i64, reason: String, retry_at: Option<i64>) -> Result<()> {
        self.pool()
            .write(move |tx| {
                let row = tx.conn.query_one(
                    "SELECT conversation_id, to_address, attempts FROM email_fallbacks WHERE id = ?",
                    params![id],
                )?;
                let (conversation_id, to, attempts) = (row.int(0)?, row.text(1)?.to_owned(), row.int(2)?);
                match retry_at.filter(|_| attempts < MAX_ATTEMPTS) {
                    Some(at) => {
                        tx.conn.execute(
                            "UPDATE email_fallbacks SET next_at = ?, error = ? WHERE id = ?",
                            params![at, &reason, id],
                        )?;
                    }
                    None => {
                        tx.conn.execute(
                            "UPDATE email_fallbacks SET state = 'failed', error = ? WHERE id = ?",
                            params![&reason, id],
                        )?;
                        let conv = entities::load_conversation(tx.conn, conversation_id)?;
                        let line = format!("Could not email the unseen replies to {to}: {reason}");
                        entities::add_system_line(tx, &conv, &line, tx.now)?;
                    }
                }
                Ok(())
            })
            .await
    }
}

/// Starts the email for chat `conversation_id` when its unseen replies are due (and its
/// inbox sends them, and the visitor left an address); a second hub's attempt at the same
/// replies finds it made.
fn open_if_due(tx: &mut WriteTx<'_>, conversation_id: i64, now: i64) -> Result<()> {
    // The conversation's row lock: another hub deciding the same conversation waits, then
    // sees this one's email.
    tx.conn.execute("UPDATE conversations SET version = version WHERE id = ?", params![conversation_id])?;
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    let settings: serde_json::Value =
        tx.conn.query_one("SELECT settings FROM inboxes WHERE id = ?", params![conv.inbox_id])?.json(0)?;
    let Ok(Some(setting)) = fallback::of_settings(&settings) else { return Ok(()) };
    let Some(to) = visitor_email(tx, conv.inbox_id, &conv.customer_address)? else { return Ok(()) };
    let emailed_up_to = tx
        .conn
        .query_one(
            "SELECT COALESCE(max(up_to_message_id), 0) FROM email_fallbacks WHERE conversation_id = ?",
            params![conversation_id],
        )?
        .int(0)?;
    let rows = tx.conn.query(
        "SELECT id, created_at, delivery FROM messages WHERE conversation_id = ? AND direction = 'outbound' \
         AND created_at >= ? ORDER BY id",
        params![conversation_id, now - LOOK_BACK_MS],
    )?;
    let replies: Vec<Reply> = rows
        .iter()
        .map(|r| Ok(Reply { id: r.int(0)?, at: r.int(1)?, read: r.opt_text(2)? == Some(Delivery::Read.as_str()) }))
        .collect::<Result<_>>()?;
    let Some(up_to) = fallback::due(&replies, emailed_up_to, now, setting.after_ms()) else { return Ok(()) };
    tx.conn.execute(
        "INSERT INTO email_fallbacks (conversation_id, up_to_message_id, to_address, state, next_at, created_at) \
         VALUES (?, ?, ?, 'sending', ?, ?) ON CONFLICT (conversation_id, up_to_message_id) DO NOTHING",
        params![conversation_id, up_to, &to, now, now],
    )?;
    Ok(())
}

/// The address a chat's visitor left (or the one their app vouched for).
fn visitor_email(tx: &mut WriteTx<'_>, inbox_id: i64, address: &str) -> Result<Option<String>> {
    let row = tx.conn.query_opt(
        "SELECT COALESCE(email, claimed_email) FROM visitors WHERE inbox_id = ? AND address = ? \
         ORDER BY last_seen_at DESC LIMIT 1",
        params![inbox_id, address],
    )?;
    Ok(match row {
        Some(r) => r.opt_text(0)?.map(str::to_owned),
        None => None,
    })
}

/// What email `id` carries now: the replies it covers, from whoever wrote them.
fn email_of(tx: &mut WriteTx<'_>, id: i64) -> Result<Option<FallbackEmail>> {
    let row = tx.conn.query_one(
        "SELECT conversation_id, up_to_message_id, to_address, attempts FROM email_fallbacks WHERE id = ?",
        params![id],
    )?;
    let (conversation_id, up_to, to, attempts) = (row.int(0)?, row.int(1)?, row.text(2)?.to_owned(), row.int(3)?);
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    let chat_inbox = entities::load_inbox(tx.conn, conv.inbox_id)?;
    let settings: serde_json::Value =
        tx.conn.query_one("SELECT settings FROM inboxes WHERE id = ?", params![conv.inbox_id])?.json(0)?;
    let Ok(Some(setting)) = fallback::of_settings(&settings) else {
        tx.conn.execute(
            "UPDATE email_fallbacks SET state = 'failed', error = 'the inbox no longer sends unseen replies by email' WHERE id = ?",
            params![id],
        )?;
        return Ok(None);
    };
    let email_inbox = match entities::load_inbox(tx.conn, setting.inbox_id) {
        Ok(i) if i.kind == ChannelKind::Email => i,
        _ => {
            tx.conn.execute(
                "UPDATE email_fallbacks SET state = 'failed', error = 'the email inbox named in email_fallback is not an email inbox' WHERE id = ?",
                params![id],
            )?;
            return Ok(None);
        }
    };
    let email_settings: serde_json::Value =
        tx.conn.query_one("SELECT settings FROM inboxes WHERE id = ?", params![email_inbox.id])?.json(0)?;
    let before = tx
        .conn
        .query_one(
            "SELECT COALESCE(max(up_to_message_id), 0) FROM email_fallbacks WHERE conversation_id = ? AND id <> ? \
             AND up_to_message_id < ?",
            params![conversation_id, id, up_to],
        )?
        .int(0)?;
    let rows = tx.conn.query(
        "SELECT a.name, m.body, m.attachments FROM messages m LEFT JOIN agents a ON a.id = m.author_agent_id \
         WHERE m.conversation_id = ? AND m.direction = 'outbound' AND m.id > ? AND m.id <= ? ORDER BY m.id",
        params![conversation_id, before, up_to],
    )?;
    let mut owned = Vec::with_capacity(rows.len());
    for r in &rows {
        let files: Vec<serde_json::Value> = r.json(2).unwrap_or_default();
        owned.push((r.opt_text(0)?.map(str::to_owned), r.text(1)?.to_owned(), files.len()));
    }
    let lines: Vec<Line<'_>> =
        owned.iter().map(|(agent, text, files)| Line { agent: agent.as_deref(), text, files: *files }).collect();
    let (subject, body) = fallback::compose(&chat_inbox.name, &lines);
    let references = tx
        .conn
        .query(
            "SELECT email_message_id FROM email_fallbacks WHERE conversation_id = ? AND state = 'sent' \
             AND email_message_id IS NOT NULL ORDER BY id",
            params![conversation_id],
        )?
        .iter()
        .map(|r| Ok(r.text(0)?.to_owned()))
        .collect::<Result<Vec<_>>>()?;
    let visitor_name =
        tx.conn.query_one("SELECT name FROM contacts WHERE id = ?", params![conv.contact_id])?.text(0)?.to_owned();
    Ok(Some(FallbackEmail {
        id,
        conversation_id,
        attempts,
        inbox_id: email_inbox.id,
        from: email_inbox.address,
        settings: email_settings,
        to,
        visitor_name,
        subject,
        body,
        references,
    }))
}

/// The chat an emailed answer belongs to: an email to `email_inbox` that answers one of the
/// chat emails (by `In-Reply-To` or `References`) from the address it went to.
pub(super) fn answered_chat(
    tx: &mut WriteTx<'_>,
    email_inbox: i64,
    from: &str,
    refs: &[String],
) -> Result<Option<i64>> {
    for r in refs.iter().rev().take(50) {
        let row = tx.conn.query_opt(
            "SELECT f.conversation_id, f.to_address FROM email_fallbacks f WHERE f.email_message_id = ?",
            params![r],
        )?;
        let Some(row) = row else { continue };
        let (conversation_id, to) = (row.int(0)?, row.text(1)?.to_owned());
        let conv = entities::load_conversation(tx.conn, conversation_id)?;
        let settings: serde_json::Value =
            tx.conn.query_one("SELECT settings FROM inboxes WHERE id = ?", params![conv.inbox_id])?.json(0)?;
        let ours = matches!(fallback::of_settings(&settings), Ok(Some(f)) if f.inbox_id == email_inbox);
        if ours && to.eq_ignore_ascii_case(from) {
            return Ok(Some(conversation_id));
        }
    }
    Ok(None)
}
