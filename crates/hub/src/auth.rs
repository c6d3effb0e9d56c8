//! Passwords, bearer tokens and login throttling.
//!
//! Passwords are stored as argon2id hashes, and only so many are checked at once
//! ([`Config::password_checks`](crate::config::Config)) and per second
//! (`password_checks_per_sec`): a login past either answers `429`, so a flood of logins,
//! even from many addresses, costs bounded CPU and memory. A token is
//! `sb1.<session id>.<secret>` with a 256-bit random secret, which needs no slow hash: the
//! hub stores its SHA-256 (`sha256:<hex>`) and compares in constant time, so a forged token
//! costs one session lookup. Sessions from before kept an argon2 hash; those are checked
//! once per token, within the same bound, and remembered by the parsed token.
//!
//! Failed logins are counted in the database before each password check
//! ([`crate::throttle`] decides when they lock), so parallel guesses and several hubs
//! share one count. A session ends when logged out, when idle for `session_idle_hours`,
//! `session_max_days` after its login, or when its agent is disabled; every request
//! checks.

use crate::config::Config;
use crate::policy::Viewer;
use crate::store::directory::SessionRecord;
use crate::store::logins::Reservation;
use crate::store::{Store, StoreError};
use crate::throttle::{self, Rate, RateLimiter};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use subtle::ConstantTimeEq;
use switchboard_protocol::auth::LoginResponse;
use switchboard_protocol::{ApiError, ErrorCode};
use tokio::sync::Semaphore;

/// The shortest password accepted for an agent.
pub const MIN_PASSWORD: usize = 8;

pub fn hash_secret(secret: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot hash: {e}")))
}

pub fn verify_secret(hash: &str, secret: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(secret.as_bytes(), &h).is_ok())
}

/// The most memory a stored hash may ask one check for (256 MiB); a larger cost is a
/// damaged row, not a password.
const MAX_CHECK_BLOCKS: usize = 256 * 1024;

/// [`verify_secret`] in `memory`, which grows to what the hash needs and is kept for the
/// next check: a checker thread reuses one buffer instead of allocating 19 MiB a check
/// (which the allocator keeps per thread, growing the hub's memory with every thread that
/// ever checked).
pub fn verify_in(memory: &mut Vec<argon2::Block>, hash: &str, secret: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Ok(algorithm), Ok(params)) =
        (argon2::Algorithm::new(parsed.algorithm.as_str()), argon2::Params::try_from(&parsed))
    else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
        None => argon2::Version::default(),
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else { return false };
    let blocks = params.block_count();
    if blocks > MAX_CHECK_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = vec![0u8; expected.len()];
    let computed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        secret.as_bytes(),
        salt,
        &mut out,
        &mut memory[..],
    );
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// What the hub stores of a token's random secret: its SHA-256. A 256-bit random secret
/// cannot be guessed, so a slow hash would only make forged tokens expensive for the hub.
pub fn token_secret_hash(secret: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(secret.as_bytes())))
}

/// How a stored session secret is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretCheck {
    /// The stored SHA-256 matches (compared in constant time).
    Matches,
    /// It does not, or the stored value is no hash this hub writes.
    Fails,
    /// A session from before stores an argon2 hash: a bounded slow check decides.
    Slow,
}

/// Checks `secret` against a session's stored hash without any slow work.
pub fn check_token_secret(stored: &str, secret: &str) -> SecretCheck {
    match stored.strip_prefix("sha256:") {
        Some(_) => {
            let computed = token_secret_hash(secret);
            if bool::from(computed.as_bytes().ct_eq(stored.as_bytes())) {
                SecretCheck::Matches
            } else {
                SecretCheck::Fails
            }
        }
        None if stored.starts_with("$argon2") => SecretCheck::Slow,
        None => SecretCheck::Fails,
    }
}

/// Checks a new password's length and hashes it (off the async runtime).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("a password needs at least {MIN_PASSWORD} characters"),
        ));
    }
    tokio::task::spawn_blocking(move || hash_secret(&password))
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
}

/// A parsed bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub session_id: i64,
    pub secret: String,
}

impl Token {
    /// The token written one way, whatever whitespace it came with: what the hub remembers
    /// a verified token by.
    pub fn canonical(&self) -> String {
        format!("sb1.{}.{}", self.session_id, self.secret)
    }

