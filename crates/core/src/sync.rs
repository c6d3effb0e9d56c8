//! The sync engine: bootstrap, then pages of changes, then the live stream, each page
//! applied in one transaction with its cursor (and the outbox rows its echoes retire);
//! reconnects with backoff and jitter; `cursor_expired` and scope changes bootstrap again
//! without touching the outbox. The outbox's own sender is [`crate::outbox::sender`].

use crate::bus::Bus;
use crate::cache::apply::{self, Applied, Echo, NotifyContext, SnapshotIds};
use crate::cache::{meta, rows, Cache};
use crate::client::HubClient;
use crate::clock::{backoff, now_ms};
use crate::error::{CoreError, Result};
use crate::notify::{Arrival, Me};
use crate::outbox::reconcile;
use crate::outbox::sender::Sender;
use crate::outbox::staged::Staged;
use crate::outbox::Outbox;
use rand::Rng;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_protocol::console::Connection;
use switchboard_protocol::sync::{Bootstrap, ChangeFrame, StreamFrame};
use switchboard_protocol::{ErrorCode, Id};

/// Changes asked for per page while catching up.
pub const PAGE: usize = 2_000;
/// Items written per transaction during a bootstrap (progress is reported after each).
pub const CHUNK: usize = 5_000;
/// A stream silent for this long is presumed dead (the hub sends heartbeats every 15 s).
pub const STREAM_SILENCE: Duration = Duration::from_secs(45);

/// What the engine shares between its tasks and the console's API.
#[derive(Debug)]
pub struct Engine {
    pub cache: Arc<Cache>,
    pub outbox: Outbox,
    /// The files attached to replies in the outbox.
    pub staged: Staged,
    pub client: HubClient,
    pub bus: Arc<Bus>,
    focus: Mutex<Option<Id>>,
}

fn is(e: &CoreError, code: ErrorCode) -> bool {
    matches!(e, CoreError::Hub(api) if api.code == code)
}

impl Engine {
    /// The engine of the console whose files are in `dir`.
    pub fn new(dir: &std::path::Path, cache: Arc<Cache>, client: HubClient) -> Engine {
        Engine {
            outbox: Outbox::new(cache.clone()),
            staged: Staged::new(dir, cache.clone()),
            cache,
            client,
            bus: Arc::new(Bus::new()),
            focus: Mutex::new(None),
        }
    }

    /// The outbox's sending task, sharing this engine's outbox, client and bus.
    pub fn sender(&self) -> Sender {
        Sender {
            outbox: self.outbox.clone(),
            staged: self.staged.clone(),
            client: self.client.clone(),
            bus: self.bus.clone(),
        }
    }

    /// The conversation open in a focused window (no notification for it).
    pub fn set_focus(&self, conversation: Option<Id>) {
        *self.focus.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = conversation;
    }

    /// Skips the current reconnect pause (the user pressed "retry now").
    pub fn reconnect_now(&self) {
        self.bus.reconnect.notify_one();
    }

    fn notify_context(&self, arrival: Arrival) -> Result<NotifyContext> {
        // Before the first bootstrap nobody is signed in, and nothing is announced.
        let me = match self.cache.read(|c| rows::me(c)) {
            Ok(a) => {
                Some(Me { agent_id: a.id, lead: a.role != switchboard_protocol::model::Role::Agent, teams: a.teams })
            }
            Err(CoreError::SignedOut) => None,
            Err(e) => return Err(e),
        };
        let focused = *self.focus.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let prefs = self.cache.read(|c| rows::preferences(c))?;
        Ok(NotifyContext { me, focused, arrival, prefs, now: now_ms(), local: crate::clock::local_time() })
    }

