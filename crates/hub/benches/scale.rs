//! Scale benchmark: three hub processes (the release binary) on one PostgreSQL database
//! behind HAProxy with the project's `deploy/haproxy.cfg`; 10,000 consoles holding change
//! streams through it (200 teams of 50); 2,000 signed webhooks a second across SMS,
//! WhatsApp and Messenger for 60 s from a sender that retries until it gets a `2xx`;
//! agents replying; one hub killed with SIGKILL a third of the way in (and started again),
//! another drained at two thirds. Prints messages acknowledged against stored (they must be
//! equal, none twice), the delay from a message taken in to its frame on consoles of the other hubs (its wait to be written, the commit and the fan-out), how long the
//! killed hub's consoles took to resume elsewhere, and each hub's peak memory.
//!
//! `cargo bench -p switchboard-hub --bench scale` (PostgreSQL from `SWITCHBOARD_TEST_PG`;
//! needs `haproxy` on the PATH; `SWITCHBOARD_BENCH_CONSOLES`, `SWITCHBOARD_BENCH_RATE` and
//! `SWITCHBOARD_BENCH_SECS` change the plan). `cargo test --bench scale` is a smoke run:
//! 300 consoles, 100 webhooks a second for 6 s.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use switchboard_testkit::scale::{self, quantile, Plan};

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let mut plan = if full {
        Plan { consoles: 10_000, teams: 200, per_sec: 2_000, secs: 60, replies_per_sec: 20 }
    } else {
        Plan { consoles: 300, teams: 30, per_sec: 100, secs: 6, replies_per_sec: 5 }
    };
    let knob = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = knob("SWITCHBOARD_BENCH_CONSOLES") {
        plan.consoles = usize::try_from(n).unwrap_or(plan.consoles);
    }
    if let Some(n) = knob("SWITCHBOARD_BENCH_RATE") {
        plan.per_sec = n;
    }
    if let Some(n) = knob("SWITCHBOARD_BENCH_SECS") {
        plan.secs = n;
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_switchboard-hub"));
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "switchboard-hub scale bench ({} cores; 3 hubs on PostgreSQL behind HAProxy; {} consoles in {} teams; {} webhooks/s for {} s)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        plan.consoles,
        plan.teams,
        plan.per_sec,
        plan.secs
    );
    let r = rt.block_on(scale::run(bin, plan));
    println!(
        "webhooks: {} offered, {} sent, {} acknowledged, {} retried attempts; stored {} ({} distinct)   (acknowledged must equal stored)",
        r.offered, r.sent, r.acknowledged, r.retries, r.stored, r.stored_distinct
    );
    if r.sent < r.offered {
        println!(
            "  the hubs fell behind: {} webhooks were never sent, the sender stopping at the run's bound ({} s)",
            r.offered - r.sent,
            plan.send_bound().as_secs()
        );
    }
    if !r.refusals.is_empty() {
        println!("  retried attempts were answered (HTTP status: count; 0 is no answer): {:?}", r.refusals);
    }
    println!(
        "offered {} webhooks/s; acknowledged {:.0}/s (first sent to last acknowledged, {:.1} s); {} agent replies",
        plan.per_sec,
        r.acknowledged_per_sec,
        r.elapsed.as_secs_f64(),
        r.replies
    );
    let l = &r.taken_in_to_frame_ms;
    println!(
        "taken in → frame (written, committed, fanned out) on the other hubs' consoles: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} frames   (target p99 < 100 ms)",
        quantile(l, 0.5),
        quantile(l, 0.99),
        quantile(l, 1.0),
        l.len()
    );
    println!(
        "killed hub's consoles resumed elsewhere: {} of {}, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms   (target < 5 s)",
        r.resumed_ms.len(),
        r.consoles_on_killed_hub,
        quantile(&r.resumed_ms, 0.5),
        quantile(&r.resumed_ms, 0.99),
        quantile(&r.resumed_ms, 1.0)
    );
    for (hub, mib) in &r.memory_mib {
        println!("  {hub}: peak memory {mib:.0} MiB");
    }
    assert_eq!(r.acknowledged, r.sent, "every webhook sent was acknowledged");
    assert_eq!((r.stored, r.stored_distinct), (r.acknowledged, r.acknowledged), "stored exactly once");
    assert!(r.consoles_on_killed_hub > 0, "the killed hub held consoles");
    assert_eq!(r.lost_consoles, 0, "every console of the killed hub resumed");
    assert!(!r.taken_in_to_frame_ms.is_empty(), "frames crossed hubs");
    assert_eq!(r.sent, r.offered, "the hubs took every webhook offered within the run's bound");
}
