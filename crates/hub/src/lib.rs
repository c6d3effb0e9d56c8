//! The Switchboard hub: receives customer messages, keeps the conversations, and serves
//! agents' consoles an API and a change feed.
//!
//! # Layout
//! - [`store`]: the source of truth (SQLite or PostgreSQL) and the change feed.
//! - [`api`]: the HTTP and WebSocket agent API under `/api/v1`.
//! - [`auth`]: passwords, bearer tokens, login throttling.
//! - [`policy`]: who may see and do what (pure, table-tested).
//! - [`rules`]: how a conversation's state moves (pure, table-tested).
//! - [`address`]: customer address normalisation (phone numbers to E.164, emails).
//! - [`channels`]: provider webhooks in, the delivery worker out.
//! - [`crm`]: CRM lookups beside every thread, transcripts back into the CRM.
//! - [`outbound`]: the bounded HTTP client for calls to providers and CRMs.
//! - [`fanout`]: one feed reader per process, fanning changes out to open streams.
//! - [`config`]: settings from file, environment and flags.
//! - [`demo`]: a seeded workspace and a customer simulator.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod address;
pub mod api;
pub mod auth;
pub mod channels;
pub mod clock;
pub mod config;
pub mod crm;
pub mod crm_model;
pub mod demo;
pub mod fanout;
pub mod outbound;
pub mod policy;
pub mod rules;
pub mod server;
pub mod store;
pub mod workers;
