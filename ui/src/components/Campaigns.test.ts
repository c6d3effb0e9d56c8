// The lead's campaigns screen against the fake core: the list and a campaign's detail (counts,
// results page by page, a state's results, a recipient's conversation, the export), a new
// campaign from an audience file (every problem row by row, the preview, no way to create it
// until a check of the current inputs is clean), a filter saved as a segment, the actions
// each state allows, live progress until the screen closes, and the hub out of reach.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MockCore } from "../dev/mockCore";
import type { Directory } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { answer, answerWith, callsTo } from "../test/tauri";
import Campaigns from "./Campaigns.svelte";
import Toasts from "./Toasts.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

let core: MockCore;

function signIn(email: string) {
  core = new MockCore({ conversations: 20, signedInAs: email });
  app.directory = core.handle("directory") as Directory;
  answer({});
  answerWith((cmd, args) => core.handle(cmd, args));
}

function open(extra: { onopen?: (id: number) => void; onclose?: () => void; pollMs?: number } = {}) {
  return render(Campaigns, { onclose: () => {}, onopen: () => {}, pollMs: 60_000, ...extra });
}

const button = (id: string) => screen.getByTestId(id) as HTMLButtonElement;

/** Picks a file in the form's file input (read with FileReader). */
async function upload(text: string, name = "audience.csv") {
  const input = screen.getByTestId("campaign-csv") as HTMLInputElement;
  await fireEvent.change(input, { target: { files: [new File([text], name, { type: "text/csv" })] } });
  await waitFor(() => expect(screen.getByTestId("campaign-csv-file").textContent).toContain(name));
}

/** Opens New campaign and fills in the message: WhatsApp, order_update (two placeholders). */
async function startForm(name = "Spring restock") {
  await fireEvent.click(screen.getByTestId("campaign-new"));
  await fireEvent.input(screen.getByTestId("campaign-name"), { target: { value: name } });
  await fireEvent.change(screen.getByTestId("campaign-inbox"), { target: { value: "2" } });
  await fireEvent.change(screen.getByTestId("campaign-template"), { target: { value: "order_update" } });
}

beforeEach(() => signIn("lena@demo.switchboard"));

afterEach(() => {
  cleanup();
  answerWith(null);
  app.directory = null;
  app.toasts = [];
  vi.restoreAllMocks();
});

