//! End to end: the real `switchboard` app, driven through tauri-driver and WebKitWebDriver
//! under Xvfb, against a real hub served on loopback, with Twilio's API played by a local
//! stand-in and the desktop's notification daemon played by a server on the test's private
//! D-Bus session.
//!
//! One agent's day, in order: sign in; the inbox; a customer's SMS and WhatsApp history in
//! one timeline; a reply that reaches Twilio's stand-in (and raises no notification); a
//! hostile message shown as text; a lead moving the thread away and back; the hub going
//! away (cached threads, search and a queued reply offline, delivered once when it
//! returns), and a first message to a new number written offline too; a customer's reply
//! announced on D-Bus with their name and text; the customer's STOP shown beside the thread
//! and refusing the next reply. Then the lead:
//! the load panel and reassigning from the thread. Then the queue: an agent online is
//! routed a customer and told so on the desktop; going away moves the customer on. Then
//! notification settings: a muted inbox, private text, no sound, do not disturb, and with
//! the desktop's notification service gone one quiet notice and the messages in the app;
//! `switchboard://` links handed to the running app. Then an automated accessibility check
//! (axe-core) of every screen and dialog.
//! Then the reports: a lead opens months of the demo's history as charts, exports them as CSV, and
//! opens them again with the hub gone. Then files: a picture attached in the composer, sent
//! over WhatsApp (which fetches it from the hub) and shown as a thumbnail in the thread.
//! Then the knowledge base: a conversation the bot handed over shows agents its summary
//! line, and with the hub gone an agent finds an article with `#` and inserts its text
//! into an SMS reply. Screenshots land in docs/screenshots.
#![allow(clippy::unwrap_used)]

use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use switchboard_core::client::HubClient;
use switchboard_hub::store::ingest::{Inbound, Ingested};
use switchboard_protocol::admin::{
    CreateInbox, CrmConnector, CrmFieldSetting, CrmSettings, RecordMapping, TranscriptSettings,
};
use switchboard_protocol::model::{ChannelKind, Presence, Role, RoutingMode, RoutingPolicy};
use switchboard_protocol::mutation::{
    Assign, Mutation, MutationBatch, MutationEnvelope, Outcome, SetPresence, SetRouting,
};
use switchboard_testkit::console_hub::{world, Hub, PASSWORD};
use switchboard_testkit::desktop::app::{self, in_desktop_session, App};
use switchboard_testkit::desktop::notifications::Notifications;
use switchboard_testkit::providers::{self, Kind};
use switchboard_testkit::twilio;

const TWILIO_TOKEN: &str = "twilio-auth-token";
/// The public URL Twilio is configured to call (the hub sits behind a proxy there); Twilio
/// signs this URL.
const TWILIO_HOOK: &str = "https://switchboard.example.com/webhooks/twilio/support-sms";

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
}

/// Posts a customer's SMS as Twilio does: form fields signed with the account's token.
async fn twilio_sms(hub: &Hub, inbox: i64, from: &str, body: &str, sid: &str) {
    let post_to = format!("{}/webhooks/twilio/{inbox}", hub.base);
    let sms = twilio::Sms {
        post_to: &post_to,
        signed_url: TWILIO_HOOK,
        auth_token: TWILIO_TOKEN,
        from,
        to: "+14155550199",
        body,
        sid,
    };
    let status = twilio::post(&reqwest::Client::new(), &sms).await;
    assert!(status.is_success(), "webhook refused: {status}");
}

/// A customer's message as a channel delivers it, with their name and profile; the
/// conversation it landed in.
async fn customer(hub: &Hub, inbox: i64, from: &str, name: &str, body: &str) -> i64 {
    customer_in(hub, inbox, from, name, body).await.conversation_id
}

/// [`customer`], answering where the message landed (contact and conversation).
async fn customer_in(hub: &Hub, inbox: i64, from: &str, name: &str, body: &str) -> Ingested {
    let mut inbound = Inbound::text(
        inbox,
        from,
        body,
        Some(&format!("{from}-{}", rand::random::<u64>())),
        switchboard_core::now_ms(),
    );
    inbound.display_name = Some(name.to_owned());
    inbound.profile = [("plan".to_owned(), "Pro".to_owned()), ("city".to_owned(), "Lisbon".to_owned())].into();
    hub.store.ingest(inbound).await.unwrap()
}

async fn sign_in(app: &App, hub: &Hub, email: &str) {
    app.find("[data-testid=signin]", 30).await;
    app.type_into("#hub", &hub.base).await;
    app.type_into("#email", email).await;
    app.type_into("#password", PASSWORD).await;
    app.click("[data-testid=signin-submit]").await;
    app.find("[data-testid=inbox]", 30).await;
}

/// Whether this is test `name` running inside its own desktop session (Xvfb and a private
/// D-Bus); `false` after it ran there, from the outer call that started it.
fn in_own_session(name: &str) -> bool {
    in_desktop_session(&[name, "--exact", "--nocapture", "--test-threads=1"].map(String::from))
}

/// Opens the notification settings, clicks each of `clicks` in turn, and saves.
async fn change_settings(app: &App, clicks: &[&str]) {
    app.click("[data-testid=notification-settings-open]").await;
    app.find("[data-testid=notification-settings] [data-testid=pref-customer_replied]", 20).await;
    for css in clicks {
        app.click(css).await;
    }
    app.click("[data-testid=save-preferences]").await;
    app.until("the settings closed", "!document.querySelector('[data-testid=notification-settings]')", 10).await;
}

/// One mutation from console `client_id`, as its `mutation_id`th.
fn batch(client_id: &str, mutation_id: u64, mutation: Mutation) -> MutationBatch {
    MutationBatch {
        client_id: client_id.into(),
        mutations: vec![MutationEnvelope { mutation_id, mutation, expected_version: None }],
    }
}

