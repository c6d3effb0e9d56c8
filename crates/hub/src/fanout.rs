//! One feed reader per hub process, fanning committed changes out to the open streams
//! that may see them.
//!
//! After each commit (ours, or another hub's announced over PostgreSQL `NOTIFY`) the
//! pump reads the new changes once and hands each batch to the streams whose agent may see
//! something in it, found by team and by agent ([`Registry::interested`]); each filters
//! the batch for its agent in memory. A stream of one team is never woken by the others'
//! traffic: with thousands of streams, waking every one for every batch cost more than
//! the rest of the hub's work. The latest batches, up to [`RECENT_BYTES`] of changes, are kept: a
//! stream that opens, falls behind or sees a gap catches up from them when they reach back
//! to its cursor (a hub's consoles moving to the others after it stops, thousands at once,
//! cost the database nothing), and from the store otherwise.

use crate::policy::Viewer;
use crate::store::feed::StoredChange;
use crate::store::Store;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Batches a stream may have waiting; past it the stream is marked lagged and catches up
/// from the latest batches instead.
const WAITING_PER_STREAM: usize = 256;

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
    index: Index,
}

/// Where in a batch's changes those of each team (shown to it, or removed from it), of
/// each agent alone, and of everyone are, so a stream reads only its own.
#[derive(Debug, Default)]
struct Index {
    by_team: HashMap<i64, Vec<usize>>,
    by_agent: HashMap<i64, Vec<usize>>,
    everyone: Vec<usize>,
}

impl Batch {
    pub fn new(after: i64, upto: i64, changes: Vec<StoredChange>) -> Batch {
        let mut index = Index::default();
        for (i, c) in changes.iter().enumerate() {
            match (c.agent_id, c.team_id) {
                (Some(agent), _) => index.by_agent.entry(agent).or_default().push(i),
                (None, None) => index.everyone.push(i),
                (None, Some(team)) => {
                    index.by_team.entry(team).or_default().push(i);
                    if let Some(prev) = c.prev_team_id.filter(|p| *p != team) {
                        index.by_team.entry(prev).or_default().push(i);
                    }
                }
            }
        }
        Batch { after, upto, changes, index }
    }

    fn bytes(&self) -> usize {
        self.changes.iter().map(|c| c.payload.len()).sum()
    }

    /// The changes `v` may see something of, in feed order: every one
    /// [`crate::store::feed::visibility`] shows or removes for them, and perhaps a few
    /// more, never fewer. An admin's are all of them.
    pub fn for_viewer(&self, v: &Viewer) -> Vec<&StoredChange> {
        if v.is_admin() {
            return self.changes.iter().collect();
        }
        let ix = &self.index;
        let mut at: Vec<usize> = ix.everyone.clone();
        at.extend(ix.by_agent.get(&v.agent_id).into_iter().flatten());
        for t in &v.teams {
            at.extend(ix.by_team.get(t).into_iter().flatten());
        }
        at.sort_unstable();
        at.dedup();
        at.into_iter().map(|i| &self.changes[i]).collect()
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

/// What a stream may see, as the registry files it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    agent: i64,
    admin: bool,
    teams: Vec<i64>,
}

impl Scope {
    fn of(v: &Viewer) -> Scope {
        Scope { agent: v.agent_id, admin: v.is_admin(), teams: v.teams.clone() }
    }
}

#[derive(Debug)]
struct Entry {
    tx: mpsc::Sender<Arc<Batch>>,
    lagged: Arc<AtomicBool>,
    scope: Scope,
}

/// The open streams, filed by what they may see.
#[derive(Debug, Default)]
struct Registry {
    streams: HashMap<u64, Entry>,
    by_team: HashMap<i64, HashSet<u64>>,
    by_agent: HashMap<i64, HashSet<u64>>,
    admins: HashSet<u64>,
}

impl Registry {
    fn file(&mut self, id: u64, scope: &Scope) {
        self.by_agent.entry(scope.agent).or_default().insert(id);
        if scope.admin {
            self.admins.insert(id);
        }
        for t in &scope.teams {
            self.by_team.entry(*t).or_default().insert(id);
        }
    }

    fn unfile(&mut self, id: u64, scope: &Scope) {
        let drop_from = |map: &mut HashMap<i64, HashSet<u64>>, key: i64| {
            if let Some(ids) = map.get_mut(&key) {
                ids.remove(&id);
                if ids.is_empty() {
                    map.remove(&key);
                }
            }
        };
        drop_from(&mut self.by_agent, scope.agent);
        for t in &scope.teams {
            drop_from(&mut self.by_team, *t);
        }
        self.admins.remove(&id);
    }

