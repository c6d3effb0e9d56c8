//! Campaigns as the store keeps them: made from a checked audience (a file's rows, or the
//! contacts a filter or segment matches when the campaign starts), moved by leads through
//! [`crate::campaign::transition`], and sent by whichever hub holds the inbox's sender
//! lease. A recipient is claimed (`sending`, committed) before its provider is called, so
//! it is sent at most once across restarts and hubs; each decision to send, wait or skip is
//! [`crate::campaign::decide`]'s. Results stay on the recipient's row: the provider's id
//! and delivery, the failure or skip and why, the reply and the conversation it is in.

use super::db::{placeholders, Connection, Value};
use super::outbox::{Outgoing, TemplateSend};
use super::pool::WriteTx;
use super::{entities, Result, Store, StoreError};
use crate::campaign::{self as rule, Decision, Hours, Recipient, Turn};
use crate::params;
use crate::policy::Viewer;
use crate::rules;
use jiff::tz::TimeZone;
use switchboard_protocol::campaign::{
    AllowedHours, Audience, AudienceCheck, Campaign, CampaignAction, CampaignCounts, CampaignSpec, CampaignState,
    ContactFilter, FrequencyCap, NewSegment, RecipientPage, RecipientResult, RecipientState, Segment,
};
use switchboard_protocol::consent::ConsentPurpose;
use switchboard_protocol::model::{ChannelKind, Contact, Delivery, Inbox, Role, Template};
use switchboard_protocol::Timestamp;

const DAY_MS: i64 = 86_400_000;

/// Attempts at a recipient a provider turned away for now, before it counts as failed.
pub const MAX_ATTEMPTS: i64 = 5;
/// Recipients added at once past which PostgreSQL's statistics are refreshed.
const ANALYZE_AFTER: usize = 1_000;

/// One recipient claimed for sending.
#[derive(Debug, Clone)]
pub struct BulkSend {
    pub campaign_id: i64,
    pub row: i64,
    pub attempts: i64,
    pub out: Outgoing,
}

/// What became of one send.
#[derive(Debug, Clone)]
pub enum BulkOutcome {
    Sent {
        provider_id: String,
    },
    Failed {
        reason: String,
    },
    /// The provider may have taken it (a timeout, a 5xx): its report confirms it until
    /// `until`, and it is sent again after if none came.
    Unsure {
        reason: String,
        until: Timestamp,
    },
    /// Turned away for now: try again from `at`.
    Retry {
        reason: String,
        at: Timestamp,
    },
}

/// Campaigns are for leads (of the inbox's team) and admins.
fn may_run(v: &Viewer, team_id: i64) -> Result<()> {
    match v.role {
        Role::Agent => Err(StoreError::Forbidden("only leads and admins run campaigns".into())),
        _ if !v.sees_team(team_id) => Err(StoreError::NotFound("inbox")),
        _ => Ok(()),
    }
}

/// Messages a second an inbox sends campaigns at: its `send_rate` setting, or its
/// provider's default for one sender (Twilio: 1 for a long code; WhatsApp Cloud API: 80).
pub fn send_rate(inbox: &Inbox, settings: &serde_json::Value) -> u32 {
    let default = match inbox.kind {
        ChannelKind::Sms => 1,
        ChannelKind::Whatsapp => 80,
        ChannelKind::Messenger | ChannelKind::Instagram => 10,
        ChannelKind::Email => 10,
        ChannelKind::Webchat | ChannelKind::InApp => 0,
    };
    settings
        .get("send_rate")
        .and_then(serde_json::Value::as_u64)
        .and_then(|r| u32::try_from(r).ok())
        .filter(|r| (1..=10_000).contains(r))
        .unwrap_or(default)
}

/// What a spec's template and hours read as, for its inbox.
struct Checked {
    inbox: Inbox,
    template: Template,
    hours: Option<Hours>,
    time_zone: String,
    cap: FrequencyCap,
}

fn check_spec(c: &mut dyn Connection, v: &Viewer, spec: &CampaignSpec, default_zone: &str) -> Result<Checked> {
    let inbox = entities::load_inbox(c, spec.inbox_id)?;
    may_run(v, inbox.team_id)?;
    let name = spec.name.trim();
    if name.is_empty() || name.chars().count() > CampaignSpec::MAX_NAME {
        return Err(StoreError::BadRequest(format!("name the campaign in 1 to {} characters", CampaignSpec::MAX_NAME)));
    }
    let sender_is_phone = crate::address::normalize(ChannelKind::Sms, &inbox.address, "US").is_ok();
    let has_subject = spec.subject.as_deref().is_some_and(|s| !s.trim().is_empty());
    rules::may_start(rules::Start { channel: inbox.kind, known: true, sender_is_phone, has_subject })
        .map_err(|b| StoreError::BadRequest(b.message(inbox.kind)))?;
    if spec.subject.as_deref().is_some_and(|s| s.len() > 998 || s.contains(['\r', '\n'])) {
        return Err(StoreError::BadRequest("a subject is one line of at most 998 bytes".into()));
    }
    let template = inbox.templates.iter().find(|t| t.name == spec.template).cloned().ok_or_else(|| {
        StoreError::BadRequest(format!("{} has no approved template `{}`", inbox.name, spec.template))
    })?;
    let hours = spec.allowed_hours.as_ref().map(Hours::parse).transpose().map_err(StoreError::BadRequest)?;
    let time_zone = spec.time_zone.clone().unwrap_or_else(|| default_zone.to_owned());
    TimeZone::get(&time_zone)
        .map_err(|_| StoreError::BadRequest(format!("`{time_zone}` is not a time zone (like Europe/Lisbon)")))?;
    let cap = spec.frequency_cap.unwrap_or(CampaignSpec::DEFAULT_CAP);
    if let Some(why) = rule::refuse_cap(cap) {
        return Err(StoreError::BadRequest(why));
    }
    if let Some(at) = spec.scheduled_at {
        if !(0..=4_102_444_800_000).contains(&at) {
            return Err(StoreError::BadRequest("scheduled_at is not a time".into()));
        }
    }
    Ok(Checked { inbox, template, hours, time_zone, cap })
}

/// The filter and value fields an audience names (a segment's, read).
fn filter_of(c: &mut dyn Connection, audience: &Audience) -> Result<Option<(ContactFilter, Vec<String>)>> {
    let (filter, fields) = match audience {
        Audience::Csv { .. } => return Ok(None),
        Audience::Filter { filter, params } => (filter.clone(), params.clone()),
        Audience::Segment { segment_id, params } => {
            let row = c
                .query_opt("SELECT filter FROM segments WHERE id = ?", params![*segment_id])?
                .ok_or(StoreError::NotFound("segment"))?;
            (row.json(0)?, params.clone())
        }
    };
    if let Some(why) = rule::refuse_filter(&filter) {
        return Err(StoreError::BadRequest(why));
    }
    Ok(Some((filter, fields)))
}