fn row(contact: &str) -> String {
    format!("[data-testid=conversation-row][data-contact=\"{contact}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_and_a_lead_work_the_console() {
    if !in_own_session("an_agent_and_a_lead_work_the_console") {
        return;
    }
    let twilio = providers::start(Kind::Twilio).await;
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    let tomas = hub
        .store
        .create_agent(switchboard_hub::store::directory::NewAgent {
            name: "Tomás Ruiz".into(),
            email: "tomas@x.test".into(),
            password_hash: switchboard_hub::auth::hash_secret(PASSWORD).unwrap(),
            role: Role::Agent,
            teams: vec![w.support],
            capacity: 8,
        })
        .await
        .unwrap()
        .id;
    let sms = hub
        .store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Sms,
            name: "Support SMS".into(),
            team_id: w.support,
            address: "+14155550199".into(),
            settings: json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": TWILIO_TOKEN, "base_url": twilio.base, "webhook_url": TWILIO_HOOK}),
        })
        .await
        .unwrap()
        .id;
    // The business keeps its customers in a spreadsheet: the hub looks them up there.
    let crm_dir = tempfile::tempdir().unwrap();
    let customers = crm_dir.path().join("customers.csv");
    std::fs::write(
        &customers,
        "id,name,email,phone,plan,account_owner,last_order\n\
         NW-1042,Ana López,ana@example.com,(415) 555-0123,Pro,Maya Okafor,#1042 · 3 days ago\n\
         NW-2210,Ben Okoye,ben@example.com,+1 415 555 0188,Starter,Tomás Ruiz,#2210 · 2 weeks ago\n",
    )
    .unwrap();
    hub.store
        .put_crm_settings(CrmSettings {
            connector: CrmConnector::Csv { path: customers.display().to_string(), records: RecordMapping::default() },
            fields: [("plan", "Plan"), ("account_owner", "Account owner"), ("last_order", "Last order")]
                .map(|(key, label)| CrmFieldSetting { key: key.into(), label: label.into() })
                .to_vec(),
            ttl_secs: 3_600,
            timeout_ms: 5_000,
            transcripts: TranscriptSettings::default(),
        })
        .await
        .unwrap();
    // Ana wrote on WhatsApp, then by SMS: one customer, two channels. Ben waits too.
    customer(&hub, w.whatsapp, "14155550123", "Ana López", "Hi! Is the blue kettle back in stock?").await;
    let ana = customer(&hub, sms, "+14155550123", "Ana López", "Also, my order NW-1042 hasn't arrived yet").await;
    let ben = customer(&hub, sms, "+14155550188", "Ben Okoye", "Can I change my delivery address?").await;
    let lee = HubClient::new(&hub.base, &hub.login("lee@x.test").await).unwrap();
    let mut lead_mutation = 0;
    let mut assign = |conversation: i64, agent: i64| {
        lead_mutation += 1;
        MutationBatch {
            client_id: "lee-desk".into(),
            mutations: vec![MutationEnvelope {
                mutation_id: lead_mutation,
                mutation: Mutation::Assign(Assign {
                    conversation_id: conversation,
                    agent_id: Some(Some(agent)),
                    team_id: None,
                }),
                expected_version: None,
            }],
        }
    };
    for c in [ana, ben] {
        let r = lee.mutations(&assign(c, w.maya)).await.unwrap();
        assert_eq!(r.results[0].outcome, Outcome::Applied);
    }

    let notifications = Notifications::serve().await;
    let home = tempfile::tempdir().unwrap();
    let _keyring = app::credential_store(home.path());
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;

    // Sign in; the inbox lists Maya's conversations.
    sign_in(&app, &hub, "maya@x.test").await;
    app.find(&row("Ana López"), 30).await;
    app.find(&row("Ben Okoye"), 10).await;
    app.until(
        "Mine counts 2",
        "document.querySelector('[data-testid=view-mine] [data-testid=count]')?.textContent.trim() === '2'",
        10,
    )
    .await;
    app.screenshot(&screenshots().join("inbox.png")).await;

    // Ana's thread: WhatsApp and SMS in one timeline.
    app.click(&row("Ana López")).await;
    app.find(&format!("[data-testid=thread][data-conversation-id=\"{ana}\"]"), 10).await;
    app.find("[data-testid=line][data-channel=whatsapp]", 10).await;
    app.find("[data-testid=line][data-channel=sms]", 10).await;
    let bodies =
        app.js("return [...document.querySelectorAll('[data-testid=line-body]')].map(e => e.textContent)").await;
    let bodies: Vec<String> = serde_json::from_value(bodies).unwrap();
    let kettle = bodies.iter().position(|b| b.contains("blue kettle")).expect("the WhatsApp line");
    let order = bodies.iter().position(|b| b.contains("NW-1042")).expect("the SMS line");
    assert!(kettle < order, "one timeline in time order: {bodies:?}");
    app.find("[data-testid=profile] [data-testid=identity]", 10).await;
    app.screenshot(&screenshots().join("thread.png")).await;

    // Reply: it reaches Twilio's stand-in, and raises no notification.
    let before = notifications.shown().len();
    app.type_into("[data-testid=composer-input]", "Sorry about that, Ana! It ships today.").await;
    app.click("[data-testid=composer-send]").await;
    let sent = wait(
        || {
            twilio
                .requests()
                .iter()
                .any(|r| r.field("Body").as_deref() == Some("Sorry about that, Ana! It ships today."))
        },
        20,
    )
    .await;
    assert!(sent, "the reply reached Twilio");
    let sent_to = twilio.requests().last().and_then(|r| r.field("To"));
    assert_eq!(sent_to.as_deref(), Some("+14155550123"));
    app.until("the reply shows as sent", "[...document.querySelectorAll('[data-testid=line][data-direction=outbound]')].some(l => l.textContent.includes('ships today') && ['sent','delivered','read'].includes(l.dataset.delivery))", 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notifications.shown().len(), before, "no notification for the agent's own reply");

    // A hostile message is shown as text; nothing runs and no element is made of it.
    let hostile = "<img src=x onerror=\"window.__pwned=1\"> <a href=\"javascript:window.__pwned=2\">click</a>";
    hub.ingest(sms, "+14155550123", hostile).await;
    app.until(
        "the hostile line arrives",
        &format!(
            "[...document.querySelectorAll('[data-testid=line-body]')].some(e => e.textContent === {})",
            serde_json::to_string(hostile).unwrap()
        ),
        20,
    )
    .await;
    let escaped = app.js("return { pwned: window.__pwned ?? null, imgs: document.querySelectorAll('[data-testid=thread] img').length, links: [...document.querySelectorAll('[data-testid=thread] a')].filter(a => (a.getAttribute('href') || '').startsWith('javascript')).length }").await;
    assert_eq!(escaped, json!({"pwned": null, "imgs": 0, "links": 0}), "the message was rendered as text");

    // A lead moves Ben's thread to Tomás: Maya's inbox drops it; moved back, it returns.
    let r = lee.mutations(&assign(ben, tomas)).await.unwrap();
    assert_eq!(r.results[0].outcome, Outcome::Applied);
    app.until("Ben leaves Mine", &format!("!document.querySelector('{}')", row("Ben Okoye").replace('\'', "\\'")), 20)
        .await;
    let r = lee.mutations(&assign(ben, w.maya)).await.unwrap();
    assert_eq!(r.results[0].outcome, Outcome::Applied);
    app.find(&row("Ben Okoye"), 20).await;

    // The hub goes away: cached threads and search still work, a reply queues.
    hub.stop().await;
    app.find("[data-testid=offline]", 60).await;
    app.click(&row("Ben Okoye")).await;
    app.find(&format!("[data-testid=thread][data-conversation-id=\"{ben}\"]"), 10).await;
    app.find("[data-testid=line][data-channel=sms]", 10).await;
    app.client.execute("document.activeElement?.blur?.()", vec![]).await.unwrap();
    app.js("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'k', ctrlKey: true, bubbles: true})); return null").await;
    app.type_into("[data-testid=search-input]", "kettle").await;
    let hit = app.find("[data-testid=search-hit]", 10).await;
    assert!(hit.text().await.unwrap().to_lowercase().contains("kettle"));
    app.find("[data-testid=search-hit] mark", 5).await;
    app.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;
    app.until("the search closes", "!document.querySelector('[data-testid=search]')", 5).await;
    app.type_into("[data-testid=composer-input]", "Yes — which address should we use?").await;
    app.click("[data-testid=composer-send]").await;
    app.until(
        "one reply queued",
        "document.querySelector('[data-testid=offline] [data-testid=queued]')?.textContent.trim() === '1'",
        10,
    )
    .await;
    app.find("[data-testid=line][data-outbox-state=pending]", 10).await;
    // And a first message to a number that has never written, queued too.
    app.click("[data-testid=new-message]").await;
    app.find("[data-testid=new-message-dialog]", 10).await;
    app.type_into("[data-testid=nm-to]", "+1 415 555 0190").await;
    app.type_into("[data-testid=nm-name]", "Dana Fox").await;
    app.js(&format!(
        "const s = document.querySelector('[data-testid=nm-inbox]'); s.value = '{sms}'; \
         s.dispatchEvent(new Event('change', {{bubbles: true}})); return null"
    ))
    .await;
    app.type_into("[data-testid=nm-body]", "Your replacement kettle ships today.").await;
    app.click("[data-testid=nm-send]").await;
    app.until("the dialog closes", "!document.querySelector('[data-testid=new-message-dialog]')", 10).await;

    // The hub returns: the queued reply is delivered, once.
    hub.restart().await;
    app.until("back online", "!document.querySelector('[data-testid=offline]')", 60).await;
    let delivered = wait(
        || twilio.requests().iter().any(|r| r.field("Body").as_deref() == Some("Yes — which address should we use?")),
        30,
    )
    .await;
    assert!(delivered, "the queued reply reached Twilio");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let copies = twilio
        .requests()
        .iter()
        .filter(|r| r.field("Body").as_deref() == Some("Yes — which address should we use?"))
        .count();
    assert_eq!(copies, 1, "delivered exactly once");
    // The first message too, from the inbox's number, once; its conversation opens.
    let first = "Your replacement kettle ships today.";
    assert!(wait(|| twilio.requests().iter().any(|r| r.field("Body").as_deref() == Some(first)), 30).await);
    let sent: Vec<_> = twilio.requests().into_iter().filter(|r| r.field("Body").as_deref() == Some(first)).collect();
    assert_eq!(sent.len(), 1, "the first message went out once");
    assert_eq!(sent[0].field("To").as_deref(), Some("+14155550190"));
    app.until(
        "the new conversation opens",
        "[...document.querySelectorAll('[data-testid=thread] [data-testid=line]')].some(l => l.textContent.includes('replacement kettle ships today'))",
        30,
    )
    .await;

    // Maya turns to Ana's thread; Ben, whom she has just answered, writes back: a desktop
    // notification with his name and text.
    app.click(&row("Ana López")).await;
    app.find(&format!("[data-testid=thread][data-conversation-id=\"{ana}\"]"), 10).await;
    twilio_sms(
        &hub,
        sms,
        "+14155550188",
        "Great, thank you! <b>Tracking</b> number please?",
        "SM00000000000000000000000000000009",
    )
    .await;
    let shown = notifications
        .wait_for("number please?", Duration::from_secs(20))
        .await
        .expect("a desktop notification on D-Bus");
    // The daemon reads the body as markup: the customer's text is escaped, shown as written.
    assert_eq!(shown.body, "Great, thank you! &lt;b&gt;Tracking&lt;/b&gt; number please?");
    assert!(shown.summary.contains("Ben Okoye"), "the customer's name: {shown:?}");
    assert_eq!(shown.app_name, "Switchboard");
    assert!(shown.actions.iter().any(|a| a == "default"), "clicking it opens the thread: {shown:?}");

    // Ben replies STOP: his number shows opted out beside the thread, the composer says
    // why a reply cannot go, and a reply is refused by the hub too.
    twilio_sms(&hub, sms, "+14155550188", "STOP", "SM00000000000000000000000000000010").await;
    app.click(&row("Ben Okoye")).await;
    app.find(&format!("[data-testid=thread][data-conversation-id=\"{ben}\"]"), 10).await;
    app.until(
        "Ben's number marked opted out",
        "[...document.querySelectorAll('.opted')].some(o => o.textContent.includes('Opted out'))",
        20,
    )
    .await;
    app.until(
        "the composer says why",
        "document.querySelector('[data-testid=composer-refusal]')?.textContent.includes('opted out')",
        20,
    )
    .await;
    let refused = lee
        .mutations(&MutationBatch {
            client_id: "lee-after-stop".into(),
            mutations: vec![MutationEnvelope {
                mutation_id: 1,
                mutation: Mutation::SendReply(switchboard_protocol::mutation::SendReply {
                    conversation_id: ben,
                    client_msg_id: "after-stop".into(),
                    body: "Still there?".into(),
                    attachments: vec![],
                    choices: None,
                }),
                expected_version: None,
            }],
        })
        .await
        .unwrap();
    assert!(
        matches!(&refused.results[0].outcome, Outcome::Rejected { error } if error.code == switchboard_protocol::ErrorCode::OptedOut),
        "{refused:?}"
    );

    // Sign out; the lead signs in.
    app.click("[data-testid=sign-out]").await;
    sign_in(&app, &hub, "lee@x.test").await;
    app.find("[data-testid=view-all]", 20).await;
    app.click("[data-testid=open-load]").await;
    app.find("[data-testid=load-panel] [data-testid=load-row]", 10).await;
    app.until(
        "Maya's load is listed",
        "[...document.querySelectorAll('[data-testid=load-row]')].some(r => r.textContent.includes('Maya Okafor'))",
        10,
    )
    .await;
    app.screenshot(&screenshots().join("lead-panel.png")).await;
    app.click("[data-testid=open-load]").await;
    app.click("[data-testid=view-all]").await;
    app.click(&row("Ana López")).await;
    app.find("[data-testid=profile]", 10).await;
    // Her record from the customer file, with its age.
    app.until(
        "Ana's CRM fields",
        "[...document.querySelectorAll('[data-testid=crm-field]')].map(f => f.textContent).join('|').includes('Pro')",
        20,
    )
    .await;
    assert!(app
        .js("return document.querySelector('[data-testid=crm-fetched]').textContent")
        .await
        .as_str()
        .unwrap()
        .starts_with("fetched"));
    app.screenshot(&screenshots().join("profile.png")).await;
    // She upgraded; Refresh fetches the file again.
    std::fs::write(&customers, std::fs::read_to_string(&customers).unwrap().replace(",Pro,", ",Business,")).unwrap();
    app.click("[data-testid=crm-refresh]").await;
    app.until(
        "the refreshed plan",
        "[...document.querySelectorAll('[data-testid=crm-field]')].some(f => f.textContent.includes('Business'))",
        20,
    )
    .await;
    // The lead writes a canned response for the team; typed after "/" in the composer, it
    // fills in the customer's and the lead's first names.
    app.click("[data-testid=open-canned]").await;
    app.click("[data-testid=canned-new]").await;
    app.type_into("#canned-shortcut", "ship").await;
    app.type_into("#canned-title", "Ships today").await;
    app.type_into("#canned-body", "Hi {{customer.first_name}}, it ships today. {{agent.first_name}}").await;
    app.click("#canned-shared").await;
    app.click("[data-testid=canned-save]").await;
    let shared = wait_async(
        || async {
            lee.bootstrap().await.is_ok_and(|b| b.canned.iter().any(|c| c.shortcut == "ship" && c.owner_id.is_none()))
        },
        20,
    )
    .await;
    assert!(shared, "the team's new canned response reached the hub");
    app.until(
        "the hub confirmed it",
        "[...document.querySelectorAll('[data-testid=canned-item]')].some(i => i.textContent.includes('/ship') && !i.textContent.includes('Saving'))",
        20,
    )
    .await;
    app.click("[data-testid=canned-close]").await;
    app.type_into("[data-testid=composer-input]", "/shi").await;
    app.click("#canned-list [role=option]").await;
    app.until(
        "the canned response filled in",
        "document.querySelector('[data-testid=composer-input]').value === 'Hi Ana, it ships today. Lee'",
        10,
    )
    .await;

    app.click("[data-testid=assign]").await;
    app.click(&format!("[data-testid=assign-dialog] [data-testid=assign-option][data-agent-id=\"{tomas}\"]")).await;
    let moved = wait_async(
        || async {
            lee.bootstrap()
                .await
                .is_ok_and(|b| b.conversations.iter().any(|c| c.id == ana && c.assignee_id == Some(tomas)))
        },
        20,
    )
    .await;
    assert!(moved, "the lead's reassignment reached the hub");
    app.quit().await;

    // The lead's token is in the credential store, and in no file of the app's.
    let stored = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "app.switchboard.console", "username", &format!("lee@x.test@{}", hub.base)])
        .output()
        .expect("secret-tool: `apt-get install libsecret-tools`");
    let token = String::from_utf8(stored.stdout).unwrap();
    assert!(token.len() >= 20, "the token is in the credential store");
    let copies = std::process::Command::new("grep")
        .args(["-rl", "--binary-files=text", "-F", &token])
        .arg(home.path().join("data"))
        .output()
        .unwrap();
    assert!(copies.stdout.is_empty(), "the token was written to a file: {}", String::from_utf8_lossy(&copies.stdout));

    // Started again, the console restores the lead's session from there.
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    app.find("[data-testid=inbox]", 30).await;
    app.find("[data-testid=view-all]", 10).await;

    // Signing out keeps this computer's copy of an account (Maya's); signing out and
    // forgetting, asked twice, deletes it (the lead's cache and outbox).
    let folder = |email: &str| home.path().join("data").join(switchboard_core::session::cache_folder(&hub.base, email));
    assert!(folder("maya@x.test").exists() && folder("lee@x.test").exists());
    app.click("[data-testid=sign-out-forget]").await;
    app.click("[data-testid=sign-out-forget]").await;
    app.find("[data-testid=signin]", 20).await;
    assert!(wait(|| !folder("lee@x.test").exists(), 10).await, "the lead's copy is deleted");
    assert!(folder("maya@x.test").exists(), "a plain sign-out keeps Maya's");
    app.quit().await;
}

