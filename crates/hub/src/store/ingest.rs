//! The one path every channel's inbound customer message takes: find or create the
//! contact and the open conversation, store the message, move the conversation's state.
//! A provider's retry of a message already stored (same inbox, same provider id) stores
//! nothing and answers with the first delivery's ids.

use super::consent;
use super::db::Connection;
use super::entities::{self, emit_contact, emit_conversation, emit_message};
use super::pool::WriteTx;
use super::state::{conv_state, save_state};
use super::{Result, Store, StoreError};
use crate::params;
use crate::rules;
use std::collections::BTreeMap;
use switchboard_protocol::choices::Chosen;
use switchboard_protocol::consent::{ConsentPurpose, ConsentSource};
use switchboard_protocol::model::{Attachment, ChannelKind, Conversation, ConversationStatus, Delivery, Direction};
use switchboard_protocol::text;
use switchboard_protocol::Timestamp;

pub use switchboard_protocol::MAX_BODY;

/// An inbound customer message as a channel hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    pub inbox_id: i64,
    /// The customer's address on the channel, as the provider wrote it.
    pub from: String,
    pub display_name: Option<String>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    /// The provider's id of the message; retries carry the same one.
    pub provider_id: Option<String>,
    pub at: Timestamp,
    /// Profile fields the channel knows (e.g. an email given in a web chat).
    pub profile: BTreeMap<String, String>,
    /// The email subject.
    pub subject: Option<String>,
    /// Email threading: the Message-IDs this message answers (In-Reply-To, References).
    pub thread_refs: Vec<String>,
    /// A message type the hub cannot show (a sticker, a future type): stored as a visible
    /// system line `[unsupported: KIND]` instead of being dropped.
    pub unsupported: Option<String>,
    /// Why the sender could not be verified (an email whose `From:` no mail server vouched
    /// for). Such a message never joins the customer's open conversation, only one it
    /// answers a reply of ours in, and a system line warns the agents.
    pub unverified: Option<String>,
    /// A tap on choices an agent offered.
    pub answer: Option<Answer>,
}

/// A customer's tap on choices offered: the option's id and title, and the message that
/// offered it, by the provider's id for it or the hub's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub id: String,
    pub title: String,
    pub to_provider_id: Option<String>,
    pub to_message: Option<i64>,
}

/// The longest a sender's name may be, in characters; longer ones are cut.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest an email subject may be, in characters; longer ones are cut.
pub const MAX_SUBJECT_CHARS: usize = 500;
/// The longest an attachment's name may be, in characters; longer ones are cut.
pub const MAX_FILE_NAME_CHARS: usize = 255;

/// `s` cut to at most `max` characters.
fn cut(s: &mut String, max: usize) {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
    }
}

impl Inbound {
    /// Drops the control characters [`text::keeps`] drops from every text the message
    /// carries, so both engines store the same thing (PostgreSQL cannot store U+0000), and
    /// cuts names, the subject and attachment names to their limits.
    pub fn clean_text(&mut self) {
        text::clean_in_place(&mut self.from);
        text::clean_in_place(&mut self.body);
        for s in self
            .display_name
            .iter_mut()
            .chain(&mut self.subject)
            .chain(&mut self.unsupported)
            .chain(&mut self.unverified)
        {
            text::clean_in_place(s);
        }
        if let Some(name) = &mut self.display_name {
            cut(name, MAX_NAME_CHARS);
        }
        if let Some(subject) = &mut self.subject {
            cut(subject, MAX_SUBJECT_CHARS);
        }
        for a in &mut self.attachments {
            text::clean_in_place(&mut a.name);
            cut(&mut a.name, MAX_FILE_NAME_CHARS);
            text::clean_in_place(&mut a.mime);
            text::clean_in_place(&mut a.url);
        }
        for r in &mut self.thread_refs {
            text::clean_in_place(r);
        }
        if let Some(id) = &mut self.provider_id {
            text::clean_in_place(id);
        }
        self.profile = std::mem::take(&mut self.profile)
            .into_iter()
            .map(|(k, v)| (text::clean(&k).into_owned(), text::clean(&v).into_owned()))
            .collect();
    }

