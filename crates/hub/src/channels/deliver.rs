//! The delivery worker: hands queued replies to their providers, retries with backoff what
//! a provider did not take, and marks `failed` (with the provider's reason) what it refused
//! or what still failed after the last attempt. Nothing is dropped silently.

use super::links;
use super::settings::Settings;
use super::{email, meta, twilio, SendError};
use crate::config::Config;
use crate::outbound::backoff;
use crate::storage::{Storage, StorageError};
use crate::store::blobs::blob_key;
use crate::store::outbox::Outgoing;
use crate::store::Store;
use std::time::Duration;
use switchboard_protocol::model::{ChannelKind, Delivery};

/// What to do after a failed attempt (`attempts` made before it).
pub fn after_failure(err: &SendError, attempts: u32, max_attempts: u32, base_ms: u64, now: i64) -> Option<i64> {
    match err {
        SendError::Retry(_) | SendError::Unsure(_) if attempts + 1 < max_attempts => {
            Some(now + backoff(attempts, base_ms))
        }
        _ => None,
    }
}

/// Starts the worker on the current runtime. Once `stopping` turns true it claims no more
/// replies, finishes the sends in flight, and ends.
pub fn start(
    store: Store,
    config: &Config,
    storage: Storage,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let base_ms = config.delivery_retry_base_ms;
    let max = config.delivery_max_attempts.max(1);
    let timeout = Duration::from_millis(config.delivery_timeout_ms.max(1));
    let public_url = config.public_url.clone();
    tokio::spawn(async move {
        let Some(courier) = Courier::start(&store, timeout, public_url, storage, "delivery worker").await else {
            return;
        };
        // A send in flight ends within the timeout; anything claimed longer ago than twice
        // that was interrupted by a hub that stopped (this one, or another on the database).
        let grace = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX / 4).saturating_mul(2).saturating_add(1_000);
        let mut head = store.head();
        let mut last_recovery = i64::MIN;
        loop {
            if *stopping.borrow() {
                return;
            }
            let now = crate::clock::now_ms();
            if now.saturating_sub(last_recovery) > grace {
                last_recovery = now;
                match store.recover_interrupted(now - grace).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(
                        "{n} replies were being sent when a hub stopped; marked failed for agents to check"
                    ),
                    Err(e) => tracing::error!("cannot check for interrupted sends: {e}"),
                }
            }
            let due = match store.claim_due(crate::clock::now_ms(), 32).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!("delivery worker cannot read the outbox: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if due.is_empty() {
                tokio::select! {
                    _ = head.changed() => {}
                    _ = stopping.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                }
                continue;
            }
            let sends = due.into_iter().map(|out| deliver(&store, &courier, out, base_ms, max));
            futures_util::future::join_all(sends).await;
        }
    })
}

/// What handing a message to its provider needs besides the message: the HTTP client, the
/// time a provider has to answer, where the hub is reached from outside (unsubscribe links
/// and the links providers fetch files by), the file store and the key those links are
/// signed with.
#[derive(Debug, Clone)]
pub struct Courier {
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub public_url: Option<String>,
    pub storage: Storage,
    pub link_secret: String,
}

