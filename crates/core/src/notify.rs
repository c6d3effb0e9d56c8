//! The notification rules: whether a message arriving in the cache, or a change to a
//! conversation (given to the agent, back from snooze), should raise a desktop
//! notification, as pure functions of what the cache knew before and after it. The core
//! decides; the desktop shell only displays. The agent's preferences ([`by_preference`])
//! then say whether what is news is shown now, with sound, and with the customer's words.

use switchboard_protocol::console::Notification;
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Direction, SlaState};
use switchboard_protocol::preferences::{NotificationPreferences, QuietHours};
use switchboard_protocol::Id;

/// The agent the console is signed in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub agent_id: Id,
    pub teams: Vec<Id>,
    /// A lead or admin: told when a target of their teams is missed.
    pub lead: bool,
}

/// The parts of a cached conversation the rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvFacts {
    pub assignee_id: Option<Id>,
    pub team_id: Id,
    pub status: ConversationStatus,
    /// `None` when the ball is with the customer.
    pub waiting_since: Option<i64>,
    /// Waiting in the team's queue for routing to give it to someone.
    pub queued: bool,
    /// Where it stands against its response-time targets.
    pub sla: SlaState,
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
    /// The agent did it themself (claimed a conversation).
    OwnDoing,
    /// A bot is answering: nobody's to answer until it hands over.
    WithBot,
    /// The agent turned this kind of notification off.
    TurnedOff,
    /// The agent muted the conversation's inbox.
    Muted,
    /// Do not disturb: set for now, or the agent's quiet hours.
    DoNotDisturb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Notify,
    /// Counted into one summary line.
    Summarize,
    Quiet(Quiet),
}

/// Whether the conversation is the agent's to answer: assigned to them, or unassigned in
/// one of their teams and not waiting for routing to give it to someone (whoever gets it is
/// told then).
pub fn is_mine(me: &Me, c: &ConvFacts) -> bool {
    match c.assignee_id {
        Some(a) => a == me.agent_id,
        None => me.teams.contains(&c.team_id) && !c.queued,
    }
}

/// Something that happened to a conversation itself, rather than a message in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Given to the agent, by routing (`by` none) or by someone else.
    Assigned { by: Option<Id> },
    /// Back from snooze because its time came (not because the customer wrote).
    Woke,
    /// A response-time target is near (told to the assignee).
    AtRisk,
    /// A response-time target was missed (told to the assignee and the team's leads).
    Breached,
}

impl Event {
    /// The preference that governs its notification.
    pub fn topic(self) -> Topic {
        match self {
            Event::Assigned { .. } => Topic::Assigned,
            Event::Woke => Topic::SnoozeWoke,
            Event::AtRisk | Event::Breached => Topic::Sla,
        }
    }
}

/// A conversation change as the event rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvChange {
    /// As cached before; `None` when the conversation is new to the cache.
    pub before: Option<ConvFacts>,
    pub after: ConvFacts,
    /// Who made the change (`None`: the hub itself: routing, a snooze ending).
    pub updated_by: Option<Id>,
    /// The customer wrote in the same batch: their message is the news, and wakes it.
    pub customer_wrote: bool,
    pub focused: bool,
    pub arrival: Arrival,
}

