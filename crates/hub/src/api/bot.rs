//! The bot API an external bot answers through, with a key of the `bot` scope
//! (`Authorization: Bearer sbk_<id>_<secret>`): it may answer, and hand over, only in
//! conversations its inboxes' bot holds, at a steady rate per key. What it is sent is the
//! signed webhook of [`crate::channels::bot_hook`].

use super::limits::Shared;
use super::notify::KeyCaller;
use super::{AppState, Body, Failure};
use crate::throttle::Rate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use switchboard_protocol::bot::{BotAnswer, BotAnswered};
use switchboard_protocol::notify::KeyScope;
use switchboard_protocol::{ApiError, ErrorCode, Id};

/// Each bot key's answers: a burst, then a steady rate.
pub const PER_KEY: Rate = Rate { burst: 200.0, per_sec: 50.0 };
/// The largest answer.
pub const BODY_BYTES: usize = 64 * 1024;

pub type Limits = Shared<i64>;

pub fn limits() -> Limits {
    Shared::new("bot", PER_KEY, 10_000)
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/bot/conversations/{id}/reply", post(reply))
}

/// `POST /api/v1/bot/conversations/{id}/reply`: the bot's messages to the customer, and
/// perhaps its handoff. `409 conflict` once people have the conversation.
#[utoipa::path(
    post,
    path = "/api/v1/bot/conversations/{id}/reply",
    tag = "bot",
    operation_id = "bot_reply",
    summary = "An external bot's answer",
    description = "An external bot's answer in a conversation it holds, sent after its webhook's response: at most \
        5 messages to the customer, in order, and perhaps a handoff to people after them. Needs a key of the `bot` \
        scope that serves the conversation's inbox.",
    params(("id" = i64, Path, description = "The conversation's id")),
    request_body = BotAnswer,
    responses(
        (status = 200, description = "The messages stored, and whether people have the conversation now",
            body = BotAnswered),
        (status = 400, description = "Not a BotAnswer, or one that breaks its rules (`bad_request`)", body = ApiError),
        (status = 401, description = "No key, or an unknown or revoked one (`unauthorized`)", body = ApiError),
        (status = 403, description = "A key of the `notify` scope (`forbidden`)", body = ApiError),
        (status = 404, description = "No such conversation, or one of an inbox the key does not serve \
            (`not_found`)", body = ApiError),
        (status = 409, description = "The conversation is not the external bot's any more (`conflict`)",
            body = ApiError),
        (status = 413, description = "The body is larger than 64 KiB (`payload_too_large`)", body = ApiError),
        (status = 429, description = "The key is answering too fast (`rate_limited`)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("api_key" = []))
)]
async fn reply(
    State(s): State<AppState>,
    KeyCaller(key): KeyCaller,
    Path(id): Path<Id>,
    Body(answer): Body<BotAnswer>,
) -> Result<Response, Failure> {
    if key.scope != KeyScope::Bot {
        return Err(Failure(ApiError::new(
            ErrorCode::Forbidden,
            "this key sends notifications; a bot answers with a bot key",
        )));
    }
    if let Err(secs) = s.bot_limits.check(&s.store, key.id).await? {
        let mut e = ApiError::new(ErrorCode::RateLimited, "this bot is answering too fast; slow down");
        e.retry_after = Some(secs);
        return Err(Failure(e));
    }
    let done = s.store.bot_answer(id, Some(key.inbox_ids), answer).await?;
    Ok(Json(done).into_response())
}
