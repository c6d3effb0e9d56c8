//! Sources whose customer records are JSON objects or table rows: an in-house HTTP API
//! answering JSON, a CSV file with a header row, and read-only queries against the
//! business's own PostgreSQL. One mapping (see [`RecordMapping`]) names each record's id,
//! name, email, phone and link; the configured fields are pointers or column names.

use super::limiter::Limiter;
use super::{send_json, value_at, CrmError, PhoneKey, Record};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use switchboard_protocol::admin::{CrmFieldSetting, CrmSettings, RecordMapping};
use switchboard_protocol::model::CrmField;

/// What a record is looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Email,
    Phone,
}

#[derive(Debug, Clone)]
pub struct Source {
    kind: SourceKind,
    mapping: RecordMapping,
    fields: Vec<CrmFieldSetting>,
    timeout: Duration,
}

#[derive(Debug, Clone)]
enum SourceKind {
    Http { http: reqwest::Client, url: String, headers: BTreeMap<String, String>, pace: Arc<Limiter> },
    Csv { path: PathBuf, cache: Arc<Mutex<Option<CsvCache>>> },
    Sql { url: String, by_email: String, by_phone: String },
}

/// A CSV file's rows as last read, with the modification time and size they were read at.
#[derive(Debug)]
struct CsvCache {
    stamp: (SystemTime, u64),
    rows: Arc<Vec<CsvRow>>,
}

/// A CSV row with its phone number ready to compare, worked out when the file is read.
#[derive(Debug)]
struct CsvRow {
    value: Value,
    phone: Option<PhoneKey>,
}

/// The address a CSV row is looked for by, ready to compare.
enum Wanted {
    Email(String),
    Phone(PhoneKey),
}

impl Wanted {
    fn new(by: By, address: &str) -> Wanted {
        match by {
            By::Email => Wanted::Email(address.trim().to_owned()),
            By::Phone => Wanted::Phone(PhoneKey::of(address)),
        }
    }
}

impl Source {
    pub fn http(
        http: reqwest::Client,
        url: &str,
        headers: &BTreeMap<String, String>,
        mapping: &RecordMapping,
        s: &CrmSettings,
        pace: Arc<Limiter>,
    ) -> Source {
        Source {
            kind: SourceKind::Http { http, url: url.to_owned(), headers: headers.clone(), pace },
            mapping: mapping.clone(),
            fields: s.fields.clone(),
            timeout: Duration::from_millis(s.timeout_ms),
        }
    }

    pub fn csv(path: &str, mapping: &RecordMapping, s: &CrmSettings) -> Source {
        Source {
            kind: SourceKind::Csv { path: PathBuf::from(path), cache: Arc::new(Mutex::new(None)) },
            mapping: mapping.clone(),
            fields: s.fields.clone(),
            timeout: Duration::from_millis(s.timeout_ms),
        }
    }

    pub fn sql(url: &str, by_email: &str, by_phone: &str, mapping: &RecordMapping, s: &CrmSettings) -> Source {
        Source {
            kind: SourceKind::Sql { url: url.to_owned(), by_email: by_email.to_owned(), by_phone: by_phone.to_owned() },
            mapping: mapping.clone(),
            fields: s.fields.clone(),
            timeout: Duration::from_millis(s.timeout_ms),
        }
    }

