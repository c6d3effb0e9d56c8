//! Hub settings: defaults, then a TOML file, then environment variables and flags.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why the settings file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {}: {}", .path.display(), .source)]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {}", .path.display(), .source)]
    Invalid { path: PathBuf, source: toml::de::Error },
}

/// Everything `serve` needs. Every field has a default.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://FILE` or `postgres://USER@HOST:PORT/DB`.
    pub database_url: String,
    /// How long the change feed keeps changes; older cursors must bootstrap again.
    pub retention_days: u32,
    /// Seconds between heartbeats on idle streams.
    pub heartbeat_secs: u64,
    /// How many of each conversation's latest messages a bootstrap carries.
    pub bootstrap_messages: usize,
    /// The most messages one bootstrap carries in all; with many conversations, each
    /// brings fewer (at least one; older ones come from history).
    pub bootstrap_max_messages: usize,
    /// The most resolved conversations one bootstrap carries (the most recently active);
    /// every unresolved one is always included.
    pub bootstrap_max_resolved: usize,
    /// Bootstraps one hub builds at once; others wait up to 10 seconds, then answer `503`.
    pub bootstraps: usize,
    /// Largest request body accepted, in bytes: the agent API and the providers' webhooks.
    /// Logins and the visitor API accept at most this and never more than their own small
    /// limits; inbound email has its own, `max_email_bytes`.
    pub max_body_bytes: usize,
    /// Largest inbound email accepted (attachments included), in bytes.
    pub max_email_bytes: usize,
    /// Reader connections.
    pub readers: usize,
    /// Writer connections (PostgreSQL; SQLite always has one writer).
    pub writers: usize,
    /// Database jobs that may wait for the readers, and for each writer; past it a request
    /// answers `503 unavailable` at once.
    pub db_queue: usize,
    /// The longest one database statement may run (PostgreSQL), in milliseconds.
    pub statement_timeout_ms: u64,
    /// The longest a request may take to be answered (streams and sockets excepted), in
    /// milliseconds; past it the answer is `503 unavailable`.
    pub request_timeout_ms: u64,
    /// The longest a client may take to send a request's headers, in milliseconds.
    pub header_timeout_ms: u64,
    /// How long a hub told to stop keeps serving while `/readyz` answers `503`, so a load
    /// balancer takes it out of service before its streams close and its consoles move to
    /// another hub, in milliseconds (0: stop at once).
    pub drain_ms: u64,
    /// The oldest console version (`MAJOR.MINOR.PATCH`) allowed to sign in and sync; an
    /// older console is answered `426 upgrade_required` and told to update. `None`: any.
    #[serde(deserialize_with = "console_version")]
    pub min_console_version: Option<String>,
    /// The address providers reach this hub at, e.g. `https://hub.example.com`. Twilio signs
    /// the exact URL it calls, so webhook signatures are checked against this base plus the
    /// request's path and query.
    pub public_url: Option<String>,
    /// First pause before a failed delivery is tried again; it doubles with every attempt.
    pub delivery_retry_base_ms: u64,
    /// Delivery attempts before a message is marked failed.
    pub delivery_max_attempts: u32,
    /// How long a provider may take to answer one send before it counts as a failed attempt.
    pub delivery_timeout_ms: u64,
    /// How long a campaign send a stopped hub left mid-call waits for the provider's
    /// report that it took it (WhatsApp; Twilio with status callbacks) before it is sent
    /// again.
    pub campaign_confirm_ms: u64,
    /// Password checks (argon2, 19 MiB and tens of milliseconds each) run at once; a login
    /// that finds them all busy answers `429 rate_limited`.
    pub password_checks: usize,
    /// Password checks one hub starts per second, all clients together; past it a login
    /// answers `429 rate_limited` (tokens are not password checks and are not limited).
    pub password_checks_per_sec: u32,
    /// The largest customer file an agent can fetch through the hub from its provider
    /// (MMS, WhatsApp media), in bytes; larger ones answer `413 payload_too_large`.
    pub max_media_bytes: u64,
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` names the client. Login
    /// throttling, visitor limits, sessions and the audit log count clients by address,
    /// so behind a load balancer list it here; nothing is trusted by default.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// A session unused for this many hours ends (the console then asks for the password).
    pub session_idle_hours: u64,
    /// A session ends this many days after its login, however much it is used.
    pub session_max_days: u64,
    /// A web-chat or in-app visitor unused for this many days is forgotten: their token
    /// stops working (the widget starts a new chat) and the row is deleted. Their
    /// conversations stay.
    pub visitor_idle_days: u64,
    /// Where the hub keeps files (email attachments) when `s3_bucket` is unset. By default
    /// beside the SQLite file (`<file>-files`), or `switchboard-hub-files` in the working
    /// directory with PostgreSQL. Several hubs on one database need one shared directory,
    /// or a bucket.
    pub blob_dir: Option<PathBuf>,
    /// Keep files in this bucket of an S3-compatible service instead of `blob_dir`.
    pub s3_bucket: Option<String>,
    /// The service's address (`http://127.0.0.1:9000`, `https://s3.eu-west-1.amazonaws.com`);
    /// unset: AWS's own for `s3_region`. Requests name the bucket in the path.
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    /// Set it from the environment (`SWITCHBOARD_S3_SECRET_ACCESS_KEY`) rather than a file.
    pub s3_secret_access_key: Option<String>,
    /// An agent whose consoles have all been disconnected this long shows offline (and
    /// their waiting conversations go back to the queue). Longer than a console's reconnect
    /// after a hub restart, so presence does not flap.
    pub presence_grace_secs: u64,
    /// How often each hub looks for agents gone and customers left unanswered past their
    /// team's `reassign_after_mins`, in seconds.
    pub routing_sweep_secs: u64,
    /// The IANA time zone reports count days and hours in (`Europe/Lisbon`).
    #[serde(deserialize_with = "time_zone")]
    pub report_time_zone: String,
    /// An OpenAI-compatible chat-completions endpoint
    /// (`https://api.openai.com/v1/chat/completions`) for inboxes whose bot is `llm`.
    pub llm_url: Option<String>,
    /// The model named in each request.
    pub llm_model: String,
    /// Sent as `Authorization: Bearer`; set it from the environment
    /// (`SWITCHBOARD_LLM_API_KEY`) rather than a file.
    pub llm_api_key: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://switchboard-hub.db".into(),
            retention_days: 30,
            heartbeat_secs: 15,
            bootstrap_messages: 30,
            bootstrap_max_messages: 50_000,
            bootstrap_max_resolved: 5_000,
            bootstraps: 4,
            max_body_bytes: 1024 * 1024,
            max_email_bytes: 25 * 1024 * 1024,
            readers: 4,
            writers: 4,
            db_queue: 4_096,
            statement_timeout_ms: 30_000,
            request_timeout_ms: 30_000,
            header_timeout_ms: 10_000,
            drain_ms: 0,
            min_console_version: None,
            public_url: None,
            delivery_retry_base_ms: 5_000,
            delivery_max_attempts: 6,
            delivery_timeout_ms: 20_000,
            campaign_confirm_ms: 120_000,
            password_checks: 4,
            password_checks_per_sec: 20,
            max_media_bytes: 25 * 1024 * 1024,
            trusted_proxies: Vec::new(),
            session_idle_hours: 7 * 24,
            session_max_days: 30,
            visitor_idle_days: 30,
            blob_dir: None,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            presence_grace_secs: 120,
            routing_sweep_secs: 5,
            report_time_zone: "UTC".into(),
            llm_url: None,
            llm_model: "gpt-4o-mini".into(),
            llm_api_key: None,
        }
    }
}

