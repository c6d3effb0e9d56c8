//! Search over every cached message: the agent's words become an FTS5 query (each word a
//! prefix, all required), filtered by channel, status, assignee and date, newest first,
//! with a snippet and the byte ranges of the matching words for highlighting.

use crate::cache::Cache;
use crate::error::Result;
use rusqlite::types::Value;
use switchboard_protocol::console::{AssigneeFilter, SearchHit, SearchQuery};

/// The most hits one search returns.
pub const MAX_HITS: u32 = 200;

/// Marks FTS5 puts around matches in a snippet; control characters no message contains
/// once they are stripped from the text shown.
const OPEN: char = '\u{2}';
const CLOSE: char = '\u{3}';
const CUT: &str = "…";

/// The FTS5 query for what the agent typed: each word quoted (so operators and punctuation
/// are plain text) and matched as a prefix. `None` when nothing searchable remains.
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"*", w.to_lowercase()))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Splits a snippet with match marks into plain text and the byte ranges of the matches.
pub fn highlights(marked: &str) -> (String, Vec<(u32, u32)>) {
    let mut text = String::with_capacity(marked.len());
    let mut ranges = Vec::new();
    let mut start = None;
    for ch in marked.chars() {
        match ch {
            OPEN => start = Some(text.len()),
            CLOSE => {
                if let Some(s) = start.take() {
                    ranges.push((u32::try_from(s).unwrap_or(u32::MAX), u32::try_from(text.len()).unwrap_or(u32::MAX)));
                }
            }
            c => text.push(c),
        }
    }
    (text, ranges)
}

impl Cache {
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<SearchHit>> {
        let Some(fts) = fts_query(&q.text) else { return Ok(Vec::new()) };
        let limit = q.limit.unwrap_or(50).clamp(1, MAX_HITS);
        let mut sql = format!(
            "SELECT m.id, m.conversation_id, c.contact_id, COALESCE(k.name, ''), m.channel, m.direction, \
             snippet(messages_fts, 0, char({}), char({}), '{CUT}', 16), m.created_at \
             FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid \
             JOIN conversations c ON c.id = m.conversation_id LEFT JOIN contacts k ON k.id = c.contact_id \
             WHERE messages_fts MATCH ?1",
            OPEN as u32, CLOSE as u32
        );
        let mut args: Vec<Value> = vec![Value::Text(fts)];
        let mut bind = |clause: &str, v: Value, sql: &mut String| {
            args.push(v);
            sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
        };
        if let Some(ch) = q.channel {
            bind(" AND m.channel = ?", Value::Text(ch.as_str().into()), &mut sql);
        }
        if let Some(st) = q.status {
            bind(" AND c.status = ?", Value::Text(st.as_str().into()), &mut sql);
        }
        match q.assignee {
            Some(AssigneeFilter::Agent { id }) => bind(" AND c.assignee_id = ?", Value::Integer(id), &mut sql),
            Some(AssigneeFilter::Unassigned) => sql.push_str(" AND c.assignee_id IS NULL"),
            None => {}
        }
        if let Some(after) = q.after {
            bind(" AND m.created_at >= ?", Value::Integer(after), &mut sql);
        }
        if let Some(before) = q.before {
            bind(" AND m.created_at < ?", Value::Integer(before), &mut sql);
        }
        bind(" ORDER BY messages_fts.rowid DESC LIMIT ?", Value::Integer(i64::from(limit)), &mut sql);
        self.read(|c| {
            let mut st = c.prepare_cached(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                let snippet: String = r.get(6)?;
                let (snippet, highlights) = highlights(&snippet);
                let channel: String = r.get(4)?;
                let direction: String = r.get(5)?;
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, channel, direction, snippet, highlights, r.get(7)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (
                    message_id,
                    conversation_id,
                    contact_id,
                    contact_name,
                    channel,
                    direction,
                    snippet,
                    highlights,
                    created_at,
                ) = row?;
                let (Ok(channel), Ok(direction)) = (channel.parse(), direction.parse()) else { continue };
                out.push(SearchHit {
                    message_id,
                    conversation_id,
                    contact_id,
                    contact_name,
                    channel,
                    direction,
                    snippet,
                    highlights,
                    created_at,
                });
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let table: &[(&str, Option<&str>)] = &[
            ("parcel", Some("\"parcel\"*")),
            ("Where's my PARCEL?", Some("\"where\"* \"s\"* \"my\"* \"parcel\"*")),
            ("refund OR delete", Some("\"refund\"* \"or\"* \"delete\"*")),
            ("\"quoted\" NEAR(x)", Some("\"quoted\"* \"near\"* \"x\"*")),
            ("café", Some("\"café\"*")),
            ("  *** ", None),
            ("", None),
        ];
        for (input, want) in table {
            assert_eq!(fts_query(input).as_deref(), *want, "{input}");
        }
    }

    #[test]
    fn highlight_ranges() {
        let marked = format!("…my {OPEN}parcel{CLOSE} to {OPEN}Lisboa{CLOSE}");
        let (text, ranges) = highlights(&marked);
        assert_eq!(text, "…my parcel to Lisboa");
        let words: Vec<&str> = ranges.iter().map(|&(a, b)| &text[a as usize..b as usize]).collect();
        assert_eq!(words, ["parcel", "Lisboa"]);
        assert_eq!(highlights("plain"), ("plain".to_owned(), vec![]));
    }
}
