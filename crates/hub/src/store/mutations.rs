//! Mutations agents send: replies, notes, assignment, status, read markers, merges,
//! canned responses.
//!
//! Each mutation runs in its own savepoint together with the client's last applied
//! `mutation_id`, so a retry is answered `duplicate` and applied once; a refused mutation
//! changes nothing but is remembered as processed, so the client's queue moves on.

use super::change_kind::ChangeKind;
use super::entities::{self, emit_contact, emit_conversation, emit_public, emit_read_marker, sees_contact};
use super::pool::WriteTx;
use super::sending::{
    already_stored, check_text, fill_template, finish_message, insert_agent_message, may_send_to, AgentMessage,
};
use super::state::{conv_state, save_state};
use super::{Result, Store, StoreError};
use crate::params;
use crate::policy::{self, Scope, Viewer};
use crate::rules;
use std::collections::BTreeMap;
use switchboard_protocol::model::{
    Attachment, ChannelKind, Contact, Conversation, ConversationStatus, Direction, ReadMarker,
};
use switchboard_protocol::mutation::{
    AddNote, Assign, BlockVisitor, MarkRead, MergeContacts, Mutation, MutationEnvelope, MutationResult, Outcome,
    RefreshCrm, SendReply, SendTemplate, SetStatus, SplitContact,
};
use switchboard_protocol::sync::Change;
use switchboard_protocol::{files, ApiError};

/// The most mutations one request may carry.
pub const MAX_BATCH: usize = 500;

impl Store {
    /// Applies a client's mutations in order, one transaction each.
    pub async fn apply_mutations(
        &self,
        viewer: &Viewer,
        client_id: &str,
        batch: Vec<MutationEnvelope>,
    ) -> Result<Vec<MutationResult>> {
        self.apply_mutations_at(viewer, client_id, batch, None).await
    }

    /// [`Store::apply_mutations`] with the clock set to `at` (for importing history).
    pub async fn apply_mutations_at(
        &self,
        viewer: &Viewer,
        client_id: &str,
        batch: Vec<MutationEnvelope>,
        at: Option<switchboard_protocol::Timestamp>,
    ) -> Result<Vec<MutationResult>> {
        let client_id = client_id.trim().to_owned();
        if client_id.is_empty() || client_id.len() > 200 {
            return Err(StoreError::BadRequest("client_id must be 1 to 200 characters".into()));
        }
        if !client_id.chars().all(switchboard_protocol::text::keeps) {
            return Err(StoreError::BadRequest("client_id must not hold control characters".into()));
        }
        let mut batch = batch;
        for envelope in &mut batch {
            envelope.mutation.clean_text();
        }
        if batch.len() > MAX_BATCH {
            return Err(StoreError::BadRequest(format!("at most {MAX_BATCH} mutations per request")));
        }
        let mut results = Vec::with_capacity(batch.len());
        for env in batch {
            let viewer = viewer.clone();
            let client_id = client_id.clone();
            let key = u64::try_from(target(&env.mutation)).unwrap_or(0);
            let outcome = self
                .pool()
                .write_keyed(key, move |tx| {
                    let now = tx.now;
                    tx.now = at.unwrap_or(now);
                    if let Some(at) = at {
                        super::reports::backdated(tx, at)?;
                    }
                    let r = apply_one(tx, &viewer, &client_id, &env);
                    tx.now = now;
                    r
                })
                .await?;
            results.push(outcome);
        }
        Ok(results)
    }
}

/// The conversation (or contact) a mutation writes to, to route it to one writer.
fn target(m: &Mutation) -> i64 {
    match m {
        Mutation::SendReply(r) => r.conversation_id,
        Mutation::AddNote(n) => n.conversation_id,
        Mutation::Assign(a) => a.conversation_id,
        Mutation::SetStatus(s) => s.conversation_id,
        Mutation::MarkRead(r) => r.conversation_id,
        Mutation::MergeContacts(m) => m.into_contact_id,
        Mutation::SplitContact(s) => s.contact_id,
        Mutation::SendTemplate(t) => t.conversation_id,
        Mutation::RefreshCrm(r) => r.contact_id,
        Mutation::BlockVisitor(b) => b.conversation_id,
        Mutation::SetPriority(p) => p.conversation_id,
        Mutation::SetAgentRouting(a) => a.agent_id,
        Mutation::SetRouting(r) => r.team_id,
        Mutation::SetSla(s) => s.team_id,
        Mutation::StartConversation(s) => s.inbox_id,
        Mutation::SetConsent(c) => c.contact_id,
        Mutation::SaveCanned(_)
        | Mutation::DeleteCanned(_)
        | Mutation::SaveArticle(_)
        | Mutation::DeleteArticle(_)
        | Mutation::SetPresence(_)
        | Mutation::SetPreferences(_) => 0,
    }
}

