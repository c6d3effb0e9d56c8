//! The demo workspace and the `switchboard-hub` command line, as a new user meets them.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use switchboard_hub::demo;
use switchboard_protocol::model::{ChannelKind, Direction};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeds_a_realistic_workspace_and_keeps_writing() {
    let db = common::sqlite_db();
    let store = common::open(&db);
    let seeded = demo::seed(&store, &demo::SeedOptions::default()).await.unwrap();
    assert!(seeded.contacts >= 200 && seeded.conversations >= 1000, "{seeded:?}");

    let agents = store.agents().await.unwrap();
    let admin = agents.iter().find(|a| a.role == switchboard_protocol::model::Role::Admin).unwrap();
    let v = store.viewer(admin.id).await.unwrap();
    let boot = store.bootstrap(&v, 500).await.unwrap();
    assert!(boot.contacts.len() >= 200);
    assert!(boot.conversations.len() >= 1000);
    let channels: BTreeSet<ChannelKind> = boot.conversations.iter().map(|c| c.channel).collect();
    for ch in
        [ChannelKind::Sms, ChannelKind::Whatsapp, ChannelKind::Messenger, ChannelKind::Webchat, ChannelKind::Email]
    {
        assert!(channels.contains(&ch), "conversations on {ch}");
    }
    let multi = boot
        .contacts
        .iter()
        .filter(|c| c.identities.iter().map(|i| i.channel).collect::<BTreeSet<_>>().len() >= 2)
        .count();
    assert!(multi >= 50, "{multi} contacts on two or more channels");
    assert!(boot.contacts.iter().all(|c| c.profile.contains_key("company") && c.profile.contains_key("plan")));
    let turns = |id| boot.messages.iter().filter(|m| m.conversation_id == id).map(|m| m.direction).collect::<Vec<_>>();
    let multi_turn = boot.conversations.iter().filter(|c| {
        let t = turns(c.id);
        t.len() >= 4 && t.contains(&Direction::Inbound) && t.contains(&Direction::Outbound)
    });
    assert!(multi_turn.count() >= 500);
    assert!(boot.conversations.iter().any(|c| c.waiting_since.is_some()), "some customers are waiting");
    let logins = demo::logins();
    assert_eq!(logins.iter().filter(|l| l.role == switchboard_protocol::model::Role::Agent).count(), 2);
    assert_eq!(logins.iter().filter(|l| l.role == switchboard_protocol::model::Role::Lead).count(), 1);

    // Months of history before the seeded month: the lead's report of the last four months
    // shows them, answered, rated, on targets met and missed, by agents who were online.
    let lead = agents.iter().find(|a| a.role == switchboard_protocol::model::Role::Lead).unwrap();
    let lead = store.viewer(lead.id).await.unwrap();
    let tz = jiff::tz::TimeZone::get(demo::TIME_ZONE).unwrap();
    let today = jiff::Timestamp::now().to_zoned(tz).date();
    let from = today.checked_sub(jiff::Span::new().days(119)).unwrap();
    let q = switchboard_protocol::report::ReportQuery { from: from.to_string(), to: today.to_string(), team_id: None };
    let r = store.report(&lead, q, demo::TIME_ZONE).await.unwrap();
    // A campaign was sent: some customers had opted out, most messages were delivered,
    // some read, and a few customers answered.
    let campaigns = store.campaigns(&lead).await.unwrap();
    assert_eq!(campaigns.len(), 1);
    let n = campaigns[0].counts;
    assert_eq!(campaigns[0].state, switchboard_protocol::campaign::CampaignState::Done);
    assert_eq!((n.total, n.skipped, n.replied), (40, 4, 3), "{n:?}");
    assert!(n.read >= 10 && n.delivered >= 5 && n.sent >= 1, "{n:?}");
    let older: u64 = r.by_day[..85].iter().map(|d| d.conversations).sum();
    assert!(older >= 400, "{older} conversations in the months before the seeded one");
    assert!(r.first_response.count >= 1000 && r.resolved >= 1000, "{:?} {}", r.first_response, r.resolved);
    assert!(r.csat.responses >= 50, "{:?}", r.csat);
    assert!(r.sla.iter().any(|t| t.met > 0 && t.missed > 0), "{:?}", r.sla);
    assert!(r.agents.iter().filter(|a| a.online_ms > 0 && a.handled > 0).count() >= 3, "{:?}", r.agents);
    // The shop's knowledge base, and two months of its bot on web chat and WhatsApp: most
    // customers helped, the rest handed over for a reason, articles offered and found useful.
    let articles = store.articles().await.unwrap();
    assert!(articles.len() >= 40, "{} articles", articles.len());
    let drafts = articles.iter().filter(|a| a.status == switchboard_protocol::articles::ArticleStatus::Draft).count();
    assert_eq!(drafts, 2);
    assert!(articles.iter().any(|a| a.locale == "fr") && articles.iter().any(|a| a.locale == "es"));
    let b = &r.bot;
    assert!(b.conversations >= 100 && b.contained > b.handed_off && b.handed_off > 0, "{b:?}");
    let reasons: Vec<_> = b.reasons.iter().map(|x| x.reason).collect();
    assert!(reasons.contains(&switchboard_protocol::bot::HandoffReason::AskedForPerson), "{reasons:?}");
    assert!(reasons.contains(&switchboard_protocol::bot::HandoffReason::NoAnswer), "{reasons:?}");
    assert!(r.articles.iter().filter(|a| a.offered > 0 && a.helpful > 0).count() >= 5, "{:?}", r.articles);

    // The simulator writes new customer messages through the ingest path.
    let before = *store.head().borrow();
    let sim = tokio::spawn(demo::simulate(store.clone(), Duration::from_millis(40), 1));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    sim.abort();
    let page = store.changes(&v, before, 1000).await.unwrap();
    let inbound = page.changes.iter().filter(|f| f.change.get().contains("\"direction\":\"inbound\"")).count();
    assert!(inbound >= 5, "the simulator wrote {inbound} messages");
}

