// Which language the console speaks: the languages it ships, each one's name and writing
// direction, and the choice between the agent's own pick and the computer's languages
// (`navigator.languages`), falling back to English. Pure: table tested.

/** The languages with a complete catalog in `src/locales/`, English first (the source). */
export const LOCALES = ["en", "de", "ar"] as const;

export type Locale = (typeof LOCALES)[number];

/** What the agent picked: one language, or whatever the computer is set to. */
export type LanguageChoice = Locale | "system";

/** Each language's name in itself, as the language menu lists it. */
export const LANGUAGE_NAME: Record<Locale, string> = { en: "English", de: "Deutsch", ar: "العربية" };

/** The direction each language is written in. */
export const DIRECTION: Record<Locale, "ltr" | "rtl"> = { en: "ltr", de: "ltr", ar: "rtl" };

/** The key under which this computer remembers the agent's pick. */
export const CHOICE_KEY = "switchboard.language";

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}

/** A remembered pick read back: anything that is not a shipped language means "system". */
export function parseChoice(stored: string | null | undefined): LanguageChoice {
  return isLocale(stored) ? stored : "system";
}

/** The shipped language for one BCP 47 tag ("de-AT" → de, "ar_EG" → ar), or null. */
export function shippedFor(tag: string): Locale | null {
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0] ?? "";
  return isLocale(primary) ? primary : null;
}

/** The language to show: the agent's pick, else the first of the computer's languages
 *  that ships, else English. */
export function chooseLocale(choice: LanguageChoice, systemLanguages: readonly string[]): Locale {
  if (choice !== "system") return choice;
  for (const tag of systemLanguages) {
    const locale = shippedFor(tag);
    if (locale) return locale;
  }
  return "en";
}
