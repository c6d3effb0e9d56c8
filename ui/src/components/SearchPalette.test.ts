// Search marks the hit's byte ranges (non-ASCII included) with <mark>, renders snippets as
// text, and opens a hit with the arrow keys and Enter.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, expect, test, vi } from "vitest";
import type { Agent, SearchHit } from "../lib/protocol";
import { app } from "../lib/stores.svelte";
import { answer, callsTo } from "../test/tauri";
import SearchPalette from "./SearchPalette.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => cleanup());

function agent(id: number, name: string): Agent {
  return { id, name, email: `${id}@x.test`, role: "agent", teams: [1], capacity: 10, presence: "online", disabled: false, skills: [], routing_paused: false, version: 1 };
}

const enc = new TextEncoder();
function hit(id: number, snippet: string, word: string): SearchHit {
  const i = snippet.indexOf(word);
  const start = enc.encode(snippet.slice(0, i)).length;
  return {
    message_id: id,
    conversation_id: id * 10,
    contact_id: id,
    contact_name: `Customer ${id}`,
    channel: "whatsapp",
    direction: "inbound",
    snippet,
    highlights: [[start, start + enc.encode(word).length]],
    created_at: Date.now() - 60_000,
  };
}

test("hits show marked ranges and open with arrows + Enter", async () => {
  const hits = [
    hit(1, "Olá! Preciso de ajuda com o pedido nº 42 🙏", "pedido"),
    hit(2, "<b>não</b> recebi o pedido", "pedido"),
  ];
  answer({ search: () => hits });
  const onopen = vi.fn();
  render(SearchPalette, { onclose: vi.fn(), onopen });
  const dialog = screen.getByTestId("search");
  expect(dialog.getAttribute("role")).toBe("dialog");
  expect(dialog.getAttribute("aria-modal")).toBe("true");
  const input = screen.getByTestId("search-input");
  expect(document.activeElement).toBe(input);
  await fireEvent.input(input, { target: { value: "pedido" } });
  await waitFor(() => expect(screen.getAllByTestId("search-hit")).toHaveLength(2));
  expect(callsTo("search")).toEqual([
    {
      query: { text: "pedido", channel: null, status: null, assignee: null, after: null, before: null, limit: 50 },
    },
  ]);
  const marks = [...document.querySelectorAll("[data-testid=search-hit] mark")].map((m) => m.textContent);
  expect(marks).toEqual(["pedido", "pedido"]);
  expect(document.querySelector("[data-testid=search-hit] b")).toBeNull();
  expect(screen.getAllByTestId("search-hit")[1]?.textContent).toContain("<b>não</b> recebi o pedido");

  await fireEvent.keyDown(input, { key: "ArrowDown" });
  await fireEvent.keyDown(input, { key: "Enter" });
  expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ conversation_id: 20 }));
});

test("a hit's Message button or Shift+Enter writes to its customer instead of opening it", async () => {
  answer({ search: () => [hit(1, "Where is my order?", "order"), hit(2, "My order is late", "order")] });
  const onopen = vi.fn();
  const onmessage = vi.fn();
  render(SearchPalette, { onclose: vi.fn(), onopen, onmessage });
  const input = screen.getByTestId("search-input");
  await fireEvent.input(input, { target: { value: "order" } });
  await waitFor(() => expect(screen.getAllByTestId("search-hit")).toHaveLength(2));
  expect(screen.getByText(/writes a new message to the customer/)).toBeTruthy();
  await fireEvent.click(screen.getAllByTestId("hit-new-message")[1]!);
  expect(onmessage).toHaveBeenCalledWith(expect.objectContaining({ contact_id: 2 }));
  await fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
  expect(onmessage).toHaveBeenLastCalledWith(expect.objectContaining({ contact_id: 1 }));
  expect(onopen).not.toHaveBeenCalled();
});

test("without a way to write, hits have no Message button", async () => {
  answer({ search: () => [hit(1, "Where is my order?", "order")] });
  const onopen = vi.fn();
  render(SearchPalette, { onclose: vi.fn(), onopen });
  const input = screen.getByTestId("search-input");
  await fireEvent.input(input, { target: { value: "order" } });
  await waitFor(() => expect(screen.getAllByTestId("search-hit")).toHaveLength(1));
  expect(screen.queryByTestId("hit-new-message")).toBeNull();
  await fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
  expect(onopen).toHaveBeenCalledWith(expect.objectContaining({ contact_id: 1 }));
});

test("filters go into the query", async () => {
  answer({ search: () => [] });
  render(SearchPalette, { onclose: vi.fn(), onopen: vi.fn() });
  const [channel, status] = screen.getAllByRole("combobox").filter((e) => e.tagName === "SELECT");
  await fireEvent.change(channel!, { target: { value: "email" } });
  await fireEvent.change(status!, { target: { value: "resolved" } });
  await fireEvent.change(screen.getByTestId("search-assignee"), { target: { value: "unassigned" } });
  await fireEvent.input(screen.getByTestId("search-input"), { target: { value: "refund" } });
  await waitFor(() => expect(callsTo("search").length).toBeGreaterThan(0));
  expect(callsTo("search").at(-1)).toEqual({
    query: expect.objectContaining({
      text: "refund",
      channel: "email",
      status: "resolved",
      assignee: { kind: "unassigned" },
    }),
  });
});

test("the assignee filter offers me, unassigned and every other agent", async () => {
  app.directory = {
    me: agent(1, "Maya Okafor"),
    permissions: { reassign: false, oversee: false, merge_contacts: false, share_canned: false, edit_articles: false },
    agents: [agent(1, "Maya Okafor"), agent(3, "Zoe Kim"), agent(2, "Lee Chen")],
    teams: [],
    inboxes: [],
  };
  answer({ search: () => [] });
  render(SearchPalette, { onclose: vi.fn(), onopen: vi.fn() });
  const select = screen.getByTestId("search-assignee") as HTMLSelectElement;
  expect([...select.options].map((o) => [o.value, o.textContent])).toEqual([
    ["", "Anyone"],
    ["1", "Me"],
    ["unassigned", "Unassigned"],
    ["2", "Lee Chen"],
    ["3", "Zoe Kim"],
  ]);
  await fireEvent.change(select, { target: { value: "3" } });
  await fireEvent.input(screen.getByTestId("search-input"), { target: { value: "refund" } });
  await waitFor(() => expect(callsTo("search").length).toBeGreaterThan(0));
  expect(callsTo("search").at(-1)?.query).toEqual(expect.objectContaining({ assignee: { kind: "agent", id: 3 } }));
  app.directory = null;
});

test("Escape closes", async () => {
  answer({});
  const onclose = vi.fn();
  render(SearchPalette, { onclose, onopen: vi.fn() });
  await fireEvent.keyDown(screen.getByTestId("search-input"), { key: "Escape" });
  expect(onclose).toHaveBeenCalled();
});
