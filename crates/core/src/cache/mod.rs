//! The local database: `cache.sqlite3` (everything synced from the hub, disposable) and
//! `outbox.sqlite3` (what the agent did that the hub has not confirmed, never discarded),
//! attached to each other so views can show pending lines beside stored ones.
//!
//! Both files use WAL with a busy timeout; each has its own ladder of numbered migrations
//! (`migrations/cache/`, `migrations/outbox/`) applied in a transaction together with
//! `user_version`. A cache that cannot be opened or migrated (a newer version's file,
//! corruption) is deleted and synced again; the outbox is kept.
//!
//! # Layout
//! - [`apply`]: writing what the hub sends (upserts that keep only newer versions).
//! - [`rows`]: reading rows back, and the getters the views share.
//!
//! The outbox's rows are [`crate::outbox`]'s to read and write.

pub mod apply;
pub mod rows;

use crate::error::{CoreError, Result};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

const CACHE_MIGRATIONS: &[&str] = &[
    include_str!("migrations/cache/0001_cache.sql"),
    include_str!("migrations/cache/0002_sync_state.sql"),
    include_str!("migrations/cache/0003_lean_rows.sql"),
    include_str!("migrations/cache/0004_view_tally.sql"),
    include_str!("migrations/cache/0005_canned.sql"),
    include_str!("migrations/cache/0006_queue.sql"),
    include_str!("migrations/cache/0007_reports.sql"),
    include_str!("migrations/cache/0008_choices.sql"),
    include_str!("migrations/cache/0009_articles.sql"),
];
const OUTBOX_MIGRATIONS: &[&str] = &[
    include_str!("migrations/outbox/0001_outbox.sql"),
    include_str!("migrations/outbox/0002_canned.sql"),
    include_str!("migrations/outbox/0003_canned_on_hub.sql"),
    include_str!("migrations/outbox/0004_staged_files.sql"),
];

/// The cache's file name inside the console's data directory.
pub const CACHE_FILE: &str = "cache.sqlite3";
/// The outbox's file name inside the console's data directory.
pub const OUTBOX_FILE: &str = "outbox.sqlite3";

/// Why the cache was rebuilt when it was opened, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The file was there and is current (perhaps after migrating).
    Kept,
    /// The file did not exist.
    Created,
    /// The file could not be used and was replaced by an empty one.
    Rebuilt { reason: String },
}

/// The two connections (one writer, one reader) over the cache and its attached outbox.
#[derive(Debug)]
pub struct Cache {
    write: Mutex<Connection>,
    read: Mutex<Connection>,
    opened: Opened,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -64_000)?;
    // Checkpoint less often than every 4 MB of WAL: sync writes pages of thousands of rows.
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    Ok(())
}

/// Applies the migrations after the file's `user_version`, each in its own transaction.
/// Fails when the file is newer than this build knows.
pub fn migrate(conn: &mut Connection, schema: &str, ladder: &[&str], upto: usize) -> Result<()> {
    let version: usize = conn
        .query_row(&format!("PRAGMA {schema}.user_version"), [], |r| r.get::<_, i64>(0))
        .map(|v| usize::try_from(v).unwrap_or(usize::MAX))?;
    if version > ladder.len() {
        return Err(CoreError::Schema(format!("the {schema} file was written by a newer version (schema {version})")));
    }
    for (i, sql) in ladder.iter().enumerate().take(upto).skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(|e| match CoreError::from(e) {
            CoreError::Db(e) => CoreError::Schema(format!("migration {} failed: {e}", i + 1)),
            other => other,
        })?;
        tx.pragma_update(Some(schema), "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        tx.commit()?;
    }
    Ok(())
}

fn open_file(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    Ok(conn)
}

/// Opens and migrates the cache file, or says why it cannot be used.
fn open_cache(path: &Path) -> Result<Connection> {
    let mut conn = open_file(path)?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    migrate(&mut conn, "main", CACHE_MIGRATIONS, CACHE_MIGRATIONS.len())?;
    Ok(conn)
}