/// The contacts with an address on `channel` that `filter` matches, as recipients with
/// their values from `fields` (a missing value is a problem on that row).
fn matching(
    c: &mut dyn Connection,
    channel: ChannelKind,
    filter: &ContactFilter,
    fields: &[String],
    placeholders: usize,
) -> Result<rule::Read> {
    let mut out = rule::Read::default();
    if fields.len() != placeholders {
        out.problems.push(switchboard_protocol::campaign::RowProblem {
            row: 0,
            column: None,
            problem: format!("the template takes {placeholders} values; name a field for each"),
        });
        return Ok(out);
    }
    let mut after = 0;
    loop {
        let ids: Vec<i64> = c
            .query(
                "SELECT DISTINCT contact_id FROM identities WHERE channel = ? AND contact_id > ? ORDER BY contact_id LIMIT 500",
                params![channel.as_str(), after],
            )?
            .iter()
            .map(|r| r.int(0))
            .collect::<std::result::Result<_, _>>()?;
        let Some(&last) = ids.last() else { break };
        after = last;
        for contact in entities::load_contacts(c, &ids)? {
            if !rule::matches(filter, &contact) {
                continue;
            }
            out.rows += 1;
            let row = out.rows;
            if out.recipients.len() >= Audience::MAX_RECIPIENTS {
                out.more_problems += 1;
                continue;
            }
            let Some(address) = contact.identities.iter().find(|i| i.channel == channel).map(|i| i.address.clone())
            else {
                continue;
            };
            match values(&contact, fields) {
                Ok(params) => out.recipients.push(Recipient {
                    row,
                    address,
                    name: contact.name.clone(),
                    params,
                    time_zone: contact_zone(&contact),
                }),
                Err(field) => {
                    if out.problems.len() < AudienceCheck::MAX_PROBLEMS {
                        out.problems.push(switchboard_protocol::campaign::RowProblem {
                            row,
                            column: Some(field.clone()),
                            problem: format!("{} has no `{field}`", contact.name),
                        });
                    } else {
                        out.more_problems += 1;
                    }
                }
            }
        }
    }
    Ok(out)
}

fn values(contact: &Contact, fields: &[String]) -> std::result::Result<Vec<String>, String> {
    fields.iter().map(|f| rule::field_value(contact, f).map(str::to_owned).ok_or_else(|| f.clone())).collect()
}

fn contact_zone(contact: &Contact) -> Option<String> {
    ["time_zone", "timezone"].iter().find_map(|k| contact.profile.get(*k)).filter(|z| TimeZone::get(z).is_ok()).cloned()
}

/// Reads an audience for `checked`'s inbox and template.
fn read_audience(c: &mut dyn Connection, checked: &Checked, audience: &Audience) -> Result<rule::Read> {
    let placeholders = checked.template.params();
    match audience {
        Audience::Csv { csv } => {
            if csv.len() > Audience::MAX_CSV_BYTES {
                return Err(StoreError::BadRequest(format!(
                    "the audience file is larger than {} MiB",
                    Audience::MAX_CSV_BYTES >> 20
                )));
            }
            Ok(rule::read_csv(csv, checked.inbox.kind, placeholders, Audience::MAX_RECIPIENTS))
        }
        other => {
            let (filter, fields) = filter_of(c, other)?.unwrap_or_default();
            matching(c, checked.inbox.kind, &filter, &fields, placeholders)
        }
    }
}

const CAMPAIGN_COLUMNS: &str = "id, name, inbox_id, template, subject, purpose, state, audience_kind, scheduled_at, \
     allowed_from, allowed_to, time_zone, cap_messages, cap_days, created_by, created_at, started_at, finished_at";

fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn load_campaign(c: &mut dyn Connection, id: i64) -> Result<(Campaign, i64)> {
    let r = c
        .query_opt(&format!("SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?"), params![id])?
        .ok_or(StoreError::NotFound("campaign"))?;
    let inbox = entities::load_inbox(c, r.int(2)?)?;
    let settings: serde_json::Value =
        c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox.id])?.json(0)?;
    let allowed_hours = match (r.opt_int(9)?, r.opt_int(10)?) {
        (Some(f), Some(t)) => Some(AllowedHours { from: hhmm(f), to: hhmm(t) }),
        _ => None,
    };
    let campaign = Campaign {
        id,
        name: r.text(1)?.to_owned(),
        inbox_id: inbox.id,
        template: r.text(3)?.to_owned(),
        subject: r.opt_text(4)?.map(str::to_owned),
        purpose: r.parse(5)?,
        state: r.parse(6)?,
        audience: r.text(7)?.to_owned(),
        scheduled_at: r.opt_int(8)?,
        allowed_hours,
        time_zone: r.text(11)?.to_owned(),
        frequency_cap: FrequencyCap {
            messages: u32::try_from(r.int(12)?).unwrap_or(0),
            days: u32::try_from(r.int(13)?).unwrap_or(0),
        },
        rate: send_rate(&inbox, &settings),
        created_by: r.opt_int(14)?,
        created_at: r.int(15)?,
        started_at: r.opt_int(16)?,
        finished_at: r.opt_int(17)?,
        counts: counts(c, id)?,
    };
    Ok((campaign, inbox.team_id))
}

/// How a recipient's row reads as a result.
fn result_state(state: &str, delivery: Option<&str>, replied: bool) -> RecipientState {
    match (state, delivery) {
        ("skipped", _) => RecipientState::Skipped,
        ("failed", _) | (_, Some("failed")) => RecipientState::Failed,
        ("sent", _) if replied => RecipientState::Replied,
        ("sent", Some("read")) => RecipientState::Read,
        ("sent", Some("delivered")) => RecipientState::Delivered,
        ("sent", _) => RecipientState::Sent,
        _ => RecipientState::Queued,
    }
}

fn counts(c: &mut dyn Connection, id: i64) -> Result<CampaignCounts> {
    let rows = c.query(
        "SELECT state, delivery, replied_at IS NOT NULL, count(*) FROM campaign_recipients WHERE campaign_id = ? \
         GROUP BY state, delivery, replied_at IS NOT NULL",
        params![id],
    )?;
    let mut n = CampaignCounts::default();
    for r in &rows {
        let k = u32::try_from(r.int(3)?).unwrap_or(u32::MAX);
        n.total += k;
        let slot = match result_state(r.text(0)?, r.opt_text(1)?, r.int(2)? != 0) {
            RecipientState::Queued => &mut n.queued,
            RecipientState::Sent => &mut n.sent,
            RecipientState::Delivered => &mut n.delivered,
            RecipientState::Read => &mut n.read,
            RecipientState::Replied => &mut n.replied,
            RecipientState::Failed => &mut n.failed,
            RecipientState::Skipped => &mut n.skipped,
        };
        *slot += k;
    }
    Ok(n)
}

