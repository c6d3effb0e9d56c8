//! The console core against a real hub: first sync with progress, live changes, the views
//! and search answered from the cache, notifications, the outbox online, offline and
//! across restarts, conflicts between two leads, refusals, re-syncs and scope changes.
#![allow(clippy::unwrap_used)]

use switchboard_testkit::console_hub as common;

use common::{console, eventually, next_event, online, world, Hub};
use std::time::Duration;
use switchboard_protocol::console::{
    CannedDraft, ConflictInfo, ConsoleEvent, Notification, OutboxState, SearchQuery, View,
};
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Direction};
use switchboard_protocol::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_sync_views_history_search_and_live_notifications() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    // Ana writes on SMS and on WhatsApp from one number (one customer), and by email.
    let sms = hub.ingest(w.sms, "+14155550123", "Hi, my parcel to Lisbon is late").await;
    hub.ingest(w.whatsapp, "14155550123", "Also: can I change the delivery address?").await;
    for i in 0..20 {
        hub.ingest(w.sms, &format!("+1415555{:04}", 2000 + i), &format!("Question number {i} about invoices")).await;
    }
    hub.ingest(w.billing_email, "ben@example.com", "Refund for order 7781 please").await;

    let dir = tempfile::tempdir().unwrap();
    let token = hub.login("maya@x.test").await;
    let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
    let mut events = c.subscribe();
    c.start();
    let finished = next_event(&mut events, 30, |e| match e {
        ConsoleEvent::Progress { progress } if progress.finished => Some(progress.clone()),
        _ => None,
    })
    .await
    .expect("a finished progress report");
    assert!(finished.total > 20 && finished.done == finished.total, "{finished:?}");
    online(&c).await;

    // Views: Maya (Support) sees the 22 support conversations, not Billing's.
    let cache = c.cache();
    let counts = cache.counts().unwrap();
    let count = |v: View| counts.iter().find(|x| x.view == v).map(|x| (x.total, x.unread));
    assert_eq!(count(View::Unassigned), Some((22, 22)));
    assert_eq!(count(View::Mine), Some((0, 0)));
    assert_eq!(count(View::All), None, "agents have no `all` view");
    let waiting = cache.view(View::Waiting, 100, 0).unwrap();
    assert_eq!(waiting.len(), 22);
    assert!(waiting.windows(2).all(|p| p[0].waiting_since <= p[1].waiting_since), "longest waiting first");
    assert!(
        cache.search(&SearchQuery { text: "refund".into(), ..Default::default() }).unwrap().is_empty(),
        "billing is out of scope"
    );

    // A customer's unified history: SMS and WhatsApp in time order, each with its channel.
    let history = cache.history(sms.contact_id, 100, None).unwrap();
    let channels: Vec<ChannelKind> = history.lines.iter().map(|l| l.channel).collect();
    assert_eq!(channels, [ChannelKind::Sms, ChannelKind::Whatsapp]);
    assert!(history.lines.windows(2).all(|p| p[0].created_at <= p[1].created_at));
    let profile = cache.profile(sms.contact_id).unwrap();
    assert_eq!(profile.conversations.len(), 2);
    assert_eq!(profile.contact.identities.len(), 2);

    // Search, with highlights and filters.
    let hits = cache.search(&SearchQuery { text: "parcel lisb".into(), ..Default::default() }).unwrap();
    assert_eq!(hits.len(), 1);
    let words: Vec<&str> = hits[0].highlights.iter().map(|&(a, b)| &hits[0].snippet[a as usize..b as usize]).collect();
    assert_eq!(words, ["parcel", "Lisbon"]);
    let invoices = SearchQuery { text: "invoices".into(), channel: Some(ChannelKind::Sms), ..Default::default() };
    assert_eq!(cache.search(&invoices).unwrap().len(), 20);
    let on_whatsapp = SearchQuery { channel: Some(ChannelKind::Whatsapp), ..invoices.clone() };
    assert!(cache.search(&on_whatsapp).unwrap().is_empty());
    // The window sends filters as JSON: unassigned, or one agent's.
    let unassigned: SearchQuery =
        serde_json::from_value(serde_json::json!({"text": "invoices", "assignee": {"kind": "unassigned"}})).unwrap();
    assert_eq!(cache.search(&unassigned).unwrap().len(), 20, "nobody has them yet");
    let mayas: SearchQuery =
        serde_json::from_value(serde_json::json!({"text": "invoices", "assignee": {"kind": "agent", "id": w.maya}}))
            .unwrap();
    assert!(cache.search(&mayas).unwrap().is_empty(), "Maya has none");

    // Live: a new customer writes to Support: one notification, with name, channel and text.
    let fresh = hub.ingest(w.sms, "+14155559999", "Is anyone there?").await;
    let n = next_event(&mut events, 10, |e| match e {
        ConsoleEvent::Notify { notification, .. } => Some(notification.clone()),
        _ => None,
    })
    .await
    .expect("a notification");
    assert!(
        matches!(&n, Notification::Reply { conversation_id, channel: ChannelKind::Sms, text, .. } if *conversation_id == fresh.conversation_id && text == "Is anyone there?"),
        "{n:?}"
    );
    // A follow-up while the customer already waits: no second notification.
    hub.ingest(w.sms, "+14155559999", "Hello??").await;
    eventually("the follow-up is cached", || cache.thread(fresh.conversation_id, 50).unwrap().lines.len() == 2).await;
    assert!(next_event(&mut events, 1, |e| matches!(e, ConsoleEvent::Notify { .. }).then_some(())).await.is_none());

    // Maya replies: pending at once, then stored by the hub; the customer's next message
    // notifies again, unless Maya has that thread open and focused.
    let out = c.send_reply(fresh.conversation_id, "Yes! How can I help?").unwrap();
    let thread = cache.thread(fresh.conversation_id, 50).unwrap();
    let last = thread.lines.last().unwrap();
    assert_eq!(last.outbox.as_ref().map(|o| (o.id, o.state)), Some((out, OutboxState::Pending)));
    eventually("the reply is stored by the hub", || {
        let t = cache.thread(fresh.conversation_id, 50).unwrap();
        t.lines.last().is_some_and(|l| l.id.is_some() && l.direction == Direction::Outbound)
    })
    .await;
    assert!(c.outbox().items().unwrap().is_empty(), "the echo retired the outbox row");
    c.set_focus(Some(fresh.conversation_id));
    hub.ingest(w.sms, "+14155559999", "My order number is 5521").await;
    assert!(next_event(&mut events, 2, |e| matches!(e, ConsoleEvent::Notify { .. }).then_some(())).await.is_none());
    eventually("the focused thread got the message", || {
        cache.thread(fresh.conversation_id, 50).unwrap().lines.len() == 4
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_queued_offline_across_a_restart_arrive_once_in_order() {
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    let dir = tempfile::tempdir().unwrap();
    let token = hub.login("maya@x.test").await;
    {
        let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
        c.start();
        online(&c).await;
    }
    hub.stop().await;

    // Offline: views, history and search still answer; replies queue and show as pending.
    {
        let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
        c.start();
        eventually("offline", || matches!(c.connection(), switchboard_protocol::console::Connection::Offline { .. }))
            .await;
        assert_eq!(c.cache().view(View::Unassigned, 10, 0).unwrap().len(), 1);
        assert_eq!(c.cache().search(&SearchQuery { text: "hello".into(), ..Default::default() }).unwrap().len(), 1);
        for i in 1..=60 {
            c.send_reply(conv, &format!("reply {i}")).unwrap();
        }
        assert_eq!(c.outbox().queued_replies().unwrap(), 60);
    }
    // The console restarts (still offline) and queues more.
    {
        let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
        c.start();
        for i in 61..=100 {
            c.send_reply(conv, &format!("reply {i}")).unwrap();
        }
        let thread = c.cache().thread(conv, 200).unwrap();
        let pending = thread.lines.iter().filter(|l| l.outbox.is_some()).count();
        assert_eq!(pending, 100);
    }
    hub.restart().await;
    let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
    c.start();
    online(&c).await;
    eventually("the queue drained", || c.outbox().items().unwrap().is_empty()).await;
    let b = hub.store.viewer(w.maya).await.unwrap();
    let page = hub.store.messages_before(&b, conv, None, 500).await.unwrap();
    let replies: Vec<&str> =
        page.messages.iter().filter(|m| m.direction == Direction::Outbound).map(|m| m.body.as_str()).collect();
    let want: Vec<String> = (1..=100).map(|i| format!("reply {i}")).collect();
    assert_eq!(replies, want, "each reply once, in the order written");
    eventually("the cache shows them stored", || {
        c.cache()
            .thread(conv, 200)
            .unwrap()
            .lines
            .iter()
            .filter(|l| l.id.is_some() && l.direction == Direction::Outbound)
            .count()
            == 100
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_leads_reassign_the_same_thread_one_wins_the_other_sees_who() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lee = console(&hub, d1.path(), "lee@x.test").await;
    let kim = console(&hub, d2.path(), "kim@x.test").await;
    online(&lee).await;
    online(&kim).await;
    // Both decide on the same version before either hears of the other.
    lee.shutdown().await;
    kim.shutdown().await;
    let lee_item = lee.assign(conv, Some(Some(w.maya)), None).unwrap();
    let kim_item = kim.assign(conv, Some(Some(w.kim)), None).unwrap();
    lee.start();
    eventually("Lee's change is applied", || lee.outbox().items().unwrap().is_empty()).await;
    let mut kim_events = kim.subscribe();
    kim.start();
    let item = next_event(&mut kim_events, 10, |e| match e {
        ConsoleEvent::Outbox { item } if item.id == kim_item => Some(item.clone()),
        _ => None,
    })
    .await
    .expect("Kim hears of the conflict");
    assert_eq!(item.state, OutboxState::Conflict);
    let Some(ConflictInfo::Conversation { changed_by_name, assignee_name, .. }) = item.conflict else {
        panic!("a conversation's conflict, not {:?}", item.conflict)
    };
    assert_eq!(changed_by_name.as_deref(), Some("Lee Chen"));
    assert_eq!(assignee_name.as_deref(), Some("Maya Okafor"));
    assert_eq!(kim.cache().conversation(conv).unwrap().assignee_id, Some(w.maya), "Kim sees the current owner");
    let _ = lee_item;
    // Kim, having seen it, can insist (retry applies over the current state) or let it go.
    kim.retry(kim_item).unwrap();
    eventually("Kim's retry applies", || kim.cache().conversation(conv).unwrap().assignee_id == Some(w.kim)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_reply_is_stuck_with_its_reason_until_retried_or_discarded() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    hub.ingest(w.sms, "+14155550123", "STOP").await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&hub, dir.path(), "maya@x.test").await;
    online(&c).await;
    let mut events = c.subscribe();
    let id = c.send_reply(conv, "Are you still there?").unwrap();
    let item = next_event(&mut events, 10, |e| match e {
        ConsoleEvent::Outbox { item } if item.id == id => Some(item.clone()),
        _ => None,
    })
    .await
    .unwrap();
    assert_eq!(item.state, OutboxState::Stuck);
    assert_eq!(item.error.as_ref().map(|e| e.code), Some(ErrorCode::OptedOut));
    let line = c.cache().thread(conv, 50).unwrap().lines.into_iter().last().unwrap();
    assert_eq!(line.outbox.map(|o| o.state), Some(OutboxState::Stuck));
    c.retry(id).unwrap();
    let again = next_event(&mut events, 10, |e| match e {
        ConsoleEvent::Outbox { item } if item.id == id => Some(item.state),
        _ => None,
    })
    .await;
    assert_eq!(again, Some(OutboxState::Stuck), "still refused, never dropped");
    assert!(c.discard(id).is_ok());
    assert!(c.outbox().items().unwrap().is_empty());
    assert!(matches!(c.discard(id), Err(switchboard_core::error::CoreError::NotFound(_))));
    // Empty replies never reach the outbox.
    assert!(c.send_reply(conv, "   \n").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_after_being_away_gives_one_summary() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let dir = tempfile::tempdir().unwrap();
    let token = hub.login("maya@x.test").await;
    hub.ingest(w.sms, "+14155550100", "first").await;
    {
        let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
        c.start();
        online(&c).await;
        c.shutdown().await;
    }
    // While the console is closed, five customers write (and one of them twice).
    for i in 0..5 {
        hub.ingest(w.sms, &format!("+1415555{:04}", 3000 + i), "Hello?").await;
    }
    hub.ingest(w.sms, "+14155553000", "Anyone?").await;
    let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
    let mut events = c.subscribe();
    c.start();
    let mut notes = Vec::new();
    while let Some(n) = next_event(&mut events, 3, |e| match e {
        ConsoleEvent::Notify { notification, .. } => Some(notification.clone()),
        _ => None,
    })
    .await
    {
        notes.push(n);
    }
    assert_eq!(notes, [Notification::Summary { customers: 5, messages: 5, assigned: 0, missed: 0 }]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_cursor_resyncs_and_keeps_the_outbox() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    let dir = tempfile::tempdir().unwrap();
    let token = hub.login("maya@x.test").await;
    {
        let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
        c.start();
        online(&c).await;
        c.shutdown().await;
        c.send_reply(conv, "queued before the re-sync").unwrap();
    }
    // The hub moves on and forgets the feed the console stood on.
    let gone = hub.ingest(w.sms, "+14155550777", "A new customer").await.conversation_id;
    let head = *hub.store.head().borrow();
    hub.store.prune_changes(head).await.unwrap();
    let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
    let mut events = c.subscribe();
    c.start();
    next_event(&mut events, 20, |e| matches!(e, ConsoleEvent::Changed { everything: true, .. }).then_some(()))
        .await
        .expect("a re-sync");
    online(&c).await;
    eventually("the reply went out", || c.outbox().items().unwrap().is_empty()).await;
    assert!(c.cache().conversation(gone).is_ok(), "what happened meanwhile is there");
    let t = c.cache().thread(conv, 10).unwrap();
    assert!(t.lines.iter().any(|l| l.body == "queued before the re-sync" && l.id.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_moved_out_of_scope_leaves_the_cache_and_older_history_loads_on_demand() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let stays = hub.ingest(w.sms, "+14155550123", "line 0").await.conversation_id;
    for i in 1..80 {
        hub.ingest(w.sms, "+14155550123", &format!("line {i}")).await;
    }
    let moves = hub.ingest(w.sms, "+14155550456", "Billing question").await.conversation_id;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let maya = console(&hub, d1.path(), "maya@x.test").await;
    let lee = console(&hub, d2.path(), "lee@x.test").await;
    online(&maya).await;
    online(&lee).await;
    assert!(maya.cache().conversation(moves).is_ok());
    lee.assign(moves, None, Some(w.billing)).unwrap();
    eventually("the thread left Maya's cache", || maya.cache().conversation(moves).is_err()).await;
    assert!(maya.cache().search(&SearchQuery { text: "billing".into(), ..Default::default() }).unwrap().is_empty());

    let t = maya.cache().thread(stays, 500).unwrap();
    assert!(t.has_older && t.lines.len() < 80, "a bootstrap carries the latest lines only");
    let mut fetched = 0;
    while maya.cache().thread(stays, 500).unwrap().has_older {
        fetched += maya.load_older(stays, 20).await.unwrap();
    }
    let t = maya.cache().thread(stays, 500).unwrap();
    assert_eq!(t.lines.len(), 80);
    assert_eq!(t.lines[0].body, "line 0");
    assert!(fetched > 0);
    assert_eq!(maya.load_older(stays, 20).await.unwrap(), 0);
    let h = maya.cache().history(t.conversation.contact_id, 1000, None).unwrap();
    assert_eq!(h.lines.len(), 80);
    assert!(!h.has_older);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_changes_and_read_markers_round_trip() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&hub, dir.path(), "maya@x.test").await;
    online(&c).await;
    assert!(c.cache().conversation(conv).unwrap().unread);
    c.mark_read(conv).unwrap();
    assert!(!c.cache().conversation(conv).unwrap().unread, "read at once, locally");
    c.assign(conv, Some(Some(w.maya)), None).unwrap();
    eventually("assigned", || c.cache().conversation(conv).unwrap().assignee_id == Some(w.maya)).await;
    let until = switchboard_core::now_ms() + 3_600_000;
    c.set_status(conv, ConversationStatus::Snoozed, Some(until)).unwrap();
    eventually("snoozed", || c.cache().conversation(conv).unwrap().status == ConversationStatus::Snoozed).await;
    assert_eq!(c.cache().view(View::Mine, 10, 0).unwrap().len(), 0);
    assert_eq!(c.cache().view(View::Closed, 10, 0).unwrap().len(), 1);
    c.set_status(conv, ConversationStatus::Open, None).unwrap();
    eventually("reopened", || c.cache().view(View::Mine, 10, 0).unwrap().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(c.outbox().items().unwrap().is_empty());
}

/// The conversations a `changed` event names in full, and those it names as only read.
fn changed_parts(e: &ConsoleEvent) -> Option<(Vec<i64>, Vec<i64>)> {
    match e {
        ConsoleEvent::Changed { conversations, read, .. } => Some((conversations.clone(), read.clone())),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_a_conversation_changes_its_row_and_never_its_thread() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    // Maya's console at her desk and on her laptop.
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let desk = console(&hub, d1.path(), "maya@x.test").await;
    let laptop = console(&hub, d2.path(), "maya@x.test").await;
    online(&desk).await;
    online(&laptop).await;
    let (mut at_desk, mut on_laptop) = (desk.subscribe(), laptop.subscribe());

    // Read at the desk: the desk's window hears that only the read state changed.
    desk.mark_read(conv).unwrap();
    let names = |e: &ConsoleEvent| changed_parts(e).filter(|(full, read)| full.contains(&conv) || read.contains(&conv));
    assert_eq!(next_event(&mut at_desk, 10, names).await, Some((vec![], vec![conv])));

    // The laptop hears the same of the hub's read marker, and its row is read too.
    assert_eq!(next_event(&mut on_laptop, 10, names).await, Some((vec![], vec![conv])));
    assert!(!laptop.cache().conversation(conv).unwrap().unread);

    // A new line from the customer changes the thread itself.
    hub.ingest(w.sms, "+14155550123", "Are you there?").await;
    assert_eq!(next_event(&mut at_desk, 10, names).await, Some((vec![conv], vec![])));
    assert!(desk.cache().conversation(conv).unwrap().unread);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_responses_reach_the_team_and_edits_show_before_the_hub_confirms() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Hello").await.conversation_id;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lee = console(&hub, d1.path(), "lee@x.test").await;
    let maya = console(&hub, d2.path(), "maya@x.test").await;
    online(&lee).await;
    online(&maya).await;
    let listed = |c: &switchboard_core::Console| {
        c.cache()
            .canned()
            .unwrap()
            .into_iter()
            .map(|o| (o.response.shortcut, o.pending, o.editable))
            .collect::<Vec<_>>()
    };

    // A lead's shared response reaches Maya's console, and her composer fills it in.
    let mut maya_events = maya.subscribe();
    let hi = lee
        .save_canned(draft(None, "/Hi", "Greeting", "Hi {{customer.first_name}}, this is {{agent.first_name}}.", true))
        .unwrap();
    eventually("Maya has the team's response", || listed(&maya) == vec![("hi".to_owned(), false, false)]).await;
    next_event(&mut maya_events, 10, |e| matches!(e, ConsoleEvent::Changed { canned: true, .. }).then_some(()))
        .await
        .expect("Maya's window hears the canned responses changed");
    let composer = maya.cache().composer(conv, switchboard_core::now_ms()).unwrap();
    assert_eq!(composer.canned.iter().map(|o| o.response.key.as_str()).collect::<Vec<_>>(), vec![hi.as_str()]);
    assert_eq!(maya.cache().expand_canned(&hi, conv).unwrap(), "Hi +14155550123, this is Maya.");

    // What the hub would refuse is refused at once, and nothing is queued.
    let refusals = [
        (maya.save_canned(draft(Some(&hi), "hi", "Mine", "x", false)), ErrorCode::Forbidden),
        (maya.save_canned(draft(None, "bye", "Bye", "Bye!", true)), ErrorCode::Forbidden),
        (maya.save_canned(draft(None, "two words", "Bye", "Bye!", false)), ErrorCode::BadRequest),
        (maya.delete_canned(&hi, None).map(|()| String::new()), ErrorCode::Forbidden),
    ];
    for (result, code) in refusals {
        assert_eq!(result.unwrap_err().to_api().code, code);
    }
    assert!(maya.outbox().items().unwrap().is_empty());

    // Away from the hub, Maya's own response shows at once (pending), edits and all.
    maya.shutdown().await;
    let mine = maya.save_canned(draft(None, "refund", "Refund", "Refund started.", false)).unwrap();
    maya.save_canned(draft(Some(&mine), "refund", "Refund on its way", "It is on its way, {{customer.name}}.", false))
        .unwrap();
    assert_eq!(listed(&maya), vec![("hi".to_owned(), false, false), ("refund".to_owned(), true, true)]);
    let clash = maya.save_canned(draft(None, "refund", "Again", "Again", false)).unwrap_err();
    assert!(clash.to_string().contains("/refund is already “Refund on its way”"), "{clash}");
    assert_eq!(maya.cache().expand_canned(&mine, conv).unwrap(), "It is on its way, +14155550123.");
    maya.start();
    eventually("the hub confirms Maya's response", || {
        listed(&maya) == vec![("hi".to_owned(), false, false), ("refund".to_owned(), false, true)]
    })
    .await;
    let stored = hub.store.bootstrap(&hub.store.viewer(w.maya).await.unwrap(), 0).await.unwrap().canned;
    assert_eq!(
        stored.iter().map(|c| (c.title.as_str(), c.owner_id)).collect::<Vec<_>>(),
        vec![("Greeting", None), ("Refund on its way", Some(w.maya))]
    );
    let lees = hub.store.bootstrap(&hub.store.viewer(w.lee).await.unwrap(), 0).await.unwrap().canned;
    assert_eq!(lees.iter().map(|c| c.shortcut.as_str()).collect::<Vec<_>>(), vec!["hi"], "Maya's own stays hers");

    // She deletes it: gone at once, and from the hub.
    maya.delete_canned(&mine, None).unwrap();
    assert_eq!(listed(&maya), vec![("hi".to_owned(), false, false)]);
    eventually("the hub deletes it", || maya.outbox().items().unwrap().is_empty()).await;
    let stored = hub.store.bootstrap(&hub.store.viewer(w.maya).await.unwrap(), 0).await.unwrap().canned;
    assert_eq!(stored.len(), 1);
}

/// A canned response as an editor saves it, over whatever is there.
fn draft(key: Option<&str>, shortcut: &str, title: &str, body: &str, shared: bool) -> CannedDraft {
    CannedDraft {
        key: key.map(str::to_owned),
        version: None,
        shortcut: shortcut.into(),
        title: title.into(),
        body: body.into(),
        shared,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canned_edit_on_a_version_replaced_elsewhere_is_a_conflict_naming_who() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lee = console(&hub, d1.path(), "lee@x.test").await;
    let kim = console(&hub, d2.path(), "kim@x.test").await;
    online(&lee).await;
    online(&kim).await;
    let hi = lee.save_canned(draft(None, "hi", "Greeting", "Hi!", true)).unwrap();
    let version_at = |c: &switchboard_core::Console, title: &str| {
        c.cache()
            .canned()
            .unwrap()
            .into_iter()
            .find(|o| o.response.title == title && !o.pending)
            .map(|o| o.response.version)
    };
    eventually("Kim has Lee's response", || version_at(&kim, "Greeting").is_some()).await;
    let opened = version_at(&kim, "Greeting").unwrap();

    // Lee saves twice on the version he opened, the second before the first's echo: his own
    // edits build on each other.
    lee.save_canned(CannedDraft { version: Some(opened), ..draft(Some(&hi), "hi", "Greeting", "Hello!", true) })
        .unwrap();
    lee.save_canned(CannedDraft { version: Some(opened), ..draft(Some(&hi), "hi", "Welcome", "Welcome!", true) })
        .unwrap();
    eventually("Lee's edits reach Kim", || version_at(&kim, "Welcome").is_some()).await;
    assert!(lee.outbox().items().unwrap().iter().all(|i| i.state != OutboxState::Conflict));

    // Kim saves on the version she opened before Lee's edits: refused, naming Lee, and her
    // list shows his version.
    kim.shutdown().await;
    let mut events = kim.subscribe();
    let mine = CannedDraft { version: Some(opened), ..draft(Some(&hi), "hi", "Hey", "Hey there!", true) };
    kim.save_canned(mine).unwrap();
    kim.start();
    let item = next_event(&mut events, 10, |e| match e {
        ConsoleEvent::Outbox { item } if item.state == OutboxState::Conflict => Some(item.clone()),
        _ => None,
    })
    .await
    .expect("Kim hears of the conflict");
    match &item.conflict {
        Some(ConflictInfo::Canned { shortcut, title, changed_by_name, .. }) => {
            assert_eq!(
                (shortcut.as_str(), title.as_str(), changed_by_name.as_deref()),
                ("hi", "Welcome", Some("Lee Chen"))
            );
        }
        other => panic!("a canned response's conflict, not {other:?}"),
    }
    let titles = |c: &switchboard_core::Console| {
        c.cache().canned().unwrap().into_iter().map(|o| o.response.title).collect::<Vec<_>>()
    };
    assert_eq!(titles(&kim), vec!["Welcome"], "the refused edit is not shown");
    let stored = hub.store.bootstrap(&hub.store.viewer(w.kim).await.unwrap(), 0).await.unwrap().canned;
    assert_eq!(stored.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), vec!["Welcome"]);

    // Having seen it, Kim saves hers anyway: it replaces Lee's, on the hub and in his list.
    kim.retry(item.id).unwrap();
    eventually("Kim's edit reaches Lee", || titles(&lee) == vec!["Hey"]).await;
    eventually("Kim's outbox empties", || kim.outbox().items().unwrap().is_empty()).await;
}

/// Finding: the console sent `Authorization: Bearer` with the agent's token to whatever URL
/// an attachment named, so a reply pointing at someone's server harvested the token of
/// every agent who opened it. The console now asks only its hub for a message's attachment;
/// the hub fetches the file, and the other server never sees the agent's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_token_never_goes_to_an_attachment_url() {
    use switchboard_testkit::providers::{self, Kind};
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    // Any server at all: it hands the file to whoever asks.
    let elsewhere = providers::start(Kind::Graph).await;
    let now = switchboard_core::now_ms();
    let mut mms = switchboard_hub::store::ingest::Inbound::text(w.sms, "+14155550123", "a photo", Some("MM9"), now);
    mms.attachments = vec![switchboard_protocol::model::Attachment {
        name: "photo.jpg".into(),
        mime: "image/jpeg".into(),
        size: 0,
        url: format!("{}/steal/photo.jpg", elsewhere.base),
    }];
    let m = hub.store.ingest(mms).await.unwrap();
    let lee = hub.store.viewer(w.lee).await.unwrap();
    for _ in 0..100 {
        let page = hub.store.messages_before(&lee, m.conversation_id, None, 1).await.unwrap();
        if page.messages[0].attachments[0].url.starts_with("/api/v1/blobs/") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let token = hub.login("maya@x.test").await;
    let c = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
    c.start();
    online(&c).await;
    eventually("the message is cached", || c.cache().message(m.message_id).is_ok()).await;
    let (path, _) = c.save_attachment(m.message_id, 0).await.unwrap();
    assert!(!std::fs::read(&path).unwrap().is_empty(), "the file arrived through the hub");
    let requests = elsewhere.fetches();
    assert_eq!(requests.len(), 1, "the hub fetched it once, and keeps it");
    for r in requests {
        assert!(r.authorization.as_deref().is_none_or(|a| !a.contains(&token)), "{:?} got the token", r.path);
        assert_eq!(r.authorization, None, "no credentials for a host that is not the inbox's provider");
    }
    assert!(matches!(
        c.save_attachment(m.message_id, 5).await,
        Err(switchboard_core::error::CoreError::NotFound("attachment"))
    ));
}

/// Finding: opening an email attachment ran it (`invoice.pdf.js`, `.exe`, `.hta` and `.lnk`
/// run on one click), and a right-to-left override hid what a file was. Through the real
/// core against a real hub: a file that could run a program is saved, not opened; an inert
/// one is opened; names show what they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customers_file_that_could_run_is_saved_not_opened() {
    use switchboard_core::files::Opening;
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let mut attachments = Vec::new();
    for (name, mime, data) in [
        ("invoice.pdf.js", "text/javascript", &b"var shell = new ActiveXObject('WScript.Shell');"[..]),
        ("invoice\u{202E}fdp.exe", "application/octet-stream", &b"MZ\x90\x00\x03\x00"[..]),
        ("invoice.pdf", "application/pdf", &b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"[..]),
    ] {
        let url = hub.keep_file(name, mime, data).await;
        attachments.push(switchboard_protocol::model::Attachment {
            name: name.into(),
            mime: mime.into(),
            size: data.len() as u64,
            url,
        });
    }
    let now = switchboard_core::now_ms();
    let mut mail = switchboard_hub::store::ingest::Inbound::text(
        w.email,
        "ben@example.com",
        "invoice attached",
        Some("<i1@mail>"),
        now,
    );
    mail.attachments = attachments;
    let m = hub.store.ingest(mail).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let c = console(&hub, dir.path(), "maya@x.test").await;
    online(&c).await;
    eventually("the message is cached", || c.cache().message(m.message_id).is_ok()).await;
    let shown: Vec<String> = c
        .cache()
        .thread(m.conversation_id, 10)
        .unwrap()
        .lines
        .into_iter()
        .flat_map(|l| l.attachments)
        .map(|a| a.name)
        .collect();
    assert_eq!(shown, ["invoice.pdf.js", "invoicefdp.exe", "invoice.pdf"], "names show what they are");

    let (script, opening) = c.save_attachment(m.message_id, 0).await.unwrap();
    assert!(matches!(opening, Opening::Reveal { ref warning } if warning.contains("could run a program")));
    assert!(script.exists(), "saved, to be shown in its folder");
    let (program, opening) = c.save_attachment(m.message_id, 1).await.unwrap();
    assert!(matches!(opening, Opening::Reveal { .. }));
    assert_eq!(program.file_name().unwrap(), "invoicefdp.exe");
    let (pdf, opening) = c.save_attachment(m.message_id, 2).await.unwrap();
    assert_eq!(opening, Opening::Open);
    assert_eq!(std::fs::read(pdf).unwrap(), b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n");
}
