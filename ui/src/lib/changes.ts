// Coalesces the core's `changed` events: every listener gets one batch at most every
// ~150 ms, naming the conversations and contacts that changed, whether the directory, the
// canned responses or the knowledge base did (or `everything`).
import type { ConsoleEvent } from "./protocol";

export type ChangedEvent = Extract<ConsoleEvent, { type: "changed" }>;

export interface ChangeBatch {
  conversations: Set<number>;
  contacts: Set<number>;
  directory: boolean;
  canned: boolean;
  /** The knowledge base changed. */
  articles: boolean;
  everything: boolean;
}

/** What a `changed` event says; `articles` is absent from an event of a core that does not
 *  name the knowledge base's changes. */
export type ChangeParts = Pick<ChangedEvent, "conversations" | "contacts" | "directory" | "canned" | "everything"> & {
  articles?: boolean;
};

/** True when the batch may change what is shown for these conversations or contacts. */
export function touches(
  batch: ChangeBatch,
  conversations: Iterable<number | null | undefined>,
  contacts: Iterable<number | null | undefined> = [],
): boolean {
  if (batch.everything) return true;
  for (const c of conversations) if (c != null && batch.conversations.has(c)) return true;
  for (const c of contacts) if (c != null && batch.contacts.has(c)) return true;
  return false;
}

function empty(): ChangeBatch {
  return { conversations: new Set(), contacts: new Set(), directory: false, canned: false, articles: false, everything: false };
}

export class ChangeBus {
  #listeners = new Set<(b: ChangeBatch) => void>();
  #pending: ChangeBatch | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly delay = 150) {}

  /** Adds a changed event to the batch that goes out at most `delay` ms from now. */
  push(e: ChangeParts): void {
    const b = (this.#pending ??= empty());
    for (const c of e.conversations) b.conversations.add(c);
    for (const c of e.contacts) b.contacts.add(c);
    b.directory ||= e.directory;
    b.canned ||= e.canned;
    b.articles ||= e.articles ?? false;
    b.everything ||= e.everything;
    this.#timer ??= setTimeout(() => this.flush(), this.delay);
  }

  /** Sends the pending batch now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const b = this.#pending;
    this.#pending = null;
    if (!b) return;
    for (const l of [...this.#listeners]) {
      try {
        l(b);
      } catch (err) {
        console.error("a change listener failed", err);
      }
    }
  }

  subscribe(listener: (b: ChangeBatch) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops anything pending (on sign-out). */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pending = null;
  }
}
