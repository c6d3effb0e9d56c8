//! The agent API over HTTP and WebSocket against a real hub on 127.0.0.1:0.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, login, open, serve, sqlite_db, world, Hub, World};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_protocol::sync::{Change, StreamFrame};

struct Api {
    hub: Hub,
    http: reqwest::Client,
}

impl Api {
    async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.hub.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: Option<&str>, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post_raw(token, path, body.to_string()).await
    }

    async fn post_raw(&self, token: Option<&str>, path: &str, body: String) -> (StatusCode, Value) {
        let mut req =
            self.http.post(format!("{}{path}", self.hub.base)).header("content-type", "application/json").body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    fn head(&self) -> i64 {
        *self.hub.store.head().borrow()
    }
}

async fn setup(config: Config) -> (Api, World, common::TestDb) {
    let db = sqlite_db();
    let store = open(&db);
    let w = world(&store).await;
    let hub = serve(store, config).await;
    (Api { hub, http: reqwest::Client::new() }, w, db)
}

fn mutation(id: u64, name: &str, args: Value) -> Value {
    json!({"mutation_id": id, "name": name, "args": args})
}

/// Every role against every mutation, through the API with real tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_against_every_mutation() {
    let (api, w, _db) = setup(Config::default()).await;
    let roles = [
        ("agent", "agent@x.test", w.agent.agent_id),
        ("lead", "lead@x.test", w.lead.agent_id),
        ("admin", "admin@x.test", w.admin.agent_id),
        ("outsider", "bagent@x.test", w.b_agent.agent_id),
    ];
    // (mutation, expected status per role: agent, lead, admin, agent of another team)
    type Case = (&'static str, [&'static str; 4]);
    let cases: [Case; 10] = [
        ("send_reply", ["applied", "applied", "applied", "not_found"]),
        ("add_note", ["applied", "applied", "applied", "not_found"]),
        ("claim", ["applied", "applied", "applied", "not_found"]),
        ("reassign_someone_elses", ["forbidden", "applied", "applied", "not_found"]),
        ("move_team", ["forbidden", "applied", "applied", "not_found"]),
        ("resolve", ["applied", "applied", "applied", "not_found"]),
        ("snooze", ["applied", "applied", "applied", "not_found"]),
        ("pending", ["applied", "applied", "applied", "not_found"]),
        ("mark_read", ["applied", "applied", "applied", "not_found"]),
        ("merge_contacts", ["forbidden", "applied", "applied", "not_found"]),
    ];
    let mut n = 0;
    for (ri, (role, email, me)) in roles.iter().enumerate() {
        let token = login(&api.hub, email).await;
        for (case, expect) in &cases {
            n += 1;
            // A fresh conversation (and a second contact for merges) for every cell.
            let c = api
                .hub
                .store
                .ingest(inbound(&w.sms, &format!("+1415555{:04}", 3000 + n), "hi", &format!("m{n}"), now_ms()))
                .await
                .unwrap();
            let other = api
                .hub
                .store
                .ingest(inbound(&w.email, &format!("other{n}@example.com"), "hi", &format!("e{n}"), now_ms()))
                .await
                .unwrap();
            let conv = c.conversation_id;
            if *case == "reassign_someone_elses" {
                let lead = login(&api.hub, "lead@x.test").await;
                let (s, r) = api
                    .post(Some(&lead), "/api/v1/mutations", &json!({"client_id": format!("setup-{n}"), "mutations": [mutation(1, "assign", json!({"conversation_id": conv, "agent_id": w.agent2.agent_id}))]}))
                    .await;
                assert_eq!((s, r["results"][0]["status"].as_str()), (StatusCode::OK, Some("applied")));
            }
            let m = match *case {
                "send_reply" => mutation(
                    1,
                    "send_reply",
                    json!({"conversation_id": conv, "client_msg_id": format!("r{n}"), "body": "Hello!"}),
                ),
                "add_note" => mutation(
                    1,
                    "add_note",
                    json!({"conversation_id": conv, "client_msg_id": format!("n{n}"), "body": "VIP"}),
                ),
                "claim" => mutation(1, "assign", json!({"conversation_id": conv, "agent_id": me})),
                "reassign_someone_elses" => mutation(1, "assign", json!({"conversation_id": conv, "agent_id": me})),
                "move_team" => {
                    mutation(1, "assign", json!({"conversation_id": conv, "team_id": w.team_b, "agent_id": null}))
                }
                "resolve" => mutation(1, "set_status", json!({"conversation_id": conv, "status": "resolved"})),
                "snooze" => mutation(
                    1,
                    "set_status",
                    json!({"conversation_id": conv, "status": "snoozed", "snoozed_until": now_ms() + 3_600_000}),
                ),
                "pending" => mutation(1, "set_status", json!({"conversation_id": conv, "status": "pending"})),
                "mark_read" => mutation(1, "mark_read", json!({"conversation_id": conv})),
                _ => mutation(
                    1,
                    "merge_contacts",
                    json!({"into_contact_id": c.contact_id, "from_contact_id": other.contact_id}),
                ),
            };
            let head = api.head();
            let (status, body) = api
                .post(Some(&token), "/api/v1/mutations", &json!({"client_id": format!("{role}-{n}"), "mutations": [m]}))
                .await;
            assert_eq!(status, StatusCode::OK, "{role} {case}: {body}");
            let result = &body["results"][0];
            let got = match result["status"].as_str().unwrap() {
                "rejected" => result["error"]["code"].as_str().unwrap().to_owned(),
                s => s.to_owned(),
            };
            assert_eq!(got, expect[ri], "{role} {case}: {body}");
            if got != "applied" {
                assert_eq!(api.head(), head, "{role} {case}: a refused mutation stores nothing");
            } else {
                assert!(api.head() > head, "{role} {case}: an applied mutation is in the feed");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_answers_4xx_with_a_code_and_stores_nothing() {
    let (api, w, _db) = setup(Config { max_body_bytes: 64 * 1024, ..Config::default() }).await;
    let c = api.hub.store.ingest(inbound(&w.sms, "+14155550123", "hi", "m1", now_ms())).await.unwrap();
    let agent = login(&api.hub, "agent@x.test").await;
    let head = api.head();
    let reply = |body: &str| json!({"client_id": "c", "mutations": [mutation(1, "send_reply", json!({"conversation_id": c.conversation_id, "client_msg_id": "x", "body": body}))]});

    let cases: Vec<(&str, StatusCode, &str, (StatusCode, Value))> = vec![
        ("malformed JSON", StatusCode::BAD_REQUEST, "bad_request", api.post_raw(Some(&agent), "/api/v1/mutations", "{\"client_id\": ".into()).await),
        ("unknown mutation", StatusCode::BAD_REQUEST, "bad_request", api.post(Some(&agent), "/api/v1/mutations", &json!({"client_id": "c", "mutations": [mutation(1, "delete_everything", json!({}))]})).await),
        ("missing field", StatusCode::BAD_REQUEST, "bad_request", api.post(Some(&agent), "/api/v1/mutations", &json!({"mutations": []})).await),
        ("wrong type", StatusCode::BAD_REQUEST, "bad_request", api.post(Some(&agent), "/api/v1/mutations", &json!({"client_id": "c", "mutations": [mutation(1, "send_reply", json!({"conversation_id": "one", "client_msg_id": "x", "body": "b"}))]})).await),
        ("oversize body", StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", api.post(Some(&agent), "/api/v1/mutations", &reply(&"x".repeat(100 * 1024))).await),
        ("cursor not a number", StatusCode::BAD_REQUEST, "bad_cursor", api.get(Some(&agent), "/api/v1/sync/changes?since=abc").await),
        ("negative cursor", StatusCode::BAD_REQUEST, "bad_cursor", api.get(Some(&agent), "/api/v1/sync/changes?since=-1").await),
        ("cursor ahead of the feed", StatusCode::BAD_REQUEST, "bad_cursor", api.get(Some(&agent), "/api/v1/sync/changes?since=999999").await),
        ("missing cursor", StatusCode::BAD_REQUEST, "bad_request", api.get(Some(&agent), "/api/v1/sync/changes").await),
        ("limit zero", StatusCode::BAD_REQUEST, "bad_request", api.get(Some(&agent), "/api/v1/sync/changes?since=0&limit=0").await),
        ("unknown parameter", StatusCode::BAD_REQUEST, "bad_request", api.get(Some(&agent), "/api/v1/sync/changes?since=0&sicne=1").await),
        ("id not a number", StatusCode::BAD_REQUEST, "bad_request", api.get(Some(&agent), "/api/v1/conversations/abc/messages").await),
        ("id zero", StatusCode::BAD_REQUEST, "bad_request", api.get(Some(&agent), "/api/v1/conversations/0/messages").await),
        ("unknown conversation", StatusCode::NOT_FOUND, "not_found", api.get(Some(&agent), "/api/v1/conversations/424242/messages").await),
        ("bad history token", StatusCode::BAD_REQUEST, "bad_cursor", api.get(Some(&agent), &format!("/api/v1/conversations/{}/messages?before=zz", c.conversation_id)).await),
        ("no token", StatusCode::UNAUTHORIZED, "unauthorized", api.get(None, "/api/v1/sync/bootstrap").await),
        ("malformed token", StatusCode::UNAUTHORIZED, "unauthorized", api.get(Some("nonsense"), "/api/v1/sync/bootstrap").await),
        ("forged token", StatusCode::UNAUTHORIZED, "unauthorized", api.get(Some(&format!("sb1.1.{}", "0".repeat(64))), "/api/v1/sync/bootstrap").await),
        ("mutation without token", StatusCode::UNAUTHORIZED, "unauthorized", api.post(None, "/api/v1/mutations", &reply("hi")).await),
        ("agent calls admin", StatusCode::FORBIDDEN, "forbidden", api.post(Some(&agent), "/api/v1/admin/teams", &json!({"name": "Sneaky"})).await),
        ("unknown endpoint", StatusCode::NOT_FOUND, "not_found", api.get(Some(&agent), "/api/v1/nope").await),
    ];
    for (name, status, code, (got_status, body)) in cases {
        assert_eq!(got_status, status, "{name}: {body}");
        assert_eq!(body["code"], code, "{name}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}: {body}");
        assert_eq!(api.head(), head, "{name}: nothing stored");
    }
    // Below retention: 410 cursor_expired.
    api.hub.store.prune_changes(head).await.unwrap();
    let (s, body) = api.get(Some(&agent), "/api/v1/sync/changes?since=0").await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::GONE, Some("cursor_expired")));
    let bootstrap = api.get(Some(&agent), "/api/v1/sync/bootstrap").await;
    assert_eq!(bootstrap.0, StatusCode::OK);
    assert_eq!(bootstrap.1["conversations"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_logout_hashing_and_throttling() {
    let (api, _w, db) = setup(Config::default()).await;
    let (s, body) =
        api.post(None, "/api/v1/auth/login", &json!({"email": "agent@x.test", "password": "wrong password"})).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));
    let (s, body) =
        api.post(None, "/api/v1/auth/login", &json!({"email": "nobody@x.test", "password": common::PASSWORD})).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")));

    let token = login(&api.hub, "Agent@X.test").await;
    let (s, me) = api.get(Some(&token), "/api/v1/me").await;
    assert_eq!((s, me["email"].as_str()), (StatusCode::OK, Some("agent@x.test")));

    // Hashed at rest: neither the password nor the token's secret is stored.
    let path = db.url.strip_prefix("sqlite://").unwrap().to_owned();
    let conn = rusqlite::Connection::open(path).unwrap();
    let pw: String =
        conn.query_row("SELECT password_hash FROM agents WHERE email = 'agent@x.test'", [], |r| r.get(0)).unwrap();
    assert!(pw.starts_with("$argon2id$") && !pw.contains(common::PASSWORD));
    let secret = token.rsplit('.').next().unwrap();
    let stored: Vec<String> = conn
        .prepare("SELECT secret_hash FROM sessions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(stored.iter().all(|h| h.starts_with("sha256:") && !h.contains(secret)));

    let (s, _) = api.post(Some(&token), "/api/v1/auth/logout", &json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = api.get(Some(&token), "/api/v1/me").await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));

    // Five wrong passwords are answered plainly; after that the account waits.
    for _ in 0..5 {
        let (s, _) =
            api.post(None, "/api/v1/auth/login", &json!({"email": "lead@x.test", "password": "guess guess"})).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let resp = api
        .http
        .post(format!("{}/api/v1/auth/login", api.hub.base))
        .json(&json!({"email": "lead@x.test", "password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().get("retry-after").is_some());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert!(body["retry_after"].as_u64().unwrap() >= 1);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    login(&api.hub, "lead@x.test").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_agents_teams_and_inboxes() {
    let (api, w, _db) = setup(Config::default()).await;
    let admin = login(&api.hub, "admin@x.test").await;
    let (s, team) = api.post(Some(&admin), "/api/v1/admin/teams", &json!({"name": "VIP"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, agent) = api
        .post(Some(&admin), "/api/v1/admin/agents", &json!({"name": "Noor", "email": "noor@x.test", "password": "noor password", "role": "agent", "teams": [team["id"]]}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{agent}");
    let (s, body) = api
        .post(
            Some(&admin),
            "/api/v1/admin/agents",
            &json!({"name": "Short", "email": "s@x.test", "password": "short", "role": "agent"}),
        )
        .await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let (s, inbox) = api.post(Some(&admin), "/api/v1/admin/inboxes", &json!({"kind": "whatsapp", "name": "VIP line", "team_id": team["id"], "address": "+14155550111", "settings": {"token": "secret"}})).await;
    assert_eq!(s, StatusCode::CREATED, "{inbox}");
    assert!(inbox.get("settings").is_none(), "credentials never leave the hub");
    let noor = {
        let r = api
            .http
            .post(format!("{}/api/v1/auth/login", api.hub.base))
            .json(&json!({"email": "noor@x.test", "password": "noor password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned()
    };
    let (_, boot) = api.get(Some(&noor), "/api/v1/sync/bootstrap").await;
    let cursor = boot["cursor"].as_str().unwrap().to_owned();
    assert!(boot["conversations"].as_array().unwrap().is_empty());
    // Moving Noor into team A tells her console to bootstrap again.
    let (s, _) = api
        .http
        .patch(format!("{}/api/v1/admin/agents/{}", api.hub.base, agent["id"]))
        .bearer_auth(&admin)
        .json(&json!({"teams": [w.team_a]}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(s, StatusCode::OK);
    let (_, page) = api.get(Some(&noor), &format!("/api/v1/sync/changes?since={cursor}")).await;
    assert!(page["changes"].as_array().unwrap().iter().any(|c| c["change"]["type"] == "scope_changed"), "{page}");
    let (s, _) = api.get(Some(&noor), "/api/v1/admin/agents").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

async fn next_frame(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> StreamFrame {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn connect(
    hub: &Hub,
    token: &str,
    since: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/api/v1/stream?since={since}", hub.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_replays_pushes_live_heartbeats_and_drops_what_leaves_scope() {
    let (api, w, _db) = setup(Config { heartbeat_secs: 1, ..Config::default() }).await;
    let agent = login(&api.hub, "agent@x.test").await;
    let lead = login(&api.hub, "lead@x.test").await;
    let early =
        api.hub.store.ingest(inbound(&w.sms, "+14155550123", "before connecting", "m1", now_ms())).await.unwrap();
    let mut ws = connect(&api.hub, &agent, "0").await;
    // Replay from the cursor.
    let mut replayed = Vec::new();
    while !replayed.iter().any(|c| matches!(c, Change::Message(m) if m.body == "before connecting")) {
        match next_frame(&mut ws).await {
            StreamFrame::Changes { changes, .. } => replayed.extend(changes.into_iter().map(|f| f.change)),
            StreamFrame::Heartbeat { .. } => {}
            StreamFrame::Error { error } => panic!("{error}"),
        }
    }
    // Live: a new customer message arrives as a frame.
    api.hub.store.ingest(inbound(&w.sms, "+14155550123", "live one", "m2", now_ms())).await.unwrap();
    let cursor = loop {
        match next_frame(&mut ws).await {
            StreamFrame::Changes { changes, cursor }
                if changes.iter().any(|f| matches!(&f.change, Change::Message(m) if m.body == "live one")) =>
            {
                break cursor;
            }
            _ => {}
        }
    };
    // Other teams' traffic never reaches this agent; heartbeats carry the cursor.
    api.hub.store.ingest(inbound(&w.b_sms, "+14155550124", "team B secret", "b1", now_ms())).await.unwrap();
    let hb = loop {
        match next_frame(&mut ws).await {
            StreamFrame::Heartbeat { cursor, .. } => break cursor,
            StreamFrame::Changes { changes, .. } => {
                assert!(!changes.iter().any(|f| matches!(&f.change, Change::Message(m) if m.body == "team B secret")));
            }
            StreamFrame::Error { error } => panic!("{error}"),
        }
    };
    assert!(hb.seq().unwrap() >= cursor.seq().unwrap());
    // The lead moves the thread to team B: the agent's console is told to drop it.
    let (s, _) = api
        .post(Some(&lead), "/api/v1/mutations", &json!({"client_id": "lead", "mutations": [mutation(1, "assign", json!({"conversation_id": early.conversation_id, "team_id": w.team_b}))]}))
        .await;
    assert_eq!(s, StatusCode::OK);
    loop {
        if let StreamFrame::Changes { changes, .. } = next_frame(&mut ws).await {
            if changes
                .iter()
                .any(|f| matches!(f.change, Change::ConversationRemoved { id, .. } if id == early.conversation_id))
            {
                break;
            }
        }
    }
    // Logging out ends the session's streams.
    let (s, _) = api.post(Some(&agent), "/api/v1/auth/logout", &json!({})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    loop {
        match next_frame(&mut ws).await {
            StreamFrame::Error { error } => {
                assert_eq!(error.code, switchboard_protocol::ErrorCode::Unauthorized);
                break;
            }
            StreamFrame::Heartbeat { .. } | StreamFrame::Changes { .. } => {}
        }
    }
    let agent = login(&api.hub, "agent@x.test").await;

    // A cursor below retention is refused before the upgrade.
    let head = api.head();
    api.hub.store.prune_changes(head).await.unwrap();
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let refused = |token: Option<String>| {
        let addr = api.hub.addr;
        async move {
            let mut req = format!("ws://{addr}/api/v1/stream?since=1").into_client_request().unwrap();
            if let Some(t) = token {
                req.headers_mut().insert("authorization", format!("Bearer {t}").parse().unwrap());
            }
            match tokio_tungstenite::connect_async(req).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
                other => panic!("expected an HTTP refusal, got {:?}", other.map(|_| ())),
            }
        }
    };
    assert_eq!(refused(Some(agent.clone())).await, 410);
    assert_eq!(refused(None).await, 401);
    let plain =
        api.http.get(format!("{}/api/v1/stream?since={head}", api.hub.base)).bearer_auth(&agent).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
}

/// The `(seq, change)` pairs of a stream's change frames until its cursor reaches `head`.
async fn caught_up(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    head: i64,
) -> Vec<(i64, Value)> {
    let mut got = Vec::new();
    loop {
        let msg =
            tokio::time::timeout(std::time::Duration::from_secs(10), ws.next()).await.expect("a frame within 10 s");
        let tokio_tungstenite::tungstenite::Message::Text(text) = msg.unwrap().unwrap() else { continue };
        let frame: Value = serde_json::from_str(&text).unwrap();
        assert_ne!(frame["type"], "error", "{frame}");
        for c in frame["changes"].as_array().into_iter().flatten() {
            got.push((c["seq"].as_i64().unwrap(), c["change"].clone()));
        }
        if frame["cursor"].as_str().and_then(|c| c.parse::<i64>().ok()).is_some_and(|c| c >= head) {
            return got;
        }
    }
}

/// A stream opening at a cursor the hub's latest batches reach back to catches up from
/// them, with exactly what the store gives for that cursor: what the agent's team sees,
/// nothing of the other team's, and the thread that moved away removed. The feed's rows
/// past the cursor are deleted before it connects, so only the batches can answer.
async fn a_stream_catches_up_from_the_hubs_latest_batches_as_from_the_store(db: &common::TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let api = Api {
        hub: serve(store, Config { heartbeat_secs: 1, ..Config::default() }).await,
        http: reqwest::Client::new(),
    };
    let (agent, lead, admin) = (
        login(&api.hub, "agent@x.test").await,
        login(&api.hub, "lead@x.test").await,
        login(&api.hub, "admin@x.test").await,
    );
    let from = api.head();
    // The admin's console sees everything live: once it reaches the head, the hub holds it all.
    let mut witness = connect(&api.hub, &admin, &from.to_string()).await;
    let mut moved = 0;
    for i in 0..30 {
        let inbox = if i % 3 == 0 { &w.b_sms } else { &w.sms };
        let from_number = format!("+1415555{:04}", 2000 + i % 7);
        let got = api
            .hub
            .store
            .ingest(inbound(inbox, &from_number, "hello", &format!("recent-{i}"), now_ms()))
            .await
            .unwrap();
        if i == 1 {
            moved = got.conversation_id;
        }
    }
    let move_team = mutation(1, "assign", json!({"conversation_id": moved, "team_id": w.team_b}));
    let (status, _) =
        api.post(Some(&lead), "/api/v1/mutations", &json!({"client_id": "mover", "mutations": [move_team]})).await;
    assert_eq!(status, StatusCode::OK);
    api.hub.store.ingest(inbound(&w.sms, "+14155559999", "after the move", "recent-last", now_ms())).await.unwrap();
    let head = api.head();
    caught_up(&mut witness, head).await;

    let page = api.hub.store.changes(&w.agent, from, 10_000).await.unwrap();
    assert!(!page.has_more);
    let want: Vec<(i64, Value)> =
        page.changes.iter().map(|c| (c.seq, serde_json::from_str(c.change.get()).unwrap())).collect();
    assert!(want.iter().any(|(_, c)| c["type"] == "conversation_removed" && c["id"] == moved), "the move is in it");
    assert!(want.iter().any(|(_, c)| c["type"] == "message" && c["body"] == "after the move"));
    db.execute(&format!("DELETE FROM changes WHERE seq > {from}"));

    let mut ws = connect(&api.hub, &agent, &from.to_string()).await;
    assert_eq!(caught_up(&mut ws, head).await, want);
}

/// An agent moved into another team while their stream is open is told so, and from then
/// on the stream carries that team's conversations live, not only those of the team they
/// had when it opened.
async fn a_stream_follows_its_agent_into_a_new_team(db: &common::TestDb) {
    let store = open(db);
    let w = world(&store).await;
    let api = Api {
        hub: serve(store, Config { heartbeat_secs: 1, ..Config::default() }).await,
        http: reqwest::Client::new(),
    };
    let (agent, admin) = (login(&api.hub, "agent@x.test").await, login(&api.hub, "admin@x.test").await);
    let mut ws = connect(&api.hub, &agent, &api.head().to_string()).await;
    api.hub.store.ingest(inbound(&w.b_sms, "+14155550177", "team B before", "scope-1", now_ms())).await.unwrap();
    let head = api.head();
    let before = caught_up(&mut ws, head).await;
    assert!(!before.iter().any(|(_, c)| c["body"] == "team B before"), "not in team B yet");

    let (status, _) = api
        .http
        .patch(format!("{}/api/v1/admin/agents/{}", api.hub.base, w.agent.agent_id))
        .bearer_auth(&admin)
        .json(&json!({"teams": [w.team_a, w.team_b]}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let moved = caught_up(&mut ws, api.head()).await;
    assert!(moved.iter().any(|(_, c)| c["type"] == "scope_changed"), "{moved:?}");
    api.hub.store.ingest(inbound(&w.b_sms, "+14155550177", "team B after", "scope-2", now_ms())).await.unwrap();
    let after = caught_up(&mut ws, api.head()).await;
    assert!(after.iter().any(|(_, c)| c["type"] == "message" && c["body"] == "team B after"), "{after:?}");
}

both_engines!(
    a_stream_catches_up_from_the_hubs_latest_batches_as_from_the_store,
    a_stream_follows_its_agent_into_a_new_team
);

/// Shutting down closes open streams, so a graceful shutdown ends and consoles see the hub
/// go away (before, a connected stream kept both the server and the console's link alive).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_open_streams() {
    let db = sqlite_db();
    let store = open(&db);
    world(&store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = switchboard_hub::api::AppState::new(store.clone(), Config { heartbeat_secs: 1, ..Config::default() });
    let server = tokio::spawn(switchboard_hub::server::run(listener, state, async move {
        let _ = stopped.await;
    }));
    let hub = Hub { base: format!("http://{addr}"), addr, store, stop: None, files: None };
    let token = login(&hub, "agent@x.test").await;
    let mut ws = connect(&hub, &token, "0").await;
    assert!(ws.next().await.is_some(), "the stream is open");
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(frame)) = ws.next().await {
            if frame.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream was closed");
    let served = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    assert!(served.is_ok_and(|r| r.unwrap().is_ok()), "the server finished shutting down");
}

/// A hub served with its `AppState` kept, to read what its authentication did.
async fn serve_keeping_state(config: Config) -> (Hub, switchboard_hub::api::AppState, World, common::TestDb) {
    let db = sqlite_db();
    let store = open(&db);
    let w = world(&store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = switchboard_hub::api::AppState::new(store.clone(), config);
    tokio::spawn(switchboard_hub::server::run(listener, state.clone(), std::future::pending()));
    (Hub { base: format!("http://{addr}"), addr, store, stop: None, files: None }, state, w, db)
}

async fn me_status(http: &reqwest::Client, hub: &Hub, authorization: &str) -> StatusCode {
    http.get(format!("{}/api/v1/me", hub.base)).header("authorization", authorization).send().await.unwrap().status()
}

/// Finding: every forged token for a live session ran a full argon2 check (19 MiB each)
/// with nothing bounding it. A token's secret is now checked against its SHA-256: forged
/// tokens cost no password check at all. Sessions from before (argon2) still work, are
/// checked once per token however it is spaced, and their forgeries are bounded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_cost_no_password_check() {
    let (hub, state, w, _db) = serve_keeping_state(Config::default()).await;
    let http = reqwest::Client::new();
    let token = login(&hub, "agent@x.test").await;
    let after_login = state.auth.slow_checks();
    assert_eq!(after_login, 1, "the login's password");
    let session_id = token.split('.').nth(1).unwrap().to_owned();
    let forged: Vec<_> = (0..60u32)
        .map(|i| {
            let (http, hub_base) = (http.clone(), hub.base.clone());
            let forged = format!("Bearer sb1.{session_id}.{:064x}", u128::from(i) * 7_919);
            tokio::spawn(async move {
                http.get(format!("{hub_base}/api/v1/me")).header("authorization", forged).send().await.unwrap().status()
            })
        })
        .collect();
    for f in forged {
        assert_eq!(f.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(state.auth.slow_checks(), after_login, "no forged token ran a password check");
    assert_eq!(me_status(&http, &hub, &format!("Bearer {token}")).await, StatusCode::OK);
    assert_eq!(me_status(&http, &hub, &format!("Bearer   {token} ")).await, StatusCode::OK, "RFC 6750 allows spaces");

    // A session stored the old way (argon2) is still honoured: one check, remembered by the
    // token itself, not by how it was spaced.
    let secret = "ab".repeat(32);
    let old_hash = switchboard_hub::auth::hash_secret(&secret).unwrap();
    let old = hub.store.create_session(w.lead.agent_id, old_hash, "127.0.0.1".into()).await.unwrap();
    let old_token = format!("sb1.{old}.{secret}");
    for spacing in ["Bearer ", "Bearer  ", "Bearer \t"] {
        assert_eq!(me_status(&http, &hub, &format!("{spacing}{old_token}")).await, StatusCode::OK);
    }
    assert_eq!(state.auth.slow_checks(), after_login + 1, "one check for the old session's token");
    let forged_old = format!("Bearer sb1.{old}.{}", "cd".repeat(32));
    assert_eq!(me_status(&http, &hub, &forged_old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(state.auth.slow_checks(), after_login + 2, "a forgery of an old session is checked, within the bound");
}

/// Finding: nothing bounded the password checks a flood of logins runs. At most
/// `password_checks` run at once; a login that finds them busy answers 429 with
/// Retry-After, and the hub keeps answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_checks_are_bounded_and_answer_429_when_busy() {
    let (hub, state, _w, _db) = serve_keeping_state(Config { password_checks: 1, ..Config::default() }).await;
    let http = reqwest::Client::new();
    let flood: Vec<_> = (0..24)
        .map(|i| {
            let (http, base) = (http.clone(), hub.base.clone());
            tokio::spawn(async move {
                let body = json!({"email": format!("attacker{i}@x.test"), "password": "not the password"});
                let resp = http.post(format!("{base}/api/v1/auth/login")).json(&body).send().await.unwrap();
                let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
                let status = resp.status();
                let body: Value = resp.json().await.unwrap();
                (status, body["code"].as_str().unwrap().to_owned(), retry_after)
            })
        })
        .collect();
    let mut busy = 0;
    for f in flood {
        match f.await.unwrap() {
            (StatusCode::UNAUTHORIZED, code, _) => assert_eq!(code, "invalid_credentials"),
            (StatusCode::TOO_MANY_REQUESTS, code, retry_after) => {
                assert_eq!((code.as_str(), retry_after.as_deref()), ("rate_limited", Some("1")));
                busy += 1;
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(busy > 0, "24 logins at once with one check allowed: some found it busy");
    assert!(state.auth.slow_checks() <= 24 - busy, "a refused login ran no check");
    // The flood is over: a real agent signs in.
    login(&hub, "agent@x.test").await;
}

/// Finding: a U+0000 in a login answered 500 on PostgreSQL. Both engines now answer the
/// same: the control character is dropped where the text enters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nul_in_a_login_is_answered_the_same_on_both_engines() {
    for db in [sqlite_db(), common::pg_db()] {
        let store = open(&db);
        world(&store).await;
        let hub = serve(store, Config::default()).await;
        let api = Api { hub, http: reqwest::Client::new() };
        let (s, body) = api
            .post(None, "/api/v1/auth/login", &json!({"email": "agent\u{0}@x.test", "password": "wrong password"}))
            .await;
        assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")), "{}", db.url);
        let (s, body) = api
            .post(None, "/api/v1/auth/login", &json!({"email": "agent\u{0}@x.test", "password": common::PASSWORD}))
            .await;
        assert_eq!(s, StatusCode::OK, "{}: {body}", db.url);
    }
}

/// Finding: one body limit served every route, so raising it for email (as inbound mail
/// with attachments needs) raised it for logins and the visitor API too. Each route now
/// has its own: email takes `max_email_bytes`, logins and visitors stay small whatever
/// `max_body_bytes` is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_has_its_own_body_limit() {
    let db = sqlite_db();
    let store = open(&db);
    let w = world(&store).await;
    let inbox = |kind, name: &str, address: &str, settings| switchboard_protocol::admin::CreateInbox {
        kind,
        name: name.into(),
        team_id: w.team_a,
        address: address.into(),
        settings,
    };
    use switchboard_protocol::model::ChannelKind;
    let mail =
        store.create_inbox(inbox(ChannelKind::Email, "Mail", "in@x.test", json!({"inbound_secret": "s3"}))).await;
    let mail = mail.unwrap().id;
    store.create_inbox(inbox(ChannelKind::Webchat, "Site", "site", json!({}))).await.unwrap();
    let config = Config { max_body_bytes: 8 * 1024 * 1024, max_email_bytes: 4 * 1024 * 1024, ..Config::default() };
    let hub = serve(store, config).await;
    let api = Api { hub, http: reqwest::Client::new() };
    let padding = "x".repeat(300 * 1024);

    let (s, body) = api.post(None, "/api/v1/auth/login", &json!({"email": padding, "password": "p"})).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "login");
    let (s, body) = api.post(None, "/chat/v1/sessions", &json!({"inbox": "site", "token": padding})).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large")), "visitor");

    // A short note with a large attachment (base64 lines of 76 characters).
    let email = |size: usize| {
        let line = format!("{}\r\n", "QUJD".repeat(19));
        format!(
            "From: Ana <ana@example.com>\r\nTo: in@x.test\r\nSubject: Big\r\nMessage-ID: <big-{size}@example.com>\r\n\
             Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n\
             The scans are attached.\r\n--b1\r\nContent-Type: application/pdf; name=\"scans.pdf\"\r\n\
             Content-Disposition: attachment; filename=\"scans.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\
             {}--b1--\r\n",
            line.repeat(size / line.len())
        )
    };
    let post = |raw: String| {
        api.http
            .post(format!("{}/webhooks/email/{mail}", api.hub.base))
            .header("x-switchboard-secret", "s3")
            .header("content-type", "message/rfc822")
            .body(raw)
            .send()
    };
    assert_eq!(post(email(2 * 1024 * 1024)).await.unwrap().status(), StatusCode::OK, "email takes its own limit");
    assert_eq!(post(email(5 * 1024 * 1024)).await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    // And login still works, with a body of its size.
    login(&api.hub, "agent@x.test").await;
    let _ = &w;
}

/// Finding 13: a bootstrap with `messages_per_conversation=500` over a large scope built
/// one huge answer. It carries every unresolved conversation but only the most recent
/// resolved ones (`bootstrap_max_resolved`), and its messages share `bootstrap_max_messages`
/// (each conversation at least its latest one), on both engines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_is_bounded_however_much_is_asked() {
    use switchboard_protocol::model::ConversationStatus;
    use switchboard_protocol::mutation::{Mutation, MutationEnvelope, SetStatus};
    for db in [sqlite_db(), common::pg_db()] {
        let store = open(&db);
        let w = world(&store).await;
        let mut ids = Vec::new();
        for c in 0..6 {
            for m in 0..5 {
                let from = format!("+1415555{:04}", 100 + c);
                let msg = inbound(&w.sms, &from, &format!("message {m}"), &format!("SM{c}-{m}"), now_ms());
                let done = store.ingest(msg).await.unwrap();
                if m == 0 {
                    ids.push(done.conversation_id);
                }
            }
        }
        let resolve = ids[..3]
            .iter()
            .enumerate()
            .map(|(i, &id)| MutationEnvelope {
                mutation_id: i as u64 + 1,
                mutation: Mutation::SetStatus(SetStatus {
                    conversation_id: id,
                    status: ConversationStatus::Resolved,
                    snoozed_until: None,
                }),
                expected_version: None,
            })
            .collect();
        store.apply_mutations(&w.admin, "admin-console", resolve).await.unwrap();
        let config = Config { bootstrap_max_messages: 6, bootstrap_max_resolved: 1, ..Config::default() };
        let hub = serve(store, config).await;
        let api = Api { hub, http: reqwest::Client::new() };
        let token = login(&api.hub, "admin@x.test").await;
        let (s, boot) = api.get(Some(&token), "/api/v1/sync/bootstrap?messages_per_conversation=500").await;
        assert_eq!(s, StatusCode::OK, "{}", db.url);
        let convs: Vec<i64> =
            boot["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(convs.len(), 4, "three open and the latest resolved: {convs:?}");
        assert!(convs.contains(&ids[2]) && !convs.contains(&ids[0]) && !convs.contains(&ids[1]));
        let messages = boot["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 4, "six messages shared by four conversations: one each");
        assert!(messages.iter().all(|m| m["body"] == "message 4"), "each brings its latest");
    }
}

/// A hub whose serving task is dropped (as a test harness or an embedding app stops it)
/// serves nothing more: kept-alive connections close and open streams end, so consoles
/// see it go and reconnect elsewhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_that_stops_serving_leaves_no_connection_behind() {
    let db = sqlite_db();
    let store = open(&db);
    world(&store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = switchboard_hub::api::AppState::new(store.clone(), Config { heartbeat_secs: 60, ..Config::default() });
    let task = tokio::spawn(switchboard_hub::server::run(listener, state, std::future::pending()));
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    assert_eq!(http.get(format!("{base}/healthz")).send().await.unwrap().status(), StatusCode::OK);
    let hub = Hub { base: base.clone(), addr, store, stop: None, files: None };
    let token = login(&hub, "agent@x.test").await;
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://{addr}/api/v1/stream?since=0"
    ))
    .unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut stream, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    task.abort();
    let _ = task.await;
    assert!(common::closes(&mut stream, std::time::Duration::from_secs(5)).await, "the stream ended");
    // The client's kept-alive connection is gone too: nothing answers.
    assert!(http.get(format!("{base}/healthz")).send().await.is_err());
}
