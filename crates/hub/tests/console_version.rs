//! The oldest console a hub accepts, over real HTTP: a console older than
//! `min_console_version` is answered `426 upgrade_required` at login, bootstrap, mutations
//! and the stream; one at or past it, and a caller naming no console, are served; a header
//! that is not a version is `400`; a setting that is not a version stops the hub's start.
#![allow(clippy::unwrap_used)]

mod common;

use common::{open, serve};
use switchboard_hub::config::Config;
use switchboard_protocol::version::CONSOLE_HEADER;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outdated_console_is_told_to_update() {
    let db = common::sqlite_db();
    let store = open(&db);
    common::world(&store).await;
    let hub = serve(store, Config { min_console_version: Some("0.2.0".into()), ..Config::default() }).await;
    let http = reqwest::Client::new();
    let login = |version: Option<&'static str>| {
        let mut req = http
            .post(format!("{}/api/v1/auth/login", hub.base))
            .json(&serde_json::json!({"email": "agent@x.test", "password": common::PASSWORD}));
        if let Some(v) = version {
            req = req.header(CONSOLE_HEADER, v);
        }
        req.send()
    };

    let old = login(Some("0.1.9")).await.unwrap();
    assert_eq!(old.status(), 426);
    let body: serde_json::Value = old.json().await.unwrap();
    assert_eq!(body["code"], "upgrade_required");
    assert!(body["message"].as_str().unwrap().contains("0.2.0 or newer"), "{body}");
    let bad = login(Some("newest")).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(bad.json::<serde_json::Value>().await.unwrap()["code"], "bad_request");
    for ok in [Some("0.2.0"), Some("1.0.0-beta.2"), None] {
        assert_eq!(login(ok).await.unwrap().status(), 200, "{ok:?}");
    }

    // Signed in, then outdated: every call is answered the same way, the stream too.
    let token = common::login(&hub, "agent@x.test").await;
    let bootstrap =
        http.get(format!("{}/api/v1/sync/bootstrap", hub.base)).bearer_auth(&token).header(CONSOLE_HEADER, "0.1.0");
    assert_eq!(bootstrap.send().await.unwrap().status(), 426);
    let mutations = http
        .post(format!("{}/api/v1/mutations", hub.base))
        .bearer_auth(&token)
        .header(CONSOLE_HEADER, "0.1.0")
        .json(&serde_json::json!({"client_id": "c1", "mutations": []}));
    assert_eq!(mutations.send().await.unwrap().status(), 426);
    let ws = format!("ws://{}/api/v1/stream?since=0", hub.addr);
    let mut req = ws.as_str().into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    req.headers_mut().insert(CONSOLE_HEADER, "0.1.0".parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 426),
        other => panic!("the stream was not refused: {:?}", other.map(|_| ())),
    }
    let current =
        http.get(format!("{}/api/v1/sync/bootstrap", hub.base)).bearer_auth(&token).header(CONSOLE_HEADER, "0.2.1");
    assert_eq!(current.send().await.unwrap().status(), 200);
}

#[test]
fn a_minimum_that_is_not_a_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.toml");
    std::fs::write(&path, "min_console_version = \"two\"\n").unwrap();
    let err = Config::from_file(&path).unwrap_err().to_string();
    assert!(err.contains("min_console_version `two` is not MAJOR.MINOR.PATCH"), "{err}");
    std::fs::write(&path, "min_console_version = \"v0.3.1\"\n").unwrap();
    assert_eq!(Config::from_file(&path).unwrap().min_console_version.as_deref(), Some("0.3.1"));
}
