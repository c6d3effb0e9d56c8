//! The demo workspace: a seeded company with customers across every channel, a month of
//! conversations, agents whose credentials are printed, and a customer simulator that keeps
//! writing through the same ingest path real channels use.

use crate::auth::hash_secret;
use crate::clock::{now_ms, DAY, HOUR, MINUTE};
use crate::policy::Viewer;
use crate::store::directory::NewAgent;
use crate::store::ingest::Inbound;
use crate::store::{Result, Store, StoreError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::Duration;
use switchboard_protocol::admin::CreateInbox;
use switchboard_protocol::model::{Attachment, ChannelKind, ConversationStatus, Inbox, Role};
use switchboard_protocol::mutation::{
    Assign, MergeContacts, Mutation, MutationEnvelope, Outcome, SaveCanned, SendReply, SetStatus,
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
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions { contacts: 220, seed: 7 }
    }
}

/// What was seeded.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    pub contacts: usize,
    pub conversations: usize,
    pub messages: usize,
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Mateo", "Nadia",
    "Oscar", "Paula", "Quentin", "Rosa", "Samir", "Tara", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko",
    "Bruno", "Carmen", "Diego", "Emeka", "Fatima", "Greta", "Hugo", "Ines", "Jonas", "Keira", "Luca", "Mina", "Noah",
];
const LAST: &[&str] = &[
    "Silva", "Novak", "Haddad", "Kowalski", "Ng", "Okoye", "Larsen", "Moreau", "Rossi", "Tanaka", "Schmidt", "Alvarez",
    "Byrne", "Cohen", "Duarte", "Eriksen", "Fischer", "Gupta", "Hoang", "Ivanova", "Jensen", "Kim", "Lopez", "Murphy",
    "Nakamura", "Osei", "Petrov", "Quinn", "Reyes", "Sato",
];
const COMPANIES: &[&str] = &[
    "Bluebird Cafe",
    "Harbor Dental",
    "Kite & Co",
    "Lumen Studio",
    "Oakline Builders",
    "Pico Labs",
    "Riverside Gym",
    "—",
];
const CITIES: &[&str] =
    &["Lisbon", "Austin", "Toronto", "Berlin", "Nairobi", "Melbourne", "Chicago", "Seoul", "Bogotá", "Dublin"];
const PLANS: &[&str] = &["Free", "Starter", "Pro", "Business"];
const AREAS: &[u32] = &[212, 310, 312, 415, 512, 617, 646, 702, 206, 303];

/// Topics: the customer's opener, follow-ups, and an agent's answers.
const TOPICS: &[(&str, &[&str], &[&str])] = &[
    (
        "Hi, my order #{order} still says processing. Has it shipped?",
        &["It was supposed to arrive yesterday.", "Can you check with the courier?", "Thanks, any tracking number?"],
        &[
            "Hi {name}, thanks for your patience. Order #{order} left our warehouse this morning.",
            "The tracking number is 1Z{order}; it should arrive within two days.",
            "I've asked the courier to prioritise it.",
        ],
    ),
    (
        "I was charged twice this month for my {plan} plan.",
        &[
            "Both charges are on my card statement.",
            "Can you refund one of them?",
            "Ok, how long does the refund take?",
        ],
        &[
            "Sorry about that, {name}. I can see the duplicate charge.",
            "I've refunded it; you'll see it in 3–5 business days.",
            "I've also added a note so it doesn't happen again.",
        ],
    ),
    (
        "I can't log in, it says my password is wrong but I just reset it.",
        &["I tried on my phone too.", "Still nothing, same error.", "It worked now, thank you!"],
        &[
            "Let's sort this out. Could you try the reset link again? I've cleared the lock on your account.",
            "I've sent a fresh reset link to your email.",
            "Great — glad you're back in!",
        ],
    ),
    (
        "Do you ship to {city}?",
        &["How much is shipping?", "And how long does it usually take?", "Perfect, I'll place the order."],
        &["Yes, we ship to {city}!", "Shipping is free over $50, otherwise $6.90.", "Usually 3–6 business days."],
    ),
    (
        "The item I received is damaged. The box was crushed.",
        &["I can send photos.", "Here is a photo of the box.", "Should I send it back?"],
        &[
            "I'm really sorry, {name}. Photos would help a lot.",
            "Thanks. No need to return it — a replacement is on its way.",
            "You'll get a confirmation email shortly.",
        ],
    ),
    (
        "Can I upgrade from {plan} to Business mid-cycle?",
        &["Will I lose my data?", "What happens to the remaining days?", "Great, please go ahead."],
        &[
            "Absolutely. Your data stays exactly where it is.",
            "We prorate the remaining days automatically.",
            "Done! Your workspace is on Business now.",
        ],
    ),
];

/// An email subject for a message: its first words.
fn subject_of(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(6).collect();
    words.join(" ").trim_end_matches(['.', ',', '?', '!']).to_owned()
}

