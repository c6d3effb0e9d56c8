//! The demo's earlier months: before the seeded month, a quarter of short conversations
//! (asked, answered, resolved, and often rated by the customer) and each agent's shifts
//! online, so the lead's reports have months to show. Written through the store's own
//! ingest and mutation paths at the times they happened, in Northwind's time zone.

use super::customers::{address, channels_of, customer, fill, subject_of, TOPICS};
use crate::clock::{now_ms, HOUR, MINUTE};
use crate::policy::Viewer;
use crate::store::ingest::Inbound;
use crate::store::{Result, Store, StoreError};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::rngs::StdRng;
use rand::Rng;
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Inbox, Presence};
use switchboard_protocol::mutation::{Assign, Mutation, MutationEnvelope, Outcome, SendReply, SetPresence, SetStatus};

/// How far back before the seeded month the history goes, unless told otherwise.
pub const DAYS: i64 = 90;
/// The seeded month, which the history comes before.
const MONTH: i64 = 31;

/// Writes one mutation as `v` at `at`, failing on a refusal.
struct Writer<'a> {
    store: &'a Store,
    next: u64,
}

impl Writer<'_> {
    async fn apply(&mut self, v: &Viewer, at: i64, mutations: Vec<Mutation>) -> Result<()> {
        let batch = mutations
            .into_iter()
            .map(|mutation| {
                self.next += 1;
                MutationEnvelope { mutation_id: self.next, mutation, expected_version: None }
            })
            .collect();
        let client = format!("demo-history-{}", v.agent_id);
        for r in self.store.apply_mutations_at(v, &client, batch, Some(at)).await? {
            if let Outcome::Rejected { error } = r.outcome {
                return Err(StoreError::BadRequest(error.message));
            }
        }
        Ok(())
    }
}

fn presence(p: Presence) -> Mutation {
    Mutation::SetPresence(SetPresence { presence: p, automatic: false })
}

/// The hour a customer writes at: mostly working hours, busiest late morning.
fn hour(rng: &mut StdRng) -> i64 {
    const WEIGHTS: [(i64, u32); 13] = [
        (8, 3),
        (9, 6),
        (10, 9),
        (11, 10),
        (12, 7),
        (13, 6),
        (14, 8),
        (15, 8),
        (16, 7),
        (17, 5),
        (18, 3),
        (19, 2),
        (20, 1),
    ];
    let total: u32 = WEIGHTS.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total);
    for (h, w) in WEIGHTS {
        if pick < w {
            return h;
        }
        pick -= w;
    }
    12
}

/// How long the first answer takes: minutes mostly, now and then past the 15-minute target.
fn first_answer(rng: &mut StdRng) -> i64 {
    if rng.random_range(0..10) == 0 {
        rng.random_range(16..75) * MINUTE
    } else {
        rng.random_range(1..14) * MINUTE + rng.random_range(0..60) * 1000
    }
}

/// Writes `days` of history before the seeded month: `agents` (not admins) work shifts;
/// customers write to `inboxes`.
pub(super) async fn write(
    store: &Store,
    rng: &mut StdRng,
    inboxes: &[Inbox],
    agents: &[Viewer],
    contacts: usize,
    days: i64,
) -> Result<usize> {
    let tz = TimeZone::get(super::TIME_ZONE).map_err(|e| StoreError::BadRequest(e.to_string()))?;
    let today = jiff::Timestamp::from_millisecond(now_ms())
        .map_err(|e| StoreError::BadRequest(e.to_string()))?
        .to_zoned(tz.clone())
        .date();
    let mut w = Writer { store, next: 0 };
    let mut written = 0;
    for back in (MONTH..MONTH + days.max(0)).rev() {
        let Ok(date) = today.checked_sub(jiff::Span::new().days(back)) else { continue };
        let Some(midnight) = crate::reports::day_start(&tz, date) else { continue };
        written += day(&mut w, rng, date, midnight, inboxes, agents, contacts, back).await?;
    }
    Ok(written)
}