/// The queue: Lee routes Support by least load; Maya sets herself online in the console and
/// a new customer is routed to her, announced on D-Bus as assigned to her; `p` sets her
/// away, and the customer goes back to the queue (the row shows its place) and on to Lee
/// when he comes online.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_gives_an_online_agent_a_conversation_and_away_moves_it_on() {
    if !in_own_session("routing_gives_an_online_agent_a_conversation_and_away_moves_it_on") {
        return;
    }
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let lee = HubClient::new(&hub.base, &hub.login("lee@x.test").await).unwrap();
    let mut n = 0;
    let mut lead = |mutation: Mutation| {
        n += 1;
        batch("lee-routing", n, mutation)
    };
    let policy = RoutingPolicy { mode: RoutingMode::LeastLoaded, ..RoutingPolicy::default() };
    let routing = Mutation::SetRouting(SetRouting { team_id: w.support, inbox_id: None, policy: Some(policy) });
    assert_eq!(lee.mutations(&lead(routing)).await.unwrap().results[0].outcome, Outcome::Applied);

    let notifications = Notifications::serve().await;
    let home = tempfile::tempdir().unwrap();
    let _keyring = app::credential_store(home.path());
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    sign_in(&app, &hub, "maya@x.test").await;
    app.find("[data-testid=presence]", 20).await;
    assert_eq!(app.js("return document.querySelector('[data-testid=presence]').value").await, "offline");

    // Maya goes online from the menu by her name.
    app.js("const s = document.querySelector('[data-testid=presence]'); s.value = 'online'; \
         s.dispatchEvent(new Event('change', {bubbles: true})); return null")
        .await;
    let online = wait_async(
        || async {
            lee.bootstrap()
                .await
                .is_ok_and(|b| b.agents.iter().any(|a| a.id == w.maya && a.presence == Presence::Online))
        },
        20,
    )
    .await;
    assert!(online, "Maya's presence reached the hub");

    // A new customer writes; routing gives her to Maya, who is told on the desktop.
    let carla = customer(&hub, w.sms, "+14155550177", "Carla Mendes", "My parcel is stuck in customs").await;
    let shown = notifications
        .wait_for("stuck in customs", Duration::from_secs(20))
        .await
        .expect("an 'assigned to you' notification on D-Bus");
    assert!(shown.summary.starts_with("Assigned to you: \u{2068}Carla Mendes\u{2069}"), "{shown:?}");
    app.click("[data-testid=view-mine]").await;
    app.find(&row("Carla Mendes"), 20).await;
    app.screenshot(&screenshots().join("routed.png")).await;

    // `p` sets her away: Carla goes back to the queue, first in line, with a line saying why.
    app.js("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'p', bubbles: true})); return null").await;
    let back = wait_async(
        || async {
            lee.bootstrap().await.is_ok_and(|b| {
                b.conversations.iter().any(|c| c.id == carla && c.assignee_id.is_none() && c.queued_at.is_some())
            })
        },
        20,
    )
    .await;
    assert!(back, "away returned the waiting customer to the queue");
    app.click("[data-testid=view-unassigned]").await;
    app.until(
        "Carla's place in the queue",
        "[...document.querySelectorAll('[data-testid=queue-position]')].some(q => q.textContent === '#1 in queue')",
        20,
    )
    .await;
    let presence = Mutation::SetPresence(SetPresence { presence: Presence::Online, automatic: false });
    assert_eq!(lee.mutations(&lead(presence)).await.unwrap().results[0].outcome, Outcome::Applied);
    let moved = wait_async(
        || async {
            lee.bootstrap()
                .await
                .is_ok_and(|b| b.conversations.iter().any(|c| c.id == carla && c.assignee_id == Some(w.lee)))
        },
        20,
    )
    .await;
    assert!(moved, "Carla moved on to Lee");
    app.quit().await;
}

