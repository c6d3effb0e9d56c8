// Tests for the pure formatting helpers, above all the UTF-8 byte-range highlights.
import { describe, expect, test, vi } from "vitest";
import {
  assigneeFilter,
  byteRangesToIndices,
  compactAge,
  dayLabel,
  fillTemplate,
  formatBytes,
  formatCount,
  formatDuration,
  formatPercent,
  humanDuration,
  slaChip,
  dayAfter,
  fromLocalInput,
  highlightSegments,
  initials,
  periodLabel,
  relativeAge,
  routeLabel,
  snoozePresets,
  templateParams,
  toDatetimeLocal,
} from "./format";

const M = 60_000;
const H = 60 * M;
const D = 24 * H;

describe("formatDuration", () => {
  test.each([
    [0, "0s"],
    [-5000, "0s"],
    [45_000, "45s"],
    [12 * M + 30_000, "12m"],
    [H, "1h"],
    [2 * H + 5 * M, "2h 5m"],
    [3 * H + 12 * M + 59_000, "3h 12m"],
    [D + 4 * H, "1d 4h"],
    [3 * D, "3d"],
  ])("%i ms → %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe("humanDuration", () => {
  test.each<[number | null, string]>([
    [null, "—"],
    [Number.NaN, "—"],
    [-5000, "0 s"],
    [0, "0 s"],
    [45_000, "45 s"],
    [59_400, "59 s"],
    [59_600, "1 min"],
    [4 * M, "4 min"],
    [4 * M + 29_000, "4 min"],
    [4 * M + 31_000, "5 min"],
    [59 * M + 40_000, "1 h"],
    [H, "1 h"],
    [H + 20 * M, "1 h 20 min"],
    [H + 20 * M + 40_000, "1 h 21 min"],
    [23 * H + 59 * M + 40_000, "1 d"],
    [D + 20 * M, "1 d"],
    [2 * D + 3 * H, "2 d 3 h"],
    [2 * D + 3 * H + 31 * M, "2 d 4 h"],
    [2 * D + 23 * H + 45 * M, "3 d"],
    [40 * D, "40 d"],
  ])("%s ms → %s", (ms, text) => expect(humanDuration(ms)).toBe(text));
});

describe("periodLabel", () => {
  const now = new Date(2026, 11, 5, 12, 0).getTime();
  test.each([
    ["2026-11-06", "2026-12-05", "6 Nov – 5 Dec"],
    ["2026-12-05", "2026-12-05", "5 Dec"],
    ["2025-12-06", "2026-12-05", "6 Dec 2025 – 5 Dec 2026"],
    ["2025-03-01", "2025-03-31", "1 Mar 2025 – 31 Mar 2025"],
    ["bad", "2026-12-05", "bad – 2026-12-05"],
  ])("%s to %s", (from, to, text) => expect(periodLabel(from, to, now)).toBe(text));
});

describe("formatPercent", () => {
  test.each<[number | null, string]>([
    [null, "—"],
    [0, "0%"],
    [0.874, "87%"],
    [0.875, "88%"],
    [1, "100%"],
  ])("%s → %s", (share, text) => expect(formatPercent(share)).toBe(text));
});

describe("relative times", () => {
  const now = new Date(2024, 5, 15, 12, 0).getTime();
  test.each([
    [now - 10_000, "just now"],
    [now - 5 * M, "5 min ago"],
    [now - 3 * H, "3 h ago"],
    [now - D - H, "1 day ago"],
    [now - 3 * D, "3 days ago"],
    [new Date(2024, 2, 3).getTime(), "3 Mar"],
    [new Date(2022, 2, 3).getTime(), "3 Mar 2022"],
  ])("relativeAge(%i)", (ts, text) => expect(relativeAge(ts, now)).toBe(text));

  test.each([
    [now - 20_000, "now"],
    [now - 7 * M, "7m"],
    [now - 5 * H, "5h"],
    [now - 2 * D, "2d"],
  ])("compactAge(%i)", (ts, text) => expect(compactAge(ts, now)).toBe(text));
});

describe("dayLabel", () => {
  const now = new Date(2024, 5, 15, 0, 30).getTime(); // a Saturday, just after midnight
  test("today, yesterday and older days", () => {
    expect(dayLabel(new Date(2024, 5, 15, 0, 1).getTime(), now)).toBe("Today");
    expect(dayLabel(new Date(2024, 5, 14, 23, 59).getTime(), now)).toBe("Yesterday");
    expect(dayLabel(new Date(2024, 5, 13, 9).getTime(), now)).toBe("Thursday 13 Jun");
    expect(dayLabel(new Date(2023, 11, 31, 9).getTime(), now)).toBe("Sunday 31 Dec 2023");
  });
});

describe("byte-range highlights", () => {
  const enc = new TextEncoder();
  /** The byte range of `needle`'s first occurrence in `text`, as the core would send it. */
  function range(text: string, needle: string): [number, number] {
    const i = text.indexOf(needle);
    const start = enc.encode(text.slice(0, i)).length;
    return [start, start + enc.encode(needle).length];
  }
  function marked(text: string, ranges: Array<[number, number]>): string[] {
    return highlightSegments(text, ranges)
      .filter((s) => s.mark)
      .map((s) => s.text);
  }

  test("ASCII", () => {
    const t = "where is my order?";
    expect(marked(t, [range(t, "order")])).toEqual(["order"]);
    expect(highlightSegments(t, [range(t, "order")])).toEqual([
      { text: "where is my ", mark: false },
      { text: "order", mark: true },
      { text: "?", mark: false },
    ]);
  });

  test("accents (2-byte characters) before the match", () => {
    const t = "Café naïve — où est ma commande?";
    expect(marked(t, [range(t, "commande")])).toEqual(["commande"]);
    expect(marked(t, [range(t, "naïve")])).toEqual(["naïve"]);
    expect(marked(t, [range(t, "où")])).toEqual(["où"]);
  });

  test("CJK (3-byte) and emoji (4-byte, surrogate pairs)", () => {
    const t = "注文 🙂🚚 配達 status 👍 ok";
    expect(marked(t, [range(t, "配達")])).toEqual(["配達"]);
    expect(marked(t, [range(t, "status")])).toEqual(["status"]);
    expect(marked(t, [range(t, "🚚")])).toEqual(["🚚"]);
    expect(marked(t, [range(t, "ok")])).toEqual(["ok"]);
  });

  test("several ranges, unsorted and overlapping, are merged", () => {
    const t = "refund refund refund";
    expect(marked(t, [[14, 20], [0, 6], [3, 9]])).toEqual(["refund re", "refund"]);
  });

  test("a byte offset inside a character widens to the whole character", () => {
    const t = "añb";
    // "ñ" is bytes 1..3; [2, 3) starts inside it.
    expect(byteRangesToIndices(t, [[2, 3]])).toEqual([[1, 2]]);
    const e = "x🙂y";
    expect(byteRangesToIndices(e, [[2, 3]])).toEqual([[1, 3]]);
  });

  test("out-of-range and empty ranges are ignored or clamped", () => {
    const t = "short";
    expect(byteRangesToIndices(t, [[3, 3], [10, 20], [-4, 2]])).toEqual([[0, 2]]);
    expect(highlightSegments(t, [[2, 99]])).toEqual([
      { text: "sh", mark: false },
      { text: "ort", mark: true },
    ]);
    expect(highlightSegments("", [])).toEqual([{ text: "", mark: false }]);
  });

  test("marked text round-trips the whole snippet", () => {
    const t = "Olá! Preciso de ajuda com o pedido nº 42 🙏";
    const segs = highlightSegments(t, [range(t, "pedido"), range(t, "42")]);
    expect(segs.map((s) => s.text).join("")).toBe(t);
    expect(segs.filter((s) => s.mark).map((s) => s.text)).toEqual(["pedido", "42"]);
  });
});

describe("templates", () => {
  // How many values a template takes is the core's (Template::params), sent with it.
  test("filling keeps unfilled placeholders", () => {
    expect(fillTemplate("Hi {{1}}, order {{2}}", ["Ana"])).toBe("Hi Ana, order {{2}}");
  });
  test("only exact placeholders are filled, as the hub sends them", () => {
    expect(fillTemplate("Hi {{ 1 }}, {{1}}", ["Ana"])).toBe("Hi {{ 1 }}, Ana");
  });
  test.each<[string, number]>([
    ["Hi {{1}}, your order {{2}} has shipped.", 2],
    ["{{2}} before {{1}}", 2],
    ["No values", 0],
    ["A gap: {{1}} and {{3}}", 1],
    ["Only {{2}}", 0],
    ["Spaced {{ 1 }}", 0],
    ["Twice {{1}} {{1}}", 1],
    [Array.from({ length: 25 }, (_, i) => `{{${i + 1}}}`).join(" "), 20],
  ])("%s takes %i values, as Template::params counts them", (body, n) => {
    expect(templateParams(body)).toBe(n);
  });
});

describe("snooze presets", () => {
  test("1 hour, tomorrow 9:00, next Monday 9:00", () => {
    const wed = new Date(2024, 5, 12, 15, 20).getTime(); // Wednesday
    const [hour, tomorrow, monday] = snoozePresets(wed);
    expect(hour?.until).toBe(wed + H);
    expect(tomorrow?.until).toBe(new Date(2024, 5, 13, 9, 0).getTime());
    expect(monday?.until).toBe(new Date(2024, 5, 17, 9, 0).getTime());
    const mon = new Date(2024, 5, 17, 8, 0).getTime();
    expect(snoozePresets(mon)[2]?.until).toBe(new Date(2024, 5, 24, 9, 0).getTime());
    const sun = new Date(2024, 5, 16, 8, 0).getTime();
    expect(snoozePresets(sun)[2]?.until).toBe(new Date(2024, 5, 17, 9, 0).getTime());
  });
  test("datetime-local values round-trip", () => {
    const t = new Date(2024, 0, 5, 7, 30).getTime();
    expect(toDatetimeLocal(t)).toBe("2024-01-05T07:30");
    expect(fromLocalInput("2024-01-05T07:30")).toBe(t);
    expect(fromLocalInput("2024-01-05")).toBe(new Date(2024, 0, 5).getTime());
    expect(fromLocalInput("")).toBeNull();
    expect(fromLocalInput("nonsense")).toBeNull();
  });
  test("a 'before' date ends at the next local midnight, clock changes included", () => {
    vi.stubEnv("TZ", "America/New_York");
    try {
      // 8 March 2026 has 23 hours in New York; 1 November 2026 has 25.
      expect(dayAfter("2026-03-08")).toBe(new Date(2026, 2, 9).getTime());
      expect(new Date(dayAfter("2026-03-08") ?? 0).getHours()).toBe(0);
      expect((dayAfter("2026-03-08") ?? 0) - new Date(2026, 2, 8).getTime()).toBe(23 * 3_600_000);
      expect((dayAfter("2026-11-01") ?? 0) - new Date(2026, 10, 1).getTime()).toBe(25 * 3_600_000);
      expect(dayAfter("2026-12-31")).toBe(new Date(2027, 0, 1).getTime());
    } finally {
      vi.unstubAllEnvs();
    }
    expect(dayAfter("")).toBeNull();
    expect(dayAfter("2026-03-08T10:00")).toBeNull();
  });
});

describe("small formats", () => {
  test("counts, bytes, labels", () => {
    expect(formatCount(1200)).toBe("1,200");
    expect(formatCount(50000)).toBe("50,000");
    expect(formatCount(999)).toBe("999");
    expect(formatBytes(0)).toBe("");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(12 * 1024)).toBe("12 KB");
    expect(formatBytes(1.25 * 1024 * 1024)).toBe("1.3 MB");
    expect(routeLabel({ channel: "whatsapp", address: "+14155550100" })).toBe("Reply via WhatsApp (+14155550100)");
    expect(initials("Ana María López")).toBe("AL");
    expect(initials("émile")).toBe("É");
  });
});

describe("assigneeFilter", () => {
  test.each([
    ["", null],
    ["unassigned", { kind: "unassigned" }],
    ["7", { kind: "agent", id: 7 }],
    ["0", null],
    ["x", null],
  ])("%j → %j", (value, expected) => {
    expect(assigneeFilter(value)).toEqual(expected);
  });
});

describe("slaChip", () => {
  const now = 1_000_000_000;
  test.each([
    ["no target", "ok", null, null],
    ["an hour left", "ok", now + 3_600_000, { text: "due in 1h", tone: "ok" }],
    ["nine minutes left, at risk", "at_risk", now + 540_000, { text: "due in 9m", tone: "at_risk" }],
    ["missed five minutes ago", "breached", now - 300_000, { text: "late 5m", tone: "breached" }],
    ["passed before the hub said so", "at_risk", now - 60_000, { text: "late 1m", tone: "breached" }],
  ] as const)("%s", (_what, state, due, want) => {
    expect(slaChip(state, due, now)).toEqual(want);
  });
});