    /// A plain text message; the other fields empty.
    pub fn text(inbox_id: i64, from: &str, body: &str, provider_id: Option<&str>, at: Timestamp) -> Inbound {
        Inbound {
            inbox_id,
            from: from.to_owned(),
            display_name: None,
            body: body.to_owned(),
            attachments: Vec::new(),
            provider_id: provider_id.map(str::to_owned),
            at,
            profile: BTreeMap::new(),
            subject: None,
            thread_refs: Vec::new(),
            unsupported: None,
            unverified: None,
            answer: None,
        }
    }
}

/// Where an inbound message landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ingested {
    pub contact_id: i64,
    pub conversation_id: i64,
    pub message_id: i64,
    /// A retry of a message already stored: nothing was written.
    pub duplicate: bool,
    /// The message opened a new conversation.
    pub new_conversation: bool,
}

/// Readies a message a channel delivered for storing: its time brought within what the
/// hub's clock allows, its text cleaned and checked.
pub(super) fn received(msg: &mut Inbound) -> Result<()> {
    // A provider's or a sender's clock may say anything; a time ahead of ours would pin the
    // conversation above all others, one long past would bury it.
    let now = crate::clock::now_ms();
    msg.at = msg.at.clamp(now - MAX_BEHIND_MS, now + MAX_AHEAD_MS);
    check(msg)
}

impl Store {
    /// [`Store::ingest`] at the message's own time, however long ago, and with what it sets
    /// off (the bot's answer, the automatic reply) dated then too: for importing history
    /// (the demo's months of conversations), never for what a channel delivers.
    pub async fn ingest_history(&self, mut msg: Inbound) -> Result<Ingested> {
        check(&mut msg)?;
        let base = self.public_url();
        self.pool()
            .write_keyed(customer_key(&msg.from), move |tx| {
                let now = tx.now;
                tx.now = msg.at.min(now);
                let r = ingest(tx, &msg, base.as_deref());
                tx.now = now;
                // Its targets were worked out as of then; where they stand is as of now.
                if let Ok(done) = &r {
                    super::sla::restate(tx, done.conversation_id)?;
                }
                r
            })
            .await
    }
}

/// Cleans a message's text and refuses one too long or with nothing in it.
fn check(msg: &mut Inbound) -> Result<()> {
    msg.clean_text();
    if msg.body.len() > MAX_BODY {
        return Err(StoreError::BadRequest(format!("the message is longer than {MAX_BODY} bytes")));
    }
    if msg.body.trim().is_empty() && msg.attachments.is_empty() && msg.unsupported.is_none() {
        return Err(StoreError::BadRequest("the message has neither text nor attachments".into()));
    }
    Ok(())
}

/// How far ahead of the hub's clock a message's own time may be; later times are taken as
/// this.
pub const MAX_AHEAD_MS: i64 = 60_000;

/// How far behind the hub's clock a message's own time may be; earlier times are taken as
/// this (mail held up for longer is rare; a `Date:` of 1970 is not).
pub const MAX_BEHIND_MS: i64 = 30 * 86_400_000;

/// Routes one customer's messages to one writer: the last nine digits of a phone number
/// (however it is written), or the lower-cased address.
pub(super) fn customer_key(from: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let digits: String = from.chars().filter(char::is_ascii_digit).collect();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if digits.len() >= 7 && digits.len() * 2 > from.len() {
        digits[digits.len().saturating_sub(9)..].hash(&mut h);
    } else {
        from.trim().to_lowercase().hash(&mut h);
    }
    h.finish()
}

fn find_duplicate(c: &mut dyn Connection, inbox_id: i64, provider_id: &str) -> Result<Option<Ingested>> {
    let row = c.query_opt(
        "SELECT m.id, m.conversation_id, c.contact_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.inbox_id = ? AND m.provider_id = ?",
        params![inbox_id, provider_id],
    )?;
    row.map(|r| -> Result<_> {
        Ok(Ingested {
            message_id: r.int(0)?,
            conversation_id: r.int(1)?,
            contact_id: r.int(2)?,
            duplicate: true,
            new_conversation: false,
        })
    })
    .transpose()
}

