//! Writing first, on both engines: a new number gets a pending conversation of the
//! author's with one queued message, once however often it is retried, and the customer's
//! answer joins it; every channel's rule refuses what it must (a window closed without a
//! template, an opted-out number, email without a subject, Messenger to an id nobody gave,
//! web chat at all) and a refused start stores nothing; scope and bad addresses are refused.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, TestDb, World};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::clock::now_ms;
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::admin::{CreateInbox, UpdateInbox};
use switchboard_protocol::model::{ChannelKind, Conversation, ConversationStatus, Direction};
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, StartConversation};

static N: AtomicU64 = AtomicU64::new(1);

fn start(inbox_id: i64, address: Option<&str>, body: &str) -> StartConversation {
    StartConversation {
        client_msg_id: format!("start-{}", N.fetch_add(1, Ordering::Relaxed)),
        inbox_id,
        contact_id: None,
        address: address.map(str::to_owned),
        name: None,
        subject: None,
        body: body.into(),
        template: None,
        params: vec![],
    }
}

async fn run(store: &Store, v: &Viewer, s: StartConversation, mutation_id: u64) -> Outcome {
    let env = MutationEnvelope { mutation_id, mutation: Mutation::StartConversation(s), expected_version: None };
    store.apply_mutations(v, &format!("outreach-{}", v.agent_id), vec![env]).await.unwrap().remove(0).outcome
}

fn refused(o: &Outcome) -> (String, String) {
    match o {
        Outcome::Rejected { error } => (error.code.as_str().to_owned(), error.message.clone()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn conversations(store: &Store, w: &World) -> Vec<Conversation> {
    store.bootstrap(&w.admin, 10).await.unwrap().conversations
}

async fn a_new_number_gets_one_pending_conversation_and_the_answer_joins_it(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let mut s = start(w.sms.id, Some("(415) 555-0177"), "Your order #4521 is ready to collect.");
    s.name = Some("Carla Mendes".into());
    assert_eq!(run(&store, &w.agent, s.clone(), 1).await, Outcome::Applied);
    // Retried (the answer was lost): nothing more.
    assert_eq!(run(&store, &w.agent, s.clone(), 1).await, Outcome::Duplicate);
    assert_eq!(run(&store, &w.agent, s.clone(), 2).await, Outcome::Duplicate, "the same message, a new mutation id");

    let all = conversations(&store, &w).await;
    assert_eq!(all.len(), 1);
    let c = &all[0];
    assert_eq!(
        (c.status, c.assignee_id, c.team_id, c.customer_address.as_str(), c.channel),
        (ConversationStatus::Pending, Some(w.agent.agent_id), w.team_a, "+14155550177", ChannelKind::Sms)
    );
    assert_eq!(c.first_response_due_at, None, "no response target: the customer has not asked anything");
    let lines = store.messages_before(&w.admin, c.id, None, 10).await.unwrap().messages;
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].direction, lines[0].body.as_str()),
        (Direction::Outbound, "Your order #4521 is ready to collect.")
    );
    assert_eq!(lines[0].author_agent_id, Some(w.agent.agent_id));
    let queued: i64 = db.text("SELECT count(*) FROM outbox").parse().unwrap();
    assert_eq!(queued, 1, "queued for delivery once");
    let contact =
        store.bootstrap(&w.admin, 1).await.unwrap().contacts.into_iter().find(|k| k.id == c.contact_id).unwrap();
    assert_eq!(contact.name, "Carla Mendes");

    // The customer answers: the same conversation, open now and waiting on the agent.
    let sid = "SM-outreach-answer";
    let got = store.ingest(inbound(&w.sms, "+14155550177", "Great, I'll come by at 5", sid, now_ms())).await.unwrap();
    assert_eq!(got.conversation_id, c.id);
    let after = conversations(&store, &w).await.into_iter().find(|x| x.id == c.id).unwrap();
    assert_eq!(after.status, ConversationStatus::Open);
    assert!(after.waiting_since.is_some());

    // A known customer, by their contact: their address on the inbox's channel.
    let mut again = start(w.sms.id, None, "Reminder: we close at 6 today.");
    again.contact_id = Some(c.contact_id);
    assert_eq!(run(&store, &w.agent2, again, 1).await, Outcome::Applied);
    let theirs: Vec<_> = conversations(&store, &w).await.into_iter().filter(|x| x.contact_id == c.contact_id).collect();
    assert_eq!(theirs.len(), 2);
    assert!(theirs.iter().any(|x| x.assignee_id == Some(w.agent2.agent_id) && x.status == ConversationStatus::Pending));
}

