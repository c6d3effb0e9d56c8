//! Campaign decisions, pure and table-tested: how a campaign's state moves, reading an
//! audience file row by row, when a recipient's allowed hours next open (in their time
//! zone, daylight saving included), whether one recipient is sent to now, later or never,
//! and the pacer that holds a sender to its provider's rate in every second.

use crate::consent::Refusal;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use std::collections::{HashMap, VecDeque};
use switchboard_protocol::campaign::{
    AllowedHours, AudienceCheck, CampaignAction, CampaignState, ConditionOp, ContactFilter, FrequencyCap, PreviewRow,
    RowProblem,
};
use switchboard_protocol::model::{ChannelKind, Contact, Template};
use switchboard_protocol::Timestamp;

/// A campaign's state after `action` at `now`, with its schedule; or why not.
pub fn transition(
    state: CampaignState,
    action: CampaignAction,
    now: Timestamp,
) -> Result<(CampaignState, Option<Timestamp>), String> {
    use CampaignAction as A;
    use CampaignState as S;
    match (state, action) {
        (S::Draft | S::Scheduled, A::Schedule { at }) => Ok((S::Scheduled, Some(at.max(now)))),
        (S::Scheduled, A::Unschedule) => Ok((S::Draft, None)),
        (S::Running, A::Pause) => Ok((S::Paused, None)),
        (S::Paused, A::Resume) => Ok((S::Running, None)),
        (S::Draft | S::Scheduled | S::Running | S::Paused, A::Cancel) => Ok((S::Cancelled, None)),
        (S::Done | S::Cancelled, _) => Err(format!("the campaign is {state}; nothing more can change")),
        (_, a) => Err(format!("a {state} campaign cannot be {}", past(a))),
    }
}

fn past(a: CampaignAction) -> &'static str {
    match a {
        CampaignAction::Schedule { .. } => "scheduled",
        CampaignAction::Unschedule => "unscheduled",
        CampaignAction::Pause => "paused",
        CampaignAction::Resume => "resumed",
        CampaignAction::Cancel => "cancelled",
    }
}

/// The hub's name for a campaign send, given to the provider to echo in its status
/// reports.
pub fn reference(campaign_id: i64, row: i64) -> String {
    format!("sbc-{campaign_id}-{row}")
}

/// The campaign and row a reference names.
pub fn of_reference(r: &str) -> Option<(i64, i64)> {
    let (c, row) = r.strip_prefix("sbc-")?.split_once('-')?;
    Some((c.parse().ok()?, row.parse().ok()?))
}

/// What to do with a send found interrupted (marked `sending` by a hub that stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupted {
    /// The provider reports each message it took with the hub's reference: wait for that
    /// report until then, and send again if none came.
    AwaitReport { until: Timestamp },
    /// Nothing would say whether it went: failed, for a person to check.
    Fail,
}

/// Whether a provider confirms sends by reference: WhatsApp always echoes it; Twilio when
/// the inbox asks for status callbacks.
pub fn after_interruption(channel: ChannelKind, status_callbacks: bool, now: Timestamp, wait_ms: i64) -> Interrupted {
    match channel {
        ChannelKind::Whatsapp => Interrupted::AwaitReport { until: now + wait_ms },
        ChannelKind::Sms if status_callbacks => Interrupted::AwaitReport { until: now + wait_ms },
        _ => Interrupted::Fail,
    }
}

/// Allowed hours as minutes of the local day: `from` to `to`, across midnight when `to`
/// is earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub from: u16,
    pub to: u16,
}

impl Hours {
    pub fn parse(h: &AllowedHours) -> Result<Hours, String> {
        let minutes = |t: &str| -> Result<u16, String> {
            let (hh, mm) = t.split_once(':').ok_or_else(|| format!("`{t}` is not a time like 09:00"))?;
            match (hh.parse::<u16>(), mm.parse::<u16>()) {
                (Ok(h), Ok(m)) if h < 24 && m < 60 && mm.len() == 2 => Ok(h * 60 + m),
                _ => Err(format!("`{t}` is not a time like 09:00")),
            }
        };
        let (from, to) = (minutes(&h.from)?, minutes(&h.to)?);
        if from == to {
            return Err("allowed hours must start and end at different times".into());
        }
        Ok(Hours { from, to })
    }

