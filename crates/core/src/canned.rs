//! Canned responses: the shared ones and the agent's own, as synced from the hub with the
//! agent's unconfirmed saves and deletes from the outbox laid over them, so an edit shows
//! at once, offline too; and how their placeholders are filled in. Who may change which,
//! and which shortcuts clash, are pure rules the hub applies as well.

use crate::cache::rows::me;
use crate::cache::Cache;
use crate::error::{CoreError, Result};
use crate::outbox;
use rusqlite::{Connection, OptionalExtension};
use switchboard_protocol::console::{CannedOption, OutboxState};
use switchboard_protocol::model::{Agent, CannedResponse};
use switchboard_protocol::mutation::{DeleteCanned, Mutation, SaveCanned};
use switchboard_protocol::{ApiError, ErrorCode, Id, Timestamp};

/// Whether `agent` may change a response owned by `owner` (`None`: shared): their own
/// always, the shared ones when they lead.
pub fn may_edit(agent: &Agent, owner: Option<Id>) -> bool {
    CannedResponse::editable_by(owner, agent.id, agent.role)
}

/// A saved response another one's shortcut would clash with: two of the shared ones, or
/// two of one agent's own, may not share a shortcut. An agent's own may repeat a shared
/// one's; the composer then lists both.
pub fn clash<'a>(
    list: impl IntoIterator<Item = &'a CannedResponse>,
    key: &str,
    shortcut: &str,
    owner: Option<Id>,
) -> Option<&'a CannedResponse> {
    list.into_iter().find(|r| r.key != key && r.owner_id == owner && r.shortcut == shortcut)
}

/// One edit from the outbox the cache does not show yet, oldest first: waiting for the
/// hub, or `confirmed` by it with the feed's copy still to come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Save { save: SaveCanned, at: Timestamp, confirmed: bool },
    Delete { key: String },
}

/// The responses `me` has: the synced ones with `edits` applied in order, sorted by
/// shortcut (the agent's own before a shared one with the same shortcut).
pub fn overlay(synced: Vec<CannedResponse>, edits: &[Edit], me: &Agent) -> Vec<CannedOption> {
    let mut list: Vec<CannedOption> =
        synced.into_iter().map(|response| CannedOption { response, pending: false, editable: false }).collect();
    for edit in edits {
        match edit {
            Edit::Delete { key } => list.retain(|o| &o.response.key != key),
            Edit::Save { save, at, confirmed } => {
                let owner_id = if save.shared { None } else { Some(me.id) };
                let existing = list.iter_mut().find(|o| o.response.key == save.key);
                let (id, version) = existing.as_ref().map_or((0, 0), |o| (o.response.id, o.response.version));
                let response = CannedResponse {
                    id,
                    key: save.key.clone(),
                    shortcut: save.shortcut.clone(),
                    title: save.title.clone(),
                    body: save.body.clone(),
                    owner_id,
                    updated_by: Some(me.id),
                    updated_at: *at,
                    version,
                };
                let option = CannedOption { response, pending: !confirmed, editable: false };
                match existing {
                    Some(o) => *o = option,
                    None => list.push(option),
                }
            }
        }
    }
    for o in &mut list {
        o.editable = may_edit(me, o.response.owner_id);
    }
    list.sort_by(|a, b| {
        (&a.response.shortcut, a.response.owner_id.is_none(), &a.response.key).cmp(&(
            &b.response.shortcut,
            b.response.owner_id.is_none(),
            &b.response.key,
        ))
    });
    list
}

fn synced(c: &Connection) -> Result<Vec<CannedResponse>> {
    let mut st = c.prepare_cached("SELECT json FROM canned_responses")?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for json in rows {
        out.push(serde_json::from_str(&json?)?);
    }
    Ok(out)
}

/// The saves and deletes in the outbox: waiting to be sent, or confirmed by the hub but not
/// yet in the cache. A refused one (stuck) is not shown: the agent is told, and the list
/// shows what the hub has.
fn edits(c: &Connection) -> Result<Vec<Edit>> {
    let mut out = Vec::new();
    for row in outbox::unconfirmed_canned_edits(c)? {
        let confirmed = row.state == OutboxState::Acknowledged;
        match row.mutation {
            Mutation::SaveCanned(save) => out.push(Edit::Save { save, at: row.created_at, confirmed }),
            Mutation::DeleteCanned(d) => out.push(Edit::Delete { key: d.key }),
            _ => {}
        }
    }
    Ok(out)
}

