//! The Switchboard console's engine, with no GUI dependency: a local SQLite cache synced
//! from the hub, the outbox that sends the agent's work in order, the views (answered from
//! the cache, online or not), search, and the notification rule. The desktop shell calls
//! [`Console`] and displays what it emits.
//!
//! # Layout
//! - [`cache`]: the database files, their migrations, writing what the hub sends and
//!   reading rows back.
//! - [`sync`]: bootstrap, change pages, the live stream, reconnects.
//! - [`outbox`]: mutations written first, sent in order, retried, stuck or discarded; its
//!   sender, and which echo from the feed retires which pending row.
//! - [`bus`]: the events and connection state the parts share with the front end.
//! - [`views`]: inbox lists, threads, a customer's unified history, profiles.
//! - [`search`]: full-text search with filters and highlights.
//! - [`notify`]: the notification rule, a pure function.
//! - [`compose`]: reply channels, reply windows, refusals, templates.
//! - [`canned`]: canned responses, shared and the agent's own, with unconfirmed edits shown,
//!   and their placeholders filled in.
//! - [`articles`]: the knowledge base searched offline, a lead's unconfirmed edits shown,
//!   articles matching a customer's message, and the text a reply gets for one.
//! - [`lead`]: what each role is offered, the directory, the team load panel.
//! - [`presence`]: away by itself after idle time, back when the agent returns.
//! - [`reports`]: the lead's reports kept for offline, and written out as CSV.
//! - [`session`]: hub addresses, signing in, one cache folder per agent and hub.
//! - [`client`]: the hub's agent API over HTTP and WebSocket.
//! - [`clock`]: the time, random ids and retry pauses.
//! - [`files`]: customers' files on disk: the names they show and are saved under, which
//!   may be opened, and the mark that they came from the internet.
//! - [`error`]: the core's errors and their `{code, message}`.
//!
//! The arrows go one way. [`Console`] (this file) uses every module. `sync` uses `outbox`,
//! `bus`, `client` and `cache`; `views`, `canned`, `articles`, `compose`, `lead`, `reports` and
//! `search` read `cache` (`views`, `canned` and `articles` also read `outbox`'s pending rows, `views` shows names
//! through `files`, `compose` reads `canned`); `outbox` uses `bus`, `client` and `cache`;
//! `bus` uses `cache` and `notify`; `cache` uses only `notify`, `clock` and `error`.
//! `crates/testkit`'s layering test keeps it so.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod articles;
pub mod bus;
pub mod cache;
pub mod canned;
pub mod client;
pub mod clock;
pub mod compose;
pub mod error;
pub mod files;
pub mod lead;
pub mod notify;
pub mod outbox;
pub mod presence;
pub mod reports;
pub mod search;
pub mod session;
pub mod sync;
pub mod views;

use cache::Cache;
use client::HubClient;
use error::{CoreError, Result};
use outbox::Outbox;
use std::path::Path;
use std::sync::{Arc, Mutex};
use switchboard_protocol::articles::{ArticleHit, ArticleVersion, DeleteArticle, Insert, SaveArticle};
use switchboard_protocol::campaign::{
    AudienceCheck, Campaign, CampaignAction, CampaignSpec, NewSegment, RecipientPage, RecipientState, Segment,
};
use switchboard_protocol::console::{
    ArticleDraft, ArticleEntry, AssignTo, CannedDraft, Connection, ConsoleEvent, NewConversation, Started,
};
use switchboard_protocol::links::Link;
use switchboard_protocol::model::{ChannelKind, ConversationStatus, Presence, Priority, RoutingPolicy, SlaPolicy};
use switchboard_protocol::mutation::{
    AddNote, Assign, BlockVisitor, MarkRead, MergeContacts, Mutation, RefreshCrm, SaveCanned, SendReply, SendTemplate,
    SetAgentRouting, SetConsent, SetPreferences, SetPresence, SetPriority, SetRouting, SetSla, SetStatus, SplitContact,
    StartConversation,
};
use switchboard_protocol::preferences::NotificationPreferences;
use switchboard_protocol::report::{ReportQuery, ReportView};
use switchboard_protocol::Id;
use sync::Engine;
use tokio::sync::broadcast;

pub use clock::{new_client_msg_id, now_ms, random_id};

/// This console's version, named to the hub on every request (a hub may require a newer
/// one: `upgrade_required`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
use switchboard_protocol::MAX_BODY;

/// How many customers a search for merging offers.
pub const MERGE_CANDIDATES: usize = 20;

pub use files::safe_file_name;

/// One signed-in console: its cache, and the sync and outbox tasks once started.
#[derive(Debug)]
pub struct Console {
    dir: std::path::PathBuf,
    engine: Arc<Engine>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// When the console opened: idle time counts from here until the first input.
    started_at: i64,
    activity: Mutex<Activity>,
}

