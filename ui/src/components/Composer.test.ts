// The composer shows the core's refusals and reply window, offers templates once the window
// has closed, inserts canned responses after "/", sends replies and notes, and attaches files
// to a reply (chosen, pasted or dropped), staged by the core and sent with it.
import type { InvokeOptions } from "@tauri-apps/api/core";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { ArticleHit, ArticleStatus, Composer as ComposerData, ReplyRoute } from "../lib/protocol";
import { canned } from "../test/fixtures";
import { answer, callsTo, invoke } from "../test/tauri";
import { app } from "../lib/stores.svelte";
import Composer from "./Composer.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => cleanup());

let nextConversation = 500;

function route(extra: Partial<ReplyRoute> = {}): ReplyRoute {
  return { conversation_id: 10, channel: "whatsapp", address: "+14155550100", window: { state: "none" }, refusal: null, ...extra };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers read loosely typed arguments
function setup(routes: ReplyRoute[], extra: Record<string, (a: any, options?: any) => unknown> = {}, id = nextConversation++) {
  const data: ComposerData = {
    conversation_id: id,
    routes: routes.map((r, i) => (i === 0 ? { ...r, conversation_id: id } : r)),
    templates: [{ name: "order_update", language: "en_US", body: "Hi {{1}}, order {{2}} shipped", params: 2 }],
    canned: [
      canned(1, "thanks", "Thank you", "Thanks {{customer.first_name}}!"),
      canned(2, "refund", "Refund policy", "Refunds take 5 days.", { owner_id: 7, editable: true }),
    ],
  };
  answer({
    composer: () => data,
    send_reply: () => 1,
    add_note: () => 2,
    send_template: () => 3,
    expand_canned: () => "Thanks Ana!",
    stage_attachment: stage,
    discard_attachment: () => null,
    ...extra,
  });
  render(Composer, { conversationId: id, contactId: 1, contactName: "Ana" });
  return id;
}

const input = () => screen.getByTestId("composer-input") as HTMLTextAreaElement;
const send = () => screen.getByTestId("composer-send") as HTMLButtonElement;
const chips = () => screen.queryAllByTestId("composer-file");

/** A file as the window hands it over, of `size` bytes (a large one holds only its first few). */
function file(name: string, type: string, size = 2048): File {
  const bytes = new Uint8Array(Math.min(size, 4096));
  const f = new File([bytes], name, { type });
  // jsdom's File has no arrayBuffer(), which the composer reads the bytes with.
  Object.defineProperty(f, "arrayBuffer", { value: async () => bytes.buffer });
  Object.defineProperty(f, "size", { value: size });
  return f;
}

/** The options (headers) of each call to `stage_attachment`. */
const stageOptions = () => invoke.mock.calls.filter((c) => c[0] === "stage_attachment").map((c) => c[2]);

let nextStaged = 1;

/** The core's `stage_attachment`: the bytes as the body, the name and type in headers. */
function stage(body: Uint8Array, options?: InvokeOptions) {
  const h = new Headers(options?.headers);
  return { name: decodeURIComponent(h.get("x-file-name") ?? ""), mime: h.get("x-file-type") ?? "", size: body.length, url: `staged:${nextStaged++}` };
}

async function pickFiles(...files: File[]) {
  await fireEvent.change(screen.getByTestId("composer-file-input"), { target: { files } });
}

describe("Composer", () => {
  test("sends a reply on the chosen route and clears the box", async () => {
    const id = setup([route(), route({ conversation_id: 77, channel: "email", address: "ana@example.com" })]);
    const select = (await screen.findByTestId("route")) as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "Reply via WhatsApp (+14155550100)",
      "Reply via Email (ana@example.com)",
    ]);
    await fireEvent.input(input(), { target: { value: "On it!" } });
    await fireEvent.click(send());
    await waitFor(() => expect(callsTo("send_reply")).toEqual([{ conversation_id: id, body: "On it!", attachments: [], choices: null }]));
    await waitFor(() => expect(input().value).toBe(""));

    await fireEvent.change(select, { target: { value: "77" } });
    await fireEvent.input(input(), { target: { value: "By email" } });
    await fireEvent.keyDown(input(), { key: "Enter", ctrlKey: true });
    await waitFor(() => expect(callsTo("send_reply").at(-1)).toEqual({ conversation_id: 77, body: "By email", attachments: [], choices: null }));
  });

  test("a refusal is shown and Send disabled; notes are still allowed", async () => {
    const id = setup([
      route({ refusal: { code: "opted_out", message: "the customer opted out of WhatsApp messages" } }),
    ]);
    expect((await screen.findByTestId("composer-refusal")).textContent).toBe("the customer opted out of WhatsApp messages");
    await fireEvent.input(input(), { target: { value: "hello" } });
    expect(send().disabled).toBe(true);
    await fireEvent.click(screen.getByTestId("mode-note"));
    expect(screen.queryByTestId("composer-refusal")).toBeNull();
    expect(send().disabled).toBe(false);
    await fireEvent.click(send());
    await waitFor(() => expect(callsTo("add_note")).toEqual([{ conversation_id: id, body: "hello" }]));
    expect(callsTo("send_reply")).toEqual([]);
  });

  test("a rejected send keeps the text and shows the reason", async () => {
    setup([route()], {
      send_reply: () => {
        throw { code: "reply_window_closed", message: "the window closed a moment ago" };
      },
    });
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "Still there?" } });
    await fireEvent.click(send());
    expect((await screen.findByRole("alert")).textContent).toBe("the window closed a moment ago");
    expect(input().value).toBe("Still there?");
  });

  test("an open window counts down, amber under an hour", async () => {
    setup([route({ window: { state: "open", expires_at: Date.now() + 3 * 3_600_000 + 12 * 60_000 + 30_000 } })]);
    const w = await screen.findByTestId("reply-window");
    expect(w.textContent?.trim()).toBe("Reply window closes in 3h 12m");
    expect(w.classList.contains("amber")).toBe(false);
    cleanup();
    setup([route({ window: { state: "open", expires_at: Date.now() + 25 * 60_000 + 30_000 } })]);
    const w2 = await screen.findByTestId("reply-window");
    expect(w2.textContent?.trim()).toBe("Reply window closes in 25m");
    expect(w2.classList.contains("amber")).toBe(true);
  });

  test("a closed window offers templates with their parameters", async () => {
    setup([
      route({
        window: { state: "closed", closed_at: Date.now() - 1000 },
        refusal: { code: "reply_window_closed", message: "the 24-hour WhatsApp reply window has closed" },
      }),
    ]);
    expect(await screen.findByText("The 24-hour window has closed")).toBeTruthy();
    const templates = screen.getAllByTestId("template");
    expect(templates).toHaveLength(1);
    expect(templates[0]?.textContent).toContain("order_update");
    await fireEvent.click(screen.getByText("order_update"));
    const params = screen.getAllByLabelText(/Parameter/) as HTMLInputElement[];
    expect(params).toHaveLength(2);
    await fireEvent.input(params[0]!, { target: { value: "Ana" } });
    await fireEvent.input(params[1]!, { target: { value: "#42" } });
    expect(screen.getByText("Hi Ana, order #42 shipped")).toBeTruthy();
    await fireEvent.click(screen.getByText("Send template"));
    await waitFor(() =>
      expect(callsTo("send_template")).toEqual([
        { conversation_id: expect.any(Number), template: "order_update", params: ["Ana", "#42"] },
      ]),
    );
  });

  test("/ opens canned responses; Enter inserts the expanded text", async () => {
    const id = setup([route()]);
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "/tha" } });
    const menu = screen.getByRole("listbox", { name: "Canned responses" });
    expect(within(menu).getAllByRole("option").map((o) => o.textContent)).toEqual([expect.stringContaining("/thanks")]);
    await fireEvent.keyDown(input(), { key: "Enter" });
    await waitFor(() => expect(input().value).toBe("Thanks Ana!"));
    expect(callsTo("expand_canned")).toEqual([{ key: "k1", conversation_id: id }]);
    expect(screen.queryByRole("listbox", { name: "Canned responses" })).toBeNull();
  });

  test("the / menu marks the agent's own responses and follows changes to the list", async () => {
    setup([route()]);
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "/" } });
    const options = () => within(screen.getByRole("listbox", { name: "Canned responses" })).getAllByRole("option");
    expect(options().map((o) => o.textContent?.includes("Yours"))).toEqual([false, true]);
    answer({
      composer: (a) => ({
        conversation_id: a.conversation_id,
        routes: [route({ conversation_id: a.conversation_id as number })],
        templates: [],
        canned: [canned(3, "welcome", "Welcome", "Welcome!")],
      }),
    });
    app.changes.push({ conversations: [], contacts: [], directory: false, canned: true, everything: false });
    app.changes.flush();
    await waitFor(() => expect(callsTo("composer")).toHaveLength(1));
    await waitFor(() => expect(options().map((o) => o.textContent)).toEqual([expect.stringContaining("/welcome")]));
  });
});

