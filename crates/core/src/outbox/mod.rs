//! The outbox: every mutation the agent makes is written here first (so it shows at once),
//! then sent in order with its ids until the hub answers. Transport failures wait for the
//! hub; the hub's refusals and repeated server errors leave the item `stuck` with its
//! reason until the agent retries or discards it; a conflict records who won. Nothing is
//! dropped silently. The rows live in `outbox.sqlite3`, which survives cache rebuilds.
//!
//! # Layout
//! - this file: [`Outbox`], which alone reads and writes the rows (enqueue, due, settle,
//!   retry, discard), and the pending rows the views lay over what the hub confirmed;
//! - [`reconcile`]: which echo from the feed retires which pending row;
//! - [`sender`]: the task that sends the rows, and its pure decision after a failed send.

pub mod reconcile;
pub mod sender;
pub mod staged;

use crate::cache::apply::{self, Applied};
use crate::cache::rows::{agent_name, outbox_state, outbox_state_str};
use crate::cache::Cache;
use crate::clock::{now_ms, random_id};
use crate::error::{CoreError, Result};
use rusqlite::{params, Connection, OptionalExtension};
use std::sync::Arc;
use switchboard_protocol::console::{ConflictInfo, OutboxItem, OutboxState};
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome};
use switchboard_protocol::sync::Change;
use switchboard_protocol::{ApiError, Id};

/// Server errors (5xx, unreadable answers) tolerated before an item is marked stuck.
pub const MAX_ATTEMPTS: u32 = 5;

/// The conversation and line id a mutation touches, for views and reconciliation.
pub fn targets(m: &Mutation) -> (Option<Id>, Option<&str>) {
    match m {
        Mutation::SendReply(r) => (Some(r.conversation_id), Some(&r.client_msg_id)),
        Mutation::AddNote(n) => (Some(n.conversation_id), Some(&n.client_msg_id)),
        Mutation::SendTemplate(t) => (Some(t.conversation_id), Some(&t.client_msg_id)),
        // The conversation does not exist until the hub applies it; its line is the echo.
        Mutation::StartConversation(s) => (None, Some(&s.client_msg_id)),
        Mutation::Assign(a) => (Some(a.conversation_id), None),
        Mutation::SetStatus(s) => (Some(s.conversation_id), None),
        Mutation::MarkRead(r) => (Some(r.conversation_id), None),
        Mutation::BlockVisitor(b) => (Some(b.conversation_id), None),
        Mutation::SetPriority(p) => (Some(p.conversation_id), None),
        Mutation::SetPresence(_)
        | Mutation::SetPreferences(_)
        | Mutation::SetRouting(_)
        | Mutation::SetAgentRouting(_)
        | Mutation::SetSla(_)
        | Mutation::SetConsent(_)
        | Mutation::MergeContacts(_)
        | Mutation::SplitContact(_)
        | Mutation::RefreshCrm(_)
        | Mutation::SaveCanned(_)
        | Mutation::DeleteCanned(_)
        | Mutation::SaveArticle(_)
        | Mutation::DeleteArticle(_) => (None, None),
    }
}

/// This console's client id (made once, kept with the outbox) and the next mutation id.
fn take_mutation_id(c: &Connection) -> Result<u64> {
    ensure_client(c)?;
    let id: i64 = c.query_row(
        "UPDATE ob.client SET next_mutation_id = next_mutation_id + 1 WHERE id = 1 RETURNING next_mutation_id - 1",
        [],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(id).unwrap_or(0))
}

fn ensure_client(c: &Connection) -> Result<()> {
    let exists = c.query_row("SELECT 1 FROM ob.client WHERE id = 1", [], |_| Ok(())).optional()?.is_some();
    if !exists {
        c.execute(
            "INSERT INTO ob.client (id, client_id, next_mutation_id) VALUES (1, ?1, 1)",
            [format!("console-{}", random_id())],
        )?;
    }
    Ok(())
}

/// One item to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: Id,
    pub envelope: MutationEnvelope,
}

/// What became of one answered item, for the front end.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Done(Id),
    Stuck(OutboxItem),
    Conflict(OutboxItem),
}

/// A row the hub has not confirmed by its echo yet, as the views lay it over the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Unconfirmed {
    pub id: Id,
    pub mutation: Mutation,
    pub state: OutboxState,
    pub error: Option<ApiError>,
    pub created_at: i64,
}

/// The outbox's rows, kept beside the cache (the file is attached to its connections, so
/// that a settle and the state it brings are written in one transaction).
#[derive(Debug, Clone)]
pub struct Outbox {
    cache: Arc<Cache>,
}

impl Outbox {
    pub fn new(cache: Arc<Cache>) -> Outbox {
        Outbox { cache }
    }

