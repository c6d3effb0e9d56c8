//! CRM settings as admins write and read them: what the hub refuses to store, secrets
//! masked on the way out, and masked values sent back keeping the stored secrets.

use super::{salesforce, CrmError};
use switchboard_protocol::admin::{CrmConnector, CrmSettings};

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
    let rate_ok = |r: f64| super::limiter::RATES.contains(&r);
    match &s.connector {
        CrmConnector::Hubspot { base_url, token, app_url, searches_per_second, .. } => {
            if !url_ok(base_url) || !url_ok(app_url) {
                return bad("HubSpot's base_url and app_url must be http(s) URLs".into());
            }
            if token.trim().is_empty() {
                return bad("HubSpot needs a private app's access token".into());
            }
            if !rate_ok(*searches_per_second) {
                return bad(format!(
                    "searches_per_second must be from {} to {}",
                    super::limiter::RATES.start(),
                    super::limiter::RATES.end()
                ));
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
                return bad(format!(
                    "requests_per_second must be from {} to {}",
                    super::limiter::RATES.start(),
                    super::limiter::RATES.end()
                ));
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
                return bad(format!(
                    "requests_per_second must be from {} to {}",
                    super::limiter::RATES.start(),
                    super::limiter::RATES.end()
                ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::admin::{CrmFieldSetting, RecordMapping, TranscriptSettings};

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