/// Finds the contact behind `address` on `channel` (or on a channel sharing its address
/// kind), creating the contact or the identity as needed. Returns (id, changed).
pub(super) fn resolve_contact(
    tx: &mut WriteTx<'_>,
    channel: ChannelKind,
    address: &str,
    name: Option<&str>,
) -> Result<(i64, bool)> {
    // One read finds both: the identity on this very channel, else the first one on a
    // channel sharing the address kind (an identity's kind is its channel's).
    let kind = channel.address_kind().as_str();
    let found = tx.conn.query_opt(
        "SELECT contact_id, channel FROM identities WHERE address_kind = ? AND address = ? \
         ORDER BY CASE WHEN channel = ? THEN 0 ELSE 1 END, id LIMIT 1",
        params![kind, address, channel.as_str()],
    )?;
    let existing = match found {
        Some(r) if r.text(1)? == channel.as_str() => return Ok((r.int(0)?, false)),
        Some(r) => Some(r.int(0)?),
        None => None,
    };
    let contact_id = match existing {
        Some(id) => id,
        None => {
            let name = name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(address);
            tx.conn.query_int(
                "INSERT INTO contacts (name, profile, created_at, updated_at) VALUES (?, '{}', ?, ?) RETURNING id",
                params![name, tx.now, tx.now],
            )?
        }
    };
    tx.conn.execute(
        "INSERT INTO identities (contact_id, channel, address_kind, address, created_at) VALUES (?, ?, ?, ?, ?)",
        params![contact_id, channel.as_str(), kind, address, tx.now],
    )?;
    if existing.is_some() {
        tx.conn.execute(
            "UPDATE contacts SET version = version + 1, updated_at = ? WHERE id = ?",
            params![tx.now, contact_id],
        )?;
    }
    // A new customer, or a new address to find them by: look them up in the CRM.
    super::crm::request_lookup(tx, contact_id, existing.is_some(), None)?;
    Ok((contact_id, true))
}

