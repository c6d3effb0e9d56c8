//! Bots that answer first, against a real hub on both engines: the built-in bot answering
//! from the knowledge base on web chat and SMS and handing over (asked for a person, no
//! answer, a handoff word, the answer limit), resolving when the customer was helped; an
//! external bot's signed webhook and its key's narrow scope; the model connector against a
//! chat-completions stand-in; and a failing or slow bot handing over at once. Each handoff
//! leaves agents the summary line and the customer told a person will answer.
#![allow(clippy::unwrap_used)]

mod common;

use common::{add_agent, login, open, serve_at, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use switchboard_hub::channels::signature::hmac_sha256_hex;
use switchboard_hub::config::Config;
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};
use switchboard_protocol::notify::{CreateApiKey, KeyScope};
use switchboard_testkit::bots::{self, Answer};

const SECRET: &str = "bot-webhook-secret-0123";

async fn kb(store: &Store) {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/articles"));
    let saves = switchboard_hub::kb_files::read_folder(dir).unwrap();
    store.import_articles(Viewer::command_line(), saves).await.unwrap();
}

struct Site {
    hub: common::Hub,
    http: reqwest::Client,
    agent: String,
    team: i64,
}

impl Site {
    async fn new(db: &TestDb, bot: Value, more: impl FnOnce(&mut Config)) -> Site {
        let store = open(db);
        kb(&store).await;
        let team = store.create_team("Support").await.unwrap().id;
        add_agent(&store, "Maya Okafor", "maya@x.test", Role::Lead, vec![team]).await;
        let mut config = Config::default();
        more(&mut config);
        let chat = CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Shop".into(),
            team_id: team,
            address: "shop-widget".into(),
            settings: json!({ "bot": bot }),
        };
        store.create_inbox(chat).await.unwrap();
        let hub = serve_at(store, move |addr| Config { public_url: Some(format!("http://{addr}")), ..config }).await;
        let agent = login(&hub, "maya@x.test").await;
        Site { hub, http: reqwest::Client::new(), agent, team }
    }

    async fn visitor(&self) -> String {
        let v: Value = self
            .http
            .post(format!("{}/chat/v1/sessions", self.hub.base))
            .json(&json!({"inbox": "shop-widget"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    async fn say(&self, visitor: &str, id: &str, text: &str) {
        let r = self
            .http
            .post(format!("{}/chat/v1/messages", self.hub.base))
            .bearer_auth(visitor)
            .json(&json!({"client_id": id, "text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    }

    async fn tap(&self, visitor: &str, id: &str, message_id: i64, choice: &str) {
        let r = self
            .http
            .post(format!("{}/chat/v1/messages", self.hub.base))
            .bearer_auth(visitor)
            .json(&json!({"client_id": id, "text": "", "choice": {"message_id": message_id, "id": choice}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    }

    async fn thread(&self, visitor: &str) -> Vec<Value> {
        let h: Value = common::get_json(format!("{}/chat/v1/messages", self.hub.base), visitor).await;
        h["messages"].as_array().unwrap().clone()
    }

    /// The visitor's thread once it holds a line satisfying `f`.
    async fn wait_line(&self, visitor: &str, what: &str, f: impl Fn(&Value) -> bool) -> Vec<Value> {
        for _ in 0..150 {
            let t = self.thread(visitor).await;
            if t.iter().any(&f) {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{what}: {:?}", self.thread(visitor).await)
    }

    /// The agents' view of the latest conversation and its lines.
    async fn conversation(&self) -> (Value, Vec<Value>) {
        let boot: Value = common::get_json(format!("{}/api/v1/sync/bootstrap", self.hub.base), &self.agent).await;
        let conv = boot["conversations"].as_array().unwrap().iter().max_by_key(|c| c["id"].as_i64()).unwrap().clone();
        let page: Value = common::get_json(
            format!("{}/api/v1/conversations/{}/messages?limit=100", self.hub.base, conv["id"]),
            &self.agent,
        )
        .await;
        (conv, page["messages"].as_array().unwrap().clone())
    }

    async fn wait_status(&self, status: &str) -> (Value, Vec<Value>) {
        for _ in 0..150 {
            let (c, lines) = self.conversation().await;
            if c["status"] == status {
                return (c, lines);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("never {status}: {:?}", self.conversation().await)
    }

    async fn report(&self) -> Value {
        let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
        common::get_json(
            format!("{}/api/v1/reports?from={today}&to={today}&team_id={}", self.hub.base, self.team),
            &self.agent,
        )
        .await
    }
}

fn handoff_line(lines: &[Value]) -> String {
    lines
        .iter()
        .find(|m| m["direction"] == "system" && m["body"].as_str().unwrap_or("").starts_with("Handed over by the bot"))
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no handoff line: {lines:?}"))
}

async fn the_built_in_bot_answers_then_hands_over(db: &TestDb) {
    let site = Site::new(
        db,
        json!({"mode": "builtin", "name": "Northwind assistant", "max_turns": 2, "handoff_words": ["complaint"]}),
        |_| {},
    )
    .await;

    // A question the knowledge base answers: the bot's line carries the short answer, the
    // link and the two buttons; the conversation is the bot's, nobody's to work on.
    let v = site.visitor().await;
    site.say(&v, "q1", "How do I return my shoes?").await;
    let t = site.thread(&v).await;
    let answer = t.iter().find(|m| m["author"] == "bot").unwrap_or_else(|| panic!("{t:?}"));
    assert_eq!(answer["agent_name"], "Northwind assistant");
    let text = answer["text"].as_str().unwrap();
    assert!(text.starts_with("You can return any unused item within 30 days"), "{text}");
    assert!(text.contains(&format!("{}/help/articles/return-an-item", site.hub.base)), "{text}");
    assert!(text.ends_with("Did that answer your question?"), "{text}");
    let options: Vec<&str> =
        answer["choices"]["options"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(options, ["bot:helped", "bot:person"]);
    let (conv, lines) = site.conversation().await;
    assert_eq!((conv["status"].as_str(), conv.get("queued_at")), (Some("bot"), None), "{conv}");
    assert!(lines.iter().any(|m| m["bot"] == "Northwind assistant"), "agents see the line is the bot's");

    // "Talk to a person": handed over with the summary, the customer told a person comes.
    site.tap(&v, "q2", answer["id"].as_i64().unwrap(), "bot:person").await;
    let (conv, lines) = site.wait_status("open").await;
    assert!(conv["waiting_since"].is_i64(), "the customer waits for a person: {conv}");
    assert_eq!(
        handoff_line(&lines),
        "Handed over by the bot: the customer asked for a person. The customer asked: “How do I return my shoes?”. \
         The bot offered “How do I return an item?”."
    );
    let t = site.thread(&v).await;
    assert!(t
        .iter()
        .any(|m| m["author"] == "bot" && m["text"].as_str().unwrap().starts_with("I'm passing you to a person")));
    // The agent's reply reaches the visitor; the bot says no more.
    let r = site
        .http
        .post(format!("{}/api/v1/mutations", site.hub.base))
        .bearer_auth(&site.agent)
        .json(&json!({"client_id": "console-bot", "mutations": [{"mutation_id": 1, "name": "send_reply",
            "args": {"conversation_id": conv["id"], "client_msg_id": "r1", "body": "Hi, Maya here. Which order?"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t = site.wait_line(&v, "the agent's reply", |m| m["author"] == "agent").await;
    site.say(&v, "q3", "Order 1234").await;
    let after = site.thread(&v).await;
    assert_eq!(
        after.iter().filter(|m| m["author"] == "bot").count(),
        t.iter().filter(|m| m["author"] == "bot").count()
    );

    // Helped: the bot thanks the customer and resolves; contained.
    let v2 = site.visitor().await;
    site.say(&v2, "a1", "I forgot my password").await;
    let offered = site.wait_line(&v2, "an answer", |m| m["author"] == "bot").await;
    let id = offered.iter().find(|m| m["author"] == "bot").unwrap()["id"].as_i64().unwrap();
    site.tap(&v2, "a2", id, "bot:helped").await;
    let (conv, _) = site.wait_status("resolved").await;
    assert!(conv["assignee_id"].is_null());

    // No good answer: handed over at once.
    let v3 = site.visitor().await;
    site.say(&v3, "n1", "Do you sell purple elephants?").await;
    let (_, lines) = site.wait_status("open").await;
    assert!(
        handoff_line(&lines).contains("the bot had no good answer")
            && handoff_line(&lines).contains("The bot had not answered yet.")
    );

    // A handoff word.
    let v4 = site.visitor().await;
    site.say(&v4, "k1", "I have a complaint about my parcel").await;
    let (_, lines) = site.wait_status("open").await;
    assert!(handoff_line(&lines).contains("the customer wrote a handoff word"), "{lines:?}");

    // The answer limit: two answers, then people.
    let v5 = site.visitor().await;
    site.say(&v5, "t1", "how much is shipping").await;
    site.say(&v5, "t2", "where is my parcel tracking").await;
    site.say(&v5, "t3", "and my refund?").await;
    let (_, lines) = site.wait_status("open").await;
    let line = handoff_line(&lines);
    assert!(
        line.contains("the bot reached its limit of answers")
            && line.contains("“How much is shipping?”, “How do I track my order?”"),
        "{line}"
    );

    // The lead's report: five conversations with the bot, one contained, four handed over.
    let report = site.report().await;
    let bot = &report["bot"];
    assert_eq!(
        (bot["conversations"].as_u64(), bot["contained"].as_u64(), bot["handed_off"].as_u64()),
        (Some(5), Some(1), Some(4)),
        "{report}"
    );
    let reasons: Vec<&str> = bot["reasons"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    for r in ["asked_for_person", "no_answer", "keyword", "turn_limit"] {
        assert!(reasons.contains(&r), "{reasons:?}");
    }
    let offered = report["articles"].as_array().unwrap();
    assert!(
        offered.iter().any(|a| a["title"] == "I forgot my password" && a["offered"] == 1 && a["helpful"] == 1),
        "{offered:?}"
    );
}

async fn on_sms_the_bot_says_it_is_automated_and_reads_words(db: &TestDb) {
    let store = open(db);
    kb(&store).await;
    let team = store.create_team("Support").await.unwrap().id;
    let admin = add_agent(&store, "Maya Okafor", "maya@x.test", Role::Admin, vec![team]).await;
    let sms = store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Sms,
            name: "Texts".into(),
            team_id: team,
            address: "+14155550100".into(),
            settings: json!({"delivery": "simulated", "bot": {"mode": "builtin", "name": "Nora"}}),
        })
        .await
        .unwrap();
    let at = switchboard_hub::clock::now_ms();
    let got = store.ingest(common::inbound(&sms, "+351912345678", "where is my parcel?", "SM1", at)).await.unwrap();
    let v = Viewer { agent_id: admin, role: Role::Admin, teams: vec![team] };
    let boot = store.bootstrap(&v, 50).await.unwrap();
    let lines = boot.messages;
    let bot = lines.iter().find(|m| m.bot.is_some()).unwrap_or_else(|| panic!("{lines:?}"));
    assert!(bot.body.starts_with("Nora (automated): Every order gets a tracking number"), "{}", bot.body);
    assert!(bot.body.ends_with("Reply YES, or PERSON to talk to someone."), "{}", bot.body);
    assert!(bot.choices.is_none(), "SMS carries no buttons");
    store.ingest(common::inbound(&sms, "+351912345678", "Yes", "SM2", at + 1000)).await.unwrap();
    let boot = store.bootstrap(&v, 50).await.unwrap();
    let conv = boot.conversations.iter().find(|c| c.id == got.conversation_id).unwrap();
    assert_eq!(conv.status, switchboard_protocol::model::ConversationStatus::Resolved, "a YES resolves it");
}

/// Checks the webhook's signature as a bot would: `t=<ms>,v1=<hex>` over `<ms>.<body>`.
fn signed(d: &bots::Delivery) -> bool {
    let Some(sig) = &d.signature else { return false };
    let (t, v1) = sig.split_once(',').unwrap();
    let t = t.strip_prefix("t=").unwrap();
    let v1 = v1.strip_prefix("v1=").unwrap();
    hmac_sha256_hex(SECRET, format!("{t}.{}", d.body).as_bytes()) == v1
}

async fn make_key(store: &Store, inboxes: Vec<i64>, scope: KeyScope) -> String {
    let secret = switchboard_hub::auth::new_secret();
    let hash = switchboard_hub::auth::token_secret_hash(&secret);
    let key =
        store.create_api_key(CreateApiKey { name: "Bot".into(), inbox_ids: inboxes, scope }, hash, None).await.unwrap();
    switchboard_hub::auth::api_key_token(key.id, &secret)
}

async fn an_external_bot_answers_through_its_webhook_and_its_key(db: &TestDb) {
    let bot = bots::bot().await;
    let site = Site::new(
        db,
        json!({"mode": "webhook", "name": "Shopbot", "url": bot.url, "secret": SECRET, "answer_within_secs": 30}),
        |_| {},
    )
    .await;
    let store = &site.hub.store;
    let chat = store.inboxes().await.unwrap().into_iter().find(|i| i.kind == ChannelKind::Webchat).unwrap();
    let other = common::webchat_inbox(store, site.team, "other-widget").await;
    let bot_key = make_key(store, vec![chat.id], KeyScope::Bot).await;
    let notify_key = make_key(store, vec![chat.id], KeyScope::Notify).await;
    let wrong_inbox_key = make_key(store, vec![other.id], KeyScope::Bot).await;

    let v = site.visitor().await;
    site.say(&v, "w1", "Can I pay with a gift card?").await;
    let got = bot.wait_for(1).await;
    assert!(signed(&got[0]), "the webhook is signed with the inbox's secret");
    let event = got[0].json();
    assert_eq!(
        (event["event"].as_str(), event["message"]["body"].as_str()),
        (Some("message_created"), Some("Can I pay with a gift card?"))
    );
    assert_eq!(event["inbox"]["channel"], "webchat");
    let conv_id = event["conversation_id"].as_i64().unwrap();
    let reply = |token: String, body: Value| {
        let http = site.http.clone();
        let url = format!("{}/api/v1/bot/conversations/{conv_id}/reply", site.hub.base);
        async move { http.post(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let answer = json!({"messages": [{"body": "Yes, gift cards work for any order.", "articles": ["charged-twice"]}]});
    // The key's scope is narrow: a notifications key cannot answer, a bot key cannot send
    // notifications, nor answer in another inbox's conversation; no key is no answer.
    assert_eq!(reply(notify_key.clone(), answer.clone()).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(reply(wrong_inbox_key, answer.clone()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(reply("sbk_1_nope".into(), answer.clone()).await.status(), StatusCode::UNAUTHORIZED);
    let notify = site
        .http
        .post(format!("{}/api/v1/notify", site.hub.base))
        .bearer_auth(&bot_key)
        .json(&json!({"inbox_id": chat.id, "to": "+14155550123", "body": "hi", "idempotency_key": "k1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(notify.status(), StatusCode::FORBIDDEN);
    // Bad answers are refused with the reason, and nothing is stored.
    let r = reply(bot_key.clone(), json!({"messages": []})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = reply(bot_key.clone(), json!({"messages": [{"body": "x", "colour": "red"}]})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // The bot answers; the visitor sees its line.
    let r = reply(bot_key.clone(), answer).await;
    assert_eq!(r.status(), StatusCode::OK);
    let t = site.wait_line(&v, "the bot's answer", |m| m["author"] == "bot").await;
    assert!(t.iter().any(|m| m["agent_name"] == "Shopbot" && m["text"] == "Yes, gift cards work for any order."));
    // It hands over with its own words; after that the conversation is people's.
    let r = reply(bot_key.clone(), json!({"handoff": {"note": "wants to split a payment"}})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, lines) = site.wait_status("open").await;
    let line = handoff_line(&lines);
    assert!(line.contains("the bot handed over") && line.contains("“wants to split a payment”"), "{line}");
    let r = reply(bot_key.clone(), json!({"messages": [{"body": "too late"}]})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // A bot may answer in its webhook's response instead.
    bot.set(Answer::Now(json!({"messages": [{"body": "Our shop opens at nine."}], "handoff": null})));
    let v2 = site.visitor().await;
    site.say(&v2, "w2", "When do you open?").await;
    site.wait_line(&v2, "the answer in the response", |m| m["text"] == "Our shop opens at nine.").await;
    let got = bot.wait_for(2).await;
    assert!(got.iter().all(signed));
}

async fn a_failing_or_slow_bot_hands_over_at_once(db: &TestDb) {
    let bot = bots::bot().await;
    bot.set(Answer::Fail(500));
    let site =
        Site::new(db, json!({"mode": "webhook", "url": bot.url, "secret": SECRET, "answer_within_secs": 1}), |_| {})
            .await;
    let v = site.visitor().await;
    site.say(&v, "f1", "Hello?").await;
    let (_, lines) = site.wait_status("open").await;
    assert!(handoff_line(&lines).contains("the bot failed"), "{lines:?}");
    site.wait_line(&v, "the customer is told", |m| m["text"].as_str().unwrap_or("").starts_with("I'm passing you"))
        .await;

    bot.set(Answer::Slow(Duration::from_secs(5)));
    let v = site.visitor().await;
    let started = std::time::Instant::now();
    site.say(&v, "s1", "Anyone there?").await;
    let (_, lines) = site.wait_status("open").await;
    assert!(handoff_line(&lines).contains("did not answer in time"), "{lines:?}");
    assert!(started.elapsed() < Duration::from_secs(4), "handed over within the inbox's second, not the bot's five");

    // A bot that answers "later" and never does: the customer is not left waiting either.
    bot.set(Answer::Later);
    let v = site.visitor().await;
    site.say(&v, "l1", "Still there?").await;
    let (_, lines) = site.wait_status("open").await;
    assert!(handoff_line(&lines).contains("did not answer in time"), "{lines:?}");
}

async fn the_model_answers_from_the_articles_and_hands_over_when_unsure(db: &TestDb) {
    let model = bots::model().await;
    let url = model.url.clone();
    let site = Site::new(db, json!({"mode": "llm", "name": "Ada"}), move |c| {
        c.llm_url = Some(url);
        c.llm_model = "test-model".into();
        c.llm_api_key = Some("sk-test".into());
    })
    .await;
    model.say(&format!(
        "Every order gets a tracking number by email when it ships. See {}/help/articles/track-my-order",
        site.hub.base
    ));
    let v = site.visitor().await;
    site.say(&v, "m1", "where is my parcel?").await;
    let t = site.wait_line(&v, "the model's answer", |m| m["author"] == "bot").await;
    let line = t.iter().find(|m| m["author"] == "bot").unwrap();
    assert!(line["text"].as_str().unwrap().contains("/help/articles/track-my-order"), "{line}");
    assert_eq!(line["choices"]["options"][1]["id"], "bot:person");
    let asked = model.asked();
    assert_eq!(asked[0].authorization.as_deref(), Some("Bearer sk-test"));
    assert_eq!(asked[0].body["model"], "test-model");
    let system = asked[0].body["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("How do I track my order?") && system.contains("HANDOFF"),
        "grounded in the articles: {system}"
    );
    assert_eq!(asked[0].body["messages"].as_array().unwrap().last().unwrap()["content"], "where is my parcel?");

    // Unsure: it says so, and people take over.
    model.say("HANDOFF");
    site.say(&v, "m2", "can you repaint my fence?").await;
    let (_, lines) = site.wait_status("open").await;
    assert!(handoff_line(&lines).contains("the bot handed over"), "{lines:?}");
    let report = site.report().await;
    assert!(
        report["articles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["title"] == "How do I track my order?" && a["offered"] == 1),
        "{report}"
    );

    // The hub's "Talk to a person" under the model's answer hands over without asking it.
    model.say(&format!("Tracking numbers come by email. See {}/help/articles/track-my-order", site.hub.base));
    let v2 = site.visitor().await;
    site.say(&v2, "p1", "where is my parcel?").await;
    let t = site.wait_line(&v2, "the model's answer", |m| m["author"] == "bot").await;
    let answer = t.iter().find(|m| m["author"] == "bot").unwrap()["id"].as_i64().unwrap();
    let asked_before = model.asked().len();
    site.tap(&v2, "p2", answer, "bot:person").await;
    let (_, lines) = site.wait_status("open").await;
    assert!(handoff_line(&lines).contains("the customer asked for a person"), "{lines:?}");
    assert_eq!(model.asked().len(), asked_before, "the model is not asked about a button of the hub's");
}

async fn visitors_find_articles_before_they_write(db: &TestDb) {
    let site = Site::new(db, json!({"mode": "builtin"}), |_| {}).await;
    let v = site.visitor().await;
    let found: Value =
        common::get_json(format!("{}/chat/v1/articles?q=forgot+passw&locale=en-GB", site.hub.base), &v).await;
    let first = &found["articles"][0];
    assert_eq!(first["key"], "reset-password", "{found}");
    assert_eq!(first["url"], format!("{}/help/articles/reset-password", site.hub.base));
    let french: Value =
        common::get_json(format!("{}/chat/v1/articles?q=retourner&locale=fr-FR", site.hub.base), &v).await;
    assert_eq!(french["articles"][0]["key"], "retourner-un-article");
    let id = first["id"].as_i64().unwrap();
    for _ in 0..2 {
        let r = site
            .http
            .post(format!("{}/chat/v1/deflections", site.hub.base))
            .bearer_auth(&v)
            .json(&json!({"article_id": id}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let r = site
        .http
        .post(format!("{}/chat/v1/deflections", site.hub.base))
        .bearer_auth(&v)
        .json(&json!({"article_id": 999_999}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = site.http.get(format!("{}/chat/v1/articles?q=x", site.hub.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "a visitor's token is needed");
    assert_eq!(site.report().await["deflections"], 1, "counted once per visitor and article");
    // Typing fast is limited; the visitor is told to wait.
    let mut limited = false;
    for i in 0..80 {
        let r = site
            .http
            .get(format!("{}/chat/v1/articles?q=ship{i}", site.hub.base))
            .bearer_auth(&v)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited);
}

both_engines!(
    the_built_in_bot_answers_then_hands_over,
    on_sms_the_bot_says_it_is_automated_and_reads_words,
    an_external_bot_answers_through_its_webhook_and_its_key,
    a_failing_or_slow_bot_hands_over_at_once,
    the_model_answers_from_the_articles_and_hands_over_when_unsure,
    visitors_find_articles_before_they_write
);
