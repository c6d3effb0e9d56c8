//! Reconciliation: the one place that knows which echo from the feed retires which pending
//! outbox row. A reply or note is retired by the stored line carrying its `client_msg_id`;
//! a canned response's edit, once the hub has confirmed it, by the hub's copy of that
//! response (or its removal). A new kind of optimistic edit adds its rule here.

use crate::cache::apply::Echo;
use crate::error::Result;
use rusqlite::{Connection, OptionalExtension};
use switchboard_protocol::articles::Article;
use switchboard_protocol::model::CannedResponse;
use switchboard_protocol::mutation::{Mutation, MutationEnvelope};
use switchboard_protocol::Id;

/// The outbox rows that edit canned responses, as an SQL condition.
pub const CANNED_EDITS: &str = "name IN ('save_canned', 'delete_canned')";

/// The outbox rows that edit articles, as an SQL condition.
pub const ARTICLE_EDITS: &str = "name IN ('save_article', 'delete_article')";

/// Whether an outbox row named `name` edits an article.
pub fn is_article_edit(name: &str) -> bool {
    matches!(name, "save_article" | "delete_article")
}

/// Whether an outbox row named `name` edits a canned response.
pub fn is_canned_edit(name: &str) -> bool {
    matches!(name, "save_canned" | "delete_canned")
}

/// Whether outbox row `id` edits a canned response (and so changes the list the agent
/// sees while it waits).
pub fn edits_canned(c: &Connection, id: Id) -> Result<bool> {
    let name: Option<String> =
        c.prepare_cached("SELECT name FROM ob.outbox WHERE id = ?1")?.query_row([id], |r| r.get(0)).optional()?;
    Ok(name.as_deref().is_some_and(is_canned_edit))
}

/// Retires the rows that `echoes` confirm: every row of a line that came back (whatever
/// its state: the hub has it), and the confirmed edits of a canned response whose copy
/// came (an edit still waiting for the hub's answer stays, and shows over the copy).
pub fn retire(c: &Connection, echoes: &[Echo]) -> Result<()> {
    for echo in echoes {
        match echo {
            Echo::Line(client_msg_id) => {
                c.prepare_cached("DELETE FROM ob.outbox WHERE client_msg_id = ?1")?.execute([client_msg_id])?;
            }
            Echo::Canned(key) => {
                c.prepare_cached(&format!(
                    "DELETE FROM ob.outbox WHERE state = 'acknowledged' AND {CANNED_EDITS} \
                     AND json_extract(envelope, '$.args.key') = ?1"
                ))?
                .execute([key])?;
            }
            Echo::Article(key) => {
                c.prepare_cached(&format!(
                    "DELETE FROM ob.outbox WHERE state = 'acknowledged' AND {ARTICLE_EDITS} \
                     AND json_extract(envelope, '$.args.key') = ?1"
                ))?
                .execute([key])?;
            }
        }
    }
    Ok(())
}

/// Retires every confirmed canned edit: a bootstrap has brought the hub's copies of all.
pub fn retire_after_bootstrap(c: &Connection) -> Result<()> {
    c.execute(&format!("DELETE FROM ob.outbox WHERE state = 'acknowledged' AND {CANNED_EDITS}"), [])?;
    c.execute(&format!("DELETE FROM ob.outbox WHERE state = 'acknowledged' AND {ARTICLE_EDITS}"), [])?;
    Ok(())
}