    fn name(&self) -> &'static str {
        match self.kind {
            SourceKind::Http { .. } => "The customer API",
            SourceKind::Csv { .. } => "The customer file",
            SourceKind::Sql { .. } => "The customer database",
        }
    }

    /// The records whose email (or phone) is `address`.
    pub async fn find(&self, by: By, address: &str) -> Result<Vec<Record>, CrmError> {
        let rows = match &self.kind {
            SourceKind::Http { http, url, headers, pace } => {
                let (used, other) = if by == By::Email { ("{email}", "{phone}") } else { ("{phone}", "{email}") };
                if !url.contains(used) {
                    return Ok(Vec::new());
                }
                let encoded: String = form_urlencoded::byte_serialize(address.as_bytes()).collect();
                // A URL that takes both leaves the other one empty.
                let url = url.replace(used, &encoded).replace(other, "");
                let timeout_ms = u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX);
                let answer = send_json(self.name(), pace, timeout_ms, || {
                    headers.iter().fold(http.get(&url), |r, (k, v)| r.header(k.as_str(), v.as_str()))
                })
                .await;
                match answer {
                    Ok(v) => self.list(v)?,
                    // "No such customer" from an API that answers one record per address.
                    Err(CrmError::Refused(_, m)) if m.starts_with("404") => Vec::new(),
                    Err(e) => return Err(e),
                }
            }
            SourceKind::Csv { path, cache } => {
                let rows = self.read_csv(path, cache).await.map_err(|e| CrmError::Config(e.to_string()))?;
                let wanted = Wanted::new(by, address);
                rows.iter().filter(|r| self.matches(r, &wanted)).map(|r| r.value.clone()).collect()
            }
            SourceKind::Sql { url, by_email, by_phone } => {
                let query = if by == By::Email { by_email } else { by_phone }.clone();
                let (url, address, timeout) = (url.clone(), address.to_owned(), self.timeout);
                tokio::task::spawn_blocking(move || query_rows(&url, &query, &address, timeout))
                    .await
                    .map_err(|e| CrmError::Config(e.to_string()))??
            }
        };
        rows.iter().take(10).map(|r| self.record(r)).collect()
    }

    fn list(&self, answer: Value) -> Result<Vec<Value>, CrmError> {
        let at = match &self.mapping.list {
            Some(p) => {
                let p = if p.starts_with('/') { p.clone() } else { format!("/{p}") };
                answer.pointer(&p).cloned().unwrap_or(Value::Null)
            }
            None => answer,
        };
        match at {
            Value::Array(items) => Ok(items),
            Value::Null => Ok(Vec::new()),
            v @ Value::Object(_) => Ok(vec![v]),
            _ => Err(CrmError::BadAnswer(self.name(), "neither a record nor a list of records".into())),
        }
    }

    fn matches(&self, row: &CsvRow, wanted: &Wanted) -> bool {
        match wanted {
            Wanted::Email(e) => {
                value_at(&row.value, &self.mapping.email).is_some_and(|v| v.trim().eq_ignore_ascii_case(e))
            }
            Wanted::Phone(k) => row.phone.as_ref().is_some_and(|p| p.matches(k)),
        }
    }

    /// The file's rows, each with its phone number keyed, read again when the file changes.
    async fn read_csv(
        &self,
        path: &PathBuf,
        cache: &Mutex<Option<CsvCache>>,
    ) -> Result<Arc<Vec<CsvRow>>, CsvFileError> {
        let unreadable = |source| CsvFileError::Read { path: path.clone(), source };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        let stamp = (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len());
        if let Some(c) = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).as_ref() {
            if c.stamp == stamp {
                return Ok(c.rows.clone());
            }
        }
        let owned = path.clone();
        let bytes = tokio::task::spawn_blocking(move || std::fs::read(&owned)).await?.map_err(unreadable)?;
        let rows = Arc::new(
            self.keyed(parse_csv(&bytes).map_err(|source| CsvFileError::Invalid { path: path.clone(), source })?),
        );
        *cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(CsvCache { stamp, rows: rows.clone() });
        Ok(rows)
    }

    fn keyed(&self, rows: Vec<Value>) -> Vec<CsvRow> {
        rows.into_iter()
            .map(|value| CsvRow { phone: value_at(&value, &self.mapping.phone).map(|p| PhoneKey::of(&p)), value })
            .collect()
    }

    fn record(&self, v: &Value) -> Result<Record, CrmError> {
        let m = &self.mapping;
        let email = value_at(v, &m.email);
        let id = value_at(v, &m.id)
            .or_else(|| email.clone())
            .ok_or_else(|| CrmError::BadAnswer(self.name(), format!("a record without `{}`", m.id)))?;
        let fields = if self.fields.is_empty() {
            // Everything but what names the record, under its own name.
            let known = [&m.id, &m.name, &m.email, &m.phone];
            v.as_object()
                .map(|o| {
                    o.keys()
                        .filter(|k| !known.iter().any(|n| n.trim_start_matches('/') == k.as_str()))
                        .filter_map(|k| {
                            value_at(v, k).map(|value| CrmField { key: k.clone(), label: k.clone(), value })
                        })
                        .collect()
                })
                .unwrap_or_default()
        } else {
            self.fields
                .iter()
                .filter_map(|f| {
                    value_at(v, &f.key).map(|value| CrmField { key: f.key.clone(), label: f.label.clone(), value })
                })
                .collect()
        };
        Ok(Record {
            name: value_at(v, &m.name).or_else(|| email.clone()).unwrap_or_else(|| id.clone()),
            emails: email.into_iter().collect(),
            phones: value_at(v, &m.phone).into_iter().collect(),
            fields,
            link: m
                .link
                .as_ref()
                .map(|t| t.replace("{id}", &form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>())),
            id,
        })
    }
}

