//! Knowledge-base and bot benchmark, on SQLite and on PostgreSQL: search latency over
//! 10,000 articles (the store's whole path: the engine's ranked search and the hits read
//! back), and the built-in bot's answer from a customer's signed SMS webhook to its reply
//! stored (the webhook's answer comes after the write that holds both). Both are printed
//! beside the baseline measured in the same run: the same webhooks to an inbox with no bot
//! (the plain ingest of the same messages).
//!
//! `cargo bench -p switchboard-hub --bench knowledge` (PostgreSQL from `SWITCHBOARD_TEST_PG`,
//! default `postgres://postgres@127.0.0.1:5432/test`; a private schema is made and
//! dropped). `cargo test --bench knowledge` is a smoke run.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;
use switchboard_hub::api::AppState;
use switchboard_hub::config::Config;
use switchboard_hub::policy::Viewer;
use switchboard_hub::server;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::articles::{ArticleStatus, SaveArticle};
use switchboard_protocol::model::ChannelKind;
use switchboard_testkit::pg_schema::Schema;
use switchboard_testkit::twilio;

const TOPICS: &[(&str, &str)] = &[
    ("return", "You can return it unused within 30 days for a full refund; print the label from your order."),
    ("track", "Every order gets a tracking number by email when it ships; the courier's page shows where it is."),
    ("refund", "Refunds reach your card three to five business days after the returned parcel arrives."),
    ("assemble", "Assembly takes about twenty minutes with the included tools; follow the numbered steps."),
    ("clean", "Wipe it with a damp cloth and mild soap; never use bleach or a scouring pad."),
    ("warranty", "It is covered for two years against defects in materials and workmanship."),
    ("replace", "A damaged delivery is replaced free of charge; send us a photo of the damage."),
    ("deliver", "Delivery takes three to six business days; express delivery arrives in one to three."),
    ("pay", "We accept cards, PayPal, Apple Pay and gift cards for any order."),
    ("store", "Keep it dry and out of direct sunlight when you do not use it for a season."),
];
const PRODUCTS: &[&str] = &[
    "armchair",
    "blender",
    "kettle",
    "lamp",
    "sofa",
    "rug",
    "toaster",
    "bookshelf",
    "desk",
    "mattress",
    "pillow",
    "duvet",
    "curtain",
    "mirror",
    "planter",
    "barbecue",
    "parasol",
    "hammock",
    "lantern",
    "bench",
    "stool",
    "wardrobe",
    "dresser",
    "cabinet",
    "vase",
    "clock",
    "fan",
    "heater",
    "kettlebell",
    "tent",
];
const COLOURS: &[&str] = &["oak", "walnut", "white", "black", "green", "blue", "grey", "sand", "terracotta", "navy"];
const LINES: &[&str] =
    &["Nordic", "Harbour", "Meadow", "Atlas", "Cove", "Summit", "Ember", "Willow", "Tide", "Orchard"];

/// Article `i`: a topic for one product of one line and colour, so that 10,000 articles
/// are all different and share most of their words, as a real catalogue's do.
fn article(i: usize) -> SaveArticle {
    let (verb, answer) = TOPICS[i % TOPICS.len()];
    let product = PRODUCTS[(i / TOPICS.len()) % PRODUCTS.len()];
    let line = LINES[(i / (TOPICS.len() * PRODUCTS.len())) % LINES.len()];
    let colour = COLOURS[(i / (TOPICS.len() * PRODUCTS.len() * LINES.len())) % COLOURS.len()];
    SaveArticle {
        key: format!("{verb}-{line}-{colour}-{product}-{i}").to_lowercase(),
        title: format!("How do I {verb} the {line} {colour} {product}?"),
        body: format!(
            "{answer}\n\n## The {line} {product}\n\nThis applies to the {colour} {product} of the {line} range. \
             If anything is unclear, write to us and a person answers."
        ),
        tags: vec![verb.into(), (*product).into(), line.to_lowercase()],
        locale: "en".into(),
        collection: format!("{line} range"),
        status: ArticleStatus::Published,
        new: false,
    }
}

