//! HubSpot CRM v3 over its REST API with a private app's access token: contact search by
//! email and by phone (`phone` or `mobilephone`), the owner, associated companies and open
//! deals, and transcripts logged as notes associated with the contact.

use super::limiter::Limiter;
use super::transcript::{escape, Transcript};
use super::{send_json, value_at, CrmError, Record};
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard_protocol::admin::CrmFieldSetting;
use switchboard_protocol::model::CrmField;

const NAME: &str = "HubSpot";
/// Fields computed from more than the contact's own properties.
const OWNER: &str = "owner";
const COMPANIES: &str = "companies";
const OPEN_DEALS: &str = "open_deals";
/// HubSpot's association type for a note associated with a contact.
const NOTE_TO_CONTACT: u32 = 202;
/// Properties every lookup reads, to name and match the record.
const BASE_PROPERTIES: &[&str] = &["email", "firstname", "lastname", "phone", "mobilephone", "hubspot_owner_id"];

#[derive(Debug, Clone)]
pub struct HubSpot {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub portal_id: Option<String>,
    pub app_url: String,
    pub fields: Vec<CrmFieldSetting>,
    /// The search endpoints' own, lower limit.
    pub search_pace: Arc<Limiter>,
    /// Every other call.
    pub pace: Arc<Limiter>,
    pub timeout_ms: u64,
}

impl HubSpot {
    async fn call(
        &self,
        search: bool,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, CrmError> {
        let url = format!("{}{path}", self.base);
        let pace = if search { &self.search_pace } else { &self.pace };
        let result = send_json(NAME, pace, self.timeout_ms, || {
            let r = self.http.request(method.clone(), &url).bearer_auth(&self.token);
            match body {
                Some(b) => r.json(b),
                None => r,
            }
        })
        .await;
        // A 429 on one endpoint holds the other pace too: the limit is the account's.
        if let Err(CrmError::RateLimited(_, secs)) = &result {
            let other = if search { &self.pace } else { &self.search_pace };
            other.hold_for(std::time::Duration::from_secs(*secs)).await;
        }
        result
    }

    fn properties(&self) -> Vec<String> {
        let mut props: Vec<String> = BASE_PROPERTIES.iter().map(|p| (*p).to_owned()).collect();
        for f in &self.fields {
            if ![OWNER, COMPANIES, OPEN_DEALS].contains(&f.key.as_str()) && !props.contains(&f.key) {
                props.push(f.key.clone());
            }
        }
        props
    }

    /// Contacts with this email.
    pub async fn search_email(&self, email: &str) -> Result<Vec<Record>, CrmError> {
        self.search_any(&["email"], email).await
    }

    /// Contacts whose `phone` or `mobilephone` is the number.
    pub async fn search_phone(&self, phone: &str) -> Result<Vec<Record>, CrmError> {
        self.search_any(&["phone", "mobilephone"], phone).await
    }

    /// Contacts whose value for any of `properties` is `value` (filter groups are ORed).
    async fn search_any(&self, properties: &[&str], value: &str) -> Result<Vec<Record>, CrmError> {
        let groups: Vec<Value> = properties
            .iter()
            .map(|p| json!({"filters": [{"propertyName": p, "operator": "EQ", "value": value}]}))
            .collect();
        let body = json!({
            "filterGroups": groups,
            "properties": self.properties(),
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
            "limit": 10,
        });
        let answer = self.call(true, reqwest::Method::POST, "/crm/v3/objects/contacts/search", Some(&body)).await?;
        let results = answer
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| CrmError::BadAnswer(NAME, "a search answer without results".into()))?;
        results.iter().map(|r| self.record(r)).collect()
    }

    fn record(&self, r: &Value) -> Result<Record, CrmError> {
        let id = value_at(r, "id").ok_or_else(|| CrmError::BadAnswer(NAME, "a contact without an id".into()))?;
        let props = r.get("properties").cloned().unwrap_or(Value::Null);
        let prop = |k: &str| value_at(&props, k);
        let name = [prop("firstname"), prop("lastname")].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let fields = self
            .fields
            .iter()
            .filter_map(|f| {
                let value = match f.key.as_str() {
                    // Filled in by `complete`; the owner's id until then.
                    OWNER => prop("hubspot_owner_id"),
                    COMPANIES | OPEN_DEALS => None,
                    key => prop(key),
                }?;
                Some(CrmField { key: f.key.clone(), label: f.label.clone(), value })
            })
            .collect();
        let link = self.portal_id.as_ref().map(|portal| format!("{}/contacts/{portal}/record/0-1/{id}", self.app_url));
        Ok(Record {
            name: if name.is_empty() { prop("email").unwrap_or_else(|| id.clone()) } else { name },
            emails: prop("email").into_iter().collect(),
            phones: [prop("phone"), prop("mobilephone")].into_iter().flatten().collect(),
            fields,
            link,
            id,
        })
    }