    pub fn parse(s: &str) -> Option<Token> {
        let mut parts = s.trim().splitn(3, '.');
        if parts.next()? != "sb1" {
            return None;
        }
        let session_id = parts.next()?.parse().ok()?;
        let secret = parts.next()?;
        (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Token { session_id, secret: secret.to_owned() })
    }
}

/// Logs agents in and checks their tokens.
#[derive(Debug)]
pub struct Auth {
    store: Store,
    /// Argon2-hashed sessions from before, verified once per token.
    verified: Mutex<HashMap<[u8; 32], i64>>,
    /// A real hash to verify against when the email is unknown, so timing does not tell.
    decoy: String,
    /// The password checks that may run at once.
    checks: Semaphore,
    /// The threads that run them: always the same few, so the memory each check takes
    /// (19 MiB) is reused rather than left behind in a new thread's allocator arena.
    checkers: flume::Sender<CheckJob>,
    /// The password checks this hub may start per second, all clients together: a
    /// flood from many addresses costs bounded CPU too.
    check_rate: RateLimiter<()>,
    /// Password checks run so far (argon2 verifications, logins and old sessions alike).
    slow_checks: AtomicU64,
    /// A session unused this long ends, in milliseconds.
    idle_ms: i64,
    /// A session ends this long after its login, in milliseconds.
    max_age_ms: i64,
}

/// A password to check against a hash, and where to say whether it matched.
type CheckJob = (String, String, tokio::sync::oneshot::Sender<bool>);

/// Starts `n` threads that check passwords.
fn start_checkers(n: usize) -> flume::Sender<CheckJob> {
    let (tx, rx) = flume::bounded::<CheckJob>(n);
    for i in 0..n {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new().name(format!("password-check-{i}")).spawn(move || {
            let mut memory = Vec::new();
            while let Ok((hash, secret, reply)) = rx.recv() {
                let _ = reply.send(verify_in(&mut memory, &hash, &secret));
            }
        });
        if let Err(e) = spawned {
            tracing::error!("cannot start a password checker: {e}");
        }
    }
    tx
}

/// A session's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Why a session no longer lets its token in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Revoked,
    Disabled,
    /// Older than `session_max_days`.
    Expired,
    /// Unused for `session_idle_hours`.
    Idle,
}

impl Ended {
    pub fn message(self) -> &'static str {
        match self {
            Ended::Revoked => "the session has ended; log in again",
            Ended::Disabled => "this account is disabled; ask an admin",
            Ended::Expired => "the session has expired; log in again",
            Ended::Idle => "the session expired after a time unused; log in again",
        }
    }
}

/// Whether a session has ended at `now`: revoked, its agent disabled, `max_age_ms` after its
/// login, or unused for `idle_ms`.
pub fn session_ended(s: &SessionRecord, now_ms: i64, idle_ms: i64, max_age_ms: i64) -> Option<Ended> {
    if s.revoked {
        Some(Ended::Revoked)
    } else if s.disabled {
        Some(Ended::Disabled)
    } else if now_ms - s.created_at >= max_age_ms {
        Some(Ended::Expired)
    } else if now_ms - s.last_seen_at >= idle_ms {
        Some(Ended::Idle)
    } else {
        None
    }
}

fn busy() -> ApiError {
    let mut e = ApiError::new(ErrorCode::RateLimited, "the hub is busy checking passwords; try again in a moment");
    e.retry_after = Some(1);
    e
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, msg)
}

fn store_err(e: &StoreError) -> ApiError {
    e.to_api()
}

/// A new 256-bit random secret, hex.
pub fn new_secret() -> String {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    hex::encode(secret)
}

/// The token a business system sends the notifications API: `sbk_<key id>_<secret>`.
pub fn api_key_token(id: i64, secret: &str) -> String {
    format!("sbk_{id}_{secret}")
}

/// The key id and secret of an API key token.
pub fn parse_api_key(token: &str) -> Option<(i64, &str)> {
    let (id, secret) = token.strip_prefix("sbk_")?.split_once('_')?;
    let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, secret))
}

/// Checks an API key token: the key exists, is not revoked, and the secret matches.
pub async fn api_key(store: &Store, token: &str) -> Result<crate::store::api_keys::KeyHolder, ApiError> {
    let refused = || ApiError::new(ErrorCode::Unauthorized, "the API key is not valid");
    let (id, secret) = parse_api_key(token).ok_or_else(refused)?;
    let stored = store.api_key_for_check(id).await.map_err(|e| store_err(&e))?.ok_or_else(refused)?;
    if stored.revoked || check_token_secret(&stored.secret_hash, secret) != SecretCheck::Matches {
        return Err(refused());
    }
    Ok(stored.holder)
}

