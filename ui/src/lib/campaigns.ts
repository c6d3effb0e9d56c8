// The campaigns screen's own logic: which inboxes send campaigns, what a lead may do to a
// campaign in each state, its progress, the placeholders of a template, the new-campaign
// form (what it still lacks before its audience is checked, the spec it sends, whether a
// check still speaks for it) and the labels. What a campaign may send, to whom and when is
// the hub's: it judges every spec, and its refusals are shown as it words them.
import { fullTime, templateParams } from "./format";
import { labels, t } from "./i18n.svelte";
import type {
  Audience,
  AudienceCheck,
  Campaign,
  CampaignAction,
  CampaignCounts,
  CampaignSpec,
  CampaignState,
  ChannelKind,
  Condition,
  ConditionOp,
  ConsentPurpose,
  FrequencyCap,
  AllowedHours,
  Inbox,
  RecipientState,
  Template,
} from "./protocol";

/** The channels a campaign sends on: web chat and in-app visitors cannot be written to first. */
export const CAMPAIGN_CHANNELS: readonly ChannelKind[] = ["sms", "whatsapp", "email", "messenger", "instagram"];

/** The inboxes (of `inboxes`) a campaign can send from. */
export function campaignInboxes(inboxes: readonly Inbox[]): Inbox[] {
  return inboxes.filter((i) => CAMPAIGN_CHANNELS.includes(i.kind));
}

export const CAMPAIGN_STATE_LABEL: Record<CampaignState, string> = labels(
  ["draft", "scheduled", "running", "paused", "done", "cancelled"],
  (s) => `campaign.state.${s}`,
);

export const RECIPIENT_STATES: readonly RecipientState[] = ["queued", "sent", "delivered", "read", "replied", "failed", "skipped"];

export const RECIPIENT_STATE_LABEL: Record<RecipientState, string> = labels(RECIPIENT_STATES, (s) => `campaign.recipient.${s}`);

export const CONDITION_OPS: readonly ConditionOp[] = ["equals", "not_equals", "contains", "present", "absent"];

export const CONDITION_OP_LABEL: Record<ConditionOp, string> = labels(CONDITION_OPS, (o) => `campaign.op.${o}`);

export type AudienceKind = Audience["kind"];

export const AUDIENCE_LABEL: Record<AudienceKind, string> = labels(["csv", "filter", "segment"], (a) => `campaign.audience.${a}`);

export const PURPOSE_LABEL: Record<ConsentPurpose, string> = labels(["marketing", "service"], (p) => `campaign.purpose.${p}`);

/** The most conditions one filter has (the hub's limit). */
export const MAX_CONDITIONS = 20;
/** The largest audience file, in bytes (the hub's limit). */
export const MAX_CSV_BYTES = 16 * 1024 * 1024;
/** The longest campaign name (the hub's limit). */
export const MAX_NAME = 200;
/** The hub's frequency cap when a campaign names none. */
export const DEFAULT_CAP: FrequencyCap = { messages: 2, days: 7 };

/** What a lead can do to a campaign, as the detail's buttons. `send_now` and `schedule`
 *  are both the hub's `schedule` action (now, or at a time). */
export type CampaignCommand = "schedule" | "send_now" | "unschedule" | "pause" | "resume" | "cancel";

