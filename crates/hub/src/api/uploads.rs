//! Files uploaded before the message that sends them: an agent's (`POST /api/v1/uploads`)
//! or a web-chat visitor's (`POST /api/v1/visitor/uploads`). The body is the file itself,
//! streamed to the file store and never held whole; its name comes percent-encoded in
//! `X-File-Name`, and an `Idempotency-Key` makes a repeated upload the same file. The type
//! is read from the content ([`switchboard_protocol::files::file_type`]), whatever the
//! sender says; a file refused for its type or size leaves nothing behind.

use super::{bad_request, AppState, Caller, Failure};
use crate::storage::{new_key, Streamed};
use crate::store::blobs::{blob_path, BlobMeta, Upload, Uploader};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use switchboard_protocol::files::{self, FileRefusal, MAX_FILE_BYTES, SNIFF_BYTES};
use switchboard_protocol::model::Attachment;
use switchboard_protocol::{ApiError, ErrorCode};

/// The longest file name kept.
const MAX_NAME: usize = 200;
/// The longest idempotency key.
const MAX_KEY: usize = 200;

/// A file's name as sent: percent-decoded, its last path segment, without control
/// characters, at most [`MAX_NAME`] characters.
pub fn file_name(header: Option<&str>) -> Result<String, Failure> {
    let raw = header.ok_or_else(|| bad_request("name the file in `X-File-Name` (percent-encoded)"))?;
    let decoded: String = form_urlencoded::parse(format!("n={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let last = decoded.rsplit(['/', '\\']).next().unwrap_or("");
    let plain: String = last.chars().filter(|c| !c.is_control()).collect();
    let name: String = plain.trim().chars().take(MAX_NAME).collect();
    if name.is_empty() || name == "." || name == ".." {
        return Err(bad_request("`X-File-Name` names no file"));
    }
    Ok(name)
}

fn upload_key(headers: &HeaderMap) -> Result<Option<String>, Failure> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let k = v.to_str().map_err(|_| bad_request("`Idempotency-Key` must be plain text"))?.trim();
            if k.is_empty() || k.len() > MAX_KEY {
                return Err(bad_request(format!("`Idempotency-Key` must be 1 to {MAX_KEY} characters")));
            }
            Ok(Some(k.to_owned()))
        }
    }
}

/// A file over `limit`: `size` when the sender said it, otherwise just more.
fn too_large(name: String, size: Option<u64>, limit: u64) -> Failure {
    let size = size.map_or_else(|| format!("over {}", files::human_size(limit)), files::human_size);
    refused(FileRefusal::TooLarge { name, size, limit: files::human_size(limit) })
}

fn refused(r: FileRefusal) -> Failure {
    Failure(ApiError::from(r))
}

/// Keeps the uploaded file `body` for `who`; the answer names it by its hub path.
pub async fn receive(
    s: &AppState,
    who: Uploader,
    headers: &HeaderMap,
    body: axum::body::Body,
    limit: u64,
) -> Result<Attachment, Failure> {
    let name = file_name(headers.get("x-file-name").and_then(|v| v.to_str().ok()))?;
    let upload_key = upload_key(headers)?;
    if let Some(k) = &upload_key {
        if let Some(earlier) = s.store.earlier_upload(who, k.clone()).await? {
            return Ok(attachment(earlier));
        }
    }
    let declared: Option<u64> =
        headers.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    let key = new_key();
    let mut stream = body.into_data_stream();
    let stored = s.storage.put_stream(&key, &mut stream, limit).await.map_err(|e| {
        tracing::error!("the file store: {e}");
        Failure(ApiError::new(ErrorCode::Unavailable, "the hub's file store cannot keep the file; try again"))
    })?;
    let (size, sha256, head) = match stored {
        Streamed::Kept { size, sha256, head } => (size, sha256, head),
        Streamed::TooLarge => {
            // The rest is read and dropped (up to as much again), so the sender, still
            // writing, gets this answer rather than a connection cut under it.
            let mut left = limit;
            while let Some(Ok(chunk)) = stream.next().await {
                left = left.saturating_sub(chunk.len() as u64);
                if left == 0 {
                    break;
                }
            }
            return Err(too_large(name, declared.filter(|d| *d > limit), limit));
        }
        Streamed::Broken(reason) => return Err(bad_request(format!("the upload broke off: {reason}"))),
    };
    let forget = |key: String| async move {
        if let Err(e) = s.storage.remove(&key).await {
            tracing::warn!("a refused upload could not be removed: {e}");
        }
    };
    let mime = match files::file_type(&name, &head, size <= SNIFF_BYTES as u64) {
        Ok(m) => m,
        Err(r) => {
            forget(key).await;
            return Err(refused(r));
        }
    };
    let meta = BlobMeta { key: key.clone(), name, mime: mime.to_owned(), size };
    match s.store.record_upload(who, meta, sha256, upload_key).await {
        Ok(Upload::Kept(meta)) => Ok(attachment(meta)),
        Ok(Upload::Again(earlier)) => {
            forget(key).await;
            Ok(attachment(earlier))
        }
        Err(e) => {
            forget(key).await;
            Err(e.into())
        }
    }
}

