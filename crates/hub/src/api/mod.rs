//! The hub's HTTP edge, every route in one place: the agent API under `/api/v1` (login,
//! sync, the stream, history, mutations, reports, administration), leads' campaigns
//! ([`campaigns`]), business systems'
//! notifications ([`notify`]), the providers' webhooks under
//! `/webhooks` ([`webhooks`]), and web chat's `/widget.js` and visitor API under `/chat/v1`
//! ([`visitor`]); the OpenAPI description of them is at `/openapi.json` ([`openapi`]), from
//! each handler's `#[utoipa::path]`. Handlers parse, call the store, and answer JSON; every
//! failure is a `{code, message}` body with the matching HTTP status. Wire formats and
//! signatures are [`crate::channels`]'s.

mod admin;
pub mod bot;
mod campaigns;
pub mod client;
pub mod console_version;
pub mod help;
pub mod limits;
pub mod notify;
pub mod observe;
pub mod openapi;
mod stream;
mod unsubscribe;
pub(crate) mod uploads;
mod visitor;
mod webhooks;

pub use stream::SocketError;

use crate::auth::Auth;
use crate::channels::media::{self, MediaError, Source};
use crate::channels::settings::Settings;
use crate::config::Config;
use crate::fanout::Fanout;
use crate::outbound;
use crate::policy::Viewer;
use crate::storage::{Storage, StorageError};
use crate::store::feed::BootstrapLimits;
use crate::store::{feed, Store};
use crate::visitor_fanout::VisitorFanout;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::Router;
use client::ClientAddr;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::future::Future;
use std::sync::Arc;
use switchboard_protocol::articles::ArticleVersion;
use switchboard_protocol::auth::{LoginRequest, LoginResponse};
use switchboard_protocol::model::Agent;
use switchboard_protocol::mutation::{MutationBatch, MutationResponse};
use switchboard_protocol::report::Report;
use switchboard_protocol::sync::{Bootstrap, ChangesPage, MessagesPage};
use switchboard_protocol::{ApiError, ErrorCode};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Arc<Auth>,
    pub fanout: Fanout,
    pub config: Arc<Config>,
    /// Set when the server shuts down: open streams close, so a graceful shutdown ends.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Set when the hub is told to stop, `drain_ms` before it closes: `/readyz` answers
    /// `503` so the load balancer sends no new work.
    pub draining: Arc<tokio::sync::watch::Sender<bool>>,
    /// The client customers' media is fetched from providers with (it follows no redirect
    /// itself); `None` when it could not be built, and media then answers `503`.
    pub media_http: Option<reqwest::Client>,
    /// Agents' streams open on this hub, per session.
    pub streams: limits::Gauge<i64>,
    /// The agents those streams are for, recorded as seen together.
    pub consoles: crate::consoles::Consoles,
    /// The files the hub keeps.
    pub storage: Storage,
    /// Bootstraps being built on this hub.
    pub bootstraps: Arc<tokio::sync::Semaphore>,
    /// Reports being worked out on this hub.
    pub reports: Arc<tokio::sync::Semaphore>,
    /// Each API key's notifications, counted with every hub's.
    pub notify_limits: Arc<notify::Limits>,
    /// Visitors' sockets on this hub; their chats, messages and searches counted with every
    /// hub's.
    pub visitor_limits: Arc<visitor::VisitorLimits>,
    /// The help centre's pages per client address, counted with every hub's.
    pub help_limits: Arc<help::Limits>,
    /// Each bot key's answers, counted with every hub's.
    pub bot_limits: Arc<bot::Limits>,
    /// Web-chat lines routed to visitors' sockets by thread.
    pub visitor_fanout: VisitorFanout,
    /// The hubs' shared key for the links providers fetch files by, read on first use.
    link_secret: Arc<tokio::sync::OnceCell<String>>,
}

