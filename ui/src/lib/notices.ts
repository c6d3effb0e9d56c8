// Notifications shown in the app when the system cannot show them: the trouble in plain
// words (told once), each notification as a title and a line, and the customer's words
// isolated so a name written right to left (or holding a direction override) never turns
// the app's own words around it, in the language in force. Pure: unit tested.
import { CHANNEL_LABEL } from "./format";
import { t, type MessageKey } from "./i18n.svelte";
import type { Notification } from "./protocol";

/** First strong isolate … pop directional isolate: text in its own direction, sealed. */
const FSI = "\u2068";
const PDI = "\u2069";

/** Directional formatting characters a customer may send (embeddings, overrides, isolates). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** `text` isolated from what surrounds it: its own direction characters removed (an
 *  override left open would reach past the isolate in some renderers), then wrapped in
 *  FSI … PDI. For strings (attributes, placeholders) where `<bdi>` cannot be used. */
export function isolate(text: string): string {
  return `${FSI}${text.replace(BIDI_CONTROLS, "")}${PDI}`;
}

/** Why the desktop shows no notifications, in plain words, from the error the system gave. */
export function notificationTrouble(reason: string): string {
  if (/ServiceUnknown|org\.freedesktop\.Notifications was not provided|not provided by any \.service/i.test(reason)) {
    return t("trouble.noService");
  }
  if (/NoReply|timed? ?out/i.test(reason)) return t("trouble.noAnswer");
  if (/denied|not allowed|authori[sz]/i.test(reason)) return t("trouble.turnedOff");
  const flat = reason.replace(/\s+/g, " ").trim();
  return flat.length > 160 ? `${flat.slice(0, 159)}…` : flat || t("trouble.noReason");
}

/** What an in-app notification says: a title naming the customer and channel, and a line. */
export type NoticeText = { title: string; customer: string | null; channel: string | null; text: string };

export function noticeText(n: Notification): NoticeText {
  switch (n.kind) {
    case "summary":
      return { title: t("notice.summary"), customer: null, channel: null, text: summaryLines(n) };
    case "sla":
      return {
        title: n.breached ? t("notice.slaMissed") : t("notice.slaSoon"),
        customer: n.contact_name,
        channel: CHANNEL_LABEL[n.channel],
        text: "",
      };
    case "assigned":
      return {
        title: n.by ? t("notice.assignedBy", { name: n.by }) : t("notice.assigned"),
        customer: n.contact_name,
        channel: CHANNEL_LABEL[n.channel],
        text: n.text,
      };
    case "woke":
      return { title: t("notice.woke"), customer: n.contact_name, channel: CHANNEL_LABEL[n.channel], text: n.text };
    case "reply":
      return { title: t("notice.reply"), customer: n.contact_name, channel: CHANNEL_LABEL[n.channel], text: n.text };
  }
}

/** A summary's line: each count that is not zero, named (the desktop's notification says
 *  the same, `summary_lines` in the shell's `words.rs`). */
function summaryLines(n: Extract<Notification, { kind: "summary" }>): string {
  const parts: Array<[MessageKey, number]> = [
    ["notice.countReplied", n.customers],
    ["notice.countAssigned", n.assigned],
    ["notice.countMissed", n.missed],
  ];
  return parts
    .filter(([, count]) => count > 0)
    .map(([key, count]) => t(key, { count }))
    .join(" · ");
}

/** The most in-app notifications shown at once; older ones give way. */
export const MAX_IN_APP = 3;

/** The desktop the console runs on, as far as notifications go. */
export type Platform = "linux" | "windows" | "macos";

export function platformOf(userAgent: string): Platform {
  if (/Windows/i.test(userAgent)) return "windows";
  if (/Macintosh|Mac OS X/i.test(userAgent)) return "macos";
  return "linux";
}

/** What the agent can do to get desktop notifications back, on their platform. */
export function troubleHelp(platform: Platform): string {
  switch (platform) {
    case "windows":
      return t("trouble.help.windows");
    case "macos":
      return t("trouble.help.macos");
    case "linux":
      return t("trouble.help.linux");
  }
}
