// Dialogs are modal: focus moves in, Tab stays inside, Escape closes, focus goes back.
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { afterEach, expect, test, vi } from "vitest";
import ShortcutsOverlay from "./ShortcutsOverlay.svelte";

afterEach(() => cleanup());

test("focus in, Tab trapped, Escape closes, focus returned", async () => {
  const opener = document.createElement("button");
  document.body.appendChild(opener);
  opener.focus();
  const onclose = vi.fn();
  const { unmount } = render(ShortcutsOverlay, { lead: false, onclose });
  const dialog = screen.getByTestId("shortcuts");
  expect(dialog.getAttribute("role")).toBe("dialog");
  expect(dialog.getAttribute("aria-modal")).toBe("true");
  const close = screen.getByText("Close");
  expect(document.activeElement).toBe(close);
  // The only control: Tab and Shift+Tab stay on it.
  await fireEvent.keyDown(close, { key: "Tab" });
  expect(document.activeElement).toBe(close);
  await fireEvent.keyDown(close, { key: "Tab", shiftKey: true });
  expect(document.activeElement).toBe(close);
  // Agents do not see the lead-only shortcut.
  expect(dialog.textContent).not.toContain("Assign…");
  await fireEvent.keyDown(close, { key: "Escape" });
  expect(onclose).toHaveBeenCalledTimes(1);
  unmount();
  expect(document.activeElement).toBe(opener);
  opener.remove();
});