/// Adds profile fields the contact does not have yet. Returns whether anything changed.
fn merge_profile(tx: &mut WriteTx<'_>, contact_id: i64, fields: &BTreeMap<String, String>) -> Result<bool> {
    if fields.is_empty() {
        return Ok(false);
    }
    let row = tx.conn.query_one("SELECT profile FROM contacts WHERE id = ?", params![contact_id])?;
    let mut profile: BTreeMap<String, String> = row.json(0)?;
    let before = profile.len();
    for (k, v) in fields {
        profile.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if profile.len() == before {
        return Ok(false);
    }
    let json = serde_json::to_string(&profile).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    tx.conn.execute(
        "UPDATE contacts SET profile = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![json, tx.now, contact_id],
    )?;
    Ok(true)
}

/// The conversation an email answers, found through the Message-IDs it references.
fn threaded_conversation(
    tx: &mut WriteTx<'_>,
    inbox_id: i64,
    contact_id: i64,
    refs: &[String],
    verified: bool,
) -> Result<Option<i64>> {
    // An unverified sender may answer only a reply of ours: its Message-ID went to the
    // real customer alone, while theirs may be known to others.
    let only_ours = if verified { "" } else { " AND m.direction = 'outbound'" };
    for r in refs.iter().rev().take(50) {
        let row = tx.conn.query_opt(
            &format!(
                "SELECT m.conversation_id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                 WHERE m.inbox_id = ? AND m.provider_id = ? AND c.contact_id = ?{only_ours}"
            ),
            params![inbox_id, r, contact_id],
        )?;
        if let Some(row) = row {
            return Ok(Some(row.int(0)?));
        }
    }
    Ok(None)
}

/// A customer's tap as the thread shows it: the option, and the agent's message in this
/// conversation that offered it, when the channel named one we know.
fn chosen(tx: &mut WriteTx<'_>, conversation_id: i64, inbox_id: i64, a: &Answer) -> Result<Chosen> {
    let offered = match (&a.to_provider_id, a.to_message) {
        (_, Some(id)) => tx.conn.query_opt(
            "SELECT id FROM messages WHERE id = ? AND conversation_id = ? AND direction = 'outbound' AND choices IS NOT NULL",
            params![id, conversation_id],
        )?,
        (Some(pid), None) => tx.conn.query_opt(
            "SELECT id FROM messages WHERE inbox_id = ? AND provider_id = ? AND conversation_id = ? AND direction = 'outbound'",
            params![inbox_id, pid, conversation_id],
        )?,
        (None, None) => None,
    };
    let title: String = text::clean(&a.title).chars().take(200).collect();
    let id: String = text::clean(&a.id).chars().take(256).collect();
    Ok(Chosen { id, title, offered_in: offered.map(|r| r.int(0)).transpose()? })
}

/// Applies an opt-out or opt-in keyword (STOP, START, the inbox's own words) on SMS or
/// WhatsApp: records or lifts the opt-out and says so in the thread.
fn apply_keyword(
    tx: &mut WriteTx<'_>,
    conv: &Conversation,
    settings: &serde_json::Value,
    body: &str,
    at: Timestamp,
) -> Result<bool> {
    // Words that no longer read (settings from before the check) fall back to the carriers'.
    let own = super::directory::keywords_of(settings).unwrap_or_else(|why| {
        tracing::warn!("inbox {}: {why}", conv.inbox_id);
        rules::Keywords::default()
    });
    let Some(keyword) = rules::keyword(body, &own) else { return Ok(false) };
    let word = body.trim().to_uppercase();
    let line = match keyword {
        rules::Keyword::OptOut => {
            // STOP ends everything: the opt-out, and marketing with it.
            for purpose in ConsentPurpose::ALL {
                consent::record(tx, &keyword_record(conv, purpose, false, &word))?;
            }
            format!(
                "{} opted out of {} with “{word}”: nothing more can be sent to them there until they reply START.",
                conv.customer_address, conv.channel
            )
        }
        rules::Keyword::OptIn => {
            // START resumes messages; marketing withdrawn stays withdrawn until asked for.
            consent::record(tx, &keyword_record(conv, ConsentPurpose::Service, true, &word))?;
            format!("{} opted back in to {} with “{word}”.", conv.customer_address, conv.channel)
        }
    };
    entities::add_system_line(tx, conv, &line, at)?;
    consent::touch_contacts(tx, conv.channel, &conv.customer_address)?;
    Ok(true)
}

/// A keyword's consent record: the customer's own word is the evidence.
fn keyword_record<'a>(
    conv: &'a Conversation,
    purpose: ConsentPurpose,
    granted: bool,
    word: &'a str,
) -> consent::Record<'a> {
    consent::Record {
        channel: conv.channel,
        address: &conv.customer_address,
        purpose,
        granted,
        source: ConsentSource::Keyword,
        evidence: word,
        reason: None,
        agent_id: None,
    }
}

/// Queues the inbox's automatic first reply, if its settings have one, on a new conversation.
fn auto_reply(tx: &mut WriteTx<'_>, conv: &Conversation, settings: &serde_json::Value, at: Timestamp) -> Result<()> {
    let Some(cfg) = settings.get("auto_reply").filter(|v| !v.is_null()) else { return Ok(()) };
    if entities::opted_out(tx.conn, conv)? {
        return Ok(());
    }
    let cfg: rules::AutoReply = match serde_json::from_value(cfg.clone()) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("inbox {}: auto_reply settings are invalid: {e}", conv.inbox_id);
            return Ok(());
        }
    };
    let text = rules::auto_reply_text(&cfg, at).to_owned();
    let id = tx.conn.query_int(
        "INSERT INTO messages (conversation_id, inbox_id, channel, direction, body, attachments, delivery, created_at) \
         VALUES (?, ?, ?, ?, ?, '[]', ?, ?) RETURNING id",
        params![conv.id, conv.inbox_id, conv.channel.as_str(), Direction::Outbound.as_str(), &text, Delivery::Queued.as_str(), at],
    )?;
    super::outbox::enqueue(tx, id, conv.inbox_id)?;
    let msg = entities::load_message(tx.conn, id)?;
    emit_message(tx, &msg, conv.team_id);
    Ok(())
}

