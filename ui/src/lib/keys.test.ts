// Table tests for the keyboard shortcut mapping.
import { describe, expect, test } from "vitest";
import { actionFor, isControlTarget, isTypingTarget, type KeyContext, type KeyPress } from "./keys";

const idle: KeyContext = { typing: false, thread: true, lead: false };
const lead: KeyContext = { ...idle, lead: true };
const typing: KeyContext = { ...idle, typing: true };
const noThread: KeyContext = { ...idle, thread: false };
const overlay: KeyContext = { ...idle, overlay: true };
const onButton: KeyContext = { ...idle, onControl: true };

const k = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({ key, ...mods });

describe("actionFor", () => {
  test.each<[string, KeyPress, KeyContext, string | null]>([
    ["j moves down", k("j"), idle, "next"],
    ["k moves up", k("k"), idle, "prev"],
    ["Enter opens", k("Enter"), idle, "open"],
    ["Enter on a button is the button's", k("Enter"), onButton, null],
    ["r replies", k("r"), idle, "reply"],
    ["n writes a note", k("n"), idle, "note"],
    ["e resolves", k("e"), idle, "resolve"],
    ["s snoozes", k("s"), idle, "snooze"],
    ["p switches presence, thread open or not", k("p"), noThread, "presence"],
    ["c writes a new message, thread open or not", k("c"), noThread, "compose"],
    ["c with a thread open", k("c"), idle, "compose"],
    ["c is text while typing", k("c"), typing, null],
    ["c waits while a dialog is open", k("c"), overlay, null],
    ["upper-case C is not c", k("C"), idle, null],
    ["a assigns for leads", k("a"), lead, "assign"],
    ["a does nothing for agents", k("a"), idle, null],
    ["/ searches", k("/"), idle, "search"],
    ["? shows shortcuts", k("?"), idle, "help"],
    ["Escape closes", k("Escape"), idle, "close"],
    ["Ctrl-K searches", k("k", { ctrlKey: true }), idle, "search"],
    ["Cmd-K searches", k("k", { metaKey: true }), idle, "search"],
    ["Ctrl-K searches while typing", k("k", { ctrlKey: true }), typing, "search"],
    ["Escape works while typing", k("Escape"), typing, "close"],
    ["j is text while typing", k("j"), typing, null],
    ["r is text while typing", k("r"), typing, null],
    ["/ is text while typing", k("/"), typing, null],
    ["? is text while typing", k("?"), typing, null],
    ["Enter is text while typing", k("Enter"), typing, null],
    ["r needs an open thread", k("r"), noThread, null],
    ["e needs an open thread", k("e"), noThread, null],
    ["s needs an open thread", k("s"), noThread, null],
    ["a needs an open thread", k("a"), { ...lead, thread: false }, null],
    ["j works without a thread", k("j"), noThread, "next"],
    ["Ctrl-J is not j", k("j", { ctrlKey: true }), idle, null],
    ["Alt-R is not r", k("r", { altKey: true }), idle, null],
    ["Ctrl-Alt-K is not search", k("k", { ctrlKey: true, altKey: true }), idle, null],
    ["upper-case J is not j", k("J"), idle, null],
    ["Shift+R opens the reports for those who oversee", k("R", { shiftKey: true }), { ...noThread, oversee: true }, "reports"],
    ["Shift+R works with a thread open", k("R", { shiftKey: true }), { ...idle, oversee: true }, "reports"],
    ["Shift+R does nothing for agents", k("R", { shiftKey: true }), idle, null],
    ["Caps Lock R is not Shift+R", k("R"), { ...idle, oversee: true }, null],
    ["Shift+R is text while typing", k("R", { shiftKey: true }), { ...typing, oversee: true }, null],
    ["Shift+C opens the campaigns for those who oversee", k("C", { shiftKey: true }), { ...noThread, oversee: true }, "campaigns"],
    ["Shift+C works with a thread open", k("C", { shiftKey: true }), { ...idle, oversee: true }, "campaigns"],
    ["Shift+C does nothing for agents", k("C", { shiftKey: true }), idle, null],
    ["Caps Lock C is neither c nor Shift+C", k("C"), { ...idle, oversee: true }, null],
    ["Shift+C is text while typing", k("C", { shiftKey: true }), { ...typing, oversee: true }, null],
    ["Shift+C waits while a dialog is open", k("C", { shiftKey: true }), { ...overlay, oversee: true }, null],
    ["Shift+K opens the knowledge base for everyone", k("K", { shiftKey: true }), noThread, "articles"],
    ["Shift+K works with a thread open", k("K", { shiftKey: true }), idle, "articles"],
    ["Caps Lock K is neither k nor Shift+K", k("K"), idle, null],
    ["Shift+K is text while typing", k("K", { shiftKey: true }), typing, null],
    ["Shift+K waits while a dialog is open", k("K", { shiftKey: true }), overlay, null],
    ["Ctrl+Shift+K still searches", k("K", { ctrlKey: true, shiftKey: true }), idle, "search"],
    ["other keys do nothing", k("x"), idle, null],
    ["dialogs keep their keys", k("j"), overlay, null],
    ["? closes the overlay", k("?"), overlay, "help"],
    ["Escape in a dialog", k("Escape"), overlay, "close"],
  ])("%s", (_name, press, ctx, expected) => {
    expect(actionFor(press, ctx)).toBe(expected);
  });
});

describe("targets", () => {
  test("typing targets", () => {
    const text = document.createElement("input");
    const box = document.createElement("input");
    box.type = "checkbox";
    expect(isTypingTarget(text)).toBe(true);
    expect(isTypingTarget(document.createElement("textarea"))).toBe(true);
    expect(isTypingTarget(document.createElement("select"))).toBe(true);
    expect(isTypingTarget(box)).toBe(false);
    expect(isTypingTarget(document.createElement("div"))).toBe(false);
    expect(isTypingTarget(null)).toBe(false);
  });
  test("control targets", () => {
    expect(isControlTarget(document.createElement("button"))).toBe(true);
    const div = document.createElement("div");
    expect(isControlTarget(div)).toBe(false);
    div.setAttribute("role", "button");
    expect(isControlTarget(div)).toBe(true);
  });
});
