//! Shared test fixtures: real databases (a temporary SQLite file, a private schema on a
//! real PostgreSQL server) and a real hub served on 127.0.0.1:0.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::api::AppState;
use switchboard_hub::auth::hash_secret;
use switchboard_hub::config::Config;
use switchboard_hub::policy::Viewer;
use switchboard_hub::server;
use switchboard_hub::store::directory::NewAgent;
use switchboard_hub::store::ingest::Inbound;
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Inbox, Role};

/// The PostgreSQL server tests use: `SWITCHBOARD_TEST_PG`, or the project machines' default.
pub fn pg_server() -> String {
    std::env::var("SWITCHBOARD_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database that removes itself when dropped.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.clone() {
            let _ = std::thread::spawn(move || {
                if let Ok(mut c) = postgres::Client::connect(&pg_server(), postgres::NoTls) {
                    let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            })
            .join();
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("hub.db").display());
    TestDb { url, _dir: Some(dir), schema: None }
}

/// A fresh schema on the real PostgreSQL server. Fails loudly if the server is not there:
/// the test command starts one when the machine has none.
pub fn pg_db() -> TestDb {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let schema = format!("sbt_{}_{}_{}", std::process::id(), n, switchboard_hub::clock::now_ms() % 1_000_000);
    let server = pg_server();
    let (srv, sch) = (server.clone(), schema.clone());
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&srv, postgres::NoTls)
            .unwrap_or_else(|e| panic!("PostgreSQL at {srv} is required for these tests: {e}"));
        c.batch_execute(&format!("CREATE SCHEMA {sch}")).unwrap();
    })
    .join()
    .unwrap();
    let sep = if server.contains('?') { '&' } else { '?' };
    // Each connection names its test's schema, so a test can count its own.
    let url = format!("{server}{sep}options=-csearch_path%3D{schema}&application_name={schema}");
    TestDb { url, _dir: None, schema: Some(schema) }
}

impl TestDb {
    /// Runs `sql` on the database behind the store's back (to damage a row on purpose).
    /// Runs `sql` in a transaction on a PostgreSQL connection of its own and holds what it
    /// locks until the returned sender is sent to or dropped; then rolls it back.
    pub fn hold(&self, sql: &str) -> std::sync::mpsc::Sender<()> {
        let schema = self.schema.clone().expect("a PostgreSQL test database");
        let (server, sql) = (pg_server(), format!("SET search_path TO {schema}; BEGIN; {sql}"));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (ready, holding) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
            c.batch_execute(&sql).unwrap();
            ready.send(()).unwrap();
            let _ = released.recv();
            c.batch_execute("ROLLBACK").unwrap();
        });
        holding.recv().unwrap();
        release
    }

    pub fn execute(&self, sql: &str) {
        match &self.schema {
            Some(schema) => {
                let (server, sql) = (pg_server(), format!("SET search_path TO {schema}; {sql}"));
                std::thread::spawn(move || {
                    let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
                    c.batch_execute(&sql).unwrap();
                })
                .join()
                .unwrap();
            }
            None => {
                let path = self.url.strip_prefix("sqlite://").unwrap();
                rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
            }
        }
    }

    /// The first column of the first row `sql` answers, as text (`NULL` as the empty string).
    pub fn text(&self, sql: &str) -> String {
        match &self.schema {
            Some(schema) => {
                let (server, schema, sql) = (pg_server(), schema.clone(), sql.to_owned());
                std::thread::spawn(move || {
                    let mut c = postgres::Client::connect(&server, postgres::NoTls).unwrap();
                    c.batch_execute(&format!("SET search_path TO {schema}")).unwrap();
                    let row = c.query_one(&format!("SELECT CAST(({sql}) AS TEXT)"), &[]).unwrap();
                    row.get::<_, Option<String>>(0).unwrap_or_default()
                })
                .join()
                .unwrap()
            }
            None => {
                let path = self.url.strip_prefix("sqlite://").unwrap();
                let c = rusqlite::Connection::open(path).unwrap();
                c.query_row(&format!("SELECT CAST(({sql}) AS TEXT)"), [], |r| r.get::<_, Option<String>>(0))
                    .unwrap()
                    .unwrap_or_default()
            }
        }
    }

    /// How many connections to the PostgreSQL server this database's stores hold now.
    pub fn pg_connections(&self) -> i64 {
        let schema = self.schema.clone().expect("a PostgreSQL test database");
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&pg_server(), postgres::NoTls).unwrap();
            c.query_one("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", &[&schema]).unwrap().get(0)
        })
        .join()
        .unwrap()
    }
}

pub fn open(db: &TestDb) -> Store {
    Store::open(&db.url, &StoreOptions::default()).unwrap()
}

/// A small workspace: two teams, an inbox per channel in team A, one in team B, and
/// agents of every role.
pub struct World {
    pub team_a: i64,
    pub team_b: i64,
    pub sms: Inbox,
    pub whatsapp: Inbox,
    pub email: Inbox,
    pub messenger: Inbox,
    pub b_sms: Inbox,
    pub agent: Viewer,
    pub agent2: Viewer,
    pub lead: Viewer,
    pub admin: Viewer,
    pub b_agent: Viewer,
}

pub const PASSWORD: &str = "correct horse battery";