/// The agent's input as automatic presence needs it.
#[derive(Debug, Default)]
struct Activity {
    last_input: i64,
    /// The console set the agent away (so it sets them back when they return).
    auto_away: bool,
    /// A presence the console queued that the cache does not show yet.
    pending: Option<Presence>,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Console {
    /// Opens the cache in `dir` for the hub at `hub` with an agent's `token`. Nothing
    /// touches the network until [`Console::start`].
    pub fn open(dir: &Path, hub: &str, token: &str) -> Result<Console> {
        let cache = Arc::new(Cache::open(dir)?);
        let client = HubClient::new(hub, token)?;
        Ok(Console {
            dir: dir.to_owned(),
            engine: Arc::new(Engine::new(dir, cache, client)),
            tasks: Mutex::new(Vec::new()),
            started_at: now_ms(),
            activity: Mutex::new(Activity::default()),
        })
    }

    /// Starts syncing and sending on the current Tokio runtime.
    pub fn start(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if tasks.is_empty() {
            tasks.push(tokio::spawn(self.engine.clone().run_sync()));
            tasks.push(tokio::spawn(self.engine.sender().run()));
        }
    }

    /// Stops syncing and sending (what is queued stays queued).
    pub fn stop(&self) {
        let mut tasks = self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for t in tasks.drain(..) {
            t.abort();
        }
    }

    /// Stops syncing and sending, and waits until neither task can touch the cache or the
    /// hub any more.
    pub async fn shutdown(&self) {
        let tasks: Vec<_> = self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..).collect();
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }

    pub fn cache(&self) -> &Cache {
        &self.engine.cache
    }

