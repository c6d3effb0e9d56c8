//! The hub's store: the source of truth for every workspace entity and the change feed.
//!
//! One [`db::Connection`] trait with two implementations, [`sqlite`] (the embedded default)
//! and [`postgres`]; the queries above it are written once in SQL both accept, so the two
//! engines behave the same by construction and one conformance suite checks both.
//!
//! # Layout
//! - [`db`]: values, rows, the connection trait, error classes.
//! - [`pool`]: reader and writer threads; group commit; `seq` allocation.
//! - [`change_kind`]: what each change in the feed is about, as stored.
//! - [`migrate`]: numbered, embedded migrations per engine.
//! - [`entities`]: rows to wire types, and the changes each write emits.
//! - [`directory`]: agents, teams, inboxes, sessions.
//! - [`ingest`]: the one path every channel's inbound message takes.
//! - [`mutations`]: what agents change, idempotent per client.
//! - [`feed`]: bootstrap, change pages, history, retention.
//! - [`visitors`]: web-chat and in-app visitors and the thread they see.
//! - [`blocks`]: visitors an agent blocked, and the addresses they came from.
//! - [`crm`]: CRM settings, lookups waiting to run, transcripts waiting to be logged.
//! - [`routing`]: presence, the queue, routing passes and who held each conversation.
//! - [`sla`]: response-time targets: due times, at risk and breached, met or missed.
//! - [`csat`]: satisfaction surveys sent on resolve, and the customer's answer.
//! - [`reports`]: a period's facts read from the events, and each settled day's figures kept.
//! - [`canned`]: canned responses, the team's and each agent's own.
//! - [`sending`]: what every message an agent sends shares (checks, templates, storing it).
//! - [`campaigns`]: campaigns, their recipients and results, sender leases, segments.
//! - [`consent`]: consent records per address and purpose, and whether a proactive message may go.
//! - [`outreach`]: writing to a customer first, a new conversation with one message.
//! - [`api_keys`]: the notifications API's keys, and a business system's notification.
//! - [`delivery`]: providers' delivery reports, for agents' messages and campaigns'.
//! - [`outbox`]: replies waiting for the delivery worker, handed to a provider at most once.
//! - [`blobs`]: files the hub keeps itself (email attachments).
//! - [`logins`]: failed-login counters every hub shares.
//! - [`audit`]: the audit log of admins' actions.

pub mod api_keys;
pub mod articles;
pub mod audit;
pub mod blobs;
pub mod blocks;
pub mod bot;
pub mod campaigns;
pub mod canned;
pub mod change_kind;
pub mod consent;
pub mod crm;
pub mod csat;
pub mod db;
pub mod delivery;
pub mod directory;
pub mod entities;
pub mod fallback;
pub mod feed;
pub mod health;
pub mod ingest;
mod ingest_set;
pub mod keys;
pub mod limits;
pub mod logins;
pub mod migrate;
pub mod mutations;
pub mod outbox;
pub mod outreach;
pub mod pool;
pub mod postgres;
pub mod preferences;
pub mod reports;
pub mod routing;
pub mod sending;
pub mod sla;
pub mod sqlite;
pub mod state;
pub mod visitors;

use crate::policy::{Denied, Viewer};
use db::{DbError, Engine};
use pool::{Connect, Pool};
use std::sync::Arc;
use switchboard_protocol::sync::Change;
use switchboard_protocol::{ApiError, ErrorCode};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the cursor is older than the feed's retention")]
    CursorExpired,
    #[error("{0}")]
    BadCursor(String),
    /// A rule refuses it with its own code: the channel's (`opted_out`,
    /// `reply_window_closed`), or a response deleted since its editor opened it.
    #[error("{1}")]
    Refused(ErrorCode, String),
    /// `expected_version` was stale; carries the current state.
    #[error("changed by someone else first")]
    Conflict(Box<Change>),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// An unusable customer address is the client's mistake: `bad_request`, with its text.
impl From<crate::address::AddressError> for StoreError {
    fn from(e: crate::address::AddressError) -> Self {
        StoreError::BadRequest(e.to_string())
    }
}

