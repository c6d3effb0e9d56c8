//! The shell's own words (desktop notifications, the tray) in the language the window
//! shows, read from the window's message catalogs (`ui/src/locales/`): one home and one
//! translation for every string the agent reads, whichever part of the app shows it.

use std::collections::HashMap;
use switchboard_core::notify::isolate;
use switchboard_protocol::console::Notification;
use switchboard_protocol::model::ChannelKind;

/// The catalogs the console ships, English first: the source, beneath every other.
const CATALOGS: [(&str, &str); 3] = [
    ("en", include_str!("../../ui/src/locales/en.json")),
    ("de", include_str!("../../ui/src/locales/de.json")),
    ("ar", include_str!("../../ui/src/locales/ar.json")),
];

/// The shipped catalog (code, text) for `language`; English's for any other.
fn shipped(language: &str) -> (&'static str, &'static str) {
    CATALOGS.iter().copied().find(|(code, _)| *code == language).unwrap_or(CATALOGS[0])
}

/// One language's messages, with English's beneath them.
#[derive(Debug, Clone)]
pub struct Words {
    language: &'static str,
    messages: HashMap<String, String>,
}

impl Default for Words {
    fn default() -> Self {
        Words::of("en")
    }
}

impl Words {
    /// The shipped catalog `language` names: itself when the console ships it, English
    /// for any other.
    pub fn resolve(language: &str) -> &'static str {
        shipped(language).0
    }

    /// The words of `language`, a shipped catalog's code; English for any other.
    pub fn of(language: &str) -> Words {
        let (english_code, english) = CATALOGS[0];
        let (chosen, catalog) = shipped(language);
        let mut messages = parse(english);
        if chosen != english_code {
            messages.extend(parse(catalog));
        }
        Words { language: chosen, messages }
    }

    /// The language these words are in.
    pub fn language(&self) -> &'static str {
        self.language
    }

    /// Message `key` with each `{name}` of `values` put in; the key itself if no catalog
    /// has it. Only plain placeholders: the shell's messages have no plurals.
    pub fn get(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.messages.get(key).cloned().unwrap_or_else(|| key.to_owned());
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    fn channel(&self, channel: ChannelKind) -> String {
        self.get(&format!("channel.{}", channel.as_str()), &[])
    }

    /// "Title: customer · channel", the customer's name isolated so its direction never
    /// turns the words around it.
    fn about(&self, title: &str, contact: &str, channel: ChannelKind) -> String {
        format!("{title}{}{}", self.get("notice.colon", &[]), self.customer(contact, channel))
    }

    fn customer(&self, contact: &str, channel: ChannelKind) -> String {
        format!("{} · {}", isolate(contact), self.channel(channel))
    }
}

fn parse(catalog: &str) -> HashMap<String, String> {
    serde_json::from_str(catalog).unwrap_or_default()
}

/// What a desktop notification says, and the conversation a click on it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub title: String,
    /// Empty when there is nothing to add, or the agent keeps customers' words off screen.
    pub body: String,
    pub conversation: Option<i64>,
}

/// The title and body of `notification` in `words`' language.
pub fn shown(notification: &Notification, words: &Words) -> Shown {
    match notification {
        Notification::Reply { contact_name, channel, text, conversation_id, .. } => Shown {
            title: words.customer(contact_name, *channel),
            body: text.clone(),
            conversation: Some(*conversation_id),
        },
        Notification::Summary { customers, assigned, missed, .. } => Shown {
            title: words.get("notice.summary", &[]),
            body: summary_lines(words, *customers, *assigned, *missed),
            conversation: None,
        },
        Notification::Assigned { contact_name, channel, text, conversation_id, by } => {
            let title = match by {
                Some(lead) => words.get("notice.assignedBy", &[("name", isolate(lead).as_str())]),
                None => words.get("notice.assigned", &[]),
            };
            Shown {
                title: words.about(&title, contact_name, *channel),
                body: text.clone(),
                conversation: Some(*conversation_id),
            }
        }
        Notification::Sla { contact_name, channel, conversation_id, breached, .. } => {
            let title = words.get(if *breached { "notice.slaMissed" } else { "notice.slaSoon" }, &[]);
            Shown {
                title: words.about(&title, contact_name, *channel),
                body: String::new(),
                conversation: Some(*conversation_id),
            }
        }
        Notification::Woke { contact_name, channel, text, conversation_id } => Shown {
            title: words.about(&words.get("notice.woke", &[]), contact_name, *channel),
            body: text.clone(),
            conversation: Some(*conversation_id),
        },
    }
}

