//! Passwords, bearer tokens and login throttling.
//!
//! Passwords are stored as argon2id hashes. A token is `sb1.<session id>.<secret>` with a
//! 256-bit random secret; the hub stores only the secret's argon2 hash, and remembers in
//! memory which tokens it has already verified (keyed by their SHA-256) so a request
//! costs one session lookup, not one argon2 run. Logout revokes the session row, which
//! every request checks.

use crate::policy::Viewer;
use crate::store::{Store, StoreError};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchboard_protocol::auth::LoginResponse;
use switchboard_protocol::{ApiError, ErrorCode};

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

/// How long an account is locked after `failures` consecutive wrong passwords: nothing for
/// the first five, then doubling from one second up to fifteen minutes.
pub fn lockout(failures: u32) -> Duration {
    const FREE: u32 = 5;
    if failures < FREE {
        return Duration::ZERO;
    }
    let exp = (failures - FREE).min(10);
    Duration::from_secs((1u64 << exp).min(900))
}

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    last: Option<Instant>,
}

/// A parsed bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub session_id: i64,
    pub secret: String,
}

impl Token {
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
    failures: Mutex<HashMap<String, Failures>>,
    verified: Mutex<HashMap<[u8; 32], i64>>,
    /// A real hash to verify against when the email is unknown, so timing does not tell.
    decoy: String,
}

fn unauthorized(msg: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, msg)
}

fn store_err(e: &StoreError) -> ApiError {
    e.to_api()
}

impl Auth {
    pub fn new(store: Store) -> Auth {
        let decoy = hash_secret("decoy password for unknown emails").unwrap_or_default();
        Auth { store, failures: Mutex::default(), verified: Mutex::default(), decoy }
    }

    fn locked_for(&self, email: &str) -> Option<Duration> {
        let map = self.failures.lock().ok()?;
        let f = map.get(email)?;
        let wait = lockout(f.count);
        let since = f.last?.elapsed();
        (since < wait).then(|| wait - since)
    }

    fn record(&self, email: &str, ok: bool) {
        if let Ok(mut map) = self.failures.lock() {
            if ok {
                map.remove(email);
            } else {
                let f = map.entry(email.to_owned()).or_default();
                f.count += 1;
                f.last = Some(Instant::now());
            }
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<LoginResponse, ApiError> {
        let email = email.trim().to_lowercase();
        if let Some(wait) = self.locked_for(&email) {
            let mut e = ApiError::new(ErrorCode::RateLimited, "too many failed logins; wait before trying again");
            e.retry_after = Some(wait.as_secs().max(1));
            return Err(e);
        }
        let creds = self.store.credentials(&email).await.map_err(|e| store_err(&e))?;
        let (agent_id, hash) = match creds {
            Some(c) => (Some(c.agent_id), c.password_hash),
            None => (None, self.decoy.clone()),
        };
        let pw = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || verify_secret(&hash, &pw)).await.unwrap_or(false);
        let agent_id = match (ok, agent_id) {
            (true, Some(id)) => id,
            _ => {
                self.record(&email, false);
                return Err(ApiError::new(ErrorCode::InvalidCredentials, "wrong email or password"));
            }
        };
        self.record(&email, true);
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let secret = hex::encode(secret);
        let secret_hash = tokio::task::spawn_blocking({
            let s = secret.clone();
            move || hash_secret(&s)
        })
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))??;
        let session_id = self.store.create_session(agent_id, secret_hash).await.map_err(|e| store_err(&e))?;
        let token = format!("sb1.{session_id}.{secret}");
        self.remember(&token, session_id);
        let agent = self.store.agents().await.map_err(|e| store_err(&e))?.into_iter().find(|a| a.id == agent_id);
        let agent = agent.ok_or_else(|| ApiError::new(ErrorCode::Internal, "the agent vanished"))?;
        Ok(LoginResponse { token, agent })
    }

    fn key(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    fn remember(&self, token: &str, session_id: i64) {
        if let Ok(mut m) = self.verified.lock() {
            if m.len() > 100_000 {
                m.clear();
            }
            m.insert(Self::key(token), session_id);
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
        if session.revoked {
            return Err(unauthorized("the session has ended; log in again"));
        }
        let known = self.verified.lock().map(|m| m.get(&Self::key(token)) == Some(&parsed.session_id)).unwrap_or(false);
        if !known {
            let hash = session.secret_hash.clone();
            let secret = parsed.secret.clone();
            let ok = tokio::task::spawn_blocking(move || verify_secret(&hash, &secret)).await.unwrap_or(false);
            if !ok {
                return Err(unauthorized("the token is not valid"));
            }
            self.remember(token, parsed.session_id);
        }
        let viewer = self.store.viewer(session.agent_id).await.map_err(|e| store_err(&e))?;
        Ok((viewer, parsed.session_id))
    }

    pub async fn logout(&self, session_id: i64) -> Result<(), ApiError> {
        self.store.revoke_session(session_id).await.map_err(|e| store_err(&e))?;
        if let Ok(mut m) = self.verified.lock() {
            m.retain(|_, s| *s != session_id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_table() {
        for (failures, secs) in [(0, 0), (4, 0), (5, 1), (6, 2), (8, 8), (14, 512), (15, 900), (40, 900)] {
            assert_eq!(lockout(failures), Duration::from_secs(secs), "{failures} failures");
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
    fn hashes_verify_only_their_secret() {
        let h = hash_secret("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_secret(&h, "correct horse"));
        assert!(!verify_secret(&h, "wrong horse"));
        assert!(!verify_secret("not a hash", "x"));
    }
}
