//! Satisfaction surveys on both engines: one survey per resolution, its SMS answer scored
//! without reopening anything, never to a customer who opted out, and a web-chat visitor's
//! buttons answered once.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, TestDb, World};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::admin::{CreateInbox, UpdateInbox};
use switchboard_protocol::model::{ChannelKind, Conversation, ConversationStatus, Direction, Message};
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, SetStatus};

static N: AtomicU64 = AtomicU64::new(0);

async fn set_status(store: &Store, v: &Viewer, conversation_id: i64, status: ConversationStatus) {
    let client = format!("csat-test-{}", N.fetch_add(1, Ordering::Relaxed));
    let m = Mutation::SetStatus(SetStatus { conversation_id, status, snoozed_until: None });
    let env = MutationEnvelope { mutation_id: 1, mutation: m, expected_version: None };
    let outcome = store.apply_mutations(v, &client, vec![env]).await.unwrap().remove(0).outcome;
    assert_eq!(outcome, Outcome::Applied);
}

async fn customer(store: &Store, inbox: &switchboard_protocol::model::Inbox, from: &str, body: &str) -> i64 {
    let sid = format!("SM-csat-{}", N.fetch_add(1, Ordering::Relaxed));
    store.ingest(inbound(inbox, from, body, &sid, switchboard_hub::clock::now_ms())).await.unwrap().conversation_id
}

async fn with_survey(store: &Store, inbox_id: i64) {
    let settings = serde_json::json!({"csat": {"question": "How did we do?"}});
    store.update_inbox(inbox_id, UpdateInbox { name: None, team_id: None, settings: Some(settings) }).await.unwrap();
}

async fn conversation(store: &Store, w: &World, id: i64) -> Conversation {
    store.bootstrap(&w.admin, 1).await.unwrap().conversations.into_iter().find(|c| c.id == id).unwrap()
}

async fn lines(store: &Store, w: &World, id: i64) -> Vec<Message> {
    store.messages_before(&w.admin, id, None, 100).await.unwrap().messages
}

fn surveys(lines: &[Message]) -> usize {
    lines.iter().filter(|m| m.direction == Direction::Outbound && m.body.starts_with("How did we do?")).count()
}

async fn a_survey_per_resolution_and_its_answer_reopens_nothing(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    with_survey(&store, w.sms.id).await;
    let id = customer(&store, &w.sms, "+14155550131", "My parcel is late").await;
    set_status(&store, &w.agent, id, ConversationStatus::Resolved).await;
    let sent = lines(&store, &w, id).await;
    assert_eq!(surveys(&sent), 1);
    assert!(sent.iter().any(|m| m.body == "How did we do? Reply with a number from 1 (poor) to 5 (great)."));
    let queued: i64 = db.text("SELECT count(*) FROM outbox").parse().unwrap();
    assert_eq!(queued, 1, "the survey goes out like a reply");

    // The customer answers 5: recorded on the resolved conversation, which stays resolved.
    let answered = customer(&store, &w.sms, "+14155550131", "5 thanks!").await;
    assert_eq!(answered, id);
    let c = conversation(&store, &w, id).await;
    assert_eq!((c.status, c.csat_score), (ConversationStatus::Resolved, Some(5)));
    assert!(lines(&store, &w, id).await.iter().any(|m| m.body == "The customer rated this conversation 5 out of 5."));

    // A second "5" is a new message: the survey was answered.
    let next = customer(&store, &w.sms, "+14155550131", "5").await;
    assert_ne!(next, id, "a new conversation");
    assert_eq!(conversation(&store, &w, id).await.csat_score, Some(5));

    // Reopened and resolved again: a new resolution, a new survey; resolving twice, one.
    set_status(&store, &w.agent, id, ConversationStatus::Open).await;
    set_status(&store, &w.agent, id, ConversationStatus::Resolved).await;
    set_status(&store, &w.agent, id, ConversationStatus::Resolved).await;
    assert_eq!(surveys(&lines(&store, &w, id).await), 2);
}

async fn no_survey_for_a_customer_who_opted_out_or_an_inbox_without_one(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let plain = customer(&store, &w.sms, "+14155550132", "Hello").await;
    set_status(&store, &w.agent, plain, ConversationStatus::Resolved).await;
    assert_eq!(surveys(&lines(&store, &w, plain).await), 0, "the inbox has no survey");

    with_survey(&store, w.sms.id).await;
    let id = customer(&store, &w.sms, "+14155550133", "Hello").await;
    customer(&store, &w.sms, "+14155550133", "STOP").await;
    set_status(&store, &w.agent, id, ConversationStatus::Resolved).await;
    assert_eq!(surveys(&lines(&store, &w, id).await), 0, "opted out");
    let c = conversation(&store, &w, id).await;
    assert_eq!(c.csat_score, None);
}

async fn a_visitor_answers_with_the_buttons_once(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let chat = store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Chat".into(),
            team_id: w.team_a,
            address: "site-widget".into(),
            settings: serde_json::json!({"csat": {}}),
        })
        .await
        .unwrap();
    let visitor = "v-4fd0c2a7";
    let id = customer(&store, &chat, visitor, "Is the shop open on Sunday?").await;
    set_status(&store, &w.agent, id, ConversationStatus::Resolved).await;
    let (thread, _) = store.visitor_thread(chat.id, visitor.into(), None, 50).await.unwrap();
    let survey = thread.iter().find(|m| m.survey).expect("the survey line, with buttons");
    assert_eq!(survey.text, "How did we do?");
    let question = thread.iter().find(|m| !m.survey).unwrap();

    let refused = |r: Result<(), switchboard_hub::store::StoreError>| r.unwrap_err().to_api().code;
    use switchboard_protocol::ErrorCode::{BadRequest, NotFound};
    assert_eq!(refused(store.rate_visit(chat.id, visitor.into(), survey.id, 0).await), BadRequest);
    assert_eq!(refused(store.rate_visit(chat.id, visitor.into(), survey.id, 6).await), BadRequest);
    assert_eq!(refused(store.rate_visit(chat.id, visitor.into(), question.id, 4).await), NotFound, "not a survey");
    assert_eq!(refused(store.rate_visit(chat.id, "v-someone-else".into(), survey.id, 4).await), NotFound, "not theirs");
    store.rate_visit(chat.id, visitor.into(), survey.id, 4).await.unwrap();
    assert_eq!(refused(store.rate_visit(chat.id, visitor.into(), survey.id, 5).await), BadRequest, "answered once");
    assert_eq!(conversation(&store, &w, id).await.csat_score, Some(4));
}

both_engines!(
    a_survey_per_resolution_and_its_answer_reopens_nothing,
    no_survey_for_a_customer_who_opted_out_or_an_inbox_without_one,
    a_visitor_answers_with_the_buttons_once,
);
