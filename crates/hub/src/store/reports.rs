//! The lead's reports in the store: the facts of a stretch of time read from the events
//! the store keeps (conversations' starts, first answers and resolutions, survey answers,
//! response targets, who held what, who was online), each settled day's figures kept in
//! `report_days` so a year sums from a few hundred rows, and a day dropped again when a
//! write is dated in it. What the figures are is [`crate::reports`]'s to say.

use super::db::{placeholders, Connection, Value};
use super::pool::WriteTx;
use super::{Result, Store, StoreError};
use crate::params;
use crate::policy::{self, Viewer};
use crate::reports::{self, Day, DaySpan, Fact, Inputs, WORKSPACE};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::{BTreeMap, BTreeSet};
use switchboard_protocol::report::{Report, ReportQuery, SlaTarget};
use switchboard_protocol::Timestamp;

/// The most days read from the events at once, so a year is worked out a month at a time.
const CHUNK_DAYS: usize = 31;

/// How far back the background work keeps days ready.
pub const KEEP_READY_DAYS: i64 = 400;

/// Every fact with a time in `[start, end)`, and every interval overlapping it.
fn facts(c: &mut dyn Connection, start: Timestamp, end: Timestamp) -> Result<Vec<Fact>> {
    let mut out = Vec::new();
    for r in c.query(
        "SELECT team_id, channel, created_at FROM conversations WHERE created_at >= ? AND created_at < ?",
        params![start, end],
    )? {
        out.push(Fact::Opened { team: r.int(0)?, channel: r.parse(1)?, at: r.int(2)? });
    }
    for r in c.query(
        "SELECT team_id, created_at, first_replied_at FROM conversations \
         WHERE first_replied_at >= ? AND first_replied_at < ? AND started_by IS NULL AND started_by_key IS NULL",
        params![start, end],
    )? {
        out.push(Fact::FirstReply { team: r.int(0)?, started: r.int(1)?, at: r.int(2)? });
    }
    for r in c.query(
        "SELECT team_id, created_at, resolved_at FROM conversations WHERE resolved_at >= ? AND resolved_at < ?",
        params![start, end],
    )? {
        out.push(Fact::Resolved { team: r.int(0)?, started: r.int(1)?, at: r.int(2)? });
    }
    for r in c.query(
        "SELECT team_id, csat_score, csat_at FROM conversations WHERE csat_at >= ? AND csat_at < ?",
        params![start, end],
    )? {
        let score = u8::try_from(r.int(1)?).unwrap_or(0);
        out.push(Fact::Csat { team: r.int(0)?, score, at: r.int(2)? });
    }
    for r in c.query(
        "SELECT team_id, target, due_at, breached FROM sla_events \
         WHERE due_at >= ? AND due_at < ? AND (met_at IS NOT NULL OR breached = 1)",
        params![start, end],
    )? {
        let target: SlaTarget = r.parse(1)?;
        out.push(Fact::Target { team: r.int(0)?, target, due: r.int(2)?, met: r.int(3)? == 0 });
    }
    for r in c.query(
        "SELECT team_id, agent_id, started_at, ended_at, end_reason FROM assignments WHERE ended_at > ? AND started_at < ? \
         UNION ALL \
         SELECT team_id, agent_id, started_at, ended_at, end_reason FROM assignments WHERE ended_at IS NULL AND started_at < ?",
        params![start, end, end],
    )? {
        out.push(Fact::Held {
            team: r.int(0)?,
            agent: r.int(1)?,
            from: r.int(2)?,
            to: r.opt_int(3)?,
            resolved: r.opt_text(4)? == Some("resolved"),
        });
    }
    for r in c.query(
        "SELECT agent_id, started_at, ended_at FROM presence_log WHERE presence = 'online' AND ended_at > ? AND started_at < ? \
         UNION ALL \
         SELECT agent_id, started_at, ended_at FROM presence_log WHERE presence = 'online' AND ended_at IS NULL AND started_at < ?",
        params![start, end, end],
    )? {
        out.push(Fact::Online { agent: r.int(0)?, from: r.int(1)?, to: r.opt_int(2)? });
    }
    Ok(out)
}

/// Works out `span`'s days from the events, a month at a time.
fn work_out(
    c: &mut dyn Connection,
    tz: &TimeZone,
    span: &[DaySpan],
    now: Timestamp,
) -> Result<BTreeMap<(i64, Date), Day>> {
    let mut out = BTreeMap::new();
    for chunk in span.chunks(CHUNK_DAYS) {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else { continue };
        let facts = facts(c, first.start, last.end)?;
        out.extend(reports::fold(tz, chunk, &facts, now));
    }
    Ok(out)
}

/// Drops the kept days a write dated `at` changes, when `at` is far enough in the past
/// that its day may have been kept.
pub(super) fn backdated(tx: &mut WriteTx<'_>, at: Timestamp) -> Result<()> {
    if at + reports::SETTLE_MS / 2 < crate::clock::now_ms() {
        tx.conn.execute("DELETE FROM report_days WHERE starts_at <= ? AND ends_at > ?", params![at, at])?;
    }
    Ok(())
}

