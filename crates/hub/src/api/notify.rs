//! The notifications API a business system calls with its API key
//! (`Authorization: Bearer sbk_<id>_<secret>`, never an agent's token): one customer, one
//! approved template or text, idempotent by the caller's key, at most a steady rate per key.
//! What may be sent is the store's to say, as for agents' first messages.

use super::limits::Shared;
use super::{bearer, AppState, Body, Failure};
use crate::store::api_keys::KeyHolder;
use crate::throttle::Rate;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use switchboard_protocol::notify::{KeyScope, Notified, Notify};
use switchboard_protocol::{ApiError, ErrorCode};

/// Each key's sends: a burst, then a steady rate.
pub const PER_KEY: Rate = Rate { burst: 100.0, per_sec: 20.0 };
/// The largest notification body.
pub const BODY_BYTES: usize = 160 * 1024;

/// Each key's bucket.
pub type Limits = Shared<i64>;

pub fn limits() -> Limits {
    Shared::new("notify", PER_KEY, 10_000)
}

/// A caller holding a valid API key.
#[derive(Debug)]
pub struct KeyCaller(pub KeyHolder);

impl FromRequestParts<AppState> for KeyCaller {
    type Rejection = Failure;

    fn from_request_parts(parts: &mut Parts, state: &AppState) -> impl Future<Output = Result<Self, Failure>> + Send {
        let token = bearer(parts).map(str::to_owned);
        let store = state.store.clone();
        async move {
            let token = token.ok_or_else(|| {
                Failure(ApiError::new(ErrorCode::Unauthorized, "send `Authorization: Bearer <API key>`"))
            })?;
            Ok(KeyCaller(crate::auth::api_key(&store, &token).await?))
        }
    }
}

/// `POST /api/v1/notify`: `201` with what the notification made, `200` when the same
/// `idempotency_key` was sent before.
#[utoipa::path(
    post,
    path = "/api/v1/notify",
    tag = "business",
    operation_id = "notify",
    summary = "Send a customer a notification",
    description = "A business system's message to one customer, by phone number or email address: an approved \
        template of the inbox, or a text where free text may go. It follows every rule of an agent's first \
        message, and starts a pending conversation the customer's answer reopens. Idempotent by the caller's \
        `idempotency_key`. Needs a key of the `notify` scope that may use the inbox.",
    request_body = Notify,
    responses(
        (status = 201, description = "Sent: the conversation and message it made", body = Notified),
        (status = 200, description = "Sent before with the same `idempotency_key`; nothing more was sent",
            body = Notified),
        (status = 400, description = "A missing, unknown or invalid field (`bad_request`)", body = ApiError),
        (status = 401, description = "No key, or an unknown or revoked one (`unauthorized`)", body = ApiError),
        (status = 403, description = "A key of the `bot` scope, or an inbox the key may not use (`forbidden`)",
            body = ApiError),
        (status = 413, description = "The body is larger than 160 KiB (`payload_too_large`)", body = ApiError),
        (status = 422, description = "The customer opted out or withheld consent, or free text outside a reply \
            window (`opted_out`, `no_consent`, `reply_window_closed`)", body = ApiError),
        (status = 429, description = "The key is sending too fast (`rate_limited`)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("api_key" = []))
)]
pub async fn notify(
    State(s): State<AppState>,
    KeyCaller(key): KeyCaller,
    Body(n): Body<Notify>,
) -> Result<Response, Failure> {
    if key.scope != KeyScope::Notify {
        return Err(Failure(ApiError::new(
            ErrorCode::Forbidden,
            "this key answers as a bot; it cannot send notifications",
        )));
    }
    if let Err(secs) = s.notify_limits.check(&s.store, key.id).await? {
        let mut e = ApiError::new(ErrorCode::RateLimited, "this key is sending too fast; slow down");
        e.retry_after = Some(secs);
        return Err(Failure(e));
    }
    let made = s.store.notify(key, n).await?;
    let status = if made.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, axum::Json(made)).into_response())
}
