//! CRM connectors: looking customers up in the business's CRM so agents see who they are,
//! and logging resolved conversations' transcripts back on the CRM contact.
//!
//! The hub holds the CRM's credentials; consoles only ever see the fields, cached on the
//! contact with when they were fetched and synced down like any other change.
//!
//! # Layout
//! - [`hubspot`], [`salesforce`]: the two CRMs, over their documented REST APIs.
//! - [`records`]: sources whose records are JSON or rows: an in-house HTTP API, a CSV file,
//!   a read-only PostgreSQL query.
//! - [`limiter`]: one pace per connector, and the pause a 429's Retry-After asks for.
//! - [`transcript`]: a resolved conversation as the text logged on the contact.
//! - [`worker`]: the background loop that runs lookups and logs transcripts.

pub mod hubspot;
pub mod limiter;
pub mod records;
pub mod salesforce;
pub mod transcript;
pub mod worker;

use crate::address::{self, AddressError};
use limiter::Limiter;
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::admin::{CrmConnector, CrmFieldSetting, CrmSettings};
use switchboard_protocol::model::{ChannelKind, Contact, CrmCandidate, CrmField, CrmSnapshot};
use switchboard_protocol::Timestamp;

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

/// Why a CRM call failed. The message is what agents read in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrmError {
    #[error("{0} refused the credentials ({1}); an admin must update the CRM token")]
    Unauthorized(&'static str, String),
    #[error("{0} asked to slow down; trying again in {1} s")]
    RateLimited(&'static str, u64),
    #[error("{0} is not available ({1})")]
    Unavailable(&'static str, String),
    #[error("{0} did not answer within {1} ms")]
    Timeout(&'static str, u64),
    #[error("{0} refused the request: {1}")]
    Refused(&'static str, String),
    #[error("{0} answered something unexpected: {1}")]
    BadAnswer(&'static str, String),
    #[error("the CRM connector is misconfigured: {0}")]
    Config(String),
}

impl CrmError {
    /// Worth trying again later (the CRM may come back), as opposed to a refusal.
    pub fn is_transient(&self) -> bool {
        matches!(self, CrmError::RateLimited(..) | CrmError::Unavailable(..) | CrmError::Timeout(..))
    }

    /// How long a 429 asked to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CrmError::RateLimited(_, secs) => Some(Duration::from_secs(*secs)),
            _ => None,
        }
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

/// The snapshot a lookup leaves on the contact. A failure keeps the last good fields and
/// says why; a lookup that found nothing says what it searched.
pub fn snapshot(
    source: &str,
    previous: Option<&CrmSnapshot>,
    outcome: &Result<Found, CrmError>,
    now: Timestamp,
) -> CrmSnapshot {
    match outcome {
        Ok(found) => {
            let mut records = found.records.iter();
            let best = records.next();
            CrmSnapshot {
                source: source.to_owned(),
                fields: best.map(|r| r.fields.clone()).unwrap_or_default(),
                fetched_at: now,
                link: best.and_then(|r| r.link.clone()),
                error: None,
                record_id: best.map(|r| r.id.clone()),
                searched: found.searched.clone(),
                others: records
                    .take(10)
                    .map(|r| CrmCandidate {
                        record_id: r.id.clone(),
                        name: r.name.clone(),
                        detail: r.emails.first().or(r.phones.first()).cloned(),
                        link: r.link.clone(),
                    })
                    .collect(),
            }
        }
        Err(e) => match previous {
            Some(p) if p.source == source => CrmSnapshot { error: Some(e.to_string()), ..p.clone() },
            _ => CrmSnapshot {
                source: source.to_owned(),
                fields: Vec::new(),
                fetched_at: now,
                link: None,
                error: Some(e.to_string()),
                record_id: None,
                searched: Vec::new(),
                others: Vec::new(),
            },
        },
    }
}

/// Whether a contact's CRM fields should be fetched now. `checked_at` is the last attempt,
/// good or not; a failed one is tried again sooner (after at most five minutes).
pub fn is_stale(checked_at: Option<Timestamp>, failed: bool, ttl_ms: i64, now: Timestamp, force: bool) -> bool {
    let age = match checked_at {
        None => return true,
        Some(at) => now.saturating_sub(at),
    };
    let max_age = if failed { ttl_ms.min(5 * 60_000) } else { ttl_ms };
    force || age >= max_age
}

/// A configured connector with its HTTP client and pace.
#[derive(Debug, Clone)]
pub struct Crm {
    pub settings: Arc<CrmSettings>,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    HubSpot(hubspot::HubSpot),
    Salesforce(salesforce::Salesforce),
    Records(records::Source),
}

impl Crm {
    /// Builds the connector `settings` describe; refuses settings it could not use.
    pub fn new(mut settings: CrmSettings) -> Result<Crm, CrmError> {
        validate(&settings)?;
        if settings.fields.is_empty() {
            settings.fields = default_fields(&settings.connector);
        }
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        let http = crate::outbound::client(timeout).map_err(|e| CrmError::Config(e.to_string()))?;
        let settings = Arc::new(settings);
        let kind = match &settings.connector {
            CrmConnector::Hubspot { base_url, token, portal_id, app_url, searches_per_second } => {
                Kind::HubSpot(hubspot::HubSpot {
                    http,
                    base: base_url.trim_end_matches('/').to_owned(),
                    token: token.clone(),
                    portal_id: portal_id.clone(),
                    app_url: app_url.trim_end_matches('/').to_owned(),
                    fields: settings.fields.clone(),
                    search_pace: Arc::new(Limiter::per_second(*searches_per_second)),
                    pace: Arc::new(Limiter::per_second(10.0)),
                    timeout_ms: settings.timeout_ms,
                })
            }
            CrmConnector::Salesforce { instance_url, token, api_version, requests_per_second } => {
                Kind::Salesforce(salesforce::Salesforce {
                    http,
                    instance: instance_url.trim_end_matches('/').to_owned(),
                    token: token.clone(),
                    version: api_version.clone(),
                    fields: settings.fields.clone(),
                    pace: Arc::new(Limiter::per_second(*requests_per_second)),
                    timeout_ms: settings.timeout_ms,
                })
            }
            CrmConnector::Http { url, headers, records, requests_per_second } => {
                Kind::Records(records::Source::http(http, url, headers, records, &settings, *requests_per_second))
            }
            CrmConnector::Csv { path, records } => Kind::Records(records::Source::csv(path, records, &settings)),
            CrmConnector::Sql { url, by_email, by_phone, records } => {
                Kind::Records(records::Source::sql(url, by_email, by_phone, records, &settings))
            }
        };
        Ok(Crm { settings, kind })
    }

    /// The source's name as contacts record it.
    pub fn source(&self) -> &'static str {
        match &self.settings.connector {
            CrmConnector::Hubspot { .. } => "hubspot",
            CrmConnector::Salesforce { .. } => "salesforce",
            CrmConnector::Http { .. } => "http",
            CrmConnector::Csv { .. } => "csv",
            CrmConnector::Sql { .. } => "sql",
        }
    }

    pub fn ttl_ms(&self) -> i64 {
        i64::try_from(self.settings.ttl_secs.saturating_mul(1_000)).unwrap_or(i64::MAX)
    }

    /// Finds the customer: by email first; by phone when no email matched. The closest
    /// record comes first, with its complete fields.
    pub async fn lookup(&self, l: &Lookup) -> Result<Found, CrmError> {
        let mut found = self.search(l).await?;
        if let Some(best) = found.records.first_mut() {
            self.complete(best).await?;
        }
        Ok(found)
    }

    /// The records matching `l`, closest first, with only the fields the search returns
    /// (enough to know the record, as logging a transcript needs).
    pub async fn search(&self, l: &Lookup) -> Result<Found, CrmError> {
        let mut records = Vec::new();
        for email in &l.emails {
            records.extend(self.search_email(email).await?);
        }
        if records.is_empty() {
            for phone in &l.phones {
                records.extend(self.search_phone(phone).await?);
            }
        }
        Ok(Found { records: rank(records, l), searched: l.searched() })
    }

    async fn search_email(&self, email: &str) -> Result<Vec<Record>, CrmError> {
        match &self.kind {
            Kind::HubSpot(h) => h.search_email(email).await,
            Kind::Salesforce(s) => s.by_email(email).await,
            Kind::Records(r) => r.find(records::By::Email, email).await,
        }
    }

    async fn search_phone(&self, phone: &str) -> Result<Vec<Record>, CrmError> {
        match &self.kind {
            Kind::HubSpot(h) => h.search_phone(phone).await,
            Kind::Salesforce(s) => s.by_phone(phone).await,
            Kind::Records(r) => r.find(records::By::Phone, phone).await,
        }
    }

    /// Fields that take more calls than the search (HubSpot's owner, companies, deals).
    async fn complete(&self, r: &mut Record) -> Result<(), CrmError> {
        match &self.kind {
            Kind::HubSpot(h) => h.complete(r).await,
            Kind::Salesforce(_) | Kind::Records(_) => Ok(()),
        }
    }

    /// Whether transcripts can be logged in this CRM.
    pub fn takes_transcripts(&self) -> bool {
        matches!(self.kind, Kind::HubSpot(_) | Kind::Salesforce(_))
    }

    /// Logs a transcript on the record; answers the CRM's id of what it created.
    pub async fn log_transcript(&self, record_id: &str, t: &transcript::Transcript) -> Result<String, CrmError> {
        match &self.kind {
            Kind::HubSpot(h) => h.log_note(record_id, t).await,
            Kind::Salesforce(s) => s.log_task(record_id, t).await,
            Kind::Records(_) => {
                Err(CrmError::Config(format!("the {} source does not take transcripts", self.source())))
            }
        }
    }

    /// The transcript `t` if the CRM already has it (a hub stopped after logging it but
    /// before recording that it had).
    pub async fn find_transcript(
        &self,
        record_id: &str,
        t: &transcript::Transcript,
    ) -> Result<Option<String>, CrmError> {
        match &self.kind {
            Kind::HubSpot(h) => h.find_note(record_id, t).await,
            Kind::Salesforce(s) => s.find_task(record_id, t).await,
            Kind::Records(_) => Ok(None),
        }
    }
}

/// What agents see when the admin chose no fields: for the CRMs, the customer's standing
/// and who looks after them; for the other sources, every column (an empty list).
pub fn default_fields(c: &CrmConnector) -> Vec<CrmFieldSetting> {
    let f = |key: &str, label: &str| CrmFieldSetting { key: key.into(), label: label.into() };
    match c {
        CrmConnector::Hubspot { .. } => vec![
            f("lifecyclestage", "Lifecycle stage"),
            f("owner", "Owner"),
            f("companies", "Company"),
            f("open_deals", "Open deals"),
        ],
        CrmConnector::Salesforce { .. } => {
            vec![f("Title", "Title"), f("Account.Name", "Account"), f("Owner.Name", "Owner")]
        }
        CrmConnector::Http { .. } | CrmConnector::Csv { .. } | CrmConnector::Sql { .. } => Vec::new(),
    }
}

/// Settings the hub refuses to store: what would fail on every lookup.
pub fn validate(s: &CrmSettings) -> Result<(), CrmError> {
    let bad = |m: String| Err(CrmError::Config(m));
    let url_ok = |u: &str| u.starts_with("http://") || u.starts_with("https://");
    for f in &s.fields {
        if f.key.trim().is_empty() || f.label.trim().is_empty() {
            return bad("every field needs a key and a label".into());
        }
    }
    if s.timeout_ms == 0 {
        return bad("timeout_ms must be positive".into());
    }
    let rate_ok = |r: f64| r.is_finite() && r > 0.0;
    match &s.connector {
        CrmConnector::Hubspot { base_url, token, app_url, searches_per_second, .. } => {
            if !url_ok(base_url) || !url_ok(app_url) {
                return bad("HubSpot's base_url and app_url must be http(s) URLs".into());
            }
            if token.trim().is_empty() {
                return bad("HubSpot needs a private app's access token".into());
            }
            if !rate_ok(*searches_per_second) {
                return bad("searches_per_second must be positive".into());
            }
        }
        CrmConnector::Salesforce { instance_url, token, api_version, requests_per_second } => {
            if !url_ok(instance_url) {
                return bad("Salesforce's instance_url must be an http(s) URL".into());
            }
            if token.trim().is_empty() {
                return bad("Salesforce needs an access token".into());
            }
            let v = api_version.strip_prefix('v').unwrap_or("");
            if v.split('.').count() != 2
                || !v.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            {
                return bad(format!("api_version `{api_version}` is not like v62.0"));
            }
            if !rate_ok(*requests_per_second) {
                return bad("requests_per_second must be positive".into());
            }
            if let Some(f) = s.fields.iter().find(|f| !salesforce::is_field_path(&f.key)) {
                return bad(format!("`{}` is not a Salesforce field path like Title or Account.Name", f.key));
            }
        }
        CrmConnector::Http { url, requests_per_second, .. } => {
            if !url_ok(url) || !(url.contains("{email}") || url.contains("{phone}")) {
                return bad("the URL must be http(s) and hold {email} or {phone}".into());
            }
            if !rate_ok(*requests_per_second) {
                return bad("requests_per_second must be positive".into());
            }
        }
        CrmConnector::Csv { path, .. } => {
            if path.trim().is_empty() {
                return bad("the CSV source needs a path".into());
            }
        }
        CrmConnector::Sql { url, by_email, by_phone, .. } => {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return bad("the SQL source takes a postgres:// URL".into());
            }
            for q in [by_email, by_phone] {
                let head = q.trim_start().get(..6).unwrap_or("").to_ascii_lowercase();
                if !(head.starts_with("select") || head.starts_with("with")) || !q.contains("$1") {
                    return bad("each query must be a SELECT taking the address as $1".into());
                }
            }
        }
    }
    Ok(())
}

/// The settings as admins read them back: tokens and secret headers masked.
pub fn masked(s: &CrmSettings) -> CrmSettings {
    let mask = |t: &str| {
        let tail: String = t.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        if t.chars().count() > 8 {
            format!("…{tail}")
        } else {
            "…".to_owned()
        }
    };
    let mut out = s.clone();
    match &mut out.connector {
        CrmConnector::Hubspot { token, .. } | CrmConnector::Salesforce { token, .. } => *token = mask(token),
        CrmConnector::Http { headers, .. } => {
            for v in headers.values_mut() {
                *v = mask(v);
            }
        }
        CrmConnector::Sql { url, .. } => *url = mask_url(url),
        CrmConnector::Csv { .. } => {}
    }
    out
}

/// A database URL without its password (`postgres://user:…@host/db`), in the userinfo or
/// as a `password=` parameter.
fn mask_url(url: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((creds, host)) => {
                let user = creds.split(':').next().unwrap_or("");
                format!("{scheme}://{user}:…@{host}")
            }
            None => base.to_owned(),
        },
        None => base.to_owned(),
    };
    if let Some(q) = query {
        let parts: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=…"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&parts.join("&"));
    }
    out
}

/// Settings an admin sends back as `GET` showed them: masked secrets (`…1234`) keep the
/// stored values they stand for.
pub fn keep_secrets(mut new: CrmSettings, stored: &CrmSettings) -> CrmSettings {
    let masked_form = |v: &str| v.starts_with('…');
    match (&mut new.connector, &stored.connector) {
        (CrmConnector::Hubspot { token, .. }, CrmConnector::Hubspot { token: old, .. })
        | (CrmConnector::Salesforce { token, .. }, CrmConnector::Salesforce { token: old, .. })
            if masked_form(token) =>
        {
            token.clone_from(old);
        }
        (CrmConnector::Http { headers, .. }, CrmConnector::Http { headers: old, .. }) => {
            for (k, v) in headers.iter_mut() {
                if let Some(o) = old.get(k).filter(|_| masked_form(v)) {
                    v.clone_from(o);
                }
            }
        }
        (CrmConnector::Sql { url, .. }, CrmConnector::Sql { url: old, .. }) if *url == mask_url(old) => {
            url.clone_from(old);
        }
        _ => {}
    }
    new
}

/// Maps an HTTP answer's status to an error, or `None` for success.
pub(crate) fn status_error(
    provider: &'static str,
    status: reqwest::StatusCode,
    retry_after: Option<&str>,
    body: &str,
) -> Option<CrmError> {
    let short: String = body.chars().take(300).collect();
    match status.as_u16() {
        200..=299 => None,
        401 | 403 if !short.contains("REQUEST_LIMIT_EXCEEDED") => {
            Some(CrmError::Unauthorized(provider, format!("{status}: {short}")))
        }
        // Salesforce's spent API allowance: no Retry-After, and it lasts; pause for minutes.
        403 => Some(CrmError::RateLimited(provider, retry_after.map_or(300, |v| limiter::retry_after_secs(Some(v))))),
        429 => Some(CrmError::RateLimited(provider, limiter::retry_after_secs(retry_after))),
        500..=599 => Some(CrmError::Unavailable(provider, status.to_string())),
        _ => Some(CrmError::Refused(provider, format!("{status}: {short}"))),
    }
}

/// Maps a transport failure to an error.
pub(crate) fn transport_error(provider: &'static str, e: &reqwest::Error, timeout_ms: u64) -> CrmError {
    if e.is_timeout() {
        CrmError::Timeout(provider, timeout_ms)
    } else {
        // The URL may carry an address; the message names the failure, not the request.
        let what = if e.is_connect() { "cannot connect" } else { "the connection failed" };
        CrmError::Unavailable(provider, what.to_owned())
    }
}

/// Sends a request at the limiter's pace and reads the JSON answer. A 429 makes the limiter
/// hold every request for what Retry-After asks, then this one is tried again (three times
/// at most).
pub(crate) async fn send_json(
    provider: &'static str,
    pace: &Limiter,
    timeout_ms: u64,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<serde_json::Value, CrmError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        pace.acquire().await;
        let resp = build().send().await.map_err(|e| transport_error(provider, &e, timeout_ms))?;
        let status = resp.status();
        let retry_after =
            resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = resp.text().await.map_err(|e| transport_error(provider, &e, timeout_ms))?;
        match status_error(provider, status, retry_after.as_deref(), &text) {
            None => {
                if text.trim().is_empty() {
                    return Ok(serde_json::Value::Null);
                }
                return serde_json::from_str(&text).map_err(|e| CrmError::BadAnswer(provider, e.to_string()));
            }
            Some(err) => {
                if let Some(wait) = err.retry_after() {
                    pace.hold_for(wait);
                    // Short pauses are waited out here; a longer one ends this call, and the
                    // lookup or transcript is tried again once it has passed.
                    if attempt < 3 && wait <= Duration::from_secs(10) {
                        tracing::info!("{provider} asked to wait {} s", wait.as_secs());
                        continue;
                    }
                }
                return Err(err);
            }
        }
    }
}

