// The test double against the real core: the word matching of its search, the one rule it
// cannot look up, gives the core's answers on the examples crates/core/tests/ui_fixtures.rs
// searched with the real cache; and its answers come from the fixtures, not its own rules.
import { describe, expect, test } from "vitest";
import composeRules from "./fixtures/compose.json";
import searchRules from "./fixtures/search.json";
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
