//! Writing what the hub sends into the cache: upserts that keep only newer versions,
//! removals, and the notification decisions for customer messages that arrive. A page of
//! changes is applied in one transaction together with its cursor. What the feed brings
//! back of the agent's own work is reported as [`Echo`]es; which pending outbox rows they
//! retire is [`crate::outbox::reconcile`]'s to decide.

use super::rows::me_id;
use super::set_meta;
use crate::error::Result;
use crate::notify::{self, About, Announced, Arrival, Candidate, ConvFacts, Me};
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::{BTreeSet, HashMap};
use switchboard_protocol::articles::{self as kb, Article};
use switchboard_protocol::model::{
    Agent, CannedResponse, ChannelKind, Contact, Conversation, Direction, Inbox, Message, ReadMarker, Team,
};
use switchboard_protocol::preferences::NotificationPreferences;
use switchboard_protocol::sync::{Change, ChangeFrame};
use switchboard_protocol::Id;

/// What one write changed, for the front end to refresh and for notifications.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub conversations: BTreeSet<Id>,
    /// Conversations whose read marker alone moved.
    pub read: BTreeSet<Id>,
    pub contacts: BTreeSet<Id>,
    /// Agents, teams or inboxes changed.
    pub directory: bool,
    /// Canned responses changed.
    pub canned: bool,
    /// Knowledge-base articles changed.
    pub articles: bool,
    /// The hub said the agent's scope changed: bootstrap again.
    pub rescope: bool,
    /// The agent's notification preferences changed.
    pub preferences: bool,
    /// The preferences the announcements are shown by (sound, the customer's words).
    pub shown_with: NotificationPreferences,
    pub announced: Vec<Announced>,
    /// What came back of the agent's own work, for the outbox to reconcile.
    pub echoes: Vec<Echo>,
    /// Changes written.
    pub count: usize,
}

/// Something the feed brought that may be the hub's copy of the agent's own pending work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Echo {
    /// A line carrying the `client_msg_id` a console gave it.
    Line(String),
    /// A canned response saved or removed, under its key.
    Canned(String),
    /// An article saved or removed, under its key.
    Article(String),
}

impl Echo {
    /// The echo a stored message makes, if a console wrote it.
    pub fn of_message(m: &Message) -> Option<Echo> {
        m.client_msg_id.clone().map(Echo::Line)
    }
}

/// What the notification rule needs besides the cache.
#[derive(Debug, Clone)]
pub struct NotifyContext {
    pub me: Option<Me>,
    /// The conversation open in a focused window.
    pub focused: Option<Id>,
    pub arrival: Arrival,
    /// The agent's notification preferences, and the clock and local time of week they
    /// are read at.
    pub prefs: NotificationPreferences,
    pub now: i64,
    pub local: notify::LocalTime,
}

/// Keeps the agent's notification preferences (from a bootstrap, or their own change).
pub fn set_preferences(c: &Connection, p: &NotificationPreferences) -> Result<()> {
    set_meta(c, super::PREFERENCES, &serde_json::to_string(p)?)
}

pub fn upsert_agent(c: &Connection, a: &Agent) -> Result<bool> {
    let n = c
        .prepare_cached(
            "INSERT INTO agents (id, version, name, json) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, name = excluded.name, json = excluded.json \
         WHERE excluded.version > agents.version",
        )?
        .execute(params![a.id, a.version, a.name, serde_json::to_string(a)?])?;
    // The signed-in agent's own record (role, teams) is kept in `meta` for the views.
    if n > 0 && me_id(c)? == Some(a.id) {
        set_meta(c, "me", &serde_json::to_string(a)?)?;
    }
    Ok(n > 0)
}

pub fn upsert_team(c: &Connection, t: &Team) -> Result<bool> {
    Ok(c.prepare_cached(
        "INSERT INTO teams (id, version, json) VALUES (?1, ?2, ?3) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, json = excluded.json \
         WHERE excluded.version > teams.version",
    )?
    .execute(params![t.id, t.version, serde_json::to_string(t)?])?
        > 0)
}

