// A fake console core for the dev harness (mock.html) and integration tests: deterministic
// demo data (any number of conversations), the commands of api.ts answered from memory, and
// console events pushed through a callback. Never part of the app's build.
//
// It decides no rule of the core: reply windows and refusals, which views hold a
// conversation and in which order, what each role is offered, what the team load counts and
// how search filters are looked up in ./fixtures/, which crates/core/tests/ui_fixtures.rs
// computes with the real core (regenerate with scripts/fixtures.sh). Two exceptions until the
// fixtures cover them: writing first (`start_conversation`), whose checks are transcribed from
// the core's `compose::refuse_start` (answered at once) and the hub's `rules::may_start` and
// `may_send` (answered later, as the outbox item's refusal); recording consent
// (`set_consent`), whose checks are the core's `set_consent` and whose record is the hub's
// `store::consent::record`; and campaigns and segments, which the hub runs: a small
// in-memory stand-in (an audience file read row by row, filters over the demo contacts,
// opted-out recipients skipped, sending at the inbox's rate as time passes) so the
// campaigns screen can be tried, not a copy of the hub's rules. Files staged for a reply
// keep only their name, type and size, checked against the limits of ../lib/files.ts;
// choices offered with a reply are checked with ../lib/choices.ts. One WhatsApp
// conversation's history shows choices offered and the customer's answer; one web chat's,
// a bot's answer and its handoff to people. The knowledge base is a demo shop's articles
// with a stand-in for the core's offline search (words anywhere), its Markdown renderer
// (escaped HTML, http(s) links only), its insertion (text on SMS, a link elsewhere) and its
// suggestions (words shared with the customer's last message); who may edit articles
// (leads and admins) stands in until the role fixtures list it. Saves made while the hub
// is out of reach (`hubReachable` false) stay pending, and article history needs the hub.
// Notification preferences are kept as saved, with the core's check of quiet hours.
import type { InvokeArgs, InvokeOptions } from "@tauri-apps/api/core";
import composeRules from "./fixtures/compose.json";
import roleRules from "./fixtures/roles.json";
import searchRules from "./fixtures/search.json";
import loadRules from "./fixtures/team_load.json";
import viewRules from "./fixtures/views.json";
import type { ChangeParts } from "../lib/changes";
import { refusal as choicesRefusal } from "../lib/choices";
import { MAX_FILE_BYTES, MAX_FILES, stagedId, tooLarge } from "../lib/files";
import { CHANNEL_LABEL, fillTemplate, templateParams } from "../lib/format";
import type {
  Agent,
  AgentLoad,
  ApiError,
  Article,
  ArticleDraft,
  ArticleEntry,
  ArticleHit,
  ArticleUse,
  ArticleVersion,
  Attachment,
  AudienceCheck,
  Campaign,
  CampaignAction,
  CampaignSpec,
  CannedDraft,
  CannedOption,
  ChannelKind,
  Choices,
  Composer,
  Consent,
  ConsoleEvent,
  Condition,
  Contact,
  ContactFilter,
  ConversationRow,
  ConversationStatus,
  DemoLogin,
  Directory,
  HandoffReason,
  History,
  Identity,
  Inbox,
  Insert,
  NewConversation,
  NewSegment,
  OutboxItem,
  Presence,
  Priority,
  Profile,
  RecipientResult,
  RecipientState,
  ReplyWindow,
  Report,
  ReportQuery,
  ReportView,
  RoutingPolicy,
  RowProblem,
  SearchHit,
  NotificationPreferences,
  Segment,
  SlaPolicy,
  SearchQuery,
  Session,
  SetConsent,
  Started,
  Team,
  ThreadLine,
  UpdateReady,
  View,
  ViewCount,
} from "../lib/protocol";

/** Some demo customers' consent: STOP on the address they opted out on (every 26th
 *  customer's opt-out is older than the records and has none), marketing from an audience
 *  file, an unsubscribe link on email, and an agent's record. */
function demoConsents(c: number, identities: Identity[], now: number): Consent[] {
  const out: Consent[] = [];
  const first = identities[0];
  if (!first) return out;
  const at = (days: number) => now - days * 86_400_000 - (c % 24) * 3_600_000;
  if (c % 13 === 0) {
    if (c % 26 !== 0) {
      for (const purpose of ["service", "marketing"] as const) {
        out.push({ ...first, purpose, granted: false, source: "keyword", evidence: "STOP", at: at(3) });
      }
    }
    return out;
  }
  if (c % 5 === 0) out.push({ ...first, purpose: "marketing", granted: true, source: "import", evidence: `spring-offers.csv row ${c}`, at: at(40) });
  const email = identities.find((i) => i.channel === "email");
  if (email && c % 4 === 0) out.push({ ...email, purpose: "marketing", granted: false, source: "unsubscribe", evidence: `https://mail.example.com/u/${c}`, at: at(12) });
  if (c % 7 === 0) {
    const reason = "Asked on a call for order updates by text";
    out.push({ ...first, purpose: "service", granted: true, source: "agent", evidence: reason, reason, by_agent_id: 3, at: at(8) });
  }
  return out;
}

const FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gabriel", "Hana", "Ivan", "Jade", "Kofi", "Lucía", "Mateo", "Nour", "Olu", "Priya", "Quinn", "Rafael", "Sofia", "Tomás", "Uma", "Viktor", "Wen", "Yusuf", "Zoë"];
const LAST = ["García", "Nguyen", "Okafor", "Schmidt", "Tanaka", "Rossi", "Kowalski", "Haddad", "Silva", "Müller", "Andersson", "Dubois", "Patel", "O'Brien", "Novak"];
const CHANNELS: ChannelKind[] = ["sms", "whatsapp", "messenger", "instagram", "webchat", "in_app", "email"];
const TEXTS = [
  "Hi, where is my order #4821? It was due yesterday.",
  "Can I change the delivery address to 12 Rue de Rivoli?",
  "The app crashes when I open the payments tab 😕",
  "Thanks so much, that fixed it!",
  "Is there a discount for annual plans?",
  "I was charged twice this month — can you refund one?",
  "Olá! Preciso de ajuda com o pedido nº 42 🙏",
  "Check this <img src=x onerror=alert(1)> and <a href=\"javascript:alert(2)\">this link</a>",
  "注文の配達状況を教えてください",
  "My password reset email never arrived.",
];
const REPLIES = [
  "Thanks for reaching out! Let me check that for you.",
  "I've updated the address — you'll get a confirmation shortly.",
  "Sorry about that. Could you tell me which version of the app you're on?",
  "The refund is on its way; it takes 3–5 business days.",
];

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

/** The one entry of a fixture table that `matches`; a missing one is a gap in the fixture. */
function lookup<T>(table: readonly T[], what: string, matches: (entry: T) => boolean): T {
  const found = table.find(matches);
  if (found === undefined) throw new Error(`mockCore: the fixtures have no ${what}; regenerate them (scripts/fixtures.sh)`);
  return found;
}

type Expiry = "none" | "before" | "at" | "after";

/** How a reply window's end stands to `now`: the key of the compose tables. */
function expiry(expiresAt: number | null, now: number): Expiry {
  if (expiresAt === null) return "none";
  return expiresAt < now ? "before" : expiresAt === now ? "at" : "after";
}

/** The reply window and refusal of a route, as the core's `compose` decides them. */
export function route(channel: ChannelKind, expiresAt: number | null, optedOut: boolean, now: number) {
  const e = expiry(expiresAt, now);
  const entry = lookup(composeRules.routes, `route for ${channel} ${e}`, (r) => r.channel === channel && r.expires === e && r.opted_out === optedOut);
  // The table's window carries the example's end time; this route's goes in its place.
  const window = Object.fromEntries(
    Object.entries(entry.window).map(([k, v]) => [k, v === entry.example_expires_at && k !== "state" ? expiresAt : v]),
  ) as ReplyWindow;
  return { window, refusal: entry.refusal as ApiError | null };
}

/** Why the core's `send_reply` refuses a reply at once, if it does. */
export function sendRefusal(channel: ChannelKind, expiresAt: number | null, optedOut: boolean, now: number): ApiError | null {
  const e = expiry(expiresAt, now);
  const entry = lookup(composeRules.send_reply, `send_reply case for ${channel} ${e}`, (r) => r.channel === channel && r.expires === e && r.opted_out === optedOut);
  return entry.refusal as ApiError | null;
}

/** The byte ranges of the words of `text` that a search for `query` highlights, or null when
 *  it does not match: every word of the query starts a word of the text, letters compared
 *  without case or accents. Checked against the core's search by mockCore.test.ts. */
export function matchWords(query: string, text: string): Array<[number, number]> | null {
  const fold = (w: string) => w.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  const terms = [...query.matchAll(/[\p{L}\p{N}\p{M}]+/gu)].map((m) => fold(m[0])).slice(0, 16);
  if (!terms.length) return null;
  const words = [...text.matchAll(/[\p{L}\p{N}\p{M}]+/gu)].map((m) => ({ at: m.index, word: m[0], folded: fold(m[0]) }));
  if (!terms.every((t) => words.some((w) => w.folded.startsWith(t)))) return null;
  const enc = new TextEncoder();
  return words
    .filter((w) => terms.some((t) => w.folded.startsWith(t)))
    .map((w) => {
      const start = enc.encode(text.slice(0, w.at)).length;
      return [start, start + enc.encode(w.word).length] as [number, number];
    });
}

const ORDERS: Record<string, (a: ConversationRow, b: ConversationRow) => number> = {
  last_activity_desc: (a, b) => b.last_activity_at - a.last_activity_at || b.id - a.id,
  waiting_since_asc: (a, b) => (a.waiting_since ?? Infinity) - (b.waiting_since ?? Infinity) || b.id - a.id,
};

/** The day number (days since 1970, UTC) of a real `YYYY-MM-DD`, else null. */
function dayNumber(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === date ? t / 86_400_000 : null;
}

/** A number for a string, to seed a day's made-up volume. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Splits `total` by `weights` into whole numbers that add up to it (largest remainders). */
function share(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0) || 1;
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map(Math.floor);
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    out[i] = (out[i] ?? 0) + 1;
    left--;
  }
  return out;
}

/** The WhatsApp inboxes' approved templates (the ones the composer offers). */
const WHATSAPP_TEMPLATES = [
  { name: "order_update", language: "en_US", body: "Hi {{1}}, your order {{2}} has shipped." },
  { name: "follow_up", language: "en_US", body: "Hi {{1}}, just checking in — is there anything else we can help with?" },
];

const badRequest = (message: string): ApiError => ({ code: "bad_request", message });

/** An address as the hub keeps it on `channel` (E.164 for phones, numbers without a country
 *  taken as US; lower-case email), or null when it is not one. */
function normalizeAddress(channel: ChannelKind, text: string): string | null {
  const t = text.trim();
  if (channel === "email") return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(t) ? t.toLowerCase() : null;
  if (channel !== "sms" && channel !== "whatsapp") return t || null;
  const digits = t.replace(/\D/g, "");
  if (!/^\+?[\d\s().-]+$/.test(t) || digits.length < 7 || digits.length > 15) return null;
  return t.startsWith("+") ? `+${digits}` : digits.length === 10 ? `+1${digits}` : `+${digits}`;
}

/** An inbox that follows its team's routing and targets. */
function inbox(id: number, kind: ChannelKind, name: string, team_id: number, address: string): Inbox {
  return { id, kind, name, team_id, address, templates: kind === "whatsapp" ? WHATSAPP_TEMPLATES : [], version: 1 };
}

/** How a channel's share of the made-up volume compares with the others. */
const CHANNEL_WEIGHT: Record<ChannelKind, number> = { whatsapp: 30, webchat: 20, email: 15, sms: 12, messenger: 10, instagram: 8, in_app: 5 };

/** The rows of a CSV text: fields split on commas, "quoted" fields (with "" for a quote and
 *  line breaks inside), CRLF or LF line ends; blank lines dropped. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  const t = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < t.length; i++) {
    const ch = t[i]!;
    if (quoted) {
      if (ch === '"' && t[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"' && field === "") quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && t[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ""));
}

/** The channels a campaign sends on, and the messages a second each sends (made up). */
const CAMPAIGN_RATE: Partial<Record<ChannelKind, number>> = { sms: 3, whatsapp: 20, email: 14, messenger: 10, instagram: 10 };

