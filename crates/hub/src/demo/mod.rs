//! The demo workspace: a seeded company with customers across every channel, four months
//! of conversations, agents whose credentials are printed, and a customer simulator that keeps
//! writing through the same ingest path real channels use.
//!
//! # Layout
//! - [`customers`]: the made-up customers and what they write about.
//! - [`seed`]: the logins, and seeding a workspace with a month of conversations.
//! - [`campaigns`]: a sent campaign with its results, some customers having opted out.
//! - [`history`]: the quarter before that month, short conversations and agents' shifts.
//! - [`simulator`]: a customer writing every few seconds.
//! - [`customer_file`]: the customer file connected as the workspace's CRM.
//! - [`workspace`]: opening the workspace (seeded on first use) for the CLI and the app.
//! - [`embedded`]: the demo hub served inside the desktop app.

pub mod articles;
mod bot;
mod campaigns;
pub mod customer_file;
mod customers;
pub mod embedded;
mod history;
pub mod seed;
pub mod simulator;
pub mod workspace;

/// Where Northwind works: its opening hours and its reports' days are Lisbon's.
pub const TIME_ZONE: &str = "Europe/Lisbon";

pub use customer_file::{connect_customer_file, customer_file};
pub use embedded::EmbeddedDemo;
pub use seed::{is_seeded, logins, seed, DemoLogin, SeedOptions, Seeded};
pub use simulator::simulate;
pub use workspace::{open_seeded, DemoError};
