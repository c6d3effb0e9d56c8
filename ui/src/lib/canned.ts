// Canned-response matching for the composer's "/" menu: the text after a leading "/" filters
// by shortcut (prefix matches first) and title.
import type { CannedOption } from "./protocol";

/** The query typed after a leading "/" (the whole box is "/query", one line), or null. */
export function cannedQuery(body: string): string | null {
  const m = /^\/([^\n]*)$/.exec(body);
  return m ? (m[1] ?? "") : null;
}

/** Canned responses matching `query`, best first, at most `limit`. */
export function matchCanned(list: readonly CannedOption[], query: string, limit = 8): CannedOption[] {
  const q = query.trim().toLowerCase();
  if (!q) return list.slice(0, limit);
  const score = (c: CannedOption): number => {
    const s = c.shortcut.toLowerCase();
    const t = c.title.toLowerCase();
    if (s === q) return 0;
    if (s.startsWith(q)) return 1;
    if (t.startsWith(q)) return 2;
    if (s.includes(q)) return 3;
    if (t.includes(q)) return 4;
    return -1;
  };
  return list
    .map((c) => ({ c, s: score(c) }))
    .filter((x) => x.s >= 0)
    .sort((a, b) => a.s - b.s || a.c.shortcut.localeCompare(b.c.shortcut))
    .slice(0, limit)
    .map((x) => x.c);
}
