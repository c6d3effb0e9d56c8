//! CRM connectors end to end: a real hub (its API, store and CRM worker) against local
//! stand-ins speaking HubSpot's and Salesforce's documented REST formats, an in-house JSON
//! API, a real CSV file and a real PostgreSQL database.
#![allow(clippy::unwrap_used)]

mod common;
mod crm_standins;

use common::{inbound, login, open, serve, sqlite_db, world, Hub, World};
use crm_standins::{fixture, Mode, StandIn};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_hub::clock::now_ms;
use switchboard_hub::config::Config;
use switchboard_hub::crm::{worker, Crm};
use switchboard_hub::store::Store;
use switchboard_protocol::admin::{
    CreateInbox, CrmConnector, CrmFieldSetting, CrmSettings, RecordMapping, TranscriptSettings,
};
use switchboard_protocol::model::{ChannelKind, Contact, CrmSnapshot, Inbox};

const BEN_HUBSPOT: &str = "75361245901";
const BEN_SALESFORCE: &str = "003Hs00004kQ7fPIAS";

fn hubspot_settings(base: &str) -> CrmSettings {
    CrmSettings {
        connector: CrmConnector::Hubspot {
            base_url: base.into(),
            token: "pat-na1-test-token-1234".into(),
            portal_id: Some("2468013".into()),
            app_url: "https://app.hubspot.com".into(),
            searches_per_second: 4.0,
        },
        fields: vec![
            field("lifecyclestage", "Lifecycle stage"),
            field("owner", "Owner"),
            field("companies", "Company"),
            field("open_deals", "Open deals"),
        ],
        ttl_secs: 3_600,
        timeout_ms: 2_000,
        transcripts: TranscriptSettings::default(),
    }
}

fn salesforce_settings(base: &str) -> CrmSettings {
    CrmSettings {
        connector: CrmConnector::Salesforce {
            instance_url: base.into(),
            token: "00DHs0000000001!AQ4AQtoken".into(),
            api_version: "v62.0".into(),
            requests_per_second: 10.0,
        },
        fields: vec![field("Title", "Title"), field("Account.Name", "Account"), field("Owner.Name", "Owner")],
        ttl_secs: 3_600,
        timeout_ms: 2_000,
        transcripts: TranscriptSettings::default(),
    }
}

fn field(key: &str, label: &str) -> CrmFieldSetting {
    CrmFieldSetting { key: key.into(), label: label.into() }
}

struct Setup {
    _db: common::TestDb,
    store: Store,
    w: World,
    hub: Hub,
    admin: String,
    agent: String,
}

/// A hub serving a small workspace, its CRM connected through the admin API.
async fn setup(settings: &CrmSettings) -> Setup {
    let db = sqlite_db();
    let store = open(&db);
    let w = world(&store).await;
    let hub = serve(store.clone(), Config::default()).await;
    let admin = login(&hub, "admin@x.test").await;
    let agent = login(&hub, "agent@x.test").await;
    let resp = reqwest::Client::new()
        .put(format!("{}/api/v1/admin/crm", hub.base))
        .bearer_auth(&admin)
        .json(settings)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    Setup { _db: db, store, w, hub, admin, agent }
}

