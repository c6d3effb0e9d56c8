// The open thread against the fake core: the articles suggested for the customer's last
// message sit above the composer and go into the draft, and follow new messages; while a
// bot answers the conversation a notice says how to take it over instead, and a resolved
// conversation gets no suggestions.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { tick } from "svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import { MockCore } from "../dev/mockCore";
import type { ConversationRow, Directory, History } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { answer, answerWith, callsTo } from "../test/tauri";
import { HISTORY_PAGE, WarmHistory } from "../lib/warmHistory";
import Thread from "./Thread.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

let core: MockCore;

function start() {
  core = new MockCore({ conversations: 200, signedInAs: "ada@demo.switchboard" });
  core.emit = (e) => app.handle(e);
  app.directory = core.handle("directory") as Directory;
  answer({});
  answerWith((cmd, args) => core.handle(cmd, args));
}

function show(row: ConversationRow, warm?: WarmHistory) {
  return render(Thread, {
    row,
    warm,
    lead: false,
    relatedIds: [],
    offline: false,
    customerShown: false,
    onassign: () => {},
    onsnooze: () => {},
    onback: () => {},
    oncustomer: () => {},
  });
}

/** An open web-chat conversation whose customer last asked something an article answers. */
function suggesting(): ConversationRow {
  const row = core.rows.find((r) => r.status === "open" && r.channel === "webchat" && core.suggestedArticles(r.id).length > 0);
  if (!row) throw new Error("the demo has no conversation with suggestions");
  return row;
}

afterEach(() => {
  cleanup();
  answerWith(null);
  app.directory = null;
  app.toasts = [];
});

describe("suggested articles", () => {
  test("show above the composer; Insert puts the core's text into the draft", async () => {
    start();
    const row = suggesting();
    show(row);
    const strip = await screen.findByTestId("article-suggestions");
    const expected = core.suggestedArticles(row.id);
    expect(callsTo("suggested_articles")).toEqual([{ conversation_id: row.id }]);
    expect(within(strip).getAllByTestId("article-suggestion").map((s) => s.querySelector(".title")?.textContent)).toEqual(
      expected.map((h) => h.title),
    );
    const first = expected[0]!;
    const input = screen.getByTestId("composer-input") as HTMLTextAreaElement;
    await fireEvent.input(input, { target: { value: "Hi!" } });
    await fireEvent.click(within(strip).getByRole("button", { name: `Insert ${first.title} in the reply` }));
    await waitFor(() => expect(input.value).toBe(`Hi! ${first.title}: ${first.url}`));
    expect(callsTo("article_insertion")).toEqual([{ conversation_id: row.id, article_id: first.id, how: null }]);
  });

  test("follow the customer's new message", async () => {
    start();
    const row = suggesting();
    core.customerWrites(row.id, "How long does shipping take?");
    show(row);
    const strip = await screen.findByTestId("article-suggestions");
    expect(strip.textContent).toContain("Shipping times and costs");
    expect(strip.textContent).not.toContain("Resetting your password");
    core.customerWrites(row.id, "My password reset email never arrived.");
    await waitFor(() => expect(screen.getByTestId("article-suggestions").textContent).toContain("Resetting your password"));
    expect(callsTo("suggested_articles").length).toBeGreaterThan(1);
  });

  test("nothing shows when nothing matches", async () => {
    start();
    const row = suggesting();
    core.customerWrites(row.id, "ok");
    show(row);
    await waitFor(() => expect(callsTo("suggested_articles")).toHaveLength(1));
    await screen.findByTestId("composer-input");
    expect(screen.queryByTestId("article-suggestions")).toBeNull();
  });
});

describe("a conversation with a bot", () => {
  test("says a reply or assignment takes it over, and suggests nothing; the composer stays", async () => {
    start();
    show({ ...suggesting(), status: "bot" });
    const notice = await screen.findByTestId("bot-notice");
    expect(notice.textContent).toContain("A bot is answering this conversation. Replying or assigning it to yourself takes it over.");
    expect(screen.getByTestId("composer-input")).toBeTruthy();
    expect(screen.getByText("With bot")).toBeTruthy();
    expect(screen.queryByTestId("article-suggestions")).toBeNull();
    expect(callsTo("suggested_articles")).toEqual([]);
  });

  test("a resolved conversation gets no suggestions and no notice", async () => {
    start();
    show({ ...suggesting(), status: "resolved" });
    await screen.findByTestId("composer-input");
    expect(screen.queryByTestId("bot-notice")).toBeNull();
    expect(screen.queryByTestId("article-suggestions")).toBeNull();
    expect(callsTo("suggested_articles")).toEqual([]);
  });
});

describe("reading the thread", () => {
  test("opening an unread conversation marks it read without reading its thread again", async () => {
    start();
    const row = core.rows.find((r) => r.unread && r.status === "open");
    if (!row) throw new Error("the demo has no unread open conversation");
    show(row);
    await screen.findByTestId("composer-input");
    await waitFor(() => expect(callsTo("mark_read")).toEqual([{ conversation_id: row.id }]));
    await waitFor(() => expect(callsTo("history")).toHaveLength(1));
    const asked = () => ["history", "composer", "suggested_articles"].map((c) => callsTo(c).length);
    const before = asked();
    app.changes.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(asked()).toEqual(before);

    // A change to the conversation itself reads the thread again.
    core.changed([row.id]);
    app.changes.flush();
    await waitFor(() => expect(callsTo("history").length).toBeGreaterThan(before[0]!));
  });
});

describe("a thread read ahead", () => {
  test("shows its lines in its first frame, then reads them again", async () => {
    start();
    const row = core.rows.find((r) => r.status === "open")!;
    const warm = new WarmHistory(() => new Promise(() => {}));
    const early = core.handle("history", { contact_id: row.contact_id, limit: HISTORY_PAGE, before: null }) as History;
    expect(early.lines.length).toBeGreaterThan(0);
    warm.put(early);
    show(row, warm);
    await tick();
    expect(screen.getAllByTestId("line")).toHaveLength(early.lines.length);
    await waitFor(() => expect(callsTo("history")).toEqual([{ contact_id: row.contact_id, limit: HISTORY_PAGE, before: null }]));
  });

  test("without a page read ahead, the lines wait for the history", async () => {
    start();
    const row = core.rows.find((r) => r.status === "open")!;
    show(row, new WarmHistory(() => new Promise(() => {})));
    await tick();
    expect(screen.queryAllByTestId("line")).toHaveLength(0);
    await waitFor(() => expect(screen.getAllByTestId("line").length).toBeGreaterThan(0));
  });
});
