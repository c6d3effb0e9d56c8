//! Campaign benchmark: a 100,000-recipient campaign (a CSV posted by a lead) scheduled and
//! sent by the real hub binary (release) to a Twilio stand-in that reports every message
//! back, at an inbox rate of 2,500 a second. Prints the messages a second the stand-in took,
//! the most it took in any one second against the inbox's rate (the limit held), the hub's
//! peak memory, and, beside them, the same run's plain reply throughput on the same
//! database: replies queued by agents, handed to the same stand-in by the delivery worker.
//!
//! `cargo bench -p switchboard-hub --bench campaigns` (`SWITCHBOARD_BENCH_RECIPIENTS` sets
//! the audience; `SWITCHBOARD_BENCH_DB=postgres` runs on `SWITCHBOARD_TEST_PG`).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use switchboard_testkit::campaign_run::{self, Db, Plan};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard-hub");

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test --bench campaigns` runs it as a smoke test of an unoptimised build.
    let full = std::env::args().any(|a| a == "--bench");
    let recipients: usize = std::env::var("SWITCHBOARD_BENCH_RECIPIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 100_000 } else { 1_000 });
    let db = match std::env::var("SWITCHBOARD_BENCH_DB").as_deref() {
        Ok("postgres") => Db::Postgres,
        _ => Db::Sqlite,
    };
    let bin = std::path::Path::new(BIN);
    let baseline = campaign_run::plain_replies(bin, (recipients / 20).clamp(200, 5_000), db).await;
    let plan = Plan { recipients, opted_out: recipients / 100, rate: 2_500, hubs: 1, kills: 0, db };
    let r = campaign_run::run(bin, plan).await;
    assert_eq!((r.twice, r.missing, r.to_opted_out), (0, 0, 0), "{r:?}");
    println!("campaign of {recipients} recipients on {db:?}, inbox rate {} a second:", plan.rate);
    println!(
        "  sent {:.0} messages a second (plain replies in the same run: {baseline:.0} a second; ratio {:.1})",
        r.per_sec,
        r.per_sec / baseline.max(1e-9)
    );
    println!("  busiest second: {} messages (limit {})", r.busiest_second, plan.rate);
    println!("  hub peak memory: {:.0} MiB", r.peak_rss_kib as f64 / 1024.0);
    println!("  whole run, from the lead's upload to the last message: {:.1} s", r.elapsed.as_secs_f64());
    println!("  results: {} sent, {} skipped (opted out), {} failed", r.sent, r.skipped, r.failed);
    if !full {
        println!("(smoke run of an unoptimised build: `cargo bench` gives the figures)");
    }
}