fn zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|_| StoreError::BadRequest(format!("unknown report time zone `{name}`")))
}

/// The kept days of `span` in `time_zone`, every team's.
fn kept(c: &mut dyn Connection, time_zone: &str, span: &[DaySpan]) -> Result<BTreeMap<(i64, Date), Day>> {
    let (Some(first), Some(last)) = (span.first(), span.last()) else { return Ok(BTreeMap::new()) };
    let rows = c.query(
        "SELECT team_id, day, facts FROM report_days WHERE time_zone = ? AND day >= ? AND day <= ?",
        params![time_zone, first.date.to_string(), last.date.to_string()],
    )?;
    let mut out = BTreeMap::new();
    for r in rows {
        let Ok(date) = r.text(1)?.parse::<Date>() else { continue };
        // A day kept by another version that no longer reads is worked out again.
        if let Ok(day) = r.json::<Day>(2) {
            out.insert((r.int(0)?, date), day);
        }
    }
    Ok(out)
}

impl Store {
    /// Works out and keeps the settled days of `span` not yet kept in `time_zone`.
    /// Returns how many days it kept.
    async fn keep_days(&self, time_zone: &str, span: Vec<DaySpan>, now: Timestamp) -> Result<usize> {
        let tz = zone(time_zone)?;
        let settled = reports::settled(&span, now);
        let name = time_zone.to_owned();
        let wanted: Vec<DaySpan> = span.into_iter().filter(|d| settled.contains(&d.date)).collect();
        let (Some(first), Some(last)) = (wanted.first().copied(), wanted.last().copied()) else { return Ok(0) };
        let have: BTreeSet<Date> = self
            .pool()
            .read(move |c| {
                let rows = c.query(
                    "SELECT day FROM report_days WHERE time_zone = ? AND team_id = ? AND day >= ? AND day <= ?",
                    params![name, WORKSPACE, first.date.to_string(), last.date.to_string()],
                )?;
                Ok(rows.iter().filter_map(|r| r.text(0).ok()?.parse().ok()).collect())
            })
            .await?;
        let missing: Vec<DaySpan> = wanted.into_iter().filter(|d| !have.contains(&d.date)).collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let mut kept = 0;
        // Runs of missing days, so a year's gap is read a month at a time, and kept as it goes.
        for run in missing.chunk_by(|a, b| a.end == b.start) {
            for chunk in run.chunks(CHUNK_DAYS) {
                let chunk = chunk.to_vec();
                let tz = tz.clone();
                let days = chunk.clone();
                let folded = self.pool().read(move |c| work_out(c, &tz, &days, now)).await?;
                let name = time_zone.to_owned();
                let rows: Vec<(i64, DaySpan, String)> = folded
                    .into_iter()
                    .filter_map(|((team, date), day)| {
                        let span = chunk.iter().find(|d| d.date == date)?;
                        Some((team, *span, serde_json::to_string(&day).ok()?))
                    })
                    .collect();
                kept += chunk.len();
                self.pool()
                    .write(move |tx| {
                        for part in rows.chunks(100) {
                            let sql = format!(
                                "INSERT INTO report_days (time_zone, team_id, day, starts_at, ends_at, facts, built_at) VALUES {} \
                                 ON CONFLICT (time_zone, team_id, day) DO NOTHING",
                                vec!["(?, ?, ?, ?, ?, ?, ?)"; part.len()].join(", ")
                            );
                            let mut values: Vec<Value> = Vec::with_capacity(part.len() * 7);
                            for (team, span, json) in part {
                                values.extend([
                                    Value::from(name.as_str()),
                                    Value::from(*team),
                                    Value::from(span.date.to_string()),
                                    Value::from(span.start),
                                    Value::from(span.end),
                                    Value::from(json.as_str()),
                                    Value::from(tx.now),
                                ]);
                            }
                            tx.conn.execute(&sql, &values)?;
                        }
                        Ok(())
                    })
                    .await?;
            }
        }
        Ok(kept)
    }

    /// Keeps the last [`KEEP_READY_DAYS`] settled days ready, so a lead's report never waits
    /// on working them out. Returns how many days it kept.
    pub async fn keep_reports_ready(&self, time_zone: &str) -> Result<usize> {
        let tz = zone(time_zone)?;
        let now = crate::clock::now_ms();
        let today = jiff::Timestamp::from_millisecond(now)
            .map_err(|e| StoreError::BadRequest(e.to_string()))?
            .to_zoned(tz.clone())
            .date();
        let from = today.checked_sub(jiff::Span::new().days(KEEP_READY_DAYS)).unwrap_or(today);
        self.keep_days(time_zone, reports::days(&tz, from, today), now).await
    }

