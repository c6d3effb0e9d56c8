//! Many inbound messages stored at once: concurrent ingests gathered per writer into one
//! job, and the common cases among them (a known customer writing again in their open
//! conversation, a new customer's first message) stored with one statement per table for
//! the whole set.
//!
//! Every other message (a file, an email thread, an opt-out word, a bot's conversation, a
//! campaign's answer, a customer known by another channel, a new customer writing twice)
//! takes the one-message path of [`super::ingest`] in a savepoint of its own, after the
//! set. A customer with any such message in the job has all their messages taken that
//! way, so one customer's messages are stored in the order they arrived. What the set path
//! stores is what the one-message path would have: the same rows, targets, queue and CRM
//! lookups; only a conversation is announced on the feed once, in its final state, after
//! its messages.

use super::db::{placeholders, Value};
use super::entities::{self, emit_conversation, emit_message, CONVERSATION_COLUMNS, INBOX_COLUMNS, MESSAGE_COLUMNS};
use super::ingest::{customer_key, Inbound, Ingested};
use super::pool::WriteTx;
use super::state::conv_state;
use super::{Result, Store, StoreError};
use crate::rules;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use switchboard_protocol::model::{ChannelKind, Conversation, ConversationStatus, Direction, Inbox, Message};
use switchboard_protocol::Timestamp;
use tokio::sync::oneshot;

/// The most rows one statement writes or looks up.
const CHUNK: usize = 100;

/// Ingests waiting for their writer: one lane per writer, each with at most one job queued
/// that will take everything waiting in the lane when it runs.
#[derive(Debug)]
pub(super) struct Gather {
    lanes: Vec<Mutex<Lane>>,
    /// The most messages one lane holds; past it an ingest is refused as `unavailable`.
    bound: usize,
}

#[derive(Debug, Default)]
struct Lane {
    waiting: Vec<Waiting>,
    /// A job that will take `waiting` is queued.
    queued: bool,
}

type Reply = oneshot::Sender<Result<Ingested>>;

#[derive(Debug)]
struct Waiting {
    msg: Inbound,
    reply: Reply,
}

/// How many lanes ingests are gathered in: one a core, and no more than there are writers.
///
/// Every write transaction takes the feed's head row last and holds it until it commits,
/// so transactions commit one at a time. More lanes than cores only make them wait for
/// each other with smaller sets: measured on two cores with 32 concurrent writers on
/// PostgreSQL, four lanes store 2,800 messages a second and two 4,800.
pub(super) fn lanes(writers: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    writers.clamp(1, cores.max(1))
}

impl Gather {
    pub(super) fn new(lanes: usize, bound: usize) -> Gather {
        Gather { lanes: (0..lanes.max(1)).map(|_| Mutex::default()).collect(), bound: bound.max(1) }
    }

    fn lane(&self, i: usize) -> MutexGuard<'_, Lane> {
        // A panic while holding a lane leaves only a list behind; it is still whole.
        self.lanes[i % self.lanes.len()].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Everything waiting in lane `i`; the next ingest there queues a new job.
    fn take(&self, i: usize) -> Vec<Waiting> {
        let mut lane = self.lane(i);
        lane.queued = false;
        std::mem::take(&mut lane.waiting)
    }
}

impl Store {
    /// Stores a message a channel delivered, together with whatever else waits for the
    /// same writer.
    pub async fn ingest(&self, mut msg: Inbound) -> Result<Ingested> {
        super::ingest::received(&mut msg)?;
        let gather = self.gather().clone();
        let lane = usize::try_from(customer_key(&msg.from) % gather.lanes.len() as u64).unwrap_or(0);
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut l = gather.lane(lane);
            if l.waiting.len() >= gather.bound {
                return Err(super::pool::busy("write"));
            }
            l.waiting.push(Waiting { msg, reply });
            !std::mem::replace(&mut l.queued, true)
        };
        if first {
            if let Err(e) = self.queue_lane(gather.clone(), lane) {
                for w in gather.take(lane) {
                    let _ = w.reply.send(Err(e.clone()));
                }
            }
        }
        answer.await.map_err(|_| super::pool::closed())?
    }

    /// Queues the job that stores everything waiting in `lane` when the writer reaches it.
    fn queue_lane(&self, gather: Arc<Gather>, lane: usize) -> Result<()> {
        let base = self.public_url();
        // The callers' replies pass from the job, which takes them, to the delivery after
        // the commit; a job that never ran leaves them in the lane.
        let replies: Arc<Mutex<Option<Vec<Reply>>>> = Arc::default();
        let mut msgs: Option<Vec<Inbound>> = None;
        let (taken, left) = (replies.clone(), gather.clone());
        self.pool().write_keyed_then(
            lane as u64,
            move |tx| {
                let msgs = msgs.get_or_insert_with(|| {
                    let (m, r): (Vec<_>, Vec<_>) = gather.take(lane).into_iter().map(|w| (w.msg, w.reply)).unzip();
                    *taken.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                    m
                });
                ingest_all(tx, msgs, base.as_deref())
            },
            move |result| {
                let replies = replies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
                let replies = replies.unwrap_or_else(|| left.take(lane).into_iter().map(|w| w.reply).collect());
                match result {
                    Ok(results) => {
                        for (reply, r) in replies.into_iter().zip(results) {
                            let _ = reply.send(r);
                        }
                    }
                    Err(e) => {
                        for reply in replies {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                }
            },
        )
    }
}

/// Stores `msgs` in one job: the set first, then each of the rest on its own. A lost
/// deadlock fails the whole job, which the pool runs again in its next transaction.
fn ingest_all(tx: &mut WriteTx<'_>, msgs: &[Inbound], base: Option<&str>) -> Result<Vec<Result<Ingested>>> {
    let set = match tx.apart_by_key(|tx| store_set(tx, msgs)) {
        Ok(done) => done,
        Err(e) if fails_the_job(&e) => return Err(e),
        // Whatever went wrong, each message on its own path says what it was.
        Err(e) => {
            tracing::warn!("the set of {} messages falls back to one at a time: {e}", msgs.len());
            vec![None; msgs.len()]
        }
    };
    let mut out = Vec::with_capacity(msgs.len());
    for (msg, done) in msgs.iter().zip(set) {
        out.push(match done {
            Some(d) => Ok(d),
            None => match tx.apart(|tx| super::ingest::ingest(tx, msg, base)) {
                Err(e) if fails_the_job(&e) => return Err(e),
                r => r,
            },
        });
    }
    Ok(out)
}

/// A lost deadlock or connection: the transaction is spoilt, so nothing more may run in it.
fn fails_the_job(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(super::db::DbError::Transient(_) | super::db::DbError::Unavailable(_)))
}

