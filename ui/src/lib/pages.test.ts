// Tests for the virtual list's page cache: lazy pages, concurrency, refresh and eviction.
import { expect, test } from "vitest";
import { PageCache } from "./pages.svelte";
import type { ConversationRow } from "./protocol";

function row(i: number): ConversationRow {
  return {
    id: i + 1,
    contact_id: i + 1,
    contact_name: `Customer ${i}`,
    channel: "sms",
    customer_address: "+1",
    inbox_id: 1,
    status: "open",
    assignee_id: null,
    team_id: 1,
    preview: "",
    waiting_since: null,
    last_activity_at: 0,
    snoozed_until: null,
    reply_window_expires_at: null,
    unread: false,
    priority: "normal",
    sla_state: "ok",
    version: 1,
  };
}

/** A fake view of `total` rows whose answers the test releases by hand. */
function fakeView(total: number) {
  const calls: Array<{ offset: number; limit: number; resolve: () => void }> = [];
  let version = 0;
  const fetch = (offset: number, limit: number) =>
    new Promise<ConversationRow[]>((res) => {
      const v = version;
      calls.push({
        offset,
        limit,
        resolve: () =>
          res(
            Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, k) => ({
              ...row(offset + k),
              preview: `v${v}`,
            })),
          ),
      });
    });
  return { calls, fetch, bump: () => version++ };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

test("loads only the pages in view, two at a time", async () => {
  const v = fakeView(50_000);
  const cache = new PageCache(v.fetch, { pageSize: 200 });
  cache.want(0, 30);
  expect(v.calls.map((c) => c.offset)).toEqual([0]);
  v.calls[0]!.resolve();
  await settle();
  expect(cache.row(5)?.id).toBe(6);
  expect(cache.row(250)).toBeUndefined();

  // Jump to the middle of 50,000 rows: pages 124 and 125 only.
  cache.want(24_950, 25_010);
  expect(v.calls.map((c) => c.offset)).toEqual([0, 24_800, 25_000]);
  v.calls[1]!.resolve();
  v.calls[2]!.resolve();
  await settle();
  expect(cache.row(25_000)?.id).toBe(25_001);
  expect(cache.pages.size).toBe(3);
});

test("scrolled-past pages are skipped when their turn comes", async () => {
  const v = fakeView(10_000);
  const cache = new PageCache(v.fetch, { pageSize: 100, concurrency: 1 });
  cache.want(0, 10);
  cache.want(5_000, 5_010); // page 50 queued behind page 0
  cache.want(9_000, 9_010); // and then page 90 instead
  v.calls[0]!.resolve();
  await settle();
  expect(v.calls.map((c) => c.offset)).toEqual([0, 9_000]);
});

test("refresh re-reads visible pages and forgets the rest", async () => {
  const v = fakeView(1_000);
  const cache = new PageCache(v.fetch, { pageSize: 100 });
  cache.want(0, 10);
  v.calls[0]!.resolve();
  await settle();
  cache.want(500, 510);
  v.calls[1]!.resolve();
  await settle();
  expect(cache.pages.size).toBe(2);
  v.bump();
  cache.refresh();
  // page 0 is out of view: forgotten; page 5 stays on screen while it is read again.
  expect(cache.pages.size).toBe(1);
  expect(cache.row(500)?.preview).toBe("v0");
  expect(v.calls).toHaveLength(3);
  v.calls[2]!.resolve();
  await settle();
  expect(cache.row(500)?.preview).toBe("v1");
});

test("a change during a load reads the page again", async () => {
  const v = fakeView(1_000);
  const cache = new PageCache(v.fetch, { pageSize: 100 });
  cache.want(0, 10);
  v.bump();
  cache.refresh();
  v.calls[0]!.resolve();
  await settle();
  expect(v.calls).toHaveLength(2);
  v.calls[1]!.resolve();
  await settle();
  expect(cache.row(0)?.preview).toBe("v1");
});

test("reset drops answers of the previous view", async () => {
  const v = fakeView(1_000);
  const cache = new PageCache(v.fetch, { pageSize: 100 });
  cache.want(0, 10);
  cache.reset();
  v.calls[0]!.resolve();
  await settle();
  // The old answer is ignored; the new view asks again.
  expect(v.calls).toHaveLength(2);
  expect(cache.pages.size).toBe(0);
  v.calls[1]!.resolve();
  await settle();
  expect(cache.pages.size).toBe(1);
});

test("eviction keeps the pages nearest the viewport", async () => {
  const v = fakeView(100_000);
  const cache = new PageCache(v.fetch, { pageSize: 100, maxPages: 3, concurrency: 1 });
  for (const p of [0, 10, 20, 30, 40]) {
    cache.want(p * 100, p * 100 + 5);
    v.calls[v.calls.length - 1]!.resolve();
    await settle();
  }
  expect(cache.pages.size).toBe(3);
  expect(cache.loaded(4_000)).toBe(true);
  expect(cache.loaded(0)).toBe(false);
});

test("errors are reported and retried on refresh", async () => {
  let fail = true;
  const cache = new PageCache(async () => {
    if (fail) throw { code: "unavailable", message: "cache is busy" };
    return [row(0)];
  });
  cache.want(0, 5);
  await settle();
  expect(cache.error).toBe("cache is busy");
  fail = false;
  cache.refresh();
  await settle();
  expect(cache.error).toBeNull();
  expect(cache.row(0)?.id).toBe(1);
});
