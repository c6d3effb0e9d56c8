//! The lead's reports, worked out purely: a period's days in the report time zone, what
//! happened (facts read from the store's events) folded into one summary per team and day,
//! and a period's days summed into the [`Report`] the API answers. Durations are kept as
//! histograms whose buckets are exact under a minute and within 1/64 above, so a year of
//! days sums in microseconds and percentiles stay within 2%.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp as Instant;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use switchboard_protocol::model::ChannelKind;
use switchboard_protocol::report::{
    AgentReport, ChannelVolume, CsatSummary, DayVolume, Durations, Report, ReportQuery, SlaAttainment, SlaTarget,
};
use switchboard_protocol::Timestamp;

/// The team whose rows hold what belongs to no team: each agent's time online, and their
/// load over every team at once.
pub const WORKSPACE: i64 = 0;

/// How long after a day ends its figures are fixed and may be kept: long enough for any
/// write dated in it to have committed.
pub const SETTLE_MS: i64 = 5 * 60_000;

// ---------------------------------------------------------------------------------------
// Durations

/// Durations counted in buckets of whole seconds: one bucket per second under 64 s, then
/// 32 buckets per doubling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Histogram(BTreeMap<u32, u64>);

const EXACT: u64 = 64;
const PER_DOUBLING: u32 = 32;

fn bucket_of(secs: u64) -> u32 {
    if secs < EXACT {
        return secs as u32;
    }
    let e = 63 - secs.leading_zeros(); // 2^e <= secs < 2^(e+1), e >= 6
    let shift = e - 5;
    let mantissa = (secs >> shift) as u32; // 32..64
    EXACT as u32 + (e - 6) * PER_DOUBLING + (mantissa - PER_DOUBLING)
}

/// The middle of a bucket, in seconds.
fn bucket_value(bucket: u32) -> u64 {
    if u64::from(bucket) < EXACT {
        return u64::from(bucket);
    }
    let k = bucket - EXACT as u32;
    let e = k / PER_DOUBLING + 6;
    let mantissa = u64::from(k % PER_DOUBLING + PER_DOUBLING);
    let width = 1u64 << (e - 5);
    (mantissa << (e - 5)) + width / 2
}

impl Histogram {
    pub fn add(&mut self, ms: i64) {
        let secs = u64::try_from(ms.max(0) / 1000).unwrap_or(0);
        *self.0.entry(bucket_of(secs)).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (b, n) in &other.0 {
            *self.0.entry(*b).or_default() += n;
        }
    }

    pub fn count(&self) -> u64 {
        self.0.values().sum()
    }

    /// The `q` quantile (0 < q <= 1) by nearest rank, in milliseconds.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (b, c) in &self.0 {
            seen += c;
            if seen >= rank {
                return Some(bucket_value(*b) * 1000);
            }
        }
        None
    }

    pub fn durations(&self) -> Durations {
        Durations { count: self.count(), median_ms: self.quantile(0.5), p90_ms: self.quantile(0.9) }
    }
}

// ---------------------------------------------------------------------------------------
// One team's day

/// One agent's work on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentDay {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub handled: u64,
    /// Conversations held, summed, while online.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub held_ms: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub online_ms: u64,
    /// The most held at once while online.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub peak: u32,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// What happened in one team (or [`WORKSPACE`]) on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// New conversations by channel.
    #[serde(default)]
    pub opened: BTreeMap<ChannelKind, u64>,
    /// New conversations by local hour.
    #[serde(default)]
    pub by_hour: BTreeMap<u8, u64>,
    #[serde(default)]
    pub resolved: u64,
    #[serde(default)]
    pub first_response: Histogram,
    #[serde(default)]
    pub resolution: Histogram,
    /// Answers 1 to 5, at index score - 1.
    #[serde(default)]
    pub csat: [u64; 5],
    /// Targets due that day: met, missed.
    #[serde(default)]
    pub sla: BTreeMap<SlaTarget, [u64; 2]>,
    #[serde(default)]
    pub agents: BTreeMap<i64, AgentDay>,
}

