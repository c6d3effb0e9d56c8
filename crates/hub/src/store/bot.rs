//! Bots in the store: a conversation the bot takes (its session: turns, what the customer
//! asked, the articles offered), the built-in bot's turn inside the customer message's own
//! write, the calls an external bot or the model answers later (claimed once across hubs),
//! their answers, and the handoff to people: the conversation opens and joins the queue,
//! agents get the summary line and the customer is told when a person will answer. What the
//! bot decides is [`crate::bot`]'s to say.

use super::articles::{self, Use};
use super::db::Connection;
use super::entities::{self, emit_conversation};
use super::pool::WriteTx;
use super::sending::{insert_agent_message, AgentMessage};
use super::state::{conv_state, save_state};
use super::{Result, Store, StoreError};
use crate::bot::{self, Action, Match, Mode, Settings, Turn};
use crate::params;
use crate::rules;
use switchboard_protocol::articles as kb;
use switchboard_protocol::bot::{
    BotAnswer, BotAnswered, BotContact, BotEvent, BotInbox, BotLine, BotMessage, BotSpeaker, HandoffReason,
};
use switchboard_protocol::choices::{refuse, Choices};
use switchboard_protocol::model::{Conversation, ConversationStatus, Direction};
use switchboard_protocol::{Id, Timestamp};

/// A conversation's bot session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub conversation_id: Id,
    pub mode: String,
    pub bot_name: String,
    pub active: bool,
    pub turns: u32,
    pub asked: String,
    pub offered: Vec<Id>,
    pub asked_feedback: bool,
}

fn session(c: &mut dyn Connection, conversation_id: Id) -> Result<Option<Session>> {
    let Some(r) = c.query_opt(
        "SELECT mode, bot_name, state, turns, asked, offered, asked_feedback FROM bot_sessions WHERE conversation_id = ?",
        params![conversation_id],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Session {
        conversation_id,
        mode: r.text(0)?.to_owned(),
        bot_name: r.text(1)?.to_owned(),
        active: r.text(2)? == "active",
        turns: u32::try_from(r.int(3)?).unwrap_or(0),
        asked: r.text(4)?.to_owned(),
        offered: r.json(5)?,
        asked_feedback: r.int(6)? != 0,
    }))
}

/// The inbox's bot settings, if it has a bot; settings that no longer read leave the
/// inbox without one (and say so in the log).
pub(super) fn settings_of(c: &mut dyn Connection, inbox_id: Id) -> Result<Option<Settings>> {
    let settings =
        c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox_id])?.json::<serde_json::Value>(0)?;
    Ok(in_settings(inbox_id, &settings))
}

/// [`settings_of`] from the inbox's settings already read.
pub(super) fn in_settings(inbox_id: Id, settings: &serde_json::Value) -> Option<Settings> {
    bot::of_settings(settings).unwrap_or_else(|why| {
        tracing::warn!("inbox {inbox_id}: {why}");
        None
    })
}

/// Starts the bot's session on a conversation it takes.
pub(super) fn begin(tx: &mut WriteTx<'_>, conv: &Conversation, s: &Settings, asked: &str, at: Timestamp) -> Result<()> {
    let asked: String = asked.chars().take(1_000).collect();
    tx.conn.execute(
        "INSERT INTO bot_sessions (conversation_id, inbox_id, team_id, mode, bot_name, state, asked, started_at) \
         VALUES (?, ?, ?, ?, ?, 'active', ?, ?)",
        params![conv.id, conv.inbox_id, conv.team_id, s.mode.as_str(), s.name.trim(), asked, at],
    )?;
    Ok(())
}

