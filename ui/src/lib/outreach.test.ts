// Writing first: which inboxes reach whom, what a draft lacks, the draft sent, and waiting
// for the conversation it starts (on changes, refused by the hub, or too late).
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { inbox } from "../test/fixtures";
import { answer, callsTo } from "../test/tauri";
import {
  addressKind,
  addressesOn,
  draftOf,
  eligibleInboxes,
  problems,
  recipientLabel,
  replyWindowEnd,
  teamInboxes,
  templateRequired,
  waitForConversation,
  type StartForm,
} from "./outreach";
import type { Agent, Contact, Inbox } from "./protocol";
import { row } from "../test/fixtures";
import { app } from "./stores.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));

const TEMPLATES = [{ name: "order_update", language: "en_US", body: "Hi {{1}}, order {{2}} shipped." }];
const INBOXES: Inbox[] = [
  inbox(1, "sms", "SMS", 1, { address: "+14155550100" }),
  inbox(2, "whatsapp", "WhatsApp", 1, { templates: TEMPLATES }),
  inbox(3, "messenger", "Messenger", 1),
  inbox(4, "instagram", "Instagram", 1),
  inbox(5, "webchat", "Web chat", 1),
  inbox(6, "in_app", "App", 1),
  inbox(7, "email", "Support mail", 1),
  inbox(8, "sms", "Short code", 2, { address: "short-code-7" }),
];

function contact(extra: Partial<Contact> = {}): Contact {
  return {
    id: 42,
    name: "Ana García",
    identities: [
      { channel: "whatsapp", address: "+14155550123" },
      { channel: "messenger", address: "psid-42" },
      { channel: "webchat", address: "visitor-9" },
    ],
    profile: {},
    crm: null,
    opted_out: [],
    consents: [],
    created_at: 0,
    updated_at: 0,
    version: 1,
    ...extra,
  };
}

const names = (xs: Inbox[]) => xs.map((i) => i.name);

describe("addressKind", () => {
  test.each<[string, "phone" | "email" | null]>([
    ["+1 415 555 0100", "phone"],
    ["(415) 555-0100", "phone"],
    ["+351.912.345.678", "phone"],
    ["ana@example.com", "email"],
    ["  Ana.Garcia@Example.co.uk ", "email"],
    ["", null],
    ["12345", null],
    ["+1234567890123456", null],
    ["ana@example", null],
    ["call me", null],
    ["415 555 0100 ext 2", null],
  ])("%s is %s", (text, kind) => {
    expect(addressKind(text)).toBe(kind);
  });
});

test("the agent writes from their teams' inboxes; an admin from any", () => {
  const me: Agent = { id: 1, name: "Ada", email: "ada@x.test", role: "agent", teams: [2], capacity: 8, presence: "online", disabled: false, skills: [], routing_paused: false, version: 1 };
  const dir = { me, permissions: { reassign: false, oversee: false, merge_contacts: false, share_canned: false, edit_articles: false }, agents: [me], teams: [], inboxes: INBOXES };
  expect(names(teamInboxes(dir))).toEqual(["Short code"]);
  expect(teamInboxes({ ...dir, me: { ...me, role: "admin" } })).toHaveLength(INBOXES.length);
  expect(teamInboxes(null)).toEqual([]);
});

describe("eligibleInboxes", () => {
  test.each<[string, Contact | string, string[]]>([
    ["a new number: SMS (from a phone number) and WhatsApp", "+1 415 555 0199", ["SMS", "WhatsApp"]],
    ["a new email address: email", "ana@example.com", ["Support mail"]],
    ["nothing typed yet: every inbox that reaches a new address", "", ["SMS", "WhatsApp", "Support mail"]],
    ["a known customer: their channels, never web chat", contact(), ["WhatsApp", "Messenger"]],
    ["a known customer with email and SMS", contact({ identities: [{ channel: "email", address: "a@b.co" }, { channel: "sms", address: "+14155550123" }] }), ["SMS", "Support mail"]],
    ["a known customer on in-app only: none", contact({ identities: [{ channel: "in_app", address: "u-1" }] }), []],
  ])("%s", (_name, to, want) => {
    expect(names(eligibleInboxes(INBOXES, to))).toEqual(want);
  });
});