impl Courier {
    /// A courier for the worker `who`, with the HTTP client and the hubs' link key; `None`
    /// (logged) when either cannot be had, retrying the key until the database answers.
    pub async fn start(
        store: &Store,
        timeout: Duration,
        public_url: Option<String>,
        storage: Storage,
        who: &str,
    ) -> Option<Courier> {
        let http = match crate::outbound::client(timeout) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("the {who} cannot start its HTTP client: {e}");
                return None;
            }
        };
        let link_secret = loop {
            match store.hub_key(links::LINK_KEY).await {
                Ok(k) => break k,
                Err(e) => {
                    tracing::warn!("the {who} cannot read the hubs' link key yet: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        Some(Courier { http, timeout, public_url, storage, link_secret })
    }

    /// Hands one message to its provider, within the timeout (and half a second) all
    /// told: an SMTP conversation is several exchanges, each of which could otherwise take
    /// the whole timeout, and no send may outlast the grace after which a claimed send
    /// counts as interrupted. Returns the provider's id for it.
    pub async fn hand_over(&self, out: &Outgoing) -> Result<String, SendError> {
        let id = out.message_id;
        let timeout = self.timeout;
        let send = async {
            match Settings::from_json(&out.settings) {
                Err(e) => Err(SendError::from(e)),
                Ok(s) if s.simulated() => {
                    Ok(format!("sim-{}", out.reference.clone().unwrap_or_else(|| id.to_string())))
                }
                Ok(s) => match out.channel {
                    ChannelKind::Sms => twilio::send(&self.http, &s, &self.linked(out)?).await,
                    ChannelKind::Whatsapp => meta::send_whatsapp(&self.http, &s, &self.linked(out)?).await,
                    ChannelKind::Messenger | ChannelKind::Instagram => {
                        meta::send_messaging(&self.http, &s, &self.linked(out)?).await
                    }
                    ChannelKind::Email => {
                        let unsubscribe = match (&self.public_url, &out.unsubscribe) {
                            (Some(base), Some(token)) => {
                                Some(format!("{}/unsubscribe/{token}", base.trim_end_matches('/')))
                            }
                            _ => None,
                        };
                        let parts = self.parts(out).await?;
                        email::send(&s, out, timeout, unsubscribe.as_deref(), &parts).await
                    }
                    // The hub is the provider for its own widget: storing the reply is
                    // sending it; the visitor's socket reports it delivered, and the
                    // visitor's widget read.
                    ChannelKind::Webchat | ChannelKind::InApp => Ok(format!("hub-{id}")),
                },
            }
        };
        // A moment past the HTTP client's own timeout, so its more precise reason wins when
        // it applies; well within the grace (twice the timeout) either way.
        let deadline = timeout + Duration::from_millis(500);
        tokio::time::timeout(deadline, send).await.unwrap_or_else(|_| {
            Err(SendError::Unsure(format!("the provider did not answer within {} ms", timeout.as_millis())))
        })
    }

    /// `out` with each kept file named by a signed public link the provider fetches it by.
    fn linked(&self, out: &Outgoing) -> Result<Outgoing, SendError> {
        let mut out = out.clone();
        if out.attachments.is_empty() {
            return Ok(out);
        }
        let Some(base) = self.public_url.as_deref() else {
            return Err(SendError::Final(
                "files are fetched by the provider from the hub, and the hub has no `public_url` set".into(),
            ));
        };
        let now = crate::clock::now_ms();
        for a in &mut out.attachments {
            let key = blob_key(&a.url)
                .ok_or_else(|| SendError::Final(format!("`{}` is not a file this hub keeps", a.name)))?
                .to_owned();
            a.url = links::media_url(base, &self.link_secret, &key, now);
        }
        Ok(out)
    }

    /// The kept files of `out`, read for an email's MIME parts.
    async fn parts(&self, out: &Outgoing) -> Result<Vec<email::Part>, SendError> {
        let mut parts = Vec::with_capacity(out.attachments.len());
        for a in &out.attachments {
            let key = blob_key(&a.url)
                .ok_or_else(|| SendError::Final(format!("`{}` is not a file this hub keeps", a.name)))?;
            let data = self.storage.read(key).await.map_err(|e| match e {
                StorageError::NotFound => {
                    SendError::Final(format!("`{}` is missing from the hub's file store", a.name))
                }
                other => SendError::Retry(format!("`{}` cannot be read: {other}", a.name)),
            })?;
            parts.push(email::Part { name: a.name.clone(), mime: a.mime.clone(), data });
        }
        Ok(parts)
    }
}

/// Sends one claimed reply and records what became of it, logged under the request the
/// reply was sent in.
async fn deliver(store: &Store, courier: &Courier, out: Outgoing, base_ms: u64, max: u32) {
    use tracing::Instrument;
    let span =
        tracing::info_span!("delivery", request_id = out.request_id.as_deref().unwrap_or(""), message = out.message_id);
    deliver_one(store, courier, out, base_ms, max).instrument(span).await;
}

async fn deliver_one(store: &Store, courier: &Courier, out: Outgoing, base_ms: u64, max: u32) {
    let id = out.message_id;
    let channel = out.channel.as_str();
    let simulated = Settings::from_json(&out.settings).as_ref().is_ok_and(Settings::simulated);
    let result = courier.hand_over(&out).await;
    let outcome = match result {
        Ok(provider_id) => {
            crate::metrics::delivered(channel, crate::metrics::Delivery::Sent);
            tracing::debug!("reply {id} handed to its provider");
            store.mark_sent(id, Some(provider_id)).await
        }
        Err(err) => {
            let attempts = u32::try_from(out.attempts).unwrap_or(u32::MAX);
            let retry_at = after_failure(&err, attempts, max, base_ms, crate::clock::now_ms());
            let reason = err.reason().to_owned();
            if retry_at.is_none() {
                crate::metrics::delivered(channel, crate::metrics::Delivery::Failed);
                tracing::warn!("reply {id} failed: {reason}");
            } else {
                crate::metrics::delivered(channel, crate::metrics::Delivery::Retry);
                tracing::info!("reply {id} will be tried again: {reason}");
            }
            store.mark_send_failed(id, reason, retry_at).await
        }
    };
    if let Err(e) = outcome {
        tracing::error!("cannot record the delivery of reply {id}: {e}");
    }
    if simulated {
        // The demo's stand-in for the provider's delivery report.
        let store = store.clone();
        let inbox = out.inbox_id;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            let _ = store.delivery_report(inbox, format!("sim-{id}"), Delivery::Delivered, None, None).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_table() {
        let retry = SendError::Retry("503".into());
        let fin = SendError::Final("400".into());
        assert_eq!(after_failure(&retry, 0, 3, 100, 1_000), Some(1_100));
        assert_eq!(after_failure(&retry, 1, 3, 100, 1_000), Some(1_200));
        assert_eq!(after_failure(&retry, 2, 3, 100, 1_000), None, "the last attempt fails for good");
        assert_eq!(after_failure(&fin, 0, 3, 100, 1_000), None, "a refusal is not retried");
        let unsure = SendError::Unsure("timed out".into());
        assert_eq!(
            after_failure(&unsure, 0, 3, 100, 1_000),
            Some(1_100),
            "a reply the provider may have is tried again"
        );
        assert_eq!(backoff(30, 5_000), 3_600_000);
    }
}