impl Auth {
    /// `password_checks` argon2 verifications may run at once (at least one); sessions
    /// live as `config` says.
    pub fn new(store: Store, config: &Config) -> Auth {
        let decoy = hash_secret("decoy password for unknown emails").unwrap_or_default();
        let hours = |h: u64| i64::try_from(h.saturating_mul(3_600_000)).unwrap_or(i64::MAX);
        Auth {
            store,
            verified: Mutex::default(),
            decoy,
            checks: Semaphore::new(config.password_checks.max(1)),
            checkers: start_checkers(config.password_checks.max(1)),
            check_rate: {
                let per_sec = f64::from(config.password_checks_per_sec.max(1));
                RateLimiter::new(Rate { burst: per_sec, per_sec }, 1)
            },
            slow_checks: AtomicU64::new(0),
            idle_ms: hours(config.session_idle_hours.max(1)),
            max_age_ms: hours(config.session_max_days.max(1).saturating_mul(24)),
        }
    }

    /// How many argon2 verifications this hub has run.
    pub fn slow_checks(&self) -> u64 {
        self.slow_checks.load(Ordering::Relaxed)
    }

    /// Checks `secret` against `hash` on one of the checker threads (the caller holds a
    /// permit, so one is free); a check that cannot run counts as a mismatch.
    async fn verify_on_checker(&self, hash: String, secret: String) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.checkers.send_async((hash, secret, tx)).await.is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Takes one password check from the per-second allowance; `429` when it is spent.
    fn take_check(&self) -> Result<(), ApiError> {
        self.check_rate.check(()).map_err(|_| busy())
    }

    /// Verifies `secret` against an argon2 `hash` off the async runtime, if a check is free;
    /// `429` when every check is busy.
    async fn slow_verify(&self, hash: String, secret: String) -> Result<bool, ApiError> {
        let _permit = self.checks.try_acquire().map_err(|_| busy())?;
        self.take_check()?;
        self.slow_checks.fetch_add(1, Ordering::Relaxed);
        Ok(self.verify_on_checker(hash, secret).await)
    }

    /// Logs `email` in from `client` (an address, see [`throttle::client_key`]). The
    /// attempt is counted as failed before the password is checked and forgiven if it
    /// was right; `429 rate_limited` with `retry_after` while a counter is locked, or while
    /// every password check is busy.
    pub async fn login(&self, email: &str, password: &str, client: &str) -> Result<LoginResponse, ApiError> {
        let email = switchboard_protocol::text::clean(email.trim()).to_lowercase();
        let _permit = self.checks.try_acquire().map_err(|_| busy())?;
        self.take_check()?;
        let keys = throttle::keys(&email, client);
        match self.store.reserve_login(keys.to_vec()).await.map_err(|e| store_err(&e))? {
            Reservation::Granted => {}
            Reservation::Locked { retry_after_ms } => {
                let mut e = ApiError::new(ErrorCode::RateLimited, "too many failed logins; wait before trying again");
                e.retry_after = Some(u64::try_from(retry_after_ms).unwrap_or(1).div_ceil(1_000).max(1));
                return Err(e);
            }
        }
        let creds = self.store.credentials(&email).await.map_err(|e| store_err(&e))?;
        let (agent, hash) = match creds {
            Some(c) => (Some((c.agent_id, c.disabled)), c.password_hash),
            None => (None, self.decoy.clone()),
        };
        self.slow_checks.fetch_add(1, Ordering::Relaxed);
        let ok = self.verify_on_checker(hash, password.to_owned()).await;
        let agent_id = match (ok, agent) {
            (true, Some((id, disabled))) => {
                let [(pair, _), (client_key, _), (account, _)] = keys;
                self.store.forgive_login(vec![pair, account], vec![client_key]).await.map_err(|e| store_err(&e))?;
                if disabled {
                    return Err(ApiError::new(ErrorCode::Forbidden, "this account is disabled; ask an admin"));
                }
                id
            }
            _ => return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong email or password")),
        };
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let secret = hex::encode(secret);
        let session_id = self
            .store
            .create_session(agent_id, token_secret_hash(&secret), client.to_owned())
            .await
            .map_err(|e| store_err(&e))?;
        let token = format!("sb1.{session_id}.{secret}");
        let agent = self.store.agents().await.map_err(|e| store_err(&e))?.into_iter().find(|a| a.id == agent_id);
        let agent = agent.ok_or_else(|| ApiError::new(ErrorCode::Internal, "the agent vanished"))?;
        Ok(LoginResponse { token, agent })
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    fn remember(&self, token: &Token) {
        if let Ok(mut m) = self.verified.lock() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(Self::key(&token.canonical()), token.session_id);
        }
    }

