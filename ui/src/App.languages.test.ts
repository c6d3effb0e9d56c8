// The whole console in each shipped language against the fake core: the sign-in screen,
// the inbox and a dialog show the language's words (no catalog key, no unfilled
// placeholder), the page says its language and direction (right to left for Arabic), a
// customer's words keep their own direction, and the agent's pick applies at once and is
// remembered.
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import App from "./App.svelte";
import { MockCore } from "./dev/mockCore";
import { CATALOGS, language, tIn } from "./lib/i18n.svelte";
import { CHOICE_KEY, LOCALES, type Locale } from "./lib/language";
import { app } from "./lib/stores.svelte";
import { answer, answerWith, fire } from "./test/tauri";

vi.mock("@tauri-apps/api/core", async () => ({ invoke: (await import("./test/tauri")).invoke }));
vi.mock("@tauri-apps/api/event", async () => ({ listen: (await import("./test/tauri")).listen }));

function start(as: string | null) {
  const core = new MockCore({ conversations: 40, signedInAs: as });
  core.emit = (e) => fire("console", e);
  answer({});
  answerWith((cmd, args) => core.handle(cmd, args));
  return render(App, {});
}

const KEYS = new Set(Object.keys(CATALOGS.en));

/** Words on screen that are a catalog key or hold an unfilled `{placeholder}`. */
function untranslated(root: Element): string[] {
  const found: string[] = [];
  const check = (text: string | null) => {
    const t = text?.trim();
    if (!t) return;
    if (KEYS.has(t) || /\{[a-zA-Z]+(,[^}]*)?\}/.test(t.replace(/\{\{\d+\}\}/g, ""))) found.push(t);
  };
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) check(n.textContent);
  for (const el of root.querySelectorAll("*")) {
    for (const attr of ["aria-label", "title", "placeholder", "alt"]) check(el.getAttribute(attr));
  }
  return found;
}

beforeEach(() => {
  app.signedIn(null);
  localStorage.clear();
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockReturnValue(null);
});

afterEach(() => {
  cleanup();
  answerWith(null);
  vi.restoreAllMocks();
  language.choose("system");
});

describe.each(LOCALES)("in %s", (locale: Locale) => {
  test("the sign-in screen", async () => {
    language.choose(locale);
    start(null);
    const signin = await screen.findByTestId("signin");
    expect(within(signin).getByRole("heading", { level: 1 }).textContent).toBe(tIn(locale, "signin.title"));
    expect(untranslated(document.body)).toEqual([]);
  });

  test("the inbox, a conversation and the notification settings", async () => {
    language.choose(locale);
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    expect(document.documentElement.lang).toBe(locale);
    expect(document.documentElement.dir).toBe(locale === "ar" ? "rtl" : "ltr");
    expect(screen.getByTestId("new-message").textContent).toBe(tIn(locale, "inbox.newMessage"));
    expect((await screen.findByTestId("view-mine")).textContent).toContain(tIn(locale, "view.mine"));

    const rows = await screen.findAllByTestId("conversation-row");
    await fireEvent.click(rows[0]!);
    const thread = await screen.findByTestId("thread");
    await waitFor(() => expect(within(thread).getAllByTestId("line-body").length).toBeGreaterThan(0));
    // A customer's words read in their own direction inside the console's.
    for (const body of within(thread).getAllByTestId("line-body")) expect(body.getAttribute("dir")).toBe("auto");
    expect(screen.getByTestId("composer-input").getAttribute("dir")).toBe("auto");

    await fireEvent.click(await screen.findByTestId("notification-settings-open"));
    const dialog = await screen.findByTestId("notification-settings");
    await within(dialog).findByTestId("pref-sound");
    expect(within(dialog).getByRole("heading", { level: 2 }).textContent).toBe(tIn(locale, "prefs.title"));
    expect(dialog.getAttribute("aria-label")).toBe(tIn(locale, "account.notificationSettings"));

    expect(untranslated(document.body)).toEqual([]);
  });
});

describe("choosing the language", () => {
  test("follows the computer, and the pick in the settings applies at once and is remembered", async () => {
    start("ada@demo.switchboard");
    await screen.findByTestId("inbox");
    expect(document.documentElement.lang).toBe("en");
    expect(screen.getByTestId("new-message").textContent).toBe("New message");

    await fireEvent.click(await screen.findByTestId("notification-settings-open"));
    const settings = await screen.findByTestId("notification-settings");
    const picker = within(settings).getByTestId("language") as HTMLSelectElement;
    expect(picker.value).toBe("system");
    expect(picker.options[0]?.textContent).toBe("Computer's language (English)");
    await fireEvent.change(picker, { target: { value: "ar" } });
    await waitFor(() => expect(screen.getByTestId("new-message").textContent).toBe("رسالة جديدة"));
    expect(document.documentElement.dir).toBe("rtl");
    expect(localStorage.getItem(CHOICE_KEY)).toBe("ar");

    expect(within(settings).getByRole("heading", { level: 2 }).textContent).toBe("الإشعارات");

    await fireEvent.change(picker, { target: { value: "de" } });
    await waitFor(() => expect(screen.getByTestId("new-message").textContent).toBe("Neue Nachricht"));
    expect(document.documentElement).toMatchObject({ lang: "de", dir: "ltr" });
    expect(picker.options[0]?.textContent).toBe("Sprache des Computers (English)");

    await fireEvent.change(picker, { target: { value: "system" } });
    await waitFor(() => expect(screen.getByTestId("new-message").textContent).toBe("New message"));
    expect(localStorage.getItem(CHOICE_KEY)).toBeNull();
  });
});
