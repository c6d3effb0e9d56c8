//! Campaigns, on both engines, against a real hub and local stand-ins for Twilio and the
//! WhatsApp Cloud API: an audience file is checked row by row and refused whole with a bad
//! row; only leads and admins run campaigns; a scheduled campaign starts by itself and
//! sends each eligible recipient exactly the filled template, no faster than the inbox's
//! rate, skipping the opted out, those who withdrew consent and those over the frequency
//! cap (each with its reason) and holding back those outside their allowed hours; results
//! follow delivery reports and replies (which land as conversations that say what they
//! answer); pause, resume and cancel; the results export as CSV.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, login, open, serve_at, TestDb, World};
use std::time::{Duration, Instant};
use switchboard_hub::channels::signature;
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_hub::store::Store;
use switchboard_protocol::admin::UpdateInbox;
use switchboard_protocol::campaign::{
    AllowedHours, Audience, Campaign, CampaignAction, CampaignSpec, CampaignState, Condition, ConditionOp,
    ContactFilter, FrequencyCap, RecipientPage, RecipientState,
};
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::model::ChannelKind;
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, SetConsent};
use switchboard_testkit::campaign_run::busiest_second;
use switchboard_testkit::providers::{self, Kind};

const TOKEN: &str = "twilio-auth-token";

fn spec(inbox_id: i64, csv: &str) -> CampaignSpec {
    CampaignSpec {
        name: "Pickup reminder".into(),
        inbox_id,
        template: "pickup".into(),
        subject: None,
        purpose: ConsentPurpose::Marketing,
        audience: Audience::Csv { csv: csv.into() },
        scheduled_at: None,
        allowed_hours: None,
        time_zone: Some("UTC".into()),
        frequency_cap: None,
    }
}

async fn templates(store: &Store, inbox_id: i64, extra: serde_json::Value) {
    let mut settings = serde_json::json!({
        "templates": [{"name": "pickup", "language": "en_US", "body": "Hi {{1}}, order {{2}} is ready for pickup."}]
    });
    settings.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    store.update_inbox(inbox_id, UpdateInbox { name: None, team_id: None, settings: Some(settings) }).await.unwrap();
}

async fn a_file_is_checked_row_by_row_and_only_leads_run_campaigns(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    templates(&store, w.sms.id, serde_json::json!({})).await;
    let csv = "phone,name,1,2,coupon\n+14155550101,Ana,Ana,#1,X\nnot-a-phone,Bo,Bo,#2,X\n+14155550101,Ana,Ana,#3,X\n+14155550104,Cy,Cy,,X\n";
    let check = store.check_audience(&w.lead, spec(w.sms.id, csv), "UTC".into()).await.unwrap();
    assert_eq!((check.rows, check.valid), (4, 1));
    let rows: Vec<u32> = check.problems.iter().map(|p| p.row).collect();
    assert_eq!(rows, [1, 3, 4, 5], "{:?}", check.problems);
    assert!(check.problems[0].problem.contains("unknown column `coupon`"));
    assert_eq!(check.preview[0].text, "Hi Ana, order #1 is ready for pickup.");
    let e = store.create_campaign(&w.lead, spec(w.sms.id, csv), "UTC".into()).await.unwrap_err();
    assert_eq!(e.to_api().code.as_str(), "bad_request");
    assert!(e.to_string().contains("4 bad rows"), "{e}");
    assert_eq!(db.text("SELECT count(*) FROM campaigns"), "0", "nothing made from a bad file");

    let good = "phone,name,1,2\n+14155550101,Ana,Ana,#1\n";
    let e = store.create_campaign(&w.agent, spec(w.sms.id, good), "UTC".into()).await.unwrap_err();
    assert_eq!(e.to_api().code.as_str(), "forbidden");
    let e = store.create_campaign(&w.b_agent, spec(w.sms.id, good), "UTC".into()).await.unwrap_err();
    assert_eq!(e.to_api().code.as_str(), "forbidden");
    let mut bad = spec(w.sms.id, good);
    bad.template = "nope".into();
    assert_eq!(
        store.create_campaign(&w.lead, bad, "UTC".into()).await.unwrap_err().to_api().code.as_str(),
        "bad_request"
    );
    let mut bad = spec(w.sms.id, good);
    bad.allowed_hours = Some(AllowedHours { from: "9".into(), to: "17:00".into() });
    assert_eq!(
        store.create_campaign(&w.lead, bad, "UTC".into()).await.unwrap_err().to_api().code.as_str(),
        "bad_request"
    );
    let mut bad = spec(w.sms.id, good);
    bad.frequency_cap = Some(FrequencyCap { messages: 0, days: 1 });
    assert_eq!(
        store.create_campaign(&w.lead, bad, "UTC".into()).await.unwrap_err().to_api().code.as_str(),
        "bad_request"
    );
    let mut bad = spec(w.sms.id, good);
    bad.time_zone = Some("Mars/Olympus".into());
    assert_eq!(
        store.create_campaign(&w.lead, bad, "UTC".into()).await.unwrap_err().to_api().code.as_str(),
        "bad_request"
    );

    let made = store.create_campaign(&w.lead, spec(w.sms.id, good), "UTC".into()).await.unwrap();
    assert_eq!((made.state, made.counts.total, made.counts.queued), (CampaignState::Draft, 1, 1));
    assert_eq!(made.rate, 1, "a Twilio long code sends one a second unless the inbox says otherwise");
    // Another team's lead does not see it.
    let other_lead = switchboard_hub::policy::Viewer {
        agent_id: w.b_agent.agent_id,
        role: switchboard_protocol::model::Role::Lead,
        teams: vec![w.team_b],
    };
    assert_eq!(store.campaign(&other_lead, made.id).await.unwrap_err().to_api().code.as_str(), "not_found");
    assert!(store.campaigns(&other_lead).await.unwrap().is_empty());
    // A draft cannot be paused; it can be scheduled, unscheduled and cancelled.
    let e = store.campaign_action(&w.lead, made.id, CampaignAction::Pause).await.unwrap_err();
    assert_eq!(e.to_api().code.as_str(), "conflict");
    let later = now_ms() + 3_600_000;
    let c = store.campaign_action(&w.lead, made.id, CampaignAction::Schedule { at: later }).await.unwrap();
    assert_eq!((c.state, c.scheduled_at), (CampaignState::Scheduled, Some(later)));
    let c = store.campaign_action(&w.lead, made.id, CampaignAction::Cancel).await.unwrap();
    assert_eq!((c.state, c.counts.skipped), (CampaignState::Cancelled, 1));
}

