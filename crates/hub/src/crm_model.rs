//! What the store keeps for the CRM and the CRM layer reads, below both so that neither
//! imports the other: what a lookup searches by (a contact's addresses, normalised) and the
//! lines of a resolved conversation's transcript. Calling the CRM and rendering a
//! transcript are [`crate::crm`]'s.

use crate::address::{self, AddressError};
use switchboard_protocol::model::{ChannelKind, Contact, Direction};
use switchboard_protocol::Timestamp;

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

/// One line of a resolved conversation, as its transcript shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    pub direction: Direction,
    /// The customer's or the agent's name.
    pub author: String,
    pub body: String,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

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
