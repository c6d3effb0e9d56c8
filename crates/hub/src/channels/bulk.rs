//! The campaign sender: starts campaigns whose time has come, takes each sending inbox's
//! lease (one hub sends for an inbox at a time, so its provider's rate holds across hubs),
//! claims recipients a moment's worth at a time, marks each few `sending` just before
//! handing them to the provider at the inbox's pace ([`crate::campaign::Pacer`]), and
//! records the outcomes in batches. A hub stopping gives its leases up; one killed loses
//! them when they lapse, and the next holder sends what it had claimed and not begun.

use super::deliver::{after_failure, Courier};
use super::SendError;
use crate::campaign::{after_interruption, Interrupted, Pacer};
use crate::config::Config;
use crate::storage::Storage;
use crate::store::campaigns::{BulkOutcome, BulkSend};
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinHandle;

/// How long a lease holds without being renewed.
const LEASE_MS: i64 = 5_000;
/// How often a sender renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// How often the sender looks for campaigns to start and inboxes to send for.
const LOOK_EVERY: Duration = Duration::from_millis(250);
/// Sends one inbox has in flight at once.
const IN_FLIGHT: usize = 256;
/// How often sends a stopped hub left are settled and finished campaigns closed.
const SETTLE_EVERY_MS: i64 = 2_000;
/// How often outcomes are written.
const RECORD_EVERY: Duration = Duration::from_millis(50);

/// Starts the sender on the current runtime; it ends once `stopping` turns true, its
/// sends in flight finished and its leases given up.
pub fn start(store: Store, config: &Config, storage: Storage, stopping: watch::Receiver<bool>) -> JoinHandle<()> {
    let timeout = Duration::from_millis(config.delivery_timeout_ms.max(1));
    let base_ms = config.delivery_retry_base_ms;
    let max = config.delivery_max_attempts.max(1);
    let confirm_ms = i64::try_from(config.campaign_confirm_ms).unwrap_or(i64::MAX / 4);
    let public_url = config.public_url.clone();
    tokio::spawn(async move {
        let Some(courier) = Courier::start(&store, timeout, public_url, storage, "campaign sender").await else {
            return;
        };
        let holder = holder_id();
        let grace = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX / 4).saturating_mul(2).saturating_add(1_000);
        let ctx = Arc::new(Ctx { store: store.clone(), courier, holder, base_ms, max, confirm_ms });
        let mut senders: HashMap<i64, JoinHandle<()>> = HashMap::new();
        let mut stopping = stopping;
        let mut settled_at = i64::MIN / 2;
        loop {
            if *stopping.borrow() {
                break;
            }
            let now = crate::clock::now_ms();
            if let Err(e) = store.start_due_campaigns(now).await {
                tracing::warn!("campaigns due cannot be started: {e}");
            }
            if now - settled_at >= SETTLE_EVERY_MS {
                settled_at = now;
                match store.settle_campaigns(now - grace, confirm_ms).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!("{n} campaign messages were being sent when a hub stopped; settled"),
                    Err(e) => tracing::warn!("campaigns cannot be settled: {e}"),
                }
            }
            senders.retain(|_, h| !h.is_finished());
            match store.sending_inboxes().await {
                Ok(inboxes) => {
                    for (inbox, rate) in inboxes {
                        if rate == 0 || senders.contains_key(&inbox) {
                            continue;
                        }
                        let until = now + LEASE_MS;
                        match store.take_sender_lease(inbox, ctx.holder.clone(), now, until).await {
                            Ok(true) => {
                                let ctx = ctx.clone();
                                let stop = stopping.clone();
                                senders.insert(inbox, tokio::spawn(send_for(ctx, inbox, rate, stop)));
                            }
                            Ok(false) => {}
                            Err(e) => tracing::warn!("inbox {inbox}'s sender lease cannot be taken: {e}"),
                        }
                    }
                }
                Err(e) => tracing::warn!("running campaigns cannot be read: {e}"),
            }
            tokio::select! {
                _ = stopping.changed() => {}
                _ = tokio::time::sleep(LOOK_EVERY) => {}
            }
        }
        for (_, h) in senders {
            let _ = h.await;
        }
    })
}