/// A customer's question about some article.
fn question(rng: &mut StdRng) -> String {
    let (verb, _) = TOPICS[rng.random_range(0..TOPICS.len())];
    let product = PRODUCTS[rng.random_range(0..PRODUCTS.len())];
    let line = LINES[rng.random_range(0..LINES.len())];
    match rng.random_range(0..3) {
        0 => format!("how can I {verb} my {product}?"),
        1 => format!("Hi, I need to {verb} the {line} {product} I bought last week"),
        _ => format!("{product} {verb}"),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct Plan {
    articles: usize,
    searches: usize,
    webhooks: usize,
}

struct Figures {
    engine: &'static str,
    search_p50: f64,
    search_p95: f64,
    bot_p50: f64,
    bot_p99: f64,
    plain_p50: f64,
    plain_p99: f64,
    answered: usize,
}

/// Sequential signed SMS webhooks to `inbox`, each from a new customer; their latencies.
async fn webhooks(base: &str, inbox: i64, n: usize, rng: &mut StdRng, tag: &str) -> Vec<f64> {
    let http = reqwest::Client::new();
    let url = format!("{base}/webhooks/twilio/{inbox}");
    let mut took = Vec::with_capacity(n);
    for i in 0..n {
        let body = question(rng);
        let from = format!("+1212{:07}", 3_000_000 + i);
        let sid = format!("SM{tag}{i:030}");
        let sms = twilio::Sms {
            post_to: &url,
            signed_url: &url,
            auth_token: "bench-token",
            from: &from,
            to: "+14155550100",
            body: &body,
            sid: &sid,
        };
        let t = Instant::now();
        let status = twilio::post(&http, &sms).await;
        took.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(status.is_success(), "{status}");
    }
    took.sort_by(f64::total_cmp);
    took
}

async fn measure(engine: &'static str, store: Store, plan: &Plan) -> Figures {
    let team = store.create_team("Bench").await.unwrap().id;
    let started = Instant::now();
    let saves: Vec<SaveArticle> = (0..plan.articles).map(article).collect();
    for chunk in saves.chunks(1_000) {
        store.import_articles(Viewer::command_line(), chunk.to_vec()).await.unwrap();
    }
    println!("  {engine}: {} articles imported in {:.1} s", plan.articles, started.elapsed().as_secs_f64());

    let mut rng = StdRng::seed_from_u64(42);
    let mut took = Vec::with_capacity(plan.searches);
    for _ in 0..plan.searches {
        let q = question(&mut rng);
        let t = Instant::now();
        let hits = store.search_articles("en".into(), q, false, false, 5, None).await.unwrap();
        took.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!hits.is_empty());
    }
    took.sort_by(f64::total_cmp);
    let (search_p50, search_p95) = (percentile(&took, 0.5), percentile(&took, 0.95));

    let mk = |address: &str, settings| CreateInbox {
        kind: ChannelKind::Sms,
        name: address.into(),
        team_id: team,
        address: address.into(),
        settings,
    };
    let plain = store
        .create_inbox(mk("+14155550100", serde_json::json!({"auth_token": "bench-token", "delivery": "simulated"})))
        .await
        .unwrap()
        .id;
    let bot = store
        .create_inbox(mk(
            "+14155550111",
            serde_json::json!({"auth_token": "bench-token", "delivery": "simulated", "bot": {"mode": "builtin"}}),
        ))
        .await
        .unwrap()
        .id;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config { public_url: Some(base.clone()), ..Config::default() };
    tokio::spawn(server::run(listener, AppState::new(store.clone(), config), std::future::pending()));
    // Warm both paths, then measure them in turn, the baseline first.
    webhooks(&base, plain, 20, &mut rng, "wp").await;
    webhooks(&base, bot, 20, &mut rng, "wb").await;
    let plain_ms = webhooks(&base, plain, plan.webhooks, &mut rng, "p").await;
    let bot_ms = webhooks(&base, bot, plan.webhooks, &mut rng, "b").await;
    // How many the bot answered from an article (the rest it handed to people).
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    let q = switchboard_protocol::report::ReportQuery { from: today.clone(), to: today, team_id: None };
    let r = store.report(&Viewer::command_line(), q, "UTC").await.unwrap();
    let answered = usize::try_from(r.bot.conversations - r.bot.handed_off).unwrap_or(0);
    Figures {
        engine,
        search_p50,
        search_p95,
        bot_p50: percentile(&bot_ms, 0.5),
        bot_p99: percentile(&bot_ms, 0.99),
        plain_p50: percentile(&plain_ms, 0.5),
        plain_p99: percentile(&plain_ms, 0.99),
        answered,
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let plan = if full {
        Plan { articles: 10_000, searches: 2_000, webhooks: 1_000 }
    } else {
        Plan { articles: 500, searches: 50, webhooks: 30 }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "switchboard-hub knowledge-base bench ({} cores): search over {} articles, the built-in bot's answer from webhook to stored",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        plan.articles
    );
    if !full {
        println!("(smoke run of an unoptimised build: it checks the benchmark works; `cargo bench` gives the figures)");
    }
    let options = StoreOptions::default();
    let dir = tempfile::tempdir().unwrap();
    let mut figures = Vec::new();
    let url = format!("sqlite://{}", dir.path().join("kb.db").display());
    figures.push(rt.block_on(async { measure("SQLite", Store::open(&url, &options).unwrap(), &plan).await }));
    let schema = Schema::new("bench_kb");
    figures
        .push(rt.block_on(async { measure("PostgreSQL", Store::open(&schema.url, &options).unwrap(), &plan).await }));
    println!();
    println!(
        "{:<11} {:>22} {:>26} {:>28} {:>10}",
        "engine", "search p50 / p95 (ms)", "bot answer p50 / p99 (ms)", "plain ingest p50 / p99 (ms)", "answered"
    );
    for f in &figures {
        println!(
            "{:<11} {:>10.2} / {:>9.2} {:>14.2} / {:>9.2} {:>16.2} / {:>9.2} {:>6} of {}",
            f.engine,
            f.search_p50,
            f.search_p95,
            f.bot_p50,
            f.bot_p99,
            f.plain_p50,
            f.plain_p99,
            f.answered,
            plan.webhooks + 20
        );
    }
    println!("targets: search p95 < 10 ms over 10,000 articles; the bot's answer p99 < 50 ms");
}