#[allow(clippy::too_many_arguments)]
async fn day(
    w: &mut Writer<'_>,
    rng: &mut StdRng,
    date: Date,
    midnight: i64,
    inboxes: &[Inbox],
    agents: &[Viewer],
    contacts: usize,
    back: i64,
) -> Result<usize> {
    let weekend = matches!(date.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday);
    // Shifts: everyone on weekdays (early, late, early...), one agent on weekends.
    let mut shifts = Vec::new();
    for (i, a) in agents.iter().enumerate() {
        if weekend && (i as i64 + back) % agents.len() as i64 != 0 {
            continue;
        }
        let start = midnight + if i % 2 == 0 { 8 * HOUR } else { 12 * HOUR } + rng.random_range(0..20) * MINUTE;
        shifts.push((a, start, start + 8 * HOUR + rng.random_range(0..30) * MINUTE));
    }
    for (a, start, _) in &shifts {
        w.apply(a, *start, vec![presence(Presence::Online)]).await?;
    }
    // About as busy as the seeded month, which has five conversations for each customer.
    let count = if weekend {
        rng.random_range(contacts / 25..contacts / 15 + 2)
    } else {
        rng.random_range(contacts / 8..contacts / 5 + 2)
    };
    let mut conversations = Vec::new();
    for k in 0..count {
        conversations.push((midnight + hour(rng) * HOUR + rng.random_range(0..60) * MINUTE, k));
    }
    conversations.sort_unstable();
    let mut written = 0;
    for (at, k) in conversations {
        let index = rng.random_range(0..contacts);
        let theirs = channels_of(index, inboxes);
        let Some(inbox) = theirs.get(rng.random_range(0..theirs.len().max(1))).copied() else { continue };
        // Whoever is on shift and in the inbox's team answers; nobody, and it waits for
        // the morning.
        let on = shifts.iter().filter(|(a, s, e)| a.teams.contains(&inbox.team_id) && *s <= at && at < *e);
        let on: Vec<_> = on.collect();
        let (agent, answered) = match on.as_slice() {
            [] => match shifts.iter().find(|(a, s, _)| a.teams.contains(&inbox.team_id) && *s > at) {
                Some((a, s, _)) => (*a, *s + rng.random_range(2..20) * MINUTE),
                None => continue,
            },
            some => (some[rng.random_range(0..some.len())].0, at + first_answer(rng)),
        };
        let c = customer(index);
        let (opener, _, answers) = TOPICS[rng.random_range(0..TOPICS.len())];
        let order = rng.random_range(10_000..99_999);
        let plan = c.profile.get("plan").map_or("Pro", String::as_str);
        let city = c.profile.get("city").map_or("Lisbon", String::as_str);
        let from = address(&c, inbox.kind);
        let mut opening = Inbound::text(inbox.id, &from, &fill(opener, &c.first, order, plan, city), None, at);
        opening.provider_id = Some(format!("history-{back}-{k}"));
        opening.display_name = Some(c.name.clone());
        opening.profile = c.profile.clone();
        opening.subject = (inbox.kind == ChannelKind::Email).then(|| subject_of(opener));
        let got = w.store.ingest_history(opening).await?;
        let id = got.conversation_id;
        let claim =
            Mutation::Assign(Assign { conversation_id: id, agent_id: Some(Some(agent.agent_id)), team_id: None });
        let reply = Mutation::SendReply(SendReply {
            conversation_id: id,
            client_msg_id: format!("history-reply-{back}-{k}"),
            body: fill(answers[0], &c.first, order, plan, city),
            attachments: vec![],
            choices: None,
        });
        w.apply(agent, answered, vec![claim, reply]).await?;
        let resolved = answered + rng.random_range(4..240) * MINUTE;
        let resolve = SetStatus { conversation_id: id, status: ConversationStatus::Resolved, snoozed_until: None };
        w.apply(agent, resolved, vec![Mutation::SetStatus(resolve)]).await?;
        // Two in five answer the survey, mostly happily.
        if crate::csat::surveyed(inbox.kind)
            && !matches!(inbox.kind, ChannelKind::Webchat | ChannelKind::InApp)
            && rng.random_range(0..5) < 2
        {
            let score = [5, 5, 5, 4, 4, 4, 3, 2, 1, 5][rng.random_range(0..10)];
            let id = format!("history-rating-{back}-{k}");
            let rated = resolved + rng.random_range(2..90) * MINUTE;
            let mut rating = Inbound::text(inbox.id, &from, &score.to_string(), Some(&id), rated);
            rating.display_name = Some(c.name.clone());
            w.store.ingest_history(rating).await?;
        }
        written += 1;
    }
    for (a, _, end) in &shifts {
        w.apply(a, *end, vec![presence(Presence::Offline)]).await?;
    }
    Ok(written)
}
