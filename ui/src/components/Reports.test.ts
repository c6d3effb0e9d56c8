// The lead's reports screen against the fake core: the headline numbers, the five charts and
// the agents of the period asked for; presets and the team filter; the cached copy when the
// hub is out of reach; a period the hub would refuse (explained, never asked for); the
// export's toast; the bot and knowledge-base section (and its empty state); and agents, who
// get no way in.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { MockCore } from "../dev/mockCore";
import { helpfulShare } from "../lib/articles";
import { formatCount, formatPercent, fullTime, humanDuration } from "../lib/format";
import type { Directory } from "../lib/protocol";
import { presetPeriod } from "../lib/reports";
import { app } from "../lib/stores.svelte";
import { answer, answerWith, callsTo } from "../test/tauri";
import ReportContent from "./ReportContent.svelte";
import Reports from "./Reports.svelte";
import Toasts from "./Toasts.svelte";
import ViewNav from "./ViewNav.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

let core: MockCore;

function signIn(email: string) {
  core = new MockCore({ conversations: 20, signedInAs: email });
  app.directory = core.handle("directory") as Directory;
  answer({});
  answerWith((cmd, args) => core.handle(cmd, args));
}

const last30 = () => presetPeriod("30d", new Date());

beforeEach(() => {
  // jsdom has no 2D canvas: the charts keep their canvas, label and summary only.
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
  signIn("lena@demo.switchboard");
});

afterEach(() => {
  cleanup();
  answerWith(null);
  app.directory = null;
  app.toasts = [];
  vi.restoreAllMocks();
});

