//! The core's rules, written down for the UI's test double. `ui/src/dev/mockCore.ts` answers
//! the console's commands from memory for the UI's tests and the dev harness; wherever an
//! answer depends on a rule of the core (reply windows and refusals, which views hold a
//! conversation and in which order, what each role is offered, what the team load counts,
//! how search filters), it looks the answer up in the JSON files this test writes into
//! `ui/src/dev/fixtures/` instead of deciding itself. Each table is computed here by the
//! real core: its pure functions, and its queries over a real cache file.
//!
//! A normal run compares what it computes with the checked-in files and fails when they
//! differ. After changing a rule, regenerate them with `scripts/fixtures.sh` (this test with
//! `SWITCHBOARD_WRITE_FIXTURES=1`) and commit them with the change.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use switchboard_core::cache::{apply, Cache};
use switchboard_core::{canned, compose, lead, Console};
use switchboard_protocol::console::{AssigneeFilter, SearchQuery, View};
use switchboard_protocol::model::{
    Agent, ChannelKind, Contact, Conversation, ConversationStatus, Direction, Identity, Message, Presence, Role,
};
use switchboard_protocol::Id;

const ROLES: [Role; 3] = [Role::Agent, Role::Lead, Role::Admin];
const STATUSES: [ConversationStatus; 4] =
    [ConversationStatus::Open, ConversationStatus::Pending, ConversationStatus::Snoozed, ConversationStatus::Resolved];
/// How an expiry stands to "now": the keys of the reply-window tables.
const EXPIRIES: [&str; 4] = ["none", "before", "at", "after"];

/// Me, in my team (1); everyone else is agent 2, in team 2.
const ME: Id = 1;
const OTHER: Id = 2;
const MY_TEAM: Id = 1;
const OTHER_TEAM: Id = 2;

fn name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v).unwrap().as_str().unwrap().to_owned()
}

fn agent(id: Id, role: Role, teams: Vec<Id>) -> Agent {
    Agent {
        id,
        name: format!("Agent {id}"),
        email: format!("agent{id}@x.test"),
        role,
        teams,
        capacity: 5,
        presence: Presence::Online,
        disabled: false,
        skills: vec![],
        routing_paused: false,
        version: 1,
    }
}

fn conversation(
    id: Id,
    status: ConversationStatus,
    assignee: Option<Id>,
    team: Id,
    waiting: Option<i64>,
) -> Conversation {
    Conversation {
        id,
        contact_id: id,
        inbox_id: 1,
        channel: ChannelKind::Sms,
        customer_address: format!("+1555000{id:04}"),
        status,
        snoozed_until: None,
        assignee_id: assignee,
        team_id: team,
        waiting_since: waiting,
        last_activity_at: 1_000 + id,
        reply_window_expires_at: None,
        preview: "hello".into(),
        updated_by: None,
        priority: Default::default(),
        queued_at: None,
        first_response_due_at: None,
        next_response_due_at: None,
        resolution_due_at: None,
        sla_state: Default::default(),
        csat_score: None,
        created_at: 0,
        version: 1,
    }
}

fn contact(id: Id, name: &str, identities: Vec<Identity>, opted_out: Vec<Identity>) -> Contact {
    Contact {
        id,
        name: name.into(),
        identities,
        profile: Default::default(),
        crm: None,
        opted_out,
        consents: Vec::new(),
        created_at: 0,
        updated_at: 0,
        version: 1,
    }
}

fn message(id: Id, conversation_id: Id, channel: ChannelKind, body: &str) -> Message {
    Message {
        id,
        conversation_id,
        channel,
        direction: Direction::Inbound,
        author_agent_id: None,
        body: body.into(),
        subject: None,
        attachments: Vec::new(),
        provider_id: None,
        client_msg_id: None,
        delivery: None,
        delivery_error: None,
        choices: None,
        chosen: None,
        bot: None,
        created_at: id,
        version: 1,
    }
}

