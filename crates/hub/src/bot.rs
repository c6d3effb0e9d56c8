//! The bot that answers first: an inbox's bot settings, whether it takes a new
//! conversation, what it does with each customer message (answer from an article, close
//! the conversation when the customer is helped, or hand it to people, and why), how
//! confident a match is, and the words of its lines and of the handoff line agents read.
//! Pure; the store applies the decisions (`crate::store::bot`).

use crate::calendar::Hours;
use serde::Deserialize;
use switchboard_protocol::bot::{HandoffReason, CHOICE_HELPED, CHOICE_PERSON};
use switchboard_protocol::model::{BusinessCalendar, ChannelKind, Choice, ChoiceStyle, Choices};
use switchboard_protocol::Timestamp;

/// Who answers for the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The hub, from the knowledge base.
    Builtin,
    /// An external bot, over the signed webhook and the bot API.
    Webhook,
    /// A model behind an OpenAI-compatible chat-completions endpoint (the hub's `llm_*`
    /// settings), grounded in the best articles.
    Llm,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Builtin => "builtin",
            Mode::Webhook => "webhook",
            Mode::Llm => "llm",
        }
    }
}

/// When the bot takes new conversations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    #[default]
    Always,
    /// Only while the calendar says the team is closed.
    OutsideHours,
}

/// An inbox's `bot` settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub mode: Mode,
    #[serde(default)]
    pub schedule: Schedule,
    /// The team's hours, for `outside_hours`.
    #[serde(default)]
    pub calendar: Option<BusinessCalendar>,
    /// The name customers and agents see on the bot's lines.
    #[serde(default = "Settings::default_name")]
    pub name: String,
    /// Answers before the bot hands over (1 to 10).
    #[serde(default = "Settings::default_turns")]
    pub max_turns: u32,
    /// Words that hand the conversation to people at once (`refund`, `complaint`).
    #[serde(default)]
    pub handoff_words: Vec<String>,
    /// The language of the articles it answers from.
    #[serde(default = "Settings::default_locale")]
    pub locale: String,
    /// The external bot's address (`webhook`).
    #[serde(default)]
    pub url: Option<String>,
    /// The key its webhook is signed with (`webhook`), at least 16 characters.
    #[serde(default)]
    pub secret: Option<String>,
    /// How long the external bot or the model may take to answer a message before the
    /// conversation goes to people (1 to 60 seconds).
    #[serde(default = "Settings::default_answer_within")]
    pub answer_within_secs: u64,
}

impl Settings {
    fn default_name() -> String {
        "Assistant".into()
    }
    fn default_turns() -> u32 {
        3
    }
    fn default_locale() -> String {
        "en".into()
    }
    fn default_answer_within() -> u64 {
        10
    }

    /// How long an external bot may take, in milliseconds.
    pub fn answer_within_ms(&self) -> i64 {
        i64::try_from(self.answer_within_secs.clamp(1, 60) * 1000).unwrap_or(10_000)
    }
}

/// The inbox's bot, if it has one: `None` without `bot` in its settings, the reason when
/// the settings are wrong.
pub fn of_settings(settings: &serde_json::Value) -> Result<Option<Settings>, String> {
    let Some(v) = settings.get("bot").filter(|v| !v.is_null()) else { return Ok(None) };
    let s: Settings = serde_json::from_value(v.clone()).map_err(|e| format!("bot: {e}"))?;
    let name = s.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        return Err("bot: the name must be 1 to 60 characters".into());
    }
    if !(1..=10).contains(&s.max_turns) {
        return Err("bot: max_turns must be 1 to 10".into());
    }
    if !(1..=60).contains(&s.answer_within_secs) {
        return Err("bot: answer_within_secs must be 1 to 60".into());
    }
    if s.handoff_words.len() > 50 || s.handoff_words.iter().any(|w| w.trim().is_empty() || w.chars().count() > 60) {
        return Err("bot: handoff_words holds at most 50 words of 1 to 60 characters".into());
    }
    if switchboard_protocol::articles::normalize_locale(&s.locale).is_none() {
        return Err(format!("bot: “{}” is not a language tag", s.locale));
    }
    match (&s.schedule, &s.calendar) {
        (Schedule::OutsideHours, None) => return Err("bot: outside_hours needs a calendar".into()),
        (_, Some(c)) => {
            Hours::parse(c).map_err(|e| format!("bot: {e}"))?;
        }
        _ => {}
    }
    if s.mode == Mode::Webhook {
        let url = s.url.as_deref().unwrap_or("");
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err("bot: a webhook bot needs its url (http or https)".into());
        }
        if s.secret.as_deref().is_none_or(|k| k.len() < 16) {
            return Err("bot: a webhook bot needs a secret of at least 16 characters".into());
        }
    }
    Ok(Some(s))
}

