//! Every channel end to end against a real hub: a provider's real-format webhook in
//! (signed as the provider signs it), an agent's reply out to a stand-in of the provider's
//! API, delivery reports back, and every kind of bad input refused without storing anything.
#![allow(clippy::unwrap_used)]

mod common;
use switchboard_testkit::providers;

use common::{login, open, serve_at, sqlite_db, Hub, PASSWORD};
use providers::{Kind, Mode};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use switchboard_hub::auth::hash_secret;
use switchboard_hub::channels::signature;
use switchboard_hub::config::Config;
use switchboard_hub::store::directory::NewAgent;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap()
}

struct Setup {
    hub: Hub,
    http: reqwest::Client,
    token: String,
    twilio: providers::Provider,
    graph: providers::Provider,
    smtp: providers::Smtp,
    sms: i64,
    whatsapp: i64,
    messenger: i64,
    instagram: i64,
    email: i64,
    _db: common::TestDb,
}

async fn setup() -> Setup {
    let db = sqlite_db();
    let store = open(&db);
    let twilio = providers::start(Kind::Twilio).await;
    let graph = providers::start(Kind::Graph).await;
    let smtp = providers::smtp().await;
    let team = store.create_team("Support").await.unwrap().id;
    store
        .create_agent(NewAgent {
            name: "Maya".into(),
            email: "maya@x.test".into(),
            password_hash: hash_secret(PASSWORD).unwrap(),
            role: Role::Agent,
            teams: vec![team],
            capacity: 10,
        })
        .await
        .unwrap();
    let mk = |kind, address: &str, settings: Value| CreateInbox {
        kind,
        name: format!("{kind}"),
        team_id: team,
        address: address.into(),
        settings,
    };
    let sms = store
        .create_inbox(mk(ChannelKind::Sms, "+14155550100", json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "twilio-auth-token", "base_url": twilio.base})))
        .await
        .unwrap()
        .id;
    let meta = |extra: Value| {
        let mut v = json!({"app_secret": "meta-app-secret", "verify_token": "meta-verify", "access_token": "EAAG-page-token", "base_url": graph.base});
        v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        v
    };
    let whatsapp = store
        .create_inbox(mk(
            ChannelKind::Whatsapp,
            "+15550783881",
            meta(json!({"sender_id": "106540352242922", "templates": [{"name": "order_update", "language": "en_US", "body": "Hi {{1}}, your order {{2}} has shipped."}]})),
        ))
        .await
        .unwrap()
        .id;
    let messenger =
        store.create_inbox(mk(ChannelKind::Messenger, "104857600012345", meta(json!({})))).await.unwrap().id;
    let instagram =
        store.create_inbox(mk(ChannelKind::Instagram, "17841400000000000", meta(json!({})))).await.unwrap().id;
    let email = store
        .create_inbox(mk(
            ChannelKind::Email,
            "billing@northwind.example",
            json!({"inbound_secret": "mail-secret", "authserv_id": "mx.northwind.example", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_tls": "none", "from_name": "Northwind Billing"}),
        ))
        .await
        .unwrap()
        .id;
    let hub = serve_at(store, |addr| Config {
        public_url: Some(format!("http://{addr}")),
        delivery_retry_base_ms: 50,
        delivery_max_attempts: 3,
        delivery_timeout_ms: 500,
        max_body_bytes: 256 * 1024,
        ..Config::default()
    })
    .await;
    let token = login(&hub, "maya@x.test").await;
    Setup {
        hub,
        http: reqwest::Client::new(),
        token,
        twilio,
        graph,
        smtp,
        sms,
        whatsapp,
        messenger,
        instagram,
        email,
        _db: db,
    }
}

impl Setup {
    fn head(&self) -> i64 {
        *self.hub.store.head().borrow()
    }

    /// Posts a form webhook signed the way Twilio signs it.
    async fn twilio(&self, path: &str, form: &str, sign: bool) -> (StatusCode, String) {
        let url = format!("{}{path}", self.hub.base);
        let params: Vec<(String, String)> =
            form_urlencoded::parse(form.trim().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let mut req = self
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.trim().to_owned());
        if sign {
            req = req.header("x-twilio-signature", signature::twilio("twilio-auth-token", &url, &params));
        }
        let resp = req.send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    async fn meta(&self, inbox: i64, body: &str, secret: Option<&str>) -> (StatusCode, String) {
        let mut req = self
            .http
            .post(format!("{}/webhooks/meta/{inbox}", self.hub.base))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(s) = secret {
            req = req.header("x-hub-signature-256", signature::meta(s, body.as_bytes()));
        }
        let resp = req.send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    async fn mutate(&self, mutations: Value) -> Value {
        let resp = self
            .http
            .post(format!("{}/api/v1/mutations", self.hub.base))
            .bearer_auth(&self.token)
            .json(&json!({"client_id": "console-test", "mutations": mutations}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    async fn bootstrap(&self) -> Value {
        self.http
            .get(format!("{}/api/v1/sync/bootstrap?messages_per_conversation=100", self.hub.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn messages(&self, conversation: i64) -> Vec<Value> {
        let page: Value = self
            .http
            .get(format!("{}/api/v1/conversations/{conversation}/messages?limit=200", self.hub.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["messages"].as_array().unwrap().clone()
    }

    async fn conversation_of(&self, inbox: i64) -> Value {
        let b = self.bootstrap().await;
        b["conversations"].as_array().unwrap().iter().find(|c| c["inbox_id"] == inbox).cloned().unwrap()
    }

    /// Waits until the `index`th message of `conversation` names only files the hub keeps
    /// (the media keeper fetched them); returns it.
    async fn kept_media(&self, conversation: i64, index: usize) -> Value {
        for _ in 0..100 {
            let msgs = self.messages(conversation).await;
            let m = &msgs[index];
            let urls: Vec<&str> =
                m["attachments"].as_array().unwrap().iter().map(|a| a["url"].as_str().unwrap()).collect();
            if !urls.is_empty() && urls.iter().all(|u| u.starts_with("/api/v1/blobs/")) {
                return m.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the media was never kept: {:?}", self.messages(conversation).await[index]);
    }

    /// A file the hub keeps, as the agent fetches it.
    async fn file(&self, path: &str) -> Vec<u8> {
        let resp = self.http.get(format!("{}{path}", self.hub.base)).bearer_auth(&self.token).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        resp.bytes().await.unwrap().to_vec()
    }

    /// Uploads a file as the agent; returns the hub's answer.
    async fn upload(&self, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}/api/v1/uploads", self.hub.base))
            .bearer_auth(&self.token)
            .header("x-file-name", encoded(name).replace('+', "%20"))
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        (resp.status(), resp.json().await.unwrap())
    }

    /// Waits until message `client_msg_id` reaches `delivery`.
    async fn wait_delivery(&self, conversation: i64, client_msg_id: &str, delivery: &str) -> Value {
        for _ in 0..100 {
            let msgs = self.messages(conversation).await;
            if let Some(m) = msgs.iter().find(|m| m["client_msg_id"] == client_msg_id && m["delivery"] == delivery) {
                return m.clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{client_msg_id} never reached {delivery}: {:?}", self.messages(conversation).await);
    }
}

/// `s` as a form value: `:` and `/` percent-encoded.
fn encoded(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn reply(id: u64, conversation: &Value, cmid: &str, body: &str) -> Value {
    json!({"mutation_id": id, "name": "send_reply", "args": {"conversation_id": conversation["id"], "client_msg_id": cmid, "body": body}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_through_twilio_in_and_out() {
    let s = setup().await;
    let path = format!("/webhooks/twilio/{}", s.sms);
    let head = s.head();
    // Forged, unsigned, malformed, unknown inbox, oversize: refused, nothing stored.
    let mut forged =
        s.http.post(format!("{}{path}", s.hub.base)).header("content-type", "application/x-www-form-urlencoded");
    forged = forged
        .header("x-twilio-signature", "bm90IGEgc2lnbmF0dXJl")
        .body(fixture("twilio/inbound_sms.form").trim().to_owned());
    assert_eq!(forged.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(s.twilio(&path, &fixture("twilio/inbound_sms.form"), false).await.0, StatusCode::FORBIDDEN);
    let tampered = fixture("twilio/inbound_sms.form").replace("order", "ordeR");
    let url = format!("{}{path}", s.hub.base);
    let params: Vec<(String, String)> = form_urlencoded::parse(fixture("twilio/inbound_sms.form").trim().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let sig = signature::twilio("twilio-auth-token", &url, &params);
    let r = s
        .http
        .post(&url)
        .header("x-twilio-signature", sig)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(tampered.trim().to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a body changed after signing");
    assert_eq!(s.twilio(&path, "From=%2B14155550123&Body=no+sid", true).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.twilio("/webhooks/twilio/999", &fixture("twilio/inbound_sms.form"), true).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.twilio(&format!("/webhooks/twilio/{}", s.email), &fixture("twilio/inbound_sms.form"), true).await.0,
        StatusCode::NOT_FOUND
    );
    let big = format!("From=%2B14155550123&MessageSid=SMbig&Body={}", "x".repeat(300 * 1024));
    assert_eq!(s.twilio(&path, &big, true).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(s.head(), head, "nothing stored");

    // The real thing, twice (Twilio retries): one message.
    for _ in 0..2 {
        let (status, body) = s.twilio(&path, &fixture("twilio/inbound_sms.form"), true).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<Response>"));
    }
    let conv = s.conversation_of(s.sms).await;
    assert_eq!(conv["customer_address"], "+14155550123");
    let msgs = s.messages(conv["id"].as_i64().unwrap()).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["body"], "Hi, my order hasn't arrived yet.");
    assert_eq!(msgs[0]["provider_id"], "SM1f0e8ae6ade43cb3c0ce4525424e404f");
    // MMS keeps its media: fetched once from Twilio with the account's credentials, into
    // the hub's file store, and the message names the kept file.
    let mms_form = fixture("twilio/inbound_mms.form").replace("https%3A%2F%2Fapi.twilio.com", &encoded(&s.twilio.base));
    assert_eq!(s.twilio(&path, &mms_form, true).await.0, StatusCode::OK);
    let mms = s.kept_media(conv["id"].as_i64().unwrap(), 1).await;
    assert_eq!(mms["attachments"][0]["mime"], "image/jpeg");
    let fetched = s.twilio.fetches();
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(fetched[0].path.ends_with("/Media/ME0123456789abcdef0123456789abcdef"));
    assert!(fetched[0].authorization.as_deref().unwrap().starts_with("Basic "));
    assert_eq!(s.file(mms["attachments"][0]["url"].as_str().unwrap()).await, providers::JPEG);

    // An agent's reply goes out through the Messages API.
    let out = s.mutate(json!([reply(1, &conv, "r-1", "It ships today!")])).await;
    assert_eq!(out["results"][0]["status"], "applied");
    let sent = s.wait_delivery(conv["id"].as_i64().unwrap(), "r-1", "sent").await;
    let req = s.twilio.requests().pop().unwrap();
    assert_eq!(req.path, "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json");
    assert_eq!(
        (req.field("To").as_deref(), req.field("From").as_deref(), req.field("Body").as_deref()),
        (Some("+14155550123"), Some("+14155550100"), Some("It ships today!"))
    );
    assert!(req.authorization.unwrap().starts_with("Basic "));
    // The status callback moves it to delivered.
    let sid = sent["provider_id"].as_str().unwrap().to_owned();
    let status_path = format!("/webhooks/twilio/{}/status", s.sms);
    assert_eq!(
        s.twilio(&status_path, &fixture("twilio/status_delivered.form").replace("SMREPLACE", &sid), true).await.0,
        StatusCode::OK
    );
    s.wait_delivery(conv["id"].as_i64().unwrap(), "r-1", "delivered").await;
    assert_eq!(s.twilio(&status_path, &fixture("twilio/status_delivered.form"), false).await.0, StatusCode::FORBIDDEN);

    // STOP opts the number out, visibly; a reply is then refused; START opts back in.
    let stop = "From=%2B14155550123&To=%2B14155550100&Body=STOP&MessageSid=SMstop1&NumMedia=0";
    assert_eq!(s.twilio(&path, stop, true).await.0, StatusCode::OK);
    let msgs = s.messages(conv["id"].as_i64().unwrap()).await;
    assert!(msgs.iter().any(|m| m["direction"] == "system" && m["body"].as_str().unwrap().contains("opted out")));
    let refused = s.mutate(json!([reply(2, &conv, "r-2", "Are you there?")])).await;
    assert_eq!(refused["results"][0]["error"]["code"], "opted_out");
    let contact = s.bootstrap().await["contacts"][0].clone();
    assert_eq!(contact["opted_out"][0]["address"], "+14155550123");
    let start = "From=%2B14155550123&To=%2B14155550100&Body=start&MessageSid=SMstart1&NumMedia=0";
    assert_eq!(s.twilio(&path, start, true).await.0, StatusCode::OK);
    let again = s.mutate(json!([reply(3, &conv, "r-3", "Welcome back")])).await;
    assert_eq!(again["results"][0]["status"], "applied");
    s.wait_delivery(conv["id"].as_i64().unwrap(), "r-3", "sent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sends_are_retried_then_shown_failed() {
    let s = setup().await;
    let path = format!("/webhooks/twilio/{}", s.sms);
    assert_eq!(s.twilio(&path, &fixture("twilio/inbound_sms.form"), true).await.0, StatusCode::OK);
    let conv = s.conversation_of(s.sms).await;
    let id = conv["id"].as_i64().unwrap();

    // 5xx: retried, then failed with the provider's reason.
    s.twilio.set(Mode::Refuse(503, r#"{"code": 20500, "message": "Service unavailable", "status": 503}"#.into()));
    s.mutate(json!([reply(1, &conv, "r-503", "one")])).await;
    let failed = s.wait_delivery(id, "r-503", "failed").await;
    assert!(failed["delivery_error"].as_str().unwrap().contains("Twilio 20500"), "{failed}");
    assert_eq!(s.twilio.requests().len(), 3, "three attempts");

    // A refusal (4xx) is not retried.
    s.twilio.set(Mode::Refuse(
        400,
        r#"{"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}"#.into(),
    ));
    s.mutate(json!([reply(2, &conv, "r-400", "two")])).await;
    let failed = s.wait_delivery(id, "r-400", "failed").await;
    assert!(failed["delivery_error"].as_str().unwrap().contains("21211"));
    assert_eq!(s.twilio.requests().len(), 4, "one attempt");

    // A provider that does not answer in time: retried, then failed.
    s.twilio.set(Mode::Hang(Duration::from_secs(2)));
    s.mutate(json!([reply(3, &conv, "r-slow", "three")])).await;
    let failed = s.wait_delivery(id, "r-slow", "failed").await;
    assert!(failed["delivery_error"].as_str().unwrap().contains("could not be reached"), "{failed}");
    assert_eq!(s.twilio.requests().len(), 7);

    // Recovery: the next reply goes through.
    s.twilio.set(Mode::Accept);
    s.mutate(json!([reply(4, &conv, "r-ok", "four")])).await;
    s.wait_delivery(id, "r-ok", "sent").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_in_and_out_with_the_reply_window_and_templates() {
    let s = setup().await;
    let hook = format!("{}/webhooks/meta/{}", s.hub.base, s.whatsapp);
    // The subscription handshake.
    let ok = s
        .http
        .get(format!("{hook}?hub.mode=subscribe&hub.verify_token=meta-verify&hub.challenge=1158201444"))
        .send()
        .await
        .unwrap();
    assert_eq!((ok.status(), ok.text().await.unwrap()), (StatusCode::OK, "1158201444".to_owned()));
    let bad =
        s.http.get(format!("{hook}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1")).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);

    let head = s.head();
    assert_eq!(s.meta(s.whatsapp, &fixture("whatsapp/text.json"), Some("wrong-secret")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.meta(s.whatsapp, &fixture("whatsapp/text.json"), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(s.meta(s.whatsapp, "{not json", Some("meta-app-secret")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        s.meta(
            s.whatsapp,
            r#"{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"id":"x"}]}}]}]}"#,
            Some("meta-app-secret")
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(s.head(), head);

    // Text today (so the 24-hour window is open), then every other kind.
    let today =
        fixture("whatsapp/text.json").replace("1749416383", &(switchboard_hub::clock::now_ms() / 1000).to_string());
    for _ in 0..2 {
        assert_eq!(s.meta(s.whatsapp, &today, Some("meta-app-secret")).await.0, StatusCode::OK);
    }
    let kinds = s.meta(s.whatsapp, &fixture("whatsapp/kinds.json"), Some("meta-app-secret")).await;
    assert_eq!(kinds.0, StatusCode::OK, "{}", kinds.1);
    let conv = s.conversation_of(s.whatsapp).await;
    let id = conv["id"].as_i64().unwrap();
    let msgs = s.messages(id).await;
    let bodies: Vec<&str> = msgs.iter().map(|m| m["body"].as_str().unwrap()).collect();
    assert_eq!(msgs.len(), 12, "{bodies:?}");
    assert_eq!(bodies[0], "Does it come in another color?");
    assert!(bodies.contains(&"This is the box"));
    assert!(bodies.iter().any(|b| b.starts_with("📍 Meta Headquarters, 1 Hacker Way")));
    assert!(bodies.contains(&"Shared contact: Barbara J. Johnson, +1 (940) 555-1234"));
    assert!(bodies.contains(&"Change") && bodies.contains(&"Priority Mail Express"));
    assert!(bodies.contains(&"Reacted 👍 to a message"));
    assert!(bodies.contains(&"[unsupported: sticker]") && bodies.contains(&"[unsupported: unsupported]"));
    let doc = msgs.iter().find(|m| m["body"] == "Invoice").unwrap();
    assert_eq!(doc["attachments"][0]["name"], "invoice-2026-11.pdf");
    assert_eq!(doc["attachments"][0]["mime"], "application/pdf");
    // Each media id is asked of the Graph API for the file's URL and the file fetched, both
    // with the token, once; the message then names the kept file.
    let boxed = msgs.iter().position(|m| m["body"] == "This is the box").unwrap();
    let kept = s.kept_media(id, boxed).await;
    assert_eq!(s.file(kept["attachments"][0]["url"].as_str().unwrap()).await, providers::JPEG);
    let asked: Vec<_> = s.graph.fetches().into_iter().filter(|f| f.path == "/1003383421387256").collect();
    assert_eq!(asked.len(), 1, "asked once");
    assert!(s.graph.fetches().iter().all(|f| f.authorization.as_deref() == Some("Bearer EAAG-page-token")));
    let contact = &s.bootstrap().await["contacts"][0];
    assert_eq!(contact["name"], "Sheena Nelson");
    assert_eq!(contact["identities"][0]["address"], "+16505551234");

    // A reply within the window goes to /{phone-number-id}/messages.
    s.mutate(json!([reply(1, &conv, "w-1", "Yes, in blue and green.")])).await;
    let sent = s.wait_delivery(id, "w-1", "sent").await;
    let req = s.graph.requests().pop().unwrap();
    assert_eq!(req.path, "/106540352242922/messages");
    assert_eq!(req.authorization.as_deref(), Some("Bearer EAAG-page-token"));
    assert_eq!(
        req.json(),
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234", "type": "text", "text": {"preview_url": false, "body": "Yes, in blue and green."}})
    );
    // Status webhooks: delivered, then read.
    let wamid = sent["provider_id"].as_str().unwrap();
    for st in ["delivered", "read"] {
        let body = fixture("whatsapp/status.json").replace("WAMID", wamid).replace("STATUS", st);
        assert_eq!(s.meta(s.whatsapp, &body, Some("meta-app-secret")).await.0, StatusCode::OK);
        s.wait_delivery(id, "w-1", st).await;
    }

    // A customer who wrote two days ago: free text is refused, a template goes out.
    let old = fixture("whatsapp/text.json")
        .replace("16505551234", "16505550000")
        .replace("wamid.HBgL", "wamid.OLD")
        .replace("1749416383", &((switchboard_hub::clock::now_ms() - 48 * 3_600_000) / 1000).to_string());
    assert_eq!(s.meta(s.whatsapp, &old, Some("meta-app-secret")).await.0, StatusCode::OK);
    let b = s.bootstrap().await;
    let stale = b["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_address"] == "+16505550000")
        .unwrap()
        .clone();
    let refused = s.mutate(json!([reply(2, &stale, "w-2", "Hello again")])).await;
    assert_eq!(refused["results"][0]["error"]["code"], "reply_window_closed");
    let template = json!({"mutation_id": 3, "name": "send_template", "args": {"conversation_id": stale["id"], "client_msg_id": "w-3", "template": "order_update", "params": ["Sheena", "#4521"]}});
    assert_eq!(s.mutate(json!([template])).await["results"][0]["status"], "applied");
    let t = s.wait_delivery(stale["id"].as_i64().unwrap(), "w-3", "sent").await;
    assert_eq!(t["body"], "Hi Sheena, your order #4521 has shipped.");
    let req = s.graph.requests().pop().unwrap();
    assert_eq!(
        req.json()["template"],
        json!({"name": "order_update", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"}, {"type": "text", "text": "#4521"}]}]})
    );
    let wrong = json!({"mutation_id": 4, "name": "send_template", "args": {"conversation_id": stale["id"], "client_msg_id": "w-4", "template": "order_update", "params": ["only one"]}});
    assert_eq!(s.mutate(json!([wrong])).await["results"][0]["error"]["code"], "bad_request");
    // A failed status carries WhatsApp's reason.
    let body = fixture("whatsapp/status_failed.json").replace("WAMID", t["provider_id"].as_str().unwrap());
    assert_eq!(s.meta(s.whatsapp, &body, Some("meta-app-secret")).await.0, StatusCode::OK);
    let f = s.wait_delivery(stale["id"].as_i64().unwrap(), "w-3", "failed").await;
    assert!(f["delivery_error"].as_str().unwrap().starts_with("WhatsApp 131047"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messenger_and_instagram_in_and_out() {
    let s = setup().await;
    let now = switchboard_hub::clock::now_ms();
    let msg = fixture("messenger/message.json").replace("1762000000000", &now.to_string());
    assert_eq!(s.meta(s.messenger, &msg, Some("wrong")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        s.meta(s.messenger, &fixture("instagram/message.json"), Some("meta-app-secret")).await.0,
        StatusCode::BAD_REQUEST,
        "an Instagram payload on a Messenger inbox"
    );
    assert_eq!(s.meta(s.messenger, &msg, Some("meta-app-secret")).await.0, StatusCode::OK);
    let attach = fixture("messenger/attachment_and_echo.json")
        .replace("17620000", &(now / 100_000).to_string())
        .replace("https://scontent.example.com", &s.graph.base);
    assert_eq!(s.meta(s.messenger, &attach, Some("meta-app-secret")).await.0, StatusCode::OK);
    let conv = s.conversation_of(s.messenger).await;
    let id = conv["id"].as_i64().unwrap();
    let msgs = s.messages(id).await;
    assert_eq!(msgs.len(), 3, "the page's own echo is not stored: {msgs:?}");
    assert_eq!(msgs[0]["body"], "hello, world!");
    // The CDN link is fetched once (without the page's token) and kept.
    let kept = s.kept_media(id, 1).await;
    assert_eq!(s.file(kept["attachments"][0]["url"].as_str().unwrap()).await, providers::JPEG);
    let fetched: Vec<_> = s.graph.fetches().into_iter().filter(|f| f.path == "/v/photo.jpg").collect();
    assert_eq!((fetched.len(), fetched[0].authorization.as_deref()), (1, None), "{fetched:?}");
    assert_eq!(msgs[2]["body"], "[unsupported: sticker]");

    s.mutate(json!([reply(1, &conv, "m-1", "Hi! How can we help?")])).await;
    let sent = s.wait_delivery(id, "m-1", "sent").await;
    let req = s.graph.requests().pop().unwrap();
    assert_eq!(req.path, "/104857600012345/messages");
    assert_eq!(
        req.json(),
        json!({"recipient": {"id": "6789012345678901"}, "messaging_type": "RESPONSE", "message": {"text": "Hi! How can we help?"}})
    );
    let events = fixture("messenger/delivery_read.json")
        .replace("MID", sent["provider_id"].as_str().unwrap())
        .replace("WATERMARK", &(now + 60_000).to_string());
    assert_eq!(s.meta(s.messenger, &events, Some("meta-app-secret")).await.0, StatusCode::OK);
    s.wait_delivery(id, "m-1", "read").await;

    let ig = fixture("instagram/message.json").replace("1762000005000", &now.to_string());
    assert_eq!(s.meta(s.instagram, &ig, Some("meta-app-secret")).await.0, StatusCode::OK);
    let ig_conv = s.conversation_of(s.instagram).await;
    s.mutate(json!([reply(2, &ig_conv, "i-1", "Yes, it is!")])).await;
    s.wait_delivery(ig_conv["id"].as_i64().unwrap(), "i-1", "sent").await;
    let req = s.graph.requests().pop().unwrap();
    assert_eq!(req.path, "/17841400000000000/messages");
    assert_eq!(req.json()["recipient"]["id"], "1234567890123456");
    // Instagram's read event names the message read instead of a watermark.
    let sent =
        s.messages(ig_conv["id"].as_i64().unwrap()).await.into_iter().find(|m| m["client_msg_id"] == "i-1").unwrap();
    let read = fixture("instagram/read.json")
        .replace("MID", sent["provider_id"].as_str().unwrap())
        .replace("1762000009000", &(now + 120_000).to_string());
    assert_eq!(s.meta(s.instagram, &read, Some("meta-app-secret")).await.0, StatusCode::OK);
    s.wait_delivery(ig_conv["id"].as_i64().unwrap(), "i-1", "read").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_threads_in_and_out() {
    let s = setup().await;
    let url = format!("{}/webhooks/email/{}", s.hub.base, s.email);
    let post = |secret: Option<&str>, body: String| {
        let mut r = s.http.post(&url).header("content-type", "message/rfc822").body(body);
        if let Some(sec) = secret {
            r = r.header("x-switchboard-secret", sec);
        }
        r.send()
    };
    let head = s.head();
    assert_eq!(post(Some("wrong"), fixture("email/new.eml")).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(post(None, fixture("email/new.eml")).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(
        post(Some("mail-secret"), "this is not an email".into()).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(s.head(), head);
    for _ in 0..2 {
        assert_eq!(post(Some("mail-secret"), fixture("email/new.eml")).await.unwrap().status(), StatusCode::OK);
    }
    let conv = s.conversation_of(s.email).await;
    let id = conv["id"].as_i64().unwrap();
    let msgs = s.messages(id).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["subject"], "Invoice 2026-11 is wrong");
    assert!(msgs[0]["body"].as_str().unwrap().contains("charges the Pro plan twice"));
    let att = &msgs[0]["attachments"][0];
    assert_eq!((att["name"].as_str(), att["mime"].as_str()), (Some("invoice-2026-11.pdf"), Some("application/pdf")));
    let file = s
        .http
        .get(format!("{}{}", s.hub.base, att["url"].as_str().unwrap()))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let bytes = file.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-1.4"));
    assert_eq!(bytes.len() as u64, att["size"].as_u64().unwrap());

    // The reply goes out over SMTP, threaded on the customer's message.
    s.mutate(json!([reply(1, &conv, "e-1", "Sorry about that, Ana. I have refunded the second charge.")])).await;
    let sent = s.wait_delivery(id, "e-1", "sent").await;
    let data = s.smtp.messages.lock().unwrap().pop().unwrap();
    assert!(data.contains("In-Reply-To: <CAF1a2b3c4d5e6f7@mail.example.com>"), "{data}");
    assert!(data.contains("Subject: Re: Invoice 2026-11 is wrong"), "{data}");
    assert!(data.contains("ana.silva@example.com"));
    assert!(data.contains("refunded the second charge"));

    // The customer's answer threads back into the same conversation, quotes trimmed.
    let ours = sent["provider_id"].as_str().unwrap();
    assert_eq!(
        post(Some("mail-secret"), fixture("email/reply.eml").replace("REPLYTO", ours)).await.unwrap().status(),
        StatusCode::OK
    );
    let msgs = s.messages(id).await;
    assert_eq!(msgs.last().unwrap()["body"], "That fixed it, thank you!");
    assert_eq!(s.bootstrap().await["conversations"].as_array().unwrap().len(), 1);
}

/// Finding 10: ISO-2022-JP was stored as raw escape bytes and Shift_JIS, EUC-JP, GB2312,
/// GBK, Big5 and EUC-KR became U+FFFD. Every charset mail-parser knows is decoded, bodies
/// and RFC 2047 subjects alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn east_asian_email_is_decoded_in_every_charset() {
    let s = setup().await;
    let url = format!("{}/webhooks/email/{}", s.hub.base, s.email);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/email/charsets");
    for charset in ["iso-2022-jp", "shift_jis", "euc-jp", "gb2312", "gbk", "big5", "euc-kr"] {
        let raw = std::fs::read(dir.join(format!("{charset}.eml"))).unwrap();
        let want = std::fs::read_to_string(dir.join(format!("{charset}.txt"))).unwrap();
        let (subject, body) = want.trim_end().split_once('\n').unwrap();
        let resp = s
            .http
            .post(&url)
            .header("content-type", "message/rfc822")
            .header("x-switchboard-secret", "mail-secret")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{charset}");
        let boot = s.bootstrap().await;
        let stored = boot["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["subject"].as_str() == Some(subject))
            .unwrap_or_else(|| panic!("{charset}: no message with the subject {subject}: {boot}"));
        assert_eq!(stored["body"].as_str().map(str::trim), Some(body), "{charset}");
    }
}

/// Finding 11: `From:` was trusted, so anyone who could mail the inbox wrote into a real
/// customer's open thread. A sender the inbox's mail server did not verify is kept out of
/// it (unless answering a reply of ours), flagged to agents, not auto-answered, and does
/// not rename the customer; a forged Authentication-Results from another server counts for
/// nothing; a `Date:` far off is clamped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofed_email_stays_out_of_the_customers_thread_and_is_flagged() {
    let s = setup().await;
    let url = format!("{}/webhooks/email/{}", s.hub.base, s.email);
    let post = |body: String| {
        s.http
            .post(&url)
            .header("content-type", "message/rfc822")
            .header("x-switchboard-secret", "mail-secret")
            .body(body)
            .send()
    };
    assert_eq!(post(fixture("email/new.eml")).await.unwrap().status(), StatusCode::OK);
    let real = s.conversation_of(s.email).await;
    let spoof = |id: &str, auth: &str, extra: &str| {
        format!(
            "{auth}From: Ana Silva (Billing) <ana.silva@example.com>\nTo: billing@northwind.example\nSubject: Change my bank details\n\
             Date: Fri, 01 Jan 2100 00:00:00 +0000\nMessage-ID: <{id}@evil.test>\n{extra}Content-Type: text/plain\n\n\
             Please pay to IBAN XX00 0000.\n"
        )
    };
    // No results from our server, or results another server wrote.
    for (i, auth) in
        ["", "Authentication-Results: mx.evil.test; dmarc=pass header.from=example.com\n"].iter().enumerate()
    {
        // It even names the real email's Message-ID, which a cc'd stranger could know.
        let refs = "In-Reply-To: <CAF1a2b3c4d5e6f7@mail.example.com>\n";
        assert_eq!(post(spoof(&format!("spoof{i}"), auth, refs)).await.unwrap().status(), StatusCode::OK);
    }
    let boot = s.bootstrap().await;
    let convs: Vec<&Value> =
        boot["conversations"].as_array().unwrap().iter().filter(|c| c["inbox_id"] == s.email).collect();
    assert_eq!(convs.len(), 3, "each spoof is a conversation of its own: {boot}");
    let real_msgs = s.messages(real["id"].as_i64().unwrap()).await;
    assert_eq!(real_msgs.len(), 1, "the real thread is untouched");
    let now = switchboard_hub::clock::now_ms();
    for c in convs.iter().filter(|c| c["id"] != real["id"]) {
        let msgs = s.messages(c["id"].as_i64().unwrap()).await;
        assert_eq!(msgs.len(), 2, "a warning and the email, no automatic answer: {msgs:?}");
        assert_eq!(msgs[0]["direction"], "system");
        assert!(msgs[0]["body"].as_str().unwrap().starts_with("Unverified sender"), "{}", msgs[0]["body"]);
        assert!(msgs[1]["created_at"].as_i64().unwrap() <= now + 60_000, "a Date: in 2100 is clamped");
    }
    let contact = &boot["contacts"].as_array().unwrap()[0];
    assert_eq!(contact["name"], "Ana Silva", "an unverified sender does not rename the customer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_never_sent_twice_across_a_restart() {
    let db = sqlite_db();
    let twilio = providers::start(Kind::Twilio).await;
    let conv_id;
    {
        let store = open(&db);
        let team = store.create_team("Support").await.unwrap().id;
        let agent = store
            .create_agent(NewAgent {
                name: "Maya".into(),
                email: "maya@x.test".into(),
                password_hash: hash_secret(PASSWORD).unwrap(),
                role: Role::Agent,
                teams: vec![team],
                capacity: 10,
            })
            .await
            .unwrap();
        let settings = json!({"account_sid": "AC1", "auth_token": "t", "base_url": twilio.base});
        let inbox = store
            .create_inbox(CreateInbox {
                kind: ChannelKind::Sms,
                name: "SMS".into(),
                team_id: team,
                address: "+14155550100".into(),
                settings,
            })
            .await
            .unwrap();
        let c = store
            .ingest(switchboard_hub::store::ingest::Inbound::text(
                inbox.id,
                "+14155550123",
                "hi",
                Some("SM1"),
                switchboard_hub::clock::now_ms(),
            ))
            .await
            .unwrap();
        conv_id = c.conversation_id;
        let v = store.viewer(agent.id).await.unwrap();
        let m = switchboard_protocol::mutation::MutationEnvelope {
            mutation_id: 1,
            mutation: switchboard_protocol::mutation::Mutation::SendReply(switchboard_protocol::mutation::SendReply {
                conversation_id: conv_id,
                client_msg_id: "r-1".into(),
                body: "once".into(),
                attachments: vec![],
                choices: None,
            }),
            expected_version: None,
        };
        store.apply_mutations(&v, "c", vec![m]).await.unwrap();
        // The worker of a hub that then dies claims it, and is killed before it hears back.
        let claimed = store.claim_due(switchboard_hub::clock::now_ms(), 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
    }
    let store = open(&db);
    let hub = serve_at(store, |_| Config { delivery_timeout_ms: 200, ..Config::default() }).await;
    let token = login(&hub, "maya@x.test").await;
    let http = reqwest::Client::new();
    for _ in 0..200 {
        let page: Value = http
            .get(format!("{}/api/v1/conversations/{conv_id}/messages", hub.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let m = page["messages"].as_array().unwrap().iter().find(|m| m["client_msg_id"] == "r-1").unwrap().clone();
        if m["delivery"] == "failed" {
            assert!(m["delivery_error"].as_str().unwrap().contains("may not have reached"));
            assert!(twilio.requests().is_empty(), "never sent a second time");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the interrupted reply was not marked failed");
}

/// Finding: Meta webhooks were not bound to the inbox's number or page, and one Meta app
/// signs the webhooks of all its numbers and pages: a payload for another number, posted
/// to this inbox's URL with a valid signature, was stored here. Now only the inbox's own
/// parts are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meta_webhook_for_another_number_or_page_stores_nothing() {
    let s = setup().await;
    let count = |b: Value| b["conversations"].as_array().unwrap().len();
    let before = count(s.bootstrap().await);
    let other_number = fixture("whatsapp/text.json")
        .replace("106540352242922", "999999999999999")
        .replace("15550783881", "15559999999");
    assert_eq!(s.meta(s.whatsapp, &other_number, Some("meta-app-secret")).await.0, StatusCode::OK);
    let other_page = fixture("messenger/message.json").replace("104857600012345", "100000000000001");
    assert_eq!(s.meta(s.messenger, &other_page, Some("meta-app-secret")).await.0, StatusCode::OK);
    assert_eq!(count(s.bootstrap().await), before, "nothing stored for another number or page");
    assert_eq!(s.meta(s.whatsapp, &fixture("whatsapp/text.json"), Some("meta-app-secret")).await.0, StatusCode::OK);
    assert_eq!(count(s.bootstrap().await), before + 1, "the inbox's own number is stored");
}

/// Finding (low): stopping the hub aborted a reply being sent, leaving it claimed and
/// later marked failed though the provider may have taken it; and a send (SMTP, several
/// exchanges) could outlast the grace after which it counts as interrupted. A hub that
/// stops now takes no new reply and finishes the one in flight, and every send ends
/// within `delivery_timeout_ms` all told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_hub_finishes_the_reply_in_flight() {
    let db = sqlite_db();
    let store = open(&db);
    let w = common::world(&store).await;
    let twilio = providers::start(Kind::Twilio).await;
    let settings = json!({"account_sid": "AC1", "auth_token": "tok", "base_url": twilio.base});
    let patch = switchboard_protocol::admin::UpdateInbox { settings: Some(settings), ..Default::default() };
    store.update_inbox(w.sms.id, patch).await.unwrap();
    let a = store
        .ingest(common::inbound(&w.sms, "+14155550123", "hello", "SM1", switchboard_hub::clock::now_ms()))
        .await
        .unwrap();
    twilio.set(Mode::Hang(Duration::from_millis(1_500)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = switchboard_hub::api::AppState::new(store.clone(), Config::default());
    let running = tokio::spawn(switchboard_hub::server::run(listener, state, async move {
        let _ = stopped.await;
    }));
    let send = switchboard_protocol::mutation::MutationEnvelope {
        mutation_id: 1,
        mutation: switchboard_protocol::mutation::Mutation::SendReply(switchboard_protocol::mutation::SendReply {
            conversation_id: a.conversation_id,
            client_msg_id: "r-1".into(),
            body: "On its way".into(),
            attachments: vec![],
            choices: None,
        }),
        expected_version: None,
    };
    store.apply_mutations(&w.agent, "console", vec![send]).await.unwrap();
    // The provider has the request and is taking its time: the hub is told to stop.
    for _ in 0..100 {
        if !twilio.requests().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(twilio.requests().len(), 1);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), running).await.unwrap().unwrap().unwrap();
    let reply = store.messages_before(&w.agent, a.conversation_id, None, 10).await.unwrap().messages;
    let reply = reply.iter().find(|m| m.client_msg_id.as_deref() == Some("r-1")).unwrap();
    assert_eq!(reply.delivery, Some(switchboard_protocol::model::Delivery::Sent), "{reply:?}");
    assert!(reply.provider_id.as_deref().is_some_and(|p| p.starts_with("SM")));

    // A provider that never answers costs one delivery timeout, not more.
    let hub = common::serve(
        store.clone(),
        Config { delivery_timeout_ms: 500, delivery_max_attempts: 1, ..Config::default() },
    )
    .await;
    twilio.set(Mode::Hang(Duration::from_secs(30)));
    let send = switchboard_protocol::mutation::MutationEnvelope {
        mutation_id: 2,
        mutation: switchboard_protocol::mutation::Mutation::SendReply(switchboard_protocol::mutation::SendReply {
            conversation_id: a.conversation_id,
            client_msg_id: "r-2".into(),
            body: "Still there?".into(),
            attachments: vec![],
            choices: None,
        }),
        expected_version: None,
    };
    let started = std::time::Instant::now();
    store.apply_mutations(&w.agent, "console", vec![send]).await.unwrap();
    let mut state = None;
    for _ in 0..100 {
        let msgs = store.messages_before(&w.agent, a.conversation_id, None, 10).await.unwrap().messages;
        let m = msgs.into_iter().find(|m| m.client_msg_id.as_deref() == Some("r-2")).unwrap();
        if m.delivery_error.is_some() {
            state = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let m = state.expect("the hanging send ended");
    assert!(started.elapsed() < Duration::from_secs(4), "it took {:?}", started.elapsed());
    assert_eq!(m.delivery, Some(switchboard_protocol::model::Delivery::Failed), "{m:?}");
    drop(hub);
}

/// Writing first reaches each provider as it expects: an SMS from the inbox's number, a
/// WhatsApp template to a number that never wrote, an email with its own subject (no
/// `Re:`) whose answer threads back into the same conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_write_first_on_sms_whatsapp_and_email() {
    let s = setup().await;
    let start = |id: u64, args: Value| json!({"mutation_id": id, "name": "start_conversation", "args": args});
    let started = s
        .mutate(json!([
            start(1, json!({"client_msg_id": "first-sms", "inbox_id": s.sms, "address": "(415) 555-0177", "name": "Carla Mendes", "body": "Your order #4521 is ready to collect."})),
            start(2, json!({"client_msg_id": "first-wa", "inbox_id": s.whatsapp, "address": "+1 650 555 1299", "template": "order_update", "params": ["Carla", "#4521"]})),
            start(3, json!({"client_msg_id": "first-wa-text", "inbox_id": s.whatsapp, "address": "+1 650 555 1299", "body": "Hello!"})),
            start(4, json!({"client_msg_id": "first-mail", "inbox_id": s.email, "address": "Ana.Silva@example.com", "subject": "Your refund for invoice 2026-11", "body": "Hi Ana, your refund is on its way."})),
        ]))
        .await;
    let statuses: Vec<&str> =
        started["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["applied", "applied", "rejected", "applied"]);
    assert_eq!(started["results"][2]["error"]["code"], "reply_window_closed");
    let b = s.bootstrap().await;
    let conv = |address: &str| {
        b["conversations"].as_array().unwrap().iter().find(|c| c["customer_address"] == address).cloned().unwrap()
    };
    let (sms, wa, mail) = (conv("+14155550177"), conv("+16505551299"), conv("ana.silva@example.com"));
    for c in [&sms, &wa, &mail] {
        assert_eq!(c["status"], "pending");
    }

    s.wait_delivery(sms["id"].as_i64().unwrap(), "first-sms", "sent").await;
    let req = s.twilio.requests().pop().unwrap();
    assert_eq!(
        (req.field("To").as_deref(), req.field("From").as_deref(), req.field("Body").as_deref()),
        (Some("+14155550177"), Some("+14155550100"), Some("Your order #4521 is ready to collect."))
    );

    s.wait_delivery(wa["id"].as_i64().unwrap(), "first-wa", "sent").await;
    let req = s.graph.requests().pop().unwrap();
    assert_eq!(req.path, "/106540352242922/messages");
    assert_eq!(
        req.json(),
        json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551299", "type": "template",
               "template": {"name": "order_update", "language": {"code": "en_US"}, "components": [{"type": "body", "parameters": [{"type": "text", "text": "Carla"}, {"type": "text", "text": "#4521"}]}]}})
    );

    let mail_id = mail["id"].as_i64().unwrap();
    let sent = s.wait_delivery(mail_id, "first-mail", "sent").await;
    let data = s.smtp.messages.lock().unwrap().pop().unwrap();
    assert!(data.contains("Subject: Your refund for invoice 2026-11"), "{data}");
    assert!(!data.contains("Subject: Re:") && !data.contains("In-Reply-To"), "{data}");
    assert!(data.contains("ana.silva@example.com") && data.contains("your refund is on its way"));
    // Ana answers the email: it threads into the conversation we started, which opens.
    let url = format!("{}/webhooks/email/{}", s.hub.base, s.email);
    let answer = fixture("email/reply.eml").replace("REPLYTO", sent["provider_id"].as_str().unwrap());
    let resp = s
        .http
        .post(&url)
        .header("content-type", "message/rfc822")
        .header("x-switchboard-secret", "mail-secret")
        .body(answer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let msgs = s.messages(mail_id).await;
    assert_eq!(msgs.last().unwrap()["body"], "That fixed it, thank you!");
    let after = s.bootstrap().await;
    let reopened = after["conversations"].as_array().unwrap().iter().find(|c| c["id"] == mail_id).unwrap().clone();
    assert_eq!(reopened["status"], "open");
    // A later reply in the thread says Re: the subject we started with.
    s.mutate(json!([reply(9, &reopened, "mail-2", "Glad to hear it!")])).await;
    s.wait_delivery(mail_id, "mail-2", "sent").await;
    let data = s.smtp.messages.lock().unwrap().pop().unwrap();
    assert!(data.contains("Subject: Re: Your refund for invoice 2026-11"), "{data}");
}

/// A reply carrying `files` (the hub's answers to uploads).
fn reply_with(id: u64, conversation: &Value, cmid: &str, body: &str, files: &[&Value]) -> Value {
    json!({"mutation_id": id, "name": "send_reply", "args": {"conversation_id": conversation["id"], "client_msg_id": cmid, "body": body, "attachments": files}})
}

/// Files go out as each provider expects them: an MMS names each file by a signed link
/// Twilio fetches (and a tampered link is refused), a WhatsApp media message names its
/// link with the caption (a document with its file name), a Messenger attachment carries
/// no text, and an email carries its files as MIME attachments. What a channel cannot
/// carry (a GIF on WhatsApp, text with a Messenger file) is refused and stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_out_as_each_provider_expects() {
    let s = setup().await;
    // A conversation on each channel, the customer's window open.
    let now = switchboard_hub::clock::now_ms();
    assert_eq!(
        s.twilio(&format!("/webhooks/twilio/{}", s.sms), &fixture("twilio/inbound_sms.form"), true).await.0,
        StatusCode::OK
    );
    let wa = fixture("whatsapp/text.json").replace("1749416383", &(now / 1000).to_string());
    assert_eq!(s.meta(s.whatsapp, &wa, Some("meta-app-secret")).await.0, StatusCode::OK);
    let fb = fixture("messenger/message.json").replace("1762000000000", &now.to_string());
    assert_eq!(s.meta(s.messenger, &fb, Some("meta-app-secret")).await.0, StatusCode::OK);
    let mail = s
        .http
        .post(format!("{}/webhooks/email/{}", s.hub.base, s.email))
        .header("content-type", "message/rfc822")
        .header("x-switchboard-secret", "mail-secret")
        .body(fixture("email/new.eml"))
        .send()
        .await
        .unwrap();
    assert_eq!(mail.status(), StatusCode::OK);
    let (sms, whatsapp, messenger, email) = (
        s.conversation_of(s.sms).await,
        s.conversation_of(s.whatsapp).await,
        s.conversation_of(s.messenger).await,
        s.conversation_of(s.email).await,
    );

    let (status, photo) = s.upload("label photo.jpg", providers::JPEG).await;
    assert_eq!(status, StatusCode::CREATED, "{photo}");
    assert_eq!((photo["mime"].as_str(), photo["name"].as_str()), (Some("image/jpeg"), Some("label photo.jpg")));
    let pdf_bytes = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
    let (_, pdf) = s.upload("invoice.pdf", pdf_bytes).await;
    let (_, gif) = s.upload("wave.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00").await;

    // SMS: the file by a signed link Twilio fetches; the link opens nothing else.
    let out = s.mutate(json!([reply_with(1, &sms, "f-sms", "Here is your label", &[&photo])])).await;
    assert_eq!(out["results"][0]["status"], "applied", "{out}");
    s.wait_delivery(sms["id"].as_i64().unwrap(), "f-sms", "sent").await;
    let req = s.twilio.requests().pop().unwrap();
    assert_eq!(req.field("Body").as_deref(), Some("Here is your label"));
    let link = req.field("MediaUrl").unwrap();
    assert!(link.starts_with(&format!("{}/media/", s.hub.base)), "{link}");
    let fetched = s.http.get(&link).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.headers()["content-type"], "image/jpeg");
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), providers::JPEG);
    let tampered = format!("{}{}", &link[..link.len() - 1], if link.ends_with('0') { '1' } else { '0' });
    let later = link.replace("?e=", "?e=9");
    for bad in [tampered, later, link.split('?').next().unwrap().to_owned()] {
        assert_eq!(s.http.get(&bad).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{bad}");
    }

    // WhatsApp: an image with its caption, a document with its file name and no caption.
    let out = s
        .mutate(json!([
            reply_with(2, &whatsapp, "f-wa-1", "Your label", &[&photo]),
            reply_with(3, &whatsapp, "f-wa-2", "", &[&pdf]),
            reply_with(4, &whatsapp, "f-wa-3", "", &[&gif]),
            reply_with(5, &whatsapp, "f-wa-4", "", &[&photo, &pdf]),
        ]))
        .await;
    let statuses: Vec<&str> =
        out["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["applied", "applied", "rejected", "rejected"], "{out}");
    assert_eq!(out["results"][2]["error"]["message"], "WhatsApp cannot carry GIF images");
    assert_eq!(out["results"][3]["error"]["message"], "WhatsApp cannot carry more than one file on a message");
    s.wait_delivery(whatsapp["id"].as_i64().unwrap(), "f-wa-2", "sent").await;
    let sent: Vec<Value> =
        s.graph.requests().iter().map(|r| r.json()).filter(|j| j["messaging_product"] == "whatsapp").collect();
    let image = sent.iter().find(|j| j["type"] == "image").unwrap();
    assert_eq!(image["image"]["caption"], "Your label");
    let image_link = image["image"]["link"].as_str().unwrap();
    assert_eq!(s.http.get(image_link).send().await.unwrap().bytes().await.unwrap().as_ref(), providers::JPEG);
    let document = sent.iter().find(|j| j["type"] == "document").unwrap();
    assert_eq!(document["document"]["filename"], "invoice.pdf");
    assert!(document["document"].get("caption").is_none(), "{document}");
    let doc_link = document["document"]["link"].as_str().unwrap();
    assert_eq!(s.http.get(doc_link).send().await.unwrap().bytes().await.unwrap().as_ref(), pdf_bytes);
    let msgs = s.messages(whatsapp["id"].as_i64().unwrap()).await;
    assert!(
        !msgs.iter().any(|m| m["client_msg_id"] == "f-wa-3" || m["client_msg_id"] == "f-wa-4"),
        "refused stores nothing"
    );

    // Messenger: the attachment alone; text with it is refused.
    let out = s
        .mutate(json!([
            reply_with(6, &messenger, "f-fb-1", "", &[&photo]),
            reply_with(7, &messenger, "f-fb-2", "and a note", &[&photo]),
        ]))
        .await;
    assert_eq!(out["results"][0]["status"], "applied");
    assert_eq!(
        out["results"][1]["error"]["message"],
        "Messenger cannot carry text with this file; send them as two messages"
    );
    s.wait_delivery(messenger["id"].as_i64().unwrap(), "f-fb-1", "sent").await;
    let fb = s.graph.requests().iter().map(|r| r.json()).find(|j| j["message"]["attachment"].is_object()).unwrap();
    assert_eq!(fb["message"]["attachment"]["type"], "image");
    assert_eq!(fb["message"]["attachment"]["payload"]["is_reusable"], false);
    assert!(fb["message"]["attachment"]["payload"]["url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{}/media/", s.hub.base)));
    assert!(fb["message"].get("text").is_none());

    // Email: the files as MIME attachments after the text.
    s.mutate(json!([reply_with(8, &email, "f-mail", "Your corrected invoice is attached.", &[&pdf, &photo])])).await;
    s.wait_delivery(email["id"].as_i64().unwrap(), "f-mail", "sent").await;
    let data = s.smtp.messages.lock().unwrap().pop().unwrap();
    assert!(data.contains("Content-Type: multipart/mixed"), "{data}");
    assert!(data.contains("Your corrected invoice is attached."), "{data}");
    use mail_parser::MimeHeaders;
    let parsed = mail_parser::MessageParser::default().parse(data.as_bytes()).unwrap();
    let files: Vec<(String, Vec<u8>)> =
        parsed.attachments().map(|a| (a.attachment_name().unwrap().to_owned(), a.contents().to_vec())).collect();
    assert_eq!(
        files,
        vec![("invoice.pdf".to_owned(), pdf_bytes.to_vec()), ("label photo.jpg".to_owned(), providers::JPEG.to_vec())]
    );
}

/// A reply carrying `choices`.
fn reply_choosing(id: u64, conversation: &Value, cmid: &str, body: &str, choices: Value) -> Value {
    json!({"mutation_id": id, "name": "send_reply", "args": {"conversation_id": conversation["id"], "client_msg_id": cmid, "body": body, "choices": choices}})
}

/// Choices go out as each provider shows them: WhatsApp reply buttons and a list, Messenger
/// quick replies; what a channel cannot carry is refused and stores nothing. The customer's
/// tap comes back as a structured answer naming the message that offered it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choices_go_out_as_buttons_lists_and_quick_replies_and_taps_come_back() {
    let s = setup().await;
    let now = switchboard_hub::clock::now_ms();
    let wa = fixture("whatsapp/text.json").replace("1749416383", &(now / 1000).to_string());
    assert_eq!(s.meta(s.whatsapp, &wa, Some("meta-app-secret")).await.0, StatusCode::OK);
    assert_eq!(
        s.twilio(&format!("/webhooks/twilio/{}", s.sms), &fixture("twilio/inbound_sms.form"), true).await.0,
        StatusCode::OK
    );
    let (whatsapp, sms) = (s.conversation_of(s.whatsapp).await, s.conversation_of(s.sms).await);
    let times = json!({"style": "buttons", "options": [
        {"id": "tue-10", "title": "Tuesday 10:00"}, {"id": "wed-14", "title": "Wednesday 14:00"}, {"id": "other", "title": "Another time"}]});
    let list = json!({"style": "list", "button": "See times", "options": [
        {"id": "tue-10", "title": "Tuesday 10:00", "description": "At the shop on Main Street"},
        {"id": "wed-14", "title": "Wednesday 14:00"}]});
    let four = json!({"style": "buttons", "options": [
        {"id": "a", "title": "A"}, {"id": "b", "title": "B"}, {"id": "c", "title": "C"}, {"id": "d", "title": "D"}]});
    let out = s
        .mutate(json!([
            reply_choosing(1, &whatsapp, "c-buttons", "When shall we deliver?", times.clone()),
            reply_choosing(2, &whatsapp, "c-list", "Pick a delivery time", list),
            reply_choosing(3, &whatsapp, "c-four", "Pick one", four),
            reply_choosing(4, &sms, "c-sms", "Pick one", times.clone()),
        ]))
        .await;
    let statuses: Vec<&str> =
        out["results"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["applied", "applied", "rejected", "rejected"], "{out}");
    assert_eq!(out["results"][2]["error"]["message"], "WhatsApp offers 1 to 3 choices this way");
    assert_eq!(out["results"][3]["error"]["message"], "SMS cannot carry buttons or lists");
    let wa_id = whatsapp["id"].as_i64().unwrap();
    let offered = s.wait_delivery(wa_id, "c-buttons", "sent").await;
    s.wait_delivery(wa_id, "c-list", "sent").await;
    assert_eq!(offered["choices"], times, "the console sees what was offered");
    // The two are sent side by side: each is found by its kind.
    let sent: Vec<Value> = s.graph.requests().iter().map(|r| r.json()).filter(|j| j["type"] == "interactive").collect();
    let of_kind = |kind: &str| sent.iter().find(|j| j["interactive"]["type"] == kind).unwrap()["interactive"].clone();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        of_kind("button"),
        json!({"type": "button", "body": {"text": "When shall we deliver?"}, "action": {"buttons": [
            {"type": "reply", "reply": {"id": "tue-10", "title": "Tuesday 10:00"}},
            {"type": "reply", "reply": {"id": "wed-14", "title": "Wednesday 14:00"}},
            {"type": "reply", "reply": {"id": "other", "title": "Another time"}}]}})
    );
    assert_eq!(
        of_kind("list"),
        json!({"type": "list", "body": {"text": "Pick a delivery time"}, "action": {"button": "See times", "sections": [
            {"title": "Options", "rows": [
                {"id": "tue-10", "title": "Tuesday 10:00", "description": "At the shop on Main Street"},
                {"id": "wed-14", "title": "Wednesday 14:00"}]}]}})
    );

    // The customer taps a button: WhatsApp names our message in `context`.
    let mut tap: Value = serde_json::from_str(&wa).unwrap();
    tap["entry"][0]["changes"][0]["value"]["messages"][0] = json!({
        "context": {"from": "15550783881", "id": offered["provider_id"]},
        "from": "16505551234", "id": "wamid.TAP1", "timestamp": (now / 1000).to_string(), "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "wed-14", "title": "Wednesday 14:00"}}
    });
    assert_eq!(s.meta(s.whatsapp, &tap.to_string(), Some("meta-app-secret")).await.0, StatusCode::OK);
    let msgs = s.messages(wa_id).await;
    let answer = msgs.iter().find(|m| m["provider_id"] == "wamid.TAP1").unwrap();
    assert_eq!(answer["body"], "Wednesday 14:00");
    assert_eq!(answer["chosen"], json!({"id": "wed-14", "title": "Wednesday 14:00", "offered_in": offered["id"]}));

    // Messenger: quick replies with the text; a tap's payload is the answer.
    let fb = fixture("messenger/message.json").replace("1762000000000", &now.to_string());
    assert_eq!(s.meta(s.messenger, &fb, Some("meta-app-secret")).await.0, StatusCode::OK);
    let messenger = s.conversation_of(s.messenger).await;
    let yes_no = json!({"style": "buttons", "options": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]});
    s.mutate(json!([reply_choosing(5, &messenger, "c-fb", "Did that help?", yes_no)])).await;
    s.wait_delivery(messenger["id"].as_i64().unwrap(), "c-fb", "sent").await;
    let quick = s.graph.requests().iter().map(|r| r.json()).find(|j| j["message"]["quick_replies"].is_array()).unwrap();
    assert_eq!(
        quick["message"],
        json!({"text": "Did that help?", "quick_replies": [
            {"content_type": "text", "title": "Yes", "payload": "yes"}, {"content_type": "text", "title": "No", "payload": "no"}]})
    );
    let first = &s.messages(messenger["id"].as_i64().unwrap()).await[0];
    assert_eq!(
        first["chosen"],
        json!({"id": "DEVELOPER_DEFINED_PAYLOAD", "title": "hello, world!", "offered_in": null})
    );
}
