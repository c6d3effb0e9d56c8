//! Wire types of the Switchboard v1 API, shared by the hub and the console.
//!
//! Every request, response, change frame and error code that crosses the network is
//! defined here and nowhere else. The crate has no behaviour beyond (de)serialisation and
//! a few total conversions; `docs/protocol.md` is the prose reference for the same types.
//!
//! Feature `ts` derives the console's TypeScript declarations; feature `openapi` derives
//! `utoipa::ToSchema` for every wire type, for the hub's OpenAPI description. `Id` and
//! `Timestamp` fields name their type for it (`schema(value_type = i64)`): the derive sees
//! the alias's name, not the type behind it.
//!
//! # Layout
//! - [`model`]: the entities (agents, teams, inboxes, contacts, conversations, messages).
//! - [`sync`]: bootstrap snapshot, change pages, stream frames, cursors.
//! - [`mutation`]: the mutation batch agents send and the per-mutation outcomes.
//! - [`auth`]: login and logout.
//! - [`admin`]: managing agents, teams and inboxes.
//! - [`articles`]: knowledge-base articles and the rules for their words, files and text.
//! - [`bot`]: bots that answer first, their webhook and answers, and why they hand off.
//! - [`campaign`]: campaigns, their audiences, progress and results, and saved segments.
//! - [`consent`]: what each customer agreed to be sent, per address and purpose.
//! - [`console`]: what the console's core hands its front end (views, threads, search).
//! - [`links`]: `switchboard://` links that open the console at a conversation.
//! - [`notify`]: the notifications API business systems send through, and its keys.
//! - [`preferences`]: an agent's own notification preferences.
//! - [`report`]: the lead's reports and how the console hands a cached one over.
//! - [`visitor`]: the web-chat widget's and in-app chat's API for customers.
//! - [`error`]: the closed set of error codes and the `{code, message}` body.
//! - [`version`]: the console's version as it tells the hub, and how versions compare.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admin;
pub mod articles;
pub mod auth;
pub mod bot;
pub mod campaign;
pub mod choices;
pub mod consent;
pub mod console;
pub mod error;
pub mod files;
pub mod links;
pub mod model;
pub mod mutation;
pub mod notify;
pub mod preferences;
pub mod report;
pub mod sync;
pub mod text;
pub mod version;
pub mod visitor;

pub use error::{ApiError, ErrorCode};

/// Milliseconds since the Unix epoch, UTC. Every timestamp on the wire uses it.
pub type Timestamp = i64;

/// Identifiers are positive integers assigned by the hub.
pub type Id = i64;

/// The longest message body (customer message, reply or note) the hub stores: 64 KiB.
pub const MAX_BODY: usize = 64 * 1024;