/// Whether the bot takes a conversation a customer opens at `at`.
pub fn takes(s: &Settings, at: Timestamp) -> bool {
    match s.schedule {
        Schedule::Always => true,
        Schedule::OutsideHours => {
            s.calendar.as_ref().and_then(|c| Hours::parse(c).ok()).is_some_and(|h| !h.open_at(at))
        }
    }
}

/// How well an article answers a question, from 0 to 1: each of the question's terms counts
/// fully when the article's title or tags hold it, half when only its body does.
pub fn confidence(question: &[String], title: &[String], tags: &[String], body: &[String]) -> f32 {
    let mut terms: Vec<&String> = question.iter().collect();
    terms.sort();
    terms.dedup();
    if terms.is_empty() {
        return 0.0;
    }
    let sum: f32 = terms
        .iter()
        .map(|t| {
            if title.contains(t) || tags.contains(t) {
                1.0
            } else if body.contains(t) {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    sum / terms.len() as f32
}

/// The question's terms that at least one of the candidate articles holds (in its title,
/// tags or body). Words no candidate knows (a product name, a typo) say nothing for or
/// against any of them, so they do not dilute the match.
pub fn known_terms(question: &[String], candidates: &[Vec<String>]) -> Vec<String> {
    question.iter().filter(|t| candidates.iter().any(|c| c.contains(t))).cloned().collect()
}

/// The confidence an answer needs.
pub const CONFIDENT: f32 = 0.6;

/// The best article found for a message, and how confident the match is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    pub article_id: i64,
    pub confidence: f32,
}

/// One customer message as the bot sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn<'a> {
    pub text: &'a str,
    /// The id of the button the customer tapped.
    pub chosen: Option<&'a str>,
    /// The bot's answers so far in this conversation.
    pub turns: u32,
    /// The bot's last line asked whether its answer helped.
    pub asked_feedback: bool,
    pub best: Option<Match>,
}

/// What the bot does with a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// Answer with the article, and ask whether it helped.
    Answer {
        article_id: i64,
    },
    /// The customer was helped: thank them and resolve the conversation.
    Resolve,
    HandOff(HandoffReason),
}

/// Words that ask for a person, in the languages articles are written in.
const ASK_PERSON: &[&str] = &[
    "person",
    "human",
    "agent",
    "someone",
    "somebody",
    "representative",
    "operator",
    "real person",
    "talk to a person",
    "humain",
    "conseiller",
    "quelqu'un",
    "persona",
    "humano",
    "agente",
];

const YES: &[&str] = &[
    "yes",
    "y",
    "yes thanks",
    "yes thank you",
    "thanks",
    "thank you",
    "it did",
    "oui",
    "merci",
    "sí",
    "si",
    "gracias",
];
const NO: &[&str] = &["no", "n", "nope", "no it didn't", "not really", "non", "no gracias"];