/// The best published article for `question` in `locale`, and how confident the match is:
/// the engine's best few, each weighed by how much of the question it answers (counting
/// only the words some candidate knows).
fn best_match(c: &mut dyn Connection, locale: &str, question: &str) -> Result<Option<(kb::Article, Match)>> {
    let ids = articles::search(c, locale, question, false, false, 3)?;
    let mut candidates = Vec::new();
    for id in ids {
        let Some(a) = articles::by_id(c, id)? else { continue };
        let title = kb::terms(&a.locale, &a.title, usize::MAX);
        let tags = kb::terms(&a.locale, &a.tags.join(" "), usize::MAX);
        let body = kb::terms(&a.locale, &kb::plain_text(&a.body), usize::MAX);
        candidates.push((a, title, tags, body));
    }
    let words: Vec<Vec<String>> = candidates.iter().map(|(_, t, g, b)| [t.as_slice(), g, b].concat()).collect();
    let terms = bot::known_terms(&kb::terms(locale, question, kb::MAX_QUERY_WORDS), &words);
    let mut best: Option<(kb::Article, Match)> = None;
    for (a, title, tags, body) in candidates {
        let confidence = bot::confidence(&terms, &title, &tags, &body);
        if best.as_ref().is_none_or(|(_, m)| confidence > m.confidence) {
            let id = a.id;
            best = Some((a, Match { article_id: id, confidence }));
        }
    }
    Ok(best)
}

/// Stores a line from the bot to the customer (marked as the bot's on channels that cannot
/// show who wrote it) and queues it for delivery. Nothing goes to a customer who opted out.
fn say(
    tx: &mut WriteTx<'_>,
    conv: &Conversation,
    name: &str,
    body: &str,
    choices: Option<&Choices>,
) -> Result<Option<Id>> {
    if entities::opted_out(tx.conn, conv)? {
        return Ok(None);
    }
    let n = tx.conn.query_int("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", params![conv.id])?;
    let client_msg_id = format!("bot-{}-{n}-{}", conv.id, tx.now);
    let text = bot::marked(conv.channel, name, body);
    let id = insert_agent_message(
        tx,
        None,
        conv,
        AgentMessage {
            direction: Direction::Outbound,
            client_msg_id: &client_msg_id,
            body: &text,
            attachments: &[],
            template: None,
            subject: None,
            choices,
        },
    )?;
    tx.conn.execute("UPDATE messages SET bot = ? WHERE id = ?", params![name, id])?;
    let msg = entities::load_message(tx.conn, id)?;
    entities::emit_message(tx, &msg, conv.team_id);
    // The bot answered: the customer is no longer waiting on it.
    let next = rules::after_reply(&conv_state(conv), tx.now, rules::preview(&text, 0));
    save_state(tx, conv, &next, None)?;
    Ok(Some(id))
}

/// A customer's message as the bot takes it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Said<'a> {
    pub message_id: Id,
    pub text: &'a str,
    /// The button tapped, if any.
    pub chosen: Option<&'a str>,
    pub at: Timestamp,
}

/// The bot's turn on a customer message in a conversation it holds. The built-in bot
/// answers here, in the message's own write, linking articles under `base`; an external
/// bot or the model gets a call, made after the commit.
pub(super) fn take_turn(
    tx: &mut WriteTx<'_>,
    conv_id: Id,
    s: &Settings,
    said: Said<'_>,
    base: Option<&str>,
) -> Result<()> {
    let Said { message_id, text, chosen, at } = said;
    let Some(sess) = session(tx.conn, conv_id)?.filter(|x| x.active) else { return Ok(()) };
    // The hub's own buttons under an answer mean the same whoever answered.
    match chosen {
        Some(switchboard_protocol::bot::CHOICE_PERSON) => {
            return handoff(tx, conv_id, HandoffReason::AskedForPerson, None, at).map(|_| ())
        }
        Some(switchboard_protocol::bot::CHOICE_HELPED) => return resolve(tx, conv_id, &sess),
        _ => {}
    }
    if sess.mode != Mode::Builtin.as_str() {
        tx.conn.execute(
            "INSERT INTO bot_calls (conversation_id, message_id, state, created_at) VALUES (?, ?, 'due', ?)",
            params![conv_id, message_id, at],
        )?;
        tx.conn.execute(
            "UPDATE bot_sessions SET awaiting_since = COALESCE(awaiting_since, ?) WHERE conversation_id = ?",
            params![at, conv_id],
        )?;
        return Ok(());
    }
    let found = best_match(tx.conn, &s.locale, text)?;
    let turn = Turn {
        text,
        chosen,
        turns: sess.turns,
        asked_feedback: sess.asked_feedback,
        best: found.as_ref().map(|(_, m)| *m),
    };
    match bot::decide(&turn, s) {
        Action::Answer { article_id } => {
            let Some((a, _)) = found.filter(|(a, _)| a.id == article_id) else {
                return handoff(tx, conv_id, HandoffReason::NoAnswer, None, at).map(|_| ());
            };
            let url = base.map(|b| kb::url(b, &a.key));
            let conv = entities::load_conversation(tx.conn, conv_id)?;
            let body = bot::answer_text(conv.channel, &kb::summary(&a.body), &a.title, url.as_deref());
            say(tx, &conv, &sess.bot_name, &body, bot::feedback_choices(conv.channel).as_ref())?;
            advance(tx, conv_id, &sess, &[a.id], true)?;
        }
        Action::Resolve => resolve(tx, conv_id, &sess)?,
        Action::HandOff(reason) => {
            handoff(tx, conv_id, reason, None, at)?;
        }
    }
    Ok(())
}