describe("the list and a campaign", () => {
  test("lists every campaign with its state, inbox, time and progress", async () => {
    open();
    const spring = await screen.findByTestId("campaign-row-1");
    expect(callsTo("campaigns")).toHaveLength(1);
    const rows = [...document.querySelectorAll("[data-testid^=campaign-row-]")].map((e) => e.getAttribute("data-testid"));
    expect(rows).toEqual(["campaign-row-3", "campaign-row-2", "campaign-row-1"]);
    expect(spring.textContent).toContain("Spring offers");
    expect(spring.textContent).toContain("Done");
    expect(spring.textContent).toContain("WhatsApp · Northwind (WhatsApp)");
    const c = core.campaigns.find((x) => x.id === 1)!;
    const sent = c.counts.sent + c.counts.delivered + c.counts.read + c.counts.replied;
    expect(spring.textContent).toContain(`${sent} / 240 sent`);
    expect(spring.textContent).toContain(`${c.counts.skipped} skipped`);
    expect(screen.getByTestId("campaign-row-2").textContent).toContain("Scheduled");
    expect(screen.getByTestId("campaign-row-2").textContent).toContain("Starts");
    expect(screen.getByTestId("campaign-row-3").textContent).toContain("Draft");
  });

  test("a campaign: counts as tiles, how it sends, results 200 at a time, a state's results, a conversation, the export", async () => {
    const onopen = vi.fn();
    open({ onopen });
    render(Toasts, {});
    await fireEvent.click(await screen.findByTestId("campaign-row-1"));
    const c = core.campaigns.find((x) => x.id === 1)!;
    expect(screen.getByTestId("campaign-state").textContent).toBe("Done");
    for (const s of ["sent", "delivered", "read", "replied", "failed", "skipped"] as const) {
      expect(screen.getByTestId(`campaign-count-${s}-value`).textContent, s).toBe(String(c.counts[s]));
    }
    expect(screen.getByTestId("campaign-count-total-value").textContent).toBe("240");
    expect(c.counts.skipped).toBeGreaterThan(0);
    expect(screen.getByTestId("campaign-rate").textContent).toBe("Sends 20 a second");
    expect(screen.getByTestId("campaign-hours").textContent).toContain("09:00–20:00");
    expect(screen.getByTestId("campaign-cap").textContent).toBe("At most 2 campaign messages in 7 days per customer");
    // Done: no actions.
    for (const id of ["campaign-pause", "campaign-resume", "campaign-cancel", "campaign-start", "campaign-unschedule"]) {
      expect(screen.queryByTestId(id), id).toBeNull();
    }

    const table = screen.getByTestId("campaign-results");
    await waitFor(() => expect(within(table).getAllByTestId("campaign-result")).toHaveLength(200));
    expect(callsTo("campaign_recipients")).toEqual([{ id: 1, state: null, after: 0 }]);
    await fireEvent.click(screen.getByTestId("campaign-load-more"));
    await waitFor(() => expect(screen.getAllByTestId("campaign-result")).toHaveLength(240));
    expect(callsTo("campaign_recipients").at(-1)).toEqual({ id: 1, state: null, after: 201 });
    expect(screen.queryByTestId("campaign-load-more")).toBeNull();

    await fireEvent.change(screen.getByTestId("campaign-results-filter"), { target: { value: "skipped" } });
    await waitFor(() => expect(callsTo("campaign_recipients").at(-1)).toEqual({ id: 1, state: "skipped", after: 0 }));
    await waitFor(() => expect(screen.getAllByTestId("campaign-result")).toHaveLength(c.counts.skipped));
    const skipped = screen.getAllByTestId("campaign-result");
    expect(skipped.every((r) => r.dataset.state === "skipped")).toBe(true);
    expect(skipped[0]!.textContent).toContain("opted out of WhatsApp messages (STOP)");

    await fireEvent.change(screen.getByTestId("campaign-results-filter"), { target: { value: "replied" } });
    await waitFor(() => expect(screen.getAllByTestId("campaign-result").every((r) => r.dataset.state === "replied")).toBe(true));
    const replied = core.recipients.get(1)!.find((r) => r.state === "replied")!;
    await fireEvent.click(screen.getAllByTestId("campaign-open-conversation")[0]!);
    expect(onopen).toHaveBeenCalledWith(replied.conversation_id);

    await fireEvent.click(screen.getByTestId("campaign-export"));
    await waitFor(() => expect(callsTo("export_campaign")).toEqual([{ id: 1 }]));
    expect(await screen.findByText("Results saved to /home/demo/Downloads/campaign-1-results.csv")).toBeTruthy();
  });

  test("Back to inbox closes it", async () => {
    const onclose = vi.fn();
    open({ onclose });
    await fireEvent.click(screen.getByTestId("close-campaigns"));
    expect(onclose).toHaveBeenCalledTimes(1);
  });
});

