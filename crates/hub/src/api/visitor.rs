//! The visitor API of web chat and in-app chat: `/widget.js` (one `<script>` tag on any
//! site) and the `/chat/v1` HTTP and WebSocket routes that the widget and a business's own
//! app speak. Visitors hold a token for one inbox; agents' replies are "sent" when stored,
//! "delivered" when pushed to an open socket and "read" when the visitor has seen them.
//! Who a visit starts as, and the token's format, are [`crate::channels::webchat`]'s.

use super::{bearer, AppState, Body, Failure, Params, SocketError};
use crate::address;
use crate::channels::webchat::{self, ChatSettings, VisitRequest, VisitStart};
use crate::fanout::Batch;
use crate::store::change_kind::ChangeKind;
use crate::store::ingest::Inbound;
use crate::store::visitors::{visitor_provider_id, Claim, VisitorRecord};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::model::{ChannelKind, Delivery, Direction, Inbox};
use switchboard_protocol::sync::Change;
use switchboard_protocol::visitor::{
    StartVisit, Visit, VisitorFrame, VisitorHistory, VisitorProfile, VisitorRead, VisitorSend,
};
use switchboard_protocol::{ApiError, ErrorCode};
use tokio::sync::broadcast::error::RecvError;
use tower_http::cors::{Any, CorsLayer};

/// The widget's script, served as is.
const WIDGET_JS: &str = include_str!("../../assets/widget.js");

/// Lines a visit starts with.
const FIRST_PAGE: usize = 50;

/// The largest visitor request: a message holds at most 65,536 bytes of text, which JSON
/// escaping may double.
pub const BODY_BYTES: usize = 256 * 1024;

/// The visitor API, each request body at most `body_bytes`.
pub fn router(body_bytes: usize) -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(86_400));
    Router::new()
        .route("/widget.js", get(widget_js))
        .route("/chat/v1/sessions", post(start))
        .route("/chat/v1/messages", get(history).post(send))
        .route("/chat/v1/profile", post(profile))
        .route("/chat/v1/read", post(read))
        .route("/chat/v1/socket", get(socket))
        .layer(DefaultBodyLimit::max(body_bytes))
        .layer(cors)
}

fn fail(code: ErrorCode, msg: impl Into<String>) -> Failure {
    Failure(ApiError::new(code, msg))
}

async fn widget_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        WIDGET_JS,
    )
        .into_response()
}

/// An inbox's chat settings; settings that do not parse stop the chat rather than dropping
/// its checks.
fn chat_settings(v: &serde_json::Value) -> Result<ChatSettings, Failure> {
    ChatSettings::from_json(v).map_err(|e| {
        tracing::error!("a chat inbox's settings are invalid: {e}");
        fail(ErrorCode::Internal, "this chat is misconfigured; the business has been told")
    })
}

/// The visitor behind a token, with their inbox and its settings.
async fn visitor_for(s: &AppState, token: &str) -> Result<(VisitorRecord, Inbox, serde_json::Value), Failure> {
    let unauthorized = || fail(ErrorCode::Unauthorized, "the visitor token is unknown or malformed");
    let (id, secret) = webchat::parse_token(token).ok_or_else(unauthorized)?;
    let v = s.store.visitor(id).await?.ok_or_else(unauthorized)?;
    if !webchat::secret_matches(secret, &v.secret_hash) {
        return Err(unauthorized());
    }
    let (inbox, settings) = s.store.inbox_with_settings(v.inbox_id).await?;
    Ok((v, inbox, settings))
}

/// The visitor behind `Authorization: Bearer sbv1.…`.
struct Visitor(VisitorRecord, Inbox);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Failure> {
        let token =
            bearer(parts).ok_or_else(|| fail(ErrorCode::Unauthorized, "send `Authorization: Bearer <token>`"))?;
        let (v, inbox, _) = visitor_for(s, token).await?;
        Ok(Visitor(v, inbox))
    }
}

fn clean(s: Option<&str>, max: usize) -> Option<String> {
    s.map(switchboard_protocol::text::clean)
        .map(|v| v.trim().chars().take(max).collect::<String>())
        .filter(|v| !v.is_empty())
}

fn email(raw: &str) -> Result<String, Failure> {
    address::normalize(ChannelKind::Email, &switchboard_protocol::text::clean(raw), "")
        .map_err(|e| fail(ErrorCode::BadRequest, e.to_string()))
}

