// Generated from crates/protocol by `UPDATE_TYPESCRIPT=1 cargo test -p switchboard-protocol --test typescript`.
// Do not edit. Ids, timestamps and counts are integers below 2^53, sent as JSON numbers.

export type ErrorCode = "bad_request" | "bad_cursor" | "cursor_expired" | "unauthorized" | "invalid_credentials" | "forbidden" | "not_found" | "conflict" | "payload_too_large" | "rate_limited" | "reply_window_closed" | "opted_out" | "no_consent" | "upgrade_required" | "unavailable" | "internal";

export type ApiError = { code: ErrorCode, message: string, 
/**
 * Seconds to wait before trying again (with `rate_limited`).
 */
retry_after?: number | null, };

export type Role = "agent" | "lead" | "admin";

export type Presence = "online" | "away" | "offline";

export type Priority = "urgent" | "high" | "normal" | "low";

export type RoutingMode = "manual" | "round_robin" | "least_loaded";

export type RoutingPolicy = { mode: RoutingMode, 
/**
 * Prefer the agent who last served the contact, when they are online with a free slot.
 */
sticky: boolean, 
/**
 * Skills an agent must have to be given these conversations (e.g. `language:es`,
 * `product:billing`).
 */
skills: Array<string>, 
/**
 * A contact profile field naming a skill to prefer: with `language`, a contact whose
 * `language` is `es` goes first to agents with the skill `language:es`, and to the
 * others only when none of those can take it.
 */
contact_skill_field?: string | null, 
/**
 * A conversation whose customer has waited this long on its agent goes back to the
 * queue and on to someone else.
 */
reassign_after_mins?: number | null, };

export type BusinessCalendar = { 
/**
 * e.g. `Europe/Lisbon`, `America/New_York`.
 */
time_zone: string, 
/**
 * `mon`…`sun` to ranges such as `"09:00-17:30"` or `"09:00-12:00, 13:00-18:00"`; a day
 * that is absent is closed.
 */
hours: { [key in string]?: string }, 
/**
 * Closed dates, `YYYY-MM-DD` in the calendar's zone.
 */
holidays: Array<string>, };

export type SlaPolicy = { calendar?: BusinessCalendar | null, 
/**
 * From a conversation's opening to the first agent reply.
 */
first_response_mins?: number | null, 
/**
 * From a customer's message to the next reply, once the first reply was sent.
 */
next_response_mins?: number | null, 
/**
 * From a conversation's opening (or reopening) to its resolution.
 */
resolution_mins?: number | null, 
/**
 * How long before a target the conversation is at risk (its agent is warned).
 */
warn_before_mins: number, };

export type SlaState = "ok" | "at_risk" | "breached";

export type ChannelKind = "sms" | "whatsapp" | "messenger" | "instagram" | "webchat" | "in_app" | "email";

export type Agent = { id: number, name: string, email: string, role: Role, teams: Array<number>, 
/**
 * How many open conversations the agent is expected to carry at once.
 */
capacity: number, presence: Presence, 
/**
 * A disabled agent cannot log in and has no sessions; their history stays.
 */
disabled: boolean, 
/**
 * What routing matches against policies' skills (e.g. `language:es`).
 */
skills: Array<string>, 
/**
 * A lead paused routing for this agent: they keep what they have and get nothing new.
 */
routing_paused: boolean, version: number, };

export type Team = { id: number, name: string, 
/**
 * How the team's conversations are handed out (inboxes may have their own).
 */
routing: RoutingPolicy, 
/**
 * The team's response-time targets (inboxes may have their own).
 */
sla?: SlaPolicy | null, version: number, };

export type Inbox = { id: number, kind: ChannelKind, name: string, 
/**
 * The team whose agents see this inbox's conversations by default.
 */
team_id: number, 
/**
 * The business's own address on the channel (number, page id, mailbox).
 */
address: string, 
/**
 * Approved message templates agents may send once a reply window has closed.
 */
templates: Array<Template>, 
/**
 * The inbox's own routing; the team's when absent.
 */
routing?: RoutingPolicy | null, 
/**
 * The inbox's own response-time targets; the team's when absent.
 */
sla?: SlaPolicy | null, version: number, };

export type Template = { name: string, 
/**
 * The provider's language code, e.g. `en_US`.
 */
language: string, 
/**
 * The approved text, placeholders included.
 */
body: string, };

