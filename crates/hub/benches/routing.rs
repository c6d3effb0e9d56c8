//! Routing benchmark: customers arriving at 1,000 a second for five seconds, spread over two
//! hubs that share one PostgreSQL database, each running its real background workers
//! (the router among them), with 200 agents online at a capacity of 20 each (4,000 slots
//! for 5,000 arrivals, so the last ones must wait). Prints the time from the start of each
//! ingest until hub A's change feed shows the conversation assigned (p50, p99, max), and
//! the capacity violations counted from the record of every assignment. Beside it, in the
//! same run, the same arrivals with routing off: how long a plain ingest takes. Both again
//! for the arrivals after the first second, once the hubs' statements are prepared.
//!
//! `cargo bench -p switchboard-hub --bench routing` (PostgreSQL from `SWITCHBOARD_TEST_PG`;
//! `SWITCHBOARD_BENCH_RATE` sets the arrivals per second).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_hub::auth::hash_secret;
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_hub::policy::Viewer;
use switchboard_hub::storage::Storage;
use switchboard_hub::store::change_kind::ChangeKind;
use switchboard_hub::store::directory::NewAgent;
use switchboard_hub::store::ingest::Inbound;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_hub::workers::Workers;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Presence, Role, RoutingMode, RoutingPolicy};
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, SetPresence, SetRouting};
use switchboard_protocol::sync::Change;
use switchboard_testkit::pg_schema::Schema;

/// One run's shape.
#[derive(Debug, Clone, Copy)]
struct Plan {
    agents: usize,
    capacity: u32,
    per_sec: usize,
    secs: usize,
}

/// What one run measured.
#[derive(Debug, Default)]
struct Report {
    /// Start of each ingest until its return, in milliseconds.
    ingest_ms: Vec<f64>,
    /// Start of each ingest until hub A's feed showed it assigned, in milliseconds.
    assigned_ms: Vec<f64>,
    /// The same two, for the arrivals after the first second: hubs whose statements are
    /// prepared and whose tables the planner has seen grow.
    ingest_warm_ms: Vec<f64>,
    assigned_warm_ms: Vec<f64>,
    arrivals: usize,
    /// Agents who hold more than their capacity.
    violations: usize,
    /// Conversations given more than once.
    given_twice: usize,
    elapsed: Duration,
}

async fn apply(store: &Store, v: &Viewer, client: &str, m: Mutation) {
    let env = MutationEnvelope { mutation_id: 1, mutation: m, expected_version: None };
    let outcome = store.apply_mutations(v, client, vec![env]).await.unwrap().remove(0).outcome;
    assert_eq!(outcome, Outcome::Applied);
}

/// A team with an SMS inbox and `plan.agents` agents online at `plan.capacity`; routing
/// least loaded when `routed`.
async fn workspace(store: &Store, plan: Plan, routed: bool) -> i64 {
    let team = store.create_team("Queue").await.unwrap().id;
    let hash = hash_secret("bench password").unwrap();
    let new = |i: usize, role| NewAgent {
        name: format!("Agent {i}"),
        email: format!("agent{i}@x.test"),
        password_hash: hash.clone(),
        role,
        teams: vec![team],
        capacity: plan.capacity,
    };
    let lead = store.create_agent(new(0, Role::Lead)).await.unwrap();
    let lead = Viewer { agent_id: lead.id, role: Role::Lead, teams: vec![team] };
    for i in 1..=plan.agents {
        let a = store.create_agent(new(i, Role::Agent)).await.unwrap();
        let v = Viewer { agent_id: a.id, role: Role::Agent, teams: vec![team] };
        let online = Mutation::SetPresence(SetPresence { presence: Presence::Online, automatic: false });
        apply(store, &v, &format!("agent-{i}"), online).await;
    }
    if routed {
        let policy = RoutingPolicy { mode: RoutingMode::LeastLoaded, ..RoutingPolicy::default() };
        apply(
            store,
            &lead,
            "lead",
            Mutation::SetRouting(SetRouting { team_id: team, inbox_id: None, policy: Some(policy) }),
        )
        .await;
    }
    let inbox = CreateInbox {
        kind: ChannelKind::Sms,
        name: "SMS".into(),
        team_id: team,
        address: "+14155550100".into(),
        settings: serde_json::json!({}),
    };
    store.create_inbox(inbox).await.unwrap().id
}

