//! Reading the change feed: the bootstrap snapshot, pages of changes after a cursor,
//! older history of one conversation, and pruning below the retention floor.
//!
//! Every read runs in one snapshot transaction that first reads the feed's head. Because
//! writers take `seq` numbers under the head row's lock and commit in that order, every
//! change at or below the head read here has committed: a page never skips one.

use super::change_kind::ChangeKind;
use super::db::{Connection, Row};
use super::entities::{self, CONVERSATION_COLUMNS, MESSAGE_COLUMNS};
use super::{Result, Store, StoreError};
use crate::params;
use crate::policy::Viewer;
use serde_json::value::RawValue;
use switchboard_protocol::model::Role;
use switchboard_protocol::sync::{Bootstrap, ChangeFrame, ChangesPage, Cursor, MessagesPage, RemovalReason};

/// One stored change with the scope it was written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChange {
    pub seq: i64,
    pub kind: ChangeKind,
    pub entity_id: i64,
    pub team_id: Option<i64>,
    pub prev_team_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub payload: String,
    /// When its transaction began, on the clock of the hub that wrote it.
    pub created_at: i64,
}

/// What one viewer gets from one stored change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// The change itself.
    Show,
    /// The conversation left the viewer's scope: drop it.
    Remove,
    Hidden,
}

/// Decides what `v` sees of change `c`.
pub fn visibility(v: &Viewer, c: &StoredChange) -> Visibility {
    if let Some(agent) = c.agent_id {
        return if agent == v.agent_id { Visibility::Show } else { Visibility::Hidden };
    }
    match c.team_id {
        None => Visibility::Show,
        Some(t) if v.sees_team(t) => Visibility::Show,
        Some(_) if c.kind == ChangeKind::Conversation && c.prev_team_id.is_some_and(|p| v.sees_team(p)) => {
            Visibility::Remove
        }
        Some(_) => Visibility::Hidden,
    }
}

/// The frame `v` receives for `c`, if any, with the change as raw JSON.
pub fn frame_for(v: &Viewer, c: &StoredChange) -> Option<ChangeFrame<Box<RawValue>>> {
    let json = match visibility(v, c) {
        Visibility::Hidden => return None,
        Visibility::Show => c.payload.clone(),
        Visibility::Remove => serde_json::to_string(&switchboard_protocol::sync::Change::ConversationRemoved {
            id: c.entity_id,
            reason: RemovalReason::LeftScope,
        })
        .ok()?,
    };
    RawValue::from_string(json).ok().map(|change| ChangeFrame { seq: c.seq, change })
}

fn stored(r: &Row) -> Result<StoredChange> {
    Ok(StoredChange {
        seq: r.int(0)?,
        kind: r.parse(1)?,
        entity_id: r.int(2)?,
        team_id: r.opt_int(3)?,
        prev_team_id: r.opt_int(4)?,
        agent_id: r.opt_int(5)?,
        payload: r.text(6)?.to_owned(),
        created_at: r.int(7)?,
    })
}

const CHANGE_COLUMNS: &str = "seq, kind, entity_id, team_id, prev_team_id, agent_id, payload, created_at";

/// The SQL condition (on `changes`) a viewer's page is filtered by, and its parameters.
/// It admits exactly the rows [`visibility`] does not hide, given the viewer's teams.
fn scope_filter(v: &Viewer) -> (&'static str, Vec<super::db::Value>) {
    if v.role == Role::Admin {
        ("(agent_id IS NULL OR agent_id = ?)", vec![v.agent_id.into()])
    } else {
        (
            "(agent_id = ? OR (agent_id IS NULL AND (team_id IS NULL \
             OR team_id IN (SELECT team_id FROM team_members WHERE agent_id = ?) \
             OR (kind = ? AND prev_team_id IN (SELECT team_id FROM team_members WHERE agent_id = ?)))))",
            vec![v.agent_id.into(), v.agent_id.into(), ChangeKind::Conversation.into(), v.agent_id.into()],
        )
    }
}

/// Reads the head and floor, and checks `since` against them.
fn check_cursor(c: &mut dyn Connection, since: i64) -> Result<i64> {
    let r = c.query_one("SELECT seq, floor FROM feed_head WHERE id = 1", &[])?;
    let (head, floor) = (r.int(0)?, r.int(1)?);
    if since < floor {
        return Err(StoreError::CursorExpired);
    }
    if since > head {
        return Err(StoreError::BadCursor("the cursor is ahead of the feed".into()));
    }
    Ok(head)
}

