// The canned-responses editor: lists the team's and the agent's own, edits and adds them,
// deletes after a second click, shows the team's read-only to an agent, offers sharing to
// leads only, shows the core's refusal, and asks for a second click before replacing a newer
// version from elsewhere or taking a response away from the team.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import type { Agent, CannedDraft, CannedOption } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { canned } from "../test/fixtures";
import { answer, callsTo } from "../test/tauri";
import CannedDialog from "./CannedDialog.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

const me: Agent = { id: 7, name: "Maya Okafor", email: "maya@x.test", role: "agent", teams: [1], capacity: 10, presence: "online", disabled: false, skills: [], routing_paused: false, version: 1 };

function signIn(lead: boolean) {
  app.directory = {
    me: { ...me, role: lead ? "lead" : "agent" },
    permissions: { reassign: lead, oversee: lead, merge_contacts: lead, share_canned: lead, edit_articles: lead },
    agents: [me],
    teams: [],
    inboxes: [],
  };
}

let list: CannedOption[] = [];

beforeEach(() => {
  list = [
    canned(1, "hi", "Greeting", "Hi {{customer.first_name}}"),
    canned(2, "refund", "Refund on its way", "Your refund is on its way.", { owner_id: 7, editable: true }),
  ];
  answer({
    canned: () => list,
    save_canned: (a) => {
      const d = a.draft as CannedDraft;
      const key = d.key ?? "new-key";
      const saved = canned(9, d.shortcut, d.title, d.body, {
        key,
        owner_id: d.shared ? null : 7,
        editable: true,
        pending: true,
      });
      list = [...list.filter((c) => c.key !== key), saved];
      return key;
    },
    delete_canned: (a) => {
      list = list.filter((c) => c.key !== a.key);
      return null;
    },
  });
});

afterEach(() => {
  cleanup();
  app.directory = null;
});

const items = () => screen.getAllByTestId("canned-item");
/** What the editor asked the core to save, in order. */
const saves = () => callsTo("save_canned").map((a) => a.draft as CannedDraft);
const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;

test("lists the team's responses and the agent's own", async () => {
  signIn(false);
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  expect(items().map((i) => i.textContent?.replace(/\s+/g, " ").trim())).toEqual(["/hi Greeting Team", "/refund Refund on its way Yours"]);
});

test("an agent writes a new response of their own; it shows as saving until the hub confirms", async () => {
  signIn(false);
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  expect(screen.queryByLabelText("Share with the team")).toBeNull();
  await fireEvent.input(field("Shortcut"), { target: { value: "ship" } });
  await fireEvent.input(field("Title"), { target: { value: "Shipping" } });
  await fireEvent.input(field("Text"), { target: { value: "It ships tomorrow, " } });
  await fireEvent.click(screen.getByRole("button", { name: "{{customer.first_name}}" }));
  await fireEvent.click(screen.getByTestId("canned-save"));
  await waitFor(() =>
    expect(saves()).toEqual([
      { key: null, version: null, shortcut: "ship", title: "Shipping", body: "It ships tomorrow, {{customer.first_name}}", shared: false },
    ]),
  );
  await waitFor(() => expect(items()).toHaveLength(3));
  const added = items().find((i) => i.textContent?.includes("/ship"));
  expect(added?.textContent).toContain("Saving…");
  expect(added?.getAttribute("aria-current")).toBe("true");
});

test("editing saves under the same key; delete asks for a second click", async () => {
  signIn(false);
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  await fireEvent.click(items()[1]!);
  expect(field("Title").value).toBe("Refund on its way");
  await fireEvent.input(field("Title"), { target: { value: "Refund sent" } });
  await fireEvent.click(screen.getByTestId("canned-save"));
  await waitFor(() => expect(saves()).toEqual([expect.objectContaining({ key: "k2", version: 1, title: "Refund sent" })]));

  await fireEvent.click(screen.getByTestId("canned-delete"));
  expect(callsTo("delete_canned")).toEqual([]);
  expect(screen.getByTestId("canned-delete").textContent).toBe("Delete for good");
  await fireEvent.click(screen.getByTestId("canned-delete"));
  await waitFor(() => expect(callsTo("delete_canned")).toEqual([{ key: "k2", version: 1 }]));
  await waitFor(() => expect(items()).toHaveLength(1));
});

test("an agent sees the team's response read-only", async () => {
  signIn(false);
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  await fireEvent.click(items()[0]!);
  expect(screen.getByText("Only a team lead can change the team's canned responses.")).toBeTruthy();
  expect(field("Title").readOnly).toBe(true);
  expect(screen.queryByTestId("canned-save")).toBeNull();
  expect(screen.queryByTestId("canned-delete")).toBeNull();
});

test("a lead may share a response with the team", async () => {
  signIn(true);
  list = list.map((c) => ({ ...c, editable: true }));
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  await fireEvent.click(items()[0]!);
  const share = screen.getByLabelText("Share with the team") as HTMLInputElement;
  expect(share.checked).toBe(true);
  await fireEvent.input(field("Text"), { target: { value: "Hello {{customer.name}}" } });
  await fireEvent.click(screen.getByTestId("canned-save"));
  await waitFor(() =>
    expect(saves()).toEqual([expect.objectContaining({ key: "k1", body: "Hello {{customer.name}}", shared: true })]),
  );
});

