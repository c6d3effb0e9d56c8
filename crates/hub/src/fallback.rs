//! Web chat's promise of a reply by email, kept: a web-chat or in-app inbox names an email
//! inbox (`email_fallback`), and agents' replies a visitor who left an email address has not
//! seen within the set time go to that address, threaded, in one email per round. What is
//! due, and what the email says, are decided here.

use serde::Deserialize;

/// The default wait before an unseen reply goes by email.
pub const DEFAULT_AFTER_MINUTES: u32 = 10;

/// An inbox's `email_fallback` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    /// The email inbox the replies are sent from (and answers come back to).
    pub inbox_id: i64,
    /// How long a reply may stay unseen before it is emailed (1 to 1440).
    #[serde(default = "default_after")]
    pub after_minutes: u32,
}

fn default_after() -> u32 {
    DEFAULT_AFTER_MINUTES
}

impl Fallback {
    pub fn after_ms(&self) -> i64 {
        i64::from(self.after_minutes) * 60_000
    }
}

/// The `email_fallback` of an inbox's settings, if set.
pub fn of_settings(settings: &serde_json::Value) -> Result<Option<Fallback>, String> {
    let Some(v) = settings.get("email_fallback").filter(|v| !v.is_null()) else { return Ok(None) };
    let f: Fallback = serde_json::from_value(v.clone()).map_err(|e| {
        format!("`email_fallback` must be {{\"inbox_id\": <an email inbox>, \"after_minutes\": 1 to 1440}}: {e}")
    })?;
    if !(1..=1440).contains(&f.after_minutes) {
        return Err("`email_fallback.after_minutes` must be 1 to 1440".into());
    }
    Ok(Some(f))
}

/// One of an agent's replies in a web chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub id: i64,
    pub at: i64,
    /// The visitor's widget reported it read.
    pub read: bool,
}

/// The newest reply to email now, if any is due: the replies after the last one emailed
/// (`emailed_up_to`) and after the last one the visitor read are unseen, and they go once
/// the oldest of them has waited `after_ms`. Replies in order of `id`.
pub fn due(replies: &[Reply], emailed_up_to: i64, now: i64, after_ms: i64) -> Option<i64> {
    let seen_up_to = replies.iter().filter(|r| r.read).map(|r| r.id).max().unwrap_or(0);
    let from = emailed_up_to.max(seen_up_to);
    let unseen: Vec<&Reply> = replies.iter().filter(|r| r.id > from && !r.read).collect();
    let oldest = unseen.iter().map(|r| r.at).min()?;
    (now - oldest >= after_ms).then(|| unseen.iter().map(|r| r.id).max().unwrap_or(from))
}

/// One line of the email: who wrote it, what, and how many files came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    pub agent: Option<&'a str>,
    pub text: &'a str,
    pub files: usize,
}

/// The email's subject (the thread's first) and plain-text body.
pub fn compose(business: &str, lines: &[Line<'_>]) -> (String, String) {
    let subject = format!("Your conversation with {business}");
    let mut body = String::new();
    for l in lines {
        let who = l.agent.unwrap_or(business);
        body.push_str(&format!("{who}:\n"));
        if !l.text.trim().is_empty() {
            body.push_str(l.text.trim_end());
            body.push('\n');
        }
        match l.files {
            0 => {}
            1 => body.push_str("[1 file: see it in the chat]\n"),
            n => body.push_str(&format!("[{n} files: see them in the chat]\n")),
        }
        body.push('\n');
    }
    body.push_str("You can answer this email, or carry on in the chat where you left it.\n");
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn r(id: i64, at_min: i64, read: bool) -> Reply {
        Reply { id, at: at_min * MIN, read }
    }

    #[test]
    fn what_is_due_table() {
        /// What happened, the replies, the last emailed, now (minutes), and what is due.
        type Case = (&'static str, Vec<Reply>, i64, i64, Option<i64>);
        let cases: &[Case] = &[
            ("nothing written", vec![], 0, 60, None),
            ("one reply, waited long enough", vec![r(5, 0, false)], 0, 10, Some(5)),
            ("one reply, not long enough", vec![r(5, 0, false)], 0, 9, None),
            ("read in time", vec![r(5, 0, true)], 0, 60, None),
            ("two unseen go together", vec![r(5, 0, false), r(7, 8, false)], 0, 10, Some(7)),
            ("a later one read: all seen", vec![r(5, 0, false), r(7, 8, true)], 0, 60, None),
            ("seen, then a new one", vec![r(5, 0, true), r(7, 8, false)], 0, 18, Some(7)),
            ("seen, the new one still young", vec![r(5, 0, true), r(7, 8, false)], 0, 17, None),
            ("already emailed", vec![r(5, 0, false)], 5, 60, None),
            ("emailed, then another", vec![r(5, 0, false), r(9, 30, false)], 5, 40, Some(9)),
            ("emailed, the next still young", vec![r(5, 0, false), r(9, 30, false)], 5, 39, None),
        ];
        for (what, replies, emailed, now_min, want) in cases {
            assert_eq!(due(replies, *emailed, now_min * MIN, 10 * MIN), *want, "{what}");
        }
    }

    #[test]
    fn settings_table() {
        let ok = |v: serde_json::Value| of_settings(&serde_json::json!({ "email_fallback": v }));
        assert_eq!(of_settings(&serde_json::json!({})), Ok(None));
        assert_eq!(of_settings(&serde_json::json!({"email_fallback": null})), Ok(None));
        assert_eq!(
            ok(serde_json::json!({"inbox_id": 4})),
            Ok(Some(Fallback { inbox_id: 4, after_minutes: DEFAULT_AFTER_MINUTES }))
        );
        assert_eq!(ok(serde_json::json!({"inbox_id": 4, "after_minutes": 2})).unwrap().unwrap().after_ms(), 120_000);
        for bad in [
            serde_json::json!({"inbox_id": 4, "after_minutes": 0}),
            serde_json::json!({"inbox_id": 4, "after_minutes": 1441}),
            serde_json::json!({"after_minutes": 5}),
            serde_json::json!({"inbox_id": "help@x.test"}),
            serde_json::json!({"inbox_id": 4, "after": 5}),
            serde_json::json!(4),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_email_says_who_wrote_what() {
        let (subject, body) = compose(
            "Northwind",
            &[
                Line { agent: Some("Maya Okafor"), text: "It is back in stock!", files: 0 },
                Line { agent: Some("Maya Okafor"), text: "Here is a photo.\n", files: 1 },
                Line { agent: None, text: "", files: 2 },
            ],
        );
        assert_eq!(subject, "Your conversation with Northwind");
        assert_eq!(
            body,
            "Maya Okafor:\nIt is back in stock!\n\nMaya Okafor:\nHere is a photo.\n[1 file: see it in the chat]\n\n\
             Northwind:\n[2 files: see them in the chat]\n\n\
             You can answer this email, or carry on in the chat where you left it.\n"
        );
    }
}