pub async fn world(store: &Store) -> World {
    let team_a = store.create_team("Team A").await.unwrap().id;
    let team_b = store.create_team("Team B").await.unwrap().id;
    let hash = hash_secret(PASSWORD).unwrap();
    let mut mk = Vec::new();
    for (email, role, teams) in [
        ("agent@x.test", Role::Agent, vec![team_a]),
        ("agent2@x.test", Role::Agent, vec![team_a]),
        ("lead@x.test", Role::Lead, vec![team_a]),
        ("admin@x.test", Role::Admin, vec![]),
        ("bagent@x.test", Role::Agent, vec![team_b]),
    ] {
        let a = store
            .create_agent(NewAgent {
                name: email.split('@').next().unwrap().into(),
                email: email.into(),
                password_hash: hash.clone(),
                role,
                teams: teams.clone(),
                capacity: 10,
            })
            .await
            .unwrap();
        mk.push(Viewer { agent_id: a.id, role, teams });
    }
    let inbox = |kind, team_id, address: &str| CreateInbox {
        kind,
        name: format!("{kind} {address}"),
        team_id,
        address: address.into(),
        settings: serde_json::json!({}),
    };
    let sms = store.create_inbox(inbox(ChannelKind::Sms, team_a, "+14155550100")).await.unwrap();
    let whatsapp = store.create_inbox(inbox(ChannelKind::Whatsapp, team_a, "+14155550101")).await.unwrap();
    let email = store.create_inbox(inbox(ChannelKind::Email, team_a, "help@x.test")).await.unwrap();
    let messenger = store.create_inbox(inbox(ChannelKind::Messenger, team_a, "page-1")).await.unwrap();
    let b_sms = store.create_inbox(inbox(ChannelKind::Sms, team_b, "+14155550199")).await.unwrap();
    let mut it = mk.into_iter();
    World {
        team_a,
        team_b,
        sms,
        whatsapp,
        email,
        messenger,
        b_sms,
        agent: it.next().unwrap(),
        agent2: it.next().unwrap(),
        lead: it.next().unwrap(),
        admin: it.next().unwrap(),
        b_agent: it.next().unwrap(),
    }
}

pub fn inbound(inbox: &Inbox, from: &str, body: &str, provider_id: &str, at: i64) -> Inbound {
    Inbound {
        inbox_id: inbox.id,
        from: from.into(),
        display_name: Some("Ana Silva".into()),
        body: body.into(),
        attachments: vec![],
        provider_id: Some(provider_id.into()),
        at,
        profile: Default::default(),
        subject: None,
        thread_refs: Vec::new(),
        unsupported: None,
        unverified: None,
        answer: None,
    }
}

/// A hub served on 127.0.0.1:0 over `store`.
pub struct Hub {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub store: Store,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The hub's file store, when the test named none.
    pub files: Option<tempfile::TempDir>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn serve(store: Store, config: Config) -> Hub {
    serve_at(store, |_| config).await
}

/// Serves with a config that may depend on the hub's own address (its `public_url`).
pub async fn serve_at(store: Store, config: impl FnOnce(std::net::SocketAddr) -> Config) -> Hub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = config(addr);
    let files = match config.blob_dir {
        Some(_) => None,
        None => {
            let dir = tempfile::tempdir().unwrap();
            config.blob_dir = Some(dir.path().to_owned());
            Some(dir)
        }
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(store.clone(), config);
    tokio::spawn(server::run(listener, state, async move {
        let _ = rx.await;
    }));
    Hub { base: format!("http://{addr}"), addr, store, stop: Some(tx), files }
}

/// A web-chat inbox of `team` at `address` (the widget's `data-inbox`), with no settings.
pub async fn webchat_inbox(store: &Store, team: i64, address: &str) -> Inbox {
    let chat = CreateInbox {
        kind: ChannelKind::Webchat,
        name: "Site".into(),
        team_id: team,
        address: address.into(),
        settings: serde_json::json!({}),
    };
    store.create_inbox(chat).await.unwrap()
}

/// `GET url` with a bearer token; the JSON answer.
pub async fn get_json(url: String, token: &str) -> serde_json::Value {
    reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

pub async fn login(hub: &Hub, email: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", hub.base))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "login {email}");
    let body: serde_json::Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Adds an agent with the test password; returns their id.
pub async fn add_agent(store: &Store, name: &str, email: &str, role: Role, teams: Vec<i64>) -> i64 {
    let new = NewAgent {
        name: name.into(),
        email: email.into(),
        password_hash: hash_secret(PASSWORD).unwrap(),
        role,
        teams,
        capacity: 10,
    };
    store.create_agent(new).await.unwrap().id
}

/// Runs each named `async fn name(db: &TestDb)` as two tests, `sqlite::name` and
/// `postgres::name`, on a fresh database of each engine.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(&super::common::sqlite_db()).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(&super::common::pg_db()).await })*
        }
    };
}

/// Whether the WebSocket `ws` closes (or fails) within `within`, whatever it sends first.
pub async fn closes<S>(ws: &mut S, within: std::time::Duration) -> bool
where
    S: futures_util::Stream<
            Item = Result<tokio_tungstenite::tungstenite::Message, tokio_tungstenite::tungstenite::Error>,
        > + Unpin,
{
    use futures_util::StreamExt;
    tokio::time::timeout(within, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(m)) if m.is_close() => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .is_ok()
}
