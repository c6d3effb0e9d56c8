//! The visitor API under abuse, against a real hub on both engines: sockets per visitor and
//! per client, small socket frames, lines routed to the right visitor only, chats and
//! messages rate-limited per client and per visitor, idle visitors forgotten, and a
//! visitor an agent blocked shut out.
#![allow(clippy::unwrap_used)]

mod common;

use common::{add_agent, login, open, serve, TestDb};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use switchboard_hub::config::Config;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct Site {
    hub: common::Hub,
    http: reqwest::Client,
}

impl Site {
    async fn new(db: &TestDb) -> Site {
        let store = open(db);
        let team = store.create_team("Support").await.unwrap().id;
        add_agent(&store, "Maya Okafor", "maya@x.test", Role::Agent, vec![team]).await;
        let inbox = CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Site".into(),
            team_id: team,
            address: "site-widget".into(),
            settings: json!({}),
        };
        store.create_inbox(inbox).await.unwrap();
        // Loopback is a trusted proxy, so each test can speak as many clients; sockets beat
        // every second, so a blocked visitor's socket closes within seconds.
        let config =
            Config { trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()], heartbeat_secs: 1, ..Config::default() };
        Site { hub: serve(store, config).await, http: reqwest::Client::new() }
    }

    async fn call(&self, path: &str, token: Option<&str>, client: &str, body: Value) -> (StatusCode, Value) {
        let mut req = self.http.post(format!("{}{path}", self.hub.base)).header("x-forwarded-for", client);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.json(&body).send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn visit(&self, client: &str) -> String {
        let (s, body) = self.call("/chat/v1/sessions", None, client, json!({"inbox": "site-widget"})).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn say(&self, token: &str, client: &str, n: u32) -> StatusCode {
        let body = json!({"client_id": format!("m{n}"), "text": format!("message {n}")});
        self.call("/chat/v1/messages", Some(token), client, body).await.0
    }

    async fn socket(&self, token: &str, client: &str) -> Result<Ws, u16> {
        let mut req = format!("ws://{}/chat/v1/socket", self.hub.addr).into_client_request().unwrap();
        let h = req.headers_mut();
        h.insert("sec-websocket-protocol", format!("switchboard, bearer.{token}").parse().unwrap());
        h.insert("x-forwarded-for", client.parse().unwrap());
        match tokio_tungstenite::connect_async(req).await {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(e) => panic!("{e}"),
        }
    }

    /// An agent's `GET` of the agent API, as JSON.
    async fn agent_get(&self, token: &str, path: &str) -> Value {
        let resp = self.http.get(format!("{}{path}", self.hub.base)).bearer_auth(token).send().await.unwrap();
        resp.json().await.unwrap()
    }

    async fn messages_stored(&self) -> usize {
        let token = login(&self.hub, "maya@x.test").await;
        let boot = self.agent_get(&token, "/api/v1/sync/bootstrap").await;
        boot["messages"].as_array().map_or(0, Vec::len)
    }
}

/// The next message frame's text, skipping heartbeats; `None` when the socket closes or
/// nothing comes within `wait`.
async fn next_line(ws: &mut Ws, wait: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next()).await.ok()??.ok()?;
        let v: Value = serde_json::from_str(frame.to_text().ok()?).ok()?;
        if v["type"] == "message" {
            return Some(v["message"]["text"].as_str()?.to_owned());
        }
    }
}

both_engines!(
    one_visitor_token_opens_a_few_sockets_and_one_client_a_bounded_number,
    a_visitor_socket_takes_only_small_frames,
    each_visitor_hears_only_their_own_thread,
    chats_and_messages_are_rate_limited_per_client_and_per_visitor,
    idle_visitors_expire_and_are_forgotten_but_their_conversations_stay,
    an_agent_blocks_a_visitor,
);

