//! Consent records, on both engines: a customer's STOP withdraws everything and START
//! resumes service messages only, each kept with the customer's own word; an agent records
//! consent with a reason, on the customer's own addresses and within their scope; an inbox
//! that requires consent refuses a first message without it and stores nothing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, TestDb, World};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::clock::now_ms;
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::admin::UpdateInbox;
use switchboard_protocol::consent::{ConsentPurpose, ConsentSource};
use switchboard_protocol::model::{ChannelKind, Contact};
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, SetConsent, StartConversation};

static N: AtomicU64 = AtomicU64::new(1);

async fn run(store: &Store, v: &Viewer, m: Mutation) -> Outcome {
    let env = MutationEnvelope { mutation_id: N.fetch_add(1, Ordering::Relaxed), mutation: m, expected_version: None };
    store.apply_mutations(v, &format!("consent-{}", v.agent_id), vec![env]).await.unwrap().remove(0).outcome
}

fn code(o: &Outcome) -> String {
    match o {
        Outcome::Rejected { error } => error.code.as_str().to_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn start(inbox_id: i64, to: &str) -> Mutation {
    Mutation::StartConversation(StartConversation {
        client_msg_id: format!("c-{}", N.fetch_add(1, Ordering::Relaxed)),
        inbox_id,
        contact_id: None,
        address: Some(to.into()),
        name: None,
        subject: None,
        body: "Your appointment is tomorrow at 10:00.".into(),
        template: None,
        params: vec![],
    })
}

async fn contact_at(store: &Store, w: &World, address: &str) -> Contact {
    let snap = store.bootstrap(&w.admin, 10).await.unwrap();
    snap.contacts.into_iter().find(|c| c.identities.iter().any(|i| i.address == address)).unwrap()
}

async fn say(store: &Store, w: &World, from: &str, body: &str) {
    let id = format!("in-{}", N.fetch_add(1, Ordering::Relaxed));
    store.ingest(inbound(&w.sms, from, body, &id, now_ms())).await.unwrap();
}

async fn stop_withdraws_everything_and_start_resumes_service_only(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    say(&store, &w, "+14155550101", "Where is my order?").await;
    say(&store, &w, "+14155550101", "stop").await;
    let k = contact_at(&store, &w, "+14155550101").await;
    assert_eq!(k.opted_out.len(), 1);
    assert_eq!(k.consents.len(), 2, "service and marketing: {:?}", k.consents);
    for c in &k.consents {
        assert!(!c.granted);
        assert_eq!((c.source, c.evidence.as_str(), c.channel), (ConsentSource::Keyword, "STOP", ChannelKind::Sms));
    }
    say(&store, &w, "+14155550101", "START").await;
    let k = contact_at(&store, &w, "+14155550101").await;
    assert!(k.opted_out.is_empty());
    let of = |p| k.consents.iter().find(|c| c.purpose == p).unwrap();
    assert!(of(ConsentPurpose::Service).granted);
    assert!(!of(ConsentPurpose::Marketing).granted, "START does not sign anyone up for offers");
    // Every record is kept: two withdrawals, one grant.
    assert_eq!(db.text("SELECT count(*) FROM consents WHERE address = '+14155550101'"), "3");
}

async fn agents_record_consent_with_a_reason_within_their_scope(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    say(&store, &w, "+14155550102", "Hello").await;
    let k = contact_at(&store, &w, "+14155550102").await;
    let set = |granted: bool, purpose, address: &str, reason: &str| {
        Mutation::SetConsent(SetConsent {
            contact_id: k.id,
            channel: ChannelKind::Sms,
            address: address.into(),
            purpose,
            granted,
            reason: reason.into(),
        })
    };
    assert_eq!(
        code(&run(&store, &w.agent, set(false, ConsentPurpose::Service, "+14155550102", "  ")).await),
        "bad_request"
    );
    let long = "x".repeat(1_001);
    assert_eq!(
        code(&run(&store, &w.agent, set(false, ConsentPurpose::Service, "+14155550102", &long)).await),
        "bad_request"
    );
    assert_eq!(
        code(&run(&store, &w.agent, set(false, ConsentPurpose::Service, "+14155550199", "asked by phone")).await),
        "bad_request",
        "not one of theirs"
    );
    assert_eq!(
        code(&run(&store, &w.b_agent, set(false, ConsentPurpose::Service, "+14155550102", "asked by phone")).await),
        "not_found",
        "another team's customer"
    );
    assert_eq!(db.text("SELECT count(*) FROM consents"), "0", "nothing refused was kept");

    let reason = "Asked on the phone on 3 Dec not to get any more texts";
    assert_eq!(
        run(&store, &w.agent, set(false, ConsentPurpose::Service, "+14155550102", reason)).await,
        Outcome::Applied
    );
    let k2 = contact_at(&store, &w, "+14155550102").await;
    assert_eq!(k2.opted_out.len(), 1, "withdrawing service is an opt-out");
    let c = &k2.consents[0];
    assert_eq!(
        (c.source, c.reason.as_deref(), c.by_agent_id),
        (ConsentSource::Agent, Some(reason), Some(w.agent.agent_id))
    );
    assert_eq!(code(&run(&store, &w.agent, start(w.sms.id, "+14155550102")).await), "opted_out");

    assert_eq!(
        run(&store, &w.agent, set(true, ConsentPurpose::Service, "+14155550102", "Wrote in to ask for texts again"))
            .await,
        Outcome::Applied
    );
    assert!(contact_at(&store, &w, "+14155550102").await.opted_out.is_empty());
    assert_eq!(run(&store, &w.agent, start(w.sms.id, "+14155550102")).await, Outcome::Applied);
}

async fn an_inbox_that_requires_consent_writes_only_to_who_gave_it(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let settings = |v| UpdateInbox { name: None, team_id: None, settings: Some(v) };
    for bad in [serde_json::json!({"consent_required": ["spam"]}), serde_json::json!({"consent_required": "service"})] {
        let e = store.update_inbox(w.sms.id, settings(bad.clone())).await.unwrap_err();
        assert_eq!(e.to_api().code.as_str(), "bad_request", "{bad}");
    }
    store.update_inbox(w.sms.id, settings(serde_json::json!({"consent_required": ["service"]}))).await.unwrap();
    let before = db.text("SELECT count(*) FROM messages");
    assert_eq!(code(&run(&store, &w.agent, start(w.sms.id, "+14155550103")).await), "no_consent");
    assert_eq!(db.text("SELECT count(*) FROM messages"), before, "a refused first message stores nothing");
    assert_eq!(db.text("SELECT count(*) FROM contacts WHERE name = '+14155550103'"), "0");

    say(&store, &w, "+14155550104", "Hi").await;
    let k = contact_at(&store, &w, "+14155550104").await;
    let grant = Mutation::SetConsent(SetConsent {
        contact_id: k.id,
        channel: ChannelKind::Sms,
        address: "+14155550104".into(),
        purpose: ConsentPurpose::Service,
        granted: true,
        reason: "Signed the delivery-updates form at the counter".into(),
    });
    assert_eq!(code(&run(&store, &w.agent, start(w.sms.id, "+14155550104")).await), "no_consent");
    assert_eq!(run(&store, &w.agent, grant).await, Outcome::Applied);
    assert_eq!(run(&store, &w.agent, start(w.sms.id, "+14155550104")).await, Outcome::Applied);
}

/// The first email to a customer carries a one-click unsubscribe link (RFC 8058) and a
/// reply does not; following the link (GET) changes nothing, posting to it opts them out.
async fn an_email_that_starts_a_thread_can_be_unsubscribed_with_one_click(db: &TestDb) {
    let smtp = switchboard_testkit::providers::smtp().await;
    let store = open(db);
    let w = common::world(&store).await;
    let settings = serde_json::json!({"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none"});
    store.update_inbox(w.email.id, UpdateInbox { name: None, team_id: None, settings: Some(settings) }).await.unwrap();
    let hub = common::serve_at(store.clone(), |addr| switchboard_hub::config::Config {
        public_url: Some(format!("http://{addr}")),
        ..Default::default()
    })
    .await;
    let Mutation::StartConversation(mut first) = start(w.email.id, "Ana@Example.com") else { unreachable!() };
    first.subject = Some("Your invoice".into());
    assert_eq!(run(&store, &w.agent, Mutation::StartConversation(first)).await, Outcome::Applied);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while smtp.messages.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the email was not sent");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let raw = smtp.messages.lock().unwrap()[0].clone();
    let header = raw.lines().find(|l| l.starts_with("List-Unsubscribe: ")).expect("a List-Unsubscribe header");
    assert!(raw.lines().any(|l| l == "List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{raw}");
    let url = header.trim_start_matches("List-Unsubscribe: <").trim_end_matches('>').to_owned();
    assert!(url.starts_with(&format!("{}/unsubscribe/", hub.base)), "{url}");

    let http = reqwest::Client::new();
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("an…@example.com"));
    assert_eq!(db.text("SELECT count(*) FROM opt_outs"), "0", "looking at the page unsubscribes nobody");
    let bogus = format!("{}/unsubscribe/{}", hub.base, "ab".repeat(24));
    assert_eq!(http.post(&bogus).send().await.unwrap().status(), 404);
    let done = http.post(&url).form(&[("List-Unsubscribe", "One-Click")]).send().await.unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(http.post(&url).send().await.unwrap().status(), 200, "again: nothing more");
    assert_eq!(db.text("SELECT count(*) FROM consents WHERE source = 'unsubscribe'"), "1");
    let k = contact_at(&store, &w, "ana@example.com").await;
    assert_eq!(k.opted_out.len(), 1);
    let Mutation::StartConversation(mut again) = start(w.email.id, "ana@example.com") else { unreachable!() };
    again.subject = Some("One more thing".into());
    assert_eq!(code(&run(&store, &w.agent, Mutation::StartConversation(again)).await), "opted_out");
}

both_engines!(
    an_email_that_starts_a_thread_can_be_unsubscribed_with_one_click,
    stop_withdraws_everything_and_start_resumes_service_only,
    agents_record_consent_with_a_reason_within_their_scope,
    an_inbox_that_requires_consent_writes_only_to_who_gave_it,
);
