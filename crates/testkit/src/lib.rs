//! Support for Switchboard's tests, never shipped with the product, shared by the test
//! suites of several crates instead of being included from one another's folders.
//!
//! # Layout
//! - [`baseline`]: what hub benchmarks print beside their figures (plain inserts, a bare
//!   handler, a bare broadcast), measured in the same run.
//! - [`chaos`]: the real hub binary on a private PostgreSQL server, killed again and again
//!   under a steady webhook load (the chaos test and benchmark).
//! - [`campaign_run`]: a campaign sent by the real hub binary (one hub or several, killed
//!   or not) to a Twilio stand-in that reports back (the kill test and the benchmark).
//! - [`hub_process`]: the real hub binary in its own process (set-up commands, `serve`).
//! - [`console_hub`]: a real hub on loopback with a seeded workspace, and consoles signed
//!   in to it (the console core's tests, the desktop's end-to-end test and benchmark).
//! - [`providers`]: stand-ins for the outside providers (Twilio, Meta, SMTP), speaking
//!   their documented wire formats.
//! - [`twilio`]: a customer's SMS as Twilio posts it, signed.
//! - [`bots`]: an external bot receiving the hub's signed webhook, and a model behind an
//!   OpenAI-compatible chat-completions endpoint.
//! - `desktop` (feature `desktop`): the real app under tauri-driver, and a notification
//!   daemon on the test's own session bus.
//! - [`layering`]: the check that no crate's modules import each other in a circle.
//! - [`pg_schema`]: a private PostgreSQL schema for one run of a test or benchmark.
//! - [`s3`]: a real S3-compatible server on loopback, for the hub's object storage.
//! - [`scale`]: three hub processes behind HAProxy on one PostgreSQL database, under load,
//!   one killed and one drained (the scale benchmark).
// Test support: a failed set-up step is a failed test, so it may panic; its handles hold
// clients and processes that need not print.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_debug_implementations)]

pub mod baseline;
pub mod bots;
pub mod campaign_run;
pub mod chaos;
pub mod console_hub;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod hub_process;
pub mod layering;
pub mod pg_schema;
pub mod providers;
pub mod s3;
pub mod scale;
pub mod twilio;
