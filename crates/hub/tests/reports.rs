//! Reports on both engines: a day's conversations, answers, resolutions, satisfaction and
//! each agent's time counted from the store's events; the settled day kept and summed again
//! the same; a write dated in a kept day counted after all; who may read which team's; and
//! the HTTP answer for good and bad requests.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, TestDb, World};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::clock::{now_ms, DAY, HOUR, MINUTE};
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::{Store, StoreError};
use switchboard_protocol::admin::UpdateInbox;
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Presence};
use switchboard_protocol::mutation::{Assign, Mutation, MutationEnvelope, Outcome, SendReply, SetPresence, SetStatus};
use switchboard_protocol::report::{Report, ReportQuery};
use switchboard_protocol::ErrorCode;

static N: AtomicU64 = AtomicU64::new(0);

async fn apply_at(store: &Store, v: &Viewer, m: Mutation, at: i64) {
    let client = format!("report-test-{}", N.fetch_add(1, Ordering::Relaxed));
    let env = MutationEnvelope { mutation_id: 1, mutation: m, expected_version: None };
    let r = store.apply_mutations_at(v, &client, vec![env], Some(at)).await.unwrap().remove(0);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
}

async fn customer(store: &Store, inbox: &switchboard_protocol::model::Inbox, from: &str, body: &str, at: i64) -> i64 {
    let sid = format!("SM-report-{}", N.fetch_add(1, Ordering::Relaxed));
    store.ingest(inbound(inbox, from, body, &sid, at)).await.unwrap().conversation_id
}

fn reply(conversation_id: i64) -> Mutation {
    Mutation::SendReply(SendReply {
        conversation_id,
        client_msg_id: format!("report-reply-{}", N.fetch_add(1, Ordering::Relaxed)),
        body: "On it".into(),
        attachments: vec![],
        choices: None,
    })
}

/// Midnight UTC three days ago: a settled day.
fn day() -> (i64, String) {
    let start = (now_ms() / DAY - 3) * DAY;
    let date = jiff::Timestamp::from_millisecond(start).unwrap().to_zoned(jiff::tz::TimeZone::UTC).date();
    (start, date.to_string())
}

fn query(date: &str, team_id: Option<i64>) -> ReportQuery {
    ReportQuery { from: date.into(), to: date.into(), team_id }
}

async fn report(store: &Store, v: &Viewer, q: ReportQuery) -> Result<Report, StoreError> {
    store.report(v, q, "UTC").await
}

/// Team A's day: two conversations (SMS at 10:00, answered in 15 minutes and resolved at
/// 11:00 by the agent, who was online from 09:00; WhatsApp at 14:00, answered in 5), a
/// customer's 4 out of 5, and one conversation in team B.
async fn a_day(store: &Store, w: &World, d: i64) -> (i64, i64) {
    let survey = serde_json::json!({"csat": {"question": "How did we do?"}});
    store.update_inbox(w.sms.id, UpdateInbox { name: None, team_id: None, settings: Some(survey) }).await.unwrap();
    let online = Mutation::SetPresence(SetPresence { presence: Presence::Online, automatic: false });
    apply_at(store, &w.agent, online, d + 9 * HOUR).await;
    let sms = customer(store, &w.sms, "+14155550141", "Where is my parcel?", d + 10 * HOUR).await;
    let claim =
        Mutation::Assign(Assign { conversation_id: sms, agent_id: Some(Some(w.agent.agent_id)), team_id: None });
    apply_at(store, &w.agent, claim, d + 10 * HOUR + 5 * MINUTE).await;
    apply_at(store, &w.agent, reply(sms), d + 10 * HOUR + 15 * MINUTE).await;
    let resolve = SetStatus { conversation_id: sms, status: ConversationStatus::Resolved, snoozed_until: None };
    apply_at(store, &w.agent, Mutation::SetStatus(resolve), d + 11 * HOUR).await;
    assert_eq!(customer(store, &w.sms, "+14155550141", "4", d + 11 * HOUR + 30 * MINUTE).await, sms, "the answer");
    let wa = customer(store, &w.whatsapp, "+14155550142", "Do you ship to Porto?", d + 14 * HOUR).await;
    apply_at(store, &w.agent2, reply(wa), d + 14 * HOUR + 5 * MINUTE).await;
    customer(store, &w.b_sms, "+14155550143", "Invoice question", d + 12 * HOUR).await;
    (sms, wa)
}

