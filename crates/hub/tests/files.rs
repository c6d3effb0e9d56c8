//! Files agents and visitors upload, against a real hub on both engines: a file's type is
//! read from its content, sizes and counts have limits, a repeated upload is the same
//! file, an upload is its uploader's alone until a message takes it, and then whoever may
//! see the message may fetch it. Refused uploads leave nothing behind.
#![allow(clippy::unwrap_used)]

mod common;

use common::{login, open, serve, world, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_hub::store::blobs::MAX_WAITING_UPLOADS;
use switchboard_protocol::files::MAX_FILE_BYTES;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
const PDF: &[u8] = b"%PDF-1.7\n%%EOF\n";

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    /// Uploads `bytes` as `name` to `path` with `token` (and an idempotency key).
    async fn upload(
        &self,
        path: &str,
        token: Option<&str>,
        name: Option<&str>,
        bytes: Vec<u8>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.post(format!("{}{path}", self.base)).body(bytes);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(n) = name {
            req = req.header("x-file-name", n);
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Vec<u8>) {
        let resp = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        (resp.status(), resp.bytes().await.unwrap().to_vec())
    }

    async fn mutate(&self, token: &str, mutations: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}/api/v1/mutations", self.base))
            .bearer_auth(token)
            .json(&json!({"client_id": format!("console-{}", &token[token.len() - 8..]), "mutations": mutations}))
            .send()
            .await
            .unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The files in the hub's file store (temporary files included).
fn stored_files(dir: &std::path::Path) -> usize {
    let Ok(shards) = std::fs::read_dir(dir) else { return 0 };
    shards.map(|s| std::fs::read_dir(s.unwrap().path()).map(Iterator::count).unwrap_or(0)).sum()
}

fn reply(id: u64, conversation: i64, cmid: &str, attachments: Value) -> Value {
    json!({"mutation_id": id, "name": "send_reply", "args": {"conversation_id": conversation, "client_msg_id": cmid, "body": "Here you are", "attachments": attachments}})
}

async fn agents_uploads_are_checked_kept_once_and_scoped(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let conv = store.ingest(common::inbound(&w.sms, "+14155550123", "the label?", "SM1", now_ms())).await.unwrap();
    let hub = serve(store.clone(), Config::default()).await;
    let files = hub.files.as_ref().unwrap().path().to_owned();
    let c = Client { http: reqwest::Client::new(), base: hub.base.clone() };
    let (agent, agent2, outsider) =
        (login(&hub, "agent@x.test").await, login(&hub, "agent2@x.test").await, login(&hub, "bagent@x.test").await);
    let up = "/api/v1/uploads";

    let (status, photo) = c.upload(up, Some(&agent), Some("label%20photo.png"), PNG.to_vec(), Some("k-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");
    assert_eq!((photo["name"].as_str(), photo["mime"].as_str()), (Some("label photo.png"), Some("image/png")));
    assert_eq!(photo["size"], PNG.len());
    let url = photo["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/api/v1/blobs/") && url.len() == "/api/v1/blobs/".len() + 32, "{url}");
    // The same upload again (a lost answer) is the same file.
    let (status, again) = c.upload(up, Some(&agent), Some("label%20photo.png"), PNG.to_vec(), Some("k-1")).await;
    assert_eq!((status, again["url"].as_str()), (StatusCode::CREATED, Some(url.as_str())));
    assert_eq!((db.text("SELECT count(*) FROM blobs"), stored_files(&files)), ("1".to_owned(), 1));

    // Refused: the content is not what the name says, a type a browser would run, too large
    // (said or streamed), no name, no token. Nothing is kept.
    let big = vec![b'a'; usize::try_from(MAX_FILE_BYTES).unwrap() + 1];
    let streamed = reqwest::Body::wrap_stream(futures_util::stream::iter(
        (0..26).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 1024 * 1024])),
    ));
    let unsized_upload = c
        .http
        .post(format!("{}{up}", hub.base))
        .bearer_auth(&agent)
        .header("x-file-name", "notes.txt")
        .body(streamed)
        .send()
        .await
        .unwrap();
    let cases = [
        (
            "named png, is a pdf",
            c.upload(up, Some(&agent), Some("photo.png"), PDF.to_vec(), None).await,
            400,
            "bad_request",
        ),
        (
            "html",
            c.upload(up, Some(&agent), Some("page.html"), b"<html><script>".to_vec(), None).await,
            400,
            "bad_request",
        ),
        ("empty", c.upload(up, Some(&agent), Some("empty.png"), Vec::new(), None).await, 400, "bad_request"),
        ("too large", c.upload(up, Some(&agent), Some("notes.txt"), big, None).await, 413, "payload_too_large"),
        ("no name", c.upload(up, Some(&agent), None, PNG.to_vec(), None).await, 400, "bad_request"),
        ("no token", c.upload(up, None, Some("photo.png"), PNG.to_vec(), None).await, 401, "unauthorized"),
    ];
    for (what, (status, body), want_status, want_code) in cases {
        assert_eq!((status.as_u16(), body["code"].as_str()), (want_status, Some(want_code)), "{what}: {body}");
    }
    assert_eq!(unsized_upload.status(), StatusCode::PAYLOAD_TOO_LARGE, "streamed without a length");
    assert_eq!((db.text("SELECT count(*) FROM blobs"), stored_files(&files)), ("1".to_owned(), 1), "nothing kept");

    // Until a reply takes it, the upload is its uploader's alone.
    assert_eq!(c.get(&url, &agent).await, (StatusCode::OK, PNG.to_vec()));
    assert_eq!(c.get(&url, &agent2).await.0, StatusCode::NOT_FOUND);
    let stolen = c.mutate(&agent2, json!([reply(1, conv.conversation_id, "steal", json!([photo]))])).await;
    assert_eq!(stolen["results"][0]["error"]["code"], "bad_request", "{stolen}");

    // A reply takes it: the hub's name, type and size are kept whatever the client says,
    // and the conversation's team may fetch it; another team may not.
    let lied = json!([{"name": "x.exe", "mime": "application/x-msdownload", "size": 1, "url": url}]);
    let sent = c.mutate(&agent, json!([reply(2, conv.conversation_id, "r-1", lied)])).await;
    assert_eq!(sent["results"][0]["status"], "applied", "{sent}");
    let m = &store.messages_before(&w.agent, conv.conversation_id, None, 1).await.unwrap().messages[0];
    assert_eq!((m.attachments[0].name.as_str(), m.attachments[0].mime.as_str()), ("label photo.png", "image/png"));
    assert_eq!(m.attachments[0].size, PNG.len() as u64);
    assert_eq!(c.get(&url, &agent2).await, (StatusCode::OK, PNG.to_vec()));
    assert_eq!(c.get(&url, &outsider).await.0, StatusCode::NOT_FOUND);

    // An agent may hold so many unsent uploads at once.
    for i in 0..MAX_WAITING_UPLOADS {
        let (status, body) =
            c.upload(up, Some(&agent2), Some("notes.txt"), format!("note {i}\n").into_bytes(), None).await;
        assert_eq!(status, StatusCode::CREATED, "{i}: {body}");
    }
    let (status, body) = c.upload(up, Some(&agent2), Some("notes.txt"), b"one more".to_vec(), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{body}");
    assert_eq!(c.upload(up, Some(&agent), Some("notes.txt"), b"mine".to_vec(), None).await.0, StatusCode::CREATED);
}

