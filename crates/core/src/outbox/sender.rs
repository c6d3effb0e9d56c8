//! The outbox's sender: the task that sends due items in order, in batches, whenever the
//! hub can be reached, and records each answer. What to do after a failed send is one pure
//! decision, [`next_step`], tested by table.

use super::staged::{staged_id, Staged};
use super::{Due, Outbox, Settled};
use crate::bus::Bus;
use crate::client::HubClient;
use crate::clock::{backoff, now_ms};
use crate::error::CoreError;
use rand::Rng;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use switchboard_protocol::console::Connection;
use switchboard_protocol::mutation::{Mutation, MutationBatch, Outcome};
use switchboard_protocol::{ApiError, ErrorCode, Id};

/// Mutations sent per request.
pub const BATCH: usize = 100;
/// How long an acknowledged reply waits for its echo from the feed.
pub const ACK_GRACE_MS: i64 = 60_000;

/// What the sender does after a send of `batch_len` items failed as a whole.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The hub was not reached: wait for it as long as it takes; the attempt does not count.
    Wait { error: ApiError },
    /// The hub failed: try again later; the attempt counts towards [`super::MAX_ATTEMPTS`].
    Retry { error: ApiError },
    /// The hub refused the batch as a whole: send one item at a time to find the culprit.
    Split,
    /// The hub refused the items for good: they are stuck with its reason.
    Reject { error: ApiError },
    /// The session is over: stop sending (the items stay queued for the next sign-in).
    SignOut { reason: String },
}

/// The decision after a failed send.
pub fn next_step(error: &CoreError, batch_len: usize) -> Step {
    match error {
        CoreError::Offline(reason) => Step::Wait { error: ApiError::new(ErrorCode::Unavailable, reason.clone()) },
        CoreError::Hub(e) if e.code == ErrorCode::Unauthorized => Step::SignOut { reason: e.message.clone() },
        // The hub takes nothing from this console until it is updated; the items wait.
        CoreError::Hub(e) if e.code == ErrorCode::UpgradeRequired => Step::Wait { error: e.clone() },
        CoreError::Hub(e) if batch_len > 1 && matches!(e.code, ErrorCode::BadRequest | ErrorCode::PayloadTooLarge) => {
            Step::Split
        }
        CoreError::Hub(e)
            if matches!(e.code, ErrorCode::BadRequest | ErrorCode::PayloadTooLarge | ErrorCode::Forbidden) =>
        {
            Step::Reject { error: e.clone() }
        }
        CoreError::Hub(e) => Step::Retry { error: e.clone() },
        other => Step::Retry { error: other.to_api() },
    }
}

/// The sending task's parts.
#[derive(Debug)]
pub struct Sender {
    pub outbox: Outbox,
    pub staged: Staged,
    pub client: HubClient,
    pub bus: Arc<Bus>,
}

impl Sender {
    /// Sends the outbox, in order, for as long as the console runs.
    pub async fn run(self) {
        let client_id = match self.outbox.client_id() {
            Ok(id) => id,
            Err(e) => {
                tracing::error!("the outbox cannot start: {e}");
                return;
            }
        };
        let mut failures: u32 = 0;
        let mut batch_size = BATCH;
        loop {
            let due = match self.outbox.due(now_ms(), batch_size) {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!("cannot read the outbox: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if due.is_empty() {
                // Acknowledged replies whose echo never came (the thread left the agent's
                // scope meanwhile) are done with after a minute.
                if let Err(e) = self.outbox.prune_acknowledged(now_ms() - ACK_GRACE_MS) {
                    tracing::warn!("cannot prune the outbox: {e}");
                }
                if let Err(e) = self.staged.prune() {
                    tracing::warn!("cannot remove attached files already sent: {e}");
                }
                let wait = match self.outbox.next_due_at() {
                    Ok(Some(at)) => Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0).clamp(10, 5_000)),
                    _ => Duration::from_secs(5),
                };
                tokio::select! {
                    _ = self.bus.outbox_wake.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
                continue;
            }
            let ids: Vec<Id> = due.iter().map(|d| d.id).collect();
            let by_mutation: HashMap<u64, Id> = due.iter().map(|d| (d.envelope.mutation_id, d.id)).collect();
            let mut due = due;
            let sent = match self.upload_files(&mut due).await {
                Ok(()) => {
                    let batch = MutationBatch {
                        client_id: client_id.clone(),
                        mutations: due.into_iter().map(|d| d.envelope).collect(),
                    };
                    self.client.mutations(&batch).await
                }
                Err(e) => Err(e),
            };
            match sent {
                Ok(resp) => {
                    failures = 0;
                    batch_size = BATCH;
                    let answers: Vec<(Id, Outcome)> = resp
                        .results
                        .into_iter()
                        .filter_map(|r| by_mutation.get(&r.mutation_id).map(|id| (*id, r.outcome)))
                        .collect();
                    self.settle(&answers);
                    let unanswered: Vec<Id> =
                        ids.into_iter().filter(|id| !answers.iter().any(|(a, _)| a == id)).collect();
                    if !unanswered.is_empty() {
                        let e = ApiError::new(ErrorCode::Internal, "the hub did not answer for this change");
                        self.failed(&unanswered, &e, true, 1);
                    }
                }
                Err(e) => match next_step(&e, ids.len()) {
                    Step::Wait { error } => {
                        failures = failures.saturating_add(1);
                        self.failed(&ids, &error, false, failures);
                    }
                    Step::Retry { error } => {
                        failures = failures.saturating_add(1);
                        self.failed(&ids, &error, true, failures);
                    }
                    Step::Split => batch_size = 1,
                    Step::Reject { error } => {
                        let answers: Vec<(Id, Outcome)> =
                            ids.iter().map(|id| (*id, Outcome::Rejected { error: error.clone() })).collect();
                        self.settle(&answers);
                        batch_size = BATCH;
                    }
                    Step::SignOut { reason } => {
                        self.bus.set_connection(Connection::SignedOut { reason });
                        return;
                    }
                },
            }
        }
    }

