// The notification preferences form's arithmetic: quiet hours' minutes after midnight as
// "HH:MM" and back, do-not-disturb's choices from now, and what a setting of it says.
// Pure: unit tested.
import { fullTime, weekdayNames } from "./format";
import { t } from "./i18n.svelte";
import type { NotificationPreferences } from "./protocol";

const HOUR = 3_600_000;

/** The weekdays' short names, Monday first, in the language in force. */
export function dayLabels(): string[] {
  return weekdayNames();
}

/** Minutes after midnight as an `<input type="time">` value ("07:30"). */
export function minutesToTime(minutes: number): string {
  const m = Math.max(0, Math.min(1439, Math.floor(minutes)));
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

/** An `<input type="time">` value as minutes after midnight; null when it is not a time. */
export function timeToMinutes(value: string): number | null {
  const m = /^(\d{2}):(\d{2})/.exec(value);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : null;
}

/** Do not disturb for: an hour, two, until tomorrow 9:00 local. */
export function doNotDisturbChoices(now: number): Array<{ label: string; until: number }> {
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  return [
    { label: t("dnd.choice.hour"), until: now + HOUR },
    { label: t("dnd.choice.twoHours"), until: now + 2 * HOUR },
    { label: t("dnd.choice.tomorrow"), until: tomorrow.getTime() },
  ];
}

/** Whether do not disturb holds at `now`, and until when, in words. */
export function doNotDisturbState(p: NotificationPreferences, now: number): string | null {
  const until = p.do_not_disturb_until;
  return until != null && until > now ? t("dnd.until", { time: fullTime(until) }) : null;
}
