//! Who may see and do what. Pure decisions over the caller and the thing acted on,
//! enforced by the hub on every call and table-tested here.

use switchboard_protocol::model::Role;

/// The caller of an API: an agent with a role and the teams they belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub agent_id: i64,
    pub role: Role,
    pub teams: Vec<i64>,
}

impl Viewer {
    /// The hub's own command line, acting as an admin who is nobody (an import's author).
    pub fn command_line() -> Viewer {
        Viewer { agent_id: 0, role: Role::Admin, teams: Vec::new() }
    }

    /// Whether a conversation of `team_id` is in this viewer's scope.
    pub fn sees_team(&self, team_id: i64) -> bool {
        self.role == Role::Admin || self.teams.contains(&team_id)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// A conversation as far as permissions care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub team_id: i64,
    pub assignee_id: Option<i64>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// Out of the caller's scope: answered as "not found" so nothing leaks.
    Hidden,
    /// In scope, but the role does not allow it.
    Forbidden(&'static str),
}

/// Replying, noting, changing status and marking read: anyone who sees the conversation.
pub fn may_work_on(v: &Viewer, conv: Scope) -> Result<(), Denied> {
    if v.sees_team(conv.team_id) {
        Ok(())
    } else {
        Err(Denied::Hidden)
    }
}

/// Moving a conversation to `to_agent` (None: nobody) in `to_team`.
///
/// Admins may do anything; leads may reassign any conversation of their teams, to any
/// agent or team; agents may only claim an unassigned conversation for themselves or
/// release their own, within its team.
pub fn may_assign(v: &Viewer, conv: Scope, to_agent: Option<i64>, to_team: i64) -> Result<(), Denied> {
    may_work_on(v, conv)?;
    match v.role {
        Role::Admin | Role::Lead => Ok(()),
        Role::Agent => {
            if to_team != conv.team_id {
                return Err(Denied::Forbidden("only leads can move a conversation to another team"));
            }
            match (conv.assignee_id, to_agent) {
                (from, to) if from == to => Ok(()),
                (None, Some(me)) if me == v.agent_id => Ok(()),
                (Some(me), None) if me == v.agent_id => Ok(()),
                (None, Some(_)) => Err(Denied::Forbidden("agents can only claim a conversation for themselves")),
                _ => Err(Denied::Forbidden("only leads can reassign a conversation")),
            }
        }
    }
}

/// Merging two contacts: leads and admins, and a lead only for contacts they can see.
pub fn may_merge(v: &Viewer, into_visible: bool, from_visible: bool) -> Result<(), Denied> {
    if !(into_visible && from_visible) {
        return Err(Denied::Hidden);
    }
    match v.role {
        Role::Admin | Role::Lead => Ok(()),
        Role::Agent => Err(Denied::Forbidden("only leads can merge contacts")),
    }
}

/// Setting how a team's conversations are routed: the team's leads and admins.
pub fn may_manage_routing(v: &Viewer, team_id: i64) -> Result<(), Denied> {
    if !v.sees_team(team_id) {
        return Err(Denied::Hidden);
    }
    match v.role {
        Role::Admin | Role::Lead => Ok(()),
        Role::Agent => Err(Denied::Forbidden("only leads can change how a team's conversations are routed")),
    }
}

/// Setting an agent's capacity, skills and routing pause: admins, and leads of a team the
/// agent is in.
pub fn may_manage_agent(v: &Viewer, agent_teams: &[i64]) -> Result<(), Denied> {
    match v.role {
        Role::Admin => Ok(()),
        Role::Lead if agent_teams.iter().any(|t| v.teams.contains(t)) => Ok(()),
        Role::Lead => Err(Denied::Forbidden("leads can change routing only for agents of their teams")),
        Role::Agent => Err(Denied::Forbidden("only leads can change an agent's routing")),
    }
}

/// Reading reports: leads for their teams (`None`: all of them) and admins for any.
pub fn may_read_reports(v: &Viewer, team_id: Option<i64>) -> Result<(), Denied> {
    match (v.role, team_id) {
        (Role::Agent, _) => Err(Denied::Forbidden("only leads and admins can read reports")),
        (_, Some(t)) if !v.sees_team(t) => Err(Denied::Hidden),
        _ => Ok(()),
    }
}

/// Managing agents, teams and inboxes.
pub fn may_administer(v: &Viewer) -> Result<(), Denied> {
    if v.is_admin() {
        Ok(())
    } else {
        Err(Denied::Forbidden("only admins can manage agents, teams and inboxes"))
    }
}

/// Writing, changing, publishing and deleting knowledge-base articles: leads and admins.
pub fn may_edit_articles(v: &Viewer) -> Result<(), Denied> {
    match v.role {
        Role::Lead | Role::Admin => Ok(()),
        Role::Agent => Err(Denied::Forbidden("only leads and admins can change the knowledge base")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_edit_articles() {
        let cases = [(Role::Agent, false), (Role::Lead, true), (Role::Admin, true)];
        for (role, want) in cases {
            assert_eq!(may_edit_articles(&viewer(role)).is_ok(), want, "{role:?}");
        }
    }

    const ME: i64 = 1;
    const OTHER: i64 = 2;
    const MY_TEAM: i64 = 10;
    const OTHER_TEAM: i64 = 20;

    fn viewer(role: Role) -> Viewer {
        Viewer { agent_id: ME, role, teams: vec![MY_TEAM] }
    }

    fn conv(team_id: i64, assignee_id: Option<i64>) -> Scope {
        Scope { team_id, assignee_id }
    }

    #[test]
    fn work_on_follows_team_scope() {
        for (role, team, ok) in [
            (Role::Agent, MY_TEAM, true),
            (Role::Agent, OTHER_TEAM, false),
            (Role::Lead, MY_TEAM, true),
            (Role::Lead, OTHER_TEAM, false),
            (Role::Admin, OTHER_TEAM, true),
        ] {
            assert_eq!(may_work_on(&viewer(role), conv(team, None)).is_ok(), ok, "{role:?} on team {team}");
        }
    }

    #[test]
    fn assign_table() {
        use Role::*;
        let forbidden = |r: Result<(), Denied>| matches!(r, Err(Denied::Forbidden(_)));
        // (case, role, conversation, to agent, to team, expected)
        type Case = (&'static str, Role, Scope, Option<i64>, i64, &'static str);
        let cases: &[Case] = &[
            ("agent claims unassigned", Agent, conv(MY_TEAM, None), Some(ME), MY_TEAM, "ok"),
            ("agent releases own", Agent, conv(MY_TEAM, Some(ME)), None, MY_TEAM, "ok"),
            ("agent gives unassigned to other", Agent, conv(MY_TEAM, None), Some(OTHER), MY_TEAM, "forbidden"),
            ("agent takes someone else's", Agent, conv(MY_TEAM, Some(OTHER)), Some(ME), MY_TEAM, "forbidden"),
            ("agent unassigns someone else", Agent, conv(MY_TEAM, Some(OTHER)), None, MY_TEAM, "forbidden"),
            ("agent moves team", Agent, conv(MY_TEAM, Some(ME)), Some(ME), OTHER_TEAM, "forbidden"),
            ("agent outside scope", Agent, conv(OTHER_TEAM, None), Some(ME), OTHER_TEAM, "hidden"),
            ("lead reassigns", Lead, conv(MY_TEAM, Some(OTHER)), Some(ME), MY_TEAM, "ok"),
            ("lead moves team", Lead, conv(MY_TEAM, Some(OTHER)), None, OTHER_TEAM, "ok"),
            ("lead outside scope", Lead, conv(OTHER_TEAM, Some(OTHER)), Some(ME), OTHER_TEAM, "hidden"),
            ("admin anything", Admin, conv(OTHER_TEAM, Some(OTHER)), Some(ME), MY_TEAM, "ok"),
        ];
        for (name, role, scope, to_agent, to_team, want) in cases {
            let got = may_assign(&viewer(*role), *scope, *to_agent, *to_team);
            let ok = match *want {
                "ok" => got.is_ok(),
                "forbidden" => forbidden(got.clone()),
                _ => got == Err(Denied::Hidden),
            };
            assert!(ok, "{name}: got {got:?}, want {want}");
        }
    }

    #[test]
    fn merge_and_admin_table() {
        assert!(may_merge(&viewer(Role::Agent), true, true).is_err());
        assert!(may_merge(&viewer(Role::Lead), true, true).is_ok());
        assert_eq!(may_merge(&viewer(Role::Lead), true, false), Err(Denied::Hidden));
        assert!(may_merge(&viewer(Role::Admin), true, true).is_ok());
        assert!(may_administer(&viewer(Role::Agent)).is_err());
        assert!(may_administer(&viewer(Role::Lead)).is_err());
        assert!(may_administer(&viewer(Role::Admin)).is_ok());
    }

    #[test]
    fn routing_settings_table() {
        use Role::*;
        for (role, team, ok) in
            [(Agent, MY_TEAM, false), (Lead, MY_TEAM, true), (Lead, OTHER_TEAM, false), (Admin, OTHER_TEAM, true)]
        {
            assert_eq!(may_manage_routing(&viewer(role), team).is_ok(), ok, "{role:?} routing of team {team}");
        }
        assert_eq!(may_manage_routing(&viewer(Lead), OTHER_TEAM), Err(Denied::Hidden));
        for (role, teams, ok) in [
            (Agent, vec![MY_TEAM], false),
            (Lead, vec![MY_TEAM], true),
            (Lead, vec![OTHER_TEAM, MY_TEAM], true),
            (Lead, vec![OTHER_TEAM], false),
            (Lead, vec![], false),
            (Admin, vec![], true),
        ] {
            assert_eq!(may_manage_agent(&viewer(role), &teams).is_ok(), ok, "{role:?} for an agent of {teams:?}");
        }
    }

    #[test]
    fn who_reads_reports() {
        use Role::*;
        let cases = [
            (Agent, Some(MY_TEAM), "forbidden"),
            (Agent, None, "forbidden"),
            (Lead, Some(MY_TEAM), "ok"),
            (Lead, None, "ok"),
            (Lead, Some(OTHER_TEAM), "hidden"),
            (Admin, Some(OTHER_TEAM), "ok"),
            (Admin, None, "ok"),
        ];
        for (role, team, want) in cases {
            let got = match may_read_reports(&viewer(role), team) {
                Ok(()) => "ok",
                Err(Denied::Hidden) => "hidden",
                Err(Denied::Forbidden(_)) => "forbidden",
            };
            assert_eq!(got, want, "{role:?} {team:?}");
        }
    }
}
