//! Console core benchmark. Prints:
//! - the first sync of 10,000 conversations / 200,000 messages from a local hub (wall time);
//! - changes applied per second (pages of 2,000 message and conversation changes);
//! - search latency (p50, p95) over 1,000,000 cached messages;
//! - a customer's unified history of 2,000 messages across 5 channels (p50, p95);
//! - opening a cache of 50,000 conversations to the first view (p50, p95);
//! - opening one conversation among 50,000: each query it makes (p50, p95).
//!
//! `cargo bench -p switchboard-core` runs the full sizes; `cargo test --benches` runs a
//! small smoke version of the same code. `SWITCHBOARD_BENCH_ONLY=sync,apply,search,history,open,switch`
//! picks parts.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_core::cache::apply::{self, NotifyContext};
use switchboard_core::cache::Cache;
use switchboard_core::notify::Arrival;
use switchboard_core::Console;
use switchboard_hub::api::AppState;
use switchboard_hub::auth::hash_secret;
use switchboard_hub::config::Config;
use switchboard_hub::server;
use switchboard_hub::store::directory::NewAgent;
use switchboard_hub::store::ingest::Inbound;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::console::{Connection, SearchQuery, View};
use switchboard_protocol::model::{
    Agent, ChannelKind, Contact, Conversation, ConversationStatus, Direction, Identity, Message, Presence, Role,
};
use switchboard_protocol::sync::{Change, ChangeFrame};

const PASSWORD: &str = "bench password";

const WORDS: &[&str] = &[
    "order",
    "parcel",
    "delivery",
    "refund",
    "invoice",
    "address",
    "tracking",
    "password",
    "account",
    "payment",
    "card",
    "shipping",
    "return",
    "exchange",
    "size",
    "colour",
    "kettle",
    "lamp",
    "sofa",
    "table",
    "chair",
    "blue",
    "green",
    "late",
    "broken",
    "missing",
    "thanks",
    "please",
    "hello",
    "today",
    "tomorrow",
    "monday",
    "friday",
    "lisbon",
    "porto",
    "madrid",
    "berlin",
    "london",
    "paris",
    "warranty",
    "discount",
    "coupon",
    "subscription",
    "upgrade",
    "cancel",
    "plan",
    "premium",
    "basic",
    "help",
    "question",
    "courier",
    "label",
    "box",
    "damaged",
    "replacement",
    "store",
    "pickup",
    "receipt",
    "charge",
    "twice",
    "email",
    "phone",
    "number",
    "waiting",
    "week",
];

fn sentence(rng: &mut StdRng, words: usize) -> String {
    let mut s: Vec<&str> = (0..words).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect();
    // A rarer word now and then, so searches have selective terms too.
    if rng.random_bool(0.02) {
        s.push("zeppelin");
    }
    s.join(" ")
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1_000.0)
}

