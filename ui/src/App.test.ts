// The whole console against the fake core: the session gate, what agents and leads see,
// keyboard navigation, and the core's events (offline, conflicts, failed notifications,
// the end of a session).
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import App from "./App.svelte";
import { MockCore } from "./dev/mockCore";
import { app } from "./lib/stores.svelte";
import type { ConsoleEvent } from "./lib/protocol";
import { answer, answerWith, callsTo, fire } from "./test/tauri";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("./test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("./test/tauri")).listen }));

let core: MockCore;

function start(as: string | null) {
  core = new MockCore({ conversations: 300, signedInAs: as });
  core.emit = (e) => fire("console", e);
  answer({});
  answerWith((cmd, args) => core.handle(cmd, args));
  return render(App, {});
}

const consoleEvent = (e: ConsoleEvent) => fire("console", e);

beforeEach(() => {
  app.signedIn(null);
  // jsdom has no 2D canvas: the reports' charts keep their canvas, label and summary only.
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => {
  cleanup();
  answerWith(null);
  vi.restoreAllMocks();
});

describe("session gate", () => {
  test("no session: sign-in; the shell's session_changed opens the inbox", async () => {
    start(null);
    await screen.findByTestId("signin");
    expect(callsTo("restore_session")).toHaveLength(1);
    fire("shell", { type: "session_changed", session: core.signIn("ada@demo.switchboard") });
    await screen.findByTestId("inbox");
  });

  test("the hub ending the session goes back to sign-in with a notice", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    consoleEvent({ type: "connection", connection: { state: "signed_out", reason: "token revoked" } });
    await screen.findByTestId("signin");
    expect(screen.getByText("Your session ended — sign in again")).toBeTruthy();
  });

  test("sign out", async () => {
    start("ada@demo.switchboard");
    await fireEvent.click(await screen.findByTestId("sign-out"));
    await screen.findByTestId("signin");
    expect(callsTo("sign_out")).toEqual([{ forget: false }]);
  });

  test("sign out and forget asks twice, then deletes this computer's copy", async () => {
    start("ada@demo.switchboard");
    const forget = await screen.findByTestId("sign-out-forget");
    await fireEvent.click(forget);
    expect(callsTo("sign_out")).toHaveLength(0);
    expect(forget.textContent).toContain("Delete this computer's copy");
    await fireEvent.click(forget);
    await screen.findByTestId("signin");
    expect(callsTo("sign_out")).toEqual([{ forget: true }]);
  });
});

describe("agent", () => {
  test("sees the views the core counts, no lead tools", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getByTestId("view-mine")).toBeTruthy());
    const views = [...document.querySelectorAll("nav [data-testid^=view-]")].map((e) => e.getAttribute("data-testid"));
    expect(views).toEqual([
      "view-mine",
      "view-unassigned",
      "view-my_teams",
      "view-waiting",
      "view-at_risk",
      "view-bot",
      "view-closed",
    ]);
    const mine = core.handle("counts") as Array<{ view: string; total: number }>;
    expect(within(screen.getByTestId("view-mine")).getByTestId("count").textContent).toBe(String(mine[0]!.total));
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
    expect(screen.queryByTestId("open-load")).toBeNull();
    expect(screen.queryByTestId("open-reports")).toBeNull();
    expect(screen.queryByTestId("open-campaigns")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "R", shiftKey: true });
    expect(screen.queryByTestId("reports")).toBeNull();
    expect(callsTo("report")).toHaveLength(0);
    await fireEvent.keyDown(document.body, { key: "C", shiftKey: true });
    expect(screen.queryByTestId("campaigns-screen")).toBeNull();
    expect(screen.queryByTestId("new-message-dialog")).toBeNull();
    expect(callsTo("campaigns")).toHaveLength(0);
    expect(screen.queryAllByTestId("row-select")).toHaveLength(0);
    await fireEvent.click(screen.getAllByTestId("conversation-row")[0]!);
    await screen.findByTestId("thread");
    expect(screen.queryByTestId("assign")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "a" });
    expect(screen.queryByTestId("assign-dialog")).toBeNull();
  });

  test("j/k and Enter open a conversation; the thread shows the unified history", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(2));
    await fireEvent.keyDown(document.body, { key: "j" });
    await fireEvent.keyDown(document.body, { key: "j" });
    await fireEvent.keyDown(document.body, { key: "k" });
    const rows = screen.getAllByTestId("conversation-row");
    expect(rows[1]!.getAttribute("aria-selected")).toBe("true");
    await fireEvent.keyDown(document.body, { key: "Enter" });
    const thread = await screen.findByTestId("thread");
    expect(thread.dataset.conversationId).toBe(rows[1]!.dataset.id);
    const row = core.rows.find((r) => String(r.id) === rows[1]!.dataset.id)!;
    expect(thread.dataset.contactId).toBe(String(row.contact_id));
    await waitFor(() => expect(screen.getAllByTestId("line").length).toBeGreaterThan(0));
    expect(screen.getAllByTestId("day").length).toBeGreaterThan(0);
    expect(callsTo("mark_read")).toEqual([{ conversation_id: row.id }]);
    expect(callsTo("set_open_conversation").at(-1)).toEqual({ conversation_id: row.id });
    expect((await screen.findByTestId("profile")).textContent).toContain(row.contact_name);

    // r focuses the composer in reply mode; n in note mode; Escape leaves the field.
    await fireEvent.keyDown(document.body, { key: "n" });
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("composer-input")));
    expect(screen.getByTestId("mode-note").getAttribute("aria-pressed")).toBe("true");
    await fireEvent.keyDown(document.activeElement!, { key: "j" });
    expect(rows[1]!.getAttribute("aria-selected")).toBe("true");
    await fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(document.activeElement).toBe(document.body);

    // ? toggles the shortcuts; / opens search.
    await fireEvent.keyDown(document.body, { key: "?" });
    expect(screen.getByTestId("shortcuts")).toBeTruthy();
    await fireEvent.keyDown(screen.getByTestId("shortcuts"), { key: "Escape" });
    expect(screen.queryByTestId("shortcuts")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "/" });
    expect(screen.getByTestId("search")).toBeTruthy();
  });

  test("opens the knowledge base from the views or with Shift+K, reading only; Escape returns to the inbox", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(2));
    await fireEvent.click(screen.getByTestId("open-articles"));
    await screen.findByTestId("knowledge-base");
    await waitFor(() => expect(screen.getAllByTestId("article-row").length).toBe(core.articles.length));
    expect(screen.queryByTestId("article-new")).toBeNull();
    // The list's keys wait while the knowledge base covers it.
    await fireEvent.keyDown(document.body, { key: "Enter" });
    expect(screen.queryByTestId("thread")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "Escape" });
    expect(screen.queryByTestId("knowledge-base")).toBeNull();
    expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(2);

    await fireEvent.keyDown(document.body, { key: "K", shiftKey: true });
    expect(screen.getByTestId("knowledge-base")).toBeTruthy();
    expect(screen.queryByTestId("articles-loading")).toBeNull();
    await fireEvent.click(screen.getByTestId("close-articles"));
    expect(screen.queryByTestId("knowledge-base")).toBeNull();

    await fireEvent.keyDown(document.body, { key: "?" });
    expect(screen.getByTestId("shortcuts").textContent).toContain("Knowledge base");
  });

  test("e resolves the open thread through the core", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
    await fireEvent.keyDown(document.body, { key: "Enter" });
    const thread = await screen.findByTestId("thread");
    await fireEvent.keyDown(document.body, { key: "e" });
    await waitFor(() =>
      expect(callsTo("set_status")).toEqual([
        { conversation_id: Number(thread.dataset.conversationId), status: "resolved", snoozed_until: null },
      ]),
    );
    await screen.findByTestId("reopen");
  });
});