describe("a new campaign", () => {
  const bad = [
    "phone,name,1,2",
    "+14155550100,Ana García,Ana,#4821",
    "not a phone,Ben,Ben,#4822",
    "+14155550101,Chloé,,#4823",
    "+14155550100,Ana again,Ana,#4824",
    "+14155550102,Dmitri,Dmitri,#4825",
  ].join("\n");
  const good = ["phone,name,1,2", "+14155550100,Ana García,Ana,#4821", "+14155550102,Dmitri,Dmitri,#4825"].join("\n");

  test("shows the template, asks for what is missing before checking", async () => {
    open();
    await fireEvent.click(screen.getByTestId("campaign-new"));
    expect(document.activeElement).toBe(screen.getByTestId("campaign-name"));
    const offered = [...(screen.getByTestId("campaign-inbox") as HTMLSelectElement).options].map((o) => o.value).filter(Boolean);
    const kinds = offered.map((id) => core.inboxes.find((i) => i.id === Number(id))!.kind);
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds).not.toContain("webchat");
    expect(kinds).not.toContain("in_app");

    await fireEvent.click(screen.getByTestId("campaign-check"));
    expect(callsTo("check_campaign")).toHaveLength(0);
    expect(screen.getByTestId("campaign-form-problems")).toBeTruthy();
    expect(screen.getByText("Name the campaign.")).toBeTruthy();
    expect(screen.getByText("Choose the inbox to send from.")).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByTestId("campaign-name"));

    await fireEvent.input(screen.getByTestId("campaign-name"), { target: { value: "Restock" } });
    await fireEvent.change(screen.getByTestId("campaign-inbox"), { target: { value: "2" } });
    await fireEvent.change(screen.getByTestId("campaign-template"), { target: { value: "order_update" } });
    expect(screen.getByTestId("campaign-template-body").textContent).toBe("Hi {{1}}, your order {{2}} has shipped.");
    expect(screen.getByTestId("campaign-csv-help").textContent).toContain("phone");
    expect(screen.getByTestId("campaign-csv-example").textContent).toBe("phone,name,time_zone,1,2");
    expect(screen.getByText("Choose the audience file (CSV).")).toBeTruthy();
    // Email asks for a subject.
    await fireEvent.change(screen.getByTestId("campaign-inbox"), { target: { value: "7" } });
    expect(screen.getByTestId("campaign-subject")).toBeTruthy();
  });

  test("a check lists every problem row by row and previews the first real rows; nothing is made until a clean check", async () => {
    open();
    render(Toasts, {});
    await startForm();
    for (const id of ["campaign-save-draft", "campaign-send-now", "campaign-send-later"]) expect(button(id).disabled, id).toBe(true);

    await upload(bad);
    await fireEvent.click(screen.getByTestId("campaign-check"));
    const problems = await screen.findByTestId("campaign-problems");
    expect(callsTo("check_campaign")).toEqual([
      {
        spec: {
          name: "Spring restock",
          inbox_id: 2,
          template: "order_update",
          purpose: "marketing",
          audience: { kind: "csv", csv: bad },
          frequency_cap: { messages: 2, days: 7 },
        },
      },
    ]);
    const rows = within(problems)
      .getAllByTestId("campaign-problem")
      .map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent?.trim()));
    expect(rows).toEqual([
      ["3", "phone", "`not a phone` is not a phone number"],
      ["4", "1", "no value for {{1}}"],
      ["5", "phone", "the same phone number as row 2"],
    ]);
    expect(screen.getByTestId("campaign-check-rows").textContent).toBe("5");
    expect(screen.getByTestId("campaign-check-valid").textContent).toBe("2");
    const preview = screen.getByTestId("campaign-preview");
    expect(within(preview).getAllByTestId("campaign-preview-row").map((r) => r.textContent)).toEqual([
      expect.stringContaining("Hi Ana, your order #4821 has shipped."),
      expect.stringContaining("Hi Dmitri, your order #4825 has shipped."),
    ]);
    expect(preview.textContent).toContain("+14155550102");
    expect(screen.getByTestId("campaign-blocker").textContent).toBe("Fix the problems in the audience, then check it again.");
    for (const id of ["campaign-save-draft", "campaign-send-now", "campaign-send-later"]) expect(button(id).disabled, id).toBe(true);

    await upload(good, "fixed.csv");
    // The inputs changed since the check: still no way to create it.
    expect(screen.getByTestId("campaign-blocker").textContent).toBe("The campaign changed since its audience was checked: check it again.");
    expect(button("campaign-send-now").disabled).toBe(true);
    await fireEvent.click(screen.getByTestId("campaign-check"));
    await waitFor(() => expect(screen.queryByTestId("campaign-problems")).toBeNull());
    expect(screen.queryByTestId("campaign-blocker")).toBeNull();
    expect(button("campaign-send-now").disabled).toBe(false);
    expect(button("campaign-send-now").textContent).toBe("Send now to 2");

    // Renaming changes nothing a check finds.
    await fireEvent.input(screen.getByTestId("campaign-name"), { target: { value: "Spring restock 2" } });
    expect(button("campaign-send-now").disabled).toBe(false);
    // A longer cap does.
    await fireEvent.input(screen.getByTestId("campaign-cap-days"), { target: { value: "8" } });
    expect(button("campaign-send-now").disabled).toBe(true);
    await fireEvent.input(screen.getByTestId("campaign-cap-days"), { target: { value: "7" } });
    expect(button("campaign-send-now").disabled).toBe(false);

    const before = Date.now();
    await fireEvent.click(screen.getByTestId("campaign-send-now"));
    await waitFor(() => expect(callsTo("create_campaign")).toHaveLength(1));
    const spec = callsTo("create_campaign")[0]!.spec as Record<string, unknown>;
    expect(spec).toMatchObject({ name: "Spring restock 2", inbox_id: 2, template: "order_update", audience: { kind: "csv", csv: good } });
    expect(spec.scheduled_at).toBeGreaterThanOrEqual(before);
    await waitFor(() => expect(screen.queryByTestId("campaign-form")).toBeNull());
    const made = core.campaigns[0]!;
    expect(made.name).toBe("Spring restock 2");
    expect(screen.getByTestId(`campaign-row-${made.id}`).getAttribute("aria-current")).toBe("true");
    expect(screen.getByTestId("campaign-detail").dataset.id).toBe(String(made.id));
    expect(await screen.findByText("Campaign “Spring restock 2” is sending")).toBeTruthy();
  });

  test("more problems than listed say how many more", async () => {
    const lines = ["phone,1,2", ...Array.from({ length: 1003 }, (_, i) => `bad${i},A,B`)];
    open();
    await startForm();
    await upload(lines.join("\n"));
    await fireEvent.click(screen.getByTestId("campaign-check"));
    await screen.findByTestId("campaign-problems");
    expect(screen.getAllByTestId("campaign-problem")).toHaveLength(1000);
    expect(screen.getByTestId("campaign-more-problems").textContent).toBe("and 3 more");
  });

  test("a file dropped on the form is read like a picked one", async () => {
    open();
    await startForm();
    const file = new File(["phone,1,2\n+14155550100,Ana,#1\n"], "dropped.csv", { type: "text/csv" });
    await fireEvent.drop(screen.getByTestId("campaign-drop"), { dataTransfer: { files: [file] } });
    await waitFor(() => expect(screen.getByTestId("campaign-csv-file").textContent).toContain("dropped.csv"));
    await fireEvent.click(screen.getByTestId("campaign-check"));
    await screen.findByTestId("campaign-preview");
    expect((callsTo("check_campaign")[0]!.spec as { audience: unknown }).audience).toEqual({ kind: "csv", csv: "phone,1,2\n+14155550100,Ana,#1\n" });
  });

  test("a filter: conditions and a field per placeholder; saved as a segment, then chosen (and deleted with a second press)", async () => {
    open();
    render(Toasts, {});
    await startForm("Lisbon restock");
    await fireEvent.click(screen.getByTestId("campaign-audience-filter"));
    await fireEvent.input(screen.getByTestId("campaign-condition-field"), { target: { value: "city" } });
    await fireEvent.input(screen.getByTestId("campaign-condition-value"), { target: { value: "Lisbon" } });
    await fireEvent.click(screen.getByTestId("campaign-add-condition"));
    const fields = screen.getAllByTestId("campaign-condition-field");
    await fireEvent.input(fields[1]!, { target: { value: "plan" } });
    await fireEvent.change(screen.getAllByTestId("campaign-condition-op")[1]!, { target: { value: "present" } });
    expect(screen.getAllByTestId("campaign-condition-value")).toHaveLength(1);
    const params = screen.getAllByTestId("campaign-param");
    expect(params).toHaveLength(2);
    await fireEvent.input(params[0]!, { target: { value: "name" } });
    await fireEvent.input(params[1]!, { target: { value: "company" } });

    await fireEvent.click(screen.getByTestId("campaign-check"));
    await waitFor(() => expect(callsTo("check_campaign")).toHaveLength(1));
    expect((callsTo("check_campaign")[0]!.spec as { audience: unknown }).audience).toEqual({
      kind: "filter",
      filter: {
        conditions: [
          { field: "city", op: "equals", value: "Lisbon" },
          { field: "plan", op: "present", value: "" },
        ],
      },
      params: ["name", "company"],
    });
    await screen.findByTestId("campaign-check-result");

    await fireEvent.click(screen.getByTestId("campaign-save-segment"));
    expect(screen.getByTestId("campaign-segment-problem").textContent).toBe("Name the segment.");
    await fireEvent.input(screen.getByTestId("campaign-segment-name"), { target: { value: "Lisbon, any plan" } });
    await fireEvent.click(screen.getByTestId("campaign-save-segment"));
    await waitFor(() =>
      expect(callsTo("create_segment")).toEqual([
        {
          segment: {
            name: "Lisbon, any plan",
            filter: {
              conditions: [
                { field: "city", op: "equals", value: "Lisbon" },
                { field: "plan", op: "present", value: "" },
              ],
            },
          },
        },
      ]),
    );
    expect(await screen.findByText("Segment “Lisbon, any plan” saved")).toBeTruthy();

    await fireEvent.click(screen.getByTestId("campaign-audience-segment"));
    const segments = within(screen.getByTestId("campaign-segments")).getAllByTestId("campaign-segment");
    expect(segments.map((s) => s.querySelector("strong")?.textContent)).toEqual(["Lisbon customers", "Pro plan", "Lisbon, any plan"]);
    expect(segments[2]!.textContent).toContain("city is “Lisbon” and plan is filled in");
    await fireEvent.click(within(segments[2]!).getByRole("radio"));
    await fireEvent.click(screen.getByTestId("campaign-check"));
    await waitFor(() => expect(callsTo("check_campaign")).toHaveLength(2));
    expect((callsTo("check_campaign")[1]!.spec as { audience: unknown }).audience).toEqual({ kind: "segment", segment_id: 3, params: ["name", "company"] });

    const del = within(segments[0]!).getByTestId("campaign-delete-segment");
    await fireEvent.click(del);
    expect(callsTo("delete_segment")).toHaveLength(0);
    expect(del.textContent).toBe("Confirm delete");
    await fireEvent.click(del);
    await waitFor(() => expect(callsTo("delete_segment")).toEqual([{ id: 1 }]));
    await waitFor(() => expect(screen.getAllByTestId("campaign-segment")).toHaveLength(2));
  });

  test("keys typed in the form are not the inbox's shortcuts", async () => {
    open();
    screen.getByTestId("campaign-new").focus();
    await fireEvent.click(screen.getByTestId("campaign-new"));
    const outside = vi.fn();
    window.addEventListener("keydown", outside);
    try {
      await fireEvent.keyDown(screen.getByTestId("campaign-check"), { key: "c" });
      expect(outside).not.toHaveBeenCalled();
      await fireEvent.keyDown(screen.getByTestId("campaign-name"), { key: "Escape" });
    } finally {
      window.removeEventListener("keydown", outside);
    }
    expect(screen.queryByTestId("campaign-form")).toBeNull();
    expect(document.activeElement).toBe(screen.getByTestId("campaign-new"));
  });
});

