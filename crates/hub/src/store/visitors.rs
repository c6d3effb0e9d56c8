//! Web-chat and in-app visitors: their sessions, the thread they see (their own messages
//! and agents' replies in one inbox, never notes or system lines), joining the customer
//! with an email the business's app vouched for, and keeping an email a visitor merely
//! typed as a claim: shown to agents as unverified, never used to join or merge customers,
//! and bounded per visitor.

use super::db::{Connection, Row};
use super::entities::{self, emit_contact};
use super::mutations::merge_into;
use super::pool::WriteTx;
use super::{Result, Store, StoreError};
use crate::params;
use switchboard_protocol::choices::Choices;
use switchboard_protocol::model::{Attachment, ChannelKind, Inbox};
use switchboard_protocol::visitor::{Author, VisitorMessage};

/// A visitor's session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorRecord {
    pub id: i64,
    pub inbox_id: i64,
    /// The customer address conversations are kept under (`visitor-…` or `user:…`).
    pub address: String,
    pub secret_hash: String,
    /// An email the business's app vouched for: the visitor is that customer.
    pub email: Option<String>,
    pub name: Option<String>,
    /// An email the visitor typed, which nobody verified.
    pub claimed_email: Option<String>,
    /// An agent blocked the visitor.
    pub blocked: bool,
    pub last_seen_at: i64,
}

const VISITOR_COLUMNS: &str =
    "id, inbox_id, address, secret_hash, email, name, claimed_email, blocked_at, last_seen_at";

/// A visitor to store.
#[derive(Debug, Clone)]
pub struct NewVisitor {
    pub inbox_id: i64,
    pub channel: ChannelKind,
    pub address: String,
    pub secret_hash: String,
    /// An email the business's app vouched for.
    pub email: Option<String>,
    pub name: Option<String>,
    /// The client address the visit came from.
    pub client: Option<String>,
}

/// A visitor who never wrote is forgotten after this long.
pub const SILENT_VISITOR_MS: i64 = 24 * 3_600_000;

/// The profile field an unverified email is shown under.
pub const CLAIMED_EMAIL_FIELD: &str = "email (unverified)";

/// How many emails one visitor may claim in [`CLAIM_WINDOW_MS`].
pub const MAX_CLAIMS: i64 = 5;
/// The window email claims are counted in.
pub const CLAIM_WINDOW_MS: i64 = 3_600_000;

/// What became of an email claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Kept (and shown on the visitor's customer once they have one).
    Kept,
    /// Too many claims: the next may be made after this many milliseconds.
    TooMany { retry_after_ms: i64 },
}

fn visitor(r: &Row) -> Result<VisitorRecord> {
    Ok(VisitorRecord {
        id: r.int(0)?,
        inbox_id: r.int(1)?,
        address: r.text(2)?.to_owned(),
        secret_hash: r.text(3)?.to_owned(),
        email: r.opt_text(4)?.map(str::to_owned),
        name: r.opt_text(5)?.map(str::to_owned),
        claimed_email: r.opt_text(6)?.map(str::to_owned),
        blocked: r.opt_int(7)?.is_some(),
        last_seen_at: r.int(8)?,
    })
}

const LINE_COLUMNS: &str = "m.id, m.direction, a.name, m.body, m.attachments, m.client_msg_id, m.created_at, \
    m.provider_id, m.survey, m.choices, m.chosen, m.bot";

/// The visitor's view of one stored message row ([`LINE_COLUMNS`]).
fn line(r: &Row) -> Result<VisitorMessage> {
    let bot = r.opt_text(11)?;
    let author = match (r.text(1)?, bot) {
        ("inbound", _) => Author::Visitor,
        (_, Some(_)) => Author::Bot,
        _ => Author::Agent,
    };
    // A visitor's own message keeps the id their widget gave it (`<address>/<client id>`).
    let client_id = match author {
        Author::Visitor => r.opt_text(7)?.and_then(|p| p.rsplit_once('/')).map(|(_, id)| id.to_owned()),
        Author::Agent | Author::Bot => None,
    };
    Ok(VisitorMessage {
        id: r.int(0)?,
        author,
        agent_name: bot.or(r.opt_text(2)?).map(str::to_owned),
        text: r.text(3)?.to_owned(),
        attachments: for_visitor(r.json(4)?),
        client_id,
        at: r.int(6)?,
        survey: r.int(8)? != 0,
        choices: r.opt_text(9)?.and_then(|j| serde_json::from_str(j).ok()),
        chosen: r.opt_text(10)?.and_then(|j| serde_json::from_str(j).ok()),
    })
}

