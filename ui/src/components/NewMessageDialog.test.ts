// "New message": the inboxes offered for a new address and for a known customer, a subject
// on email, a template (with its values and preview) on WhatsApp to a new number, the exact
// draft sent, and the core's refusal shown in the dialog.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Agent, Contact, Inbox, Profile } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { inbox, row } from "../test/fixtures";
import { answer, callsTo } from "../test/tauri";
import NewMessageDialog from "./NewMessageDialog.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

const ME: Agent = { id: 1, name: "Ada Agent", email: "ada@x.test", role: "agent", teams: [1], capacity: 8, presence: "online", disabled: false, skills: [], routing_paused: false, version: 1 };
const INBOXES: Inbox[] = [
  inbox(1, "sms", "Northwind SMS", 1, { address: "+14155550100" }),
  inbox(2, "whatsapp", "Northwind WhatsApp", 1, {
    templates: [
      { name: "order_update", language: "en_US", body: "Hi {{1}}, order {{2}} shipped." },
      { name: "follow_up", language: "en_US", body: "Hi {{1}}, anything else?" },
    ],
  }),
  inbox(3, "messenger", "Northwind page", 1),
  inbox(4, "instagram", "@northwind", 1),
  inbox(5, "webchat", "Website chat", 1),
  inbox(6, "in_app", "Northwind app", 1),
  inbox(7, "email", "support@northwind.example", 1),
  inbox(8, "email", "billing@northwind.example", 2),
];

function customer(extra: Partial<Contact> = {}): Contact {
  return {
    id: 42,
    name: "Ana García",
    identities: [
      { channel: "whatsapp", address: "+14155550111" },
      { channel: "whatsapp", address: "+14155550123" },
      { channel: "messenger", address: "psid-42" },
      { channel: "webchat", address: "visitor-9" },
    ],
    profile: {},
    crm: null,
    opted_out: [{ channel: "whatsapp", address: "+14155550111" }],
    consents: [],
    created_at: 0,
    updated_at: 0,
    version: 1,
    ...extra,
  };
}

function setup(
  opts: { contactId?: number | null; profile?: Profile; start?: (a: Record<string, unknown>) => unknown } = {},
) {
  answer({
    profile: () => opts.profile ?? { contact: customer(), conversations: [] },
    start_conversation: opts.start ?? (() => ({ outbox_id: 5, client_msg_id: "c5" })),
  });
  const onclose = vi.fn();
  const onsent = vi.fn();
  render(NewMessageDialog, { contactId: opts.contactId ?? null, onclose, onsent });
  return { onclose, onsent };
}

const byId = <T extends HTMLElement = HTMLInputElement>(id: string) => screen.getByTestId(id) as T;
const options = (id: string) => [...byId<HTMLSelectElement>(id).options].map((o) => o.textContent);
const problemTexts = () => screen.queryAllByTestId("nm-problem").map((p) => p.textContent);

async function type(id: string, value: string) {
  await fireEvent.input(byId(id), { target: { value } });
}

async function choose(id: string, value: string) {
  await fireEvent.change(byId<HTMLSelectElement>(id), { target: { value } });
}

beforeEach(() => {
  app.directory = {
    me: ME,
    permissions: { reassign: false, oversee: false, merge_contacts: false, share_canned: false, edit_articles: false },
    agents: [ME],
    teams: [],
    inboxes: INBOXES,
  };
});

afterEach(() => {
  cleanup();
  app.directory = null;
});

