//! The CRM worker: runs the lookups contacts are waiting for and logs the transcripts of
//! resolved conversations, in the background, so no thread ever waits on the CRM.

use super::transcript::render;
use super::{is_stale, snapshot, Crm, CrmError, Found, Lookup};
use crate::clock::now_ms;
use crate::store::crm::{CrmRequest, TranscriptEnd, TranscriptJob};
use crate::store::Store;
use std::time::Duration;
use switchboard_protocol::model::Direction;
use switchboard_protocol::Timestamp;

/// Attempts at logging one transcript before it is marked failed.
const MAX_TRANSCRIPT_ATTEMPTS: i64 = 8;

/// How long the worker lets commits gather before it looks for work they made.
const COALESCE: Duration = Duration::from_millis(100);

/// Starts the worker on the current runtime.
pub fn start(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut head = store.head();
        let mut current: Option<(Timestamp, Crm)> = None;
        // Settings stored but unusable: transcripts wait for an admin to fix them.
        let mut broken: Option<Timestamp> = None;
        loop {
            match store.crm_settings().await {
                Ok(Some((settings, at))) if current.as_ref().map(|c| c.0) != Some(at) && broken != Some(at) => {
                    match Crm::shared(settings, &store) {
                        Ok(crm) => {
                            current = Some((at, crm));
                            broken = None;
                        }
                        Err(e) => {
                            tracing::error!("{e}");
                            current = None;
                            broken = Some(at);
                        }
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    current = None;
                    broken = None;
                }
                Err(e) => tracing::warn!("the CRM worker cannot read its settings: {e}"),
            }
            let busy = match (&current, broken) {
                (Some((_, crm)), _) => run_due(&store, crm).await,
                (None, Some(_)) => false,
                (None, None) => skip_transcripts(&store).await,
            };
            if !busy {
                tokio::select! {
                    _ = head.changed() => {
                        // A burst of commits (a busy inbox) makes one round, not one per commit.
                        tokio::time::sleep(COALESCE).await;
                        head.borrow_and_update();
                    }
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    })
}

/// Runs what is due now; answers whether there was anything.
pub async fn run_due(store: &Store, crm: &Crm) -> bool {
    run_due_at(store, crm, now_ms()).await
}

/// How long after its claim a lookup or transcript counts as interrupted: one in flight
/// makes at most a dozen calls, each within the timeout.
pub fn claim_grace(crm: &Crm) -> i64 {
    i64::try_from(crm.settings.timeout_ms).unwrap_or(60_000).saturating_mul(12).saturating_add(5_000)
}

/// Runs what is due at `now`; answers whether there was anything.
pub async fn run_due_at(store: &Store, crm: &Crm, now: Timestamp) -> bool {
    let grace = claim_grace(crm);
    let requests = match store.claim_crm_requests(now, now - grace, 8).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("the CRM worker cannot read its lookups: {e}");
            Vec::new()
        }
    };
    let mut busy = !requests.is_empty();
    futures_util::future::join_all(requests.into_iter().map(|r| lookup_one(store, crm, r, now))).await;
    // One transcript at a time, each claimed just before it is logged, so a claim never
    // ages while it waits its turn.
    let started = now_ms();
    for _ in 0..4 {
        let at = now + (now_ms() - started);
        let job = match store.claim_transcripts(at, at - grace, 1).await {
            Ok(mut j) => match j.pop() {
                Some(job) => job,
                None => break,
            },
            Err(e) => {
                tracing::warn!("the CRM worker cannot read its transcripts: {e}");
                break;
            }
        };
        busy = true;
        let end = transcript_one(store, crm, &job).await;
        if let TranscriptEnd::Failed(why) = &end {
            crate::metrics::crm_error(crm.source());
            tracing::warn!("the transcript of conversation {} was not logged: {why}", job.conversation_id);
        }
        if let Err(e) = store.finish_transcript(&job, end).await {
            tracing::error!("cannot record transcript {}: {e}", job.id);
        }
    }
    busy
}

/// With no CRM connected, resolved conversations have nowhere to be logged.
async fn skip_transcripts(store: &Store) -> bool {
    let now = now_ms();
    // A claim younger than ten minutes may be another hub's, still logging.
    let jobs = store.claim_transcripts(now, now - 600_000, 32).await.unwrap_or_default();
    for job in &jobs {
        let _ = store.finish_transcript(job, TranscriptEnd::Skipped("no CRM connected".into())).await;
    }
    !jobs.is_empty()
}