/// A customer writes; answers (contact, conversation).
async fn customer_writes(store: &Store, inbox: &Inbox, from: &str, body: &str) -> (i64, i64) {
    let id = format!("m-{}-{}", now_ms(), rand_suffix());
    let got = store.ingest(inbound(inbox, from, body, &id, now_ms())).await.unwrap();
    (got.contact_id, got.conversation_id)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Waits until the contact's CRM snapshot satisfies `ok`.
async fn crm_until(store: &Store, contact: i64, what: &str, ok: impl Fn(&CrmSnapshot) -> bool) -> Contact {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let c = store.contact(contact).await.unwrap();
        if c.crm.as_ref().is_some_and(&ok) {
            return c;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; CRM is {:?}", c.crm);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

async fn until(what: &str, ok: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
}

async fn mutate(hub: &Hub, token: &str, client: &str, mutations: Value) -> Value {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/mutations", hub.base))
        .bearer_auth(token)
        .json(&json!({"client_id": client, "mutations": mutations}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// A `refresh_crm` mutation for `contact`, with more `args`.
fn refresh(mutation_id: u64, contact: i64, mut args: Value) -> Value {
    args["contact_id"] = json!(contact);
    json!([{"mutation_id": mutation_id, "name": "refresh_crm", "args": args}])
}

fn values(c: &Contact) -> Vec<(String, String)> {
    c.crm.as_ref().unwrap().fields.iter().map(|f| (f.label.clone(), f.value.clone())).collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test]
async fn hubspot_match_by_email_shows_owner_company_and_open_deals() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let (contact, _) = customer_writes(&s.store, &s.w.email, "Ben.Okafor@example.com", "Where is my order?").await;
    let c = crm_until(&s.store, contact, "Ben's HubSpot record", |c| c.record_id.is_some()).await;
    let crm = c.crm.clone().unwrap();
    assert_eq!(crm.source, "hubspot");
    assert_eq!(crm.record_id.as_deref(), Some(BEN_HUBSPOT));
    assert_eq!(
        values(&c),
        pairs(&[
            ("Lifecycle stage", "customer"),
            ("Owner", "Priya Raman"),
            ("Company", "Okafor Logistics"),
            ("Open deals", "Fleet tracking renewal (12000, contractsent)"),
        ]),
        "the closed-won deal is not an open one"
    );
    assert_eq!(crm.link.as_deref(), Some("https://app.hubspot.com/contacts/2468013/record/0-1/75361245901"));
    assert!(crm.others.is_empty());
    assert!(crm.fetched_at > 0 && crm.error.is_none());

    let search = &hs.seen_at("/contacts/search")[0];
    assert_eq!(search.authorization.as_deref(), Some("Bearer pat-na1-test-token-1234"));
    assert_eq!(
        search.body["filterGroups"],
        json!([{"filters": [{"propertyName": "email", "operator": "EQ", "value": "ben.okafor@example.com"}]}])
    );
    let props: Vec<&str> = search.body["properties"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(props.contains(&"lifecyclestage") && props.contains(&"hubspot_owner_id"));
    assert_eq!(hs.seen_at("/contacts/search").len(), 1, "an email match needs no phone search");
}

#[tokio::test]
async fn hubspot_match_by_phone_lists_the_other_matches() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let (contact, _) = customer_writes(&s.store, &s.w.sms, "+1 (415) 555-0123", "Hi, it's Ben").await;
    let c = crm_until(&s.store, contact, "a phone match", |c| c.record_id.is_some()).await;
    let crm = c.crm.unwrap();
    assert_eq!(crm.record_id.as_deref(), Some(BEN_HUBSPOT), "the best match comes first");
    let others: Vec<(&str, Option<&str>)> = crm.others.iter().map(|o| (o.name.as_str(), o.detail.as_deref())).collect();
    assert_eq!(others, [("Amara Okafor", Some("amara.okafor@example.com")), ("Ben", Some("+14155550123"))]);
    assert!(crm.others.iter().all(|o| o.link.as_deref().is_some_and(|l| l.contains(&o.record_id))));
    let search = &hs.seen_at("/contacts/search")[0];
    assert_eq!(
        search.body["filterGroups"],
        json!([
            {"filters": [{"propertyName": "phone", "operator": "EQ", "value": "+14155550123"}]},
            {"filters": [{"propertyName": "mobilephone", "operator": "EQ", "value": "+14155550123"}]}
        ]),
        "phone OR mobilephone, in E.164"
    );
}

#[tokio::test]
async fn no_match_says_what_was_searched_and_another_address_can_be_tried() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let (contact, _) = customer_writes(&s.store, &s.w.email, "b.okafor@personal.example", "Hello?").await;
    let c = crm_until(&s.store, contact, "a lookup", |_| true).await;
    let crm = c.crm.unwrap();
    assert_eq!(crm.record_id, None);
    assert!(crm.fields.is_empty() && crm.error.is_none());
    assert_eq!(crm.searched, ["b.okafor@personal.example"]);

    // The agent knows his work address.
    let out = mutate(&s.hub, &s.agent, "console-1", refresh(1, contact, json!({"by": "ben.okafor@example.com"}))).await;
    assert_eq!(out["results"][0]["status"], "applied", "{out}");
    let c = crm_until(&s.store, contact, "the record found by the typed address", |c| c.record_id.is_some()).await;
    assert_eq!(c.crm.unwrap().searched, ["ben.okafor@example.com"]);

    // A typed address that is neither refuses with a reason and changes nothing.
    let out = mutate(&s.hub, &s.agent, "console-1", refresh(2, contact, json!({"by": "call me maybe"}))).await;
    assert_eq!(out["results"][0]["status"], "rejected");
    assert_eq!(out["results"][0]["error"]["code"], "bad_request");
}

#[tokio::test]
async fn a_web_chat_visitor_who_leaves_an_email_is_looked_up_by_it() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let site = s
        .store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Webchat,
            name: "Website".into(),
            team_id: s.w.team_a,
            address: "site-widget".into(),
            settings: json!({}),
        })
        .await
        .unwrap();
    let new = switchboard_hub::store::visitors::NewVisitor {
        inbox_id: site.id,
        channel: site.kind,
        address: "visitor-ben".into(),
        secret_hash: "h".into(),
        email: None,
        name: None,
        client: None,
    };
    let visitor = s.store.create_visitor(new).await.unwrap();
    let (contact, _) = customer_writes(&s.store, &site, "visitor-ben", "Is my order on its way?").await;
    let c = crm_until(&s.store, contact, "the first lookup", |_| true).await;
    assert!(c.crm.unwrap().searched.is_empty(), "a visitor has no address to search by yet");

    s.store.set_visitor_email(&visitor, ChannelKind::Webchat, "ben.okafor@example.com".into(), None).await.unwrap();
    let c = crm_until(&s.store, contact, "the record found by the email left", |c| c.record_id.is_some()).await;
    assert_eq!(c.crm.unwrap().record_id.as_deref(), Some(BEN_HUBSPOT));
}

#[tokio::test]
async fn refused_down_and_slow_crms_are_recorded_and_the_last_good_fields_kept() {
    let hs = crm_standins::hubspot().await;
    let mut settings = hubspot_settings(&hs.base);
    settings.timeout_ms = 300;
    let s = setup(&settings).await;

    hs.set(Mode::Fail(401, fixture("hubspot_401")));
    let (contact, _) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Hi").await;
    let c = crm_until(&s.store, contact, "the 401", |c| c.error.is_some()).await;
    let err = c.crm.unwrap().error.unwrap();
    assert!(err.contains("HubSpot refused the credentials (401"), "{err}");

    let forced = |n: u64| refresh(n, contact, json!({"force": true}));
    hs.set(Mode::Normal);
    mutate(&s.hub, &s.agent, "c", forced(1)).await;
    let good = crm_until(&s.store, contact, "fields", |c| c.error.is_none() && !c.fields.is_empty()).await.crm.unwrap();

    hs.set(Mode::Fail(503, json!({"status": "error", "message": "Service Unavailable"})));
    mutate(&s.hub, &s.agent, "c", forced(2)).await;
    let down = crm_until(&s.store, contact, "the 503", |c| c.error.is_some()).await.crm.unwrap();
    assert!(down.error.as_deref().unwrap().contains("HubSpot is not available (503"), "{down:?}");
    assert_eq!(down.fields, good.fields, "the last good values stay");
    assert_eq!(down.fetched_at, good.fetched_at, "with their age");

    hs.set(Mode::Hang(Duration::from_secs(3)));
    mutate(&s.hub, &s.agent, "c", forced(3)).await;
    let slow =
        crm_until(&s.store, contact, "the timeout", |c| c.error.as_deref().is_some_and(|e| e.contains("within"))).await;
    assert!(slow.crm.as_ref().unwrap().error.as_deref().unwrap().contains("HubSpot did not answer within 300 ms"));
    assert_eq!(slow.crm.unwrap().fields, good.fields);
}

#[tokio::test]
async fn a_429_holds_requests_for_its_retry_after() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    hs.set(Mode::Throttle { secs: 1, times: 1 });
    let (contact, _) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Hi").await;
    let c = crm_until(&s.store, contact, "fields after the 429", |c| c.record_id.is_some()).await;
    assert!(c.crm.unwrap().error.is_none());
    let seen = hs.seen();
    assert!(seen.len() >= 2);
    let gap = seen[1].at.duration_since(seen[0].at);
    assert!(gap >= Duration::from_millis(990), "the next request waited {gap:?}, not the 1 s Retry-After asked");
}

