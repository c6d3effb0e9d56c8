//! The customer simulator: a made-up customer writes every few seconds, through the same
//! ingest path real channels use, so a new user sees live traffic and notifications.

use super::customers::{address, customer, fill, subject_of, NEW_CUSTOMERS, TOPICS};
use crate::clock::now_ms;
use crate::store::ingest::Inbound;
use crate::store::{Result, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;
use switchboard_protocol::model::{ChannelKind, Inbox, Presence};
use switchboard_protocol::mutation::{Mutation, SetPresence};

/// Tomás steps away on odd turns and comes back on even ones.
async fn come_and_go(store: &Store, turn: u64) -> Result<()> {
    let agents = store.agents().await?;
    let Some(tomas) = agents.iter().find(|a| a.email == "tomas@northwind.example") else { return Ok(()) };
    let presence = if turn % 2 == 1 { Presence::Away } else { Presence::Online };
    let v = store.viewer(tomas.id).await?;
    super::seed::apply_as(store, &v, Mutation::SetPresence(SetPresence { presence, automatic: false })).await
}

/// Writes a new customer message every `every` (with jitter) until the task is dropped.
pub async fn simulate(store: Store, every: Duration, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut n: u64 = 0;
    loop {
        let jitter = rng.random_range(0.5..1.5);
        tokio::time::sleep(every.mul_f64(jitter)).await;
        n += 1;
        if let Err(e) = simulate_one(&store, &mut rng, n).await {
            tracing::warn!("demo simulator: {e}");
        }
    }
}

/// Every this many messages, Tomás comes online or steps away, so Billing's routing has
/// someone coming and going.
const PRESENCE_EVERY: u64 = 12;

async fn simulate_one(store: &Store, rng: &mut StdRng, n: u64) -> Result<()> {
    if n % PRESENCE_EVERY == 0 {
        come_and_go(store, n / PRESENCE_EVERY).await?;
    }
    let inboxes = store.inboxes().await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    // Mostly existing customers; now and then someone new, who writes by SMS, WhatsApp or
    // email (and is in the customer file: they signed up but never wrote before).
    let new = rng.random_range(0..10) == 0;
    let index = if new { NEW_CUSTOMERS.start + n as usize % NEW_CUSTOMERS.len() } else { rng.random_range(0..220) };
    let pool: Vec<&Inbox> = inboxes
        .iter()
        .filter(|i| !new || matches!(i.kind, ChannelKind::Sms | ChannelKind::Whatsapp | ChannelKind::Email))
        .collect();
    let Some(inbox) = pool.get(rng.random_range(0..pool.len().max(1))).copied() else {
        return Ok(());
    };
    let c = customer(index);
    let (opener, follow, _) = TOPICS[rng.random_range(0..TOPICS.len())];
    let plan = c.profile.get("plan").map_or("Pro", String::as_str);
    let city = c.profile.get("city").map_or("Lisbon", String::as_str);
    let text = if rng.random_bool(0.5) { opener } else { follow[rng.random_range(0..follow.len())] };
    store
        .ingest(Inbound {
            inbox_id: inbox.id,
            from: address(&c, inbox.kind),
            display_name: Some(c.name.clone()),
            body: fill(text, &c.first, rng.random_range(10_000..99_999), plan, city),
            attachments: vec![],
            provider_id: Some(format!("sim-{}-{n}", now_ms())),
            at: now_ms(),
            profile: c.profile.clone(),
            subject: (inbox.kind == ChannelKind::Email).then(|| subject_of(text)),
            thread_refs: Vec::new(),
            unsupported: None,
            unverified: None,
            answer: None,
        })
        .await?;
    Ok(())
}
