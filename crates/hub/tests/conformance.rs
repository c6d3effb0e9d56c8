//! One conformance suite for the store, run against SQLite and against a real PostgreSQL.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, world, TestDb};
use std::collections::BTreeSet;
use switchboard_hub::clock::{now_ms, DAY, HOUR};
use switchboard_hub::store::StoreError;
use switchboard_protocol::model::{ConversationStatus, Delivery, Direction};
use switchboard_protocol::mutation::{
    AddNote, Assign, DeleteCanned, MergeContacts, Mutation, MutationEnvelope, Outcome, SaveCanned, SendReply,
    SendTemplate, SetStatus,
};
use switchboard_protocol::sync::Change;

fn env(id: u64, m: Mutation) -> MutationEnvelope {
    MutationEnvelope { mutation_id: id, mutation: m, expected_version: None }
}

fn reply(conversation_id: i64, cmid: &str, body: &str) -> Mutation {
    Mutation::SendReply(SendReply {
        conversation_id,
        client_msg_id: cmid.into(),
        body: body.into(),
        attachments: vec![],
        choices: None,
    })
}

/// Every change frame of a full read of the feed as an admin sees it.
async fn all_changes(store: &switchboard_hub::store::Store, v: &switchboard_hub::policy::Viewer) -> Vec<(i64, Change)> {
    let mut out = Vec::new();
    let mut since = 0;
    loop {
        let page = store.changes(v, since, 100).await.unwrap();
        for f in page.changes {
            out.push((f.seq, serde_json::from_str(f.change.get()).unwrap()));
        }
        since = page.next.seq().unwrap();
        if !page.has_more {
            return out;
        }
    }
}

async fn ingest_finds_or_creates_contact_and_conversation(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let t0 = now_ms() - HOUR;
    let a = store.ingest(inbound(&w.sms, "+1 (415) 555-0123", "Hi, where is my order?", "SM1", t0)).await.unwrap();
    assert!(a.new_conversation && !a.duplicate);
    // The same number on WhatsApp, written as WhatsApp writes it, is the same customer.
    let b = store.ingest(inbound(&w.whatsapp, "14155550123", "Also on WhatsApp", "wamid.1", t0 + 1000)).await.unwrap();
    assert_eq!(a.contact_id, b.contact_id);
    assert_ne!(a.conversation_id, b.conversation_id);
    // A second SMS joins the open conversation and keeps the oldest waiting time.
    let c = store.ingest(inbound(&w.sms, "+14155550123", "Hello?", "SM2", t0 + 2000)).await.unwrap();
    assert_eq!(c.conversation_id, a.conversation_id);
    assert!(!c.new_conversation);

    let boot = store.bootstrap(&w.admin, 10).await.unwrap();
    let conv = boot.conversations.iter().find(|x| x.id == a.conversation_id).unwrap();
    assert_eq!(conv.waiting_since, Some(t0));
    assert_eq!(conv.last_activity_at, t0 + 2000);
    assert_eq!(conv.status, ConversationStatus::Open);
    assert_eq!(conv.team_id, w.team_a);
    assert_eq!(conv.preview, "Hello?");
    let wa = boot.conversations.iter().find(|x| x.id == b.conversation_id).unwrap();
    assert_eq!(wa.reply_window_expires_at, Some(t0 + 1000 + DAY));
    let contact = boot.contacts.iter().find(|x| x.id == a.contact_id).unwrap();
    assert_eq!(contact.name, "Ana Silva");
    let addrs: BTreeSet<_> = contact.identities.iter().map(|i| (i.channel.as_str(), i.address.as_str())).collect();
    assert_eq!(addrs, BTreeSet::from([("sms", "+14155550123"), ("whatsapp", "+14155550123")]));
    let msgs: Vec<_> = boot.messages.iter().filter(|m| m.conversation_id == a.conversation_id).collect();
    assert_eq!(msgs.len(), 2);
    assert!(msgs.iter().all(|m| m.direction == Direction::Inbound));
}

async fn ingest_dedupes_provider_retries(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let first = store.ingest(inbound(&w.sms, "+14155550123", "once", "SM-dup", now_ms())).await.unwrap();
    let head = *store.head().borrow();
    for _ in 0..3 {
        let again = store.ingest(inbound(&w.sms, "+14155550123", "once", "SM-dup", now_ms())).await.unwrap();
        assert!(again.duplicate);
        assert_eq!(
            (again.message_id, again.conversation_id, again.contact_id),
            (first.message_id, first.conversation_id, first.contact_id)
        );
    }
    assert_eq!(*store.head().borrow(), head, "a retry writes no change");
    // The same provider id in another inbox is a different message.
    let other = store.ingest(inbound(&w.email, "ana@example.com", "once", "SM-dup", now_ms())).await.unwrap();
    assert!(!other.duplicate);
    let page = store.messages_before(&w.admin, first.conversation_id, None, 50).await.unwrap();
    assert_eq!(page.messages.len(), 1);
}

async fn ingest_rejects_bad_input_and_stores_nothing(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let head = *store.head().borrow();
    for (inbox, from, body) in [(&w.sms, "not a phone", "x"), (&w.email, "nobody", "x"), (&w.sms, "+14155550123", "  ")]
    {
        let err = store.ingest(inbound(inbox, from, body, "bad", now_ms())).await.unwrap_err();
        assert!(matches!(err, StoreError::BadRequest(_)), "{err:?}");
    }
    let mut missing = inbound(&w.sms, "+14155550123", "x", "bad", now_ms());
    missing.inbox_id = 999_999;
    assert!(matches!(store.ingest(missing).await.unwrap_err(), StoreError::NotFound(_)));
    let huge = "x".repeat(switchboard_hub::store::ingest::MAX_BODY + 1);
    assert!(matches!(
        store.ingest(inbound(&w.sms, "+14155550123", &huge, "big", now_ms())).await.unwrap_err(),
        StoreError::BadRequest(_)
    ));
    assert_eq!(*store.head().borrow(), head);
    assert!(store.bootstrap(&w.admin, 5).await.unwrap().conversations.is_empty());
}