/// Whether a message may take the set path on its own account: plain text (a subject
/// allowed) from a sender vouched for, with nothing to merge, thread or look up, and dated
/// recently enough that no kept report day changes.
pub(super) fn plain(msg: &Inbound, now: Timestamp) -> bool {
    msg.attachments.is_empty()
        && msg.thread_refs.is_empty()
        && msg.unverified.is_none()
        && msg.unsupported.is_none()
        && msg.answer.is_none()
        && msg.profile.is_empty()
        && msg.at + crate::reports::SETTLE_MS / 2 >= now
}

/// A message the set will store.
#[derive(Debug)]
struct Planned {
    index: usize,
    inbox_id: i64,
    channel: ChannelKind,
    /// Its conversation's team.
    team_id: i64,
    address: String,
    /// A new customer, whose contact and conversation the set opens; the ids below are
    /// theirs once opened.
    opens: bool,
    contact_id: i64,
    conversation_id: i64,
}

/// A conversation as the set moves it.
#[derive(Debug)]
struct Moving {
    conv: Conversation,
    answered_before: bool,
    dues: crate::sla::Dues,
    dues_moved: bool,
    /// The targets that start, in order.
    started: Vec<(&'static str, i64)>,
}

/// An inbox as the set needs it.
#[derive(Debug)]
struct InboxInfo {
    inbox: Inbox,
    keywords: rules::Keywords,
    /// A new customer's first message opens a conversation with nothing else to do: no
    /// bot takes it and no automatic reply is sent.
    opens_plainly: bool,
}

/// What is known of a customer by their address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    /// Their contact, through an identity on this very channel.
    Here(i64),
    /// Only through another channel sharing the address kind (SMS and WhatsApp).
    Elsewhere,
    /// Nothing: a new customer.
    New,
}

