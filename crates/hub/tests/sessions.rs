//! Logins and sessions against a real hub on both engines: failed logins counted in the
//! database before each check (so parallel guesses and several hubs share one count),
//! counters that expire and stay bounded, a budget per client address, sessions that end
//! when idle, when old, when revoked everywhere or when their agent is disabled, tokens
//! kept out of URLs, the client address behind a trusted proxy, and the audit log.
#![allow(clippy::unwrap_used)]

mod common;

use common::{login, open, serve, world, TestDb, PASSWORD};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_hub::config::Config;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn login_as(&self, email: &str, password: &str, forwarded_for: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.post(format!("{}/api/v1/auth/login", self.base));
        if let Some(ip) = forwarded_for {
            req = req.header("x-forwarded-for", ip);
        }
        let resp = req.json(&json!({"email": email, "password": password})).send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn call(&self, method: reqwest::Method, token: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn me(&self, token: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, token, "/api/v1/me", None).await
    }
}

/// Loopback is a trusted proxy here, so each test can speak as many clients.
fn behind_proxy() -> Config {
    Config { trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()], ..Config::default() }
}

async fn hub(db: &TestDb, mut config: Config) -> (Api, common::Hub, common::World) {
    // These tests count lockouts: the hub-wide allowance of checks per second is not
    // what they are about (its own test sets it).
    if config.password_checks_per_sec == Config::default().password_checks_per_sec {
        config.password_checks_per_sec = 10_000;
    }
    let store = open(db);
    let w = world(&store).await;
    let hub = serve(store, config).await;
    (Api { base: hub.base.clone(), http: reqwest::Client::new() }, hub, w)
}

both_engines!(
    parallel_guesses_are_counted_before_any_is_checked,
    failed_logins_are_forgotten_after_a_quiet_hour,
    a_client_spraying_passwords_runs_out_of_budget_but_others_still_log_in,
    a_stranger_cannot_lock_an_agent_out_from_another_address,
    failed_login_counters_are_shared_by_every_hub,
    sessions_end_when_idle_or_too_old,
    a_disabled_agent_is_signed_out_everywhere_and_cannot_log_in,
    signing_out_everywhere_ends_every_session,
    open_streams_of_ended_sessions_close_and_the_rest_count_as_use,
    stream_tokens_never_travel_in_the_url,
    the_audit_log_names_who_did_what_from_where,
    a_flood_of_logins_from_many_addresses_runs_a_bounded_number_of_checks,
);

