// The message catalogs against English, the source: every catalog has exactly English's
// keys, each translation takes the same placeholders and markup tags as its English
// message, every message parses as ICU MessageFormat (plurals and selects with their
// `other` case) and formats in its own language without an error.
import { parse, TYPE, type MessageFormatElement } from "@formatjs/icu-messageformat-parser";
import { IntlMessageFormat } from "intl-messageformat";
import { describe, expect, test } from "vitest";
import { CATALOGS } from "../lib/i18n.svelte";
import { LOCALES } from "../lib/language";
import en from "./en.json";

type Used = { args: Set<string>; tags: Set<string>; plurals: Set<string>; selects: Set<string> };

function walk(elements: MessageFormatElement[], used: Used): Used {
  for (const el of elements) {
    switch (el.type) {
      case TYPE.argument:
      case TYPE.number:
      case TYPE.date:
      case TYPE.time:
        used.args.add(el.value);
        break;
      case TYPE.plural:
        used.args.add(el.value);
        used.plurals.add(el.value);
        for (const o of Object.values(el.options)) walk(o.value, used);
        break;
      case TYPE.select:
        used.args.add(el.value);
        used.selects.add(el.value);
        for (const o of Object.values(el.options)) walk(o.value, used);
        break;
      case TYPE.tag:
        used.tags.add(el.value);
        walk(el.children, used);
        break;
      default:
        break;
    }
  }
  return used;
}

function usedBy(message: string): Used {
  return walk(parse(message), { args: new Set(), tags: new Set(), plurals: new Set(), selects: new Set() });
}

const sorted = (s: Set<string>) => [...s].sort();
const keys = Object.keys(en) as Array<keyof typeof en>;

describe.each(LOCALES.filter((l) => l !== "en"))("the %s catalog", (locale) => {
  const catalog: Record<string, string> = CATALOGS[locale];

  test("has exactly the keys English has", () => {
    const missing = keys.filter((k) => !(k in catalog));
    const extra = Object.keys(catalog).filter((k) => !(k in en));
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  });

  test("translates every message (none left empty)", () => {
    const empty = keys.filter((k) => !catalog[k]?.trim() && en[k].trim());
    expect(empty).toEqual([]);
  });

  test.each(keys)("%s takes English's placeholders and tags", (key) => {
    const theirs = usedBy(catalog[key] ?? "");
    const ours = usedBy(en[key]);
    expect({ args: sorted(theirs.args), tags: sorted(theirs.tags) }).toEqual({ args: sorted(ours.args), tags: sorted(ours.tags) });
  });
});

describe.each(LOCALES)("every %s message", (locale) => {
  const catalog: Record<string, string> = CATALOGS[locale];

  test.each(keys)("%s formats", (key) => {
    const message = catalog[key] ?? "";
    const used = usedBy(message);
    const values: Record<string, unknown> = {};
    for (const a of used.args) values[a] = used.plurals.has(a) ? 3 : used.selects.has(a) ? "another" : "x";
    for (const tag of used.tags) values[tag] = (chunks: unknown[]) => chunks.join("");
    const format = new IntlMessageFormat(message, locale);
    for (const n of [0, 1, 2, 3, 11, 100, 1000]) {
      for (const a of used.plurals) values[a] = n;
      const out = format.format(values as never);
      expect(typeof (Array.isArray(out) ? out.join("") : out)).toBe("string");
    }
  });
});

describe("plurals", () => {
  /** The categories each plural argument of a message distinguishes. */
  function categories(elements: MessageFormatElement[], out: Map<string, string[]>): Map<string, string[]> {
    for (const el of elements) {
      if (el.type === TYPE.plural) out.set(el.value, Object.keys(el.options));
      if (el.type === TYPE.plural || el.type === TYPE.select) for (const o of Object.values(el.options)) categories(o.value, out);
      if (el.type === TYPE.tag) categories(el.children, out);
    }
    return out;
  }

  // A count English words as one or many takes every form the language has.
  test.each(LOCALES.filter((l) => l !== "en"))("%s words each count with its own plural forms", (locale) => {
    const needed = new Intl.PluralRules(locale).resolvedOptions().pluralCategories.filter((c) => c !== "zero");
    const short: string[] = [];
    for (const key of keys) {
      const english = categories(parse(en[key]), new Map());
      const theirs = categories(parse(CATALOGS[locale][key]), new Map());
      for (const [arg, cases] of english) {
        if (!cases.includes("one")) continue;
        const got = theirs.get(arg);
        if (got && needed.some((c) => !got.includes(c))) short.push(`${key} (${arg})`);
      }
    }
    expect(short).toEqual([]);
  });
});
