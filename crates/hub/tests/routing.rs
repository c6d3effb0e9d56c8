//! The queue on both engines: routing within capacity and only to online agents, queue
//! order, conversations returning when their agent leaves or stays silent, presence that
//! ends when consoles are gone (and holds across a restart, and while a console is open
//! on a real hub), who may change routing, and
//! two hubs on one PostgreSQL database racing a thousand arrivals.
#![allow(clippy::unwrap_used)]

mod common;

use common::{inbound, open, TestDb, World};
use std::sync::atomic::{AtomicU64, Ordering};
use switchboard_hub::policy::Viewer;
use switchboard_hub::store::Store;
use switchboard_protocol::model::{Conversation, Presence, Priority, RoutingMode, RoutingPolicy};
use switchboard_protocol::mutation::{
    Mutation, MutationEnvelope, Outcome, SendReply, SetAgentRouting, SetPresence, SetPriority, SetRouting, SetStatus,
};
use switchboard_protocol::ErrorCode;

static CLIENTS: AtomicU64 = AtomicU64::new(0);

/// Applies one mutation as `v` from a fresh client; its outcome.
async fn mutate(store: &Store, v: &Viewer, m: Mutation) -> Outcome {
    let client = format!("routing-test-{}", CLIENTS.fetch_add(1, Ordering::Relaxed));
    let env = MutationEnvelope { mutation_id: 1, mutation: m, expected_version: None };
    store.apply_mutations(v, &client, vec![env]).await.unwrap().remove(0).outcome
}

async fn applied(store: &Store, v: &Viewer, m: Mutation) {
    let outcome = mutate(store, v, m).await;
    assert_eq!(outcome, Outcome::Applied);
}

fn least_loaded() -> RoutingPolicy {
    RoutingPolicy { mode: RoutingMode::LeastLoaded, ..RoutingPolicy::default() }
}

async fn route_team_a(store: &Store, w: &World, policy: RoutingPolicy) {
    applied(
        store,
        &w.lead,
        Mutation::SetRouting(SetRouting { team_id: w.team_a, inbox_id: None, policy: Some(policy) }),
    )
    .await;
}

async fn capacity(store: &Store, w: &World, agent_id: i64, capacity: u32) {
    let m = SetAgentRouting { agent_id, capacity: Some(capacity), paused: None, skills: None };
    applied(store, &w.lead, Mutation::SetAgentRouting(m)).await;
}

async fn presence(store: &Store, v: &Viewer, presence: Presence) {
    applied(store, v, Mutation::SetPresence(SetPresence { presence, automatic: false })).await;
}

/// A new SMS conversation from customer number `n`; its id.
async fn arrive(store: &Store, w: &World, n: u32) -> i64 {
    let at = switchboard_hub::clock::now_ms();
    let from = format!("+1415555{n:04}");
    let sid = format!("SM-route-{n}-{}", CLIENTS.fetch_add(1, Ordering::Relaxed));
    store.ingest(inbound(&w.sms, &from, "Hello?", &sid, at)).await.unwrap().conversation_id
}

/// Runs routing passes until one places nothing; how many were placed.
async fn drain(store: &Store) -> usize {
    let mut placed = 0;
    loop {
        let n = store.route_queue().await.unwrap().len();
        if n == 0 {
            return placed;
        }
        placed += n;
    }
}

async fn conversation(store: &Store, admin: &Viewer, id: i64) -> Conversation {
    store.bootstrap(admin, 1).await.unwrap().conversations.into_iter().find(|c| c.id == id).unwrap()
}

async fn held_by(store: &Store, admin: &Viewer, agent: i64) -> usize {
    let b = store.bootstrap(admin, 1).await.unwrap();
    b.conversations.iter().filter(|c| c.assignee_id == Some(agent) && c.status.as_str() == "open").count()
}