describe("Composer files", () => {
  test("picked files show as in progress, then as chips: a thumbnail for an image, name and size otherwise", async () => {
    const waiting: Array<() => void> = [];
    setup([route()], {
      stage_attachment: (body: Uint8Array, options?: InvokeOptions) =>
        new Promise((resolve) => waiting.push(() => resolve(stage(body, options)))),
    });
    await screen.findByTestId("route");
    await pickFiles(file("photo 1.png", "image/png"), file("notes.pdf", "application/pdf"));
    expect(chips()).toHaveLength(2);
    expect(chips().map((c) => c.textContent?.includes("Attaching…"))).toEqual([true, true]);
    expect(chips()[0]?.getAttribute("aria-busy")).toBe("true");
    expect(send().disabled).toBe(true);

    await waitFor(() => expect(waiting).toHaveLength(1));
    waiting.shift()?.();
    await waitFor(() => expect(chips()[0]?.querySelector("img")).not.toBeNull());
    const img = chips()[0]!.querySelector("img")!;
    expect(img.getAttribute("src")).toMatch(/^sbfile:\/\/localhost\/staged\/\d+$/);
    expect(img.alt).toBe("photo 1.png");
    expect(chips()[0]?.textContent).not.toContain("Attaching…");
    expect(chips()[1]?.textContent).toContain("Attaching…");
    expect(send().disabled).toBe(true);

    await waitFor(() => expect(waiting).toHaveLength(1));
    waiting.shift()?.();
    await waitFor(() => expect(chips()[1]?.textContent).not.toContain("Attaching…"));
    expect(chips()[1]?.textContent).toContain("notes.pdf");
    expect(chips()[1]?.textContent).toContain("2 KB");
    expect(chips()[1]?.querySelector("img")).toBeNull();
    expect(send().disabled).toBe(false);
    expect(stageOptions()).toEqual([
      { headers: { "x-file-name": "photo%201.png", "x-file-type": "image/png" } },
      { headers: { "x-file-name": "notes.pdf", "x-file-type": "application/pdf" } },
    ]);
  });

  test("the name travels encoded and a thumbnail that cannot be shown falls back to the file's name", async () => {
    setup([route()]);
    await screen.findByTestId("route");
    await pickFiles(file("reçu été.webp", "image/webp"));
    await waitFor(() => expect(chips()[0]?.querySelector("img")).not.toBeNull());
    const body = invoke.mock.calls.find((c) => c[0] === "stage_attachment")?.[1];
    expect(body).toBeInstanceOf(Uint8Array);
    expect((body as Uint8Array).length).toBe(2048);
    expect(stageOptions()).toEqual([{ headers: { "x-file-name": "re%C3%A7u%20%C3%A9t%C3%A9.webp", "x-file-type": "image/webp" } }]);
    await fireEvent.error(chips()[0]!.querySelector("img")!);
    expect(chips()[0]?.querySelector("img")).toBeNull();
    expect(chips()[0]?.textContent).toContain("reçu été.webp");
  });

  test("a file over 25 MB is refused at once and nothing is staged; the core's refusals are shown too", async () => {
    setup([route()], {
      stage_attachment: () => {
        throw { code: "bad_request", message: "files of type application/x-msdownload cannot be sent" };
      },
    });
    await screen.findByTestId("route");
    await pickFiles(file("big.mov", "video/quicktime", 31 * 1024 * 1024));
    expect(app.toasts.map((t) => t.text)).toContain("Couldn't attach: big.mov is 31.0 MB; files up to 25 MB can be sent");
    expect(callsTo("stage_attachment")).toEqual([]);
    expect(chips()).toEqual([]);

    await pickFiles(file("setup.exe", "application/x-msdownload"));
    await waitFor(() =>
      expect(app.toasts.map((t) => t.text)).toContain("Couldn't attach setup.exe: files of type application/x-msdownload cannot be sent"),
    );
    expect(callsTo("stage_attachment")).toHaveLength(1);
    expect(chips()).toEqual([]);
    expect(send().disabled).toBe(true);
  });

  test("at most 10 files per reply", async () => {
    setup([route()]);
    await screen.findByTestId("route");
    await pickFiles(...Array.from({ length: 12 }, (_, i) => file(`f${i}.txt`, "text/plain")));
    await waitFor(() => expect(callsTo("stage_attachment")).toHaveLength(10));
    expect(chips()).toHaveLength(10);
    expect(app.toasts.map((t) => t.text)).toContain("Couldn't attach: a reply carries at most 10 files; f10.txt, f11.txt were not attached");
  });

  test("removing a chip tells the core to forget the file", async () => {
    setup([route()]);
    await screen.findByTestId("route");
    await pickFiles(file("a.pdf", "application/pdf"), file("b.pdf", "application/pdf"));
    await waitFor(() => expect(chips().map((c) => c.getAttribute("aria-busy"))).toEqual(["false", "false"]));
    await fireEvent.click(screen.getByRole("button", { name: "Remove a.pdf" }));
    expect(chips().map((c) => c.textContent)).toEqual([expect.stringContaining("b.pdf")]);
    const id = String(nextStaged - 2);
    await waitFor(() => expect(callsTo("discard_attachment")).toEqual([{ id }]));
    expect(document.activeElement).toBe(input());
  });

  test("a file removed while it is being staged is forgotten once the core has it", async () => {
    const waiting: Array<() => void> = [];
    setup([route()], {
      stage_attachment: (body: Uint8Array, options?: InvokeOptions) =>
        new Promise((resolve) => waiting.push(() => resolve(stage(body, options)))),
    });
    await screen.findByTestId("route");
    await pickFiles(file("slow.pdf", "application/pdf"));
    await fireEvent.click(screen.getByRole("button", { name: "Remove slow.pdf" }));
    expect(chips()).toEqual([]);
    expect(callsTo("discard_attachment")).toEqual([]);
    await waitFor(() => expect(waiting).toHaveLength(1));
    waiting.shift()?.();
    await waitFor(() => expect(callsTo("discard_attachment")).toEqual([{ id: String(nextStaged - 1) }]));
    expect(chips()).toEqual([]);
  });

  test("sending passes the staged urls in order, with or without text, and clears the chips", async () => {
    const id = setup([route()]);
    await screen.findByTestId("route");
    expect(send().disabled).toBe(true);
    await pickFiles(file("one.png", "image/png"), file("two.pdf", "application/pdf"));
    await waitFor(() => expect(chips().map((c) => c.getAttribute("aria-busy"))).toEqual(["false", "false"]));
    const urls = [`staged:${nextStaged - 2}`, `staged:${nextStaged - 1}`];
    expect(send().disabled).toBe(false);
    await fireEvent.click(send());
    await waitFor(() => expect(callsTo("send_reply")).toEqual([{ conversation_id: id, body: "", attachments: urls, choices: null }]));
    await waitFor(() => expect(chips()).toEqual([]));
    expect(callsTo("discard_attachment")).toEqual([]);
    expect(send().disabled).toBe(true);

    await pickFiles(file("three.txt", "text/plain"));
    await waitFor(() => expect(chips().map((c) => c.getAttribute("aria-busy"))).toEqual(["false"]));
    await fireEvent.input(input(), { target: { value: "Here it is" } });
    await fireEvent.keyDown(input(), { key: "Enter", ctrlKey: true });
    await waitFor(() =>
      expect(callsTo("send_reply").at(-1)).toEqual({ conversation_id: id, body: "Here it is", attachments: [`staged:${nextStaged - 1}`], choices: null }),
    );
    await waitFor(() => expect(chips()).toEqual([]));
  });

  test("a rejected send keeps the chips", async () => {
    setup([route()], {
      send_reply: () => {
        throw { code: "reply_window_closed", message: "the window closed a moment ago" };
      },
    });
    await screen.findByTestId("route");
    await pickFiles(file("one.pdf", "application/pdf"));
    await waitFor(() => expect(chips().map((c) => c.getAttribute("aria-busy"))).toEqual(["false"]));
    await fireEvent.click(send());
    expect((await screen.findByRole("alert")).textContent).toBe("the window closed a moment ago");
    expect(chips()).toHaveLength(1);
  });

  test("pasting an image attaches it; pasting text still inserts the text", async () => {
    setup([route()]);
    await screen.findByTestId("route");
    const image = { files: [file("screenshot.png", "image/png")], types: ["Files"], getData: () => "" };
    expect(await fireEvent.paste(input(), { clipboardData: image })).toBe(false);
    await waitFor(() => expect(chips()[0]?.querySelector("img")?.alt).toBe("screenshot.png"));
    expect(callsTo("stage_attachment")).toHaveLength(1);

    const text = { files: [], types: ["text/plain"], getData: () => "Hello there" };
    expect(await fireEvent.paste(input(), { clipboardData: text })).toBe(true);
    // A spreadsheet's cells come with a picture of them: they are pasted as text.
    const cells = { files: [file("image.png", "image/png")], types: ["text/plain", "text/html", "Files"], getData: () => "a\tb" };
    expect(await fireEvent.paste(input(), { clipboardData: cells })).toBe(true);
    expect(callsTo("stage_attachment")).toHaveLength(1);
    expect(chips()).toHaveLength(1);
  });

  test("files dragged over the composer show a drop target and are attached when dropped", async () => {
    setup([route()]);
    await screen.findByTestId("route");
    const composer = screen.getByTestId("composer");
    const dataTransfer = { types: ["Files"], files: [file("contract.pdf", "application/pdf")], dropEffect: "none" };
    expect(await fireEvent.dragEnter(composer, { dataTransfer })).toBe(false);
    expect(composer.classList.contains("dropping")).toBe(true);
    expect(screen.getByText("Drop files to attach them to the reply")).toBeTruthy();
    await fireEvent.dragLeave(composer, { dataTransfer });
    expect(composer.classList.contains("dropping")).toBe(false);

    await fireEvent.dragEnter(composer, { dataTransfer });
    expect(await fireEvent.dragOver(input(), { dataTransfer })).toBe(false);
    expect(dataTransfer.dropEffect).toBe("copy");
    expect(await fireEvent.drop(input(), { dataTransfer })).toBe(false);
    expect(composer.classList.contains("dropping")).toBe(false);
    await waitFor(() => expect(chips()[0]?.textContent).toContain("contract.pdf"));

    // Dragged text is left to the text box.
    const textDrag = { types: ["text/plain"], files: [] };
    expect(await fireEvent.dragEnter(composer, { dataTransfer: textDrag })).toBe(true);
    expect(composer.classList.contains("dropping")).toBe(false);
  });

  test("Attach files is a button in reply mode that opens the file picker; notes carry no files", async () => {
    setup([route()]);
    await screen.findByTestId("route");
    const picker = screen.getByTestId("composer-file-input") as HTMLInputElement;
    const opened = vi.spyOn(picker, "click");
    const attach = screen.getByRole("button", { name: "Attach files" });
    expect(attach.tabIndex).toBe(0);
    await fireEvent.click(attach);
    expect(opened).toHaveBeenCalledTimes(1);
    expect(picker.multiple).toBe(true);
    expect(picker.hidden).toBe(true);

    await pickFiles(file("a.pdf", "application/pdf"));
    await waitFor(() => expect(chips()).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("mode-note"));
    expect(screen.queryByRole("button", { name: "Attach files" })).toBeNull();
    expect(chips()).toEqual([]);
    const image = { files: [file("x.png", "image/png")], types: ["Files"], getData: () => "" };
    expect(await fireEvent.paste(input(), { clipboardData: image })).toBe(true);
    await fireEvent.click(screen.getByTestId("mode-reply"));
    expect(chips()).toHaveLength(1);
    expect(callsTo("stage_attachment")).toHaveLength(1);
  });

  test("files stay with their conversation's draft", async () => {
    const a = setup([route()]);
    await screen.findByTestId("route");
    await pickFiles(file("for-a.pdf", "application/pdf"));
    await waitFor(() => expect(chips().map((c) => c.getAttribute("aria-busy"))).toEqual(["false"]));
    cleanup();
    setup([route()]);
    await screen.findByTestId("route");
    expect(chips()).toEqual([]);
    cleanup();
    setup([route()], {}, a);
    await screen.findByTestId("route");
    expect(chips().map((c) => c.textContent)).toEqual([expect.stringContaining("for-a.pdf")]);
    expect(callsTo("discard_attachment")).toEqual([]);
  });
});


