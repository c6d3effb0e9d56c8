// Tests for the composer's "/" canned-response matching.
import { expect, test } from "vitest";
import { cannedQuery, matchCanned } from "./canned";
import { canned } from "../test/fixtures";

const list = [
  canned(1, "thanks", "Thank you", "Thanks {{customer.first_name}}!"),
  canned(2, "refund", "Refund policy", "Refunds take 5 days."),
  canned(3, "hours", "Opening hours", "We are open 9–5."),
  canned(4, "ship", "Shipping times", "2–3 days."),
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
