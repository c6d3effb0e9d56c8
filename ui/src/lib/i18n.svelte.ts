// The console's words in the agent's language: the message catalogs (`src/locales/*.json`,
// ICU MessageFormat, English the source whose keys every other catalog must have), the
// language in force (the agent's pick, remembered on this computer, else the computer's
// own languages) and the functions that put values into a message. Reading `t()` inside a
// template or a `$derived` makes it follow a change of language at once.
import { IntlMessageFormat } from "intl-messageformat";
import type { MessageFormatElement } from "@formatjs/icu-messageformat-parser";
import ar from "../locales/ar.json";
import de from "../locales/de.json";
import en from "../locales/en.json";
import { CHOICE_KEY, DIRECTION, chooseLocale, parseChoice, type LanguageChoice, type Locale } from "./language";

export type MessageKey = keyof typeof en;

/** Every catalog has every English key (svelte-check fails here on a missing one; the
 *  catalog test also fails on an extra one or on placeholders that differ). */
export const CATALOGS: Record<Locale, Record<MessageKey, string>> = { en, de, ar };

/** A message's values: numbers (plurals, counts), words, dates. */
export type Values = Record<string, string | number | Date | null | undefined>;

function storedChoice(): LanguageChoice {
  try {
    return parseChoice(globalThis.localStorage?.getItem(CHOICE_KEY));
  } catch {
    return "system";
  }
}

function systemLanguages(): readonly string[] {
  return typeof navigator === "undefined" ? [] : (navigator.languages ?? [navigator.language]);
}

class Language {
  /** The agent's pick on this computer. */
  choice = $state<LanguageChoice>(storedChoice());
  /** The computer's languages, most preferred first. */
  system = $state<readonly string[]>(systemLanguages());
  /** The language in force. */
  readonly locale: Locale = $derived(chooseLocale(this.choice, this.system));

  get dir(): "ltr" | "rtl" {
    return DIRECTION[this.locale];
  }

  /** Takes the agent's pick, remembers it and applies it at once. */
  choose(choice: LanguageChoice): void {
    this.choice = choice;
    try {
      if (choice === "system") globalThis.localStorage?.removeItem(CHOICE_KEY);
      else globalThis.localStorage?.setItem(CHOICE_KEY, choice);
    } catch {
      // Not remembered (storage refused); it still holds until the app closes.
    }
  }

  /** Reads the computer's languages again (they changed while the app runs). */
  refreshSystem(): void {
    this.system = systemLanguages();
  }
}

export const language = new Language();

/** A message ready to format; `literal` when it has no placeholder, plural or tag, so
 *  reading it costs a lookup (the thread and the list read many such labels per render). */
type Compiled = { format: IntlMessageFormat; tags: string[]; literal: string | null };
const compiled = new Map<string, Compiled>();

function tagsOf(elements: MessageFormatElement[], out: Set<string>): Set<string> {
  for (const el of elements) {
    if ("children" in el && Array.isArray(el.children)) {
      out.add((el as { value: string }).value);
      tagsOf(el.children, out);
    }
    if ("options" in el) for (const o of Object.values(el.options)) tagsOf(o.value, out);
  }
  return out;
}

function compile(locale: Locale, key: MessageKey): Compiled {
  const id = `${locale}:${key}`;
  let c = compiled.get(id);
  if (!c) {
    const source = CATALOGS[locale][key] ?? en[key] ?? key;
    const format = new IntlMessageFormat(source, locale);
    // Without ICU syntax (braces, tags, quoting) a message is its own text.
    const literal = /[{}<>']/.test(source) ? null : source;
    c = { format, tags: [...tagsOf(format.getAst(), new Set())], literal };
    compiled.set(id, c);
  }
  return c;
}

/** A part of a message with markup: plain text, or the text inside one tag (`<bdi>…</bdi>`). */
export type RichPart = string | { tag: string; text: string };

function textOf(chunks: ReadonlyArray<unknown>): string {
  return chunks.map((c) => (typeof c === "object" && c !== null && "text" in c ? String(c.text) : String(c))).join("");
}

function run(locale: Locale, key: MessageKey, values: Values | undefined, rich: boolean): RichPart[] {
  const { format, tags, literal } = compile(locale, key);
  if (literal !== null) return [literal];
  const all: Record<string, unknown> = { ...values };
  for (const tag of tags) {
    all[tag] = rich ? (chunks: unknown[]) => ({ tag, text: textOf(chunks) }) : (chunks: unknown[]) => textOf(chunks);
  }
  const out = format.format(all as never) as unknown;
  const parts = Array.isArray(out) ? out : [out];
  return parts.map((p) => (typeof p === "object" && p !== null ? (p as RichPart) : String(p)));
}

function attempt(key: MessageKey, values: Values | undefined, rich: boolean, locale: Locale = language.locale): RichPart[] {
  try {
    return run(locale, key, values, rich);
  } catch {
    if (locale !== "en") return attempt(key, values, rich, "en");
    return [key];
  }
}

/** The message `key` in the language in force, with `values` put in; markup tags keep only
 *  their text. */
export function t(key: MessageKey, values?: Values): string {
  return textOf(attempt(key, values, false));
}

/** The message `key` as parts, each tag's text apart, for a component to render the tags
 *  as elements. */
export function rich(key: MessageKey, values?: Values): RichPart[] {
  return attempt(key, values, true);
}

/** The message `key` in a given language (tests, and the language menu's own words). */
export function tIn(locale: Locale, key: MessageKey, values?: Values): string {
  return textOf(attempt(key, values, false, locale));
}

/** A record of labels, each read from the catalog when it is read (so it follows the
 *  language), for the places that look a label up by its kind. */
export function labels<K extends string>(kinds: readonly K[], key: (kind: K) => MessageKey): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const kind of kinds) {
    Object.defineProperty(out, kind, { enumerable: true, get: () => t(key(kind)) });
  }
  return out;
}