#[tokio::test]
async fn searches_keep_to_hubspots_rate() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    // Eight new customers at once: eight searches at most four a second.
    for i in 0..8 {
        customer_writes(&s.store, &s.w.email, &format!("someone{i}@example.com"), "Hi").await;
    }
    until("eight searches", || hs.seen_at("/contacts/search").len() >= 8).await;
    let seen = hs.seen_at("/contacts/search");
    let span = seen[7].at.duration_since(seen[0].at);
    assert!(span >= Duration::from_millis(1_700), "eight searches within {span:?}: more than four a second");
}

#[tokio::test]
async fn opening_a_thread_refreshes_only_stale_fields() {
    let hs = crm_standins::hubspot().await;
    let db = sqlite_db();
    let store = open(&db);
    let w = world(&store).await;
    let crm = Crm::new(hubspot_settings(&hs.base)).unwrap();
    let (contact, _) = customer_writes(&store, &w.email, "ben.okafor@example.com", "Hi").await;
    // No worker runs in the background here: each run is the test's, at the time it names.
    assert!(worker::run_due(&store, &crm).await);
    let first = store.contact(contact).await.unwrap().crm.unwrap();
    assert!(first.record_id.is_some());
    let searches = || hs.seen_at("/contacts/search").len();
    assert_eq!(searches(), 1);
    let open = |n: u64| {
        let env = serde_json::from_value(refresh(n, contact, json!({}))).unwrap();
        let (store, agent) = (store.clone(), w.agent.clone());
        async move { store.apply_mutations(&agent, "desk", env).await.unwrap() }
    };

    // Opened a minute later: the fields are fresh, nothing is fetched.
    open(1).await;
    assert!(worker::run_due_at(&store, &crm, now_ms() + 60_000).await, "the request was handled");
    assert_eq!(searches(), 1, "fresh fields are not fetched again");
    assert_eq!(store.contact(contact).await.unwrap().crm.unwrap(), first);

    // Opened past the TTL: fetched again.
    open(2).await;
    assert!(worker::run_due_at(&store, &crm, now_ms() + 3_600_000 + 1).await);
    assert_eq!(searches(), 2, "stale fields are fetched");
    assert!(!worker::run_due_at(&store, &crm, now_ms() + 3_600_000 + 2).await, "and only once");

    // An admin changes the settings (another field shown): fields fetched before are stale.
    let mut changed = hubspot_settings(&hs.base);
    changed.fields.push(field("jobtitle", "Job title"));
    store.put_crm_settings(changed.clone()).await.unwrap();
    let crm = Crm::new(changed).unwrap();
    open(3).await;
    assert!(worker::run_due(&store, &crm).await);
    assert_eq!(searches(), 3, "fields fetched under the old settings are fetched again");
    open(4).await;
    assert!(worker::run_due(&store, &crm).await);
    assert_eq!(searches(), 3, "and then they are fresh");
}

