//! The agents whose consoles hold a stream on this hub, and recording that they were seen:
//! a console coming or going is written within [`RECORD_EVERY`], and every agent still
//! holding one once a heartbeat, each round as one statement over the agents in id order.
//! A write per stream per heartbeat instead, with thousands of consoles over a few hundred
//! agents, had hubs queueing on each other's agent rows behind their customers' messages.

use crate::store::Store;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use tokio::task::JoinHandle;

/// How soon a console coming or going is recorded.
pub const RECORD_EVERY: Duration = Duration::from_secs(1);

/// Consoles per agent on this hub, and the agents whose consoles came or went since the
/// last round.
#[derive(Debug, Default)]
struct Ledger {
    held: HashMap<i64, usize>,
    moved: BTreeSet<i64>,
}

impl Ledger {
    fn hold(&mut self, agent: i64) {
        *self.held.entry(agent).or_insert(0) += 1;
        self.moved.insert(agent);
    }

    fn release(&mut self, agent: i64) {
        if let Some(n) = self.held.get_mut(&agent) {
            *n -= 1;
            if *n == 0 {
                self.held.remove(&agent);
            }
        }
        self.moved.insert(agent);
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
}

impl Drop for Held {
    fn drop(&mut self) {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner).release(self.agent);
    }
}

impl Consoles {
    /// Counts a console of `agent` as open until the returned value is dropped.
    pub fn hold(&self, agent: i64) -> Held {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner).hold(agent);
        Held { ledger: self.ledger.clone(), agent }
    }

    /// Records as seen the agents whose consoles came or went since the last round and,
    /// when `all`, every agent holding one; returns how many.
    pub async fn record(&self, store: &Store, all: bool) -> crate::store::Result<usize> {
        let due = self.ledger.lock().unwrap_or_else(PoisonError::into_inner).due(all);
        let n = due.len();
        store.seen_agents(due).await?;
        Ok(n)
    }

    /// Records a round every [`RECORD_EVERY`], every held agent once each `heartbeat`,
    /// until every handle to these consoles is dropped.
    pub fn start(&self, store: Store, heartbeat: Duration) -> JoinHandle<()> {
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
        let due = |all| consoles.ledger.lock().unwrap().due(all);
        assert_eq!(due(false), Vec::<i64>::new(), "nobody yet");
        let a = consoles.hold(7);
        let b = consoles.hold(3);
        let b2 = consoles.hold(3);
        assert_eq!(due(false), vec![3, 7], "in id order, each once");
        assert_eq!(due(false), Vec::<i64>::new(), "each arrival once");
        assert_eq!(due(true), vec![3, 7], "a heartbeat records everyone held");
        drop(b);
        assert_eq!(due(false), vec![3], "a console that went is recorded, its grace counting from then");
        assert_eq!(due(true), vec![3, 7], "agent 3 still holds one");
        drop(b2);
        drop(a);
        assert_eq!(due(true), vec![3, 7], "both went since the last round");
        assert_eq!(due(true), Vec::<i64>::new(), "nobody is held");
    }
}
