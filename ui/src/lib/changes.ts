// Coalesces the core's `changed` events: every listener gets one batch at most every
// ~150 ms, naming the conversations and contacts that changed, the conversations whose read
// state alone did, whether the directory, the canned responses or the knowledge base did
// (or `everything`).
import type { ConsoleEvent } from "./protocol";

export type ChangedEvent = Extract<ConsoleEvent, { type: "changed" }>;

export interface ChangeBatch {
  conversations: Set<number>;
  /** Conversations whose read state alone changed: their rows and the unread counts, never
   *  their threads. None of them is in `conversations`. */
  read: Set<number>;
  contacts: Set<number>;
  directory: boolean;
  canned: boolean;
  /** The knowledge base changed. */
  articles: boolean;
  everything: boolean;
}

/** What a `changed` event says; `articles` and `read` are absent from an event of a core
 *  that does not name those changes. */
export type ChangeParts = Pick<ChangedEvent, "conversations" | "contacts" | "directory" | "canned" | "everything"> & {
  articles?: boolean;
  read?: number[];
};

/** True when the batch may change what is shown of these conversations' threads or these
 *  contacts (a conversation only read changes neither). */
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

/** True when the batch says nothing but that conversations were read. */
export function onlyRead(batch: ChangeBatch): boolean {
  return (
    batch.read.size > 0 &&
    batch.conversations.size === 0 &&
    batch.contacts.size === 0 &&
    !batch.directory &&
    !batch.canned &&
    !batch.articles &&
    !batch.everything
  );
}

/** A batch naming nothing. */
export function noChanges(): ChangeBatch {
  return {
    conversations: new Set(),
    read: new Set(),
    contacts: new Set(),
    directory: false,
    canned: false,
    articles: false,
    everything: false,
  };
}

export class ChangeBus {
  #listeners = new Set<(b: ChangeBatch) => void>();
  #pending: ChangeBatch | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly delay = 150) {}

  /** Adds a changed event to the batch that goes out at most `delay` ms from now. */
  push(e: ChangeParts): void {
    const b = (this.#pending ??= noChanges());
    for (const c of e.conversations) {
      b.conversations.add(c);
      b.read.delete(c);
    }
    for (const c of e.read ?? []) if (!b.conversations.has(c)) b.read.add(c);
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
