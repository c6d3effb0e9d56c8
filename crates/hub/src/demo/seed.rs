//! Seeding the demo workspace: its logins, teams, agents, inboxes, canned responses,
//! Support's response-time targets, Billing's routing, the months of [`history`](super::history)
//! and a month of conversations with the made-up customers, written through the store's
//! own ingest and mutation paths.

use super::customers::{address, channels_of, customer, fill, subject_of, Customer, TOPICS};
use crate::auth::hash_secret;
use crate::clock::{now_ms, DAY, HOUR, MINUTE};
use crate::policy::Viewer;
use crate::store::directory::NewAgent;
use crate::store::ingest::Inbound;
use crate::store::{Result, Store, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{
    Attachment, ChannelKind, ConversationStatus, Inbox, Presence, Role, RoutingMode, RoutingPolicy, SlaPolicy,
};
use switchboard_protocol::mutation::{
    Assign, MergeContacts, Mutation, MutationEnvelope, Outcome, SaveCanned, SendReply, SetAgentRouting, SetPresence,
    SetRouting, SetSla, SetStatus,
};

/// A login the demo prints.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub name: String,
    pub email: String,
    pub password: String,
    pub role: Role,
}

/// The logins of the demo workspace (the same every time).
pub fn logins() -> Vec<DemoLogin> {
    let l = |name: &str, email: &str, password: &str, role| DemoLogin {
        name: name.into(),
        email: email.into(),
        password: password.into(),
        role,
    };
    vec![
        l("Maya Okafor", "maya@northwind.example", "maya-demo-pass", Role::Agent),
        l("Tomás Ruiz", "tomas@northwind.example", "tomas-demo-pass", Role::Agent),
        l("Priya Raman", "priya@northwind.example", "priya-demo-pass", Role::Lead),
        l("Admin", "admin@northwind.example", "admin-demo-pass", Role::Admin),
    ]
}

/// How big a demo to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub contacts: usize,
    pub seed: u64,
    /// Days of history before the seeded month (for the reports).
    pub history_days: i64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions { contacts: 220, seed: 7, history_days: super::history::DAYS }
    }
}

/// What was seeded.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub contacts: usize,
    pub conversations: usize,
    pub messages: usize,
}

/// Whether the store already holds a workspace.
pub async fn is_seeded(store: &Store) -> Result<bool> {
    Ok(!store.agents().await?.is_empty())
}