fn apply_one(tx: &mut WriteTx<'_>, v: &Viewer, client_id: &str, env: &MutationEnvelope) -> Result<MutationResult> {
    let mutation_id = env.mutation_id;
    let id_value = i64::try_from(mutation_id).map_err(|_| StoreError::BadRequest("mutation_id is too large".into()))?;
    let client = tx.conn.query_opt(
        "SELECT agent_id, last_mutation_id, last_result FROM clients WHERE client_id = ?",
        params![client_id],
    )?;
    if let Some(r) = &client {
        if r.int(0)? != v.agent_id {
            return Err(StoreError::Forbidden("this client_id belongs to another agent".into()));
        }
        let last = r.int(1)?;
        if id_value < last {
            return Ok(MutationResult { mutation_id, outcome: Outcome::Duplicate });
        }
        if id_value == last {
            // The retry of the last mutation hears what happened to it, so a client whose
            // answer was lost still learns of a refusal or a conflict.
            let earlier = r.opt_text(2)?.and_then(|t| serde_json::from_str::<Outcome>(t).ok());
            let outcome = match earlier {
                Some(o @ (Outcome::Rejected { .. } | Outcome::Conflict { .. })) => o,
                _ => Outcome::Duplicate,
            };
            return Ok(MutationResult { mutation_id, outcome });
        }
    }
    tx.conn.batch("SAVEPOINT mutation")?;
    let outcome = match apply(tx, v, client_id, &env.mutation, env.expected_version) {
        Ok(o) => {
            tx.conn.batch("RELEASE SAVEPOINT mutation")?;
            o
        }
        Err(e) => {
            tx.conn.batch("ROLLBACK TO SAVEPOINT mutation; RELEASE SAVEPOINT mutation")?;
            match e {
                StoreError::Db(db) => return Err(StoreError::Db(db)),
                StoreError::Conflict(current) => Outcome::Conflict { current: *current },
                other => Outcome::Rejected { error: other.to_api() },
            }
        }
    };
    let result = serde_json::to_string(&outcome).unwrap_or_default();
    if client.is_some() {
        tx.conn.execute(
            "UPDATE clients SET last_mutation_id = ?, last_result = ?, updated_at = ? WHERE client_id = ?",
            params![id_value, result, tx.now, client_id],
        )?;
    } else {
        tx.conn.execute(
            "INSERT INTO clients (client_id, agent_id, last_mutation_id, last_result, updated_at) VALUES (?, ?, ?, ?, ?)",
            params![client_id, v.agent_id, id_value, result, tx.now],
        )?;
    }
    Ok(MutationResult { mutation_id, outcome })
}

fn apply(tx: &mut WriteTx<'_>, v: &Viewer, client_id: &str, m: &Mutation, expected: Option<i64>) -> Result<Outcome> {
    match m {
        Mutation::SendReply(r) => send_reply(tx, v, r, expected),
        Mutation::AddNote(n) => add_note(tx, v, n, expected),
        Mutation::Assign(a) => assign(tx, v, a, expected),
        Mutation::SetStatus(s) => set_status(tx, v, s, expected),
        Mutation::MarkRead(r) => mark_read(tx, v, r),
        Mutation::MergeContacts(mc) => merge_contacts(tx, v, mc, expected),
        Mutation::SplitContact(sc) => split_contact(tx, v, sc),
        Mutation::SendTemplate(t) => send_template(tx, v, t, expected),
        Mutation::RefreshCrm(r) => refresh_crm(tx, v, r),
        Mutation::SaveCanned(s) => super::canned::save(tx, v, client_id, s, expected),
        Mutation::DeleteCanned(d) => super::canned::delete(tx, v, client_id, d, expected),
        Mutation::SaveArticle(a) => super::articles::save(tx, v, client_id, a, expected),
        Mutation::DeleteArticle(d) => super::articles::delete(tx, v, client_id, d, expected),
        Mutation::BlockVisitor(b) => block_visitor(tx, v, b),
        Mutation::SetPresence(p) => {
            super::routing::set_presence(tx, v.agent_id, p.presence, p.automatic)?;
            Ok(Outcome::Applied)
        }
        Mutation::SetPreferences(p) => {
            super::preferences::set(tx, v.agent_id, &p.preferences)?;
            Ok(Outcome::Applied)
        }
        Mutation::SetPriority(p) => super::routing::set_priority(tx, v, p).map(|()| Outcome::Applied),
        Mutation::SetRouting(r) => super::routing::set_routing(tx, v, r).map(|()| Outcome::Applied),
        Mutation::SetAgentRouting(a) => super::routing::set_agent_routing(tx, v, a).map(|()| Outcome::Applied),
        Mutation::SetSla(s) => super::sla::set_sla(tx, v, s).map(|()| Outcome::Applied),
        Mutation::StartConversation(s) => super::outreach::start(tx, v, s),
        Mutation::SetConsent(c) => super::consent::set(tx, v, c),
    }
}