/// A fresh cache signed in as `me`, with `agents` and `conversations`.
fn cache(dir: &tempfile::TempDir, me: &Agent, agents: &[Agent], conversations: &[Conversation]) -> Cache {
    let cache = Cache::open(dir.path()).unwrap();
    cache
        .write(|c| {
            apply::set_me(c, me)?;
            for a in agents {
                apply::upsert_agent(c, a)?;
            }
            for v in conversations {
                apply::upsert_conversation(c, v)?;
            }
            Ok(())
        })
        .unwrap();
    cache
}

/// The key the mock files a conversation under: `status|assignee|team|waiting`, each as it
/// stands to the signed-in agent.
fn case_key(status: ConversationStatus, assignee: &str, team: &str, waiting: bool) -> String {
    format!("{}|{assignee}|{team}|{}", status.as_str(), if waiting { "waiting" } else { "answered" })
}

/// Reply windows and refusals: for every channel, an expiry before, at or after now (or
/// none) and the customer opted out or not, the window the composer shows and why a reply
/// would be refused; and what `send_reply` itself refuses.
fn compose_rules() -> Value {
    let now = 1_000_000;
    let expiry = |e: &str| match e {
        "none" => None,
        "before" => Some(now - 1),
        "at" => Some(now),
        _ => Some(now + 1),
    };
    let mut routes = Vec::new();
    for channel in ChannelKind::ALL {
        for e in EXPIRIES {
            for opted_out in [false, true] {
                let window = compose::reply_window(channel, expiry(e), now);
                routes.push(json!({
                    "channel": channel, "expires": e, "opted_out": opted_out,
                    "example_expires_at": expiry(e),
                    "window": window,
                    "refusal": compose::refusal(channel, window, opted_out),
                }));
            }
        }
    }
    json!({ "example_now": now, "routes": routes, "send_reply": send_reply_refusals() })
}

/// What `Console::send_reply` refuses at once, per channel, expiry and opt-out, found by
/// sending on a real console (offline: accepted replies wait in its outbox).
fn send_reply_refusals() -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let console = Console::open(dir.path(), "http://127.0.0.1:9", "token").unwrap();
    let now = switchboard_core::now_ms();
    let hour = 3_600_000;
    let mut out = Vec::new();
    let mut id = 0;
    for channel in ChannelKind::ALL {
        for e in ["none", "before", "after"] {
            for opted_out in [false, true] {
                id += 1;
                let address = format!("addr-{id}");
                let identity = Identity { channel, address: address.clone() };
                let mut v = conversation(id, ConversationStatus::Open, Some(ME), MY_TEAM, None);
                v.channel = channel;
                v.customer_address = address;
                v.reply_window_expires_at = match e {
                    "none" => None,
                    "before" => Some(now - hour),
                    _ => Some(now + hour),
                };
                let k = contact(id, "Ana", vec![identity.clone()], if opted_out { vec![identity] } else { vec![] });
                console
                    .cache()
                    .write(|c| {
                        apply::set_me(c, &agent(ME, Role::Agent, vec![MY_TEAM]))?;
                        apply::upsert_contact(c, &k)?;
                        apply::upsert_conversation(c, &v)?;
                        Ok(())
                    })
                    .unwrap();
                let refusal = match console.send_reply(id, "hello") {
                    Ok(_) => Value::Null,
                    Err(e) => serde_json::to_value(switchboard_protocol::ApiError::from(e)).unwrap(),
                };
                out.push(json!({ "channel": channel, "expires": e, "opted_out": opted_out, "refusal": refusal }));
            }
        }
    }
    out
}

/// What each role is offered: controls, views (in the order the inbox lists them) and
/// which canned responses they may edit.
fn role_rules() -> Value {
    let mut permissions = Map::new();
    let mut views = Map::new();
    let mut canned_editable = Map::new();
    for role in ROLES {
        let me = agent(ME, role, vec![MY_TEAM]);
        permissions.insert(name(role), json!(lead::permissions(role)));
        let dir = tempfile::tempdir().unwrap();
        let counts = cache(&dir, &me, std::slice::from_ref(&me), &[]).counts().unwrap();
        views.insert(name(role), json!(counts.iter().map(|c| c.view).collect::<Vec<_>>()));
        canned_editable.insert(
            name(role),
            json!({
                "shared": canned::may_edit(&me, None),
                "own": canned::may_edit(&me, Some(ME)),
                "others": canned::may_edit(&me, Some(OTHER)),
            }),
        );
    }
    json!({ "permissions": permissions, "views": views, "canned_editable": canned_editable })
}

