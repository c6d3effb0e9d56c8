//! Choices offered with a message and answered with a tap: reply buttons and lists on
//! WhatsApp, quick replies on Messenger and Instagram, buttons in the web-chat widget and
//! in-app chat. What each channel can carry (how many, how long a title) is checked here,
//! by the console before queueing and by the hub before storing.

use crate::model::ChannelKind;

pub use crate::model::{Choice, ChoiceStyle, Choices, Chosen};

/// What a channel can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub buttons: usize,
    pub list_rows: usize,
    pub title: usize,
    pub description: usize,
    pub button: usize,
    /// The message's text, which must come with the choices.
    pub body: usize,
}

/// What `channel` can carry, from its provider's documentation: WhatsApp up to 3 reply
/// buttons (titles of 20 characters) or a list of 10 rows (titles of 24, descriptions of
/// 72, its button 20), body up to 1,024; Messenger and Instagram up to 13 quick replies
/// (titles of 20) and no lists; the widget and in-app chat 10 buttons of 40. SMS and email
/// carry none.
pub fn limits(channel: ChannelKind) -> Option<Limits> {
    match channel {
        ChannelKind::Whatsapp => {
            Some(Limits { buttons: 3, list_rows: 10, title: 24, description: 72, button: 20, body: 1024 })
        }
        ChannelKind::Messenger | ChannelKind::Instagram => {
            Some(Limits { buttons: 13, list_rows: 0, title: 20, description: 0, button: 20, body: 2000 })
        }
        ChannelKind::Webchat | ChannelKind::InApp => {
            Some(Limits { buttons: 10, list_rows: 10, title: 40, description: 72, button: 40, body: 65_536 })
        }
        ChannelKind::Sms | ChannelKind::Email => None,
    }
}

/// Why `choices` with `body` cannot go on `channel`, if they cannot.
pub fn refuse(channel: ChannelKind, body: &str, choices: &Choices) -> Option<String> {
    let name = crate::files::channel_label(channel);
    let Some(l) = limits(channel) else { return Some(format!("{name} cannot carry buttons or lists")) };
    let chars = |s: &str| s.chars().count();
    if body.trim().is_empty() {
        return Some("choices need a message to go with them".into());
    }
    if chars(body) > l.body {
        return Some(format!("{name} carries at most {} characters with choices", l.body));
    }
    if choices.style == ChoiceStyle::List && l.list_rows == 0 {
        return Some(format!("{name} shows no lists; offer the choices as buttons"));
    }
    let most = match choices.style {
        // WhatsApp's buttons are three at most; a list holds more.
        ChoiceStyle::Buttons => l.buttons,
        ChoiceStyle::List => l.list_rows,
    };
    if choices.options.is_empty() || choices.options.len() > most {
        return Some(format!("{name} offers 1 to {most} choices this way"));
    }
    // WhatsApp's reply buttons have shorter titles than its list rows.
    let title_max =
        if channel == ChannelKind::Whatsapp && choices.style == ChoiceStyle::Buttons { 20 } else { l.title };
    for (i, o) in choices.options.iter().enumerate() {
        if o.id.trim().is_empty() || chars(&o.id) > 200 || o.id.chars().any(char::is_control) {
            return Some(format!("choice {} needs an id of 1 to 200 characters", i + 1));
        }
        if choices.options[..i].iter().any(|p| p.id == o.id) {
            return Some(format!("two choices have the id `{}`", o.id));
        }
        if o.title.trim().is_empty() {
            return Some(format!("choice {} needs a title", i + 1));
        }
        if chars(&o.title) > title_max {
            return Some(format!("`{}`: a choice's title is 1 to {title_max} characters on {name}", o.title));
        }
        if let Some(d) = o.description.as_deref().filter(|d| !d.trim().is_empty()) {
            if l.description == 0 || choices.style != ChoiceStyle::List {
                return Some(format!("`{}`: {name} shows no description with this choice", o.title));
            }
            if chars(d) > l.description {
                return Some(format!("`{}`: a description is at most {} characters", o.title, l.description));
            }
        }
    }
    if choices.style == ChoiceStyle::List {
        match choices.button.as_deref().map(str::trim) {
            Some(b) if !b.is_empty() && chars(b) <= l.button => {}
            _ => return Some(format!("a list needs a button of 1 to {} characters that opens it", l.button)),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(n: usize, title: &str) -> Vec<Choice> {
        (0..n).map(|i| Choice { id: format!("o{i}"), title: title.to_owned(), description: None }).collect()
    }

    #[test]
    fn what_each_channel_carries() {
        let buttons = |n, title: &str| Choices { style: ChoiceStyle::Buttons, button: None, options: opts(n, title) };
        let list = |n, button: Option<&str>| Choices {
            style: ChoiceStyle::List,
            button: button.map(str::to_owned),
            options: opts(n, "Tuesday 10:00"),
        };
        let mut dup = buttons(2, "Yes");
        dup.options[1].id = "o0".into();
        let mut described = list(2, Some("See times"));
        described.options[0].description = Some("At the shop on Main Street".into());
        let mut described_buttons = buttons(2, "Yes");
        described_buttons.options[0].description = Some("x".into());
        let cases: Vec<(ChannelKind, &str, Choices, Option<&str>)> = vec![
            (ChannelKind::Whatsapp, "Pick a time", buttons(3, "Tuesday"), None),
            (ChannelKind::Whatsapp, "Pick a time", buttons(4, "Tuesday"), Some("1 to 3")),
            (ChannelKind::Whatsapp, "Pick a time", buttons(2, "Tuesday at ten o'clock"), Some("1 to 20 characters")),
            (ChannelKind::Whatsapp, "Pick a time", list(10, Some("See times")), None),
            (ChannelKind::Whatsapp, "Pick a time", list(11, Some("See times")), Some("1 to 10")),
            (ChannelKind::Whatsapp, "Pick a time", list(3, None), Some("needs a button")),
            (ChannelKind::Whatsapp, "Pick a time", described, None),
            (ChannelKind::Whatsapp, "Pick", described_buttons, Some("no description")),
            (ChannelKind::Whatsapp, "  ", buttons(2, "Yes"), Some("need a message")),
            (ChannelKind::Whatsapp, "Pick", dup, Some("two choices")),
            (ChannelKind::Messenger, "Pick", buttons(13, "Yes"), None),
            (ChannelKind::Messenger, "Pick", buttons(14, "Yes"), Some("1 to 13")),
            (ChannelKind::Instagram, "Pick", buttons(2, "Yes"), None),
            (ChannelKind::Messenger, "Pick", list(2, Some("See")), Some("shows no lists")),
            (ChannelKind::Whatsapp, "Pick", buttons(1, " "), Some("choice 1 needs a title")),
            (ChannelKind::Webchat, "Pick", buttons(10, "Tuesday at ten o'clock"), None),
            (ChannelKind::InApp, "Pick", buttons(0, "Yes"), Some("1 to 10")),
            (ChannelKind::Sms, "Pick", buttons(2, "Yes"), Some("SMS cannot carry")),
            (ChannelKind::Email, "Pick", buttons(2, "Yes"), Some("Email cannot carry")),
        ];
        for (channel, body, choices, want) in cases {
            let got = refuse(channel, body, &choices);
            match want {
                None => assert_eq!(got, None, "{channel:?} {choices:?}"),
                Some(part) => assert!(got.as_deref().is_some_and(|g| g.contains(part)), "{channel:?}: {got:?}"),
            }
        }
    }
}
