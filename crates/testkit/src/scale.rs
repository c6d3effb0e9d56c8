//! The scale run: three real hub processes on one PostgreSQL database behind HAProxy (the
//! project's own `deploy/haproxy.cfg`; as many instances of it as the machine's file
//! descriptor limit needs, each holding at most 4,500 consoles, as a site runs two
//! proxies behind one address), thousands of consoles holding change streams through it, customers' signed webhooks across channels at a steady rate from a sender
//! that retries each until it gets a `2xx`, agents replying, and mid-run one hub killed
//! with SIGKILL (and started again, as a service manager does) and another drained with
//! SIGTERM. What it reports: webhooks acknowledged against messages stored (equal, none
//! twice), the delay from a message taken in to its frame on consoles of the other hubs,
//! how long the killed hub's consoles took to resume on another hub, and each hub's peak
//! memory.

use crate::hub_process::{self, free_port};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_hub::channels::signature;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Webhooks in flight at once, as a provider holds (each is a connection to the proxy).
const IN_FLIGHT: usize = 1_024;

/// How big a run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Consoles holding streams, spread over `teams` teams (a team's consoles see its
    /// conversations).
    pub consoles: usize,
    pub teams: usize,
    /// Webhooks a second, for `secs` seconds.
    pub per_sec: u64,
    pub secs: u64,
    /// Agents' replies a second.
    pub replies_per_sec: u64,
}

impl Plan {
    /// How long the sender starts new webhooks: three times the run, and 30 seconds more,
    /// so hubs slower than the offered rate still take every one in a fair run.
    pub fn send_bound(&self) -> Duration {
        Duration::from_secs(self.secs * 3 + 30)
    }
}

/// What the run saw.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Webhooks offered: the plan's rate times its seconds.
    pub offered: u64,
    /// Webhooks sent at least once. When the hubs fall behind the offered rate, the sender
    /// stops starting new ones at the run's bound and retries those it started until they
    /// are acknowledged, as a provider does.
    pub sent: u64,
    pub acknowledged: u64,
    /// Attempts that got no `2xx` and were sent again.
    pub retries: u64,
    /// What those attempts were answered, by HTTP status (0: no answer).
    pub refusals: Vec<(u16, u64)>,
    pub stored: u64,
    pub stored_distinct: u64,
    pub replies: u64,
    /// Webhooks acknowledged a second, from the first sent to the last acknowledged.
    pub acknowledged_per_sec: f64,
    /// Milliseconds from a message taken in (an SMS is dated by the hub on arrival) to its
    /// frame, its wait to be written and its commit included, on consoles of hubs other than
    /// the one that stored it, as they arrive live (not replayed after a reconnect); sorted.
    pub taken_in_to_frame_ms: Vec<f64>,
    /// Consoles of the killed hub, and how long each took to get its next frame from
    /// another hub (ms, sorted).
    pub resumed_ms: Vec<f64>,
    pub consoles_on_killed_hub: usize,
    /// Consoles of the killed hub whose stream never came back.
    pub lost_consoles: usize,
    /// Each hub's peak resident memory in MiB (the killed hub's first life included).
    pub memory_mib: Vec<(String, f64)>,
    pub elapsed: Duration,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The peak resident memory of process `pid`, in MiB.
fn peak_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmHWM:").and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .map_or(0.0, |kib: f64| kib / 1024.0)
}

struct Hub {
    name: String,
    child: Child,
    config: PathBuf,
}

/// A hub or proxy process is never left behind, even by a run that fails half way.
impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The proxies, stopped when dropped.
struct Proxies(Vec<Child>);

