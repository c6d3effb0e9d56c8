//! Canned responses: saving and deleting them (each agent their own, leads the shared
//! ones), refusing an edit that would overwrite a change its console has not seen, and who
//! hears of each change: everyone of a shared one, only its owner of theirs.

use super::change_kind::ChangeKind;
use super::db::{Connection, DbError, Row};
use super::entities::{emit_private, emit_public};
use super::pool::WriteTx;
use super::{Result, StoreError};
use crate::params;
use crate::policy::Viewer;
use switchboard_protocol::model::CannedResponse;
use switchboard_protocol::mutation::{DeleteCanned, Outcome, SaveCanned};
use switchboard_protocol::sync::Change;
use switchboard_protocol::ErrorCode;

const COLUMNS: &str = "id, key, shortcut, title, body, owner_id, updated_by, updated_at, version";

fn response(r: &Row) -> Result<CannedResponse, DbError> {
    Ok(CannedResponse {
        id: r.int(0)?,
        key: r.text(1)?.to_owned(),
        shortcut: r.text(2)?.to_owned(),
        title: r.text(3)?.to_owned(),
        body: r.text(4)?.to_owned(),
        owner_id: r.opt_int(5)?,
        updated_by: r.opt_int(6)?,
        updated_at: r.int(7)?,
        version: r.int(8)?,
    })
}

/// The shared responses and `agent_id`'s own, by shortcut.
pub fn visible_to(c: &mut dyn Connection, agent_id: i64) -> Result<Vec<CannedResponse>> {
    let rows = c.query(
        &format!("SELECT {COLUMNS} FROM canned_responses WHERE owner_id IS NULL OR owner_id = ? ORDER BY shortcut, id"),
        params![agent_id],
    )?;
    Ok(rows.iter().map(response).collect::<Result<Vec<_>, _>>()?)
}

/// A stored response with the console that last changed it.
struct Stored {
    response: CannedResponse,
    client: Option<String>,
}

fn by_key(c: &mut dyn Connection, key: &str) -> Result<Option<Stored>> {
    let row =
        c.query_opt(&format!("SELECT {COLUMNS}, updated_client FROM canned_responses WHERE key = ?"), params![key])?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Stored { response: response(&r)?, client: r.opt_text(9)?.map(str::to_owned) }))
}

/// Whether an edit from console `client`, made on version `expected` of a response now at
/// `version` and last changed from `last_client`, would overwrite a change that console
/// has not seen. Without `expected` the editor chose to overwrite; a console's later edits
/// build on its own earlier ones, whether or not it has seen their echo.
pub fn overwrites_unseen(expected: Option<i64>, version: i64, last_client: Option<&str>, client: &str) -> bool {
    expected.is_some_and(|e| e != version && last_client != Some(client))
}

/// Refuses an edit of `stored` that would overwrite a change the console has not seen;
/// the conflict carries the response as it is now.
fn check_unseen(stored: &Stored, expected: Option<i64>, client: &str) -> Result<()> {
    if overwrites_unseen(expected, stored.response.version, stored.client.as_deref(), client) {
        return Err(StoreError::Conflict(Box::new(Change::Canned(stored.response.clone()))));
    }
    Ok(())
}

/// Refuses an agent who may not change a response owned by `owner`. Another agent's own
/// response is not found, as if it did not exist.
fn check_may_edit(v: &Viewer, owner: Option<i64>) -> Result<()> {
    if CannedResponse::editable_by(owner, v.agent_id, v.role) {
        return Ok(());
    }
    match owner {
        Some(_) => Err(StoreError::NotFound("canned response")),
        None => Err(StoreError::Forbidden("only a team lead can change the team's canned responses".into())),
    }
}

/// Tells whoever may use `r` that it is new or changed.
fn emit_saved(tx: &mut WriteTx<'_>, r: &CannedResponse) {
    let change = Change::Canned(r.clone());
    match r.owner_id {
        Some(owner) => emit_private(tx, ChangeKind::Canned, r.id, owner, &change),
        None => emit_public(tx, ChangeKind::Canned, r.id, &change),
    }
}

/// Tells whoever could use a response owned by `owner` that it is gone.
fn emit_removed(tx: &mut WriteTx<'_>, id: i64, owner: Option<i64>) {
    let change = Change::CannedRemoved { id };
    match owner {
        Some(owner) => emit_private(tx, ChangeKind::Canned, id, owner, &change),
        None => emit_public(tx, ChangeKind::Canned, id, &change),
    }
}

