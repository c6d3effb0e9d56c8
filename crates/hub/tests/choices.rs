//! Choices in web chat, against a real hub on both engines: an agent's line offers them,
//! the visitor's tap arrives as a structured answer naming that line, and a tap on choices
//! never offered, or offered to someone else, is refused and stores nothing.
#![allow(clippy::unwrap_used)]

mod common;

use common::{login, open, serve, world, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_hub::config::Config;

async fn a_visitors_tap_is_a_structured_answer(db: &TestDb) {
    let store = open(db);
    let w = world(&store).await;
    common::webchat_inbox(&store, w.team_a, "site-widget").await;
    let hub = serve(store.clone(), Config::default()).await;
    let http = reqwest::Client::new();
    let agent = login(&hub, "agent@x.test").await;
    let visit = || async {
        let v: Value = http
            .post(format!("{}/chat/v1/sessions", hub.base))
            .json(&json!({"inbox": "site-widget"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["token"].as_str().unwrap().to_owned()
    };
    let (ada, eve) = (visit().await, visit().await);
    let say = |token: String, body: Value| {
        let http = http.clone();
        let url = format!("{}/chat/v1/messages", hub.base);
        async move {
            let resp = http.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    assert_eq!(
        say(ada.clone(), json!({"client_id": "a1", "text": "When can you deliver?"})).await.0,
        StatusCode::CREATED
    );
    assert_eq!(say(eve.clone(), json!({"client_id": "e1", "text": "Hello"})).await.0, StatusCode::CREATED);
    let boot: Value = common::get_json(format!("{}/api/v1/sync/bootstrap", hub.base), &agent).await;
    let conv_of = |preview: &str| {
        boot["conversations"].as_array().unwrap().iter().find(|c| c["preview"] == preview).unwrap()["id"].clone()
    };
    let (ada_conv, eve_conv) = (conv_of("When can you deliver?"), conv_of("Hello"));
    let times = json!({"style": "list", "button": "See times", "options": [
        {"id": "tue-10", "title": "Tuesday 10:00", "description": "Morning"}, {"id": "wed-14", "title": "Wednesday 14:00"}]});
    let out: Value = http
        .post(format!("{}/api/v1/mutations", hub.base))
        .bearer_auth(&agent)
        .json(&json!({"client_id": "console-choices", "mutations": [{"mutation_id": 1, "name": "send_reply",
            "args": {"conversation_id": ada_conv, "client_msg_id": "r-1", "body": "Pick a time", "choices": times}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(out["results"][0]["status"], "applied", "{out}");

    // The visitor's thread shows the choices with the agent's line.
    let history: Value = common::get_json(format!("{}/chat/v1/messages", hub.base), &ada).await;
    let offered = history["messages"].as_array().unwrap().iter().find(|m| m["author"] == "agent").unwrap().clone();
    assert_eq!(offered["choices"], times);
    let offered_id = offered["id"].as_i64().unwrap();

    // Refused, nothing stored: an option never offered, choices offered to someone else, a
    // line that offered none.
    let lines = |conversation: Value| {
        let (base, agent) = (hub.base.clone(), agent.clone());
        async move {
            let page: Value =
                common::get_json(format!("{base}/api/v1/conversations/{conversation}/messages"), &agent).await;
            page["messages"].as_array().unwrap().len()
        }
    };
    let before = (lines(ada_conv.clone()).await, lines(eve_conv.clone()).await);
    let first_line = history["messages"][0]["id"].as_i64().unwrap();
    for (who, body) in [
        (ada.clone(), json!({"client_id": "a2", "text": "", "choice": {"message_id": offered_id, "id": "fri-9"}})),
        (eve.clone(), json!({"client_id": "e2", "text": "", "choice": {"message_id": offered_id, "id": "tue-10"}})),
        (ada.clone(), json!({"client_id": "a3", "text": "", "choice": {"message_id": first_line, "id": "tue-10"}})),
    ] {
        let (status, body) = say(who, body).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{body}");
    }
    assert_eq!((lines(ada_conv.clone()).await, lines(eve_conv.clone()).await), before, "nothing stored");

    // The tap: the option's title is the line, and agents see it as an answer to theirs.
    let (status, line) =
        say(ada.clone(), json!({"client_id": "a4", "text": "", "choice": {"message_id": offered_id, "id": "tue-10"}}))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    assert_eq!(line["text"], "Tuesday 10:00");
    let want = json!({"id": "tue-10", "title": "Tuesday 10:00", "offered_in": offered_id});
    assert_eq!(line["chosen"], want);
    let page: Value =
        common::get_json(format!("{}/api/v1/conversations/{}/messages", hub.base, ada_conv), &agent).await;
    let answer = page["messages"].as_array().unwrap().iter().find(|m| m["body"] == "Tuesday 10:00").unwrap();
    assert_eq!(answer["chosen"], want);
}

both_engines!(a_visitors_tap_is_a_structured_answer);
