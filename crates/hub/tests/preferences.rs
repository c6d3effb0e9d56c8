//! Notification preferences, on both engines: an agent saves theirs and finds them in their
//! next bootstrap and in their own feed, never in another agent's; preferences past their
//! limits are refused and leave the saved ones as they were.
#![allow(clippy::unwrap_used)]

mod common;

use common::{open, TestDb};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::clock::now_ms;
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::mutation::{Mutation, MutationEnvelope, Outcome, SetPreferences};
use switchboard_protocol::preferences::{NotificationPreferences, QuietHours, MAX_DO_NOT_DISTURB_MS};
use switchboard_protocol::sync::Change;

static N: AtomicU64 = AtomicU64::new(1);

async fn save(store: &Store, v: &Viewer, preferences: NotificationPreferences) -> Outcome {
    let env = MutationEnvelope {
        mutation_id: N.fetch_add(1, Ordering::Relaxed),
        mutation: Mutation::SetPreferences(SetPreferences { preferences }),
        expected_version: None,
    };
    store.apply_mutations(v, &format!("prefs-{}", v.agent_id), vec![env]).await.unwrap().remove(0).outcome
}

/// The preferences changes in `v`'s feed after `since`.
async fn in_feed(store: &Store, v: &Viewer, since: i64) -> Vec<NotificationPreferences> {
    let page = store.changes(v, since, 1_000).await.unwrap();
    page.changes
        .into_iter()
        .filter_map(|f| match serde_json::from_str::<Change>(f.change.get()).unwrap() {
            Change::Preferences(p) => Some(p),
            _ => None,
        })
        .collect()
}

async fn an_agent_saves_preferences_that_only_they_see(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    assert_eq!(store.bootstrap(&w.agent, 10).await.unwrap().preferences, NotificationPreferences::default());
    let since = *store.head().borrow();

    let mine = NotificationPreferences {
        assigned: false,
        muted_inboxes: vec![w.whatsapp.id, w.sms.id, w.sms.id],
        do_not_disturb_until: Some(now_ms() + 3_600_000),
        quiet_hours: Some(QuietHours { from_minute: 22 * 60, to_minute: 7 * 60, days: vec![4, 0, 1] }),
        sound: false,
        show_text: false,
        ..NotificationPreferences::default()
    };
    assert_eq!(save(&store, &w.agent, mine.clone()).await, Outcome::Applied);
    let kept = mine.clone().normalized();
    assert_eq!(kept.muted_inboxes.len(), 2, "each inbox once");
    assert_eq!(store.bootstrap(&w.agent, 10).await.unwrap().preferences, kept);
    assert_eq!(in_feed(&store, &w.agent, since).await, vec![kept.clone()]);

    // Nobody else sees them: not a teammate, not their lead, not an admin.
    for other in [&w.agent2, &w.lead, &w.admin] {
        assert_eq!(store.bootstrap(other, 10).await.unwrap().preferences, NotificationPreferences::default());
        assert!(in_feed(&store, other, since).await.is_empty(), "agent {} saw another's preferences", other.agent_id);
    }

    // Saved again: replaced whole.
    let again = NotificationPreferences { sla: false, ..NotificationPreferences::default() };
    assert_eq!(save(&store, &w.agent, again.clone()).await, Outcome::Applied);
    assert_eq!(store.bootstrap(&w.agent, 10).await.unwrap().preferences, again);
}

async fn preferences_past_their_limits_are_refused(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let good = NotificationPreferences { sound: false, ..NotificationPreferences::default() };
    assert_eq!(save(&store, &w.agent, good.clone()).await, Outcome::Applied);
    let since = *store.head().borrow();
    let quiet = |from_minute, days: Vec<u8>| NotificationPreferences {
        quiet_hours: Some(QuietHours { from_minute, to_minute: 60, days }),
        ..NotificationPreferences::default()
    };
    for (what, bad) in [
        ("a minute past the day", quiet(24 * 60, vec![0])),
        ("a day past Sunday", quiet(60, vec![7])),
        ("too many muted inboxes", NotificationPreferences { muted_inboxes: (1..=501).collect(), ..good.clone() }),
        (
            "do not disturb for a year",
            NotificationPreferences {
                do_not_disturb_until: Some(now_ms() + 2 * MAX_DO_NOT_DISTURB_MS),
                ..good.clone()
            },
        ),
    ] {
        match save(&store, &w.agent, bad).await {
            Outcome::Rejected { error } => assert_eq!(error.code.as_str(), "bad_request", "{what}: {}", error.message),
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(store.bootstrap(&w.agent, 10).await.unwrap().preferences, good, "the saved ones are kept");
    assert!(in_feed(&store, &w.agent, since).await.is_empty(), "a refusal changes nothing");
}

both_engines!(an_agent_saves_preferences_that_only_they_see, preferences_past_their_limits_are_refused);