impl StoreError {
    /// The `{code, message}` a client sees. Database faults are logged here and answered
    /// without their detail.
    /// A permission refused: out of scope is `not found` (nothing leaks), in scope but not
    /// allowed is `forbidden`.
    pub fn denied(d: Denied, what: &'static str) -> StoreError {
        match d {
            Denied::Hidden => StoreError::NotFound(what),
            Denied::Forbidden(why) => StoreError::Forbidden(why.to_owned()),
        }
    }

    pub fn to_api(&self) -> ApiError {
        let code = match self {
            StoreError::NotFound(_) => ErrorCode::NotFound,
            StoreError::Forbidden(_) => ErrorCode::Forbidden,
            StoreError::BadRequest(_) => ErrorCode::BadRequest,
            StoreError::CursorExpired => ErrorCode::CursorExpired,
            StoreError::BadCursor(_) => ErrorCode::BadCursor,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::Refused(code, _) => *code,
            StoreError::Db(DbError::Unavailable(_) | DbError::Transient(_)) => {
                tracing::warn!("database: {self}");
                let mut e = ApiError::new(ErrorCode::Unavailable, "the database is not available; try again");
                e.retry_after = Some(1);
                return e;
            }
            StoreError::Db(_) => {
                tracing::error!("database: {self}");
                return ApiError::new(ErrorCode::Internal, "internal error; the hub logged the detail");
            }
        };
        ApiError::new(code, self.to_string())
    }
}

/// Tuning for one store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub readers: usize,
    /// Writer threads. SQLite always uses one; PostgreSQL benefits from a few.
    pub writers: usize,
    /// Jobs that may wait for the readers, and for each writer; past it a job fails at
    /// once as `unavailable`.
    pub queue: usize,
    /// The longest one statement may run (PostgreSQL), in milliseconds.
    pub statement_timeout_ms: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { readers: 4, writers: 4, queue: 4_096, statement_timeout_ms: 30_000 }
    }
}

/// The hub's store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// The SQLite file, if that is the engine.
    file: Option<std::path::PathBuf>,
    /// The hub's public address (`Config::public_url`), which the bot links articles under.
    public_url: Arc<std::sync::RwLock<Option<String>>>,
    /// Ingests waiting for their writer ([`ingest_set`]).
    gather: Arc<ingest_set::Gather>,
}

impl Store {
    /// Opens (creating if need be) and migrates the database named by `url`:
    /// `sqlite://path/to/file.db` or `postgres://user@host:port/db`.
    pub fn open(url: &str, opts: &StoreOptions) -> Result<Store> {
        let (engine, connect): (Engine, Connect) = if url.starts_with("postgres://") || url.starts_with("postgresql://")
        {
            let u = url.to_owned();
            let timeout = opts.statement_timeout_ms;
            (
                Engine::Postgres,
                Arc::new(move || Ok(Box::new(postgres::PgConnection::connect_with_timeout(&u, timeout)?) as _)),
            )
        } else if let Some(path) = sqlite::path_from_url(url) {
            (Engine::Sqlite, Arc::new(move || Ok(Box::new(sqlite::SqliteConnection::open(&path)?) as _)))
        } else {
            return Err(StoreError::BadRequest(format!(
                "unsupported database URL `{url}`: use sqlite://FILE or postgres://..."
            )));
        };
        // The PostgreSQL client blocks on a runtime of its own, so the first connection is
        // made on a plain thread: `open` may be called from async code.
        let prepare = connect.clone();
        let (head, schema) = std::thread::scope(|s| {
            s.spawn(move || {
                let mut conn = prepare()?;
                migrate::run(conn.as_mut())?;
                let head = conn.query_int("SELECT seq FROM feed_head WHERE id = 1", &[])?;
                let schema = match conn.engine() {
                    Engine::Postgres => Some(conn.query_one("SELECT current_schema()", &[])?.text(0)?.to_owned()),
                    Engine::Sqlite => None,
                };
                Ok::<_, DbError>((head, schema))
            })
            .join()
            .unwrap_or_else(|_| Err(DbError::Other("opening the database panicked".into())))
        })?;
        let writers = if engine == Engine::Sqlite { 1 } else { opts.writers };
        // Hubs sharing a database announce commits on a channel named after its schema.
        let channel = schema.map(|s| format!("switchboard_feed_{s}"));
        let pool = Pool::start(engine, connect, opts.readers, writers, opts.queue, head, channel.clone());
        if let Some(channel) = channel {
            listen_for_other_hubs(url.to_owned(), channel, pool.head_raiser());
        }
        Ok(Store {
            pool,
            file: sqlite::path_from_url(url).filter(|_| engine == Engine::Sqlite),
            public_url: Arc::default(),
            gather: Arc::new(ingest_set::Gather::new(ingest_set::lanes(writers), opts.queue)),
        })
    }

