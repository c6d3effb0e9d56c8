// The lead's load panel sets each agent's capacity and routing pause, and each of the lead's
// teams' routing; what it sends is what the core takes.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Agent, AgentLoad } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { inbox } from "../test/fixtures";
import { answer, callsTo } from "../test/tauri";
import LoadPanel from "./LoadPanel.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

const person = (id: number, name: string, role: Agent["role"], teams: number[]): Agent => ({
  id,
  name,
  email: `${id}@x.test`,
  role,
  teams,
  capacity: 5,
  presence: "online",
  disabled: false,
  skills: [],
  routing_paused: false,
  version: 1,
});

const lee = person(1, "Lee Lead", "lead", [1]);
const maya = person(2, "Maya Agent", "agent", [1]);
const load: AgentLoad[] = [
  { agent_id: 2, name: "Maya Agent", presence: "online", capacity: 5, open: 3, waiting: 1, oldest_waiting_since: null },
  { agent_id: null, name: "Unassigned", presence: null, capacity: 0, open: 4, waiting: 4, oldest_waiting_since: null },
];

beforeEach(() => {
  app.directory = {
    me: lee,
    permissions: { reassign: true, oversee: true, merge_contacts: true, share_canned: true, edit_articles: true },
    agents: [lee, maya],
    teams: [
      { id: 1, name: "Support", routing: { mode: "manual", sticky: false, skills: [] }, version: 1 },
      { id: 2, name: "Billing", routing: { mode: "manual", sticky: false, skills: [] }, version: 1 },
    ],
    inboxes: [inbox(8, "email", "billing@northwind.example", 2), inbox(1, "sms", "SMS · +1 415 555 0100", 1)],
  };
  answer({ team_load: () => load, set_agent_routing: () => 1, set_routing: () => 1 });
});

afterEach(() => {
  cleanup();
  app.directory = null;
});

describe("LoadPanel", () => {
  test("sets an agent's capacity and pauses their routing", async () => {
    render(LoadPanel, { onclose: () => {} });
    const capacity = (await screen.findByTestId("capacity")) as HTMLInputElement;
    expect(capacity.value).toBe("5");
    await fireEvent.change(capacity, { target: { value: "3" } });
    await waitFor(() =>
      expect(callsTo("set_agent_routing")).toEqual([{ agent_id: 2, capacity: 3, paused: null, skills: null }]),
    );
    await fireEvent.click(screen.getByTestId("routing-paused"));
    await waitFor(() => expect(callsTo("set_agent_routing")[1]).toEqual({ agent_id: 2, capacity: null, paused: true, skills: null }));
    await fireEvent.change(capacity, { target: { value: "500" } });
    expect(callsTo("set_agent_routing")).toHaveLength(2);
  });

  test("turns routing on for the lead's own teams only", async () => {
    render(LoadPanel, { onclose: () => {} });
    const teams = await screen.findAllByTestId("routing-team");
    expect(teams.map((t) => t.getAttribute("data-team"))).toEqual(["1"]);
    const scope = screen.getByTestId("routing-scope") as HTMLSelectElement;
    expect([...scope.options].map((o) => o.value)).toEqual(["", "1"]);
    await fireEvent.change(screen.getByTestId("routing-mode"), { target: { value: "least_loaded" } });
    await waitFor(() =>
      expect(callsTo("set_routing")).toEqual([
        {
          team_id: 1,
          inbox_id: null,
          policy: { mode: "least_loaded", sticky: false, skills: [], reassign_after_mins: null },
        },
      ]),
    );
  });
});
