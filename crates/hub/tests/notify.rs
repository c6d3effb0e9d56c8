//! The notifications API on both engines, over HTTP: an admin makes a key for some inboxes
//! (its token shown once); a business system sends a template to a new number and gets one
//! pending conversation, nobody's, with one queued message, however often it retries with
//! its idempotency key; the channel's rules and opt-outs hold as for agents; a key works
//! only on its inboxes and only until revoked, never on the agent API, and only so fast.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, login, open, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_protocol::admin::UpdateInbox;

async fn a_business_system_notifies_customers_by_the_agents_rules(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let templates = json!({"templates": [{"name": "payment_due", "language": "en_US", "body": "Hi {{1}}, invoice {{2}} is due on {{3}}."}]});
    store
        .update_inbox(w.whatsapp.id, UpdateInbox { name: None, team_id: None, settings: Some(templates) })
        .await
        .unwrap();
    store.ingest(inbound(&w.sms, "+14155550188", "STOP", "SM-stop", now_ms())).await.unwrap();
    let hub = common::serve(store.clone(), Config::default()).await;
    let http = reqwest::Client::new();
    let admin = login(&hub, "admin@x.test").await;
    let agent = login(&hub, "agent@x.test").await;

    // Only admins make keys, for inboxes that exist; the token comes once.
    let make = |token: String, body: Value| {
        let http = http.clone();
        let url = format!("{}/api/v1/admin/api_keys", hub.base);
        async move { http.post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    assert_eq!(
        make(agent.clone(), json!({"name": "Shop", "inbox_ids": [w.sms.id]})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        make(admin.clone(), json!({"name": "Shop", "inbox_ids": [999]})).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        make(admin.clone(), json!({"name": " ", "inbox_ids": [w.sms.id]})).await.status(),
        StatusCode::BAD_REQUEST
    );
    let made = make(admin.clone(), json!({"name": "Billing system", "inbox_ids": [w.sms.id, w.whatsapp.id]})).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("sbk_{}_", made["key"]["id"])));
    let listed: Value = http
        .get(format!("{}/api/v1/admin/api_keys", hub.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["name"], "Billing system");
    assert!(!listed.to_string().contains(&token[token.len() - 64..]), "the secret is never listed");

    let send = |token: String, body: Value| {
        let http = http.clone();
        let url = format!("{}/api/v1/notify", hub.base);
        async move { http.post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let due = json!({"idempotency_key": "invoice-2026-11-4521", "inbox_id": w.whatsapp.id, "to": "+1 650 555 1234", "name": "Sheena Nelson", "template": "payment_due", "params": ["Sheena", "#4521", "1 December"]});
    let first = send(token.clone(), due.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["duplicate"], false);
    for _ in 0..2 {
        let again = send(token.clone(), due.clone()).await;
        assert_eq!(again.status(), StatusCode::OK);
        let again: Value = again.json().await.unwrap();
        assert_eq!(
            (&again["conversation_id"], &again["message_id"], &again["duplicate"]),
            (&first["conversation_id"], &first["message_id"], &json!(true))
        );
    }
    let b = store.bootstrap(&w.admin, 5).await.unwrap();
    let c = b.conversations.iter().find(|c| c.id == first["conversation_id"].as_i64().unwrap()).unwrap();
    assert_eq!((c.status.as_str(), c.assignee_id, c.customer_address.as_str()), ("pending", None, "+16505551234"));
    let lines: Vec<_> = b.messages.iter().filter(|m| m.conversation_id == c.id).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].body.as_str(), lines[0].author_agent_id),
        ("Hi Sheena, invoice #4521 is due on 1 December.", None)
    );
    let queued: i64 = db.text("SELECT count(*) FROM outbox").parse().unwrap();
    assert_eq!(queued, 1);

    // The agents' rules hold; nothing is stored for a refusal.
    let before = store.bootstrap(&w.admin, 1).await.unwrap().conversations.len();
    let cases = [
        (
            json!({"idempotency_key": "k1", "inbox_id": w.whatsapp.id, "to": "+16505550000", "body": "Pay now"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reply_window_closed",
        ),
        (
            json!({"idempotency_key": "k2", "inbox_id": w.sms.id, "to": "+14155550188", "body": "Pay now"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "opted_out",
        ),
        (
            json!({"idempotency_key": "k3", "inbox_id": w.email.id, "to": "a@example.com", "subject": "Due", "body": "Pay"}),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            json!({"idempotency_key": "", "inbox_id": w.sms.id, "to": "+14155550170", "body": "Hi"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"idempotency_key": "k4", "inbox_id": w.sms.id, "to": "not a number", "body": "Hi"}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            json!({"idempotency_key": "k5", "inbox_id": w.sms.id, "to": "+14155550170", "body": "Hi", "unknown": 1}),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for (body, status, code) in cases {
        let resp = send(token.clone(), body.clone()).await;
        let got = resp.status();
        let answer: Value = resp.json().await.unwrap();
        assert_eq!((got, answer["code"].as_str().unwrap()), (status, code), "{body}: {answer}");
    }
    assert_eq!(store.bootstrap(&w.admin, 1).await.unwrap().conversations.len(), before, "nothing stored");

    // Not an agent's token, not a forged or revoked key, and a key is no agent token.
    let sms = json!({"idempotency_key": "sms-1", "inbox_id": w.sms.id, "to": "+14155550170", "body": "Your parcel ships today."});
    assert_eq!(send(agent.clone(), sms.clone()).await.status(), StatusCode::UNAUTHORIZED);
    let forged = format!("{}{}", &token[..token.len() - 1], if token.ends_with('0') { "1" } else { "0" });
    assert_eq!(send(forged, sms.clone()).await.status(), StatusCode::UNAUTHORIZED);
    let me = http.get(format!("{}/api/v1/me", hub.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(send(token.clone(), sms.clone()).await.status(), StatusCode::CREATED);
    let id = made["key"]["id"].as_i64().unwrap();
    let revoked =
        http.delete(format!("{}/api/v1/admin/api_keys/{id}", hub.base)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(send(token.clone(), sms.clone()).await.status(), StatusCode::UNAUTHORIZED);
}

async fn a_key_sends_only_so_fast(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let hub = common::serve(store.clone(), Config::default()).await;
    let http = reqwest::Client::new();
    let admin = login(&hub, "admin@x.test").await;
    let made: Value = http
        .post(format!("{}/api/v1/admin/api_keys", hub.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "Shop", "inbox_ids": [w.sms.id]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = made["token"].as_str().unwrap();
    let rate = switchboard_hub::api::notify::PER_KEY;
    let sends = rate.burst as usize * 2;
    let started = std::time::Instant::now();
    let mut all = tokio::task::JoinSet::new();
    for n in 0..sends {
        let (http, url, token) = (http.clone(), format!("{}/api/v1/notify", hub.base), token.to_owned());
        let body =
            json!({"idempotency_key": format!("b-{n}"), "inbox_id": w.sms.id, "to": "+14155550170", "body": "Hi"});
        all.spawn(async move {
            let resp = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            (resp.status(), resp.headers().contains_key("retry-after"))
        });
    }
    let (mut sent, mut limited) = (0usize, 0usize);
    while let Some(r) = all.join_next().await {
        match r.unwrap() {
            (StatusCode::CREATED, _) => sent += 1,
            (StatusCode::TOO_MANY_REQUESTS, true) => limited += 1,
            other => panic!("{other:?}"),
        }
    }
    let allowed = rate.burst + rate.per_sec * started.elapsed().as_secs_f64() + 1.0;
    assert!(limited > 0, "the key was slowed down");
    assert!(sent >= rate.burst as usize && sent as f64 <= allowed, "{sent} sent, {limited} refused, {allowed} allowed");
    // The agents are not slowed by it.
    let agent = login(&hub, "agent@x.test").await;
    let me = http.get(format!("{}/api/v1/me", hub.base)).bearer_auth(&agent).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

both_engines!(a_business_system_notifies_customers_by_the_agents_rules, a_key_sends_only_so_fast);
