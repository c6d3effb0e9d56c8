// The customer sidebar: each address's consent per purpose and the dialog that records a
// change with a reason; the CRM part (fields with their age, a failed fetch, no match with
// a search by another address, other matches, and the refresh action); New message.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Agent, Consent, Contact, CrmSnapshot, Profile } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { answer, callsTo } from "../test/tauri";
import ProfileSidebar from "./ProfileSidebar.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => {
  cleanup();
  app.directory = null;
  app.toasts = [];
});

let nextContact = 900;

function setup(crm: CrmSnapshot | null) {
  const id = nextContact++;
  answer({ refresh_crm: () => 1, open_crm_record: () => null });
  const profile: Profile = {
    contact: {
      id,
      name: "Ben Okafor",
      identities: [{ channel: "sms", address: "+14155550123" }],
      profile: {},
      crm,
      opted_out: [],
      consents: [],
      created_at: 0,
      updated_at: 0,
      version: 1,
    },
    conversations: [],
  };
  render(ProfileSidebar, { profile, openId: null, canMerge: false, onopen: () => {}, onmerge: () => {} });
  return id;
}

function snapshot(extra: Partial<CrmSnapshot> = {}): CrmSnapshot {
  return {
    source: "hubspot",
    fields: [{ key: "owner", label: "Owner", value: "Priya Raman" }],
    fetched_at: Date.now() - 5 * 60_000,
    link: "https://app.hubspot.com/contacts/1/record/0-1/7",
    error: null,
    record_id: "7",
    searched: ["+14155550123"],
    others: [],
    ...extra,
  };
}

describe("ProfileSidebar New message", () => {
  test("writes to the customer when the inbox offers it", async () => {
    answer({ refresh_crm: () => 1 });
    const onnewmessage = vi.fn();
    const contact = { id: nextContact++, name: "Ben Okafor", identities: [], profile: {}, crm: null, opted_out: [], consents: [], created_at: 0, updated_at: 0, version: 1 };
    render(ProfileSidebar, { profile: { contact, conversations: [] }, openId: null, canMerge: false, onopen: () => {}, onmerge: () => {}, onnewmessage });
    await fireEvent.click(screen.getByTestId("new-message-customer"));
    expect(onnewmessage).toHaveBeenCalledTimes(1);
    cleanup();
    render(ProfileSidebar, { profile: { contact, conversations: [] }, openId: null, canMerge: false, onopen: () => {}, onmerge: () => {} });
    expect(screen.queryByTestId("new-message-customer")).toBeNull();
  });
});

describe("ProfileSidebar CRM", () => {
  test("shows the fields with their age and asks the hub for stale ones once", async () => {
    const id = setup(snapshot({ others: [{ record_id: "8", name: "Amara Okafor", detail: "amara@example.com", link: null }] }));
    expect(screen.getByTestId("crm-field").textContent).toContain("Priya Raman");
    expect(screen.getByTestId("crm-fetched").textContent).toMatch(/fetched 5 ?m/);
    expect(screen.getByTestId("crm-other").textContent).toBe("Amara Okafor · amara@example.com");
    expect(screen.queryByTestId("crm-search")).toBeNull();
    await waitFor(() => expect(callsTo("refresh_crm")).toContainEqual({ contact_id: id, force: false, by: null }));
  });

  test("the refresh action forces a fetch", async () => {
    const id = setup(snapshot());
    await fireEvent.click(screen.getByTestId("crm-refresh"));
    await waitFor(() => expect(callsTo("refresh_crm")).toContainEqual({ contact_id: id, force: true, by: null }));
    expect((screen.getByTestId("crm-refresh") as HTMLButtonElement).disabled).toBe(true);
  });

  test("no match says what was searched and offers another address", async () => {
    const id = setup(snapshot({ record_id: null, fields: [], link: null }));
    expect(screen.getByTestId("crm-none").textContent).toMatch(/No record in HubSpot\s+for \+14155550123/);
    const input = screen.getByPlaceholderText("Search by email or phone") as HTMLInputElement;
    await fireEvent.input(input, { target: { value: " ben@work.example " } });
    await fireEvent.submit(screen.getByTestId("crm-search"));
    await waitFor(() =>
      expect(callsTo("refresh_crm")).toContainEqual({ contact_id: id, force: true, by: "ben@work.example" }),
    );
  });

  test("a failed fetch is shown over the last good values", () => {
    setup(snapshot({ error: "HubSpot is not available (503 Service Unavailable)" }));
    expect(screen.getByTestId("crm-error").textContent).toContain("HubSpot is not available");
    expect(screen.getByTestId("crm-error").textContent).toContain("Showing the last good values");
    expect(screen.getByTestId("crm-field").textContent).toContain("Priya Raman");
  });

  test("a customer not looked up yet can be searched for", () => {
    setup(null);
    expect(screen.getByTestId("crm-none").textContent).toContain("Not looked up");
    expect(screen.getByTestId("crm-search")).toBeTruthy();
  });
});