#[tokio::test]
async fn only_agents_who_see_the_customer_may_refresh() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let (contact, _) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Hi").await;
    let other_team = login(&s.hub, "bagent@x.test").await;
    let out = mutate(&s.hub, &other_team, "b", refresh(1, contact, json!({"force": true}))).await;
    assert_eq!(out["results"][0]["status"], "rejected");
    assert_eq!(out["results"][0]["error"]["code"], "not_found");
}

/// Resolves (or reopens) a conversation through the API.
fn status(n: u64, conversation: i64, status: &str) -> Value {
    json!([{"mutation_id": n, "name": "set_status", "args": {"conversation_id": conversation, "status": status}}])
}

#[tokio::test]
async fn hubspot_transcript_is_logged_once_per_resolution() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let (contact, conv) =
        customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "My scanner <b>won't</b> pair").await;
    crm_until(&s.store, contact, "fields", |c| c.record_id.is_some()).await;
    let out = mutate(
        &s.hub,
        &s.agent,
        "c",
        json!([
            {"mutation_id": 1, "name": "send_reply", "args": {"conversation_id": conv, "client_msg_id": "r1", "body": "Hold the button for 5 seconds."}},
            {"mutation_id": 2, "name": "add_note", "args": {"conversation_id": conv, "client_msg_id": "n1", "body": "Known firmware bug"}},
        ]),
    )
    .await;
    assert!(out["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"), "{out}");
    mutate(&s.hub, &s.agent, "c", status(3, conv, "resolved")).await;
    until("the note", || hs.created().len() == 1).await;
    let (note_id, note) = hs.created()[0].clone();
    assert_eq!(note["associations"][0]["to"]["id"], BEN_HUBSPOT);
    assert_eq!(note["associations"][0]["types"][0]["associationTypeId"], 202);
    assert_eq!(note["associations"][0]["types"][0]["associationCategory"], "HUBSPOT_DEFINED");
    let body = note["properties"]["hs_note_body"].as_str().unwrap();
    assert!(body.contains("Email conversation #"), "{body}");
    let link = format!("switchboard://conversation/{conv}");
    assert!(body.contains(&format!("Open in Switchboard: <a href=\"{link}\">{link}</a>")), "{body}");
    assert!(body.contains("Ana Silva (customer): My scanner &lt;b&gt;won't&lt;/b&gt; pair"), "{body}");
    assert!(body.contains("agent (agent): Hold the button for 5 seconds."), "{body}");
    assert!(!body.contains("firmware"), "notes stay out unless configured");
    assert!(note["properties"]["hs_timestamp"].as_str().unwrap().parse::<i64>().is_ok());

    // Resolving again (a retry, or reopened and resolved with nothing new) logs nothing.
    mutate(&s.hub, &s.agent, "c", status(4, conv, "resolved")).await;
    mutate(&s.hub, &s.agent, "c", status(5, conv, "open")).await;
    mutate(&s.hub, &s.agent, "c", status(6, conv, "resolved")).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(hs.created().len(), 1, "one transcript per resolution");
    assert_eq!(s.store.transcripts_of(conv).await.unwrap(), [("done".to_owned(), Some(note_id), None)]);

    // Reopened and answered again: the next resolution logs what is new.
    mutate(&s.hub, &s.agent, "c", status(7, conv, "open")).await;
    mutate(
        &s.hub,
        &s.agent,
        "c",
        json!([{"mutation_id": 8, "name": "send_reply", "args": {"conversation_id": conv, "client_msg_id": "r2", "body": "Checking in: did it pair?"}}]),
    )
    .await;
    mutate(&s.hub, &s.agent, "c", status(9, conv, "resolved")).await;
    until("the second note", || hs.created().len() == 2).await;
    let second = hs.created()[1].1["properties"]["hs_note_body"].as_str().unwrap().to_owned();
    assert!(second.contains("Checking in: did it pair?") && !second.contains("scanner"), "{second}");
}