/// Where a visitor fetches a kept file of their thread.
pub const VISITOR_FILES: &str = "/chat/v1/files/";

/// A line's attachments as the visitor's widget fetches them: kept files by their path
/// under [`VISITOR_FILES`] (with the visitor's token); nothing else is offered.
fn for_visitor(attachments: Vec<Attachment>) -> Vec<Attachment> {
    attachments
        .into_iter()
        .filter_map(|mut a| {
            let key = super::blobs::blob_key(&a.url)?.to_owned();
            a.url = format!("{VISITOR_FILES}{key}");
            Some(a)
        })
        .collect()
}

impl Store {
    /// The choices agent's line `message_id` of visitor `v`'s thread offered, if it offered
    /// any: what a visitor's tap is checked against.
    pub async fn visitor_offered(&self, v: &VisitorRecord, message_id: i64) -> Result<Option<Choices>> {
        let (inbox, address) = (v.inbox_id, v.address.clone());
        self.pool()
            .read(move |c| {
                let row = c.query_opt(
                    "SELECT m.choices FROM messages m JOIN conversations cv ON cv.id = m.conversation_id \
                     WHERE m.id = ? AND cv.inbox_id = ? AND cv.customer_address = ? AND m.direction = 'outbound'",
                    params![message_id, inbox, &address],
                )?;
                Ok(row.and_then(|r| r.opt_text(0).ok().flatten().and_then(|j| serde_json::from_str(j).ok())))
            })
            .await
    }

    /// The kept file under `key`, for visitor `v`: their own upload no message has taken
    /// yet, or a file of a message in their thread; anything else is not found.
    pub async fn visitor_blob(&self, v: &VisitorRecord, key: String) -> Result<super::blobs::BlobMeta> {
        let (visitor, inbox, address) = (v.id, v.inbox_id, v.address.clone());
        self.pool()
            .read(move |c| {
                let row = c
                    .query_opt(
                        "SELECT b.name, b.mime, b.size FROM blobs b \
                         LEFT JOIN messages m ON m.id = b.message_id \
                         LEFT JOIN conversations cv ON cv.id = m.conversation_id \
                         WHERE b.blob_key = ? AND ((b.message_id IS NULL AND b.visitor_id = ?) \
                            OR (cv.inbox_id = ? AND cv.customer_address = ? AND m.direction IN ('inbound', 'outbound')))",
                        params![&key, visitor, inbox, &address],
                    )?
                    .ok_or(StoreError::NotFound("file"))?;
                Ok(super::blobs::BlobMeta {
                    key,
                    name: row.text(0)?.to_owned(),
                    mime: row.text(1)?.to_owned(),
                    size: u64::try_from(row.int(2)?).unwrap_or(0),
                })
            })
            .await
    }
}

/// The provider id a visitor's message is stored under: unique per visitor address.
pub fn visitor_provider_id(address: &str, client_id: &str) -> String {
    format!("{address}/{client_id}")
}

impl Store {
    /// The web-chat or in-app inbox with this address, and its settings.
    pub async fn visitor_inbox(&self, address: String) -> Result<(Inbox, serde_json::Value)> {
        self.pool()
            .read(move |c| {
                let row = c
                    .query_opt(
                        &format!(
                            "SELECT {} FROM inboxes WHERE address = ? AND kind IN ('webchat', 'in_app') ORDER BY id LIMIT 1",
                            entities::INBOX_COLUMNS
                        ),
                        params![&address],
                    )?
                    .ok_or(StoreError::NotFound("chat inbox"))?;
                Ok((entities::inbox(&row)?, row.json(6)?))
            })
            .await
    }