    /// The owner's name, the associated companies and open deals, where configured.
    pub async fn complete(&self, r: &mut Record) -> Result<(), CrmError> {
        let wanted = |k: &str| self.fields.iter().any(|f| f.key == k);
        let mut extra: Vec<(String, String)> = Vec::new();
        if wanted(OWNER) {
            if let Some(owner_id) = r.fields.iter().find(|f| f.key == OWNER).map(|f| f.value.clone()) {
                let path = format!("/crm/v3/owners/{}", enc(&owner_id));
                let owner = self.call(false, reqwest::Method::GET, &path, None).await?;
                let name = [value_at(&owner, "firstName"), value_at(&owner, "lastName")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                let name = if name.is_empty() { value_at(&owner, "email").unwrap_or(owner_id) } else { name };
                extra.push((OWNER.into(), name));
            }
        }
        if wanted(COMPANIES) {
            let companies = self.associated(&r.id, "companies", &["name", "domain"]).await?;
            let names: Vec<String> = companies.iter().filter_map(|c| value_at(c, "/properties/name")).collect();
            if !names.is_empty() {
                extra.push((COMPANIES.into(), names.join(", ")));
            }
        }
        if wanted(OPEN_DEALS) {
            let deals = self.associated(&r.id, "deals", &["dealname", "amount", "dealstage", "hs_is_closed"]).await?;
            let open: Vec<String> = deals
                .iter()
                .filter(|d| deal_is_open(d))
                .map(|d| {
                    let name = value_at(d, "/properties/dealname").unwrap_or_else(|| "Deal".into());
                    match (value_at(d, "/properties/amount"), value_at(d, "/properties/dealstage")) {
                        (Some(a), Some(s)) => format!("{name} ({a}, {s})"),
                        (Some(a), None) => format!("{name} ({a})"),
                        (None, Some(s)) => format!("{name} ({s})"),
                        (None, None) => name,
                    }
                })
                .collect();
            extra.push((OPEN_DEALS.into(), if open.is_empty() { "None".into() } else { open.join("; ") }));
        }
        // Keep the configured order.
        let mut fields = Vec::new();
        for f in &self.fields {
            let computed = extra.iter().find(|(k, _)| *k == f.key).map(|(_, v)| v.clone());
            let value = match f.key.as_str() {
                OWNER | COMPANIES | OPEN_DEALS => computed,
                _ => r.fields.iter().find(|x| x.key == f.key).map(|x| x.value.clone()),
            };
            if let Some(value) = value {
                fields.push(CrmField { key: f.key.clone(), label: f.label.clone(), value });
            }
        }
        r.fields = fields;
        Ok(())
    }

    /// The objects of `kind` associated with contact `id` (every page), with `properties`.
    async fn associated(&self, id: &str, kind: &str, properties: &[&str]) -> Result<Vec<Value>, CrmError> {
        let mut ids: Vec<String> = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut path = format!("/crm/v4/objects/contacts/{}/associations/{kind}?limit=500", enc(id));
            if let Some(a) = &after {
                path.push_str(&format!("&after={}", enc(a)));
            }
            let links = self.call(false, reqwest::Method::GET, &path, None).await?;
            let page = links.get("results").and_then(Value::as_array).into_iter().flatten();
            ids.extend(page.filter_map(|l| value_at(l, "toObjectId")));
            after = value_at(&links, "/paging/next/after");
            if after.is_none() || ids.len() >= 10_000 {
                break;
            }
        }
        let mut out = Vec::new();
        // Batch reads take at most 100 ids.
        for chunk in ids.chunks(100) {
            let body = json!({
                "inputs": chunk.iter().map(|i| json!({"id": i})).collect::<Vec<_>>(),
                "properties": properties,
            });
            let path = format!("/crm/v3/objects/{kind}/batch/read");
            let read = self.call(false, reqwest::Method::POST, &path, Some(&body)).await?;
            out.extend(read.get("results").and_then(Value::as_array).cloned().unwrap_or_default());
        }
        Ok(out)
    }