/// 1. A hub holding `conversations` × `per` messages; a console's first sync of it.
fn first_sync(rt: &tokio::runtime::Runtime, conversations: usize, per: usize) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    rt.block_on(async {
        let store = Store::open(&url, &StoreOptions::default()).unwrap();
        let team = store.create_team("Support").await.unwrap();
        store
            .create_agent(NewAgent {
                name: "Bench Lead".into(),
                email: "lead@x.test".into(),
                password_hash: hash_secret(PASSWORD).unwrap(),
                role: Role::Lead,
                teams: vec![team.id],
                capacity: 10,
            })
            .await
            .unwrap();
        let inbox = store
            .create_inbox(CreateInbox {
                kind: ChannelKind::Email,
                name: "Help".into(),
                team_id: team.id,
                address: "help@x.test".into(),
                settings: serde_json::json!({"inbound_secret": "s"}),
            })
            .await
            .unwrap();
        let seeding = Instant::now();
        let workers = 32;
        let mut tasks = Vec::new();
        for w in 0..workers {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(w as u64);
                for c in (w..conversations).step_by(workers) {
                    for m in 0..per {
                        let body = sentence(&mut rng, 12);
                        let msg = Inbound::text(
                            inbox.id,
                            &format!("customer{c}@example.com"),
                            &body,
                            Some(&format!("<{c}.{m}@mail>")),
                            switchboard_core::now_ms(),
                        );
                        store.ingest(msg).await.unwrap();
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        println!(
            "  (hub seeded with {conversations} conversations / {} messages in {:.1} s)",
            conversations * per,
            seeding.elapsed().as_secs_f64()
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config { bootstrap_messages: per.max(30), ..Config::default() };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server::run(listener, AppState::new(store.clone(), config), async move {
            let _ = stopped.await;
        }));
        let base = format!("http://{addr}");
        let token = switchboard_core::client::HubClient::login(&base, "lead@x.test", PASSWORD).await.unwrap().token;
        let cache_dir = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let console = Console::open(cache_dir.path(), &base, &token).unwrap();
        let mut state = console.watch_connection();
        console.start();
        loop {
            if *state.borrow_and_update() == Connection::Online {
                break;
            }
            state.changed().await.unwrap();
        }
        let took = started.elapsed();
        let cached = console.cache().counts().unwrap();
        let all = cached.iter().find(|c| c.view == View::All).map_or(0, |c| c.total);
        assert_eq!(all as usize, conversations);
        println!(
            "first sync: {conversations} conversations / {} messages in {:.2} s (target < 10 s)",
            conversations * per,
            took.as_secs_f64()
        );
        console.stop();
        let _ = stop.send(());
    });
}

fn agent() -> Agent {
    Agent {
        id: 1,
        name: "Bench Agent".into(),
        email: "agent@x.test".into(),
        role: Role::Lead,
        teams: vec![1],
        capacity: 10,
        presence: Presence::Online,
        disabled: false,
        skills: vec![],
        routing_paused: false,
        version: 1,
    }
}

fn contact(id: i64) -> Contact {
    Contact {
        id,
        name: format!("Customer {id}"),
        identities: vec![Identity { channel: ChannelKind::Email, address: format!("c{id}@example.com") }],
        profile: Default::default(),
        crm: None,
        opted_out: Vec::new(),
        consents: Vec::new(),
        created_at: 0,
        updated_at: 0,
        version: 1,
    }
}

fn conversation(id: i64, contact_id: i64, channel: ChannelKind, at: i64) -> Conversation {
    Conversation {
        id,
        contact_id,
        inbox_id: 1,
        channel,
        customer_address: format!("c{contact_id}@example.com"),
        status: ConversationStatus::Open,
        snoozed_until: None,
        assignee_id: if id % 3 == 0 { Some(1) } else { None },
        team_id: 1,
        waiting_since: if id % 2 == 0 { Some(at) } else { None },
        last_activity_at: at,
        reply_window_expires_at: None,
        preview: "Where is my parcel?".into(),
        updated_by: None,
        priority: Default::default(),
        queued_at: None,
        first_response_due_at: None,
        next_response_due_at: None,
        resolution_due_at: None,
        sla_state: Default::default(),
        csat_score: None,
        created_at: at,
        version: 1,
    }
}

fn message(id: i64, conversation_id: i64, channel: ChannelKind, body: String, at: i64) -> Message {
    Message {
        id,
        conversation_id,
        channel,
        direction: if id % 2 == 0 { Direction::Inbound } else { Direction::Outbound },
        author_agent_id: None,
        body,
        subject: None,
        attachments: Vec::new(),
        provider_id: None,
        client_msg_id: None,
        delivery: None,
        delivery_error: None,
        choices: None,
        chosen: None,
        bot: None,
        created_at: at,
        version: 1,
    }
}

/// A cache filled directly (the same upserts sync uses) with `conversations` and
/// `messages` spread over them.
fn filled_cache(dir: &std::path::Path, conversations: i64, messages: i64) -> Cache {
    let cache = Cache::open(dir).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    let now = switchboard_core::now_ms();
    cache
        .write(|c| {
            apply::set_me(c, &agent())?;
            apply::upsert_agent(c, &agent())?;
            for id in 1..=conversations {
                apply::upsert_contact(c, &contact(id))?;
                apply::upsert_conversation(c, &conversation(id, id, ChannelKind::Email, now - id * 1_000))?;
            }
            Ok(())
        })
        .unwrap();
    let mut id = 0;
    while id < messages {
        cache
            .write(|c| {
                for _ in 0..20_000 {
                    id += 1;
                    if id > messages {
                        break;
                    }
                    let conv = 1 + id % conversations;
                    apply::upsert_message(
                        c,
                        &message(id, conv, ChannelKind::Email, sentence(&mut rng, 14), now - (messages - id)),
                    )?;
                }
                Ok(())
            })
            .unwrap();
    }
    cache
}

/// 2. Pages of 2,000 changes (new messages and conversation updates) applied.
fn apply_rate(pages: usize) {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled_cache(dir.path(), 10_000, 0);
    let mut rng = StdRng::seed_from_u64(2);
    let now = switchboard_core::now_ms();
    let mut next_message = 1;
    let mut version = 2;
    let built: Vec<Vec<ChangeFrame>> = (0..pages)
        .map(|_| {
            (0..2_000)
                .map(|i| {
                    let conv = rng.random_range(1..=10_000);
                    let change = if i % 2 == 0 {
                        next_message += 1;
                        Change::Message(message(next_message, conv, ChannelKind::Email, sentence(&mut rng, 14), now))
                    } else {
                        version += 1;
                        Change::Conversation(Conversation {
                            version,
                            ..conversation(conv, conv, ChannelKind::Email, now)
                        })
                    };
                    ChangeFrame { seq: i, change }
                })
                .collect()
        })
        .collect();
    // As a signed-in agent, so the notification rule runs for every customer message.
    let me = switchboard_core::notify::Me { agent_id: 1, teams: vec![1], lead: false };
    let ctx = NotifyContext {
        me: Some(me),
        focused: None,
        arrival: Arrival::Live,
        prefs: Default::default(),
        now: switchboard_core::now_ms(),
        local: switchboard_core::clock::local_time(),
    };
    let started = Instant::now();
    for (n, page) in built.iter().enumerate() {
        cache.write(|c| switchboard_core::sync::write_page(c, page, &n.to_string(), &ctx)).unwrap();
    }
    let took = started.elapsed();
    let changes = pages * 2_000;
    println!(
        "changes applied: {changes} in {:.2} s = {:.0} changes/s (target ≥ 50,000/s)",
        took.as_secs_f64(),
        changes as f64 / took.as_secs_f64()
    );
}

/// 3. Searches over a cache of `messages`.
fn search(messages: i64) {
    let dir = tempfile::tempdir().unwrap();
    let filling = Instant::now();
    let cache = filled_cache(dir.path(), 20_000, messages);
    println!("  (cache filled with {messages} messages in {:.1} s)", filling.elapsed().as_secs_f64());
    let mut rng = StdRng::seed_from_u64(3);
    let mut samples = Vec::new();
    let queries: Vec<SearchQuery> = (0..200)
        .map(|i| {
            let text = match i % 4 {
                0 => WORDS[rng.random_range(0..WORDS.len())].to_owned(),
                1 => format!("{} {}", WORDS[rng.random_range(0..WORDS.len())], WORDS[rng.random_range(0..WORDS.len())]),
                2 => format!("zeppelin {}", &WORDS[rng.random_range(0..WORDS.len())][..3]),
                _ => WORDS[rng.random_range(0..WORDS.len())].chars().take(4).collect(),
            };
            let channel = (i % 5 == 0).then_some(ChannelKind::Email);
            let status = (i % 7 == 0).then_some(ConversationStatus::Open);
            SearchQuery { text, channel, status, ..Default::default() }
        })
        .collect();
    let mut hits = 0;
    for q in &queries {
        let t = Instant::now();
        hits += cache.search(q).unwrap().len();
        samples.push(t.elapsed());
    }
    assert!(hits > 0);
    println!(
        "search over {messages} messages: p50 {}, p95 {} ({} queries, 50 hits each at most; target p95 < 20 ms)",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.95)),
        queries.len()
    );
}

