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
    Audience, AudienceCheck, Campaign, CampaignAction, CampaignSpec, NewSegment, RecipientPage, RecipientState, Segment,
};
use switchboard_protocol::ApiError;

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

#[utoipa::path(
    post,
    path = "/api/v1/campaigns/check",
    tag = "agent",
    operation_id = "check_audience",
    summary = "Check an audience",
    description = "What a campaign's audience holds, row by row, with nothing made: the valid rows, at most 1,000 \
        problems (each with its row and column) and the first recipients with the template filled in.",
    request_body = CampaignSpec,
    responses(
        (status = 200, description = "What the audience holds", body = AudienceCheck),
        (status = 400, description = "A spec that could not run: an unknown template, a bad field (`bad_request`)",
            body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 404, description = "An inbox or segment outside the caller's teams (`not_found`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn check(State(s): State<AppState>, caller: Caller, Body(spec): Body<CampaignSpec>) -> Result<Response, Failure> {
    let zone = s.config.report_time_zone.clone();
    Ok(axum::Json(s.store.check_audience(&caller.viewer, spec, zone).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/campaigns",
    tag = "agent",
    operation_id = "create_campaign",
    summary = "Make a campaign",
    description = "One approved template sent to an audience (a file, a filter over contacts or a saved segment) from \
        one inbox. With `scheduled_at` it is scheduled; without, it is a draft. A file with any bad row is refused \
        whole.",
    request_body = CampaignSpec,
    responses(
        (status = 201, description = "The campaign", body = Campaign),
        (status = 400, description = "A bad spec, or an audience file with a bad row (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 404, description = "An inbox or segment outside the caller's teams (`not_found`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn create(
    State(s): State<AppState>,
    caller: Caller,
    Body(spec): Body<CampaignSpec>,
) -> Result<Response, Failure> {
    let zone = s.config.report_time_zone.clone();
    let made = s.store.create_campaign(&caller.viewer, spec, zone).await?;
    Ok((StatusCode::CREATED, axum::Json(made)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/campaigns",
    tag = "agent",
    operation_id = "list_campaigns",
    summary = "List campaigns",
    description = "The caller's campaigns, newest first (at most 500).",
    responses(
        (status = 200, description = "The campaigns", body = Vec<Campaign>),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn list(State(s): State<AppState>, caller: Caller) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.campaigns(&caller.viewer).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}",
    tag = "agent",
    operation_id = "get_campaign",
    summary = "One campaign",
    description = "One campaign with its live counts.",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "The campaign", body = Campaign),
        (status = 400, description = "The id is not a positive integer (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 404, description = "No such campaign, or another team's (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn one(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.campaign(&caller.viewer, id).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/campaigns/{id}/actions",
    tag = "agent",
    operation_id = "campaign_action",
    summary = "Move a campaign",
    description = "Schedule (a draft or scheduled campaign), unschedule, pause (running), resume (paused) or cancel \
        (any not finished). Anything else is `conflict`.",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body = CampaignAction,
    responses(
        (status = 200, description = "The campaign after the action", body = Campaign),
        (status = 400, description = "A bad id or action (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 404, description = "No such campaign, or another team's (`not_found`)", body = ApiError),
        (status = 409, description = "The action does not apply to the campaign's state (`conflict`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn act(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    Body(action): Body<CampaignAction>,
) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.campaign_action(&caller.viewer, id, action).await?).into_response())
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// Only recipients in this state.
    #[param(inline)]
    state: Option<RecipientState>,
    /// Results after this row (a page's `next`); 0 by default.
    #[serde(default)]
    after: u32,
    /// At most this many (200 by default, at most 1,000).
    limit: Option<usize>,
}

#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}/recipients",
    tag = "agent",
    operation_id = "campaign_recipients",
    summary = "Each recipient's result",
    description = "Results by row, a page at a time; pass `next` as `after` for the next page.",
    params(("id" = i64, Path, description = "The campaign's id"), PageQuery),
    responses(
        (status = 200, description = "A page of results", body = RecipientPage),
        (status = 400, description = "A bad id or query parameter (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 404, description = "No such campaign, or another team's (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn recipients(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath,
    Params(q): Params<PageQuery>,
) -> Result<Response, Failure> {
    let limit = q.limit.unwrap_or(200).min(RecipientPage::MAX_LIMIT);
    Ok(axum::Json(s.store.campaign_recipients(&caller.viewer, id, q.state, q.after, limit).await?).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/campaigns/{id}/export",
    tag = "agent",
    operation_id = "export_campaign",
    summary = "Every result as CSV",
    description = "`row,address,name,state,reason,sent_at,conversation_id`, RFC 4180 quoting; a cell a spreadsheet \
        would run as a formula starts with `'`.",
    params(("id" = i64, Path, description = "The campaign's id")),
    responses(
        (status = 200, description = "The results", body = String, content_type = "text/csv"),
        (status = 400, description = "The id is not a positive integer (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 404, description = "No such campaign, or another team's (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/segments",
    tag = "agent",
    operation_id = "list_segments",
    summary = "List segments",
    description = "The saved segments: filters over contacts that campaigns send to.",
    responses(
        (status = 200, description = "The segments", body = Vec<Segment>),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn segments(State(s): State<AppState>, caller: Caller) -> Result<Response, Failure> {
    Ok(axum::Json(s.store.segments(&caller.viewer).await?).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/segments",
    tag = "agent",
    operation_id = "create_segment",
    summary = "Save a segment",
    request_body = NewSegment,
    responses(
        (status = 201, description = "The segment", body = Segment),
        (status = 400, description = "A bad name or filter, or too many segments (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 413, description = "The body is larger than the hub accepts (`payload_too_large`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn create_segment(
    State(s): State<AppState>,
    caller: Caller,
    Body(segment): Body<NewSegment>,
) -> Result<Response, Failure> {
    Ok((StatusCode::CREATED, axum::Json(s.store.create_segment(&caller.viewer, segment).await?)).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/v1/segments/{id}",
    tag = "agent",
    operation_id = "delete_segment",
    summary = "Remove a segment",
    params(("id" = i64, Path, description = "The segment's id")),
    responses(
        (status = 204, description = "The segment is gone"),
        (status = 400, description = "The id is not a positive integer (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 403, description = "Agents may not run campaigns (`forbidden`)", body = ApiError),
        (status = 404, description = "No such segment (`not_found`)", body = ApiError),
        (status = 503, description = "The database cannot be reached, or the hub took too long (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
async fn delete_segment(State(s): State<AppState>, caller: Caller, IdPath(id): IdPath) -> Result<Response, Failure> {
    s.store.delete_segment(&caller.viewer, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
