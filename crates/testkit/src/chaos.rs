//! The chaos run: the real hub binary on a private PostgreSQL server of its own, fed signed
//! Twilio webhooks at a steady rate by a sender that retries each until it gets a `2xx`
//! (as Meta does, and Twilio with its retry settings), while the hub is killed with
//! SIGKILL again and again and the database server is restarted once. Afterwards every
//! acknowledged webhook must be stored exactly once.

use crate::hub_process::{self, cli, free_port};
use crate::twilio::{self, Sms};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A PostgreSQL server of the test's own, in a temporary directory, on a free port.
pub struct PrivateServer {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
    as_postgres: bool,
}

impl PrivateServer {
    /// Starts one with the newest PostgreSQL installed (`apt-get install postgresql`).
    pub fn start() -> PrivateServer {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's server programs: `apt-get install postgresql` (scripts/test.sh does)")
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").exists())
            .max()
            .expect("no PostgreSQL server under /usr/lib/postgresql");
        // PostgreSQL refuses to run as root: then it runs as the postgres user.
        let as_postgres = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let dir = tempfile::Builder::new().prefix("switchboard-chaos-pg").tempdir().unwrap();
        if as_postgres {
            assert!(Command::new("chown").arg("postgres").arg(dir.path()).status().unwrap().success());
        }
        let server = PrivateServer { bin, dir, port: free_port(), as_postgres };
        server.run("initdb", &["-D", &server.data(), "-U", "postgres", "--auth=trust"]);
        server.pg_ctl("start");
        let psql = server.bin.join("psql");
        let port = server.port.to_string();
        let mut create = server.command(&psql);
        create.args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-qc", "CREATE DATABASE test"]);
        assert!(create.status().unwrap().success());
        server
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        c.stdout(Stdio::null()).stderr(Stdio::null());
        c
    }

    fn run(&self, program: &str, args: &[&str]) {
        let status = self.command(&self.bin.join(program)).args(args).status().unwrap();
        assert!(status.success(), "{program} {args:?} failed");
    }

    fn pg_ctl(&self, action: &str) {
        let opts = format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        let log = self.dir.path().join("log").display().to_string();
        self.run("pg_ctl", &["-D", &self.data(), "-l", &log, "-w", "-m", "fast", "-o", &opts, action]);
    }

    /// Stops the server (fast: sessions are cut) and starts it again.
    pub fn restart(&self) {
        self.pg_ctl("restart");
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/test", self.port)
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let log = self.dir.path().join("log").display().to_string();
        let _ = self
            .command(&self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-l", &log, "-m", "immediate", "stop"])
            .status();
    }
}

/// How hard to shake the hub.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Webhooks to deliver, at `per_sec`.
    pub webhooks: u64,
    pub per_sec: u64,
    /// SIGKILLs, spread over the run; the database server restarts once, halfway.
    pub kills: usize,
}

/// What the run saw.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub acknowledged: u64,
    /// Attempts that got no `2xx` (the hub down, or answering `503`) and were sent again.
    pub retries: u64,
    pub stored: u64,
    pub stored_distinct: u64,
    pub kills: usize,
    pub database_restarts: usize,
    pub elapsed: Duration,
}

/// Runs `plan` against the hub binary at `hub_bin`.
pub async fn run(hub_bin: &Path, plan: Plan) -> Report {
    let pg = PrivateServer::start();
    let url = pg.url();
    let sms = r#"{"auth_token": "chaos-token", "delivery": "simulated"}"#;
    let inbox = ["inbox", "add", "--kind", "sms", "--name", "SMS", "--team", "Support", "--address", "+14155550100"];
    cli(hub_bin, &url, &[&inbox[..], &["--settings", sms]].concat());
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hub.toml");
    std::fs::write(&config, format!("listen = \"127.0.0.1:{port}\"\npublic_url = \"{base}\"\n")).unwrap();
    let mut hub = hub_process::spawn(hub_bin, &url, &config);

    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let acknowledged = Arc::new(AtomicU64::new(0));
    let retries = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    // The sender: one task per webhook, started at the steady rate, each retrying until 2xx.
    let sender = {
        let (http, base, acknowledged, retries) = (http.clone(), base.clone(), acknowledged.clone(), retries.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / plan.per_sec.max(1)));
            let mut tasks = Vec::new();
            for i in 0..plan.webhooks {
                tick.tick().await;
                let (http, base, acknowledged, retries) =
                    (http.clone(), base.clone(), acknowledged.clone(), retries.clone());
                tasks.push(tokio::spawn(async move {
                    let url = format!("{base}/webhooks/twilio/1");
                    let (sid, from, body) =
                        (format!("SMchaos{i:025}"), format!("+1212{:07}", 3_000_000 + i % 500), format!("order {i}?"));
                    let sms = Sms {
                        post_to: &url,
                        signed_url: &url,
                        auth_token: "chaos-token",
                        from: &from,
                        to: "+14155550100",
                        body: &body,
                        sid: &sid,
                    };
                    let mut pause = Duration::from_millis(50);
                    loop {
                        if twilio::post(&http, &sms).await.is_success() {
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        retries.fetch_add(1, Ordering::Relaxed);
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
    // The killer: SIGKILL at even intervals over the sending time; the database restarts
    // once, halfway.
    let sending = Duration::from_millis(plan.webhooks * 1_000 / plan.per_sec.max(1));
    let gap = sending / u32::try_from(plan.kills + 1).unwrap_or(1);
    let mut report = Report::default();
    for k in 0..plan.kills {
        tokio::time::sleep(gap).await;
        hub.kill().unwrap();
        hub.wait().unwrap();
        report.kills += 1;
        if k == plan.kills / 2 {
            pg.restart();
            report.database_restarts += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        hub = hub_process::spawn(hub_bin, &url, &config);
    }
    tokio::time::timeout(Duration::from_secs(120), sender)
        .await
        .expect("every webhook was acknowledged in time")
        .unwrap();
    report.elapsed = started.elapsed();
    hub_process::stop(&mut hub);
    report.acknowledged = acknowledged.load(Ordering::Relaxed);
    report.retries = retries.load(Ordering::Relaxed);
    let counted = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let row = c
            .query_one(
                "SELECT count(*), count(DISTINCT provider_id) FROM messages WHERE provider_id LIKE 'SMchaos%'",
                &[],
            )
            .unwrap();
        (row.get::<_, i64>(0), row.get::<_, i64>(1))
    })
    .join()
    .unwrap();
    report.stored = u64::try_from(counted.0).unwrap_or(0);
    report.stored_distinct = u64::try_from(counted.1).unwrap_or(0);
    drop(pg);
    report
}
