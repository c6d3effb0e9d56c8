//! `switchboard-hub`: serve the hub, manage agents and inboxes, run the demo, or print the
//! API's OpenAPI description.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use switchboard_hub::api::AppState;
use switchboard_hub::auth::hash_password;
use switchboard_hub::config::{Config, ConfigError};
use switchboard_hub::demo::{self, DemoError};
use switchboard_hub::server;
use switchboard_hub::store::directory::NewAgent;
use switchboard_hub::store::{Store, StoreError};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{ChannelKind, Role};
use switchboard_protocol::notify::{CreateApiKey, KeyScope};

/// Why a command failed; printed as `error: …` before the process exits with failure.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database cannot be opened; `url` has its password redacted.
    #[error("{url}: {source}")]
    Open { url: String, source: StoreError },
    /// The demo workspace cannot be opened; `url` has its password redacted.
    #[error("{url}: {source}")]
    Demo { url: String, source: DemoError },
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    /// The listener, or the server on it, failed.
    #[error(transparent)]
    Serve(std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The password is refused (too short, or too long).
    #[error("{0}")]
    Password(String),
    #[error("--settings is not JSON: {0}")]
    SettingsNotJson(serde_json::Error),
    #[error(transparent)]
    Folder(#[from] switchboard_hub::kb_files::FolderError),
    #[error("the bucket {bucket} cannot be used: {source}")]
    Bucket { bucket: String, source: switchboard_hub::storage::StorageError },
}

#[derive(Debug, Parser)]
#[command(
    name = "switchboard-hub",
    version,
    about = "The Switchboard hub: channels, conversations, and the agents' API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Db {
    /// Database URL: sqlite://FILE or postgres://USER@HOST:PORT/DB.
    #[arg(long = "database", env = "SWITCHBOARD_DATABASE_URL")]
    database_url: Option<String>,
    /// A TOML file with the same settings (see docs/operations.md).
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
}

impl Db {
    fn config(&self) -> Result<Config, ConfigError> {
        let mut c = match &self.config {
            Some(p) => Config::from_file(p)?,
            None => Config::default(),
        };
        if let Some(url) = &self.database_url {
            c.database_url.clone_from(url);
        }
        if let Some(key) = std::env::var("SWITCHBOARD_LLM_API_KEY").ok().filter(|k| !k.is_empty()) {
            c.llm_api_key = Some(key);
        }
        if let Some(key) = std::env::var("SWITCHBOARD_S3_SECRET_ACCESS_KEY").ok().filter(|k| !k.is_empty()) {
            c.s3_secret_access_key = Some(key);
        }
        Ok(c)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the agent API.
    Serve {
        #[command(flatten)]
        db: Db,
        /// Address to listen on.
        #[arg(long, env = "SWITCHBOARD_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Manage agents.
    Agent {
        #[command(subcommand)]
        command: AgentCommand,
    },
    /// Manage inboxes (a channel address customers write to).
    Inbox {
        #[command(subcommand)]
        command: InboxCommand,
    },
    /// Manage the keys business systems send notifications with.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Import or export the knowledge base as a folder of Markdown files.
    Articles {
        #[command(subcommand)]
        command: ArticlesCommand,
    },
    /// Run a demo workspace with live customer traffic.
    Demo {
        /// Address to listen on.
        #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Database URL; defaults to a file in the user's data directory.
        #[arg(long = "database", env = "SWITCHBOARD_DEMO_DATABASE_URL")]
        database_url: Option<String>,
        /// Start over with a newly seeded workspace.
        #[arg(long)]
        fresh: bool,
        /// Seconds between simulated customer messages (on average).
        #[arg(long, default_value_t = 4.0)]
        every: f64,
    },
    /// Print the OpenAPI 3.1 description of the hub's API (what `GET /openapi.json` serves).
    Openapi,
}

#[derive(Debug, Subcommand)]
enum AgentCommand {
    /// Add an agent who can log in to the console.
    Add {
        #[command(flatten)]
        db: Db,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        /// agent, lead or admin.
        #[arg(long, default_value = "agent", value_parser = parse_role)]
        role: Role,
        /// The password (at least 8 characters); read from SWITCHBOARD_PASSWORD if absent.
        #[arg(long, env = "SWITCHBOARD_PASSWORD", hide_env_values = true)]
        password: String,
        /// Team names; created if they do not exist. Repeat for several.
        #[arg(long = "team")]
        teams: Vec<String>,
        #[arg(long, default_value_t = 10)]
        capacity: u32,
    },
}

#[derive(Debug, Subcommand)]
enum InboxCommand {
    /// Add an inbox.
    Add {
        #[command(flatten)]
        db: Db,
        /// sms, whatsapp, messenger, instagram, webchat, in_app or email.
        #[arg(long, value_parser = parse_kind)]
        kind: ChannelKind,
        #[arg(long)]
        name: String,
        /// The team whose agents answer it; created if it does not exist.
        #[arg(long)]
        team: String,
        /// The business's address: phone number, page id, mailbox, widget key.
        #[arg(long)]
        address: String,
        /// Provider settings as JSON (credentials stay in the hub).
        #[arg(long, default_value = "{}")]
        settings: String,
    },
}

#[derive(Debug, Subcommand)]
enum ApiKeyCommand {
    /// Make a key for a business system; its token is printed once.
    Add {
        #[command(flatten)]
        db: Db,
        /// Who uses it ("Billing system").
        #[arg(long)]
        name: String,
        /// An inbox id it may send from (or answer for, as a bot). Repeat for several.
        #[arg(long = "inbox", required = true)]
        inboxes: Vec<i64>,
        /// notify (send notifications) or bot (answer as the inboxes' external bot).
        #[arg(long, default_value = "notify", value_parser = parse_scope)]
        scope: KeyScope,
    },
}

#[derive(Debug, Subcommand)]
enum ArticlesCommand {
    /// Create or change an article for each `<key>.md` file of a folder (front matter:
    /// title, collection, tags, locale, status; then Markdown).
    Import {
        #[command(flatten)]
        db: Db,
        dir: PathBuf,
    },
    /// Write every article, drafts included, to `<key>.md` files in a folder.
    Export {
        #[command(flatten)]
        db: Db,
        dir: PathBuf,
    },
}

/// `--scope` names neither scope.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not notify or bot")]
struct NotAScope(String);

fn parse_scope(s: &str) -> Result<KeyScope, NotAScope> {
    KeyScope::parse(s).ok_or_else(|| NotAScope(s.to_owned()))
}

/// `--role` names none of the roles.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not agent, lead or admin")]
struct NotARole(String);

fn parse_role(s: &str) -> Result<Role, NotARole> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| NotARole(s.to_owned()))
}