async fn system_lines(store: &Store, admin: &Viewer, conversation_id: i64) -> Vec<String> {
    let page = store.messages_before(admin, conversation_id, None, 100).await.unwrap();
    page.messages.into_iter().filter(|m| m.direction.as_str() == "system").map(|m| m.body).collect()
}

async fn routing_stays_within_capacity_and_online_agents(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    route_team_a(&store, &w, least_loaded()).await;
    capacity(&store, &w, w.agent.agent_id, 2).await;
    capacity(&store, &w, w.agent2.agent_id, 3).await;
    presence(&store, &w.agent, Presence::Online).await;
    presence(&store, &w.agent2, Presence::Online).await;
    // The lead is in team A too but stays offline; the admin is in no team.
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(arrive(&store, &w, n).await);
    }
    let first = conversation(&store, &w.admin, ids[0]).await;
    assert!(first.queued_at.is_some() && first.assignee_id.is_none(), "a new conversation joins the queue");
    assert_eq!(drain(&store).await, 5);
    assert_eq!(held_by(&store, &w.admin, w.agent.agent_id).await, 2);
    assert_eq!(held_by(&store, &w.admin, w.agent2.agent_id).await, 3);
    assert_eq!(held_by(&store, &w.admin, w.lead.agent_id).await, 0, "never to an offline agent");
    for (i, id) in ids.iter().enumerate() {
        let c = conversation(&store, &w.admin, *id).await;
        assert_eq!(c.assignee_id.is_some(), i < 5, "the five who came first are served first ({i})");
        assert_eq!(c.queued_at.is_some(), i >= 5, "the rest wait in the queue ({i})");
    }
    // Resolving one frees a slot, and the longest waiting takes it.
    let held = conversation(&store, &w.admin, ids[0]).await;
    let owner = store.viewer(held.assignee_id.unwrap()).await.unwrap();
    let resolve = SetStatus { conversation_id: ids[0], status: "resolved".parse().unwrap(), snoozed_until: None };
    applied(&store, &owner, Mutation::SetStatus(resolve)).await;
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, ids[5]).await.assignee_id, Some(owner.agent_id));
    assert!(conversation(&store, &w.admin, ids[6]).await.queued_at.is_some());
    // Pausing an agent and coming online: routing goes to the one unpaused.
    let pause = SetAgentRouting { agent_id: w.agent.agent_id, capacity: Some(10), paused: Some(true), skills: None };
    applied(&store, &w.lead, Mutation::SetAgentRouting(pause)).await;
    assert_eq!(drain(&store).await, 0, "agent is paused and agent2 is full");
    capacity(&store, &w, w.agent2.agent_id, 4).await;
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, ids[6]).await.assignee_id, Some(w.agent2.agent_id));
    // Every routed conversation has exactly one holder on record; the resolved one's hold
    // ended when it was resolved.
    let held: i64 = db.text("SELECT count(*) FROM assignments WHERE ended_at IS NULL").parse().unwrap();
    assert_eq!(held, 6);
    let ended = db.text("SELECT end_reason FROM assignments WHERE ended_at IS NOT NULL");
    assert_eq!(ended, "resolved");
}

async fn the_queue_serves_priority_first_then_the_longest_waiting(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    route_team_a(&store, &w, least_loaded()).await;
    let a = arrive(&store, &w, 1).await;
    let b = arrive(&store, &w, 2).await;
    let c = arrive(&store, &w, 3).await;
    applied(&store, &w.agent, Mutation::SetPriority(SetPriority { conversation_id: c, priority: Priority::Urgent }))
        .await;
    assert_eq!(conversation(&store, &w.admin, c).await.priority, Priority::Urgent);
    capacity(&store, &w, w.agent.agent_id, 1).await;
    presence(&store, &w.agent, Presence::Online).await;
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, c).await.assignee_id, Some(w.agent.agent_id), "urgent first");
    capacity(&store, &w, w.agent.agent_id, 2).await;
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, a).await.assignee_id, Some(w.agent.agent_id), "then the oldest");
    assert!(conversation(&store, &w.admin, b).await.queued_at.is_some());
    // Turning routing off takes the rest out of the queue, back to Unassigned.
    route_team_a(&store, &w, RoutingPolicy::default()).await;
    let b_now = conversation(&store, &w.admin, b).await;
    assert_eq!((b_now.queued_at, b_now.assignee_id), (None, None));
}