/// Which views hold a conversation, by its [`case_key`], for each role; and each view's
/// order, found by listing conversations whose activity and waiting times run opposite ways.
fn view_rules() -> Value {
    let mut members = Map::new();
    let mut orders = Map::new();
    for role in ROLES {
        let me = agent(ME, role, vec![MY_TEAM]);
        let mut conversations = Vec::new();
        let mut keys = Vec::new();
        for status in STATUSES {
            for (assignee, who) in [(Some(ME), "me"), (Some(OTHER), "other"), (None, "none")] {
                for (team, which) in [(MY_TEAM, "mine"), (OTHER_TEAM, "other")] {
                    for waiting in [true, false] {
                        let id = Id::try_from(conversations.len()).unwrap() + 1;
                        // Activity and waiting both grow with the id, so that the newest
                        // activity first and the longest waiting first are opposite orders.
                        let since = waiting.then_some(100 + id);
                        conversations.push(conversation(id, status, assignee, team, since));
                        keys.push(case_key(status, who, which, waiting));
                    }
                }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let others = [me.clone(), agent(OTHER, Role::Agent, vec![OTHER_TEAM])];
        let cache = cache(&dir, &me, &others, &conversations);
        let mut by_key: Map<String, Value> = keys.iter().map(|k| (k.clone(), json!([]))).collect();
        for view in View::ALL {
            let rows = cache.view(view, 1_000, 0).unwrap();
            for r in &rows {
                by_key[&keys[usize::try_from(r.id - 1).unwrap()]].as_array_mut().unwrap().push(json!(view));
            }
            let ids: Vec<Id> = rows.iter().map(|r| r.id).collect();
            let by = |key: fn(&Conversation) -> (i64, i64)| {
                let mut want: Vec<&Conversation> = conversations.iter().filter(|v| ids.contains(&v.id)).collect();
                want.sort_by_key(|v| key(v));
                want.iter().map(|v| v.id).collect::<Vec<_>>()
            };
            let order = if ids == by(|v| (-v.last_activity_at, -v.id)) {
                "last_activity_desc"
            } else if ids == by(|v| (v.waiting_since.unwrap_or(i64::MAX), -v.id)) {
                "waiting_since_asc"
            } else {
                panic!("{view:?} lists in an order mockCore.ts does not know ({ids:?}): teach it, then regenerate")
            };
            let previous = orders.insert(name(view), json!(order));
            assert!(previous.is_none_or(|p| p == json!(order)), "{view:?}'s order depends on the role");
        }
        members.insert(name(role), Value::Object(by_key));
    }
    json!({ "members": members, "order": orders })
}

/// What the team load counts: for each status, whether an agent's (or nobody's)
/// conversation counts as open, and a waiting one as waiting; the order of the rows; and
/// what the last row is called.
fn team_load_rules() -> Value {
    let mut counted = Map::new();
    for status in STATUSES {
        let me = agent(ME, Role::Lead, vec![MY_TEAM]);
        let conversations = [
            conversation(1, status, Some(ME), MY_TEAM, Some(10)),
            conversation(2, status, Some(ME), MY_TEAM, None),
            conversation(3, status, None, MY_TEAM, Some(10)),
            conversation(4, status, None, MY_TEAM, None),
        ];
        let dir = tempfile::tempdir().unwrap();
        let load = cache(&dir, &me, std::slice::from_ref(&me), &conversations).team_load().unwrap();
        let mine = load.iter().find(|l| l.agent_id == Some(ME)).unwrap();
        let nobody = load.iter().find(|l| l.agent_id.is_none()).unwrap();
        for row in [mine, nobody] {
            assert!(
                matches!((row.open, row.waiting), (0, 0) | (2, 1) | (2, 0)),
                "the load counts {status:?} in a way mockCore.ts cannot say: {row:?}"
            );
        }
        counted.insert(
            status.as_str().into(),
            json!({
                "assigned": { "open": mine.open > 0, "waiting": mine.waiting > 0 },
                "unassigned": { "open": nobody.open > 0, "waiting": nobody.waiting > 0 },
            }),
        );
    }
    // Order: agents whose customers wait longest first, those with none waiting after (by
    // name), nobody's last; an admin with nothing open is left out.
    let me = agent(ME, Role::Lead, vec![MY_TEAM]);
    let mut agents = vec![me.clone()];
    let mut conversations = Vec::new();
    for (i, since) in [(2, Some(30)), (3, Some(10)), (4, None), (5, None), (6, Some(20))] {
        let mut a = agent(i, Role::Agent, vec![MY_TEAM]);
        a.name = format!("Agent {}", 10 - i);
        agents.push(a);
        conversations.push(conversation(i, ConversationStatus::Open, Some(i), MY_TEAM, since));
    }
    agents.push(agent(7, Role::Admin, vec![MY_TEAM]));
    let dir = tempfile::tempdir().unwrap();
    let load = cache(&dir, &me, &agents, &conversations).team_load().unwrap();
    let shown: Vec<Option<Id>> = load.iter().map(|l| l.agent_id).collect();
    // 3 (since 10), 6 (20), 2 (30), then by name: "Agent 1" (me), "Agent 5" (5), "Agent 6" (4).
    let expected = [Some(3), Some(6), Some(2), Some(ME), Some(5), Some(4), None];
    assert_eq!(shown, expected, "the load's order changed: teach mockCore.ts, then regenerate");
    let last = load.last().unwrap();
    json!({
        "counted": counted,
        "order": "oldest_waiting_first_then_name",
        "admins_without_open_shown": shown.contains(&Some(7)),
        "nobody": { "name": last.name, "presence": last.presence, "capacity": last.capacity },
    })
}

/// Search: the default and largest number of hits; which conversations each filter keeps
/// (by the one property it looks at); and examples of which words match which text, with
/// the words highlighted.
fn search_rules() -> Value {
    let me = agent(ME, Role::Lead, vec![MY_TEAM]);
    let mut conversations = Vec::new();
    for status in STATUSES {
        for assignee in [Some(ME), Some(OTHER), None] {
            for channel in ChannelKind::ALL {
                let id = Id::try_from(conversations.len()).unwrap() + 1;
                let mut v = conversation(id, status, assignee, MY_TEAM, None);
                v.channel = channel;
                conversations.push(v);
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = cache(&dir, &me, std::slice::from_ref(&me), &conversations);
    cache
        .write(|c| {
            let mut id = 0;
            for v in &conversations {
                for _ in 0..3 {
                    id += 1;
                    apply::upsert_message(c, &message(id, v.id, v.channel, "parcel"))?;
                }
            }
            Ok(())
        })
        .unwrap();
    let search = |q: SearchQuery| cache.search(&SearchQuery { text: "parcel".into(), ..q }).unwrap();
    let limit = |l: Option<u32>| search(SearchQuery { limit: l, ..SearchQuery::default() }).len();
    let kept = |q: SearchQuery| -> BTreeSet<Id> {
        search(SearchQuery { limit: Some(u32::MAX), ..q }).iter().map(|h| h.conversation_id).collect()
    };
    // Each filter's table says which values of its property pass; the test checks that the
    // property alone decides.
    let table = |q: SearchQuery, property: &dyn Fn(&Conversation) -> String| -> Value {
        let hits = kept(q);
        let pass: BTreeSet<String> = conversations.iter().filter(|v| hits.contains(&v.id)).map(property).collect();
        let decided: BTreeSet<Id> =
            conversations.iter().filter(|v| pass.contains(&property(v))).map(|v| v.id).collect();
        assert_eq!(hits, decided, "a search filter looks at more than mockCore.ts knows: teach it, then regenerate");
        json!(pass)
    };
    let mut status = Map::new();
    for s in STATUSES {
        status.insert(
            s.as_str().into(),
            table(SearchQuery { status: Some(s), ..SearchQuery::default() }, &|v| name(v.status)),
        );
    }
    let mut channel = Map::new();
    for ch in ChannelKind::ALL {
        channel
            .insert(name(ch), table(SearchQuery { channel: Some(ch), ..SearchQuery::default() }, &|v| name(v.channel)));
    }
    let relation = |v: &Conversation| match v.assignee_id {
        Some(ME) => "that_agent".to_owned(),
        Some(_) => "other_agent".to_owned(),
        None => "none".to_owned(),
    };
    let assignee = json!({
        "unassigned": table(SearchQuery { assignee: Some(AssigneeFilter::Unassigned), ..SearchQuery::default() }, &relation),
        "agent": table(SearchQuery { assignee: Some(AssigneeFilter::Agent { id: ME }), ..SearchQuery::default() }, &relation),
    });
    json!({
        "default_limit": limit(None),
        "max_limit": limit(Some(u32::MAX)),
        "filters": { "status": status, "channel": channel, "assignee": assignee },
        "words": word_examples(),
    })
}

/// Which searches match which texts, and the words they highlight.
fn word_examples() -> Vec<Value> {
    let texts = [
        "Hi, where is my order #4821? It was due yesterday.",
        "Can I change the delivery address to 12 Rue de Rivoli?",
        "Is there a discount for annual plans?",
        "I was charged twice this month — can you refund one?",
        "Olá! Preciso de ajuda com o pedido nº 42 🙏",
        "注文の配達状況を教えてください",
        "My password reset email never arrived.",
    ];
    let queries = [
        "order",
        "ORD",
        "rder",
        "where order",
        "order refund",
        "where's",
        "4821",
        "deliv address",
        "olá",
        "ola",
        "pedido 42",
        "注文",
        "配達",
        "refund?",
        "e-mail",
        "password-reset",
        "",
    ];
    let dir = tempfile::tempdir().unwrap();
    let me = agent(ME, Role::Lead, vec![MY_TEAM]);
    let conversations: Vec<Conversation> = (1..=Id::try_from(texts.len()).unwrap())
        .map(|id| conversation(id, ConversationStatus::Open, Some(ME), MY_TEAM, None))
        .collect();
    let cache = cache(&dir, &me, std::slice::from_ref(&me), &conversations);
    cache
        .write(|c| {
            for (i, text) in texts.iter().enumerate() {
                let id = Id::try_from(i).unwrap() + 1;
                apply::upsert_message(c, &message(id, id, ChannelKind::Sms, text))?;
            }
            Ok(())
        })
        .unwrap();
    let mut out = Vec::new();
    for query in queries {
        let hits =
            cache.search(&SearchQuery { text: query.into(), limit: Some(100), ..SearchQuery::default() }).unwrap();
        for (i, text) in texts.iter().enumerate() {
            let id = Id::try_from(i).unwrap() + 1;
            let hit = hits.iter().find(|h| h.message_id == id);
            let words: Vec<&str> = hit
                .map(|h| h.highlights.iter().map(|&(a, b)| &h.snippet[a as usize..b as usize]).collect())
                .unwrap_or_default();
            out.push(json!({ "query": query, "text": text, "matches": hit.is_some(), "highlighted": words }));
        }
    }
    out
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/dev/fixtures")
}

#[test]
fn the_ui_test_double_answers_by_the_core_rules() {
    let write = std::env::var_os("SWITCHBOARD_WRITE_FIXTURES").is_some_and(|v| v == "1");
    let files = [
        ("compose.json", compose_rules()),
        ("roles.json", role_rules()),
        ("views.json", view_rules()),
        ("team_load.json", team_load_rules()),
        ("search.json", search_rules()),
    ];
    let mut stale = Vec::new();
    for (file, value) in files {
        let path = fixtures_dir().join(file);
        let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
        if write {
            std::fs::create_dir_all(fixtures_dir()).unwrap();
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(file);
        }
    }
    assert!(
        stale.is_empty(),
        "ui/src/dev/fixtures/ {stale:?} no longer say what the core does: regenerate them with \
         scripts/fixtures.sh, check what changed, and commit them"
    );
}
