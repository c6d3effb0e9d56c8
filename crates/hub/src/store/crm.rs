//! The store's side of the CRM: the connector's settings, the lookups waiting to run (one
//! per contact), the fields cached on contacts, and the transcripts of resolved
//! conversations waiting to be logged, each exactly once.

use super::entities::{self, emit_contact};
use super::pool::WriteTx;
use super::{Result, Store, StoreError};
use crate::crm_model::TranscriptLine;
use crate::params;
use switchboard_protocol::admin::CrmSettings;
use switchboard_protocol::model::{ChannelKind, Contact, CrmSnapshot, Direction};
use switchboard_protocol::Timestamp;

const SETTINGS_KEY: &str = "crm";

/// A lookup waiting to run.
#[derive(Debug, Clone)]
pub struct CrmRequest {
    pub contact: Contact,
    pub requested_at: Timestamp,
    pub forced: bool,
    /// An address an agent typed to search by instead of the contact's own.
    pub by: Option<String>,
    /// When the contact was last looked up under the current CRM settings.
    pub checked_at: Option<Timestamp>,
}

/// A transcript waiting to be logged.
#[derive(Debug, Clone)]
pub struct TranscriptJob {
    pub id: i64,
    pub conversation_id: i64,
    pub through_message_id: i64,
    pub resolved_at: Timestamp,
    /// Attempts before this one.
    pub attempts: i64,
    /// A hub stopped while logging it: the CRM may have it already.
    pub interrupted: bool,
    /// This claim's mark: only the hub holding it may record how the transcript ended.
    pub claimed_at: Timestamp,
}

/// What a transcript is made of.
#[derive(Debug, Clone)]
pub struct TranscriptMaterial {
    pub contact: Contact,
    pub channel: ChannelKind,
    pub inbox: String,
    pub lines: Vec<TranscriptLine>,
}

/// How logging a transcript ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranscriptEnd {
    Logged(String),
    /// Try again at this time.
    Retry(Timestamp, String),
    /// Given up: why.
    Failed(String),
    /// Nothing to log (transcripts off, no CRM record, a source that takes none).
    Skipped(String),
}

/// Asks for the contact's CRM fields to be fetched; replaces a request already waiting.
pub(crate) fn request_lookup(tx: &mut WriteTx<'_>, contact_id: i64, forced: bool, by: Option<&str>) -> Result<()> {
    request_lookups(tx, &[contact_id], forced, by)
}

/// [`request_lookup`] for many contacts at once, in one statement a hundred.
pub(crate) fn request_lookups(tx: &mut WriteTx<'_>, contact_ids: &[i64], forced: bool, by: Option<&str>) -> Result<()> {
    for chunk in contact_ids.chunks(100) {
        let mut params = Vec::with_capacity(chunk.len() * 5);
        for &id in chunk {
            params.extend([id.into(), tx.now.into(), forced.into(), by.into(), tx.now.into()]);
        }
        tx.conn.execute(
            &format!(
                "INSERT INTO crm_requests (contact_id, requested_at, forced, by_address, not_before, claimed_at) \
                 VALUES {} \
                 ON CONFLICT (contact_id) DO UPDATE SET requested_at = excluded.requested_at, \
                 forced = CASE WHEN excluded.forced = 1 THEN 1 ELSE crm_requests.forced END, \
                 by_address = COALESCE(excluded.by_address, crm_requests.by_address), \
                 not_before = excluded.not_before, claimed_at = NULL",
                vec!["(?, ?, ?, ?, ?, NULL)"; chunk.len()].join(", ")
            ),
            &params,
        )?;
    }
    Ok(())
}

