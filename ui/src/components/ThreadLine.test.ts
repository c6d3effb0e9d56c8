// ThreadLine renders customer text as text only, tells notes from replies, offers
// Retry/Discard for outbox lines that are stuck or lost a conflict, and shows image
// attachments as thumbnails read through the console's file scheme, the choices an agent's
// line offered and the one a customer tapped, a bot's lines by the bot's name with a Bot
// badge, and a long system line (a handoff summary) as a wrapped block.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, test, vi } from "vitest";
import { answer, callsTo } from "../test/tauri";
import { line } from "../test/fixtures";
import { app } from "../lib/stores.svelte";
import ThreadLine from "./ThreadLine.svelte";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("../test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("../test/tauri")).listen }));

afterEach(() => cleanup());

describe("ThreadLine", () => {
  test("customer HTML is shown literally, never parsed", () => {
    const body = `<img src=x onerror=alert(1)> <a href="javascript:alert(2)">x</a>`;
    const { container } = render(ThreadLine, { line: line({ body, subject: "<b>subject</b>" }) });
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("a")).toBeNull();
    expect(container.querySelector("b")).toBeNull();
    expect(screen.getByTestId("line-body").textContent).toBe(body);
    expect(container.textContent).toContain("<b>subject</b>");
  });

  test("a note looks different from a reply", () => {
    const note = render(ThreadLine, { line: line({ direction: "note", author_name: "Ada", body: "VIP" }) });
    const n = note.getByTestId("line");
    expect(n.dataset.direction).toBe("note");
    expect(n.classList.contains("note")).toBe(true);
    expect(note.getByText("Internal note")).toBeTruthy();
    expect(note.getByText("Ada")).toBeTruthy();
    cleanup();

    const reply = render(ThreadLine, {
      line: line({ direction: "outbound", author_name: "Ada", body: "Hi!", delivery: "delivered" }),
    });
    const r = reply.getByTestId("line");
    expect(r.dataset.direction).toBe("outbound");
    expect(r.dataset.delivery).toBe("delivered");
    expect(r.classList.contains("note")).toBe(false);
    expect(reply.queryByText("Internal note")).toBeNull();
    expect(reply.getByText("Delivered")).toBeTruthy();
  });

  test("a stuck outbox line shows its error with Retry and Discard", async () => {
    answer({ retry: () => null, discard: () => null });
    render(ThreadLine, {
      line: line({
        id: null,
        direction: "outbound",
        body: "On my way",
        outbox: { id: 42, state: "stuck", error: "the hub did not answer" },
      }),
    });
    expect(screen.getByTestId("line").dataset.outboxState).toBe("stuck");
    expect(screen.getByText(/the hub did not answer/)).toBeTruthy();
    await fireEvent.click(screen.getByTestId("retry"));
    expect(callsTo("retry")).toEqual([{ outbox_id: 42 }]);
    await fireEvent.click(screen.getByTestId("discard"));
    expect(callsTo("discard")).toEqual([{ outbox_id: 42 }]);
  });

  test("a conflicting outbox line also offers Retry and Discard", () => {
    render(ThreadLine, {
      line: line({ id: null, direction: "note", outbox: { id: 7, state: "conflict", error: "changed by Bruno" } }),
    });
    expect(screen.getByTestId("line").dataset.outboxState).toBe("conflict");
    expect(screen.getByTestId("retry")).toBeTruthy();
    expect(screen.getByTestId("discard")).toBeTruthy();
  });

  test("a pending line says Sending…, or Queued when offline", () => {
    const pending = line({ id: null, direction: "outbound", outbox: { id: 3, state: "pending", error: null } });
    const a = render(ThreadLine, { line: pending });
    expect(a.getByText("Sending…")).toBeTruthy();
    expect(a.queryByTestId("retry")).toBeNull();
    cleanup();
    const b = render(ThreadLine, { line: pending, offline: true });
    expect(b.getByText("Queued")).toBeTruthy();
  });

  test("a failed delivery shows the provider's reason", () => {
    render(ThreadLine, {
      line: line({ direction: "outbound", delivery: "failed", delivery_error: "30007 filtered as spam" }),
    });
    expect(screen.getByTestId("line").dataset.delivery).toBe("failed");
    expect(screen.getByText(/30007 filtered as spam/)).toBeTruthy();
  });

  test("attachments are listed and opened through the core", async () => {
    answer({ open_attachment: () => null });
    render(ThreadLine, {
      line: line({
        id: 99,
        channel: "email",
        subject: "Invoice",
        attachments: [
          { name: "a.pdf", mime: "application/pdf", size: 2048, url: "https://evil.example/a.pdf" },
          { name: "b.png", mime: "image/png", size: 0, url: "https://evil.example/b.png" },
        ],
      }),
    });
    expect(screen.getByText("Invoice")).toBeTruthy();
    expect(screen.getByText("2 KB")).toBeTruthy();
    // Never from the address the provider gave.
    expect([...document.querySelectorAll("img")].map((i) => i.getAttribute("src"))).toEqual(["sbfile://localhost/message/99/1"]);
    await fireEvent.click(screen.getByRole("button", { name: "b.png" }));
    expect(callsTo("open_attachment")).toEqual([{ message_id: 99, index: 1 }]);
  });

  test("an image attachment shows as a thumbnail that opens the file; other files as chips", async () => {
    answer({ open_attachment: () => null });
    render(ThreadLine, {
      line: line({
        id: 5,
        attachments: [
          { name: "receipt.pdf", mime: "application/pdf", size: 48_213, url: "" },
          { name: "photo.jpg", mime: "image/jpeg", size: 120_000, url: "" },
          { name: "drawing.svg", mime: "image/svg+xml", size: 900, url: "" },
        ],
      }),
    });
    const img = screen.getByAltText("photo.jpg") as HTMLImageElement;
    expect(img.getAttribute("src")).toBe("sbfile://localhost/message/5/1");
    expect(img.getAttribute("loading")).toBe("lazy");
    expect(document.querySelectorAll("img")).toHaveLength(1);
    expect(screen.getByText("receipt.pdf")).toBeTruthy();
    expect(screen.getByText("47 KB")).toBeTruthy();
    expect(screen.getByText("drawing.svg")).toBeTruthy();
    await fireEvent.click(img);
    expect(callsTo("open_attachment")).toEqual([{ message_id: 5, index: 1 }]);
  });

  test("a pending reply shows its staged image; an image it cannot show stays a chip", () => {
    render(ThreadLine, {
      line: line({
        id: null,
        direction: "outbound",
        outbox: { id: 3, state: "pending", error: null },
        attachments: [
          { name: "staged.png", mime: "image/png", size: 10, url: "staged:41" },
          { name: "elsewhere.png", mime: "image/png", size: 2048, url: "https://evil.example/e.png" },
        ],
      }),
    });
    expect((screen.getByAltText("staged.png") as HTMLImageElement).getAttribute("src")).toBe("sbfile://localhost/staged/41");
    expect(document.querySelectorAll("img")).toHaveLength(1);
    expect(screen.getByText("elsewhere.png")).toBeTruthy();
  });

  test("an image that fails to load falls back to the file chip", async () => {
    render(ThreadLine, {
      line: line({ id: 8, attachments: [{ name: "broken.gif", mime: "image/gif", size: 4096, url: "" }] }),
    });
    await fireEvent.error(screen.getByAltText("broken.gif"));
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByText("broken.gif")).toBeTruthy();
    expect(screen.getByText("4 KB")).toBeTruthy();
  });

  test("a file that could run a program is not opened, and the agent is told why", async () => {
    const warning = "invoice.pdf.js could run a program, so it was saved and not opened; open it only if you trust it";
    answer({ open_attachment: () => ({ file_name: "invoice.pdf.js", warning }) });
    render(ThreadLine, {
      line: line({
        id: 7,
        channel: "email",
        attachments: [{ name: "invoice.pdf.js", mime: "text/javascript", size: 10, url: "/api/v1/blobs/3" }],
      }),
    });
    await fireEvent.click(screen.getByText("invoice.pdf.js"));
    await waitFor(() => expect(app.toasts.map((t) => t.text)).toContain(warning));
  });

  test("buttons offered with a reply show under its text, not tappable", () => {
    render(ThreadLine, {
      line: line({
        direction: "outbound",
        body: "Did that fix it?",
        choices: { style: "buttons", options: [{ id: "yes", title: "Yes" }, { id: "no", title: "No, still broken" }] },
      }),
    });
    const offered = screen.getByTestId("line-choices");
    expect(offered.dataset.style).toBe("buttons");
    expect([...offered.querySelectorAll("li")].map((c) => [c.textContent?.trim(), c.title])).toEqual([
      ["Yes", "Option id: yes"],
      ["No, still broken", "Option id: no"],
    ]);
    expect(offered.querySelector("button")).toBeNull();
    expect(screen.getByTestId("line-body").textContent).toBe("Did that fix it?");
    expect(screen.queryByTestId("line-chosen")).toBeNull();
  });

  test("a list offered shows its button, then its rows with their descriptions", () => {
    render(ThreadLine, {
      line: line({
        direction: "outbound",
        body: "Which time suits you?",
        choices: {
          style: "list",
          button: "See times",
          options: [
            { id: "tue-1000", title: "Tuesday 10:00", description: "At the shop on Main Street" },
            { id: "fri-0900", title: "Friday 09:00" },
          ],
        },
      }),
    });
    const offered = screen.getByTestId("line-choices");
    expect(offered.dataset.style).toBe("list");
    expect(offered.textContent).toContain("See times");
    const rows = [...offered.querySelectorAll("li")].map((r) => r.textContent?.replace(/\s+/g, " ").trim());
    expect(rows).toEqual(["Tuesday 10:00 At the shop on Main Street", "Friday 09:00"]);
    expect(offered.textContent?.indexOf("See times")).toBeLessThan(offered.textContent?.indexOf("Tuesday 10:00") ?? -1);
  });

  test("a customer's tap on a choice shows as an answer, with the option's id", () => {
    render(ThreadLine, {
      line: line({ body: "Wednesday 14:30", chosen: { id: "wed-1430", title: "Wednesday 14:30", offered_in: 900 } }),
    });
    const chosen = screen.getByTestId("line-chosen");
    expect(chosen.textContent).toContain("Chose: Wednesday 14:30");
    expect(chosen.title).toBe("Option id: wed-1430");
    expect(screen.queryByTestId("line-choices")).toBeNull();
    cleanup();
    render(ThreadLine, { line: line({ body: "Wednesday 14:30" }) });
    expect(screen.queryByTestId("line-chosen")).toBeNull();
  });

  test("a bot's line shows the bot's name and a Bot badge; people's lines have none", () => {
    render(ThreadLine, {
      line: line({ direction: "outbound", bot: "Northwind Assistant", author_name: null, body: "You can return it within 30 days." }),
    });
    const l = screen.getByTestId("line");
    expect(l.dataset.bot).toBe("Northwind Assistant");
    expect(l.getAttribute("aria-label")).toBe("Reply by the bot Northwind Assistant");
    expect(l.querySelector(".author")?.textContent).toBe("Northwind Assistant");
    expect(screen.getByTestId("bot-badge").textContent).toBe("Bot");
    expect(screen.queryByText("You")).toBeNull();
    cleanup();

    render(ThreadLine, { line: line({ direction: "outbound", author_name: "Ada", body: "Hi!" }) });
    expect(screen.queryByTestId("bot-badge")).toBeNull();
    expect(screen.getByTestId("line").querySelector(".author")?.textContent).toBe("Ada");
  });

  test("a long system line (a bot's handoff summary) is a wrapped block, its text whole", () => {
    const summary =
      "Handed over by the bot: the customer asked for a person. They want to return shoes bought five weeks ago as a present, past the 30-day window.";
    render(ThreadLine, { line: line({ direction: "system", body: summary }) });
    expect(screen.getByTestId("line-body").textContent).toBe(summary);
    expect(screen.getByTestId("line").querySelector(".system-text")?.classList.contains("long")).toBe(true);
    cleanup();
    render(ThreadLine, { line: line({ direction: "system", body: "Assigned to Ada" }) });
    expect(screen.getByTestId("line").querySelector(".system-text")?.classList.contains("long")).toBe(false);
  });

  test("system lines are centred text", () => {
    render(ThreadLine, { line: line({ direction: "system", body: "Assigned to Ada" }) });
    const l = screen.getByTestId("line");
    expect(l.dataset.direction).toBe("system");
    expect(screen.getByTestId("line-body").textContent).toBe("Assigned to Ada");
  });
});