impl Drop for Proxies {
    fn drop(&mut self) {
        for p in &mut self.0 {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

struct Console {
    token: String,
    /// Whether it reads every change to time messages (a sample of the consoles).
    timed: bool,
}

/// What every console task shares.
struct Shared {
    started: Instant,
    teams: usize,
    latencies: Mutex<Vec<f64>>,
    resumed: Mutex<Vec<f64>>,
    on_killed: AtomicU64,
    /// When the killed hub was killed (ms since `started`), 0 before.
    killed_at_ms: AtomicU64,
    killed: Mutex<String>,
    conversations: Mutex<Vec<(usize, i64)>>,
    stop: AtomicBool,
}

/// A message change's provider id, conversation and commit time, if it is one the run sent.
fn message_of(change: &Value) -> Option<(&str, i64, i64)> {
    if change["type"] != "message" {
        return None;
    }
    let m = change;
    let p = m["provider_id"].as_str().filter(|p| p.starts_with("scale-"))?;
    Some((p, m["conversation_id"].as_i64()?, m["created_at"].as_i64()?))
}

/// The hub a provider id was sent to, as the sender recorded it.
type Served = Arc<Mutex<HashMap<String, String>>>;

async fn console(lb: String, c: Console, team: usize, cursor0: i64, shared: Arc<Shared>, served: Served) {
    let mut cursor = cursor0;
    let mut gone_at: Option<Instant> = None;
    let mut was_on_killed = false;
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let mut req = format!("ws://{lb}/api/v1/stream?since={cursor}").into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {}", c.token).parse().unwrap());
        // Ten thousand consoles share this process and the machine with the hubs: each reads
        // through a 16 KiB buffer, not the library's 128 KiB zeroed on every read.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(16 * 1024);
        let (mut ws, resp) = match tokio_tungstenite::connect_async_with_config(req, Some(config), false).await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let hub = resp.headers().get("x-served-by").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        // Messages committed before this stream opened reach it as replay, not live.
        let live_from = switchboard_hub::clock::now_ms();
        // The stream is back, on another hub, from its cursor (a cursor the hubs could not
        // resume from is refused before the upgrade).
        if let Some(at) = gone_at.take() {
            if was_on_killed {
                shared.resumed.lock().unwrap().push(at.elapsed().as_secs_f64() * 1e3);
            }
        }
        while let Some(Ok(msg)) = ws.next().await {
            let tokio_tungstenite::tungstenite::Message::Text(text) = msg else { continue };
            let now_ms = switchboard_hub::clock::now_ms();
            if c.timed {
                let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                if let Some(next) = frame["cursor"].as_str().and_then(|s| s.parse().ok()) {
                    cursor = next;
                }
                for ch in frame["changes"].as_array().into_iter().flatten() {
                    if let Some((p, conv, created)) = message_of(&ch["change"]) {
                        shared
                            .conversations
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push((team, conv));
                        let stored_by = served.lock().unwrap().get(p).cloned();
                        // An SMS is dated by the hub that takes it in (Twilio sends no time);
                        // WhatsApp's and Messenger's own times would blur the measure.
                        let sms = p[6..].parse::<usize>().is_ok_and(|i| (i % shared.teams) % 3 == 0);
                        if sms && created >= live_from && stored_by.is_some_and(|s| s != hub) {
                            shared.latencies.lock().unwrap().push((now_ms - created) as f64);
                        }
                    }
                }
            } else if let Some(i) = text.as_str().rfind("\"cursor\":\"") {
                let rest = &text.as_str()[i + 10..];
                if let Some(next) = rest.split('"').next().and_then(|s| s.parse().ok()) {
                    cursor = next;
                }
            }
        }
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        // The stream ended: the hub went away (killed, or drained). Resume elsewhere.
        let killed = shared.killed.lock().unwrap().clone();
        was_on_killed = !killed.is_empty() && hub == killed && shared.killed_at_ms.load(Ordering::Relaxed) > 0;
        if was_on_killed {
            shared.on_killed.fetch_add(1, Ordering::Relaxed);
        }
        gone_at = Some(Instant::now());
    }
}

/// One customer's webhook: a Twilio SMS, a WhatsApp message or a Messenger message, signed
/// as its provider signs it, to team `team`'s inbox of that kind.
fn webhook(
    lb: &str,
    inbox: i64,
    kind: ChannelKind,
    address: &str,
    i: u64,
) -> (String, &'static str, (&'static str, String), String) {
    let provider_id = format!("scale-{i}");
    match kind {
        ChannelKind::Sms => {
            let url = format!("{lb}/webhooks/twilio/{inbox}");
            let params: Vec<(String, String)> = [
                ("AccountSid", "AC0123456789abcdef0123456789abcdef".to_owned()),
                ("Body", format!("Where is order {i}?")),
                ("From", format!("+1212{:07}", 3_000_000 + i % 20_000)),
                ("MessageSid", provider_id),
                ("NumMedia", "0".to_owned()),
                ("To", address.to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
            let sig = signature::twilio("scale-token", &url, &params);
            (url, "application/x-www-form-urlencoded", ("x-twilio-signature", sig), body)
        }
        ChannelKind::Whatsapp => {
            let wa = format!("1646{:07}", 4_000_000 + i % 20_000);
            let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"display_phone_number": address.trim_start_matches('+'), "phone_number_id": format!("pn{inbox}")},
                "contacts": [{"profile": {"name": format!("Customer {i}")}, "wa_id": wa}],
                "messages": [{"from": wa, "id": provider_id, "timestamp": (switchboard_hub::clock::now_ms() / 1000).to_string(), "type": "text", "text": {"body": format!("Hi, question {i}")}}]}}]}]})
            .to_string();
            let sig = signature::meta("scale-secret", body.as_bytes());
            (format!("{lb}/webhooks/meta/{inbox}"), "application/json", ("x-hub-signature-256", sig), body)
        }
        _ => {
            let body = json!({"object": "page", "entry": [{"id": address, "time": 1, "messaging": [{
                "sender": {"id": format!("{}", 7_000_000_000_000u64 + i % 20_000)}, "recipient": {"id": address},
                "timestamp": switchboard_hub::clock::now_ms(), "message": {"mid": provider_id, "text": format!("Hello {i}")}}]}]})
            .to_string();
            let sig = signature::meta("scale-secret", body.as_bytes());
            (format!("{lb}/webhooks/meta/{inbox}"), "application/json", ("x-hub-signature-256", sig), body)
        }
    }
}

