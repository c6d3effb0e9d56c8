//! The campaign routes, for leads and admins: check an audience, make a campaign, move it
//! (schedule, pause, resume, cancel), read its progress and each recipient's result, export
//! the results as CSV; and the saved segments. What each may do is the store's to say.

use super::{AppState, Body, Caller, Failure, IdPath, Params};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use switchboard_protocol::campaign::{
    Audience, CampaignAction, CampaignSpec, NewSegment, RecipientPage, RecipientState,
};

/// The largest campaign body: an audience file and the rest.
pub const BODY_BYTES: usize = Audience::MAX_CSV_BYTES + 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/campaigns", get(list).post(create))
        .route("/api/v1/campaigns/check", post(check))
        .route("/api/v1/campaigns/{id}", get(one))
        .route("/api/v1/campaigns/{id}/actions", post(act))
        .route("/api/v1/campaigns/{id}/recipients", get(recipients))
        .route("/api/v1/campaigns/{id}/export", get(export))
        .route("/api/v1/segments", get(segments).post(create_segment))
        .route("/api/v1/segments/{id}", delete(delete_segment))
}

async fn check(State(s): State<AppState>, caller: Caller, Body(spec): Body<CampaignSpec>) -> Result<Response, Failure> {
    let zone = s.config.report_time_zone.clone();
    Ok(axum::Json(s.store.check_audience(&caller.viewer, spec, zone).await?).into_response())
}

async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Body(spec): Body<CampaignSpec>,
) -> Result<Response, Failure> {
    let zone = s.config.report_time_zone.clone();
    let made = s.store.create_campaign(&caller.viewer, spec, zone).await?;
    Ok((StatusCode::CREATED, axum::Json(made)).into_response())
}

async fn list(State(s): State<AppState>, caller: Caller) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.campaigns(&caller.viewer).await?).into_response())
}

async fn one(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.campaign(&caller.viewer, id).await?).into_response())
}

async fn act(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    Body(action): Body<CampaignAction>,
) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.campaign_action(&caller.viewer, id, action).await?).into_response())
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    state: Option<RecipientState>,
    #[serde(default)]
    after: u32,
    limit: Option<usize>,
}

async fn recipients(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    Params(q): Params<PageQuery>,
) -> Result<Response, Failure> {
    let limit = q.limit.unwrap_or(200).min(RecipientPage::MAX_LIMIT);
    Ok(axum::Json(s.store.campaign_recipients(&caller.viewer, id, q.state, q.after, limit).await?).into_response())
}

async fn export(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Response, Failure> {
    let csv = s.store.export_campaign(&caller.viewer, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"campaign-{id}-results.csv\"")),
        ],
        csv,
    )
        .into_response())
}

async fn segments(State(s): State<AppState>, caller: Caller) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.segments(&caller.viewer).await?).into_response())
}

async fn create_segment(
    State(s): State<AppState>,
    caller: Caller,
    Body(segment): Body<NewSegment>,
) -> Result<Response, Failure> {
    Ok((StatusCode::CREATED, axum::Json(s.store.create_segment(&caller.viewer, segment).await?)).into_response())
}

async fn delete_segment(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Response, Failure> {
    s.store.delete_segment(&caller.viewer, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