/// The message's words, lower case, apostrophes kept.
fn phrase(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `words` (space-separated) holds `needle` as whole words.
fn holds(words: &str, needle: &str) -> bool {
    let needle = phrase(needle);
    !needle.is_empty() && format!(" {words} ").contains(&format!(" {needle} "))
}

/// The decision for one customer message, in this order: a button; asking for a person;
/// a handoff word; a yes or no to "did that help?"; the answer limit; then the best
/// article if the match is confident, and otherwise people.
pub fn decide(t: &Turn<'_>, s: &Settings) -> Action {
    match t.chosen {
        Some(CHOICE_PERSON) => return Action::HandOff(HandoffReason::AskedForPerson),
        Some(CHOICE_HELPED) => return Action::Resolve,
        _ => {}
    }
    let words = phrase(t.text);
    if ASK_PERSON.iter().any(|p| holds(&words, p)) {
        return Action::HandOff(HandoffReason::AskedForPerson);
    }
    if s.handoff_words.iter().any(|w| holds(&words, w)) {
        return Action::HandOff(HandoffReason::Keyword);
    }
    if t.asked_feedback {
        if YES.contains(&words.as_str()) {
            return Action::Resolve;
        }
        if NO.contains(&words.as_str()) {
            return Action::HandOff(HandoffReason::NotHelpful);
        }
    }
    if t.turns >= s.max_turns {
        return Action::HandOff(HandoffReason::TurnLimit);
    }
    match t.best {
        Some(m) if m.confidence >= CONFIDENT => Action::Answer { article_id: m.article_id },
        _ => Action::HandOff(HandoffReason::NoAnswer),
    }
}

/// Whether the customer sees buttons on this channel.
pub fn has_buttons(channel: ChannelKind) -> bool {
    matches!(
        channel,
        ChannelKind::Webchat
            | ChannelKind::InApp
            | ChannelKind::Whatsapp
            | ChannelKind::Messenger
            | ChannelKind::Instagram
    )
}

/// The buttons after an answer, on channels that have them.
pub fn feedback_choices(channel: ChannelKind) -> Option<Choices> {
    has_buttons(channel).then(|| Choices {
        style: ChoiceStyle::Buttons,
        button: None,
        options: vec![
            Choice { id: CHOICE_HELPED.into(), title: "Yes, thanks".into(), description: None },
            Choice { id: CHOICE_PERSON.into(), title: "Talk to a person".into(), description: None },
        ],
    })
}

/// The question after an answer: with buttons, or in words the customer can reply with.
pub fn feedback_question(channel: ChannelKind) -> &'static str {
    if has_buttons(channel) {
        "Did that answer your question?"
    } else {
        "Did that answer your question? Reply YES, or PERSON to talk to someone."
    }
}

/// The bot's answer from an article.
pub fn answer_text(channel: ChannelKind, summary: &str, title: &str, url: Option<&str>) -> String {
    let link = match url {
        Some(u) => format!("\n\n{title}: {u}"),
        None => String::new(),
    };
    format!("{summary}{link}\n\n{}", feedback_question(channel))
}

/// A bot line as customers receive it: where the channel cannot show who wrote a line
/// (SMS, WhatsApp, Messenger, Instagram, email), it opens with the bot's name, so nobody
/// takes it for a person.
pub fn marked(channel: ChannelKind, name: &str, body: &str) -> String {
    match channel {
        ChannelKind::Webchat | ChannelKind::InApp => body.to_owned(),
        _ => format!("{name} (automated): {body}"),
    }
}

/// The line thanking a customer the bot helped.
pub const RESOLVED_TEXT: &str = "Glad I could help! Write again any time.";

/// What the customer is told when a person takes over: that one will, and when.
pub fn handoff_text(now: Timestamp, due: Option<Timestamp>) -> String {
    let when = match due.map(|d| (d - now).max(0)) {
        Some(ms) if ms <= 90_000 => "within a minute or two".to_owned(),
        Some(ms) => format!("within about {}", human_wait(ms)),
        None => "as soon as they can".to_owned(),
    };
    format!("I'm passing you to a person on our team. They will answer {when}.")
}