test("a known customer's addresses on a channel, opted-out ones marked", () => {
  const c = contact({
    identities: [
      { channel: "sms", address: "+14155550123" },
      { channel: "sms", address: "+14155550124" },
      { channel: "email", address: "a@b.co" },
    ],
    opted_out: [{ channel: "sms", address: "+14155550123" }],
  });
  expect(addressesOn(c, "sms")).toEqual([
    { address: "+14155550123", optedOut: true },
    { address: "+14155550124", optedOut: false },
  ]);
  expect(addressesOn(c, "whatsapp")).toEqual([]);
});

test("a template is required on WhatsApp to a new number only", () => {
  expect(templateRequired("whatsapp", false)).toBe(true);
  expect(templateRequired("whatsapp", true)).toBe(false);
  expect(templateRequired("sms", false)).toBe(false);
  expect(templateRequired("messenger", true)).toBe(false);
});

test("the reply window to an address on an inbox is the latest its conversations set", () => {
  const rows = [
    row(1, { inbox_id: 2, customer_address: "+1", reply_window_expires_at: 100 }),
    row(2, { inbox_id: 2, customer_address: "+1", reply_window_expires_at: 300 }),
    row(3, { inbox_id: 9, customer_address: "+1", reply_window_expires_at: 900 }),
    row(4, { inbox_id: 2, customer_address: "+2", reply_window_expires_at: 900 }),
    row(5, { inbox_id: 2, customer_address: "+1", reply_window_expires_at: null }),
  ];
  expect(replyWindowEnd(rows, 2, "+1")).toBe(300);
  expect(replyWindowEnd(rows, 2, "+3")).toBeNull();
});

describe("problems and the draft", () => {
  const sms = INBOXES[0]!;
  const whatsapp = INBOXES[1]!;
  const email = INBOXES[6]!;
  const form = (extra: Partial<StartForm>): StartForm => ({
    customer: null,
    address: "+1 415 555 0199",
    name: "",
    inbox: sms,
    subject: "",
    body: "Hello!",
    template: null,
    params: [],
    ...extra,
  });

  test.each<[string, Partial<StartForm>, Record<string, string>]>([
    ["SMS to a new number", {}, {}],
    ["nobody", { address: "  " }, { to: "Enter a phone number or an email address." }],
    ["not an address", { address: "tomorrow" }, { to: "That is not a phone number or an email address." }],
    ["an email address on SMS", { address: "a@b.co" }, { to: "SMS writes to a phone number." }],
    ["a number on email", { inbox: email, subject: "Hi" }, { to: "An email inbox writes to an email address." }],
    ["no inbox", { inbox: null }, { inbox: "Choose the inbox to write from." }],
    ["email without a subject", { inbox: email, address: "a@b.co", subject: " " }, { subject: "An email needs a subject." }],
    ["nothing to say", { body: " \n" }, { body: "Write a message." }],
    ["WhatsApp to a new number without a template", { inbox: whatsapp }, { template: "WhatsApp reaches a new number only with an approved template: choose one." }],
    ["…with a template missing a value", { inbox: whatsapp, template: TEMPLATES[0]!, params: ["Ana", " "] }, { params: "Fill in every value of the template." }],
    ["…with every value", { inbox: whatsapp, template: TEMPLATES[0]!, params: ["Ana", "#42"], body: "" }, {}],
    ["WhatsApp to a known customer, free text", { inbox: whatsapp, customer: contact(), address: "+14155550123" }, {}],
    [
      "an opted-out address",
      { inbox: whatsapp, customer: contact({ opted_out: [{ channel: "whatsapp", address: "+14155550123" }] }), address: "+14155550123" },
      { to: "Ana García opted out of WhatsApp messages at +14155550123." },
    ],
    ["a customer with no address there", { inbox: sms, customer: contact(), address: "" }, { to: "Ana García has no SMS address." }],
  ])("%s", (_name, extra, want) => {
    expect(problems(form(extra))).toEqual(want);
  });

  test("WhatsApp without templates says it cannot write to a new number", () => {
    expect(problems(form({ inbox: { ...whatsapp, templates: [] } })).template).toBe(
      "This inbox has no approved templates, so it cannot write first to a new number.",
    );
  });

  test("the draft names only what the core reads", () => {
    expect(draftOf({ ...form({ name: "  Ben  ", address: " +1 415 555 0199 " }), inbox: sms })).toEqual({
      inbox_id: 1,
      address: "+1 415 555 0199",
      name: "Ben",
      body: "Hello!",
      params: [],
    });
    expect(
      draftOf({ ...form({ inbox: email, address: "a@b.co", subject: " Your invoice ", body: "See attached" }), inbox: email }),
    ).toEqual({ inbox_id: 7, address: "a@b.co", subject: "Your invoice", body: "See attached", params: [] });
    expect(
      draftOf({ ...form({ customer: contact(), address: "+14155550123", name: "ignored", template: TEMPLATES[0]!, params: ["Ana", "#42"] }), inbox: whatsapp }),
    ).toEqual({ inbox_id: 2, contact_id: 42, address: "+14155550123", body: "", template: "order_update", params: ["Ana", "#42"] });
  });

  test("the recipient is the customer, else the name, else the address", () => {
    expect(recipientLabel({ customer: contact(), name: "x", address: "y" })).toBe("Ana García");
    expect(recipientLabel({ customer: null, name: " Ben ", address: "+1" })).toBe("Ben");
    expect(recipientLabel({ customer: null, name: "", address: " +1 415 " })).toBe("+1 415");
  });
});