/// Moves the bot's session after it answered: one more turn, the articles offered (counted
/// for the reports), whether its last line asked if it helped, and no call left waiting.
fn advance(tx: &mut WriteTx<'_>, conv_id: Id, sess: &Session, offered: &[Id], ask_feedback: bool) -> Result<()> {
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    for id in offered {
        articles::record_use(tx.conn, *id, Use::Offered, Some(conv.team_id), tx.now)?;
    }
    let mut all = sess.offered.clone();
    all.extend(offered.iter().filter(|id| !sess.offered.contains(id)));
    let all = serde_json::to_string(&all).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    tx.conn.execute(
        "UPDATE bot_sessions SET turns = turns + 1, offered = ?, asked_feedback = ?, awaiting_since = NULL \
         WHERE conversation_id = ?",
        params![all, i64::from(ask_feedback), conv_id],
    )?;
    tx.conn.execute(
        "UPDATE bot_calls SET state = 'done' WHERE conversation_id = ? AND state <> 'done'",
        params![conv_id],
    )?;
    emit_conversation(tx, &conv, None);
    Ok(())
}

/// The customer was helped: the bot thanks them and resolves the conversation.
fn resolve(tx: &mut WriteTx<'_>, conv_id: Id, sess: &Session) -> Result<()> {
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    say(tx, &conv, &sess.bot_name, bot::RESOLVED_TEXT, None)?;
    for id in &sess.offered {
        articles::record_use(tx.conn, *id, Use::Helpful, Some(conv.team_id), tx.now)?;
    }
    settle(tx, conv_id, sess)
}

/// Ends the bot's session as contained and resolves the conversation.
fn settle(tx: &mut WriteTx<'_>, conv_id: Id, _sess: &Session) -> Result<()> {
    let settled = tx.conn.execute(
        "UPDATE bot_sessions SET state = 'contained', ended_at = ?, awaiting_since = NULL WHERE conversation_id = ? AND state = 'active'",
        params![tx.now, conv_id],
    )?;
    if settled == 0 {
        // Settled, or handed over, by another hub's sweep since it was read.
        return Ok(());
    }
    tx.conn.execute(
        "UPDATE bot_calls SET state = 'done' WHERE conversation_id = ? AND state <> 'done'",
        params![conv_id],
    )?;
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    let mut next = conv_state(&conv);
    next.status = ConversationStatus::Resolved;
    next.waiting_since = None;
    save_state(tx, &conv, &next, None)?;
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    emit_conversation(tx, &conv, None);
    Ok(())
}