/// The channel's wire name, with the protocol's message when it names none.
fn parse_kind(s: &str) -> Result<ChannelKind, <ChannelKind as std::str::FromStr>::Err> {
    s.parse()
}

fn main() -> std::process::ExitCode {
    switchboard_hub::trace::init_logging(switchboard_hub::trace::LogFormat::from_env());
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn open(config: &Config) -> Result<Store, CliError> {
    Store::open(&config.database_url, &config.store_options())
        .map_err(|source| CliError::Open { url: redacted(&config.database_url), source })
}

async fn team_id(store: &Store, name: &str) -> Result<i64, StoreError> {
    match store.teams().await?.into_iter().find(|t| t.name == name) {
        Some(t) => Ok(t.id),
        None => Ok(store.create_team(name).await?.id),
    }
}

/// Ctrl-C or SIGTERM (what service managers send) stops the hub gracefully.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A database URL fit for a log line: the password replaced.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Serve { db, listen } => {
            let mut config = db.config()?;
            if let Some(l) = listen {
                config.listen = l;
            }
            if let Some(b) = config.bucket() {
                let bucket = |source| CliError::Bucket { bucket: b.name.clone(), source };
                switchboard_hub::storage::Storage::bucket(&b).map_err(bucket)?.check().await.map_err(bucket)?;
            }
            let store = open(&config)?;
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .map_err(|source| CliError::Listen { addr: config.listen, source })?;
            eprintln!(
                "switchboard-hub serving http://{} on {}",
                listener.local_addr().map_err(CliError::Serve)?,
                store.engine()
            );
            server::run(listener, AppState::new(store, config), shutdown_signal()).await.map_err(CliError::Serve)
        }
        Command::Agent { command: AgentCommand::Add { db, name, email, role, password, teams, capacity } } => {
            let store = open(&db.config()?)?;
            let mut ids = Vec::new();
            for t in &teams {
                ids.push(team_id(&store, t).await?);
            }
            let password_hash = hash_password(password).await.map_err(|e| CliError::Password(e.message))?;
            let agent = store.create_agent(NewAgent { name, email, password_hash, role, teams: ids, capacity }).await?;
            println!("added agent {} <{}> (id {}, {:?})", agent.name, agent.email, agent.id, agent.role);
            Ok(())
        }
        Command::Inbox { command: InboxCommand::Add { db, kind, name, team, address, settings } } => {
            let store = open(&db.config()?)?;
            let settings = serde_json::from_str(&settings).map_err(CliError::SettingsNotJson)?;
            let team_id = team_id(&store, &team).await?;
            let inbox = store.create_inbox(CreateInbox { kind, name, team_id, address, settings }).await?;
            println!("added {} inbox {} (id {})", inbox.kind, inbox.name, inbox.id);
            Ok(())
        }
        Command::ApiKey { command: ApiKeyCommand::Add { db, name, inboxes, scope } } => {
            let store = open(&db.config()?)?;
            let secret = switchboard_hub::auth::new_secret();
            let hash = switchboard_hub::auth::token_secret_hash(&secret);
            let key = store.create_api_key(CreateApiKey { name, inbox_ids: inboxes, scope }, hash, None).await?;
            println!("added {} key {} (id {}) for inboxes {:?}", key.scope.as_str(), key.name, key.id, key.inbox_ids);
            println!("token (shown once): {}", switchboard_hub::auth::api_key_token(key.id, &secret));
            Ok(())
        }
        Command::Articles { command: ArticlesCommand::Import { db, dir } } => {
            let saves = switchboard_hub::kb_files::read_folder(&dir)?;
            let store = open(&db.config()?)?;
            let done = store.import_articles(switchboard_hub::policy::Viewer::command_line(), saves).await?;
            println!(
                "imported {}: {} new, {} changed, {} unchanged",
                dir.display(),
                done.created,
                done.changed,
                done.unchanged
            );
            Ok(())
        }
        Command::Articles { command: ArticlesCommand::Export { db, dir } } => {
            let store = open(&db.config()?)?;
            let n = switchboard_hub::kb_files::write_folder(&dir, &store.articles().await?)?;
            println!("exported {n} articles to {}", dir.display());
            Ok(())
        }
        Command::Demo { listen, database_url, fresh, every } => run_demo(listen, database_url, fresh, every).await,
        Command::Openapi => {
            println!("{}", switchboard_hub::api::openapi::json());
            Ok(())
        }
    }
}