/// Stores a customer's answer to a survey in its (resolved) conversation and records the
/// score.
fn answer_survey(
    tx: &mut WriteTx<'_>,
    msg: &Inbound,
    conversation_id: i64,
    contact_id: i64,
    score: u8,
) -> Result<Ingested> {
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    let message_id = tx.conn.query_int(
        "INSERT INTO messages (conversation_id, inbox_id, channel, direction, body, attachments, provider_id, created_at) \
         VALUES (?, ?, ?, ?, ?, '[]', ?, ?) RETURNING id",
        params![conv.id, conv.inbox_id, conv.channel.as_str(), Direction::Inbound.as_str(), &msg.body, msg.provider_id.as_deref(), msg.at],
    )?;
    let message = entities::load_message(tx.conn, message_id)?;
    emit_message(tx, &message, conv.team_id);
    super::csat::record(tx, conv.id, score, msg.at)?;
    Ok(Ingested { contact_id, conversation_id, message_id, duplicate: false, new_conversation: false })
}

/// Moves the response-time targets for a customer's message at `at`: a new conversation's
/// start; a resolved one reopened; or a customer who writes again.
fn response_targets(
    tx: &mut WriteTx<'_>,
    conversation_id: i64,
    before: Option<(ConversationStatus, Option<Timestamp>)>,
    at: Timestamp,
) -> Result<()> {
    use crate::sla::Event;
    let Some((status, waiting_since)) = before else {
        return super::sla::apply(tx, conversation_id, Event::Opened { at });
    };
    let answered_before = tx
        .conn
        .query_one("SELECT first_replied_at FROM conversations WHERE id = ?", params![conversation_id])?
        .opt_int(0)?
        .is_some();
    let reopened = status == ConversationStatus::Resolved;
    if reopened {
        super::sla::apply(tx, conversation_id, Event::Reopened { at })?;
    }
    let ball_was_theirs = reopened || waiting_since.is_none();
    super::sla::apply(tx, conversation_id, Event::CustomerWrote { at, ball_was_theirs, answered_before })
}