/// A summary's body: a line for each count that is not zero, as the window shows it.
fn summary_lines(words: &Words, customers: u32, assigned: u32, missed: u32) -> String {
    [("notice.countReplied", customers), ("notice.countAssigned", assigned), ("notice.countMissed", missed)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(key, n)| words.get(key, &[("count", n.to_string().as_str())]))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The tray's tooltip for `unread` conversations.
pub fn tray_tooltip(words: &Words, unread: u64) -> String {
    match unread {
        0 => "Switchboard".to_owned(),
        n => format!("Switchboard — {}", words.get("tray.unread", &[("count", n.to_string().as_str())])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assigned(by: Option<&str>) -> Notification {
        Notification::Assigned {
            conversation_id: 7,
            contact_name: "Carla Mendes".into(),
            channel: ChannelKind::Whatsapp,
            text: "My parcel is stuck".into(),
            by: by.map(str::to_owned),
        }
    }

    #[test]
    fn notifications_speak_the_windows_language() {
        let cases: Vec<(&str, Notification, &str, &str)> = vec![
            ("en", assigned(None), "Assigned to you: \u{2068}Carla Mendes\u{2069} · WhatsApp", "My parcel is stuck"),
            (
                "en",
                assigned(Some("Lee")),
                "Assigned to you by \u{2068}Lee\u{2069}: \u{2068}Carla Mendes\u{2069} · WhatsApp",
                "My parcel is stuck",
            ),
            ("ar", assigned(None), "أُسندت إليك: \u{2068}Carla Mendes\u{2069} · واتساب", "My parcel is stuck"),
            ("de", assigned(None), "Ihnen zugewiesen: \u{2068}Carla Mendes\u{2069} · WhatsApp", "My parcel is stuck"),
            (
                "en",
                Notification::Reply {
                    conversation_id: 7,
                    message_id: 9,
                    contact_name: "Ana".into(),
                    channel: ChannelKind::Webchat,
                    text: "Hello".into(),
                },
                "\u{2068}Ana\u{2069} · Web chat",
                "Hello",
            ),
            (
                "ar",
                Notification::Sla {
                    conversation_id: 7,
                    contact_name: "Ana".into(),
                    channel: ChannelKind::Email,
                    due_at: 0,
                    breached: true,
                },
                "فات موعد الرد المستهدف: \u{2068}Ana\u{2069} · البريد الإلكتروني",
                "",
            ),
            (
                "de",
                Notification::Woke {
                    conversation_id: 7,
                    contact_name: "Ana".into(),
                    channel: ChannelKind::Sms,
                    text: "Any news?".into(),
                },
                "Zurückstellung beendet: \u{2068}Ana\u{2069} · SMS",
                "Any news?",
            ),
            (
                "en",
                Notification::Summary { customers: 3, messages: 5, assigned: 0, missed: 1 },
                "While you were away",
                "Customers replied: 3 · Response targets missed: 1",
            ),
            (
                "ar",
                Notification::Summary { customers: 0, messages: 0, assigned: 2, missed: 0 },
                "أثناء غيابك",
                "أُسندت إليك: 2",
            ),
            // A language the console does not ship speaks English.
            ("xx", assigned(None), "Assigned to you: \u{2068}Carla Mendes\u{2069} · WhatsApp", "My parcel is stuck"),
        ];
        for (language, n, title, body) in cases {
            let s = shown(&n, &Words::of(language));
            assert_eq!((s.title.as_str(), s.body.as_str()), (title, body), "{language}: {n:?}");
            assert_eq!(s.conversation, if matches!(n, Notification::Summary { .. }) { None } else { Some(7) });
        }
    }

    #[test]
    fn a_customers_direction_override_stays_inside_the_name() {
        let n = Notification::Assigned {
            conversation_id: 1,
            contact_name: "\u{202E}evil".into(),
            channel: ChannelKind::Sms,
            text: String::new(),
            by: Some("\u{202E}lead".into()),
        };
        let s = shown(&n, &Words::of("en"));
        assert!(!s.title.contains('\u{202E}'), "{:?}", s.title);
        assert!(s.title.starts_with("Assigned to you by \u{2068}lead\u{2069}: "), "{:?}", s.title);
    }

    #[test]
    fn the_tray_counts_unread_conversations_in_the_language() {
        assert_eq!(tray_tooltip(&Words::of("en"), 0), "Switchboard");
        assert_eq!(tray_tooltip(&Words::of("en"), 3), "Switchboard — Unread conversations: 3");
        assert_eq!(tray_tooltip(&Words::of("ar"), 1), "Switchboard — محادثات غير مقروءة: 1");
    }

    #[test]
    fn a_language_resolves_to_a_shipped_catalog_or_english() {
        for (asked, code) in [("de", "de"), ("ar", "ar"), ("en", "en"), ("fr", "en"), ("", "en"), ("de-AT", "en")] {
            assert_eq!(Words::resolve(asked), code, "{asked}");
            assert_eq!(Words::of(asked).language(), code, "{asked}");
        }
    }

    /// Every catalog the window ships is here, and each has every key the shell reads.
    #[test]
    fn the_shell_reads_every_shipped_catalog() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/locales");
        let mut shipped: Vec<String> = std::fs::read_dir(dir)
            .expect("the window's catalogs")
            .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
            .collect();
        shipped.sort();
        let mut here: Vec<&str> = CATALOGS.iter().map(|(code, _)| *code).collect();
        here.sort_unstable();
        assert_eq!(shipped, here);
        let keys = [
            "notice.summary",
            "notice.assigned",
            "notice.assignedBy",
            "notice.slaMissed",
            "notice.slaSoon",
            "notice.woke",
            "notice.open",
            "notice.colon",
            "notice.countReplied",
            "notice.countAssigned",
            "notice.countMissed",
            "tray.open",
            "tray.quit",
            "tray.unread",
        ];
        for (code, catalog) in CATALOGS {
            let messages = parse(catalog);
            assert!(!messages.is_empty(), "{code} parses");
            for key in keys {
                assert!(messages.contains_key(key), "{code} has {key}");
            }
            for kind in ChannelKind::ALL {
                assert!(messages.contains_key(&format!("channel.{}", kind.as_str())), "{code} names {kind:?}");
            }
        }
    }
}
