//! The media keeper: fetches each customer's picture, voice note or document from the
//! provider that holds it (Twilio, the WhatsApp Cloud API, Messenger's CDN) once, with the
//! inbox's credentials, into the hub's file store, and names the kept file in the message;
//! provider links expire (a WhatsApp media URL within minutes, a Messenger CDN link in
//! days), the kept file does not. A fetch that fails is tried again with backoff; after the
//! last attempt the media stays with the provider and is fetched when an agent opens it.

use super::media::{self, Source};
use super::settings::Settings;
use crate::outbound::backoff;
use crate::storage::{new_key, Storage};
use crate::store::blobs::{BlobMeta, MediaToKeep, MEDIA_ATTEMPTS};
use crate::store::Store;
use sha2::Digest;
use std::time::Duration;
use switchboard_protocol::model::Direction;

/// Messages whose media is fetched at once.
const AT_ONCE: i64 = 8;
/// How long a claim holds: past it, another hub tries.
const HOLD_MS: i64 = 120_000;
/// The first retry's delay; each further one doubles it.
const RETRY_BASE_MS: u64 = 5_000;

/// Starts the keeper on the current runtime; it ends when `stopping` turns true.
pub fn start(
    store: Store,
    storage: Storage,
    max_bytes: u64,
    timeout: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = match crate::outbound::client_without_redirects(timeout) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("the media keeper cannot start its HTTP client: {e}");
                return;
            }
        };
        let mut head = store.head();
        loop {
            if *stopping.borrow() {
                return;
            }
            let due = match store.claim_media(crate::clock::now_ms(), AT_ONCE, HOLD_MS).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("the media keeper cannot read what to fetch: {e}");
                    Vec::new()
                }
            };
            if due.is_empty() {
                tokio::select! {
                    _ = head.changed() => {}
                    _ = stopping.changed() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                continue;
            }
            let fetches = due.into_iter().map(|m| keep(&store, &storage, &http, m, max_bytes));
            futures_util::future::join_all(fetches).await;
        }
    })
}

/// Fetches one message's media that a provider still holds, and records the outcome.
async fn keep(store: &Store, storage: &Storage, http: &reqwest::Client, m: MediaToKeep, max_bytes: u64) {
    let id = m.message_id;
    let result = fetch_all(store, storage, http, &m, max_bytes).await;
    let (error, retry_at) = match result {
        Ok(()) => (None, None),
        Err(e) if m.attempts + 1 < MEDIA_ATTEMPTS => {
            let attempts = u32::try_from(m.attempts).unwrap_or(u32::MAX);
            (Some(e), Some(crate::clock::now_ms() + backoff(attempts, RETRY_BASE_MS)))
        }
        Err(e) => {
            tracing::warn!("message {id}'s media stays with its provider after {MEDIA_ATTEMPTS} attempts: {e}");
            (None, None)
        }
    };
    if let Err(e) = store.media_fetch_ended(id, error, retry_at).await {
        tracing::error!("cannot record the fetch of message {id}'s media: {e}");
    }
}

async fn fetch_all(
    store: &Store,
    storage: &Storage,
    http: &reqwest::Client,
    m: &MediaToKeep,
    max_bytes: u64,
) -> Result<(), String> {
    let settings = Settings::from_json(&m.settings).map_err(|e| format!("the inbox's settings are unusable: {e}"))?;
    for (index, a) in m.attachments.iter().enumerate() {
        let source = match media::source(&a.url, m.channel, Direction::Inbound, &settings) {
            Ok(Source::Blob(_)) | Err(media::MediaError::NotFetchable) => continue,
            Ok(s) => s,
            Err(e) => return Err(e.to_string()),
        };
        let fetched = match media::fetch(http, &source, max_bytes).await {
            Ok(f) => f,
            // Too large to keep: it stays with the provider.
            Err(media::MediaError::TooLarge(_)) => continue,
            Err(e) => return Err(e.to_string()),
        };
        let key = new_key();
        storage.put(&key, &fetched.data).await.map_err(|e| e.to_string())?;
        // The type the provider's message named, unless it named none; then the file's.
        let named = a.mime.contains('/') && !a.mime.contains('*') && a.mime != "application/octet-stream";
        let served = fetched.mime.as_deref().and_then(|t| t.split(';').next()).map(str::trim);
        let mime = if named { a.mime.as_str() } else { served.unwrap_or(&a.mime) };
        let meta = BlobMeta { key, name: a.name.clone(), mime: mime.to_owned(), size: fetched.data.len() as u64 };
        let sha256 = hex::encode(sha2::Sha256::digest(&fetched.data));
        store.media_kept(m.message_id, index, a.url.clone(), meta, sha256).await.map_err(|e| e.to_string())?;
    }
    Ok(())
}
