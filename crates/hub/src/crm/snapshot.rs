//! What a lookup leaves on the contact (the fields agents see, or why there are none), and
//! when a contact's fields are due to be fetched again.

use super::{CrmError, Found};
use switchboard_protocol::model::{CrmCandidate, CrmSnapshot};
use switchboard_protocol::Timestamp;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::lookup::tests::rec;
    use crate::crm::Record;
    use switchboard_protocol::model::CrmField;

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
}
