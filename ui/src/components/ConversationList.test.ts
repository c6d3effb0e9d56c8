// The conversation list is virtual: with 50,000 conversations only the rows in view (plus a
// small overscan) are in the DOM, and pages are fetched lazily.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { SvelteSet } from "svelte/reactivity";
import { afterEach, expect, test, vi } from "vitest";
import { PageCache } from "../lib/pages.svelte";
import { clock } from "../lib/stores.svelte";
import { row } from "../test/fixtures";
import ConversationList from "./ConversationList.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => cleanup());

const TOTAL = 50_000;

function setup(lead: boolean) {
  const fetch = vi.fn(async (offset: number, limit: number) =>
    Array.from({ length: Math.min(limit, TOTAL - offset) }, (_, k) =>
      row(offset + k, { unread: (offset + k) % 3 === 0, waiting_since: (offset + k) % 2 ? clock.now - 125 * 60_000 - 1000 : null }),
    ),
  );
  const cache = new PageCache(fetch);
  const onopen = vi.fn();
  const ontoggle = vi.fn();
  const onshown = vi.fn();
  render(ConversationList, {
    label: "Mine conversations",
    total: TOTAL,
    cache,
    selectedIndex: 1,
    openId: null,
    lead,
    checked: new SvelteSet<number>(),
    onopen,
    onselect: vi.fn(),
    ontoggle,
    onshown,
  });
  return { fetch, onopen, ontoggle, onshown };
}

test("only the visible rows are rendered, from one lazily fetched page", async () => {
  const { fetch } = setup(false);
  const list = screen.getByTestId("conversation-list");
  expect(list.getAttribute("role")).toBe("listbox");
  expect((list.firstElementChild as HTMLElement).style.height).toBe(`${TOTAL * 64}px`);
  await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
  const rows = screen.getAllByTestId("conversation-row");
  expect(rows.length).toBeLessThan(60);
  expect(fetch).toHaveBeenCalledTimes(1);
  expect(fetch).toHaveBeenCalledWith(0, 200);
  const second = rows[1]!;
  expect(second.dataset.id).toBe("2");
  expect(second.dataset.contact).toBe("Customer 1");
  expect(second.getAttribute("aria-selected")).toBe("true");
  expect(rows[0]!.getAttribute("aria-selected")).toBe("false");
  expect(second.getAttribute("aria-setsize")).toBe(String(TOTAL));
  expect(second.textContent).toContain("2h 5m"); // waiting since
  expect(screen.queryAllByTestId("row-select")).toHaveLength(0);
});

test("scrolling far fetches only the page in view", async () => {
  const { fetch } = setup(false);
  await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
  const list = screen.getByTestId("conversation-list");
  list.scrollTop = 30_000 * 64;
  await fireEvent.scroll(list);
  await waitFor(() => expect(screen.getAllByTestId("conversation-row")[0]?.dataset.id).toBe(String(30_000 - 8 + 1)));
  expect(fetch.mock.calls.map((c) => c[0])).toEqual([0, 29_800, 30_000]);
  expect(screen.getAllByTestId("conversation-row").length).toBeLessThan(60);
});

test("leads get a checkbox per row; clicking a row opens it", async () => {
  const { onopen, ontoggle } = setup(true);
  await waitFor(() => expect(screen.getAllByTestId("row-select").length).toBeGreaterThan(0));
  await fireEvent.click(screen.getAllByTestId("row-select")[2]!);
  expect(ontoggle).toHaveBeenCalledWith(expect.objectContaining({ id: 3 }));
  expect(onopen).not.toHaveBeenCalled();
  await fireEvent.click(screen.getAllByTestId("conversation-row")[2]!);
  expect(onopen).toHaveBeenCalledWith(2, expect.objectContaining({ id: 3 }));
});

test("the rows in the DOM and the next ones are told, as they change, to read their threads ahead", async () => {
  const { onshown } = setup(false);
  await waitFor(() => expect(screen.getAllByTestId("conversation-row").length).toBeGreaterThan(0));
  const inDom = screen.getAllByTestId("conversation-row").map((r) => Number(r.dataset.id));
  const shown = (onshown.mock.lastCall![0] as Array<{ id: number }>).map((r) => r.id);
  // At the top of the list: the DOM's rows, then the twelve below them.
  const next = inDom[inDom.length - 1]!;
  expect(shown).toEqual([...inDom, ...Array.from({ length: 12 }, (_, k) => next + 1 + k)]);
});