pub(super) fn ingest(tx: &mut WriteTx<'_>, msg: &Inbound, base: Option<&str>) -> Result<Ingested> {
    // The inbox's settings are read here once, for the keywords, the automatic reply and the bot.
    let (inbox, settings) = entities::load_inbox_and_settings(tx.conn, msg.inbox_id)?;
    super::reports::backdated(tx, msg.at)?;
    if let Some(pid) = &msg.provider_id {
        if let Some(dup) = find_duplicate(tx.conn, inbox.id, pid)? {
            return Ok(dup);
        }
    }
    let address = crate::address::normalize(inbox.kind, &msg.from, "US")?;
    // A visitor answering the email of a chat's unseen replies: the answer goes to the chat.
    if inbox.kind == ChannelKind::Email && !msg.thread_refs.is_empty() {
        if let Some(chat) = super::fallback::answered_chat(tx, inbox.id, &address, &msg.thread_refs)? {
            return answer_in_chat(tx, msg, chat);
        }
    }
    // An unverified sender does not get to name the customer.
    let name = if msg.unverified.is_some() { None } else { msg.display_name.as_deref() };
    let (contact_id, mut contact_changed) = resolve_contact(tx, inbox.kind, &address, name)?;
    contact_changed |= merge_profile(tx, contact_id, &msg.profile)?;

    let (body, direction) = match &msg.unsupported {
        Some(kind) => (format!("[unsupported: {kind}]"), Direction::System),
        None => (msg.body.clone(), Direction::Inbound),
    };
    let preview = rules::preview(&body, msg.attachments.len());
    let verified = msg.unverified.is_none();
    let threaded = threaded_conversation(tx, inbox.id, contact_id, &msg.thread_refs, verified)?;
    let open = match threaded {
        Some(id) => Some(id),
        // Only a verified sender joins the customer's open conversation.
        None if !verified => None,
        None => tx
            .conn
            .query_opt(
                "SELECT id FROM conversations WHERE contact_id = ? AND inbox_id = ? AND customer_address = ? AND status <> ? \
                 ORDER BY id DESC LIMIT 1",
                params![contact_id, inbox.id, &address, ConversationStatus::Resolved.as_str()],
            )?
            .map(|r| r.int(0))
            .transpose()?,
    };
    // A customer answering the satisfaction survey of their resolved conversation: the
    // score is recorded there, and nothing reopens.
    if open.is_none() && verified && msg.unsupported.is_none() && crate::csat::surveyed(inbox.kind) {
        if let Some(score) = crate::csat::score(&msg.body) {
            if let Some(id) = super::csat::awaiting_answer(tx.conn, contact_id, inbox.id, &address, msg.at)? {
                return answer_survey(tx, msg, id, contact_id, score);
            }
        }
    }
    let mut bot = None;
    let (conversation_id, before, status) = match open {
        Some(id) => {
            let conv = entities::load_conversation(tx.conn, id)?;
            if conv.status == ConversationStatus::Bot {
                bot = super::bot::in_settings(inbox.id, &settings);
            }
            let next = rules::after_inbound(&conv_state(&conv), inbox.kind, msg.at, preview);
            save_state(tx, &conv, &next, None)?;
            (id, Some((conv.status, conv.waiting_since)), next.status)
        }
        None => {
            let mut s = rules::opened_by_customer(inbox.kind, msg.at, preview);
            // The inbox's bot answers first when its schedule says so, for a customer
            // someone vouched for and a message the hub can read.
            if verified && msg.unsupported.is_none() {
                bot = super::bot::in_settings(inbox.id, &settings).filter(|b| crate::bot::takes(b, msg.at));
                if bot.is_some() {
                    s.status = ConversationStatus::Bot;
                }
            }
            let id = tx.conn.query_int(
                "INSERT INTO conversations (contact_id, inbox_id, channel, customer_address, team_id, status, waiting_since, \
                 last_activity_at, reply_window_expires_at, preview, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                params![contact_id, inbox.id, inbox.kind.as_str(), &address, inbox.team_id, s.status.as_str(), s.waiting_since, s.last_activity_at, s.reply_window_expires_at, &s.preview, msg.at],
            )?;
            (id, None, s.status)
        }
    };
    let new_conversation = before.is_none();
    // A bot's conversation has no targets until people have it.
    let bots = status == ConversationStatus::Bot;
    if !bots {
        response_targets(tx, conversation_id, before, msg.at)?;
    }
    // An answer to a campaign: the agent sees what the customer is answering.
    if verified {
        if let Some((campaign, text)) = super::campaigns::note_reply(tx, inbox.id, &address, conversation_id, msg.at)? {
            let conv = entities::load_conversation(tx.conn, conversation_id)?;
            let line = format!("Answering the campaign “{campaign}”, which said: {text}");
            entities::add_system_line(tx, &conv, &line, msg.at)?;
        }
    }

    if let Some(why) = &msg.unverified {
        let conv = entities::load_conversation(tx.conn, conversation_id)?;
        let line = format!(
            "Unverified sender: this email may not be from {address} ({why}). It was kept out of their open conversation."
        );
        entities::add_system_line(tx, &conv, &line, msg.at)?;
    }
    let attachments = serde_json::to_string(&msg.attachments).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    // A concurrent delivery of the same provider id (another hub, another writer) makes
    // this insert conflict; the job is then run again and takes the duplicate path above.
    let chosen = match &msg.answer {
        Some(a) => Some(chosen(tx, conversation_id, inbox.id, a)?),
        None => None,
    };
    let chosen =
        chosen.map(|c| serde_json::to_string(&c)).transpose().map_err(|e| StoreError::BadRequest(e.to_string()))?;
    let message_id = tx.conn.query_int(
        "INSERT INTO messages (conversation_id, inbox_id, channel, direction, body, subject, attachments, provider_id, chosen, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params![conversation_id, inbox.id, inbox.kind.as_str(), direction.as_str(), &body, msg.subject.as_deref(), attachments, msg.provider_id.as_deref(), chosen, msg.at],
    )?;
    super::blobs::tie_to_message(tx, message_id, &msg.attachments)?;
    super::blobs::fetch_later(tx, message_id, &msg.attachments)?;
    let message = entities::load_message(tx.conn, message_id)?;
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    emit_message(tx, &message, conv.team_id);

    let keyword = rules::takes_keywords(inbox.kind)
        && msg.unsupported.is_none()
        && verified
        && apply_keyword(tx, &conv, &settings, &msg.body, msg.at)?;
    contact_changed |= keyword;
    // No automatic answer to a sender nobody vouched for (it would go to whoever was forged).
    if new_conversation && !keyword && verified && !bots {
        auto_reply(tx, &conv, &settings, msg.at)?;
    }
    if bots {
        if new_conversation {
            if let Some(b) = &bot {
                super::bot::begin(tx, &conv, b, &msg.body, msg.at)?;
            }
        }
        match (&bot, keyword) {
            (Some(b), false) => {
                let chosen = msg.answer.as_ref().map(|a| a.id.as_str());
                let said = super::bot::Said { message_id, text: &msg.body, chosen, at: msg.at };
                super::bot::take_turn(tx, conv.id, b, said, base)?;
            }
            // An opt-out word, or an inbox whose bot was turned off since: people take it.
            (_, true) => {
                super::bot::handoff(tx, conv.id, switchboard_protocol::bot::HandoffReason::Keyword, None, msg.at)?;
            }
            (None, false) => {
                super::bot::handoff(tx, conv.id, switchboard_protocol::bot::HandoffReason::BotFailed, None, msg.at)?;
            }
        }
    }
    let conv = if bots { entities::load_conversation(tx.conn, conv.id)? } else { conv };
    if contact_changed || new_conversation {
        let contact = entities::load_contact(tx.conn, contact_id)?;
        emit_contact(tx, &contact)?;
    }
    let conv =
        if super::routing::sync_queue(tx, conv.id)? { entities::load_conversation(tx.conn, conv.id)? } else { conv };
    emit_conversation(tx, &conv, None);
    Ok(Ingested { contact_id, conversation_id, message_id, duplicate: false, new_conversation })
}