pub fn upsert_inbox(c: &Connection, i: &Inbox) -> Result<bool> {
    Ok(c.prepare_cached(
        "INSERT INTO inboxes (id, version, team_id, json) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, team_id = excluded.team_id, json = excluded.json \
         WHERE excluded.version > inboxes.version",
    )?
    .execute(params![i.id, i.version, i.team_id, serde_json::to_string(i)?])?
        > 0)
}

pub fn upsert_contact(c: &Connection, k: &Contact) -> Result<bool> {
    Ok(c.prepare_cached(
        "INSERT INTO contacts (id, version, name, json) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, name = excluded.name, json = excluded.json \
         WHERE excluded.version > contacts.version",
    )?
    .execute(params![k.id, k.version, k.name, serde_json::to_string(k)?])?
        > 0)
}

/// Stores a canned response unless the cache has its version or a newer one. A key names
/// one response: a row left under it by a deleted response goes.
pub fn upsert_canned(c: &Connection, r: &CannedResponse) -> Result<bool> {
    c.prepare_cached("DELETE FROM canned_responses WHERE key = ?1 AND id <> ?2")?.execute(params![r.key, r.id])?;
    Ok(c.prepare_cached(
        "INSERT INTO canned_responses (id, version, key, shortcut, json) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, key = excluded.key, \
         shortcut = excluded.shortcut, json = excluded.json WHERE excluded.version > canned_responses.version",
    )?
    .execute(params![r.id, r.version, r.key, r.shortcut, serde_json::to_string(r)?])?
        > 0)
}

/// Stores an article unless the cache has its version or a newer one, with its entry in
/// the full-text index (its terms stemmed in its language, as the hub indexes them).
pub fn upsert_article(c: &Connection, a: &Article) -> Result<bool> {
    c.prepare_cached("DELETE FROM articles WHERE key = ?1 AND id <> ?2")?.execute(params![a.key, a.id])?;
    let n = c
        .prepare_cached(
            "INSERT INTO articles (id, version, key, status, locale, title, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, key = excluded.key, status = excluded.status, \
             locale = excluded.locale, title = excluded.title, json = excluded.json WHERE excluded.version > articles.version",
        )?
        .execute(params![a.id, a.version, a.key, a.status.as_str(), a.locale, a.title, serde_json::to_string(a)?])?;
    if n > 0 {
        c.prepare_cached("DELETE FROM article_search WHERE rowid = ?1")?.execute([a.id])?;
        c.prepare_cached("INSERT INTO article_search (rowid, title, tags, body) VALUES (?1, ?2, ?3, ?4)")?.execute(
            params![
                a.id,
                kb::index_text(&a.locale, &a.title),
                kb::index_text(&a.locale, &a.tags.join(" ")),
                kb::index_text(&a.locale, &kb::plain_text(&a.body)),
            ],
        )?;
    }
    Ok(n > 0)
}

/// Drops an article and its index entry; returns its key if it was cached.
pub fn remove_article(c: &Connection, id: Id) -> Result<Option<String>> {
    let key: Option<String> = c
        .prepare_cached("DELETE FROM articles WHERE id = ?1 RETURNING key")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    c.prepare_cached("DELETE FROM article_search WHERE rowid = ?1")?.execute([id])?;
    Ok(key)
}