describe("lead", () => {
  test("sees All, team load, row checkboxes and bulk assign", async () => {
    start("lena@demo.switchboard");
    await screen.findByTestId("view-all");
    await fireEvent.click(screen.getByTestId("open-load"));
    await waitFor(() => expect(screen.getAllByTestId("load-row").length).toBe(core.agents.length + 1));
    expect(screen.getAllByTestId("load-row").at(-1)?.textContent).toContain("Unassigned");

    await waitFor(() => expect(screen.getAllByTestId("row-select").length).toBeGreaterThan(1));
    const boxes = screen.getAllByTestId("row-select");
    await fireEvent.click(boxes[0]!);
    await fireEvent.click(boxes[1]!);
    const bulk = screen.getByTestId("bulk-assign");
    expect(bulk.textContent).toContain("Assign 2 to…");
    await fireEvent.click(bulk);
    const dialog = screen.getByTestId("assign-dialog");
    const team = within(dialog)
      .getAllByTestId("assign-option")
      .find((o) => o.dataset.teamId === "2")!;
    await fireEvent.click(team);
    const rows = screen.getAllByTestId("conversation-row");
    await waitFor(() =>
      expect(callsTo("reassign")).toEqual([
        { conversation_ids: [Number(rows[0]!.dataset.id), Number(rows[1]!.dataset.id)], to: { agent_id: null, team_id: 2 } },
      ]),
    );
    await waitFor(() => expect(screen.queryByTestId("assign-dialog")).toBeNull());
    expect(screen.queryByTestId("bulk-assign")).toBeNull();
  });

  test("gives an inbox its own routing from the team load, then makes it follow its team again", async () => {
    start("lena@demo.switchboard");
    await fireEvent.click(await screen.findByTestId("open-load"));
    const billing = (await screen.findAllByTestId("routing-team")).find((t) => t.dataset.team === "2")!;
    const scope = within(billing).getByTestId("routing-scope") as HTMLSelectElement;
    expect([...scope.options].map((o) => o.textContent)).toEqual([
      "All of Billing's inboxes",
      "WhatsApp · Northwind Billing (WhatsApp)",
      "billing@northwind.example (Email)",
    ]);
    await fireEvent.change(scope, { target: { value: "8" } });
    expect(within(billing).getByTestId("routing-inherited").textContent).toBe("Follows Billing's settings");
    await fireEvent.change(within(billing).getByTestId("routing-mode"), { target: { value: "round_robin" } });
    // The directory changes live: the inbox has its own routing now.
    await within(billing).findByTestId("routing-follow-team");
    expect(core.inboxes.find((i) => i.id === 8)?.routing?.mode).toBe("round_robin");
    expect(core.teams.find((t) => t.id === 2)?.routing.mode).toBe("manual");
    expect((within(billing).getByTestId("routing-mode") as HTMLSelectElement).value).toBe("round_robin");

    await fireEvent.click(within(billing).getByTestId("routing-follow-team"));
    await within(billing).findByTestId("routing-inherited");
    expect(callsTo("set_routing").at(-1)).toEqual({ team_id: 2, inbox_id: 8, policy: null });
    expect((within(billing).getByTestId("routing-mode") as HTMLSelectElement).value).toBe("manual");
  });

  test("opens the reports from the views or with Shift+R; Escape and Back return to the inbox", async () => {
    start("lena@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(2));
    await fireEvent.click(screen.getByTestId("open-reports"));
    // The screen is fetched with import() the first time: wait for it, then its figures.
    await screen.findByTestId("reports");
    await screen.findByTestId("kpi-conversations");
    expect(callsTo("report")).toHaveLength(1);
    expect(screen.getByTestId("chart-by-day")).toBeTruthy();
    // The list's keys wait while the reports cover it.
    await fireEvent.keyDown(document.body, { key: "Enter" });
    expect(screen.queryByTestId("thread")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "Escape" });
    expect(screen.queryByTestId("reports")).toBeNull();
    expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(2);

    // Loaded on first opening (a separate chunk), then kept: it opens again at once.
    await fireEvent.keyDown(document.body, { key: "R", shiftKey: true });
    expect(screen.getByTestId("reports")).toBeTruthy();
    expect(screen.queryByTestId("reports-loading")).toBeNull();
    await screen.findByTestId("kpi-conversations");
    await fireEvent.click(screen.getByTestId("close-reports"));
    expect(screen.queryByTestId("reports")).toBeNull();

    await fireEvent.keyDown(document.body, { key: "?" });
    expect(screen.getByTestId("shortcuts").textContent).toContain("Reports");
  });

  test("edits an article in the knowledge base; Escape keeps changes until Save or Cancel", async () => {
    start("lena@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(2));
    await fireEvent.keyDown(document.body, { key: "K", shiftKey: true });
    await screen.findByTestId("knowledge-base");
    await waitFor(() => expect(screen.getAllByTestId("article-row").length).toBeGreaterThan(0));
    await fireEvent.click(screen.getAllByTestId("article-row")[0]!);
    await fireEvent.click(await screen.findByTestId("article-edit"));
    await fireEvent.input(screen.getByTestId("article-title"), { target: { value: "A new title" } });
    // Escape leaves the field, then stops: the changes are not lost with the screen.
    await fireEvent.keyDown(screen.getByTestId("article-title"), { key: "Escape" });
    await fireEvent.keyDown(document.body, { key: "Escape" });
    expect(screen.getByTestId("knowledge-base")).toBeTruthy();
    expect((screen.getByTestId("article-title") as HTMLInputElement).value).toBe("A new title");
    await fireEvent.click(screen.getByTestId("article-save"));
    await screen.findByTestId("article-view");
    expect(callsTo("save_article")).toHaveLength(1);
    await fireEvent.keyDown(document.body, { key: "Escape" });
    expect(screen.queryByTestId("knowledge-base")).toBeNull();
  });

  test("opens the campaigns from the views or with Shift+C; a recipient's conversation opens in the inbox", async () => {
    start("lena@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(2));
    await fireEvent.click(screen.getByTestId("open-campaigns"));
    await screen.findByTestId("campaigns-screen");
    await screen.findByTestId("campaign-row-1");
    // The list's keys wait while the campaigns cover it; Escape goes back to the inbox.
    await fireEvent.keyDown(document.body, { key: "Enter" });
    expect(screen.queryByTestId("thread")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "Escape" });
    expect(screen.queryByTestId("campaigns-screen")).toBeNull();
    const asked = callsTo("campaigns").length;

    // Loaded once, then kept; Shift+C opens it again, and Shift+R swaps it for the reports.
    await fireEvent.keyDown(document.body, { key: "C", shiftKey: true });
    expect(screen.getByTestId("campaigns-screen")).toBeTruthy();
    expect(screen.queryByTestId("campaigns-loading")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "R", shiftKey: true });
    await screen.findByTestId("reports");
    expect(screen.queryByTestId("campaigns-screen")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "C", shiftKey: true });
    expect(screen.queryByTestId("reports")).toBeNull();

    await fireEvent.click(await screen.findByTestId("campaign-row-1"));
    await fireEvent.change(await screen.findByTestId("campaign-results-filter"), { target: { value: "replied" } });
    await waitFor(() => expect(screen.getAllByTestId("campaign-result").every((r) => r.dataset.state === "replied")).toBe(true));
    const replied = core.recipients.get(1)!.find((r) => r.state === "replied")!;
    await fireEvent.click(screen.getAllByTestId("campaign-open-conversation")[0]!);
    expect(screen.queryByTestId("campaigns-screen")).toBeNull();
    await waitFor(() => expect(screen.getByTestId("thread").dataset.conversationId).toBe(String(replied.conversation_id)));
    expect(callsTo("campaigns").length).toBeGreaterThan(asked);

    await fireEvent.keyDown(document.body, { key: "?" });
    expect(screen.getByTestId("shortcuts").textContent).toContain("Campaigns");
  });

  test("assigns the open thread to an agent, or unassigns it", async () => {
    start("lena@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
    await fireEvent.click(screen.getAllByTestId("conversation-row")[0]!);
    await fireEvent.click(await screen.findByTestId("assign"));
    const options = within(screen.getByTestId("assign-dialog")).getAllByTestId("assign-option");
    const bruno = options.find((o) => o.dataset.agentId === "2")!;
    expect(bruno.textContent).toContain("Away");
    await fireEvent.click(bruno);
    const id = Number(screen.getByTestId("thread").dataset.conversationId);
    await waitFor(() => expect(callsTo("reassign").at(-1)).toEqual({ conversation_ids: [id], to: { agent_id: 2, team_id: null } }));
    await fireEvent.keyDown(document.body, { key: "a" });
    const unassign = within(screen.getByTestId("assign-dialog"))
      .getAllByTestId("assign-option")
      .find((o) => o.hasAttribute("data-unassign"))!;
    await fireEvent.click(unassign);
    await waitFor(() => expect(callsTo("reassign").at(-1)).toEqual({ conversation_ids: [id], to: { agent_id: null, team_id: null } }));
  });
});

