//! The commands the window may call, each a one-line adapter over switchboard-core. Errors
//! reach the window as the protocol's `{code, message}`.

use crate::desktop;
use crate::shell::Shell;
use crate::updates::{self, Updates};
use switchboard_protocol::articles::{ArticleHit, ArticleVersion, Insert};
use switchboard_protocol::campaign::{
    AudienceCheck, Campaign, CampaignAction, CampaignSpec, NewSegment, RecipientPage, RecipientState, Segment,
};
use switchboard_protocol::choices::Choices;
use switchboard_protocol::console::{
    AgentLoad, ArticleDraft, ArticleEntry, AssignTo, CannedDraft, CannedOption, Composer, Connection, ConversationRow,
    DemoLogin, Directory, History, NewConversation, OpenedAttachment, Profile, SearchHit, SearchQuery, Session, SignIn,
    Started, Thread, UpdateReady, View, ViewCount,
};
use switchboard_protocol::model::{
    Attachment, Contact, ConversationStatus, Presence, Priority, RoutingPolicy, SlaPolicy,
};
use switchboard_protocol::mutation::{SetAgentRouting, SetConsent};
use switchboard_protocol::preferences::NotificationPreferences;
use switchboard_protocol::report::{ReportQuery, ReportView};
use switchboard_protocol::{ApiError, ErrorCode, Id};
use tauri::{AppHandle, State};

type Answer<T> = Result<T, ApiError>;

#[tauri::command(rename_all = "snake_case")]
pub fn session(shell: State<'_, Shell>) -> Option<Session> {
    shell.session()
}