/// Stores a conversation unless the cache has its version or a newer one. An update (the
/// common case) touches one row; a first insert also counts the unread lines already cached.
pub fn upsert_conversation(c: &Connection, v: &Conversation) -> Result<bool> {
    let args = params![
        v.id,
        v.version,
        v.contact_id,
        v.inbox_id,
        v.channel.as_str(),
        v.status.as_str(),
        v.assignee_id,
        v.team_id,
        v.waiting_since,
        v.last_activity_at,
        v.snoozed_until,
        v.reply_window_expires_at,
        v.preview,
        v.customer_address,
        v.updated_by,
        v.priority.rank(),
        v.queued_at,
        v.sla_state.as_str(),
        v.next_due(),
        v.csat_score
    ];
    let updated = c
        .prepare_cached(
            "UPDATE conversations SET version = ?2, contact_id = ?3, inbox_id = ?4, channel = ?5, status = ?6, \
             assignee_id = ?7, team_id = ?8, waiting_since = ?9, last_activity_at = ?10, snoozed_until = ?11, \
             reply_window_expires_at = ?12, preview = ?13, customer_address = ?14, updated_by = ?15, \
             priority = ?16, queued_at = ?17, sla_state = ?18, sla_due_at = ?19, csat_score = ?20 \
             WHERE id = ?1 AND version < ?2",
        )?
        .execute(args)?;
    if updated > 0 {
        return Ok(true);
    }
    let inserted = c
        .prepare_cached(
            "INSERT OR IGNORE INTO conversations (id, version, contact_id, inbox_id, channel, status, assignee_id, \
             team_id, waiting_since, last_activity_at, snoozed_until, reply_window_expires_at, preview, \
             customer_address, updated_by, priority, queued_at, sla_state, sla_due_at, csat_score, last_message_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
             (SELECT COALESCE(MAX(id), 0) FROM messages WHERE conversation_id = ?1 AND direction = 'inbound'))",
        )?
        .execute(args)?;
    Ok(inserted > 0)
}

/// Stores a message (bodies never change, so the search index is written once).
pub fn upsert_message(c: &Connection, m: &Message) -> Result<bool> {
    let attachments = if m.attachments.is_empty() { None } else { Some(serde_json::to_string(&m.attachments)?) };
    let n = c
        .prepare_cached(
            "INSERT INTO messages (id, version, conversation_id, channel, direction, body, client_msg_id, created_at, \
             author_agent_id, subject, attachments, provider_id, delivery, delivery_error, choices, chosen, bot) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, COALESCE(?11, '[]'), ?12, ?13, ?14, ?15, ?16, ?17) \
             ON CONFLICT (id) DO UPDATE SET version = excluded.version, conversation_id = excluded.conversation_id, \
             attachments = excluded.attachments, provider_id = excluded.provider_id, delivery = excluded.delivery, \
             delivery_error = excluded.delivery_error WHERE excluded.version > messages.version",
        )?
        .execute(params![
            m.id,
            m.version,
            m.conversation_id,
            m.channel.as_str(),
            m.direction.as_str(),
            m.body,
            m.client_msg_id,
            m.created_at,
            m.author_agent_id,
            m.subject,
            attachments,
            m.provider_id,
            m.delivery.map(|d| d.as_str()),
            m.delivery_error,
            m.choices.as_ref().map(serde_json::to_string).transpose()?,
            m.chosen.as_ref().map(serde_json::to_string).transpose()?,
            m.bot
        ])?;
    if n > 0 && m.direction == Direction::Inbound {
        c.prepare_cached("UPDATE conversations SET last_message_id = max(last_message_id, ?1) WHERE id = ?2")?
            .execute(params![m.id, m.conversation_id])?;
    }
    Ok(n > 0)
}

/// Records that the agent has read `conversation_id` up to `last_read_message_id`; a
/// marker never moves back.
pub fn upsert_read_marker(c: &Connection, conversation_id: Id, last_read_message_id: Id) -> Result<bool> {
    Ok(c.prepare_cached(
        "INSERT INTO read_markers (conversation_id, last_read_message_id) VALUES (?1, ?2) \
         ON CONFLICT (conversation_id) DO UPDATE SET last_read_message_id = excluded.last_read_message_id \
         WHERE excluded.last_read_message_id > read_markers.last_read_message_id",
    )?
    .execute(params![conversation_id, last_read_message_id])?
        > 0)
}

/// Drops a conversation and its lines (it left the agent's scope).
pub fn remove_conversation(c: &Connection, id: Id) -> Result<()> {
    c.prepare_cached("DELETE FROM messages WHERE conversation_id = ?1")?.execute([id])?;
    c.prepare_cached("DELETE FROM conversations WHERE id = ?1")?.execute([id])?;
    c.prepare_cached("DELETE FROM read_markers WHERE conversation_id = ?1")?.execute([id])?;
    c.prepare_cached("DELETE FROM history_start WHERE conversation_id = ?1")?.execute([id])?;
    Ok(())
}

