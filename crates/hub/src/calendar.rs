//! Business hours on a real calendar: weekly opening hours in an IANA time zone (daylight
//! saving included) with closed dates, and the clock arithmetic response-time targets and
//! automatic replies need: whether the business is open at an instant, the instant a
//! number of business minutes after another, the business time between two instants.
//! Pure and table-tested; the zone rules come from the tz database built into the binary.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::collections::BTreeSet;
use switchboard_protocol::model::BusinessCalendar;

/// How far ahead an addition looks for open hours before it gives up (a calendar open only
/// on a few dates a year still answers).
const HORIZON_DAYS: i32 = 800;

/// A calendar ready for arithmetic.
#[derive(Debug, Clone)]
pub struct Hours {
    tz: TimeZone,
    /// Open ranges per weekday (Monday first), in minutes from local midnight, sorted and
    /// not overlapping; an end of 1440 is midnight at the end of the day.
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<Date>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day_index(w: Weekday) -> usize {
    usize::from(w.to_monday_zero_offset().unsigned_abs())
}

fn minutes(hhmm: &str) -> Option<u16> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// `"09:00-12:30, 13:30-17:00"` as ranges in minutes.
fn ranges(text: &str) -> Result<Vec<(u16, u16)>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').ok_or_else(|| format!("`{part}` is not a range like 09:00-17:30"))?;
        let (Some(a), Some(b)) = (minutes(a), minutes(b)) else {
            return Err(format!("`{part}` is not a range like 09:00-17:30"));
        };
        if a >= b {
            return Err(format!("`{part}` ends before it starts"));
        }
        out.push((a, b));
    }
    out.sort_unstable();
    if out.windows(2).any(|w| w[0].1 > w[1].0) {
        return Err(format!("the ranges in `{text}` overlap"));
    }
    Ok(out)
}

impl Hours {
    /// Reads a calendar; says what is wrong with it otherwise (an unknown zone, a day
    /// that is not `mon`…`sun`, a range that does not read, a date that is not a date).
    pub fn parse(c: &BusinessCalendar) -> Result<Hours, String> {
        let tz = TimeZone::get(c.time_zone.trim()).map_err(|_| format!("unknown time zone `{}`", c.time_zone))?;
        let mut week: [Vec<(u16, u16)>; 7] = Default::default();
        for (day, text) in &c.hours {
            let i = DAYS
                .iter()
                .position(|d| d.eq_ignore_ascii_case(day.trim()))
                .ok_or_else(|| format!("`{day}` is not a day (mon, tue, wed, thu, fri, sat, sun)"))?;
            week[i] = ranges(text)?;
        }
        let holidays = c
            .holidays
            .iter()
            .map(|d| d.trim().parse::<Date>().map_err(|_| format!("`{d}` is not a date like 2026-12-25")))
            .collect::<Result<_, _>>()?;
        Ok(Hours { tz, week, holidays })
    }

    /// Open around the clock, every day, in UTC.
    pub fn always() -> Hours {
        Hours { tz: TimeZone::UTC, week: std::array::from_fn(|_| vec![(0, 1440)]), holidays: BTreeSet::new() }
    }

    fn local_date(&self, at_ms: i64) -> Option<Date> {
        Some(Timestamp::from_millisecond(at_ms).ok()?.to_zoned(self.tz.clone()).date())
    }

    /// The instant local time `minute` (0..=1440) of `date` names. A time a daylight-saving
    /// change skips is taken as the same time after the change; a time it repeats, the
    /// first.
    fn instant(&self, date: Date, minute: u16) -> Option<i64> {
        let (date, minute) = if minute >= 1440 { (date.tomorrow().ok()?, 0) } else { (date, minute) };
        let time = Time::new(i8::try_from(minute / 60).ok()?, i8::try_from(minute % 60).ok()?, 0, 0).ok()?;
        let zoned = self.tz.to_ambiguous_zoned(DateTime::from_parts(date, time)).compatible().ok()?;
        Some(zoned.timestamp().as_millisecond())
    }