fn attachment(meta: BlobMeta) -> Attachment {
    Attachment { url: blob_path(&meta.key), name: meta.name, mime: meta.mime, size: meta.size }
}

/// `POST /api/v1/uploads`: an agent's file, theirs until a reply takes it.
#[utoipa::path(
    post,
    path = "/api/v1/uploads",
    tag = "agent",
    operation_id = "upload",
    summary = "Upload a file for a reply",
    description = "The body is the file itself, streamed to the hub's file store. Its type is read from its content, \
        never taken from its name or the sender's word, and must be one that may be sent. The answer's `url` \
        (`/api/v1/blobs/<key>`) names the file in a reply's `attachments`; until a reply takes it, it is its \
        uploader's alone.",
    params(
        ("X-File-Name" = String, Header, description = "The file's name, percent-encoded UTF-8"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "1 to 200 characters: an upload repeated under the same key is the same file"),
    ),
    request_body(description = "The file's bytes", content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "The file, as an attachment to name in a reply", body = Attachment),
        (status = 400, description = "No `X-File-Name`, an empty file, or a type that may not be sent \
            (`bad_request`)", body = ApiError),
        (status = 401, description = "No valid session token (`unauthorized`)", body = ApiError),
        (status = 413, description = "Over 25 MB (`payload_too_large`)", body = ApiError),
        (status = 429, description = "The agent holds 200 uploads from the last day that no reply has taken \
            (`rate_limited`)", body = ApiError),
        (status = 503, description = "The file store or the database cannot be reached (`unavailable`)",
            body = ApiError),
    ),
    security(("session" = []))
)]
pub async fn upload(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, Failure> {
    let a = receive(&s, Uploader::Agent(caller.viewer.agent_id), &headers, body, MAX_FILE_BYTES).await?;
    Ok((axum::http::StatusCode::CREATED, Json(a)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_and_short() {
        let cases: &[(Option<&str>, Result<&str, ()>)] = &[
            (Some("invoice.pdf"), Ok("invoice.pdf")),
            (Some("Gr%C3%BC%C3%9Fe%20und%20mehr.png"), Ok("Grüße und mehr.png")),
            (Some("a+b.txt"), Ok("a+b.txt")),
            (Some("..%2F..%2Fetc%2Fpasswd"), Ok("passwd")),
            (Some("C:%5Cfakepath%5Cphoto.jpg"), Ok("photo.jpg")),
            (Some("bad%00name%0A.txt"), Ok("badname.txt")),
            (Some("%2F"), Err(())),
            (Some(".."), Err(())),
            (None, Err(())),
        ];
        for (header, want) in cases {
            let got = file_name(*header).map_err(|_| ());
            assert_eq!(got.as_deref(), want.as_ref().map(|s| *s), "{header:?}");
        }
        assert_eq!(file_name(Some(&format!("{}.txt", "x".repeat(300)))).unwrap().chars().count(), MAX_NAME);
    }
}
