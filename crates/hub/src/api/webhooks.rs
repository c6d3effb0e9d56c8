//! The provider-facing routes under `/webhooks/…/{inbox_id}`. Each request is verified with
//! the inbox's secret before anything is parsed or stored; a wrong or missing signature is
//! `403`, a malformed payload `400`, an unknown inbox `404`, a repeated delivery `200`.

use super::{AppState, Failure, IdPath};
use crate::channels::settings::Settings;
use crate::channels::{email, meta, signature, twilio, Event};
use crate::store::StoreError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sha2::Digest;
use switchboard_protocol::model::{ChannelKind, Delivery, Inbox};
use switchboard_protocol::{ApiError, ErrorCode};

/// The webhook routes; inbound email may be `email_bytes` long, the others take the
/// router's general limit.
pub fn router(email_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/webhooks/twilio/{id}", post(twilio_inbound))
        .route("/webhooks/twilio/{id}/status", post(twilio_status))
        .route("/webhooks/meta/{id}", get(meta_handshake).post(meta_events))
        .route("/webhooks/email/{id}", post(email_inbound).layer(DefaultBodyLimit::max(email_bytes)))
}

fn fail(code: ErrorCode, msg: impl Into<String>) -> Failure {
    Failure(ApiError::new(code, msg))
}

fn forbidden() -> Failure {
    fail(ErrorCode::Forbidden, "the request signature does not match")
}

fn body(b: Result<Bytes, BytesRejection>) -> Result<Bytes, Failure> {
    b.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            fail(ErrorCode::PayloadTooLarge, "the request body is too large")
        } else {
            fail(ErrorCode::BadRequest, r.body_text())
        }
    })
}

/// The inbox named in the path, which must be one of `kinds`.
async fn inbox(s: &AppState, id: i64, kinds: &[ChannelKind]) -> Result<(Inbox, Settings), Failure> {
    let (inbox, settings) = s.store.inbox_with_settings(id).await?;
    if !kinds.contains(&inbox.kind) {
        return Err(fail(ErrorCode::NotFound, format!("inbox {id} is not a {} inbox", kinds[0])));
    }
    let settings = Settings::from_json(&settings).map_err(|e| fail(ErrorCode::Internal, e.to_string()))?;
    Ok((inbox, settings))
}

/// The URL the provider called, as it saw it: the configured URL for this inbox, or the
/// hub's public URL followed by the request's path and query.
fn called_url(s: &AppState, configured: Option<&str>, uri: &Uri) -> Result<String, Failure> {
    if let Some(u) = configured {
        // A query the hub added to the configured URL (a send's reference) is part of
        // what the provider called and signed.
        return Ok(match uri.query() {
            Some(q) => format!("{}?{q}", u.split_once('?').map_or(u, |(path, _)| path)),
            None => u.to_owned(),
        });
    }
    let base = s.config.public_url.as_deref().ok_or_else(|| {
        tracing::warn!("a signed webhook arrived but the hub has no public_url to check it against");
        forbidden()
    })?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}

fn form(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn twiml() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}