/// Addresses (`10.0.0.7`, `::1`) or blocks (`10.0.0.0/8`).
fn networks<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an address or a CIDR block")))
        })
        .collect()
}

/// A time zone the hub knows (from the IANA database built into it).
fn console_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    match v {
        Some(s) => switchboard_protocol::version::Version::parse(&s)
            .map(|v| Some(v.to_string()))
            .ok_or_else(|| serde::de::Error::custom(format!("min_console_version `{s}` is not MAJOR.MINOR.PATCH"))),
        None => Ok(None),
    }
}

fn time_zone<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    jiff::tz::TimeZone::get(name.trim())
        .map(|_| name.trim().to_owned())
        .map_err(|_| serde::de::Error::custom(format!("`{name}` is not an IANA time zone")))
}

impl Config {
    /// The bucket these settings name, if any.
    pub fn bucket(&self) -> Option<crate::storage::Bucket> {
        self.s3_bucket.as_ref().map(|name| crate::storage::Bucket {
            name: name.clone(),
            endpoint: self.s3_endpoint.clone(),
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
        })
    }

    /// The file store these settings choose: their bucket, or `blob_dir` (else
    /// `default_dir`). A bucket that cannot be used is logged, and refuses every file.
    pub fn storage(&self, default_dir: impl FnOnce() -> PathBuf) -> crate::storage::Storage {
        use crate::storage::Storage;
        match self.bucket() {
            Some(b) => Storage::bucket(&b).unwrap_or_else(|e| {
                tracing::error!("the bucket {} cannot be used: {e}", b.name);
                Storage::unusable(e.to_string())
            }),
            None => Storage::new(self.blob_dir.clone().unwrap_or_else(default_dir)),
        }
    }

    /// Reads a TOML file of the same keys.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Invalid { path: path.to_owned(), source })
    }

    /// [`Config::visitor_idle_days`] in milliseconds (at least one day).
    pub fn visitor_idle_ms(&self) -> i64 {
        i64::try_from(self.visitor_idle_days.max(1).saturating_mul(86_400_000)).unwrap_or(i64::MAX)
    }

    /// [`Config::presence_grace_secs`] in milliseconds.
    pub fn presence_grace_ms(&self) -> i64 {
        i64::try_from(self.presence_grace_secs.saturating_mul(1_000)).unwrap_or(i64::MAX)
    }

    pub fn store_options(&self) -> crate::store::StoreOptions {
        crate::store::StoreOptions {
            readers: self.readers,
            writers: self.writers,
            queue: self.db_queue,
            statement_timeout_ms: self.statement_timeout_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_rejects_unknown_keys() {
        let c: Config = toml::from_str("listen = \"0.0.0.0:9000\"\nretention_days = 7").unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.retention_days, 7);
        assert_eq!(c.heartbeat_secs, Config::default().heartbeat_secs);
        assert!(toml::from_str::<Config>("listne = \"x\"").is_err());
        let c: Config = toml::from_str("trusted_proxies = [\"10.0.0.0/8\", \"::1/128\"]").unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        let c: Config = toml::from_str("trusted_proxies = [\"10.0.0.1\"]").unwrap();
        assert!(c.trusted_proxies[0].contains(&"10.0.0.1".parse::<std::net::IpAddr>().unwrap()));
        assert!(!c.trusted_proxies[0].contains(&"10.0.0.2".parse::<std::net::IpAddr>().unwrap()));
        assert!(toml::from_str::<Config>("trusted_proxies = [\"10.0.0.300\"]").is_err());
        let c: Config = toml::from_str("report_time_zone = \"Europe/Lisbon\"").unwrap();
        assert_eq!(c.report_time_zone, "Europe/Lisbon");
        assert!(toml::from_str::<Config>("report_time_zone = \"Mars/Olympus\"").is_err());
    }
}
