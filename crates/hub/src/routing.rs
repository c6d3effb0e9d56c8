//! Who gets which queued conversation: the routing decision as one pure function over the
//! queue and the agents, table-tested, plus the small rules about when a conversation
//! joins or leaves the queue. The store reads the rows, calls [`plan`] under the routing
//! lock and writes what it says.

use switchboard_protocol::model::{ConversationStatus, Presence, Priority, RoutingMode, RoutingPolicy};
use switchboard_protocol::Timestamp;

/// An agent as routing sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i64,
    pub teams: Vec<i64>,
    pub presence: Presence,
    pub paused: bool,
    pub capacity: u32,
    /// Open conversations they hold now.
    pub load: u32,
    pub skills: Vec<String>,
    /// When routing last gave them a conversation (0: never).
    pub last_routed_at: Timestamp,
}

impl Candidate {
    fn has(&self, skill: &str) -> bool {
        self.skills.iter().any(|s| s.eq_ignore_ascii_case(skill))
    }
}

/// A conversation waiting in the queue, with what routing needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub team_id: i64,
    pub priority: Priority,
    pub queued_at: Timestamp,
    /// Its inbox's policy, or its team's.
    pub policy: RoutingPolicy,
    /// The agent who last served the contact (for sticky policies).
    pub last_agent: Option<i64>,
    /// The skill the contact's profile asks for (`language:es`), if the policy reads one.
    pub wanted_skill: Option<String>,
    /// The agent it was taken back from for leaving the customer unanswered: anyone else
    /// is preferred.
    pub passed_over: Option<i64>,
}

/// Why an agent was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The contact's previous agent.
    Sticky,
    RoundRobin,
    LeastLoaded,
}

/// One conversation given to one agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub conversation_id: i64,
    pub agent_id: i64,
    pub why: Why,
}

/// Gives queued conversations to agents, in queue order (higher priority first, then the
/// longest queued): each to an online, unpaused member of its team with a free slot and
/// every skill its policy requires; the contact's last agent first when the policy is
/// sticky; agents with the skill the contact asks for before the others; then by the
/// policy's mode. A conversation nobody can take stays queued and the next one is tried,
/// so a full team never holds up another team's queue. No agent is given more than
/// `capacity - load`.
pub fn plan(queue: &[Queued], agents: &[Candidate]) -> Vec<Placement> {
    let mut order: Vec<&Queued> = queue.iter().filter(|q| q.policy.routes()).collect();
    order.sort_by_key(|q| (q.priority, q.queued_at, q.id));
    let mut agents: Vec<Candidate> = agents.to_vec();
    let mut stamp = agents.iter().map(|a| a.last_routed_at).max().unwrap_or(0);
    let mut out = Vec::new();
    for q in order {
        let able: Vec<usize> = (0..agents.len())
            .filter(|&i| {
                let a = &agents[i];
                a.presence == Presence::Online
                    && !a.paused
                    && a.load < a.capacity
                    && a.teams.contains(&q.team_id)
                    && q.policy.skills.iter().all(|s| a.has(s))
            })
            .collect();
        let others: Vec<usize> = able.iter().copied().filter(|&i| Some(agents[i].id) != q.passed_over).collect();
        let able = if others.is_empty() { able } else { others };
        if able.is_empty() {
            continue;
        }
        let sticky = q
            .policy
            .sticky
            .then_some(q.last_agent)
            .flatten()
            .and_then(|id| able.iter().copied().find(|&i| agents[i].id == id));
        let chosen = match sticky {
            Some(i) => Some((i, Why::Sticky)),
            None => {
                let skilled: Vec<usize> = match &q.wanted_skill {
                    Some(s) => able.iter().copied().filter(|&i| agents[i].has(s)).collect(),
                    None => Vec::new(),
                };
                let pool = if skilled.is_empty() { &able } else { &skilled };
                match q.policy.mode {
                    RoutingMode::LeastLoaded => pool
                        .iter()
                        .copied()
                        .min_by_key(|&i| (agents[i].load, agents[i].last_routed_at, agents[i].id))
                        .map(|i| (i, Why::LeastLoaded)),
                    _ => pool
                        .iter()
                        .copied()
                        .min_by_key(|&i| (agents[i].last_routed_at, agents[i].id))
                        .map(|i| (i, Why::RoundRobin)),
                }
            }
        };
        let Some((chosen, why)) = chosen else { continue };
        stamp += 1;
        let a = &mut agents[chosen];
        a.load += 1;
        a.last_routed_at = stamp;
        out.push(Placement { conversation_id: q.id, agent_id: a.id, why });
    }
    out
}