/// Writes recipients, many rows per statement.
fn insert_recipients(
    tx: &mut WriteTx<'_>,
    campaign_id: i64,
    inbox_id: i64,
    rows: &[Recipient],
    now: i64,
) -> Result<()> {
    for chunk in rows.chunks(200) {
        let mut sql = String::from(
            "INSERT INTO campaign_recipients (campaign_id, row_no, inbox_id, address, name, params, time_zone, state, next_at) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 9);
        for (i, r) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 {
                "(?, ?, ?, ?, ?, ?, ?, 'queued', ?)"
            } else {
                ", (?, ?, ?, ?, ?, ?, ?, 'queued', ?)"
            });
            values.extend([
                Value::Int(campaign_id),
                Value::Int(i64::from(r.row)),
                Value::Int(inbox_id),
                Value::from(r.address.as_str()),
                Value::from(r.name.as_str()),
                Value::from(serde_json::to_string(&r.params).unwrap_or_else(|_| "[]".into())),
                Value::from(r.time_zone.clone()),
                Value::Int(now),
            ]);
        }
        tx.conn.execute(&sql, &values)?;
    }
    Ok(())
}

/// Problems as one refusal, the first few named.
fn refuse_problems(read: &rule::Read) -> StoreError {
    let first: Vec<String> = read
        .problems
        .iter()
        .take(5)
        .map(|p| if p.row > 0 { format!("row {}: {}", p.row, p.problem) } else { p.problem.clone() })
        .collect();
    let total = read.problems.len() + read.more_problems as usize;
    StoreError::BadRequest(format!(
        "the audience has {total} bad row{} (check it first): {}",
        if total == 1 { "" } else { "s" },
        first.join("; ")
    ))
}

/// What decides one recipient's turn, read for many at once.
#[derive(Debug, Clone, Default)]
struct Facts {
    contact_id: Option<i64>,
    standing: crate::consent::Standing,
    /// Campaign messages sent to them (by address or contact) since the cap's period began.
    recent: u32,
}

/// [`Facts`] for each of `addresses` on `channel`, for a message for `purpose`, counting
/// other campaigns' messages since `since`.
fn facts(
    c: &mut dyn Connection,
    channel: ChannelKind,
    purpose: ConsentPurpose,
    addresses: &[String],
    since: Timestamp,
    campaign_id: i64,
) -> Result<std::collections::HashMap<String, Facts>> {
    use std::collections::HashMap;
    let mut out: HashMap<String, Facts> = addresses.iter().map(|a| (a.clone(), Facts::default())).collect();
    for chunk in addresses.chunks(400) {
        let list = placeholders(chunk.len());
        let with = |first: Vec<Value>| -> Vec<Value> {
            first.into_iter().chain(chunk.iter().map(|a| Value::from(a.as_str()))).collect()
        };
        let ch = || Value::from(channel.as_str());
        for r in &c.query(
            &format!("SELECT address, contact_id FROM identities WHERE channel = ? AND address IN ({list})"),
            &with(vec![ch()]),
        )? {
            if let Some(f) = out.get_mut(r.text(0)?) {
                f.contact_id = Some(r.int(1)?);
            }
        }
        for r in &c.query(
            &format!("SELECT address FROM opt_outs WHERE channel = ? AND address IN ({list})"),
            &with(vec![ch()]),
        )? {
            if let Some(f) = out.get_mut(r.text(0)?) {
                f.standing.opted_out = true;
            }
        }
        for r in &c.query(
            &format!(
                "SELECT k.address, k.granted FROM consents k WHERE k.channel = ? AND k.purpose = ? AND k.address IN ({list}) \
                 AND k.id = (SELECT max(l.id) FROM consents l WHERE l.channel = k.channel AND l.address = k.address AND l.purpose = k.purpose)"
            ),
            &with(vec![ch(), Value::from(purpose.as_str())]),
        )? {
            if let Some(f) = out.get_mut(r.text(0)?) {
                f.standing.latest = Some(r.int(1)? != 0);
            }
        }
    }
    // Sends to the same person under another address count too.
    let contacts: Vec<i64> = out.values().filter_map(|f| f.contact_id).collect();
    let mut by_address: HashMap<String, u32> = HashMap::new();
    let mut by_contact: HashMap<i64, u32> = HashMap::new();
    let mut by_both: HashMap<(String, i64), u32> = HashMap::new();
    let mut count = |address: &str, contact: Option<i64>| {
        *by_address.entry(address.to_owned()).or_default() += 1;
        if let Some(k) = contact {
            *by_contact.entry(k).or_default() += 1;
            *by_both.entry((address.to_owned(), k)).or_default() += 1;
        }
    };
    let mut seen = std::collections::HashSet::new();
    let sent = "AND sent_at > ? AND state IN ('claimed', 'sending', 'unconfirmed', 'sent') AND campaign_id <> ?";
    for chunk in addresses.chunks(400) {
        let mut values: Vec<Value> = chunk.iter().map(|a| Value::from(a.as_str())).collect();
        values.extend([Value::Int(since), Value::Int(campaign_id)]);
        for r in &c.query(
            &format!(
                "SELECT campaign_id, row_no, address, contact_id FROM campaign_recipients WHERE address IN ({}) {sent}",
                placeholders(chunk.len())
            ),
            &values,
        )? {
            if seen.insert((r.int(0)?, r.int(1)?)) {
                count(r.text(2)?, r.opt_int(3)?);
            }
        }
    }
    for chunk in contacts.chunks(400) {
        let mut values: Vec<Value> = chunk.iter().map(|&k| Value::Int(k)).collect();
        values.extend([Value::Int(since), Value::Int(campaign_id)]);
        for r in &c.query(
            &format!(
                "SELECT campaign_id, row_no, address, contact_id FROM campaign_recipients WHERE contact_id IN ({}) {sent}",
                placeholders(chunk.len())
            ),
            &values,
        )? {
            if seen.insert((r.int(0)?, r.int(1)?)) {
                count(r.text(2)?, r.opt_int(3)?);
            }
        }
    }
    // Sent to this address, or to this person at any address: each send once.
    for (address, f) in &mut out {
        let here = by_address.get(address).copied().unwrap_or(0);
        f.recent = match f.contact_id {
            Some(k) => {
                here + by_contact.get(&k).copied().unwrap_or(0)
                    - by_both.get(&(address.clone(), k)).copied().unwrap_or(0)
            }
            None => here,
        };
    }
    Ok(out)
}

impl Store {
    /// What an audience holds for a spec's inbox and template, nothing written.
    pub async fn check_audience(&self, v: &Viewer, spec: CampaignSpec, default_zone: String) -> Result<AudienceCheck> {
        let v = v.clone();
        self.pool()
            .read(move |c| {
                let checked = check_spec(c, &v, &spec, &default_zone)?;
                let read = read_audience(c, &checked, &spec.audience)?;
                Ok(read.check(&checked.template))
            })
            .await
    }

