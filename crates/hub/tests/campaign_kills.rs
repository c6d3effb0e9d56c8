//! A campaign to 10,000 recipients sent by two hubs on one PostgreSQL database, with a hub
//! killed by SIGKILL three times while it sends: every eligible recipient receives exactly
//! one message, every opted-out one none, and each skipped recipient has its reason. The
//! Twilio stand-in reports every message it takes with a signed status callback, so a send
//! a killed hub left mid-call is confirmed, or sent again when the provider never had it.
#![allow(clippy::unwrap_used)]

use switchboard_testkit::campaign_run::{self, Db, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_eligible_recipient_gets_exactly_one_message_through_kills_and_two_hubs() {
    let plan = Plan { recipients: 10_000, opted_out: 150, rate: 800, hubs: 2, kills: 3, db: Db::Postgres };
    let r = campaign_run::run(std::path::Path::new(env!("CARGO_BIN_EXE_switchboard-hub")), plan).await;
    println!("{r:?}");
    assert_eq!(r.kills, 3);
    assert_eq!(r.twice, 0, "nobody got two messages: {r:?}");
    assert_eq!(r.missing, 0, "every eligible recipient got one: {r:?}");
    assert_eq!(r.to_opted_out, 0, "nobody who opted out got one: {r:?}");
    assert_eq!(r.received, r.eligible, "{r:?}");
    assert_eq!((r.sent, r.failed), (r.eligible, 0), "the results say the same: {r:?}");
    assert_eq!((r.skipped, r.skipped_opted_out), (plan.opted_out, plan.opted_out), "each skip says why: {r:?}");
}
