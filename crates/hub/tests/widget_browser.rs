//! The web-chat widget in a real headless Chromium, embedded with its one `<script>` tag
//! in a page served from another loopback origin: the visitor writes, an agent's reply
//! appears in the page, the thread survives a reload, the visitor leaves their email, and a
//! reply full of markup is shown as text with nothing run. On an inbox with a bot, typing a
//! question offers articles first; the bot answers, the visitor asks for a person, and the
//! agent's reply arrives.
//!
//! Needs Debian's `chromium` and `chromium-driver` (the README's test command installs
//! them); without them the test fails with that instruction rather than passing silently.
// It drives Debian's Chromium and ChromeDriver: Linux only.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{add_agent, login, open, serve, sqlite_db, Hub};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use switchboard_hub::config::Config;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port; stopped when dropped.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn driver() -> Driver {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "Chromium is missing: `apt-get install chromium chromium-driver` (scripts/test.sh does this)"
    );
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned at once, so that it is stopped even if it never answers.
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}"), _profile: tempfile::tempdir().unwrap() };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(d: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--no-first-run", "--disable-extensions",
                     format!("--user-data-dir={}", d._profile.path().display())],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&d.url).await.unwrap()
}

/// A shop's page on its own origin, embedding the hub's widget.
async fn shop_page(hub: &Hub) -> String {
    page_for(hub, "shop-widget").await
}

/// A page on its own origin embedding the widget of the inbox at `inbox`.
async fn page_for(hub: &Hub, inbox: &str) -> String {
    let html = format!(
        "<!doctype html><html><head><title>Northwind Shop</title></head><body><h1>Northwind Shop</h1>\
         <script src=\"{}/widget.js\" data-inbox=\"{inbox}\" async></script></body></html>",
        hub.base
    );
    let app = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://localhost:{}/", addr.port())
}

