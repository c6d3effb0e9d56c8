// Tests for coalescing change events.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ChangeBus, noChanges, onlyRead, touches, type ChangeBatch } from "./changes";

const ev = (conversations: number[], contacts: number[] = [], everything = false, directory = false, canned = false) => ({
  conversations,
  contacts,
  everything,
  directory,
  canned,
});

describe("ChangeBus", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test("events within 150 ms make one batch", () => {
    const bus = new ChangeBus(150);
    const got: ChangeBatch[] = [];
    bus.subscribe((b) => got.push(b));
    bus.push(ev([1, 2]));
    vi.advanceTimersByTime(100);
    bus.push(ev([3], [9], false, true));
    expect(got).toHaveLength(0);
    vi.advanceTimersByTime(60);
    expect(got).toHaveLength(1);
    expect([...got[0]!.conversations]).toEqual([1, 2, 3]);
    expect([...got[0]!.contacts]).toEqual([9]);
    expect(got[0]!.directory).toBe(true);
    expect(got[0]!.canned).toBe(false);
    expect(got[0]!.everything).toBe(false);
    bus.push(ev([], [], false, false, true));
    vi.advanceTimersByTime(160);
    expect(got[1]!.canned).toBe(true);
    expect(got[1]!.directory).toBe(false);
    expect(got[1]!.articles).toBe(false);
    bus.push({ ...ev([]), articles: true });
    vi.advanceTimersByTime(160);
    expect(got[2]!.articles).toBe(true);
    expect(got[2]!.canned).toBe(false);
  });

  test("a steady stream still flushes every 150 ms", () => {
    const bus = new ChangeBus(150);
    let n = 0;
    bus.subscribe(() => n++);
    for (let i = 0; i < 10; i++) {
      bus.push(ev([i]));
      vi.advanceTimersByTime(50);
    }
    expect(n).toBeGreaterThanOrEqual(3);
  });

  test("a conversation only read stays apart until it changes in full", () => {
    const bus = new ChangeBus(150);
    const got: ChangeBatch[] = [];
    bus.subscribe((b) => got.push(b));
    bus.push({ ...ev([]), read: [1, 2] });
    bus.push({ ...ev([2]), read: [3] });
    bus.push({ ...ev([]), read: [2] });
    vi.advanceTimersByTime(160);
    expect([...got[0]!.read]).toEqual([1, 3]);
    expect([...got[0]!.conversations]).toEqual([2]);
    // An event of a core that does not name read state.
    bus.push(ev([4]));
    vi.advanceTimersByTime(160);
    expect(got[1]!.read.size).toBe(0);
  });

  test("unsubscribe and clear", () => {
    const bus = new ChangeBus(150);
    let n = 0;
    const off = bus.subscribe(() => n++);
    bus.push(ev([1]));
    bus.clear();
    vi.advanceTimersByTime(200);
    expect(n).toBe(0);
    off();
    bus.push(ev([1]));
    vi.advanceTimersByTime(200);
    expect(n).toBe(0);
  });
});

describe("touches", () => {
  const b: ChangeBatch = {
    conversations: new Set([5]),
    read: new Set([6]),
    contacts: new Set([7]),
    directory: false,
    canned: false,
    articles: false,
    everything: false,
  };
  test.each<[number[], number[], boolean]>([
    [[5], [], true],
    [[4], [7], true],
    [[4], [8], false],
    [[6], [], false],
    [[], [], false],
  ])("%j %j → %s", (convs, contacts, expected) => expect(touches(b, convs, contacts)).toBe(expected));
  test("everything touches all", () => {
    expect(touches({ ...b, everything: true }, [], [])).toBe(true);
  });
});

describe("onlyRead", () => {
  const read: ChangeBatch = { ...noChanges(), read: new Set([6]) };
  test.each<[string, Partial<ChangeBatch>, boolean]>([
    ["only read", {}, true],
    ["nothing at all", { read: new Set() }, false],
    ["and a conversation", { conversations: new Set([5]) }, false],
    ["and a contact", { contacts: new Set([7]) }, false],
    ["and the directory", { directory: true }, false],
    ["and the canned responses", { canned: true }, false],
    ["and the articles", { articles: true }, false],
    ["and everything", { everything: true }, false],
  ])("%s → %s", (_, parts, expected) => expect(onlyRead({ ...read, ...parts })).toBe(expected));
});
