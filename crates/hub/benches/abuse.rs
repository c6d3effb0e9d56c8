//! Abuse benchmark: the hub (its real binary, on SQLite, loopback as its trusted proxy)
//! stores signed Twilio webhooks at a steady 500 a second while an agent calls the API,
//! first alone, then while an attacker sends 300 logins a second with random emails, 300
//! forged tokens a second, starts 100 visitor chats a second and holds 2,000 visitor
//! sockets open, each from addresses of its own (a botnet, as `X-Forwarded-For`). Printed
//! for both runs: webhooks acknowledged and stored (none may be lost), the agent's API
//! response times, the hub's peak resident memory, and what the attacker was answered.
//!
//! `cargo bench -p switchboard-hub --bench abuse`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use rand::Rng;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_hub::channels::signature;
use switchboard_testkit::hub_process::{self, cli, free_port, PASSWORD};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-hub");

/// The load of one run.
#[derive(Debug, Clone, Copy)]
struct Load {
    secs: u64,
    webhooks_per_sec: u64,
    logins_per_sec: u64,
    forged_per_sec: u64,
    sessions_per_sec: u64,
    sockets: usize,
}

/// What one run measured.
#[derive(Debug, Default)]
struct Figures {
    acked: u64,
    stored: u64,
    api_p50_ms: f64,
    api_p99_ms: f64,
    api_max_ms: f64,
    api_errors: u64,
    peak_rss_mib: u64,
    sockets_open: usize,
    attacker: Vec<(String, u64)>,
}

struct Hub {
    child: Child,
    base: String,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Hub {
    fn drop(&mut self) {
        hub_process::stop(&mut self.child);
    }
}

async fn start_hub() -> Hub {
    let bin = std::path::Path::new(BIN);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("abuse.db");
    let url = format!("sqlite://{}", db.display());
    cli(
        bin,
        &url,
        &["agent", "add", "--name", "Maya", "--email", "maya@x.test", "--role", "agent", "--team", "Support"],
    );
    let sms = r#"{"auth_token": "bench-token", "delivery": "simulated"}"#;
    cli(
        bin,
        &url,
        &[
            "inbox",
            "add",
            "--kind",
            "sms",
            "--name",
            "SMS",
            "--team",
            "Support",
            "--address",
            "+14155550100",
            "--settings",
            sms,
        ],
    );
    cli(
        bin,
        &url,
        &[
            "inbox",
            "add",
            "--kind",
            "webchat",
            "--name",
            "Site",
            "--team",
            "Support",
            "--address",
            "site",
            "--settings",
            "{}",
        ],
    );
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = dir.path().join("hub.toml");
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:{port}\"\npublic_url = \"{base}\"\ntrusted_proxies = [\"127.0.0.1\"]\n"),
    )
    .unwrap();
    let mut child = hub_process::spawn(bin, &url, &config);
    hub_process::wait_healthy(&mut child, &base).await;
    Hub { child, base, db, _dir: dir }
}

fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024)
}

fn twilio(base: &str, i: u64) -> (String, String, String) {
    let url = format!("{base}/webhooks/twilio/1");
    let sid = format!("SMabuse{i:026x}");
    let params = vec![
        ("AccountSid".to_owned(), "AC0123456789abcdef0123456789abcdef".to_owned()),
        ("Body".to_owned(), format!("Where is order {i}?")),
        ("From".to_owned(), format!("+1212{:07}", 3_000_000 + i % 3_000)),
        ("MessageSid".to_owned(), sid),
        ("NumMedia".to_owned(), "0".to_owned()),
        ("To".to_owned(), "+14155550100".to_owned()),
    ];
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter()).finish();
    let sig = signature::twilio("bench-token", &url, &params);
    (url, body, sig)
}

fn random_ip() -> String {
    let mut r = rand::rng();
    format!("{}.{}.{}.{}", r.random_range(11..200), r.random::<u8>(), r.random::<u8>(), r.random_range(1..255))
}

/// Runs `f` `per_sec` times a second until `stop`, each call its own task.
fn every<F, Fut>(per_sec: u64, stop: Arc<AtomicBool>, f: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(u64) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        if per_sec == 0 {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_sec));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut i = 0;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            tokio::spawn(f(i));
            i += 1;
        }
    })
}

type Tally = Arc<Mutex<std::collections::BTreeMap<String, u64>>>;

fn count(t: &Tally, key: String) {
    *t.lock().unwrap().entry(key).or_default() += 1;
}