describe("waitForConversation", () => {
  const started = { outbox_id: 7, client_msg_id: "c7" };

  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("asks at once and again on every change until the conversation is there", async () => {
    let id: number | null = null;
    answer({ started_conversation: () => id });
    const waiting = waitForConversation(started);
    await vi.advanceTimersByTimeAsync(0);
    expect(callsTo("started_conversation")).toEqual([{ client_msg_id: "c7" }]);
    id = 900;
    app.changes.push({ conversations: [900], contacts: [], directory: false, canned: false, everything: false });
    app.changes.flush();
    await expect(waiting).resolves.toBe(900);
    expect(callsTo("started_conversation")).toHaveLength(2);
    // Done: later changes ask nothing.
    app.changes.push({ conversations: [1], contacts: [], directory: false, canned: false, everything: false });
    app.changes.flush();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(callsTo("started_conversation")).toHaveLength(2);
  });

  test("polls besides, and gives up after the timeout", async () => {
    answer({ started_conversation: () => null });
    const waiting = waitForConversation(started, { timeoutMs: 2_500, pollMs: 1_000 });
    await vi.advanceTimersByTimeAsync(2_500);
    await expect(waiting).resolves.toBe("late");
    // At once, then at 1 s and 2 s.
    expect(callsTo("started_conversation").length).toBe(3);
  });

  test("stops when the hub refuses the message", async () => {
    answer({ started_conversation: () => null });
    const waiting = waitForConversation(started);
    await vi.advanceTimersByTimeAsync(0);
    app.handle({
      type: "outbox",
      item: { id: 8, name: "send_reply", conversation_id: 1, client_msg_id: "x", state: "stuck", attempts: 1, error: null, conflict: null, created_at: 0 },
    });
    app.handle({
      type: "outbox",
      item: { id: 7, name: "start_conversation", conversation_id: null, client_msg_id: "c7", state: "stuck", attempts: 1, error: { code: "opted_out", message: "the customer opted out" }, conflict: null, created_at: 0 },
    });
    await expect(waiting).resolves.toBe("refused");
    app.toasts = [];
  });

  test("stops when aborted", async () => {
    answer({ started_conversation: () => null });
    const leaving = new AbortController();
    const waiting = waitForConversation(started, { signal: leaving.signal });
    leaving.abort();
    await expect(waiting).resolves.toBe("late");
  });
});