    /// The caller behind a bearer token, or `unauthorized`.
    pub async fn authenticate(&self, token: &str) -> Result<(Viewer, i64), ApiError> {
        let parsed = Token::parse(token).ok_or_else(|| unauthorized("the token is malformed"))?;
        let session = self
            .store
            .session(parsed.session_id)
            .await
            .map_err(|e| store_err(&e))?
            .ok_or_else(|| unauthorized("the token is not valid"))?;
        self.check_live(&session, parsed.session_id).await?;
        match check_token_secret(&session.secret_hash, &parsed.secret) {
            SecretCheck::Matches => {}
            SecretCheck::Fails => return Err(unauthorized("the token is not valid")),
            SecretCheck::Slow => {
                let key = Self::key(&parsed.canonical());
                let known = self.verified.lock().map(|m| m.get(&key) == Some(&parsed.session_id)).unwrap_or(false);
                if !known {
                    if !self.slow_verify(session.secret_hash.clone(), parsed.secret.clone()).await? {
                        return Err(unauthorized("the token is not valid"));
                    }
                    self.remember(&parsed);
                }
            }
        }
        let viewer = self.store.viewer(session.agent_id).await.map_err(|e| store_err(&e))?;
        Ok((viewer, parsed.session_id))
    }

    /// `unauthorized` if the session has ended; otherwise notes its use (at most once a
    /// minute), which starts its idle time again.
    async fn check_live(&self, session: &SessionRecord, session_id: i64) -> Result<(), ApiError> {
        if self.verdict(session, crate::clock::now_ms()).map_err(|ended| unauthorized(ended.message()))? {
            self.store.touch_session(session_id).await.map_err(|e| store_err(&e))?;
        }
        Ok(())
    }

    /// Whether `s` has ended at `now` ([`session_ended`]); if not, whether its use is due to
    /// be noted (at most once a minute).
    fn verdict(&self, s: &SessionRecord, now: i64) -> Result<bool, Ended> {
        match session_ended(s, now, self.idle_ms, self.max_age_ms) {
            Some(ended) => Err(ended),
            None => Ok(now - s.last_seen_at >= TOUCH_EVERY_MS),
        }
    }

    /// Which of the sessions `ids` (checked before, their streams open) have ended, each
    /// with the error its streams end with; notes the use of the others, as an open stream
    /// counts as use (at most once a minute each). One read and at most one write for all.
    pub async fn ended_among(&self, ids: Vec<i64>) -> Result<Vec<(i64, ApiError)>, ApiError> {
        let found: HashMap<i64, SessionRecord> =
            self.store.sessions(ids.clone()).await.map_err(|e| store_err(&e))?.into_iter().collect();
        let now = crate::clock::now_ms();
        let mut ended = Vec::new();
        let mut used = Vec::new();
        for id in ids {
            match found.get(&id).map(|s| self.verdict(s, now)) {
                None => ended.push((id, unauthorized(Ended::Revoked.message()))),
                Some(Err(why)) => ended.push((id, unauthorized(why.message()))),
                Some(Ok(true)) => used.push(id),
                Some(Ok(false)) => {}
            }
        }
        self.store.touch_sessions(used).await.map_err(|e| store_err(&e))?;
        Ok(ended)
    }

    pub async fn logout(&self, session_id: i64) -> Result<(), ApiError> {
        self.store.revoke_session(session_id).await.map_err(|e| store_err(&e))?;
        if let Ok(mut m) = self.verified.lock() {
            m.retain(|_, s| *s != session_id);
        }
        Ok(())
    }

