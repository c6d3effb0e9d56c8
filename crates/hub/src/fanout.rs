//! One feed reader per hub process, fanning committed changes out to every open stream.
//!
//! After each commit (ours, or another hub's announced over PostgreSQL `NOTIFY`) the
//! pump reads the new changes once and broadcasts them; each stream filters them for its
//! agent in memory. A stream that falls behind, or sees a gap, reads from the store.

use crate::store::feed::StoredChange;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Changes in `(after, upto]`, all scopes. `upto` may exceed the last change's `seq`
/// when the pump skipped nothing (the feed head moved with no rows in between).
#[derive(Debug)]
pub struct Batch {
    pub after: i64,
    pub upto: i64,
    pub changes: Vec<StoredChange>,
}

#[derive(Debug, Clone)]
pub struct Fanout {
    tx: broadcast::Sender<Arc<Batch>>,
}

impl Fanout {
    /// Starts the pump on the current runtime.
    pub fn start(store: Store) -> Fanout {
        let (tx, _) = broadcast::channel(1024);
        let sender = tx.clone();
        tokio::spawn(async move { pump(store, sender).await });
        Fanout { tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Batch>> {
        self.tx.subscribe()
    }
}

async fn pump(store: Store, tx: broadcast::Sender<Arc<Batch>>) {
    let mut head = store.head();
    let mut last = *head.borrow_and_update();
    loop {
        if head.changed().await.is_err() {
            return;
        }
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
                    let _ = tx.send(Arc::new(Batch { after: last, upto, changes }));
                    last = upto;
                }
                Err(e) => {
                    tracing::warn!("fan-out cannot read the feed: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }
}