    fn contains(self, minute: u16) -> bool {
        if self.from < self.to {
            (self.from..self.to).contains(&minute)
        } else {
            minute >= self.from || minute < self.to
        }
    }
}

/// When a recipient in `tz` may next be sent to: `now` inside the hours, else the next
/// time they open (a local time a spring-forward skips opens at the first moment after).
pub fn next_allowed(now: Timestamp, tz: &TimeZone, hours: Option<Hours>) -> Timestamp {
    let Some(h) = hours else { return now };
    let Ok(at) = jiff::Timestamp::from_millisecond(now) else { return now };
    let local = at.to_zoned(tz.clone());
    let minute = u16::try_from(local.hour()).unwrap_or(0) * 60 + u16::try_from(local.minute()).unwrap_or(0);
    if h.contains(minute) {
        return now;
    }
    let opens = |day: Date| -> Option<Timestamp> {
        let time = Time::new(i8::try_from(h.from / 60).ok()?, i8::try_from(h.from % 60).ok()?, 0, 0).ok()?;
        let zoned = tz.to_ambiguous_zoned(day.to_datetime(time)).compatible().ok()?;
        Some(zoned.timestamp().as_millisecond())
    };
    let today = local.date();
    [Some(today), today.tomorrow().ok()]
        .into_iter()
        .flatten()
        .filter_map(opens)
        .find(|&t| t > now)
        .unwrap_or(now + 24 * 3_600_000)
}

/// What becomes of one recipient now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Never: the reason's code and its words.
    Skip(&'static str, String),
    /// Not before then (their allowed hours).
    Defer(Timestamp),
}

/// What is known of one recipient when their turn comes.
#[derive(Debug, Clone)]
pub struct Turn<'a> {
    pub address: &'a str,
    pub consent: Option<Refusal>,
    /// Campaign messages they were sent within the cap's period.
    pub recent: u32,
    pub cap: FrequencyCap,
    /// When their allowed hours next open.
    pub allowed_from: Timestamp,
}

/// Consent first (opted out, withdrawn, not given), then the frequency cap, then the hours.
pub fn decide(t: &Turn<'_>, now: Timestamp) -> Decision {
    if let Some(r) = t.consent {
        return Decision::Skip(r.code(), r.message(t.address));
    }
    if t.recent >= t.cap.messages {
        return Decision::Skip(
            "frequency_cap",
            format!(
                "{} already had {} campaign message{} in {} day{}",
                t.address,
                t.recent,
                if t.recent == 1 { "" } else { "s" },
                t.cap.days,
                if t.cap.days == 1 { "" } else { "s" }
            ),
        );
    }
    if t.allowed_from > now {
        return Decision::Defer(t.allowed_from);
    }
    Decision::Send
}

/// Refuses a frequency cap that cannot work.
pub fn refuse_cap(cap: FrequencyCap) -> Option<String> {
    (cap.messages == 0 || cap.messages > 100 || cap.days == 0 || cap.days > 365)
        .then(|| "a frequency cap is 1 to 100 messages in 1 to 365 days".into())
}

/// Holds a sender to `rate` messages a second: never more than `rate` starts in any one
/// second and a fortieth (a sliding window, the fortieth for the network's jitter between
/// a send's start and its arrival), spread evenly (a bucket of a hundredth of a second's
/// worth). Times are microseconds on any steady clock.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: u32,
    started: VecDeque<i64>,
    tokens: f64,
    burst: f64,
    last: i64,
}

const SECOND_US: i64 = 1_000_000;
/// The pacer's window: a second, and room for jitter.
const WINDOW_US: i64 = SECOND_US + SECOND_US / 40;

