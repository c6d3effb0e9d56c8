//! Crash safety: a child process syncing a large workspace is killed with SIGKILL at 20
//! random moments (during the first sync and the catch-ups after it, while customers keep
//! writing) and restarted. Afterwards the cache equals the hub's view exactly: every
//! conversation, contact and message, each at the hub's version, nothing missing and
//! nothing twice.
#![allow(clippy::unwrap_used)]

use switchboard_testkit::console_hub as common;

use common::Hub;
use rand::Rng;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_hub::demo::{logins, seed, SeedOptions};
use switchboard_protocol::sync::Bootstrap;

const SYNC: &str = env!("CARGO_BIN_EXE_switchboard-sync");

fn sync_child(dir: &Path, hub: &str, token: &str, until_online: bool) -> std::process::Child {
    let mut cmd = Command::new(SYNC);
    cmd.args(["--dir", &dir.to_string_lossy(), "--hub", hub]).env("SWITCHBOARD_TOKEN", token);
    if until_online {
        cmd.arg("--until-online");
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap()
}

type Versions = BTreeMap<i64, i64>;

/// The child's `progress DONE/TOTAL` lines, as they come.
fn progress_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<(u64, u64)> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if let Some((done, total)) = line.strip_prefix("progress ").and_then(|p| p.split_once('/')) {
                if let (Ok(d), Ok(t)) = (done.parse(), total.parse()) {
                    let _ = tx.send((d, t));
                }
            }
        }
    });
    rx
}

fn has_cursor(dir: &Path) -> bool {
    let Ok(conn) = rusqlite::Connection::open(dir.join("cache.sqlite3")) else { return false };
    conn.query_row("SELECT 1 FROM meta WHERE key = 'cursor'", [], |_| Ok(())).is_ok()
}

