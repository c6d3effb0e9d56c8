// The conversation on screen: its row (header: status, assignee, channel, address) and the
// customer's profile (sidebar, other conversations), re-read when a change touches them.
import { api, reason } from "./api";
import { touches, type ChangeBatch } from "./changes";
import type { ConversationRow, Profile } from "./protocol";

export class OpenConversation {
  id = $state<number | null>(null);
  row = $state<ConversationRow | null>(null);
  profile = $state<Profile | null>(null);
  error = $state<string | null>(null);
  #seq = 0;

  /** Opens a conversation (or closes the open one with null). `shown` is its row as the
   *  list shows it: the thread renders from it at once, while the cache's row and the
   *  profile are read. */
  open(id: number | null, shown: ConversationRow | null = null): Promise<void> {
    if (id === this.id) return this.load();
    this.id = id;
    this.row = shown && shown.id === id ? shown : null;
    this.profile = null;
    this.error = null;
    return this.load();
  }

  /** Re-reads the row and the profile: the profile alone once the customer is known (it
   *  lists the row), the thread's row first otherwise or when the row left the customer. */
  async load(): Promise<void> {
    const id = this.id;
    const seq = ++this.#seq;
    if (id == null) return;
    try {
      const known = this.row?.id === id ? this.row.contact_id : null;
      let profile = known == null ? null : await api.profile(known).catch(() => null);
      let row = profile?.conversations.find((c) => c.id === id) ?? null;
      if (!row) {
        row = (await api.thread(id, 1)).conversation;
        if (seq !== this.#seq) return;
        this.row = row;
        profile = await api.profile(row.contact_id);
      }
      if (seq !== this.#seq) return;
      this.row = row;
      this.profile = profile;
      this.error = null;
    } catch (e) {
      if (seq === this.#seq) this.error = reason(e);
    }
  }

  /** The conversation ids of the open customer (for change matching). */
  get relatedIds(): number[] {
    return this.profile?.conversations.map((c) => c.id) ?? [];
  }

  onChanges(b: ChangeBatch): void {
    if (this.id == null) return;
    if (touches(b, [this.id, ...this.relatedIds], [this.row?.contact_id, this.profile?.contact.id])) void this.load();
  }
}