/** Why a send on `channel` failed, for the made-up failures. */
const CAMPAIGN_FAILURE: Partial<Record<ChannelKind, string>> = {
  sms: "Twilio 30006: the number is a landline or unreachable",
  whatsapp: "the number is not on WhatsApp",
  email: "the mailbox does not exist (bounced)",
  messenger: "the person can no longer be reached on this page",
  instagram: "the person can no longer be reached on this account",
};

/** One recipient a campaign plans, before it is sent. */
interface Planned {
  row: number;
  address: string;
  name: string;
  params: string[];
  /** Why it will not be sent (opted out, no consent, a bad row of a filter). */
  skip?: string | undefined;
}

const unreachableHub = (): ApiError => ({ code: "unavailable", message: "the hub cannot be reached: connection refused" });

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A `changed` event naming what changed; every other flag false. */
function changedEvent(parts: Partial<ChangeParts>): ConsoleEvent {
  return {
    type: "changed",
    conversations: [],
    read: [],
    contacts: [],
    directory: false,
    canned: false,
    articles: false,
    everything: false,
    ...parts,
  };
}

/** Where the demo shop's help centre shows its articles. */
const HELP_URL = "https://help.northwind.example/help/articles";

/** The demo shop's knowledge base: published articles in three collections, one in
 *  Portuguese, and a draft. */
function demoArticles(now: number): Article[] {
  const day = 86_400_000;
  const a = (id: number, key: string, title: string, collection: string, tags: string[], body: string, extra: Partial<Article> = {}): Article => ({
    id,
    key,
    title,
    body,
    tags,
    locale: "en",
    collection,
    status: "published",
    updated_by: 3,
    updated_at: now - id * 3 * day,
    version: 1,
    ...extra,
  });
  return [
    a(1, "returns", "How to return an item", "Orders & returns", ["returns", "refund"], "You can return anything unworn and unwashed within **30 days** of delivery.\n\n1. Open *Orders* in your account and choose the order.\n2. Choose **Return items** and print the label.\n3. Drop the parcel at any post office.\n\nThe refund goes back to the card you paid with once the parcel reaches us. See [refund times](https://help.northwind.example/help/articles/refund-times).", { version: 2 }),
    a(2, "refund-times", "When will I get my refund?", "Orders & returns", ["refund", "payments"], "Refunds are sent within 2 business days of your return reaching our warehouse.\n\nYour bank then takes **3–5 business days** to show it on your statement."),
    a(3, "shipping-times", "Shipping times and costs", "Shipping", ["shipping", "delivery"], "## Standard\n\n3–5 business days, free over $50.\n\n## Express\n\nNext business day when ordered before 14:00, $9.95."),
    a(4, "track-order", "Tracking your order", "Shipping", ["tracking", "order", "delivery"], "Every order gets a tracking link by email as soon as it leaves the warehouse.\n\n- Open *Orders* in your account to see where your parcel is.\n- No tracking after 2 days? Write to us with your order number."),
    a(5, "reset-password", "Resetting your password", "Your account", ["password", "login", "account"], "1. On the sign-in page choose **Forgot password**.\n2. Enter the email address you signed up with.\n3. Open the link we send you within an hour.\n\nNo email after 10 minutes? Check your spam folder, then write to us."),
    a(6, "devolucoes", "Como devolver um artigo", "Orders & returns", ["devolução", "reembolso"], "Pode devolver qualquer artigo por usar no prazo de **30 dias** após a entrega.", { locale: "pt-BR" }),
    a(7, "gift-cards", "Paying with gift cards", "Payments", ["gift card", "payments"], "Gift cards can be used for any order on the website. *Coming with the spring launch.*", { status: "draft", updated_by: 3, updated_at: now - day }),
  ];
}