fn cached(dir: &Path) -> (Versions, Versions, Versions) {
    let conn = rusqlite::Connection::open(dir.join("cache.sqlite3")).unwrap();
    let map = |table: &str| -> Versions {
        let mut st = conn.prepare(&format!("SELECT id, version FROM {table}")).unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let dupes: i64 = conn
        .query_row(
            "SELECT count(*) - count(DISTINCT client_msg_id) FROM messages WHERE client_msg_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dupes, 0);
    (map("conversations"), map("contacts"), map("messages"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twenty_times_during_sync_the_cache_still_equals_the_hub() {
    let hub = Hub::start().await;
    // A month only: the hub's bootstrap, compared whole below, carries at most 5,000 resolved
    // conversations.
    let seeded = seed(&hub.store, &SeedOptions { contacts: 500, seed: 11, history_days: 0 }).await.unwrap();
    assert!(seeded.conversations > 2_000, "{seeded:?}");
    let lead = logins().into_iter().find(|l| l.role == switchboard_protocol::model::Role::Lead).unwrap();
    let token = switchboard_core::client::HubClient::login(&hub.base, &lead.email, &lead.password).await.unwrap().token;

    // How long one whole first sync takes here, to kill within it.
    let scratch = tempfile::tempdir().unwrap();
    let started = Instant::now();
    assert!(sync_child(scratch.path(), &hub.base, &token, true).wait().unwrap().success());
    let whole = started.elapsed();

    // Customers keep writing while the console crashes and restarts.
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let store = hub.store.clone();
        let writing = writing.clone();
        let inboxes = store.inboxes().await.unwrap();
        tokio::spawn(async move {
            let mut n = 0u64;
            while writing.load(Ordering::Relaxed) {
                let inbox = &inboxes[(n as usize) % inboxes.len()];
                let from = match inbox.kind.address_kind() {
                    switchboard_protocol::model::AddressKind::Phone => format!("+1415555{:04}", 4000 + n % 300),
                    switchboard_protocol::model::AddressKind::Email => format!("writer{}@example.com", n % 300),
                    _ => format!("writer-{}", n % 300),
                };
                let msg = switchboard_hub::store::ingest::Inbound::text(
                    inbox.id,
                    &from,
                    &format!("message {n} during the crashes"),
                    Some(&format!("crash-test-{n}")),
                    switchboard_core::now_ms(),
                );
                store.ingest(msg).await.unwrap();
                n += 1;
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            n
        })
    };

    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rng();
    // Each kill lands at a random point of a first sync: a random moment of the download,
    // or once a random share of the snapshot is written.
    let mut during_first_sync = 0;
    for _ in 0..20 {
        let mut child = sync_child(dir.path(), &hub.base, &token, false);
        let lines = progress_lines(&mut child);
        if rng.random_bool(0.25) {
            tokio::time::sleep(Duration::from_millis(rng.random_range(10..whole.as_millis().max(20) as u64 / 2))).await;
        } else {
            let share = rng.random_range(0.05..0.95);
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                match lines.recv_timeout(Duration::from_millis(5)) {
                    Ok((done, total)) if total > 0 && done as f64 >= share * total as f64 => break,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    _ => tokio::task::yield_now().await,
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if !has_cursor(dir.path()) {
            during_first_sync += 1;
        }
    }
    eprintln!("a first sync took {whole:?}; {during_first_sync} of 20 kills landed before one finished");
    assert!(during_first_sync >= 15, "only {during_first_sync} kills interrupted a first sync");
    writing.store(false, Ordering::Relaxed);
    let written = writer.await.unwrap();
    assert!(written > 20, "customers wrote during the crashes");
    // Automatic replies to those customers are still being delivered: let the hub settle.
    let mut head = *hub.store.head().borrow();
    loop {
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        let now = *hub.store.head().borrow();
        if now == head {
            break;
        }
        head = now;
    }

    assert!(sync_child(dir.path(), &hub.base, &token, true).wait().unwrap().success(), "the last run catches up");
    let (conversations, contacts, messages) = cached(dir.path());

    // The hub's view for the same agent, with every message of every conversation.
    let truth: Bootstrap = reqwest::Client::new()
        .get(format!("{}/api/v1/sync/bootstrap?messages_per_conversation=500", hub.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hub_conversations: Versions = truth.conversations.iter().map(|c| (c.id, c.version)).collect();
    let hub_contacts: Versions = truth.contacts.iter().map(|c| (c.id, c.version)).collect();
    let hub_messages: Versions = truth.messages.iter().map(|m| (m.id, m.version)).collect();
    assert!(truth.conversations.len() > 2_000);
    assert_same("conversations", &conversations, &hub_conversations);
    assert_same("contacts", &contacts, &hub_contacts);
    assert_same("messages", &messages, &hub_messages);
}

/// Fails with the first few differences, not two whole maps.
fn assert_same(what: &str, cache: &Versions, hub: &Versions) {
    let missing: Vec<_> = hub.iter().filter(|(id, _)| !cache.contains_key(id)).take(5).collect();
    let extra: Vec<_> = cache.iter().filter(|(id, _)| !hub.contains_key(id)).take(5).collect();
    let stale: Vec<_> =
        hub.iter().filter_map(|(id, v)| cache.get(id).filter(|c| *c != v).map(|c| (id, *c, *v))).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && stale.is_empty(),
        "{what}: {} cached, {} on the hub; missing {missing:?}, extra {extra:?}, (id, cached, hub) {stale:?}",
        cache.len(),
        hub.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_survive_kill_9_mid_send_and_arrive_once_in_order() {
    let hub = Hub::start().await;
    let w = common::world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    let token = hub.login("maya@x.test").await;
    let dir = tempfile::tempdir().unwrap();
    assert!(sync_child(dir.path(), &hub.base, &token, true).wait().unwrap().success());

    // Queue 1,000 replies and kill the console while it sends them, again and again.
    let mut cmd = Command::new(SYNC);
    cmd.args(["--dir", &dir.path().to_string_lossy(), "--hub", &hub.base, "--queue-replies", &format!("{conv}:1000")])
        .env("SWITCHBOARD_TOKEN", &token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    {
        // The kills start once all 1000 are in the outbox.
        use std::io::BufRead;
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.starts_with("queued 1000") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "the console exited before queueing");
        }
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    }
    let mut rng = rand::rng();
    let viewer = hub.store.viewer(w.maya).await.unwrap();
    let stored = || async {
        let page = hub.store.messages_before(&viewer, conv, None, 2_000).await.unwrap();
        page.messages.into_iter().filter(|m| m.direction == switchboard_protocol::model::Direction::Outbound).count()
    };
    let mut kills_mid_send = 0;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(5..60))).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let n = stored().await;
        if n > 0 && n < 1000 {
            kills_mid_send += 1;
        }
        child = sync_child(dir.path(), &hub.base, &token, false);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let mut last = Command::new(SYNC);
    last.args(["--dir", &dir.path().to_string_lossy(), "--hub", &hub.base, "--until-drained"])
        .env("SWITCHBOARD_TOKEN", &token);
    assert!(last.stdout(Stdio::null()).status().unwrap().success());
    eprintln!("{kills_mid_send} of 10 kills landed while replies were being sent");
    assert!(kills_mid_send >= 1, "no kill interrupted the sending");

    let page = hub.store.messages_before(&viewer, conv, None, 2_000).await.unwrap();
    let replies: Vec<String> = page
        .messages
        .into_iter()
        .filter(|m| m.direction == switchboard_protocol::model::Direction::Outbound)
        .map(|m| m.body)
        .collect();
    let want: Vec<String> = (1..=1000).map(|i| format!("reply {i}")).collect();
    assert_eq!(replies, want, "every reply once, in order");
}
