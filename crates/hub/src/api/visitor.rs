//! The visitor API of web chat and in-app chat: `/widget.js` (one `<script>` tag on any
//! site) and the `/chat/v1` HTTP and WebSocket routes that the widget and a business's own
//! app speak. Visitors hold a token for one inbox; agents' replies are "sent" when stored,
//! "delivered" when pushed to an open socket and "read" when the visitor has seen them.
//! Who a visit starts as, and the token's format, are [`crate::channels::webchat`]'s.
//!
//! Everything here is bounded ([`VisitorLimits`]): sessions started per client address,
//! messages per visitor and per client, sockets per visitor and per client, and the size
//! of what a socket may send. Lines reach a socket through the process-wide index of
//! [`crate::visitor_fanout`], never by each socket reading the whole feed. A visitor unused
//! for `visitor_idle_days` is forgotten, and one an agent blocked is refused.

use super::client::ClientAddr;
use super::limits::{Gauge, Shared};
use super::{bearer, AppState, Body, Failure, Params, SocketError};
use crate::address;
use crate::channels::webchat::{self, ChatSettings, VisitRequest, VisitStart};
use crate::store::blobs::{blob_key, blob_path, Uploader};
use crate::store::ingest::Inbound;
use crate::store::visitors::{visitor_provider_id, Claim, NewVisitor, VisitorRecord, VISITOR_FILES};
use crate::store::StoreError;
use crate::throttle::client_key;
use crate::throttle::Rate;
use crate::visitor_fanout::VisitorEvent;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::collections::HashSet;
use std::time::Duration;
use switchboard_protocol::files;
use switchboard_protocol::model::{Attachment, ChannelKind, Delivery, Direction, Inbox};
use switchboard_protocol::visitor::{
    StartVisit, Visit, VisitorArticles, VisitorDeflection, VisitorFrame, VisitorHistory, VisitorMessage,
    VisitorProfile, VisitorRating, VisitorRead, VisitorSend,
};
use switchboard_protocol::{ApiError, ErrorCode};
use tower_http::cors::{Any, CorsLayer};

/// The widget's script, served as is.
const WIDGET_JS: &str = include_str!("../../assets/widget.js");

/// Lines a visit starts with.
const FIRST_PAGE: usize = 50;

/// The largest visitor request: a message holds at most 65,536 bytes of text, which JSON
/// escaping may double.
pub const BODY_BYTES: usize = 256 * 1024;

/// Sockets one visitor may hold open on one hub (tabs of one browser).
pub const SOCKETS_PER_VISITOR: usize = 5;
/// Sockets one client address may hold open on one hub (an office behind one address).
pub const SOCKETS_PER_CLIENT: usize = 50;
/// Chats started per client address: 20 at once, then one every 3 seconds.
pub const SESSIONS_PER_CLIENT: Rate = Rate { burst: 20.0, per_sec: 1.0 / 3.0 };
/// Messages per visitor: 20 at once, then one a second.
pub const MESSAGES_PER_VISITOR: Rate = Rate { burst: 20.0, per_sec: 1.0 };
/// Messages per client address, all its visitors together: 60 at once, then 5 a second.
pub const MESSAGES_PER_CLIENT: Rate = Rate { burst: 60.0, per_sec: 5.0 };
/// Article searches per visitor, as they type: 30 at once, then 3 a second.
pub const SEARCHES_PER_VISITOR: Rate = Rate { burst: 30.0, per_sec: 3.0 };
/// Articles the widget offers at once.
pub const ARTICLES_OFFERED: usize = 5;
/// Keys each rate limiter keeps.
const RATE_KEYS: usize = 100_000;
/// A visitor's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 3_600_000;
/// A socket checks that its visitor is still allowed every this many heartbeats.
const CHECK_EVERY_HEARTBEATS: u32 = 4;

/// The visitor API's limits on one hub process.
#[derive(Debug)]
pub struct VisitorLimits {
    sockets_per_visitor: Gauge<i64>,
    sockets_per_client: Gauge<String>,
    sessions_per_client: Shared<String>,
    messages_per_visitor: Shared<i64>,
    messages_per_client: Shared<String>,
    searches_per_visitor: Shared<i64>,
}

