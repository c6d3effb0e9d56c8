//! The desktop console's figures, measured on the real app (release build) under Xvfb
//! through WebDriver against a real hub, each beside an empty Tauri window measured in the
//! same run (the same binary with `--empty-window`: a blank page, no plugins, no front end):
//! - cold start to an interactive inbox with 50,000 cached conversations (target < 500 ms),
//!   beside the empty window's start to a loaded page;
//! - idle memory of all the app's processes, as PSS (target < 150 MB), beside the empty
//!   window's;
//! - thread switch, click to the thread's lines on screen (target p95 < 25 ms), beside a
//!   click that changes one line of the empty page, to its frame;
//! - a Twilio webhook arriving at the hub to the desktop notification on D-Bus (target p99
//!   < 300 ms);
//! - memory after an agent's day of live traffic, compressed (4,800 customer messages into
//!   the inbox while the agent opens a thread every few of them), against idle (target: at
//!   most 10 % more).
//!
//! `cargo bench -p switchboard --bench desktop`. `SWITCHBOARD_BENCH_CONVERSATIONS` sets the
//! inbox size (default 50,000); `cargo test --bench desktop` runs a small smoke version.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};
use switchboard_hub::api::AppState;
use switchboard_hub::auth::hash_secret;
use switchboard_hub::config::Config;
use switchboard_hub::server;
use switchboard_hub::store::directory::NewAgent;
use switchboard_hub::store::ingest::Inbound;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};
use switchboard_testkit::console_hub::PASSWORD;
use switchboard_testkit::desktop::app::{self, App};
use switchboard_testkit::desktop::notifications::Notifications;
use switchboard_testkit::twilio;

const TWILIO_TOKEN: &str = "bench-token";

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

/// One process's PSS in kB: its pid, name, total and largest mappings.
type ProcessPss = (u32, String, u64, Vec<(String, u64)>);

/// PSS in kB of a process and all its descendants, each with its largest mappings.
fn pss_tree(root: u32) -> (u64, Vec<ProcessPss>) {
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned();
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let pss = rollup
            .lines()
            .find(|l| l.starts_with("Pss:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        out.push((pid, comm, pss, largest_mappings(pid, 16)));
        if let Ok(children) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            stack.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
        }
    }
    (out.iter().map(|p| p.2).sum(), out)
}

/// The largest mappings of a process by PSS in kB (anonymous memory grouped as `[anon]`),
/// to see where its memory goes.
fn largest_mappings(pid: u32, n: usize) -> Vec<(String, u64)> {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut by_name = std::collections::HashMap::<String, u64>::new();
    let mut current = String::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or_default();
        if first.contains('-') && first.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            let name = words.nth(4).unwrap_or("[anon]");
            current = name.rsplit('/').next().unwrap_or(name).to_owned();
        } else if first == "Pss:" {
            *by_name.entry(current.clone()).or_default() += words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    let mut out: Vec<_> = by_name.into_iter().collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.1));
    out.truncate(n);
    out
}

fn main() {
    if !app::in_desktop_session(&std::env::args().skip(1).collect::<Vec<_>>()) {
        return;
    }
    let smoke = std::env::args().any(|a| a == "--test") || !std::env::args().any(|a| a == "--bench");
    let conversations: usize = std::env::var("SWITCHBOARD_BENCH_CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 500 } else { 50_000 });
    let samples = if smoke { 5 } else { 100 };
    // A day of 480 minutes, ten customer messages a minute; the smoke run's is a few minutes.
    let day = if smoke { Day { minutes: 6, per_minute: 3 } } else { Day { minutes: 480, per_minute: 10 } };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(conversations, samples, day));
}

/// The agent's compressed day: each minute, customers write this many messages and the
/// agent opens the next thread.
#[derive(Debug, Clone, Copy)]
struct Day {
    minutes: usize,
    per_minute: usize,
}

/// The baseline: the same binary's empty window, started, left idle and clicked as the
/// console is. Returns its start-up times, its idle PSS in kB and its click-to-frame times.
async fn empty_window(samples: usize) -> (Vec<f64>, u64, Vec<f64>) {
    let home = tempfile::tempdir().unwrap();
    let mut starts = Vec::new();
    for _ in 0..3 {
        let launched = Instant::now();
        let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &["--empty-window"]).await;
        app.until("a loaded page", "document.readyState === 'complete'", 30).await;
        starts.push(launched.elapsed().as_secs_f64() * 1000.0);
        app.quit().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &["--empty-window"]).await;
    app.until("a loaded page", "document.readyState === 'complete'", 30).await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (pss, _) = pss_tree(app.pid());
    app.js(
        "document.body.innerHTML = '<button id=open>Open</button><p id=line></p>'; let n = 0; \
         document.getElementById('open').onclick = () => { document.getElementById('line').textContent = 'line ' + (++n); }; \
         return null",
    )
    .await;
    let mut clicks = Vec::new();
    for _ in 0..samples.min(50) {
        let v = app
            .client
            .execute_async(
                "const [done] = arguments;
                 const t0 = performance.now();
                 document.getElementById('open').click();
                 requestAnimationFrame(() => done(performance.now() - t0));",
                vec![],
            )
            .await
            .unwrap();
        clicks.push(v.as_f64().unwrap());
    }
    app.quit().await;
    (starts, pss, clicks)
}

