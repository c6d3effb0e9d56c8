// Pure formatting for the console: channel, status, view, handoff and article labels,
// durations (compact for live timers, humane for reports), percentages and relative times,
// day labels, byte sizes, search highlights (UTF-8 byte ranges → string segments), template
// placeholders, snooze times and the search's assignee filter. No DOM: each takes the language
// (the one in force unless given) and everything here is unit tested per language. Words come
// from the catalogs; numbers, dates and times from `Intl` in that language, except that English
// keeps its fixed day-month patterns ("3 Mar", "Monday 3 Mar 2024, 14:05") whatever the
// system's ICU version says.
import { labels, language, tIn } from "./i18n.svelte";
import type { Locale } from "./language";
import type {
  ArticleStatus,
  AssigneeFilter,
  ChannelKind,
  ConversationStatus,
  Delivery,
  HandoffReason,
  Presence,
  Priority,
  ReplyRoute,
  Role,
  RoutingMode,
  SlaState,
  SlaTarget,
  View,
} from "./protocol";

export const CHANNELS: ChannelKind[] = ["sms", "whatsapp", "messenger", "instagram", "webchat", "in_app", "email"];

export const CHANNEL_LABEL: Record<ChannelKind, string> = labels(CHANNELS, (c) => `channel.${c}`);

/** A two-or-three letter mark for the channel chip (the full name goes to screen readers). */
export const CHANNEL_SHORT: Record<ChannelKind, string> = {
  sms: "SMS",
  whatsapp: "WA",
  messenger: "MSG",
  instagram: "IG",
  webchat: "WEB",
  in_app: "APP",
  email: "EM",
};

export const STATUSES: ConversationStatus[] = ["open", "pending", "snoozed", "resolved", "bot"];

export const STATUS_LABEL: Record<ConversationStatus, string> = labels(STATUSES, (s) => `status.${s}`);

const VIEWS: View[] = ["mine", "unassigned", "my_teams", "all", "waiting", "at_risk", "bot", "closed"];

export const VIEW_LABEL: Record<View, string> = labels(VIEWS, (v) => `view.${v}`);

const HANDOFFS: HandoffReason[] = [
  "asked_for_person",
  "no_answer",
  "turn_limit",
  "keyword",
  "not_helpful",
  "bot_failed",
  "bot_timed_out",
  "bot_decided",
  "agent_took_over",
];

/** Why a bot gave a conversation to people, as the reports name it. */
export const HANDOFF_LABEL: Record<HandoffReason, string> = labels(HANDOFFS, (h) => `handoff.${h}`);

export const ARTICLE_STATUS_LABEL: Record<ArticleStatus, string> = labels(["draft", "published"], (s) => `articleStatus.${s}`);

export const DELIVERY_LABEL: Record<Delivery, string> = labels(
  ["queued", "sent", "delivered", "read", "failed"],
  (d) => `delivery.${d}`,
);

export const ROLE_LABEL: Record<Role, string> = labels(["agent", "lead", "admin"], (r) => `role.${r}`);

export const PRESENCE_LABEL: Record<Presence, string> = labels(["online", "away", "offline"], (p) => `presence.${p}`);

/** What the presence shortcut switches to: online, or away when online. */
export function togglePresence(p: Presence): Presence {
  return p === "online" ? "away" : "online";
}

export const PRIORITY_LABEL: Record<Priority, string> = labels(["urgent", "high", "normal", "low"], (p) => `priority.${p}`);

export const ROUTING_MODE_LABEL: Record<RoutingMode, string> = labels(
  ["manual", "round_robin", "least_loaded"],
  (m) => `routingMode.${m}`,
);

export const SLA_TARGET_LABEL: Record<SlaTarget, string> = labels(
  ["first_response", "next_response", "resolution"],
  (s) => `slaTarget.${s}`,
);

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The language in force, for the functions below when none is given. */
function current(): Locale {
  return language.locale;
}

