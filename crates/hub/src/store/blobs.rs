//! Files the hub keeps itself (email attachments): stored with the message's workspace,
//! served to agents at `/api/v1/blobs/{id}`; and finding a message's attachment for an
//! agent who may see its conversation, with what its inbox needs to fetch it.

use super::{entities, Result, Store, StoreError};
use crate::params;
use crate::policy::Viewer;
use base64::Engine;
use switchboard_protocol::model::{Attachment, ChannelKind, Direction};

/// The hub's own path for file `id`.
pub fn blob_path(id: i64) -> String {
    format!("/api/v1/blobs/{id}")
}

/// The file id in a hub path `/api/v1/blobs/{id}`, if `url` is one.
pub fn blob_id(url: &str) -> Option<i64> {
    url.strip_prefix("/api/v1/blobs/")?.parse().ok().filter(|id| *id > 0)
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

/// A stored file.
#[derive(Debug, Clone)]
pub struct Blob {
    pub name: String,
    pub mime: String,
    pub data: Vec<u8>,
}

impl Store {
    /// Stores a file and returns its id.
    pub async fn put_blob(&self, name: String, mime: String, data: Vec<u8>) -> Result<i64> {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
        let size = i64::try_from(data.len()).unwrap_or(i64::MAX);
        self.pool()
            .write(move |tx| {
                Ok(tx.conn.query_int(
                    "INSERT INTO blobs (name, mime, size, data, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    params![&name, &mime, size, &encoded, tx.now],
                )?)
            })
            .await
    }

    pub async fn blob(&self, id: i64) -> Result<Blob> {
        self.pool()
            .read(move |c| {
                let r = c
                    .query_opt("SELECT name, mime, data FROM blobs WHERE id = ?", params![id])?
                    .ok_or(StoreError::NotFound("file"))?;
                let data = base64::engine::general_purpose::STANDARD
                    .decode(r.text(2)?)
                    .map_err(|e| StoreError::Db(super::db::DbError::Decode(e.to_string())))?;
                Ok(Blob { name: r.text(0)?.to_owned(), mime: r.text(1)?.to_owned(), data })
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
