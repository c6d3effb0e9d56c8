//! The hub's OpenAPI 3.1 description of its HTTP API, put together from the handlers'
//! `#[utoipa::path]` annotations and the wire types of `switchboard-protocol`: served at
//! `GET /openapi.json` and printed by `switchboard-hub openapi`, so clients can be generated
//! and checked without reading the handlers. `docs/protocol.md` stays the prose reference.
//!
//! Every route of the router is described here or listed in [`UNDOCUMENTED`] with the reason;
//! the hub's `openapi` test compares both with the routes the sources declare.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use switchboard_protocol::sync::{Change, StreamFrame};
use switchboard_protocol::visitor::VisitorFrame;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The routes the description leaves out, as (method, path, why): they are not an API a
/// client calls.
pub const UNDOCUMENTED: &[(&str, &str, &str)] = &[
    ("POST", "/webhooks/twilio/{id}", "Twilio's inbound webhook: called and signed by the provider"),
    ("POST", "/webhooks/twilio/{id}/status", "Twilio's delivery reports: called and signed by the provider"),
    ("GET", "/webhooks/meta/{id}", "Meta's subscription handshake: called by the provider"),
    (
        "POST",
        "/webhooks/meta/{id}",
        "Meta's webhook (WhatsApp, Messenger, Instagram): called and signed by the provider",
    ),
    ("POST", "/webhooks/email/{id}", "Inbound email: posted by the mail provider"),
    ("GET", "/media/{key}", "Files fetched by providers through the signed links the hub sends them"),
    ("GET", "/widget.js", "The web-chat widget's script, embedded by websites"),
    ("GET", "/help", "The help centre's HTML page, for people"),
    ("GET", "/help/articles/{key}", "A help-centre article as an HTML page, for people"),
    ("POST", "/help/articles/{key}/feedback", "The help centre's HTML form, answered with a redirect"),
    ("GET", "/unsubscribe/{token}", "The unsubscribe link's HTML page; its one-click POST is described"),
];

/// The schemes the operations name in `security`: each an HTTP bearer token.
const SCHEMES: &[(&str, &str, &str)] = &[
    (
        "session",
        "sb1.<session id>.<secret>",
        "An agent's session token from `POST /api/v1/auth/login`, sent as `Authorization: Bearer <token>`. On the \
         change stream a browser, which cannot set headers on a WebSocket, offers it as the subprotocol \
         `bearer.<token>` beside `switchboard` instead.",
    ),
    (
        "api_key",
        "sbk_<id>_<secret>",
        "A business system's or an external bot's API key, made by an admin (`POST /api/v1/admin/api_keys`) and sent \
         as `Authorization: Bearer <key>`. A key of the `notify` scope works only on `POST /api/v1/notify`, one of \
         the `bot` scope only on the bot API.",
    ),
    (
        "visitor",
        "sbv1.<visitor id>.<secret>",
        "A web-chat or in-app visitor's token from `POST /chat/v1/sessions`, sent as `Authorization: Bearer \
         <token>`. On the visitor's socket a browser offers it as the subprotocol `bearer.<token>` beside \
         `switchboard` instead.",
    ),
];

#[derive(Debug, utoipa::OpenApi)]
#[openapi(
    info(
        title = "Switchboard hub API",
        version = env!("CARGO_PKG_VERSION"),
        description = "The HTTP interface of the Switchboard hub: the agent API under `/api/v1` that the console and \
            any other client use (with its WebSocket change stream), its administration, the visitor API under \
            `/chat/v1` that web chat and in-app chat use, the APIs business systems and external bots call with \
            their keys, and the operations endpoints. Every error is an `ApiError` body (`{code, message}`, with \
            `retry_after` when waiting helps) with the HTTP status of its code; act on `code`. Timestamps are \
            milliseconds since the Unix epoch and ids positive integers. `docs/protocol.md` in the repository is \
            the prose reference."
    ),
    paths(
        super::healthz,
        super::observe::ready,
        super::observe::metrics,
        serve,
        super::login,
        super::logout,
        super::logout_everywhere,
        super::me,
        super::bootstrap,
        super::changes,
        super::stream::stream,
        super::history,
        super::mutations,
        super::report,
        super::article_versions,
        super::blob,
        super::uploads::upload,
        super::attachment,
        super::campaigns::list,
        super::campaigns::create,
        super::campaigns::check,
        super::campaigns::one,
        super::campaigns::act,
        super::campaigns::recipients,
        super::campaigns::export,
        super::campaigns::segments,
        super::campaigns::create_segment,
        super::campaigns::delete_segment,
        super::admin::api_keys,
        super::admin::create_api_key,
        super::admin::revoke_api_key,
        super::admin::agents,
        super::admin::create_agent,
        super::admin::update_agent,
        super::admin::revoke_sessions,
        super::admin::audit_log,
        super::admin::teams,
        super::admin::create_team,
        super::admin::inboxes,
        super::admin::create_inbox,
        super::admin::update_inbox,
        super::admin::crm,
        super::admin::put_crm,
        super::notify::notify,
        super::unsubscribe::unsubscribe,
        super::bot::reply,
        super::visitor::start,
        super::visitor::history,
        super::visitor::send,
        super::visitor::profile,
        super::visitor::read,
        super::visitor::rate,
        super::visitor::socket,
        super::visitor::upload,
        super::visitor::file,
        super::visitor::articles,
        super::visitor::deflected,
    ),
    // What the two WebSockets carry, which no operation's body names.
    components(schemas(StreamFrame, VisitorFrame, Change)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "agent", description = "The agent API: login, sync, the change stream, history, mutations, files, \
            reports, campaigns. Send the session token as `Authorization: Bearer <token>`."),
        (name = "admin", description = "Managing agents, teams, inboxes, the CRM connector, API keys and the audit \
            log. Admins only; anyone else gets `403 forbidden`."),
        (name = "visitor", description = "The visitor API of web chat and in-app chat, for customers: with a visitor \
            token for one inbox. Unknown fields and query parameters are refused."),
        (name = "bot", description = "The API an external bot answers through, with a key of the `bot` scope."),
        (name = "business", description = "What business systems and mail clients call: notifications with a key \
            of the `notify` scope, and one-click unsubscribe."),
        (name = "operations", description = "Liveness and this description; no authentication."),
    )
)]
struct ApiDoc;

/// Adds the bearer schemes of [`SCHEMES`] to the document's components.
#[derive(Debug)]
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(utoipa::openapi::Components::new);
        for (name, format, description) in SCHEMES {
            let scheme = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format(*format)
                .description(Some(*description));
            components.add_security_scheme(*name, SecurityScheme::Http(scheme.build()));
        }
    }
}

/// The hub's API as an OpenAPI 3.1 document.
pub fn document() -> utoipa::openapi::OpenApi {
    <ApiDoc as utoipa::OpenApi>::openapi()
}

/// [`document`] as pretty-printed JSON.
pub fn json() -> String {
    // The document is strings, numbers, lists and maps with string keys: writing it as JSON
    // cannot fail.
    document().to_pretty_json().unwrap_or_default()
}

/// `GET /openapi.json`: this description, worked out once per process.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    summary = "This description",
    description = "The OpenAPI 3.1 description of the hub's API, as `switchboard-hub openapi` prints it. No \
        authentication.",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
pub(super) async fn serve() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let body: &'static str = JSON.get_or_init(json).as_str();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}
