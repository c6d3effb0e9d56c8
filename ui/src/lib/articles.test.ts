// Tests for the knowledge base's screen-side helpers: the composer's `#query`, putting text
// into a draft, the editor's tags, the list's collections and an article's helpful share.
import { describe, expect, test } from "vitest";
import { articleQuery, byCollection, helpfulShare, insertAt, parseTags } from "./articles";
import type { ArticleHit } from "./protocol";

describe("articleQuery", () => {
  test.each<[string, string, number | undefined, { start: number; query: string } | null]>([
    ["a # alone", "#", undefined, { start: 0, query: "" }],
    ["at the start", "#ret", undefined, { start: 0, query: "ret" }],
    ["after a word", "Hi Ana, #ship", undefined, { start: 8, query: "ship" }],
    ["after a line break", "Hi\n#pass", undefined, { start: 3, query: "pass" }],
    ["not inside a word", "order#12", undefined, null],
    ["closed by a space", "#ret ", undefined, null],
    ["up to the caret only", "see #returns please", 8, { start: 4, query: "ret" }],
    ["the caret past the word", "see #returns please", 19, null],
    ["a second # is no query", "##x", undefined, null],
    ["no #", "hello", undefined, null],
  ])("%s", (_name, text, caret, expected) => {
    expect(articleQuery(text, caret ?? text.length)).toEqual(expected);
  });
});

describe("insertAt", () => {
  test("replaces the range and puts the caret after the text", () => {
    expect(insertAt("see #ret", 4, 8, "Returns: https://x/returns")).toEqual({
      body: "see Returns: https://x/returns",
      caret: 30,
    });
  });
  test("spaces the text from the words around it", () => {
    expect(insertAt("Hello,there", 6, 6, "LINK")).toEqual({ body: "Hello, LINK there", caret: 11 });
    expect(insertAt("", 0, 0, "LINK")).toEqual({ body: "LINK", caret: 4 });
    expect(insertAt("Hi ", 3, 3, "LINK")).toEqual({ body: "Hi LINK", caret: 7 });
    expect(insertAt("Hi\n", 3, 3, "LINK")).toEqual({ body: "Hi\nLINK", caret: 7 });
  });
  test("a range beyond the text is the end", () => {
    expect(insertAt("Hi", 10, 12, "LINK")).toEqual({ body: "Hi LINK", caret: 7 });
  });
});

test("tags: split on commas, trimmed, blanks and repeats dropped", () => {
  expect(parseTags(" returns, refund,, Refund ,gift card ")).toEqual(["returns", "refund", "gift card"]);
  expect(parseTags("")).toEqual([]);
});

test("collections by name, those in none last, each keeping the core's order", () => {
  const hit = (id: number, collection: string): ArticleHit => ({
    id,
    key: `k${id}`,
    title: `T${id}`,
    collection,
    locale: "en",
    status: "published",
    snippet: "",
    url: null,
  });
  const groups = byCollection([hit(1, "Shipping"), hit(2, ""), hit(3, "Orders"), hit(4, "Shipping"), hit(5, " Orders ")]);
  expect(groups.map((g) => [g.collection, g.hits.map((h) => h.id)])).toEqual([
    ["Orders", [3, 5]],
    ["Shipping", [1, 4]],
    ["", [2]],
  ]);
});

test("helpful share: of those who rated", () => {
  expect(helpfulShare({ helpful: 3, not_helpful: 1 })).toBe(0.75);
  expect(helpfulShare({ helpful: 0, not_helpful: 0 })).toBeNull();
});