fn fill(t: &str, name: &str, order: u32, plan: &str, city: &str) -> String {
    t.replace("{name}", name).replace("{order}", &order.to_string()).replace("{plan}", plan).replace("{city}", city)
}

struct Customer {
    name: String,
    first: String,
    phone: String,
    email: String,
    psid: String,
    visitor: String,
    profile: BTreeMap<String, String>,
}

/// Customer `i` of the demo: the same person every time, so the simulator's messages
/// land in the threads the seed wrote.
fn customer(i: usize) -> Customer {
    let rng = &mut StdRng::seed_from_u64(0x5eed_0000 + i as u64);
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len() + i * 7) % LAST.len()];
    let area = AREAS[rng.random_range(0..AREAS.len())];
    let exchange = rng.random_range(201..999);
    let exchange = if exchange == 555 { 556 } else { exchange };
    let phone = format!("+1{area}{exchange}{:04}", rng.random_range(0..10_000));
    let mut profile = BTreeMap::new();
    profile.insert("company".into(), COMPANIES[rng.random_range(0..COMPANIES.len())].into());
    profile.insert("city".into(), CITIES[rng.random_range(0..CITIES.len())].into());
    profile.insert("plan".into(), PLANS[rng.random_range(0..PLANS.len())].into());
    profile.insert("customer_since".into(), format!("{}", 2017 + rng.random_range(0..9)));
    Customer {
        name: format!("{first} {last}"),
        first: first.into(),
        phone,
        email: format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase(), i),
        psid: format!("{}", 6_000_000_000_000_000u64 + i as u64 * 7919),
        visitor: format!("visitor-{i:05}"),
        profile,
    }
}

fn address(c: &Customer, kind: ChannelKind) -> String {
    match kind {
        ChannelKind::Sms | ChannelKind::Whatsapp => c.phone.clone(),
        ChannelKind::Email => c.email.clone(),
        ChannelKind::Messenger | ChannelKind::Instagram => c.psid.clone(),
        ChannelKind::Webchat => c.visitor.clone(),
        // The app signs its users in: their thread is keyed by the app's user id.
        ChannelKind::InApp => format!("user:{}", c.psid),
    }
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
            "auto_reply": {
                "text": "Thanks for getting in touch! We usually answer within 15 minutes.",
                "outside_hours_text": "Thanks for your message! We're closed right now and will answer from 9:00 tomorrow.",
                "business_hours": {"utc_offset_minutes": 0, "days": {"mon": "08:00-20:00", "tue": "08:00-20:00", "wed": "08:00-20:00", "thu": "08:00-20:00", "fri": "08:00-20:00", "sat": "10:00-16:00"}}
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

    let agents: Vec<Viewer> = viewers.iter().filter(|v| v.role != Role::Admin).cloned().collect();
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
    let mut total = Seeded::default();
    for t in tasks {
        let part = t.await.map_err(|e| StoreError::BadRequest(e.to_string()))??;
        total.contacts += part.contacts;
        total.conversations += part.conversations;
        total.messages += part.messages;
    }
    Ok(total)
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
    // Two or three channels per customer, four to six conversations over the last month.
    let mut channels: Vec<&Inbox> = inboxes.iter().collect();
    let keep = 2 + index % 2;
    let start = index % channels.len();
    channels.rotate_left(start);
    channels.truncate(keep);
    // Everyone has left a phone number or an email somewhere, as customers in a CRM have.
    let reachable = |i: &Inbox| matches!(i.kind, ChannelKind::Sms | ChannelKind::Whatsapp | ChannelKind::Email);
    if !channels.iter().any(|i| reachable(i)) {
        if let Some(email) = inboxes.iter().find(|i| i.kind == ChannelKind::Email) {
            channels[keep - 1] = email;
        }
    }
    let count = 4 + rng.random_range(0..3);
    let now = now_ms();
    let mut at = now - 30 * DAY + rng.random_range(0..DAY);
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
        at += rng.random_range(1..5) * DAY + rng.random_range(0..12) * HOUR;
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

async fn simulate_one(store: &Store, rng: &mut StdRng, n: u64) -> Result<()> {
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
        })
        .await?;
    Ok(())
}

/// Why the demo workspace cannot open or start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The customer file or the database's folder cannot be written.
    #[error("{}: {}", .path.display(), .source)]
    File { path: std::path::PathBuf, source: std::io::Error },
    /// The loopback listener cannot be opened.
    #[error(transparent)]
    Listen(std::io::Error),
}

/// Opens the demo database, seeding it first if it is new, and connects its CRM: the
/// customer file beside the database. Returns the store and what was seeded (`None` when
/// it already was).
pub async fn open_seeded(config: &crate::config::Config) -> std::result::Result<(Store, Option<Seeded>), DemoError> {
    let store = Store::open(&config.database_url, &config.store_options())?;
    if store.crm_settings().await?.is_none() {
        let file = crate::store::sqlite::path_from_url(&config.database_url)
            .map(|db| db.with_extension("customers.csv"))
            .unwrap_or_else(|| std::path::PathBuf::from("switchboard-demo-customers.csv"));
        connect_customer_file(&store, &file).await?;
    }
    if is_seeded(&store).await? {
        return Ok((store, None));
    }
    let seeded = seed(&store, &SeedOptions::default()).await?;
    Ok((store, Some(seeded)))
}

