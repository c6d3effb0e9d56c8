//! The demo company's customer file (a CSV, like a spreadsheet export), written beside the
//! demo database and connected as the workspace's CRM, so every customer has CRM fields.

use super::customers::{customer, NEW_CUSTOMERS};
use super::DemoError;
use crate::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The demo company's customer file: a CSV like the export of a spreadsheet or an
/// e-commerce back office, one row per customer, seeded and newcomers alike.
pub fn customer_file() -> String {
    const OWNERS: &[&str] = &["Maya Okafor", "Tomás Ruiz", "Priya Raman"];
    const HEALTH: &[&str] = &["Healthy", "Healthy", "Healthy", "Needs attention", "At risk"];
    let mut out = String::from("id,name,email,phone,plan,lifetime_value,account_owner,last_order,renewal,health\n");
    for i in (0..220).chain(NEW_CUSTOMERS) {
        let c = customer(i);
        let rng = &mut StdRng::seed_from_u64(0xc5_0000 + i as u64);
        let plan = c.profile.get("plan").map_or("Starter", String::as_str);
        let value = match plan {
            "Free" => 0,
            "Starter" => rng.random_range(80..600),
            "Pro" => rng.random_range(600..4_000),
            _ => rng.random_range(4_000..30_000),
        };
        let renewal = format!("2027-{:02}-{:02}", rng.random_range(1..13), rng.random_range(1..29));
        let row = [
            format!("NW-{:05}", 1_000 + i),
            c.name.clone(),
            c.email.clone(),
            c.phone.clone(),
            plan.to_owned(),
            format!("${value}"),
            OWNERS[i % OWNERS.len()].to_owned(),
            format!("#{} · {} days ago", rng.random_range(10_000..99_999), rng.random_range(1..90)),
            renewal,
            HEALTH[rng.random_range(0..HEALTH.len())].to_owned(),
        ];
        let quoted: Vec<String> = row
            .iter()
            .map(|f| if f.contains([',', '"']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.clone() })
            .collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

/// Writes the customer file (when it is not there yet) and connects the hub to it.
pub async fn connect_customer_file(store: &Store, path: &std::path::Path) -> Result<(), DemoError> {
    use switchboard_protocol::admin::{CrmConnector, CrmFieldSetting, CrmSettings, RecordMapping, TranscriptSettings};
    if !path.exists() {
        std::fs::write(path, customer_file()).map_err(|source| DemoError::File { path: path.to_owned(), source })?;
    }
    let f = |key: &str, label: &str| CrmFieldSetting { key: key.into(), label: label.into() };
    let settings = CrmSettings {
        connector: CrmConnector::Csv { path: path.display().to_string(), records: RecordMapping::default() },
        fields: vec![
            f("id", "Customer no."),
            f("plan", "Plan"),
            f("lifetime_value", "Lifetime value"),
            f("account_owner", "Account owner"),
            f("last_order", "Last order"),
            f("renewal", "Renews"),
            f("health", "Health"),
        ],
        ttl_secs: 3_600,
        timeout_ms: 5_000,
        transcripts: TranscriptSettings { enabled: false, include_notes: false },
    };
    Ok(store.put_crm_settings(settings).await?)
}
