//! `GET /api/v1/stream?since=CURSOR`: a WebSocket that replays the feed from the cursor,
//! then pushes the same change frames live, with heartbeats while idle. The stream is an
//! accelerator: `GET /api/v1/sync/changes` stays the truth, and a client that reconnects
//! resumes from the last cursor it applied. The token comes in the `Authorization` header
//! or, from a browser, as a `bearer.<token>` subprotocol, never in the URL; a session holds
//! at most [`STREAMS_PER_SESSION`] streams, and the client may send only small frames.

use super::{AppState, Failure};
use crate::consoles::Held;
use crate::fanout::{Batch, Subscription};
use crate::policy::Viewer;
use crate::store::feed::{self, frame_for};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::Response;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::sync::{ChangeFrame, Cursor, StreamFrame};
use switchboard_protocol::{ApiError, ErrorCode};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// The last cursor applied: the stream replays every change after it, then goes on live.
    since: String,
}

/// The most streams one session may hold open on one hub (a console needs one).
pub const STREAMS_PER_SESSION: usize = 4;

/// The largest frame a client may send on a socket (it sends only pings and closes).
pub const CLIENT_FRAME_BYTES: usize = 4 * 1024;

#[utoipa::path(
    get,
    path = "/api/v1/stream",
    tag = "agent",
    operation_id = "stream",
    summary = "The change feed, live (WebSocket)",
    description = "Upgrades to a WebSocket (subprotocol `switchboard`). The token comes in the `Authorization: Bearer` \
        header or, from a browser, as a second subprotocol `bearer.<token>` offered beside `switchboard`; never in \
        the URL. The parameters, the token and the cursor are checked before the upgrade, and a refusal is an \
        ordinary JSON error answer. Once open, the hub replays every change in scope after `since`, then pushes new \
        ones as they commit, with heartbeats while idle. Each message is a JSON text frame matching the \
        `StreamFrame` schema (`#/components/schemas/StreamFrame`): `changes`, `heartbeat` or `error` (after which \
        the socket closes). The client may send frames of at most 4 KiB; a session holds at most 4 streams per hub.",
    params(StreamQuery),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open and carries `StreamFrame` messages"),
        (status = 400, description = "A missing or unknown parameter or not a WebSocket upgrade (`bad_request`), or a \
            cursor this hub did not issue (`bad_cursor`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 410, description = "The cursor is older than the feed's retention (`cursor_expired`)",
            body = ApiError),
        (status = 429, description = "The session already holds 4 streams on this hub (`rate_limited`)",
            body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached (`unavailable`)", body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn stream(
    State(s): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    mut parts: Parts,
) -> Result<Response, Failure> {
    let super::Params(q) = super::Params::<StreamQuery>::from_request_parts(&mut parts, &s).await?;
    let token = super::socket_token(&parts).map(str::to_owned).ok_or_else(|| {
        Failure(ApiError::new(
            ErrorCode::Unauthorized,
            "send `Authorization: Bearer <token>`, or offer the subprotocol `bearer.<token>`",
        ))
    })?;
    let (viewer, session_id) = s.auth.authenticate(&token).await?;
    let since = feed::parse_cursor(&q.since)?;
    s.store.check_cursor(since).await?;
    let slot = s.streams.admit(session_id).ok_or_else(|| {
        let mut e = ApiError::new(ErrorCode::RateLimited, "this session has too many streams open");
        e.retry_after = Some(s.config.heartbeat_secs.max(1));
        Failure(e)
    })?;
    let ws = ws.map_err(|r| Failure(ApiError::new(ErrorCode::BadRequest, r.body_text())))?;
    Ok(super::small_frames(ws).on_upgrade(move |socket| async move {
        let _slot = slot;
        // The agent's presence holds while this is held; once it is dropped, the grace
        // period before they show offline counts from then.
        let held = s.consoles.hold(viewer.agent_id, session_id);
        if let Err(e) = run(socket, s, viewer, held, since).await {
            tracing::debug!("stream ended: {e}");
        }
    }))
}

