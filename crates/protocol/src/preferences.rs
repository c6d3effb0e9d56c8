//! An agent's own notification preferences: which events notify them, the inboxes they
//! muted, do-not-disturb now and on a weekly schedule, sound, and whether a notification
//! shows the customer's words. Kept by the hub per agent and synced to each of their
//! consoles; only the agent sees or changes them.

use crate::{Id, Timestamp};
use serde::{Deserialize, Serialize};

/// The most inboxes one agent may mute.
pub const MAX_MUTED_INBOXES: usize = 500;

/// The furthest ahead do-not-disturb may be set: 30 days.
pub const MAX_DO_NOT_DISTURB_MS: i64 = 30 * 86_400_000;

/// Minutes in a day: quiet hours are minutes after local midnight, below this.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// What notifies the agent, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPreferences {
    /// A customer replied in a conversation that is the agent's to answer.
    pub customer_replied: bool,
    /// A conversation was given to the agent (by routing or by someone).
    pub assigned: bool,
    /// A response-time target is near or was missed.
    pub sla: bool,
    /// A snoozed conversation's time came.
    pub snooze_woke: bool,
    /// Inboxes whose conversations never notify.
    #[cfg_attr(feature = "ts", ts(type = "number[]"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<i64>))]
    pub muted_inboxes: Vec<Id>,
    /// Nothing notifies until then (milliseconds since the epoch); `None`: not set.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<i64>))]
    pub do_not_disturb_until: Option<Timestamp>,
    /// Nothing notifies in these hours of the week, in the console's local time.
    pub quiet_hours: Option<QuietHours>,
    /// Desktop notifications play the system's sound.
    pub sound: bool,
    /// Notifications show the customer's words; off, they show only who and where
    /// (for shared screens).
    pub show_text: bool,
}

impl Default for NotificationPreferences {
    fn default() -> Self {
        NotificationPreferences {
            customer_replied: true,
            assigned: true,
            sla: true,
            snooze_woke: true,
            muted_inboxes: Vec::new(),
            do_not_disturb_until: None,
            quiet_hours: None,
            sound: true,
            show_text: true,
        }
    }
}

/// A weekly do-not-disturb schedule in local time: from `from_minute` to `to_minute`
/// (minutes after midnight) on each of `days`. A span that ends at or before it starts
/// runs past midnight into the next day (22:00–07:00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuietHours {
    pub from_minute: u16,
    pub to_minute: u16,
    /// The days a span starts on: 0 is Monday, 6 is Sunday.
    pub days: Vec<u8>,
}

/// Why preferences cannot be saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreferencesError {
    TooManyMuted,
    BadMinute,
    BadDay,
    TooFarAhead,
}

impl std::fmt::Display for PreferencesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PreferencesError::TooManyMuted => write!(f, "at most {MAX_MUTED_INBOXES} inboxes can be muted"),
            PreferencesError::BadMinute => write!(f, "quiet hours are minutes after midnight, below {MINUTES_PER_DAY}"),
            PreferencesError::BadDay => f.write_str("quiet hours' days are 0 (Monday) to 6 (Sunday)"),
            PreferencesError::TooFarAhead => f.write_str("do not disturb can be set at most 30 days ahead"),
        }
    }
}

impl std::error::Error for PreferencesError {}

impl NotificationPreferences {
    /// Checks the preferences against their limits, `now` being the hub's clock.
    pub fn check(&self, now: Timestamp) -> Result<(), PreferencesError> {
        if self.muted_inboxes.len() > MAX_MUTED_INBOXES {
            return Err(PreferencesError::TooManyMuted);
        }
        if let Some(q) = &self.quiet_hours {
            if q.from_minute >= MINUTES_PER_DAY || q.to_minute >= MINUTES_PER_DAY {
                return Err(PreferencesError::BadMinute);
            }
            if q.days.len() > 7 || q.days.iter().any(|d| *d > 6) {
                return Err(PreferencesError::BadDay);
            }
        }
        if self.do_not_disturb_until.is_some_and(|t| t > now.saturating_add(MAX_DO_NOT_DISTURB_MS)) {
            return Err(PreferencesError::TooFarAhead);
        }
        Ok(())
    }

    /// The same preferences in one canonical form: muted inboxes and days sorted, once each.
    pub fn normalized(mut self) -> Self {
        self.muted_inboxes.sort_unstable();
        self.muted_inboxes.dedup();
        if let Some(q) = &mut self.quiet_hours {
            q.days.sort_unstable();
            q.days.dedup();
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_checked() {
        let now = 1_000_000;
        let ok = NotificationPreferences::default();
        let quiet = |from_minute, to_minute, days: &[u8]| NotificationPreferences {
            quiet_hours: Some(QuietHours { from_minute, to_minute, days: days.to_vec() }),
            ..NotificationPreferences::default()
        };
        let cases: Vec<(&str, NotificationPreferences, Result<(), PreferencesError>)> = vec![
            ("defaults", ok.clone(), Ok(())),
            ("overnight span", quiet(22 * 60, 7 * 60, &[0, 1, 2, 3, 4]), Ok(())),
            ("minute past the day", quiet(1440, 60, &[0]), Err(PreferencesError::BadMinute)),
            ("day 7", quiet(60, 120, &[7]), Err(PreferencesError::BadDay)),
            (
                "too many muted",
                NotificationPreferences { muted_inboxes: (0..501).collect(), ..ok.clone() },
                Err(PreferencesError::TooManyMuted),
            ),
            (
                "do not disturb for 30 days",
                NotificationPreferences { do_not_disturb_until: Some(now + MAX_DO_NOT_DISTURB_MS), ..ok.clone() },
                Ok(()),
            ),
            (
                "do not disturb for a year",
                NotificationPreferences { do_not_disturb_until: Some(now + 365 * 86_400_000), ..ok.clone() },
                Err(PreferencesError::TooFarAhead),
            ),
        ];
        for (name, prefs, want) in cases {
            assert_eq!(prefs.check(now), want, "{name}");
        }
    }

    #[test]
    fn normalized_sorts_and_dedups() {
        let p = NotificationPreferences {
            muted_inboxes: vec![3, 1, 3],
            quiet_hours: Some(QuietHours { from_minute: 0, to_minute: 60, days: vec![4, 0, 4] }),
            ..NotificationPreferences::default()
        }
        .normalized();
        assert_eq!(p.muted_inboxes, vec![1, 3]);
        assert_eq!(p.quiet_hours.map(|q| q.days), Some(vec![0, 4]));
    }
}