/// Follows a field path through JSON: a JSON pointer (`/a/b`), a dotted path (`a.b`), or a
/// bare key. Numbers and booleans read as text; absent and `null` as nothing.
pub fn value_at(v: &serde_json::Value, path: &str) -> Option<String> {
    let found =
        if path.starts_with('/') { v.pointer(path) } else { path.split('.').try_fold(v, |v, part| v.get(part)) };
    text_of(found?)
}

fn text_of(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) if s.trim().is_empty() => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(text_of).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::admin::{RecordMapping, TranscriptSettings};

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
    fn snapshot_table() {
        let found = Found {
            records: vec![
                Record {
                    fields: vec![CrmField { key: "plan".into(), label: "Plan".into(), value: "Pro".into() }],
                    link: Some("https://crm/1".into()),
                    ..rec("1", "ben@example.com", "")
                },
                rec("2", "", "+14155550123"),
            ],
            searched: vec!["ben@example.com".into()],
        };
        let good = snapshot("hubspot", None, &Ok(found), 1_000);
        assert_eq!(good.record_id.as_deref(), Some("1"));
        assert_eq!(good.fields.len(), 1);
        assert_eq!(good.others.len(), 1);
        assert_eq!(good.others[0].detail.as_deref(), Some("+14155550123"));
        assert_eq!(good.error, None);

        let none =
            snapshot("hubspot", Some(&good), &Ok(Found { records: vec![], searched: vec!["x@y.z".into()] }), 2_000);
        assert_eq!(none.record_id, None, "no match replaces the old record");
        assert!(none.fields.is_empty());
        assert_eq!(none.searched, ["x@y.z"]);

        let down = CrmError::Unavailable("HubSpot", "503".into());
        let failed = snapshot("hubspot", Some(&good), &Err(down.clone()), 3_000);
        assert_eq!(failed.fields, good.fields, "the last good values stay");
        assert_eq!(failed.fetched_at, 1_000, "and say how old they are");
        assert!(failed.error.as_deref().is_some_and(|e| e.contains("not available")));

        let first = snapshot("csv", Some(&good), &Err(down), 3_000);
        assert!(first.fields.is_empty(), "another source's fields are not shown as this one's");
        assert!(first.error.is_some());
    }

    #[test]
    fn staleness_table() {
        let hour = 3_600_000;
        for (checked, failed, now, force, stale) in [
            (None, false, 0, false, true),
            (Some(0), false, hour - 1, false, false),
            (Some(0), false, hour, false, true),
            (Some(0), false, 1, true, true),
            (Some(0), true, 5 * 60_000, false, true),
            (Some(0), true, 60_000, false, false),
        ] {
            assert_eq!(is_stale(checked, failed, hour, now, force), stale, "{checked:?} {failed} {now} {force}");
        }
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

    #[test]
    fn statuses_map_to_errors() {
        use reqwest::StatusCode as S;
        assert_eq!(status_error("HubSpot", S::OK, None, ""), None);
        assert!(matches!(status_error("HubSpot", S::UNAUTHORIZED, None, "{}"), Some(CrmError::Unauthorized(..))));
        assert_eq!(
            status_error("HubSpot", S::TOO_MANY_REQUESTS, Some("7"), ""),
            Some(CrmError::RateLimited("HubSpot", 7))
        );
        assert!(matches!(
            status_error("Salesforce", S::FORBIDDEN, None, r#"[{"errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#),
            Some(CrmError::RateLimited(..))
        ));
        assert!(matches!(status_error("HubSpot", S::BAD_GATEWAY, None, ""), Some(CrmError::Unavailable(..))));
        assert!(matches!(status_error("HubSpot", S::BAD_REQUEST, None, "bad"), Some(CrmError::Refused(..))));
    }

    #[test]
    fn values_by_pointer_path_or_key() {
        let v = serde_json::json!({"plan": "Pro", "account": {"owner": "Maya", "seats": 12, "vip": true}, "tags": ["a", "b"], "gone": null, "blank": " "});
        assert_eq!(value_at(&v, "plan").as_deref(), Some("Pro"));
        assert_eq!(value_at(&v, "/account/owner").as_deref(), Some("Maya"));
        assert_eq!(value_at(&v, "account.seats").as_deref(), Some("12"));
        assert_eq!(value_at(&v, "/account/vip").as_deref(), Some("true"));
        assert_eq!(value_at(&v, "tags").as_deref(), Some("a, b"));
        assert_eq!(value_at(&v, "gone"), None);
        assert_eq!(value_at(&v, "blank"), None);
        assert_eq!(value_at(&v, "missing"), None);
    }

    fn settings(connector: CrmConnector) -> CrmSettings {
        CrmSettings {
            connector,
            fields: vec![CrmFieldSetting { key: "plan".into(), label: "Plan".into() }],
            ttl_secs: 60,
            timeout_ms: 1_000,
            transcripts: TranscriptSettings::default(),
        }
    }

    #[test]
    fn settings_are_checked_and_masked() {
        let hub = |token: &str| CrmConnector::Hubspot {
            base_url: "https://api.hubapi.com".into(),
            token: token.into(),
            portal_id: None,
            app_url: "https://app.hubspot.com".into(),
            searches_per_second: 4.0,
        };
        assert!(validate(&settings(hub("pat-na1-0123456789"))).is_ok());
        assert!(validate(&settings(hub(" "))).is_err());
        let csv = CrmConnector::Csv { path: "customers.csv".into(), records: RecordMapping::default() };
        assert!(validate(&settings(csv)).is_ok());
        let sql = |q: &str| CrmConnector::Sql {
            url: "postgres://crm:secret@db/crm".into(),
            by_email: q.into(),
            by_phone: "SELECT * FROM customers WHERE phone = $1".into(),
            records: RecordMapping::default(),
        };
        assert!(validate(&settings(sql("SELECT * FROM customers WHERE email = $1"))).is_ok());
        assert!(validate(&settings(sql("DELETE FROM customers WHERE email = $1"))).is_err());
        assert!(validate(&settings(sql("SELECT * FROM customers"))).is_err());
        let http = |url: &str| CrmConnector::Http {
            url: url.into(),
            headers: Default::default(),
            records: RecordMapping::default(),
            requests_per_second: 5.0,
        };
        assert!(validate(&settings(http("https://crm.internal/customers?email={email}"))).is_ok());
        assert!(validate(&settings(http("https://crm.internal/customers"))).is_err());
        assert!(validate(&settings(http("ftp://crm.internal/{email}"))).is_err());

        let m = masked(&settings(hub("pat-na1-0123456789")));
        assert!(matches!(m.connector, CrmConnector::Hubspot { ref token, .. } if token == "…6789"));
        let stored = settings(sql("SELECT * FROM customers WHERE email = $1"));
        let m = masked(&stored);
        assert!(matches!(m.connector, CrmConnector::Sql { ref url, .. } if url == "postgres://crm:…@db/crm"));
        assert_eq!(keep_secrets(m, &stored), stored, "settings sent back as read keep their secrets");
        assert_eq!(mask_url("postgres://db/crm?user=crm&password=p@ss"), "postgres://db/crm?user=crm&password=…");
        let token = settings(hub("pat-na1-0123456789"));
        assert_eq!(keep_secrets(masked(&token), &token), token);
        let changed = settings(hub("pat-na1-new-token-1"));
        assert_eq!(keep_secrets(changed.clone(), &token), changed, "a new token is taken as sent");
    }
}