/// Hands the bot's conversation to people, once: it opens, its response-time targets start
/// and it joins the queue; agents get the summary line, and the customer is told a person
/// will answer and when (unless an agent took it over, and is answering). Returns whether
/// it was the bot's.
pub fn handoff(
    tx: &mut WriteTx<'_>,
    conv_id: Id,
    reason: HandoffReason,
    note: Option<&str>,
    at: Timestamp,
) -> Result<bool> {
    let Some(sess) = session(tx.conn, conv_id)?.filter(|s| s.active) else { return Ok(false) };
    let moved = tx.conn.execute(
        "UPDATE bot_sessions SET state = 'handed_off', reason = ?, ended_at = ?, awaiting_since = NULL \
         WHERE conversation_id = ? AND state = 'active'",
        params![reason.as_str(), at, conv_id],
    )?;
    if moved == 0 {
        return Ok(false);
    }
    tx.conn.execute(
        "UPDATE bot_calls SET state = 'done' WHERE conversation_id = ? AND state <> 'done'",
        params![conv_id],
    )?;
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    if reason == HandoffReason::NotHelpful {
        for id in &sess.offered {
            articles::record_use(tx.conn, *id, Use::NotHelpful, Some(conv.team_id), at)?;
        }
    }
    let mut next = conv_state(&conv);
    if next.status == ConversationStatus::Bot {
        next.status = ConversationStatus::Open;
    }
    if reason != HandoffReason::AgentTookOver {
        next.waiting_since = Some(next.waiting_since.unwrap_or(at).min(at));
    }
    save_state(tx, &conv, &next, None)?;
    super::sla::apply(tx, conv_id, crate::sla::Event::Opened { at })?;
    let mut titles = Vec::new();
    for id in &sess.offered {
        if let Some(a) = articles::by_id(tx.conn, *id)? {
            titles.push(a.title);
        }
    }
    let line = bot::summary_line(reason, &sess.asked, &titles, sess.turns, note);
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    entities::add_system_line(tx, &conv, &line, at)?;
    if reason != HandoffReason::AgentTookOver {
        let text = bot::handoff_text(at, conv.first_response_due_at);
        say(tx, &conv, &sess.bot_name, &text, None)?;
        // The customer still waits for a person, whatever the bot just said.
        let conv = entities::load_conversation(tx.conn, conv_id)?;
        let mut waiting = conv_state(&conv);
        waiting.waiting_since = Some(at);
        save_state(tx, &conv, &waiting, None)?;
    }
    super::routing::sync_queue(tx, conv_id)?;
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    emit_conversation(tx, &conv, None);
    Ok(true)
}

/// Agents take a bot's conversation by working on it: replying, assigning, changing its
/// status. The bot stops first.
pub(super) fn take_over(tx: &mut WriteTx<'_>, conv: &Conversation) -> Result<Conversation> {
    if conv.status != ConversationStatus::Bot {
        return Ok(conv.clone());
    }
    if !handoff(tx, conv.id, HandoffReason::AgentTookOver, None, tx.now)? {
        // A bot conversation with no session (it should not happen): open it all the same.
        let mut next = conv_state(conv);
        next.status = ConversationStatus::Open;
        save_state(tx, conv, &next, None)?;
    }
    entities::load_conversation(tx.conn, conv.id)
}

/// A call for an external bot or the model, claimed by this hub.
#[derive(Debug, Clone)]
pub struct Call {
    pub id: Id,
    pub conversation_id: Id,
    pub inbox_id: Id,
    pub settings: Settings,
    pub event: BotEvent,
    /// The published articles best matching the message (for the model), best first.
    pub articles: Vec<kb::Article>,
    /// The hub's public address, which articles are linked under.
    pub public_url: Option<String>,
}

/// How long a call may stay claimed before another hub takes it, in milliseconds (longer
/// than any call's own time limit).
const CLAIM_MS: i64 = 90_000;