async fn an_agent_going_away_returns_their_waiting_conversations(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    route_team_a(&store, &w, least_loaded()).await;
    presence(&store, &w.agent, Presence::Online).await;
    let answered = arrive(&store, &w, 1).await;
    let waiting = arrive(&store, &w, 2).await;
    assert_eq!(drain(&store).await, 2);
    let reply = SendReply {
        conversation_id: answered,
        client_msg_id: "r-1".into(),
        body: "On it".into(),
        attachments: vec![],
        choices: None,
    };
    applied(&store, &w.agent, Mutation::SendReply(reply)).await;
    presence(&store, &w.agent, Presence::Away).await;
    assert_eq!(conversation(&store, &w.admin, answered).await.assignee_id, Some(w.agent.agent_id), "answered stays");
    let back = conversation(&store, &w.admin, waiting).await;
    assert_eq!(back.assignee_id, None);
    assert!(back.queued_at.is_some());
    assert_eq!(system_lines(&store, &w.admin, waiting).await, vec!["Back in the queue: agent is away.".to_owned()]);
    assert_eq!(drain(&store).await, 0, "nobody else is online");
    presence(&store, &w.agent2, Presence::Online).await;
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, waiting).await.assignee_id, Some(w.agent2.agent_id));
    // The presence history keeps each change.
    let logged: i64 =
        db.text(&format!("SELECT count(*) FROM presence_log WHERE agent_id = {}", w.agent.agent_id)).parse().unwrap();
    assert_eq!(logged, 2);
}

async fn a_silent_agent_loses_the_conversation_to_someone_else(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    route_team_a(&store, &w, RoutingPolicy { reassign_after_mins: Some(5), ..least_loaded() }).await;
    presence(&store, &w.agent, Presence::Online).await;
    let id = arrive(&store, &w, 1).await;
    assert_eq!(drain(&store).await, 1);
    assert_eq!(store.return_silent().await.unwrap(), 0, "not silent yet");
    // Six minutes pass without an answer.
    db.execute("UPDATE assignments SET started_at = started_at - 360000; UPDATE conversations SET waiting_since = waiting_since - 360000");
    presence(&store, &w.agent2, Presence::Online).await;
    assert_eq!(store.return_silent().await.unwrap(), 1);
    assert_eq!(
        system_lines(&store, &w.admin, id).await,
        vec!["Back in the queue: the customer waited 5 minutes for an answer from agent.".to_owned()]
    );
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, id).await.assignee_id, Some(w.agent2.agent_id), "moves on");
}

async fn presence_ends_when_consoles_are_gone_and_holds_across_a_restart(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    route_team_a(&store, &w, least_loaded()).await;
    presence(&store, &w.agent, Presence::Online).await;
    presence(&store, &w.agent2, Presence::Online).await;
    let id = arrive(&store, &w, 1).await;
    assert_eq!(drain(&store).await, 1);
    let holder = conversation(&store, &w.admin, id).await.assignee_id.unwrap();
    drop(store);
    // The hub restarts; its consoles were seen moments ago.
    let store = open(db);
    assert_eq!(store.sweep_presence(120_000).await.unwrap(), 0, "no flapping after a restart");
    assert_eq!(store.viewer(holder).await.map(|_| ()).ok(), Some(()));
    // The holder's consoles have been gone for three minutes; the other's are connected.
    db.execute(&format!("UPDATE agents SET last_seen_at = last_seen_at - 180000 WHERE id = {holder}"));
    let other = if holder == w.agent.agent_id { w.agent2.agent_id } else { w.agent.agent_id };
    store.seen_agents(vec![other]).await.unwrap();
    assert_eq!(store.sweep_presence(120_000).await.unwrap(), 1);
    let agents = store.bootstrap(&w.admin, 1).await.unwrap().agents;
    let state = |id: i64| agents.iter().find(|a| a.id == id).unwrap().presence;
    assert_eq!((state(holder), state(other)), (Presence::Offline, Presence::Online));
    assert!(conversation(&store, &w.admin, id).await.queued_at.is_some(), "their waiting customer went back");
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, id).await.assignee_id, Some(other));
}