async fn each_channel_refuses_what_it_must_and_stores_nothing(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let templates = serde_json::json!({"templates": [{"name": "order_update", "language": "en_US", "body": "Hi {{1}}, your order {{2}} has shipped."}]});
    store
        .update_inbox(w.whatsapp.id, UpdateInbox { name: None, team_id: None, settings: Some(templates) })
        .await
        .unwrap();
    let chat = store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Chat".into(),
            team_id: w.team_a,
            address: "site".into(),
            settings: serde_json::json!({}),
        })
        .await
        .unwrap();
    // A customer who said STOP.
    store.ingest(inbound(&w.sms, "+14155550188", "STOP", "SM-stop", now_ms())).await.unwrap();
    let before = conversations(&store, &w).await.len();
    let head = *store.head().borrow();

    let mut email = start(w.email.id, Some("ana@example.com"), "Your invoice is attached.");
    let mut bad_template = start(w.whatsapp.id, Some("+16505551234"), "");
    bad_template.template = Some("order_update".into());
    bad_template.params = vec!["only one".into()];
    let mut unknown_template = start(w.whatsapp.id, Some("+16505551234"), "");
    unknown_template.template = Some("nope".into());
    let mut not_theirs = start(w.sms.id, Some("+14155550199"), "Hi");
    not_theirs.contact_id = Some(99_999);
    let cases = [
        (w.agent.clone(), start(w.whatsapp.id, Some("+16505551234"), "Hello!"), "reply_window_closed", "template"),
        (w.agent.clone(), bad_template, "bad_request", "takes 2 values"),
        (w.agent.clone(), unknown_template, "bad_request", "no approved template"),
        (w.agent.clone(), start(w.sms.id, Some("+14155550188"), "We miss you"), "opted_out", "opted out"),
        (w.agent.clone(), email.clone(), "bad_request", "subject"),
        (
            w.agent.clone(),
            start(w.messenger.id, Some("2458910300123456"), "Hi"),
            "bad_request",
            "written to this inbox",
        ),
        (w.agent.clone(), start(chat.id, Some("v-123"), "Hi"), "bad_request", "the customer starts"),
        (w.agent.clone(), start(w.sms.id, Some("not a number"), "Hi"), "bad_request", ""),
        (w.agent.clone(), start(w.sms.id, None, "Hi"), "bad_request", "address"),
        (w.agent.clone(), start(w.sms.id, Some("+14155550170"), "  "), "bad_request", "empty"),
        (w.b_agent.clone(), start(w.sms.id, Some("+14155550170"), "Hi"), "not_found", ""),
        (w.agent.clone(), start(987_654, Some("+14155550170"), "Hi"), "not_found", ""),
        (w.agent.clone(), not_theirs, "not_found", ""),
    ];
    for (i, (who, s, code, says)) in cases.into_iter().enumerate() {
        let what = format!("{:?}", (s.inbox_id, &s.address, &s.template));
        let (got, message) = refused(&run(&store, &who, s, 10 + i as u64).await);
        assert_eq!(got, code, "{what}: {message}");
        assert!(message.contains(says), "{what}: {message}");
    }
    assert_eq!(conversations(&store, &w).await.len(), before, "nothing stored");
    assert_eq!(*store.head().borrow(), head, "nothing announced");
    let contacts: i64 = db.text("SELECT count(*) FROM contacts").parse().unwrap();
    assert_eq!(contacts, 1, "no contact made for a refused start (only the one who said STOP)");

    // The same, done right: a template on WhatsApp, a subject on email.
    let mut template = start(w.whatsapp.id, Some("+16505551234"), "");
    template.template = Some("order_update".into());
    template.params = vec!["Sheena".into(), "#4521".into()];
    assert_eq!(run(&store, &w.agent, template, 100).await, Outcome::Applied);
    email.subject = Some("Invoice 2026-11".into());
    assert_eq!(run(&store, &w.agent, email, 101).await, Outcome::Applied);
    let lines: Vec<String> = store.bootstrap(&w.admin, 5).await.unwrap().messages.into_iter().map(|m| m.body).collect();
    assert!(lines.contains(&"Hi Sheena, your order #4521 has shipped.".to_owned()), "{lines:?}");
    let subject = db.text("SELECT subject FROM messages WHERE body = 'Your invoice is attached.'");
    assert_eq!(subject, "Invoice 2026-11");
}