/// Creates teams, agents, inboxes, and a month of conversations.
pub async fn seed(store: &Store, opts: &SeedOptions) -> Result<Seeded> {
    let support = store.create_team("Support").await?;
    let billing = store.create_team("Billing").await?;
    let mut viewers = Vec::new();
    for (i, l) in logins().into_iter().enumerate() {
        let teams = match (l.role, i) {
            (Role::Agent, 0) => vec![support.id],
            (Role::Agent, _) => vec![support.id, billing.id],
            _ => vec![support.id, billing.id],
        };
        let password_hash = hash_secret(&l.password).map_err(|e| StoreError::BadRequest(e.message))?;
        let a = store
            .create_agent(NewAgent {
                name: l.name,
                email: l.email,
                password_hash,
                role: l.role,
                teams: teams.clone(),
                capacity: 12,
            })
            .await?;
        viewers.push(Viewer { agent_id: a.id, role: a.role, teams });
    }
    // The demo has no provider accounts: its inboxes deliver through the simulated provider.
    let inbox = |kind: ChannelKind, name: &str, team: i64, address: &str| CreateInbox {
        kind,
        name: name.into(),
        team_id: team,
        address: address.into(),
        settings: serde_json::json!({
            "delivery": "simulated",
            "templates": if kind == ChannelKind::Whatsapp {
                serde_json::json!([
                    {"name": "order_update", "language": "en_US", "body": "Hi {{1}}, there is news about your order {{2}}. Reply to this message to continue."},
                    {"name": "follow_up", "language": "en_US", "body": "Hi {{1}}, we wanted to check that everything is sorted. Just reply if you need anything."}
                ])
            } else {
                serde_json::json!([])
            },
            "csat": {"question": "How did we do?"},
            "auto_reply": {
                "text": "Thanks for getting in touch! We usually answer within 15 minutes.",
                "outside_hours_text": "Thanks for your message! We're closed right now and will answer from 8:00 tomorrow.",
                "calendar": northwind_hours()
            }
        }),
    };
    let inboxes = vec![
        store.create_inbox(inbox(ChannelKind::Sms, "SMS · +1 415 555 0100", support.id, "+14155550100")).await?,
        store.create_inbox(inbox(ChannelKind::Whatsapp, "WhatsApp · Northwind", support.id, "+14155550101")).await?,
        store
            .create_inbox(inbox(ChannelKind::Messenger, "Messenger · Northwind", support.id, "104857600012345"))
            .await?,
        store
            .create_inbox(inbox(ChannelKind::Instagram, "Instagram · @northwind", support.id, "17841400000000000"))
            .await?,
        store
            .create_inbox(inbox(ChannelKind::Webchat, "Web chat · northwind.example", support.id, "northwind-widget"))
            .await?,
        store.create_inbox(inbox(ChannelKind::InApp, "Northwind app", support.id, "northwind-app")).await?,
        store
            .create_inbox(inbox(
                ChannelKind::Email,
                "billing@northwind.example",
                billing.id,
                "billing@northwind.example",
            ))
            .await?,
    ];

    seed_canned(store, &viewers).await?;
    super::articles::seed(store).await?;
    let lead = viewers.iter().find(|v| v.role == Role::Lead).cloned().ok_or(StoreError::NotFound("lead"))?;
    // Support promises answers on Lisbon business hours; the month of history meets most
    // targets and misses some.
    let targets = SlaPolicy {
        calendar: serde_json::from_value(northwind_hours()).ok(),
        first_response_mins: Some(15),
        next_response_mins: Some(30),
        resolution_mins: Some(8 * 60),
        warn_before_mins: 5,
    };
    apply_as(store, &lead, Mutation::SetSla(SetSla { team_id: support.id, inbox_id: None, policy: Some(targets) }))
        .await?;

    let agents: Vec<Viewer> = viewers.iter().filter(|v| v.role != Role::Admin).cloned().collect();
    let mut rng = StdRng::seed_from_u64(opts.seed ^ 0x5eed_4157);
    let earlier = super::history::write(store, &mut rng, &inboxes, &agents, opts.contacts, opts.history_days).await?;
    let mut tasks = Vec::new();
    let workers = 8;
    for w in 0..workers {
        let store = store.clone();
        let inboxes = inboxes.clone();
        let agents = agents.clone();
        let opts = opts.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(opts.seed.wrapping_add(w as u64));
            let mut total = Seeded::default();
            for i in (w..opts.contacts).step_by(workers) {
                let c = customer(i);
                let part = seed_customer(&store, &mut rng, &c, &inboxes, &agents, i).await?;
                total.contacts += 1;
                total.conversations += part.conversations;
                total.messages += part.messages;
            }
            Ok::<_, StoreError>(total)
        }));
    }
    let mut total = Seeded { conversations: earlier, ..Seeded::default() };
    for t in tasks {
        let part = t.await.map_err(|e| StoreError::BadRequest(e.to_string()))??;
        total.contacts += part.contacts;
        total.conversations += part.conversations;
        total.messages += part.messages;
    }
    // From now on the bot answers web chat and WhatsApp first; it has answered there before.
    super::bot::turn_on(store).await?;
    let with_bot = store.inboxes().await?;
    total.conversations += super::bot::history(store, &mut rng, &with_bot, &agents).await?;
    super::campaigns::send(store, &lead, &inboxes, opts.contacts).await?;
    // Billing routes its conversations by load to Tomás, who has room for four more than
    // the month left him with, and who comes and goes (the simulator sets him online and
    // away).
    let routing = RoutingPolicy {
        mode: RoutingMode::LeastLoaded,
        sticky: true,
        reassign_after_mins: Some(30),
        ..RoutingPolicy::default()
    };
    apply_as(
        store,
        &lead,
        Mutation::SetRouting(SetRouting { team_id: billing.id, inbox_id: None, policy: Some(routing) }),
    )
    .await?;
    if let Some(tomas) = viewers.iter().find(|v| v.role == Role::Agent && v.teams.contains(&billing.id)) {
        let conversations = store.bootstrap(&lead, 1).await?.conversations;
        let held = conversations
            .iter()
            .filter(|c| c.assignee_id == Some(tomas.agent_id) && c.status == ConversationStatus::Open)
            .count();
        let room = u32::try_from(held).unwrap_or(0).saturating_add(4).min(crate::store::routing::MAX_CAPACITY);
        let capacity = SetAgentRouting { agent_id: tomas.agent_id, capacity: Some(room), paused: None, skills: None };
        apply_as(store, &lead, Mutation::SetAgentRouting(capacity)).await?;
        let online = SetPresence { presence: Presence::Online, automatic: false };
        apply_as(store, tomas, Mutation::SetPresence(online)).await?;
    }
    Ok(total)
}

