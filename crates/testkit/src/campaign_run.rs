//! A campaign run against the real hub binary: a workspace made through its command line,
//! a Twilio stand-in that takes each message (who, and when it arrived) and reports it
//! back with a signed status callback to whichever hub answers (as a load balancer would),
//! an audience file posted by a lead, one or more hubs on the same database, killed with
//! SIGKILL while they send when the plan says so; and what it all came to. The campaign
//! kill test and the campaign benchmark run it.

use crate::hub_process::{self, cli, free_port, PASSWORD};
use crate::pg_schema::Schema;
use axum::body::Bytes;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use std::collections::HashMap;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_hub::channels::signature;

const TOKEN: &str = "campaign-run-token";
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TEMPLATE: &str = "Hi {{1}}, your order {{2}} is on its way.";

/// How often the console asks for an open campaign's progress (`pollMs` in
/// `ui/src/components/Campaigns.svelte`).
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Which database the hubs share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub recipients: usize,
    /// The first this many recipients opted out (STOP) before the campaign.
    pub opted_out: usize,
    /// The inbox's `send_rate`, messages a second.
    pub rate: u32,
    pub hubs: usize,
    /// SIGKILLs spread over the sending time, each hub in turn, each started again.
    pub kills: usize,
    pub db: Db,
}

/// What the run came to.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub eligible: usize,
    /// Messages the stand-in took, and to how many numbers.
    pub received: usize,
    pub received_distinct: usize,
    /// Numbers that got more than one message.
    pub twice: usize,
    /// Eligible numbers that got none.
    pub missing: usize,
    /// Received by a number that opted out.
    pub to_opted_out: usize,
    /// Results as the hub reports them.
    pub sent: usize,
    pub failed: usize,
    pub skipped: usize,
    pub skipped_opted_out: usize,
    pub kills: usize,
    /// From the campaign's creation to its last message taken.
    pub elapsed: Duration,
    /// Messages a second, first to last arrival.
    pub per_sec: f64,
    /// The most arrivals in any one second.
    pub busiest_second: usize,
    /// The highest peak resident memory of any hub process, in KiB.
    pub peak_rss_kib: u64,
}

/// What the stand-in saw.
#[derive(Default)]
struct Seen {
    to: HashMap<String, u32>,
    at: Vec<Instant>,
}

/// Twilio's Messages API on 127.0.0.1:0: takes every message and, a moment later, reports
/// it with a status callback signed over the URL it was given, posted to the first of
/// `hubs` that answers.
async fn twilio(hubs: Arc<Mutex<Vec<String>>>) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let counter = Arc::new(AtomicU64::new(0));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |_uri: Uri, body: Bytes| {
        let (seen, counter, hubs, http) = (s.clone(), counter.clone(), hubs.clone(), http.clone());
        async move {
            let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
            let Some(to) = form.get("To").cloned() else {
                return (StatusCode::BAD_REQUEST, "no To").into_response();
            };
            {
                let mut seen = seen.lock().unwrap();
                *seen.to.entry(to.clone()).or_default() += 1;
                seen.at.push(Instant::now());
            }
            let sid = format!("SM{:032x}", counter.fetch_add(1, Ordering::SeqCst) + 1);
            if let Some(callback) = form.get("StatusCallback").cloned() {
                let sid = sid.clone();
                tokio::spawn(report(http, hubs, callback, sid, to));
            }
            (StatusCode::CREATED, axum::Json(serde_json::json!({"sid": sid, "status": "queued"}))).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), seen)
}