/// Loads a conversation the viewer may work on and checks `expected_version`.
fn conversation_for_work(tx: &mut WriteTx<'_>, v: &Viewer, id: i64, expected: Option<i64>) -> Result<Conversation> {
    let conv = entities::load_conversation(tx.conn, id)?;
    policy::may_work_on(v, Scope { team_id: conv.team_id, assignee_id: conv.assignee_id })
        .map_err(|d| StoreError::denied(d, "conversation"))?;
    check_version(&conv, expected)?;
    Ok(conv)
}

/// [`conversation_for_work`] for work that takes a conversation from its bot: a reply, a
/// template, a status change.
fn conversation_taken(tx: &mut WriteTx<'_>, v: &Viewer, id: i64, expected: Option<i64>) -> Result<Conversation> {
    let conv = conversation_for_work(tx, v, id, expected)?;
    super::bot::take_over(tx, &conv)
}

fn check_version(conv: &Conversation, expected: Option<i64>) -> Result<()> {
    match expected {
        Some(e) if e != conv.version => Err(StoreError::Conflict(Box::new(Change::Conversation(conv.clone())))),
        _ => Ok(()),
    }
}

/// An agent answered: the first answer is noted, and the response targets are met.
fn replied(tx: &mut WriteTx<'_>, conv_id: i64) -> Result<()> {
    tx.conn.execute(
        "UPDATE conversations SET first_replied_at = COALESCE(first_replied_at, ?) WHERE id = ?",
        params![tx.now, conv_id],
    )?;
    super::sla::apply(tx, conv_id, crate::sla::Event::Replied)
}

fn send_reply(tx: &mut WriteTx<'_>, v: &Viewer, r: &SendReply, expected: Option<i64>) -> Result<Outcome> {
    check_text(&r.client_msg_id, &r.body, r.attachments.len())?;
    let conv = conversation_taken(tx, v, r.conversation_id, expected)?;
    if already_stored(tx, &r.client_msg_id)? {
        return Ok(Outcome::Duplicate);
    }
    let attachments = kept_attachments(tx, v, conv.channel, &r.body, &r.attachments)?;
    if let Some(choices) = &r.choices {
        if !attachments.is_empty() {
            return Err(StoreError::BadRequest("choices go with text, not with files".into()));
        }
        if let Some(why) = switchboard_protocol::choices::refuse(conv.channel, &r.body, choices) {
            return Err(StoreError::BadRequest(why));
        }
    }
    check_may_send(tx, &conv, false)?;
    let id = insert_agent_message(
        tx,
        Some(v.agent_id),
        &conv,
        AgentMessage {
            direction: Direction::Outbound,
            client_msg_id: &r.client_msg_id,
            body: &r.body,
            attachments: &attachments,
            template: None,
            subject: None,
            choices: r.choices.as_ref(),
        },
    )?;
    let next = rules::after_reply(&conv_state(&conv), tx.now, rules::preview(&r.body, attachments.len()));
    save_state(tx, &conv, &next, Some(v.agent_id))?;
    replied(tx, conv.id)?;
    finish_message(tx, conv.id, id)
}

