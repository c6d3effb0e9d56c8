//! Writing first from the console, against a real hub: a message to a new number written
//! while the hub is away waits in the outbox, is delivered once when it returns (however
//! often it was sent), and the new conversation arrives pending and the agent's; a draft
//! that cannot be right is refused at once, before anything is queued.
#![allow(clippy::unwrap_used)]

use switchboard_core::error::CoreError;
use switchboard_protocol::console::NewConversation;
use switchboard_protocol::model::{ConversationStatus, Delivery};
use switchboard_testkit::console_hub::{console, eventually, online, world, Hub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_message_written_offline_is_delivered_once() {
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    let dir = tempfile::tempdir().unwrap();
    let maya = console(&hub, dir.path(), "maya@x.test").await;
    online(&maya).await;

    let draft = |address: &str, body: &str| NewConversation {
        inbox_id: w.sms,
        contact_id: None,
        address: Some(address.into()),
        name: Some("Carla Mendes".into()),
        subject: None,
        body: body.into(),
        template: None,
        params: vec![],
    };
    // Refused at once: nothing to say; no one to write to; an email without a subject.
    let queued = maya.outbox().items().unwrap().len();
    for bad in [
        draft("+14155550177", "  "),
        NewConversation { address: None, ..draft("", "Hi") },
        NewConversation { inbox_id: w.email, ..draft("carla@example.com", "Hi") },
        NewConversation { inbox_id: 987_654, ..draft("+14155550177", "Hi") },
    ] {
        assert!(maya.start_conversation(bad).is_err());
    }
    assert_eq!(maya.outbox().items().unwrap().len(), queued, "nothing queued");

    hub.stop().await;
    let started = maya.start_conversation(draft("(415) 555-0177", "Your order #4521 is ready to collect.")).unwrap();
    assert_eq!(maya.started_conversation(&started.client_msg_id).unwrap(), None, "not before the hub has it");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    hub.restart().await;

    eventually("the new conversation reaches the console", || {
        maya.started_conversation(&started.client_msg_id).unwrap().is_some()
    })
    .await;
    let id = maya.started_conversation(&started.client_msg_id).unwrap().unwrap();
    let row = maya.cache().conversation(id).unwrap();
    assert_eq!(
        (row.status, row.assignee_id, row.customer_address.as_str()),
        (ConversationStatus::Pending, Some(w.maya), "+14155550177")
    );
    eventually("the outbox is empty", || maya.outbox().items().unwrap().is_empty()).await;
    eventually("delivered", || {
        maya.cache().thread(id, 10).unwrap().lines.iter().any(|l| l.delivery == Some(Delivery::Delivered))
    })
    .await;
    // Once on the hub, whatever the console retried.
    let lee = hub.store.viewer(w.lee).await.unwrap();
    let lines = hub.store.messages_before(&lee, id, None, 10).await.unwrap().messages;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].client_msg_id.as_deref(), Some(started.client_msg_id.as_str()));
    let err = maya
        .start_conversation(NewConversation { inbox_id: w.email, subject: Some(" ".into()), ..draft("a@b.c", "Hi") })
        .unwrap_err();
    assert!(matches!(err, CoreError::BadRequest(ref m) if m.contains("subject")), "{err:?}");
}
