//! The audit log: what admins did to the workspace (agents, teams, inboxes, the CRM,
//! sessions), by whom and from which client address. Written after the action succeeds;
//! read newest first, a page at a time.

use super::{Result, Store};
use crate::params;
use switchboard_protocol::admin::{AuditEntry, AuditPage};

/// One action to record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub actor_id: Option<i64>,
    pub action: &'static str,
    pub target: String,
    /// The request with its secrets removed.
    pub detail: serde_json::Value,
    pub client: Option<String>,
}

/// The longest page of the audit log.
pub const MAX_AUDIT_PAGE: usize = 500;

impl Store {
    pub async fn record_audit(&self, r: AuditRecord) -> Result<()> {
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "INSERT INTO audit_log (at, actor_id, action, target, detail, client) VALUES (?, ?, ?, ?, ?, ?)",
                    params![tx.now, r.actor_id, r.action, &r.target, r.detail.to_string(), r.client.as_deref()],
                )?;
                Ok(())
            })
            .await
    }

    /// Up to `limit` entries older than `before` (all, when `None`), newest first.
    pub async fn audit_log(&self, before: Option<i64>, limit: usize) -> Result<AuditPage> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE);
        self.pool()
            .read(move |c| {
                let rows = c.query(
                    "SELECT id, at, actor_id, action, target, detail, client FROM audit_log \
                     WHERE id < ? ORDER BY id DESC LIMIT ?",
                    params![before.unwrap_or(i64::MAX), i64::try_from(limit + 1).unwrap_or(i64::MAX)],
                )?;
                let mut entries = rows
                    .iter()
                    .map(|r| -> Result<AuditEntry> {
                        Ok(AuditEntry {
                            id: r.int(0)?,
                            at: r.int(1)?,
                            actor_id: r.opt_int(2)?,
                            action: r.text(3)?.to_owned(),
                            target: r.text(4)?.to_owned(),
                            detail: r.json(5)?,
                            client: r.opt_text(6)?.map(str::to_owned),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let more = entries.len() > limit;
                entries.truncate(limit);
                let next_before = if more { entries.last().map(|e| e.id) } else { None };
                Ok(AuditPage { entries, next_before })
            })
            .await
    }
}