/// Stores the messages the set path takes; `None` for each left to the one-message path.
fn store_set(tx: &mut WriteTx<'_>, msgs: &[Inbound]) -> Result<Vec<Option<Ingested>>> {
    let mut done: Vec<Option<Ingested>> = vec![None; msgs.len()];
    let now = tx.now;
    let candidates: Vec<usize> = (0..msgs.len()).filter(|&i| plain(&msgs[i], now)).collect();
    if candidates.is_empty() {
        return Ok(done);
    }
    // Customers some of whose messages take the other path: all theirs do.
    let mut apart: HashSet<u64> = msgs.iter().filter(|m| !plain(m, now)).map(|m| customer_key(&m.from)).collect();

    let inboxes = load_inboxes(tx, candidates.iter().map(|&i| msgs[i].inbox_id))?;
    // Each candidate with its inbox and the address it is known by.
    let mut known: Vec<(usize, &InboxInfo, String)> = Vec::new();
    for &i in &candidates {
        let msg = &msgs[i];
        let Some(info) = inboxes.get(&msg.inbox_id) else {
            apart.insert(customer_key(&msg.from));
            continue;
        };
        let address = match crate::address::normalize(info.inbox.kind, &msg.from, "US") {
            Ok(a) => a,
            Err(_) => {
                apart.insert(customer_key(&msg.from));
                continue;
            }
        };
        if rules::takes_keywords(info.inbox.kind) && rules::keyword(&msg.body, &info.keywords).is_some() {
            apart.insert(customer_key(&msg.from));
            continue;
        }
        known.push((i, info, address));
    }

    // A provider's retry of a message stored before is answered at once; one repeated
    // within the set is answered with the first's ids once that is stored.
    let stored = duplicates(
        tx,
        known.iter().filter_map(|(i, _, _)| msgs[*i].provider_id.as_deref().map(|p| (msgs[*i].inbox_id, p))),
    )?;
    let mut first_of: HashMap<(i64, &str), usize> = HashMap::new();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    known.retain(|(i, _, _)| {
        let Some(pid) = msgs[*i].provider_id.as_deref() else { return true };
        if let Some(d) = stored.get(&(msgs[*i].inbox_id, pid.to_owned())) {
            done[*i] = Some(*d);
            return false;
        }
        match first_of.get(&(msgs[*i].inbox_id, pid)) {
            Some(&first) => {
                repeats.push((*i, first));
                false
            }
            None => {
                first_of.insert((msgs[*i].inbox_id, pid), *i);
                true
            }
        }
    });

    let customers = identities(tx, &known)?;
    let here: Vec<(i64, i64, &str)> = known
        .iter()
        .filter_map(|(_, info, a)| match customers.get(&(info.inbox.kind.address_kind().as_str(), a.clone())) {
            Some(Known::Here(c)) => Some((*c, info.inbox.id, a.as_str())),
            _ => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let open = open_conversations(tx, &here)?;
    let answering = campaign_answers(tx, &known, msgs)?;
    // How many of the set's messages come from each address: a new customer writing twice
    // in one set takes the one-message path, which opens their conversation once.
    let mut writes: HashMap<(&str, &str), usize> = HashMap::new();
    for (_, info, address) in &known {
        *writes.entry((info.inbox.kind.address_kind().as_str(), address.as_str())).or_default() += 1;
    }
    let mut planned: Vec<Planned> = Vec::new();
    for (i, info, address) in &known {
        let inbox = &info.inbox;
        let who = customers.get(&(inbox.kind.address_kind().as_str(), address.clone())).copied().unwrap_or(Known::New);
        let plan = |opens, contact_id, conversation_id, team_id| Planned {
            index: *i,
            inbox_id: inbox.id,
            channel: inbox.kind,
            team_id,
            address: address.clone(),
            opens,
            contact_id,
            conversation_id,
        };
        let once = writes.get(&(inbox.kind.address_kind().as_str(), address.as_str())) == Some(&1);
        let conv = match who {
            Known::Here(c) => open
                .iter()
                .filter(|(k, _)| k.contact_id == c && k.inbox_id == inbox.id && k.customer_address == *address)
                .max_by_key(|(k, _)| k.id),
            _ => None,
        };
        match (who, conv) {
            _ if answering.contains(i) => {}
            (Known::Here(c), Some((conv, _))) if conv.status != ConversationStatus::Bot => {
                planned.push(plan(false, c, conv.id, conv.team_id));
                continue;
            }
            (Known::New, None) if once && info.opens_plainly => {
                planned.push(plan(true, 0, 0, inbox.team_id));
                continue;
            }
            _ => {}
        }
        apart.insert(customer_key(&msgs[*i].from));
    }
    planned.retain(|p| !apart.contains(&customer_key(&msgs[p.index].from)));
    let kept: HashSet<usize> = planned.iter().map(|p| p.index).collect();
    repeats.retain(|(_, first)| kept.contains(first));
    if planned.is_empty() {
        return Ok(done);
    }

    let keys: BTreeSet<(i64, i64)> = planned.iter().map(|p| (p.team_id, p.inbox_id)).collect();
    let policies = super::directory::policies_of(tx.conn, &keys)?;
    if policies.len() < keys.len() {
        return Err(StoreError::NotFound("team"));
    }
    let opened = open_for_new_customers(tx, msgs, &mut planned, &policies)?;

    // Each conversation moved by its messages in order, as the one-message path moves it.
    let mut moving: BTreeMap<i64, Moving> = BTreeMap::new();
    for (conv, answered_before) in open {
        if planned.iter().any(|p| !p.opens && p.conversation_id == conv.id) {
            let dues = crate::sla::Dues {
                first_response: conv.first_response_due_at,
                next_response: conv.next_response_due_at,
                resolution: conv.resolution_due_at,
            };
            moving.insert(conv.id, Moving { conv, answered_before, dues, dues_moved: false, started: Vec::new() });
        }
    }
    for p in planned.iter().filter(|p| !p.opens) {
        let msg = &msgs[p.index];
        let m = moving.get_mut(&p.conversation_id).ok_or(StoreError::NotFound("conversation"))?;
        let (status, waiting_since) = (m.conv.status, m.conv.waiting_since);
        let next = rules::after_inbound(&conv_state(&m.conv), p.channel, msg.at, rules::preview(&msg.body, 0));
        m.conv.status = next.status;
        m.conv.snoozed_until = next.snoozed_until;
        m.conv.waiting_since = next.waiting_since;
        m.conv.last_activity_at = next.last_activity_at;
        m.conv.reply_window_expires_at = next.reply_window_expires_at;
        m.conv.preview = next.preview;
        let policy = policies.get(&(m.conv.team_id, m.conv.inbox_id)).and_then(|p| p.sla.as_ref());
        let hours = policy.map(crate::sla::hours_of).unwrap_or_else(crate::calendar::Hours::always);
        let event = crate::sla::Event::CustomerWrote {
            at: msg.at,
            ball_was_theirs: status == ConversationStatus::Resolved || waiting_since.is_none(),
            answered_before: m.answered_before,
        };
        let after = crate::sla::after(policy, &hours, m.dues, event);
        if after != m.dues {
            m.started.extend(super::sla::started(&m.dues, &after));
            m.dues = after;
            m.dues_moved = true;
        }
    }

    let messages = insert_messages(tx, msgs, &planned)?;
    let moved = update_conversations(tx, &moving, &policies)?;
    let started = opened.started.iter().copied().chain(
        moving.values().flat_map(|m| m.started.iter().map(|(target, due)| (m.conv.id, m.conv.team_id, *target, *due))),
    );
    let events: Vec<Value> = started
        .flat_map(|(conv, team, target, due)| [conv.into(), team.into(), target.into(), due.into(), tx.now.into()])
        .collect();
    for chunk in events.chunks(5 * CHUNK) {
        tx.conn.execute(
            &format!(
                "INSERT INTO sla_events (conversation_id, team_id, target, due_at, created_at) VALUES {}",
                rows(chunk.len() / 5, 5)
            ),
            chunk,
        )?;
    }

    // The feed: each message in order, each new customer, then each conversation as it
    // now stands.
    for (p, message) in planned.iter().zip(&messages) {
        emit_message(tx, message, p.team_id);
    }
    let new_contacts: Vec<(i64, i64)> = planned.iter().filter(|p| p.opens).map(|p| (p.contact_id, p.team_id)).collect();
    let contacts = entities::load_contacts(tx.conn, &new_contacts.iter().map(|(c, _)| *c).collect::<Vec<_>>())?;
    for (contact, (_, team)) in contacts.iter().zip(&new_contacts) {
        entities::emit_new_contact(tx, contact, *team);
    }
    let mut conv_ids: Vec<i64> = Vec::new();
    for p in &planned {
        if !conv_ids.contains(&p.conversation_id) {
            conv_ids.push(p.conversation_id);
        }
    }
    let convs: HashMap<i64, Conversation> = moved.into_iter().chain(opened.convs).map(|c| (c.id, c)).collect();
    for id in &conv_ids {
        emit_conversation(tx, convs.get(id).ok_or(StoreError::NotFound("conversation"))?, None);
    }

    for (p, message) in planned.iter().zip(&messages) {
        done[p.index] = Some(Ingested {
            contact_id: p.contact_id,
            conversation_id: p.conversation_id,
            message_id: message.id,
            duplicate: false,
            new_conversation: p.opens,
        });
    }
    for (i, first) in repeats {
        done[i] = done[first].map(|d| Ingested { duplicate: true, new_conversation: false, ..d });
    }
    Ok(done)
}

/// What opening new customers' conversations started: each target, as
/// (conversation, team, target, due).
#[derive(Debug, Default)]
struct Opened {
    started: Vec<(i64, i64, &'static str, i64)>,
    /// The conversations opened, as stored.
    convs: Vec<Conversation>,
}

/// Opens a contact, an identity and a conversation for each new customer planned, as the
/// one-message path does for their first message: the conversation open and waiting,
/// with its response targets started and its place in the queue, and the customer asked
/// after in the CRM. Fills in the planned ids.
fn open_for_new_customers(
    tx: &mut WriteTx<'_>,
    msgs: &[Inbound],
    planned: &mut [Planned],
    policies: &HashMap<(i64, i64), super::directory::Policies>,
) -> Result<Opened> {
    let mut opened = Opened::default();
    let news: Vec<usize> = (0..planned.len()).filter(|&i| planned[i].opens).collect();
    for chunk in news.chunks(CHUNK) {
        // Contacts, named as the sender names themself, else by their address.
        let mut params = Vec::with_capacity(chunk.len() * 3);
        for &i in chunk {
            let p = &planned[i];
            let name = msgs[p.index].display_name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            params.extend([Value::from(name.unwrap_or(&p.address)), tx.now.into(), tx.now.into()]);
        }
        let sql = format!(
            "INSERT INTO contacts (name, profile, created_at, updated_at) VALUES {} RETURNING id",
            vec!["(?, '{}', ?, ?)"; chunk.len()].join(", ")
        );
        let contacts = inserted_ids(tx, &sql, &params)?;
        let mut params = Vec::with_capacity(chunk.len() * 5);
        for (&i, &contact) in chunk.iter().zip(&contacts) {
            let p = &mut planned[i];
            p.contact_id = contact;
            params.extend([
                Value::Int(contact),
                p.channel.as_str().into(),
                p.channel.address_kind().as_str().into(),
                Value::from(p.address.as_str()),
                tx.now.into(),
            ]);
        }
        tx.conn.execute(
            &format!(
                "INSERT INTO identities (contact_id, channel, address_kind, address, created_at) VALUES {}",
                rows(chunk.len(), 5)
            ),
            &params,
        )?;
        super::crm::request_lookups(tx, &contacts, false, None)?;

        const WIDTH: usize = 17;
        let mut params = Vec::with_capacity(chunk.len() * WIDTH);
        let mut starts = Vec::new();
        for &i in chunk {
            let p = &planned[i];
            let msg = &msgs[p.index];
            let s = rules::opened_by_customer(p.channel, msg.at, rules::preview(&msg.body, 0));
            let policy = policies.get(&(p.team_id, p.inbox_id));
            let sla = policy.and_then(|p| p.sla.as_ref());
            let hours = sla.map(crate::sla::hours_of).unwrap_or_else(crate::calendar::Hours::always);
            let none = crate::sla::Dues::default();
            let dues = crate::sla::after(sla, &hours, none, crate::sla::Event::Opened { at: msg.at });
            let warn = sla.map_or(0, |p| p.warn_before_mins);
            let next = dues.next();
            let routes = policy.is_some_and(|p| p.routing.routes());
            let queued = crate::routing::belongs_in_queue(s.status, None, routes).then_some(tx.now);
            starts.push(super::sla::started(&none, &dues));
            params.extend([
                Value::Int(p.contact_id),
                Value::Int(p.inbox_id),
                p.channel.as_str().into(),
                Value::from(p.address.as_str()),
                Value::Int(p.team_id),
                s.status.as_str().into(),
                Value::from(s.waiting_since),
                Value::Int(s.last_activity_at),
                Value::from(s.reply_window_expires_at),
                Value::from(s.preview),
                Value::Int(msg.at),
                Value::from(dues.first_response),
                Value::from(dues.next_response),
                Value::from(dues.resolution),
                Value::from(next),
                Value::from(next.map(|d| d - i64::from(warn) * 60_000)),
                Value::from(crate::sla::state(&dues, warn, tx.now).as_str()),
            ]);
            params.push(Value::from(queued));
        }
        let sql = format!(
            "INSERT INTO conversations (contact_id, inbox_id, channel, customer_address, team_id, status, waiting_since, \
             last_activity_at, reply_window_expires_at, preview, created_at, first_response_due_at, next_response_due_at, \
             resolution_due_at, sla_next_due, sla_warn_at, sla_state, queued_at) VALUES {} RETURNING {}",
            rows(chunk.len(), WIDTH + 1),
            CONVERSATION_COLUMNS.replace("c.", "")
        );
        let convs = inserted(tx, &sql, &params, entities::conversation)?;
        for ((&i, conv), starts) in chunk.iter().zip(convs).zip(starts) {
            let p = &mut planned[i];
            p.conversation_id = conv.id;
            opened.started.extend(starts.into_iter().map(|(target, due)| (conv.id, p.team_id, target, due)));
            opened.convs.push(conv);
        }
    }
    Ok(opened)
}

/// Runs a multi-row `INSERT … RETURNING id`: the ids, in the order of the rows given.
fn inserted_ids(tx: &mut WriteTx<'_>, sql: &str, params: &[Value]) -> Result<Vec<i64>> {
    inserted(tx, sql, params, |r| r.int(0))
}

/// Runs a multi-row `INSERT … RETURNING id, …`: the rows read with `read`, in the order
/// of the rows given. Rows are inserted in that order, each taking the next id, so sorted
/// by id the rows returned are theirs in order, however the engine returns them.
fn inserted<T>(
    tx: &mut WriteTx<'_>,
    sql: &str,
    params: &[Value],
    read: fn(&super::db::Row) -> Result<T, super::db::DbError>,
) -> Result<Vec<T>> {
    let mut rows = tx.conn.query(sql, params)?;
    rows.sort_by_key(|r| r.int(0).unwrap_or(i64::MAX));
    Ok(rows.iter().map(read).collect::<Result<_, _>>()?)
}

/// `n` rows of `width` placeholders each, for a multi-row `VALUES`.
fn rows(n: usize, width: usize) -> String {
    let row = format!("({})", placeholders(width));
    vec![row; n].join(", ")
}

/// The inboxes named, with what the set needs of their settings.
fn load_inboxes(tx: &mut WriteTx<'_>, ids: impl Iterator<Item = i64>) -> Result<HashMap<i64, InboxInfo>> {
    let ids: Vec<Value> = ids.collect::<BTreeSet<_>>().into_iter().map(Value::Int).collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!("SELECT {INBOX_COLUMNS} FROM inboxes WHERE id IN ({})", placeholders(chunk.len()));
        for r in tx.conn.query(&sql, chunk)? {
            let inbox = entities::inbox(&r)?;
            let settings: serde_json::Value = r.json(6)?;
            // Words that no longer read fall back to the carriers', as on the one-message path.
            let keywords = super::directory::keywords_of(&settings).unwrap_or_default();
            let opens_plainly = super::bot::in_settings(inbox.id, &settings).is_none()
                && settings.get("auto_reply").is_none_or(serde_json::Value::is_null);
            out.insert(inbox.id, InboxInfo { inbox, keywords, opens_plainly });
        }
    }
    Ok(out)
}

/// The messages already stored under each (inbox, provider id).
fn duplicates<'a>(
    tx: &mut WriteTx<'_>,
    keys: impl Iterator<Item = (i64, &'a str)>,
) -> Result<HashMap<(i64, String), Ingested>> {
    let keys: Vec<[Value; 2]> = keys.map(|(inbox, pid)| [Value::Int(inbox), Value::from(pid)]).collect();
    let mut ids = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let sql = probe(
            &["SELECT m.id FROM messages m WHERE m.inbox_id = k.column1 AND m.provider_id = k.column2"],
            chunk.len(),
            &["BIGINT", "TEXT"],
        );
        for r in tx.conn.query(&sql, &chunk.concat())? {
            ids.extend(r.opt_int(0)?);
        }
    }
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT m.inbox_id, m.provider_id, m.id, m.conversation_id, c.contact_id FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id WHERE m.id IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|&i| Value::Int(i)).collect();
        for r in tx.conn.query(&sql, &params)? {
            out.insert(
                (r.int(0)?, r.text(1)?.to_owned()),
                Ingested {
                    message_id: r.int(2)?,
                    conversation_id: r.int(3)?,
                    contact_id: r.int(4)?,
                    duplicate: true,
                    new_conversation: false,
                },
            );
        }
    }
    Ok(out)
}