describe("Composer choices", () => {
  const toggle = () => screen.getByTestId("composer-choices") as HTMLButtonElement;
  const title = (n: number) => screen.getByTestId(`choice-title-${n}`) as HTMLInputElement;
  const refusal = () => screen.queryByTestId("choices-refusal")?.textContent ?? null;

  /** Opens the editor and types these option titles, adding a row for each after the first. */
  async function offer(...titles: string[]) {
    await fireEvent.click(toggle());
    for (const [i, t] of titles.entries()) {
      if (i > 0) await fireEvent.click(screen.getByTestId("choice-add"));
      await fireEvent.input(title(i + 1), { target: { value: t } });
    }
  }

  test("Add choices opens the editor; three WhatsApp buttons go with the reply, ids made from their titles", async () => {
    const id = setup([route()]);
    await screen.findByTestId("route");
    expect(screen.queryByTestId("choices-editor")).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Add choices" }));
    expect(screen.getByTestId("choices-editor")).toBeTruthy();
    await waitFor(() => expect(document.activeElement).toBe(title(1)));
    expect(screen.getByLabelText("Choice 1 title")).toBe(title(1));
    expect(screen.getByTestId("choices-style-buttons").getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByText("WhatsApp: up to 3 buttons, titles up to 20 characters")).toBeTruthy();

    await fireEvent.input(title(1), { target: { value: "Tue 10:00" } });
    await fireEvent.click(screen.getByTestId("choice-add"));
    await waitFor(() => expect(document.activeElement).toBe(title(2)));
    await fireEvent.input(title(2), { target: { value: "Wed 14:30" } });
    // Enter in a title adds the next option.
    await fireEvent.keyDown(title(2), { key: "Enter" });
    await waitFor(() => expect(document.activeElement).toBe(title(3)));
    await fireEvent.input(title(3), { target: { value: "Tue 10:00" } });
    expect(screen.getByRole("button", { name: "Edit choices" })).toBe(toggle());

    expect(refusal()).toBe("choices need a message to go with them");
    expect(send().disabled).toBe(true);
    await fireEvent.input(input(), { target: { value: "Which time suits you?" } });
    expect(refusal()).toBeNull();
    expect(send().disabled).toBe(false);
    await fireEvent.click(send());
    await waitFor(() =>
      expect(callsTo("send_reply")).toEqual([
        {
          conversation_id: id,
          body: "Which time suits you?",
          attachments: [],
          choices: {
            style: "buttons",
            options: [
              { id: "tue-1000", title: "Tue 10:00" },
              { id: "wed-1430", title: "Wed 14:30" },
              { id: "tue-1000-2", title: "Tue 10:00" },
            ],
          },
        },
      ]),
    );
    await waitFor(() => expect(screen.queryByTestId("choices-editor")).toBeNull());
    expect(input().value).toBe("");

    // The next reply starts with none.
    await fireEvent.click(toggle());
    expect(title(1).value).toBe("");
    expect(screen.queryByTestId("choice-title-2")).toBeNull();
  });

  test("a fourth button on WhatsApp is refused and Send disabled until one is removed", async () => {
    const id = setup([route()]);
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "Pick one" } });
    await offer("Red", "Green", "Blue", "Yellow");
    expect(refusal()).toBe("WhatsApp offers 1 to 3 choices this way");
    expect(screen.getByTestId("choices-refusal").getAttribute("role")).toBe("status");
    expect(send().disabled).toBe(true);
    await fireEvent.keyDown(input(), { key: "Enter", ctrlKey: true });
    expect(callsTo("send_reply")).toEqual([]);

    await fireEvent.click(screen.getByRole("button", { name: "Remove choice 2" }));
    expect([1, 2, 3].map((n) => title(n).value)).toEqual(["Red", "Blue", "Yellow"]);
    expect(screen.queryByTestId("choice-title-4")).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(title(2)));
    expect(refusal()).toBeNull();
    await fireEvent.keyDown(title(3), { key: "Enter", ctrlKey: true });
    await waitFor(() =>
      expect(callsTo("send_reply")).toEqual([
        {
          conversation_id: id,
          body: "Pick one",
          attachments: [],
          choices: { style: "buttons", options: ["Red", "Blue", "Yellow"].map((t) => ({ id: t.toLowerCase(), title: t })) },
        },
      ]),
    );
  });

  test("a list needs the label of the button that opens it, and carries descriptions", async () => {
    const id = setup([route()]);
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "Which time suits you?" } });
    await offer("Tuesday 10:00", "Friday");
    expect(screen.queryByTestId("choices-button")).toBeNull();
    expect(screen.queryByTestId("choice-description-1")).toBeNull();
    await fireEvent.click(screen.getByTestId("choices-style-list"));
    expect(screen.getByTestId("choices-style-list").getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByTestId("choices-style-buttons").getAttribute("aria-pressed")).toBe("false");
    expect(refusal()).toBe("a list needs a button of 1 to 20 characters that opens it");
    expect(send().disabled).toBe(true);

    await fireEvent.input(screen.getByLabelText("Choice 1 description"), { target: { value: "At the shop on Main Street" } });
    await fireEvent.input(screen.getByTestId("choices-button"), { target: { value: "See times" } });
    expect(screen.getByLabelText("List button label")).toBe(screen.getByTestId("choices-button"));
    expect(refusal()).toBeNull();
    await fireEvent.click(send());
    await waitFor(() =>
      expect(callsTo("send_reply")).toEqual([
        {
          conversation_id: id,
          body: "Which time suits you?",
          attachments: [],
          choices: {
            style: "list",
            button: "See times",
            options: [
              { id: "tuesday-1000", title: "Tuesday 10:00", description: "At the shop on Main Street" },
              { id: "friday", title: "Friday" },
            ],
          },
        },
      ]),
    );
  });

  test("SMS and email disable the control and say why; Messenger offers buttons but no list", async () => {
    setup([route({ channel: "sms" })]);
    await screen.findByTestId("route");
    expect(toggle().disabled).toBe(true);
    expect(toggle().title).toBe("SMS cannot carry buttons or lists");
    cleanup();

    setup([route({ channel: "messenger", address: "psid-1" })]);
    await screen.findByTestId("route");
    expect(toggle().disabled).toBe(false);
    await fireEvent.click(toggle());
    const list = screen.getByTestId("choices-style-list") as HTMLButtonElement;
    expect(list.disabled).toBe(true);
    expect(list.title).toBe("Messenger shows no lists");
    expect(screen.getByText("Messenger: up to 13 buttons, titles up to 20 characters")).toBeTruthy();
  });

  test("switching the route to email refuses the choices at once", async () => {
    setup([route(), route({ conversation_id: 77, channel: "email", address: "ana@example.com" })]);
    const select = (await screen.findByTestId("route")) as HTMLSelectElement;
    await fireEvent.input(input(), { target: { value: "Pick one" } });
    await offer("Yes", "No");
    expect(send().disabled).toBe(false);
    await fireEvent.change(select, { target: { value: "77" } });
    expect(refusal()).toBe("Email cannot carry buttons or lists");
    expect(send().disabled).toBe(true);
    expect(toggle().disabled).toBe(true);
    await fireEvent.click(screen.getByTestId("choices-clear"));
    expect(screen.queryByTestId("choices-editor")).toBeNull();
    expect(send().disabled).toBe(false);
  });

  test("choices stay with their conversation's draft; Remove choices clears them; notes carry none", async () => {
    const a = setup([route()]);
    await screen.findByTestId("route");
    await offer("Yes", "No");
    cleanup();
    setup([route()]);
    await screen.findByTestId("route");
    expect(screen.queryByTestId("choices-editor")).toBeNull();
    cleanup();
    setup([route()], {}, a);
    await screen.findByTestId("route");
    expect([title(1).value, title(2).value]).toEqual(["Yes", "No"]);

    await fireEvent.click(screen.getByTestId("mode-note"));
    expect(screen.queryByTestId("choices-editor")).toBeNull();
    expect(screen.queryByTestId("composer-choices")).toBeNull();
    await fireEvent.input(input(), { target: { value: "Offered two times" } });
    await fireEvent.click(send());
    await waitFor(() => expect(callsTo("add_note")).toEqual([{ conversation_id: a, body: "Offered two times" }]));
    await fireEvent.click(screen.getByTestId("mode-reply"));
    expect(title(1).value).toBe("Yes");

    await fireEvent.click(screen.getByRole("button", { name: "Remove choices" }));
    expect(screen.queryByTestId("choices-editor")).toBeNull();
    await waitFor(() => expect(document.activeElement).toBe(input()));
    cleanup();
    setup([route()], {}, a);
    await screen.findByTestId("route");
    expect(screen.queryByTestId("choices-editor")).toBeNull();
  });
});

