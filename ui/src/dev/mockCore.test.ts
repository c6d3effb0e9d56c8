// The test double against the real core: the word matching of its search, the one rule it
// cannot look up, gives the core's answers on the examples crates/core/tests/ui_fixtures.rs
// searched with the real cache; and its answers come from the fixtures, not its own rules.
import { describe, expect, test } from "vitest";
import composeRules from "./fixtures/compose.json";
import searchRules from "./fixtures/search.json";
import type { ConsoleEvent, Directory, ReportView } from "../lib/protocol";
import { matchWords, MockCore, route } from "./mockCore";

describe("mockCore answers as the core does", () => {
  test.each(searchRules.words)("search $query in $text", ({ query, text, matches, highlighted }) => {
    const ranges = matchWords(query, text);
    expect(ranges !== null, "matches").toBe(matches);
    const bytes = new TextEncoder().encode(text);
    const words = (ranges ?? []).map(([a, b]) => new TextDecoder().decode(bytes.slice(a, b)));
    expect(words).toEqual(highlighted);
  });

  test("a route's window and refusal are the core's, with the route's own end time", () => {
    const now = 5_000_000;
    for (const r of composeRules.routes) {
      const at = r.example_expires_at === null ? null : now + (r.example_expires_at - composeRules.example_now);
      const got = route(r.channel as never, at, r.opted_out, now);
      expect(got.refusal).toEqual(r.refusal);
      expect(got.window.state).toBe(r.window.state);
      if (got.window.state === "open") expect(got.window.expires_at).toBe(at);
      if (got.window.state === "closed") expect(got.window.closed_at).toBe(at);
    }
  });

  test("every view, count and load row of a generated workspace is answered", () => {
    for (const who of ["ada@demo.switchboard", "lena@demo.switchboard"]) {
      const core = new MockCore({ conversations: 400, signedInAs: who });
      const counts = core.handle("counts") as Array<{ view: string; total: number }>;
      expect(counts.length).toBeGreaterThan(0);
      for (const c of counts) expect(c.total).toBe(core.filter(c.view as never).length);
      const load = core.handle("team_load") as Array<{ agent_id: number | null; open: number }>;
      expect(load.at(-1)?.agent_id).toBeNull();
      expect(load.reduce((n, l) => n + l.open, 0)).toBe(core.rows.filter((r) => r.status === "open").length);
    }
  });
});

describe("mockCore's made-up reports", () => {
  test("add up, are the same for the same query, and only for those who oversee", () => {
    const core = new MockCore({ conversations: 10, signedInAs: "lena@demo.switchboard" });
    const query = { from: "2024-02-20", to: "2024-03-05" };
    const view = core.handle("report", { query }) as ReportView;
    const r = view.report;
    expect(view.offline).toBe(false);
    expect(r.by_day.map((d) => d.date)).toHaveLength(15);
    expect(r.by_day[9]!.date).toBe("2024-02-29");
    expect(r.by_hour).toHaveLength(24);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(r.by_hour)).toBe(r.conversations);
    expect(sum(r.by_day.map((d) => d.conversations))).toBe(r.conversations);
    expect(sum(r.by_channel.map((c) => c.conversations))).toBe(r.conversations);
    expect(sum(r.csat.scores)).toBe(r.csat.responses);
    expect(r.sla.map((s) => s.target)).toEqual(["first_response", "next_response", "resolution"]);
    expect((core.handle("report", { query }) as ReportView).report).toEqual(r);
    // A shorter period is part of a longer one.
    const week = (core.handle("report", { query: { from: "2024-02-26", to: "2024-03-03" } }) as ReportView).report;
    expect(week.by_day).toEqual(r.by_day.slice(6, 13));
    expect(core.handle("export_report", { query })).toBe("/home/demo/Downloads/switchboard-report-2024-02-20-2024-03-05.csv");
    expect(() => core.handle("report", { query: { from: "2024-01-01", to: "2025-01-01" } })).toThrow();
    core.signIn("ada@demo.switchboard");
    expect(() => core.handle("report", { query })).toThrow();
  });
});

describe("mockCore's inboxes", () => {
  test("every conversation is in an inbox of its channel, its team's or else Support's", () => {
    const core = new MockCore({ conversations: 300, signedInAs: "lena@demo.switchboard" });
    const dir = core.handle("directory") as Directory;
    expect(dir.inboxes.map((i) => i.name)).toEqual([...dir.inboxes.map((i) => i.name)].sort());
    for (const row of core.rows) {
      const box = dir.inboxes.find((i) => i.id === row.inbox_id);
      expect(box?.kind).toBe(row.channel);
      expect([row.team_id, 1]).toContain(box?.team_id);
    }
    expect(new Set(core.rows.map((r) => r.inbox_id)).size).toBeGreaterThan(7);
  });

  test("set_routing and set_sla set and clear an inbox's own, and refuse another team's inbox", () => {
    const core = new MockCore({ conversations: 10, signedInAs: "lena@demo.switchboard" });
    const events: ConsoleEvent[] = [];
    core.emit = (e) => events.push(e);
    const own = (id: number) => (core.handle("directory") as Directory).inboxes.find((i) => i.id === id)!;
    const routing = { mode: "least_loaded", sticky: true, skills: [], reassign_after_mins: 15 };
    const sla = { first_response_mins: 10, warn_before_mins: 5 };

    expect(core.handle("set_routing", { team_id: 2, inbox_id: 8, policy: routing })).toBe(1);
    expect(core.handle("set_sla", { team_id: 2, inbox_id: 8, policy: sla })).toBe(1);
    expect(own(8)).toMatchObject({ routing, sla, version: 3 });
    expect(core.teams[1]!.routing.mode).toBe("manual");
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.type === "changed" && e.directory)).toBe(true);

    core.handle("set_routing", { team_id: 2, inbox_id: 8, policy: null });
    core.handle("set_sla", { team_id: 2, inbox_id: 8, policy: null });
    expect("routing" in own(8)).toBe(false);
    expect("sla" in own(8)).toBe(false);
    expect(own(8).version).toBe(5);
    expect(events).toHaveLength(4);

    for (const cmd of ["set_routing", "set_sla"]) {
      expect(() => core.handle(cmd, { team_id: 1, inbox_id: 8, policy: null })).toThrow(expect.objectContaining({ code: "bad_request" }));
      expect(() => core.handle(cmd, { team_id: 1, inbox_id: 99, policy: null })).toThrow(expect.objectContaining({ code: "not_found" }));
    }
    expect(() => core.handle("set_routing", { team_id: 1, inbox_id: null, policy: null })).toThrow(expect.objectContaining({ code: "bad_request" }));
    expect(events).toHaveLength(4);

    core.handle("set_routing", { team_id: 1, inbox_id: null, policy: routing });
    expect(core.teams[0]).toMatchObject({ routing, version: 2 });
    expect(own(1).routing).toBeUndefined();
  });
});