/// A query answering `lookups` (subqueries of one value each, reading the key's columns as
/// `k.column1`, `k.column2`, …) for each of `n` keys typed `types`: a row a key, in order,
/// a column a lookup.
///
/// Each key is looked up on its own, by index, whatever the engine guesses of a table's
/// size: a join of the keys against a table that was never analysed is planned by
/// PostgreSQL as a scan of the whole table.
fn probe(lookups: &[&str], n: usize, types: &[&str]) -> String {
    let columns: Vec<String> = lookups.iter().map(|l| format!("({l})")).collect();
    let row: Vec<String> = types.iter().map(|t| format!("CAST(? AS {t})")).collect();
    format!("SELECT {} FROM (VALUES {}) AS k", columns.join(", "), vec![format!("({})", row.join(", ")); n].join(", "))
}

/// What is known of each candidate's address, by its address kind: their contact when an
/// identity on the message's own channel names them.
fn identities(
    tx: &mut WriteTx<'_>,
    known: &[(usize, &InboxInfo, String)],
) -> Result<HashMap<(&'static str, String), Known>> {
    let keys: BTreeSet<(ChannelKind, &str)> = known.iter().map(|(_, info, a)| (info.inbox.kind, a.as_str())).collect();
    let keys: Vec<(ChannelKind, &str)> = keys.into_iter().collect();
    let mut found: HashMap<(ChannelKind, &str), (Option<i64>, i64)> = HashMap::new();
    for chunk in keys.chunks(CHUNK) {
        let params: Vec<Value> = chunk
            .iter()
            .flat_map(|(c, a)| [Value::from(c.as_str()), Value::from(c.address_kind().as_str()), Value::from(*a)])
            .collect();
        let sql = probe(
            &[
                "SELECT i.contact_id FROM identities i WHERE i.channel = k.column1 AND i.address = k.column3",
                "SELECT COUNT(*) FROM identities i WHERE i.address_kind = k.column2 AND i.address = k.column3",
            ],
            chunk.len(),
            &["TEXT", "TEXT", "TEXT"],
        );
        for (key, r) in chunk.iter().zip(&tx.conn.query(&sql, &params)?) {
            found.insert(*key, (r.opt_int(0)?, r.int(1)?));
        }
    }
    let mut out = HashMap::new();
    for (_, info, address) in known {
        let who = match found.get(&(info.inbox.kind, address.as_str())) {
            Some((Some(contact), _)) => Known::Here(*contact),
            Some((None, n)) if *n > 0 => Known::Elsewhere,
            _ => Known::New,
        };
        // Two inboxes of one address kind (SMS, WhatsApp) may know the address differently.
        let key = (info.inbox.kind.address_kind().as_str(), address.clone());
        match out.get(&key) {
            Some(k) if *k != who => {
                out.insert(key, Known::Elsewhere);
            }
            _ => {
                out.insert(key, who);
            }
        }
    }
    Ok(out)
}

