//! What an operator sees of a hub: `/metrics` scraped and read by a Prometheus text parser
//! (requests by route, ingests by channel, deliveries, open streams, feed lag, database
//! waits, queue depths), `/readyz` and draining before a stop, and request ids carried from
//! an agent's request into the delivery worker's JSON log lines.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard_hub::config::Config;
use switchboard_hub::store::Store;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::ChannelKind;
use switchboard_testkit::providers::{self, Kind};

type Scrape =
    openmetrics_parser::MetricsExposition<openmetrics_parser::PrometheusType, openmetrics_parser::PrometheusValue>;

/// One sample's value: the series of family `name` whose labels include all of `labels`
/// (summed when several match; a histogram counts its observations), or `None` when no
/// series matches.
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    use openmetrics_parser::PrometheusValue;
    let family = scrape.families.get(name)?;
    let mut found = None;
    for s in family.iter_samples() {
        let set = s.get_labelset().unwrap();
        if labels.iter().all(|(k, v)| set.get_label_value(k) == Some(*v)) {
            let v = match &s.value {
                PrometheusValue::Counter(c) => c.value.as_f64(),
                PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n) => n.as_f64(),
                PrometheusValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                PrometheusValue::Summary(_) => continue,
            };
            found = Some(found.unwrap_or(0.0) + v);
        }
    }
    found
}

async fn scrape(base: &str) -> Scrape {
    let resp = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"), "{:?}", resp.headers());
    let text = resp.text().await.unwrap();
    openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("not Prometheus text: {e:?}\n{text}"))
}

/// An SMS inbox whose replies go to a Twilio stand-in, served by a hub at its own address.
async fn sms_hub(store: Store, twilio: &providers::Provider, drain_ms: u64) -> (Hub, i64) {
    let team = store.create_team("Support").await.unwrap().id;
    add_agent(&store, "Maya", "maya@x.test", switchboard_protocol::model::Role::Agent, vec![team]).await;
    let sms = store
        .create_inbox(CreateInbox {
            kind: ChannelKind::Sms,
            name: "SMS".into(),
            team_id: team,
            address: "+14155550100".into(),
            settings: json!({"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": "twilio-auth-token", "base_url": twilio.base}),
        })
        .await
        .unwrap()
        .id;
    let hub = serve_at(store, move |addr| Config {
        public_url: Some(format!("http://{addr}")),
        delivery_retry_base_ms: 50,
        delivery_timeout_ms: 2_000,
        drain_ms,
        ..Config::default()
    })
    .await;
    (hub, sms)
}

async fn customer_writes(hub: &Hub, sms: i64, sid: &str) -> reqwest::StatusCode {
    let url = format!("{}/webhooks/twilio/{sms}", hub.base);
    let msg = switchboard_testkit::twilio::Sms {
        post_to: &url,
        signed_url: &url,
        auth_token: "twilio-auth-token",
        from: "+14155550123",
        to: "+14155550100",
        body: "Where is my order?",
        sid,
    };
    switchboard_testkit::twilio::post(&reqwest::Client::new(), &msg).await
}

