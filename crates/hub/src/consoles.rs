//! The consoles whose streams are open on this hub, and what the hub does for all of them
//! at once: recording their agents as seen (a console coming or going within
//! [`RECORD_EVERY`], every agent still holding one once a heartbeat, each round as one
//! statement over the agents in id order) and checking their sessions once a heartbeat (one
//! read for all, the streams of an ended session told to close). A write and a read per
//! stream per heartbeat instead, with thousands of consoles over a few hundred agents, had
//! hubs queueing on each other's agent rows behind their customers' messages.

use crate::auth::Auth;
use crate::store::Store;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use switchboard_protocol::ApiError;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How soon a console coming or going is recorded.
pub const RECORD_EVERY: Duration = Duration::from_secs(1);

/// Consoles per agent and per session on this hub, and the agents whose consoles came or
/// went since the last round.
#[derive(Debug, Default)]
struct Ledger {
    held: HashMap<i64, usize>,
    moved: BTreeSet<i64>,
    sessions: HashMap<i64, Session>,
}

/// A session's open consoles, and where they hear that it ended.
#[derive(Debug)]
struct Session {
    consoles: usize,
    ended: watch::Sender<Option<ApiError>>,
}

impl Ledger {
    fn hold(&mut self, agent: i64, session: i64) -> watch::Receiver<Option<ApiError>> {
        *self.held.entry(agent).or_insert(0) += 1;
        self.moved.insert(agent);
        let s =
            self.sessions.entry(session).or_insert_with(|| Session { consoles: 0, ended: watch::Sender::new(None) });
        s.consoles += 1;
        s.ended.subscribe()
    }

    fn release(&mut self, agent: i64, session: i64) {
        if let Some(n) = self.held.get_mut(&agent) {
            *n -= 1;
            if *n == 0 {
                self.held.remove(&agent);
            }
        }
        self.moved.insert(agent);
        if let Some(s) = self.sessions.get_mut(&session) {
            s.consoles -= 1;
            if s.consoles == 0 {
                self.sessions.remove(&session);
            }
        }
    }

    /// The agents to record as seen this round, in id order: those whose consoles came or
    /// went since the last round and, when `all`, every agent still holding one.
    fn due(&mut self, all: bool) -> Vec<i64> {
        let mut due = std::mem::take(&mut self.moved);
        if all {
            due.extend(self.held.keys().copied());
        }
        due.into_iter().collect()
    }

    /// The sessions with consoles open, in id order.
    fn sessions(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.sessions.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Tells the consoles of `session` that it ended.
    fn end(&self, session: i64, why: ApiError) {
        if let Some(s) = self.sessions.get(&session) {
            s.ended.send_replace(Some(why));
        }
    }
}

/// This hub's consoles; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Consoles {
    ledger: Arc<Mutex<Ledger>>,
}

/// One open console, counted until dropped.
#[derive(Debug)]
pub struct Held {
    ledger: Arc<Mutex<Ledger>>,
    agent: i64,
    session: i64,
    ended: watch::Receiver<Option<ApiError>>,
}

impl Held {
    /// Waits until the console's session has ended (logged out, expired, its agent
    /// disabled), as a heartbeat round found; why.
    pub async fn ended(&mut self) -> ApiError {
        let why = self.ended.wait_for(Option::is_some).await.ok().and_then(|why| why.clone());
        match why {
            Some(why) => why,
            // The hub's consoles are gone: nothing will tell this one, so it waits on.
            None => std::future::pending().await,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner).release(self.agent, self.session);
    }
}

impl Consoles {
    /// Counts a console of `agent` on `session` as open until the returned value is dropped.
    pub fn hold(&self, agent: i64, session: i64) -> Held {
        let ended = self.ledger.lock().unwrap_or_else(PoisonError::into_inner).hold(agent, session);
        Held { ledger: self.ledger.clone(), agent, session, ended }
    }

    /// Records as seen the agents whose consoles came or went since the last round and,
    /// when `all`, every agent holding one; returns how many.
    pub async fn record(&self, store: &Store, all: bool) -> crate::store::Result<usize> {
        let due = self.lock().due(all);
        let n = due.len();
        store.seen_agents(due).await?;
        Ok(n)
    }

    /// Checks every session with consoles open, and tells the consoles of those that
    /// ended; returns how many ended.
    pub async fn check_sessions(&self, auth: &Auth) -> Result<usize, ApiError> {
        let ids = self.lock().sessions();
        let ended = auth.ended_among(ids).await?;
        let ledger = self.lock();
        for (session, why) in &ended {
            ledger.end(*session, why.clone());
        }
        Ok(ended.len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a round every [`RECORD_EVERY`], and once each `heartbeat` records every held
    /// agent and checks every session, until every handle to these consoles is dropped.
    pub fn start(&self, store: Store, auth: Arc<Auth>, heartbeat: Duration) -> JoinHandle<()> {
        let ledger: Weak<Mutex<Ledger>> = Arc::downgrade(&self.ledger);
        let rounds = u32::try_from(heartbeat.as_millis() / RECORD_EVERY.as_millis()).unwrap_or(u32::MAX).max(1);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RECORD_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut round = 0u32;
            loop {
                every.tick().await;
                let Some(ledger) = ledger.upgrade() else { return };
                let consoles = Consoles { ledger };
                round = (round + 1) % rounds;
                if let Err(e) = consoles.record(&store, round == 0).await {
                    tracing::debug!("open consoles cannot be recorded: {e}");
                }
                // A database hiccup ends no stream: the sessions are checked again next time.
                if round == 0 {
                    if let Err(e) = consoles.check_sessions(&auth).await {
                        tracing::debug!("open consoles' sessions cannot be checked: {e}");
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_records_who_came_or_went_and_on_a_heartbeat_everyone_held() {
        let consoles = Consoles::default();
        let due = |all| consoles.lock().due(all);
        assert_eq!(due(false), Vec::<i64>::new(), "nobody yet");
        let a = consoles.hold(7, 70);
        let b = consoles.hold(3, 30);
        let b2 = consoles.hold(3, 31);
        assert_eq!(due(false), vec![3, 7], "in id order, each once");
        assert_eq!(due(false), Vec::<i64>::new(), "each arrival once");
        assert_eq!(due(true), vec![3, 7], "a heartbeat records everyone held");
        assert_eq!(consoles.lock().sessions(), vec![30, 31, 70]);
        drop(b);
        assert_eq!(due(false), vec![3], "a console that went is recorded, its grace counting from then");
        assert_eq!(due(true), vec![3, 7], "agent 3 still holds one");
        drop(b2);
        drop(a);
        assert_eq!(due(true), vec![3, 7], "both went since the last round");
        assert_eq!(due(true), Vec::<i64>::new(), "nobody is held");
        assert_eq!(consoles.lock().sessions(), Vec::<i64>::new(), "no session is watched");
    }

    #[tokio::test]
    async fn every_console_of_an_ended_session_hears_it_and_no_other() {
        let consoles = Consoles::default();
        let (mut one, mut two, mut other) = (consoles.hold(1, 10), consoles.hold(1, 10), consoles.hold(1, 11));
        let why = ApiError::new(switchboard_protocol::ErrorCode::Unauthorized, "the session was ended");
        consoles.lock().end(10, why.clone());
        assert_eq!(one.ended().await.message, why.message);
        assert_eq!(two.ended().await.message, why.message);
        let quiet = tokio::time::timeout(Duration::from_millis(50), other.ended()).await;
        assert!(quiet.is_err(), "session 11 goes on");
    }
}
