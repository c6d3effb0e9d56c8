// The knowledge base against the fake core: the articles by collection (drafts marked),
// searched through the core; an article read with the core's rendering; for leads, writing
// one (with a live preview), the core's refusals, a save over another console's change
// (shown with who made it: load theirs, or save again; shown at once when nothing was
// edited), history, deleting after a second click and a save the hub has not confirmed yet;
// for agents, reading only.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import { MockCore } from "../dev/mockCore";
import type { Directory } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { answer, answerWith, callsTo } from "../test/tauri";
import KnowledgeBase from "./KnowledgeBase.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

let core: MockCore;

function open(email: string) {
  core = new MockCore({ conversations: 20, signedInAs: email });
  core.emit = (e) => app.handle(e);
  app.directory = core.handle("directory") as Directory;
  answer({});
  answerWith((cmd, args) => core.handle(cmd, args));
  return render(KnowledgeBase, { onclose: () => {}, searchDelay: 0 });
}

const lead = () => open("lena@demo.switchboard");
const agent = () => open("ada@demo.switchboard");

const rows = () => screen.queryAllByTestId("article-row");
const row = (title: string) => rows().find((r) => r.textContent?.includes(title))!;
const field = (id: string) => screen.getByTestId(id) as HTMLInputElement;

async function openArticle(title: string) {
  await waitFor(() => expect(row(title)).toBeTruthy());
  await fireEvent.click(row(title));
  return screen.findByTestId("article-view");
}

async function type(id: string, value: string) {
  await fireEvent.input(field(id), { target: { value } });
}

afterEach(() => {
  cleanup();
  answerWith(null);
  app.directory = null;
  app.toasts = [];
});

describe("reading", () => {
  test("lists the articles by collection with their language, drafts marked", async () => {
    agent();
    await waitFor(() => expect(rows().length).toBe(core.articles.length));
    expect(callsTo("articles")[0]).toEqual({ query: "" });
    const groups = screen.getAllByTestId("article-group");
    expect(groups.map((g) => g.querySelector("h3")?.textContent)).toEqual(["Orders & returns", "Payments", "Shipping", "Your account"]);
    expect(within(groups[0]!).getAllByTestId("article-row").map((r) => r.dataset.key)).toEqual(["devolucoes", "returns", "refund-times"]);
    expect(row("Como devolver um artigo").textContent).toContain("pt-BR");
    expect(within(row("Paying with gift cards")).getByTestId("article-draft").textContent).toBe("Draft");
    expect(within(row("Shipping times and costs")).queryByTestId("article-draft")).toBeNull();
    expect(screen.queryByTestId("article-pending")).toBeNull();
  });

  test("the search asks the core and shows what it answers", async () => {
    agent();
    await waitFor(() => expect(rows().length).toBe(core.articles.length));
    await fireEvent.input(screen.getByLabelText("Search articles"), { target: { value: "refund" } });
    await waitFor(() => expect(callsTo("articles").at(-1)).toEqual({ query: "refund" }));
    await waitFor(() => expect(rows().map((r) => r.dataset.key)).toEqual(["refund-times", "returns"]));
    await fireEvent.input(screen.getByLabelText("Search articles"), { target: { value: "zzz" } });
    expect((await screen.findByTestId("articles-empty")).textContent).toContain("No article matches.");
  });

  test("an article opens read-only with the core's rendering; agents get no way to change it", async () => {
    agent();
    const view = await openArticle("How to return an item");
    expect(within(view).getByRole("heading", { name: "How to return an item" })).toBeTruthy();
    expect(view.textContent).toContain("Orders & returns");
    expect(view.textContent).toContain(`${"https://help.northwind.example/help/articles/returns"}`);
    const body = screen.getByTestId("article-rendered");
    await waitFor(() => expect(body.querySelector("strong")?.textContent).toBe("30 days"));
    expect(body.querySelectorAll("ol li")).toHaveLength(3);
    expect(callsTo("render_article").at(-1)).toEqual({ markdown: core.articles[0]!.body });
    expect(screen.queryByTestId("article-edit")).toBeNull();
    expect(screen.queryByTestId("article-delete")).toBeNull();
    expect(screen.queryByTestId("article-new")).toBeNull();
  });

  test("where customers read it comes from the list's hit: none for a draft, shown once published", async () => {
    agent();
    const view = await openArticle("Paying with gift cards");
    expect(view.textContent).not.toContain("Customers read it at");
    core.changeArticleElsewhere("gift-cards", { status: "published" });
    await waitFor(() =>
      expect(screen.getByTestId("article-view").textContent).toContain("Customers read it at https://help.northwind.example/help/articles/gift-cards"),
    );
  });
});