/// Whether a conversation belongs in its team's queue: open, nobody's, and under a policy
/// that routes.
pub fn belongs_in_queue(status: ConversationStatus, assignee: Option<i64>, routes: bool) -> bool {
    routes && status == ConversationStatus::Open && assignee.is_none()
}

/// Whether an agent has left a waiting customer unanswered too long: the customer has
/// waited `reassign_after_mins` since they wrote or since the agent got the conversation,
/// whichever is later.
pub fn silent_too_long(
    waiting_since: Option<Timestamp>,
    held_since: Timestamp,
    reassign_after_mins: Option<u32>,
    now: Timestamp,
) -> bool {
    match (waiting_since, reassign_after_mins) {
        (Some(w), Some(m)) => now - w.max(held_since) >= i64::from(m) * 60_000,
        _ => false,
    }
}

/// Whether an agent who shows as present has had no console open for the grace period,
/// and should show offline. `last_seen_at` is the last moment one of their consoles was
/// connected (`None`: never).
pub fn gone(presence: Presence, last_seen_at: Option<Timestamp>, grace_ms: i64, now: Timestamp) -> bool {
    presence != Presence::Offline && last_seen_at.is_none_or(|seen| now - seen >= grace_ms)
}

/// The line a conversation gets when it goes back to the queue.
pub fn return_line(agent: &str, why: ReturnReason) -> String {
    match why {
        ReturnReason::Away => format!("Back in the queue: {agent} is away."),
        ReturnReason::Offline => format!("Back in the queue: {agent} went offline."),
        ReturnReason::Silent { mins } => {
            format!("Back in the queue: the customer waited {mins} minutes for an answer from {agent}.")
        }
    }
}

/// Why a conversation went back to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnReason {
    Away,
    Offline,
    Silent { mins: u32 },
}

impl ReturnReason {
    /// As stored in `assignments.end_reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReturnReason::Away => "away",
            ReturnReason::Offline => "offline",
            ReturnReason::Silent { .. } => "silent",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEAM: i64 = 1;
    const OTHER_TEAM: i64 = 2;

    fn agent(id: i64, load: u32, capacity: u32) -> Candidate {
        Candidate {
            id,
            teams: vec![TEAM],
            presence: Presence::Online,
            paused: false,
            capacity,
            load,
            skills: vec![],
            last_routed_at: 0,
        }
    }

    fn policy(mode: RoutingMode) -> RoutingPolicy {
        RoutingPolicy { mode, ..RoutingPolicy::default() }
    }

    fn queued(id: i64, at: Timestamp, mode: RoutingMode) -> Queued {
        Queued {
            id,
            team_id: TEAM,
            priority: Priority::Normal,
            queued_at: at,
            policy: policy(mode),
            last_agent: None,
            wanted_skill: None,
            passed_over: None,
        }
    }

    fn given(p: &[Placement]) -> Vec<(i64, i64)> {
        p.iter().map(|p| (p.conversation_id, p.agent_id)).collect()
    }

    use RoutingMode::{LeastLoaded, Manual, RoundRobin};