/// Customers in the file who have not written yet; the simulator's newcomers.
const NEW_CUSTOMERS: std::ops::Range<usize> = 10_000..10_500;

/// The demo company's customer file: a CSV like the export of a spreadsheet or an
/// e-commerce back office, one row per customer, seeded and newcomers alike.
pub fn customer_file() -> String {
    const OWNERS: &[&str] = &["Maya Okafor", "Tomás Ruiz", "Priya Raman"];
    const HEALTH: &[&str] = &["Healthy", "Healthy", "Healthy", "Needs attention", "At risk"];
    let mut out = String::from("id,name,email,phone,plan,lifetime_value,account_owner,last_order,renewal,health\n");
    for i in (0..220).chain(NEW_CUSTOMERS) {
        let c = customer(i);
        let rng = &mut StdRng::seed_from_u64(0xc5_0000 + i as u64);
        let plan = c.profile.get("plan").map_or("Starter", String::as_str);
        let value = match plan {
            "Free" => 0,
            "Starter" => rng.random_range(80..600),
            "Pro" => rng.random_range(600..4_000),
            _ => rng.random_range(4_000..30_000),
        };
        let renewal = format!("2027-{:02}-{:02}", rng.random_range(1..13), rng.random_range(1..29));
        let row = [
            format!("NW-{:05}", 1_000 + i),
            c.name.clone(),
            c.email.clone(),
            c.phone.clone(),
            plan.to_owned(),
            format!("${value}"),
            OWNERS[i % OWNERS.len()].to_owned(),
            format!("#{} · {} days ago", rng.random_range(10_000..99_999), rng.random_range(1..90)),
            renewal,
            HEALTH[rng.random_range(0..HEALTH.len())].to_owned(),
        ];
        let quoted: Vec<String> = row
            .iter()
            .map(|f| if f.contains([',', '"']) { format!("\"{}\"", f.replace('"', "\"\"")) } else { f.clone() })
            .collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out
}

/// Writes the customer file (when it is not there yet) and connects the hub to it.
pub async fn connect_customer_file(store: &Store, path: &std::path::Path) -> std::result::Result<(), DemoError> {
    use switchboard_protocol::admin::{CrmConnector, CrmFieldSetting, CrmSettings, RecordMapping, TranscriptSettings};
    if !path.exists() {
        std::fs::write(path, customer_file()).map_err(|source| DemoError::File { path: path.to_owned(), source })?;
    }
    let f = |key: &str, label: &str| CrmFieldSetting { key: key.into(), label: label.into() };
    let settings = CrmSettings {
        connector: CrmConnector::Csv { path: path.display().to_string(), records: RecordMapping::default() },
        fields: vec![
            f("id", "Customer no."),
            f("plan", "Plan"),
            f("lifetime_value", "Lifetime value"),
            f("account_owner", "Account owner"),
            f("last_order", "Last order"),
            f("renewal", "Renews"),
            f("health", "Health"),
        ],
        ttl_secs: 3_600,
        timeout_ms: 5_000,
        transcripts: TranscriptSettings { enabled: false, include_notes: false },
    };
    Ok(store.put_crm_settings(settings).await?)
}

/// A demo hub serving on loopback inside another program (the desktop app's "Try the
/// local demo"), with its customer simulator. Dropping it stops both.
#[derive(Debug)]
pub struct EmbeddedDemo {
    /// The hub's base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    simulator: tokio::task::JoinHandle<()>,
}

impl EmbeddedDemo {
    /// Starts the demo hub on the SQLite file `database` (seeded on first use), on a free
    /// loopback port; a simulated customer writes every `every`.
    pub async fn start(database: &std::path::Path, every: Duration) -> std::result::Result<EmbeddedDemo, DemoError> {
        if let Some(dir) = database.parent() {
            std::fs::create_dir_all(dir).map_err(|source| DemoError::File { path: dir.to_owned(), source })?;
        }
        let config = crate::config::Config {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: format!("sqlite://{}", database.display()),
            ..crate::config::Config::default()
        };
        let (store, _) = open_seeded(&config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(DemoError::Listen)?;
        let url = format!("http://{}", listener.local_addr().map_err(DemoError::Listen)?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = crate::api::AppState::new(store.clone(), config);
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(e) = crate::api::serve(listener, state, shutdown).await {
                tracing::error!("the embedded demo hub stopped: {e}");
            }
        });
        let simulator = tokio::spawn(simulate(store, every, now_ms().unsigned_abs()));
        Ok(EmbeddedDemo { url, stop: Some(stop), simulator })
    }
}

impl Drop for EmbeddedDemo {
    fn drop(&mut self) {
        self.simulator.abort();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