/// This process's name in leases and claims.
fn holder_id() -> String {
    let mut bytes = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    format!("hub-{}-{}", std::process::id(), hex::encode(bytes))
}

struct Ctx {
    store: Store,
    courier: Courier,
    holder: String,
    base_ms: u64,
    max: u32,
    /// How long a send the provider may have taken waits for its report.
    confirm_ms: i64,
}

/// Sends for one inbox while this hub holds its lease and it has a running campaign: a
/// feeder claims recipients ahead and marks each few `sending` (committed) before passing
/// them on; the pacer hands them to the provider no faster than the inbox's rate. A
/// recipient marked sending is always sent, even when the hub is stopping.
async fn send_for(ctx: Arc<Ctx>, inbox: i64, rate: u32, stopping: watch::Receiver<bool>) {
    let clock = Instant::now();
    let micros = move || i64::try_from(clock.elapsed().as_micros()).unwrap_or(i64::MAX);
    let mut pacer = Pacer::new(rate, micros());
    // A fiftieth of a second's worth marked at a time, one more marked ahead.
    let chunk = usize::try_from(rate / 50).unwrap_or(1).clamp(1, 200);
    let (ready_tx, mut ready_rx) = mpsc::channel::<BulkSend>(chunk * 2);
    let feeding = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let feeder = tokio::spawn(feed(ctx.clone(), inbox, chunk, ready_tx, feeding.clone()));
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let recorder = tokio::spawn(record(ctx.store.clone(), done_rx));
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut renewed = Instant::now();
    loop {
        if feeding.load(std::sync::atomic::Ordering::Relaxed) && *stopping.borrow() {
            feeding.store(false, std::sync::atomic::Ordering::Relaxed);
        }
        if feeding.load(std::sync::atomic::Ordering::Relaxed) && renewed.elapsed() >= RENEW_EVERY {
            let now = crate::clock::now_ms();
            match ctx.store.take_sender_lease(inbox, ctx.holder.clone(), now, now + LEASE_MS).await {
                Ok(true) => renewed = Instant::now(),
                Ok(false) => {
                    tracing::warn!("inbox {inbox}'s sender lease went to another hub");
                    feeding.store(false, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => tracing::warn!("inbox {inbox}'s sender lease cannot be renewed: {e}"),
            }
        }
        let next = tokio::select! {
            next = ready_rx.recv() => next,
            () = tokio::time::sleep(LOOK_EVERY) => continue,
        };
        // The feeder ended (nothing left, the lease lost, or stopping) and all it marked is sent.
        let Some(send) = next else { break };
        while !pacer.take(micros()) {
            let wait = (pacer.next_at(micros()) - micros()).clamp(50, 20_000);
            tokio::time::sleep(Duration::from_micros(u64::try_from(wait).unwrap_or(1_000))).await;
        }
        let Ok(permit) = slots.clone().acquire_owned().await else { break };
        let ctx = ctx.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            let outcome = one(&ctx, &send).await;
            let _ = done.send((send.campaign_id, send.row, outcome));
            drop(permit);
        });
    }
    let _ = feeder.await;
    let _ = slots.acquire_many(u32::try_from(IN_FLIGHT).unwrap_or(u32::MAX)).await;
    drop(done_tx);
    let _ = recorder.await;
    // Whatever was claimed and not marked goes back in line for the next holder.
    if let Err(e) = ctx.store.release_sender_lease(inbox, ctx.holder.clone()).await {
        tracing::warn!("inbox {inbox}'s sender lease cannot be given up: {e}");
    }
}