async fn a_day_is_counted_from_the_events_and_kept(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let (d, date) = day();
    a_day(&store, &w, d).await;

    let r = report(&store, &w.lead, query(&date, Some(w.team_a))).await.unwrap();
    assert_eq!((r.conversations, r.resolved), (2, 1));
    let channels: Vec<_> = r.by_channel.iter().map(|c| (c.channel, c.conversations)).collect();
    assert_eq!(channels, [(ChannelKind::Sms, 1), (ChannelKind::Whatsapp, 1)]);
    assert_eq!((r.by_hour[10], r.by_hour[14], r.by_hour.iter().sum::<u64>()), (1, 1, 2));
    assert_eq!(r.first_response.count, 2);
    assert_eq!(r.first_response.median_ms, Some(5 * MINUTE as u64));
    let p90 = r.first_response.p90_ms.unwrap();
    assert!(p90.abs_diff(15 * MINUTE as u64) <= 15 * MINUTE as u64 / 64, "{p90}");
    let resolution = r.resolution.median_ms.unwrap();
    assert!(resolution.abs_diff(HOUR as u64) <= HOUR as u64 / 64, "{resolution}");
    assert_eq!((r.csat.responses, r.csat.scores.clone(), r.csat.average), (1, vec![0, 0, 0, 1, 0], Some(4.0)));
    assert_eq!(r.by_day.len(), 1);
    let agent = r.agents.iter().find(|a| a.agent_id == w.agent.agent_id).unwrap();
    assert_eq!((agent.handled, agent.peak_concurrency), (1, 1));
    assert_eq!(agent.online_ms, 15 * HOUR as u64, "online from 09:00 to midnight");
    assert_eq!(agent.held_ms, 55 * MINUTE as u64, "held from the claim to the resolution");
    assert!(r.agents.iter().all(|a| a.agent_id != w.b_agent.agent_id), "only team A's agents");

    // The settled day was kept: read again, the same figures.
    let kept: i64 = db.text("SELECT count(*) FROM report_days WHERE team_id = 0").parse().unwrap();
    assert_eq!(kept, 1);
    let again = report(&store, &w.lead, query(&date, Some(w.team_a))).await.unwrap();
    assert_eq!(Report { generated_at: r.generated_at, ..again }, r);

    // A message dated in the kept day (an email held up on its way) is counted after all.
    customer(&store, &w.sms, "+14155550144", "Late hello", d + 16 * HOUR).await;
    let later = report(&store, &w.lead, query(&date, Some(w.team_a))).await.unwrap();
    assert_eq!(later.conversations, 3);

    // Every team the caller sees: the lead's is team A only; the admin's both.
    assert_eq!(report(&store, &w.lead, query(&date, None)).await.unwrap().conversations, 3);
    let all = report(&store, &w.admin, query(&date, None)).await.unwrap();
    assert_eq!(all.conversations, 4);
    let everywhere = all.agents.iter().find(|a| a.agent_id == w.agent.agent_id).unwrap();
    assert_eq!((everywhere.held_ms, everywhere.peak_concurrency), (55 * MINUTE as u64, 1));
}

async fn reports_are_for_leads_of_the_team_and_sane_periods(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let (_, date) = day();
    let code = |r: Result<Report, StoreError>| r.unwrap_err().to_api().code;
    assert_eq!(code(report(&store, &w.agent, query(&date, Some(w.team_a))).await), ErrorCode::Forbidden);
    assert_eq!(code(report(&store, &w.lead, query(&date, Some(w.team_b))).await), ErrorCode::NotFound);
    assert_eq!(code(report(&store, &w.admin, query(&date, Some(999))).await), ErrorCode::NotFound);
    let bad = |from: &str, to: &str| ReportQuery { from: from.into(), to: to.into(), team_id: None };
    for q in [bad("2026-02-30", "2026-03-01"), bad("2026-03-02", "2026-03-01"), bad("2024-01-01", "2026-01-01")] {
        assert_eq!(code(report(&store, &w.lead, q).await), ErrorCode::BadRequest);
    }
    // A lead of no team yet: an empty report, not an error.
    let loner =
        common::add_agent(&store, "New Lead", "newlead@x.test", switchboard_protocol::model::Role::Lead, vec![]).await;
    let loner = store.viewer(loner).await.unwrap();
    let empty = report(&store, &loner, query(&date, None)).await.unwrap();
    assert_eq!((empty.conversations, empty.agents.len()), (0, 0));
    // A year of nothing: every day there, all zero.
    let year = report(&store, &w.admin, bad("2025-01-01", "2025-12-31")).await.unwrap();
    assert_eq!((year.by_day.len(), year.conversations, year.first_response.median_ms), (365, 0, None));
    assert_eq!(year.csat.average, None);
}

async fn the_api_answers_reports_and_refuses_bad_requests(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let (d, date) = day();
    a_day(&store, &w, d).await;
    let hub = common::serve(store.clone(), switchboard_hub::config::Config::default()).await;
    let http = reqwest::Client::new();
    let get = |token: String, q: String| {
        let http = http.clone();
        let url = format!("{}/api/v1/reports?{q}", hub.base);
        async move { http.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let lead = common::login(&hub, "lead@x.test").await;
    let ok = get(lead.clone(), format!("from={date}&to={date}&team_id={}", w.team_a)).await;
    assert_eq!(ok.status(), 200);
    let r: Report = ok.json().await.unwrap();
    assert_eq!((r.conversations, r.time_zone.as_str()), (2, "UTC"));
    for (q, status, want) in [
        (format!("from={date}"), 400, "bad_request"),
        (format!("from={date}&to=never"), 400, "bad_request"),
        (format!("from={date}&to={date}&team_id=x"), 400, "bad_request"),
        (format!("from={date}&to={date}&team_id={}", w.team_b), 404, "not_found"),
    ] {
        let resp = get(lead.clone(), q.clone()).await;
        assert_eq!(resp.status(), status, "{q}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["code"], want, "{q}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let agent = common::login(&hub, "agent@x.test").await;
    assert_eq!(get(agent, format!("from={date}&to={date}")).await.status(), 403);
    let anonymous = http.get(format!("{}/api/v1/reports?from={date}&to={date}", hub.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

both_engines!(
    a_day_is_counted_from_the_events_and_kept,
    reports_are_for_leads_of_the_team_and_sane_periods,
    the_api_answers_reports_and_refuses_bad_requests,
);