async fn run(load: Load, attack: bool) -> Figures {
    let hub = start_hub().await;
    let pid = hub.child.id();
    let http = reqwest::Client::builder().pool_max_idle_per_host(256).timeout(Duration::from_secs(30)).build().unwrap();
    let login: serde_json::Value = http
        .post(format!("{}/api/v1/auth/login", hub.base))
        .json(&serde_json::json!({"email": "maya@x.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let tally: Tally = Arc::default();
    let mut sockets = Vec::new();
    let mut tasks = Vec::new();

    if attack {
        // The sockets first: each from its own address, with a chat of its own.
        let mut opening = Vec::new();
        for _ in 0..load.sockets {
            let (http, base) = (http.clone(), hub.base.clone());
            opening.push(tokio::spawn(async move {
                let ip = random_ip();
                let visit: serde_json::Value = http
                    .post(format!("{base}/chat/v1/sessions"))
                    .header("x-forwarded-for", &ip)
                    .json(&serde_json::json!({"inbox": "site"}))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                let token = visit["token"].as_str()?.to_owned();
                let mut req = format!("{}/chat/v1/socket", base.replace("http", "ws")).into_client_request().ok()?;
                let h = req.headers_mut();
                h.insert("sec-websocket-protocol", format!("switchboard, bearer.{token}").parse().ok()?);
                h.insert("x-forwarded-for", ip.parse().ok()?);
                tokio_tungstenite::connect_async(req).await.ok().map(|(ws, _)| ws)
            }));
        }
        for o in opening {
            if let Ok(Some(ws)) = o.await {
                sockets.push(ws);
            }
        }
        let (h, b, t) = (http.clone(), hub.base.clone(), tally.clone());
        tasks.push(every(load.logins_per_sec, stop.clone(), move |i| {
            let (http, base, tally) = (h.clone(), b.clone(), t.clone());
            async move {
                let body = serde_json::json!({"email": format!("user{i}-{}@example.com", rand::random::<u32>()), "password": "Summer2026!"});
                let r = http.post(format!("{base}/api/v1/auth/login")).header("x-forwarded-for", random_ip()).json(&body).send().await;
                count(&tally, format!("login {}", r.map_or("error".into(), |r| r.status().as_u16().to_string())));
            }
        }));
        let (h, b, t) = (http.clone(), hub.base.clone(), tally.clone());
        tasks.push(every(load.forged_per_sec, stop.clone(), move |_| {
            let (http, base, tally) = (h.clone(), b.clone(), t.clone());
            async move {
                let forged =
                    format!("sb1.{}.{}", rand::random_range(1..50u32), hex::encode(rand::random::<[u8; 32]>()));
                let r = http
                    .get(format!("{base}/api/v1/me"))
                    .bearer_auth(forged)
                    .header("x-forwarded-for", random_ip())
                    .send()
                    .await;
                count(
                    &tally,
                    format!("forged token {}", r.map_or("error".into(), |r| r.status().as_u16().to_string())),
                );
            }
        }));
        let (h, b, t) = (http.clone(), hub.base.clone(), tally.clone());
        tasks.push(every(load.sessions_per_sec, stop.clone(), move |_| {
            let (http, base, tally) = (h.clone(), b.clone(), t.clone());
            async move {
                let r = http
                    .post(format!("{base}/chat/v1/sessions"))
                    .header("x-forwarded-for", random_ip())
                    .json(&serde_json::json!({"inbox": "site"}))
                    .send()
                    .await;
                count(
                    &tally,
                    format!("visitor chat {}", r.map_or("error".into(), |r| r.status().as_u16().to_string())),
                );
            }
        }));
    }

    // The business's own traffic: signed webhooks, and an agent working.
    let acked = Arc::new(AtomicU64::new(0));
    let (h, b, a, t) = (http.clone(), hub.base.clone(), acked.clone(), tally.clone());
    tasks.push(every(load.webhooks_per_sec, stop.clone(), move |i| {
        let (http, base, acked, tally) = (h.clone(), b.clone(), a.clone(), t.clone());
        async move {
            let (url, body, sig) = twilio(&base, i);
            let r = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-twilio-signature", sig)
                .body(body)
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => {
                    acked.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => count(&tally, format!("webhook {}", r.status().as_u16())),
                Err(_) => count(&tally, "webhook error".into()),
            }
        }
    }));
    let times = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let (h, b, tk, tm, er) = (http.clone(), hub.base.clone(), token.clone(), times.clone(), errors.clone());
    tasks.push(every(20, stop.clone(), move |i| {
        let (http, base, token, times, errors) = (h.clone(), b.clone(), tk.clone(), tm.clone(), er.clone());
        async move {
            let path =
                if i % 2 == 0 { "/api/v1/me".to_owned() } else { "/api/v1/sync/changes?since=0&limit=50".to_owned() };
            let started = Instant::now();
            match http.get(format!("{base}{path}")).bearer_auth(token).send().await {
                Ok(r) if r.status().is_success() => {
                    let _ = r.bytes().await;
                    times.lock().unwrap().push(started.elapsed().as_secs_f64() * 1e3);
                }
                _ => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }));
    let peak = Arc::new(AtomicU64::new(0));
    let (p, s) = (peak.clone(), stop.clone());
    let sampler = tokio::spawn(async move {
        while !s.load(Ordering::Relaxed) {
            p.fetch_max(rss_mib(pid), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    tokio::time::sleep(Duration::from_secs(load.secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let _ = sampler.await;
    // Let the last requests finish.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sockets_open = sockets.len();
    drop(sockets);
    let stored: i64 = rusqlite::Connection::open(&hub.db)
        .unwrap()
        .query_row("SELECT count(*) FROM messages WHERE provider_id LIKE 'SMabuse%'", [], |r| r.get(0))
        .unwrap();
    let mut t = times.lock().unwrap().clone();
    t.sort_by(f64::total_cmp);
    let pct = |q: f64| if t.is_empty() { f64::NAN } else { t[((t.len() as f64 - 1.0) * q).round() as usize] };
    let attacker: Vec<(String, u64)> = tally.lock().unwrap().iter().map(|(k, v)| (k.clone(), *v)).collect();
    Figures {
        acked: acked.load(Ordering::Relaxed),
        stored: u64::try_from(stored).unwrap_or(0),
        api_p50_ms: pct(0.5),
        api_p99_ms: pct(0.99),
        api_max_ms: pct(1.0),
        api_errors: errors.load(Ordering::Relaxed),
        peak_rss_mib: peak.load(Ordering::Relaxed),
        sockets_open,
        attacker,
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let load = if full {
        Load {
            secs: 20,
            webhooks_per_sec: 500,
            logins_per_sec: 300,
            forged_per_sec: 300,
            sessions_per_sec: 100,
            sockets: 2_000,
        }
    } else {
        Load {
            secs: 2,
            webhooks_per_sec: 50,
            logins_per_sec: 30,
            forged_per_sec: 30,
            sessions_per_sec: 10,
            sockets: 50,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        println!(
            "switchboard-hub abuse bench ({} cores, SQLite, the hub in its own process, {} s per run)",
            std::thread::available_parallelism().map_or(1, |n| n.get()),
            load.secs
        );
        if !full {
            println!("(smoke run of an unoptimised build at a tenth of the load: `cargo bench` gives the figures)");
        }
        let quiet = run(load, false).await;
        let attacked = run(load, true).await;
        println!(
            "attack: {} logins/s (random emails), {} forged tokens/s, {} visitor chats/s, {} visitor sockets held (each from its own address)",
            load.logins_per_sec, load.forged_per_sec, load.sessions_per_sec, load.sockets
        );
        println!("{:<44} {:>14} {:>14}", "", "without attack", "under attack");
        let row = |name: &str, a: String, b: String| println!("{name:<44} {a:>14} {b:>14}");
        row("signed webhooks acknowledged (2xx)", quiet.acked.to_string(), attacked.acked.to_string());
        row(&format!("  per second (offered {})", load.webhooks_per_sec), format!("{:.0}", quiet.acked as f64 / load.secs as f64), format!("{:.0}", attacked.acked as f64 / load.secs as f64));
        row("  acknowledged but not stored (must be 0)", (quiet.acked - quiet.stored.min(quiet.acked)).to_string(), (attacked.acked - attacked.stored.min(attacked.acked)).to_string());
        row("agent API p50 (ms)", format!("{:.1}", quiet.api_p50_ms), format!("{:.1}", attacked.api_p50_ms));
        row("agent API p99 (ms, target < 100)", format!("{:.1}", quiet.api_p99_ms), format!("{:.1}", attacked.api_p99_ms));
        row("agent API max (ms)", format!("{:.1}", quiet.api_max_ms), format!("{:.1}", attacked.api_max_ms));
        row("agent API failures", quiet.api_errors.to_string(), attacked.api_errors.to_string());
        row("hub peak resident memory (MiB, < 1024)", quiet.peak_rss_mib.to_string(), attacked.peak_rss_mib.to_string());
        row("visitor sockets held open", quiet.sockets_open.to_string(), attacked.sockets_open.to_string());
        for (what, n) in &attacked.attacker {
            row(&format!("  attacker: {what}"), "-".into(), n.to_string());
        }
        assert_eq!(quiet.stored.min(quiet.acked), quiet.acked, "an acknowledged webhook was lost");
        assert_eq!(attacked.stored.min(attacked.acked), attacked.acked, "an acknowledged webhook was lost under attack");
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}