fn remove_cache_files(path: &Path) -> std::io::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(PathBuf::from(p)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

fn attach_outbox(conn: &Connection, dir: &Path) -> rusqlite::Result<()> {
    let path = dir.join(OUTBOX_FILE);
    conn.execute("ATTACH DATABASE ?1 AS ob", [path.to_string_lossy()])?;
    conn.pragma_update(Some("ob"), "journal_mode", "WAL")?;
    conn.pragma_update(Some("ob"), "synchronous", "NORMAL")?;
    Ok(())
}

impl Cache {
    /// Opens (creating, migrating or rebuilding) the cache and outbox in `dir`.
    pub fn open(dir: &Path) -> Result<Cache> {
        std::fs::create_dir_all(dir).map_err(CoreError::io("create the console's data folder"))?;
        let outbox_path = dir.join(OUTBOX_FILE);
        {
            let mut outbox = open_file(&outbox_path)?;
            migrate(&mut outbox, "main", OUTBOX_MIGRATIONS, OUTBOX_MIGRATIONS.len())?;
        }
        let path = dir.join(CACHE_FILE);
        let existed = path.exists();
        let (write, opened) = match open_cache(&path) {
            Ok(conn) => (conn, if existed { Opened::Kept } else { Opened::Created }),
            // A full disk is not the file's fault: rebuilding would lose the cache for nothing.
            Err(CoreError::DiskFull) => return Err(CoreError::DiskFull),
            Err(e) => {
                let reason = e.to_string();
                tracing::warn!("the local cache cannot be used ({reason}); rebuilding it from the hub");
                remove_cache_files(&path).map_err(CoreError::io("remove the unusable cache"))?;
                let conn = open_cache(&path)?;
                (conn, Opened::Rebuilt { reason })
            }
        };
        attach_outbox(&write, dir)?;
        let read = open_file(&path)?;
        attach_outbox(&read, dir)?;
        Ok(Cache { write: Mutex::new(write), read: Mutex::new(read), opened })
    }

    /// What happened to the cache file when it was opened.
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (the transaction rolls
        // back when dropped), so the connection stays usable.
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` in one write transaction (committed when it returns `Ok`).
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = Self::lock(&self.write);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Hands back the memory both connections' page caches hold (each may keep up to
    /// 64 MB after a large sync or search); pages are read again from the file when needed.
    pub fn release_memory(&self) -> Result<()> {
        for conn in [&self.write, &self.read] {
            Self::lock(conn).execute_batch("PRAGMA shrink_memory")?;
        }
        Ok(())
    }

    /// Runs `f` on the reader connection, inside one read transaction so that everything
    /// it reads is one consistent snapshot.
    pub fn read<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = Self::lock(&self.read);
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred)?;
        let out = f(&tx)?;
        tx.finish()?;
        Ok(out)
    }
}

/// A value from the `meta` table.
/// The `meta` key the agent's notification preferences are kept under.
pub const PREFERENCES: &str = "preferences";

pub fn meta(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

pub fn set_meta(c: &Connection, key: &str, value: &str) -> Result<()> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_an_older_cache_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CACHE_FILE);
        {
            let mut conn = open_file(&path).unwrap();
            migrate(&mut conn, "main", CACHE_MIGRATIONS, 1).unwrap();
            set_meta(&conn, "cursor", "42").unwrap();
            set_meta(&conn, "me_id", "5").unwrap();
            assert!(conn.prepare("SELECT * FROM notified").is_err(), "version 1 has no `notified` yet");
        }
        let cache = Cache::open(dir.path()).unwrap();
        assert_eq!(cache.opened(), &Opened::Kept);
        cache
            .read(|c| {
                assert_eq!(meta(c, "cursor")?, None, "migration 3 asks for a fresh sync");
                assert_eq!(meta(c, "me_id")?.as_deref(), Some("5"), "the rest is kept");
                c.prepare("SELECT message_id FROM notified")?;
                c.prepare("SELECT customer_address, updated_by FROM conversations")?;
                let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
                assert_eq!(v, i64::try_from(CACHE_MIGRATIONS.len()).unwrap());
                Ok(())
            })
            .unwrap();
    }

    fn outbox_rows(cache: &Cache) -> i64 {
        cache.read(|c| Ok(c.query_row("SELECT count(*) FROM ob.outbox", [], |r| r.get(0))?)).unwrap()
    }

    fn put_outbox_row(cache: &Cache) {
        cache
            .write(|c| {
                c.execute(
                    "INSERT INTO ob.outbox (mutation_id, name, envelope, state, created_at) VALUES (1, 'send_reply', '{}', 'pending', 0)",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_cache_from_a_newer_version_is_rebuilt_and_the_outbox_kept() {
        let dir = tempfile::tempdir().unwrap();
        {
            let cache = Cache::open(dir.path()).unwrap();
            assert_eq!(cache.opened(), &Opened::Created);
            put_outbox_row(&cache);
            cache.write(|c| set_meta(c, "cursor", "7")).unwrap();
            cache.write(|c| Ok(c.pragma_update(None, "user_version", 99)?)).unwrap();
        }
        let cache = Cache::open(dir.path()).unwrap();
        assert!(matches!(cache.opened(), Opened::Rebuilt { reason } if reason.contains("newer")));
        assert_eq!(cache.read(|c| meta(c, "cursor")).unwrap(), None, "synced again from scratch");
        assert_eq!(outbox_rows(&cache), 1, "the outbox survives");
    }

    #[test]
    fn a_corrupt_cache_is_rebuilt_and_the_outbox_kept() {
        let dir = tempfile::tempdir().unwrap();
        {
            let cache = Cache::open(dir.path()).unwrap();
            put_outbox_row(&cache);
        }
        std::fs::write(dir.path().join(CACHE_FILE), b"this is not a database, just bytes on a disk".repeat(200))
            .unwrap();
        let _ = std::fs::remove_file(dir.path().join(format!("{CACHE_FILE}-wal")));
        let cache = Cache::open(dir.path()).unwrap();
        assert!(matches!(cache.opened(), Opened::Rebuilt { .. }), "{:?}", cache.opened());
        assert_eq!(outbox_rows(&cache), 1);
        cache.read(|c| Ok(c.query_row("SELECT count(*) FROM conversations", [], |r| r.get::<_, i64>(0))?)).unwrap();
    }

    #[test]
    fn full_text_search_is_compiled_in() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        cache
            .write(|c| {
                c.execute(
                    "INSERT INTO messages (id, version, conversation_id, channel, direction, body, created_at) \
                     VALUES (1, 1, 1, 'sms', 'inbound', 'Where is my parcel?', 0)",
                    [],
                )?;
                let n: i64 =
                    c.query_row("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'parcel'", [], |r| {
                        r.get(0)
                    })?;
                assert_eq!(n, 1);
                Ok(())
            })
            .unwrap();
    }
}