/// The hub stops while the CRM is storing the transcript; the next hub finds it there and
/// does not log it twice.
async fn transcript_survives_a_stop_mid_way(standin: &StandIn, settings: CrmSettings, record: &str) {
    let db = sqlite_db();
    let store = open(&db);
    let w = world(&store).await;
    let crm = Crm::new(settings).unwrap();
    let (_, conv) = customer_writes(&store, &w.email, "ben.okafor@example.com", "Refund please").await;
    // No worker runs in the background here: each run is the test's.
    worker::run_due(&store, &crm).await;
    let env = serde_json::from_value(
        json!([{"mutation_id": 1, "name": "set_status", "args": {"conversation_id": conv, "status": "resolved"}}]),
    )
    .unwrap();
    store.apply_mutations(&w.agent, "c", env).await.unwrap();

    standin.set(Mode::StoreThenHang(Duration::from_secs(30)));
    let (store2, crm2) = (store.clone(), crm.clone());
    let first_hub = tokio::spawn(async move { worker::run_due(&store2, &crm2).await });
    until("the CRM to store the transcript", || standin.created().len() == 1).await;
    first_hub.abort(); // the hub stops before hearing back
    let _ = first_hub.await;
    standin.set(Mode::Normal);

    // Too soon: another hub may still be waiting for the CRM's answer.
    assert!(!worker::run_due(&store, &crm).await, "a claim in flight is left alone");
    let later = now_ms() + worker::claim_grace(&crm) + 1;
    assert!(worker::run_due_at(&store, &crm, later).await);
    assert_eq!(standin.created().len(), 1, "found in the CRM, not logged again");
    let rows = store.transcripts_of(conv).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "done");
    assert_eq!(rows[0].1.as_deref(), Some(standin.created()[0].0.as_str()));
    assert!(standin.seen().iter().any(|s| s.path.contains(record) || s.query.contains(record)));
}

#[tokio::test]
async fn hubspot_transcript_survives_a_hub_stopping_mid_way() {
    let hs = crm_standins::hubspot().await;
    transcript_survives_a_stop_mid_way(&hs, hubspot_settings(&hs.base), BEN_HUBSPOT).await;
    assert!(!hs.seen_at("/associations/notes").is_empty(), "looked for the note first");
}

#[tokio::test]
async fn salesforce_transcript_survives_a_hub_stopping_mid_way() {
    let sf = crm_standins::salesforce().await;
    transcript_survives_a_stop_mid_way(&sf, salesforce_settings(&sf.base), BEN_SALESFORCE).await;
    assert!(sf.seen().iter().any(|s| s.query.contains("FROM Task WHERE WhoId")), "looked for the Task first");
}

#[tokio::test]
async fn salesforce_soql_by_email_and_sosl_by_phone() {
    let sf = crm_standins::salesforce().await;
    let s = setup(&salesforce_settings(&sf.base)).await;
    let (by_email, _) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Hi").await;
    let c = crm_until(&s.store, by_email, "the SOQL match", |c| c.record_id.is_some()).await;
    assert_eq!(
        values(&c),
        pairs(&[("Title", "Operations Manager"), ("Account", "Okafor Logistics"), ("Owner", "Priya Raman")])
    );
    let crm = c.crm.unwrap();
    assert_eq!(crm.source, "salesforce");
    assert_eq!(crm.link, Some(format!("{}/lightning/r/Contact/{BEN_SALESFORCE}/view", sf.base)));
    let soql = &sf.seen_at("/query")[0];
    assert_eq!(soql.authorization.as_deref(), Some("Bearer 00DHs0000000001!AQ4AQtoken"));
    assert_eq!(
        soql.query,
        "SELECT Id, Name, Email, Phone, MobilePhone, Title, Account.Name, Owner.Name FROM Contact \
         WHERE Email = 'ben.okafor@example.com' ORDER BY LastModifiedDate DESC LIMIT 10"
    );

    let (by_phone, _) = customer_writes(&s.store, &s.w.whatsapp, "+14155550123", "Hi").await;
    let c = crm_until(&s.store, by_phone, "the SOSL match", |c| c.record_id.is_some()).await;
    let crm = c.crm.unwrap();
    assert_eq!(crm.record_id.as_deref(), Some(BEN_SALESFORCE));
    assert_eq!(crm.others.len(), 2, "the other contacts with the number are listed");
    let sosl = &sf.seen_at("/search")[0];
    assert!(sosl.query.starts_with("FIND {4155550123} IN PHONE FIELDS RETURNING Contact(Id, Name"), "{}", sosl.query);
}

#[tokio::test]
async fn salesforce_refusals_and_transcript_task() {
    let sf = crm_standins::salesforce().await;
    let s = setup(&salesforce_settings(&sf.base)).await;
    sf.set(Mode::Fail(401, fixture("salesforce_401")));
    let (contact, conv) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Invoice is wrong").await;
    let c = crm_until(&s.store, contact, "the 401", |c| c.error.is_some()).await;
    assert!(c.crm.unwrap().error.unwrap().contains("Salesforce refused the credentials (401"));

    sf.set(Mode::Normal);
    mutate(&s.hub, &s.agent, "c", refresh(1, contact, json!({"force": true}))).await;
    crm_until(&s.store, contact, "the record", |c| c.record_id.is_some() && c.error.is_none()).await;
    mutate(&s.hub, &s.agent, "c", status(2, conv, "resolved")).await;
    until("the Task", || sf.created().len() == 1).await;
    let task = &sf.created()[0].1;
    assert_eq!(task["WhoId"], BEN_SALESFORCE);
    assert_eq!(task["Status"], "Completed");
    assert!(task["Subject"].as_str().unwrap().starts_with("Email conversation #"));
    assert!(task["Description"].as_str().unwrap().contains("(customer): Invoice is wrong"));
    let link = format!("Open in Switchboard: switchboard://conversation/{conv}");
    assert!(task["Description"].as_str().unwrap().contains(&link), "{task}");
    assert_eq!(task["ActivityDate"].as_str().unwrap().len(), 10, "a date: {}", task["ActivityDate"]);
    mutate(&s.hub, &s.agent, "c", status(3, conv, "open")).await;
    mutate(&s.hub, &s.agent, "c", status(4, conv, "resolved")).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sf.created().len(), 1, "logged once");
}

