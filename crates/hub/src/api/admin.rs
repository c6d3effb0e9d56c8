//! Admin endpoints: agents and their sessions, teams, inboxes, the CRM connector, the
//! notifications API's keys, the audit log. Only admins may call them, and every change they make is written to the
//! audit log with its author and client address, secrets left out.

use super::client::ClientAddr;
use super::{AppState, Body, Caller, Failure, IdPath, Params};
use crate::auth::hash_password;
use crate::policy::{may_administer, Denied};
use crate::store::audit::AuditRecord;
use crate::store::directory::NewAgent;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use switchboard_protocol::admin::{
    AuditPage, CreateAgent, CreateInbox, CreateTeam, CrmSettings, UpdateAgent, UpdateInbox,
};
use switchboard_protocol::model::{Agent, Inbox, Team};
use switchboard_protocol::notify::{ApiKey, CreateApiKey, CreatedApiKey};
use switchboard_protocol::{ApiError, ErrorCode};

/// Writes one line of the audit log. The action has already happened, so a failure to
/// write it is logged rather than answered.
pub async fn audit(
    s: &AppState,
    c: &Caller,
    client: &ClientAddr,
    action: &'static str,
    target: String,
    detail: serde_json::Value,
) {
    let record =
        AuditRecord { actor_id: Some(c.viewer.agent_id), action, target, detail, client: Some(client.to_string()) };
    if let Err(e) = s.store.record_audit(record.clone()).await {
        tracing::error!(action = record.action, target = %record.target, "the audit log could not be written: {e}");
    }
}

fn admin_only(c: &Caller) -> Result<(), Failure> {
    may_administer(&c.viewer).map_err(|d| {
        let why = match d {
            Denied::Forbidden(why) => why,
            Denied::Hidden => "admins only",
        };
        Failure(ApiError::new(ErrorCode::Forbidden, why))
    })
}