/// A reply's attachments as the hub knows them: each must be a file the hub keeps that the
/// agent may see (their own upload, or a file of a conversation in their teams; any other
/// is as unknown as one that does not exist; a URL elsewhere would send the customer, and
/// every agent who opens it, to a place nobody checked). Name, type and size are the
/// hub's, never the client's; and the message must be one its channel sends as it is.
fn kept_attachments(
    tx: &mut WriteTx<'_>,
    v: &Viewer,
    channel: ChannelKind,
    body: &str,
    attachments: &[Attachment],
) -> Result<Vec<Attachment>> {
    let mut kept = Vec::with_capacity(attachments.len());
    for a in attachments {
        let meta = match super::blobs::blob_key(&a.url) {
            Some(key) => match super::blobs::blob_for(tx.conn, v, key) {
                Ok(meta) => Some(meta),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let meta = meta
            .ok_or_else(|| StoreError::BadRequest(format!("attachment `{}` is not a file kept by this hub", a.name)))?;
        kept.push(Attachment { name: meta.name, mime: meta.mime, size: meta.size, url: a.url.clone() });
    }
    let sent: Vec<files::Sent<'_>> =
        kept.iter().map(|a| files::Sent { name: &a.name, mime: &a.mime, size: a.size }).collect();
    files::fits_one_message(channel, body, &sent).map_err(|r| {
        let e = ApiError::from(r);
        StoreError::Refused(e.code, e.message)
    })?;
    Ok(kept)
}

/// Refuses a send to an opted-out address, or free text outside the reply window.
fn check_may_send(tx: &mut WriteTx<'_>, conv: &Conversation, template: bool) -> Result<()> {
    may_send_to(tx, conv.channel, &conv.customer_address, conv.reply_window_expires_at, template)
}

fn send_template(tx: &mut WriteTx<'_>, v: &Viewer, t: &SendTemplate, expected: Option<i64>) -> Result<Outcome> {
    check_text(&t.client_msg_id, &t.template, 0)?;
    let conv = conversation_taken(tx, v, t.conversation_id, expected)?;
    let inbox = entities::load_inbox(tx.conn, conv.inbox_id)?;
    let (body, stored) = fill_template(&inbox, &t.template, &t.params)?;
    if already_stored(tx, &t.client_msg_id)? {
        return Ok(Outcome::Duplicate);
    }
    check_may_send(tx, &conv, true)?;
    let id = insert_agent_message(
        tx,
        Some(v.agent_id),
        &conv,
        AgentMessage {
            direction: Direction::Outbound,
            client_msg_id: &t.client_msg_id,
            body: &body,
            attachments: &[],
            template: Some(stored),
            subject: None,
            choices: None,
        },
    )?;
    let next = rules::after_reply(&conv_state(&conv), tx.now, rules::preview(&body, 0));
    save_state(tx, &conv, &next, Some(v.agent_id))?;
    replied(tx, conv.id)?;
    finish_message(tx, conv.id, id)
}

/// Moves identities (and the conversations held on them) off a contact onto a new one.
fn split_contact(tx: &mut WriteTx<'_>, v: &Viewer, sc: &SplitContact) -> Result<Outcome> {
    if sc.identities.is_empty() {
        return Err(StoreError::BadRequest("name at least one identity to split off".into()));
    }
    let visible = sees_contact(tx, v, sc.contact_id)?;
    policy::may_merge(v, visible, visible).map_err(|d| StoreError::denied(d, "contact"))?;
    let contact = entities::load_contact(tx.conn, sc.contact_id)?;
    for i in &sc.identities {
        if !contact.identities.contains(i) {
            return Err(StoreError::BadRequest(format!(
                "{} on {} is not one of this contact's addresses",
                i.address, i.channel
            )));
        }
    }
    if sc.identities.len() == contact.identities.len() {
        return Err(StoreError::BadRequest("a split must leave the contact at least one address".into()));
    }
    let name =
        sc.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or(&sc.identities[0].address).to_owned();
    let new_id = tx.conn.query_int(
        "INSERT INTO contacts (name, profile, created_at, updated_at) VALUES (?, '{}', ?, ?) RETURNING id",
        params![&name, tx.now, tx.now],
    )?;
    // Each part is its own customer in the CRM now.
    super::crm::request_lookup(tx, new_id, false, None)?;
    super::crm::request_lookup(tx, contact.id, true, None)?;
    let mut moved = Vec::new();
    for i in &sc.identities {
        tx.conn.execute(
            "UPDATE identities SET contact_id = ? WHERE contact_id = ? AND channel = ? AND address = ?",
            params![new_id, contact.id, i.channel.as_str(), &i.address],
        )?;
        let convs = tx.conn.query(
            "SELECT id FROM conversations WHERE contact_id = ? AND channel = ? AND customer_address = ?",
            params![contact.id, i.channel.as_str(), &i.address],
        )?;
        for r in &convs {
            moved.push(r.int(0)?);
        }
    }
    for &id in &moved {
        tx.conn.execute(
            "UPDATE conversations SET contact_id = ?, updated_by = ?, version = version + 1 WHERE id = ?",
            params![new_id, v.agent_id, id],
        )?;
    }
    tx.conn.execute(
        "UPDATE contacts SET version = version + 1, updated_at = ? WHERE id = ?",
        params![tx.now, contact.id],
    )?;
    for id in [new_id, contact.id] {
        let c = entities::load_contact(tx.conn, id)?;
        emit_contact(tx, &c)?;
    }
    for &id in &moved {
        let conv = entities::load_conversation(tx.conn, id)?;
        emit_conversation(tx, &conv, None);
    }
    Ok(Outcome::Applied)
}

fn add_note(tx: &mut WriteTx<'_>, v: &Viewer, n: &AddNote, expected: Option<i64>) -> Result<Outcome> {
    check_text(&n.client_msg_id, &n.body, 0)?;
    let conv = conversation_for_work(tx, v, n.conversation_id, expected)?;
    if already_stored(tx, &n.client_msg_id)? {
        return Ok(Outcome::Duplicate);
    }
    let id = insert_agent_message(
        tx,
        Some(v.agent_id),
        &conv,
        AgentMessage {
            direction: Direction::Note,
            client_msg_id: &n.client_msg_id,
            body: &n.body,
            attachments: &[],
            template: None,
            subject: None,
            choices: None,
        },
    )?;
    let next = rules::after_note(&conv_state(&conv), tx.now);
    save_state(tx, &conv, &next, Some(v.agent_id))?;
    finish_message(tx, conv.id, id)
}

fn assign(tx: &mut WriteTx<'_>, v: &Viewer, a: &Assign, expected: Option<i64>) -> Result<Outcome> {
    if a.agent_id.is_none() && a.team_id.is_none() {
        return Err(StoreError::BadRequest("assign needs agent_id, team_id or both".into()));
    }
    let conv = entities::load_conversation(tx.conn, a.conversation_id)?;
    let scope = Scope { team_id: conv.team_id, assignee_id: conv.assignee_id };
    let to_agent = a.agent_id.unwrap_or(conv.assignee_id);
    let to_team = a.team_id.unwrap_or(conv.team_id);
    policy::may_assign(v, scope, to_agent, to_team).map_err(|d| StoreError::denied(d, "conversation"))?;
    check_version(&conv, expected)?;
    let conv = super::bot::take_over(tx, &conv)?;
    if tx.conn.query_opt("SELECT id FROM teams WHERE id = ?", params![to_team])?.is_none() {
        return Err(StoreError::BadRequest(format!("team {to_team} does not exist")));
    }
    if let Some(agent) = to_agent {
        let assignee = entities::load_agent(tx.conn, agent)
            .map_err(|_| StoreError::BadRequest(format!("agent {agent} does not exist")))?;
        if assignee.role != switchboard_protocol::model::Role::Admin && !assignee.teams.contains(&to_team) {
            return Err(StoreError::BadRequest(format!("{} is not in team {to_team}", assignee.name)));
        }
    }
    tx.conn.execute(
        "UPDATE conversations SET assignee_id = ?, team_id = ?, updated_by = ?, version = version + 1 WHERE id = ?",
        params![to_agent, to_team, v.agent_id, conv.id],
    )?;
    if to_agent != conv.assignee_id && conv.status != ConversationStatus::Resolved {
        super::routing::record_holder(tx, conv.id, to_team, to_agent, Some(v.agent_id), "reassigned")?;
    }
    super::routing::sync_queue(tx, conv.id)?;
    let after = entities::load_conversation(tx.conn, conv.id)?;
    emit_conversation(tx, &after, Some(conv.team_id));
    if to_team != conv.team_id {
        // The new team's consoles learn who the customer is.
        let contact = entities::load_contact(tx.conn, conv.contact_id)?;
        emit_contact(tx, &contact)?;
    }
    Ok(Outcome::Applied)
}

fn set_status(tx: &mut WriteTx<'_>, v: &Viewer, s: &SetStatus, expected: Option<i64>) -> Result<Outcome> {
    let conv = conversation_taken(tx, v, s.conversation_id, expected)?;
    let next = rules::after_status(&conv_state(&conv), s.status, s.snoozed_until, tx.now)
        .map_err(|e| StoreError::BadRequest(e.to_owned()))?;
    save_state(tx, &conv, &next, Some(v.agent_id))?;
    if next.status == ConversationStatus::Resolved && conv.status != ConversationStatus::Resolved {
        super::crm::enqueue_transcript(tx, conv.id)?;
        super::sla::apply(tx, conv.id, crate::sla::Event::Resolved)?;
        super::csat::resolved(tx, &conv)?;
    }
    if conv.status == ConversationStatus::Resolved && next.status != ConversationStatus::Resolved {
        super::sla::apply(tx, conv.id, crate::sla::Event::Reopened { at: tx.now })?;
    }
    super::routing::sync_queue(tx, conv.id)?;
    let after = entities::load_conversation(tx.conn, conv.id)?;
    emit_conversation(tx, &after, None);
    Ok(Outcome::Applied)
}

/// Blocks or lets back the visitor of a web-chat or in-app conversation, saying so in the
/// thread for the agents.
fn block_visitor(tx: &mut WriteTx<'_>, v: &Viewer, b: &BlockVisitor) -> Result<Outcome> {
    let conv = conversation_for_work(tx, v, b.conversation_id, None)?;
    if !matches!(conv.channel, ChannelKind::Webchat | ChannelKind::InApp) {
        return Err(StoreError::BadRequest("only web-chat and in-app visitors can be blocked".into()));
    }
    let address = tx
        .conn
        .query_one("SELECT customer_address FROM conversations WHERE id = ?", params![conv.id])?
        .text(0)?
        .to_owned();
    let changed = super::blocks::set_blocked(tx, conv.inbox_id, &address, b.blocked)?;
    if changed > 0 {
        let who = entities::load_agent(tx.conn, v.agent_id)?.name;
        let line = if b.blocked {
            format!("{who} blocked this visitor: their chat is closed, and their address starts no chat for a day.")
        } else {
            format!("{who} let this visitor back.")
        };
        entities::add_system_line(tx, &conv, &line, tx.now)?;
    }
    Ok(Outcome::Applied)
}

/// Asks for the contact's CRM fields to be fetched again; the lookup runs in the
/// background and its result arrives as a contact change.
fn refresh_crm(tx: &mut WriteTx<'_>, v: &Viewer, r: &RefreshCrm) -> Result<Outcome> {
    let merged = tx
        .conn
        .query_opt("SELECT merged_into FROM contacts WHERE id = ?", params![r.contact_id])?
        .ok_or(StoreError::NotFound("contact"))?;
    if !sees_contact(tx, v, r.contact_id)? {
        return Err(StoreError::NotFound("contact"));
    }
    if merged.opt_int(0)?.is_some() {
        return Err(StoreError::BadRequest(format!("contact {} was merged into another", r.contact_id)));
    }
    let by = match r.by.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => Some(crate::crm_model::Lookup::for_address(b)?.searched().join("")),
        None => None,
    };
    super::crm::request_lookup(tx, r.contact_id, r.force || by.is_some(), by.as_deref())?;
    Ok(Outcome::Applied)
}

fn mark_read(tx: &mut WriteTx<'_>, v: &Viewer, r: &MarkRead) -> Result<Outcome> {
    let conv = conversation_for_work(tx, v, r.conversation_id, None)?;
    let upto = match r.message_id {
        Some(id) => {
            let m = entities::load_message(tx.conn, id)?;
            if m.conversation_id != conv.id {
                return Err(StoreError::BadRequest(format!("message {id} is not in conversation {}", conv.id)));
            }
            id
        }
        None => match tx
            .conn
            .query_one("SELECT MAX(id) FROM messages WHERE conversation_id = ?", params![conv.id])?
            .opt_int(0)?
        {
            Some(id) => id,
            None => return Ok(Outcome::Applied),
        },
    };
    let current = tx
        .conn
        .query_opt(
            "SELECT last_read_message_id FROM read_markers WHERE agent_id = ? AND conversation_id = ?",
            params![v.agent_id, conv.id],
        )?
        .map(|r| r.int(0))
        .transpose()?;
    if current.is_some_and(|c| c >= upto) {
        return Ok(Outcome::Applied);
    }
    if current.is_some() {
        tx.conn.execute(
            "UPDATE read_markers SET last_read_message_id = ?, at = ? WHERE agent_id = ? AND conversation_id = ?",
            params![upto, tx.now, v.agent_id, conv.id],
        )?;
    } else {
        tx.conn.execute(
            "INSERT INTO read_markers (agent_id, conversation_id, last_read_message_id, at) VALUES (?, ?, ?, ?)",
            params![v.agent_id, conv.id, upto, tx.now],
        )?;
    }
    emit_read_marker(
        tx,
        &ReadMarker { conversation_id: conv.id, agent_id: v.agent_id, last_read_message_id: upto, at: tx.now },
    );
    Ok(Outcome::Applied)
}

fn merge_contacts(tx: &mut WriteTx<'_>, v: &Viewer, mc: &MergeContacts, expected: Option<i64>) -> Result<Outcome> {
    if mc.into_contact_id == mc.from_contact_id {
        return Err(StoreError::BadRequest("cannot merge a contact into itself".into()));
    }
    let mut live = |id: i64| -> Result<()> {
        let r = tx
            .conn
            .query_opt("SELECT merged_into FROM contacts WHERE id = ?", params![id])?
            .ok_or(StoreError::NotFound("contact"))?;
        if r.opt_int(0)?.is_some() {
            return Err(StoreError::BadRequest(format!("contact {id} was already merged")));
        }
        Ok(())
    };
    live(mc.into_contact_id)?;
    live(mc.from_contact_id)?;
    let into_visible = sees_contact(tx, v, mc.into_contact_id)?;
    let from_visible = sees_contact(tx, v, mc.from_contact_id)?;
    policy::may_merge(v, into_visible, from_visible).map_err(|d| StoreError::denied(d, "contact"))?;
    let into = entities::load_contact(tx.conn, mc.into_contact_id)?;
    if let Some(e) = expected {
        if e != into.version {
            return Err(StoreError::Conflict(Box::new(Change::Contact(into))));
        }
    }
    merge_into(tx, mc.from_contact_id, &into, Some(v.agent_id))?;
    Ok(Outcome::Applied)
}

/// Moves contact `from_id` into `into`: identities, conversations and profile fields (the
/// surviving contact's values win), and tells every agent. `by` is the agent who merged,
/// or none when the customer joined themselves (a visitor leaving their email).
pub(super) fn merge_into(tx: &mut WriteTx<'_>, from_id: i64, into: &Contact, by: Option<i64>) -> Result<()> {
    let from = entities::load_contact(tx.conn, from_id)?;
    let mut profile: BTreeMap<String, String> = from.profile.clone();
    profile.extend(into.profile.clone());
    let profile = serde_json::to_string(&profile).map_err(|e| StoreError::BadRequest(e.to_string()))?;

    tx.conn.execute("UPDATE identities SET contact_id = ? WHERE contact_id = ?", params![into.id, from.id])?;
    let moved = tx.conn.query("SELECT id FROM conversations WHERE contact_id = ?", params![from.id])?;
    tx.conn.execute(
        "UPDATE conversations SET contact_id = ?, updated_by = ?, version = version + 1 WHERE contact_id = ?",
        params![into.id, by, from.id],
    )?;
    tx.conn.execute(
        "UPDATE contacts SET merged_into = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![into.id, tx.now, from.id],
    )?;
    tx.conn.execute(
        "UPDATE contacts SET profile = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![profile, tx.now, into.id],
    )?;
    let merged = entities::load_contact(tx.conn, into.id)?;
    emit_contact(tx, &merged)?;
    // More addresses to find the customer by.
    super::crm::request_lookup(tx, into.id, true, None)?;
    for r in &moved {
        let conv = entities::load_conversation(tx.conn, r.int(0)?)?;
        emit_conversation(tx, &conv, None);
    }
    emit_public(tx, ChangeKind::Contact, from.id, &Change::ContactRemoved { id: from.id, merged_into: Some(into.id) });
    Ok(())
}