describe("actions", () => {
  test("a draft: Send now schedules it for now", async () => {
    open();
    await fireEvent.click(await screen.findByTestId("campaign-row-3"));
    expect(screen.getByTestId("campaign-state").textContent).toBe("Draft");
    expect(screen.queryByTestId("campaign-pause")).toBeNull();
    await fireEvent.change(screen.getByTestId("campaign-results-filter"), { target: { value: "failed" } });
    expect((await screen.findByTestId("campaign-results-empty")).textContent).toBe("No recipient is failed.");
    const before = Date.now();
    await fireEvent.click(screen.getByTestId("campaign-start"));
    await waitFor(() => expect(callsTo("campaign_action")).toHaveLength(1));
    const call = callsTo("campaign_action")[0]! as { id: number; action: { action: string; at: number } };
    expect(call.id).toBe(3);
    expect(call.action.action).toBe("schedule");
    expect(call.action.at).toBeGreaterThanOrEqual(before);
    await waitFor(() => expect(["Sending", "Done"]).toContain(screen.getByTestId("campaign-state").textContent));
  });

  test("a draft: Schedule for a time in the future", async () => {
    open();
    await fireEvent.click(await screen.findByTestId("campaign-row-3"));
    await fireEvent.click(screen.getByTestId("campaign-schedule"));
    const at = screen.getByTestId("campaign-schedule-at") as HTMLInputElement;
    await fireEvent.input(at, { target: { value: "2001-01-01T09:00" } });
    await fireEvent.click(screen.getByTestId("campaign-schedule-save"));
    expect(callsTo("campaign_action")).toHaveLength(0);
    expect(screen.getByText("Choose a time in the future (or Send now).")).toBeTruthy();
    await fireEvent.input(at, { target: { value: "2999-01-01T09:00" } });
    await fireEvent.click(screen.getByTestId("campaign-schedule-save"));
    await waitFor(() =>
      expect(callsTo("campaign_action")).toEqual([{ id: 3, action: { action: "schedule", at: new Date(2999, 0, 1, 9, 0).getTime() } }]),
    );
    await waitFor(() => expect(screen.getByTestId("campaign-state").textContent).toBe("Scheduled"));
    expect(screen.getByTestId("campaign-row-3").textContent).toContain("Scheduled");
  });

  test("scheduled: Unschedule; Cancel asks for a second press", async () => {
    open();
    await fireEvent.click(await screen.findByTestId("campaign-row-2"));
    expect(screen.getByTestId("campaign-state").textContent).toBe("Scheduled");
    await fireEvent.click(screen.getByTestId("campaign-cancel"));
    expect(callsTo("campaign_action")).toHaveLength(0);
    expect(screen.getByTestId("campaign-cancel").textContent).toBe("Confirm: cancel the campaign");
    await fireEvent.click(screen.getByTestId("campaign-cancel"));
    await waitFor(() => expect(callsTo("campaign_action")).toEqual([{ id: 2, action: { action: "cancel" } }]));
    await waitFor(() => expect(screen.getByTestId("campaign-state").textContent).toBe("Cancelled"));
    expect(screen.queryByTestId("campaign-cancel")).toBeNull();
    expect(screen.getByTestId("campaign-count-queued-value").textContent).toBe("0");
  });

  test("scheduled: Unschedule makes it a draft", async () => {
    open();
    await fireEvent.click(await screen.findByTestId("campaign-row-2"));
    await fireEvent.click(screen.getByTestId("campaign-unschedule"));
    await waitFor(() => expect(callsTo("campaign_action")).toEqual([{ id: 2, action: { action: "unschedule" } }]));
    await waitFor(() => expect(screen.getByTestId("campaign-state").textContent).toBe("Draft"));
  });

  test("sending: Pause, then Resume", async () => {
    const draft = core.campaigns.find((c) => c.id === 3)!;
    draft.rate = 1;
    core.campaignAction(3, { action: "schedule", at: Date.now() });
    open();
    await fireEvent.click(await screen.findByTestId("campaign-row-3"));
    expect(screen.getByTestId("campaign-state").textContent).toBe("Sending");
    expect(screen.queryByTestId("campaign-resume")).toBeNull();
    await fireEvent.click(screen.getByTestId("campaign-pause"));
    await waitFor(() => expect(callsTo("campaign_action")).toEqual([{ id: 3, action: { action: "pause" } }]));
    await waitFor(() => expect(screen.getByTestId("campaign-state").textContent).toBe("Paused"));
    expect(screen.queryByTestId("campaign-pause")).toBeNull();
    await fireEvent.click(screen.getByTestId("campaign-resume"));
    await waitFor(() => expect(callsTo("campaign_action").at(-1)).toEqual({ id: 3, action: { action: "resume" } }));
    await waitFor(() => expect(screen.getByTestId("campaign-state").textContent).toBe("Sending"));
  });

  test("a refused action says why", async () => {
    open();
    render(Toasts, {});
    await fireEvent.click(await screen.findByTestId("campaign-row-2"));
    // Someone else started it meanwhile.
    core.campaignAction(2, { action: "unschedule" });
    await fireEvent.click(screen.getByTestId("campaign-unschedule"));
    expect(await screen.findByText("Couldn't unschedule the campaign: a draft campaign can't be unscheduled")).toBeTruthy();
    expect(screen.queryByTestId("campaigns-offline")).toBeNull();
  });
});