impl Pacer {
    pub fn new(rate: u32, now_us: i64) -> Pacer {
        let rate = rate.max(1);
        let burst = (f64::from(rate) / 100.0).max(1.0);
        Pacer { rate, started: VecDeque::with_capacity(rate as usize), tokens: 1.0, burst, last: now_us }
    }

    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Whether one more send may start at `now_us`; if so, it counts as started.
    pub fn take(&mut self, now_us: i64) -> bool {
        let elapsed = (now_us - self.last).max(0);
        self.last = now_us.max(self.last);
        #[allow(clippy::cast_precision_loss)]
        let refill = elapsed as f64 * f64::from(self.rate) / 1e6;
        self.tokens = (self.tokens + refill).min(self.burst);
        while self.started.front().is_some_and(|&t| t <= now_us - WINDOW_US) {
            self.started.pop_front();
        }
        if self.tokens < 1.0 || self.started.len() >= self.rate as usize {
            return false;
        }
        self.tokens -= 1.0;
        self.started.push_back(now_us);
        true
    }

    /// When the next send may start, at the soonest.
    pub fn next_at(&self, now_us: i64) -> i64 {
        #[allow(clippy::cast_possible_truncation)]
        let refill = ((1.0 - self.tokens).max(0.0) * 1e6 / f64::from(self.rate)).ceil() as i64;
        let mut at = self.last.max(now_us).min(self.last + refill).max(self.last + refill);
        if self.started.len() >= self.rate as usize {
            if let Some(&first) = self.started.front() {
                at = at.max(first + WINDOW_US + 1);
            }
        }
        at.max(now_us)
    }
}

/// A contact's value for `field`: `name`, `crm.<key>` (a field the CRM gave), or a profile
/// field; empty values count as absent.
pub fn field_value<'a>(contact: &'a Contact, field: &str) -> Option<&'a str> {
    let v = match field {
        "name" => Some(contact.name.as_str()),
        f => match f.strip_prefix("crm.") {
            Some(key) => contact.crm.as_ref()?.fields.iter().find(|x| x.key == key).map(|x| x.value.as_str()),
            None => contact.profile.get(f).map(String::as_str),
        },
    };
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Whether `contact` meets every condition of `filter` (text compared ignoring case).
pub fn matches(filter: &ContactFilter, contact: &Contact) -> bool {
    filter.conditions.iter().all(|c| {
        let v = field_value(contact, &c.field).map(str::to_lowercase);
        let want = c.value.trim().to_lowercase();
        match c.op {
            ConditionOp::Equals => v.is_some_and(|v| v == want),
            ConditionOp::NotEquals => v.is_none_or(|v| v != want),
            ConditionOp::Contains => v.is_some_and(|v| v.contains(&want)),
            ConditionOp::Present => v.is_some(),
            ConditionOp::Absent => v.is_none(),
        }
    })
}

/// Refuses a filter that cannot be used.
pub fn refuse_filter(filter: &ContactFilter) -> Option<String> {
    if filter.conditions.len() > ContactFilter::MAX_CONDITIONS {
        return Some(format!("a filter has at most {} conditions", ContactFilter::MAX_CONDITIONS));
    }
    filter.conditions.iter().find_map(|c| {
        let field = c.field.trim();
        if field.is_empty() || field.len() > 100 || field == "crm." {
            Some("name each condition's field (name, a profile field, or crm.<field>)".into())
        } else if c.value.chars().count() > 500 {
            Some("a condition's value is at most 500 characters".into())
        } else {
            None
        }
    })
}

/// One recipient read from an audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The file's row (the header is row 1), or the contact's place in a filter.
    pub row: u32,
    pub address: String,
    pub name: String,
    pub params: Vec<String>,
    pub time_zone: Option<String>,
}

/// An audience file read against a channel and a template: the recipients, and every bad
/// row (none are sent when there is one).
#[derive(Debug, Default)]
pub struct Read {
    pub rows: u32,
    pub recipients: Vec<Recipient>,
    pub problems: Vec<RowProblem>,
    pub more_problems: u32,
}

impl Read {
    fn problem(&mut self, row: u32, column: Option<&str>, problem: String) {
        if self.problems.len() < AudienceCheck::MAX_PROBLEMS {
            self.problems.push(RowProblem { row, column: column.map(str::to_owned), problem });
        } else {
            self.more_problems += 1;
        }
    }