/// 4. One customer's history of `lines` messages across five channels.
fn history(lines: i64) {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled_cache(dir.path(), 5_000, 50_000);
    let channels =
        [ChannelKind::Sms, ChannelKind::Whatsapp, ChannelKind::Email, ChannelKind::Messenger, ChannelKind::Webchat];
    let mut rng = StdRng::seed_from_u64(4);
    let now = switchboard_core::now_ms();
    let contact_id = 900_000;
    cache
        .write(|c| {
            apply::upsert_contact(c, &contact(contact_id))?;
            for (i, ch) in channels.iter().enumerate() {
                apply::upsert_conversation(c, &conversation(900_000 + i as i64, contact_id, *ch, now))?;
            }
            for n in 0..lines {
                let ch = n as usize % channels.len();
                let m = message(
                    9_000_000 + n,
                    900_000 + ch as i64,
                    channels[ch],
                    sentence(&mut rng, 14),
                    now - (lines - n) * 60_000,
                );
                apply::upsert_message(c, &m)?;
            }
            Ok(())
        })
        .unwrap();
    let mut samples = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let h = cache.history(contact_id, lines as usize, None).unwrap();
        samples.push(t.elapsed());
        assert_eq!(h.lines.len(), lines as usize);
    }
    println!(
        "unified history of {lines} messages across 5 channels: p50 {}, p95 {} (target < 10 ms)",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.95))
    );
}