    /// What the agent did that the hub has not confirmed.
    pub fn outbox(&self) -> &Outbox {
        &self.engine.outbox
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ConsoleEvent> {
        self.engine.bus.events.subscribe()
    }

    pub fn connection(&self) -> Connection {
        self.engine.bus.connection()
    }

    pub fn watch_connection(&self) -> tokio::sync::watch::Receiver<Connection> {
        self.engine.bus.watch_connection()
    }

    /// Tries to reach the hub now instead of waiting out the backoff.
    pub fn reconnect_now(&self) {
        self.engine.reconnect_now();
        self.engine.bus.outbox_wake.notify_one();
    }

    /// The conversation the agent has open in a focused window; `None` when the window
    /// loses focus.
    pub fn set_focus(&self, conversation: Option<Id>) {
        self.engine.set_focus(conversation);
    }

    /// Queues a mutation and tells the front end its conversation changed.
    fn queue(&self, mutation: Mutation, expected_version: Option<i64>) -> Result<Id> {
        let conversation = outbox::targets(&mutation).0;
        let id = self.send_later(mutation, expected_version)?;
        self.engine.bus.touched(conversation);
        Ok(id)
    }

    /// Queues a mutation for the outbox's sender, telling the front end nothing.
    fn send_later(&self, mutation: Mutation, expected_version: Option<i64>) -> Result<Id> {
        let id = self.engine.outbox.enqueue(mutation, expected_version)?;
        self.engine.bus.outbox_wake.notify_one();
        Ok(id)
    }

    fn check_body(body: &str) -> Result<String> {
        // The hub drops control characters; the pending line shows what it will store.
        let body = switchboard_protocol::text::clean(body);
        let body = body.trim_end();
        if body.trim().is_empty() {
            return Err(CoreError::BadRequest("write something first".into()));
        }
        if body.len() > MAX_BODY {
            return Err(CoreError::BadRequest(format!("a message holds at most {MAX_BODY} bytes")));
        }
        Ok(body.to_owned())
    }

    /// Queues a reply on the conversation's channel; it shows in the thread at once as
    /// pending. Refused at once when the channel's reply window has closed.
    pub fn send_reply(&self, conversation_id: Id, body: &str) -> Result<Id> {
        self.send_reply_with(conversation_id, body, &[], None)
    }

    /// Queues a reply with the files staged for it ([`Console::stage_attachment`], named
    /// `staged:<id>`), sent as the channel carries them ([`files::split`]: on WhatsApp,
    /// Messenger and Instagram one file a message, the text with the first where it can
    /// be a caption), or with choices the customer answers with a tap (refused at once
    /// where the channel cannot carry them, [`switchboard_protocol::choices::refuse`]).
    /// Returns the first queued item's id.
    pub fn send_reply_with(
        &self,
        conversation_id: Id,
        body: &str,
        staged: &[String],
        choices: Option<switchboard_protocol::choices::Choices>,
    ) -> Result<Id> {
        let body = if staged.is_empty() {
            Self::check_body(body)?
        } else {
            let body = switchboard_protocol::text::clean(body).trim_end().to_owned();
            if body.len() > MAX_BODY {
                return Err(CoreError::BadRequest(format!("a message holds at most {MAX_BODY} bytes")));
            }
            body
        };
        let row = self.cache().conversation(conversation_id)?;
        let window = compose::reply_window(row.channel, row.reply_window_expires_at, now_ms());
        if let Some(refused) = compose::refusal(row.channel, window, false) {
            return Err(CoreError::Hub(refused));
        }
        if staged.len() > switchboard_protocol::files::MAX_FILES {
            return Err(CoreError::Hub(switchboard_protocol::files::FileRefusal::TooMany.into()));
        }
        if let Some(c) = &choices {
            if !staged.is_empty() {
                return Err(CoreError::BadRequest("choices go with text, not with files".into()));
            }
            if let Some(why) = switchboard_protocol::choices::refuse(row.channel, &body, c) {
                return Err(CoreError::BadRequest(why));
            }
        }
        let attachments = self.engine.staged.named(staged)?;
        let sent: Vec<switchboard_protocol::files::Sent<'_>> = attachments
            .iter()
            .map(|a| switchboard_protocol::files::Sent { name: &a.name, mime: &a.mime, size: a.size })
            .collect();
        switchboard_protocol::files::fits_channel(row.channel, &sent).map_err(|r| CoreError::Hub(r.into()))?;
        let messages = switchboard_protocol::files::split(row.channel, &body, &attachments, |a| &a.mime);
        let mut first = None;
        for (body, attachments) in messages {
            let mutation = Mutation::SendReply(SendReply {
                conversation_id,
                client_msg_id: new_client_msg_id(),
                body,
                attachments,
                choices: choices.clone(),
            });
            let id = self.queue(mutation, None)?;
            first.get_or_insert(id);
        }
        first.ok_or_else(|| CoreError::BadRequest("write something first".into()))
    }

    /// Keeps a file the agent attached for a reply, in the outbox's folder; refused at once
    /// for a type, content or size the hub would refuse.
    pub fn stage_attachment(&self, name: &str, bytes: &[u8]) -> Result<switchboard_protocol::model::Attachment> {
        self.engine.staged.stage(name, bytes)
    }

    /// Forgets a file the agent removed from the composer before sending.
    pub fn discard_attachment(&self, id: &str) -> Result<bool> {
        self.engine.staged.discard(id)
    }

    /// A picture to show in the thread: a staged file (`staged/<id>`) or attachment `index`
    /// of message `message_id` (`message/<id>/<index>`), fetched once from the hub and kept
    /// in the console's `media` folder. Only pictures (PNG, JPEG, GIF, WebP, by their
    /// content) are given; anything else is not found.
    pub async fn picture(&self, path: &str) -> Result<(String, Vec<u8>)> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let (mime, bytes) = match parts.as_slice() {
            ["staged", id] => self.engine.staged.read(id)?,
            ["message", message_id, index] => {
                let message_id: Id = message_id.parse().map_err(|_| CoreError::NotFound("picture"))?;
                let index: usize = index.parse().map_err(|_| CoreError::NotFound("picture"))?;
                let attachment = self.cached_attachment(message_id, index, "picture")?;
                if !switchboard_protocol::files::is_image(&attachment.mime) {
                    return Err(CoreError::NotFound("picture"));
                }
                let kept = self.dir.join("media").join(format!("{message_id}-{index}"));
                let bytes = match std::fs::read(&kept) {
                    Ok(b) => b,
                    Err(_) => {
                        let b = self.engine.client.download_attachment(message_id, index).await?;
                        std::fs::create_dir_all(self.dir.join("media"))
                            .map_err(CoreError::io("make the media folder"))?;
                        std::fs::write(&kept, &b).map_err(CoreError::io("keep a picture"))?;
                        b
                    }
                };
                (attachment.mime, bytes)
            }
            _ => return Err(CoreError::NotFound("picture")),
        };
        match switchboard_protocol::files::image_type(&bytes[..bytes.len().min(16)]) {
            Some(found) if found == mime => Ok((mime, bytes)),
            _ => Err(CoreError::NotFound("picture")),
        }
    }

    /// What the composer offers for a conversation now: its reply routes and windows,
    /// templates and canned responses.
    pub fn composer(&self, conversation_id: Id) -> Result<switchboard_protocol::console::Composer> {
        self.cache().composer(conversation_id, now_ms())
    }

    /// Customers the agent may merge with another: those whose name or an address contains
    /// `text`, the closest [`MERGE_CANDIDATES`].
    pub fn find_contacts(&self, text: &str) -> Result<Vec<switchboard_protocol::model::Contact>> {
        self.cache().find_contacts(text, MERGE_CANDIDATES)
    }

    /// Queues an internal note.
    pub fn add_note(&self, conversation_id: Id, body: &str) -> Result<Id> {
        let body = Self::check_body(body)?;
        self.cache().conversation(conversation_id)?;
        self.queue(Mutation::AddNote(AddNote { conversation_id, client_msg_id: new_client_msg_id(), body }), None)
    }

