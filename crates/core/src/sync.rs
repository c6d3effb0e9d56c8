//! The sync engine: bootstrap, then pages of changes, then the live stream, each page
//! applied in one transaction with its cursor; reconnects with backoff and jitter;
//! `cursor_expired` and scope changes bootstrap again without touching the outbox. A
//! second task sends the outbox in order whenever the hub can be reached.

use crate::cache::apply::{self, Applied, NotifyContext, SnapshotIds};
use crate::cache::{meta, Cache};
use crate::client::HubClient;
use crate::error::{CoreError, Result};
use crate::notify::{self, Arrival, Me};
use rand::Rng;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_protocol::console::{Connection, ConsoleEvent, SyncProgress};
use switchboard_protocol::mutation::{MutationBatch, Outcome};
use switchboard_protocol::sync::{Bootstrap, StreamFrame};
use switchboard_protocol::{ApiError, ErrorCode, Id};
use tokio::sync::{broadcast, watch, Notify};

/// Changes asked for per page while catching up.
pub const PAGE: usize = 2_000;
/// Items written per transaction during a bootstrap (progress is reported after each).
pub const CHUNK: usize = 5_000;
/// Mutations sent per request.
pub const BATCH: usize = 100;
/// How long an acknowledged reply waits for its echo from the feed.
pub const ACK_GRACE_MS: i64 = 60_000;
/// A stream silent for this long is presumed dead (the hub sends heartbeats every 15 s).
pub const STREAM_SILENCE: Duration = Duration::from_secs(45);

/// The pause before reconnect attempt `attempt` (1-based): 0.5 s doubling to 30 s, with
/// ±50 % jitter so that many consoles do not return at once.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 500u64.saturating_mul(1 << attempt.saturating_sub(1).min(6)).min(30_000);
    // `jitter` in [0, 1) scales the pause between half and one and a half times.
    let scaled = (base as f64) * (0.5 + jitter.clamp(0.0, 0.999));
    Duration::from_millis(scaled as u64)
}

/// What the engine shares between its tasks and the console's API.
#[derive(Debug)]
pub struct Engine {
    pub cache: Arc<Cache>,
    pub client: HubClient,
    pub events: broadcast::Sender<ConsoleEvent>,
    connection: watch::Sender<Connection>,
    focus: Mutex<Option<Id>>,
    pub outbox_wake: Notify,
    reconnect: Notify,
}

fn is(e: &CoreError, code: ErrorCode) -> bool {
    matches!(e, CoreError::Hub(api) if api.code == code)
}

impl Engine {
    pub fn new(cache: Arc<Cache>, client: HubClient) -> Engine {
        let (events, _) = broadcast::channel(1024);
        let (connection, _) = watch::channel(Connection::Connecting { attempt: 0 });
        Engine {
            cache,
            client,
            events,
            connection,
            focus: Mutex::new(None),
            outbox_wake: Notify::new(),
            reconnect: Notify::new(),
        }
    }

    pub fn connection(&self) -> Connection {
        self.connection.borrow().clone()
    }

    pub fn watch_connection(&self) -> watch::Receiver<Connection> {
        self.connection.subscribe()
    }

    fn set_connection(&self, c: Connection) {
        let changed = *self.connection.borrow() != c;
        if changed {
            self.connection.send_replace(c.clone());
            let _ = self.events.send(ConsoleEvent::Connection { connection: c });
        }
    }

    /// The conversation open in a focused window (no notification for it).
    pub fn set_focus(&self, conversation: Option<Id>) {
        *self.focus.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = conversation;
    }

    /// Skips the current reconnect pause (the user pressed "retry now").
    pub fn reconnect_now(&self) {
        self.reconnect.notify_one();
    }

    fn notify_context(&self, arrival: Arrival) -> Result<NotifyContext> {
        // Before the first bootstrap nobody is signed in, and nothing is announced.
        let me = match self.cache.me() {
            Ok(a) => Some(Me { agent_id: a.id, teams: a.teams }),
            Err(CoreError::SignedOut) => None,
            Err(e) => return Err(e),
        };
        let focused = *self.focus.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(NotifyContext { me, focused, arrival })
    }