/// Maya's own notification settings, chosen in the app: a muted inbox raises nothing, the
/// customer's words stay off a shared screen and the sound is off, and do not disturb holds
/// everything. Then the desktop's notification service goes away: one quiet notice says
/// why, and customers' messages show in the app instead, never as a stack of errors. Last,
/// `switchboard://` links opened while the app runs go to the running app.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notifications_follow_the_agents_settings_and_show_in_the_app_without_a_service() {
    if !in_own_session("notifications_follow_the_agents_settings_and_show_in_the_app_without_a_service") {
        return;
    }
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let notifications = Notifications::serve().await;
    let home = tempfile::tempdir().unwrap();
    let _keyring = app::credential_store(home.path());
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    sign_in(&app, &hub, "maya@x.test").await;

    // Settings: mute the SMS inbox, keep customers' words off the screen, no sound.
    let mute_sms = format!("[data-testid=mute-inbox][data-inbox=\"{}\"]", w.sms);
    change_settings(&app, &[&mute_sms, "[data-testid=pref-show-text]", "[data-testid=pref-sound]"]).await;

    // A customer on the muted inbox: in the list, and nothing on the desktop.
    app.click("[data-testid=view-unassigned]").await;
    let dana = customer(&hub, w.sms, "+14155550131", "Dana Muted", "Hello from a muted inbox").await;
    app.find(&row("Dana Muted"), 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(notifications.shown().is_empty(), "a muted inbox raised {:?}", notifications.shown());

    // On WhatsApp: announced with the customer's name, without their words, silently.
    let ezra = customer_in(&hub, w.whatsapp, "14155550132", "Ezra Private", "My card number is 4111").await;
    let shown = notifications.wait_for("Ezra Private", Duration::from_secs(20)).await.expect("a notification");
    assert!(shown.body.is_empty() && !shown.summary.contains("4111"), "the customer's words were shown: {shown:?}");
    assert!(shown.hints.contains(&"suppress-sound".to_owned()), "{shown:?}");

    // Do not disturb for an hour: the next customer is listed, and nothing is raised.
    change_settings(&app, &["[data-testid=dnd-choice]"]).await;
    let before = notifications.shown().len();
    customer(&hub, w.whatsapp, "14155550133", "Fay Later", "Are you open today?").await;
    app.find(&row("Fay Later"), 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notifications.shown().len(), before, "do not disturb raised a notification");

    // Do not disturb off, and the desktop's notification service gone.
    change_settings(&app, &["[data-testid=dnd-off]", "[data-testid=pref-show-text]"]).await;
    drop(notifications);
    for i in 0..5 {
        customer(&hub, w.whatsapp, &format!("1415555014{i}"), &format!("Gus Nodaemon {i}"), &format!("Question {i}"))
            .await;
    }
    app.until(
        "the last customer shown in the app",
        "[...document.querySelectorAll('[data-testid=in-app-notification]')].some(n => n.textContent.includes('Question 4'))",
        20,
    )
    .await;
    let notices = app.js("return document.querySelectorAll('[data-testid=notify-trouble]').length").await;
    assert_eq!(notices, json!(1), "one notice, however many failed");
    let said = app.js("return document.querySelector('[data-testid=notify-trouble]').textContent").await;
    assert!(said.as_str().unwrap().contains("no notification service is running"), "{said}");
    let shown = app.js("return document.querySelectorAll('[data-testid=in-app-notification]').length").await;
    assert!(shown.as_u64().is_some_and(|n| (1..=3).contains(&n)), "in-app notifications: {shown}");
    app.screenshot(&screenshots().join("in-app-notifications.png")).await;
    // Open goes to the customer's conversation.
    app.js("[...document.querySelectorAll('[data-testid=in-app-notification]')].find(n => n.textContent.includes('Question 4')).querySelector('[data-testid=notice-open]').click(); return null").await;
    app.until(
        "Gus's thread open",
        "document.querySelector('[data-testid=thread]')?.textContent.includes('Question 4')",
        20,
    )
    .await;

    // A link clicked elsewhere (a CRM record's transcript) opens the conversation in this
    // running app; a customer's link opens their latest conversation.
    let binary = env!("CARGO_BIN_EXE_switchboard");
    app.open_link(binary, home.path(), &switchboard_protocol::links::conversation(dana)).await;
    app.until(
        "Dana's thread open by its link",
        "document.querySelector('[data-testid=thread]')?.textContent.includes('Hello from a muted inbox')",
        20,
    )
    .await;
    app.open_link(binary, home.path(), &switchboard_protocol::links::contact(ezra.contact_id)).await;
    app.until(
        "Ezra's thread open by his customer link",
        "document.querySelector('[data-testid=thread]')?.textContent.includes('My card number is 4111')",
        20,
    )
    .await;
    app.quit().await;
}