#[tokio::test]
async fn in_house_json_api_with_pointers() {
    let api = crm_standins::in_house().await;
    let settings = CrmSettings {
        connector: CrmConnector::Http {
            url: format!("{}/v2/customers?email={{email}}&phone={{phone}}", api.base),
            headers: [("X-Api-Key".to_owned(), "k-123456789".to_owned())].into(),
            records: RecordMapping {
                list: Some("/data/customers".into()),
                id: "/customer_id".into(),
                name: "/full_name".into(),
                email: "/contact/email".into(),
                phone: "/contact/mobile".into(),
                link: Some("https://crm.internal.example/customers/{id}".into()),
            },
            requests_per_second: 20.0,
        },
        fields: vec![
            field("/subscription/tier", "Tier"),
            field("/subscription/seats", "Seats"),
            field("/orders/last", "Last order"),
        ],
        ttl_secs: 600,
        timeout_ms: 2_000,
        transcripts: TranscriptSettings::default(),
    };
    let s = setup(&settings).await;
    let (ben, conv) = customer_writes(&s.store, &s.w.sms, "+14155550123", "Hi").await;
    let c = crm_until(&s.store, ben, "the in-house record", |c| c.record_id.is_some()).await;
    assert_eq!(values(&c), pairs(&[("Tier", "Enterprise"), ("Seats", "40"), ("Last order", "#88120")]));
    let crm = c.crm.unwrap();
    assert_eq!(crm.record_id.as_deref(), Some("C-1042"));
    assert_eq!(crm.link.as_deref(), Some("https://crm.internal.example/customers/C-1042"));
    let req = &api.seen()[0];
    assert_eq!(req.query, "email=&phone=%2B14155550123");
    let (nobody, _) = customer_writes(&s.store, &s.w.email, "nobody@example.com", "Hi").await;
    let c = crm_until(&s.store, nobody, "a 404 read as no match", |_| true).await;
    assert_eq!((c.crm.as_ref().unwrap().record_id.clone(), c.crm.unwrap().error), (None, None));
    // Sources without a place for transcripts skip them.
    mutate(&s.hub, &s.agent, "c", status(1, conv, "resolved")).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = s.store.transcripts_of(conv).await.unwrap();
        if rows.first().is_some_and(|r| r.0 == "skipped") {
            assert!(rows[0].2.as_deref().unwrap().contains("does not take transcripts"));
            break;
        }
        assert!(Instant::now() < deadline, "{rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn csv_file_source_reads_the_file_as_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("customers.csv");
    std::fs::write(
        &file,
        "id,name,email,phone,plan,account_owner\n\
         NW-1,Ben Okafor,ben.okafor@example.com,(415) 555-0123,Pro,Maya Okafor\n\
         NW-2,\"Silva, Ana\",ana@example.com,+351 912 345 678,Free,\n",
    )
    .unwrap();
    let settings = CrmSettings {
        connector: CrmConnector::Csv { path: file.display().to_string(), records: RecordMapping::default() },
        fields: vec![field("plan", "Plan"), field("account_owner", "Account owner")],
        ttl_secs: 600,
        timeout_ms: 2_000,
        transcripts: TranscriptSettings::default(),
    };
    let s = setup(&settings).await;
    let (ben, _) = customer_writes(&s.store, &s.w.whatsapp, "+14155550123", "Hi").await;
    let c = crm_until(&s.store, ben, "Ben's row", |c| c.record_id.is_some()).await;
    assert_eq!(values(&c), pairs(&[("Plan", "Pro"), ("Account owner", "Maya Okafor")]));
    assert_eq!(c.crm.unwrap().source, "csv");
    let (ana, _) = customer_writes(&s.store, &s.w.email, "ANA@example.com", "Hi").await;
    let c = crm_until(&s.store, ana, "Ana's row", |c| c.record_id.is_some()).await;
    assert_eq!(values(&c), pairs(&[("Plan", "Free")]), "an empty cell is no field");

    // Ben upgrades in the spreadsheet.
    let text = std::fs::read_to_string(&file).unwrap().replace(",Pro,", ",Business,");
    std::fs::write(&file, text).unwrap();
    mutate(&s.hub, &s.agent, "c", refresh(1, ben, json!({"force": true}))).await;
    crm_until(&s.store, ben, "the new plan", |c| c.fields.iter().any(|f| f.value == "Business")).await;

    std::fs::remove_file(&file).unwrap();
    mutate(&s.hub, &s.agent, "c", refresh(2, ben, json!({"force": true}))).await;
    let c = crm_until(&s.store, ben, "the missing file", |c| c.error.is_some()).await.crm.unwrap();
    assert!(c.error.as_deref().unwrap().contains("cannot read"), "{c:?}");
    assert!(c.fields.iter().any(|f| f.value == "Business"), "the last good values stay");
}

#[tokio::test]
async fn sql_source_queries_the_business_postgres_read_only() {
    let server = common::pg_server();
    let table = format!("sb_customers_{}_{}", std::process::id(), now_ms() % 1_000_000);
    let (srv, t) = (server.clone(), table.clone());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&srv, postgres::NoTls).unwrap();
        c.batch_execute(&format!(
            "CREATE TABLE {t} (id TEXT PRIMARY KEY, name TEXT, email TEXT, phone TEXT, plan TEXT, seats INT, renews DATE);
             CREATE SEQUENCE {t}_seq;
             INSERT INTO {t} VALUES ('C-7', 'Ben Okafor', 'ben.okafor@example.com', '+14155550123', 'Enterprise', 40, '2027-03-01'),
                                    ('C-8', 'Ana Silva', 'ana@example.com', '+351912345678', 'Free', 1, NULL);"
        ))
        .unwrap();
    })
    .join()
    .unwrap();
    let settings = |by_email: String| CrmSettings {
        connector: CrmConnector::Sql {
            url: server.clone(),
            by_email,
            by_phone: format!("SELECT id, name, email, phone, plan, seats, renews FROM {table} WHERE phone = $1"),
            records: RecordMapping { link: None, ..RecordMapping::default() },
        },
        fields: vec![field("plan", "Plan"), field("seats", "Seats"), field("renews", "Renews")],
        ttl_secs: 600,
        timeout_ms: 2_000,
        transcripts: TranscriptSettings::default(),
    };
    let s = setup(&settings(format!("SELECT * FROM {table} WHERE lower(email) = $1"))).await;
    let (ben, _) = customer_writes(&s.store, &s.w.sms, "+14155550123", "Hi").await;
    let c = crm_until(&s.store, ben, "Ben's row", |c| c.record_id.is_some()).await;
    assert_eq!(values(&c), pairs(&[("Plan", "Enterprise"), ("Seats", "40"), ("Renews", "2027-03-01")]));
    let (ana, _) = customer_writes(&s.store, &s.w.email, "ana@example.com", "Hi").await;
    let c = crm_until(&s.store, ana, "Ana's row", |c| c.record_id.is_some()).await;
    assert_eq!(c.crm.unwrap().record_id.as_deref(), Some("C-8"));

    // A query that would write (here, advance a sequence) is stopped by the read-only
    // transaction.
    let resp = reqwest::Client::new()
        .put(format!("{}/api/v1/admin/crm", s.hub.base))
        .bearer_auth(&s.admin)
        .json(&settings(format!("SELECT * FROM {table} WHERE email = $1 AND nextval('{table}_seq') > 0")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (again, _) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Hi").await;
    let c = crm_until(&s.store, again, "the refusal", |c| c.error.is_some()).await;
    let err = c.crm.unwrap().error.unwrap();
    assert!(err.contains("read-only transaction"), "{err}");
    let t = table.clone();
    let left = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&common::pg_server(), postgres::NoTls).unwrap();
        let n: i64 = c.query_one(&format!("SELECT last_value FROM {t}_seq"), &[]).unwrap().get(0);
        let called: bool = c.query_one(&format!("SELECT is_called FROM {t}_seq"), &[]).unwrap().get(0);
        c.batch_execute(&format!("DROP TABLE {t}; DROP SEQUENCE {t}_seq")).unwrap();
        (n, called)
    })
    .join()
    .unwrap();
    assert_eq!(left, (1, false), "the sequence never moved");
}