    /// Begins a new visitor's session: stores it and, when the app vouched for the user's
    /// email, joins the customer that email names, in one transaction.
    pub async fn begin_visit(&self, new: NewVisitor) -> Result<VisitorRecord> {
        self.pool()
            .write(move |tx| {
                let v = insert_visitor(tx, &new)?;
                if let Some(email) = &v.email {
                    join_by_email(tx, new.channel, &v.address, email, v.name.as_deref())?;
                }
                Ok(v)
            })
            .await
    }

    /// Stores a visitor as is, joining no customer.
    pub async fn create_visitor(&self, new: NewVisitor) -> Result<VisitorRecord> {
        self.pool().write(move |tx| insert_visitor(tx, &new)).await
    }

    pub async fn visitor(&self, id: i64) -> Result<Option<VisitorRecord>> {
        self.pool()
            .read(move |c| {
                c.query_opt(&format!("SELECT {VISITOR_COLUMNS} FROM visitors WHERE id = ?"), params![id])?
                    .map(|r| visitor(&r))
                    .transpose()
            })
            .await
    }

    /// Records that the visitor came back, from `client`.
    pub async fn touch_visitor(&self, id: i64, client: String) -> Result<()> {
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "UPDATE visitors SET last_seen_at = ?, client = ? WHERE id = ?",
                    params![tx.now, &client, id],
                )?;
                Ok(())
            })
            .await
    }

    /// Forgets, at most `limit` rows at a time: visitors unused for `idle_ms` (their tokens
    /// stop working), visitors who never wrote a line after [`SILENT_VISITOR_MS`], and
    /// client blocks that ran out. Their conversations stay. Returns how many rows went.
    pub async fn prune_visitors(&self, idle_ms: i64, limit: i64) -> Result<u64> {
        self.pool()
            .write(move |tx| {
                let idle = tx.conn.execute(
                    "DELETE FROM visitors WHERE id IN \
                     (SELECT id FROM visitors WHERE last_seen_at < ? ORDER BY last_seen_at LIMIT ?)",
                    params![tx.now - idle_ms, limit],
                )?;
                let silent = tx.conn.execute(
                    "DELETE FROM visitors WHERE id IN (SELECT v.id FROM visitors v WHERE v.last_seen_at < ? \
                     AND NOT EXISTS (SELECT 1 FROM conversations c \
                       WHERE c.inbox_id = v.inbox_id AND c.customer_address = v.address) \
                     ORDER BY v.last_seen_at LIMIT ?)",
                    params![tx.now - SILENT_VISITOR_MS, limit],
                )?;
                let blocks = tx.conn.execute("DELETE FROM blocked_clients WHERE until <= ?", params![tx.now])?;
                Ok(idle + silent + blocks)
            })
            .await
    }

    /// The visitor's thread in one inbox, newest `limit` lines before `before`, returned
    /// oldest first, and whether older lines exist.
    pub async fn visitor_thread(
        &self,
        inbox_id: i64,
        address: String,
        before: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<VisitorMessage>, bool)> {
        let limit = limit.clamp(1, 200);
        self.pool()
            .read(move |c| {
                let rows = c.query(
                    &format!(
                        "SELECT {LINE_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                         LEFT JOIN agents a ON a.id = m.author_agent_id \
                         WHERE c.inbox_id = ? AND c.customer_address = ? AND m.direction IN ('inbound', 'outbound') \
                         AND m.id < ? ORDER BY m.id DESC LIMIT ?"
                    ),
                    params![inbox_id, &address, before.unwrap_or(i64::MAX), i64::try_from(limit + 1).unwrap_or(201)],
                )?;
                let has_more = rows.len() > limit;
                let mut lines = rows.iter().take(limit).map(line).collect::<Result<Vec<_>>>()?;
                lines.reverse();
                Ok((lines, has_more))
            })
            .await
    }

    /// One message as a visitor of (`inbox_id`, `address`) sees it; `None` when it is not
    /// part of that visitor's thread.
    pub async fn visitor_line(
        &self,
        inbox_id: i64,
        address: String,
        message_id: i64,
    ) -> Result<Option<VisitorMessage>> {
        self.pool()
            .read(move |c| {
                c.query_opt(
                    &format!(
                        "SELECT {LINE_COLUMNS} FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                         LEFT JOIN agents a ON a.id = m.author_agent_id \
                         WHERE m.id = ? AND c.inbox_id = ? AND c.customer_address = ? \
                         AND m.direction IN ('inbound', 'outbound')"
                    ),
                    params![message_id, inbox_id, &address],
                )?
                .map(|r| line(&r))
                .transpose()
            })
            .await
    }

    /// Which inbox and customer address a conversation belongs to.
    pub async fn conversation_address(&self, conversation_id: i64) -> Result<Option<(i64, String)>> {
        self.pool()
            .read(move |c| {
                c.query_opt(
                    "SELECT inbox_id, customer_address FROM conversations WHERE id = ?",
                    params![conversation_id],
                )?
                .map(|r| Ok((r.int(0)?, r.text(1)?.to_owned())))
                .transpose()
            })
            .await
    }

    /// An email the business's app vouched for (and a name): kept on the visitor, and the
    /// customer behind their thread joins the customer with that email. An email a
    /// visitor merely typed goes to [`Store::claim_visitor_email`] instead.
    pub async fn set_visitor_email(
        &self,
        v: &VisitorRecord,
        channel: ChannelKind,
        email: String,
        name: Option<String>,
    ) -> Result<()> {
        let (inbox_id, address) = (v.inbox_id, v.address.clone());
        self.pool()
            .write(move |tx| {
                tx.conn.execute(
                    "UPDATE visitors SET email = ?, name = COALESCE(?, name) WHERE inbox_id = ? AND address = ?",
                    params![&email, name.as_deref(), inbox_id, &address],
                )?;
                join_by_email(tx, channel, &address, &email, name.as_deref())
            })
            .await
    }

    /// After a visitor's first message created their contact: joins it with the email the
    /// app vouched for, if any, and shows an email the visitor claimed, if any.
    pub async fn join_visitor(&self, v: &VisitorRecord, channel: ChannelKind) -> Result<()> {
        if v.email.is_none() && v.claimed_email.is_none() {
            return Ok(());
        }
        let v = v.clone();
        self.pool()
            .write(move |tx| {
                if let Some(email) = &v.email {
                    join_by_email(tx, channel, &v.address, email, v.name.as_deref())?;
                }
                if let Some(claimed) = &v.claimed_email {
                    show_claim(tx, channel, &v.address, claimed, v.name.as_deref())?;
                }
                Ok(())
            })
            .await
    }

    /// Keeps an email a visitor typed as a claim: on the visitor, and on their customer as
    /// an unverified profile field once they have one. It joins and merges nobody, asks the
    /// CRM nothing, and a visitor may make [`MAX_CLAIMS`] of them an hour.
    pub async fn claim_visitor_email(
        &self,
        v: &VisitorRecord,
        channel: ChannelKind,
        email: String,
        name: Option<String>,
    ) -> Result<Claim> {
        let v = v.clone();
        self.pool()
            .write(move |tx| {
                let row = tx
                    .conn
                    .query_one("SELECT email_claims, email_claims_since FROM visitors WHERE id = ?", params![v.id])?;
                let (claims, since) = (row.int(0)?, row.int(1)?);
                let (claims, since) = if tx.now - since >= CLAIM_WINDOW_MS { (0, tx.now) } else { (claims, since) };
                if claims >= MAX_CLAIMS {
                    return Ok(Claim::TooMany { retry_after_ms: since + CLAIM_WINDOW_MS - tx.now });
                }
                tx.conn.execute(
                    "UPDATE visitors SET claimed_email = ?, name = COALESCE(?, name), email_claims = ?, \
                     email_claims_since = ? WHERE id = ?",
                    params![&email, name.as_deref(), claims + 1, since, v.id],
                )?;
                let name = name.clone().or_else(|| v.name.clone());
                show_claim(tx, channel, &v.address, &email, name.as_deref())?;
                Ok(Claim::Kept)
            })
            .await
    }
}