    #[test]
    fn routing_table() {
        let with = |mut a: Candidate, f: &dyn Fn(&mut Candidate)| {
            f(&mut a);
            a
        };
        let q = |mut x: Queued, f: &dyn Fn(&mut Queued)| {
            f(&mut x);
            x
        };
        #[allow(clippy::type_complexity)]
        let cases: Vec<(&str, Vec<Queued>, Vec<Candidate>, Vec<(i64, i64)>)> = vec![
            (
                "least loaded takes the emptiest",
                vec![queued(100, 1, LeastLoaded)],
                vec![agent(1, 3, 5), agent(2, 1, 5)],
                vec![(100, 2)],
            ),
            (
                "ties go to the one routed to longest ago, then the lower id",
                vec![queued(100, 1, LeastLoaded), queued(101, 2, LeastLoaded)],
                vec![with(agent(1, 1, 5), &|a| a.last_routed_at = 50), agent(2, 1, 5), agent(3, 1, 5)],
                vec![(100, 2), (101, 3)],
            ),
            (
                "round robin ignores load and rotates",
                vec![queued(100, 1, RoundRobin), queued(101, 2, RoundRobin), queued(102, 3, RoundRobin)],
                vec![with(agent(1, 0, 5), &|a| a.last_routed_at = 9), with(agent(2, 4, 9), &|a| a.last_routed_at = 3)],
                vec![(100, 2), (101, 1), (102, 2)],
            ),
            (
                "capacity is never exceeded; the rest stays queued",
                vec![queued(100, 1, LeastLoaded), queued(101, 2, LeastLoaded), queued(102, 3, LeastLoaded)],
                vec![agent(1, 2, 3), agent(2, 3, 3)],
                vec![(100, 1)],
            ),
            (
                "only online, unpaused members of the team",
                vec![queued(100, 1, LeastLoaded)],
                vec![
                    with(agent(1, 0, 5), &|a| a.presence = Presence::Away),
                    with(agent(2, 0, 5), &|a| a.presence = Presence::Offline),
                    with(agent(3, 0, 5), &|a| a.paused = true),
                    with(agent(4, 0, 5), &|a| a.teams = vec![OTHER_TEAM]),
                    agent(5, 4, 5),
                ],
                vec![(100, 5)],
            ),
            (
                "nobody online: nothing moves",
                vec![queued(100, 1, RoundRobin)],
                vec![with(agent(1, 0, 5), &|a| a.presence = Presence::Away)],
                vec![],
            ),
            (
                "priority first, then the longest queued",
                vec![
                    queued(100, 1, LeastLoaded),
                    q(queued(101, 5, LeastLoaded), &|x| x.priority = Priority::Urgent),
                    q(queued(102, 0, LeastLoaded), &|x| x.priority = Priority::Low),
                    queued(103, 0, LeastLoaded),
                ],
                vec![agent(1, 0, 2)],
                vec![(101, 1), (103, 1)],
            ),
            (
                "the contact's last agent when sticky and free",
                vec![q(queued(100, 1, LeastLoaded), &|x| {
                    x.policy.sticky = true;
                    x.last_agent = Some(1);
                })],
                vec![agent(1, 4, 5), agent(2, 0, 5)],
                vec![(100, 1)],
            ),
            (
                "a sticky agent who is full or away is passed",
                vec![
                    q(queued(100, 1, LeastLoaded), &|x| {
                        x.policy.sticky = true;
                        x.last_agent = Some(1);
                    }),
                    q(queued(101, 2, LeastLoaded), &|x| {
                        x.policy.sticky = true;
                        x.last_agent = Some(3);
                    }),
                ],
                vec![agent(1, 5, 5), agent(2, 0, 5), with(agent(3, 0, 5), &|a| a.presence = Presence::Away)],
                vec![(100, 2), (101, 2)],
            ),
            (
                "not sticky: the last agent is just another agent",
                vec![q(queued(100, 1, LeastLoaded), &|x| x.last_agent = Some(1))],
                vec![agent(1, 4, 5), agent(2, 0, 5)],
                vec![(100, 2)],
            ),
            (
                "required skills are required",
                vec![q(queued(100, 1, LeastLoaded), &|x| x.policy.skills = vec!["product:billing".into()])],
                vec![agent(1, 0, 5), with(agent(2, 4, 5), &|a| a.skills = vec!["Product:Billing".into()])],
                vec![(100, 2)],
            ),
            (
                "required skills nobody has: it waits",
                vec![q(queued(100, 1, LeastLoaded), &|x| x.policy.skills = vec!["language:fr".into()])],
                vec![agent(1, 0, 5)],
                vec![],
            ),
            (
                "the contact's language goes first to those who speak it",
                vec![q(queued(100, 1, LeastLoaded), &|x| x.wanted_skill = Some("language:es".into()))],
                vec![agent(1, 0, 5), with(agent(2, 3, 5), &|a| a.skills = vec!["language:es".into()])],
                vec![(100, 2)],
            ),
            (
                "and to anyone when no speaker is free",
                vec![q(queued(100, 1, LeastLoaded), &|x| x.wanted_skill = Some("language:es".into()))],
                vec![agent(1, 0, 5), with(agent(2, 5, 5), &|a| a.skills = vec!["language:es".into()])],
                vec![(100, 1)],
            ),
            (
                "a conversation taken back from a silent agent moves on",
                vec![q(queued(100, 1, LeastLoaded), &|x| x.passed_over = Some(1))],
                vec![agent(1, 0, 5), agent(2, 4, 5)],
                vec![(100, 2)],
            ),
            (
                "unless that agent is the only one who can take it",
                vec![q(queued(100, 1, LeastLoaded), &|x| x.passed_over = Some(1))],
                vec![agent(1, 0, 5), with(agent(2, 0, 5), &|a| a.presence = Presence::Away)],
                vec![(100, 1)],
            ),
            (
                "a full team does not hold up another team's queue",
                vec![queued(100, 1, LeastLoaded), q(queued(101, 2, LeastLoaded), &|x| x.team_id = OTHER_TEAM)],
                vec![agent(1, 5, 5), with(agent(2, 0, 5), &|a| a.teams = vec![OTHER_TEAM])],
                vec![(101, 2)],
            ),
            ("manual policies are never routed", vec![queued(100, 1, Manual)], vec![agent(1, 0, 5)], vec![]),
            ("no capacity at all", vec![queued(100, 1, LeastLoaded)], vec![agent(1, 0, 0)], vec![]),
        ];
        for (name, queue, agents, want) in cases {
            assert_eq!(given(&plan(&queue, &agents)), want, "{name}");
        }
    }