impl Store {
    /// Claims up to `limit` due calls (each once across hubs) with what the bot is sent.
    pub async fn claim_bot_calls(&self, limit: i64) -> Result<Vec<Call>> {
        let due = self
            .pool()
            .read(move |c| {
                Ok(c.query_opt(
                    "SELECT id FROM bot_calls WHERE state = 'due' OR (state = 'calling' AND claimed_at < ?) LIMIT 1",
                    params![crate::clock::now_ms() - CLAIM_MS],
                )?
                .is_some())
            })
            .await?;
        if !due {
            return Ok(Vec::new());
        }
        let base = self.public_url();
        self.pool()
            .write(move |tx| {
                let rows = tx.conn.query(
                    "SELECT k.id, k.conversation_id, k.message_id FROM bot_calls k \
                     WHERE k.state = 'due' OR (k.state = 'calling' AND k.claimed_at < ?) ORDER BY k.id LIMIT ?",
                    params![tx.now - CLAIM_MS, limit],
                )?;
                let mut calls = Vec::new();
                for r in &rows {
                    let (id, conv_id, message_id) = (r.int(0)?, r.int(1)?, r.int(2)?);
                    // Another hub may have claimed it since: its claim stands.
                    let claimed = tx.conn.execute(
                        "UPDATE bot_calls SET state = 'calling', claimed_at = ? \
                         WHERE id = ? AND (state = 'due' OR (state = 'calling' AND claimed_at < ?))",
                        params![tx.now, id, tx.now - CLAIM_MS],
                    )?;
                    if claimed != 1 {
                        continue;
                    }
                    match call_for(tx, id, conv_id, message_id, base.clone())? {
                        Some(c) => calls.push(c),
                        None => {
                            tx.conn.execute("UPDATE bot_calls SET state = 'done' WHERE id = ?", params![id])?;
                        }
                    }
                }
                Ok(calls)
            })
            .await
    }

    /// Applies a bot's answer to a conversation it holds: its messages to the customer,
    /// then its handoff. `inboxes`: the inboxes the answering key serves (`None`: the hub's
    /// own call). A conversation that is no longer the bot's is a conflict.
    pub async fn bot_answer(&self, conv_id: Id, inboxes: Option<Vec<Id>>, answer: BotAnswer) -> Result<BotAnswered> {
        let answer = checked(answer)?;
        self.pool()
            .write_keyed(conv_id.unsigned_abs(), move |tx| {
                let conv =
                    entities::load_conversation(tx.conn, conv_id).map_err(|_| StoreError::NotFound("conversation"))?;
                if inboxes.as_ref().is_some_and(|ids| !ids.contains(&conv.inbox_id)) {
                    return Err(StoreError::NotFound("conversation"));
                }
                let Some(sess) = session(tx.conn, conv_id)?.filter(|s| s.active && s.mode != Mode::Builtin.as_str())
                else {
                    return Err(StoreError::Refused(
                        switchboard_protocol::ErrorCode::Conflict,
                        "the conversation is no longer the bot's: people have it".into(),
                    ));
                };
                let mut offered = Vec::new();
                for m in &answer.messages {
                    for key in &m.articles {
                        if let Some(a) = articles::by_key(tx.conn, key)? {
                            offered.push(a.id);
                        }
                    }
                }
                for m in &answer.messages {
                    if let Some(why) = m.choices.as_ref().and_then(|c| refuse(conv.channel, &m.body, c)) {
                        return Err(StoreError::BadRequest(why));
                    }
                }
                let mut ids = Vec::new();
                for m in &answer.messages {
                    let conv = entities::load_conversation(tx.conn, conv_id)?;
                    ids.extend(say(tx, &conv, &sess.bot_name, &m.body, m.choices.as_ref())?);
                }
                if !answer.messages.is_empty() {
                    advance(tx, conv_id, &sess, &offered, false)?;
                }
                let handed_off = match &answer.handoff {
                    Some(h) => handoff(tx, conv_id, HandoffReason::BotDecided, h.note.as_deref(), tx.now)?,
                    None => false,
                };
                Ok(BotAnswered { message_ids: ids, handed_off })
            })
            .await
    }

    /// A conversation's status, if it exists.
    pub async fn conversation_state(&self, id: Id) -> Result<Option<ConversationStatus>> {
        self.pool()
            .read(move |c| {
                Ok(c.query_opt("SELECT status FROM conversations WHERE id = ?", params![id])?
                    .map(|r| r.parse(0))
                    .transpose()?)
            })
            .await
    }

