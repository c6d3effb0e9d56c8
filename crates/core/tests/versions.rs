//! A hub that requires a newer console, against the real console: the console names its
//! version, is told to update, stops syncing with the reason (the cache still reads), and
//! keeps the agent's reply queued, not refused; updated (the hub's minimum met), it syncs
//! and delivers the reply once.
#![allow(clippy::unwrap_used)]

use switchboard_testkit::console_hub as common;

use common::{console, eventually, online, world, Hub};
use std::time::Duration;
use switchboard_protocol::console::{Connection, OutboxState};
use switchboard_protocol::model::Direction;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outdated_console_is_told_to_update_and_loses_nothing() {
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    let conv = hub.ingest(w.sms, "+14155550123", "Is my order on its way?").await.conversation_id;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&hub, dir.path(), "maya@x.test").await;
    online(&c).await;

    // The admin requires a newer console than this one.
    hub.restart_with(switchboard_hub::config::Config { min_console_version: Some("99.0.0".into()), ..Hub::settings() })
        .await;
    let mut watch = c.watch_connection();
    let reason = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Connection::UpdateRequired { reason } = watch.borrow_and_update().clone() {
                return reason;
            }
            watch.changed().await.unwrap();
        }
    })
    .await
    .expect("the console is told to update");
    assert!(reason.contains(switchboard_core::VERSION) && reason.contains("99.0.0"), "{reason}");

    // The cache still reads, and a reply waits in the outbox instead of being refused.
    assert_eq!(c.cache().thread(conv, 50).unwrap().lines.len(), 1);
    let reply = c.send_reply(conv, "Yes, it ships today.").unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let item = c.outbox().items().unwrap().into_iter().find(|i| i.id == reply).expect("the reply is queued");
    assert_ne!(item.state, OutboxState::Stuck, "the reply was refused: {item:?}");
    assert!(matches!(c.connection(), Connection::UpdateRequired { .. }), "syncing stopped");
    drop(c);

    // Updated: the hub's minimum is met, the console syncs and the reply is delivered once.
    hub.restart_with(Hub::settings()).await;
    let token = hub.login("maya@x.test").await;
    let updated = switchboard_core::Console::open(dir.path(), &hub.base, &token).unwrap();
    updated.start();
    online(&updated).await;
    eventually("the reply is stored by the hub", || {
        let t = updated.cache().thread(conv, 50).unwrap();
        t.lines.iter().filter(|l| l.direction == Direction::Outbound && l.id.is_some()).count() == 1
    })
    .await;
    assert!(updated.outbox().items().unwrap().is_empty());
}
