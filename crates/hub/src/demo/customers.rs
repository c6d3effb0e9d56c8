//! The demo company's made-up customers: customer `i` is the same person every time (name,
//! phone, email, ids on every channel, profile), and the topics they write about. Writing
//! them into a store is left to [`seed`](super::seed) and [`simulator`](super::simulator).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use switchboard_protocol::model::{ChannelKind, Inbox};

pub(super) const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Elena", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Mateo", "Nadia",
    "Oscar", "Paula", "Quentin", "Rosa", "Samir", "Tara", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko",
    "Bruno", "Carmen", "Diego", "Emeka", "Fatima", "Greta", "Hugo", "Ines", "Jonas", "Keira", "Luca", "Mina", "Noah",
];
pub(super) const LAST: &[&str] = &[
    "Silva", "Novak", "Haddad", "Kowalski", "Ng", "Okoye", "Larsen", "Moreau", "Rossi", "Tanaka", "Schmidt", "Alvarez",
    "Byrne", "Cohen", "Duarte", "Eriksen", "Fischer", "Gupta", "Hoang", "Ivanova", "Jensen", "Kim", "Lopez", "Murphy",
    "Nakamura", "Osei", "Petrov", "Quinn", "Reyes", "Sato",
];
pub(super) const COMPANIES: &[&str] = &[
    "Bluebird Cafe",
    "Harbor Dental",
    "Kite & Co",
    "Lumen Studio",
    "Oakline Builders",
    "Pico Labs",
    "Riverside Gym",
    "—",
];
pub(super) const CITIES: &[&str] =
    &["Lisbon", "Austin", "Toronto", "Berlin", "Nairobi", "Melbourne", "Chicago", "Seoul", "Bogotá", "Dublin"];
pub(super) const PLANS: &[&str] = &["Free", "Starter", "Pro", "Business"];
pub(super) const AREAS: &[u32] = &[212, 310, 312, 415, 512, 617, 646, 702, 206, 303];

/// Topics: the customer's opener, follow-ups, and an agent's answers.
pub(super) const TOPICS: &[(&str, &[&str], &[&str])] = &[
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
pub(super) fn subject_of(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(6).collect();
    words.join(" ").trim_end_matches(['.', ',', '?', '!']).to_owned()
}

pub(super) fn fill(t: &str, name: &str, order: u32, plan: &str, city: &str) -> String {
    t.replace("{name}", name).replace("{order}", &order.to_string()).replace("{plan}", plan).replace("{city}", city)
}

pub(super) struct Customer {
    pub(super) name: String,
    pub(super) first: String,
    pub(super) phone: String,
    pub(super) email: String,
    pub(super) psid: String,
    pub(super) visitor: String,
    pub(super) profile: BTreeMap<String, String>,
}

/// Customer `i` of the demo: the same person every time, so the simulator's messages
/// land in the threads the seed wrote.
pub(super) fn customer(i: usize) -> Customer {
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

pub(super) fn address(c: &Customer, kind: ChannelKind) -> String {
    match kind {
        ChannelKind::Sms | ChannelKind::Whatsapp => c.phone.clone(),
        ChannelKind::Email => c.email.clone(),
        ChannelKind::Messenger | ChannelKind::Instagram => c.psid.clone(),
        ChannelKind::Webchat => c.visitor.clone(),
        // The app signs its users in: their thread is keyed by the app's user id.
        ChannelKind::InApp => format!("user:{}", c.psid),
    }
}

/// Customers in the file who have not written yet; the simulator's newcomers.
pub(super) const NEW_CUSTOMERS: std::ops::Range<usize> = 10_000..10_500;

/// The two or three channels customer `index` writes on.
pub(super) fn channels_of(index: usize, inboxes: &[Inbox]) -> Vec<&Inbox> {
    let mut channels: Vec<&Inbox> = inboxes.iter().collect();
    if channels.is_empty() {
        return channels;
    }
    let keep = 2 + index % 2;
    channels.rotate_left(index % inboxes.len());
    channels.truncate(keep);
    // Everyone has left a phone number or an email somewhere, as customers in a CRM have.
    let reachable = |i: &Inbox| matches!(i.kind, ChannelKind::Sms | ChannelKind::Whatsapp | ChannelKind::Email);
    if !channels.iter().any(|i| reachable(i)) {
        if let (Some(email), Some(last)) = (inboxes.iter().find(|i| i.kind == ChannelKind::Email), channels.last_mut())
        {
            *last = email;
        }
    }
    channels
}