    /// The open intervals of one local date, as instants (empty on a holiday).
    fn open_on(&self, date: Date) -> Vec<(i64, i64)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        self.week[day_index(date.weekday())]
            .iter()
            .filter_map(|&(a, b)| Some((self.instant(date, a)?, self.instant(date, b)?)))
            .filter(|(a, b)| a < b)
            .collect()
    }

    /// Whether the business is open at `at_ms`.
    pub fn open_at(&self, at_ms: i64) -> bool {
        let Some(date) = self.local_date(at_ms) else { return false };
        self.open_on(date).iter().any(|&(a, b)| a <= at_ms && at_ms < b)
    }

    /// The instant `minutes` business minutes after `start_ms`: the clock runs only while
    /// the business is open. `None` when the calendar has no open hours in the horizon.
    pub fn add(&self, start_ms: i64, minutes: u32) -> Option<i64> {
        let mut left = i64::from(minutes) * 60_000;
        let mut date = self.local_date(start_ms)?;
        for _ in 0..HORIZON_DAYS {
            for (a, b) in self.open_on(date) {
                let from = a.max(start_ms);
                if from >= b {
                    continue;
                }
                if from + left <= b {
                    return Some(from + left);
                }
                left -= b - from;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// Business milliseconds between `from_ms` and `to_ms` (0 when `to` is not after `from`).
    pub fn between(&self, from_ms: i64, to_ms: i64) -> i64 {
        if to_ms <= from_ms {
            return 0;
        }
        let (Some(mut date), Some(last)) = (self.local_date(from_ms), self.local_date(to_ms)) else { return 0 };
        let mut total = 0;
        while date <= last {
            for (a, b) in self.open_on(date) {
                total += (b.min(to_ms) - a.max(from_ms)).max(0);
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn calendar(tz: &str, hours: &[(&str, &str)], holidays: &[&str]) -> Hours {
        Hours::parse(&BusinessCalendar {
            time_zone: tz.into(),
            hours: hours.iter().map(|(d, h)| ((*d).to_owned(), (*h).to_owned())).collect::<BTreeMap<_, _>>(),
            holidays: holidays.iter().map(|d| (*d).to_owned()).collect(),
        })
        .unwrap()
    }

    /// Milliseconds of a local wall time in `tz`.
    fn at(tz: &str, local: &str) -> i64 {
        let dt: DateTime = local.parse().unwrap();
        dt.to_zoned(TimeZone::get(tz).unwrap()).unwrap().timestamp().as_millisecond()
    }

    fn local(tz: &str, ms: i64) -> String {
        Timestamp::from_millisecond(ms).unwrap().to_zoned(TimeZone::get(tz).unwrap()).datetime().to_string()
    }

    const WEEKDAYS: [(&str, &str); 5] = [
        ("mon", "09:00-17:00"),
        ("tue", "09:00-17:00"),
        ("wed", "09:00-17:00"),
        ("thu", "09:00-17:00"),
        ("fri", "09:00-17:00"),
    ];

    #[test]
    fn adding_business_minutes() {
        let ny = "America/New_York";
        let office = calendar(ny, &WEEKDAYS, &["2026-12-25"]);
        for (what, start, minutes, due) in [
            ("within the day", "2026-12-02T10:00", 30, "2026-12-02T10:30:00"),
            ("before opening starts at nine", "2026-12-02T07:00", 30, "2026-12-02T09:30:00"),
            ("runs over into the next morning", "2026-12-02T16:45", 30, "2026-12-03T09:15:00"),
            ("Friday evening to Monday", "2026-12-04T16:00", 120, "2026-12-07T10:00:00"),
            ("over the weekend", "2026-12-05T12:00", 60, "2026-12-07T10:00:00"),
            ("a holiday is closed", "2026-12-24T16:30", 60, "2026-12-28T09:30:00"),
            ("exactly at closing", "2026-12-02T16:30", 30, "2026-12-02T17:00:00"),
            ("three days of work", "2026-12-01T09:00", 3 * 8 * 60, "2026-12-03T17:00:00"),
            // Daylight saving starts on Sunday 8 March 2026 in New York (02:00 → 03:00).
            ("across the spring change", "2026-03-06T16:00", 120, "2026-03-09T10:00:00"),
            // And ends on Sunday 1 November 2026 (02:00 → 01:00).
            ("across the autumn change", "2026-10-30T16:30", 60, "2026-11-02T09:30:00"),
        ] {
            let due_ms = office.add(at(ny, start), minutes).unwrap();
            assert_eq!(local(ny, due_ms), due, "{what}");
        }
    }

    #[test]
    fn a_night_spanning_the_daylight_saving_change_counts_its_real_length() {
        let lisbon = "Europe/Lisbon";
        // Open around the clock on Sundays: 29 March 2026 has 23 hours in Lisbon, 25 October 25.
        let sundays = calendar(lisbon, &[("sun", "00:00-24:00")], &[]);
        let (spring, autumn) = (at(lisbon, "2026-03-29T00:00"), at(lisbon, "2026-10-25T00:00"));
        assert_eq!(sundays.between(spring, spring + 2 * 86_400_000), 23 * 3_600_000);
        assert_eq!(sundays.between(autumn, autumn + 2 * 86_400_000), 25 * 3_600_000);
        // 23 hours of business time after midnight is the end of that Sunday, not 23:00.
        assert_eq!(local(lisbon, sundays.add(spring, 23 * 60).unwrap()), "2026-03-30T00:00:00");
        // Lisbon's clocks skip from 01:00 to 02:00 that night: opening at 01:30, a time that
        // does not exist, opens at 02:30.
        let early = calendar(lisbon, &[("sun", "01:30-04:00")], &[]);
        assert_eq!(local(lisbon, early.add(at(lisbon, "2026-03-29T00:00"), 30).unwrap()), "2026-03-29T03:00:00");
        assert!(!early.open_at(at(lisbon, "2026-03-29T00:59")));
        assert!(early.open_at(at(lisbon, "2026-03-29T03:59")));
    }

    #[test]
    fn open_or_closed() {
        let berlin = "Europe/Berlin";
        let shop = calendar(berlin, &[("mon", "09:00-12:00, 13:00-18:00"), ("sat", "10:00-14:00")], &["2026-12-07"]);
        for (local_time, open) in [
            ("2026-11-30T09:00", true),
            ("2026-11-30T12:30", false),
            ("2026-11-30T17:59", true),
            ("2026-11-30T18:00", false),
            ("2026-12-01T10:00", false),
            ("2026-12-05T11:00", true),
            ("2026-12-07T10:00", false),
        ] {
            assert_eq!(shop.open_at(at(berlin, local_time)), open, "{local_time}");
        }
    }

    #[test]
    fn business_time_between_two_instants() {
        let ny = "America/New_York";
        let office = calendar(ny, &WEEKDAYS, &[]);
        for (from, to, minutes) in [
            ("2026-12-02T10:00", "2026-12-02T10:45", 45),
            ("2026-12-02T16:00", "2026-12-03T10:00", 120),
            ("2026-12-04T16:00", "2026-12-07T10:00", 120),
            ("2026-12-05T08:00", "2026-12-05T20:00", 0),
            ("2026-12-03T10:00", "2026-12-02T10:00", 0),
        ] {
            assert_eq!(office.between(at(ny, from), at(ny, to)), minutes * 60_000, "{from} → {to}");
        }
        assert_eq!(Hours::always().between(0, 90_000), 90_000);
        assert_eq!(Hours::always().add(1_000, 1), Some(61_000));
    }

    #[test]
    fn bad_calendars_say_what_is_wrong() {
        let parse = |tz: &str, day: &str, hours: &str, holiday: &str| {
            Hours::parse(&BusinessCalendar {
                time_zone: tz.into(),
                hours: [(day.to_owned(), hours.to_owned())].into(),
                holidays: if holiday.is_empty() { vec![] } else { vec![holiday.to_owned()] },
            })
            .err()
        };
        assert_eq!(parse("Mars/Olympus", "mon", "09:00-17:00", "").unwrap(), "unknown time zone `Mars/Olympus`");
        assert_eq!(
            parse("UTC", "monday", "09:00-17:00", "").unwrap(),
            "`monday` is not a day (mon, tue, wed, thu, fri, sat, sun)"
        );
        assert_eq!(parse("UTC", "mon", "17:00-09:00", "").unwrap(), "`17:00-09:00` ends before it starts");
        assert_eq!(parse("UTC", "mon", "9-5", "").unwrap(), "`9-5` is not a range like 09:00-17:30");
        assert_eq!(
            parse("UTC", "mon", "09:00-12:00,11:00-13:00", "").unwrap(),
            "the ranges in `09:00-12:00,11:00-13:00` overlap"
        );
        assert_eq!(parse("UTC", "mon", "09:00-17:00", "25/12").unwrap(), "`25/12` is not a date like 2026-12-25");
        assert!(parse("Asia/Kolkata", "Sun", "00:00-24:00", "2026-01-26").is_none());
        let closed = calendar("UTC", &[], &[]);
        assert_eq!(closed.add(0, 1), None, "never open: no due time");
    }
}
