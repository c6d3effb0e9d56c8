//! A resolved conversation as the transcript logged on the CRM contact: its channel, when
//! it ran, the link that opens it in the console, and who said what; internal notes only
//! when the admin asked for them.

use crate::crm_model::TranscriptLine;
use switchboard_protocol::model::{ChannelKind, Direction};
use switchboard_protocol::Timestamp;

/// What is logged: a subject that names the transcript uniquely (so a hub that stopped
/// mid-way can find it again), and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    pub subject: String,
    pub lines: Vec<String>,
    /// Unique per conversation and the last message it covers.
    pub reference: String,
    pub resolved_at: Timestamp,
    /// The link that opens the conversation in the console.
    pub link: String,
}

impl Transcript {
    pub fn text(&self) -> String {
        let mut t = self.lines.join("\n");
        t.push_str(&format!("\n\nRef: {}", self.reference));
        t
    }

    /// The text as HTML (HubSpot notes are rich text), every character of the
    /// conversation escaped.
    pub fn html(&self) -> String {
        let mut out = String::new();
        let link_line = link_line(&self.link);
        for line in &self.lines {
            out.push_str("<p>");
            if *line == link_line {
                // A link the CRM's page can follow, with the address itself as its text.
                let link = escape(&self.link);
                out.push_str(&format!("Open in Switchboard: <a href=\"{link}\">{link}</a>"));
            } else {
                out.push_str(&escape(line));
            }
            out.push_str("</p>");
        }
        out.push_str(&self.reference_html());
        out
    }

    /// The HTML paragraph a transcript ends with, matched exactly when looking for it again.
    pub fn reference_html(&self) -> String {
        format!("<p>Ref: {}</p>", escape(&self.reference))
    }
}

/// The transcript's line with the link that opens the conversation.
fn link_line(link: &str) -> String {
    format!("Open in Switchboard: {link}")
}

/// Text as HTML: markup characters escaped, line breaks as `<br>`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-21 14:03 UTC`.
pub fn utc(ms: Timestamp) -> String {
    let secs = ms.div_euclid(1_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3_600, rem % 3_600 / 60)
}

/// `2026-11-21`.
pub fn date(ms: Timestamp) -> String {
    let (y, m, d) = civil(ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// The channel's name at the start of a sentence ("Email", "WhatsApp").
fn channel_name(c: ChannelKind) -> String {
    let label = c.label();
    let mut chars = label.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

/// The transcript of conversation `conversation_id` through message `through`.
pub fn render(
    conversation_id: i64,
    through: i64,
    channel: ChannelKind,
    inbox: &str,
    lines: &[TranscriptLine],
    include_notes: bool,
    resolved_at: Timestamp,
) -> Transcript {
    let shown: Vec<&TranscriptLine> = lines
        .iter()
        .filter(|l| match l.direction {
            Direction::Inbound | Direction::Outbound => true,
            Direction::Note => include_notes,
            Direction::System => false,
        })
        .collect();
    let reference = format!("switchboard-{conversation_id}-{through}");
    let mut out = vec![format!(
        "{} conversation #{conversation_id} on {inbox}, {} to {}, resolved {}.",
        channel_name(channel),
        shown.first().map_or_else(|| utc(resolved_at), |l| utc(l.at)),
        shown.last().map_or_else(|| utc(resolved_at), |l| utc(l.at)),
        utc(resolved_at),
    )];
    let link = switchboard_protocol::links::conversation(conversation_id);
    out.push(link_line(&link));
    out.push(String::new());
    for l in shown {
        let who = match l.direction {
            Direction::Inbound => format!("{} (customer)", l.author),
            Direction::Note => format!("Note by {}", l.author),
            _ => format!("{} (agent)", l.author),
        };
        out.push(format!("[{}] {who}: {}", utc(l.at), l.body));
    }
    Transcript {
        subject: format!("{} conversation #{conversation_id} (Switchboard {reference})", channel_name(channel)),
        lines: out,
        reference,
        resolved_at,
        link,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(direction: Direction, author: &str, body: &str, at: Timestamp) -> TranscriptLine {
        TranscriptLine { direction, author: author.into(), body: body.into(), at }
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_795_273_380_000), "2026-11-21 15:03 UTC");
        assert_eq!(date(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn transcript_says_who_said_what_and_leaves_notes_out() {
        let lines = [
            line(Direction::Inbound, "Ben Okafor", "Where is order #4411?", 1_795_273_380_000),
            line(Direction::Note, "Maya", "Courier is late again", 1_795_273_400_000),
            line(Direction::Outbound, "Maya", "It ships today <b>promise</b>", 1_795_273_440_000),
            line(Direction::System, "", "assigned to Maya", 1_795_273_450_000),
        ];
        let t = render(12, 99, ChannelKind::Whatsapp, "WhatsApp · Northwind", &lines, false, 1_795_273_500_000);
        let text = t.text();
        assert!(text.starts_with(
            "WhatsApp conversation #12 on WhatsApp · Northwind, 2026-11-21 15:03 UTC to 2026-11-21 15:04 UTC"
        ));
        assert!(text.contains("[2026-11-21 15:03 UTC] Ben Okafor (customer): Where is order #4411?"));
        assert!(text.contains("Maya (agent): It ships today <b>promise</b>"));
        assert!(!text.contains("Courier"), "notes are left out by default");
        assert!(!text.contains("assigned"), "system lines are not part of the conversation");
        assert!(text.ends_with("Ref: switchboard-12-99"));
        assert_eq!(t.lines[1], "Open in Switchboard: switchboard://conversation/12", "one click to the conversation");
        assert!(
            t.html().contains(
                "<p>Open in Switchboard: <a href=\"switchboard://conversation/12\">switchboard://conversation/12</a></p>"
            ),
            "the HTML links it: {}",
            t.html()
        );
        assert_eq!(t.subject, "WhatsApp conversation #12 (Switchboard switchboard-12-99)");
        assert!(t.html().contains("It ships today &lt;b&gt;promise&lt;/b&gt;"), "HTML is escaped");

        let with_notes = render(12, 99, ChannelKind::Whatsapp, "WA", &lines, true, 1_795_273_500_000);
        assert!(with_notes.text().contains("Note by Maya: Courier is late again"));
    }
}