/// The id of the first conversation the agent's bootstrap holds.
async fn first_conversation(hub: &Hub, token: &str) -> i64 {
    let boot = get_json(format!("{}/api/v1/sync/bootstrap", hub.base), token).await;
    boot["conversations"][0]["id"].as_i64().unwrap_or_else(|| panic!("no conversation: {boot}"))
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn stream(hub: &Hub, token: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let boot = get_json(format!("{}/api/v1/sync/bootstrap", hub.base), token).await;
    let since = boot["cursor"].as_str().unwrap();
    let mut req = format!("ws://{}/api/v1/stream?since={since}", hub.addr).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws
}

async fn metrics_are_scraped_and_parse_as_prometheus_text(db: TestDb) {
    let twilio = providers::start(Kind::Twilio).await;
    let (hub, sms) = sms_hub(open(&db), &twilio, 0).await;
    let token = login(&hub, "maya@x.test").await;
    let mut ws = stream(&hub, &token).await;
    assert_eq!(customer_writes(&hub, sms, "SM-metrics-1").await, 200);
    assert_eq!(customer_writes(&hub, sms, "SM-metrics-1").await, 200, "a retry is a duplicate");
    let forged = reqwest::Client::new()
        .post(format!("{}/webhooks/twilio/{sms}", hub.base))
        .header("x-twilio-signature", "Zm9yZ2Vk")
        .form(&[("From", "+1"), ("Body", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(reqwest::get(format!("{}/api/v1/nope", hub.base)).await.unwrap().status(), 404);
    // The stream has seen the commit: the fan-out read it.
    tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a frame").unwrap().unwrap();

    let m = scrape(&hub.base).await;
    let counted = |route: &str, status: &str| {
        value(&m, "switchboard_http_requests_total", &[("route", route), ("method", "POST"), ("status", status)])
    };
    assert!(counted("/webhooks/twilio/{id}", "200") >= Some(2.0), "routes are counted by pattern, not path");
    assert!(counted("/webhooks/twilio/{id}", "403") >= Some(1.0), "a forged webhook is a 403 of its route");
    assert!(value(&m, "switchboard_http_requests_total", &[("route", "unmatched"), ("status", "404")]) >= Some(1.0));
    let routes = m.families["switchboard_http_requests_total"]
        .iter_samples()
        .map(|s| s.get_labelset().unwrap().get_label_value("route").unwrap().to_owned())
        .collect::<Vec<_>>();
    assert!(!routes.iter().any(|r| r.contains(&format!("/{sms}"))), "no series per id: {routes:?}");
    assert!(value(&m, "switchboard_http_request_duration_seconds", &[("route", "/api/v1/auth/login")]) >= Some(1.0));
    assert!(value(&m, "switchboard_ingested_total", &[("channel", "sms"), ("outcome", "stored")]) >= Some(1.0));
    assert!(value(&m, "switchboard_ingested_total", &[("channel", "sms"), ("outcome", "duplicate")]) >= Some(1.0));
    assert!(value(&m, "switchboard_open_streams", &[]) >= Some(1.0), "the stream is open");
    assert!(value(&m, "switchboard_feed_lag_seconds", &[]) >= Some(1.0));
    assert!(value(&m, "switchboard_db_wait_seconds", &[("pool", "write")]) >= Some(1.0));
    assert!(value(&m, "switchboard_db_wait_seconds", &[("pool", "read")]) >= Some(1.0));
    for queue in ["replies", "campaign_messages", "waiting_conversations", "crm_lookups", "bot_calls"] {
        assert!(value(&m, "switchboard_queue_depth", &[("queue", queue)]).is_some(), "{queue}");
    }
    // A reply queued while the provider is down counts once it is handed over.
    let conversation = first_conversation(&hub, &token).await;
    let reply = json!({"client_id": "c-metrics", "mutations": [{"mutation_id": 1, "name": "send_reply", "args": {"conversation_id": conversation, "client_msg_id": "cm-1", "body": "On its way"}}]});
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/mutations", hub.base))
        .bearer_auth(&token)
        .json(&reply)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut sent = None;
    for _ in 0..100 {
        sent =
            value(&scrape(&hub.base).await, "switchboard_deliveries_total", &[("channel", "sms"), ("outcome", "sent")]);
        if sent.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent >= Some(1.0), "the delivery is counted");
    drop(ws);
}

#[tokio::test]
async fn metrics_on_sqlite() {
    metrics_are_scraped_and_parse_as_prometheus_text(sqlite_db()).await;
}

#[tokio::test]
async fn metrics_on_postgres() {
    metrics_are_scraped_and_parse_as_prometheus_text(pg_db()).await;
}

/// A hub told to stop drains: `/readyz` answers 503 at once while it still serves (its
/// stream stays open, `/healthz` answers), and its streams close when the drain is over.
#[tokio::test]
async fn a_stopping_hub_drains_before_its_streams_close() {
    let db = pg_db();
    let twilio = providers::start(Kind::Twilio).await;
    let (mut hub, _) = sms_hub(open(&db), &twilio, 1_500).await;
    let ready = reqwest::get(format!("{}/readyz", hub.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap(), json!({"ready": true}));
    let token = login(&hub, "maya@x.test").await;
    let mut ws = stream(&hub, &token).await;

    let _ = hub.stop.take().unwrap().send(());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ready = reqwest::get(format!("{}/readyz", hub.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.headers()["retry-after"], "1");
    assert_eq!(ready.json::<Value>().await.unwrap()["code"], "unavailable");
    assert_eq!(reqwest::get(format!("{}/healthz", hub.base)).await.unwrap().status(), 200);
    let m = scrape(&hub.base).await;
    assert_eq!(value(&m, "switchboard_draining", &[]), Some(1.0));
    assert!(!closes(&mut ws, Duration::from_millis(800)).await, "the stream stays open while the hub drains");
    assert!(closes(&mut ws, Duration::from_secs(5)).await, "and closes when the drain is over");
}

/// A hub whose readers are all busy is still ready while its database answers: `/readyz`
/// does not wait behind them (a load balancer would otherwise take a busy hub out and throw
/// its consoles and webhooks onto the others).
#[tokio::test]
async fn a_hub_with_every_reader_busy_stays_ready() {
    let db = pg_db();
    let twilio = providers::start(Kind::Twilio).await;
    let (hub, _) = sms_hub(open(&db), &twilio, 1_500).await;
    let token = login(&hub, "maya@x.test").await;
    let agent: i64 = db.text("SELECT min(id) FROM agents").parse().unwrap();
    // Every reader waits on the locked table with a console's bootstrap.
    let release = db.hold("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE");
    let client = reqwest::Client::new();
    let waiting: Vec<_> = (0..8)
        .map(|_| {
            let request = client.get(format!("{}/api/v1/sync/bootstrap", hub.base)).bearer_auth(&token).send();
            tokio::spawn(request)
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The database answers the hub's writers meanwhile.
    hub.store.seen_agents(vec![agent]).await.unwrap();
    let ready = reqwest::get(format!("{}/readyz", hub.base)).await.unwrap();
    assert_eq!(ready.status(), 200, "{:?}", ready.text().await);
    drop(release);
    for w in waiting {
        assert_eq!(w.await.unwrap().unwrap().status(), 200, "the consoles are answered once the lock goes");
    }
}

/// A hub whose database stops answering is not ready once two seconds pass without an
/// answer, and is ready again when the database answers: a recent answer is trusted, never
/// an old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_whose_database_stops_answering_is_not_ready() {
    let db = pg_db();
    let link = Link::to_database(&db.url).await;
    let store = Store::open(&link.url, &switchboard_hub::store::StoreOptions::default()).unwrap();
    let twilio = providers::start(Kind::Twilio).await;
    let (hub, _) = sms_hub(store, &twilio, 0).await;
    let ready = || async { reqwest::get(format!("{}/readyz", hub.base)).await.unwrap().status() };
    assert_eq!(ready().await, 200);
    link.cut();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(ready().await, 503, "nothing answered for two seconds, and a ping fails");
    link.mend();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while ready().await != 200 {
        assert!(std::time::Instant::now() < deadline, "the hub is ready again once its database answers");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A TCP link to the test's PostgreSQL server that can be cut (every connection through it
/// dropped, new ones refused) and mended.
struct Link {
    url: String,
    cut: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Link {
    async fn to_database(url: &str) -> Link {
        let (head, rest) = url.split_once('@').unwrap();
        let (server, tail) = rest.split_once('/').unwrap();
        let server = server.to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("{head}@{}/{tail}", listener.local_addr().unwrap());
        let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (flag, tasks) = (cut.clone(), open.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    continue;
                }
                let server = server.clone();
                tasks.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut db) = tokio::net::TcpStream::connect(&server).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut db).await;
                    }
                }));
            }
        });
        Link { url, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for t in self.open.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    fn mend(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A log writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
    }
}

/// A caller's request id is echoed (a bad one replaced), and the reply an agent sends in
/// a request is handed to its provider under that request's id in the JSON log.
#[tokio::test(flavor = "current_thread")]
async fn a_request_id_is_echoed_and_carried_into_the_delivery_log() {
    let log = Captured::default();
    let filter = tracing_subscriber::EnvFilter::new("switchboard_hub=debug");
    let _guard = tracing::subscriber::set_default(switchboard_hub::trace::json_subscriber(filter, log.clone()));
    let db = sqlite_db();
    let twilio = providers::start(Kind::Twilio).await;
    let (hub, sms) = sms_hub(open(&db), &twilio, 0).await;
    let http = reqwest::Client::new();
    let echoed = |given: &'static str| {
        let http = http.clone();
        let url = format!("{}/healthz", hub.base);
        async move {
            let resp = http.get(url).header("x-request-id", given).send().await.unwrap();
            resp.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(echoed("lb-7f3a.2").await, "lb-7f3a.2");
    let replaced = echoed("bad id\"}").await;
    assert_eq!(replaced.len(), 16);
    assert_ne!(replaced, echoed("bad id\"}").await, "each request gets its own");

    let token = login(&hub, "maya@x.test").await;
    assert_eq!(customer_writes(&hub, sms, "SM-trace-1").await, 200);
    let conversation = first_conversation(&hub, &token).await;
    let reply = json!({"client_id": "c-trace", "mutations": [{"mutation_id": 1, "name": "send_reply", "args": {"conversation_id": conversation, "client_msg_id": "cm-1", "body": "On its way"}}]});
    let resp = http
        .post(format!("{}/api/v1/mutations", hub.base))
        .bearer_auth(&token)
        .header("x-request-id", "reply-from-maya-1")
        .json(&reply)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "reply-from-maya-1");
    let mut handed = None;
    for _ in 0..100 {
        handed = log
            .lines()
            .into_iter()
            .find(|l| l["message"].as_str().is_some_and(|m| m.contains("handed to its provider")));
        if handed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let handed = handed.expect("the delivery is logged");
    assert_eq!(handed["span"]["name"], "delivery");
    assert_eq!(handed["span"]["request_id"], "reply-from-maya-1", "{handed}");
    assert_eq!(twilio.requests().len(), 1);
}