pub fn conv_facts(c: &Connection, id: Id) -> Result<Option<ConvFacts>> {
    Ok(c.prepare_cached(
        "SELECT assignee_id, team_id, status, waiting_since, queued_at IS NOT NULL, sla_state FROM conversations WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok((
            r.get::<_, Option<Id>>(0)?,
            r.get::<_, Id>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<i64>>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, String>(5)?,
        ))
    })
    .optional()?
    .and_then(|(assignee_id, team_id, status, waiting_since, queued, sla)| {
        Some(ConvFacts {
            assignee_id,
            team_id,
            status: status.parse().ok()?,
            waiting_since,
            queued,
            sla: sla.parse().unwrap_or_default(),
        })
    }))
}

fn is_new_customer_message(c: &Connection, m: &Message) -> Result<bool> {
    if m.direction != Direction::Inbound {
        return Ok(false);
    }
    let cached = c.prepare_cached("SELECT 1 FROM messages WHERE id = ?1")?.exists([m.id])?;
    Ok(!cached)
}

/// The customer messages and conversation changes of a batch the rules must look at, with
/// the conversations as the cache knew them before the batch.
#[derive(Debug)]
pub struct Pending {
    candidates: Vec<(Message, bool)>,
    before: HashMap<Id, Option<ConvFacts>>,
    /// Conversations changed by the batch: their facts before, and who made the change.
    changed: Vec<(Id, Option<ConvFacts>, Option<Id>)>,
}

/// Looks at `messages` and `conversations` before they are applied.
pub fn before_applying<'a>(
    c: &Connection,
    messages: impl Iterator<Item = &'a Message>,
    conversations: impl Iterator<Item = &'a Conversation>,
) -> Result<Pending> {
    let mut p = Pending { candidates: Vec::new(), before: HashMap::new(), changed: Vec::new() };
    for v in conversations {
        let cached: Option<i64> = c
            .prepare_cached("SELECT version FROM conversations WHERE id = ?1")?
            .query_row([v.id], |r| r.get(0))
            .optional()?;
        if cached.is_some_and(|have| have >= v.version) || p.changed.iter().any(|(id, ..)| *id == v.id) {
            continue;
        }
        p.changed.push((v.id, conv_facts(c, v.id)?, v.updated_by));
    }
    for m in messages {
        if !is_new_customer_message(c, m)? {
            continue;
        }
        let decided = c.prepare_cached("SELECT 1 FROM notified WHERE message_id = ?1")?.exists([m.id])?;
        if let std::collections::hash_map::Entry::Vacant(e) = p.before.entry(m.conversation_id) {
            e.insert(conv_facts(c, m.conversation_id)?);
        }
        p.candidates.push((m.clone(), decided));
    }
    Ok(p)
}