export type Identity = { channel: ChannelKind, 
/**
 * Normalised: E.164 for phones, lower case for email.
 */
address: string, };

export type ConsentPurpose = "service" | "marketing";

export type ConsentSource = "keyword" | "agent" | "api" | "import" | "unsubscribe";

export type Consent = { channel: ChannelKind, address: string, purpose: ConsentPurpose, 
/**
 * Granted, or withdrawn.
 */
granted: boolean, source: ConsentSource, 
/**
 * What shows it: the customer's words, the link used, the file and row, the agent's note.
 */
evidence: string, 
/**
 * Why an agent recorded it.
 */
reason?: string | null, by_agent_id?: number | null, at: number, };

export type SetConsent = { contact_id: number, channel: ChannelKind, address: string, purpose: ConsentPurpose, granted: boolean, 
/**
 * 1 to 1,000 characters.
 */
reason: string, };

export type CrmCandidate = { record_id: string, name: string, 
/**
 * What tells it apart: its email or phone.
 */
detail?: string | null, link?: string | null, };

export type CrmField = { key: string, label: string, value: string, };

export type CrmSnapshot = { 
/**
 * Which connector the fields came from (`hubspot`, `salesforce`, `http`, `csv`, `sql`).
 */
source: string, fields: Array<CrmField>, fetched_at: number, 
/**
 * The record's page in the CRM, when it has one.
 */
link?: string | null, 
/**
 * Set when the last fetch failed; `fields` then holds the last good values.
 */
error?: string | null, 
/**
 * The record's id in the CRM; absent when nothing matched.
 */
record_id?: string | null, 
/**
 * The addresses the last lookup searched by (an email, a phone number).
 */
searched: Array<string>, 
/**
 * Other records that matched too, less closely than the one shown.
 */
others: Array<CrmCandidate>, };

export type Contact = { id: number, name: string, identities: Array<Identity>, 
/**
 * Free-form profile fields (company, city, plan...).
 */
profile: { [key in string]?: string }, crm?: CrmSnapshot | null, 
/**
 * Addresses the customer opted out on: nothing may be sent to them there.
 */
opted_out: Array<Identity>, 
/**
 * The latest consent record per address and purpose.
 */
consents: Array<Consent>, created_at: number, updated_at: number, version: number, };

export type ConversationStatus = "bot" | "open" | "pending" | "snoozed" | "resolved";

export type Direction = "inbound" | "outbound" | "note" | "system";

export type Delivery = "queued" | "sent" | "delivered" | "read" | "failed";

export type Attachment = { name: string, mime: string, 
/**
 * Bytes; 0 when the provider does not say.
 */
size: number, url: string, };

export type ChoiceStyle = "buttons" | "list";

export type Choice = { 
/**
 * The answer's id, as the business reads it (`"tue-10"`); unique among the options.
 */
id: string, 
/**
 * What the customer sees and taps.
 */
title: string, 
/**
 * A line under the title (WhatsApp lists only).
 */
description?: string, };

export type Choices = { style: ChoiceStyle, 
/**
 * A list's button, which opens it (`"See times"`); required for a list.
 */
button?: string, options: Array<Choice>, };

export type Chosen = { 
/**
 * The option's id.
 */
id: string, 
/**
 * Its title, as the customer saw it.
 */
title: string, 
/**
 * The message that offered it, when the channel says which.
 */
offered_in: number | null, };

export type View = "mine" | "unassigned" | "my_teams" | "all" | "waiting" | "closed" | "at_risk" | "bot";

export type ViewCount = { view: View, total: number, unread: number, };

export type ConversationRow = { id: number, contact_id: number, contact_name: string, channel: ChannelKind, 
/**
 * The customer's address replies go to on this channel.
 */
customer_address: string, inbox_id: number, status: ConversationStatus, assignee_id: number | null, team_id: number, preview: string, waiting_since: number | null, last_activity_at: number, snoozed_until: number | null, reply_window_expires_at: number | null, unread: boolean, priority: Priority, 
/**
 * Its place in its team's queue (1 is next), while routing has not given it to anyone.
 */
queue_position?: number | null, 
/**
 * Where it stands against its response-time targets.
 */
sla_state: SlaState, 
/**
 * When its earliest running target is due.
 */
sla_due_at?: number | null, 
/**
 * The customer's satisfaction score (1 to 5) for its latest resolution.
 */
csat_score?: number | null, version: number, };

export type OutboxState = "pending" | "acknowledged" | "stuck" | "conflict";