    /// The check as the lead sees it, the first rows filled in with `template`.
    pub fn check(&self, template: &Template) -> AudienceCheck {
        AudienceCheck {
            rows: self.rows,
            valid: u32::try_from(self.recipients.len()).unwrap_or(u32::MAX),
            problems: self.problems.clone(),
            more_problems: self.more_problems,
            preview: self
                .recipients
                .iter()
                .take(AudienceCheck::PREVIEW)
                .map(|r| PreviewRow {
                    row: r.row,
                    address: r.address.clone(),
                    name: r.name.clone(),
                    text: template.fill(&r.params),
                })
                .collect(),
        }
    }
}

/// The column a channel's addresses are in.
fn address_column(channel: ChannelKind) -> &'static str {
    match channel {
        ChannelKind::Email => "email",
        ChannelKind::Sms | ChannelKind::Whatsapp => "phone",
        _ => "address",
    }
}

/// Reads an audience file for `channel` and a template of `params` placeholders.
pub fn read_csv(csv_text: &str, channel: ChannelKind, params: usize, max_rows: usize) -> Read {
    let mut out = Read::default();
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(csv_text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => {
            out.problem(1, None, format!("the header row does not read as CSV: {e}"));
            return out;
        }
        None => {
            out.problem(1, None, "the file is empty; the first row names the columns".into());
            return out;
        }
    };
    let wanted = address_column(channel);
    let mut address = None;
    let (mut name, mut zone) = (None, None);
    let mut param_at = vec![None; params];
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, raw) in header.iter().enumerate() {
        let col = raw.trim().trim_start_matches('\u{feff}').to_lowercase();
        if let Some(first) = seen.insert(col.clone(), i) {
            out.problem(1, Some(&col), format!("column `{col}` appears twice (columns {} and {})", first + 1, i + 1));
            continue;
        }
        match col.as_str() {
            c if c == wanted || c == "address" => address = Some(i),
            "name" => name = Some(i),
            "time_zone" | "timezone" => zone = Some(i),
            c => match c.parse::<usize>() {
                Ok(n) if (1..=params).contains(&n) => param_at[n - 1] = Some(i),
                _ => out.problem(
                    1,
                    Some(&col),
                    format!("unknown column `{col}`: use {wanted}, name, time_zone and 1 to {params} for the template's values"),
                ),
            },
        }
    }
    let Some(address) = address else {
        out.problem(1, None, format!("no `{wanted}` column"));
        return out;
    };
    for (n, at) in param_at.iter().enumerate() {
        if at.is_none() {
            out.problem(1, None, format!("no column `{}` for the template's {{{{{}}}}}", n + 1, n + 1));
        }
    }
    let width = header.len();
    let mut first_row: HashMap<String, u32> = HashMap::new();
    // The file's own line of a record: one past the newlines before its first byte (the
    // reader skips empty lines, and quoted fields may span lines).
    let mut counted = (0usize, 1u64);
    let mut line_at = |byte: u64| -> u64 {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(csv_text.len());
        // A record's position is where the reader began, before the empty lines it skipped.
        while matches!(csv_text.as_bytes().get(byte), Some(b'\n' | b'\r')) {
            byte += 1;
        }
        if byte >= counted.0 {
            counted.1 += csv_text.as_bytes()[counted.0..byte].iter().filter(|&&b| b == b'\n').count() as u64;
            counted.0 = byte;
        }
        counted.1
    };
    let mut last_line = 1;
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(last_line + 1, |p| line_at(p.byte()));
                out.rows += 1;
                out.problem(u32::try_from(line).unwrap_or(u32::MAX), None, format!("does not read as CSV: {e}"));
                continue;
            }
        };
        last_line = rec.position().map_or(last_line + 1, |p| line_at(p.byte()));
        let row = u32::try_from(last_line).unwrap_or(u32::MAX);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        out.rows += 1;
        if out.rows as usize > max_rows {
            out.problem(row, None, format!("more than {max_rows} recipients; split the file"));
            break;
        }
        if rec.len() != width {
            out.problem(row, None, format!("has {} fields; the header has {width}", rec.len()));
            continue;
        }
        let field = |i: usize| rec.get(i).unwrap_or("").trim();
        let addr = match crate::address::normalize(channel, field(address), "US") {
            Ok(a) => a,
            Err(e) => {
                out.problem(row, Some(wanted), format!("`{}` is not a {wanted}: {e}", field(address)));
                continue;
            }
        };
        if let Some(first) = first_row.get(&addr) {
            out.problem(row, Some(wanted), format!("{addr} is already in row {first}"));
            continue;
        }
        let mut values = Vec::with_capacity(params);
        let mut bad = false;
        for (n, at) in param_at.iter().enumerate() {
            let v = at.map(&field).unwrap_or("");
            if v.is_empty() && at.is_some() {
                out.problem(row, Some(&(n + 1).to_string()), format!("no value for {{{{{}}}}}", n + 1));
                bad = true;
            } else if v.chars().count() > Template::MAX_VALUE_CHARS {
                out.problem(
                    row,
                    Some(&(n + 1).to_string()),
                    format!("longer than {} characters", Template::MAX_VALUE_CHARS),
                );
                bad = true;
            }
            values.push(v.to_owned());
        }
        let time_zone = zone.map(&field).filter(|z| !z.is_empty()).map(str::to_owned);
        if let Some(z) = &time_zone {
            if TimeZone::get(z).is_err() {
                out.problem(row, Some("time_zone"), format!("`{z}` is not a time zone (like Europe/Lisbon)"));
                bad = true;
            }
        }
        let who = name.map(&field).unwrap_or("");
        if who.chars().count() > 200 {
            out.problem(row, Some("name"), "a name is at most 200 characters".into());
            bad = true;
        }
        if bad {
            continue;
        }
        first_row.insert(addr.clone(), row);
        out.recipients.push(Recipient { row, address: addr, name: who.to_owned(), params: values, time_zone });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use CampaignAction as A;
    use CampaignState as S;

    #[test]
    fn states_move_only_as_leads_expect() {
        let now = 1_000;
        let table = [
            (S::Draft, A::Schedule { at: 5_000 }, Ok((S::Scheduled, Some(5_000)))),
            (S::Draft, A::Schedule { at: 10 }, Ok((S::Scheduled, Some(now)))),
            (S::Scheduled, A::Schedule { at: 9_000 }, Ok((S::Scheduled, Some(9_000)))),
            (S::Scheduled, A::Unschedule, Ok((S::Draft, None))),
            (S::Running, A::Pause, Ok((S::Paused, None))),
            (S::Paused, A::Resume, Ok((S::Running, None))),
            (S::Paused, A::Cancel, Ok((S::Cancelled, None))),
            (S::Running, A::Cancel, Ok((S::Cancelled, None))),
            (S::Draft, A::Cancel, Ok((S::Cancelled, None))),
        ];
        for (from, action, want) in table {
            assert_eq!(transition(from, action, now), want, "{from} {action:?}");
        }
        for (from, action) in [
            (S::Draft, A::Pause),
            (S::Scheduled, A::Resume),
            (S::Running, A::Schedule { at: 0 }),
            (S::Running, A::Resume),
            (S::Paused, A::Pause),
            (S::Done, A::Cancel),
            (S::Cancelled, A::Resume),
            (S::Running, A::Unschedule),
        ] {
            assert!(transition(from, action, now).is_err(), "{from} {action:?}");
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse::<jiff::Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn references_name_their_send_and_interrupted_sends_wait_where_a_report_will_come() {
        assert_eq!(of_reference(&reference(12, 3_456)), Some((12, 3_456)));
        for bad in ["", "sbc-", "sbc-1", "sbc-x-2", "abc-1-2", "sbc-1-2-3"] {
            assert_eq!(of_reference(bad), None, "{bad}");
        }
        let wait = |c, cb| after_interruption(c, cb, 1_000, 60_000);
        assert_eq!(wait(ChannelKind::Whatsapp, false), Interrupted::AwaitReport { until: 61_000 });
        assert_eq!(wait(ChannelKind::Sms, true), Interrupted::AwaitReport { until: 61_000 });
        assert_eq!(wait(ChannelKind::Sms, false), Interrupted::Fail, "no status callbacks asked for");
        assert_eq!(wait(ChannelKind::Email, true), Interrupted::Fail);
        assert_eq!(wait(ChannelKind::Messenger, true), Interrupted::Fail);
    }

    #[test]
    fn allowed_hours_open_in_the_recipients_zone() {
        let lisbon = TimeZone::get("Europe/Lisbon").unwrap();
        let ny = TimeZone::get("America/New_York").unwrap();
        let day = Some(Hours { from: 9 * 60, to: 20 * 60 });
        let night = Some(Hours { from: 22 * 60, to: 6 * 60 });
        let table = [
            ("no hours: now", "2026-12-05T03:00:00Z", &lisbon, None, "2026-12-05T03:00:00Z"),
            ("inside", "2026-12-05T10:00:00Z", &lisbon, day, "2026-12-05T10:00:00Z"),
            ("before opening", "2026-12-05T07:30:00Z", &lisbon, day, "2026-12-05T09:00:00Z"),
            ("after closing: tomorrow", "2026-12-05T20:00:00Z", &lisbon, day, "2026-12-06T09:00:00Z"),
            ("their zone, not ours", "2026-12-05T12:00:00Z", &ny, day, "2026-12-05T14:00:00Z"),
            ("across midnight, inside", "2026-12-05T23:30:00Z", &lisbon, night, "2026-12-05T23:30:00Z"),
            ("across midnight, before", "2026-12-05T12:00:00Z", &lisbon, night, "2026-12-05T22:00:00Z"),
            // Summer time starts at 01:00 UTC on 29 March 2026 in Lisbon: 09:00 is 08:00 UTC.
            ("summer time begins", "2026-03-28T21:00:00Z", &lisbon, day, "2026-03-29T08:00:00Z"),
            // New York springs forward at 02:00 local on 8 March 2026: 02:30 does not exist.
            (
                "an opening the clock skips",
                "2026-03-08T05:00:00Z",
                &ny,
                Some(Hours { from: 2 * 60 + 30, to: 5 * 60 }),
                "2026-03-08T07:30:00Z",
            ),
        ];
        for (name, now, tz, hours, want) in table {
            assert_eq!(next_allowed(at(now), tz, hours), at(want), "{name}");
        }
    }

    #[test]
    fn hours_read_or_refuse() {
        let h = |f: &str, t: &str| Hours::parse(&AllowedHours { from: f.into(), to: t.into() });
        assert_eq!(h("09:00", "20:30"), Ok(Hours { from: 540, to: 1230 }));
        assert_eq!(h("22:00", "06:00"), Ok(Hours { from: 1320, to: 360 }));
        for (f, t) in [("9", "20:00"), ("24:00", "01:00"), ("09:60", "10:00"), ("10:00", "10:00"), ("9:5", "10:00")] {
            assert!(h(f, t).is_err(), "{f}-{t}");
        }
    }

    #[test]
    fn each_recipient_is_sent_deferred_or_skipped_with_a_reason() {
        let cap = FrequencyCap { messages: 2, days: 7 };
        let base = Turn { address: "+14155550100", consent: None, recent: 0, cap, allowed_from: 100 };
        let table = [
            ("clear", base.clone(), Decision::Send),
            (
                "opted out",
                Turn { consent: Some(Refusal::OptedOut), ..base.clone() },
                Decision::Skip("opted_out", String::new()),
            ),
            ("at the cap", Turn { recent: 2, ..base.clone() }, Decision::Skip("frequency_cap", String::new())),
            ("under the cap", Turn { recent: 1, ..base.clone() }, Decision::Send),
            ("outside hours", Turn { allowed_from: 5_000, ..base.clone() }, Decision::Defer(5_000)),
            (
                "consent before hours",
                Turn {
                    consent: Some(Refusal::NotGiven(switchboard_protocol::consent::ConsentPurpose::Marketing)),
                    allowed_from: 5_000,
                    ..base.clone()
                },
                Decision::Skip("no_consent", String::new()),
            ),
            (
                "cap before hours",
                Turn { recent: 3, allowed_from: 5_000, ..base },
                Decision::Skip("frequency_cap", String::new()),
            ),
        ];
        for (name, turn, want) in table {
            let got = decide(&turn, 100);
            match (&got, &want) {
                (Decision::Skip(code, why), Decision::Skip(want_code, _)) => {
                    assert_eq!(code, want_code, "{name}");
                    assert!(why.contains("+14155550100"), "{name}: {why}");
                }
                _ => assert_eq!(got, want, "{name}"),
            }
        }
        assert!(refuse_cap(FrequencyCap { messages: 0, days: 7 }).is_some());
        assert!(refuse_cap(FrequencyCap { messages: 1, days: 0 }).is_some());
        assert!(refuse_cap(cap).is_none());
    }

    /// The most starts in any one-second window.
    fn busiest_second(starts: &[i64]) -> usize {
        let mut most = 0;
        let mut lo = 0;
        for hi in 0..starts.len() {
            while starts[hi] - starts[lo] >= SECOND_US {
                lo += 1;
            }
            most = most.max(hi - lo + 1);
        }
        most
    }

    #[test]
    fn the_pacer_holds_every_second_to_the_rate() {
        for (rate, tick_us, secs) in [(1, 1_000, 5), (3, 700, 4), (80, 1_000, 3), (2_000, 1_000, 3), (2_500, 1_300, 3)]
        {
            let mut p = Pacer::new(rate, 0);
            let mut starts = Vec::new();
            let mut now = 0;
            while now < secs * SECOND_US {
                while p.take(now) {
                    starts.push(now);
                }
                now += tick_us;
            }
            assert!(busiest_second(&starts) <= rate as usize, "rate {rate}: {}", busiest_second(&starts));
            let per_second = starts.len() as f64 / secs as f64;
            assert!(per_second >= f64::from(rate) * 0.95, "rate {rate}: only {per_second}/s");
        }
        // After a pause it does not burst: the next second still holds to the rate.
        let mut p = Pacer::new(100, 0);
        let mut starts = Vec::new();
        let mut now = 10 * SECOND_US;
        while now < 11 * SECOND_US {
            while p.take(now) {
                starts.push(now);
            }
            now += 5_000;
        }
        assert!(busiest_second(&starts) <= 100);
        assert!(starts.windows(2).all(|w| w[1] - w[0] >= 0), "in order");
        assert!(starts.iter().filter(|&&t| t < 10 * SECOND_US + 10_000).count() <= 2, "no burst after idling");
        let p = Pacer::new(10, 0);
        assert!(p.next_at(0) >= 0);
    }

    fn contact(name: &str, profile: &[(&str, &str)], crm: &[(&str, &str)]) -> Contact {
        Contact {
            id: 1,
            name: name.into(),
            identities: vec![],
            profile: profile.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            crm: Some(switchboard_protocol::model::CrmSnapshot {
                source: "hubspot".into(),
                fields: crm
                    .iter()
                    .map(|(k, v)| switchboard_protocol::model::CrmField {
                        key: (*k).into(),
                        label: (*k).into(),
                        value: (*v).into(),
                    })
                    .collect(),
                fetched_at: 0,
                link: None,
                error: None,
                record_id: None,
                searched: vec![],
                others: vec![],
            }),
            opted_out: vec![],
            consents: vec![],
            created_at: 0,
            updated_at: 0,
            version: 1,
        }
    }

    #[test]
    fn filters_match_names_profiles_and_crm_fields() {
        use switchboard_protocol::campaign::Condition;
        let ana = contact("Ana Silva", &[("plan", "Pro"), ("city", "  ")], &[("lifecyclestage", "customer")]);
        let cond = |field: &str, op, value: &str| Condition { field: field.into(), op, value: value.into() };
        let table = [
            ("no conditions", vec![], true),
            ("equals ignores case", vec![cond("plan", ConditionOp::Equals, "pro")], true),
            ("equals another", vec![cond("plan", ConditionOp::Equals, "free")], false),
            ("not equals", vec![cond("plan", ConditionOp::NotEquals, "free")], true),
            ("not equals when absent", vec![cond("tier", ConditionOp::NotEquals, "gold")], true),
            ("contains in the name", vec![cond("name", ConditionOp::Contains, "silva")], true),
            ("crm field", vec![cond("crm.lifecyclestage", ConditionOp::Equals, "Customer")], true),
            ("blank is absent", vec![cond("city", ConditionOp::Absent, "")], true),
            ("present", vec![cond("plan", ConditionOp::Present, "")], true),
            (
                "every condition",
                vec![cond("plan", ConditionOp::Equals, "pro"), cond("crm.lifecyclestage", ConditionOp::Equals, "lead")],
                false,
            ),
        ];
        for (name, conditions, want) in table {
            assert_eq!(matches(&ContactFilter { conditions }, &ana), want, "{name}");
        }
        assert_eq!(field_value(&ana, "crm.lifecyclestage"), Some("customer"));
        assert_eq!(field_value(&ana, "crm.nothing"), None);
        assert!(refuse_filter(&ContactFilter { conditions: vec![cond(" ", ConditionOp::Present, "")] }).is_some());
    }

    fn template(body: &str) -> Template {
        Template { name: "t".into(), language: "en".into(), body: body.into() }
    }

    #[test]
    fn audience_files_are_read_row_by_row() {
        let csv = "phone,name,1,2,time_zone\n\
                   +1 415 555 0101,Ana,#4521,Friday,America/Los_Angeles\n\
                   not a number,Bo,#1,Monday,\n\
                   (415) 555-0101,Ana again,#2,Monday,\n\
                   +14155550103,Cy,,Monday,\n\
                   +14155550104,Di,#5,Monday,Mars/Olympus\n\
                   +14155550105,Ed,#6\n\
                   \n\
                   +14155550106,\"Fa, Jr\",#7,Tuesday,\n";
        let r = read_csv(csv, ChannelKind::Sms, 2, 100);
        assert_eq!(r.rows, 7);
        assert_eq!(r.recipients.len(), 2);
        assert_eq!(r.recipients[0].address, "+14155550101");
        assert_eq!(r.recipients[0].time_zone.as_deref(), Some("America/Los_Angeles"));
        assert_eq!(r.recipients[1].name, "Fa, Jr");
        assert_eq!(r.recipients[1].row, 9);
        let rows: Vec<(u32, Option<&str>)> = r.problems.iter().map(|p| (p.row, p.column.as_deref())).collect();
        assert_eq!(
            rows,
            [(3, Some("phone")), (4, Some("phone")), (5, Some("1")), (6, Some("time_zone")), (7, None)],
            "{:?}",
            r.problems
        );
        assert!(r.problems[1].problem.contains("row 2"), "{}", r.problems[1].problem);
        let check = r.check(&template("Order {{1}} arrives {{2}}"));
        assert_eq!(check.preview[0].text, "Order #4521 arrives Friday");
        assert_eq!((check.rows, check.valid), (7, 2));
    }

    #[test]
    fn bad_headers_are_reported_before_any_row() {
        let r = read_csv("email,coupon,1\na@x.test,10OFF,Ana\n", ChannelKind::Email, 2, 100);
        let problems: Vec<&str> = r.problems.iter().map(|p| p.problem.as_str()).collect();
        assert!(problems.iter().any(|p| p.contains("unknown column `coupon`")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("no column `2`")), "{problems:?}");
        assert!(read_csv("name\nAna\n", ChannelKind::Sms, 0, 10).problems[0].problem.contains("no `phone` column"));
        assert!(read_csv("", ChannelKind::Sms, 0, 10).problems[0].problem.contains("empty"));
        let twice = read_csv("phone,phone\n+14155550101,+14155550102\n", ChannelKind::Sms, 0, 10);
        assert!(twice.problems[0].problem.contains("twice"));
        let many: String = std::iter::once("phone".to_owned())
            .chain((0..20).map(|i| format!("+1415555{:04}", 1000 + i)))
            .collect::<Vec<_>>()
            .join("\n");
        let capped = read_csv(&many, ChannelKind::Sms, 0, 10);
        assert_eq!(capped.recipients.len(), 10);
        assert!(capped.problems.last().unwrap().problem.contains("more than 10"));
        let bom = read_csv("\u{feff}Phone\n+14155550101\n", ChannelKind::Whatsapp, 0, 10);
        assert!(bom.problems.is_empty(), "{:?}", bom.problems);
    }
}
