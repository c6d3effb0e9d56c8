//! The notification rule: whether a message arriving in the cache should raise a desktop
//! notification, as a pure function of what the cache knew before and after it. The core
//! decides; the desktop shell only displays.

use switchboard_protocol::console::Notification;
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Direction};
use switchboard_protocol::Id;

/// The agent the console is signed in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub agent_id: Id,
    pub teams: Vec<Id>,
}

/// The parts of a cached conversation the rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvFacts {
    pub assignee_id: Option<Id>,
    pub team_id: Id,
    pub status: ConversationStatus,
    /// `None` when the ball is with the customer.
    pub waiting_since: Option<i64>,
}

/// How the message reached the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Pushed live while the console was connected.
    Live,
    /// Fetched while catching up after being offline (or a re-sync).
    CatchUp,
}

/// One message as the rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub direction: Direction,
    /// Already announced (or decided against) once.
    pub already_decided: bool,
    /// The conversation as cached before the message arrived; `None` when it is new.
    pub before: Option<ConvFacts>,
    /// The conversation after the message arrived.
    pub after: ConvFacts,
    /// The agent has this conversation open in a focused window.
    pub focused: bool,
    pub arrival: Arrival,
}

/// Why the rule stayed quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quiet {
    NotFromCustomer,
    AlreadyDecided,
    NotMine,
    /// The customer was already waiting on us: this is a follow-up to an unanswered thread.
    AlreadyWaiting,
    Focused,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Notify,
    /// Counted into one summary line.
    Summarize,
    Quiet(Quiet),
}

/// Whether the conversation is the agent's to answer: assigned to them, or unassigned in
/// one of their teams.
pub fn is_mine(me: &Me, c: &ConvFacts) -> bool {
    match c.assignee_id {
        Some(a) => a == me.agent_id,
        None => me.teams.contains(&c.team_id),
    }
}

/// The rule.
pub fn decide(me: &Me, m: &Candidate) -> Decision {
    if m.direction != Direction::Inbound {
        return Decision::Quiet(Quiet::NotFromCustomer);
    }
    if m.already_decided {
        return Decision::Quiet(Quiet::AlreadyDecided);
    }
    if !is_mine(me, &m.after) {
        return Decision::Quiet(Quiet::NotMine);
    }
    let was_waiting_on_customer = match m.before {
        None => true,
        Some(b) => b.waiting_since.is_none() || b.status != ConversationStatus::Open,
    };
    if !was_waiting_on_customer {
        return Decision::Quiet(Quiet::AlreadyWaiting);
    }
    if m.focused {
        return Decision::Quiet(Quiet::Focused);
    }
    match m.arrival {
        Arrival::Live => Decision::Notify,
        Arrival::CatchUp => Decision::Summarize,
    }
}

/// A message the rule said yes (or "summarise") to, with what a notification shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    pub decision: Decision,
    pub conversation_id: Id,
    pub message_id: Id,
    pub contact_id: Id,
    pub contact_name: String,
    pub channel: ChannelKind,
    pub text: String,
}

/// The longest text a notification shows.
const MAX_TEXT: usize = 200;

fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_TEXT {
        return flat;
    }
    let cut: String = flat.chars().take(MAX_TEXT - 1).collect();
    format!("{}…", cut.trim_end())
}

/// Turns the decisions of one applied batch into notifications: each live one on its own;
/// catch-up ones as a single summary, unless only one customer replied.
pub fn notifications(announced: &[Announced]) -> Vec<Notification> {
    let mut out = Vec::new();
    let mut caught_up: Vec<&Announced> = Vec::new();
    for a in announced {
        match a.decision {
            Decision::Notify => out.push(reply(a)),
            Decision::Summarize => caught_up.push(a),
            Decision::Quiet(_) => {}
        }
    }
    let mut customers: Vec<Id> = caught_up.iter().map(|a| a.contact_id).collect();
    customers.sort_unstable();
    customers.dedup();
    match customers.len() {
        0 => {}
        1 => {
            if let Some(last) = caught_up.last() {
                out.push(reply(last));
            }
        }
        n => {
            let customers = u32::try_from(n).unwrap_or(u32::MAX);
            let messages = u32::try_from(caught_up.len()).unwrap_or(u32::MAX);
            out.push(Notification::Summary {
                customers,
                messages,
                text: format!("{customers} customers replied while you were away"),
            });
        }
    }
    out
}

fn reply(a: &Announced) -> Notification {
    Notification::Reply {
        conversation_id: a.conversation_id,
        message_id: a.message_id,
        contact_name: a.contact_name.clone(),
        channel: a.channel,
        text: excerpt(&a.text),
    }
}