export type OutboxItem = { 
/**
 * The local id, for retry and discard.
 */
id: number, name: string, conversation_id: number | null, client_msg_id: string | null, state: OutboxState, attempts: number, 
/**
 * Why it is stuck (the hub's `{code, message}`, or the network's reason).
 */
error: ApiError | null, 
/**
 * For a conflict: the agent whose change won, and what it is now.
 */
conflict: ConflictInfo | null, created_at: number, };

export type ConflictInfo = { "kind": "conversation", conversation_id: number, changed_by: number | null, changed_by_name: string | null, assignee_id: number | null, assignee_name: string | null, team_id: number, status: ConversationStatus, } | { "kind": "canned", key: string, shortcut: string, title: string, changed_by: number | null, changed_by_name: string | null, };

export type ThreadLine = { 
/**
 * The hub's id; `None` while the line is only in the outbox.
 */
id: number | null, conversation_id: number, channel: ChannelKind, direction: Direction, author_agent_id: number | null, author_name: string | null, body: string, subject: string | null, attachments: Array<Attachment>, client_msg_id: string | null, delivery: Delivery | null, delivery_error: string | null, 
/**
 * Choices offered with an agent's line.
 */
choices: Choices | null, 
/**
 * The customer's answer to choices offered.
 */
chosen: Chosen | null, 
/**
 * The bot that wrote the line, by the name customers see.
 */
bot: string | null, 
/**
 * Set for lines still in the outbox.
 */
outbox: OutboxLine | null, created_at: number, };

export type OutboxLine = { id: number, state: OutboxState, error: string | null, };

export type OpenedAttachment = { 
/**
 * The name it was saved under.
 */
file_name: string, warning: string | null, };

export type Thread = { conversation: ConversationRow, lines: Array<ThreadLine>, 
/**
 * Older lines exist in the cache or on the hub (`load_older`).
 */
has_older: boolean, };

export type History = { contact_id: number, lines: Array<ThreadLine>, has_older: boolean, };

export type Profile = { contact: Contact, conversations: Array<ConversationRow>, };

export type SearchQuery = { text: string, channel: ChannelKind | null, status: ConversationStatus | null, 
/**
 * Whose conversations to look in; any when absent.
 */
assignee: AssigneeFilter | null, after: number | null, before: number | null, limit: number | null, };

export type AssigneeFilter = { "kind": "unassigned" } | { "kind": "agent", id: number, };

export type SearchHit = { message_id: number, conversation_id: number, contact_id: number, contact_name: string, channel: ChannelKind, direction: Direction, snippet: string, highlights: Array<[number, number]>, created_at: number, };

export type Connection = { "state": "online" } | { "state": "connecting", attempt: number, } | { "state": "offline", since: number, reason: string, retry_at: number, } | { "state": "signed_out", reason: string, } | { "state": "update_required", reason: string, };

export type SyncProgress = { done: number, total: number, finished: boolean, };

export type Notification = { "kind": "reply", conversation_id: number, message_id: number, contact_name: string, channel: ChannelKind, text: string, } | { "kind": "summary", customers: number, messages: number, assigned: number, 
/**
 * Response-time targets of the agent's (or, for a lead, their teams') missed.
 */
missed: number, } | { "kind": "assigned", conversation_id: number, contact_name: string, channel: ChannelKind, text: string, by?: string | null, } | { "kind": "woke", conversation_id: number, contact_name: string, channel: ChannelKind, text: string, } | { "kind": "sla", conversation_id: number, contact_name: string, channel: ChannelKind, due_at: number, breached: boolean, };

export type NotificationPreferences = { 
/**
 * A customer replied in a conversation that is the agent's to answer.
 */
customer_replied: boolean, 
/**
 * A conversation was given to the agent (by routing or by someone).
 */
assigned: boolean, 
/**
 * A response-time target is near or was missed.
 */
sla: boolean, 
/**
 * A snoozed conversation's time came.
 */
snooze_woke: boolean, 
/**
 * Inboxes whose conversations never notify.
 */
muted_inboxes: number[], 
/**
 * Nothing notifies until then (milliseconds since the epoch); `None`: not set.
 */
do_not_disturb_until: number | null, 
/**
 * Nothing notifies in these hours of the week, in the console's local time.
 */
quiet_hours: QuietHours | null, 
/**
 * Desktop notifications play the system's sound.
 */
sound: boolean, 
/**
 * Notifications show the customer's words; off, they show only who and where
 * (for shared screens).
 */
show_text: boolean, };