    /// Queues an approved template (for a closed reply window).
    pub fn send_template(&self, conversation_id: Id, template: &str, params: Vec<String>) -> Result<Id> {
        self.cache().conversation(conversation_id)?;
        self.queue(
            Mutation::SendTemplate(SendTemplate {
                conversation_id,
                client_msg_id: new_client_msg_id(),
                template: template.to_owned(),
                params,
            }),
            None,
        )
    }

    /// Queues a first message to a customer who has not written (or not lately): a new
    /// conversation of the agent's once the hub has it, found with
    /// [`Console::started_conversation`]. Refused at once when the draft cannot be sent:
    /// no such inbox, no one to write to, nothing to say, an email without a subject.
    pub fn start_conversation(&self, draft: NewConversation) -> Result<Started> {
        let inbox = self
            .cache()
            .directory()?
            .inboxes
            .into_iter()
            .find(|i| i.id == draft.inbox_id)
            .ok_or(CoreError::NotFound("inbox"))?;
        if let Some(why) = compose::refuse_start(&draft, inbox.kind) {
            return Err(CoreError::BadRequest(why));
        }
        let body = if draft.template.is_some() { String::new() } else { Self::check_body(&draft.body)? };
        let client_msg_id = new_client_msg_id();
        let mutation = Mutation::StartConversation(StartConversation {
            client_msg_id: client_msg_id.clone(),
            inbox_id: draft.inbox_id,
            contact_id: draft.contact_id,
            address: draft.address,
            name: draft.name,
            subject: draft.subject,
            body,
            template: draft.template,
            params: draft.params,
        });
        Ok(Started { outbox_id: self.queue(mutation, None)?, client_msg_id })
    }

    /// The conversation a first message started, once the hub has it.
    pub fn started_conversation(&self, client_msg_id: &str) -> Result<Option<Id>> {
        self.cache().conversation_of_line(client_msg_id)
    }

    /// Queues a reassignment, made against the version the agent saw: if someone changed
    /// the conversation first, the outbox item ends in `conflict` with who won.
    pub fn assign(&self, conversation_id: Id, agent_id: Option<Option<Id>>, team_id: Option<Id>) -> Result<Id> {
        let row = self.cache().conversation(conversation_id)?;
        self.queue(Mutation::Assign(Assign { conversation_id, agent_id, team_id }), Some(row.version))
    }

    /// Queues reassigning several threads at once; each is made against the version the
    /// agent saw. Returns the outbox ids, in the order given.
    pub fn reassign(&self, conversation_ids: &[Id], to: AssignTo) -> Result<Vec<Id>> {
        if conversation_ids.is_empty() {
            return Err(CoreError::BadRequest("choose at least one conversation".into()));
        }
        conversation_ids.iter().map(|&id| self.assign(id, Some(to.agent_id), to.team_id)).collect()
    }

    /// Queues a status change (`snoozed_until` with `snoozed`).
    pub fn set_status(
        &self,
        conversation_id: Id,
        status: ConversationStatus,
        snoozed_until: Option<i64>,
    ) -> Result<Id> {
        let row = self.cache().conversation(conversation_id)?;
        self.queue(Mutation::SetStatus(SetStatus { conversation_id, status, snoozed_until }), Some(row.version))
    }

    /// Queues the agent's own presence, chosen by them.
    pub fn set_presence(&self, presence: Presence) -> Result<Id> {
        {
            let mut activity = self.activity();
            activity.auto_away = false;
            activity.pending = Some(presence);
        }
        self.queue(Mutation::SetPresence(SetPresence { presence, automatic: false }), None)
    }

    /// The conversation a `switchboard://` link opens: the conversation itself, or a
    /// customer's latest; `not_found` when this console has no such conversation (out of
    /// the agent's scope, or not synced yet).
    pub fn link_target(&self, link: Link) -> Result<Id> {
        let cache = self.cache();
        match link {
            Link::Conversation(id) => cache.conversation(id).map(|row| row.id),
            Link::Contact(id) => cache
                .profile(id)
                .map_err(|_| CoreError::NotFound("customer"))?
                .conversations
                .first()
                .map(|row| row.id)
                .ok_or(CoreError::NotFound("conversation")),
        }
    }

    /// The agent's notification preferences, as last saved on any of their consoles.
    pub fn preferences(&self) -> Result<NotificationPreferences> {
        self.cache().read(|c| cache::rows::preferences(c))
    }

    /// Saves the agent's notification preferences: in force on this console at once, and
    /// queued for the hub, which syncs them to the agent's other consoles.
    pub fn set_preferences(&self, preferences: NotificationPreferences) -> Result<Id> {
        let now = now_ms();
        preferences.check(now).map_err(|e| CoreError::BadRequest(e.to_string()))?;
        let preferences = preferences.normalized();
        self.cache().write(|c| cache::apply::set_preferences(c, &preferences))?;
        self.queue(Mutation::SetPreferences(SetPreferences { preferences }), None)
    }