/// An agent's consoles keep them present through a real hub: a console coming or going is
/// recorded within a second or two, every open one again at each heartbeat, and the grace
/// period before they show offline counts from the last one going.
async fn open_consoles_keep_their_agent_present_until_the_last_goes(db: &TestDb) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let store = open(db);
    let w = common::world(&store).await;
    presence(&store, &w.agent, Presence::Online).await;
    let config = switchboard_hub::config::Config { heartbeat_secs: 1, ..Default::default() };
    let hub = common::serve(store.clone(), config).await;
    let token = common::login(&hub, "agent@x.test").await;
    let cursor = common::get_json(format!("{}/api/v1/sync/bootstrap", hub.base), &token).await["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let console = || async {
        let mut req = format!("ws://{}/api/v1/stream?since={cursor}", hub.addr).into_client_request().unwrap();
        req.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
        tokio_tungstenite::connect_async(req).await.unwrap().0
    };
    let seen = || db.text(&format!("SELECT last_seen_at FROM agents WHERE id = {}", w.agent.agent_id));
    let seen_since = |at: i64| async move {
        for _ in 0..50 {
            if seen().parse::<i64>().is_ok_and(|s| s >= at) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    };
    let pause = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    let grace = 1_500;

    let opened = switchboard_hub::clock::now_ms();
    let (mut first, mut second) = (console().await, console().await);
    assert!(seen_since(opened).await, "consoles coming are recorded");
    pause(2_000).await;
    let held = switchboard_hub::clock::now_ms() - 1_500;
    assert!(seen_since(held).await, "open consoles are recorded again at each heartbeat");

    first.close(None).await.unwrap();
    pause(u64::try_from(grace).unwrap() + 500).await;
    assert_eq!(store.sweep_presence(grace).await.unwrap(), 0, "one console still holds the agent");

    second.close(None).await.unwrap();
    let gone = switchboard_hub::clock::now_ms();
    assert!(seen_since(gone).await, "the last console going is recorded");
    let last = seen();
    pause(2_500).await;
    assert_eq!(seen(), last, "nothing holds the agent any more");
    assert_eq!(store.sweep_presence(grace).await.unwrap(), 1, "the grace period ran out");
    let agents = store.bootstrap(&w.admin, 1).await.unwrap().agents;
    assert_eq!(agents.iter().find(|a| a.id == w.agent.agent_id).unwrap().presence, Presence::Offline);
}

