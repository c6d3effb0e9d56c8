//! How a conversation's state moves when something happens to it: pure functions over the
//! fields that change, table-tested, so the store only reads and writes.

use crate::clock::DAY;
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Delivery};
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
    // Resolved threads are only reached this way through an email reply to them.
    let wakes =
        matches!(s.status, ConversationStatus::Pending | ConversationStatus::Snoozed | ConversationStatus::Resolved);
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

/// Why a message may not go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendBlock {
    /// Free text after the provider's customer-care window: only templates may be sent.
    WindowClosed,
    /// The customer opted out on this channel.
    OptedOut,
}

/// Whether an agent may send on a conversation now: opted-out addresses get nothing;
/// WhatsApp, Messenger and Instagram take free text only within the reply window.
pub fn may_send(
    channel: ChannelKind,
    window_expires_at: Option<Timestamp>,
    opted_out: bool,
    template: bool,
    now: Timestamp,
) -> Result<(), SendBlock> {
    if opted_out {
        return Err(SendBlock::OptedOut);
    }
    if channel.has_reply_window() && !template && window_expires_at.is_none_or(|w| now >= w) {
        return Err(SendBlock::WindowClosed);
    }
    Ok(())
}

/// Why an agent may not write first to a customer on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartBlock {
    /// Web chat and in-app: the visitor starts; there is no address to write to.
    CustomerFirst,
    /// Messenger and Instagram reach only someone who wrote to the page (by the id the
    /// page was given), never a new address.
    NotYetWritten,
    /// SMS goes out from a phone number the inbox owns.
    NoSenderNumber,
    /// An email starts with a subject.
    NoSubject,
}

impl StartBlock {
    pub fn message(self, channel: ChannelKind) -> String {
        match self {
            StartBlock::CustomerFirst => format!("on {channel} the customer starts the conversation"),
            StartBlock::NotYetWritten => {
                format!("on {channel} you can write only to a customer who has written to this inbox before")
            }
            StartBlock::NoSenderNumber => "this SMS inbox has no phone number to send from".into(),
            StartBlock::NoSubject => "an email needs a subject".into(),
        }
    }
}

/// Writing first to a customer, as far as the channel's rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    pub channel: ChannelKind,
    /// The address is one the customer has used on this channel.
    pub known: bool,
    /// The inbox's own address is a phone number (SMS sends from it).
    pub sender_is_phone: bool,
    pub has_subject: bool,
}

/// Whether an agent may write first; opt-outs and reply windows are [`may_send`]'s.
pub fn may_start(s: Start) -> Result<(), StartBlock> {
    match s.channel {
        ChannelKind::Webchat | ChannelKind::InApp => Err(StartBlock::CustomerFirst),
        ChannelKind::Messenger | ChannelKind::Instagram if !s.known => Err(StartBlock::NotYetWritten),
        ChannelKind::Sms if !s.sender_is_phone => Err(StartBlock::NoSenderNumber),
        ChannelKind::Email if !s.has_subject => Err(StartBlock::NoSubject),
        _ => Ok(()),
    }
}

/// An SMS keyword that changes whether the customer may be messaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    OptOut,
    OptIn,
}

/// The carriers' opt-out and opt-in keywords, matched as the whole message, any case.
pub fn sms_keyword(body: &str) -> Option<Keyword> {
    keyword(body, &Keywords::default())
}

/// An inbox's own opt-out and opt-in words (in the customers' languages), beside the
/// carriers' English ones; inbox setting `keywords`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Keywords {
    pub opt_out: Vec<String>,
    pub opt_in: Vec<String>,
}

impl Keywords {
    /// The most words of each kind an inbox may add.
    pub const MAX_WORDS: usize = 20;
    /// The longest word, in characters.
    pub const MAX_CHARS: usize = 32;

    /// What is wrong with these words, if anything: too many, too long, blank, or one
    /// word meaning both.
    pub fn refuse(&self) -> Option<String> {
        for list in [&self.opt_out, &self.opt_in] {
            if list.len() > Self::MAX_WORDS {
                return Some(format!("at most {} keywords of each kind", Self::MAX_WORDS));
            }
            if let Some(w) = list.iter().find(|w| w.trim().is_empty() || w.trim().chars().count() > Self::MAX_CHARS) {
                return Some(format!("keyword {w:?} must be 1 to {} characters", Self::MAX_CHARS));
            }
        }
        let norm = |w: &String| normalise(w);
        let both = self.opt_out.iter().map(norm).find(|w| self.opt_in.iter().map(norm).any(|i| i == *w));
        both.map(|w| format!("{w} cannot both opt out and opt in"))
    }
}