async fn lookup_one(store: &Store, crm: &Crm, req: CrmRequest, now: Timestamp) {
    let previous = req.contact.crm.as_ref();
    let failed = previous.is_some_and(|p| p.error.is_some());
    let other_source = previous.is_some_and(|p| p.source != crm.source());
    if !is_stale(req.checked_at, failed, crm.ttl_ms(), now, req.forced || other_source) {
        if let Err(e) = store.finish_crm_request(&req, None).await {
            tracing::error!("cannot finish the lookup of contact {}: {e}", req.contact.id);
        }
        return;
    }
    let outcome = match Lookup::for_contact(&req.contact, req.by.as_deref()) {
        Err(e) => Err(CrmError::Refused("The lookup", e.to_string())),
        // Nothing to search by (a Messenger-only customer): nothing matches.
        Ok(l) if l.is_empty() => Ok(Found { records: Vec::new(), searched: Vec::new() }),
        Ok(l) => crm.lookup(&l).await,
    };
    if let Err(e) = &outcome {
        crate::metrics::crm_error(crm.source());
        if let Some(wait) = e.retry_after() {
            let later = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(60_000);
            if let Err(e) = store.defer_crm_request(req.contact.id, later).await {
                tracing::error!("cannot defer the lookup of contact {}: {e}", req.contact.id);
            }
            return;
        }
        tracing::info!("CRM lookup of contact {}: {e}", req.contact.id);
    }
    let snap = snapshot(crm.source(), previous, &outcome, now_ms());
    if let Err(e) = store.finish_crm_request(&req, Some(snap)).await {
        tracing::error!("cannot store the CRM fields of contact {}: {e}", req.contact.id);
    }
}

/// Logs one transcript, checking first whether an earlier attempt got through.
pub async fn transcript_one(store: &Store, crm: &Crm, job: &TranscriptJob) -> TranscriptEnd {
    let t = &crm.settings.transcripts;
    if !t.enabled {
        return TranscriptEnd::Skipped("transcripts are turned off".into());
    }
    if !crm.takes_transcripts() {
        return TranscriptEnd::Skipped(format!("the {} source does not take transcripts", crm.source()));
    }
    let material = match store.transcript_material(job).await {
        Ok(m) => m,
        Err(e) => return TranscriptEnd::Failed(e.to_string()),
    };
    let said = material.lines.iter().filter(|l| match l.direction {
        Direction::Inbound | Direction::Outbound => true,
        Direction::Note => t.include_notes,
        Direction::System => false,
    });
    if said.count() == 0 {
        return TranscriptEnd::Skipped("nothing the customer and agents said".into());
    }
    let transcript = render(
        job.conversation_id,
        job.through_message_id,
        material.channel,
        &material.inbox,
        &material.lines,
        t.include_notes,
        job.resolved_at,
    );
    let known = material.contact.crm.as_ref().filter(|c| c.source == crm.source()).and_then(|c| c.record_id.clone());
    let record_id = match known {
        Some(id) => id,
        None => {
            let found = match Lookup::for_contact(&material.contact, None) {
                Ok(l) if !l.is_empty() => crm.search(&l).await,
                _ => Ok(Found { records: Vec::new(), searched: Vec::new() }),
            };
            match found {
                Ok(f) => match f.records.into_iter().next() {
                    Some(r) => r.id,
                    None => return TranscriptEnd::Skipped("the customer has no CRM record".into()),
                },
                Err(e) => return retry_or_fail(job, &e),
            }
        }
    };
    // After an interrupted or failed attempt the CRM may hold it already (a timeout can
    // come after the CRM stored it): look before logging it again.
    if job.interrupted || job.attempts > 0 {
        match crm.find_transcript(&record_id, &transcript).await {
            Ok(Some(id)) => return TranscriptEnd::Logged(id),
            Ok(None) => {}
            Err(e) => return retry_or_fail(job, &e),
        }
    }
    // Another hub may have taken the job over meanwhile (this one was too slow): then it is
    // that hub's to log.
    match store.transcript_still_claimed(job).await {
        Ok(true) => {}
        Ok(false) => return TranscriptEnd::Retry(now_ms(), "taken over by another hub".into()),
        Err(e) => return TranscriptEnd::Retry(now_ms() + 15_000, e.to_string()),
    }
    match crm.log_transcript(&record_id, &transcript).await {
        Ok(id) => TranscriptEnd::Logged(id),
        Err(e) => retry_or_fail(job, &e),
    }
}

fn retry_or_fail(job: &TranscriptJob, e: &CrmError) -> TranscriptEnd {
    let attempts = job.attempts + 1;
    if e.is_transient() && attempts < MAX_TRANSCRIPT_ATTEMPTS {
        let wait = match e.retry_after() {
            Some(d) => i64::try_from(d.as_millis()).unwrap_or(60_000),
            None => crate::outbound::backoff(u32::try_from(attempts).unwrap_or(20), 15_000),
        };
        TranscriptEnd::Retry(now_ms() + wait, e.to_string())
    } else {
        TranscriptEnd::Failed(e.to_string())
    }
}
