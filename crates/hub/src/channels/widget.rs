//! Web chat and in-app chat, the channels the hub itself provides: `/widget.js` (one
//! `<script>` tag on any site) and the `/chat/v1` HTTP and WebSocket API that the widget
//! and a business's own app speak. Visitors hold a token for one inbox; agents' replies are
//! "sent" when stored, "delivered" when pushed to an open socket and "read" when the
//! visitor has seen them.

use crate::address;
use crate::api::{bearer, AppState, Body, Failure, Params, SocketError};
use crate::fanout::Batch;
use crate::store::change_kind::ChangeKind;
use crate::store::ingest::Inbound;
use crate::store::visitors::{visitor_provider_id, VisitorRecord};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;
use switchboard_protocol::model::{ChannelKind, Delivery, Direction, Inbox};
use switchboard_protocol::sync::Change;
use switchboard_protocol::visitor::{
    StartVisit, VerifiedUser, Visit, VisitorFrame, VisitorHistory, VisitorProfile, VisitorRead, VisitorSend,
};
use switchboard_protocol::{ApiError, ErrorCode};
use tokio::sync::broadcast::error::RecvError;
use tower_http::cors::{Any, CorsLayer};

/// The widget's script, served as is.
const WIDGET_JS: &str = include_str!("../../assets/widget.js");

/// Lines a visit starts with.
const FIRST_PAGE: usize = 50;

pub fn router() -> Router<AppState> {
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

/// What a chat inbox's settings say about visitors.
#[derive(Debug, Default, Deserialize)]
struct ChatSettings {
    /// Pages allowed to embed the chat (`https://shop.example`); any when empty.
    #[serde(default)]
    allowed_origins: Vec<String>,
    /// The key the business's server signs user ids with ([`VerifiedUser::hash`]).
    identity_secret: Option<String>,
}

impl ChatSettings {
    /// Settings that do not parse stop the chat rather than dropping its checks.
    fn from_json(v: &serde_json::Value) -> Result<ChatSettings, Failure> {
        serde_json::from_value(v.clone()).map_err(|e| {
            tracing::error!("a chat inbox's settings are invalid: {e}");
            fail(ErrorCode::Internal, "this chat is misconfigured; the business has been told")
        })
    }
}

/// Whether a page from `origin` may use the inbox. Requests without an `Origin` (apps,
/// servers) are not browsers embedding the widget, and are allowed.
pub fn origin_allowed(allowed: &[String], origin: Option<&str>) -> bool {
    match origin {
        None => true,
        Some(o) => allowed.is_empty() || allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(o)),
    }
}

/// Whether `user.hash` is the HMAC-SHA256 of `user.id` under `secret`, compared in
/// constant time.
pub fn user_verified(secret: &str, user: &VerifiedUser) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(user.id.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    expected.as_bytes().ct_eq(user.hash.to_ascii_lowercase().as_bytes()).into()
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `sbv1.<visitor id>.<64 hex>` → (id, secret).
fn parse_token(token: &str) -> Option<(i64, &str)> {
    let rest = token.strip_prefix("sbv1.")?;
    let (id, secret) = rest.split_once('.')?;
    let id = id.parse::<i64>().ok().filter(|i| *i > 0)?;
    (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())).then_some((id, secret))
}

