//! Reports from the console's side, against a real hub: a lead's report comes from the hub
//! and is kept, so it opens offline with when it was fetched; a report never fetched cannot
//! open offline; an agent is refused; the CSV lands in the folder asked for, never over
//! another file.
#![allow(clippy::unwrap_used)]

use switchboard_core::error::CoreError;
use switchboard_protocol::report::ReportQuery;
use switchboard_protocol::ErrorCode;
use switchboard_testkit::console_hub::{console, world, Hub};

fn today() -> String {
    jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::UTC).date().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_reads_a_report_online_and_again_offline() {
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    let (d1, d2, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lee = console(&hub, d1.path(), "lee@x.test").await;
    let maya = console(&hub, d2.path(), "maya@x.test").await;
    hub.ingest(w.sms, "+14155550121", "Is my order shipped?").await;
    hub.ingest(w.whatsapp, "+14155550122", "Hello?").await;
    hub.ingest(w.billing_email, "ana@example.com", "Invoice").await;

    let q = ReportQuery { from: today(), to: today(), team_id: Some(w.support) };
    let online = lee.report(q.clone()).await.unwrap();
    assert!(!online.offline);
    assert_eq!(online.report.conversations, 2, "Support's two, not Billing's");
    let every = lee.report(ReportQuery { team_id: None, ..q.clone() }).await.unwrap();
    assert_eq!(every.report.conversations, 3);

    let refused = maya.report(q.clone()).await.unwrap_err();
    assert!(matches!(&refused, CoreError::Hub(e) if e.code == ErrorCode::Forbidden), "{refused:?}");

    let first = lee.export_report(q.clone(), out.path()).await.unwrap();
    let second = lee.export_report(q.clone(), out.path()).await.unwrap();
    assert_ne!(first, second, "a second export never replaces the first");
    let text = std::fs::read_to_string(&first).unwrap();
    assert!(text.contains(&format!("Switchboard,{},{},Support,UTC", q.from, q.to)), "{text}");
    assert!(text.contains("Conversations,2"));

    let latest = lee.report(q.clone()).await.unwrap();
    hub.stop().await;
    let offline = lee.report(q.clone()).await.unwrap();
    assert!(offline.offline);
    assert_eq!((&offline.report, offline.fetched_at), (&latest.report, latest.fetched_at), "the copy last fetched");
    let never = ReportQuery { from: "2026-01-01".into(), to: "2026-01-31".into(), team_id: None };
    assert!(matches!(lee.report(never).await.unwrap_err(), CoreError::Offline(_)));
    // Exported offline from the kept copy.
    let kept = lee.export_report(q, out.path()).await.unwrap();
    assert!(std::fs::read_to_string(kept).unwrap().contains("Conversations,2"));
}
