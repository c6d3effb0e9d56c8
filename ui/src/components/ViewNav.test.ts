// The views the core counts, the one a bot answers among them ("With bot", with its icon),
// and the way to the knowledge base, which everyone gets.
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { afterEach, expect, test, vi } from "vitest";
import ViewNav from "./ViewNav.svelte";

afterEach(() => cleanup());

const counts = [
  { view: "mine" as const, total: 4, unread: 1 },
  { view: "bot" as const, total: 7, unread: 0 },
  { view: "closed" as const, total: 90, unread: 0 },
];

function nav(extra: { onarticles?: () => void; oversee?: boolean } = {}) {
  return render(ViewNav, {
    counts,
    view: "mine",
    onselect: () => {},
    oversee: extra.oversee ?? false,
    loadOpen: false,
    ontoggleload: () => {},
    onreports: () => {},
    oncampaigns: () => {},
    ...(extra.onarticles ? { onarticles: extra.onarticles } : {}),
  });
}

test("the bot's view is With bot, marked with its icon; the others have none", () => {
  nav();
  const bot = screen.getByTestId("view-bot");
  expect(within(bot).getByText("With bot")).toBeTruthy();
  expect(within(bot).getByTestId("count").textContent).toBe("7");
  expect(bot.querySelector("svg")).toBeTruthy();
  expect(screen.getByTestId("view-mine").querySelector("svg")).toBeNull();
});

test("everyone gets the knowledge base, with its shortcut", async () => {
  const onarticles = vi.fn();
  nav({ onarticles });
  const open = screen.getByTestId("open-articles");
  expect(open.textContent).toContain("Knowledge base");
  expect(open.getAttribute("aria-keyshortcuts")).toBe("Shift+K");
  expect(screen.queryByTestId("open-reports")).toBeNull();
  await fireEvent.click(open);
  expect(onarticles).toHaveBeenCalledTimes(1);
});
