//! Salesforce over its REST API with an OAuth access token: SOQL on Contact by email, SOSL
//! over phone fields, the Account's and Owner's names through relationship fields, and
//! transcripts logged as completed Tasks on the contact.

use super::limiter::Limiter;
use super::transcript::{date, Transcript};
use super::{send_json, value_at, CrmError, Record};
use serde_json::{json, Value};
use std::sync::Arc;
use switchboard_protocol::admin::CrmFieldSetting;
use switchboard_protocol::model::CrmField;

const NAME: &str = "Salesforce";
const BASE_FIELDS: &[&str] = &["Id", "Name", "Email", "Phone", "MobilePhone"];

#[derive(Debug, Clone)]
pub struct Salesforce {
    pub http: reqwest::Client,
    pub instance: String,
    pub token: String,
    pub version: String,
    pub fields: Vec<CrmFieldSetting>,
    pub pace: Arc<Limiter>,
    pub timeout_ms: u64,
}

/// A string as a SOQL literal's contents.
pub fn soql_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\'' | '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out
}

/// A search term inside SOSL's `FIND {...}`, its reserved characters escaped.
pub fn sosl_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "?&|!{}[]()^~*:\\\"'+-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The digits SOSL searches a number by.
pub fn phone_digits(e164: &str) -> String {
    let digits: String = e164.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix('1') {
        Some(national) if digits.len() == 11 => national.to_owned(),
        _ => digits,
    }
}

/// Whether `f` may be put in a query as a field path (`Title`, `Account.Name`).
pub fn is_field_path(f: &str) -> bool {
    !f.is_empty()
        && f.split('.').all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

impl Salesforce {
    fn select_list(&self) -> String {
        let mut cols: Vec<&str> = BASE_FIELDS.to_vec();
        for f in &self.fields {
            if !cols.iter().any(|c| c.eq_ignore_ascii_case(&f.key)) {
                cols.push(&f.key);
            }
        }
        cols.join(", ")
    }

    async fn get(&self, path: &str, q: &str) -> Result<Value, CrmError> {
        let url = format!("{}/services/data/{}{path}", self.instance, self.version);
        send_json(NAME, &self.pace, self.timeout_ms, || self.http.get(&url).query(&[("q", q)]).bearer_auth(&self.token))
            .await
    }

    /// SOQL: contacts with this email.
    pub async fn by_email(&self, email: &str) -> Result<Vec<Record>, CrmError> {
        let q = format!(
            "SELECT {} FROM Contact WHERE Email = '{}' ORDER BY LastModifiedDate DESC LIMIT 10",
            self.select_list(),
            soql_escape(email)
        );
        let answer = self.get("/query", &q).await?;
        self.records(answer.get("records"))
    }

    /// SOSL: contacts with this number in any phone field. Salesforce keeps numbers as
    /// typed, so the search is by the number's digits (without a North American `1`), which
    /// matches `(415) 555-0123` as well as `+1 415 555 0123`.
    pub async fn by_phone(&self, phone: &str) -> Result<Vec<Record>, CrmError> {
        let q = format!(
            "FIND {{{}}} IN PHONE FIELDS RETURNING Contact({} ORDER BY LastModifiedDate DESC LIMIT 10)",
            sosl_escape(&phone_digits(phone)),
            self.select_list()
        );
        let answer = self.get("/search", &q).await?;
        self.records(answer.get("searchRecords"))
    }

    fn records(&self, list: Option<&Value>) -> Result<Vec<Record>, CrmError> {
        let list = list
            .and_then(Value::as_array)
            .ok_or_else(|| CrmError::BadAnswer(NAME, "an answer without its list of records".into()))?;
        list.iter()
            .map(|r| {
                let id = value_at(r, "Id").ok_or_else(|| CrmError::BadAnswer(NAME, "a record without an Id".into()))?;
                let fields = self
                    .fields
                    .iter()
                    .filter_map(|f| {
                        value_at(r, &f.key).map(|value| CrmField { key: f.key.clone(), label: f.label.clone(), value })
                    })
                    .collect();
                Ok(Record {
                    name: value_at(r, "Name").unwrap_or_else(|| id.clone()),
                    emails: value_at(r, "Email").into_iter().collect(),
                    phones: [value_at(r, "Phone"), value_at(r, "MobilePhone")].into_iter().flatten().collect(),
                    fields,
                    link: Some(format!("{}/lightning/r/Contact/{id}/view", self.instance)),
                    id,
                })
            })
            .collect()
    }

    /// Logs the transcript as a completed Task on the contact.
    pub async fn log_task(&self, contact_id: &str, t: &Transcript) -> Result<String, CrmError> {
        let url = format!("{}/services/data/{}/sobjects/Task/", self.instance, self.version);
        let body = json!({
            "Subject": t.subject.chars().take(255).collect::<String>(),
            "Description": t.text().chars().take(32_000).collect::<String>(),
            "WhoId": contact_id,
            "Status": "Completed",
            "Priority": "Normal",
            "ActivityDate": date(t.resolved_at),
        });
        let created =
            send_json(NAME, &self.pace, self.timeout_ms, || self.http.post(&url).bearer_auth(&self.token).json(&body))
                .await?;
        if created.get("success").and_then(Value::as_bool) == Some(false) {
            return Err(CrmError::Refused(NAME, created.get("errors").map(Value::to_string).unwrap_or_default()));
        }
        value_at(&created, "id").ok_or_else(|| CrmError::BadAnswer(NAME, "a created Task without an id".into()))
    }

    /// The Task holding this transcript, if the contact has one.
    pub async fn find_task(&self, contact_id: &str, t: &Transcript) -> Result<Option<String>, CrmError> {
        let q = format!(
            "SELECT Id FROM Task WHERE WhoId = '{}' AND Subject = '{}' LIMIT 1",
            soql_escape(contact_id),
            soql_escape(&t.subject.chars().take(255).collect::<String>())
        );
        let answer = self.get("/query", &q).await?;
        Ok(answer.get("records").and_then(Value::as_array).and_then(|r| r.first()).and_then(|r| value_at(r, "Id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(soql_escape("o'brien@example.com"), "o\\'brien@example.com");
        assert_eq!(soql_escape("a\\b\"c"), "a\\\\b\\\"c");
        assert_eq!(sosl_escape("+14155550123"), "\\+14155550123");
        assert_eq!(sosl_escape("a-b}c"), "a\\-b\\}c");
        assert_eq!(phone_digits("+14155550123"), "4155550123");
        assert_eq!(phone_digits("+442079460958"), "442079460958");
    }

    #[test]
    fn field_paths() {
        for (f, ok) in [
            ("Title", true),
            ("Account.Name", true),
            ("Custom_Field__c", true),
            ("Name FROM User", false),
            ("Id,Name", false),
            ("", false),
            (".Name", false),
            ("1Field", false),
        ] {
            assert_eq!(is_field_path(f), ok, "{f}");
        }
    }
}
