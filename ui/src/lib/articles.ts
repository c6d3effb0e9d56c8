// The knowledge base's screen-side helpers: the `#query` the composer's article picker reads
// at the caret, putting an article's text into a draft, the editor's tags box, the list
// grouped by collection, and the share of readers an article helped. What an article says,
// which ones match and what is inserted are the core's answers.
import type { ArticleHit, ArticleUse } from "./protocol";

/** The `#query` being typed at `caret`: a `#` that starts a word, and the word's characters
 *  after it up to the caret; null when the caret is not in one. */
export function articleQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, Math.max(0, Math.min(caret, text.length)));
  const m = /(^|\s)#([^\s#]*)$/.exec(before);
  if (!m) return null;
  const query = m[2] ?? "";
  return { start: before.length - query.length - 1, query };
}

/** `text` put in place of `body[start, end)`, with a space either side where it would
 *  otherwise run into a word; the caret goes after it. */
export function insertAt(body: string, start: number, end: number, text: string): { body: string; caret: number } {
  const a = Math.max(0, Math.min(start, body.length));
  const b = Math.max(a, Math.min(end, body.length));
  const before = body.slice(0, a);
  const after = body.slice(b);
  const lead = before !== "" && !/\s$/.test(before) ? " " : "";
  const trail = after !== "" && !/^\s/.test(after) ? " " : "";
  const inserted = lead + text + trail;
  return { body: before + inserted + after, caret: before.length + lead.length + text.length };
}

/** The tags typed in the editor's box: split on commas, trimmed, blanks and repeats dropped. */
export function parseTags(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(",")) {
    const t = raw.trim();
    if (t && !out.some((x) => x.toLowerCase() === t.toLowerCase())) out.push(t);
  }
  return out;
}

/** The articles grouped by collection, the collections by name (those in none last), each
 *  keeping the order the core answered in. */
export function byCollection(hits: readonly ArticleHit[]): Array<{ collection: string; hits: ArticleHit[] }> {
  const groups = new Map<string, ArticleHit[]>();
  for (const h of hits) {
    const name = h.collection.trim();
    const group = groups.get(name);
    if (group) group.push(h);
    else groups.set(name, [h]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => (a === "" ? 1 : b === "" ? -1 : a.localeCompare(b)))
    .map(([collection, list]) => ({ collection, hits: list }));
}

/** The share of the people who rated an article who said it helped; null when nobody did. */
export function helpfulShare(use: Pick<ArticleUse, "helpful" | "not_helpful">): number | null {
  const rated = use.helpful + use.not_helpful;
  return rated > 0 ? use.helpful / rated : null;
}