async fn conversation_lifecycle(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let t0 = now_ms() - HOUR;
    let a = store.ingest(inbound(&w.sms, "+14155550123", "help", "SM1", t0)).await.unwrap();
    let r = store
        .apply_mutations(&w.agent, "console-1", vec![env(1, reply(a.conversation_id, "c-1", "On it!"))])
        .await
        .unwrap();
    assert_eq!(r[0].outcome, Outcome::Applied);
    let page = store.messages_before(&w.agent, a.conversation_id, None, 10).await.unwrap();
    let out = page.messages.last().unwrap();
    assert_eq!(out.direction, Direction::Outbound);
    assert_eq!(out.delivery, Some(Delivery::Queued));
    assert_eq!(out.client_msg_id.as_deref(), Some("c-1"));
    assert_eq!(out.author_agent_id, Some(w.agent.agent_id));
    let conv = |s: &switchboard_hub::store::Store| {
        let s = s.clone();
        let v = w.admin.clone();
        async move {
            s.bootstrap(&v, 1).await.unwrap().conversations.into_iter().find(|c| c.id == a.conversation_id).unwrap()
        }
    };
    assert_eq!(conv(&store).await.waiting_since, None, "answered");

    // Pending wakes up when the customer writes; resolved starts a new conversation.
    store
        .apply_mutations(
            &w.agent,
            "console-1",
            vec![env(
                2,
                Mutation::SetStatus(SetStatus {
                    conversation_id: a.conversation_id,
                    status: ConversationStatus::Pending,
                    snoozed_until: None,
                }),
            )],
        )
        .await
        .unwrap();
    let b = store.ingest(inbound(&w.sms, "+14155550123", "still there?", "SM2", now_ms())).await.unwrap();
    assert_eq!(b.conversation_id, a.conversation_id);
    assert_eq!(conv(&store).await.status, ConversationStatus::Open);
    store
        .apply_mutations(
            &w.agent,
            "console-1",
            vec![env(
                3,
                Mutation::SetStatus(SetStatus {
                    conversation_id: a.conversation_id,
                    status: ConversationStatus::Resolved,
                    snoozed_until: None,
                }),
            )],
        )
        .await
        .unwrap();
    assert_eq!(conv(&store).await.waiting_since, None);
    let c = store.ingest(inbound(&w.sms, "+14155550123", "new question", "SM3", now_ms())).await.unwrap();
    assert!(c.new_conversation);
    assert_ne!(c.conversation_id, a.conversation_id);
    assert_eq!(c.contact_id, a.contact_id);
}

async fn mutations_are_idempotent_and_versioned(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let a = store.ingest(inbound(&w.sms, "+14155550123", "help", "SM1", now_ms())).await.unwrap();
    let batch = vec![env(1, reply(a.conversation_id, "c-1", "one")), env(2, reply(a.conversation_id, "c-2", "two"))];
    let first = store.apply_mutations(&w.agent, "console-1", batch.clone()).await.unwrap();
    assert!(first.iter().all(|r| r.outcome == Outcome::Applied));
    let head = *store.head().borrow();
    let again = store.apply_mutations(&w.agent, "console-1", batch).await.unwrap();
    assert!(again.iter().all(|r| r.outcome == Outcome::Duplicate));
    assert_eq!(*store.head().borrow(), head, "a retried batch changes nothing");
    let msgs = store.messages_before(&w.agent, a.conversation_id, None, 10).await.unwrap().messages;
    assert_eq!(msgs.iter().filter(|m| m.direction == Direction::Outbound).count(), 2);
    // The same client_msg_id from another client is not sent twice either.
    let other = store
        .apply_mutations(&w.agent, "console-2", vec![env(1, reply(a.conversation_id, "c-1", "one"))])
        .await
        .unwrap();
    assert_eq!(other[0].outcome, Outcome::Duplicate);
    // Another agent cannot use this client's id.
    assert!(matches!(
        store.apply_mutations(&w.agent2, "console-1", vec![env(9, reply(a.conversation_id, "c-9", "x"))]).await,
        Err(StoreError::Forbidden(_))
    ));

    // Two leads reassign the same thread from the same version: one wins, the other
    // learns who did.
    let version = store.bootstrap(&w.lead, 0).await.unwrap().conversations[0].version;
    let to = |agent: i64| MutationEnvelope {
        mutation_id: 1,
        mutation: Mutation::Assign(Assign {
            conversation_id: a.conversation_id,
            agent_id: Some(Some(agent)),
            team_id: None,
        }),
        expected_version: Some(version),
    };
    let win = store.apply_mutations(&w.lead, "lead-console", vec![to(w.agent.agent_id)]).await.unwrap();
    assert_eq!(win[0].outcome, Outcome::Applied);
    let lose = store.apply_mutations(&w.admin, "admin-console", vec![to(w.agent2.agent_id)]).await.unwrap();
    match &lose[0].outcome {
        Outcome::Conflict { current: Change::Conversation(c) } => {
            assert_eq!(c.assignee_id, Some(w.agent.agent_id));
            assert_eq!(c.updated_by, Some(w.lead.agent_id));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A refused mutation is remembered as processed; the next one goes through.
    let bad =
        store.apply_mutations(&w.agent, "console-1", vec![env(3, reply(a.conversation_id, "c-3", ""))]).await.unwrap();
    assert!(
        matches!(&bad[0].outcome, Outcome::Rejected { error } if error.code == switchboard_protocol::ErrorCode::BadRequest)
    );
    let next = store
        .apply_mutations(&w.agent, "console-1", vec![env(4, reply(a.conversation_id, "c-4", "ok"))])
        .await
        .unwrap();
    assert_eq!(next[0].outcome, Outcome::Applied);
}

async fn feed_pages_in_order_and_expires(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    for i in 0..30 {
        store
            .ingest(inbound(&w.sms, &format!("+1415555{:04}", 1000 + i), "hi", &format!("SM{i}"), now_ms()))
            .await
            .unwrap();
    }
    let all = all_changes(&store, &w.admin).await;
    let seqs: Vec<i64> = all.iter().map(|c| c.0).collect();
    assert!(seqs.windows(2).all(|p| p[0] < p[1]), "ordered");
    let head = *store.head().borrow();
    assert_eq!(*seqs.last().unwrap(), head);
    let page = store.changes(&w.admin, 0, 7).await.unwrap();
    assert!(page.has_more);
    assert_eq!(page.changes.len(), 7);
    assert_eq!(page.next.seq().unwrap(), page.changes[6].seq);
    let end = store.changes(&w.admin, head, 7).await.unwrap();
    assert!(!end.has_more && end.changes.is_empty());
    assert_eq!(end.next.seq(), Some(head));
    assert!(matches!(store.changes(&w.admin, head + 1, 10).await, Err(StoreError::BadCursor(_))));
    // Below the retention floor: cursor_expired.
    store.prune_changes(head / 2).await.unwrap();
    assert!(matches!(store.changes(&w.admin, 0, 10).await, Err(StoreError::CursorExpired)));
    assert!(store.changes(&w.admin, head / 2, 10).await.is_ok());
}

/// Many concurrent writers while a reader pages the feed: the reader sees every change
/// exactly once, in order, with nothing skipped.
async fn concurrent_writers_never_make_a_reader_skip(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let start = *store.head().borrow();
    let writers = 16;
    let per = 40;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let v = w.admin.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut since = start;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = store.changes(&v, since, 13).await.unwrap();
                seen.extend(page.changes.iter().map(|f| f.seq));
                since = page.next.seq().unwrap();
                if finished && !page.has_more {
                    return seen;
                }
            }
        })
    };
    let mut tasks = Vec::new();
    for t in 0..writers {
        let store = store.clone();
        let inbox = if t % 2 == 0 { w.sms.clone() } else { w.whatsapp.clone() };
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                store
                    .ingest(inbound(
                        &inbox,
                        &format!("+1415555{:04}", (t * per + i) % 50 + 2000),
                        "hello",
                        &format!("m-{t}-{i}"),
                        now_ms(),
                    ))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let head = *store.head().borrow();
    let expected: Vec<i64> = (start + 1..=head).collect();
    assert_eq!(seen, expected, "every change once, in order");
}