/// The visitor behind a token, with their inbox and its settings.
async fn visitor_for(s: &AppState, token: &str) -> Result<(VisitorRecord, Inbox, serde_json::Value), Failure> {
    let unauthorized = || fail(ErrorCode::Unauthorized, "the visitor token is unknown or malformed");
    let (id, secret) = parse_token(token).ok_or_else(unauthorized)?;
    let v = s.store.visitor(id).await?.ok_or_else(unauthorized)?;
    if !bool::from(secret_hash(secret).as_bytes().ct_eq(v.secret_hash.as_bytes())) {
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
    s.map(str::trim).filter(|v| !v.is_empty()).map(|v| v.chars().take(max).collect())
}

fn email(raw: &str) -> Result<String, Failure> {
    address::normalize(ChannelKind::Email, raw, "").map_err(|e| fail(ErrorCode::BadRequest, e.to_string()))
}

async fn start(
    State(s): State<AppState>,
    headers: HeaderMap,
    Body(req): Body<StartVisit>,
) -> Result<Response, Failure> {
    let (inbox, settings) = s.store.visitor_inbox(req.inbox.clone()).await?;
    let settings = ChatSettings::from_json(&settings)?;
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !origin_allowed(&settings.allowed_origins, origin) {
        return Err(fail(ErrorCode::Forbidden, "this site may not use the inbox's chat"));
    }
    let user = match (&req.user, settings.identity_secret.as_deref()) {
        (Some(u), Some(secret)) if user_verified(secret, u) => {
            if u.id.is_empty() || u.id.len() > 200 {
                return Err(fail(ErrorCode::BadRequest, "the user id must be 1 to 200 bytes"));
            }
            Some(u)
        }
        (Some(_), Some(_)) => return Err(fail(ErrorCode::Forbidden, "the user's hash does not match")),
        (Some(_), None) => {
            return Err(fail(ErrorCode::BadRequest, "this inbox has no identity secret to verify users with"))
        }
        (None, Some(_)) if inbox.kind == ChannelKind::InApp => {
            return Err(fail(ErrorCode::Unauthorized, "this inbox chats only with users the app has signed in"))
        }
        (None, _) => None,
    };
    let user_address = user.map(|u| format!("user:{}", u.id));
    let user_email = user.and_then(|u| u.email.as_deref()).map(email).transpose()?;

    let mut earlier = None;
    if let Some(token) = req.token.as_deref() {
        // A token from a reset hub or another inbox starts a new visitor rather than failing.
        if let Ok((v, _, _)) = visitor_for(&s, token).await {
            if v.inbox_id == inbox.id && user_address.as_ref().is_none_or(|a| *a == v.address) {
                earlier = Some((v, token.to_owned()));
            }
        }
    }
    let resumed = earlier.is_some();
    let (visitor, token) = match earlier {
        Some((v, token)) => {
            s.store.touch_visitor(v.id).await?;
            (v, token)
        }
        None => {
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let secret = hex::encode(secret);
            let address = user_address.unwrap_or_else(|| {
                let mut id = [0u8; 12];
                rand::rng().fill_bytes(&mut id);
                format!("visitor-{}", hex::encode(id))
            });
            let name = clean(user.and_then(|u| u.name.as_deref()), 200);
            let v = s.store.create_visitor(inbox.id, address, secret_hash(&secret), user_email, name).await?;
            s.store.join_visitor(&v, inbox.kind).await?;
            let token = format!("sbv1.{}.{secret}", v.id);
            (v, token)
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
        email: visitor.email,
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

/// Whether a visitor's message id is acceptable: 1 to 64 letters, digits, `-` or `_`.
pub fn client_id_ok(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn send(
    State(s): State<AppState>,
    Visitor(v, inbox): Visitor,
    Body(req): Body<VisitorSend>,
) -> Result<Response, Failure> {
    if !client_id_ok(&req.client_id) {
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
    s.store.set_visitor_email(&v, inbox.kind, address, name).await?;
    Ok(StatusCode::NO_CONTENT)
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
    if !origin_allowed(&ChatSettings::from_json(&settings)?.allowed_origins, origin) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let none: Vec<String> = Vec::new();
        let shop = vec!["https://shop.example/".to_owned()];
        assert!(origin_allowed(&none, Some("https://anything.example")));
        assert!(origin_allowed(&shop, Some("https://shop.example")));
        assert!(origin_allowed(&shop, Some("HTTPS://SHOP.EXAMPLE")));
        assert!(!origin_allowed(&shop, Some("https://evil.example")));
        assert!(!origin_allowed(&shop, Some("null")));
        assert!(origin_allowed(&shop, None), "an app, not a browser page");
    }

    #[test]
    fn tokens() {
        let secret = "ab".repeat(32);
        assert_eq!(parse_token(&format!("sbv1.7.{secret}")), Some((7, secret.as_str())));
        for bad in ["", "sbv1.", "sbv1.7", "sbv1.0.".to_owned().as_str(), "sb1.7.ab", "sbv1.-3.ab", "sbv1.7.xyz"] {
            assert_eq!(parse_token(bad), None, "{bad}");
        }
        assert_eq!(parse_token(&format!("sbv1.7.{}", "zz".repeat(32))), None);
    }

    #[test]
    fn user_hashes() {
        // HMAC-SHA256 of "user-42" keyed with "secret", computed with Python's hmac module.
        let real = "e286b7b944100ab478fe553b39122922de0000aee1d04087dc3e96eefc3a8d47";
        let user = |hash: &str| VerifiedUser { id: "user-42".into(), hash: hash.into(), name: None, email: None };
        assert!(user_verified("secret", &user(real)));
        assert!(user_verified("secret", &user(&real.to_uppercase())));
        assert!(!user_verified("other", &user(real)));
        assert!(!user_verified("secret", &user("")));
    }

    #[test]
    fn client_ids() {
        assert!(client_id_ok("m-1_a"));
        assert!(!client_id_ok(""));
        assert!(!client_id_ok("has space"));
        assert!(!client_id_ok(&"x".repeat(65)));
    }
}
