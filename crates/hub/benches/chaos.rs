//! Chaos benchmark: 3,000 signed webhooks at 100 a second from a sender that retries each
//! until it gets a `2xx`, while the hub binary is killed with SIGKILL ten times and its
//! PostgreSQL server is restarted once. Prints what was acknowledged, retried and stored;
//! every acknowledged webhook must be stored exactly once.
//!
//! `cargo bench -p switchboard-hub --bench chaos`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use switchboard_testkit::chaos::{self, Plan};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let plan = if full {
        Plan { webhooks: 3_000, per_sec: 100, kills: 10 }
    } else {
        Plan { webhooks: 100, per_sec: 50, kills: 2 }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let report = rt.block_on(chaos::run(std::path::Path::new(env!("CARGO_BIN_EXE_switchboard-hub")), plan));
    println!("switchboard-hub chaos bench (PostgreSQL, the hub binary killed with SIGKILL {} times, the database restarted {} time)", report.kills, report.database_restarts);
    if !full {
        println!("(smoke run of an unoptimised build: `cargo bench` gives the figures)");
    }
    println!("webhooks sent, each until acknowledged:   {:>8}", plan.webhooks);
    println!("acknowledged (2xx):                       {:>8}", report.acknowledged);
    println!("attempts refused or unanswered, retried:  {:>8}", report.retries);
    println!("stored:                                   {:>8}", report.stored);
    println!("stored once each (distinct):              {:>8}", report.stored_distinct);
    println!(
        "lost (acknowledged, not stored):          {:>8}",
        report.acknowledged.saturating_sub(report.stored_distinct)
    );
    println!("stored twice:                             {:>8}", report.stored - report.stored_distinct);
    println!("wall time:                                {:>8.1} s", report.elapsed.as_secs_f64());
    assert_eq!(report.stored_distinct, report.acknowledged, "an acknowledged webhook was lost");
    assert_eq!(report.stored, report.stored_distinct, "a webhook was stored twice");
}
