//! Each agent's own notification preferences: saved whole by the agent, read into their
//! bootstrap, and sent to their consoles (and no one else's) as a change.

use super::change_kind::ChangeKind;
use super::db::Connection;
use super::entities::emit_private;
use super::pool::WriteTx;
use super::{Result, StoreError};
use crate::params;
use switchboard_protocol::preferences::NotificationPreferences;
use switchboard_protocol::sync::Change;

/// The agent's preferences: the defaults until they save their own.
pub fn load(c: &mut dyn Connection, agent_id: i64) -> Result<NotificationPreferences> {
    let row = c.query_opt("SELECT preferences FROM agent_preferences WHERE agent_id = ?", params![agent_id])?;
    match row {
        // Preferences saved by a newer hub keep what this one understands.
        Some(r) => Ok(r.json::<NotificationPreferences>(0).unwrap_or_else(|e| {
            tracing::warn!("agent {agent_id}: stored notification preferences are unreadable: {e}");
            NotificationPreferences::default()
        })),
        None => Ok(NotificationPreferences::default()),
    }
}

/// Replaces the agent's preferences and tells their consoles.
pub(super) fn set(tx: &mut WriteTx<'_>, agent_id: i64, prefs: &NotificationPreferences) -> Result<()> {
    prefs.check(tx.now).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    let prefs = prefs.clone().normalized();
    let json = serde_json::to_string(&prefs).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    tx.conn.execute(
        "INSERT INTO agent_preferences (agent_id, preferences, updated_at) VALUES (?, ?, ?) \
         ON CONFLICT (agent_id) DO UPDATE SET preferences = excluded.preferences, updated_at = excluded.updated_at",
        params![agent_id, json, tx.now],
    )?;
    emit_private(tx, ChangeKind::Preferences, agent_id, agent_id, &Change::Preferences(prefs));
    Ok(())
}