    /// The streams that may see something of `batch`: every stream a change is shown to or
    /// removed from by [`crate::store::feed::visibility`], and perhaps a few more (each
    /// filters for itself), never fewer.
    fn interested(&self, batch: &Batch) -> HashSet<u64> {
        let ix = &batch.index;
        if !ix.everyone.is_empty() {
            return self.streams.keys().copied().collect();
        }
        let mut ids = HashSet::new();
        let mut add = |found: Option<&HashSet<u64>>| ids.extend(found.into_iter().flatten().copied());
        for agent in ix.by_agent.keys() {
            add(self.by_agent.get(agent));
        }
        if !ix.by_team.is_empty() {
            add(Some(&self.admins));
        }
        for team in ix.by_team.keys() {
            add(self.by_team.get(team));
        }
        ids
    }
}

/// One stream's place in the fan-out: the batches it may see something of, in order, until
/// dropped.
#[derive(Debug)]
pub struct Subscription {
    id: u64,
    rx: mpsc::Receiver<Arc<Batch>>,
    lagged: Arc<AtomicBool>,
    fanout: Fanout,
}

impl Subscription {
    /// The next batch for this stream; `None` once the fan-out has stopped.
    pub async fn recv(&mut self) -> Option<Arc<Batch>> {
        self.rx.recv().await
    }

    /// A batch already waiting, if any.
    pub fn try_recv(&mut self) -> Option<Arc<Batch>> {
        self.rx.try_recv().ok()
    }

    /// Whether batches for it were dropped since the last call (it had too many waiting):
    /// it must catch up from its cursor.
    pub fn take_lagged(&self) -> bool {
        self.lagged.swap(false, Ordering::AcqRel)
    }

