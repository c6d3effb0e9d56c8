//! Engine-neutral database access: values, rows, the `Connection` trait each engine
//! implements, and the errors they map to.
//!
//! Queries are written once in the SQL both engines accept, with `?` placeholders; the
//! PostgreSQL connection rewrites them to `$n`. Integers are `i64` (BIGINT), text is text
//! (JSON documents included) and timestamps are milliseconds since the epoch.

use std::fmt;

/// A value bound to, or read from, a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds a `&[Value]` parameter list: `params![id, name]`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { &[$($crate::store::db::Value::from($v)),*][..] };
}

/// One result row. Getters name the column index they read and fail with
/// [`DbError::Decode`] on a type mismatch instead of panicking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, DbError> {
        self.0.get(i).ok_or_else(|| DbError::Decode(format!("no column {i}")))
    }

    pub fn int(&self, i: usize) -> Result<i64, DbError> {
        match self.at(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(DbError::Decode(format!("column {i}: expected integer, got {other:?}"))),
        }
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            other => Err(DbError::Decode(format!("column {i}: expected integer, got {other:?}"))),
        }
    }

    pub fn text(&self, i: usize) -> Result<&str, DbError> {
        match self.at(i)? {
            Value::Text(v) => Ok(v),
            other => Err(DbError::Decode(format!("column {i}: expected text, got {other:?}"))),
        }
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<&str>, DbError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v)),
            other => Err(DbError::Decode(format!("column {i}: expected text, got {other:?}"))),
        }
    }

    /// Parses a text column holding an enum's wire name.
    pub fn parse<T>(&self, i: usize) -> Result<T, DbError>
    where
        T: std::str::FromStr,
        T::Err: fmt::Display,
    {
        self.text(i)?.parse().map_err(|e: T::Err| DbError::Decode(e.to_string()))
    }

    /// Parses a text column holding JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, DbError> {
        serde_json::from_str(self.text(i)?).map_err(|e| DbError::Decode(format!("column {i}: {e}")))
    }
}

/// Which database engine a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        })
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// A unique constraint refused the write. Under concurrency this is also how a lost
    /// race shows, so a write job that meets it is run again once.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// A deadlock, serialisation failure or lock time-out: the work can be run again.
    #[error("transient database conflict: {0}")]
    Transient(String),
    /// The database cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A row did not have the expected shape.
    #[error("unexpected row: {0}")]
    Decode(String),
    #[error("database error: {0}")]
    Other(String),
}

/// What both engines offer: statements and queries on one connection, and the
/// statements that open a transaction. Transactions are driven with plain SQL
/// (`BEGIN`, `SAVEPOINT`, `COMMIT`) so the write batcher is written once.
pub trait Connection: Send + 'static {
    fn engine(&self) -> Engine;
    /// Runs one statement; returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError>;
    /// Runs one query and collects its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError>;
    /// Runs several `;`-separated statements without parameters (migrations).
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Opens a transaction that will write: it must serialise with other writers.
    fn begin_write(&mut self) -> Result<(), DbError>;
    /// Opens a transaction that will write and runs `then` in it (parameterless statements),
    /// in one round trip where the engine allows.
    fn begin_write_then(&mut self, then: &str) -> Result<(), DbError> {
        self.begin_write()?;
        self.batch(then)
    }
    /// Opens a read-only transaction that sees one consistent snapshot.
    fn begin_read(&mut self) -> Result<(), DbError>;
    /// The statements that make every statement after the first, until the second
    /// ([`Plans`]), run on one plan whatever its values; `None` where the engine has one
    /// kind of plan. Both are sent with a savepoint's statements.
    fn plans_once(&self) -> Option<Plans> {
        None
    }

    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, DbError> {
        self.query_opt(sql, params)?.ok_or_else(|| DbError::Decode(format!("expected one row from `{sql}`")))
    }

    fn query_int(&mut self, sql: &str, params: &[Value]) -> Result<i64, DbError> {
        self.query_one(sql, params)?.int(0)
    }
}

/// The statements that switch a transaction's plans from those made for each statement's
/// values to one plan per statement, and back: for statements that read and write by key,
/// whose best plan never depends on the values, planning once saves a young connection
/// the plans it would otherwise make for every size of every set.
#[derive(Debug, Clone, Copy)]
pub struct Plans {
    pub once: &'static str,
    pub by_values: &'static str,
}

/// Rows stamped in one statement by [`stamp_last_seen`].
const STAMPED_AT_ONCE: usize = 500;

/// Sets `last_seen_at` to `at` on the rows of `table` with the ids `ids`, one statement per
/// [`STAMPED_AT_ONCE`]. Given in id order, several hubs stamping the same rows take them in
/// the same order.
pub fn stamp_last_seen(c: &mut dyn Connection, table: &str, at: i64, ids: &[i64]) -> Result<(), DbError> {
    for chunk in ids.chunks(STAMPED_AT_ONCE) {
        let mut values = vec![Value::Int(at)];
        values.extend(chunk.iter().map(|&id| Value::Int(id)));
        c.execute(
            &format!("UPDATE {table} SET last_seen_at = ? WHERE id IN ({})", placeholders(chunk.len())),
            &values,
        )?;
    }
    Ok(())
}

/// Builds `?, ?, ?` for an `IN (...)` list of `n` items (at least one placeholder, so an
/// empty list matches nothing when bound with a NULL).
pub fn placeholders(n: usize) -> String {
    let n = n.max(1);
    let mut s = String::with_capacity(n * 3);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        s.push('?');
    }
    s
}