/// Records that the conversation was resolved, for its transcript to be logged: once per
/// conversation and last message, so resolving again with nothing new adds nothing.
pub(crate) fn enqueue_transcript(tx: &mut WriteTx<'_>, conversation_id: i64) -> Result<()> {
    let through = tx
        .conn
        .query_one(
            "SELECT MAX(id) FROM messages WHERE conversation_id = ? AND direction IN ('inbound', 'outbound', 'note')",
            params![conversation_id],
        )?
        .opt_int(0)?;
    if let Some(through) = through {
        tx.conn.execute(
            "INSERT INTO crm_transcripts (conversation_id, through_message_id, resolved_at, state, attempts, next_at) \
             VALUES (?, ?, ?, 'pending', 0, ?) ON CONFLICT (conversation_id, through_message_id) DO NOTHING",
            params![conversation_id, through, tx.now, tx.now],
        )?;
    }
    Ok(())
}

impl Store {
    /// The CRM settings, with when they were last changed; `None` until an admin sets them.
    pub async fn crm_settings(&self) -> Result<Option<(CrmSettings, Timestamp)>> {
        self.pool()
            .read(|c| {
                let row = c.query_opt("SELECT value, updated_at FROM settings WHERE key = ?", params![SETTINGS_KEY])?;
                row.map(|r| {
                    let s = serde_json::from_str(r.text(0)?)
                        .map_err(|e| StoreError::BadRequest(format!("the stored CRM settings are unreadable: {e}")))?;
                    Ok((s, r.int(1)?))
                })
                .transpose()
            })
            .await
    }