const ACTIONS: Record<CampaignState, readonly CampaignCommand[]> = {
  draft: ["send_now", "schedule", "cancel"],
  scheduled: ["unschedule", "cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  done: [],
  cancelled: [],
};

/** The actions valid for a campaign in `state`, in the order the detail shows them. */
export function actionsFor(state: CampaignState): readonly CampaignCommand[] {
  return ACTIONS[state] ?? [];
}

/** The hub's action for a command; `at` is when a scheduled campaign starts, `now` is now. */
export function actionOf(command: CampaignCommand, now: number, at: number | null = null): CampaignAction {
  switch (command) {
    case "send_now":
      return { action: "schedule", at: now };
    case "schedule":
      return { action: "schedule", at: at ?? now };
    default:
      return { action: command };
  }
}

/** A campaign that changes on its own (list polled while any is). */
export function isLive(state: CampaignState): boolean {
  return state === "running" || state === "scheduled";
}

/** The recipients sent to so far (sent, delivered, read or replied). */
export function sentCount(c: CampaignCounts): number {
  return c.sent + c.delivered + c.read + c.replied;
}

/** The share of recipients sent to so far, 0 to 1 (0 for an empty audience). */
export function progress(c: CampaignCounts): number {
  if (!(c.total > 0)) return 0;
  return Math.max(0, Math.min(1, sentCount(c) / c.total));
}

/** How many values a template takes: its placeholders `{{1}}`, `{{2}}`… as the hub counts them. */
export function placeholderCount(body: string): number {
  return templateParams(body);
}

/** The column an audience file names the recipients' addresses in, for the inbox's channel. */
export function addressColumn(kind: ChannelKind): "phone" | "email" | "address" {
  if (kind === "sms" || kind === "whatsapp") return "phone";
  if (kind === "email") return "email";
  return "address";
}

/** An audience file's header for the inbox's channel and a template taking `params` values. */
export function csvHeader(kind: ChannelKind, params: number): string {
  return [addressColumn(kind), "name", "time_zone", ...Array.from({ length: params }, (_, i) => String(i + 1))].join(",");
}

/** The new-campaign form, as typed. */
export interface CampaignForm {
  name: string;
  inboxId: number | null;
  template: string;
  subject: string;
  purpose: ConsentPurpose;
  audience: AudienceKind;
  /** The audience file's text. */
  csv: string;
  conditions: Condition[];
  segmentId: number | null;
  /** Filter and segment: the contact field filling each placeholder. */
  params: string[];
  /** Allowed hours, "HH:MM" or "" (none). */
  hoursFrom: string;
  hoursTo: string;
  /** "" for the hub's. */
  timeZone: string;
  capMessages: number | null;
  capDays: number | null;
}

export function emptyCondition(): Condition {
  return { field: "", op: "equals", value: "" };
}

export function emptyForm(): CampaignForm {
  return {
    name: "",
    inboxId: null,
    template: "",
    subject: "",
    purpose: "marketing",
    audience: "csv",
    csv: "",
    conditions: [emptyCondition()],
    segmentId: null,
    params: [],
    hoursFrom: "",
    hoursTo: "",
    timeZone: "",
    capMessages: DEFAULT_CAP.messages,
    capDays: DEFAULT_CAP.days,
  };
}

/** The form's chosen inbox (among `inboxes`) and template. */
export function chosen(f: CampaignForm, inboxes: readonly Inbox[]): { inbox: Inbox | null; template: Template | null } {
  const inbox = inboxes.find((i) => i.id === f.inboxId) ?? null;
  const template = inbox?.templates.find((t) => t.name === f.template) ?? null;
  return { inbox, template };
}

export type FormField = "name" | "inbox" | "template" | "subject" | "audience" | "conditions" | "params" | "hours" | "cap";
export type FormProblems = Partial<Record<FormField, string>>;

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Why the allowed hours cannot be sent; null when they can (both ends, or neither). */
export function hoursProblem(from: string, to: string): string | null {
  const a = from.trim();
  const b = to.trim();
  if (!a && !b) return null;
  if (!a || !b) return t("campaign.problem.hoursBoth");
  if (!HHMM.test(a) || !HHMM.test(b)) return t("campaign.problem.hoursFormat");
  if (a === b) return t("campaign.problem.hoursSame");
  return null;
}

/** Why the frequency cap cannot be sent; null when it can. */
export function capProblem(messages: number | null, days: number | null): string | null {
  const whole = (n: number | null) => n != null && Number.isInteger(n) && n >= 1;
  if (!whole(messages) || !whole(days)) return t("campaign.problem.capWhole");
  if ((days as number) > 365) return t("campaign.problem.capDays");
  return null;
}

/** Why a condition cannot be sent; null when it can. */
export function conditionProblem(c: Condition): string | null {
  const field = c.field.trim();
  if (!field) return t("campaign.problem.field");
  if (field === "crm." || (field.startsWith("crm.") && !field.slice(4).trim())) return t("campaign.problem.crmField");
  if ((c.op === "equals" || c.op === "not_equals" || c.op === "contains") && !c.value.trim()) return t("campaign.problem.value");
  return null;
}

/** What the form still lacks before its audience can be checked, by field (empty when it
 *  can be). `inboxes` are the ones the form offers. */
export function formProblems(f: CampaignForm, inboxes: readonly Inbox[]): FormProblems {
  const out: FormProblems = {};
  const { inbox, template } = chosen(f, inboxes);
  const name = f.name.trim();
  if (!name) out.name = t("campaign.problem.name");
  else if (Array.from(name).length > MAX_NAME) out.name = t("campaign.problem.nameLong", { most: MAX_NAME });
  if (!inbox) out.inbox = t("campaign.problem.inbox");
  else if (!inbox.templates.length) out.template = t("campaign.problem.noTemplates");
  else if (!template) out.template = t("campaign.problem.template");
  if (inbox?.kind === "email" && !f.subject.trim()) out.subject = t("campaign.problem.subject");
  const params = template ? placeholderCount(template.body) : 0;
  if (f.audience === "csv") {
    if (!/\S/.test(f.csv)) out.audience = t("campaign.problem.csv");
  } else {
    if (f.audience === "segment" && f.segmentId == null) out.audience = t("campaign.problem.segment");
    if (f.audience === "filter") {
      if (f.conditions.length === 0) out.conditions = t("campaign.problem.noConditions");
      else if (f.conditions.length > MAX_CONDITIONS) out.conditions = t("campaign.problem.tooManyConditions", { most: MAX_CONDITIONS });
      else {
        const i = f.conditions.findIndex((c) => conditionProblem(c) !== null);
        if (i >= 0) out.conditions = t("campaign.problem.condition", { n: i + 1, problem: conditionProblem(f.conditions[i]!) });
      }
    }
    if (params > 0 && Array.from({ length: params }, (_, i) => f.params[i] ?? "").some((p) => !p.trim())) {
      out.params = t("campaign.problem.params");
    }
  }
  const hours = hoursProblem(f.hoursFrom, f.hoursTo);
  if (hours) out.hours = hours;
  const cap = capProblem(f.capMessages, f.capDays);
  if (cap) out.cap = cap;
  return out;
}

/** The conditions as the hub takes them: trimmed, with no value for present and absent. */
export function filterOf(conditions: readonly Condition[]): { conditions: Condition[] } {
  return {
    conditions: conditions.map((c) => ({
      field: c.field.trim(),
      op: c.op,
      value: c.op === "present" || c.op === "absent" ? "" : c.value.trim(),
    })),
  };
}

/** A filter in words: "city is Lisbon and crm.plan is filled in"; "every contact" with no condition. */
export function filterLabel(filter: { conditions: readonly Condition[] }): string {
  if (filter.conditions.length === 0) return t("campaign.filter.everyone");
  return filter.conditions
    .map((c) =>
      c.op === "present" || c.op === "absent"
        ? t("campaign.filter.condition", { field: c.field, op: CONDITION_OP_LABEL[c.op] })
        : t("campaign.filter.conditionValue", { field: c.field, op: CONDITION_OP_LABEL[c.op], value: c.value }),
    )
    .join(t("campaign.filter.and"));
}

/** The spec for `check_campaign` and `create_campaign`. `scheduledAt` is absent for a
 *  check or a draft, now for "Send now", else the chosen time. The form should have no
 *  problems left (see `formProblems`). */
export function buildSpec(f: CampaignForm, inboxes: readonly Inbox[], scheduledAt: number | null = null): CampaignSpec {
  const { inbox, template } = chosen(f, inboxes);
  const params = template ? placeholderCount(template.body) : 0;
  const fields = Array.from({ length: params }, (_, i) => (f.params[i] ?? "").trim());
  let audience: Audience;
  if (f.audience === "csv") audience = { kind: "csv", csv: f.csv };
  else if (f.audience === "filter") audience = { kind: "filter", filter: filterOf(f.conditions), params: fields };
  else audience = { kind: "segment", segment_id: f.segmentId ?? 0, params: fields };
  const spec: CampaignSpec = {
    name: f.name.trim(),
    inbox_id: inbox?.id ?? f.inboxId ?? 0,
    template: f.template,
    purpose: f.purpose,
    audience,
  };
  if (inbox?.kind === "email") spec.subject = f.subject.trim();
  if (scheduledAt != null) spec.scheduled_at = scheduledAt;
  if (f.hoursFrom.trim() && f.hoursTo.trim()) spec.allowed_hours = { from: f.hoursFrom.trim(), to: f.hoursTo.trim() };
  if (f.timeZone.trim()) spec.time_zone = f.timeZone.trim();
  if (f.capMessages != null && f.capDays != null) spec.frequency_cap = { messages: f.capMessages, days: f.capDays };
  return spec;
}

/** What a check speaks for: the spec without its name and its time (which change nothing
 *  a check finds). A check stands while the key it was made for is the form's. An audience
 *  file (up to 16 MB) may be stood for by `csvToken`, which changes whenever the file does. */
export function checkKey(spec: CampaignSpec, csvToken?: string): string {
  const { name: _name, scheduled_at: _at, ...rest } = spec;
  if (csvToken !== undefined && rest.audience.kind === "csv") rest.audience = { kind: "csv", csv: csvToken };
  return JSON.stringify(rest);
}

/** The check found nothing wrong and someone to send to. */
export function checkPassed(check: AudienceCheck): boolean {
  return check.problems.length === 0 && check.more_problems === 0 && check.valid > 0;
}

/** Why the campaign cannot be made yet, in words for the form; null when it can: only
 *  after a check of the current inputs that found no problem. */
export function createBlocker(check: AudienceCheck | null, checkedKey: string | null, currentKey: string | null): string | null {
  if (!check || checkedKey === null) return t("campaign.blocker.check");
  if (currentKey === null || checkedKey !== currentKey) return t("campaign.blocker.changed");
  if (check.problems.length > 0 || check.more_problems > 0) return t("campaign.blocker.problems");
  if (check.valid === 0) return t("campaign.blocker.nobody");
  return null;
}

/** Why a "Schedule for" time cannot be used; null when it can. `at` is the timestamp the
 *  input names (null when it names none). */
export function scheduleProblem(at: number | null, now: number): string | null {
  if (at === null) return t("campaign.schedule.choose");
  if (at <= now) return t("campaign.schedule.future");
  return null;
}

/** "09:00–20:00 in each recipient's time", or any time. */
export function hoursLabel(h: AllowedHours | null | undefined): string {
  return h ? t("campaign.hours", { from: h.from, to: h.to }) : t("campaign.hoursAny");
}

/** "At most 2 messages in 7 days per customer". */
export function capLabel(cap: FrequencyCap): string {
  return t("campaign.cap", { messages: cap.messages, days: cap.days });
}

/** "Sends 20 a second". */
export function rateLabel(rate: number): string {
  return t("campaign.rate", { rate });
}

/** When a campaign starts or started, for the list. */
export function whenLabel(c: Campaign): string {
  switch (c.state) {
    case "draft":
      return t("campaign.when.created", { time: fullTime(c.created_at) });
    case "scheduled":
      return c.scheduled_at != null ? t("campaign.when.starts", { time: fullTime(c.scheduled_at) }) : CAMPAIGN_STATE_LABEL.scheduled;
    case "running":
    case "paused":
      return c.started_at != null ? t("campaign.when.started", { time: fullTime(c.started_at) }) : CAMPAIGN_STATE_LABEL[c.state];
    case "done":
    case "cancelled":
      if (c.finished_at != null) {
        return t(c.state === "done" ? "campaign.when.finished" : "campaign.when.cancelled", { time: fullTime(c.finished_at) });
      }
      return c.started_at != null
        ? t("campaign.when.started", { time: fullTime(c.started_at) })
        : t("campaign.when.created", { time: fullTime(c.created_at) });
  }
}

/** True when a rejection means the hub cannot be reached (campaigns need it): the core's
 *  `unavailable`, except a full disk (which is also `unavailable`, and no connection fixes). */
export function isUnreachable(e: unknown): boolean {
  if (typeof e !== "object" || e === null || !("code" in e)) return false;
  const { code, message } = e as { code: unknown; message?: unknown };
  if (typeof message === "string" && /disk is full/i.test(message)) return false;
  return code === "unavailable" || code === "offline";
}