describe("ProfileSidebar consent", () => {
  const SMS = { channel: "sms", address: "+14155550123" } as const;
  const MAIL = { channel: "email", address: "ben@example.com" } as const;
  const maya: Agent = { id: 7, name: "Maya Okafor", email: "maya@x.test", role: "agent", teams: [1], capacity: 10, presence: "online", disabled: false, skills: [], routing_paused: false, version: 1 };

  function stop(purpose: Consent["purpose"]): Consent {
    return { ...SMS, purpose, granted: false, source: "keyword", evidence: "STOP", at: Date.now() - 3.5 * 3_600_000 };
  }

  /** Ben, who texted STOP and told Maya by email he wants offers there. */
  function setupConsent(setConsent: (a: Record<string, unknown>) => unknown = () => 31) {
    app.directory = { me: maya, permissions: { reassign: false, oversee: false, merge_contacts: false, share_canned: false, edit_articles: false }, agents: [maya], teams: [], inboxes: [] };
    answer({ refresh_crm: () => 1, set_consent: setConsent });
    const contact: Contact = {
      id: nextContact++,
      name: "Ben Okafor",
      identities: [SMS, MAIL],
      profile: {},
      crm: null,
      opted_out: [SMS],
      consents: [
        stop("service"),
        stop("marketing"),
        { ...MAIL, purpose: "marketing", granted: true, source: "agent", evidence: "Asked for offers by email", reason: "Asked for offers by email", by_agent_id: 7, at: Date.now() - 2.5 * 86_400_000 },
      ],
      created_at: 0,
      updated_at: 0,
      version: 1,
    };
    render(ProfileSidebar, { profile: { contact, conversations: [] }, openId: null, canMerge: false, onopen: () => {}, onmerge: () => {} });
    return contact;
  }

  const text = (id: string) => screen.getByTestId(id).textContent?.replace(/\s+/g, " ").trim();
  const save = () => screen.getByTestId("consent-save") as HTMLButtonElement;

  test("each address shows its consent per purpose, by whom and when, and the opt-out agrees", () => {
    setupConsent();
    expect(text("consent-sms-service")).toBe("Service messages Withdrawn by keyword “STOP” · 3 h ago");
    expect(text("consent-sms-marketing")).toBe("Marketing Withdrawn by keyword “STOP” · 3 h ago");
    expect(text("consent-email-service")).toBe("Service messages Not recorded");
    expect(text("consent-email-marketing")).toBe("Marketing Granted by Maya Okafor — Asked for offers by email · 2 days ago");
    const [sms, mail] = screen.getAllByTestId("identity");
    expect(sms?.textContent).toContain("Opted out");
    expect(mail?.textContent).not.toContain("Opted out");
    expect(screen.getAllByTestId("consent-edit").map((b) => b.getAttribute("aria-label"))).toEqual([
      "Edit consent on SMS +14155550123",
      "Edit consent on Email ben@example.com",
    ]);
  });

  test("the dialog records a change with its reason and closes with a toast", async () => {
    const contact = setupConsent();
    await fireEvent.click(screen.getAllByTestId("consent-edit")[0]!);
    const dialog = screen.getByTestId("consent-dialog");
    expect(dialog.getAttribute("aria-label")).toBe("Change consent on SMS +14155550123");
    // Labelled controls, starting from where service stands.
    expect(within(dialog).getByLabelText("Purpose")).toBe(screen.getByTestId("consent-purpose"));
    expect(document.activeElement).toBe(screen.getByTestId("consent-purpose"));
    expect(within(dialog).getByLabelText("Withdrawn")).toBe(screen.getByTestId("consent-withdrawn"));
    expect((screen.getByTestId("consent-withdrawn") as HTMLInputElement).checked).toBe(true);
    expect(text("consent-now")).toBe("Now: Withdrawn — by keyword “STOP”");

    await fireEvent.change(screen.getByTestId("consent-purpose"), { target: { value: "marketing" } });
    await fireEvent.click(screen.getByTestId("consent-granted"));
    expect(text("consent-effect")).toContain("+14155550123 is opted out");
    expect(save().disabled).toBe(true);

    await fireEvent.input(screen.getByTestId("consent-reason"), { target: { value: "  Asked for offers by text on a call, 3 March  " } });
    expect(text("consent-count")).toBe("43 / 1,000");
    expect(save().disabled).toBe(false);
    await fireEvent.click(save());

    await waitFor(() => expect(screen.queryByTestId("consent-dialog")).toBeNull());
    expect(callsTo("set_consent")).toEqual([
      {
        consent: {
          contact_id: contact.id,
          channel: "sms",
          address: "+14155550123",
          purpose: "marketing",
          granted: true,
          reason: "Asked for offers by text on a call, 3 March",
        },
      },
    ]);
    expect(app.toasts.map((t) => t.text)).toContain("Marketing granted on +14155550123");
  });

  test("Save waits for a choice and a reason of 1 to 1,000 characters", async () => {
    setupConsent();
    await fireEvent.click(screen.getAllByTestId("consent-edit")[1]!);
    // Email service has no record: nothing is chosen for the agent.
    expect((screen.getByTestId("consent-granted") as HTMLInputElement).checked).toBe(false);
    expect((screen.getByTestId("consent-withdrawn") as HTMLInputElement).checked).toBe(false);
    const reason = screen.getByTestId("consent-reason");
    await fireEvent.input(reason, { target: { value: "Said so in chat" } });
    expect(save().disabled).toBe(true);
    await fireEvent.click(screen.getByTestId("consent-withdrawn"));
    expect(text("consent-effect")).toContain("opts ben@example.com out of everything");
    expect(save().disabled).toBe(false);
    await fireEvent.input(reason, { target: { value: "   " } });
    expect(save().disabled).toBe(true);
    await fireEvent.input(reason, { target: { value: "x".repeat(1001) } });
    expect(save().disabled).toBe(true);
    expect(text("consent-count")).toBe("1,001 / 1,000 — too long");
    expect(reason.getAttribute("aria-invalid")).toBe("true");
    await fireEvent.input(reason, { target: { value: "x".repeat(1000) } });
    expect(save().disabled).toBe(false);
    expect(callsTo("set_consent")).toEqual([]);
  });

  test("a refusal is shown in the dialog, which stays open", async () => {
    setupConsent(() => {
      throw { code: "bad_request", message: "ben@example.com is not one of Ben Okafor's addresses" };
    });
    await fireEvent.click(screen.getAllByTestId("consent-edit")[1]!);
    await fireEvent.click(screen.getByTestId("consent-granted"));
    await fireEvent.input(screen.getByTestId("consent-reason"), { target: { value: "Asked for updates" } });
    await fireEvent.submit(screen.getByTestId("consent-reason").closest("form")!);
    await waitFor(() => expect(text("consent-error")).toBe("ben@example.com is not one of Ben Okafor's addresses"));
    expect(screen.getByTestId("consent-dialog")).toBeTruthy();
    expect(save().disabled).toBe(false);
    expect(app.toasts).toEqual([]);
  });

  test("keys stay in the dialog; Escape closes it and gives the focus back", async () => {
    setupConsent();
    const edit = screen.getAllByTestId("consent-edit")[0]!;
    edit.focus();
    await fireEvent.click(edit);
    const outside = vi.fn();
    window.addEventListener("keydown", outside);
    try {
      await fireEvent.keyDown(screen.getByTestId("consent-granted"), { key: "j" });
      expect(outside).not.toHaveBeenCalled();
      // Tab still goes round inside the dialog (Save is disabled: Cancel is the last stop).
      const cancel = screen.getByRole("button", { name: "Cancel" });
      cancel.focus();
      await fireEvent.keyDown(cancel, { key: "Tab" });
      expect(document.activeElement).toBe(screen.getByTestId("consent-purpose"));
      await fireEvent.keyDown(screen.getByTestId("consent-reason"), { key: "Escape" });
    } finally {
      window.removeEventListener("keydown", outside);
    }
    expect(screen.queryByTestId("consent-dialog")).toBeNull();
    expect(document.activeElement).toBe(edit);
  });
});
