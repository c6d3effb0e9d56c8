//! The knowledge base on both engines: a folder of Markdown articles imported and exported
//! back, search ranking with stemming in each article's language (fixtures with the
//! expected best article), leads' saves with versions and conflicts, and the public help
//! centre (pages without script, search, helpfulness, limits, what the reports count).
#![allow(clippy::unwrap_used)]

mod common;

use common::{login, open, serve, world, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::Path;
use switchboard_hub::config::Config;
use switchboard_hub::kb_files;
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::articles::{ArticleStatus, SaveArticle};
use switchboard_protocol::mutation::{DeleteArticle, Mutation, MutationEnvelope, Outcome};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/articles"))
}

async fn imported(store: &Store) {
    let saves = kb_files::read_folder(fixtures()).unwrap();
    let done = store.import_articles(Viewer::command_line(), saves).await.unwrap();
    assert_eq!((done.created, done.changed, done.unchanged), (9, 0, 0));
}

async fn top(store: &Store, locale: &str, q: &str, as_typed: bool) -> Vec<String> {
    store
        .search_articles(locale.into(), q.into(), as_typed, false, 5, None)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.key)
        .collect()
}

async fn search_ranks_the_expected_article_first(db: &TestDb) {
    let store = open(db);
    imported(&store).await;
    // (language, the question, the article that must come first)
    let cases = [
        ("en", "How can I return my shoes?", "return-an-item"),
        ("en", "where is my parcel", "track-my-order"),
        ("en", "I forgot my password and cannot sign in", "reset-password"),
        ("en", "you charged my card twice", "charged-twice"),
        ("en", "when do I get my money back", "when-will-i-get-my-refund"),
        // Stemming: "refunded" finds the article about refunds, "returning" the one on returns.
        ("en", "refunded", "when-will-i-get-my-refund"),
        ("en", "returning shoes", "return-an-item"),
        ("en", "how much does delivery cost", "shipping-costs"),
        ("fr", "je veux retourner mes articles", "retourner-un-article"),
        ("es", "¿cuánto cuestan los envíos?", "envios-y-plazos"),
        ("pt-BR", "", ""),
    ];
    for (locale, q, want) in cases {
        let got = top(&store, locale, q, false).await;
        assert_eq!(got.first().map(String::as_str).unwrap_or(""), want, "{locale} {q:?}: {got:?}");
    }
    // As the visitor types, an unfinished last word finds its article.
    assert_eq!(top(&store, "en", "forgot passw", true).await.first().map(String::as_str), Some("reset-password"));
    // Drafts are for agents only; words from another language find nothing.
    assert!(!top(&store, "en", "rewards points", false).await.contains(&"loyalty-programme".to_owned()));
    let drafts = store.search_articles("en".into(), "rewards points".into(), false, true, 5, None).await.unwrap();
    assert_eq!(drafts.first().map(|h| h.key.as_str()), Some("loyalty-programme"));
    assert!(top(&store, "en", "retourner", false).await.is_empty(), "French words find no English article");
    // Query syntax in a question is only words.
    assert!(top(&store, "en", "\" OR * NEAR( ) : -", false).await.is_empty());
    let hit = &store
        .search_articles("en".into(), "password".into(), false, false, 1, Some("https://h.example".into()))
        .await
        .unwrap()[0];
    assert_eq!(hit.url.as_deref(), Some("https://h.example/help/articles/reset-password"));
    assert!(hit.snippet.starts_with("Choose Forgot password"), "{}", hit.snippet);
    // Too long a question is refused.
    assert!(store.search_articles("en".into(), "x".repeat(1_001), false, false, 5, None).await.is_err());

    // Export writes the folder back; reading it again changes nothing.
    let out = tempfile::tempdir().unwrap();
    assert_eq!(kb_files::write_folder(out.path(), &store.articles().await.unwrap()).unwrap(), 9);
    let again = kb_files::read_folder(out.path()).unwrap();
    let done = store.import_articles(Viewer::command_line(), again).await.unwrap();
    assert_eq!((done.created, done.changed, done.unchanged), (0, 0, 9));
    // A file that does not read names itself.
    std::fs::write(out.path().join("broken.md"), "no front matter").unwrap();
    let e = kb_files::read_folder(out.path()).unwrap_err().to_string();
    assert!(e.contains("broken.md") && e.contains("front-matter"), "{e}");
}

