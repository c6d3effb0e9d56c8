//! The PostgreSQL engine: for teams that outgrow one machine or run several hubs.
//!
//! Queries arrive with `?` placeholders and are rewritten to `$n` once, then prepared and
//! cached per connection, each prepared again as it ages ([`kept_after`]) so its plans
//! follow the tables' growth. Values are bound by the column type the server reports.

use super::db::{Connection, DbError, Engine, Row, Value};
use postgres::error::SqlState;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct PgConnection {
    client: postgres::Client,
    statements: HashMap<String, Prepared>,
}

/// A statement prepared on this connection, and until when its plans are kept.
struct Prepared {
    statement: postgres::Statement,
    /// How long it was kept this time.
    kept: Duration,
    until: Instant,
}

/// How long a statement prepared the first time is kept before it is prepared again.
const FIRST_KEPT: Duration = Duration::from_secs(1);
/// The longest a statement is kept.
const LONGEST_KEPT: Duration = Duration::from_secs(300);

/// How long a statement kept for `kept` is kept once prepared again: twice as long, up
/// to [`LONGEST_KEPT`].
///
/// PostgreSQL keeps a prepared statement's plan until the statistics of a table it reads
/// change. A plan made while a table was nearly empty (a new database, before autovacuum
/// has analysed it) reads the whole table once it is large: a scan of every identity to
/// find two. Preparing again makes the plan afresh from the table's size as it is then,
/// often while a database is young and seldom once it has settled.
pub fn kept_after(kept: Duration) -> Duration {
    (kept * 2).min(LONGEST_KEPT)
}

impl std::fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgConnection").finish_non_exhaustive()
    }
}

impl PgConnection {
    pub fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with_timeout(url, 30_000)
    }

    /// Connects (within 5 seconds unless the URL says otherwise), over TLS as the URL's
    /// `sslmode` says ([`crate::pg_tls`]), with TCP keepalives so a vanished server is
    /// noticed, and with no statement allowed to run longer than `statement_timeout_ms`.
    pub fn connect_with_timeout(url: &str, statement_timeout_ms: u64) -> Result<Self, DbError> {
        let (mut config, tls) = crate::pg_tls::prepare(url).map_err(|e| DbError::Other(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        // A server that vanished without closing (a half-open connection) is noticed:
        // keepalives probe an idle connection, and unacknowledged writes fail after 20 s.
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3)
            .tcp_user_timeout(Duration::from_secs(20));
        let mut client = config.connect(tls).map_err(map_err)?;
        client.batch_execute(&format!("SET statement_timeout = {}", statement_timeout_ms.max(1))).map_err(map_err)?;
        Ok(PgConnection { client, statements: HashMap::new() })
    }

    fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, DbError> {
        let now = Instant::now();
        let kept = match self.statements.get(sql) {
            Some(p) if now < p.until => return Ok(p.statement.clone()),
            Some(p) => kept_after(p.kept),
            None => FIRST_KEPT,
        };
        let statement = self.client.prepare(&numbered(sql)).map_err(map_err)?;
        if self.statements.len() > 2_048 {
            self.statements.clear();
        }
        // The statement it replaces is closed on the server when the last handle to it goes.
        self.statements.insert(sql.to_owned(), Prepared { statement: statement.clone(), kept, until: now + kept });
        Ok(statement)
    }

    /// Asks the server to answer: an error when the connection is gone.
    pub fn ping(&mut self) -> Result<(), DbError> {
        self.client.simple_query("SELECT 1 /* feed listener */").map(drop).map_err(map_err)
    }

    /// Waits up to `timeout` for a `NOTIFY` on a channel this connection listens to.
    pub fn wait_notification(&mut self, timeout: Duration) -> Result<Option<String>, DbError> {
        let mut n = self.client.notifications();
        let mut it = n.timeout_iter(timeout);
        match fallible_iterator::FallibleIterator::next(&mut it) {
            Ok(Some(note)) => Ok(Some(note.payload().to_owned())),
            Ok(None) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }
}

/// Rewrites `?` placeholders to `$1, $2, ...` (our SQL has no `?` inside literals).
pub fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => v.to_string().to_sql(ty, out),
                _ => Err(format!("cannot bind an integer to {ty}").into()),
            },
            Value::Text(v) => v.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn map_err(e: postgres::Error) -> DbError {
    // The cause too: "error performing TLS handshake" alone does not say the certificate
    // was refused.
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    if let Some(db) = e.as_db_error() {
        let detail = format!("{} ({})", db.message(), db.detail().unwrap_or(""));
        let code = db.code();
        return if *code == SqlState::UNIQUE_VIOLATION {
            DbError::Unique(detail)
        } else if *code == SqlState::T_R_DEADLOCK_DETECTED
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::LOCK_NOT_AVAILABLE
        {
            DbError::Transient(detail)
        } else if *code == SqlState::ADMIN_SHUTDOWN
            || *code == SqlState::QUERY_CANCELED
            || *code == SqlState::CANNOT_CONNECT_NOW
            || *code == SqlState::TOO_MANY_CONNECTIONS
        {
            DbError::Unavailable(detail)
        } else {
            DbError::Other(detail)
        };
    }
    if e.is_closed() || text.contains("connect") || text.contains("I/O") {
        DbError::Unavailable(text)
    } else {
        DbError::Other(text)
    }
}