#[tokio::test]
async fn admins_connect_the_crm_and_read_it_back_masked() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/admin/crm", s.hub.base);
    let got: Value = http.get(&url).bearer_auth(&s.admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["connector"]["token"], "…1234", "the token is never sent back");
    assert_eq!(got["connector"]["kind"], "hubspot");

    let resp = http.put(&url).bearer_auth(&s.agent).json(&hubspot_settings(&hs.base)).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "forbidden");

    for bad in [
        json!({"connector": {"kind": "hubspot", "token": ""}}),
        json!({"connector": {"kind": "http", "url": "https://crm.internal/customers"}}),
        json!({"connector": {"kind": "salesforce", "instance_url": "https://x.my.salesforce.com", "token": "t"}, "fields": [{"key": "Name FROM User", "label": "x"}]}),
        json!({"connector": {"kind": "sql", "url": "postgres://db/crm", "by_email": "DELETE FROM customers WHERE email = $1", "by_phone": "SELECT 1 WHERE $1 = ''"}}),
        json!({"connector": {"kind": "pipedrive", "token": "t"}}),
    ] {
        let resp = http.put(&url).bearer_auth(&s.admin).json(&bad).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "bad_request", "{bad}");
        assert!(!body["message"].as_str().unwrap().is_empty());
    }
    let still: Value = http.get(&url).bearer_auth(&s.admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(still, got, "refused settings change nothing");
}