/// Posts the `sent` status callback for one message, signed over `callback`, to the first
/// hub that answers; tries for half a minute.
async fn report(http: reqwest::Client, hubs: Arc<Mutex<Vec<String>>>, callback: String, sid: String, to: String) {
    tokio::time::sleep(Duration::from_millis(20)).await;
    let params: Vec<(String, String)> = [
        ("AccountSid", SID),
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "sent"),
        ("To", to.as_str()),
        ("From", "+14155550100"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signed = signature::twilio(TOKEN, &callback, &params);
    let path = callback.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap_or_default();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let bases = hubs.lock().unwrap().clone();
        for base in bases {
            let sent =
                http.post(format!("{base}{path}")).header("x-twilio-signature", &signed).form(&params).send().await;
            if sent.is_ok_and(|r| r.status().is_success()) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A hub process and how to start it again.
struct Hub {
    child: Child,
    base: String,
    config: std::path::PathBuf,
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The most arrivals in any one-second window of sorted `at`.
pub fn busiest_second(at: &[Instant]) -> usize {
    let mut most = 0;
    let mut lo = 0;
    for hi in 0..at.len() {
        while at[hi].duration_since(at[lo]) >= Duration::from_secs(1) {
            lo += 1;
        }
        most = most.max(hi - lo + 1);
    }
    most
}

fn number(i: usize) -> String {
    format!("+1212{:07}", 2_000_000 + i)
}

/// The baseline: `n` plain agent replies queued on `n` conversations, then handed to the
/// same stand-in by one hub's delivery worker, on `db`. Returns replies a second, from the
/// hub's start to the last reply taken.
pub async fn plain_replies(hub_bin: &Path, n: usize, db: Db) -> f64 {
    use switchboard_protocol::mutation::{Mutation, MutationEnvelope, SendReply};
    let dir = tempfile::tempdir().unwrap();
    let schema;
    let url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("replies.db").display()),
        Db::Postgres => {
            schema = Schema::new("plain_replies");
            schema.url.clone()
        }
    };
    let (provider, seen) = twilio(Arc::new(Mutex::new(Vec::new()))).await;
    cli(
        hub_bin,
        &url,
        &["agent", "add", "--name", "Lea", "--email", "lead@x.test", "--role", "lead", "--team", "Support"],
    );
    let settings = serde_json::json!({"account_sid": SID, "auth_token": TOKEN, "base_url": provider});
    let inbox = ["inbox", "add", "--kind", "sms", "--name", "SMS", "--team", "Support", "--address", "+14155550100"];
    cli(hub_bin, &url, &[&inbox[..], &["--settings", &settings.to_string()]].concat());
    {
        let store = switchboard_hub::store::Store::open(&url, &Default::default()).unwrap();
        let lead = switchboard_hub::policy::Viewer {
            agent_id: 1,
            role: switchboard_protocol::model::Role::Lead,
            teams: vec![1],
        };
        let mut replies = Vec::with_capacity(n);
        for i in 0..n {
            let msg = switchboard_hub::store::ingest::Inbound::text(
                1,
                &number(i),
                "Where is my order?",
                Some(&format!("SMin{i}")),
                switchboard_hub::clock::now_ms(),
            );
            let at = store.ingest(msg).await.unwrap();
            replies.push(MutationEnvelope {
                mutation_id: i as u64 + 1,
                mutation: Mutation::SendReply(SendReply {
                    conversation_id: at.conversation_id,
                    client_msg_id: format!("reply-{i}"),
                    body: format!("Your order #{} is on its way.", 10_000 + i),
                    attachments: vec![],
                    choices: None,
                }),
                expected_version: None,
            });
        }
        for chunk in replies.chunks(500) {
            store.apply_mutations(&lead, "baseline", chunk.to_vec()).await.unwrap();
        }
    }
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\npublic_url = \"{base}\"\n")).unwrap();
    let started = Instant::now();
    let mut child = hub_process::spawn(hub_bin, &url, &config);
    hub_process::wait_healthy(&mut child, &base).await;
    let deadline = Instant::now() + Duration::from_secs(600);
    while seen.lock().unwrap().at.len() < n {
        assert!(Instant::now() < deadline, "the replies were not all sent in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last = seen.lock().unwrap().at.iter().max().copied().unwrap_or(started);
    hub_process::stop(&mut child);
    n as f64 / last.duration_since(started).as_secs_f64().max(1e-3)
}

/// Runs `plan` with the hub binary at `hub_bin`.
pub async fn run(hub_bin: &Path, plan: Plan) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let schema;
    let url = match plan.db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("campaign.db").display()),
        Db::Postgres => {
            schema = Schema::new("campaign_run");
            schema.url.clone()
        }
    };
    let ports: Vec<u16> = (0..plan.hubs.max(1)).map(|_| free_port()).collect();
    let bases: Vec<String> = ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();
    let alive = Arc::new(Mutex::new(bases.clone()));
    let (provider, seen) = twilio(alive.clone()).await;

    cli(
        hub_bin,
        &url,
        &["agent", "add", "--name", "Lea", "--email", "lead@x.test", "--role", "lead", "--team", "Support"],
    );
    let settings = serde_json::json!({
        "account_sid": SID,
        "auth_token": TOKEN,
        "base_url": provider,
        "status_callback_url": format!("{}/webhooks/twilio/1/status", bases[0]),
        "send_rate": plan.rate,
        "templates": [{"name": "shipped", "language": "en_US", "body": TEMPLATE}],
    });
    let inbox = ["inbox", "add", "--kind", "sms", "--name", "SMS", "--team", "Support", "--address", "+14155550100"];
    cli(hub_bin, &url, &[&inbox[..], &["--settings", &settings.to_string()]].concat());
    {
        let store = switchboard_hub::store::Store::open(&url, &Default::default()).unwrap();
        for i in 0..plan.opted_out {
            let stop = switchboard_hub::store::ingest::Inbound::text(
                1,
                &number(i),
                "STOP",
                Some(&format!("SMstop{i}")),
                switchboard_hub::clock::now_ms(),
            );
            store.ingest(stop).await.unwrap();
        }
    }

    let mut hubs: Vec<Hub> = Vec::new();
    for (port, base) in ports.iter().zip(&bases) {
        let config = dir.path().join(format!("hub-{port}.toml"));
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\npublic_url = \"{base}\"\ndelivery_timeout_ms = 2000\ncampaign_confirm_ms = 3000\n"
            ),
        )
        .unwrap();
        let mut child = hub_process::spawn(hub_bin, &url, &config);
        hub_process::wait_healthy(&mut child, base).await;
        hubs.push(Hub { child, base: base.clone(), config });
    }

    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let token: String = {
        let r = http
            .post(format!("{}/api/v1/auth/login", bases[0]))
            .json(&serde_json::json!({"email": "lead@x.test", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        r.json::<serde_json::Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    };
    let mut csv = String::from("phone,name,1,2\n");
    for i in 0..plan.recipients {
        csv.push_str(&format!("{},Customer {i},Customer {i},#{}\n", number(i), 10_000 + i));
    }
    let spec = serde_json::json!({
        "name": "Shipping notice",
        "inbox_id": 1,
        "template": "shipped",
        "purpose": "service",
        "audience": {"kind": "csv", "csv": csv},
        "scheduled_at": 0,
    });
    let started = Instant::now();
    let r = http.post(format!("{}/api/v1/campaigns", bases[0])).bearer_auth(&token).json(&spec).send().await.unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let id = r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap();

    // The killer: SIGKILL at even intervals over the expected sending time, each hub in turn.
    let expected = Duration::from_millis((plan.recipients as u64 * 1_000) / u64::from(plan.rate.max(1)));
    let gap = expected / u32::try_from(plan.kills + 1).unwrap_or(1);
    let mut report = Report::default();
    let mut peak = 0;
    for k in 0..plan.kills {
        tokio::time::sleep(gap).await;
        let which = k % hubs.len();
        let hub = &mut hubs[which];
        peak = peak.max(peak_rss_kib(hub.child.id()));
        alive.lock().unwrap().retain(|b| b != &hub.base);
        hub.child.kill().unwrap();
        hub.child.wait().unwrap();
        report.kills += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
        hub.child = hub_process::spawn(hub_bin, &url, &hub.config);
        hub_process::wait_healthy(&mut hub.child, &hub.base).await;
        alive.lock().unwrap().push(hub.base.clone());
    }

    // Until the campaign is done, asked of any hub that answers as often as the lead's
    // console asks for an open campaign's progress.
    let deadline = Instant::now() + expected * 3 + Duration::from_secs(120);
    let campaign = loop {
        assert!(Instant::now() < deadline, "the campaign did not finish in time");
        let mut state = None;
        for base in &bases {
            if let Ok(r) = http.get(format!("{base}/api/v1/campaigns/{id}")).bearer_auth(&token).send().await {
                if let Ok(c) = r.json::<serde_json::Value>().await {
                    state = Some(c);
                    break;
                }
            }
        }
        match state {
            Some(c) if c["state"] == "done" => break c,
            _ => tokio::time::sleep(PROGRESS_EVERY).await,
        }
    };
    for hub in &hubs {
        peak = peak.max(peak_rss_kib(hub.child.id()));
    }
    report.peak_rss_kib = peak;
    // Status callbacks still on their way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let export =
        http.get(format!("{}/api/v1/campaigns/{id}/export", bases[0])).bearer_auth(&token).send().await.unwrap();
    let results = export.text().await.unwrap();
    for hub in &mut hubs {
        hub_process::stop(&mut hub.child);
    }

    let counts = &campaign["counts"];
    let n = |k: &str| counts[k].as_u64().unwrap_or(0) as usize;
    report.sent = n("sent") + n("delivered") + n("read") + n("replied");
    report.failed = n("failed");
    report.skipped = n("skipped");
    report.skipped_opted_out = results.lines().filter(|l| l.contains(",skipped,") && l.contains("opted out")).count();
    let seen = seen.lock().unwrap();
    let mut at = seen.at.clone();
    at.sort();
    report.eligible = plan.recipients - plan.opted_out;
    report.received = at.len();
    report.received_distinct = seen.to.len();
    report.twice = seen.to.values().filter(|&&k| k > 1).count();
    report.to_opted_out = (0..plan.opted_out).filter(|&i| seen.to.contains_key(&number(i))).count();
    report.missing = (plan.opted_out..plan.recipients).filter(|&i| !seen.to.contains_key(&number(i))).count();
    if let (Some(first), Some(last)) = (at.first(), at.last()) {
        report.elapsed = last.duration_since(started);
        let span = last.duration_since(*first).as_secs_f64().max(1e-3);
        report.per_sec = (at.len().saturating_sub(1)) as f64 / span;
    }
    report.busiest_second = busiest_second(&at);
    report
}
