//! Response-time targets on both engines: due times in business hours on a real calendar
//! (across New York's change back from daylight saving and a holiday), the next response
//! and the resolution, at risk and breached once, the record of targets met and missed,
//! and who may set them.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, TestDb, World};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::model::{BusinessCalendar, Conversation, SlaPolicy, SlaState};
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, SendReply, SetSla, SetStatus};
use switchboard_protocol::ErrorCode;

static N: AtomicU64 = AtomicU64::new(0);

async fn mutate(store: &Store, v: &Viewer, m: Mutation) -> Outcome {
    let client = format!("sla-test-{}", N.fetch_add(1, Ordering::Relaxed));
    let env = MutationEnvelope { mutation_id: 1, mutation: m, expected_version: None };
    store.apply_mutations(v, &client, vec![env]).await.unwrap().remove(0).outcome
}

async fn set_sla(store: &Store, w: &World, policy: SlaPolicy) {
    let m = Mutation::SetSla(SetSla { team_id: w.team_a, inbox_id: None, policy: Some(policy) });
    assert_eq!(mutate(store, &w.lead, m).await, Outcome::Applied);
}

fn new_york() -> BusinessCalendar {
    BusinessCalendar {
        time_zone: "America/New_York".into(),
        hours: ["mon", "tue", "wed", "thu", "fri"].map(|d| (d.to_owned(), "09:00-17:00".to_owned())).into(),
        holidays: vec!["2026-11-26".into()],
    }
}

/// Milliseconds of a New York wall time.
fn ny(local: &str) -> i64 {
    let dt: jiff::civil::DateTime = local.parse().unwrap();
    dt.to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap()).unwrap().timestamp().as_millisecond()
}

fn ny_local(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("America/New_York").unwrap())
        .datetime()
        .to_string()
}

async fn conversation(store: &Store, admin: &Viewer, id: i64) -> Conversation {
    store.bootstrap(admin, 1).await.unwrap().conversations.into_iter().find(|c| c.id == id).unwrap()
}

/// A customer's message at `at` (history: its own time however long ago).
async fn write(store: &Store, w: &World, from: &str, at: i64) -> i64 {
    let sid = format!("SM-sla-{}", N.fetch_add(1, Ordering::Relaxed));
    store.ingest_history(inbound(&w.sms, from, "Hello?", &sid, at)).await.unwrap().conversation_id
}

async fn reply(store: &Store, v: &Viewer, conversation_id: i64) {
    let m = SendReply {
        conversation_id,
        client_msg_id: format!("r-{}", N.fetch_add(1, Ordering::Relaxed)),
        body: "On it".into(),
        attachments: vec![],
        choices: None,
    };
    assert_eq!(mutate(store, v, Mutation::SendReply(m)).await, Outcome::Applied);
}

async fn due_times_follow_a_real_calendar(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    set_sla(
        &store,
        &w,
        SlaPolicy {
            calendar: Some(new_york()),
            first_response_mins: Some(60),
            next_response_mins: Some(30),
            resolution_mins: Some(8 * 60),
            warn_before_mins: 10,
        },
    )
    .await;
    // Friday 30 October, 16:30: the clocks go back on Sunday 1 November.
    let id = write(&store, &w, "+14155550111", ny("2026-10-30T16:30")).await;
    let c = conversation(&store, &w.admin, id).await;
    assert_eq!(ny_local(c.first_response_due_at.unwrap()), "2026-11-02T09:30:00");
    assert_eq!(ny_local(c.resolution_due_at.unwrap()), "2026-11-02T16:30:00");
    assert_eq!(c.sla_state, SlaState::Breached, "long past");
    // Wednesday 25 November, 16:30: Thursday is Thanksgiving, closed; Friday is open again.
    let id = write(&store, &w, "+14155550112", ny("2026-11-25T16:30")).await;
    let c = conversation(&store, &w.admin, id).await;
    assert_eq!(ny_local(c.first_response_due_at.unwrap()), "2026-11-27T09:30:00");
    assert_eq!(ny_local(c.resolution_due_at.unwrap()), "2026-11-27T16:30:00");
}