/// Decides for each candidate once the batch is applied, and records that it was decided.
pub fn after_applying(c: &Connection, mut p: Pending, ctx: &NotifyContext) -> Result<Vec<Announced>> {
    let Some(me) = &ctx.me else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    let wrote: Vec<Id> = p.candidates.iter().map(|(m, _)| m.conversation_id).collect();
    for (id, before, updated_by) in std::mem::take(&mut p.changed) {
        let Some(after) = conv_facts(c, id)? else { continue };
        let change = notify::ConvChange {
            before,
            after,
            updated_by,
            customer_wrote: wrote.contains(&id),
            focused: ctx.focused == Some(id),
            arrival: ctx.arrival,
        };
        let Some((event, decision)) = notify::decide_change(me, &change) else { continue };
        if matches!(decision, notify::Decision::Quiet(_)) {
            continue;
        }
        let (contact_id, contact_name, channel, text, inbox_id) = about_conversation(c, id)?;
        if notify::by_preference(&ctx.prefs, event.topic(), inbox_id, ctx.now, ctx.local).is_some() {
            continue;
        }
        let about = match event {
            notify::Event::Assigned { by } => About::Assigned { by: by.map(|a| agent_name(c, a)).transpose()? },
            notify::Event::Woke => About::Woke,
            notify::Event::AtRisk | notify::Event::Breached => About::Sla {
                due_at: c
                    .prepare_cached("SELECT sla_due_at FROM conversations WHERE id = ?1")?
                    .query_row([id], |r| r.get::<_, Option<i64>>(0))?
                    .unwrap_or(0),
                breached: event == notify::Event::Breached,
            },
        };
        out.push(Announced { decision, about, conversation_id: id, inbox_id, contact_id, contact_name, channel, text });
    }
    for (m, decided) in p.candidates {
        c.prepare_cached("INSERT OR IGNORE INTO notified (message_id) VALUES (?1)")?.execute([m.id])?;
        let Some(after) = conv_facts(c, m.conversation_id)? else { continue };
        let before = p.before.get(&m.conversation_id).copied().flatten();
        let decision = notify::decide(
            me,
            &Candidate {
                direction: m.direction,
                already_decided: decided,
                before,
                after,
                focused: ctx.focused == Some(m.conversation_id),
                arrival: ctx.arrival,
            },
        );
        // A second message in the same batch finds the customer already waiting.
        p.before.insert(m.conversation_id, Some(after));
        if matches!(decision, notify::Decision::Quiet(_)) {
            continue;
        }
        let (contact_id, contact_name, _, _, inbox_id) = about_conversation(c, m.conversation_id)?;
        if notify::by_preference(&ctx.prefs, notify::Topic::CustomerReplied, inbox_id, ctx.now, ctx.local).is_some() {
            continue;
        }
        out.push(Announced {
            decision,
            about: About::Reply { message_id: m.id },
            conversation_id: m.conversation_id,
            inbox_id,
            contact_id,
            contact_name,
            channel: m.channel,
            text: m.body.clone(),
        });
    }
    Ok(out)
}