/// The first word of a name ("Ana" for "Ana María López").
fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or("")
}

/// Fills a canned response's placeholders. Unknown placeholders are left as written, so a
/// typo shows in the composer instead of vanishing.
pub fn expand(text: &str, customer_name: &str, agent_name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let value = match after[..end].trim() {
            "customer.name" => Some(customer_name),
            "customer.first_name" => Some(first_name(customer_name)),
            "agent.name" => Some(agent_name),
            "agent.first_name" => Some(first_name(agent_name)),
            _ => None,
        };
        match value {
            Some(v) => out.push_str(v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The canned responses the agent has, as the composer and the editor show them.
pub(crate) fn list(c: &Connection) -> Result<Vec<CannedOption>> {
    Ok(overlay(synced(c)?, &edits(c)?, &me(c)?))
}

fn forbidden(message: &str) -> CoreError {
    CoreError::Hub(ApiError::new(ErrorCode::Forbidden, message))
}

impl Cache {
    /// The canned responses the agent has: the shared ones and their own.
    pub fn canned(&self) -> Result<Vec<CannedOption>> {
        self.read(|c| list(c))
    }

    /// A canned response's text with the customer's and the agent's names filled in.
    pub fn expand_canned(&self, key: &str, conversation_id: Id) -> Result<String> {
        self.read(|c| {
            let body = list(c)?
                .into_iter()
                .find(|o| o.response.key == key)
                .map(|o| o.response.body)
                .ok_or(CoreError::NotFound("canned response"))?;
            let customer: String = c
                .prepare_cached(
                    "SELECT COALESCE(k.name, '') FROM conversations v LEFT JOIN contacts k ON k.id = v.contact_id \
                     WHERE v.id = ?1",
                )?
                .query_row([conversation_id], |r| r.get(0))
                .optional()?
                .ok_or(CoreError::NotFound("conversation"))?;
            Ok(expand(&body, &customer, &me(c)?.name))
        })
    }

    /// Checks a save against what the agent has, as the hub will: the fields, who may
    /// change the response, and its shortcut. Returns the save as it will be stored.
    pub fn check_canned_save(&self, save: &SaveCanned) -> Result<SaveCanned> {
        let save = save.normalized().map_err(CoreError::BadRequest)?;
        self.read(|c| {
            let me = me(c)?;
            let list = list(c)?;
            if let Some(existing) = list.iter().find(|o| o.response.key == save.key) {
                if !existing.editable {
                    return Err(forbidden("only a team lead can change the team's canned responses"));
                }
            }
            if save.shared && !may_edit(&me, None) {
                return Err(forbidden("only a team lead can share a canned response with the team"));
            }
            let owner = if save.shared { None } else { Some(me.id) };
            if let Some(other) = clash(list.iter().map(|o| &o.response), &save.key, &save.shortcut, owner) {
                return Err(CoreError::BadRequest(format!("/{} is already “{}”", other.shortcut, other.title)));
            }
            Ok(save)
        })
    }

    /// Checks that the agent may delete the response with `key`.
    pub fn check_canned_delete(&self, key: &str) -> Result<DeleteCanned> {
        let found = self.read(|c| list(c))?.into_iter().find(|o| o.response.key == key);
        match found {
            None => Err(CoreError::NotFound("canned response")),
            Some(o) if !o.editable => Err(forbidden("only a team lead can delete the team's canned responses")),
            Some(_) => Ok(DeleteCanned { key: key.to_owned() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let cases = [
            ("Hi {{customer.first_name}}", "Hi Ana"),
            ("{{customer.name}} / {{agent.name}}", "Ana María López / Maya Okafor"),
            ("— {{ agent.first_name }}", "— Maya"),
            ("{{customer.email}} stays", "{{customer.email}} stays"),
            ("unclosed {{customer.name", "unclosed {{customer.name"),
            ("{{}}", "{{}}"),
            ("no placeholders", "no placeholders"),
            ("{{agent.first_name}}{{agent.first_name}}", "MayaMaya"),
        ];
        for (text, want) in cases {
            assert_eq!(expand(text, "Ana María López", "Maya Okafor"), want, "{text}");
        }
        assert_eq!(expand("Hi {{customer.first_name}}!", "", "Maya"), "Hi !");
    }
    use switchboard_protocol::model::Role;

    fn agent(id: Id, role: Role) -> Agent {
        Agent {
            id,
            name: format!("Agent {id}"),
            email: format!("a{id}@example.com"),
            role,
            teams: vec![1],
            capacity: 10,
            presence: switchboard_protocol::model::Presence::Online,
            disabled: false,
            skills: vec![],
            routing_paused: false,
            version: 1,
        }
    }

    fn response(id: Id, key: &str, shortcut: &str, owner_id: Option<Id>) -> CannedResponse {
        CannedResponse {
            id,
            key: key.into(),
            shortcut: shortcut.into(),
            title: format!("Title {shortcut}"),
            body: format!("Body {shortcut}"),
            owner_id,
            updated_by: None,
            updated_at: 1,
            version: 3,
        }
    }

    fn save(key: &str, shortcut: &str, shared: bool) -> Edit {
        Edit::Save {
            save: SaveCanned {
                key: key.into(),
                shortcut: shortcut.into(),
                title: "New".into(),
                body: "New body".into(),
                shared,
            },
            at: 50,
            confirmed: false,
        }
    }

    #[test]
    fn who_may_edit() {
        let cases = [
            (Role::Agent, Some(7), true),
            (Role::Agent, Some(8), false),
            (Role::Agent, None, false),
            (Role::Lead, None, true),
            (Role::Lead, Some(8), false),
            (Role::Admin, None, true),
        ];
        for (role, owner, want) in cases {
            assert_eq!(may_edit(&agent(7, role), owner), want, "{role:?} {owner:?}");
        }
    }

    #[test]
    fn clashes() {
        let list = [response(1, "a", "hi", None), response(2, "b", "hi", Some(7)), response(3, "c", "bye", Some(8))];
        let cases = [
            ("new", "hi", None, Some("a")),
            ("new", "hi", Some(7), Some("b")),
            ("new", "hi", Some(8), None),
            ("a", "hi", None, None),
            ("new", "bye", Some(7), None),
            ("new", "bye", Some(8), Some("c")),
        ];
        for (key, shortcut, owner, want) in cases {
            assert_eq!(clash(&list, key, shortcut, owner).map(|r| r.key.as_str()), want, "{key} {shortcut} {owner:?}");
        }
    }

    #[test]
    fn overlays() {
        let synced = || vec![response(1, "a", "hi", None), response(2, "b", "order", Some(7))];
        let me = agent(7, Role::Agent);
        // (what, the edits, then each response's key, shortcut, pending and editable)
        type Listed<'a> = Vec<(&'a str, &'a str, bool, bool)>;
        let cases: [(&str, Vec<Edit>, Listed<'_>); 5] = [
            ("nothing pending", vec![], vec![("a", "hi", false, false), ("b", "order", false, true)]),
            (
                "a new one",
                vec![save("n", "bye", false)],
                vec![("n", "bye", true, true), ("a", "hi", false, false), ("b", "order", false, true)],
            ),
            (
                "an edit keeps its place by shortcut",
                vec![save("b", "aaa", false)],
                vec![("b", "aaa", true, true), ("a", "hi", false, false)],
            ),
            ("a delete", vec![Edit::Delete { key: "b".into() }], vec![("a", "hi", false, false)]),
            (
                "saved, changed, then deleted offline",
                vec![save("n", "x", false), save("n", "y", false), Edit::Delete { key: "n".into() }],
                vec![("a", "hi", false, false), ("b", "order", false, true)],
            ),
        ];
        for (what, edits, want) in cases {
            let got: Vec<_> = overlay(synced(), &edits, &me)
                .into_iter()
                .map(|o| (o.response.key, o.response.shortcut, o.pending, o.editable))
                .collect();
            let want: Vec<_> = want.into_iter().map(|(k, s, p, e)| (k.to_owned(), s.to_owned(), p, e)).collect();
            assert_eq!(got, want, "{what}");
        }
        // An edit keeps the hub's id and version; a new one has neither yet.
        let edited = overlay(synced(), &[save("b", "order", false), save("n", "z", false)], &me);
        let ids: Vec<_> = edited.iter().map(|o| (o.response.key.as_str(), o.response.id, o.response.version)).collect();
        assert_eq!(ids, vec![("a", 1, 3), ("b", 2, 3), ("n", 0, 0)]);
        // The agent's own comes before a shared one with the same shortcut.
        let mine_first = overlay(synced(), &[save("m", "hi", false)], &me);
        assert_eq!(mine_first[0].response.key, "m");
        assert_eq!(mine_first[0].response.owner_id, Some(7));
        // A lead's shared save belongs to nobody and stays editable for them.
        let lead = overlay(synced(), &[save("s", "zz", true)], &agent(9, Role::Lead));
        let shared = lead.iter().find(|o| o.response.key == "s").unwrap();
        assert_eq!((shared.response.owner_id, shared.editable), (None, true));
    }

    #[test]
    fn a_confirmed_edit_shows_until_the_feed_brings_it_and_a_refused_one_goes() {
        use crate::cache::apply::{apply_change, Applied};
        use crate::outbox::{reconcile, Outbox};
        use switchboard_protocol::mutation::Outcome;
        use switchboard_protocol::sync::Change;
        let dir = tempfile::tempdir().unwrap();
        let cache = std::sync::Arc::new(Cache::open(dir.path()).unwrap());
        let outbox = Outbox::new(cache.clone());
        cache.write(|c| crate::cache::apply::set_me(c, &agent(7, Role::Agent))).unwrap();
        let save = |title: &str| {
            Mutation::SaveCanned(SaveCanned {
                key: "k".into(),
                shortcut: "ship".into(),
                title: title.into(),
                body: "It ships.".into(),
                shared: false,
            })
        };
        let apply = |change: Change| {
            cache
                .write(|c| {
                    let mut applied = Applied::default();
                    apply_change(c, &change, &mut applied)?;
                    reconcile::retire(c, &applied.echoes)
                })
                .unwrap()
        };
        let shown = || cache.canned().unwrap().into_iter().map(|o| (o.response.title, o.pending)).collect::<Vec<_>>();
        let copy = CannedResponse {
            id: 40,
            key: "k".into(),
            shortcut: "ship".into(),
            title: "Ships".into(),
            body: "It ships.".into(),
            owner_id: Some(7),
            updated_by: Some(7),
            updated_at: 1,
            version: 1,
        };

        let first = outbox.enqueue(save("Ships"), None).unwrap();
        assert_eq!(shown(), vec![("Ships".to_owned(), true)]);
        // The hub confirms before its copy comes down the feed: still shown, not pending.
        outbox.settle(&[(first, Outcome::Applied)]).unwrap();
        assert_eq!(shown(), vec![("Ships".to_owned(), false)]);
        // The copy arrives: the outbox row goes.
        apply(Change::Canned(copy.clone()));
        assert!(outbox.items().unwrap().is_empty());
        assert_eq!(shown(), vec![("Ships".to_owned(), false)]);

        // The copy comes first, then the answer: the answer retires the row at once.
        let second = outbox.enqueue(save("Ships today"), None).unwrap();
        apply(Change::Canned(CannedResponse { title: "Ships today".into(), version: 2, ..copy.clone() }));
        outbox.settle(&[(second, Outcome::Applied)]).unwrap();
        assert!(outbox.items().unwrap().is_empty());

        // A refused edit is not shown: the list is what the hub has.
        let third = outbox.enqueue(save("Nope"), None).unwrap();
        let refusal = ApiError::new(ErrorCode::BadRequest, "no");
        outbox.settle(&[(third, Outcome::Rejected { error: refusal })]).unwrap();
        assert_eq!(shown(), vec![("Ships today".to_owned(), false)]);
        outbox.discard(third).unwrap();

        // A confirmed delete keeps it hidden until the removal arrives.
        let delete = outbox.enqueue(Mutation::DeleteCanned(DeleteCanned { key: "k".into() }), None).unwrap();
        outbox.settle(&[(delete, Outcome::Applied)]).unwrap();
        assert_eq!(shown(), vec![]);
        apply(Change::CannedRemoved { id: 40 });
        assert!(outbox.items().unwrap().is_empty());
        assert_eq!(shown(), vec![]);
    }
}