impl Default for VisitorLimits {
    fn default() -> Self {
        VisitorLimits {
            sockets_per_visitor: Gauge::new(SOCKETS_PER_VISITOR).reported_as(crate::metrics::Open::Sockets),
            sockets_per_client: Gauge::new(SOCKETS_PER_CLIENT),
            sessions_per_client: Shared::new("visitor-chats", SESSIONS_PER_CLIENT, RATE_KEYS),
            messages_per_visitor: Shared::new("visitor-messages", MESSAGES_PER_VISITOR, RATE_KEYS),
            messages_per_client: Shared::new("client-messages", MESSAGES_PER_CLIENT, RATE_KEYS),
            searches_per_visitor: Shared::new("visitor-searches", SEARCHES_PER_VISITOR, RATE_KEYS),
        }
    }
}

/// The largest file a visitor may send.
pub const VISITOR_FILE_BYTES: u64 = 10 * 1024 * 1024;

fn too_many(what: &str, retry_after: u64) -> Failure {
    let mut e = ApiError::new(ErrorCode::RateLimited, format!("too many {what}; try again in a moment"));
    e.retry_after = Some(retry_after);
    Failure(e)
}

/// The visitor API, each request body at most `body_bytes`.
pub fn router(body_bytes: usize) -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-file-name"),
            header::HeaderName::from_static("idempotency-key"),
        ])
        .max_age(Duration::from_secs(86_400));
    Router::new()
        .route("/widget.js", get(widget_js))
        .route("/chat/v1/sessions", post(start))
        .route("/chat/v1/messages", get(history).post(send))
        .route("/chat/v1/profile", post(profile))
        .route("/chat/v1/read", post(read))
        .route("/chat/v1/rating", post(rate))
        .route("/chat/v1/socket", get(socket))
        .route("/chat/v1/files", post(upload))
        .route("/chat/v1/files/{key}", get(file))
        .route("/chat/v1/articles", get(articles))
        .route("/chat/v1/deflections", post(deflected))
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

fn blocked() -> Failure {
    fail(ErrorCode::Forbidden, "this chat has been closed by the business")
}

/// Whether a visitor may still use their token: not blocked, and used within
/// `visitor_idle_days` (a forgotten one starts a new visit).
fn still_allowed(s: &AppState, v: &VisitorRecord) -> Result<(), Failure> {
    if v.blocked {
        return Err(blocked());
    }
    if crate::clock::now_ms() - v.last_seen_at >= s.config.visitor_idle_ms() {
        return Err(fail(ErrorCode::Unauthorized, "this chat has expired; start a new one"));
    }
    Ok(())
}

/// The visitor behind a token, with their inbox and its settings.
async fn visitor_for(s: &AppState, token: &str) -> Result<(VisitorRecord, Inbox, serde_json::Value), Failure> {
    let unauthorized = || fail(ErrorCode::Unauthorized, "the visitor token is unknown or malformed");
    let (id, secret) = webchat::parse_token(token).ok_or_else(unauthorized)?;
    let v = s.store.visitor(id).await?.ok_or_else(unauthorized)?;
    if !webchat::secret_matches(secret, &v.secret_hash) {
        return Err(unauthorized());
    }
    still_allowed(s, &v)?;
    let (inbox, settings) = s.store.inbox_with_settings(v.inbox_id).await?;
    Ok((v, inbox, settings))
}