    /// Notes input from the agent at `now`; an agent the console had set away is online
    /// again. Returns the outbox id when it changed the presence.
    pub fn note_activity(&self, now: i64) -> Result<Option<Id>> {
        self.activity().last_input = now;
        self.presence_tick(now)
    }

    /// Sets the agent away when they have been idle past their idle time (and back when
    /// they return, if the console set them away); the shell calls it every few seconds.
    pub fn presence_tick(&self, now: i64) -> Result<Option<Id>> {
        let me = match self.cache().read(|c| cache::rows::me(c)) {
            Ok(me) => me,
            Err(CoreError::SignedOut) => return Ok(None),
            Err(e) => return Err(e),
        };
        let away_after = self.away_after_mins()?.map(|m| i64::from(m) * 60_000);
        let mut activity = self.activity();
        // The cached presence trails a queued change until the hub echoes it.
        let current = activity.pending.unwrap_or(me.presence);
        if activity.pending == Some(me.presence) {
            activity.pending = None;
        }
        let idle = now - activity.last_input.max(self.started_at);
        let Some(next) = presence::after_idle(current, activity.auto_away, idle, away_after) else { return Ok(None) };
        activity.auto_away = next == Presence::Away;
        activity.pending = Some(next);
        drop(activity);
        self.queue(Mutation::SetPresence(SetPresence { presence: next, automatic: true }), None).map(Some)
    }

    /// The idle time after which the console sets the agent away (`None`: never).
    pub fn away_after_mins(&self) -> Result<Option<u32>> {
        let stored = self.cache().read(|c| cache::meta(c, "away_after_mins"))?;
        Ok(match stored.and_then(|v| v.parse::<u32>().ok()) {
            Some(0) => None,
            Some(m) => Some(m),
            None => Some(presence::DEFAULT_AWAY_AFTER_MINS),
        })
    }

    /// Sets the idle time after which the console sets the agent away (`None` or 0: never).
    pub fn set_away_after_mins(&self, mins: Option<u32>) -> Result<()> {
        let mins = mins.unwrap_or(0);
        if mins > 24 * 60 {
            return Err(CoreError::BadRequest("the idle time is at most a day".into()));
        }
        self.cache().write(|c| cache::set_meta(c, "away_after_mins", &mins.to_string()))
    }

    fn activity(&self) -> std::sync::MutexGuard<'_, Activity> {
        self.activity.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues an agent's record of a customer's consent at one of their addresses, with
    /// the reason (what the customer said, and where); the hub keeps the record and the
    /// profile shows it once the hub has it.
    pub fn set_consent(&self, consent: SetConsent) -> Result<Id> {
        let reason = consent.reason.trim();
        if reason.is_empty() || reason.chars().count() > switchboard_protocol::model::Consent::MAX_TEXT {
            return Err(CoreError::BadRequest(
                "say why the customer's consent changed (what they said, and where)".into(),
            ));
        }
        let contact = self.cache().contact(consent.contact_id)?;
        if !contact.identities.iter().any(|i| i.channel == consent.channel && i.address == consent.address) {
            return Err(CoreError::BadRequest(format!(
                "{} is not one of {}'s addresses",
                consent.address, contact.name
            )));
        }
        self.queue(Mutation::SetConsent(consent), None)
    }

    /// Queues a conversation's priority.
    pub fn set_priority(&self, conversation_id: Id, priority: Priority) -> Result<Id> {
        self.cache().conversation(conversation_id)?;
        self.queue(Mutation::SetPriority(SetPriority { conversation_id, priority }), None)
    }

    /// Queues a team's routing, or an inbox's own (`policy: None` returns the inbox to its
    /// team's). Leads and admins.
    pub fn set_routing(&self, team_id: Id, inbox_id: Option<Id>, policy: Option<RoutingPolicy>) -> Result<Id> {
        if let Some(why) = policy.as_ref().and_then(RoutingPolicy::refuse) {
            return Err(CoreError::BadRequest(why));
        }
        if inbox_id.is_none() && policy.is_none() {
            return Err(CoreError::BadRequest("a team's routing needs a policy".into()));
        }
        self.queue(Mutation::SetRouting(SetRouting { team_id, inbox_id, policy }), None)
    }

    /// Queues a team's response-time targets, or an inbox's own (`None` clears them).
    /// Leads and admins; the hub checks the calendar.
    pub fn set_sla(&self, team_id: Id, inbox_id: Option<Id>, policy: Option<SlaPolicy>) -> Result<Id> {
        self.queue(Mutation::SetSla(SetSla { team_id, inbox_id, policy }), None)
    }

