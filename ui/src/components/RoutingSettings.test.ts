// The lead's routing and targets apply to a team (all its inboxes) or to one of its inboxes:
// an inbox shows its own policy or follows its team's, saving gives it its own, and "Follow
// the team again" drops it; what is sent is what the core takes.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Inbox, SlaPolicy, Team } from "../lib/protocol";
import { inbox } from "../test/fixtures";
import { answer, callsTo } from "../test/tauri";
import RoutingSettings from "./RoutingSettings.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

const lisbon: SlaPolicy = {
  calendar: { time_zone: "Europe/Lisbon", hours: { mon: "09:00-18:00", tue: "09:00-18:00", wed: "09:00-18:00", thu: "09:00-18:00", fri: "09:00-18:00" }, holidays: [] },
  first_response_mins: 15,
  next_response_mins: 30,
  resolution_mins: 480,
  warn_before_mins: 5,
};

const support: Team = {
  id: 1,
  name: "Support",
  routing: { mode: "round_robin", sticky: true, skills: [], reassign_after_mins: 30 },
  sla: lisbon,
  version: 3,
};

const sms = inbox(1, "sms", "SMS · +1 415 555 0100", 1);
const whatsapp = inbox(2, "whatsapp", "WhatsApp · Northwind", 1, {
  routing: { mode: "least_loaded", sticky: false, skills: [], reassign_after_mins: null },
  sla: { ...lisbon, first_response_mins: 5, next_response_mins: null, resolution_mins: null },
});
const billing = inbox(8, "email", "billing@northwind.example", 2);

function show(inboxes: Inbox[] = [sms, whatsapp, billing]) {
  return render(RoutingSettings, { teams: [support], inboxes });
}

const scope = () => screen.getByTestId("routing-scope") as HTMLSelectElement;
const value = (id: string) => (screen.getByTestId(id) as HTMLInputElement | HTMLSelectElement).value;

beforeEach(() => {
  answer({ set_routing: () => 1, set_sla: () => 1 });
});

afterEach(() => {
  cleanup();
});

