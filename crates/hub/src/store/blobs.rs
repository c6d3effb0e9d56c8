//! What the hub knows of the files it keeps (email attachments): each is named by an
//! unguessable key, its bytes are in the file store ([`crate::storage`]), and only agents
//! who may see the message it belongs to may fetch it, at `/api/v1/blobs/{key}` or as the
//! message's attachment. Also: finding a message's attachment for an agent who may see
//! its conversation, with what its inbox needs to fetch it; and moving files kept in rows
//! by earlier versions out to the file store.

use super::db::Connection;
use super::pool::WriteTx;
use super::{entities, Result, Store, StoreError};
use crate::params;
use crate::policy::Viewer;
use base64::Engine;
use switchboard_protocol::model::{Attachment, ChannelKind, Direction};

const PREFIX: &str = "/api/v1/blobs/";

/// The hub's own path for the file under `key`.
pub fn blob_path(key: &str) -> String {
    format!("{PREFIX}{key}")
}

/// The file key in a hub path `/api/v1/blobs/{key}`, if `url` is one.
pub fn blob_key(url: &str) -> Option<&str> {
    url.strip_prefix(PREFIX).filter(|k| crate::storage::valid_key(k))
}

/// One attachment of a message an agent may see, with where it came from.
#[derive(Debug, Clone)]
pub struct AttachmentAt {
    pub attachment: Attachment,
    pub channel: ChannelKind,
    pub direction: Direction,
    /// The inbox's settings (its provider's credentials and base URL).
    pub settings: serde_json::Value,
}

/// What a kept file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub key: String,
    pub name: String,
    pub mime: String,
    pub size: u64,
}

/// A file kept in a row by an earlier version, to move to the file store.
#[derive(Debug, Clone)]
pub struct LegacyBlob {
    pub id: i64,
    pub data: Vec<u8>,
}

/// Whether `v` may see the message `message_id` belongs to.
fn sees_message(c: &mut dyn Connection, v: &Viewer, message_id: Option<i64>) -> Result<bool> {
    let Some(id) = message_id else { return Ok(false) };
    let row = c.query_opt(
        "SELECT c.team_id FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?",
        params![id],
    )?;
    Ok(match row {
        Some(r) => v.sees_team(r.int(0)?),
        None => false,
    })
}

/// The kept file under `key`, if `v` may see the message it belongs to.
pub fn blob_for(c: &mut dyn Connection, v: &Viewer, key: &str) -> Result<BlobMeta> {
    let row = c
        .query_opt("SELECT name, mime, size, message_id FROM blobs WHERE blob_key = ?", params![key])?
        .ok_or(StoreError::NotFound("file"))?;
    if !sees_message(c, v, row.opt_int(3)?)? {
        return Err(StoreError::NotFound("file"));
    }
    Ok(BlobMeta {
        key: key.to_owned(),
        name: row.text(0)?.to_owned(),
        mime: row.text(1)?.to_owned(),
        size: u64::try_from(row.int(2)?).unwrap_or(0),
    })
}

/// Ties the kept files a new message names to it, so that who may see the message may
/// fetch them (a file already tied to another message keeps that one).
pub fn tie_to_message(tx: &mut WriteTx<'_>, message_id: i64, attachments: &[Attachment]) -> Result<()> {
    for key in attachments.iter().filter_map(|a| blob_key(&a.url)) {
        tx.conn.execute(
            "UPDATE blobs SET message_id = ? WHERE blob_key = ? AND message_id IS NULL",
            params![message_id, key],
        )?;
    }
    Ok(())
}

