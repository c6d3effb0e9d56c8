//! Web chat and in-app chat over the real visitor API: visits that resume across page
//! loads, replies pushed live over the visitor's socket with delivery and read reported to
//! agents, visitors joining the customer with the email they leave, app users verified by
//! the business's signature, and every kind of bad input refused without storing anything.
#![allow(clippy::unwrap_used)]

mod common;

use common::{add_agent, login, open, serve, sqlite_db, Hub};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use switchboard_hub::config::Config;
use switchboard_hub::store::ingest::Inbound;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};

const SECRET: &str = "app-identity-secret";

struct Setup {
    hub: Hub,
    http: reqwest::Client,
    agent: String,
    email_inbox: i64,
    _db: common::TestDb,
}

async fn setup() -> Setup {
    let db = sqlite_db();
    let store = open(&db);
    let team = store.create_team("Support").await.unwrap().id;
    add_agent(&store, "Maya Okafor", "maya@x.test", Role::Agent, vec![team]).await;
    let mk = |kind, address: &str, settings: Value| CreateInbox {
        kind,
        name: format!("{kind} inbox"),
        team_id: team,
        address: address.into(),
        settings,
    };
    store.create_inbox(mk(ChannelKind::Webchat, "site-widget", json!({}))).await.unwrap();
    store
        .create_inbox(mk(ChannelKind::Webchat, "shop-widget", json!({"allowed_origins": ["https://shop.example"]})))
        .await
        .unwrap();
    store.create_inbox(mk(ChannelKind::InApp, "mobile-app", json!({"identity_secret": SECRET}))).await.unwrap();
    // A list given as one string: the chat must stop, not drop its origin check.
    store
        .create_inbox(mk(ChannelKind::Webchat, "broken-widget", json!({"allowed_origins": "https://shop.example"})))
        .await
        .unwrap();
    let email_inbox = store
        .create_inbox(mk(
            ChannelKind::Email,
            "help@northwind.example",
            json!({"inbound_secret": "s", "delivery": "simulated"}),
        ))
        .await
        .unwrap()
        .id;
    let hub = serve(store, Config { heartbeat_secs: 1, max_body_bytes: 128 * 1024, ..Config::default() }).await;
    let agent = login(&hub, "maya@x.test").await;
    Setup { hub, http: reqwest::Client::new(), agent, email_inbox, _db: db }
}

