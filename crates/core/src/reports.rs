//! The lead's reports in the console: each report the hub answered kept in the cache by
//! its query (the latest [`KEPT`]), so it opens offline, and a report written out as CSV for
//! a spreadsheet.

use crate::cache::Cache;
use crate::error::Result;
use rusqlite::OptionalExtension;
use switchboard_protocol::report::{Report, ReportQuery};
use switchboard_protocol::Timestamp;

/// How many reports the cache keeps.
pub const KEPT: usize = 20;

fn key(q: &ReportQuery) -> String {
    format!("{}..{}@{}", q.from.trim(), q.to.trim(), q.team_id.map_or_else(|| "all".to_owned(), |t| t.to_string()))
}

impl Cache {
    /// Keeps `report` as the answer to its query, and forgets the oldest beyond [`KEPT`].
    pub fn keep_report(&self, report: &Report, fetched_at: Timestamp) -> Result<()> {
        let json = serde_json::to_string(report)?;
        self.write(|c| {
            c.execute(
                "INSERT INTO reports (query, report, fetched_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (query) DO UPDATE SET report = excluded.report, fetched_at = excluded.fetched_at",
                rusqlite::params![key(&report.query), json, fetched_at],
            )?;
            c.execute(
                "DELETE FROM reports WHERE query NOT IN (SELECT query FROM reports ORDER BY fetched_at DESC LIMIT ?1)",
                [KEPT as i64],
            )?;
            Ok(())
        })
    }

