//! Opening the demo workspace, as `switchboard-hub demo` and the embedded demo both do:
//! seeded on first use, its customer file connected; and why that can fail.

use super::customer_file::connect_customer_file;
use super::seed::{is_seeded, seed, SeedOptions, Seeded};
use crate::store::{Store, StoreError};

/// Why the demo workspace cannot open or start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The customer file or the database's folder cannot be written.
    #[error("{}: {}", .path.display(), .source)]
    File { path: std::path::PathBuf, source: std::io::Error },
    /// The loopback listener cannot be opened.
    #[error(transparent)]
    Listen(std::io::Error),
}

/// Opens the demo database, seeding it first if it is new, and connects its CRM: the
/// customer file beside the database. Returns the store and what was seeded (`None` when
/// it already was).
pub async fn open_seeded(config: &crate::config::Config) -> Result<(Store, Option<Seeded>), DemoError> {
    let store = Store::open(&config.database_url, &config.store_options())?;
    if store.crm_settings().await?.is_none() {
        let file = crate::store::sqlite::path_from_url(&config.database_url)
            .map(|db| db.with_extension("customers.csv"))
            .unwrap_or_else(|| std::path::PathBuf::from("switchboard-demo-customers.csv"));
        connect_customer_file(&store, &file).await?;
    }
    if is_seeded(&store).await? {
        return Ok((store, None));
    }
    let seeded = seed(&store, &SeedOptions::default()).await?;
    Ok((store, Some(seeded)))
}