async fn sticky_routing_prefers_the_contacts_last_agent_and_skills_are_matched(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    route_team_a(&store, &w, RoutingPolicy { sticky: true, ..least_loaded() }).await;
    presence(&store, &w.agent, Presence::Online).await;
    let first = arrive(&store, &w, 7).await;
    assert_eq!(drain(&store).await, 1);
    let resolve = SetStatus { conversation_id: first, status: "resolved".parse().unwrap(), snoozed_until: None };
    applied(&store, &w.agent, Mutation::SetStatus(resolve)).await;
    // agent now holds two others; agent2 comes online with none.
    arrive(&store, &w, 8).await;
    arrive(&store, &w, 9).await;
    assert_eq!(drain(&store).await, 2);
    presence(&store, &w.agent2, Presence::Online).await;
    let again = arrive(&store, &w, 7).await;
    assert_ne!(again, first);
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, again).await.assignee_id, Some(w.agent.agent_id), "sticky");

    // Required skills: only agent2 speaks Portuguese.
    let skills = SetAgentRouting {
        agent_id: w.agent2.agent_id,
        capacity: None,
        paused: None,
        skills: Some(vec!["language:pt".into()]),
    };
    applied(&store, &w.lead, Mutation::SetAgentRouting(skills)).await;
    let policy = RoutingPolicy { skills: vec!["language:pt".into()], ..least_loaded() };
    let inbox = SetRouting { team_id: w.team_a, inbox_id: Some(w.sms.id), policy: Some(policy) };
    applied(&store, &w.lead, Mutation::SetRouting(inbox)).await;
    let id = arrive(&store, &w, 10).await;
    assert_eq!(drain(&store).await, 1);
    assert_eq!(conversation(&store, &w.admin, id).await.assignee_id, Some(w.agent2.agent_id));
}

/// One pass placing several conversations matches each by its own contact: the agent it
/// last had, and the language in its profile.
async fn one_pass_matches_each_conversation_to_its_own_contact(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    route_team_a(&store, &w, RoutingPolicy { sticky: true, ..least_loaded() }).await;
    let resolve = |id| {
        Mutation::SetStatus(SetStatus { conversation_id: id, status: "resolved".parse().unwrap(), snoozed_until: None })
    };
    // Customer 31 was last with agent, customer 32 with agent2, each given while the other
    // was away.
    for (n, holder, away) in [(31, &w.agent, &w.agent2), (32, &w.agent2, &w.agent)] {
        presence(&store, away, Presence::Away).await;
        presence(&store, holder, Presence::Online).await;
        let id = arrive(&store, &w, n).await;
        assert_eq!(drain(&store).await, 1);
        applied(&store, holder, resolve(id)).await;
    }
    presence(&store, &w.agent, Presence::Away).await;
    presence(&store, &w.agent2, Presence::Away).await;
    // Both write again while nobody is online; 32 first. Least loaded alone would give 32 to
    // agent, given one longest ago, and 31 to agent2.
    let again32 = arrive(&store, &w, 32).await;
    let again31 = arrive(&store, &w, 31).await;
    presence(&store, &w.agent, Presence::Online).await;
    presence(&store, &w.agent2, Presence::Online).await;
    assert_eq!(store.route_queue().await.unwrap().len(), 2, "one pass places both");
    assert_eq!(conversation(&store, &w.admin, again32).await.assignee_id, Some(w.agent2.agent_id));
    assert_eq!(conversation(&store, &w.admin, again31).await.assignee_id, Some(w.agent.agent_id));

    applied(&store, &w.agent2, resolve(again32)).await;
    applied(&store, &w.agent, resolve(again31)).await;

    // By the language in each customer's profile: agent speaks Portuguese, agent2 Spanish.
    for (agent, language) in [(&w.agent, "pt"), (&w.agent2, "es")] {
        let skills = SetAgentRouting {
            agent_id: agent.agent_id,
            capacity: None,
            paused: None,
            skills: Some(vec![format!("language:{language}")]),
        };
        applied(&store, &w.lead, Mutation::SetAgentRouting(skills)).await;
        presence(&store, agent, Presence::Away).await;
    }
    let by_language = RoutingPolicy { contact_skill_field: Some("language".into()), ..least_loaded() };
    route_team_a(&store, &w, by_language).await;
    // 33 first, in Portuguese, then 34 in Spanish; least loaded alone would give 33 to
    // agent2, given one longest ago.
    let mut ids = Vec::new();
    for (n, language) in [(33, "pt"), (34, "es")] {
        let mut msg = inbound(
            &w.sms,
            &format!("+1415555{n:04}"),
            "Olá?",
            &format!("SM-lang-{n}"),
            switchboard_hub::clock::now_ms(),
        );
        msg.profile.insert("language".into(), language.into());
        ids.push(store.ingest(msg).await.unwrap().conversation_id);
    }
    presence(&store, &w.agent, Presence::Online).await;
    presence(&store, &w.agent2, Presence::Online).await;
    assert_eq!(store.route_queue().await.unwrap().len(), 2, "one pass places both");
    assert_eq!(conversation(&store, &w.admin, ids[0]).await.assignee_id, Some(w.agent.agent_id));
    assert_eq!(conversation(&store, &w.admin, ids[1]).await.assignee_id, Some(w.agent2.agent_id));
}