/// Notes the visitor's use (at most hourly), which keeps them from being forgotten.
async fn touch(s: &AppState, v: &VisitorRecord, client: &str) -> Result<(), Failure> {
    if crate::clock::now_ms() - v.last_seen_at >= TOUCH_EVERY_MS {
        s.store.touch_visitor(v.id, client.to_owned()).await?;
    }
    Ok(())
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

#[utoipa::path(
    post,
    path = "/chat/v1/sessions",
    tag = "visitor",
    operation_id = "start_visit",
    summary = "Start or resume a visit",
    description = "Starts a visit, or resumes the visitor's earlier one with the token kept from before, and returns \
        the token and the latest 50 lines. Call it when the chat opens and after every lost connection. An inbox that \
        requires signed-in users takes a `user` verified with its identity secret.",
    request_body = StartVisit,
    responses(
        (status = 200, description = "The visit: its token and the thread so far", body = Visit),
        (status = 400, description = "A missing, unknown or invalid field (`bad_request`)", body = ApiError),
        (status = 401, description = "The inbox requires a signed-in user (`unauthorized`)", body = ApiError),
        (status = 403, description = "The business closed this chat, the site may not use it, or the user's `hash` \
            does not match (`forbidden`)",
            body = ApiError),
        (status = 404, description = "No web-chat or in-app inbox at that address (`not_found`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 429, description = "Too many chats started from this address (`rate_limited`)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    )
)]
async fn start(
    State(s): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    Body(req): Body<StartVisit>,
) -> Result<Response, Failure> {
    let client = client_key(client.0);
    s.visitor_limits
        .sessions_per_client
        .check(&s.store, client.clone())
        .await?
        .map_err(|wait| too_many("chats started", wait))?;
    let (inbox, settings) = s.store.visitor_inbox(req.inbox.clone()).await?;
    if s.store.client_blocked(inbox.id, client.clone()).await? {
        return Err(blocked());
    }
    let email_fallback = matches!(crate::fallback::of_settings(&settings), Ok(Some(_)));
    let settings = chat_settings(&settings)?;
    // A token from a reset hub or another inbox starts a new visitor rather than failing.
    let earlier = match req.token.as_deref() {
        Some(token) => match visitor_for(&s, token).await {
            Ok((v, _, _)) => Some(v),
            // A blocked visitor stays blocked; any other failure starts afresh.
            Err(Failure(e)) if e.code == ErrorCode::Forbidden => return Err(Failure(e)),
            Err(_) => None,
        },
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
            s.store.touch_visitor(v.id, client).await?;
            (v, token, true)
        }
        (VisitStart::Resume, ..) => return Err(fail(ErrorCode::Internal, "a visit to resume has no visitor")),
        (VisitStart::New { user_address }, ..) => {
            let name = clean(user.and_then(|u| u.name.as_deref()), 200);
            let minted = webchat::Minted::new();
            let address = user_address.unwrap_or_else(webchat::anonymous_address);
            let new = NewVisitor {
                inbox_id: inbox.id,
                channel: inbox.kind,
                address,
                secret_hash: minted.secret_hash(),
                email: vouched,
                name,
                client: Some(client),
            };
            let mut v = s.store.begin_visit(new).await?;
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
        email_fallback,
    })
    .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// Only lines older than this message id.
    before: Option<i64>,
    /// 1 to 200 (50 by default).
    limit: Option<usize>,
}