/** A compact duration: "45s", "12m", "3h 12m", "2d 4h". Negative durations count as zero. */
export function formatDuration(ms: number, locale: Locale = current()): string {
  const t = Math.max(0, ms);
  if (t < MINUTE) return tIn(locale, "duration.compact.s", { s: Math.floor(t / SECOND) });
  if (t < HOUR) return tIn(locale, "duration.compact.m", { m: Math.floor(t / MINUTE) });
  if (t < DAY) {
    const h = Math.floor(t / HOUR);
    const m = Math.floor((t % HOUR) / MINUTE);
    return m ? tIn(locale, "duration.compact.hm", { h, m }) : tIn(locale, "duration.compact.h", { h });
  }
  const d = Math.floor(t / DAY);
  const h = Math.floor((t % DAY) / HOUR);
  return h ? tIn(locale, "duration.compact.dh", { d, h }) : tIn(locale, "duration.compact.d", { d });
}

/** A duration for reports, rounded to its two largest units: "45 s", "4 min", "1 h 20 min",
 *  "2 d 3 h"; "—" when there is none. Negative durations count as zero. */
export function humanDuration(ms: number | null | undefined, locale: Locale = current()): string {
  if (ms == null || !Number.isFinite(ms)) return "—";
  const t = Math.max(0, ms);
  if (t < MINUTE - SECOND / 2) return tIn(locale, "duration.human.s", { s: Math.round(t / SECOND) });
  const mins = Math.round(t / MINUTE);
  if (mins < 60) return tIn(locale, "duration.human.m", { m: mins });
  if (mins < 24 * 60) {
    const m = mins % 60;
    return m
      ? tIn(locale, "duration.human.hm", { h: Math.floor(mins / 60), m })
      : tIn(locale, "duration.human.h", { h: mins / 60 });
  }
  const hours = Math.round(t / HOUR);
  const h = hours % 24;
  return h
    ? tIn(locale, "duration.human.dh", { d: Math.floor(hours / 24), h })
    : tIn(locale, "duration.human.d", { d: hours / 24 });
}

/** A share from 0 to 1 as a whole percentage: "87%" ("87 %" in German); "—" when there is none. */
export function formatPercent(share: number | null | undefined, locale: Locale = current()): string {
  if (share == null || !Number.isFinite(share)) return "—";
  return numberFormat(locale, { style: "percent", maximumFractionDigits: 0 }).format(Math.round(share * 100) / 100);
}

/** A row's response-time countdown: time left to its next target ("due in 12m"), or how
 * long ago it was missed ("late 5m"); `null` when no target runs. */
export function slaChip(
  state: SlaState,
  dueAt: number | null | undefined,
  now: number,
  locale: Locale = current(),
): { text: string; tone: "ok" | "at_risk" | "breached" } | null {
  if (dueAt == null) return null;
  if (state === "breached" || dueAt <= now) {
    return { text: tIn(locale, "sla.late", { duration: formatDuration(now - dueAt, locale) }), tone: "breached" };
  }
  return {
    text: tIn(locale, "sla.due", { duration: formatDuration(dueAt - now, locale) }),
    tone: state === "at_risk" ? "at_risk" : "ok",
  };
}

/** "just now", "5 min ago", "3 h ago", "2 days ago", then a date. */
export function relativeAge(ts: number, now: number, locale: Locale = current()): string {
  const t = Math.max(0, now - ts);
  if (t < 45 * SECOND) return tIn(locale, "age.justNow");
  if (t < HOUR) return tIn(locale, "age.minutes", { n: Math.max(1, Math.round(t / MINUTE)) });
  if (t < DAY) return tIn(locale, "age.hours", { n: Math.floor(t / HOUR) });
  if (t < 7 * DAY) return tIn(locale, "age.days", { n: Math.floor(t / DAY) });
  return shortDate(ts, now, locale);
}