    /// Where the hub keeps files unless told otherwise: beside the SQLite file
    /// (`<file>-files`), or `switchboard-hub-files` in the working directory.
    pub fn default_blob_dir(&self) -> std::path::PathBuf {
        match &self.file {
            Some(f) => {
                let mut name = f.as_os_str().to_owned();
                name.push("-files");
                name.into()
            }
            None => "switchboard-hub-files".into(),
        }
    }

    pub fn engine(&self) -> Engine {
        self.pool.engine()
    }

    /// Sets the hub's public address, under which the bot links articles.
    pub fn set_public_url(&self, url: Option<&str>) {
        let url = url.map(|u| u.trim_end_matches('/').to_owned()).filter(|u| !u.is_empty());
        if let Ok(mut w) = self.public_url.write() {
            *w = url;
        }
    }

    /// The hub's public address, if it has one.
    pub fn public_url(&self) -> Option<String> {
        self.public_url.read().ok().and_then(|u| u.clone())
    }

    /// Follows the feed's head: changes after a commit. Used by streams to wake up.
    pub fn head(&self) -> tokio::sync::watch::Receiver<i64> {
        self.pool.head()
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    fn gather(&self) -> &Arc<ingest_set::Gather> {
        &self.gather
    }

    /// The viewer behind an agent id: role and teams as they are now.
    pub async fn viewer(&self, agent_id: i64) -> Result<Viewer> {
        self.pool.read(move |c| directory::load_viewer(c, agent_id)).await
    }
}

/// With PostgreSQL, several hubs may share one database: each announces its commits with
/// `NOTIFY switchboard_feed_<schema>`, and this thread wakes the local streams for the others'.
/// It ends, closing its connection, within seconds of the store being dropped.
fn listen_for_other_hubs(url: String, channel: String, head: pool::HeadRaiser) {
    let spawned = std::thread::Builder::new().name("pg-listen".into()).spawn(move || {
        while head.pool_open() {
            listen_once(&url, &channel, &head);
            if head.pool_open() {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the feed listener: {e}");
    }
}

/// How long the feed listener waits for a notification before it pings the server.
const LISTEN_PING_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Listens on one connection until it is lost or the store is dropped. Once listening, it
/// reads the feed's head (commits announced while no listener was connected are not
/// missed), and it pings the server whenever notifications are quiet, so a connection
/// that silently died is found within seconds instead of stopping cross-hub updates.
fn listen_once(url: &str, channel: &str, head: &pool::HeadRaiser) {
    let listening = postgres::PgConnection::connect(url).and_then(|mut c| {
        let quoted = channel.replace('"', "\"\"");
        db::Connection::batch(&mut c, &format!("LISTEN \"{quoted}\""))?;
        let seq = db::Connection::query_int(&mut c, "SELECT seq /* feed listener */ FROM feed_head WHERE id = 1", &[])?;
        head.advance(seq);
        Ok(c)
    });
    let mut conn = match listening {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("feed listener cannot connect: {e}");
            return;
        }
    };
    let mut quiet = std::time::Duration::ZERO;
    while head.pool_open() {
        let step = std::time::Duration::from_secs(2);
        let outcome = match conn.wait_notification(step) {
            Ok(Some(payload)) => {
                quiet = std::time::Duration::ZERO;
                if let Ok(seq) = payload.parse() {
                    head.advance(seq);
                }
                Ok(())
            }
            Ok(None) => {
                quiet += step;
                if quiet >= LISTEN_PING_EVERY {
                    quiet = std::time::Duration::ZERO;
                    conn.ping()
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            tracing::warn!("feed listener lost its connection: {e}");
            return;
        }
    }
}