    pub(crate) fn emit_applied(&self, applied: &Applied, everything: bool) {
        if everything
            || !applied.conversations.is_empty()
            || !applied.contacts.is_empty()
            || applied.directory
            || applied.canned
        {
            let _ = self.events.send(ConsoleEvent::Changed {
                conversations: applied.conversations.iter().copied().collect(),
                contacts: applied.contacts.iter().copied().collect(),
                directory: applied.directory,
                canned: applied.canned,
                everything,
            });
        }
        for notification in notify::notifications(&applied.announced) {
            let _ = self.events.send(ConsoleEvent::Notify { notification });
        }
    }

    /// Tells the front end that the canned responses changed (the agent's own edit).
    pub(crate) fn canned_touched(&self) {
        let _ = self.events.send(ConsoleEvent::Changed {
            conversations: Vec::new(),
            contacts: Vec::new(),
            directory: false,
            canned: true,
            everything: false,
        });
    }

    /// Tells the front end that these conversations' views changed (the agent's own work).
    pub(crate) fn touched(&self, conversations: impl IntoIterator<Item = Id>) {
        let _ = self.events.send(ConsoleEvent::Changed {
            conversations: conversations.into_iter().collect(),
            contacts: Vec::new(),
            directory: false,
            canned: false,
            everything: false,
        });
    }

    fn progress(&self, done: u64, total: u64, finished: bool) {
        let _ = self.events.send(ConsoleEvent::Progress { progress: SyncProgress { done, total, finished } });
    }

