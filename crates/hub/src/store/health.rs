//! What an operator reads of the database: whether it answers (`/readyz`), and how much
//! work waits in it (`/metrics`): replies to hand to providers, campaign messages to send,
//! conversations waiting for an agent, CRM lookups and bot calls not yet made.

use super::{Result, Store};

/// Each queue's name on `/metrics` and the count of what waits in it.
const QUEUES: [(&str, &str); 5] = [
    ("replies", "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')"),
    ("campaign_messages", "SELECT COUNT(*) FROM campaign_recipients WHERE state = 'queued'"),
    (
        "waiting_conversations",
        "SELECT COUNT(*) FROM conversations WHERE status = 'open' AND assignee_id IS NULL AND queued_at IS NOT NULL",
    ),
    ("crm_lookups", "SELECT COUNT(*) FROM crm_requests"),
    ("bot_calls", "SELECT COUNT(*) FROM bot_calls WHERE state IN ('due', 'calling')"),
];

impl Store {
    /// Whether the database answered one of this hub's connections within `d`.
    pub fn answered_within(&self, d: std::time::Duration) -> bool {
        self.pool().answered_within(d)
    }

    /// Whether the database answers a query.
    pub async fn ping(&self) -> Result<()> {
        self.pool().read(|c| Ok(c.query_int("SELECT 1", &[]).map(|_| ())?)).await
    }

    /// How much work waits in each queue, read in one snapshot.
    pub async fn queue_depths(&self) -> Result<Vec<(&'static str, i64)>> {
        self.pool().read(|c| QUEUES.iter().map(|(name, sql)| Ok((*name, c.query_int(sql, &[])?))).collect()).await
    }
}
