//! Campaigns from the console's side, against a real hub with its real sender: a lead
//! checks a file (problems row by row, a preview of real rows), makes and sends a
//! campaign, follows it to the end, reads each result and saves them as CSV (never over
//! another file); segments are saved and removed; an agent is refused; with the hub gone
//! the console says it is offline.
#![allow(clippy::unwrap_used)]

use switchboard_core::error::CoreError;
use switchboard_protocol::admin::UpdateInbox;
use switchboard_protocol::campaign::{
    Audience, CampaignAction, CampaignSpec, CampaignState, Condition, ConditionOp, ContactFilter, NewSegment,
    RecipientState,
};
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::ErrorCode;
use switchboard_testkit::console_hub::{console, world, Hub};

fn spec(inbox_id: i64, csv: &str) -> CampaignSpec {
    CampaignSpec {
        name: "Order ready".into(),
        inbox_id,
        template: "ready".into(),
        subject: None,
        purpose: ConsentPurpose::Service,
        audience: Audience::Csv { csv: csv.into() },
        scheduled_at: None,
        allowed_hours: None,
        time_zone: None,
        frequency_cap: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_checks_sends_follows_and_exports_a_campaign() {
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    let settings = serde_json::json!({
        "delivery": "simulated",
        "send_rate": 50,
        "templates": [{"name": "ready", "language": "en_US", "body": "Hi {{1}}, your order is ready."}]
    });
    hub.store.update_inbox(w.sms, UpdateInbox { name: None, team_id: None, settings: Some(settings) }).await.unwrap();
    hub.ingest(w.sms, "+14155550131", "STOP").await;
    let (d1, d2, out) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lee = console(&hub, d1.path(), "lee@x.test").await;
    let maya = console(&hub, d2.path(), "maya@x.test").await;

    let bad = lee.check_campaign(spec(w.sms, "phone,1\n+14155550131,Al\nnope,Bo\n")).await.unwrap();
    assert_eq!((bad.rows, bad.valid), (2, 1));
    assert_eq!(bad.problems[0].row, 3);
    assert_eq!(bad.preview[0].text, "Hi Al, your order is ready.");
    assert!(
        matches!(lee.create_campaign(spec(w.sms, "phone,1\nnope,Bo\n")).await.unwrap_err(), CoreError::Hub(e) if e.code == ErrorCode::BadRequest)
    );

    let file = "phone,1\n+14155550131,Al\n+14155550132,Bea\n+14155550133,Cy\n";
    let draft = lee.create_campaign(spec(w.sms, file)).await.unwrap();
    assert_eq!(draft.state, CampaignState::Draft);
    let refused = maya.campaigns().await.unwrap_err();
    assert!(matches!(&refused, CoreError::Hub(e) if e.code == ErrorCode::Forbidden), "{refused:?}");

    lee.campaign_action(draft.id, CampaignAction::Schedule { at: 0 }).await.unwrap();
    let started = std::time::Instant::now();
    let c = loop {
        let c = lee.campaign(draft.id).await.unwrap();
        if c.state == CampaignState::Done {
            break c;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "the campaign did not finish: {c:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!((c.counts.total, c.counts.skipped), (3, 1), "{:?}", c.counts);
    assert_eq!(c.counts.sent + c.counts.delivered, 2, "{:?}", c.counts);
    let skipped = lee.campaign_recipients(draft.id, Some(RecipientState::Skipped), 0).await.unwrap();
    assert!(skipped.recipients[0].reason.as_deref().unwrap().contains("opted out"));
    assert_eq!(lee.campaigns().await.unwrap()[0].id, draft.id);

    let first = lee.export_campaign(draft.id, out.path()).await.unwrap();
    let second = lee.export_campaign(draft.id, out.path()).await.unwrap();
    assert_ne!(first, second, "a second export never replaces the first");
    let text = std::fs::read_to_string(&first).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.contains("+14155550131,,skipped,"), "{text}");

    let filter = ContactFilter {
        conditions: vec![Condition { field: "plan".into(), op: ConditionOp::Equals, value: "pro".into() }],
    };
    let saved = lee.create_segment(NewSegment { name: "Pro customers".into(), filter }).await.unwrap();
    assert_eq!(lee.segments().await.unwrap().len(), 1);
    lee.delete_segment(saved.id).await.unwrap();
    assert!(lee.segments().await.unwrap().is_empty());

    hub.stop().await;
    assert!(matches!(lee.campaigns().await.unwrap_err(), CoreError::Offline(_)));
}