/// Creates the response with the save's key, or changes it. With `expected` (the version
/// the editor opened) the save is refused with a conflict when someone changed the response
/// since, and with `not_found` when it was deleted since.
pub fn save(tx: &mut WriteTx<'_>, v: &Viewer, client: &str, s: &SaveCanned, expected: Option<i64>) -> Result<Outcome> {
    let s = s.normalized().map_err(StoreError::BadRequest)?;
    let owner = if s.shared { None } else { Some(v.agent_id) };
    if s.shared {
        check_may_edit(v, None)
            .map_err(|_| StoreError::Forbidden("only a team lead can share a canned response with the team".into()))?;
    }
    let stored = by_key(tx.conn, &s.key)?;
    match &stored {
        Some(e) => {
            check_may_edit(v, e.response.owner_id)?;
            check_unseen(e, expected, client)?;
        }
        None if expected.is_some() => {
            return Err(StoreError::Refused(
                ErrorCode::NotFound,
                "the canned response was deleted since it was opened; saving it again creates it".into(),
            ))
        }
        None => {}
    }
    let existing = stored.map(|e| e.response);
    let clash = tx.conn.query_opt(
        "SELECT shortcut, title FROM canned_responses WHERE key <> ? AND shortcut = ? AND COALESCE(owner_id, 0) = ?",
        params![&s.key, &s.shortcut, owner.unwrap_or(0)],
    )?;
    if let Some(c) = clash {
        let whose = if s.shared { "the team's" } else { "your" };
        return Err(StoreError::BadRequest(format!(
            "/{} is already {whose} “{}”; choose another shortcut",
            c.text(0)?,
            c.text(1)?
        )));
    }
    let id = match &existing {
        Some(e) => {
            tx.conn.execute(
                "UPDATE canned_responses SET shortcut = ?, title = ?, body = ?, owner_id = ?, updated_by = ?, \
                 updated_client = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                params![&s.shortcut, &s.title, &s.body, owner, v.agent_id, client, tx.now, e.id],
            )?;
            e.id
        }
        None => tx.conn.query_int(
            "INSERT INTO canned_responses (key, owner_id, shortcut, title, body, updated_by, updated_client, \
             updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
            params![&s.key, owner, &s.shortcut, &s.title, &s.body, v.agent_id, client, tx.now],
        )?,
    };
    // Those who had it and no longer may use it (it stopped being shared) drop it first.
    if let Some(e) = existing.as_ref().filter(|e| e.owner_id != owner) {
        emit_removed(tx, id, e.owner_id);
    }
    let saved = by_key(tx.conn, &s.key)?.ok_or(StoreError::NotFound("canned response"))?;
    emit_saved(tx, &saved.response);
    Ok(Outcome::Applied)
}

/// Deletes the response with the key. Deleting one already gone is done. With `expected`
/// (the version the agent saw) the delete is refused with a conflict when someone changed
/// the response since.
pub fn delete(
    tx: &mut WriteTx<'_>,
    v: &Viewer,
    client: &str,
    d: &DeleteCanned,
    expected: Option<i64>,
) -> Result<Outcome> {
    if !d.key.chars().all(switchboard_protocol::text::keeps) {
        return Err(StoreError::BadRequest("a canned response's key must not hold control characters".into()));
    }
    let Some(stored) = by_key(tx.conn, d.key.trim())? else { return Ok(Outcome::Applied) };
    check_may_edit(v, stored.response.owner_id)?;
    check_unseen(&stored, expected, client)?;
    let existing = stored.response;
    tx.conn.execute("DELETE FROM canned_responses WHERE id = ?", params![existing.id])?;
    emit_removed(tx, existing.id, existing.owner_id);
    Ok(Outcome::Applied)
}

#[cfg(test)]
mod tests {
    use super::overwrites_unseen;

    #[test]
    fn which_edits_overwrite_an_unseen_change() {
        let cases = [
            // (expected, version now, last changed from, this console, refused)
            (None, 5, Some("other"), "desk", false),
            (Some(5), 5, Some("other"), "desk", false),
            (Some(4), 5, Some("other"), "desk", true),
            (Some(4), 5, None, "desk", true),
            (Some(4), 5, Some("desk"), "desk", false),
            (Some(6), 5, Some("other"), "desk", true),
        ];
        for (expected, version, last, client, want) in cases {
            assert_eq!(overwrites_unseen(expected, version, last, client), want, "{expected:?} {version} {last:?}");
        }
    }
}
