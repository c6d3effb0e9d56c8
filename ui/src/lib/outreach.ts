// Writing to a customer first ("New message"): which inboxes can reach whom, what a draft
// still lacks, the draft the core is sent, and waiting for the conversation it starts.
//
// The channel rules here repeat the hub's (`rules::may_start`, the reply window of
// `may_send`, `Template::params`) and the core's `compose::refuse_start` only so the dialog
// can offer the right inboxes and explain a refusal before anything is sent. The core and
// the hub stay the judges: whatever they refuse is shown as they word it. What the UI cannot
// know (opted-out new numbers, a window the cache has not seen) is left to them.
import { api } from "./api";
import { CHANNEL_LABEL } from "./format";
import { t } from "./i18n.svelte";
import type { ChannelKind, Contact, ConversationRow, Directory, Inbox, NewConversation, OutboxItem, Started, Template } from "./protocol";
import { app } from "./stores.svelte";

export type AddressKind = "phone" | "email";

/** What a typed address is: an email address, a phone number (7 to 15 digits, written with
 *  spaces, dots, dashes or brackets, with or without a leading +), or neither. */
export function addressKind(text: string): AddressKind | null {
  const t = text.trim();
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(t)) return "email";
  const digits = t.replace(/\D/g, "").length;
  if (/^\+?[\d\s().-]+$/.test(t) && digits >= 7 && digits <= 15) return "phone";
  return null;
}

/** The channels a new phone number or email address can be written to. Messenger and
 *  Instagram reach only someone who wrote to the page; web chat and in-app, nobody. */
const NEW_ADDRESS: Record<AddressKind, readonly ChannelKind[]> = { phone: ["sms", "whatsapp"], email: ["email"] };

/** Channels where only the customer starts a conversation. */
const CUSTOMER_FIRST: readonly ChannelKind[] = ["webchat", "in_app"];

/** Channels whose free text reaches a customer only within 24 hours of their last message;
 *  outside it, an approved template. */
const REPLY_WINDOW: readonly ChannelKind[] = ["whatsapp", "messenger", "instagram"];

/** The inbox can write first at all: not web chat or in-app, and an SMS inbox only from a
 *  phone number of its own. */
export function writesFirst(inbox: Inbox): boolean {
  if (CUSTOMER_FIRST.includes(inbox.kind)) return false;
  return inbox.kind !== "sms" || addressKind(inbox.address) === "phone";
}

/** True when free text on `channel` may need a template (outside the reply window). */
export function hasReplyWindow(channel: ChannelKind): boolean {
  return REPLY_WINDOW.includes(channel);
}

/** The inboxes the agent may write from: their teams' (every one for an admin), as the
 *  hub lets them work on an inbox. */
export function teamInboxes(directory: Directory | null): Inbox[] {
  if (!directory) return [];
  const { me } = directory;
  return directory.inboxes.filter((i) => me.role === "admin" || me.teams.includes(i.team_id));
}

/** The inboxes (of `inboxes`: the agent's teams') that can write first to `to`: a
 *  known customer on the channels they have an address on; a typed address on the channels
 *  that reach its kind, or on every channel that reaches a new address while it is neither. */
export function eligibleInboxes(inboxes: readonly Inbox[], to: Contact | string): Inbox[] {
  let channels: readonly ChannelKind[];
  if (typeof to !== "string") channels = to.identities.map((i) => i.channel);
  else {
    const kind = addressKind(to);
    channels = kind ? NEW_ADDRESS[kind] : [...NEW_ADDRESS.phone, ...NEW_ADDRESS.email];
  }
  return inboxes.filter((i) => writesFirst(i) && channels.includes(i.kind));
}

/** A known customer's addresses on `channel`, the ones they opted out on marked. */
export function addressesOn(contact: Contact, channel: ChannelKind): Array<{ address: string; optedOut: boolean }> {
  return contact.identities
    .filter((i) => i.channel === channel)
    .map((i) => ({
      address: i.address,
      optedOut: contact.opted_out.some((o) => o.channel === channel && o.address === i.address),
    }));
}

/** WhatsApp to a new number: there is no reply window, so only a template goes. */
export function templateRequired(channel: ChannelKind, known: boolean): boolean {
  return channel === "whatsapp" && !known;
}

/** When the reply window to `address` on `inboxId` ends, as the customer's conversations
 *  there (the profile's) last set it; null when none of them has one. */
export function replyWindowEnd(conversations: readonly ConversationRow[], inboxId: number, address: string): number | null {
  let end: number | null = null;
  for (const c of conversations) {
    if (c.inbox_id !== inboxId || c.customer_address !== address || c.reply_window_expires_at == null) continue;
    end = Math.max(end ?? c.reply_window_expires_at, c.reply_window_expires_at);
  }
  return end;
}

