//! One feed reader per hub process, fanning committed changes out to every open stream.
//!
//! After each commit (ours, or another hub's announced over PostgreSQL `NOTIFY`) the
//! pump reads the new changes once and broadcasts them; each stream filters them for its
//! agent in memory. The latest batches, up to [`RECENT_BYTES`] of changes, are kept: a
//! stream that opens, falls behind or sees a gap catches up from them when they reach back
//! to its cursor (a hub's consoles moving to the others after it stops, thousands at once,
//! cost the database nothing), and from the store otherwise.

use crate::store::feed::StoredChange;
use crate::store::Store;
use std::collections::VecDeque;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::broadcast;

/// The most change text the latest batches hold (the oldest go first; the newest batch
/// is always kept).
pub const RECENT_BYTES: usize = 32 * 1024 * 1024;

/// Changes in `(after, upto]`, all scopes. `upto` may exceed the last change's `seq`
/// when the pump skipped nothing (the feed head moved with no rows in between).
#[derive(Debug)]
pub struct Batch {
    pub after: i64,
    pub upto: i64,
    pub changes: Vec<StoredChange>,
}

impl Batch {
    fn bytes(&self) -> usize {
        self.changes.iter().map(|c| c.payload.len()).sum()
    }
}

/// The latest batches the pump read, oldest first, following on from `from`.
#[derive(Debug)]
struct Recent {
    from: i64,
    batches: VecDeque<Arc<Batch>>,
    bytes: usize,
    most: usize,
}

impl Recent {
    fn new(from: i64, most: usize) -> Recent {
        Recent { from, batches: VecDeque::new(), bytes: 0, most }
    }

    /// Keeps `batch`, which follows the last one, forgetting the oldest past the bound.
    fn push(&mut self, batch: Arc<Batch>) {
        self.bytes += batch.bytes();
        self.batches.push_back(batch);
        while self.bytes > self.most && self.batches.len() > 1 {
            if let Some(old) = self.batches.pop_front() {
                self.bytes -= old.bytes();
                self.from = old.upto;
            }
        }
    }

    /// The batches holding every change after `cursor`, when they reach back that far
    /// (none when nothing newer has been read yet); `None` when they do not.
    fn since(&self, cursor: i64) -> Option<Vec<Arc<Batch>>> {
        (cursor >= self.from).then(|| self.batches.iter().filter(|b| b.upto > cursor).cloned().collect())
    }
}

#[derive(Debug, Clone)]
pub struct Fanout {
    tx: broadcast::Sender<Arc<Batch>>,
    recent: Arc<RwLock<Recent>>,
}

impl Fanout {
    /// Starts the pump on the current runtime, from the store's head now.
    pub fn start(store: Store) -> Fanout {
        let (tx, _) = broadcast::channel(1024);
        let from = *store.head().borrow();
        let fanout = Fanout { tx, recent: Arc::new(RwLock::new(Recent::new(from, RECENT_BYTES))) };
        let pumping = fanout.clone();
        tokio::spawn(async move { pump(store, from, pumping).await });
        fanout
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Batch>> {
        self.tx.subscribe()
    }

    /// The batches read since `cursor`, oldest first, when this hub still holds every change
    /// after it; `None` when the stream must read from the store.
    pub fn since(&self, cursor: i64) -> Option<Vec<Arc<Batch>>> {
        self.recent.read().unwrap_or_else(PoisonError::into_inner).since(cursor)
    }

    /// Keeps a batch the pump read and sends it to every stream: kept first, so a stream
    /// that subscribed and then reads the kept batches cannot miss it between the two.
    fn publish(&self, batch: Batch) {
        let batch = Arc::new(batch);
        self.recent.write().unwrap_or_else(PoisonError::into_inner).push(batch.clone());
        let _ = self.tx.send(batch);
    }
}

async fn pump(store: Store, from: i64, fanout: Fanout) {
    let mut head = store.head();
    let mut last = from;
    loop {
        // Whatever committed since `from` was read, including before this task began.
        let target = *head.borrow_and_update();
        while last < target {
            match store.changes_after(last, 2_000).await {
                Ok((changes, upto)) => {
                    if upto <= last {
                        break;
                    }
                    let now = crate::clock::now_ms();
                    for c in &changes {
                        crate::metrics::feed_lag(Duration::from_millis(u64::try_from(now - c.created_at).unwrap_or(0)));
                    }
                    fanout.publish(Batch { after: last, upto, changes });
                    last = upto;
                }
                Err(e) => {
                    tracing::warn!("fan-out cannot read the feed: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
        if head.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(after: i64, upto: i64, bytes: usize) -> Arc<Batch> {
        let change = StoredChange {
            seq: upto,
            kind: crate::store::change_kind::ChangeKind::Message,
            entity_id: 1,
            team_id: None,
            prev_team_id: None,
            agent_id: None,
            payload: "x".repeat(bytes),
            created_at: 0,
        };
        Arc::new(Batch { after, upto, changes: vec![change] })
    }

    fn uptos(found: Option<Vec<Arc<Batch>>>) -> Option<Vec<i64>> {
        found.map(|b| b.iter().map(|b| b.upto).collect())
    }

    #[test]
    fn the_latest_batches_serve_cursors_they_reach_back_to() {
        let mut r = Recent::new(10, 100);
        // (cursor, what it is served): nothing read yet serves a cursor at or past the start.
        for (cursor, want) in [(9, None), (10, Some(vec![])), (15, Some(vec![]))] {
            assert_eq!(uptos(r.since(cursor)), want, "cursor {cursor}, empty");
        }
        r.push(batch(10, 12, 40));
        r.push(batch(12, 20, 40));
        for (cursor, want) in
            [(9, None), (10, Some(vec![12, 20])), (11, Some(vec![12, 20])), (12, Some(vec![20])), (20, Some(vec![]))]
        {
            assert_eq!(uptos(r.since(cursor)), want, "cursor {cursor}");
        }
        // Past the bound the oldest goes, and with it the cursors only it reached back to.
        r.push(batch(20, 25, 40));
        assert_eq!((r.from, r.bytes), (12, 80));
        for (cursor, want) in [(11, None), (12, Some(vec![20, 25])), (21, Some(vec![25]))] {
            assert_eq!(uptos(r.since(cursor)), want, "cursor {cursor}, trimmed");
        }
        // A batch bigger than the bound is kept alone.
        r.push(batch(25, 30, 500));
        assert_eq!((r.from, r.batches.len()), (25, 1));
        assert_eq!(uptos(r.since(25)), Some(vec![30]));
    }
}