fn save(key: &str, title: &str, body: &str, new: bool) -> Mutation {
    Mutation::SaveArticle(SaveArticle {
        key: key.into(),
        title: title.into(),
        body: body.into(),
        tags: vec!["returns".into()],
        locale: "en".into(),
        collection: "Orders".into(),
        status: ArticleStatus::Published,
        new,
    })
}

async fn apply(store: &Store, v: &Viewer, client: &str, id: u64, m: Mutation, expected: Option<i64>) -> Outcome {
    let env = MutationEnvelope { mutation_id: id, mutation: m, expected_version: expected };
    store.apply_mutations(v, client, vec![env]).await.unwrap().remove(0).outcome
}

async fn leads_write_articles_with_versions_and_conflicts(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    assert_eq!(
        apply(&store, &w.lead, "lead-1", 1, save("returns", "Returns", "Send it back.", true), None).await,
        Outcome::Applied
    );
    // Agents read the knowledge base but do not change it.
    let refused = apply(&store, &w.agent, "agent-1", 1, save("returns", "Mine now", "x", false), None).await;
    assert!(
        matches!(&refused, Outcome::Rejected { error } if error.code == switchboard_protocol::ErrorCode::Forbidden),
        "{refused:?}"
    );
    // A new article cannot take a key in use.
    let taken = apply(&store, &w.admin, "admin-1", 1, save("returns", "Other", "y", true), None).await;
    assert!(matches!(&taken, Outcome::Rejected { error } if error.message.contains("taken")), "{taken:?}");
    // Two editors open version 1; the second save is a conflict carrying the first's text.
    assert_eq!(
        apply(&store, &w.lead, "lead-1", 2, save("returns", "Returns", "Within 30 days.", false), Some(1)).await,
        Outcome::Applied
    );
    let conflict =
        apply(&store, &w.admin, "admin-1", 2, save("returns", "Returns", "Within 14 days.", false), Some(1)).await;
    match conflict {
        Outcome::Conflict { current } => assert!(serde_json::to_string(&current).unwrap().contains("Within 30 days.")),
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Saving over it knowingly works, and every version is kept.
    assert_eq!(
        apply(&store, &w.admin, "admin-1", 3, save("returns", "Returns", "Within 14 days.", false), Some(2)).await,
        Outcome::Applied
    );
    let article = store.articles().await.unwrap().into_iter().find(|a| a.key == "returns").unwrap();
    let versions = store.article_versions(article.id).await.unwrap();
    let bodies: Vec<&str> = versions.iter().map(|v| v.body.as_str()).collect();
    assert_eq!(bodies, ["Within 14 days.", "Within 30 days.", "Send it back."]);
    assert_eq!(versions[2].updated_by, Some(w.lead.agent_id));
    assert_eq!(versions[0].updated_by_name.as_deref(), Some("admin"));
    // Every console hears of it, and a bootstrap carries it.
    let boot = store.bootstrap(&w.agent, 10).await.unwrap();
    assert!(boot.articles.iter().any(|a| a.key == "returns" && a.body == "Within 14 days."));
    // Bad input is refused with the reason, and nothing is stored.
    let bad = apply(&store, &w.lead, "lead-1", 3, save("Bad Key!", "T", "b", true), None).await;
    assert!(matches!(&bad, Outcome::Rejected { error } if error.message.contains("key")), "{bad:?}");
    let huge = apply(&store, &w.lead, "lead-1", 4, save("huge", "T", &"x".repeat(70_000), true), None).await;
    assert!(matches!(&huge, Outcome::Rejected { .. }), "{huge:?}");
    assert!(store.articles().await.unwrap().iter().all(|a| a.key != "huge"));
    // Deleting with a stale version is a conflict; with the current one it goes.
    let stale =
        apply(&store, &w.lead, "lead-1", 5, Mutation::DeleteArticle(DeleteArticle { key: "returns".into() }), Some(1))
            .await;
    assert!(matches!(stale, Outcome::Conflict { .. }), "{stale:?}");
    let gone =
        apply(&store, &w.lead, "lead-1", 6, Mutation::DeleteArticle(DeleteArticle { key: "returns".into() }), Some(3))
            .await;
    assert_eq!(gone, Outcome::Applied);
    assert!(store.articles().await.unwrap().is_empty());
    assert!(store.search_articles("en".into(), "days".into(), false, true, 5, None).await.unwrap().is_empty());
}

async fn get(url: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let r = reqwest::get(url).await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, r.text().await.unwrap(), headers)
}