/// Finding 6: one token opened unlimited sockets. Five per visitor, fifty per client.
async fn one_visitor_token_opens_a_few_sockets_and_one_client_a_bounded_number(db: &TestDb) {
    let site = Site::new(db).await;
    let token = site.visit("203.0.113.1").await;
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(site.socket(&token, "203.0.113.1").await.unwrap());
    }
    assert_eq!(site.socket(&token, "203.0.113.1").await.err(), Some(429));
    drop(open.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    open.push(site.socket(&token, "203.0.113.1").await.expect("a closed socket gives its place back"));
    // One client address, many visitors: fifty sockets, then no more.
    let office = "198.51.100.50";
    let mut admitted = 0;
    let mut refused = 0;
    for _ in 0..11 {
        let t = site.visit(office).await;
        for _ in 0..5 {
            match site.socket(&t, office).await {
                Ok(ws) => {
                    open.push(ws);
                    admitted += 1;
                }
                Err(429) => refused += 1,
                Err(other) => panic!("{other}"),
            }
        }
    }
    assert_eq!((admitted, refused), (50, 5));
}

/// Finding 6: a visitor's socket accepted 64 MiB messages. It accepts 4 KiB.
async fn a_visitor_socket_takes_only_small_frames(db: &TestDb) {
    let site = Site::new(db).await;
    let token = site.visit("203.0.113.2").await;
    let mut ws = site.socket(&token, "203.0.113.2").await.unwrap();
    let _ = ws.send(WsMessage::text("x".repeat(64 * 1024))).await;
    assert!(common::closes(&mut ws, Duration::from_secs(5)).await);
}

/// Finding 6: every socket parsed every change of the workspace. Lines are routed by
/// thread: each visitor's socket hears their own lines and nobody else's.
async fn each_visitor_hears_only_their_own_thread(db: &TestDb) {
    let site = Site::new(db).await;
    let ana = site.visit("203.0.113.3").await;
    let ben = site.visit("203.0.113.4").await;
    let mut ana_ws = site.socket(&ana, "203.0.113.3").await.unwrap();
    let mut ben_ws = site.socket(&ben, "203.0.113.4").await.unwrap();
    // Idle sockets of other visitors cost nothing and hear nothing.
    let mut idle = Vec::new();
    for i in 0..20 {
        let client = format!("192.0.2.{i}");
        let t = site.visit(&client).await;
        idle.push(site.socket(&t, &client).await.unwrap());
    }
    assert_eq!(site.say(&ana, "203.0.113.3", 1).await, StatusCode::CREATED);
    assert_eq!(next_line(&mut ana_ws, Duration::from_secs(5)).await.as_deref(), Some("message 1"));
    assert_eq!(site.say(&ben, "203.0.113.4", 2).await, StatusCode::CREATED);
    assert_eq!(next_line(&mut ben_ws, Duration::from_secs(5)).await.as_deref(), Some("message 2"));
    assert_eq!(next_line(&mut ana_ws, Duration::from_millis(500)).await, None, "Ana never hears Ben");
    for ws in &mut idle {
        assert_eq!(next_line(ws, Duration::from_millis(50)).await, None);
    }
}

