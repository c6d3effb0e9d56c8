//! The notifications API's keys: made by admins for a business system with the inboxes it
//! may send from (the secret's SHA-256 kept, the token shown once), revoked, checked on
//! every call; and a notification sent, as a first message under every rule agents follow
//! (see [`super::outreach`]), idempotent by the caller's own key.

use super::outreach::{begin, Author};
use super::{Result, Store, StoreError};
use crate::params;
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::mutation::StartConversation;
use switchboard_protocol::notify::{ApiKey, CreateApiKey, KeyScope, Notified, Notify};
use switchboard_protocol::Id;

/// The most inboxes one key may name.
pub const MAX_INBOXES: usize = 100;

/// A caller holding a valid key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub id: Id,
    pub inbox_ids: Vec<Id>,
    pub scope: KeyScope,
}

/// A key's stored parts, for the token check.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub secret_hash: String,
    pub revoked: bool,
    pub holder: KeyHolder,
}

const COLUMNS: &str = "id, name, inbox_ids, created_at, last_used_at, revoked_at, scope";

fn key_of(r: &super::db::Row) -> Result<ApiKey> {
    Ok(ApiKey {
        id: r.int(0)?,
        name: r.text(1)?.to_owned(),
        inbox_ids: r.json(2)?,
        created_at: r.int(3)?,
        last_used_at: r.opt_int(4)?,
        revoked_at: r.opt_int(5)?,
        scope: KeyScope::parse(r.text(6)?).unwrap_or_default(),
    })
}

impl Store {
    /// Makes a key (`by`: the admin, or none from the command line); `secret_hash` is what
    /// [`crate::auth::token_secret_hash`] made of the secret the caller shows once.
    pub async fn create_api_key(&self, req: CreateApiKey, secret_hash: String, by: Option<Id>) -> Result<ApiKey> {
        let name = switchboard_protocol::text::clean(&req.name).trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::BadRequest("a key's name must be 1 to 200 characters".into()));
        }
        let mut inboxes = req.inbox_ids;
        inboxes.sort_unstable();
        inboxes.dedup();
        if inboxes.is_empty() || inboxes.len() > MAX_INBOXES {
            return Err(StoreError::BadRequest(format!("a key sends from 1 to {MAX_INBOXES} inboxes")));
        }
        self.pool()
            .write(move |tx| {
                for id in &inboxes {
                    if tx.conn.query_opt("SELECT id FROM inboxes WHERE id = ?", params![*id])?.is_none() {
                        return Err(StoreError::BadRequest(format!("inbox {id} does not exist")));
                    }
                }
                let ids = serde_json::to_string(&inboxes).map_err(|e| StoreError::BadRequest(e.to_string()))?;
                let row = tx.conn.query_one(
                    &format!(
                        "INSERT INTO api_keys (name, secret_hash, inbox_ids, created_by, created_at, scope) VALUES (?, ?, ?, ?, ?, ?) \
                         RETURNING {COLUMNS}"
                    ),
                    params![&name, &secret_hash, ids, by, tx.now, req.scope.as_str()],
                )?;
                key_of(&row)
            })
            .await
    }

    /// Every key, newest first, secrets left out.
    pub async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.pool()
            .read(|c| {
                c.query(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY id DESC"), &[])?.iter().map(key_of).collect()
            })
            .await
    }

    /// Revokes a key at once; its next call is refused.
    pub async fn revoke_api_key(&self, id: Id) -> Result<ApiKey> {
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    params![tx.now, id],
                )?;
                let row = tx
                    .conn
                    .query_opt(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?"), params![id])?
                    .ok_or(StoreError::NotFound("api key"))?;
                key_of(&row)
            })
            .await
    }

    /// A key's stored hash and what it may do, for checking a token.
    pub async fn api_key_for_check(&self, id: Id) -> Result<Option<StoredKey>> {
        self.pool()
            .read(move |c| {
                let Some(r) = c.query_opt(
                    "SELECT secret_hash, revoked_at, inbox_ids, scope FROM api_keys WHERE id = ?",
                    params![id],
                )?
                else {
                    return Ok(None);
                };
                Ok(Some(StoredKey {
                    secret_hash: r.text(0)?.to_owned(),
                    revoked: r.opt_int(1)?.is_some(),
                    holder: KeyHolder {
                        id,
                        inbox_ids: r.json(2)?,
                        scope: KeyScope::parse(r.text(3)?).unwrap_or_default(),
                    },
                }))
            })
            .await
    }

    /// Sends a notification for a key holder: a first message by the rules agents follow,
    /// once per `idempotency_key`.
    pub async fn notify(&self, holder: KeyHolder, n: Notify) -> Result<Notified> {
        let key = n.idempotency_key.trim().to_owned();
        if key.is_empty()
            || key.chars().count() > Notify::MAX_KEY
            || !key.chars().all(switchboard_protocol::text::keeps)
        {
            return Err(StoreError::BadRequest(format!(
                "idempotency_key must be 1 to {} characters without control characters",
                Notify::MAX_KEY
            )));
        }
        let mut start = StartConversation {
            client_msg_id: format!("api-{}-{key}", holder.id),
            inbox_id: n.inbox_id,
            contact_id: None,
            address: Some(n.to),
            name: n.name,
            subject: n.subject,
            body: n.body,
            template: n.template,
            params: n.params,
        };
        // Cleaned of control characters as every agent's mutation is.
        start.clean_text();
        self.pool()
            .write(move |tx| {
                let begun = begin(
                    tx,
                    Author::Key { id: holder.id, inboxes: &holder.inbox_ids },
                    ConsentPurpose::Service,
                    &start,
                )?;
                tx.conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", params![tx.now, holder.id])?;
                Ok(Notified {
                    conversation_id: begun.conversation_id,
                    message_id: begun.message_id,
                    duplicate: begun.duplicate,
                })
            })
            .await
    }
}
