//! A conversation's state as the rules move it: read from a conversation, and written back
//! with a new version (resolving ends its agent's hold on it, reopening starts one). Used by
//! ingest, agents' mutations and the bot alike.

use super::pool::WriteTx;
use super::Result;
use crate::params;
use crate::rules::ConvState;
use switchboard_protocol::model::{Conversation, ConversationStatus};

pub fn conv_state(c: &Conversation) -> ConvState {
    ConvState {
        status: c.status,
        snoozed_until: c.snoozed_until,
        waiting_since: c.waiting_since,
        last_activity_at: c.last_activity_at,
        reply_window_expires_at: c.reply_window_expires_at,
        preview: c.preview.clone(),
    }
}

/// Writes a conversation's moved state (from `before`) with a new version. Resolving ends
/// its agent's hold on it, and reopening starts a new one.
pub fn save_state(tx: &mut WriteTx<'_>, before: &Conversation, s: &ConvState, updated_by: Option<i64>) -> Result<()> {
    let id = before.id;
    let resolved = |st: ConversationStatus| st == ConversationStatus::Resolved;
    if let Some(agent) = before.assignee_id.filter(|_| resolved(before.status) != resolved(s.status)) {
        let (holder, why) = if resolved(s.status) { (None, "resolved") } else { (Some(agent), "reopened") };
        super::routing::record_holder(tx, id, before.team_id, holder, updated_by, why)?;
    }
    tx.conn.execute(
        "UPDATE conversations SET status = ?, snoozed_until = ?, waiting_since = ?, last_activity_at = ?, \
         reply_window_expires_at = ?, preview = ?, updated_by = ?, version = version + 1 WHERE id = ?",
        params![
            s.status.as_str(),
            s.snoozed_until,
            s.waiting_since,
            s.last_activity_at,
            s.reply_window_expires_at,
            &s.preview,
            updated_by,
            id
        ],
    )?;
    Ok(())
}
