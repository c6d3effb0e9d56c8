//! The agent's notification preferences against a real hub: saved on one console, in force
//! there at once and synced to the agent's other console and to a new one; a muted inbox,
//! turned-off events and do-not-disturb raise nothing; sound and the customer's words follow
//! the preferences; bad preferences are refused and change nothing.
#![allow(clippy::unwrap_used)]

use switchboard_testkit::console_hub as common;

use common::{console, eventually, next_event, online, world, Hub};
use switchboard_protocol::console::{ConsoleEvent, Notification};
use switchboard_protocol::preferences::{NotificationPreferences, QuietHours};
use switchboard_protocol::ErrorCode;

/// The next notification raised, with its sound flag, within `secs`.
async fn notified(
    events: &mut tokio::sync::broadcast::Receiver<ConsoleEvent>,
    secs: u64,
) -> Option<(Notification, bool)> {
    next_event(events, secs, |e| match e {
        ConsoleEvent::Notify { notification, sound } => Some((notification.clone(), *sound)),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferences_sync_across_consoles_and_shape_what_notifies() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let (dir_a, dir_b, dir_c) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = console(&hub, dir_a.path(), "maya@x.test").await;
    let b = console(&hub, dir_b.path(), "maya@x.test").await;
    online(&a).await;
    online(&b).await;
    assert_eq!(a.preferences().unwrap(), NotificationPreferences::default());
    let mut events_a = a.subscribe();
    let mut events_b = b.subscribe();

    // Maya mutes SMS and keeps her screen private and quiet, on console A.
    let private = NotificationPreferences {
        muted_inboxes: vec![w.sms],
        sound: false,
        show_text: false,
        ..NotificationPreferences::default()
    };
    a.set_preferences(private.clone()).unwrap();
    assert_eq!(a.preferences().unwrap(), private, "in force on this console at once");
    eventually("console B has them", || b.preferences().unwrap() == private).await;
    eventually("the outbox is empty", || a.outbox().items().unwrap().is_empty()).await;

    // A new customer on the muted SMS inbox: nothing, on either console.
    hub.ingest(w.sms, "+14155550123", "Hi, my parcel is late").await;
    assert!(notified(&mut events_a, 2).await.is_none(), "the muted inbox raised a notification");
    assert!(notified(&mut events_b, 1).await.is_none(), "the muted inbox raised a notification");

    // On WhatsApp: a notification without sound and without the customer's words.
    let fresh = hub.ingest(w.whatsapp, "14155550999", "My card number is 4111 1111").await;
    for events in [&mut events_a, &mut events_b] {
        let (n, sound) = notified(events, 10).await.expect("a notification for WhatsApp");
        assert!(!sound);
        assert!(
            matches!(&n, Notification::Reply { conversation_id, text, .. } if *conversation_id == fresh.conversation_id && text.is_empty()),
            "{n:?}"
        );
    }

    // Customer replies turned off (on console B this time): nothing for a new customer.
    let replies_off = NotificationPreferences { customer_replied: false, ..NotificationPreferences::default() };
    b.set_preferences(replies_off.clone()).unwrap();
    eventually("console A has them", || a.preferences().unwrap() == replies_off).await;
    hub.ingest(w.whatsapp, "14155550998", "Hello?").await;
    assert!(notified(&mut events_a, 2).await.is_none(), "replies are turned off");

    // Do not disturb for an hour: nothing; over, and the next customer notifies with sound.
    let dnd = NotificationPreferences {
        do_not_disturb_until: Some(switchboard_core::now_ms() + 3_600_000),
        ..NotificationPreferences::default()
    };
    a.set_preferences(dnd.clone()).unwrap();
    hub.ingest(w.whatsapp, "14155550997", "Anyone?").await;
    assert!(notified(&mut events_a, 2).await.is_none(), "do not disturb");
    a.set_preferences(NotificationPreferences::default()).unwrap();
    let last = hub.ingest(w.whatsapp, "14155550996", "Good morning").await;
    let (n, sound) = notified(&mut events_a, 10).await.expect("a notification after do not disturb");
    assert!(sound);
    assert!(
        matches!(&n, Notification::Reply { conversation_id, text, .. } if *conversation_id == last.conversation_id && text == "Good morning"),
        "{n:?}"
    );

    // Bad preferences are refused by the console and change nothing.
    let bad = NotificationPreferences {
        quiet_hours: Some(QuietHours { from_minute: 2_000, to_minute: 60, days: vec![0] }),
        ..NotificationPreferences::default()
    };
    let err = a.set_preferences(bad).unwrap_err();
    assert_eq!(err.to_api().code, ErrorCode::BadRequest, "{err}");
    assert_eq!(a.preferences().unwrap(), NotificationPreferences::default());

    // A console signed in later starts with them from its first sync.
    let quiet = NotificationPreferences {
        quiet_hours: Some(QuietHours { from_minute: 22 * 60, to_minute: 7 * 60, days: vec![0, 1, 2, 3, 4] }),
        ..NotificationPreferences::default()
    };
    a.set_preferences(quiet.clone()).unwrap();
    eventually("console B has them", || b.preferences().unwrap() == quiet).await;
    let c = console(&hub, dir_c.path(), "maya@x.test").await;
    online(&c).await;
    assert_eq!(c.preferences().unwrap(), quiet);
    // Another agent's console never sees them.
    let dir_l = tempfile::tempdir().unwrap();
    let lee = console(&hub, dir_l.path(), "lee@x.test").await;
    online(&lee).await;
    assert_eq!(lee.preferences().unwrap(), NotificationPreferences::default());
}
