//! The views, answered from the cache alone: the inbox lists with counts and unread, a
//! conversation's thread with its pending outbox lines, a customer's unified history across
//! every channel, and the customer's profile.

use crate::cache::rows::{self, contact, json_rows, me, text_enum, MESSAGE_COLUMNS};
use crate::cache::Cache;
use crate::error::{CoreError, Result};
use crate::outbox;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::HashMap;
use switchboard_protocol::console::{
    ConversationRow, History, OutboxLine, Profile, Thread, ThreadLine, View, ViewCount,
};
use switchboard_protocol::model::{Agent, Attachment, Contact, Direction, Inbox, Message, Priority, Role};
use switchboard_protocol::mutation::Mutation;
use switchboard_protocol::Id;

const ROW_COLUMNS: &str = "c.id, c.contact_id, COALESCE(k.name, ''), c.channel, c.inbox_id, c.status, c.assignee_id, \
    c.team_id, c.preview, c.waiting_since, c.last_activity_at, c.snoozed_until, c.reply_window_expires_at, \
    c.last_message_id > COALESCE(r.last_read_message_id, 0), c.version, c.customer_address, c.priority, \
    c.sla_state, c.sla_due_at, c.csat_score, \
    CASE WHEN c.queued_at IS NULL THEN NULL ELSE 1 + (SELECT count(*) FROM conversations q \
      WHERE q.team_id = c.team_id AND q.queued_at IS NOT NULL \
      AND (q.priority, q.queued_at, q.id) < (c.priority, c.queued_at, c.id)) END";

const ROW_FROM: &str = "conversations c LEFT JOIN contacts k ON k.id = c.contact_id \
    LEFT JOIN read_markers r ON r.conversation_id = c.id";

const BOTH_BOUND: &str = "?1 IS NOT NULL AND ?2 IS NOT NULL";

fn row(r: &Row<'_>) -> rusqlite::Result<ConversationRow> {
    Ok(ConversationRow {
        id: r.get(0)?,
        contact_id: r.get(1)?,
        contact_name: r.get(2)?,
        channel: text_enum(r, 3)?,
        customer_address: r.get(15)?,
        inbox_id: r.get(4)?,
        status: text_enum(r, 5)?,
        assignee_id: r.get(6)?,
        team_id: r.get(7)?,
        preview: r.get(8)?,
        waiting_since: r.get(9)?,
        last_activity_at: r.get(10)?,
        snoozed_until: r.get(11)?,
        reply_window_expires_at: r.get(12)?,
        unread: r.get(13)?,
        version: r.get(14)?,
        priority: Priority::from_rank(r.get(16)?),
        sla_state: r.get::<_, String>(17)?.parse().unwrap_or_default(),
        sla_due_at: r.get(18)?,
        csat_score: r.get(19)?,
        queue_position: r.get(20)?,
    })
}

/// Where each view looks, and in which order. `?1` is the agent's id, `?2` their teams as a
/// JSON array; queries add [`BOTH_BOUND`] so that both are always bound.
fn filter(view: View) -> (&'static str, &'static str) {
    match view {
        View::Mine => ("c.status = 'open' AND c.assignee_id = ?1", "c.last_activity_at DESC"),
        View::Unassigned => (
            "c.status = 'open' AND c.assignee_id IS NULL AND c.team_id IN (SELECT value FROM json_each(?2))",
            "c.last_activity_at DESC",
        ),
        View::MyTeams => {
            ("c.status = 'open' AND c.team_id IN (SELECT value FROM json_each(?2))", "c.last_activity_at DESC")
        }
        View::All => ("c.status = 'open'", "c.last_activity_at DESC"),
        View::Waiting => ("c.status = 'open' AND c.waiting_since IS NOT NULL", "c.waiting_since ASC"),
        View::Closed => ("c.status NOT IN ('open', 'bot')", "c.last_activity_at DESC"),
        // The cache holds only what the agent may see: their teams', or everyone's for an admin.
        View::Bot => ("c.status = 'bot'", "c.last_activity_at DESC"),
        View::AtRisk => (
            "c.status <> 'resolved' AND c.sla_state <> 'ok' \
             AND (c.assignee_id = ?1 OR c.team_id IN (SELECT value FROM json_each(?2)))",
            "c.sla_due_at ASC",
        ),
    }
}

