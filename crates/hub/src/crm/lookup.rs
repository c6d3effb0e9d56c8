//! What a lookup searches by (a contact's addresses, normalised), and how the records a
//! connector finds are matched and ranked against it. Calling the CRM is left to the
//! connectors and [`Crm`](super::Crm).

use crate::address::{self, AddressError};
use switchboard_protocol::model::{ChannelKind, Contact, CrmField};

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

/// What a lookup searches by: the contact's addresses, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Lookup {
    pub emails: Vec<String>,
    pub phones: Vec<String>,
}

impl Lookup {
    /// The contact's email and phone identities; `by` (an address an agent typed) instead
    /// when given.
    pub fn for_contact(contact: &Contact, by: Option<&str>) -> Result<Lookup, AddressError> {
        if let Some(by) = by.map(str::trim).filter(|b| !b.is_empty()) {
            return Lookup::for_address(by);
        }
        let mut l = Lookup::default();
        for i in &contact.identities {
            match i.channel {
                ChannelKind::Email if !l.emails.contains(&i.address) => l.emails.push(i.address.clone()),
                ChannelKind::Sms | ChannelKind::Whatsapp if !l.phones.contains(&i.address) => {
                    l.phones.push(i.address.clone());
                }
                _ => {}
            }
        }
        Ok(l)
    }

    /// One typed address: an email if it has an `@`, otherwise a phone number.
    pub fn for_address(raw: &str) -> Result<Lookup, AddressError> {
        if raw.contains('@') {
            Ok(Lookup { emails: vec![address::normalize(ChannelKind::Email, raw, "US")?], phones: vec![] })
        } else {
            Ok(Lookup { emails: vec![], phones: vec![address::normalize(ChannelKind::Sms, raw, "US")?] })
        }
    }

    pub fn is_empty(&self) -> bool {
        self.emails.is_empty() && self.phones.is_empty()
    }

    /// What was searched, for the sidebar.
    pub fn searched(&self) -> Vec<String> {
        self.emails.iter().chain(&self.phones).cloned().collect()
    }
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
mod tests {
    use super::*;

    fn rec(id: &str, email: &str, phone: &str) -> Record {
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

    #[test]
    fn lookup_uses_phone_and_email_identities_or_the_typed_address() {
        let contact: Contact = serde_json::from_value(serde_json::json!({
            "id": 1, "name": "Ben", "profile": {}, "created_at": 0, "updated_at": 0, "version": 1,
            "identities": [
                {"channel": "sms", "address": "+14155550123"},
                {"channel": "whatsapp", "address": "+14155550123"},
                {"channel": "email", "address": "ben@example.com"},
                {"channel": "messenger", "address": "6000"}
            ]
        }))
        .unwrap();
        let l = Lookup::for_contact(&contact, None).unwrap();
        assert_eq!(l.emails, ["ben@example.com"]);
        assert_eq!(l.phones, ["+14155550123"]);
        let typed = Lookup::for_contact(&contact, Some(" Ben.Other@Example.com ")).unwrap();
        assert_eq!(typed.emails, ["ben.other@example.com"]);
        assert!(typed.phones.is_empty());
        assert_eq!(Lookup::for_contact(&contact, Some("+1 415 555 0199")).unwrap().phones, ["+14155550199"]);
        assert!(Lookup::for_contact(&contact, Some("not a number")).is_err());
    }
}
