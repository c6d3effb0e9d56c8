// Tests for merging refreshed and older history pages.
import { expect, test } from "vitest";
import { arrivals, lineKey, mergeLatest, prependOlder } from "./lines";
import type { ThreadLine } from "./protocol";

function line(id: number | null, at: number, extra: Partial<ThreadLine> = {}): ThreadLine {
  return {
    id,
    conversation_id: 1,
    channel: "sms",
    direction: "inbound",
    author_agent_id: null,
    author_name: null,
    body: `line ${id ?? "pending"}`,
    subject: null,
    attachments: [],
    client_msg_id: null,
    delivery: null,
    delivery_error: null,
    choices: null,
    chosen: null,
    bot: null,
    outbox: null,
    created_at: at,
    ...extra,
  };
}

test("a whole-history page replaces everything", () => {
  const cur = [line(1, 10), line(2, 20)];
  const next = [line(1, 10), line(2, 20), line(3, 30)];
  expect(mergeLatest(cur, next, false).map(lineKey)).toEqual(["m1", "m2", "m3"]);
});

test("older lines already loaded are kept in front of the latest page", () => {
  const cur = [line(1, 10), line(2, 20), line(3, 30), line(4, 40)];
  const latest = [line(3, 30), line(4, 40), line(5, 50)];
  expect(mergeLatest(cur, latest, true).map(lineKey)).toEqual(["m1", "m2", "m3", "m4", "m5"]);
});

test("an outbox line is replaced by the sent one", () => {
  const pending = line(null, 45, { direction: "outbound", outbox: { id: 9, state: "pending", error: null } });
  const cur = [line(1, 10), line(2, 20), pending];
  const latest = [line(2, 20), line(6, 45, { direction: "outbound" })];
  expect(mergeLatest(cur, latest, true).map(lineKey)).toEqual(["m1", "m2", "m6"]);
});

test("prepending skips duplicates", () => {
  const cur = [line(3, 30), line(4, 40)];
  expect(prependOlder(cur, [line(1, 10), line(2, 20), line(3, 30)]).map(lineKey)).toEqual(["m1", "m2", "m3", "m4"]);
});

test("arrivals are the new lines at the end", () => {
  const prev = [line(1, 10), line(2, 20)];
  const next = [line(0, 5), line(1, 10), line(2, 20), line(3, 30)];
  expect(arrivals(prev, next).map(lineKey)).toEqual(["m3"]);
  expect(arrivals([], next)).toEqual([]);
});
