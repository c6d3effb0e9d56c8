//! The Switchboard hub: receives customer messages, keeps the conversations, and serves
//! agents' consoles an API and a change feed.
//!
//! # Layout
//! - [`server`]: a hub process at work: the HTTP edge and the background workers.
//! - [`api`]: the HTTP edge, every route: the agent API under `/api/v1`, the providers'
//!   webhooks, web chat's widget and visitor API.
//! - [`workers`]: background work (delivery, CRM, snooze wake, feed pruning), started and
//!   stopped in one place.
//! - [`store`]: the source of truth (SQLite or PostgreSQL) and the change feed.
//! - [`storage`]: the files the hub keeps (attachments), one per unguessable key, in a
//!   directory or an S3-compatible bucket.
//! - [`auth`]: passwords, bearer tokens, sessions and their expiry, logins.
//! - [`throttle`]: when failed logins lock (pure, table-tested).
//! - [`policy`]: who may see and do what (pure, table-tested).
//! - [`rules`]: how a conversation's state moves (pure, table-tested).
//! - [`routing`]: who gets which queued conversation, and when one goes back (pure,
//!   table-tested).
//! - [`calendar`]: business hours in an IANA time zone, and business-time arithmetic.
//! - [`sla`]: when response-time targets fall due, and where a conversation stands.
//! - [`csat`]: satisfaction surveys: whether to ask, and a reply read as a score.
//! - [`reports`]: the lead's reports: facts folded into days, days summed into a period.
//! - [`consent`]: whether a proactive message may go, as far as consent goes (pure).
//! - [`bot`]: the bot that answers first: its settings, what it does with each message and
//!   when it hands over, and the words of its lines (pure, table-tested).
//! - [`kb_files`]: the knowledge base as a folder of Markdown files, for import and export.
//! - [`campaign`]: campaigns' states, audience files, each recipient's turn and the
//!   sender's pace (pure, table-tested).
//! - [`address`]: customer address normalisation (phone numbers to E.164, emails).
//! - [`channels`]: each provider's wire format, signatures and send API; the delivery
//!   worker.
//! - [`crm`]: CRM lookups beside every thread, transcripts back into the CRM.
//! - [`crm_model`]: what the store keeps for the CRM (lookup keys, transcript lines).
//! - [`pg_tls`]: TLS to PostgreSQL as the URL's `sslmode` asks (the database, a CRM's SQL
//!   source).
//! - [`outbound`]: the bounded HTTP client for calls to providers and CRMs, and its retry
//!   pause.
//! - [`fanout`]: one feed reader per process, fanning changes out to open streams.
//! - [`visitor_fanout`]: web-chat lines routed to visitors' sockets by thread.
//! - [`consoles`]: the agents whose consoles hold a stream on this hub, recorded as seen
//!   together.
//! - [`config`]: settings from file, environment and flags.
//! - [`clock`]: the one reading of the system clock.
//! - [`metrics`]: what the hub reports to Prometheus, every metric named in one place.
//! - [`trace`]: each request's id, carried into the work it leaves, and the log's format.
//! - [`demo`]: a seeded workspace and a customer simulator.
//!
//! The arrows go one way. `demo` runs a `server`, which runs `api` and `workers`; these
//! use `channels`, `crm`, `auth`, `fanout`, `consoles` and `config`, and the `store` directly;
//! `channels` and `crm` call out through `outbound` and use the `store`; the `store` uses
//! only `crm_model`, `address`, `policy`, `rules`, `routing`, `sla`, `csat`, `reports`,
//! `consent`, `campaign`, `bot`, `calendar`, `throttle`, `storage` (its key rule), `pg_tls`,
//! `metrics`, `trace` and `clock`; `bot` uses only `calendar`, and `kb_files` nothing in the crate. `crates/testkit`'s layering
//! test keeps it so.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod address;
pub mod api;
pub mod auth;
pub mod bot;
pub mod calendar;
pub mod campaign;
pub mod channels;
pub mod clock;
pub mod config;
pub mod consent;
pub mod consoles;
pub mod crm;
pub mod crm_model;
pub mod csat;
pub mod demo;
pub mod fallback;
pub mod fanout;
pub mod kb_files;
pub mod metrics;
pub mod outbound;
pub mod pg_tls;
pub mod policy;
pub mod reports;
pub mod routing;
pub mod rules;
pub mod server;
pub mod sla;
pub mod storage;
pub mod store;
pub mod throttle;
pub mod trace;
pub mod visitor_fanout;
pub mod workers;