fn hub() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchboard-hub"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_adds_agents_and_inboxes_then_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    let out = hub()
        .args([
            "agent",
            "add",
            "--database",
            &url,
            "--name",
            "Lee Admin",
            "--email",
            "lee@x.test",
            "--role",
            "admin",
            "--team",
            "Support",
        ])
        .env("SWITCHBOARD_PASSWORD", "lee password")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("added agent Lee Admin"));
    let out = hub()
        .args([
            "inbox",
            "add",
            "--database",
            &url,
            "--kind",
            "sms",
            "--name",
            "Main line",
            "--team",
            "Support",
            "--address",
            "+14155550100",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Bad input is refused with a reason and stores nothing.
    let bad = hub()
        .args([
            "inbox",
            "add",
            "--database",
            &url,
            "--kind",
            "fax",
            "--name",
            "x",
            "--team",
            "Support",
            "--address",
            "1",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let short = hub()
        .args(["agent", "add", "--database", &url, "--name", "X", "--email", "x@x.test", "--password", "short"])
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));
    // A key for a business system, its token printed once; none for an inbox that is not.
    let key = hub().args(["api-key", "add", "--database", &url, "--name", "Shop", "--inbox", "1"]).output().unwrap();
    assert!(key.status.success(), "{}", String::from_utf8_lossy(&key.stderr));
    let printed = String::from_utf8_lossy(&key.stdout).to_string();
    let key_token = printed.split("token (shown once): ").nth(1).unwrap().trim().to_owned();
    assert!(key_token.starts_with("sbk_1_"), "{printed}");
    let bot = hub()
        .args(["api-key", "add", "--database", &url, "--name", "Shopbot", "--inbox", "1", "--scope", "bot"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bot.stdout).contains("added bot key Shopbot"), "{bot:?}");
    // The knowledge base from a folder of Markdown, and back out.
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/articles");
    let import = hub().args(["articles", "import", "--database", &url, fixtures]).output().unwrap();
    assert!(String::from_utf8_lossy(&import.stdout).contains("9 new, 0 changed, 0 unchanged"), "{import:?}");
    let out = tempfile::tempdir().unwrap();
    let export = hub().args(["articles", "export", "--database", &url]).arg(out.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&export.stdout).contains("exported 9 articles"), "{export:?}");
    assert!(out.path().join("reset-password.md").exists());
    std::fs::write(out.path().join("Bad Name.md"), "---\ntitle: x\n---\nx").unwrap();
    let bad = hub().args(["articles", "import", "--database", &url]).arg(out.path()).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("Bad Name.md"), "{bad:?}");
    let none = hub().args(["api-key", "add", "--database", &url, "--name", "Shop", "--inbox", "9"]).output().unwrap();
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("inbox 9 does not exist"));

    let mut serve = hub()
        .args(["serve", "--database", &url, "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("serving http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "lee@x.test", "password": "lee password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap();
    let inboxes: serde_json::Value = client
        .get(format!("http://{addr}/api/v1/admin/inboxes"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inboxes.as_array().unwrap().len(), 1);
    assert_eq!(inboxes[0]["name"], "Main line");
    // The key sends from the line it was made for.
    let sent = client
        .post(format!("http://{addr}/api/v1/notify"))
        .bearer_auth(&key_token)
        .json(&serde_json::json!({"idempotency_key": "order-1", "inbox_id": 1, "to": "+14155550177", "body": "Your order shipped."}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    serve.kill().unwrap();
    serve.wait().unwrap();
}
