//! Files from the console, against a real hub: a file attached while the hub is away is
//! kept in the outbox's folder, survives the console closing, is uploaded once and sent
//! once when the hub returns (on WhatsApp, one file a message, the text as the first one's
//! caption), and its picture shows from the outbox and then from the hub. A file the hub
//! would refuse is refused at once and kept nowhere.
#![allow(clippy::unwrap_used)]

use switchboard_core::error::CoreError;
use switchboard_core::outbox::staged::FOLDER;
use switchboard_core::Console;
use switchboard_protocol::model::Delivery;
use switchboard_protocol::ErrorCode;
use switchboard_testkit::console_hub::{eventually, online, world, Hub};

/// A real 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0xf8, 0xcf, 0x50, 0x0f, 0x00, 0x03, 0x86, 0x01, 0x80, 0x5a, 0x34, 0x7d,
    0x6b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| d.filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')).count())
        .unwrap_or(0)
}

fn code(e: &CoreError) -> Option<ErrorCode> {
    match e {
        CoreError::Hub(api) => Some(api.code),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_attached_offline_is_sent_once_and_shown() {
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    let dir = tempfile::tempdir().unwrap();
    let staged_dir = dir.path().join(FOLDER);
    let token = hub.login("maya@x.test").await;
    let maya = open(&hub, dir.path(), &token);
    online(&maya).await;
    let asked = hub.ingest(w.whatsapp, "+14155550123", "Can you send me the return label?").await;
    let conv = asked.conversation_id;
    eventually("the customer's message reaches the console", || maya.cache().conversation(conv).is_ok()).await;

    // Refused at once, kept nowhere: a name that lies about the content, a type a browser
    // would run, a file too large.
    let big = vec![b'a'; 25 * 1024 * 1024 + 1];
    for (name, bytes, want) in [
        ("label.png", PDF, ErrorCode::BadRequest),
        ("label.html", b"<html>".as_slice(), ErrorCode::BadRequest),
        ("notes.txt", big.as_slice(), ErrorCode::PayloadTooLarge),
    ] {
        let err = maya.stage_attachment(name, bytes).unwrap_err();
        assert_eq!(code(&err), Some(want), "{name}: {err}");
    }
    assert_eq!(files_in(&staged_dir), 0);

    // Attached and discarded: gone.
    let dropped = maya.stage_attachment("other.png", PNG).unwrap();
    assert_eq!(files_in(&staged_dir), 1);
    assert!(maya.discard_attachment(dropped.url.trim_start_matches("staged:")).unwrap());
    assert_eq!(files_in(&staged_dir), 0);

    hub.stop().await;
    let label = maya.stage_attachment("return label.png", PNG).unwrap();
    let invoice = maya.stage_attachment("invoice.pdf", PDF).unwrap();
    assert_eq!((label.mime.as_str(), invoice.mime.as_str()), ("image/png", "application/pdf"));
    maya.send_reply_with(conv, "Here is your label", &[label.url.clone(), invoice.url.clone()], None).unwrap();
    // WhatsApp carries one file a message: the picture with the text as its caption, then
    // the document.
    let lines = maya.cache().thread(conv, 10).unwrap().lines;
    let pending: Vec<(String, Vec<String>)> = lines
        .iter()
        .filter(|l| l.id.is_none())
        .map(|l| (l.body.clone(), l.attachments.iter().map(|a| a.url.clone()).collect()))
        .collect();
    assert_eq!(
        pending,
        vec![("Here is your label".to_owned(), vec![label.url.clone()]), (String::new(), vec![invoice.url.clone()])]
    );
    let id = label.url.trim_start_matches("staged:").to_owned();
    assert_eq!(maya.picture(&format!("staged/{id}")).await.unwrap(), ("image/png".to_owned(), PNG.to_vec()));
    assert!(!maya.discard_attachment(&id).unwrap(), "a file a queued reply names stays");
    assert!(
        maya.picture(&format!("staged/{}", invoice.url.trim_start_matches("staged:"))).await.is_err(),
        "not a picture"
    );

    // The console closes and opens again before the hub returns: the files are still there.
    drop(maya);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let maya = open(&hub, dir.path(), &token);
    assert_eq!(
        files_in(&staged_dir),
        2,
        "{:?}",
        std::fs::read_dir(&staged_dir).unwrap().map(|e| e.unwrap().file_name()).collect::<Vec<_>>()
    );
    hub.restart().await;
    eventually("the outbox is empty", || maya.outbox().items().unwrap().is_empty()).await;
    eventually("both delivered", || {
        let lines = maya.cache().thread(conv, 10).unwrap().lines;
        lines.iter().filter(|l| l.delivery == Some(Delivery::Delivered)).count() == 2
    })
    .await;

    // On the hub: two messages, each file once, named as the console named them.
    let lee = hub.store.viewer(w.lee).await.unwrap();
    let sent = hub.store.messages_before(&lee, conv, None, 10).await.unwrap().messages;
    let out: Vec<(&str, Vec<(&str, &str)>)> = sent
        .iter()
        .filter(|m| m.author_agent_id.is_some())
        .map(|m| (m.body.as_str(), m.attachments.iter().map(|a| (a.name.as_str(), a.mime.as_str())).collect()))
        .collect();
    assert_eq!(
        out,
        vec![
            ("Here is your label", vec![("return label.png", "image/png")]),
            ("", vec![("invoice.pdf", "application/pdf")])
        ]
    );
    let kept = std::fs::read_dir(hub.store.default_blob_dir())
        .unwrap()
        .map(|shard| files_in(&shard.unwrap().path()))
        .sum::<usize>();
    assert_eq!(kept, 2, "each file uploaded once");
    eventually("sent files leave the outbox's folder", || files_in(&staged_dir) == 0).await;

    // The picture now comes from the hub, kept for the next time; a document is no picture.
    let picture_line = sent.iter().find(|m| m.body == "Here is your label").unwrap();
    let (mime, bytes) = maya.picture(&format!("message/{}/0", picture_line.id)).await.unwrap();
    assert_eq!((mime.as_str(), bytes.as_slice()), ("image/png", PNG));
    let document = sent.iter().find(|m| m.body.is_empty() && m.author_agent_id.is_some()).unwrap();
    assert!(maya.picture(&format!("message/{}/0", document.id)).await.is_err());
}

/// The console of the account in `dir`, started (the hub may be away).
fn open(hub: &Hub, dir: &std::path::Path, token: &str) -> Console {
    let c = Console::open(dir, &hub.base, token).unwrap();
    c.start();
    c
}