    /// A lead's report over a period and team, with days and hours counted in `time_zone`.
    pub async fn report(&self, v: &Viewer, query: ReportQuery, time_zone: &str) -> Result<Report> {
        policy::may_read_reports(v, query.team_id).map_err(|d| StoreError::denied(d, "team"))?;
        let (from, to) = reports::period(&query).map_err(StoreError::BadRequest)?;
        let tz = zone(time_zone)?;
        let now = crate::clock::now_ms();
        let span = reports::days(&tz, from, to);
        let (viewer, team) = (v.clone(), query.team_id);
        let (teams, every_team, agents) = self
            .pool()
            .read(move |c| {
                let all: Vec<i64> = c
                    .query("SELECT id FROM teams ORDER BY id", &[])?
                    .iter()
                    .map(|r| r.int(0))
                    .collect::<std::result::Result<_, _>>()?;
                let teams: Vec<i64> = match team {
                    Some(t) if all.contains(&t) => vec![t],
                    Some(_) => return Err(StoreError::NotFound("team")),
                    None => all.iter().copied().filter(|t| viewer.sees_team(*t)).collect(),
                };
                // A lead of no team yet reads an empty report.
                let rows = if teams.is_empty() {
                    Vec::new()
                } else {
                    c.query(
                        &format!(
                            "SELECT DISTINCT a.id, a.name FROM agents a JOIN team_members m ON m.agent_id = a.id \
                             WHERE m.team_id IN ({}) ORDER BY a.name, a.id",
                            placeholders(teams.len())
                        ),
                        &teams.iter().map(|t| Value::from(*t)).collect::<Vec<_>>(),
                    )?
                };
                let agents =
                    rows.iter().map(|r| Ok((r.int(0)?, r.text(1)?.to_owned()))).collect::<Result<BTreeMap<_, _>>>()?;
                let every = !teams.is_empty() && teams.len() == all.len();
                Ok((teams, every, agents))
            })
            .await?;
        self.keep_days(time_zone, span.clone(), now).await?;
        let (name, days, tz2) = (time_zone.to_owned(), span.clone(), tz.clone());
        let team_days = self
            .pool()
            .read(move |c| {
                let mut out = kept(c, &name, &days)?;
                // Days not settled (today) are worked out as they stand, and not kept.
                let settled = reports::settled(&days, now);
                let open: Vec<DaySpan> =
                    days.iter().filter(|d| !settled.contains(&d.date) && d.start <= now).copied().collect();
                out.extend(work_out(c, &tz2, &open, now)?);
                Ok(out)
            })
            .await?;
        let mut report = reports::summarize(&Inputs {
            query: &query,
            time_zone,
            days: &span,
            team_days: &team_days,
            teams: &teams,
            every_team,
            agents: &agents,
            now,
        });
        let (start, end) = (span.first().map_or(0, |d| d.start), span.last().map_or(0, |d| d.end));
        let scope = (!every_team).then(|| teams.clone());
        let (bot, articles, deflections) = self
            .pool()
            .read(move |c| {
                let bot = super::bot::summary(c, start, end, scope.as_deref())?;
                let (articles, deflections) = article_use(c, start, end, scope.as_deref())?;
                Ok((bot, articles, deflections))
            })
            .await?;
        report.bot = bot;
        report.articles = articles;
        report.deflections = deflections;
        Ok(report)
    }
}

/// How articles were used in `[from, to)`: per article (most read first, at most 20), and
/// the questions the widget's articles answered. The bot's uses count in the reports of the
/// conversation's team; the help centre's and the widget's belong to no team and count in
/// every report, as the articles are everyone's.
fn article_use(
    c: &mut dyn Connection,
    from: i64,
    to: i64,
    teams: Option<&[i64]>,
) -> Result<(Vec<switchboard_protocol::report::ArticleUse>, u64)> {
    use switchboard_protocol::report::ArticleUse;
    let rows = c.query(
        "SELECT e.article_id, a.title, e.kind, e.team_id, COUNT(*) FROM article_events e JOIN articles a ON a.id = e.article_id \
         WHERE e.at >= ? AND e.at < ? GROUP BY e.article_id, a.title, e.kind, e.team_id",
        params![from, to],
    )?;
    let mut by: BTreeMap<i64, ArticleUse> = BTreeMap::new();
    let mut deflections = 0;
    for r in &rows {
        let team = r.opt_int(3)?;
        let counts = match (teams, team) {
            (None, _) => true,
            (Some(t), Some(team)) => t.contains(&team),
            (Some(_), None) => true,
        };
        if !counts {
            continue;
        }
        let id = r.int(0)?;
        let n = u64::try_from(r.int(4)?).unwrap_or(0);
        let u = by.entry(id).or_insert_with(|| ArticleUse {
            article_id: id,
            title: r.text(1).unwrap_or_default().to_owned(),
            views: 0,
            helpful: 0,
            not_helpful: 0,
            offered: 0,
            deflected: 0,
        });
        match r.text(2)? {
            "view" => u.views += n,
            "helpful" => u.helpful += n,
            "not_helpful" => u.not_helpful += n,
            "offered" => u.offered += n,
            "deflected" => {
                u.deflected += n;
                deflections += n;
            }
            _ => {}
        }
    }
    let mut list: Vec<ArticleUse> = by.into_values().collect();
    list.sort_by(|a, b| {
        (b.views + b.offered + b.deflected)
            .cmp(&(a.views + a.offered + a.deflected))
            .then(a.article_id.cmp(&b.article_id))
    });
    list.truncate(20);
    Ok((list, deflections))
}
