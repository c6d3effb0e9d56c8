// Tests for the composer's "/" canned-response matching.
import { expect, test } from "vitest";
import { cannedQuery, matchCanned } from "./canned";
import type { CannedResponse } from "./protocol";

const list: CannedResponse[] = [
  { id: 1, shortcut: "thanks", title: "Thank you", body: "Thanks {{customer.first_name}}!" },
  { id: 2, shortcut: "refund", title: "Refund policy", body: "Refunds take 5 days." },
  { id: 3, shortcut: "hours", title: "Opening hours", body: "We are open 9–5." },
  { id: 4, shortcut: "ship", title: "Shipping times", body: "2–3 days." },
];

test("the query is what follows a leading slash on one line", () => {
  expect(cannedQuery("/ref")).toBe("ref");
  expect(cannedQuery("/")).toBe("");
  expect(cannedQuery("hello /ref")).toBeNull();
  expect(cannedQuery("/ref\nmore")).toBeNull();
});

test("shortcut prefixes come first, then titles", () => {
  expect(matchCanned(list, "").map((c) => c.id)).toEqual([1, 2, 3, 4]);
  expect(matchCanned(list, "ref").map((c) => c.id)).toEqual([2]);
  expect(matchCanned(list, "sh").map((c) => c.id)).toEqual([4]);
  expect(matchCanned(list, "open").map((c) => c.id)).toEqual([3]);
  expect(matchCanned(list, "TIMES").map((c) => c.id)).toEqual([4]);
  expect(matchCanned(list, "zzz")).toEqual([]);
});
