//! Consent records: every grant and withdrawal per address and purpose, written by a
//! customer's keyword, an agent (with a reason), an audience file or an unsubscribe link;
//! the latest per purpose is what holds and what the profile shows. A withdrawn `service`
//! is the address's opt-out, kept in `opt_outs` for every send to check. Whether a
//! proactive message may go is [`crate::consent::may_reach`]'s to say.

use super::entities::{self, emit_contact, sees_contact};
use super::pool::WriteTx;
use super::{db::Connection, Result, Store, StoreError};
use crate::consent::{self as rule, Refusal, Standing};
use crate::params;
use crate::policy::Viewer;
use switchboard_protocol::consent::{ConsentPurpose, ConsentSource};
use switchboard_protocol::model::{ChannelKind, Consent};
use switchboard_protocol::mutation::{Outcome, SetConsent};
use switchboard_protocol::ErrorCode;

/// One record to write.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub channel: ChannelKind,
    pub address: &'a str,
    pub purpose: ConsentPurpose,
    pub granted: bool,
    pub source: ConsentSource,
    pub evidence: &'a str,
    pub reason: Option<&'a str>,
    pub agent_id: Option<i64>,
}

/// Writes `r` and, for `service`, the address's opt-out to match. Announcing the contact
/// is the caller's.
pub fn record(tx: &mut WriteTx<'_>, r: &Record<'_>) -> Result<()> {
    let evidence = clip(r.evidence);
    tx.conn.execute(
        "INSERT INTO consents (channel, address, purpose, granted, source, evidence, reason, agent_id, at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            r.channel.as_str(),
            r.address,
            r.purpose.as_str(),
            i64::from(r.granted),
            r.source.as_str(),
            evidence,
            r.reason.map(clip),
            r.agent_id,
            tx.now
        ],
    )?;
    if r.purpose == ConsentPurpose::Service {
        if r.granted {
            tx.conn.execute(
                "DELETE FROM opt_outs WHERE channel = ? AND address = ?",
                params![r.channel.as_str(), r.address],
            )?;
        } else {
            tx.conn.execute(
                "INSERT INTO opt_outs (channel, address, keyword, at) VALUES (?, ?, ?, ?) ON CONFLICT (channel, address) DO NOTHING",
                params![r.channel.as_str(), r.address, evidence, tx.now],
            )?;
        }
    }
    Ok(())
}

fn clip(text: &str) -> &str {
    let mut end = text.len().min(Consent::MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Where `address` stands for a message for `purpose`.
pub fn standing(
    c: &mut dyn Connection,
    channel: ChannelKind,
    address: &str,
    purpose: ConsentPurpose,
) -> Result<Standing> {
    let opted_out = entities::opted_out_at(c, channel, address)?;
    let latest = c
        .query_opt(
            "SELECT granted FROM consents WHERE channel = ? AND address = ? AND purpose = ? ORDER BY id DESC LIMIT 1",
            params![channel.as_str(), address, purpose.as_str()],
        )?
        .map(|r| r.int(0).map(|g| g != 0))
        .transpose()?;
    Ok(Standing { opted_out, latest })
}

/// The purposes inbox `inbox_id` sends only with recorded consent.
pub fn required(c: &mut dyn Connection, inbox_id: i64) -> Result<Vec<ConsentPurpose>> {
    let settings = c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox_id])?.json(0)?;
    rule::required_of(&settings).map_err(|why| {
        tracing::warn!("inbox {inbox_id}: {why}");
        StoreError::BadRequest(format!("this inbox's settings do not read: {why}"))
    })
}

/// Why a proactive message for `purpose` may not go to `address` from inbox `inbox_id`,
/// if it may not.
pub fn refusal(
    c: &mut dyn Connection,
    inbox_id: i64,
    channel: ChannelKind,
    address: &str,
    purpose: ConsentPurpose,
) -> Result<Option<Refusal>> {
    let required = required(c, inbox_id)?;
    Ok(rule::may_reach(purpose, standing(c, channel, address, purpose)?, &required).err())
}

/// [`refusal`] as the error a sender hears.
pub fn may_reach(
    tx: &mut WriteTx<'_>,
    inbox_id: i64,
    channel: ChannelKind,
    address: &str,
    purpose: ConsentPurpose,
) -> Result<()> {
    match refusal(tx.conn, inbox_id, channel, address, purpose)? {
        None => Ok(()),
        Some(r @ Refusal::OptedOut) => Err(StoreError::Refused(ErrorCode::OptedOut, r.message(address))),
        Some(r) => Err(StoreError::Refused(ErrorCode::NoConsent, r.message(address))),
    }
}