describe("NewMessageDialog", () => {
  test("a new number gets SMS and WhatsApp, an email address email: never web chat, in-app, Messenger, Instagram or another team's inbox", async () => {
    setup();
    const dialog = screen.getByTestId("new-message-dialog");
    expect(dialog.getAttribute("role")).toBe("dialog");
    expect(document.activeElement).toBe(byId("nm-to"));
    expect(byId("nm-name")).toBeTruthy();
    // Nothing typed yet: every inbox that can reach a new address.
    expect(options("nm-inbox")).toEqual([
      "Northwind SMS (SMS)",
      "Northwind WhatsApp (WhatsApp)",
      "support@northwind.example (Email)",
    ]);
    await type("nm-to", "+1 (415) 555-0199");
    expect(options("nm-inbox")).toEqual(["Northwind SMS (SMS)", "Northwind WhatsApp (WhatsApp)"]);
    await type("nm-to", "ben@example.com");
    expect(options("nm-inbox")).toEqual(["support@northwind.example (Email)"]);
    expect(screen.getByTestId("nm-rules").textContent).toContain("Messenger and Instagram reach only customers who wrote first");
  });

  test("a known customer gets the inboxes of their channels, at one of their addresses", async () => {
    const profile: Profile = {
      contact: customer(),
      conversations: [
        row(1, { contact_id: 42, inbox_id: 2, channel: "whatsapp", customer_address: "+14155550123", reply_window_expires_at: Date.now() + 3 * 3_600_000 + 60_000 }),
      ],
    };
    setup({ contactId: 42, profile });
    expect((await screen.findByTestId("nm-customer")).textContent).toBe("Ana García");
    expect(callsTo("profile")).toEqual([{ contact_id: 42 }]);
    await waitFor(() => expect(document.activeElement).toBe(byId("nm-body")));
    expect(screen.queryByTestId("nm-to")).toBeNull();
    expect(screen.queryByTestId("nm-name")).toBeNull();
    expect(options("nm-inbox")).toEqual(["Northwind WhatsApp (WhatsApp)", "Northwind page (Messenger)"]);
    // Their WhatsApp numbers, the opted-out one marked; the other one chosen.
    expect(options("nm-address")).toEqual(["+14155550111 — opted out", "+14155550123"]);
    expect(byId<HTMLSelectElement>("nm-address").value).toBe("+14155550123");
    // Free text is offered, with the reply window it has.
    expect(byId("nm-body")).toBeTruthy();
    expect(options("nm-template")[0]).toBe("None — write the message");
    expect(screen.getByTestId("nm-window").textContent).toMatch(/wrote in the last 24 hours: free text reaches them for another 3h/);

    await choose("nm-inbox", "3");
    expect(options("nm-address")).toEqual(["psid-42"]);
    expect(screen.getByTestId("nm-window").textContent).toMatch(/only within 24 hours of their\s+last message/);
    expect(screen.queryByTestId("nm-template")).toBeNull();

    await choose("nm-inbox", "2");
    await choose("nm-address", "+14155550111");
    await type("nm-body", "Your order is ready");
    await fireEvent.click(byId("nm-send"));
    expect(problemTexts()).toEqual(["Ana García opted out of WhatsApp messages at +14155550111."]);
    expect(callsTo("start_conversation")).toEqual([]);

    await choose("nm-address", "+14155550123");
    await fireEvent.click(byId("nm-send"));
    await waitFor(() =>
      expect(callsTo("start_conversation")).toEqual([
        { draft: { inbox_id: 2, contact_id: 42, address: "+14155550123", body: "Your order is ready", params: [] } },
      ]),
    );
  });

  test("a customer with no channel to write on says so; another recipient can be typed instead", async () => {
    setup({ contactId: 42, profile: { contact: customer({ identities: [{ channel: "webchat", address: "v-1" }], opted_out: [] }), conversations: [] } });
    expect((await screen.findByTestId("nm-no-inbox")).textContent).toBe("No inbox of your teams can write first to Ana García.");
    await fireEvent.click(byId("nm-someone-else"));
    expect(document.activeElement).toBe(byId("nm-to"));
    expect(screen.queryByTestId("nm-customer")).toBeNull();
  });

  test("an email needs a subject", async () => {
    setup();
    await type("nm-to", "ben@example.com");
    await type("nm-body", "Your invoice is attached.");
    await fireEvent.click(byId("nm-send"));
    expect(problemTexts()).toEqual(["An email needs a subject."]);
    expect(byId("nm-subject").getAttribute("aria-invalid")).toBe("true");
    await waitFor(() => expect(document.activeElement).toBe(byId("nm-subject")));
    expect(callsTo("start_conversation")).toEqual([]);

    await type("nm-subject", "Your invoice");
    expect(problemTexts()).toEqual([]);
    await fireEvent.click(byId("nm-send"));
    await waitFor(() =>
      expect(callsTo("start_conversation")).toEqual([
        { draft: { inbox_id: 7, address: "ben@example.com", subject: "Your invoice", body: "Your invoice is attached.", params: [] } },
      ]),
    );
  });

  test("WhatsApp to a new number needs a template, with every value, and previews it", async () => {
    setup();
    await type("nm-to", "+1 415 555 0199");
    await choose("nm-inbox", "2");
    expect(screen.getByTestId("nm-window").textContent).toContain("the first message must be an approved template");
    expect(screen.queryByTestId("nm-body")).toBeNull();
    expect(options("nm-template")).toEqual(["Choose a template…", "order_update (en_US)", "follow_up (en_US)"]);
    await fireEvent.click(byId("nm-send"));
    expect(problemTexts()).toEqual(["WhatsApp reaches a new number only with an approved template: choose one."]);
    expect(callsTo("start_conversation")).toEqual([]);

    await choose("nm-template", "order_update");
    const params = screen.getAllByTestId("nm-param") as HTMLInputElement[];
    expect(params).toHaveLength(2);
    expect(screen.getByTestId("nm-preview").textContent).toBe("Hi {{1}}, order {{2}} shipped.");
    await fireEvent.input(params[0]!, { target: { value: "Ben" } });
    expect(screen.getByTestId("nm-preview").textContent).toBe("Hi Ben, order {{2}} shipped.");
    await fireEvent.click(byId("nm-send"));
    expect(problemTexts()).toEqual(["Fill in every value of the template."]);
    expect(callsTo("start_conversation")).toEqual([]);

    await fireEvent.input(params[1]!, { target: { value: "#4821" } });
    expect(screen.getByTestId("nm-preview").textContent).toBe("Hi Ben, order #4821 shipped.");
    await fireEvent.click(byId("nm-send"));
    await waitFor(() =>
      expect(callsTo("start_conversation")).toEqual([
        { draft: { inbox_id: 2, address: "+1 415 555 0199", body: "", template: "order_update", params: ["Ben", "#4821"] } },
      ]),
    );
  });

  test("a valid draft goes as written; the dialog closes and says who it went to", async () => {
    const { onclose, onsent } = setup({ start: () => ({ outbox_id: 9, client_msg_id: "c9" }) });
    await fireEvent.click(byId("nm-send"));
    expect(problemTexts()).toEqual(["Enter a phone number or an email address.", "Write a message."]);
    await type("nm-to", "+1 415 555 0199");
    await type("nm-name", " Ben Okafor ");
    await type("nm-body", "Hi Ben, your table is booked.");
    await fireEvent.keyDown(byId("nm-body"), { key: "Enter", ctrlKey: true });
    await waitFor(() => expect(onsent).toHaveBeenCalledWith({ outbox_id: 9, client_msg_id: "c9" }, "Ben Okafor"));
    expect(callsTo("start_conversation")).toEqual([
      { draft: { inbox_id: 1, address: "+1 415 555 0199", name: "Ben Okafor", body: "Hi Ben, your table is booked.", params: [] } },
    ]);
    expect(onclose).toHaveBeenCalledTimes(1);
  });

  test("the core's refusal shows in the dialog, which stays open with the draft", async () => {
    const { onclose, onsent } = setup({
      start: () => {
        throw { code: "bad_request", message: "this SMS inbox has no phone number to send from" };
      },
    });
    await type("nm-to", "+1 415 555 0199");
    await type("nm-body", "Hello");
    await fireEvent.click(byId("nm-send"));
    expect((await screen.findByTestId("nm-error")).textContent).toBe("this SMS inbox has no phone number to send from");
    expect(onsent).not.toHaveBeenCalled();
    expect(onclose).not.toHaveBeenCalled();
    expect(byId<HTMLTextAreaElement>("nm-body").value).toBe("Hello");
  });
});