describe("editing (leads)", () => {
  test("a new article is saved as a draft, listed and opened", async () => {
    lead();
    await waitFor(() => expect(rows().length).toBe(core.articles.length));
    await fireEvent.click(screen.getByTestId("article-new"));
    const editor = screen.getByTestId("article-editor");
    expect(document.activeElement).toBe(screen.getByLabelText("Title"));
    expect(field("article-locale").value).toBe("en");
    expect((screen.getByTestId("article-status-draft") as HTMLInputElement).checked).toBe(true);
    expect((screen.getByTestId("article-save") as HTMLButtonElement).disabled).toBe(true);
    await type("article-title", "Changing your delivery address");
    await type("article-collection", "Shipping");
    await type("article-tags", "address, delivery, , Address");
    await fireEvent.input(screen.getByLabelText("Text (Markdown)"), { target: { value: "Write to us **before** it ships." } });
    await fireEvent.submit(editor);
    await waitFor(() =>
      expect(callsTo("save_article")).toEqual([
        {
          draft: {
            key: null,
            version: null,
            title: "Changing your delivery address",
            body: "Write to us **before** it ships.",
            tags: ["address", "delivery"],
            locale: "en",
            collection: "Shipping",
            status: "draft",
          },
        },
      ]),
    );
    const view = await screen.findByTestId("article-view");
    expect(within(view).getByRole("heading", { level: 2 }).textContent).toBe("Changing your delivery address");
    await waitFor(() => expect(within(row("Changing your delivery address")).getByTestId("article-draft")).toBeTruthy());
    expect(row("Changing your delivery address").getAttribute("aria-current")).toBe("true");
  });

  test("the preview shows the core's rendering of the text as it is typed", async () => {
    lead();
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    await fireEvent.click(screen.getByTestId("article-new"));
    await fireEvent.input(screen.getByLabelText("Text (Markdown)"), {
      target: { value: "## Hello\n\nA **bold** step <img src=x onerror=alert(1)>" },
    });
    const preview = screen.getByTestId("article-preview");
    await waitFor(() => expect(preview.querySelector("strong")?.textContent).toBe("bold"));
    expect(preview.querySelector("h3")?.textContent).toBe("Hello");
    expect(preview.querySelector("img")).toBeNull();
    expect(preview.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(callsTo("render_article").at(-1)).toEqual({ markdown: "## Hello\n\nA **bold** step <img src=x onerror=alert(1)>" });
  });

  test("the core's refusal of the draft is shown", async () => {
    lead();
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    await fireEvent.click(screen.getByTestId("article-new"));
    await type("article-title", "Opening hours");
    await type("article-locale", "english please");
    await fireEvent.input(screen.getByLabelText("Text (Markdown)"), { target: { value: "9 to 5." } });
    await fireEvent.click(screen.getByTestId("article-save"));
    expect((await screen.findByTestId("article-error")).textContent).toBe("“english please” is not a language tag such as en or pt-BR");
    expect(screen.getByTestId("article-editor")).toBeTruthy();
  });

  test("a newer version from another console is told, with its author, before it is replaced; saving again replaces it", async () => {
    lead();
    await openArticle("Tracking your order");
    await fireEvent.click(screen.getByTestId("article-edit"));
    expect(field("article-title").value).toBe("Tracking your order");
    expect(field("article-tags").value).toBe("tracking, order, delivery");
    await type("article-title", "Where is my order?");
    core.changeArticleElsewhere("track-order", { title: "Tracking a parcel" });
    await fireEvent.click(screen.getByTestId("article-save"));
    const conflict = await screen.findByTestId("article-conflict");
    expect(conflict.textContent).toContain("“Tracking a parcel” was changed by Bruno Agent after you opened it");
    expect(callsTo("save_article")).toEqual([]);
    expect(field("article-title").value).toBe("Where is my order?");

    await fireEvent.click(screen.getByTestId("article-save"));
    await waitFor(() => expect(callsTo("save_article")).toHaveLength(1));
    expect(callsTo("save_article")[0]).toMatchObject({ draft: { key: "track-order", version: 2, title: "Where is my order?" } });
    const view = await screen.findByTestId("article-view");
    expect(within(view).getByRole("heading", { level: 2 }).textContent).toBe("Where is my order?");
    expect(core.articles.find((a) => a.key === "track-order")?.version).toBe(3);
  });

  test("the core's refusal of a stale save is shown the same way", async () => {
    lead();
    let refused = false;
    answer({
      save_article: (a) => {
        if (refused) return core.handle("save_article", a);
        refused = true;
        throw { code: "conflict", message: "the article changed on the hub after you opened it" };
      },
    });
    await openArticle("Tracking your order");
    await fireEvent.click(screen.getByTestId("article-edit"));
    await type("article-title", "Where is my order?");
    await fireEvent.click(screen.getByTestId("article-save"));
    expect((await screen.findByTestId("article-conflict")).textContent).toContain("the article changed on the hub after you opened it");
    await fireEvent.click(screen.getByTestId("article-save"));
    await screen.findByTestId("article-view");
    expect(callsTo("save_article")).toHaveLength(2);
  });

  test("changed elsewhere while open and not edited here: the editor shows the new version", async () => {
    lead();
    await openArticle("Tracking your order");
    await fireEvent.click(screen.getByTestId("article-edit"));
    core.changeArticleElsewhere("track-order", { title: "Tracking a parcel" });
    await waitFor(() => expect(field("article-title").value).toBe("Tracking a parcel"));
    await type("article-title", "Where is my parcel?");
    await fireEvent.click(screen.getByTestId("article-save"));
    await screen.findByTestId("article-view");
    expect(callsTo("save_article")[0]).toMatchObject({ draft: { key: "track-order", version: 2, title: "Where is my parcel?" } });
  });

  test("…or Load theirs shows the other console's version instead", async () => {
    lead();
    await openArticle("Tracking your order");
    await fireEvent.click(screen.getByTestId("article-edit"));
    await type("article-title", "Where is my order?");
    core.changeArticleElsewhere("track-order", { title: "Tracking a parcel", body: "Use the link in your email." });
    await fireEvent.click(screen.getByTestId("article-save"));
    await fireEvent.click(await screen.findByTestId("article-load-theirs"));
    expect(field("article-title").value).toBe("Tracking a parcel");
    expect((screen.getByLabelText("Text (Markdown)") as HTMLTextAreaElement).value).toBe("Use the link in your email.");
    expect(screen.queryByTestId("article-conflict")).toBeNull();
  });

  test("Escape closes an unchanged editor; with changes it waits for Save or Cancel", async () => {
    lead();
    await openArticle("Shipping times and costs");
    await fireEvent.click(screen.getByTestId("article-edit"));
    await fireEvent.keyDown(field("article-title"), { key: "Escape" });
    expect(screen.queryByTestId("article-editor")).toBeNull();
    expect(screen.getByTestId("article-view")).toBeTruthy();

    await fireEvent.click(screen.getByTestId("article-edit"));
    await type("article-title", "Delivery times");
    const esc = await fireEvent.keyDown(document.body, { key: "Escape" });
    expect(esc).toBe(false);
    expect(screen.getByTestId("article-editor")).toBeTruthy();
    expect(screen.getByText("You have changes: save them, or Cancel to leave them.")).toBeTruthy();
    await fireEvent.click(screen.getByTestId("article-cancel"));
    expect(screen.queryByTestId("article-editor")).toBeNull();
    expect(callsTo("save_article")).toEqual([]);
  });

  test("History lists the versions; loading one and saving restores it", async () => {
    lead();
    await openArticle("How to return an item");
    await fireEvent.click(screen.getByTestId("article-edit"));
    await fireEvent.click(screen.getByTestId("article-history-toggle"));
    await waitFor(() => expect(screen.getAllByTestId("article-version")).toHaveLength(2));
    expect(callsTo("article_versions")).toEqual([{ article_id: 1 }]);
    const [now, before] = screen.getAllByTestId("article-version");
    expect(now!.textContent).toContain("Version 2");
    expect(now!.textContent).toContain("Lena Lead");
    expect(before!.textContent).toContain("Bruno Agent");
    await fireEvent.click(within(before!).getByRole("button", { name: "Load version 1 into the editor" }));
    expect((screen.getByLabelText("Text (Markdown)") as HTMLTextAreaElement).value).toContain("within **14 days**");
    expect(screen.getByTestId("article-restoring").textContent).toContain("Version 1");
    await fireEvent.click(screen.getByTestId("article-save"));
    await waitFor(() => expect(callsTo("save_article")[0]).toMatchObject({ draft: { key: "returns", version: 2 } }));
    expect(core.articles.find((a) => a.key === "returns")?.body).toContain("within **14 days**");
  });

  test("History needs the hub", async () => {
    lead();
    core.hubReachable = false;
    await openArticle("How to return an item");
    await fireEvent.click(screen.getByTestId("article-edit"));
    await fireEvent.click(screen.getByTestId("article-history-toggle"));
    expect((await screen.findByTestId("article-history-error")).textContent).toContain("History needs a connection to the hub");
  });

  test("a save the hub has not confirmed yet is marked Not synced yet", async () => {
    lead();
    core.hubReachable = false;
    await openArticle("Resetting your password");
    await fireEvent.click(screen.getByTestId("article-edit"));
    await fireEvent.click(screen.getByTestId("article-status-draft"));
    await fireEvent.click(screen.getByTestId("article-save"));
    const view = await screen.findByTestId("article-view");
    await waitFor(() => expect(view.textContent).toContain("Not synced yet"));
    await waitFor(() => expect(within(row("Resetting your password")).getByTestId("article-pending")).toBeTruthy());
    expect(within(row("Resetting your password")).getByTestId("article-draft")).toBeTruthy();
  });

  test("Delete asks for a second click", async () => {
    lead();
    await openArticle("Paying with gift cards");
    await fireEvent.click(screen.getByTestId("article-delete"));
    expect(callsTo("delete_article")).toEqual([]);
    expect(screen.getByTestId("article-delete").textContent).toBe("Delete for good");
    await fireEvent.click(screen.getByTestId("article-delete"));
    await waitFor(() => expect(callsTo("delete_article")).toEqual([{ key: "gift-cards", version: 1 }]));
    await waitFor(() => expect(rows().some((r) => r.dataset.key === "gift-cards")).toBe(false));
    expect(screen.queryByTestId("article-view")).toBeNull();
  });
});