/// Finding: a CRM rate of 1e-300 passed validation and then panicked the CRM worker for
/// good (a pause longer than any clock holds). Rates must be from 0.01 to 1,000 a second.
#[tokio::test]
async fn a_crm_rate_too_small_to_pace_is_refused() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/admin/crm", s.hub.base);
    let before: Value = http.get(&url).bearer_auth(&s.admin).send().await.unwrap().json().await.unwrap();
    for rate in [1e-300, 0.0, 1e300, 0.001] {
        let mut settings = serde_json::to_value(hubspot_settings(&hs.base)).unwrap();
        settings["connector"]["searches_per_second"] = json!(rate);
        let resp = http.put(&url).bearer_auth(&s.admin).json(&settings).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{rate}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().ends_with("searches_per_second must be from 0.01 to 1000"), "{body}");
    }
    let after: Value = http.get(&url).bearer_auth(&s.admin).send().await.unwrap().json().await.unwrap();
    assert_eq!(after, before, "refused settings change nothing");
    // The CRM still answers lookups at its pace.
    let (contact, _) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Hi").await;
    let c = crm_until(&s.store, contact, "the lookup", |c| c.record_id.is_some()).await;
    assert_eq!(c.crm.unwrap().record_id.as_deref(), Some(BEN_HUBSPOT));
}

/// Findings: a masked CRM secret was kept when the admin changed the CRM's address (it
/// then went to the new host), and CRM calls followed redirects with their custom headers.
/// A kept secret now goes only where it went before, and a CRM that redirects is answered
/// as refused, its API key never following.
#[tokio::test]
async fn crm_secrets_never_follow_the_crm_elsewhere() {
    let hs = crm_standins::hubspot().await;
    let s = setup(&hubspot_settings(&hs.base)).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/admin/crm", s.hub.base);
    let masked: Value = http.get(&url).bearer_auth(&s.admin).send().await.unwrap().json().await.unwrap();
    let mut moved = masked.clone();
    moved["connector"]["base_url"] = json!("https://crm-collector.example");
    let resp = http.put(&url).bearer_auth(&s.admin).json(&moved).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("enter its token again"), "{body}");
    let resp = http.put(&url).bearer_auth(&s.admin).json(&masked).send().await.unwrap();
    assert_eq!(resp.status(), 200, "the same address keeps the stored token");

    // An in-house CRM that redirects elsewhere: the hub does not follow with its key.
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let elsewhere = {
        let seen = seen.clone();
        let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(headers.get("x-api-key").map(|v| v.to_str().unwrap().to_owned()));
                axum::Json(json!({"data": {"customers": []}}))
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    };
    let redirecting = {
        let to = elsewhere.clone();
        let app = axum::Router::new().fallback(move || {
            let to = to.clone();
            async move {
                (axum::http::StatusCode::TEMPORARY_REDIRECT, [(axum::http::header::LOCATION, format!("{to}/steal"))])
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}")
    };
    let settings = CrmSettings {
        connector: CrmConnector::Http {
            url: format!("{redirecting}/customers?email={{email}}"),
            headers: [("X-Api-Key".to_owned(), "k-secret-api-key".to_owned())].into(),
            records: RecordMapping::default(),
            requests_per_second: 20.0,
        },
        fields: vec![field("/tier", "Tier")],
        ttl_secs: 3_600,
        timeout_ms: 2_000,
        transcripts: Default::default(),
    };
    let resp = http.put(&url).bearer_auth(&s.admin).json(&settings).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (contact, _) = customer_writes(&s.store, &s.w.email, "ben.okafor@example.com", "Hi").await;
    let c = crm_until(&s.store, contact, "the refused lookup", |c| c.error.is_some()).await;
    let error = c.crm.unwrap().error.unwrap();
    assert!(error.contains("307"), "{error}");
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the other host: {:?}", seen.lock().unwrap());
}

#[tokio::test]
async fn the_demo_shows_crm_fields_for_every_customer() {
    let dir = tempfile::tempdir().unwrap();
    let demo = switchboard_hub::demo::EmbeddedDemo::start(&dir.path().join("demo.db"), Duration::from_secs(3_600))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", demo.url))
        .json(&json!({"email": "priya@northwind.example", "password": "priya-demo-pass"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let boot: Value = http
            .get(format!("{}/api/v1/sync/bootstrap?messages_per_conversation=1", demo.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let contacts = boot["contacts"].as_array().unwrap();
        let with = contacts.iter().filter(|c| c["crm"]["record_id"].is_string()).count();
        if !contacts.is_empty() && with == contacts.len() {
            let c = &contacts[0]["crm"];
            assert_eq!(c["source"], "csv");
            let labels: Vec<&str> =
                c["fields"].as_array().unwrap().iter().filter_map(|f| f["label"].as_str()).collect();
            assert!(labels.contains(&"Plan") && labels.contains(&"Account owner"), "{labels:?}");
            assert!(c["fetched_at"].as_i64().unwrap() > 0);
            break;
        }
        assert!(Instant::now() < deadline, "{with} of {} contacts have CRM fields", contacts.len());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(dir.path().join("demo.customers.csv").exists());
}
