//! Two hubs on one PostgreSQL database, as behind a load balancer: every timer and claim
//! takes effect once however the hubs race for it (snoozes waking, agents gone offline,
//! interrupted sends, bot calls); limits hold across hubs (a visitor's messages, a
//! notify key, failed logins, a CRM's pace); and a console that moves from one hub to the
//! other resumes from its cursor with nothing missing or doubled.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use switchboard_hub::config::Config;
use switchboard_hub::store::Store;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::ChannelKind;
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, SendReply};

/// Runs `f` on both hubs' stores at once, `rounds` times; the two answers of each round.
async fn race<T, F, Fut>(a: &Store, b: &Store, rounds: usize, f: F) -> Vec<(T, T)>
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut out = Vec::new();
    for _ in 0..rounds {
        out.push(tokio::join!(f(a.clone()), f(b.clone())));
    }
    out
}

/// Conversations of `n` customers on the world's SMS inbox.
async fn conversations(store: &Store, w: &World, n: usize, tag: &str) -> Vec<i64> {
    let now = switchboard_hub::clock::now_ms();
    let mut ids = Vec::new();
    for i in 0..n {
        let from = format!("+1415555{:04}", 1000 + i);
        let got = store.ingest(inbound(&w.sms, &from, "hello", &format!("{tag}-{i}"), now)).await.unwrap();
        ids.push(got.conversation_id);
    }
    ids
}

#[tokio::test]
async fn every_timer_and_claim_takes_effect_once_across_hubs() {
    let db = pg_db();
    let (a, b) = (open(&db), open(&db));
    let w = world(&a).await;

    // Snoozes falling due: each conversation wakes once, with one change.
    let ids = conversations(&a, &w, 40, "snooze").await;
    db.execute(&format!(
        "UPDATE conversations SET status = 'snoozed', snoozed_until = 1 WHERE id IN ({})",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    ));
    let head = db.text("SELECT MAX(seq) FROM changes");
    let woken: usize =
        race(&a, &b, 4, |s| async move { s.wake_snoozed(switchboard_hub::clock::now_ms()).await.unwrap() })
            .await
            .into_iter()
            .map(|(x, y)| x + y)
            .sum();
    assert_eq!(woken, ids.len(), "each snooze wakes once");
    let changed = db.text(&format!("SELECT COUNT(*) FROM changes WHERE seq > {head} AND kind = 'conversation'"));
    assert_eq!(changed, ids.len().to_string(), "one change per conversation woken");

    // Agents whose consoles are gone: each goes offline once, with one line in the log.
    db.execute("UPDATE agents SET presence = 'online', last_seen_at = 1");
    let agents: usize = db.text("SELECT COUNT(*) FROM agents").parse().unwrap();
    let gone: usize = race(&a, &b, 3, |s| async move { s.sweep_presence(1_000).await.unwrap() })
        .await
        .into_iter()
        .map(|(x, y)| x + y)
        .sum();
    assert_eq!(gone, agents);
    assert_eq!(db.text("SELECT COUNT(*) FROM presence_log WHERE presence = 'offline'"), agents.to_string());

    // Replies a stopped hub left mid-send: each is marked failed once.
    let replies = conversations(&a, &w, 30, "reply").await;
    for (i, conv) in replies.iter().enumerate() {
        let send = MutationEnvelope {
            mutation_id: i as u64 + 1,
            mutation: Mutation::SendReply(SendReply {
                conversation_id: *conv,
                client_msg_id: format!("c-{i}"),
                body: "On its way".into(),
                attachments: vec![],
                choices: None,
            }),
            expected_version: None,
        };
        a.apply_mutations(&w.agent, "console-1", vec![send]).await.unwrap();
    }
    db.execute("UPDATE outbox SET state = 'sending', next_attempt_at = 1");
    let recovered: usize = race(&a, &b, 3, |s| async move { s.recover_interrupted(1_000).await.unwrap() })
        .await
        .into_iter()
        .map(|(x, y)| x + y)
        .sum();
    assert_eq!(recovered, replies.len(), "each interrupted send is recovered once");
    let failed_changes = db.text(
        "SELECT COUNT(*) FROM changes WHERE kind = 'message' AND payload LIKE '%the hub stopped while sending this%'",
    );
    assert_eq!(failed_changes, replies.len().to_string());

    // Calls to an external bot: each is claimed by one hub.
    let chat = a
        .create_inbox(CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Shop".into(),
            team_id: w.team_a,
            address: "shop".into(),
            settings: json!({"bot": {"mode": "webhook", "name": "Shopbot", "url": "http://127.0.0.1:9/bot", "secret": "bot-webhook-secret-0123", "answer_within_secs": 30}}),
        })
        .await
        .unwrap();
    let now = switchboard_hub::clock::now_ms();
    for i in 0..30 {
        a.ingest(inbound(&chat, &format!("visitor-{i}"), "where is my order", &format!("chat-{i}"), now))
            .await
            .unwrap();
    }
    let due: usize = db.text("SELECT COUNT(*) FROM bot_calls WHERE state = 'due'").parse().unwrap();
    assert_eq!(due, 30, "each chat's message is a call for the bot");
    let mut claimed = Vec::new();
    for (x, y) in race(&a, &b, 6, |s| async move { s.claim_bot_calls(7).await.unwrap() }).await {
        claimed.extend(x.into_iter().chain(y).map(|c| c.id));
    }
    let distinct: BTreeSet<_> = claimed.iter().copied().collect();
    assert_eq!((claimed.len(), distinct.len()), (30, 30), "every call claimed, none twice");
}