    /// Uploads the files the replies in `due` attach (each once: a file uploaded before
    /// is named by the hub's path it was given), and names the hub's copies in the
    /// replies sent. A failed upload fails the batch as a failed send would.
    async fn upload_files(&self, due: &mut [Due]) -> Result<(), CoreError> {
        for d in due.iter_mut() {
            let Mutation::SendReply(reply) = &mut d.envelope.mutation else { continue };
            for a in &mut reply.attachments {
                let Some(id) = staged_id(&a.url).map(str::to_owned) else { continue };
                let url = match self.staged.uploaded_url(&id)? {
                    Some(url) => url,
                    None => {
                        let (mime, bytes) = self.staged.read(&id)?;
                        let name = self.staged.name(&id)?;
                        let kept = self.client.upload(&name, &mime, bytes, &id).await?;
                        self.staged.set_uploaded(&id, &kept.url)?;
                        kept.url
                    }
                };
                a.url = url;
            }
        }
        Ok(())
    }

    fn settle(&self, answers: &[(Id, Outcome)]) {
        match self.outbox.settle(answers) {
            Ok((settled, applied)) => {
                let mut touched = applied;
                for s in settled {
                    match s {
                        Settled::Done(_) => {}
                        Settled::Stuck(item) | Settled::Conflict(item) => {
                            touched.conversations.extend(item.conversation_id);
                            self.bus.outbox_item(item);
                        }
                    }
                }
                self.bus.emit_applied(&touched, false);
            }
            Err(e) => tracing::error!("cannot record the hub's answer: {e}"),
        }
    }

    fn failed(&self, ids: &[Id], error: &ApiError, counts: bool, failures: u32) {
        let pause = backoff(failures, rand::rng().random::<f64>());
        let retry_at = now_ms() + i64::try_from(pause.as_millis()).unwrap_or(i64::MAX / 2);
        match self.outbox.attempt_failed(ids, error, counts, retry_at) {
            Ok(stuck) => {
                for item in stuck {
                    self.bus.outbox_item(item);
                }
            }
            Err(e) => tracing::error!("cannot record a failed send: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(code: ErrorCode) -> CoreError {
        CoreError::Hub(ApiError::new(code, "said the hub"))
    }

    #[test]
    fn next_step_table() {
        let api = |code| ApiError::new(code, "said the hub");
        #[rustfmt::skip]
        let cases: Vec<(&str, CoreError, usize, Step)> = vec![
            ("hub away: wait, uncounted", CoreError::Offline("refused".into()), 3,
                Step::Wait { error: ApiError::new(ErrorCode::Unavailable, "refused") }),
            ("hub away, one item", CoreError::Offline("timed out".into()), 1,
                Step::Wait { error: ApiError::new(ErrorCode::Unavailable, "timed out") }),
            ("session ended", hub(ErrorCode::Unauthorized), 5, Step::SignOut { reason: "said the hub".into() }),
            ("console outdated", hub(ErrorCode::UpgradeRequired), 5, Step::Wait { error: ApiError::new(ErrorCode::UpgradeRequired, "said the hub") }),
            ("session ended, one item", hub(ErrorCode::Unauthorized), 1, Step::SignOut { reason: "said the hub".into() }),
            ("batch refused: split", hub(ErrorCode::BadRequest), 2, Step::Split),
            ("batch too large: split", hub(ErrorCode::PayloadTooLarge), 100, Step::Split),
            ("one item refused: stuck", hub(ErrorCode::BadRequest), 1, Step::Reject { error: api(ErrorCode::BadRequest) }),
            ("one item too large: stuck", hub(ErrorCode::PayloadTooLarge), 1,
                Step::Reject { error: api(ErrorCode::PayloadTooLarge) }),
            ("forbidden: stuck, not split", hub(ErrorCode::Forbidden), 4, Step::Reject { error: api(ErrorCode::Forbidden) }),
            ("hub fault: counted retry", hub(ErrorCode::Internal), 4, Step::Retry { error: api(ErrorCode::Internal) }),
            ("hub busy: counted retry", hub(ErrorCode::RateLimited), 1, Step::Retry { error: api(ErrorCode::RateLimited) }),
            ("hub unavailable: counted retry", hub(ErrorCode::Unavailable), 1,
                Step::Retry { error: api(ErrorCode::Unavailable) }),
            ("unreadable answer: counted retry", CoreError::Protocol("not JSON".into()), 2,
                Step::Retry { error: ApiError::new(ErrorCode::Internal, "unexpected answer from the hub: not JSON") }),
        ];
        for (name, error, batch_len, want) in cases {
            assert_eq!(next_step(&error, batch_len), want, "{name}");
        }
    }
}
