//! Files the agent attached to a reply, kept in the console's `outbox-files` folder from
//! the moment they are attached until the hub has the reply that sends them, so they
//! survive going offline and a restart. A reply in the outbox names each by `staged:<id>`;
//! the sender uploads it (once: the upload's idempotency key is the file's id) and sends
//! the reply naming the hub's copy. Files no reply waits for any more are removed.

use super::super::cache::Cache;
use crate::clock::now_ms;
use crate::error::{CoreError, Result};
use rusqlite::{params, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard_protocol::files::{self, SNIFF_BYTES};
use switchboard_protocol::model::Attachment;
use switchboard_protocol::ApiError;

/// The folder, beside the outbox, that holds staged files.
pub const FOLDER: &str = "outbox-files";
/// How a reply in the outbox names a staged file.
pub const PREFIX: &str = "staged:";
/// How long a file attached but never sent is kept.
const UNSENT_KEPT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The staged file a reply's attachment names, if it names one.
pub fn staged_id(url: &str) -> Option<&str> {
    url.strip_prefix(PREFIX).filter(|id| valid_id(id))
}

/// Whether `id` is one [`Staged::stage`] makes (and so safe as a file name).
fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn refused(r: files::FileRefusal) -> CoreError {
    CoreError::Hub(ApiError::from(r))
}

/// The staged files of one console.
#[derive(Debug, Clone)]
pub struct Staged {
    dir: PathBuf,
    cache: Arc<Cache>,
}

impl Staged {
    /// Files under `dir` (the console's folder), listed in `cache`'s outbox.
    pub fn new(dir: &Path, cache: Arc<Cache>) -> Staged {
        Staged { dir: dir.join(FOLDER), cache }
    }

    fn path(&self, id: &str) -> Result<PathBuf> {
        if !valid_id(id) {
            return Err(CoreError::NotFound("attached file"));
        }
        Ok(self.dir.join(id))
    }

    /// Keeps `bytes` as the file `name` for a reply: refused (with the hub's reasons) when
    /// its type is not one that may be sent, its content is not what its name says, or it
    /// is too large. Returns it as the reply names it (`staged:<id>`).
    pub fn stage(&self, name: &str, bytes: &[u8]) -> Result<Attachment> {
        let name = crate::files::display_name(name).trim().chars().take(200).collect::<String>();
        if name.is_empty() {
            return Err(CoreError::BadRequest("the file has no name".into()));
        }
        let size = bytes.len() as u64;
        files::check_size(&name, size).map_err(refused)?;
        let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
        let mime = files::file_type(&name, head, bytes.len() <= SNIFF_BYTES).map_err(refused)?;
        let mut raw = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
        let id = hex::encode(raw);
        std::fs::create_dir_all(&self.dir).map_err(CoreError::io("make the outbox's file folder"))?;
        let path = self.path(&id)?;
        let tmp = self.dir.join(format!(".{id}.part"));
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                CoreError::io("keep the attached file")(e)
            })?;
        let size_db = i64::try_from(size).unwrap_or(i64::MAX);
        self.cache.write(|c| {
            c.execute(
                "INSERT INTO ob.staged (id, name, mime, size, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, name, mime, size_db, now_ms()],
            )?;
            Ok(())
        })?;
        Ok(Attachment { url: format!("{PREFIX}{id}"), name, mime: mime.to_owned(), size })
    }

    /// Forgets a file the agent removed before sending; a file a queued reply names stays.
    /// Returns whether it was forgotten.
    pub fn discard(&self, id: &str) -> Result<bool> {
        let path = self.path(id)?;
        let gone = self.cache.write(|c| Ok(c.execute("DELETE FROM ob.staged WHERE id = ?1 AND queued = 0", [id])?))?;
        if gone == 1 {
            remove(&path);
        }
        Ok(gone == 1)
    }

    /// The staged files `urls` name, in order: each must be one this console staged and
    /// still holds. The reply that names them marks them queued as it enters the outbox
    /// ([`mark_queued`]), in the same transaction.
    pub fn named(&self, urls: &[String]) -> Result<Vec<Attachment>> {
        self.cache.read(|c| {
            let mut out = Vec::with_capacity(urls.len());
            for url in urls {
                let id =
                    staged_id(url).ok_or_else(|| CoreError::BadRequest(format!("`{url}` is not an attached file")))?;
                let row = c
                    .query_row("SELECT name, mime, size FROM ob.staged WHERE id = ?1", [id], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                    })
                    .optional()?
                    .ok_or(CoreError::NotFound("attached file"))?;
                out.push(Attachment {
                    url: url.clone(),
                    name: row.0,
                    mime: row.1,
                    size: u64::try_from(row.2).unwrap_or(0),
                });
            }
            Ok(out)
        })
    }

    /// A staged file's type and bytes.
    pub fn read(&self, id: &str) -> Result<(String, Vec<u8>)> {
        let path = self.path(id)?;
        let mime = self
            .cache
            .read(|c| Ok(c.query_row("SELECT mime FROM ob.staged WHERE id = ?1", [id], |r| r.get(0)).optional()?))?
            .ok_or(CoreError::NotFound("attached file"))?;
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CoreError::NotFound("attached file"),
            _ => CoreError::io("read the attached file")(e),
        })?;
        Ok((mime, bytes))
    }

    /// The hub's path for a staged file already uploaded.
    pub fn uploaded_url(&self, id: &str) -> Result<Option<String>> {
        self.cache.read(|c| {
            Ok(c.query_row("SELECT uploaded_url FROM ob.staged WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .flatten())
        })
    }

    /// Notes the hub's path for an uploaded staged file.
    pub fn set_uploaded(&self, id: &str, url: &str) -> Result<()> {
        self.cache.write(|c| {
            c.execute("UPDATE ob.staged SET uploaded_url = ?1 WHERE id = ?2", params![url, id])?;
            Ok(())
        })
    }

    /// The name a staged file is uploaded under.
    pub fn name(&self, id: &str) -> Result<String> {
        self.cache
            .read(|c| Ok(c.query_row("SELECT name FROM ob.staged WHERE id = ?1", [id], |r| r.get(0)).optional()?))?
            .ok_or(CoreError::NotFound("attached file"))
    }

    /// Removes the files no reply in the outbox names any more (sent and confirmed, or
    /// discarded), and those attached a week ago and never sent. Returns how many.
    pub fn prune(&self) -> Result<usize> {
        let cutoff = now_ms() - UNSENT_KEPT_MS;
        let gone: Vec<String> = self.cache.write(|c| {
            let mut st = c.prepare(
                "SELECT id FROM ob.staged s WHERE (s.queued = 1 AND NOT EXISTS \
                 (SELECT 1 FROM ob.outbox o WHERE instr(o.envelope, 'staged:' || s.id) > 0)) \
                 OR (s.queued = 0 AND s.created_at < ?1)",
            )?;
            let ids = st.query_map([cutoff], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            for id in &ids {
                c.execute("DELETE FROM ob.staged WHERE id = ?1", [id])?;
            }
            Ok(ids)
        })?;
        for id in &gone {
            if let Ok(p) = self.path(id) {
                remove(&p);
            }
        }
        Ok(gone.len())
    }
}

/// Marks the staged files `mutation` names as queued (a reply in the outbox waits for them),
/// in the transaction that writes it to the outbox.
pub fn mark_queued(c: &rusqlite::Connection, mutation: &switchboard_protocol::mutation::Mutation) -> Result<()> {
    if let switchboard_protocol::mutation::Mutation::SendReply(r) = mutation {
        for id in r.attachments.iter().filter_map(|a| staged_id(&a.url)) {
            c.execute("UPDATE ob.staged SET queued = 1 WHERE id = ?1", [id])?;
        }
    }
    Ok(())
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("an attached file could not be removed: {e}");
        }
    }
}