/// Stored changes after `since` in `v`'s scope (at most `limit`), and the head they were read at.
pub fn read_changes(
    c: &mut dyn Connection,
    v: &Viewer,
    since: i64,
    limit: usize,
) -> Result<(Vec<StoredChange>, i64, bool)> {
    let head = check_cursor(c, since)?;
    let (filter, mut params) = scope_filter(v);
    let sql =
        format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > ? AND seq <= ? AND {filter} ORDER BY seq LIMIT ?");
    let mut all = vec![since.into(), head.into()];
    all.append(&mut params);
    all.push(i64::try_from(limit + 1).unwrap_or(i64::MAX).into());
    let rows = c.query(&sql, &all)?;
    let mut changes = rows.iter().map(stored).collect::<Result<Vec<_>>>()?;
    let has_more = changes.len() > limit;
    changes.truncate(limit);
    Ok((changes, head, has_more))
}

/// Parses a client's cursor.
pub fn parse_cursor(cursor: &str) -> Result<i64> {
    Cursor(cursor.to_owned())
        .seq()
        .ok_or_else(|| StoreError::BadCursor(format!("`{cursor}` is not a cursor this hub issued")))
}

fn in_scope(v: &Viewer) -> (&'static str, Vec<super::db::Value>) {
    if v.role == Role::Admin {
        ("1 = 1", vec![])
    } else {
        ("c.team_id IN (SELECT team_id FROM team_members WHERE agent_id = ?)", vec![v.agent_id.into()])
    }
}

/// Feed rows one pruning transaction deletes at most.
pub const PRUNE_CHUNK: i64 = 5_000;

/// How large one bootstrap may grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootstrapLimits {
    /// Messages in all; with many conversations each gets fewer (at least one).
    pub max_messages: usize,
    /// Resolved conversations, the most recently active; every unresolved one is included.
    pub max_resolved: usize,
}

impl Default for BootstrapLimits {
    fn default() -> Self {
        BootstrapLimits { max_messages: 50_000, max_resolved: 5_000 }
    }
}

/// The messages each conversation brings when `conversations` of them share `max_messages`.
pub fn messages_each(requested: usize, conversations: usize, max_messages: usize) -> usize {
    if conversations == 0 {
        return requested;
    }
    requested.min((max_messages / conversations).max(1))
}

impl Store {
    /// Everything `v` may see, with the latest `per_conversation` messages of each thread,
    /// within the default [`BootstrapLimits`].
    pub async fn bootstrap(&self, v: &Viewer, per_conversation: usize) -> Result<Bootstrap> {
        self.bootstrap_within(v, per_conversation, BootstrapLimits::default()).await
    }

