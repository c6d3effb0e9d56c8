//! CRM settings as admins write and read them: what the hub refuses to store, secrets
//! masked on the way out, and masked values sent back keeping the stored secrets.

use super::{salesforce, CrmError};
use crate::outbound::origin;
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
pub fn keep_secrets(mut new: CrmSettings, stored: &CrmSettings) -> Result<CrmSettings, CrmError> {
    let masked_form = |v: &str| v.starts_with('…');
    let moved = || CrmError::Config("the CRM's address changed: enter its token again".into());
    let same_place = |a: &str, b: &str| origin(a).is_some() && origin(a) == origin(b);
    match (&mut new.connector, &stored.connector) {
        (
            CrmConnector::Hubspot { token, base_url, .. },
            CrmConnector::Hubspot { token: old, base_url: old_base, .. },
        )
        | (
            CrmConnector::Salesforce { token, instance_url: base_url, .. },
            CrmConnector::Salesforce { token: old, instance_url: old_base, .. },
        ) if masked_form(token) => {
            // A secret kept from before goes only where it went before.
            if !same_place(base_url, old_base) {
                return Err(moved());
            }
            token.clone_from(old);
        }
        (CrmConnector::Http { headers, url, .. }, CrmConnector::Http { headers: old, url: old_url, .. }) => {
            for (k, v) in headers.iter_mut() {
                if let Some(o) = old.get(k).filter(|_| masked_form(v)) {
                    if !same_place(url, old_url) {
                        return Err(moved());
                    }
                    v.clone_from(o);
                }
            }
        }
        (CrmConnector::Sql { url, .. }, CrmConnector::Sql { url: old, .. }) if *url == mask_url(old) => {
            url.clone_from(old);
        }
        _ => {}
    }
    Ok(new)
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
        assert_eq!(keep_secrets(m, &stored).unwrap(), stored, "settings sent back as read keep their secrets");
        assert_eq!(mask_url("postgres://db/crm?user=crm&password=p@ss"), "postgres://db/crm?user=crm&password=…");
        let token = settings(hub("pat-na1-0123456789"));
        assert_eq!(keep_secrets(masked(&token), &token).unwrap(), token);
        let changed = settings(hub("pat-na1-new-token-1"));
        assert_eq!(keep_secrets(changed.clone(), &token).unwrap(), changed, "a new token is taken as sent");
    }

    /// Finding: a masked CRM secret was kept when the admin changed the CRM's address, and
    /// then went to the new host.
    #[test]
    fn a_kept_secret_goes_only_where_it_went_before() {
        let hub = |base: &str, token: &str| CrmConnector::Hubspot {
            base_url: base.into(),
            token: token.into(),
            portal_id: None,
            app_url: "https://app.hubspot.com".into(),
            searches_per_second: 4.0,
        };
        let stored = settings(hub("https://api.hubapi.com", "pat-na1-0123456789"));
        let moved = settings(hub("https://attacker.example", "…6789"));
        assert!(keep_secrets(moved, &stored).is_err());
        let moved_port = settings(hub("https://api.hubapi.com:8443", "…6789"));
        assert!(keep_secrets(moved_port, &stored).is_err());
        let with_new_token = settings(hub("https://crm.example", "pat-new"));
        assert_eq!(keep_secrets(with_new_token.clone(), &stored).unwrap(), with_new_token);
        let same_host_new_path = settings(hub("https://api.hubapi.com/", "…6789"));
        assert!(keep_secrets(same_host_new_path, &stored).is_ok());

        let http = |url: &str, key: &str| CrmConnector::Http {
            url: url.into(),
            headers: [("Authorization".to_owned(), key.to_owned())].into_iter().collect(),
            records: RecordMapping::default(),
            requests_per_second: 5.0,
        };
        let stored = settings(http("https://crm.internal/c?email={email}", "Bearer s3cret-value"));
        assert!(keep_secrets(settings(http("https://evil.example/c?email={email}", "…alue")), &stored).is_err());
        let kept = keep_secrets(settings(http("https://crm.internal/v2?email={email}", "…alue")), &stored).unwrap();
        assert!(
            matches!(kept.connector, CrmConnector::Http { ref headers, .. } if headers["Authorization"] == "Bearer s3cret-value")
        );
    }
}