fn user_hash(id: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

impl Setup {
    fn head(&self) -> i64 {
        *self.hub.store.head().borrow()
    }

    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.hub.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        };
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    async fn visit(&self, body: Value) -> Value {
        let (status, visit) = self.call("POST", "/chat/v1/sessions", None, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{visit}");
        visit
    }

    async fn say(&self, token: &str, client_id: &str, text: &str) -> Value {
        let (status, line) = self
            .call("POST", "/chat/v1/messages", Some(token), Some(json!({"client_id": client_id, "text": text})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{line}");
        line
    }

    async fn bootstrap(&self) -> Value {
        let (status, b) =
            self.call("GET", "/api/v1/sync/bootstrap?messages_per_conversation=100", Some(&self.agent), None).await;
        assert_eq!(status, StatusCode::OK);
        b
    }

    async fn conversation(&self, id: i64) -> Value {
        let b = self.bootstrap().await;
        b["conversations"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap().clone()
    }

    async fn reply(&self, conversation: i64, client_msg_id: &str, text: &str) {
        let (status, r) = self
            .call(
                "POST",
                "/api/v1/mutations",
                Some(&self.agent),
                Some(json!({"client_id": format!("console-{client_msg_id}"), "mutations": [{"mutation_id": 1, "name": "send_reply",
                    "args": {"conversation_id": conversation, "client_msg_id": client_msg_id, "body": text}}]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(r["results"][0]["status"], "applied", "{r}");
    }

    async fn delivery_of(&self, conversation: i64, client_msg_id: &str) -> String {
        let (_, page) =
            self.call("GET", &format!("/api/v1/conversations/{conversation}/messages"), Some(&self.agent), None).await;
        let m = page["messages"].as_array().unwrap().iter().find(|m| m["client_msg_id"] == client_msg_id).cloned();
        m.map(|m| m["delivery"].as_str().unwrap().to_owned()).unwrap_or_default()
    }

    async fn wait_delivery(&self, conversation: i64, client_msg_id: &str, want: &str) {
        for _ in 0..100 {
            if self.delivery_of(conversation, client_msg_id).await == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{client_msg_id} never became {want}: {}", self.delivery_of(conversation, client_msg_id).await);
    }

    async fn socket(&self, token: &str) -> Socket {
        let (ws, _) = tokio_tungstenite::connect_async(visitor_socket(self.hub.addr, token)).await.unwrap();
        Socket(ws)
    }
}

/// A visitor socket request as a browser makes it: the token offered as a subprotocol.
fn visitor_socket(
    addr: std::net::SocketAddr,
    token: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/chat/v1/socket").into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", format!("switchboard, bearer.{token}").parse().unwrap());
    req
}

struct Socket(tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>);

impl Socket {
    /// The next message frame, skipping heartbeats.
    async fn next_message(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.0.next()).await.unwrap().unwrap().unwrap();
            let v: Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
            if v["type"] == "message" {
                return v["message"].clone();
            }
            assert_eq!(v["type"], "heartbeat", "{v}");
        }
    }
}

#[tokio::test]
async fn a_visitor_writes_and_sees_replies_live_with_delivery_and_read_reported() {
    let s = setup().await;
    let visit = s.visit(json!({"inbox": "site-widget"})).await;
    assert_eq!(visit["resumed"], false);
    assert_eq!(visit["inbox_name"], "webchat inbox");
    assert_eq!(visit["messages"], json!([]));
    let token = visit["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("sbv1."));

    let line = s.say(&token, "m1", "Hi, is the blue kettle back in stock?").await;
    assert_eq!(line["author"], "visitor");
    assert_eq!(line["client_id"], "m1");
    let conversation = {
        let b = s.bootstrap().await;
        let c = b["conversations"].as_array().unwrap().iter().find(|c| c["channel"] == "webchat").unwrap().clone();
        assert_eq!(c["status"], "open");
        assert_eq!(c["preview"], "Hi, is the blue kettle back in stock?");
        c["id"].as_i64().unwrap()
    };

    let mut socket = s.socket(&token).await;
    s.reply(conversation, "r1", "It is! Shall I reserve one?").await;
    let pushed = socket.next_message().await;
    assert_eq!(pushed["author"], "agent");
    assert_eq!(pushed["agent_name"], "Maya Okafor");
    assert_eq!(pushed["text"], "It is! Shall I reserve one?");
    s.wait_delivery(conversation, "r1", "delivered").await;

    let (status, _) = s.call("POST", "/chat/v1/read", Some(&token), Some(json!({"message_id": pushed["id"]}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    s.wait_delivery(conversation, "r1", "read").await;

    // Notes and system lines never reach the visitor.
    let (_, r) = s
        .call(
            "POST",
            "/api/v1/mutations",
            Some(&s.agent),
            Some(json!({"client_id": "console-notes", "mutations": [{"mutation_id": 1, "name": "add_note",
                "args": {"conversation_id": conversation, "client_msg_id": "n1", "body": "VIP, check stock in Leeds"}}]})),
        )
        .await;
    assert_eq!(r["results"][0]["status"], "applied");
    s.reply(conversation, "r2", "Reserved.").await;
    assert_eq!(socket.next_message().await["text"], "Reserved.", "the note was skipped");
    let (_, history) = s.call("GET", "/chat/v1/messages", Some(&token), None).await;
    let texts: Vec<&str> =
        history["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Hi, is the blue kettle back in stock?", "It is! Shall I reserve one?", "Reserved."]);
}

#[tokio::test]
async fn a_visitor_keeps_one_thread_across_visits_and_a_repeated_send_is_stored_once() {
    let s = setup().await;
    let token = s.visit(json!({"inbox": "site-widget"})).await["token"].as_str().unwrap().to_owned();
    let first = s.say(&token, "m1", "Hello").await;
    let (status, again) =
        s.call("POST", "/chat/v1/messages", Some(&token), Some(json!({"client_id": "m1", "text": "Hello"}))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"], "the retry answers the stored line");

    let visit = s.visit(json!({"inbox": "site-widget", "token": token})).await;
    assert_eq!(visit["resumed"], true);
    assert_eq!(visit["token"], token.as_str());
    assert_eq!(visit["messages"].as_array().unwrap().len(), 1);
    s.say(&token, "m2", "Still there?").await;
    let b = s.bootstrap().await;
    let chats: Vec<&Value> =
        b["conversations"].as_array().unwrap().iter().filter(|c| c["channel"] == "webchat").collect();
    assert_eq!(chats.len(), 1, "one conversation across both visits");

    // Another browser is another visitor, and a stale token starts afresh instead of failing.
    let other = s.visit(json!({"inbox": "site-widget", "token": format!("sbv1.999.{}", "ab".repeat(32))})).await;
    assert_eq!(other["resumed"], false);
    assert_ne!(other["token"], token.as_str());
    assert_eq!(other["messages"], json!([]));
    // A token of one inbox does not resume a visit in another.
    let elsewhere =
        s.visit(json!({"inbox": "mobile-app", "token": token, "user": {"id": "u1", "hash": user_hash("u1")}})).await;
    assert_eq!(elsewhere["resumed"], false);

    let (_, older) =
        s.call("GET", &format!("/chat/v1/messages?before={}&limit=5", first["id"]), Some(&token), None).await;
    assert_eq!(older, json!({"messages": [], "has_more": false}));
}

/// Finding: an anonymous visitor who typed Alice's email was merged into Alice (their chat
/// in her history, beside her CRM card), and a second claim merged Alice into Bob. An email
/// a visitor types is now a claim: kept on their own customer as unverified, joining and
/// merging nobody, at most five an hour. Only an email the business's server signs joins.
#[tokio::test]
async fn a_visitor_who_claims_an_email_merges_no_one() {
    let s = setup().await;
    // Jo emailed before.
    let mut mail = Inbound::text(s.email_inbox, "jo@example.com", "Invoice question", Some("<a@mail>"), 1_000);
    mail.display_name = Some("Jo Park".into());
    let jo = s.hub.store.ingest(mail).await.unwrap().contact_id;

    // On the website, someone writes and then claims Jo's email, then Bob's.
    let token = s.visit(json!({"inbox": "site-widget"})).await["token"].as_str().unwrap().to_owned();
    s.say(&token, "m1", "It's Jo again, about that invoice").await;
    for claim in [" Jo@Example.com ", "bob@example.com", "jo@example.com"] {
        let (status, _) =
            s.call("POST", "/chat/v1/profile", Some(&token), Some(json!({"email": claim, "name": "Jo"}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let b = s.bootstrap().await;
    let chat = b["conversations"].as_array().unwrap().iter().find(|c| c["channel"] == "webchat").unwrap();
    assert_ne!(chat["contact_id"], jo, "the web chat is not Jo's");
    let contacts = b["contacts"].as_array().unwrap();
    let jo_contact = contacts.iter().find(|c| c["id"] == jo).unwrap();
    let channels: Vec<&str> =
        jo_contact["identities"].as_array().unwrap().iter().map(|i| i["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["email"], "Jo is untouched: {jo_contact}");
    let visitor = contacts.iter().find(|c| c["id"] == chat["contact_id"]).unwrap();
    assert_eq!(visitor["profile"]["email (unverified)"], "jo@example.com", "{visitor}");
    assert_eq!(visitor["name"], "Jo");
    let kinds: Vec<&str> =
        visitor["identities"].as_array().unwrap().iter().map(|i| i["channel"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["webchat"], "a claim adds no address to find or merge by: {visitor}");
    assert_eq!(s.visit(json!({"inbox": "site-widget", "token": token})).await["email"], "jo@example.com");

    // Claims are bounded: five an hour.
    for n in 0..2 {
        let email = format!("guess{n}@example.com");
        let (status, _) = s.call("POST", "/chat/v1/profile", Some(&token), Some(json!({"email": email}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (status, body) =
        s.call("POST", "/chat/v1/profile", Some(&token), Some(json!({"email": "sixth@example.com"}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")));
    assert!(body["retry_after"].as_u64().unwrap() > 0);

    // A new visitor who leaves an email nobody has yet, before writing: the customer their
    // first message creates shows it, unverified, under their name.
    let token = s.visit(json!({"inbox": "site-widget"})).await["token"].as_str().unwrap().to_owned();
    let (status, _) = s
        .call("POST", "/chat/v1/profile", Some(&token), Some(json!({"email": "sam@example.org", "name": "Sam Lee"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    s.say(&token, "m1", "Do you ship to Canada?").await;
    let b = s.bootstrap().await;
    let sam =
        b["contacts"].as_array().unwrap().iter().find(|c| c["name"] == "Sam Lee").expect("named after the visitor");
    assert_eq!(sam["profile"]["email (unverified)"], "sam@example.org", "{sam}");
    assert_eq!(sam["identities"].as_array().unwrap().len(), 1, "{sam}");

    // An app that signs the user's email too: that user is Jo.
    let signed = json!({"inbox": "mobile-app", "user": {"id": "jo-7", "hash": user_hash("jo-7"),
        "email": "jo@example.com", "email_hash": user_hash("jo@example.com")}});
    let app = s.visit(signed).await["token"].as_str().unwrap().to_owned();
    s.say(&app, "a1", "Invoice, from the app").await;
    let b = s.bootstrap().await;
    let in_app = b["conversations"].as_array().unwrap().iter().find(|c| c["channel"] == "in_app").unwrap();
    assert_eq!(in_app["contact_id"], jo, "the app vouched for Jo's email");
    // The same email unsigned is only a claim.
    let unsigned =
        json!({"inbox": "mobile-app", "user": {"id": "mo-8", "hash": user_hash("mo-8"), "email": "jo@example.com"}});
    let app = s.visit(unsigned).await["token"].as_str().unwrap().to_owned();
    s.say(&app, "a1", "Hi from Mo").await;
    let b = s.bootstrap().await;
    let mo = b["conversations"].as_array().unwrap().iter().find(|c| c["customer_address"] == "user:mo-8").unwrap();
    assert_ne!(mo["contact_id"], jo);
}

#[tokio::test]
async fn app_users_signed_by_the_business_get_one_thread_on_every_device() {
    let s = setup().await;
    let user = |id: &str, hash: String| json!({"inbox": "mobile-app", "user": {"id": id, "hash": hash, "name": "Ada Lovelace", "email": "ada@example.com"}});
    let phone = s.visit(user("ada-1", user_hash("ada-1"))).await;
    let tablet = s.visit(user("ada-1", user_hash("ada-1"))).await;
    let (phone, tablet) = (phone["token"].as_str().unwrap().to_owned(), tablet["token"].as_str().unwrap().to_owned());
    assert_ne!(phone, tablet);

    let mut on_tablet = s.socket(&tablet).await;
    s.say(&phone, "p1", "My order never arrived").await;
    let seen = on_tablet.next_message().await;
    assert_eq!(seen["text"], "My order never arrived");
    assert_eq!(seen["author"], "visitor");

    let b = s.bootstrap().await;
    let conv = b["conversations"].as_array().unwrap().iter().find(|c| c["channel"] == "in_app").unwrap().clone();
    assert_eq!(conv["customer_address"], "user:ada-1");
    let contact = b["contacts"].as_array().unwrap().iter().find(|c| c["id"] == conv["contact_id"]).unwrap();
    assert_eq!(contact["name"], "Ada Lovelace");
    s.reply(conv["id"].as_i64().unwrap(), "r1", "Sorry Ada, a courier is on the way").await;
    assert_eq!(on_tablet.next_message().await["text"], "Sorry Ada, a courier is on the way");
    let resumed = s
        .visit(json!({"inbox": "mobile-app", "token": phone, "user": {"id": "ada-1", "hash": user_hash("ada-1")}}))
        .await;
    assert_eq!(resumed["resumed"], true);
    assert_eq!(resumed["messages"].as_array().unwrap().len(), 2);
    assert_eq!(s.conversation(conv["id"].as_i64().unwrap()).await["status"], "open");
}

#[tokio::test]
async fn bad_visitor_input_is_refused_and_stores_nothing() {
    let s = setup().await;
    let token = s.visit(json!({"inbox": "site-widget"})).await["token"].as_str().unwrap().to_owned();
    s.say(&token, "m1", "first").await;
    let other = s.visit(json!({"inbox": "site-widget"})).await["token"].as_str().unwrap().to_owned();
    let theirs = s.say(&other, "o1", "someone else's line").await;
    let head = s.head();
    // The same token with its last character changed (to one it certainly was not).
    let last = if token.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &token[..token.len() - 1]);

    let raw = |path: &str, token: Option<&str>, body: &str| {
        let mut req = s.http.post(format!("{}{path}", s.hub.base)).header("content-type", "application/json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.body(body.to_owned()).send()
    };
    let cases: Vec<(&str, reqwest::Response, u16, &str)> = vec![
        (
            "malformed json",
            raw("/chat/v1/messages", Some(&token), "{\"client_id\":").await.unwrap(),
            400,
            "bad_request",
        ),
        (
            "unknown field",
            raw("/chat/v1/messages", Some(&token), r#"{"client_id":"x","text":"y","html":"<b>"}"#).await.unwrap(),
            400,
            "bad_request",
        ),
        (
            "no token",
            raw("/chat/v1/messages", None, r#"{"client_id":"x","text":"y"}"#).await.unwrap(),
            401,
            "unauthorized",
        ),
        (
            "forged token",
            raw("/chat/v1/messages", Some(&forged), r#"{"client_id":"x","text":"y"}"#).await.unwrap(),
            401,
            "unauthorized",
        ),
        (
            "agent token",
            raw("/chat/v1/messages", Some(&s.agent), r#"{"client_id":"x","text":"y"}"#).await.unwrap(),
            401,
            "unauthorized",
        ),
        (
            "bad client id",
            raw("/chat/v1/messages", Some(&token), r#"{"client_id":"a b","text":"y"}"#).await.unwrap(),
            400,
            "bad_request",
        ),
        (
            "empty text",
            raw("/chat/v1/messages", Some(&token), r#"{"client_id":"e1","text":"   "}"#).await.unwrap(),
            400,
            "bad_request",
        ),
        (
            "too long",
            raw("/chat/v1/messages", Some(&token), &json!({"client_id": "l1", "text": "x".repeat(70_000)}).to_string())
                .await
                .unwrap(),
            400,
            "bad_request",
        ),
        (
            "too large",
            raw(
                "/chat/v1/messages",
                Some(&token),
                &json!({"client_id": "l2", "text": "x".repeat(200_000)}).to_string(),
            )
            .await
            .unwrap(),
            413,
            "payload_too_large",
        ),
        ("unknown inbox", raw("/chat/v1/sessions", None, r#"{"inbox":"nope"}"#).await.unwrap(), 404, "not_found"),
        (
            "not a chat inbox",
            raw("/chat/v1/sessions", None, r#"{"inbox":"help@northwind.example"}"#).await.unwrap(),
            404,
            "not_found",
        ),
        (
            "app user required",
            raw("/chat/v1/sessions", None, r#"{"inbox":"mobile-app"}"#).await.unwrap(),
            401,
            "unauthorized",
        ),
        (
            "forged app user",
            raw(
                "/chat/v1/sessions",
                None,
                &json!({"inbox": "mobile-app", "user": {"id": "ada-1", "hash": user_hash("ada-2")}}).to_string(),
            )
            .await
            .unwrap(),
            403,
            "forbidden",
        ),
        (
            "user on an inbox without a secret",
            raw(
                "/chat/v1/sessions",
                None,
                &json!({"inbox": "site-widget", "user": {"id": "u", "hash": "00"}}).to_string(),
            )
            .await
            .unwrap(),
            400,
            "bad_request",
        ),
        (
            "bad email",
            raw("/chat/v1/profile", Some(&token), r#"{"email":"not an email"}"#).await.unwrap(),
            400,
            "bad_request",
        ),
        (
            "someone else's line",
            raw("/chat/v1/read", Some(&token), &json!({"message_id": theirs["id"]}).to_string()).await.unwrap(),
            404,
            "not_found",
        ),
    ];
    for (what, resp, status, code) in cases {
        assert_eq!(resp.status().as_u16(), status, "{what}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], code, "{what}: {body}");
        assert!(!body["message"].as_str().unwrap().is_empty(), "{what}");
    }
    let origin = s
        .http
        .post(format!("{}/chat/v1/sessions", s.hub.base))
        .header("origin", "https://evil.example")
        .json(&json!({"inbox": "shop-widget"}))
        .send()
        .await
        .unwrap();
    assert_eq!(origin.status(), 403, "a site the inbox does not list");
    let allowed = s
        .http
        .post(format!("{}/chat/v1/sessions", s.hub.base))
        .header("origin", "https://shop.example")
        .json(&json!({"inbox": "shop-widget"}))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(allowed.headers()["access-control-allow-origin"], "*");
    let shop_token = allowed.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    let socket_from = |origin: &'static str| {
        let mut req = visitor_socket(s.hub.addr, &shop_token);
        req.headers_mut().insert("origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    match socket_from("https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("another site opened the shop's socket: {other:?}"),
    }
    assert!(socket_from("https://shop.example").await.is_ok());
    let (status, body) = s.call("GET", "/chat/v1/messages?limit=0", Some(&token), None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let socket =
        tokio_tungstenite::connect_async(visitor_socket(s.hub.addr, &format!("sbv1.1.{}", "00".repeat(32)))).await;
    match socket {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("a forged socket token was accepted: {other:?}"),
    }
    assert_eq!(s.head(), head, "nothing was stored");
    let (_, history) = s.call("GET", "/chat/v1/messages", Some(&token), None).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_widget_script_is_served_for_any_site() {
    let s = setup().await;
    let resp = s.http.get(format!("{}/widget.js", s.hub.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let js = resp.text().await.unwrap();
    assert!(js.contains("/chat/v1/sessions") && js.contains("attachShadow"));
    assert!(!js.contains("innerHTML"), "the widget never renders text as HTML");
    let preflight = s
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/chat/v1/messages", s.hub.base))
        .header("origin", "https://any.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}
