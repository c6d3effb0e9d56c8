// Small builders for protocol values used by component tests.
import type { CannedOption, ChannelKind, ConversationRow, Inbox, ThreadLine } from "../lib/protocol";

export function line(extra: Partial<ThreadLine> = {}): ThreadLine {
  return {
    id: 1,
    conversation_id: 10,
    channel: "whatsapp",
    direction: "inbound",
    author_agent_id: null,
    author_name: null,
    body: "Hello",
    subject: null,
    attachments: [],
    client_msg_id: null,
    delivery: null,
    delivery_error: null,
    choices: null,
    chosen: null,
    bot: null,
    outbox: null,
    created_at: Date.now() - 60_000,
    ...extra,
  };
}

export function row(i: number, extra: Partial<ConversationRow> = {}): ConversationRow {
  return {
    id: i + 1,
    contact_id: 1000 + i,
    contact_name: `Customer ${i}`,
    channel: "sms",
    customer_address: "+14155550100",
    inbox_id: 1,
    status: "open",
    assignee_id: null,
    team_id: 1,
    preview: `Preview ${i}`,
    waiting_since: null,
    last_activity_at: Date.now() - 3_600_000,
    snoozed_until: null,
    reply_window_expires_at: null,
    unread: false,
    priority: "normal",
    sla_state: "ok",
    version: 1,
    ...extra,
  };
}

export function canned(id: number, shortcut: string, title: string, body: string, extra: Partial<CannedOption> = {}): CannedOption {
  return {
    id,
    key: `k${id}`,
    shortcut,
    title,
    body,
    owner_id: null,
    updated_by: null,
    updated_at: 0,
    version: 1,
    pending: false,
    editable: false,
    ...extra,
  };
}

/** An inbox of `team_id` that follows its team's routing and targets unless `extra` gives its own. */
export function inbox(id: number, kind: ChannelKind, name: string, team_id: number, extra: Partial<Inbox> = {}): Inbox {
  return { id, kind, name, team_id, address: name, templates: [], version: 1, ...extra };
}