    /// Hands a bot's conversation to people because the bot failed or was too slow.
    pub async fn bot_failed(&self, conv_id: Id, reason: HandoffReason) -> Result<bool> {
        self.pool().write_keyed(conv_id.unsigned_abs(), move |tx| handoff(tx, conv_id, reason, None, tx.now)).await
    }

    /// Hands over every conversation whose customer has waited on an external bot or the
    /// model longer than its inbox allows (a hub that died mid-call, a bot that never
    /// answers). Returns how many.
    pub async fn sweep_bot_waits(&self) -> Result<usize> {
        let waiting = self
            .pool()
            .read(|c| {
                let rows = c.query(
                    "SELECT conversation_id, inbox_id, awaiting_since FROM bot_sessions \
                     WHERE awaiting_since IS NOT NULL AND state = 'active' ORDER BY awaiting_since LIMIT 500",
                    &[],
                )?;
                rows.iter().map(|r| Ok((r.int(0)?, r.int(1)?, r.int(2)?))).collect::<Result<Vec<_>>>()
            })
            .await?;
        let now = crate::clock::now_ms();
        let mut moved = self.close_idle_bot_chats(now).await?;
        for (conv_id, inbox_id, since) in waiting {
            let limit =
                self.pool().read(move |c| settings_of(c, inbox_id)).await?.map_or(10_000, |s| s.answer_within_ms());
            if now - since >= limit && self.bot_failed(conv_id, HandoffReason::BotTimedOut).await? {
                moved += 1;
            }
        }
        Ok(moved)
    }
}

/// How long a customer may leave the bot's answer unanswered before the conversation is
/// taken as settled by it.
pub const BOT_IDLE_MS: i64 = 24 * 3_600_000;

impl Store {
    /// Resolves the bot's conversations whose customer said nothing more for
    /// [`BOT_IDLE_MS`] after its answer (they were helped, or left): contained. Once across
    /// hubs. Returns how many.
    async fn close_idle_bot_chats(&self, now: i64) -> Result<usize> {
        let idle = self
            .pool()
            .read(move |c| {
                let rows = c.query(
                    "SELECT s.conversation_id FROM bot_sessions s JOIN conversations c ON c.id = s.conversation_id \
                     WHERE s.state = 'active' AND s.awaiting_since IS NULL AND s.turns > 0 AND c.last_activity_at < ? \
                     ORDER BY s.conversation_id LIMIT 500",
                    params![now - BOT_IDLE_MS],
                )?;
                rows.iter().map(|r| Ok(r.int(0)?)).collect::<Result<Vec<Id>>>()
            })
            .await?;
        let mut closed = 0;
        for conv_id in idle {
            let done = self
                .pool()
                .write_keyed(conv_id.unsigned_abs(), move |tx| {
                    let Some(sess) = session(tx.conn, conv_id)?.filter(|s| s.active) else { return Ok(false) };
                    settle(tx, conv_id, &sess)?;
                    Ok(true)
                })
                .await?;
            closed += usize::from(done);
        }
        Ok(closed)
    }
}

/// Refuses an answer that is too long or says nothing.
fn checked(mut a: BotAnswer) -> Result<BotAnswer> {
    if a.messages.len() > BotAnswer::MAX_MESSAGES {
        return Err(StoreError::BadRequest(format!("an answer carries at most {} messages", BotAnswer::MAX_MESSAGES)));
    }
    if a.messages.is_empty() && a.handoff.is_none() {
        return Err(StoreError::BadRequest("the answer has neither messages nor a handoff".into()));
    }
    for m in &mut a.messages {
        switchboard_protocol::text::clean_in_place(&mut m.body);
        if m.body.trim().is_empty() || m.body.len() > 4_096 {
            return Err(StoreError::BadRequest("each message needs 1 to 4096 bytes of text".into()));
        }
        if m.articles.len() > 10 {
            return Err(StoreError::BadRequest("a message offers at most 10 articles".into()));
        }
    }
    if let Some(n) = a.handoff.as_mut().and_then(|h| h.note.as_mut()) {
        switchboard_protocol::text::clean_in_place(n);
        if n.chars().count() > 300 {
            return Err(StoreError::BadRequest("a handoff note is at most 300 characters".into()));
        }
    }
    Ok(a)
}