fn demo_database() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("switchboard").join("demo-hub.db")
}

async fn run_demo(listen: SocketAddr, database_url: Option<String>, fresh: bool, every: f64) -> Result<(), CliError> {
    let url = match database_url {
        Some(u) => u,
        None => {
            let path = demo_database();
            if fresh {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            format!("sqlite://{}", path.display())
        }
    };
    let config = Config { listen, database_url: url, report_time_zone: demo::TIME_ZONE.into(), ..Config::default() };
    eprintln!("opening the demo workspace…");
    let started = std::time::Instant::now();
    let (store, seeded) = demo::open_seeded(&config)
        .await
        .map_err(|source| CliError::Demo { url: redacted(&config.database_url), source })?;
    if let Some(seeded) = seeded {
        eprintln!(
            "seeded {} contacts, {} conversations, {} messages in {:.1}s",
            seeded.contacts,
            seeded.conversations,
            seeded.messages,
            started.elapsed().as_secs_f64()
        );
    }
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|source| CliError::Listen { addr: listen, source })?;
    let addr = listener.local_addr().map_err(CliError::Serve)?;
    println!("Switchboard demo hub at http://{addr}  (database {})", redacted(&config.database_url));
    // Its help centre is where it listens: the bot links articles there.
    let config = Config { public_url: Some(format!("http://{addr}")), ..config };
    println!("Log in with any of:");
    for l in demo::logins() {
        println!(
            "  {:<6} {:<26} password: {:<16} ({})",
            format!("{:?}", l.role).to_lowercase(),
            l.email,
            l.password,
            l.name
        );
    }
    println!("A simulated customer writes every ~{every}s. Ctrl-C stops the hub.");
    let sim = tokio::spawn(demo::simulate(
        store.clone(),
        Duration::from_secs_f64(every.max(0.1)),
        switchboard_hub::clock::now_ms() as u64,
    ));
    let result = server::run(listener, AppState::new(store, config), shutdown_signal()).await;
    sim.abort();
    result.map_err(CliError::Serve)
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(super::redacted("postgres://hub:s3cret@db:5432/sb"), "postgres://hub:***@db:5432/sb");
        assert_eq!(super::redacted("postgres://hub@db/sb"), "postgres://hub@db/sb");
        assert_eq!(super::redacted("sqlite:///var/lib/hub.db"), "sqlite:///var/lib/hub.db");
    }
}