/// A conversation's customer (id and name), channel, latest text and inbox, for a
/// notification.
fn about_conversation(c: &Connection, id: Id) -> Result<(Id, String, ChannelKind, String, Id)> {
    let row = c
        .prepare_cached(
            "SELECT COALESCE(k.id, 0), COALESCE(k.name, 'A customer'), v.channel, v.preview, v.inbox_id \
             FROM conversations v LEFT JOIN contacts k ON k.id = v.contact_id WHERE v.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?)))
        .optional()?;
    Ok(match row {
        Some((contact_id, name, channel, preview, inbox_id)) => {
            (contact_id, name, channel.parse().unwrap_or(ChannelKind::Sms), preview, inbox_id)
        }
        None => (0, String::from("A customer"), ChannelKind::Sms, String::new(), 0),
    })
}

fn agent_name(c: &Connection, id: Id) -> Result<String> {
    Ok(c.prepare_cached("SELECT name FROM agents WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or_else(|| String::from("Someone")))
}

/// Applies one change.
pub fn apply_change(c: &Connection, change: &Change, out: &mut Applied) -> Result<()> {
    out.count += 1;
    match change {
        Change::Conversation(v) => {
            if upsert_conversation(c, v)? {
                out.conversations.insert(v.id);
            }
        }
        Change::Message(m) => {
            if upsert_message(c, m)? {
                out.conversations.insert(m.conversation_id);
            }
            out.echoes.extend(Echo::of_message(m));
        }
        Change::Contact(k) => {
            if upsert_contact(c, k)? {
                out.contacts.insert(k.id);
            }
        }
        Change::ReadMarker(r) => {
            if upsert_read_marker(c, r.conversation_id, r.last_read_message_id)? {
                out.read.insert(r.conversation_id);
            }
        }
        Change::Agent(a) => out.directory |= upsert_agent(c, a)?,
        Change::Team(t) => out.directory |= upsert_team(c, t)?,
        Change::Inbox(i) => out.directory |= upsert_inbox(c, i)?,
        Change::ConversationRemoved { id, .. } => {
            remove_conversation(c, *id)?;
            out.conversations.insert(*id);
        }
        Change::ContactRemoved { id, .. } => {
            c.prepare_cached("DELETE FROM contacts WHERE id = ?1")?.execute([id])?;
            out.contacts.insert(*id);
        }
        Change::Canned(r) => {
            out.canned |= upsert_canned(c, r)?;
            out.echoes.push(Echo::Canned(r.key.clone()));
        }
        Change::CannedRemoved { id } => {
            let key: Option<String> = c
                .prepare_cached("DELETE FROM canned_responses WHERE id = ?1 RETURNING key")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            if let Some(key) = key {
                out.echoes.push(Echo::Canned(key));
                out.canned = true;
            }
        }
        Change::Article(a) => {
            out.articles |= upsert_article(c, a)?;
            out.echoes.push(Echo::Article(a.key.clone()));
        }
        Change::ArticleRemoved { id } => {
            if let Some(key) = remove_article(c, *id)? {
                out.echoes.push(Echo::Article(key));
                out.articles = true;
            }
        }
        Change::Preferences(p) => {
            set_preferences(c, p)?;
            out.preferences = true;
        }
        Change::ScopeChanged => out.rescope = true,
        Change::Unknown => {}
    }
    Ok(())
}

/// Applies a page of changes and stores `cursor` with it, in the caller's transaction.
pub fn apply_page(c: &Connection, frames: &[ChangeFrame], cursor: &str, ctx: &NotifyContext) -> Result<Applied> {
    let pending = before_applying(
        c,
        frames.iter().filter_map(|f| match &f.change {
            Change::Message(m) => Some(m),
            _ => None,
        }),
        frames.iter().filter_map(|f| match &f.change {
            Change::Conversation(v) => Some(v),
            _ => None,
        }),
    )?;
    let mut out = Applied::default();
    for f in frames {
        apply_change(c, &f.change, &mut out)?;
    }
    out.announced = after_applying(c, pending, ctx)?;
    out.shown_with = ctx.prefs.clone();
    set_meta(c, "cursor", cursor)?;
    Ok(out)
}

/// Sets who is signed in (from a bootstrap).
pub fn set_me(c: &Connection, me: &Agent) -> Result<()> {
    set_meta(c, "me_id", &me.id.to_string())?;
    set_meta(c, "me", &serde_json::to_string(me)?)?;
    Ok(())
}

/// Ids a bootstrap holds, to remove what the cache has beyond them.
#[derive(Debug, Default)]
pub struct SnapshotIds {
    pub agents: Vec<Id>,
    pub teams: Vec<Id>,
    pub inboxes: Vec<Id>,
    pub contacts: Vec<Id>,
    pub conversations: Vec<Id>,
}

/// Ends a bootstrap: drops what the snapshot no longer holds, stores the read markers and
/// the cursor.
pub fn finish_bootstrap(c: &Connection, ids: &SnapshotIds, markers: &[ReadMarker], cursor: &str) -> Result<()> {
    for (table, list) in [
        ("agents", &ids.agents),
        ("teams", &ids.teams),
        ("inboxes", &ids.inboxes),
        ("contacts", &ids.contacts),
        ("conversations", &ids.conversations),
    ] {
        c.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS keep_ids (id INTEGER PRIMARY KEY); DELETE FROM temp.keep_ids;",
        )?;
        {
            let mut ins = c.prepare_cached("INSERT OR IGNORE INTO temp.keep_ids (id) VALUES (?1)")?;
            for id in list {
                ins.execute([id])?;
            }
        }
        c.execute(&format!("DELETE FROM {table} WHERE id NOT IN (SELECT id FROM temp.keep_ids)"), [])?;
    }
    c.execute("DELETE FROM messages WHERE conversation_id NOT IN (SELECT id FROM conversations)", [])?;
    c.execute("DELETE FROM history_start WHERE conversation_id NOT IN (SELECT id FROM conversations)", [])?;
    c.execute("DELETE FROM read_markers", [])?;
    for m in markers {
        upsert_read_marker(c, m.conversation_id, m.last_read_message_id)?;
    }
    c.execute_batch("DROP TABLE IF EXISTS temp.keep_ids")?;
    set_meta(c, "cursor", cursor)?;
    set_meta(c, "synced_at", &crate::clock::now_ms().to_string())?;
    Ok(())
}
