// The newest page of history of the customers whose rows are on screen or next to it,
// read ahead one at a time, so a click on a row shows its thread's lines in the thread's
// first frame. The thread still reads its history again as it opens, and keeps its
// customer's page while it is open. A page is dropped when a change names one of its
// customer's conversations (or the customer), when a row of the customer shows a
// conversation the page never knew of, and a page read while anything changed is not kept.
import { touches, type ChangeBatch } from "./changes";
import type { History } from "./protocol";

/** Lines in a page of history, as the thread reads them. */
export const HISTORY_PAGE = 100;

export type FetchHistory = (contactId: number) => Promise<History>;

/** What a row on screen says of its conversation. */
export interface ShownRow {
  id: number;
  contact_id: number;
}

export class WarmHistory {
  #fetch: FetchHistory;
  #max: number;
  /** contact → its newest page, with the conversations known when it was kept (its lines'
   *  and the customer's rows on screen then); least recently used first. */
  #pages = new Map<number, { page: History; known: Set<number> }>();
  /** The customers on screen in order, with their conversations on screen. */
  #shown = new Map<number, Set<number>>();
  #busy = false;
  /** Reading ahead starts this long after the first rows show, when the console's own start
   *  is done; 0 starts at once. */
  #startAfter: number;
  #started = false;
  #starting: ReturnType<typeof setTimeout> | null = null;
  /** Customers whose threads are open: those threads keep their pages here themselves. */
  #open = new Map<number, number>();
  /** Bumped by every change naming conversations or customers, so that an answer read
   *  before it is not kept. */
  #epoch = 0;

  constructor(fetch: FetchHistory, opts: { max?: number; startAfter?: number } = {}) {
    this.#fetch = fetch;
    this.#max = opts.max ?? 48;
    this.#startAfter = opts.startAfter ?? 300;
    this.#started = this.#startAfter <= 0;
  }

  /** The rows on screen, in order: read their customers' pages ahead. */
  want(rows: Iterable<ShownRow>): void {
    this.#shown = new Map();
    for (const r of rows) {
      if (!this.#shown.has(r.contact_id) && this.#shown.size >= this.#max) continue;
      const conversations = this.#shown.get(r.contact_id) ?? new Set<number>();
      conversations.add(r.id);
      this.#shown.set(r.contact_id, conversations);
    }
    // A conversation the page never knew of is newer than it.
    for (const [contact, conversations] of this.#shown) {
      const kept = this.#pages.get(contact);
      if (kept && [...conversations].some((id) => !kept.known.has(id))) this.#pages.delete(contact);
    }
    this.#pump();
  }

  /** The page read ahead for this customer, if any. */
  peek(contactId: number): History | undefined {
    const kept = this.#pages.get(contactId);
    if (!kept) return undefined;
    // The most recently used now.
    this.#pages.delete(contactId);
    this.#pages.set(contactId, kept);
    return kept.page;
  }

  /** Keeps the newest page an open thread has just read, for its next opening. */
  put(page: History): void {
    this.#keep(page);
  }

  /** A thread of this customer is open and reads its own pages (and `put`s them): none is
   *  read ahead for it until the returned function is called. */
  hold(contactId: number): () => void {
    this.#open.set(contactId, (this.#open.get(contactId) ?? 0) + 1);
    return () => {
      const n = (this.#open.get(contactId) ?? 1) - 1;
      if (n > 0) this.#open.set(contactId, n);
      else this.#open.delete(contactId);
    };
  }

  /** Drops the pages a batch of changes may have made stale (a read alone changes none). */
  onChanges(batch: ChangeBatch): void {
    if (batch.everything || batch.conversations.size > 0 || batch.contacts.size > 0) this.#epoch++;
    for (const [contact, kept] of this.#pages) {
      if (touches(batch, [...kept.known, ...(this.#shown.get(contact) ?? [])], [contact])) this.#pages.delete(contact);
    }
    this.#pump();
  }

  /** Reads nothing more ahead (the inbox is gone). */
  stop(): void {
    if (this.#starting) clearTimeout(this.#starting);
    this.#starting = null;
    this.#shown.clear();
  }

  /** How many pages are kept. */
  get size(): number {
    return this.#pages.size;
  }

  #keep(page: History): void {
    const known = new Set([...page.lines.map((l) => l.conversation_id), ...(this.#shown.get(page.contact_id) ?? [])]);
    this.#pages.delete(page.contact_id);
    this.#pages.set(page.contact_id, { page, known });
    while (this.#pages.size > this.#max) {
      const oldest = this.#pages.keys().next().value as number;
      this.#pages.delete(oldest);
    }
  }

  /** Reads the next missing page; one at a time, each after the page's other work. */
  #pump(): void {
    if (!this.#started) {
      this.#starting ??= setTimeout(() => {
        this.#started = true;
        this.#pump();
      }, this.#startAfter);
      return;
    }
    if (this.#busy) return;
    const next = [...this.#shown.keys()].find((c) => !this.#pages.has(c) && !this.#open.has(c));
    if (next === undefined) return;
    this.#busy = true;
    const epoch = this.#epoch;
    this.#fetch(next).then(
      (page) => {
        this.#busy = false;
        if (epoch === this.#epoch && this.#shown.has(next)) this.#keep(page);
        setTimeout(() => this.#pump(), 0);
      },
      () => {
        // Not worth retrying ahead of time: the thread reads it when it opens.
        this.#busy = false;
        this.#shown.delete(next);
        setTimeout(() => this.#pump(), 0);
      },
    );
  }
}