/// Two HTTP hubs on one database, each with its own file store.
async fn two_hubs(db: &TestDb) -> (Hub, Hub, World) {
    let a = open(db);
    let w = world(&a).await;
    let config = |_| Config { trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()], ..Config::default() };
    (serve_at(a, config).await, serve_at(open(db), config).await, w)
}

#[tokio::test]
async fn limits_hold_across_hubs() {
    let db = pg_db();
    let (a, b, w) = two_hubs(&db).await;
    let http = reqwest::Client::new();
    webchat_inbox(&a.store, w.team_a, "site").await;

    // A visitor writing through both hubs gets the burst one hub allows, not twice it.
    let session: Value = http
        .post(format!("{}/chat/v1/sessions", a.base))
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({"inbox": "site"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    // The visitor API's limit: 20 messages at once per visitor, then one a second.
    let burst = 20;
    let mut taken = 0;
    let mut refused = None;
    for i in 0..burst * 2 {
        let hub = if i % 2 == 0 { &a } else { &b };
        let resp = http
            .post(format!("{}/chat/v1/messages", hub.base))
            .bearer_auth(&token)
            .header("x-forwarded-for", format!("203.0.113.{}", 10 + i))
            .json(&json!({"text": format!("message {i}"), "client_id": format!("v-{i}")}))
            .send()
            .await
            .unwrap();
        match resp.status().as_u16() {
            200 | 201 => taken += 1,
            429 => refused = Some(resp.json::<Value>().await.unwrap()),
            other => panic!("{other}: {}", resp.text().await.unwrap()),
        }
    }
    assert_eq!(taken, burst, "the two hubs together let through one burst");
    let refused = refused.expect("the rest is refused");
    assert_eq!(refused["code"], "rate_limited");
    let stored = db.text("SELECT COUNT(*) FROM messages WHERE direction = 'inbound'");
    assert_eq!(stored, burst.to_string(), "nothing refused is stored");

    // Failed logins lock an account at the same count whichever hub they reach.
    let locked_at = failed_logins_until_locked(&http, &[&a, &b]).await;
    let db1 = pg_db();
    let (one, _, _) = two_hubs(&db1).await;
    let single = failed_logins_until_locked(&http, &[&one]).await;
    assert!(single.is_some());
    assert_eq!(locked_at, single, "two hubs lock where one does");
}

/// How many wrong passwords for one account, sent to `hubs` in turn, it takes until a login
/// is answered `429`.
async fn failed_logins_until_locked(http: &reqwest::Client, hubs: &[&Hub]) -> Option<usize> {
    for i in 0..40 {
        let resp = http
            .post(format!("{}/api/v1/auth/login", hubs[i % hubs.len()].base))
            .header("x-forwarded-for", "198.51.100.9")
            .json(&json!({"email": "agent@x.test", "password": "wrong"}))
            .send()
            .await
            .unwrap();
        if resp.status() == 429 {
            return Some(i);
        }
    }
    None
}

#[tokio::test]
async fn a_crm_pace_is_kept_by_every_hub_together() {
    use switchboard_hub::crm::limiter::Limiter;
    let db = pg_db();
    let (a, b) = (open(&db), open(&db));
    // Ten calls a second between them: twelve calls, half from each hub, take 1.1 s at least.
    let (pa, pb) = (Limiter::per_second(10.0).shared(a, "hubspot"), Limiter::per_second(10.0).shared(b, "hubspot"));
    let started = std::time::Instant::now();
    let each = |l: Limiter| async move {
        for _ in 0..6 {
            l.acquire().await;
        }
        l
    };
    let (pa, _pb) = tokio::join!(each(pa), each(pb));
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1_050), "twelve calls at 10/s across two hubs took {took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    // A 429 seen by one hub holds the other.
    pa.hold_for(Duration::from_millis(600)).await;
    let other = Limiter::per_second(1000.0).shared(open(&db), "hubspot");
    let t = std::time::Instant::now();
    other.acquire().await;
    assert!(t.elapsed() >= Duration::from_millis(450), "{:?}", t.elapsed());
}

/// The seqs of a stream's change frames until it has seen `want` (or `within` passes).
async fn frames<S>(ws: &mut S, seen: &mut Vec<i64>, stop_after: usize, within: Duration)
where
    S: StreamExt<Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + within;
    while seen.len() < stop_after {
        let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, ws.next()).await else { return };
        let Ok(text) = msg.to_text() else { continue };
        let Ok(frame) = serde_json::from_str::<Value>(text) else { continue };
        if frame["type"] == "changes" {
            seen.extend(frame["changes"].as_array().unwrap().iter().map(|c| c["seq"].as_i64().unwrap()));
        }
    }
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(hub: &Hub, token: &str, since: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/api/v1/stream?since={since}", hub.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

#[tokio::test]
async fn a_console_resumes_on_the_other_hub_with_nothing_missing_or_doubled() {
    let db = pg_db();
    let (a, mut b, w) = two_hubs(&db).await;
    let token = login(&a, "lead@x.test").await;
    let boot = get_json(format!("{}/api/v1/sync/bootstrap", a.base), &token).await;
    let start = boot["cursor"].as_str().unwrap().to_owned();

    // Customers write through both hubs the whole time.
    let writers = {
        let (sa, sb, sms) = (a.store.clone(), b.store.clone(), w.sms.clone());
        tokio::spawn(async move {
            for i in 0..120 {
                let s = if i % 2 == 0 { &sa } else { &sb };
                let now = switchboard_hub::clock::now_ms();
                s.ingest(inbound(&sms, &format!("+1415556{:04}", i % 15), "more", &format!("resume-{i}"), now))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut ws = connect(&b, &token, &start).await;
    frames(&mut ws, &mut seen, 60, Duration::from_secs(10)).await;
    assert!(!seen.is_empty(), "hub B streams");
    // Hub B goes away mid-stream; the console goes on from its last cursor on hub A.
    let _ = b.stop.take().unwrap().send(());
    let cursor = seen.last().copied().unwrap();
    // Frames already in flight from B count: the console applies what it received.
    frames(&mut ws, &mut seen, usize::MAX, Duration::from_secs(2)).await;
    let cursor = seen.last().copied().unwrap_or(cursor);
    let mut ws = connect(&a, &token, &cursor.to_string()).await;
    writers.await.unwrap();
    let lead = w.lead.clone();
    let all = a.store.changes(&lead, start.parse().unwrap(), 10_000).await.unwrap();
    let want: Vec<i64> = all.changes.iter().map(|c| c.seq).collect();
    frames(&mut ws, &mut seen, want.len(), Duration::from_secs(10)).await;
    let doubled = seen.len() - seen.iter().collect::<BTreeSet<_>>().len();
    assert_eq!(doubled, 0, "no change twice");
    assert!(seen.windows(2).all(|p| p[0] < p[1]), "in feed order");
    assert_eq!(seen, want, "every change the lead may see, once");
    assert!(want.len() >= 240, "messages and conversations from both hubs: {}", want.len());
}

/// A provider delivering each message to both hubs at once (a retry racing the first
/// delivery), for customers writing again in their open conversations, many at a time:
/// each message is stored once, both deliveries answer with its ids, and the feed
/// announces it once.
#[tokio::test]
async fn retries_racing_through_two_hubs_store_each_message_once() {
    let db = pg_db();
    let (a, b) = (open(&db), open(&db));
    let w = world(&a).await;
    let customers = 24;
    conversations(&a, &w, customers, "first").await;
    let head = db.text("SELECT MAX(seq) FROM changes");
    let now = switchboard_hub::clock::now_ms();
    let mut deliveries = Vec::new();
    for round in 0..5 {
        for i in 0..customers {
            let msg = inbound(&w.sms, &format!("+1415555{:04}", 1000 + i), "again", &format!("again-{round}-{i}"), now);
            for store in [&a, &b] {
                let (store, msg) = (store.clone(), msg.clone());
                deliveries.push(tokio::spawn(async move { store.ingest(msg).await.unwrap() }));
            }
        }
    }
    let mut answers = Vec::new();
    for d in deliveries {
        answers.push(d.await.unwrap());
    }
    for pair in answers.chunks(2) {
        assert_eq!(pair[0].message_id, pair[1].message_id, "both deliveries name one message");
        assert_eq!(pair[0].conversation_id, pair[1].conversation_id);
        assert!(pair[0].duplicate != pair[1].duplicate, "exactly one of them stored it: {pair:?}");
        assert!(!pair[0].new_conversation && !pair[1].new_conversation);
    }
    let stored = db.text("SELECT COUNT(*) FROM messages WHERE provider_id LIKE 'again-%'");
    assert_eq!(stored, (5 * customers).to_string());
    let fed = db.text(&format!("SELECT COUNT(*) FROM changes WHERE seq > {head} AND kind = 'message'"));
    assert_eq!(fed, (5 * customers).to_string(), "each message announced once");
}