impl AppState {
    /// The hubs' shared key for signed file links.
    pub async fn link_secret(&self) -> Result<&str, Failure> {
        let key = self.link_secret.get_or_try_init(|| self.store.hub_key(crate::channels::links::LINK_KEY)).await?;
        Ok(key.as_str())
    }

    /// Must be called inside a Tokio runtime (it starts the fan-out pump).
    pub fn new(store: Store, config: Config) -> AppState {
        crate::metrics::install();
        store.set_public_url(config.public_url.as_deref());
        let fanout = Fanout::start(store.clone());
        let visitor_fanout = VisitorFanout::start(store.clone(), &fanout);
        let auth = Arc::new(Auth::new(store.clone(), &config));
        let consoles = crate::consoles::Consoles::default();
        consoles.start(store.clone(), auth.clone(), std::time::Duration::from_secs(config.heartbeat_secs.max(1)));
        AppState {
            auth,
            streams: limits::Gauge::new(stream::STREAMS_PER_SESSION).reported_as(crate::metrics::Open::Streams),
            consoles,
            fanout,
            storage: config.storage(|| store.default_blob_dir()),
            bootstraps: Arc::new(tokio::sync::Semaphore::new(config.bootstraps.max(1))),
            reports: Arc::new(tokio::sync::Semaphore::new(REPORTS_AT_ONCE)),
            notify_limits: Arc::new(notify::limits()),
            help_limits: Arc::new(help::limits()),
            bot_limits: Arc::new(bot::limits()),
            visitor_limits: Arc::default(),
            visitor_fanout,
            link_secret: Arc::default(),
            store,
            media_http: outbound::client_without_redirects(std::time::Duration::from_millis(
                config.delivery_timeout_ms.max(1),
            ))
            .inspect_err(|e| tracing::error!("customers' media cannot be fetched: {e}"))
            .ok(),
            config: Arc::new(config),
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
            draining: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

/// An error answer.
#[derive(Debug)]
pub struct Failure(pub ApiError);

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure(e)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure(e.to_api())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.0.retry_after;
        let mut resp = (status, axum::Json(self.0)).into_response();
        if let Some(secs) = retry {
            if let Ok(v) = header::HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

fn bad_request(msg: impl Into<String>) -> Failure {
    Failure(ApiError::new(ErrorCode::BadRequest, msg))
}

/// A JSON body whose rejections answer `bad_request` or `payload_too_large`.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Failure> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(r: &JsonRejection) -> Failure {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure(ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large"))
    } else {
        bad_request(r.body_text())
    }
}

/// Query parameters whose rejections answer `bad_request`.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Params(v))
            .map_err(|r: QueryRejection| bad_request(r.body_text()))
    }
}

/// A path id; anything but a positive integer answers `bad_request`.
#[derive(Debug)]
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Failure> {
        let Path(id) = Path::<i64>::from_request_parts(parts, state)
            .await
            .map_err(|r: PathRejection| bad_request(format!("bad id in the path: {}", r.body_text())))?;
        if id <= 0 {
            return Err(bad_request("ids are positive integers"));
        }
        Ok(IdPath(id))
    }
}

/// The authenticated caller.
#[derive(Debug)]
pub struct Caller {
    pub viewer: Viewer,
    pub session_id: i64,
}

pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")
}

/// The subprotocol the hub's sockets answer with. A browser, which cannot set headers on a
/// WebSocket, offers it together with `bearer.<token>`.
pub const SOCKET_PROTOCOL: &str = "switchboard";

/// A socket's token: the `Authorization` header, or a `bearer.<token>` subprotocol. Never
/// the URL, which proxies and servers log.
pub(crate) fn socket_token(parts: &Parts) -> Option<&str> {
    bearer(parts).or_else(|| {
        parts
            .headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| p.trim().strip_prefix("bearer."))
    })
}

