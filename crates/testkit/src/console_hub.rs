//! A real hub for the console's tests: a temporary SQLite database, served on 127.0.0.1
//! (on a port that can be stopped and served again, to take the hub away and back), and
//! consoles signed in to it with real tokens.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use switchboard_core::Console;
use switchboard_hub::api::AppState;
use switchboard_hub::auth::hash_secret;
use switchboard_hub::config::Config;
use switchboard_hub::server;
use switchboard_hub::store::directory::NewAgent;
use switchboard_hub::store::ingest::{Inbound, Ingested};
use switchboard_hub::store::{Store, StoreOptions};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::console::{Connection, ConsoleEvent};
use switchboard_protocol::model::{ChannelKind, Role};
use tokio::sync::broadcast;

pub const PASSWORD: &str = "correct horse battery";

/// The hub's workspace: two teams, an agent, two leads and an admin, and inboxes.
pub struct World {
    pub support: i64,
    pub billing: i64,
    pub maya: i64,
    pub lee: i64,
    pub kim: i64,
    pub sms: i64,
    pub whatsapp: i64,
    pub email: i64,
    pub billing_email: i64,
}

/// A hub that can be stopped and started again on the same address and database.
pub struct Hub {
    pub store: Store,
    pub addr: SocketAddr,
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    config: Config,
    _dir: Option<tempfile::TempDir>,
}

fn config() -> Config {
    Config { heartbeat_secs: 1, ..Config::default() }
}

impl Hub {
    pub async fn start() -> Hub {
        Hub::start_with(|_| config()).await
    }

    /// A hub whose settings may depend on its own address (its `public_url`).
    pub async fn start_with(settings: impl FnOnce(SocketAddr) -> Config) -> Hub {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hub.db").display());
        let store = Store::open(&url, &StoreOptions::default()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = settings(addr);
        let base = format!("http://{addr}");
        let mut hub = Hub { store, addr, base, stop: None, task: None, config, _dir: Some(dir) };
        hub.serve(listener);
        hub
    }

    /// The settings of a hub for consoles: heartbeats every second.
    pub fn settings() -> Config {
        config()
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let state = AppState::new(self.store.clone(), self.config.clone());
        self.task = Some(tokio::spawn(server::run(listener, state, async move {
            let _ = rx.await;
        })));
        self.stop = Some(tx);
    }

    /// Keeps a file as the email webhook does (bytes in the hub's file store, what it is in
    /// the database); returns the path an attachment names it by.
    pub async fn keep_file(&self, name: &str, mime: &str, data: &[u8]) -> String {
        let key = switchboard_hub::storage::new_key();
        switchboard_hub::storage::Storage::new(self.store.default_blob_dir()).put(&key, data).await.unwrap();
        self.store.put_blob(key.clone(), name.into(), mime.into(), data.len() as u64, String::new()).await.unwrap();
        switchboard_hub::store::blobs::blob_path(&key)
    }

    /// Takes the hub off the network (its open streams end too).
    pub async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    /// Serves again on the same address.
    pub async fn restart(&mut self) {
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("cannot serve on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    /// Stops, then serves again on the same address with `config` (an admin's change).
    pub async fn restart_with(&mut self, config: Config) {
        self.stop().await;
        self.config = config;
        self.restart().await;
    }

    pub async fn login(&self, email: &str) -> String {
        let r = switchboard_core::client::HubClient::login(&self.base, email, PASSWORD).await.unwrap();
        r.token
    }

    pub async fn ingest(&self, inbox: i64, from: &str, body: &str) -> Ingested {
        let id = format!("{from}-{}-{}", switchboard_core::now_ms(), rand::random::<u64>());
        self.store.ingest(Inbound::text(inbox, from, body, Some(&id), switchboard_core::now_ms())).await.unwrap()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn world(store: &Store) -> World {
    let support = store.create_team("Support").await.unwrap().id;
    let billing = store.create_team("Billing").await.unwrap().id;
    let agent = |name: &str, email: &str, role, teams: Vec<i64>| NewAgent {
        name: name.into(),
        email: email.into(),
        password_hash: hash_secret(PASSWORD).unwrap(),
        role,
        teams,
        capacity: 10,
    };
    let maya = store.create_agent(agent("Maya Okafor", "maya@x.test", Role::Agent, vec![support])).await.unwrap().id;
    let lee = store.create_agent(agent("Lee Chen", "lee@x.test", Role::Lead, vec![support, billing])).await.unwrap().id;
    let kim = store.create_agent(agent("Kim Ito", "kim@x.test", Role::Lead, vec![support, billing])).await.unwrap().id;
    let inbox = |kind, name: &str, team, address: &str| CreateInbox {
        kind,
        name: name.into(),
        team_id: team,
        address: address.into(),
        settings: serde_json::json!({"delivery": "simulated", "inbound_secret": "s"}),
    };
    let sms = store.create_inbox(inbox(ChannelKind::Sms, "SMS", support, "+14155550100")).await.unwrap().id;
    let whatsapp =
        store.create_inbox(inbox(ChannelKind::Whatsapp, "WhatsApp", support, "+14155550101")).await.unwrap().id;
    let email = store.create_inbox(inbox(ChannelKind::Email, "Help", support, "help@x.test")).await.unwrap().id;
    let billing_email =
        store.create_inbox(inbox(ChannelKind::Email, "Billing", billing, "billing@x.test")).await.unwrap().id;
    World { support, billing, maya, lee, kim, sms, whatsapp, email, billing_email }
}

/// A console signed in as `email`, its cache in `dir`, started.
pub async fn console(hub: &Hub, dir: &Path, email: &str) -> Console {
    let token = hub.login(email).await;
    let c = Console::open(dir, &hub.base, &token).unwrap();
    c.start();
    c
}

/// Waits for the console to be online (synced and streaming).
pub async fn online(c: &Console) {
    let mut watch = c.watch_connection();
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if *watch.borrow_and_update() == Connection::Online {
                return;
            }
            watch.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the console never came online: {:?}", c.connection()));
}

/// Polls `check` until it holds.
pub async fn eventually<F: FnMut() -> bool>(what: &str, mut check: F) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// The next event matching `pick`, within `secs`.
pub async fn next_event<T>(
    rx: &mut broadcast::Receiver<ConsoleEvent>,
    secs: u64,
    mut pick: impl FnMut(&ConsoleEvent) -> Option<T>,
) -> Option<T> {
    tokio::time::timeout(Duration::from_secs(secs), async {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if let Some(t) = pick(&e) {
                        return t;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    })
    .await
    .ok()
}