/// An element inside the widget's shadow root.
async fn part(c: &Client, css: &str) -> Element {
    for _ in 0..100 {
        if let Ok(host) = c.find(Locator::Css("#switchboard-chat")).await {
            if let Ok(root) = host.shadow_root().await {
                if let Ok(e) = root.find(Locator::Css(css)).await {
                    return e;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the widget has no `{css}`");
}

/// The text of every line in the widget, in order.
async fn lines(c: &Client) -> Vec<String> {
    let v = c
        .execute(
            "const r = document.querySelector('#switchboard-chat').shadowRoot; \
             return Array.from(r.querySelectorAll('.msg .text')).map(e => e.textContent);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

async fn wait_for_line(c: &Client, text: &str) -> Vec<String> {
    for _ in 0..150 {
        let now = lines(c).await;
        if now.iter().any(|l| l == text) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`{text}` never appeared; the widget shows {:?}", lines(c).await);
}

struct Agent {
    hub: Hub,
    token: String,
    http: reqwest::Client,
}

impl Agent {
    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.hub.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn chat(&self) -> Option<Value> {
        let b = self.get("/api/v1/sync/bootstrap").await;
        b["conversations"].as_array().unwrap().iter().find(|c| c["channel"] == "webchat").cloned()
    }

    async fn wait_chat(&self, preview: &str) -> Value {
        for _ in 0..100 {
            if let Some(c) = self.chat().await.filter(|c| c["preview"] == preview) {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the visitor's message `{preview}` never reached the hub: {:?}", self.chat().await);
    }

    async fn reply(&self, conversation: &Value, client_msg_id: &str, body: &str) {
        let r: Value = self
            .http
            .post(format!("{}/api/v1/mutations", self.hub.base))
            .bearer_auth(&self.token)
            .json(&json!({"client_id": format!("console-{client_msg_id}"), "mutations": [{"mutation_id": 1,
                "name": "send_reply", "args": {"conversation_id": conversation["id"], "client_msg_id": client_msg_id, "body": body}}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(r["results"][0]["status"], "applied", "{r}");
    }

    async fn delivery(&self, conversation: &Value, client_msg_id: &str) -> String {
        let page = self.get(&format!("/api/v1/conversations/{}/messages", conversation["id"])).await;
        let m = page["messages"].as_array().unwrap().iter().find(|m| m["client_msg_id"] == client_msg_id).cloned();
        m.and_then(|m| m["delivery"].as_str().map(str::to_owned)).unwrap_or_default()
    }
}

async fn hub() -> (Agent, common::TestDb) {
    let db = sqlite_db();
    let store = open(&db);
    let team = store.create_team("Support").await.unwrap().id;
    add_agent(&store, "Maya Okafor", "maya@x.test", Role::Agent, vec![team]).await;
    store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Northwind".into(),
            team_id: team,
            address: "shop-widget".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let hub = serve(store, Config::default()).await;
    let token = login(&hub, "maya@x.test").await;
    (Agent { hub, token, http: reqwest::Client::new() }, db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_chats_through_the_widget_in_chromium() {
    let (agent, _db) = hub().await;
    let page = shop_page(&agent.hub).await;
    let driver = driver().await;
    let c = browser(&driver).await;
    c.goto(&page).await.unwrap();

    // Its icons are drawn, not characters a font may lack: the launcher and the close
    // button hold an SVG each and no text.
    let drawn = c
        .execute(
            "const r = document.querySelector('#switchboard-chat').shadowRoot; \
             return ['.launcher', 'header button'].map(s => { const b = r.querySelector(s); \
             const svg = b.querySelector('svg path'); const box = b.querySelector('svg').getBoundingClientRect(); \
             return [!!svg, b.textContent.trim(), box.width > 0 && box.height > 0]; });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn, json!([[true, "", true], [true, "", false]]), "the close button shows once the panel opens");
    // The visitor opens the chat and writes, with the keyboard.
    part(&c, ".launcher").await.click().await.unwrap();
    let close = c
        .execute(
            "const b = document.querySelector('#switchboard-chat').shadowRoot.querySelector('header button svg'); \
             const box = b.getBoundingClientRect(); return box.width > 0 && box.height > 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(close, json!(true), "the close icon is drawn in the open panel");
    let input = part(&c, "textarea").await;
    input.send_keys("Hi! Is the blue kettle back in stock?").await.unwrap();
    input.send_keys("\u{E007}").await.unwrap(); // Enter
    let chat = agent.wait_chat("Hi! Is the blue kettle back in stock?").await;
    assert_eq!(part(&c, "h2").await.text().await.unwrap(), "Northwind");

    // The agent's reply appears in the page, and the open widget reports it read.
    agent.reply(&chat, "r1", "It is! Shall I reserve one for you?").await;
    let shown = wait_for_line(&c, "It is! Shall I reserve one for you?").await;
    assert_eq!(shown, ["Hi! Is the blue kettle back in stock?", "It is! Shall I reserve one for you?"]);
    let mut delivery = String::new();
    for _ in 0..100 {
        delivery = agent.delivery(&chat, "r1").await;
        if delivery == "read" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(delivery, "read");

    // A reload keeps the thread: same visitor, same conversation.
    c.refresh().await.unwrap();
    part(&c, ".launcher").await.click().await.unwrap();
    wait_for_line(&c, "It is! Shall I reserve one for you?").await;
    let input = part(&c, "textarea").await;
    input.send_keys("Yes please").await.unwrap();
    part(&c, ".compose button[type=submit]").await.click().await.unwrap();
    let again = agent.wait_chat("Yes please").await;
    assert_eq!(again["id"], chat["id"], "one thread across page loads");

    // The visitor leaves their email; agents see it on the customer as unverified, and it
    // becomes no address to join or merge by.
    let email = part(&c, "#sbw-email").await;
    email.send_keys("jo@example.com").await.unwrap();
    part(&c, ".email button").await.click().await.unwrap();
    let mut shown = None;
    for _ in 0..100 {
        let b = agent.get("/api/v1/sync/bootstrap").await;
        let contact =
            b["contacts"].as_array().unwrap().iter().find(|k| k["id"] == chat["contact_id"]).cloned().unwrap();
        if contact["profile"]["email (unverified)"] == "jo@example.com" {
            shown = Some(contact);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let contact = shown.expect("the email is shown on the customer");
    assert!(contact["identities"].as_array().unwrap().iter().all(|i| i["address"] != "jo@example.com"), "{contact}");

    // Markup in a reply is text: shown literally, nothing runs.
    let hostile = "<img src=x onerror=\"window.__owned=1\"> <a href=\"javascript:window.__owned=2\">click</a>";
    agent.reply(&chat, "r2", hostile).await;
    wait_for_line(&c, hostile).await;
    let owned = c.execute("return window.__owned === undefined && document.querySelector('#switchboard-chat').shadowRoot.querySelectorAll('.msg img, .msg a[href^=javascript]').length === 0;", vec![]).await.unwrap();
    assert_eq!(owned, json!(true), "nothing from the reply ran or became an element");

    // Files both ways: the visitor picks a picture; the agent gets it, and answers with a
    // picture of their own that the page shows, fetched with the visitor's token.
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(PNG_1X1).unwrap();
    c.execute(
        "const r = document.querySelector('#switchboard-chat').shadowRoot; \
         const input = r.querySelector('input[type=file]'); \
         const bytes = Uint8Array.from(atob(arguments[0]), ch => ch.charCodeAt(0)); \
         const dt = new DataTransfer(); dt.items.add(new File([bytes], 'kettle.png', {type: 'image/png'})); \
         input.files = dt.files; input.dispatchEvent(new Event('change'));",
        vec![json!(PNG_1X1)],
    )
    .await
    .unwrap();
    let mut got = None;
    for _ in 0..100 {
        let page = agent.get(&format!("/api/v1/conversations/{}/messages", chat["id"])).await;
        got =
            page["messages"].as_array().unwrap().iter().find(|m| m["attachments"][0]["name"] == "kettle.png").cloned();
        if got.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = got.expect("the visitor's picture reached the hub");
    assert_eq!(got["attachments"][0]["mime"], "image/png");
    let file = agent
        .http
        .get(format!("{}{}", agent.hub.base, got["attachments"][0]["url"].as_str().unwrap()))
        .bearer_auth(&agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(file.bytes().await.unwrap().to_vec(), png);
    let upload: Value = agent
        .http
        .post(format!("{}/api/v1/uploads", agent.hub.base))
        .bearer_auth(&agent.token)
        .header("x-file-name", "label.png")
        .body(png.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r: Value = agent
        .http
        .post(format!("{}/api/v1/mutations", agent.hub.base))
        .bearer_auth(&agent.token)
        .json(&json!({"client_id": "console-files", "mutations": [{"mutation_id": 1, "name": "send_reply",
            "args": {"conversation_id": chat["id"], "client_msg_id": "r3", "body": "Your label", "attachments": [upload]}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["results"][0]["status"], "applied", "{r}");
    let mut pictures = json!(null);
    for _ in 0..100 {
        pictures = c
            .execute(
                "return [...document.querySelector('#switchboard-chat').shadowRoot.querySelectorAll('.msg img')] \
                 .map(i => [i.alt, i.complete && i.naturalWidth === 1, i.src.startsWith('blob:')]);",
                vec![],
            )
            .await
            .unwrap();
        if pictures == json!([["kettle.png", true, true], ["label.png", true, true]]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(pictures, json!([["kettle.png", true, true], ["label.png", true, true]]), "both pictures drawn");

    // Choices: the agent offers times, the visitor taps one; the agent gets it as an answer.
    let r: Value = agent
        .http
        .post(format!("{}/api/v1/mutations", agent.hub.base))
        .bearer_auth(&agent.token)
        .json(&json!({"client_id": "console-choices", "mutations": [{"mutation_id": 1, "name": "send_reply",
            "args": {"conversation_id": chat["id"], "client_msg_id": "r4", "body": "When shall we deliver?",
                     "choices": {"style": "buttons", "options": [{"id": "tue", "title": "Tuesday"}, {"id": "wed", "title": "Wednesday"}]}}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["results"][0]["status"], "applied", "{r}");
    wait_for_line(&c, "When shall we deliver?").await;
    part(&c, ".choices button[data-choice=wed]").await.click().await.unwrap();
    let mut answer = None;
    for _ in 0..100 {
        let page = agent.get(&format!("/api/v1/conversations/{}/messages", chat["id"])).await;
        answer = page["messages"].as_array().unwrap().iter().find(|m| m["chosen"]["id"] == "wed").cloned();
        if answer.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answer = answer.expect("the tap reached the agent as an answer");
    assert_eq!(answer["body"], "Wednesday");
    let pressed = c
        .execute(
            "return [...document.querySelector('#switchboard-chat').shadowRoot.querySelectorAll('.choices button')] \
             .map(b => [b.dataset.choice, b.getAttribute('aria-pressed'), b.disabled]);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pressed, json!([["tue", "false", true], ["wed", "true", true]]), "the choice stays shown, once");

    c.close().await.unwrap();
}

/// A real 1×1 PNG.
const PNG_1X1: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_finds_articles_talks_to_the_bot_then_to_a_person() {
    let db = sqlite_db();
    let store = open(&db);
    let fixtures = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/articles"));
    let saves = switchboard_hub::kb_files::read_folder(fixtures).unwrap();
    store.import_articles(switchboard_hub::policy::Viewer::command_line(), saves).await.unwrap();
    let team = store.create_team("Support").await.unwrap().id;
    add_agent(&store, "Maya Okafor", "maya@x.test", Role::Agent, vec![team]).await;
    store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Northwind".into(),
            team_id: team,
            address: "bot-widget".into(),
            settings: json!({"bot": {"mode": "builtin", "name": "Northwind assistant"}}),
        })
        .await
        .unwrap();
    let hub =
        common::serve_at(store, |addr| Config { public_url: Some(format!("http://{addr}")), ..Config::default() })
            .await;
    let token = login(&hub, "maya@x.test").await;
    let agent = Agent { hub, token, http: reqwest::Client::new() };
    let page = page_for(&agent.hub, "bot-widget").await;
    let driver = driver().await;
    let c = browser(&driver).await;
    c.goto(&page).await.unwrap();
    part(&c, ".launcher").await.click().await.unwrap();

    // Typing a question offers the articles that answer it, before anything is sent.
    let input = part(&c, "textarea").await;
    input.send_keys("I forgot my passw").await.unwrap();
    part(&c, "[data-testid=sb-article]").await;
    let offered = c
        .execute(
            "const r = document.querySelector('#switchboard-chat').shadowRoot; \
             return Array.from(r.querySelectorAll('[data-testid=sb-article] a')).map(a => [a.textContent, a.href]);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered[0][0], "I forgot my password", "{offered}");
    assert_eq!(offered[0][1], format!("{}/help/articles/reset-password", agent.hub.base));
    // That answered it: counted, and no conversation was started.
    part(&c, "[data-testid=sb-deflect]").await.click().await.unwrap();
    let thanked = part(&c, "[data-testid=sb-articles]").await;
    for _ in 0..50 {
        if thanked.text().await.unwrap().contains("Glad it helped") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(thanked.text().await.unwrap().contains("Glad it helped"));
    assert!(agent.chat().await.is_none(), "no conversation for a question the article answered");

    // Another question, sent: the bot answers from the knowledge base, marked as the bot.
    let input = part(&c, "textarea").await;
    input.clear().await.unwrap();
    input.send_keys("How do I track my order?").await.unwrap();
    input.send_keys("\u{E007}").await.unwrap();
    wait_for_line(&c, "How do I track my order?").await;
    let badge = part(&c, "[data-testid=sb-bot-badge]").await;
    assert_eq!(badge.text().await.unwrap(), "Bot");
    let now = lines(&c).await;
    assert!(now.iter().any(|l| l.starts_with("Every order gets a tracking number")), "{now:?}");
    assert!(agent.chat().await.is_some_and(|c| c["status"] == "bot"), "the bot holds it");

    // "Talk to a person": the bot hands over and says so; the agent sees the summary and
    // answers; the visitor sees the agent's reply.
    let buttons = c
        .execute(
            "const r = document.querySelector('#switchboard-chat').shadowRoot; \
             const b = Array.from(r.querySelectorAll('.msg .choices button')).find(b => b.textContent.includes('Talk to a person')); \
             b.click(); return true;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(buttons, json!(true));
    let mut chat = None;
    for _ in 0..100 {
        chat = agent.chat().await.filter(|c| c["status"] == "open");
        if chat.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let chat = chat.expect("handed over to people");
    let lines_now = agent.get(&format!("/api/v1/conversations/{}/messages", chat["id"])).await;
    assert!(
        lines_now["messages"].as_array().unwrap().iter().any(|m| m["direction"] == "system"
            && m["body"].as_str().unwrap().starts_with("Handed over by the bot: the customer asked for a person.")),
        "{lines_now}"
    );
    let shown = lines(&c).await;
    assert!(shown.iter().any(|l| l.starts_with("I'm passing you to a person")), "{shown:?}");
    agent.reply(&chat, "p1", "Hi, Maya here. Your parcel left yesterday.").await;
    wait_for_line(&c, "Hi, Maya here. Your parcel left yesterday.").await;
}
