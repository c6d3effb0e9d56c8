//! The kinds of change the feed records, and the one place that knows the text each is
//! stored as in `changes.kind`. It leaves out what a change carries (its serialised
//! [`Change`](switchboard_protocol::sync::Change)) and who may see it (the change's scope).

use super::db::Value;
use std::fmt;
use std::str::FromStr;

/// What a stored change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Conversation,
    Message,
    Contact,
    Agent,
    Team,
    Inbox,
    /// One agent's read position in a conversation.
    ReadMarker,
    /// One agent's teams or role changed: their console re-bootstraps.
    Scope,
    /// A canned response, shared or one agent's own.
    Canned,
    /// A knowledge-base article.
    Article,
    /// One agent's notification preferences.
    Preferences,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 11] = [
        ChangeKind::Conversation,
        ChangeKind::Message,
        ChangeKind::Contact,
        ChangeKind::Agent,
        ChangeKind::Team,
        ChangeKind::Inbox,
        ChangeKind::ReadMarker,
        ChangeKind::Scope,
        ChangeKind::Canned,
        ChangeKind::Article,
        ChangeKind::Preferences,
    ];

    /// The text stored in `changes.kind`. Rows already written keep these: changing one
    /// needs a migration.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Conversation => "conversation",
            ChangeKind::Message => "message",
            ChangeKind::Contact => "contact",
            ChangeKind::Agent => "agent",
            ChangeKind::Team => "team",
            ChangeKind::Inbox => "inbox",
            ChangeKind::ReadMarker => "read_marker",
            ChangeKind::Scope => "scope",
            ChangeKind::Canned => "canned",
            ChangeKind::Article => "article",
            ChangeKind::Preferences => "preferences",
        }
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `changes.kind` value this hub does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown change kind `{0}`")]
pub struct UnknownChangeKind(pub String);

impl FromStr for ChangeKind {
    type Err = UnknownChangeKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChangeKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownChangeKind(s.to_owned()))
    }
}

impl From<ChangeKind> for Value {
    fn from(k: ChangeKind) -> Self {
        Value::from(k.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts already in every hub's database.
    #[test]
    fn stored_texts_are_stable() {
        let cases = [
            (ChangeKind::Conversation, "conversation"),
            (ChangeKind::Message, "message"),
            (ChangeKind::Contact, "contact"),
            (ChangeKind::Agent, "agent"),
            (ChangeKind::Team, "team"),
            (ChangeKind::Inbox, "inbox"),
            (ChangeKind::ReadMarker, "read_marker"),
            (ChangeKind::Scope, "scope"),
            (ChangeKind::Canned, "canned"),
            (ChangeKind::Article, "article"),
            (ChangeKind::Preferences, "preferences"),
        ];
        assert_eq!(cases.len(), ChangeKind::ALL.len());
        for (kind, text) in cases {
            assert_eq!(kind.as_str(), text);
            assert_eq!(text.parse::<ChangeKind>(), Ok(kind));
        }
    }

    #[test]
    fn unknown_text_is_an_error() {
        assert_eq!("presence".parse::<ChangeKind>(), Err(UnknownChangeKind("presence".into())));
    }
}