/// The open conversation (the newest not resolved) of each (contact, inbox, address), with
/// whether it was ever answered.
fn open_conversations(tx: &mut WriteTx<'_>, keys: &[(i64, i64, &str)]) -> Result<Vec<(Conversation, bool)>> {
    let mut ids = Vec::new();
    for chunk in keys.chunks(CHUNK) {
        let sql = probe(
            &["SELECT MAX(c.id) FROM conversations c WHERE c.contact_id = k.column1 AND c.inbox_id = k.column2 \
             AND c.customer_address = k.column3 AND c.status <> 'resolved'"],
            chunk.len(),
            &["BIGINT", "BIGINT", "TEXT"],
        );
        let params: Vec<Value> =
            chunk.iter().flat_map(|(c, i, a)| [Value::Int(*c), Value::Int(*i), Value::from(*a)]).collect();
        for r in tx.conn.query(&sql, &params)? {
            ids.extend(r.opt_int(0)?);
        }
    }
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "SELECT {CONVERSATION_COLUMNS}, c.first_replied_at FROM conversations c WHERE c.id IN ({})",
            placeholders(chunk.len())
        );
        let params: Vec<Value> = chunk.iter().map(|&i| Value::Int(i)).collect();
        for r in tx.conn.query(&sql, &params)? {
            out.push((entities::conversation(&r)?, r.opt_int(23)?.is_some()));
        }
    }
    Ok(out)
}

/// The candidates whose message answers a campaign sent to them (within a week, not yet
/// answered): those take the one-message path, which notes the answer.
fn campaign_answers(
    tx: &mut WriteTx<'_>,
    known: &[(usize, &InboxInfo, String)],
    msgs: &[Inbound],
) -> Result<HashSet<usize>> {
    let mut out = HashSet::new();
    for chunk in known.chunks(CHUNK) {
        let sql = probe(
            &["SELECT MAX(r.sent_at) FROM campaign_recipients r WHERE r.address = k.column1 AND r.inbox_id = k.column2 \
             AND r.state = 'sent' AND r.replied_at IS NULL"],
            chunk.len(),
            &["TEXT", "BIGINT"],
        );
        let params: Vec<Value> =
            chunk.iter().flat_map(|(_, info, a)| [Value::from(a.as_str()), Value::Int(info.inbox.id)]).collect();
        for ((i, _, _), r) in chunk.iter().zip(tx.conn.query(&sql, &params)?) {
            if r.opt_int(0)?.is_some_and(|sent| sent > msgs[*i].at - 7 * 86_400_000) {
                out.insert(*i);
            }
        }
    }
    Ok(out)
}

