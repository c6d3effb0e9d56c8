//! Links that open the console at one place: `switchboard://conversation/<id>` (a
//! conversation's thread) and `switchboard://contact/<id>` (a customer's latest
//! conversation). The hub writes them into what it logs elsewhere (CRM transcripts); the
//! desktop registers the scheme and opens them. A link is read strictly: anything but these
//! two forms is refused, for a link may come from anywhere.

use crate::Id;

/// The URL scheme the desktop app is registered for.
pub const SCHEME: &str = "switchboard";

/// The longest link read; longer ones are refused unread.
const MAX_LEN: usize = 100;

/// Where a link goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Conversation(Id),
    Contact(Id),
}

/// The link to a conversation's thread.
pub fn conversation(id: Id) -> String {
    format!("{SCHEME}://conversation/{id}")
}

/// The link to a customer's latest conversation.
pub fn contact(id: Id) -> String {
    format!("{SCHEME}://contact/{id}")
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Not a `switchboard://` link at all (another program's argument, a web address).
    NotOurs,
    /// A `switchboard://` link of a form this console does not know.
    Unknown,
}

/// Reads a link: `switchboard://conversation/<id>` or `switchboard://contact/<id>`, the id a
/// positive integer below 2^53, with at most a trailing `/`; the scheme and kind in any
/// case.
pub fn parse(link: &str) -> Result<Link, LinkError> {
    let link = link.trim();
    let Some((scheme, rest)) = link.split_once("://") else { return Err(LinkError::NotOurs) };
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(LinkError::NotOurs);
    }
    if link.len() > MAX_LEN {
        return Err(LinkError::Unknown);
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (kind, id) = rest.split_once('/').ok_or(LinkError::Unknown)?;
    if id.is_empty() || id.len() > 16 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LinkError::Unknown);
    }
    let id: Id = id.parse().map_err(|_| LinkError::Unknown)?;
    if id <= 0 || id >= 1 << 53 {
        return Err(LinkError::Unknown);
    }
    if kind.eq_ignore_ascii_case("conversation") {
        Ok(Link::Conversation(id))
    } else if kind.eq_ignore_ascii_case("contact") {
        Ok(Link::Contact(id))
    } else {
        Err(LinkError::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_read_strictly() {
        let cases: &[(&str, Result<Link, LinkError>)] = &[
            ("switchboard://conversation/42", Ok(Link::Conversation(42))),
            ("switchboard://conversation/42/", Ok(Link::Conversation(42))),
            ("SwitchBoard://Conversation/7", Ok(Link::Conversation(7))),
            ("  switchboard://contact/9\n", Ok(Link::Contact(9))),
            ("switchboard://conversation/9007199254740991", Ok(Link::Conversation(9_007_199_254_740_991))),
            ("switchboard://conversation/9007199254740992", Err(LinkError::Unknown)),
            ("switchboard://conversation/0", Err(LinkError::Unknown)),
            ("switchboard://conversation/-3", Err(LinkError::Unknown)),
            ("switchboard://conversation/+3", Err(LinkError::Unknown)),
            ("switchboard://conversation/", Err(LinkError::Unknown)),
            ("switchboard://conversation/12abc", Err(LinkError::Unknown)),
            ("switchboard://conversation/1/2", Err(LinkError::Unknown)),
            ("switchboard://conversation/1?x=2", Err(LinkError::Unknown)),
            ("switchboard://conversation/1#top", Err(LinkError::Unknown)),
            ("switchboard://conversation/٣", Err(LinkError::Unknown)),
            ("switchboard://settings/1", Err(LinkError::Unknown)),
            ("switchboard://", Err(LinkError::Unknown)),
            (&*format!("switchboard://conversation/{}", "1".repeat(200)), Err(LinkError::Unknown)),
            ("https://example.com/conversation/1", Err(LinkError::NotOurs)),
            ("--demo", Err(LinkError::NotOurs)),
            ("", Err(LinkError::NotOurs)),
        ];
        for (link, want) in cases {
            assert_eq!(parse(link), *want, "{link:?}");
        }
    }

    #[test]
    fn links_made_are_links_read() {
        assert_eq!(conversation(42), "switchboard://conversation/42");
        assert_eq!(parse(&conversation(42)), Ok(Link::Conversation(42)));
        assert_eq!(parse(&contact(8)), Ok(Link::Contact(8)));
    }
}