async fn customers_opt_out_in_their_language_on_sms_and_whatsapp(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let words = |v: serde_json::Value| UpdateInbox { name: None, team_id: None, settings: Some(v) };
    // Words that cannot work are refused, and the inbox keeps what it had.
    for bad in [
        serde_json::json!({"keywords": {"opt_out": ["BAJA"], "opt_in": ["baja"]}}),
        serde_json::json!({"keywords": {"opt_out": [" "]}}),
        serde_json::json!({"keywords": {"opt_out": "BAJA"}}),
        serde_json::json!({"keywords": {"unsubscribe": ["BAJA"]}}),
    ] {
        let e = store.update_inbox(w.sms.id, words(bad.clone())).await.unwrap_err();
        assert_eq!(e.to_api().code.as_str(), "bad_request", "{bad}");
    }
    store
        .update_inbox(
            w.sms.id,
            words(serde_json::json!({"keywords": {"opt_out": ["BAJA", "Arrêt"], "opt_in": ["ALTA"]}})),
        )
        .await
        .unwrap();
    let say = |inbox: &switchboard_protocol::model::Inbox, from: &str, body: &str| {
        inbound(inbox, from, body, &format!("kw-{}", N.fetch_add(1, Ordering::Relaxed)), now_ms())
    };
    store.ingest(say(&w.sms, "+14155550161", "Hola")).await.unwrap();
    store.ingest(say(&w.sms, "+14155550161", "baja")).await.unwrap();
    let mut to_her = start(w.sms.id, Some("+14155550161"), "¿Sigue interesada?");
    let (code, message) = refused(&run(&store, &w.agent, to_her.clone(), 1).await);
    assert_eq!(code, "opted_out", "{message}");
    let lines = store.bootstrap(&w.admin, 10).await.unwrap().messages;
    assert!(lines.iter().any(|m| m.direction == Direction::System && m.body.contains("opted out of sms with “BAJA”")));
    store.ingest(say(&w.sms, "+14155550161", "Alta")).await.unwrap();
    to_her.client_msg_id = "after-alta".into();
    assert_eq!(run(&store, &w.agent, to_her, 2).await, Outcome::Applied, "opted back in");
    store.ingest(say(&w.sms, "+14155550162", "ARRÊT!")).await.unwrap();
    let (code, _) = refused(&run(&store, &w.agent, start(w.sms.id, Some("+14155550162"), "Hi"), 3).await);
    assert_eq!(code, "opted_out");

    // WhatsApp takes the carriers' words too; a sentence with the word in it is no keyword.
    store
        .ingest(say(&w.whatsapp, "+16505551200", "Please stop the promotions, but tell me about my order"))
        .await
        .unwrap();
    store.ingest(say(&w.whatsapp, "+16505551201", "STOP")).await.unwrap();
    let templates = serde_json::json!({"templates": [{"name": "hello", "language": "en_US", "body": "Hello {{1}}"}]});
    store.update_inbox(w.whatsapp.id, words(templates)).await.unwrap();
    let template = |to: &str, id: &str| {
        let mut s = start(w.whatsapp.id, Some(to), "");
        s.client_msg_id = id.into();
        s.template = Some("hello".into());
        s.params = vec!["there".into()];
        s
    };
    assert_eq!(run(&store, &w.agent, template("+16505551200", "wa-a"), 4).await, Outcome::Applied);
    let (code, _) = refused(&run(&store, &w.agent, template("+16505551201", "wa-b"), 5).await);
    assert_eq!(code, "opted_out");
}

both_engines!(
    a_new_number_gets_one_pending_conversation_and_the_answer_joins_it,
    each_channel_refuses_what_it_must_and_stores_nothing,
    customers_opt_out_in_their_language_on_sms_and_whatsapp,
);