/// Inserts the planned messages in order; their ids, in the same order.
fn insert_messages(tx: &mut WriteTx<'_>, msgs: &[Inbound], planned: &[Planned]) -> Result<Vec<Message>> {
    let mut out = Vec::with_capacity(planned.len());
    for chunk in planned.chunks(CHUNK) {
        let mut params = Vec::with_capacity(chunk.len() * 9);
        for p in chunk {
            let msg = &msgs[p.index];
            params.extend([
                Value::Int(p.conversation_id),
                Value::Int(p.inbox_id),
                Value::from(p.channel.as_str()),
                Value::from(Direction::Inbound.as_str()),
                Value::from(msg.body.as_str()),
                Value::from(msg.subject.as_deref()),
                Value::from(msg.provider_id.as_deref()),
                Value::Int(msg.at),
            ]);
        }
        let sql = format!(
            "INSERT INTO messages (conversation_id, inbox_id, channel, direction, body, subject, provider_id, created_at, attachments) \
             VALUES {} RETURNING {}",
            vec!["(?, ?, ?, ?, ?, ?, ?, ?, '[]')"; chunk.len()].join(", "),
            MESSAGE_COLUMNS.replace("m.", "")
        );
        out.extend(inserted(tx, &sql, &params, entities::message)?);
    }
    Ok(out)
}