    /// Queues an agent's capacity, routing pause or skills (leads and admins).
    pub fn set_agent_routing(&self, routing: SetAgentRouting) -> Result<Id> {
        if let Some(why) = routing.skills.as_deref().and_then(switchboard_protocol::model::refuse_skills) {
            return Err(CoreError::BadRequest(why));
        }
        self.queue(Mutation::SetAgentRouting(routing), None)
    }

    /// Queues blocking (or letting back) the web-chat or in-app visitor of a conversation.
    pub fn block_visitor(&self, conversation_id: Id, blocked: bool) -> Result<Id> {
        let row = self.cache().conversation(conversation_id)?;
        if !matches!(row.channel, ChannelKind::Webchat | ChannelKind::InApp) {
            return Err(CoreError::BadRequest("only web-chat and in-app visitors can be blocked".into()));
        }
        self.queue(Mutation::BlockVisitor(BlockVisitor { conversation_id, blocked }), None)
    }

    /// Marks the conversation read up to its newest line, locally at once and on the hub.
    pub fn mark_read(&self, conversation_id: Id) -> Result<Option<Id>> {
        let Some(last) = self.cache().last_message_id(conversation_id)? else { return Ok(None) };
        let unread = self.cache().conversation(conversation_id)?.unread;
        if !unread {
            return Ok(None);
        }
        self.cache().write(|c| cache::apply::upsert_read_marker(c, conversation_id, last).map(|_| ()))?;
        let id = self.send_later(Mutation::MarkRead(MarkRead { conversation_id, message_id: Some(last) }), None)?;
        // Only its row and the unread counts change: the open thread is not read again.
        self.engine.bus.read(conversation_id);
        Ok(Some(id))
    }

    /// Asks the hub to fetch the customer's CRM fields again; they arrive as a contact
    /// change. Opening a thread asks without `force`, and the hub then fetches only fields
    /// older than its TTL; offline, that is not worth queueing and nothing is asked. `by`
    /// searches by another email or phone number than the customer's own.
    pub fn refresh_crm(&self, contact_id: Id, force: bool, by: Option<String>) -> Result<Option<Id>> {
        self.cache().contact(contact_id)?;
        let by = by.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
        if !force && by.is_none() && self.connection() != Connection::Online {
            return Ok(None);
        }
        self.queue(Mutation::RefreshCrm(RefreshCrm { contact_id, force: force || by.is_some(), by }), None).map(Some)
    }

    /// Queues merging one customer into another (leads).
    pub fn merge_contacts(&self, into_contact_id: Id, from_contact_id: Id) -> Result<Id> {
        self.queue(Mutation::MergeContacts(MergeContacts { into_contact_id, from_contact_id }), None)
    }

    /// Queues splitting identities off a customer into a new one (leads).
    pub fn split_contact(&self, split: SplitContact) -> Result<Id> {
        self.queue(Mutation::SplitContact(split), None)
    }

    /// Sends a stuck or conflicting outbox item again.
    pub fn retry(&self, outbox_id: Id) -> Result<()> {
        self.engine.outbox.retry(outbox_id)?;
        self.engine.bus.outbox_wake.notify_one();
        Ok(())
    }

    /// Drops a stuck or conflicting outbox item.
    pub fn discard(&self, outbox_id: Id) -> Result<()> {
        if self.engine.outbox.discard(outbox_id)? {
            self.engine.bus.canned_touched();
        }
        Ok(())
    }

    /// Saves a canned response: a new one without a key, else the one with that key. It
    /// shows at once and reaches the hub, and the team, through the outbox. Refused at once
    /// for what the hub would refuse; with the version the editor opened, the hub refuses
    /// it as a conflict when another console changed the response since. Returns the key.
    pub fn save_canned(&self, draft: CannedDraft) -> Result<String> {
        let save = self.cache().check_canned_save(&SaveCanned {
            key: draft.key.unwrap_or_else(random_id),
            shortcut: draft.shortcut,
            title: draft.title,
            body: draft.body,
            shared: draft.shared,
        })?;
        let key = save.key.clone();
        // A response the hub has not confirmed yet (version 0) has no version to check.
        self.queue(Mutation::SaveCanned(save), draft.version.filter(|v| *v > 0))?;
        self.engine.bus.canned_touched();
        Ok(key)
    }

    /// Deletes a canned response (the agent's own, or the team's for a lead). With the
    /// version the agent saw, the hub refuses it as a conflict when another console changed
    /// the response since.
    pub fn delete_canned(&self, key: &str, version: Option<i64>) -> Result<()> {
        let delete = self.cache().check_canned_delete(key)?;
        self.queue(Mutation::DeleteCanned(delete), version)?;
        self.engine.bus.canned_touched();
        Ok(())
    }

