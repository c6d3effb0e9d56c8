//! The agent's presence as the console keeps it: away by itself after the agent has been
//! idle, and back online when they return, only when it was the console that set them
//! away. Pure and table-tested; [`crate::Console`] feeds it the time of the last input.

use switchboard_protocol::model::Presence;

/// The idle time before the console sets an agent away, when they have not chosen one.
pub const DEFAULT_AWAY_AFTER_MINS: u32 = 10;

/// The presence the console should set now, if any. `automatic_away`: the current `away`
/// was set by the console (an agent who chose away stays away). `away_after_ms`: `None`
/// never sets away by itself.
pub fn after_idle(
    current: Presence,
    automatic_away: bool,
    idle_ms: i64,
    away_after_ms: Option<i64>,
) -> Option<Presence> {
    let idle = away_after_ms.is_some_and(|after| idle_ms >= after);
    match current {
        Presence::Online if idle => Some(Presence::Away),
        Presence::Away if automatic_away && !idle => Some(Presence::Online),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Presence::{Away, Offline, Online};

    #[test]
    fn away_after_idle_and_back_on_return() {
        const TEN: Option<i64> = Some(600_000);
        for (what, current, automatic, idle, after, want) in [
            ("online and busy", Online, false, 1_000, TEN, None),
            ("online and idle long enough", Online, false, 600_000, TEN, Some(Away)),
            ("online, idle, never set away", Online, false, 99_000_000, None, None),
            ("away by itself, back at the keyboard", Away, true, 0, TEN, Some(Online)),
            ("away by itself, still idle", Away, true, 700_000, TEN, None),
            ("away by choice, back at the keyboard", Away, false, 0, TEN, None),
            ("offline by choice", Offline, false, 0, TEN, None),
        ] {
            assert_eq!(after_idle(current, automatic, idle, after), want, "{what}");
        }
    }
}
