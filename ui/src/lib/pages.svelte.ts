// The virtual conversation list's page cache: rows are fetched lazily in pages of 200 as the
// viewport moves, at most two requests at a time, the pages nearest the viewport kept and
// the rest evicted. `refresh` re-reads the visible pages (keeping their rows on screen
// until the new ones arrive) and forgets the others.
import { reason } from "./api";
import type { ConversationRow } from "./protocol";

export type FetchPage = (offset: number, limit: number) => Promise<ConversationRow[]>;

export class PageCache {
  /** page index → rows; replaced (never mutated) so readers re-render. */
  pages = $state.raw<ReadonlyMap<number, ConversationRow[]>>(new Map());
  /** The last load error, if the last load failed. */
  error = $state<string | null>(null);

  readonly pageSize: number;
  #fetch: FetchPage;
  #maxPages: number;
  #concurrency: number;
  #wanted: [number, number] = [0, -1];
  #inflight = new Map<number, number>(); // page → epoch it was asked at
  #stale = new Set<number>();
  #failed = new Set<number>();
  #epoch = 0;
  #generation = 0;

  constructor(fetch: FetchPage, opts: { pageSize?: number; maxPages?: number; concurrency?: number } = {}) {
    this.#fetch = fetch;
    this.pageSize = opts.pageSize ?? 200;
    this.#maxPages = opts.maxPages ?? 24;
    this.#concurrency = opts.concurrency ?? 2;
  }

  /** The row at absolute index `i`, when its page is loaded. */
  row(i: number): ConversationRow | undefined {
    return this.pages.get(Math.floor(i / this.pageSize))?.[i % this.pageSize];
  }

  /** True when the page holding index `i` has been loaded (the row may still be absent past the end). */
  loaded(i: number): boolean {
    return this.pages.has(Math.floor(i / this.pageSize));
  }

  /** Rows [first, last] (inclusive, absolute indices) are on screen: load their pages. */
  want(first: number, last: number): void {
    const p0 = Math.max(0, Math.floor(first / this.pageSize));
    const p1 = Math.max(-1, Math.floor(Math.max(first, last) / this.pageSize));
    this.#wanted = last < first ? [0, -1] : [p0, p1];
    this.#pump();
  }

  /** Something changed: re-read the pages on screen, forget the others. */
  refresh(): void {
    this.#epoch++;
    this.#failed.clear();
    const [p0, p1] = this.#wanted;
    const kept = new Map<number, ConversationRow[]>();
    for (const [p, rows] of this.pages) {
      if (p >= p0 && p <= p1) {
        kept.set(p, rows);
        this.#stale.add(p);
      }
    }
    for (const p of [...this.#stale]) if (!kept.has(p)) this.#stale.delete(p);
    this.pages = kept;
    this.#pump();
  }

  /** Another view: drop everything, including answers still on their way. */
  reset(fetch?: FetchPage): void {
    if (fetch) this.#fetch = fetch;
    this.#generation++;
    this.#epoch++;
    this.#inflight.clear();
    this.#stale.clear();
    this.#failed.clear();
    this.error = null;
    this.pages = new Map();
    this.#pump();
  }

  #next(): number | null {
    const [p0, p1] = this.#wanted;
    let staleCandidate: number | null = null;
    for (let p = p0; p <= p1; p++) {
      if (this.#inflight.has(p) || this.#failed.has(p)) continue;
      if (!this.pages.has(p)) return p;
      if (staleCandidate === null && this.#stale.has(p)) staleCandidate = p;
    }
    return staleCandidate;
  }

  #pump(): void {
    while (this.#inflight.size < this.#concurrency) {
      const p = this.#next();
      if (p === null) return;
      this.#load(p);
    }
  }

  #load(p: number): void {
    const generation = this.#generation;
    const epoch = this.#epoch;
    this.#inflight.set(p, epoch);
    this.#stale.delete(p);
    this.#fetch(p * this.pageSize, this.pageSize).then(
      (rows) => {
        if (generation !== this.#generation) return;
        this.#inflight.delete(p);
        const next = new Map(this.pages);
        next.set(p, rows);
        this.pages = this.#evict(next);
        // A change arrived while this page was on its way: read it again.
        if (epoch !== this.#epoch && next.has(p)) this.#stale.add(p);
        this.error = null;
        this.#pump();
      },
      (e: unknown) => {
        if (generation !== this.#generation) return;
        this.#inflight.delete(p);
        this.#failed.add(p);
        this.error = reason(e);
        this.#pump();
      },
    );
  }

  #evict(pages: Map<number, ConversationRow[]>): Map<number, ConversationRow[]> {
    if (pages.size <= this.#maxPages) return pages;
    const [p0, p1] = this.#wanted;
    const centre = (p0 + p1) / 2;
    const order = [...pages.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
    for (const p of order) {
      if (pages.size <= this.#maxPages) break;
      if (p >= p0 && p <= p1) continue;
      pages.delete(p);
      this.#stale.delete(p);
    }
    return pages;
  }
}
