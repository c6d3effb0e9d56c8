// The console's commands, typed from the generated protocol types. Every command answers
// with its value or rejects with the protocol's `{code, message}`.
import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";
import type {
  AgentLoad,
  ApiError,
  ArticleDraft,
  ArticleEntry,
  ArticleHit,
  ArticleVersion,
  AssignTo,
  Attachment,
  AudienceCheck,
  Campaign,
  CampaignAction,
  CampaignSpec,
  CannedDraft,
  CannedOption,
  Choices,
  Composer,
  Connection,
  ConsoleEvent,
  Contact,
  ConversationRow,
  ConversationStatus,
  DemoLogin,
  Directory,
  History,
  Insert,
  NewConversation,
  NewSegment,
  NotificationPreferences,
  OpenedAttachment,
  Presence,
  Priority,
  Profile,
  RecipientPage,
  RecipientState,
  ReportQuery,
  ReportView,
  RoutingPolicy,
  SlaPolicy,
  SearchHit,
  SearchQuery,
  Segment,
  Session,
  SetConsent,
  ShellEvent,
  SignIn,
  Started,
  Thread,
  UpdateReady,
  View,
  ViewCount,
} from "./protocol";

/** True when `e` is the `{code, message}` a command rejected with. */
export function isApiError(e: unknown): e is ApiError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** A person-readable reason for any rejection. */
export function reason(e: unknown): string {
  if (isApiError(e)) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export const api = {
  session: () => invoke<Session | null>("session"),
  demoLogins: () => invoke<DemoLogin[]>("demo_logins"),
  signIn: (request: SignIn) => invoke<Session>("sign_in", { request }),
  tryDemo: (email: string | null) => invoke<Session>("try_demo", { email }),
  restoreSession: () => invoke<Session | null>("restore_session"),
  signOut: (forget: boolean) => invoke<void>("sign_out", { forget }),
  connection: () => invoke<Connection>("connection"),
  reconnectNow: () => invoke<void>("reconnect_now"),
  counts: () => invoke<ViewCount[]>("counts"),
  view: (view: View, limit: number, offset: number) => invoke<ConversationRow[]>("view", { view, limit, offset }),
  thread: (conversation_id: number, limit: number) => invoke<Thread>("thread", { conversation_id, limit }),
  history: (contact_id: number, limit: number, before: number | null) =>
    invoke<History>("history", { contact_id, limit, before }),
  profile: (contact_id: number) => invoke<Profile>("profile", { contact_id }),
  loadOlderHistory: (contact_id: number, limit: number) => invoke<number>("load_older_history", { contact_id, limit }),
  search: (query: SearchQuery) => invoke<SearchHit[]>("search", { query }),
  directory: () => invoke<Directory>("directory"),
  teamLoad: () => invoke<AgentLoad[]>("team_load"),
  composer: (conversation_id: number) => invoke<Composer>("composer", { conversation_id }),
  expandCanned: (key: string, conversation_id: number) => invoke<string>("expand_canned", { key, conversation_id }),
  canned: () => invoke<CannedOption[]>("canned"),
  saveCanned: (draft: CannedDraft) => invoke<string>("save_canned", { draft }),
  deleteCanned: (key: string, version: number | null) => invoke<void>("delete_canned", { key, version }),
  /** The cached knowledge base searched offline, best first; an empty query lists every
   *  article, drafts included (their status says so). */
  articles: (query: string) => invoke<ArticleHit[]>("articles", { query }),
  /** One article with whether a save of it has yet to reach the hub; null when there is none. */
  article: (key: string) => invoke<ArticleEntry | null>("article", { key }),
  /** Saves an article (shown at once, offline too); answers its key. Rejects with `conflict`
   *  when another console changed it since `draft.version`. */
  saveArticle: (draft: ArticleDraft) => invoke<string>("save_article", { draft }),
  deleteArticle: (key: string, version: number | null) => invoke<void>("delete_article", { key, version }),
  /** An article's earlier versions, newest first, from the hub (rejects `unavailable` offline). */
  articleVersions: (article_id: number) => invoke<ArticleVersion[]>("article_versions", { article_id }),
  /** An article's Markdown as safe HTML (raw HTML escaped, unsafe links dropped by the core). */
  renderArticle: (markdown: string) => invoke<string>("render_article", { markdown }),
  /** The text that puts an article into a reply: a link, its text, or (null) what suits the
   *  conversation's channel. */
  articleInsertion: (conversation_id: number, article_id: number, how: Insert | null) =>
    invoke<string>("article_insertion", { conversation_id, article_id, how }),
  /** Published articles that may answer the customer's last message, best first (at most 3). */
  suggestedArticles: (conversation_id: number) => invoke<ArticleHit[]>("suggested_articles", { conversation_id }),
  /** Keeps a file for a reply in the console's outbox folder (it survives going offline and a
   *  restart); answers it with the url `staged:<id>` that `sendReply` takes. */
  stageAttachment: async (file: File) =>
    invoke<Attachment>("stage_attachment", new Uint8Array(await file.arrayBuffer()), {
      headers: { "x-file-name": encodeURIComponent(file.name), "x-file-type": file.type || "" },
    }),
  /** Forgets a staged file the agent removed before sending (`id` is the part after `staged:`). */
  discardAttachment: (id: string) => invoke<void>("discard_attachment", { id }),
  /** Queues a reply; `attachments` are staged urls, in order. With a file the body may be empty.
   *  `choices` are offered for the customer to answer with a tap (they need a body); the core
   *  refuses those the channel cannot carry. */
  sendReply: (conversation_id: number, body: string, attachments: string[] = [], choices: Choices | null = null) =>
    invoke<number>("send_reply", { conversation_id, body, attachments, choices }),
  addNote: (conversation_id: number, body: string) => invoke<number>("add_note", { conversation_id, body }),
  sendTemplate: (conversation_id: number, template: string, params: string[]) =>
    invoke<number>("send_template", { conversation_id, template, params }),
  /** Queues a first message to a customer (works offline); refused at once when the draft cannot go. */
  startConversation: (draft: NewConversation) => invoke<Started>("start_conversation", { draft }),
  /** The conversation a first message started, once the hub has it and it has synced; else null. */
  startedConversation: (client_msg_id: string) => invoke<number | null>("started_conversation", { client_msg_id }),
  reassign: (conversation_ids: number[], to: AssignTo) => invoke<number[]>("reassign", { conversation_ids, to }),
  setStatus: (conversation_id: number, status: ConversationStatus, snoozed_until: number | null) =>
    invoke<number>("set_status", { conversation_id, status, snoozed_until }),
  blockVisitor: (conversation_id: number, blocked: boolean) =>
    invoke<number>("block_visitor", { conversation_id, blocked }),
  setPresence: (presence: Presence) => invoke<number>("set_presence", { presence }),
  noteActivity: () => invoke<number | null>("note_activity"),
  /** The conversation the `switchboard://` link opened last goes to (taking it); null when
   *  no link waits. */
  takeLink: () => invoke<number | null>("take_link"),
  /** A newer console downloaded and verified, waiting for a restart; null when none. */
  pendingUpdate: () => invoke<UpdateReady | null>("pending_update"),
  /** Installs the waiting console and restarts into it (the agent chose to). */
  restartIntoUpdate: () => invoke<void>("restart_into_update"),
  /** The agent's notification preferences, as last saved on any of their consoles. */
  preferences: () => invoke<NotificationPreferences>("preferences"),
  /** Saves them: in force at once, synced to the agent's other consoles through the hub. */
  setPreferences: (preferences: NotificationPreferences) => invoke<number>("set_preferences", { preferences }),
  setLanguage: (language: string) => invoke<null>("set_language", { language }),
  awayAfterMins: () => invoke<number | null>("away_after_mins"),
  setAwayAfterMins: (mins: number | null) => invoke<void>("set_away_after_mins", { mins }),
  setPriority: (conversation_id: number, priority: Priority) =>
    invoke<number>("set_priority", { conversation_id, priority }),
  setRouting: (team_id: number, inbox_id: number | null, policy: RoutingPolicy | null) =>
    invoke<number>("set_routing", { team_id, inbox_id, policy }),
  setSla: (team_id: number, inbox_id: number | null, policy: SlaPolicy | null) =>
    invoke<number>("set_sla", { team_id, inbox_id, policy }),
  setConsent: (consent: SetConsent) => invoke<number>("set_consent", { consent }),
  setAgentRouting: (agent_id: number, change: { capacity?: number; paused?: boolean; skills?: string[] }) =>
    invoke<number>("set_agent_routing", {
      agent_id,
      capacity: change.capacity ?? null,
      paused: change.paused ?? null,
      skills: change.skills ?? null,
    }),
  markRead: (conversation_id: number) => invoke<number | null>("mark_read", { conversation_id }),
  mergeContacts: (into_contact_id: number, from_contact_id: number) =>
    invoke<number>("merge_contacts", { into_contact_id, from_contact_id }),
  queuedReplies: () => invoke<number>("queued_replies"),
  retry: (outbox_id: number) => invoke<void>("retry", { outbox_id }),
  discard: (outbox_id: number) => invoke<void>("discard", { outbox_id }),
  setOpenConversation: (conversation_id: number | null) => invoke<void>("set_open_conversation", { conversation_id }),
  openAttachment: (message_id: number, index: number) =>
    invoke<OpenedAttachment | null>("open_attachment", { message_id, index }),
  findContacts: (text: string) => invoke<Contact[]>("find_contacts", { text }),
  openCrmRecord: (contact_id: number) => invoke<void>("open_crm_record", { contact_id }),
  refreshCrm: (contact_id: number, force: boolean, by: string | null) =>
    invoke<number | null>("refresh_crm", { contact_id, force, by }),
  /** A lead's report for a period, from the hub, or the cached copy when the hub is out of reach. */
  report: (query: ReportQuery) => invoke<ReportView>("report", { query }),
  /** Writes the report as CSV to the Downloads folder; answers the file's path. */
  exportReport: (query: ReportQuery) => invoke<string>("export_report", { query }),
  /** The campaigns a lead may see, newest first, from the hub (campaigns need it). */
  campaigns: () => invoke<Campaign[]>("campaigns"),
  /** One campaign with its live progress. */
  campaign: (id: number) => invoke<Campaign>("campaign", { id }),
  /** What a campaign's audience holds (row by row problems, a preview of real rows); nothing is made. */
  checkCampaign: (spec: CampaignSpec) => invoke<AudienceCheck>("check_campaign", { spec }),
  /** Makes a campaign: a draft, or scheduled (now or later) when the spec has `scheduled_at`. */
  createCampaign: (spec: CampaignSpec) => invoke<Campaign>("create_campaign", { spec }),
  /** Schedules, unschedules, pauses, resumes or cancels a campaign; answers it as it now is. */
  campaignAction: (id: number, action: CampaignAction) => invoke<Campaign>("campaign_action", { id, action }),
  /** A page (200) of a campaign's results after row `after`, all of them or those in one state. */
  campaignRecipients: (id: number, state: RecipientState | null, after: number) =>
    invoke<RecipientPage>("campaign_recipients", { id, state, after }),
  /** Writes a campaign's results as CSV to the Downloads folder; answers the file's path. */
  exportCampaign: (id: number) => invoke<string>("export_campaign", { id }),
  segments: () => invoke<Segment[]>("segments"),
  createSegment: (segment: NewSegment) => invoke<Segment>("create_segment", { segment }),
  deleteSegment: (id: number) => invoke<void>("delete_segment", { id }),
};

/** Calls `handler` with every event of the core (sync, changes, notifications, outbox). */
export function onConsoleEvent(handler: (e: ConsoleEvent) => void): Promise<UnlistenFn> {
  return listen<ConsoleEvent>("console", (e) => handler(e.payload));
}

/** Calls `handler` with every event of the desktop shell. */
export function onShellEvent(handler: (e: ShellEvent) => void): Promise<UnlistenFn> {
  return listen<ShellEvent>("shell", (e) => handler(e.payload));
}