    #[test]
    fn a_plan_never_gives_anyone_more_than_their_free_slots() {
        let agents: Vec<Candidate> = (1..=20).map(|i| agent(i, (i % 4) as u32, 3 + (i % 3) as u32)).collect();
        let queue: Vec<Queued> =
            (0..500).map(|i| queued(1000 + i, i, if i % 2 == 0 { LeastLoaded } else { RoundRobin })).collect();
        let placed = plan(&queue, &agents);
        let free: u32 = agents.iter().map(|a| a.capacity.saturating_sub(a.load)).sum();
        assert_eq!(placed.len(), free as usize, "every free slot is filled");
        for a in &agents {
            let got = placed.iter().filter(|p| p.agent_id == a.id).count() as u32;
            assert!(a.load + got <= a.capacity, "agent {} got {got} over a load of {}", a.id, a.load);
        }
        let mut ids: Vec<i64> = placed.iter().map(|p| p.conversation_id).collect();
        ids.dedup();
        assert_eq!(ids.len(), placed.len(), "no conversation placed twice");
        assert_eq!(ids, (1000..1000 + placed.len() as i64).collect::<Vec<_>>(), "in queue order");
    }

    #[test]
    fn the_queue_is_open_unassigned_conversations_of_routed_policies() {
        use ConversationStatus::{Open, Pending, Resolved, Snoozed};
        for (status, assignee, routes, want) in [
            (Open, None, true, true),
            (Open, Some(1), true, false),
            (Open, None, false, false),
            (Pending, None, true, false),
            (Snoozed, None, true, false),
            (Resolved, None, true, false),
        ] {
            assert_eq!(belongs_in_queue(status, assignee, routes), want, "{status:?} {assignee:?} {routes}");
        }
    }

    #[test]
    fn silence_is_counted_from_the_later_of_the_wait_and_the_assignment() {
        const MIN: i64 = 60_000;
        for (waiting, held, after, now, want) in [
            (Some(0), 0, Some(10), 10 * MIN, true),
            (Some(0), 0, Some(10), 10 * MIN - 1, false),
            (Some(0), 5 * MIN, Some(10), 14 * MIN, false),
            (Some(0), 5 * MIN, Some(10), 15 * MIN, true),
            (None, 0, Some(10), 99 * MIN, false),
            (Some(0), 0, None, 99 * MIN, false),
        ] {
            assert_eq!(silent_too_long(waiting, held, after, now), want, "{waiting:?} {held} {after:?} {now}");
        }
    }

    #[test]
    fn presence_ends_after_the_grace_period_without_a_console() {
        for (presence, seen, now, want) in [
            (Presence::Online, Some(0), 119_999, false),
            (Presence::Online, Some(0), 120_000, true),
            (Presence::Away, Some(0), 120_000, true),
            (Presence::Offline, Some(0), 999_999, false),
            (Presence::Online, None, 0, true),
        ] {
            assert_eq!(gone(presence, seen, 120_000, now), want, "{presence:?} {seen:?} {now}");
        }
    }
}