describe("events", () => {
  test("offline banner counts queued replies; conflicts and stuck items toast", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    await waitFor(() => expect(callsTo("connection")).toHaveLength(1));
    core.outboxItems = [
      { id: 1, name: "send_reply", conversation_id: 1, client_msg_id: "a", state: "pending", attempts: 0, error: null, conflict: null, created_at: 0 },
      { id: 2, name: "send_template", conversation_id: 1, client_msg_id: "b", state: "pending", attempts: 0, error: null, conflict: null, created_at: 0 },
      { id: 3, name: "mark_read", conversation_id: 1, client_msg_id: null, state: "pending", attempts: 0, error: null, conflict: null, created_at: 0 },
      { id: 4, name: "send_reply", conversation_id: 1, client_msg_id: "c", state: "stuck", attempts: 3, error: null, conflict: null, created_at: 0 },
    ];
    consoleEvent({ type: "connection", connection: { state: "offline", since: Date.now(), reason: "refused", retry_at: Date.now() + 5000 } });
    const offline = await screen.findByTestId("offline");
    await waitFor(() => expect(within(offline).getByTestId("queued").textContent).toBe("2"));
    expect(offline.textContent).toContain("Offline — showing cached conversations. 2 replies queued.");
    await fireEvent.click(within(offline).getByText("Retry now"));
    expect(callsTo("reconnect_now")).toHaveLength(1);

    consoleEvent({ type: "progress", progress: { done: 1200, total: 5000, finished: false } });
    expect((await screen.findByTestId("sync-progress")).textContent).toContain("Syncing 1,200 of 5,000 conversations");
    consoleEvent({ type: "progress", progress: { done: 5000, total: 5000, finished: true } });
    await waitFor(() => expect(screen.queryByTestId("sync-progress")).toBeNull());

    consoleEvent({
      type: "outbox",
      item: {
        id: 9, name: "reassign", conversation_id: 1, client_msg_id: null, state: "conflict", attempts: 1, error: null, created_at: 0,
        conflict: { kind: "conversation", conversation_id: 1, changed_by: 2, changed_by_name: "Bruno Agent", assignee_id: 4, assignee_name: "Omar Agent", team_id: 1, status: "open" },
      },
    });
    const conflict = await screen.findByTestId("conflict");
    expect(conflict.textContent).toContain("Bruno Agent changed this first — now with Omar Agent");
    await fireEvent.click(within(conflict).getByTestId("retry"));
    expect(callsTo("retry")).toEqual([{ outbox_id: 9 }]);
    await waitFor(() => expect(screen.queryByTestId("conflict")).toBeNull());

    consoleEvent({
      type: "outbox",
      item: { id: 10, name: "send_reply", conversation_id: 1, client_msg_id: "x", state: "stuck", attempts: 5, conflict: null, created_at: 0, error: { code: "unavailable", message: "the hub did not answer" } },
    });
    const toast = await screen.findByText(/the hub did not answer/i);
    await fireEvent.click(within(toast.closest("[data-testid=toast]") as HTMLElement).getByTestId("discard"));
    expect(callsTo("discard")).toEqual([{ outbox_id: 10 }]);

    // A canned edit made on a version someone else had replaced.
    consoleEvent({
      type: "outbox",
      item: {
        id: 11, name: "save_canned", conversation_id: null, client_msg_id: null, state: "conflict", attempts: 1, error: null, created_at: 0,
        conflict: { kind: "canned", key: "k1", shortcut: "hi", title: "Greeting", changed_by: 2, changed_by_name: "Bruno Agent" },
      },
    });
    const canned = await screen.findByTestId("conflict");
    expect(canned.textContent).toContain("Bruno Agent changed /hi first — your edit is not saved");
    await fireEvent.click(within(canned).getByTestId("discard"));
    expect(callsTo("discard")).toEqual([{ outbox_id: 10 }, { outbox_id: 11 }]);
    await waitFor(() => expect(screen.queryByTestId("conflict")).toBeNull());

    // An article saved over a version the hub had replaced: the hub's reason.
    consoleEvent({
      type: "outbox",
      item: {
        id: 12, name: "save_article", conversation_id: null, client_msg_id: null, state: "conflict", attempts: 1, conflict: null, created_at: 0,
        error: { code: "conflict", message: "“Returns” was changed by Bruno Agent after you opened it" },
      },
    });
    const article = await screen.findByTestId("conflict");
    expect(article.textContent).toContain("“Returns” was changed by Bruno Agent after you opened it — your edit is not saved");
    await fireEvent.click(within(article).getByTestId("discard"));
    await waitFor(() => expect(screen.queryByTestId("conflict")).toBeNull());
  });

  test("notifications the system cannot show: one quiet notice, each shown in the app, a clicked one opens its thread", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    const target = core.rows[5]!;
    const failed = (i: number, name = "Ana García") =>
      fire("shell", {
        type: "notification_failed",
        reason: "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.Notifications was not provided by any .service files",
        notification: { kind: "reply", conversation_id: target.id, message_id: i, contact_name: name, channel: "whatsapp", text: `Are you there? (${i})` },
      });
    for (let i = 1; i <= 7; i++) failed(i);
    // One notice, in plain words, however many failed; it is a status, not an alert.
    await waitFor(() => expect(screen.getAllByTestId("notify-trouble")).toHaveLength(1));
    const notice = screen.getByTestId("notify-trouble");
    expect(notice.getAttribute("role")).toBe("status");
    expect(notice.textContent).toContain("no notification service is running on this desktop");
    expect(notice.textContent).not.toContain("ServiceUnknown");
    await fireEvent.click(within(notice).getByText("How to fix"));
    expect(screen.getByTestId("notify-help").textContent).toContain("notification service");
    // The notifications show in the app: the latest few, never a growing stack.
    const shown = screen.getAllByTestId("in-app-notification");
    expect(shown).toHaveLength(3);
    expect(shown.at(-1)!.textContent).toContain("Are you there? (7)");
    // A name holding a right-to-left override is sealed in its own element.
    failed(8, "Eve\u202Eevil");
    await waitFor(() => expect(screen.getAllByTestId("notice-customer").at(-1)!.tagName).toBe("BDI"));
    await fireEvent.click(within(notice).getByLabelText("Dismiss"));
    expect(screen.queryByTestId("notify-trouble")).toBeNull();
    failed(9);
    await waitFor(() => expect(screen.getAllByTestId("in-app-notification").at(-1)!.textContent).toContain("(9)"));
    expect(screen.queryByTestId("notify-trouble")).toBeNull();

    await fireEvent.click(within(screen.getAllByTestId("in-app-notification").at(-1)!).getByTestId("notice-open"));
    await waitFor(() => expect(screen.getByTestId("thread").dataset.conversationId).toBe(String(target.id)));

    fire("shell", { type: "open_conversation", conversation_id: core.rows[6]!.id });
    await waitFor(() => expect(screen.getByTestId("thread").dataset.conversationId).toBe(String(core.rows[6]!.id)));
  });

  test("a hub that needs a newer console says so and keeps the cache readable", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
    consoleEvent({
      type: "connection",
      connection: { state: "update_required", reason: "Switchboard 0.1.0 is older than this hub accepts (0.2.0 or newer): update the console" },
    });
    const banner = await screen.findByTestId("update-required");
    expect(banner.textContent).toContain("Update Switchboard to keep working");
    expect(banner.textContent).toContain("0.2.0 or newer");
    expect(screen.getByTestId("inbox")).toBeTruthy();
    expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0);
  });

  test("a newer console waits for the agent: Later puts it off, Restart now installs it", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    expect(screen.queryByTestId("update-ready")).toBeNull();
    app.updateLaterUntil = 0;
    core.update = { version: "0.2.0", current_version: "0.1.0", notes: "Faster search; a fix for attachments." };
    fire("shell", { type: "update_ready", ...core.update });
    let banner = await screen.findByTestId("update-ready");
    expect(banner.textContent).toContain("Switchboard 0.2.0 is ready");
    expect(banner.textContent).toContain("Faster search; a fix for attachments.");
    expect(banner.getAttribute("role")).toBe("status");

    await fireEvent.click(within(banner).getByRole("button", { name: "Later" }));
    await waitFor(() => expect(screen.queryByTestId("update-ready")).toBeNull());
    expect(core.restarts).toBe(0);
    expect(app.updateLaterUntil - Date.now()).toBeGreaterThan(3.9 * 3600_000);
    // Four hours on, it asks again.
    app.updateLaterUntil = 0;
    banner = await screen.findByTestId("update-ready");
    await fireEvent.click(within(banner).getByRole("button", { name: "Restart now" }));
    await waitFor(() => expect(core.restarts).toBe(1));
  });

  test("an update downloaded before the window listened shows at start; a failed install says why", async () => {
    core = new MockCore({ conversations: 30, signedInAs: "ada@demo.switchboard" });
    core.emit = (e) => fire("console", e);
    core.update = { version: "0.3.0", current_version: "0.1.0", notes: null };
    app.updateLaterUntil = 0;
    answer({});
    answerWith((cmd, args) => {
      if (cmd === "restart_into_update") throw { code: "unavailable", message: "the update could not be installed: disk full" };
      return core.handle(cmd, args);
    });
    render(App, {});
    const banner = await screen.findByTestId("update-ready");
    expect(banner.textContent).toContain("Switchboard 0.3.0 is ready");
    await fireEvent.click(within(banner).getByRole("button", { name: "Restart now" }));
    await waitFor(() => expect(document.body.textContent).toContain("disk full"));
    expect(screen.getByTestId("update-ready")).toBeTruthy();
  });

  test("a switchboard:// link opens its conversation; one this console does not have says so", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    const target = core.rows[3]!;
    core.link = target.id;
    fire("shell", { type: "link_opened" });
    await waitFor(() => expect(screen.getByTestId("thread").dataset.conversationId).toBe(String(target.id)));
    expect(core.link).toBeNull();
    core.link = 987654321;
    fire("shell", { type: "link_opened" });
    await waitFor(() => expect(screen.getAllByTestId("toast").some((t) => t.textContent?.includes("Couldn't open the link"))).toBe(true));
    expect(screen.getByTestId("thread").dataset.conversationId).toBe(String(target.id));
  });

  test("the agent's notification settings: events, muted inboxes, do not disturb, quiet hours, sound, text", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    await fireEvent.click(await screen.findByTestId("notification-settings-open"));
    const dialog = await screen.findByTestId("notification-settings");
    const box = (id: string) => within(dialog).getByTestId(id) as HTMLInputElement;
    await waitFor(() => expect(box("pref-customer_replied").checked).toBe(true));
    await fireEvent.click(box("pref-assigned"));
    await fireEvent.click(box("pref-sound"));
    await fireEvent.click(box("pref-show-text"));
    const mute = within(dialog).getAllByTestId("mute-inbox")[0] as HTMLInputElement;
    await fireEvent.click(mute);
    await fireEvent.click(within(dialog).getAllByTestId("dnd-choice")[0]!);
    expect(within(dialog).getByTestId("dnd-state").textContent).toMatch(/^Do not disturb until/);
    await fireEvent.click(box("pref-quiet-hours"));
    await fireEvent.click(within(dialog).getByTestId("save-preferences"));
    await waitFor(() => expect(screen.queryByTestId("notification-settings")).toBeNull());
    const saved = callsTo("set_preferences").at(-1)!.preferences as Record<string, unknown>;
    expect(saved).toMatchObject({
      customer_replied: true,
      assigned: false,
      sound: false,
      show_text: false,
      muted_inboxes: [Number(mute.dataset.inbox)],
      quiet_hours: { from_minute: 18 * 60, to_minute: 9 * 60, days: [0, 1, 2, 3, 4] },
    });
    expect(saved.do_not_disturb_until as number).toBeGreaterThan(Date.now());

    // Opened again: as saved.
    await fireEvent.click(screen.getByTestId("notification-settings-open"));
    const again = await screen.findByTestId("notification-settings");
    await waitFor(() => expect((within(again).getByTestId("pref-assigned") as HTMLInputElement).checked).toBe(false));
    expect((within(again).getByTestId("pref-sound") as HTMLInputElement).checked).toBe(false);
  });

  test("changes refresh counts and the open thread", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
    await fireEvent.click(screen.getAllByTestId("conversation-row")[0]!);
    const thread = await screen.findByTestId("thread");
    await waitFor(() => expect(screen.getAllByTestId("line").length).toBeGreaterThan(0));
    const before = callsTo("counts").length;
    core.customerWrites(Number(thread.dataset.conversationId), "<script>alert(1)</script> new message");
    await waitFor(() => expect(screen.getAllByTestId("line-body").at(-1)?.textContent).toBe("<script>alert(1)</script> new message"));
    await waitFor(() => expect(callsTo("counts").length).toBeGreaterThan(before));
    expect(document.querySelector("[data-testid=thread] script")).toBeNull();
  });
});

