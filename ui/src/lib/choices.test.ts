// Tests for the choice rules: what each channel carries, why choices cannot go (in the
// core's words), the ids options are sent with, and the choices a draft sends.
import { describe, expect, test } from "vitest";
import { choiceLimits, describeLimits, fromDraft, mostAnyStyle, offersList, optionId, refusal, unavailable } from "./choices";
import type { ChannelKind, Choice, Choices } from "./protocol";

const opts = (n: number, title = "Tuesday"): Choice[] => Array.from({ length: n }, (_, i) => ({ id: `o${i}`, title }));
const buttons = (n: number, title?: string): Choices => ({ style: "buttons", options: opts(n, title) });
const list = (n: number, button?: string, title = "Tuesday 10:00"): Choices => ({
  style: "list",
  ...(button === undefined ? {} : { button }),
  options: opts(n, title),
});
const described = (c: Choices, description: string): Choices => ({
  ...c,
  options: c.options.map((o, i) => (i === 0 ? { ...o, description } : o)),
});
const withIds = (c: Choices, ...ids: string[]): Choices => ({ ...c, options: c.options.map((o, i) => ({ ...o, id: ids[i] ?? o.id })) });

describe("refusal", () => {
  test.each<[string, ChannelKind, string, Choices, string | null]>([
    ["three WhatsApp buttons", "whatsapp", "Pick a time", buttons(3), null],
    ["a fourth WhatsApp button", "whatsapp", "Pick a time", buttons(4), "WhatsApp offers 1 to 3 choices this way"],
    ["no options", "whatsapp", "Pick a time", buttons(0), "WhatsApp offers 1 to 3 choices this way"],
    ["a WhatsApp button of 20 characters", "whatsapp", "Pick", buttons(1, "x".repeat(20)), null],
    [
      "a WhatsApp button of 21 characters",
      "whatsapp",
      "Pick",
      buttons(1, "Tuesday at ten o'clock"),
      "`Tuesday at ten o'clock`: a choice's title is 1 to 20 characters on WhatsApp",
    ],
    ["a WhatsApp row of 24 characters", "whatsapp", "Pick", list(1, "See times", "y".repeat(24)), null],
    ["a WhatsApp row of 25 characters", "whatsapp", "Pick", list(1, "See times", "y".repeat(25)), expect.stringContaining("1 to 24 characters")],
    ["titles are counted in characters, not UTF-16 units", "whatsapp", "Pick", buttons(1, "👍".repeat(20)), null],
    ["a WhatsApp list of 10", "whatsapp", "Pick a time", list(10, "See times"), null],
    ["a WhatsApp list of 11", "whatsapp", "Pick a time", list(11, "See times"), "WhatsApp offers 1 to 10 choices this way"],
    ["a list with no button", "whatsapp", "Pick a time", list(3), "a list needs a button of 1 to 20 characters that opens it"],
    ["a list with a blank button", "whatsapp", "Pick a time", list(3, "   "), "a list needs a button of 1 to 20 characters that opens it"],
    ["a list's button of 21 characters", "whatsapp", "Pick", list(3, "z".repeat(21)), "a list needs a button of 1 to 20 characters that opens it"],
    ["a described WhatsApp row", "whatsapp", "Pick", described(list(2, "See times"), "At the shop on Main Street"), null],
    ["a description of 73 characters", "whatsapp", "Pick", described(list(2, "See times"), "d".repeat(73)), "`Tuesday 10:00`: a description is at most 72 characters"],
    ["a described button", "whatsapp", "Pick", described(buttons(2, "Yes"), "x"), "`Yes`: WhatsApp shows no description with this choice"],
    ["no text", "whatsapp", "  ", buttons(2, "Yes"), "choices need a message to go with them"],
    ["WhatsApp text of 1,025 characters", "whatsapp", "a".repeat(1025), buttons(2, "Yes"), "WhatsApp carries at most 1024 characters with choices"],
    ["two options with one id", "whatsapp", "Pick", withIds(buttons(2, "Yes"), "o0", "o0"), "two choices have the id `o0`"],
    ["an option with no id", "whatsapp", "Pick", withIds(buttons(2, "Yes"), "o0", " "), "choice 2 needs an id of 1 to 200 characters"],
    ["an option with no title", "whatsapp", "Pick", buttons(2, " "), "choice 1 needs a title"],
    ["13 Messenger quick replies", "messenger", "Pick", buttons(13, "Yes"), null],
    ["14 Messenger quick replies", "messenger", "Pick", buttons(14, "Yes"), "Messenger offers 1 to 13 choices this way"],
    ["a Messenger list", "messenger", "Pick", list(3, "See"), "Messenger shows no lists; offer the choices as buttons"],
    ["Instagram quick replies", "instagram", "Pick", buttons(2, "Yes"), null],
    ["an Instagram list", "instagram", "Pick", list(2, "See"), "Instagram shows no lists; offer the choices as buttons"],
    ["web chat buttons of 40 characters", "webchat", "Pick", buttons(10, "w".repeat(40)), null],
    ["web chat buttons of 41 characters", "webchat", "Pick", buttons(1, "w".repeat(41)), expect.stringContaining("1 to 40 characters on Web chat")],
    ["a described web chat list", "webchat", "Pick", described(list(10, "b".repeat(40)), "d".repeat(72)), null],
    ["no in-app buttons", "in_app", "Pick", buttons(0, "Yes"), "In-app chat offers 1 to 10 choices this way"],
    ["11 in-app buttons", "in_app", "Pick", buttons(11, "Yes"), "In-app chat offers 1 to 10 choices this way"],
    ["SMS", "sms", "Pick", buttons(2, "Yes"), "SMS cannot carry buttons or lists"],
    ["SMS with no text", "sms", "", buttons(2, "Yes"), "SMS cannot carry buttons or lists"],
    ["email", "email", "Pick", list(2, "See"), "Email cannot carry buttons or lists"],
  ])("%s", (_, channel, body, choices, want) => {
    expect(refusal(channel, body, choices)).toEqual(want);
  });
});

