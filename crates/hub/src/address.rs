//! Normalising customer addresses so one customer is one contact: phone numbers to E.164,
//! emails to lower case.

use switchboard_protocol::model::{AddressKind, ChannelKind};

/// Why a customer's address cannot be used. The texts are what API clients read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    #[error("the customer's address is empty")]
    Empty,
    #[error("the customer's address is too long")]
    TooLong,
    #[error("`{0}` is not an email address")]
    NotAnEmail(String),
    #[error("`{0}` is not a phone number")]
    NotAPhoneNumber(String),
    /// It parses as a phone number, but no such number can exist.
    #[error("`{0}` is not a valid phone number")]
    InvalidPhoneNumber(String),
}

/// The normal form of `raw` as an address on `channel`, or why it is not one.
///
/// Phone numbers may come as `+1 (415) 555-0100`, `0044 20 7946 0958`, or as WhatsApp's
/// `14155550100` (country code, no plus); numbers without a country code are read in
/// `default_region`.
pub fn normalize(channel: ChannelKind, raw: &str, default_region: &str) -> Result<String, AddressError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(AddressError::Empty);
    }
    if raw.len() > 320 {
        return Err(AddressError::TooLong);
    }
    match channel.address_kind() {
        AddressKind::Phone => to_e164(raw.strip_prefix("whatsapp:").unwrap_or(raw), channel, default_region),
        AddressKind::Email => {
            let lower = raw.to_lowercase();
            match lower.split_once('@') {
                Some((user, domain))
                    if !user.is_empty() && domain.contains('.') && !lower.contains(char::is_whitespace) =>
                {
                    Ok(lower)
                }
                _ => Err(AddressError::NotAnEmail(raw.to_owned())),
            }
        }
        _ => Ok(raw.to_owned()),
    }
}

fn to_e164(raw: &str, channel: ChannelKind, default_region: &str) -> Result<String, AddressError> {
    let cleaned: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let candidate = if let Some(rest) = cleaned.strip_prefix("00") {
        format!("+{rest}")
    } else if channel == ChannelKind::Whatsapp && !cleaned.starts_with('+') {
        // WhatsApp's wa_id is the full international number without the plus.
        format!("+{cleaned}")
    } else {
        cleaned
    };
    let region = default_region.parse::<phonenumber::country::Id>().ok();
    let parsed = phonenumber::parse(region, &candidate).map_err(|_| AddressError::NotAPhoneNumber(raw.to_owned()))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(AddressError::InvalidPhoneNumber(raw.to_owned()));
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelKind::*;

    #[test]
    fn normalisation_table() {
        let cases: &[(ChannelKind, &str, Result<&str, ()>)] = &[
            (Sms, "+14155550123", Ok("+14155550123")),
            (Sms, "+1 (415) 555-0123", Ok("+14155550123")),
            (Sms, "(415) 555-0123", Ok("+14155550123")),
            (Sms, "0044 20 7946 0958", Ok("+442079460958")),
            (Sms, "+44 20 7946 0958", Ok("+442079460958")),
            (Whatsapp, "14155550123", Ok("+14155550123")),
            (Whatsapp, "whatsapp:+14155550123", Ok("+14155550123")),
            (Whatsapp, "442079460958", Ok("+442079460958")),
            (Sms, "hello", Err(())),
            (Sms, "+1 555", Err(())),
            (Sms, "", Err(())),
            (Email, "Ana.Silva@Example.COM", Ok("ana.silva@example.com")),
            (Email, "not-an-email", Err(())),
            (Messenger, "6789012345", Ok("6789012345")),
            (Webchat, "visitor-1f3a", Ok("visitor-1f3a")),
        ];
        for (channel, raw, want) in cases {
            let got = normalize(*channel, raw, "US");
            match want {
                Ok(w) => assert_eq!(got.as_deref(), Ok(*w), "{channel} {raw}"),
                Err(()) => assert!(got.is_err(), "{channel} {raw} should fail, got {got:?}"),
            }
        }
    }

    #[test]
    fn errors_read_as_clients_have_always_seen_them() {
        let long = "1".repeat(321);
        let cases: &[(ChannelKind, &str, &str)] = &[
            (Sms, "  ", "the customer's address is empty"),
            (Sms, &long, "the customer's address is too long"),
            (Email, "not-an-email", "`not-an-email` is not an email address"),
            (Sms, "hello", "`hello` is not a phone number"),
            (Sms, "+1 555", "`+1 555` is not a valid phone number"),
        ];
        for (channel, raw, want) in cases {
            let got = normalize(*channel, raw, "US").map_err(|e| e.to_string());
            assert_eq!(got, Err((*want).to_owned()), "{channel} {raw}");
        }
    }

    #[test]
    fn sms_and_whatsapp_forms_of_one_number_agree() {
        assert_eq!(normalize(Sms, "+1 415-555-0123", "US"), normalize(Whatsapp, "14155550123", "US"));
    }
}