/// The At risk view's total and unread, read through the index of the conversations whose
/// targets are near or missed: a few rows where the agent's teams may hold tens of
/// thousands. Left to itself the planner reads the assignee and team indexes instead (an
/// OR of the two), which visits every conversation of the agent's teams.
fn at_risk_count() -> String {
    let (filter, _) = filter(View::AtRisk);
    format!(
        "SELECT count(*), COALESCE(sum(c.last_message_id > COALESCE(r.last_read_message_id, 0)), 0) \
         FROM conversations c INDEXED BY conversations_at_risk LEFT JOIN read_markers r ON r.conversation_id = c.id \
         WHERE c.sla_state <> 'ok' AND {filter} AND {BOTH_BOUND}"
    )
}

/// The views `me` has: leads and admins get `all`; agents do not.
fn views_of(me: &Agent) -> impl Iterator<Item = View> + '_ {
    View::ALL.into_iter().filter(|v| *v != View::All || me.role != Role::Agent)
}

fn scope(me: &Agent) -> Result<(Id, String)> {
    Ok((me.id, serde_json::to_string(&me.teams)?))
}

fn agent_names(c: &Connection) -> Result<HashMap<Id, String>> {
    let mut st = c.prepare_cached("SELECT id, name FROM agents")?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn line(m: Message, names: &HashMap<Id, String>) -> ThreadLine {
    ThreadLine {
        id: Some(m.id),
        conversation_id: m.conversation_id,
        channel: m.channel,
        direction: m.direction,
        author_name: m.author_agent_id.and_then(|a| names.get(&a).cloned()),
        author_agent_id: m.author_agent_id,
        body: m.body,
        subject: m.subject,
        attachments: shown(m.attachments),
        client_msg_id: m.client_msg_id,
        delivery: m.delivery,
        delivery_error: m.delivery_error,
        choices: m.choices,
        chosen: m.chosen,
        bot: m.bot,
        outbox: None,
        created_at: m.created_at,
    }
}

/// Attachments as agents see them: each name shows what the file is
/// ([`crate::files::display_name`]).
fn shown(mut attachments: Vec<Attachment>) -> Vec<Attachment> {
    for a in &mut attachments {
        if let std::borrow::Cow::Owned(shown) = crate::files::display_name(&a.name) {
            a.name = shown;
        }
    }
    attachments
}

fn template_text(c: &Connection, conversation: Id, name: &str, params: &[String]) -> Result<String> {
    let inbox: Option<String> = c
        .prepare_cached("SELECT i.json FROM conversations v JOIN inboxes i ON i.id = v.inbox_id WHERE v.id = ?1")?
        .query_row([conversation], |r| r.get(0))
        .optional()?;
    let template = inbox
        .and_then(|j| serde_json::from_str::<Inbox>(&j).ok())
        .and_then(|i| i.templates.into_iter().find(|t| t.name == name));
    Ok(match template {
        Some(t) => t.fill(params),
        None => format!("[template {name}]"),
    })
}

/// The replies and notes of `conversations` still in the outbox, as thread lines.
fn pending_lines(c: &Connection, conversations: &[Id], me: &Agent) -> Result<Vec<ThreadLine>> {
    let mut out = Vec::new();
    for row in outbox::unconfirmed_lines(c, conversations)? {
        let (conversation_id, direction, body, client_msg_id, attachments, choices) = match row.mutation {
            Mutation::SendReply(r) => {
                (r.conversation_id, Direction::Outbound, r.body, r.client_msg_id, r.attachments, r.choices)
            }
            Mutation::AddNote(n) => (n.conversation_id, Direction::Note, n.body, n.client_msg_id, Vec::new(), None),
            Mutation::SendTemplate(t) => {
                let body = template_text(c, t.conversation_id, &t.template, &t.params)?;
                (t.conversation_id, Direction::Outbound, body, t.client_msg_id, Vec::new(), None)
            }
            _ => continue,
        };
        let channel = c
            .prepare_cached("SELECT channel FROM conversations WHERE id = ?1")?
            .query_row([conversation_id], |r| text_enum(r, 0))
            .optional()?;
        let Some(channel) = channel else { continue };
        out.push(ThreadLine {
            id: None,
            conversation_id,
            channel,
            direction,
            author_agent_id: Some(me.id),
            author_name: Some(me.name.clone()),
            body,
            subject: None,
            attachments: shown(attachments),
            client_msg_id: Some(client_msg_id),
            delivery: None,
            delivery_error: None,
            choices,
            chosen: None,
            bot: None,
            outbox: Some(OutboxLine { id: row.id, state: row.state, error: row.error.map(|e| e.message) }),
            created_at: row.created_at,
        });
    }
    Ok(out)
}

/// Thread lines from a query selecting [`MESSAGE_COLUMNS`] (`{MESSAGE_COLUMNS}` in `sql`).
fn messages(
    c: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
    names: &HashMap<Id, String>,
) -> Result<Vec<ThreadLine>> {
    let mut st = c.prepare_cached(&sql.replace("{MESSAGE_COLUMNS}", MESSAGE_COLUMNS))?;
    let rows = st.query_map(args, rows::message)?;
    let mut out = Vec::new();
    for m in rows {
        out.push(line(m?, names));
    }
    Ok(out)
}

impl Cache {
    /// The signed-in agent.
    pub fn me(&self) -> Result<Agent> {
        self.read(|c| me(c))
    }

    /// One page of a view.
    pub fn view(&self, view: View, limit: usize, offset: usize) -> Result<Vec<ConversationRow>> {
        self.read(|c| {
            let (id, teams) = scope(&me(c)?)?;
            let (filter, order) = filter(view);
            let sql = format!("SELECT {ROW_COLUMNS} FROM {ROW_FROM} WHERE {filter} AND {BOTH_BOUND} ORDER BY {order}, c.id DESC LIMIT ?3 OFFSET ?4");
            let mut st = c.prepare_cached(&sql)?;
            let rows = st.query_map(
                params![id, teams, i64::try_from(limit).unwrap_or(i64::MAX), i64::try_from(offset).unwrap_or(0)],
                row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// How many conversations each of the agent's views holds, and how many are unread.
    /// Read from `view_tally` (kept by triggers), shaped like the conversations so that the
    /// views' own filters apply.
    pub fn counts(&self) -> Result<Vec<ViewCount>> {
        self.read(|c| {
            let me = me(c)?;
            let (id, teams) = scope(&me)?;
            // The tally knows no response-time targets: At risk is counted on its own, from
            // the few conversations its index holds.
            let views: Vec<View> = views_of(&me).filter(|v| *v != View::AtRisk).collect();
            let sums: Vec<String> = views
                .iter()
                .map(|v| {
                    let (filter, _) = filter(*v);
                    format!(
                        "COALESCE(sum(CASE WHEN {filter} THEN c.n END), 0), \
                         COALESCE(sum(CASE WHEN ({filter}) AND c.unread THEN c.n END), 0)"
                    )
                })
                .collect();
            let sql = format!(
                "SELECT {} FROM (SELECT CASE open WHEN 1 THEN 'open' WHEN 2 THEN 'bot' ELSE 'closed' END AS status, \
                 NULLIF(assignee_id, 0) AS assignee_id, team_id, CASE waiting WHEN 1 THEN 0 END AS waiting_since, \
                 unread, n FROM view_tally WHERE n > 0) c WHERE {BOTH_BOUND}",
                sums.join(", ")
            );
            let numbers: Vec<i64> = c.prepare_cached(&sql)?.query_row(params![id, teams], |r| {
                (0..views.len() * 2).map(|i| r.get(i)).collect::<rusqlite::Result<_>>()
            })?;
            let mut counts: Vec<ViewCount> = views
                .iter()
                .zip(numbers.chunks(2))
                .map(|(view, n)| ViewCount {
                    view: *view,
                    total: u64::try_from(n[0]).unwrap_or(0),
                    unread: u64::try_from(n[1]).unwrap_or(0),
                })
                .collect();
            let (total, unread): (i64, i64) =
                c.prepare_cached(&at_risk_count())?.query_row(params![id, teams], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let at = counts.iter().position(|v| v.view == View::Waiting).map_or(counts.len(), |i| i + 1);
            counts.insert(
                at,
                ViewCount {
                    view: View::AtRisk,
                    total: u64::try_from(total).unwrap_or(0),
                    unread: u64::try_from(unread).unwrap_or(0),
                },
            );
            Ok(counts)
        })
    }

    /// One conversation's row.
    pub fn conversation(&self, id: Id) -> Result<ConversationRow> {
        self.read(|c| conversation_row(c, id))
    }

    /// The conversation holding the line the hub stored with `client_msg_id`, once it has.
    pub fn conversation_of_line(&self, client_msg_id: &str) -> Result<Option<Id>> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT conversation_id FROM messages WHERE client_msg_id = ?1")?
                .query_row([client_msg_id], |r| r.get(0))
                .optional()?)
        })
    }

    /// The latest `limit` lines of a conversation, oldest first, with its pending replies
    /// and notes at the end.
    pub fn thread(&self, id: Id, limit: usize) -> Result<Thread> {
        self.read(|c| {
            let conversation = conversation_row(c, id)?;
            let me = me(c)?;
            let names = agent_names(c)?;
            let mut lines = messages(
                c,
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ?1 \
                 ORDER BY m.created_at DESC, m.id DESC LIMIT ?2",
                params![id, i64::try_from(limit).unwrap_or(i64::MAX)],
                &names,
            )?;
            let cached: i64 = c
                .prepare_cached("SELECT count(*) FROM messages WHERE conversation_id = ?1")?
                .query_row([id], |r| r.get(0))?;
            lines.reverse();
            let complete = c.prepare_cached("SELECT 1 FROM history_start WHERE conversation_id = ?1")?.exists([id])?;
            let has_older = usize::try_from(cached).unwrap_or(0) > lines.len() || !complete;
            lines.extend(pending_lines(c, &[id], &me)?);
            Ok(Thread { conversation, lines, has_older })
        })
    }

    /// Every cached line of every conversation of a customer, in time order, each with its
    /// channel: the latest `limit`, before `before` (a timestamp) when given.
    pub fn history(&self, contact_id: Id, limit: usize, before: Option<i64>) -> Result<History> {
        self.read(|c| {
            let me = me(c)?;
            let names = agent_names(c)?;
            let conversations: Vec<Id> = c
                .prepare_cached("SELECT id FROM conversations WHERE contact_id = ?1")?
                .query_map([contact_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if conversations.is_empty()
                && !c.prepare_cached("SELECT 1 FROM contacts WHERE id = ?1")?.exists([contact_id])?
            {
                return Err(CoreError::NotFound("contact"));
            }
            let mut lines = messages(
                c,
                "SELECT {MESSAGE_COLUMNS} FROM conversations v JOIN messages m ON m.conversation_id = v.id \
                 WHERE v.contact_id = ?1 AND m.created_at < ?2 ORDER BY m.created_at DESC, m.id DESC LIMIT ?3",
                params![
                    contact_id,
                    before.unwrap_or(i64::MAX),
                    i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX)
                ],
                &names,
            )?;
            let mut has_older = lines.len() > limit;
            lines.truncate(limit);
            lines.reverse();
            if !has_older {
                let incomplete: i64 = c
                    .prepare_cached(
                        "SELECT count(*) FROM conversations v WHERE v.contact_id = ?1 \
                     AND v.id NOT IN (SELECT conversation_id FROM history_start)",
                    )?
                    .query_row([contact_id], |r| r.get(0))?;
                has_older = incomplete > 0;
            }
            if before.is_none() {
                lines.extend(pending_lines(c, &conversations, &me)?);
            }
            Ok(History { contact_id, lines, has_older })
        })
    }

    /// A customer with their identities, profile and CRM fields (with when they were
    /// fetched).
    pub fn contact(&self, contact_id: Id) -> Result<Contact> {
        self.read(|c| contact(c, contact_id))
    }

    /// A customer, as [`Cache::contact`], and their conversations, latest first.
    pub fn profile(&self, contact_id: Id) -> Result<Profile> {
        self.read(|c| {
            let contact = contact(c, contact_id)?;
            let sql = format!(
                "SELECT {ROW_COLUMNS} FROM {ROW_FROM} WHERE c.contact_id = ?1 ORDER BY c.last_activity_at DESC"
            );
            let conversations =
                c.prepare_cached(&sql)?.query_map([contact_id], row)?.collect::<rusqlite::Result<_>>()?;
            Ok(Profile { contact, conversations })
        })
    }

    /// Customers whose name, or one of whose addresses, contains `text` (for merging).
    pub fn find_contacts(&self, text: &str, limit: usize) -> Result<Vec<Contact>> {
        let needle = text.trim();
        if needle.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = format!("%{}%", needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        self.read(|c| {
            json_rows(
                c,
                "SELECT json FROM contacts WHERE name LIKE ?1 ESCAPE '\\' \
                 OR json_extract(json, '$.identities') LIKE ?1 ESCAPE '\\' ORDER BY name LIMIT ?2",
                params![pattern, i64::try_from(limit).unwrap_or(50)],
            )
        })
    }

    /// The customer's record in the CRM: an `http(s)` link the hub synced, or not found.
    pub fn crm_link(&self, contact_id: Id) -> Result<String> {
        let link = self.contact(contact_id)?.crm.and_then(|crm| crm.link);
        match link {
            Some(l) if l.starts_with("https://") || l.starts_with("http://") => Ok(l),
            _ => Err(CoreError::NotFound("CRM record")),
        }
    }

    /// Everyone in the workspace the agent can see (for assignment and names).
    pub fn agents(&self) -> Result<Vec<Agent>> {
        self.read(|c| json_rows(c, "SELECT json FROM agents ORDER BY name", []))
    }

    /// One cached message.
    pub fn message(&self, id: Id) -> Result<Message> {
        self.read(|c| {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?1");
            c.prepare_cached(&sql)?.query_row([id], rows::message).optional()?.ok_or(CoreError::NotFound("message"))
        })
    }

    /// The newest message id of a conversation (for read markers).
    pub fn last_message_id(&self, conversation: Id) -> Result<Option<Id>> {
        self.read(|c| {
            Ok(c.prepare_cached("SELECT MAX(id) FROM messages WHERE conversation_id = ?1")?
                .query_row([conversation], |r| r.get(0))?)
        })
    }

    /// The oldest cached message id of a conversation, and whether the cache holds its start.
    pub fn oldest_cached(&self, conversation: Id) -> Result<(Option<Id>, bool)> {
        self.read(|c| {
            let oldest = c
                .prepare_cached("SELECT MIN(id) FROM messages WHERE conversation_id = ?1")?
                .query_row([conversation], |r| r.get(0))?;
            let complete =
                c.prepare_cached("SELECT 1 FROM history_start WHERE conversation_id = ?1")?.exists([conversation])?;
            Ok((oldest, complete))
        })
    }
}

fn conversation_row(c: &Connection, id: Id) -> Result<ConversationRow> {
    let sql = format!("SELECT {ROW_COLUMNS} FROM {ROW_FROM} WHERE c.id = ?1");
    c.prepare_cached(&sql)?.query_row([id], row).optional()?.ok_or(CoreError::NotFound("conversation"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::apply::{self, SnapshotIds};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use switchboard_protocol::model::{ChannelKind, Conversation, ConversationStatus, Presence, ReadMarker, SlaState};

    fn agent(role: Role) -> Agent {
        Agent {
            id: 1,
            name: "Maya".into(),
            email: "maya@x.test".into(),
            role,
            teams: vec![1, 2],
            capacity: 10,
            presence: Presence::Online,
            disabled: false,
            skills: vec![],
            routing_paused: false,
            version: 1,
        }
    }

    fn conversation(rng: &mut StdRng, id: Id, version: i64) -> Conversation {
        const STATUSES: [ConversationStatus; 5] = [
            ConversationStatus::Bot,
            ConversationStatus::Open,
            ConversationStatus::Pending,
            ConversationStatus::Snoozed,
            ConversationStatus::Resolved,
        ];
        Conversation {
            id,
            contact_id: id,
            inbox_id: 1,
            channel: ChannelKind::Sms,
            customer_address: format!("+1555000{id:04}"),
            status: STATUSES[rng.random_range(0..STATUSES.len())],
            snoozed_until: None,
            assignee_id: [None, Some(1), Some(2)][rng.random_range(0..3)],
            team_id: rng.random_range(1..=3),
            waiting_since: rng.random_bool(0.5).then_some(1_000),
            last_activity_at: version,
            reply_window_expires_at: None,
            preview: "Where is my parcel?".into(),
            updated_by: None,
            priority: Default::default(),
            queued_at: None,
            first_response_due_at: None,
            next_response_due_at: None,
            resolution_due_at: None,
            sla_state: [SlaState::Ok, SlaState::Ok, SlaState::AtRisk, SlaState::Breached][rng.random_range(0..4)],
            csat_score: None,
            created_at: 0,
            version,
        }
    }

    fn inbound(id: Id, conversation_id: Id) -> Message {
        Message {
            id,
            conversation_id,
            channel: ChannelKind::Sms,
            direction: Direction::Inbound,
            author_agent_id: None,
            body: "hello".into(),
            subject: None,
            attachments: Vec::new(),
            provider_id: None,
            client_msg_id: None,
            delivery: None,
            delivery_error: None,
            choices: None,
            chosen: None,
            bot: None,
            created_at: id,
            version: 1,
        }
    }

    /// Every view's counts by scanning the conversations (what the tally must equal).
    fn scanned(c: &Connection, me: &Agent) -> Vec<ViewCount> {
        let (id, teams) = scope(me).unwrap();
        views_of(me)
            .map(|view| {
                let (filter, _) = filter(view);
                let sql = format!(
                    "SELECT count(*), COALESCE(sum(c.last_message_id > COALESCE(r.last_read_message_id, 0)), 0) \
                     FROM conversations c LEFT JOIN read_markers r ON r.conversation_id = c.id WHERE {filter} AND {BOTH_BOUND}"
                );
                let (total, unread): (i64, i64) =
                    c.query_row(&sql, params![id, teams], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
                ViewCount { view, total: u64::try_from(total).unwrap(), unread: u64::try_from(unread).unwrap() }
            })
            .collect()
    }

    #[test]
    fn view_counts_from_the_tally_match_a_scan_through_every_kind_of_write() {
        for role in [Role::Lead, Role::Agent] {
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::open(dir.path()).unwrap();
            let me = agent(role);
            cache.write(|c| apply::set_me(c, &me).map(|_| ())).unwrap();
            let mut rng = StdRng::seed_from_u64(7);
            let (mut version, mut message) = (1, 1);
            for round in 0..40 {
                cache
                    .write(|c| {
                        for _ in 0..50 {
                            let id = rng.random_range(1..=60);
                            version += 1;
                            match rng.random_range(0..10) {
                                0..=3 => {
                                    apply::upsert_conversation(c, &conversation(&mut rng, id, version))?;
                                }
                                4..=5 => {
                                    message += 1;
                                    apply::upsert_message(c, &inbound(message, id))?;
                                }
                                6..=7 => {
                                    apply::upsert_read_marker(c, id, rng.random_range(0..=message))?;
                                }
                                8 => apply::remove_conversation(c, id)?,
                                _ => {
                                    // An update that moves nothing the views count.
                                    c.execute("UPDATE conversations SET preview = 'seen' WHERE id = ?1", [id])?;
                                }
                            }
                        }
                        if round % 10 == 9 {
                            // A bootstrap keeping half the conversations and new markers.
                            let kept: Vec<Id> = (1..=60).filter(|i| i % 2 == round % 2).collect();
                            let markers: Vec<ReadMarker> = kept
                                .iter()
                                .map(|i| ReadMarker {
                                    conversation_id: *i,
                                    agent_id: 1,
                                    last_read_message_id: message / 2,
                                    at: 0,
                                })
                                .collect();
                            let ids = SnapshotIds { agents: vec![1], conversations: kept, ..SnapshotIds::default() };
                            apply::finish_bootstrap(c, &ids, &markers, "cursor")?;
                        }
                        Ok(())
                    })
                    .unwrap();
                let expected = cache.read(|c| Ok(scanned(c, &me))).unwrap();
                assert_eq!(cache.counts().unwrap(), expected, "round {round} as {role:?}");
            }
            let open = cache.counts().unwrap().iter().find(|v| v.view == View::MyTeams).unwrap().total;
            assert!(open > 0, "the walk leaves conversations to count");
        }
    }

    #[test]
    fn an_older_cache_gets_its_tally_when_migrated() {
        let dir = tempfile::tempdir().unwrap();
        {
            let cache = Cache::open(dir.path()).unwrap();
            let mut rng = StdRng::seed_from_u64(9);
            cache
                .write(|c| {
                    apply::set_me(c, &agent(Role::Lead))?;
                    for id in 1..=30 {
                        apply::upsert_conversation(c, &conversation(&mut rng, id, 2))?;
                        apply::upsert_message(c, &inbound(100 + id, id))?;
                    }
                    apply::upsert_read_marker(c, 3, 103)?;
                    // As a cache of schema 3 would be: no tally yet.
                    for trigger in
                        ["conversations_tally_insert", "conversations_tally_delete", "conversations_tally_update"]
                            .into_iter()
                            .chain([
                                "read_markers_tally_insert",
                                "read_markers_tally_update",
                                "read_markers_tally_delete",
                            ])
                    {
                        c.execute_batch(&format!("DROP TRIGGER {trigger}"))?;
                    }
                    c.execute_batch(
                        "DROP TABLE view_tally; DROP TABLE canned_responses; DROP INDEX conversations_queue; \
                         DROP INDEX conversations_at_risk; ALTER TABLE conversations DROP COLUMN priority; \
                         ALTER TABLE conversations DROP COLUMN queued_at; ALTER TABLE conversations DROP COLUMN sla_state; \
                         ALTER TABLE conversations DROP COLUMN sla_due_at; ALTER TABLE conversations DROP COLUMN csat_score; \
                         DROP TABLE reports; ALTER TABLE messages DROP COLUMN choices; \
                         ALTER TABLE messages DROP COLUMN chosen; DROP TABLE articles; DROP TABLE article_search; \
                         ALTER TABLE messages DROP COLUMN bot; PRAGMA user_version = 3;",
                    )?;
                    Ok(())
                })
                .unwrap();
        }
        let cache = Cache::open(dir.path()).unwrap();
        assert_eq!(cache.opened(), &crate::cache::Opened::Kept);
        let expected = cache.read(|c| Ok(scanned(c, &agent(Role::Lead)))).unwrap();
        assert_eq!(cache.counts().unwrap(), expected);
        assert!(expected.iter().any(|v| v.unread > 0));
    }

    /// The At risk count reads the few conversations near or past their targets, not every
    /// conversation of the agent's teams (30 ms a count at 50,000 conversations).
    #[test]
    fn the_at_risk_count_reads_only_the_conversations_at_risk() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let me = agent(Role::Agent);
        let mut rng = StdRng::seed_from_u64(11);
        cache
            .write(|c| {
                apply::set_me(c, &me)?;
                for id in 1..=2_000 {
                    let mut conv = conversation(&mut rng, id, 2);
                    conv.sla_state = if id % 400 == 0 { SlaState::Breached } else { SlaState::Ok };
                    apply::upsert_conversation(c, &conv)?;
                }
                c.execute_batch("ANALYZE")?;
                Ok(())
            })
            .unwrap();
        let (id, teams) = scope(&me).unwrap();
        let plan: Vec<String> = cache
            .read(|c| {
                let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {}", at_risk_count()))?;
                let details =
                    st.query_map(params![id, teams], |r| r.get::<_, String>(3))?.collect::<rusqlite::Result<_>>()?;
                Ok(details)
            })
            .unwrap();
        let conversations: Vec<&String> = plan.iter().filter(|d| d.contains(" c ")).collect();
        assert!(
            !conversations.is_empty() && conversations.iter().all(|d| d.contains("conversations_at_risk")),
            "{plan:?}"
        );
        let expected = cache.read(|c| Ok(scanned(c, &me))).unwrap();
        assert_eq!(cache.counts().unwrap(), expected);
        assert!(expected.iter().any(|v| v.view == View::AtRisk && v.total > 0), "{expected:?}");
    }
}
