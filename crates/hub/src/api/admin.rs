//! Admin endpoints: agents, teams, inboxes, the CRM connector. Only admins may call them.

use super::{AppState, Body, Caller, Failure, IdPath};
use crate::auth::hash_password;
use crate::policy::{may_administer, Denied};
use crate::store::directory::NewAgent;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard_protocol::admin::{CreateAgent, CreateInbox, CreateTeam, CrmSettings, UpdateAgent, UpdateInbox};
use switchboard_protocol::{ApiError, ErrorCode};

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
    Body(req): Body<CreateAgent>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
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
    Ok(created(agent))
}

pub async fn update_agent(
    State(s): State<AppState>,
    c: Caller,
    IdPath(id): IdPath,
    Body(mut req): Body<UpdateAgent>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    let hash = match req.password.take() {
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    Ok(axum::Json(s.store.update_agent(id, req, hash).await?).into_response())
}

pub async fn teams(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.teams().await?).into_response())
}

pub async fn create_team(
    State(s): State<AppState>,
    c: Caller,
    Body(req): Body<CreateTeam>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(created(s.store.create_team(&req.name).await?))
}

pub async fn inboxes(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.inboxes().await?).into_response())
}

pub async fn create_inbox(
    State(s): State<AppState>,
    c: Caller,
    Body(req): Body<CreateInbox>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(created(s.store.create_inbox(req).await?))
}

pub async fn update_inbox(
    State(s): State<AppState>,
    c: Caller,
    IdPath(id): IdPath,
    Body(req): Body<UpdateInbox>,
) -> Result<Response, Failure> {
    admin_only(&c)?;
    Ok(axum::Json(s.store.update_inbox(id, req).await?).into_response())
}

/// The CRM connector's settings, secrets masked; `null` when none is connected.
pub async fn crm(State(s): State<AppState>, c: Caller) -> Result<Response, Failure> {
    admin_only(&c)?;
    let settings = s.store.crm_settings().await?.map(|(settings, _)| crate::crm::masked(&settings));
    Ok(axum::Json(settings).into_response())
}

/// Connects a CRM (or replaces the connection). Settings that could not work are refused.
pub async fn put_crm(State(s): State<AppState>, c: Caller, Body(req): Body<CrmSettings>) -> Result<Response, Failure> {
    admin_only(&c)?;
    let req = match s.store.crm_settings().await? {
        Some((stored, _)) => crate::crm::keep_secrets(req, &stored)
            .map_err(|e| Failure(ApiError::new(ErrorCode::BadRequest, e.to_string())))?,
        None => req,
    };
    crate::crm::validate(&req).map_err(|e| Failure(ApiError::new(ErrorCode::BadRequest, e.to_string())))?;
    s.store.put_crm_settings(req.clone()).await?;
    Ok(axum::Json(crate::crm::masked(&req)).into_response())
}
