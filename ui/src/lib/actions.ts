// Commands the agent triggers from several places (buttons, shortcuts, dialogs), with their
// outcome told in a toast. The core decides; these only ask and report.
import { api } from "./api";
import type { AssignTo, ConversationStatus } from "./protocol";
import { app } from "./stores.svelte";

const DONE: Record<ConversationStatus, string> = {
  open: "Reopened",
  pending: "Marked pending",
  snoozed: "Snoozed",
  resolved: "Resolved",
};

export async function setStatus(
  conversationId: number,
  status: ConversationStatus,
  snoozedUntil: number | null = null,
): Promise<boolean> {
  try {
    await api.setStatus(conversationId, status, snoozedUntil);
    app.toast(DONE[status], "info", 2500);
    return true;
  } catch (e) {
    app.error(e, "Couldn't change the status");
    return false;
  }
}

/** Blocks the web-chat or in-app visitor of a conversation: their chat closes, and the
 * hub refuses their messages and new chats from their address for a day. */
export async function blockVisitor(conversationId: number): Promise<boolean> {
  try {
    await api.blockVisitor(conversationId, true);
    app.toast("Visitor blocked", "info", 2500);
    return true;
  } catch (e) {
    app.error(e, "Couldn't block the visitor");
    return false;
  }
}

export async function reassign(ids: number[], to: AssignTo, label: string): Promise<boolean> {
  try {
    await api.reassign([...ids], { ...to });
    app.toast(ids.length === 1 ? `Assigned to ${label}` : `${ids.length} conversations assigned to ${label}`, "info", 3000);
    return true;
  } catch (e) {
    app.error(e, "Couldn't reassign");
    return false;
  }
}