    /// The id the hub knows this console by.
    pub fn client_id(&self) -> Result<String> {
        self.cache.write(|c| {
            ensure_client(c)?;
            Ok(c.query_row("SELECT client_id FROM ob.client WHERE id = 1", [], |r| r.get(0))?)
        })
    }

    /// Writes a mutation to the outbox; returns its local id.
    pub fn enqueue(&self, mutation: Mutation, expected_version: Option<i64>) -> Result<Id> {
        self.cache.write(|c| {
            let mutation_id = take_mutation_id(c)?;
            let (conversation_id, client_msg_id) = targets(&mutation);
            let name = mutation.name();
            let client_msg_id = client_msg_id.map(str::to_owned);
            let envelope = MutationEnvelope { mutation_id, mutation, expected_version };
            c.execute(
                "INSERT INTO ob.outbox (mutation_id, name, envelope, conversation_id, client_msg_id, state, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
                params![
                    i64::try_from(mutation_id).unwrap_or(i64::MAX),
                    name,
                    serde_json::to_string(&envelope)?,
                    conversation_id,
                    client_msg_id,
                    now_ms()
                ],
            )?;
            let id = c.last_insert_rowid();
            staged::mark_queued(c, &envelope.mutation)?;
            Ok(id)
        })
    }

    /// The items to send next, in order, up to `limit`: the pending items from the first
    /// one on, as long as each is due. An item waiting for its retry holds back those
    /// after it: the hub would take a later mutation id as proof the earlier was applied.
    pub fn due(&self, now: i64, limit: usize) -> Result<Vec<Due>> {
        self.cache.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT id, envelope, next_attempt_at FROM ob.outbox WHERE state = 'pending' ORDER BY mutation_id LIMIT ?1",
            )?;
            let rows = st.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok((r.get::<_, Id>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, json, next_attempt_at) = row?;
                if next_attempt_at > now {
                    break;
                }
                out.push(Due { id, envelope: serde_json::from_str(&json)? });
            }
            Ok(out)
        })
    }

    /// When the first pending item is due, if any is waiting.
    pub fn next_due_at(&self) -> Result<Option<i64>> {
        self.cache.read(|c| {
            Ok(c.query_row(
                "SELECT next_attempt_at FROM ob.outbox WHERE state = 'pending' ORDER BY mutation_id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Records the hub's answer for each sent item.
    pub fn settle(&self, answers: &[(Id, Outcome)]) -> Result<(Vec<Settled>, Applied)> {
        self.cache.write(|c| {
            let mut settled = Vec::new();
            let mut applied = Applied::default();
            for (id, outcome) in answers {
                applied.canned |= reconcile::edits_canned(c, *id)?;
                match outcome {
                    Outcome::Applied | Outcome::Duplicate => {
                        // A reply, a note or a canned response's edit stays, acknowledged,
                        // until the feed brings the hub's copy (which may already have
                        // happened), so it never shows its old state in between.
                        if reconcile::echoed(c, *id)? {
                            c.execute("DELETE FROM ob.outbox WHERE id = ?1", [id])?;
                        }
                        c.execute(
                            "UPDATE ob.outbox SET state = 'acknowledged', acknowledged_at = ?2, error = NULL WHERE id = ?1",
                            params![id, now_ms()],
                        )?;
                        settled.push(Settled::Done(*id));
                    }
                    Outcome::Conflict { current } => {
                        apply::apply_change(c, current, &mut applied)?;
                        reconcile::retire(c, &std::mem::take(&mut applied.echoes))?;
                        c.execute(
                            "UPDATE ob.outbox SET state = 'conflict', conflict = ?2 WHERE id = ?1",
                            params![id, serde_json::to_string(current)?],
                        )?;
                        if let Some(item) = item(c, *id)? {
                            settled.push(Settled::Conflict(item));
                        }
                    }
                    Outcome::Rejected { error } => {
                        c.execute(
                            "UPDATE ob.outbox SET state = 'stuck', error = ?2 WHERE id = ?1",
                            params![id, serde_json::to_string(error)?],
                        )?;
                        if let Some(item) = item(c, *id)? {
                            settled.push(Settled::Stuck(item));
                        }
                    }
                }
            }
            Ok((settled, applied))
        })
    }

    /// A failed attempt. `counts` is false for transport failures (the hub was away), which
    /// wait as long as it takes; server errors count, and the last one leaves items stuck.
    pub fn attempt_failed(&self, ids: &[Id], error: &ApiError, counts: bool, retry_at: i64) -> Result<Vec<OutboxItem>> {
        self.cache.write(|c| {
            let json = serde_json::to_string(error)?;
            let mut stuck = Vec::new();
            for id in ids {
                if counts {
                    c.execute(
                        "UPDATE ob.outbox SET attempts = attempts + 1, next_attempt_at = ?2, error = ?3, \
                         state = CASE WHEN attempts + 1 >= ?4 THEN 'stuck' ELSE state END WHERE id = ?1 AND state = 'pending'",
                        params![id, retry_at, json, MAX_ATTEMPTS],
                    )?;
                    if let Some(item) = item(c, *id)?.filter(|i| i.state == OutboxState::Stuck) {
                        stuck.push(item);
                    }
                } else {
                    c.execute(
                        "UPDATE ob.outbox SET next_attempt_at = ?2 WHERE id = ?1 AND state = 'pending'",
                        params![id, retry_at],
                    )?;
                }
            }
            Ok(stuck)
        })
    }

    /// Sends a stuck or conflicting item again, after everything queued before it. It gets
    /// a new mutation id: the hub has moved past the old one. Replies keep their
    /// `client_msg_id`, so one that did reach the hub is still stored only once.
    pub fn retry(&self, id: Id) -> Result<()> {
        self.cache.write(|c| {
            let row: Option<(String, String)> = c
                .query_row("SELECT state, envelope FROM ob.outbox WHERE id = ?1", [id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let (state, json) = row.ok_or(CoreError::NotFound("outbox item"))?;
            if !matches!(outbox_state(&state), OutboxState::Stuck | OutboxState::Conflict) {
                return Err(CoreError::BadRequest(format!("outbox item {id} is {state}, not stuck")));
            }
            let mut envelope: MutationEnvelope = serde_json::from_str(&json)?;
            envelope.mutation_id = take_mutation_id(c)?;
            // After a conflict the agent has seen the current state: apply over it.
            envelope.expected_version = None;
            c.execute(
                "UPDATE ob.outbox SET state = 'pending', attempts = 0, next_attempt_at = 0, error = NULL, conflict = NULL, \
                 mutation_id = ?2, envelope = ?3 WHERE id = ?1",
                params![id, i64::try_from(envelope.mutation_id).unwrap_or(i64::MAX), serde_json::to_string(&envelope)?],
            )?;
            Ok(())
        })
    }

    /// Drops an item the agent gave up on. Items still pending cannot be discarded: they
    /// may be on their way to the hub. Says whether the item edited a canned response.
    pub fn discard(&self, id: Id) -> Result<bool> {
        self.cache.write(|c| {
            let canned = reconcile::edits_canned(c, id)?;
            let state: Option<String> =
                c.query_row("SELECT state FROM ob.outbox WHERE id = ?1", [id], |r| r.get(0)).optional()?;
            match state.as_deref().map(outbox_state) {
                None => Err(CoreError::NotFound("outbox item")),
                Some(OutboxState::Stuck | OutboxState::Conflict) => {
                    c.execute("DELETE FROM ob.outbox WHERE id = ?1", [id])?;
                    Ok(canned)
                }
                Some(s) => {
                    Err(CoreError::BadRequest(format!("outbox item {id} is {}, not stuck", outbox_state_str(s))))
                }
            }
        })
    }

    /// Every item not finished with, in order.
    pub fn items(&self) -> Result<Vec<OutboxItem>> {
        self.cache.read(|c| {
            let ids: Vec<Id> = c
                .prepare_cached("SELECT id FROM ob.outbox ORDER BY mutation_id")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                out.extend(item(c, id)?);
            }
            Ok(out)
        })
    }

    /// How many replies and notes wait to be sent.
    pub fn queued_replies(&self) -> Result<u64> {
        self.cache.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM ob.outbox WHERE state = 'pending' AND client_msg_id IS NOT NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or(0))?)
        })
    }

    /// Forgets acknowledged items whose echo never came (the conversation left the agent's
    /// scope meanwhile) once `before` has passed.
    pub fn prune_acknowledged(&self, before: i64) -> Result<usize> {
        self.cache.write(|c| {
            Ok(c.execute("DELETE FROM ob.outbox WHERE state = 'acknowledged' AND acknowledged_at < ?1", [before])?)
        })
    }
}

/// The replies and notes of `conversations` whose echo has not come yet, in order.
pub fn unconfirmed_lines(c: &Connection, conversations: &[Id]) -> Result<Vec<Unconfirmed>> {
    unconfirmed(
        c,
        "SELECT o.id, o.envelope, o.state, o.error, o.created_at FROM ob.outbox o \
         WHERE o.client_msg_id IS NOT NULL AND o.conversation_id IN (SELECT value FROM json_each(?1)) \
         AND o.client_msg_id NOT IN (SELECT client_msg_id FROM messages WHERE client_msg_id IS NOT NULL) \
         ORDER BY o.mutation_id",
        [serde_json::to_string(conversations)?],
    )
}

/// The edits of canned responses waiting to be sent, or confirmed by the hub with the
/// feed's copy still to come, oldest first. A refused one (stuck) is not among them: the
/// agent is told, and the list shows what the hub has.
pub fn unconfirmed_canned_edits(c: &Connection) -> Result<Vec<Unconfirmed>> {
    unconfirmed(
        c,
        &format!(
            "SELECT id, envelope, state, error, created_at FROM ob.outbox WHERE {} \
             AND state IN ('pending', 'acknowledged') ORDER BY mutation_id",
            reconcile::CANNED_EDITS
        ),
        [],
    )
}

/// The article edits the hub has not confirmed, or whose echo has not come, in order.
pub fn unconfirmed_article_edits(c: &Connection) -> Result<Vec<Unconfirmed>> {
    unconfirmed(
        c,
        &format!(
            "SELECT id, envelope, state, error, created_at FROM ob.outbox WHERE {} \
             AND state IN ('pending', 'acknowledged') ORDER BY mutation_id",
            reconcile::ARTICLE_EDITS
        ),
        [],
    )
}

fn unconfirmed(c: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<Vec<Unconfirmed>> {
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map(args, |r| {
        Ok((
            r.get::<_, Id>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, envelope, state, error, created_at) = row?;
        out.push(Unconfirmed {
            id,
            mutation: serde_json::from_str::<MutationEnvelope>(&envelope)?.mutation,
            state: outbox_state(&state),
            error: error.and_then(|e| serde_json::from_str::<ApiError>(&e).ok()),
            created_at,
        });
    }
    Ok(out)
}

fn item(c: &Connection, id: Id) -> Result<Option<OutboxItem>> {
    type Raw = (String, Option<Id>, Option<String>, String, i64, Option<String>, Option<String>, i64);
    let row: Option<Raw> = c
        .prepare_cached(
            "SELECT name, conversation_id, client_msg_id, state, attempts, error, conflict, created_at \
             FROM ob.outbox WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
        })
        .optional()?;
    let Some((name, conversation_id, client_msg_id, state, attempts, error, conflict, created_at)) = row else {
        return Ok(None);
    };
    let error: Option<ApiError> = error.map(|e| serde_json::from_str(&e)).transpose()?;
    let conflict =
        conflict.map(|j| serde_json::from_str::<Change>(&j)).transpose()?.and_then(|ch| conflict_info(c, &ch));
    Ok(Some(OutboxItem {
        id,
        name,
        conversation_id,
        client_msg_id,
        state: outbox_state(&state),
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        error,
        conflict,
        created_at,
    }))
}

fn conflict_info(c: &Connection, change: &Change) -> Option<ConflictInfo> {
    match change {
        Change::Conversation(v) => Some(ConflictInfo::Conversation {
            conversation_id: v.id,
            changed_by: v.updated_by,
            changed_by_name: agent_name(c, v.updated_by),
            assignee_id: v.assignee_id,
            assignee_name: agent_name(c, v.assignee_id),
            team_id: v.team_id,
            status: v.status,
        }),
        Change::Canned(r) => Some(ConflictInfo::Canned {
            key: r.key.clone(),
            shortcut: r.shortcut.clone(),
            title: r.title.clone(),
            changed_by: r.updated_by,
            changed_by_name: agent_name(c, r.updated_by),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::mutation::AddNote;
    use switchboard_protocol::ErrorCode;

    fn note(body: String) -> Mutation {
        Mutation::AddNote(AddNote { conversation_id: 1, client_msg_id: random_id(), body })
    }

    #[test]
    fn a_full_disk_reaches_the_agent_as_such_and_loses_nothing_queued() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(Cache::open(dir.path()).unwrap());
        let outbox = Outbox::new(cache.clone());
        let kept = outbox.enqueue(note("queued before".into()), None).unwrap();
        // The outbox file may not grow past what it holds now: the next write finds the
        // disk full, as SQLite reports it.
        cache
            .write(|c| {
                let pages: i64 = c.query_row("PRAGMA ob.page_count", [], |r| r.get(0))?;
                c.pragma_update(Some("ob"), "max_page_count", pages)?;
                Ok(())
            })
            .unwrap();
        let error = outbox.enqueue(note("x".repeat(64 * 1024)), None).unwrap_err();
        assert!(matches!(error, CoreError::DiskFull), "{error:?}");
        let api = error.to_api();
        assert_eq!(api.code, ErrorCode::Unavailable);
        assert_eq!(api.message, "the disk is full: free some space, then try again");
        let items = outbox.items().unwrap();
        assert_eq!(items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![kept]);
    }
}