    /// Ends every session of `agent_id` (signing out everywhere); returns how many.
    pub async fn logout_everywhere(&self, agent_id: i64) -> Result<u64, ApiError> {
        let n = self.store.revoke_sessions_of(agent_id).await.map_err(|e| store_err(&e))?;
        if let Ok(mut m) = self.verified.lock() {
            m.clear();
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_end_when_revoked_disabled_too_old_or_unused() {
        let (idle, max) = (1_000, 10_000);
        let live = SessionRecord {
            agent_id: 1,
            secret_hash: String::new(),
            revoked: false,
            disabled: false,
            created_at: 0,
            last_seen_at: 5_000,
        };
        let with = |f: fn(&mut SessionRecord)| {
            let mut s = live.clone();
            f(&mut s);
            s
        };
        for (session, now, want) in [
            (live.clone(), 5_000, None),
            (live.clone(), 5_999, None),
            (live.clone(), 6_000, Some(Ended::Idle)),
            (with(|s| s.last_seen_at = 9_500), 9_999, None),
            (with(|s| s.last_seen_at = 9_500), 10_000, Some(Ended::Expired)),
            (with(|s| s.revoked = true), 5_000, Some(Ended::Revoked)),
            (with(|s| s.disabled = true), 5_000, Some(Ended::Disabled)),
            // Revoked and disabled say so even when also expired.
            (with(|s| s.revoked = true), 50_000, Some(Ended::Revoked)),
            (with(|s| s.disabled = true), 50_000, Some(Ended::Disabled)),
        ] {
            assert_eq!(session_ended(&session, now, idle, max), want, "{session:?} at {now}");
        }
    }

    #[test]
    fn token_parsing() {
        let secret = "ab".repeat(32);
        assert_eq!(Token::parse(&format!("sb1.7.{secret}")), Some(Token { session_id: 7, secret: secret.clone() }));
        assert_eq!(Token::parse(&format!("sb2.7.{secret}")), None);
        assert_eq!(Token::parse("sb1.x.abcd"), None);
        assert_eq!(Token::parse("sb1.7.short"), None);
        assert_eq!(Token::parse(""), None);
    }

    #[test]
    fn token_secrets_are_checked_without_a_slow_hash() {
        let secret = "ab".repeat(32);
        let stored = token_secret_hash(&secret);
        assert!(stored.starts_with("sha256:") && stored.len() == 7 + 64);
        let old = hash_secret(&secret).unwrap();
        for (stored, secret, want) in [
            (stored.as_str(), secret.as_str(), SecretCheck::Matches),
            (stored.as_str(), "cd", SecretCheck::Fails),
            (stored.as_str(), "", SecretCheck::Fails),
            (old.as_str(), secret.as_str(), SecretCheck::Slow),
            (old.as_str(), "forged", SecretCheck::Slow),
            ("", secret.as_str(), SecretCheck::Fails),
            ("plain text", secret.as_str(), SecretCheck::Fails),
        ] {
            assert_eq!(check_token_secret(stored, secret), want, "{stored} / {secret}");
        }
        let parsed = Token::parse(&format!("  sb1.9.{secret}\t")).unwrap();
        assert_eq!(parsed.canonical(), format!("sb1.9.{secret}"));
    }

    #[test]
    fn checks_in_reused_memory_agree_with_the_library() {
        let h = hash_secret("correct horse").unwrap();
        let mut memory = Vec::new();
        for (hash, secret) in
            [(h.as_str(), "correct horse"), (h.as_str(), "wrong horse"), (h.as_str(), ""), ("not a hash", "x")]
        {
            assert_eq!(verify_in(&mut memory, hash, secret), verify_secret(hash, secret), "{hash} / {secret}");
        }
        // A damaged row asking for a terabyte is refused, not allocated.
        let absurd = "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        assert!(!verify_in(&mut memory, absurd, "x"));
        let used = memory.len();
        assert_eq!(used, argon2::Params::default().block_count());
        assert!(verify_in(&mut memory, &h, "correct horse"));
        assert_eq!(memory.len(), used, "the same memory, reused");
    }

    #[test]
    fn hashes_verify_only_their_secret() {
        let h = hash_secret("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret(&h, "correct horse"));
        assert!(!verify_secret(&h, "wrong horse"));
        assert!(!verify_secret("not a hash", "x"));
    }

    #[test]
    fn api_key_tokens_read_back_or_not_at_all() {
        let secret = new_secret();
        assert_eq!(parse_api_key(&api_key_token(42, &secret)), Some((42, secret.as_str())));
        for bad in [
            "",
            "sbk_",
            "sbk_42",
            "sbk_x_abc",
            "sbk_0_0000000000000000000000000000000000000000000000000000000000000000",
            "sbk_-1_0000000000000000000000000000000000000000000000000000000000000000",
            "sbk_42_short",
            "sb1.42.0000000000000000000000000000000000000000000000000000000000000000",
            "sbk_42_000000000000000000000000000000000000000000000000000000000000000g",
        ] {
            assert_eq!(parse_api_key(bad), None, "{bad:?}");
        }
    }
}