/// Finding 5 and 7: a flood of logins from many addresses (a botnet: each address under
/// its own budget) still ran a password check each. The hub starts at most
/// `password_checks_per_sec` checks a second, all clients together.
async fn a_flood_of_logins_from_many_addresses_runs_a_bounded_number_of_checks(db: &TestDb) {
    let (api, _hub, _w) = hub(db, Config { password_checks_per_sec: 10, password_checks: 64, ..behind_proxy() }).await;
    let api = std::sync::Arc::new(api);
    let flood: Vec<_> = (0..60)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move {
                let ip = format!("198.18.{}.{}", i / 200, i % 200 + 1);
                api.login_as(&format!("bot{i}@x.test"), "guess guess", Some(&ip)).await
            })
        })
        .collect();
    let (mut checked, mut refused) = (0, 0);
    for f in flood {
        match f.await.unwrap() {
            (StatusCode::UNAUTHORIZED, _) => checked += 1,
            (StatusCode::TOO_MANY_REQUESTS, body) => {
                assert_eq!(body["retry_after"], 1);
                refused += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(checked <= 12, "{checked} checks for 60 logins at once (10 a second allowed)");
    assert_eq!(checked + refused, 60);
}

/// Finding 7: twenty wrong passwords sent in parallel with the right one were all checked
/// (the lock was looked at before any attempt landed), so the right one got in. Each
/// attempt is now counted before its check: at most five passwords are ever checked.
async fn parallel_guesses_are_counted_before_any_is_checked(db: &TestDb) {
    let (api, _hub, _w) = hub(db, Config { password_checks: 32, ..Config::default() }).await;
    let api = std::sync::Arc::new(api);
    let attempts: Vec<_> = (0..21)
        .map(|i| {
            let api = api.clone();
            tokio::spawn(async move {
                let password = if i == 20 { PASSWORD.to_owned() } else { format!("guess number {i}") };
                api.login_as("lead@x.test", &password, None).await.0
            })
        })
        .collect();
    let mut checked = 0;
    for a in attempts {
        match a.await.unwrap() {
            StatusCode::OK | StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords were checked; at most five may be");
    assert!(checked >= 1);
}

/// Finding 7: failures never expired, so an account stayed locked for good. A counter
/// quiet for an hour is forgotten, and the chores prune it from the table.
async fn failed_logins_are_forgotten_after_a_quiet_hour(db: &TestDb) {
    let (api, hub, _w) = hub(db, Config::default()).await;
    for _ in 0..6 {
        api.login_as("lead@x.test", "guess guess", None).await;
    }
    assert_eq!(api.login_as("lead@x.test", PASSWORD, None).await.0, StatusCode::TOO_MANY_REQUESTS);
    db.execute("UPDATE login_failures SET last_at = last_at - 3600000");
    assert_eq!(api.login_as("lead@x.test", PASSWORD, None).await.0, StatusCode::OK);
    // Bounded: counters nobody failed under for an hour go.
    for i in 0..10 {
        api.login_as(&format!("nobody{i}@x.test"), "guess guess", None).await;
    }
    db.execute("UPDATE login_failures SET last_at = last_at - 3600000");
    let pruned = hub.store.prune_login_failures(4).await.unwrap();
    assert_eq!(pruned, 4, "pruned in bounded chunks");
    let rest = hub.store.prune_login_failures(1_000).await.unwrap();
    assert!(rest > 0);
    assert_eq!(hub.store.prune_login_failures(1_000).await.unwrap(), 0);
}

/// Finding 7: nothing stopped one client trying one password on every account. A client
/// address has a budget of failures across accounts; other clients are not affected.
async fn a_client_spraying_passwords_runs_out_of_budget_but_others_still_log_in(db: &TestDb) {
    let (api, _hub, _w) = hub(db, behind_proxy()).await;
    let sprayer = Some("203.0.113.66");
    let mut refused = 0;
    for i in 0..40 {
        let (s, body) = api.login_as(&format!("user{i}@x.test"), "Summer2026!", sprayer).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["code"], "rate_limited");
            refused += 1;
        }
    }
    assert_eq!(refused, 10, "thirty failures are free, then the client waits");
    // Even the right password, from that client, waits.
    assert_eq!(api.login_as("agent@x.test", PASSWORD, sprayer).await.0, StatusCode::TOO_MANY_REQUESTS);
    // An agent elsewhere logs in.
    assert_eq!(api.login_as("agent@x.test", PASSWORD, Some("198.51.100.20")).await.0, StatusCode::OK);
    // A whole IPv6 /64 is one client.
    for i in 0..31 {
        api.login_as(&format!("v6user{i}@x.test"), "guess guess", Some(&format!("2001:db8:7:7::{i:x}"))).await;
    }
    assert_eq!(
        api.login_as("agent@x.test", PASSWORD, Some("2001:db8:7:7::ffff")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Finding 7: anyone could keep an admin locked out by failing on purpose. Failures from
/// one address lock that address out of the account, not the account's owner elsewhere.
async fn a_stranger_cannot_lock_an_agent_out_from_another_address(db: &TestDb) {
    let (api, _hub, _w) = hub(db, behind_proxy()).await;
    for _ in 0..8 {
        api.login_as("admin@x.test", "let me in", Some("203.0.113.5")).await;
    }
    assert_eq!(api.login_as("admin@x.test", PASSWORD, Some("203.0.113.5")).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.login_as("admin@x.test", PASSWORD, Some("198.51.100.1")).await.0, StatusCode::OK);
}

/// Finding 7: counters were per process, so each hub behind a load balancer allowed its
/// own five guesses. Two hubs on one database now share them.
async fn failed_login_counters_are_shared_by_every_hub(db: &TestDb) {
    let (a, _hub_a, _w) = hub(db, Config::default()).await;
    let hub_b = serve(open(db), Config { password_checks_per_sec: 10_000, ..Config::default() }).await;
    let b = Api { base: hub_b.base.clone(), http: reqwest::Client::new() };
    for i in 0..5 {
        let api = if i % 2 == 0 { &a } else { &b };
        assert_eq!(api.login_as("lead@x.test", "guess guess", None).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(a.login_as("lead@x.test", PASSWORD, None).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(b.login_as("lead@x.test", PASSWORD, None).await.0, StatusCode::TOO_MANY_REQUESTS);
}

/// Finding 14: tokens never expired. A session ends after `session_idle_hours` unused and
/// `session_max_days` after its login, however much it is used.
async fn sessions_end_when_idle_or_too_old(db: &TestDb) {
    let (api, hub, _w) = hub(db, Config::default()).await;
    let idle = login(&hub, "agent@x.test").await;
    let old = login(&hub, "agent2@x.test").await;
    assert_eq!(api.me(&idle).await.0, StatusCode::OK);
    let id = |t: &str| t.split('.').nth(1).unwrap().to_owned();
    db.execute(&format!(
        "UPDATE sessions SET last_seen_at = last_seen_at - {} WHERE id = {}",
        7 * 24 * 3_600_000_i64 + 1,
        id(&idle)
    ));
    db.execute(&format!(
        "UPDATE sessions SET created_at = created_at - {} WHERE id = {}",
        30 * 24 * 3_600_000_i64 + 1,
        id(&old)
    ));
    let (s, body) = api.me(&idle).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    assert!(body["message"].as_str().unwrap().contains("unused"), "{body}");
    let (s, body) = api.me(&old).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    assert!(body["message"].as_str().unwrap().contains("expired"), "{body}");
    // Use keeps a session alive: its last use is written as it goes.
    let fresh = login(&hub, "lead@x.test").await;
    db.execute(&format!("UPDATE sessions SET last_seen_at = last_seen_at - 3600000 WHERE id = {}", id(&fresh)));
    assert_eq!(api.me(&fresh).await.0, StatusCode::OK);
    db.execute(&format!(
        "UPDATE sessions SET last_seen_at = last_seen_at - {} WHERE id = {}",
        7 * 24 * 3_600_000_i64 - 7_200_000,
        id(&fresh)
    ));
    assert_eq!(api.me(&fresh).await.0, StatusCode::OK, "the hour-old use was written, so it is not idle yet");
}

/// Finding 14: agents could not be disabled. Disabling one ends their sessions and open
/// streams at once and refuses their logins; enabling lets them back in.
async fn a_disabled_agent_is_signed_out_everywhere_and_cannot_log_in(db: &TestDb) {
    let (api, hub, w) = hub(db, Config { heartbeat_secs: 1, ..Config::default() }).await;
    let admin = login(&hub, "admin@x.test").await;
    let agent = login(&hub, "agent@x.test").await;
    let mut req = format!("ws://{}/api/v1/stream?since=0", hub.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {agent}").parse().unwrap());
    let (mut stream, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let path = format!("/api/v1/admin/agents/{}", w.agent.agent_id);
    let (s, body) = api.call(reqwest::Method::PATCH, &admin, &path, Some(json!({"disabled": true}))).await;
    assert_eq!((s, body["disabled"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    let (s, body) = api.me(&agent).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    let (s, body) = api.login_as("agent@x.test", PASSWORD, None).await;
    assert_eq!((s, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{body}");
    // The open stream says why and ends.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while let Some(Ok(frame)) = stream.next().await {
            if frame.to_text().unwrap_or("").contains("disabled") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap();
    assert!(ended, "the stream told the console the account is disabled");
    // An admin cannot disable themselves (nobody would be left to undo it).
    let own = format!("/api/v1/admin/agents/{}", w.admin.agent_id);
    let (s, _) = api.call(reqwest::Method::PATCH, &admin, &own, Some(json!({"disabled": true}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    api.call(reqwest::Method::PATCH, &admin, &path, Some(json!({"disabled": false}))).await;
    assert_eq!(api.login_as("agent@x.test", PASSWORD, None).await.0, StatusCode::OK);
}

/// The error code a stream ends with, if it sends one within `within`.
async fn ends_with<S>(ws: &mut S, within: std::time::Duration) -> Option<String>
where
    S: futures_util::Stream<
            Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>,
        > + Unpin,
{
    let deadline = tokio::time::Instant::now() + within;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await {
        let frame: Value = serde_json::from_str(msg.to_text().unwrap_or("{}")).unwrap_or(Value::Null);
        if frame["type"] == "error" {
            return frame["error"]["code"].as_str().map(str::to_owned);
        }
    }
    None
}

/// The hub checks the sessions of all its open streams together once a heartbeat: the
/// streams of a session logged out, left idle or too old close saying why, and a session
/// whose stream stays open counts as used.
async fn open_streams_of_ended_sessions_close_and_the_rest_count_as_use(db: &TestDb) {
    let (api, hub, _w) = hub(db, Config { heartbeat_secs: 1, ..Config::default() }).await;
    let tokens =
        [login(&hub, "agent@x.test").await, login(&hub, "agent2@x.test").await, login(&hub, "lead@x.test").await];
    let live = login(&hub, "admin@x.test").await;
    let mut streams = Vec::new();
    for token in tokens.iter().chain([&live]) {
        let mut req = format!("ws://{}/api/v1/stream?since=0", hub.addr).into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        streams.push(tokio_tungstenite::connect_async(req).await.unwrap().0);
    }
    let id = |t: &str| t.split('.').nth(1).unwrap().to_owned();
    let (logged_out, idle, old) = (&tokens[0], &tokens[1], &tokens[2]);
    assert_eq!(
        api.call(reqwest::Method::POST, logged_out, "/api/v1/auth/logout", None).await.0,
        StatusCode::NO_CONTENT
    );
    let week = 7 * 24 * 3_600_000_i64;
    db.execute(&format!("UPDATE sessions SET last_seen_at = last_seen_at - {} WHERE id = {}", week + 1, id(idle)));
    db.execute(&format!("UPDATE sessions SET created_at = created_at - {} WHERE id = {}", 5 * week, id(old)));
    db.execute(&format!("UPDATE sessions SET last_seen_at = last_seen_at - 3600000 WHERE id = {}", id(&live)));
    let before = switchboard_hub::clock::now_ms();

    let within = std::time::Duration::from_secs(5);
    for (i, stream) in streams.iter_mut().take(3).enumerate() {
        assert_eq!(ends_with(stream, within).await.as_deref(), Some("unauthorized"), "stream {i} closes");
    }
    assert_eq!(ends_with(&mut streams[3], std::time::Duration::from_secs(3)).await, None, "the live one goes on");
    let used: i64 = db.text(&format!("SELECT last_seen_at FROM sessions WHERE id = {}", id(&live))).parse().unwrap();
    assert!(used >= before, "its open stream counted as use");
    assert_eq!(api.me(&live).await.0, StatusCode::OK);
}

/// Finding 14: there was no way to end every session (a lost laptop). An agent can sign
/// out everywhere, and an admin can do it for any agent.
async fn signing_out_everywhere_ends_every_session(db: &TestDb) {
    let (api, hub, w) = hub(db, Config::default()).await;
    let laptop = login(&hub, "agent@x.test").await;
    let desktop = login(&hub, "agent@x.test").await;
    let other = login(&hub, "agent2@x.test").await;
    let (s, _) = api.call(reqwest::Method::POST, &desktop, "/api/v1/auth/logout_everywhere", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(api.me(&laptop).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.me(&desktop).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.me(&other).await.0, StatusCode::OK, "only that agent's sessions");
    let admin = login(&hub, "admin@x.test").await;
    let path = format!("/api/v1/admin/agents/{}/sessions", w.agent2.agent_id);
    assert_eq!(api.call(reqwest::Method::DELETE, &other, &path, None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(api.call(reqwest::Method::DELETE, &admin, &path, None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.me(&other).await.0, StatusCode::UNAUTHORIZED);
}

/// Finding 14: the stream took its token in the query string, where proxies and servers
/// log it. The header or a `bearer.<token>` subprotocol carry it; the URL never does.
async fn stream_tokens_never_travel_in_the_url(db: &TestDb) {
    let (_api, hub, _w) = hub(db, Config::default()).await;
    let token = login(&hub, "agent@x.test").await;
    let in_url = format!("ws://{}/api/v1/stream?since=0&access_token={token}", hub.addr);
    let refused = tokio_tungstenite::connect_async(in_url.into_client_request().unwrap()).await;
    assert!(refused.is_err(), "a token in the URL is refused");
    let mut req = format!("ws://{}/api/v1/stream?since=0", hub.addr).into_client_request().unwrap();
    req.headers_mut().insert("sec-websocket-protocol", format!("switchboard, bearer.{token}").parse().unwrap());
    let (mut stream, resp) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert_eq!(resp.headers()["sec-websocket-protocol"], "switchboard");
    let first = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await.unwrap().unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("\"changes\""), "{first}");
    // A session holds a few streams, not unlimited ones.
    let mut open = vec![stream];
    let mut refused = 0;
    for _ in 0..6 {
        let mut req = format!("ws://{}/api/v1/stream?since=0", hub.addr).into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        match tokio_tungstenite::connect_async(req).await {
            Ok((s, _)) => open.push(s),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
                assert_eq!(resp.status(), 429);
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((open.len(), refused), (4, 3));
    // A client may not send a large frame.
    let big = "x".repeat(64 * 1024);
    use futures_util::SinkExt;
    let s = &mut open[0];
    let _ = s.send(tokio_tungstenite::tungstenite::Message::text(big)).await;
    assert!(common::closes(s, std::time::Duration::from_secs(5)).await, "a 64 KiB frame closes the stream");
}

/// Finding 14: admin actions left no trace and logs had no client address. Each is in the
/// audit log with its author and the client behind the trusted proxy; secrets are not.
async fn the_audit_log_names_who_did_what_from_where(db: &TestDb) {
    let (api, hub, w) = hub(db, behind_proxy()).await;
    let admin = {
        let (s, body) = api.login_as("admin@x.test", PASSWORD, Some("198.51.100.9")).await;
        assert_eq!(s, StatusCode::OK);
        body["token"].as_str().unwrap().to_owned()
    };
    let mut req = api.http.post(format!("{}/api/v1/admin/agents", hub.base)).bearer_auth(&admin);
    req = req.header("x-forwarded-for", "6.6.6.6, 198.51.100.9");
    let new = json!({"name": "Noor", "email": "noor@x.test", "password": "noor's password", "role": "agent"});
    assert_eq!(req.json(&new).send().await.unwrap().status(), StatusCode::CREATED);
    let path = format!("/api/v1/admin/agents/{}", w.agent.agent_id);
    api.call(reqwest::Method::PATCH, &admin, &path, Some(json!({"password": "a new password", "role": "lead"}))).await;
    api.call(
        reqwest::Method::PATCH,
        &admin,
        &format!("/api/v1/admin/inboxes/{}", w.sms.id),
        Some(json!({"settings": {"auth_token": "twilio-secret"}})),
    )
    .await;
    let (s, page) = api.call(reqwest::Method::GET, &admin, "/api/v1/admin/audit?limit=2", None).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "inbox.update");
    assert_eq!(entries[1]["action"], "agent.update");
    assert_eq!(entries[1]["detail"]["password"], "changed");
    assert_eq!(entries[1]["actor_id"], w.admin.agent_id);
    let older = format!("/api/v1/admin/audit?before={}", page["next_before"]);
    let (_, rest) = api.call(reqwest::Method::GET, &admin, &older, None).await;
    let created = &rest["entries"][0];
    assert_eq!((created["action"].as_str(), created["client"].as_str()), (Some("agent.create"), Some("198.51.100.9")));
    let all = format!("{page}{rest}");
    for secret in ["noor's password", "a new password", "twilio-secret"] {
        assert!(!all.contains(secret), "the audit log holds a secret: {all}");
    }
    let agent = login(&hub, "agent2@x.test").await;
    assert_eq!(api.call(reqwest::Method::GET, &agent, "/api/v1/admin/audit", None).await.0, StatusCode::FORBIDDEN);
}