/** The dialog's fields, as chosen. */
export interface StartForm {
  /** The chosen customer, or null when writing to a typed address. */
  customer: Contact | null;
  /** The customer's chosen address on the inbox's channel ("" when they have none), or
   *  the typed phone number or email address. */
  address: string;
  /** A new customer's name (optional). */
  name: string;
  inbox: Inbox | null;
  subject: string;
  body: string;
  template: Template | null;
  /** The template's values, one per placeholder. */
  params: string[];
}

export type Field = "to" | "inbox" | "subject" | "body" | "template" | "params";
export type Problems = Partial<Record<Field, string>>;

/** What keeps the draft from going, by field (empty when it may be sent). */
export function problems(f: StartForm): Problems {
  const out: Problems = {};
  const channel = f.inbox?.kind ?? null;
  const on = channel ? CHANNEL_LABEL[channel] : "";
  if (f.customer) {
    if (channel && !f.address) out.to = t("outreach.noAddress", { name: f.customer.name, channel: on });
    else if (channel && addressesOn(f.customer, channel).some((a) => a.address === f.address && a.optedOut)) {
      out.to = t("outreach.optedOut", { name: f.customer.name, channel: on, address: f.address });
    }
  } else {
    const kind = addressKind(f.address);
    if (!f.address.trim()) out.to = t("outreach.enterAddress");
    else if (!kind) out.to = t("outreach.notAddress");
    else if (channel && !NEW_ADDRESS[kind].includes(channel)) {
      out.to = channel === "email" ? t("outreach.emailNeedsEmail") : t("outreach.needsPhone", { channel: on });
    }
  }
  if (!f.inbox) out.inbox = t("outreach.chooseInbox");
  if (channel === "email" && !f.subject.trim()) out.subject = t("outreach.needSubject");
  if (f.template) {
    if (f.params.some((p) => !p.trim())) out.params = t("outreach.fillValues");
  } else if (channel && templateRequired(channel, f.customer !== null)) {
    out.template = f.inbox?.templates.length
      ? t("outreach.needTemplate", { channel: on })
      : t("outreach.noTemplates");
  } else if (!f.body.trim()) {
    out.body = t("outreach.writeMessage");
  }
  return out;
}

/** The draft for `start_conversation`; `f.inbox` must be set (no problems left). */
export function draftOf(f: StartForm & { inbox: Inbox }): NewConversation {
  const draft: NewConversation = {
    inbox_id: f.inbox.id,
    body: f.template ? "" : f.body,
    params: f.template ? [...f.params] : [],
  };
  if (f.customer) {
    draft.contact_id = f.customer.id;
    draft.address = f.address;
  } else {
    draft.address = f.address.trim();
    if (f.name.trim()) draft.name = f.name.trim();
  }
  if (f.inbox.kind === "email") draft.subject = f.subject.trim();
  if (f.template) draft.template = f.template.name;
  return draft;
}

/** Who the message goes to, for the toast: the customer's name, else the typed name or address. */
export function recipientLabel(f: Pick<StartForm, "customer" | "name" | "address">): string {
  return f.customer?.name ?? (f.name.trim() || f.address.trim());
}

/** How waiting for a started conversation ended: its id, the hub refused the message (its
 *  outbox toast says why), or it did not arrive in time (offline, or the hub is slow). */
export type StartOutcome = number | "refused" | "late";

/** Waits for the conversation a queued first message starts: asks the core at once, again
 *  whenever the console reports changes (the new conversation arrives as one), and every
 *  `pollMs` besides; gives up after `timeoutMs`, when the hub refuses the message, or when
 *  `signal` aborts. */
export function waitForConversation(
  started: Started,
  { timeoutMs = 30_000, pollMs = 2_000, signal }: { timeoutMs?: number; pollMs?: number; signal?: AbortSignal } = {},
): Promise<StartOutcome> {
  return new Promise((resolve) => {
    let done = false;
    let asking = false;
    let askAgain = false;

    const finish = (outcome: StartOutcome) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(deadline);
      unsubscribe();
      unwatch();
      signal?.removeEventListener("abort", aborted);
      resolve(outcome);
    };
    const ask = async () => {
      if (done) return;
      if (asking) {
        askAgain = true;
        return;
      }
      asking = true;
      try {
        const id = await api.startedConversation(started.client_msg_id);
        if (id != null) finish(id);
      } catch {
        // Asked again on the next change or tick.
      } finally {
        asking = false;
        if (askAgain && !done) {
          askAgain = false;
          void ask();
        }
      }
    };
    const refused = (item: OutboxItem) => {
      if (item.id === started.outbox_id && (item.state === "stuck" || item.state === "conflict")) finish("refused");
    };
    const aborted = () => finish("late");

    const unsubscribe = app.changes.subscribe(() => void ask());
    const unwatch = app.watchOutbox(refused);
    const poll = setInterval(() => void ask(), pollMs);
    const deadline = setTimeout(() => finish("late"), timeoutMs);
    if (signal?.aborted) return finish("late");
    signal?.addEventListener("abort", aborted);
    void ask();
  });
}