describe("New message", () => {
  const nm = (id: string) => within(screen.getByTestId("new-message-dialog")).getByTestId(id) as HTMLInputElement;

  test("the c shortcut and the inbox's button open it; a first message opens its conversation once the hub has it", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
    await fireEvent.keyDown(document.body, { key: "c" });
    await screen.findByTestId("new-message-dialog");
    expect(document.activeElement).toBe(nm("nm-to"));
    // The list's keys wait while it is open; Escape closes it.
    await fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(screen.queryByTestId("new-message-dialog")).toBeNull();
    await fireEvent.keyDown(document.body, { key: "?" });
    expect(screen.getByTestId("shortcuts").textContent).toContain("New message to a customer");
    await fireEvent.keyDown(screen.getByTestId("shortcuts"), { key: "Escape" });

    await fireEvent.click(screen.getByTestId("new-message"));
    await fireEvent.input(nm("nm-to"), { target: { value: "+1 (415) 555-0199" } });
    await fireEvent.input(nm("nm-name"), { target: { value: "Ben New" } });
    // Ada is in Support only: its SMS and WhatsApp inboxes.
    expect([...(nm("nm-inbox") as unknown as HTMLSelectElement).options].map((o) => o.textContent)).toEqual([
      "SMS · +1 415 555 0100 (SMS)",
      "WhatsApp · Northwind (WhatsApp)",
    ]);
    await fireEvent.input(nm("nm-body"), { target: { value: "Your table for 4 is booked for 8 pm." } });
    await fireEvent.click(nm("nm-send"));
    await waitFor(() =>
      expect(callsTo("start_conversation")).toEqual([
        { draft: { inbox_id: 1, address: "+1 (415) 555-0199", name: "Ben New", body: "Your table for 4 is booked for 8 pm.", params: [] } },
      ]),
    );
    expect(screen.queryByTestId("new-message-dialog")).toBeNull();
    expect(await screen.findByText("Message queued to Ben New")).toBeTruthy();
    // The hub takes it after the command answered: the conversation opens when it syncs.
    await screen.findByTestId("thread");
    const started = core.rows.find((r) => r.contact_name === "Ben New")!;
    expect(started).toMatchObject({ status: "pending", assignee_id: core.me.id, customer_address: "+14155550199" });
    await waitFor(() => expect(screen.getByTestId("thread").dataset.conversationId).toBe(String(started.id)));
    await waitFor(() => expect(screen.getAllByTestId("line-body").at(-1)?.textContent).toBe("Your table for 4 is booked for 8 pm."));
    expect((await screen.findByTestId("profile")).textContent).toContain("Ben New");
    expect(callsTo("started_conversation").at(-1)).toEqual({ client_msg_id: expect.any(String) });
  });

  test("from the customer's profile, prefilled; the hub's refusal shows as a failed send and nothing opens", async () => {
    start("ada@demo.switchboard");
    await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
    await fireEvent.click(screen.getAllByTestId("conversation-row")[0]!);
    const thread = await screen.findByTestId("thread");
    const openId = thread.dataset.conversationId;
    const contact = core.contacts.get(Number(thread.dataset.contactId))!;
    // A WhatsApp number the customer has never written from on this inbox: no reply window.
    contact.identities = [{ channel: "whatsapp", address: "+14155550777" }];
    contact.opted_out = [];
    await fireEvent.click(await screen.findByTestId("new-message-customer"));
    expect((await screen.findByTestId("nm-customer")).textContent).toBe(contact.name);
    expect([...(nm("nm-inbox") as unknown as HTMLSelectElement).options].map((o) => o.textContent)).toEqual([
      "WhatsApp · Northwind (WhatsApp)",
    ]);
    expect(nm("nm-window").textContent).toContain("send an approved template");
    await fireEvent.input(nm("nm-body"), { target: { value: "Are you still interested?" } });
    await fireEvent.click(nm("nm-send"));
    await waitFor(() =>
      expect(callsTo("start_conversation")).toEqual([
        { draft: { inbox_id: 2, contact_id: contact.id, address: "+14155550777", body: "Are you still interested?", params: [] } },
      ]),
    );
    expect(await screen.findByText(`Message queued to ${contact.name}`)).toBeTruthy();
    const failed = await screen.findByText("Couldn't start the conversation:");
    const toast = failed.closest("[data-testid=toast]") as HTMLElement;
    expect(toast.textContent).toContain("reply window has closed");
    expect(within(toast).getByTestId("retry")).toBeTruthy();
    expect(screen.getByTestId("thread").dataset.conversationId).toBe(openId);
  });

  test("a search hit's Message writes to its customer", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    await fireEvent.keyDown(document.body, { key: "/" });
    await fireEvent.input(screen.getByTestId("search-input"), { target: { value: "order" } });
    await waitFor(() => expect(screen.getAllByTestId("search-hit").length).toBeGreaterThan(0));
    const name = within(screen.getAllByTestId("search-hit")[0]!).getByText(/./, { selector: ".h-name" }).textContent;
    await fireEvent.click(screen.getAllByTestId("hit-new-message")[0]!);
    expect(screen.queryByTestId("search")).toBeNull();
    expect((await screen.findByTestId("nm-customer")).textContent).toBe(name);
  });
});