fn read_row(row: &postgres::Row) -> Result<Row, DbError> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let bad = |e: postgres::Error| DbError::Decode(format!("column {}: {e}", col.name()));
        let v = match *col.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(bad)?.map(Value::Int),
            Type::INT4 => row.try_get::<_, Option<i32>>(i).map_err(bad)?.map(|v| Value::Int(v.into())),
            Type::INT2 => row.try_get::<_, Option<i16>>(i).map_err(bad)?.map(|v| Value::Int(v.into())),
            Type::BOOL => row.try_get::<_, Option<bool>>(i).map_err(bad)?.map(|v| Value::Int(v.into())),
            Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => {
                row.try_get::<_, Option<String>>(i).map_err(bad)?.map(Value::Text)
            }
            ref other => return Err(DbError::Decode(format!("column {}: unsupported type {other}", col.name()))),
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

impl Connection for PgConnection {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        let stmt = self.prepare(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.execute(&stmt, &refs).map_err(map_err)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let stmt = self.prepare(sql)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let rows = self.client.query(&stmt, &refs).map_err(map_err)?;
        rows.iter().map(read_row).collect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.client.batch_execute(sql).map_err(map_err)
    }

    fn begin_write(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN")
    }

    fn begin_write_then(&mut self, then: &str) -> Result<(), DbError> {
        self.batch(&format!("BEGIN; {then}"))
    }

    /// PostgreSQL plans a prepared statement for its values the first five times it runs,
    /// and then keeps a generic plan if that costs no more.
    fn plans_once(&self) -> Option<super::db::Plans> {
        Some(super::db::Plans {
            once: "SET LOCAL plan_cache_mode = force_generic_plan",
            by_values: "SET LOCAL plan_cache_mode = DEFAULT",
        })
    }

    fn begin_read(&mut self) -> Result<(), DbError> {
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_kept_twice_as_long_each_time_up_to_five_minutes() {
        let mut kept = FIRST_KEPT;
        let mut schedule = vec![kept.as_secs()];
        while kept < LONGEST_KEPT {
            kept = kept_after(kept);
            schedule.push(kept.as_secs());
        }
        assert_eq!(schedule, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(kept_after(LONGEST_KEPT), LONGEST_KEPT);
    }

    /// The plan PostgreSQL uses for the statement `sql` prepared on `c`, as `EXPLAIN` prints it.
    fn plan_of(c: &mut PgConnection, sql: &str, args: &[Value]) -> String {
        c.query(sql, args).unwrap();
        let name = c
            .query(
                "SELECT name FROM pg_prepared_statements WHERE statement = ? ORDER BY prepare_time DESC",
                &[numbered(sql).into()],
            )
            .unwrap()[0]
            .text(0)
            .unwrap()
            .to_owned();
        let marks: Vec<String> = args
            .iter()
            .map(|a| match a {
                Value::Int(v) => v.to_string(),
                _ => unreachable!("integers only"),
            })
            .collect();
        let rows = c.client.simple_query(&format!("EXPLAIN EXECUTE {name}({})", marks.join(", "))).unwrap();
        rows.iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A statement first planned while its table was nearly empty is planned again once
    /// the table has grown: its lookup by an indexed column stops reading the whole table.
    #[test]
    fn plans_follow_a_growing_table() {
        let schema = switchboard_testkit::pg_schema::Schema::new("sbplans");
        let mut c = PgConnection::connect(&schema.url).unwrap();
        c.batch(
            "CREATE TABLE grown (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, owner BIGINT NOT NULL, \
             channel TEXT NOT NULL, kind TEXT NOT NULL, address TEXT NOT NULL, created_at BIGINT NOT NULL); \
             CREATE INDEX grown_owner ON grown (owner); \
             CREATE INDEX grown_address ON grown (kind, address); \
             INSERT INTO grown (owner, channel, kind, address, created_at) \
             SELECT g, 'sms', 'phone', '+1212' || g, 0 FROM generate_series(1, 40) g",
        )
        .unwrap();
        let sql = "SELECT g.owner, g.channel, g.address FROM grown g WHERE g.owner IN (?, ?) ORDER BY g.id";
        let args = [Value::Int(3), Value::Int(4)];
        // Past the first five runs PostgreSQL settles on one plan for every argument.
        for _ in 0..6 {
            c.query(sql, &args).unwrap();
        }
        let young = plan_of(&mut c, sql, &args);
        assert!(young.contains("Seq Scan on grown"), "a table of 40 rows is read whole:\n{young}");
        c.batch(
            "INSERT INTO grown (owner, channel, kind, address, created_at) \
             SELECT g, 'sms', 'phone', '+1212' || g, 0 FROM generate_series(41, 200000) g",
        )
        .unwrap();
        std::thread::sleep(FIRST_KEPT + Duration::from_millis(100));
        for _ in 0..6 {
            c.query(sql, &args).unwrap();
        }
        let grown = plan_of(&mut c, sql, &args);
        assert!(!grown.contains("Seq Scan"), "200,000 rows are not read to find two:\n{grown}");
    }

    #[test]
    fn placeholders_are_numbered_in_order() {
        assert_eq!(numbered("SELECT ? WHERE a = ? AND b IN (?, ?)"), "SELECT $1 WHERE a = $2 AND b IN ($3, $4)");
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
    }
}