    /// Keeps the cache in sync until the hub refuses the session.
    pub async fn run_sync(self: Arc<Self>) {
        let mut attempt: u32 = 0;
        let mut offline_since: Option<i64> = None;
        loop {
            self.set_connection(Connection::Connecting { attempt });
            let err = self.session(&mut attempt, &mut offline_since).await;
            if is(&err, ErrorCode::Unauthorized) {
                self.set_connection(Connection::SignedOut { reason: err.to_string() });
                return;
            }
            attempt = attempt.saturating_add(1);
            let since = *offline_since.get_or_insert_with(crate::now_ms);
            let pause = backoff(attempt, rand::rng().random::<f64>());
            let retry_at = crate::now_ms() + i64::try_from(pause.as_millis()).unwrap_or(i64::MAX / 2);
            tracing::debug!("sync interrupted ({err}); retrying in {pause:?}");
            self.set_connection(Connection::Offline { since, reason: err.to_string(), retry_at });
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.reconnect.notified() => {}
            }
        }
    }

    /// One connected session: returns the error that ended it.
    async fn session(&self, attempt: &mut u32, offline_since: &mut Option<i64>) -> CoreError {
        let mut cursor = match self.cache.read(|c| meta(c, "cursor")) {
            Ok(Some(c)) => c,
            Ok(None) => match self.bootstrap().await {
                Ok(c) => c,
                Err(e) => return e,
            },
            Err(e) => return e,
        };
        loop {
            match self.catch_up(&cursor).await {
                Ok(c) => cursor = c,
                Err(e) if is(&e, ErrorCode::CursorExpired) || is(&e, ErrorCode::BadCursor) => {
                    match self.bootstrap().await {
                        Ok(c) => {
                            cursor = c;
                            continue;
                        }
                        Err(e) => return e,
                    }
                }
                Err(e) => return e,
            }
            let mut stream = match self.client.stream(&cursor).await {
                Ok(s) => s,
                Err(e) if is(&e, ErrorCode::CursorExpired) => continue,
                Err(e) => return e,
            };
            self.set_connection(Connection::Online);
            *attempt = 0;
            *offline_since = None;
            self.outbox_wake.notify_one();
            loop {
                let frame = match tokio::time::timeout(STREAM_SILENCE, stream.next()).await {
                    Err(_) => return CoreError::Offline("the hub went silent".into()),
                    Ok(Err(e)) => return e,
                    Ok(Ok(f)) => f,
                };
                match frame {
                    StreamFrame::Changes { changes, cursor: next } => {
                        // The cursor is stored with the page; the stream keeps its own place.
                        let applied = match self.apply_page(changes, next.0, Arrival::Live).await {
                            Ok(a) => a,
                            Err(e) => return e,
                        };
                        if applied.rescope {
                            match self.bootstrap().await {
                                Ok(c) => cursor = c,
                                Err(e) => return e,
                            }
                            break;
                        }
                    }
                    StreamFrame::Heartbeat { .. } => {}
                    StreamFrame::Error { error } if error.code == ErrorCode::CursorExpired => {
                        match self.bootstrap().await {
                            Ok(c) => cursor = c,
                            Err(e) => return e,
                        }
                        break;
                    }
                    StreamFrame::Error { error } => return CoreError::Hub(error),
                }
            }
        }
    }

    async fn apply_page(
        &self,
        frames: Vec<switchboard_protocol::sync::ChangeFrame>,
        cursor: String,
        arrival: Arrival,
    ) -> Result<Applied> {
        let ctx = self.notify_context(arrival)?;
        let cache = self.cache.clone();
        let applied =
            tokio::task::spawn_blocking(move || cache.write(|c| apply::apply_page(c, &frames, &cursor, &ctx)))
                .await
                .map_err(|e| CoreError::Protocol(e.to_string()))??;
        self.emit_applied(&applied, false);
        Ok(applied)
    }

    /// Pages of changes until the feed's end; returns the new cursor.
    async fn catch_up(&self, cursor: &str) -> Result<String> {
        let mut cursor = cursor.to_owned();
        loop {
            let page = self.client.changes(&cursor, PAGE).await?;
            let next = page.next.0.clone();
            let applied = self.apply_page(page.changes, next.clone(), Arrival::CatchUp).await?;
            cursor = next;
            if applied.rescope {
                return self.bootstrap().await;
            }
            if !page.has_more {
                return Ok(cursor);
            }
        }
    }

    /// Downloads a snapshot and applies it in chunks, reporting progress; returns its cursor.
    pub async fn bootstrap(&self) -> Result<String> {
        self.progress(0, 0, false);
        let snapshot = self.client.bootstrap().await?;
        let first = self.cache.read(|c| Ok(meta(c, "me_id")?.is_none()))?;
        let ctx = self.notify_context(Arrival::CatchUp)?;
        let cache = self.cache.clone();
        let events = self.events.clone();
        let applied = tokio::task::spawn_blocking(move || apply_bootstrap(&cache, snapshot, first, ctx, &events))
            .await
            .map_err(|e| CoreError::Protocol(e.to_string()))??;
        let cursor =
            self.cache.read(|c| meta(c, "cursor"))?.ok_or(CoreError::Protocol("no cursor after bootstrap".into()))?;
        self.emit_applied(&applied, true);
        Ok(cursor)
    }

    /// Sends the outbox, in order, for as long as the console runs.
    pub async fn run_outbox(self: Arc<Self>) {
        let client_id = match self.cache.client_id() {
            Ok(id) => id,
            Err(e) => {
                tracing::error!("the outbox cannot start: {e}");
                return;
            }
        };
        let mut failures: u32 = 0;
        let mut batch_size = BATCH;
        loop {
            let due = match self.cache.due(crate::now_ms(), batch_size) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!("cannot read the outbox: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if due.is_empty() {
                // Acknowledged replies whose echo never came (the thread left the agent's
                // scope meanwhile) are done with after a minute.
                if let Err(e) = self.cache.prune_acknowledged(crate::now_ms() - ACK_GRACE_MS) {
                    tracing::warn!("cannot prune the outbox: {e}");
                }
                let wait = match self.cache.next_due_at() {
                    Ok(Some(at)) => {
                        Duration::from_millis(u64::try_from(at - crate::now_ms()).unwrap_or(0).clamp(10, 5_000))
                    }
                    _ => Duration::from_secs(5),
                };
                tokio::select! {
                    _ = self.outbox_wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let ids: Vec<Id> = due.iter().map(|d| d.id).collect();
            let by_mutation: HashMap<u64, Id> = due.iter().map(|d| (d.envelope.mutation_id, d.id)).collect();
            let batch = MutationBatch {
                client_id: client_id.clone(),
                mutations: due.into_iter().map(|d| d.envelope).collect(),
            };
            match self.client.mutations(&batch).await {
                Ok(resp) => {
                    failures = 0;
                    batch_size = BATCH;
                    let answers: Vec<(Id, Outcome)> = resp
                        .results
                        .into_iter()
                        .filter_map(|r| by_mutation.get(&r.mutation_id).map(|id| (*id, r.outcome)))
                        .collect();
                    self.settle(&answers);
                    let unanswered: Vec<Id> =
                        ids.into_iter().filter(|id| !answers.iter().any(|(a, _)| a == id)).collect();
                    if !unanswered.is_empty() {
                        let e = ApiError::new(ErrorCode::Internal, "the hub did not answer for this change");
                        self.failed(&unanswered, &e, true, 1);
                    }
                }
                Err(CoreError::Offline(reason)) => {
                    failures = failures.saturating_add(1);
                    self.failed(&ids, &ApiError::new(ErrorCode::Unavailable, reason), false, failures);
                }
                Err(CoreError::Hub(e)) if e.code == ErrorCode::Unauthorized => {
                    self.set_connection(Connection::SignedOut { reason: e.message });
                    return;
                }
                Err(CoreError::Hub(e))
                    if ids.len() > 1 && matches!(e.code, ErrorCode::BadRequest | ErrorCode::PayloadTooLarge) =>
                {
                    // The batch as a whole was refused: send one at a time to find the culprit.
                    batch_size = 1;
                }
                Err(CoreError::Hub(e))
                    if matches!(e.code, ErrorCode::BadRequest | ErrorCode::PayloadTooLarge | ErrorCode::Forbidden) =>
                {
                    let answers: Vec<(Id, Outcome)> =
                        ids.iter().map(|id| (*id, Outcome::Rejected { error: e.clone() })).collect();
                    self.settle(&answers);
                    batch_size = BATCH;
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let api = match e {
                        CoreError::Hub(api) => api,
                        other => other.to_api(),
                    };
                    self.failed(&ids, &api, true, failures);
                }
            }
        }
    }

    fn settle(&self, answers: &[(Id, Outcome)]) {
        match self.cache.settle(answers) {
            Ok((settled, applied)) => {
                let mut touched = applied;
                for s in settled {
                    match s {
                        crate::outbox::Settled::Done(_) => {}
                        crate::outbox::Settled::Stuck(item) | crate::outbox::Settled::Conflict(item) => {
                            touched.conversations.extend(item.conversation_id);
                            let _ = self.events.send(ConsoleEvent::Outbox { item });
                        }
                    }
                }
                self.emit_applied(&touched, false);
            }
            Err(e) => tracing::error!("cannot record the hub's answer: {e}"),
        }
    }

    fn failed(&self, ids: &[Id], error: &ApiError, counts: bool, failures: u32) {
        let pause = backoff(failures, rand::rng().random::<f64>());
        let retry_at = crate::now_ms() + i64::try_from(pause.as_millis()).unwrap_or(i64::MAX / 2);
        match self.cache.attempt_failed(ids, error, counts, retry_at) {
            Ok(stuck) => {
                for item in stuck {
                    let _ = self.events.send(ConsoleEvent::Outbox { item });
                }
            }
            Err(e) => tracing::error!("cannot record a failed send: {e}"),
        }
    }
}

/// Writes a bootstrap: the directory first, then contacts, conversations and messages in
/// chunks (progress after each), then removes what the snapshot no longer holds and
/// stores the cursor. Until that last step the old cursor stays, so an interrupted
/// bootstrap is simply done again. Customer messages new to a cache that had synced before
/// are counted for a summary notification.
fn apply_bootstrap(
    cache: &Cache,
    b: Bootstrap,
    first: bool,
    ctx: NotifyContext,
    events: &broadcast::Sender<ConsoleEvent>,
) -> Result<Applied> {
    let total = (b.agents.len()
        + b.teams.len()
        + b.inboxes.len()
        + b.contacts.len()
        + b.conversations.len()
        + b.messages.len()) as u64;
    let mut done = 0u64;
    let progress = |done: u64, finished: bool| {
        let _ = events.send(ConsoleEvent::Progress { progress: SyncProgress { done, total, finished } });
    };
    let pending = if first { None } else { Some(cache.read(|c| apply::before_applying(c, b.messages.iter()))?) };
    cache.write(|c| {
        apply::set_me(c, &b.me)?;
        for a in &b.agents {
            apply::upsert_agent(c, a)?;
        }
        for t in &b.teams {
            apply::upsert_team(c, t)?;
        }
        for i in &b.inboxes {
            apply::upsert_inbox(c, i)?;
        }
        c.execute("DELETE FROM canned_responses", [])?;
        for r in &b.canned {
            apply::upsert_canned(c, r)?;
        }
        crate::canned::retire_all_confirmed(c)?;
        Ok(())
    })?;
    done += (b.agents.len() + b.teams.len() + b.inboxes.len()) as u64;
    progress(done, false);
    for chunk in b.contacts.chunks(CHUNK) {
        cache.write(|c| chunk.iter().try_for_each(|k| apply::upsert_contact(c, k).map(|_| ())))?;
        done += chunk.len() as u64;
        progress(done, false);
    }
    for chunk in b.conversations.chunks(CHUNK) {
        cache.write(|c| chunk.iter().try_for_each(|v| apply::upsert_conversation(c, v).map(|_| ())))?;
        done += chunk.len() as u64;
        progress(done, false);
    }
    for chunk in b.messages.chunks(CHUNK) {
        cache.write(|c| chunk.iter().try_for_each(|m| apply::upsert_message(c, m).map(|_| ())))?;
        done += chunk.len() as u64;
        progress(done, false);
    }
    let ids = SnapshotIds {
        agents: b.agents.iter().map(|a| a.id).collect(),
        teams: b.teams.iter().map(|t| t.id).collect(),
        inboxes: b.inboxes.iter().map(|i| i.id).collect(),
        contacts: b.contacts.iter().map(|k| k.id).collect(),
        conversations: b.conversations.iter().map(|v| v.id).collect(),
    };
    let announced = cache.write(|c| {
        apply::set_me(c, &b.me)?;
        apply::finish_bootstrap(c, &ids, &b.read_markers, &b.cursor.0)?;
        match pending {
            Some(p) => apply::after_applying(c, p, &ctx),
            None => {
                // A first sync announces nothing, and never will for what it brought.
                let mut st = c.prepare_cached("INSERT OR IGNORE INTO notified (message_id) VALUES (?1)")?;
                for m in b.messages.iter().filter(|m| m.direction == switchboard_protocol::model::Direction::Inbound) {
                    st.execute([m.id])?;
                }
                Ok(Vec::new())
            }
        }
    })?;
    progress(total, true);
    Ok(Applied { announced, count: usize::try_from(total).unwrap_or(usize::MAX), ..Applied::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_cap_with_jitter() {
        assert_eq!(backoff(1, 0.5), Duration::from_millis(500));
        assert_eq!(backoff(2, 0.5), Duration::from_millis(1_000));
        assert_eq!(backoff(3, 0.5), Duration::from_millis(2_000));
        assert_eq!(backoff(20, 0.5), Duration::from_millis(30_000));
        assert_eq!(backoff(1, 0.0), Duration::from_millis(250));
        assert!(backoff(1, 0.999_9) <= Duration::from_millis(750));
        assert_eq!(backoff(0, 0.5), Duration::from_millis(500));
    }
}
