//! Choices from the console, against a real hub: offered on WhatsApp they show on the
//! pending line and reach the hub as sent; on SMS they are refused at once, before anything
//! is queued.
#![allow(clippy::unwrap_used)]

use switchboard_core::error::CoreError;
use switchboard_protocol::choices::{Choice, ChoiceStyle, Choices};
use switchboard_testkit::console_hub::{console, eventually, online, world, Hub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choices_are_checked_at_once_and_sent_with_the_reply() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let dir = tempfile::tempdir().unwrap();
    let maya = console(&hub, dir.path(), "maya@x.test").await;
    online(&maya).await;
    let wa = hub.ingest(w.whatsapp, "+14155550123", "When can you deliver?").await.conversation_id;
    let sms = hub.ingest(w.sms, "+14155550124", "Hello").await.conversation_id;
    eventually("both conversations reach the console", || {
        maya.cache().conversation(wa).is_ok() && maya.cache().conversation(sms).is_ok()
    })
    .await;
    let times = Choices {
        style: ChoiceStyle::Buttons,
        button: None,
        options: vec![
            Choice { id: "tue".into(), title: "Tuesday".into(), description: None },
            Choice { id: "wed".into(), title: "Wednesday".into(), description: None },
        ],
    };

    let queued = maya.outbox().items().unwrap().len();
    let refused = maya.send_reply_with(sms, "Pick a day", &[], Some(times.clone())).unwrap_err();
    assert!(matches!(refused, CoreError::BadRequest(ref m) if m == "SMS cannot carry buttons or lists"), "{refused:?}");
    let no_text = maya.send_reply_with(wa, " ", &[], Some(times.clone())).unwrap_err();
    assert!(matches!(no_text, CoreError::BadRequest(_)), "{no_text:?}");
    assert_eq!(maya.outbox().items().unwrap().len(), queued, "nothing queued");

    maya.send_reply_with(wa, "Pick a day", &[], Some(times.clone())).unwrap();
    let pending = maya.cache().thread(wa, 10).unwrap().lines.into_iter().find(|l| l.id.is_none()).unwrap();
    assert_eq!(pending.choices.as_ref(), Some(&times), "the pending line shows what is offered");
    eventually("the hub has it", || {
        maya.cache().thread(wa, 10).unwrap().lines.iter().any(|l| l.id.is_some() && l.choices.as_ref() == Some(&times))
    })
    .await;
}