async fn the_help_centre_serves_pages_without_script(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    imported(&store).await;
    let hub = serve(store.clone(), Config::default()).await;
    let (status, home, headers) = get(&format!("{}/help", hub.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert!(home.contains("<html lang=\"en\">") && home.contains("<h2>Orders and returns</h2>"), "{home}");
    assert!(home.contains("href=\"/help/articles/track-my-order\""));
    assert!(!home.contains("<script") && !home.contains("Northwind rewards"), "no script, no drafts");
    assert!(home.contains("href=\"/help?locale=fr\""), "other languages are offered");
    let (_, french, _) = get(&format!("{}/help?locale=fr", hub.base)).await;
    assert!(french.contains("<html lang=\"fr\">") && french.contains("Comment retourner un article"));

    let (status, results, _) = get(&format!("{}/help?q=lost+my+password", hub.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(results.contains("I forgot my password") && results.contains("value=\"lost my password\""), "{results}");
    let (_, injected, _) = get(&format!("{}/help?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", hub.base)).await;
    assert!(!injected.contains("<script>alert(1)") && injected.contains("&lt;script&gt;"), "the question is text");

    let (status, page, _) = get(&format!("{}/help/articles/return-an-item", hub.base)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<h1>How do I return an item?</h1>") && page.contains("<strong>Return items</strong>"),
        "{page}"
    );
    assert!(page.contains("&lt;script&gt;alert") && !page.contains("<script>alert"), "raw HTML in a body is text");
    assert!(page.contains("Was this article helpful?"));
    for missing in ["loyalty-programme", "no-such-article", "..%2F..%2Fetc"] {
        let (status, _, _) = get(&format!("{}/help/articles/{missing}", hub.base)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    }
    // Feedback without script: a form post, then the page thanks the reader.
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = no_redirect
        .post(format!("{}/help/articles/return-an-item/feedback", hub.base))
        .form(&[("helpful", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/help/articles/return-an-item?thanks=1");
    let r = no_redirect
        .post(format!("{}/help/articles/return-an-item/feedback", hub.base))
        .form(&[("helpful", "maybe")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (_, thanked, _) = get(&format!("{}/help/articles/return-an-item?thanks=1", hub.base)).await;
    assert!(thanked.contains("Thanks for telling us."));

    // The lead's report counts the reads and the answers.
    let token = login(&hub, "lead@x.test").await;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    let report: Value = common::get_json(format!("{}/api/v1/reports?from={today}&to={today}", hub.base), &token).await;
    let uses = report["articles"].as_array().unwrap();
    let returns = uses.iter().find(|a| a["title"] == "How do I return an item?").unwrap_or_else(|| panic!("{report}"));
    assert_eq!((returns["views"].as_u64(), returns["helpful"].as_u64()), (Some(2), Some(1)), "{returns}");
    let _ = w;

    // A client reading too fast is told to slow down; the agents' API is not.
    let mut limited = false;
    for _ in 0..200 {
        if reqwest::get(format!("{}/help", hub.base)).await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "the help centre limits a client's pages");
    let me = reqwest::Client::new().get(format!("{}/api/v1/me", hub.base)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let _ = json!(null);
}

both_engines!(
    search_ranks_the_expected_article_first,
    leads_write_articles_with_versions_and_conflicts,
    the_help_centre_serves_pages_without_script
);
