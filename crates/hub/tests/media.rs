//! Customers' media reach agents through the hub: a console asks the hub, which checks the
//! agent's scope and fetches the file from its provider with the inbox's credentials, sent
//! only to the provider's own origin. Against a real hub on 127.0.0.1 and local stand-ins
//! for Twilio's media URLs and the file storage they redirect to.
#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use common::{inbound, login, open, serve, sqlite_db, world};
use std::sync::{Arc, Mutex};
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_protocol::admin::UpdateInbox;
use switchboard_protocol::model::Attachment;
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, SendReply};

/// Every `Authorization` header a stand-in received, by path.
type Seen = Arc<Mutex<Vec<(String, Option<String>)>>>;

/// Serves `app` on 127.0.0.1; returns its base URL.
async fn stand_in(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn record(seen: &Seen, path: &str, headers: &HeaderMap) {
    let auth = headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap().to_owned());
    seen.lock().unwrap().push((path.to_owned(), auth));
}

fn media(url: &str) -> Attachment {
    Attachment { name: "photo.jpg".into(), mime: "image/jpeg".into(), size: 0, url: url.into() }
}

/// Finding: opening MMS media sent the agent's token to Twilio (which needs the account's
/// credentials), and an attachment URL anywhere got the token too. The hub now fetches the
/// customer's media itself, once, into its file store: Twilio's account credentials go to
/// Twilio's origin only, the redirect to the file's storage is followed without them, the
/// agent's token goes nowhere but the hub, another team's agent gets 404, and a file over
/// the limit stays with the provider and answers 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_is_fetched_through_the_hub_with_the_inboxs_credentials_only() {
    let seen: Seen = Arc::default();
    let storage = stand_in(axum::Router::new().route(
        "/files/{name}",
        get({
            let seen = seen.clone();
            move |axum::extract::Path(name): axum::extract::Path<String>, headers: HeaderMap| async move {
                record(&seen, &format!("/files/{name}"), &headers);
                let body = if name == "big" { vec![b'x'; 4096] } else { b"JPEG bytes".to_vec() };
                ([(header::CONTENT_TYPE, "image/jpeg")], body)
            }
        }),
    ))
    .await;
    let twilio = stand_in(axum::Router::new().route(
        "/2010-04-01/Accounts/AC1/Messages/MM1/Media/{media}",
        get({
            let (seen, storage) = (seen.clone(), storage.clone());
            move |axum::extract::Path(media): axum::extract::Path<String>, headers: HeaderMap| async move {
                record(&seen, &format!("/media/{media}"), &headers);
                // Basic AC1:twilio-token, as Twilio wants for media when auth is enforced.
                if headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
                    != Some("Basic QUMxOnR3aWxpby10b2tlbg==")
                {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                let to = if media == "MEbig" { "big" } else { "photo" };
                (StatusCode::FOUND, [(header::LOCATION, format!("{storage}/files/{to}"))]).into_response()
            }
        }),
    ))
    .await;

    let db = sqlite_db();
    let store = open(&db);
    let w = world(&store).await;
    let settings = serde_json::json!({"account_sid": "AC1", "auth_token": "twilio-token", "base_url": twilio});
    store.update_inbox(w.sms.id, UpdateInbox { settings: Some(settings), ..Default::default() }).await.unwrap();
    let mut mms = inbound(&w.sms, "+14155550123", "here it is", "MM1", now_ms());
    mms.attachments = vec![
        media(&format!("{twilio}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1")),
        media(&format!("{twilio}/2010-04-01/Accounts/AC1/Messages/MM1/Media/MEbig")),
        media(&format!("{storage}/files/direct")),
    ];
    let m = store.ingest(mms).await.unwrap();
    let hub = serve(store.clone(), Config { max_media_bytes: 1024, ..Config::default() }).await;
    // The media keeper fetches what it can keep once, as soon as the message is in.
    let mut kept = Vec::new();
    for _ in 0..100 {
        let page = store.messages_before(&w.agent, m.conversation_id, None, 1).await.unwrap();
        kept = page.messages[0].attachments.iter().map(|a| a.url.starts_with("/api/v1/blobs/")).collect();
        if kept == [true, false, true] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(kept, [true, false, true], "the photo and the direct file kept; the big one left with Twilio");
    let agent = login(&hub, "agent@x.test").await;
    let outsider = login(&hub, "bagent@x.test").await;
    let http = reqwest::Client::new();
    let get = |token: &str, index: usize| {
        http.get(format!("{}/api/v1/messages/{}/attachments/{index}", hub.base, m.message_id)).bearer_auth(token).send()
    };

    let photo = get(&agent, 0).await.unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(photo.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(photo.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(photo.bytes().await.unwrap().as_ref(), b"JPEG bytes");

    let big = get(&agent, 1).await.unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(big.json::<serde_json::Value>().await.unwrap()["code"], "payload_too_large");

    // Media elsewhere than the provider's origin is fetched without any credentials.
    assert_eq!(get(&agent, 2).await.unwrap().bytes().await.unwrap().as_ref(), b"JPEG bytes");

    let denied = get(&outsider, 0).await.unwrap();
    assert_eq!(denied.status(), StatusCode::NOT_FOUND, "another team's agent");
    assert_eq!(get(&agent, 9).await.unwrap().status(), StatusCode::NOT_FOUND);

    let seen = seen.lock().unwrap().clone();
    let asked = |path: &str| seen.iter().filter(|(p, _)| p == path).count();
    assert_eq!(asked("/media/ME1"), 1, "kept once, then served from the file store: {seen:?}");
    assert_eq!(asked("/files/direct"), 1, "{seen:?}");
    assert_eq!(asked("/media/MEbig"), 2, "too large to keep: tried by the keeper, then fetched for the agent");
    for (path, auth) in &seen {
        let auth = auth.as_deref().unwrap_or("");
        assert!(!auth.contains(&agent) && !auth.contains(&outsider), "{path} got an agent's token");
        if path.starts_with("/files/") {
            assert_eq!(auth, "", "{path}: no credentials past Twilio's origin");
        } else {
            assert!(auth.starts_with("Basic "), "{path}: Twilio's media wants the account");
        }
    }
}

/// Keeps `data` as a file of an email from `from` to `inbox` (as the email webhook does);
/// returns the file's hub path and the message.
async fn kept_file(
    store: &switchboard_hub::store::Store,
    storage: &switchboard_hub::storage::Storage,
    inbox: &switchboard_protocol::model::Inbox,
    from: &str,
    data: &[u8],
) -> (String, switchboard_hub::store::ingest::Ingested) {
    let key = switchboard_hub::storage::new_key();
    storage.put(&key, data).await.unwrap();
    store
        .put_blob(key.clone(), "invoice.pdf".into(), "application/pdf".into(), data.len() as u64, "-".into())
        .await
        .unwrap();
    let path = switchboard_hub::store::blobs::blob_path(&key);
    let mut mail = inbound(inbox, from, "see attached", &format!("<{key}@mail>"), now_ms());
    mail.attachments =
        vec![Attachment { name: "invoice.pdf".into(), mime: "application/pdf".into(), size: 4, url: path.clone() }];
    let m = store.ingest(mail).await.unwrap();
    (path, m)
}

/// Finding 8: `GET /api/v1/blobs/{id}` checked the token but not the team, ids were
/// sequential, and files were base64 text in database rows. A file is now named by an
/// unguessable key, kept in the file store (its row holds no bytes), and served only to
/// agents who may see its message; a sequential id names nothing (both engines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_files_are_scoped_unguessable_and_outside_the_database() {
    for db in [sqlite_db(), common::pg_db()] {
        let store = open(&db);
        let w = world(&store).await;
        let files = tempfile::tempdir().unwrap();
        let storage = switchboard_hub::storage::Storage::new(files.path());
        let (path, _) = kept_file(&store, &storage, &w.email, "ana@example.com", b"%PDF-1.4 invoice").await;
        let hub = serve(store.clone(), Config { blob_dir: Some(files.path().to_owned()), ..Config::default() }).await;
        let http = reqwest::Client::new();
        let fetch = |token: String, path: String| http.get(format!("{}{path}", hub.base)).bearer_auth(token).send();
        let agent = login(&hub, "agent@x.test").await;
        let outsider = login(&hub, "bagent@x.test").await;
        let ok = fetch(agent.clone(), path.clone()).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK, "{}", db.url);
        assert_eq!(ok.headers()[header::CONTENT_LENGTH], "16");
        assert_eq!(ok.bytes().await.unwrap().as_ref(), b"%PDF-1.4 invoice");
        assert_eq!(fetch(outsider, path.clone()).await.unwrap().status(), StatusCode::NOT_FOUND, "another team");
        for guess in ["/api/v1/blobs/1", "/api/v1/blobs/2", "/api/v1/blobs/..%2F..%2Fhub.db"] {
            assert_eq!(fetch(agent.clone(), guess.into()).await.unwrap().status(), StatusCode::NOT_FOUND, "{guess}");
        }
        assert_eq!(db.text("SELECT data FROM blobs"), "", "no bytes in the row");
        assert_eq!(db.text("SELECT count(*) FROM blobs WHERE message_id IS NOT NULL"), "1", "tied to its message");
    }
}

/// Finding 8: files of earlier versions were base64 rows. The hub moves them out to the
/// file store as it starts, and their messages name the new keys (both engines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_kept_in_rows_move_out_to_the_file_store() {
    for db in [sqlite_db(), common::pg_db()] {
        let store = open(&db);
        let w = world(&store).await;
        db.execute("INSERT INTO blobs (name, mime, size, data, created_at) VALUES ('old.pdf', 'application/pdf', 8, 'JVBERi0xLjQ=', 0)");
        let id = db.text("SELECT max(id) FROM blobs");
        let mut mail = inbound(&w.email, "ana@example.com", "old", "<old@mail>", now_ms());
        mail.attachments = vec![Attachment {
            name: "old.pdf".into(),
            mime: "application/pdf".into(),
            size: 8,
            url: format!("/api/v1/blobs/{id}"),
        }];
        let m = store.ingest(mail).await.unwrap();
        let files = tempfile::tempdir().unwrap();
        let storage = switchboard_hub::storage::Storage::new(files.path());
        switchboard_hub::workers::move_legacy_blobs(store.clone(), storage.clone()).await;
        let key = db.text("SELECT blob_key FROM blobs");
        assert!(switchboard_hub::storage::valid_key(&key), "{key}");
        assert_eq!(storage.read(&key).await.unwrap(), b"%PDF-1.4");
        assert_eq!(db.text("SELECT data FROM blobs"), "");
        let msg = &store.messages_before(&w.agent, m.conversation_id, None, 1).await.unwrap().messages[0];
        assert_eq!(msg.attachments[0].url, format!("/api/v1/blobs/{key}"));
        let hub = serve(store.clone(), Config { blob_dir: Some(files.path().to_owned()), ..Config::default() }).await;
        let agent = login(&hub, "agent@x.test").await;
        let url = format!("{}/api/v1/messages/{}/attachments/0", hub.base, m.message_id);
        let got = reqwest::Client::new().get(url).bearer_auth(agent).send().await.unwrap();
        assert_eq!(got.bytes().await.unwrap().as_ref(), b"%PDF-1.4");
    }
}