/// A zone where the local hour is `hour` now, as `Etc/GMT±n`.
fn zone_at(hour: i64) -> String {
    let utc_hour = (now_ms() / 3_600_000) % 24;
    let offset = (hour - utc_hour).rem_euclid(24);
    let offset = if offset > 11 { offset - 24 } else { offset };
    match offset {
        0 => "Etc/GMT".into(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    }
}

async fn run(store: &Store, v: &switchboard_hub::policy::Viewer, m: Mutation) -> Outcome {
    let env = MutationEnvelope { mutation_id: (now_ms() % 1_000_000_000) as u64, mutation: m, expected_version: None };
    store.apply_mutations(v, &format!("campaign-test-{}", v.agent_id), vec![env]).await.unwrap().remove(0).outcome
}

async fn wait_for(store: &Store, w: &World, id: i64, done: impl Fn(&Campaign) -> bool) -> Campaign {
    let start = Instant::now();
    loop {
        let c = store.campaign(&w.lead, id).await.unwrap();
        if done(&c) {
            return c;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "campaign stuck: {c:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_campaign_reaches_each_eligible_recipient_once_at_the_senders_pace(db: &TestDb) {
    let twilio = providers::start(Kind::Twilio).await;
    let store = open(db);
    let w = common::world(&store).await;
    let creds = serde_json::json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": TOKEN, "base_url": twilio.base, "send_rate": 4});
    templates(&store, w.sms.id, creds).await;
    let hub =
        serve_at(store.clone(), |addr| Config { public_url: Some(format!("http://{addr}")), ..Config::default() })
            .await;

    // +…11 opted out; +…12 withdrew marketing; +…13 had a campaign message this week.
    for (from, body) in [("+14155550111", "STOP"), ("+14155550112", "hello")] {
        store.ingest(inbound(&w.sms, from, body, &format!("in-{from}-{body}"), now_ms())).await.unwrap();
    }
    let snap = store.bootstrap(&w.admin, 10).await.unwrap();
    let k = snap.contacts.iter().find(|c| c.identities.iter().any(|i| i.address == "+14155550112")).unwrap();
    let withdraw = Mutation::SetConsent(SetConsent {
        contact_id: k.id,
        channel: ChannelKind::Sms,
        address: "+14155550112".into(),
        purpose: ConsentPurpose::Marketing,
        granted: false,
        reason: "Said on the phone: no more offers".into(),
    });
    assert_eq!(run(&store, &w.agent, withdraw).await, Outcome::Applied);
    let mut first = spec(w.sms.id, "phone,name,1,2\n+14155550113,Cy,Cy,#100\n");
    first.scheduled_at = Some(0);
    let first = store.create_campaign(&w.lead, first, "UTC".into()).await.unwrap();
    wait_for(&store, &w, first.id, |c| c.state == CampaignState::Done).await;

    let (inside, outside) = (zone_at(6), zone_at(18));
    let csv = format!(
        "phone,name,1,2,time_zone\n\
         +14155550111,Al,Al,#1,\n\
         +14155550112,Bea,Bea,#2,\n\
         +14155550113,Cy,Cy,#3,\n\
         +14155550114,Di,Di,#4,{outside}\n\
         +14155550115,Ed,Ed,#5,{inside}\n\
         +14155550116,Fa,Fa,#6,{inside}\n\
         +14155550117,Gus,Gus,#7,{inside}\n\
         +14155550118,Hal,Hal,#8,{inside}\n\
         +14155550119,Ivy,Ivy,#9,{inside}\n\
         +14155550120,Jo,Jo,#10,{inside}\n"
    );
    let mut second = spec(w.sms.id, &csv);
    second.frequency_cap = Some(FrequencyCap { messages: 1, days: 7 });
    second.allowed_hours = Some(AllowedHours { from: "00:00".into(), to: "12:00".into() });
    second.time_zone = Some(inside.clone());
    second.scheduled_at = Some(now_ms());
    let before = twilio.requests().len();
    let made = store.create_campaign(&w.lead, second, "UTC".into()).await.unwrap();
    let c = wait_for(&store, &w, made.id, |c| c.counts.sent + c.counts.delivered == 6).await;
    assert_eq!((c.state, c.counts.skipped, c.counts.queued), (CampaignState::Running, 3, 1), "{:?}", c.counts);
    let sent: Vec<_> = twilio.requests()[before..].to_vec();
    assert_eq!(sent.len(), 6, "each eligible recipient once");
    let mut to: Vec<String> = sent.iter().map(|r| r.field("To").unwrap()).collect();
    to.sort();
    assert_eq!(to, ["+14155550115", "+14155550116", "+14155550117", "+14155550118", "+14155550119", "+14155550120"]);
    let fa = sent.iter().find(|r| r.field("To").as_deref() == Some("+14155550116")).unwrap();
    assert_eq!(fa.field("Body").as_deref(), Some("Hi Fa, order #6 is ready for pickup."));
    assert_eq!(fa.field("From").as_deref(), Some("+14155550100"));
    let arrivals: Vec<Instant> = sent.iter().map(|r| r.at).collect();
    assert!(busiest_second(&arrivals) <= 4, "the inbox sends 4 a second: {}", busiest_second(&arrivals));
    assert!(
        arrivals[5].duration_since(arrivals[0]) >= Duration::from_millis(1_000),
        "six at four a second take over a second"
    );

    let page = store.campaign_recipients(&w.lead, made.id, Some(RecipientState::Skipped), 0, 100).await.unwrap();
    let why: Vec<(String, String)> =
        page.recipients.iter().map(|r| (r.address.clone(), r.reason.clone().unwrap_or_default())).collect();
    assert!(why[0].1.contains("opted out"), "{why:?}");
    assert!(why[1].1.contains("withdrew consent to marketing"), "{why:?}");
    assert!(why[2].1.contains("already had 1 campaign message"), "{why:?}");
    let queued = store.campaign_recipients(&w.lead, made.id, Some(RecipientState::Queued), 0, 100).await.unwrap();
    assert_eq!(queued.recipients[0].address, "+14155550114", "outside their hours: waits");

    // Delivery reports and replies show in the results.
    let sid = store
        .campaign_recipients(&w.lead, made.id, None, 0, 100)
        .await
        .unwrap()
        .recipients
        .iter()
        .find(|r| r.address == "+14155550116")
        .map(|r| r.row)
        .unwrap();
    let provider_id = db.text(&format!(
        "SELECT provider_id FROM campaign_recipients WHERE campaign_id = {} AND row_no = {sid}",
        made.id
    ));
    let status_url = format!("{}/webhooks/twilio/{}/status", hub.base, w.sms.id);
    let params: Vec<(String, String)> = [
        ("MessageSid", provider_id.as_str()),
        ("MessageStatus", "delivered"),
        ("To", "+14155550116"),
        ("From", "+14155550100"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let resp = reqwest::Client::new()
        .post(&status_url)
        .header("x-twilio-signature", signature::twilio(TOKEN, &status_url, &params))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    store.ingest(inbound(&w.sms, "+14155550117", "Can I come on Saturday?", "reply-117", now_ms())).await.unwrap();
    let c = store.campaign(&w.lead, made.id).await.unwrap();
    assert_eq!((c.counts.delivered, c.counts.replied), (1, 1), "{:?}", c.counts);
    let page: RecipientPage =
        store.campaign_recipients(&w.lead, made.id, Some(RecipientState::Replied), 0, 10).await.unwrap();
    let conversation = page.recipients[0].conversation_id.unwrap();
    let lines = store.bootstrap(&w.admin, 10).await.unwrap().messages;
    assert!(lines.iter().any(|m| m.conversation_id == conversation
        && m.body
            .contains("Answering the campaign “Pickup reminder”, which said: Hi Gus, order #7 is ready for pickup.")));

    // Pause, resume, cancel: the one waiting for their hours is skipped.
    let c = store.campaign_action(&w.lead, made.id, CampaignAction::Pause).await.unwrap();
    assert_eq!(c.state, CampaignState::Paused);
    let c = store.campaign_action(&w.lead, made.id, CampaignAction::Resume).await.unwrap();
    assert_eq!(c.state, CampaignState::Running);
    let c = store.campaign_action(&w.lead, made.id, CampaignAction::Cancel).await.unwrap();
    assert_eq!((c.state, c.counts.queued, c.counts.skipped), (CampaignState::Cancelled, 0, 4));
    assert_eq!(twilio.requests().len(), before + 6, "nothing more was sent");

    // Over HTTP: agents are refused; the lead exports the results.
    let http = reqwest::Client::new();
    let agent = login(&hub, "agent@x.test").await;
    let r = http.get(format!("{}/api/v1/campaigns", hub.base)).bearer_auth(&agent).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let lead = login(&hub, "lead@x.test").await;
    let r =
        http.get(format!("{}/api/v1/campaigns/{}/export", hub.base, made.id)).bearer_auth(&lead).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 11, "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("8,+14155550117,Gus,replied,")), "{csv}");
    assert!(
        lines.contains(&"2,+14155550111,Al,skipped,'+14155550111 opted out; nothing can be sent there,,"),
        "a reason a spreadsheet would run stays text: {csv}"
    );
    let r = http
        .get(format!("{}/api/v1/campaigns/{}/recipients?state=bogus", hub.base, made.id))
        .bearer_auth(&lead)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

async fn whatsapp_campaigns_send_the_template_to_a_filtered_audience(db: &TestDb) {
    let graph = providers::start(Kind::Graph).await;
    let store = open(db);
    let w = common::world(&store).await;
    let creds = serde_json::json!({"access_token": "EAAG-token", "sender_id": "1055", "base_url": graph.base});
    templates(&store, w.whatsapp.id, creds).await;
    let _hub =
        serve_at(store.clone(), |addr| Config { public_url: Some(format!("http://{addr}")), ..Config::default() })
            .await;
    for (from, name) in [("+16505551301", "Pro Ana"), ("+16505551302", "Free Bo")] {
        let mut m = inbound(&w.whatsapp, from, "hi", &format!("wa-{from}"), now_ms());
        m.display_name = Some(name.into());
        m.profile = [("plan".to_owned(), name.split(' ').next().unwrap().to_owned())].into_iter().collect();
        store.ingest(m).await.unwrap();
    }
    let filter = ContactFilter {
        conditions: vec![Condition { field: "plan".into(), op: ConditionOp::Equals, value: "pro".into() }],
    };
    let mut s = spec(w.whatsapp.id, "");
    s.audience = Audience::Filter { filter, params: vec!["name".into(), "plan".into()] };
    let check = store.check_audience(&w.lead, s.clone(), "UTC".into()).await.unwrap();
    assert_eq!((check.rows, check.valid), (1, 1));
    assert_eq!(check.preview[0].text, "Hi Pro Ana, order Pro is ready for pickup.");
    s.scheduled_at = Some(now_ms());
    let made = store.create_campaign(&w.lead, s, "UTC".into()).await.unwrap();
    let c = wait_for(&store, &w, made.id, |c| c.state == CampaignState::Done).await;
    assert_eq!((c.counts.total, c.counts.sent), (1, 1), "{:?}", c.counts);
    let sent = graph.requests();
    let body = sent.last().unwrap().json();
    assert_eq!(body["to"], "16505551301", "WhatsApp takes the number without its plus");
    assert_eq!(body["type"], "template");
    assert_eq!(body["template"]["name"], "pickup");
    assert_eq!(body["template"]["language"]["code"], "en_US");
    let values: Vec<&str> = body["template"]["components"][0]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["Pro Ana", "Pro"]);
}

both_engines!(
    a_file_is_checked_row_by_row_and_only_leads_run_campaigns,
    a_campaign_reaches_each_eligible_recipient_once_at_the_senders_pace,
    whatsapp_campaigns_send_the_template_to_a_filtered_audience,
);
