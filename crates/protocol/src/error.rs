//! The `{code, message}` error body and its closed set of codes.
//!
//! Consumers act on `code`; `message` is for people and may change at any time.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What went wrong, in a form a program can act on. The set is closed: a code is added
/// only when a consumer does something different because of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed: bad JSON, a missing or invalid field, a bad id.
    BadRequest,
    /// A sync cursor or history token that the hub did not issue.
    BadCursor,
    /// The cursor is older than the change feed's retention: bootstrap again.
    CursorExpired,
    /// No valid bearer token.
    Unauthorized,
    /// Wrong email or password.
    InvalidCredentials,
    /// The caller's role or teams do not allow this.
    Forbidden,
    /// The thing named does not exist (or is outside the caller's scope).
    NotFound,
    /// `expected_version` did not match: someone else changed it first.
    Conflict,
    /// The request body is larger than the hub accepts.
    PayloadTooLarge,
    /// Too many attempts; wait `retry_after` seconds.
    RateLimited,
    /// The provider's customer-care window (24 h after the customer's last message) has
    /// closed: only an approved template can be sent.
    ReplyWindowClosed,
    /// The customer opted out of messages on this channel (for example with STOP).
    OptedOut,
    /// The business requires recorded consent for this purpose on this inbox, and the
    /// customer has not given it (or withdrew it).
    NoConsent,
    /// The console is older than the hub accepts: update it before it syncs again.
    UpgradeRequired,
    /// The hub could not reach its database or another dependency; retry later.
    Unavailable,
    /// A fault in the hub; the detail is in its log.
    Internal,
}

impl ErrorCode {
    /// The HTTP status the hub answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::BadCursor => 400,
            ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::CursorExpired => 410,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UpgradeRequired => 426,
            ErrorCode::RateLimited => 429,
            ErrorCode::ReplyWindowClosed | ErrorCode::OptedOut | ErrorCode::NoConsent => 422,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::BadCursor => "bad_cursor",
            ErrorCode::CursorExpired => "cursor_expired",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::ReplyWindowClosed => "reply_window_closed",
            ErrorCode::OptedOut => "opted_out",
            ErrorCode::NoConsent => "no_consent",
            ErrorCode::UpgradeRequired => "upgrade_required",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error answer, and of every rejected mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds to wait before trying again (with `rate_limited`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), retry_after: None }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