/// Why CSV text cannot be read as records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    #[error(transparent)]
    Header(csv::Error),
    /// `row` counts lines from 1, the header being row 1.
    #[error("row {row}: {source}")]
    Row { row: usize, source: csv::Error },
}

/// Why the configured customer file cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvFileError {
    #[error("cannot read {}: {}", .path.display(), .source)]
    Read { path: PathBuf, source: std::io::Error },
    /// The blocking read did not finish (the runtime is shutting down).
    #[error(transparent)]
    Interrupted(#[from] tokio::task::JoinError),
    #[error("{}: {}", .path.display(), .source)]
    Invalid { path: PathBuf, source: CsvError },
}

/// CSV with a header row to JSON objects; empty cells are left out.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<Value>, CsvError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(bytes);
    let headers = reader.headers().map_err(CsvError::Header)?.clone();
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|source| CsvError::Row { row: i + 2, source })?;
        let mut row = Map::new();
        for (h, cell) in headers.iter().zip(rec.iter()) {
            if !cell.is_empty() {
                row.insert(h.to_owned(), Value::String(cell.to_owned()));
            }
        }
        rows.push(Value::Object(row));
    }
    Ok(rows)
}

/// Runs an admin's query read-only, each row as a JSON object.
fn query_rows(url: &str, query: &str, address: &str, timeout: Duration) -> Result<Vec<Value>, CrmError> {
    const NAME: &str = "The customer database";
    let (mut config, tls) =
        crate::pg_tls::prepare(url).map_err(|e| CrmError::Config(format!("the SQL source's URL: {e}")))?;
    config.connect_timeout(timeout);
    let mut client = config.connect(tls).map_err(|e| CrmError::Unavailable(NAME, e.to_string()))?;
    let mut tx =
        client.build_transaction().read_only(true).start().map_err(|e| CrmError::Unavailable(NAME, e.to_string()))?;
    tx.batch_execute(&format!("SET LOCAL statement_timeout = {}", timeout.as_millis().max(1)))
        .map_err(|e| CrmError::Unavailable(NAME, e.to_string()))?;
    // A trailing `;` or `-- comment` must not swallow the wrapper.
    let query = query.trim().trim_end_matches(';');
    let sql = format!("SELECT to_jsonb(q)::text FROM (\n{query}\n) AS q LIMIT 10");
    let rows = tx.query(sql.as_str(), &[&address]).map_err(|e| {
        let msg = e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned());
        if e.code() == Some(&postgres::error::SqlState::QUERY_CANCELED) {
            CrmError::Timeout(NAME, u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
        } else if e.as_db_error().is_some() {
            CrmError::Refused(NAME, msg)
        } else {
            CrmError::Unavailable(NAME, msg)
        }
    })?;
    let out = rows
        .iter()
        .map(|r| {
            let text: String = r.try_get(0).map_err(|e| CrmError::BadAnswer(NAME, e.to_string()))?;
            serde_json::from_str(&text).map_err(|e| CrmError::BadAnswer(NAME, e.to_string()))
        })
        .collect();
    let _ = tx.rollback();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::admin::{CrmConnector, TranscriptSettings};

    fn source(fields: &[(&str, &str)], mapping: RecordMapping) -> Source {
        let s = CrmSettings {
            connector: CrmConnector::Csv { path: String::new(), records: mapping.clone() },
            fields: fields.iter().map(|(k, l)| CrmFieldSetting { key: (*k).into(), label: (*l).into() }).collect(),
            ttl_secs: 60,
            timeout_ms: 1_000,
            transcripts: TranscriptSettings::default(),
        };
        Source::csv("unused.csv", &mapping, &s)
    }

    #[test]
    fn csv_rows_become_records() {
        let rows = parse_csv(b"id,name,email,phone,plan,owner\n7,Ben Okafor,Ben@Example.com,(415) 555-0123,Pro,Maya\n8,Ana Silva,ana@example.com,,,\n").unwrap();
        assert_eq!(rows.len(), 2);
        let mapping =
            RecordMapping { link: Some("https://crm.example/customers/{id}".into()), ..RecordMapping::default() };
        let s = source(&[("plan", "Plan"), ("owner", "Account owner")], mapping);
        let keyed = s.keyed(rows.clone());
        assert!(s.matches(&keyed[0], &Wanted::new(By::Email, "ben@example.com")));
        assert!(s.matches(&keyed[0], &Wanted::new(By::Phone, "+14155550123")));
        assert!(!s.matches(&keyed[1], &Wanted::new(By::Phone, "+14155550123")), "an empty cell matches nothing");
        assert!(!s.matches(&keyed[1], &Wanted::new(By::Email, "ben@example.com")));
        let r = s.record(&rows[0]).unwrap();
        assert_eq!((r.id.as_str(), r.name.as_str()), ("7", "Ben Okafor"));
        assert_eq!(r.link.as_deref(), Some("https://crm.example/customers/7"));
        let labels: Vec<(&str, &str)> = r.fields.iter().map(|f| (f.label.as_str(), f.value.as_str())).collect();
        assert_eq!(labels, [("Plan", "Pro"), ("Account owner", "Maya")]);
        assert!(s.record(&rows[1]).unwrap().fields.is_empty(), "absent values are left out");
    }

    #[test]
    fn without_configured_fields_every_other_column_shows() {
        let rows = parse_csv(b"id,name,email,phone,plan\n7,Ben,ben@example.com,+14155550123,Pro\n").unwrap();
        let r = source(&[], RecordMapping::default()).record(&rows[0]).unwrap();
        assert_eq!(r.fields, [CrmField { key: "plan".into(), label: "plan".into(), value: "Pro".into() }]);
    }

    #[test]
    fn answers_are_one_record_or_a_list() {
        let s = source(&[], RecordMapping { list: Some("data/customers".into()), ..RecordMapping::default() });
        let v = serde_json::json!({"data": {"customers": [{"id": 1}, {"id": 2}]}});
        assert_eq!(s.list(v).unwrap().len(), 2);
        let one = source(&[], RecordMapping::default());
        assert_eq!(one.list(serde_json::json!({"id": 1})).unwrap().len(), 1);
        assert!(one.list(serde_json::json!("text")).is_err());
    }

    #[test]
    fn bad_csv_is_an_error() {
        assert!(parse_csv(&[0xff, 0xfe, b'\n', 0xff]).is_err(), "not UTF-8");
    }
}