    /// Makes a campaign: a draft, or scheduled when `scheduled_at` is set. A file with any
    /// bad row is refused whole.
    pub async fn create_campaign(&self, v: &Viewer, spec: CampaignSpec, default_zone: String) -> Result<Campaign> {
        let v = v.clone();
        let campaign = self
            .pool()
            .write(move |tx| {
                let checked = check_spec(tx.conn, &v, &spec, &default_zone)?;
                let read = match &spec.audience {
                    Audience::Csv { .. } => {
                        let read = read_audience(tx.conn, &checked, &spec.audience)?;
                        if !read.problems.is_empty() || read.more_problems > 0 {
                            return Err(refuse_problems(&read));
                        }
                        if read.recipients.is_empty() {
                            return Err(StoreError::BadRequest("the audience file has no recipients".into()));
                        }
                        Some(read)
                    }
                    // Matched when the campaign starts; checked now.
                    other => {
                        filter_of(tx.conn, other)?;
                        None
                    }
                };
                let (kind, stored) = match &spec.audience {
                    Audience::Csv { .. } => ("csv", String::new()),
                    Audience::Filter { .. } => ("filter", serde_json::to_string(&spec.audience).unwrap_or_default()),
                    Audience::Segment { .. } => ("segment", serde_json::to_string(&spec.audience).unwrap_or_default()),
                };
                let state = if spec.scheduled_at.is_some() { CampaignState::Scheduled } else { CampaignState::Draft };
                let id = tx.conn.query_int(
                    "INSERT INTO campaigns (name, inbox_id, template, subject, purpose, state, audience_kind, audience, \
                     scheduled_at, allowed_from, allowed_to, time_zone, cap_messages, cap_days, created_by, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    params![
                        spec.name.trim(),
                        checked.inbox.id,
                        &checked.template.name,
                        spec.subject.as_deref().map(str::trim),
                        spec.purpose.as_str(),
                        state.as_str(),
                        kind,
                        stored,
                        spec.scheduled_at.map(|at| at.max(tx.now)),
                        checked.hours.map(|h| i64::from(h.from)),
                        checked.hours.map(|h| i64::from(h.to)),
                        &checked.time_zone,
                        i64::from(checked.cap.messages),
                        i64::from(checked.cap.days),
                        v.agent_id,
                        tx.now
                    ],
                )?;
                if let Some(read) = read {
                    let now = tx.now;
                    insert_recipients(tx, id, checked.inbox.id, &read.recipients, now)?;
                }
                Ok(load_campaign(tx.conn, id)?.0)
            })
            .await?;
        self.analyze_recipients(usize::try_from(campaign.counts.total).unwrap_or(usize::MAX)).await?;
        Ok(campaign)
    }

    /// Every campaign the viewer may see, newest first.
    pub async fn campaigns(&self, v: &Viewer) -> Result<Vec<Campaign>> {
        if v.role == Role::Agent {
            return Err(StoreError::Forbidden("only leads and admins run campaigns".into()));
        }
        let v = v.clone();
        self.pool()
            .read(move |c| {
                let ids = c.query("SELECT id FROM campaigns ORDER BY id DESC LIMIT 500", &[])?;
                let mut out = Vec::new();
                for r in &ids {
                    let (campaign, team) = load_campaign(c, r.int(0)?)?;
                    if v.sees_team(team) {
                        out.push(campaign);
                    }
                }
                Ok(out)
            })
            .await
    }

    pub async fn campaign(&self, v: &Viewer, id: i64) -> Result<Campaign> {
        let v = v.clone();
        self.pool()
            .read(move |c| {
                let (campaign, team) = load_campaign(c, id)?;
                may_run(&v, team).map_err(|_| StoreError::NotFound("campaign"))?;
                Ok(campaign)
            })
            .await
    }

    /// Schedules, pauses, resumes or cancels a campaign. Cancelling skips every recipient
    /// not yet sent.
    pub async fn campaign_action(&self, v: &Viewer, id: i64, action: CampaignAction) -> Result<Campaign> {
        let v = v.clone();
        self.pool()
            .write(move |tx| {
                let (campaign, team) = load_campaign(tx.conn, id)?;
                may_run(&v, team).map_err(|_| StoreError::NotFound("campaign"))?;
                let (state, at) =
                    rule::transition(campaign.state, action, tx.now).map_err(|why| StoreError::Refused(
                        switchboard_protocol::ErrorCode::Conflict,
                        why,
                    ))?;
                let scheduled = match action {
                    CampaignAction::Schedule { .. } | CampaignAction::Unschedule => at,
                    _ => campaign.scheduled_at,
                };
                let finished = (state == CampaignState::Cancelled).then_some(tx.now);
                tx.conn.execute(
                    "UPDATE campaigns SET state = ?, scheduled_at = ?, finished_at = COALESCE(?, finished_at) WHERE id = ? AND state = ?",
                    params![state.as_str(), scheduled, finished, id, campaign.state.as_str()],
                )?;
                if state == CampaignState::Cancelled {
                    tx.conn.execute(
                        "UPDATE campaign_recipients SET state = 'skipped', reason = 'the campaign was cancelled' \
                         WHERE campaign_id = ? AND state = 'queued'",
                        params![id],
                    )?;
                }
                Ok(load_campaign(tx.conn, id)?.0)
            })
            .await
    }

    /// A page of a campaign's results, by row.
    pub async fn campaign_recipients(
        &self,
        v: &Viewer,
        id: i64,
        state: Option<RecipientState>,
        after: u32,
        limit: usize,
    ) -> Result<RecipientPage> {
        let v = v.clone();
        let limit = limit.clamp(1, RecipientPage::MAX_LIMIT);
        self.pool()
            .read(move |c| {
                let (_, team) = load_campaign(c, id)?;
                may_run(&v, team).map_err(|_| StoreError::NotFound("campaign"))?;
                let mut recipients = Vec::new();
                let mut after = i64::from(after);
                let mut next = None;
                'pages: loop {
                    let rows = c.query(
                        "SELECT row_no, address, name, state, delivery, replied_at IS NOT NULL, reason, sent_at, reply_conversation_id \
                         FROM campaign_recipients WHERE campaign_id = ? AND row_no > ? ORDER BY row_no LIMIT 1000",
                        params![id, after],
                    )?;
                    if rows.is_empty() {
                        break;
                    }
                    for r in &rows {
                        after = r.int(0)?;
                        let result = RecipientResult {
                            row: u32::try_from(after).unwrap_or(u32::MAX),
                            address: r.text(1)?.to_owned(),
                            name: r.text(2)?.to_owned(),
                            state: result_state(r.text(3)?, r.opt_text(4)?, r.int(5)? != 0),
                            reason: r.opt_text(6)?.map(str::to_owned),
                            sent_at: r.opt_int(7)?,
                            conversation_id: r.opt_int(8)?,
                        };
                        if state.is_none_or(|s| s == result.state) {
                            if recipients.len() == limit {
                                next = recipients.last().map(|x: &RecipientResult| x.row);
                                break 'pages;
                            }
                            recipients.push(result);
                        }
                    }
                }
                Ok(RecipientPage { recipients, next })
            })
            .await
    }

    pub async fn segments(&self, v: &Viewer) -> Result<Vec<Segment>> {
        if v.role == Role::Agent {
            return Err(StoreError::Forbidden("only leads and admins keep segments".into()));
        }
        self.pool()
            .read(|c| {
                let rows = c.query("SELECT id, name, filter, created_at FROM segments ORDER BY name, id", &[])?;
                rows.iter()
                    .map(|r| {
                        Ok(Segment {
                            id: r.int(0)?,
                            name: r.text(1)?.to_owned(),
                            filter: r.json(2)?,
                            created_at: r.int(3)?,
                        })
                    })
                    .collect()
            })
            .await
    }

    pub async fn create_segment(&self, v: &Viewer, s: NewSegment) -> Result<Segment> {
        if v.role == Role::Agent {
            return Err(StoreError::Forbidden("only leads and admins keep segments".into()));
        }
        let name = s.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::BadRequest("name the segment in 1 to 200 characters".into()));
        }
        if let Some(why) = rule::refuse_filter(&s.filter) {
            return Err(StoreError::BadRequest(why));
        }
        let agent = v.agent_id;
        self.pool()
            .write(move |tx| {
                if tx.conn.query_int("SELECT count(*) FROM segments", &[])? >= 1_000 {
                    return Err(StoreError::BadRequest("a workspace keeps at most 1,000 segments".into()));
                }
                let filter = serde_json::to_string(&s.filter).map_err(|e| StoreError::BadRequest(e.to_string()))?;
                let id = tx.conn.query_int(
                    "INSERT INTO segments (name, filter, created_by, created_at) VALUES (?, ?, ?, ?) RETURNING id",
                    params![&name, filter, agent, tx.now],
                )?;
                Ok(Segment { id, name: name.clone(), filter: s.filter.clone(), created_at: tx.now })
            })
            .await
    }

    pub async fn delete_segment(&self, v: &Viewer, id: i64) -> Result<()> {
        if v.role == Role::Agent {
            return Err(StoreError::Forbidden("only leads and admins keep segments".into()));
        }
        self.pool()
            .write(move |tx| match tx.conn.execute("DELETE FROM segments WHERE id = ?", params![id])? {
                0 => Err(StoreError::NotFound("segment")),
                _ => Ok(()),
            })
            .await
    }

    /// Starts the campaigns whose time has come, matching their filter or segment now.
    /// Whichever hub gets there first starts each, once.
    pub async fn start_due_campaigns(&self, now: Timestamp) -> Result<usize> {
        // Looked for on every sender's round: a read, and a write only when one is due.
        let due = self
            .pool()
            .read(move |c| {
                Ok(c.query_opt(
                    "SELECT id FROM campaigns WHERE state = 'scheduled' AND scheduled_at <= ? LIMIT 1",
                    params![now],
                )?
                .is_some())
            })
            .await?;
        if !due {
            return Ok(0);
        }
        let (started, added) = self
            .pool()
            .write_apart(move |tx| {
                let due = tx.conn.query(
                    "SELECT id, inbox_id, template, audience_kind, audience FROM campaigns \
                     WHERE state = 'scheduled' AND scheduled_at <= ? ORDER BY id LIMIT 10",
                    params![now],
                )?;
                let (mut started, mut added) = (0, 0);
                for r in &due {
                    let id = r.int(0)?;
                    let won = tx.conn.execute(
                        "UPDATE campaigns SET state = 'running', started_at = ? WHERE id = ? AND state = 'scheduled'",
                        params![tx.now, id],
                    )?;
                    if won == 0 {
                        continue;
                    }
                    started += 1;
                    if r.text(3)? == "csv" {
                        continue;
                    }
                    let inbox = entities::load_inbox(tx.conn, r.int(1)?)?;
                    let placeholders = inbox.templates.iter().find(|t| t.name == r.text(2).unwrap_or("")).map_or(0, Template::params);
                    let audience: Audience = serde_json::from_str(r.text(4)?).map_err(|e| StoreError::BadRequest(e.to_string()))?;
                    let (filter, fields) = match filter_of(tx.conn, &audience) {
                        Ok(f) => f.unwrap_or_default(),
                        // The segment was deleted since: nobody to send to, and it ends.
                        Err(StoreError::NotFound(_)) => continue,
                        Err(e) => return Err(e),
                    };
                    let read = matching(tx.conn, inbox.kind, &filter, &fields, placeholders)?;
                    let now = tx.now;
                    insert_recipients(tx, id, inbox.id, &read.recipients, now)?;
                    added += read.recipients.len();
                    for p in &read.problems {
                        if p.row > 0 {
                            tx.conn.execute(
                                "INSERT INTO campaign_recipients (campaign_id, row_no, inbox_id, address, name, params, state, next_at, reason) \
                                 VALUES (?, ?, ?, ?, '', '[]', 'skipped', ?, ?) ON CONFLICT DO NOTHING",
                                params![id, i64::from(p.row), inbox.id, format!("row {}", p.row), now, &p.problem],
                            )?;
                        }
                    }
                }
                Ok((started, added))
            })
            .await?;
        self.analyze_recipients(added).await?;
        Ok(started)
    }

    /// PostgreSQL plans the sender's claims by the table's statistics, which a large
    /// audience just added makes stale (a batch taken by its row numbers would then scan
    /// every queued row): they are brought up to date once `added` rows warrant it.
    async fn analyze_recipients(&self, added: usize) -> Result<()> {
        if self.engine() == super::db::Engine::Postgres && added >= ANALYZE_AFTER {
            self.pool().write(|tx| Ok(tx.conn.batch("ANALYZE campaign_recipients")?)).await?;
        }
        Ok(())
    }

    /// The inboxes with a running campaign, and each one's rate.
    pub async fn sending_inboxes(&self) -> Result<Vec<(i64, u32)>> {
        self.pool()
            .read(|c| {
                let rows =
                    c.query("SELECT DISTINCT inbox_id FROM campaigns WHERE state = 'running' ORDER BY inbox_id", &[])?;
                let mut out = Vec::new();
                for r in &rows {
                    let inbox = entities::load_inbox(c, r.int(0)?)?;
                    let settings: serde_json::Value =
                        c.query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox.id])?.json(0)?;
                    out.push((inbox.id, send_rate(&inbox, &settings)));
                }
                Ok(out)
            })
            .await
    }

    /// Takes or keeps the lease to send for `inbox_id` until `until`; false when another
    /// hub holds it.
    pub async fn take_sender_lease(
        &self,
        inbox_id: i64,
        holder: String,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        self.pool()
            .write_apart(move |tx| {
                let took = tx.conn.execute(
                    "UPDATE sender_leases SET holder = ?, until = ? WHERE inbox_id = ? AND (holder = ? OR until < ?)",
                    params![&holder, until, inbox_id, &holder, now],
                )?;
                let held = took == 1
                    || tx.conn.execute(
                        "INSERT INTO sender_leases (inbox_id, holder, until) VALUES (?, ?, ?) ON CONFLICT (inbox_id) DO NOTHING",
                        params![inbox_id, &holder, until],
                    )? == 1;
                if held {
                    // What an earlier holder claimed and never marked sending was never
                    // handed to the provider: it goes back in line.
                    tx.conn.execute(
                        "UPDATE campaign_recipients SET state = 'queued', claimed_by = NULL, sent_at = NULL \
                         WHERE inbox_id = ? AND state = 'claimed' AND claimed_by <> ?",
                        params![inbox_id, &holder],
                    )?;
                }
                Ok(held)
            })
            .await
    }

    /// Gives up a lease this hub holds, with whatever it claimed and did not send.
    pub async fn release_sender_lease(&self, inbox_id: i64, holder: String) -> Result<()> {
        self.pool()
            .write_apart(move |tx| {
                tx.conn.execute(
                    "UPDATE campaign_recipients SET state = 'queued', claimed_by = NULL, sent_at = NULL \
                     WHERE inbox_id = ? AND state = 'claimed' AND claimed_by = ?",
                    params![inbox_id, &holder],
                )?;
                tx.conn.execute(
                    "DELETE FROM sender_leases WHERE inbox_id = ? AND holder = ?",
                    params![inbox_id, &holder],
                )?;
                Ok(())
            })
            .await
    }

    /// Claims up to `limit` recipients of `inbox_id`'s running campaigns whose turn has
    /// come, for `holder` (the hub holding the inbox's lease): each is decided (sent now,
    /// later, or skipped with its reason), and those to send are `claimed`, to be marked
    /// `sending` ([`Store::mark_sending`]) just before their provider is called.
    pub async fn claim_recipients(
        &self,
        inbox_id: i64,
        holder: String,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<BulkSend>> {
        self.pool()
            .write(move |tx| {
                let campaigns = tx.conn.query(
                    "SELECT id, template, subject, purpose, allowed_from, allowed_to, time_zone, cap_messages, cap_days \
                     FROM campaigns WHERE inbox_id = ? AND state = 'running' ORDER BY id",
                    params![inbox_id],
                )?;
                if campaigns.is_empty() {
                    return Ok(Vec::new());
                }
                let inbox = entities::load_inbox(tx.conn, inbox_id)?;
                let settings: serde_json::Value =
                    tx.conn.query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox_id])?.json(0)?;
                let required = crate::consent::required_of(&settings).unwrap_or_default();
                let mut out = Vec::new();
                for c in &campaigns {
                    if out.len() >= limit {
                        break;
                    }
                    let campaign_id = c.int(0)?;
                    let Some(template) = inbox.templates.iter().find(|t| t.name == c.text(1).unwrap_or("")).cloned()
                    else {
                        tx.conn.execute(
                            "UPDATE campaign_recipients SET state = 'failed', reason = 'the inbox no longer has this template' \
                             WHERE campaign_id = ? AND state = 'queued'",
                            params![campaign_id],
                        )?;
                        continue;
                    };
                    let subject = c.opt_text(2)?.map(str::to_owned);
                    let purpose: ConsentPurpose = c.parse(3)?;
                    let hours = match (c.opt_int(4)?, c.opt_int(5)?) {
                        (Some(f), Some(t)) => Some(Hours {
                            from: u16::try_from(f).unwrap_or(0),
                            to: u16::try_from(t).unwrap_or(0),
                        }),
                        _ => None,
                    };
                    let zone = TimeZone::get(c.text(6)?).unwrap_or(TimeZone::UTC);
                    let cap = FrequencyCap {
                        messages: u32::try_from(c.int(7)?).unwrap_or(1),
                        days: u32::try_from(c.int(8)?).unwrap_or(1),
                    };
                    let rows = tx.conn.query(
                        "SELECT row_no, address, name, params, time_zone, attempts FROM campaign_recipients \
                         WHERE campaign_id = ? AND state = 'queued' AND next_at <= ? ORDER BY row_no LIMIT ?",
                        params![campaign_id, now, i64::try_from(limit - out.len()).unwrap_or(1)],
                    )?;
                    if rows.is_empty() {
                        continue;
                    }
                    let addresses: Vec<String> = rows.iter().map(|r| r.text(1).map(str::to_owned)).collect::<std::result::Result<_, _>>()?;
                    let since = now - i64::from(cap.days) * DAY_MS;
                    let facts = facts(tx.conn, inbox.kind, purpose, &addresses, since, campaign_id)?;
                    let mut claimed = Vec::new();
                    for r in &rows {
                        let row = r.int(0)?;
                        let address = r.text(1)?.to_owned();
                        let f = facts.get(&address).cloned().unwrap_or_default();
                        let known = rules::may_start(rules::Start {
                            channel: inbox.kind,
                            known: f.contact_id.is_some(),
                            sender_is_phone: true,
                            has_subject: true,
                        });
                        let decision = if let Err(b) = known {
                            Decision::Skip("not_reachable", b.message(inbox.kind))
                        } else {
                            let tz = r.opt_text(4)?.and_then(|z| TimeZone::get(z).ok()).unwrap_or_else(|| zone.clone());
                            rule::decide(
                                &Turn {
                                    address: &address,
                                    consent: crate::consent::may_reach(purpose, f.standing, &required).err(),
                                    recent: f.recent,
                                    cap,
                                    allowed_from: rule::next_allowed(now, &tz, hours),
                                },
                                now,
                            )
                        };
                        match decision {
                            Decision::Skip(_, why) => {
                                tx.conn.execute(
                                    "UPDATE campaign_recipients SET state = 'skipped', reason = ?, contact_id = ? \
                                     WHERE campaign_id = ? AND row_no = ? AND state = 'queued'",
                                    params![why, f.contact_id, campaign_id, row],
                                )?;
                            }
                            Decision::Defer(at) => {
                                tx.conn.execute(
                                    "UPDATE campaign_recipients SET next_at = ? WHERE campaign_id = ? AND row_no = ? AND state = 'queued'",
                                    params![at, campaign_id, row],
                                )?;
                            }
                            Decision::Send => {
                                if let Some(contact) = f.contact_id {
                                    tx.conn.execute(
                                        "UPDATE campaign_recipients SET contact_id = ? WHERE campaign_id = ? AND row_no = ?",
                                        params![contact, campaign_id, row],
                                    )?;
                                }
                                claimed.push(r);
                            }
                        }
                    }
                    // Those to send, claimed together; the lease holder is the only one
                    // claiming for this inbox, and the state check keeps it so regardless.
                    for chunk in claimed.chunks(500) {
                        let list = placeholders(chunk.len());
                        let mut values = vec![Value::from(holder.as_str()), Value::Int(now), Value::Int(campaign_id)];
                        for r in chunk {
                            values.push(Value::Int(r.int(0)?));
                        }
                        tx.conn.execute(
                            &format!(
                                "UPDATE campaign_recipients SET state = 'claimed', claimed_by = ?, sent_at = ? \
                                 WHERE campaign_id = ? AND state = 'queued' AND row_no IN ({list})"
                            ),
                            &values,
                        )?;
                    }
                    for r in claimed {
                        let row = r.int(0)?;
                        let values: Vec<String> = serde_json::from_str(r.text(3)?).unwrap_or_default();
                        out.push(BulkSend {
                            campaign_id,
                            row,
                            attempts: r.int(5)?,
                            out: Outgoing {
                                message_id: 0,
                                conversation_id: 0,
                                inbox_id,
                                channel: inbox.kind,
                                from: inbox.address.clone(),
                                settings: settings.clone(),
                                to: r.text(1)?.to_owned(),
                                contact_name: r.text(2)?.to_owned(),
                                body: template.fill(&values),
                                attachments: vec![],
                                choices: None,
                                template: Some(TemplateSend {
                                    name: template.name.clone(),
                                    language: template.language.clone(),
                                    params: values,
                                }),
                                attempts: r.int(5)?,
                                subject: subject.clone(),
                                in_reply_to: None,
                                references: vec![],
                                reference: Some(rule::reference(campaign_id, row)),
                                request_id: None,
                                unsubscribe: match inbox.kind {
                                    ChannelKind::Email => Some(super::consent::unsubscribe_token(
                                        tx,
                                        inbox.kind,
                                        r.text(1)?,
                                        purpose,
                                    )?),
                                    _ => None,
                                },
                            },
                        });
                    }
                }
                Ok(out)
            })
            .await
    }

    /// Marks claimed recipients `sending`, committed before their provider is called:
    /// from here on they are never called again, whatever happens to this hub. Returns
    /// those still this hub's to send.
    pub async fn mark_sending(&self, holder: String, keys: Vec<(i64, i64)>, now: Timestamp) -> Result<Vec<(i64, i64)>> {
        self.pool()
            .write(move |tx| {
                let mut by_campaign: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
                for &(c, row) in &keys {
                    by_campaign.entry(c).or_default().push(row);
                }
                let mut ours = Vec::with_capacity(keys.len());
                for (campaign_id, rows) in by_campaign {
                    for chunk in rows.chunks(500) {
                        let list = placeholders(chunk.len());
                        let mut values = vec![Value::Int(now), Value::Int(campaign_id), Value::from(holder.as_str())];
                        values.extend(chunk.iter().map(|&r| Value::Int(r)));
                        tx.conn.execute(
                            &format!(
                                "UPDATE campaign_recipients SET state = 'sending', sent_at = ? \
                                 WHERE campaign_id = ? AND state = 'claimed' AND claimed_by = ? AND row_no IN ({list})"
                            ),
                            &values,
                        )?;
                        let mut values = vec![Value::Int(campaign_id), Value::from(holder.as_str()), Value::Int(now)];
                        values.extend(chunk.iter().map(|&r| Value::Int(r)));
                        for r in &tx.conn.query(
                            &format!(
                                "SELECT row_no FROM campaign_recipients WHERE campaign_id = ? AND claimed_by = ? \
                                 AND state = 'sending' AND sent_at = ? AND row_no IN ({list})"
                            ),
                            &values,
                        )? {
                            ours.push((campaign_id, r.int(0)?));
                        }
                    }
                }
                Ok(ours)
            })
            .await
    }

    /// Records what became of sends, all in one transaction.
    pub async fn record_bulk(&self, outcomes: Vec<(i64, i64, BulkOutcome)>) -> Result<()> {
        self.pool()
            .write(move |tx| {
                let mut sent: std::collections::BTreeMap<i64, Vec<(i64, &str)>> = Default::default();
                for (campaign_id, row, outcome) in &outcomes {
                    match outcome {
                        BulkOutcome::Sent { provider_id } => sent.entry(*campaign_id).or_default().push((*row, provider_id)),
                        BulkOutcome::Failed { reason } => {
                            tx.conn.execute(
                                "UPDATE campaign_recipients SET state = 'failed', reason = ?, attempts = attempts + 1 \
                                 WHERE campaign_id = ? AND row_no = ? AND state = 'sending'",
                                params![reason, *campaign_id, *row],
                            )?;
                        }
                        BulkOutcome::Unsure { reason, until } => {
                            tx.conn.execute(
                                "UPDATE campaign_recipients SET state = 'unconfirmed', reason = ?, next_at = ? \
                                 WHERE campaign_id = ? AND row_no = ? AND state = 'sending'",
                                params![reason, *until, *campaign_id, *row],
                            )?;
                        }
                        BulkOutcome::Retry { reason, at } => {
                            tx.conn.execute(
                                "UPDATE campaign_recipients SET state = 'queued', reason = ?, next_at = ?, sent_at = NULL, \
                                 claimed_by = NULL, attempts = attempts + 1 WHERE campaign_id = ? AND row_no = ? AND state = 'sending'",
                                params![reason, *at, *campaign_id, *row],
                            )?;
                        }
                    }
                }
                // Many at once: each row's provider id by a CASE on its row.
                for (campaign_id, rows) in sent {
                    for chunk in rows.chunks(200) {
                        let cases = " WHEN ? THEN ?".repeat(chunk.len());
                        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 3 + 1);
                        for (row, pid) in chunk {
                            values.push(Value::Int(*row));
                            values.push(Value::from(*pid));
                        }
                        values.push(Value::Int(campaign_id));
                        values.extend(chunk.iter().map(|(row, _)| Value::Int(*row)));
                        tx.conn.execute(
                            &format!(
                                "UPDATE campaign_recipients SET state = 'sent', delivery = COALESCE(delivery, 'sent'), \
                                 provider_id = CASE row_no{cases} END WHERE campaign_id = ? AND state = 'sending' AND row_no IN ({})",
                                placeholders(chunk.len())
                            ),
                            &values,
                        )?;
                    }
                }
                Ok(())
            })
            .await
    }

    /// Settles sends a stopped hub left `sending` (marked before `claimed_before`): where
    /// the provider reports each message it took by the hub's reference, they wait
    /// `confirm_ms` for that report and are sent again if none came; elsewhere they are
    /// failed, for a person to check (sending again could send twice). Then finishes the
    /// running campaigns with nobody left to send to. Returns the sends settled.
    pub async fn settle_campaigns(&self, claimed_before: Timestamp, confirm_ms: i64) -> Result<usize> {
        self.pool()
            .write(move |tx| {
                let stale = tx.conn.query(
                    "SELECT DISTINCT inbox_id FROM campaign_recipients WHERE state = 'sending' AND sent_at < ?",
                    params![claimed_before],
                )?;
                let mut settled = 0;
                for r in &stale {
                    let inbox_id = r.int(0)?;
                    let inbox = entities::load_inbox(tx.conn, inbox_id)?;
                    let settings: serde_json::Value =
                        tx.conn.query_one("SELECT settings FROM inboxes WHERE id = ?", params![inbox_id])?.json(0)?;
                    let callbacks = settings.get("status_callback_url").and_then(serde_json::Value::as_str).is_some();
                    settled += match rule::after_interruption(inbox.kind, callbacks, tx.now, confirm_ms) {
                        rule::Interrupted::AwaitReport { until } => tx.conn.execute(
                            "UPDATE campaign_recipients SET state = 'unconfirmed', next_at = ? \
                             WHERE inbox_id = ? AND state = 'sending' AND sent_at < ?",
                            params![until, inbox_id, claimed_before],
                        )?,
                        rule::Interrupted::Fail => tx.conn.execute(
                            "UPDATE campaign_recipients SET state = 'failed', \
                             reason = 'the hub stopped while sending this; it may not have reached the customer' \
                             WHERE inbox_id = ? AND state = 'sending' AND sent_at < ?",
                            params![inbox_id, claimed_before],
                        )?,
                    };
                }
                tx.conn.execute(
                    "UPDATE campaign_recipients SET state = 'queued', claimed_by = NULL, sent_at = NULL, next_at = ?, \
                     reason = 'sent again: the provider never reported taking the first attempt' \
                     WHERE state = 'unconfirmed' AND next_at <= ?",
                    params![tx.now, tx.now],
                )?;
                tx.conn.execute(
                    "UPDATE campaigns SET state = 'done', finished_at = ? WHERE state = 'running' AND NOT EXISTS \
                     (SELECT 1 FROM campaign_recipients r WHERE r.campaign_id = campaigns.id \
                     AND r.state IN ('queued', 'claimed', 'sending', 'unconfirmed'))",
                    params![tx.now],
                )?;
                Ok(usize::try_from(settled).unwrap_or(0))
            })
            .await
    }

    /// A results file: one line per recipient, RFC 4180 quoted, formulas kept as text.
    pub async fn export_campaign(&self, v: &Viewer, id: i64) -> Result<String> {
        let mut out = String::from("row,address,name,state,reason,sent_at,conversation_id\r\n");
        let mut after = 0;
        loop {
            let page = self.campaign_recipients(v, id, None, after, RecipientPage::MAX_LIMIT).await?;
            for r in &page.recipients {
                let sent = r.sent_at.and_then(|t| jiff::Timestamp::from_millisecond(t).ok()).map(|t| t.to_string());
                let cells = [
                    r.row.to_string(),
                    r.address.clone(),
                    r.name.clone(),
                    r.state.as_str().to_owned(),
                    r.reason.clone().unwrap_or_default(),
                    sent.unwrap_or_default(),
                    r.conversation_id.map(|c| c.to_string()).unwrap_or_default(),
                ];
                let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
                out.push_str(&line.join(","));
                out.push_str("\r\n");
            }
            match page.next {
                Some(n) => after = n,
                None => break,
            }
        }
        Ok(out)
    }
}