    /// Keeps the cache in sync until the hub refuses the session.
    pub async fn run_sync(self: Arc<Self>) {
        let mut attempt: u32 = 0;
        let mut offline_since: Option<i64> = None;
        loop {
            self.bus.set_connection(Connection::Connecting { attempt });
            let err = self.session(&mut attempt, &mut offline_since).await;
            if is(&err, ErrorCode::Unauthorized) {
                self.bus.set_connection(Connection::SignedOut { reason: err.to_string() });
                return;
            }
            // Syncing waits for an updated console; the cache stays readable meanwhile.
            if is(&err, ErrorCode::UpgradeRequired) {
                let reason = match &err {
                    CoreError::Hub(e) => e.message.clone(),
                    other => other.to_string(),
                };
                self.bus.set_connection(Connection::UpdateRequired { reason });
                return;
            }
            attempt = attempt.saturating_add(1);
            let since = *offline_since.get_or_insert_with(now_ms);
            let pause = backoff(attempt, rand::rng().random::<f64>());
            let retry_at = now_ms() + i64::try_from(pause.as_millis()).unwrap_or(i64::MAX / 2);
            tracing::debug!("sync interrupted ({err}); retrying in {pause:?}");
            self.bus.set_connection(Connection::Offline { since, reason: err.to_string(), retry_at });
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.bus.reconnect.notified() => {}
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
            self.bus.set_connection(Connection::Online);
            *attempt = 0;
            *offline_since = None;
            self.bus.outbox_wake.notify_one();
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

    async fn apply_page(&self, frames: Vec<ChangeFrame>, cursor: String, arrival: Arrival) -> Result<Applied> {
        let ctx = self.notify_context(arrival)?;
        let cache = self.cache.clone();
        let applied = tokio::task::spawn_blocking(move || cache.write(|c| write_page(c, &frames, &cursor, &ctx)))
            .await
            .map_err(|e| CoreError::Protocol(e.to_string()))??;
        self.bus.emit_applied(&applied, false);
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
        self.bus.progress(0, 0, false);
        let snapshot = self.client.bootstrap().await?;
        let first = self.cache.read(|c| Ok(meta(c, "me_id")?.is_none()))?;
        let ctx = self.notify_context(Arrival::CatchUp)?;
        let cache = self.cache.clone();
        let bus = self.bus.clone();
        let applied = tokio::task::spawn_blocking(move || apply_bootstrap(&cache, snapshot, first, ctx, &bus))
            .await
            .map_err(|e| CoreError::Protocol(e.to_string()))??;
        let cursor =
            self.cache.read(|c| meta(c, "cursor"))?.ok_or(CoreError::Protocol("no cursor after bootstrap".into()))?;
        self.bus.emit_applied(&applied, true);
        Ok(cursor)
    }
}

/// Writes a page of changes with its cursor, and retires the outbox rows its echoes
/// confirm, in the caller's transaction.
pub fn write_page(
    c: &rusqlite::Connection,
    frames: &[ChangeFrame],
    cursor: &str,
    ctx: &NotifyContext,
) -> Result<Applied> {
    let mut applied = apply::apply_page(c, frames, cursor, ctx)?;
    reconcile::retire(c, &std::mem::take(&mut applied.echoes))?;
    Ok(applied)
}

/// Writes a bootstrap: the directory first, then contacts, conversations and messages in
/// chunks (progress after each), then removes what the snapshot no longer holds and
/// stores the cursor. Until that last step the old cursor stays, so an interrupted
/// bootstrap is simply done again. Customer messages new to a cache that had synced before
/// are counted for a summary notification.
fn apply_bootstrap(cache: &Cache, b: Bootstrap, first: bool, ctx: NotifyContext, bus: &Bus) -> Result<Applied> {
    let total = (b.agents.len()
        + b.teams.len()
        + b.inboxes.len()
        + b.contacts.len()
        + b.conversations.len()
        + b.messages.len()) as u64;
    let mut done = 0u64;
    let progress = |done: u64, finished: bool| bus.progress(done, total, finished);
    let pending = if first {
        None
    } else {
        Some(cache.read(|c| apply::before_applying(c, b.messages.iter(), b.conversations.iter()))?)
    };
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
        c.execute("DELETE FROM articles", [])?;
        c.execute("DELETE FROM article_search", [])?;
        for a in &b.articles {
            apply::upsert_article(c, a)?;
        }
        crate::cache::set_meta(c, "public_url", b.public_url.as_deref().unwrap_or(""))?;
        reconcile::retire_after_bootstrap(c)?;
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
        cache.write(|c| {
            for m in chunk {
                apply::upsert_message(c, m)?;
            }
            reconcile::retire(c, &chunk.iter().filter_map(Echo::of_message).collect::<Vec<_>>())
        })?;
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
        apply::set_preferences(c, &b.preferences)?;
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