/// Finding 6: nothing limited how fast a client starts chats or a visitor sends. Twenty
/// chats per client at once, then one every three seconds; twenty messages per visitor,
/// then one a second; refused messages are not stored.
async fn chats_and_messages_are_rate_limited_per_client_and_per_visitor(db: &TestDb) {
    let site = Site::new(db).await;
    let bot = "203.0.113.66";
    let mut started = 0;
    let mut refused = 0;
    for _ in 0..25 {
        let (s, body) = site.call("/chat/v1/sessions", None, bot, json!({"inbox": "site-widget"})).await;
        match s {
            StatusCode::OK => started += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["code"], "rate_limited");
                assert!(body["retry_after"].as_u64().unwrap() >= 1);
                refused += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!((started, refused), (20, 5));
    // Another client is not held up by the first.
    let token = site.visit("198.51.100.7").await;
    let mut sent = 0;
    for n in 0..25 {
        match site.say(&token, "198.51.100.7", n).await {
            StatusCode::CREATED => sent += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("{other}"),
        }
    }
    assert!((20..=21).contains(&sent), "{sent} of 25 messages taken at once");
    assert_eq!(site.messages_stored().await, sent, "refused messages are not stored");
}

/// Finding 6: visitors never expired. One unused for `visitor_idle_days` is refused (the
/// widget starts a new chat) and forgotten; one who never wrote is forgotten after a day;
/// conversations stay.
async fn idle_visitors_expire_and_are_forgotten_but_their_conversations_stay(db: &TestDb) {
    let site = Site::new(db).await;
    let talker = site.visit("203.0.113.8").await;
    assert_eq!(site.say(&talker, "203.0.113.8", 1).await, StatusCode::CREATED);
    let _silent = site.visit("203.0.113.9").await;
    db.execute("UPDATE visitors SET last_seen_at = last_seen_at - 86400001");
    let (s, _) = site.call("/chat/v1/read", Some(&talker), "203.0.113.8", json!({"message_id": 1})).await;
    assert_ne!(s, StatusCode::UNAUTHORIZED, "a day is not yet idle for a visitor who wrote");
    assert_eq!(site.hub.store.prune_visitors(30 * 86_400_000, 100).await.unwrap(), 1, "the silent visitor goes");
    db.execute("UPDATE visitors SET last_seen_at = last_seen_at - 2592000000");
    let (s, body) = site.call("/chat/v1/read", Some(&talker), "203.0.113.8", json!({"message_id": 1})).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{body}");
    assert_eq!(site.hub.store.prune_visitors(30 * 86_400_000, 100).await.unwrap(), 1);
    assert_eq!(site.messages_stored().await, 1, "the conversation stays");
    // The widget's stored token now starts a new chat.
    let (s, body) =
        site.call("/chat/v1/sessions", None, "203.0.113.8", json!({"inbox": "site-widget", "token": talker})).await;
    assert_eq!((s, body["resumed"].as_bool()), (StatusCode::OK, Some(false)));
}

/// Finding 6: agents could not block a visitor. Blocking closes their socket, refuses their
/// messages and their token, keeps their address from starting a new chat for a day, and
/// says so in the thread; letting them back undoes it.
async fn an_agent_blocks_a_visitor(db: &TestDb) {
    let site = Site::new(db).await;
    let spam = "203.0.113.13";
    let token = site.visit(spam).await;
    assert_eq!(site.say(&token, spam, 1).await, StatusCode::CREATED);
    let mut ws = site.socket(&token, spam).await.unwrap();
    let agent = login(&site.hub, "maya@x.test").await;
    let boot = site.agent_get(&agent, "/api/v1/sync/bootstrap").await;
    let conversation = boot["conversations"][0]["id"].as_i64().unwrap();
    let block = |blocked: bool, id: u64| {
        let body = json!({"client_id": "console-1", "mutations": [
            {"mutation_id": id, "name": "block_visitor", "args": {"conversation_id": conversation, "blocked": blocked}}
        ]});
        site.http.post(format!("{}/api/v1/mutations", site.hub.base)).bearer_auth(&agent).json(&body).send()
    };
    let answer: Value = block(true, 1).await.unwrap().json().await.unwrap();
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
    assert_eq!(site.say(&token, spam, 2).await, StatusCode::FORBIDDEN);
    let (s, body) = site.call("/chat/v1/sessions", None, spam, json!({"inbox": "site-widget"})).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "a new chat from there");
    assert!(site.socket(&token, spam).await.is_err());
    // The open socket closes within a few heartbeats.
    assert!(common::closes(&mut ws, Duration::from_secs(15)).await);
    // Someone else, elsewhere, still chats.
    let other = site.visit("198.51.100.77").await;
    assert_eq!(site.say(&other, "198.51.100.77", 3).await, StatusCode::CREATED);
    // The thread tells agents.
    let history = site.agent_get(&agent, &format!("/api/v1/conversations/{conversation}/messages")).await;
    assert!(history.to_string().contains("blocked this visitor"), "{history}");
    block(false, 2).await.unwrap();
    assert_eq!(site.say(&token, spam, 4).await, StatusCode::CREATED);
    assert_eq!(site.call("/chat/v1/sessions", None, spam, json!({"inbox": "site-widget"})).await.0, StatusCode::OK);
}