fn check_twilio(
    s: &AppState,
    settings: &Settings,
    configured: Option<&str>,
    uri: &Uri,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<(), Failure> {
    let token = settings.auth_token.as_deref().ok_or_else(forbidden)?;
    let url = called_url(s, configured, uri)?;
    let received = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).ok_or_else(forbidden)?;
    if signature::matches(received, &signature::twilio(token, &url, params)) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

async fn apply(s: &AppState, inbox: &Inbox, events: Vec<Event>) -> Result<(), Failure> {
    for e in events {
        match e {
            Event::Message(mut m) => {
                m.inbox_id = inbox.id;
                let got = s.store.ingest(m).await?;
                crate::metrics::ingested(inbox.kind.as_str(), got.duplicate);
            }
            Event::Status { provider_id, delivery, error, reference } => {
                s.store.delivery_report(inbox.id, provider_id, delivery, error, reference).await?;
            }
            Event::ReadUpTo { customer, watermark } => {
                s.store.reported_up_to(inbox.id, customer, watermark, Delivery::Read).await?;
            }
            Event::DeliveredUpTo { customer, watermark } => {
                s.store.reported_up_to(inbox.id, customer, watermark, Delivery::Delivered).await?;
            }
        }
    }
    Ok(())
}

fn bad(e: impl std::fmt::Display) -> Failure {
    fail(ErrorCode::BadRequest, e.to_string())
}

/// Which Twilio webhook a request is.
#[derive(Clone, Copy)]
enum TwilioHook {
    Message,
    Status,
}

async fn twilio_hook(
    s: &AppState,
    id: i64,
    hook: TwilioHook,
    uri: &Uri,
    headers: &HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let (inbox, settings) = inbox(s, id, &[ChannelKind::Sms]).await?;
    let raw = body(raw)?;
    let params = form(&raw);
    let configured = match hook {
        TwilioHook::Message => settings.webhook_url.as_deref(),
        TwilioHook::Status => settings.status_callback_url.as_deref(),
    };
    check_twilio(s, &settings, configured, uri, headers, &params)?;
    let events = match hook {
        TwilioHook::Message => vec![twilio::parse_inbound(&params, crate::clock::now_ms()).map_err(bad)?],
        TwilioHook::Status => {
            let query = form(uri.query().unwrap_or("").as_bytes());
            let reference = query.iter().find(|(k, _)| k == twilio::REFERENCE).map(|(_, v)| v.as_str());
            twilio::parse_status(&params, reference).map_err(bad)?.into_iter().collect()
        }
    };
    apply(s, &inbox, events).await?;
    Ok(twiml())
}

async fn twilio_inbound(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    twilio_hook(&s, id, TwilioHook::Message, &uri, &headers, raw).await
}

async fn twilio_status(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    uri: Uri,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    twilio_hook(&s, id, TwilioHook::Status, &uri, &headers, raw).await
}

const META: [ChannelKind; 3] = [ChannelKind::Whatsapp, ChannelKind::Messenger, ChannelKind::Instagram];

async fn meta_handshake(State(s): State<AppState>, IdPath(id): IdPath, uri: Uri) -> Result<Response, Failure> {
    let (_, settings) = inbox(&s, id, &META).await?;
    let query = form(uri.query().unwrap_or("").as_bytes());
    let token = settings.verify_token.as_deref().unwrap_or("");
    match meta::handshake(&query, token) {
        Some(challenge) => Ok(challenge.into_response()),
        None => Err(fail(ErrorCode::Forbidden, "the verify token does not match")),
    }
}

async fn meta_events(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let (inbox, settings) = inbox(&s, id, &META).await?;
    let raw = body(raw)?;
    let secret = settings.app_secret.as_deref().ok_or_else(forbidden)?;
    let received = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()).ok_or_else(forbidden)?;
    if !signature::matches(received, &signature::meta(secret, &raw)) {
        return Err(forbidden());
    }
    let json: serde_json::Value =
        serde_json::from_slice(&raw).map_err(|e| bad(format!("the body is not JSON: {e}")))?;
    let (json, left_out) = meta::for_inbox(&json, inbox.kind, settings.sender_id.as_deref(), &inbox.address);
    if left_out > 0 {
        tracing::warn!("{left_out} parts of a Meta webhook for inbox {} named another number or page", inbox.id);
    }
    let now = crate::clock::now_ms();
    let events = match inbox.kind {
        ChannelKind::Whatsapp => meta::parse_whatsapp(&json, &meta::base(&settings), now),
        kind => meta::parse_messaging(&json, kind, now),
    }
    .map_err(bad)?;
    apply(&s, &inbox, events).await?;
    Ok("EVENT_RECEIVED".into_response())
}

async fn email_inbound(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let (inbox, settings) = inbox(&s, id, &[ChannelKind::Email]).await?;
    let raw = body(raw)?;
    let secret = settings.inbound_secret.as_deref().ok_or_else(forbidden)?;
    let received = headers.get("x-switchboard-secret").and_then(|v| v.to_str().ok()).ok_or_else(forbidden)?;
    if !signature::matches(received, secret) {
        return Err(forbidden());
    }
    let (mut msg, parts) = email::parse(&raw, crate::clock::now_ms(), settings.authserv_id.as_deref()).map_err(bad)?;
    if let Some(pid) = msg.provider_id.clone() {
        if s.store.has_provider_message(inbox.id, pid).await? {
            return Ok(StatusCode::OK.into_response());
        }
    }
    for (a, part) in msg.attachments.iter_mut().zip(parts) {
        let key = crate::storage::new_key();
        s.storage.put(&key, &part.data).await.map_err(|e| {
            tracing::error!("an email attachment cannot be kept: {e}");
            Failure(ApiError::new(ErrorCode::Unavailable, "the hub cannot keep the attachment now; try again"))
        })?;
        let digest = hex::encode(sha2::Sha256::digest(&part.data));
        let size = part.data.len() as u64;
        s.store
            .put_blob(key.clone(), part.name, part.mime, size, digest)
            .await
            .map_err(|e: StoreError| Failure(e.to_api()))?;
        a.url = crate::store::blobs::blob_path(&key);
    }
    apply(&s, &inbox, vec![Event::Message(msg)]).await?;
    Ok(StatusCode::OK.into_response())
}
