//! The SQLite engine: the embedded default, one file, zero set-up.
//!
//! Every connection runs in WAL mode with a busy timeout; writes go through one writer
//! thread (see `pool`), so `BEGIN IMMEDIATE` never waits on another writer of this process.

use super::db::{Connection, DbError, Engine, Row, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct SqliteConnection {
    conn: rusqlite::Connection,
}

impl std::fmt::Debug for SqliteConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteConnection").finish_non_exhaustive()
    }
}

/// The file named by a `sqlite://path` or `sqlite:path` URL.
pub fn path_from_url(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let rest = rest.split('?').next().unwrap_or(rest);
    (!rest.is_empty()).then(|| PathBuf::from(rest))
}

impl SqliteConnection {
    pub fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| DbError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = rusqlite::Connection::open(path).map_err(map_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(map_err)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(SqliteConnection { conn })
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
        })
    }
}

fn map_err(e: rusqlite::Error) -> DbError {
    use rusqlite::ErrorCode as C;
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let text = msg.clone().unwrap_or_else(|| e.to_string());
        return match (f.code, f.extended_code) {
            (C::ConstraintViolation, 2067 | 1555) => DbError::Unique(text),
            (C::DatabaseBusy | C::DatabaseLocked, _) => DbError::Transient(text),
            (C::CannotOpen | C::NotADatabase | C::DiskFull | C::SystemIoFailure, _) => DbError::Unavailable(text),
            _ => DbError::Other(text),
        };
    }
    DbError::Other(e.to_string())
}

fn read_row(row: &rusqlite::Row<'_>, n: usize) -> rusqlite::Result<Row> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::Int(v),
            ValueRef::Real(v) => Value::Int(v as i64),
            ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        });
    }
    Ok(Row(out))
}

impl Connection for SqliteConnection {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_err)?;
        let n = stmt.execute(rusqlite::params_from_iter(params.iter())).map_err(map_err)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(map_err)?;
        let n = stmt.column_count();
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| read_row(r, n)).map_err(map_err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(map_err)
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.conn.execute_batch(sql).map_err(map_err)
    }

    fn begin_write(&mut self) -> Result<(), DbError> {
        self.execute("BEGIN IMMEDIATE", &[]).map(drop)
    }

    fn begin_read(&mut self) -> Result<(), DbError> {
        // A deferred transaction takes its WAL snapshot at the first read and keeps it.
        self.execute("BEGIN", &[]).map(drop)
    }
}
