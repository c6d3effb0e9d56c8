//! The hub when its database is slow, locked or drops a connection, against real
//! databases: full queues answer `503` at once, requests and statements have time limits,
//! a feed listener that lost its connection catches up with what it missed, and pruning
//! the feed runs in short transactions behind a raised floor.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, pg_db, serve, sqlite_db, world, PASSWORD};
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_hub::store::{Store, StoreError, StoreOptions};

/// Holds SQLite's write lock from another connection until dropped.
struct WriteLock(std::sync::mpsc::Sender<()>, Option<std::thread::JoinHandle<()>>);

fn lock_sqlite(db: &common::TestDb) -> WriteLock {
    let path = db.url.strip_prefix("sqlite://").unwrap().to_owned();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute_batch("BEGIN EXCLUSIVE").unwrap();
        ready_tx.send(()).unwrap();
        let _ = rx.recv();
        c.execute_batch("ROLLBACK").unwrap();
    });
    ready_rx.recv().unwrap();
    WriteLock(tx, Some(handle))
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.0.send(());
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
    }
}

/// Finding 12: requests queued for the database without bound, and waited as long as it
/// took. With the writer stuck behind a lock, a request that finds the queue full answers
/// `503` at once, one that waits answers `503` when `request_timeout_ms` runs out, and the
/// hub serves again as soon as the database does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_database_answers_503_quickly_and_recovers() {
    let db = sqlite_db();
    let store = open(&db);
    world(&store).await;
    let config = Config { db_queue: 1, request_timeout_ms: 1_500, password_checks: 64, ..Config::default() };
    let hub = serve(Store::open(&db.url, &StoreOptions { queue: 1, ..StoreOptions::default() }).unwrap(), config).await;
    let lock = lock_sqlite(&db);
    let http = reqwest::Client::new();
    let started = Instant::now();
    let logins: Vec<_> = (0..12)
        .map(|i| {
            let (http, base) = (http.clone(), hub.base.clone());
            tokio::spawn(async move {
                let body = serde_json::json!({"email": format!("nobody{i}@x.test"), "password": "wrong password"});
                let resp = http.post(format!("{base}/api/v1/auth/login")).json(&body).send().await.unwrap();
                let status = resp.status();
                let retry = resp.headers().get("retry-after").is_some();
                let body: serde_json::Value = resp.json().await.unwrap();
                (status, body["code"].as_str().unwrap_or("").to_owned(), retry, started.elapsed())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for l in logins {
        answers.push(l.await.unwrap());
    }
    for (status, code, retry, took) in &answers {
        assert_eq!((*status, code.as_str(), *retry), (StatusCode::SERVICE_UNAVAILABLE, "unavailable", true));
        assert!(*took < Duration::from_secs(5), "answered in {took:?}, not after the lock's 10 s");
    }
    drop(lock);
    // The database is back: so is the hub, once the writes that waited have run (a client
    // told 503 tries again after Retry-After).
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..40 {
        let resp = http
            .post(format!("{}/api/v1/auth/login", hub.base))
            .json(&serde_json::json!({"email": "agent@x.test", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        status = resp.status();
        if status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(status, StatusCode::OK);
}

/// Finding 12: a statement could run without end. On PostgreSQL each statement has
/// `statement_timeout_ms`: a write stuck behind another session's lock fails as
/// `unavailable` instead of holding its writer, and the next one goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_stuck_on_postgresql_is_stopped_in_time() {
    let db = pg_db();
    let store = Store::open(&db.url, &StoreOptions { statement_timeout_ms: 500, ..StoreOptions::default() }).unwrap();
    let w = world(&store).await;
    let (release, released) = std::sync::mpsc::channel::<()>();
    let (locked_tx, locked) = std::sync::mpsc::channel::<()>();
    let url = db.url.clone();
    let holder = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = c.transaction().unwrap();
        tx.batch_execute("SELECT seq FROM feed_head WHERE id = 1 FOR UPDATE").unwrap();
        locked_tx.send(()).unwrap();
        let _ = released.recv();
        tx.rollback().unwrap();
    });
    locked.recv().unwrap();
    let started = Instant::now();
    let stuck = store.ingest(inbound(&w.sms, "+14155550123", "hello", "SM-stuck", now_ms())).await;
    assert!(matches!(&stuck, Err(StoreError::Db(_))), "{stuck:?}");
    assert_eq!(stuck.unwrap_err().to_api().code, switchboard_protocol::ErrorCode::Unavailable);
    assert!(started.elapsed() < Duration::from_secs(10), "stopped after {:?}", started.elapsed());
    release.send(()).unwrap();
    holder.join().unwrap();
    store.ingest(inbound(&w.sms, "+14155550123", "hello", "SM-after", now_ms())).await.unwrap();
}

/// Finding 12: nothing checked the connection that listens for other hubs' commits, and a
/// commit announced while it was down was never seen. A listener that loses its
/// connection reconnects and reads the feed's head, so the other hub's commit reaches this
/// one's streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_listener_that_lost_its_connection_catches_up() {
    let db = pg_db();
    let a = open(&db);
    let w = world(&a).await;
    let b = open(&db);
    let mut b_head = b.head();
    // Cut B's listener off, as a restarted server or a dropped network would.
    db.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE '%feed listener%' AND pid <> pg_backend_pid()",
    );
    // A commits while B's listener is away.
    let m = a.ingest(inbound(&w.sms, "+14155550123", "while you were away", "SM-away", now_ms())).await.unwrap();
    let target = *a.head().borrow();
    let seen = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if *b_head.borrow_and_update() >= target {
                return true;
            }
            if b_head.changed().await.is_err() {
                return false;
            }
        }
    })
    .await;
    assert_eq!(seen, Ok(true), "B's head reached A's commit of message {}", m.message_id);
}