/// Something that happened, as the store's events record it. Times are milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A conversation started.
    Opened {
        team: i64,
        channel: ChannelKind,
        at: Timestamp,
    },
    /// A conversation that started at `started` was first answered at `at`.
    FirstReply {
        team: i64,
        started: Timestamp,
        at: Timestamp,
    },
    /// A conversation that started at `started` was resolved at `at`.
    Resolved {
        team: i64,
        started: Timestamp,
        at: Timestamp,
    },
    Csat {
        team: i64,
        score: u8,
        at: Timestamp,
    },
    /// A target due at `due` was met or missed.
    Target {
        team: i64,
        target: SlaTarget,
        due: Timestamp,
        met: bool,
    },
    /// An agent held a conversation from `from` until `to` (still, when `None`); `resolved`
    /// when it ended because they resolved it.
    Held {
        team: i64,
        agent: i64,
        from: Timestamp,
        to: Option<Timestamp>,
        resolved: bool,
    },
    /// An agent was online from `from` until `to` (still, when `None`).
    Online {
        agent: i64,
        from: Timestamp,
        to: Option<Timestamp>,
    },
}

/// A day in the report time zone, and when it starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpan {
    pub date: Date,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// When `date` starts in `tz` (midnight, or the first instant after it on a day that skips
/// midnight).
pub fn day_start(tz: &TimeZone, date: Date) -> Option<Timestamp> {
    Some(date.to_zoned(tz.clone()).ok()?.start_of_day().ok()?.timestamp().as_millisecond())
}

/// The days from `from` to `to`, both included.
pub fn days(tz: &TimeZone, from: Date, to: Date) -> Vec<DaySpan> {
    let mut out = Vec::new();
    let mut d = from;
    while d <= to {
        let Ok(next) = d.tomorrow() else { break };
        if let (Some(start), Some(end)) = (day_start(tz, d), day_start(tz, next)) {
            out.push(DaySpan { date: d, start, end });
        }
        d = next;
    }
    out
}

fn local(tz: &TimeZone, at: Timestamp) -> Option<(Date, u8)> {
    let z = Instant::from_millisecond(at).ok()?.to_zoned(tz.clone());
    Some((z.date(), u8::try_from(z.hour()).ok()?))
}

/// The period a query asks for, checked: real dates, in order, at most
/// [`ReportQuery::MAX_DAYS`] days.
pub fn period(q: &ReportQuery) -> Result<(Date, Date), String> {
    let parse = |what: &str, s: &str| -> Result<Date, String> {
        s.trim().parse::<Date>().map_err(|_| format!("`{what}` must be a date, YYYY-MM-DD (got {s:?})"))
    };
    let (from, to) = (parse("from", &q.from)?, parse("to", &q.to)?);
    if from > to {
        return Err("`from` must not be after `to`".into());
    }
    let span = (to - from).get_days() + 1;
    if span > ReportQuery::MAX_DAYS as i32 {
        return Err(format!("a report covers at most {} days", ReportQuery::MAX_DAYS));
    }
    Ok((from, to))
}