async fn scope_follows_teams_and_reassignment_removes(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let a = store.ingest(inbound(&w.sms, "+14155550123", "team A", "SM1", now_ms())).await.unwrap();
    let b = store.ingest(inbound(&w.b_sms, "+14155550124", "team B", "SB1", now_ms())).await.unwrap();
    let boot_a = store.bootstrap(&w.agent, 5).await.unwrap();
    assert_eq!(boot_a.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a.conversation_id]);
    assert!(boot_a.contacts.iter().all(|c| c.id == a.contact_id));
    assert!(boot_a.messages.iter().all(|m| m.conversation_id == a.conversation_id));
    let boot_b = store.bootstrap(&w.b_agent, 5).await.unwrap();
    assert_eq!(boot_b.conversations.iter().map(|c| c.id).collect::<Vec<_>>(), vec![b.conversation_id]);
    assert_eq!(store.bootstrap(&w.admin, 5).await.unwrap().conversations.len(), 2);
    assert!(matches!(store.messages_before(&w.agent, b.conversation_id, None, 5).await, Err(StoreError::NotFound(_))));

    let cursor_a = boot_a.cursor.seq().unwrap();
    let cursor_b = boot_b.cursor.seq().unwrap();
    let r = store
        .apply_mutations(
            &w.lead,
            "lead",
            vec![env(
                1,
                Mutation::Assign(Assign {
                    conversation_id: a.conversation_id,
                    agent_id: Some(None),
                    team_id: Some(w.team_b),
                }),
            )],
        )
        .await
        .unwrap();
    assert_eq!(r[0].outcome, Outcome::Applied);
    let page = store.changes(&w.agent, cursor_a, 100).await.unwrap();
    let changes: Vec<Change> = page.changes.iter().map(|f| serde_json::from_str(f.change.get()).unwrap()).collect();
    assert!(
        changes.contains(&Change::ConversationRemoved {
            id: a.conversation_id,
            reason: switchboard_protocol::sync::RemovalReason::LeftScope
        }),
        "{changes:?}"
    );
    assert!(!changes.iter().any(|c| matches!(c, Change::Conversation(_))));
    let page_b = store.changes(&w.b_agent, cursor_b, 100).await.unwrap();
    let changes_b: Vec<Change> = page_b.changes.iter().map(|f| serde_json::from_str(f.change.get()).unwrap()).collect();
    assert!(changes_b
        .iter()
        .any(|c| matches!(c, Change::Conversation(cv) if cv.id == a.conversation_id && cv.team_id == w.team_b)));
    assert!(changes_b.iter().any(|c| matches!(c, Change::Contact(k) if k.id == a.contact_id)));
}

async fn merge_moves_identities_and_history(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let sms = store.ingest(inbound(&w.sms, "+14155550123", "by sms", "SM1", now_ms())).await.unwrap();
    let mail = store.ingest(inbound(&w.email, "ana@example.com", "by email", "E1", now_ms())).await.unwrap();
    assert_ne!(sms.contact_id, mail.contact_id);
    let m =
        Mutation::MergeContacts(MergeContacts { into_contact_id: sms.contact_id, from_contact_id: mail.contact_id });
    let denied = store.apply_mutations(&w.agent, "agent", vec![env(1, m.clone())]).await.unwrap();
    assert!(
        matches!(&denied[0].outcome, Outcome::Rejected { error } if error.code == switchboard_protocol::ErrorCode::Forbidden)
    );
    let ok = store.apply_mutations(&w.lead, "lead", vec![env(1, m.clone())]).await.unwrap();
    assert_eq!(ok[0].outcome, Outcome::Applied);
    let boot = store.bootstrap(&w.admin, 5).await.unwrap();
    assert!(boot.conversations.iter().all(|c| c.contact_id == sms.contact_id));
    let contact = boot.contacts.iter().find(|c| c.id == sms.contact_id).unwrap();
    assert_eq!(contact.identities.len(), 2);
    assert!(!boot.contacts.iter().any(|c| c.id == mail.contact_id));
    // New mail from the merged address lands on the surviving contact.
    let later = store.ingest(inbound(&w.email, "Ana@Example.com", "again", "E2", now_ms())).await.unwrap();
    assert_eq!(later.contact_id, sms.contact_id);
    let changes = all_changes(&store, &w.admin).await;
    assert!(changes
        .iter()
        .any(|(_, c)| *c == Change::ContactRemoved { id: mail.contact_id, merged_into: Some(sms.contact_id) }));
    let again = store.apply_mutations(&w.lead, "lead", vec![env(2, m)]).await.unwrap();
    assert!(matches!(&again[0].outcome, Outcome::Rejected { .. }));
}