/// An upgrade that answers with [`SOCKET_PROTOCOL`] and takes only small frames from the
/// client, read through a buffer to match: the WebSocket library's own default (128 KiB, zeroed
/// on every read) held a hub with thousands of consoles at hundreds of megabytes.
pub(crate) fn small_frames(ws: axum::extract::ws::WebSocketUpgrade) -> axum::extract::ws::WebSocketUpgrade {
    ws.protocols([SOCKET_PROTOCOL])
        .max_message_size(stream::CLIENT_FRAME_BYTES)
        .max_frame_size(stream::CLIENT_FRAME_BYTES)
        .read_buffer_size(2 * stream::CLIENT_FRAME_BYTES)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Failure;

    fn from_request_parts(parts: &mut Parts, state: &AppState) -> impl Future<Output = Result<Self, Failure>> + Send {
        let token = bearer(parts).map(str::to_owned);
        let auth = state.auth.clone();
        async move {
            let token = token.ok_or_else(|| {
                Failure(ApiError::new(ErrorCode::Unauthorized, "send `Authorization: Bearer <token>`"))
            })?;
            let (viewer, session_id) = auth.authenticate(&token).await?;
            Ok(Caller { viewer, session_id })
        }
    }
}

/// The largest login request: an email and a password.
pub const LOGIN_BODY_BYTES: usize = 16 * 1024;

/// The v1 router over `state`. Each route has its own body limit: the agent API and the
/// providers' webhooks `max_body_bytes`, inbound email `max_email_bytes`, and logins and the
/// visitor API small limits of their own, whatever the others are raised to.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let request_timeout = std::time::Duration::from_millis(state.config.request_timeout_ms.max(1));
    let min_console =
        state.config.min_console_version.as_deref().and_then(switchboard_protocol::version::Version::parse);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(observe::ready))
        .route("/metrics", get(observe::metrics))
        .route("/openapi.json", get(openapi::serve))
        .route("/api/v1/auth/login", post(login).layer(DefaultBodyLimit::max(limit.min(LOGIN_BODY_BYTES))))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/logout_everywhere", post(logout_everywhere))
        .route("/api/v1/me", get(me))
        .route("/api/v1/sync/bootstrap", get(bootstrap))
        .route("/api/v1/sync/changes", get(changes))
        .route("/api/v1/stream", get(stream::stream))
        .route("/api/v1/conversations/{id}/messages", get(history))
        .route("/api/v1/mutations", post(mutations))
        .route("/api/v1/reports", get(report))
        .route("/api/v1/articles/{id}/versions", get(article_versions))
        .route("/api/v1/notify", post(notify::notify).layer(DefaultBodyLimit::max(limit.min(notify::BODY_BYTES))))
        .route("/api/v1/admin/api_keys", get(admin::api_keys).post(admin::create_api_key))
        .route("/api/v1/admin/api_keys/{id}", delete(admin::revoke_api_key))
        .route("/api/v1/admin/agents", get(admin::agents).post(admin::create_agent))
        .route("/api/v1/admin/agents/{id}", patch(admin::update_agent))
        .route("/api/v1/admin/agents/{id}/sessions", delete(admin::revoke_sessions))
        .route("/api/v1/admin/audit", get(admin::audit_log))
        .route("/api/v1/admin/teams", get(admin::teams).post(admin::create_team))
        .route("/api/v1/admin/inboxes", get(admin::inboxes).post(admin::create_inbox))
        .route("/api/v1/admin/inboxes/{id}", patch(admin::update_inbox))
        .route("/api/v1/admin/crm", get(admin::crm).put(admin::put_crm))
        .route("/api/v1/blobs/{key}", get(blob))
        .route("/api/v1/uploads", post(uploads::upload))
        .route("/media/{key}", get(media_link))
        .route("/api/v1/messages/{id}/attachments/{index}", get(attachment))
        .merge(campaigns::router().layer(DefaultBodyLimit::max(limit.max(campaigns::BODY_BYTES))))
        .merge(unsubscribe::router())
        .merge(help::router())
        .merge(bot::router().layer(DefaultBodyLimit::max(limit.min(bot::BODY_BYTES))))
        .merge(webhooks::router(state.config.max_email_bytes))
        .merge(visitor::router(limit.min(visitor::BODY_BYTES)))
        .fallback(|| async { Failure(ApiError::new(ErrorCode::NotFound, "no such endpoint")) })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(min_console, console_version::gate))
        .layer(axum::middleware::from_fn_with_state(request_timeout, within_time))
        .layer(axum::middleware::from_fn(observe::track))
        .with_state(state)
}

