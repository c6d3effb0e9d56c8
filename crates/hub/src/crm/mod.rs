//! CRM connectors: looking customers up in the business's CRM so agents see who they are,
//! and logging resolved conversations' transcripts back on the CRM contact.
//!
//! The hub holds the CRM's credentials; consoles only ever see the fields, cached on the
//! contact with when they were fetched and synced down like any other change.
//!
//! # Layout
//! - [`hubspot`], [`salesforce`]: the two CRMs, over their documented REST APIs.
//! - [`records`]: sources whose records are JSON or rows: an in-house HTTP API, a CSV file,
//!   a read-only PostgreSQL query.
//! - [`limiter`]: one pace per connector, and the pause a 429's Retry-After asks for.
//! - [`transcript`]: a resolved conversation as the text logged on the contact.
//! - [`worker`]: the background loop that runs lookups and logs transcripts.
//! - [`client`]: [`Crm`], the configured connector behind one face.
//! - [`lookup`]: what a lookup searches by; matching and ranking the records found.
//! - [`snapshot`]: what a lookup leaves on the contact, and when to look again.
//! - [`fields`]: default fields, and reading a field path out of a CRM's JSON.
//! - [`settings`]: validating CRM settings, masking their secrets, keeping them on save.
//! - [`request`]: one paced request to a CRM, its status mapped to a [`CrmError`].
//! - [`error`]: why a CRM call failed ([`CrmError`]).

pub mod client;
pub mod error;
pub mod fields;
pub mod hubspot;
pub mod limiter;
pub mod lookup;
pub mod records;
pub mod request;
pub mod salesforce;
pub mod settings;
pub mod snapshot;
pub mod transcript;
pub mod worker;

pub use client::Crm;
pub use error::CrmError;
pub use fields::{default_fields, value_at};
pub use lookup::{closeness, rank, same_phone, Found, Lookup, PhoneKey, Record};
pub(crate) use request::send_json;
pub use settings::{keep_secrets, masked, validate};
pub use snapshot::{is_stale, snapshot};
