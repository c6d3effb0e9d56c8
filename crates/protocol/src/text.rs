//! The one rule for control characters in text that reaches Switchboard from outside (a
//! customer's message, an agent's reply, a name, an email): the C0 controls other than
//! tab, line feed and carriage return are dropped where the text enters, so that every
//! store keeps the same text. (PostgreSQL cannot store U+0000 at all; SQLite can.)

use std::borrow::Cow;

/// Whether `c` is kept in text: anything but a C0 control, save tab, line feed and
/// carriage return.
pub fn keeps(c: char) -> bool {
    !c.is_ascii_control() || matches!(c, '\t' | '\n' | '\r') || c == '\u{7f}'
}

/// `s` without the characters [`keeps`] drops; borrowed when there are none.
pub fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().all(keeps) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|c| keeps(*c)).collect())
    }
}

/// Cleans `s` where it stands.
pub fn clean_in_place(s: &mut String) {
    if !s.chars().all(keeps) {
        s.retain(keeps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_table() {
        for (text, want) in [
            ("plain text", "plain text"),
            ("a\u{0}b", "ab"),
            ("\u{0}\u{0}", ""),
            ("tab\there\nline\r\n", "tab\there\nline\r\n"),
            ("bell\u{7}, escape\u{1b}[31m, form feed\u{c}", "bell, escape[31m, form feed"),
            ("delete\u{7f} stays", "delete\u{7f} stays"),
            ("ünïcode 😀 \u{200b} \u{80}", "ünïcode 😀 \u{200b} \u{80}"),
        ] {
            assert_eq!(clean(text), want, "{text:?}");
            let mut owned = text.to_owned();
            clean_in_place(&mut owned);
            assert_eq!(owned, want);
        }
        assert!(matches!(clean("nothing to drop"), Cow::Borrowed(_)));
    }
}