    /// Everything `v` may see (resolved conversations only the latest
    /// `limits.max_resolved`), with the latest `per_conversation` messages of each thread,
    /// fewer when that would pass `limits.max_messages` in all.
    pub async fn bootstrap_within(
        &self,
        v: &Viewer,
        per_conversation: usize,
        limits: BootstrapLimits,
    ) -> Result<Bootstrap> {
        let v = v.clone();
        self.pool()
            .read(move |c| {
                let head = c.query_int("SELECT seq FROM feed_head WHERE id = 1", &[])?;
                let (in_teams, tp) = in_scope(&v);
                // Every unresolved conversation, and the most recently active resolved ones.
                let scope = format!(
                    "{in_teams} AND (c.status <> 'resolved' OR c.id IN (SELECT c.id FROM conversations c \
                     WHERE {in_teams} AND c.status = 'resolved' ORDER BY c.last_activity_at DESC, c.id DESC LIMIT ?))"
                );
                let mut sp = tp.clone();
                sp.extend(tp.iter().cloned());
                sp.push(i64::try_from(limits.max_resolved).unwrap_or(i64::MAX).into());
                let convs = c.query(&format!("SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE {scope} ORDER BY c.id"), &sp)?;
                let conversations = convs.iter().map(entities::conversation).collect::<Result<Vec<_>, _>>()?;
                let per_conversation = messages_each(per_conversation, conversations.len(), limits.max_messages);
                let mut contact_ids: Vec<i64> = conversations.iter().map(|c| c.contact_id).collect();
                contact_ids.sort_unstable();
                contact_ids.dedup();
                let contacts = entities::load_contacts(c, &contact_ids)?;
                let mut mp = sp.clone();
                mp.push(i64::try_from(per_conversation).unwrap_or(i64::MAX).into());
                let msgs = c.query(
                    &format!(
                        "SELECT * FROM (SELECT {MESSAGE_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY m.conversation_id ORDER BY m.id DESC) AS rn \
                         FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE {scope}) t WHERE t.rn <= ? ORDER BY t.conversation_id, t.id"
                    ),
                    &mp,
                )?;
                let messages = msgs.iter().map(entities::message).collect::<Result<Vec<_>, _>>()?;
                let markers = c.query(
                    "SELECT conversation_id, agent_id, last_read_message_id, at FROM read_markers WHERE agent_id = ? ORDER BY conversation_id",
                    params![v.agent_id],
                )?;
                let read_markers = markers
                    .iter()
                    .map(|r| {
                        Ok(switchboard_protocol::model::ReadMarker {
                            conversation_id: r.int(0)?,
                            agent_id: r.int(1)?,
                            last_read_message_id: r.int(2)?,
                            at: r.int(3)?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let agents = entities::load_agents(c, None)?;
                let me = agents.iter().find(|a| a.id == v.agent_id).cloned().ok_or(StoreError::NotFound("agent"))?;
                Ok(Bootstrap {
                    cursor: Cursor::at(head),
                    me,
                    agents,
                    teams: entities::load_teams(c)?,
                    inboxes: entities::load_inboxes(c)?,
                    contacts,
                    conversations,
                    messages,
                    read_markers,
                    canned: super::canned::visible_to(c, v.agent_id)?,
                    articles: super::articles::all(c)?,
                    public_url: None,
                    preferences: super::preferences::load(c, v.agent_id)?,
                })
            })
            .await
    }

    /// Changes after `since` that `v` may see, at most `limit` of them.
    pub async fn changes(&self, v: &Viewer, since: i64, limit: usize) -> Result<ChangesPage<Box<RawValue>>> {
        let v = v.clone();
        self.pool()
            .read(move |c| {
                let (rows, head, has_more) = read_changes(c, &v, since, limit)?;
                let next = if has_more { rows.last().map_or(since, |r| r.seq) } else { head };
                let changes = rows.iter().filter_map(|r| frame_for(&v, r)).collect();
                Ok(ChangesPage { changes, next: Cursor::at(next), has_more })
            })
            .await
    }

    /// Every stored change after `since` (all scopes), for fanning out to open streams.
    pub async fn changes_after(&self, since: i64, limit: usize) -> Result<(Vec<StoredChange>, i64)> {
        self.pool()
            .read(move |c| {
                let head = c.query_int("SELECT seq FROM feed_head WHERE id = 1", &[])?;
                let rows = c.query(
                    &format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"),
                    params![since, head, i64::try_from(limit).unwrap_or(i64::MAX)],
                )?;
                let changes = rows.iter().map(stored).collect::<Result<Vec<_>>>()?;
                let upto = if changes.len() == limit { changes.last().map_or(since, |c| c.seq) } else { head };
                Ok((changes, upto))
            })
            .await
    }

    /// Checks a cursor without reading changes: the feed head if it is good.
    pub async fn check_cursor(&self, since: i64) -> Result<i64> {
        self.pool().read(move |c| check_cursor(c, since)).await
    }

    /// Messages of a conversation older than `before` (a message id), newest `limit`.
    pub async fn messages_before(
        &self,
        v: &Viewer,
        conversation_id: i64,
        before: Option<i64>,
        limit: usize,
    ) -> Result<MessagesPage> {
        let v = v.clone();
        self.pool()
            .read(move |c| {
                let conv = entities::load_conversation(c, conversation_id)?;
                if !v.sees_team(conv.team_id) {
                    return Err(StoreError::NotFound("conversation"));
                }
                let rows = c.query(
                    &format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?"),
                    params![conversation_id, before.unwrap_or(i64::MAX), i64::try_from(limit + 1).unwrap_or(i64::MAX)],
                )?;
                let mut messages = rows.iter().map(entities::message).collect::<Result<Vec<_>, _>>()?;
                let more = messages.len() > limit;
                messages.truncate(limit);
                messages.reverse();
                let before = if more { messages.first().map(|m| m.id.to_string()) } else { None };
                Ok(MessagesPage { messages, before })
            })
            .await
    }

    /// Reopens snoozed conversations whose time came by `now`. Returns how many.
    pub async fn wake_snoozed(&self, now: i64) -> Result<usize> {
        self.pool()
            .write(move |tx| {
                let due = tx.conn.query(
                    "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= ? ORDER BY id",
                    params![now],
                )?;
                let mut woken = 0;
                for r in &due {
                    let id = r.int(0)?;
                    // Another hub's chores may have woken it since (or an agent snoozed it
                    // again): only a conversation still due wakes, once.
                    let changed = tx.conn.execute(
                        "UPDATE conversations SET status = 'open', snoozed_until = NULL, updated_by = NULL, version = version + 1 \
                         WHERE id = ? AND status = 'snoozed' AND snoozed_until <= ?",
                        params![id, now],
                    )?;
                    if changed != 1 {
                        continue;
                    }
                    woken += 1;
                    super::routing::sync_queue(tx, id)?;
                    let conv = entities::load_conversation(tx.conn, id)?;
                    entities::emit_conversation(tx, &conv, None);
                }
                Ok(woken)
            })
            .await
    }

    /// Drops changes at or below `upto` (never past the head); cursors before it then
    /// answer `cursor_expired`. The floor is raised first, then the rows go in chunks of
    /// [`PRUNE_CHUNK`], each its own short transaction, so pruning a month of feed never
    /// holds the writer for long. Returns the new floor.
    pub async fn prune_changes(&self, upto: i64) -> Result<i64> {
        self.prune_changes_in_chunks(upto, PRUNE_CHUNK).await
    }

    /// [`Store::prune_changes`] with `chunk` rows per transaction.
    pub async fn prune_changes_in_chunks(&self, upto: i64, chunk: i64) -> Result<i64> {
        let chunk = chunk.max(1);
        let floor = self
            .pool()
            .write(move |tx| {
                let head = tx.conn.query_int("SELECT seq FROM feed_head WHERE id = 1", &[])?;
                let floor = upto.min(head);
                tx.conn.execute("UPDATE feed_head SET floor = ? WHERE id = 1 AND floor < ?", params![floor, floor])?;
                Ok(tx.conn.query_int("SELECT floor FROM feed_head WHERE id = 1", &[])?)
            })
            .await?;
        loop {
            let deleted = self
                .pool()
                .write(move |tx| {
                    Ok(tx.conn.execute(
                        "DELETE FROM changes WHERE seq IN \
                         (SELECT seq FROM changes WHERE seq <= ? ORDER BY seq LIMIT ?)",
                        params![floor, chunk],
                    )?)
                })
                .await?;
            if deleted < u64::try_from(chunk).unwrap_or(u64::MAX) {
                return Ok(floor);
            }
        }
    }

    /// Drops changes older than `max_age_ms`: the feed's retention.
    pub async fn prune_older_than(&self, max_age_ms: i64) -> Result<i64> {
        let cutoff = crate::clock::now_ms() - max_age_ms;
        let upto = self
            .pool()
            .read(move |c| {
                Ok(c.query_one("SELECT MAX(seq) FROM changes WHERE created_at < ?", params![cutoff])?.opt_int(0)?)
            })
            .await?;
        match upto {
            Some(seq) => self.prune_changes(seq).await,
            None => self.pool().read(|c| Ok(c.query_int("SELECT floor FROM feed_head WHERE id = 1", &[])?)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_conversations_share_the_message_cap() {
        for (requested, conversations, cap, want) in [
            (30, 0, 50_000, 30),
            (30, 100, 50_000, 30),
            (500, 100, 50_000, 500),
            (500, 1_000, 50_000, 50),
            (500, 100_000, 50_000, 1),
            (0, 10, 50_000, 0),
            (30, 7, 10, 1),
        ] {
            assert_eq!(messages_each(requested, conversations, cap), want, "{requested} {conversations} {cap}");
        }
    }

    fn change(kind: ChangeKind, team: Option<i64>, prev: Option<i64>, agent: Option<i64>) -> StoredChange {
        StoredChange {
            seq: 1,
            kind,
            entity_id: 5,
            team_id: team,
            prev_team_id: prev,
            agent_id: agent,
            payload: "{}".into(),
            created_at: 0,
        }
    }

    #[test]
    fn visibility_table() {
        let agent = Viewer { agent_id: 1, role: Role::Agent, teams: vec![10] };
        let admin = Viewer { agent_id: 9, role: Role::Admin, teams: vec![] };
        use ChangeKind::*;
        use Visibility::*;
        let cases = [
            ("own team", &agent, change(Conversation, Some(10), None, None), Show),
            ("other team", &agent, change(Conversation, Some(20), None, None), Hidden),
            ("moved out of my team", &agent, change(Conversation, Some(20), Some(10), None), Remove),
            ("moved into my team", &agent, change(Conversation, Some(10), Some(20), None), Show),
            ("message of other team", &agent, change(Message, Some(20), None, None), Hidden),
            ("public", &agent, change(Agent, None, None, None), Show),
            ("mine only", &agent, change(ReadMarker, None, None, Some(1)), Show),
            ("someone else's only", &agent, change(ReadMarker, None, None, Some(2)), Hidden),
            ("admin sees all teams", &admin, change(Conversation, Some(20), Some(10), None), Show),
            ("admin not others' markers", &admin, change(ReadMarker, None, None, Some(1)), Hidden),
        ];
        for (name, v, c, want) in cases {
            assert_eq!(visibility(v, &c), want, "{name}");
        }
    }

    #[test]
    fn removal_frame_names_the_conversation() {
        let agent = Viewer { agent_id: 1, role: Role::Agent, teams: vec![10] };
        let f = frame_for(&agent, &change(ChangeKind::Conversation, Some(20), Some(10), None)).unwrap();
        assert_eq!(f.change.get(), r#"{"type":"conversation_removed","id":5,"reason":"left_scope"}"#);
    }
}