    /// Replaces the CRM settings. Every contact's fields are fetched again from the new
    /// source when next looked at: a lookup older than the settings counts as never made.
    pub async fn put_crm_settings(&self, s: CrmSettings) -> Result<()> {
        let value = serde_json::to_string(&s).map_err(|e| StoreError::BadRequest(e.to_string()))?;
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    params![SETTINGS_KEY, &value, tx.now],
                )?;
                Ok(())
            })
            .await
    }

    /// Claims up to `limit` lookups due by `now`; one claimed before `stale_before` was
    /// interrupted and is claimed again.
    pub async fn claim_crm_requests(
        &self,
        now: Timestamp,
        stale_before: Timestamp,
        limit: usize,
    ) -> Result<Vec<CrmRequest>> {
        self.pool()
            .write(move |tx| {
                let rows = tx.conn.query(
                    "SELECT contact_id, requested_at, forced, by_address FROM crm_requests \
                     WHERE not_before <= ? AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY requested_at LIMIT ?",
                    params![now, stale_before, i64::try_from(limit).unwrap_or(16)],
                )?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let contact_id = r.int(0)?;
                    let claimed = tx.conn.execute(
                        "UPDATE crm_requests SET claimed_at = ? WHERE contact_id = ? AND (claimed_at IS NULL OR claimed_at < ?)",
                        params![now, contact_id, stale_before],
                    )?;
                    if claimed != 1 {
                        continue;
                    }
                    let merged = tx.conn.query_opt(
                        "SELECT merged_into, CASE WHEN crm_checked_at > COALESCE((SELECT updated_at FROM settings \
                         WHERE key = ?), 0) THEN crm_checked_at END FROM contacts WHERE id = ?",
                        params![SETTINGS_KEY, contact_id],
                    )?;
                    let Some(m) = merged.filter(|m| m.opt_int(0).ok().flatten().is_none()) else {
                        // Gone or merged away: the contact it became has its own lookups.
                        tx.conn.execute("DELETE FROM crm_requests WHERE contact_id = ?", params![contact_id])?;
                        continue;
                    };
                    out.push(CrmRequest {
                        contact: entities::load_contact(tx.conn, contact_id)?,
                        requested_at: r.int(1)?,
                        forced: r.int(2)? != 0,
                        by: r.opt_text(3)?.map(str::to_owned),
                        checked_at: m.opt_int(1)?,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Ends a lookup: stores the snapshot on the contact (a change every console syncs), or
    /// with `None` leaves fresh fields as they are. A request made meanwhile stays.
    pub async fn finish_crm_request(&self, req: &CrmRequest, snapshot: Option<CrmSnapshot>) -> Result<()> {
        let (contact_id, requested_at) = (req.contact.id, req.requested_at);
        self.pool()
            .write_keyed(u64::try_from(contact_id).unwrap_or(0), move |tx| {
                if let Some(s) = &snapshot {
                    let json = serde_json::to_string(s).map_err(|e| StoreError::BadRequest(e.to_string()))?;
                    // A lookup stored after the settings changed counts as newer than them,
                    // even within their millisecond or on a clock set back; one stored in the
                    // same millisecond before them counts as older, so it is made again.
                    let settings_at = tx
                        .conn
                        .query_opt("SELECT updated_at FROM settings WHERE key = ?", params![SETTINGS_KEY])?
                        .map(|r| r.int(0))
                        .transpose()?
                        .unwrap_or(0);
                    let checked_at = tx.now.max(settings_at + 1);
                    tx.conn.execute(
                        "UPDATE contacts SET crm = ?, crm_checked_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
                        params![&json, checked_at, tx.now, contact_id],
                    )?;
                    let contact = entities::load_contact(tx.conn, contact_id)?;
                    emit_contact(tx, &contact)?;
                }
                tx.conn.execute(
                    "DELETE FROM crm_requests WHERE contact_id = ? AND requested_at = ?",
                    params![contact_id, requested_at],
                )?;
                Ok(())
            })
            .await
    }

    /// Puts a claimed lookup back, to run no earlier than `not_before` (the CRM asked to
    /// slow down).
    pub async fn defer_crm_request(&self, contact_id: i64, not_before: Timestamp) -> Result<()> {
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "UPDATE crm_requests SET not_before = ?, claimed_at = NULL WHERE contact_id = ?",
                    params![not_before, contact_id],
                )?;
                Ok(())
            })
            .await
    }

    /// Claims up to `limit` transcripts due by `now`, marking them `sending` before any
    /// CRM is called; one claimed before `stale_before` and still `sending` was interrupted.
    pub async fn claim_transcripts(
        &self,
        now: Timestamp,
        stale_before: Timestamp,
        limit: usize,
    ) -> Result<Vec<TranscriptJob>> {
        self.pool()
            .write(move |tx| {
                let rows = tx.conn.query(
                    "SELECT id, conversation_id, through_message_id, resolved_at, state, attempts FROM crm_transcripts \
                     WHERE (state = 'pending' AND next_at <= ?) OR (state = 'sending' AND claimed_at < ?) ORDER BY id LIMIT ?",
                    params![now, stale_before, i64::try_from(limit).unwrap_or(16)],
                )?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let (id, state) = (r.int(0)?, r.text(4)?.to_owned());
                    let claimed = tx.conn.execute(
                        "UPDATE crm_transcripts SET state = 'sending', claimed_at = ?, attempts = attempts + 1 \
                         WHERE id = ? AND ((state = 'pending' AND next_at <= ?) OR (state = 'sending' AND claimed_at < ?))",
                        params![now, id, now, stale_before],
                    )?;
                    if claimed == 1 {
                        out.push(TranscriptJob {
                            id,
                            conversation_id: r.int(1)?,
                            through_message_id: r.int(2)?,
                            resolved_at: r.int(3)?,
                            attempts: r.int(5)?,
                            interrupted: state == "sending",
                            claimed_at: now,
                        });
                    }
                }
                Ok(out)
            })
            .await
    }

    /// The conversation's lines since the last transcript logged for it, with its contact.
    pub async fn transcript_material(&self, job: &TranscriptJob) -> Result<TranscriptMaterial> {
        let (conversation_id, through) = (job.conversation_id, job.through_message_id);
        self.pool()
            .read(move |c| {
                let conv = entities::load_conversation(c, conversation_id)?;
                let from = c
                    .query_one(
                        "SELECT MAX(through_message_id) FROM crm_transcripts \
                         WHERE conversation_id = ? AND through_message_id < ? AND state = 'done'",
                        params![conversation_id, through],
                    )?
                    .opt_int(0)?
                    .unwrap_or(0);
                // The contact the conversation belongs to now (merges move conversations).
                let contact = entities::load_contact(c, conv.contact_id)?;
                let inbox =
                    c.query_one("SELECT name FROM inboxes WHERE id = ?", params![conv.inbox_id])?.text(0)?.to_owned();
                let rows = c.query(
                    "SELECT m.direction, m.body, m.created_at, a.name FROM messages m \
                     LEFT JOIN agents a ON a.id = m.author_agent_id \
                     WHERE m.conversation_id = ? AND m.id > ? AND m.id <= ? ORDER BY m.id",
                    params![conversation_id, from, through],
                )?;
                let lines = rows
                    .iter()
                    .map(|r| {
                        let direction: Direction = r.parse(0)?;
                        let author = match direction {
                            Direction::Inbound => contact.name.clone(),
                            _ => r.opt_text(3)?.unwrap_or("Agent").to_owned(),
                        };
                        Ok(TranscriptLine { direction, author, body: r.text(1)?.to_owned(), at: r.int(2)? })
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(TranscriptMaterial { contact, channel: conv.channel, inbox, lines })
            })
            .await
    }

    /// Whether the job is still this claim's (no other hub took it over as interrupted).
    pub async fn transcript_still_claimed(&self, job: &TranscriptJob) -> Result<bool> {
        let (id, claimed_at) = (job.id, job.claimed_at);
        self.pool()
            .read(move |c| {
                Ok(c.query_opt(
                    "SELECT 1 FROM crm_transcripts WHERE id = ? AND state = 'sending' AND claimed_at = ?",
                    params![id, claimed_at],
                )?
                .is_some())
            })
            .await
    }

    /// Records how logging a transcript ended, unless another hub has taken it over since.
    pub async fn finish_transcript(&self, job: &TranscriptJob, end: TranscriptEnd) -> Result<()> {
        let (id, claimed_at) = (job.id, job.claimed_at);
        self.pool()
            .write(move |tx| {
                let (state, next_at, crm_id, error) = match &end {
                    TranscriptEnd::Logged(crm_id) => ("done", None, Some(crm_id.as_str()), None),
                    TranscriptEnd::Retry(at, why) => ("pending", Some(*at), None, Some(why.as_str())),
                    TranscriptEnd::Failed(why) => ("failed", None, None, Some(why.as_str())),
                    TranscriptEnd::Skipped(why) => ("skipped", None, None, Some(why.as_str())),
                };
                tx.conn.execute(
                    "UPDATE crm_transcripts SET state = ?, next_at = COALESCE(?, next_at), crm_id = ?, last_error = ? \
                     WHERE id = ? AND state = 'sending' AND claimed_at = ?",
                    params![state, next_at, crm_id, error, id, claimed_at],
                )?;
                Ok(())
            })
            .await
    }

    /// The transcripts of a conversation: (state, CRM id, last error), oldest first.
    pub async fn transcripts_of(&self, conversation_id: i64) -> Result<Vec<(String, Option<String>, Option<String>)>> {
        self.pool()
            .read(move |c| {
                let rows = c.query(
                    "SELECT state, crm_id, last_error FROM crm_transcripts WHERE conversation_id = ? ORDER BY id",
                    params![conversation_id],
                )?;
                rows.iter()
                    .map(|r| {
                        Ok((
                            r.text(0)?.to_owned(),
                            r.opt_text(1)?.map(str::to_owned),
                            r.opt_text(2)?.map(str::to_owned),
                        ))
                    })
                    .collect()
            })
            .await
    }
}

impl Store {
    /// One contact with its identities and cached CRM fields.
    pub async fn contact(&self, id: i64) -> Result<Contact> {
        self.pool().read(move |c| entities::load_contact(c, id)).await
    }
}
