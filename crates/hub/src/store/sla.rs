//! Response-time targets in the store: each team's and inbox's policy, each conversation's
//! due times kept as it moves, the sweep that marks conversations at risk and then breached
//! (once, whichever hub looks first), and the record of every target met or missed. What
//! falls due when is [`crate::sla`]'s to say.

use super::db::Connection;
use super::entities::{self, emit_conversation};
use super::pool::WriteTx;
use super::{Result, Store, StoreError};
use crate::params;
use crate::policy::{self, Viewer};
use crate::sla::{self, Dues, Event};
use switchboard_protocol::model::{SlaPolicy, SlaState};
use switchboard_protocol::mutation::SetSla;

/// The most conversations one sweep moves.
const SWEEP_LIMIT: i64 = 1_000;

/// The policy a conversation of `team_id` in `inbox_id` is measured by: the inbox's own, or
/// its team's, or none.
fn policy_for(c: &mut dyn Connection, team_id: i64, inbox_id: i64) -> Result<Option<SlaPolicy>> {
    Ok(super::directory::policies(c, team_id, inbox_id)?.sla)
}

const TARGETS: [&str; 3] = ["first_response", "next_response", "resolution"];

fn each(d: &Dues) -> [Option<i64>; 3] {
    [d.first_response, d.next_response, d.resolution]
}

/// The targets that start running when a conversation's dues move from `before` to
/// `after`: each new due time, with its target's name as `sla_events` records it.
pub(super) fn started(before: &Dues, after: &Dues) -> Vec<(&'static str, i64)> {
    TARGETS
        .iter()
        .zip(each(before))
        .zip(each(after))
        .filter_map(|((target, was), now)| now.filter(|_| was != now).map(|due| (*target, due)))
        .collect()
}

/// Sets a conversation's SLA state as of `tx.now`, for history written at its own time
/// (whose state was worked out as of then): a target long past is breached now.
pub(super) fn restate(tx: &mut WriteTx<'_>, conversation_id: i64) -> Result<()> {
    let r = tx.conn.query_one(
        "SELECT team_id, inbox_id, first_response_due_at, next_response_due_at, resolution_due_at, sla_state \
         FROM conversations WHERE id = ?",
        params![conversation_id],
    )?;
    let dues = Dues { first_response: r.opt_int(2)?, next_response: r.opt_int(3)?, resolution: r.opt_int(4)? };
    let warn = policy_for(tx.conn, r.int(0)?, r.int(1)?)?.map_or(0, |p| p.warn_before_mins);
    let state = sla::state(&dues, warn, tx.now);
    if state.as_str() != r.text(5)? {
        tx.conn.execute(
            "UPDATE conversations SET sla_state = ?, version = version + 1 WHERE id = ?",
            params![state.as_str(), conversation_id],
        )?;
        let conv = entities::load_conversation(tx.conn, conversation_id)?;
        emit_conversation(tx, &conv, None);
    }
    Ok(())
}