/// Watches hub A's change feed and notes when each conversation is first seen assigned.
fn watch_assignments(store: Store, seen: Arc<Mutex<HashMap<i64, Instant>>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut head = store.head();
        let mut cursor = *head.borrow_and_update();
        loop {
            let (changes, next) = store.changes_after(cursor, 1_000).await.unwrap();
            let now = Instant::now();
            for c in changes.iter().filter(|c| c.kind == ChangeKind::Conversation) {
                if let Ok(Change::Conversation(v)) = serde_json::from_str::<Change>(&c.payload) {
                    if v.assignee_id.is_some() {
                        seen.lock().unwrap().entry(v.id).or_insert(now);
                    }
                }
            }
            if next > cursor {
                cursor = next;
                continue;
            }
            if head.changed().await.is_err() {
                return;
            }
        }
    })
}

async fn run(plan: Plan, routed: bool) -> Report {
    let schema = Schema::new(if routed { "sbroute" } else { "sbplain" });
    let options = StoreOptions { writers: 8, ..StoreOptions::default() };
    let a = Store::open(&schema.url, &options).unwrap();
    let inbox = workspace(&a, plan, routed).await;
    let b = Store::open(&schema.url, &options).unwrap();
    let files = tempfile::tempdir().unwrap();
    let config = Config { database_url: schema.url.clone(), ..Config::default() };
    let workers = [a.clone(), b.clone()].map(|s| Workers::start(&s, &config, &Storage::new(files.path())));
    let seen = Arc::new(Mutex::new(HashMap::new()));
    let watcher = watch_assignments(a.clone(), seen.clone());

    let arrivals = plan.per_sec * plan.secs;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(arrivals);
    for n in 0..arrivals {
        let due = started + Duration::from_secs_f64(n as f64 / plan.per_sec as f64);
        tokio::time::sleep_until(due.into()).await;
        let store = if n % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let at = Instant::now();
            let from = format!("+1212{:07}", 3_000_000 + n);
            let msg = Inbound::text(inbox, &from, "Where is my order?", Some(&format!("SM-bench-{n}")), now_ms());
            let id = store.ingest(msg).await.unwrap().conversation_id;
            (id, at, at.elapsed(), n >= plan.per_sec)
        }));
    }
    let mut begun = HashMap::with_capacity(arrivals);
    let mut report = Report { arrivals, ..Report::default() };
    for t in tasks {
        let (id, at, took, warm) = t.await.unwrap();
        begun.insert(id, (at, warm));
        report.ingest_ms.push(took.as_secs_f64() * 1e3);
        if warm {
            report.ingest_warm_ms.push(took.as_secs_f64() * 1e3);
        }
    }
    if routed {
        let slots = plan.agents * plan.capacity as usize;
        let want = arrivals.min(slots);
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.lock().unwrap().len() < want && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    report.elapsed = started.elapsed();
    watcher.abort();
    for w in workers {
        w.stop().await;
    }
    for (id, at) in seen.lock().unwrap().iter() {
        if let Some((begin, warm)) = begun.get(id) {
            let ms = at.saturating_duration_since(*begin).as_secs_f64() * 1e3;
            report.assigned_ms.push(ms);
            if *warm {
                report.assigned_warm_ms.push(ms);
            }
        }
    }
    (report.violations, report.given_twice) = count_rows(&schema.url, plan.capacity);
    drop((a, b));
    report
}