test("the core's refusal is shown and the form keeps what was typed", async () => {
  signIn(false);
  answer({
    canned: () => list,
    save_canned: () => {
      throw { code: "bad_request", message: "/refund is already “Refund on its way”" };
    },
  });
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  await fireEvent.input(field("Shortcut"), { target: { value: "refund" } });
  await fireEvent.input(field("Title"), { target: { value: "Another" } });
  await fireEvent.input(field("Text"), { target: { value: "Text" } });
  await fireEvent.click(screen.getByTestId("canned-save"));
  expect((await screen.findByRole("alert")).textContent).toContain("/refund is already");
  expect(field("Title").value).toBe("Another");
});

test("a change to the canned responses reloads the list", async () => {
  signIn(false);
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  list = [...list, canned(3, "bye", "Closing", "Bye!")];
  app.changes.push({ conversations: [], contacts: [], directory: false, canned: true, everything: false });
  app.changes.flush();
  await waitFor(() => expect(items()).toHaveLength(3));
  expect(within(screen.getByRole("list", { name: "Canned responses" })).getByText("/bye")).toBeTruthy();
});

test("a response deleted elsewhere while open leaves the editor for a new one", async () => {
  signIn(false);
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  await fireEvent.click(items()[1]!);
  expect(field("Title").value).toBe("Refund on its way");
  list = list.filter((c) => c.key !== "k2");
  app.changes.push({ conversations: [], contacts: [], directory: false, canned: true, everything: false });
  app.changes.flush();
  await waitFor(() => expect(items()).toHaveLength(1));
  expect(screen.getByRole("heading").textContent).toBe("New canned response");
  expect(field("Title").value).toBe("");
  expect(screen.queryByTestId("canned-delete")).toBeNull();
});

/** A lead with the team's /hi open; Lee is another lead. */
async function leadEditsTheTeamGreeting() {
  signIn(true);
  app.directory!.agents = [me, { ...me, id: 8, name: "Lee Park", role: "lead" }];
  list = list.map((c) => ({ ...c, editable: true }));
  render(CannedDialog, { onclose: vi.fn() });
  await waitFor(() => expect(items()).toHaveLength(2));
  await fireEvent.click(items()[0]!);
}

/** Lets the editor take in what the last reload answered. */
const settle = () => new Promise((r) => setTimeout(r, 0));

function leeSaves(body: string) {
  list = list.map((c) => (c.key === "k1" ? { ...c, body, version: c.version + 1, updated_by: 8 } : c));
  app.changes.push({ conversations: [], contacts: [], directory: false, canned: true, everything: false });
  app.changes.flush();
}

test("a newer version from another lead is not overwritten without a second click", async () => {
  await leadEditsTheTeamGreeting();
  await fireEvent.input(field("Text"), { target: { value: "Hello there" } });
  leeSaves("Hi {{customer.first_name}}, welcome back");
  await waitFor(() => expect(callsTo("canned")).toHaveLength(2));
  await settle();
  expect(field("Text").value).toBe("Hello there");

  await fireEvent.click(screen.getByTestId("canned-save"));
  expect(saves()).toEqual([]);
  expect(screen.getByTestId("canned-confirm").textContent).toBe(
    "Lee Park changed it after you opened /hi here. Save again to replace that version with this one.",
  );
  await fireEvent.click(screen.getByTestId("canned-save"));
  // The agent chose to replace Lee's version: the save carries no version to check.
  await waitFor(() => expect(saves()).toEqual([expect.objectContaining({ key: "k1", version: null, body: "Hello there" })]));
});

test("an open response not edited here shows another lead's newer text", async () => {
  await leadEditsTheTeamGreeting();
  leeSaves("Hi {{customer.first_name}}, welcome back");
  await waitFor(() => expect(field("Text").value).toBe("Hi {{customer.first_name}}, welcome back"));
  await fireEvent.input(field("Title"), { target: { value: "Welcome" } });
  await fireEvent.click(screen.getByTestId("canned-save"));
  await waitFor(() => expect(saves()).toEqual([expect.objectContaining({ version: 2, title: "Welcome" })]));
  expect(screen.queryByTestId("canned-confirm")).toBeNull();
});

test("taking a response away from the team asks for a second click", async () => {
  await leadEditsTheTeamGreeting();
  await fireEvent.click(screen.getByLabelText("Share with the team"));
  await fireEvent.click(screen.getByTestId("canned-save"));
  expect(saves()).toEqual([]);
  expect(screen.getByTestId("canned-confirm").textContent).toBe(
    "/hi will be yours alone and leave the team's list. Save again to confirm.",
  );
  await fireEvent.click(screen.getByTestId("canned-save"));
  await waitFor(() => expect(saves()).toEqual([expect.objectContaining({ key: "k1", version: 1, shared: false })]));
});

test("the hub's copy of this editor's own save does not ask for a second click", async () => {
  await leadEditsTheTeamGreeting();
  await fireEvent.input(field("Text"), { target: { value: "Hello there" } });
  await fireEvent.click(screen.getByTestId("canned-save"));
  await waitFor(() => expect(saves()).toHaveLength(1));
  // Typing on while the hub confirms, which brings its copy as a new version.
  await fireEvent.input(field("Text"), { target: { value: "Hello there, again" } });
  list = list.map((c) => (c.key === "k1" ? { ...c, pending: false, version: 2, updated_by: 7 } : c));
  app.changes.push({ conversations: [], contacts: [], directory: false, canned: true, everything: false });
  app.changes.flush();
  await waitFor(() => expect(callsTo("canned")).toHaveLength(3));
  await settle();
  await fireEvent.click(screen.getByTestId("canned-save"));
  await waitFor(() => expect(saves()).toHaveLength(2));
  expect(saves()[1]).toEqual(expect.objectContaining({ version: 2, body: "Hello there, again" }));
  expect(screen.queryByTestId("canned-confirm")).toBeNull();
});