/** The list's last-activity stamp: "now", "5m", "3h", "2d", or a short date. */
export function compactAge(ts: number, now: number, locale: Locale = current()): string {
  const t = Math.max(0, now - ts);
  if (t < MINUTE) return tIn(locale, "age.compact.now");
  if (t < HOUR) return tIn(locale, "age.compact.m", { n: Math.floor(t / MINUTE) });
  if (t < DAY) return tIn(locale, "age.compact.h", { n: Math.floor(t / HOUR) });
  if (t < 7 * DAY) return tIn(locale, "age.compact.d", { n: Math.floor(t / DAY) });
  return shortDate(ts, now, locale);
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** `Intl`'s formatters, made once per language and options: making one costs far more
 *  than using it, and a list or a thread formats hundreds of values a render. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

function dateFormat(locale: Locale, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const id = `${locale} ${JSON.stringify(options)}`;
  let f = dateFormats.get(id);
  if (!f) dateFormats.set(id, (f = new Intl.DateTimeFormat(locale, options)));
  return f;
}

function numberFormat(locale: Locale, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const id = `${locale} ${JSON.stringify(options)}`;
  let f = numberFormats.get(id);
  if (!f) numberFormats.set(id, (f = new Intl.NumberFormat(locale, options)));
  return f;
}

/** A date as `Intl` writes it in `locale` (the languages other than English). */
function intlDate(ts: number, locale: Locale, options: Intl.DateTimeFormatOptions): string {
  return dateFormat(locale, options).format(ts);
}

/** A day and month, with the year when asked: "3 Mar 2023" in English. */
function dayMonth(ts: number, withYear: boolean, locale: Locale): string {
  const d = new Date(ts);
  if (locale !== "en") {
    return intlDate(ts, locale, { day: "numeric", month: "short", year: withYear ? "numeric" : undefined });
  }
  return `${d.getDate()} ${MONTHS[d.getMonth()]}${withYear ? ` ${d.getFullYear()}` : ""}`;
}

/** "3 Mar", or "3 Mar 2023" outside the current year. */
export function shortDate(ts: number, now: number, locale: Locale = current()): string {
  return dayMonth(ts, new Date(ts).getFullYear() !== new Date(now).getFullYear(), locale);
}

/** A report's period from its `YYYY-MM-DD` days: "6 Nov – 5 Dec" within this year, "6 Dec
 *  2025 – 5 Dec 2026" otherwise, one day alone when both are the same. */
export function periodLabel(from: string, to: string, now: number, locale: Locale = current()): string {
  const a = fromLocalInput(from);
  const b = fromLocalInput(to);
  if (a === null || b === null) return tIn(locale, "period.range", { from, to });
  const year = (t: number) => new Date(t).getFullYear();
  const withYear = year(a) !== year(b) || year(b) !== year(now);
  if (from === to) return dayMonth(a, withYear, locale);
  return tIn(locale, "period.range", { from: dayMonth(a, withYear, locale), to: dayMonth(b, withYear, locale) });
}

/** The local calendar day of a timestamp, as a comparable key. */
export function dayKey(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** A day separator's text: "Today", "Yesterday", or "Monday 3 Mar" (with the year when not this year). */
export function dayLabel(ts: number, now: number, locale: Locale = current()): string {
  if (dayKey(ts) === dayKey(now)) return tIn(locale, "day.today");
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (dayKey(ts) === dayKey(y.getTime())) return tIn(locale, "day.yesterday");
  if (locale !== "en") {
    const withYear = new Date(ts).getFullYear() !== new Date(now).getFullYear();
    return intlDate(ts, locale, { weekday: "long", day: "numeric", month: "short", year: withYear ? "numeric" : undefined });
  }
  return `${WEEKDAYS[new Date(ts).getDay()]} ${shortDate(ts, now, locale)}`;
}

/** "14:05" in local time (a 24-hour clock in every language). */
export function clockTime(ts: number, locale: Locale = current()): string {
  if (locale !== "en") return intlDate(ts, locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** A full local date and time for tooltips: "3 Mar 2024, 14:05". */
export function fullTime(ts: number, locale: Locale = current()): string {
  if (locale !== "en") {
    return intlDate(ts, locale, {
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
  }
  return `${dayMonth(ts, true, locale)}, ${clockTime(ts, locale)}`;
}

/** Seven short weekday names, Monday first: "Mon" … "Sun". */
export function weekdayNames(locale: Locale = current()): string[] {
  // 1 January 2024 was a Monday.
  return Array.from({ length: 7 }, (_, i) => intlDate(new Date(2024, 0, 1 + i).getTime(), locale, { weekday: "short" }));
}

/** A whole number as the language writes it: "1,200" ("1.200" in German). */
export function formatCount(n: number, locale: Locale = current()): string {
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(Math.round(n));
}

/** A number with one decimal: "1.2" ("1,2" in German). */
function oneDecimal(n: number, locale: Locale): string {
  return numberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(n);
}

/** A number with one decimal, as the language writes it: "2.5" ("2,5" in German). */
export function formatDecimal(n: number, locale: Locale = current()): string {
  return oneDecimal(n, locale);
}

/** "512 B", "12 KB", "1.2 MB"; empty when the size is unknown (0). */
export function formatBytes(n: number, locale: Locale = current()): string {
  if (!n || n < 0) return "";
  if (n < 1024) return tIn(locale, "bytes.b", { n });
  if (n < 1024 * 1024) return tIn(locale, "bytes.kb", { n: Math.round(n / 1024) });
  if (n < 1024 * 1024 * 1024) return tIn(locale, "bytes.mb", { n: oneDecimal(n / (1024 * 1024), locale) });
  return tIn(locale, "bytes.gb", { n: oneDecimal(n / (1024 * 1024 * 1024), locale) });
}

/** The route picker's text: "Reply via WhatsApp (+14155550123)". */
export function routeLabel(route: Pick<ReplyRoute, "channel" | "address">, locale: Locale = current()): string {
  return tIn(locale, "route.label", { channel: tIn(locale, `channel.${route.channel}`), address: route.address });
}

/** Initials for an avatar: "Ana María López" → "AL". */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const first = parts[0] ?? "";
  const last = parts.length > 1 ? (parts[parts.length - 1] ?? "") : "";
  return (Array.from(first)[0] ?? "?").toUpperCase() + (Array.from(last)[0] ?? "").toUpperCase();
}

/** A segment of a highlighted snippet. */
export type Segment = { text: string; mark: boolean };

/** UTF-8 length of the code point starting at string index `i`, and its length in UTF-16 units. */
function codePointAt(text: string, i: number): { bytes: number; units: number } {
  const c = text.charCodeAt(i);
  if (c < 0x80) return { bytes: 1, units: 1 };
  if (c < 0x800) return { bytes: 2, units: 1 };
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const n = text.charCodeAt(i + 1);
    if (n >= 0xdc00 && n <= 0xdfff) return { bytes: 4, units: 2 };
  }
  return { bytes: 3, units: 1 };
}

/**
 * Turns UTF-8 byte ranges [start, end) into JS string index ranges. A byte offset inside a
 * character widens the range to that whole character; ranges are clamped, sorted and merged,
 * empty ones dropped.
 */
export function byteRangesToIndices(text: string, ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  // Byte offset of the start of every code point, with the matching string index.
  const bytes: number[] = [];
  const units: number[] = [];
  let b = 0;
  for (let i = 0; i < text.length; ) {
    const cp = codePointAt(text, i);
    bytes.push(b);
    units.push(i);
    b += cp.bytes;
    i += cp.units;
  }
  bytes.push(b);
  units.push(text.length);
  const total = b;

  const startIndex = (byte: number): number => {
    // The last code point starting at or before `byte`.
    let lo = 0;
    let hi = bytes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((bytes[mid] ?? 0) <= byte) lo = mid;
      else hi = mid - 1;
    }
    return units[lo] ?? 0;
  };
  const endIndex = (byte: number): number => {
    // The first code point boundary at or after `byte`.
    let lo = 0;
    let hi = bytes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((bytes[mid] ?? 0) >= byte) hi = mid;
      else lo = mid + 1;
    }
    return units[lo] ?? text.length;
  };

  const out: Array<[number, number]> = [];
  const sorted = ranges
    .map(([s, e]) => [Math.max(0, Math.min(s, total)), Math.max(0, Math.min(e, total))] as [number, number])
    .filter(([s, e]) => e > s)
    .sort((x, y) => x[0] - y[0]);
  for (const [s, e] of sorted) {
    const si = startIndex(s);
    const ei = endIndex(e);
    const last = out[out.length - 1];
    if (last && si <= last[1]) last[1] = Math.max(last[1], ei);
    else out.push([si, ei]);
  }
  return out;
}

/** Splits a snippet into plain and marked segments from its UTF-8 byte highlight ranges. */
export function highlightSegments(text: string, ranges: ReadonlyArray<readonly [number, number]>): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const [s, e] of byteRangesToIndices(text, ranges)) {
    if (s > at) out.push({ text: text.slice(at, s), mark: false });
    out.push({ text: text.slice(s, e), mark: true });
    at = e;
  }
  if (at < text.length || out.length === 0) out.push({ text: text.slice(at), mark: false });
  return out;
}