describe("what each channel carries", () => {
  test.each<[ChannelKind, boolean, number, string | null]>([
    ["whatsapp", true, 10, null],
    ["messenger", false, 13, null],
    ["instagram", false, 13, null],
    ["webchat", true, 10, null],
    ["in_app", true, 10, null],
    ["sms", false, 0, "SMS cannot carry buttons or lists"],
    ["email", false, 0, "Email cannot carry buttons or lists"],
  ])("%s: list %s, at most %s options", (channel, list, most, why) => {
    expect(offersList(channel)).toBe(list);
    expect(mostAnyStyle(channel)).toBe(most);
    expect(unavailable(channel)).toBe(why);
    expect(choiceLimits(channel) === null).toBe(why !== null);
  });

  test("the editor's sentence follows the style", () => {
    expect(describeLimits("whatsapp", "buttons")).toBe("WhatsApp: up to 3 buttons, titles up to 20 characters");
    expect(describeLimits("whatsapp", "list")).toBe("WhatsApp: a list of up to 10 choices, titles up to 24 characters, descriptions up to 72");
    expect(describeLimits("messenger", "list")).toBe("Messenger: up to 13 buttons, titles up to 20 characters");
    expect(describeLimits("sms", "buttons")).toBe("SMS cannot carry buttons or lists");
  });
});

describe("optionId", () => {
  test.each<[string, string, string[], string]>([
    ["lower case, spaces as dashes", "Yes please", [], "yes-please"],
    ["punctuation dropped", "Tue 10:00!", [], "tue-1000"],
    ["accents dropped", "Café crème", [], "cafe-creme"],
    ["runs of spaces and dashes as one dash", "  A -  B  ", [], "a-b"],
    ["a taken id gets -2", "Yes", ["yes"], "yes-2"],
    ["then -3", "Yes", ["yes", "yes-2"], "yes-3"],
    ["nothing left: option-N by its place", "はい 🙂", ["a", "b"], "option-3"],
    ["an empty title", "", [], "option-1"],
    ["a fallback already taken", "", ["option-1"], "option-2"],
    ["long titles are cut", "x".repeat(80), [], "x".repeat(64)],
  ])("%s", (_, title, taken, want) => {
    expect(optionId(title, taken)).toBe(want);
  });
});

describe("fromDraft", () => {
  test("buttons: trimmed titles and ids from them; descriptions and the button are not sent", () => {
    const options = [
      { title: " Yes ", description: "kept for a list" },
      { title: "No", description: "" },
      { title: "Yes", description: "" },
    ];
    expect(fromDraft({ style: "buttons", button: "See", options })).toEqual({
      style: "buttons",
      options: [
        { id: "yes", title: "Yes" },
        { id: "no", title: "No" },
        { id: "yes-2", title: "Yes" },
      ],
    });
  });

  test("a list: its button and the descriptions given", () => {
    const options = [
      { title: "Tue 10:00", description: " Main Street " },
      { title: "Wed 14:00", description: "  " },
    ];
    expect(fromDraft({ style: "list", button: " See times ", options })).toEqual({
      style: "list",
      button: "See times",
      options: [
        { id: "tue-1000", title: "Tue 10:00", description: "Main Street" },
        { id: "wed-1400", title: "Wed 14:00" },
      ],
    });
  });
});
