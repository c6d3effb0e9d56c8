//! The hub's background work, started and stopped in one place: the delivery worker
//! (replies out to providers), the campaign sender, the media keeper (customers' media
//! fetched once from providers), the sender of chats' unseen replies by email, the CRM worker (lookups and transcripts), moving files
//! earlier versions kept in database rows out to the file store, the router (routing
//! passes when anything moves, and the sweeps for agents gone and customers left
//! unanswered), keeping reports' settled days worked out, and the chores (waking snoozed
//! conversations, forgetting quiet failed-login counters, idle visitors and spent rate
//! windows, pruning the change feed past its retention). Every hub on a database runs them
//! all: each claim and each timer is a conditional update, so it takes effect once. The HTTP edge is [`crate::api`]; [`crate::server`]
//! runs both together.

use crate::clock::{now_ms, DAY};
use crate::config::Config;
use crate::storage::Storage;
use crate::store::Store;
use sha2::Digest;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How often the chores run; the feed is pruned every 240th round (an hour).
const CHORES_EVERY: Duration = Duration::from_secs(15);
const PRUNE_EVERY_ROUNDS: u64 = 240;
/// Rows forgotten per round of each kind (failed-login counters, visitors), so one round
/// stays short.
const PRUNE_PER_ROUND: i64 = 5_000;

/// The running workers; dropping them stops them all at once.
#[derive(Debug)]
pub struct Workers {
    tasks: Vec<JoinHandle<()>>,
    /// The delivery worker and the campaign sender, stopped gently: told to take no more
    /// work, then waited for.
    delivery: Option<JoinHandle<()>>,
    campaigns: Option<JoinHandle<()>>,
    stopping: tokio::sync::watch::Sender<bool>,
    /// How long its sends in flight may take.
    drain: Duration,
}

impl Workers {
    /// Starts every worker on the current runtime; `storage` is where files kept in
    /// database rows by earlier versions are moved to.
    pub fn start(store: &Store, config: &Config, storage: &Storage) -> Workers {
        let (stopping, stop_rx) = tokio::sync::watch::channel(false);
        Workers {
            tasks: vec![
                chores(store.clone(), i64::from(config.retention_days) * DAY, config.visitor_idle_ms()),
                crate::crm::worker::start(store.clone()),
                tokio::spawn(move_legacy_blobs(store.clone(), storage.clone())),
                router(
                    store.clone(),
                    config.presence_grace_ms(),
                    Duration::from_secs(config.routing_sweep_secs.max(1)),
                ),
                tokio::spawn(reports(store.clone(), config.report_time_zone.clone())),
                crate::channels::email_fallback::start(
                    store.clone(),
                    Duration::from_millis(config.delivery_timeout_ms.max(1)),
                    stop_rx.clone(),
                ),
                crate::channels::bot_hook::start(store.clone(), config, stop_rx.clone()),
                crate::channels::keep_media::start(
                    store.clone(),
                    storage.clone(),
                    config.max_media_bytes,
                    Duration::from_millis(config.delivery_timeout_ms.max(1)),
                    stop_rx.clone(),
                ),
            ],
            campaigns: Some(crate::channels::bulk::start(store.clone(), config, storage.clone(), stop_rx.clone())),
            delivery: Some(crate::channels::deliver::start(store.clone(), config, storage.clone(), stop_rx)),
            stopping,
            drain: Duration::from_millis(config.delivery_timeout_ms.max(1)) + Duration::from_secs(2),
        }
    }

    /// Stops every worker. The delivery worker takes no new reply and finishes the sends in
    /// flight (each ends within `delivery_timeout_ms`), so a reply is never cut off halfway
    /// and left for agents to wonder about; the others stop at once (their work is picked
    /// up again by the next hub to start).
    pub async fn stop(mut self) {
        self.stopping.send_replace(true);
        for (what, worker) in [("replies", self.delivery.take()), ("campaign messages", self.campaigns.take())] {
            let Some(worker) = worker else { continue };
            let abort = worker.abort_handle();
            if tokio::time::timeout(self.drain, worker).await.is_err() {
                tracing::warn!("{what} were still being sent at shutdown; they are checked at the next start");
                abort.abort();
            }
        }
        self.abort();
    }