/// Runs `plan` with the hub binary at `hub_bin`.
pub async fn run(hub_bin: &Path, plan: Plan) -> Report {
    let schema = crate::pg_schema::Schema::new("sbscale");
    let url = schema.url.clone();
    // Each proxy connection takes two descriptors; 4,500 consoles keep one proxy under
    // 20,000 with room for the webhooks.
    let proxies = plan.consoles.div_ceil(4_500).max(1);
    let lbs: Vec<String> = (0..proxies).map(|_| format!("127.0.0.1:{}", free_port())).collect();
    let lb_base = format!("http://{}", lbs[0]);

    // The workspace: a team per group of consoles, each with one inbox of one channel
    // (SMS, WhatsApp, Messenger in turn) and one agent whose sessions the consoles use.
    let store = Store::open(&url, &StoreOptions::default()).unwrap();
    let hash = switchboard_hub::auth::hash_secret(hub_process::PASSWORD).unwrap();
    let mut teams = Vec::new();
    for t in 0..plan.teams {
        let team = store.create_team(&format!("Team {t}")).await.unwrap().id;
        let agent = store
            .create_agent(switchboard_hub::store::directory::NewAgent {
                name: format!("Agent {t}"),
                email: format!("agent{t}@x.test"),
                password_hash: hash.clone(),
                role: Role::Agent,
                teams: vec![team],
                capacity: 1_000,
            })
            .await
            .unwrap()
            .id;
        let kind = [ChannelKind::Sms, ChannelKind::Whatsapp, ChannelKind::Messenger][t % 3];
        let n = t as i64 + 1;
        let (address, settings) = match kind {
            ChannelKind::Sms => (format!("+1415{n:07}"), json!({"auth_token": "scale-token", "delivery": "simulated"})),
            ChannelKind::Whatsapp => {
                (format!("+1555{n:07}"), json!({"app_secret": "scale-secret", "delivery": "simulated"}))
            }
            _ => (format!("10485760{n:07}"), json!({"app_secret": "scale-secret", "delivery": "simulated"})),
        };
        let inbox = store
            .create_inbox(CreateInbox {
                kind,
                name: format!("{kind} {t}"),
                team_id: team,
                address: address.clone(),
                settings,
            })
            .await
            .unwrap();
        teams.push((team, agent, inbox.id, kind, address));
    }
    let mut consoles = Vec::new();
    for i in 0..plan.consoles {
        let t = i % plan.teams;
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let id = store
            .create_session(teams[t].1, switchboard_hub::auth::token_secret_hash(&secret), "127.0.0.1".into())
            .await
            .unwrap();
        consoles.push((t, Console { token: format!("sb1.{id}.{secret}"), timed: i < plan.teams }));
    }
    let cursor0 = *store.head().borrow();
    drop(store);

    // Three hubs, and HAProxy in front of them.
    let files = tempfile::tempdir().unwrap();
    let mut hubs = Vec::new();
    let mut ports = Vec::new();
    for h in 1..=3 {
        let port = free_port();
        let config = files.path().join(format!("hub{h}.toml"));
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\npublic_url = \"{lb_base}\"\ntrusted_proxies = [\"127.0.0.1\"]\n\
                 drain_ms = 3000\nblob_dir = \"{}\"\n",
                files.path().join("files").display()
            ),
        )
        .unwrap();
        let mut child = hub_process::spawn(hub_bin, &url, &config);
        hub_process::wait_healthy(&mut child, &format!("http://127.0.0.1:{port}")).await;
        hubs.push(Hub { name: format!("hub{h}"), child, config });
        ports.push(port);
    }
    let mut haproxies = Proxies(
        lbs.iter()
            .map(|lb| {
                Command::new("haproxy")
                    .arg("-db")
                    .arg("-f")
                    .arg(repo_root().join("deploy/haproxy.cfg"))
                    .env("SB_LISTEN", lb)
                    .env("SB_MAXCONN", "9000")
                    .env("SB_HUB1", format!("127.0.0.1:{}", ports[0]))
                    .env("SB_HUB2", format!("127.0.0.1:{}", ports[1]))
                    .env("SB_HUB3", format!("127.0.0.1:{}", ports[2]))
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("haproxy runs (Debian's haproxy package)")
            })
            .collect(),
    );
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).pool_max_idle_per_host(256).build().unwrap();
    for lb in &lbs {
        let mut up = false;
        for _ in 0..100 {
            if http.get(format!("http://{lb}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(up, "the proxy at {lb} does not answer");
    }

    let shared = Arc::new(Shared {
        started: Instant::now(),
        teams: plan.teams,
        latencies: Mutex::default(),
        resumed: Mutex::default(),
        on_killed: AtomicU64::new(0),
        killed_at_ms: AtomicU64::new(0),
        killed: Mutex::default(),
        conversations: Mutex::default(),
        stop: AtomicBool::new(false),
    });
    let served: Served = Arc::default();
    let mut console_tasks = Vec::new();
    for (i, (t, c)) in consoles.into_iter().enumerate() {
        let lb = lbs[i % lbs.len()].clone();
        console_tasks.push(tokio::spawn(console(lb, c, t, cursor0, shared.clone(), served.clone())));
        // Connections open at a pace the proxy and hubs take without a storm.
        if console_tasks.len() % 200 == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Instant::now();
    let total = plan.per_sec * plan.secs;
    let (acknowledged, retries, replies) =
        (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let refusals: Arc<Mutex<std::collections::BTreeMap<u16, u64>>> = Arc::default();
    let last_ack = Arc::new(AtomicU64::new(0));
    // Set at the run's bound: webhooks not yet sent stay unsent.
    let (no_more, begun) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    // Set at the second bound: webhooks still unacknowledged are given up.
    let quit = Arc::new(AtomicBool::new(false));
    let first_sent = switchboard_hub::clock::now_ms();
    let mut sender = {
        let (http, lb_base, acknowledged, retries, served, teams, refusals, last_ack) = (
            http.clone(),
            lb_base.clone(),
            acknowledged.clone(),
            retries.clone(),
            served.clone(),
            teams.clone(),
            refusals.clone(),
            last_ack.clone(),
        );
        let (no_more, begun, quit) = (no_more.clone(), begun.clone(), quit.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / plan.per_sec.max(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut tasks = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
            // Providers hold a bounded number of webhooks in flight; the rest wait their turn.
            let in_flight = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
            for i in 0..total {
                tick.tick().await;
                if no_more.load(Ordering::Relaxed) {
                    break;
                }
                let (in_flight, no_more, begun, quit) =
                    (in_flight.clone(), no_more.clone(), begun.clone(), quit.clone());
                let (http, acknowledged, retries, served, refusals, last_ack) = (
                    http.clone(),
                    acknowledged.clone(),
                    retries.clone(),
                    served.clone(),
                    refusals.clone(),
                    last_ack.clone(),
                );
                let (_, _, inbox, kind, address) = &teams[usize::try_from(i).unwrap_or(0) % teams.len()];
                let (url, content_type, header, body) = webhook(&lb_base, *inbox, *kind, address, i);
                tasks.push(tokio::spawn(async move {
                    let _turn = in_flight.acquire_owned().await;
                    if no_more.load(Ordering::Relaxed) {
                        return;
                    }
                    begun.fetch_add(1, Ordering::Relaxed);
                    let mut pause = Duration::from_millis(50);
                    while !quit.load(Ordering::Relaxed) {
                        let sent = http
                            .post(&url)
                            .header("content-type", content_type)
                            .header(header.0, &header.1)
                            .body(body.clone())
                            .send()
                            .await;
                        let status = sent.as_ref().map_or(0, |r| r.status().as_u16());
                        if let Ok(r) = sent {
                            if r.status().is_success() {
                                let hub = r
                                    .headers()
                                    .get("x-served-by")
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("")
                                    .to_owned();
                                served.lock().unwrap().insert(format!("scale-{i}"), hub);
                                acknowledged.fetch_add(1, Ordering::Relaxed);
                                last_ack.fetch_max(switchboard_hub::clock::now_ms().unsigned_abs(), Ordering::Relaxed);
                                return;
                            }
                        }
                        retries.fetch_add(1, Ordering::Relaxed);
                        *refusals.lock().unwrap().entry(status).or_insert(0) += 1;
                        tokio::time::sleep(pause).await;
                        pause = (pause * 2).min(Duration::from_secs(1));
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        })
    };
    // Agents reply to conversations their consoles have seen.
    let replier = {
        let (http, lb_base, shared, replies, tokens) = (
            http.clone(),
            lb_base.clone(),
            shared.clone(),
            replies.clone(),
            Arc::new(Mutex::new(HashMap::<usize, String>::new())),
        );
        let emails: Vec<String> = (0..plan.teams).map(|t| format!("agent{t}@x.test")).collect();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / plan.replies_per_sec.max(1)));
            let mut n: u64 = 0;
            while !shared.stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let pick = {
                    let seen = shared.conversations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if seen.is_empty() {
                        continue;
                    }
                    seen[usize::try_from(n).unwrap_or(0) % seen.len()]
                };
                n += 1;
                let (team, conversation) = pick;
                let token = tokens.lock().unwrap().get(&team).cloned();
                let token = match token {
                    Some(t) => t,
                    None => {
                        let r = http
                            .post(format!("{lb_base}/api/v1/auth/login"))
                            .json(&json!({"email": emails[team], "password": hub_process::PASSWORD}))
                            .send()
                            .await;
                        let Ok(r) = r else { continue };
                        let Ok(v) = r.json::<Value>().await else { continue };
                        let Some(t) = v["token"].as_str() else { continue };
                        tokens.lock().unwrap().insert(team, t.to_owned());
                        t.to_owned()
                    }
                };
                let reply = json!({"client_id": format!("scale-replier-{team}"), "mutations": [{"mutation_id": n, "name": "send_reply",
                    "args": {"conversation_id": conversation, "client_msg_id": format!("scale-reply-{n}"), "body": "Thanks, looking into it"}}]});
                let (http, lb_base, replies) = (http.clone(), lb_base.clone(), replies.clone());
                tokio::spawn(async move {
                    let r =
                        http.post(format!("{lb_base}/api/v1/mutations")).bearer_auth(token).json(&reply).send().await;
                    if r.is_ok_and(|r| r.status().is_success()) {
                        replies.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        })
    };

    // A third of the way in, hub 1 is killed (and started again a few seconds later); at two
    // thirds, hub 2 drains and stops.
    let run_for = Duration::from_secs(plan.secs);
    let mut memory = Vec::new();
    tokio::time::sleep(run_for / 3).await;
    memory.push((format!("{} (killed)", hubs[0].name), peak_mib(hubs[0].child.id())));
    *shared.killed.lock().unwrap() = hubs[0].name.clone();
    shared.killed_at_ms.store(shared.started.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
    hubs[0].child.kill().unwrap();
    hubs[0].child.wait().unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    hubs[0].child = hub_process::spawn(hub_bin, &url, &hubs[0].config);
    tokio::time::sleep(run_for / 3).await;
    memory.push((format!("{} (drained)", hubs[1].name), peak_mib(hubs[1].child.id())));
    let _ = Command::new("kill").arg("-TERM").arg(hubs[1].child.id().to_string()).status();

    // Hubs slower than the offered rate take longer to acknowledge every webhook. At the
    // bound no new webhook is started; those already sent are retried until acknowledged,
    // within a second bound.
    if tokio::time::timeout(plan.send_bound(), &mut sender).await.is_err() {
        no_more.store(true, Ordering::Relaxed);
        if tokio::time::timeout(Duration::from_secs(120), &mut sender).await.is_err() {
            quit.store(true, Ordering::Relaxed);
            let _ = sender.await;
        }
    }
    let elapsed = started.elapsed();
    // Let the last frames arrive, then stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = hubs[1].child.wait();
    for h in [&hubs[0], &hubs[2]] {
        memory.push((h.name.clone(), peak_mib(h.child.id())));
    }
    shared.stop.store(true, Ordering::Relaxed);
    replier.abort();
    for h in &mut hubs {
        hub_process::stop(&mut h.child);
    }
    for h in &mut haproxies.0 {
        let _ = Command::new("kill").arg("-TERM").arg(h.id().to_string()).status();
        let _ = h.wait();
    }
    for t in console_tasks {
        t.abort();
    }

    let counted = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let row = c
            .query_one(
                "SELECT count(*), count(DISTINCT provider_id) FROM messages WHERE provider_id LIKE 'scale-%'",
                &[],
            )
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, i64>(1))
    })
    .join()
    .unwrap();
    drop(schema);
    let mut latencies = std::mem::take(&mut *shared.latencies.lock().unwrap());
    latencies.sort_by(f64::total_cmp);
    let mut resumed = std::mem::take(&mut *shared.resumed.lock().unwrap());
    resumed.sort_by(f64::total_cmp);
    let on_killed = usize::try_from(shared.on_killed.load(Ordering::Relaxed)).unwrap_or(0);
    let refused: Vec<(u16, u64)> = refusals.lock().unwrap().iter().map(|(s, n)| (*s, *n)).collect();
    Report {
        offered: total,
        sent: begun.load(Ordering::Relaxed),
        acknowledged: acknowledged.load(Ordering::Relaxed),
        retries: retries.load(Ordering::Relaxed),
        refusals: refused,
        stored: u64::try_from(counted.0).unwrap_or(0),
        stored_distinct: u64::try_from(counted.1).unwrap_or(0),
        replies: replies.load(Ordering::Relaxed),
        acknowledged_per_sec: acknowledged.load(Ordering::Relaxed) as f64
            / ((last_ack.load(Ordering::Relaxed) as f64 - first_sent as f64) / 1e3).max(1e-3),
        taken_in_to_frame_ms: latencies,
        lost_consoles: on_killed.saturating_sub(resumed.len()),
        resumed_ms: resumed,
        consoles_on_killed_hub: on_killed,
        memory_mib: memory,
        elapsed,
    }
}

/// The `q` quantile of sorted values (NaN when empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[(((sorted.len() - 1) as f64) * q).round() as usize]
}