export type QuietHours = { from_minute: number, to_minute: number, 
/**
 * The days a span starts on: 0 is Monday, 6 is Sunday.
 */
days: Array<number>, };

export type ConsoleEvent = { "type": "connection", connection: Connection, } | { "type": "progress", progress: SyncProgress, } | { "type": "changed", conversations: Array<number>, 
/**
 * Conversations whose read state alone changed (the agent read them here or on
 * another device): their rows and the views' unread counts, never their threads.
 * A conversation named in `conversations` is not named here.
 */
read: Array<number>, contacts: Array<number>, directory: boolean, 
/**
 * The canned responses changed (on the hub, or an edit of the agent's own).
 */
canned: boolean, 
/**
 * The knowledge base changed (on the hub, or a lead's own edit).
 */
articles: boolean, everything: boolean, } | { "type": "notify", notification: Notification, sound: boolean, } | { "type": "outbox", item: OutboxItem, };

export type Permissions = { 
/**
 * Reassign threads to other agents and teams, one or many at once.
 */
reassign: boolean, 
/**
 * The `all` view and the team load panel.
 */
oversee: boolean, 
/**
 * Merge two customers into one.
 */
merge_contacts: boolean, 
/**
 * Add, change and delete the canned responses shared with everyone.
 */
share_canned: boolean, 
/**
 * Write, change, publish and delete knowledge-base articles.
 */
edit_articles: boolean, };

export type Directory = { me: Agent, permissions: Permissions, agents: Array<Agent>, teams: Array<Team>, 
/**
 * The inboxes of the agent's teams (every inbox for an admin), by name.
 */
inboxes: Array<Inbox>, };

export type AgentLoad = { agent_id: number | null, name: string, presence: Presence | null, capacity: number, open: number, 
/**
 * Open conversations whose customer waits on an answer.
 */
waiting: number, oldest_waiting_since: number | null, };

export type ReplyWindow = { "state": "none" } | { "state": "open", expires_at: number, } | { "state": "closed", closed_at: number | null, };

export type ReplyRoute = { conversation_id: number, channel: ChannelKind, address: string, window: ReplyWindow, 
/**
 * Why a reply on this route would be refused (opted out, window closed).
 */
refusal: ApiError | null, };

export type TemplateOption = { params: number, name: string, 
/**
 * The provider's language code, e.g. `en_US`.
 */
language: string, 
/**
 * The approved text, placeholders included.
 */
body: string, };

export type Composer = { conversation_id: number, routes: Array<ReplyRoute>, templates: Array<TemplateOption>, canned: Array<CannedOption>, };

export type CannedResponse = { id: number, 
/**
 * Chosen by the console that created it, and named by every save and delete, so a
 * response made offline can be changed again before the hub has seen it.
 */
key: string, shortcut: string, title: string, body: string, owner_id: number | null, updated_by: number | null, updated_at: number, version: number, };

export type CannedOption = { 
/**
 * An edit (or the whole response) the hub has not confirmed yet.
 */
pending: boolean, 
/**
 * The signed-in agent may change or delete it: their own, or the team's for a lead.
 */
editable: boolean, id: number, 
/**
 * Chosen by the console that created it, and named by every save and delete, so a
 * response made offline can be changed again before the hub has seen it.
 */
key: string, shortcut: string, title: string, body: string, owner_id: number | null, updated_by: number | null, updated_at: number, version: number, };

export type CannedDraft = { 
/**
 * The response changed; `None` makes a new one.
 */
key: string | null, 
/**
 * The version the editor opened. The hub refuses the save with a conflict when
 * another console changed the response since; `None` saves over whatever is there.
 */
version: number | null, shortcut: string, title: string, body: string, shared: boolean, };

export type ArticleStatus = "draft" | "published";

export type Article = { id: number, 
/**
 * Its address in the help centre (`/help/articles/{key}`) and its name as a file;
 * chosen when it is created and never changed.
 */
key: string, title: string, body: string, tags: Array<string>, 
/**
 * A language tag such as `en` or `pt-BR`: the words it is found by are stemmed in it.
 */
locale: string, collection: string, status: ArticleStatus, updated_by: number | null, updated_at: number, version: number, };

export type ArticleVersion = { version: number, title: string, body: string, tags: Array<string>, locale: string, collection: string, status: ArticleStatus, updated_by: number | null, updated_by_name: string | null, updated_at: number, };

