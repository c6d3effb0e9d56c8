// Choices a reply offers the customer to answer with a tap: reply buttons and lists on
// WhatsApp, quick replies on Messenger and Instagram, buttons in the web-chat widget and
// in-app chat. What each channel carries, why a set of choices cannot go (the core checks
// the same rules again before queueing the reply; these answer at once, while the agent
// writes), and the ids the options are sent with. No DOM, no state: everything here is
// unit tested.
import { CHANNEL_LABEL } from "./format";
import { t } from "./i18n.svelte";
import type { ChannelKind, ChoiceStyle, Choices } from "./protocol";

/** What a channel carries with one message. */
export type ChoiceLimits = {
  /** The most options shown as buttons. */
  buttons: number;
  /** The most rows of a list; 0 where the channel shows no list. */
  rows: number;
  /** The longest title of a button, in characters. */
  buttonTitle: number;
  /** The longest title of a list's row. */
  rowTitle: number;
  /** The longest description under a list's row; 0 where rows have none. */
  description: number;
  /** The longest label of the button that opens a list. */
  button: number;
  /** The longest text that goes with choices. */
  body: number;
};

/** From the providers' documentation: WhatsApp up to 3 reply buttons or a list of 10 rows;
 *  Messenger and Instagram up to 13 quick replies and no list; the widget and in-app chat up
 *  to 10 buttons (a list is shown as buttons there). SMS and email carry none. */
const LIMITS: Record<ChannelKind, ChoiceLimits | null> = {
  whatsapp: { buttons: 3, rows: 10, buttonTitle: 20, rowTitle: 24, description: 72, button: 20, body: 1024 },
  messenger: { buttons: 13, rows: 0, buttonTitle: 20, rowTitle: 20, description: 0, button: 20, body: 2000 },
  instagram: { buttons: 13, rows: 0, buttonTitle: 20, rowTitle: 20, description: 0, button: 20, body: 2000 },
  webchat: { buttons: 10, rows: 10, buttonTitle: 40, rowTitle: 40, description: 72, button: 40, body: 65_536 },
  in_app: { buttons: 10, rows: 10, buttonTitle: 40, rowTitle: 40, description: 72, button: 40, body: 65_536 },
  sms: null,
  email: null,
};

/** The longest id of an option. */
const MAX_ID = 200;

/** What `channel` carries, or null when it carries no choices at all. */
export function choiceLimits(channel: ChannelKind): ChoiceLimits | null {
  return LIMITS[channel];
}

/** Why `channel` offers no choices at all (the composer's disabled control says it), else null. */
export function unavailable(channel: ChannelKind): string | null {
  return LIMITS[channel] ? null : t("choices.none", { name: CHANNEL_LABEL[channel] });
}

/** True where `channel` shows choices as a list. */
export function offersList(channel: ChannelKind): boolean {
  return (LIMITS[channel]?.rows ?? 0) > 0;
}

/** The most options `style` holds on `channel` (0 where it cannot carry them). */
export function mostOptions(channel: ChannelKind, style: ChoiceStyle): number {
  const l = LIMITS[channel];
  if (!l) return 0;
  return style === "list" ? l.rows : l.buttons;
}

/** The most options `channel` holds in any style: the composer adds none beyond it. */
export function mostAnyStyle(channel: ChannelKind): number {
  const l = LIMITS[channel];
  return l ? Math.max(l.buttons, l.rows) : 0;
}

/** What `style` carries on `channel`, in a sentence for the editor. */
export function describeLimits(channel: ChannelKind, style: ChoiceStyle): string {
  const l = LIMITS[channel];
  const name = CHANNEL_LABEL[channel];
  if (!l) return t("choices.none", { name });
  if (style === "list" && l.rows > 0) {
    return l.description > 0
      ? t("choices.limits.listDescribed", { name, rows: l.rows, title: l.rowTitle, description: l.description })
      : t("choices.limits.list", { name, rows: l.rows, title: l.rowTitle });
  }
  return t("choices.limits.buttons", { name, buttons: l.buttons, title: l.buttonTitle });
}