/// 5. Opening a cache of `conversations` to the first view (counts and the first page).
fn open_to_first_view(conversations: i64) {
    let dir = tempfile::tempdir().unwrap();
    drop(filled_cache(dir.path(), conversations, conversations * 4));
    let mut samples = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let cache = Cache::open(dir.path()).unwrap();
        let counts = cache.counts().unwrap();
        let rows = cache.view(View::Unassigned, 100, 0).unwrap();
        samples.push(t.elapsed());
        assert!(!counts.is_empty() && !rows.is_empty());
    }
    println!(
        "open to first view, {conversations} conversations: p50 {}, p95 {} (target < 200 ms)",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 0.95))
    );
}

/// 6. Opening one conversation among `conversations` (one customer each).
///
/// Times its row, the customer's history, profile and composer, then the view counts and
/// list page that marking it read refreshes.
fn switch(conversations: i64) {
    let dir = tempfile::tempdir().unwrap();
    let cache = filled_cache(dir.path(), conversations, conversations);
    let mut rng = StdRng::seed_from_u64(6);
    let mut timings: Vec<(&str, Vec<Duration>)> =
        ["row", "history", "profile", "composer", "counts", "view page"].iter().map(|n| (*n, Vec::new())).collect();
    let mut opens = Vec::new();
    let now = switchboard_core::now_ms();
    for _ in 0..200 {
        let id = rng.random_range(1..=conversations);
        let started = Instant::now();
        let mut time = |i: usize, f: &mut dyn FnMut()| {
            let t = Instant::now();
            f();
            timings[i].1.push(t.elapsed());
        };
        time(0, &mut || assert_eq!(cache.thread(id, 1).unwrap().conversation.id, id));
        time(1, &mut || assert!(!cache.history(id, 100, None).unwrap().lines.is_empty()));
        time(2, &mut || assert_eq!(cache.profile(id).unwrap().conversations.len(), 1));
        time(3, &mut || assert!(!cache.composer(id, now).unwrap().routes.is_empty()));
        opens.push(started.elapsed());
        time(4, &mut || assert!(!cache.counts().unwrap().is_empty()));
        time(5, &mut || assert!(!cache.view(View::MyTeams, 100, 0).unwrap().is_empty()));
    }
    for (name, samples) in &mut timings {
        println!("  {name}: p50 {}, p95 {}", ms(percentile(samples, 0.5)), ms(percentile(samples, 0.95)));
    }
    println!(
        "opening a conversation among {conversations} (row, history, profile, composer): p50 {}, p95 {}",
        ms(percentile(&mut opens, 0.5)),
        ms(percentile(&mut opens, 0.95))
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: a smoke run.
    let full = std::env::args().any(|a| a == "--bench");
    // `SWITCHBOARD_BENCH_ONLY=apply,search` runs some parts only.
    let only = std::env::var("SWITCHBOARD_BENCH_ONLY").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only.split(',').any(|p| p == part);
    let rt = Arc::new(tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap());
    let scale = |full_size: usize, smoke: usize| if full { full_size } else { smoke };
    if run("sync") {
        first_sync(&rt, scale(10_000, 100), scale(20, 5));
    }
    if run("apply") {
        apply_rate(scale(50, 2));
    }
    if run("search") {
        search(scale(1_000_000, 20_000) as i64);
    }
    if run("history") {
        history(scale(2_000, 200) as i64);
    }
    if run("open") {
        open_to_first_view(scale(50_000, 1_000) as i64);
    }
    if run("switch") {
        switch(scale(50_000, 1_000) as i64);
    }
}