fn normalise(text: &str) -> String {
    text.trim().trim_end_matches(['.', '!']).trim().to_uppercase()
}

/// An opt-out or opt-in keyword, matched as the whole message in any case: the carriers'
/// English words, and the inbox's own (`ARRÊT`, `BAJA`).
pub fn keyword(body: &str, own: &Keywords) -> Option<Keyword> {
    let word = normalise(body);
    let is = |list: &[String]| list.iter().any(|w| normalise(w) == word);
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "START" | "UNSTOP" => Some(Keyword::OptIn),
        _ if word.is_empty() => None,
        _ if is(&own.opt_out) => Some(Keyword::OptOut),
        _ if is(&own.opt_in) => Some(Keyword::OptIn),
        _ => None,
    }
}

/// Whether customers on `channel` opt out and in by keyword: SMS (the carriers' rule) and
/// WhatsApp (Meta's policy asks businesses to honour opt-out requests).
pub fn takes_keywords(channel: ChannelKind) -> bool {
    matches!(channel, ChannelKind::Sms | ChannelKind::Whatsapp)
}

/// Whether a delivery report moves a message forward: queued → sent → delivered → read,
/// or to failed from anything short of delivered. Reports arrive out of order.
pub fn delivery_advances(from: Option<Delivery>, to: Delivery) -> bool {
    fn rank(d: Delivery) -> u8 {
        match d {
            Delivery::Queued => 0,
            Delivery::Sent => 1,
            Delivery::Delivered => 2,
            Delivery::Read => 3,
            Delivery::Failed => 4,
        }
    }
    match (from, to) {
        (None, _) => true,
        (Some(Delivery::Failed), _) => false,
        (Some(f), Delivery::Failed) => rank(f) < rank(Delivery::Delivered),
        (Some(f), t) => rank(t) > rank(f),
    }
}

/// An inbox's automatic first reply (its settings' `auto_reply`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoReply {
    /// Sent within business hours (or always, without them): the expected response time.
    pub text: String,
    /// Sent outside business hours; `text` if absent.
    #[serde(default)]
    pub outside_hours_text: Option<String>,
    /// Business hours on a real calendar (a time zone with daylight saving, holidays).
    #[serde(default)]
    pub calendar: Option<switchboard_protocol::model::BusinessCalendar>,
    /// Earlier settings' hours at a fixed offset from UTC; `calendar` replaces them.
    #[serde(default)]
    pub business_hours: Option<BusinessHours>,
}

/// Opening hours at a fixed offset from UTC, as earlier settings wrote them: `days` maps
/// `mon`…`sun` to `"09:00-17:30"`; a day that is absent is closed. A fixed offset knows
/// no daylight saving: [`AutoReply::calendar`] replaces it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    #[serde(default)]
    pub utc_offset_minutes: i32,
    pub days: std::collections::BTreeMap<String, String>,
}

fn minutes(hhmm: &str) -> Option<i64> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..=24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

impl BusinessHours {
    /// Whether the business is open at `at`.
    pub fn open_at(&self, at: Timestamp) -> bool {
        const DAYS: [&str; 7] = ["thu", "fri", "sat", "sun", "mon", "tue", "wed"]; // 1970-01-01 was a Thursday
        let local_min = at.div_euclid(60_000) + i64::from(self.utc_offset_minutes);
        let day = DAYS[usize::try_from(local_min.div_euclid(1_440).rem_euclid(7)).unwrap_or(0)];
        let minute = local_min.rem_euclid(1_440);
        let Some(range) = self.days.get(day) else { return false };
        let Some((from, to)) = range.split_once('-') else { return false };
        matches!((minutes(from), minutes(to)), (Some(f), Some(t)) if f <= minute && minute < t)
    }
}