async fn history_pages_backwards(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let mut conv = 0;
    for i in 0..25 {
        conv = store
            .ingest(inbound(&w.sms, "+14155550123", &format!("m{i}"), &format!("SM{i}"), now_ms()))
            .await
            .unwrap()
            .conversation_id;
    }
    let mut bodies = Vec::new();
    let mut before = None;
    loop {
        let page = store.messages_before(&w.agent, conv, before, 10).await.unwrap();
        let mut chunk: Vec<String> = page.messages.iter().map(|m| m.body.clone()).collect();
        chunk.append(&mut bodies);
        bodies = chunk;
        match page.before {
            Some(t) => before = Some(t.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(bodies, (0..25).map(|i| format!("m{i}")).collect::<Vec<_>>());
}

async fn reopening_keeps_data_and_schema_version(db: &TestDb) {
    let conv = {
        let store = open(db);
        let w = world(&store).await;
        store.ingest(inbound(&w.sms, "+14155550123", "persisted", "SM1", now_ms())).await.unwrap().conversation_id
    };
    let store = open(db);
    let admin = store.agents().await.unwrap().into_iter().find(|a| a.email == "admin@x.test").unwrap();
    let v = store.viewer(admin.id).await.unwrap();
    let page = store.messages_before(&v, conv, None, 5).await.unwrap();
    assert_eq!(page.messages[0].body, "persisted");
    assert!(*store.head().borrow() > 0);
}

async fn snoozed_conversations_wake_when_due(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let a = store.ingest(inbound(&w.sms, "+14155550123", "help", "SM1", now_ms())).await.unwrap();
    let until = now_ms() + HOUR;
    let snooze = Mutation::SetStatus(SetStatus {
        conversation_id: a.conversation_id,
        status: ConversationStatus::Snoozed,
        snoozed_until: Some(until),
    });
    assert_eq!(store.apply_mutations(&w.agent, "c", vec![env(1, snooze)]).await.unwrap()[0].outcome, Outcome::Applied);
    assert_eq!(store.wake_snoozed(until - 1).await.unwrap(), 0);
    assert_eq!(store.wake_snoozed(until).await.unwrap(), 1);
    let conv = store.bootstrap(&w.agent, 0).await.unwrap().conversations.pop().unwrap();
    assert_eq!((conv.status, conv.snoozed_until), (ConversationStatus::Open, None));
}

async fn a_retried_refusal_is_answered_again(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let a = store.ingest(inbound(&w.sms, "+14155550123", "help", "SM1", now_ms())).await.unwrap();
    let bad = vec![env(1, reply(a.conversation_id, "c-1", "   "))];
    let first = store.apply_mutations(&w.agent, "c", bad.clone()).await.unwrap();
    assert!(matches!(first[0].outcome, Outcome::Rejected { .. }));
    let retry = store.apply_mutations(&w.agent, "c", bad).await.unwrap();
    assert_eq!(retry[0].outcome, first[0].outcome);
}

/// A template value holding placeholders is sent as written, never expanded again (one
/// request once filled tens of gigabytes); values and the filled text are bounded, and a
/// refused template stores nothing.
async fn send_template_values_are_never_expanded_again(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let templates = serde_json::json!({"templates": [
        {"name": "order_update", "language": "en_US", "body": "Hi {{1}}, your order {{2}} has shipped."},
        {"name": "echo", "language": "en_US", "body": "{{1}} {{1}} {{1}} {{1}} {{1}}"}
    ]});
    let patch = switchboard_protocol::admin::UpdateInbox { settings: Some(templates), ..Default::default() };
    store.update_inbox(w.whatsapp.id, patch).await.unwrap();
    let a = store.ingest(inbound(&w.whatsapp, "14155550123", "where is it?", "wamid.T1", now_ms())).await.unwrap();
    let template = |cmid: &str, name: &str, params: Vec<String>| {
        Mutation::SendTemplate(SendTemplate {
            conversation_id: a.conversation_id,
            client_msg_id: cmid.into(),
            template: name.into(),
            params,
        })
    };
    let bomb = "{{2}}".repeat(200);
    let sent = store
        .apply_mutations(
            &w.agent,
            "c",
            vec![env(1, template("t-1", "order_update", vec![bomb.clone(), "{{1}}".into()]))],
        )
        .await
        .unwrap();
    assert_eq!(sent[0].outcome, Outcome::Applied);
    let msgs = store.messages_before(&w.admin, a.conversation_id, None, 10).await.unwrap().messages;
    let body = &msgs.iter().find(|m| m.client_msg_id.as_deref() == Some("t-1")).unwrap().body;
    assert_eq!(*body, format!("Hi {bomb}, your order {{{{1}}}} has shipped."));

    let head = *store.head().borrow();
    let too_long = "x".repeat(1025);
    let filled_too_long = "y".repeat(1000);
    for (id, name, params, why) in [
        (2, "order_update", vec![too_long, "#1".into()], "value 1 of template `order_update` is longer than 1024"),
        (3, "echo", vec![filled_too_long], "template `echo` filled in is longer than 4096"),
    ] {
        let refused = store.apply_mutations(&w.agent, "c", vec![env(id, template(&format!("t-{id}"), name, params))]);
        match &refused.await.unwrap()[0].outcome {
            Outcome::Rejected { error } => {
                assert_eq!(error.code, switchboard_protocol::ErrorCode::BadRequest);
                assert!(error.message.starts_with(why), "{}", error.message);
            }
            other => panic!("{name} was not refused: {other:?}"),
        }
    }
    assert_eq!(*store.head().borrow(), head, "a refused template writes nothing");
    let after = store.messages_before(&w.admin, a.conversation_id, None, 10).await.unwrap().messages;
    assert_eq!(after.len(), msgs.len());
}

/// Finding: a U+0000 in any text answered 500 on PostgreSQL (the customer's message lost,
/// and a batch holding such a reply failed on every retry, blocking those after it) while
/// SQLite stored it. Both engines now drop the C0 controls other than tab and line breaks
/// where text enters, and refuse them in ids.
async fn nul_and_control_characters_are_stored_the_same_on_both_engines(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let mut sms = inbound(&w.sms, "+1415555\u{0}0123", "where\u{0} is my\u{1b} order?\n", "SM\u{0}1", now_ms());
    sms.display_name = Some("Ana\u{0} Silva".into());
    let a = store.ingest(sms).await.unwrap();
    let mut mail = inbound(&w.email, "ana@example.com", "body\u{0}", "<m\u{0}1@mail>", now_ms());
    mail.subject = Some("Sub\u{0}ject".into());
    mail.attachments = vec![switchboard_protocol::model::Attachment {
        name: "in\u{0}voice.pdf".into(),
        mime: "application/pdf".into(),
        size: 1,
        url: "/api/v1/blobs/1".into(),
    }];
    let e = store.ingest(mail).await.unwrap();
    let batch = vec![
        env(1, reply(a.conversation_id, "c-1", "On\u{0} it!\tNow")),
        env(
            2,
            Mutation::AddNote(AddNote {
                conversation_id: a.conversation_id,
                client_msg_id: "c-2".into(),
                body: "no\u{0}te".into(),
            }),
        ),
        env(
            3,
            Mutation::SaveCanned(SaveCanned {
                key: "k1".into(),
                shortcut: "sh\u{0}ip".into(),
                title: "Ships\u{0}".into(),
                body: "It\u{0} ships.".into(),
                shared: false,
            }),
        ),
    ];
    let out = store.apply_mutations(&w.agent, "console\u{7f}-1", batch).await.unwrap();
    assert!(out.iter().all(|r| r.outcome == Outcome::Applied), "{out:?}");
    // Ids with control characters are refused, and the ones after them still apply.
    let out = store
        .apply_mutations(
            &w.agent,
            "console-1",
            vec![
                env(4, reply(a.conversation_id, "c\u{0}4", "x")),
                env(5, Mutation::DeleteCanned(DeleteCanned { key: "k\u{0}".into() })),
                env(6, reply(a.conversation_id, "c-6", "after")),
            ],
        )
        .await
        .unwrap();
    assert!(matches!(&out[0].outcome, Outcome::Rejected { error } if error.message.contains("control characters")));
    assert!(matches!(&out[1].outcome, Outcome::Rejected { error } if error.message.contains("control characters")));
    assert_eq!(out[2].outcome, Outcome::Applied);
    let refused = store.apply_mutations(&w.agent, "console\u{0}", vec![env(7, reply(a.conversation_id, "c-7", "x"))]);
    assert!(matches!(refused.await, Err(StoreError::BadRequest(m)) if m.contains("control characters")));

    let msgs = store.messages_before(&w.admin, a.conversation_id, None, 10).await.unwrap().messages;
    let bodies: Vec<&str> = msgs.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["where is my order?\n", "On it!\tNow", "note", "after"]);
    assert_eq!(msgs[0].provider_id.as_deref(), Some("SM1"));
    let boot = store.bootstrap(&w.admin, 10).await.unwrap();
    let ana = boot.contacts.iter().find(|c| c.id == a.contact_id).unwrap();
    assert_eq!(ana.name, "Ana Silva");
    assert!(ana.identities.iter().any(|i| i.address == "+14155550123"), "{ana:?}");
    let mail = store.messages_before(&w.admin, e.conversation_id, None, 10).await.unwrap().messages;
    assert_eq!((mail[0].body.as_str(), mail[0].subject.as_deref()), ("body", Some("Subject")));
    assert_eq!(mail[0].attachments[0].name, "invoice.pdf");
    let mine = store.bootstrap(&w.agent, 1).await.unwrap();
    let canned =
        mine.canned.iter().find(|c| c.key == "k1").map(|c| (c.shortcut.as_str(), c.title.as_str(), c.body.as_str()));
    assert_eq!(canned, Some(("ship", "Ships", "It ships.")));
}

/// Finding (spoofed email, provider timestamps): a `Date:` in 2100 pinned a thread above
/// every other. A message's own time is taken at most a minute ahead of the hub's clock.
async fn a_message_from_the_future_is_not_pinned_above_the_rest(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let year_2100 = 4_102_444_800_000;
    let before = now_ms();
    let a = store.ingest(inbound(&w.email, "mallory@example.com", "urgent!!", "<m1@mail>", year_2100)).await.unwrap();
    let after = now_ms();
    let msgs = store.messages_before(&w.admin, a.conversation_id, None, 10).await.unwrap().messages;
    assert!(msgs[0].created_at >= before && msgs[0].created_at <= after + 60_000, "{}", msgs[0].created_at);
    let boot = store.bootstrap(&w.admin, 1).await.unwrap();
    let conv = boot.conversations.iter().find(|c| c.id == a.conversation_id).unwrap();
    assert!(conv.last_activity_at <= after + 60_000, "{}", conv.last_activity_at);
}

/// Finding: contact names, subjects and attachment names had no length caps. Each is cut
/// to its limit where the message enters, the same on both engines.
async fn names_subjects_and_file_names_are_bounded(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let mut mail = inbound(&w.email, "long@example.com", "hello", "<long@mail>", now_ms());
    mail.display_name = Some("Ñ".repeat(5_000));
    mail.subject = Some("s".repeat(50_000));
    mail.attachments = vec![switchboard_protocol::model::Attachment {
        name: format!("{}.pdf", "é".repeat(10_000)),
        mime: "application/pdf".into(),
        size: 1,
        url: "/api/v1/blobs/1".into(),
    }];
    let a = store.ingest(mail).await.unwrap();
    let m = &store.messages_before(&w.admin, a.conversation_id, None, 1).await.unwrap().messages[0];
    assert_eq!(m.subject.as_deref().map(|s| s.chars().count()), Some(500));
    assert_eq!(m.attachments[0].name.chars().count(), 255);
    let boot = store.bootstrap(&w.admin, 1).await.unwrap();
    let contact = boot.contacts.iter().find(|c| c.id == a.contact_id).unwrap();
    assert_eq!(contact.name.chars().count(), 200);
}

/// Finding: one undecodable outbox row blocked all delivery (every claim failed on it and
/// was rolled back). Such a row now fails alone, for agents to see, and the rest go out.
async fn one_unreadable_reply_holds_up_no_other(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let a = store.ingest(inbound(&w.sms, "+14155550123", "hello", "SM1", now_ms())).await.unwrap();
    let out = store
        .apply_mutations(
            &w.agent,
            "c",
            vec![env(1, reply(a.conversation_id, "c-1", "first")), env(2, reply(a.conversation_id, "c-2", "second"))],
        )
        .await
        .unwrap();
    assert!(out.iter().all(|r| r.outcome == Outcome::Applied));
    let msgs = store.messages_before(&w.admin, a.conversation_id, None, 10).await.unwrap().messages;
    let first = msgs.iter().find(|m| m.client_msg_id.as_deref() == Some("c-1")).unwrap().id;
    db.execute(&format!("UPDATE messages SET template = 'not json' WHERE id = {first}"));

    let claimed = store.claim_due(now_ms() + 1_000, 10).await.unwrap();
    let ids: Vec<i64> = claimed.iter().map(|o| o.message_id).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_ne!(ids[0], first, "the readable reply goes out");
    assert!(store.claim_due(now_ms() + 1_000, 10).await.unwrap().is_empty(), "the unreadable one is not claimed again");
    let msgs = store.messages_before(&w.admin, a.conversation_id, None, 10).await.unwrap().messages;
    let failed = msgs.iter().find(|m| m.id == first).unwrap();
    assert_eq!(failed.delivery, Some(Delivery::Failed));
    assert!(failed.delivery_error.as_deref().unwrap().contains("could not be prepared"));
}

async fn automatic_first_reply_once_per_conversation(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let patch = switchboard_protocol::admin::UpdateInbox {
        settings: Some(
            serde_json::json!({"auto_reply": {"text": "We answer within 2 hours.", "outside_hours_text": "We are closed; back at 9.",
            "business_hours": {"days": {"mon": "00:00-24:00", "tue": "00:00-24:00", "wed": "00:00-24:00", "thu": "00:00-24:00", "fri": "00:00-24:00"}}}}),
        ),
        ..Default::default()
    };
    store.update_inbox(w.sms.id, patch).await.unwrap();
    // 2026-11-23 12:00 UTC is a Monday; 2026-11-22 is a Sunday.
    let monday = 1_795_392_000_000 + 12 * HOUR;
    let a = store.ingest(inbound(&w.sms, "+14155550123", "hello", "SM1", monday)).await.unwrap();
    store.ingest(inbound(&w.sms, "+14155550123", "anyone?", "SM2", monday + 1000)).await.unwrap();
    let sunday = store.ingest(inbound(&w.sms, "+14155550124", "weekend", "SM3", monday - DAY)).await.unwrap();
    let msgs = store.messages_before(&w.admin, a.conversation_id, None, 10).await.unwrap().messages;
    let auto: Vec<_> = msgs.iter().filter(|m| m.direction == Direction::Outbound).collect();
    assert_eq!(auto.len(), 1, "one automatic reply per conversation");
    assert_eq!(auto[0].body, "We answer within 2 hours.");
    assert_eq!(auto[0].delivery, Some(Delivery::Queued));
    assert_eq!(auto[0].author_agent_id, None);
    let weekend = store.messages_before(&w.admin, sunday.conversation_id, None, 10).await.unwrap().messages;
    assert!(weekend.iter().any(|m| m.direction == Direction::Outbound && m.body == "We are closed; back at 9."));
    let queued = store.claim_due(now_ms(), 10).await.unwrap();
    assert_eq!(queued.len(), 2);
}

async fn split_undoes_a_wrong_merge(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let sms = store.ingest(inbound(&w.sms, "+14155550123", "by sms", "SM1", now_ms())).await.unwrap();
    let mail = store.ingest(inbound(&w.email, "someone.else@example.com", "by email", "E1", now_ms())).await.unwrap();
    let merge =
        Mutation::MergeContacts(MergeContacts { into_contact_id: sms.contact_id, from_contact_id: mail.contact_id });
    assert_eq!(store.apply_mutations(&w.lead, "lead", vec![env(1, merge)]).await.unwrap()[0].outcome, Outcome::Applied);
    let split = Mutation::SplitContact(switchboard_protocol::mutation::SplitContact {
        contact_id: sms.contact_id,
        identities: vec![switchboard_protocol::model::Identity {
            channel: switchboard_protocol::model::ChannelKind::Email,
            address: "someone.else@example.com".into(),
        }],
        name: Some("Someone Else".into()),
    });
    let denied = store.apply_mutations(&w.agent, "agent", vec![env(1, split.clone())]).await.unwrap();
    assert!(
        matches!(&denied[0].outcome, Outcome::Rejected { error } if error.code == switchboard_protocol::ErrorCode::Forbidden)
    );
    assert_eq!(store.apply_mutations(&w.lead, "lead", vec![env(2, split)]).await.unwrap()[0].outcome, Outcome::Applied);
    let boot = store.bootstrap(&w.admin, 5).await.unwrap();
    let mail_conv = boot.conversations.iter().find(|c| c.id == mail.conversation_id).unwrap();
    assert_ne!(mail_conv.contact_id, sms.contact_id);
    let other = boot.contacts.iter().find(|c| c.id == mail_conv.contact_id).unwrap();
    assert_eq!(other.name, "Someone Else");
    assert_eq!(other.identities.len(), 1);
    let back = boot.contacts.iter().find(|c| c.id == sms.contact_id).unwrap();
    assert_eq!(back.identities.len(), 1);
    // New mail from that address now reaches the split-off contact.
    let later = store.ingest(inbound(&w.email, "someone.else@example.com", "again", "E2", now_ms())).await.unwrap();
    assert_eq!(later.contact_id, other.id);
}

fn save_canned(key: &str, shortcut: &str, title: &str, shared: bool) -> Mutation {
    Mutation::SaveCanned(SaveCanned {
        key: key.into(),
        shortcut: shortcut.into(),
        title: title.into(),
        body: format!("{title}, {{{{customer.first_name}}}}"),
        shared,
    })
}

/// The canned responses' keys (with their shortcut and owner) in a viewer's bootstrap.
async fn canned_of(
    store: &switchboard_hub::store::Store,
    v: &switchboard_hub::policy::Viewer,
) -> Vec<(String, String, Option<i64>)> {
    let boot = store.bootstrap(v, 0).await.unwrap();
    boot.canned.into_iter().map(|c| (c.key, c.shortcut, c.owner_id)).collect()
}

/// What a viewer's feed says of canned responses after `since`.
async fn canned_changes(
    store: &switchboard_hub::store::Store,
    v: &switchboard_hub::policy::Viewer,
    since: i64,
) -> Vec<Change> {
    let page = store.changes(v, since, 500).await.unwrap();
    page.changes
        .iter()
        .map(|f| serde_json::from_str::<Change>(f.change.get()).unwrap())
        .filter(|c| matches!(c, Change::Canned(_) | Change::CannedRemoved { .. }))
        .collect()
}

fn rejected(r: &[switchboard_protocol::mutation::MutationResult]) -> Option<switchboard_protocol::ErrorCode> {
    match &r[0].outcome {
        Outcome::Rejected { error } => Some(error.code),
        _ => None,
    }
}

async fn canned_responses_are_shared_by_leads_and_kept_by_their_owners(db: &TestDb) {
    use switchboard_protocol::ErrorCode;
    let store = open(db);
    let w = world(&store).await;
    let start = *store.head().borrow();

    // An agent's own response: theirs alone, normalised as stored.
    let r = store
        .apply_mutations(&w.agent, "a", vec![env(1, save_canned("a-1", " /Refund ", "Refund", false))])
        .await
        .unwrap();
    assert_eq!(r[0].outcome, Outcome::Applied);
    assert_eq!(canned_of(&store, &w.agent).await, vec![("a-1".into(), "refund".into(), Some(w.agent.agent_id))]);
    assert_eq!(canned_of(&store, &w.agent2).await, vec![]);
    assert_eq!(canned_changes(&store, &w.agent2, start).await, vec![]);
    let mine = canned_changes(&store, &w.agent, start).await;
    assert!(matches!(&mine[..], [Change::Canned(c)] if c.key == "a-1" && c.body == "Refund, {{customer.first_name}}"));
    // A retry is applied once.
    let head = *store.head().borrow();
    let again = store
        .apply_mutations(&w.agent, "a", vec![env(1, save_canned("a-1", "refund", "Refund", false))])
        .await
        .unwrap();
    assert_eq!(again[0].outcome, Outcome::Duplicate);
    assert_eq!(*store.head().borrow(), head);

    // Refusals store nothing: an agent sharing, a malformed shortcut, a shortcut the agent
    // already has, another agent's response.
    let refusals = [
        (&w.agent, "a", 2, save_canned("a-2", "hi", "Hi", true), ErrorCode::Forbidden),
        (&w.agent, "a", 3, save_canned("a-3", "two words", "Two", false), ErrorCode::BadRequest),
        (&w.agent, "a", 4, save_canned("a-4", "REFUND", "Again", false), ErrorCode::BadRequest),
        (&w.agent, "a", 5, save_canned("a-5", "x", "  ", false), ErrorCode::BadRequest),
        (&w.agent2, "b", 1, save_canned("a-1", "stolen", "Stolen", false), ErrorCode::NotFound),
        (&w.agent2, "b", 2, Mutation::DeleteCanned(DeleteCanned { key: "a-1".into() }), ErrorCode::NotFound),
    ];
    for (viewer, client, id, m, code) in refusals {
        let r = store.apply_mutations(viewer, client, vec![env(id, m.clone())]).await.unwrap();
        assert_eq!(rejected(&r), Some(code), "{m:?}");
    }
    assert_eq!(*store.head().borrow(), head, "a refused save writes no change");
    assert_eq!(canned_of(&store, &w.agent).await, vec![("a-1".into(), "refund".into(), Some(w.agent.agent_id))]);

    // A lead's shared response reaches every agent, of every team.
    let r =
        store.apply_mutations(&w.lead, "l", vec![env(1, save_canned("s-1", "hi", "Greeting", true))]).await.unwrap();
    assert_eq!(r[0].outcome, Outcome::Applied);
    for v in [&w.agent, &w.agent2, &w.b_agent, &w.admin] {
        assert!(canned_of(&store, v).await.contains(&("s-1".into(), "hi".into(), None)));
    }
    // An agent may not change it, nor give a second shared response its shortcut; they may
    // keep their own under the same shortcut.
    let r =
        store.apply_mutations(&w.agent, "a", vec![env(6, save_canned("s-1", "hi", "Mine now", false))]).await.unwrap();
    assert_eq!(rejected(&r), Some(ErrorCode::Forbidden));
    let r = store.apply_mutations(&w.admin, "ad", vec![env(1, save_canned("s-2", "hi", "Other", true))]).await.unwrap();
    assert_eq!(rejected(&r), Some(ErrorCode::BadRequest));
    let r = store.apply_mutations(&w.agent, "a", vec![env(7, save_canned("a-6", "hi", "My hi", false))]).await.unwrap();
    assert_eq!(r[0].outcome, Outcome::Applied);
    assert_eq!(
        canned_of(&store, &w.agent).await,
        vec![
            ("s-1".into(), "hi".into(), None),
            ("a-6".into(), "hi".into(), Some(w.agent.agent_id)),
            ("a-1".into(), "refund".into(), Some(w.agent.agent_id)),
        ]
    );

    // The lead takes the shared one back as their own: the others drop it.
    let before = *store.head().borrow();
    let r =
        store.apply_mutations(&w.lead, "l", vec![env(2, save_canned("s-1", "hi", "Greeting", false))]).await.unwrap();
    assert_eq!(r[0].outcome, Outcome::Applied);
    let id = match &canned_changes(&store, &w.agent2, before).await[..] {
        [Change::CannedRemoved { id }] => *id,
        other => panic!("expected a removal, got {other:?}"),
    };
    let leads = canned_changes(&store, &w.lead, before).await;
    assert!(
        matches!(&leads[..], [Change::CannedRemoved { .. }, Change::Canned(c)] if c.id == id && c.owner_id == Some(w.lead.agent_id) && c.version == 2),
        "{leads:?}"
    );
    assert!(!canned_of(&store, &w.agent2).await.iter().any(|c| c.0 == "s-1"));

    // Shared again: the lead's own copy goes, everyone gets the shared one.
    let before = *store.head().borrow();
    let r =
        store.apply_mutations(&w.lead, "l", vec![env(3, save_canned("s-1", "hi", "Greeting", true))]).await.unwrap();
    assert_eq!(r[0].outcome, Outcome::Applied);
    let theirs = canned_changes(&store, &w.agent2, before).await;
    assert!(matches!(&theirs[..], [Change::Canned(c)] if c.id == id && c.owner_id.is_none()), "{theirs:?}");
    let leads = canned_changes(&store, &w.lead, before).await;
    assert!(
        matches!(&leads[..], [Change::CannedRemoved { .. }, Change::Canned(c)] if c.owner_id.is_none()),
        "{leads:?}"
    );
    assert!(canned_of(&store, &w.agent2).await.contains(&("s-1".into(), "hi".into(), None)));

    // The owner deletes theirs; deleting it again changes nothing.
    let before = *store.head().borrow();
    let del = || Mutation::DeleteCanned(DeleteCanned { key: "a-1".into() });
    let r = store.apply_mutations(&w.agent, "a", vec![env(8, del()), env(9, del())]).await.unwrap();
    assert!(r.iter().all(|r| r.outcome == Outcome::Applied));
    assert!(matches!(&canned_changes(&store, &w.agent, before).await[..], [Change::CannedRemoved { .. }]));
    assert_eq!(
        canned_of(&store, &w.agent).await,
        vec![("s-1".into(), "hi".into(), None), ("a-6".into(), "hi".into(), Some(w.agent.agent_id))]
    );
}

/// A canned edit made on the version its editor opened.
fn env_on(id: u64, m: Mutation, version: i64) -> MutationEnvelope {
    MutationEnvelope { mutation_id: id, mutation: m, expected_version: Some(version) }
}

/// The team's canned responses' (title, version) in a viewer's bootstrap.
async fn titles(store: &switchboard_hub::store::Store, v: &switchboard_hub::policy::Viewer) -> Vec<(String, i64)> {
    let boot = store.bootstrap(v, 0).await.unwrap();
    boot.canned.into_iter().map(|c| (c.title, c.version)).collect()
}

async fn canned_edits_on_a_version_not_seen_conflict(db: &TestDb) {
    use switchboard_protocol::ErrorCode;
    let store = open(db);
    let w = world(&store).await;
    let hi = |title: &str| save_canned("s-1", "hi", title, true);
    let one = |r: Vec<switchboard_protocol::mutation::MutationResult>| r.into_iter().next().unwrap().outcome;

    // The lead's desk saves /hi, then saves it twice more on the version it opened, before
    // any echo: each builds on the desk's own edits.
    assert_eq!(
        one(store.apply_mutations(&w.lead, "desk", vec![env(1, hi("Greeting"))]).await.unwrap()),
        Outcome::Applied
    );
    let r = store
        .apply_mutations(&w.lead, "desk", vec![env_on(2, hi("Greeting 2"), 1), env_on(3, hi("Greeting 3"), 1)])
        .await
        .unwrap();
    assert!(r.iter().all(|r| r.outcome == Outcome::Applied), "{r:?}");
    assert_eq!(titles(&store, &w.admin).await, vec![("Greeting 3".into(), 3)]);

    // The admin's laptop saves on version 1: the lead's two edits since would be lost, so
    // it is refused with the response as it is now, naming who changed it.
    let head = *store.head().borrow();
    match one(store.apply_mutations(&w.admin, "laptop", vec![env_on(1, hi("Stale"), 1)]).await.unwrap()) {
        Outcome::Conflict { current: Change::Canned(c) } => {
            assert_eq!((c.title.as_str(), c.version, c.updated_by), ("Greeting 3", 3, Some(w.lead.agent_id)));
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(*store.head().borrow(), head, "a conflict changes nothing");
    assert_eq!(titles(&store, &w.admin).await, vec![("Greeting 3".into(), 3)]);
    // On the current version it is saved; so is an overwrite the editor chose (no version).
    assert_eq!(
        one(store.apply_mutations(&w.admin, "laptop", vec![env_on(2, hi("Hello"), 3)]).await.unwrap()),
        Outcome::Applied
    );
    assert_eq!(titles(&store, &w.lead).await, vec![("Hello".into(), 4)]);

    // The lead's desk deletes on version 3: refused; on version 4 it is deleted.
    let del = || Mutation::DeleteCanned(DeleteCanned { key: "s-1".into() });
    assert!(matches!(
        one(store.apply_mutations(&w.lead, "desk", vec![env_on(4, del(), 3)]).await.unwrap()),
        Outcome::Conflict { current: Change::Canned(c) } if c.title == "Hello"
    ));
    assert_eq!(one(store.apply_mutations(&w.lead, "desk", vec![env_on(5, del(), 4)]).await.unwrap()), Outcome::Applied);

    // The laptop saves on the version it opened, deleted since: not found, nothing stored;
    // saved again without a version, it is created anew.
    let r = store.apply_mutations(&w.admin, "laptop", vec![env_on(3, hi("Back"), 4)]).await.unwrap();
    assert_eq!(rejected(&r), Some(ErrorCode::NotFound));
    assert_eq!(titles(&store, &w.admin).await, vec![]);
    assert_eq!(
        one(store.apply_mutations(&w.admin, "laptop", vec![env(4, hi("Back"))]).await.unwrap()),
        Outcome::Applied
    );
    assert_eq!(titles(&store, &w.agent).await, vec![("Back".into(), 1)]);
}

/// A store that is dropped closes its PostgreSQL connections: readers, writers and the
/// listener for other hubs' commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_store_closes_its_postgres_connections() {
    let db = common::pg_db();
    let store = open(&db);
    let w = world(&store).await;
    store.bootstrap(&w.agent, 0).await.unwrap();
    let open_now = db.pg_connections();
    assert!(open_now >= 2, "the store reads, writes and listens on its own connections ({open_now})");
    drop(store);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while db.pg_connections() > 0 {
        assert!(std::time::Instant::now() < deadline, "{} connections left open", db.pg_connections());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

macro_rules! conformance {
    ($engine:ident, $db:path) => {
        mod $engine {
            use super::*;
            conformance!(@cases $db;
                ingest_finds_or_creates_contact_and_conversation,
                ingest_dedupes_provider_retries,
                ingest_rejects_bad_input_and_stores_nothing,
                conversation_lifecycle,
                mutations_are_idempotent_and_versioned,
                feed_pages_in_order_and_expires,
                concurrent_writers_never_make_a_reader_skip,
                scope_follows_teams_and_reassignment_removes,
                merge_moves_identities_and_history,
                history_pages_backwards,
                reopening_keeps_data_and_schema_version,
                snoozed_conversations_wake_when_due,
                a_retried_refusal_is_answered_again,
                send_template_values_are_never_expanded_again,
                nul_and_control_characters_are_stored_the_same_on_both_engines,
                a_message_from_the_future_is_not_pinned_above_the_rest,
                names_subjects_and_file_names_are_bounded,
                one_unreadable_reply_holds_up_no_other,
                automatic_first_reply_once_per_conversation,
                split_undoes_a_wrong_merge,
                canned_responses_are_shared_by_leads_and_kept_by_their_owners,
                canned_edits_on_a_version_not_seen_conflict,
            );
        }
    };
    (@cases $db:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let db = $db();
                super::$case(&db).await;
            }
        )*
    };
}

conformance!(sqlite, common::sqlite_db);
conformance!(postgres, common::pg_db);