/// Northwind's opening hours, in Lisbon.
fn northwind_hours() -> serde_json::Value {
    serde_json::json!({
        "time_zone": super::TIME_ZONE,
        "hours": {"mon": "08:00-20:00", "tue": "08:00-20:00", "wed": "08:00-20:00", "thu": "08:00-20:00", "fri": "08:00-20:00", "sat": "10:00-16:00"},
        "holidays": ["2026-12-25", "2027-01-01"]
    })
}

/// Applies one mutation as `v`, failing on a refusal.
pub(super) async fn apply_as(store: &Store, v: &Viewer, mutation: Mutation) -> Result<()> {
    let client = format!("demo-{}-{}", v.agent_id, mutation.name());
    let env = MutationEnvelope { mutation_id: now_ms().unsigned_abs(), mutation, expected_version: None };
    for r in store.apply_mutations(v, &client, vec![env]).await? {
        if let Outcome::Rejected { error } = r.outcome {
            return Err(StoreError::BadRequest(error.message));
        }
    }
    Ok(())
}

/// The team's canned responses (saved by the first lead) and one agent's own.
async fn seed_canned(store: &Store, viewers: &[Viewer]) -> Result<()> {
    let save = |key: &str, shortcut: &str, title: &str, body: &str, shared: bool| {
        Mutation::SaveCanned(SaveCanned {
            key: format!("demo-{key}"),
            shortcut: shortcut.into(),
            title: title.into(),
            body: body.into(),
            shared,
        })
    };
    let batch = |mutations: Vec<Mutation>| {
        mutations
            .into_iter()
            .zip(1..)
            .map(|(mutation, mutation_id)| MutationEnvelope { mutation_id, mutation, expected_version: None })
            .collect::<Vec<_>>()
    };
    let shared = vec![
        save("hi", "hi", "Greeting", "Hi {{customer.first_name}}, this is {{agent.first_name}} from the support team. How can I help?", true),
        save("thanks", "thanks", "Thanks for waiting", "Thanks for your patience, {{customer.first_name}}. I'm looking into this now.", true),
        save("order", "order", "Order number", "Could you send me your order number, {{customer.first_name}}? It starts with NW- and is in your confirmation email.", true),
        save("bye", "bye", "Closing", "Glad I could help, {{customer.first_name}}! If anything else comes up, just reply here. — {{agent.name}}", true),
    ];
    let own = vec![save(
        "agent-refund",
        "refund",
        "Refund on its way",
        "I've started your refund, {{customer.first_name}}. It shows on your statement within 5 business days.",
        false,
    )];
    let lead = viewers.iter().find(|v| v.role == Role::Lead);
    let agent = viewers.iter().find(|v| v.role == Role::Agent);
    for (viewer, mutations) in [(lead, shared), (agent, own)] {
        let Some(viewer) = viewer else { continue };
        for r in store.apply_mutations(viewer, &format!("demo-canned-{}", viewer.agent_id), batch(mutations)).await? {
            if let Outcome::Rejected { error } = r.outcome {
                return Err(StoreError::BadRequest(error.message));
            }
        }
    }
    Ok(())
}