    fn abort(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        for d in [self.delivery.take(), self.campaigns.take()].into_iter().flatten() {
            d.abort();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.abort();
    }
}

/// How often the days reports sum are worked out: a day settles minutes after midnight.
const REPORTS_EVERY: Duration = Duration::from_secs(600);

/// Keeps the settled days of the last year worked out, shortly after start and then every
/// [`REPORTS_EVERY`], so a lead's report never waits on them. Several hubs may do it at
/// once: a day is kept once.
async fn reports(store: Store, time_zone: String) {
    tokio::time::sleep(Duration::from_secs(5)).await;
    loop {
        match store.keep_reports_ready(&time_zone).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("reports: {n} days worked out"),
            Err(e) => tracing::warn!("reports' days cannot be worked out: {e}"),
        }
        tokio::time::sleep(REPORTS_EVERY).await;
    }
}

/// Moves files that earlier versions kept in database rows (base64) out to the file store,
/// a few at a time, until none is left. A file written whose row was not yet updated is
/// written again under a new key next time; its first copy is never named.
pub async fn move_legacy_blobs(store: Store, storage: Storage) {
    loop {
        let batch = match store.legacy_blobs(20).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("files kept in the database cannot be listed: {e}");
                return;
            }
        };
        if batch.is_empty() {
            return;
        }
        for blob in batch {
            let key = crate::storage::new_key();
            if let Err(e) = storage.put(&key, &blob.data).await {
                tracing::error!("a file kept in the database cannot be moved to the file store: {e}");
                return;
            }
            let digest = hex::encode(sha2::Sha256::digest(&blob.data));
            match store.legacy_blob_moved(blob.id, key.clone(), digest).await {
                Ok(true) => {}
                // Another hub moved it first; this copy is never named.
                Ok(false) => {
                    let _ = storage.remove(&key).await;
                }
                Err(e) => {
                    tracing::warn!("a moved file cannot be recorded: {e}");
                    return;
                }
            }
        }
    }
}

/// Runs a routing pass whenever the feed moves (a conversation opened, an agent came online
/// or freed a slot), and every `sweep`: sets agents offline whose consoles are gone and
/// returns conversations left unanswered to the queue. Passes never overlap in one hub,
/// and take turns with other hubs' through the database.
fn router(store: Store, grace_ms: i64, sweep: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut head = store.head();
        let mut every = tokio::time::interval(sweep);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = head.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    head.borrow_and_update();
                }
                _ = every.tick() => {
                    if let Err(e) = store.sweep_presence(grace_ms).await {
                        tracing::warn!("setting departed agents offline failed: {e}");
                    }
                    if let Err(e) = store.return_silent().await {
                        tracing::warn!("returning unanswered conversations to the queue failed: {e}");
                    }
                    if let Err(e) = store.sweep_sla().await {
                        tracing::warn!("marking response-time targets at risk or missed failed: {e}");
                    }
                }
            }
            if let Err(e) = store.route_queue().await {
                tracing::warn!("a routing pass failed: {e}");
            }
            // Under a burst the feed moves with every commit: passes a moment apart each
            // place everything that arrived meanwhile, instead of one pass per arrival
            // competing with the arrivals for the database.
            tokio::time::sleep(PASS_GAP).await;
        }
    })
}

/// The least time between two routing passes of one hub.
const PASS_GAP: Duration = Duration::from_millis(15);

/// Wakes snoozed conversations when their time comes, forgets quiet failed-login
/// counters and idle visitors, and prunes the change feed.
fn chores(store: Store, retention_ms: i64, visitor_idle_ms: i64) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CHORES_EVERY);
        let mut rounds: u64 = 0;
        loop {
            every.tick().await;
            if let Err(e) = store.wake_snoozed(now_ms()).await {
                tracing::warn!("waking snoozed conversations failed: {e}");
            }
            if let Err(e) = store.prune_login_failures(PRUNE_PER_ROUND).await {
                tracing::warn!("forgetting failed-login counters failed: {e}");
            }
            if let Err(e) = store.prune_visitors(visitor_idle_ms, PRUNE_PER_ROUND).await {
                tracing::warn!("forgetting idle visitors failed: {e}");
            }
            // The longest window is a day; a window two days old counts nothing.
            if let Err(e) = store.prune_rate_windows(now_ms() - 2 * DAY, PRUNE_PER_ROUND).await {
                tracing::warn!("forgetting spent rate windows failed: {e}");
            }
            if rounds % PRUNE_EVERY_ROUNDS == 0 {
                if let Err(e) = store.prune_older_than(retention_ms).await {
                    tracing::warn!("pruning the change feed failed: {e}");
                }
            }
            rounds += 1;
        }
    })
}