fn overlap(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> Option<(Timestamp, Timestamp)> {
    let (s, e) = (a.0.max(b.0), a.1.min(b.1));
    (s < e).then_some((s, e))
}

/// The most intervals open at one instant (an interval ending where another starts does
/// not overlap it).
fn peak(intervals: &[(Timestamp, Timestamp)]) -> u32 {
    let mut edges: Vec<(Timestamp, i32)> = intervals.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    edges.sort_unstable();
    let (mut open, mut most) = (0i32, 0i32);
    for (_, d) in edges {
        open += d;
        most = most.max(open);
    }
    u32::try_from(most).unwrap_or(0)
}

/// Folds `facts` into one [`Day`] per team and day of `span`, plus a [`WORKSPACE`] day for
/// each (present even when nothing happened, so a kept day shows it was worked out).
/// Intervals still running end at `now`; facts outside `span` are left out.
pub fn fold(tz: &TimeZone, span: &[DaySpan], facts: &[Fact], now: Timestamp) -> BTreeMap<(i64, Date), Day> {
    let mut out: BTreeMap<(i64, Date), Day> = span.iter().map(|d| ((WORKSPACE, d.date), Day::default())).collect();
    // The index of the day holding `at`, if any.
    let day_of = |at: Timestamp| -> Option<usize> {
        let i = span.partition_point(|d| d.end <= at);
        span.get(i).filter(|d| at >= d.start).map(|_| i)
    };
    let in_span = |at: Timestamp| day_of(at).map(|i| span[i].date);
    // Each interval cut at midnight: (day index, from, to).
    let cut = |from: Timestamp, to: Timestamp| -> Vec<(usize, Timestamp, Timestamp)> {
        let first = span.partition_point(|d| d.end <= from);
        span.iter()
            .enumerate()
            .skip(first)
            .take_while(|(_, d)| d.start < to)
            .filter_map(|(i, d)| overlap((from, to), (d.start, d.end)).map(|(s, e)| (i, s, e)))
            .collect()
    };
    // Keyed by (day index, agent): each held conversation's (team, from, to), and each time
    // online.
    type Held = (i64, Timestamp, Timestamp);
    let mut held: BTreeMap<(usize, i64), Vec<Held>> = BTreeMap::new();
    let mut online: BTreeMap<(usize, i64), Vec<(Timestamp, Timestamp)>> = BTreeMap::new();
    for f in facts {
        match *f {
            Fact::Opened { team, channel, at } => {
                if let (Some(date), Some((_, hour))) = (in_span(at), local(tz, at)) {
                    let d = out.entry((team, date)).or_default();
                    *d.opened.entry(channel).or_default() += 1;
                    *d.by_hour.entry(hour).or_default() += 1;
                }
            }
            Fact::FirstReply { team, started, at } => {
                if let Some(date) = in_span(at) {
                    out.entry((team, date)).or_default().first_response.add(at - started);
                }
            }
            Fact::Resolved { team, started, at } => {
                if let Some(date) = in_span(at) {
                    let d = out.entry((team, date)).or_default();
                    d.resolved += 1;
                    d.resolution.add(at - started);
                }
            }
            Fact::Csat { team, score, at } => {
                if let (Some(date), 1..=5) = (in_span(at), score) {
                    out.entry((team, date)).or_default().csat[usize::from(score - 1)] += 1;
                }
            }
            Fact::Target { team, target, due, met } => {
                if let Some(date) = in_span(due) {
                    out.entry((team, date)).or_default().sla.entry(target).or_default()[usize::from(!met)] += 1;
                }
            }
            Fact::Held { team, agent, from, to, resolved } => {
                let to = to.unwrap_or(now);
                if resolved {
                    if let Some(date) = in_span(to) {
                        for t in [team, WORKSPACE] {
                            out.entry((t, date)).or_default().agents.entry(agent).or_default().handled += 1;
                        }
                    }
                }
                for (i, s, e) in cut(from, to) {
                    held.entry((i, agent)).or_default().push((team, s, e));
                }
            }
            Fact::Online { agent, from, to } => {
                for (i, s, e) in cut(from, to.unwrap_or(now)) {
                    online.entry((i, agent)).or_default().push((s, e));
                }
            }
        }
    }
    for ((i, agent), on) in &online {
        let date = span[*i].date;
        let online_ms: i64 = on.iter().map(|(s, e)| e - s).sum();
        out.entry((WORKSPACE, date)).or_default().agents.entry(*agent).or_default().online_ms += online_ms as u64;
        // Each held conversation's time while online, per team and over every team.
        let mut pieces: BTreeMap<i64, Vec<(Timestamp, Timestamp)>> = BTreeMap::new();
        for &(team, from, to) in held.get(&(*i, *agent)).map_or(&[][..], Vec::as_slice) {
            for o in on {
                if let Some(p) = overlap((from, to), *o) {
                    pieces.entry(team).or_default().push(p);
                    pieces.entry(WORKSPACE).or_default().push(p);
                }
            }
        }
        for (team, ps) in &pieces {
            let a = out.entry((*team, date)).or_default().agents.entry(*agent).or_default();
            a.held_ms += ps.iter().map(|(s, e)| (e - s) as u64).sum::<u64>();
            a.peak = a.peak.max(peak(ps));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// A period

/// What a report is summed from: its teams' days, the workspace's days, and who the agents
/// are.
#[derive(Debug)]
pub struct Inputs<'a> {
    pub query: &'a ReportQuery,
    pub time_zone: &'a str,
    pub days: &'a [DaySpan],
    /// The chosen teams' days (any day or team may be missing: nothing happened).
    pub team_days: &'a BTreeMap<(i64, Date), Day>,
    pub teams: &'a [i64],
    /// The chosen teams are every team: agents' load comes from the workspace's days, which
    /// count a conversation of each team at once.
    pub every_team: bool,
    /// The agents shown, by id, with their names.
    pub agents: &'a BTreeMap<i64, String>,
    pub now: Timestamp,
}

/// Sums a period's days into a report.
pub fn summarize(i: &Inputs<'_>) -> Report {
    let mut by_channel: BTreeMap<ChannelKind, u64> = BTreeMap::new();
    let mut by_hour = vec![0u64; 24];
    let (mut first, mut resolution) = (Histogram::default(), Histogram::default());
    let mut csat = [0u64; 5];
    let mut sla: BTreeMap<SlaTarget, [u64; 2]> = BTreeMap::new();
    let mut agents: BTreeMap<i64, AgentDay> = BTreeMap::new();
    let mut by_day = Vec::with_capacity(i.days.len());
    let empty = Day::default();
    for span in i.days {
        let (mut opened, mut resolved) = (0, 0);
        for team in i.teams {
            let Some(d) = i.team_days.get(&(*team, span.date)) else { continue };
            for (c, n) in &d.opened {
                *by_channel.entry(*c).or_default() += n;
                opened += n;
            }
            for (h, n) in &d.by_hour {
                if let Some(slot) = by_hour.get_mut(usize::from(*h)) {
                    *slot += n;
                }
            }
            resolved += d.resolved;
            first.merge(&d.first_response);
            resolution.merge(&d.resolution);
            for (a, b) in csat.iter_mut().zip(d.csat) {
                *a += b;
            }
            for (t, [met, missed]) in &d.sla {
                let s = sla.entry(*t).or_default();
                s[0] += met;
                s[1] += missed;
            }
            for (id, a) in &d.agents {
                let sum = agents.entry(*id).or_default();
                sum.handled += a.handled;
                if !i.every_team {
                    sum.held_ms += a.held_ms;
                    sum.peak = sum.peak.max(a.peak);
                }
            }
        }
        let ws = i.team_days.get(&(WORKSPACE, span.date)).unwrap_or(&empty);
        for (id, a) in &ws.agents {
            let sum = agents.entry(*id).or_default();
            sum.online_ms += a.online_ms;
            if i.every_team {
                sum.held_ms += a.held_ms;
                sum.peak = sum.peak.max(a.peak);
            }
        }
        by_day.push(DayVolume { date: span.date.to_string(), conversations: opened, resolved });
    }
    let responses: u64 = csat.iter().sum();
    let points: u64 = csat.iter().zip(1u64..).map(|(n, s)| n * s).sum();
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    Report {
        query: i.query.clone(),
        time_zone: i.time_zone.to_owned(),
        generated_at: i.now,
        conversations: by_day.iter().map(|d| d.conversations).sum(),
        resolved: by_day.iter().map(|d| d.resolved).sum(),
        first_response: first.durations(),
        resolution: resolution.durations(),
        by_channel: by_channel
            .into_iter()
            .map(|(channel, conversations)| ChannelVolume { channel, conversations })
            .collect(),
        by_hour,
        by_day,
        agents: i
            .agents
            .iter()
            .map(|(id, name)| {
                let a = agents.get(id).copied().unwrap_or_default();
                AgentReport {
                    agent_id: *id,
                    name: name.clone(),
                    handled: a.handled,
                    online_ms: a.online_ms,
                    held_ms: a.held_ms,
                    average_concurrency: ratio(a.held_ms, a.online_ms).map_or(0.0, |r| (r * 100.0).round() / 100.0),
                    peak_concurrency: a.peak,
                }
            })
            .collect(),
        sla: SlaTarget::ALL
            .into_iter()
            .filter_map(|t| sla.get(&t).map(|[met, missed]| SlaAttainment { target: t, met: *met, missed: *missed }))
            .collect(),
        csat: CsatSummary {
            responses,
            scores: csat.to_vec(),
            average: ratio(points, responses).map(|r| (r * 100.0).round() / 100.0),
            satisfied: ratio(csat[3] + csat[4], responses).map(|r| (r * 1000.0).round() / 1000.0),
        },
        bot: Default::default(),
        articles: Vec::new(),
        deflections: 0,
    }
}

/// The days of `span` whose figures are fixed at `now` and may be kept.
pub fn settled(span: &[DaySpan], now: Timestamp) -> BTreeSet<Date> {
    span.iter().filter(|d| d.end + SETTLE_MS <= now).map(|d| d.date).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    fn at(tz: &TimeZone, y: i16, m: i8, d: i8, h: i8, min: i8) -> Timestamp {
        date(y, m, d).at(h, min, 0, 0).to_zoned(tz.clone()).unwrap().timestamp().as_millisecond()
    }

    #[test]
    fn histogram_buckets_are_exact_under_a_minute_and_close_above() {
        for secs in [0u64, 1, 59, 63, 64, 65, 100, 1_000, 3_599, 86_400, 7 * 86_400, 400 * 86_400] {
            let v = bucket_value(bucket_of(secs));
            let err = v.abs_diff(secs) as f64 / secs.max(1) as f64;
            if secs < 64 {
                assert_eq!(v, secs);
            } else {
                assert!(err <= 1.0 / 64.0, "{secs}s reads {v}s");
            }
        }
        // Buckets only grow.
        let mut last = 0;
        for secs in 0..100_000u64 {
            let b = bucket_of(secs);
            assert!(b >= last);
            last = b;
        }
    }

    #[test]
    fn percentiles_by_nearest_rank_within_two_percent() {
        let mut h = Histogram::default();
        assert_eq!(h.durations(), Durations { count: 0, median_ms: None, p90_ms: None });
        // 1..=100 minutes: the median is 50 min, the 90th 90 min.
        let mut exact: Vec<i64> = (1..=100).map(|m| m * MIN).collect();
        for v in &exact {
            h.add(*v);
        }
        exact.sort_unstable();
        for (q, want) in [(0.5, exact[49]), (0.9, exact[89]), (1.0, exact[99]), (0.01, exact[0])] {
            let got = h.quantile(q).unwrap() as i64;
            assert!((got - want).abs() as f64 <= want as f64 * 0.02, "q{q}: {got} vs {want}");
        }
        // Merging sums counts, the same as adding everything to one.
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for (i, v) in exact.iter().enumerate() {
            if i % 2 == 0 {
                a.add(*v)
            } else {
                b.add(*v)
            }
        }
        a.merge(&b);
        assert_eq!(a, h);
        // Negative durations (clocks apart) count as zero.
        let mut z = Histogram::default();
        z.add(-5_000);
        assert_eq!(z.quantile(0.5), Some(0));
    }

    #[test]
    fn periods_are_checked() {
        let q = |from: &str, to: &str| ReportQuery { from: from.into(), to: to.into(), team_id: None };
        assert_eq!(period(&q("2026-01-01", "2026-12-31")), Ok((date(2026, 1, 1), date(2026, 12, 31))));
        assert_eq!(period(&q("2026-03-05", "2026-03-05")), Ok((date(2026, 3, 5), date(2026, 3, 5))));
        for (from, to, why) in [
            ("2026-02-30", "2026-03-01", "date"),
            ("yesterday", "2026-03-01", "date"),
            ("2026-03-02", "2026-03-01", "after"),
            ("2025-01-01", "2026-01-02", "at most"),
        ] {
            let e = period(&q(from, to)).unwrap_err();
            assert!(e.contains(why), "{from}..{to}: {e}");
        }
    }

    #[test]
    fn days_follow_the_time_zone_through_daylight_saving() {
        let lisbon = TimeZone::get("Europe/Lisbon").unwrap();
        // Clocks go forward on 29 March 2026 and back on 25 October.
        let d = days(&lisbon, date(2026, 3, 28), date(2026, 3, 30));
        let lengths: Vec<i64> = d.iter().map(|s| (s.end - s.start) / HOUR).collect();
        assert_eq!(lengths, [24, 23, 24]);
        let d = days(&lisbon, date(2026, 10, 25), date(2026, 10, 25));
        assert_eq!((d[0].end - d[0].start) / HOUR, 25);
        // A Lisbon summer day starts at 23:00 UTC the day before.
        assert_eq!(d[0].start, at(&utc(), 2026, 10, 24, 23, 0));
        // Days meet end to end.
        let year = days(&lisbon, date(2026, 1, 1), date(2026, 12, 31));
        assert_eq!(year.len(), 365);
        assert!(year.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn facts_fold_into_their_local_day_and_hour() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let span = days(&tz, date(2026, 6, 1), date(2026, 6, 2));
        let facts = [
            // 23:30 in New York on 1 June is 03:30 UTC on 2 June: it is 1 June's.
            Fact::Opened { team: 1, channel: ChannelKind::Sms, at: at(&tz, 2026, 6, 1, 23, 30) },
            Fact::Opened { team: 1, channel: ChannelKind::Email, at: at(&tz, 2026, 6, 2, 9, 0) },
            Fact::Opened { team: 2, channel: ChannelKind::Sms, at: at(&tz, 2026, 6, 2, 9, 5) },
            // Outside the span.
            Fact::Opened { team: 1, channel: ChannelKind::Sms, at: at(&tz, 2026, 6, 3, 0, 1) },
            Fact::FirstReply { team: 1, started: at(&tz, 2026, 6, 1, 23, 30), at: at(&tz, 2026, 6, 2, 0, 10) },
            Fact::Resolved { team: 1, started: at(&tz, 2026, 6, 1, 23, 30), at: at(&tz, 2026, 6, 2, 1, 30) },
            Fact::Csat { team: 1, score: 5, at: at(&tz, 2026, 6, 2, 2, 0) },
            Fact::Csat { team: 1, score: 9, at: at(&tz, 2026, 6, 2, 2, 0) },
            Fact::Target { team: 1, target: SlaTarget::FirstResponse, due: at(&tz, 2026, 6, 2, 0, 0), met: true },
            Fact::Target { team: 1, target: SlaTarget::FirstResponse, due: at(&tz, 2026, 6, 2, 0, 5), met: false },
        ];
        let out = fold(&tz, &span, &facts, at(&tz, 2026, 6, 5, 0, 0));
        let d1 = &out[&(1, date(2026, 6, 1))];
        assert_eq!(d1.opened, BTreeMap::from([(ChannelKind::Sms, 1)]));
        assert_eq!(d1.by_hour, BTreeMap::from([(23, 1)]));
        let d2 = &out[&(1, date(2026, 6, 2))];
        assert_eq!(d2.opened, BTreeMap::from([(ChannelKind::Email, 1)]));
        assert_eq!(d2.first_response.quantile(0.5), Some(40 * MIN as u64));
        assert_eq!((d2.resolved, d2.resolution.count()), (1, 1));
        assert_eq!(d2.csat, [0, 0, 0, 0, 1], "a score outside 1-5 is left out");
        assert_eq!(d2.sla[&SlaTarget::FirstResponse], [1, 1]);
        assert_eq!(out[&(2, date(2026, 6, 2))].opened[&ChannelKind::Sms], 1);
        // Every day has its workspace row, even an empty one.
        assert!(out.contains_key(&(WORKSPACE, date(2026, 6, 1))));
        assert!(out.contains_key(&(WORKSPACE, date(2026, 6, 2))));
    }

    #[test]
    fn agents_load_counts_only_time_online_and_is_cut_at_midnight() {
        let tz = utc();
        let span = days(&tz, date(2026, 6, 1), date(2026, 6, 2));
        let t = |d, h, m| at(&tz, 2026, 6, d, h, m);
        let facts = [
            // Online 9:00-17:00 on the 1st, and from 22:00 on the 1st to 02:00 on the 2nd.
            Fact::Online { agent: 7, from: t(1, 9, 0), to: Some(t(1, 17, 0)) },
            Fact::Online { agent: 7, from: t(1, 22, 0), to: Some(t(2, 2, 0)) },
            // Three held at once 10:00-11:00 (two in team 1, one in team 2).
            Fact::Held { team: 1, agent: 7, from: t(1, 10, 0), to: Some(t(1, 11, 0)), resolved: true },
            Fact::Held { team: 1, agent: 7, from: t(1, 10, 0), to: Some(t(1, 12, 0)), resolved: false },
            Fact::Held { team: 2, agent: 7, from: t(1, 10, 30), to: Some(t(1, 11, 0)), resolved: true },
            // Held overnight: counts only while online, on each day's side of midnight.
            Fact::Held { team: 1, agent: 7, from: t(1, 16, 0), to: None, resolved: false },
            // Back to back: never more than one at once.
            Fact::Online { agent: 8, from: t(1, 0, 0), to: Some(t(1, 4, 0)) },
            Fact::Held { team: 1, agent: 8, from: t(1, 1, 0), to: Some(t(1, 2, 0)), resolved: true },
            Fact::Held { team: 1, agent: 8, from: t(1, 2, 0), to: Some(t(1, 3, 0)), resolved: true },
        ];
        let now = t(2, 3, 0);
        let out = fold(&tz, &span, &facts, now);
        let ws1 = &out[&(WORKSPACE, date(2026, 6, 1))].agents[&7];
        assert_eq!(ws1.online_ms, (8 * HOUR + 2 * HOUR) as u64);
        // 1h + 2h + 0.5h, and the overnight one 16-17 and 22-24.
        assert_eq!(ws1.held_ms, (HOUR + 2 * HOUR + HOUR / 2 + HOUR + 2 * HOUR) as u64);
        assert_eq!((ws1.peak, ws1.handled), (3, 2));
        let t1 = &out[&(1, date(2026, 6, 1))].agents[&7];
        assert_eq!((t1.peak, t1.handled, t1.held_ms), (2, 1, (HOUR + 2 * HOUR + 3 * HOUR) as u64));
        assert_eq!(out[&(2, date(2026, 6, 1))].agents[&7].peak, 1);
        // The 2nd: online until 02:00, the overnight one still held (until now, 03:00).
        let ws2 = &out[&(WORKSPACE, date(2026, 6, 2))].agents[&7];
        assert_eq!((ws2.online_ms, ws2.held_ms, ws2.peak), (2 * HOUR as u64, 2 * HOUR as u64, 1));
        let b = &out[&(WORKSPACE, date(2026, 6, 1))].agents[&8];
        assert_eq!((b.peak, b.handled, b.held_ms), (1, 2, 2 * HOUR as u64));
    }

    fn q(team: Option<i64>) -> ReportQuery {
        ReportQuery { from: "2026-06-01".into(), to: "2026-06-02".into(), team_id: team }
    }

    #[test]
    fn a_period_sums_its_days() {
        let tz = utc();
        let span = days(&tz, date(2026, 6, 1), date(2026, 6, 2));
        let t = |d, h| at(&tz, 2026, 6, d, h, 0);
        let mut facts = vec![
            Fact::Online { agent: 7, from: t(1, 8), to: Some(t(1, 12)) },
            Fact::Held { team: 1, agent: 7, from: t(1, 8), to: Some(t(1, 10)), resolved: true },
            Fact::Held { team: 2, agent: 7, from: t(1, 9), to: Some(t(1, 12)), resolved: true },
            Fact::Csat { team: 1, score: 4, at: t(1, 11) },
            Fact::Csat { team: 1, score: 2, at: t(2, 11) },
            Fact::Csat { team: 2, score: 5, at: t(2, 11) },
            Fact::Target { team: 1, target: SlaTarget::Resolution, due: t(2, 1), met: true },
        ];
        for (i, h) in [1, 2, 3, 4, 5].into_iter().enumerate() {
            facts.push(Fact::Opened { team: 1, channel: ChannelKind::Webchat, at: t(1, h) });
            facts.push(Fact::FirstReply { team: 1, started: t(1, h), at: t(1, h) + (i as i64 + 1) * MIN });
        }
        facts.push(Fact::Opened { team: 2, channel: ChannelKind::Sms, at: t(2, 5) });
        let folded = fold(&tz, &span, &facts, t(3, 0));
        let agents = BTreeMap::from([(7, "Maya".to_owned()), (9, "Idle".to_owned())]);
        let sum = |teams: &[i64], every_team| {
            summarize(&Inputs {
                query: &q(None),
                time_zone: "UTC",
                days: &span,
                team_days: &folded,
                teams,
                every_team,
                agents: &agents,
                now: t(3, 0),
            })
        };
        let r = sum(&[1], false);
        assert_eq!((r.conversations, r.first_response.count), (5, 5));
        // 3 minutes, read from its bucket (within 1/64).
        assert!(r.first_response.median_ms.unwrap().abs_diff(3 * MIN as u64) <= 3 * MIN as u64 / 64);
        assert_eq!(r.by_hour.len(), 24);
        assert_eq!(r.by_hour[1..6], [1, 1, 1, 1, 1]);
        assert_eq!(r.by_channel, vec![ChannelVolume { channel: ChannelKind::Webchat, conversations: 5 }]);
        assert_eq!(r.by_day.iter().map(|d| d.conversations).collect::<Vec<_>>(), [5, 0]);
        assert_eq!(r.csat.scores, [0, 1, 0, 1, 0]);
        assert_eq!((r.csat.average, r.csat.satisfied), (Some(3.0), Some(0.5)));
        assert_eq!(r.sla, vec![SlaAttainment { target: SlaTarget::Resolution, met: 1, missed: 0 }]);
        let maya = &r.agents[0];
        assert_eq!((maya.handled, maya.held_ms, maya.online_ms), (1, 2 * HOUR as u64, 4 * HOUR as u64));
        assert_eq!(maya.average_concurrency, 0.5);
        assert_eq!(
            r.agents[1],
            AgentReport {
                agent_id: 9,
                name: "Idle".into(),
                handled: 0,
                online_ms: 0,
                held_ms: 0,
                average_concurrency: 0.0,
                peak_concurrency: 0,
            }
        );
        // Both teams: load over both at once (two held 9-10), from the workspace's days.
        let r = sum(&[1, 2], true);
        assert_eq!(r.conversations, 6);
        assert_eq!(r.csat.responses, 3);
        let maya = &r.agents[0];
        assert_eq!((maya.handled, maya.held_ms, maya.peak_concurrency), (2, 5 * HOUR as u64, 2));
        assert_eq!(maya.average_concurrency, 1.25);
    }

    #[test]
    fn only_days_over_for_a_while_are_settled() {
        let tz = utc();
        let span = days(&tz, date(2026, 6, 1), date(2026, 6, 3));
        let midnight = at(&tz, 2026, 6, 3, 0, 0);
        assert_eq!(settled(&span, midnight), BTreeSet::from([date(2026, 6, 1)]));
        assert_eq!(settled(&span, midnight + SETTLE_MS), BTreeSet::from([date(2026, 6, 1), date(2026, 6, 2)]));
    }
}