    /// Articles from the cache, offline too: every one with no words, or the best matches
    /// (drafts included; the composer leaves them out with `published_only`).
    pub fn articles(&self, query: &str, published_only: bool) -> Result<Vec<ArticleHit>> {
        self.cache().articles(query, published_only, self.engine.client.base())
    }

    /// One article as the console shows it.
    pub fn article(&self, key: &str) -> Result<Option<ArticleEntry>> {
        self.cache().article(key)
    }

    /// Published articles matching the customer's last message in a conversation.
    pub fn suggested_articles(&self, conversation_id: Id) -> Result<Vec<ArticleHit>> {
        self.cache().suggested_articles(conversation_id, self.engine.client.base())
    }

    /// The text a reply gets for an article: `how`, or what suits the channel (the text on
    /// SMS, a link elsewhere).
    pub fn article_insertion(&self, conversation_id: Id, article_id: Id, how: Option<Insert>) -> Result<String> {
        self.cache().article_insertion(conversation_id, article_id, how, self.engine.client.base())
    }

    /// Saves an article (leads and admins); a new one's key is made from its title. With
    /// the version the editor opened, the hub refuses it as a conflict when another console
    /// changed the article since. Returns the key.
    pub fn save_article(&self, draft: ArticleDraft) -> Result<String> {
        let new = draft.key.is_none();
        let save = self.cache().check_article_save(SaveArticle {
            key: draft.key.unwrap_or_default(),
            title: draft.title,
            body: draft.body,
            tags: draft.tags,
            locale: draft.locale,
            collection: draft.collection,
            status: draft.status,
            new,
        })?;
        let key = save.key.clone();
        self.queue(Mutation::SaveArticle(save), draft.version.filter(|v| *v > 0))?;
        self.engine.bus.articles_touched();
        Ok(key)
    }

    /// Deletes an article (leads and admins), refused as a conflict when another console
    /// changed it since `version`.
    pub fn delete_article(&self, key: &str, version: Option<i64>) -> Result<()> {
        self.cache().check_article_delete(key)?;
        self.queue(Mutation::DeleteArticle(DeleteArticle { key: key.to_owned() }), version.filter(|v| *v > 0))?;
        self.engine.bus.articles_touched();
        Ok(())
    }

    /// An article's saved versions, from the hub.
    pub async fn article_versions(&self, article_id: Id) -> Result<Vec<ArticleVersion>> {
        self.engine.client.article_versions(article_id).await
    }

    /// A Markdown body as the safe HTML the help centre shows (raw HTML shown as text,
    /// unsafe links dropped), for the editor's preview.
    pub fn render_article(markdown: &str) -> String {
        switchboard_protocol::articles::render_html(markdown)
    }

    /// Fetches up to `limit` older lines of a conversation from the hub into the cache;
    /// returns how many arrived (0 at the start of the thread).
    pub async fn load_older(&self, conversation_id: Id, limit: usize) -> Result<usize> {
        let (oldest, complete) = self.cache().oldest_cached(conversation_id)?;
        if complete {
            return Ok(0);
        }
        let before = oldest.map(|id| id.to_string());
        let page = self.engine.client.messages(conversation_id, before.as_deref(), limit.clamp(1, 500)).await?;
        let n = page.messages.len();
        let complete = page.before.is_none();
        self.cache().write(|c| {
            for m in &page.messages {
                cache::apply::upsert_message(c, m)?;
                // History is not news: it never raises a notification.
                c.prepare_cached("INSERT OR IGNORE INTO notified (message_id) VALUES (?1)")?.execute([m.id])?;
            }
            let echoes: Vec<_> = page.messages.iter().filter_map(cache::apply::Echo::of_message).collect();
            outbox::reconcile::retire(c, &echoes)?;
            if complete {
                c.execute("INSERT OR IGNORE INTO history_start (conversation_id) VALUES (?1)", [conversation_id])?;
            }
            Ok(())
        })?;
        self.engine.bus.touched([conversation_id]);
        Ok(n)
    }

    /// Fetches older lines of every conversation of a customer until `limit` lines are
    /// cached for them or their history is complete.
    pub async fn load_older_history(&self, contact_id: Id, limit: usize) -> Result<usize> {
        let conversations = self.cache().profile(contact_id)?.conversations;
        let mut n = 0;
        for conv in conversations {
            n += self.load_older(conv.id, limit).await?;
        }
        Ok(n)
    }

    /// Attachment `index` of cached message `message_id` (`what` names it when missing).
    fn cached_attachment(
        &self,
        message_id: Id,
        index: usize,
        what: &'static str,
    ) -> Result<switchboard_protocol::model::Attachment> {
        self.cache().message(message_id)?.attachments.into_iter().nth(index).ok_or(CoreError::NotFound(what))
    }