export type ArticleHit = { id: number, key: string, title: string, collection: string, locale: string, status: ArticleStatus, 
/**
 * The body's opening words, as plain text.
 */
snippet: string, url: string | null, };

export type Insert = "link" | "text";

export type ArticleEntry = { article: Article, 
/**
 * A save (or the whole article) the hub has not confirmed yet.
 */
pending: boolean, };

export type ArticleDraft = { 
/**
 * The article changed; `None` makes a new one, its key made from the title.
 */
key: string | null, 
/**
 * The version the editor opened: the hub refuses the save with a conflict when
 * another console changed the article since.
 */
version: number | null, title: string, body: string, tags: Array<string>, locale: string, collection: string, status: ArticleStatus, };

export type HandoffReason = "asked_for_person" | "no_answer" | "turn_limit" | "keyword" | "not_helpful" | "bot_failed" | "bot_timed_out" | "bot_decided" | "agent_took_over";

export type SignIn = { hub: string, email: string, password: string, };

export type Session = { hub: string, email: string, demo: boolean, };

export type DemoLogin = { name: string, email: string, role: Role, };

export type ShellEvent = { "type": "notification_failed", reason: string, notification: Notification, } | { "type": "open_conversation", conversation_id: number, } | { "type": "session_changed", session: Session | null, } | { "type": "link_opened" } | { "type": "update_ready" } & UpdateReady;

export type UpdateReady = { version: string, 
/**
 * The version running now.
 */
current_version: string, 
/**
 * The release's notes, as published.
 */
notes: string | null, };

export type AssignTo = { agent_id: number | null, team_id: number | null, };

export type NewConversation = { inbox_id: number, contact_id?: number, address?: string, name?: string, subject?: string, body: string, template?: string, params: Array<string>, };

export type Started = { outbox_id: number, client_msg_id: string, };

export type ReportQuery = { 
/**
 * The first day, `YYYY-MM-DD`.
 */
from: string, 
/**
 * The last day, `YYYY-MM-DD`, included.
 */
to: string, team_id?: number, };

export type Durations = { count: number, median_ms: number | null, p90_ms: number | null, };

export type ChannelVolume = { channel: ChannelKind, conversations: number, };

export type DayVolume = { 
/**
 * `YYYY-MM-DD`.
 */
date: string, 
/**
 * Conversations that started that day.
 */
conversations: number, 
/**
 * Resolutions that day.
 */
resolved: number, };

export type AgentReport = { agent_id: number, name: string, 
/**
 * Conversations resolved while the agent held them.
 */
handled: number, 
/**
 * Time the agent was online.
 */
online_ms: number, 
/**
 * Time summed over every conversation the agent held unresolved.
 */
held_ms: number, 
/**
 * How many conversations the agent held at once on average while online.
 */
average_concurrency: number, 
/**
 * The most the agent held at once.
 */
peak_concurrency: number, };

export type SlaTarget = "first_response" | "next_response" | "resolution";

export type SlaAttainment = { target: SlaTarget, met: number, missed: number, };

export type CsatSummary = { responses: number, 
/**
 * How many answered 1, 2, 3, 4 and 5.
 */
scores: Array<number>, average: number | null, 
/**
 * The share answering 4 or 5, from 0 to 1.
 */
satisfied: number | null, };

export type BotSummary = { 
/**
 * Conversations a bot answered first.
 */
conversations: number, 
/**
 * Resolved by the bot, without a person.
 */
contained: number, 
/**
 * Given to people.
 */
handed_off: number, 
/**
 * Why, most frequent first.
 */
reasons: Array<HandoffCount>, };

export type HandoffCount = { reason: HandoffReason, count: number, };

export type ArticleUse = { article_id: number, title: string, 
/**
 * Reads in the help centre.
 */
views: number, 
/**
 * Readers and customers who said it helped, and who said it did not.
 */
helpful: number, not_helpful: number, 
/**
 * Times the bot answered with it.
 */
offered: number, 
/**
 * Times the widget's visitors said it answered their question.
 */
deflected: number, };