async fn only_leads_change_routing_and_bad_settings_are_refused(db: &TestDb) {
    let store = open(db);
    let w = common::world(&store).await;
    let code = |o: Outcome| match o {
        Outcome::Rejected { error } => (error.code, error.message),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let set = |policy| Mutation::SetRouting(SetRouting { team_id: w.team_a, inbox_id: None, policy: Some(policy) });
    assert_eq!(code(mutate(&store, &w.agent, set(least_loaded())).await).0, ErrorCode::Forbidden);
    assert_eq!(code(mutate(&store, &w.b_agent, set(least_loaded())).await).0, ErrorCode::NotFound);
    let bad = RoutingPolicy { skills: vec![" padded ".into()], ..least_loaded() };
    assert_eq!(code(mutate(&store, &w.lead, set(bad)).await).0, ErrorCode::BadRequest);
    let never = RoutingPolicy { reassign_after_mins: Some(0), ..least_loaded() };
    assert_eq!(code(mutate(&store, &w.lead, set(never)).await).0, ErrorCode::BadRequest);
    let wrong_inbox = SetRouting { team_id: w.team_a, inbox_id: Some(w.b_sms.id), policy: Some(least_loaded()) };
    assert_eq!(code(mutate(&store, &w.lead, Mutation::SetRouting(wrong_inbox)).await).0, ErrorCode::BadRequest);
    let huge = SetAgentRouting { agent_id: w.agent.agent_id, capacity: Some(10_000), paused: None, skills: None };
    assert_eq!(code(mutate(&store, &w.lead, Mutation::SetAgentRouting(huge)).await).0, ErrorCode::BadRequest);
    let by_agent = SetAgentRouting { agent_id: w.agent2.agent_id, capacity: Some(1), paused: None, skills: None };
    assert_eq!(code(mutate(&store, &w.agent, Mutation::SetAgentRouting(by_agent)).await).0, ErrorCode::Forbidden);
    let other_team = SetAgentRouting { agent_id: w.b_agent.agent_id, capacity: Some(1), paused: None, skills: None };
    assert_eq!(code(mutate(&store, &w.lead, Mutation::SetAgentRouting(other_team)).await).0, ErrorCode::Forbidden);
    let many = SetAgentRouting {
        agent_id: w.agent.agent_id,
        capacity: None,
        paused: None,
        skills: Some((0..40).map(|i| format!("s{i}")).collect()),
    };
    assert_eq!(code(mutate(&store, &w.lead, Mutation::SetAgentRouting(many)).await).0, ErrorCode::BadRequest);
    // Nothing changed.
    let agents = store.bootstrap(&w.admin, 1).await.unwrap().agents;
    let agent = agents.iter().find(|a| a.id == w.agent.agent_id).unwrap();
    assert_eq!((agent.capacity, agent.skills.len()), (10, 0));
    let teams = store.bootstrap(&w.admin, 1).await.unwrap().teams;
    assert_eq!(teams.iter().find(|t| t.id == w.team_a).unwrap().routing, RoutingPolicy::default());
}

both_engines!(
    routing_stays_within_capacity_and_online_agents,
    the_queue_serves_priority_first_then_the_longest_waiting,
    an_agent_going_away_returns_their_waiting_conversations,
    a_silent_agent_loses_the_conversation_to_someone_else,
    presence_ends_when_consoles_are_gone_and_holds_across_a_restart,
    open_consoles_keep_their_agent_present_until_the_last_goes,
    sticky_routing_prefers_the_contacts_last_agent_and_skills_are_matched,
    one_pass_matches_each_conversation_to_its_own_contact,
    only_leads_change_routing_and_bad_settings_are_refused,
);

/// Two hubs on one PostgreSQL database, each ingesting half of 1,000 arrivals and running
/// routing passes as fast as it can, while agents free slots: no agent ever holds more
/// than their capacity, and no conversation is given twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hubs_racing_a_thousand_arrivals_never_exceed_capacity() {
    let db = common::pg_db();
    let a = open(&db);
    let w = common::world(&a).await;
    let b = open(&db);
    route_team_a(&a, &w, least_loaded()).await;
    let mut agents = Vec::new();
    for i in 0..20u32 {
        let id = common::add_agent(
            &a,
            &format!("Racer {i}"),
            &format!("racer{i}@x.test"),
            switchboard_protocol::model::Role::Agent,
            vec![w.team_a],
        )
        .await;
        capacity(&a, &w, id, 3 + i % 5).await;
        let v = a.viewer(id).await.unwrap();
        presence(&a, &v, Presence::Online).await;
        agents.push((id, 3 + i % 5));
    }
    let total: u32 = agents.iter().map(|(_, c)| c).sum();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut routers = Vec::new();
    for store in [a.clone(), b.clone()] {
        let stop = stop.clone();
        routers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                store.route_queue().await.unwrap();
            }
        }));
    }
    let mut arrivals = Vec::new();
    for n in 0..1_000u32 {
        let (store, inbox) = (if n % 2 == 0 { a.clone() } else { b.clone() }, w.sms.clone());
        arrivals.push(tokio::spawn(async move {
            let at = switchboard_hub::clock::now_ms();
            store
                .ingest(inbound(&inbox, &format!("+1415666{n:04}"), "Race", &format!("SM-race-{n}"), at))
                .await
                .unwrap();
        }));
    }
    for t in arrivals {
        t.await.unwrap();
    }
    // Agents resolve what they hold, three rounds, while both hubs keep routing.
    let mut resolved = 0;
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let held = a.bootstrap(&w.admin, 1).await.unwrap().conversations;
        for c in held.iter().filter(|c| c.assignee_id.is_some() && c.status.as_str() == "open").take(40) {
            let v = a.viewer(c.assignee_id.unwrap()).await.unwrap();
            let resolve = SetStatus { conversation_id: c.id, status: "resolved".parse().unwrap(), snoozed_until: None };
            applied(&b, &v, Mutation::SetStatus(resolve)).await;
            resolved += 1;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for r in routers {
        r.await.unwrap();
    }
    drain(&a).await;
    for (id, cap) in &agents {
        let held = held_by(&a, &w.admin, *id).await;
        assert!(held as u32 <= *cap, "agent {id} holds {held} over a capacity of {cap}");
        assert_eq!(held as u32, *cap, "every free slot is filled while the queue is long");
    }
    let twice: i64 = db
        .text("SELECT count(*) FROM (SELECT conversation_id FROM assignments GROUP BY conversation_id HAVING count(*) > 1) x")
        .parse()
        .unwrap();
    assert_eq!(twice, 0, "no conversation was given twice");
    let routed: i64 = db.text("SELECT count(*) FROM assignments").parse().unwrap();
    assert_eq!(routed, i64::from(total) + resolved, "each slot, and each slot freed, was filled once");
    let queued: i64 = db
        .text("SELECT count(*) FROM conversations WHERE queued_at IS NOT NULL AND assignee_id IS NOT NULL")
        .parse()
        .unwrap();
    assert_eq!(queued, 0, "nothing is both queued and held");
}