    /// Logs the transcript as a note associated with the contact.
    pub async fn log_note(&self, contact_id: &str, t: &Transcript) -> Result<String, CrmError> {
        let body = json!({
            "properties": {
                "hs_timestamp": t.resolved_at.to_string(),
                "hs_note_body": note_body(t),
            },
            "associations": [{
                "to": {"id": contact_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}],
            }],
        });
        let created = self.call(false, reqwest::Method::POST, "/crm/v3/objects/notes", Some(&body)).await?;
        value_at(&created, "id").ok_or_else(|| CrmError::BadAnswer(NAME, "a created note without an id".into()))
    }

    /// The note holding this transcript's reference line, if the contact has one.
    pub async fn find_note(&self, contact_id: &str, t: &Transcript) -> Result<Option<String>, CrmError> {
        let notes = self.associated(contact_id, "notes", &["hs_note_body"]).await?;
        let line = t.reference_html();
        Ok(notes
            .iter()
            .find(|n| value_at(n, "/properties/hs_note_body").is_some_and(|b| b.ends_with(&line)))
            .and_then(|n| value_at(n, "id")))
    }
}

/// The note's HTML, within HubSpot's 65,536 characters: a long conversation keeps its
/// start and its reference line.
fn note_body(t: &Transcript) -> String {
    const MAX: usize = 65_000;
    let full = format!("<p><strong>{}</strong></p>{}", escape(&t.subject), t.html());
    if full.chars().count() <= MAX {
        return full;
    }
    let tail = format!("<p>(cut short)</p>{}", t.reference_html());
    let head: String = full.chars().take(MAX - tail.chars().count()).collect();
    // Never leave half a tag or entity.
    let head = head.rfind("</p>").map_or(head.as_str(), |i| &head[..i + 4]).to_owned();
    head + &tail
}

/// A deal is open until HubSpot marks it closed (won or lost).
pub fn deal_is_open(d: &Value) -> bool {
    match value_at(d, "/properties/hs_is_closed").as_deref() {
        Some("true") => false,
        Some(_) => true,
        None => !matches!(value_at(d, "/properties/dealstage").as_deref(), Some("closedwon" | "closedlost")),
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_deals() {
        let d = |props: Value| json!({"id": "1", "properties": props});
        assert!(deal_is_open(&d(json!({"hs_is_closed": "false", "dealstage": "contractsent"}))));
        assert!(!deal_is_open(&d(json!({"hs_is_closed": "true", "dealstage": "closedwon"}))));
        assert!(!deal_is_open(&d(json!({"dealstage": "closedlost"}))));
        assert!(deal_is_open(&d(json!({"dealstage": "appointmentscheduled"}))));
    }

    fn transcript(subject: &str, lines: Vec<String>) -> Transcript {
        Transcript {
            subject: subject.into(),
            lines,
            reference: "sb-7-42".into(),
            resolved_at: 0,
            link: "switchboard://conversation/7".into(),
        }
    }

    #[test]
    fn note_bodies_are_escaped_and_end_with_their_reference() {
        let t = transcript("Chat with A&B <Ltd>", vec!["Ana: is it <b>here</b>?".into()]);
        let body = note_body(&t);
        assert!(body.starts_with("<p><strong>Chat with A&amp;B &lt;Ltd&gt;</strong></p>"), "{body}");
        assert!(body.contains("Ana: is it &lt;b&gt;here&lt;/b&gt;?"), "{body}");
        assert!(body.ends_with(&t.reference_html()), "{body}");

        let long = transcript("Long", (0..2_000).map(|i| format!("Line {i}: {}", "x".repeat(40))).collect());
        let body = note_body(&long);
        assert!(body.chars().count() <= 65_000);
        assert!(body.contains("<p>(cut short)</p>"));
        assert!(body.ends_with(&long.reference_html()), "a cut note can still be found again");
        assert!(!body.contains("<p>Line 1999"), "the end is what is cut");
    }
}