/// Whether the cache already holds the echo of outbox row `id`, so that the hub's
/// acknowledgement can retire it at once: a line stored with its `client_msg_id`, or a
/// canned response showing the edit. A row of any other kind has no echo to wait for.
pub fn echoed(c: &Connection, id: Id) -> Result<bool> {
    let row: Option<(String, Option<String>, String)> = c
        .prepare_cached("SELECT name, client_msg_id, envelope FROM ob.outbox WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((name, client_msg_id, envelope)) = row else { return Ok(true) };
    if is_canned_edit(&name) {
        return canned_reflected(c, &serde_json::from_str::<MutationEnvelope>(&envelope)?.mutation);
    }
    if is_article_edit(&name) {
        return article_reflected(c, &serde_json::from_str::<MutationEnvelope>(&envelope)?.mutation);
    }
    match client_msg_id {
        None => Ok(true),
        Some(id) => Ok(c
            .prepare_cached("SELECT 1 FROM messages WHERE client_msg_id = ?1")?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some()),
    }
}

/// Whether the cache shows a canned edit: the saved text under its key, or, for a delete,
/// no response under it.
fn canned_reflected(c: &Connection, mutation: &Mutation) -> Result<bool> {
    let cached = |key: &str| -> Result<Option<CannedResponse>> {
        let json: Option<String> = c
            .prepare_cached("SELECT json FROM canned_responses WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    };
    Ok(match mutation {
        Mutation::SaveCanned(s) => cached(&s.key)?.is_some_and(|r| {
            (r.shortcut.as_str(), r.title.as_str(), r.body.as_str(), r.owner_id.is_none())
                == (s.shortcut.as_str(), s.title.as_str(), s.body.as_str(), s.shared)
        }),
        Mutation::DeleteCanned(d) => cached(&d.key)?.is_none(),
        _ => true,
    })
}

/// Whether the cache shows an article edit: the saved text under its key, or, for a
/// delete, no article under it.
fn article_reflected(c: &Connection, mutation: &Mutation) -> Result<bool> {
    let cached = |key: &str| -> Result<Option<Article>> {
        let json: Option<String> =
            c.prepare_cached("SELECT json FROM articles WHERE key = ?1")?.query_row([key], |r| r.get(0)).optional()?;
        Ok(json.map(|j| serde_json::from_str(&j)).transpose()?)
    };
    Ok(match mutation {
        Mutation::SaveArticle(s) => cached(&s.key)?.is_some_and(|a| {
            (a.title.as_str(), a.body.as_str(), a.status, &a.tags)
                == (s.title.as_str(), s.body.as_str(), s.status, &s.tags)
        }),
        Mutation::DeleteArticle(d) => cached(&d.key)?.is_none(),
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::Cache;
    use crate::outbox::Outbox;
    use std::sync::Arc;
    use switchboard_protocol::mutation::{AddNote, Assign, DeleteCanned, Outcome, SaveCanned};

    fn save(key: &str, title: &str) -> Mutation {
        Mutation::SaveCanned(SaveCanned {
            key: key.into(),
            shortcut: format!("s{key}"),
            title: title.into(),
            body: "text".into(),
            shared: false,
        })
    }

    fn note(client_msg_id: &str) -> Mutation {
        Mutation::AddNote(AddNote { conversation_id: 1, client_msg_id: client_msg_id.into(), body: "n".into() })
    }

    /// Which rows each echo retires, by the state the row is in.
    #[test]
    fn each_echo_retires_only_its_own_rows() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(Cache::open(dir.path()).unwrap());
        let outbox = Outbox::new(cache.clone());
        let waiting_note = outbox.enqueue(note("a"), None).unwrap();
        let other_note = outbox.enqueue(note("b"), None).unwrap();
        let waiting_edit = outbox.enqueue(save("k", "waiting"), None).unwrap();
        let confirmed_edit = outbox.enqueue(save("k", "confirmed"), None).unwrap();
        let other_key = outbox.enqueue(save("j", "confirmed"), None).unwrap();
        let delete = outbox.enqueue(Mutation::DeleteCanned(DeleteCanned { key: "k".into() }), None).unwrap();
        let assign = outbox
            .enqueue(Mutation::Assign(Assign { conversation_id: 1, agent_id: Some(None), team_id: None }), Some(1))
            .unwrap();
        outbox.settle(&[(confirmed_edit, Outcome::Applied), (other_key, Outcome::Applied)]).unwrap();
        let left = || -> Vec<Id> { outbox.items().unwrap().into_iter().map(|i| i.id).collect() };

        cache.write(|c| retire(c, &[Echo::Line("a".into())])).unwrap();
        assert_eq!(left(), vec![other_note, waiting_edit, confirmed_edit, other_key, delete, assign]);
        assert!(!left().contains(&waiting_note));

        cache.write(|c| retire(c, &[Echo::Canned("k".into())])).unwrap();
        assert_eq!(
            left(),
            vec![other_note, waiting_edit, other_key, delete, assign],
            "only the confirmed edit of that key goes"
        );

        cache.write(|c| retire_after_bootstrap(c)).unwrap();
        assert_eq!(left(), vec![other_note, waiting_edit, delete, assign]);
    }

    #[test]
    fn rows_without_an_echo_to_wait_for_are_echoed_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(Cache::open(dir.path()).unwrap());
        let outbox = Outbox::new(cache.clone());
        let assign = outbox
            .enqueue(Mutation::Assign(Assign { conversation_id: 1, agent_id: Some(None), team_id: None }), Some(1))
            .unwrap();
        let line = outbox.enqueue(note("c"), None).unwrap();
        let edit = outbox.enqueue(save("k", "t"), None).unwrap();
        let delete = outbox.enqueue(Mutation::DeleteCanned(DeleteCanned { key: "gone".into() }), None).unwrap();
        let echoed = |id| cache.read(|c| echoed(c, id)).unwrap();
        assert!(echoed(assign));
        assert!(!echoed(line), "the line is not stored yet");
        assert!(!echoed(edit), "the cache has no response under the key");
        assert!(echoed(delete), "the cache has no response under the key: deleted");
        assert!(echoed(9_999), "a row that is gone");
        assert!(cache.read(|c| edits_canned(c, edit)).unwrap());
        assert!(!cache.read(|c| edits_canned(c, line)).unwrap());
    }
}
