//! Visitors an agent blocked: their rows are marked, and the client addresses they came
//! from may start no chat on the inbox for [`CLIENT_BLOCK_MS`].

use super::pool::WriteTx;
use super::{Result, Store};
use crate::params;

/// How long a client address an agent blocked may start no chat on the inbox.
pub const CLIENT_BLOCK_MS: i64 = 24 * 3_600_000;

/// Blocks the visitors of one thread (`blocked` false lets them back). Blocking also keeps
/// the client addresses they came from off the inbox for [`CLIENT_BLOCK_MS`], so a new
/// anonymous visit from there is refused too. Returns how many visitors changed.
pub fn set_blocked(tx: &mut WriteTx<'_>, inbox_id: i64, address: &str, blocked: bool) -> Result<u64> {
    let rows = tx.conn.query(
        "SELECT DISTINCT client FROM visitors WHERE inbox_id = ? AND address = ? AND client IS NOT NULL",
        params![inbox_id, address],
    )?;
    let clients = rows.iter().map(|r| Ok(r.text(0)?.to_owned())).collect::<Result<Vec<String>>>()?;
    if !blocked {
        for client in &clients {
            tx.conn
                .execute("DELETE FROM blocked_clients WHERE inbox_id = ? AND client = ?", params![inbox_id, client])?;
        }
        return Ok(tx.conn.execute(
            "UPDATE visitors SET blocked_at = NULL WHERE inbox_id = ? AND address = ? AND blocked_at IS NOT NULL",
            params![inbox_id, address],
        )?);
    }
    for client in &clients {
        tx.conn.execute(
            "INSERT INTO blocked_clients (inbox_id, client, until) VALUES (?, ?, ?) \
             ON CONFLICT (inbox_id, client) DO UPDATE SET until = excluded.until",
            params![inbox_id, client, tx.now + CLIENT_BLOCK_MS],
        )?;
    }
    Ok(tx.conn.execute(
        "UPDATE visitors SET blocked_at = ? WHERE inbox_id = ? AND address = ? AND blocked_at IS NULL",
        params![tx.now, inbox_id, address],
    )?)
}

impl Store {
    /// Whether `client` is blocked from starting chats on the inbox.
    pub async fn client_blocked(&self, inbox_id: i64, client: String) -> Result<bool> {
        let now = crate::clock::now_ms();
        self.pool()
            .read(move |c| {
                Ok(c.query_opt(
                    "SELECT 1 FROM blocked_clients WHERE inbox_id = ? AND client = ? AND until > ?",
                    params![inbox_id, &client, now],
                )?
                .is_some())
            })
            .await
    }
}