/// A wait in words: `5 minutes`, `2 hours`, `3 days`, rounded up.
pub fn human_wait(ms: i64) -> String {
    let minutes = (ms + 59_999) / 60_000;
    let (n, unit) = if minutes < 60 {
        (minutes, "minute")
    } else if minutes < 48 * 60 {
        ((minutes + 59) / 60, "hour")
    } else {
        ((minutes + 1439) / 1440, "day")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// The line agents read when a conversation reaches them: why, what the customer asked,
/// and what the bot offered.
pub fn summary_line(reason: HandoffReason, asked: &str, offered: &[String], turns: u32, note: Option<&str>) -> String {
    let asked = switchboard_protocol::articles::cut_at_word(asked.trim(), 300);
    let mut line = format!("Handed over by the bot: {}.", reason.label());
    if let Some(n) = note.map(str::trim).filter(|n| !n.is_empty()) {
        line.push_str(&format!(" The bot said: “{}”.", switchboard_protocol::articles::cut_at_word(n, 300)));
    }
    if !asked.is_empty() {
        line.push_str(&format!(" The customer asked: “{asked}”."));
    }
    match offered {
        [] if turns == 0 => line.push_str(" The bot had not answered yet."),
        [] => line.push_str(&format!(" The bot answered {turns} time{} without an article.", plural(turns))),
        titles => {
            let list = titles.iter().map(|t| format!("“{t}”")).collect::<Vec<_>>().join(", ");
            line.push_str(&format!(" The bot offered {list}."));
        }
    }
    line
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use HandoffReason::*;

    fn settings() -> Settings {
        Settings {
            mode: Mode::Builtin,
            schedule: Schedule::Always,
            calendar: None,
            name: "Northwind assistant".into(),
            max_turns: 3,
            handoff_words: vec!["refund".into(), "legal action".into()],
            locale: "en".into(),
            url: None,
            secret: None,
            answer_within_secs: 10,
        }
    }

    fn turn(text: &str) -> Turn<'_> {
        Turn {
            text,
            chosen: None,
            turns: 0,
            asked_feedback: false,
            best: Some(Match { article_id: 7, confidence: 0.8 }),
        }
    }

    #[test]
    fn what_the_bot_does_with_each_message() {
        let s = settings();
        let weak = Some(Match { article_id: 7, confidence: 0.4 });
        let cases: Vec<(&str, Turn<'_>, Action)> = vec![
            ("confident answer", turn("Where is my order?"), Action::Answer { article_id: 7 }),
            ("no answer", Turn { best: None, ..turn("blue elephants") }, Action::HandOff(NoAnswer)),
            ("weak answer", Turn { best: weak, ..turn("my thing") }, Action::HandOff(NoAnswer)),
            ("asks for a person", turn("Can I talk to a real person please"), Action::HandOff(AskedForPerson)),
            ("asks for an agent", turn("AGENT"), Action::HandOff(AskedForPerson)),
            (
                "person button",
                Turn { chosen: Some(CHOICE_PERSON), ..turn("Talk to a person") },
                Action::HandOff(AskedForPerson),
            ),
            ("helped button", Turn { chosen: Some(CHOICE_HELPED), ..turn("Yes, thanks") }, Action::Resolve),
            ("other button", Turn { chosen: Some("size:m"), ..turn("M") }, Action::Answer { article_id: 7 }),
            ("keyword", turn("I want a refund now"), Action::HandOff(Keyword)),
            ("keyword phrase", turn("I'll take LEGAL action!"), Action::HandOff(Keyword)),
            ("keyword inside a word is not one", turn("refunds policy"), Action::Answer { article_id: 7 }),
            ("turn limit", Turn { turns: 3, ..turn("and shipping?") }, Action::HandOff(TurnLimit)),
            ("under the limit", Turn { turns: 2, ..turn("and shipping?") }, Action::Answer { article_id: 7 }),
            ("yes in words", Turn { asked_feedback: true, turns: 1, ..turn("Yes") }, Action::Resolve),
            ("no in words", Turn { asked_feedback: true, turns: 1, ..turn("no") }, Action::HandOff(NotHelpful)),
            (
                "yes unasked is a question",
                Turn { asked_feedback: false, ..turn("yes") },
                Action::Answer { article_id: 7 },
            ),
            ("a person beats the limit", Turn { turns: 9, ..turn("human please") }, Action::HandOff(AskedForPerson)),
            ("french", turn("Je veux parler à un humain"), Action::HandOff(AskedForPerson)),
        ];
        for (what, t, want) in cases {
            assert_eq!(decide(&t, &s), want, "{what}");
        }
    }

    #[test]
    fn the_schedule_decides_who_takes_a_new_conversation() {
        let mut hours = BTreeMap::new();
        for d in ["mon", "tue", "wed", "thu", "fri"] {
            hours.insert(d.to_string(), "09:00-17:00".to_string());
        }
        let calendar =
            BusinessCalendar { time_zone: "Europe/Lisbon".into(), hours, holidays: vec!["2026-12-25".into()] };
        let outside = Settings { schedule: Schedule::OutsideHours, calendar: Some(calendar), ..settings() };
        // 2026-12-07 is a Monday; Lisbon is on UTC in December.
        let monday = |h: i64| 1_796_601_600_000 + h * 3_600_000;
        let cases = [
            (&settings(), monday(10), true),
            (&outside, monday(10), false),
            (&outside, monday(8), true),
            (&outside, monday(17), true),
            (&outside, monday(24 * 18 + 10), true), // 2026-12-25 10:00, a holiday
            (&outside, monday(24 * 5 + 12), true),  // Saturday noon
        ];
        for (s, at, want) in cases {
            assert_eq!(takes(s, at), want, "{:?} at {at}", s.schedule);
        }
    }

    #[test]
    fn confidence_counts_title_and_tags_over_the_body() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let cases = [
            (v(&["order"]), v(&["order"]), v(&[]), v(&[]), 1.0),
            (v(&["packag", "broken"]), v(&["item", "damag"]), v(&["broken"]), v(&["packag"]), 0.75),
            (v(&["parcel", "blue"]), v(&["order"]), v(&[]), v(&["parcel"]), 0.25),
            (v(&[]), v(&["order"]), v(&[]), v(&[]), 0.0),
            (v(&["order", "order"]), v(&["order"]), v(&[]), v(&[]), 1.0),
        ];
        for (q, title, tags, body, want) in cases {
            assert!((confidence(&q, &title, &tags, &body) - want).abs() < 1e-6, "{q:?}");
        }
    }

    #[test]
    fn only_words_the_candidates_know_count() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let candidates = vec![v(&["return", "item", "day"]), v(&["refund", "card"])];
        let cases = [
            (v(&["return", "shoe"]), v(&["return"])),
            (v(&["purpl", "eleph"]), v(&[])),
            (v(&["refund", "card", "return"]), v(&["refund", "card", "return"])),
        ];
        for (question, want) in cases {
            assert_eq!(known_terms(&question, &candidates), want, "{question:?}");
        }
        // Known words weigh as before; with none, there is no match.
        let title = v(&["return", "item"]);
        assert_eq!(confidence(&known_terms(&v(&["return", "shoe"]), &candidates), &title, &[], &[]), 1.0);
        assert_eq!(confidence(&known_terms(&v(&["purpl"]), &candidates), &title, &[], &[]), 0.0);
    }

    #[test]
    fn settings_are_checked_with_the_reason() {
        let ok = serde_json::json!({"bot": {"mode": "builtin"}});
        assert_eq!(of_settings(&ok).unwrap().unwrap().max_turns, 3);
        assert_eq!(of_settings(&serde_json::json!({})), Ok(None));
        let cases = [
            (serde_json::json!({"mode": "builtin", "max_turns": 0}), "max_turns"),
            (serde_json::json!({"mode": "builtin", "schedule": "outside_hours"}), "calendar"),
            (serde_json::json!({"mode": "webhook", "secret": "0123456789abcdef"}), "url"),
            (serde_json::json!({"mode": "webhook", "url": "https://bot", "secret": "short"}), "secret"),
            (serde_json::json!({"mode": "magic"}), "magic"),
            (serde_json::json!({"mode": "builtin", "colour": "red"}), "colour"),
            (serde_json::json!({"mode": "builtin", "locale": "??"}), "language"),
        ];
        for (bot, why) in cases {
            let e = of_settings(&serde_json::json!({ "bot": bot })).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn lines_say_who_wrote_them_and_what_happened() {
        assert_eq!(marked(ChannelKind::Sms, "Ada", "Hi"), "Ada (automated): Hi");
        assert_eq!(marked(ChannelKind::Webchat, "Ada", "Hi"), "Hi");
        assert_eq!(
            handoff_text(0, None),
            "I'm passing you to a person on our team. They will answer as soon as they can."
        );
        assert!(handoff_text(0, Some(2 * 3_600_000)).ends_with("within about 2 hours."));
        assert!(handoff_text(0, Some(60_000)).ends_with("within a minute or two."));
        let cases =
            [(1, "1 minute"), (59 * 60_000, "59 minutes"), (61 * 60_000, "2 hours"), (72 * 3_600_000, "3 days")];
        for (ms, want) in cases {
            assert_eq!(human_wait(ms), want);
        }
        let line = summary_line(NotHelpful, "Where is my order?", &["Where is my order?".into()], 1, None);
        assert_eq!(
            line,
            "Handed over by the bot: the customer said the answer did not help. The customer asked: “Where is my order?”. \
             The bot offered “Where is my order?”."
        );
        let line = summary_line(BotTimedOut, "hello", &[], 0, Some("  "));
        assert!(line.ends_with("The bot had not answered yet."), "{line}");
        assert!(answer_text(ChannelKind::Sms, "Sum.", "T", Some("https://u")).contains("Reply YES"));
        assert!(feedback_choices(ChannelKind::Email).is_none());
        assert_eq!(feedback_choices(ChannelKind::Whatsapp).unwrap().options.len(), 2);
    }
}