/// Moves a conversation's targets after `event`: writes its due times and state, and
/// records each target that starts, and each that is met.
pub(super) fn apply(tx: &mut WriteTx<'_>, conversation_id: i64, event: Event) -> Result<()> {
    let r = tx.conn.query_one(
        "SELECT team_id, inbox_id, first_response_due_at, next_response_due_at, resolution_due_at FROM conversations WHERE id = ?",
        params![conversation_id],
    )?;
    let (team_id, inbox_id) = (r.int(0)?, r.int(1)?);
    let before = Dues { first_response: r.opt_int(2)?, next_response: r.opt_int(3)?, resolution: r.opt_int(4)? };
    let policy = policy_for(tx.conn, team_id, inbox_id)?;
    let hours = policy.as_ref().map(sla::hours_of).unwrap_or_else(crate::calendar::Hours::always);
    let after = sla::after(policy.as_ref(), &hours, before, event);
    if after == before {
        return Ok(());
    }
    for ((target, was), now) in TARGETS.iter().zip(each(&before)).zip(each(&after)) {
        if was == now {
            continue;
        }
        if let (Some(due), None) = (was, now) {
            if matches!(event, Event::Replied | Event::Resolved) {
                tx.conn.execute(
                    "UPDATE sla_events SET met_at = ?, breached = CASE WHEN ? > due_at THEN 1 ELSE breached END \
                     WHERE conversation_id = ? AND target = ? AND due_at = ? AND met_at IS NULL",
                    params![tx.now, tx.now, conversation_id, *target, due],
                )?;
            }
        }
    }
    for (target, due) in started(&before, &after) {
        tx.conn.execute(
            "INSERT INTO sla_events (conversation_id, team_id, target, due_at, created_at) VALUES (?, ?, ?, ?, ?)",
            params![conversation_id, team_id, target, due, tx.now],
        )?;
    }
    let warn = policy.as_ref().map_or(0, |p| p.warn_before_mins);
    let state = sla::state(&after, warn, tx.now);
    let next = after.next();
    tx.conn.execute(
        "UPDATE conversations SET first_response_due_at = ?, next_response_due_at = ?, resolution_due_at = ?, \
         sla_next_due = ?, sla_warn_at = ?, sla_state = ?, version = version + 1 WHERE id = ?",
        params![
            after.first_response,
            after.next_response,
            after.resolution,
            next,
            next.map(|d| d - i64::from(warn) * 60_000),
            state.as_str(),
            conversation_id
        ],
    )?;
    Ok(())
}

/// Sets a team's response-time targets, or one of its inboxes' own (`policy: None` clears
/// them). They apply to what happens from then on.
pub(super) fn set_sla(tx: &mut WriteTx<'_>, v: &Viewer, s: &SetSla) -> Result<()> {
    policy::may_manage_routing(v, s.team_id).map_err(|d| StoreError::denied(d, "team"))?;
    if let Some(why) = s.policy.as_ref().and_then(sla::refuse) {
        return Err(StoreError::BadRequest(why));
    }
    let value = s.policy.as_ref().map(|p| serde_json::to_value(p).unwrap_or_default());
    super::directory::set_team_policy(tx, super::directory::TeamPolicy::Sla, s.team_id, s.inbox_id, value)
}

impl Store {
    /// Marks conversations at risk whose warning time has come and breached whose target
    /// has passed; each change is made once, whichever hub sweeps first. Returns how many.
    pub async fn sweep_sla(&self) -> Result<usize> {
        self.pool()
            .write(move |tx| {
                let rows = tx.conn.query(
                    "SELECT id, sla_state, first_response_due_at, next_response_due_at, resolution_due_at, team_id, inbox_id \
                     FROM conversations WHERE sla_warn_at <= ? \
                     AND (sla_state = 'ok' OR (sla_state = 'at_risk' AND sla_next_due <= ?)) ORDER BY sla_warn_at LIMIT ?",
                    params![tx.now, tx.now, SWEEP_LIMIT],
                )?;
                let mut moved = 0;
                for r in &rows {
                    let (id, was): (i64, SlaState) = (r.int(0)?, r.parse(1)?);
                    let dues = Dues { first_response: r.opt_int(2)?, next_response: r.opt_int(3)?, resolution: r.opt_int(4)? };
                    let warn = policy_for(tx.conn, r.int(5)?, r.int(6)?)?.map_or(0, |p| p.warn_before_mins);
                    let state = sla::state(&dues, warn, tx.now);
                    if state == was {
                        continue;
                    }
                    let n = tx.conn.execute(
                        "UPDATE conversations SET sla_state = ?, version = version + 1 WHERE id = ? AND sla_state = ?",
                        params![state.as_str(), id, was.as_str()],
                    )?;
                    if n == 0 {
                        continue;
                    }
                    if state == SlaState::Breached {
                        tx.conn.execute(
                            "UPDATE sla_events SET breached = 1 WHERE conversation_id = ? AND met_at IS NULL AND due_at <= ?",
                            params![id, tx.now],
                        )?;
                    }
                    let conv = entities::load_conversation(tx.conn, id)?;
                    emit_conversation(tx, &conv, None);
                    moved += 1;
                }
                Ok(moved)
            })
            .await
    }
}
