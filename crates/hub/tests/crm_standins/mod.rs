//! Stand-ins for HubSpot's and Salesforce's REST APIs and for an in-house customer API, on
//! loopback. They answer the documented request shapes with the documented answers (the
//! fixtures in `fixtures/crm/`), keep the notes and Tasks they are sent, and can be told to
//! refuse, throttle, fail or hang.
#![allow(dead_code, clippy::unwrap_used)]

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/crm/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// One request a stand-in received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    /// The decoded `q` parameter (Salesforce), or the whole query string.
    pub query: String,
    pub authorization: Option<String>,
    pub body: Value,
    pub at: Instant,
}

/// How a stand-in answers the next requests.
#[derive(Debug, Clone)]
pub enum Mode {
    Normal,
    /// This status and fixture for everything.
    Fail(u16, Value),
    /// 429 with `Retry-After: secs` for the next `times` requests, then normal.
    Throttle {
        secs: u64,
        times: usize,
    },
    /// Answer only after this long.
    Hang(Duration),
    /// Store what is created, then hang (the hub stops while waiting for the answer).
    StoreThenHang(Duration),
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    mode: Option<Mode>,
    /// Notes (HubSpot) or Tasks (Salesforce) created: (id, body).
    created: Vec<(String, Value)>,
}

#[derive(Clone)]
pub struct StandIn {
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl StandIn {
    pub fn set(&self, mode: Mode) {
        self.state.lock().unwrap().mode = Some(mode);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn seen_at(&self, path_part: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path.contains(path_part)).collect()
    }

    pub fn created(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().created.clone()
    }

    pub fn forget(&self) {
        self.state.lock().unwrap().seen.clear();
    }
}

type Answer = fn(&Seen, &mut Vec<(String, Value)>) -> (StatusCode, Value);

async fn start(answer: Answer) -> StandIn {
    let state = Arc::new(Mutex::new(State::default()));
    let shared = state.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let state = shared.clone();
        async move {
            let query = uri.query().unwrap_or("");
            let q = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| query.to_owned());
            let seen = Seen {
                method,
                path: uri.path().to_owned(),
                query: q,
                authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                at: Instant::now(),
            };
            let mode = {
                let mut s = state.lock().unwrap();
                s.seen.push(seen.clone());
                let mode = s.mode.clone().unwrap_or(Mode::Normal);
                if let Mode::Throttle { secs, times } = mode {
                    s.mode = if times > 1 { Some(Mode::Throttle { secs, times: times - 1 }) } else { None };
                }
                mode
            };
            let answer_now = |state: &Arc<Mutex<State>>| {
                let mut s = state.lock().unwrap();
                answer(&seen, &mut s.created)
            };
            match mode {
                Mode::Normal => reply(answer_now(&state)),
                Mode::Fail(status, body) => reply((StatusCode::from_u16(status).unwrap(), body)),
                Mode::Throttle { secs, .. } => {
                    let mut r = reply((StatusCode::TOO_MANY_REQUESTS, fixture("hubspot_429")));
                    r.headers_mut().insert("retry-after", secs.to_string().parse().unwrap());
                    r
                }
                Mode::Hang(d) => {
                    tokio::time::sleep(d).await;
                    reply(answer_now(&state))
                }
                Mode::StoreThenHang(d) => {
                    let r = answer_now(&state);
                    tokio::time::sleep(d).await;
                    reply(r)
                }
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    StandIn { base, state }
}

fn reply((status, body): (StatusCode, Value)) -> Response {
    (status, axum::Json(body)).into_response()
}

/// HubSpot CRM v3 (and v4 associations): Ben Okafor (`ben.okafor@example.com`,
/// `+14155550123`) is contact 75361245901, owned by Priya Raman, at Okafor Logistics, with
/// one open and one closed deal; the number is also Amara's mobile and a second Ben's phone.
pub async fn hubspot() -> StandIn {
    start(hubspot_answer).await
}

fn filter_values(body: &Value) -> Vec<(String, String)> {
    body["filterGroups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["filters"].as_array().cloned().unwrap_or_default())
        .map(|f| (f["propertyName"].as_str().unwrap_or("").to_owned(), f["value"].as_str().unwrap_or("").to_owned()))
        .collect()
}

fn hubspot_answer(seen: &Seen, notes: &mut Vec<(String, Value)>) -> (StatusCode, Value) {
    const BEN: &str = "75361245901";
    let ok = |v| (StatusCode::OK, v);
    match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/crm/v3/objects/contacts/search") => {
            let filters = filter_values(&seen.body);
            if filters.iter().any(|(p, v)| p == "email" && v == "ben.okafor@example.com") {
                ok(fixture("hubspot_search_one"))
            } else if filters.iter().any(|(p, v)| (p == "phone" || p == "mobilephone") && v == "+14155550123") {
                ok(fixture("hubspot_search_many"))
            } else {
                ok(fixture("hubspot_search_none"))
            }
        }
        ("GET", "/crm/v3/owners/83502917") => ok(fixture("hubspot_owner")),
        ("GET", p) if p == format!("/crm/v4/objects/contacts/{BEN}/associations/companies") => {
            ok(fixture("hubspot_assoc_companies"))
        }
        ("GET", p) if p == format!("/crm/v4/objects/contacts/{BEN}/associations/deals") => {
            ok(fixture("hubspot_assoc_deals"))
        }
        ("GET", p) if p.ends_with("/associations/notes") => {
            let contact = p.split('/').nth(5).unwrap_or("");
            let results: Vec<Value> = notes
                .iter()
                .filter(|(_, n)| n["associations"][0]["to"]["id"] == contact)
                .map(|(id, _)| json!({"toObjectId": id.parse::<u64>().unwrap(), "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 202, "label": null}]}))
                .collect();
            ok(json!({"results": results}))
        }
        ("GET", p) if p.contains("/associations/") => ok(json!({"results": []})),
        ("POST", "/crm/v3/objects/companies/batch/read") => ok(fixture("hubspot_companies_batch")),
        ("POST", "/crm/v3/objects/deals/batch/read") => ok(fixture("hubspot_deals_batch")),
        ("POST", "/crm/v3/objects/notes/batch/read") => {
            let wanted: Vec<String> = seen.body["inputs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .collect();
            let results: Vec<Value> = notes
                .iter()
                .filter(|(id, _)| wanted.contains(id))
                .map(|(id, n)| json!({"id": id, "properties": {"hs_note_body": n["properties"]["hs_note_body"]}, "archived": false}))
                .collect();
            ok(json!({"status": "COMPLETE", "results": results}))
        }
        ("POST", "/crm/v3/objects/notes") => {
            let id = format!("{}", 51_230_000_000u64 + notes.len() as u64);
            notes.push((id.clone(), seen.body.clone()));
            let mut created = fixture("hubspot_note_created");
            created["id"] = json!(id);
            (StatusCode::CREATED, created)
        }
        _ => (
            StatusCode::NOT_FOUND,
            json!({"status": "error", "message": "Unknown endpoint", "category": "OBJECT_NOT_FOUND"}),
        ),
    }
}

/// Salesforce REST v62.0: Ben Okafor is Contact 003Hs00004kQ7fPIAS at Okafor Logistics,
/// owned by Priya Raman; his number is also Amara's mobile and another Okafor's phone.
pub async fn salesforce() -> StandIn {
    start(salesforce_answer).await
}

fn salesforce_answer(seen: &Seen, tasks: &mut Vec<(String, Value)>) -> (StatusCode, Value) {
    let ok = |v| (StatusCode::OK, v);
    let q = seen.query.as_str();
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/services/data/v62.0/query") if q.contains("FROM Task") => {
            let records: Vec<Value> = tasks
                .iter()
                .filter(|(_, t)| {
                    q.contains(&format!("WhoId = '{}'", t["WhoId"].as_str().unwrap_or("")))
                        && q.contains(&format!("Subject = '{}'", t["Subject"].as_str().unwrap_or("")))
                })
                .map(|(id, _)| json!({"attributes": {"type": "Task", "url": format!("/services/data/v62.0/sobjects/Task/{id}")}, "Id": id}))
                .collect();
            ok(json!({"totalSize": records.len(), "done": true, "records": records}))
        }
        ("GET", "/services/data/v62.0/query") if q.contains("FROM Contact WHERE Email = 'ben.okafor@example.com'") => {
            ok(fixture("salesforce_query_one"))
        }
        ("GET", "/services/data/v62.0/query") => ok(fixture("salesforce_query_none")),
        ("GET", "/services/data/v62.0/search") if q.starts_with("FIND {4155550123} IN PHONE FIELDS") => {
            ok(fixture("salesforce_search_phone"))
        }
        ("GET", "/services/data/v62.0/search") => ok(json!({"searchRecords": []})),
        ("POST", "/services/data/v62.0/sobjects/Task/") => {
            let id = format!("00THs00000{:08}AAA", tasks.len() + 1);
            tasks.push((id.clone(), seen.body.clone()));
            let mut created = fixture("salesforce_task_created");
            created["id"] = json!(id);
            (StatusCode::CREATED, created)
        }
        _ => (
            StatusCode::NOT_FOUND,
            json!([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]),
        ),
    }
}

/// An in-house customer API: `GET /v2/customers?email=...` answers
/// `{"data": {"customers": [...]}}`, one customer per address.
pub async fn in_house() -> StandIn {
    start(in_house_answer).await
}

fn in_house_answer(seen: &Seen, _: &mut Vec<(String, Value)>) -> (StatusCode, Value) {
    let ben = json!({
        "customer_id": "C-1042",
        "full_name": "Ben Okafor",
        "contact": {"email": "ben.okafor@example.com", "mobile": "+1 (415) 555-0123"},
        "subscription": {"tier": "Enterprise", "seats": 40},
        "orders": {"last": "#88120"}
    });
    match seen.path.as_str() {
        "/v2/customers"
            if seen.query.contains("email=ben.okafor%40example.com") || seen.query.contains("phone=%2B14155550123") =>
        {
            (StatusCode::OK, json!({"data": {"customers": [ben]}}))
        }
        "/v2/customers" => (StatusCode::NOT_FOUND, json!({"error": "no such customer"})),
        _ => (StatusCode::NOT_FOUND, json!({"error": "no such endpoint"})),
    }
}
