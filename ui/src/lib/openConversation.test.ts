// Opening a conversation: a row from the list shows at once, the cache's row and the
// customer's profile replace it when they arrive, and a later open wins over an earlier one.
import { describe, expect, test, vi } from "vitest";
import type { Profile, Thread } from "./protocol";
import { answer, callsTo } from "../test/tauri";
import { row } from "../test/fixtures";
import { OpenConversation } from "./openConversation.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));

/** A conversation's row with this id. */
function rowOf(id: number, extra = {}) {
  return row(id, { id, contact_id: 1000 + id, ...extra });
}

function thread(id: number, extra = {}): Thread {
  return { conversation: rowOf(id, extra), lines: [], has_older: false };
}

function profile(contactId: number): Profile {
  return {
    contact: {
      id: contactId,
      name: "Ben Okafor",
      identities: [],
      profile: {},
      crm: null,
      opted_out: [],
      consents: [],
      created_at: 0,
      updated_at: 0,
      version: 1,
    },
    conversations: [],
  };
}

describe("OpenConversation", () => {
  test("a row from the list shows before the cache answers, then the cache's row replaces it", async () => {
    let release: () => void = () => {};
    const answered = new Promise<void>((r) => (release = r));
    answer({
      thread: async ({ conversation_id }) => {
        await answered;
        return thread(conversation_id, { preview: "from the cache" });
      },
      profile: ({ contact_id }) => profile(contact_id),
    });
    const conv = new OpenConversation();
    const shown = rowOf(7, { preview: "from the list" });
    const opening = conv.open(7, shown);
    expect(conv.row?.preview).toBe("from the list");
    expect(conv.profile).toBeNull();
    release();
    await opening;
    expect(conv.row?.preview).toBe("from the cache");
    expect(conv.profile?.contact.id).toBe(shown.contact_id);
  });

  test("without a row, or with another conversation's, nothing shows until the cache answers", async () => {
    answer({ thread: ({ conversation_id }) => thread(conversation_id), profile: ({ contact_id }) => profile(contact_id) });
    const conv = new OpenConversation();
    const opening = conv.open(8, rowOf(9));
    expect(conv.row).toBeNull();
    await opening;
    expect(conv.row?.id).toBe(8);
    expect(callsTo("thread")).toEqual([{ conversation_id: 8, limit: 1 }]);
  });

  test("once the customer is known, a refresh reads their profile only and takes the row from it", async () => {
    const conv = new OpenConversation();
    answer({
      thread: ({ conversation_id }) => thread(conversation_id),
      profile: ({ contact_id }) => ({
        ...profile(contact_id),
        conversations: [rowOf(5, { contact_id, preview: "from the profile" })],
      }),
    });
    await conv.open(5);
    answer({
      thread: ({ conversation_id }) => thread(conversation_id),
      profile: ({ contact_id }) => ({
        ...profile(contact_id),
        conversations: [rowOf(5, { contact_id, preview: "newer" })],
      }),
    });
    await conv.load();
    expect(callsTo("thread")).toEqual([]);
    expect(callsTo("profile")).toHaveLength(1);
    expect(conv.row?.preview).toBe("newer");
  });

  test("switching again before the first answer keeps the later conversation", async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((r) => (release = r));
    answer({
      thread: async ({ conversation_id }) => {
        if (conversation_id === 1) await slow;
        return thread(conversation_id);
      },
      profile: ({ contact_id }) => profile(contact_id),
    });
    const conv = new OpenConversation();
    const first = conv.open(1, rowOf(1));
    await conv.open(2, rowOf(2));
    release();
    await first;
    expect(conv.id).toBe(2);
    expect(conv.row?.id).toBe(2);
  });
});
