// Commands the agent triggers from several places (buttons, shortcuts, dialogs), with their
// outcome told in a toast. The core decides; these only ask and report.
import { api } from "./api";
import { PRIORITY_LABEL } from "./format";
import { t, type MessageKey } from "./i18n.svelte";
import type { AssignTo, ConversationStatus, Presence, Priority } from "./protocol";
import { app } from "./stores.svelte";

const DONE: Record<ConversationStatus, MessageKey> = {
  bot: "action.done.bot",
  open: "action.done.open",
  pending: "action.done.pending",
  snoozed: "action.done.snoozed",
  resolved: "action.done.resolved",
};

export async function setStatus(
  conversationId: number,
  status: ConversationStatus,
  snoozedUntil: number | null = null,
): Promise<boolean> {
  try {
    await api.setStatus(conversationId, status, snoozedUntil);
    app.toast(t(DONE[status]), "info", 2500);
    return true;
  } catch (e) {
    app.error(e, t("action.statusFailed"));
    return false;
  }
}

/** Blocks the web-chat or in-app visitor of a conversation: their chat closes, and the
 * hub refuses their messages and new chats from their address for a day. */
export async function blockVisitor(conversationId: number): Promise<boolean> {
  try {
    await api.blockVisitor(conversationId, true);
    app.toast(t("action.blocked"), "info", 2500);
    return true;
  } catch (e) {
    app.error(e, t("action.blockFailed"));
    return false;
  }
}

export async function reassign(ids: number[], to: AssignTo, label: string): Promise<boolean> {
  try {
    await api.reassign([...ids], { ...to });
    app.toast(t("action.assigned", { count: ids.length, label }), "info", 3000);
    return true;
  } catch (e) {
    app.error(e, t("action.assignFailed"));
    return false;
  }
}

/** Sets the agent's own presence (online is when routing gives them conversations). */
export async function setPresence(presence: Presence): Promise<boolean> {
  try {
    await api.setPresence(presence);
    app.toast(t("action.presence", { presence }), "info", 2500);
    return true;
  } catch (e) {
    app.error(e, t("action.presenceFailed"));
    return false;
  }
}

export async function setPriority(conversationId: number, priority: Priority): Promise<boolean> {
  try {
    await api.setPriority(conversationId, priority);
    app.toast(t("action.priority", { priority: PRIORITY_LABEL[priority] }), "info", 2500);
    return true;
  } catch (e) {
    app.error(e, t("action.priorityFailed"));
    return false;
  }
}

/** How often the window tells the core the agent is at the keyboard. */
const ACTIVITY_EVERY_MS = 20_000;
let lastActivity = 0;

/** Tells the core the agent is at the keyboard (at most every 20 s), so an agent the
 * console set away is online again. */
export function noteActivity(now: number = Date.now()): void {
  if (now - lastActivity < ACTIVITY_EVERY_MS) return;
  lastActivity = now;
  api.noteActivity().catch(() => {});
}
