//! Response-time targets: when each falls due after what happened to a conversation, and
//! where the conversation stands at an instant. Pure and table-tested; the business-time
//! arithmetic is [`crate::calendar`]'s, the store writes what these say.

use crate::calendar::Hours;
use switchboard_protocol::model::{SlaPolicy, SlaState};
use switchboard_protocol::Timestamp;

/// A conversation's running targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dues {
    pub first_response: Option<Timestamp>,
    pub next_response: Option<Timestamp>,
    pub resolution: Option<Timestamp>,
}

impl Dues {
    /// The earliest target still running.
    pub fn next(&self) -> Option<Timestamp> {
        [self.first_response, self.next_response, self.resolution].into_iter().flatten().min()
    }
}

/// What happened to a conversation, as far as its targets care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A customer opened it, or wrote to it again after it was resolved.
    Opened { at: Timestamp },
    /// The customer wrote while it was open; `ball_was_theirs`: nobody owed them an answer
    /// (the last word was ours); `answered_before`: an agent has replied at least once.
    CustomerWrote { at: Timestamp, ball_was_theirs: bool, answered_before: bool },
    /// An agent replied.
    Replied,
    /// An agent resolved it.
    Resolved,
    /// An agent reopened it.
    Reopened { at: Timestamp },
}

/// The targets after `event`, for `policy` on `hours`. Without a policy nothing runs.
pub fn after(policy: Option<&SlaPolicy>, hours: &Hours, dues: Dues, event: Event) -> Dues {
    let Some(p) = policy else { return Dues::default() };
    let due = |from: Timestamp, mins: Option<u32>| mins.and_then(|m| hours.add(from, m));
    match event {
        Event::Opened { at } => Dues {
            first_response: due(at, p.first_response_mins),
            next_response: None,
            resolution: due(at, p.resolution_mins),
        },
        Event::CustomerWrote { at, ball_was_theirs, answered_before } => Dues {
            next_response: if ball_was_theirs && answered_before {
                due(at, p.next_response_mins)
            } else {
                dues.next_response
            },
            ..dues
        },
        Event::Replied => Dues { first_response: None, next_response: None, ..dues },
        Event::Resolved => Dues::default(),
        Event::Reopened { at } => Dues { resolution: due(at, p.resolution_mins), ..dues },
    }
}

/// Where a conversation stands at `now`: breached once a target has passed, at risk
/// within `warn_before_mins` of one.
pub fn state(dues: &Dues, warn_before_mins: u32, now: Timestamp) -> SlaState {
    match dues.next() {
        Some(due) if due <= now => SlaState::Breached,
        Some(due) if due - i64::from(warn_before_mins) * 60_000 <= now => SlaState::AtRisk,
        _ => SlaState::Ok,
    }
}

/// When the state next changes on its own (the sweep looks then): the warning, then the
/// due time itself.
pub fn next_check(dues: &Dues, warn_before_mins: u32, now: Timestamp) -> Option<Timestamp> {
    let due = dues.next()?;
    let warn = due - i64::from(warn_before_mins) * 60_000;
    Some(if warn > now { warn } else { due })
}

/// Says what is wrong with a policy, if anything (its calendar included).
pub fn refuse(p: &SlaPolicy) -> Option<String> {
    let targets = [p.first_response_mins, p.next_response_mins, p.resolution_mins];
    if targets.iter().flatten().any(|&m| m == 0 || m > SlaPolicy::MAX_MINS) {
        return Some(format!("targets must be 1 minute to {} minutes", SlaPolicy::MAX_MINS));
    }
    if p.warn_before_mins > SlaPolicy::MAX_MINS {
        return Some("warn_before_mins is too long".into());
    }
    p.calendar.as_ref().and_then(|c| Hours::parse(c).err())
}

/// The hours a policy counts in: its calendar, or around the clock.
pub fn hours_of(p: &SlaPolicy) -> Hours {
    p.calendar.as_ref().and_then(|c| Hours::parse(c).ok()).unwrap_or_else(Hours::always)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn policy() -> SlaPolicy {
        SlaPolicy {
            calendar: None,
            first_response_mins: Some(30),
            next_response_mins: Some(60),
            resolution_mins: Some(24 * 60),
            warn_before_mins: 10,
        }
    }

    #[test]
    fn targets_follow_the_conversation() {
        let p = policy();
        let h = Hours::always();
        let opened = after(Some(&p), &h, Dues::default(), Event::Opened { at: 0 });
        assert_eq!(
            opened,
            Dues { first_response: Some(30 * MIN), next_response: None, resolution: Some(24 * 60 * MIN) }
        );
        let chased = after(
            Some(&p),
            &h,
            opened,
            Event::CustomerWrote { at: 5 * MIN, ball_was_theirs: false, answered_before: false },
        );
        assert_eq!(chased, opened, "a follow-up before any answer changes nothing");
        let replied = after(Some(&p), &h, opened, Event::Replied);
        assert_eq!(replied, Dues { first_response: None, next_response: None, resolution: Some(24 * 60 * MIN) });
        let again = after(
            Some(&p),
            &h,
            replied,
            Event::CustomerWrote { at: 100 * MIN, ball_was_theirs: true, answered_before: true },
        );
        assert_eq!(again.next_response, Some(160 * MIN));
        let follow = after(
            Some(&p),
            &h,
            again,
            Event::CustomerWrote { at: 120 * MIN, ball_was_theirs: false, answered_before: true },
        );
        assert_eq!(follow.next_response, Some(160 * MIN), "the wait counts from the first unanswered message");
        assert_eq!(after(Some(&p), &h, again, Event::Resolved), Dues::default());
        let reopened = after(Some(&p), &h, Dues::default(), Event::Reopened { at: 1_000 * MIN });
        assert_eq!(reopened.resolution, Some(1_000 * MIN + 24 * 60 * MIN));
        assert_eq!(after(None, &h, opened, Event::Replied), Dues::default(), "no policy, no targets");
        let partial = SlaPolicy { first_response_mins: None, resolution_mins: None, ..policy() };
        assert_eq!(after(Some(&partial), &h, Dues::default(), Event::Opened { at: 0 }), Dues::default());
    }

    #[test]
    fn state_table() {
        let dues = Dues { first_response: Some(30 * MIN), next_response: None, resolution: Some(90 * MIN) };
        for (now, want) in [
            (0, SlaState::Ok),
            (19 * MIN, SlaState::Ok),
            (20 * MIN, SlaState::AtRisk),
            (30 * MIN - 1, SlaState::AtRisk),
            (30 * MIN, SlaState::Breached),
        ] {
            assert_eq!(state(&dues, 10, now), want, "at {now}");
        }
        assert_eq!(state(&Dues::default(), 10, 0), SlaState::Ok);
        assert_eq!(next_check(&dues, 10, 0), Some(20 * MIN));
        assert_eq!(next_check(&dues, 10, 25 * MIN), Some(30 * MIN));
        assert_eq!(next_check(&Dues::default(), 10, 0), None);
    }

    #[test]
    fn policies_are_checked() {
        assert_eq!(refuse(&policy()), None);
        assert!(refuse(&SlaPolicy { first_response_mins: Some(0), ..policy() }).is_some());
        let bad_zone = switchboard_protocol::model::BusinessCalendar {
            time_zone: "Nowhere/Else".into(),
            hours: Default::default(),
            holidays: vec![],
        };
        assert_eq!(
            refuse(&SlaPolicy { calendar: Some(bad_zone), ..policy() }).as_deref(),
            Some("unknown time zone `Nowhere/Else`")
        );
    }
}