/// A notification's text with the markup characters (`&`, `<`, `>`) escaped, for the
/// notification daemons that read the body as markup (those of Linux desktops): the
/// customer's words are shown as written, never as bold, links or images.
pub fn escape_markup(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding: Linux notifications rendered customer text as markup.
    #[test]
    fn customer_text_in_a_notification_is_never_markup() {
        for (text, shown) in [
            ("Tracking number please?", "Tracking number please?"),
            (
                "<b>Urgent</b> & <a href=\"https://x.example\">click</a>",
                "&lt;b&gt;Urgent&lt;/b&gt; &amp; &lt;a href=\"https://x.example\"&gt;click&lt;/a&gt;",
            ),
            ("&lt; already", "&amp;lt; already"),
            ("<img src=x>", "&lt;img src=x&gt;"),
        ] {
            assert_eq!(escape_markup(text), shown, "{text}");
        }
    }
    use ConversationStatus::{Open, Resolved, Snoozed};
    use Direction::{Inbound, Note, Outbound, System};

    const ME: Id = 7;
    const OTHER: Id = 8;
    const MY_TEAM: Id = 1;
    const OTHER_TEAM: Id = 2;

    fn me() -> Me {
        Me { agent_id: ME, teams: vec![MY_TEAM] }
    }

    fn conv(assignee: Option<Id>, team: Id, status: ConversationStatus, waiting: Option<i64>) -> ConvFacts {
        ConvFacts { assignee_id: assignee, team_id: team, status, waiting_since: waiting }
    }

    /// (case, direction, already decided, before, after, focused, arrival, expected)
    type Row = (&'static str, Direction, bool, Option<ConvFacts>, ConvFacts, bool, Arrival, Decision);

    #[test]
    fn the_rule() {
        let mine_answered = conv(Some(ME), MY_TEAM, Open, None);
        let mine_waiting = conv(Some(ME), MY_TEAM, Open, Some(100));
        let unassigned_mine = conv(None, MY_TEAM, Open, Some(100));
        let unassigned_answered = conv(None, MY_TEAM, Open, None);
        let others = conv(Some(OTHER), MY_TEAM, Open, Some(100));
        let other_team = conv(None, OTHER_TEAM, Open, Some(100));
        let resolved = conv(Some(ME), MY_TEAM, Resolved, None);
        let snoozed = conv(Some(ME), MY_TEAM, Snoozed, Some(50));
        use Arrival::{CatchUp, Live};
        #[rustfmt::skip]
        let table: &[Row] = &[
            ("my thread, I had answered", Inbound, false, Some(mine_answered), mine_waiting, false, Live, Decision::Notify),
            ("a new conversation, unassigned in my team", Inbound, false, None, unassigned_mine, false, Live, Decision::Notify),
            ("a new conversation assigned to me", Inbound, false, None, mine_waiting, false, Live, Decision::Notify),
            ("unassigned in my team, answered before", Inbound, false, Some(unassigned_answered), unassigned_mine, false, Live, Decision::Notify),
            ("a resolved thread reopened by the customer", Inbound, false, Some(resolved), mine_waiting, false, Live, Decision::Notify),
            ("a snoozed thread woken by the customer", Inbound, false, Some(snoozed), mine_waiting, false, Live, Decision::Notify),
            ("a follow-up while the customer already waits", Inbound, false, Some(mine_waiting), mine_waiting, false, Live, Decision::Quiet(Quiet::AlreadyWaiting)),
            ("another agent's thread", Inbound, false, Some(unassigned_answered), others, false, Live, Decision::Quiet(Quiet::NotMine)),
            ("another team's inbox", Inbound, false, None, other_team, false, Live, Decision::Quiet(Quiet::NotMine)),
            ("my own reply", Outbound, false, Some(mine_waiting), mine_answered, false, Live, Decision::Quiet(Quiet::NotFromCustomer)),
            ("a note", Note, false, Some(mine_answered), mine_answered, false, Live, Decision::Quiet(Quiet::NotFromCustomer)),
            ("a system line", System, false, Some(mine_answered), mine_answered, false, Live, Decision::Quiet(Quiet::NotFromCustomer)),
            ("the same message again", Inbound, true, Some(mine_answered), mine_waiting, false, Live, Decision::Quiet(Quiet::AlreadyDecided)),
            ("the thread is open and focused", Inbound, false, Some(mine_answered), mine_waiting, true, Live, Decision::Quiet(Quiet::Focused)),
            ("caught up after being offline", Inbound, false, Some(mine_answered), mine_waiting, false, CatchUp, Decision::Summarize),
            ("caught up, but not mine", Inbound, false, Some(mine_answered), other_team, false, CatchUp, Decision::Quiet(Quiet::NotMine)),
        ];
        for (what, direction, already, before, after, focused, arrival, want) in table {
            let c = Candidate {
                direction: *direction,
                already_decided: *already,
                before: *before,
                after: *after,
                focused: *focused,
                arrival: *arrival,
            };
            assert_eq!(decide(&me(), &c), *want, "{what}");
        }
    }

    fn announced(decision: Decision, contact: Id, message: Id) -> Announced {
        Announced {
            decision,
            conversation_id: contact * 10,
            message_id: message,
            contact_id: contact,
            contact_name: format!("Customer {contact}"),
            channel: ChannelKind::Sms,
            text: format!("message {message}"),
        }
    }

    #[test]
    fn catching_up_gives_one_summary_not_a_flood() {
        let batch: Vec<Announced> = (1..=5).map(|i| announced(Decision::Summarize, i, 100 + i)).collect();
        let mut with_second = batch.clone();
        with_second.push(announced(Decision::Summarize, 3, 200));
        let out = notifications(&with_second);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0],
            Notification::Summary { customers: 5, messages: 6, text: "5 customers replied while you were away".into() }
        );
    }

    #[test]
    fn one_customer_caught_up_is_announced_by_name() {
        let out = notifications(&[announced(Decision::Summarize, 4, 1), announced(Decision::Summarize, 4, 2)]);
        assert!(
            matches!(&out[..], [Notification::Reply { message_id: 2, contact_name, .. }] if contact_name == "Customer 4")
        );
    }

    #[test]
    fn live_replies_each_get_one_and_quiet_ones_none() {
        let out = notifications(&[
            announced(Decision::Notify, 1, 1),
            announced(Decision::Quiet(Quiet::NotMine), 2, 2),
            announced(Decision::Notify, 3, 3),
        ]);
        assert_eq!(out.len(), 2);
        assert!(notifications(&[]).is_empty());
    }

    #[test]
    fn long_texts_are_cut_and_flattened() {
        assert_eq!(excerpt("Hello\n\n  there"), "Hello there");
        let long = "word ".repeat(100);
        let e = excerpt(&long);
        assert!(e.chars().count() <= MAX_TEXT && e.ends_with('…'));
    }
}