#[utoipa::path(
    get,
    path = "/chat/v1/messages",
    tag = "visitor",
    operation_id = "visitor_history",
    summary = "Older lines of the thread",
    description = "The newest `limit` lines older than `before`, oldest first.",
    params(HistoryQuery),
    responses(
        (status = 200, description = "A page of lines", body = VisitorHistory),
        (status = 400, description = "A bad query parameter (`bad_request`)", body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
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

#[utoipa::path(
    post,
    path = "/chat/v1/messages",
    tag = "visitor",
    operation_id = "visitor_send",
    summary = "Send a message",
    description = "The visitor's message (and the files they uploaded for it, or their tap on an agent's choices). \
        `client_id` makes the send idempotent: repeating it answers the line already stored.",
    request_body = VisitorSend,
    responses(
        (status = 201, description = "The stored line", body = VisitorMessage),
        (status = 200, description = "Sent before with the same `client_id`: the line already stored",
            body = VisitorMessage),
        (status = 400, description = "A bad `client_id`, an empty text, a file not uploaded to this chat, or a choice \
            not offered (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 429, description = "Too many messages from this visitor or address (`rate_limited`)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
async fn send(
    State(s): State<AppState>,
    client: ClientAddr,
    Visitor(v, inbox): Visitor,
    Body(req): Body<VisitorSend>,
) -> Result<Response, Failure> {
    if !webchat::client_id_ok(&req.client_id) {
        return Err(fail(ErrorCode::BadRequest, "client_id must be 1 to 64 letters, digits, `-` or `_`"));
    }
    let client = client_key(client.0);
    let limits = &s.visitor_limits;
    limits.messages_per_visitor.check(&s.store, v.id).await?.map_err(|wait| too_many("messages", wait))?;
    limits.messages_per_client.check(&s.store, client.clone()).await?.map_err(|wait| too_many("messages", wait))?;
    touch(&s, &v, &client).await?;
    let provider_id = visitor_provider_id(&v.address, &req.client_id);
    let mut msg = Inbound::text(inbox.id, &v.address, &req.text, Some(&provider_id), crate::clock::now_ms());
    msg.display_name.clone_from(&v.name);
    msg.attachments = sent_files(&s, &v, &req.files).await?;
    if let Some(choice) = &req.choice {
        // A tap on an agent's choices: the option's title is what the visitor said.
        let offered = s.store.visitor_offered(&v, choice.message_id).await?;
        let option = offered
            .as_ref()
            .and_then(|c| c.options.iter().find(|o| o.id == choice.id))
            .ok_or_else(|| fail(ErrorCode::BadRequest, "that choice was not offered in this chat"))?;
        msg.body.clone_from(&option.title);
        msg.answer = Some(crate::store::ingest::Answer {
            id: option.id.clone(),
            title: option.title.clone(),
            to_provider_id: None,
            to_message: Some(choice.message_id),
        });
    }
    let done = s.store.ingest(msg).await?;
    crate::metrics::ingested(ChannelKind::Webchat.as_str(), done.duplicate);
    if done.new_conversation {
        s.store.join_visitor(&v, inbox.kind).await?;
    }
    let line = s.store.visitor_line(inbox.id, v.address, done.message_id).await?;
    let line = line.ok_or_else(|| fail(ErrorCode::Internal, "the message was stored but cannot be read back"))?;
    Ok((if done.duplicate { StatusCode::OK } else { StatusCode::CREATED }, Json(line)).into_response())
}

/// The files a visitor's message names: each one they uploaded or one of their thread's,
/// at most [`files::MAX_FILES`], named by the hub's own path for it.
async fn sent_files(s: &AppState, v: &VisitorRecord, urls: &[String]) -> Result<Vec<Attachment>, Failure> {
    if urls.len() > files::MAX_FILES {
        return Err(Failure(files::FileRefusal::TooMany.into()));
    }
    let mut out = Vec::with_capacity(urls.len());
    for url in urls {
        let key = url
            .strip_prefix(VISITOR_FILES)
            .filter(|k| crate::storage::valid_key(k))
            .ok_or_else(|| fail(ErrorCode::BadRequest, format!("`{url}` is not a file uploaded to this chat")))?;
        let meta = s.store.visitor_blob(v, key.to_owned()).await.map_err(|e| match e {
            StoreError::NotFound(_) => {
                fail(ErrorCode::BadRequest, format!("`{url}` is not a file uploaded to this chat"))
            }
            other => other.into(),
        })?;
        out.push(Attachment { url: blob_path(&meta.key), name: meta.name, mime: meta.mime, size: meta.size });
    }
    Ok(out)
}

/// `POST /chat/v1/files`: a visitor's file (at most [`VISITOR_FILE_BYTES`]), counted as a
/// message against their rate, kept for the message that sends it.
#[utoipa::path(
    post,
    path = "/chat/v1/files",
    tag = "visitor",
    operation_id = "visitor_upload",
    summary = "Upload a file to send",
    description = "The body is the file itself (at most 10 MB), counted as a message against the visitor's rate. Its \
        type is read from its content. Name the answer's `url` in `files` of `POST /chat/v1/messages`.",
    params(
        ("X-File-Name" = String, Header, description = "The file's name, percent-encoded UTF-8"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "1 to 200 characters: an upload repeated under the same key is the same file"),
    ),
    request_body(description = "The file's bytes", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "The file, as an attachment", body = Attachment),
        (status = 400, description = "No `X-File-Name`, an empty file, or a type that may not be sent (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 413, description = "Over 10 MB (`payload_too_large`)", body = ApiError),
        (status = 429, description = "Too many files or messages from this visitor or address (`rate_limited`)",
            body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
async fn upload(
    State(s): State<AppState>,
    client: ClientAddr,
    Visitor(v, _): Visitor,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, Failure> {
    let client = client_key(client.0);
    let limits = &s.visitor_limits;
    limits.messages_per_visitor.check(&s.store, v.id).await?.map_err(|wait| too_many("files", wait))?;
    limits.messages_per_client.check(&s.store, client.clone()).await?.map_err(|wait| too_many("files", wait))?;
    touch(&s, &v, &client).await?;
    let mut a = super::uploads::receive(&s, Uploader::Visitor(v.id), &headers, body, VISITOR_FILE_BYTES).await?;
    if let Some(key) = blob_key(&a.url).map(str::to_owned) {
        a.url = format!("{VISITOR_FILES}{key}");
    }
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// `GET /chat/v1/files/{key}`: a file of the visitor's thread, or their own upload.
#[utoipa::path(
    get,
    path = "/chat/v1/files/{key}",
    tag = "visitor",
    operation_id = "visitor_file",
    summary = "A file of the thread",
    description = "A file of the visitor's thread, or their own upload.",
    params(("key" = String, Path, description = "The file's key")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 404, description = "No such file in this chat (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
async fn file(State(s): State<AppState>, Visitor(v, _): Visitor, Path(key): Path<String>) -> Result<Response, Failure> {
    let meta = s.store.visitor_blob(&v, key).await?;
    super::kept_file(&s, &meta).await
}

#[utoipa::path(
    post,
    path = "/chat/v1/profile",
    tag = "visitor",
    operation_id = "visitor_profile",
    summary = "Leave an email address",
    description = "The visitor leaves their email (and name); the hub joins them to the customer with that email, so \
        agents see one history.",
    request_body = VisitorProfile,
    responses(
        (status = 204, description = "Kept"),
        (status = 400, description = "Not an email address (`bad_request`)", body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 429, description = "Too many emails left from this chat (`rate_limited`)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
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

#[utoipa::path(
    post,
    path = "/chat/v1/read",
    tag = "visitor",
    operation_id = "visitor_read",
    summary = "Report how far the visitor has read",
    description = "The visitor has seen the thread up to `message_id`; agents see their replies `read`.",
    request_body = VisitorRead,
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "A missing, unknown or invalid field (`bad_request`)", body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 404, description = "No such message in this chat (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
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

/// `POST /chat/v1/rating`: the visitor's answer to a satisfaction survey of their thread.
#[utoipa::path(
    post,
    path = "/chat/v1/rating",
    tag = "visitor",
    operation_id = "visitor_rating",
    summary = "Answer a satisfaction survey",
    description = "The visitor's score, 1 (poor) to 5 (great), for a survey line of their thread.",
    request_body = VisitorRating,
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "A score outside 1 to 5, or a line that is not a survey (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 404, description = "No such line in this chat (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
async fn rate(
    State(s): State<AppState>,
    Visitor(v, _): Visitor,
    Body(req): Body<VisitorRating>,
) -> Result<StatusCode, Failure> {
    s.store.rate_visit(v.inbox_id, v.address, req.message_id, req.score).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ArticleQuery {
    /// What the visitor is typing (at most 200 bytes).
    q: String,
    /// The language to search in (the browser's); English when absent or when nothing matches.
    #[serde(default)]
    locale: Option<String>,
}

/// `GET /chat/v1/articles?q=&locale=`: published articles matching what the visitor is
/// typing, best first, in the language the widget names (the browser's), falling back to
/// English.
#[utoipa::path(
    get,
    path = "/chat/v1/articles",
    tag = "visitor",
    operation_id = "visitor_articles",
    summary = "Articles matching what the visitor types",
    description = "Published articles matching the visitor's words, best first (at most 5), before they write.",
    params(ArticleQuery),
    responses(
        (status = 200, description = "The matching articles", body = VisitorArticles),
        (status = 400, description = "A missing or too long `q`, or an unknown parameter (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 429, description = "Too many searches from this visitor (`rate_limited`)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
async fn articles(
    State(s): State<AppState>,
    Visitor(v, _): Visitor,
    Params(q): Params<ArticleQuery>,
) -> Result<Response, Failure> {
    if q.q.len() > 200 {
        return Err(fail(ErrorCode::BadRequest, "q must be at most 200 bytes"));
    }
    s.visitor_limits.searches_per_visitor.check(&s.store, v.id).await?.map_err(|wait| too_many("searches", wait))?;
    let locale =
        q.locale.as_deref().and_then(switchboard_protocol::articles::normalize_locale).unwrap_or_else(|| "en".into());
    let base = s.config.public_url.clone();
    let found =
        s.store.search_articles(locale.clone(), q.q.clone(), true, false, ARTICLES_OFFERED, base.clone()).await?;
    // Nothing in the visitor's language: the knowledge base's own.
    let found = if found.is_empty() && switchboard_protocol::articles::language(&locale) != "en" {
        s.store.search_articles("en".into(), q.q, true, false, ARTICLES_OFFERED, base).await?
    } else {
        found
    };
    Ok(Json(VisitorArticles { articles: found }).into_response())
}

/// `POST /chat/v1/deflections`: an article answered the visitor's question before they
/// wrote; counted once per visitor and article.
#[utoipa::path(
    post,
    path = "/chat/v1/deflections",
    tag = "visitor",
    operation_id = "visitor_deflection",
    summary = "An article answered the question",
    description = "The article answered the visitor's question, so they did not start a conversation. Counted once per \
        visitor and article, in the reports.",
    request_body = VisitorDeflection,
    responses(
        (status = 204, description = "Counted"),
        (status = 400, description = "A missing, unknown or invalid field (`bad_request`)", body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat (`forbidden`)", body = ApiError),
        (status = 404, description = "No such published article (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
async fn deflected(
    State(s): State<AppState>,
    Visitor(v, _): Visitor,
    Body(req): Body<VisitorDeflection>,
) -> Result<StatusCode, Failure> {
    s.store.deflected(v.id, req.article_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /chat/v1/socket`: the visitor's token in a `bearer.<token>` subprotocol (browsers)
/// or the `Authorization` header (apps), never in the URL.
#[utoipa::path(
    get,
    path = "/chat/v1/socket",
    tag = "visitor",
    operation_id = "visitor_socket",
    summary = "New lines of the thread, live (WebSocket)",
    description = "Upgrades to a WebSocket (subprotocol `switchboard`). The visitor's token comes as a second \
        subprotocol `bearer.<token>` offered beside `switchboard` (browsers) or in the `Authorization: Bearer` header \
        (apps); never in the URL. It is checked before the upgrade, and a refusal is an ordinary JSON error answer. \
        Once open, each message is a JSON text frame matching the `VisitorFrame` schema \
        (`#/components/schemas/VisitorFrame`): a new `message` of the thread (apply by `id`; one may arrive twice) or \
        a `heartbeat`. When an agent blocks the visitor the socket closes with code 4403.",
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open and carries `VisitorFrame` messages"),
        (status = 400, description = "Not a WebSocket upgrade (`bad_request`)", body = ApiError),
        (status = 401, description = "No token, or an unknown, malformed or expired one (`unauthorized`)",
            body = ApiError),
        (status = 403, description = "The business closed this chat, or the site may not use it (`forbidden`)",
            body = ApiError),
        (status = 429, description = "Too many chat windows open for this visitor or address (`rate_limited`)",
            body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("visitor" = []))
)]
async fn socket(
    State(s): State<AppState>,
    client: ClientAddr,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    parts: Parts,
) -> Result<Response, Failure> {
    let token = super::socket_token(&parts).ok_or_else(|| {
        fail(ErrorCode::Unauthorized, "offer the subprotocol `bearer.<token>`, or send `Authorization: Bearer <token>`")
    })?;
    let (v, _, settings) = visitor_for(&s, token).await?;
    let origin = parts.headers.get(header::ORIGIN).and_then(|o| o.to_str().ok());
    if !webchat::origin_allowed(&chat_settings(&settings)?.allowed_origins, origin) {
        return Err(fail(ErrorCode::Forbidden, "this site may not use the inbox's chat"));
    }
    let client = client_key(client.0);
    let limits = &s.visitor_limits;
    let per_visitor = limits.sockets_per_visitor.admit(v.id).ok_or_else(|| too_many("chat windows open", 5))?;
    let per_client = limits.sockets_per_client.admit(client.clone()).ok_or_else(|| too_many("chat windows open", 5))?;
    touch(&s, &v, &client).await?;
    let ws = ws.map_err(|r| fail(ErrorCode::BadRequest, r.body_text()))?;
    Ok(super::small_frames(ws).on_upgrade(move |socket| async move {
        let _slots = (per_visitor, per_client);
        if let Err(e) = run(socket, s, v).await {
            tracing::debug!("visitor socket ended: {e}");
        }
    }))
}

async fn push(socket: &mut WebSocket, frame: &VisitorFrame) -> Result<(), SocketError> {
    let text = serde_json::to_string(frame)?;
    Ok(socket.send(WsMessage::Text(text.into())).await?)
}

/// Pushes the visitor's new lines until the socket closes, the hub shuts down, or the
/// visitor is blocked.
async fn run(mut socket: WebSocket, s: AppState, v: VisitorRecord) -> Result<(), SocketError> {
    let mut sub = s.visitor_fanout.subscribe((v.inbox_id, v.address.clone()));
    let mut pushed = HashSet::new();
    let mut closing = s.closing.subscribe();
    let mut heartbeat = tokio::time::interval(Duration::from_secs(s.config.heartbeat_secs.max(1)));
    heartbeat.tick().await;
    let mut beats: u32 = 0;
    loop {
        tokio::select! {
            event = sub.events.recv() => match event {
                Some(VisitorEvent::Line { message_id, direction, delivery, created_at }) => {
                    if pushed.insert(message_id) {
                        if let Some(message) = s.store.visitor_line(v.inbox_id, v.address.clone(), message_id).await? {
                            push(&mut socket, &VisitorFrame::Message { message }).await?;
                        }
                    }
                    if direction == Direction::Outbound && delivery == Some(Delivery::Sent) {
                        let reported = s.store.reported_up_to(v.inbox_id, v.address.clone(), created_at, Delivery::Delivered);
                        if let Err(e) = reported.await {
                            tracing::warn!("cannot record a web-chat delivery: {e}");
                        }
                    }
                }
                Some(VisitorEvent::Resync) => {
                    // Too far behind to know what was missed: send the latest lines again.
                    let (lines, _) = s.store.visitor_thread(v.inbox_id, v.address.clone(), None, FIRST_PAGE).await?;
                    for message in lines {
                        pushed.insert(message.id);
                        push(&mut socket, &VisitorFrame::Message { message }).await?;
                    }
                }
                // Too slow to keep up: the widget reconnects and reads its thread.
                None => return Ok(()),
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_) | Ok(WsMessage::Close(_))) => return Ok(()),
                Some(Ok(_)) => {}
            },
            _ = heartbeat.tick() => {
                beats = beats.wrapping_add(1);
                if beats % CHECK_EVERY_HEARTBEATS == 0 {
                    if let Ok(Some(now)) = s.store.visitor(v.id).await {
                        if now.blocked {
                            let reason = "this chat has been closed by the business";
                            let close = CloseFrame { code: 4403, reason: reason.into() };
                            let _ = socket.send(WsMessage::Close(Some(close))).await;
                            return Ok(());
                        }
                    }
                }
                push(&mut socket, &VisitorFrame::Heartbeat { at: crate::clock::now_ms() }).await?;
            }
            _ = async { let _ = closing.wait_for(|c| *c).await; } => {
                let _ = socket.send(WsMessage::Close(None)).await;
                return Ok(());
            }
        }
    }
}