type Frame = StreamFrame<Box<RawValue>>;

/// Why a socket (an agent's stream or a visitor's) ended early. Only logged: the peer has
/// gone or will reconnect.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    #[error(transparent)]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Socket(#[from] axum::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

async fn send(socket: &mut WebSocket, frame: &Frame) -> Result<(), SocketError> {
    let text = serde_json::to_string(frame)?;
    Ok(socket.send(WsMessage::Text(text.into())).await?)
}

/// The most changes one replayed frame carries.
const REPLAY_PAGE: usize = 1_000;

/// Sends everything after `cursor`: from the batches this hub still holds when they reach
/// back that far, otherwise from the store. Returns the new cursor, with the subscription
/// filed under the viewer's scope as it is after. When the scope changed on the way, the
/// batches handed out meanwhile were chosen by the old one: another pass, begun after
/// filing the new one, takes them.
async fn replay(
    socket: &mut WebSocket,
    s: &AppState,
    sub: &Subscription,
    viewer: &mut Viewer,
    mut cursor: i64,
) -> Result<i64, SocketError> {
    loop {
        cursor = match s.fanout.since(cursor) {
            Some(batches) => replay_recent(socket, s, viewer, cursor, &batches).await,
            None => replay_stored(socket, s, viewer, cursor).await,
        }?;
        if !sub.rescope(viewer) {
            return Ok(cursor);
        }
    }
}

/// Sends what `batches` hold after `cursor` for this viewer, as [`forward`] would have one
/// batch at a time, gathered into frames of up to [`REPLAY_PAGE`] changes.
async fn replay_recent(
    socket: &mut WebSocket,
    s: &AppState,
    viewer: &mut Viewer,
    mut cursor: i64,
    batches: &[Arc<Batch>],
) -> Result<i64, SocketError> {
    let mut frames = Vec::new();
    for (i, batch) in batches.iter().enumerate() {
        let seen = visible(viewer, cursor, batch);
        // A change of this viewer's scope decides what they see of the batches after it.
        refresh_if_scope_changed(s, viewer, &seen).await;
        frames.extend(seen);
        cursor = batch.upto;
        if !frames.is_empty() && (frames.len() >= REPLAY_PAGE || i + 1 == batches.len()) {
            send(socket, &Frame::Changes { changes: std::mem::take(&mut frames), cursor: Cursor::at(cursor) }).await?;
        }
    }
    Ok(cursor)
}

/// Sends everything after `cursor` from the store; returns the new cursor.
async fn replay_stored(
    socket: &mut WebSocket,
    s: &AppState,
    viewer: &mut Viewer,
    mut cursor: i64,
) -> Result<i64, SocketError> {
    loop {
        let page = match s.store.changes(viewer, cursor, REPLAY_PAGE).await {
            Ok(p) => p,
            Err(e) => {
                let _ = send(socket, &Frame::Error { error: e.to_api() }).await;
                return Err(e.into());
            }
        };
        let next = page.next.seq().unwrap_or(cursor);
        if !page.changes.is_empty() {
            refresh_if_scope_changed(s, viewer, &page.changes).await;
            send(socket, &Frame::Changes { changes: page.changes, cursor: page.next }).await?;
        }
        cursor = next;
        if !page.has_more {
            return Ok(cursor);
        }
    }
}

/// The frames `viewer` gets from `batch`'s changes after `cursor`.
fn visible(viewer: &Viewer, cursor: i64, batch: &Batch) -> Vec<ChangeFrame<Box<RawValue>>> {
    batch.for_viewer(viewer).into_iter().filter(|c| c.seq > cursor).filter_map(|c| frame_for(viewer, c)).collect()
}