/** Characters as the core counts them (Unicode scalar values, not UTF-16 units). */
const chars = (s: string) => [...s].length;

/**
 * Why `choices` with the text `body` cannot go on `channel`, in the core's words, else null.
 * Checked in the core's order: the channel, the text, how many options, each option's id,
 * title and description, then a list's button.
 */
export function refusal(channel: ChannelKind, body: string, choices: Choices): string | null {
  const name = CHANNEL_LABEL[channel];
  const l = LIMITS[channel];
  if (!l) return t("choices.none", { name });
  if (!body.trim()) return t("choices.needBody");
  if (chars(body) > l.body) return t("choices.bodyTooLong", { name, most: l.body });
  if (choices.style === "list" && l.rows === 0) return t("choices.noLists", { name });
  const most = choices.style === "list" ? l.rows : l.buttons;
  if (choices.options.length === 0 || choices.options.length > most) return t("choices.howMany", { name, most });
  const titleMax = choices.style === "list" ? l.rowTitle : l.buttonTitle;
  for (const [i, o] of choices.options.entries()) {
    if (!o.id.trim() || chars(o.id) > MAX_ID || /\p{Cc}/u.test(o.id)) {
      return t("choices.badId", { n: i + 1, most: MAX_ID });
    }
    if (choices.options.slice(0, i).some((p) => p.id === o.id)) return t("choices.sameId", { id: o.id });
    if (!o.title.trim()) return t("choices.needTitle", { n: i + 1 });
    if (chars(o.title) > titleMax) return t("choices.titleTooLong", { title: o.title, most: titleMax, name });
    const d = o.description?.trim();
    if (d) {
      if (l.description === 0 || choices.style !== "list") return t("choices.noDescription", { title: o.title, name });
      if (chars(d) > l.description) return t("choices.descriptionTooLong", { title: o.title, most: l.description });
    }
  }
  if (choices.style === "list") {
    const b = choices.button?.trim() ?? "";
    if (!b || chars(b) > l.button) return t("choices.needButton", { most: l.button });
  }
  return null;
}

/**
 * The id an option titled `title` is sent with, unlike those `taken` by the options before
 * it: the title in lower case, its letters without accents, spaces as `-`, nothing but
 * a–z, 0–9 and `-` (`"Tue 10:00"` → `"tue-1000"`); `option-N` (N its place) when nothing
 * is left; `-2`, `-3`… after an id already taken.
 */
export function optionId(title: string, taken: readonly string[]): string {
  const base =
    title
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .replace(/\s+/g, "-")
      .replace(/[^a-z0-9-]/g, "")
      .replace(/-+/g, "-")
      .replace(/^-|-$/g, "")
      .slice(0, 64)
      .replace(/-$/, "") || `option-${taken.length + 1}`;
  let id = base;
  for (let n = 2; taken.includes(id); n++) id = `${base}-${n}`;
  return id;
}

/** Choices as the agent edits them: the options' titles and descriptions as typed, and the
 *  list's button. */
export type ChoicesDraft = {
  style: ChoiceStyle;
  button: string;
  options: ReadonlyArray<{ title: string; description: string }>;
};

/**
 * The choices a draft sends: titles, descriptions and the button trimmed, each option's id
 * made from its title, descriptions and the button only with a list (what the agent typed
 * for a list is kept in the draft while it shows buttons, but not sent).
 */
export function fromDraft(draft: ChoicesDraft): Choices {
  const ids: string[] = [];
  const options = draft.options.map((o) => {
    const title = o.title.trim();
    const id = optionId(title, ids);
    ids.push(id);
    const description = o.description.trim();
    return draft.style === "list" && description ? { id, title, description } : { id, title };
  });
  return draft.style === "list" ? { style: "list", button: draft.button.trim(), options } : { style: "buttons", options };
}
