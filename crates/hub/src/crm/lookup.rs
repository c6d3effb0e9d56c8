//! What a lookup searches by (a contact's addresses, normalised), and how the records a
//! connector finds are matched and ranked against it. Calling the CRM is left to the
//! connectors and [`Crm`](super::Crm).

use crate::address;
pub use crate::crm_model::Lookup;
use switchboard_protocol::model::{ChannelKind, CrmField};

/// A customer record as a connector found it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub id: String,
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    /// The configured fields, labelled, in the configured order.
    pub fields: Vec<CrmField>,
    pub link: Option<String>,
}

/// What a lookup found: the best record first, then the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub records: Vec<Record>,
    pub searched: Vec<String>,
}

/// Whether two phone numbers are the same: equal as E.164, or (for numbers a CRM stores
/// without a country code) one's digits end with the other's, at least seven of them.
pub fn same_phone(a: &str, b: &str) -> bool {
    PhoneKey::of(a).matches(&PhoneKey::of(b))
}

/// A phone number as [`same_phone`] compares it, worked out once (for every row of a CSV
/// file when it is read, not at every lookup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneKey {
    e164: Option<String>,
    /// Digits without a national trunk prefix (the 0 of `020 7946 0958`).
    digits: String,
}

impl PhoneKey {
    pub fn of(s: &str) -> PhoneKey {
        PhoneKey {
            e164: address::normalize(ChannelKind::Sms, s, "US").ok(),
            digits: s.chars().filter(char::is_ascii_digit).skip_while(|c| *c == '0').collect(),
        }
    }

    pub fn matches(&self, other: &PhoneKey) -> bool {
        if self.e164.is_some() && self.e164 == other.e164 {
            return true;
        }
        let (long, short) = if self.digits.len() >= other.digits.len() { (self, other) } else { (other, self) };
        short.digits.len() >= 7 && long.digits.ends_with(&short.digits)
    }
}

/// How closely a record matches: an exact email beats a phone, which beats neither.
pub fn closeness(r: &Record, l: &Lookup) -> u8 {
    if r.emails.iter().any(|e| l.emails.iter().any(|w| e.trim().eq_ignore_ascii_case(w))) {
        2
    } else if r.phones.iter().any(|p| l.phones.iter().any(|w| same_phone(p, w))) {
        1
    } else {
        0
    }
}

/// The records, each once (by id), closest first; ties keep the CRM's order.
pub fn rank(records: Vec<Record>, l: &Lookup) -> Vec<Record> {
    let mut seen = std::collections::HashSet::new();
    let mut unique: Vec<Record> = records.into_iter().filter(|r| seen.insert(r.id.clone())).collect();
    unique.sort_by_key(|r| std::cmp::Reverse(closeness(r, l)));
    unique
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record with one email and one phone (either may be empty), for tests.
    pub(crate) fn rec(id: &str, email: &str, phone: &str) -> Record {
        Record {
            id: id.into(),
            name: id.into(),
            emails: (!email.is_empty()).then(|| email.to_owned()).into_iter().collect(),
            phones: (!phone.is_empty()).then(|| phone.to_owned()).into_iter().collect(),
            ..Record::default()
        }
    }

    #[test]
    fn phones_match_across_formats() {
        for (a, b, same) in [
            ("+14155550123", "+14155550123", true),
            ("+14155550123", "(415) 555-0123", true),
            ("+14155550123", "415.555.0123", true),
            ("+14155550123", "+14155550124", false),
            ("+442079460958", "020 7946 0958", true),
            ("+14155550123", "0123", false),
            ("", "", false),
        ] {
            assert_eq!(same_phone(a, b), same, "{a} vs {b}");
        }
    }

    #[test]
    fn exact_email_beats_phone_beats_neither() {
        let l = Lookup { emails: vec!["ben@example.com".into()], phones: vec!["+14155550123".into()] };
        let ranked = rank(
            vec![
                rec("other", "someone@example.com", ""),
                rec("by-phone", "", "(415) 555-0123"),
                rec("by-email", "Ben@Example.com", ""),
                rec("by-phone", "", "(415) 555-0123"),
            ],
            &l,
        );
        let ids: Vec<&str> = ranked.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["by-email", "by-phone", "other"], "closest first, each once");
    }
}