async fn visitors_send_and_receive_files(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    common::webchat_inbox(&store, w.team_a, "site-widget").await;
    let hub = serve(store.clone(), Config::default()).await;
    let c = Client { http: reqwest::Client::new(), base: hub.base.clone() };
    let agent = login(&hub, "agent@x.test").await;
    let visit =
        |c: &Client| c.http.post(format!("{}/chat/v1/sessions", c.base)).json(&json!({"inbox": "site-widget"})).send();
    let ada: Value = visit(&c).await.unwrap().json().await.unwrap();
    let ada = ada["token"].as_str().unwrap().to_owned();
    let eve: Value = visit(&c).await.unwrap().json().await.unwrap();
    let eve = eve["token"].as_str().unwrap().to_owned();

    let (status, photo) = c.upload("/chat/v1/files", Some(&ada), Some("broken.png"), PNG.to_vec(), Some("f-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");
    let url = photo["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/chat/v1/files/"), "{url}");
    let forged = c.upload("/chat/v1/files", Some(&ada), Some("photo.png"), b"MZ\x90\0\x03".to_vec(), None).await;
    assert_eq!(forged.1["code"], "bad_request");
    let big = c.upload("/chat/v1/files", Some(&ada), Some("a.txt"), vec![b'a'; 10 * 1024 * 1024 + 1], None).await;
    assert_eq!(big.1["code"], "payload_too_large");

    // Another visitor can neither fetch nor send it.
    assert_eq!(c.get(&url, &eve).await.0, StatusCode::NOT_FOUND);
    let send = |token: &str, client_id: &str, files: Value| {
        c.http
            .post(format!("{}/chat/v1/messages", c.base))
            .bearer_auth(token)
            .json(&json!({"client_id": client_id, "text": "", "files": files}))
            .send()
    };
    let theirs = send(&eve, "e-1", json!([url])).await.unwrap();
    assert_eq!(theirs.status(), StatusCode::BAD_REQUEST);
    let nothing = send(&ada, "a-0", json!([])).await.unwrap();
    assert_eq!(nothing.status(), StatusCode::BAD_REQUEST, "no text and no file");

    let line: Value = send(&ada, "a-1", json!([url])).await.unwrap().json().await.unwrap();
    assert_eq!(line["attachments"][0]["url"], url, "{line}");
    assert_eq!(c.get(&url, &ada).await, (StatusCode::OK, PNG.to_vec()));

    // The agent sees the visitor's file and answers with one of their own.
    let boot: Value = common::get_json(format!("{}/api/v1/sync/bootstrap", c.base), &agent).await;
    let conv = boot["conversations"].as_array().unwrap().iter().find(|c| c["channel"] == "webchat").unwrap().clone();
    let conv_id = conv["id"].as_i64().unwrap();
    let m = &store.messages_before(&w.agent, conv_id, None, 1).await.unwrap().messages[0];
    assert_eq!(m.attachments[0].mime, "image/png");
    assert_eq!(c.get(&m.attachments[0].url, &agent).await, (StatusCode::OK, PNG.to_vec()));
    let (_, pdf) = c.upload("/api/v1/uploads", Some(&agent), Some("instructions.pdf"), PDF.to_vec(), None).await;
    let sent = c.mutate(&agent, json!([reply(1, conv_id, "r-1", json!([pdf]))])).await;
    assert_eq!(sent["results"][0]["status"], "applied", "{sent}");
    let history: Value = common::get_json(format!("{}/chat/v1/messages", c.base), &ada).await;
    let answer = history["messages"].as_array().unwrap().iter().find(|m| m["author"] == "agent").unwrap().clone();
    let theirs = answer["attachments"][0]["url"].as_str().unwrap();
    assert!(theirs.starts_with("/chat/v1/files/"), "{answer}");
    assert_eq!(c.get(theirs, &ada).await, (StatusCode::OK, PDF.to_vec()));
    assert_eq!(c.get(theirs, &eve).await.0, StatusCode::NOT_FOUND);
}

both_engines!(agents_uploads_are_checked_kept_once_and_scoped, visitors_send_and_receive_files);