/// Claims recipients ahead, marks them `sending` a chunk at a time and passes them to the
/// pacer, while `feeding` holds and there is anything to send.
async fn feed(
    ctx: Arc<Ctx>,
    inbox: i64,
    chunk: usize,
    ready: mpsc::Sender<BulkSend>,
    feeding: Arc<std::sync::atomic::AtomicBool>,
) {
    let batch = (chunk * 10).min(500);
    let mut claimed: std::collections::VecDeque<BulkSend> = std::collections::VecDeque::new();
    let mut idle_rounds = 0;
    while feeding.load(std::sync::atomic::Ordering::Relaxed) {
        if claimed.len() < chunk {
            match ctx.store.claim_recipients(inbox, ctx.holder.clone(), crate::clock::now_ms(), batch).await {
                Ok(more) => claimed.extend(more),
                Err(e) => tracing::warn!("campaign recipients of inbox {inbox} cannot be claimed: {e}"),
            }
        }
        if claimed.is_empty() {
            idle_rounds += 1;
            // Nothing due: recipients waiting for their hours, or the campaigns ended.
            if idle_rounds > 20 {
                break;
            }
            tokio::time::sleep(LOOK_EVERY).await;
            continue;
        }
        idle_rounds = 0;
        let take = claimed.len().min(chunk);
        let sends: Vec<BulkSend> = claimed.drain(..take).collect();
        let keys = sends.iter().map(|s| (s.campaign_id, s.row)).collect();
        let ours = match ctx.store.mark_sending(ctx.holder.clone(), keys, crate::clock::now_ms()).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!("campaign sends of inbox {inbox} cannot be marked: {e}");
                claimed.extend(sends);
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        for send in sends.into_iter().filter(|s| ours.contains(&(s.campaign_id, s.row))) {
            if ready.send(send).await.is_err() {
                return;
            }
        }
    }
}

/// Hands one recipient's message over and says what became of it.
async fn one(ctx: &Ctx, send: &BulkSend) -> BulkOutcome {
    match ctx.courier.hand_over(&send.out).await {
        Ok(provider_id) => {
            if super::settings::Settings::from_json(&send.out.settings).is_ok_and(|s| s.simulated()) {
                // The demo's stand-in for the provider's delivery report.
                let (store, inbox, id) = (ctx.store.clone(), send.out.inbox_id, provider_id.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(1_500)).await;
                    let _ = store
                        .delivery_report(inbox, id, switchboard_protocol::model::Delivery::Delivered, None, None)
                        .await;
                });
            }
            BulkOutcome::Sent { provider_id }
        }
        // The provider may have it: its report decides, as for a send a hub left mid-call.
        Err(SendError::Unsure(reason)) => {
            let callbacks = send.out.settings.get("status_callback_url").and_then(serde_json::Value::as_str).is_some();
            match after_interruption(send.out.channel, callbacks, crate::clock::now_ms(), ctx.confirm_ms) {
                Interrupted::AwaitReport { until } => BulkOutcome::Unsure { reason, until },
                Interrupted::Fail => {
                    BulkOutcome::Failed { reason: format!("{reason}; it may not have reached the customer") }
                }
            }
        }
        Err(err) => {
            let attempts = u32::try_from(send.attempts).unwrap_or(u32::MAX);
            let retry_at = after_failure(&err, attempts, ctx.max, ctx.base_ms, crate::clock::now_ms());
            let reason = err.reason().to_owned();
            match retry_at {
                Some(at) => BulkOutcome::Retry { reason, at },
                None => BulkOutcome::Failed { reason },
            }
        }
    }
}

/// Writes outcomes as they come, a batch at a time.
async fn record(store: Store, mut done: mpsc::UnboundedReceiver<(i64, i64, BulkOutcome)>) {
    let mut open = true;
    while open {
        let mut batch = Vec::new();
        match done.recv().await {
            Some(o) => batch.push(o),
            None => break,
        }
        tokio::time::sleep(RECORD_EVERY).await;
        loop {
            match done.try_recv() {
                Ok(o) => batch.push(o),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        // A write that fails is tried again: an outcome lost would leave its recipient
        // `sending`, failed at the next settling though it was sent.
        for attempt in 1..=5 {
            match store.record_bulk(batch.clone()).await {
                Ok(()) => break,
                Err(e) if attempt == 5 => tracing::error!("campaign outcomes cannot be recorded: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(200 * attempt)).await,
            }
        }
    }
}