export type Report = { query: ReportQuery, 
/**
 * The IANA time zone days and hours are counted in.
 */
time_zone: string, generated_at: number, 
/**
 * Conversations that started in the period.
 */
conversations: number, 
/**
 * Resolutions in the period.
 */
resolved: number, 
/**
 * From a conversation's start to its first answer, for first answers in the period.
 */
first_response: Durations, 
/**
 * From a conversation's start to its resolution, for resolutions in the period.
 */
resolution: Durations, by_channel: Array<ChannelVolume>, 
/**
 * New conversations by hour of the day, 0 to 23.
 */
by_hour: Array<number>, by_day: Array<DayVolume>, agents: Array<AgentReport>, sla: Array<SlaAttainment>, csat: CsatSummary, 
/**
 * Conversations bots answered first.
 */
bot: BotSummary, 
/**
 * The articles read, offered or inserted in the period, most read first (at most 20).
 */
articles: Array<ArticleUse>, 
/**
 * Questions the widget's articles answered before a conversation started.
 */
deflections: number, };

export type ReportView = { report: Report, 
/**
 * When the console received it.
 */
fetched_at: number, 
/**
 * Answered from the cache because the hub could not be reached.
 */
offline: boolean, };

export type CampaignState = "draft" | "scheduled" | "running" | "paused" | "done" | "cancelled";

export type CampaignAction = { "action": "schedule", at: number, } | { "action": "unschedule" } | { "action": "pause" } | { "action": "resume" } | { "action": "cancel" };

export type ConditionOp = "equals" | "not_equals" | "contains" | "present" | "absent";

export type Condition = { field: string, op: ConditionOp, 
/**
 * Ignored by `present` and `absent`.
 */
value: string, };

export type ContactFilter = { conditions: Array<Condition>, };

export type Audience = { "kind": "csv", csv: string, } | { "kind": "filter", filter: ContactFilter, params: Array<string>, } | { "kind": "segment", segment_id: number, params: Array<string>, };

export type AllowedHours = { from: string, to: string, };

export type FrequencyCap = { messages: number, days: number, };

export type CampaignSpec = { name: string, inbox_id: number, 
/**
 * One of the inbox's approved templates.
 */
template: string, 
/**
 * Email: the subject.
 */
subject?: string | null, purpose: ConsentPurpose, audience: Audience, 
/**
 * Absent: a draft.
 */
scheduled_at?: number | null, allowed_hours?: AllowedHours | null, 
/**
 * For recipients whose own is unknown; the hub's report zone when absent.
 */
time_zone?: string | null, 
/**
 * The hub's default (2 in 7 days) when absent.
 */
frequency_cap?: FrequencyCap | null, };

export type RowProblem = { row: number, column?: string | null, problem: string, };

export type PreviewRow = { row: number, address: string, name: string, text: string, };

export type AudienceCheck = { 
/**
 * Rows read (file rows after the header, or contacts matched).
 */
rows: number, 
/**
 * Rows that would be sent to.
 */
valid: number, 
/**
 * Every bad row, up to [`AudienceCheck::MAX_PROBLEMS`].
 */
problems: Array<RowProblem>, 
/**
 * More bad rows than listed.
 */
more_problems: number, 
/**
 * The first rows, filled in.
 */
preview: Array<PreviewRow>, };

export type CampaignCounts = { total: number, queued: number, sent: number, delivered: number, read: number, replied: number, failed: number, skipped: number, };

export type Campaign = { id: number, name: string, inbox_id: number, template: string, subject?: string | null, purpose: ConsentPurpose, state: CampaignState, 
/**
 * `csv`, `filter` or `segment`.
 */
audience: string, scheduled_at?: number | null, allowed_hours?: AllowedHours | null, time_zone: string, frequency_cap: FrequencyCap, 
/**
 * Messages per second the inbox sends at.
 */
rate: number, created_by?: number | null, created_at: number, started_at?: number | null, finished_at?: number | null, counts: CampaignCounts, };

export type RecipientState = "queued" | "sent" | "delivered" | "read" | "replied" | "failed" | "skipped";

export type RecipientResult = { row: number, address: string, name: string, state: RecipientState, 
/**
 * Why it failed or was skipped.
 */
reason?: string | null, 
/**
 * When it was sent.
 */
sent_at?: number | null, 
/**
 * The conversation the customer's answer is in.
 */
conversation_id?: number | null, };

export type RecipientPage = { recipients: Array<RecipientResult>, 
/**
 * Pass as `after` for the next page; absent on the last.
 */
next?: number | null, };

export type Segment = { id: number, name: string, filter: ContactFilter, created_at: number, };

export type NewSegment = { name: string, filter: ContactFilter, };