impl Store {
    /// Records a file already written to the file store under `key`.
    pub async fn put_blob(&self, key: String, name: String, mime: String, size: u64, sha256: String) -> Result<()> {
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "INSERT INTO blobs (blob_key, name, mime, size, sha256, data, created_at) \
                     VALUES (?, ?, ?, ?, ?, '', ?)",
                    params![&key, &name, &mime, size, &sha256, tx.now],
                )?;
                Ok(())
            })
            .await
    }

    /// The kept file under `key`, for `v`: not found unless `v` sees its message.
    pub async fn blob(&self, v: &Viewer, key: String) -> Result<BlobMeta> {
        let v = v.clone();
        self.pool().read(move |c| blob_for(c, &v, &key)).await
    }

    /// Up to `limit` files still kept in rows by an earlier version.
    pub async fn legacy_blobs(&self, limit: i64) -> Result<Vec<LegacyBlob>> {
        self.pool()
            .read(move |c| {
                let rows =
                    c.query("SELECT id, data FROM blobs WHERE blob_key IS NULL ORDER BY id LIMIT ?", params![limit])?;
                rows.iter()
                    .map(|r| {
                        let data = base64::engine::general_purpose::STANDARD
                            .decode(r.text(1)?)
                            .map_err(|e| StoreError::Db(super::db::DbError::Decode(e.to_string())))?;
                        Ok(LegacyBlob { id: r.int(0)?, data })
                    })
                    .collect()
            })
            .await
    }

    /// Records that legacy file `id` is now in the file store under `key`: the row is
    /// emptied, and the messages naming its old path (`/api/v1/blobs/{id}`) name the key
    /// and own it.
    pub async fn legacy_blob_moved(&self, id: i64, key: String, sha256: String) -> Result<()> {
        self.pool()
            .write(move |tx| {
                let old = format!("\"{PREFIX}{id}\"");
                let new = format!("\"{}\"", blob_path(&key));
                let owners = tx.conn.query(
                    "SELECT id, attachments FROM messages WHERE attachments LIKE ? ORDER BY id",
                    params![format!("%{PREFIX}{id}\"%")],
                )?;
                let mut owner = None;
                for m in &owners {
                    let attachments = m.text(1)?;
                    if attachments.contains(&old) {
                        owner.get_or_insert(m.int(0)?);
                        tx.conn.execute(
                            "UPDATE messages SET attachments = ? WHERE id = ?",
                            params![attachments.replace(&old, &new), m.int(0)?],
                        )?;
                    }
                }
                tx.conn.execute(
                    "UPDATE blobs SET blob_key = ?, sha256 = ?, data = '', message_id = ? WHERE id = ?",
                    params![&key, &sha256, owner, id],
                )?;
                Ok(())
            })
            .await
    }

    /// Whether a message with this provider id is already stored in the inbox.
    pub async fn has_provider_message(&self, inbox_id: i64, provider_id: String) -> Result<bool> {
        self.pool()
            .read(move |c| {
                Ok(c.query_opt(
                    "SELECT id FROM messages WHERE inbox_id = ? AND provider_id = ?",
                    params![inbox_id, &provider_id],
                )?
                .is_some())
            })
            .await
    }

    /// An inbox with its provider settings (for webhooks and delivery).
    /// Attachment `index` of message `message_id`, for `v`: not found unless `v` sees the
    /// message's conversation.
    pub async fn attachment(&self, v: &Viewer, message_id: i64, index: usize) -> Result<AttachmentAt> {
        let v = v.clone();
        self.pool()
            .read(move |c| {
                let m = entities::load_message(c, message_id)?;
                let conv = entities::load_conversation(c, m.conversation_id)?;
                if !v.sees_team(conv.team_id) {
                    return Err(StoreError::NotFound("message"));
                }
                let attachment = m.attachments.into_iter().nth(index).ok_or(StoreError::NotFound("attachment"))?;
                // A reply may name a file of another message: it must be one `v` may see.
                if let Some(key) = blob_key(&attachment.url) {
                    blob_for(c, &v, key)?;
                }
                let settings =
                    c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![conv.inbox_id])?.json(0)?;
                Ok(AttachmentAt { attachment, channel: conv.channel, direction: m.direction, settings })
            })
            .await
    }

    pub async fn inbox_with_settings(
        &self,
        id: i64,
    ) -> Result<(switchboard_protocol::model::Inbox, serde_json::Value)> {
        self.pool()
            .read(move |c| {
                let inbox = entities::load_inbox(c, id)?;
                let settings = c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![id])?.json(0)?;
                Ok((inbox, settings))
            })
            .await
    }
}