    /// The report last kept for `query`, and when it was fetched.
    pub fn kept_report(&self, query: &ReportQuery) -> Result<Option<(Report, Timestamp)>> {
        let row: Option<(String, i64)> = self.read(|c| {
            Ok(c.query_row("SELECT report, fetched_at FROM reports WHERE query = ?1", [key(query)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
        })?;
        // A copy a newer version can no longer read is as good as none.
        Ok(row.and_then(|(json, at)| serde_json::from_str(&json).ok().map(|r| (r, at))))
    }
}

/// One CSV field: quoted when it must be (RFC 4180), and a text a spreadsheet would run as
/// a formula (`=`, `+`, `-`, `@` first) kept as text.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn line(out: &mut String, fields: &[String]) {
    let row: Vec<String> = fields.iter().map(|f| field(f)).collect();
    out.push_str(&row.join(","));
    out.push_str("\r\n");
}

fn minutes(ms: Option<u64>) -> String {
    ms.map(|m| format!("{:.1}", m as f64 / 60_000.0)).unwrap_or_default()
}

fn share(n: u64, of: u64) -> String {
    if of == 0 {
        String::new()
    } else {
        format!("{:.1}", n as f64 * 100.0 / of as f64)
    }
}

/// The report as CSV: its figures, then a table per part (by day, by channel, by hour,
/// agents, targets, satisfaction), each after a blank line.
pub fn csv(r: &Report, team: &str) -> String {
    let s = |v: &dyn ToString| v.to_string();
    let mut out = String::new();
    line(&mut out, &[s(&"Report"), s(&"From"), s(&"To"), s(&"Team"), s(&"Time zone")]);
    line(
        &mut out,
        &[s(&"Switchboard"), r.query.from.clone(), r.query.to.clone(), team.to_owned(), r.time_zone.clone()],
    );
    out.push_str("\r\n");
    line(&mut out, &[s(&"Figure"), s(&"Value")]);
    let met: u64 = r.sla.iter().map(|t| t.met).sum();
    let due: u64 = r.sla.iter().map(|t| t.met + t.missed).sum();
    for (name, value) in [
        ("Conversations", s(&r.conversations)),
        ("Resolved", s(&r.resolved)),
        ("First response median (min)", minutes(r.first_response.median_ms)),
        ("First response p90 (min)", minutes(r.first_response.p90_ms)),
        ("Resolution median (min)", minutes(r.resolution.median_ms)),
        ("Resolution p90 (min)", minutes(r.resolution.p90_ms)),
        ("Targets met (%)", share(met, due)),
        ("Satisfaction responses", s(&r.csat.responses)),
        ("Satisfaction average", r.csat.average.map(|a| format!("{a:.2}")).unwrap_or_default()),
        ("Satisfied (%)", r.csat.satisfied.map(|a| format!("{:.1}", a * 100.0)).unwrap_or_default()),
    ] {
        line(&mut out, &[s(&name), value]);
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Date"), s(&"Conversations"), s(&"Resolved")]);
    for d in &r.by_day {
        line(&mut out, &[d.date.clone(), s(&d.conversations), s(&d.resolved)]);
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Channel"), s(&"Conversations")]);
    for c in &r.by_channel {
        line(&mut out, &[c.channel.as_str().to_owned(), s(&c.conversations)]);
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Hour"), s(&"Conversations")]);
    for (h, n) in r.by_hour.iter().enumerate() {
        line(&mut out, &[format!("{h:02}:00"), s(n)]);
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Agent"), s(&"Handled"), s(&"Online (h)"), s(&"Average concurrency"), s(&"Peak concurrency")]);
    for a in &r.agents {
        line(
            &mut out,
            &[
                a.name.clone(),
                s(&a.handled),
                format!("{:.1}", a.online_ms as f64 / 3_600_000.0),
                format!("{:.2}", a.average_concurrency),
                s(&a.peak_concurrency),
            ],
        );
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Target"), s(&"Met"), s(&"Missed"), s(&"Met (%)")]);
    for t in &r.sla {
        line(&mut out, &[t.target.as_str().to_owned(), s(&t.met), s(&t.missed), share(t.met, t.met + t.missed)]);
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Score"), s(&"Responses")]);
    for (i, n) in r.csat.scores.iter().enumerate() {
        line(&mut out, &[s(&(i + 1)), s(n)]);
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Bot"), s(&"Value")]);
    let b = &r.bot;
    for (name, value) in [
        ("Bot conversations", s(&b.conversations)),
        ("Contained", s(&b.contained)),
        ("Contained (%)", share(b.contained, b.conversations)),
        ("Handed off", s(&b.handed_off)),
        ("Questions answered by articles before a chat", s(&r.deflections)),
    ] {
        line(&mut out, &[s(&name), value]);
    }
    out.push_str("\r\n");
    line(&mut out, &[s(&"Handoff reason"), s(&"Conversations")]);
    for h in &b.reasons {
        line(&mut out, &[h.reason.as_str().to_owned(), s(&h.count)]);
    }
    out.push_str("\r\n");
    line(
        &mut out,
        &[s(&"Article"), s(&"Views"), s(&"Helpful"), s(&"Not helpful"), s(&"Offered by the bot"), s(&"Deflected")],
    );
    for a in &r.articles {
        line(
            &mut out,
            &[a.title.clone(), s(&a.views), s(&a.helpful), s(&a.not_helpful), s(&a.offered), s(&a.deflected)],
        );
    }
    out
}

/// The file name a report is saved under.
pub fn file_name(q: &ReportQuery) -> String {
    let safe = |d: &str| d.chars().filter(|c| c.is_ascii_digit() || *c == '-').take(10).collect::<String>();
    format!("switchboard-report-{}-to-{}.csv", safe(&q.from), safe(&q.to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::model::ChannelKind;
    use switchboard_protocol::report::*;

    fn report() -> Report {
        Report {
            query: ReportQuery { from: "2026-06-01".into(), to: "2026-06-02".into(), team_id: Some(3) },
            time_zone: "Europe/Lisbon".into(),
            generated_at: 1,
            conversations: 5,
            resolved: 4,
            first_response: Durations { count: 5, median_ms: Some(90_000), p90_ms: Some(600_000) },
            resolution: Durations { count: 4, median_ms: None, p90_ms: None },
            by_channel: vec![ChannelVolume { channel: ChannelKind::Whatsapp, conversations: 5 }],
            by_hour: vec![0; 24],
            by_day: vec![DayVolume { date: "2026-06-01".into(), conversations: 5, resolved: 4 }],
            agents: vec![AgentReport {
                agent_id: 1,
                name: "=HYPERLINK(\"x\"), Maya".into(),
                handled: 4,
                online_ms: 5_400_000,
                held_ms: 0,
                average_concurrency: 1.5,
                peak_concurrency: 3,
            }],
            sla: vec![SlaAttainment { target: SlaTarget::FirstResponse, met: 3, missed: 1 }],
            csat: CsatSummary { responses: 2, scores: vec![0, 0, 0, 1, 1], average: Some(4.5), satisfied: Some(1.0) },
            bot: BotSummary {
                conversations: 4,
                contained: 3,
                handed_off: 1,
                reasons: vec![HandoffCount {
                    reason: switchboard_protocol::bot::HandoffReason::AskedForPerson,
                    count: 1,
                }],
            },
            articles: vec![ArticleUse {
                article_id: 2,
                title: "=Returns".into(),
                views: 9,
                helpful: 3,
                not_helpful: 1,
                offered: 2,
                deflected: 1,
            }],
            deflections: 1,
        }
    }

    #[test]
    fn fields_are_quoted_and_formulas_kept_as_text() {
        for (raw, want) in [
            ("Maya", "Maya"),
            ("Silva, Ana", "\"Silva, Ana\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=1+1", "'=1+1"),
            ("+351 912", "'+351 912"),
            ("-5", "'-5"),
            ("@cmd", "'@cmd"),
            ("two\nlines", "\"two\nlines\""),
            ("", ""),
        ] {
            assert_eq!(field(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn a_report_reads_as_csv() {
        let text = csv(&report(), "Support");
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[1], "Switchboard,2026-06-01,2026-06-02,Support,Europe/Lisbon");
        assert!(lines.contains(&"First response median (min),1.5"));
        assert!(lines.contains(&"First response p90 (min),10.0"));
        assert!(lines.contains(&"Resolution median (min),"), "no figure, an empty cell");
        assert!(lines.contains(&"Targets met (%),75.0"));
        assert!(lines.contains(&"2026-06-01,5,4"));
        assert!(lines.contains(&"whatsapp,5"));
        assert!(lines.contains(&"23:00,0"));
        assert!(lines.contains(&"\"'=HYPERLINK(\"\"x\"\"), Maya\",4,1.5,1.50,3"), "{text}");
        assert!(lines.contains(&"first_response,3,1,75.0"));
        assert!(lines.contains(&"5,1"));
        assert!(lines.contains(&"Contained (%),75.0"), "{text}");
        assert!(lines.contains(&"asked_for_person,1"));
        assert!(lines.contains(&"'=Returns,9,3,1,2,1"), "{text}");
    }

    #[test]
    fn file_names_keep_only_the_dates() {
        let q = ReportQuery { from: "2026-06-01".into(), to: "../../etc/passwd".into(), team_id: None };
        assert_eq!(file_name(&q), "switchboard-report-2026-06-01-to-.csv");
    }
}
