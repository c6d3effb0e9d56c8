//! Webhook benchmark: signed webhooks ingested per second for each channel (32 concurrent
//! senders over loopback HTTP, the hub on SQLite), and the response time of Twilio webhooks
//! arriving at a steady 1,000 per second. Beside them, from the same run: a bare handler
//! answering `200` on the same server stack, taking the same requests from the same
//! senders.
//!
//! `cargo bench -p switchboard-hub --bench webhooks`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard_hub::api::AppState;
use switchboard_hub::channels::signature;
use switchboard_hub::config::Config;
use switchboard_hub::server;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::ChannelKind;

const SENDERS: usize = 32;

struct Signed {
    url: String,
    content_type: &'static str,
    header: (&'static str, String),
    body: String,
}

fn twilio(base: &str, inbox: i64, i: usize) -> Signed {
    let url = format!("{base}/webhooks/twilio/{inbox}");
    let from = format!("+1212{:07}", 3_000_000 + i % 5_000);
    let sid = format!("SM{i:032x}");
    let params = vec![
        ("AccountSid".to_owned(), "AC0123456789abcdef0123456789abcdef".to_owned()),
        ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
        ("Body".to_owned(), format!("Hello, where is order {i}?")),
        ("From".to_owned(), from),
        ("MessageSid".to_owned(), sid.clone()),
        ("NumMedia".to_owned(), "0".to_owned()),
        ("SmsMessageSid".to_owned(), sid),
        ("To".to_owned(), "+14155550100".to_owned()),
    ];
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    let sig = signature::twilio("bench-token", &url, &params);
    Signed { url, content_type: "application/x-www-form-urlencoded", header: ("x-twilio-signature", sig), body }
}

fn meta_signed(url: String, body: String) -> Signed {
    let sig = signature::meta("bench-secret", body.as_bytes());
    Signed { url, content_type: "application/json", header: ("x-hub-signature-256", sig), body }
}

fn whatsapp(base: &str, inbox: i64, i: usize) -> Signed {
    let wa = format!("1646{:07}", 4_000_000 + i % 5_000);
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": format!("Customer {i}")}, "wa_id": wa}],
        "messages": [{"from": wa, "id": format!("wamid.bench{i}"), "timestamp": (switchboard_hub::clock::now_ms() / 1000).to_string(), "type": "text", "text": {"body": format!("Hi, question {i}")}}]}}]}]});
    meta_signed(format!("{base}/webhooks/meta/{inbox}"), body.to_string())
}

fn messenger(base: &str, inbox: i64, i: usize) -> Signed {
    let body = json!({"object": "page", "entry": [{"id": "104857600012345", "time": 1, "messaging": [{
        "sender": {"id": format!("{}", 7_000_000_000_000u64 + (i % 5_000) as u64)}, "recipient": {"id": "104857600012345"},
        "timestamp": switchboard_hub::clock::now_ms(), "message": {"mid": format!("m_bench{i}"), "text": format!("Hello {i}")}}]}]});
    meta_signed(format!("{base}/webhooks/meta/{inbox}"), body.to_string())
}

async fn post(http: &reqwest::Client, s: &Signed) -> Duration {
    let started = Instant::now();
    let resp = http
        .post(&s.url)
        .header("content-type", s.content_type)
        .header(s.header.0, &s.header.1)
        .body(s.body.clone())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{} {}", resp.status(), resp.text().await.unwrap_or_default());
    started.elapsed()
}

async fn throughput(http: &reqwest::Client, requests: Vec<Signed>) -> f64 {
    let n = requests.len();
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..SENDERS {
        let (http, queue) = (http.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let next = queue.lock().unwrap().pop();
                match next {
                    Some(s) => {
                        post(&http, &s).await;
                    }
                    None => return,
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let per_channel = if full { 20_000 } else { 300 };
    let steady_secs = if full { 10 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let store = Store::open(&format!("sqlite://{}", dir.path().join("hooks.db").display()), &StoreOptions::default()).unwrap();
        let team = store.create_team("Bench").await.unwrap().id;
        let mk = |kind, address: &str, settings| CreateInbox { kind, name: kind.to_string(), team_id: team, address: address.into(), settings };
        let meta = json!({"app_secret": "bench-secret", "delivery": "simulated"});
        let sms = store.create_inbox(mk(ChannelKind::Sms, "+14155550100", json!({"auth_token": "bench-token", "delivery": "simulated"}))).await.unwrap().id;
        let wa = store.create_inbox(mk(ChannelKind::Whatsapp, "+15550783881", meta.clone())).await.unwrap().id;
        let fb = store.create_inbox(mk(ChannelKind::Messenger, "104857600012345", meta)).await.unwrap().id;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let config = Config { public_url: Some(base.clone()), ..Config::default() };
        tokio::spawn(server::run(listener, AppState::new(store.clone(), config), std::future::pending()));
        let http = reqwest::Client::builder().pool_max_idle_per_host(SENDERS).build().unwrap();

        println!("switchboard-hub webhook bench ({} cores, SQLite, {SENDERS} concurrent senders)", std::thread::available_parallelism().map_or(1, |n| n.get()));
        if !full {
            println!("(smoke run of an unoptimised build: it checks the benchmark works; `cargo bench` gives the figures)");
        }
        let bare = switchboard_testkit::baseline::bare_handler().await;
        let same = |mut s: Signed| {
            s.url = format!("{bare}/");
            s
        };
        let baseline = throughput(&http, (0..per_channel).map(|i| same(twilio(&base, sms, i))).collect()).await;
        let rate = throughput(&http, (0..per_channel).map(|i| twilio(&base, sms, i)).collect()).await;
        println!("signed Twilio SMS webhooks:      {rate:>8.0} /s   (target ≥ 3,000)");
        println!("  baseline: bare handler, same stack: {baseline:>8.0} /s   (ratio {:.2})", rate / baseline);
        let rate = throughput(&http, (0..per_channel).map(|i| whatsapp(&base, wa, i)).collect()).await;
        println!("signed WhatsApp webhooks:        {rate:>8.0} /s");
        let rate = throughput(&http, (0..per_channel).map(|i| messenger(&base, fb, i)).collect()).await;
        println!("signed Messenger webhooks:       {rate:>8.0} /s");

        // A steady 1,000 Twilio webhooks per second.
        let total = steady_secs * 1_000;
        let requests: Vec<Arc<Signed>> = (0..total).map(|i| Arc::new(twilio(&base, sms, 1_000_000 + i))).collect();
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::with_capacity(total);
        let started = Instant::now();
        for s in requests {
            tick.tick().await;
            let http = http.clone();
            tasks.push(tokio::spawn(async move { post(&http, &s).await }));
        }
        let mut times = Vec::with_capacity(total);
        for t in tasks {
            times.push(t.await.unwrap().as_secs_f64() * 1e3);
        }
        let offered = total as f64 / started.elapsed().as_secs_f64();
        times.sort_by(f64::total_cmp);
        let p = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "Twilio webhooks at a steady {offered:.0}/s for {steady_secs} s: response p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms   (target p99 < 25 ms)",
            p(0.5),
            p(0.99),
            p(1.0)
        );
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}
