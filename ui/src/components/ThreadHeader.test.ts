// ThreadHeader offers Block visitor on web-chat and in-app threads only, and blocks only on
// a second press; it shows a queued conversation's place and sets its priority.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import { answer, callsTo } from "../test/tauri";
import { row } from "../test/fixtures";
import ThreadHeader from "./ThreadHeader.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => cleanup());

const props = (channel: "webchat" | "in_app" | "sms") => ({
  row: row(7, { channel }),
  lead: false,
  onassign: () => {},
  onsnooze: () => {},
  onback: () => {},
  oncustomer: () => {},
  customerShown: false,
});

describe("ThreadHeader", () => {
  test("a web-chat visitor is blocked on the second press", async () => {
    answer({ block_visitor: () => 1 });
    const p = props("webchat");
    render(ThreadHeader, p);
    const block = screen.getByTestId("block-visitor");
    await fireEvent.click(block);
    expect(callsTo("block_visitor")).toHaveLength(0);
    expect(block.textContent).toBe("Confirm block");
    await fireEvent.click(block);
    await waitFor(() => expect(callsTo("block_visitor")).toEqual([{ conversation_id: p.row.id, blocked: true }]));
  });

  test("offered for in-app users too, never for other channels", () => {
    render(ThreadHeader, props("in_app"));
    expect(screen.queryByTestId("block-visitor")).toBeTruthy();
    cleanup();
    render(ThreadHeader, props("sms"));
    expect(screen.queryByTestId("block-visitor")).toBeNull();
  });

  test("a queued conversation shows its place, and its priority can be raised", async () => {
    answer({ set_priority: () => 1 });
    const p = { ...props("sms"), row: row(3, { queue_position: 2, csat_score: 4 }) };
    render(ThreadHeader, p);
    expect(screen.getByTestId("thread-queue").textContent).toBe("#2 in queue");
    expect(screen.getByTestId("thread-csat").textContent).toBe("★ 4/5");
    const pick = screen.getByTestId("priority") as HTMLSelectElement;
    expect(pick.value).toBe("normal");
    await fireEvent.change(pick, { target: { value: "urgent" } });
    await waitFor(() => expect(callsTo("set_priority")).toEqual([{ conversation_id: p.row.id, priority: "urgent" }]));
  });
});