/// Shows a claimed email on the visitor's customer, if they have one yet, as an
/// unverified profile field (the latest claim wins); names a customer still named after
/// their address.
fn show_claim(
    tx: &mut WriteTx<'_>,
    channel: ChannelKind,
    address: &str,
    email: &str,
    name: Option<&str>,
) -> Result<()> {
    let Some(contact_id) = visitor_contact(tx, channel, address)? else {
        // No message yet, so no customer: shown when the first one arrives.
        return Ok(());
    };
    let row = tx.conn.query_one("SELECT profile FROM contacts WHERE id = ?", params![contact_id])?;
    let mut profile: std::collections::BTreeMap<String, String> = row.json(0)?;
    let renamed = name_after_visitor(tx, contact_id, address, name)?;
    if profile.get(CLAIMED_EMAIL_FIELD).map(String::as_str) == Some(email) && !renamed {
        return Ok(());
    }
    profile.insert(CLAIMED_EMAIL_FIELD.to_owned(), email.to_owned());
    let json = serde_json::to_string(&profile).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    tx.conn.execute(
        "UPDATE contacts SET profile = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![&json, tx.now, contact_id],
    )?;
    let contact = entities::load_contact(tx.conn, contact_id)?;
    emit_contact(tx, &contact)
}

fn insert_visitor(tx: &mut WriteTx<'_>, new: &NewVisitor) -> Result<VisitorRecord> {
    let id = tx.conn.query_int(
        "INSERT INTO visitors (inbox_id, address, secret_hash, email, name, created_at, last_seen_at, client) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        params![
            new.inbox_id,
            &new.address,
            &new.secret_hash,
            new.email.as_deref(),
            new.name.as_deref(),
            tx.now,
            tx.now,
            new.client.as_deref()
        ],
    )?;
    Ok(VisitorRecord {
        id,
        inbox_id: new.inbox_id,
        address: new.address.clone(),
        secret_hash: new.secret_hash.clone(),
        email: new.email.clone(),
        name: new.name.clone(),
        claimed_email: None,
        blocked: false,
        last_seen_at: tx.now,
    })
}

