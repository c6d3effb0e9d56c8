// Pure helpers for a customer's unified history: a stable key per line, merging a refreshed
// latest page into what is shown, and prepending older pages without duplicates.
import type { ThreadLine } from "./protocol";

/** A key that stays the same for a line across refreshes. */
export function lineKey(l: ThreadLine): string {
  if (l.id != null) return `m${l.id}`;
  if (l.outbox) return `o${l.outbox.id}`;
  return `c${l.client_msg_id ?? ""}:${l.created_at}`;
}

function dedupe(lines: ThreadLine[]): ThreadLine[] {
  const seen = new Set<string>();
  const out: ThreadLine[] = [];
  // The later copy of a line wins (it is the fresher one).
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (!l) continue;
    const k = lineKey(l);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(l);
  }
  return out.reverse();
}

/**
 * Merges a freshly read latest page (`latest`, oldest first) into the lines on screen. When
 * the page holds the whole history it replaces everything; otherwise the older lines already
 * loaded are kept in front of it.
 */
export function mergeLatest(current: ThreadLine[], latest: ThreadLine[], latestHasOlder: boolean): ThreadLine[] {
  if (!latestHasOlder || current.length === 0) return dedupe(latest);
  const firstSent = latest.find((l) => !l.outbox);
  if (!firstSent) return dedupe([...current.filter((l) => !l.outbox), ...latest]);
  const cutoff = firstSent.created_at;
  const fresh = new Set(latest.map(lineKey));
  const older = current.filter((l) => !l.outbox && l.created_at < cutoff && !fresh.has(lineKey(l)));
  return dedupe([...older, ...latest]);
}

/** Puts an older page in front of the lines on screen. */
export function prependOlder(current: ThreadLine[], older: ThreadLine[]): ThreadLine[] {
  return dedupe([...older, ...current]);
}

/** The oldest line that the hub knows (the cursor for the next older page). */
export function oldestSent(lines: ThreadLine[]): ThreadLine | undefined {
  return lines.find((l) => !l.outbox) ?? lines[0];
}

/** Lines in `next` that were not in `prev` and come after everything in it (new arrivals). */
export function arrivals(prev: ThreadLine[], next: ThreadLine[]): ThreadLine[] {
  if (prev.length === 0) return [];
  const known = new Set(prev.map(lineKey));
  const lastAt = Math.max(...prev.map((l) => l.created_at));
  return next.filter((l) => !known.has(lineKey(l)) && l.created_at >= lastAt);
}