describe("RoutingSettings", () => {
  test("offers the team and each of its inboxes, by name with its channel", () => {
    show();
    expect(scope().value).toBe("");
    expect([...scope().options].map((o) => [o.value, o.textContent])).toEqual([
      ["", "All of Support's inboxes"],
      ["1", "SMS · +1 415 555 0100 (SMS)"],
      ["2", "WhatsApp · Northwind (WhatsApp) · own settings"],
    ]);
  });

  test("the team scope sends inbox_id null, as before", async () => {
    show();
    expect(screen.queryByTestId("routing-inherited")).toBeNull();
    expect(screen.queryByTestId("routing-follow-team")).toBeNull();
    await fireEvent.change(screen.getByTestId("routing-mode"), { target: { value: "least_loaded" } });
    await waitFor(() =>
      expect(callsTo("set_routing")).toEqual([
        { team_id: 1, inbox_id: null, policy: { mode: "least_loaded", sticky: true, skills: [], reassign_after_mins: 30 } },
      ]),
    );
    await fireEvent.input(screen.getByTestId("sla-first"), { target: { value: "20" } });
    await fireEvent.click(screen.getByTestId("sla-save"));
    await waitFor(() =>
      expect(callsTo("set_sla")).toEqual([{ team_id: 1, inbox_id: null, policy: { ...lisbon, first_response_mins: 20 } }]),
    );
    // A team without targets has none.
    for (const id of ["sla-first", "sla-next", "sla-resolution"]) await fireEvent.input(screen.getByTestId(id), { target: { value: "" } });
    await fireEvent.click(screen.getByTestId("sla-save"));
    await waitFor(() => expect(callsTo("set_sla")[1]).toEqual({ team_id: 1, inbox_id: null, policy: null }));
  });

  test("an inbox following its team shows the team's values with a note", async () => {
    show();
    await fireEvent.change(scope(), { target: { value: "1" } });
    expect(screen.getByTestId("routing-inherited").textContent).toBe("Follows Support's settings");
    expect(screen.getByTestId("sla-inherited").textContent).toBe("Follows Support's settings");
    expect(screen.queryByTestId("routing-follow-team")).toBeNull();
    expect(screen.queryByTestId("sla-follow-team")).toBeNull();
    expect(value("routing-mode")).toBe("round_robin");
    expect((screen.getByTestId("routing-sticky") as HTMLInputElement).checked).toBe(true);
    expect(value("routing-reassign")).toBe("30");
    expect(value("sla-first")).toBe("15");
    expect(value("sla-next")).toBe("30");
    expect(value("sla-resolution")).toBe("8");
    expect(value("sla-zone")).toBe("Europe/Lisbon");
    expect(value("sla-hours")).toBe("09:00-18:00");
  });

  test("saving on an inbox that follows its team gives it its own, with that inbox_id", async () => {
    show();
    await fireEvent.change(scope(), { target: { value: "1" } });
    await fireEvent.change(screen.getByTestId("routing-mode"), { target: { value: "least_loaded" } });
    await waitFor(() =>
      expect(callsTo("set_routing")).toEqual([
        { team_id: 1, inbox_id: 1, policy: { mode: "least_loaded", sticky: true, skills: [], reassign_after_mins: 30 } },
      ]),
    );
    await fireEvent.input(screen.getByTestId("sla-first"), { target: { value: "10" } });
    await fireEvent.click(screen.getByTestId("sla-save"));
    await waitFor(() =>
      expect(callsTo("set_sla")).toEqual([{ team_id: 1, inbox_id: 1, policy: { ...lisbon, first_response_mins: 10 } }]),
    );
    // An inbox without targets keeps a policy of none: null would make it follow the team.
    for (const id of ["sla-first", "sla-next", "sla-resolution"]) await fireEvent.input(screen.getByTestId(id), { target: { value: "" } });
    await fireEvent.click(screen.getByTestId("sla-save"));
    await waitFor(() =>
      expect(callsTo("set_sla")[1]).toEqual({
        team_id: 1,
        inbox_id: 1,
        policy: { ...lisbon, first_response_mins: null, next_response_mins: null, resolution_mins: null },
      }),
    );
    // The validation holds for an inbox too: a bad reassign time is sent as never.
    await fireEvent.change(screen.getByTestId("routing-reassign"), { target: { value: "0" } });
    await waitFor(() => expect(callsTo("set_routing")[1]).toMatchObject({ inbox_id: 1, policy: { reassign_after_mins: null } }));
  });

  test("an inbox with its own shows it, and Follow the team again sends null with its inbox_id", async () => {
    show();
    await fireEvent.change(scope(), { target: { value: "2" } });
    expect(screen.queryByTestId("routing-inherited")).toBeNull();
    expect(screen.queryByTestId("sla-inherited")).toBeNull();
    expect(value("routing-mode")).toBe("least_loaded");
    expect((screen.getByTestId("routing-sticky") as HTMLInputElement).checked).toBe(false);
    expect(value("routing-reassign")).toBe("0");
    expect(value("sla-first")).toBe("5");
    expect(value("sla-next")).toBe("");

    await fireEvent.change(screen.getByTestId("routing-mode"), { target: { value: "round_robin" } });
    await waitFor(() =>
      expect(callsTo("set_routing")).toEqual([
        { team_id: 1, inbox_id: 2, policy: { mode: "round_robin", sticky: false, skills: [], reassign_after_mins: null } },
      ]),
    );

    await fireEvent.click(screen.getByTestId("routing-follow-team"));
    await waitFor(() => expect(callsTo("set_routing")[1]).toEqual({ team_id: 1, inbox_id: 2, policy: null }));
    await fireEvent.click(screen.getByTestId("sla-follow-team"));
    await waitFor(() => expect(callsTo("set_sla")).toEqual([{ team_id: 1, inbox_id: 2, policy: null }]));
    // The form shows what the inbox follows now: the team's targets.
    await waitFor(() => expect(value("sla-first")).toBe("15"));
  });

  test("follows the directory: an inbox's own policy coming and going, and the inbox leaving", async () => {
    const { rerender } = show();
    await fireEvent.change(scope(), { target: { value: "1" } });
    expect(screen.getByTestId("routing-inherited")).toBeTruthy();

    const own = { ...sms, routing: { mode: "manual" as const, sticky: false, skills: [] }, version: 2 };
    await rerender({ teams: [support], inboxes: [own, whatsapp, billing] });
    expect(screen.queryByTestId("routing-inherited")).toBeNull();
    expect(screen.getByTestId("routing-follow-team")).toBeTruthy();
    expect(value("routing-mode")).toBe("manual");
    expect(screen.getByTestId("sla-inherited")).toBeTruthy();

    await rerender({ teams: [support], inboxes: [whatsapp, billing] });
    await waitFor(() => expect(scope().value).toBe(""));
    expect(screen.queryByTestId("routing-follow-team")).toBeNull();
    expect(value("routing-mode")).toBe("round_robin");
  });
});