/// An automated accessibility check (axe-core, in the real WebKit window) finds no serious
/// or critical violation on the inbox, a thread with its profile, search, the reports and
/// the dialogs; the open thread announces new messages to screen readers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_console_passes_an_accessibility_check() {
    if !in_own_session("the_console_passes_an_accessibility_check") {
        return;
    }
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    let ana = customer(&hub, w.sms, "+14155550161", "Ana Silva", "My parcel to Lisbon is late").await;
    customer(&hub, w.whatsapp, "14155550162", "سارة المصري", "هل يمكنني تغيير العنوان؟").await;
    customer(&hub, w.email, "ben@example.com", "Ben Okoye", "Invoice 7781 is wrong").await;
    let _notifications = Notifications::serve().await;
    let home = tempfile::tempdir().unwrap();
    let _keyring = app::credential_store(home.path());
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    sign_in(&app, &hub, "lee@x.test").await;
    let mut found: Vec<String> = Vec::new();
    let mut check = |place: &str, violations: Vec<String>| {
        found.extend(violations.into_iter().map(|v| format!("{place}: {v}")));
    };

    app.click("[data-testid=view-unassigned]").await;
    app.find(&row("Ana Silva"), 20).await;
    check("the inbox", app.accessibility_violations().await);

    app.click(&row("Ana Silva")).await;
    app.until("Ana's thread", "document.querySelector('[data-testid=thread]')?.textContent.includes('Lisbon')", 20)
        .await;
    check("a thread and its profile", app.accessibility_violations().await);
    // New messages in the open thread are announced.
    let live = app
        .js("const t = document.querySelector('[data-testid=thread] [aria-live]'); return t ? t.getAttribute('aria-live') : null")
        .await;
    assert_eq!(live, json!("polite"), "the open thread announces new messages");
    hub.ingest(w.sms, "+14155550161", "Any news?").await;
    let _ = ana;
    app.until(
        "the new message announced",
        "[...document.querySelectorAll('[data-testid=thread] [aria-live]')].some(e => e.textContent.includes('Any news?'))",
        20,
    )
    .await;

    app.click("[data-testid=assign]").await;
    app.find("[role=dialog]", 10).await;
    check("the assign dialog", app.accessibility_violations().await);
    app.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;
    app.click("[data-testid=snooze]").await;
    app.find("[data-testid=snooze-menu]", 10).await;
    check("the snooze dialog", app.accessibility_violations().await);
    app.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;
    app.click("[data-testid=notification-settings-open]").await;
    app.find("[data-testid=notification-settings] [data-testid=pref-sound]", 10).await;
    check("the notification settings", app.accessibility_violations().await);
    app.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;

    app.click(".searchbtn").await;
    app.type_into("[data-testid=search-input]", "parcel").await;
    app.find("[data-testid=search-hit]", 10).await;
    check("search", app.accessibility_violations().await);
    app.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;

    app.click("[data-testid=open-reports]").await;
    app.find("[data-testid=reports]", 20).await;
    app.until(
        "the reports drawn",
        "document.querySelector('[data-testid=reports]')?.getAttribute('aria-busy') === 'false'",
        20,
    )
    .await;
    check("the reports", app.accessibility_violations().await);

    assert!(found.is_empty(), "serious or critical accessibility violations:\n{}", found.join("\n"));
    app.quit().await;
}