/// What, if anything, a conversation change means to the agent, and whether to say so.
/// Each change is seen once (the cache keeps only newer versions), so no event is announced
/// twice.
pub fn decide_change(me: &Me, c: &ConvChange) -> Option<(Event, Decision)> {
    let open = c.after.status == ConversationStatus::Open;
    let now_mine = c.after.assignee_id == Some(me.agent_id);
    let was_mine = c.before.is_some_and(|b| b.assignee_id == Some(me.agent_id));
    let sla_now = c.after.status != ConversationStatus::Resolved && c.before.is_some_and(|b| b.sla != c.after.sla);
    let lead_of_team = me.lead && me.teams.contains(&c.after.team_id);
    let event = if open && now_mine && !was_mine {
        Event::Assigned { by: c.updated_by }
    } else if sla_now && c.after.sla == SlaState::Breached && (now_mine || lead_of_team) {
        Event::Breached
    } else if sla_now && c.after.sla == SlaState::AtRisk && now_mine {
        Event::AtRisk
    } else if open
        && c.before.is_some_and(|b| b.status == ConversationStatus::Snoozed)
        && !c.customer_wrote
        && is_mine(me, &c.after)
    {
        Event::Woke
    } else {
        return None;
    };
    let decision = if c.updated_by == Some(me.agent_id) {
        Decision::Quiet(Quiet::OwnDoing)
    } else if c.focused {
        Decision::Quiet(Quiet::Focused)
    } else {
        match c.arrival {
            Arrival::Live => Decision::Notify,
            Arrival::CatchUp => Decision::Summarize,
        }
    };
    Some((event, decision))
}

/// The rule.
pub fn decide(me: &Me, m: &Candidate) -> Decision {
    if m.direction != Direction::Inbound {
        return Decision::Quiet(Quiet::NotFromCustomer);
    }
    if m.already_decided {
        return Decision::Quiet(Quiet::AlreadyDecided);
    }
    if m.after.status == ConversationStatus::Bot {
        return Decision::Quiet(Quiet::WithBot);
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

/// What a notification is about, as the agent's preferences name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    CustomerReplied,
    Assigned,
    Sla,
    SnoozeWoke,
}

/// The console's local time of week, for quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// 0 is Monday, 6 is Sunday.
    pub weekday: u8,
    /// Minutes after local midnight.
    pub minute: u16,
}

/// Whether the agent's preferences keep a notification about `topic` in `inbox_id` quiet
/// at `now` (the clock) and `local` (the console's time of week), and why.
pub fn by_preference(
    p: &NotificationPreferences,
    topic: Topic,
    inbox_id: Id,
    now: i64,
    local: LocalTime,
) -> Option<Quiet> {
    let on = match topic {
        Topic::CustomerReplied => p.customer_replied,
        Topic::Assigned => p.assigned,
        Topic::Sla => p.sla,
        Topic::SnoozeWoke => p.snooze_woke,
    };
    if !on {
        Some(Quiet::TurnedOff)
    } else if p.muted_inboxes.contains(&inbox_id) {
        Some(Quiet::Muted)
    } else if p.do_not_disturb_until.is_some_and(|until| now < until)
        || p.quiet_hours.as_ref().is_some_and(|q| in_quiet_hours(q, local))
    {
        Some(Quiet::DoNotDisturb)
    } else {
        None
    }
}

/// Whether `local` falls in a span of the quiet hours: one that started today, or one that
/// started yesterday and runs past midnight (a span ending at or before its start does;
/// one ending where it starts lasts the whole day).
pub fn in_quiet_hours(q: &QuietHours, local: LocalTime) -> bool {
    let overnight = q.to_minute <= q.from_minute;
    let started_today = q.days.contains(&local.weekday);
    let started_yesterday = q.days.contains(&((local.weekday + 6) % 7));
    if overnight {
        (started_today && local.minute >= q.from_minute) || (started_yesterday && local.minute < q.to_minute)
    } else {
        started_today && local.minute >= q.from_minute && local.minute < q.to_minute
    }
}

/// How a notification is shown, by the agent's preferences: with the system's sound or
/// without, and with the customer's words or only who and where.
pub fn shown(mut n: Notification, p: &NotificationPreferences) -> (Notification, bool) {
    if !p.show_text {
        match &mut n {
            Notification::Reply { text, .. }
            | Notification::Assigned { text, .. }
            | Notification::Woke { text, .. } => {
                text.clear();
            }
            Notification::Summary { .. } | Notification::Sla { .. } => {}
        }
    }
    (n, p.sound)
}

