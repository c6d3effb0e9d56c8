//! The baselines hub benchmarks print beside their figures, measured in the same run on the
//! same machine: plain inserts of the same rows through the same database driver, a bare
//! handler answering `200` on the same server stack, and a bare broadcast to the same number
//! of WebSockets. A figure's ratio to its baseline says how close it is to the limit of the
//! parts beneath it, whatever else the machine is doing.

use futures_util::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One row as an ingest writes it, reduced to a message's columns.
const TABLE: &str = "CREATE TABLE IF NOT EXISTS baseline_messages (
    id BIGINT PRIMARY KEY, provider_id TEXT NOT NULL UNIQUE, sender TEXT NOT NULL, body TEXT NOT NULL, created_at BIGINT NOT NULL)";
const INSERT_SQLITE: &str =
    "INSERT INTO baseline_messages (id, provider_id, sender, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_PG: &str =
    "INSERT INTO baseline_messages (id, provider_id, sender, body, created_at) VALUES ($1, $2, $3, $4, $5)";

fn row(i: usize) -> (i64, String, String, String, i64) {
    (
        i as i64,
        format!("baseline-{i}"),
        format!("+1212{:07}", 2_000_000 + i % 50_000),
        format!("Hello, this is message {i}. Where is my order?"),
        1_700_000_000_000 + i as i64,
    )
}

/// Rows a second when `writers` threads insert `rows` message rows, each its own committed
/// transaction, through the hub's own drivers: rusqlite on a SQLite file in WAL mode
/// (`synchronous = NORMAL`, as the hub sets it; SQLite has one writer, so the threads share
/// one connection), or the `postgres` crate with a connection per writer.
pub fn plain_inserts(database_url: &str, rows: usize, writers: usize) -> f64 {
    let per = rows / writers.max(1);
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").unwrap();
        conn.execute_batch(TABLE).unwrap();
        let conn = Arc::new(Mutex::new(conn));
        let started = Instant::now();
        std::thread::scope(|s| {
            for w in 0..writers {
                let conn = conn.clone();
                s.spawn(move || {
                    for i in 0..per {
                        let (id, p, from, body, at) = row(w * per + i);
                        conn.lock().unwrap().execute(INSERT_SQLITE, rusqlite::params![id, p, from, body, at]).unwrap();
                    }
                });
            }
        });
        return (per * writers) as f64 / started.elapsed().as_secs_f64();
    }
    let mut setup = postgres::Client::connect(database_url, postgres::NoTls).unwrap();
    setup.batch_execute(TABLE).unwrap();
    let mut clients: Vec<_> =
        (0..writers).map(|_| postgres::Client::connect(database_url, postgres::NoTls).unwrap()).collect();
    let started = Instant::now();
    std::thread::scope(|s| {
        for (w, client) in clients.iter_mut().enumerate() {
            s.spawn(move || {
                let insert = client.prepare(INSERT_PG).unwrap();
                for i in 0..per {
                    let (id, p, from, body, at) = row(w * per + i);
                    client.execute(&insert, &[&id, &p, &from, &body, &at]).unwrap();
                }
            });
        }
    });
    let rate = (per * writers) as f64 / started.elapsed().as_secs_f64();
    setup.batch_execute("DROP TABLE baseline_messages").unwrap();
    rate
}

/// A bare handler on the hub's server stack (axum on hyper): `POST /` reads the body and
/// answers `200`. Returns its base URL; it serves until the runtime stops.
pub async fn bare_handler() -> String {
    let app = axum::Router::new().route("/", axum::routing::post(|_body: axum::body::Bytes| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Delays from send to receipt, in milliseconds, when a bare server broadcasts `messages`
/// text frames (20 ms apart, as the fan-out benchmark ingests) to `sockets` WebSockets
/// through one `tokio` broadcast channel.
pub async fn bare_broadcast(sockets: usize, messages: usize) -> Vec<f64> {
    use axum::extract::ws::{Message, WebSocketUpgrade};
    let (tx, _) = tokio::sync::broadcast::channel::<String>(1024);
    let hub = tx.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move |ws: WebSocketUpgrade| {
            let mut rx = hub.subscribe();
            async move {
                ws.on_upgrade(move |mut socket| async move {
                    while let Ok(text) = rx.recv().await {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
                    }
                })
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let started = Arc::new(Instant::now());
    let mut clients = Vec::with_capacity(sockets);
    for _ in 0..sockets {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await.unwrap();
        let started = started.clone();
        clients.push(tokio::spawn(async move {
            let mut arrivals = Vec::with_capacity(messages);
            while arrivals.len() < messages {
                let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = ws.next().await else { break };
                let i: usize = t.as_str().parse().unwrap();
                arrivals.push((i, started.elapsed().as_secs_f64() * 1e3));
            }
            let _ = ws.close(None).await;
            arrivals
        }));
    }
    while tx.receiver_count() < sockets {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut sent = vec![0.0; messages];
    for (i, at) in sent.iter_mut().enumerate() {
        *at = started.elapsed().as_secs_f64() * 1e3;
        tx.send(i.to_string()).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut delays = Vec::with_capacity(sockets * messages);
    for c in clients {
        let arrivals = tokio::time::timeout(Duration::from_secs(30), c).await.unwrap().unwrap();
        assert_eq!(arrivals.len(), messages, "every socket receives every frame");
        delays.extend(arrivals.into_iter().map(|(i, at)| (at - sent[i]).max(0.0)));
    }
    delays.sort_by(f64::total_cmp);
    delays
}