/// What an external bot is sent for call `id`; `None` when the conversation is no longer
/// the bot's.
fn call_for(
    tx: &mut WriteTx<'_>,
    id: Id,
    conv_id: Id,
    message_id: Id,
    public_url: Option<String>,
) -> Result<Option<Call>> {
    let Some(sess) = session(tx.conn, conv_id)?.filter(|s| s.active) else { return Ok(None) };
    let conv = entities::load_conversation(tx.conn, conv_id)?;
    let Some(settings) = settings_of(tx.conn, conv.inbox_id)? else { return Ok(None) };
    let inbox = entities::load_inbox(tx.conn, conv.inbox_id)?;
    let contact = entities::load_contact(tx.conn, conv.contact_id)?;
    let msg = entities::load_message(tx.conn, message_id)?;
    let rows = tx.conn.query(
        "SELECT direction, body, created_at FROM messages WHERE conversation_id = ? AND id < ? \
         AND (direction = 'inbound' OR bot IS NOT NULL) ORDER BY id DESC LIMIT 20",
        params![conv_id, message_id],
    )?;
    let mut history = rows
        .iter()
        .map(|r| {
            Ok(BotLine {
                from: if r.text(0)? == "inbound" { BotSpeaker::Customer } else { BotSpeaker::Bot },
                body: r.text(1)?.to_owned(),
                at: r.int(2)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    history.reverse();
    let ids = articles::search(tx.conn, &settings.locale, &msg.body, false, false, 3)?;
    let mut found = Vec::new();
    for a in ids {
        found.extend(articles::by_id(tx.conn, a)?);
    }
    let event = BotEvent {
        event: "message_created".into(),
        id: format!("call-{id}"),
        at: msg.created_at,
        inbox: BotInbox { id: inbox.id, name: inbox.name.clone(), channel: inbox.kind },
        conversation_id: conv_id,
        contact: BotContact { id: contact.id, name: contact.name.clone() },
        message: BotMessage {
            id: msg.id,
            body: msg.body.clone(),
            attachments: msg.attachments.clone(),
            chosen: msg.chosen.clone(),
        },
        history,
        turns: sess.turns,
    };
    Ok(Some(Call { id, conversation_id: conv_id, inbox_id: inbox.id, settings, event, articles: found, public_url }))
}

/// What the reports count of bots: sessions that started in `[from, to)` in `teams`
/// (`None`: all), as (contained, handed off, reasons).
pub(super) fn summary(
    c: &mut dyn Connection,
    from: Timestamp,
    to: Timestamp,
    teams: Option<&[Id]>,
) -> Result<switchboard_protocol::report::BotSummary> {
    use switchboard_protocol::report::{BotSummary, HandoffCount};
    let rows = c.query(
        "SELECT team_id, state, reason FROM bot_sessions WHERE started_at >= ? AND started_at < ?",
        params![from, to],
    )?;
    let mut out = BotSummary::default();
    let mut reasons: std::collections::BTreeMap<HandoffReason, u64> = Default::default();
    for r in &rows {
        if teams.is_some_and(|t| !t.contains(&r.int(0).unwrap_or(0))) {
            continue;
        }
        out.conversations += 1;
        match r.text(1)? {
            "contained" => out.contained += 1,
            "handed_off" => {
                out.handed_off += 1;
                if let Some(reason) = r.opt_text(2)?.and_then(HandoffReason::parse) {
                    *reasons.entry(reason).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    out.reasons = reasons.into_iter().map(|(reason, count)| HandoffCount { reason, count }).collect();
    out.reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
    Ok(out)
}
