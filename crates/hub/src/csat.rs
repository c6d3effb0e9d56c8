//! Satisfaction surveys: an inbox's survey settings, whether a resolved conversation is
//! asked, the question as each channel shows it, and a customer's reply read as a score.
//! Pure and table-tested; the store sends the survey and records the answer.

use switchboard_protocol::model::ChannelKind;

/// The lowest and highest score.
pub const SCORES: std::ops::RangeInclusive<u8> = 1..=5;

/// How long after the survey a reply still counts as its answer.
pub const ANSWER_WITHIN_MS: i64 = 3 * 86_400_000;

/// An inbox's survey (its settings' `csat`); absent means no survey.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// The question; a default one when absent.
    #[serde(default)]
    pub question: Option<String>,
}

/// The question before the channel's way of answering.
pub const DEFAULT_QUESTION: &str = "How did we do?";

/// The survey's text on `channel`: the question, and on text channels how to answer (chat
/// and in-app show buttons instead).
pub fn text(survey: &Survey, channel: ChannelKind) -> String {
    let question = survey.question.as_deref().map(str::trim).filter(|q| !q.is_empty()).unwrap_or(DEFAULT_QUESTION);
    match channel {
        ChannelKind::Webchat | ChannelKind::InApp => question.to_owned(),
        _ => format!("{question} Reply with a number from 1 (poor) to 5 (great)."),
    }
}

/// The channels a survey is sent on.
pub fn surveyed(channel: ChannelKind) -> bool {
    matches!(channel, ChannelKind::Sms | ChannelKind::Whatsapp | ChannelKind::Webchat | ChannelKind::InApp)
}

/// What a resolved conversation needs for a survey to go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asking {
    pub channel: ChannelKind,
    /// The inbox has a survey.
    pub enabled: bool,
    pub opted_out: bool,
    /// How many times the conversation has been resolved, this time included.
    pub resolutions: i64,
    /// The resolution a survey was last sent for (0: never).
    pub asked_for: i64,
    /// The provider still takes free text (WhatsApp's window).
    pub window_open: bool,
}

/// Whether to send the survey now: once per resolution, never to an opted-out customer,
/// and only where free text may still be sent.
pub fn should_ask(a: &Asking) -> bool {
    a.enabled && surveyed(a.channel) && !a.opted_out && a.asked_for < a.resolutions && a.window_open
}

/// A customer's text read as a score: a digit from 1 to 5, alone or leading a few words
/// ("5", "4!", "5 thanks", "3/5"); anything else is an ordinary message.
pub fn score(body: &str) -> Option<u8> {
    let t = body.trim();
    let mut chars = t.chars();
    let first = chars.next()?.to_digit(10)?;
    let rest: String = chars.collect();
    let rest = rest.trim_start();
    let plain = rest.is_empty()
        || rest.starts_with("/5")
        || (!rest.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == ',')
            && !rest.chars().any(|c| c.is_ascii_digit()));
    let n = u8::try_from(first).ok()?;
    (SCORES.contains(&n) && plain && t.chars().count() <= 40).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_read_as_a_score() {
        for (body, want) in [
            ("5", Some(5)),
            (" 1 ", Some(1)),
            ("4!", Some(4)),
            ("5 thanks, great help", Some(5)),
            ("3/5", Some(3)),
            ("0", None),
            ("6", None),
            ("10", None),
            ("4.5", None),
            ("2 or 3", None),
            ("five", None),
            ("", None),
            ("5 ".repeat(30).as_str(), None),
            ("My order 4521 is late", None),
        ] {
            assert_eq!(score(body), want, "{body:?}");
        }
    }

    #[test]
    fn asked_once_per_resolution_never_when_opted_out() {
        let base = Asking {
            channel: ChannelKind::Sms,
            enabled: true,
            opted_out: false,
            resolutions: 1,
            asked_for: 0,
            window_open: true,
        };
        for (what, a, want) in [
            ("first resolution", base, true),
            ("asked already for this resolution", Asking { asked_for: 1, ..base }, false),
            ("resolved again after a reopen", Asking { resolutions: 2, asked_for: 1, ..base }, true),
            ("opted out", Asking { opted_out: true, ..base }, false),
            ("no survey on the inbox", Asking { enabled: false, ..base }, false),
            ("email is not surveyed", Asking { channel: ChannelKind::Email, ..base }, false),
            ("WhatsApp after its window", Asking { channel: ChannelKind::Whatsapp, window_open: false, ..base }, false),
            ("web chat", Asking { channel: ChannelKind::Webchat, ..base }, true),
        ] {
            assert_eq!(should_ask(&a), want, "{what}");
        }
    }

    #[test]
    fn the_question_as_each_channel_shows_it() {
        let s = Survey { question: None };
        assert_eq!(text(&s, ChannelKind::Webchat), "How did we do?");
        assert_eq!(text(&s, ChannelKind::Sms), "How did we do? Reply with a number from 1 (poor) to 5 (great).");
        let own = Survey { question: Some("Were we helpful?".into()) };
        assert_eq!(text(&own, ChannelKind::InApp), "Were we helpful?");
    }
}
