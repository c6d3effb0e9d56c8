// The CRM part of the customer sidebar: fields with their age, a failed fetch, no match with
// a search by another address, other matches, and the refresh action.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { CrmSnapshot, Profile } from "../lib/protocol";
import { answer, callsTo } from "../test/tauri";
import ProfileSidebar from "./ProfileSidebar.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => cleanup());

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
    const contact = { id: nextContact++, name: "Ben Okafor", identities: [], profile: {}, crm: null, opted_out: [], created_at: 0, updated_at: 0, version: 1 };
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
