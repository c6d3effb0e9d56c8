//! Connection threads for one database: readers that answer queries on consistent
//! snapshots, and writers that group concurrent writes into one transaction each.
//!
//! Group commit is how the hub keeps thousands of ingests per second on SQLite: a writer
//! takes every job waiting (up to [`MAX_BATCH`]), runs each in its own savepoint so one
//! failure does not spoil the others, allocates the feed's `seq` numbers for all the
//! changes at the end, and commits once. The `seq` row is locked by that `UPDATE`, so
//! transactions commit in `seq` order on both engines and a reader of the feed never sees
//! change 101 before change 100 has committed.
//!
//! Every queue is bounded: when the database falls behind (slow, locked, gone), a job
//! that finds its queue full fails at once as `unavailable` (`503`) instead of waiting in
//! memory without end, so a flood costs bounded memory and callers hear it quickly.

use super::db::{Connection, DbError, Engine, Value};

use super::change_kind::ChangeKind;
use super::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

/// The most jobs one write transaction takes.
pub const MAX_BATCH: usize = 256;

/// Opens a new connection; called again after a connection is lost.
pub type Connect = Arc<dyn Fn() -> Result<Box<dyn Connection>, DbError> + Send + Sync>;

type ReadJob = Box<dyn FnOnce(Result<&mut dyn Connection, DbError>) + Send>;

/// A change a write job records; it gets its `seq` when the batch commits.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub kind: ChangeKind,
    pub entity_id: i64,
    /// The team whose members may see it; `None` for everyone.
    pub team_id: Option<i64>,
    /// The team that could see it before this change, when that differs.
    pub prev_team_id: Option<i64>,
    /// Only this agent may see it.
    pub agent_id: Option<i64>,
    /// The serialised `Change`.
    pub payload: String,
}

/// A write transaction as a write job sees it: the connection, the clock of the batch,
/// and the changes it emits for the feed.
pub struct WriteTx<'a> {
    pub conn: &'a mut dyn Connection,
    pub now: i64,
    /// The request the job was made for ([`crate::trace`]), if any.
    pub request_id: Option<String>,
    changes: &'a mut Vec<NewChange>,
}

impl std::fmt::Debug for WriteTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx").field("now", &self.now).finish_non_exhaustive()
    }
}