/// Finding 12: pruning the feed was one unbounded delete on the single writer. The floor
/// is raised first (an old cursor hears `cursor_expired`, never a page with holes), then
/// rows go in short transactions (both engines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_raises_the_floor_then_deletes_in_chunks() {
    for db in [sqlite_db(), pg_db()] {
        let store = open(&db);
        let w = world(&store).await;
        for i in 0..30 {
            store.ingest(inbound(&w.sms, "+14155550123", &format!("m{i}"), &format!("SM{i}"), now_ms())).await.unwrap();
        }
        let head = *store.head().borrow();
        let upto = head - 5;
        let floor = store.prune_changes_in_chunks(upto, 7).await.unwrap();
        assert_eq!(floor, upto, "{}", db.url);
        assert_eq!(db.text(&format!("SELECT count(*) FROM changes WHERE seq <= {upto}")), "0");
        assert_eq!(db.text(&format!("SELECT count(*) FROM changes WHERE seq > {upto}")), "5");
        assert!(matches!(store.changes(&w.agent, 1, 100).await, Err(StoreError::CursorExpired)));
        assert_eq!(store.changes(&w.agent, upto, 100).await.unwrap().changes.len(), 5);
    }
}

/// Finding 12 (slowloris): a client could hold a connection open by sending its headers a
/// byte at a time. Headers must arrive within `header_timeout_ms`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = sqlite_db();
    let store = open(&db);
    world(&store).await;
    let hub = serve(store, Config { header_timeout_ms: 500, ..Config::default() }).await;
    let mut s = tokio::net::TcpStream::connect(hub.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        for _ in 0..20 {
            if s.write_all(b"X-Slow: 1\r\n").await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        s.read_to_end(&mut buf).await.is_ok()
    })
    .await
    .unwrap();
    assert!(closed);
    assert!(started.elapsed() < Duration::from_secs(4), "cut off after {:?}", started.elapsed());
    // A client that sends its request at once is answered.
    let ok = reqwest::get(format!("{}/healthz", hub.base)).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}
