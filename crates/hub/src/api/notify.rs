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
use switchboard_protocol::notify::{KeyScope, Notify};
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
