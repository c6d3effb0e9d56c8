//! The sender of chats' unseen replies by email: every few seconds it claims the emails
//! due ([`crate::store::Store::claim_fallbacks`]) and sends each from the email inbox the
//! chat's inbox names, threaded on the ones before, so the visitor's mail program keeps one
//! thread and their answer comes back to the chat. A failed send is tried again with
//! backoff; the last failure is shown to agents in the conversation.

use super::email;
use super::settings::Settings;
use super::SendError;
use crate::outbound::backoff;
use crate::store::fallback::FallbackEmail;
use crate::store::outbox::Outgoing;
use crate::store::Store;
use std::time::Duration;
use switchboard_protocol::model::ChannelKind;

/// How often chats are looked at.
const LOOK_EVERY: Duration = Duration::from_secs(5);
/// The first retry's pause; each further one doubles it.
const RETRY_BASE_MS: u64 = 30_000;

/// Starts the sender on the current runtime; it ends when `stopping` turns true.
pub fn start(
    store: Store,
    timeout: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if *stopping.borrow() {
                return;
            }
            match store.claim_fallbacks(crate::clock::now_ms(), 20).await {
                Ok(due) => {
                    for email in due {
                        send(&store, email, timeout).await;
                    }
                }
                Err(e) => tracing::warn!("chats' unseen replies cannot be looked at: {e}"),
            }
            tokio::select! {
                _ = stopping.changed() => {}
                _ = tokio::time::sleep(LOOK_EVERY) => {}
            }
        }
    })
}

async fn send(store: &Store, e: FallbackEmail, timeout: Duration) {
    let id = e.id;
    let result = match Settings::from_json(&e.settings) {
        Err(err) => Err(SendError::from(err)),
        Ok(s) if s.simulated() => Ok(format!("sim-fallback-{id}")),
        Ok(s) => email::send(&s, &outgoing(&e), timeout, None, &[]).await,
    };
    let recorded = match result {
        Ok(message_id) => store.fallback_sent(id, message_id).await,
        Err(err) => {
            let attempts = u32::try_from(e.attempts).unwrap_or(u32::MAX);
            let retry_at = match err {
                SendError::Retry(_) | SendError::Unsure(_) => {
                    Some(crate::clock::now_ms() + backoff(attempts.saturating_sub(1), RETRY_BASE_MS))
                }
                SendError::Final(_) => None,
            };
            store.fallback_failed(id, err.reason().to_owned(), retry_at).await
        }
    };
    if let Err(err) = recorded {
        tracing::error!("cannot record the email of a chat's unseen replies ({id}): {err}");
    }
}

/// The email as the SMTP sender takes it: from the email inbox to the visitor, threaded on
/// the chat's earlier emails.
fn outgoing(e: &FallbackEmail) -> Outgoing {
    Outgoing {
        message_id: e.id,
        conversation_id: e.conversation_id,
        inbox_id: e.inbox_id,
        channel: ChannelKind::Email,
        from: e.from.clone(),
        settings: e.settings.clone(),
        to: e.to.clone(),
        contact_name: e.visitor_name.clone(),
        body: e.body.clone(),
        attachments: Vec::new(),
        template: None,
        attempts: e.attempts,
        subject: Some(e.subject.clone()),
        in_reply_to: e.references.last().cloned(),
        references: e.references.clone(),
        reference: None,
        unsubscribe: None,
        choices: None,
        request_id: None,
    }
}