    /// Downloads an attachment of a cached message into the console's `attachments`
    /// folder, marked as coming from the internet; returns the file's path and whether the
    /// desktop may open it ([`files::opening`]: inert kinds only, by name and content).
    pub async fn save_attachment(&self, message_id: Id, index: usize) -> Result<(std::path::PathBuf, files::Opening)> {
        let attachment = self.cached_attachment(message_id, index, "attachment")?;
        let bytes = self.engine.client.download_attachment(message_id, index).await?;
        let dir = self.dir.join("attachments").join(message_id.to_string());
        std::fs::create_dir_all(&dir).map_err(CoreError::io("make the attachments folder"))?;
        let name = safe_file_name(&attachment.name, index);
        let path = dir.join(&name);
        std::fs::write(&path, &bytes).map_err(CoreError::io("save the attachment"))?;
        if let Err(e) = files::mark_from_internet(&path) {
            tracing::warn!("{name} could not be marked as coming from the internet: {e}");
        }
        let opening = files::opening(&name, &bytes[..bytes.len().min(512)]);
        Ok((path, opening))
    }

    /// A lead's report: the hub's answer, kept so it opens offline; the kept copy when the
    /// hub cannot be reached.
    pub async fn report(&self, query: ReportQuery) -> Result<ReportView> {
        match self.engine.client.report(&query).await {
            Ok(report) => {
                let fetched_at = now_ms();
                self.cache().keep_report(&report, fetched_at)?;
                Ok(ReportView { report, fetched_at, offline: false })
            }
            Err(CoreError::Offline(why)) => match self.cache().kept_report(&query)? {
                Some((report, fetched_at)) => Ok(ReportView { report, fetched_at, offline: true }),
                None => Err(CoreError::Offline(why)),
            },
            Err(e) => Err(e),
        }
    }

    /// Writes a report as CSV into `dir` (the hub's answer, or the kept copy offline), never
    /// over another file; returns the file's path.
    pub async fn export_report(&self, query: ReportQuery, dir: &Path) -> Result<std::path::PathBuf> {
        let view = self.report(query.clone()).await?;
        let team = match query.team_id {
            Some(id) => self.cache().directory()?.teams.into_iter().find(|t| t.id == id).map(|t| t.name),
            None => None,
        }
        .unwrap_or_else(|| "All teams".to_owned());
        std::fs::create_dir_all(dir).map_err(CoreError::io("make the folder for the report"))?;
        let path = files::unused_path(dir, &reports::file_name(&query));
        std::fs::write(&path, reports::csv(&view.report, &team)).map_err(CoreError::io("save the report"))?;
        Ok(path)
    }

    /// The campaigns the lead may see, newest first, from the hub (campaigns are run
    /// online).
    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        self.engine.client.campaigns().await
    }

    /// One campaign with its live progress.
    pub async fn campaign(&self, id: Id) -> Result<Campaign> {
        self.engine.client.campaign(id).await
    }

    /// What an audience holds (row by row problems, a preview of real rows), nothing made.
    pub async fn check_campaign(&self, spec: CampaignSpec) -> Result<AudienceCheck> {
        self.engine.client.check_campaign(&spec).await
    }

    pub async fn create_campaign(&self, spec: CampaignSpec) -> Result<Campaign> {
        self.engine.client.create_campaign(&spec).await
    }

    /// Schedules, pauses, resumes or cancels a campaign.
    pub async fn campaign_action(&self, id: Id, action: CampaignAction) -> Result<Campaign> {
        self.engine.client.campaign_action(id, &action).await
    }

    /// A page of a campaign's results, by row.
    pub async fn campaign_recipients(
        &self,
        id: Id,
        state: Option<RecipientState>,
        after: u32,
    ) -> Result<RecipientPage> {
        self.engine.client.campaign_recipients(id, state, after).await
    }

    /// Writes a campaign's results as CSV into `dir`, never over another file; returns
    /// the file's path.
    pub async fn export_campaign(&self, id: Id, dir: &Path) -> Result<std::path::PathBuf> {
        let csv = self.engine.client.campaign_export(id).await?;
        std::fs::create_dir_all(dir).map_err(CoreError::io("make the folder for the results"))?;
        let path = files::unused_path(dir, &format!("campaign-{id}-results.csv"));
        std::fs::write(&path, csv).map_err(CoreError::io("save the results"))?;
        Ok(path)
    }

    pub async fn segments(&self) -> Result<Vec<Segment>> {
        self.engine.client.segments().await
    }

    pub async fn create_segment(&self, segment: NewSegment) -> Result<Segment> {
        self.engine.client.create_segment(&segment).await
    }

    pub async fn delete_segment(&self, id: Id) -> Result<()> {
        self.engine.client.delete_segment(id).await
    }

    /// Signs out on the hub (best effort) and stops.
    pub async fn sign_out(&self) -> Result<()> {
        self.stop();
        self.engine.client.logout().await
    }
}
