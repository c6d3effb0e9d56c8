//! The chaos run, bounded (`cargo bench -p switchboard-hub --bench chaos` runs it in full):
//! the hub binary is killed with SIGKILL three times and its PostgreSQL server restarted
//! once while signed webhooks arrive from a sender that retries each until it gets a
//! `2xx`. Every acknowledged webhook is stored, and stored once.
// It starts Debian's own PostgreSQL server programs: Linux only.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

use switchboard_testkit::chaos::{self, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_webhook_is_stored_once_through_kills_and_a_database_restart() {
    let plan = Plan { webhooks: 150, per_sec: 50, kills: 3 };
    let report = chaos::run(std::path::Path::new(env!("CARGO_BIN_EXE_switchboard-hub")), plan).await;
    assert_eq!((report.kills, report.database_restarts), (3, 1));
    assert_eq!(report.acknowledged, plan.webhooks, "the sender retried every webhook until it was acknowledged");
    assert_eq!(report.stored_distinct, report.acknowledged, "every acknowledged webhook is stored: {report:?}");
    assert_eq!(report.stored, report.stored_distinct, "none is stored twice: {report:?}");
}