async fn next_response_and_resolution_targets_are_met_or_missed(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let policy = SlaPolicy {
        calendar: None,
        first_response_mins: Some(1),
        next_response_mins: Some(30),
        resolution_mins: Some(24 * 60),
        warn_before_mins: 1,
    };
    set_sla(&store, &w, policy).await;
    let now = switchboard_hub::clock::now_ms();
    // Written 58 seconds ago with a minute to answer: at risk now, missed in two seconds.
    let id = write(&store, &w, "+14155550113", now - 58_000).await;
    let c = conversation(&store, &w.admin, id).await;
    assert_eq!(c.sla_state, SlaState::AtRisk);
    assert_eq!(c.first_response_due_at, Some(now + 2_000));
    assert_eq!(store.sweep_sla().await.unwrap(), 0, "nothing changed yet");
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(store.sweep_sla().await.unwrap(), 1);
    assert_eq!(conversation(&store, &w.admin, id).await.sla_state, SlaState::Breached);
    assert_eq!(store.sweep_sla().await.unwrap(), 0, "breached once");

    // The answer comes late; the next question gets half an hour; resolving ends it all.
    reply(&store, &w.agent, id).await;
    let c = conversation(&store, &w.admin, id).await;
    assert_eq!((c.first_response_due_at, c.next_response_due_at), (None, None));
    assert_eq!(c.sla_state, SlaState::Ok, "only the resolution target is left, a day away");
    let again = write(&store, &w, "+14155550113", switchboard_hub::clock::now_ms()).await;
    assert_eq!(again, id);
    let c = conversation(&store, &w.admin, id).await;
    let asked = c.next_response_due_at.unwrap() - 30 * 60_000;
    assert!((asked - switchboard_hub::clock::now_ms()).abs() < 5_000, "half an hour from the question");
    reply(&store, &w.agent, id).await;
    let resolve = SetStatus { conversation_id: id, status: "resolved".parse().unwrap(), snoozed_until: None };
    assert_eq!(mutate(&store, &w.agent, Mutation::SetStatus(resolve)).await, Outcome::Applied);
    let c = conversation(&store, &w.admin, id).await;
    assert_eq!((c.first_response_due_at, c.next_response_due_at, c.resolution_due_at), (None, None, None));

    // The record: the first response missed, the next one and the resolution met.
    let row = |target: &str| {
        db.text(&format!(
            "SELECT CAST(breached AS TEXT) || ',' || CASE WHEN met_at IS NULL THEN 'open' ELSE 'met' END \
             FROM sla_events WHERE conversation_id = {id} AND target = '{target}'"
        ))
    };
    assert_eq!(row("first_response"), "1,met");
    assert_eq!(row("next_response"), "0,met");
    assert_eq!(row("resolution"), "0,met");
}

async fn only_leads_set_targets_and_bad_calendars_are_refused(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let refused = |o: Outcome| match o {
        Outcome::Rejected { error } => (error.code, error.message),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let policy = SlaPolicy {
        calendar: Some(new_york()),
        first_response_mins: Some(60),
        next_response_mins: None,
        resolution_mins: None,
        warn_before_mins: 10,
    };
    let set = |p: SlaPolicy| Mutation::SetSla(SetSla { team_id: w.team_a, inbox_id: None, policy: Some(p) });
    assert_eq!(refused(mutate(&store, &w.agent, set(policy.clone())).await).0, ErrorCode::Forbidden);
    let mut bad = policy.clone();
    bad.calendar.as_mut().unwrap().time_zone = "Europe/Atlantis".into();
    assert_eq!(
        refused(mutate(&store, &w.lead, set(bad)).await),
        (ErrorCode::BadRequest, "unknown time zone `Europe/Atlantis`".into())
    );
    let mut bad = policy.clone();
    bad.calendar.as_mut().unwrap().holidays = vec!["next tuesday".into()];
    assert_eq!(refused(mutate(&store, &w.lead, set(bad)).await).0, ErrorCode::BadRequest);
    let zero = SlaPolicy { first_response_mins: Some(0), ..policy.clone() };
    assert_eq!(refused(mutate(&store, &w.lead, set(zero)).await).0, ErrorCode::BadRequest);
    let teams = store.bootstrap(&w.admin, 1).await.unwrap().teams;
    assert_eq!(teams.iter().find(|t| t.id == w.team_a).unwrap().sla, None, "nothing was set");
    assert_eq!(mutate(&store, &w.lead, set(policy.clone())).await, Outcome::Applied);
    let teams = store.bootstrap(&w.admin, 1).await.unwrap().teams;
    assert_eq!(teams.iter().find(|t| t.id == w.team_a).unwrap().sla, Some(policy));
}

both_engines!(
    due_times_follow_a_real_calendar,
    next_response_and_resolution_targets_are_met_or_missed,
    only_leads_set_targets_and_bad_calendars_are_refused,
);