async fn start(
    State(s): State<AppState>,
    headers: HeaderMap,
    Body(req): Body<StartVisit>,
) -> Result<Response, Failure> {
    let (inbox, settings) = s.store.visitor_inbox(req.inbox.clone()).await?;
    let settings = chat_settings(&settings)?;
    // A token from a reset hub or another inbox starts a new visitor rather than failing.
    let earlier = match req.token.as_deref() {
        Some(token) => visitor_for(&s, token).await.ok().map(|(v, _, _)| v),
        None => None,
    };
    let start = webchat::plan_start(&VisitRequest {
        kind: inbox.kind,
        inbox_id: inbox.id,
        settings: &settings,
        origin: headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()),
        user: req.user.as_ref(),
        earlier: earlier.as_ref().map(|v| (v.inbox_id, v.address.as_str())),
    })
    .map_err(|refused| fail(refused.code(), refused.to_string()))?;
    // Once the visit may start, a user it names is one the inbox's secret verified. Their
    // email is the customer's only when the server signed it too; otherwise it is a claim.
    let user = req.user.as_ref();
    let secret = settings.identity_secret.as_deref().unwrap_or_default();
    let vouched = user.and_then(|u| webchat::vouched_email(secret, u)).map(email).transpose()?;
    let claimed = match user.and_then(|u| u.email.as_deref()) {
        Some(raw) if vouched.is_none() => Some(email(raw)?),
        _ => None,
    };
    let (visitor, token, resumed) = match (start, earlier, req.token) {
        (VisitStart::Resume, Some(v), Some(token)) => {
            s.store.touch_visitor(v.id).await?;
            (v, token, true)
        }
        (VisitStart::Resume, ..) => return Err(fail(ErrorCode::Internal, "a visit to resume has no visitor")),
        (VisitStart::New { user_address }, ..) => {
            let name = clean(user.and_then(|u| u.name.as_deref()), 200);
            let minted = webchat::Minted::new();
            let address = user_address.unwrap_or_else(webchat::anonymous_address);
            let mut v = s.store.begin_visit(inbox.id, inbox.kind, address, minted.secret_hash(), vouched, name).await?;
            if let Some(claimed) = claimed {
                s.store.claim_visitor_email(&v, inbox.kind, claimed.clone(), None).await?;
                v.claimed_email = Some(claimed);
            }
            let token = minted.token_for(v.id);
            (v, token, false)
        }
    };
    let (messages, has_more) = s.store.visitor_thread(inbox.id, visitor.address.clone(), None, FIRST_PAGE).await?;
    if let Some(last) = messages.last() {
        s.store.reported_up_to(inbox.id, visitor.address.clone(), last.at, Delivery::Delivered).await?;
    }
    Ok(Json(Visit {
        token,
        resumed,
        inbox_name: inbox.name,
        email: visitor.email.or(visitor.claimed_email),
        name: visitor.name,
        messages,
        has_more,
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    before: Option<i64>,
    limit: Option<usize>,
}

async fn history(
    State(s): State<AppState>,
    Visitor(v, _): Visitor,
    Params(q): Params<HistoryQuery>,
) -> Result<Response, Failure> {
    let limit = q.limit.unwrap_or(FIRST_PAGE);
    if limit == 0 || limit > 200 {
        return Err(fail(ErrorCode::BadRequest, "limit must be 1 to 200"));
    }
    if q.before.is_some_and(|b| b <= 0) {
        return Err(fail(ErrorCode::BadRequest, "before must be a message id"));
    }
    let (messages, has_more) = s.store.visitor_thread(v.inbox_id, v.address, q.before, limit).await?;
    Ok(Json(VisitorHistory { messages, has_more }).into_response())
}

async fn send(
    State(s): State<AppState>,
    Visitor(v, inbox): Visitor,
    Body(req): Body<VisitorSend>,
) -> Result<Response, Failure> {
    if !webchat::client_id_ok(&req.client_id) {
        return Err(fail(ErrorCode::BadRequest, "client_id must be 1 to 64 letters, digits, `-` or `_`"));
    }
    let provider_id = visitor_provider_id(&v.address, &req.client_id);
    let mut msg = Inbound::text(inbox.id, &v.address, &req.text, Some(&provider_id), crate::clock::now_ms());
    msg.display_name.clone_from(&v.name);
    let done = s.store.ingest(msg).await?;
    if done.new_conversation {
        s.store.join_visitor(&v, inbox.kind).await?;
    }
    let line = s.store.visitor_line(inbox.id, v.address, done.message_id).await?;
    let line = line.ok_or_else(|| fail(ErrorCode::Internal, "the message was stored but cannot be read back"))?;
    Ok((if done.duplicate { StatusCode::OK } else { StatusCode::CREATED }, Json(line)).into_response())
}

async fn profile(
    State(s): State<AppState>,
    Visitor(v, inbox): Visitor,
    Body(req): Body<VisitorProfile>,
) -> Result<StatusCode, Failure> {
    let address = email(&req.email)?;
    let name = clean(req.name.as_deref(), 200);
    match s.store.claim_visitor_email(&v, inbox.kind, address, name).await? {
        Claim::Kept => Ok(StatusCode::NO_CONTENT),
        Claim::TooMany { retry_after_ms } => {
            let mut e = ApiError::new(ErrorCode::RateLimited, "too many emails left from this chat; try again later");
            e.retry_after = Some(u64::try_from(retry_after_ms / 1000).unwrap_or(0).max(1));
            Err(Failure(e))
        }
    }
}

async fn read(
    State(s): State<AppState>,
    Visitor(v, _): Visitor,
    Body(req): Body<VisitorRead>,
) -> Result<StatusCode, Failure> {
    let line = s.store.visitor_line(v.inbox_id, v.address.clone(), req.message_id).await?;
    let line = line.ok_or_else(|| fail(ErrorCode::NotFound, "no such message in this chat"))?;
    s.store.reported_up_to(v.inbox_id, v.address, line.at, Delivery::Read).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SocketQuery {
    token: String,
}

async fn socket(
    State(s): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    Params(q): Params<SocketQuery>,
) -> Result<Response, Failure> {
    let (v, _, settings) = visitor_for(&s, &q.token).await?;
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !webchat::origin_allowed(&chat_settings(&settings)?.allowed_origins, origin) {
        return Err(fail(ErrorCode::Forbidden, "this site may not use the inbox's chat"));
    }
    let ws = ws.map_err(|r| fail(ErrorCode::BadRequest, r.body_text()))?;
    Ok(ws.on_upgrade(move |socket| async move {
        if let Err(e) = run(socket, s, v).await {
            tracing::debug!("visitor socket ended: {e}");
        }
    }))
}

async fn push(socket: &mut WebSocket, frame: &VisitorFrame) -> Result<(), SocketError> {
    let text = serde_json::to_string(frame)?;
    Ok(socket.send(WsMessage::Text(text.into())).await?)
}

/// Pushes the visitor's new lines from the feed until the socket closes.
async fn run(mut socket: WebSocket, s: AppState, v: VisitorRecord) -> Result<(), SocketError> {
    let mut feed = s.fanout.subscribe();
    let mut seen = Seen::default();
    let mut heartbeat = tokio::time::interval(Duration::from_secs(s.config.heartbeat_secs.max(1)));
    heartbeat.tick().await;
    loop {
        tokio::select! {
            batch = feed.recv() => match batch {
                Ok(batch) => forward(&mut socket, &s, &v, &mut seen, &batch).await?,
                Err(RecvError::Lagged(_)) => {
                    // Too far behind to know what was missed: send the latest lines again.
                    let (lines, _) = s.store.visitor_thread(v.inbox_id, v.address.clone(), None, FIRST_PAGE).await?;
                    for message in lines {
                        seen.lines.insert(message.id);
                        push(&mut socket, &VisitorFrame::Message { message }).await?;
                    }
                }
                Err(RecvError::Closed) => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_) | Ok(WsMessage::Close(_))) => return Ok(()),
                Some(Ok(_)) => {}
            },
            _ = heartbeat.tick() => {
                push(&mut socket, &VisitorFrame::Heartbeat { at: crate::clock::now_ms() }).await?;
            }
        }
    }
}

/// What one socket has learnt: which conversations are the visitor's, which lines it pushed.
#[derive(Debug, Default)]
struct Seen {
    conversations: HashMap<i64, bool>,
    lines: HashSet<i64>,
}

/// Pushes each of the visitor's new lines once (a reply's later delivery updates carry
/// nothing the visitor sees), and reports agents' replies delivered.
async fn forward(
    socket: &mut WebSocket,
    s: &AppState,
    v: &VisitorRecord,
    seen: &mut Seen,
    batch: &Arc<Batch>,
) -> Result<(), SocketError> {
    for c in batch.changes.iter().filter(|c| c.kind == ChangeKind::Message) {
        let Ok(Change::Message(m)) = serde_json::from_str::<Change>(&c.payload) else { continue };
        if !matches!(m.direction, Direction::Inbound | Direction::Outbound) {
            continue;
        }
        let ours = match seen.conversations.get(&m.conversation_id) {
            Some(ours) => *ours,
            None => {
                let owner = s.store.conversation_address(m.conversation_id).await?;
                let ours = owner.is_some_and(|(inbox, address)| inbox == v.inbox_id && address == v.address);
                seen.conversations.insert(m.conversation_id, ours);
                ours
            }
        };
        if !ours {
            continue;
        }
        if seen.lines.insert(m.id) {
            let line = s.store.visitor_line(v.inbox_id, v.address.clone(), m.id).await?;
            if let Some(message) = line {
                push(socket, &VisitorFrame::Message { message }).await?;
            }
        }
        if m.direction == Direction::Outbound && m.delivery == Some(Delivery::Sent) {
            let reported = s.store.reported_up_to(v.inbox_id, v.address.clone(), m.created_at, Delivery::Delivered);
            if let Err(e) = reported.await {
                tracing::warn!("cannot record a web-chat delivery: {e}");
            }
        }
    }
    Ok(())
}
