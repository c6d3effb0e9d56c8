// The language choice: the agent's pick wins; otherwise the first of the computer's
// languages the console ships; otherwise English. Table tested.
import { describe, expect, test } from "vitest";
import { chooseLocale, parseChoice, shippedFor, type LanguageChoice, type Locale } from "./language";

describe("chooseLocale", () => {
  test.each<[string, LanguageChoice, string[], Locale]>([
    ["English computer", "system", ["en-US", "en"], "en"],
    ["German computer", "system", ["de-DE", "de"], "de"],
    ["Austrian German", "system", ["de-AT"], "de"],
    ["Egyptian Arabic", "system", ["ar-EG", "ar"], "ar"],
    ["underscore tags", "system", ["ar_SA"], "ar"],
    ["upper-case tags", "system", ["DE-CH"], "de"],
    ["an unshipped language first, a shipped one next", "system", ["fr-FR", "de-DE", "en"], "de"],
    ["only unshipped languages", "system", ["fr-FR", "ja"], "en"],
    ["no languages at all", "system", [], "en"],
    ["the pick beats the computer", "ar", ["de-DE", "en"], "ar"],
    ["English picked on a German computer", "en", ["de-DE"], "en"],
    ["German picked on a computer with nothing shipped", "de", ["ja"], "de"],
  ])("%s", (_, choice, system, expected) => {
    expect(chooseLocale(choice, system)).toBe(expected);
  });
});

describe("parseChoice", () => {
  test.each<[string | null | undefined, LanguageChoice]>([
    [null, "system"],
    [undefined, "system"],
    ["", "system"],
    ["system", "system"],
    ["de", "de"],
    ["ar", "ar"],
    ["en", "en"],
    ["fr", "system"],
    ["de-DE", "system"],
  ])("%s → %s", (stored, expected) => {
    expect(parseChoice(stored)).toBe(expected);
  });
});

describe("shippedFor", () => {
  test.each<[string, Locale | null]>([
    ["en", "en"],
    ["en-GB", "en"],
    ["de-CH", "de"],
    ["ar-MA", "ar"],
    [" ar ", "ar"],
    ["pt-BR", null],
    ["", null],
  ])("%s → %s", (tag, expected) => {
    expect(shippedFor(tag)).toBe(expected);
  });
});