impl WriteTx<'_> {
    pub fn emit(&mut self, change: NewChange) {
        self.changes.push(change);
    }

    /// Runs `f` in a savepoint of its own inside the job: when it fails, its writes and
    /// the changes it emitted are undone and the rest of the job's are kept. A lost race
    /// (a unique violation) is run once more, as the pool does with a whole job.
    pub fn apart<T>(&mut self, f: impl FnMut(&mut WriteTx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.savepoint(None, f)
    }

    /// Runs `f` as [`WriteTx::apart`] does, each of its statements planned once whatever
    /// its values ([`super::db::Plans`]): for work that reads and writes only by key.
    pub fn apart_by_key<T>(
        &mut self,
        f: impl FnMut(&mut WriteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let plans = self.conn.plans_once();
        self.savepoint(plans, f)
    }

    /// Runs `f` in the savepoint `apart`, switching its plans as `plans` says.
    fn savepoint<T>(
        &mut self,
        plans: Option<super::db::Plans>,
        mut f: impl FnMut(&mut WriteTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (open, release) = match plans {
            Some(p) => (format!("SAVEPOINT apart; {}", p.once), format!("RELEASE SAVEPOINT apart; {}", p.by_values)),
            None => ("SAVEPOINT apart".to_owned(), "RELEASE SAVEPOINT apart".to_owned()),
        };
        let mut again = true;
        loop {
            let mark = self.changes.len();
            self.conn.batch(&open)?;
            match f(self) {
                Ok(v) => {
                    self.conn.batch(&release)?;
                    return Ok(v);
                }
                Err(e) => {
                    // Rolling back to the savepoint also undoes the change of plans.
                    self.conn.batch("ROLLBACK TO SAVEPOINT apart; RELEASE SAVEPOINT apart")?;
                    self.changes.truncate(mark);
                    if std::mem::take(&mut again) && matches!(e, StoreError::Db(DbError::Unique(_))) {
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }
}

/// What to do with a job that just failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Its failure is final (or it succeeded).
    No,
    /// It lost a race to a transaction that has committed: run it again now.
    Now,
    /// It was chosen as a deadlock victim: let this transaction commit (releasing the
    /// locks the other one waits for) and run it in the next one.
    NextBatch,
}

/// How many times a deadlocked job is carried to a later batch before it fails.
const MAX_DEFERRALS: u32 = 5;

trait WriteJob: Send {
    /// Runs the job; `true` if it succeeded and its writes should be kept.
    fn run(&mut self, tx: &mut WriteTx<'_>) -> bool;
    /// What to do after the failure just reported.
    fn retry(&mut self) -> Retry;
    /// Delivers the result once the transaction is over.
    fn finish(self: Box<Self>, committed: Result<(), DbError>);
    /// When it was queued, and the request it was made for.
    fn origin(&self) -> (Instant, Option<String>);
}

struct Pending<T, F, R> {
    f: F,
    queued: Instant,
    request_id: Option<String>,
    deferrals: u32,
    result: Option<Result<T, StoreError>>,
    /// Hears the result once the transaction is over.
    reply: R,
}

impl<T, F, R> Pending<T, F, R> {
    /// A job made now, for the request the current task serves.
    fn new(f: F, reply: R) -> Box<Self> {
        Box::new(Pending {
            f,
            queued: Instant::now(),
            request_id: crate::trace::current(),
            deferrals: 0,
            result: None,
            reply,
        })
    }
}

impl<T, F, R> WriteJob for Pending<T, F, R>
where
    T: Send,
    F: FnMut(&mut WriteTx<'_>) -> Result<T, StoreError> + Send,
    R: FnOnce(Result<T, StoreError>) + Send,
{
    fn origin(&self) -> (Instant, Option<String>) {
        (self.queued, self.request_id.clone())
    }

    fn run(&mut self, tx: &mut WriteTx<'_>) -> bool {
        let r = (self.f)(tx);
        let ok = r.is_ok();
        self.result = Some(r);
        ok
    }

    fn retry(&mut self) -> Retry {
        match &self.result {
            Some(Err(StoreError::Db(DbError::Unique(_)))) => Retry::Now,
            Some(Err(StoreError::Db(DbError::Transient(_)))) if self.deferrals < MAX_DEFERRALS => {
                self.deferrals += 1;
                Retry::NextBatch
            }
            _ => Retry::No,
        }
    }

    fn finish(self: Box<Self>, committed: Result<(), DbError>) {
        let out = match (committed, self.result) {
            (Err(e), _) => Err(StoreError::Db(e)),
            (Ok(()), Some(r)) => r,
            (Ok(()), None) => Err(StoreError::Db(DbError::Other("write job never ran".into()))),
        };
        (self.reply)(out);
    }
}

/// The threads serving one database.
#[derive(Clone)]
pub struct Pool {
    engine: Engine,
    reads: flume::Sender<ReadJob>,
    /// One queue per writer thread; jobs with the same key go to the same writer, so
    /// writes to one customer or conversation never contend with each other.
    writes: Arc<Vec<flume::Sender<Box<dyn WriteJob>>>>,
    /// A writer of its own for jobs that take a lock other hubs wait on (routing passes),
    /// so the lock is held for their own transaction only, never for a batch of others'
    /// writes; `None` with one writer (SQLite), where nothing else waits.
    apart: Option<flume::Sender<Box<dyn WriteJob>>>,
    head: watch::Sender<i64>,
    heard: Arc<Heard>,
}

/// When the database last finished a round trip for any of the pool's connections: a read
/// transaction ended or a write transaction committed.
#[derive(Debug)]
struct Heard {
    since: Instant,
    /// Milliseconds after `since`; 0 until the first.
    last_ms: AtomicU64,
}

impl Heard {
    fn new() -> Heard {
        Heard { since: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn now(&self) {
        let ms = u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX).max(1);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    fn within(&self, d: Duration) -> bool {
        let last = self.last_ms.load(Ordering::Relaxed);
        last > 0 && self.since.elapsed().saturating_sub(Duration::from_millis(last)) <= d
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("engine", &self.engine).finish_non_exhaustive()
    }
}

impl Pool {
    /// Starts `readers` reader threads and `writers` writer threads. `head` is the feed's
    /// current head; it is advanced after every commit that added changes, and each commit
    /// is announced on the PostgreSQL channel `notify` when there is one.
    pub fn start(
        engine: Engine,
        connect: Connect,
        readers: usize,
        writers: usize,
        queue: usize,
        head: i64,
        notify: Option<String>,
    ) -> Pool {
        let queue = queue.max(1);
        let (read_tx, read_rx) = flume::bounded::<ReadJob>(queue);
        let (head_tx, _) = watch::channel(head);
        let heard = Arc::new(Heard::new());
        for i in 0..readers.max(1) {
            let rx = read_rx.clone();
            let (connect, heard) = (connect.clone(), heard.clone());
            spawn_thread(format!("db-read-{i}"), move || read_loop(&rx, &connect, &heard));
        }
        let writer = |name: String| {
            let (tx, rx) = flume::bounded::<Box<dyn WriteJob>>(queue);
            let (connect, heard) = (connect.clone(), heard.clone());
            let head = head_tx.clone();
            let notify = notify.clone();
            spawn_thread(name, move || write_loop(&rx, &connect, &head, notify.as_deref(), &heard));
            tx
        };
        let write_txs: Vec<_> = (0..writers.max(1)).map(|i| writer(format!("db-write-{i}"))).collect();
        let apart = (writers > 1).then(|| writer("db-write-apart".into()));
        Pool { engine, reads: read_tx, writes: Arc::new(write_txs), apart, head: head_tx, heard }
    }

    /// Whether the database finished a round trip for one of the pool's connections within
    /// `d`: it answers, whatever waits in the pool's queues.
    pub fn answered_within(&self, d: Duration) -> bool {
        self.heard.within(d)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The feed's head as last committed by this process (or announced by another hub).
    pub fn head(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// A handle that raises the known head (for commits announced by other hub processes)
    /// without keeping the pool's threads, and their connections, alive.
    pub fn head_raiser(&self) -> HeadRaiser {
        HeadRaiser { head: self.head.clone(), pool: Arc::downgrade(&self.writes) }
    }

    /// Runs `f` on a reader connection inside one read-only snapshot transaction.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let queued = Instant::now();
        let job: ReadJob = Box::new(move |conn| {
            crate::metrics::db_wait("read", queued.elapsed());
            let _ = tx.send(conn.map_err(StoreError::Db).and_then(f));
        });
        self.reads.try_send(job).map_err(|e| refused("read", e))?;
        rx.await.map_err(|_| closed())?
    }

    /// Runs `f` inside a write transaction shared with other waiting jobs. `f` may be run
    /// more than once if it meets a lost race (a unique violation, a deadlock); its
    /// result is delivered after the transaction committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_keyed(0, f).await
    }

    /// [`Pool::write`] on the writer that owns `key` (a customer, a conversation), so
    /// writes to one of them never contend across writers.
    pub async fn write_keyed<T, F>(&self, key: u64, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.write_keyed_then(key, f, move |r| {
            let _ = tx.send(r);
        })?;
        rx.await.map_err(|_| closed())?
    }

    /// Queues `f` as [`Pool::write_keyed`] does, and hands its result to `then` on the
    /// writer's thread once the transaction is over, whether or not anyone still waits
    /// for it. An error here means the job was not queued, and `then` is never called.
    pub fn write_keyed_then<T, F, R>(&self, key: u64, f: F, then: R) -> Result<(), StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteTx<'_>) -> Result<T, StoreError> + Send + 'static,
        R: FnOnce(Result<T, StoreError>) + Send + 'static,
    {
        let lane = usize::try_from(key % self.writes.len().max(1) as u64).unwrap_or(0);
        self.writes.get(lane).ok_or_else(closed)?.try_send(Pending::new(f, then)).map_err(|e| refused("write", e))
    }
}

impl Pool {
    /// [`Pool::write`] on the writer kept apart for jobs that hold a lock other hubs wait
    /// on: such a job never shares its transaction with other writes.
    pub async fn write_apart<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteTx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let Some(lane) = &self.apart else { return self.write(f).await };
        let (tx, rx) = oneshot::channel();
        let reply = move |r| {
            let _ = tx.send(r);
        };
        lane.try_send(Pending::new(f, reply)).map_err(|e| refused("write", e))?;
        rx.await.map_err(|_| closed())?
    }
}

/// See [`Pool::head_raiser`].
#[derive(Debug, Clone)]
pub struct HeadRaiser {
    head: watch::Sender<i64>,
    pool: Weak<Vec<flume::Sender<Box<dyn WriteJob>>>>,
}

impl HeadRaiser {
    /// Raises the known head to `seq`.
    pub fn advance(&self, seq: i64) {
        advance(&self.head, seq);
    }

    /// Whether the pool is still open: false once every handle to its store is dropped.
    pub fn pool_open(&self) -> bool {
        self.pool.strong_count() > 0
    }
}

/// A job its queue would not take: full (the database is behind) or closed.
fn refused<T>(pool: &'static str, e: flume::TrySendError<T>) -> StoreError {
    match e {
        flume::TrySendError::Full(_) => busy(pool),
        flume::TrySendError::Disconnected(_) => closed(),
    }
}

/// Work refused because too much already waits for the database; counted on `pool`.
pub(super) fn busy(pool: &'static str) -> StoreError {
    crate::metrics::db_refused(pool);
    StoreError::Db(DbError::Unavailable("the database is busy: too many requests are waiting".into()))
}

/// Work that can no longer run: the database threads have stopped.
pub(super) fn closed() -> StoreError {
    StoreError::Db(DbError::Unavailable("the database threads have stopped".into()))
}

fn advance(head: &watch::Sender<i64>, seq: i64) {
    head.send_if_modified(|h| {
        if seq > *h {
            *h = seq;
            true
        } else {
            false
        }
    });
}

fn spawn_thread(name: String, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.clone()).spawn(f) {
        tracing::error!("cannot start thread {name}: {e}");
    }
}

/// Keeps one connection, reopening it (with a pause) after it is lost.
struct Slot<'a> {
    connect: &'a Connect,
    conn: Option<Box<dyn Connection>>,
}

impl Slot<'_> {
    fn get(&mut self) -> Result<&mut Box<dyn Connection>, DbError> {
        if self.conn.is_none() {
            match (self.connect)() {
                Ok(c) => self.conn = Some(c),
                Err(e) => {
                    std::thread::sleep(Duration::from_millis(200));
                    return Err(e);
                }
            }
        }
        self.conn.as_mut().ok_or_else(|| DbError::Unavailable("no connection".into()))
    }

    fn failed(&mut self, e: &DbError) {
        if matches!(e, DbError::Unavailable(_)) {
            self.conn = None;
        }
    }
}

fn read_loop(rx: &flume::Receiver<ReadJob>, connect: &Connect, heard: &Heard) {
    let mut slot = Slot { connect, conn: None };
    while let Ok(job) = rx.recv() {
        let conn = match slot.get() {
            Ok(c) => c,
            Err(e) => {
                job(Err(e));
                continue;
            }
        };
        if let Err(e) = conn.begin_read() {
            slot.failed(&e);
            job(Err(e));
            continue;
        }
        job(Ok(conn.as_mut()));
        match conn.batch("ROLLBACK") {
            Ok(()) => heard.now(),
            Err(e) => slot.failed(&e),
        }
    }
}

fn write_loop(
    rx: &flume::Receiver<Box<dyn WriteJob>>,
    connect: &Connect,
    head: &watch::Sender<i64>,
    notify: Option<&str>,
    heard: &Heard,
) {
    let mut slot = Slot { connect, conn: None };
    let mut carried: Vec<Box<dyn WriteJob>> = Vec::new();
    loop {
        let mut batch = std::mem::take(&mut carried);
        if batch.is_empty() {
            match rx.recv() {
                Ok(job) => batch.push(job),
                Err(_) => return,
            }
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = match slot.get() {
            Ok(conn) => run_batch(conn.as_mut(), &mut batch, notify),
            Err(e) => Err(e),
        };
        match outcome {
            Ok((new_head, deferred)) => {
                heard.now();
                if let Some(seq) = new_head {
                    advance(head, seq);
                }
                for (i, job) in batch.into_iter().enumerate() {
                    if deferred.contains(&i) {
                        carried.push(job);
                    } else {
                        job.finish(Ok(()));
                    }
                }
            }
            Err(e) => {
                tracing::warn!("write transaction failed: {e}");
                if let Ok(conn) = slot.get() {
                    let _ = conn.batch("ROLLBACK");
                }
                slot.failed(&e);
                batch.into_iter().for_each(|job| job.finish(Err(e.clone())));
            }
        }
    }
}

/// Runs one batch in one transaction. Returns the new feed head if changes were added,
/// and the positions of jobs to run again in the next batch.
fn run_batch(
    conn: &mut dyn Connection,
    batch: &mut [Box<dyn WriteJob>],
    notify: Option<&str>,
) -> Result<(Option<i64>, Vec<usize>), DbError> {
    let now = crate::clock::now_ms();
    let mut changes = Vec::new();
    let mut deferred = Vec::new();
    // Each job runs in the savepoint `job`, so its failure undoes only its own writes. One
    // round trip a job: a success releases its savepoint and opens the next job's at once; a
    // failure rolls back to it, which leaves it open for the retry or the next job. The
    // first is opened with the transaction, and the last job's is left to end with it.
    conn.begin_write_then("SAVEPOINT job")?;
    let last = batch.len().saturating_sub(1);
    let mut lost_a_deadlock = false;
    for (i, job) in batch.iter_mut().enumerate() {
        // A deadlock's victim still holds the locks its earlier jobs took, and the winner
        // waits for them: the jobs left would meet the same cycle again, each after the
        // server's deadlock timeout. They run in the next transaction, once this one has
        // committed and let the winner through.
        if lost_a_deadlock {
            deferred.push(i);
            continue;
        }
        let (queued, request_id) = job.origin();
        crate::metrics::db_wait("write", queued.elapsed());
        for attempt in 0..3 {
            let mark = changes.len();
            let ok =
                job.run(&mut WriteTx { conn: &mut *conn, now, request_id: request_id.clone(), changes: &mut changes });
            if ok {
                if i != last {
                    conn.batch("RELEASE SAVEPOINT job; SAVEPOINT job")?;
                }
                break;
            }
            conn.batch("ROLLBACK TO SAVEPOINT job")?;
            changes.truncate(mark);
            match job.retry() {
                Retry::Now if attempt < 2 => continue,
                Retry::NextBatch => {
                    deferred.push(i);
                    lost_a_deadlock = true;
                }
                _ => {}
            }
            break;
        }
    }
    let head = if changes.is_empty() { None } else { Some(publish(conn, &changes, now, notify)?) };
    conn.batch("COMMIT")?;
    Ok((head, deferred))
}

/// Takes the next `seq` numbers (locking the head row until commit) and stores the changes.
/// With a PostgreSQL channel, taking the numbers, storing the first [`CHANGES_AT_ONCE`]
/// changes and the announcement are one statement: the head row is locked until commit, so
/// every round trip saved there shortens the one stretch all writers take in turn.
fn publish(conn: &mut dyn Connection, changes: &[NewChange], now: i64, notify: Option<&str>) -> Result<i64, DbError> {
    let n = changes.len();
    let (first, rest) = changes.split_at(n.min(CHANGES_AT_ONCE));
    let (end, rest) = match notify {
        Some(channel) => {
            let (sql, params) = publish_statement(first, n, now, channel);
            (conn.query_int(&sql, &params)?, rest)
        }
        None => {
            let end = conn
                .query_int("UPDATE feed_head SET seq = seq + ? WHERE id = 1 RETURNING seq", &[Value::Int(n as i64)])?;
            (end, changes)
        }
    };
    // The changes already stored took the first numbers after the old head.
    let mut seq = end - rest.len() as i64;
    for chunk in rest.chunks(CHANGES_AT_ONCE) {
        let mut sql = String::from(INSERT_CHANGES);
        let mut params = Vec::with_capacity(chunk.len() * 8);
        for (i, c) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(?, ?, ?, ?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?, ?, ?, ?)" });
            seq += 1;
            params.push(Value::Int(seq));
            params.extend(change_values(c, now));
        }
        conn.execute(&sql, &params)?;
    }
    Ok(end)
}

/// Changes stored by one statement.
const CHANGES_AT_ONCE: usize = 100;

const INSERT_CHANGES: &str =
    "INSERT INTO changes (seq, kind, entity_id, team_id, prev_team_id, agent_id, payload, created_at) VALUES ";

/// A change's columns after `seq`.
fn change_values(c: &NewChange, now: i64) -> [Value; 7] {
    [
        Value::from(c.kind),
        Value::Int(c.entity_id),
        Value::from(c.team_id),
        Value::from(c.prev_team_id),
        Value::from(c.agent_id),
        Value::Text(c.payload.clone()),
        Value::Int(now),
    ]
}

/// PostgreSQL's one statement for [`publish`]: raises the head by `total`, stores `first`
/// (the first changes of the `total`) under the numbers just taken, announces the new head
/// on `channel`, and returns it. The numbers are written as literals, so the statement's
/// text depends only on the counts.
fn publish_statement(first: &[NewChange], total: usize, now: i64, channel: &str) -> (String, Vec<Value>) {
    let mut sql = format!(
        "WITH head AS (UPDATE feed_head SET seq = seq + {total} WHERE id = 1 RETURNING seq), \
         stored AS ({INSERT_CHANGES}"
    );
    let mut params = Vec::with_capacity(first.len() * 7 + 1);
    for (i, c) in first.iter().enumerate() {
        let below = total - 1 - i;
        sql.push_str(&format!(
            "{}((SELECT seq FROM head) - {below}, ?, ?, ?, ?, ?, ?, ?)",
            if i == 0 { "" } else { ", " }
        ));
        params.extend(change_values(c, now));
    }
    sql.push_str(") SELECT seq FROM head, (SELECT pg_notify(?, CAST((SELECT seq FROM head) AS TEXT))) AS announced");
    params.push(Value::from(channel));
    (sql, params)
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, StoreError, StoreOptions};

    /// A transaction's changes take the next numbers in the order it made them, however
    /// many statements store them, and the feed's head moves to the last; a job undone in the
    /// same batch publishes nothing.
    async fn changes_take_the_next_numbers_in_the_order_made(store: Store) {
        let pool = store.pool().clone();
        let change = |n: i64| super::NewChange {
            kind: crate::store::change_kind::ChangeKind::Team,
            entity_id: n,
            team_id: None,
            prev_team_id: None,
            agent_id: None,
            payload: format!("{{\"n\":{n}}}"),
        };
        let start = *store.head().borrow();
        // Sizes on both sides of the statement boundary, the last one across several.
        let mut made = 0_i64;
        for (round, size) in [1_i64, 99, 100, 101, 250].into_iter().enumerate() {
            let (release, gate) = hold_writer(&pool).await;
            let keep = move |tx: &mut super::WriteTx<'_>| -> Result<(), StoreError> {
                (made + 1..=made + size).for_each(|n| tx.emit(change(n)));
                Ok(())
            };
            let undo = move |tx: &mut super::WriteTx<'_>| -> Result<(), StoreError> {
                tx.emit(change(-1));
                Err(StoreError::BadRequest("undone".into()))
            };
            // The batch's last job is the undone one in some rounds, the kept one in others.
            let (keep, undone) = if round % 2 == 0 {
                let keep = queue_write(&pool, keep);
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                (keep, queue_write(&pool, undo))
            } else {
                let undone = queue_write(&pool, undo);
                tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                (queue_write(&pool, keep), undone)
            };
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            release.send(()).unwrap();
            gate.await.unwrap();
            keep.await.unwrap().unwrap();
            assert!(undone.await.unwrap().is_err());
            made += size;
        }
        let (stored, head) = store.changes_after(start, 10_000).await.unwrap();
        let seqs: Vec<i64> = stored.iter().map(|c| c.seq).collect();
        let entities: Vec<i64> = stored.iter().map(|c| c.entity_id).collect();
        assert_eq!(seqs, (start + 1..=start + made).collect::<Vec<_>>());
        assert_eq!(entities, (1..=made).collect::<Vec<_>>());
        assert_eq!(head, start + made);
        assert_eq!(*store.head().borrow(), start + made);
    }

    #[tokio::test]
    async fn changes_take_the_next_numbers_in_the_order_made_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hub.db").display());
        changes_take_the_next_numbers_in_the_order_made(Store::open(&url, &StoreOptions::default()).unwrap()).await;
    }

    #[tokio::test]
    async fn changes_take_the_next_numbers_in_the_order_made_postgres() {
        let schema = switchboard_testkit::pg_schema::Schema::new("sbpoolnumbers");
        let opts = StoreOptions { writers: 1, ..StoreOptions::default() };
        changes_take_the_next_numbers_in_the_order_made(Store::open(&schema.url, &opts).unwrap()).await;
    }

    /// Jobs that share one transaction, some failing between others: each failure undoes
    /// only its own writes, the others' are kept, and every caller hears its own outcome.
    async fn failures_in_a_batch_spoil_nothing_else(store: Store) {
        let pool = store.pool().clone();
        pool.write(|tx| Ok(tx.conn.batch("CREATE TABLE batch_rows (n BIGINT PRIMARY KEY)")?)).await.unwrap();
        // The writer is held until every job below is queued, so they run as one batch.
        let (release, gate) = hold_writer(&pool).await;
        let jobs: Vec<_> = (1..=9_i64)
            .map(|n| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    pool.write(move |tx| {
                        tx.conn.execute("INSERT INTO batch_rows (n) VALUES (?)", &[n.into()])?;
                        // Every third job fails after writing; the one after it must still
                        // keep its own row.
                        if n % 3 == 2 {
                            return Err(StoreError::BadRequest(format!("job {n} fails")));
                        }
                        Ok(n)
                    })
                    .await
                })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        release.send(()).unwrap();
        gate.await.unwrap();
        for (n, job) in (1..=9_i64).zip(jobs) {
            match job.await.unwrap() {
                Ok(got) => assert!(n % 3 != 2 && got == n, "job {n} answered {got}"),
                Err(e) => assert!(n % 3 == 2 && e.to_string().contains(&format!("job {n} fails")), "job {n}: {e}"),
            }
        }
        assert_eq!(numbers(&pool, "SELECT n FROM batch_rows ORDER BY n").await, vec![1, 3, 4, 6, 7, 9]);
    }

    #[tokio::test]
    async fn failures_in_a_batch_spoil_nothing_else_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hub.db").display());
        failures_in_a_batch_spoil_nothing_else(Store::open(&url, &StoreOptions::default()).unwrap()).await;
    }

    #[tokio::test]
    async fn failures_in_a_batch_spoil_nothing_else_postgres() {
        let schema = switchboard_testkit::pg_schema::Schema::new("sbpool");
        let opts = StoreOptions { writers: 1, ..StoreOptions::default() };
        failures_in_a_batch_spoil_nothing_else(Store::open(&schema.url, &opts).unwrap()).await;
    }

    /// Work apart by key runs on one plan per statement where the engine has a choice, and
    /// leaves the transaction planning by values again, whether the work is kept or undone.
    async fn work_by_key_plans_once_and_leaves_the_rest_as_it_was(store: Store) {
        let pool = store.pool().clone();
        let postgres = pool.write(|tx| Ok(tx.conn.plans_once().is_some())).await.unwrap();
        let mode = move |tx: &mut super::WriteTx<'_>| -> Result<String, StoreError> {
            if !postgres {
                return Ok("none".into());
            }
            Ok(tx.conn.query_one("SELECT current_setting('plan_cache_mode')", &[])?.text(0)?.to_owned())
        };
        let seen = pool
            .write(move |tx| {
                let inside = tx.apart_by_key(|tx| mode(tx))?;
                let after_kept = mode(tx)?;
                let failed = tx.apart_by_key(|tx| -> Result<(), StoreError> {
                    assert_eq!(mode(tx)?, if postgres { "force_generic_plan" } else { "none" });
                    Err(StoreError::BadRequest("undone".into()))
                });
                assert!(failed.is_err());
                let after_undone = mode(tx)?;
                let plain = tx.apart(|tx| mode(tx))?;
                Ok((inside, after_kept, after_undone, plain))
            })
            .await
            .unwrap();
        let (generic, auto) = if postgres { ("force_generic_plan", "auto") } else { ("none", "none") };
        assert_eq!(seen, (generic.to_owned(), auto.to_owned(), auto.to_owned(), auto.to_owned()));
    }

    #[tokio::test]
    async fn work_by_key_plans_once_and_leaves_the_rest_as_it_was_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hub.db").display());
        work_by_key_plans_once_and_leaves_the_rest_as_it_was(Store::open(&url, &StoreOptions::default()).unwrap())
            .await;
    }

    #[tokio::test]
    async fn work_by_key_plans_once_and_leaves_the_rest_as_it_was_postgres() {
        let schema = switchboard_testkit::pg_schema::Schema::new("sbpoolplans");
        let opts = StoreOptions { writers: 1, ..StoreOptions::default() };
        work_by_key_plans_once_and_leaves_the_rest_as_it_was(Store::open(&schema.url, &opts).unwrap()).await;
    }

    /// The first column of `sql`'s rows, as numbers.
    async fn numbers(pool: &super::Pool, sql: &'static str) -> Vec<i64> {
        pool.read(move |c| c.query(sql, &[])?.iter().map(|r| Ok(r.int(0)?)).collect::<Result<Vec<i64>, StoreError>>())
            .await
            .unwrap()
    }

    /// Queues `job` on `pool`'s writer; its outcome once the transaction is over.
    fn queue_write<F>(pool: &super::Pool, job: F) -> tokio::task::JoinHandle<Result<(), StoreError>>
    where
        F: FnMut(&mut super::WriteTx<'_>) -> Result<(), StoreError> + Send + 'static,
    {
        let pool = pool.clone();
        tokio::spawn(async move { pool.write(job).await })
    }

    /// Holds `pool`'s writer until `release` is sent, so the jobs queued meanwhile run as
    /// one batch.
    async fn hold_writer(pool: &super::Pool) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = std::sync::Mutex::new(held);
        let pool = pool.clone();
        let gate = tokio::spawn(async move {
            pool.write(move |_| {
                let _ = held.lock().unwrap().recv();
                Ok(())
            })
            .await
            .unwrap();
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        (release, gate)
    }

    /// Two hubs whose batches take two rows in opposite orders deadlock once: the victim's
    /// transaction commits what it has and runs the rest of its batch in the next one,
    /// instead of meeting the same cycle again with every job left (each costing the
    /// server's deadlock timeout), and every job is done in the end.
    #[tokio::test]
    async fn a_batch_that_loses_a_deadlock_commits_and_carries_the_rest_postgres() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let schema = switchboard_testkit::pg_schema::Schema::new("sbpoolcrossed");
        let opts = StoreOptions { writers: 1, ..StoreOptions::default() };
        let (x, y) = (Store::open(&schema.url, &opts).unwrap(), Store::open(&schema.url, &opts).unwrap());
        let (px, py) = (x.pool().clone(), y.pool().clone());
        px.write(|tx| {
            Ok(tx.conn.batch("CREATE TABLE crossed (id BIGINT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO crossed VALUES (1, 0), (2, 0)")?)
        })
        .await
        .unwrap();
        let lost = std::sync::Arc::new(AtomicUsize::new(0));
        let ((release_x, gate_x), (release_y, gate_y)) = (hold_writer(&px).await, hold_writer(&py).await);
        // Each hub takes its first row, waits until the other has taken its own, then
        // wants the other's with every job after.
        let mut jobs = Vec::new();
        for (pool, first, second) in [(&px, 1_i64, 2_i64), (&py, 2, 1)] {
            for step in 0..5 {
                let (pool, lost) = (pool.clone(), lost.clone());
                jobs.push(tokio::spawn(async move {
                    pool.write(move |tx| {
                        let row = if step == 0 { first } else { second };
                        if step == 1 {
                            tx.conn.query("SELECT 1 FROM pg_sleep(0.3)", &[])?;
                        }
                        let done = tx.conn.execute("UPDATE crossed SET n = n + 1 WHERE id = ?", &[row.into()]);
                        if matches!(done, Err(super::DbError::Transient(_))) {
                            lost.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(done?)
                    })
                    .await
                }));
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        release_x.send(()).unwrap();
        release_y.send(()).unwrap();
        gate_x.await.unwrap();
        gate_y.await.unwrap();
        for job in jobs {
            assert_eq!(job.await.unwrap().unwrap(), 1);
        }
        assert_eq!(lost.load(Ordering::Relaxed), 1, "deadlocks met");
        assert_eq!(numbers(&px, "SELECT n FROM crossed ORDER BY id").await, vec![5, 5]);
    }
}