/// Agents holding more than `capacity`, and conversations given more than once, from the
/// record of every assignment (nothing is resolved during a run, so every assignment is
/// still held).
fn count_rows(url: &str, capacity: u32) -> (usize, usize) {
    let (url, capacity) = (url.to_owned(), i64::from(capacity));
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let over: i64 = c
            .query_one(
                "SELECT count(*) FROM (SELECT agent_id FROM assignments GROUP BY agent_id HAVING count(*) > $1) x",
                &[&capacity],
            )
            .unwrap()
            .get(0);
        let twice: i64 = c
            .query_one(
                "SELECT count(*) FROM (SELECT conversation_id FROM assignments GROUP BY conversation_id HAVING count(*) > 1) x",
                &[],
            )
            .unwrap()
            .get(0);
        (over as usize, twice as usize)
    })
    .join()
    .unwrap()
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mut plan = if full {
        Plan { agents: 200, capacity: 20, per_sec: 1_000, secs: 5 }
    } else {
        Plan { agents: 20, capacity: 5, per_sec: 100, secs: 1 }
    };
    if let Some(rate) = std::env::var("SWITCHBOARD_BENCH_RATE").ok().and_then(|v| v.parse().ok()) {
        plan.per_sec = rate;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let mut plain = rt.block_on(run(plan, false));
    let mut routed = rt.block_on(run(plan, true));
    println!(
        "switchboard-hub routing bench (PostgreSQL, two hubs, {} agents × capacity {}, {} arrivals/s for {} s, {} cores)",
        plan.agents,
        plan.capacity,
        plan.per_sec,
        plan.secs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if !full {
        println!("(smoke run of an unoptimised build: `cargo bench` gives the figures)");
    }
    let slots = plan.agents * plan.capacity as usize;
    let base = percentile(&mut plain.ingest_ms, 0.99);
    println!(
        "baseline: plain ingest, routing off:      p50 {:>6.1} ms  p99 {:>6.1} ms",
        percentile(&mut plain.ingest_ms, 0.5),
        base
    );
    println!(
        "ingest with routing on:                   p50 {:>6.1} ms  p99 {:>6.1} ms",
        percentile(&mut routed.ingest_ms, 0.5),
        percentile(&mut routed.ingest_ms, 0.99)
    );
    let p99 = percentile(&mut routed.assigned_ms, 0.99);
    println!(
        "ingest → assigned (seen on hub A's feed): p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms   (target p99 < 50 ms; {:.1}× the plain ingest's p99)",
        percentile(&mut routed.assigned_ms, 0.5),
        p99,
        percentile(&mut routed.assigned_ms, 1.0),
        p99 / base
    );
    let (warm, warm_base) =
        (percentile(&mut routed.assigned_warm_ms, 0.99), percentile(&mut plain.ingest_warm_ms, 0.99));
    println!(
        "  after the first second: plain ingest p50 {:>6.1} ms  p99 {:>6.1} ms; ingest → assigned p50 {:>6.1} ms  p99 {:>6.1} ms ({:.1}×)",
        percentile(&mut plain.ingest_warm_ms, 0.5),
        warm_base,
        percentile(&mut routed.assigned_warm_ms, 0.5),
        warm,
        warm / warm_base
    );
    println!(
        "assigned: {} of {} arrivals ({} slots); agents over capacity: {}; conversations given twice: {}; wall {:.1} s",
        routed.assigned_ms.len(),
        routed.arrivals,
        slots,
        routed.violations,
        routed.given_twice,
        routed.elapsed.as_secs_f64()
    );
    assert_eq!(routed.violations, 0, "an agent was given more than their capacity");
    assert_eq!(routed.given_twice, 0, "a conversation was given twice");
    assert_eq!(routed.assigned_ms.len(), routed.arrivals.min(slots), "every free slot was filled");
    rt.shutdown_timeout(Duration::from_secs(1));
}
