// Table tests for the reports screen's arithmetic: presets counted back from a local today,
// why a period cannot be asked for, the query, the targets' overall share, the busiest value.
import { describe, expect, test } from "vitest";
import { busiest, periodDays, periodProblem, presetPeriod, reportQuery, slaShare, type Preset } from "./reports";

describe("presetPeriod", () => {
  test.each<[Preset, Date, string, string]>([
    ["7d", new Date(2025, 5, 15, 23, 30), "2025-06-09", "2025-06-15"],
    ["30d", new Date(2025, 5, 15), "2025-05-17", "2025-06-15"],
    ["90d", new Date(2025, 5, 15), "2025-03-18", "2025-06-15"],
    ["12m", new Date(2025, 5, 15), "2024-06-16", "2025-06-15"],
    ["7d", new Date(2025, 0, 3), "2024-12-28", "2025-01-03"],
    ["12m", new Date(2024, 1, 29), "2023-03-02", "2024-02-29"],
    ["12m", new Date(2024, 2, 1), "2023-03-02", "2024-03-01"],
  ])("%s on %s", (preset, today, from, to) => {
    expect(presetPeriod(preset, today)).toEqual({ from, to });
  });

  test("every preset is a period the hub takes", () => {
    for (let d = new Date(2023, 0, 1); d.getFullYear() < 2026; d.setDate(d.getDate() + 1)) {
      for (const p of ["7d", "30d", "90d", "12m"] as const) {
        const { from, to } = presetPeriod(p, d);
        expect(periodProblem(from, to), `${p} on ${to}`).toBeNull();
      }
    }
  });
});

describe("periodProblem", () => {
  test.each<[string, string, string | null]>([
    ["2025-06-01", "2025-06-30", null],
    ["2025-06-01", "2025-06-01", null],
    ["2024-01-01", "2024-12-31", null],
    ["2023-06-01", "2024-05-31", null],
    ["2025-06-02", "2025-06-01", "The first day must not be after the last day."],
    ["2024-01-01", "2025-01-01", "A report covers at most 366 days; this period has 367."],
    ["", "2025-06-01", "Choose a first and a last day."],
    ["2025-06-01", "", "Choose a first and a last day."],
    ["2025-02-30", "2025-03-01", "Enter the days as dates (YYYY-MM-DD)."],
    ["1/6/2025", "2025-06-30", "Enter the days as dates (YYYY-MM-DD)."],
  ])("%s to %s", (from, to, problem) => expect(periodProblem(from, to)).toBe(problem));

  test("days are counted across clock changes", () => {
    expect(periodDays("2025-03-29", "2025-03-31")).toBe(3);
    expect(periodDays("2025-10-25", "2025-10-27")).toBe(3);
  });
});

describe("the rest", () => {
  test("reportQuery leaves the team out for all teams", () => {
    expect(reportQuery("2025-06-01", "2025-06-30", null)).toEqual({ from: "2025-06-01", to: "2025-06-30" });
    expect(reportQuery("2025-06-01", "2025-06-30", 2)).toEqual({ from: "2025-06-01", to: "2025-06-30", team_id: 2 });
  });

  test.each([
    [[], null],
    [[{ target: "first_response" as const, met: 0, missed: 0 }], null],
    [[{ target: "first_response" as const, met: 9, missed: 1 }], 0.9],
    [
      [
        { target: "first_response" as const, met: 90, missed: 10 },
        { target: "resolution" as const, met: 20, missed: 80 },
      ],
      0.55,
    ],
  ])("slaShare %#", (sla, share) => expect(slaShare(sla)).toBe(share));

  test.each<[number[], number | null]>([
    [[], null],
    [[0, 0], null],
    [[1, 3, 3, 2], 1],
    [[5], 0],
  ])("busiest %j", (values, at) => expect(busiest(values)).toBe(at));
});
