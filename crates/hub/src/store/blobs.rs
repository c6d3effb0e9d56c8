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
use switchboard_protocol::ErrorCode;

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

/// Who uploaded a file before any message named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uploader {
    Agent(i64),
    Visitor(i64),
}

impl Uploader {
    fn column(self) -> (&'static str, i64) {
        match self {
            Uploader::Agent(id) => ("uploaded_by", id),
            Uploader::Visitor(id) => ("visitor_id", id),
        }
    }
}

/// Files one uploader may hold that no message has taken yet, in a day.
pub const MAX_WAITING_UPLOADS: i64 = 200;

/// What an upload became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upload {
    /// Kept under the new key.
    Kept(BlobMeta),
    /// The same upload (by its key) was kept before: this is that file; the new copy is
    /// not needed.
    Again(BlobMeta),
}

/// A file kept in a row by an earlier version, to move to the file store.
#[derive(Debug, Clone)]
pub struct LegacyBlob {
    pub id: i64,
    pub data: Vec<u8>,
}

fn row_meta(r: &super::db::Row) -> Result<BlobMeta> {
    Ok(BlobMeta {
        key: r.text(0)?.to_owned(),
        name: r.text(1)?.to_owned(),
        mime: r.text(2)?.to_owned(),
        size: u64::try_from(r.int(3)?).unwrap_or(0),
    })
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

/// The kept file under `key`, if `v` may see the message it belongs to, or uploaded it
/// and no message has taken it yet.
pub fn blob_for(c: &mut dyn Connection, v: &Viewer, key: &str) -> Result<BlobMeta> {
    let row = c
        .query_opt("SELECT name, mime, size, message_id, uploaded_by FROM blobs WHERE blob_key = ?", params![key])?
        .ok_or(StoreError::NotFound("file"))?;
    let own_upload = row.opt_int(3)?.is_none() && row.opt_int(4)? == Some(v.agent_id);
    if !own_upload && !sees_message(c, v, row.opt_int(3)?)? {
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

/// Notes a new customer message's media that a provider holds, for the media keeper to
/// fetch into the file store.
pub fn fetch_later(tx: &mut WriteTx<'_>, message_id: i64, attachments: &[Attachment]) -> Result<()> {
    if attachments.iter().any(|a| blob_key(&a.url).is_none()) {
        tx.conn.execute(
            "INSERT INTO media_fetches (message_id, next_at) VALUES (?, ?) ON CONFLICT (message_id) DO NOTHING",
            params![message_id, tx.now],
        )?;
    }
    Ok(())
}

/// A message whose media the keeper fetches now.
#[derive(Debug, Clone)]
pub struct MediaToKeep {
    pub message_id: i64,
    pub attempts: i64,
    pub channel: ChannelKind,
    pub attachments: Vec<Attachment>,
    /// The inbox's settings (its provider's credentials).
    pub settings: serde_json::Value,
}

/// How many times the keeper tries a message's media before leaving it with the provider.
pub const MEDIA_ATTEMPTS: i64 = 8;

impl Store {
    /// Claims up to `limit` messages whose media is due to be fetched, for `hold_ms` (a
    /// claim another hub left lapses then, and the fetch is tried again).
    pub async fn claim_media(&self, now: i64, limit: i64, hold_ms: i64) -> Result<Vec<MediaToKeep>> {
        self.pool()
            .write(move |tx| {
                let due = tx.conn.query(
                    "SELECT message_id, attempts FROM media_fetches WHERE next_at <= ? AND claimed_until <= ? \
                     ORDER BY next_at LIMIT ?",
                    params![now, now, limit],
                )?;
                let mut out = Vec::with_capacity(due.len());
                for r in &due {
                    let (message_id, attempts) = (r.int(0)?, r.int(1)?);
                    let ours = tx.conn.execute(
                        "UPDATE media_fetches SET claimed_until = ? WHERE message_id = ? AND claimed_until <= ?",
                        params![now + hold_ms, message_id, now],
                    )?;
                    if ours != 1 {
                        continue;
                    }
                    let m = entities::load_message(tx.conn, message_id)?;
                    let settings = tx
                        .conn
                        .query_one(
                            "SELECT i.settings FROM conversations c JOIN inboxes i ON i.id = c.inbox_id WHERE c.id = ?",
                            params![m.conversation_id],
                        )?
                        .json(0)?;
                    out.push(MediaToKeep {
                        message_id,
                        attempts,
                        channel: m.channel,
                        attachments: m.attachments,
                        settings,
                    });
                }
                Ok(out)
            })
            .await
    }

    /// Records that attachment `index` of message `message_id`, once at `url`, is now the
    /// kept file `meta`: the message names it, agents' consoles are told, and whoever may
    /// see the message may fetch it.
    pub async fn media_kept(
        &self,
        message_id: i64,
        index: usize,
        url: String,
        meta: BlobMeta,
        sha256: String,
    ) -> Result<()> {
        let size = i64::try_from(meta.size).unwrap_or(i64::MAX);
        self.pool()
            .write(move |tx| {
                let m = entities::load_message(tx.conn, message_id)?;
                let mut attachments = m.attachments.clone();
                let Some(a) = attachments.get_mut(index).filter(|a| a.url == url) else {
                    return Ok(());
                };
                a.url = blob_path(&meta.key);
                a.size = meta.size;
                a.mime.clone_from(&meta.mime);
                tx.conn.execute(
                    "INSERT INTO blobs (blob_key, name, mime, size, sha256, data, created_at, message_id) \
                     VALUES (?, ?, ?, ?, ?, '', ?, ?)",
                    params![&meta.key, &a.name, &meta.mime, size, &sha256, tx.now, message_id],
                )?;
                let json = serde_json::to_string(&attachments).map_err(|e| StoreError::BadRequest(e.to_string()))?;
                tx.conn.execute(
                    "UPDATE messages SET attachments = ?, version = version + 1 WHERE id = ?",
                    params![json, message_id],
                )?;
                let m = entities::load_message(tx.conn, message_id)?;
                let team =
                    tx.conn.query_int("SELECT team_id FROM conversations WHERE id = ?", params![m.conversation_id])?;
                entities::emit_message(tx, &m, team);
                Ok(())
            })
            .await
    }

    /// Ends a message's fetch: done (`error` none), tried again at `retry_at`, or given up
    /// (the media stays with the provider, fetched when an agent opens it).
    pub async fn media_fetch_ended(&self, message_id: i64, error: Option<String>, retry_at: Option<i64>) -> Result<()> {
        self.pool()
            .write(move |tx| {
                match (&error, retry_at) {
                    (Some(e), Some(at)) => tx.conn.execute(
                        "UPDATE media_fetches SET attempts = attempts + 1, next_at = ?, claimed_until = 0, last_error = ? \
                         WHERE message_id = ?",
                        params![at, e.as_str(), message_id],
                    )?,
                    _ => tx.conn.execute("DELETE FROM media_fetches WHERE message_id = ?", params![message_id])?,
                };
                Ok(())
            })
            .await
    }

    /// An earlier upload by `who` under `upload_key`, if there is one.
    pub async fn earlier_upload(&self, who: Uploader, upload_key: String) -> Result<Option<BlobMeta>> {
        self.pool()
            .read(move |c| {
                let (column, id) = who.column();
                let row = c.query_opt(
                    &format!("SELECT blob_key, name, mime, size FROM blobs WHERE {column} = ? AND upload_key = ?"),
                    params![id, &upload_key],
                )?;
                row.map(|r| row_meta(&r)).transpose()
            })
            .await
    }

    /// Records an upload by `who` already written to the file store under `meta.key`:
    /// refused with `rate_limited` when `who` already holds [`MAX_WAITING_UPLOADS`] files
    /// from the last day that no message took.
    pub async fn record_upload(
        &self,
        who: Uploader,
        meta: BlobMeta,
        sha256: String,
        upload_key: Option<String>,
    ) -> Result<Upload> {
        let size = i64::try_from(meta.size).unwrap_or(i64::MAX);
        self.pool()
            .write(move |tx| {
                let (column, id) = who.column();
                if let Some(k) = &upload_key {
                    let row = tx.conn.query_opt(
                        &format!("SELECT blob_key, name, mime, size FROM blobs WHERE {column} = ? AND upload_key = ?"),
                        params![id, k],
                    )?;
                    if let Some(r) = row {
                        return Ok(Upload::Again(row_meta(&r)?));
                    }
                }
                let waiting = tx.conn.query_int(
                    &format!("SELECT COUNT(*) FROM blobs WHERE {column} = ? AND message_id IS NULL AND created_at > ?"),
                    params![id, tx.now - 24 * 60 * 60 * 1000],
                )?;
                if waiting >= MAX_WAITING_UPLOADS {
                    return Err(StoreError::Refused(
                        ErrorCode::RateLimited,
                        format!("{MAX_WAITING_UPLOADS} files uploaded today are not sent yet; send or wait before uploading more"),
                    ));
                }
                tx.conn.execute(
                    &format!(
                        "INSERT INTO blobs (blob_key, name, mime, size, sha256, data, created_at, {column}, upload_key) \
                         VALUES (?, ?, ?, ?, ?, '', ?, ?, ?)"
                    ),
                    params![&meta.key, &meta.name, &meta.mime, size, &sha256, tx.now, id, upload_key.as_deref()],
                )?;
                Ok(Upload::Kept(meta.clone()))
            })
            .await
    }

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

    /// The kept file under `key`, for a signed link the hub made (the link is the
    /// permission).
    pub async fn sent_blob(&self, key: String) -> Result<Option<BlobMeta>> {
        self.pool()
            .read(move |c| {
                let row =
                    c.query_opt("SELECT blob_key, name, mime, size FROM blobs WHERE blob_key = ?", params![&key])?;
                row.map(|r| row_meta(&r)).transpose()
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
    /// and own it. `false` when another hub moved it first (nothing is changed).
    pub async fn legacy_blob_moved(&self, id: i64, key: String, sha256: String) -> Result<bool> {
        self.pool()
            .write(move |tx| {
                // Another hub may have moved it first: its copy stands, and this one is
                // never named.
                let claimed = tx.conn.execute(
                    "UPDATE blobs SET blob_key = ?, sha256 = ?, data = '' WHERE id = ? AND blob_key IS NULL",
                    params![&key, &sha256, id],
                )?;
                if claimed != 1 {
                    return Ok(false);
                }
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
                tx.conn.execute("UPDATE blobs SET message_id = ? WHERE id = ?", params![owner, id])?;
                Ok(true)
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