describe("live progress", () => {
  test("the open campaign is asked for while the screen is open, and no more once it closes", async () => {
    const view = open({ pollMs: 40 });
    await fireEvent.click(await screen.findByTestId("campaign-row-2"));
    core.campaignAction(2, { action: "unschedule" });
    await waitFor(() => expect(screen.getByTestId("campaign-state").textContent).toBe("Draft"));
    expect(callsTo("campaign").length).toBeGreaterThan(0);
    expect(callsTo("campaign").every((c) => c.id === 2)).toBe(true);
    view.unmount();
    const asked = callsTo("campaign").length + callsTo("campaigns").length;
    await new Promise((r) => setTimeout(r, 150));
    expect(callsTo("campaign").length + callsTo("campaigns").length).toBe(asked);
  });
});

describe("the hub out of reach", () => {
  test("one banner, no stack of errors; Try again once it answers", async () => {
    core.hubReachable = false;
    open();
    render(Toasts, {});
    const banner = await screen.findByTestId("campaigns-offline");
    expect(banner.textContent).toContain("Campaigns need a connection to the hub");
    expect(screen.queryByTestId("campaigns-error")).toBeNull();
    expect(screen.queryByTestId("campaign-row-1")).toBeNull();
    expect(app.toasts).toEqual([]);

    core.hubReachable = true;
    await fireEvent.click(screen.getByTestId("campaigns-retry"));
    await screen.findByTestId("campaign-row-1");
    expect(screen.queryByTestId("campaigns-offline")).toBeNull();

    // Out of reach again while a campaign is open: its commands say so the same way.
    await fireEvent.click(screen.getByTestId("campaign-row-1"));
    await screen.findAllByTestId("campaign-result");
    core.hubReachable = false;
    await fireEvent.click(screen.getByTestId("campaign-export"));
    await screen.findByTestId("campaigns-offline");
    expect(app.toasts).toEqual([]);
  });

  test("a campaign opened while the hub is away shows its results once it is back", async () => {
    open({ pollMs: 40 });
    render(Toasts, {});
    await fireEvent.click(await screen.findByTestId("campaign-row-1"));
    await screen.findAllByTestId("campaign-result");
    // Gone: the banner (once), the results wait.
    core.hubReachable = false;
    await fireEvent.change(screen.getByTestId("campaign-results-filter"), { target: { value: "failed" } });
    await screen.findByTestId("campaigns-offline");
    expect(await screen.findByTestId("campaign-results-waiting")).toBeTruthy();
    expect(screen.queryByTestId("campaign-results-error")).toBeNull();
    expect(app.toasts).toEqual([]);
    // Back: the polling finds it, and the results are read.
    core.hubReachable = true;
    await waitFor(() => expect(screen.queryByTestId("campaigns-offline")).toBeNull());
    await waitFor(() => expect(screen.getAllByTestId("campaign-result").every((r) => r.dataset.state === "failed")).toBe(true));
    expect(screen.queryByTestId("campaign-results-waiting")).toBeNull();
  });

  test("the form says so too", async () => {
    open();
    await screen.findByTestId("campaign-row-1");
    await startForm();
    await upload("phone,1,2\n+14155550100,Ana,#1\n");
    core.hubReachable = false;
    await fireEvent.click(screen.getByTestId("campaign-check"));
    expect((await screen.findByTestId("campaign-form-offline")).textContent).toContain("Campaigns need a connection to the hub");
    expect(screen.queryByTestId("campaign-check-error")).toBeNull();
  });

  test("agents are refused by the core", async () => {
    signIn("ada@demo.switchboard");
    open();
    expect((await screen.findByTestId("campaigns-error")).textContent).toContain("only leads and admins run campaigns");
  });
});
