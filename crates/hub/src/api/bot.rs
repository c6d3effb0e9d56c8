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
use switchboard_protocol::bot::BotAnswer;
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
