import { describe, expect, test } from "vitest";
import { doNotDisturbChoices, doNotDisturbState, minutesToTime, timeToMinutes } from "./preferences";
import type { NotificationPreferences } from "./protocol";

const DEFAULTS: NotificationPreferences = {
  customer_replied: true,
  assigned: true,
  sla: true,
  snooze_woke: true,
  muted_inboxes: [],
  do_not_disturb_until: null,
  quiet_hours: null,
  sound: true,
  show_text: true,
};

describe("preferences", () => {
  test("quiet hours' minutes and times", () => {
    for (const [minutes, time] of [
      [0, "00:00"],
      [7 * 60 + 30, "07:30"],
      [1439, "23:59"],
    ] as const) {
      expect(minutesToTime(minutes)).toBe(time);
      expect(timeToMinutes(time)).toBe(minutes);
    }
    expect(minutesToTime(5000)).toBe("23:59");
    expect(timeToMinutes("24:00")).toBeNull();
    expect(timeToMinutes("")).toBeNull();
  });

  test("do not disturb's choices and state", () => {
    const now = new Date(2026, 11, 7, 16, 20).getTime();
    const [hour, two, tomorrow] = doNotDisturbChoices(now);
    expect(hour!.until - now).toBe(3_600_000);
    expect(two!.until - now).toBe(7_200_000);
    expect(new Date(tomorrow!.until)).toEqual(new Date(2026, 11, 8, 9, 0));
    expect(doNotDisturbState(DEFAULTS, now)).toBeNull();
    expect(doNotDisturbState({ ...DEFAULTS, do_not_disturb_until: now - 1 }, now)).toBeNull();
    expect(doNotDisturbState({ ...DEFAULTS, do_not_disturb_until: hour!.until }, now)).toMatch(/^Do not disturb until /);
  });
});