/// What an announcement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    /// A customer's message.
    Reply {
        message_id: Id,
    },
    /// The conversation was given to the agent; `by` is who gave it (none: routing).
    Assigned {
        by: Option<String>,
    },
    Woke,
    /// A target is near (`breached: false`) or missed, due at `due_at`.
    Sla {
        due_at: i64,
        breached: bool,
    },
}

/// A message or a conversation change a rule said yes (or "summarise") to, with what a
/// notification shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    pub decision: Decision,
    pub about: About,
    pub conversation_id: Id,
    pub inbox_id: Id,
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

/// Turns the decisions of one applied batch into notifications: each live one on its own
/// (a conversation given to the agent with its customer's new message says so once, not
/// twice); catch-up ones as a single summary, unless only one customer replied and nothing
/// else happened.
pub fn notifications(announced: &[Announced]) -> Vec<Notification> {
    let mut out = Vec::new();
    let mut caught_up: Vec<&Announced> = Vec::new();
    let assigned_now: Vec<Id> = announced
        .iter()
        .filter(|a| a.decision == Decision::Notify && matches!(a.about, About::Assigned { .. }))
        .map(|a| a.conversation_id)
        .collect();
    for a in announced {
        match a.decision {
            Decision::Notify => {
                if matches!(a.about, About::Reply { .. }) && assigned_now.contains(&a.conversation_id) {
                    continue;
                }
                out.push(one(a));
            }
            Decision::Summarize => caught_up.push(a),
            Decision::Quiet(_) => {}
        }
    }
    let replies: Vec<&&Announced> = caught_up.iter().filter(|a| matches!(a.about, About::Reply { .. })).collect();
    let assigned = count(caught_up.iter().filter(|a| matches!(a.about, About::Assigned { .. })).count());
    let missed = count(caught_up.iter().filter(|a| matches!(a.about, About::Sla { breached: true, .. })).count());
    let mut customers: Vec<Id> = replies.iter().map(|a| a.contact_id).collect();
    customers.sort_unstable();
    customers.dedup();
    let n = count(customers.len());
    match (n, assigned, missed) {
        (0, 0, 0) => {}
        (1, 0, 0) => {
            if let Some(last) = replies.last() {
                out.push(one(last));
            }
        }
        _ => out.push(Notification::Summary { customers: n, messages: count(replies.len()), assigned, missed }),
    }
    out
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn one(a: &Announced) -> Notification {
    match &a.about {
        About::Reply { message_id } => Notification::Reply {
            conversation_id: a.conversation_id,
            message_id: *message_id,
            contact_name: a.contact_name.clone(),
            channel: a.channel,
            text: excerpt(&a.text),
        },
        About::Assigned { by } => Notification::Assigned {
            conversation_id: a.conversation_id,
            contact_name: a.contact_name.clone(),
            channel: a.channel,
            text: excerpt(&a.text),
            by: by.clone(),
        },
        About::Woke => Notification::Woke {
            conversation_id: a.conversation_id,
            contact_name: a.contact_name.clone(),
            channel: a.channel,
            text: excerpt(&a.text),
        },
        About::Sla { due_at, breached } => Notification::Sla {
            conversation_id: a.conversation_id,
            contact_name: a.contact_name.clone(),
            channel: a.channel,
            due_at: *due_at,
            breached: *breached,
        },
    }
}

/// `text` sealed in its own direction for a line of the app's own words: its directional
/// formatting characters (embeddings, overrides, isolates) removed, then wrapped in first
/// strong isolate … pop directional isolate (U+2068 … U+2069). A customer's name holding a
/// right-to-left override then never turns the words around it.
pub fn isolate(text: &str) -> String {
    let kept: String =
        text.chars().filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')).collect();
    format!("\u{2068}{kept}\u{2069}")
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
    #[test]
    fn a_customers_name_is_sealed_in_its_own_direction() {
        for (name, sealed) in [
            ("Ana García", "\u{2068}Ana García\u{2069}"),
            ("سارة", "\u{2068}سارة\u{2069}"),
            ("Eve\u{202E}evil", "\u{2068}Eveevil\u{2069}"),
            ("a\u{2067}b\u{2069}\u{202B}c", "\u{2068}abc\u{2069}"),
        ] {
            assert_eq!(isolate(name), sealed, "{name:?}");
        }
    }

    use ConversationStatus::{Bot, Open, Resolved, Snoozed};
    use Direction::{Inbound, Note, Outbound, System};

    const ME: Id = 7;
    const OTHER: Id = 8;
    const MY_TEAM: Id = 1;
    const OTHER_TEAM: Id = 2;

    fn me() -> Me {
        Me { agent_id: ME, teams: vec![MY_TEAM], lead: false }
    }

    fn conv(assignee: Option<Id>, team: Id, status: ConversationStatus, waiting: Option<i64>) -> ConvFacts {
        ConvFacts {
            assignee_id: assignee,
            team_id: team,
            status,
            waiting_since: waiting,
            queued: false,
            sla: SlaState::Ok,
        }
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
        let with_bot = conv(None, MY_TEAM, Bot, None);
        let with_bot_waiting = conv(None, MY_TEAM, Bot, Some(100));
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
            ("a new conversation the bot answers", Inbound, false, None, with_bot, false, Live, Decision::Quiet(Quiet::WithBot)),
            ("the customer writes to the bot again", Inbound, false, Some(with_bot), with_bot_waiting, false, Live, Decision::Quiet(Quiet::WithBot)),
            ("the bot hands over in my team", Inbound, false, Some(with_bot), unassigned_mine, false, Live, Decision::Notify),
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
            inbox_id: 1,
            decision,
            about: About::Reply { message_id: message },
            conversation_id: contact * 10,
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
        assert_eq!(out[0], Notification::Summary { customers: 5, messages: 6, assigned: 0, missed: 0 });
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

    #[test]
    fn a_queued_conversation_is_nobodys_until_routing_gives_it() {
        let queued = ConvFacts { queued: true, ..conv(None, MY_TEAM, Open, Some(100)) };
        let c = Candidate {
            direction: Inbound,
            already_decided: false,
            before: None,
            after: queued,
            focused: false,
            arrival: Arrival::Live,
        };
        assert_eq!(decide(&me(), &c), Decision::Quiet(Quiet::NotMine));
    }

    /// (case, before, after, updated by, customer wrote, focused, arrival, expected)
    type ChangeRow =
        (&'static str, Option<ConvFacts>, ConvFacts, Option<Id>, bool, bool, Arrival, Option<(Event, Decision)>);

    #[test]
    fn the_change_rule() {
        use Arrival::{CatchUp, Live};
        let queued = ConvFacts { queued: true, ..conv(None, MY_TEAM, Open, Some(100)) };
        let mine = conv(Some(ME), MY_TEAM, Open, Some(100));
        let others = conv(Some(OTHER), MY_TEAM, Open, Some(100));
        let snoozed_mine = conv(Some(ME), MY_TEAM, Snoozed, None);
        let snoozed_unassigned = conv(None, MY_TEAM, Snoozed, None);
        let resolved_mine = conv(Some(ME), MY_TEAM, Resolved, None);
        let routed = Some((Event::Assigned { by: None }, Decision::Notify));
        #[rustfmt::skip]
        let table: &[ChangeRow] = &[
            ("routing gives me a queued one", Some(queued), mine, None, false, false, Live, routed),
            ("a lead gives me another's", Some(others), mine, Some(OTHER), false, false, Live, Some((Event::Assigned { by: Some(OTHER) }, Decision::Notify))),
            ("it arrives already mine", None, mine, None, true, false, Live, routed),
            ("I claim it myself", Some(queued), mine, Some(ME), false, false, Live, Some((Event::Assigned { by: Some(ME) }, Decision::Quiet(Quiet::OwnDoing)))),
            ("it was already mine", Some(mine), mine, None, false, false, Live, None),
            ("given to someone else", Some(queued), others, None, false, false, Live, None),
            ("given to me but resolved", Some(queued), resolved_mine, Some(OTHER), false, false, Live, None),
            ("given to me while I look at it", Some(queued), mine, None, false, true, Live, Some((Event::Assigned { by: None }, Decision::Quiet(Quiet::Focused)))),
            ("given to me while I was away", Some(queued), mine, None, false, false, CatchUp, Some((Event::Assigned { by: None }, Decision::Summarize))),
            ("my snooze ends", Some(snoozed_mine), mine, None, false, false, Live, Some((Event::Woke, Decision::Notify))),
            ("a snooze of my team's unassigned one ends", Some(snoozed_unassigned), conv(None, MY_TEAM, Open, None), None, false, false, Live, Some((Event::Woke, Decision::Notify))),
            ("the customer wrote: their message is the news", Some(snoozed_mine), mine, None, true, false, Live, None),
            ("another's snooze ends", Some(conv(Some(OTHER), MY_TEAM, Snoozed, None)), others, None, false, false, Live, None),
            ("a status change of mine", Some(conv(Some(ME), MY_TEAM, ConversationStatus::Pending, None)), mine, Some(ME), false, false, Live, None),
        ];
        for (what, before, after, by, wrote, focused, arrival, want) in table {
            let c = ConvChange {
                before: *before,
                after: *after,
                updated_by: *by,
                customer_wrote: *wrote,
                focused: *focused,
                arrival: *arrival,
            };
            assert_eq!(decide_change(&me(), &c), *want, "{what}");
        }
    }

    fn event(decision: Decision, about: About, conversation: Id) -> Announced {
        Announced {
            inbox_id: 1,
            decision,
            about,
            conversation_id: conversation,
            contact_id: conversation,
            contact_name: format!("Customer {conversation}"),
            channel: ChannelKind::Sms,
            text: "Where is my order?".into(),
        }
    }

    #[test]
    fn a_conversation_given_with_its_first_message_is_announced_once() {
        let out = notifications(&[
            event(Decision::Notify, About::Reply { message_id: 5 }, 1),
            event(Decision::Notify, About::Assigned { by: None }, 1),
        ]);
        assert_eq!(
            out,
            vec![Notification::Assigned {
                conversation_id: 1,
                contact_name: "Customer 1".into(),
                channel: ChannelKind::Sms,
                text: "Where is my order?".into(),
                by: None
            }]
        );
    }

    #[test]
    fn conversations_given_while_away_join_the_summary() {
        let out = notifications(&[
            event(Decision::Summarize, About::Assigned { by: None }, 1),
            event(Decision::Summarize, About::Assigned { by: Some("Lee".into()) }, 2),
        ]);
        assert!(matches!(&out[..], [Notification::Summary { assigned: 2, customers: 0, missed: 0, .. }]), "{out:?}");
        let mut both = vec![event(Decision::Summarize, About::Assigned { by: None }, 1)];
        both.push(announced(Decision::Summarize, 4, 9));
        let out = notifications(&both);
        assert!(
            matches!(&out[..], [Notification::Summary { customers: 1, messages: 1, assigned: 1, missed: 0 }]),
            "{out:?}"
        );
    }

    /// (case, who, the change, expected)
    type SlaRow<'a> = (&'static str, &'a Me, ConvChange, Option<(Event, Decision)>);

    #[test]
    fn response_targets_warn_the_agent_and_a_miss_tells_the_leads() {
        let with = |c: ConvFacts, sla| ConvFacts { sla, ..c };
        let mine = conv(Some(ME), MY_TEAM, Open, Some(100));
        let others = conv(Some(OTHER), MY_TEAM, Open, Some(100));
        let elsewhere = conv(Some(OTHER), OTHER_TEAM, Open, Some(100));
        let lead = Me { lead: true, ..me() };
        let agent = me();
        let change = |before: ConvFacts, after: ConvFacts| ConvChange {
            before: Some(before),
            after,
            updated_by: None,
            customer_wrote: false,
            focused: false,
            arrival: Arrival::Live,
        };
        let told = |who: &Me, c: ConvChange| decide_change(who, &c);
        use SlaState::{AtRisk, Breached};
        #[rustfmt::skip]
        let table: Vec<SlaRow<'_>> = vec![
            ("my conversation nears its target", &agent, change(mine, with(mine, AtRisk)), Some((Event::AtRisk, Decision::Notify))),
            ("my conversation missed it", &agent, change(with(mine, AtRisk), with(mine, Breached)), Some((Event::Breached, Decision::Notify))),
            ("another's nears it: not mine to hear", &agent, change(others, with(others, AtRisk)), None),
            ("another's missed it: an agent is not told", &agent, change(others, with(others, Breached)), None),
            ("another's missed it: the lead is told", &lead, change(others, with(others, Breached)), Some((Event::Breached, Decision::Notify))),
            ("another's nears it: the lead is not told yet", &lead, change(others, with(others, AtRisk)), None),
            ("another team's miss: not this lead's", &lead, change(elsewhere, with(elsewhere, Breached)), None),
            ("still breached: said once", &agent, change(with(mine, Breached), with(mine, Breached)), None),
            ("back to ok after the answer", &agent, change(with(mine, Breached), mine), None),
            ("missed while I was away", &agent, ConvChange { arrival: Arrival::CatchUp, ..change(mine, with(mine, Breached)) }, Some((Event::Breached, Decision::Summarize))),
        ];
        for (what, who, c, want) in table {
            assert_eq!(told(who, c), want, "{what}");
        }
    }

    const MON: u8 = 0;
    const TUE: u8 = 1;
    const SAT: u8 = 5;
    const SUN: u8 = 6;

    fn at(weekday: u8, hour: u16, minute: u16) -> LocalTime {
        LocalTime { weekday, minute: hour * 60 + minute }
    }

    #[test]
    fn quiet_hours() {
        let weeknights = QuietHours { from_minute: 22 * 60, to_minute: 7 * 60, days: vec![0, 1, 2, 3, 4] };
        let lunch = QuietHours { from_minute: 12 * 60, to_minute: 13 * 60, days: vec![0, 1, 2, 3, 4] };
        let all_sunday = QuietHours { from_minute: 0, to_minute: 0, days: vec![SUN] };
        #[rustfmt::skip]
        let table: &[(&str, &QuietHours, LocalTime, bool)] = &[
            ("Monday evening before the span", &weeknights, at(MON, 21, 59), false),
            ("Monday at its start", &weeknights, at(MON, 22, 0), true),
            ("past midnight into Tuesday", &weeknights, at(TUE, 6, 59), true),
            ("Tuesday at its end", &weeknights, at(TUE, 7, 0), false),
            ("Friday's span runs into Saturday", &weeknights, at(SAT, 3, 0), true),
            ("no span starts on Saturday", &weeknights, at(SAT, 23, 0), false),
            ("Sunday night: no span started Saturday, none starts Sunday", &weeknights, at(SUN, 23, 30), false),
            ("Monday early: Sunday started none", &weeknights, at(MON, 3, 0), false),
            ("within a daytime span", &lunch, at(TUE, 12, 30), true),
            ("at a daytime span's end", &lunch, at(TUE, 13, 0), false),
            ("a daytime span on a day without it", &lunch, at(SAT, 12, 30), false),
            ("a span ending where it starts lasts the day", &all_sunday, at(SUN, 15, 0), true),
            ("and ends at the next midnight", &all_sunday, at(MON, 0, 0), false),
        ];
        for (what, q, local, want) in table {
            assert_eq!(in_quiet_hours(q, *local), *want, "{what}");
        }
    }

    /// (case, preferences, topic, inbox, local time, expected)
    type PreferenceRow<'a> = (&'a str, &'a NotificationPreferences, Topic, Id, LocalTime, Option<Quiet>);

    #[test]
    fn preferences_decide_what_is_shown_now() {
        let now = 1_000_000;
        let weekday_noon = at(TUE, 12, 0);
        let on = NotificationPreferences::default();
        let replies_off = NotificationPreferences { customer_replied: false, ..on.clone() };
        let sla_off = NotificationPreferences { sla: false, ..on.clone() };
        let muted = NotificationPreferences { muted_inboxes: vec![4], ..on.clone() };
        let dnd = NotificationPreferences { do_not_disturb_until: Some(now + 1), ..on.clone() };
        let dnd_over = NotificationPreferences { do_not_disturb_until: Some(now), ..on.clone() };
        let lunch = NotificationPreferences {
            quiet_hours: Some(QuietHours { from_minute: 11 * 60, to_minute: 14 * 60, days: vec![TUE] }),
            ..on.clone()
        };
        let woke_off_and_muted = NotificationPreferences { snooze_woke: false, muted_inboxes: vec![4], ..on.clone() };
        use Topic::{Assigned, CustomerReplied, Sla, SnoozeWoke};
        #[rustfmt::skip]
        let table: &[PreferenceRow] = &[
            ("everything on", &on, CustomerReplied, 4, weekday_noon, None),
            ("replies turned off", &replies_off, CustomerReplied, 4, weekday_noon, Some(Quiet::TurnedOff)),
            ("replies off leaves assignments", &replies_off, Assigned, 4, weekday_noon, None),
            ("targets turned off", &sla_off, Sla, 4, weekday_noon, Some(Quiet::TurnedOff)),
            ("a muted inbox", &muted, CustomerReplied, 4, weekday_noon, Some(Quiet::Muted)),
            ("a muted inbox mutes assignments too", &muted, Assigned, 4, weekday_noon, Some(Quiet::Muted)),
            ("another inbox", &muted, CustomerReplied, 5, weekday_noon, None),
            ("do not disturb for now", &dnd, Assigned, 5, weekday_noon, Some(Quiet::DoNotDisturb)),
            ("do not disturb has ended", &dnd_over, Assigned, 5, weekday_noon, None),
            ("in quiet hours", &lunch, Sla, 5, weekday_noon, Some(Quiet::DoNotDisturb)),
            ("after quiet hours", &lunch, Sla, 5, at(TUE, 14, 0), None),
            ("turned off says so before muted", &woke_off_and_muted, SnoozeWoke, 4, weekday_noon, Some(Quiet::TurnedOff)),
        ];
        for (what, prefs, topic, inbox, local, want) in table {
            assert_eq!(by_preference(prefs, *topic, *inbox, now, *local), *want, "{what}");
        }
    }

    #[test]
    fn private_notifications_leave_out_the_customers_words() {
        let reply = Notification::Reply {
            conversation_id: 1,
            message_id: 2,
            contact_name: "Ana".into(),
            channel: ChannelKind::Sms,
            text: "my card number is 4111".into(),
        };
        let private = NotificationPreferences { show_text: false, sound: false, ..NotificationPreferences::default() };
        let (shown_privately, sound) = shown(reply.clone(), &private);
        assert!(!sound);
        assert!(
            matches!(&shown_privately, Notification::Reply { text, contact_name, .. } if text.is_empty() && contact_name == "Ana")
        );
        let (shown_openly, sound) = shown(reply.clone(), &NotificationPreferences::default());
        assert!(sound);
        assert_eq!(shown_openly, reply);
    }
}