/// Finding: an agent could post a reply whose attachment points at their own server, and
/// every agent who opened it sent their token there. A reply's attachments must be files
/// the hub keeps that the agent may see; anything else is refused and stores nothing (both
/// engines).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_naming_an_outside_url_is_refused() {
    for db in [sqlite_db(), common::pg_db()] {
        let store = open(&db);
        let w = world(&store).await;
        let a = store.ingest(inbound(&w.sms, "+14155550123", "hello", "SM1", now_ms())).await.unwrap();
        let files = tempfile::tempdir().unwrap();
        let storage = switchboard_hub::storage::Storage::new(files.path());
        let (kept, _) = kept_file(&store, &storage, &w.email, "ana@example.com", b"%PDF").await;
        let b_inbox = store
            .create_inbox(switchboard_protocol::admin::CreateInbox {
                kind: switchboard_protocol::model::ChannelKind::Email,
                name: "B mail".into(),
                team_id: w.team_b,
                address: "b@x.test".into(),
                settings: serde_json::json!({}),
            })
            .await
            .unwrap();
        let (other_team, _) = kept_file(&store, &storage, &b_inbox, "bo@example.com", b"%PDF").await;
        let reply = |id: u64, url: String| MutationEnvelope {
            mutation_id: id,
            mutation: Mutation::SendReply(SendReply {
                conversation_id: a.conversation_id,
                client_msg_id: format!("c-{id}"),
                body: "see attached".into(),
                attachments: vec![Attachment { name: "x".into(), mime: "image/png".into(), size: 1, url }],
                choices: None,
            }),
            expected_version: None,
        };
        let head = *store.head().borrow();
        for (id, url) in [
            (1, "https://attacker.example/harvest.png".to_owned()),
            (2, "/api/v1/blobs/999999".to_owned()),
            (3, "//attacker.example/x".to_owned()),
            (4, "/api/v1/conversations".to_owned()),
            (6, other_team.clone()),
        ] {
            let out = store.apply_mutations(&w.agent, "c", vec![reply(id, url.clone())]).await.unwrap();
            match &out[0].outcome {
                Outcome::Rejected { error } => {
                    assert_eq!(error.code, switchboard_protocol::ErrorCode::BadRequest, "{url}");
                    assert!(error.message.contains("not a file kept by this hub"), "{}", error.message);
                }
                other => panic!("{url} was not refused: {other:?}"),
            }
        }
        assert_eq!(*store.head().borrow(), head, "refused replies write nothing");
        let ok = store.apply_mutations(&w.agent, "c", vec![reply(7, kept)]).await.unwrap();
        assert_eq!(ok[0].outcome, Outcome::Applied);
    }
}
