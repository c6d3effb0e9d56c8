// The keyboard shortcuts: a pure mapping from a key press (and where the focus is) to an
// action, plus the list the shortcuts overlay shows. The inbox carries the actions out.
import { t, type MessageKey } from "./i18n.svelte";

export type Action =
  | "next"
  | "prev"
  | "open"
  | "reply"
  | "note"
  | "assign"
  | "resolve"
  | "snooze"
  | "compose"
  | "search"
  | "presence"
  | "help"
  | "reports"
  | "campaigns"
  | "articles"
  | "close";

/** The parts of a KeyboardEvent the mapping reads. */
export interface KeyPress {
  key: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
}

/** Where the key was pressed and what is on screen. */
export interface KeyContext {
  /** The focus is in a text input, textarea, select or editable element. */
  typing: boolean;
  /** The focus is on a button, link or other control that Enter activates. */
  onControl?: boolean;
  /** A dialog or overlay is open (it handles its own keys). */
  overlay?: boolean;
  /** A thread is open. */
  thread: boolean;
  /** The agent may reassign (lead tools shown). */
  lead: boolean;
  /** The agent oversees teams (team load, reports and campaigns shown). */
  oversee?: boolean;
}

/** The action for a key press, or null when the key is not a shortcut here. */
export function actionFor(e: KeyPress, ctx: KeyContext): Action | null {
  if (e.key === "Escape") return "close";
  const mod = Boolean(e.ctrlKey || e.metaKey);
  if (mod && !e.altKey && (e.key === "k" || e.key === "K")) return "search";
  if (mod || e.altKey) return null;
  if (ctx.typing) return null;
  if (ctx.overlay) return e.key === "?" ? "help" : null;
  switch (e.key) {
    case "j":
      return "next";
    case "k":
      return "prev";
    case "Enter":
      return ctx.onControl ? null : "open";
    case "/":
      return "search";
    case "?":
      return "help";
    case "r":
      return ctx.thread ? "reply" : null;
    case "n":
      return ctx.thread ? "note" : null;
    case "a":
      return ctx.thread && ctx.lead ? "assign" : null;
    case "e":
      return ctx.thread ? "resolve" : null;
    case "s":
      return ctx.thread ? "snooze" : null;
    case "c":
      return "compose";
    case "p":
      return "presence";
    case "R":
      // Shift+R only: with Caps Lock on, r arrives as "R" without Shift and opens nothing.
      return e.shiftKey && ctx.oversee ? "reports" : null;
    case "C":
      // Shift+C only, as Shift+R: c alone writes a new message.
      return e.shiftKey && ctx.oversee ? "campaigns" : null;
    case "K":
      // Shift+K only, as Shift+R: k alone moves up. Everyone reads the knowledge base.
      return e.shiftKey ? "articles" : null;
    default:
      return null;
  }
}

/** True when typing into `el` should not trigger single-key shortcuts. */
export function isTypingTarget(el: EventTarget | null): boolean {
  if (!el || typeof (el as Element).tagName !== "string") return false;
  const e = el as HTMLElement;
  const tag = e.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (e as HTMLInputElement).type;
    return !["checkbox", "radio", "button", "submit", "reset", "range", "color", "file"].includes(type);
  }
  return e.isContentEditable === true;
}

/** True when Enter on `el` activates the element itself (so it is not "open the selection"). */
export function isControlTarget(el: EventTarget | null): boolean {
  if (!el || typeof (el as Element).tagName !== "string") return false;
  const e = el as HTMLElement;
  if (["BUTTON", "A", "INPUT", "SUMMARY"].includes(e.tagName)) return true;
  const role = e.getAttribute("role");
  return role === "button" || role === "link" || role === "menuitem" || role === "checkbox";
}

/** The shortcuts overlay's rows. */
export const SHORTCUTS: ReadonlyArray<{ keys: string[]; text: MessageKey; lead?: boolean; oversee?: boolean }> = [
  { keys: ["j"], text: "shortcut.next" },
  { keys: ["k"], text: "shortcut.prev" },
  { keys: ["Enter"], text: "shortcut.open" },
  { keys: ["r"], text: "shortcut.reply" },
  { keys: ["n"], text: "shortcut.note" },
  { keys: ["a"], text: "shortcut.assign", lead: true },
  { keys: ["e"], text: "shortcut.resolve" },
  { keys: ["s"], text: "shortcut.snooze" },
  { keys: ["c"], text: "shortcut.compose" },
  { keys: ["p"], text: "shortcut.presence" },
  { keys: ["Shift", "R"], text: "shortcut.reports", oversee: true },
  { keys: ["Shift", "C"], text: "shortcut.campaigns", oversee: true },
  { keys: ["Shift", "K"], text: "shortcut.articles" },
  { keys: ["/"], text: "shortcut.search" },
  { keys: ["Ctrl", "K"], text: "shortcut.searchCtrl" },
  { keys: ["Ctrl", "Enter"], text: "shortcut.send" },
  { keys: ["?"], text: "shortcut.help" },
  { keys: ["Esc"], text: "shortcut.close" },
];

const KEY_CAP: Record<string, MessageKey> = { Ctrl: "key.ctrl", Shift: "key.shift", Enter: "key.enter", Esc: "key.esc" };

/** A key's name on its cap, as keyboards in the language in force print it ("Strg" for Ctrl). */
export function keyCap(key: string): string {
  const k = KEY_CAP[key];
  return k ? t(k) : key;
}
