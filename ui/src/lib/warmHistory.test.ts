// Tests for reading the on-screen rows' threads ahead: one read at a time in the rows'
// order, pages dropped by the changes that may make them stale, none kept from a read a
// change overtook, the least recently used dropped past the limit.
import { describe, expect, test } from "vitest";
import { noChanges, type ChangeBatch } from "./changes";
import type { History, ThreadLine } from "./protocol";
import { WarmHistory, type ShownRow } from "./warmHistory";

/** A page of one line in each of these conversations. */
function page(contact: number, conversations: number[]): History {
  const lines = conversations.map((c, i) => ({ id: c * 100 + i, conversation_id: c }) as unknown as ThreadLine);
  return { contact_id: contact, lines, has_older: false };
}

/** A history read whose answer the test gives. */
function reads() {
  const asked: Array<{ contact: number; answer: (p: History) => void; fail: () => void }> = [];
  const fetch = (contact: number) =>
    new Promise<History>((answer, fail) => asked.push({ contact, answer, fail: () => fail(new Error("gone")) }));
  return { asked, fetch };
}

/** Lets an answer be taken and the next read be asked. */
const settle = () => new Promise((r) => setTimeout(() => setTimeout(r, 0), 0));

function batch(parts: Partial<ChangeBatch>): ChangeBatch {
  return { ...noChanges(), ...parts };
}

const rows = (...pairs: Array<[number, number]>): ShownRow[] => pairs.map(([id, contact_id]) => ({ id, contact_id }));

/** Answers every read with a page holding the rows' conversations, until none is asked. */
async function answerAll(r: ReturnType<typeof reads>, shown: ShownRow[]) {
  for (let i = 0; i < 50; i++) {
    await settle();
    const next = r.asked.shift();
    if (!next) return;
    next.answer(page(next.contact, shown.filter((s) => s.contact_id === next.contact).map((s) => s.id)));
  }
}

describe("WarmHistory", () => {
  test("reads the rows' customers one at a time, in order, once each", async () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 0 });
    const shown = rows([1, 10], [2, 20], [3, 10]);
    warm.want(shown);
    expect(r.asked.map((a) => a.contact)).toEqual([10]);
    await answerAll(r, shown);
    expect(warm.size).toBe(2);
    expect(warm.peek(10)?.lines.map((l) => l.conversation_id)).toEqual([1, 3]);
    warm.want(shown);
    await settle();
    expect(r.asked).toHaveLength(0);
  });

  test.each<[string, Partial<ChangeBatch>, boolean]>([
    ["a line in a conversation it holds", { conversations: new Set([1]) }, false],
    ["a conversation of the customer on screen, without lines yet", { conversations: new Set([3]) }, false],
    ["the customer", { contacts: new Set([10]) }, false],
    ["everything", { everything: true }, false],
    ["a conversation of someone else", { conversations: new Set([2]) }, true],
    ["a read alone", { read: new Set([1]) }, true],
    ["the canned responses", { canned: true }, true],
  ])("a change naming %s: the page is kept, %s", async (_, parts, kept) => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 0 });
    warm.put(page(10, [1]));
    warm.put(page(20, [2]));
    warm.want(rows([1, 10], [3, 10], [2, 20]));
    // The page of customer 10 lacks conversation 3 on screen: read again at once (and
    // conversation 3 has no lines yet).
    expect(r.asked.map((a) => a.contact)).toEqual([10]);
    r.asked.shift()!.answer(page(10, [1]));
    await settle();
    warm.onChanges(batch(parts));
    expect(warm.peek(10) !== undefined).toBe(kept);
  });

  test("a conversation on screen whose lines are older than the page is not read again at each new list", async () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 0 });
    const shown = rows([1, 10], [3, 10]);
    warm.want(shown);
    // The newest page holds conversation 1's lines only: conversation 3's are older.
    r.asked.shift()!.answer({ ...page(10, [1]), has_older: true });
    await settle();
    warm.want(shown);
    warm.want(shown);
    await settle();
    expect(r.asked).toHaveLength(0);
    expect(warm.peek(10)).toBeDefined();
    // A conversation new to the screen still drops it.
    warm.want(rows([1, 10], [3, 10], [4, 10]));
    expect(warm.peek(10)).toBeUndefined();
  });

  test("a page read while a change came is not kept, and is read again", async () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 0 });
    warm.want(rows([1, 10]));
    warm.onChanges(batch({ conversations: new Set([99]) }));
    r.asked.shift()!.answer(page(10, [1]));
    await settle();
    expect(warm.peek(10)).toBeUndefined();
    expect(r.asked.map((a) => a.contact)).toEqual([10]);
    r.asked.shift()!.answer(page(10, [1]));
    await settle();
    expect(warm.peek(10)).toBeDefined();
  });

  test("a failed read is not tried again until the rows change", async () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 0 });
    warm.want(rows([1, 10], [2, 20]));
    r.asked.shift()!.fail();
    await settle();
    await settle();
    expect(r.asked.map((a) => a.contact)).toEqual([20]);
    r.asked.shift()!.answer(page(20, [2]));
    await settle();
    expect(r.asked).toHaveLength(0);
    warm.want(rows([1, 10], [2, 20]));
    expect(r.asked.map((a) => a.contact)).toEqual([10]);
  });

  test("an open thread's customer is not read ahead: the thread keeps its page", async () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 0 });
    const release = warm.hold(10);
    const other = warm.hold(10);
    warm.want(rows([1, 10], [2, 20]));
    expect(r.asked.map((a) => a.contact)).toEqual([20]);
    r.asked.shift()!.answer(page(20, [2]));
    await settle();
    expect(r.asked).toHaveLength(0);
    warm.put(page(10, [1]));
    warm.onChanges(batch({ conversations: new Set([1]) }));
    expect(warm.peek(10)).toBeUndefined();
    await settle();
    expect(r.asked).toHaveLength(0);
    release();
    other();
    warm.want(rows([1, 10], [2, 20]));
    expect(r.asked.map((a) => a.contact)).toEqual([10]);
  });

  test("starts reading ahead a moment after the first rows show", async () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 20 });
    warm.want(rows([1, 10]));
    warm.want(rows([1, 10], [2, 20]));
    await settle();
    expect(r.asked).toHaveLength(0);
    await new Promise((done) => setTimeout(done, 30));
    expect(r.asked.map((a) => a.contact)).toEqual([10]);
  });

  test("once stopped, reads nothing more", async () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { startAfter: 20 });
    warm.want(rows([1, 10]));
    warm.stop();
    await new Promise((done) => setTimeout(done, 30));
    expect(r.asked).toHaveLength(0);
  });

  test("keeps at most its limit, dropping the least recently used", () => {
    const warm = new WarmHistory(reads().fetch, { max: 2, startAfter: 0 });
    warm.put(page(10, [1]));
    warm.put(page(20, [2]));
    warm.peek(10);
    warm.put(page(30, [3]));
    expect(warm.size).toBe(2);
    expect(warm.peek(20)).toBeUndefined();
    expect(warm.peek(10)).toBeDefined();
    expect(warm.peek(30)).toBeDefined();
  });

  test("reads ahead no more customers than its limit", () => {
    const r = reads();
    const warm = new WarmHistory(r.fetch, { max: 2, startAfter: 0 });
    warm.want(rows([1, 10], [2, 20], [3, 30]));
    r.asked.shift()!.answer(page(10, [1]));
    return answerAll(r, rows([2, 20])).then(() => {
      expect(warm.peek(30)).toBeUndefined();
      expect(warm.size).toBe(2);
    });
  });
});