fn created(v: impl serde::Serialize) -> Response {
    (StatusCode::CREATED, axum::Json(v)).into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/agents",
    tag = "admin",
    operation_id = "list_agents",
    summary = "List agents",
    responses(
        (status = 200, description = "Every agent, by id", body = Vec<Agent>),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn agents(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.agents().await?).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/agents",
    tag = "admin",
    operation_id = "create_agent",
    summary = "Create an agent",
    description = "Creates an agent who can log in; the email is stored lower case and must be unused, the password at \
        least 8 characters, and every team must exist.",
    request_body = CreateAgent,
    responses(
        (status = 201, description = "The new agent", body = Agent),
        (status = 400, description = "A missing or invalid field, an email in use, or an unknown team (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn create_agent(
    State(s): State<AppState>,
    c: Caller,
    client: ClientAddr,
    Body(req): Body<CreateAgent>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let detail =
        json!({"name": req.name, "email": req.email, "role": req.role, "teams": req.teams, "capacity": req.capacity});
    let password_hash = hash_password(req.password).await?;
    let agent = s
        .store
        .create_agent(NewAgent {
            name: req.name,
            email: req.email,
            password_hash,
            role: req.role,
            teams: req.teams,
            capacity: req.capacity,
        })
        .await?;
    audit(&s, &c, &client, "agent.create", format!("agent:{}", agent.id), detail).await;
    Ok(created(agent))
}

#[utoipa::path(
    patch,
    path = "/api/v1/admin/agents/{id}",
    tag = "admin",
    operation_id = "update_agent",
    summary = "Update an agent",
    description = "Absent fields are kept. A new password, or `disabled: true`, ends all of the agent's sessions; an \
        admin cannot disable themselves. A change of role or teams sends the agent `scope_changed`.",
    params(("id" = i64, Path, description = "The agent's id")),
    request_body = UpdateAgent,
    responses(
        (status = 200, description = "The updated agent", body = Agent),
        (status = 400, description = "An invalid field or an unknown team, or an admin disabling themselves \
            (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 404, description = "No such agent (`not_found`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn update_agent(
    State(s): State<AppState>,
    c: Caller,
    IdPath(id): IdPath,
    client: ClientAddr,
    Body(mut req): Body<UpdateAgent>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    if req.disabled == Some(true) && id == c.viewer.agent_id {
        return Err(Failure(ApiError::new(ErrorCode::BadRequest, "an admin cannot disable themselves")));
    }
    let hash = match req.password.take() {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    let mut detail = serde_json::to_value(&req).unwrap_or_default();
    if hash.is_some() {
        detail["password"] = json!("changed");
    }
    let agent = s.store.update_agent(id, req, hash).await?;
    audit(&s, &c, &client, "agent.update", format!("agent:{id}"), detail).await;
    Ok(axum::Json(agent).into_response())
}

/// Ends every session of an agent (a lost laptop, a leaver); they log in again.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/agents/{id}/sessions",
    tag = "admin",
    operation_id = "revoke_sessions",
    summary = "End every session of an agent",
    description = "Their consoles ask for the password again (a lost laptop, a leaver).",
    params(("id" = i64, Path, description = "The agent's id")),
    responses(
        (status = 204, description = "Every session of the agent has ended"),
        (status = 400, description = "The id is not a positive integer (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn revoke_sessions(
    State(s): State<AppState>,
    c: Caller,
    IdPath(id): IdPath,
    client: ClientAddr,
) -> Result<StatusCode, Failure> {
    admin_only(&c)?;
    let n = s.auth.logout_everywhere(id).await?;
    audit(&s, &c, &client, "sessions.revoke", format!("agent:{id}"), json!({"sessions": n})).await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries older than this id (a page's `next_before`).
    before: Option<i64>,
    /// 1 to 500 (100 by default).
    limit: Option<usize>,
}

/// The audit log, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    operation_id = "audit_log",
    summary = "The audit log",
    description = "What admins (and agents, for their own sessions) did, newest first, secrets left out.",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 400, description = "A bad `before` or `limit` (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn audit_log(
    State(s): State<AppState>,
    c: Caller,
    Params(q): Params<AuditQuery>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > crate::store::audit::MAX_AUDIT_PAGE {
        return Err(Failure(ApiError::new(
            ErrorCode::BadRequest,
            format!("limit must be 1 to {}", crate::store::audit::MAX_AUDIT_PAGE),
        )));
    }
    Ok(axum::Json(s.store.audit_log(q.before, limit).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/api_keys",
    tag = "admin",
    operation_id = "list_api_keys",
    summary = "List API keys",
    description = "The keys business systems and external bots use, never their secrets.",
    responses(
        (status = 200, description = "Every key", body = Vec<ApiKey>),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn api_keys(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.api_keys().await?).into_response())
}

/// Makes a key for a business system; its token is in this answer only.
#[utoipa::path(
    post,
    path = "/api/v1/admin/api_keys",
    tag = "admin",
    operation_id = "create_api_key",
    summary = "Make an API key",
    description = "A key of the `notify` scope sends notifications from its inboxes; one of the `bot` scope answers as \
        their external bot. The token, `sbk_<id>_<secret>`, is in this answer only.",
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "The key and its token", body = CreatedApiKey),
        (status = 400, description = "A missing or invalid field, or an unknown inbox (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn create_api_key(
    State(s): State<AppState>,
    c: Caller,
    client: ClientAddr,
    Body(req): Body<CreateApiKey>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let secret = crate::auth::new_secret();
    let key = s.store.create_api_key(req, crate::auth::token_secret_hash(&secret), Some(c.viewer.agent_id)).await?;
    let detail = json!({"name": key.name, "inbox_ids": key.inbox_ids});
    audit(&s, &c, &client, "api_key.create", format!("api_key:{}", key.id), detail).await;
    let token = crate::auth::api_key_token(key.id, &secret);
    Ok(created(CreatedApiKey { key, token }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/admin/api_keys/{id}",
    tag = "admin",
    operation_id = "revoke_api_key",
    summary = "Revoke an API key",
    description = "The key stops working at once.",
    params(("id" = i64, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The revoked key", body = ApiKey),
        (status = 400, description = "The id is not a positive integer (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 404, description = "No such key (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn revoke_api_key(
    State(s): State<AppState>,
    c: Caller,
    IdPath(id): IdPath,
    client: ClientAddr,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let key = s.store.revoke_api_key(id).await?;
    audit(&s, &c, &client, "api_key.revoke", format!("api_key:{id}"), json!({"name": key.name})).await;
    Ok(axum::Json(key).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/teams",
    tag = "admin",
    operation_id = "list_teams",
    summary = "List teams",
    responses(
        (status = 200, description = "Every team", body = Vec<Team>),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn teams(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.teams().await?).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/teams",
    tag = "admin",
    operation_id = "create_team",
    summary = "Create a team",
    request_body = CreateTeam,
    responses(
        (status = 201, description = "The new team", body = Team),
        (status = 400, description = "The name is invalid or already used (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn create_team(
    State(s): State<AppState>,
    c: Caller,
    client: ClientAddr,
    Body(req): Body<CreateTeam>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let team = s.store.create_team(&req.name).await?;
    audit(&s, &c, &client, "team.create", format!("team:{}", team.id), json!({"name": team.name})).await;
    Ok(created(team))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/inboxes",
    tag = "admin",
    operation_id = "list_inboxes",
    summary = "List inboxes",
    description = "Provider settings are never returned; only the templates listed in them appear.",
    responses(
        (status = 200, description = "Every inbox", body = Vec<Inbox>),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn inboxes(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.inboxes().await?).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/inboxes",
    tag = "admin",
    operation_id = "create_inbox",
    summary = "Create an inbox",
    description = "A business address on one channel. Its `settings` (credentials and options, per channel) are kept \
        in the hub and not checked when stored.",
    request_body = CreateInbox,
    responses(
        (status = 201, description = "The new inbox", body = Inbox),
        (status = 400, description = "An invalid name or address, an unknown team, or an inbox of that kind and \
            address already (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn create_inbox(
    State(s): State<AppState>,
    c: Caller,
    client: ClientAddr,
    Body(req): Body<CreateInbox>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let detail = json!({"kind": req.kind, "name": req.name, "team_id": req.team_id, "address": req.address});
    let inbox = s.store.create_inbox(req).await?;
    audit(&s, &c, &client, "inbox.create", format!("inbox:{}", inbox.id), detail).await;
    Ok(created(inbox))
}

#[utoipa::path(
    patch,
    path = "/api/v1/admin/inboxes/{id}",
    tag = "admin",
    operation_id = "update_inbox",
    summary = "Update an inbox",
    description = "Absent fields are kept; `settings` replaces the settings entirely.",
    params(("id" = i64, Path, description = "The inbox's id")),
    request_body = UpdateInbox,
    responses(
        (status = 200, description = "The updated inbox", body = Inbox),
        (status = 400, description = "An invalid name or an unknown team (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 404, description = "No such inbox (`not_found`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn update_inbox(
    State(s): State<AppState>,
    c: Caller,
    IdPath(id): IdPath,
    client: ClientAddr,
    Body(req): Body<UpdateInbox>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    // Settings hold provider credentials: the log says they changed, not what to.
    let detail =
        json!({"name": req.name, "team_id": req.team_id, "settings": req.settings.as_ref().map(|_| "changed")});
    let inbox = s.store.update_inbox(id, req).await?;
    audit(&s, &c, &client, "inbox.update", format!("inbox:{id}"), detail).await;
    Ok(axum::Json(inbox).into_response())
}

/// The CRM connector's settings, secrets masked; `null` when none is connected.
#[utoipa::path(
    get,
    path = "/api/v1/admin/crm",
    tag = "admin",
    operation_id = "get_crm",
    summary = "The CRM connector",
    description = "The CRM settings with secrets masked; `null` when no CRM is connected.",
    responses(
        (status = 200, description = "The settings, masked, or `null`", body = Option<CrmSettings>),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn crm(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    let settings = s.store.crm_settings().await?.map(|(settings, _)| crate::crm::masked(&settings));
    Ok(axum::Json(settings).into_response())
}

/// Connects a CRM (or replaces the connection). Settings that could not work are refused.
#[utoipa::path(
    put,
    path = "/api/v1/admin/crm",
    tag = "admin",
    operation_id = "put_crm",
    summary = "Connect a CRM",
    description = "Connects a CRM or replaces the connection. A secret still in its masked form keeps the stored \
        value, so settings read with `GET` can be changed and sent back. Settings that could not work are refused and \
        nothing is stored.",
    request_body = CrmSettings,
    responses(
        (status = 200, description = "The stored settings, masked", body = CrmSettings),
        (status = 400, description = "Settings that could not work (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "The caller is not an admin (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn put_crm(
    State(s): State<AppState>,
    c: Caller,
    client: ClientAddr,
    Body(req): Body<CrmSettings>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let req = match s.store.crm_settings().await? {
        Some((stored, _)) => crate::crm::keep_secrets(req, &stored)
            .map_err(|e| Failure(ApiError::new(ErrorCode::BadRequest, e.to_string())))?,
        None => req,
    };
    crate::crm::validate(&req).map_err(|e| Failure(ApiError::new(ErrorCode::BadRequest, e.to_string())))?;
    s.store.put_crm_settings(req.clone()).await?;
    let masked = crate::crm::masked(&req);
    audit(&s, &c, &client, "crm.update", "crm".into(), serde_json::to_value(&masked).unwrap_or_default()).await;
    Ok(axum::Json(masked).into_response())
}