async fn run(conversations: usize, samples: usize, day: Day) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let store = Store::open(&format!("sqlite://{}", db.display()), &StoreOptions::default()).unwrap();
    let team = store.create_team("Support").await.unwrap().id;
    let agent = store
        .create_agent(NewAgent {
            name: "Maya Okafor".into(),
            email: "maya@x.test".into(),
            password_hash: hash_secret(PASSWORD).unwrap(),
            role: Role::Agent,
            teams: vec![team],
            capacity: 10,
        })
        .await
        .unwrap()
        .id;
    let inbox = store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Sms,
            name: "SMS".into(),
            team_id: team,
            address: "+14155550100".into(),
            settings: serde_json::json!({"delivery": "simulated", "auth_token": TWILIO_TOKEN, "account_sid": "AC0123456789abcdef0123456789abcdef"}),
        })
        .await
        .unwrap()
        .id;
    let seeding = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for c in (w..conversations).step_by(16) {
                let from = format!("+1212{:07}", 3_000_000 + c);
                let body = format!("Hello, this is customer {c}: where is my order NW-{c}?");
                let mut m =
                    Inbound::text(inbox, &from, &body, Some(&format!("SM{c:032x}")), switchboard_core::now_ms());
                m.display_name = Some(format!("Customer {c}"));
                store.ingest(m).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Everything is Maya's, so her first view holds all of it.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.execute("UPDATE conversations SET assignee_id = ?1", [agent]).unwrap();
    drop(conn);
    println!("  (hub seeded with {conversations} conversations in {:.1} s)", seeding.elapsed().as_secs_f64());

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Twilio signs the URL it calls, which is the hub's public URL.
    let config = Config { public_url: Some(base.clone()), ..Config::default() };
    tokio::spawn(server::run(listener, AppState::new(store.clone(), config), std::future::pending()));

    let notifications = Notifications::serve().await;
    let home = tempfile::tempdir().unwrap();
    let keyring = app::credential_store(home.path());

    // First run: sign in and sync everything.
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    app.find("[data-testid=signin]", 30).await;
    app.type_into("#hub", &base).await;
    app.type_into("#email", "maya@x.test").await;
    app.type_into("#password", PASSWORD).await;
    app.click("[data-testid=signin-submit]").await;
    let synced = Instant::now();
    app.until(
        "the first sync",
        &format!("document.querySelector('[data-testid=view-mine] [data-testid=count]')?.textContent.replace(/\\D/g, '') === '{conversations}'"),
        600,
    )
    .await;
    println!("  (first sync of {conversations} conversations in the app: {:.1} s)", synced.elapsed().as_secs_f64());
    app.quit().await;

    // Cold start: a new process restores the session and shows the inbox from the cache.
    let mut starts = Vec::new();
    for _ in 0..3 {
        let launched = Instant::now();
        let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
        app.until("an interactive inbox", "document.querySelector('[data-testid=conversation-row]')", 30).await;
        starts.push(launched.elapsed().as_secs_f64() * 1000.0);
        app.quit().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    app.until("an interactive inbox", "document.querySelector('[data-testid=conversation-row]')", 30).await;

    // Idle memory, after the app has settled.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (pss, processes) = pss_tree(app.pid());

    // Thread switch: click a row, until its thread's lines are on screen (measured in the page).
    let mut switches = Vec::new();
    for i in 0..samples.min(50) {
        let v = app
            .client
            .execute_async(
                "const [i, done] = arguments;
                 const rows = document.querySelectorAll('[data-testid=conversation-row]');
                 const row = rows[i % rows.length];
                 const id = row.dataset.id;
                 const t0 = performance.now();
                 row.click();
                 const check = () => {
                   if (document.querySelector(`[data-testid=thread][data-conversation-id=\"${id}\"] [data-testid=line]`)) {
                     requestAnimationFrame(() => done(performance.now() - t0));
                   } else { setTimeout(check, 1); }
                 };
                 check();",
                vec![serde_json::json!(i + 1)],
            )
            .await
            .unwrap();
        switches.push(v.as_f64().unwrap());
    }
    // Leave no thread open, so that every reply below is announced.
    app.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;

    // Webhook in → notification on D-Bus: new customers writing in Maya's team.
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    for i in 0..samples {
        let post_to = format!("{base}/webhooks/twilio/{inbox}");
        let (sid, from, text) =
            (format!("SMbench{i:026}"), format!("+1646{:07}", 4_000_000 + i), format!("Notification sample {i}"));
        let sms = twilio::Sms {
            post_to: &post_to,
            signed_url: &post_to,
            auth_token: TWILIO_TOKEN,
            from: &from,
            to: "+14155550100",
            body: &text,
            sid: &sid,
        };
        let sent = Instant::now();
        assert!(twilio::post(&http, &sms).await.is_success());
        let shown = notifications.wait_for(&text, Duration::from_secs(10)).await.expect("a notification");
        latencies.push(shown.at.duration_since(sent).as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The agent's day: customers keep writing into the inbox's conversations, the agent
    // keeps opening threads, the console keeps syncing and notifying. Then it settles and
    // its memory is read again.
    let lived = Instant::now();
    for minute in 0..day.minutes {
        for k in 0..day.per_minute {
            let c = (minute * day.per_minute + k) % conversations;
            let from = format!("+1212{:07}", 3_000_000 + c);
            let body = format!("Any news on order NW-{c}? (minute {minute})");
            let sid = format!("SMday{minute:013}{k:014}");
            store.ingest(Inbound::text(inbox, &from, &body, Some(&sid), switchboard_core::now_ms())).await.unwrap();
        }
        app.js(&format!(
            "const rows = document.querySelectorAll('[data-testid=conversation-row]'); rows[{minute} % rows.length]?.click(); return null"
        ))
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lived = lived.elapsed();
    app.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (pss_after_day, _) = pss_tree(app.pid());
    app.quit().await;
    drop(keyring);

    let (mut empty_starts, empty_pss, mut empty_clicks) = empty_window(samples).await;
    empty_starts.sort_by(|a, b| a.total_cmp(b));

    starts.sort_by(|a, b| a.total_cmp(b));
    println!(
        "cold start to an interactive inbox ({conversations} cached conversations): best {:.0} ms, median {:.0} ms (target < 500 ms)",
        starts[0],
        starts[starts.len() / 2]
    );
    println!(
        "  baseline: empty Tauri window to a loaded page: best {:.0} ms, median {:.0} ms (ratio {:.2})",
        empty_starts[0],
        empty_starts[empty_starts.len() / 2],
        starts[starts.len() / 2] / empty_starts[empty_starts.len() / 2]
    );
    println!("idle memory, all processes (PSS): {:.1} MB (target < 150 MB)", pss as f64 / 1024.0);
    println!(
        "  baseline: empty Tauri window, all processes (PSS): {:.1} MB (ratio {:.2})",
        empty_pss as f64 / 1024.0,
        pss as f64 / empty_pss.max(1) as f64
    );
    for (pid, comm, kb, mappings) in processes {
        println!("    {pid:>7} {comm:<22} {:>7.1} MB", kb as f64 / 1024.0);
        for (name, kb) in mappings {
            println!("              {name:<36} {:>7.1} MB", kb as f64 / 1024.0);
        }
    }
    let switch_p95 = percentile(&mut switches.clone(), 0.95);
    let click_p95 = percentile(&mut empty_clicks.clone(), 0.95);
    println!(
        "thread switch: p50 {:.1} ms, p95 {switch_p95:.1} ms over {} switches (target p95 < 25 ms)",
        percentile(&mut switches, 0.5),
        samples.min(50)
    );
    println!(
        "  baseline: a click changing one line of the empty window, to its frame: p50 {:.1} ms, p95 {click_p95:.1} ms (ratio {:.2})",
        percentile(&mut empty_clicks, 0.5),
        switch_p95 / click_p95.max(0.001)
    );
    println!(
        "webhook to desktop notification: p50 {:.0} ms, p99 {:.0} ms over {samples} (target p99 < 300 ms)",
        percentile(&mut latencies.clone(), 0.5),
        percentile(&mut latencies, 0.99)
    );
    println!(
        "memory after an agent's day ({} messages over {:.0} s, a thread opened each minute): {:.1} MB, {:+.1} % on idle (target ≤ +10 %)",
        day.minutes * day.per_minute,
        lived.as_secs_f64(),
        pss_after_day as f64 / 1024.0,
        (pss_after_day as f64 / pss.max(1) as f64 - 1.0) * 100.0
    );
}