describe("Reports", () => {
  test("shows the last 30 days: headline numbers, five charts and the agents", async () => {
    render(Reports, { onclose: () => {} });
    const kpi = await screen.findByTestId("kpi-conversations");
    const expected = core.report(last30());
    expect(callsTo("report")).toEqual([{ query: last30() }]);
    expect(within(kpi).getByTestId("kpi-conversations-value").textContent).toBe(formatCount(expected.conversations));
    expect(screen.getByTestId("kpi-resolved-value").textContent).toBe(formatCount(expected.resolved));
    expect(screen.getByTestId("kpi-first-response-value").textContent).toBe(humanDuration(expected.first_response.median_ms));
    expect(screen.getByTestId("kpi-first-response").textContent).toContain(`p90 ${humanDuration(expected.first_response.p90_ms)}`);
    expect(screen.getByTestId("kpi-resolution-value").textContent).toBe(humanDuration(expected.resolution.median_ms));
    expect(screen.getByTestId("kpi-sla-value").textContent).toMatch(/^\d+%$/);
    expect(screen.getByTestId("kpi-csat-value").textContent).toBe(`${expected.csat.average!.toFixed(1)} / 5`);
    expect(screen.getByTestId("kpi-csat").textContent).toContain("satisfied");

    for (const id of ["chart-by-day", "chart-by-channel", "chart-by-hour", "chart-sla", "chart-csat"]) {
      const canvas = screen.getByTestId(id);
      expect(canvas.tagName, id).toBe("CANVAS");
      expect(canvas.getAttribute("aria-label"), id).toBeTruthy();
      expect(screen.getByTestId(`${id}-summary`).textContent, id).not.toBe("");
    }
    expect(screen.getByTestId("chart-by-day-summary").textContent).toContain(`${formatCount(expected.conversations)} conversations started`);

    const rows = screen.getAllByTestId("report-agent");
    expect(rows.map((r) => r.querySelector("th")?.textContent)).toEqual(expected.agents.map((a) => a.name));
    const first = expected.agents[0]!;
    expect(rows[0]!.textContent).toContain((first.online_ms / 3_600_000).toFixed(1));
    expect(screen.queryByTestId("report-offline")).toBeNull();
  });

  test("a preset or a team asks again", async () => {
    render(Reports, { onclose: () => {} });
    await screen.findByTestId("kpi-conversations");
    await fireEvent.click(screen.getByTestId("preset-7d"));
    const week = presetPeriod("7d", new Date());
    await waitFor(() => expect(callsTo("report").at(-1)).toEqual({ query: week }));
    expect(screen.getByTestId("preset-7d").getAttribute("aria-pressed")).toBe("true");
    expect((screen.getByTestId("report-from") as HTMLInputElement).value).toBe(week.from);

    const team = screen.getByTestId("report-team") as HTMLSelectElement;
    expect([...team.options].map((o) => o.textContent)).toEqual(["All my teams", "Support", "Billing"]);
    await fireEvent.change(team, { target: { value: "2" } });
    await waitFor(() => expect(callsTo("report").at(-1)).toEqual({ query: { ...week, team_id: 2 } }));
    await waitFor(() => expect(screen.getByTestId("report-scope").textContent).toContain("Billing"));
    const billing = core.report({ ...week, team_id: 2 });
    expect(screen.getByTestId("kpi-conversations-value").textContent).toBe(formatCount(billing.conversations));
  });

  test("offline: the cached copy, with the time it was fetched", async () => {
    core.reportSource = "cache";
    render(Reports, { onclose: () => {} });
    const banner = await screen.findByTestId("report-offline");
    expect(banner.textContent).toContain(`Offline — showing the report as of ${fullTime(core.now - 3 * 3_600_000)}`);
    expect(screen.getByTestId("kpi-conversations")).toBeTruthy();
  });

  test("offline with nothing cached: the core's reason", async () => {
    core.reportSource = "none";
    render(Reports, { onclose: () => {} });
    const error = await screen.findByTestId("report-error");
    expect(error.textContent).toContain("this report isn't cached");
    expect(screen.queryByTestId("kpi-conversations")).toBeNull();
  });

  test("a period the hub would refuse is explained and not asked for", async () => {
    render(Reports, { onclose: () => {} });
    await screen.findByTestId("kpi-conversations");
    expect(callsTo("report")).toHaveLength(1);
    const from = screen.getByTestId("report-from");
    const to = screen.getByTestId("report-to");

    // Every step on the way is a period the hub would refuse, whatever day today is.
    await fireEvent.change(to, { target: { value: "2000-01-01" } });
    await fireEvent.change(from, { target: { value: "2000-01-10" } });
    expect(screen.getByTestId("report-problem").textContent).toBe("The first day must not be after the last day.");
    expect(to.getAttribute("aria-invalid")).toBe("true");

    await fireEvent.change(from, { target: { value: "1998-12-01" } });
    expect(screen.getByTestId("report-problem").textContent).toBe("A report covers at most 366 days; this period has 397.");
    expect((screen.getByTestId("report-export") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId("report-export"));
    expect(callsTo("report")).toHaveLength(1);
    expect(callsTo("export_report")).toHaveLength(0);

    await fireEvent.change(to, { target: { value: "1999-11-30" } });
    expect(screen.queryByTestId("report-problem")).toBeNull();
    await waitFor(() => expect(callsTo("report").at(-1)).toEqual({ query: { from: "1998-12-01", to: "1999-11-30" } }));
    expect(callsTo("report")).toHaveLength(2);
    expect(screen.getByTestId("preset-30d").getAttribute("aria-pressed")).toBe("false");
  });

  test("Export CSV says where the file went", async () => {
    render(Reports, { onclose: () => {} });
    render(Toasts, {});
    await screen.findByTestId("kpi-conversations");
    await fireEvent.click(screen.getByTestId("report-export"));
    const { from, to } = last30();
    await waitFor(() => expect(callsTo("export_report")).toEqual([{ query: { from, to } }]));
    const toast = await screen.findByText(`Report saved to /home/demo/Downloads/switchboard-report-${from}-${to}.csv`);
    expect(toast.closest("[data-testid=toast]")).toBeTruthy();
  });

  test("Back to inbox closes it", async () => {
    const onclose = vi.fn();
    render(Reports, { onclose });
    await fireEvent.click(screen.getByTestId("close-reports"));
    expect(onclose).toHaveBeenCalledTimes(1);
  });
});

describe("bot and knowledge base", () => {
  test("conversations bots answered, contained and handed off, why they handed over, and each article's use", async () => {
    render(Reports, { onclose: () => {} });
    const section = await screen.findByTestId("report-bot");
    const { bot, articles, deflections } = core.report(last30());
    expect(bot.conversations).toBeGreaterThan(0);
    expect(within(section).getByRole("heading", { name: "Bot and knowledge base" })).toBeTruthy();
    expect(screen.getByTestId("kpi-bot-answered-value").textContent).toBe(formatCount(bot.conversations));
    expect(screen.getByTestId("kpi-bot-contained-value").textContent).toBe(formatCount(bot.contained));
    expect(screen.getByTestId("kpi-bot-contained").textContent).toContain(`${formatPercent(bot.contained / bot.conversations)} of bot conversations`);
    expect(screen.getByTestId("kpi-bot-handed-off-value").textContent).toBe(formatCount(bot.handed_off));
    expect(screen.getByTestId("kpi-deflections-value").textContent).toBe(formatCount(deflections));

    expect(screen.getByTestId("chart-handoffs").getAttribute("aria-label")).toBe("Conversations bots handed over, by reason");
    const top = bot.reasons[0]!;
    expect(top.reason).toBe("asked_for_person");
    expect(screen.getByTestId("chart-handoffs-summary").textContent).toContain(`Asked for a person: ${formatCount(top.count)}`);

    const rows = screen.getAllByTestId("report-article");
    expect(rows.map((r) => r.querySelector("th")?.textContent)).toEqual(articles.map((a) => a.title));
    const first = articles[0]!;
    expect([...rows[0]!.querySelectorAll("td")].map((c) => c.textContent)).toEqual([
      formatCount(first.views),
      formatPercent(helpfulShare(first)),
      formatCount(first.offered),
      formatCount(first.deflected),
    ]);
    expect(screen.queryByTestId("report-bot-empty")).toBeNull();
  });

  test("a period without bots or article use says so", () => {
    const report = core.report(last30());
    render(ReportContent, {
      report: { ...report, bot: { conversations: 0, contained: 0, handed_off: 0, reasons: [] }, articles: [], deflections: 0 },
      teamName: null,
    });
    expect(screen.getByTestId("report-bot-empty").textContent).toContain("No conversation was answered by a bot");
    expect(screen.queryByTestId("chart-handoffs")).toBeNull();
    expect(screen.queryByTestId("report-articles")).toBeNull();
    expect(screen.queryByTestId("kpi-bot-answered")).toBeNull();
  });

  test("every handoff reason has a readable name", () => {
    const report = core.report(last30());
    const reasons = ["asked_for_person", "no_answer", "turn_limit", "keyword", "not_helpful", "bot_failed", "bot_timed_out", "bot_decided", "agent_took_over"] as const;
    render(ReportContent, {
      report: { ...report, bot: { conversations: 45, contained: 0, handed_off: 45, reasons: reasons.map((reason, i) => ({ reason, count: 9 - i })) } },
      teamName: null,
    });
    expect(screen.getByTestId("chart-handoffs-summary").textContent).toBe(
      "Asked for a person: 9, No good answer: 8, Answer limit: 7, Handoff word: 6, Answer did not help: 5, Bot failed: 4, Bot timed out: 3, Bot handed over: 2, Agent took over: 1.",
    );
    expect(screen.getByTestId("kpi-bot-contained").textContent).toContain("0% of bot conversations");
  });
});

describe("who may open it", () => {
  const nav = (oversee: boolean) =>
    render(ViewNav, { counts: [], view: "mine", onselect: () => {}, oversee, loadOpen: false, ontoggleload: () => {}, onreports: () => {}, oncampaigns: () => {} });

  test("agents get no entry, and the core refuses them", async () => {
    nav(false);
    expect(screen.queryByTestId("open-reports")).toBeNull();
    cleanup();
    signIn("ada@demo.switchboard");
    render(Reports, { onclose: () => {} });
    expect((await screen.findByTestId("report-error")).textContent).toContain("only leads and admins see reports");
  });

  test("leads get the entry", async () => {
    const onreports = vi.fn();
    render(ViewNav, { counts: [], view: "mine", onselect: () => {}, oversee: true, loadOpen: false, ontoggleload: () => {}, onreports, oncampaigns: () => {} });
    await fireEvent.click(screen.getByTestId("open-reports"));
    expect(onreports).toHaveBeenCalledTimes(1);
  });
});
