//! Files the hub keeps itself (email attachments): stored with the message's workspace,
//! served to agents at `/api/v1/blobs/{id}`.

use super::{Result, Store, StoreError};
use crate::params;
use base64::Engine;

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
    pub async fn inbox_with_settings(
        &self,
        id: i64,
    ) -> Result<(switchboard_protocol::model::Inbox, serde_json::Value)> {
        self.pool()
            .read(move |c| {
                let inbox = super::entities::load_inbox(c, id)?;
                let settings = c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![id])?.json(0)?;
                Ok((inbox, settings))
            })
            .await
    }
}
