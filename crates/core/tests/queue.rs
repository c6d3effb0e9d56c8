//! The queue from the console's side, against a real hub with its router running: presence
//! chosen in one console shows in the others; queued conversations show their place; a
//! conversation routed to the agent notifies them once, and nobody else; going away hands
//! it on; the console sets an idle agent away and back.
#![allow(clippy::unwrap_used)]

use switchboard_core::Console;
use switchboard_protocol::console::{ConsoleEvent, Notification, View};
use switchboard_protocol::model::{Presence, Priority, RoutingMode, RoutingPolicy};
use switchboard_protocol::mutation::SetAgentRouting;
use switchboard_testkit::console_hub::{console, eventually, next_event, online, world, Hub};

fn presence_of(c: &Console, agent: i64) -> Presence {
    c.cache().directory().unwrap().agents.iter().find(|a| a.id == agent).unwrap().presence
}

fn notifications(events: &mut tokio::sync::broadcast::Receiver<ConsoleEvent>) -> Vec<Notification> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let ConsoleEvent::Notify { notification, .. } = e {
            out.push(notification);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routed_conversations_notify_their_agent_once_and_move_on_when_they_go_away() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let (d1, d2, d3) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let maya = console(&hub, d1.path(), "maya@x.test").await;
    let lee = console(&hub, d2.path(), "lee@x.test").await;
    let kim = console(&hub, d3.path(), "kim@x.test").await;
    for c in [&maya, &lee, &kim] {
        online(c).await;
    }

    // Lee turns routing on for Support and gives Maya two slots; Kim is paused.
    let policy = RoutingPolicy { mode: RoutingMode::LeastLoaded, ..RoutingPolicy::default() };
    lee.set_routing(w.support, None, Some(policy.clone())).unwrap();
    lee.set_agent_routing(SetAgentRouting { agent_id: w.maya, capacity: Some(2), paused: None, skills: None }).unwrap();
    lee.set_agent_routing(SetAgentRouting { agent_id: w.kim, capacity: None, paused: Some(true), skills: None })
        .unwrap();
    eventually("the policy reaches Maya's console", || {
        maya.cache().directory().unwrap().teams.iter().any(|t| t.id == w.support && t.routing == policy)
    })
    .await;

    // Nobody is online: the customers wait in the queue, numbered, urgent first.
    let first = hub.ingest(w.sms, "+14155550111", "Is my order shipped?").await.conversation_id;
    let second = hub.ingest(w.sms, "+14155550112", "Refund please").await.conversation_id;
    eventually("both reach Lee", || lee.cache().conversation(second).is_ok()).await;
    lee.set_priority(second, Priority::Urgent).unwrap();
    eventually("queue positions in Lee's console", || {
        let row = |id| lee.cache().conversation(id).map(|r| r.queue_position).ok().flatten();
        row(second) == Some(1) && row(first) == Some(2)
    })
    .await;

    // Maya comes online; Lee sees it; routing gives her both; she hears of each once.
    let mut maya_events = maya.subscribe();
    let mut kim_events = kim.subscribe();
    maya.set_presence(Presence::Online).unwrap();
    eventually("Lee sees Maya online", || presence_of(&lee, w.maya) == Presence::Online).await;
    eventually("both routed to Maya", || {
        let mine = maya.cache().view(View::Mine, 50, 0).unwrap();
        [first, second].iter().all(|id| mine.iter().any(|r| r.id == *id && r.queue_position.is_none()))
    })
    .await;
    let assigned = next_event(&mut maya_events, 5, |e| match e {
        ConsoleEvent::Notify { notification: n @ Notification::Assigned { .. }, .. } => Some(n.clone()),
        _ => None,
    })
    .await
    .expect("Maya is told a conversation is hers");
    assert!(matches!(&assigned, Notification::Assigned { by: None, .. }), "{assigned:?}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let more = notifications(&mut maya_events);
    let told: Vec<_> = more.iter().filter(|n| matches!(n, Notification::Assigned { .. })).collect();
    assert_eq!(told.len(), 1, "one notification for each routed conversation: {more:?}");
    assert!(notifications(&mut kim_events).is_empty(), "queued conversations notify nobody else");

    // Maya steps away: her waiting customers go back and on to Lee when he comes online.
    maya.set_presence(Presence::Away).unwrap();
    eventually("both back in the queue", || {
        lee.cache().conversation(first).unwrap().queue_position.is_some()
            && lee.cache().conversation(second).unwrap().queue_position.is_some()
    })
    .await;
    lee.set_presence(Presence::Online).unwrap();
    eventually("Lee gets them", || lee.cache().conversation(first).unwrap().assignee_id == Some(w.lee)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_agent_is_set_away_and_back_by_the_console() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let maya = console(&hub, d1.path(), "maya@x.test").await;
    let lee = console(&hub, d2.path(), "lee@x.test").await;
    online(&maya).await;
    online(&lee).await;
    maya.set_away_after_mins(Some(1)).unwrap();
    maya.set_presence(Presence::Online).unwrap();
    eventually("Maya online", || presence_of(&maya, w.maya) == Presence::Online).await;
    let now = switchboard_core::now_ms();
    maya.note_activity(now).unwrap();
    assert_eq!(maya.presence_tick(now + 59_000).unwrap(), None, "not idle long enough");
    assert!(maya.presence_tick(now + 61_000).unwrap().is_some());
    eventually("Lee sees Maya away", || presence_of(&lee, w.maya) == Presence::Away).await;
    assert!(maya.note_activity(now + 62_000).unwrap().is_some(), "back at the keyboard");
    eventually("Lee sees Maya online again", || presence_of(&lee, w.maya) == Presence::Online).await;

    // Away by choice stays away whatever she types.
    maya.set_presence(Presence::Away).unwrap();
    eventually("Maya away", || presence_of(&maya, w.maya) == Presence::Away).await;
    assert_eq!(maya.note_activity(now + 63_000).unwrap(), None);
    maya.set_away_after_mins(None).unwrap();
    assert_eq!(maya.away_after_mins().unwrap(), None);
}