/// One CSV cell: quoted when it must be (RFC 4180), and a cell a spreadsheet would run
/// as a formula kept as text (a phone number's `+` stays).
fn csv_cell(s: &str) -> String {
    let formula = match s.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => !s[1..].chars().all(|c| c.is_ascii_digit() || c == ' '),
        _ => false,
    };
    let s = if formula { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A provider reported taking campaign send `row` of `campaign_id` (by the hub's
/// reference): a send interrupted mid-call, or not yet recorded, was sent.
pub(super) fn confirm(
    tx: &mut WriteTx<'_>,
    inbox_id: i64,
    campaign_id: i64,
    row: i64,
    provider_id: &str,
) -> Result<()> {
    tx.conn.execute(
        "UPDATE campaign_recipients SET state = 'sent', provider_id = ?, delivery = COALESCE(delivery, 'sent'), reason = NULL \
         WHERE campaign_id = ? AND row_no = ? AND inbox_id = ? AND state IN ('sending', 'unconfirmed')",
        params![provider_id, campaign_id, row, inbox_id],
    )?;
    Ok(())
}

/// A provider's delivery report for a campaign message: true when it named one.
pub(super) fn campaign_delivery(
    tx: &mut WriteTx<'_>,
    inbox_id: i64,
    provider_id: &str,
    to: Delivery,
    error: Option<&str>,
) -> Result<bool> {
    let Some(row) = tx.conn.query_opt(
        "SELECT campaign_id, row_no, delivery FROM campaign_recipients WHERE inbox_id = ? AND provider_id = ?",
        params![inbox_id, provider_id],
    )?
    else {
        return Ok(false);
    };
    let current: Option<Delivery> = row.opt_text(2)?.and_then(|d| d.parse().ok());
    if rules::delivery_advances(current, to) {
        tx.conn.execute(
            "UPDATE campaign_recipients SET delivery = ?, reason = COALESCE(?, reason) WHERE campaign_id = ? AND row_no = ?",
            params![to.as_str(), error, row.int(0)?, row.int(1)?],
        )?;
    }
    Ok(true)
}

/// A customer wrote to `inbox_id` from `address`: the campaign message they were sent
/// there last (within a week, not yet answered) counts as replied, with the conversation
/// the answer is in. Returns the campaign's name and the text they were sent.
pub(super) fn note_reply(
    tx: &mut WriteTx<'_>,
    inbox_id: i64,
    address: &str,
    conversation_id: i64,
    at: Timestamp,
) -> Result<Option<(String, String)>> {
    let Some(row) = tx.conn.query_opt(
        "SELECT r.campaign_id, r.row_no, c.name, c.template, r.params FROM campaign_recipients r \
         JOIN campaigns c ON c.id = r.campaign_id \
         WHERE r.address = ? AND r.inbox_id = ? AND r.state = 'sent' AND r.replied_at IS NULL AND r.sent_at > ? \
         ORDER BY r.sent_at DESC LIMIT 1",
        params![address, inbox_id, at - 7 * DAY_MS],
    )?
    else {
        return Ok(None);
    };
    tx.conn.execute(
        "UPDATE campaign_recipients SET replied_at = ?, reply_conversation_id = ? WHERE campaign_id = ? AND row_no = ?",
        params![at, conversation_id, row.int(0)?, row.int(1)?],
    )?;
    let inbox = entities::load_inbox(tx.conn, inbox_id)?;
    let values: Vec<String> = serde_json::from_str(row.text(4)?).unwrap_or_default();
    let text = inbox.templates.iter().find(|t| t.name == row.text(3).unwrap_or("")).map(|t| t.fill(&values));
    Ok(Some((row.text(2)?.to_owned(), text.unwrap_or_default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_read_from_the_row() {
        let table = [
            (("queued", None, false), RecipientState::Queued),
            (("sending", None, false), RecipientState::Queued),
            (("sent", Some("sent"), false), RecipientState::Sent),
            (("sent", Some("delivered"), false), RecipientState::Delivered),
            (("sent", Some("read"), false), RecipientState::Read),
            (("sent", Some("read"), true), RecipientState::Replied),
            (("sent", Some("failed"), false), RecipientState::Failed),
            (("failed", None, false), RecipientState::Failed),
            (("skipped", None, false), RecipientState::Skipped),
        ];
        for ((state, delivery, replied), want) in table {
            assert_eq!(result_state(state, delivery, replied), want, "{state} {delivery:?} {replied}");
        }
    }

    #[test]
    fn cells_are_quoted_and_formulas_kept_as_text() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("Silva, Ana"), "\"Silva, Ana\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+14155550100"), "+14155550100", "a phone number stays a phone number");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    }
}