/// Applies an agent's `set_consent`.
pub(super) fn set(tx: &mut WriteTx<'_>, v: &Viewer, s: &SetConsent) -> Result<Outcome> {
    let reason = s.reason.trim();
    if reason.is_empty() || reason.chars().count() > Consent::MAX_TEXT {
        return Err(StoreError::BadRequest(format!(
            "say why (what the customer said, and where) in 1 to {} characters",
            Consent::MAX_TEXT
        )));
    }
    if !sees_contact(tx, v, s.contact_id)? {
        return Err(StoreError::NotFound("contact"));
    }
    let contact = entities::load_contact(tx.conn, s.contact_id)?;
    let address = contact
        .identities
        .iter()
        .find(|i| i.channel == s.channel && i.address == s.address.trim())
        .map(|i| i.address.clone())
        .ok_or_else(|| {
            StoreError::BadRequest(format!("{} is not one of {}'s addresses on {}", s.address, contact.name, s.channel))
        })?;
    record(
        tx,
        &Record {
            channel: s.channel,
            address: &address,
            purpose: s.purpose,
            granted: s.granted,
            source: ConsentSource::Agent,
            evidence: reason,
            reason: Some(reason),
            agent_id: Some(v.agent_id),
        },
    )?;
    touch_contacts(tx, s.channel, &address)?;
    Ok(Outcome::Applied)
}

/// Announces the contacts at `address` again, their consent having changed.
pub(super) fn touch_contacts(tx: &mut WriteTx<'_>, channel: ChannelKind, address: &str) -> Result<()> {
    let ids = tx.conn.query(
        "SELECT contact_id FROM identities WHERE channel = ? AND address = ?",
        params![channel.as_str(), address],
    )?;
    for row in &ids {
        let id = row.int(0)?;
        tx.conn
            .execute("UPDATE contacts SET version = version + 1, updated_at = ? WHERE id = ?", params![tx.now, id])?;
        let contact = entities::load_contact(tx.conn, id)?;
        emit_contact(tx, &contact)?;
    }
    Ok(())
}

/// The token of `address`'s one-click unsubscribe link for `purpose`, made the first time.
pub(super) fn unsubscribe_token(
    tx: &mut WriteTx<'_>,
    channel: ChannelKind,
    address: &str,
    purpose: ConsentPurpose,
) -> Result<String> {
    let find = |tx: &mut WriteTx<'_>| -> Result<Option<String>> {
        Ok(tx
            .conn
            .query_opt(
                "SELECT token FROM unsubscribe_links WHERE channel = ? AND address = ? AND purpose = ?",
                params![channel.as_str(), address, purpose.as_str()],
            )?
            .map(|r| r.text(0).map(str::to_owned))
            .transpose()?)
    };
    if let Some(t) = find(tx)? {
        return Ok(t);
    }
    let mut bytes = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    tx.conn.execute(
        "INSERT INTO unsubscribe_links (token, channel, address, purpose, created_at) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (channel, address, purpose) DO NOTHING",
        params![hex::encode(bytes), channel.as_str(), address, purpose.as_str(), tx.now],
    )?;
    find(tx)?.ok_or(StoreError::NotFound("unsubscribe link"))
}

/// What an unsubscribe link is for: the address and the purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    pub address: String,
    pub purpose: ConsentPurpose,
}

impl Store {
    /// The address and purpose an unsubscribe link names, if it is one.
    pub async fn unsubscribe_link(&self, token: String) -> Result<Option<Unsubscribe>> {
        self.pool()
            .read(move |c| {
                let row =
                    c.query_opt("SELECT address, purpose FROM unsubscribe_links WHERE token = ?", params![&token])?;
                row.map(|r| Ok(Unsubscribe { address: r.text(0)?.to_owned(), purpose: r.parse(1)? })).transpose()
            })
            .await
    }

    /// The customer used an unsubscribe link: consent to its purpose is withdrawn (for
    /// `service`, an opt-out). Using it again records nothing more.
    pub async fn unsubscribe(&self, token: String) -> Result<Option<Unsubscribe>> {
        self.pool()
            .write(move |tx| {
                let Some(row) = tx.conn.query_opt(
                    "SELECT channel, address, purpose FROM unsubscribe_links WHERE token = ?",
                    params![&token],
                )?
                else {
                    return Ok(None);
                };
                let channel: ChannelKind = row.parse(0)?;
                let address = row.text(1)?.to_owned();
                let purpose: ConsentPurpose = row.parse(2)?;
                if standing(tx.conn, channel, &address, purpose)?.latest != Some(false) {
                    record(
                        tx,
                        &Record {
                            channel,
                            address: &address,
                            purpose,
                            granted: false,
                            source: ConsentSource::Unsubscribe,
                            evidence: "one-click unsubscribe link in an email",
                            reason: None,
                            agent_id: None,
                        },
                    )?;
                    touch_contacts(tx, channel, &address)?;
                }
                Ok(Some(Unsubscribe { address, purpose }))
            })
            .await
    }
}
