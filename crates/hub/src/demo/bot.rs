//! The demo's bot: the built-in bot turned on for web chat and WhatsApp once the workspace
//! is seeded, with two months of WhatsApp customers it answered before (most helped, some handed
//! to a person who answered and resolved, a few with no good answer), written through the
//! store's own ingest and mutation paths at the times they happened, so the reports show
//! containment, handoff reasons and how each article did.

use super::customers::{address, customer};
use crate::clock::{now_ms, DAY, HOUR, MINUTE};
use crate::policy::Viewer;
use crate::store::ingest::Inbound;
use crate::store::{Result, Store};
use rand::rngs::StdRng;
use rand::Rng;
use switchboard_protocol::admin::UpdateInbox;
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Inbox};
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, SendReply, SetStatus};

/// The bot's settings on the demo's web chat and WhatsApp.
pub fn settings() -> serde_json::Value {
    serde_json::json!({
        "mode": "builtin",
        "name": "Northwind assistant",
        "max_turns": 3,
        "handoff_words": ["complaint", "cancel my membership", "lawyer"]
    })
}

/// Questions customers ask the bot: most answered by an article, the last few by none.
const QUESTIONS: &[&str] = &[
    "Where is my order?",
    "How do I return an item?",
    "When will I get my refund?",
    "I forgot my password",
    "How much is shipping?",
    "Can I pay with a gift card?",
    "How do I cancel an order?",
    "Do you ship internationally?",
    "I was charged twice",
    "Can I change my delivery address?",
    "How do I track my order?",
    "What payment methods do you accept?",
    "My parcel says delivered but I don't have it",
    "Can I upgrade to the Business plan?",
    "The blender I bought makes a strange noise when it starts",
    "Is the green armchair coming back in stock before Christmas?",
];

/// Days of bot history.
const DAYS: i64 = 60;

/// Turns the bot on for the web chat and WhatsApp inboxes, keeping their other settings.
pub async fn turn_on(store: &Store) -> Result<()> {
    for inbox in store.inboxes().await? {
        if !matches!(inbox.kind, ChannelKind::Webchat | ChannelKind::Whatsapp) {
            continue;
        }
        let mut kept = store.inbox_settings(inbox.id).await?;
        kept["bot"] = settings();
        store.update_inbox(inbox.id, UpdateInbox { settings: Some(kept), ..UpdateInbox::default() }).await?;
    }
    Ok(())
}

/// Writes the bot's earlier conversations on `inboxes` (those it answers), answered by
/// `agents` when handed over. Returns how many.
pub async fn history(store: &Store, rng: &mut StdRng, inboxes: &[Inbox], agents: &[Viewer]) -> Result<usize> {
    // On WhatsApp: its customers are known by the phone number the CRM finds them by (a
    // web-chat visitor would be a stranger until they leave an address).
    let bots: Vec<&Inbox> = inboxes.iter().filter(|i| i.kind == ChannelKind::Whatsapp).collect();
    let (Some(first), false) = (bots.first(), agents.is_empty()) else { return Ok(0) };
    let today = now_ms() - now_ms() % DAY;
    let mut written = 0;
    let mut next = 0u64;
    for back in (1..=DAYS).rev() {
        for k in 0..rng.random_range(2..6) {
            let inbox = bots.get(rng.random_range(0..bots.len())).copied().unwrap_or(first);
            let at = today - back * DAY + rng.random_range(8..21) * HOUR + rng.random_range(0..60) * MINUTE;
            let c = customer(rng.random_range(0..220));
            let from = address(&c, inbox.kind);
            let question = QUESTIONS[rng.random_range(0..QUESTIONS.len())];
            let pid = |n: u32| format!("bot-history-{back}-{k}-{n}");
            let mut ask = Inbound::text(inbox.id, &from, question, Some(&pid(1)), at);
            ask.display_name = Some(c.name.clone());
            ask.profile = c.profile.clone();
            let got = store.ingest_history(ask).await?;
            written += 1;
            // The customer's answer: mostly helped, sometimes a person, sometimes nothing.
            let roll = rng.random_range(0..100);
            let followup = match roll {
                0..=59 => Some("Yes, thanks"),
                60..=84 => Some("Talk to a person please"),
                _ => None,
            };
            let Some(text) = followup else { continue };
            let mut again = Inbound::text(inbox.id, &from, text, Some(&pid(2)), at + rng.random_range(1..4) * MINUTE);
            again.display_name = Some(c.name.clone());
            store.ingest_history(again).await?;
            // Handed over (asked for, or no answer): a person answers and resolves it.
            let conv = store.conversation_state(got.conversation_id).await?;
            if conv != Some(ConversationStatus::Open) {
                continue;
            }
            let agent = &agents[rng.random_range(0..agents.len())];
            if !agent.teams.contains(&inbox.team_id) && agent.role != switchboard_protocol::model::Role::Admin {
                continue;
            }
            next += 1;
            let reply = Mutation::SendReply(SendReply {
                conversation_id: got.conversation_id,
                client_msg_id: format!("bot-history-reply-{back}-{k}"),
                body: "Hi, this is the team. I've looked into it for you: it's sorted now.".into(),
                attachments: Vec::new(),
                choices: None,
            });
            let resolve = Mutation::SetStatus(SetStatus {
                conversation_id: got.conversation_id,
                status: ConversationStatus::Resolved,
                snoozed_until: None,
            });
            let answered = at + rng.random_range(8..40) * MINUTE;
            for (m, when) in [(reply, answered), (resolve, answered + rng.random_range(5..30) * MINUTE)] {
                let env = MutationEnvelope { mutation_id: next, mutation: m, expected_version: None };
                next += 1;
                let client = format!("demo-bot-history-{}", agent.agent_id);
                // A customer who opted out gets no reply; the conversation is resolved all the same.
                store.apply_mutations_at(agent, &client, vec![env], Some(when)).await?;
            }
        }
    }
    Ok(written)
}