/// The automatic first reply for a conversation a customer opens at `at`. A calendar that
/// does not read counts as always open.
pub fn auto_reply_text(a: &AutoReply, at: Timestamp) -> &str {
    let open = match (&a.calendar, &a.business_hours) {
        (Some(c), _) => crate::calendar::Hours::parse(c).map_or(true, |h| h.open_at(at)),
        (None, Some(h)) => h.open_at(at),
        (None, None) => true,
    };
    if open {
        &a.text
    } else {
        a.outside_hours_text.as_deref().unwrap_or(&a.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationStatus::*;

    #[test]
    fn who_an_agent_may_write_to_first() {
        use ChannelKind::*;
        let start =
            |channel, known, sender_is_phone, has_subject| Start { channel, known, sender_is_phone, has_subject };
        let cases = [
            ("sms to a new number", start(Sms, false, true, false), Ok(())),
            ("sms without a sender number", start(Sms, true, false, false), Err(StartBlock::NoSenderNumber)),
            ("whatsapp to a new number", start(Whatsapp, false, false, false), Ok(())),
            ("email with a subject", start(Email, false, false, true), Ok(())),
            ("email without", start(Email, true, false, false), Err(StartBlock::NoSubject)),
            ("messenger, written before", start(Messenger, true, false, false), Ok(())),
            ("messenger, a new id", start(Messenger, false, false, false), Err(StartBlock::NotYetWritten)),
            ("instagram, a new id", start(Instagram, false, false, true), Err(StartBlock::NotYetWritten)),
            ("web chat", start(Webchat, true, false, true), Err(StartBlock::CustomerFirst)),
            ("in-app", start(InApp, true, true, true), Err(StartBlock::CustomerFirst)),
        ];
        for (name, s, want) in cases {
            assert_eq!(may_start(s), want, "{name}");
        }
        assert!(StartBlock::NotYetWritten.message(Messenger).contains("messenger"));
    }

    #[test]
    fn may_send_table() {
        use ChannelKind::*;
        let now = 1_000;
        let cases = [
            ("sms, no window", Sms, None, false, false, Ok(())),
            ("whatsapp inside window", Whatsapp, Some(2_000), false, false, Ok(())),
            ("whatsapp window closed", Whatsapp, Some(1_000), false, false, Err(SendBlock::WindowClosed)),
            ("whatsapp never opened", Whatsapp, None, false, false, Err(SendBlock::WindowClosed)),
            ("whatsapp template after window", Whatsapp, Some(500), false, true, Ok(())),
            ("messenger window closed", Messenger, Some(999), false, false, Err(SendBlock::WindowClosed)),
            ("opted out sms", Sms, None, true, false, Err(SendBlock::OptedOut)),
            ("opted out beats template", Whatsapp, Some(2_000), true, true, Err(SendBlock::OptedOut)),
            ("email", Email, None, false, false, Ok(())),
        ];
        for (name, ch, window, opted, template, want) in cases {
            assert_eq!(may_send(ch, window, opted, template, now), want, "{name}");
        }
    }

    #[test]
    fn auto_reply_follows_business_hours() {
        let hours: BusinessHours = serde_json::from_value(serde_json::json!({
            "utc_offset_minutes": -300,
            "days": {"mon": "09:00-17:00", "tue": "09:00-17:00", "sat": "10:00-12:30"}
        }))
        .unwrap();
        let a = AutoReply {
            text: "within 2 hours".into(),
            outside_hours_text: Some("tomorrow at 9".into()),
            calendar: None,
            business_hours: Some(hours),
        };
        // 2026-11-23 is a Monday. Times are UTC; the business is at UTC-5.
        let monday = |h: i64, m: i64| 1_795_392_000_000 + (h * 60 + m) * 60_000;
        let cases = [
            ("Mon 09:00 local", monday(14, 0), "within 2 hours"),
            ("Mon 08:59 local", monday(13, 59), "tomorrow at 9"),
            ("Mon 16:59 local", monday(21, 59), "within 2 hours"),
            ("Mon 17:00 local", monday(22, 0), "tomorrow at 9"),
            ("Sun 23:30 local (Mon 04:30 UTC)", monday(4, 30), "tomorrow at 9"),
            ("Sat 12:00 local", monday(17, 0) - 2 * DAY, "within 2 hours"),
            ("Wed closed", monday(15, 0) + 2 * DAY, "tomorrow at 9"),
        ];
        for (name, at, want) in cases {
            assert_eq!(auto_reply_text(&a, at), want, "{name}");
        }
        let always = AutoReply { text: "hi".into(), outside_hours_text: None, calendar: None, business_hours: None };
        assert_eq!(auto_reply_text(&always, 0), "hi");
    }

    #[test]
    fn auto_reply_follows_a_real_calendar_across_daylight_saving() {
        let a: AutoReply = serde_json::from_value(serde_json::json!({
            "text": "within 2 hours",
            "outside_hours_text": "tomorrow at 9",
            "calendar": {"time_zone": "America/New_York", "hours": {"mon": "09:00-17:00"}, "holidays": ["2026-12-28"]}
        }))
        .unwrap();
        // 09:30 in New York is 14:30 UTC in winter and 13:30 UTC in summer.
        let utc = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        for (at, want) in [
            ("2026-11-30T14:30:00Z", "within 2 hours"),
            ("2026-11-30T13:30:00Z", "tomorrow at 9"),
            ("2026-06-01T13:30:00Z", "within 2 hours"),
            ("2026-12-28T14:30:00Z", "tomorrow at 9"),
        ] {
            assert_eq!(auto_reply_text(&a, utc(at)), want, "{at}");
        }
    }

    #[test]
    fn keyword_table() {
        for w in ["STOP", "stop", " Stop ", "STOPALL", "unsubscribe", "Cancel", "END", "quit", "stop."] {
            assert_eq!(sms_keyword(w), Some(Keyword::OptOut), "{w}");
        }
        for w in ["START", "unstop", "Start!"] {
            assert_eq!(sms_keyword(w), Some(Keyword::OptIn), "{w}");
        }
        for w in ["please stop sending", "stopp", "", "YES"] {
            assert_eq!(sms_keyword(w), None, "{w}");
        }
    }

    #[test]
    fn an_inbox_adds_keywords_in_its_customers_languages() {
        let own = Keywords {
            opt_out: vec!["BAJA".into(), "Arrêt".into(), "parar".into()],
            opt_in: vec!["ALTA".into(), "reprendre".into()],
        };
        let cases = [
            ("baja", Some(Keyword::OptOut)),
            ("ARRÊT", Some(Keyword::OptOut)),
            (" arrêt! ", Some(Keyword::OptOut)),
            ("Parar.", Some(Keyword::OptOut)),
            ("alta", Some(Keyword::OptIn)),
            ("REPRENDRE", Some(Keyword::OptIn)),
            ("STOP", Some(Keyword::OptOut)),
            ("start", Some(Keyword::OptIn)),
            ("baja por favor", None),
            ("arret", None),
            ("", None),
            ("  ", None),
        ];
        for (body, want) in cases {
            assert_eq!(keyword(body, &own), want, "{body:?}");
        }
        assert_eq!(keyword("baja", &Keywords::default()), None, "only the inbox's own words");
        assert!(takes_keywords(ChannelKind::Sms) && takes_keywords(ChannelKind::Whatsapp));
        assert!(!takes_keywords(ChannelKind::Email) && !takes_keywords(ChannelKind::Webchat));
    }

    #[test]
    fn an_inboxs_keywords_are_checked() {
        let k = |out: &[&str], inn: &[&str]| Keywords {
            opt_out: out.iter().map(|w| (*w).to_owned()).collect(),
            opt_in: inn.iter().map(|w| (*w).to_owned()).collect(),
        };
        assert_eq!(k(&["BAJA"], &["ALTA"]).refuse(), None);
        assert!(k(&[" "], &[]).refuse().unwrap().contains("1 to 32"));
        assert!(k(&[&"x".repeat(33)], &[]).refuse().unwrap().contains("1 to 32"));
        assert!(k(&["baja"], &["BAJA."]).refuse().unwrap().contains("both"));
        let many: Vec<String> = (0..21).map(|i| format!("W{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(k(&many, &[]).refuse().unwrap().contains("at most 20"));
    }

    #[test]
    fn delivery_order_table() {
        use Delivery::*;
        let cases = [
            (Some(Queued), Sent, true),
            (Some(Sent), Delivered, true),
            (Some(Delivered), Sent, false),
            (Some(Read), Delivered, false),
            (Some(Sent), Failed, true),
            (Some(Delivered), Failed, false),
            (Some(Failed), Delivered, false),
            (None, Read, true),
        ];
        for (from, to, want) in cases {
            assert_eq!(delivery_advances(from, to), want, "{from:?} → {to:?}");
        }
    }

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
