//! Reports benchmark: a year of a 50-agent team (500,000 conversations over six channels,
//! each answered, held and resolved by an agent, with its first-response target met or
//! missed, a satisfaction answer for one in five, and each agent online eight hours a day),
//! written straight into the tables, on SQLite and on PostgreSQL. Prints, per engine: the
//! first report of the year (every day worked out from the events and kept), then the
//! year's report as leads get it once its days are kept (median and worst of repeated
//! runs), beside the same run's plain count of the year's conversations.
//!
//! `cargo bench -p switchboard-hub --bench reports` (PostgreSQL from `SWITCHBOARD_TEST_PG`).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::{Duration, Instant};
use switchboard_hub::auth::hash_secret;
use switchboard_hub::clock::{now_ms, DAY, HOUR};
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::directory::NewAgent;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};
use switchboard_protocol::report::ReportQuery;
use switchboard_testkit::pg_schema::Schema;

const CHANNELS: [ChannelKind; 6] = [
    ChannelKind::Sms,
    ChannelKind::Whatsapp,
    ChannelKind::Messenger,
    ChannelKind::Webchat,
    ChannelKind::InApp,
    ChannelKind::Email,
];

/// The baseline: a plain count of the year's conversations.
const COUNT: &str = "SELECT count(*) FROM conversations WHERE created_at >= ? AND created_at < ?";

#[derive(Debug, Clone, Copy)]
struct Plan {
    agents: i64,
    conversations: i64,
    days: i64,
    runs: usize,
}

/// What the year looks like: the team, its lead and the first day.
struct Year {
    lead: Viewer,
    team: i64,
    from: String,
    to: String,
}

/// The statements that write the year, for either engine: `{seq}` numbers the rows.
fn year_sql(plan: Plan, start: i64, first_agent: i64, first_inbox: i64, team: i64) -> Vec<String> {
    let n = plan.conversations;
    let spacing = plan.days * DAY / n;
    let seq = |upto: i64| {
        format!("WITH RECURSIVE seq(n) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n < {upto})")
    };
    // Per conversation n: when it started, its channel, agent, answer and resolution.
    let created = format!("({start} + (n - 1) * {spacing} + (n * 7919) % {spacing})");
    let first = format!("({created} + 30000 + (n * 31 % 1800) * 1000)");
    let resolved = format!("({created} + 600000 + (n * 97 % 14400) * 1000)");
    let agent = format!("({first_agent} + n % {})", plan.agents);
    let contacts = (n / 10).max(1);
    vec![
        format!(
            "{} INSERT INTO contacts (id, name, profile, created_at, updated_at) \
             SELECT n, 'Customer ' || n, '{{}}', {start}, {start} FROM seq",
            seq(contacts)
        ),
        format!(
            "{} INSERT INTO conversations (id, contact_id, inbox_id, channel, team_id, assignee_id, status, last_activity_at, \
             preview, created_at, customer_address, first_replied_at, resolutions, resolved_at, csat_score, csat_at) \
             SELECT n, 1 + n % {contacts}, {first_inbox} + n % 6, \
             CASE n % 6 WHEN 0 THEN 'sms' WHEN 1 THEN 'whatsapp' WHEN 2 THEN 'messenger' WHEN 3 THEN 'webchat' WHEN 4 THEN 'in_app' ELSE 'email' END, \
             {team}, {agent}, 'resolved', {resolved}, 'Thanks!', {created}, 'c' || n, {first}, 1, {resolved}, \
             CASE WHEN n % 5 = 0 THEN 1 + (n / 5) % 5 END, CASE WHEN n % 5 = 0 THEN {resolved} + 60000 END FROM seq",
            seq(n)
        ),
        format!(
            "{} INSERT INTO assignments (conversation_id, agent_id, team_id, started_at, ended_at, end_reason) \
             SELECT n, {agent}, {team}, {created} + 10000, {resolved}, 'resolved' FROM seq",
            seq(n)
        ),
        format!(
            "{} INSERT INTO sla_events (conversation_id, team_id, target, due_at, met_at, breached, created_at) \
             SELECT n, {team}, 'first_response', {created} + 900000, {first}, CASE WHEN {first} > {created} + 900000 THEN 1 ELSE 0 END, {created} FROM seq",
            seq(n)
        ),
        format!(
            "{} INSERT INTO presence_log (agent_id, presence, automatic, started_at, ended_at) \
             SELECT {first_agent} + n % {}, 'online', 0, {start} + (n / {}) * {DAY} + 8 * {HOUR}, {start} + (n / {}) * {DAY} + 16 * {HOUR} FROM seq",
            seq(plan.agents * plan.days),
            plan.agents,
            plan.agents,
            plan.agents,
        ),
    ]
}

async fn year(store: &Store, plan: Plan, run: impl Fn(Vec<String>)) -> Year {
    let team = store.create_team("Support").await.unwrap().id;
    let hash = hash_secret("bench password").unwrap();
    let mut first_agent = 0;
    for i in 0..plan.agents {
        let a = store
            .create_agent(NewAgent {
                name: format!("Agent {i:02}"),
                email: format!("agent{i}@bench.test"),
                password_hash: hash.clone(),
                role: Role::Agent,
                teams: vec![team],
                capacity: 5,
            })
            .await
            .unwrap();
        if i == 0 {
            first_agent = a.id;
        }
    }
    let lead = store
        .create_agent(NewAgent {
            name: "Lead".into(),
            email: "lead@bench.test".into(),
            password_hash: hash,
            role: Role::Lead,
            teams: vec![team],
            capacity: 5,
        })
        .await
        .unwrap();
    let mut first_inbox = 0;
    for (i, kind) in CHANNELS.into_iter().enumerate() {
        let inbox = store
            .create_inbox(CreateInbox {
                kind,
                name: format!("{kind}"),
                team_id: team,
                address: format!("bench-{i}"),
                settings: serde_json::json!({}),
            })
            .await
            .unwrap();
        if i == 0 {
            first_inbox = inbox.id;
        }
    }
    // The year ends yesterday (UTC), so every day of it has settled.
    let today = now_ms() / DAY * DAY;
    let start = today - plan.days * DAY;
    run(year_sql(plan, start, first_agent, first_inbox, team));
    let date =
        |ms: i64| jiff::Timestamp::from_millisecond(ms).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    Year {
        lead: Viewer { agent_id: lead.id, role: Role::Lead, teams: vec![team] },
        team,
        from: date(start),
        to: date(today - DAY),
    }
}