/// Writes each moved conversation's state, targets and place in the queue in one
/// statement a chunk. A column the one-message path would not have written keeps its value.
fn update_conversations(
    tx: &mut WriteTx<'_>,
    moving: &BTreeMap<i64, Moving>,
    policies: &HashMap<(i64, i64), super::directory::Policies>,
) -> Result<Vec<Conversation>> {
    const WIDTH: usize = 15;
    let mut out = Vec::with_capacity(moving.len());
    let moving: Vec<&Moving> = moving.values().collect();
    for chunk in moving.chunks(CHUNK) {
        // The time a conversation joins the queue, then each row's values.
        let mut params = Vec::with_capacity(1 + chunk.len() * WIDTH);
        params.push(Value::Int(tx.now));
        for m in chunk {
            let c = &m.conv;
            let policies = policies.get(&(c.team_id, c.inbox_id));
            let warn = policies.and_then(|p| p.sla.as_ref()).map_or(0, |p| p.warn_before_mins);
            let next = m.dues.next();
            let routes = policies.is_some_and(|p| p.routing.routes());
            // 1: joins the queue now; 2: leaves it; 0: stays where it is.
            let queue = match (crate::routing::belongs_in_queue(c.status, c.assignee_id, routes), c.queued_at) {
                (true, None) => 1,
                (false, Some(_)) => 2,
                _ => 0,
            };
            params.extend([
                Value::Int(c.id),
                Value::from(c.status.as_str()),
                Value::from(c.snoozed_until),
                Value::from(c.waiting_since),
                Value::Int(c.last_activity_at),
                Value::from(c.reply_window_expires_at),
                Value::from(c.preview.as_str()),
                Value::Int(i64::from(m.dues_moved)),
                Value::from(m.dues.first_response),
                Value::from(m.dues.next_response),
                Value::from(m.dues.resolution),
                Value::from(next),
                Value::from(next.map(|d| d - i64::from(warn) * 60_000)),
                Value::from(crate::sla::state(&m.dues, warn, tx.now).as_str()),
                Value::Int(queue),
            ]);
        }
        let row = "(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), \
                   CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), \
                   CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))";
        let sql = format!(
            "UPDATE conversations SET status = v.column2, snoozed_until = v.column3, waiting_since = v.column4, \
             last_activity_at = v.column5, reply_window_expires_at = v.column6, preview = v.column7, updated_by = NULL, \
             first_response_due_at = CASE WHEN v.column8 = 1 THEN v.column9 ELSE first_response_due_at END, \
             next_response_due_at = CASE WHEN v.column8 = 1 THEN v.column10 ELSE next_response_due_at END, \
             resolution_due_at = CASE WHEN v.column8 = 1 THEN v.column11 ELSE resolution_due_at END, \
             sla_next_due = CASE WHEN v.column8 = 1 THEN v.column12 ELSE sla_next_due END, \
             sla_warn_at = CASE WHEN v.column8 = 1 THEN v.column13 ELSE sla_warn_at END, \
             sla_state = CASE WHEN v.column8 = 1 THEN v.column14 ELSE sla_state END, \
             queued_at = CASE v.column15 WHEN 1 THEN CAST(? AS BIGINT) WHEN 2 THEN NULL ELSE queued_at END, \
             returned_from = CASE WHEN v.column15 = 2 THEN NULL ELSE returned_from END, \
             version = version + 1 \
             FROM (VALUES {}) AS v WHERE conversations.id = v.column1 RETURNING {}",
            vec![row; chunk.len()].join(", "),
            CONVERSATION_COLUMNS.replace("c.", "")
        );
        for r in tx.conn.query(&sql, &params)? {
            out.push(entities::conversation(&r)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::directory::NewAgent;
    use crate::store::StoreOptions;
    use switchboard_protocol::admin::CreateInbox;
    use switchboard_protocol::model::{Attachment, Role, RoutingMode, RoutingPolicy, SlaPolicy};

    #[test]
    fn which_messages_take_the_set_path() {
        const NOW: i64 = 1_800_000_000_000;
        let plain_text = Inbound::text(1, "+14155550100", "hello", Some("p1"), NOW);
        type Change = Box<dyn Fn(&mut Inbound)>;
        let cases: Vec<(&str, Change, bool)> = vec![
            ("plain text", Box::new(|_| {}), true),
            ("with a subject", Box::new(|m| m.subject = Some("Order".into())), true),
            ("with no provider id", Box::new(|m| m.provider_id = None), true),
            ("a minute ahead", Box::new(|m| m.at = NOW + 60_000), true),
            ("with a file", Box::new(|m| m.attachments.push(attachment())), false),
            ("answering an email", Box::new(|m| m.thread_refs.push("<a@b>".into())), false),
            ("from an unverified sender", Box::new(|m| m.unverified = Some("no DKIM".into())), false),
            ("of a type the hub cannot show", Box::new(|m| m.unsupported = Some("sticker".into())), false),
            ("a tap on choices", Box::new(|m| m.answer = Some(answer())), false),
            ("with profile fields", Box::new(|m| drop(m.profile.insert("email".into(), "a@b.c".into()))), false),
            ("dated within the settling time", Box::new(|m| m.at = NOW - crate::reports::SETTLE_MS / 2), true),
            ("dated before it", Box::new(|m| m.at = NOW - crate::reports::SETTLE_MS / 2 - 1), false),
        ];
        for (name, change, expected) in cases {
            let mut m = plain_text.clone();
            change(&mut m);
            assert_eq!(plain(&m, NOW), expected, "{name}");
        }
    }

    fn attachment() -> Attachment {
        Attachment { name: "a.png".into(), mime: "image/png".into(), size: 10, url: "https://files.test/a.png".into() }
    }

    fn answer() -> crate::store::ingest::Answer {
        crate::store::ingest::Answer { id: "yes".into(), title: "Yes".into(), to_provider_id: None, to_message: None }
    }

    /// The workspace both stores start from: an SMS and a web-chat inbox in a team that
    /// routes and has response-time targets, and five customers in various states.
    async fn workspace(store: &Store, t0: i64) -> Vec<i64> {
        let team = store.create_team("Support").await.unwrap();
        store
            .create_agent(NewAgent {
                name: "Ana".into(),
                email: "ana@x.test".into(),
                password_hash: "x".into(),
                role: Role::Admin,
                teams: vec![team.id],
                capacity: 5,
            })
            .await
            .unwrap();
        let mut inboxes = Vec::new();
        let auto = serde_json::json!({"auto_reply": {"text": "Thanks, we will be with you soon."}});
        for (kind, address, settings) in [
            (ChannelKind::Sms, "+14155550100", serde_json::json!({})),
            (ChannelKind::Webchat, "widget", serde_json::json!({})),
            (ChannelKind::Webchat, "widget-auto", auto),
        ] {
            let req =
                CreateInbox { kind, name: address.to_string(), team_id: team.id, address: address.into(), settings };
            inboxes.push(store.create_inbox(req).await.unwrap().id);
        }
        let routing = RoutingPolicy { mode: RoutingMode::RoundRobin, ..RoutingPolicy::default() };
        let sla = SlaPolicy {
            calendar: None,
            first_response_mins: Some(60),
            next_response_mins: Some(30),
            resolution_mins: None,
            warn_before_mins: 10,
        };
        let (routing, sla) = (serde_json::to_string(&routing).unwrap(), serde_json::to_string(&sla).unwrap());
        let team_id = team.id;
        store
            .pool()
            .write(move |tx| {
                tx.conn.execute(
                    "UPDATE teams SET routing = ?, sla = ? WHERE id = ?",
                    crate::params![&routing, &sla, team_id],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        for (n, inbox) in [(1, 0), (2, 0), (3, 0), (4, 0), (5, 1)] {
            let msg = Inbound::text(inboxes[inbox], &from(n, inbox), "first", Some(&format!("setup-{n}")), t0 + n);
            one_at_a_time(store, msg).await.unwrap();
        }
        // Customer 2 was answered; customer 3's conversation is snoozed, customer 4's pending.
        store
            .pool()
            .write(move |tx| {
                tx.conn.batch(&format!(
                    "UPDATE conversations SET first_replied_at = {t0}, waiting_since = NULL WHERE id = 2; \
                     UPDATE conversations SET status = 'snoozed', snoozed_until = {} WHERE id = 3; \
                     UPDATE conversations SET status = 'pending', waiting_since = NULL WHERE id = 4",
                    t0 + 86_400_000
                ))?;
                Ok(())
            })
            .await
            .unwrap();
        inboxes
    }

    fn from(n: i64, inbox: usize) -> String {
        if inbox == 0 {
            format!("+1212555{n:04}")
        } else {
            format!("visitor-{n}")
        }
    }

    async fn one_at_a_time(store: &Store, msg: Inbound) -> Result<Ingested> {
        store.pool().write(move |tx| crate::store::ingest::ingest(tx, &msg, None)).await
    }

    /// The batch: known customers writing again (twice, after a reply, waking a snooze), new
    /// customers (by phone, in the chat, one known by phone who is new in the chat), an
    /// opt-out word, a file and then text from one visitor, a retry of a stored message, a
    /// retry within the batch, an inbox that does not exist, a new customer writing twice,
    /// and one whose inbox answers automatically.
    fn batch(inboxes: &[i64], t1: i64) -> Vec<Inbound> {
        let text = |n: i64, inbox: usize, body: &str, pid: &str, dt: i64| {
            Inbound::text(inboxes[inbox], &from(n, inbox), body, Some(pid), t1 + dt)
        };
        let mut with_file = text(5, 1, "see this", "b-5a", 7);
        with_file.attachments.push(attachment());
        let mut nowhere = text(1, 0, "lost", "b-x", 11);
        nowhere.inbox_id = 9_999;
        vec![
            text(1, 0, "again", "b-1a", 1),
            text(2, 0, "after your reply", "b-2", 2),
            text(3, 0, "wake up", "b-3", 3),
            text(1, 0, "and again", "b-1b", 4),
            text(6, 0, "I am new", "b-6", 5),
            text(4, 0, "STOP", "b-4", 6),
            with_file,
            text(5, 1, "did you get it?", "b-5b", 8),
            text(2, 0, "first", "setup-2", 9),
            text(1, 0, "again", "b-1a", 10),
            nowhere,
            text(4, 1, "chat from a pending customer", "b-4c", 12),
            text(7, 1, "a new visitor", "b-7", 13),
            text(8, 0, "new, and twice", "b-8a", 14),
            text(8, 0, "new, and twice again", "b-8b", 15),
            text(9, 2, "new where a reply is automatic", "b-9", 16),
            text(1, 1, "known by phone, new in the chat", "b-1c", 17),
        ]
    }

    /// What a store holds, by content rather than by id: conversations by inbox and
    /// customer address, contacts by name.
    async fn contents(store: &Store) -> serde_json::Value {
        store
            .pool()
            .read(|c| {
                let text = |c: &mut dyn super::super::db::Connection, sql: &str| -> Result<Vec<String>> {
                    Ok(c.query(sql, &[])?.iter().map(|r| format!("{:?}", r.0)).collect())
                };
                let convs = c.query(
                    &format!(
                        "SELECT {CONVERSATION_COLUMNS}, c.queued_at IS NOT NULL, c.sla_next_due, c.sla_warn_at, k.name \
                         FROM conversations c JOIN contacts k ON k.id = c.contact_id"
                    ),
                    &[],
                )?;
                let mut by_address = BTreeMap::new();
                for r in &convs {
                    let conv = entities::conversation(r)?;
                    let key = format!("{}:{}", conv.inbox_id, conv.customer_address);
                    let mut v = serde_json::to_value(&conv).unwrap();
                    for id in ["id", "contact_id", "version", "queued_at"] {
                        v[id] = serde_json::Value::Null;
                    }
                    by_address.insert(key, serde_json::json!([v, r.int(23)?, r.opt_int(24)?, r.opt_int(25)?, r.text(26)?]));
                }
                let msgs = text(
                    c,
                    "SELECT c.inbox_id, c.customer_address, m.direction, m.body, m.provider_id, m.created_at, m.channel \
                     FROM messages m JOIN conversations c ON c.id = m.conversation_id ORDER BY c.inbox_id, c.customer_address, m.id",
                )?;
                let events = text(
                    c,
                    "SELECT c.inbox_id, c.customer_address, e.target, e.due_at FROM sla_events e \
                     JOIN conversations c ON c.id = e.conversation_id ORDER BY 1, 2, 3, 4",
                )?;
                let contacts = text(
                    c,
                    "SELECT k.name, k.profile, i.channel, i.address_kind, i.address, r.contact_id IS NOT NULL FROM contacts k \
                     JOIN identities i ON i.contact_id = k.id LEFT JOIN crm_requests r ON r.contact_id = k.id ORDER BY 1, 3, 5",
                )?;
                let changes = c.query("SELECT kind, payload FROM changes ORDER BY seq", &[])?;
                let mut messages_fed = Vec::new();
                let mut contacts_fed = Vec::new();
                let mut last_fed = BTreeMap::new();
                for r in &changes {
                    let mut change: serde_json::Value = serde_json::from_str(r.text(1)?).unwrap();
                    match change["type"].as_str() {
                        Some("message") => messages_fed.push(change["body"].to_string()),
                        Some("contact") => contacts_fed.push(change["name"].to_string()),
                        Some("conversation") => {
                            let key = format!("{}:{}", change["inbox_id"], change["customer_address"].as_str().unwrap());
                            for id in ["id", "contact_id", "version", "queued_at"] {
                                change[id] = serde_json::Value::Null;
                            }
                            last_fed.insert(key, change);
                        }
                        _ => {}
                    }
                }
                messages_fed.sort();
                contacts_fed.sort();
                Ok(serde_json::json!({
                    "conversations": by_address,
                    "messages": msgs,
                    "sla_events": events,
                    "contacts": contacts,
                    "messages_fed": messages_fed,
                    "contacts_fed": contacts_fed,
                    "conversations_fed": last_fed,
                }))
            })
            .await
            .unwrap()
    }

    /// Ingests `msgs` through the gathering path while the writer is held, so they are
    /// stored as one job.
    async fn gathered(store: &Store, msgs: Vec<Inbound>) -> Vec<Result<Ingested>> {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Mutex::new(held);
        let pool = store.pool().clone();
        let gate = tokio::spawn(async move {
            pool.write(move |_| {
                let _ = held.lock().unwrap().recv();
                Ok(())
            })
            .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut tasks = Vec::new();
        for msg in msgs {
            let store = store.clone();
            tasks.push(tokio::spawn(async move { store.ingest(msg).await }));
            // In this order.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        release.send(()).unwrap();
        gate.await.unwrap().unwrap();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    /// The set path stores what the one-message path stores, message by message.
    async fn the_set_stores_what_one_at_a_time_stores(one: Store, set: Store) {
        let t0 = crate::clock::now_ms() - 3_600_000;
        let inboxes = workspace(&one, t0).await;
        assert_eq!(workspace(&set, t0).await, inboxes);
        let t1 = crate::clock::now_ms() - 60_000;
        let msgs = batch(&inboxes, t1);
        let mut expected = Vec::new();
        for msg in msgs.clone() {
            expected.push(one_at_a_time(&one, msg).await);
        }
        let got = gathered(&set, msgs.clone()).await;
        // Each caller hears what the one-message path answers; a message's id is compared
        // by what it points at.
        for ((msg, e), g) in msgs.iter().zip(&expected).zip(&got) {
            match (e, g) {
                (Ok(e), Ok(g)) => {
                    assert_eq!((e.duplicate, e.new_conversation), (g.duplicate, g.new_conversation), "{}", msg.body);
                    // What each id names: the message's body, its conversation's customer,
                    // the contact's name.
                    let named = |s: &Store, d: Ingested| {
                        let s = s.clone();
                        async move {
                            s.pool()
                                .read(move |c| {
                                    let m = entities::load_message(c, d.message_id)?;
                                    let conv = entities::load_conversation(c, d.conversation_id)?;
                                    let k = entities::load_contacts(c, &[d.contact_id])?;
                                    Ok((m.body, m.conversation_id == conv.id, conv.customer_address, k[0].name.clone()))
                                })
                                .await
                                .unwrap()
                        }
                    };
                    assert_eq!(named(&one, *e).await, named(&set, *g).await, "{}", msg.body);
                }
                (Err(e), Err(g)) => assert_eq!(e.to_string(), g.to_string(), "{}", msg.body),
                _ => panic!("{}: one at a time {e:?}, in a set {g:?}", msg.body),
            }
        }
        // The set went first: the new visitor before the opt-out word that came earlier.
        assert!(got[12].as_ref().unwrap().message_id < got[5].as_ref().unwrap().message_id);
        let (one, set) = (contents(&one).await, contents(&set).await);
        for key in
            ["conversations", "messages", "sla_events", "contacts", "messages_fed", "contacts_fed", "conversations_fed"]
        {
            assert_eq!(one[key], set[key], "{key}");
        }
        // It was worth checking: targets moved, a snooze woke, and a queue was joined.
        assert!(one["sla_events"].as_array().unwrap().len() >= 6, "{}", one["sla_events"]);
        assert!(one.to_string().contains("wake up"));
    }

    #[tokio::test]
    async fn the_set_stores_what_one_at_a_time_stores_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str| {
            let url = format!("sqlite://{}", dir.path().join(name).display());
            Store::open(&url, &StoreOptions::default()).unwrap()
        };
        the_set_stores_what_one_at_a_time_stores(open("one.db"), open("set.db")).await;
    }

    #[tokio::test]
    async fn the_set_stores_what_one_at_a_time_stores_postgres() {
        let (a, b) = (
            switchboard_testkit::pg_schema::Schema::new("sbsetone"),
            switchboard_testkit::pg_schema::Schema::new("sbsetset"),
        );
        let opts = StoreOptions { writers: 1, ..StoreOptions::default() };
        the_set_stores_what_one_at_a_time_stores(
            Store::open(&a.url, &opts).unwrap(),
            Store::open(&b.url, &opts).unwrap(),
        )
        .await;
    }
}
