// The composer shows the core's refusals and reply window, offers templates once the window
// has closed, inserts canned responses after "/", and sends replies and notes.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Composer as ComposerData, ReplyRoute } from "../lib/protocol";
import { canned } from "../test/fixtures";
import { answer, callsTo } from "../test/tauri";
import { app } from "../lib/stores.svelte";
import Composer from "./Composer.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => cleanup());

let nextConversation = 500;

function route(extra: Partial<ReplyRoute> = {}): ReplyRoute {
  return { conversation_id: 10, channel: "whatsapp", address: "+14155550100", window: { state: "none" }, refusal: null, ...extra };
}

function setup(routes: ReplyRoute[], extra: Record<string, (a: Record<string, unknown>) => unknown> = {}) {
  const id = nextConversation++;
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
    ...extra,
  });
  render(Composer, { conversationId: id, contactId: 1, contactName: "Ana" });
  return id;
}

const input = () => screen.getByTestId("composer-input") as HTMLTextAreaElement;
const send = () => screen.getByTestId("composer-send") as HTMLButtonElement;

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
    await waitFor(() => expect(callsTo("send_reply")).toEqual([{ conversation_id: id, body: "On it!" }]));
    await waitFor(() => expect(input().value).toBe(""));

    await fireEvent.change(select, { target: { value: "77" } });
    await fireEvent.input(input(), { target: { value: "By email" } });
    await fireEvent.keyDown(input(), { key: "Enter", ctrlKey: true });
    await waitFor(() => expect(callsTo("send_reply").at(-1)).toEqual({ conversation_id: 77, body: "By email" }));
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
