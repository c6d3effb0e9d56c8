//! The fields agents see beside a thread: the defaults when an admin chose none, and how a
//! field path reads a value out of a CRM's JSON.

use switchboard_protocol::admin::{CrmConnector, CrmFieldSetting};

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
}
