//! How a conversation's state moves when something happens to it: pure functions over the
//! fields that change, table-tested, so the store only reads and writes.

use crate::clock::DAY;
use switchboard_protocol::model::{ChannelKind, ConversationStatus};
use switchboard_protocol::Timestamp;

/// The fields of a conversation that messages and status changes move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvState {
    pub status: ConversationStatus,
    pub snoozed_until: Option<Timestamp>,
    pub waiting_since: Option<Timestamp>,
    pub last_activity_at: Timestamp,
    pub reply_window_expires_at: Option<Timestamp>,
    pub preview: String,
}

/// How long WhatsApp and Meta allow free-text replies after the customer's last message.
pub const REPLY_WINDOW: i64 = DAY;

/// The longest preview kept on a conversation.
pub const PREVIEW_CHARS: usize = 140;

/// A list-row preview of a message body: first line-ish text, cut at a character boundary.
pub fn preview(body: &str, attachments: usize) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() && attachments > 0 {
        return format!("[{attachments} attachment{}]", if attachments == 1 { "" } else { "s" });
    }
    match flat.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// A new conversation opened by a customer's message at `at`.
pub fn opened_by_customer(channel: ChannelKind, at: Timestamp, preview: String) -> ConvState {
    ConvState {
        status: ConversationStatus::Open,
        snoozed_until: None,
        waiting_since: Some(at),
        last_activity_at: at,
        reply_window_expires_at: channel.has_reply_window().then_some(at + REPLY_WINDOW),
        preview,
    }
}

/// The customer wrote at `at`: the thread wakes up (pending or snoozed → open), waits on
/// an agent since the oldest unanswered message, and the reply window restarts.
pub fn after_inbound(s: &ConvState, channel: ChannelKind, at: Timestamp, preview: String) -> ConvState {
    let wakes = matches!(s.status, ConversationStatus::Pending | ConversationStatus::Snoozed);
    let newest = at >= s.last_activity_at;
    ConvState {
        status: if wakes { ConversationStatus::Open } else { s.status },
        snoozed_until: if wakes { None } else { s.snoozed_until },
        waiting_since: Some(s.waiting_since.map_or(at, |w| w.min(at))),
        last_activity_at: s.last_activity_at.max(at),
        reply_window_expires_at: if channel.has_reply_window() {
            Some(s.reply_window_expires_at.map_or(at + REPLY_WINDOW, |w| w.max(at + REPLY_WINDOW)))
        } else {
            s.reply_window_expires_at
        },
        preview: if newest { preview } else { s.preview.clone() },
    }
}

/// An agent replied at `at`: the ball is with the customer.
pub fn after_reply(s: &ConvState, at: Timestamp, preview: String) -> ConvState {
    ConvState { waiting_since: None, last_activity_at: s.last_activity_at.max(at), preview, ..s.clone() }
}

/// A note leaves the customer waiting; it only counts as activity.
pub fn after_note(s: &ConvState, at: Timestamp) -> ConvState {
    ConvState { last_activity_at: s.last_activity_at.max(at), ..s.clone() }
}

/// An agent set the status. Resolving ends the wait; snoozing needs a time in the future.
pub fn after_status(
    s: &ConvState,
    status: ConversationStatus,
    snoozed_until: Option<Timestamp>,
    now: Timestamp,
) -> Result<ConvState, &'static str> {
    let snoozed_until = match (status, snoozed_until) {
        (ConversationStatus::Snoozed, Some(t)) if t > now => Some(t),
        (ConversationStatus::Snoozed, Some(_)) => return Err("snoozed_until must be in the future"),
        (ConversationStatus::Snoozed, None) => return Err("snoozing needs snoozed_until"),
        (_, Some(_)) => return Err("snoozed_until is only for the snoozed status"),
        (_, None) => None,
    };
    Ok(ConvState {
        status,
        snoozed_until,
        waiting_since: if status == ConversationStatus::Resolved { None } else { s.waiting_since },
        ..s.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationStatus::*;

    fn state(status: ConversationStatus, waiting: Option<i64>) -> ConvState {
        ConvState {
            status,
            snoozed_until: (status == Snoozed).then_some(5_000),
            waiting_since: waiting,
            last_activity_at: 1_000,
            reply_window_expires_at: None,
            preview: "old".into(),
        }
    }

    #[test]
    fn inbound_table() {
        // (name, before, at, status after, waiting_since after)
        let cases = [
            ("open, answered", state(Open, None), 2_000, Open, Some(2_000)),
            ("open, already waiting keeps the oldest", state(Open, Some(1_500)), 2_000, Open, Some(1_500)),
            ("pending wakes", state(Pending, None), 2_000, Open, Some(2_000)),
            ("snoozed wakes", state(Snoozed, None), 2_000, Open, Some(2_000)),
            ("late delivery keeps the oldest", state(Open, Some(1_500)), 1_200, Open, Some(1_200)),
        ];
        for (name, before, at, status, waiting) in cases {
            let after = after_inbound(&before, ChannelKind::Sms, at, "new".into());
            assert_eq!(after.status, status, "{name}");
            assert_eq!(after.waiting_since, waiting, "{name}");
            assert_eq!(after.last_activity_at, before.last_activity_at.max(at), "{name}");
            if status == Open {
                assert_eq!(after.snoozed_until, None, "{name}");
            }
        }
    }

    #[test]
    fn reply_window_only_on_meta_channels() {
        let s = state(Open, None);
        assert_eq!(after_inbound(&s, ChannelKind::Sms, 2_000, "x".into()).reply_window_expires_at, None);
        for ch in [ChannelKind::Whatsapp, ChannelKind::Messenger, ChannelKind::Instagram] {
            assert_eq!(after_inbound(&s, ch, 2_000, "x".into()).reply_window_expires_at, Some(2_000 + REPLY_WINDOW));
        }
        let opened = opened_by_customer(ChannelKind::Whatsapp, 7, "x".into());
        assert_eq!(opened.reply_window_expires_at, Some(7 + REPLY_WINDOW));
        assert_eq!(opened.waiting_since, Some(7));
    }

    #[test]
    fn reply_and_note() {
        let s = state(Open, Some(1_500));
        assert_eq!(after_reply(&s, 2_000, "r".into()).waiting_since, None);
        assert_eq!(after_note(&s, 2_000).waiting_since, Some(1_500));
        assert_eq!(after_note(&s, 2_000).last_activity_at, 2_000);
    }

    #[test]
    fn status_table() {
        let s = state(Open, Some(1_500));
        assert_eq!(after_status(&s, Resolved, None, 0).unwrap().waiting_since, None);
        assert_eq!(after_status(&s, Pending, None, 0).unwrap().waiting_since, Some(1_500));
        assert_eq!(after_status(&s, Snoozed, Some(10), 5).unwrap().snoozed_until, Some(10));
        assert!(after_status(&s, Snoozed, Some(4), 5).is_err());
        assert!(after_status(&s, Snoozed, None, 5).is_err());
        assert!(after_status(&s, Open, Some(10), 5).is_err());
    }

    #[test]
    fn preview_cuts_on_char_boundary() {
        assert_eq!(preview("  hello\n  world ", 0), "hello world");
        assert_eq!(preview("", 2), "[2 attachments]");
        let long = "é".repeat(200);
        let p = preview(&long, 0);
        assert_eq!(p.chars().count(), PREVIEW_CHARS + 1);
    }
}