/** Markdown as plain text: emphasis, headings and list marks dropped, links as their text. */
function plainText(markdown: string): string {
  return markdown
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, "$1")
    .replace(/^#{1,6}\s+/gm, "")
    .replace(/^\s*(?:[-*]|\d+\.)\s+/gm, "")
    .replace(/\*\*|\*|`/g, "")
    .trim();
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

/** A small stand-in for the core's Markdown renderer: HTML escaped, headings, paragraphs,
 *  lists, bold and italics, and links to http(s) addresses only. */
export function renderMarkdown(markdown: string): string {
  const inline = (t: string) =>
    escapeHtml(t)
      .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
      .replace(/\*(.+?)\*/g, "<em>$1</em>")
      .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2">$1</a>');
  return markdown
    .replace(/\r\n?/g, "\n")
    .split(/\n\s*\n/)
    .map((block) => block.trim())
    .filter(Boolean)
    .map((block) => {
      const lines = block.split("\n");
      const heading = /^(#{1,6})\s+(.*)$/.exec(block);
      if (heading && lines.length === 1) {
        const level = Math.min(6, (heading[1] ?? "#").length + 1);
        return `<h${level}>${inline(heading[2] ?? "")}</h${level}>`;
      }
      if (lines.every((l) => /^\s*[-*]\s+/.test(l))) return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*]\s+/, ""))}</li>`).join("")}</ul>`;
      if (lines.every((l) => /^\s*\d+\.\s+/.test(l))) return `<ol>${lines.map((l) => `<li>${inline(l.replace(/^\s*\d+\.\s+/, ""))}</li>`).join("")}</ol>`;
      return `<p>${lines.map(inline).join("<br>")}</p>`;
    })
    .join("\n");
}

/** Where customers read an article, as the core works it out: published articles in the
 *  help centre under their key; a draft has no address. */
function articleUrl(a: Pick<Article, "key" | "status">): string | null {
  return a.status === "published" ? `${HELP_URL}/${a.key}` : null;
}

/** An article as a search hit. */
function articleHit(a: Article): ArticleHit {
  const text = plainText(a.body).replace(/\s+/g, " ");
  return { id: a.id, key: a.key, title: a.title, collection: a.collection, locale: a.locale, status: a.status, snippet: text.length > 140 ? `${text.slice(0, 139)}…` : text, url: articleUrl(a) };
}

/** An article's key, made from its title as the hub makes it. */
function articleKey(title: string, taken: (key: string) => boolean): string {
  const base =
    title
      .normalize("NFD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 60) || "article";
  let key = base;
  for (let n = 2; taken(key); n++) key = `${base}-${n}`;
  return key;
}

export interface MockOptions {
  conversations?: number;
  now?: number;
  /** Sign in automatically as this email (else `session` answers null). */
  signedInAs?: string | null;
}

export class MockCore {
  now: number;
  me: Agent;
  agents: Agent[];
  teams: Team[] = [
    { id: 1, name: "Support", routing: { mode: "manual", sticky: false, skills: [] }, version: 1 },
    { id: 2, name: "Billing", routing: { mode: "manual", sticky: false, skills: [] }, version: 1 },
  ];
  /** Support answers on every channel; Billing has its own mailbox and WhatsApp number. A
   *  conversation is in its team's inbox of its channel, else in Support's (it was moved). */
  inboxes: Inbox[] = [
    inbox(1, "sms", "SMS · +1 415 555 0100", 1, "+14155550100"),
    inbox(2, "whatsapp", "WhatsApp · Northwind", 1, "+14155550101"),
    inbox(3, "messenger", "Messenger · Northwind", 1, "104857600012345"),
    inbox(4, "instagram", "Instagram · @northwind", 1, "17841400000000000"),
    inbox(5, "webchat", "Web chat · northwind.example", 1, "northwind-widget"),
    inbox(6, "in_app", "Northwind app", 1, "northwind-app"),
    inbox(7, "email", "support@northwind.example", 1, "support@northwind.example"),
    inbox(8, "email", "billing@northwind.example", 2, "billing@northwind.example"),
    inbox(9, "whatsapp", "WhatsApp · Northwind Billing", 2, "+14155550102"),
  ];
  contacts = new Map<number, Contact>();
  rows: ConversationRow[] = [];
  lines = new Map<number, ThreadLine[]>();
  outboxItems: OutboxItem[] = [];
  canned: CannedOption[] = [
    { id: 1, key: "thanks", shortcut: "thanks", title: "Thank you", body: "Thanks {{customer.first_name}}!", owner_id: null, updated_by: null, updated_at: 0, version: 1, pending: false, editable: false },
    { id: 2, key: "refund", shortcut: "refund", title: "Refund policy", body: "Refunds take 3–5 business days.", owner_id: null, updated_by: null, updated_at: 0, version: 1, pending: false, editable: false },
    { id: 3, key: "hours", shortcut: "hours", title: "Opening hours", body: "We're here 9:00–17:00, Monday to Friday.", owner_id: null, updated_by: null, updated_at: 0, version: 1, pending: false, editable: false },
  ];
  session: Session | null = null;
  awayAfter: number | null = 10;
  /** A `switchboard://` link's conversation waiting to be taken. */
  link: number | null = null;
  /** A newer console the shell has downloaded and verified, as `pending_update` reports it. */
  update: UpdateReady | null = null;
  /** How many times the agent chose to restart into the update. */
  restarts = 0;
  preferences: NotificationPreferences = {
    customer_replied: true,
    assigned: true,
    sla: true,
    snooze_woke: true,
    muted_inboxes: [],
    do_not_disturb_until: null,
    quiet_hours: null,
    sound: true,
    show_text: true,
  };
  emit: (e: ConsoleEvent) => void = () => {};
  /** Where reports come from: the hub, the cache (offline, fetched three hours ago), or
   *  nowhere (offline with no cached copy). */
  reportSource: "hub" | "cache" | "none" = "hub";
  calls: Array<{ cmd: string; args: InvokeArgs }> = [];
  /** The files staged for replies and not yet sent or discarded, by id. */
  staged = new Map<string, Attachment>();
  #nextStaged = 1;
  /** How long after answering `start_conversation` the "hub" applies the message. */
  hubDelayMs = 0;
  #nextId = 10_000_000;
  /** The conversation each first message started, by its client_msg_id. */
  #started = new Map<string, number>();
  campaigns: Campaign[] = [];
  /** Each campaign's recipients, by row. */
  recipients = new Map<number, RecipientResult[]>();
  segments: Segment[] = [];
  /** Whether the hub answers campaign commands (false: as when it cannot be reached). */
  hubReachable = true;
  /** When each sending campaign last sent, and the part of a message it is owed. */
  #sending = new Map<number, { at: number; credit: number }>();
  #nextCampaign = 1;
  /** The knowledge base, drafts included. */
  articles: Article[];
  /** Each article's versions, newest first, by its id. */
  articleHistory = new Map<number, ArticleVersion[]>();
  /** The articles saved while the hub could not be reached (`hubReachable` false): shown at
   *  once, not confirmed yet. */
  pendingArticles = new Set<string>();
  #nextArticle = 100;

  constructor(opts: MockOptions = {}) {
    this.now = opts.now ?? Date.now();
    this.agents = [
      { id: 1, name: "Ada Agent", email: "ada@demo.switchboard", role: "agent", teams: [1], capacity: 8, presence: "online", disabled: false, skills: [], routing_paused: false, version: 1 },
      { id: 2, name: "Bruno Agent", email: "bruno@demo.switchboard", role: "agent", teams: [1, 2], capacity: 6, presence: "away", disabled: false, skills: [], routing_paused: false, version: 1 },
      { id: 3, name: "Lena Lead", email: "lena@demo.switchboard", role: "lead", teams: [1, 2], capacity: 4, presence: "online", disabled: false, skills: [], routing_paused: false, version: 1 },
      { id: 4, name: "Omar Agent", email: "omar@demo.switchboard", role: "agent", teams: [2], capacity: 8, presence: "offline", disabled: false, skills: [], routing_paused: false, version: 1 },
    ];
    this.me = this.agents[0] as Agent;
    this.generate(opts.conversations ?? 1200);
    this.seedCampaigns();
    this.articles = demoArticles(this.now);
    this.seedArticleHistory();
    if (opts.signedInAs) this.signIn(opts.signedInAs);
  }

  signIn(email: string): Session {
    const a = this.agents.find((x) => x.email === email) ?? (this.agents[0] as Agent);
    this.me = a;
    this.session = { hub: "http://127.0.0.1:8080", email: a.email, demo: true };
    return this.session;
  }

  generate(n: number) {
    const r = rng(42);
    const contacts = Math.max(1, Math.ceil(n / 1.6));
    for (let c = 1; c <= contacts; c++) {
      const name = `${pick(r, FIRST)} ${pick(r, LAST)}`;
      const chans = [pick(r, CHANNELS)];
      if (r() < 0.5) chans.push(pick(r, CHANNELS));
      const identities: Identity[] = [...new Set(chans)].map((ch) => ({
        channel: ch,
        address: ch === "email" ? `${name.split(" ")[0]!.toLowerCase()}${c}@example.com` : ch === "sms" || ch === "whatsapp" ? `+1415555${String(c).padStart(4, "0")}` : `psid-${c}`,
      }));
      this.contacts.set(c, {
        id: c,
        name,
        identities,
        profile: { company: pick(r, ["Acme", "Globex", "Initech", "Umbrella"]), city: pick(r, ["Lisbon", "Lagos", "Osaka", "Austin"]), plan: pick(r, ["Free", "Pro", "Enterprise"]) },
        crm:
          c % 3 === 0
            ? null
            : {
                source: "hubspot",
                fields: [
                  { key: "lifecycle", label: "Lifecycle stage", value: "Customer" },
                  { key: "ltv", label: "Lifetime value", value: `$${(c * 37) % 9000}` },
                  { key: "owner", label: "Account owner", value: "Lena Lead" },
                ],
                fetched_at: this.now - ((c * 7) % 50) * 60_000,
                link: c % 2 === 0 ? `https://crm.example.com/contacts/${c}` : null,
                error: c % 11 === 0 ? "HubSpot asked to slow down; trying again in 10 s" : null,
                record_id: `${75_000 + c}`,
                searched: identities.map((i) => i.address),
                others: [],
              },
        opted_out: c % 13 === 0 && identities[0] ? [identities[0]] : [],
        consents: demoConsents(c, identities, this.now),
        created_at: this.now - 90 * 86_400_000,
        updated_at: this.now,
        version: 1,
      });
    }
    for (let i = 0; i < n; i++) {
      const contactId = (i % contacts) + 1;
      const contact = this.contacts.get(contactId) as Contact;
      const ident = contact.identities[Math.floor(i / contacts) % contact.identities.length] as Identity;
      const status: ConversationStatus = r() < 0.7 ? "open" : r() < 0.5 ? "pending" : r() < 0.5 ? "snoozed" : "resolved";
      const waiting = status === "open" && r() < 0.6;
      const last = this.now - Math.floor(r() * 5 * 86_400_000);
      const assignee = r() < 0.3 ? null : pick(r, this.agents).id;
      const team = r() < 0.7 ? 1 : 2;
      this.rows.push({
        id: i + 1,
        contact_id: contactId,
        contact_name: contact.name,
        channel: ident.channel,
        customer_address: ident.address,
        inbox_id: this.inboxFor(ident.channel, team).id,
        status,
        assignee_id: assignee,
        team_id: team,
        preview: pick(r, TEXTS),
        waiting_since: waiting ? last : null,
        last_activity_at: last,
        snoozed_until: status === "snoozed" ? this.now + 86_400_000 : null,
        reply_window_expires_at: ident.channel === "whatsapp" || ident.channel === "messenger" || ident.channel === "instagram" ? (r() < 0.6 ? last + 86_400_000 : this.now - 1000) : null,
        unread: r() < 0.25,
        priority: "normal",
        sla_state: "ok",
        version: 1,
      });
    }
  }

  /** What `set_routing` and `set_sla` change: the team's policy, or (with an inbox) that
   *  inbox's own, which must be one of the team's — refused as the hub refuses it. */
  policyTarget(teamId: number, inboxId: number | null): { team: Team; box: Inbox | null } {
    const team = this.teams.find((t) => t.id === teamId);
    if (!team) throw { code: "not_found", message: "team not found" } satisfies ApiError;
    if (inboxId == null) return { team, box: null };
    const box = this.inboxes.find((i) => i.id === inboxId);
    if (!box) throw { code: "not_found", message: "inbox not found" } satisfies ApiError;
    if (box.team_id !== teamId) throw { code: "bad_request", message: `inbox ${inboxId} is not team ${teamId}'s` } satisfies ApiError;
    return { team, box };
  }

  /** The team's inbox on `channel`, else Support's. */
  inboxFor(channel: ChannelKind, teamId: number): Inbox {
    const on = this.inboxes.filter((i) => i.kind === channel);
    return (on.find((i) => i.team_id === teamId) ?? on.find((i) => i.team_id === 1) ?? this.inboxes[0]) as Inbox;
  }

  conversationsOf(contactId: number): ConversationRow[] {
    return this.rows.filter((r) => r.contact_id === contactId);
  }

  history(contactId: number): ThreadLine[] {
    const have = this.lines.get(contactId);
    if (have) return have;
    const r = rng(contactId * 7919);
    const convs = this.conversationsOf(contactId);
    const out: ThreadLine[] = [];
    const count = 6 + Math.floor(r() * 30);
    let at = this.now - 4 * 86_400_000;
    for (let k = 0; k < count; k++) {
      const c = pick(r, convs.length ? convs : this.rows.slice(0, 1));
      at += Math.floor(r() * 8 * 3_600_000);
      if (at > this.now - 60_000) at = this.now - (count - k) * 60_000;
      const dir = r();
      const direction = dir < 0.5 ? "inbound" : dir < 0.85 ? "outbound" : dir < 0.95 ? "note" : "system";
      out.push({
        id: contactId * 1000 + k,
        conversation_id: c.id,
        channel: c.channel,
        direction,
        author_agent_id: direction === "outbound" || direction === "note" ? 1 : null,
        author_name: direction === "outbound" || direction === "note" ? pick(r, this.agents).name : null,
        body:
          direction === "inbound"
            ? pick(r, TEXTS)
            : direction === "outbound"
              ? pick(r, REPLIES)
              : direction === "note"
                ? "Customer is on the Enterprise plan — loop in billing before refunding."
                : "Conversation assigned to Ada Agent",
        subject: c.channel === "email" && direction === "inbound" ? "Order question" : null,
        attachments: r() < 0.1 ? [{ name: "receipt.pdf", mime: "application/pdf", size: 48_213, url: "" }] : [],
        client_msg_id: null,
        delivery: direction === "outbound" ? pick(r, ["sent", "delivered", "read", "read", "failed"] as const) : null,
        delivery_error: null,
        choices: null,
        chosen: null,
        bot: null,
        outbox: null,
        created_at: at,
      });
      const last = out[out.length - 1]!;
      if (last.delivery === "failed") last.delivery_error = "Twilio 30007: message filtered as spam";
    }
    const demo = this.choicesDemo();
    if (demo?.contact_id === contactId) out.push(...this.choicesAnswered(demo));
    const bot = this.botDemo();
    if (bot?.contact_id === contactId) out.push(...this.botHandedOver(bot));
    this.lines.set(contactId, out);
    return out;
  }

  /** The WhatsApp conversation whose history ends with choices offered and answered: the
   *  first one the agent can still reply to (its window open, the customer not opted out). */
  choicesDemo(): ConversationRow | undefined {
    return this.rows.find(
      (r) =>
        r.channel === "whatsapp" &&
        r.reply_window_expires_at !== null &&
        r.reply_window_expires_at > this.now &&
        !this.contacts.get(r.contact_id)?.opted_out.some((o) => o.channel === r.channel && o.address === r.customer_address),
    );
  }

  /** An agent's line offering a list of times, and the customer's tap on one of them. */
  choicesAnswered(row: ConversationRow): ThreadLine[] {
    const offered = row.contact_id * 1000 + 900;
    const line = { conversation_id: row.id, channel: row.channel, subject: null, attachments: [], client_msg_id: null, delivery_error: null, bot: null, outbox: null };
    const where = "At the shop on Main Street";
    return [
      {
        ...line,
        id: offered,
        direction: "outbound",
        author_agent_id: 1,
        author_name: "Ada Agent",
        body: "We can fit your repair in this week. Which time suits you?",
        delivery: "read",
        choices: {
          style: "list",
          button: "See times",
          options: [
            { id: "tuesday-1000", title: "Tuesday 10:00", description: where },
            { id: "wednesday-1430", title: "Wednesday 14:30", description: where },
            { id: "friday-0900", title: "Friday 09:00", description: "A video call" },
          ],
        },
        chosen: null,
        created_at: this.now - 45_000,
      },
      {
        ...line,
        id: offered + 1,
        direction: "inbound",
        author_agent_id: null,
        author_name: null,
        body: "Wednesday 14:30",
        delivery: null,
        choices: null,
        chosen: { id: "wednesday-1430", title: "Wednesday 14:30", offered_in: offered },
        created_at: this.now - 30_000,
      },
    ];
  }

  /** The web-chat conversation whose history ends with a bot's answer and its handoff to
   *  people: the first one of a customer other than the choices demo's. */
  botDemo(): ConversationRow | undefined {
    const choices = this.choicesDemo()?.contact_id;
    return this.rows.find((r) => r.channel === "webchat" && r.contact_id !== choices);
  }

  /** A customer's question, the bot's answer from an article, and the bot handing over. */
  botHandedOver(row: ConversationRow): ThreadLine[] {
    const base = row.contact_id * 1000 + 950;
    const line = { conversation_id: row.id, channel: row.channel, subject: null, attachments: [], client_msg_id: null, delivery: null, delivery_error: null, choices: null, chosen: null, outbox: null, author_agent_id: null, author_name: null };
    return [
      { ...line, id: base, direction: "inbound", body: "Hi! How do I return shoes I bought five weeks ago?", bot: null, created_at: this.now - 55_000 },
      {
        ...line,
        id: base + 1,
        direction: "outbound",
        body: `You can return anything unworn within 30 days of delivery: open Orders in your account and choose Return items. More in “How to return an item”: ${HELP_URL}/returns`,
        delivery: "read",
        bot: "Northwind Assistant",
        created_at: this.now - 50_000,
      },
      { ...line, id: base + 2, direction: "inbound", body: "It's past 30 days, they were a present. Can I talk to a person?", bot: null, created_at: this.now - 45_000 },
      {
        ...line,
        id: base + 3,
        direction: "system",
        body: "Handed over by the bot: the customer asked for a person. They want to return shoes bought five weeks ago as a present, past the 30-day return window; the bot answered with “How to return an item” and they said it did not cover their case.",
        bot: null,
        created_at: this.now - 40_000,
      },
    ];
  }

  /** The key the view table files a conversation under, as it stands to the signed-in agent. */
  caseKey(r: ConversationRow): string {
    const assignee = r.assignee_id === this.me.id ? "me" : r.assignee_id === null ? "none" : "other";
    const team = this.me.teams.includes(r.team_id) ? "mine" : "other";
    return `${r.status}|${assignee}|${team}|${r.waiting_since !== null ? "waiting" : "answered"}`;
  }

  filter(view: View): ConversationRow[] {
    const members: Record<string, string[]> = viewRules.members[this.me.role];
    // A view the fixtures do not know yet (one newer than they are) has no order: a gap.
    const ordering = (viewRules.order as Record<string, string>)[view] ?? `(none for ${view})`;
    const order = ORDERS[ordering];
    if (!order) throw new Error(`mockCore: no order ${ordering}; regenerate the fixtures (scripts/fixtures.sh)`);
    return this.rows
      .filter((r) => {
        const views = members[this.caseKey(r)];
        if (!views) throw new Error(`mockCore: the view fixture has no case ${this.caseKey(r)}; regenerate it (scripts/fixtures.sh)`);
        return views.includes(view);
      })
      .sort(order);
  }

  #cachedFilter = new Map<View, ConversationRow[]>();

  viewRows(view: View): ConversationRow[] {
    let v = this.#cachedFilter.get(view);
    if (!v) {
      v = this.filter(view);
      this.#cachedFilter.set(view, v);
    }
    return v;
  }

  changed(conversations: number[], contacts: number[] = []) {
    this.#cachedFilter.clear();
    this.emit(changedEvent({ conversations, contacts }));
  }

  /** The canned responses as the signed-in agent sees them: the shared ones and their own. */
  cannedFor(): CannedOption[] {
    const may = roleRules.canned_editable[this.me.role];
    return this.canned
      .filter((c) => c.owner_id === null || c.owner_id === this.me.id)
      .map((c) => ({ ...c, editable: c.owner_id === null ? may.shared : c.owner_id === this.me.id ? may.own : may.others }))
      .sort((x, y) => x.shortcut.localeCompare(y.shortcut));
  }

  /** A customer writes (the harness calls this on a timer). */
  customerWrites(conversationId: number, body: string) {
    const row = this.rows.find((r) => r.id === conversationId);
    if (!row) return;
    const lines = this.history(row.contact_id);
    lines.push({
      id: this.#nextId++,
      conversation_id: row.id,
      channel: row.channel,
      direction: "inbound",
      author_agent_id: null,
      author_name: null,
      body,
      subject: null,
      attachments: [],
      client_msg_id: null,
      delivery: null,
      delivery_error: null,
      choices: null,
      chosen: null,
      bot: null,
      outbox: null,
      created_at: Date.now(),
    });
    row.preview = body;
    row.unread = true;
    row.last_activity_at = Date.now();
    row.waiting_since ??= Date.now();
    this.changed([row.id], []);
  }

  directory(): Directory {
    // The core lists the inboxes by name.
    const inboxes = [...this.inboxes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const permissions = roleRules.permissions[this.me.role];
    return { me: this.me, permissions, agents: this.agents, teams: this.teams, inboxes };
  }

  /** A made-up report, the same for the same query: each day's volume comes from the day
   *  (and team), so a shorter period is part of a longer one. */
  report(q: ReportQuery): Report {
    const first = dayNumber(q.from);
    const last = dayNumber(q.to);
    if (first === null || last === null) throw { code: "bad_request", message: "a report's days are YYYY-MM-DD" };
    if (first > last) throw { code: "bad_request", message: "the first day is after the last" };
    if (last - first + 1 > 366) throw { code: "bad_request", message: "a report covers at most 366 days" };
    const teamShare = q.team_id === undefined ? 1 : q.team_id === 1 ? 0.7 : 0.3;
    const by_day = [];
    for (let n = first; n <= last; n++) {
      const date = new Date(n * 86_400_000).toISOString().slice(0, 10);
      const r = rng(hash(`${date}|${q.team_id ?? ""}`));
      const weekday = new Date(n * 86_400_000).getUTCDay();
      const base = weekday === 0 || weekday === 6 ? 14 : 42;
      const conversations = Math.round(base * teamShare * (0.7 + 0.6 * r()));
      by_day.push({ date, conversations, resolved: Math.min(conversations + 3, Math.round(conversations * (0.8 + 0.25 * r()))) });
    }
    const conversations = by_day.reduce((a, d) => a + d.conversations, 0);
    const resolved = by_day.reduce((a, d) => a + d.resolved, 0);
    const r = rng(hash(`${q.from}|${q.to}|${q.team_id ?? ""}`));
    const days = by_day.length;
    const hourWeights = Array.from({ length: 24 }, (_, h) => 0.15 + Math.exp(-((h - 13) ** 2) / 14));
    const channels = CHANNELS.filter((c) => r() < 0.92);
    const byChannel = share(conversations, channels.map((c) => CHANNEL_WEIGHT[c]));
    const durations = (count: number, medianMins: number, spread: number) =>
      count === 0 ? { count, median_ms: null, p90_ms: null } : { count, median_ms: Math.round(medianMins * 60_000), p90_ms: Math.round(medianMins * spread * 60_000) };
    const agents = this.agents.filter((a) => a.role !== "admin" && (q.team_id === undefined || a.teams.includes(q.team_id)));
    const handled = share(resolved, agents.map(() => 0.5 + r()));
    const target = (t: "first_response" | "next_response" | "resolution", count: number, rate: number) => {
      const met = Math.round(count * rate);
      return { target: t, met, missed: count - met };
    };
    const responses = Math.round(resolved * 0.3);
    const scores = share(responses, [4, 6, 10, 30, 50]);
    const sum = scores.reduce((a, n, i) => a + n * (i + 1), 0);
    return {
      query: q,
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      generated_at: this.now,
      conversations,
      resolved,
      first_response: durations(Math.round(conversations * 0.95), 3 + 4 * r(), 3 + r()),
      resolution: durations(resolved, 60 + 300 * r(), 4 + r()),
      by_channel: channels.map((channel, i) => ({ channel, conversations: byChannel[i] ?? 0 })).filter((c) => c.conversations > 0),
      by_hour: share(conversations, hourWeights),
      by_day,
      agents: agents.map((a, i) => {
        const average = 1.5 + 2.5 * r();
        const online = Math.round(days * (5 + 2.5 * r()) * 3_600_000);
        return {
          agent_id: a.id,
          name: a.name,
          handled: handled[i] ?? 0,
          online_ms: online,
          held_ms: Math.round(online * average),
          average_concurrency: Math.round(average * 10) / 10,
          peak_concurrency: Math.ceil(average + 1 + 3 * r()),
        };
      }),
      sla: [
        target("first_response", Math.round(conversations * 0.95), 0.86 + 0.1 * r()),
        target("next_response", Math.round(conversations * 1.6), 0.8 + 0.1 * r()),
        target("resolution", resolved, 0.75 + 0.15 * r()),
      ],
      csat: {
        responses,
        scores,
        average: responses ? Math.round((sum / responses) * 100) / 100 : null,
        satisfied: responses ? ((scores[3] ?? 0) + (scores[4] ?? 0)) / responses : null,
      },
      ...this.botReport(q, conversations, days),
    };
  }

  /** A report's made-up bot and knowledge-base numbers: a third of the conversations
   *  answered by a bot first, about half of those resolved without a person. */
  botReport(q: ReportQuery, conversations: number, days: number): Pick<Report, "bot" | "articles" | "deflections"> {
    const r = rng(hash(`bot|${q.from}|${q.to}|${q.team_id ?? ""}`));
    const answered = Math.round(conversations * (0.28 + 0.1 * r()));
    const contained = Math.round(answered * (0.45 + 0.2 * r()));
    const handedOff = answered - contained;
    const why: HandoffReason[] = ["asked_for_person", "no_answer", "not_helpful", "turn_limit", "keyword", "bot_timed_out", "agent_took_over"];
    const counts = share(handedOff, [40, 22, 14, 9, 6, 2, 7]);
    const reasons = why
      .map((reason, i) => ({ reason, count: counts[i] ?? 0 }))
      .filter((x) => x.count > 0)
      .sort((x, y) => y.count - x.count);
    const articles: ArticleUse[] = this.articles
      .filter((a) => a.status === "published")
      .map((a) => {
        const views = Math.round(days * (1 + 8 * r()));
        const rated = Math.round(views * 0.3);
        const helpful = Math.round(rated * (0.55 + 0.4 * r()));
        return { article_id: a.id, title: a.title, views, helpful, not_helpful: rated - helpful, offered: Math.round(answered * 0.25 * r()), deflected: Math.round(views * 0.2 * r()) };
      })
      .sort((x, y) => y.views - x.views)
      .slice(0, 20);
    return { bot: { conversations: answered, contained, handed_off: handedOff, reasons }, articles, deflections: articles.reduce((n, x) => n + x.deflected, 0) };
  }

  /** The report command: refused to agents, from the cache when "offline". */
  reportView(q: ReportQuery): ReportView {
    if (!roleRules.permissions[this.me.role].oversee) throw { code: "forbidden", message: "only leads and admins see reports" };
    if (this.reportSource === "none") throw { code: "offline", message: "the hub can't be reached and this report isn't cached" };
    const report = this.report(q);
    return this.reportSource === "cache"
      ? { report, fetched_at: this.now - 3 * 3_600_000, offline: true }
      : { report, fetched_at: Date.now(), offline: false };
  }

  composer(conversationId: number): Composer {
    const row = this.rows.find((r) => r.id === conversationId);
    if (!row) throw { code: "not_found", message: "no such conversation" };
    const contact = this.contacts.get(row.contact_id) as Contact;
    const convs = [row, ...this.conversationsOf(row.contact_id).filter((r) => r.id !== row.id)];
    const seen = new Set<string>();
    const routes = convs
      .filter((c) => {
        const k = `${c.channel}:${c.customer_address}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      })
      .map((c) => {
        const out = contact.opted_out.some((o) => o.channel === c.channel && o.address === c.customer_address);
        return { conversation_id: c.id, channel: c.channel, address: c.customer_address, ...route(c.channel, c.reply_window_expires_at, out, Date.now()) };
      });
    return {
      conversation_id: conversationId,
      routes,
      templates: [
        { name: "order_update", language: "en_US", body: "Hi {{1}}, your order {{2}} has shipped.", params: 2 },
        { name: "follow_up", language: "en_US", body: "Hi {{1}}, just checking in — is there anything else we can help with?", params: 1 },
      ],
      canned: this.cannedFor(),
    };
  }

  /** Each agent's open and waiting conversations, nobody's last, as the core counts them. */
  teamLoad(): AgentLoad[] {
    const counted: Record<string, { assigned: { open: boolean; waiting: boolean }; unassigned: { open: boolean; waiting: boolean } }> = loadRules.counted;
    const load = (rows: ConversationRow[], how: "assigned" | "unassigned") => {
      const open = rows.filter((r) => counted[r.status]?.[how].open);
      const waiting = open.filter((r) => r.waiting_since !== null && counted[r.status]?.[how].waiting);
      return { open: open.length, waiting: waiting.length, oldest_waiting_since: waiting.length ? Math.min(...waiting.map((r) => r.waiting_since ?? 0)) : null };
    };
    const loads: AgentLoad[] = this.agents
      .map((ag) => ({ agent_id: ag.id, name: ag.name, presence: ag.presence, capacity: ag.capacity, ...load(this.rows.filter((r) => r.assignee_id === ag.id), "assigned"), role: ag.role }))
      .filter((l) => loadRules.admins_without_open_shown || l.role !== "admin" || l.open > 0)
      .map(({ role: _role, ...l }) => l);
    if (loadRules.order !== "oldest_waiting_first_then_name") throw new Error(`mockCore: no load order ${loadRules.order}`);
    loads.sort((x, y) => (x.oldest_waiting_since ?? Infinity) - (y.oldest_waiting_since ?? Infinity) || x.name.localeCompare(y.name));
    const nobody = loadRules.nobody;
    loads.push({ agent_id: null, name: nobody.name, presence: nobody.presence, capacity: nobody.capacity, ...load(this.rows.filter((r) => r.assignee_id === null), "unassigned") });
    return loads;
  }

  /** Searches the conversations' previews with the core's filters and word matching. */
  search(q: SearchQuery): SearchHit[] {
    const filters = searchRules.filters;
    const limit = Math.min(Math.max(q.limit ?? searchRules.default_limit, 1), searchRules.max_limit);
    const passes = (row: ConversationRow) => {
      if (q.channel && !(filters.channel as Record<string, string[]>)[q.channel]?.includes(row.channel)) return false;
      if (q.status && !(filters.status as Record<string, string[]>)[q.status]?.includes(row.status)) return false;
      if (q.assignee) {
        const who = row.assignee_id === null ? "none" : q.assignee.kind === "agent" && row.assignee_id === q.assignee.id ? "that_agent" : "other_agent";
        if (!filters.assignee[q.assignee.kind].includes(who)) return false;
      }
      return true;
    };
    const hits: SearchHit[] = [];
    for (const row of this.rows) {
      if (hits.length >= limit) break;
      if (!passes(row)) continue;
      const highlights = matchWords(q.text, row.preview);
      if (!highlights) continue;
      hits.push({ message_id: row.id, conversation_id: row.id, contact_id: row.contact_id, contact_name: row.contact_name, channel: row.channel, direction: "inbound", snippet: row.preview, highlights, created_at: row.last_activity_at });
    }
    return hits;
  }

  queue(
    conversationId: number,
    body: string,
    direction: "outbound" | "note",
    name: string,
    attachments: Attachment[] = [],
    choices: Choices | null = null,
  ): number {
    const row = this.rows.find((r) => r.id === conversationId);
    if (!row) throw { code: "not_found", message: "no such conversation" };
    const id = this.#nextId++;
    const item: OutboxItem = { id, name, conversation_id: conversationId, client_msg_id: `c${id}`, state: "pending", attempts: 0, error: null, conflict: null, created_at: Date.now() };
    this.outboxItems.push(item);
    this.history(row.contact_id).push({
      id: null,
      conversation_id: conversationId,
      channel: row.channel,
      direction,
      author_agent_id: this.me.id,
      author_name: this.me.name,
      body,
      subject: null,
      attachments,
      client_msg_id: item.client_msg_id,
      delivery: null,
      delivery_error: null,
      choices,
      chosen: null,
      bot: null,
      outbox: { id, state: "pending", error: null },
      created_at: Date.now(),
    });
    this.changed([conversationId]);
    return id;
  }

  /** Queues a first message to a customer: refused at once as the core's `refuse_start`
   *  refuses a draft, else queued and applied by the "hub" once the command has answered
   *  (`hubDelayMs` later). */
  startConversation(d: NewConversation): Started {
    const box = this.inboxes.find((i) => i.id === d.inbox_id);
    if (!box) throw { code: "not_found", message: "inbox not found" } satisfies ApiError;
    const label = CHANNEL_LABEL[box.kind];
    if (box.kind === "webchat" || box.kind === "in_app") throw badRequest(`on ${label} the customer starts the conversation`);
    if (d.contact_id == null && !d.address?.trim()) throw badRequest("choose a customer or enter a phone number or email address");
    if (d.contact_id == null && (box.kind === "messenger" || box.kind === "instagram")) {
      throw badRequest(`on ${label} you can write only to a customer who has written before`);
    }
    if (box.kind === "email" && !d.subject?.trim()) throw badRequest("an email needs a subject");
    if (d.template == null && !d.body.trim()) throw badRequest("write a message or choose a template");
    const id = this.#nextId++;
    const item: OutboxItem = { id, name: "start_conversation", conversation_id: null, client_msg_id: `c${id}`, state: "pending", attempts: 0, error: null, conflict: null, created_at: Date.now() };
    this.outboxItems.push(item);
    // The hub has it only after the command answered, as over the network.
    setTimeout(() => this.#applyStart(box, d, item), this.hubDelayMs);
    return { outbox_id: id, client_msg_id: item.client_msg_id as string };
  }

  /** The "hub" applies a first message, or refuses it as `rules::may_start` and `may_send`
   *  do: the outbox item is then stuck with the reason, as any refused send. */
  #applyStart(box: Inbox, d: NewConversation, item: OutboxItem) {
    const channel = box.kind;
    const label = CHANNEL_LABEL[channel];
    const now = Date.now();
    try {
      if (channel === "sms" && !normalizeAddress("sms", box.address)) throw badRequest("this SMS inbox has no phone number to send from");
      const typed = d.address?.trim() ? normalizeAddress(channel, d.address) : null;
      if (d.address?.trim() && !typed) throw badRequest(`${d.address.trim()} is not a valid ${channel === "email" ? "email address" : "phone number"}`);
      let contact: Contact | null;
      let address: string;
      if (d.contact_id != null) {
        contact = this.contacts.get(d.contact_id) ?? null;
        if (!contact) throw { code: "not_found", message: "contact not found" } satisfies ApiError;
        const theirs = contact.identities.filter((i) => i.channel === channel).map((i) => i.address);
        const chosen = typed ?? theirs[0];
        if (!chosen) throw badRequest(`${contact.name} has no address on ${channel}`);
        if (!theirs.includes(chosen)) throw badRequest(`${chosen} is not one of ${contact.name}'s addresses on ${channel}`);
        address = chosen;
      } else {
        if (!typed) throw badRequest("name the customer (`contact_id`) or the address to write to");
        address = typed;
        contact = [...this.contacts.values()].find((c) => c.identities.some((i) => i.channel === channel && i.address === address)) ?? null;
      }
      if (!contact && (channel === "messenger" || channel === "instagram")) {
        throw badRequest(`on ${channel} you can write only to a customer who has written to this inbox before`);
      }
      if (contact?.opted_out.some((o) => o.channel === channel && o.address === address)) {
        throw { code: "opted_out", message: `the customer opted out of ${label} messages` } satisfies ApiError;
      }
      const ends = this.rows.filter((r) => r.inbox_id === box.id && r.customer_address === address && r.reply_window_expires_at !== null);
      const window = ends.length ? Math.max(...ends.map((r) => r.reply_window_expires_at as number)) : null;
      const windowed = channel === "whatsapp" || channel === "messenger" || channel === "instagram";
      if (windowed && d.template == null && !(window !== null && window > now)) {
        throw { code: "reply_window_closed", message: `the 24-hour ${label} reply window has closed: send an approved template` } satisfies ApiError;
      }
      let body = d.body;
      if (d.template != null) {
        const t = box.templates.find((x) => x.name === d.template);
        if (!t) throw badRequest(`${box.name} has no approved template \`${d.template}\``);
        const wanted = templateParams(t.body);
        if (d.params.length !== wanted) throw badRequest(`template \`${d.template}\` takes ${wanted} values, not ${d.params.length}`);
        body = fillTemplate(t.body, d.params);
      }
      if (!contact) {
        const cid = this.#nextId++;
        contact = { id: cid, name: d.name?.trim() || address, identities: [{ channel, address }], profile: {}, crm: null, opted_out: [], consents: [], created_at: now, updated_at: now, version: 1 };
        this.contacts.set(cid, contact);
        this.lines.set(cid, []);
      }
      // The customer's history as it was, before the new conversation can be drawn into it.
      const lines = this.history(contact.id);
      const rowId = this.#nextId++;
      this.rows.push({
        id: rowId,
        contact_id: contact.id,
        contact_name: contact.name,
        channel,
        customer_address: address,
        inbox_id: box.id,
        status: "pending",
        assignee_id: this.me.id,
        team_id: box.team_id,
        preview: body,
        waiting_since: null,
        last_activity_at: now,
        snoozed_until: null,
        reply_window_expires_at: window,
        unread: false,
        priority: "normal",
        sla_state: "ok",
        version: 1,
      });
      lines.push({
        id: this.#nextId++,
        conversation_id: rowId,
        channel,
        direction: "outbound",
        author_agent_id: this.me.id,
        author_name: this.me.name,
        body,
        subject: channel === "email" ? (d.subject?.trim() ?? null) : null,
        attachments: [],
        client_msg_id: item.client_msg_id,
        delivery: "sent",
        delivery_error: null,
        choices: null,
        chosen: null,
        bot: null,
        outbox: null,
        created_at: now,
      });
      this.#started.set(item.client_msg_id as string, rowId);
      item.state = "acknowledged";
      this.emit({ type: "outbox", item: { ...item } });
      this.changed([rowId], [contact.id]);
    } catch (e) {
      item.state = "stuck";
      item.attempts = 1;
      item.error = e as ApiError;
      this.emit({ type: "outbox", item: { ...item } });
    }
  }

  agentName(id: number | null): string | null {
    return id === null ? null : (this.agents.find((x) => x.id === id)?.name ?? null);
  }

  /** An article as one of its versions. */
  articleVersion(a: Article): ArticleVersion {
    const { title, body, locale, collection, status, updated_by, updated_at, version } = a;
    return { version, title, body, tags: [...a.tags], locale, collection, status, updated_by, updated_by_name: this.agentName(updated_by), updated_at };
  }

  /** Every article's current version, and an earlier one of "returns" (before its return
   *  window grew from 14 to 30 days). */
  seedArticleHistory() {
    for (const a of this.articles) this.articleHistory.set(a.id, [this.articleVersion(a)]);
    const returns = this.articles.find((a) => a.key === "returns");
    if (returns) {
      const before = { ...returns, version: 1, body: returns.body.replace("30 days", "14 days"), updated_by: 2, updated_at: returns.updated_at - 20 * 86_400_000 };
      this.articleHistory.get(returns.id)?.push(this.articleVersion(before));
    }
  }

  /** The knowledge base searched: titles, text, tags and collections holding the words;
   *  titles first. With no words, every article by collection and title. */
  searchArticles(query: string): ArticleHit[] {
    const q = query.trim().toLowerCase();
    if (!q) {
      return [...this.articles].sort((a, b) => a.collection.localeCompare(b.collection) || a.title.localeCompare(b.title)).map(articleHit);
    }
    const has = (t: string) => t.toLowerCase().includes(q);
    return this.articles
      .filter((a) => has(a.title) || has(a.body) || has(a.collection) || a.tags.some(has))
      .sort((a, b) => Number(!has(a.title)) - Number(!has(b.title)) || a.title.localeCompare(b.title))
      .map(articleHit);
  }

  articleEntry(key: string): ArticleEntry | null {
    const article = this.articles.find((a) => a.key === key);
    return article ? { article, pending: this.pendingArticles.has(key) } : null;
  }

  #mayEditArticles() {
    if (!this.directory().permissions.edit_articles) throw { code: "forbidden", message: "only leads and admins change the knowledge base" } satisfies ApiError;
  }

  /** Saves an article as the hub would: refused when it changed since the version the
   *  editor opened, or when the draft is not one. */
  saveArticle(d: ArticleDraft): string {
    this.#mayEditArticles();
    const title = d.title.trim();
    if (!title) throw badRequest("an article needs a title");
    if (!d.body.trim()) throw badRequest("an article needs some text");
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(d.locale.trim())) throw badRequest(`“${d.locale}” is not a language tag such as en or pt-BR`);
    const current = d.key === null ? undefined : this.articles.find((a) => a.key === d.key);
    if (d.key !== null && !current) throw { code: "not_found", message: "the article was deleted" } satisfies ApiError;
    if (current && d.version !== null && d.version !== current.version) {
      const who = current.updated_by === this.me.id ? "you (in another window)" : (this.agentName(current.updated_by) ?? "someone");
      throw { code: "conflict", message: `“${current.title}” was changed by ${who} after you opened it` } satisfies ApiError;
    }
    const key = current?.key ?? articleKey(title, (k) => this.articles.some((a) => a.key === k));
    const saved: Article = {
      id: current?.id ?? this.#nextArticle++,
      key,
      title,
      body: d.body,
      tags: d.tags.map((t) => t.trim()).filter(Boolean),
      locale: d.locale.trim(),
      collection: d.collection.trim(),
      status: d.status,
      updated_by: this.me.id,
      updated_at: Date.now(),
      version: (current?.version ?? 0) + 1,
    };
    this.articles = current ? this.articles.map((a) => (a.key === key ? saved : a)) : [...this.articles, saved];
    this.articleHistory.set(saved.id, [this.articleVersion(saved), ...(this.articleHistory.get(saved.id) ?? [])]);
    if (this.hubReachable) this.pendingArticles.delete(key);
    else this.pendingArticles.add(key);
    this.emit(changedEvent({ articles: true }));
    return key;
  }

  deleteArticle(key: string, version: number | null) {
    this.#mayEditArticles();
    const current = this.articles.find((a) => a.key === key);
    if (!current) return;
    if (version !== null && version !== current.version) {
      throw { code: "conflict", message: `“${current.title}” was changed by ${this.agentName(current.updated_by) ?? "someone"} after you opened it` } satisfies ApiError;
    }
    this.articles = this.articles.filter((a) => a.key !== key);
    this.pendingArticles.delete(key);
    this.emit(changedEvent({ articles: true }));
  }

  /** Another console changes an article (for tests and the harness). */
  changeArticleElsewhere(key: string, change: Partial<Pick<Article, "title" | "body" | "status">>, by = 2) {
    const a = this.articles.find((x) => x.key === key);
    if (!a) return;
    Object.assign(a, change, { version: a.version + 1, updated_by: by, updated_at: Date.now() });
    this.articleHistory.set(a.id, [this.articleVersion(a), ...(this.articleHistory.get(a.id) ?? [])]);
    this.emit(changedEvent({ articles: true }));
  }

  /** What puts an article into a reply: its text on SMS, a link elsewhere, unless asked. */
  articleInsertion(conversationId: number, articleId: number, how: Insert | null): string {
    const row = this.rows.find((r) => r.id === conversationId);
    if (!row) throw { code: "not_found", message: "no such conversation" } satisfies ApiError;
    const a = this.articles.find((x) => x.id === articleId);
    if (!a) throw { code: "not_found", message: "the article was deleted" } satisfies ApiError;
    const as = how ?? (row.channel === "sms" ? "text" : "link");
    if (as === "text") return `${a.title}\n\n${plainText(a.body)}`;
    const url = articleHit(a).url;
    if (!url) throw badRequest("a draft has no address yet: publish it to link to it");
    return `${a.title}: ${url}`;
  }

  /** Published articles whose title or tags share words with the customer's last message
   *  in the conversation, most shared first, at most three. */
  suggestedArticles(conversationId: number): ArticleHit[] {
    const row = this.rows.find((r) => r.id === conversationId);
    if (!row) throw { code: "not_found", message: "no such conversation" } satisfies ApiError;
    const last = [...this.history(row.contact_id)].reverse().find((l) => l.conversation_id === row.id && l.direction === "inbound");
    if (!last) return [];
    const STOP = new Set(["your", "with", "this", "that", "have", "what", "when", "where", "there", "thank", "thanks", "please", "about", "from", "they", "were"]);
    const stems = (text: string) =>
      new Set(
        [...text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().matchAll(/\p{L}{4,}/gu)]
          .map((m) => m[0])
          .filter((w) => !STOP.has(w))
          .map((w) => w.slice(0, 5)),
      );
    const asked = stems(last.body);
    return this.articles
      .filter((a) => a.status === "published")
      .map((a) => ({ a, score: [...stems(`${a.title} ${a.tags.join(" ")}`)].filter((w) => asked.has(w)).length }))
      .filter((x) => x.score > 0)
      .sort((x, y) => y.score - x.score || x.a.id - y.a.id)
      .slice(0, 3)
      .map((x) => articleHit(x.a));
  }

  /** Three campaigns and two segments to start with: one sent three days ago (with opted-out
   *  recipients skipped, failures and replies), one scheduled, one draft. */
  seedCampaigns() {
    const r = rng(7);
    const day = 86_400_000;
    const madeUp = (n: number, optOut: string): Planned[] =>
      Array.from({ length: n }, (_, i) => ({
        row: i + 2,
        address: `+1628555${String(1000 + i).padStart(4, "0")}`,
        name: `${pick(r, FIRST)} ${pick(r, LAST)}`,
        params: [],
        skip: (i + 1) % 13 === 0 ? optOut : undefined,
      }));
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const base = { subject: null, purpose: "marketing" as const, allowed_hours: null, time_zone: zone, frequency_cap: { messages: 2, days: 7 }, created_by: 3 };
    const spring = this.addCampaign(
      { ...base, name: "Spring offers", inbox_id: 2, template: "follow_up", audience: "csv", allowed_hours: { from: "09:00", to: "20:00" }, created_at: this.now - 3 * day },
      madeUp(240, "opted out of WhatsApp messages (STOP)"),
    );
    spring.state = "done";
    spring.started_at = this.now - 3 * day + 3_600_000;
    spring.finished_at = spring.started_at + 15_000;
    const rows = this.rows;
    for (const x of this.recipients.get(spring.id) ?? []) {
      if (x.state !== "queued") continue;
      this.#sendOne(spring, x, spring.started_at + x.row * 60);
      if ((x.state as RecipientState) === "replied" && rows.length) {
        const conv = rows[x.row % rows.length]!;
        x.conversation_id = conv.id;
        x.name = conv.contact_name;
      }
    }
    this.#count(spring);
    const renewal = this.addCampaign(
      { ...base, name: "Renewal reminder", inbox_id: 9, template: "follow_up", purpose: "service", audience: "segment", created_at: this.now - day },
      madeUp(120, "opted out of WhatsApp messages"),
    );
    const at = new Date(this.now + 2 * day);
    at.setHours(9, 0, 0, 0);
    renewal.state = "scheduled";
    renewal.scheduled_at = at.getTime();
    this.addCampaign(
      { ...base, name: "Order follow-up", inbox_id: 2, template: "order_update", audience: "filter", created_at: this.now - 2 * 3_600_000 },
      madeUp(35, "withdrew marketing consent"),
    );
    this.segments = [
      { id: 1, name: "Lisbon customers", filter: { conditions: [{ field: "city", op: "equals", value: "Lisbon" }] }, created_at: this.now - 10 * day },
      { id: 2, name: "Pro plan", filter: { conditions: [{ field: "plan", op: "equals", value: "Pro" }] }, created_at: this.now - 5 * day },
    ];
  }

  /** Adds a draft campaign with its planned recipients (queued, or skipped with a reason). */
  addCampaign(c: Omit<Campaign, "id" | "state" | "rate" | "counts">, planned: Planned[]): Campaign {
    const kind = this.inboxes.find((i) => i.id === c.inbox_id)?.kind ?? "sms";
    const campaign: Campaign = {
      ...c,
      id: this.#nextCampaign++,
      state: "draft",
      rate: CAMPAIGN_RATE[kind] ?? 5,
      counts: { total: 0, queued: 0, sent: 0, delivered: 0, read: 0, replied: 0, failed: 0, skipped: 0 },
    };
    this.campaigns.unshift(campaign);
    this.recipients.set(
      campaign.id,
      planned.map((p): RecipientResult =>
        p.skip ? { row: p.row, address: p.address, name: p.name, state: "skipped", reason: p.skip } : { row: p.row, address: p.address, name: p.name, state: "queued" },
      ),
    );
    this.#count(campaign);
    return campaign;
  }

  #count(c: Campaign) {
    const counts = { total: 0, queued: 0, sent: 0, delivered: 0, read: 0, replied: 0, failed: 0, skipped: 0 };
    for (const x of this.recipients.get(c.id) ?? []) {
      counts.total++;
      counts[x.state]++;
    }
    c.counts = counts;
  }

  /** Sends to one recipient: what became of it is made up from its row. */
  #sendOne(c: Campaign, x: RecipientResult, at: number) {
    const kind = this.inboxes.find((i) => i.id === c.inbox_id)?.kind ?? "sms";
    if (x.row % 17 === 0) {
      x.state = "failed";
      x.reason = CAMPAIGN_FAILURE[kind] ?? "the provider refused the message";
      return;
    }
    x.sent_at = at;
    x.state = x.row % 9 === 0 ? "replied" : x.row % 3 === 0 ? "read" : x.row % 2 === 0 ? "delivered" : "sent";
  }

  /** Time passes for the campaigns: scheduled ones whose time came start, sending ones send
   *  at their rate, and a campaign with no one left queued is done. */
  advanceCampaigns(now = Date.now()) {
    for (const c of this.campaigns) {
      if (c.state === "scheduled" && c.scheduled_at != null && c.scheduled_at <= now) {
        c.state = "running";
        c.started_at = now;
        this.#sending.set(c.id, { at: now, credit: 0 });
      }
      if (c.state !== "running") continue;
      const t = this.#sending.get(c.id) ?? { at: now, credit: 0 };
      t.credit += (Math.max(0, now - t.at) / 1000) * c.rate;
      t.at = now;
      let n = Math.floor(t.credit);
      t.credit -= n;
      this.#sending.set(c.id, t);
      const all = this.recipients.get(c.id) ?? [];
      for (const x of all) {
        if (n <= 0) break;
        if (x.state !== "queued") continue;
        this.#sendOne(c, x, now);
        n--;
      }
      if (!all.some((x) => x.state === "queued")) {
        c.state = "done";
        c.finished_at = now;
      }
      this.#count(c);
    }
  }

  #mayRunCampaigns() {
    if (!this.hubReachable) throw unreachableHub();
    if (!roleRules.permissions[this.me.role].oversee) throw { code: "forbidden", message: "only leads and admins run campaigns" } satisfies ApiError;
  }

  #campaign(id: number): Campaign {
    const c = this.campaigns.find((x) => x.id === id);
    if (!c) throw { code: "not_found", message: "campaign not found" } satisfies ApiError;
    return c;
  }

  /** A contact's value of a filter's field: `name`, `crm.<field>`, or a profile field. */
  #fieldOf(c: Contact, field: string): string {
    if (field === "name") return c.name;
    if (field.startsWith("crm.")) return c.crm?.fields.find((f) => f.key === field.slice(4))?.value ?? "";
    return c.profile[field] ?? "";
  }

  #matches(c: Contact, cond: Condition): boolean {
    const v = this.#fieldOf(c, cond.field).trim().toLowerCase();
    const want = cond.value.trim().toLowerCase();
    switch (cond.op) {
      case "equals":
        return v === want;
      case "not_equals":
        return v !== want;
      case "contains":
        return v.includes(want);
      case "present":
        return v !== "";
      case "absent":
        return v === "";
    }
  }

  /** Why `purpose` messages may not go to `address` of `contact` (an opt-out, a withdrawn consent). */
  #refusal(contact: Contact | null, channel: ChannelKind, address: string, purpose: "service" | "marketing"): string | undefined {
    if (!contact) return undefined;
    if (contact.opted_out.some((o) => o.channel === channel && o.address === address)) return `opted out of ${CHANNEL_LABEL[channel]} messages`;
    const latest = contact.consents.filter((k) => k.channel === channel && k.address === address && k.purpose === purpose).at(-1);
    if (latest && !latest.granted) return `withdrew ${purpose} consent`;
    return undefined;
  }

  /** What an audience holds for a spec (refused as a bad spec would be), and the recipients
   *  it plans. */
  checkCampaign(spec: CampaignSpec): { check: AudienceCheck; planned: Planned[] } {
    const box = this.inboxes.find((i) => i.id === spec.inbox_id);
    if (!box) throw { code: "not_found", message: "inbox not found" } satisfies ApiError;
    if (CAMPAIGN_RATE[box.kind] === undefined) throw badRequest(`campaigns cannot send from ${CHANNEL_LABEL[box.kind]}: the customer starts those conversations`);
    if (!spec.name.trim()) throw badRequest("name the campaign");
    const template = box.templates.find((t) => t.name === spec.template);
    if (!template) throw badRequest(`${box.name} has no approved template \`${spec.template}\``);
    if (box.kind === "email" && !spec.subject?.trim()) throw badRequest("an email campaign needs a subject");
    const h = spec.allowed_hours;
    if (h && (!/^\d\d:\d\d$/.test(h.from) || !/^\d\d:\d\d$/.test(h.to) || h.from === h.to)) throw badRequest("allowed hours are two different times, HH:MM");
    if (spec.time_zone && !validZone(spec.time_zone)) throw badRequest(`\`${spec.time_zone}\` is not a time zone`);
    const cap = spec.frequency_cap;
    if (cap && (cap.messages < 1 || cap.days < 1)) throw badRequest("a frequency cap is at least 1 message in at least 1 day");
    const params = templateParams(template.body);
    const problems: RowProblem[] = [];
    let more = 0;
    const problem = (p: RowProblem) => {
      if (problems.length < 1000) problems.push(p);
      else more++;
    };
    const planned: Planned[] = [];
    const contactAt = (address: string) =>
      [...this.contacts.values()].find((c) => c.identities.some((i) => i.channel === box.kind && i.address === address)) ?? null;
    let rows = 0;
    if (spec.audience.kind === "csv") {
      const table = parseCsv(spec.audience.csv);
      if (table.length === 0) throw badRequest("the audience file is empty");
      const header = (table[0] ?? []).map((f) => f.trim().toLowerCase());
      const column = box.kind === "sms" || box.kind === "whatsapp" ? "phone" : box.kind === "email" ? "email" : "address";
      const at = header.includes(column) ? header.indexOf(column) : header.indexOf("address");
      rows = table.length - 1;
      if (at < 0) problem({ row: 1, column, problem: `no \`${column}\` column` });
      const valueAt = Array.from({ length: params }, (_, k) => header.indexOf(String(k + 1)));
      valueAt.forEach((idx, k) => {
        if (idx < 0) problem({ row: 1, column: String(k + 1), problem: `no column \`${k + 1}\` for the placeholder {{${k + 1}}}` });
      });
      if (problems.length === 0) {
        const nameAt = header.indexOf("name");
        const zoneAt = header.indexOf("time_zone");
        const what = column === "phone" ? "phone number" : column === "email" ? "email address" : "address";
        const seen = new Map<string, number>();
        table.slice(1).forEach((cells, i) => {
          const row = i + 2;
          const raw = (cells[at] ?? "").trim();
          const address = raw ? normalizeAddress(box.kind, raw) : null;
          let bad = false;
          if (!raw) {
            problem({ row, column, problem: `no ${what}` });
            bad = true;
          } else if (!address) {
            problem({ row, column, problem: `\`${raw}\` is not a ${what}` });
            bad = true;
          } else if (seen.has(address)) {
            problem({ row, column, problem: `the same ${what} as row ${seen.get(address)}` });
            bad = true;
          }
          const values = valueAt.map((idx) => (cells[idx] ?? "").trim());
          values.forEach((v, k) => {
            if (!v) {
              problem({ row, column: String(k + 1), problem: `no value for {{${k + 1}}}` });
              bad = true;
            }
          });
          const zone = zoneAt >= 0 ? (cells[zoneAt] ?? "").trim() : "";
          if (zone && !validZone(zone)) {
            problem({ row, column: "time_zone", problem: `\`${zone}\` is not a time zone` });
            bad = true;
          }
          if (bad || !address) return;
          seen.set(address, row);
          const contact = contactAt(address);
          const name = (nameAt >= 0 ? (cells[nameAt] ?? "").trim() : "") || contact?.name || "";
          planned.push({ row, address, name, params: values, skip: this.#refusal(contact, box.kind, address, spec.purpose) });
        });
      }
    } else {
      let filter: ContactFilter;
      if (spec.audience.kind === "segment") {
        const id = spec.audience.segment_id;
        const seg = this.segments.find((x) => x.id === id);
        if (!seg) throw { code: "not_found", message: "segment not found" } satisfies ApiError;
        filter = seg.filter;
      } else filter = spec.audience.filter;
      if (filter.conditions.length > 20) throw badRequest("a filter has at most 20 conditions");
      const fields = spec.audience.params;
      if (fields.length !== params) throw badRequest(`template \`${template.name}\` takes ${params} values, not ${fields.length}`);
      const matched = [...this.contacts.values()]
        .filter((c) => c.identities.some((i) => i.channel === box.kind) && filter.conditions.every((k) => this.#matches(c, k)))
        .sort((a, b) => a.id - b.id);
      rows = matched.length;
      matched.forEach((c, i) => {
        const row = i + 1;
        const address = c.identities.find((x) => x.channel === box.kind)?.address ?? "";
        const values = fields.map((f) => this.#fieldOf(c, f).trim());
        const missing = fields.filter((_, k) => !values[k]);
        for (const f of missing) problem({ row, column: f, problem: `${c.name} has no ${f}` });
        const skip = missing.length ? `no ${missing.join(", ")}` : this.#refusal(c, box.kind, address, spec.purpose);
        planned.push({ row, address, name: c.name, params: values, skip });
      });
    }
    if (rows > 200_000) throw badRequest("a campaign has at most 200,000 recipients");
    const valid = planned.filter((p) => !p.skip);
    return {
      check: {
        rows,
        valid: valid.length,
        problems,
        more_problems: more,
        preview: valid.slice(0, 5).map((p) => ({ row: p.row, address: p.address, name: p.name, text: fillTemplate(template.body, p.params) })),
      },
      planned,
    };
  }

  /** Makes a campaign (refused when its audience file has problems, or nobody to send to):
   *  a draft, or scheduled (sending at once when its time has come). */
  createCampaign(spec: CampaignSpec): Campaign {
    const { check, planned } = this.checkCampaign(spec);
    const bad = check.problems.length + check.more_problems;
    if (spec.audience.kind === "csv" && bad > 0) throw badRequest(`the audience file has ${bad} problem${bad === 1 ? "" : "s"}: check it, fix them and try again`);
    if (check.valid === 0) throw badRequest("no one in this audience can be sent to");
    const now = Date.now();
    const c = this.addCampaign(
      {
        name: spec.name.trim(),
        inbox_id: spec.inbox_id,
        template: spec.template,
        subject: spec.subject ?? null,
        purpose: spec.purpose,
        audience: spec.audience.kind,
        allowed_hours: spec.allowed_hours ?? null,
        time_zone: spec.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone,
        frequency_cap: spec.frequency_cap ?? { messages: 2, days: 7 },
        created_by: this.me.id,
        created_at: now,
      },
      planned,
    );
    if (spec.scheduled_at != null) this.#schedule(c, spec.scheduled_at, now);
    return c;
  }

  #schedule(c: Campaign, at: number, now: number) {
    c.scheduled_at = at;
    c.state = "scheduled";
    if (at <= now) {
      c.state = "running";
      c.started_at = now;
      this.#sending.set(c.id, { at: now, credit: 0 });
    }
  }

  /** A lead's action, refused (conflict) where the campaign's state does not allow it. */
  campaignAction(id: number, a: CampaignAction): Campaign {
    const c = this.#campaign(id);
    const now = Date.now();
    const refuse = (what: string): never => {
      throw { code: "conflict", message: `a ${c.state} campaign can't be ${what}` } satisfies ApiError;
    };
    switch (a.action) {
      case "schedule":
        if (c.state !== "draft") refuse("scheduled");
        this.#schedule(c, a.at, now);
        break;
      case "unschedule":
        if (c.state !== "scheduled") refuse("unscheduled");
        c.state = "draft";
        c.scheduled_at = null;
        break;
      case "pause":
        if (c.state !== "running") refuse("paused");
        c.state = "paused";
        break;
      case "resume":
        if (c.state !== "paused") refuse("resumed");
        c.state = "running";
        this.#sending.set(c.id, { at: now, credit: 0 });
        break;
      case "cancel":
        if (c.state === "done" || c.state === "cancelled") refuse("cancelled");
        c.state = "cancelled";
        c.finished_at = now;
        for (const x of this.recipients.get(c.id) ?? []) {
          if (x.state === "queued") {
            x.state = "skipped";
            x.reason = "the campaign was cancelled";
          }
        }
        this.#count(c);
        break;
    }
    return c;
  }

  /** A page of a campaign's results: rows after `after`, in one state or all. */
  campaignRecipients(id: number, state: RecipientState | null, after: number, limit = 200): { recipients: RecipientResult[]; next?: number } {
    this.#campaign(id);
    const all = (this.recipients.get(id) ?? []).filter((x) => x.row > after && (state == null || x.state === state));
    const page = all.slice(0, limit);
    const last = page.at(-1);
    return all.length > limit && last ? { recipients: page, next: last.row } : { recipients: page };
  }

  createSegment(s: NewSegment): Segment {
    const name = s.name.trim();
    if (!name) throw badRequest("name the segment");
    if (s.filter.conditions.length > 20) throw badRequest("a filter has at most 20 conditions");
    if (this.segments.some((x) => x.name.toLowerCase() === name.toLowerCase())) {
      throw { code: "conflict", message: `there is a segment named “${name}” already` } satisfies ApiError;
    }
    const seg: Segment = { id: Math.max(0, ...this.segments.map((x) => x.id)) + 1, name, filter: s.filter, created_at: Date.now() };
    this.segments.push(seg);
    return seg;
  }

  /** An agent records a customer's consent: the core's checks (a reason of 1 to 1,000
   *  characters, one of the customer's own addresses), then the hub's record, applied at
   *  once: the latest per address and purpose, a withdrawn `service` as the opt-out. */
  setConsent(s: SetConsent): number {
    const reason = s.reason.trim();
    if (!reason || Array.from(reason).length > 1000) {
      throw badRequest("say why the customer's consent changed (what they said, and where)");
    }
    const contact = this.contacts.get(s.contact_id);
    if (!contact) throw { code: "not_found", message: "contact not found" } satisfies ApiError;
    if (!contact.identities.some((i) => i.channel === s.channel && i.address === s.address)) {
      throw badRequest(`${s.address} is not one of ${contact.name}'s addresses`);
    }
    const now = Date.now();
    const record: Consent = { channel: s.channel, address: s.address, purpose: s.purpose, granted: s.granted, source: "agent", evidence: reason, reason, by_agent_id: this.me.id, at: now };
    const touched: number[] = [];
    for (const c of this.contacts.values()) {
      if (!c.identities.some((i) => i.channel === s.channel && i.address === s.address)) continue;
      c.consents = [...c.consents.filter((k) => !(k.channel === s.channel && k.address === s.address && k.purpose === s.purpose)), record];
      if (s.purpose === "service") {
        const others = c.opted_out.filter((o) => !(o.channel === s.channel && o.address === s.address));
        c.opted_out = s.granted ? others : [...others, { channel: s.channel, address: s.address }];
      }
      c.version++;
      c.updated_at = now;
      touched.push(c.id);
    }
    this.changed([], touched);
    return this.#nextId++;
  }

  /** Stages a file for a reply: its bytes are the command's body, its name and type are in
   *  headers; refused as the core refuses a file larger than a reply carries. */
  stageAttachment(body: InvokeArgs, options?: InvokeOptions): Attachment {
    const headers = new Headers(options?.headers);
    const name = decodeURIComponent(headers.get("x-file-name") ?? "") || "file";
    const size = body instanceof ArrayBuffer || ArrayBuffer.isView(body) ? body.byteLength : Array.isArray(body) ? body.length : 0;
    if (size > MAX_FILE_BYTES) throw tooLarge(name, size);
    const id = `${this.#nextStaged++}`;
    const staged: Attachment = { name, mime: headers.get("x-file-type") || "application/octet-stream", size, url: `staged:${id}` };
    this.staged.set(id, staged);
    return staged;
  }

  /** The staged files a reply carries, in order, taken off the staged list; refused as the
   *  core refuses a reply with nothing in it, too many files or a file it does not hold. */
  takeStaged(body: string, urls: string[]): Attachment[] {
    if (!body.trim() && !urls.length) throw badRequest("write a reply or attach a file");
    if (urls.length > MAX_FILES) throw badRequest(`a reply carries at most ${MAX_FILES} files`);
    const files = urls.map((url) => {
      const found = this.staged.get(stagedId(url) ?? "");
      if (!found) throw badRequest(`${url} is not a staged file`);
      return found;
    });
    for (const url of urls) this.staged.delete(stagedId(url) ?? "");
    return files;
  }

  /** Answers a command with a copy, as the real IPC does (JSON across the window boundary).
   *  A file to stage comes as the raw body, with its name and type in `options`' headers. */
  handle(cmd: string, args: InvokeArgs = {}, options?: InvokeOptions): unknown {
    const answer = this.#answer(cmd, args, options);
    return answer === undefined ? null : JSON.parse(JSON.stringify(answer));
  }

  #answer(cmd: string, args: InvokeArgs, options?: InvokeOptions): unknown {
    this.calls.push({ cmd, args });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the mock reads loosely typed arguments
    const a = args as Record<string, any>;
    switch (cmd) {
      case "session":
        return this.session;
      case "restore_session":
        return this.session;
      case "demo_logins":
        return this.agents.filter((x) => x.role !== "admin").map((x): DemoLogin => ({ name: x.name, email: x.email, role: x.role }));
      case "try_demo":
        return this.signIn((a.email as string | null) ?? (this.agents[0] as Agent).email);
      case "sign_in": {
        const req = a.request as unknown as { email: string; password: string };
        if (req.password !== "demo") throw { code: "invalid_credentials", message: "wrong email or password" };
        return this.signIn(req.email);
      }
      case "sign_out":
        this.session = null;
        return null;
      case "connection":
        return { state: "online" };
      case "reconnect_now":
        return null;
      case "counts":
        return (roleRules.views[this.me.role] as View[]).map((v): ViewCount => {
            const rows = this.viewRows(v);
            return { view: v, total: rows.length, unread: rows.filter((r) => r.unread).length };
          });
      case "view":
        return this.viewRows(a.view as View).slice(a.offset as number, (a.offset as number) + (a.limit as number));
      case "thread": {
        const row = this.rows.find((r) => r.id === (a.conversation_id as number));
        if (!row) throw { code: "not_found", message: "no such conversation" };
        return { conversation: row, lines: [], has_older: false };
      }
      case "history": {
        const all = this.history(a.contact_id as number);
        const before = a.before as number | null;
        const upto = before == null ? all : all.filter((l) => l.created_at < before);
        const limit = a.limit as number;
        const lines = upto.slice(Math.max(0, upto.length - limit));
        return { contact_id: a.contact_id, lines, has_older: upto.length > lines.length } satisfies History;
      }
      case "load_older_history":
        return 0;
      case "profile": {
        const contact = this.contacts.get(a.contact_id as number);
        if (!contact) throw { code: "not_found", message: "no such customer" };
        return { contact, conversations: this.conversationsOf(contact.id) } satisfies Profile;
      }
      case "directory":
        return this.directory();
      case "team_load":
        return this.teamLoad();
      case "composer":
        return this.composer(a.conversation_id as number);
      case "canned":
        return this.cannedFor();
      case "save_canned": {
        const d = a.draft as unknown as CannedDraft;
        const key = d.key ?? `c${this.#nextId++}`;
        const saved: CannedOption = { id: this.#nextId++, key, shortcut: d.shortcut.replace(/^\//, "").toLowerCase(), title: d.title, body: d.body, owner_id: d.shared ? null : this.me.id, updated_by: this.me.id, updated_at: Date.now(), version: 1, pending: false, editable: true };
        this.canned = [...this.canned.filter((c) => c.key !== key), saved];
        this.emit(changedEvent({ canned: true }));
        return key;
      }
      case "delete_canned":
        this.canned = this.canned.filter((c) => c.key !== (a.key as string));
        this.emit(changedEvent({ canned: true }));
        return null;
      case "expand_canned": {
        const c = this.canned.find((x) => x.key === (a.key as string));
        const row = this.rows.find((r) => r.id === (a.conversation_id as number));
        return (c?.body ?? "").replace("{{customer.first_name}}", row?.contact_name.split(" ")[0] ?? "");
      }
      case "articles":
        return this.searchArticles(String(a.query ?? ""));
      case "article":
        return this.articleEntry(a.key as string);
      case "save_article":
        return this.saveArticle(a.draft as unknown as ArticleDraft);
      case "delete_article":
        this.deleteArticle(a.key as string, (a.version as number | null) ?? null);
        return null;
      case "article_versions":
        if (!this.hubReachable) throw unreachableHub();
        return this.articleHistory.get(a.article_id as number) ?? [];
      case "render_article":
        return renderMarkdown(String(a.markdown ?? ""));
      case "article_insertion":
        return this.articleInsertion(a.conversation_id as number, a.article_id as number, (a.how as Insert | null) ?? null);
      case "suggested_articles":
        return this.suggestedArticles(a.conversation_id as number);
      case "send_reply": {
        const row = this.rows.find((r) => r.id === (a.conversation_id as number));
        if (!row) throw { code: "not_found", message: "no such conversation" };
        const out = this.contacts.get(row.contact_id)?.opted_out.some((o) => o.channel === row.channel && o.address === row.customer_address) ?? false;
        const refusal = sendRefusal(row.channel, row.reply_window_expires_at, out, Date.now());
        if (refusal) throw refusal;
        const choices = (a.choices as Choices | null | undefined) ?? null;
        const why = choices ? choicesRefusal(row.channel, a.body as string, choices) : null;
        if (why) throw badRequest(why);
        const files = this.takeStaged(a.body as string, (a.attachments as string[] | undefined) ?? []);
        return this.queue(a.conversation_id as number, a.body as string, "outbound", "send_reply", files, choices);
      }
      case "stage_attachment":
        return this.stageAttachment(args, options);
      case "discard_attachment":
        this.staged.delete(a.id as string);
        return null;
      case "send_template":
        return this.queue(a.conversation_id as number, `[template ${a.template as string}] ${(a.params as unknown as string[]).join(", ")}`, "outbound", "send_template");
      case "add_note":
        return this.queue(a.conversation_id as number, a.body as string, "note", "add_note");
      case "start_conversation":
        return this.startConversation(a.draft as unknown as NewConversation);
      case "started_conversation":
        return this.#started.get(a.client_msg_id as string) ?? null;
      case "reassign": {
        const ids = a.conversation_ids as unknown as number[];
        const to = a.to as unknown as { agent_id: number | null; team_id: number | null };
        for (const r of this.rows) if (ids.includes(r.id)) {
          r.assignee_id = to.agent_id;
          if (to.team_id) r.team_id = to.team_id;
        }
        this.changed(ids);
        return ids;
      }
      case "set_status": {
        const row = this.rows.find((r) => r.id === (a.conversation_id as number));
        if (row) {
          row.status = a.status as ConversationStatus;
          row.snoozed_until = (a.snoozed_until as number | null) ?? null;
          if (row.status !== "open") row.waiting_since = null;
          this.changed([row.id]);
        }
        return 1;
      }
      case "set_presence": {
        const presence = a.presence as Presence;
        this.me.presence = presence;
        const mine = this.agents.find((x) => x.id === this.me.id);
        if (mine) mine.presence = presence;
        this.emit(changedEvent({ directory: true }));
        return 1;
      }
      case "note_activity":
        return null;
      case "pending_update":
        return this.update;
      case "restart_into_update":
        if (!this.update) throw { code: "not_found", message: "no update is waiting" };
        this.restarts++;
        return null;
      case "take_link": {
        const id = this.link;
        this.link = null;
        if (id != null && !this.rows.some((r) => r.id === id)) throw { code: "not_found", message: "conversation not found" };
        return id;
      }
      case "preferences":
        return structuredClone(this.preferences);
      case "set_language":
        return null;
      case "set_preferences": {
        const p = a.preferences as NotificationPreferences;
        const q = p.quiet_hours;
        if (q && (q.from_minute >= 1440 || q.to_minute >= 1440 || q.days.some((d) => d > 6))) {
          throw { code: "bad_request", message: "quiet hours are minutes after midnight, below 1440" };
        }
        this.preferences = structuredClone(p);
        return 1;
      }
      case "away_after_mins":
        return this.awayAfter;
      case "set_away_after_mins":
        this.awayAfter = (a.mins as number | null) ?? null;
        return null;
      case "set_priority": {
        const row = this.rows.find((r) => r.id === (a.conversation_id as number));
        if (row) {
          row.priority = a.priority as Priority;
          this.changed([row.id]);
        }
        return 1;
      }
      case "set_routing": {
        const { team, box } = this.policyTarget(a.team_id as number, a.inbox_id as number | null);
        const policy = a.policy as RoutingPolicy | null;
        if (box) {
          if (policy) box.routing = policy;
          else delete box.routing;
          box.version++;
        } else {
          if (!policy) throw { code: "bad_request", message: "a team's routing needs a policy" } satisfies ApiError;
          team.routing = policy;
          team.version++;
        }
        this.emit(changedEvent({ directory: true }));
        return 1;
      }
      case "set_sla": {
        const { team, box } = this.policyTarget(a.team_id as number, a.inbox_id as number | null);
        const policy = a.policy as SlaPolicy | null;
        if (box) {
          if (policy) box.sla = policy;
          else delete box.sla;
          box.version++;
        } else {
          team.sla = policy;
          team.version++;
        }
        this.emit(changedEvent({ directory: true }));
        return 1;
      }
      case "set_agent_routing": {
        const agent = this.agents.find((x) => x.id === (a.agent_id as number));
        if (!agent) throw { code: "not_found", message: "agent not found" };
        if (a.capacity != null) agent.capacity = a.capacity as number;
        if (a.paused != null) agent.routing_paused = a.paused as boolean;
        if (a.skills != null) agent.skills = a.skills as string[];
        this.emit(changedEvent({ directory: true }));
        return 1;
      }
      case "block_visitor": {
        const row = this.rows.find((r) => r.id === (a.conversation_id as number));
        if (!row || (row.channel !== "webchat" && row.channel !== "in_app")) {
          throw { code: "bad_request", message: "only web-chat and in-app visitors can be blocked" };
        }
        return 1;
      }
      case "mark_read": {
        const row = this.rows.find((r) => r.id === (a.conversation_id as number));
        if (row?.unread) {
          row.unread = false;
          this.#cachedFilter.clear();
          this.emit(changedEvent({ read: [row.id] }));
          return 1;
        }
        return null;
      }
      case "merge_contacts":
        return 1;
      case "set_consent":
        return this.setConsent(a.consent as unknown as SetConsent);
      case "refresh_crm": {
        const contact = this.contacts.get(a.contact_id as number);
        if (contact?.crm && (a.force || a.by)) contact.crm = { ...contact.crm, fetched_at: this.now, error: null };
        return a.force || a.by ? 1 : null;
      }
      case "queued_replies":
        return this.outboxItems.filter((i) => i.state === "pending" && i.client_msg_id !== null).length;
      case "retry":
      case "discard":
      case "set_open_conversation":
      case "open_crm_record":
        return null;
      case "open_attachment":
        return { file_name: "attachment", warning: null };
      case "find_contacts": {
        const q = String(a.text).toLowerCase();
        return [...this.contacts.values()].filter((c) => c.name.toLowerCase().includes(q)).slice(0, 20);
      }
      case "search":
        return this.search(a.query as unknown as SearchQuery);
      case "report":
        return this.reportView(a.query as unknown as ReportQuery);
      case "export_report": {
        const q = a.query as unknown as ReportQuery;
        this.reportView(q);
        return `/home/demo/Downloads/switchboard-report-${q.from}-${q.to}.csv`;
      }
      case "campaigns":
        this.#mayRunCampaigns();
        this.advanceCampaigns();
        return this.campaigns;
      case "campaign":
        this.#mayRunCampaigns();
        this.advanceCampaigns();
        return this.#campaign(a.id as number);
      case "check_campaign":
        this.#mayRunCampaigns();
        return this.checkCampaign(a.spec as unknown as CampaignSpec).check;
      case "create_campaign":
        this.#mayRunCampaigns();
        return this.createCampaign(a.spec as unknown as CampaignSpec);
      case "campaign_action":
        this.#mayRunCampaigns();
        this.advanceCampaigns();
        return this.campaignAction(a.id as number, a.action as unknown as CampaignAction);
      case "campaign_recipients":
        this.#mayRunCampaigns();
        this.advanceCampaigns();
        return this.campaignRecipients(a.id as number, (a.state as RecipientState | null) ?? null, (a.after as number) ?? 0);
      case "export_campaign":
        this.#mayRunCampaigns();
        this.#campaign(a.id as number);
        return `/home/demo/Downloads/campaign-${a.id as number}-results.csv`;
      case "segments":
        this.#mayRunCampaigns();
        return this.segments;
      case "create_segment":
        this.#mayRunCampaigns();
        return this.createSegment(a.segment as unknown as NewSegment);
      case "delete_segment": {
        this.#mayRunCampaigns();
        const before = this.segments.length;
        this.segments = this.segments.filter((x) => x.id !== (a.id as number));
        if (this.segments.length === before) throw { code: "not_found", message: "segment not found" } satisfies ApiError;
        return null;
      }
      default:
        throw { code: "not_found", message: `the mock has no command ${cmd}` };
    }
  }
}
