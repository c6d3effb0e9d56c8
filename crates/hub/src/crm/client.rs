//! [`Crm`]: the configured connector behind one face, whichever CRM or source it is. It
//! searches, completes the best record, and logs transcripts; ranking, snapshots and
//! settings rules live beside it.

use super::limiter::Limiter;
use super::transcript::Transcript;
use super::{default_fields, hubspot, rank, records, salesforce, validate, CrmError, Found, Lookup, Record};
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::admin::{CrmConnector, CrmSettings};

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
    /// Builds the connector `settings` describe, paced in this process; refuses settings it
    /// could not use.
    pub fn new(settings: CrmSettings) -> Result<Crm, CrmError> {
        Crm::build(settings, None)
    }

    /// [`Crm::new`], its pace kept in `store` for every hub's CRM worker together.
    pub fn shared(settings: CrmSettings, store: &crate::store::Store) -> Result<Crm, CrmError> {
        Crm::build(settings, Some(store))
    }

    fn build(mut settings: CrmSettings, store: Option<&crate::store::Store>) -> Result<Crm, CrmError> {
        let pace = |rate: f64, name: &'static str| {
            let limiter = Limiter::per_second(rate);
            Arc::new(match store {
                Some(store) => limiter.shared(store.clone(), name),
                None => limiter,
            })
        };
        validate(&settings)?;
        if settings.fields.is_empty() {
            settings.fields = default_fields(&settings.connector);
        }
        let timeout = Duration::from_millis(settings.timeout_ms.max(1));
        // A CRM that redirects is answered as refused: its headers (API keys) never follow.
        let http = crate::outbound::client_without_redirects(timeout).map_err(|e| CrmError::Config(e.to_string()))?;
        let settings = Arc::new(settings);
        let kind =
            match &settings.connector {
                CrmConnector::Hubspot { base_url, token, portal_id, app_url, searches_per_second } => {
                    Kind::HubSpot(hubspot::HubSpot {
                        http,
                        base: base_url.trim_end_matches('/').to_owned(),
                        token: token.clone(),
                        portal_id: portal_id.clone(),
                        app_url: app_url.trim_end_matches('/').to_owned(),
                        fields: settings.fields.clone(),
                        search_pace: pace(*searches_per_second, "hubspot-search"),
                        pace: pace(10.0, "hubspot"),
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
                        pace: pace(*requests_per_second, "salesforce"),
                        timeout_ms: settings.timeout_ms,
                    })
                }
                CrmConnector::Http { url, headers, records, requests_per_second } => Kind::Records(
                    records::Source::http(http, url, headers, records, &settings, pace(*requests_per_second, "http")),
                ),
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
    pub async fn log_transcript(&self, record_id: &str, t: &Transcript) -> Result<String, CrmError> {
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
    pub async fn find_transcript(&self, record_id: &str, t: &Transcript) -> Result<Option<String>, CrmError> {
        match &self.kind {
            Kind::HubSpot(h) => h.find_note(record_id, t).await,
            Kind::Salesforce(s) => s.find_task(record_id, t).await,
            Kind::Records(_) => Ok(None),
        }
    }
}