struct Figures {
    engine: &'static str,
    seed: Duration,
    plain: Vec<f64>,
    cold: Duration,
    warm: Vec<f64>,
    conversations: u64,
}

async fn measure(
    engine: &'static str,
    store: Store,
    plan: Plan,
    run: impl Fn(Vec<String>),
    count: impl Fn(i64, i64) -> (i64, f64),
) -> Figures {
    let seeded = Instant::now();
    let y = year(&store, plan, run).await;
    let seed = seeded.elapsed();
    let q = ReportQuery { from: y.from.clone(), to: y.to.clone(), team_id: Some(y.team) };
    let started = Instant::now();
    let first = store.report(&y.lead, q.clone(), "UTC").await.unwrap();
    let cold = started.elapsed();
    assert_eq!(first.conversations as i64, plan.conversations, "every conversation counted");
    assert_eq!(first.agents.len() as i64, plan.agents + 1);
    let (mut plain, mut warm) = (Vec::new(), Vec::new());
    let (from, to) = (now_ms() / DAY * DAY - plan.days * DAY, now_ms() / DAY * DAY);
    for _ in 0..plan.runs {
        let (n, ms) = count(from, to);
        plain.push(ms);
        assert_eq!(n, plan.conversations);
        let t = Instant::now();
        let r = store.report(&y.lead, q.clone(), "UTC").await.unwrap();
        warm.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(r.conversations, first.conversations);
    }
    Figures { engine, seed, plain, cold, warm, conversations: first.conversations }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn worst(v: &[f64]) -> f64 {
    v.iter().copied().fold(0.0, f64::max)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let plan = if full {
        Plan { agents: 50, conversations: 500_000, days: 365, runs: 15 }
    } else {
        Plan { agents: 5, conversations: 3_000, days: 30, runs: 2 }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let options = StoreOptions { readers: 2, writers: 1, ..StoreOptions::default() };
    let mut figures = Vec::new();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reports.db");
    let store = rt.block_on(async { Store::open(&format!("sqlite://{}", file.display()), &options) }).unwrap();
    let open = |path: &std::path::Path| {
        let c = rusqlite::Connection::open(path).unwrap();
        c.busy_timeout(Duration::from_secs(30)).unwrap();
        c
    };
    let (path, counted) = (file.clone(), open(&file));
    let sqlite_count = move |from: i64, to: i64| -> (i64, f64) {
        let t = Instant::now();
        let n = counted.query_row(COUNT, [from, to], |r| r.get(0)).unwrap();
        (n, t.elapsed().as_secs_f64() * 1000.0)
    };
    figures.push(rt.block_on(measure(
        "SQLite",
        store,
        plan,
        move |sql| {
            let c = open(&path);
            for s in sql {
                c.execute_batch(&s).unwrap();
            }
        },
        sqlite_count,
    )));

    let schema = Schema::new("bench_reports");
    let store = rt.block_on(async { Store::open(&schema.url, &options) }).unwrap();
    let (url, count_url) = (schema.url.clone(), schema.url.clone());
    // The plain count runs on a thread of its own (the synchronous client may not run on
    // the runtime's threads).
    let pg_count = move |from: i64, to: i64| -> (i64, f64) {
        let url = count_url.clone();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            let pg = COUNT.replacen('?', "$1", 1).replacen('?', "$2", 1);
            let t = Instant::now();
            let n: i64 = c.query_one(pg.as_str(), &[&from, &to]).unwrap().get(0);
            (n, t.elapsed().as_secs_f64() * 1000.0)
        })
        .join()
        .unwrap()
    };
    figures.push(rt.block_on(measure(
        "PostgreSQL",
        store,
        plan,
        move |sql| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                for s in sql {
                    c.batch_execute(&s).unwrap();
                }
                c.batch_execute("ANALYZE").unwrap();
            })
            .join()
            .unwrap();
        },
        pg_count,
    )));

    println!(
        "switchboard-hub reports bench: a year of a {}-agent team, {} conversations over {} days ({} cores)",
        plan.agents,
        plan.conversations,
        plan.days,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    if !full {
        println!("(smoke run of an unoptimised build: `cargo bench` gives the figures)");
    }
    for mut f in figures {
        let (plain, warm) = (median(&mut f.plain), median(&mut f.warm));
        println!("{}: written in {:.1} s; {} conversations counted", f.engine, f.seed.as_secs_f64(), f.conversations);
        println!("  baseline: plain count of the year's conversations:   median {plain:>7.1} ms");
        println!(
            "  the year's report, its days kept:                     median {warm:>7.1} ms  worst {:>7.1} ms   (target < 300 ms; {:.1}× the plain count)",
            worst(&f.warm),
            warm / plain
        );
        println!("  the first report, every day worked out from events:  {:>7.1} ms", f.cold.as_secs_f64() * 1000.0);
    }
    drop(schema);
    rt.shutdown_timeout(Duration::from_secs(1));
}