#[tauri::command(rename_all = "snake_case")]
pub fn demo_logins() -> Vec<DemoLogin> {
    Shell::demo_logins()
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sign_in(app: AppHandle, shell: State<'_, Shell>, request: SignIn) -> Answer<Session> {
    shell.sign_in(&app, request).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn try_demo(app: AppHandle, shell: State<'_, Shell>, email: Option<String>) -> Answer<Session> {
    shell.try_demo(&app, email).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn restore_session(app: AppHandle, shell: State<'_, Shell>) -> Answer<Option<Session>> {
    shell.restore(&app).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn sign_out(app: AppHandle, shell: State<'_, Shell>, forget: bool) -> Answer<()> {
    shell.sign_out(&app, forget).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn connection(shell: State<'_, Shell>) -> Answer<Connection> {
    Ok(shell.console()?.connection())
}

#[tauri::command(rename_all = "snake_case")]
pub fn reconnect_now(shell: State<'_, Shell>) -> Answer<()> {
    shell.console().map(|c| c.reconnect_now())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn counts(shell: State<'_, Shell>) -> Answer<Vec<ViewCount>> {
    shell.run(|c| c.cache().counts()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn view(shell: State<'_, Shell>, view: View, limit: usize, offset: usize) -> Answer<Vec<ConversationRow>> {
    shell.run(move |c| c.cache().view(view, limit, offset)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn thread(shell: State<'_, Shell>, conversation_id: Id, limit: usize) -> Answer<Thread> {
    shell.run(move |c| c.cache().thread(conversation_id, limit)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn history(shell: State<'_, Shell>, contact_id: Id, limit: usize, before: Option<i64>) -> Answer<History> {
    shell.run(move |c| c.cache().history(contact_id, limit, before)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn profile(shell: State<'_, Shell>, contact_id: Id) -> Answer<Profile> {
    shell.run(move |c| c.cache().profile(contact_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn load_older_history(shell: State<'_, Shell>, contact_id: Id, limit: usize) -> Answer<usize> {
    Ok(shell.console()?.load_older_history(contact_id, limit).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn search(shell: State<'_, Shell>, query: SearchQuery) -> Answer<Vec<SearchHit>> {
    shell.run(move |c| c.cache().search(&query)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn directory(shell: State<'_, Shell>) -> Answer<Directory> {
    shell.run(|c| c.cache().directory()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn team_load(shell: State<'_, Shell>) -> Answer<Vec<AgentLoad>> {
    shell.run(|c| c.cache().team_load()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn composer(shell: State<'_, Shell>, conversation_id: Id) -> Answer<Composer> {
    shell.run(move |c| c.composer(conversation_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn expand_canned(shell: State<'_, Shell>, key: String, conversation_id: Id) -> Answer<String> {
    shell.run(move |c| c.cache().expand_canned(&key, conversation_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn canned(shell: State<'_, Shell>) -> Answer<Vec<CannedOption>> {
    shell.run(move |c| c.cache().canned()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_canned(shell: State<'_, Shell>, draft: CannedDraft) -> Answer<String> {
    shell.run(move |c| c.save_canned(draft)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn delete_canned(shell: State<'_, Shell>, key: String, version: Option<i64>) -> Answer<()> {
    shell.run(move |c| c.delete_canned(&key, version)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn articles(shell: State<'_, Shell>, query: String) -> Answer<Vec<ArticleHit>> {
    shell.run(move |c| c.articles(&query, false)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn article(shell: State<'_, Shell>, key: String) -> Answer<Option<ArticleEntry>> {
    shell.run(move |c| c.article(&key)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn save_article(shell: State<'_, Shell>, draft: ArticleDraft) -> Answer<String> {
    shell.run(move |c| c.save_article(draft)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn delete_article(shell: State<'_, Shell>, key: String, version: Option<i64>) -> Answer<()> {
    shell.run(move |c| c.delete_article(&key, version)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn article_versions(shell: State<'_, Shell>, article_id: Id) -> Answer<Vec<ArticleVersion>> {
    Ok(shell.console()?.article_versions(article_id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub fn render_article(markdown: String) -> String {
    switchboard_core::Console::render_article(&markdown)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn article_insertion(
    shell: State<'_, Shell>,
    conversation_id: Id,
    article_id: Id,
    how: Option<Insert>,
) -> Answer<String> {
    shell.run(move |c| c.article_insertion(conversation_id, article_id, how)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn suggested_articles(shell: State<'_, Shell>, conversation_id: Id) -> Answer<Vec<ArticleHit>> {
    shell.run(move |c| c.suggested_articles(conversation_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn send_reply(
    shell: State<'_, Shell>,
    conversation_id: Id,
    body: String,
    attachments: Option<Vec<String>>,
    choices: Option<Choices>,
) -> Answer<Id> {
    let staged = attachments.unwrap_or_default();
    shell.run(move |c| c.send_reply_with(conversation_id, &body, &staged, choices)).await
}

/// A file attached in the composer: its bytes are the raw body, its name the
/// percent-encoded `x-file-name` header.
#[tauri::command(rename_all = "snake_case")]
pub async fn stage_attachment(shell: State<'_, Shell>, request: tauri::ipc::Request<'_>) -> Answer<Attachment> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::new(ErrorCode::BadRequest, "send the file's bytes as the body"));
    };
    let name = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(desktop::percent_decode)
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "name the file in `x-file-name`"))?;
    let bytes = bytes.clone();
    shell.run(move |c| c.stage_attachment(&name, &bytes)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn discard_attachment(shell: State<'_, Shell>, id: String) -> Answer<bool> {
    shell.run(move |c| c.discard_attachment(&id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn add_note(shell: State<'_, Shell>, conversation_id: Id, body: String) -> Answer<Id> {
    shell.run(move |c| c.add_note(conversation_id, &body)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn start_conversation(shell: State<'_, Shell>, draft: NewConversation) -> Answer<Started> {
    shell.run(move |c| c.start_conversation(draft)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn started_conversation(shell: State<'_, Shell>, client_msg_id: String) -> Answer<Option<Id>> {
    shell.run(move |c| c.started_conversation(&client_msg_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn send_template(
    shell: State<'_, Shell>,
    conversation_id: Id,
    template: String,
    params: Vec<String>,
) -> Answer<Id> {
    shell.run(move |c| c.send_template(conversation_id, &template, params)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn reassign(shell: State<'_, Shell>, conversation_ids: Vec<Id>, to: AssignTo) -> Answer<Vec<Id>> {
    shell.run(move |c| c.reassign(&conversation_ids, to)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_status(
    shell: State<'_, Shell>,
    conversation_id: Id,
    status: ConversationStatus,
    snoozed_until: Option<i64>,
) -> Answer<Id> {
    shell.run(move |c| c.set_status(conversation_id, status, snoozed_until)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn block_visitor(shell: State<'_, Shell>, conversation_id: Id, blocked: bool) -> Answer<Id> {
    shell.run(move |c| c.block_visitor(conversation_id, blocked)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_presence(shell: State<'_, Shell>, presence: Presence) -> Answer<Id> {
    shell.run(move |c| c.set_presence(presence)).await
}

/// The conversation the `switchboard://` link opened last goes to (taking it), if any.
#[tauri::command(rename_all = "snake_case")]
pub async fn take_link(shell: State<'_, Shell>) -> Answer<Option<Id>> {
    shell.take_link()
}

/// The newer console waiting for a restart, if one is downloaded and verified.
#[tauri::command(rename_all = "snake_case")]
pub async fn pending_update(updates: State<'_, Updates>) -> Answer<Option<UpdateReady>> {
    Ok(updates.pending())
}

/// Installs the waiting console and restarts into it: the agent chose to.
#[tauri::command(rename_all = "snake_case")]
pub async fn restart_into_update(app: AppHandle) -> Answer<()> {
    updates::restart_into_update(&app)
}

/// The agent's notification preferences.
#[tauri::command(rename_all = "snake_case")]
pub async fn preferences(shell: State<'_, Shell>) -> Answer<NotificationPreferences> {
    shell.run(move |c| c.preferences()).await
}

/// Saves the agent's notification preferences (in force at once, synced through the hub).
#[tauri::command(rename_all = "snake_case")]
pub async fn set_preferences(shell: State<'_, Shell>, preferences: NotificationPreferences) -> Answer<Id> {
    shell.run(move |c| c.set_preferences(preferences)).await
}

/// The window speaks `language` (a shipped catalog's code): the notifications and the tray
/// speak it too.
#[tauri::command(rename_all = "snake_case")]
pub async fn set_language(app: AppHandle, shell: State<'_, Shell>, language: String) -> Answer<()> {
    if shell.set_language(&language) {
        desktop::retell_tray(&app, &shell.words());
        crate::shell::refresh_badge(&app);
    }
    Ok(())
}

/// The window saw the agent's input (it calls at most every few seconds).
#[tauri::command(rename_all = "snake_case")]
pub async fn note_activity(shell: State<'_, Shell>) -> Answer<Option<Id>> {
    shell.run(move |c| c.note_activity(switchboard_core::now_ms())).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn away_after_mins(shell: State<'_, Shell>) -> Answer<Option<u32>> {
    shell.run(move |c| c.away_after_mins()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_away_after_mins(shell: State<'_, Shell>, mins: Option<u32>) -> Answer<()> {
    shell.run(move |c| c.set_away_after_mins(mins)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_priority(shell: State<'_, Shell>, conversation_id: Id, priority: Priority) -> Answer<Id> {
    shell.run(move |c| c.set_priority(conversation_id, priority)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_routing(
    shell: State<'_, Shell>,
    team_id: Id,
    inbox_id: Option<Id>,
    policy: Option<RoutingPolicy>,
) -> Answer<Id> {
    shell.run(move |c| c.set_routing(team_id, inbox_id, policy)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_sla(
    shell: State<'_, Shell>,
    team_id: Id,
    inbox_id: Option<Id>,
    policy: Option<SlaPolicy>,
) -> Answer<Id> {
    shell.run(move |c| c.set_sla(team_id, inbox_id, policy)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn set_agent_routing(
    shell: State<'_, Shell>,
    agent_id: Id,
    capacity: Option<u32>,
    paused: Option<bool>,
    skills: Option<Vec<String>>,
) -> Answer<Id> {
    shell.run(move |c| c.set_agent_routing(SetAgentRouting { agent_id, capacity, paused, skills })).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn mark_read(shell: State<'_, Shell>, conversation_id: Id) -> Answer<Option<Id>> {
    shell.run(move |c| c.mark_read(conversation_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn merge_contacts(shell: State<'_, Shell>, into_contact_id: Id, from_contact_id: Id) -> Answer<Id> {
    shell.run(move |c| c.merge_contacts(into_contact_id, from_contact_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn refresh_crm(
    shell: State<'_, Shell>,
    contact_id: Id,
    force: bool,
    by: Option<String>,
) -> Answer<Option<Id>> {
    shell.run(move |c| c.refresh_crm(contact_id, force, by)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn queued_replies(shell: State<'_, Shell>) -> Answer<u64> {
    shell.run(|c| c.outbox().queued_replies()).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn retry(shell: State<'_, Shell>, outbox_id: Id) -> Answer<()> {
    shell.run(move |c| c.retry(outbox_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub async fn discard(shell: State<'_, Shell>, outbox_id: Id) -> Answer<()> {
    shell.run(move |c| c.discard(outbox_id)).await
}

#[tauri::command(rename_all = "snake_case")]
pub fn set_open_conversation(shell: State<'_, Shell>, conversation_id: Option<Id>) {
    shell.set_open_conversation(conversation_id);
}

#[tauri::command(rename_all = "snake_case")]
pub async fn report(shell: State<'_, Shell>, query: ReportQuery) -> Answer<ReportView> {
    Ok(shell.console()?.report(query).await?)
}

/// Saves a report as CSV in the agent's Downloads folder; answers the file's path.
#[tauri::command(rename_all = "snake_case")]
pub async fn export_report(app: AppHandle, shell: State<'_, Shell>, query: ReportQuery) -> Answer<String> {
    let path = shell.console()?.export_report(query, &desktop::downloads(&app)).await?;
    Ok(path.display().to_string())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn campaigns(shell: State<'_, Shell>) -> Answer<Vec<Campaign>> {
    Ok(shell.console()?.campaigns().await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn campaign(shell: State<'_, Shell>, id: Id) -> Answer<Campaign> {
    Ok(shell.console()?.campaign(id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn check_campaign(shell: State<'_, Shell>, spec: CampaignSpec) -> Answer<AudienceCheck> {
    Ok(shell.console()?.check_campaign(spec).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_campaign(shell: State<'_, Shell>, spec: CampaignSpec) -> Answer<Campaign> {
    Ok(shell.console()?.create_campaign(spec).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn campaign_action(shell: State<'_, Shell>, id: Id, action: CampaignAction) -> Answer<Campaign> {
    Ok(shell.console()?.campaign_action(id, action).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn campaign_recipients(
    shell: State<'_, Shell>,
    id: Id,
    state: Option<RecipientState>,
    after: u32,
) -> Answer<RecipientPage> {
    Ok(shell.console()?.campaign_recipients(id, state, after).await?)
}

/// Saves a campaign's results as CSV in the agent's Downloads folder; answers the path.
#[tauri::command(rename_all = "snake_case")]
pub async fn export_campaign(app: AppHandle, shell: State<'_, Shell>, id: Id) -> Answer<String> {
    let path = shell.console()?.export_campaign(id, &desktop::downloads(&app)).await?;
    Ok(path.display().to_string())
}

#[tauri::command(rename_all = "snake_case")]
pub async fn segments(shell: State<'_, Shell>) -> Answer<Vec<Segment>> {
    Ok(shell.console()?.segments().await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn create_segment(shell: State<'_, Shell>, segment: NewSegment) -> Answer<Segment> {
    Ok(shell.console()?.create_segment(segment).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn delete_segment(shell: State<'_, Shell>, id: Id) -> Answer<()> {
    Ok(shell.console()?.delete_segment(id).await?)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn open_attachment(
    app: AppHandle,
    shell: State<'_, Shell>,
    message_id: Id,
    index: usize,
) -> Answer<OpenedAttachment> {
    let (path, opening) = shell.console()?.save_attachment(message_id, index).await?;
    desktop::open_saved(&app, &path, opening)
}

#[tauri::command(rename_all = "snake_case")]
pub async fn find_contacts(shell: State<'_, Shell>, text: String) -> Answer<Vec<Contact>> {
    shell.run(move |c| c.find_contacts(&text)).await
}

/// Opens the customer's record in the CRM, in the browser. Only the link the hub synced
/// for that customer can be opened, never a URL the window names.
#[tauri::command(rename_all = "snake_case")]
pub async fn open_crm_record(app: AppHandle, shell: State<'_, Shell>, contact_id: Id) -> Answer<()> {
    let link = shell.run(move |c| c.cache().crm_link(contact_id)).await?;
    desktop::open_link(&app, link)
}
#[tauri::command]
pub async fn set_consent(shell: State<'_, Shell>, consent: SetConsent) -> Answer<Id> {
    shell.run(move |c| c.set_consent(consent)).await
}