async fn seed_customer(
    store: &Store,
    rng: &mut StdRng,
    c: &Customer,
    inboxes: &[Inbox],
    agents: &[Viewer],
    index: usize,
) -> Result<Seeded> {
    let mut out = Seeded::default();
    // Four to six conversations over the last month.
    let channels = channels_of(index, inboxes);
    let count = 4 + rng.random_range(0..3);
    let now = now_ms();
    // Spread over the month: the first within its first days, the rest evenly to today.
    let mut at = now - 30 * DAY + rng.random_range(0..4 * DAY);
    let mut mutation_id = 0u64;
    let mut contacts = std::collections::BTreeSet::new();
    for n in 0..count {
        let inbox = channels[n % channels.len()];
        let (opener, follow, answers) = TOPICS[rng.random_range(0..TOPICS.len())];
        let order = rng.random_range(10_000..99_999);
        let plan = c.profile.get("plan").map_or("Pro", String::as_str);
        let city = c.profile.get("city").map_or("Lisbon", String::as_str);
        let last = n + 1 == count;
        let turns = 2 + rng.random_range(0..2);
        let agent = &agents[rng.random_range(0..agents.len())];
        let agent = if agent.teams.contains(&inbox.team_id) { agent } else { &agents[agents.len() - 1] };
        let client = format!("demo-seed-{}", agent.agent_id);
        let mut conversation_id = 0;
        for t in 0..turns {
            let text = if t == 0 {
                fill(opener, &c.first, order, plan, city)
            } else {
                fill(follow[(t - 1) % follow.len()], &c.first, order, plan, city)
            };
            let attachments = if t == 1 && opener.contains("damaged") {
                vec![Attachment {
                    name: "box.jpg".into(),
                    mime: "image/jpeg".into(),
                    size: 184_220,
                    url: format!("https://media.example.com/{order}/box.jpg"),
                }]
            } else {
                vec![]
            };
            let got = store
                .ingest(Inbound {
                    inbox_id: inbox.id,
                    from: address(c, inbox.kind),
                    display_name: Some(c.name.clone()),
                    body: text,
                    attachments,
                    provider_id: Some(format!("seed-{index}-{n}-{t}")),
                    at,
                    profile: c.profile.clone(),
                    subject: (inbox.kind == ChannelKind::Email).then(|| subject_of(opener)),
                    thread_refs: Vec::new(),
                    unsupported: None,
                    unverified: None,
                    answer: None,
                })
                .await?;
            conversation_id = got.conversation_id;
            contacts.insert(got.contact_id);
            out.messages += 1;
            at += rng.random_range(2..40) * MINUTE;
            // The newest conversation of some customers is still waiting on an agent.
            if last && t + 1 == turns && index % 3 != 0 {
                break;
            }
            let mut batch = Vec::new();
            if t == 0 {
                mutation_id += 1;
                let claim = Assign { conversation_id, agent_id: Some(Some(agent.agent_id)), team_id: None };
                batch.push(MutationEnvelope { mutation_id, mutation: Mutation::Assign(claim), expected_version: None });
            }
            mutation_id += 1;
            let reply = SendReply {
                conversation_id,
                client_msg_id: format!("seed-reply-{index}-{n}-{t}"),
                body: fill(answers[t % answers.len()], &c.first, order, plan, city),
                attachments: vec![],
                choices: None,
            };
            batch.push(MutationEnvelope { mutation_id, mutation: Mutation::SendReply(reply), expected_version: None });
            store.apply_mutations_at(agent, &client_for(&client, index), batch, Some(at)).await?;
            out.messages += 1;
            at += rng.random_range(5..180) * MINUTE;
        }
        if !last {
            mutation_id += 1;
            let status = Mutation::SetStatus(SetStatus {
                conversation_id,
                status: ConversationStatus::Resolved,
                snoozed_until: None,
            });
            store
                .apply_mutations_at(
                    agent,
                    &client_for(&client, index),
                    vec![MutationEnvelope { mutation_id, mutation: status, expected_version: None }],
                    Some(at),
                )
                .await?;
        }
        out.conversations += 1;
        let step = ((now - HOUR - at) / (count - n).max(1) as i64).max(2 * HOUR);
        at += rng.random_range(step / 2..step * 3 / 2);
        at = at.min(now - rng.random_range(1..60) * MINUTE);
    }
    // The customer wrote from addresses the hub could not link (a phone and an email, say):
    // the lead merges them into one contact, so their history reads as one.
    if let (Some(lead), Some(&into)) = (agents.iter().find(|a| a.role == Role::Lead), contacts.first()) {
        let merges = contacts
            .iter()
            .skip(1)
            .enumerate()
            .map(|(i, &from)| MutationEnvelope {
                mutation_id: i as u64 + 1,
                mutation: Mutation::MergeContacts(MergeContacts { into_contact_id: into, from_contact_id: from }),
                expected_version: None,
            })
            .collect::<Vec<_>>();
        if !merges.is_empty() {
            store.apply_mutations(lead, &format!("demo-merge-{index}"), merges).await?;
        }
    }
    Ok(out)
}

fn client_for(client: &str, index: usize) -> String {
    format!("{client}-{index}")
}
