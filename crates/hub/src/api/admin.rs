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
use switchboard_protocol::admin::{CreateAgent, CreateInbox, CreateTeam, CrmSettings, UpdateAgent, UpdateInbox};
use switchboard_protocol::notify::{CreateApiKey, CreatedApiKey};
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

pub async fn agents(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.agents().await?).into_response())
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<usize>,
}

/// The audit log, newest first.
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

pub async fn api_keys(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.api_keys().await?).into_response())
}

/// Makes a key for a business system; its token is in this answer only.
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

pub async fn teams(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.teams().await?).into_response())
}

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

pub async fn inboxes(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.inboxes().await?).into_response())
}

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
pub async fn crm(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    let settings = s.store.crm_settings().await?.map(|(settings, _)| crate::crm::masked(&settings));
    Ok(axum::Json(settings).into_response())
}

/// Connects a CRM (or replaces the connection). Settings that could not work are refused.
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