/// Serves the HTTP edge on `listener` until `shutdown` completes; open streams are told to
/// close then, and the server waits for every connection to finish. A client gets
/// `header_timeout_ms` to send a request's headers (a connection that trickles them is
/// dropped), and each request `request_timeout_ms` to be answered. The background work is
/// not started here: [`crate::server::run`] runs both.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use tower::ServiceExt;
    // However serving ends (shut down, or this future dropped), open streams and sockets are
    // told to close, and the connections go with it.
    let _closing = CloseOnDrop(state.closing.clone());
    let header_timeout = std::time::Duration::from_millis(state.config.header_timeout_ms.max(1));
    let app = router(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let conn = graceful.watch(conn);
        connections.spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection from {peer} ended: {e}");
            }
        });
    }
    drop(listener);
    drop(_closing);
    graceful.shutdown().await;
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Tells open streams and sockets to close when dropped.
struct CloseOnDrop(Arc<tokio::sync::watch::Sender<bool>>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

/// Answers `503 unavailable` for a request not answered within the hub's
/// `request_timeout_ms` (a WebSocket's upgrade is answered at once; what follows is not
/// timed).
async fn within_time(
    State(timeout): State<std::time::Duration>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            let mut e = ApiError::new(ErrorCode::Unavailable, "the hub took too long to answer; try again");
            e.retry_after = Some(1);
            Failure(e).into_response()
        }
    }
}