/// Reads the viewer again when `frames` say their scope changed; whether it did.
async fn refresh_if_scope_changed(s: &AppState, viewer: &mut Viewer, frames: &[ChangeFrame<Box<RawValue>>]) -> bool {
    if frames.iter().any(|f| f.change.get().contains("\"scope_changed\"")) {
        if let Ok(v) = s.store.viewer(viewer.agent_id).await {
            *viewer = v;
            return true;
        }
    }
    false
}

async fn run(
    mut socket: WebSocket,
    s: AppState,
    mut viewer: Viewer,
    mut held: Held,
    since: i64,
) -> Result<(), SocketError> {
    // Register before replaying, so nothing committed in between is missed.
    let mut sub = s.fanout.register(&viewer);
    let mut closing = s.closing.subscribe();
    let mut cursor = replay(&mut socket, &s, &sub, &mut viewer, since).await?;
    let mut heartbeat = tokio::time::interval(Duration::from_secs(s.config.heartbeat_secs.max(1)));
    heartbeat.tick().await;
    loop {
        tokio::select! {
            batch = sub.recv() => match batch {
                Some(batch) => cursor = take(&mut socket, &s, &sub, &mut viewer, cursor, &batch).await?,
                None => return Ok(()),
            },
            // A session that ended (logged out, expired, its agent disabled) ends its streams,
            // as the hub's check of every open console's session finds, once a heartbeat.
            error = held.ended() => {
                let _ = send(&mut socket, &Frame::Error { error }).await;
                return Ok(());
            }
            _ = heartbeat.tick() => {
                // Every batch handed out up to `published` that this viewer may see is
                // waiting: once those are sent, the cursor moves past the rest.
                let published = s.fanout.published();
                while let Some(batch) = sub.try_recv() {
                    cursor = take(&mut socket, &s, &sub, &mut viewer, cursor, &batch).await?;
                }
                if sub.take_lagged() {
                    cursor = replay(&mut socket, &s, &sub, &mut viewer, cursor).await?;
                }
                cursor = cursor.max(published);
                send(&mut socket, &Frame::Heartbeat { cursor: Cursor::at(cursor), at: crate::clock::now_ms() }).await?;
            }
            _ = async { let _ = closing.wait_for(|c| *c).await; } => {
                // The hub is shutting down: the console reconnects to whichever hub serves next.
                let _ = socket.send(WsMessage::Close(None)).await;
                return Ok(());
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Close(_))) | None => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(_)) => {}
            },
        }
    }
}

/// Takes one batch handed to this stream: after catching up from the cursor if batches
/// were dropped for it, forwards what the viewer may see.
async fn take(
    socket: &mut WebSocket,
    s: &AppState,
    sub: &Subscription,
    viewer: &mut Viewer,
    mut cursor: i64,
    batch: &Arc<Batch>,
) -> Result<i64, SocketError> {
    if sub.take_lagged() {
        cursor = replay(socket, s, sub, viewer, cursor).await?;
    }
    forward(socket, s, sub, viewer, cursor, batch).await
}

/// Forwards what `viewer` may see of one batch. The batches between the cursor and this
/// one held nothing for the viewer, so the cursor moves to its end. A change of the
/// viewer's scope refiles the stream and catches up under the new scope.
async fn forward(
    socket: &mut WebSocket,
    s: &AppState,
    sub: &Subscription,
    viewer: &mut Viewer,
    cursor: i64,
    batch: &Arc<Batch>,
) -> Result<i64, SocketError> {
    if batch.upto <= cursor {
        return Ok(cursor);
    }
    let frames = visible(viewer, cursor, batch);
    if frames.is_empty() {
        return Ok(batch.upto);
    }
    let rescoped = refresh_if_scope_changed(s, viewer, &frames).await;
    send(socket, &Frame::Changes { changes: frames, cursor: Cursor::at(batch.upto) }).await?;
    if rescoped {
        return replay(socket, s, sub, viewer, batch.upto).await;
    }
    Ok(batch.upto)
}