/// Takes a visitor's emailed answer into their chat: an inbound line of the chat (marked as
/// email, with its subject and files), which reopens the conversation and waits for an
/// agent as any customer message does, and shows in the visitor's widget.
fn answer_in_chat(tx: &mut WriteTx<'_>, msg: &Inbound, conversation_id: i64) -> Result<Ingested> {
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    let preview = rules::preview(&msg.body, msg.attachments.len());
    let next = rules::after_inbound(&conv_state(&conv), conv.channel, msg.at, preview);
    let before = (conv.status, conv.waiting_since);
    save_state(tx, &conv, &next, None)?;
    let attachments = serde_json::to_string(&msg.attachments).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    let message_id = tx.conn.query_int(
        "INSERT INTO messages (conversation_id, inbox_id, channel, direction, body, subject, attachments, provider_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params![conversation_id, msg.inbox_id, ChannelKind::Email.as_str(), Direction::Inbound.as_str(), &msg.body, msg.subject.as_deref(), attachments, msg.provider_id.as_deref(), msg.at],
    )?;
    super::blobs::tie_to_message(tx, message_id, &msg.attachments)?;
    response_targets(tx, conversation_id, Some(before), msg.at)?;
    let message = entities::load_message(tx.conn, message_id)?;
    let conv = entities::load_conversation(tx.conn, conversation_id)?;
    emit_message(tx, &message, conv.team_id);
    emit_conversation(tx, &conv, None);
    Ok(Ingested { contact_id: conv.contact_id, conversation_id, message_id, duplicate: false, new_conversation: false })
}