/// `GET /healthz`: the process is up and serving.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    operation_id = "healthz",
    summary = "Liveness check",
    description = "Answers `200` with the text `ok` while the hub serves requests. It does not touch the database.",
    responses((status = 200, description = "The hub is up", body = String, content_type = "text/plain"))
)]
async fn healthz() -> &'static str {
    "ok"
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "agent",
    operation_id = "login",
    summary = "Log in",
    description = "Exchanges an agent's email (compared trimmed and lower-cased) and password for a session token, \
        sent afterwards as `Authorization: Bearer <token>`. Failed logins are counted per email and client \
        address; past the free ones the login locks for a doubling time (`429` with `retry_after`).",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "The session's token and the agent", body = LoginResponse),
        (status = 400, description = "The body is not `{email, password}` (`bad_request`)", body = ApiError),
        (status = 401, description = "Unknown email or wrong password (`invalid_credentials`)", body = ApiError),
        (status = 403, description = "The right password, but the agent is disabled (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is over 16 KiB (`payload_too_large`)", body = ApiError),
        (status = 429, description = "Too many failed logins, or every password check is busy (`rate_limited`)",
            body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    )
)]
async fn login(
    State(s): State<AppState>,
    client: ClientAddr,
    Body(req): Body<LoginRequest>,
) -> Result<Response, Failure> {
    let client = crate::throttle::client_key(client.0);
    Ok(axum::Json(s.auth.login(&req.email, &req.password, &client).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "agent",
    operation_id = "logout",
    summary = "Log out",
    description = "Ends the session of the token used; later requests with it answer `401`.",
    responses(
        (status = 204, description = "The session has ended"),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn logout(State(s): State<AppState>, caller: Caller) -> Result<StatusCode, Failure> {
    s.auth.logout(caller.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of the caller, this one included (a lost laptop).
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout_everywhere",
    tag = "agent",
    operation_id = "logout_everywhere",
    summary = "Log out everywhere",
    description = "Ends every session of the calling agent, this one included (a lost laptop). Written to the audit \
        log.",
    responses(
        (status = 204, description = "Every session of the agent has ended"),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn logout_everywhere(
    State(s): State<AppState>,
    caller: Caller,
    client: ClientAddr,
) -> Result<StatusCode, Failure> {
    let n = s.auth.logout_everywhere(caller.viewer.agent_id).await?;
    admin::audit(
        &s,
        &caller,
        &client,
        "sessions.revoke",
        format!("agent:{}", caller.viewer.agent_id),
        serde_json::json!({"sessions": n}),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "agent",
    operation_id = "me",
    summary = "The calling agent",
    responses(
        (status = 200, description = "The agent the token belongs to", body = Agent),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn me(State(s): State<AppState>, caller: Caller) -> Result<Response, Failure> {
    let agents = s.store.agents().await?;
    let me = agents.into_iter().find(|a| a.id == caller.viewer.agent_id);
    Ok(axum::Json(me).into_response())
}

/// One of `slots`, waited for up to `wait_secs`; then `unavailable`, saying `busy` and when
/// to try again.
async fn permit<'a>(
    slots: &'a tokio::sync::Semaphore,
    wait_secs: u64,
    busy: &str,
    retry_after: u64,
) -> Result<tokio::sync::SemaphorePermit<'a>, Failure> {
    match tokio::time::timeout(std::time::Duration::from_secs(wait_secs), slots.acquire()).await {
        Ok(Ok(p)) => Ok(p),
        _ => {
            let mut e = ApiError::new(ErrorCode::Unavailable, busy);
            e.retry_after = Some(retry_after);
            Err(Failure(e))
        }
    }
}

/// How many reports one hub works out at once; more wait, then answer `unavailable`.
const REPORTS_AT_ONCE: usize = 2;

#[utoipa::path(
    get,
    path = "/api/v1/reports",
    tag = "agent",
    operation_id = "report",
    summary = "A report over a period and team",
    description = "A lead's report over whole days, `from` to `to` included (at most 366), in the hub's report time \
        zone: response and resolution times, volume, each agent's work, response-time targets met, satisfaction, the \
        bots and the knowledge base. Leads read their own teams' reports, admins any team's; agents are refused. \
        Reports are worked out two at a time per hub; others wait up to 20 seconds, then answer `503`.",
    params(
        ("from" = String, Query, description = "The first day, `YYYY-MM-DD`"),
        ("to" = String, Query, description = "The last day, `YYYY-MM-DD`, included"),
        ("team_id" = Option<i64>, Query, description = "One team; without it, every team the caller leads"),
    ),
    responses(
        (status = 200, description = "The report", body = Report),
        (status = 400, description = "Not two dates in order, or more than 366 days (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not read reports (`forbidden`)", body = ApiError),
        (status = 404, description = "A team the caller does not lead (`not_found`)", body = ApiError),
        (status = 503, description = "The hub is busy with other reports, or the database cannot be reached \
            (`unavailable`)", body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("session" = []))
)]
async fn report(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<switchboard_protocol::report::ReportQuery>,
) -> Result<Response, Failure> {
    let _permit = permit(&s.reports, 20, "the hub is busy working out other reports; try again", 5).await?;
    Ok(axum::Json(s.store.report(&caller.viewer, q, &s.config.report_time_zone).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct BootstrapQuery {
    /// How many of each conversation's latest messages to include (the hub's setting by default; at most 500).
    messages_per_conversation: Option<usize>,
}

/// `GET /api/v1/articles/{id}/versions`: an article's saved versions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/versions",
    tag = "agent",
    operation_id = "article_versions",
    summary = "An article's saved versions",
    description = "Every saved version of a knowledge-base article, newest first (at most 200). Any signed-in agent.",
    params(("id" = i64, Path, description = "The article's id")),
    responses(
        (status = 200, description = "The versions, newest first", body = Vec<ArticleVersion>),
        (status = 400, description = "The id is not a number"),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such article (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn article_versions(
    State(s): State<AppState>,
    _signed_in: Caller,
    Path(id): Path<i64>,
) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.article_versions(id).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/sync/bootstrap",
    tag = "agent",
    operation_id = "bootstrap",
    summary = "Snapshot of everything in scope",
    description = "Everything the caller may see, read in one consistent transaction, with the `cursor` to ask for \
        changes from. Bootstraps are built a few at a time per hub; others wait up to 10 seconds, then answer `503`.",
    params(BootstrapQuery),
    responses(
        (status = 200, description = "The snapshot and its cursor", body = Bootstrap),
        (status = 400, description = "An unknown or malformed query parameter (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 503, description = "The hub is busy preparing other consoles, or the database cannot be reached \
            (`unavailable`)", body = ApiError, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("session" = []))
)]
async fn bootstrap(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<BootstrapQuery>,
) -> Result<Response, Failure> {
    let per = q.messages_per_conversation.unwrap_or(s.config.bootstrap_messages).min(500);
    // A bootstrap is the hub's largest answer: only so many are built at once.
    let _permit = permit(&s.bootstraps, 10, "the hub is busy preparing other consoles; try again", 2).await?;
    let limits = BootstrapLimits {
        max_messages: s.config.bootstrap_max_messages,
        max_resolved: s.config.bootstrap_max_resolved,
    };
    let mut snapshot = s.store.bootstrap_within(&caller.viewer, per, limits).await?;
    snapshot.public_url = s.config.public_url.clone();
    Ok(axum::Json(snapshot).into_response())
}

/// The most changes one page carries.
pub const MAX_PAGE: usize = 5_000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct ChangesQuery {
    /// The last cursor applied.
    since: String,
    /// The most changes in one page: 1 to 5000 (1000 by default).
    limit: Option<usize>,
}

// The hub forwards each change's stored JSON (`ChangesPage<Box<RawValue>>`), which has the
// shape of `ChangesPage<Change>`, the type's default.
#[utoipa::path(
    get,
    path = "/api/v1/sync/changes",
    tag = "agent",
    operation_id = "changes",
    summary = "Page of changes after a cursor",
    description = "The changes in the caller's scope after `since`, in feed order. Store `next` once the page is \
        applied; when `has_more` is true, ask again at once. On `bad_cursor` or `cursor_expired`, bootstrap again.",
    params(ChangesQuery),
    responses(
        (status = 200, description = "A page of changes", body = ChangesPage),
        (status = 400, description = "A bad `limit` (`bad_request`), or a cursor this hub did not issue \
            (`bad_cursor`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 410, description = "The cursor is older than the feed's retention (`cursor_expired`)",
            body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn changes(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<ChangesQuery>,
) -> Result<Response, Failure> {
    let since = feed::parse_cursor(&q.since)?;
    let limit = q.limit.unwrap_or(1_000);
    if limit == 0 || limit > MAX_PAGE {
        return Err(bad_request(format!("limit must be 1 to {MAX_PAGE}")));
    }
    Ok(axum::Json(s.store.changes(&caller.viewer, since, limit).await?).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    /// Only messages older than this token (a page's `before`); absent or empty: from the newest.
    before: Option<String>,
    /// 1 to 500 (50 by default).
    limit: Option<usize>,
}

#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/messages",
    tag = "agent",
    operation_id = "history",
    summary = "Older messages of one conversation",
    description = "The newest `limit` messages older than `before`, oldest first, with the token for the page \
        before.",
    params(("id" = i64, Path, description = "The conversation's id"), HistoryQuery),
    responses(
        (status = 200, description = "A page of messages", body = MessagesPage),
        (status = 400, description = "A bad id or `limit` (`bad_request`), or a bad `before` (`bad_cursor`)",
            body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such conversation in the caller's scope (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn history(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    Params(q): Params<HistoryQuery>,
) -> Result<Response, Failure> {
    let before = match q.before.as_deref() {
        None | Some("") => None,
        Some(t) => Some(t.parse::<i64>().ok().filter(|v| *v > 0).ok_or_else(|| {
            Failure(ApiError::new(ErrorCode::BadCursor, format!("`{t}` is not a history token this hub issued")))
        })?),
    };
    let limit = q.limit.unwrap_or(50);
    if limit == 0 || limit > 500 {
        return Err(bad_request("limit must be 1 to 500"));
    }
    Ok(axum::Json(s.store.messages_before(&caller.viewer, id, before, limit).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/blobs/{key}",
    tag = "agent",
    operation_id = "blob",
    summary = "A file the hub keeps",
    description = "The bytes of a file the hub keeps (an upload, an email attachment), named by the `url` of an \
        attachment, for an agent who may see the conversation of the message it came with, or its uploader. The \
        answer carries the stored `Content-Type`, `Content-Disposition: attachment` and `X-Content-Type-Options: \
        nosniff`.",
    params(("key" = String, Path, description = "The file's key: 32 hexadecimal digits")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such file, or not one the caller may fetch (`not_found`)", body = ApiError),
        (status = 503, description = "The file store or the database cannot be read (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn blob(State(s): State<AppState>, caller: Caller, Path(key): Path<String>) -> Result<Response, Failure> {
    let meta = s.store.blob(&caller.viewer, key).await?;
    kept_file(&s, &meta).await
}

#[derive(Debug, serde::Deserialize)]
struct LinkQuery {
    e: Option<i64>,
    s: Option<String>,
}

/// `GET /media/{key}?e=&s=`: a file the hub sends, fetched by the provider through the
/// signed link the send named ([`crate::channels::links`]); a forged or expired link gets `404`.
async fn media_link(
    State(s): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<LinkQuery>,
) -> Result<Response, Failure> {
    let not_found = || Failure(ApiError::new(ErrorCode::NotFound, "no such file, or the link has expired"));
    let (Some(e), Some(sig)) = (q.e, q.s) else { return Err(not_found()) };
    crate::channels::links::verify(s.link_secret().await?, &key, e, &sig, crate::clock::now_ms())
        .map_err(|_| not_found())?;
    let meta = s.store.sent_blob(key).await?.ok_or_else(not_found)?;
    kept_file(&s, &meta).await
}

/// A file the hub keeps, streamed from the file store.
pub(crate) async fn kept_file(s: &AppState, meta: &crate::store::blobs::BlobMeta) -> Result<Response, Failure> {
    let opened = s.storage.open(&meta.key).await.map_err(|e| match e {
        StorageError::NotFound => {
            tracing::error!(key = %meta.key, "a kept file is missing from the file store");
            Failure(ApiError::new(ErrorCode::NotFound, "the file is missing from the hub's file store"))
        }
        other => {
            tracing::error!("the file store: {other}");
            Failure(ApiError::new(ErrorCode::Unavailable, "the hub's file store cannot be read; try again"))
        }
    })?;
    let body = axum::body::Body::from_stream(opened.body);
    let mut resp = file(&meta.name, meta.mime.clone(), body);
    if let Ok(v) = header::HeaderValue::from_str(&opened.size.to_string()) {
        resp.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    Ok(resp)
}

/// A file to download, never shown inline or sniffed into something else.
fn file(name: &str, mime: String, body: impl Into<axum::body::Body>) -> Response {
    let name: String = name.chars().map(|c| if c.is_control() || matches!(c, '"' | '\\') { '_' } else { c }).collect();
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        body.into(),
    )
        .into_response()
}

/// An attachment of a message the caller may see: a file the hub keeps, or the customer's
/// media fetched from its provider with the inbox's credentials (the console's token never
/// goes anywhere but here).
#[utoipa::path(
    get,
    path = "/api/v1/messages/{id}/attachments/{index}",
    tag = "agent",
    operation_id = "attachment",
    summary = "An attachment of a message",
    description = "Attachment `index` (from 0) of message `id`, for a caller who may see its conversation: a file \
        the hub keeps, or the customer's media fetched from its provider with the inbox's credentials, which never \
        leave the hub.",
    params(
        ("id" = i64, Path, description = "The message's id"),
        ("index" = usize, Path, description = "Which attachment, from 0"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 400, description = "A bad id or index (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 404, description = "No such message or attachment in the caller's scope (`not_found`)",
            body = ApiError),
        (status = 413, description = "The provider's file is larger than `max_media_bytes` (`payload_too_large`)",
            body = ApiError),
        (status = 503, description = "The provider failed or refused, or the file store cannot be read \
            (`unavailable`)", body = ApiError),
    ),
    security(("session" = []))
)]
async fn attachment(
    State(s): State<AppState>,
    caller: Caller,
    path: Result<Path<(i64, usize)>, PathRejection>,
) -> Result<Response, Failure> {
    let Path((id, index)) = path.map_err(|r| bad_request(format!("bad attachment in the path: {}", r.body_text())))?;
    let at = s.store.attachment(&caller.viewer, id, index).await?;
    let settings = Settings::from_json(&at.settings).map_err(|e| {
        tracing::error!("inbox settings are unusable: {e}");
        Failure(ApiError::new(ErrorCode::Internal, "the inbox's settings are invalid"))
    })?;
    let source = media::source(&at.attachment.url, at.channel, at.direction, &settings).map_err(media_failure)?;
    let (mime, data) = match source {
        Source::Blob(key) => {
            let meta = s.store.blob(&caller.viewer, key).await?;
            return kept_file(&s, &meta).await;
        }
        remote => {
            let http = s.media_http.as_ref().ok_or_else(|| {
                media_failure(MediaError::Provider("the hub has no HTTP client for providers".into()))
            })?;
            let f = media::fetch(http, &remote, s.config.max_media_bytes).await.map_err(media_failure)?;
            (f.mime.unwrap_or(at.attachment.mime.clone()), f.data)
        }
    };
    Ok(file(&at.attachment.name, mime, data))
}

fn media_failure(e: MediaError) -> Failure {
    let code = match &e {
        MediaError::NotFetchable => ErrorCode::NotFound,
        MediaError::TooLarge(_) => ErrorCode::PayloadTooLarge,
        MediaError::Provider(reason) => {
            tracing::warn!("fetching a customer's media failed: {reason}");
            ErrorCode::Unavailable
        }
    };
    Failure(ApiError::new(code, e.to_string()))
}

#[utoipa::path(
    post,
    path = "/api/v1/mutations",
    tag = "agent",
    operation_id = "mutations",
    summary = "Apply a batch of mutations",
    description = "Everything an agent changes: at most 500 mutations, applied one at a time in order, each answered \
        `applied`, `duplicate`, `conflict` (with the current state) or `rejected` (with the error). A retried \
        mutation is applied once. The whole batch fails only when it does not parse, its `client_id` belongs to \
        another agent, or the database fails.",
    request_body = MutationBatch,
    responses(
        (status = 200, description = "One result per mutation, in order", body = MutationResponse),
        (status = 400, description = "The body does not parse, or breaks a limit (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The `client_id` belongs to another agent (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)",
            body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn mutations(
    State(s): State<AppState>,
    caller: Caller,
    Body(batch): Body<MutationBatch>,
) -> Result<Response, Failure> {
    let results = s.store.apply_mutations(&caller.viewer, &batch.client_id, batch.mutations).await?;
    Ok(axum::Json(MutationResponse { results }).into_response())
}