fn contact_of(c: &mut dyn Connection, sql: &str, args: &[super::db::Value]) -> Result<Option<i64>> {
    Ok(c.query_opt(sql, args)?.map(|r| r.int(0)).transpose()?)
}

/// The customer behind a visitor's address, once their first message has made one.
fn visitor_contact(tx: &mut WriteTx<'_>, channel: ChannelKind, address: &str) -> Result<Option<i64>> {
    contact_of(
        tx.conn,
        "SELECT contact_id FROM identities WHERE channel = ? AND address = ?",
        params![channel.as_str(), address],
    )
}

/// Gives a visitor's customer, named after their address until then, the name they gave.
/// Says whether it did.
fn name_after_visitor(tx: &mut WriteTx<'_>, contact_id: i64, address: &str, name: Option<&str>) -> Result<bool> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(false) };
    Ok(tx.conn.execute("UPDATE contacts SET name = ? WHERE id = ? AND name = ?", params![name, contact_id, address])?
        > 0)
}

/// Gives the visitor's contact the email identity, or, when another customer already has
/// that email, moves the visitor's contact into that customer.
fn join_by_email(
    tx: &mut WriteTx<'_>,
    channel: ChannelKind,
    address: &str,
    email: &str,
    name: Option<&str>,
) -> Result<()> {
    let Some(visitor_contact) = visitor_contact(tx, channel, address)? else {
        // No message yet, so no contact: joined when the first one arrives.
        return Ok(());
    };
    let email_contact = contact_of(
        tx.conn,
        "SELECT contact_id FROM identities WHERE address_kind = 'email' AND address = ? ORDER BY id LIMIT 1",
        params![email],
    )?;
    match email_contact {
        Some(id) if id == visitor_contact => Ok(()),
        Some(id) => {
            let into = entities::load_contact(tx.conn, id)?;
            merge_into(tx, visitor_contact, &into, None)
        }
        None => {
            tx.conn.execute(
                "INSERT INTO identities (contact_id, channel, address_kind, address, created_at) VALUES (?, 'email', 'email', ?, ?)",
                params![visitor_contact, email, tx.now],
            )?;
            // An address to find them by in the CRM.
            super::crm::request_lookup(tx, visitor_contact, true, None)?;
            name_after_visitor(tx, visitor_contact, address, name)?;
            tx.conn.execute(
                "UPDATE contacts SET version = version + 1, updated_at = ? WHERE id = ?",
                params![tx.now, visitor_contact],
            )?;
            let contact = entities::load_contact(tx.conn, visitor_contact)?;
            emit_contact(tx, &contact)
        }
    }
}