describe("Composer articles", () => {
  const hit = (id: number, title: string, status: ArticleStatus = "published"): ArticleHit => ({
    id,
    key: `a${id}`,
    title,
    collection: "Help",
    locale: "en",
    status,
    snippet: `About ${title}`,
    url: status === "published" ? `https://help.example/a${id}` : null,
  });
  const kb = [hit(1, "How to return an item"), hit(2, "Paying with gift cards", "draft"), hit(3, "Shipping times")];

  function withArticles() {
    return setup([route()], {
      articles: (a: { query: string }) => kb.filter((h) => h.title.toLowerCase().includes(a.query.toLowerCase())),
      article_insertion: (a: { article_id: number; how: string | null }) =>
        a.how === "text" ? `Text of ${a.article_id}` : `Link to ${a.article_id}`,
    });
  }

  const picker = () => screen.queryByTestId("article-picker");
  const options = () => within(screen.getByTestId("article-picker")).getAllByTestId("article-option");

  test("# at the start of a word opens the published articles, filtered as typed; Enter inserts the core's text", async () => {
    const id = withArticles();
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "Hi Ana, see #" } });
    await waitFor(() => expect(options().map((o) => o.querySelector(".title")?.textContent)).toEqual(["How to return an item", "Shipping times"]));
    expect(callsTo("articles")).toEqual([{ query: "" }]);
    expect(picker()!.getAttribute("role")).toBe("listbox");
    expect(options()[0]!.getAttribute("aria-selected")).toBe("true");

    await fireEvent.input(input(), { target: { value: "Hi Ana, see #ship" } });
    await waitFor(() => expect(options().map((o) => o.querySelector(".title")?.textContent)).toEqual(["Shipping times"]));
    expect(callsTo("articles").at(-1)).toEqual({ query: "ship" });
    await fireEvent.keyDown(input(), { key: "Enter" });
    await waitFor(() => expect(input().value).toBe("Hi Ana, see Link to 3"));
    expect(callsTo("article_insertion")).toEqual([{ conversation_id: id, article_id: 3, how: null }]);
    expect(picker()).toBeNull();
    expect(callsTo("send_reply")).toEqual([]);
  });

  test("arrows move, Escape closes it, and each row inserts a link or the text", async () => {
    withArticles();
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "#" } });
    await waitFor(() => expect(options()).toHaveLength(2));
    await fireEvent.keyDown(input(), { key: "ArrowDown" });
    expect(options().map((o) => o.getAttribute("aria-selected"))).toEqual(["false", "true"]);
    expect(input().getAttribute("aria-activedescendant")).toBe("article-1");
    await fireEvent.keyDown(input(), { key: "ArrowDown" });
    expect(options()[0]!.getAttribute("aria-selected")).toBe("true");

    const esc = await fireEvent.keyDown(input(), { key: "Escape" });
    expect(esc).toBe(false);
    expect(picker()).toBeNull();
    expect(input().value).toBe("#");

    await fireEvent.input(input(), { target: { value: "Also #ret" } });
    await waitFor(() => expect(options()).toHaveLength(1));
    await fireEvent.click(within(options()[0]!).getByRole("button", { name: "Insert the text of How to return an item" }));
    await waitFor(() => expect(input().value).toBe("Also Text of 1"));
    expect(callsTo("article_insertion").at(-1)).toMatchObject({ article_id: 1, how: "text" });

    await fireEvent.input(input(), { target: { value: "#ship" } });
    await waitFor(() => expect(options()).toHaveLength(1));
    await fireEvent.click(within(options()[0]!).getByRole("button", { name: "Insert a link to Shipping times" }));
    await waitFor(() => expect(input().value).toBe("Link to 3"));
    expect(callsTo("article_insertion").at(-1)).toMatchObject({ article_id: 3, how: "link" });
  });

  test("a # inside a word, or with nothing matching, opens nothing", async () => {
    withArticles();
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "order#4821" } });
    expect(picker()).toBeNull();
    expect(callsTo("articles")).toEqual([]);
    await fireEvent.input(input(), { target: { value: "order #4821" } });
    await waitFor(() => expect(callsTo("articles")).toEqual([{ query: "4821" }]));
    expect(picker()).toBeNull();
    await fireEvent.keyDown(input(), { key: "Enter" });
    expect(callsTo("article_insertion")).toEqual([]);
  });

  test("text inserted from outside goes at the caret, spaced from the words around it", async () => {
    answer({ composer: (a) => ({ conversation_id: a.conversation_id, routes: [route({ conversation_id: a.conversation_id })], templates: [], canned: [] }) });
    const { component } = render(Composer, { conversationId: nextConversation++, contactId: 1, contactName: "Ana" });
    await screen.findByTestId("route");
    await fireEvent.input(input(), { target: { value: "Hello,thanks" } });
    input().setSelectionRange(6, 6);
    await component.insertText("Returns: https://help.example/a1");
    expect(input().value).toBe("Hello, Returns: https://help.example/a1 thanks");
    expect(document.activeElement).toBe(input());
    expect(input().selectionStart).toBe(39);
  });
});
