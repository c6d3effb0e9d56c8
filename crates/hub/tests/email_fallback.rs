//! Web chat's promise of a reply by email, against a real hub and an SMTP stand-in on both
//! engines: replies a visitor who left an address has not seen in time go to that address
//! in one email, threaded on the ones before; the visitor's answer by email comes back into
//! the chat; replies the visitor read, and answers from anyone else, do not.
#![allow(clippy::unwrap_used)]

mod common;

use common::{add_agent, login, open, serve, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use switchboard_hub::config::Config;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};
use switchboard_testkit::providers;

struct Chat {
    http: reqwest::Client,
    base: String,
    agent: String,
    visitor: String,
    conversation: i64,
}

impl Chat {
    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        let resp = self.http.post(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn reply(&self, n: u64, body: &str) -> i64 {
        let (status, out) = self
            .post(
                "/api/v1/mutations",
                &self.agent,
                json!({"client_id": "console-fallback", "mutations": [{"mutation_id": n, "name": "send_reply",
                    "args": {"conversation_id": self.conversation, "client_msg_id": format!("r-{n}"), "body": body}}]}),
            )
            .await;
        assert_eq!((status, out["results"][0]["status"].as_str()), (StatusCode::OK, Some("applied")), "{out}");
        let lines = self.lines().await;
        lines.iter().rev().find(|m| m["client_msg_id"] == format!("r-{n}")).unwrap()["id"].as_i64().unwrap()
    }

    async fn lines(&self) -> Vec<Value> {
        let page: Value = common::get_json(
            format!("{}/api/v1/conversations/{}/messages?limit=200", self.base, self.conversation),
            &self.agent,
        )
        .await;
        page["messages"].as_array().unwrap().clone()
    }

    /// The visitor's answer by email, as the mail service posts it.
    async fn email(&self, inbox: i64, from: &str, in_reply_to: &str, body: &str) -> StatusCode {
        let raw = format!(
            "From: {from}\r\nTo: help@northwind.example\r\nSubject: Re: Your conversation with Northwind\r\n\
             Date: Mon, 16 Nov 2026 11:05:00 +0000\r\nMessage-ID: <{}@mail.example.com>\r\n\
             In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\nMIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
            rand::random::<u64>()
        );
        self.http
            .post(format!("{}/webhooks/email/{inbox}", self.base))
            .header("content-type", "message/rfc822")
            .header("x-switchboard-secret", "mail-secret")
            .body(raw)
            .send()
            .await
            .unwrap()
            .status()
    }
}

/// Waits for the SMTP stand-in to hold `n` messages; returns them.
async fn mails(smtp: &providers::Smtp, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let got = smtp.messages.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{n} emails never went: {:?}", smtp.messages.lock().unwrap());
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    mail.lines().find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

async fn unseen_chat_replies_go_by_email_and_the_answer_comes_back(db: &TestDb) {
    let store = open(db);
    let smtp = providers::smtp().await;
    let team = store.create_team("Support").await.unwrap().id;
    add_agent(&store, "Maya Okafor", "maya@x.test", Role::Agent, vec![team]).await;
    let mk = |kind, name: &str, address: &str, settings: Value| CreateInbox {
        kind,
        name: name.into(),
        team_id: team,
        address: address.into(),
        settings,
    };
    let mail = store
        .create_inbox(mk(
            ChannelKind::Email,
            "Help",
            "help@northwind.example",
            json!({"inbound_secret": "mail-secret", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none", "from_name": "Northwind"}),
        ))
        .await
        .unwrap()
        .id;
    // An inbox that refuses a fallback that does not read.
    let bad = store
        .create_inbox(mk(
            ChannelKind::Webchat,
            "Bad",
            "bad-widget",
            json!({"email_fallback": {"inbox_id": mail, "after_minutes": 0}}),
        ))
        .await;
    assert!(bad.is_err(), "after_minutes 0 is refused");
    store
        .create_inbox(mk(
            ChannelKind::Webchat,
            "Northwind",
            "shop-widget",
            json!({"email_fallback": {"inbox_id": mail, "after_minutes": 1}}),
        ))
        .await
        .unwrap();
    let hub = serve(store.clone(), Config::default()).await;
    let http = reqwest::Client::new();
    let visit: Value = http
        .post(format!("{}/chat/v1/sessions", hub.base))
        .json(&json!({"inbox": "shop-widget"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(visit["email_fallback"], true, "the widget may promise a reply by email");
    let visitor = visit["token"].as_str().unwrap().to_owned();
    let mut chat =
        Chat { http, base: hub.base.clone(), agent: login(&hub, "maya@x.test").await, visitor, conversation: 0 };
    let (status, line) =
        chat.post("/chat/v1/messages", &chat.visitor, json!({"client_id": "c1", "text": "Is the kettle back?"})).await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    let (status, _) = chat.post("/chat/v1/profile", &chat.visitor, json!({"email": "Jo@Example.com"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let boot: Value = common::get_json(format!("{}/api/v1/sync/bootstrap", chat.base), &chat.agent).await;
    chat.conversation = boot["conversations"][0]["id"].as_i64().unwrap();

    // Two replies the visitor does not see: once the first has waited the inbox's minute,
    // both go in one email.
    let first = chat.reply(1, "It is back in stock!").await;
    let second = chat.reply(2, "Shall I reserve one?").await;
    db.execute(&format!("UPDATE messages SET created_at = created_at - 90000 WHERE id IN ({first}, {second})"));
    let sent = mails(&smtp, 1).await;
    let one = &sent[0];
    assert_eq!(header(one, "Subject"), Some("Your conversation with Northwind"), "{one}");
    assert!(header(one, "To").unwrap().contains("jo@example.com"), "{one}");
    assert!(header(one, "From").unwrap().contains("help@northwind.example"), "{one}");
    assert!(one.contains("It is back in stock!") && one.contains("Shall I reserve one?"), "{one}");
    let first_id = header(one, "Message-ID").unwrap().trim_matches(['<', '>']).to_owned();
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(smtp.messages.lock().unwrap().len(), 1, "each reply is emailed once");
    let lines = chat.lines().await;
    assert!(
        lines.iter().any(|m| m["direction"] == "system" && m["body"].as_str().unwrap().starts_with("Emailed to jo@example.com")),
        "agents see it went: {lines:?}"
    );

    // The visitor answers by email: the answer lands in the chat, and shows in the widget.
    assert_eq!(chat.email(mail, "Jo <jo@example.com>", &first_id, "Yes please, the blue one.").await, StatusCode::OK);
    let lines = chat.lines().await;
    let answer = lines.iter().find(|m| m["body"] == "Yes please, the blue one.").unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!((answer["direction"].as_str(), answer["channel"].as_str()), (Some("inbound"), Some("email")));
    let history: Value = common::get_json(format!("{}/chat/v1/messages", chat.base), &chat.visitor).await;
    assert!(history["messages"].as_array().unwrap().iter().any(|m| m["text"] == "Yes please, the blue one."));
    // Someone else answering that email does not reach the chat.
    assert_eq!(chat.email(mail, "eve@example.com", &first_id, "I am not Jo").await, StatusCode::OK);
    assert!(!chat.lines().await.iter().any(|m| m["body"] == "I am not Jo"), "another sender stays out of the chat");

    // The next unseen reply is emailed in the same thread.
    let third = chat.reply(3, "Reserved. It is at the counter.").await;
    db.execute(&format!("UPDATE messages SET created_at = created_at - 90000 WHERE id = {third}"));
    let sent = mails(&smtp, 2).await;
    let two = &sent[1];
    assert_eq!(header(two, "Subject"), Some("Re: Your conversation with Northwind"), "{two}");
    assert_eq!(header(two, "In-Reply-To"), Some(format!("<{first_id}>").as_str()), "{two}");
    assert!(two.contains("Reserved. It is at the counter.") && !two.contains("Shall I reserve one?"), "{two}");

    // A reply the visitor reads in time is not emailed.
    let fourth = chat.reply(4, "See you soon!").await;
    let (status, _) = chat.post("/chat/v1/read", &chat.visitor, json!({"message_id": fourth})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    db.execute(&format!("UPDATE messages SET created_at = created_at - 90000 WHERE id = {fourth}"));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(smtp.messages.lock().unwrap().len(), 2, "read in time: no email");
}

both_engines!(unseen_chat_replies_go_by_email_and_the_answer_comes_back);
