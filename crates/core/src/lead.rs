//! What a team lead works with: which controls a role is offered, the people and teams a
//! thread can be assigned to (and the inboxes whose routing a lead sets), and the load panel (each agent's open conversations and
//! oldest waiting customer). The hub enforces roles on every call; this only decides what
//! the console shows.

use crate::cache::rows::{json_rows, me};
use crate::cache::Cache;
use crate::error::Result;
use switchboard_protocol::console::{AgentLoad, Directory, Permissions, View, ViewCount};
use switchboard_protocol::model::{Agent, Inbox, Role, Team};

/// The controls a role is offered.
pub fn permissions(role: Role) -> Permissions {
    let lead = matches!(role, Role::Lead | Role::Admin);
    Permissions {
        reassign: lead,
        oversee: lead,
        merge_contacts: lead,
        share_canned: switchboard_protocol::model::CannedResponse::editable_by(None, 0, role),
        edit_articles: lead,
    }
}

/// The number on the tray and dock icon: unread conversations that are the agent's to
/// answer (theirs, and unassigned ones in their teams).
pub fn badge(counts: &[ViewCount]) -> u64 {
    counts.iter().filter(|c| matches!(c.view, View::Mine | View::Unassigned)).map(|c| c.unread).sum()
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Cache {
    /// The signed-in agent, what their role offers, and everyone they can assign to.
    pub fn directory(&self) -> Result<Directory> {
        self.read(|c| {
            let me = me(c)?;
            let agents = json_rows(c, "SELECT json FROM agents ORDER BY name", [])?;
            let mut teams: Vec<Team> = json_rows(c, "SELECT json FROM teams", [])?;
            teams.sort_by(|a, b| a.name.cmp(&b.name));
            let mut inboxes: Vec<Inbox> = json_rows(c, "SELECT json FROM inboxes", [])?;
            inboxes.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(Directory { permissions: permissions(me.role), me, agents, teams, inboxes })
        })
    }

    /// Each agent's open conversations, how many of those wait on an answer, and since
    /// when the longest has waited; the unassigned ones last. Busiest waiting first.
    pub fn team_load(&self) -> Result<Vec<AgentLoad>> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT a.json, count(v.id), COALESCE(sum(v.waiting_since IS NOT NULL), 0), min(v.waiting_since) \
                 FROM agents a LEFT JOIN conversations v ON v.assignee_id = a.id AND v.status = 'open' \
                 GROUP BY a.id",
            )?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, Option<i64>>(3)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (json, open, waiting, oldest) = row?;
                let agent: Agent = serde_json::from_str(&json)?;
                if agent.role == Role::Admin && open == 0 {
                    continue;
                }
                out.push(AgentLoad {
                    agent_id: Some(agent.id),
                    name: agent.name,
                    presence: Some(agent.presence),
                    capacity: agent.capacity,
                    open: count(open),
                    waiting: count(waiting),
                    oldest_waiting_since: oldest,
                });
            }
            out.sort_by(|a, b| {
                (a.oldest_waiting_since.is_none(), a.oldest_waiting_since, &a.name).cmp(&(
                    b.oldest_waiting_since.is_none(),
                    b.oldest_waiting_since,
                    &b.name,
                ))
            });
            let (open, waiting, oldest): (i64, i64, Option<i64>) = c
                .prepare_cached(
                    "SELECT count(*), COALESCE(sum(waiting_since IS NOT NULL), 0), min(waiting_since) \
                     FROM conversations WHERE status = 'open' AND assignee_id IS NULL",
                )?
                .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            out.push(AgentLoad {
                agent_id: None,
                name: "Unassigned".into(),
                presence: None,
                capacity: 0,
                open: count(open),
                waiting: count(waiting),
                oldest_waiting_since: oldest,
            });
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_counts_what_is_mine_to_answer() {
        let c = |view, unread| ViewCount { view, total: 10, unread };
        let counts = [
            c(View::Mine, 2),
            c(View::Unassigned, 3),
            c(View::MyTeams, 9),
            c(View::All, 40),
            c(View::Waiting, 4),
            c(View::Closed, 1),
        ];
        assert_eq!(badge(&counts), 5);
        assert_eq!(badge(&[]), 0);
    }

    #[test]
    fn controls_by_role() {
        let none = Permissions {
            reassign: false,
            oversee: false,
            merge_contacts: false,
            share_canned: false,
            edit_articles: false,
        };
        let all = Permissions {
            reassign: true,
            oversee: true,
            merge_contacts: true,
            share_canned: true,
            edit_articles: true,
        };
        for (role, want) in [(Role::Agent, none), (Role::Lead, all), (Role::Admin, all)] {
            assert_eq!(permissions(role), want, "{role:?}");
        }
    }
}