    /// Files the stream under what `viewer` may see now; whether that changed. Batches
    /// handed out before were chosen by its earlier scope: when it changed, the stream
    /// catches up from its cursor after this.
    pub fn rescope(&self, viewer: &Viewer) -> bool {
        let mut reg = self.fanout.registry.lock().unwrap_or_else(PoisonError::into_inner);
        let scope = Scope::of(viewer);
        let old = match reg.streams.get_mut(&self.id) {
            Some(e) if e.scope != scope => std::mem::replace(&mut e.scope, scope.clone()),
            _ => return false,
        };
        reg.unfile(self.id, &old);
        reg.file(self.id, &scope);
        true
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut reg = self.fanout.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = reg.streams.remove(&self.id) {
            reg.unfile(self.id, &e.scope);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fanout {
    tx: broadcast::Sender<Arc<Batch>>,
    recent: Arc<RwLock<Recent>>,
    registry: Arc<Mutex<Registry>>,
    next_id: Arc<AtomicU64>,
    /// The `upto` of the last batch handed out: every batch up to it that a stream may
    /// see something of is already waiting for it.
    published: Arc<AtomicI64>,
}

impl Fanout {
    /// Starts the pump on the current runtime, from the store's head now.
    pub fn start(store: Store) -> Fanout {
        let (tx, _) = broadcast::channel(1024);
        let from = *store.head().borrow();
        let fanout = Fanout {
            tx,
            recent: Arc::new(RwLock::new(Recent::new(from, RECENT_BYTES))),
            registry: Arc::default(),
            next_id: Arc::default(),
            published: Arc::new(AtomicI64::new(from)),
        };
        let pumping = fanout.clone();
        tokio::spawn(async move { pump(store, from, pumping).await });
        fanout
    }

    /// Every batch, for a reader of the whole feed (visitors' sockets are routed by thread
    /// from it).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Batch>> {
        self.tx.subscribe()
    }

    /// A stream's subscription: the batches `viewer` may see something of, from the next
    /// one handed out.
    pub fn register(&self, viewer: &Viewer) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(WAITING_PER_STREAM);
        let lagged = Arc::new(AtomicBool::new(false));
        let scope = Scope::of(viewer);
        let mut reg = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        reg.file(id, &scope);
        reg.streams.insert(id, Entry { tx, lagged: lagged.clone(), scope });
        Subscription { id, rx, lagged, fanout: self.clone() }
    }

    /// The `upto` of the last batch handed out. Read before taking what waits, a stream
    /// may move its cursor here once it has: nothing before it was for the stream.
    pub fn published(&self) -> i64 {
        self.published.load(Ordering::Acquire)
    }

    /// The batches read since `cursor`, oldest first, when this hub still holds every change
    /// after it; `None` when the stream must read from the store.
    pub fn since(&self, cursor: i64) -> Option<Vec<Arc<Batch>>> {
        self.recent.read().unwrap_or_else(PoisonError::into_inner).since(cursor)
    }

    /// Keeps a batch the pump read and hands it to the streams that may see something of
    /// it: kept first, so a stream that registered (or changed its scope) and then reads
    /// the kept batches cannot miss it between the two.
    fn publish(&self, batch: Batch) {
        let batch = Arc::new(batch);
        self.recent.write().unwrap_or_else(PoisonError::into_inner).push(batch.clone());
        {
            let reg = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
            for id in reg.interested(&batch) {
                if let Some(e) = reg.streams.get(&id) {
                    if let Err(mpsc::error::TrySendError::Full(_)) = e.tx.try_send(batch.clone()) {
                        e.lagged.store(true, Ordering::Release);
                    }
                }
            }
        }
        self.published.store(batch.upto, Ordering::Release);
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
                    fanout.publish(Batch::new(last, upto, changes));
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
        Arc::new(Batch::new(after, upto, vec![change]))
    }

    fn change(seq: i64, agent: Option<i64>, team: Option<i64>, prev: Option<i64>) -> StoredChange {
        StoredChange {
            seq,
            kind: crate::store::change_kind::ChangeKind::Conversation,
            entity_id: 1,
            team_id: team,
            prev_team_id: prev,
            agent_id: agent,
            payload: String::new(),
            created_at: 0,
        }
    }

    #[test]
    fn a_batch_goes_to_the_streams_of_its_teams_and_agents_and_to_admins() {
        let mut reg = Registry::default();
        // (stream, agent, admin, teams)
        for (id, agent, admin, teams) in
            [(1, 10, false, vec![1]), (2, 11, false, vec![1, 2]), (3, 12, false, vec![3]), (4, 13, true, vec![])]
        {
            let (tx, _) = mpsc::channel(1);
            let scope = Scope { agent, admin, teams };
            reg.file(id, &scope);
            reg.streams.insert(id, Entry { tx, lagged: Arc::default(), scope });
        }
        fn to(reg: &Registry, changes: Vec<StoredChange>) -> Vec<u64> {
            let mut ids: Vec<u64> = reg.interested(&Batch::new(0, 9, changes)).into_iter().collect();
            ids.sort_unstable();
            ids
        }
        // (changes, the streams they go to)
        let cases: Vec<(Vec<StoredChange>, Vec<u64>)> = vec![
            (vec![], vec![]),
            (vec![change(1, None, Some(1), None)], vec![1, 2, 4]),
            (vec![change(1, None, Some(2), None)], vec![2, 4]),
            (vec![change(1, None, Some(9), None)], vec![4]),
            (vec![change(1, None, Some(3), Some(1))], vec![1, 2, 3, 4]),
            (vec![change(1, Some(12), None, None)], vec![3]),
            (vec![change(1, Some(12), Some(1), None)], vec![3]),
            (vec![change(1, None, None, None)], vec![1, 2, 3, 4]),
            (vec![change(1, Some(10), None, None), change(2, None, Some(3), None)], vec![1, 3, 4]),
        ];
        for (changes, want) in cases {
            let label = format!("{changes:?}");
            assert_eq!(to(&reg, changes), want, "{label}");
        }
        // A stream filed again under new teams leaves the old ones.
        let scope = Scope { agent: 12, admin: false, teams: vec![1] };
        let old = std::mem::replace(&mut reg.streams.get_mut(&3).unwrap().scope, scope.clone());
        reg.unfile(3, &old);
        reg.file(3, &scope);
        assert_eq!(to(&reg, vec![change(1, None, Some(3), None)]), vec![4]);
        assert_eq!(to(&reg, vec![change(1, None, Some(1), None)]), vec![1, 2, 3, 4]);
    }

    #[test]
    fn a_viewer_reads_every_change_it_may_see_of_a_batch_in_order() {
        use crate::store::change_kind::ChangeKind;
        use crate::store::feed::{visibility, Visibility};
        use switchboard_protocol::model::Role;
        // Every combination of who a change is for, its team and its team before.
        let mut changes = Vec::new();
        for agent in [None, Some(10), Some(11)] {
            for team in [None, Some(1), Some(2), Some(3)] {
                for prev in [None, Some(1), Some(2)] {
                    for kind in [ChangeKind::Conversation, ChangeKind::Message] {
                        let seq = i64::try_from(changes.len()).unwrap() + 1;
                        changes.push(StoredChange { kind, ..change(seq, agent, team, prev) });
                    }
                }
            }
        }
        let batch = Batch::new(0, i64::try_from(changes.len()).unwrap(), changes);
        let viewers = [
            Viewer { agent_id: 10, role: Role::Agent, teams: vec![1] },
            Viewer { agent_id: 11, role: Role::Lead, teams: vec![2, 3] },
            Viewer { agent_id: 12, role: Role::Agent, teams: vec![] },
            Viewer { agent_id: 13, role: Role::Admin, teams: vec![] },
        ];
        for v in &viewers {
            let read: Vec<i64> = batch.for_viewer(v).iter().map(|c| c.seq).collect();
            assert!(read.windows(2).all(|w| w[0] < w[1]), "in feed order, once each");
            for c in &batch.changes {
                if visibility(v, c) != Visibility::Hidden {
                    assert!(read.contains(&c.seq), "viewer {} misses {c:?}", v.agent_id);
                }
            }
            let shown = batch.changes.iter().filter(|c| visibility(v, c) != Visibility::Hidden).count();
            assert!(read.len() < batch.changes.len() || v.is_admin(), "viewer {} reads only some", v.agent_id);
            assert!(read.len() >= shown);
        }
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
