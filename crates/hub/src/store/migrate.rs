//! Numbered migrations embedded in the binary, one ladder per engine, each step applied
//! in its own transaction together with the new version number.

use super::db::{Connection, DbError, Engine};

const SQLITE: &[(i64, &str)] = &[
    (1, include_str!("migrations/sqlite/0001_init.sql")),
    (2, include_str!("migrations/sqlite/0002_channels.sql")),
    (3, include_str!("migrations/sqlite/0003_visitors.sql")),
    (4, include_str!("migrations/sqlite/0004_crm.sql")),
    (5, include_str!("migrations/sqlite/0005_canned.sql")),
    (6, include_str!("migrations/sqlite/0006_canned_client.sql")),
    (7, include_str!("migrations/sqlite/0007_visitor_claims.sql")),
    (8, include_str!("migrations/sqlite/0008_sessions_and_logins.sql")),
    (9, include_str!("migrations/sqlite/0009_visitor_limits.sql")),
    (10, include_str!("migrations/sqlite/0010_blob_files.sql")),
    (11, include_str!("migrations/sqlite/0011_routing.sql")),
    (12, include_str!("migrations/sqlite/0012_sla.sql")),
    (13, include_str!("migrations/sqlite/0013_csat.sql")),
    (14, include_str!("migrations/sqlite/0014_reports.sql")),
    (15, include_str!("migrations/sqlite/0015_outreach.sql")),
    (16, include_str!("migrations/sqlite/0016_api_keys.sql")),
    (17, include_str!("migrations/sqlite/0017_consent.sql")),
    (18, include_str!("migrations/sqlite/0018_campaigns.sql")),
    (19, include_str!("migrations/sqlite/0019_unsubscribe.sql")),
    (20, include_str!("migrations/sqlite/0020_campaign_order.sql")),
    (21, include_str!("migrations/sqlite/0021_files.sql")),
    (22, include_str!("migrations/sqlite/0022_email_fallback.sql")),
    (23, include_str!("migrations/sqlite/0023_choices.sql")),
    (24, include_str!("migrations/sqlite/0024_knowledge_base.sql")),
    (25, include_str!("migrations/sqlite/0025_scale.sql")),
    (26, include_str!("migrations/sqlite/0026_preferences.sql")),
    (27, include_str!("migrations/sqlite/0027_open_assignee.sql")),
];
const POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("migrations/postgres/0001_init.sql")),
    (2, include_str!("migrations/postgres/0002_channels.sql")),
    (3, include_str!("migrations/postgres/0003_visitors.sql")),
    (4, include_str!("migrations/postgres/0004_crm.sql")),
    (5, include_str!("migrations/postgres/0005_canned.sql")),
    (6, include_str!("migrations/postgres/0006_canned_client.sql")),
    (7, include_str!("migrations/postgres/0007_visitor_claims.sql")),
    (8, include_str!("migrations/postgres/0008_sessions_and_logins.sql")),
    (9, include_str!("migrations/postgres/0009_visitor_limits.sql")),
    (10, include_str!("migrations/postgres/0010_blob_files.sql")),
    (11, include_str!("migrations/postgres/0011_routing.sql")),
    (12, include_str!("migrations/postgres/0012_sla.sql")),
    (13, include_str!("migrations/postgres/0013_csat.sql")),
    (14, include_str!("migrations/postgres/0014_reports.sql")),
    (15, include_str!("migrations/postgres/0015_outreach.sql")),
    (16, include_str!("migrations/postgres/0016_api_keys.sql")),
    (17, include_str!("migrations/postgres/0017_consent.sql")),
    (18, include_str!("migrations/postgres/0018_campaigns.sql")),
    (19, include_str!("migrations/postgres/0019_unsubscribe.sql")),
    (20, include_str!("migrations/postgres/0020_campaign_order.sql")),
    (21, include_str!("migrations/postgres/0021_files.sql")),
    (22, include_str!("migrations/postgres/0022_email_fallback.sql")),
    (23, include_str!("migrations/postgres/0023_choices.sql")),
    (24, include_str!("migrations/postgres/0024_knowledge_base.sql")),
    (25, include_str!("migrations/postgres/0025_scale.sql")),
    (26, include_str!("migrations/postgres/0026_preferences.sql")),
    (27, include_str!("migrations/postgres/0027_open_assignee.sql")),
];

/// Brings the database up to [`latest`]. Safe to run from several hubs at once on
/// PostgreSQL (an advisory lock serialises them).
pub fn run(conn: &mut dyn Connection) -> Result<i64, DbError> {
    let ladder = match conn.engine() {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    };
    conn.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let mut version = 0;
    for &(step, sql) in ladder {
        conn.begin_write()?;
        let applied = (|| {
            if conn.engine() == Engine::Postgres {
                conn.query("SELECT 1 FROM (SELECT pg_advisory_xact_lock(7461626)) AS l", &[])?;
            }
            let current = conn.query_opt("SELECT MAX(version) FROM schema_version", &[])?;
            let current = current.map(|r| r.opt_int(0)).transpose()?.flatten().unwrap_or(0);
            if current < step {
                conn.batch(sql)?;
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", &[step.into()])?;
            }
            Ok::<_, DbError>(current.max(step))
        })();
        match applied {
            Ok(v) => {
                conn.batch("COMMIT")?;
                version = v;
            }
            Err(e) => {
                let _ = conn.batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    Ok(version)
}
