//! The knowledge base in the console against a real hub: articles sync into the cache and
//! are searched there offline (stemmed in their language, drafts marked), a reply gets the
//! text on SMS and a link elsewhere, the thread suggests what matches the customer's last
//! message, a lead's edit shows at once and survives going offline, two leads' edits
//! conflict, agents cannot edit, and the bot's conversations are kept out of the agents'
//! queues and notifications until it hands them over.
#![allow(clippy::unwrap_used)]

use switchboard_testkit::console_hub as common;

use common::{console, eventually, online, world, Hub};
use switchboard_hub::policy::Viewer;
use switchboard_protocol::articles::{ArticleStatus, Insert, SaveArticle};
use switchboard_protocol::console::{ArticleDraft, View};
use switchboard_protocol::ErrorCode;

fn article(key: &str, title: &str, tags: &[&str], body: &str, locale: &str, status: ArticleStatus) -> SaveArticle {
    SaveArticle {
        key: key.into(),
        title: title.into(),
        body: body.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        locale: locale.into(),
        collection: "Help".into(),
        status,
        new: false,
    }
}

async fn knowledge_base(hub: &Hub) {
    let p = ArticleStatus::Published;
    let saves = vec![
        article(
            "return-an-item",
            "How do I return an item?",
            &["returns"],
            "Send it back within **30 days**.\n\nDetails follow.",
            "en",
            p,
        ),
        article(
            "track-my-order",
            "How do I track my order?",
            &["tracking", "parcel"],
            "Every order gets a tracking number by email.",
            "en",
            p,
        ),
        article(
            "reset-password",
            "I forgot my password",
            &["login"],
            "Use **Forgot password** on the sign-in page.",
            "en",
            p,
        ),
        article("retourner-un-article", "Comment retourner un article ?", &["retours"], "Vous avez 30 jours.", "fr", p),
        article("rewards", "Northwind rewards", &["points"], "Points on every order.", "en", ArticleStatus::Draft),
    ];
    hub.store.import_articles(Viewer::command_line(), saves).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_search_and_insert_articles_offline() {
    let mut hub = Hub::start().await;
    let w = world(&hub.store).await;
    knowledge_base(&hub).await;
    let sms = hub.ingest(w.sms, "+14155550123", "Where is my parcel? It has been a week").await;
    let email = hub.ingest(w.email, "ana@example.com", "I returned the kettle, what now?").await;
    let dir = tempfile::tempdir().unwrap();
    let c = console(&hub, dir.path(), "maya@x.test").await;
    online(&c).await;
    hub.stop().await;

    // Offline: every article, drafts marked; searches stemmed in each article's language.
    let all = c.articles("", false).unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all.iter().find(|h| h.key == "rewards").unwrap().status, ArticleStatus::Draft);
    let first = |q: &str, published: bool| c.articles(q, published).unwrap().first().map(|h| h.key.clone());
    assert_eq!(first("tracking my parcels", false).as_deref(), Some("track-my-order"));
    assert_eq!(first("returned", false).as_deref(), Some("return-an-item"), "returned finds returns");
    assert_eq!(first("retourner", false).as_deref(), Some("retourner-un-article"));
    assert_eq!(first("passw", false).as_deref(), Some("reset-password"), "an unfinished word, as typed after #");
    assert_eq!(first("rewards", false).as_deref(), Some("rewards"));
    assert_eq!(first("rewards", true), None, "the composer offers published articles only");
    let hit = &c.articles("password", false).unwrap()[0];
    assert_eq!(hit.url.as_deref(), Some(format!("{}/help/articles/reset-password", hub.base).as_str()));

    // Inserted as plain text on SMS, as a link on email; either on request.
    let id = hit.id;
    assert_eq!(c.article_insertion(sms.conversation_id, id, None).unwrap(), "Use Forgot password on the sign-in page.");
    assert_eq!(
        c.article_insertion(email.conversation_id, id, None).unwrap(),
        format!("I forgot my password: {}/help/articles/reset-password", hub.base)
    );
    assert!(c.article_insertion(email.conversation_id, id, Some(Insert::Text)).unwrap().starts_with("Use Forgot"));
    let draft = c.articles("rewards", false).unwrap()[0].id;
    assert_eq!(
        c.article_insertion(email.conversation_id, draft, Some(Insert::Link)).unwrap(),
        "Points on every order."
    );

    // The thread suggests what matches the customer's last message.
    let keys = |v: Vec<switchboard_protocol::articles::ArticleHit>| v.into_iter().map(|h| h.key).collect::<Vec<_>>();
    assert_eq!(
        keys(c.suggested_articles(sms.conversation_id).unwrap()).first().map(String::as_str),
        Some("track-my-order")
    );
    assert_eq!(
        keys(c.suggested_articles(email.conversation_id).unwrap()).first().map(String::as_str),
        Some("return-an-item")
    );

    // Agents may not edit; the console says so at once.
    let refused = c.save_article(ArticleDraft {
        key: None,
        version: None,
        title: "Mine".into(),
        body: "x".into(),
        tags: vec![],
        locale: "en".into(),
        collection: String::new(),
        status: ArticleStatus::Draft,
    });
    assert_eq!(refused.unwrap_err().to_api().code, ErrorCode::Forbidden);
    hub.restart().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leads_edit_shows_at_once_reaches_everyone_and_conflicts_are_caught() {
    let mut hub = Hub::start().await;
    let _w = world(&hub.store).await;
    knowledge_base(&hub).await;
    let (d1, d2, d3) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let lee = console(&hub, d1.path(), "lee@x.test").await;
    let kim = console(&hub, d2.path(), "kim@x.test").await;
    let maya = console(&hub, d3.path(), "maya@x.test").await;
    for c in [&lee, &kim, &maya] {
        online(c).await;
    }
    // Written offline: shown at once as not yet synced, sent when the hub is back.
    hub.stop().await;
    let key = lee
        .save_article(ArticleDraft {
            key: None,
            version: None,
            title: "Can I pay with a gift card?".into(),
            body: "Yes, on any order.".into(),
            tags: vec!["Gift cards".into()],
            locale: "en".into(),
            collection: "Payments".into(),
            status: ArticleStatus::Published,
        })
        .unwrap();
    assert_eq!(key, "can-i-pay-with-a-gift-card");
    let shown = lee.article(&key).unwrap().unwrap();
    assert!(shown.pending && shown.article.tags == ["gift cards"], "{shown:?}");
    assert_eq!(lee.articles("gift", false).unwrap().len(), 0, "the index holds what the hub confirmed");
    hub.restart().await;
    eventually("the article reaches every console", || {
        maya.articles("gift card", true).unwrap().first().is_some_and(|h| h.key == key)
            && lee.article(&key).unwrap().is_some_and(|e| !e.pending)
            && kim.article(&key).unwrap().is_some_and(|e| !e.pending)
    })
    .await;

    // Two leads open version 1; the second save loses and is told so.
    let v1 = kim.article(&key).unwrap().unwrap().article;
    let draft = |body: &str| ArticleDraft {
        key: Some(key.clone()),
        version: Some(v1.version),
        title: v1.title.clone(),
        body: body.into(),
        tags: v1.tags.clone(),
        locale: v1.locale.clone(),
        collection: v1.collection.clone(),
        status: v1.status,
    };
    lee.save_article(draft("Yes, on any order over $10.")).unwrap();
    eventually("Lee's edit lands", || kim.article(&key).unwrap().is_some_and(|e| e.article.body.ends_with("$10.")))
        .await;
    kim.save_article(draft("Yes, always.")).unwrap();
    eventually("Kim's stale save is a conflict", || {
        kim.outbox().items().unwrap().iter().any(|i| i.state == switchboard_protocol::console::OutboxState::Conflict)
    })
    .await;
    assert!(maya.article(&key).unwrap().unwrap().article.body.ends_with("$10."), "the first save stands");

    // Deleted by a lead: gone from every cache and index.
    let version = lee.article(&key).unwrap().unwrap().article.version;
    lee.delete_article(&key, Some(version)).unwrap();
    eventually("the delete reaches Maya", || maya.articles("gift card", false).unwrap().is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bots_conversations_stay_out_of_queues_until_handed_over() {
    let hub = Hub::start().await;
    let w = world(&hub.store).await;
    knowledge_base(&hub).await;
    let settings =
        serde_json::json!({"delivery": "simulated", "inbound_secret": "s", "bot": {"mode": "builtin", "name": "Nora"}});
    hub.store
        .update_inbox(
            w.whatsapp,
            switchboard_protocol::admin::UpdateInbox { settings: Some(settings), ..Default::default() },
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = console(&hub, dir.path(), "maya@x.test").await;
    online(&c).await;
    let mut events = c.subscribe();
    let got = hub.ingest(w.whatsapp, "14155550123", "How do I track my order?").await;
    eventually("the bot's conversation arrives", || {
        c.cache().view(View::Bot, 10, 0).unwrap().iter().any(|r| r.id == got.conversation_id)
    })
    .await;
    let counts = c.cache().counts().unwrap();
    let count = |v: View| counts.iter().find(|x| x.view == v).map_or(0, |x| x.total);
    assert_eq!(
        (count(View::Unassigned), count(View::Waiting), count(View::Closed)),
        (0, 0, 0),
        "nobody's to answer yet"
    );
    let thread = c.cache().thread(got.conversation_id, 50).unwrap();
    assert!(thread.lines.iter().any(|l| l.bot.as_deref() == Some("Nora")), "the bot's line is marked");
    // Handed over: now it waits in the team's queue, and it notifies.
    hub.ingest(w.whatsapp, "14155550123", "I want to talk to a person").await;
    let note = common::next_event(&mut events, 10, |e| match e {
        switchboard_protocol::console::ConsoleEvent::Notify { notification, .. } => Some(notification.clone()),
        _ => None,
    })
    .await;
    assert!(note.is_some(), "the handoff notifies whoever answers");
    eventually("it waits for an agent", || {
        c.cache().view(View::Unassigned, 10, 0).unwrap().iter().any(|r| r.id == got.conversation_id)
    })
    .await;
    let thread = c.cache().thread(got.conversation_id, 50).unwrap();
    assert!(thread
        .lines
        .iter()
        .any(|l| l.body.starts_with("Handed over by the bot: the customer asked for a person.")));
}