/** A template's body with its `{{n}}` placeholders filled where a value is given (the
 *  preview of what the core's `Template::fill` sends). */
export function fillTemplate(body: string, params: readonly string[]): string {
  return body.replace(/\{\{(\d+)\}\}/g, (whole, n: string) => {
    const v = params[Number(n) - 1];
    return v ? v : whole;
  });
}

/** How many values a template takes, counted as the core's `Template::params` counts them:
 *  its placeholders `{{1}}`, `{{2}}`… as an unbroken run from 1 (at most 20). For the
 *  directory's templates, which do not carry the count the composer's do. */
export function templateParams(body: string): number {
  let n = 0;
  while (n < 20 && body.includes(`{{${n + 1}}}`)) n++;
  return n;
}

/** Local time `days` days after `now`'s day at `hour`:00. */
function atHour(now: number, days: number, hour: number): number {
  const d = new Date(now);
  d.setDate(d.getDate() + days);
  d.setHours(hour, 0, 0, 0);
  return d.getTime();
}

/** The snooze menu's fixed choices. */
export function snoozePresets(now: number, locale: Locale = current()): Array<{ label: string; until: number }> {
  const day = new Date(now).getDay();
  const toMonday = ((8 - day) % 7) || 7;
  return [
    { label: tIn(locale, "snooze.preset.hour"), until: now + HOUR },
    { label: tIn(locale, "snooze.preset.tomorrow"), until: atHour(now, 1, 9) },
    { label: tIn(locale, "snooze.preset.monday"), until: atHour(now, toMonday, 9) },
  ];
}

/** A timestamp as the value of an `<input type="datetime-local">` (local time, minutes). */
export function toDatetimeLocal(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The timestamp a `datetime-local` or `date` input's value names (local time), or null. */
export function fromLocalInput(value: string): number | null {
  if (!value) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0));
  return d.getTime();
}

/** The start of the local day after a date input's "YYYY-MM-DD": a "before" date that
 *  includes the whole day, 23 or 25 hours long on a clock change. */
export function dayAfter(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1).getTime();
}

/** The search's assignee filter from its select's value: "" (anyone), "unassigned" or an
 *  agent's id. */
export function assigneeFilter(value: string): AssigneeFilter | null {
  if (value === "") return null;
  if (value === "unassigned") return { kind: "unassigned" };
  const id = Number(value);
  return Number.isInteger(id) && id > 0 ? { kind: "agent", id } : null;
}
