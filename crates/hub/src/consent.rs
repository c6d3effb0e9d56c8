//! Whether a proactive message may go to an address, as far as consent goes: a pure
//! decision over the address's opt-out, its latest record for the message's purpose, and
//! whether the inbox's business requires recorded consent for that purpose (inbox setting
//! `consent_required`). Replies inside a conversation are [`crate::rules::may_send`]'s.

use switchboard_protocol::consent::ConsentPurpose;

/// What is known of one address's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// Opted out of everything (STOP, or `service` withdrawn).
    pub opted_out: bool,
    /// The latest record for the message's purpose: granted or withdrawn, if any.
    pub latest: Option<bool>,
}

/// Why a proactive message may not go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    OptedOut,
    /// The customer withdrew consent to this purpose.
    Withdrawn(ConsentPurpose),
    /// The inbox requires recorded consent to this purpose, and there is none.
    NotGiven(ConsentPurpose),
}

impl Refusal {
    /// The reason as agents and campaign results show it.
    pub fn message(self, address: &str) -> String {
        match self {
            Refusal::OptedOut => format!("{address} opted out; nothing can be sent there"),
            Refusal::Withdrawn(p) => format!("{address} withdrew consent to {p} messages"),
            Refusal::NotGiven(p) => {
                format!("this inbox requires recorded consent to {p} messages, and {address} has not given it")
            }
        }
    }

    /// The short reason kept with a campaign's skipped recipient.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::OptedOut => "opted_out",
            Refusal::Withdrawn(_) => "consent_withdrawn",
            Refusal::NotGiven(_) => "no_consent",
        }
    }
}

/// Whether a message for `purpose` may be sent on an inbox that requires consent for
/// `required`: never to an opted-out address, never against a withdrawal, and only with a
/// grant where one is required.
pub fn may_reach(purpose: ConsentPurpose, s: Standing, required: &[ConsentPurpose]) -> Result<(), Refusal> {
    if s.opted_out {
        return Err(Refusal::OptedOut);
    }
    match s.latest {
        Some(false) => Err(Refusal::Withdrawn(purpose)),
        Some(true) => Ok(()),
        None if required.contains(&purpose) => Err(Refusal::NotGiven(purpose)),
        None => Ok(()),
    }
}

/// An inbox's `consent_required` setting: the purposes its business sends only with
/// recorded consent (none when unset).
pub fn required_of(settings: &serde_json::Value) -> Result<Vec<ConsentPurpose>, String> {
    let Some(v) = settings.get("consent_required").filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    serde_json::from_value(v.clone())
        .map_err(|e| format!("`consent_required` must be a list of purposes (\"service\", \"marketing\"): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConsentPurpose::{Marketing, Service};

    #[test]
    fn who_may_be_reached() {
        let none = Standing::default();
        let granted = Standing { opted_out: false, latest: Some(true) };
        let withdrawn = Standing { opted_out: false, latest: Some(false) };
        let out = Standing { opted_out: true, latest: Some(true) };
        type Case<'a> = (&'a str, ConsentPurpose, Standing, &'a [ConsentPurpose], Result<(), Refusal>);
        let table: &[Case<'_>] = &[
            ("nothing recorded, nothing required", Marketing, none, &[], Ok(())),
            ("nothing recorded, required", Marketing, none, &[Marketing], Err(Refusal::NotGiven(Marketing))),
            ("required for another purpose", Service, none, &[Marketing], Ok(())),
            ("granted where required", Marketing, granted, &[Marketing], Ok(())),
            ("withdrawn though not required", Marketing, withdrawn, &[], Err(Refusal::Withdrawn(Marketing))),
            ("withdrawn where required", Service, withdrawn, &[Service], Err(Refusal::Withdrawn(Service))),
            ("opted out beats a grant", Marketing, out, &[], Err(Refusal::OptedOut)),
            ("opted out where required", Service, out, &[Service, Marketing], Err(Refusal::OptedOut)),
        ];
        for (name, purpose, standing, required, want) in table {
            assert_eq!(may_reach(*purpose, *standing, required), *want, "{name}");
        }
    }

    #[test]
    fn the_setting_reads_purposes_or_refuses() {
        assert_eq!(required_of(&serde_json::json!({})).unwrap(), vec![]);
        assert_eq!(required_of(&serde_json::json!({"consent_required": null})).unwrap(), vec![]);
        assert_eq!(
            required_of(&serde_json::json!({"consent_required": ["marketing", "service"]})).unwrap(),
            vec![Marketing, Service]
        );
        assert!(required_of(&serde_json::json!({"consent_required": ["spam"]})).unwrap_err().contains("purposes"));
        assert!(required_of(&serde_json::json!({"consent_required": true})).is_err());
    }
}