/// The agent picks Arabic: the window turns right to left at once, the desktop's
/// notifications speak Arabic too, customers' words keep their own direction, and the
/// choice is kept on this computer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_switches_the_console_to_arabic_and_it_reads_right_to_left() {
    if !in_own_session("an_agent_switches_the_console_to_arabic_and_it_reads_right_to_left") {
        return;
    }
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    customer(&hub, w.whatsapp, "14155550171", "سارة المصري", "هل يمكنني تغيير عنوان التوصيل؟").await;
    customer(&hub, w.sms, "+14155550172", "Ana Silva", "My parcel to Lisbon is late").await;
    let notifications = Notifications::serve().await;
    let home = tempfile::tempdir().unwrap();
    let _keyring = app::credential_store(home.path());
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    sign_in(&app, &hub, "lee@x.test").await;
    let direction = "return [document.documentElement.lang, document.documentElement.dir]";
    assert_eq!(app.js(direction).await, json!(["en", "ltr"]), "English follows this computer's language");

    // The agent picks Arabic in the settings: the whole window turns at once.
    app.click("[data-testid=notification-settings-open]").await;
    app.find("[data-testid=notification-settings] [data-testid=language]", 20).await;
    app.js("const s = document.querySelector('[data-testid=language]'); s.value = 'ar'; \
         s.dispatchEvent(new Event('change', {bubbles: true})); return null")
        .await;
    app.until("the window in Arabic", "document.documentElement.dir === 'rtl'", 10).await;
    assert_eq!(app.js(direction).await, json!(["ar", "rtl"]));
    app.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true})); return null").await;
    app.click("[data-testid=view-unassigned]").await;
    app.until(
        "the views named in Arabic",
        "document.querySelector('[data-testid=view-unassigned]')?.textContent.includes('غير مسندة')",
        10,
    )
    .await;
    // The desktop's notifications speak Arabic too: the channel's name, the Open button.
    customer(&hub, w.whatsapp, "14155550173", "Omar Haddad", "متى يصل طلبي؟").await;
    let shown = notifications.wait_for("متى يصل", Duration::from_secs(20)).await.expect("a notification on D-Bus");
    assert_eq!(shown.summary, "\u{2068}Omar Haddad\u{2069} · واتساب", "{shown:?}");
    assert!(shown.actions.iter().any(|a| a == "فتح"), "{shown:?}");

    // The layout mirrors: the views, on the left in English, sit on the right.
    app.find(&row("Ana Silva"), 20).await;
    let views_on_the_right =
        app.js("return document.querySelector('nav.nav').getBoundingClientRect().left > window.innerWidth / 2").await;
    assert_eq!(views_on_the_right, json!(true), "the views sit on the right in a right-to-left window");

    // An English customer's words keep their own direction inside the Arabic window.
    app.click(&row("Ana Silva")).await;
    app.until("Ana's thread", "document.querySelector('[data-testid=thread]')?.textContent.includes('Lisbon')", 20)
        .await;
    let body_dir = app
        .js("const b = [...document.querySelectorAll('[data-testid=thread] [dir=auto]')].find(e => e.textContent.includes('Lisbon')); \
             return b ? getComputedStyle(b).direction : null")
        .await;
    assert_eq!(body_dir, json!("ltr"), "an English message reads left to right in the Arabic window");
    let found = app.accessibility_violations().await;
    assert!(found.is_empty(), "serious or critical accessibility violations in Arabic:\n{}", found.join("\n"));
    app.click(&row("سارة المصري")).await;
    app.until("Sara's thread", "document.querySelector('[data-testid=thread]')?.textContent.includes('التوصيل')", 20)
        .await;
    app.screenshot(&screenshots().join("rtl.png")).await;

    // Customers write in every script, emoji too: each draws as a real glyph in the
    // thread's font, not as the box of a character no font has.
    customer(&hub, w.sms, "+14155550174", "Priya Nair", "नमस्ते · สวัสดี · வணக்கம் · 你好 · 안녕 · שלום · 🙏").await;
    app.click(&row("Priya Nair")).await;
    app.until("Priya's thread", "document.querySelector('[data-testid=thread]')?.textContent.includes('नमस्ते')", 20)
        .await;
    let boxes = app
        .js("const line = [...document.querySelectorAll('[data-testid=thread] [dir=auto]')].find(e => e.textContent.includes('नमस्ते')); \
             const s = getComputedStyle(line); \
             const font = `${s.fontStyle} ${s.fontWeight} 40px ${s.fontFamily}`; \
             const draw = (text) => { const c = document.createElement('canvas'); c.width = 96; c.height = 64; \
               const g = c.getContext('2d'); g.font = font; g.textBaseline = 'middle'; g.fillText(text, 8, 32); \
               return g.getImageData(0, 0, 96, 64).data.join(); }; \
             const none = draw('\u{10FFFD}'); \
             return ['न', 'ส', 'வ', '你', '안', 'ש', '🙏'].filter(ch => draw(ch) === none)")
        .await;
    assert_eq!(boxes, json!([]), "characters drawn as the missing-glyph box");

    // The choice is kept on this computer: the console opens in Arabic again.
    app.quit().await;
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    app.find("[data-testid=inbox]", 30).await;
    app.until("Arabic again", "document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar'", 10)
        .await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lead_opens_the_reports_draws_their_charts_and_keeps_them_offline() {
    if !in_own_session("a_lead_opens_the_reports_draws_their_charts_and_keeps_them_offline") {
        return;
    }
    // The demo workspace, months of history and all, on a hub of the test's own.
    let mut hub = Hub::start().await;
    let options = switchboard_hub::demo::SeedOptions { contacts: 80, ..Default::default() };
    switchboard_hub::demo::seed(&hub.store, &options).await.unwrap();
    let priya = switchboard_hub::demo::logins().into_iter().find(|l| l.role == Role::Lead).unwrap();

    // Breaches in the demo's waiting conversations reach the lead's desktop.
    let _notifications = Notifications::serve().await;
    let home = tempfile::tempdir().unwrap();
    let (app, downloads, _keyring) = lead_with_downloads(&hub, home.path(), &priya).await;

    // The lead opens the reports over the last 90 days: figures, and five charts drawn.
    app.click("[data-testid=open-reports]").await;
    app.find("[data-testid=reports]", 20).await;
    app.click("[data-testid=preset-90d]").await;
    app.until(
        "the period's conversations",
        "Number((document.querySelector('[data-testid=kpi-conversations-value]')?.textContent ?? '').replace(/[^0-9]/g, '')) > 100",
        30,
    )
    .await;
    for chart in ["chart-by-day", "chart-by-channel", "chart-by-hour", "chart-sla", "chart-csat"] {
        app.until(
            &format!("{chart} drawn"),
            &format!(
                "(() => {{ const c = document.querySelector('[data-testid={chart}]'); \
                 return !!c && c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0); }})()"
            ),
            20,
        )
        .await;
    }
    app.screenshot(&screenshots().join("reports.png")).await;

    // Exported as CSV into Downloads.
    app.click("[data-testid=report-export]").await;
    let text = saved_csv(&downloads).await;
    assert!(text.is_some(), "the CSV is in Downloads");
    let text = text.unwrap();
    assert!(text.starts_with("Report,From,To,Team,Time zone"), "{text}");
    assert!(text.contains("Europe/Lisbon") || text.contains("UTC"));

    // The hub goes away: the same report opens from the cache, marked offline.
    hub.stop().await;
    app.click("[data-testid=report-refresh]").await;
    app.until("the offline banner", "!!document.querySelector('[data-testid=report-offline]')", 30).await;
    let kept = app.js("return document.querySelector('[data-testid=kpi-conversations-value]').textContent").await;
    assert!(kept.as_str().is_some_and(|t| t.chars().any(|c| c.is_ascii_digit())), "{kept}");
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_checks_an_audience_file_sends_a_campaign_and_follows_its_results() {
    if !in_own_session("a_lead_checks_an_audience_file_sends_a_campaign_and_follows_its_results") {
        return;
    }
    // The demo workspace (with the campaign it sent) on a hub of the test's own, whose
    // campaign sender runs.
    let hub = Hub::start().await;
    let options = switchboard_hub::demo::SeedOptions { contacts: 80, history_days: 0, ..Default::default() };
    switchboard_hub::demo::seed(&hub.store, &options).await.unwrap();
    let priya = switchboard_hub::demo::logins().into_iter().find(|l| l.role == Role::Lead).unwrap();
    let home = tempfile::tempdir().unwrap();
    let (app, downloads, _keyring) = lead_with_downloads(&hub, home.path(), &priya).await;

    // The campaign the demo sent, with its results: opted-out customers skipped, replies.
    app.click("[data-testid=open-campaigns]").await;
    app.find("[data-testid=campaigns-screen]", 20).await;
    app.click("[data-testid^=campaign-row-]").await;
    app.until(
        "the sent campaign's results",
        "document.querySelector('[data-testid=campaign-count-skipped-value]')?.textContent.trim() === '4' \
         && document.querySelector('[data-testid=campaign-count-replied-value]')?.textContent.trim() === '3'",
        20,
    )
    .await;

    // A new campaign from a file with a bad row: the row is named, nothing can be sent.
    let files = home.path().join("lists");
    std::fs::create_dir_all(&files).unwrap();
    let bad = files.join("bad.csv");
    std::fs::write(&bad, "phone,name,1,2\n+14155550701,Ana,Ana,#1\nnot a number,Bo,Bo,#2\n").unwrap();
    let good = files.join("good.csv");
    std::fs::write(&good, "phone,name,1,2\n+14155550701,Ana,Ana,#1\n+14155550702,Bo,Bo,#2\n+14155550703,Cy,Cy,#3\n")
        .unwrap();
    app.click("[data-testid=campaign-new]").await;
    app.type_into("[data-testid=campaign-name]", "Pickup reminder").await;
    let pick = |css: &str, text: &str| {
        format!(
            "(() => {{ const s = document.querySelector('{css}'); \
             const o = [...s.options].find(o => o.textContent.includes('{text}')); if (!o) return false; \
             s.value = o.value; s.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()"
        )
    };
    app.until("the WhatsApp inbox chosen", &pick("[data-testid=campaign-inbox]", "WhatsApp"), 10).await;
    app.until("the template chosen", &pick("[data-testid=campaign-template]", "order_update"), 10).await;
    let file = app.find("[data-testid=campaign-csv]", 10).await;
    file.send_keys(&bad.display().to_string()).await.unwrap();
    app.find("[data-testid=campaign-csv-file]", 10).await;
    app.click("[data-testid=campaign-check]").await;
    app.until(
        "the bad row named",
        "[...document.querySelectorAll('[data-testid=campaign-problem]')].some(r => r.textContent.includes('3'))",
        20,
    )
    .await;
    let send = app.js("return document.querySelector('[data-testid=campaign-send-now]').disabled").await;
    assert_eq!(send, json!(true), "nothing is sent from a file with a bad row");

    // The fixed file: a clean check with a preview of real rows, then sent.
    let file = app.find("[data-testid=campaign-csv]", 10).await;
    file.send_keys(&good.display().to_string()).await.unwrap();
    app.click("[data-testid=campaign-check]").await;
    app.until(
        "the preview",
        "[...document.querySelectorAll('[data-testid=campaign-preview-row]')].some(r => r.textContent.includes('Hi Ana, there is news about your order #1'))",
        20,
    )
    .await;
    app.until("send enabled", "document.querySelector('[data-testid=campaign-send-now]')?.disabled === false", 10)
        .await;
    app.click("[data-testid=campaign-send-now]").await;
    app.until(
        "the new campaign done, three sent",
        "document.querySelector('[data-testid=campaign-detail] h2, [data-testid=campaign-detail]')?.textContent.includes('Pickup reminder') \
         && document.querySelector('[data-testid=campaign-state]')?.textContent.toLowerCase().includes('done') \
         && Number(document.querySelector('[data-testid=campaign-count-total-value]')?.textContent) === 3",
        40,
    )
    .await;
    app.screenshot(&screenshots().join("campaigns.png")).await;

    // The results, exported into Downloads.
    app.click("[data-testid=campaign-export]").await;
    let text = saved_csv(&downloads).await;
    assert!(text.is_some(), "the results are in Downloads");
    let text = text.unwrap();
    assert!(text.contains("+14155550702,Bo,"), "{text}");
    app.quit().await;
}

/// The app signed in as `login` on `hub`, its home in `home` with a Downloads folder of
/// its own (returned), and a credential store that lives as long as the handle returned.
/// A shipping label as a PNG picture, 240×160: a border, an address block and a barcode.
fn label_png() -> Vec<u8> {
    let (w, h) = (240u32, 160u32);
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    let mut ink = |x: u32, y: u32| {
        let i = ((y * w + x) * 3) as usize;
        pixels[i..i + 3].copy_from_slice(&[30, 36, 51]);
    };
    for y in 0..h {
        for x in 0..w {
            let border = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
            let address =
                (20..140).contains(&x) && [(20, 28), (36, 42), (50, 56)].iter().any(|(a, b)| (*a..*b).contains(&y));
            let barcode = (20..220).contains(&x) && (96..140).contains(&y) && (x * 7 % 11) < 5;
            if border || address || barcode {
                ink(x, y);
            }
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.write_header().unwrap().write_image_data(&pixels).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_attaches_a_picture_sends_it_over_whatsapp_and_sees_it_as_a_thumbnail() {
    if !in_own_session("an_agent_attaches_a_picture_sends_it_over_whatsapp_and_sees_it_as_a_thumbnail") {
        return;
    }
    // A WhatsApp inbox on the Cloud API's stand-in, and a hub the stand-in can reach.
    let graph = providers::start(Kind::Graph).await;
    let hub = Hub::start_with(|addr| switchboard_hub::config::Config {
        public_url: Some(format!("http://{addr}")),
        ..Hub::settings()
    })
    .await;
    let w = world(&hub.store).await;
    let settings = json!({"access_token": "EAAG-token", "sender_id": "106540352242922", "base_url": graph.base});
    let update = switchboard_protocol::admin::UpdateInbox { settings: Some(settings), ..Default::default() };
    hub.store.update_inbox(w.whatsapp, update).await.unwrap();
    let ana = customer(&hub, w.whatsapp, "+14155550123", "Ana Silva", "Could you send me a photo of the label?").await;
    let lee = HubClient::new(&hub.base, &hub.login("lee@x.test").await).unwrap();
    let to_maya = Mutation::Assign(Assign { conversation_id: ana, agent_id: Some(Some(w.maya)), team_id: None });
    assert_eq!(lee.mutations(&batch("lee-desk", 1, to_maya)).await.unwrap().results[0].outcome, Outcome::Applied);

    let home = tempfile::tempdir().unwrap();
    let _keyring = app::credential_store(home.path());
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    sign_in(&app, &hub, "maya@x.test").await;
    app.find(&row("Ana Silva"), 30).await;
    app.click(&row("Ana Silva")).await;
    app.find("[data-testid=composer-input]", 20).await;

    // The agent picks a picture: it shows as a chip with its thumbnail before sending.
    let picture = home.path().join("label.png");
    let label = label_png();
    std::fs::write(&picture, &label).unwrap();
    let input = app.find("[data-testid=composer-file-input]", 10).await;
    input.send_keys(&picture.display().to_string()).await.unwrap();
    app.until(
        "the staged picture's thumbnail",
        "(() => { const i = document.querySelector('[data-testid=composer-file] img'); \
         return !!i && i.complete && i.naturalWidth === 240; })()",
        20,
    )
    .await;
    app.type_into("[data-testid=composer-input]", "Here is the label").await;
    app.click("[data-testid=composer-send]").await;

    // WhatsApp gets an image message naming the picture by a link it can fetch, with the
    // text as its caption.
    let sent = wait(|| graph.requests().iter().any(|r| r.json()["type"] == "image"), 30).await;
    assert!(sent, "no image message reached WhatsApp: {:?}", graph.requests());
    let image = graph.requests().into_iter().map(|r| r.json()).find(|j| j["type"] == "image").unwrap();
    assert_eq!(
        (image["to"].as_str(), image["image"]["caption"].as_str()),
        (Some("14155550123"), Some("Here is the label"))
    );
    let link = image["image"]["link"].as_str().unwrap();
    let fetched = reqwest::get(link).await.unwrap().bytes().await.unwrap();
    assert_eq!(fetched.as_ref(), label.as_slice(), "WhatsApp fetches the picture itself");

    // In the thread, the sent line shows the picture as a thumbnail, from the hub.
    app.until(
        "the sent picture as a thumbnail",
        "(() => { const i = [...document.querySelectorAll('[data-testid=line] img')].find(i => i.alt === 'label.png'); \
         return !!i && i.complete && i.naturalWidth === 240 && i.src.includes('message/'); })()",
        30,
    )
    .await;
    app.screenshot(&screenshots().join("files.png")).await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_reads_a_bots_handoff_and_inserts_an_article_with_hash_offline() {
    if !in_own_session("an_agent_reads_a_bots_handoff_and_inserts_an_article_with_hash_offline") {
        return;
    }
    let mut hub = Hub::start_with(|addr| switchboard_hub::config::Config {
        public_url: Some(format!("http://{addr}")),
        ..Hub::settings()
    })
    .await;
    let w = world(&hub.store).await;
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/hub/tests/fixtures/articles");
    let saves = switchboard_hub::kb_files::read_folder(&fixtures).unwrap();
    hub.store.import_articles(switchboard_hub::policy::Viewer::command_line(), saves).await.unwrap();
    // WhatsApp's bot answers Ana, who then asks for a person.
    let settings = json!({"delivery": "simulated", "bot": {"mode": "builtin", "name": "Northwind assistant"}});
    let update = switchboard_protocol::admin::UpdateInbox { settings: Some(settings), ..Default::default() };
    hub.store.update_inbox(w.whatsapp, update).await.unwrap();
    let ana = customer(&hub, w.whatsapp, "+14155550123", "Ana Silva", "How do I return an item?").await;
    customer(&hub, w.whatsapp, "+14155550123", "Ana Silva", "Can I talk to a person please?").await;
    let ben = customer(&hub, w.sms, "+14155550177", "Ben Okoro", "I can't sign in, I forgot my password").await;
    // The lead gives both to Maya.
    let lee = HubClient::new(&hub.base, &hub.login("lee@x.test").await).unwrap();
    for (n, conversation_id) in [(1, ana), (2, ben)] {
        let to_maya = Mutation::Assign(Assign { conversation_id, agent_id: Some(Some(w.maya)), team_id: None });
        assert_eq!(lee.mutations(&batch("lee-desk", n, to_maya)).await.unwrap().results[0].outcome, Outcome::Applied);
    }

    let home = tempfile::tempdir().unwrap();
    let _keyring = app::credential_store(home.path());
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home.path(), &[]).await;
    sign_in(&app, &hub, "maya@x.test").await;
    app.find(&row("Ana Silva"), 30).await;
    app.click(&row("Ana Silva")).await;
    // The agent starts with the context: why the bot handed over, what was asked and offered.
    app.until(
        "the bot's handoff summary in the thread",
        "[...document.querySelectorAll('[data-testid=line]')].some(l => l.textContent.includes(\
         'Handed over by the bot: the customer asked for a person. The customer asked: “How do I return an item?”. \
         The bot offered “How do I return an item?”.'))",
        30,
    )
    .await;
    app.until("the bot's lines marked", "!!document.querySelector('[data-testid=bot-badge]')", 10).await;
    app.screenshot(&screenshots().join("bot-handoff.png")).await;

    // The hub goes away; the articles are in the cache. On SMS, `#` inserts the text.
    hub.stop().await;
    app.click(&row("Ben Okoro")).await;
    app.find("[data-testid=composer-input]", 20).await;
    app.type_into("[data-testid=composer-input]", "Hi Ben! #passw").await;
    app.until(
        "the article picker offering the password article",
        "[...document.querySelectorAll('[data-testid=article-picker] [data-testid=article-option]')]\
         .some(o => o.textContent.includes('I forgot my password'))",
        20,
    )
    .await;
    let input = app.find("[data-testid=composer-input]", 5).await;
    input.send_keys("\u{E007}").await.unwrap(); // Enter
    app.until(
        "the article's text in the reply",
        "document.querySelector('[data-testid=composer-input]').value.startsWith(\
         'Hi Ben! Choose Forgot password on the sign-in page and we email you a link to set a new password.')",
        20,
    )
    .await;
    app.screenshot(&screenshots().join("articles.png")).await;
    app.quit().await;
    hub.restart().await;
}

async fn lead_with_downloads(
    hub: &Hub,
    home: &std::path::Path,
    login: &switchboard_hub::demo::DemoLogin,
) -> (App, PathBuf, app::Background) {
    let downloads = home.join("Downloads");
    std::fs::create_dir_all(home.join("config")).unwrap();
    std::fs::write(home.join("config/user-dirs.dirs"), format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display()))
        .unwrap();
    let keyring = app::credential_store(home);
    let app = App::launch(env!("CARGO_BIN_EXE_switchboard"), home, &[]).await;
    app.find("[data-testid=signin]", 30).await;
    app.type_into("#hub", &hub.base).await;
    app.type_into("#email", &login.email).await;
    app.type_into("#password", &login.password).await;
    app.click("[data-testid=signin-submit]").await;
    app.find("[data-testid=inbox]", 30).await;
    (app, downloads, keyring)
}

/// The text of the CSV file that lands in `downloads` within 20 seconds, if one does.
async fn saved_csv(downloads: &std::path::Path) -> Option<String> {
    let is_csv = |f: &std::fs::DirEntry| f.file_name().to_string_lossy().ends_with(".csv");
    let saved = wait(|| std::fs::read_dir(downloads).is_ok_and(|d| d.flatten().any(|f| is_csv(&f))), 20).await;
    let file = saved.then(|| std::fs::read_dir(downloads).ok()?.flatten().find(is_csv)).flatten()?;
    std::fs::read_to_string(file.path()).ok()
}

async fn wait(mut check: impl FnMut() -> bool, secs: u64) -> bool {
    for _ in 0..secs * 20 {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn wait_async<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F, secs: u64) -> bool {
    for _ in 0..secs * 20 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
